#include "common/http/metrics_server.h"

#include <sstream>

#include "common/http/server.h"
#include "prometheus/collectable.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace arca::http {
namespace {

std::string Scrape(const std::vector<std::shared_ptr<prometheus::Collectable>>& collectables) {
  std::vector<prometheus::MetricFamily> families;
  for (const auto& c : collectables) {
    auto collected = c->Collect();
    families.insert(families.end(), std::make_move_iterator(collected.begin()),
                    std::make_move_iterator(collected.end()));
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace

MetricsServer::MetricsServer() : unexposed_(std::make_shared<prometheus::Registry>()) {}
MetricsServer::~MetricsServer() {
  if (server_ != nullptr) server_->Shutdown();
}

int MetricsServer::port() const { return server_->port(); }

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const std::string& listen, const auth::ServerTls& tls,
    std::vector<std::shared_ptr<prometheus::Collectable>> collectables) {
  std::unique_ptr<MetricsServer> m(new MetricsServer());
  m->collectables_ = std::move(collectables);
  m->http_metrics_ = std::make_unique<HttpMetrics>(*m->unexposed_);
  HttpServerOptions options;
  options.listen = listen;
  options.io_threads = 1;
  options.trace = false;  // scrapes are not requests worth a trace
  options.worker_threads = 2;
  options.max_body_bytes = 1024;
  options.shutdown_deadline = absl::Seconds(2);
  options.tls_cert = tls.cert;
  options.tls_key = tls.key;
  options.tls_client_ca = tls.client_ca;
  MetricsServer* self = m.get();
  auto server = HttpServer::Start(
      options,
      [self](const HttpRequest& request, HttpResponder& responder) {
        HttpResponse response;
        const std::string path = request.target.substr(0, request.target.find('?'));
        if (path != "/metrics") {
          response.status = 404;
          response.body = "not found; metrics are at /metrics\n";
        } else if (request.method != "GET" && request.method != "HEAD") {
          response.status = 405;
          response.headers.emplace_back("Allow", "GET, HEAD");
          response.body = "only GET and HEAD\n";
        } else {
          response.body = Scrape(self->collectables_);
        }
        response.headers.emplace_back(
            "Content-Type", response.status == 200 ? "text/plain; version=0.0.4" : "text/plain");
        response.route = "GET /metrics";
        responder.Send(std::move(response));
      },
      m->http_metrics_.get());
  if (!server.ok()) return server.status();
  m->server_ = *std::move(server);
  return m;
}

}  // namespace arca::http
