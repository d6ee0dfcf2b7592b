// The catalog: the files jobs write, committed after their bytes.

#include "services/catalog/catalog.h"

#include <algorithm>
#include <utility>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
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

// ----------------------------------------------------------------- files

absl::StatusOr<v1::CommitFilesResponse> Catalog::CommitFiles(
    const v1::CommitFilesRequest& request) {
  RETURN_IF_ERROR(CheckJobId(request.job_id()));
  if (request.files_size() > kMaxFilesPerCommit) {
    return absl::InvalidArgumentError(absl::StrCat("a commit holds at most ", kMaxFilesPerCommit,
                                                   " files, got ", request.files_size()));
  }
  std::vector<std::string> lock_keys = {JobKey(request.job_id())};
  absl::flat_hash_set<absl::string_view> paths;
  for (const v1::ArtifactFile& f : request.files()) {
    absl::Status path_ok = ValidateArtifactPath(f.path());
    if (!path_ok.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("files[", paths.size(), "]: ", path_ok.message()));
    }
    if (!paths.insert(f.path()).second) {
      return absl::InvalidArgumentError(absl::StrCat("path ", f.path(), " appears twice"));
    }
    if (!IsSha256Hex(f.sha256())) {
      return absl::InvalidArgumentError(
          absl::StrCat("file ", f.path(), ": sha256 must be 64 lowercase hex digits"));
    }
    if (f.size() < 0) {
      return absl::InvalidArgumentError(absl::StrCat("file ", f.path(), ": negative size"));
    }
    RETURN_IF_ERROR(CheckEnum("privacy_level", types::v1::PrivacyLevel_IsValid(f.privacy_level()),
                              f.privacy_level()));
    RETURN_IF_ERROR(CheckEnum("gc_strategy", types::v1::GcStrategy_IsValid(f.gc_strategy()),
                              f.gc_strategy()));
    if (f.has_last_modified()) RETURN_IF_ERROR(CheckTime("last_modified", f.last_modified()));
    if (f.has_expires_at()) RETURN_IF_ERROR(CheckTime("expires_at", f.expires_at()));
    if (f.location().offset() < 0 ||
        (!f.location().pack().empty() && !IsPackName(f.location().pack()))) {
      return absl::InvalidArgumentError(
          absl::StrCat("file ", f.path(), ": location is not a place in a pack"));
    }
    lock_keys.push_back(BlobKey(f.sha256()));
  }
  if (request.new_packs_size() > kMaxFilesPerCommit) {
    return absl::InvalidArgumentError("too many packs in one commit");
  }
  absl::flat_hash_map<std::string, v1::Pack> new_packs;
  for (const v1::Pack& p : request.new_packs()) {
    if (!IsPackName(p.name()) || p.size() <= 0 || p.blobs() < 0 || p.blob_bytes() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("new pack \"", p.name().substr(0, 80), "\" has no valid name or size"));
    }
    v1::Pack& pack = new_packs[p.name()];
    pack.set_name(p.name());
    pack.set_size(p.size());
    pack.set_blobs(p.blobs());
    pack.set_blob_bytes(p.blob_bytes());
    lock_keys.push_back(PackKey(p.name()));
  }
  KeyLocks::Held held(locks_.get(), lock_keys);
  Reader r(db_.get());
  v1::Job job;
  ASSIGN_OR_RETURN(bool found, r.Get(JobKey(request.job_id()), &job));
  if (!found) return JobNotFound(request.job_id());
  if (job.has_deletion_requested_at()) {
    return absl::FailedPreconditionError(absl::StrCat("job ", job.id(), " is being deleted"));
  }
  const absl::Time now = clock_->Now();
  // Each kind of key goes into the batch in ascending order, so the
  // memtable inserts each next to the one before it.
  std::vector<const v1::ArtifactFile*> in_order;
  in_order.reserve(request.files_size());
  for (const v1::ArtifactFile& in : request.files()) in_order.push_back(&in);
  std::sort(in_order.begin(), in_order.end(), [](const auto* a, const auto* b) {
    return a->path() < b->path();
  });
  // A job's first commit has nothing to look up, which one seek shows.
  bool job_has_files;
  {
    const std::string prefix = FilePrefix(job.id());
    auto it = r.Iterate();
    it->Seek(prefix);
    RETURN_IF_ERROR(FromRocks(it->status()));
    job_has_files = it->Valid() && it->key().starts_with(prefix);
  }
  rocksdb::WriteBatch batch(/*reserved_bytes=*/request.ByteSizeLong() * 2);
  v1::CommitFilesResponse response;
  std::vector<std::string> expiry_keys;
  absl::btree_map<std::string, v1::BlobRef> blobs;  // read once, written once
  bool needs_gc = false;
  for (const v1::ArtifactFile* in : in_order) {
    std::string key = FileKey(job.id(), in->path());
    v1::ArtifactFile stored;  // stays empty if absent
    if (job_has_files) RETURN_IF_ERROR(r.Get(key, &stored).status());
    if (stored.state() == types::v1::FILE_STATE_AVAILABLE) {
      if (stored.sha256() != in->sha256()) {
        return absl::AlreadyExistsError(absl::StrCat(
            "job ", job.id(), " already has ", in->path(), " with sha256 ", stored.sha256()));
      }
      response.set_already_present(response.already_present() + 1);
      continue;
    }
    v1::ArtifactFile f = *in;
    f.set_job_id(job.id());
    f.set_group(job.group());
    f.set_state(types::v1::FILE_STATE_AVAILABLE);
    f.clear_deleted_at();
    *f.mutable_committed_at() = ToProtoTime(now);
    const v1::BlobLocation location = f.location();
    f.clear_location();  // the blob's record says where its bytes are
    const absl::Duration retention = RetentionOf(job, f.path());
    if (!f.has_expires_at() && job.has_finished_at() && retention >= absl::ZeroDuration()) {
      *f.mutable_expires_at() = ToProtoTime(FromProtoTime(job.finished_at()) + retention);
    }
    if (f.has_expires_at()) expiry_keys.push_back(ExpiryKey(f));
    batch.Put(key, f.SerializeAsString());
    auto [bit, first] = blobs.try_emplace(f.sha256());
    v1::BlobRef& blob = bit->second;
    if (first) {
      ASSIGN_OR_RETURN(bool known, r.Get(BlobKey(f.sha256()), &blob));
      if (known && blob.refcount() == 0) batch.Delete(UnrefKey(blob));
      if (!known && !location.pack().empty()) {
        // Only bytes this upload packed may start a record; bytes found in
        // an older pack belonged to a record released since.
        auto pack = new_packs.find(location.pack());
        if (pack == new_packs.end()) {
          return absl::AbortedError(absl::StrCat("the stored bytes of ", f.path(),
                                                 " were released while the upload ran; retry it"));
        }
        *blob.mutable_location() = location;
        batch.Put(LiveKey(location), "");
        pack->second.set_live_bytes(pack->second.live_bytes() + f.size());
        pack->second.set_live_blobs(pack->second.live_blobs() + 1);
      }
      blob.set_sha256(f.sha256());
      blob.set_size(f.size());
      blob.clear_unreferenced_since();
    }
    blob.set_refcount(blob.refcount() + 1);
    needs_gc |= gc::NeedsGc(gc::Effective(job, f));
    response.set_committed(response.committed() + 1);
  }
  if (response.committed() == 0) return response;
  for (const std::string& key : expiry_keys) batch.Put(key, "");
  for (const auto& [sha, blob] : blobs) batch.Put(BlobKey(sha), blob.SerializeAsString());
  for (auto& [name, pack] : new_packs) {
    // (An identical retry committed nothing and stopped above.)
    std::string known;
    for (const std::string& key : {PackKey(name), RetiredKey(name)}) {
      absl::Status s = r.GetRaw(key, &known);
      if (s.ok()) return absl::AlreadyExistsError(absl::StrCat("pack ", name, " is already recorded"));
      if (!absl::IsNotFound(s)) return s;
    }
    *pack.mutable_created_at() = ToProtoTime(now);
    batch.Put(PackKey(name), pack.SerializeAsString());
  }
  if (needs_gc && !HasFinalizer(job, gc::kArtifactGcFinalizer)) {
    job.add_finalizers(std::string(gc::kArtifactGcFinalizer));
    batch.Put(JobKey(job.id()), job.SerializeAsString());
  }
  // Files arriving after the job finished still get their strategy applied.
  if (job.has_finished_at()) {
    AddGcTask(job.id(), v1::GC_EVENT_JOB_FINISHED, job.status(), now, batch);
  }
  RETURN_IF_ERROR(Write(batch));
  return response;
}

absl::StatusOr<v1::ListFilesResponse> Catalog::ListFiles(const v1::ListFilesRequest& request) {
  RETURN_IF_ERROR(CheckJobId(request.job_id()));
  ASSIGN_OR_RETURN(int page_size, CheckPageSize(request.page_size()));
  RETURN_IF_ERROR(CheckText("path_prefix", request.path_prefix(), kMaxPathBytes));
  const std::string kind = absl::StrCat("files:", request.job_id());
  ASSIGN_OR_RETURN(std::string after, DecodePageToken(kind, request.page_token()));
  Reader r(db_.get());
  v1::ListFilesResponse response;
  auto it = r.Iterate();
  const std::string prefix = FileKey(request.job_id(), request.path_prefix());
  const std::string start = after.empty() ? prefix : FileKey(request.job_id(), after);
  for (it->Seek(start); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (!after.empty() && it->key() == start) continue;
    v1::ArtifactFile f;
    if (!f.ParseFromArray(it->value().data(), it->value().size())) {
      return Corrupt(it->key().ToString());
    }
    if (!request.include_deleted() && f.state() == types::v1::FILE_STATE_DELETED) continue;
    if (response.files_size() == page_size) {
      response.set_next_page_token(EncodePageToken(kind, response.files().rbegin()->path()));
      break;
    }
    *response.add_files() = std::move(f);
  }
  RETURN_IF_ERROR(FromRocks(it->status()));
  if (response.files_size() == 0 && request.page_token().empty()) {
    // Distinguish "no files" from "no job" (a purged job's files may remain).
    v1::Job job;
    ASSIGN_OR_RETURN(bool found, r.Get(JobKey(request.job_id()), &job));
    if (!found) return JobNotFound(request.job_id());
  }
  return response;
}

absl::StatusOr<v1::ArtifactFile> Catalog::GetFile(absl::string_view job_id,
                                                  absl::string_view path) {
  RETURN_IF_ERROR(CheckJobId(job_id));
  RETURN_IF_ERROR(ValidateArtifactPath(path));
  Reader r(db_.get());
  v1::ArtifactFile f;
  ASSIGN_OR_RETURN(bool found, r.Get(FileKey(job_id, path), &f));
  if (!found) return absl::NotFoundError(absl::StrCat("job ", job_id, " has no file ", path));
  v1::BlobRef blob;
  ASSIGN_OR_RETURN(bool known, r.Get(BlobKey(f.sha256()), &blob));
  if (known && blob.has_location()) {
    RETURN_IF_ERROR(Locator(r).Locate(&blob));
    *f.mutable_location() = blob.location();
  }
  return f;
}

}  // namespace arca::catalog
