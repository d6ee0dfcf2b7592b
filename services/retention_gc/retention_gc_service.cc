#include "services/retention_gc/retention_gc_service.h"

#include "common/grpc_status.h"

namespace arca::retention {

grpc::Status RetentionGcServiceImpl::RunCleanup(grpc::ServerContext*, const v1::RunCleanupRequest*,
                                                v1::RunCleanupResponse* response) {
  return ToGrpcReply(core_->RunCleanup(), response);
}

grpc::Status RetentionGcServiceImpl::PreviewCleanup(grpc::ServerContext*,
                                                    const v1::PreviewCleanupRequest* request,
                                                    v1::PreviewCleanupResponse* response) {
  return ToGrpcReply(core_->PreviewCleanup(*request), response);
}

grpc::Status RetentionGcServiceImpl::GcStatus(grpc::ServerContext*,
                                              const v1::GcStatusRequest* request,
                                              v1::GcStatusResponse* response) {
  return ToGrpcReply(core_->GcStatus(*request), response);
}

}  // namespace arca::retention
