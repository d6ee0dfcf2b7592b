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
#include "common/metrics/table.h"
#include "proto/catalog/v1/catalog.pb.h"
#include "proto/collector/v1/collector.pb.h"

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
  // Files smaller than this go into one pack per upload instead of a blob
  // file each (0: none do).
  int64_t pack_threshold = 256 << 10;
};

// The collector's metrics, declared once. Where a successful upload's time
// went: receive (the stream, each file written to a temporary name), store
// (the blobs made durable), commit (the catalog call), one series each of
// arca_collector_upload_phase_seconds.
// Why a file is left out of an upload: the only reasons a client may report
// (arca_collector_files_skipped_total{reason}).
#define ARCA_COLLECTOR_SKIP_REASONS \
  "symlink_escape", "hidden", "not_regular", "over_size", "over_count", "no_pattern"
#define ARCA_COLLECTOR_UPLOAD_BUCKETS {0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300}
#define ARCA_COLLECTOR_PHASES                                                          \
  "arca_collector_upload_phase_seconds",                                               \
      "Time successful uploads spent receiving (temporary files written), storing "    \
      "(blobs made durable) and committing (the catalog call)",                        \
      "phase"
#define ARCA_COLLECTOR_METRICS(M)                                                               \
  M(Counter, bytes_accepted,                                                                    \
    {"arca_collector_bytes_accepted_total", "Bytes of files committed by uploads"})             \
  M(Counter, files_accepted,                                                                    \
    {"arca_collector_files_accepted_total", "Files committed by uploads"})                      \
  M(Counters, files_skipped,                                                                    \
    {"arca_collector_files_skipped_total", "Files left out of uploads, by reason", "reason",    \
     {ARCA_COLLECTOR_SKIP_REASONS}})                                                           \
  M(Counters, uploads_rejected,                                                                 \
    {"arca_collector_uploads_rejected_total", "Uploads rejected whole, by reason", "reason",    \
     {"over_size", "over_count", "digest_mismatch", "incomplete", "busy", "disk_full",          \
     "storage_error"}})                                                                         \
  M(Histogram, upload_seconds,                                                                  \
    {"arca_collector_upload_seconds", "Duration of successful uploads", nullptr, {},            \
     ARCA_COLLECTOR_UPLOAD_BUCKETS})                                                            \
  M(Histogram, upload_receive_seconds,                                                          \
    {ARCA_COLLECTOR_PHASES, {"receive"}, ARCA_COLLECTOR_UPLOAD_BUCKETS})                        \
  M(Histogram, upload_store_seconds,                                                            \
    {ARCA_COLLECTOR_PHASES, {"store"}, ARCA_COLLECTOR_UPLOAD_BUCKETS})                          \
  M(Histogram, upload_commit_seconds,                                                           \
    {ARCA_COLLECTOR_PHASES, {"commit"}, ARCA_COLLECTOR_UPLOAD_BUCKETS})                         \
  M(Counter, bytes_served, {"arca_collector_bytes_served_total", "Bytes sent by downloads"})    \
  M(Gauge, uploads_in_progress, {"arca_collector_uploads_in_progress", "Uploads running"})      \
  M(Gauge, downloads_in_progress, {"arca_collector_downloads_in_progress", "Downloads running"})\
  M(Gauge, blob_store_bytes,                                                                    \
    {"arca_collector_blob_store_bytes", "Bytes held by the blob store, as last counted"})       \
  M(Gauge, blob_store_objects,                                                                  \
    {"arca_collector_blob_store_objects",                                                      \
     "Files held by the blob store (blob files and packs), as last counted"})     \
  M(Gauge, blob_store_free_bytes,                                                               \
    {"arca_collector_blob_store_free_bytes", "Bytes free on the blob store's file system"})     \
  M(Gauge, blob_store_capacity_bytes,                                                           \
    {"arca_collector_blob_store_capacity_bytes", "Size of the blob store's file system in       \
     bytes"})

struct CollectorMetrics {
  explicit CollectorMetrics(prometheus::Registry& registry)
      : registry(registry) ARCA_COLLECTOR_METRICS(ARCA_METRIC_INIT) {}
  prometheus::Registry& registry;
  ARCA_COLLECTOR_METRICS(ARCA_METRIC_MEMBER)
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
  // the collector itself (no authentication). Every refusal is logged, with
  // the job and why.
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

  // Gives the memory that finished uploads and downloads freed back to the
  // system, on the first five calls of this (main: each second) to see
  // none begun since the last and none running. While they run, the
  // allocator keeps freed memory for the next message
  // (KeepFreedMemoryForReuse); after a burst it would otherwise keep
  // hundreds of MiB, some of it freed by gRPC only after the calls returned.
  void TrimWhenIdle();

 private:
  // Upload's work; *job_id is the manifest's once it is read.
  absl::StatusOr<v1::UploadResponse> Receive(UploadSource& source, absl::string_view act_for,
                                             std::string* job_id);
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
  std::atomic<int64_t> calls_{0};  // uploads and downloads begun, refused ones too
  // TrimWhenIdle's (called from one thread): calls_ when last called, and
  // how many calls in a row have found nothing begun or running.
  int64_t calls_seen_ = 0;
  int quiet_calls_ = 0;
  static constexpr int kTrimsWhenIdle = 5;
};

// True if path is hidden: a segment starts with "." (except the reserved
// ".arca/logs/" prefix, where job logs live).
bool IsHiddenPath(absl::string_view path);

}  // namespace arca::collector

#endif  // ARCA_SERVICES_COLLECTOR_COLLECTOR_H_
