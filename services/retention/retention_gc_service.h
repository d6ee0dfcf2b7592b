#ifndef ARCA_SERVICES_RETENTION_RETENTION_GC_SERVICE_H_
#define ARCA_SERVICES_RETENTION_RETENTION_GC_SERVICE_H_

#include <memory>
#include <string>

#include "common/auth/authorizer.h"
#include "proto/retention/v1/retention.grpc.pb.h"
#include "services/retention/retention_gc.h"

namespace arca::retention {

// The gRPC face of RetentionGc: authorizes each call (common/auth's
// table). A sweep needs every group; a preview or status of a job the
// caller cannot see is NOT_FOUND, and files above its privacy level are
// neither listed nor counted.
class RetentionGcServiceImpl final : public v1::RetentionGc::Service {
 public:
  // authorizer null: nothing is checked.
  explicit RetentionGcServiceImpl(RetentionGc* core,
                                  std::shared_ptr<const auth::Authorizer> authorizer = nullptr);
  grpc::Status RunCleanup(grpc::ServerContext*, const v1::RunCleanupRequest*,
                          v1::RunCleanupResponse*) override;
  grpc::Status PreviewCleanup(grpc::ServerContext*, const v1::PreviewCleanupRequest*,
                              v1::PreviewCleanupResponse*) override;
  grpc::Status GcStatus(grpc::ServerContext*, const v1::GcStatusRequest*,
                        v1::GcStatusResponse*) override;

 private:
  absl::StatusOr<auth::Identity> Authorize(grpc::ServerContext* context, const char* method);

  RetentionGc* core_;
  std::shared_ptr<const auth::Authorizer> authorizer_;
};

}  // namespace arca::retention

#endif  // ARCA_SERVICES_RETENTION_RETENTION_GC_SERVICE_H_
