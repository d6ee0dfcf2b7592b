#ifndef ARCA_SERVICES_GATEWAY_HTTP_SERVER_H_
#define ARCA_SERVICES_GATEWAY_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace arca::gateway {

// One HTTP request, whole (bodies are bounded by HttpServerOptions).
struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path and query, percent-encoded
  // Header names in lower case, in the order sent.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string peer;  // the client's address

  // The value of the first header of this (lower-case) name, or "".
  absl::string_view Header(absl::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Set by a handler: the route template for metrics, e.g.
  // "GET /api/v1/job/{id}". Unset: "unmatched".
  std::string route;
  // Close the connection after this response.
  bool close = false;
};

// How a handler answers. Either Send once, or SendHead then SendBody until
// the declared Content-Length has been sent. Each blocks until its bytes are
// in the socket's buffer (or the write timed out), so a slow reader slows
// the handler instead of growing a buffer.
class HttpResponder {
 public:
  virtual ~HttpResponder() = default;
  virtual void Send(HttpResponse response) = 0;
  // head.body is ignored. Returns false if the client is gone.
  virtual bool SendHead(const HttpResponse& head) = 0;
  virtual bool SendBody(absl::string_view bytes) = 0;
};

// Runs on a worker thread; may block (gRPC calls, streaming).
using HttpHandler = std::function<void(const HttpRequest&, HttpResponder&)>;

// Runs on an I/O thread before the request goes to a worker, and must not
// block: fills *response and returns true to answer at once (a cache hit),
// or returns false to hand the request to the HttpHandler.
using HttpFastPath = std::function<bool(const HttpRequest&, HttpResponse*)>;

struct HttpServerOptions {
  // HOST:PORT; port 0 picks a free port.
  std::string listen = "127.0.0.1:0";
  // Threads reading requests (asynchronously) and sending the answers of
  // the fast path; workers write their own answers. Default: 2.
  int io_threads = 2;
  // Threads running handlers (which may block on backends). Default: 32.
  int worker_threads = 32;
  // Request limits: larger bodies get 413, larger headers 431.
  // Defaults: Mantis' 8 MiB and 8 KiB.
  size_t max_body_bytes = 8 << 20;
  size_t max_header_bytes = 8 << 10;
  // A request must arrive whole within this long of the connection becoming
  // ready for it (an idle keep-alive connection is closed after it too).
  // Default: 30 s.
  absl::Duration read_timeout = absl::Seconds(30);
  // Each write must complete within this long, or the connection is
  // dropped. Default: 60 s.
  absl::Duration write_timeout = absl::Seconds(60);
  // On Shutdown, how long in-flight requests may finish. Default: 10 s.
  absl::Duration shutdown_deadline = absl::Seconds(10);
};

// HTTP metrics, declared once (names arca_gateway_http_*).
struct HttpMetrics {
  explicit HttpMetrics(prometheus::Registry& registry);
  prometheus::Family<prometheus::Counter>& requests;      // {route, code}
  prometheus::Family<prometheus::Histogram>& seconds;     // {route}
  prometheus::Counter& bytes_sent;
  prometheus::Gauge& connections;
  prometheus::Gauge& in_flight;
};

// An asynchronous HTTP/1.1 server (Boost.Beast): sockets are served by a few
// I/O threads, so idle keep-alive connections cost no thread; complete
// requests are handed to a worker pool.
class HttpServer {
 public:
  // UNAVAILABLE if the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                           HttpHandler handler,
                                                           HttpMetrics* metrics,
                                                           HttpFastPath fast_path = nullptr);
  ~HttpServer();

  int port() const;
  // HOST:PORT actually bound.
  std::string address() const;

  // Stops accepting, lets in-flight requests finish until the deadline,
  // then closes every connection. Idempotent.
  void Shutdown();

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace arca::gateway

#endif  // ARCA_SERVICES_GATEWAY_HTTP_SERVER_H_
