#ifndef ARCA_SERVICES_SCHEDULER_ATTRIBUTE_SCHEDULER_ATTRIBUTE_SERVICE_H_
#define ARCA_SERVICES_SCHEDULER_ATTRIBUTE_SCHEDULER_ATTRIBUTE_SERVICE_H_

#include "proto/scheduling/v1/scheduling.grpc.pb.h"
#include "services/scheduler_attribute/scheduler_attribute.h"

namespace arca::scheduling {

// The gRPC face of SchedulerAttribute.
class SchedulerAttributeServiceImpl final : public v1::SchedulerAttribute::Service {
 public:
  explicit SchedulerAttributeServiceImpl(SchedulerAttribute* core) : core_(core) {}
  grpc::Status Resolve(grpc::ServerContext*, const v1::JobDefinition*,
                       v1::SchedulingConstraints*) override;
  grpc::Status BatchResolve(grpc::ServerContext*, const v1::BatchResolveRequest*,
                            v1::BatchResolveResponse*) override;
  grpc::Status ListArtifactsToCache(grpc::ServerContext*, const v1::ListArtifactsToCacheRequest*,
                                    v1::ListArtifactsToCacheResponse*) override;

 private:
  SchedulerAttribute* core_;
};

}  // namespace arca::scheduling

#endif  // ARCA_SERVICES_SCHEDULER_ATTRIBUTE_SCHEDULER_ATTRIBUTE_SERVICE_H_
