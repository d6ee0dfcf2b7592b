#include "common/rpc/status.h"

#include <string>

namespace arca::rpc {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

std::string StatusCodeName(int code) {
  // absl's names are the canonical upper-case ones gRPC uses.
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

}  // namespace arca::rpc
