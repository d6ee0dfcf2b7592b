// arca-gateway: HTTP (REST and downloads) over the services' gRPC contracts.

#include <exception>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/auth/flags.h"
#include "common/blob/flags.h"
#include "common/http/server.h"
#include "common/init.h"
#include "common/logging.h"
#include "common/http/metrics_server.h"
#include "common/http/process_metrics.h"
#include "common/rpc/server.h"
#include "common/rpc/service_main.h"
#include "prometheus/registry.h"
#include "services/gateway/gateway.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7480", "HTTP address HOST:PORT (port 0: any free port)");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9405",
          "Prometheus /metrics address HOST:PORT (port 0: any; empty: none); /metrics is also "
          "served on --listen");
ABSL_FLAG(std::string, catalog, "127.0.0.1:7401", "catalog address HOST:PORT");
ABSL_FLAG(std::string, collector, "127.0.0.1:7402", "collector address HOST:PORT");
ABSL_FLAG(std::string, retention_gc, "127.0.0.1:7403", "retention-gc address HOST:PORT");
ABSL_FLAG(std::string, scheduler_attribute, "127.0.0.1:7404",
          "scheduler-attribute address HOST:PORT");
ABSL_FLAG(std::string, blob_dir, "",
          "the collector's blob store, where this gateway shares its disk: downloads read it "
          "directly; empty: downloads go through the collector (or see --blob_store)");
ABSL_FLAG(absl::Duration, presign_downloads, absl::ZeroDuration(),
          "with --blob_store: answer downloads of files stored on their own with a redirect "
          "(307) to a presigned URL of the object store, valid this long (e.g. 5m); 0: stream "
          "every download through the gateway");
ABSL_FLAG(int, io_threads, 2, "threads reading requests from sockets");
ABSL_FLAG(int, worker_threads, 32, "threads handling requests (they wait on backends)");
ABSL_FLAG(absl::Duration, read_timeout, absl::Seconds(30),
          "a request must arrive whole within this long (idle keep-alive included)");
ABSL_FLAG(absl::Duration, write_timeout, absl::Seconds(60),
          "a client that takes none of a response's bytes for this long is dropped");
ABSL_FLAG(absl::Duration, backend_timeout, absl::Seconds(10), "deadline of each backend call");
ABSL_FLAG(absl::Duration, artifact_cache_ttl, absl::Seconds(1),
          "serve job-artifact listings from memory for this long (writes through this gateway "
          "clear them at once); 0 turns the cache off");
ABSL_FLAG(int64_t, graphql_max_cost, 100000,
          "GraphQL queries costing more are refused before they run (docs/gateway.md)");
ABSL_FLAG(absl::Duration, graphql_timeout, absl::Seconds(10),
          "a GraphQL query stops resolving fields after this long");
ABSL_FLAG(int64_t, graphql_max_response_bytes, 16 << 20,
          "a GraphQL query stops resolving fields once its response holds about this much");
ABSL_FLAG(int, max_downloads_per_client, 8,
          "downloads one client (token, or address without one) may run at once; more get 503");
ABSL_FLAG(int, max_downloads, 64, "downloads the gateway runs at once; more get 503");
ABSL_FLAG(std::vector<std::string>, cors_origins, {},
          "origins (https://ui.example.com,...) whose pages may call the API from a browser; "
          "default none");
ABSL_FLAG(std::string, web_dir, "",
          "the web page's files; empty: services/gateway/web of the build tree, or share/arca/web "
          "beside the install's bin/");
ABSL_FLAG(absl::Duration, shutdown_deadline, absl::Seconds(10),
          "how long in-flight requests may finish after SIGTERM");

int main(int argc, char** argv) {
  arca::rpc::BlockTerminationSignals();
  arca::InitProgram(argc, argv, "arca-gateway",
                    "Arca's HTTP gateway: REST, downloads (and /metrics) over the services");
  const std::string listen = absl::GetFlag(FLAGS_listen);
  auto security = arca::auth::ServerSecurityFromFlags();
  auto peers = arca::auth::ClientSecurityFromFlags();
  if (!security.ok() || !peers.ok()) {
    ARCA_LOG(ERROR) << (security.ok() ? peers.status() : security.status()).message();
    return 1;
  }
  // TLS alone is not enough here: without tokens, everything is visible to
  // anyone who can connect.
  if (security->tokens == nullptr && !arca::auth::IsLoopback(listen) && !security->insecure) {
    ARCA_LOG(ERROR) << "refusing to serve " << listen
                    << " without --tokens_file: everything would be visible to anyone who can "
                       "connect (pass --insecure to do it anyway)";
    return 1;
  }
  arca::gateway::Backends backends;
  for (auto [channel, address] :
       {std::pair{&backends.catalog, absl::GetFlag(FLAGS_catalog)},
        std::pair{&backends.collector, absl::GetFlag(FLAGS_collector)},
        std::pair{&backends.retention_gc, absl::GetFlag(FLAGS_retention_gc)},
        std::pair{&backends.scheduler_attribute, absl::GetFlag(FLAGS_scheduler_attribute)}}) {
    auto made = arca::rpc::PeerChannel(address, *peers);
    if (!made.ok()) {
      ARCA_LOG(ERROR) << made.status().message();
      return 1;
    }
    *channel = *std::move(made);
  }
  const std::string blob_dir = absl::GetFlag(FLAGS_blob_dir);
  // The collector makes a local store; a gateway that makes an empty one
  // would answer every download with "bytes missing".
  if (!blob_dir.empty() && !arca::blob::BlobStoreFlagSet() && !std::filesystem::is_directory(blob_dir)) {
    ARCA_LOG(ERROR) << "--blob_dir " << blob_dir << " is not a directory (the collector's --blob_dir?)";
    return 1;
  }
  auto blobs = arca::blob::OpenBlobStoreFromFlags(blob_dir);
  if (!blobs.ok()) {
    ARCA_LOG(ERROR) << blobs.status().message();
    return 1;
  }
  backends.blobs = blobs->get();
  auto registry = std::make_shared<prometheus::Registry>();
  arca::http::HttpMetrics http_metrics(*registry);
  arca::gateway::GatewayOptions options;
  options.backend_timeout = absl::GetFlag(FLAGS_backend_timeout);
  options.artifact_cache_ttl = absl::GetFlag(FLAGS_artifact_cache_ttl);
  options.graphql_max_cost = absl::GetFlag(FLAGS_graphql_max_cost);
  options.graphql_timeout = absl::GetFlag(FLAGS_graphql_timeout);
  options.graphql_max_response_bytes =
      static_cast<size_t>(absl::GetFlag(FLAGS_graphql_max_response_bytes));
  options.max_downloads_per_client = absl::GetFlag(FLAGS_max_downloads_per_client);
  options.max_downloads = absl::GetFlag(FLAGS_max_downloads);
  options.presign_downloads = absl::GetFlag(FLAGS_presign_downloads);
  options.web_dir = absl::GetFlag(FLAGS_web_dir);
  options.cors_origins = absl::GetFlag(FLAGS_cors_origins);
  if (options.web_dir.empty()) options.web_dir = arca::gateway::DefaultWebDir();
  if (options.web_dir.empty()) ARCA_LOG(WARNING) << "no web page files found; / answers 404";
  arca::gateway::Gateway gateway(options, backends, security->tokens.get(), registry);

  std::unique_ptr<arca::http::MetricsServer> metrics;
  const std::string metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  if (!metrics_listen.empty()) {
    auto started = arca::http::MetricsServer::Start(
        metrics_listen, security->tls, {registry, std::make_shared<arca::http::ProcessCollector>()});
    if (!started.ok()) {
      ARCA_LOG(ERROR) << "metrics on " << metrics_listen << ": " << started.status().message();
      return 1;
    }
    metrics = *std::move(started);
  }

  arca::http::HttpServerOptions http_options;
  http_options.listen = listen;
  http_options.io_threads = absl::GetFlag(FLAGS_io_threads);
  http_options.worker_threads = absl::GetFlag(FLAGS_worker_threads);
  http_options.read_timeout = absl::GetFlag(FLAGS_read_timeout);
  http_options.write_timeout = absl::GetFlag(FLAGS_write_timeout);
  http_options.shutdown_deadline = absl::GetFlag(FLAGS_shutdown_deadline);
  http_options.tls_cert = security->tls.cert;
  http_options.tls_key = security->tls.key;
  http_options.tls_client_ca = security->tls.client_ca;
  auto server = arca::http::HttpServer::Start(
      http_options,
      [&gateway](const arca::http::HttpRequest& request,
                 arca::http::HttpResponder& responder) { gateway.Handle(request, responder); },
      &http_metrics,
      [&gateway](const arca::http::HttpRequest& request, arca::http::HttpResponse* response) {
        return gateway.FromCache(request, response);
      });
  if (!server.ok()) {
    ARCA_LOG(ERROR) << server.status().message();
    return 1;
  }
  ARCA_LOG(INFO) << "arca-gateway listening on " << (*server)->address()
                 << (metrics ? absl::StrCat(" metrics on ",
                                            metrics_listen.substr(0, metrics_listen.rfind(':')),
                                            ":", metrics->port())
                             : std::string())
                 << (http_options.tls_cert.empty() ? "" : " (HTTPS)")
                 << (security->tokens ? " (bearer tokens required)" : " (no authentication)");
  int sig = arca::rpc::WaitForTerminationSignal();
  ARCA_LOG(INFO) << "signal " << sig << ": shutting down";
  (*server)->Shutdown();
  ARCA_LOG(INFO) << "stopped";
  return 0;
}
