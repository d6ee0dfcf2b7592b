#include "common/clients/grpc_call.h"
#include "common/clients/retention.h"
#include "proto/retention/v1/retention.grpc.pb.h"

namespace arca::clients {
namespace {

namespace v1 = ::arca::retention::v1;
using internal::Retry;
using internal::Unary;

class GrpcRetentionClient final : public RetentionClient {
 public:
  GrpcRetentionClient(std::shared_ptr<grpc::Channel> channel, ClientOptions options)
      : stub_(v1::RetentionGc::NewStub(std::move(channel))), options_(std::move(options)) {
    if (options_.name.empty()) options_.name = "retention-gc";
  }

  absl::StatusOr<v1::RunCleanupResponse> RunCleanup(const v1::RunCleanupRequest& r,
                                                    const CallOptions& call) override {
    return Unary(*stub_, &Stub::RunCleanup, r, options_, call, Retry::kNever);
  }
  absl::StatusOr<v1::PreviewCleanupResponse> PreviewCleanup(const v1::PreviewCleanupRequest& r,
                                                            const CallOptions& call) override {
    return Unary(*stub_, &Stub::PreviewCleanup, r, options_, call, Retry::kIdempotent);
  }
  absl::StatusOr<v1::GcStatusResponse> GcStatus(const v1::GcStatusRequest& r,
                                                const CallOptions& call) override {
    return Unary(*stub_, &Stub::GcStatus, r, options_, call, Retry::kIdempotent);
  }

 private:
  using Stub = v1::RetentionGc::StubInterface;
  std::unique_ptr<Stub> stub_;
  ClientOptions options_;
};

}  // namespace

std::unique_ptr<RetentionClient> NewRetentionClient(std::shared_ptr<grpc::Channel> channel,
                                                    ClientOptions options) {
  return std::make_unique<GrpcRetentionClient>(std::move(channel), std::move(options));
}

}  // namespace arca::clients
