#ifndef ARCA_SERVICES_COLLECTOR_COLLECTOR_H_
#define ARCA_SERVICES_COLLECTOR_COLLECTOR_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/blob/store.h"
#include "common/clock.h"
#include "common/clients/catalog.h"
#include "proto/catalog/v1/catalog.pb.h"
#include "proto/collector/v1/collector.pb.h"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace arca::collector {

namespace v1 = ::arca::collector::v1;

struct CollectorOptions {
  // Server maximums; a manifest may ask for less, never more.
  // Defaults: PrimeHub's 100 MiB and 1,000 files per job.
  int64_t max_total_bytes = 100 << 20;
  int max_files = 1000;
  // The most retention a manifest may ask for. Without one, the catalog
  // applies the job's retention (default 7 days). Default: 365 days.
  absl::Duration max_retention = absl::Hours(24 * 365);
  // Uploads and downloads running at once; more are refused with
  // RESOURCE_EXHAUSTED ("busy"). With a write buffer or two per upload,
  // these bound the collector's memory whatever its clients do.
  // Defaults: 32 and 128.
  int max_concurrent_uploads = 32;
  int max_concurrent_downloads = 128;
};

// Metrics, declared once (names arca_collector_*).
struct CollectorMetrics {
  explicit CollectorMetrics(prometheus::Registry& registry);
  prometheus::Counter& bytes_accepted;
  prometheus::Counter& files_accepted;
  prometheus::Family<prometheus::Counter>& files_skipped;      // {reason}
  prometheus::Family<prometheus::Counter>& uploads_rejected;   // {reason}
  prometheus::Histogram& upload_seconds;
  // Where a successful upload's time went: receive (the stream, each file
  // written to a temporary name), store (the blobs made durable), commit
  // (the catalog call).
  prometheus::Family<prometheus::Histogram>& upload_phase_seconds;  // {phase}
  prometheus::Histogram& upload_receive_seconds;
  prometheus::Histogram& upload_store_seconds;
  prometheus::Histogram& upload_commit_seconds;
  prometheus::Counter& bytes_served;
  prometheus::Gauge& uploads_in_progress;
  prometheus::Gauge& downloads_in_progress;
  prometheus::Gauge& blob_store_bytes;
  prometheus::Gauge& blob_store_objects;
  prometheus::Gauge& blob_store_free_bytes;
  prometheus::Gauge& blob_store_capacity_bytes;
};

// Where an upload's messages come from; Next returns false at the end of
// the stream (or when the client went away).
class UploadSource {
 public:
  virtual ~UploadSource() = default;
  virtual bool Next(v1::UploadRequest* message) = 0;
};

// Where a download's messages go; Write returns false if the client left.
class DownloadSink {
 public:
  virtual ~DownloadSink() = default;
  virtual bool Write(const v1::DownloadResponse& message) = 0;
};

// Turns an upload stream into blobs plus one catalog commit, and serves
// files back with their digests checked. Thread-safe.
class Collector {
 public:
  Collector(const CollectorOptions& options, blob::BlobStore* blobs,
            clients::CatalogClient* catalog, Clock* clock,
            CollectorMetrics* metrics);

  // All or nothing: the files are committed to the catalog in one call
  // after the end marker, or not at all. Errors: INVALID_ARGUMENT for a
  // malformed stream or path; NOT_FOUND for an unknown job;
  // RESOURCE_EXHAUSTED when a limit is crossed (unless truncate), when
  // max_concurrent_uploads are running, or when the blob store's disk is
  // full; DATA_LOSS when a declared digest does not match; ABORTED if the
  // stream ended without its end marker; INTERNAL for another storage
  // fault (logged; the message names no server path).
  // act_for: the user the upload is for; the catalog then looks the job up
  // with that user's groups (another group's job is NOT_FOUND). Empty: as
  // the collector itself (no authentication).
  absl::StatusOr<v1::UploadResponse> Upload(UploadSource& source, absl::string_view act_for = "");

  // Streams [offset, offset+length) of a file; every byte of the blob is
  // hashed on the way, and a blob that no longer matches its recorded
  // digest or size ends the stream with DATA_LOSS. NOT_FOUND for an unknown
  // or deleted file; OUT_OF_RANGE for an offset past the end;
  // RESOURCE_EXHAUSTED when max_concurrent_downloads are running.
  // act_for as for Upload: another group's file, or one above the user's
  // privacy level, is NOT_FOUND.
  absl::Status Download(const v1::DownloadRequest& request, DownloadSink& sink,
                        absl::string_view act_for = "");

  // Counts the blob store's objects and bytes, and the room left on its
  // disk, into the metrics (the store is shared with retention-gc, so it is
  // counted rather than tracked).
  absl::Status RefreshBlobStats();

 private:
  class UploadState;
  // A blob store failure as a client sees it: counted and logged in full,
  // worded without server paths.
  absl::Status StoreFailure(const absl::Status& status, absl::string_view job_id);

  CollectorOptions options_;
  blob::BlobStore* blobs_;
  clients::CatalogClient* catalog_;
  Clock* clock_;
  CollectorMetrics* metrics_;
  std::atomic<int> uploads_{0}, downloads_{0};
};

// True if path is hidden: a segment starts with "." (except the reserved
// ".arca/logs/" prefix, where job logs live).
bool IsHiddenPath(absl::string_view path);

}  // namespace arca::collector

#endif  // ARCA_SERVICES_COLLECTOR_COLLECTOR_H_
