#ifndef ARCA_SERVICES_RETENTION_RETENTION_GC_H_
#define ARCA_SERVICES_RETENTION_RETENTION_GC_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/gc/policy.h"
#include "common/blob/store.h"
#include "common/clock.h"
#include "common/clients/catalog.h"
#include "common/metrics/table.h"
#include "proto/catalog/v1/catalog.pb.h"
#include "proto/retention/v1/retention.pb.h"

namespace arca::retention {

namespace v1 = ::arca::retention::v1;

struct RetentionOptions {
  // Who leases tasks (unique per worker). Default: set by main.cc.
  std::string worker_id = "retention-gc";
  // How long a leased task is ours before another worker may take it.
  // Default: 5 minutes.
  absl::Duration lease = absl::Minutes(5);
  // Retries: base * factor^(attempt-1), capped; after max_attempts the job
  // gets an ArtifactGCError condition and the task keeps being retried,
  // spaced up to error_retry_cap, until it succeeds and the condition (and
  // the finalizer) clear on their own. Defaults: 1 s, x2, 5 min, 8, 1 hour.
  absl::Duration backoff_base = absl::Seconds(1);
  double backoff_factor = 2;
  absl::Duration backoff_cap = absl::Minutes(5);
  int max_attempts = 8;
  absl::Duration error_retry_cap = absl::Hours(1);
  // A blob's bytes are deleted only if nothing wrote them for this long.
  // Default: 1 hour.
  absl::Duration grace = absl::Hours(1);
  // The kill switch: false deletes nothing and leaves the queue as it is.
  bool deletion_enabled = true;
  // A pack whose live blobs or bytes fall below this share of what it was
  // written with is rewritten with only its live blobs. Default: 0.5.
  double compact_below = 0.5;
};

#define ARCA_RETENTION_METRICS(M)                                                            \
  M(Counters, files_deleted,                                                                 \
    {"arca_retention_gc_files_deleted_total", "Files deleted, by reason (ttl, strategy)",    \
     "reason", {"ttl", "strategy"}})                                                         \
  M(Counters, bytes_deleted,                                                                 \
    {"arca_retention_gc_bytes_deleted_total", "Bytes of files deleted, by reason", "reason",  \
     {"ttl", "strategy"}})                                                                   \
  M(Counters, tasks,                                                                         \
    {"arca_retention_gc_tasks_total", "GC tasks handled, by outcome (done, retried, failed)", \
     "outcome", {"done", "retried", "failed"}})                                              \
  M(Counter, blobs_deleted,                                                                  \
    {"arca_retention_gc_blobs_deleted_total", "Blobs whose bytes were deleted"})             \
  M(Counter, errors, {"arca_retention_gc_errors_total", "Failed deletions and catalog calls"}) \
  M(Counter, packs_compacted,                                                                \
    {"arca_retention_gc_packs_compacted_total", "Packs rewritten with their live blobs"})     \
  M(Gauge, pack_dead_bytes,                                                                  \
    {"arca_retention_gc_pack_dead_bytes",                                                    \
     "Bytes of packed blobs no record points at any more, as of the last sweep"})            \
  M(Histogram, sweep_seconds,                                                                \
    {"arca_retention_gc_sweep_seconds", "Duration of cleanup sweeps", nullptr, {},           \
     {0.01, 0.1, 1, 10, 60, 300, 1800}})

struct RetentionMetrics {
  explicit RetentionMetrics(prometheus::Registry& registry)
      : registry(registry) ARCA_RETENTION_METRICS(ARCA_METRIC_INIT) {}
  prometheus::Registry& registry;
  ARCA_RETENTION_METRICS(ARCA_METRIC_MEMBER)
};

// Deletes what policy says, when it says (see docs/retention.md):
//  - strategies act on the catalog's GC queue (leased tasks, retried with
//    capped exponential backoff, ArtifactGCError after max_attempts);
//  - TTL expiry and blob sweeps run in RunCleanup.
// Deleting files marks them deleted in the catalog first, in one write;
// then the bytes of blobs no file references any more go (unless something
// wrote them within the grace period), and only then are the blobs'
// records forgotten. A failure before the mark leaves every file as it
// was; a crash after it leaves blob records that ResumeDeletions finishes.
// So no file is ever listed as available without its bytes. Thread-safe;
// several workers and processes may share one catalog.
class RetentionGc {
 public:
  RetentionGc(const RetentionOptions& options, clients::CatalogClient* catalog,
              blob::BlobStore* blobs, Clock* clock, RetentionMetrics* metrics);

  // Leases due tasks and handles them; returns how many were handled.
  absl::StatusOr<int> ProcessDueTasks(int max_tasks = 100);

  // One sweep now: expired files, unreferenced and orphan blobs, and a new
  // try for jobs left with an ArtifactGCError. Backs PrimeHub's
  // cleanupPhJobArtifact. Every file it removes is in the response.
  absl::StatusOr<v1::RunCleanupResponse> RunCleanup();

  // What a worker killed mid-way left undone, run when a worker starts:
  // files that expired meanwhile, and the bytes of blobs whose last
  // reference went (then their records).
  absl::StatusOr<v1::RunCleanupResponse> ResumeDeletions();

  // What a sweep would delete now, and why each other file is kept.
  // act_for: the user asking; the catalog then looks the job up with that
  // user's groups (another group's job is NOT_FOUND). Empty: as retention-gc
  // itself.
  absl::StatusOr<v1::PreviewCleanupResponse> PreviewCleanup(
      const v1::PreviewCleanupRequest& request, absl::string_view act_for = "");

  absl::StatusOr<v1::GcStatusResponse> GcStatus(const v1::GcStatusRequest& request,
                                                absl::string_view act_for = "");

 private:
  // Deletes files of one job (records, then the bytes nothing else
  // references); appends what it removed.
  absl::Status DeleteFiles(const std::string& job_id,
                           const std::vector<catalog::v1::ArtifactFile>& files,
                           const std::string& reason, v1::RunCleanupResponse* removed);
  // Deletes the bytes of blobs no file references, unless written within
  // the grace period, then forgets their records; counts what it deleted in
  // *response. Each failure is logged; the status says how many failed.
  absl::Status ReleaseBlobs(const std::vector<std::string>& sha256s,
                            v1::RunCleanupResponse* response);
  // ReleaseBlobs of every unreferenced blob record; a failure counts as an
  // error in *response.
  absl::Status ReleaseUnreferencedBlobs(v1::RunCleanupResponse* response);
  // Every blob record no file references (as ReleaseBlobs wants them).
  absl::StatusOr<std::vector<std::string>> UnreferencedBlobs();
  // Expired files, by job; failures counted in *response and logged.
  absl::Status ExpireFiles(v1::RunCleanupResponse* response);
  // Packs: retired ones go once the grace period has passed, orphans (no
  // record: an upload killed before its commit) once untouched for as long,
  // and those mostly dead are compacted.
  absl::Status SweepPacks(absl::Time now, v1::RunCleanupResponse* response);
  bool ShouldCompact(const catalog::v1::Pack& pack) const;
  // Copies the pack's live blobs to a new pack, switches their records to
  // it and retires the old one (without a new pack if none is live).
  absl::Status Compact(const catalog::v1::Pack& pack);
  absl::Status HandleTask(const catalog::v1::GcTask& task, v1::RunCleanupResponse* removed);
  // Once a job's GC has failed past its retries: drops the job's GC
  // finalizer if the job asked for forceFinalizerRemoval (Argo's).
  void ForceFinalizerRemoval(const std::string& job_id);
  absl::StatusOr<std::vector<catalog::v1::ArtifactFile>> AvailableFiles(const std::string& job_id);

  RetentionOptions options_;
  clients::CatalogClient* catalog_;
  blob::BlobStore* blobs_;
  Clock* clock_;
  RetentionMetrics* metrics_;
};

}  // namespace arca::retention

#endif  // ARCA_SERVICES_RETENTION_RETENTION_GC_H_
