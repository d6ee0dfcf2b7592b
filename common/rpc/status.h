#ifndef ARCA_COMMON_RPC_STATUS_H_
#define ARCA_COMMON_RPC_STATUS_H_

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/support/status.h"

namespace arca::rpc {

// absl::Status and grpc::Status share their code numbers; these convert at
// the RPC edge, keeping the message.
grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

// For RPC adapters: moves the value into *out, or converts the error.
template <typename T>
grpc::Status ToGrpcReply(absl::StatusOr<T> result, T* out) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *out = *std::move(result);
  return grpc::Status::OK;
}

// "NOT_FOUND", "OK", ... for metrics labels and CLI messages.
std::string StatusCodeName(int code);

}  // namespace arca::rpc

#endif  // ARCA_COMMON_RPC_STATUS_H_
