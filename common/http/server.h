#ifndef ARCA_COMMON_HTTP_SERVER_H_
#define ARCA_COMMON_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/metrics/table.h"

namespace arca::http {

// One HTTP request, whole (bodies are bounded by HttpServerOptions).
struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path and query, percent-encoded
  // Header names in lower case, in the order sent.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string peer;  // the client's address
  // The common name of the client's certificate, when TLS asked for one
  // (mTLS); "" otherwise.
  std::string client_certificate;

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
  // Set by a handler: who the request acts as, for the access line.
  std::string identity;
  // Close the connection after this response.
  bool close = false;
};

// A response body made piece by piece (a download). The server asks for the
// next piece only once the last one is in the socket's buffer, and waits
// for a slow reader without holding a thread.
class HttpBody {
 public:
  virtual ~HttpBody() = default;
  // Replaces *out with the next bytes; empty at the end. May block briefly
  // (a read from a backend). An error, or an end before the declared
  // Content-Length, cuts the response short and closes the connection.
  virtual absl::Status Next(std::string* out) = 0;
};

// How a handler answers: Send or SendStream, once. Either returns at once;
// the server writes the response after the handler returns, without
// holding a worker while the client is not reading.
class HttpResponder {
 public:
  virtual ~HttpResponder() = default;
  virtual void Send(HttpResponse response) = 0;
  // head.body is ignored; head carries the Content-Length the body fills.
  virtual void SendStream(HttpResponse head, std::unique_ptr<HttpBody> body) = 0;
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
  // Threads running handlers (which may block on backends) and pulling
  // pieces of streamed bodies. Default: 32.
  int worker_threads = 32;
  // Request limits: larger bodies get 413, larger headers 431.
  // Defaults: Mantis' 8 MiB and 8 KiB.
  size_t max_body_bytes = 8 << 20;
  size_t max_header_bytes = 8 << 10;
  // A request must arrive whole within this long of the connection becoming
  // ready for it (an idle keep-alive connection is closed after it too).
  // Default: 30 s.
  absl::Duration read_timeout = absl::Seconds(30);
  // A client that takes none of a response's bytes for this long is
  // dropped. Default: 60 s.
  absl::Duration write_timeout = absl::Seconds(60);
  // On Shutdown, how long in-flight requests may finish. Default: 10 s.
  absl::Duration shutdown_deadline = absl::Seconds(10);
  // HTTPS with this certificate chain and key (PEM files, read again for
  // new connections once they change); client certificates from this CA
  // required when set (mTLS). Empty: plain HTTP.
  std::string tls_cert, tls_key, tls_client_ca;
  // A trace span per request (common/trace.h; a child of the request's
  // traceparent). Default: true.
  bool trace = true;
};

// HTTP metrics, declared once; requests by {route, code}, seconds by
// {route}.
#define ARCA_HTTP_METRICS(M)                                                                  \
  M(Counters, requests,                                                                       \
    {"arca_gateway_http_requests_total",                                                      \
     "HTTP requests answered, by route template and status code"})                            \
  M(Histograms, seconds,                                                                      \
    {"arca_gateway_http_request_seconds",                                                     \
     "Time from a complete request to its last byte written, by route"})                      \
  M(Counter, bytes_sent,                                                                      \
    {"arca_gateway_http_sent_bytes_total", "Bytes written to HTTP clients, headers included"}) \
  M(Gauge, connections, {"arca_gateway_http_connections", "Open HTTP connections"})           \
  M(Gauge, in_flight, {"arca_gateway_http_in_flight_requests", "Requests being handled"})

struct HttpMetrics {
  explicit HttpMetrics(prometheus::Registry& registry)
      : registry(registry) ARCA_HTTP_METRICS(ARCA_METRIC_INIT) {}
  prometheus::Registry& registry;
  ARCA_HTTP_METRICS(ARCA_METRIC_MEMBER)
};

// An asynchronous HTTP/1.1 server (Boost.Beast): sockets are served by a few
// I/O threads, so idle keep-alive connections and clients slow to read cost
// no thread; complete requests are handed to a worker pool. A request with
// a Transfer-Encoding other than exactly "chunked", or with both that and a
// Content-Length, is answered 400 and the connection closed (RFC 9112
// section 6): its body cannot be framed safely.
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

}  // namespace arca::http

#endif  // ARCA_COMMON_HTTP_SERVER_H_
