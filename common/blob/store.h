#ifndef ARCA_COMMON_BLOB_STORE_H_
#define ARCA_COMMON_BLOB_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace arca::blob {

struct BlobInfo {
  std::string sha256;  // lowercase hex
  int64_t size = 0;
  // When the blob was last written or re-put; orphan sweeps spare blobs
  // touched within their grace period.
  absl::Time modified;
  // The bytes' CRC-32C, from Seal and Commit only: what a client that sent
  // them checks its own reading against, at a fraction of a hash's cost.
  uint32_t crc32c = 0;
};

// Receives one blob's bytes. Destroying it without Commit leaves nothing
// behind, except in a store that sends sealed blobs on their way at once (S3):
// there a sealed, unpublished blob stays as an unreferenced one, for the
// orphan sweep.
class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  virtual absl::Status Append(absl::string_view data) = 0;
  virtual int64_t size() const = 0;
  // Ends the bytes and checks them: DATA_LOSS (and nothing will be stored)
  // if expected_sha256 is given and differs. The blob is not yet known to be
  // durable; BlobStore::Publish makes it so (and visible, in the local store).
  virtual absl::StatusOr<BlobInfo> Seal(absl::string_view expected_sha256 = "") = 0;
  // Seal, then Publish this one blob.
  virtual absl::StatusOr<BlobInfo> Commit(absl::string_view expected_sha256 = "") = 0;
};

// Hands out one blob's bytes, each checked before it is handed out where the
// store keeps checksums of the blob's blocks (see BlobStore::Open).
class BlobReader {
 public:
  virtual ~BlobReader() = default;
  // Replaces *out with the next bytes of the range (at most a few MiB);
  // empty at its end. DATA_LOSS once the stored bytes are found to differ
  // from what was written.
  virtual absl::Status Read(std::string* out) = 0;
  // The whole blob's, whatever the range.
  virtual int64_t size() const = 0;
};

// Where a blob's bytes are: a file of their own ("loose"), or a record in a
// pack, the small blobs of one upload written as one file (the format is in
// docs/blob-format.md).
struct Location {
  std::string pack;    // the pack's name; empty: loose
  int64_t offset = 0;  // of the blob's record in the pack
  bool packed() const { return !pack.empty(); }
};

// One record of a pack, as its index lists it.
struct PackEntry {
  std::string sha256;  // lowercase hex
  int64_t offset = 0;  // of the record
  int64_t size = 0;    // of the blob's bytes
  uint32_t crc32c = 0;  // of the blob's bytes
};

struct PackInfo {
  std::string name;
  int64_t size = 0;
  absl::Time modified;
};

// Appends small blobs to one new pack. The pack is written in order, made
// durable with one flush and visible under its name with one rename by
// Publish, and never changed afterwards. Destroying it unpublished leaves
// nothing behind.
class PackWriter {
 public:
  virtual ~PackWriter() = default;
  // Fixed when the writer is made.
  virtual const std::string& name() const = 0;
  // Appends one blob whose SHA-256 the caller has computed from `bytes` (the
  // pack keeps a CRC-32C of them, not a digest of its own).
  virtual absl::StatusOr<Location> Add(absl::string_view sha256, absl::string_view bytes) = 0;
  virtual const std::vector<PackEntry>& entries() const = 0;
  // The pack's length once published, with its index.
  virtual int64_t size() const = 0;
  virtual absl::Status Publish() = 0;
};

// Content-addressed blob storage. The local implementation keeps
// <dir>/blobs/ab/cdef… (SHA-256 hex split after two characters); the
// S3-compatible one maps the same names to object keys. Thread-safe.
class BlobStore {
 public:
  virtual ~BlobStore() = default;
  virtual absl::StatusOr<std::unique_ptr<BlobWriter>> NewWriter() = 0;
  // Makes sealed blobs durable and visible under their digests, all with one
  // flush to disk where that is cheaper than one per blob. A blob that
  // already exists is not rewritten, only marked as just written.
  virtual absl::Status Publish(const std::vector<BlobWriter*>& sealed) = 0;
  // Reads `length` bytes from `offset` (to the end if `length` is negative
  // or runs past it). Bytes are checked against what was written: block by
  // block before they are handed out where the store recorded checksums of
  // the blob's blocks, so a range reads only its own blocks; otherwise the
  // whole blob is read and its SHA-256 checked before the range's last
  // bytes are handed out. NOT_FOUND if absent; INVALID_ARGUMENT for a
  // malformed digest or an offset past the end.
  virtual absl::StatusOr<std::unique_ptr<BlobReader>> Open(absl::string_view sha256,
                                                           int64_t offset = 0,
                                                           int64_t length = -1) = 0;
  // Open where the blob is: as Open for a loose one; a packed one's record
  // is read whole and its checksum checked before any of it is handed out.
  // DATA_LOSS if the record is not the blob's or is damaged.
  virtual absl::StatusOr<std::unique_ptr<BlobReader>> OpenAt(const Location& where,
                                                             absl::string_view sha256,
                                                             int64_t offset = 0,
                                                             int64_t length = -1);

  // Packs, for stores that keep them (UNIMPLEMENTED otherwise).
  virtual absl::StatusOr<std::unique_ptr<PackWriter>> NewPackWriter();
  // Calls `fn` for every published pack.
  virtual absl::Status ListPacks(const std::function<void(const PackInfo&)>& fn);
  // The records a pack's index lists; DATA_LOSS if the index is damaged.
  virtual absl::StatusOr<std::vector<PackEntry>> ReadPackIndex(absl::string_view pack);
  // Calls `fn` with each record the index lists, in order, and its bytes,
  // checked as OpenAt checks them (DATA_LOSS at the first damaged one);
  // stops at fn's first error.
  virtual absl::Status ReadPack(
      absl::string_view pack,
      const std::function<absl::Status(const PackEntry&, absl::string_view bytes)>& fn);
  // A new pack, published, of the records of `pack` at `offsets` (ascending,
  // each where a record starts), each checked as ReadPack checks it.
  // DATA_LOSS if one is damaged or no record starts there.
  virtual absl::StatusOr<std::unique_ptr<PackWriter>> CopyPackRecords(
      absl::string_view pack, const std::vector<int64_t>& offsets);
  // Absent counts as success.
  virtual absl::Status DeletePack(absl::string_view pack);
  // NOT_FOUND if absent.
  virtual absl::StatusOr<BlobInfo> Stat(absl::string_view sha256) = 0;
  // Absent counts as success.
  virtual absl::Status Delete(absl::string_view sha256) = 0;
  // Deletes the blob unless it was written (or re-put) at or after
  // `written_before`; returns whether it is gone (absent counts as gone).
  // Safe against a concurrent Publish of the same bytes: either that Publish
  // marks the blob as just written before the check, or it finds the blob
  // gone and stores its own copy.
  virtual absl::StatusOr<bool> DeleteIfIdle(absl::string_view sha256,
                                            absl::Time written_before) = 0;
  // Calls `fn` for every stored blob, in no particular order.
  virtual absl::Status List(const std::function<void(const BlobInfo&)>& fn) = 0;

  // OK if a file can be written where blobs are written now (for
  // readiness); the store's error otherwise.
  virtual absl::Status CheckWritable() { return absl::OkStatus(); }
  // OK if blobs can be read (for the readiness of those that only read).
  virtual absl::Status CheckReadable() { return absl::OkStatus(); }

  // A URL that lets whoever holds it GET the loose blob's bytes directly
  // from where they are stored, for `lifetime`; UNIMPLEMENTED for a store
  // that has none (a local directory).
  virtual absl::StatusOr<std::string> PresignedUrl(absl::string_view sha256,
                                                   absl::Duration lifetime) {
    return absl::UnimplementedError("this blob store has no URLs of its own");
  }

  // Room left where blobs are written, for disk-full alerts. UNIMPLEMENTED
  // for a store with no disk of its own (an object store).
  struct Space {
    int64_t free_bytes = 0;      // available to this process
    int64_t capacity_bytes = 0;  // of the whole file system
  };
  virtual absl::StatusOr<Space> FreeSpace() = 0;
};

// For whoever serves a catalogued file (the collector, the gateway): opens
// the stored bytes of the file `name`, recorded as `size` bytes with digest
// `sha256`, from `offset` for `length`. DATA_LOSS, naming the file, when
// they are missing or of another size; Open's other errors as they are.
absl::StatusOr<std::unique_ptr<BlobReader>> OpenRecorded(BlobStore& store, absl::string_view name,
                                                         absl::string_view sha256, int64_t size,
                                                         const Location& where, int64_t offset,
                                                         int64_t length);
// BlobReader::Read, whose DATA_LOSS names the file that is damaged.
absl::Status ReadRecorded(BlobReader& reader, absl::string_view name, std::string* out);

// A blob store in a local directory (created if missing): written to a
// temporary name, fsync'd, renamed into place, directory fsync'd. A blob of
// more than one block (1 MiB) gets the CRC-32C of each block beside it, in
// blobs/ab/cdef….blocks, for reads to check. Packs are packs/<name>.
absl::StatusOr<std::unique_ptr<BlobStore>> OpenLocalBlobStore(const std::string& dir);

// A blob store in a bucket of an S3-compatible object store: `url` is
// s3://BUCKET[/PREFIX]; `endpoint` the store's scheme://host[:port] (empty:
// AWS S3). Credentials and region come from the environment (AWS_REGION,
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN). The bucket
// must exist. Large blobs go up as multipart uploads of 8 MiB parts, sent a
// few at a time; reads are ranged GETs checked as the local store checks.
// Opening aborts the uploads that writers left unfinished (killed on the
// way) more than `abandoned_after` ago, and deletes what they left in
// incoming/.
absl::StatusOr<std::unique_ptr<BlobStore>> OpenS3BlobStore(
    const std::string& url, const std::string& endpoint,
    absl::Duration abandoned_after = absl::Hours(24));

// Checks a pack file from its first byte: every record's header and bytes
// against their checksums and digests, and the index against the records.
// What it found is in the report; OK only if the pack is intact.
struct PackCheck {
  bool is_pack = false;            // it starts as a pack
  std::vector<PackEntry> records;  // the intact ones, in order from the start
  bool index_ok = false;           // the index is intact and lists exactly them
  std::string problem;             // the first thing found wrong; empty if none
  // Where the intact records end.
  int64_t IntactEnd() const;
};
absl::StatusOr<PackCheck> VerifyPackFile(const std::string& path);

// Writes the pack's index anew from its records alone: the intact records
// from the start are kept (at the same offsets) and a fresh index follows
// them; whatever came after the last intact record is dropped. The file is
// replaced with one rename. Returns the records kept.
absl::StatusOr<int64_t> RebuildPackIndex(const std::string& path);

}  // namespace arca::blob

#endif  // ARCA_COMMON_BLOB_STORE_H_
