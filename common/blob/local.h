#ifndef ARCA_COMMON_BLOB_LOCAL_H_
#define ARCA_COMMON_BLOB_LOCAL_H_

// The blob store on a local directory, inside: the on-disk format's pieces
// (format.cc), the writer (writer.cc), the reader, and the store itself
// (store.cc). Internal to common/blob.

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
#include <deque>
#include <functional>
#include <future>
#include <optional>
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
#include "common/blob/store.h"

namespace arca::blob {

// A failed system call as a status: RESOURCE_EXHAUSTED when the disk (or
// the quota) is full, INTERNAL otherwise. Names the file, for logs; what a
// client sees is worded by the service.
absl::Status Errno(absl::string_view what, const std::string& path);

// Flushes a file, or with O_DIRECTORY a directory, to disk.
absl::Status Fsync(const std::string& path, int flags = 0);

absl::Status CheckDigest(absl::string_view sha256);

absl::Time ModifiedOf(const struct stat& st);

// The two hex digits of byte `i` (its low eight bits): a prefix directory.
std::string HexPrefix(int i);

// Marks the file as just written; false if it is absent.
bool MarkWritten(const std::string& path);

// Blobs of more than one block keep the CRC-32C of each block in a file
// beside them, <blob>.blocks: "arcablk1", the blob's size (8 bytes), one
// checksum per block (4 bytes each), then the checksum of all that;
// little-endian. Its content follows from the blob's bytes alone, so any
// two writers of one blob write the same file. A blob without one (a small
// blob, or one whose file was lost) is checked against its digest instead.
inline constexpr int64_t kBlockBytes = 1 << 20;
inline constexpr absl::string_view kBlocksMagic = "arcablk1";
inline constexpr absl::string_view kBlocksSuffix = ".blocks";

void PutFixed(std::string* out, uint64_t v, int bytes);
uint64_t GetFixed(const char* p, int bytes);

// The length of the checksums file of a blob of `size` bytes.
size_t BlockSumsBytes(int64_t size);

std::string EncodeBlockSums(int64_t size, const std::vector<uint32_t>& sums);

// The block checksums in `bytes` if they are intact and describe a blob of
// `size` bytes; empty otherwise.
std::vector<uint32_t> DecodeBlockSums(absl::string_view bytes, int64_t size);

// Reads [offset, offset + n) into `out`, fewer bytes only at the end of the file.
absl::Status ReadAt(int fd, char* out, size_t n, int64_t offset, size_t* got);

class LocalBlobStore;

// Bytes are gathered in block-aligned buffers and written in large pieces.
// A blob larger than one buffer is written with O_DIRECT where the file
// system allows it, straight from the buffer to the disk instead of through
// the page cache (Publish syncs it anyway). Each full buffer is hashed, in
// order, and written on threads of its own while the next ones fill: a
// direct write waits for the disk, so up to kWritesInFlight run at once, and
// the hash of one buffer runs beside the writes of those before it. Smaller
// blobs, and each blob's unaligned tail, go through the page cache, so a
// batch of small files costs one sync, not one write-through each.
inline constexpr size_t kBufferBytes = 4 << 20;
inline constexpr size_t kWritesInFlight = 3;
// A pack writer's buffer: small enough to stay in the CPU's caches while it
// is filled and written (a larger one made buffered writes slower here).
inline constexpr size_t kPackBufferBytes = 1 << 20;
inline constexpr size_t kDirectAlign = 4096;
// A blob at least this large that went through the page cache starts its
// write-back as soon as it is written, so the disk works while the upload
// goes on and Publish finds little left to flush (1,000 blobs of 512 KiB:
// Publish 0.28 s -> 0.01 s, the upload 10% faster). Smaller ones wait for
// Publish's one flush: at 64 KiB, a write of each one's own costs more
// than it saves.
inline constexpr int64_t kEarlyWriteBackBytes = 512 << 10;
// Smaller blobs are flushed together: once this much of them (each counting
// at least 4 KiB) has been written since the last flush began, the store
// flushes the file system in the background, so Publish's own flush finds
// less left (20,000 blobs of 4 KiB: Publish 0.26 s -> 0.16 s).
inline constexpr int64_t kBackgroundFlushBytes = 8 << 20;
static_assert(kBufferBytes % kBlockBytes == 0, "a full buffer holds whole blocks");

// Write buffers are mapped pages of their own, so the memory of one given
// back goes back to the system at once (a malloc'd block of this size may
// stay in the allocator's heap).
struct UnmapDeleter {
  void operator()(char* p) const { munmap(p, kBufferBytes); }
};
using Buffer = std::unique_ptr<char, UnmapDeleter>;

Buffer NewBuffer();

// Writes [p, p + n) at `offset`; a file system that refuses a direct write
// gets it through the page cache.
absl::Status WriteAt(int fd, const char* p, size_t n, int64_t offset, const std::string& path);

absl::Status WriteFile(const std::string& path, absl::string_view bytes);

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
  // Hands the full buffer_ to a thread that hashes and writes it, first
  // waiting for the oldest write when kWritesInFlight are running.
  absl::Status WriteFullBuffer();
  // Waits for the oldest buffer written in the background and keeps it to
  // fill again; FinishWriting waits for them all.
  absl::Status FinishOldest();
  absl::Status FinishWriting();
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
  struct InFlight {
    Buffer buffer;
    std::future<absl::Status> written;
  };
  std::deque<InFlight> in_flight_;  // oldest first
  Buffer spare_;                    // written, ready to fill again
  bool direct_ = false;             // fd_ writes around the page cache
  int64_t written_ = 0;             // bytes handed to writes so far
  // Ready once the newest buffer in flight is hashed and its blocks summed;
  // the next one's thread waits for it, so hash_, info_.crc32c and
  // block_sums_ take the buffers in order.
  std::shared_future<void> summed_;
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

// Packs (docs/blob-format.md): "arcapck1"; records, each a header of
// kRecordHeaderBytes ("arec", the SHA-256 (32 bytes), the size (8), the
// CRC-32C of the bytes (4), the CRC-32C of those 48 bytes (4)) and the
// bytes; then the index, one kIndexEntryBytes entry per record (SHA-256,
// offset, size, CRC-32C of the bytes); then the footer ("arcaidx1", the
// index's offset (8), the record count (8), the CRC-32C of the index and
// those 24 bytes (4)). Little-endian.
inline constexpr absl::string_view kPackMagic = "arcapck1";
inline constexpr absl::string_view kRecordMagic = "arec";
inline constexpr absl::string_view kIndexMagic = "arcaidx1";
inline constexpr size_t kRecordHeaderBytes = 4 + 32 + 8 + 4 + 4;
inline constexpr size_t kIndexEntryBytes = 32 + 8 + 8 + 4;
inline constexpr size_t kFooterBytes = 8 + 8 + 8 + 4;
inline constexpr absl::string_view kPackSuffix = ".pack";

std::string EncodeRecordHeader(absl::string_view sha256_hex, int64_t size, uint32_t crc);
struct RecordHeader {
  std::string sha256;  // hex
  int64_t size = 0;
  uint32_t crc = 0;
};
// The header if it is intact; nullopt otherwise.
std::optional<RecordHeader> DecodeRecordHeader(absl::string_view bytes);

// The header of the record at `offset`, if it is intact and holds
// `sha256`; DATA_LOSS saying what is wrong otherwise.
absl::StatusOr<RecordHeader> CheckRecordHeader(absl::string_view header, int64_t offset,
                                              absl::string_view sha256);
// DATA_LOSS unless `bytes` (which follow the header) are the record's.
absl::Status CheckRecordBytes(absl::string_view bytes, const RecordHeader& h, int64_t offset);

// Reads the record at `offset` of the open pack and checks it is intact and
// holds `sha256`: its bytes, or DATA_LOSS saying what is wrong.
absl::StatusOr<std::string> ReadRecord(int fd, int64_t offset, absl::string_view sha256);
// DATA_LOSS: no record of `pack` starts at `offset`.
absl::Status NoRecordAt(absl::string_view pack, int64_t offset);

// The index and footer that end a pack whose records end at index_offset.
std::string EncodeIndex(const std::vector<PackEntry>& entries, int64_t index_offset);

// The footer of a pack of `size` bytes, checked against that size.
struct Footer {
  int64_t index_offset = 0;
  uint64_t count = 0;
};
absl::StatusOr<Footer> DecodeFooter(absl::string_view footer, int64_t size);
// The index (the footer's count of entries, read from its offset), checked.
absl::StatusOr<std::vector<PackEntry>> DecodeIndex(absl::string_view index,
                                                   absl::string_view footer);

// The index of the open pack of `size` bytes (and where it starts), or
// DATA_LOSS.
absl::StatusOr<std::vector<PackEntry>> ReadIndex(int fd, int64_t size,
                                                 int64_t* index_offset = nullptr);

// "pack-<UTC time>-<random>", unique among writers.
std::string NewPackName();
// INVALID_ARGUMENT for a name that is not a pack's.
absl::Status CheckPackName(absl::string_view pack);

// Hands out [begin, end) of bytes already checked.
class CheckedBytesReader : public BlobReader {
 public:
  CheckedBytesReader(std::string bytes, int64_t begin, int64_t end)
      : bytes_(std::move(bytes)), begin_(begin), end_(end) {}
  absl::Status Read(std::string* out) override {
    out->assign(bytes_, static_cast<size_t>(begin_), static_cast<size_t>(end_ - begin_));
    begin_ = end_;
    return absl::OkStatus();
  }
  int64_t size() const override { return static_cast<int64_t>(bytes_.size()); }

 private:
  const std::string bytes_;
  int64_t begin_;
  const int64_t end_;
};

class LocalBlobStore;

class LocalPackWriter : public PackWriter {
 public:
  LocalPackWriter(LocalBlobStore* store, std::string name, std::string tmp_path,
                  std::string final_path)
      : store_(store),
        name_(std::move(name)),
        tmp_path_(std::move(tmp_path)),
        final_path_(std::move(final_path)) {}
  ~LocalPackWriter() override;
  absl::Status Create();
  const std::string& name() const override { return name_; }
  absl::StatusOr<Location> Add(absl::string_view sha256, absl::string_view bytes) override;
  // Add for bytes whose CRC-32C is known.
  absl::StatusOr<Location> Add(absl::string_view sha256, absl::string_view bytes, uint32_t crc);
  const std::vector<PackEntry>& entries() const override { return entries_; }
  int64_t size() const override {
    if (published_) return written_;
    return written_ + static_cast<int64_t>(pending_.size() + kIndexEntryBytes * entries_.size() +
                                           kFooterBytes);
  }
  absl::Status Publish() override;

 private:
  absl::Status Flush();

  LocalBlobStore* store_;
  const std::string name_, tmp_path_, final_path_;
  int fd_ = -1;
  std::string pending_;  // bytes not yet written
  std::string writing_;  // bytes being written by write_
  std::future<absl::Status> write_;
  int64_t written_ = 0;
  std::vector<PackEntry> entries_;
  bool published_ = false;
};

class LocalBlobStore : public BlobStore {
 public:
  explicit LocalBlobStore(std::string dir)
      : blobs_(absl::StrCat(dir, "/blobs")),
        tmp_(absl::StrCat(dir, "/tmp")),
        packs_(absl::StrCat(dir, "/packs")) {}

  absl::StatusOr<Space> FreeSpace() override;
  absl::Status CheckWritable() override;
  absl::Status CheckReadable() override { return FreeSpace().status(); }

  absl::Status Init();

  // This store's writers name their temporary files after its session,
  // which a lock on tmp/sessions/<session> marks as alive for as long as
  // the store is open (a dead process holds no lock).
  absl::Status StartSession();

  // Removes what writers of sessions that are no longer alive left in
  // tmp/ (a killed upload's files); a blob a deleter had moved aside is put
  // back, for the next sweep to decide again. Files named before sessions
  // existed go once a day old.
  void RemoveAbandoned();

  absl::StatusOr<std::unique_ptr<BlobWriter>> NewWriter() override {
    return std::unique_ptr<BlobWriter>(new LocalWriter(this));
  }

  // A name for a new temporary file, beside others of the same digest
  // prefix (or any, when the digest is not known yet).
  std::string TmpPath(absl::string_view sha256) const;

  // Marks the blob as just written; false if it is absent.
  bool Touch(absl::string_view sha256) { return MarkWritten(PathOf(sha256)); }

  // Writers' buffers are reused: memory already touched is cheaper to fill
  // than fresh pages.
  Buffer TakeBuffer();
  void ReturnBuffer(Buffer b) {
    absl::MutexLock lock(&buffers_mu_);
    if (buffers_.size() < kMaxIdleBuffers) buffers_.push_back(std::move(b));
  }

  // Counts a small blob left in the page cache for Publish's flush, and
  // starts a background flush when enough have gathered and none is running.
  // Its errors are Publish's to find.
  void WroteSmall(int64_t size);

  absl::Status Publish(const std::vector<BlobWriter*>& sealed) override;

  absl::Status SyncFs();

  absl::StatusOr<std::unique_ptr<BlobReader>> Open(absl::string_view sha256, int64_t offset,
                                                   int64_t length) override;

  // The block checksums of the blob at `path`, or none if they are missing
  // or damaged (the blob's digest is checked instead).
  static std::vector<uint32_t> ReadBlockSums(const std::string& path, int64_t size);

  absl::StatusOr<BlobInfo> Stat(absl::string_view sha256) override;

  absl::Status Delete(absl::string_view sha256) override;

  absl::StatusOr<bool> DeleteIfIdle(absl::string_view sha256, absl::Time written_before) override;

  absl::Status List(const std::function<void(const BlobInfo&)>& fn) override;

  absl::StatusOr<std::unique_ptr<BlobReader>> OpenAt(const Location& where,
                                                     absl::string_view sha256, int64_t offset,
                                                     int64_t length) override;
  absl::StatusOr<std::unique_ptr<PackWriter>> NewPackWriter() override;
  absl::Status ListPacks(const std::function<void(const PackInfo&)>& fn) override;
  absl::StatusOr<std::vector<PackEntry>> ReadPackIndex(absl::string_view pack) override;
  absl::Status ReadPack(
      absl::string_view pack,
      const std::function<absl::Status(const PackEntry&, absl::string_view)>& fn) override;
  absl::StatusOr<std::unique_ptr<PackWriter>> CopyPackRecords(
      absl::string_view pack, const std::vector<int64_t>& offsets) override;
  absl::Status DeletePack(absl::string_view pack) override;

  const std::string& packs_dir() const { return packs_; }

 private:
  // packs/<name>.pack, or INVALID_ARGUMENT for a name that is not a pack's.
  absl::StatusOr<std::string> PackPath(absl::string_view pack) const;
  absl::StatusOr<std::unique_ptr<LocalPackWriter>> NewLocalPackWriter();
  // The pack opened for reading; NOT_FOUND if it is not there.
  absl::StatusOr<UniqueFd> OpenPack(absl::string_view pack) const;
  // The open pack's index.
  static absl::StatusOr<std::vector<PackEntry>> IndexOf(absl::string_view pack, int fd,
                                                        int64_t* records_end = nullptr);
  // DATA_LOSS naming the pack; other errors as they are.
  static absl::Status InPack(absl::string_view pack, const absl::Status& s);

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
  std::string blobs_, tmp_, packs_;
  std::string session_;
  UniqueFd session_lock_;
  absl::Mutex buffers_mu_;
  std::vector<Buffer> buffers_ ABSL_GUARDED_BY(buffers_mu_);
  absl::Mutex flush_mu_;
  int64_t unflushed_ ABSL_GUARDED_BY(flush_mu_) = 0;
  // Last, so it is destroyed first: the store waits for a running flush.
  std::future<void> flush_ ABSL_GUARDED_BY(flush_mu_);
};

}  // namespace arca::blob

#endif  // ARCA_COMMON_BLOB_LOCAL_H_
