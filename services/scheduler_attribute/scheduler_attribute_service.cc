#include "services/scheduler_attribute/scheduler_attribute_service.h"

#include "common/grpc_status.h"

namespace arca::scheduling {

grpc::Status SchedulerAttributeServiceImpl::Resolve(grpc::ServerContext*,
                                                    const v1::JobDefinition* request,
                                                    v1::SchedulingConstraints* response) {
  return ToGrpcReply(core_->Resolve(*request), response);
}

grpc::Status SchedulerAttributeServiceImpl::BatchResolve(grpc::ServerContext*,
                                                         const v1::BatchResolveRequest* request,
                                                         v1::BatchResolveResponse* response) {
  return ToGrpcReply(core_->BatchResolve(*request), response);
}

grpc::Status SchedulerAttributeServiceImpl::ListArtifactsToCache(
    grpc::ServerContext*, const v1::ListArtifactsToCacheRequest* request,
    v1::ListArtifactsToCacheResponse* response) {
  return ToGrpcReply(core_->ListArtifactsToCache(*request), response);
}

}  // namespace arca::scheduling
