#include "common/rpc/service_main.h"

#include "common/auth/flags.h"
#include "common/blob/store.h"
#include "grpcpp/grpcpp.h"

namespace arca::rpc {

absl::StatusOr<ServiceSecurity> SetUpSecurity(ServerOptions* options, const std::string& catalog,
                                              clients::ClientOptions catalog_client) {
  auto server = auth::ServerSecurityFromFlags();
  if (!server.ok()) return server.status();
  auto peers = auth::ClientSecurityFromFlags();
  if (!peers.ok()) return peers.status();
  ServiceSecurity security;
  security.authorizer = std::make_shared<auth::Authorizer>(server->tokens);
  security.peers = *std::move(peers);
  options->tls = server->tls;
  options->insecure = server->insecure;
  options->authorizer = security.authorizer;
  if (!catalog.empty()) {
    auto channel = PeerChannel(catalog, security.peers);
    if (!channel.ok()) return channel.status();
    security.catalog = clients::NewCatalogClient(*std::move(channel), std::move(catalog_client));
  }
  return security;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> PeerChannel(const std::string& address,
                                                           const auth::ClientSecurity& security) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetMaxReceiveMessageSize(64 << 20);
  return auth::SecureChannel(address, security, args);
}

std::function<absl::Status()> CatalogReadiness(clients::CatalogClient* catalog,
                                               blob::BlobStore* blobs) {
  return [catalog, blobs] {
    clients::CallOptions call;
    call.timeout = absl::Seconds(2);
    absl::Status s = catalog->WhoAmI(catalog::v1::WhoAmIRequest(), call).status();
    if (s.ok() && blobs != nullptr) s = blobs->CheckWritable();
    return s;
  };
}

}  // namespace arca::rpc
