// The catalog: job artifacts (packages, their names and versions).

#include "services/catalog/catalog.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/page_token.h"
#include "common/paths.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "services/catalog/keys.h"
#include "services/catalog/store.h"
#include "services/catalog/validation.h"

namespace arca::catalog {

using ::google::protobuf::util::MessageDifferencer;

// ------------------------------------------------------------- artifacts

absl::StatusOr<v1::RegisterJobArtifactResponse> Catalog::RegisterJobArtifact(
    const v1::RegisterJobArtifactRequest& request) {
  if (!request.has_artifact()) return absl::InvalidArgumentError("artifact is required");
  const v1::JobArtifact& in = request.artifact();
  RETURN_IF_ERROR(ValidateArtifact(in));
  if (request.expected_revision() < 0) {
    return absl::InvalidArgumentError("expected_revision must not be negative");
  }
  const std::string nv_key = VersionKey(in.name(), in.version());
  std::vector<std::string> lock_keys = {nv_key, NameKey(in.name())};
  if (!in.artifact_id().empty()) lock_keys.push_back(ArtifactKey(in.artifact_id()));

  // An overwrite by id may rename the artifact, so the old name's keys join
  // the lock set; loop until the set covers what we read.
  for (int attempt = 0;; ++attempt) {
    KeyLocks::Held held(locks_.get(), lock_keys);
    Reader r(db_.get());
    std::string nv_id;
    absl::Status nv = r.GetRaw(nv_key, &nv_id);
    if (!nv.ok() && !absl::IsNotFound(nv)) return nv;
    const bool nv_exists = nv.ok();
    v1::JobArtifact by_id;
    bool id_exists = false;
    if (!in.artifact_id().empty()) {
      ASSIGN_OR_RETURN(id_exists, r.Get(ArtifactKey(in.artifact_id()), &by_id));
    }
    const absl::Time now = clock_->Now();
    rocksdb::WriteBatch batch;
    v1::RegisterJobArtifactResponse response;

    if (!nv_exists && !id_exists) {
      v1::JobArtifact a = in;
      if (a.artifact_id().empty()) a.set_artifact_id(NewSortableId("art", now));
      a.set_revision(1);
      if (!a.has_created_at()) *a.mutable_created_at() = ToProtoTime(now);
      std::string count;
      absl::Status cs = r.GetRaw(NameKey(a.name()), &count);
      if (!cs.ok() && !absl::IsNotFound(cs)) return cs;
      int n = 0;
      if (cs.ok() && !absl::SimpleAtoi(count, &n)) return Corrupt(NameKey(a.name()));
      batch.Put(ArtifactKey(a.artifact_id()), a.SerializeAsString());
      batch.Put(nv_key, a.artifact_id());
      batch.Put(NameKey(a.name()), std::to_string(n + 1));
      RETURN_IF_ERROR(Write(batch));
      *response.mutable_artifact() = std::move(a);
      response.set_created(true);
      return response;
    }

    if (nv_exists && id_exists && nv_id != in.artifact_id()) {
      return absl::AlreadyExistsError(absl::StrCat(
          "artifactID ", in.artifact_id(), " belongs to ", by_id.name(), "@",
          by_id.version(), " while ", in.name(), "@", in.version(), " has artifactID ",
          nv_id));
    }
    v1::JobArtifact stored;
    if (id_exists) {
      stored = by_id;
    } else {
      ASSIGN_OR_RETURN(bool found, r.Get(ArtifactKey(nv_id), &stored));
      if (!found) return Corrupt(nv_key);
    }
    if (!in.artifact_id().empty() && in.artifact_id() != stored.artifact_id()) {
      return absl::AlreadyExistsError(absl::StrCat(
          "job artifact ", stored.name(), "@", stored.version(),
          " is registered with artifactID ", stored.artifact_id(), ", not ",
          in.artifact_id()));
    }
    // Renaming by id: make sure the old name's keys are locked too.
    const std::string old_nv_key = VersionKey(stored.name(), stored.version());
    if (old_nv_key != nv_key &&
        std::find(lock_keys.begin(), lock_keys.end(), old_nv_key) == lock_keys.end()) {
      if (attempt > 8) return absl::AbortedError("artifact changed concurrently; retry");
      lock_keys.push_back(old_nv_key);
      lock_keys.push_back(NameKey(stored.name()));
      lock_keys.push_back(ArtifactKey(stored.artifact_id()));
      continue;
    }

    // An identical retry: the content the caller controls is the same.
    v1::JobArtifact candidate = in;
    candidate.set_artifact_id(stored.artifact_id());
    candidate.set_revision(stored.revision());
    if (!candidate.has_created_at()) *candidate.mutable_created_at() = stored.created_at();
    if (MessageDifferencer::Equals(candidate, stored)) {
      *response.mutable_artifact() = std::move(stored);
      response.set_created(false);
      return response;
    }
    if (!request.overwrite()) {
      return absl::AlreadyExistsError(absl::StrCat(
          "job artifact ", stored.name(), "@", stored.version(), " already exists (artifactID ",
          stored.artifact_id(), ", revision ", stored.revision(),
          ") with different content; set overwrite to replace it"));
    }
    RETURN_IF_ERROR(CheckRevision(request.expected_revision(), stored.revision()));
    candidate.set_revision(stored.revision() + 1);
    if (old_nv_key != nv_key) {
      // Renamed: move the name+version index entry and both name counts.
      std::string old_count, new_count;
      int old_n = 0, new_n = 0;
      RETURN_IF_ERROR(r.GetRaw(NameKey(stored.name()), &old_count));
      if (!absl::SimpleAtoi(old_count, &old_n)) return Corrupt(NameKey(stored.name()));
      absl::Status cs = r.GetRaw(NameKey(in.name()), &new_count);
      if (!cs.ok() && !absl::IsNotFound(cs)) return cs;
      if (cs.ok() && !absl::SimpleAtoi(new_count, &new_n)) return Corrupt(NameKey(in.name()));
      batch.Delete(old_nv_key);
      if (stored.name() == in.name()) {
        // Same name, new version: the count stays.
      } else {
        if (old_n <= 1) {
          batch.Delete(NameKey(stored.name()));
        } else {
          batch.Put(NameKey(stored.name()), std::to_string(old_n - 1));
        }
        batch.Put(NameKey(in.name()), std::to_string(new_n + 1));
      }
      batch.Put(nv_key, candidate.artifact_id());
    }
    batch.Put(ArtifactKey(candidate.artifact_id()), candidate.SerializeAsString());
    RETURN_IF_ERROR(Write(batch));
    *response.mutable_artifact() = std::move(candidate);
    response.set_created(false);
    return response;
  }
}

absl::StatusOr<v1::JobArtifact> Catalog::GetJobArtifact(absl::string_view artifact_id) {
  RETURN_IF_ERROR(CheckName("artifactID", artifact_id));
  Reader r(db_.get());
  v1::JobArtifact a;
  ASSIGN_OR_RETURN(bool found, r.Get(ArtifactKey(artifact_id), &a));
  if (!found) {
    return absl::NotFoundError(absl::StrCat("no job artifact with artifactID ", artifact_id));
  }
  return a;
}

absl::StatusOr<v1::ListJobArtifactsResponse> Catalog::ListJobArtifacts(
    const v1::ListJobArtifactsRequest& request) {
  ASSIGN_OR_RETURN(int page_size, CheckPageSize(request.page_size()));
  if (!request.version().empty()) RETURN_IF_ERROR(CheckName("version", request.version()));
  v1::ListJobArtifactsResponse response;
  Reader r(db_.get());
  if (request.name().empty()) {
    if (!request.version().empty()) {
      return absl::InvalidArgumentError("version needs a name");
    }
    ASSIGN_OR_RETURN(std::string after, DecodePageToken("artifacts", request.page_token()));
    auto it = r.Iterate();
    const std::string start = after.empty() ? "a/" : ArtifactKey(after);
    for (it->Seek(start); it->Valid() && it->key().starts_with("a/"); it->Next()) {
      if (!after.empty() && it->key() == start) continue;
      if (response.artifacts_size() == page_size) {
        response.set_next_page_token(EncodePageToken(
            "artifacts", response.artifacts().rbegin()->artifact_id()));
        break;
      }
      if (!response.add_artifacts()->ParseFromArray(it->value().data(), it->value().size())) {
        return Corrupt(it->key().ToString());
      }
    }
    RETURN_IF_ERROR(FromRocks(it->status()));
    return response;
  }
  RETURN_IF_ERROR(CheckName("name", request.name()));
  const std::string kind = absl::StrCat("versions:", request.name());
  ASSIGN_OR_RETURN(std::string offset_text, DecodePageToken(kind, request.page_token()));
  size_t offset = 0;
  if (!offset_text.empty() && !absl::SimpleAtoi(offset_text, &offset)) {
    return absl::InvalidArgumentError("malformed page_token");
  }
  std::vector<v1::JobArtifact> found;
  if (!request.version().empty()) {
    std::string id;
    absl::Status s = r.GetRaw(VersionKey(request.name(), request.version()), &id);
    if (absl::IsNotFound(s)) return response;
    RETURN_IF_ERROR(s);
    v1::JobArtifact a;
    ASSIGN_OR_RETURN(bool ok, r.Get(ArtifactKey(id), &a));
    if (!ok) return Corrupt(VersionKey(request.name(), request.version()));
    found.push_back(std::move(a));
  } else {
    const std::string prefix = VersionKey(request.name(), "");
    auto it = r.Iterate();
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      v1::JobArtifact a;
      ASSIGN_OR_RETURN(bool ok, r.Get(ArtifactKey(it->value().ToString()), &a));
      if (!ok) return Corrupt(it->key().ToString());
      found.push_back(std::move(a));
    }
    RETURN_IF_ERROR(FromRocks(it->status()));
  }
  // Newest first; equal times by version, descending.
  std::sort(found.begin(), found.end(), [](const v1::JobArtifact& x, const v1::JobArtifact& y) {
    uint64_t tx = Micros(x.created_at()), ty = Micros(y.created_at());
    if (tx != ty) return tx > ty;
    return x.version() > y.version();
  });
  for (size_t i = offset; i < found.size() && response.artifacts_size() < page_size; ++i) {
    *response.add_artifacts() = std::move(found[i]);
  }
  if (offset + response.artifacts_size() < found.size()) {
    response.set_next_page_token(
        EncodePageToken(kind, std::to_string(offset + response.artifacts_size())));
  }
  return response;
}

absl::StatusOr<v1::ListJobArtifactNamesResponse> Catalog::ListJobArtifactNames(
    const v1::ListJobArtifactNamesRequest& request) {
  ASSIGN_OR_RETURN(int page_size, CheckPageSize(request.page_size()));
  RETURN_IF_ERROR(CheckText("prefix", request.prefix(), 255));
  RETURN_IF_ERROR(CheckText("contains", request.contains(), 255));
  ASSIGN_OR_RETURN(std::string after, DecodePageToken("names", request.page_token()));
  v1::ListJobArtifactNamesResponse response;
  Reader r(db_.get());
  auto it = r.Iterate();
  const std::string prefix = NameKey(request.prefix());
  it->Seek(after.empty() ? prefix : NameKey(after));
  for (; it->Valid() && it->key().starts_with(prefix); it->Next()) {
    absl::string_view name(it->key().data() + 2, it->key().size() - 2);
    if (!after.empty() && name == after) continue;
    if (!request.contains().empty() && !absl::StrContains(name, request.contains())) continue;
    if (response.names_size() == page_size) {
      response.set_next_page_token(EncodePageToken("names", *response.names().rbegin()));
      break;
    }
    response.add_names(std::string(name));
  }
  RETURN_IF_ERROR(FromRocks(it->status()));
  return response;
}

absl::Status Catalog::DeleteJobArtifact(const v1::DeleteJobArtifactRequest& request) {
  RETURN_IF_ERROR(CheckName("artifactID", request.artifact_id()));
  for (int attempt = 0; attempt < 8; ++attempt) {
    v1::JobArtifact peek;
    {
      Reader r(db_.get());
      ASSIGN_OR_RETURN(bool found, r.Get(ArtifactKey(request.artifact_id()), &peek));
      if (!found) {
        return absl::NotFoundError(
            absl::StrCat("no job artifact with artifactID ", request.artifact_id()));
      }
    }
    KeyLocks::Held held(locks_.get(), {ArtifactKey(peek.artifact_id()),
                                       VersionKey(peek.name(), peek.version()),
                                       NameKey(peek.name())});
    Reader r(db_.get());
    v1::JobArtifact a;
    ASSIGN_OR_RETURN(bool found, r.Get(ArtifactKey(request.artifact_id()), &a));
    if (!found) {
      return absl::NotFoundError(
          absl::StrCat("no job artifact with artifactID ", request.artifact_id()));
    }
    if (a.name() != peek.name() || a.version() != peek.version()) continue;  // renamed
    RETURN_IF_ERROR(CheckRevision(request.expected_revision(), a.revision()));
    std::string count;
    int n = 0;
    RETURN_IF_ERROR(r.GetRaw(NameKey(a.name()), &count));
    if (!absl::SimpleAtoi(count, &n)) return Corrupt(NameKey(a.name()));
    rocksdb::WriteBatch batch;
    batch.Delete(ArtifactKey(a.artifact_id()));
    batch.Delete(VersionKey(a.name(), a.version()));
    if (n <= 1) {
      batch.Delete(NameKey(a.name()));
    } else {
      batch.Put(NameKey(a.name()), std::to_string(n - 1));
    }
    return Write(batch);
  }
  return absl::AbortedError("artifact changed concurrently; retry");
}

}  // namespace arca::catalog
