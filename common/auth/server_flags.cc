#include "absl/flags/flag.h"
#include "common/auth/flags.h"

ABSL_FLAG(std::string, tokens_file, "",
          "who may call: token hashes and certificate names with their groups, privacy level and "
          "roles (docs/security.md); empty: no authentication, which only a loopback address "
          "allows (unless --insecure)");
ABSL_FLAG(std::string, tls_cert, "", "this server's certificate chain (PEM); with --tls_key: TLS");
ABSL_FLAG(std::string, tls_key, "", "this server's private key (PEM)");
ABSL_FLAG(std::string, tls_client_ca, "",
          "CA certificates (PEM) client certificates must come from: requires them (mTLS)");
ABSL_FLAG(bool, insecure, false,
          "listen on an address other than loopback with neither TLS nor tokens");

namespace arca::auth {

absl::StatusOr<ServerSecurity> ServerSecurityFromFlags() {
  ServerSecurity security;
  security.tls = {absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key),
                  absl::GetFlag(FLAGS_tls_client_ca)};
  security.insecure = absl::GetFlag(FLAGS_insecure);
  if (!absl::GetFlag(FLAGS_tokens_file).empty()) {
    auto tokens = TokenFile::Open(absl::GetFlag(FLAGS_tokens_file));
    if (!tokens.ok()) return tokens.status();
    security.tokens = *std::move(tokens);
  }
  return security;
}

}  // namespace arca::auth
