// The catalog: expiry, deletion marks, and the blobs files refer to.

#include "services/catalog/catalog.h"

#include <algorithm>
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
  return b;
}

absl::StatusOr<v1::GetBlobRefsResponse> Catalog::GetBlobRefs(
    const v1::GetBlobRefsRequest& request) {
  if (request.sha256s_size() > 10000) {
    return absl::InvalidArgumentError("at most 10,000 digests per call");
  }
  Reader r(db_.get());
  v1::GetBlobRefsResponse response;
  for (const std::string& sha : request.sha256s()) {
    if (!IsSha256Hex(sha)) {
      return absl::InvalidArgumentError(
          absl::StrCat("sha256 must be 64 lowercase hex digits, got \"", sha.substr(0, 80), "\""));
    }
    v1::BlobRef* b = response.add_blobs();
    ASSIGN_OR_RETURN(bool found, r.Get(BlobKey(sha), b));
    if (!found) b->set_sha256(sha);
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

absl::StatusOr<v1::ListPacksResponse> Catalog::ListPacks(const v1::ListPacksRequest& request) {
  ASSIGN_OR_RETURN(int page_size, CheckPageSize(request.page_size()));
  ASSIGN_OR_RETURN(std::string after, DecodePageToken("packs", request.page_token()));
  Reader r(db_.get());
  v1::ListPacksResponse response;
  auto it = r.Iterate();
  for (it->Seek(PackKey(after)); it->Valid() && it->key().starts_with("p/"); it->Next()) {
    if (!after.empty() && it->key() == PackKey(after)) continue;
    if (response.packs_size() == page_size) {
      response.set_next_page_token(EncodePageToken("packs", response.packs().rbegin()->name()));
      break;
    }
    if (!response.add_packs()->ParseFromArray(it->value().data(), it->value().size())) {
      return Corrupt(it->key().ToString());
    }
  }
  RETURN_IF_ERROR(FromRocks(it->status()));
  return response;
}

absl::StatusOr<v1::MovePackedBlobsResponse> Catalog::MovePackedBlobs(
    const v1::MovePackedBlobsRequest& request) {
  const bool to_new = request.has_to();
  if (!IsPackName(request.from()) || (to_new && (!IsPackName(request.to().name()) ||
                                                 request.to().name() == request.from() ||
                                                 request.to().size() <= 0))) {
    return absl::InvalidArgumentError("from and to must be two packs' names (and to a size)");
  }
  if (!to_new && request.moves_size() > 0) {
    return absl::InvalidArgumentError("moves need the pack they go to");
  }
  if (request.moves_size() > kMaxFilesPerCommit) {
    return absl::InvalidArgumentError("too many moves in one call");
  }
  std::vector<std::string> lock_keys = {PackKey(request.from())};
  if (to_new) lock_keys.push_back(PackKey(request.to().name()));
  for (const auto& m : request.moves()) {
    if (!IsSha256Hex(m.sha256()) || m.from_offset() < 0 || m.to_offset() < 0) {
      return absl::InvalidArgumentError("a move needs a digest and two offsets");
    }
    lock_keys.push_back(BlobKey(m.sha256()));
  }
  KeyLocks::Held held(locks_.get(), lock_keys);
  Reader r(db_.get());
  v1::Pack from;
  ASSIGN_OR_RETURN(bool found, r.Get(PackKey(request.from()), &from));
  if (!found) return absl::NotFoundError(absl::StrCat("no pack ", request.from()));
  if (from.has_retired_at()) {
    return absl::FailedPreconditionError(absl::StrCat("pack ", from.name(), " is retired"));
  }
  v1::Pack to;
  if (to_new) {
    ASSIGN_OR_RETURN(bool exists, r.Get(PackKey(request.to().name()), &to));
    if (exists) return absl::AlreadyExistsError(absl::StrCat("pack ", to.name(), " exists"));
    to = request.to();
    to.set_live_blobs(0);
    to.set_live_bytes(0);
    to.clear_retired_at();
  }
  rocksdb::WriteBatch batch;
  v1::MovePackedBlobsResponse response;
  for (const auto& m : request.moves()) {
    v1::BlobRef b;
    ASSIGN_OR_RETURN(bool known, r.Get(BlobKey(m.sha256()), &b));
    if (!known || b.location().pack() != from.name() || b.location().offset() != m.from_offset()) {
      continue;  // released, or elsewhere, meanwhile
    }
    b.mutable_location()->set_pack(to.name());
    b.mutable_location()->set_offset(m.to_offset());
    batch.Put(BlobKey(m.sha256()), b.SerializeAsString());
    from.set_live_blobs(from.live_blobs() - 1);
    from.set_live_bytes(from.live_bytes() - b.size());
    to.set_live_blobs(to.live_blobs() + 1);
    to.set_live_bytes(to.live_bytes() + b.size());
    response.set_moved(response.moved() + 1);
  }
  if (from.live_blobs() > 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        from.live_blobs(), " blob record(s) not moved still point into pack ", from.name()));
  }
  const absl::Time now = clock_->Now();
  from.set_live_blobs(0);
  from.set_live_bytes(0);
  *from.mutable_retired_at() = ToProtoTime(now);
  batch.Put(PackKey(from.name()), from.SerializeAsString());
  if (to_new) {
    *to.mutable_created_at() = ToProtoTime(now);
    batch.Put(PackKey(to.name()), to.SerializeAsString());
  }
  RETURN_IF_ERROR(Write(batch));
  return response;
}

absl::Status Catalog::ForgetPack(const v1::ForgetPackRequest& request) {
  if (!IsPackName(request.name())) return absl::InvalidArgumentError("not a pack's name");
  KeyLocks::Held held(locks_.get(), {PackKey(request.name())});
  Reader r(db_.get());
  v1::Pack p;
  ASSIGN_OR_RETURN(bool found, r.Get(PackKey(request.name()), &p));
  if (!found) return absl::NotFoundError(absl::StrCat("no pack ", request.name()));
  if (!p.has_retired_at() || Micros(p.retired_at()) >= Micros(request.retired_before())) {
    return absl::FailedPreconditionError(
        absl::StrCat("pack ", p.name(), " is not retired, or only recently"));
  }
  rocksdb::WriteBatch batch;
  batch.Delete(PackKey(p.name()));
  return Write(batch);
}

}  // namespace arca::catalog
