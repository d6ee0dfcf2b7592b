#include "services/gateway/http_server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/strand.hpp"
#include "boost/asio/thread_pool.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "common/logging.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace arca::gateway {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

absl::string_view HttpRequest::Header(absl::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return {};
}

HttpMetrics::HttpMetrics(prometheus::Registry& registry)
    : requests(prometheus::BuildCounter()
                   .Name("arca_gateway_http_requests_total")
                   .Help("HTTP requests answered, by route template and status code")
                   .Register(registry)),
      seconds(prometheus::BuildHistogram()
                  .Name("arca_gateway_http_request_seconds")
                  .Help("Time from a complete request to its last byte written, by route")
                  .Register(registry)),
      bytes_sent(prometheus::BuildCounter()
                     .Name("arca_gateway_http_sent_bytes_total")
                     .Help("Bytes written to HTTP clients, headers included")
                     .Register(registry)
                     .Add({})),
      connections(prometheus::BuildGauge()
                      .Name("arca_gateway_http_connections")
                      .Help("Open HTTP connections")
                      .Register(registry)
                      .Add({})),
      in_flight(prometheus::BuildGauge()
                    .Name("arca_gateway_http_in_flight_requests")
                    .Help("Requests being handled")
                    .Register(registry)
                    .Add({})) {}

namespace {

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* b = new prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return *b;
}

std::string ReasonPhrase(int status) {
  auto reason = http::obsolete_reason(static_cast<http::status>(status));
  return reason.empty() ? "Unknown" : std::string(reason);
}

// The response head as bytes; Content-Length is the caller's (a streamed
// response) or the body's.
std::string SerializeHead(const HttpResponse& r, bool with_body_length, bool close) {
  std::string out = absl::StrCat("HTTP/1.1 ", r.status, " ", ReasonPhrase(r.status), "\r\n");
  bool has_length = false;
  for (const auto& [k, v] : r.headers) {
    if (absl::EqualsIgnoreCase(k, "content-length")) has_length = true;
    absl::StrAppend(&out, k, ": ", v, "\r\n");
  }
  if (with_body_length && !has_length) {
    absl::StrAppend(&out, "Content-Length: ", r.body.size(), "\r\n");
  }
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  return out;
}

std::string ErrorBody(absl::string_view message) {
  // message is one of ours: no characters that need escaping.
  return absl::StrCat("{\"error\":\"", message, "\"}\n");
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(const HttpServerOptions& options, HttpHandler handler, HttpMetrics* metrics,
       HttpFastPath fast_path)
      : options_(options),
        handler_(std::move(handler)),
        fast_path_(std::move(fast_path)),
        metrics_(metrics),
        acceptor_(net::make_strand(ioc_)),
        workers_(std::max(1, options.worker_threads)),
        stop_fd_(eventfd(0, EFD_CLOEXEC)) {}
  ~Impl() {
    if (stop_fd_ >= 0) close(stop_fd_);
  }

  absl::Status Listen();
  void Run();
  void Shutdown();

  int port_ = 0;
  std::string address_;

 private:
  class Connection;
  void Accept();

  HttpServerOptions options_;
  HttpHandler handler_;
  HttpFastPath fast_path_;
  HttpMetrics* metrics_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  net::thread_pool workers_;
  std::vector<std::thread> io_threads_;
  absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool shut_down_ = false;
  // Readable once in-flight requests have had their time: wakes workers
  // waiting on slow clients.
  const int stop_fd_;
};

// One client connection. Reads run on the I/O threads (under a strand);
// a complete request goes to a worker, which writes its response to the
// socket itself (nothing else touches the socket meanwhile); then the next
// read is posted.
class HttpServer::Impl::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Impl* server, tcp::socket socket)
      : server_(server), metrics_(server->metrics_), stream_(std::move(socket)) {
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) peer_ = absl::StrCat(ep.address().to_string(), ":", ep.port());
    metrics_->connections.Increment();
  }
  ~Connection() { metrics_->connections.Decrement(); }

  void ReadNext() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_->options_.max_header_bytes));
    parser_->body_limit(server_->options_.max_body_bytes);
    stream_.expires_after(absl::ToChronoMilliseconds(server_->options_.read_timeout));
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Connection::OnRead, shared_from_this()));
  }

 private:
  void OnRead(beast::error_code ec, size_t) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset ||
        ec == net::error::eof) {
      Close();
      return;
    }
    if (ec) {
      // The request is malformed or too big: answer once, then close (the
      // rest of what the client sends cannot be framed).
      HttpResponse r;
      if (ec == http::error::body_limit) {
        r.status = 413;
        r.body = ErrorBody(absl::StrCat("request body is larger than ",
                                        server_->options_.max_body_bytes, " bytes"));
      } else if (ec == http::error::header_limit) {
        r.status = 431;
        r.body = ErrorBody(absl::StrCat("request headers are larger than ",
                                        server_->options_.max_header_bytes, " bytes"));
      } else {
        r.status = 400;
        r.body = ErrorBody(absl::StrCat("malformed HTTP request: ", ec.message()));
      }
      r.headers.emplace_back("Content-Type", "application/json");
      r.route = "malformed";
      r.close = true;
      head_only_ = false;
      Answer(std::move(r), absl::Now());
      return;
    }
    stream_.expires_never();
    auto message = parser_->release();
    parser_.reset();
    auto request = std::make_shared<HttpRequest>();
    request->method = std::string(message.method_string());
    request->target = std::string(message.target());
    for (const auto& field : message) {
      request->headers.emplace_back(absl::AsciiStrToLower(std::string(field.name_string())),
                                    std::string(field.value()));
    }
    request->body = std::move(message.body());
    request->peer = peer_;
    keep_alive_ = message.keep_alive();
    head_only_ = message.method() == http::verb::head;
    close_ = failed_ = false;
    if (server_->fast_path_) {
      auto start = absl::Now();
      HttpResponse r;
      if (server_->fast_path_(*request, &r)) {
        Answer(std::move(r), start);
        return;
      }
    }
    net::post(server_->workers_,
              [self = shared_from_this(), request] { self->Handle(*request); });
  }

  // On the strand: counts and writes a whole response made without a
  // worker, then reads the next request or closes.
  void Answer(HttpResponse r, absl::Time start) {
    metrics_->requests.Add({{"route", r.route}, {"code", std::to_string(r.status)}}).Increment();
    metrics_->seconds.Add({{"route", r.route}}, LatencyBuckets())
        .Observe(absl::ToDoubleSeconds(absl::Now() - start));
    if (r.close || !keep_alive_) close_ = true;
    auto bytes = std::make_shared<std::string>(SerializeHead(r, true, close_));
    if (!head_only_) *bytes += r.body;
    metrics_->bytes_sent.Increment(static_cast<double>(bytes->size()));
    stream_.expires_after(absl::ToChronoMilliseconds(server_->options_.write_timeout));
    net::async_write(stream_, net::buffer(*bytes),
                     [self = shared_from_this(), bytes](beast::error_code ec, size_t) {
                       if (ec || self->close_) {
                         self->Close();
                       } else {
                         self->ReadNext();
                       }
                     });
  }

  // On a worker thread.
  void Handle(const HttpRequest& request) {
    {
      absl::MutexLock lock(&server_->mu_);
      server_->in_flight_++;
    }
    metrics_->in_flight.Increment();
    auto start = absl::Now();
    Responder responder(this);
    server_->handler_(request, responder);
    if (!responder.started) {
      HttpResponse r;
      r.status = 500;
      r.body = ErrorBody("the handler sent no response");
      responder.Send(std::move(r));
    }
    if (!responder.finished) failed_ = true;  // a stream cut short
    metrics_->seconds.Add({{"route", responder.route}}, LatencyBuckets())
        .Observe(absl::ToDoubleSeconds(absl::Now() - start));
    metrics_->in_flight.Decrement();
    {
      absl::MutexLock lock(&server_->mu_);
      server_->in_flight_--;
    }
    if (keep_alive_ && !failed_ && !close_) {
      net::post(stream_.get_executor(), [self = shared_from_this()] { self->ReadNext(); });
    } else {
      net::post(stream_.get_executor(), [self = shared_from_this()] { self->Close(); });
    }
  }

  class Responder : public HttpResponder {
   public:
    explicit Responder(Connection* c) : c_(c) {}
    void Send(HttpResponse r) override {
      if (started) return;
      Begin(r);
      bool close = c_->close_;
      std::string bytes = SerializeHead(r, true, close);
      if (!c_->head_only_) bytes += r.body;
      finished = c_->Write(bytes);
    }
    bool SendHead(const HttpResponse& head) override {
      if (started) return false;
      Begin(head);
      for (const auto& [k, v] : head.headers) {
        if (absl::EqualsIgnoreCase(k, "content-length")) {
          (void)absl::SimpleAtoi(v, &remaining_);
        }
      }
      if (!c_->Write(SerializeHead(head, false, c_->close_))) return false;
      finished = remaining_ == 0 || c_->head_only_;
      return true;
    }
    bool SendBody(absl::string_view bytes) override {
      if (!started || c_->failed_) return false;
      if (c_->head_only_) return true;
      if (!c_->Write(bytes)) return false;
      remaining_ -= static_cast<int64_t>(bytes.size());
      finished = remaining_ == 0;
      return true;
    }

    bool started = false, finished = false;
    std::string route = "unmatched";

   private:
    // Counted before the first byte goes out, so a client that has its
    // answer also finds it in /metrics.
    void Begin(const HttpResponse& r) {
      started = true;
      if (!r.route.empty()) route = r.route;
      c_->metrics_->requests.Add({{"route", route}, {"code", std::to_string(r.status)}}).Increment();
      if (r.close || !c_->keep_alive_) c_->close_ = true;
    }
    Connection* c_;
    int64_t remaining_ = 0;
  };

  // On a worker thread: hands all of `bytes` to the socket, waiting while
  // its buffer is full. False if the client is gone, a piece takes longer
  // than the write timeout, or the server is stopping.
  bool Write(absl::string_view bytes) {
    if (failed_) return false;
    const int fd = stream_.socket().native_handle();
    const absl::Time deadline = absl::Now() + server_->options_.write_timeout;
    while (!bytes.empty()) {
      const ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) {
        bytes.remove_prefix(static_cast<size_t>(n));
        metrics_->bytes_sent.Increment(static_cast<double>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) break;
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) break;
      pollfd fds[2] = {{fd, POLLOUT, 0}, {server_->stop_fd_, POLLIN, 0}};
      const int ms = static_cast<int>(absl::ToInt64Milliseconds(left)) + 1;
      if (poll(fds, 2, ms) < 0 && errno != EINTR) break;
      if (fds[1].revents != 0) break;
    }
    if (!bytes.empty()) failed_ = true;
    return !failed_;
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  Impl* server_;
  HttpMetrics* metrics_;  // outlives connections closed by ~io_context
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string peer_;
  // Per request, touched by one thread at a time (the strand, then a
  // worker, then the strand again).
  bool keep_alive_ = true, head_only_ = false, close_ = false, failed_ = false;
};

absl::Status HttpServer::Impl::Listen() {
  auto colon = options_.listen.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(options_.listen.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address must be HOST:PORT, got \"", options_.listen, "\""));
  }
  std::string host = options_.listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  beast::error_code ec;
  tcp::resolver resolver(ioc_);
  auto endpoints = resolver.resolve(host, std::to_string(port), ec);
  if (ec || endpoints.empty()) {
    return absl::UnavailableError(
        absl::StrCat("cannot resolve ", options_.listen, ": ", ec.message()));
  }
  tcp::endpoint endpoint = endpoints.begin()->endpoint();
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.listen, ": ", ec.message()));
  }
  port_ = acceptor_.local_endpoint().port();
  address_ = absl::StrCat(options_.listen.substr(0, colon), ":", port_);
  return absl::OkStatus();
}

void HttpServer::Impl::Accept() {
  acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<Connection>(this, std::move(socket))->ReadNext();
    }
    Accept();
  });
}

void HttpServer::Impl::Run() {
  Accept();
  for (int i = 0; i < std::max(1, options_.io_threads); ++i) {
    io_threads_.emplace_back([this] { ioc_.run(); });
  }
}

void HttpServer::Impl::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  net::post(acceptor_.get_executor(), [this] {
    beast::error_code ec;
    acceptor_.close(ec);
  });
  {
    absl::MutexLock lock(&mu_);
    auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return in_flight_ == 0; };
    mu_.AwaitWithTimeout(absl::Condition(&idle), options_.shutdown_deadline);
  }
  const uint64_t one = 1;
  if (write(stop_fd_, &one, sizeof one) < 0) ARCA_LOG(WARNING) << "cannot wake writers to stop";
  ioc_.stop();
  for (auto& t : io_threads_) t.join();
  workers_.join();
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() { Shutdown(); }

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                              HttpHandler handler,
                                                              HttpMetrics* metrics,
                                                              HttpFastPath fast_path) {
  auto impl = std::make_unique<Impl>(options, std::move(handler), metrics, std::move(fast_path));
  absl::Status s = impl->Listen();
  if (!s.ok()) return s;
  impl->Run();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

int HttpServer::port() const { return impl_->port_; }
std::string HttpServer::address() const { return impl_->address_; }
void HttpServer::Shutdown() { impl_->Shutdown(); }

}  // namespace arca::gateway
