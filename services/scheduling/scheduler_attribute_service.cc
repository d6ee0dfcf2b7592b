#include "services/scheduling/scheduler_attribute_service.h"

#include "absl/strings/str_cat.h"
#include "common/rpc/status.h"

namespace arca::scheduling {

SchedulerAttributeServiceImpl::SchedulerAttributeServiceImpl(
    SchedulerAttribute* core, std::shared_ptr<const auth::Authorizer> authorizer)
    : core_(core),
      authorizer_(authorizer != nullptr ? std::move(authorizer)
                                        : std::make_shared<auth::Authorizer>(nullptr)) {}

absl::Status SchedulerAttributeServiceImpl::Authorize(grpc::ServerContext* context,
                                                      const char* method) {
  return authorizer_
      ->Authorize(*context,
                  absl::StrCat("/", v1::SchedulerAttribute::service_full_name(), "/", method))
      .status();
}

grpc::Status SchedulerAttributeServiceImpl::Resolve(grpc::ServerContext* context,
                                                    const v1::JobDefinition* request,
                                                    v1::SchedulingConstraints* response) {
  if (absl::Status s = Authorize(context, "Resolve"); !s.ok()) return rpc::ToGrpcStatus(s);
  return rpc::ToGrpcReply(core_->Resolve(*request), response);
}

grpc::Status SchedulerAttributeServiceImpl::BatchResolve(grpc::ServerContext* context,
                                                         const v1::BatchResolveRequest* request,
                                                         v1::BatchResolveResponse* response) {
  if (absl::Status s = Authorize(context, "BatchResolve"); !s.ok()) return rpc::ToGrpcStatus(s);
  return rpc::ToGrpcReply(core_->BatchResolve(*request), response);
}

grpc::Status SchedulerAttributeServiceImpl::ListArtifactsToCache(
    grpc::ServerContext* context, const v1::ListArtifactsToCacheRequest* request,
    v1::ListArtifactsToCacheResponse* response) {
  if (absl::Status s = Authorize(context, "ListArtifactsToCache"); !s.ok()) return rpc::ToGrpcStatus(s);
  return rpc::ToGrpcReply(core_->ListArtifactsToCache(*request), response);
}

}  // namespace arca::scheduling
