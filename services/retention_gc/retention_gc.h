#ifndef ARCA_SERVICES_RETENTION_GC_RETENTION_GC_H_
#define ARCA_SERVICES_RETENTION_GC_RETENTION_GC_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/artifact_gc.h"
#include "common/blob_store.h"
#include "common/clock.h"
#include "proto/catalog/v1/catalog.grpc.pb.h"
#include "proto/retention/v1/retention.pb.h"

namespace prometheus {
class Counter;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace arca::retention {

namespace v1 = ::arca::retention::v1;

struct RetentionOptions {
  // Who leases tasks (unique per worker). Default: set by main.cc.
  std::string worker_id = "retention-gc";
  // How long a leased task is ours before another worker may take it.
  // Default: 5 minutes.
  absl::Duration lease = absl::Minutes(5);
  // Retries: base * factor^(attempt-1), capped; after max_attempts the job
  // gets an ArtifactGCError condition. Defaults: 1 s, x2, 5 min, 8.
  absl::Duration backoff_base = absl::Seconds(1);
  double backoff_factor = 2;
  absl::Duration backoff_cap = absl::Minutes(5);
  int max_attempts = 8;
  // A blob's bytes are deleted only if nothing wrote them for this long.
  // Default: 1 hour.
  absl::Duration grace = absl::Hours(1);
  // The kill switch: false deletes nothing and leaves the queue as it is.
  bool deletion_enabled = true;
  // Deadline of each catalog call. Default: 10 s.
  absl::Duration catalog_timeout = absl::Seconds(10);
};

struct RetentionMetrics {
  explicit RetentionMetrics(prometheus::Registry& registry);
  prometheus::Family<prometheus::Counter>& files_deleted;  // {reason}
  prometheus::Family<prometheus::Counter>& bytes_deleted;  // {reason}
  prometheus::Family<prometheus::Counter>& tasks;          // {outcome}
  prometheus::Counter& blobs_deleted;
  prometheus::Counter& errors;
  prometheus::Histogram& sweep_seconds;
};

// Deletes what policy says, when it says (see docs/retention.md):
//  - strategies act on the catalog's GC queue (leased tasks, retried with
//    capped exponential backoff, ArtifactGCError after the last attempt);
//  - TTL expiry and blob sweeps run in RunCleanup.
// Deleting a file removes its bytes first (when no other file shares them
// and nothing wrote them within the grace period), then marks it deleted in
// the catalog; a failure leaves the file as it was. Thread-safe; several
// workers and processes may share one catalog.
class RetentionGc {
 public:
  RetentionGc(const RetentionOptions& options, catalog::v1::Catalog::StubInterface* catalog,
              BlobStore* blobs, Clock* clock, RetentionMetrics* metrics);

  // Leases due tasks and handles them; returns how many were handled.
  absl::StatusOr<int> ProcessDueTasks(int max_tasks = 100);

  // One sweep now: expired files, unreferenced and orphan blobs, and a new
  // try for jobs left with an ArtifactGCError. Backs PrimeHub's
  // cleanupPhJobArtifact.
  absl::StatusOr<v1::RunCleanupResponse> RunCleanup();

  // What a sweep would delete now, and why each other file is kept.
  absl::StatusOr<v1::PreviewCleanupResponse> PreviewCleanup(
      const v1::PreviewCleanupRequest& request);

  absl::StatusOr<v1::GcStatusResponse> GcStatus(const v1::GcStatusRequest& request);

 private:
  // Deletes files of one job (bytes, then records); appends what it removed.
  absl::Status DeleteFiles(const std::string& job_id,
                           const std::vector<catalog::v1::ArtifactFile>& files,
                           const std::string& reason, v1::RunCleanupResponse* removed);
  absl::Status HandleTask(const catalog::v1::GcTask& task);
  absl::Status ForEachFile(const std::string& job_id, bool include_deleted,
                           const std::function<void(const catalog::v1::ArtifactFile&)>& fn);
  absl::StatusOr<std::vector<catalog::v1::ArtifactFile>> AvailableFiles(const std::string& job_id);
  absl::StatusOr<std::vector<catalog::v1::Job>> AllJobs();
  std::unique_ptr<grpc::ClientContext> Context();

  RetentionOptions options_;
  catalog::v1::Catalog::StubInterface* catalog_;
  BlobStore* blobs_;
  Clock* clock_;
  RetentionMetrics* metrics_;
};

// Whether a file's strategy (its own, else its job's) deletes it on this
// event. Unspecified means TTL only, like Never.
bool StrategyFires(types::v1::GcStrategy strategy, catalog::v1::GcEvent event,
                   types::v1::JobStatus outcome);

}  // namespace arca::retention

#endif  // ARCA_SERVICES_RETENTION_GC_RETENTION_GC_H_
