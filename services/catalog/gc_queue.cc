// The catalog: the GC queue retention-gc leases its tasks from.

#include "services/catalog/catalog.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/page_token.h"
#include "common/paths.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "services/catalog/keys.h"
#include "services/catalog/store.h"
#include "services/catalog/validation.h"

namespace arca::catalog {

// -------------------------------------------------------------- GC queue

absl::StatusOr<v1::GcTask> Catalog::EnqueueGcTask(const v1::EnqueueGcTaskRequest& request) {
  const v1::GcTask& in = request.task();
  RETURN_IF_ERROR(CheckJobId(in.job_id()));
  if (in.event() == v1::GC_EVENT_UNSPECIFIED || !v1::GcEvent_IsValid(in.event())) {
    return absl::InvalidArgumentError(absl::StrCat("event has unknown value ", in.event()));
  }
  const absl::Time due = in.has_due() ? FromProtoTime(in.due()) : clock_->Now();
  rocksdb::WriteBatch batch;
  v1::GcTask task = AddGcTask(in.job_id(), in.event(), in.outcome(), due, batch);
  RETURN_IF_ERROR(Write(batch));
  return task;
}

absl::StatusOr<v1::LeaseGcTasksResponse> Catalog::LeaseGcTasks(
    const v1::LeaseGcTasksRequest& request) {
  if (request.max_tasks() < 1 || request.max_tasks() > 1000) {
    return absl::InvalidArgumentError("max_tasks must be between 1 and 1000");
  }
  const absl::Duration lease = FromProtoDuration(request.lease());
  if (lease <= absl::ZeroDuration() || lease > absl::Hours(1)) {
    return absl::InvalidArgumentError("lease must be more than 0 and at most 1 h");
  }
  RETURN_IF_ERROR(CheckText("owner", request.owner(), 255));
  const absl::Time now = clock_->Now();
  const std::string end = absl::StrCat("q/", Be64(Micros(now) + 1));
  // Find candidates, then lock and re-check each: a task completed or leased
  // in between is skipped.
  std::vector<std::string> ids;
  {
    Reader r(db_.get());
    auto it = r.Iterate();
    for (it->Seek("q/"); it->Valid() && it->key().compare(end) < 0 &&
                         static_cast<int>(ids.size()) < request.max_tasks();
         it->Next()) {
      ids.push_back(it->key().ToString().substr(10));
    }
    RETURN_IF_ERROR(FromRocks(it->status()));
  }
  std::vector<std::string> lock_keys;
  for (const std::string& id : ids) lock_keys.push_back(TaskKey(id));
  KeyLocks::Held held(locks_.get(), lock_keys);
  Reader r(db_.get());
  rocksdb::WriteBatch batch;
  v1::LeaseGcTasksResponse response;
  for (const std::string& id : ids) {
    std::string due;
    absl::Status s = r.GetRaw(TaskKey(id), &due);
    if (absl::IsNotFound(s)) continue;
    RETURN_IF_ERROR(s);
    if (due.size() != 8) return Corrupt(TaskKey(id));
    if (ReadBe64(due.data()) > Micros(now)) continue;  // leased by someone else meanwhile
    v1::GcTask task;
    ASSIGN_OR_RETURN(bool found, r.Get(QueueKey(ReadBe64(due.data()), id), &task));
    if (!found) return Corrupt(TaskKey(id));
    batch.Delete(QueueKey(ReadBe64(due.data()), id));
    task.set_attempts(task.attempts() + 1);
    task.set_lease_token(RandomToken(16));
    task.set_lease_owner(request.owner());
    *task.mutable_due() = ToProtoTime(now + lease);
    const uint64_t new_due = Micros(task.due());
    batch.Put(QueueKey(new_due, id), task.SerializeAsString());
    batch.Put(TaskKey(id), Be64(new_due));
    *response.add_tasks() = std::move(task);
  }
  if (response.tasks_size() > 0) RETURN_IF_ERROR(Write(batch));
  return response;
}

absl::StatusOr<v1::GcTask> Catalog::LeasedTask(Reader& r, const std::string& task_id,
                                               const std::string& lease_token) {
  std::string due;
  absl::Status s = r.GetRaw(TaskKey(task_id), &due);
  if (absl::IsNotFound(s)) return absl::NotFoundError(absl::StrCat("no GC task ", task_id));
  RETURN_IF_ERROR(s);
  if (due.size() != 8) return Corrupt(TaskKey(task_id));
  v1::GcTask task;
  ASSIGN_OR_RETURN(bool found, r.Get(QueueKey(ReadBe64(due.data()), task_id), &task));
  if (!found) return Corrupt(TaskKey(task_id));
  if (task.lease_token().empty() || task.lease_token() != lease_token) {
    return absl::FailedPreconditionError(absl::StrCat(
        "GC task ", task_id, " is not leased with this token (lease expired or taken)"));
  }
  return task;
}

absl::Status Catalog::CompleteGcTask(const v1::CompleteGcTaskRequest& request) {
  RETURN_IF_ERROR(CheckName("task_id", request.task_id()));
  KeyLocks::Held held(locks_.get(), {TaskKey(request.task_id())});
  Reader r(db_.get());
  ASSIGN_OR_RETURN(v1::GcTask task, LeasedTask(r, request.task_id(), request.lease_token()));
  rocksdb::WriteBatch batch;
  batch.Delete(QueueKey(Micros(task.due()), task.id()));
  batch.Delete(TaskKey(task.id()));
  return Write(batch);
}

absl::StatusOr<v1::GcTask> Catalog::RetryGcTask(const v1::RetryGcTaskRequest& request) {
  RETURN_IF_ERROR(CheckName("task_id", request.task_id()));
  RETURN_IF_ERROR(CheckText("error", request.error()));
  KeyLocks::Held held(locks_.get(), {TaskKey(request.task_id())});
  Reader r(db_.get());
  ASSIGN_OR_RETURN(v1::GcTask task, LeasedTask(r, request.task_id(), request.lease_token()));
  rocksdb::WriteBatch batch;
  batch.Delete(QueueKey(Micros(task.due()), task.id()));
  task.clear_lease_token();
  task.clear_lease_owner();
  task.set_last_error(request.error());
  *task.mutable_due() = request.has_next_due() ? request.next_due() : ToProtoTime(clock_->Now());
  batch.Put(QueueKey(Micros(task.due()), task.id()), task.SerializeAsString());
  batch.Put(TaskKey(task.id()), Be64(Micros(task.due())));
  RETURN_IF_ERROR(Write(batch));
  return task;
}

absl::StatusOr<v1::GcQueueStatsResponse> Catalog::GcQueueStats() {
  Reader r(db_.get());
  v1::GcQueueStatsResponse response;
  auto it = r.Iterate();
  for (it->Seek("q/"); it->Valid() && it->key().starts_with("q/"); it->Next()) {
    if (response.depth() == 0) {
      *response.mutable_oldest_due() = ToProtoTime(
          absl::FromUnixMicros(static_cast<int64_t>(ReadBe64(it->key().data() + 2))));
    }
    response.set_depth(response.depth() + 1);
  }
  RETURN_IF_ERROR(FromRocks(it->status()));
  return response;
}

absl::StatusOr<v1::ListGcTasksResponse> Catalog::ListGcTasks(
    const v1::ListGcTasksRequest& request) {
  ASSIGN_OR_RETURN(int page_size, CheckPageSize(request.page_size()));
  if (!request.job_id().empty()) RETURN_IF_ERROR(CheckJobId(request.job_id()));
  ASSIGN_OR_RETURN(std::string after, DecodePageToken("gctasks", request.page_token()));
  Reader r(db_.get());
  v1::ListGcTasksResponse response;
  auto it = r.Iterate();
  std::string last_key;
  for (it->Seek(after.empty() ? "q/" : after); it->Valid() && it->key().starts_with("q/");
       it->Next()) {
    if (!after.empty() && it->key() == after) continue;
    v1::GcTask task;
    if (!task.ParseFromArray(it->value().data(), it->value().size())) {
      return Corrupt(it->key().ToString());
    }
    if (!request.job_id().empty() && task.job_id() != request.job_id()) continue;
    if (response.tasks_size() == page_size) {
      response.set_next_page_token(EncodePageToken("gctasks", last_key));
      break;
    }
    *response.add_tasks() = std::move(task);
    last_key = it->key().ToString();
  }
  RETURN_IF_ERROR(FromRocks(it->status()));
  return response;
}

}  // namespace arca::catalog
