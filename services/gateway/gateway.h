#ifndef ARCA_SERVICES_GATEWAY_GATEWAY_H_
#define ARCA_SERVICES_GATEWAY_GATEWAY_H_

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "services/gateway/http_server.h"

namespace grpc {
class Channel;
}
namespace prometheus {
class Registry;
}

namespace arca::gateway {

class TokenAuth;

struct GatewayOptions {
  // Deadline of each backend call (a download's stream gets an hour).
  // Default: 10 s.
  absl::Duration backend_timeout = absl::Seconds(10);
  // Default page size of GET /api/v1/job (o2r's 100).
  int default_limit = 100;
  // Group of jobs created over REST without one.
  std::string default_group = "default";
  // Bytes per download message requested from the collector is the
  // collector's; this is the most a response may buffer. Default: 1 MiB.
  size_t max_chunk_bytes = 1 << 20;
};

// The four services the gateway talks to, as gRPC channels. Any may be
// null: its routes then answer 503.
struct Backends {
  std::shared_ptr<grpc::Channel> catalog, collector, retention_gc, scheduler_attribute;
};

// Channel arguments for backends: reconnect quickly once a backend is back.
std::shared_ptr<grpc::Channel> BackendChannel(const std::string& address);

// REST (Mantis jobArtifacts, o2r jobs, files and downloads, GC, scheduling)
// over the backends' gRPC contracts, with visibility by token.
class Gateway {
 public:
  // auth null: everyone sees everything (the loopback default).
  Gateway(const GatewayOptions& options, Backends backends, TokenAuth* auth,
          std::shared_ptr<prometheus::Registry> registry);
  ~Gateway();

  // The HttpServer handler.
  void Handle(const HttpRequest& request, HttpResponder& responder);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace arca::gateway

#endif  // ARCA_SERVICES_GATEWAY_GATEWAY_H_
