#ifndef ARCA_SERVICES_CATALOG_CATALOG_H_
#define ARCA_SERVICES_CATALOG_CATALOG_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/gc/policy.h"
#include "common/clock.h"
#include "proto/catalog/v1/catalog.pb.h"

namespace rocksdb {
class DB;
class Snapshot;
class WriteBatch;
}  // namespace rocksdb

namespace arca::catalog {

class DiskRoom;
namespace v1 = ::arca::catalog::v1;

struct CatalogOptions {
  // Directory of the RocksDB database; created if missing. Required.
  std::string data_dir;
  // Retention of a job that sets none: files expire this long after the job
  // finishes. Default: 7 days (PrimeHub's).
  absl::Duration default_retention = absl::Hours(24 * 7);
  // A job's logs (.arca/logs/) are kept at least this long after it
  // finishes, whatever its retention (unless that keeps files forever).
  // Default: 30 days.
  absl::Duration log_retention = absl::Hours(24 * 30);
  // Sync the WAL before acknowledging a write. Default: true. Only benchmarks
  // that measure the cost of durability turn it off.
  bool sync_writes = true;
  // RocksDB block cache. Default: 128 MiB.
  size_t block_cache_bytes = 128 << 20;
  // Where checkpoints go (created if missing); a checkpoint is written
  // nowhere else. Empty: checkpoints are refused.
  std::string backup_dir;
  // Writes are refused (RESOURCE_EXHAUSTED) while the database's disk has
  // less than this free, and resume by themselves once it has; reads go on
  // either way. Default: 256 MiB.
  int64_t min_free_bytes = 256 << 20;
  // A file of this size kept in data_dir and given back when the catalog
  // starts on a full disk, so it can open and serve reads. 0: none.
  // Default: 64 MiB.
  int64_t reserve_bytes = 64 << 20;
  // How free space is measured; unset: statvfs of data_dir (tests set it).
  std::function<absl::StatusOr<int64_t>()> free_bytes;
  // Uploads the checkpoint in `dir` as `name` and says where it went, for
  // checkpoints asked to go to the store. Unset: there is no store.
  std::function<absl::StatusOr<std::string>(const std::string& dir, const std::string& name)>
      ship_checkpoint;
};

// The catalog's core: every operation is validated, then applied as one
// RocksDB WriteBatch, acknowledged after the WAL is synced. Readers see
// either all of a write or none of it. Thread-safe.
//
// Errors: INVALID_ARGUMENT names the offending field; NOT_FOUND says what
// was missing; ALREADY_EXISTS and FAILED_PRECONDITION as documented per
// method and in proto/catalog/v1/catalog.proto; RESOURCE_EXHAUSTED for any
// write while the disk is full (see CatalogOptions::min_free_bytes);
// INTERNAL for storage faults.
class Catalog {
 public:
  // FAILED_PRECONDITION if the database was written by a newer schema;
  // UNAVAILABLE if it cannot be opened (e.g. another process holds it). On
  // a disk too full to open it for writing, even after giving back the
  // reserve, it is opened for reading only (writes are RESOURCE_EXHAUSTED
  // until a restart with room).
  static absl::StatusOr<std::unique_ptr<Catalog>> Open(const CatalogOptions& options,
                                                       Clock* clock);
  ~Catalog();

  // The on-disk schema this code reads and writes. 2 added the index of
  // jobs by condition, 3 the index of live packed blobs and retired pack
  // files apart from packs (each built when an older database is opened).
  static constexpr int kSchemaVersion = 3;

  // --- Job artifacts. ---
  // ALREADY_EXISTS if the id or name+version is taken by different content
  // and overwrite is false, or if id and name+version name two different
  // stored artifacts. An identical retry returns the stored artifact.
  // FAILED_PRECONDITION if expected_revision is set and differs.
  absl::StatusOr<v1::RegisterJobArtifactResponse> RegisterJobArtifact(
      const v1::RegisterJobArtifactRequest& request);
  // NOT_FOUND if no artifact has this id.
  absl::StatusOr<v1::JobArtifact> GetJobArtifact(absl::string_view artifact_id);
  absl::StatusOr<v1::ListJobArtifactsResponse> ListJobArtifacts(
      const v1::ListJobArtifactsRequest& request);
  absl::StatusOr<v1::ListJobArtifactNamesResponse> ListJobArtifactNames(
      const v1::ListJobArtifactNamesRequest& request);
  // NOT_FOUND if absent; FAILED_PRECONDITION on a revision mismatch.
  absl::Status DeleteJobArtifact(const v1::DeleteJobArtifactRequest& request);

  // --- Jobs. ---
  // NOT_FOUND "no compendium with this ID found" for an unknown
  // compendium_id; ALREADY_EXISTS for a known id with a different spec.
  absl::StatusOr<v1::CreateJobResponse> CreateJob(const v1::CreateJobRequest& request);
  // NOT_FOUND if no job has this id.
  absl::StatusOr<v1::Job> GetJob(absl::string_view id);
  absl::StatusOr<v1::ListJobsResponse> ListJobs(const v1::ListJobsRequest& request);
  // FAILED_PRECONDITION once the job has finished or is being deleted.
  absl::StatusOr<v1::Job> UpdateStep(const v1::UpdateStepRequest& request);
  // Idempotent. Closes open steps, fixes file expiries, enqueues
  // GC_EVENT_JOB_FINISHED.
  absl::StatusOr<v1::Job> FinishJob(const v1::FinishJobRequest& request);
  absl::StatusOr<v1::DeleteJobResponse> DeleteJob(const v1::DeleteJobRequest& request);
  absl::StatusOr<v1::RemoveFinalizerResponse> RemoveFinalizer(
      const v1::RemoveFinalizerRequest& request);
  absl::StatusOr<v1::Job> SetCondition(const v1::SetConditionRequest& request);

  // --- Files. ---
  // All or nothing. NOT_FOUND for an unknown job; FAILED_PRECONDITION while
  // the job is being deleted; ALREADY_EXISTS if a path is stored with
  // another digest.
  absl::StatusOr<v1::CommitFilesResponse> CommitFiles(const v1::CommitFilesRequest& request);
  absl::StatusOr<v1::ListFilesResponse> ListFiles(const v1::ListFilesRequest& request);
  // NOT_FOUND if the job has no file at this path.
  absl::StatusOr<v1::ArtifactFile> GetFile(absl::string_view job_id, absl::string_view path);

  // --- For retention-gc. ---
  absl::StatusOr<v1::ListExpiredFilesResponse> ListExpiredFiles(
      const v1::ListExpiredFilesRequest& request);
  absl::StatusOr<v1::MarkFilesDeletedResponse> MarkFilesDeleted(
      const v1::MarkFilesDeletedRequest& request);
  // NOT_FOUND if no file references this blob and none did recently.
  absl::StatusOr<v1::BlobRef> GetBlobRef(absl::string_view sha256);
  absl::StatusOr<v1::GetBlobRefsResponse> GetBlobRefs(const v1::GetBlobRefsRequest& request);
  absl::StatusOr<v1::ListUnreferencedBlobsResponse> ListUnreferencedBlobs(
      const v1::ListUnreferencedBlobsRequest& request);
  // FAILED_PRECONDITION unless still unreferenced since before the given
  // time; NOT_FOUND if there is no record.
  absl::Status ForgetBlob(const v1::ForgetBlobRequest& request);
  absl::StatusOr<v1::ListPacksResponse> ListPacks(const v1::ListPacksRequest& request);
  absl::StatusOr<v1::ListPackedBlobsResponse> ListPackedBlobs(
      const v1::ListPackedBlobsRequest& request);
  absl::StatusOr<v1::MovePackedBlobsResponse> MovePackedBlobs(
      const v1::MovePackedBlobsRequest& request);
  absl::Status ForgetPack(const v1::ForgetPackRequest& request);
  absl::StatusOr<v1::GcTask> EnqueueGcTask(const v1::EnqueueGcTaskRequest& request);
  // Hands out due tasks, each leased until now + lease; a task whose lease
  // expires is due again.
  absl::StatusOr<v1::LeaseGcTasksResponse> LeaseGcTasks(
      const v1::LeaseGcTasksRequest& request);
  // FAILED_PRECONDITION if the lease token is not the current one.
  absl::Status CompleteGcTask(const v1::CompleteGcTaskRequest& request);
  absl::StatusOr<v1::GcTask> RetryGcTask(const v1::RetryGcTaskRequest& request);
  absl::StatusOr<v1::GcQueueStatsResponse> GcQueueStats();
  absl::StatusOr<v1::ListGcTasksResponse> ListGcTasks(const v1::ListGcTasksRequest& request);

  // RocksDB's own figure for a property such as "rocksdb.estimate-num-keys".
  uint64_t GetIntProperty(absl::string_view property);
  // Time writers have spent stalled by RocksDB since the database opened.
  double WriteStallSeconds();
  // Flushes memtables to disk (used on shutdown).
  absl::Status Flush();
  // Bytes free on the database's disk, as last seen; whether writes are
  // refused for want of room.
  int64_t DiskFreeBytes() const;
  bool WritesRefused() const { return writes_refused_; }
  // A consistent online copy of the database in `dir`, a name beneath the
  // backup directory ("2026-11-27", "daily/2026-11-27") or an absolute path
  // that lies beneath it; missing parents beneath it are made.
  // INVALID_ARGUMENT for any other path (".." included); ALREADY_EXISTS if
  // it exists; FAILED_PRECONDITION without a backup directory. With
  // to_store, the copy is also shipped (options' ship_checkpoint; without
  // one, FAILED_PRECONDITION before anything is written).
  absl::StatusOr<v1::CreateCheckpointResponse> CreateCheckpoint(const std::string& dir,
                                                                bool to_store = false);

 private:
  class KeyLocks;
  class Reader;
  Catalog(const CatalogOptions& options, Clock* clock, std::unique_ptr<rocksdb::DB> db,
          std::unique_ptr<DiskRoom> room, bool read_only);
  absl::Status Write(rocksdb::WriteBatch& batch);
  void PurgeJob(const v1::Job& job, rocksdb::WriteBatch& batch, absl::Time now);
  v1::GcTask AddGcTask(const std::string& job_id, v1::GcEvent event,
                       arca::types::v1::JobStatus outcome, absl::Time due,
                       rocksdb::WriteBatch& batch);
  // How long the job's file at `path` is kept after the job finishes
  // (negative: no expiry).
  absl::Duration RetentionOf(const v1::Job& job, absl::string_view path) const;
  // The task, if `lease_token` is its current lease; FAILED_PRECONDITION if
  // the lease lapsed or went to another worker; NOT_FOUND if there is none.
  absl::StatusOr<v1::GcTask> LeasedTask(Reader& r, const std::string& task_id,
                                        const std::string& lease_token);
  class Locator;

  CatalogOptions options_;
  Clock* clock_;
  std::unique_ptr<rocksdb::DB> db_;
  std::unique_ptr<KeyLocks> locks_;
  std::unique_ptr<DiskRoom> room_;
  const bool read_only_;
  std::atomic<bool> writes_refused_{false};
  std::atomic<bool> resume_{false};  // a write failed for want of room: Resume first
};

// o2r's rule: any failure -> failure; else a finished job -> success; an
// unfinished one is running once any step has left the queue (a job whose
// steps so far all succeeded is still running), else queued.
arca::types::v1::JobStatus DeriveStatus(const google::protobuf::RepeatedPtrField<v1::Step>& steps,
                                        bool finished);

}  // namespace arca::catalog

#endif  // ARCA_SERVICES_CATALOG_CATALOG_H_
