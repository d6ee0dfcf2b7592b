#ifndef ARCA_COMMON_HTTP_SERVER_IMPL_H_
#define ARCA_COMMON_HTTP_SERVER_IMPL_H_

// The HTTP server's insides: the server (listener, worker pool, TLS
// context) and one connection's state machine over a plain or TLS stream.
// Internal to common/http; Boost.Beast stays out of server.h.

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <optional>
#include <sstream>
#include <thread>
#include <type_traits>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/strand.hpp"
#include "boost/asio/thread_pool.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "common/logging.h"
#include "common/trace.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "common/http/server.h"

namespace arca::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

const prometheus::Histogram::BucketBoundaries& LatencyBuckets();

std::string ReasonPhrase(int status);

// The response head as bytes; Content-Length is the caller's (a streamed
// response) or the body's.
std::string SerializeHead(const HttpResponse& r, bool with_body_length, bool close);

// {"error": message}, the message escaped as a JSON string.
std::string ErrorBody(absl::string_view message);

// When the TLS files were last changed, all together (0 if one is missing).
int64_t Stamp(const HttpServerOptions& o);

class HttpServer::Impl {
 public:
  Impl(const HttpServerOptions& options, HttpHandler handler, HttpMetrics* metrics,
       HttpFastPath fast_path)
      : options_(options),
        handler_(std::move(handler)),
        fast_path_(std::move(fast_path)),
        metrics_(metrics),
        acceptor_(net::make_strand(ioc_)),
        workers_(std::max(1, options.worker_threads)) {}

  absl::Status Listen();
  void Run();
  void Shutdown();

  int port_ = 0;
  std::string address_;

 private:
  template <typename Stream>
  class Connection;
  void Accept();
  // The TLS context for a new connection: made again when the certificate
  // files have changed (looked at most every few seconds); null without TLS.
  // A context that cannot be made keeps the last one in use.
  std::shared_ptr<net::ssl::context> TlsContext();
  absl::StatusOr<std::shared_ptr<net::ssl::context>> MakeTlsContext() const;

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
  std::atomic<bool> stopping_{false};
  bool shut_down_ = false;
  absl::Mutex tls_mu_;
  std::shared_ptr<net::ssl::context> tls_ ABSL_GUARDED_BY(tls_mu_);
  absl::Time tls_checked_ ABSL_GUARDED_BY(tls_mu_);
  int64_t tls_stamp_ ABSL_GUARDED_BY(tls_mu_) = 0;  // of the files tls_ was made from
};

// One client connection. Reads run on the I/O threads (under a strand); a
// complete request goes to a worker, which runs the handler and starts
// writing its response. Writes never wait: when the socket's buffer is
// full, the connection waits for it to drain on the I/O threads and the
// next piece is written (and a streamed body's next piece pulled) by a
// worker once it has. One thread at a time touches a connection's state.
//
// Stream is a plain TCP stream, or TLS over one: with TLS the handshake
// comes first, and writes go through asio's TLS engine (asynchronously, on
// the I/O threads) instead of straight to the socket.
template <typename Stream>
class HttpServer::Impl::Connection : public std::enable_shared_from_this<Connection<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;
  using std::enable_shared_from_this<Connection<Stream>>::shared_from_this;

 public:
  Connection(Impl* server, tcp::socket socket, std::shared_ptr<net::ssl::context> tls)
      : server_(server),
        metrics_(server->metrics_),
        tls_(std::move(tls)),
        stream_(MakeStream(std::move(socket), tls_.get())),
        write_timer_(stream_.get_executor()) {
    beast::error_code ec;
    auto ep = Socket().remote_endpoint(ec);
    if (!ec) peer_ = absl::StrCat(ep.address().to_string(), ":", ep.port());
    metrics_->connections.Increment();
  }
  ~Connection() { metrics_->connections.Decrement(); }

  // Reads the first request, after the TLS handshake where there is one.
  void Start() {
    if constexpr (!kTls) {
      ReadNext();
    } else {
      Lowest().expires_after(absl::ToChronoMilliseconds(server_->options_.read_timeout));
      stream_.async_handshake(net::ssl::stream_base::server,
                              [self = shared_from_this()](beast::error_code ec) {
                                if (ec) return self->Close();
                                self->client_certificate_ = CommonName(self->stream_.native_handle());
                                self->ReadNext();
                              });
    }
  }

  void ReadNext() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_->options_.max_header_bytes));
    parser_->body_limit(server_->options_.max_body_bytes);
    Lowest().expires_after(absl::ToChronoMilliseconds(server_->options_.read_timeout));
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Connection::OnHeader, shared_from_this()));
  }

 private:
  // The framing is checked before any of the body is read.
  void OnHeader(beast::error_code ec, size_t) {
    if (ec) return OnRead(ec, 0);
    const auto& header = parser_->get();
    auto te = header.find(http::field::transfer_encoding);
    if (te != header.end()) {
      absl::string_view coding(te->value().data(), te->value().size());
      if (header.count(http::field::transfer_encoding) > 1) {
        return Refuse(400, "Transfer-Encoding is given more than once");
      }
      if (!absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(coding), "chunked")) {
        return Refuse(400, absl::StrCat("Transfer-Encoding \"",
                                        absl::CHexEscape(coding.substr(0, 100)),
                                        "\" is not supported; send \"chunked\" or a Content-Length"));
      }
      if (header.count(http::field::content_length) > 0) {
        return Refuse(400, "a request may not carry both Transfer-Encoding and Content-Length");
      }
    }
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Connection::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset ||
        ec == net::error::eof) {
      Close();
      return;
    }
    if (ec == http::error::body_limit) {
      return Refuse(413, absl::StrCat("request body is larger than ",
                                      server_->options_.max_body_bytes, " bytes"));
    }
    if (ec == http::error::header_limit) {
      return Refuse(431, absl::StrCat("request headers are larger than ",
                                      server_->options_.max_header_bytes, " bytes"));
    }
    if (ec) return Refuse(400, absl::StrCat("malformed HTTP request: ", ec.message()));
    Lowest().expires_never();
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
    request->client_certificate = client_certificate_;
    method_ = request->method;
    target_ = request->target.substr(0, 512);
    keep_alive_ = message.keep_alive();
    head_only_ = message.method() == http::verb::head;
    close_ = false;
    start_ = absl::Now();
    // The request's span: a child of the client's traceparent, else a new
    // trace's root.
    if (server_->options_.trace) {
      const std::optional<trace::Context> parent =
          trace::Parse(request->Header("traceparent"), request->Header("tracestate"));
      span_.emplace(method_, trace::Kind::kServer, parent ? &*parent : nullptr);
    }
    if (server_->fast_path_) {
      HttpResponse r;
      if (server_->fast_path_(*request, &r)) {
        Begin(r, nullptr);
        Pump();
        return;
      }
    }
    net::post(server_->workers_,
              [self = shared_from_this(), request] { self->Handle(*request); });
  }

  // On the strand: the request is malformed or too big. Answered once, then
  // the connection closes (the rest of what the client sends cannot be
  // framed).
  void Refuse(int status, absl::string_view message) {
    HttpResponse r;
    r.status = status;
    r.body = ErrorBody(message);
    r.headers.emplace_back("Content-Type", "application/json");
    r.route = "malformed";
    r.close = true;
    method_ = "-";
    target_ = "-";
    head_only_ = false;
    start_ = absl::Now();
    Begin(r, nullptr);
    Pump();
  }

  // On a worker thread.
  void Handle(const HttpRequest& request) {
    Responder responder;
    {
      trace::Scope scope(span_ ? &span_->context() : nullptr);
      server_->handler_(request, responder);
    }
    if (!responder.head) {
      responder.head.emplace();
      responder.head->status = 500;
      responder.head->body = ErrorBody("the handler sent no response");
    }
    Begin(*responder.head, std::move(responder.body));
    Pump();
  }

  // Records what a handler answers; the connection writes it afterwards.
  struct Responder : HttpResponder {
    void Send(HttpResponse r) override {
      if (!head) head = std::move(r);
    }
    void SendStream(HttpResponse h, std::unique_ptr<HttpBody> b) override {
      if (head) return;
      h.body.clear();
      head = std::move(h);
      body = std::move(b);
    }
    std::optional<HttpResponse> head;
    std::unique_ptr<HttpBody> body;
  };

  // Counts the response (before its first byte goes out, so a client that
  // has its answer also finds it in /metrics) and queues its head, and its
  // body unless it is streamed.
  void Begin(const HttpResponse& r, std::unique_ptr<HttpBody> body) {
    {
      absl::MutexLock lock(&server_->mu_);
      server_->in_flight_++;
    }
    metrics_->in_flight.Increment();
    route_ = r.route.empty() ? "unmatched" : r.route;
    identity_ = r.identity;
    status_ = r.status;
    bytes_out_ = 0;
    metrics_->requests.Add({{"route", route_}, {"code", std::to_string(r.status)}}).Increment();
    if (r.close || !keep_alive_) close_ = true;
    failed_ = false;
    remaining_ = 0;
    body_.reset();
    if (body == nullptr) {
      out_ = SerializeHead(r, true, close_);
      if (!head_only_) out_ += r.body;
    } else {
      for (const auto& [k, v] : r.headers) {
        if (absl::EqualsIgnoreCase(k, "content-length")) (void)absl::SimpleAtoi(v, &remaining_);
      }
      out_ = SerializeHead(r, false, close_);
      if (!head_only_ && remaining_ > 0) body_ = std::move(body);
    }
    sent_ = 0;
  }

  // Writes what it can without waiting, pulling the body's next piece when
  // the last is out; waits for the socket on the I/O threads when it is
  // full. Ends the response once everything is out or it cannot be.
  void Pump() {
    const int fd = Socket().native_handle();
    for (;;) {
      if constexpr (kTls) {
        if (sent_ < out_.size()) return WriteTls();
      }
      while (sent_ < out_.size()) {
        const ssize_t n = send(fd, out_.data() + sent_, out_.size() - sent_,
                               MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
          sent_ += static_cast<size_t>(n);
          bytes_out_ += n;
          metrics_->bytes_sent.Increment(static_cast<double>(n));
          continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !server_->stopping_) {
          return WaitWritable();
        }
        failed_ = true;  // the client is gone, or the server is stopping
        return Finish();
      }
      if (body_ == nullptr || server_->stopping_) break;
      if (remaining_ == 0) {
        body_.reset();
        break;
      }
      absl::Status s;
      {
        trace::Scope scope(span_ ? &span_->context() : nullptr);
        s = body_->Next(&out_);
      }
      sent_ = 0;
      if (!s.ok() || out_.empty()) {
        // Cut short: the client sees fewer bytes than Content-Length.
        if (!s.ok()) ARCA_LOG(WARNING) << route_ << ": response cut short: " << s.message();
        failed_ = true;
        out_.clear();
        return Finish();
      }
      if (static_cast<int64_t>(out_.size()) > remaining_) out_.resize(remaining_);
      remaining_ -= static_cast<int64_t>(out_.size());
    }
    if (body_ != nullptr) failed_ = true;  // stopping mid-body
    Finish();
  }

  // With TLS: writes what is pending through the TLS engine on the I/O
  // threads; once it is out, a worker pumps on (the body's next piece).
  void WriteTls() {
    Lowest().expires_after(absl::ToChronoMilliseconds(server_->options_.write_timeout));
    net::async_write(stream_, net::buffer(out_.data() + sent_, out_.size() - sent_),
                     [self = shared_from_this()](beast::error_code ec, size_t n) {
                       self->metrics_->bytes_sent.Increment(static_cast<double>(n));
                       self->bytes_out_ += static_cast<int64_t>(n);
                       if (ec || self->server_->stopping_) {
                         self->failed_ = true;
                         return self->Finish();
                       }
                       self->sent_ = self->out_.size();
                       net::post(self->server_->workers_, [self] { self->Pump(); });
                     });
  }

  // Waits, without a thread, until the socket takes bytes again (then a
  // worker pumps on) or the write timeout passes (then the client is
  // dropped).
  void WaitWritable() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      self->write_timer_.expires_after(
          absl::ToChronoMilliseconds(self->server_->options_.write_timeout));
      self->write_timer_.async_wait([self](beast::error_code ec) {
        if (!ec) self->Socket().cancel();  // timed out
      });
      self->Socket().async_wait(
          tcp::socket::wait_write, [self](beast::error_code ec) {
            self->write_timer_.cancel();
            if (ec) {
              self->failed_ = true;
              self->Finish();
              return;
            }
            net::post(self->server_->workers_, [self] { self->Pump(); });
          });
    });
  }

  // The response is over (sent, or given up): counted, then the next
  // request is read or the connection closed.
  void Finish() {
    body_.reset();
    out_.clear();
    const absl::Duration took = absl::Now() - start_;
    metrics_->seconds.Add({{"route", route_}}, LatencyBuckets()).Observe(absl::ToDoubleSeconds(took));
    // The access line: a server error, or a response cut short, always.
    const bool bad = status_ >= 500 || failed_;
    {
      trace::Scope scope(span_ ? &span_->context() : nullptr);
      if (AccessLogged(bad)) {
        LogFields fields = {{"method", method_},   {"target", target_},
                            {"route", route_},     {"status", std::to_string(status_)},
                            {"ms", absl::StrCat(absl::ToInt64Milliseconds(took))},
                            {"bytes", std::to_string(bytes_out_)}, {"peer", peer_}};
        if (!identity_.empty()) fields.emplace_back("identity", identity_);
        if (failed_) fields.emplace_back("outcome", "cut short");
        LogAccessLine(bad ? LogSeverity::WARNING : LogSeverity::INFO, "http", fields);
      }
    }
    if (span_) {  // OpenTelemetry's HTTP server conventions
      const size_t path = route_.find(" /");  // "GET /api/v1/job/{id}": the template
      const std::string pattern = path == std::string::npos ? route_ : route_.substr(path + 1);
      span_->SetName(absl::StrCat(method_, " ", pattern));
      span_->Set("http.request.method", method_);
      span_->Set("url.path", target_.substr(0, target_.find('?')));
      span_->Set("http.route", pattern);
      span_->Set("http.response.status_code", int64_t{status_});
      span_->Set("client.address", peer_.substr(0, peer_.rfind(':')));
      if (bad) span_->SetError(failed_ ? "response cut short" : absl::StrCat("HTTP ", status_));
      span_.reset();
    }
    metrics_->in_flight.Decrement();
    {
      absl::MutexLock lock(&server_->mu_);
      server_->in_flight_--;
    }
    if (keep_alive_ && !failed_ && !close_ && !server_->stopping_) {
      net::post(stream_.get_executor(), [self = shared_from_this()] { self->ReadNext(); });
    } else {
      net::post(stream_.get_executor(), [self = shared_from_this()] { self->Close(); });
    }
  }

  void Close() {
    beast::error_code ec;
    Socket().shutdown(tcp::socket::shutdown_both, ec);
    Lowest().close();
  }

  static Stream MakeStream(tcp::socket socket, net::ssl::context* tls) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *tls);
    } else {
      return Stream(std::move(socket));
    }
  }
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }
  tcp::socket& Socket() { return Lowest().socket(); }

  // The common name of the client's certificate (mTLS), or "".
  static std::string CommonName(SSL* ssl) {
    X509* cert = SSL_get1_peer_certificate(ssl);
    if (cert == nullptr) return "";
    char name[256] = {};
    const int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name,
                                            sizeof name);
    X509_free(cert);
    return n > 0 ? std::string(name, static_cast<size_t>(n)) : "";
  }

  Impl* server_;
  HttpMetrics* metrics_;  // outlives connections closed by ~io_context
  std::shared_ptr<net::ssl::context> tls_;  // outlives stream_
  Stream stream_;
  net::steady_timer write_timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string peer_;
  std::string client_certificate_;
  // Per request, touched by one thread at a time (the strand, then a
  // worker, then the strand again).
  bool keep_alive_ = true, head_only_ = false, close_ = false, failed_ = false;
  absl::Time start_;
  std::string route_;
  // For the access line.
  std::string method_, target_, identity_;
  std::optional<trace::Span> span_;
  int status_ = 0;
  int64_t bytes_out_ = 0;
  std::string out_;       // bytes to write
  size_t sent_ = 0;       // of out_
  std::unique_ptr<HttpBody> body_;
  int64_t remaining_ = 0;  // body bytes still to pull
};

}  // namespace arca::http

#endif  // ARCA_COMMON_HTTP_SERVER_IMPL_H_
