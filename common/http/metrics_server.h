#ifndef ARCA_COMMON_HTTP_METRICS_SERVER_H_
#define ARCA_COMMON_HTTP_METRICS_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/auth/security.h"

namespace prometheus {
class Collectable;
class Registry;
}  // namespace prometheus

namespace arca::http {

class HttpServer;
struct HttpMetrics;

// Serves GET /metrics (Prometheus' text format) from `collectables`, on the
// HTTP server every Arca listener shares: with TLS when `tls` says so (the
// certificate read again when it changes; client certificates required
// with a client CA), the same request limits and timeouts.
class MetricsServer {
 public:
  // UNAVAILABLE if `listen` cannot be bound; INVALID_ARGUMENT for TLS files
  // that cannot be used.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      const std::string& listen, const auth::ServerTls& tls,
      std::vector<std::shared_ptr<prometheus::Collectable>> collectables);
  ~MetricsServer();

  int port() const;

 private:
  MetricsServer();
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  // The listener's own metrics, not exposed.
  std::shared_ptr<prometheus::Registry> unexposed_;
  std::unique_ptr<HttpMetrics> http_metrics_;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace arca::http

#endif  // ARCA_COMMON_HTTP_METRICS_SERVER_H_
