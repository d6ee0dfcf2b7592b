#include "services/retention/retention_gc.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/ids.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace arca::retention {
namespace {

namespace cat = ::arca::catalog::v1;
using ::arca::types::v1::GcStrategy;

// Whether a file is shown to a caller cleared up to `max` (unspecified:
// every file). A file of no level counts as moderately sensitive.
bool Shown(const cat::ArtifactFile& f, types::v1::PrivacyLevel max) {
  if (max == types::v1::PRIVACY_LEVEL_UNSPECIFIED) return true;
  return std::max<int>(f.privacy_level(), types::v1::PRIVACY_LEVEL_MODERATELY_SENSITIVE) <= max;
}

// Every file of a job, deleted ones too, a page of 1,000 at a time.
cat::ListFilesRequest AllFiles(const std::string& job_id) {
  cat::ListFilesRequest request;
  request.set_job_id(job_id);
  request.set_page_size(1000);
  request.set_include_deleted(true);
  return request;
}

bool HasCondition(const cat::Job& job, absl::string_view type) {
  for (const cat::Condition& c : job.conditions()) {
    if (c.type() == type) return true;
  }
  return false;
}

}  // namespace

RetentionGc::RetentionGc(const RetentionOptions& options, clients::CatalogClient* catalog,
                         blob::BlobStore* blobs, Clock* clock, RetentionMetrics* metrics)
    : options_(options), catalog_(catalog), blobs_(blobs), clock_(clock), metrics_(metrics) {}

absl::StatusOr<std::vector<cat::ArtifactFile>> RetentionGc::AvailableFiles(
    const std::string& job_id) {
  std::vector<cat::ArtifactFile> out;
  cat::ListFilesRequest request;
  request.set_job_id(job_id);
  request.set_page_size(1000);
  RETURN_IF_ERROR(catalog_->ForEachFile(request, [&](const cat::ArtifactFile& f) {
    out.push_back(f);
    return absl::OkStatus();
  }));
  return out;
}

absl::Status RetentionGc::DeleteFiles(const std::string& job_id,
                                      const std::vector<cat::ArtifactFile>& files,
                                      const std::string& reason,
                                      v1::RunCleanupResponse* removed) {
  if (files.empty() || !options_.deletion_enabled) return absl::OkStatus();
  // The records first, in one write: from here on nobody is promised the
  // bytes. The catalog says which blobs lost their last reference; their
  // records stay until the bytes are gone, so a crash before that leaves
  // work ResumeDeletions finds.
  cat::MarkFilesDeletedRequest mark;
  mark.set_job_id(job_id);
  for (const cat::ArtifactFile& f : files) mark.add_paths(f.path());
  ASSIGN_OR_RETURN(cat::MarkFilesDeletedResponse marked, catalog_->MarkFilesDeleted(mark));
  int64_t bytes = 0;
  v1::RunCleanupResponse local;
  v1::RunCleanupResponse* out = removed != nullptr ? removed : &local;
  for (const cat::ArtifactFile& f : files) {
    bytes += f.size();
    v1::RemovedFile* r = out->add_removed();
    r->set_job_id(job_id);
    r->set_path(f.path());
    r->set_size(f.size());
    r->set_reason(reason);
    r->set_privacy_level(f.privacy_level());
  }
  out->set_bytes_removed(out->bytes_removed() + bytes);
  metrics_->files_deleted.Add({{"reason", reason}}).Increment(static_cast<double>(files.size()));
  metrics_->bytes_deleted.Add({{"reason", reason}}).Increment(static_cast<double>(bytes));
  return ReleaseBlobs({marked.unreferenced_blobs().begin(), marked.unreferenced_blobs().end()},
                      out);
}

absl::Status RetentionGc::ReleaseBlobs(const std::vector<std::string>& sha256s,
                                       v1::RunCleanupResponse* response) {
  const absl::Time now = clock_->Now();
  absl::Status first_error;
  int failed = 0;
  for (const std::string& sha : sha256s) {
    // Bytes, then the record: a crash in between leaves a record whose
    // bytes are gone, which the next pass forgets.
    auto gone = blobs_->DeleteIfIdle(sha, now - options_.grace);
    absl::Status s = gone.status();
    if (gone.ok() && !*gone) continue;  // written within the grace period: a later sweep
    if (s.ok()) {
      metrics_->blobs_deleted.Increment();
      response->set_blobs_deleted(response->blobs_deleted() + 1);
      cat::ForgetBlobRequest forget;
      forget.set_sha256(sha);
      *forget.mutable_unreferenced_before() = ToProtoTime(now + absl::Microseconds(1));
      s = catalog_->ForgetBlob(forget).status();
      // Referenced again meanwhile (a collect of the same bytes stored its
      // own copy), or already forgotten: nothing to do.
      if (absl::IsFailedPrecondition(s) || absl::IsNotFound(s)) s = absl::OkStatus();
    }
    if (!s.ok()) {
      ARCA_LOG(WARNING) << "releasing blob " << sha << ": " << s.message();
      if (failed++ == 0) first_error = s;
    }
  }
  if (failed == 0) return absl::OkStatus();
  return absl::Status(first_error.code(),
                      absl::StrCat(failed, " of ", sha256s.size(), " blob(s) could not be deleted: ",
                                   first_error.message()));
}

absl::StatusOr<std::vector<std::string>> RetentionGc::UnreferencedBlobs() {
  std::vector<std::string> out;
  cat::ListUnreferencedBlobsRequest list;
  *list.mutable_before() = ToProtoTime(clock_->Now() + absl::Microseconds(1));
  list.set_page_size(1000);
  RETURN_IF_ERROR(catalog_->ForEachUnreferencedBlob(list, [&](const cat::BlobRef& b) {
    out.push_back(b.sha256());
    return absl::OkStatus();
  }));
  return out;
}

absl::Status RetentionGc::ExpireFiles(v1::RunCleanupResponse* response) {
  std::map<std::string, std::vector<cat::ArtifactFile>> expired;
  cat::ListExpiredFilesRequest list;
  *list.mutable_before() = ToProtoTime(clock_->Now() + absl::Microseconds(1));
  list.set_page_size(1000);
  RETURN_IF_ERROR(catalog_->ForEachExpiredFile(list, [&](const cat::ExpiryEntry& e) {
    if (e.file().state() == types::v1::FILE_STATE_AVAILABLE) expired[e.job_id()].push_back(e.file());
    return absl::OkStatus();
  }));
  for (const auto& [job_id, files] : expired) {
    if (absl::Status s = DeleteFiles(job_id, files, "ttl", response); !s.ok()) {
      metrics_->errors.Increment();
      response->set_errors(response->errors() + 1);
      ARCA_LOG(WARNING) << "expiring " << files.size() << " file(s) of job " << job_id << ": "
                        << s.message() << "; tried again at the next sweep";
    }
  }
  return absl::OkStatus();
}

absl::Status RetentionGc::ReleaseUnreferencedBlobs(v1::RunCleanupResponse* response) {
  ASSIGN_OR_RETURN(std::vector<std::string> unreferenced, UnreferencedBlobs());
  if (absl::Status s = ReleaseBlobs(unreferenced, response); !s.ok()) {
    metrics_->errors.Increment();
    response->set_errors(response->errors() + 1);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::RunCleanupResponse> RetentionGc::ResumeDeletions() {
  v1::RunCleanupResponse response;
  if (!options_.deletion_enabled) return response;
  RETURN_IF_ERROR(ExpireFiles(&response));
  RETURN_IF_ERROR(ReleaseUnreferencedBlobs(&response));
  return response;
}

absl::Status RetentionGc::HandleTask(const cat::GcTask& task, v1::RunCleanupResponse* removed) {
  cat::GetJobRequest get;
  get.set_id(task.job_id());
  auto got = catalog_->GetJob(get);
  if (absl::IsNotFound(got.status())) return absl::OkStatus();  // purged: nothing left to do
  RETURN_IF_ERROR(got.status());
  const cat::Job& job = *got;
  std::vector<cat::ArtifactFile> due;
  std::vector<std::string> deleted_blobs;  // of files an earlier attempt marked
  bool pending = false;
  RETURN_IF_ERROR(catalog_->ForEachFile(AllFiles(job.id()), [&](const cat::ArtifactFile& f) {
    if (f.state() != types::v1::FILE_STATE_AVAILABLE) {
      deleted_blobs.push_back(f.sha256());
    } else if (const GcStrategy strategy = gc::Effective(job, f); gc::Due(strategy, job)) {
      due.push_back(f);
    } else {
      pending |= gc::Pending(strategy, job);
    }
    return absl::OkStatus();
  }));
  // An earlier attempt (or a worker killed mid-way) may have marked files
  // whose bytes are still there: those whose records say no file refers to
  // them any more go too.
  std::sort(deleted_blobs.begin(), deleted_blobs.end());
  deleted_blobs.erase(std::unique(deleted_blobs.begin(), deleted_blobs.end()), deleted_blobs.end());
  std::vector<std::string> unreferenced;
  RETURN_IF_ERROR(catalog_->ForEachBlobRef(deleted_blobs, [&](const cat::BlobRef& ref) {
    if (ref.refcount() == 0 && ref.has_unreferenced_since()) unreferenced.push_back(ref.sha256());
    return absl::OkStatus();
  }));
  v1::RunCleanupResponse local;
  RETURN_IF_ERROR(ReleaseBlobs(unreferenced, removed != nullptr ? removed : &local));
  RETURN_IF_ERROR(DeleteFiles(job.id(), due, "strategy", removed));
  if (HasCondition(job, std::string(gc::kArtifactGcErrorCondition))) {
    cat::SetConditionRequest clear;
    clear.set_job_id(job.id());
    clear.mutable_condition()->set_type(std::string(gc::kArtifactGcErrorCondition));
    clear.set_remove(true);
    RETURN_IF_ERROR(catalog_->SetCondition(clear).status());
  }
  if (!pending && std::find(job.finalizers().begin(), job.finalizers().end(),
                            std::string(gc::kArtifactGcFinalizer)) != job.finalizers().end()) {
    cat::RemoveFinalizerRequest remove;
    remove.set_job_id(job.id());
    remove.set_finalizer(std::string(gc::kArtifactGcFinalizer));
    RETURN_IF_ERROR(catalog_->RemoveFinalizer(remove).status());
  }
  return absl::OkStatus();
}

void RetentionGc::ForceFinalizerRemoval(const std::string& job_id) {
  cat::GetJobRequest get;
  get.set_id(job_id);
  auto job = catalog_->GetJob(get);
  if (!job.ok() || !job->force_finalizer_removal()) return;
  cat::RemoveFinalizerRequest remove;
  remove.set_job_id(job_id);
  remove.set_finalizer(std::string(gc::kArtifactGcFinalizer));
  absl::Status removed = catalog_->RemoveFinalizer(remove).status();
  if (removed.ok()) {
    ARCA_LOG(WARNING) << "job " << job_id << " asked for forceFinalizerRemoval: its GC finalizer "
                      << "is gone, its files that could not be deleted stay until TTL";
  } else {
    ARCA_LOG(WARNING) << "removing the GC finalizer of job " << job_id << ": " << removed.message();
  }
}

absl::StatusOr<int> RetentionGc::ProcessDueTasks(int max_tasks) {
  if (!options_.deletion_enabled) return 0;  // the kill switch keeps the queue
  cat::LeaseGcTasksRequest lease;
  lease.set_owner(options_.worker_id);
  lease.set_max_tasks(max_tasks);
  *lease.mutable_lease() = ToProtoDuration(options_.lease);
  ASSIGN_OR_RETURN(cat::LeaseGcTasksResponse leased, catalog_->LeaseGcTasks(lease));
  for (const cat::GcTask& task : leased.tasks()) {
    absl::Status handled = HandleTask(task, nullptr);
    if (handled.ok()) {
      cat::CompleteGcTaskRequest complete;
      complete.set_task_id(task.id());
      complete.set_lease_token(task.lease_token());
      catalog_->CompleteGcTask(complete).status().IgnoreError();  // lost lease: redone
      metrics_->tasks.Add({{"outcome", "done"}}).Increment();
      continue;
    }
    metrics_->errors.Increment();
    const std::string error = absl::StrCat("attempt ", task.attempts(), ": ", handled.message());
    // Capped exponential backoff; past max_attempts the job says why, its
    // files stay, and the task keeps coming back, spaced up to an hour, so
    // the condition and the finalizer clear on their own once it works.
    const bool gave_up = task.attempts() >= options_.max_attempts;
    const double factor = std::pow(options_.backoff_factor, std::max(0, task.attempts() - 1));
    const absl::Duration backoff =
        std::min(gave_up ? std::max(options_.error_retry_cap, options_.backoff_cap)
                         : options_.backoff_cap,
                 options_.backoff_base * factor);
    if (task.attempts() == options_.max_attempts) {
      ARCA_LOG(ERROR) << "GC of job " << task.job_id() << " failed " << task.attempts()
                      << " times; the job gets " << gc::kArtifactGcErrorCondition << " (" << error
                      << ") and it is tried again every " << absl::FormatDuration(backoff)
                      << " or so until it works";
      cat::SetConditionRequest condition;
      condition.set_job_id(task.job_id());
      condition.mutable_condition()->set_type(std::string(gc::kArtifactGcErrorCondition));
      condition.mutable_condition()->set_message(error);
      absl::Status set = catalog_->SetCondition(condition).status();
      if (!set.ok()) ARCA_LOG(WARNING) << "setting the condition: " << set.message();
      metrics_->tasks.Add({{"outcome", "failed"}}).Increment();
      ForceFinalizerRemoval(task.job_id());
    } else {
      ARCA_LOG(WARNING) << "GC of job " << task.job_id() << " failed (" << error
                        << "); retrying in " << absl::FormatDuration(backoff);
      metrics_->tasks.Add({{"outcome", "retried"}}).Increment();
    }
    cat::RetryGcTaskRequest retry;
    retry.set_task_id(task.id());
    retry.set_lease_token(task.lease_token());
    retry.set_error(error);
    *retry.mutable_next_due() = ToProtoTime(clock_->Now() + backoff);
    catalog_->RetryGcTask(retry).status().IgnoreError();  // lost lease: redone
  }
  return leased.tasks_size();
}

absl::StatusOr<v1::RunCleanupResponse> RetentionGc::RunCleanup() {
  const absl::Time start = absl::Now();
  const absl::Time now = clock_->Now();
  v1::RunCleanupResponse response;
  if (!options_.deletion_enabled) return response;

  // 1. Expired files, grouped by job.
  RETURN_IF_ERROR(ExpireFiles(&response));

  // 2. Jobs left with an ArtifactGCError get another try (found by the
  //    catalog's index of conditions, not by reading every job).
  std::vector<std::string> failed_jobs;
  cat::ListJobsRequest failed;
  failed.set_page_size(1000);
  failed.set_condition(std::string(gc::kArtifactGcErrorCondition));
  RETURN_IF_ERROR(catalog_->ForEachJob(failed, [&](const cat::Job& job) {
    failed_jobs.push_back(job.id());
    return absl::OkStatus();
  }));
  for (const std::string& id : failed_jobs) {
    cat::GcTask task;
    task.set_job_id(id);
    task.set_event(cat::GC_EVENT_SWEEP);
    if (absl::Status s = HandleTask(task, &response); !s.ok()) {
      metrics_->errors.Increment();
      response.set_errors(response.errors() + 1);
      ARCA_LOG(WARNING) << "sweep: GC of job " << id << " failed again: " << s.message();
    }
  }

  // 3. Blobs no file references any more, then orphans (bytes the catalog
  //    never heard of, e.g. from a crashed upload).
  RETURN_IF_ERROR(ReleaseUnreferencedBlobs(&response));
  const absl::Time cutoff = now - options_.grace;
  std::vector<std::string> idle;
  RETURN_IF_ERROR(blobs_->List([&](const blob::BlobInfo& b) {
    if (b.modified < cutoff) idle.push_back(b.sha256);
  }));
  // Those the catalog has no record of are orphans; if it cannot answer,
  // every one is kept.
  absl::Status asked = catalog_->ForEachBlobRef(idle, [&](const cat::BlobRef& ref) {
    if (ref.refcount() > 0 || ref.has_unreferenced_since()) return absl::OkStatus();  // known
    auto gone = blobs_->DeleteIfIdle(ref.sha256(), cutoff);
    if (!gone.ok()) {
      metrics_->errors.Increment();
      response.set_errors(response.errors() + 1);
      ARCA_LOG(WARNING) << "sweep: deleting orphan blob " << ref.sha256() << ": "
                        << gone.status().message();
    } else if (*gone) {
      metrics_->blobs_deleted.Increment();
      response.set_blobs_deleted(response.blobs_deleted() + 1);
    }
    return absl::OkStatus();
  });
  if (!asked.ok()) ARCA_LOG(WARNING) << "sweep: orphan blobs kept: " << asked.message();
  if (absl::Status s = SweepPacks(now, &response); !s.ok()) {
    metrics_->errors.Increment();
    response.set_errors(response.errors() + 1);
    ARCA_LOG(WARNING) << "sweep: packs: " << s.message();
  }
  metrics_->sweep_seconds.Observe(absl::ToDoubleSeconds(absl::Now() - start));
  ARCA_LOG(INFO) << "sweep: removed " << response.removed_size() << " file(s), "
                 << response.bytes_removed() << " bytes, " << response.blobs_deleted()
                 << " blob(s); " << response.errors() << " error(s)";
  return response;
}

bool RetentionGc::ShouldCompact(const cat::Pack& pack) const {
  return !pack.has_retired_at() &&
         (pack.live_blobs() < options_.compact_below * static_cast<double>(pack.blobs()) ||
          pack.live_bytes() < options_.compact_below * static_cast<double>(pack.blob_bytes()));
}

absl::Status RetentionGc::SweepPacks(absl::Time now, v1::RunCleanupResponse* response) {
  const absl::Time cutoff = now - options_.grace;
  // The files first, then the records: a pack committed in between is
  // recorded by then.
  std::vector<blob::PackInfo> files;
  RETURN_IF_ERROR(blobs_->ListPacks([&](const blob::PackInfo& p) { files.push_back(p); }));
  std::map<std::string, cat::Pack> recorded;
  std::set<std::string> known;  // files that hold a pack or were retired
  RETURN_IF_ERROR(catalog_->ForEachPack(cat::ListPacksRequest(), [&](const cat::Pack& p) {
    recorded[p.name()] = p;
    known.insert(p.file().empty() ? p.name() : p.file());
    return absl::OkStatus();
  }));
  std::vector<cat::Pack> retired;
  cat::ListPacksRequest list_retired;
  list_retired.set_retired(true);
  RETURN_IF_ERROR(catalog_->ForEachPack(list_retired, [&](const cat::Pack& p) {
    retired.push_back(p);
    known.insert(p.name());
    return absl::OkStatus();
  }));
  absl::Status first_error;
  auto failed = [&](const absl::Status& s, absl::string_view pack) {
    ARCA_LOG(WARNING) << "sweep: pack " << pack << ": " << s.message();
    if (first_error.ok()) first_error = s;
  };
  auto deleted = [&] { response->set_packs_deleted(response->packs_deleted() + 1); };
  for (const cat::Pack& file : retired) {
    // Readers that learnt a location in it before it was retired have had
    // the grace period to finish.
    if (FromProtoTime(file.retired_at()) >= cutoff) continue;
    absl::Status s = blobs_->DeletePack(file.name());
    if (s.ok()) {
      cat::ForgetPackRequest forget;
      forget.set_name(file.name());
      *forget.mutable_retired_before() = ToProtoTime(cutoff);
      s = catalog_->ForgetPack(forget).status();
    }
    s.ok() ? deleted() : failed(s, file.name());
  }
  int64_t dead = 0;
  for (const auto& [name, pack] : recorded) {
    if (!ShouldCompact(pack)) {
      dead += pack.blob_bytes() - pack.live_bytes();
      continue;
    }
    if (absl::Status s = Compact(pack); !s.ok()) {
      dead += pack.blob_bytes() - pack.live_bytes();
      failed(s, name);
      continue;
    }
    response->set_packs_compacted(response->packs_compacted() + 1);
    metrics_->packs_compacted.Increment();
  }
  for (const blob::PackInfo& p : files) {
    if (known.count(p.name) > 0 || p.modified >= cutoff) continue;
    absl::Status s = blobs_->DeletePack(p.name);
    s.ok() ? deleted() : failed(s, p.name);
  }
  metrics_->pack_dead_bytes.Set(static_cast<double>(dead));
  return first_error;
}

absl::Status RetentionGc::Compact(const cat::Pack& pack) {
  // The live records, by the offsets blob records hold and where they are
  // in the pack's file now (in the same order: compaction keeps it).
  cat::ListPackedBlobsRequest list;
  list.set_pack(pack.name());
  cat::MovePackedBlobsRequest move;
  move.set_pack(pack.name());
  std::vector<int64_t> file_offsets;
  do {
    ASSIGN_OR_RETURN(cat::ListPackedBlobsResponse page, catalog_->ListPackedBlobs(list));
    if (!move.from().empty() && page.file() != move.from()) {
      return absl::AbortedError(absl::StrCat("pack ", pack.name(), " was compacted meanwhile"));
    }
    move.set_from(page.file());
    move.mutable_offsets()->MergeFrom(page.offsets());
    file_offsets.insert(file_offsets.end(), page.file_offsets().begin(), page.file_offsets().end());
    list.set_page_token(page.next_page_token());
  } while (!list.page_token().empty());
  std::unique_ptr<blob::PackWriter> to;
  if (!file_offsets.empty()) {
    ASSIGN_OR_RETURN(to, blobs_->CopyPackRecords(move.from(), file_offsets));
    cat::Pack* p = move.mutable_to();
    p->set_name(to->name());
    p->set_size(to->size());
    p->set_blobs(static_cast<int64_t>(to->entries().size()));
    for (const blob::PackEntry& e : to->entries()) {
      p->set_blob_bytes(p->blob_bytes() + e.size);
      move.add_to_offsets(static_cast<uint64_t>(e.offset));
    }
  }
  absl::Status moved = catalog_->MovePackedBlobs(move).status();
  // A new pack file nothing points at goes now (or, if this fails too, as
  // an orphan).
  if (!moved.ok() && to != nullptr) blobs_->DeletePack(to->name()).IgnoreError();
  return moved;
}

absl::StatusOr<v1::PreviewCleanupResponse> RetentionGc::PreviewCleanup(
    const v1::PreviewCleanupRequest& request, absl::string_view act_for) {
  if (request.limit() < 0) return absl::InvalidArgumentError("limit must not be negative");
  if (!types::v1::PrivacyLevel_IsValid(request.max_privacy_level())) {
    return absl::InvalidArgumentError("unknown max_privacy_level");
  }
  const int limit = request.limit() == 0 ? 1000 : request.limit();
  const absl::Time now = clock_->Now();
  v1::PreviewCleanupResponse response;
  if (request.job_id().empty()) {
    RETURN_IF_ERROR(catalog_->ForEachPack(cat::ListPacksRequest(), [&](const cat::Pack& p) {
      if (!ShouldCompact(p) || response.packs_size() >= limit) return absl::OkStatus();
      v1::PackPreview* out = response.add_packs();
      out->set_name(p.name());
      out->set_size(p.size());
      out->set_live_bytes(p.live_bytes());
      out->set_dead_bytes(p.blob_bytes() - p.live_bytes());
      out->set_live_blobs(p.live_blobs());
      out->set_blobs(p.blobs());
      return absl::OkStatus();
    }));
  }
  std::vector<cat::Job> jobs;
  if (!request.job_id().empty()) {
    RETURN_IF_ERROR(CheckName("job_id", request.job_id()));
    cat::GetJobRequest get;
    get.set_id(request.job_id());
    ASSIGN_OR_RETURN(cat::Job job, catalog_->GetJob(get, clients::ActingFor(act_for)));
    jobs.push_back(std::move(job));
  } else {
    cat::ListJobsRequest all;
    all.set_page_size(1000);
    RETURN_IF_ERROR(catalog_->ForEachJob(all, [&](const cat::Job& job) {
      jobs.push_back(job);
      return absl::OkStatus();
    }));
  }
  for (const cat::Job& job : jobs) {
    ASSIGN_OR_RETURN(std::vector<cat::ArtifactFile> files, AvailableFiles(job.id()));
    for (const cat::ArtifactFile& f : files) {
      if (!Shown(f, request.max_privacy_level())) continue;
      if (response.entries_size() >= limit) return response;
      v1::PreviewEntry* e = response.add_entries();
      e->set_job_id(job.id());
      e->set_path(f.path());
      e->set_size(f.size());
      e->set_privacy_level(f.privacy_level());
      if (f.has_expires_at()) *e->mutable_expires_at() = f.expires_at();
      const gc::Verdict verdict = gc::Judge(job, f, now);
      std::string why(verdict.reason);
      if (verdict.deletes) {
        e->set_would_delete(true);
        // The record goes; say when the bytes would stay.
        cat::GetBlobRefRequest get;
        get.set_sha256(f.sha256());
        auto ref = catalog_->GetBlobRef(get);
        auto blob = blobs_->Stat(f.sha256());
        if (ref.ok() && ref->refcount() > 1) {
          why += "; bytes kept: pinned by another reference";
        } else if (blob.ok() && blob->modified >= now - options_.grace) {
          why += "; bytes kept: inside the grace period";
        }
      }
      e->set_reason(why);
    }
  }
  return response;
}

absl::StatusOr<v1::GcStatusResponse> RetentionGc::GcStatus(const v1::GcStatusRequest& request,
                                                           absl::string_view act_for) {
  RETURN_IF_ERROR(CheckName("job_id", request.job_id()));
  if (!types::v1::PrivacyLevel_IsValid(request.max_privacy_level())) {
    return absl::InvalidArgumentError("unknown max_privacy_level");
  }
  cat::GetJobRequest get;
  get.set_id(request.job_id());
  ASSIGN_OR_RETURN(cat::Job job, catalog_->GetJob(get, clients::ActingFor(act_for)));
  v1::GcStatusResponse response;
  response.set_job_id(job.id());
  *response.mutable_finalizers() = job.finalizers();
  for (const cat::Condition& c : job.conditions()) {
    if (c.type() == std::string(gc::kArtifactGcErrorCondition)) response.set_last_error(c.message());
  }
  cat::ListGcTasksRequest tasks;
  tasks.set_job_id(job.id());
  tasks.set_page_size(1000);
  ASSIGN_OR_RETURN(cat::ListGcTasksResponse listed, catalog_->ListGcTasks(tasks));
  response.set_pending_tasks(listed.tasks_size());
  for (const cat::GcTask& t : listed.tasks()) {
    if (response.last_error().empty() && !t.last_error().empty()) {
      response.set_last_error(t.last_error());
    }
  }
  RETURN_IF_ERROR(catalog_->ForEachFile(AllFiles(job.id()), [&](const cat::ArtifactFile& f) {
    if (!Shown(f, request.max_privacy_level())) return absl::OkStatus();
    if (f.state() == types::v1::FILE_STATE_DELETED) {
      response.set_files_deleted(response.files_deleted() + 1);
    } else {
      response.set_files_available(response.files_available() + 1);
    }
    return absl::OkStatus();
  }));
  return response;
}

}  // namespace arca::retention
