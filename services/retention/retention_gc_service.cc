#include "services/retention/retention_gc_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/rpc/status.h"

namespace arca::retention {
namespace {

// The lower of a requested level (unspecified: none asked for) and the
// caller's.
types::v1::PrivacyLevel Lower(types::v1::PrivacyLevel requested, int caller) {
  if (requested == types::v1::PRIVACY_LEVEL_UNSPECIFIED) {
    return static_cast<types::v1::PrivacyLevel>(caller);
  }
  return static_cast<types::v1::PrivacyLevel>(std::min<int>(requested, caller));
}

}  // namespace

RetentionGcServiceImpl::RetentionGcServiceImpl(RetentionGc* core,
                                               std::shared_ptr<const auth::Authorizer> authorizer)
    : core_(core),
      authorizer_(authorizer != nullptr ? std::move(authorizer)
                                        : std::make_shared<auth::Authorizer>(nullptr)) {}

absl::StatusOr<auth::Identity> RetentionGcServiceImpl::Authorize(grpc::ServerContext* context,
                                                                 const char* method) {
  return authorizer_->Authorize(
      *context, absl::StrCat("/", v1::RetentionGc::service_full_name(), "/", method));
}

grpc::Status RetentionGcServiceImpl::RunCleanup(grpc::ServerContext* context,
                                                const v1::RunCleanupRequest*,
                                                v1::RunCleanupResponse* response) {
  auto who = Authorize(context, "RunCleanup");
  if (!who.ok()) return rpc::ToGrpcStatus(who.status());
  if (!who->all_groups) {
    return rpc::ToGrpcStatus(
        absl::PermissionDeniedError("running a sweep needs an identity for every group (\"*\")"));
  }
  auto swept = core_->RunCleanup();
  if (!swept.ok()) return rpc::ToGrpcStatus(swept.status());
  // Only what the caller may see: files above its level are left out, and
  // their bytes with them.
  *response = *std::move(swept);
  auto* removed = response->mutable_removed();
  removed->erase(std::remove_if(removed->begin(), removed->end(),
                                [&](const v1::RemovedFile& r) {
                                  return !who->SeesPrivacy(r.privacy_level());
                                }),
                 removed->end());
  int64_t bytes = 0;
  for (const auto& r : *removed) bytes += r.size();
  response->set_bytes_removed(bytes);
  return grpc::Status::OK;
}

grpc::Status RetentionGcServiceImpl::PreviewCleanup(grpc::ServerContext* context,
                                                    const v1::PreviewCleanupRequest* request,
                                                    v1::PreviewCleanupResponse* response) {
  auto who = Authorize(context, "PreviewCleanup");
  if (!who.ok()) return rpc::ToGrpcStatus(who.status());
  if (request->job_id().empty() && !who->all_groups) {
    return rpc::ToGrpcStatus(absl::PermissionDeniedError(
        "a preview of every job needs an identity for every group (\"*\"); name a job"));
  }
  v1::PreviewCleanupRequest mine = *request;
  mine.set_max_privacy_level(Lower(request->max_privacy_level(), who->privacy_level));
  return rpc::ToGrpcReply(core_->PreviewCleanup(mine, authorizer_->enabled() ? who->name : ""),
                     response);
}

grpc::Status RetentionGcServiceImpl::GcStatus(grpc::ServerContext* context,
                                              const v1::GcStatusRequest* request,
                                              v1::GcStatusResponse* response) {
  auto who = Authorize(context, "GcStatus");
  if (!who.ok()) return rpc::ToGrpcStatus(who.status());
  v1::GcStatusRequest mine = *request;
  mine.set_max_privacy_level(Lower(request->max_privacy_level(), who->privacy_level));
  return rpc::ToGrpcReply(core_->GcStatus(mine, authorizer_->enabled() ? who->name : ""), response);
}

}  // namespace arca::retention
