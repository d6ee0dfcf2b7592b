// REST: GC runs, previews and status (/api/v1/gc, /api/v1/job/{id}/gc) and scheduling (/api/v1/scheduling).

#include "services/gateway/gateway_impl.h"

namespace arca::gateway {

absl::Status Gateway::Impl::GcRun(Request& req) {
  RETURN_IF_ERROR(Need(retention_, "retention-gc"));
  if (!req.caller.all_groups) {
    return absl::PermissionDeniedError("running a sweep needs a token for every group (\"*\")");
  }
  retention::v1::RunCleanupRequest run;
  ASSIGN_OR_RETURN(retention::v1::RunCleanupResponse resp,
                   retention_->RunCleanup(run, Call(&req.caller, absl::Minutes(10))));
  // Only what the caller may see: files above its level are left out,
  // and their bytes with them.
  retention::v1::RunCleanupResponse shown = resp;
  shown.clear_removed();
  shown.set_bytes_removed(0);
  for (const auto& r : resp.removed()) {
    if (!req.caller.SeesPrivacy(r.privacy_level())) continue;
    *shown.add_removed() = r;
    shown.set_bytes_removed(shown.bytes_removed() + r.size());
  }
  req.ReplyRaw(200, ProtoJson(shown));
  return absl::OkStatus();
}

absl::Status Gateway::Impl::GcPreview(Request& req) {
  RETURN_IF_ERROR(Need(retention_, "retention-gc"));
  retention::v1::PreviewCleanupRequest preview;
  preview.set_job_id(req.target.query.GetOr("job_id", ""));
  ASSIGN_OR_RETURN(int limit, IntParam(req.target.query, "limit", 1000, 1, 100000));
  preview.set_limit(limit);
  preview.set_max_privacy_level(static_cast<types::PrivacyLevel>(req.caller.privacy_level));
  if (preview.job_id().empty()) {
    if (!req.caller.all_groups) {
      return absl::PermissionDeniedError(
          "a preview of every job needs a token for every group (\"*\"); pass job_id");
    }
  } else {
    RETURN_IF_ERROR(VisibleJob(req, preview.job_id()).status());
  }
  ASSIGN_OR_RETURN(retention::v1::PreviewCleanupResponse resp,
                   retention_->PreviewCleanup(preview, Call(&req.caller, absl::Minutes(1))));
  req.ReplyRaw(200, ProtoJson(resp));
  return absl::OkStatus();
}

absl::Status Gateway::Impl::GcStatus(Request& req) {
  RETURN_IF_ERROR(Need(retention_, "retention-gc"));
  ASSIGN_OR_RETURN(cat::Job job, VisibleJob(req, req.params["id"]));
  retention::v1::GcStatusRequest status;
  status.set_job_id(job.id());
  status.set_max_privacy_level(static_cast<types::PrivacyLevel>(req.caller.privacy_level));
  ASSIGN_OR_RETURN(retention::v1::GcStatusResponse resp,
                   retention_->GcStatus(status, Call(&req.caller)));
  req.ReplyRaw(200, ProtoJson(resp));
  return absl::OkStatus();
}

absl::Status Gateway::Impl::Resolve(Request& req) {
  RETURN_IF_ERROR(Need(scheduler_, "scheduler-attribute"));
  scheduling::v1::JobDefinition definition;
  auto parsed = google::protobuf::util::JsonStringToMessage(req.http.body, &definition);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("request body is not a JobDefinition: ", parsed.message().as_string()));
  }
  ASSIGN_OR_RETURN(scheduling::v1::SchedulingConstraints resp,
                   scheduler_->Resolve(definition, Call(&req.caller)));
  req.ReplyRaw(200, ProtoJson(resp));
  return absl::OkStatus();
}

}  // namespace arca::gateway
