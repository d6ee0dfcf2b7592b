// arca-gateway: HTTP (REST and downloads) over the services' gRPC contracts.

#include <exception>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/init.h"
#include "common/logging.h"
#include "common/process_metrics.h"
#include "common/server.h"
#include "prometheus/exposer.h"
#include "prometheus/registry.h"
#include "common/auth/tokens.h"
#include "services/gateway/gateway.h"
#include "services/gateway/http_server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7480", "HTTP address HOST:PORT (port 0: any free port)");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9405",
          "Prometheus /metrics address HOST:PORT (port 0: any; empty: none); /metrics is also "
          "served on --listen");
ABSL_FLAG(std::string, catalog, "127.0.0.1:7401", "catalog address HOST:PORT");
ABSL_FLAG(std::string, collector, "127.0.0.1:7402", "collector address HOST:PORT");
ABSL_FLAG(std::string, retention_gc, "127.0.0.1:7403", "retention-gc address HOST:PORT");
ABSL_FLAG(std::string, scheduler_attribute, "127.0.0.1:7404",
          "scheduler-attribute address HOST:PORT");
ABSL_FLAG(std::string, tokens_file, "",
          "bearer tokens (sha256 hashes, groups, privacy level); empty: no authentication, "
          "which only a loopback --listen allows unless --allow_unauthenticated");
ABSL_FLAG(bool, allow_unauthenticated, false,
          "serve without --tokens_file on an address other than loopback");
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
ABSL_FLAG(std::string, web_dir, "",
          "the web page's files; empty: services/gateway/web of the build tree, or share/arca/web "
          "beside the install's bin/");
ABSL_FLAG(absl::Duration, shutdown_deadline, absl::Seconds(10),
          "how long in-flight requests may finish after SIGTERM");

namespace {

bool IsLoopback(const std::string& listen) {
  std::string host = listen.substr(0, listen.rfind(':'));
  return host == "localhost" || host == "[::1]" || host == "::1" ||
         absl::StartsWith(host, "127.");
}

}  // namespace

int main(int argc, char** argv) {
  arca::BlockTerminationSignals();
  arca::InitProgram(argc, argv, "arca-gateway",
                    "Arca's HTTP gateway: REST, downloads (and /metrics) over the services");
  const std::string listen = absl::GetFlag(FLAGS_listen);
  std::unique_ptr<arca::auth::TokenFile> auth;
  if (!absl::GetFlag(FLAGS_tokens_file).empty()) {
    auto opened = arca::auth::TokenFile::Open(absl::GetFlag(FLAGS_tokens_file));
    if (!opened.ok()) {
      ARCA_LOG(ERROR) << opened.status().message();
      return 1;
    }
    auth = *std::move(opened);
  } else if (!IsLoopback(listen) && !absl::GetFlag(FLAGS_allow_unauthenticated)) {
    ARCA_LOG(ERROR) << "refusing to serve " << listen
                    << " without --tokens_file: everything would be visible to anyone who can "
                       "connect (pass --allow_unauthenticated to do it anyway)";
    return 1;
  }

  auto registry = std::make_shared<prometheus::Registry>();
  arca::gateway::HttpMetrics http_metrics(*registry);
  arca::gateway::Backends backends;
  backends.catalog = arca::gateway::BackendChannel(absl::GetFlag(FLAGS_catalog));
  backends.collector = arca::gateway::BackendChannel(absl::GetFlag(FLAGS_collector));
  backends.retention_gc = arca::gateway::BackendChannel(absl::GetFlag(FLAGS_retention_gc));
  backends.scheduler_attribute =
      arca::gateway::BackendChannel(absl::GetFlag(FLAGS_scheduler_attribute));
  arca::gateway::GatewayOptions options;
  options.backend_timeout = absl::GetFlag(FLAGS_backend_timeout);
  options.artifact_cache_ttl = absl::GetFlag(FLAGS_artifact_cache_ttl);
  options.graphql_max_cost = absl::GetFlag(FLAGS_graphql_max_cost);
  options.graphql_timeout = absl::GetFlag(FLAGS_graphql_timeout);
  options.graphql_max_response_bytes =
      static_cast<size_t>(absl::GetFlag(FLAGS_graphql_max_response_bytes));
  options.max_downloads_per_client = absl::GetFlag(FLAGS_max_downloads_per_client);
  options.max_downloads = absl::GetFlag(FLAGS_max_downloads);
  options.web_dir = absl::GetFlag(FLAGS_web_dir);
  if (options.web_dir.empty()) options.web_dir = arca::gateway::DefaultWebDir();
  if (options.web_dir.empty()) ARCA_LOG(WARNING) << "no web page files found; / answers 404";
  arca::gateway::Gateway gateway(options, backends, auth.get(), registry);

  std::unique_ptr<prometheus::Exposer> exposer;
  auto process = std::make_shared<arca::ProcessCollector>();
  const std::string metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  int metrics_port = 0;
  if (!metrics_listen.empty()) {
    try {
      exposer = std::make_unique<prometheus::Exposer>(metrics_listen);
    } catch (const std::exception& e) {
      ARCA_LOG(ERROR) << "cannot serve metrics on " << metrics_listen << ": " << e.what();
      return 1;
    }
    exposer->RegisterCollectable(registry);
    exposer->RegisterCollectable(process);
    auto ports = exposer->GetListeningPorts();
    if (!ports.empty()) metrics_port = ports.front();
  }

  arca::gateway::HttpServerOptions http_options;
  http_options.listen = listen;
  http_options.io_threads = absl::GetFlag(FLAGS_io_threads);
  http_options.worker_threads = absl::GetFlag(FLAGS_worker_threads);
  http_options.read_timeout = absl::GetFlag(FLAGS_read_timeout);
  http_options.write_timeout = absl::GetFlag(FLAGS_write_timeout);
  http_options.shutdown_deadline = absl::GetFlag(FLAGS_shutdown_deadline);
  auto server = arca::gateway::HttpServer::Start(
      http_options,
      [&gateway](const arca::gateway::HttpRequest& request,
                 arca::gateway::HttpResponder& responder) { gateway.Handle(request, responder); },
      &http_metrics,
      [&gateway](const arca::gateway::HttpRequest& request, arca::gateway::HttpResponse* response) {
        return gateway.FromCache(request, response);
      });
  if (!server.ok()) {
    ARCA_LOG(ERROR) << server.status().message();
    return 1;
  }
  ARCA_LOG(INFO) << "arca-gateway listening on " << (*server)->address()
                 << (exposer ? absl::StrCat(" metrics on ",
                                            metrics_listen.substr(0, metrics_listen.rfind(':')),
                                            ":", metrics_port)
                             : std::string())
                 << (auth ? " (bearer tokens required)" : " (no authentication)");
  int sig = arca::WaitForTerminationSignal();
  ARCA_LOG(INFO) << "signal " << sig << ": shutting down";
  (*server)->Shutdown();
  ARCA_LOG(INFO) << "stopped";
  return 0;
}
