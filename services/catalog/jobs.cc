// The catalog: jobs, their steps, outcomes, finalizers and conditions.

#include "services/catalog/catalog.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
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

using ::arca::types::v1::JobStatus;
using ::google::protobuf::util::MessageDifferencer;

JobStatus DeriveStatus(const google::protobuf::RepeatedPtrField<v1::Step>& steps, bool finished) {
  bool started = false, failed = false;
  for (const v1::Step& s : steps) {
    failed |= s.status() == types::v1::STEP_STATUS_FAILURE;
    started |= s.status() != types::v1::STEP_STATUS_QUEUED;
  }
  // As o2r's executor: the overall status is decided when the job ends
  // (its cleanup runs after a failed step); until then it is running.
  if (finished) return failed ? types::v1::JOB_STATUS_FAILURE : types::v1::JOB_STATUS_SUCCESS;
  return started ? types::v1::JOB_STATUS_RUNNING : types::v1::JOB_STATUS_QUEUED;
}

// ------------------------------------------------------------------ jobs

namespace {

absl::Status ValidateJobSpec(const v1::Job& job) {
  if (!job.id().empty()) RETURN_IF_ERROR(CheckJobId(job.id()));
  RETURN_IF_ERROR(CheckName("group", job.group()));
  RETURN_IF_ERROR(CheckText("name", job.name(), 1024));
  if (!job.compendium_id().empty()) RETURN_IF_ERROR(CheckName("compendium_id", job.compendium_id()));
  RETURN_IF_ERROR(CheckMap("labels", job.labels()));
  RETURN_IF_ERROR(CheckEnum("gc_strategy", types::v1::GcStrategy_IsValid(job.gc_strategy()),
                            job.gc_strategy()));
  if (job.has_retention()) RETURN_IF_ERROR(CheckRetention("retention", job.retention()));
  RETURN_IF_ERROR(CheckText("command", job.command(), 64 << 10));
  if (job.gc_rules_size() > 100) {
    return absl::InvalidArgumentError(
        absl::StrCat("at most 100 gc_rules, got ", job.gc_rules_size()));
  }
  for (const v1::GcRule& rule : job.gc_rules()) {
    if (rule.glob().empty()) return absl::InvalidArgumentError("a gc_rule needs a glob");
    RETURN_IF_ERROR(CheckText("gc_rule glob", rule.glob(), 1024));
    if (!types::v1::GcStrategy_IsValid(rule.strategy()) ||
        rule.strategy() == types::v1::GC_STRATEGY_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat("gc_rule \"", rule.glob(), "\" needs a strategy"));
    }
  }
  return absl::OkStatus();
}

// The part of a job its creator chose; equal specs make create idempotent.
v1::Job SpecOf(const v1::Job& job) {
  v1::Job spec;
  spec.set_id(job.id());
  spec.set_group(job.group());
  spec.set_name(job.name());
  spec.set_compendium_id(job.compendium_id());
  *spec.mutable_labels() = job.labels();
  spec.set_gc_strategy(job.gc_strategy());
  if (job.has_retention()) *spec.mutable_retention() = job.retention();
  spec.set_command(job.command());
  *spec.mutable_gc_rules() = job.gc_rules();
  spec.set_force_finalizer_removal(job.force_finalizer_removal());
  return spec;
}

}  // namespace

absl::StatusOr<v1::CreateJobResponse> Catalog::CreateJob(const v1::CreateJobRequest& request) {
  RETURN_IF_ERROR(ValidateJobSpec(request.job()));
  const absl::Time now = clock_->Now();
  v1::Job job = SpecOf(request.job());
  if (job.id().empty()) job.set_id(NewSortableId("job", now));
  KeyLocks::Held held(locks_.get(), {JobKey(job.id())});
  Reader r(db_.get());
  v1::Job existing;
  ASSIGN_OR_RETURN(bool exists, r.Get(JobKey(job.id()), &existing));
  v1::CreateJobResponse response;
  if (exists) {
    if (!MessageDifferencer::Equals(SpecOf(existing), job)) {
      return absl::AlreadyExistsError(
          absl::StrCat("job ", job.id(), " already exists with a different spec"));
    }
    *response.mutable_job() = std::move(existing);
    return response;
  }
  if (!job.compendium_id().empty()) {
    v1::JobArtifact a;
    ASSIGN_OR_RETURN(bool found, r.Get(ArtifactKey(job.compendium_id()), &a));
    if (!found) return absl::NotFoundError("no compendium with this ID found");
  }
  job.set_status(types::v1::JOB_STATUS_QUEUED);
  *job.mutable_created_at() = ToProtoTime(now);
  rocksdb::WriteBatch batch;
  batch.Put(JobKey(job.id()), job.SerializeAsString());
  batch.Put(JobTimeKey(job), "");
  batch.Put(JobGroupKey(job), "");
  RETURN_IF_ERROR(Write(batch));
  *response.mutable_job() = std::move(job);
  response.set_created(true);
  return response;
}

absl::StatusOr<v1::Job> Catalog::GetJob(absl::string_view id) {
  RETURN_IF_ERROR(CheckJobId(id));
  Reader r(db_.get());
  v1::Job job;
  ASSIGN_OR_RETURN(bool found, r.Get(JobKey(id), &job));
  if (!found) return JobNotFound(id);
  return job;
}

absl::StatusOr<v1::ListJobsResponse> Catalog::ListJobs(const v1::ListJobsRequest& request) {
  ASSIGN_OR_RETURN(int page_size, CheckPageSize(request.page_size()));
  if (!request.group().empty()) RETURN_IF_ERROR(CheckName("group", request.group()));
  if (request.offset() < 0) return absl::InvalidArgumentError("offset must not be negative");
  for (int s : request.statuses()) {
    RETURN_IF_ERROR(CheckEnum("statuses", types::v1::JobStatus_IsValid(s), s));
  }
  if (!request.condition().empty()) RETURN_IF_ERROR(CheckName("condition", request.condition()));
  // The narrowest index: a condition's jobs, a group's, or all.
  const std::string prefix = !request.condition().empty() ? ConditionPrefix(request.condition())
                             : !request.group().empty()   ? GroupPrefix(request.group())
                                                          : "t/";
  const std::string kind = request.condition().empty()
                               ? absl::StrCat("jobs:", request.group())
                               : absl::StrCat("jobs:", request.group(), ":", request.condition());
  ASSIGN_OR_RETURN(std::string after, DecodePageToken(kind, request.page_token()));
  if (!after.empty() && !absl::StartsWith(after, prefix)) {
    return absl::InvalidArgumentError("malformed page_token");
  }
  absl::flat_hash_set<int> statuses(request.statuses().begin(), request.statuses().end());
  absl::flat_hash_set<std::string> compendia(request.compendium_ids().begin(),
                                              request.compendium_ids().end());
  absl::flat_hash_set<std::string> groups(request.visible_groups().begin(),
                                          request.visible_groups().end());
  v1::ListJobsResponse response;
  Reader r(db_.get());
  auto it = r.Iterate();
  int to_skip = request.offset();
  std::string last_key;
  for (it->Seek(after.empty() ? prefix : after);
       it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (!after.empty() && it->key() == after) continue;
    absl::string_view id(it->key().data() + prefix.size() + 8,
                         it->key().size() - prefix.size() - 8);
    v1::Job job;
    ASSIGN_OR_RETURN(bool found, r.Get(JobKey(id), &job));
    if (!found) return Corrupt(it->key().ToString());
    if (!statuses.empty() && !statuses.contains(job.status())) continue;
    if (!compendia.empty() && !compendia.contains(job.compendium_id())) continue;
    if (!groups.empty() && !groups.contains(job.group())) continue;
    if (!request.group().empty() && job.group() != request.group()) continue;
    if (to_skip > 0) {
      --to_skip;
      continue;
    }
    if (response.jobs_size() == page_size) {
      response.set_next_page_token(EncodePageToken(kind, last_key));
      break;
    }
    *response.add_jobs() = std::move(job);
    last_key = it->key().ToString();
  }
  RETURN_IF_ERROR(FromRocks(it->status()));
  return response;
}

absl::StatusOr<v1::Job> Catalog::UpdateStep(const v1::UpdateStepRequest& request) {
  RETURN_IF_ERROR(CheckJobId(request.job_id()));
  const v1::Step& in = request.step();
  if (in.name().empty()) return absl::InvalidArgumentError("step name is empty");
  RETURN_IF_ERROR(CheckText("step name", in.name(), 255));
  RETURN_IF_ERROR(CheckText("step text", in.text()));
  if (in.status() == types::v1::STEP_STATUS_UNSPECIFIED ||
      !types::v1::StepStatus_IsValid(in.status())) {
    return absl::InvalidArgumentError(
        absl::StrCat("step status must be queued, running, success, failure, warning or "
                     "skip; got ",
                     in.status()));
  }
  if (in.has_start()) RETURN_IF_ERROR(CheckTime("step start", in.start()));
  if (in.has_end()) RETURN_IF_ERROR(CheckTime("step end", in.end()));
  KeyLocks::Held held(locks_.get(), {JobKey(request.job_id())});
  Reader r(db_.get());
  v1::Job job;
  ASSIGN_OR_RETURN(bool found, r.Get(JobKey(request.job_id()), &job));
  if (!found) return JobNotFound(request.job_id());
  if (job.has_finished_at()) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", job.id(), " has finished; its steps are final"));
  }
  if (job.has_deletion_requested_at()) {
    return absl::FailedPreconditionError(absl::StrCat("job ", job.id(), " is being deleted"));
  }
  v1::Step* step = nullptr;
  for (v1::Step& s : *job.mutable_steps()) {
    if (s.name() == in.name()) step = &s;
  }
  if (step == nullptr) {
    if (job.steps_size() >= 256) {
      return absl::InvalidArgumentError("a job has at most 256 steps");
    }
    step = job.add_steps();
    step->set_name(in.name());
  }
  step->set_status(in.status());
  if (in.has_start()) *step->mutable_start() = in.start();
  if (in.has_end()) *step->mutable_end() = in.end();
  if (!in.text().empty()) step->set_text(in.text());
  job.set_status(DeriveStatus(job.steps(), job.has_finished_at()));
  rocksdb::WriteBatch batch;
  batch.Put(JobKey(job.id()), job.SerializeAsString());
  RETURN_IF_ERROR(Write(batch));
  return job;
}

v1::GcTask Catalog::AddGcTask(const std::string& job_id, v1::GcEvent event,
                              JobStatus outcome, absl::Time due, rocksdb::WriteBatch& batch) {
  v1::GcTask task;
  task.set_id(NewSortableId("gc", due));
  task.set_job_id(job_id);
  task.set_event(event);
  task.set_outcome(outcome);
  *task.mutable_due() = ToProtoTime(due);
  *task.mutable_enqueued_at() = ToProtoTime(clock_->Now());
  batch.Put(QueueKey(Micros(due), task.id()), task.SerializeAsString());
  batch.Put(TaskKey(task.id()), Be64(Micros(due)));
  return task;
}

absl::StatusOr<v1::Job> Catalog::FinishJob(const v1::FinishJobRequest& request) {
  RETURN_IF_ERROR(CheckJobId(request.job_id()));
  if (request.outcome() != types::v1::JOB_STATUS_UNSPECIFIED &&
      request.outcome() != types::v1::JOB_STATUS_SUCCESS &&
      request.outcome() != types::v1::JOB_STATUS_FAILURE) {
    return absl::InvalidArgumentError("outcome must be success or failure");
  }
  KeyLocks::Held held(locks_.get(), {JobKey(request.job_id())});
  Reader r(db_.get());
  v1::Job job;
  ASSIGN_OR_RETURN(bool found, r.Get(JobKey(request.job_id()), &job));
  if (!found) return JobNotFound(request.job_id());
  if (job.has_finished_at()) return job;
  const absl::Time now = clock_->Now();
  for (v1::Step& s : *job.mutable_steps()) {
    if (s.status() == types::v1::STEP_STATUS_RUNNING) {
      s.set_status(types::v1::STEP_STATUS_FAILURE);
      if (s.text().empty()) s.set_text("the job finished while this step was running");
      if (!s.has_end()) *s.mutable_end() = ToProtoTime(now);
    }  // queued ones never ran: they stay queued, as o2r shows them
  }
  if (job.steps_size() > 0) {
    job.set_status(DeriveStatus(job.steps(), /*finished=*/true));
  } else {
    job.set_status(request.outcome() == types::v1::JOB_STATUS_FAILURE
                       ? types::v1::JOB_STATUS_FAILURE
                       : types::v1::JOB_STATUS_SUCCESS);
  }
  *job.mutable_finished_at() = ToProtoTime(now);
  rocksdb::WriteBatch batch;
  // Files committed while the job ran expire from now on.
  const std::string prefix = FilePrefix(job.id());
  auto it = r.Iterate();
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    v1::ArtifactFile f;
    if (!f.ParseFromArray(it->value().data(), it->value().size())) {
      return Corrupt(it->key().ToString());
    }
    const absl::Duration retention = RetentionOf(job, f.path());
    if (f.state() != types::v1::FILE_STATE_AVAILABLE || f.has_expires_at() ||
        retention < absl::ZeroDuration()) {
      continue;
    }
    *f.mutable_expires_at() = ToProtoTime(now + retention);
    batch.Put(it->key(), f.SerializeAsString());
    batch.Put(ExpiryKey(f), "");
  }
  RETURN_IF_ERROR(FromRocks(it->status()));
  AddGcTask(job.id(), v1::GC_EVENT_JOB_FINISHED, job.status(), now, batch);
  batch.Put(JobKey(job.id()), job.SerializeAsString());
  RETURN_IF_ERROR(Write(batch));
  return job;
}

void Catalog::PurgeJob(const v1::Job& job, rocksdb::WriteBatch& batch, absl::Time now) {
  batch.Delete(JobKey(job.id()));
  batch.Delete(JobTimeKey(job));
  batch.Delete(JobGroupKey(job));
  for (const v1::Condition& c : job.conditions()) batch.Delete(JobConditionKey(c.type(), job));
  // Deleted files' records go with the job; available ones stay until TTL
  // removes them, and get an expiry if the job never finished.
  Reader r(db_.get());
  const std::string prefix = FilePrefix(job.id());
  auto it = r.Iterate();
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    v1::ArtifactFile f;
    if (!f.ParseFromArray(it->value().data(), it->value().size())) continue;
    const absl::Duration retention = RetentionOf(job, f.path());
    if (f.state() == types::v1::FILE_STATE_DELETED) {
      batch.Delete(it->key());
    } else if (!f.has_expires_at() && retention >= absl::ZeroDuration()) {
      *f.mutable_expires_at() = ToProtoTime(now + retention);
      batch.Put(it->key(), f.SerializeAsString());
      batch.Put(ExpiryKey(f), "");
    }
  }
}

absl::StatusOr<v1::DeleteJobResponse> Catalog::DeleteJob(const v1::DeleteJobRequest& request) {
  RETURN_IF_ERROR(CheckJobId(request.id()));
  KeyLocks::Held held(locks_.get(), {JobKey(request.id())});
  Reader r(db_.get());
  v1::Job job;
  ASSIGN_OR_RETURN(bool found, r.Get(JobKey(request.id()), &job));
  if (!found) return JobNotFound(request.id());
  const absl::Time now = clock_->Now();
  rocksdb::WriteBatch batch;
  v1::DeleteJobResponse response;
  if (request.force() || job.finalizers().empty()) {
    PurgeJob(job, batch, now);
    RETURN_IF_ERROR(Write(batch));
    response.set_purged(true);
    return response;
  }
  if (!job.has_deletion_requested_at()) {
    *job.mutable_deletion_requested_at() = ToProtoTime(now);
    AddGcTask(job.id(), v1::GC_EVENT_JOB_DELETED, job.status(), now, batch);
    batch.Put(JobKey(job.id()), job.SerializeAsString());
    RETURN_IF_ERROR(Write(batch));
  }
  response.set_purged(false);
  *response.mutable_pending_finalizers() = job.finalizers();
  *response.mutable_job() = std::move(job);
  return response;
}

absl::StatusOr<v1::RemoveFinalizerResponse> Catalog::RemoveFinalizer(
    const v1::RemoveFinalizerRequest& request) {
  RETURN_IF_ERROR(CheckJobId(request.job_id()));
  if (request.finalizer().empty()) return absl::InvalidArgumentError("finalizer is empty");
  KeyLocks::Held held(locks_.get(), {JobKey(request.job_id())});
  Reader r(db_.get());
  v1::Job job;
  ASSIGN_OR_RETURN(bool found, r.Get(JobKey(request.job_id()), &job));
  if (!found) return JobNotFound(request.job_id());
  auto* f = job.mutable_finalizers();
  f->erase(std::remove(f->begin(), f->end(), request.finalizer()), f->end());
  rocksdb::WriteBatch batch;
  v1::RemoveFinalizerResponse response;
  if (job.has_deletion_requested_at() && job.finalizers().empty()) {
    PurgeJob(job, batch, clock_->Now());
    response.set_purged(true);
  } else {
    batch.Put(JobKey(job.id()), job.SerializeAsString());
  }
  RETURN_IF_ERROR(Write(batch));
  return response;
}

absl::StatusOr<v1::Job> Catalog::SetCondition(const v1::SetConditionRequest& request) {
  RETURN_IF_ERROR(CheckJobId(request.job_id()));
  RETURN_IF_ERROR(CheckName("condition type", request.condition().type()));
  RETURN_IF_ERROR(CheckText("condition message", request.condition().message()));
  KeyLocks::Held held(locks_.get(), {JobKey(request.job_id())});
  Reader r(db_.get());
  v1::Job job;
  ASSIGN_OR_RETURN(bool found, r.Get(JobKey(request.job_id()), &job));
  if (!found) return JobNotFound(request.job_id());
  auto* conditions = job.mutable_conditions();
  conditions->erase(std::remove_if(conditions->begin(), conditions->end(),
                                   [&](const v1::Condition& c) {
                                     return c.type() == request.condition().type();
                                   }),
                    conditions->end());
  rocksdb::WriteBatch batch;
  const std::string index_key = JobConditionKey(request.condition().type(), job);
  if (request.remove()) {
    batch.Delete(index_key);
  } else {
    v1::Condition* c = job.add_conditions();
    *c = request.condition();
    if (!c->has_last_transition_time()) *c->mutable_last_transition_time() = ToProtoTime(clock_->Now());
    batch.Put(index_key, "");
  }
  batch.Put(JobKey(job.id()), job.SerializeAsString());
  RETURN_IF_ERROR(Write(batch));
  return job;
}

}  // namespace arca::catalog
