#include "common/clients/grpc_call.h"

#include "absl/strings/str_cat.h"
#include "common/auth/security.h"
#include "common/logging.h"
#include "common/rpc/status.h"

namespace arca::clients::internal {

absl::Time Deadline(const ClientOptions& options, const CallOptions& call) {
  return absl::Now() + (call.timeout == absl::ZeroDuration() ? options.timeout : call.timeout);
}

std::unique_ptr<grpc::ClientContext> NewContext(absl::Time deadline, const CallOptions& call) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(deadline));
  if (!call.act_for.empty()) auth::ActFor(*context, call.act_for);
  return context;
}

absl::Status Worded(const grpc::Status& status, const ClientOptions& options) {
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      if (options.public_errors) {
        ARCA_LOG(WARNING) << options.name << " is unavailable: " << status.error_message();
        return absl::UnavailableError(absl::StrCat(options.name, " is unavailable; try again in a moment"));
      }
      return absl::UnavailableError(absl::StrCat(options.name, " is unavailable: ", status.error_message()));
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::DeadlineExceededError(absl::StrCat(options.name, " did not answer in time"));
    default:
      return rpc::FromGrpcStatus(status);
  }
}

bool Again(Retry retry, const grpc::Status& status, int attempt, const ClientOptions& options,
           absl::Time deadline, absl::Duration* backoff) {
  if (retry != Retry::kIdempotent || status.error_code() != grpc::StatusCode::UNAVAILABLE ||
      attempt >= options.attempts || absl::Now() + *backoff >= deadline) {
    return false;
  }
  absl::SleepFor(*backoff);
  *backoff *= 2;
  return true;
}

}  // namespace arca::clients::internal
