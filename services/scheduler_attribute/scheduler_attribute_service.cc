#include "services/scheduler_attribute/scheduler_attribute_service.h"

#include <utility>

#include "common/grpc_status.h"

namespace arca::scheduling {
namespace {

template <typename T>
grpc::Status Reply(absl::StatusOr<T> result, T* out) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *out = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status SchedulerAttributeServiceImpl::Resolve(grpc::ServerContext*,
                                                    const v1::JobDefinition* request,
                                                    v1::SchedulingConstraints* response) {
  return Reply(core_->Resolve(*request), response);
}

grpc::Status SchedulerAttributeServiceImpl::BatchResolve(grpc::ServerContext*,
                                                         const v1::BatchResolveRequest* request,
                                                         v1::BatchResolveResponse* response) {
  return Reply(core_->BatchResolve(*request), response);
}

grpc::Status SchedulerAttributeServiceImpl::ListArtifactsToCache(
    grpc::ServerContext*, const v1::ListArtifactsToCacheRequest* request,
    v1::ListArtifactsToCacheResponse* response) {
  return Reply(core_->ListArtifactsToCache(*request), response);
}

}  // namespace arca::scheduling
