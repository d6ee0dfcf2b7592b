#ifndef ARCA_COMMON_AUTH_SECURITY_H_
#define ARCA_COMMON_AUTH_SECURITY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace grpc {
class Channel;
class ChannelArguments;
class ClientContext;
class ServerCredentials;
}  // namespace grpc

namespace arca::auth {

// How a server listens. TLS when cert and key are set (PEM files, read
// again when they change, so a renewed certificate needs no restart);
// client certificates required when client_ca is set (mTLS).
struct ServerTls {
  std::string cert, key, client_ca;
  bool enabled() const { return !cert.empty(); }
};

// Credentials for a server at `listen`. INVALID_ARGUMENT for half a
// configuration (a cert without a key, a client CA without a cert) or a
// file that cannot be read; FAILED_PRECONDITION for an address other than
// loopback with neither TLS nor tokens, unless `insecure`: anyone who
// can reach it could read and change everything.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(
    const std::string& listen, const ServerTls& tls, bool tokens, bool insecure);

// True for 127.x.y.z, ::1 and localhost.
bool IsLoopback(absl::string_view listen);

// How a client reaches Arca's services: TLS when ca is set (the PEM file
// of the CA their certificates come from), with its own certificate when
// cert and key are set; the token, when set, on every call.
struct ClientSecurity {
  std::string token;
  std::string ca, cert, key;
};

// A channel to `address` with `security`. INVALID_ARGUMENT for a file that
// cannot be read or half an mTLS configuration.
absl::StatusOr<std::shared_ptr<grpc::Channel>> SecureChannel(const std::string& address,
                                                             const ClientSecurity& security,
                                                             const grpc::ChannelArguments& args);

// Makes the call act for `name` (a service acting for a user; the server
// checks that the caller may).
void ActFor(grpc::ClientContext& context, absl::string_view name);

}  // namespace arca::auth

#endif  // ARCA_COMMON_AUTH_SECURITY_H_
