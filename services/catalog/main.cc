// arca-catalog: the gRPC server in front of Arca's RocksDB database.

#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "common/init.h"
#include "common/logging.h"
#include "common/rpc/server.h"
#include "common/rpc/service_main.h"
#include "prometheus/registry.h"
#include "services/catalog/catalog.h"
#include "services/catalog/catalog_metrics.h"
#include "services/catalog/catalog_service.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7401", "gRPC address HOST:PORT (port 0: any free port)");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9401",
          "Prometheus /metrics address HOST:PORT (port 0: any; empty: none)");
ABSL_FLAG(std::string, data_dir, "./var/catalog", "directory of the RocksDB database");
ABSL_FLAG(std::string, backup_dir, "./var/backups",
          "where checkpoints are written (arca catalog checkpoint NAME); nowhere else");
ABSL_FLAG(absl::Duration, default_retention, absl::Hours(24 * 7),
          "how long files of a job that sets no retention are kept after it finishes");
ABSL_FLAG(int64_t, min_free_bytes, 256 << 20,
          "writes are refused while the database's disk has less free, and resume by themselves");
ABSL_FLAG(int64_t, reserve_bytes, 64 << 20,
          "a file kept in --data_dir and given back to open on a full disk (0: none)");
ABSL_FLAG(absl::Duration, shutdown_deadline, absl::Seconds(10),
          "how long in-flight calls may finish after SIGTERM");

int main(int argc, char** argv) {
  arca::rpc::BlockTerminationSignals();
  arca::InitProgram(argc, argv, "arca-catalog",
                    "Arca's catalog service (gRPC arca.catalog.v1) over a RocksDB database");

  arca::rpc::ServerOptions server_options;
  auto security = arca::rpc::SetUpSecurity(&server_options);
  if (!security.ok()) {
    ARCA_LOG(ERROR) << security.status().message();
    return 1;
  }
  arca::catalog::CatalogOptions options;
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.backup_dir = absl::GetFlag(FLAGS_backup_dir);
  options.min_free_bytes = absl::GetFlag(FLAGS_min_free_bytes);
  options.reserve_bytes = absl::GetFlag(FLAGS_reserve_bytes);
  options.default_retention = absl::GetFlag(FLAGS_default_retention);
  auto catalog = arca::catalog::Catalog::Open(options, arca::Clock::Real());
  if (!catalog.ok()) {
    ARCA_LOG(ERROR) << catalog.status().message();
    return 1;
  }
  arca::catalog::CatalogServiceImpl service(catalog->get(), security->authorizer);

  server_options.name = "catalog";
  server_options.listen = absl::GetFlag(FLAGS_listen);
  server_options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  server_options.shutdown_deadline = absl::GetFlag(FLAGS_shutdown_deadline);
  auto registry = std::make_shared<prometheus::Registry>();
  int code = arca::rpc::ServeUntilSignal(
      server_options, {{arca::catalog::v1::Catalog::service_full_name(), &service}}, registry,
      {std::make_shared<arca::catalog::CatalogCollector>(catalog->get(), arca::Clock::Real())});
  absl::Status flushed = (*catalog)->Flush();
  if (!flushed.ok()) ARCA_LOG(WARNING) << "flush on shutdown: " << flushed.message();
  return code;
}
