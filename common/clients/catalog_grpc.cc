#include "common/clients/catalog.h"
#include "common/clients/grpc_call.h"
#include "proto/catalog/v1/catalog.grpc.pb.h"

namespace arca::clients {
namespace {

namespace cat = ::arca::catalog::v1;
using internal::Retry;

class GrpcCatalogClient final : public CatalogClient {
 public:
  GrpcCatalogClient(std::shared_ptr<grpc::Channel> channel, ClientOptions options)
      : stub_(cat::Catalog::NewStub(std::move(channel))), options_(std::move(options)) {
    if (options_.name.empty()) options_.name = "catalog";
  }

#define ARCA_CATALOG_OVERRIDE(method, request, response, retry)                              \
  absl::StatusOr<cat::response> method(const cat::request& r, const CallOptions& call)        \
      override {                                                                             \
    return internal::Unary<cat::Catalog::StubInterface, cat::request, cat::response>(        \
        *stub_, &cat::Catalog::StubInterface::method, r, options_, call, Retry::retry);      \
  }
  ARCA_CATALOG_CALLS(ARCA_CATALOG_OVERRIDE)
#undef ARCA_CATALOG_OVERRIDE

 private:
  std::unique_ptr<cat::Catalog::StubInterface> stub_;
  ClientOptions options_;
};

}  // namespace

std::unique_ptr<CatalogClient> NewCatalogClient(std::shared_ptr<grpc::Channel> channel,
                                                ClientOptions options) {
  return std::make_unique<GrpcCatalogClient>(std::move(channel), std::move(options));
}

}  // namespace arca::clients
