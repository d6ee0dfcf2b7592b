#include "common/http/server.h"

#include "common/http/server_impl.h"

namespace arca::http {

absl::string_view HttpRequest::Header(absl::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return {};
}

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* b = new prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return *b;
}

std::string ReasonPhrase(int status) {
  auto reason = http::obsolete_reason(static_cast<http::status>(status));
  return reason.empty() ? "Unknown" : std::string(reason);
}

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
  std::string out = "{\"error\":\"";
  for (char c : message) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(&out, "\\u00", absl::BytesToHexString(absl::string_view(&c, 1)));
    } else {
      out += c;
    }
  }
  return out + "\"}\n";
}

int64_t Stamp(const HttpServerOptions& o) {
  int64_t stamp = 0;
  for (const std::string* path : {&o.tls_cert, &o.tls_key, &o.tls_client_ca}) {
    if (path->empty()) continue;
    struct stat st;
    if (stat(path->c_str(), &st) != 0) return 0;
    stamp = std::max<int64_t>(stamp, int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec);
  }
  return stamp;
}

absl::Status HttpServer::Impl::Listen() {
  if (!options_.tls_cert.empty()) {
    if (options_.tls_key.empty()) return absl::InvalidArgumentError("--tls_cert needs --tls_key");
    auto made = MakeTlsContext();
    if (!made.ok()) return made.status();
    absl::MutexLock lock(&tls_mu_);
    tls_ = *std::move(made);
    tls_stamp_ = Stamp(options_);
    tls_checked_ = absl::Now();
  }
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
      if (auto tls = TlsContext()) {
        using TlsStream = beast::ssl_stream<beast::tcp_stream>;
        std::make_shared<Connection<TlsStream>>(this, std::move(socket), std::move(tls))->Start();
      } else {
        std::make_shared<Connection<beast::tcp_stream>>(this, std::move(socket), nullptr)->Start();
      }
    }
    Accept();
  });
}

absl::StatusOr<std::shared_ptr<net::ssl::context>> HttpServer::Impl::MakeTlsContext() const {
  auto ctx = std::make_shared<net::ssl::context>(net::ssl::context::tls_server);
  beast::error_code ec;
  ctx->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                       net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                       net::ssl::context::no_tlsv1_1,
                   ec);
  if (!ec) ctx->use_certificate_chain_file(options_.tls_cert, ec);
  if (!ec) ctx->use_private_key_file(options_.tls_key, net::ssl::context::pem, ec);
  if (!ec && !options_.tls_client_ca.empty()) {
    ctx->load_verify_file(options_.tls_client_ca, ec);
    if (!ec) {
      ctx->set_verify_mode(net::ssl::verify_peer | net::ssl::verify_fail_if_no_peer_cert, ec);
    }
  }
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat("TLS files (", options_.tls_cert, ", ",
                                                   options_.tls_key, "): ", ec.message()));
  }
  return ctx;
}

std::shared_ptr<net::ssl::context> HttpServer::Impl::TlsContext() {
  if (options_.tls_cert.empty()) return nullptr;
  absl::MutexLock lock(&tls_mu_);
  const absl::Time now = absl::Now();
  if (tls_ != nullptr && now - tls_checked_ < absl::Seconds(5)) return tls_;
  tls_checked_ = now;
  const int64_t stamp = Stamp(options_);
  if (tls_ != nullptr && (stamp == tls_stamp_ || stamp == 0)) return tls_;
  auto made = MakeTlsContext();
  if (made.ok()) {
    if (tls_ != nullptr) ARCA_LOG(INFO) << "TLS certificate reloaded from " << options_.tls_cert;
    tls_ = *std::move(made);
    tls_stamp_ = stamp;
  } else {
    ARCA_LOG(ERROR) << made.status().message() << "; keeping the certificate in use";
  }
  return tls_;
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
  // Responses still going are cut off where they stand.
  stopping_ = true;
  ioc_.stop();
  for (auto& t : io_threads_) t.join();
  workers_.join();
  // Those never reach Finish(): they leave the in-flight gauge here.
  absl::MutexLock lock(&mu_);
  metrics_->in_flight.Decrement(in_flight_);
  in_flight_ = 0;
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

}  // namespace arca::http
