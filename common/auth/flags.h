#ifndef ARCA_COMMON_AUTH_FLAGS_H_
#define ARCA_COMMON_AUTH_FLAGS_H_

#include <memory>

#include "absl/status/statusor.h"
#include "common/auth/security.h"
#include "common/auth/tokens.h"

namespace arca::auth {

// A server's side, from --tokens_file, --tls_cert, --tls_key,
// --tls_client_ca and --insecure (server_flags.cc).
struct ServerSecurity {
  std::shared_ptr<TokenFile> tokens;  // null: no authentication
  ServerTls tls;
  bool insecure = false;
};
absl::StatusOr<ServerSecurity> ServerSecurityFromFlags();

// A client's side, from --token_file (a file holding the token itself),
// --tls_ca, --tls_client_cert and --tls_client_key (client_flags.cc).
absl::StatusOr<ClientSecurity> ClientSecurityFromFlags();

}  // namespace arca::auth

#endif  // ARCA_COMMON_AUTH_FLAGS_H_
