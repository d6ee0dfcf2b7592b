// The blob store in a bucket of an S3-compatible object store. Keys follow
// the local layout under the store's prefix: blobs/ab/cdef… (with
// blobs/ab/cdef….blocks beside a blob of more than one block), packs/<name>,
// and incoming/<token> for a large blob on its way in.

#include <deque>

#include "absl/strings/escaping.h"
#include "absl/strings/str_replace.h"
#include "common/blob/local.h"
#include "common/logging.h"
#include "common/s3/client.h"

namespace arca::blob {
namespace {

// Parts of multipart uploads; a blob or pack up to this size goes up with
// one PUT. A multiple of the block, so each part's block checksums are its own.
constexpr size_t kPartBytes = 8 << 20;
static_assert(kPartBytes % kBlockBytes == 0, "a part holds whole blocks");
// Parts of one upload sent at once.
constexpr size_t kPartsInFlight = 4;
// Reads go out in ranges of this many bytes.
constexpr int64_t kReadBytes = 8 << 20;
// A blob of up to this size has its block checksums in its metadata (the
// .blocks encoding in base64: 1.4 KiB of S3's 2 KiB at most); a larger one
// has them in a .blocks object beside it.
constexpr int64_t kMaxSummedInMetadata = 256 * kBlockBytes;
constexpr char kSumsMetadata[] = "arca-blocks";

class S3BlobStore;

// Sends the parts of one multipart upload, a few at a time.
class PartSender {
 public:
  PartSender(s3::Client* client, std::string key) : client_(client), key_(std::move(key)) {}
  ~PartSender() { (void)Abort(); }

  bool started() const { return !upload_id_.empty(); }

  absl::Status Send(std::string part) {
    if (!started()) {
      ASSIGN_OR_RETURN(upload_id_, client_->StartMultipart(key_));
    }
    if (in_flight_.size() >= kPartsInFlight) RETURN_IF_ERROR(WaitOldest());
    const int number = static_cast<int>(etags_.size() + in_flight_.size()) + 1;
    auto body = std::make_shared<std::string>(std::move(part));
    in_flight_.push_back(std::async(std::launch::async, [this, number, body] {
      return client_->PutPart(key_, upload_id_, number, *body);
    }));
    return absl::OkStatus();
  }

  // Waits for every part, then makes the object visible.
  absl::Status Complete() {
    while (!in_flight_.empty()) RETURN_IF_ERROR(WaitOldest());
    RETURN_IF_ERROR(client_->CompleteMultipart(key_, upload_id_, etags_));
    upload_id_.clear();
    return absl::OkStatus();
  }

  absl::Status Abort() {
    while (!in_flight_.empty()) {
      in_flight_.front().wait();
      in_flight_.pop_front();
    }
    if (!started()) return absl::OkStatus();
    absl::Status s = client_->AbortMultipart(key_, upload_id_);
    upload_id_.clear();
    return s;
  }

 private:
  absl::Status WaitOldest() {
    absl::StatusOr<std::string> etag = in_flight_.front().get();
    in_flight_.pop_front();
    RETURN_IF_ERROR(etag.status());
    etags_.push_back(*std::move(etag));
    return absl::OkStatus();
  }

  s3::Client* client_;
  const std::string key_;
  std::string upload_id_;
  std::vector<std::string> etags_;
  std::deque<std::future<absl::StatusOr<std::string>>> in_flight_;
};

// A blob on its way up: its first 8 MiB are held; beyond that, it goes up
// in parts to incoming/ as it comes. Seal hands the rest to a background
// task (the blob's one PUT, or completing its parts and copying them into
// place), so the next file is received while this one goes up; Publish
// waits for it.
class S3Writer : public BlobWriter {
 public:
  S3Writer(S3BlobStore* store, std::string incoming_key);
  ~S3Writer() override;

  absl::Status Append(absl::string_view data) override {
    if (ended_) return absl::FailedPreconditionError("blob writer already sealed");
    hash_.Update(data);
    crc32c_ = hash::Crc32c(data, crc32c_);
    size_ += static_cast<int64_t>(data.size());
    while (!data.empty()) {
      // A full buffer goes up only once more follows: a blob of exactly one
      // part's size is still one PUT.
      if (buffer_.size() == kPartBytes) RETURN_IF_ERROR(SendBuffer());
      const size_t n = std::min(data.size(), kPartBytes - buffer_.size());
      buffer_.append(data.data(), n);
      data.remove_prefix(n);
    }
    return absl::OkStatus();
  }
  int64_t size() const override { return size_; }

  absl::StatusOr<BlobInfo> Seal(absl::string_view expected_sha256) override;
  absl::StatusOr<BlobInfo> Commit(absl::string_view expected_sha256) override;

  // For the store's Publish: the background task's outcome.
  absl::Status Wait() {
    if (!waited_) {
      finished_ = finishing_.get();
      waited_ = true;
    }
    return finished_;
  }
  bool sealed() const { return sealed_; }
  void set_published() { published_ = true; }

 private:
  void SumBlocks(absl::string_view bytes) {
    for (size_t at = 0; at < bytes.size(); at += kBlockBytes) {
      block_sums_.push_back(hash::Crc32c(bytes.substr(at, kBlockBytes)));
    }
  }
  absl::Status SendBuffer() {
    SumBlocks(buffer_);
    std::string part;
    part.swap(buffer_);
    return parts_.Send(std::move(part));
  }
  // In the background: the blob into its place under its digest.
  absl::Status Finish();

  S3BlobStore* store_;
  const std::string incoming_key_;
  PartSender parts_;
  std::string buffer_;
  std::vector<uint32_t> block_sums_;
  hash::Sha256 hash_;
  uint32_t crc32c_ = 0;
  int64_t size_ = 0;
  BlobInfo info_;
  bool ended_ = false, sealed_ = false, published_ = false;
  bool in_incoming_ = false;  // parts completed into incoming_key_, not yet deleted
  bool waited_ = false;
  absl::Status finished_;
  // Last: destroyed first, waiting for the task that uses the rest.
  std::future<absl::Status> finishing_;
};

class S3PackWriter : public PackWriter {
 public:
  S3PackWriter(s3::Client* client, std::string name, std::string key)
      : client_(client), name_(std::move(name)), key_(key), parts_(client, std::move(key)) {
    pending_ = std::string(kPackMagic);
  }
  const std::string& name() const override { return name_; }
  absl::StatusOr<Location> Add(absl::string_view sha256, absl::string_view bytes) override {
    if (published_) return absl::FailedPreconditionError("pack already published");
    RETURN_IF_ERROR(CheckDigest(sha256));
    const int64_t offset = sent_ + static_cast<int64_t>(pending_.size());
    const uint32_t crc = hash::Crc32c(bytes);
    pending_ += EncodeRecordHeader(sha256, static_cast<int64_t>(bytes.size()), crc);
    pending_.append(bytes.data(), bytes.size());
    entries_.push_back(PackEntry{std::string(sha256), offset, static_cast<int64_t>(bytes.size()), crc});
    if (pending_.size() >= kPartBytes) {
      sent_ += static_cast<int64_t>(pending_.size());
      std::string part;
      part.swap(pending_);
      RETURN_IF_ERROR(parts_.Send(std::move(part)));
    }
    return Location{name_, offset};
  }
  const std::vector<PackEntry>& entries() const override { return entries_; }
  int64_t size() const override {
    if (published_) return sent_;
    return sent_ + static_cast<int64_t>(pending_.size() + kIndexEntryBytes * entries_.size() +
                                        kFooterBytes);
  }
  absl::Status Publish() override {
    if (published_) return absl::OkStatus();
    pending_ += EncodeIndex(entries_, sent_ + static_cast<int64_t>(pending_.size()));
    sent_ += static_cast<int64_t>(pending_.size());
    if (parts_.started()) {
      RETURN_IF_ERROR(parts_.Send(std::move(pending_)));
      RETURN_IF_ERROR(parts_.Complete());
    } else {
      RETURN_IF_ERROR(client_->Put(key_, pending_, /*if_absent=*/true));
    }
    published_ = true;
    return absl::OkStatus();
  }

 private:
  s3::Client* client_;
  const std::string name_, key_;
  PartSender parts_;
  std::string pending_;  // not yet sent
  int64_t sent_ = 0;     // bytes before pending_; once published, all of them
  std::vector<PackEntry> entries_;
  bool published_ = false;
};

// Hands out [begin, end) of a blob, reading it range by range. With block
// checksums each range is whole blocks, each checked before any of it is
// handed out; without, the whole blob is read in order and hashed, and the
// range's last bytes are handed out only once the digest has matched.
class S3Reader : public BlobReader {
 public:
  S3Reader(s3::Client* client, std::string key, std::string sha256, int64_t size,
           std::vector<uint32_t> block_sums, int64_t begin, int64_t end)
      : client_(client),
        key_(std::move(key)),
        sha256_(std::move(sha256)),
        size_(size),
        block_sums_(std::move(block_sums)),
        pos_(begin),
        end_(end),
        next_(block_sums_.empty() ? 0 : begin) {}

  int64_t size() const override { return size_; }

  // Hands out at most a block at a time (as the local store does; a gRPC
  // message must stay under 4 MiB) of what each read of the store brought.
  absl::Status Read(std::string* out) override {
    if (ready_at_ == ready_.size()) {
      RETURN_IF_ERROR(Fill(&ready_));
      ready_at_ = 0;
    }
    const size_t n = std::min<size_t>(kBlockBytes, ready_.size() - ready_at_);
    out->assign(ready_, ready_at_, n);
    ready_at_ += n;
    return absl::OkStatus();
  }

 private:
  // The next checked bytes of the range (empty at its end).
  absl::Status Fill(std::string* out) {
    out->clear();
    if (!block_sums_.empty()) {
      if (pos_ >= end_) return absl::OkStatus();
      const int64_t first = pos_ / kBlockBytes * kBlockBytes;
      const int64_t last = std::min(size_, std::min(end_, first + kReadBytes) + kBlockBytes - 1) /
                           kBlockBytes * kBlockBytes;
      const int64_t stop = std::max(last, std::min(size_, first + kBlockBytes));
      ASSIGN_OR_RETURN(std::string bytes, client_->GetBytes(key_, first, stop - first));
      if (static_cast<int64_t>(bytes.size()) != stop - first) return Damaged("is cut short");
      for (int64_t at = 0; at < stop - first; at += kBlockBytes) {
        const size_t block = static_cast<size_t>((first + at) / kBlockBytes);
        if (hash::Crc32c(absl::string_view(bytes).substr(at, kBlockBytes)) != block_sums_[block]) {
          return Damaged(absl::StrCat("block ", block, " no longer matches its checksum"));
        }
      }
      const int64_t out_end = std::min(end_, stop);
      out->assign(bytes, static_cast<size_t>(pos_ - first), static_cast<size_t>(out_end - pos_));
      pos_ = out_end;
      return absl::OkStatus();
    }
    // By digest: read on from next_, keep back what the range still needs
    // until the whole blob has been hashed.
    while (next_ < size_) {
      const int64_t n = std::min(kReadBytes, size_ - next_);
      ASSIGN_OR_RETURN(std::string bytes, client_->GetBytes(key_, next_, n));
      if (static_cast<int64_t>(bytes.size()) != n) return Damaged("is cut short");
      hash_.Update(bytes);
      const int64_t from = std::max(pos_, next_), to = std::min(end_, next_ + n);
      if (from < to) held_.append(bytes, static_cast<size_t>(from - next_), static_cast<size_t>(to - from));
      next_ += n;
      if (next_ < size_ && !held_.empty() && held_.size() >= static_cast<size_t>(kReadBytes)) {
        // Hand out all but the range's last bytes.
        const size_t give = held_.size() - std::min<size_t>(held_.size(), 1);
        out->assign(held_, 0, give);
        held_.erase(0, give);
        pos_ += static_cast<int64_t>(give);
        return absl::OkStatus();
      }
    }
    if (!checked_) {
      if (hash_.HexDigest() != sha256_) return Damaged("no longer matches its digest");
      checked_ = true;
    }
    out->swap(held_);
    held_.clear();
    pos_ = end_;
    return absl::OkStatus();
  }

  absl::Status Damaged(absl::string_view what) const {
    return absl::DataLossError(absl::StrCat("blob ", sha256_, " ", what));
  }

  s3::Client* client_;
  const std::string key_, sha256_;
  std::string ready_;  // checked, being handed out from ready_at_
  size_t ready_at_ = 0;
  const int64_t size_;
  const std::vector<uint32_t> block_sums_;
  int64_t pos_;  // the next byte to hand out
  const int64_t end_;
  int64_t next_;  // by digest: the next byte to read
  std::string held_;
  hash::Sha256 hash_;
  bool checked_ = false;
};

class S3BlobStore : public BlobStore {
 public:
  S3BlobStore(s3::Config config, std::string prefix)
      : client_(std::move(config)), prefix_(std::move(prefix)) {}

  s3::Client& client() { return client_; }

  absl::Status Init(absl::Duration abandoned_after) {
    RETURN_IF_ERROR(client_.CheckBucket());
    RemoveAbandoned(abandoned_after);
    return absl::OkStatus();
  }

  // Uploads and objects that killed writers left in incoming/.
  void RemoveAbandoned(absl::Duration abandoned_after) {
    const absl::Time stale = absl::Now() - abandoned_after;
    const std::string incoming = absl::StrCat(prefix_, "incoming/");
    std::vector<s3::MultipartUpload> uploads;
    absl::Status s = client_.ListMultipart(prefix_, [&](const s3::MultipartUpload& u) {
      if (u.initiated < stale) uploads.push_back(u);
    });
    for (const s3::MultipartUpload& u : uploads) {
      if (s.ok()) s = client_.AbortMultipart(u.key, u.upload_id);
    }
    std::vector<std::string> objects;
    if (s.ok()) {
      s = client_.List(incoming, [&](const s3::ObjectInfo& o) {
        if (o.modified < stale) objects.push_back(o.key);
      });
    }
    for (const std::string& key : objects) {
      if (s.ok()) s = client_.Delete(key);
    }
    if (!s.ok()) ARCA_LOG(WARNING) << "sweeping abandoned uploads: " << s.message();
  }

  absl::StatusOr<std::unique_ptr<BlobWriter>> NewWriter() override {
    return std::unique_ptr<BlobWriter>(
        new S3Writer(this, absl::StrCat(prefix_, "incoming/", RandomToken(24))));
  }

  absl::Status Publish(const std::vector<BlobWriter*>& sealed) override {
    absl::Status first;
    for (BlobWriter* bw : sealed) {
      auto* w = static_cast<S3Writer*>(bw);
      if (!w->sealed()) return absl::FailedPreconditionError("publishing an unsealed blob");
      absl::Status s = w->Wait();
      if (s.ok()) w->set_published();
      if (first.ok()) first = s;
    }
    return first;
  }

  // Sealed blobs going up at once (each holds up to a part in memory);
  // Seal waits for a place among them.
  void TakeFinishSlot() {
    absl::MutexLock lock(&finishing_mu_);
    finishing_mu_.Await(absl::Condition(
        +[](int* n) { return *n < kFinishingAtOnce; }, &finishing_));
    ++finishing_;
  }
  void GiveFinishSlot() {
    absl::MutexLock lock(&finishing_mu_);
    --finishing_;
  }

  // The sealed blob under its digest, its bytes from `bytes` with one PUT
  // or copied on the server from `incoming`. Its block checksums go in its
  // metadata, or, for a blob too large for that, beside it as .blocks (the
  // two go up at once: a reader that finds the blob before its checksums
  // reads it whole and checks its digest, as it does a blob whose checksums
  // were lost). A blob already there is not written again, only marked as
  // just written.
  absl::Status Place(const BlobInfo& info, const std::vector<uint32_t>& block_sums,
                     absl::string_view bytes, const std::string& incoming) {
    const std::string key = KeyOf(info.sha256);
    s3::Metadata metadata;
    std::future<absl::Status> sums;
    if (info.size > kMaxSummedInMetadata) {
      sums = std::async(std::launch::async, [&] {
        return client_.Put(absl::StrCat(key, kBlocksSuffix), EncodeBlockSums(info.size, block_sums));
      });
    } else if (info.size > kBlockBytes) {
      metadata.emplace_back(kSumsMetadata, absl::Base64Escape(EncodeBlockSums(info.size, block_sums)));
    }
    absl::Status s;
    if (incoming.empty()) {
      s = client_.Put(key, bytes, /*if_absent=*/true, metadata);
      if (absl::IsAlreadyExists(s)) s = client_.Copy(key, key, metadata, info.size);
    } else {
      s = client_.Head(key).status();
      if (s.ok()) {
        s = client_.Copy(key, key, metadata, info.size);
      } else if (absl::IsNotFound(s)) {
        s = client_.Copy(incoming, key, metadata, info.size);
      }
    }
    if (sums.valid()) {
      absl::Status summed = sums.get();
      if (s.ok()) s = summed;
    }
    return s;
  }

  absl::StatusOr<std::unique_ptr<BlobReader>> Open(absl::string_view sha256, int64_t offset,
                                                   int64_t length) override {
    RETURN_IF_ERROR(CheckDigest(sha256));
    ASSIGN_OR_RETURN(const s3::ObjectInfo info, HeadBlob(sha256));
    if (offset < 0 || offset > info.size) {
      return absl::InvalidArgumentError(absl::StrCat("offset ", offset, " is outside blob ",
                                                     sha256, " of ", info.size, " bytes"));
    }
    const int64_t end = length < 0 || length > info.size - offset ? info.size : offset + length;
    std::vector<uint32_t> sums;
    std::string encoded;
    for (const auto& [name, value] : info.metadata) {
      if (name == kSumsMetadata && absl::Base64Unescape(value, &encoded)) {
        sums = DecodeBlockSums(encoded, info.size);
      }
    }
    if (sums.empty() && info.size > kBlockBytes) {  // or written before checksums were metadata
      auto bytes = client_.GetBytes(absl::StrCat(KeyOf(sha256), kBlocksSuffix));
      if (bytes.ok()) sums = DecodeBlockSums(*bytes, info.size);
      else if (!absl::IsNotFound(bytes.status())) return bytes.status();
    }
    return std::unique_ptr<BlobReader>(new S3Reader(&client_, KeyOf(sha256), std::string(sha256),
                                                    info.size, std::move(sums), offset, end));
  }

  absl::StatusOr<std::unique_ptr<BlobReader>> OpenAt(const Location& where,
                                                     absl::string_view sha256, int64_t offset,
                                                     int64_t length) override {
    if (!where.packed()) return Open(sha256, offset, length);
    RETURN_IF_ERROR(CheckDigest(sha256));
    ASSIGN_OR_RETURN(const std::string key, PackKey(where.pack));
    // The header and, most often, the whole record in one read.
    auto first = client_.GetBytes(key, where.offset, kRecordHeaderBytes + (256 << 10));
    if (absl::IsOutOfRange(first.status())) first = absl::DataLossError("the record is past the pack's end");
    if (!first.ok()) return InPack(where.pack, first.status());
    auto h = CheckRecordHeader(absl::string_view(*first).substr(0, kRecordHeaderBytes),
                               where.offset, sha256);
    if (!h.ok()) return InPack(where.pack, h.status());
    std::string bytes = first->substr(std::min(first->size(), kRecordHeaderBytes));
    if (static_cast<int64_t>(bytes.size()) < h->size) {
      ASSIGN_OR_RETURN(std::string rest,
                       client_.GetBytes(key, where.offset + static_cast<int64_t>(kRecordHeaderBytes + bytes.size()),
                                        h->size - static_cast<int64_t>(bytes.size())));
      bytes += rest;
    }
    bytes.resize(std::min<size_t>(bytes.size(), static_cast<size_t>(h->size)));
    if (absl::Status s = CheckRecordBytes(bytes, *h, where.offset); !s.ok()) return InPack(where.pack, s);
    const auto size = static_cast<int64_t>(bytes.size());
    if (offset < 0 || offset > size) {
      return absl::InvalidArgumentError(absl::StrCat("offset ", offset, " is outside blob ",
                                                     sha256, " of ", size, " bytes"));
    }
    const int64_t end = length < 0 || length > size - offset ? size : offset + length;
    return std::unique_ptr<BlobReader>(new CheckedBytesReader(std::move(bytes), offset, end));
  }

  absl::StatusOr<std::unique_ptr<PackWriter>> NewPackWriter() override {
    const std::string name = NewPackName();
    ASSIGN_OR_RETURN(std::string key, PackKey(name));
    return std::unique_ptr<PackWriter>(new S3PackWriter(&client_, name, std::move(key)));
  }

  absl::Status ListPacks(const std::function<void(const PackInfo&)>& fn) override {
    const std::string packs = absl::StrCat(prefix_, "packs/");
    return client_.List(packs, [&](const s3::ObjectInfo& o) {
      const std::string name = o.key.substr(packs.size());
      if (CheckPackName(name).ok()) fn(PackInfo{name, o.size, o.modified});
    });
  }

  absl::StatusOr<std::vector<PackEntry>> ReadPackIndex(absl::string_view pack) override {
    ASSIGN_OR_RETURN(const std::string key, PackKey(pack));
    int64_t records_end = 0;
    return IndexOf(pack, key, &records_end);
  }

  absl::Status ReadPack(
      absl::string_view pack,
      const std::function<absl::Status(const PackEntry&, absl::string_view)>& fn) override {
    ASSIGN_OR_RETURN(const std::string key, PackKey(pack));
    int64_t records_end = 0;
    ASSIGN_OR_RETURN(const std::vector<PackEntry> entries, IndexOf(pack, key, &records_end));
    // Records in runs of about kReadBytes, one read each.
    for (size_t i = 0; i < entries.size();) {
      const int64_t from = entries[i].offset;
      size_t j = i;
      int64_t to = from;
      while (j < entries.size() && (j == i || to - from < kReadBytes)) {
        to = entries[j].offset + static_cast<int64_t>(kRecordHeaderBytes) + entries[j].size;
        ++j;
      }
      ASSIGN_OR_RETURN(const std::string run, client_.GetBytes(key, from, to - from));
      for (; i < j; ++i) {
        const PackEntry& e = entries[i];
        const absl::string_view record = absl::string_view(run).substr(static_cast<size_t>(e.offset - from));
        auto h = CheckRecordHeader(record.substr(0, kRecordHeaderBytes), e.offset, e.sha256);
        if (!h.ok()) return InPack(pack, h.status());
        const absl::string_view bytes = record.substr(kRecordHeaderBytes, static_cast<size_t>(h->size));
        if (absl::Status s = CheckRecordBytes(bytes, *h, e.offset); !s.ok()) return InPack(pack, s);
        RETURN_IF_ERROR(fn(e, bytes));
      }
    }
    return absl::OkStatus();
  }

  absl::Status DeletePack(absl::string_view pack) override {
    ASSIGN_OR_RETURN(const std::string key, PackKey(pack));
    return client_.Delete(key);
  }

  absl::StatusOr<BlobInfo> Stat(absl::string_view sha256) override {
    RETURN_IF_ERROR(CheckDigest(sha256));
    ASSIGN_OR_RETURN(const s3::ObjectInfo info, HeadBlob(sha256));
    return BlobInfo{std::string(sha256), info.size, info.modified};
  }

  absl::Status Delete(absl::string_view sha256) override {
    RETURN_IF_ERROR(CheckDigest(sha256));
    // The blob first: a failure in between leaves checksums without their
    // blob, which a later Publish of the same bytes rewrites, never a blob
    // whose checksums are gone.
    RETURN_IF_ERROR(client_.Delete(KeyOf(sha256)));
    return client_.Delete(absl::StrCat(KeyOf(sha256), kBlocksSuffix));
  }

  // S3 has no conditional delete: a Publish of the same bytes that marks the
  // blob as just written between the check and the delete loses its copy.
  // The orphan sweep's grace period (far longer than an upload's commit)
  // makes that window unreachable in practice.
  absl::StatusOr<bool> DeleteIfIdle(absl::string_view sha256, absl::Time written_before) override {
    auto info = Stat(sha256);
    if (absl::IsNotFound(info.status())) return true;
    if (!info.ok()) return info.status();
    if (info->modified >= written_before) return false;
    RETURN_IF_ERROR(Delete(sha256));
    return true;
  }

  absl::Status List(const std::function<void(const BlobInfo&)>& fn) override {
    const std::string blobs = absl::StrCat(prefix_, "blobs/");
    return client_.List(blobs, [&](const s3::ObjectInfo& o) {
      const std::string sha = absl::StrReplaceAll(o.key.substr(blobs.size()), {{"/", ""}});
      if (IsSha256Hex(sha)) fn(BlobInfo{sha, o.size, o.modified});
    });
  }

  absl::Status CheckWritable() override {
    return client_.Put(absl::StrCat(prefix_, "readiness-probe"), "");
  }
  absl::Status CheckReadable() override { return client_.CheckBucket(); }

  absl::StatusOr<std::string> PresignedUrl(absl::string_view sha256,
                                           absl::Duration lifetime) override {
    RETURN_IF_ERROR(CheckDigest(sha256));
    return client_.PresignGet(KeyOf(sha256), lifetime);
  }

  absl::StatusOr<Space> FreeSpace() override {
    return absl::UnimplementedError("an object store has no disk of its own to measure");
  }

  std::string KeyOf(absl::string_view sha256) const {
    return absl::StrCat(prefix_, "blobs/", sha256.substr(0, 2), "/", sha256.substr(2));
  }

 private:
  absl::StatusOr<std::string> PackKey(absl::string_view pack) const {
    RETURN_IF_ERROR(CheckPackName(pack));
    return absl::StrCat(prefix_, "packs/", pack);
  }

  absl::StatusOr<s3::ObjectInfo> HeadBlob(absl::string_view sha256) {
    auto info = client_.Head(KeyOf(sha256));
    if (absl::IsNotFound(info.status())) return absl::NotFoundError(absl::StrCat("no blob ", sha256));
    return info;
  }

  static absl::Status InPack(absl::string_view pack, const absl::Status& s) {
    if (absl::IsNotFound(s)) return absl::NotFoundError(absl::StrCat("no pack ", pack));
    if (!absl::IsDataLoss(s)) return s;
    return absl::DataLossError(absl::StrCat("pack ", pack, ": ", s.message()));
  }

  absl::StatusOr<std::vector<PackEntry>> IndexOf(absl::string_view pack, const std::string& key,
                                                 int64_t* records_end) {
    auto head = client_.Head(key);
    if (!head.ok()) return InPack(pack, head.status());
    std::string footer;
    if (head->size >= static_cast<int64_t>(kFooterBytes)) {
      ASSIGN_OR_RETURN(footer, client_.GetBytes(key, head->size - kFooterBytes, kFooterBytes));
    }
    auto f = DecodeFooter(footer, head->size);
    if (!f.ok()) return InPack(pack, f.status());
    ASSIGN_OR_RETURN(const std::string index,
                     client_.GetBytes(key, f->index_offset,
                                      static_cast<int64_t>(f->count * kIndexEntryBytes)));
    auto entries = DecodeIndex(index, footer);
    if (!entries.ok()) return InPack(pack, entries.status());
    *records_end = f->index_offset;
    return entries;
  }

  static constexpr int kFinishingAtOnce = 8;
  s3::Client client_;
  const std::string prefix_;  // "" or ending in '/'
  absl::Mutex finishing_mu_;
  int finishing_ ABSL_GUARDED_BY(finishing_mu_) = 0;
};

S3Writer::S3Writer(S3BlobStore* store, std::string incoming_key)
    : store_(store), incoming_key_(incoming_key), parts_(&store->client(), std::move(incoming_key)) {}

S3Writer::~S3Writer() {
  if (finishing_.valid()) finishing_.wait();
  if (in_incoming_) (void)store_->client().Delete(incoming_key_);
}

absl::StatusOr<BlobInfo> S3Writer::Seal(absl::string_view expected_sha256) {
  if (ended_) return absl::FailedPreconditionError("blob writer already sealed");
  ended_ = true;
  info_ = BlobInfo{hash_.HexDigest(), size_, absl::Now(), crc32c_};
  if (!expected_sha256.empty() && expected_sha256 != info_.sha256) {
    (void)parts_.Abort();
    return absl::DataLossError(absl::StrCat("content has sha256 ", info_.sha256,
                                            ", not the declared ", expected_sha256));
  }
  if (!parts_.started()) {
    SumBlocks(buffer_);
  } else if (!buffer_.empty()) {
    RETURN_IF_ERROR(SendBuffer());
  }
  store_->TakeFinishSlot();
  finishing_ = std::async(std::launch::async, [this] {
    absl::Status s = Finish();
    store_->GiveFinishSlot();
    return s;
  });
  sealed_ = true;
  return info_;
}

absl::Status S3Writer::Finish() {
  if (!parts_.started()) return store_->Place(info_, block_sums_, buffer_, "");
  RETURN_IF_ERROR(parts_.Complete());
  in_incoming_ = true;
  RETURN_IF_ERROR(store_->Place(info_, block_sums_, "", incoming_key_));
  RETURN_IF_ERROR(store_->client().Delete(incoming_key_));
  in_incoming_ = false;
  return absl::OkStatus();
}

absl::StatusOr<BlobInfo> S3Writer::Commit(absl::string_view expected_sha256) {
  ASSIGN_OR_RETURN(BlobInfo info, Seal(expected_sha256));
  RETURN_IF_ERROR(store_->Publish({this}));
  return info;
}

}  // namespace

absl::StatusOr<std::unique_ptr<BlobStore>> OpenS3BlobStore(const std::string& url,
                                                           const std::string& endpoint,
                                                           absl::Duration abandoned_after) {
  ASSIGN_OR_RETURN(s3::Location where, s3::ParseUrl(url));
  s3::Config config;
  config.endpoint = endpoint;
  config.bucket = std::move(where.bucket);
  std::string prefix = std::move(where.prefix);
  RETURN_IF_ERROR(s3::ConfigFromEnvironment(&config));
  auto store = std::make_unique<S3BlobStore>(std::move(config), std::move(prefix));
  RETURN_IF_ERROR(store->Init(abandoned_after));
  return std::unique_ptr<BlobStore>(std::move(store));
}

}  // namespace arca::blob
