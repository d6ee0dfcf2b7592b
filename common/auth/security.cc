#include "common/auth/security.h"

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/auth/authorizer.h"
#include "common/rpc/trace.h"
#include "common/status_macros.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "grpcpp/support/client_interceptor.h"

namespace arca::auth {
namespace {

// How often certificate files are looked at for changes.
constexpr unsigned int kReloadSeconds = 5;

absl::Status Readable(const std::string& path, absl::string_view what) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", what, " ", path));
  return absl::OkStatus();
}

// Sends the token on every call of the channel.
class TokenInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit TokenInterceptor(const std::string* header) : header_(header) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->insert({"authorization", *header_});
    }
    methods->Proceed();
  }

 private:
  const std::string* header_;
};

class TokenFactory : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit TokenFactory(std::string token) : header_(absl::StrCat("Bearer ", token)) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new TokenInterceptor(&header_);
  }

 private:
  const std::string header_;
};

}  // namespace

bool IsLoopback(absl::string_view listen) {
  absl::string_view host = listen.substr(0, listen.rfind(':'));
  return host == "localhost" || host == "[::1]" || host == "::1" || absl::StartsWith(host, "127.");
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(
    const std::string& listen, const ServerTls& tls, bool tokens, bool insecure) {
  if (!tls.enabled()) {
    if (!tls.key.empty() || !tls.client_ca.empty()) {
      return absl::InvalidArgumentError("--tls_key and --tls_client_ca need --tls_cert");
    }
    if (!IsLoopback(listen) && !tokens && !insecure) {
      return absl::FailedPreconditionError(absl::StrCat(
          "refusing to listen on ", listen,
          " with neither TLS (--tls_cert, --tls_key) nor tokens (--tokens_file): anyone who can "
          "reach it could read and change everything. Pass --insecure to do it anyway."));
    }
    return grpc::InsecureServerCredentials();
  }
  if (tls.key.empty()) return absl::InvalidArgumentError("--tls_cert needs --tls_key");
  for (const auto& [path, what] : {std::pair<std::string, const char*>{tls.cert, "--tls_cert"},
                                  {tls.key, "--tls_key"}}) {
    RETURN_IF_ERROR(Readable(path, what));
  }
  if (!tls.client_ca.empty()) RETURN_IF_ERROR(Readable(tls.client_ca, "--tls_client_ca"));
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      tls.key, tls.cert, tls.client_ca, kReloadSeconds);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (!tls.client_ca.empty()) {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> SecureChannel(const std::string& address,
                                                             const ClientSecurity& security,
                                                             const grpc::ChannelArguments& args) {
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!security.ca.empty()) {
    RETURN_IF_ERROR(Readable(security.ca, "--tls_ca"));
    if (security.cert.empty() != security.key.empty()) {
      return absl::InvalidArgumentError("--tls_client_cert and --tls_client_key go together");
    }
    if (!security.cert.empty()) {
      RETURN_IF_ERROR(Readable(security.cert, "--tls_client_cert"));
      RETURN_IF_ERROR(Readable(security.key, "--tls_client_key"));
    }
    auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
        security.key, security.cert, security.ca, kReloadSeconds);
    grpc::experimental::TlsChannelCredentialsOptions options;
    options.set_certificate_provider(provider);
    options.watch_root_certs();
    if (!security.cert.empty()) options.watch_identity_key_cert_pairs();
    credentials = grpc::experimental::TlsCredentials(options);
  } else if (!security.cert.empty() || !security.key.empty()) {
    return absl::InvalidArgumentError("--tls_client_cert and --tls_client_key need --tls_ca");
  }
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> interceptors;
  if (!security.token.empty()) interceptors.push_back(std::make_unique<TokenFactory>(security.token));
  interceptors.push_back(rpc::TraceInterceptorFactory());
  return grpc::experimental::CreateCustomChannelWithInterceptors(address, credentials, args,
                                                                std::move(interceptors));
}

void ActFor(grpc::ClientContext& context, absl::string_view name) {
  context.AddMetadata(kActForHeader, std::string(name));
}

}  // namespace arca::auth
