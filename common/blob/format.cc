// The blob store's on-disk format: fan-out directories, block checksums, and
// the system calls beneath them.

#include "common/blob/local.h"

namespace arca::blob {

absl::Status Errno(absl::string_view what, const std::string& path) {
  const std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(errno));
  if (errno == ENOSPC || errno == EDQUOT) return absl::ResourceExhaustedError(message);
  return absl::InternalError(message);
}

absl::Status Fsync(const std::string& path, int flags) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | flags);
  if (fd < 0) return Errno("open", path);
  int rc = fsync(fd);
  close(fd);
  if (rc != 0) return Errno("fsync", path);
  return absl::OkStatus();
}

absl::Status CheckDigest(absl::string_view sha256) {
  if (!IsSha256Hex(sha256)) {
    return absl::InvalidArgumentError("sha256 must be 64 lowercase hex digits");
  }
  return absl::OkStatus();
}

absl::Time ModifiedOf(const struct stat& st) {
  return absl::FromUnixSeconds(st.st_mtim.tv_sec) + absl::Nanoseconds(st.st_mtim.tv_nsec);
}

std::string HexPrefix(int i) {
  return absl::BytesToHexString(std::string(1, static_cast<char>(i)));
}

bool MarkWritten(const std::string& path) {
  return utimensat(AT_FDCWD, path.c_str(), nullptr, 0) == 0;
}

void PutFixed(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

uint64_t GetFixed(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return v;
}

size_t BlockSumsBytes(int64_t size) {
  const auto blocks = static_cast<size_t>((size + kBlockBytes - 1) / kBlockBytes);
  return kBlocksMagic.size() + 8 + 4 * blocks + 4;
}

std::string EncodeBlockSums(int64_t size, const std::vector<uint32_t>& sums) {
  std::string out(kBlocksMagic);
  PutFixed(&out, static_cast<uint64_t>(size), 8);
  for (uint32_t sum : sums) PutFixed(&out, sum, 4);
  PutFixed(&out, hash::Crc32c(out), 4);
  return out;
}

std::vector<uint32_t> DecodeBlockSums(absl::string_view bytes, int64_t size) {
  const size_t head = kBlocksMagic.size() + 8;
  if (bytes.size() != BlockSumsBytes(size) || !absl::StartsWith(bytes, kBlocksMagic) ||
      GetFixed(bytes.data() + kBlocksMagic.size(), 8) != static_cast<uint64_t>(size) ||
      GetFixed(bytes.data() + bytes.size() - 4, 4) != hash::Crc32c(bytes.substr(0, bytes.size() - 4))) {
    return {};
  }
  std::vector<uint32_t> sums((bytes.size() - head - 4) / 4);
  for (size_t i = 0; i < sums.size(); ++i) {
    sums[i] = static_cast<uint32_t>(GetFixed(bytes.data() + head + 4 * i, 4));
  }
  return sums;
}

absl::Status ReadAt(int fd, char* out, size_t n, int64_t offset, size_t* got) {
  *got = 0;
  while (*got < n) {
    ssize_t r = pread(fd, out + *got, n - *got, static_cast<off_t>(offset + *got));
    if (r == 0) break;
    if (r < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("read: ", std::strerror(errno)));
    }
    *got += static_cast<size_t>(r);
  }
  return absl::OkStatus();
}

Buffer NewBuffer() {
  void* p = mmap(nullptr, kBufferBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return Buffer(p == MAP_FAILED ? nullptr : static_cast<char*>(p));
}

absl::Status WriteAt(int fd, const char* p, size_t n, int64_t offset, const std::string& path) {
  while (n > 0) {
    ssize_t w = pwrite(fd, p, n, static_cast<off_t>(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EINVAL) {
        const int flags = fcntl(fd, F_GETFL);
        if (flags >= 0 && (flags & O_DIRECT) != 0 && fcntl(fd, F_SETFL, flags & ~O_DIRECT) == 0) {
          continue;
        }
        errno = EINVAL;
      }
      return Errno("write", path);
    }
    p += w;
    n -= w;
    offset += w;
  }
  return absl::OkStatus();
}

absl::Status WriteFile(const std::string& path, absl::string_view bytes) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create", path);
  absl::Status written = WriteAt(fd, bytes.data(), bytes.size(), 0, path);
  if (close(fd) != 0 && written.ok()) written = Errno("close", path);
  return written;
}

}  // namespace arca::blob
