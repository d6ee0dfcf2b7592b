#ifndef ARCA_COMMON_CLIENTS_SCHEDULING_H_
#define ARCA_COMMON_CLIENTS_SCHEDULING_H_

#include <memory>

#include "absl/status/statusor.h"
#include "common/clients/call.h"
#include "proto/scheduling/v1/scheduling.pb.h"

namespace grpc {
class Channel;
}

namespace arca::clients {

// scheduler-attribute as its peers call it
// (proto/scheduling/v1/scheduling.proto). Every call is a read.
class SchedulingClient {
 public:
  virtual ~SchedulingClient() = default;
  virtual absl::StatusOr<scheduling::v1::SchedulingConstraints> Resolve(
      const scheduling::v1::JobDefinition& r, const CallOptions& call = {}) = 0;
  virtual absl::StatusOr<scheduling::v1::BatchResolveResponse> BatchResolve(
      const scheduling::v1::BatchResolveRequest& r, const CallOptions& call = {}) = 0;
  virtual absl::StatusOr<scheduling::v1::ListArtifactsToCacheResponse> ListArtifactsToCache(
      const scheduling::v1::ListArtifactsToCacheRequest& r, const CallOptions& call = {}) = 0;
};

// options.name defaults to "scheduler-attribute".
std::unique_ptr<SchedulingClient> NewSchedulingClient(std::shared_ptr<grpc::Channel> channel,
                                                      ClientOptions options = {});

}  // namespace arca::clients

#endif  // ARCA_COMMON_CLIENTS_SCHEDULING_H_
