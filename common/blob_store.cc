#include "common/blob_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <future>
#include <set>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/ids.h"
#include "common/paths.h"
#include "common/sha256.h"
#include "common/status_macros.h"

namespace arca {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

absl::Status FsyncDir(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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

// The two hex digits of byte `i` (its low eight bits): a prefix directory.
std::string HexPrefix(int i) {
  return absl::BytesToHexString(std::string(1, static_cast<char>(i)));
}

// Marks the file as just written; false if it is absent.
bool MarkWritten(const std::string& path) {
  return utimensat(AT_FDCWD, path.c_str(), nullptr, 0) == 0;
}

// Removes the files in `dir` last changed over a day ago.
void RemoveStale(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  const absl::Time stale = absl::Now() - absl::Hours(24);
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const std::string path = absl::StrCat(dir, "/", e->d_name);
    struct stat st;
    if (lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ModifiedOf(st) < stale) {
      unlink(path.c_str());
    }
  }
  closedir(d);
}

class LocalBlobStore;

// Bytes are gathered in block-aligned buffers and written in large pieces.
// A blob larger than one buffer is written with O_DIRECT where the file
// system allows it, straight from the buffer to the disk instead of through
// the page cache (Publish syncs it anyway), and each full buffer is written
// on another thread while the next one fills. Smaller blobs, and each blob's
// unaligned tail, go through the page cache, so a batch of small files costs
// one sync, not one write-through each.
constexpr size_t kBufferBytes = 4 << 20;
constexpr size_t kDirectAlign = 4096;

struct FreeDeleter {
  void operator()(char* p) const { free(p); }
};
using Buffer = std::unique_ptr<char, FreeDeleter>;

// Writes [p, p + n) at `offset`; a file system that refuses a direct write
// gets it through the page cache.
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

// The temporary file is made only once there are bytes to write: when the
// first buffer fills, or at Seal for a blob smaller than one buffer, which
// is then not written at all if the store already holds the same bytes.
class LocalWriter : public BlobWriter {
 public:
  explicit LocalWriter(LocalBlobStore* store) : store_(store) {}
  ~LocalWriter() override;

  absl::Status Append(absl::string_view data) override;
  int64_t size() const override { return size_; }
  absl::StatusOr<BlobInfo> Seal(absl::string_view expected_sha256) override;
  absl::StatusOr<BlobInfo> Commit(absl::string_view expected_sha256) override;

  bool sealed() const { return sealed_; }
  bool published() const { return published_; }
  // Sealed without a file of its own: the store already held these bytes.
  bool stored_before() const { return sealed_ && !created_; }
  // Seal looked whether the store held these bytes (and it did not).
  bool looked_for_stored() const { return looked_for_stored_; }
  const std::string& tmp_path() const { return tmp_path_; }
  BlobInfo& info() { return info_; }
  void set_published() { published_ = true; }

 private:
  // Makes the temporary file, beside others of `sha256`'s prefix if known.
  absl::Status Create(absl::string_view sha256 = "");
  // Waits for the buffer being written in the background, if any.
  absl::Status FinishWriting() {
    if (!writing_.valid()) return absl::OkStatus();
    absl::Status s = writing_.get();
    spare_ = std::move(in_flight_);
    return s;
  }
  bool Direct() const {
    const int flags = fcntl(fd_, F_GETFL);
    return flags >= 0 && (flags & O_DIRECT) != 0;
  }
  absl::Status WriteRest();
  void ReturnBuffers();

  LocalBlobStore* store_;
  std::string tmp_path_;
  int fd_ = -1;
  bool created_ = false;  // tmp_path_ exists
  Buffer buffer_;         // being filled; from the store on the first Append
  size_t filled_ = 0;     // bytes in buffer_
  Buffer in_flight_;      // being written by writing_
  Buffer spare_;          // written, ready to fill again
  bool direct_ = false;   // fd_ writes around the page cache
  std::future<absl::Status> writing_;
  int64_t written_ = 0;  // bytes handed to writes so far
  Sha256 hash_;
  int64_t size_ = 0;
  BlobInfo info_;
  bool looked_for_stored_ = false;
  bool ended_ = false;   // Seal was called
  bool sealed_ = false;  // and succeeded
  bool published_ = false;
};

class LocalReader : public BlobReader {
 public:
  explicit LocalReader(int fd) : fd_(fd) {}
  ~LocalReader() override { close(fd_); }
  absl::StatusOr<size_t> Read(char* buffer, size_t max) override {
    for (;;) {
      ssize_t n = read(fd_, buffer, max);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return absl::InternalError(absl::StrCat("read: ", std::strerror(errno)));
    }
  }

 private:
  int fd_;
};

class LocalBlobStore : public BlobStore {
 public:
  explicit LocalBlobStore(std::string dir)
      : blobs_(absl::StrCat(dir, "/blobs")), tmp_(absl::StrCat(dir, "/tmp")) {}

  absl::StatusOr<Space> FreeSpace() override {
    struct statvfs fs;
    if (statvfs(blobs_.c_str(), &fs) != 0) return Errno("statvfs", blobs_);
    Space space;
    space.free_bytes = static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize);
    space.capacity_bytes = static_cast<int64_t>(fs.f_blocks) * static_cast<int64_t>(fs.f_frsize);
    return space;
  }

  absl::Status Init() {
    for (const std::string& d : {blobs_.substr(0, blobs_.rfind('/')), blobs_, tmp_}) {
      if (mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) return Errno("mkdir", d);
    }
    // The 256 prefix directories, once, so publishing a blob is one rename,
    // and as many for temporary files: ext4 allocates a new file's inode
    // near its directory's, and many files made in one directory queue up
    // on that directory and its inode group.
    for (int i = 0; i < 256; ++i) {
      for (const std::string& parent : {blobs_, tmp_}) {
        const std::string d = absl::StrCat(parent, "/", HexPrefix(i));
        if (mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) return Errno("mkdir", d);
      }
    }
    RETURN_IF_ERROR(FsyncDir(blobs_));
    // Temporary files of writers that died long ago.
    RemoveStale(tmp_);
    for (int i = 0; i < 256; ++i) RemoveStale(absl::StrCat(tmp_, "/", HexPrefix(i)));
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<BlobWriter>> NewWriter() override {
    return std::unique_ptr<BlobWriter>(new LocalWriter(this));
  }

  // A name for a new temporary file, beside others of the same digest
  // prefix (or any, when the digest is not known yet).
  std::string TmpPath(absl::string_view sha256) const {
    const std::string token = RandomToken(20);
    const std::string prefix = sha256.empty()
                                   ? HexPrefix(static_cast<int>(std::hash<std::string>()(token)))
                                   : std::string(sha256.substr(0, 2));
    return absl::StrCat(tmp_, "/", prefix, "/", token);
  }

  // Marks the blob as just written; false if it is absent.
  bool Touch(absl::string_view sha256) { return MarkWritten(PathOf(sha256)); }

  // Writers' buffers are reused: memory already touched is cheaper to fill
  // than fresh pages.
  Buffer TakeBuffer() {
    {
      absl::MutexLock lock(&buffers_mu_);
      if (!buffers_.empty()) {
        Buffer b = std::move(buffers_.back());
        buffers_.pop_back();
        return b;
      }
    }
    return Buffer(static_cast<char*>(aligned_alloc(kDirectAlign, kBufferBytes)));
  }
  void ReturnBuffer(Buffer b) {
    absl::MutexLock lock(&buffers_mu_);
    if (buffers_.size() < kMaxIdleBuffers) buffers_.push_back(std::move(b));
  }

  absl::Status Publish(const std::vector<BlobWriter*>& sealed) override {
    std::vector<LocalWriter*> writers;
    for (BlobWriter* w : sealed) {
      auto* lw = static_cast<LocalWriter*>(w);
      if (!lw->sealed()) return absl::FailedPreconditionError("publish of an unsealed blob");
      if (!lw->published()) writers.push_back(lw);
    }
    if (writers.empty()) return absl::OkStatus();
    // Data first: one syncfs for a batch, fsync for a few.
    const bool batch = writers.size() > kSyncfsThreshold;
    if (batch) {
      RETURN_IF_ERROR(SyncFs());
    } else {
      for (LocalWriter* w : writers) {
        if (w->stored_before()) continue;
        int fd = open(w->tmp_path().c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return Errno("open", w->tmp_path());
        int rc = fsync(fd);
        close(fd);
        if (rc != 0) return Errno("fsync", w->tmp_path());
      }
    }
    // Then names: rename into place, then make each touched directory
    // durable once.
    std::set<std::string> dirs;
    bool new_prefix = false;
    for (LocalWriter* w : writers) {
      const std::string& sha = w->info().sha256;
      const std::string final_path = PathOf(sha);
      const std::string dir = final_path.substr(0, final_path.rfind('/'));
      if (w->stored_before()) {
        // Touched at Seal; removed since only if the upload outlasted the
        // orphan sweep's grace period.
        if (!MarkWritten(final_path)) {
          return absl::AbortedError(absl::StrCat(
              "blob ", sha, " was removed while the upload ran; retry it"));
        }
      } else if (!w->looked_for_stored() && MarkWritten(final_path)) {
        // Same bytes already stored: keep them, marked as just written (a
        // concurrent DeleteIfIdle then spares them).
        unlink(w->tmp_path().c_str());
      } else {
        // A copy of the same bytes stored since Seal looked is replaced by
        // these: the name holds them either way, just written.
        int rc = rename(w->tmp_path().c_str(), final_path.c_str());
        if (rc != 0 && errno == ENOENT) {  // its prefix directory was removed
          if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Errno("mkdir", dir);
          new_prefix = true;
          rc = rename(w->tmp_path().c_str(), final_path.c_str());
        }
        if (rc != 0) return Errno("rename", final_path);
        dirs.insert(dir);
      }
      w->set_published();
      w->info().modified = absl::Now();
    }
    // The new names are durable once their directories are: one syncfs for
    // a batch (it commits the journal once), one fsync per directory else.
    if (batch) return SyncFs();
    if (new_prefix) RETURN_IF_ERROR(FsyncDir(blobs_));
    for (const std::string& dir : dirs) RETURN_IF_ERROR(FsyncDir(dir));
    return absl::OkStatus();
  }

  absl::Status SyncFs() {
    int fd = open(tmp_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Errno("open", tmp_);
    int rc = syncfs(fd);
    close(fd);
    if (rc != 0) return Errno("syncfs", tmp_);
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<BlobReader>> Open(absl::string_view sha256,
                                                   int64_t offset) override {
    if (absl::Status s = CheckDigest(sha256); !s.ok()) return s;
    const std::string path = PathOf(sha256);
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("no blob ", sha256));
      return Errno("open", path);
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || offset < 0 || offset > st.st_size) {
      close(fd);
      return absl::InvalidArgumentError(absl::StrCat("offset ", offset, " is outside blob ",
                                                     sha256, " of ", st.st_size, " bytes"));
    }
    if (offset > 0 && lseek(fd, offset, SEEK_SET) != offset) {
      close(fd);
      return Errno("seek", path);
    }
    posix_fadvise(fd, offset, 0, POSIX_FADV_SEQUENTIAL);
    return std::unique_ptr<BlobReader>(new LocalReader(fd));
  }

  absl::StatusOr<BlobInfo> Stat(absl::string_view sha256) override {
    if (absl::Status s = CheckDigest(sha256); !s.ok()) return s;
    struct stat st;
    const std::string path = PathOf(sha256);
    if (stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("no blob ", sha256));
      return Errno("stat", path);
    }
    return BlobInfo{std::string(sha256), st.st_size, ModifiedOf(st)};
  }

  absl::Status Delete(absl::string_view sha256) override {
    if (absl::Status s = CheckDigest(sha256); !s.ok()) return s;
    const std::string path = PathOf(sha256);
    if (unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("unlink", path);
    return absl::OkStatus();
  }

  absl::StatusOr<bool> DeleteIfIdle(absl::string_view sha256, absl::Time written_before) override {
    if (absl::Status s = CheckDigest(sha256); !s.ok()) return s;
    const std::string path = PathOf(sha256);
    // Move it aside first: a Publish that comes after this finds nothing and
    // stores its own copy; one that came before has touched the time checked
    // below.
    const std::string aside = absl::StrCat(tmp_, "/deleting-", sha256, "-", RandomToken(8));
    if (rename(path.c_str(), aside.c_str()) != 0) {
      if (errno == ENOENT) return true;
      return Errno("rename", path);
    }
    struct stat st;
    if (stat(aside.c_str(), &st) != 0) return Errno("stat", aside);
    if (ModifiedOf(st) >= written_before) {
      // Written recently: put it back (if a new copy arrived meanwhile, it
      // holds the same bytes, and this one can go).
      if (link(aside.c_str(), path.c_str()) != 0 && errno != EEXIST) return Errno("link", path);
      unlink(aside.c_str());
      return false;
    }
    if (unlink(aside.c_str()) != 0) return Errno("unlink", aside);
    return true;
  }

  absl::Status List(const std::function<void(const BlobInfo&)>& fn) override {
    DIR* top = opendir(blobs_.c_str());
    if (top == nullptr) return Errno("opendir", blobs_);
    while (dirent* p = readdir(top)) {
      if (strlen(p->d_name) != 2) continue;
      const std::string sub = absl::StrCat(blobs_, "/", p->d_name);
      DIR* dir = opendir(sub.c_str());
      if (dir == nullptr) continue;
      while (dirent* e = readdir(dir)) {
        std::string sha = absl::StrCat(p->d_name, e->d_name);
        if (!IsSha256Hex(sha)) continue;
        struct stat st;
        if (stat(absl::StrCat(sub, "/", e->d_name).c_str(), &st) != 0) continue;
        fn(BlobInfo{sha, st.st_size, ModifiedOf(st)});
      }
      closedir(dir);
    }
    closedir(top);
    return absl::OkStatus();
  }

 private:
  std::string PathOf(absl::string_view sha256) const {
    return absl::StrCat(blobs_, "/", sha256.substr(0, 2), "/", sha256.substr(2));
  }

  static constexpr size_t kSyncfsThreshold = 8;
  static constexpr size_t kMaxIdleBuffers = 8;
  std::string blobs_, tmp_;
  absl::Mutex buffers_mu_;
  std::vector<Buffer> buffers_ ABSL_GUARDED_BY(buffers_mu_);
};

LocalWriter::~LocalWriter() {
  FinishWriting().IgnoreError();
  if (fd_ >= 0) close(fd_);
  if (created_ && !published_) unlink(tmp_path_.c_str());
  ReturnBuffers();
}

absl::Status LocalWriter::Create(absl::string_view sha256) {
  tmp_path_ = store_->TmpPath(sha256);
  fd_ = open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) return Errno("create", tmp_path_);
  created_ = true;
  return absl::OkStatus();
}

void LocalWriter::ReturnBuffers() {
  for (Buffer* b : {&buffer_, &spare_}) {
    if (*b != nullptr) store_->ReturnBuffer(std::move(*b));
  }
  filled_ = 0;
}

absl::Status LocalWriter::Append(absl::string_view data) {
  if (ended_) return absl::FailedPreconditionError("blob already sealed");
  hash_.Update(data);
  size_ += data.size();
  while (!data.empty()) {
    if (buffer_ == nullptr) {
      buffer_ = spare_ != nullptr ? std::move(spare_) : store_->TakeBuffer();
      if (buffer_ == nullptr) return absl::ResourceExhaustedError("no memory for a write buffer");
    }
    const size_t n = std::min(data.size(), kBufferBytes - filled_);
    memcpy(buffer_.get() + filled_, data.data(), n);
    filled_ += n;
    data.remove_prefix(n);
    if (filled_ < kBufferBytes) continue;
    RETURN_IF_ERROR(FinishWriting());
    if (fd_ < 0) {
      RETURN_IF_ERROR(Create());
      // Large enough to write around the page cache, where the file system can.
      const int flags = fcntl(fd_, F_GETFL);
      direct_ = flags >= 0 && fcntl(fd_, F_SETFL, flags | O_DIRECT) == 0;
    }
    in_flight_ = std::move(buffer_);
    writing_ = std::async(std::launch::async, WriteAt, fd_, in_flight_.get(), kBufferBytes,
                          written_, std::cref(tmp_path_));
    written_ += kBufferBytes;
    filled_ = 0;
  }
  return absl::OkStatus();
}

// Writes what is left in the buffer: its aligned part the way the rest
// went, the tail (and all of a blob smaller than one buffer) through the
// page cache.
absl::Status LocalWriter::WriteRest() {
  RETURN_IF_ERROR(FinishWriting());
  if (fd_ < 0) RETURN_IF_ERROR(Create(info_.sha256));
  // A direct write that the file system refused fell back to the page cache.
  if (direct_) direct_ = Direct();
  const size_t aligned = direct_ ? filled_ & ~(kDirectAlign - 1) : 0;
  if (aligned > 0) RETURN_IF_ERROR(WriteAt(fd_, buffer_.get(), aligned, written_, tmp_path_));
  if (filled_ > aligned) {
    if (direct_ && fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) & ~O_DIRECT) != 0) {
      return Errno("fcntl", tmp_path_);
    }
    RETURN_IF_ERROR(WriteAt(fd_, buffer_.get() + aligned, filled_ - aligned, written_ + aligned,
                            tmp_path_));
  }
  written_ += filled_;
  filled_ = 0;
  // A blob that went through the page cache starts its write-back now;
  // Publish waits for it. Small blobs wait for Publish's one sync instead of
  // each starting a write of its own.
  if (size_ >= static_cast<int64_t>(kBufferBytes) && !direct_) {
    sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WRITE);
  }
  if (close(fd_) != 0) {
    fd_ = -1;
    return Errno("close", tmp_path_);
  }
  fd_ = -1;
  return absl::OkStatus();
}

absl::StatusOr<BlobInfo> LocalWriter::Seal(absl::string_view expected_sha256) {
  if (ended_) return absl::FailedPreconditionError("blob already sealed");
  ended_ = true;  // no more bytes, whatever happens below
  info_.sha256 = hash_.HexDigest();
  info_.size = size_;
  if (!expected_sha256.empty() && expected_sha256 != info_.sha256) {
    ReturnBuffers();
    return absl::DataLossError(absl::StrCat("content has sha256 ", info_.sha256,
                                            ", not the declared ", expected_sha256));
  }
  // A small blob the store already holds is only marked as just written,
  // which keeps a concurrent DeleteIfIdle from taking it before Publish.
  looked_for_stored_ = fd_ < 0 && written_ == 0;
  if (looked_for_stored_ && store_->Touch(info_.sha256)) {
    ReturnBuffers();
    sealed_ = true;
    return info_;
  }
  absl::Status written = WriteRest();
  ReturnBuffers();
  RETURN_IF_ERROR(written);
  sealed_ = true;
  return info_;
}

absl::StatusOr<BlobInfo> LocalWriter::Commit(absl::string_view expected_sha256) {
  RETURN_IF_ERROR(Seal(expected_sha256).status());
  RETURN_IF_ERROR(store_->Publish({this}));
  return info_;
}

}  // namespace

absl::StatusOr<std::unique_ptr<BlobStore>> OpenLocalBlobStore(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("blob directory is empty");
  auto store = std::make_unique<LocalBlobStore>(dir);
  if (absl::Status s = store->Init(); !s.ok()) return s;
  return std::unique_ptr<BlobStore>(std::move(store));
}

}  // namespace arca
