#include "common/clients/grpc_call.h"
#include "common/clients/scheduling.h"
#include "proto/scheduling/v1/scheduling.grpc.pb.h"

namespace arca::clients {
namespace {

namespace v1 = ::arca::scheduling::v1;
using internal::Retry;
using internal::Unary;

class GrpcSchedulingClient final : public SchedulingClient {
 public:
  GrpcSchedulingClient(std::shared_ptr<grpc::Channel> channel, ClientOptions options)
      : stub_(v1::SchedulerAttribute::NewStub(std::move(channel))), options_(std::move(options)) {
    if (options_.name.empty()) options_.name = "scheduler-attribute";
  }

  absl::StatusOr<v1::SchedulingConstraints> Resolve(const v1::JobDefinition& r,
                                                    const CallOptions& call) override {
    return Unary(*stub_, &Stub::Resolve, r, options_, call, Retry::kIdempotent);
  }
  absl::StatusOr<v1::BatchResolveResponse> BatchResolve(const v1::BatchResolveRequest& r,
                                                        const CallOptions& call) override {
    return Unary(*stub_, &Stub::BatchResolve, r, options_, call, Retry::kIdempotent);
  }
  absl::StatusOr<v1::ListArtifactsToCacheResponse> ListArtifactsToCache(
      const v1::ListArtifactsToCacheRequest& r, const CallOptions& call) override {
    return Unary(*stub_, &Stub::ListArtifactsToCache, r, options_, call, Retry::kIdempotent);
  }

 private:
  using Stub = v1::SchedulerAttribute::StubInterface;
  std::unique_ptr<Stub> stub_;
  ClientOptions options_;
};

}  // namespace

std::unique_ptr<SchedulingClient> NewSchedulingClient(std::shared_ptr<grpc::Channel> channel,
                                                      ClientOptions options) {
  return std::make_unique<GrpcSchedulingClient>(std::move(channel), std::move(options));
}

}  // namespace arca::clients
