#ifndef ARCA_COMMON_RPC_SERVICE_MAIN_H_
#define ARCA_COMMON_RPC_SERVICE_MAIN_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/auth/authorizer.h"
#include "common/auth/security.h"
#include "common/clients/catalog.h"
#include "common/rpc/server.h"

namespace grpc {
class Channel;
}
namespace arca::blob {
class BlobStore;
}

namespace arca::rpc {

// What every service's main sets up the same way, from the security flags
// (common/auth/flags.h): who may call it, and how it calls its peers.
struct ServiceSecurity {
  std::shared_ptr<auth::Authorizer> authorizer;  // for the service's adapter
  auth::ClientSecurity peers;                    // for channels to other services
  // The catalog's client, when its address was given.
  std::unique_ptr<clients::CatalogClient> catalog;
};

// Reads the security flags into `options` (TLS, --insecure, the
// authorizer) and, given the catalog's address, makes its client over a
// PeerChannel (with `catalog_client`'s timeout and retries). Errors name
// the flag that is wrong.
absl::StatusOr<ServiceSecurity> SetUpSecurity(ServerOptions* options,
                                              const std::string& catalog = "",
                                              clients::ClientOptions catalog_client = {});

// A ServerOptions::readiness for a service that needs its catalog to answer
// (a call within two seconds) and, if given, a blob store it can write to;
// the first failure in the clients' or the store's words.
std::function<absl::Status()> CatalogReadiness(clients::CatalogClient* catalog,
                                               blob::BlobStore* blobs = nullptr);

// A channel to a peer service that finds it again within a second after it
// restarts, carrying this service's token and TLS settings.
// INVALID_ARGUMENT for a TLS file that cannot be read.
absl::StatusOr<std::shared_ptr<grpc::Channel>> PeerChannel(const std::string& address,
                                                           const auth::ClientSecurity& security);

}  // namespace arca::rpc

#endif  // ARCA_COMMON_RPC_SERVICE_MAIN_H_
