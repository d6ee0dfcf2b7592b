#ifndef ARCA_COMMON_GRPC_STATUS_H_
#define ARCA_COMMON_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace arca {

// absl::Status and grpc::Status share their code numbers; these convert at
// the RPC edge, keeping the message.
grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

// "NOT_FOUND", "OK", ... for metrics labels and CLI messages.
std::string StatusCodeName(int code);

}  // namespace arca

#endif  // ARCA_COMMON_GRPC_STATUS_H_
