#include "common/blob/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
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
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "common/hash/crc32c.h"
#include "common/fd.h"
#include "common/ids.h"
#include "common/paths.h"
#include "common/hash/sha256.h"
#include "common/status_macros.h"

namespace arca::blob {
namespace {

// A failed system call as a status: RESOURCE_EXHAUSTED when the disk (or
// the quota) is full, INTERNAL otherwise. Names the file, for logs; what a
// client sees is worded by the service.
absl::Status Errno(absl::string_view what, const std::string& path) {
  const std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(errno));
  if (errno == ENOSPC || errno == EDQUOT) return absl::ResourceExhaustedError(message);
  return absl::InternalError(message);
}

// Flushes a file, or with O_DIRECTORY a directory, to disk.
absl::Status Fsync(const std::string& path, int flags = 0) {
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

// The two hex digits of byte `i` (its low eight bits): a prefix directory.
std::string HexPrefix(int i) {
  return absl::BytesToHexString(std::string(1, static_cast<char>(i)));
}

// Marks the file as just written; false if it is absent.
bool MarkWritten(const std::string& path) {
  return utimensat(AT_FDCWD, path.c_str(), nullptr, 0) == 0;
}

// Blobs of more than one block keep the CRC-32C of each block in a file
// beside them, <blob>.blocks: "arcablk1", the blob's size (8 bytes), one
// checksum per block (4 bytes each), then the checksum of all that;
// little-endian. Its content follows from the blob's bytes alone, so any
// two writers of one blob write the same file. A blob without one (a small
// blob, or one whose file was lost) is checked against its digest instead.
constexpr int64_t kBlockBytes = 1 << 20;
constexpr absl::string_view kBlocksMagic = "arcablk1";
constexpr absl::string_view kBlocksSuffix = ".blocks";

void PutFixed(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t GetFixed(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return v;
}

// The length of the checksums file of a blob of `size` bytes.
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

// The block checksums in `bytes` if they are intact and describe a blob of
// `size` bytes; empty otherwise.
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

// Reads [offset, offset + n) into `out`, fewer bytes only at the end of the file.
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
// A blob at least this large that went through the page cache starts its
// write-back as soon as it is written, so the disk works while the upload
// goes on and Publish finds little left to flush (1,000 blobs of 512 KiB:
// Publish 0.28 s -> 0.01 s, the upload 10% faster). Smaller ones wait for
// Publish's one flush: at 64 KiB, a write of each one's own costs more
// than it saves.
constexpr int64_t kEarlyWriteBackBytes = 512 << 10;
// Smaller blobs are flushed together: once this much of them (each counting
// at least 4 KiB) has been written since the last flush began, the store
// flushes the file system in the background, so Publish's own flush finds
// less left (20,000 blobs of 4 KiB: Publish 0.26 s -> 0.16 s).
constexpr int64_t kBackgroundFlushBytes = 8 << 20;
static_assert(kBufferBytes % kBlockBytes == 0, "a full buffer holds whole blocks");

// Write buffers are mapped pages of their own, so the memory of one given
// back goes back to the system at once (a malloc'd block of this size may
// stay in the allocator's heap).
struct UnmapDeleter {
  void operator()(char* p) const { munmap(p, kBufferBytes); }
};
using Buffer = std::unique_ptr<char, UnmapDeleter>;

Buffer NewBuffer() {
  void* p = mmap(nullptr, kBufferBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return Buffer(p == MAP_FAILED ? nullptr : static_cast<char*>(p));
}

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

absl::Status WriteFile(const std::string& path, absl::string_view bytes) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create", path);
  absl::Status written = WriteAt(fd, bytes.data(), bytes.size(), 0, path);
  if (close(fd) != 0 && written.ok()) written = Errno("close", path);
  return written;
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
  // The block checksums' temporary file; empty if the blob has none.
  const std::string& blocks_tmp_path() const { return blocks_tmp_path_; }
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
  // Adds the checksums of the blocks in [p, p + n), which starts a block.
  void SumBlocks(const char* p, size_t n) {
    for (size_t at = 0; at < n; at += kBlockBytes) {
      const size_t length = std::min<size_t>(kBlockBytes, n - at);
      block_sums_.push_back(hash::Crc32c(absl::string_view(p + at, length)));
    }
  }

  LocalBlobStore* store_;
  std::string tmp_path_;
  std::string blocks_tmp_path_;
  std::vector<uint32_t> block_sums_;  // of the bytes handed to writes so far
  int fd_ = -1;
  bool created_ = false;  // tmp_path_ exists
  Buffer buffer_;         // being filled; from the store on the first Append
  size_t filled_ = 0;     // bytes in buffer_
  Buffer in_flight_;      // being written by writing_
  Buffer spare_;          // written, ready to fill again
  bool direct_ = false;   // fd_ writes around the page cache
  std::future<absl::Status> writing_;
  int64_t written_ = 0;  // bytes handed to writes so far
  hash::Sha256 hash_;
  int64_t size_ = 0;
  BlobInfo info_;
  bool looked_for_stored_ = false;
  bool ended_ = false;   // Seal was called
  bool sealed_ = false;  // and succeeded
  bool published_ = false;
};

// Reads [begin, end) of one blob. With block checksums, each block is read
// whole and checked before any of it is handed out. Without them, the whole
// blob is read in order and hashed, and the range's last bytes are handed
// out only once the digest has matched.
class LocalReader : public BlobReader {
 public:
  LocalReader(int fd, std::string sha256, int64_t size, std::vector<uint32_t> block_sums,
              int64_t begin, int64_t end)
      : fd_(fd),
        sha256_(std::move(sha256)),
        size_(size),
        block_sums_(std::move(block_sums)),
        begin_(begin),
        end_(end),
        next_(block_sums_.empty() ? 0 : begin - begin % kBlockBytes) {}
  ~LocalReader() override { close(fd_); }
  int64_t size() const override { return size_; }

  absl::Status Read(std::string* out) override {
    while (next_ < end_) {
      // The block at next_, clipped to the range.
      const int64_t at = next_;
      RETURN_IF_ERROR(ReadBlock(out));
      const int64_t lo = std::max(begin_, at), hi = std::min(end_, next_);
      if (lo >= hi) continue;
      out->resize(static_cast<size_t>(hi - at));
      out->erase(0, static_cast<size_t>(lo - at));
      // Without block checksums, the last bytes wait for the digest.
      if (block_sums_.empty() && hi == end_) RETURN_IF_ERROR(HashToEnd());
      return absl::OkStatus();
    }
    out->clear();
    return absl::OkStatus();
  }

 private:
  // Reads the block at next_ into *out, checked against its checksum or
  // added to the digest, and moves next_ past it.
  absl::Status ReadBlock(std::string* out) {
    const size_t want = static_cast<size_t>(std::min(kBlockBytes, size_ - next_));
    out->resize(want);  // usually the size it has, then nothing is filled in
    size_t got = 0;
    RETURN_IF_ERROR(ReadAt(fd_, out->data(), want, next_, &got));
    if (got < want) {
      return absl::DataLossError(absl::StrCat("blob ", sha256_, " is ", next_ + got,
                                              " bytes long, not the ", size_, " written"));
    }
    if (block_sums_.empty()) {
      hash_.Update(*out);
    } else if (hash::Crc32c(*out) != block_sums_[static_cast<size_t>(next_ / kBlockBytes)]) {
      return absl::DataLossError(absl::StrCat("blob ", sha256_, " bytes ", next_, " to ",
                                              next_ + got - 1,
                                              " no longer match their checksum"));
    }
    next_ += static_cast<int64_t>(got);
    return absl::OkStatus();
  }

  // Hashes the rest of the blob and compares the digest.
  absl::Status HashToEnd() {
    std::string scratch;
    while (next_ < size_) RETURN_IF_ERROR(ReadBlock(&scratch));
    if (hash_.HexDigest() != sha256_) {
      return absl::DataLossError(
          absl::StrCat("blob ", sha256_, " no longer matches its digest"));
    }
    return absl::OkStatus();
  }

  const int fd_;
  const std::string sha256_;
  const int64_t size_;
  const std::vector<uint32_t> block_sums_;  // empty: check the digest
  const int64_t begin_, end_;
  int64_t next_;  // the next byte to read from the file
  hash::Sha256 hash_;
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
    RETURN_IF_ERROR(Fsync(blobs_, O_DIRECTORY));
    RETURN_IF_ERROR(StartSession());
    RemoveAbandoned();
    return absl::OkStatus();
  }

  // This store's writers name their temporary files after its session,
  // which a lock on tmp/sessions/<session> marks as alive for as long as
  // the store is open (a dead process holds no lock).
  absl::Status StartSession() {
    const std::string dir = absl::StrCat(tmp_, "/sessions");
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Errno("mkdir", dir);
    session_ = RandomToken(12);
    const std::string path = absl::StrCat(dir, "/", session_);
    const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return Errno("create", path);
    session_lock_ = UniqueFd(fd);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) return Errno("lock", path);
    return absl::OkStatus();
  }

  // Removes what writers of sessions that are no longer alive left in
  // tmp/ (a killed upload's files); a blob a deleter had moved aside is put
  // back, for the next sweep to decide again. Files named before sessions
  // existed go once a day old.
  void RemoveAbandoned() {
    const std::string dir = absl::StrCat(tmp_, "/sessions");
    std::set<std::string> dead;
    std::vector<UniqueFd> held;  // locks of dead sessions, while their files go
    if (DIR* d = opendir(dir.c_str())) {
      while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.' || e->d_name == session_) continue;
        const int fd = open(absl::StrCat(dir, "/", e->d_name).c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0) continue;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
          dead.insert(e->d_name);
          held.emplace_back(fd);
        } else {
          close(fd);
        }
      }
      closedir(d);
    }
    const absl::Time stale = absl::Now() - absl::Hours(24);
    auto sweep = [&](const std::string& in) {
      DIR* d = opendir(in.c_str());
      if (d == nullptr) return;
      while (dirent* e = readdir(d)) {
        const absl::string_view name = e->d_name;
        const std::string path = absl::StrCat(in, "/", name);
        struct stat st;
        if (name[0] == '.' || lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        const size_t dot = name.find('.');
        if (dot == absl::string_view::npos) {
          if (ModifiedOf(st) < stale) unlink(path.c_str());
          continue;
        }
        if (dead.count(std::string(name.substr(0, dot))) == 0) continue;
        absl::string_view rest = name.substr(dot + 1);
        if (absl::ConsumePrefix(&rest, kDeletingPrefix) && rest.size() > 64 &&
            IsSha256Hex(rest.substr(0, 64))) {
          // Put back unless a copy is there already.
          if (link(path.c_str(), PathOf(rest.substr(0, 64)).c_str()) != 0 && errno != EEXIST) {
            continue;  // keep it: its bytes may be the only copy
          }
        }
        unlink(path.c_str());
      }
      closedir(d);
    };
    sweep(tmp_);
    for (int i = 0; i < 256; ++i) sweep(absl::StrCat(tmp_, "/", HexPrefix(i)));
    for (const std::string& session : dead) unlink(absl::StrCat(dir, "/", session).c_str());
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
    return absl::StrCat(tmp_, "/", prefix, "/", session_, ".", token);
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
    return NewBuffer();
  }
  void ReturnBuffer(Buffer b) {
    absl::MutexLock lock(&buffers_mu_);
    if (buffers_.size() < kMaxIdleBuffers) buffers_.push_back(std::move(b));
  }

  // Counts a small blob left in the page cache for Publish's flush, and
  // starts a background flush when enough have gathered and none is running.
  // Its errors are Publish's to find.
  void WroteSmall(int64_t size) {
    absl::MutexLock lock(&flush_mu_);
    unflushed_ += std::max<int64_t>(size, kDirectAlign);
    if (unflushed_ < kBackgroundFlushBytes) return;
    if (flush_.valid() && flush_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      return;
    }
    unflushed_ = 0;
    flush_ = std::async(std::launch::async, [this] { SyncFs().IgnoreError(); });
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
        RETURN_IF_ERROR(Fsync(w->tmp_path()));
        if (!w->blocks_tmp_path().empty()) RETURN_IF_ERROR(Fsync(w->blocks_tmp_path()));
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
      // The checksums after the blob: a crash in between leaves a blob
      // checked by digest, never checksums without their blob. Where the
      // blob was stored before, these replace an identical copy or fill in
      // a lost one.
      if (!w->blocks_tmp_path().empty()) {
        const std::string sums_path = absl::StrCat(final_path, kBlocksSuffix);
        if (rename(w->blocks_tmp_path().c_str(), sums_path.c_str()) != 0) {
          return Errno("rename", sums_path);
        }
        dirs.insert(dir);
      }
      w->set_published();
      w->info().modified = absl::Now();
    }
    // The new names are durable once their directories are: one syncfs for
    // a batch (it commits the journal once), one fsync per directory else.
    if (batch) return SyncFs();
    if (new_prefix) RETURN_IF_ERROR(Fsync(blobs_, O_DIRECTORY));
    for (const std::string& dir : dirs) RETURN_IF_ERROR(Fsync(dir, O_DIRECTORY));
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

  absl::StatusOr<std::unique_ptr<BlobReader>> Open(absl::string_view sha256, int64_t offset,
                                                   int64_t length) override {
    if (absl::Status s = CheckDigest(sha256); !s.ok()) return s;
    const std::string path = PathOf(sha256);
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("no blob ", sha256));
      return Errno("open", path);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
      absl::Status s = Errno("stat", path);
      close(fd);
      return s;
    }
    if (offset < 0 || offset > st.st_size) {
      close(fd);
      return absl::InvalidArgumentError(absl::StrCat("offset ", offset, " is outside blob ",
                                                     sha256, " of ", st.st_size, " bytes"));
    }
    const int64_t end =
        length < 0 || length > st.st_size - offset ? st.st_size : offset + length;
    std::vector<uint32_t> sums;
    if (st.st_size > kBlockBytes) sums = ReadBlockSums(path, st.st_size);
    posix_fadvise(fd, sums.empty() ? 0 : offset, 0, POSIX_FADV_SEQUENTIAL);
    return std::unique_ptr<BlobReader>(
        new LocalReader(fd, std::string(sha256), st.st_size, std::move(sums), offset, end));
  }

  // The block checksums of the blob at `path`, or none if they are missing
  // or damaged (the blob's digest is checked instead).
  static std::vector<uint32_t> ReadBlockSums(const std::string& path, int64_t size) {
    const std::string sums_path = absl::StrCat(path, kBlocksSuffix);
    int fd = open(sums_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    struct stat st;
    std::string bytes(BlockSumsBytes(size), '\0');
    size_t got = 0;
    const bool read = fstat(fd, &st) == 0 && st.st_size == static_cast<off_t>(bytes.size()) &&
                      ReadAt(fd, bytes.data(), bytes.size(), 0, &got).ok() &&
                      got == bytes.size();
    close(fd);
    return read ? DecodeBlockSums(bytes, size) : std::vector<uint32_t>();
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
    // Checksums first: a crash in between leaves a blob checked by digest,
    // never checksums without their blob.
    RETURN_IF_ERROR(UnlinkBlockSums(path));
    if (unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("unlink", path);
    return absl::OkStatus();
  }

  absl::StatusOr<bool> DeleteIfIdle(absl::string_view sha256, absl::Time written_before) override {
    if (absl::Status s = CheckDigest(sha256); !s.ok()) return s;
    const std::string path = PathOf(sha256);
    // Move it aside first: a Publish that comes after this finds nothing and
    // stores its own copy; one that came before has touched the time checked
    // below.
    const std::string aside =
        absl::StrCat(tmp_, "/", session_, ".", kDeletingPrefix, sha256, "-", RandomToken(8));
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
    // A copy published meanwhile may lose its checksums with these; it is
    // then checked by digest.
    RETURN_IF_ERROR(UnlinkBlockSums(path));
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
  static absl::Status UnlinkBlockSums(const std::string& blob_path) {
    const std::string path = absl::StrCat(blob_path, kBlocksSuffix);
    if (unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("unlink", path);
    return absl::OkStatus();
  }

  std::string PathOf(absl::string_view sha256) const {
    return absl::StrCat(blobs_, "/", sha256.substr(0, 2), "/", sha256.substr(2));
  }

  static constexpr size_t kSyncfsThreshold = 8;
  static constexpr size_t kMaxIdleBuffers = 8;
  // A blob being deleted is first moved to tmp/<session>.deleting-<sha>-….
  static constexpr absl::string_view kDeletingPrefix = "deleting-";
  std::string blobs_, tmp_;
  std::string session_;
  UniqueFd session_lock_;
  absl::Mutex buffers_mu_;
  std::vector<Buffer> buffers_ ABSL_GUARDED_BY(buffers_mu_);
  absl::Mutex flush_mu_;
  int64_t unflushed_ ABSL_GUARDED_BY(flush_mu_) = 0;
  // Last, so it is destroyed first: the store waits for a running flush.
  std::future<void> flush_ ABSL_GUARDED_BY(flush_mu_);
};

LocalWriter::~LocalWriter() {
  FinishWriting().IgnoreError();
  if (fd_ >= 0) close(fd_);
  if (created_ && !published_) unlink(tmp_path_.c_str());
  if (!blocks_tmp_path_.empty() && !published_) unlink(blocks_tmp_path_.c_str());
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
    writing_ = std::async(std::launch::async, [this, p = in_flight_.get(), offset = written_] {
      SumBlocks(p, kBufferBytes);
      return WriteAt(fd_, p, kBufferBytes, offset, tmp_path_);
    });
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
  if (size_ > kBlockBytes) SumBlocks(buffer_.get(), filled_);
  written_ += filled_;
  filled_ = 0;
  if (!direct_) {
    if (size_ >= kEarlyWriteBackBytes) {
      sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WRITE);
    } else {
      store_->WroteSmall(size_);
    }
  }
  if (close(fd_) != 0) {
    fd_ = -1;
    return Errno("close", tmp_path_);
  }
  fd_ = -1;
  if (size_ <= kBlockBytes) return absl::OkStatus();
  blocks_tmp_path_ = absl::StrCat(tmp_path_, kBlocksSuffix);
  return WriteFile(blocks_tmp_path_, EncodeBlockSums(size_, block_sums_));
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

}  // namespace arca::blob
