#ifndef ARCA_COMMON_RPC_HEALTH_CLIENT_H_
#define ARCA_COMMON_RPC_HEALTH_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace grpc {
class Channel;
}

namespace arca::rpc {

// Asks grpc.health.v1.Health/Check about `service` ("" for the server as a
// whole). OK if SERVING; UNAVAILABLE if the server is down or not serving;
// NOT_FOUND if the server does not know the service. With server_version,
// the Arca version the server's answer carried (kVersionHeader), if any.
absl::Status CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                         const std::string& service, absl::Duration timeout,
                         std::string* server_version = nullptr);

// Polls CheckHealth until OK or the deadline passes; returns the last status.
absl::Status WaitHealthy(const std::shared_ptr<grpc::Channel>& channel,
                         const std::string& service, absl::Duration deadline);

}  // namespace arca::rpc

#endif  // ARCA_COMMON_RPC_HEALTH_CLIENT_H_
