// arca-collector: uploads become blobs plus one catalog commit; downloads
// stream them back, digest-checked.

#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "common/blob/flags.h"
#include "common/init.h"
#include "common/logging.h"
#include "common/memory.h"
#include "common/periodic.h"
#include "common/rpc/server.h"
#include "common/rpc/service_main.h"
#include "grpcpp/grpcpp.h"
#include "prometheus/registry.h"
#include "services/collector/collector.h"
#include "services/collector/collector_service.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7402", "gRPC address HOST:PORT (port 0: any free port)");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9402",
          "Prometheus /metrics address HOST:PORT (port 0: any; empty: none)");
ABSL_FLAG(std::string, catalog, "127.0.0.1:7401", "catalog address HOST:PORT");
ABSL_FLAG(std::string, blob_dir, "./var/blobs", "directory of the blob store (or see --blob_store)");
ABSL_FLAG(int64_t, max_total_bytes, 100 << 20, "largest upload a job may make, in bytes");
ABSL_FLAG(int, max_files, 1000, "most files a job may upload");
ABSL_FLAG(int64_t, pack_threshold, 256 << 10,
          "files smaller than this many bytes are stored together, one pack per upload "
          "(0: every file in a blob file of its own)");
ABSL_FLAG(absl::Duration, max_retention, absl::Hours(24 * 365),
          "the most retention an upload may ask for");
ABSL_FLAG(int, max_concurrent_uploads, 32,
          "uploads running at once; more are refused with RESOURCE_EXHAUSTED");
ABSL_FLAG(int, max_concurrent_downloads, 128,
          "downloads running at once; more are refused with RESOURCE_EXHAUSTED");
ABSL_FLAG(absl::Duration, stream_idle_timeout, absl::Minutes(1),
          "an upload or download that moves no message for this long is cancelled");
ABSL_FLAG(absl::Duration, blob_stats_interval, absl::Minutes(1),
          "how often the blob store's objects and bytes are counted for /metrics");
ABSL_FLAG(absl::Duration, shutdown_deadline, absl::Seconds(30),
          "how long in-flight uploads may finish after SIGTERM");

int main(int argc, char** argv) {
  arca::rpc::BlockTerminationSignals();
  arca::InitProgram(argc, argv, "arca-collector",
                    "Arca's collector (gRPC arca.collector.v1): uploads and downloads");
  arca::KeepFreedMemoryForReuse();
  arca::rpc::ServerOptions server_options;
  auto security = arca::rpc::SetUpSecurity(&server_options, absl::GetFlag(FLAGS_catalog));
  if (!security.ok()) {
    ARCA_LOG(ERROR) << security.status().message();
    return 1;
  }
  auto blobs = arca::blob::OpenBlobStoreFromFlags(absl::GetFlag(FLAGS_blob_dir));
  if (!blobs.ok()) {
    ARCA_LOG(ERROR) << blobs.status().message();
    return 1;
  }
  auto registry = std::make_shared<prometheus::Registry>();
  arca::collector::CollectorMetrics metrics(*registry);
  arca::collector::CollectorOptions options;
  options.max_total_bytes = absl::GetFlag(FLAGS_max_total_bytes);
  options.max_files = absl::GetFlag(FLAGS_max_files);
  options.pack_threshold = absl::GetFlag(FLAGS_pack_threshold);
  options.max_retention = absl::GetFlag(FLAGS_max_retention);
  options.max_concurrent_uploads = absl::GetFlag(FLAGS_max_concurrent_uploads);
  options.max_concurrent_downloads = absl::GetFlag(FLAGS_max_concurrent_downloads);
  arca::collector::Collector collector(options, blobs->get(), security->catalog.get(),
                                      arca::Clock::Real(), &metrics);
  arca::collector::CollectorServiceImpl service(
      &collector, absl::GetFlag(FLAGS_stream_idle_timeout), security->authorizer);

  server_options.name = "collector";
  server_options.readiness = arca::rpc::CatalogReadiness(security->catalog.get(), blobs->get());
  server_options.listen = absl::GetFlag(FLAGS_listen);
  server_options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  server_options.shutdown_deadline = absl::GetFlag(FLAGS_shutdown_deadline);
  arca::Periodic stats(absl::GetFlag(FLAGS_blob_stats_interval), [&] {
    absl::Status s = collector.RefreshBlobStats();
    if (!s.ok()) ARCA_LOG(WARNING) << "counting blobs: " << s.message();
  });
  arca::Periodic trim(absl::Seconds(1), [&] { collector.TrimWhenIdle(); });
  int code = arca::rpc::ServeUntilSignal(
      server_options, {{arca::collector::v1::Collector::service_full_name(), &service}}, registry);
  return code;
}
