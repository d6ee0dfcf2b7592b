#ifndef ARCA_COMMON_CLIENTS_GRPC_CALL_H_
#define ARCA_COMMON_CLIENTS_GRPC_CALL_H_

// For the clients' gRPC implementations only (it includes gRPC).

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "common/clients/call.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"

namespace arca::clients::internal {

enum class Retry { kNever, kIdempotent };

// The call's deadline: now plus its timeout, or the client's.
absl::Time Deadline(const ClientOptions& options, const CallOptions& call);

// A context with that deadline, acting for call.act_for when given.
std::unique_ptr<grpc::ClientContext> NewContext(absl::Time deadline, const CallOptions& call);

// A failed call's status in the wording of ClientOptions::name.
absl::Status Worded(const grpc::Status& status, const ClientOptions& options);

// Waits before another try when `retry` allows one after `status` and the
// deadline leaves room; false when the call is done.
bool Again(Retry retry, const grpc::Status& status, int attempt, const ClientOptions& options,
           absl::Time deadline, absl::Duration* backoff);

// One unary call, tried again while Again says so.
template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> Unary(Stub& stub,
                               grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                                            Response*),
                               const Request& request, const ClientOptions& options,
                               const CallOptions& call, Retry retry) {
  const absl::Time deadline = Deadline(options, call);
  absl::Duration backoff = absl::Milliseconds(50);
  for (int attempt = 1;; ++attempt) {
    Response response;
    const grpc::Status s = (stub.*method)(NewContext(deadline, call).get(), request, &response);
    if (s.ok()) return response;
    if (!Again(retry, s, attempt, options, deadline, &backoff)) return Worded(s, options);
  }
}

}  // namespace arca::clients::internal

#endif  // ARCA_COMMON_CLIENTS_GRPC_CALL_H_
