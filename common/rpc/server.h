#ifndef ARCA_COMMON_RPC_SERVER_H_
#define ARCA_COMMON_RPC_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/auth/security.h"
#include "common/periodic.h"

namespace grpc {
class Channel;
class Server;
class Service;
}  // namespace grpc
namespace prometheus {
class Collectable;
class Registry;
class Gauge;
}  // namespace prometheus

namespace arca::auth {
class Authorizer;
}  // namespace arca::auth
namespace arca::http {
class MetricsServer;
}  // namespace arca::http

namespace arca::rpc {

class GrpcMetrics;

struct ServerOptions {
  // Short service name: the metric prefix ("catalog", "retention_gc") and
  // the binary's name after "arca-".
  std::string name;
  // gRPC address, HOST:PORT; port 0 picks a free port.
  std::string listen = "127.0.0.1:0";
  // Prometheus /metrics address, HOST:PORT; port 0 picks a free port;
  // empty serves no metrics over HTTP.
  std::string metrics_listen;
  // How long in-flight calls may finish on shutdown before being cancelled.
  // Default: 10 s.
  absl::Duration shutdown_deadline = absl::Seconds(10);
  // Largest request message accepted. Default: 16 MiB.
  int max_receive_message_bytes = 16 << 20;
  // Threads waiting for new calls in the synchronous server. Handlers block
  // on fsync; more pollers let more of them wait at once, so RocksDB's group
  // commit sees more writers per sync. Defaults: 16 and 64.
  int min_pollers = 16;
  int max_pollers = 64;
  // Most threads the server runs calls on; a call that finds none is
  // refused with RESOURCE_EXHAUSTED instead of starting another, so no
  // number of clients can make threads without bound. Default: 1,024.
  int max_threads = 1024;
  // TLS (and mTLS) for the gRPC listener; without it, an address other
  // than loopback needs an authorizer with tokens, or insecure.
  auth::ServerTls tls;
  bool insecure = false;
  // Who each call acts as, for the refusal above and the audit log of
  // writes; null: nobody is checked.
  std::shared_ptr<const auth::Authorizer> authorizer;
  // Whether the services can do their job now (their peers reachable, their
  // disk writable): checked at start and every readiness_interval. While it
  // fails, each service's health is NOT_SERVING (readiness) and why is
  // logged at each change; the server as a whole ("") stays SERVING until
  // Shutdown (liveness). Null: always ready.
  std::function<absl::Status()> readiness;
  absl::Duration readiness_interval = absl::Seconds(5);
};

// A service to serve and the full name health checks know it by, e.g.
// {arca::catalog::v1::Catalog::service_full_name(), &impl}.
struct ServiceEntry {
  std::string name;
  grpc::Service* service;
};

// A started gRPC server with health checking (every service SERVING until
// Shutdown), reflection, per-method metrics and a Prometheus exposer.
class Server {
 public:
  // Fails with UNAVAILABLE if an address cannot be bound (or is taken: the
  // port is not shared with another process). `services` must outlive the
  // server; `registry` gets the gRPC metrics and is exposed.
  // The exposer also serves the process metrics (common/http/process_metrics.h).
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const ServerOptions& options, const std::vector<ServiceEntry>& services,
      std::shared_ptr<prometheus::Registry> registry,
      const std::vector<std::shared_ptr<prometheus::Collectable>>& more_metrics = {});
  ~Server();

  int port() const { return port_; }
  int metrics_port() const { return metrics_port_; }
  // HOST:PORT actually bound.
  const std::string& address() const { return address_; }
  std::shared_ptr<grpc::Channel> InProcessChannel();

  // Marks health NOT_SERVING, stops accepting, lets in-flight calls finish
  // until the deadline, then cancels the rest. Idempotent.
  void Shutdown();

 private:
  Server() = default;
  void CheckReadiness();

  ServerOptions options_;
  std::vector<std::string> services_;
  bool ready_ = true;  // as last checked; only the readiness thread uses it
  prometheus::Gauge* ready_gauge_ = nullptr;  // arca_<name>_ready
  std::unique_ptr<Periodic> readiness_;
  std::shared_ptr<prometheus::Registry> registry_;  // owns the metric families
  std::unique_ptr<GrpcMetrics> metrics_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<http::MetricsServer> metrics_server_;
  int port_ = 0;
  int metrics_port_ = 0;
  std::string address_;
  bool shut_down_ = false;
};

// A service binary's life: starts the server, waits for SIGTERM or SIGINT,
// shuts down gracefully. Returns the process exit code: 0 after a clean
// shutdown, 1 if the server could not start (the reason is logged).
int ServeUntilSignal(
    const ServerOptions& options, const std::vector<ServiceEntry>& services,
    std::shared_ptr<prometheus::Registry> registry,
    const std::vector<std::shared_ptr<prometheus::Collectable>>& more_metrics = {});

// Blocks SIGTERM and SIGINT in this thread and in every thread started after
// it; call first in main, before any thread exists.
void BlockTerminationSignals();

// Waits until SIGTERM or SIGINT arrives; returns its number.
int WaitForTerminationSignal();

}  // namespace arca::rpc

#endif  // ARCA_COMMON_RPC_SERVER_H_
