// arca-retention-gc: deletes blobs and file records when policy says so.

#include <iostream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/time/clock.h"
#include "common/blob/flags.h"
#include "common/ids.h"
#include "common/init.h"
#include "common/logging.h"
#include "common/rpc/server.h"
#include "common/rpc/service_main.h"
#include "grpcpp/grpcpp.h"
#include "prometheus/registry.h"
#include "services/retention/retention_gc.h"
#include "services/retention/retention_gc_service.h"
#include "services/retention/worker.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7403", "gRPC address HOST:PORT (port 0: any free port)");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9403",
          "Prometheus /metrics address HOST:PORT (port 0: any; empty: none)");
ABSL_FLAG(absl::Duration, shutdown_deadline, absl::Seconds(10),
          "how long in-flight calls may finish after SIGTERM");
ABSL_FLAG(std::string, catalog, "127.0.0.1:7401", "catalog address HOST:PORT");
ABSL_FLAG(std::string, blob_dir, "./var/blobs", "directory of the blob store (or see --blob_store)");
ABSL_FLAG(absl::Duration, sweep_interval, absl::Hours(24),
          "how often expired files and idle blobs are swept (PrimeHub: daily)");
ABSL_FLAG(absl::Duration, poll_interval, absl::Seconds(1), "how often the GC queue is polled");
ABSL_FLAG(absl::Duration, lease, absl::Minutes(5), "how long a leased GC task is this worker's");
ABSL_FLAG(absl::Duration, backoff_base, absl::Seconds(1), "first retry delay");
ABSL_FLAG(double, backoff_factor, 2, "retry delay multiplier");
ABSL_FLAG(absl::Duration, backoff_cap, absl::Minutes(5), "longest retry delay");
ABSL_FLAG(int, max_attempts, 8, "attempts before a job gets an ArtifactGCError condition");
ABSL_FLAG(absl::Duration, error_retry_cap, absl::Hours(1),
          "after that, the longest delay between further attempts");
ABSL_FLAG(absl::Duration, grace, absl::Hours(1),
          "blob bytes are deleted only if nothing wrote them for this long");
ABSL_FLAG(double, compact_below, 0.5,
          "a pack whose live blobs or bytes fall below this share is rewritten with only them");
ABSL_FLAG(std::string, verify_pack, "",
          "check the pack file at this path (records, digests, index), print what was found "
          "and exit: 0 if it is intact");
ABSL_FLAG(std::string, rebuild_pack_index, "",
          "write the index of the pack file at this path anew from its intact records and exit");
ABSL_FLAG(bool, deletion_enabled, true,
          "the kill switch: false deletes nothing and leaves the queue as it is");

int main(int argc, char** argv) {
  arca::rpc::BlockTerminationSignals();
  arca::InitProgram(argc, argv, "arca-retention-gc",
                    "Arca's retention-gc (gRPC arca.retention.v1): TTL, strategies, blob sweeps");
  // Maintenance of one pack, without the service.
  if (const std::string path = absl::GetFlag(FLAGS_verify_pack); !path.empty()) {
    auto check = arca::blob::VerifyPackFile(path);
    if (!check.ok()) {
      std::cerr << path << ": " << check.status().message() << "\n";
      return 1;
    }
    std::cout << path << ": " << check->records.size() << " intact record(s) ending at byte "
              << check->IntactEnd() << "; index " << (check->index_ok ? "intact" : "damaged")
              << (check->problem.empty() ? "" : "; ") << check->problem << "\n";
    return check->index_ok && check->problem.empty() ? 0 : 1;
  }
  if (const std::string path = absl::GetFlag(FLAGS_rebuild_pack_index); !path.empty()) {
    auto kept = arca::blob::RebuildPackIndex(path);
    if (!kept.ok()) {
      std::cerr << path << ": " << kept.status().message() << "\n";
      return 1;
    }
    std::cout << path << ": index rebuilt over " << *kept << " record(s)\n";
    return 0;
  }
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
  arca::retention::RetentionMetrics metrics(*registry);
  arca::retention::RetentionOptions options;
  options.worker_id = arca::NewSortableId("gc-worker", absl::Now());
  options.lease = absl::GetFlag(FLAGS_lease);
  options.backoff_base = absl::GetFlag(FLAGS_backoff_base);
  options.backoff_factor = absl::GetFlag(FLAGS_backoff_factor);
  options.backoff_cap = absl::GetFlag(FLAGS_backoff_cap);
  options.max_attempts = absl::GetFlag(FLAGS_max_attempts);
  options.error_retry_cap = absl::GetFlag(FLAGS_error_retry_cap);
  options.grace = absl::GetFlag(FLAGS_grace);
  options.deletion_enabled = absl::GetFlag(FLAGS_deletion_enabled);
  options.compact_below = absl::GetFlag(FLAGS_compact_below);
  if (!options.deletion_enabled) ARCA_LOG(WARNING) << "deletion is disabled (kill switch)";
  arca::retention::RetentionGc gc(options, security->catalog.get(), blobs->get(), arca::Clock::Real(),
                                  &metrics);
  arca::retention::RetentionGcServiceImpl service(&gc, security->authorizer);

  arca::retention::WorkerOptions worker_options;
  worker_options.poll_interval = absl::GetFlag(FLAGS_poll_interval);
  worker_options.sweep_interval = absl::GetFlag(FLAGS_sweep_interval);
  arca::retention::Worker worker(&gc, arca::Clock::Real(), worker_options);
  worker.Start();

  server_options.name = "retention_gc";
  server_options.readiness = arca::rpc::CatalogReadiness(security->catalog.get(), blobs->get());
  server_options.listen = absl::GetFlag(FLAGS_listen);
  server_options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  server_options.shutdown_deadline = absl::GetFlag(FLAGS_shutdown_deadline);
  int code = arca::rpc::ServeUntilSignal(
      server_options, {{arca::retention::v1::RetentionGc::service_full_name(), &service}},
      registry);
  return code;
}
