#include "services/catalog/disk_room.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace arca::catalog {

DiskRoom::DiskRoom(std::string dir, int64_t min_free, int64_t reserve, FreeBytes free_bytes)
    : dir_(std::move(dir)), min_free_(min_free), reserve_(reserve), free_bytes_(std::move(free_bytes)) {
  if (!free_bytes_) {
    free_bytes_ = [this]() -> absl::StatusOr<int64_t> {
      struct statvfs fs;
      if (statvfs(dir_.c_str(), &fs) != 0) {
        return absl::InternalError(absl::StrCat("statvfs ", dir_, ": ", std::strerror(errno)));
      }
      return static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize);
    };
  }
  struct stat st;
  reserve_missing_ = reserve_ > 0 && !(stat(ReservePath().c_str(), &st) == 0 && st.st_size >= reserve_);
}

std::string DiskRoom::ReservePath() const { return absl::StrCat(dir_, "/ARCA-RESERVE"); }

absl::StatusOr<int64_t> DiskRoom::Free() {
  auto free = free_bytes_();
  if (free.ok()) last_free_ = *free;
  return free;
}

absl::StatusOr<int64_t> DiskRoom::PrepareToOpen() {
  auto free = Free();
  if (!free.ok()) return free.status();
  if (*free < min_free_ && !reserve_missing_) {
    if (unlink(ReservePath().c_str()) == 0) {
      reserve_missing_ = true;
      ARCA_LOG(WARNING) << "the catalog's disk has " << *free << " bytes free (less than "
                        << min_free_ << "): gave back the reserve of " << reserve_
                        << " bytes to open; writes wait for room";
      free = Free();
    }
  }
  return free;
}

absl::Status DiskRoom::CheckRoom() {
  auto free = Free();
  if (!free.ok()) return free.status();
  if (*free < min_free_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the catalog's disk is full (", *free, " bytes free, writes need ", min_free_,
        "); nothing was written. Reads go on; writes resume by themselves once space is freed"));
  }
  if (reserve_missing_ && *free >= min_free_ + reserve_ && reserve_missing_.exchange(false)) {
    // Made once, allocated (a sparse file would give nothing back).
    const std::string path = ReservePath();
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
      const bool made = posix_fallocate(fd, 0, reserve_) == 0 && fsync(fd) == 0;
      close(fd);
      if (!made) unlink(path.c_str());
      reserve_missing_ = !made;
    } else {
      reserve_missing_ = true;
    }
  }
  return absl::OkStatus();
}

}  // namespace arca::catalog
