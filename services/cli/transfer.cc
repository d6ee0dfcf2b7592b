#include "services/cli/transfer.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/paths.h"
#include "common/hash/crc32c.h"
#include "common/hash/sha256.h"
#include "common/status_macros.h"

namespace arca::cli {
namespace {

namespace cv1 = ::arca::collector::v1;

constexpr size_t kReadBytes = 1 << 20;
constexpr int64_t kSmallFileBytes = 64 << 10;

std::string RealPath(const std::string& path, int* error) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) == nullptr) {
    *error = errno;
    return "";
  }
  *error = 0;
  return buf;
}

// Lists a directory by descriptor: its names but "." and "..", sorted.
absl::StatusOr<std::vector<std::string>> ListDir(int dir_fd, const std::string& shown) {
  int fd = dup(dir_fd);
  DIR* d = fd < 0 ? nullptr : fdopendir(fd);
  if (d == nullptr) {
    if (fd >= 0) close(fd);
    return absl::PermissionDeniedError(absl::StrCat("cannot read ", shown, ": ", strerror(errno)));
  }
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) names.push_back(e->d_name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// Walks the tree beneath the folder's descriptor. A directory is opened
// relative to its parent without following a link; a symbolic link found
// in the tree is resolved by name only to decide whether it stays inside
// (the bytes are read later, opened beneath the folder, link-free).
class Walker {
 public:
  Walker(std::string root, bool include_hidden)
      : root_(std::move(root)), include_hidden_(include_hidden) {}

  absl::Status Walk(int dir_fd, const std::string& prefix) {
    ASSIGN_OR_RETURN(std::vector<std::string> names,
                     ListDir(dir_fd, prefix.empty() ? root_ : absl::StrCat(root_, "/", prefix)));
    for (const std::string& name : names) {
      const std::string rel = prefix.empty() ? name : absl::StrCat(prefix, "/", name);
      if (name[0] == '.' && !include_hidden_) {
        Skip(rel, "hidden", "");
        continue;
      }
      if (absl::Status valid = ValidateArtifactPath(rel); !valid.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "cannot collect \"", absl::CHexEscape(rel.substr(0, 200)), "\": ", valid.message()));
      }
      struct stat st;
      if (fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // vanished
      if (S_ISLNK(st.st_mode)) {
        Link(rel);
      } else if (S_ISDIR(st.st_mode)) {
        const int fd = openat(dir_fd, name.c_str(),
                              O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
          // Replaced since it was looked at: by a link, or by something else.
          Skip(rel, errno == ELOOP || errno == ENOTDIR ? "symlink_escape" : "not_regular",
               absl::StrCat("changed while the folder was read: ", strerror(errno)));
          continue;
        }
        UniqueFd sub(fd);
        RETURN_IF_ERROR(Walk(sub.get(), rel));
      } else if (S_ISREG(st.st_mode)) {
        scan_.files.push_back({rel, rel, st.st_size});
      } else {
        Skip(rel, "not_regular", "a FIFO, socket or device");
      }
    }
    return absl::OkStatus();
  }

  FolderScan& scan() { return scan_; }

 private:
  // A link is collected as the regular file it names if that lies inside
  // the folder.
  void Link(const std::string& rel) {
    int error = 0;
    const std::string target = RealPath(absl::StrCat(root_, "/", rel), &error);
    if (target.empty()) {
      Skip(rel, "symlink_escape", absl::StrCat("cannot resolve: ", strerror(error)));
      return;
    }
    if (!absl::StartsWith(target, root_ + "/")) {
      Skip(rel, "symlink_escape", absl::StrCat("points outside the folder, to ", target));
      return;
    }
    struct stat st;
    if (stat(target.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      Skip(rel, "not_regular",
           S_ISDIR(st.st_mode) ? "symlink to a directory in the folder; its files are "
                                 "collected where they are"
                               : "symlink to something that is not a regular file");
      return;
    }
    scan_.files.push_back({rel, target.substr(root_.size() + 1), st.st_size});
  }

  void Skip(const std::string& path, const char* reason, const std::string& detail) {
    cv1::SkippedFile s;
    s.set_path(IsValidUtf8(path) ? path : absl::CHexEscape(path));
    s.set_reason(reason);
    s.set_detail(detail);
    scan_.skipped.push_back(std::move(s));
  }

  std::string root_;
  bool include_hidden_;
  FolderScan scan_;
};

}  // namespace

absl::StatusOr<FolderScan> ScanFolder(const std::string& folder, bool include_hidden) {
  // The folder itself may be a link (PrimeHub); it is opened once, and its
  // descriptor is what the walk and the upload read beneath.
  const int fd = open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return FolderScan();
    if (errno == ENOTDIR) {
      return absl::InvalidArgumentError(absl::StrCat(folder, " is not a directory"));
    }
    return absl::PermissionDeniedError(absl::StrCat("cannot read ", folder, ": ", strerror(errno)));
  }
  auto root = std::make_shared<const UniqueFd>(fd);
  ASSIGN_OR_RETURN(const std::string root_path, PathOfFd(root->get()));
  Walker walker(root_path, include_hidden);
  RETURN_IF_ERROR(walker.Walk(root->get(), ""));
  FolderScan scan = std::move(walker.scan());
  scan.root = std::move(root);
  std::sort(scan.files.begin(), scan.files.end(),
            [](const FoundFile& a, const FoundFile& b) { return a.path < b.path; });
  return scan;
}

namespace {

// Opens what to send as `path`: a file of the scan beneath its folder, an
// extra by its own name; never through a link.
absl::StatusOr<UniqueFd> OpenToSend(const std::string& path, const UniqueFd* root,
                                    const std::string& source) {
  // O_NONBLOCK: a FIFO swapped in meanwhile is found by fstat, not waited on.
  if (root != nullptr) {
    auto fd = OpenBeneath(root->get(), source, O_RDONLY | O_NONBLOCK);
    if (fd.ok()) return fd;
    return absl::FailedPreconditionError(absl::StrCat(
        path, " changed while the folder was read (", fd.status().message(),
        "); nothing was committed, retry"));
  }
  const int fd = open(source.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return absl::FailedPreconditionError(absl::StrCat("cannot open ", source, ": ", strerror(errno)));
  }
  return UniqueFd(fd);
}

// Sends one file; returns the CRC-32C of what was read.
absl::StatusOr<uint32_t> SendFile(clients::UploadStream& writer,
                                     const std::string& path, const UniqueFd& file,
                                     Progress* progress) {
  const int fd = file.get();
  struct stat before;
  if (fstat(fd, &before) != 0 || !S_ISREG(before.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(path, " is no longer a regular file"));
  }
  // A small file travels whole in its header, whose message may wait in
  // gRPC's buffer and leave together with the next file's (the end marker
  // flushes it); a large file's header goes out with its first chunk.
  const bool small = before.st_size <= kSmallFileBytes;
  if (!small) posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  cv1::UploadRequest message;
  cv1::FileHeader* header = message.mutable_file();
  header->set_path(path);
  header->set_size(before.st_size);
  header->set_mtime_unix_nanos(int64_t{before.st_mtim.tv_sec} * 1000000000 +
                               before.st_mtim.tv_nsec);
  uint32_t crc32c = 0;
  int64_t sent = 0;
  // The next piece of the file, at most `limit` bytes, into *out.
  auto read_piece = [&](int64_t limit, std::string* out) {
    out->resize(std::min(limit, before.st_size - sent));
    ssize_t n;
    do {
      n = read(fd, out->data(), out->size());
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " shrank while it was read; nothing was committed, retry"));
    }
    out->resize(n);
    crc32c = hash::Crc32c(*out, crc32c);
    sent += n;
    if (progress != nullptr) progress->Add(n);
    return absl::OkStatus();
  };
  absl::Status status;
  if (small && before.st_size > 0) status = read_piece(kSmallFileBytes, header->mutable_content());
  if (status.ok() && !writer.Write(message, /*buffer=*/true)) {
    status = absl::UnavailableError("the collector closed the upload");
  }
  std::string* chunk = message.mutable_chunk();
  while (status.ok() && sent < before.st_size) {
    status = read_piece(kReadBytes, chunk);
    if (status.ok() && !writer.Write(message, /*buffer=*/small)) {
      status = absl::UnavailableError("the collector closed the upload");
    }
  }
  struct stat after;
  fstat(fd, &after);
  RETURN_IF_ERROR(status);
  if (after.st_size != before.st_size || after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
      after.st_mtim.tv_nsec != before.st_mtim.tv_nsec) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " changed while it was read; nothing was committed, retry"));
  }
  return crc32c;
}

}  // namespace

absl::StatusOr<cv1::UploadResponse> UploadFolder(clients::CollectorClient& collector,
                                                 const cv1::UploadManifest& manifest,
                                                 const FolderScan& scan,
                                                 const std::vector<ExtraFile>& extras,
                                                 absl::Duration timeout, Progress* progress) {
  clients::CallOptions call;
  call.timeout = timeout;
  auto writer = collector.Upload(call);
  absl::flat_hash_map<std::string, uint32_t> read_crc32c;
  auto abort = [&](absl::Status why) {
    writer->Cancel();
    writer->Finish().status().IgnoreError();
    return why;
  };
  cv1::UploadRequest message;
  *message.mutable_manifest() = manifest;
  bool open = writer->Write(message);
  for (const cv1::SkippedFile& s : scan.skipped) {
    if (!open) break;
    message.Clear();
    *message.mutable_skipped() = s;
    open = writer->Write(message);
  }
  // Extras by their own names, then the scan's files beneath its folder.
  struct Send {
    const std::string& path;
    const UniqueFd* root;
    const std::string& source;
  };
  std::vector<Send> all;
  for (const ExtraFile& f : extras) all.push_back({f.path, nullptr, f.real_path});
  for (const FoundFile& f : scan.files) all.push_back({f.path, scan.root.get(), f.source});
  for (const Send& f : all) {
    if (!open) break;
    auto file = OpenToSend(f.path, f.root, f.source);
    if (!file.ok()) return abort(file.status());
    auto crc32c = SendFile(*writer, f.path, *file, progress);
    if (progress != nullptr) progress->FileDone();
    if (absl::IsUnavailable(crc32c.status())) {
      open = false;
      break;
    }
    if (!crc32c.ok()) return abort(crc32c.status());
    read_crc32c[f.path] = *crc32c;
  }
  if (open) {
    message.Clear();
    message.mutable_end();
    writer->Write(message);
  }
  ASSIGN_OR_RETURN(cv1::UploadResponse response, writer->Finish());
  // What was stored is what was read. (A collector older than the
  // checksum in its answer is not checked.)
  for (const cv1::CollectedFile& f : response.files()) {
    auto it = read_crc32c.find(f.path());
    if (it != read_crc32c.end() && f.has_crc32c() && it->second != f.crc32c()) {
      return absl::DataLossError(absl::StrFormat(
          "%s was stored with CRC-32C %08x but the bytes read had %08x", f.path(), f.crc32c(),
          it->second));
    }
  }
  return response;
}

absl::Status DownloadFile(clients::CollectorClient& collector, const std::string& job_id,
                          const std::string& path, const std::string& out_path,
                          absl::Duration timeout, Progress* progress) {
  // A device or pipe (/dev/null, /dev/stdout, a FIFO) is written as it
  // is: no partial file beside it, no resume, never replaced.
  struct stat st;
  const bool direct = stat(out_path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
  const std::string part = direct ? out_path : out_path + ".part";
  int fd = open(part.c_str(), direct ? (O_WRONLY | O_CLOEXEC) : (O_RDWR | O_CREAT | O_CLOEXEC), 0644);
  if (fd < 0) {
    return absl::PermissionDeniedError(absl::StrCat("cannot write ", part, ": ", strerror(errno)));
  }
  // Hash what an earlier attempt left, then ask for the rest.
  hash::Sha256 hash;
  std::string buffer(kReadBytes, '\0');
  int64_t have = 0;
  for (ssize_t n; !direct && (n = read(fd, buffer.data(), buffer.size())) > 0;) {
    hash.Update(absl::string_view(buffer.data(), n));
    have += n;
  }
  if (progress != nullptr) progress->Add(have);
  clients::CallOptions call;
  call.timeout = timeout;
  cv1::DownloadRequest request;
  request.set_job_id(job_id);
  request.set_path(path);
  request.set_offset(have);
  auto reader = collector.Download(request, call);
  cv1::DownloadResponse message;
  std::string expected;
  while (reader->Read(&message)) {
    if (!message.sha256().empty()) expected = message.sha256();
    hash.Update(message.chunk());
    if (progress != nullptr) progress->Add(message.chunk().size());
    if (write(fd, message.chunk().data(), message.chunk().size()) !=
        static_cast<ssize_t>(message.chunk().size())) {
      close(fd);
      reader->Cancel();
      reader->Finish().IgnoreError();
      return absl::ResourceExhaustedError(absl::StrCat("cannot write ", part, ": ", strerror(errno)));
    }
  }
  absl::Status status = reader->Finish();
  if (absl::IsOutOfRange(status)) {
    // The partial file is longer than the file: it was not ours. Start over.
    close(fd);
    unlink(part.c_str());
    return DownloadFile(collector, job_id, path, out_path, timeout, progress);
  }
  if (direct) {
    close(fd);
    RETURN_IF_ERROR(status);
    const std::string got = hash.HexDigest();
    if (got != expected) {
      return absl::DataLossError(absl::StrCat("downloaded bytes have sha256 ", got, ", expected ",
                                              expected, "; do not trust what ", out_path, " got"));
    }
    return absl::OkStatus();
  }
  if (!status.ok()) {
    close(fd);
    if (absl::IsDataLoss(status) || absl::IsNotFound(status)) unlink(part.c_str());
    return status;
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    return absl::InternalError(absl::StrCat("cannot flush ", part, ": ", strerror(errno)));
  }
  const std::string got = hash.HexDigest();
  if (got != expected) {
    unlink(part.c_str());
    return absl::DataLossError(absl::StrCat("downloaded bytes have sha256 ", got,
                                            ", expected ", expected, "; removed ", part));
  }
  if (rename(part.c_str(), out_path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename to ", out_path, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

std::string HumanSize(int64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double size = static_cast<double>(bytes);
  int unit = -1;
  while (size >= 1024 && unit < 5) {
    size /= 1024;
    ++unit;
  }
  return absl::StrFormat("%.1f %s", size, kUnits[unit]);
}

Progress::Progress(std::ostream& out, bool enabled, const char* verb, int64_t total_bytes,
                   int total_files)
    : out_(out), enabled_(enabled), verb_(verb), total_bytes_(total_bytes), total_files_(total_files) {}

void Progress::Add(int64_t bytes) {
  bytes_ += bytes;
  Draw(false);
}

void Progress::FileDone() {
  ++files_;
  Draw(false);
}

void Progress::Done() {
  if (done_) return;
  done_ = true;
  Draw(true);
  if (enabled_) out_ << "\n" << std::flush;
}

void Progress::Draw(bool final) {
  if (!enabled_) return;
  const absl::Time now = absl::Now();
  if (!final && now - drawn_ < absl::Milliseconds(200)) return;
  drawn_ = now;
  const double seconds = std::max(absl::ToDoubleSeconds(now - start_), 1e-3);
  const double rate = bytes_ / seconds;
  std::string line = absl::StrCat("\r", verb_, " ", HumanSize(bytes_), " / ", HumanSize(total_bytes_));
  if (total_bytes_ > 0) absl::StrAppend(&line, absl::StrFormat(" (%d%%)", bytes_ * 100 / total_bytes_));
  absl::StrAppend(&line, "  ", files_, "/", total_files_, " files  ", HumanSize(static_cast<int64_t>(rate)), "/s");
  if (!final && rate > 0 && total_bytes_ > bytes_) {
    const int64_t left = static_cast<int64_t>((total_bytes_ - bytes_) / rate);
    absl::StrAppend(&line, absl::StrFormat("  ETA %d:%02d", left / 60, left % 60));
  } else if (final) {
    absl::StrAppend(&line, absl::StrFormat("  in %.1fs", seconds));
  }
  out_ << line << "\x1b[K" << std::flush;  // erase what a longer line left
}

}  // namespace arca::cli
