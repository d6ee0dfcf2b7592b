#ifndef ARCA_COMMON_AUTH_AUTHORIZER_H_
#define ARCA_COMMON_AUTH_AUTHORIZER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/identity.h"

namespace grpc {
class ServerContextBase;
namespace experimental {
class ServerInterceptorFactoryInterface;
}
}  // namespace grpc

namespace arca::auth {

class TokenFile;

// Where the data an RPC touches belongs, which says how the service
// enforces it beyond the role.
enum class Scope {
  kGlobal,   // shared objects (job artifacts, scheduling answers)
  kJob,      // a job the request names: another group's is NOT_FOUND, and
             // so is a file above the caller's privacy level
  kGroup,    // a group the request names (creating a job there)
  kResults,  // a listing, filtered to the caller's groups and level
  kInternal, // the work between Arca's services (GC queue, blob records,
             // committing uploads): the service role
};

// The authorization table: one rule for every RPC of every Arca service.
struct Rule {
  absl::string_view method;  // full name, "/arca.catalog.v1.Catalog/GetJob"
  Role role;
  Scope scope;
};
const std::vector<Rule>& Rules();
// The rule of a full method name, or null (a method without one is refused).
const Rule* FindRule(absl::string_view full_method);

// Metadata a service sets to act for a user: the user's name in the tokens
// file. Only a caller with the service role may set it.
inline constexpr char kActForHeader[] = "x-arca-act-for";

// Who each call acts as, and whether its method allows it.
class Authorizer {
 public:
  // tokens null: nothing is checked, every call acts as
  // Identity::Everyone() (the loopback default).
  explicit Authorizer(std::shared_ptr<TokenFile> tokens);
  ~Authorizer();

  // The identity of a call to `full_method`: the bearer token's
  // (`authorization` metadata), else the client certificate's; for a caller
  // with the service role that names a user in x-arca-act-for, that user's.
  // UNAUTHENTICATED without credentials, for an unknown token or name;
  // PERMISSION_DENIED when the identity lacks the role the method needs, or
  // the method has no rule. Denials are logged (the audit log).
  absl::StatusOr<Identity> Authorize(const grpc::ServerContextBase& context,
                                     absl::string_view full_method) const;

  // Logs every call to a method that writes (its rule needs more than
  // reader): who, which method, which object, and how it ended. For
  // rpc::Server::Start.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> AuditInterceptor() const;

  bool enabled() const { return tokens_ != nullptr; }

  // Authorize without the rule: who the call acts as. Errors as there,
  // not logged.
  absl::StatusOr<Identity> Identify(const grpc::ServerContextBase& context) const;
  // The caller's own identity, before acting for anyone.
  absl::StatusOr<Identity> Caller(const grpc::ServerContextBase& context) const;

 private:

  std::shared_ptr<TokenFile> tokens_;
};

// "/pkg.Service/Method" -> "Method".
absl::string_view MethodName(absl::string_view full_method);

}  // namespace arca::auth

#endif  // ARCA_COMMON_AUTH_AUTHORIZER_H_
