#include "common/fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace arca {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) close(fd_);
}

namespace {

absl::Status OpenError(absl::string_view relative, absl::string_view component, int error) {
  const std::string message = absl::StrCat("cannot open ", relative, " (at \"", component,
                                           "\"): ", std::strerror(error));
  switch (error) {
    case ENOENT:
      return absl::NotFoundError(message);
    case ELOOP:
    case ENOTDIR:
    case EXDEV:
      return absl::FailedPreconditionError(message);
    default:
      return absl::InternalError(message);
  }
}

}  // namespace

absl::StatusOr<UniqueFd> OpenBeneath(int dir_fd, absl::string_view relative, int flags) {
  std::vector<absl::string_view> parts = absl::StrSplit(relative, '/');
  for (absl::string_view part : parts) {
    if (part.empty() || part == "." || part == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", relative, "\" is not a normalized relative path"));
    }
  }
  UniqueFd dir;  // invalid while at dir_fd itself
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string name(parts[i]);
    const bool last = i + 1 == parts.size();
    const int f = last ? (flags | O_NOFOLLOW | O_CLOEXEC)
                       : (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int fd;
    do {
      fd = openat(dir.valid() ? dir.get() : dir_fd, name.c_str(), f);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return OpenError(relative, name, errno);
    if (last) return UniqueFd(fd);
    dir = UniqueFd(fd);
  }
  return absl::InvalidArgumentError("empty path");  // StrSplit gives at least one part
}

absl::StatusOr<std::string> PathOfFd(int fd) {
  char buf[PATH_MAX];
  const std::string link = absl::StrCat("/proc/self/fd/", fd);
  const ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
  if (n < 0) return absl::InternalError(absl::StrCat("readlink ", link, ": ", std::strerror(errno)));
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace arca
