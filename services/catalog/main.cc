// arca-catalog: the gRPC server in front of Arca's RocksDB database.

#include <filesystem>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "common/init.h"
#include "common/periodic.h"
#include "common/s3/flags.h"
#include "common/logging.h"
#include "common/rpc/server.h"
#include "common/rpc/service_main.h"
#include "prometheus/registry.h"
#include "services/catalog/catalog.h"
#include "services/catalog/catalog_metrics.h"
#include "services/catalog/catalog_service.h"
#include "services/catalog/checkpoint_store.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7401", "gRPC address HOST:PORT (port 0: any free port)");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9401",
          "Prometheus /metrics address HOST:PORT (port 0: any; empty: none)");
ABSL_FLAG(std::string, data_dir, "./var/catalog", "directory of the RocksDB database");
ABSL_FLAG(std::string, backup_dir, "./var/backups",
          "where checkpoints are written (arca catalog checkpoint NAME); nowhere else");
ABSL_FLAG(absl::Duration, default_retention, absl::Hours(24 * 7),
          "how long files of a job that sets no retention are kept after it finishes");
ABSL_FLAG(absl::Duration, log_retention, absl::Hours(24 * 30),
          "a job's logs (.arca/logs/) are kept at least this long after it finishes, whatever "
          "its retention (unless that keeps files forever)");
ABSL_FLAG(int64_t, min_free_bytes, 256 << 20,
          "writes are refused while the database's disk has less free, and resume by themselves");
ABSL_FLAG(int64_t, reserve_bytes, 64 << 20,
          "a file kept in --data_dir and given back to open on a full disk (0: none)");
ABSL_FLAG(absl::Duration, shutdown_deadline, absl::Seconds(10),
          "how long in-flight calls may finish after SIGTERM");
ABSL_FLAG(std::string, checkpoint_store, "",
          "s3://BUCKET[/PREFIX]: checkpoints are shipped there every --checkpoint_interval, and by "
          "`arca catalog checkpoint NAME --to_store` (credentials from AWS_ACCESS_KEY_ID, "
          "AWS_SECRET_ACCESS_KEY, AWS_REGION; endpoint --s3_endpoint)");
ABSL_FLAG(absl::Duration, checkpoint_interval, absl::Hours(6),
          "with --checkpoint_store: how often a checkpoint is taken and shipped (0: only when asked)");
ABSL_FLAG(int, checkpoints_kept, 7,
          "with --checkpoint_store: the newest this many checkpoints stay in the store (0: all)");
ABSL_FLAG(std::string, restore_checkpoint, "",
          "with --checkpoint_store, when --data_dir does not exist: first download this "
          "checkpoint (a name, or \"latest\") into --data_dir, then serve it");

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
  std::unique_ptr<arca::catalog::CheckpointStore> checkpoints;
  if (const std::string url = absl::GetFlag(FLAGS_checkpoint_store); !url.empty()) {
    auto opened = arca::catalog::CheckpointStore::Open(url, arca::s3::EndpointFlag(),
                                                       arca::s3::CreateBucketFlag());
    if (!opened.ok()) {
      ARCA_LOG(ERROR) << "--checkpoint_store: " << opened.status().message();
      return 1;
    }
    checkpoints = *std::move(opened);
    const int kept = absl::GetFlag(FLAGS_checkpoints_kept);
    options.ship_checkpoint = [store = checkpoints.get(), kept](const std::string& dir,
                                                               const std::string& name) {
      return store->Ship(dir, name, kept);
    };
  }
  if (const std::string name = absl::GetFlag(FLAGS_restore_checkpoint); !name.empty()) {
    if (checkpoints == nullptr) {
      ARCA_LOG(ERROR) << "--restore_checkpoint needs --checkpoint_store";
      return 1;
    }
    std::error_code ec;
    if (std::filesystem::exists(options.data_dir, ec)) {
      ARCA_LOG(INFO) << "--data_dir " << options.data_dir
                     << " exists: serving it, not restoring a checkpoint";
    } else {
      auto restored = checkpoints->Restore(name, options.data_dir);
      if (!restored.ok()) {
        ARCA_LOG(ERROR) << "restoring checkpoint " << name << ": " << restored.status().message();
        return 1;
      }
      ARCA_LOG(INFO) << "restored checkpoint " << *restored << " into " << options.data_dir;
    }
  }
  options.backup_dir = absl::GetFlag(FLAGS_backup_dir);
  options.min_free_bytes = absl::GetFlag(FLAGS_min_free_bytes);
  options.reserve_bytes = absl::GetFlag(FLAGS_reserve_bytes);
  options.default_retention = absl::GetFlag(FLAGS_default_retention);
  options.log_retention = absl::GetFlag(FLAGS_log_retention);
  auto catalog = arca::catalog::Catalog::Open(options, arca::Clock::Real());
  if (!catalog.ok()) {
    ARCA_LOG(ERROR) << catalog.status().message();
    return 1;
  }
  arca::catalog::CatalogServiceImpl service(catalog->get(), security->authorizer);
  // Checkpoints taken on a schedule, shipped, and then removed from the
  // backup directory.
  std::unique_ptr<arca::Periodic> shipping;
  if (const absl::Duration every = absl::GetFlag(FLAGS_checkpoint_interval);
      checkpoints != nullptr && every > absl::ZeroDuration()) {
    arca::catalog::Catalog* db = catalog->get();
    bool first = true;
    shipping = std::make_unique<arca::Periodic>(every, [db, first]() mutable {
      if (first) {  // not at start: one interval after
        first = false;
        return;
      }
      const std::string name = absl::StrCat(
          "auto-", absl::FormatTime("%Y%m%dT%H%M%SZ", absl::Now(), absl::UTCTimeZone()));
      auto made = db->CreateCheckpoint(name, /*to_store=*/true);
      if (!made.ok()) {
        ARCA_LOG(WARNING) << "scheduled checkpoint " << name << ": " << made.status().message();
        return;
      }
      std::error_code ec;
      std::filesystem::remove_all(made->dir(), ec);
      ARCA_LOG(INFO) << "checkpoint " << name << " (up to write " << made->sequence()
                     << ") shipped to " << made->stored_at();
    });
  }

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
