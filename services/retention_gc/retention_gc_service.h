#ifndef ARCA_SERVICES_RETENTION_GC_RETENTION_GC_SERVICE_H_
#define ARCA_SERVICES_RETENTION_GC_RETENTION_GC_SERVICE_H_

#include "proto/retention/v1/retention.grpc.pb.h"
#include "services/retention_gc/retention_gc.h"

namespace arca::retention {

// The gRPC face of RetentionGc.
class RetentionGcServiceImpl final : public v1::RetentionGc::Service {
 public:
  explicit RetentionGcServiceImpl(RetentionGc* core) : core_(core) {}
  grpc::Status RunCleanup(grpc::ServerContext*, const v1::RunCleanupRequest*,
                          v1::RunCleanupResponse*) override;
  grpc::Status PreviewCleanup(grpc::ServerContext*, const v1::PreviewCleanupRequest*,
                              v1::PreviewCleanupResponse*) override;
  grpc::Status GcStatus(grpc::ServerContext*, const v1::GcStatusRequest*,
                        v1::GcStatusResponse*) override;

 private:
  RetentionGc* core_;
};

}  // namespace arca::retention

#endif  // ARCA_SERVICES_RETENTION_GC_RETENTION_GC_SERVICE_H_
