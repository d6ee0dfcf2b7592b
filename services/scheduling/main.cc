// arca-scheduler-attribute: scheduling constraints from artifact tags and
// job labels, each with its source.

#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "common/init.h"
#include "common/logging.h"
#include "common/rpc/server.h"
#include "common/rpc/service_main.h"
#include "grpcpp/grpcpp.h"
#include "prometheus/registry.h"
#include "services/scheduling/scheduler_attribute.h"
#include "services/scheduling/scheduler_attribute_service.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7404", "gRPC address HOST:PORT (port 0: any free port)");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9404",
          "Prometheus /metrics address HOST:PORT (port 0: any; empty: none)");
ABSL_FLAG(absl::Duration, shutdown_deadline, absl::Seconds(10),
          "how long in-flight calls may finish after SIGTERM");
ABSL_FLAG(std::string, catalog, "127.0.0.1:7401", "catalog address HOST:PORT");
ABSL_FLAG(bool, artifact_caching, true,
          "record the artifacts Resolve calls use per cluster (Mantis artifactCaching.enabled)");
ABSL_FLAG(int, max_artifacts_to_cache, 5, "how many artifacts to list per cluster");
ABSL_FLAG(std::vector<std::string>, caching_clusters, {},
          "only these clusters record artifacts (default: all)");

int main(int argc, char** argv) {
  arca::rpc::BlockTerminationSignals();
  arca::InitProgram(argc, argv, "arca-scheduler-attribute",
                    "Arca's scheduler-attribute service (gRPC arca.scheduling.v1)");
  arca::rpc::ServerOptions server_options;
  arca::clients::ClientOptions catalog_client;
  catalog_client.timeout = absl::Seconds(5);  // a resolve waits for the catalog no longer
  auto security =
      arca::rpc::SetUpSecurity(&server_options, absl::GetFlag(FLAGS_catalog), catalog_client);
  if (!security.ok()) {
    ARCA_LOG(ERROR) << security.status().message();
    return 1;
  }
  auto registry = std::make_shared<prometheus::Registry>();
  arca::scheduling::SchedulerMetrics metrics(*registry);
  arca::scheduling::SchedulerOptions options;
  options.caching_enabled = absl::GetFlag(FLAGS_artifact_caching);
  options.max_artifacts_to_cache = absl::GetFlag(FLAGS_max_artifacts_to_cache);
  options.caching_clusters = absl::GetFlag(FLAGS_caching_clusters);
  arca::scheduling::SchedulerAttribute core(options, security->catalog.get(), &metrics);
  arca::scheduling::SchedulerAttributeServiceImpl service(&core, security->authorizer);

  server_options.name = "scheduler_attribute";
  server_options.readiness = arca::rpc::CatalogReadiness(security->catalog.get());
  server_options.listen = absl::GetFlag(FLAGS_listen);
  server_options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  server_options.shutdown_deadline = absl::GetFlag(FLAGS_shutdown_deadline);
  return arca::rpc::ServeUntilSignal(
      server_options,
      {{arca::scheduling::v1::SchedulerAttribute::service_full_name(), &service}}, registry);
}
