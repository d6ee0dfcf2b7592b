#ifndef ARCA_SERVICES_SCHEDULING_SCHEDULER_ATTRIBUTE_SERVICE_H_
#define ARCA_SERVICES_SCHEDULING_SCHEDULER_ATTRIBUTE_SERVICE_H_

#include <memory>

#include "common/auth/authorizer.h"
#include "proto/scheduling/v1/scheduling.grpc.pb.h"
#include "services/scheduling/scheduler_attribute.h"

namespace arca::scheduling {

// The gRPC face of SchedulerAttribute: authorizes each call (common/auth's
// table; answers are about shared job artifacts).
class SchedulerAttributeServiceImpl final : public v1::SchedulerAttribute::Service {
 public:
  // authorizer null: nothing is checked.
  explicit SchedulerAttributeServiceImpl(
      SchedulerAttribute* core, std::shared_ptr<const auth::Authorizer> authorizer = nullptr);
  grpc::Status Resolve(grpc::ServerContext*, const v1::JobDefinition*,
                       v1::SchedulingConstraints*) override;
  grpc::Status BatchResolve(grpc::ServerContext*, const v1::BatchResolveRequest*,
                            v1::BatchResolveResponse*) override;
  grpc::Status ListArtifactsToCache(grpc::ServerContext*, const v1::ListArtifactsToCacheRequest*,
                                    v1::ListArtifactsToCacheResponse*) override;

 private:
  absl::Status Authorize(grpc::ServerContext* context, const char* method);

  SchedulerAttribute* core_;
  std::shared_ptr<const auth::Authorizer> authorizer_;
};

}  // namespace arca::scheduling

#endif  // ARCA_SERVICES_SCHEDULING_SCHEDULER_ATTRIBUTE_SERVICE_H_
