#ifndef ARCA_COMMON_CLIENTS_RETENTION_H_
#define ARCA_COMMON_CLIENTS_RETENTION_H_

#include <memory>

#include "absl/status/statusor.h"
#include "common/clients/call.h"
#include "proto/retention/v1/retention.pb.h"

namespace grpc {
class Channel;
}

namespace arca::clients {

// retention-gc as its peers call it (proto/retention/v1/retention.proto).
class RetentionClient {
 public:
  virtual ~RetentionClient() = default;
  // A sweep may take minutes: give it a CallOptions::timeout to match.
  virtual absl::StatusOr<retention::v1::RunCleanupResponse> RunCleanup(
      const retention::v1::RunCleanupRequest& r, const CallOptions& call = {}) = 0;
  virtual absl::StatusOr<retention::v1::PreviewCleanupResponse> PreviewCleanup(
      const retention::v1::PreviewCleanupRequest& r, const CallOptions& call = {}) = 0;
  virtual absl::StatusOr<retention::v1::GcStatusResponse> GcStatus(
      const retention::v1::GcStatusRequest& r, const CallOptions& call = {}) = 0;
};

// options.name defaults to "retention-gc".
std::unique_ptr<RetentionClient> NewRetentionClient(std::shared_ptr<grpc::Channel> channel,
                                                    ClientOptions options = {});

}  // namespace arca::clients

#endif  // ARCA_COMMON_CLIENTS_RETENTION_H_
