// The catalog: expiry, deletion marks, and the blobs files refer to.

#include "services/catalog/catalog.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/page_token.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "services/catalog/keys.h"
#include "services/catalog/store.h"
#include "services/catalog/validation.h"

namespace arca::catalog {
namespace {

// Pairs per key of a compacted pack's map (keys.h).
constexpr size_t kMapChunkPairs = 1024;

}  // namespace

// Reads a compacted pack's map, fastest for offsets near the last one.
class OffsetMap {
 public:
  OffsetMap(std::unique_ptr<rocksdb::Iterator> it, absl::string_view pack)
      : it_(std::move(it)), pack_(pack), prefix_(MapPrefix(pack)) {}

  // Where the record first written at `offset` is in the pack's file now;
  // nullopt if the map does not have it.
  absl::StatusOr<std::optional<uint64_t>> Find(uint64_t offset) {
    if (chunk_.empty() || offset < First(0) || offset > First(chunk_.size() / 16 - 1)) {
      it_->SeekForPrev(MapKey(pack_, offset));
      RETURN_IF_ERROR(FromRocks(it_->status()));
      if (!it_->Valid() || !it_->key().starts_with(prefix_)) return std::nullopt;
      if (it_->value().size() == 0 || it_->value().size() % 16 != 0) {
        return Corrupt(it_->key().ToString());
      }
      chunk_ = absl::string_view(it_->value().data(), it_->value().size());
    }
    size_t lo = 0, hi = chunk_.size() / 16;
    while (lo < hi) {
      const size_t mid = (lo + hi) / 2;
      if (First(mid) < offset) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    if (lo == chunk_.size() / 16 || First(lo) != offset) return std::nullopt;
    return ReadBe64(chunk_.data() + lo * 16 + 8);
  }

 private:
  uint64_t First(size_t pair) const { return ReadBe64(chunk_.data() + pair * 16); }

  std::unique_ptr<rocksdb::Iterator> it_;
  const std::string pack_, prefix_;
  absl::string_view chunk_;  // the pairs last read: it_'s value
};

// ---------------------------------------------------------- retention-gc

absl::StatusOr<v1::ListExpiredFilesResponse> Catalog::ListExpiredFiles(
    const v1::ListExpiredFilesRequest& request) {
  ASSIGN_OR_RETURN(int page_size, CheckPageSize(request.page_size()));
  ASSIGN_OR_RETURN(std::string after, DecodePageToken("expired", request.page_token()));
  const std::string end = absl::StrCat("e/", Be64(Micros(request.before())));
  Reader r(db_.get());
  v1::ListExpiredFilesResponse response;
  auto it = r.Iterate();
  for (it->Seek(after.empty() ? "e/" : after); it->Valid() && it->key().compare(end) < 0;
       it->Next()) {
    if (!after.empty() && it->key() == after) continue;
    if (response.entries_size() == page_size) {
      // The last entry's key is rebuilt from the entry itself.
      const v1::ExpiryEntry& last = *response.entries().rbegin();
      v1::ArtifactFile f;
      f.set_job_id(last.job_id());
      f.set_path(last.path());
      *f.mutable_expires_at() = last.expires_at();
      response.set_next_page_token(EncodePageToken("expired", ExpiryKey(f)));
      break;
    }
    absl::string_view rest(it->key().data() + 10, it->key().size() - 10);
    size_t nul = rest.find('\0');
    if (nul == absl::string_view::npos) return Corrupt(it->key().ToString());
    v1::ExpiryEntry* e = response.add_entries();
    e->set_job_id(std::string(rest.substr(0, nul)));
    e->set_path(std::string(rest.substr(nul + 1)));
    ASSIGN_OR_RETURN(bool found, r.Get(FileKey(e->job_id(), e->path()), e->mutable_file()));
    if (!found) return Corrupt(it->key().ToString());
    *e->mutable_expires_at() = ToProtoTime(
        absl::FromUnixMicros(static_cast<int64_t>(ReadBe64(it->key().data() + 2))));
  }
  RETURN_IF_ERROR(FromRocks(it->status()));
  return response;
}

absl::StatusOr<v1::MarkFilesDeletedResponse> Catalog::MarkFilesDeleted(
    const v1::MarkFilesDeletedRequest& request) {
  RETURN_IF_ERROR(CheckJobId(request.job_id()));
  for (const std::string& p : request.paths()) RETURN_IF_ERROR(ValidateArtifactPath(p));
  // Lock the job and the blobs the files point at; the files are read first
  // to learn the blobs, then re-read under the locks.
  std::vector<std::string> lock_keys = {JobKey(request.job_id())};
  for (int attempt = 0; attempt < 8; ++attempt) {
    KeyLocks::Held held(locks_.get(), lock_keys);
    Reader r(db_.get());
    v1::Job job;
    ASSIGN_OR_RETURN(bool job_exists, r.Get(JobKey(request.job_id()), &job));
    const absl::Time now = clock_->Now();
    rocksdb::WriteBatch batch;
    v1::MarkFilesDeletedResponse response;
    absl::flat_hash_map<std::string, v1::BlobRef> blobs;
    bool relock = false;
    for (const std::string& path : request.paths()) {
      v1::ArtifactFile f;
      ASSIGN_OR_RETURN(bool exists, r.Get(FileKey(request.job_id(), path), &f));
      if (!exists || f.state() == types::v1::FILE_STATE_DELETED) {
        response.set_already_deleted(response.already_deleted() + 1);
        continue;
      }
      const std::string blob_key = BlobKey(f.sha256());
      if (std::find(lock_keys.begin(), lock_keys.end(), blob_key) == lock_keys.end()) {
        lock_keys.push_back(blob_key);
        relock = true;
        continue;
      }
      if (f.has_expires_at()) batch.Delete(ExpiryKey(f));
      if (job_exists) {
        f.set_state(types::v1::FILE_STATE_DELETED);
        *f.mutable_deleted_at() = ToProtoTime(now);
        batch.Put(FileKey(f.job_id(), f.path()), f.SerializeAsString());
      } else {
        batch.Delete(FileKey(f.job_id(), f.path()));
      }
      auto [bit, first] = blobs.try_emplace(f.sha256());
      if (first) {
        ASSIGN_OR_RETURN(bool known, r.Get(blob_key, &bit->second));
        if (!known) bit->second.set_sha256(f.sha256());
      }
      bit->second.set_refcount(std::max<int64_t>(0, bit->second.refcount() - 1));
      response.set_deleted(response.deleted() + 1);
    }
    if (relock) continue;
    for (auto& [sha, blob] : blobs) {
      if (blob.refcount() == 0) {
        response.add_unreferenced_blobs(sha);
        // A packed blob's pack is accounted for by ForgetBlob.
        if (request.forget_unreferenced_blobs() && !blob.has_location()) {
          batch.Delete(BlobKey(sha));
          continue;
        }
        *blob.mutable_unreferenced_since() = ToProtoTime(now);
        batch.Put(UnrefKey(blob), "");
      }
      batch.Put(BlobKey(sha), blob.SerializeAsString());
    }
    RETURN_IF_ERROR(Write(batch));
    return response;
  }
  return absl::AbortedError("files changed concurrently; retry");
}

absl::StatusOr<v1::BlobRef> Catalog::GetBlobRef(absl::string_view sha256) {
  if (!IsSha256Hex(sha256)) {
    return absl::InvalidArgumentError("sha256 must be 64 lowercase hex digits");
  }
  Reader r(db_.get());
  v1::BlobRef b;
  ASSIGN_OR_RETURN(bool found, r.Get(BlobKey(sha256), &b));
  if (!found) return absl::NotFoundError(absl::StrCat("no blob record for ", sha256));
  RETURN_IF_ERROR(Locator(r).Locate(&b));
  return b;
}

absl::StatusOr<v1::GetBlobRefsResponse> Catalog::GetBlobRefs(
    const v1::GetBlobRefsRequest& request) {
  if (request.sha256s_size() > 10000) {
    return absl::InvalidArgumentError("at most 10,000 digests per call");
  }
  Reader r(db_.get());
  v1::GetBlobRefsResponse response;
  Locator locator(r);
  for (const std::string& sha : request.sha256s()) {
    if (!IsSha256Hex(sha)) {
      return absl::InvalidArgumentError(
          absl::StrCat("sha256 must be 64 lowercase hex digits, got \"", sha.substr(0, 80), "\""));
    }
    v1::BlobRef* b = response.add_blobs();
    ASSIGN_OR_RETURN(bool found, r.Get(BlobKey(sha), b));
    if (!found) b->set_sha256(sha);
    RETURN_IF_ERROR(locator.Locate(b));
  }
  return response;
}

absl::StatusOr<v1::ListUnreferencedBlobsResponse> Catalog::ListUnreferencedBlobs(
    const v1::ListUnreferencedBlobsRequest& request) {
  ASSIGN_OR_RETURN(int page_size, CheckPageSize(request.page_size()));
  ASSIGN_OR_RETURN(std::string after, DecodePageToken("unreferenced", request.page_token()));
  const std::string end = absl::StrCat("u/", Be64(Micros(request.before())));
  Reader r(db_.get());
  v1::ListUnreferencedBlobsResponse response;
  auto it = r.Iterate();
  std::string last_key;
  for (it->Seek(after.empty() ? "u/" : after); it->Valid() && it->key().compare(end) < 0;
       it->Next()) {
    if (!after.empty() && it->key() == after) continue;
    if (response.blobs_size() == page_size) {
      response.set_next_page_token(EncodePageToken("unreferenced", last_key));
      break;
    }
    std::string sha = it->key().ToString().substr(10);
    v1::BlobRef b;
    ASSIGN_OR_RETURN(bool found, r.Get(BlobKey(sha), &b));
    if (!found) return Corrupt(it->key().ToString());
    *response.add_blobs() = std::move(b);
    last_key = it->key().ToString();
  }
  RETURN_IF_ERROR(FromRocks(it->status()));
  return response;
}

absl::Status Catalog::ForgetBlob(const v1::ForgetBlobRequest& request) {
  if (!IsSha256Hex(request.sha256())) {
    return absl::InvalidArgumentError("sha256 must be 64 lowercase hex digits");
  }
  // The blob's pack (if any) is locked with it; it is learnt by a first
  // read and checked under the locks.
  std::string pack;
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::vector<std::string> lock_keys = {BlobKey(request.sha256())};
    if (!pack.empty()) lock_keys.push_back(PackKey(pack));
    KeyLocks::Held held(locks_.get(), lock_keys);
    Reader r(db_.get());
    v1::BlobRef b;
    ASSIGN_OR_RETURN(bool found, r.Get(BlobKey(request.sha256()), &b));
    if (!found) return absl::NotFoundError(absl::StrCat("no blob record for ", request.sha256()));
    if (b.refcount() > 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("blob ", b.sha256(), " is referenced by ", b.refcount(), " file(s)"));
    }
    if (Micros(b.unreferenced_since()) >= Micros(request.unreferenced_before())) {
      return absl::FailedPreconditionError(
          absl::StrCat("blob ", b.sha256(), " has been unreferenced only since ",
                       FormatRfc3339(FromProtoTime(b.unreferenced_since()))));
    }
    if (b.location().pack() != pack) {
      pack = b.location().pack();
      continue;
    }
    rocksdb::WriteBatch batch;
    batch.Delete(BlobKey(b.sha256()));
    batch.Delete(UnrefKey(b));
    if (!pack.empty()) batch.Delete(LiveKey(b.location()));
    v1::Pack p;
    ASSIGN_OR_RETURN(bool has_pack, pack.empty() ? false : r.Get(PackKey(pack), &p));
    if (has_pack) {
      p.set_live_bytes(std::max<int64_t>(0, p.live_bytes() - b.size()));
      p.set_live_blobs(std::max<int64_t>(0, p.live_blobs() - 1));
      batch.Put(PackKey(pack), p.SerializeAsString());
    }
    return Write(batch);
  }
  return absl::AbortedError("the blob moved concurrently; retry");
}

Catalog::Locator::Locator(Reader& r) : r_(r) {}
Catalog::Locator::~Locator() = default;

absl::Status Catalog::Locator::Locate(v1::BlobRef* blob) {
  if (blob->location().pack().empty()) return absl::OkStatus();
  v1::BlobLocation* where = blob->mutable_location();
  auto [it, first] = packs_.try_emplace(where->pack());
  Pack& pack = it->second;
  if (first) {
    v1::Pack p;
    ASSIGN_OR_RETURN(bool found, r_.Get(PackKey(where->pack()), &p));
    if (!found) return Corrupt(PackKey(where->pack()));
    pack.file = p.file();
    if (!pack.file.empty()) pack.map = std::make_unique<OffsetMap>(r_.Iterate(), p.name());
  }
  if (pack.file.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::optional<uint64_t> now,
                   pack.map->Find(static_cast<uint64_t>(where->offset())));
  if (!now.has_value()) return Corrupt(LiveKey(*where));
  where->set_pack(pack.file);
  where->set_offset(static_cast<int64_t>(*now));
  return absl::OkStatus();
}

absl::StatusOr<v1::ListPacksResponse> Catalog::ListPacks(const v1::ListPacksRequest& request) {
  ASSIGN_OR_RETURN(int page_size, CheckPageSize(request.page_size()));
  const char* kind = request.retired() ? "retired packs" : "packs";
  ASSIGN_OR_RETURN(std::string after, DecodePageToken(kind, request.page_token()));
  const std::string prefix = request.retired() ? RetiredKey("") : PackKey("");
  Reader r(db_.get());
  v1::ListPacksResponse response;
  auto it = r.Iterate();
  for (it->Seek(prefix + after); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (!after.empty() && it->key() == prefix + after) continue;
    if (response.packs_size() == page_size) {
      response.set_next_page_token(EncodePageToken(kind, response.packs().rbegin()->name()));
      break;
    }
    if (!response.add_packs()->ParseFromArray(it->value().data(), it->value().size())) {
      return Corrupt(it->key().ToString());
    }
  }
  RETURN_IF_ERROR(FromRocks(it->status()));
  return response;
}

absl::StatusOr<v1::ListPackedBlobsResponse> Catalog::ListPackedBlobs(
    const v1::ListPackedBlobsRequest& request) {
  if (!IsPackName(request.pack())) return absl::InvalidArgumentError("pack is not a pack's name");
  ASSIGN_OR_RETURN(int page_size, CheckPageSize(request.page_size(), 100000, 100000));
  const std::string kind = absl::StrCat("packed:", request.pack());
  ASSIGN_OR_RETURN(std::string after, DecodePageToken(kind, request.page_token()));
  Reader r(db_.get());
  v1::Pack p;
  ASSIGN_OR_RETURN(bool found, r.Get(PackKey(request.pack()), &p));
  if (!found) return absl::NotFoundError(absl::StrCat("no pack ", request.pack()));
  v1::ListPackedBlobsResponse response;
  response.set_file(FileOf(p));
  const std::string prefix = LivePrefix(request.pack());
  OffsetMap map(r.Iterate(), p.name());
  auto it = r.Iterate();
  for (it->Seek(prefix + after); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (!after.empty() && it->key() == prefix + after) continue;
    if (it->key().size() != prefix.size() + 8) return Corrupt(it->key().ToString());
    if (response.offsets_size() == page_size) {
      response.set_next_page_token(
          EncodePageToken(kind, Be64(*response.offsets().rbegin())));
      break;
    }
    const uint64_t offset = ReadBe64(it->key().data() + prefix.size());
    std::optional<uint64_t> now = offset;
    if (!p.file().empty()) {
      ASSIGN_OR_RETURN(now, map.Find(offset));
    }
    if (!now.has_value()) return Corrupt(it->key().ToString());
    response.add_offsets(offset);
    response.add_file_offsets(*now);
  }
  RETURN_IF_ERROR(FromRocks(it->status()));
  return response;
}

absl::StatusOr<v1::MovePackedBlobsResponse> Catalog::MovePackedBlobs(
    const v1::MovePackedBlobsRequest& request) {
  const bool to_new = request.has_to();
  if (!IsPackName(request.pack()) || !IsPackName(request.from()) ||
      (to_new && (!IsPackName(request.to().name()) || request.to().name() == request.from() ||
                  request.to().name() == request.pack() || request.to().size() <= 0))) {
    return absl::InvalidArgumentError(
        "pack, from and to must be packs' names, to a new one (with a size)");
  }
  if (request.offsets_size() != request.to_offsets_size()) {
    return absl::InvalidArgumentError("offsets and to_offsets must pair up");
  }
  if (!to_new && request.offsets_size() > 0) {
    return absl::InvalidArgumentError("moves need the pack file they go to");
  }
  for (int i = 1; i < request.offsets_size(); ++i) {
    if (request.offsets(i) <= request.offsets(i - 1)) {
      return absl::InvalidArgumentError("offsets must ascend");
    }
  }
  KeyLocks::Held held(locks_.get(), {PackKey(request.pack())});
  Reader r(db_.get());
  v1::Pack p;
  ASSIGN_OR_RETURN(bool found, r.Get(PackKey(request.pack()), &p));
  if (!found) return absl::NotFoundError(absl::StrCat("no pack ", request.pack()));
  const std::string held_by = FileOf(p);
  if (held_by != request.from()) {
    return absl::FailedPreconditionError(absl::StrCat("pack ", p.name(), " is held by file ",
                                                      held_by, ", not ", request.from()));
  }
  if (to_new) {
    v1::Pack retired;
    ASSIGN_OR_RETURN(bool taken, r.Get(RetiredKey(request.to().name()), &retired));
    if (taken) return absl::AlreadyExistsError(absl::StrCat("pack file ", retired.name(), " exists"));
  }
  // The pack's map is rewritten with the live records' new offsets; one
  // not copied stops it all.
  rocksdb::WriteBatch batch;
  auto it = r.Iterate();
  const std::string map_prefix = MapPrefix(p.name());
  for (it->Seek(map_prefix); it->Valid() && it->key().starts_with(map_prefix); it->Next()) {
    batch.Delete(it->key());
  }
  RETURN_IF_ERROR(FromRocks(it->status()));
  v1::MovePackedBlobsResponse response;
  std::string chunk;
  uint64_t chunk_from = 0;
  auto put_chunk = [&] {
    if (!chunk.empty()) batch.Put(MapKey(p.name(), chunk_from), chunk);
    chunk.clear();
  };
  const std::string prefix = LivePrefix(p.name());
  int i = 0;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->key().size() != prefix.size() + 8) return Corrupt(it->key().ToString());
    const uint64_t offset = ReadBe64(it->key().data() + prefix.size());
    while (i < request.offsets_size() && request.offsets(i) < offset) ++i;
    if (i == request.offsets_size() || request.offsets(i) != offset) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the live record at offset ", offset, " of pack ", p.name(), " was not copied"));
    }
    if (chunk.empty()) chunk_from = offset;
    absl::StrAppend(&chunk, Be64(offset), Be64(request.to_offsets(i)));
    if (chunk.size() == kMapChunkPairs * 16) put_chunk();
    response.set_moved(response.moved() + 1);
  }
  RETURN_IF_ERROR(FromRocks(it->status()));
  put_chunk();
  const absl::Time now = clock_->Now();
  v1::Pack retired;
  retired.set_name(held_by);
  retired.set_size(p.size());
  *retired.mutable_created_at() = p.created_at();
  *retired.mutable_retired_at() = ToProtoTime(now);
  batch.Put(RetiredKey(held_by), retired.SerializeAsString());
  if (to_new) {
    p.set_file(request.to().name());
    p.set_size(request.to().size());
    p.set_blobs(request.to().blobs());
    p.set_blob_bytes(request.to().blob_bytes());
    batch.Put(PackKey(p.name()), p.SerializeAsString());
  } else {
    batch.Delete(PackKey(p.name()));  // no blob record points into it
  }
  RETURN_IF_ERROR(Write(batch));
  return response;
}

absl::Status Catalog::ForgetPack(const v1::ForgetPackRequest& request) {
  if (!IsPackName(request.name())) return absl::InvalidArgumentError("not a pack's name");
  KeyLocks::Held held(locks_.get(), {RetiredKey(request.name())});
  Reader r(db_.get());
  v1::Pack p;
  ASSIGN_OR_RETURN(bool found, r.Get(RetiredKey(request.name()), &p));
  if (!found) return absl::NotFoundError(absl::StrCat("no retired pack file ", request.name()));
  if (Micros(p.retired_at()) >= Micros(request.retired_before())) {
    return absl::FailedPreconditionError(
        absl::StrCat("pack file ", p.name(), " was retired only recently"));
  }
  rocksdb::WriteBatch batch;
  batch.Delete(RetiredKey(p.name()));
  return Write(batch);
}

}  // namespace arca::catalog
