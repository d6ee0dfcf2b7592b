#include <fstream>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/auth/flags.h"

ABSL_FLAG(std::string, token_file, "",
          "a file holding the token this program presents to Arca's services");
ABSL_FLAG(std::string, tls_ca, "",
          "CA certificates (PEM) the services' certificates come from; set: TLS to them");
ABSL_FLAG(std::string, tls_client_cert, "", "this program's client certificate (PEM), for mTLS");
ABSL_FLAG(std::string, tls_client_key, "", "its private key (PEM)");

namespace arca::auth {

absl::StatusOr<ClientSecurity> ClientSecurityFromFlags() {
  ClientSecurity security;
  security.ca = absl::GetFlag(FLAGS_tls_ca);
  security.cert = absl::GetFlag(FLAGS_tls_client_cert);
  security.key = absl::GetFlag(FLAGS_tls_client_key);
  if (const std::string path = absl::GetFlag(FLAGS_token_file); !path.empty()) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read --token_file ", path));
    security.token = std::string(absl::StripAsciiWhitespace(text.str()));
    if (security.token.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--token_file ", path, " is empty"));
    }
  }
  return security;
}

}  // namespace arca::auth
