#include "common/rpc/health_client.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/rpc/status.h"
#include "common/version.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/byte_buffer.h"

namespace arca::rpc {

absl::Status CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                         const std::string& service, absl::Duration timeout,
                         std::string* server_version) {
  // grpc.health.v1.HealthCheckRequest{service} encoded by hand: field 1,
  // length-delimited. The reply SERVING is field 1 varint 1: 08 01.
  std::string request;
  if (!service.empty()) {
    request.push_back(0x0a);
    request.push_back(static_cast<char>(service.size()));
    request += service;
  }
  grpc::Slice slice(request);
  grpc::ByteBuffer request_buffer(&slice, 1);
  grpc::ByteBuffer response_buffer;
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(),
                 &request_buffer, &response_buffer, [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) return FromGrpcStatus(status);
  if (!status.ok()) {
    // Refused, cancelled by a server shutting down, timed out: not serving.
    return absl::UnavailableError(absl::StrCat("health check failed: ", status.error_message()));
  }
  std::vector<grpc::Slice> slices;
  if (!response_buffer.Dump(&slices).ok()) return absl::InternalError("unreadable reply");
  std::string response;
  for (const grpc::Slice& s : slices) {
    response.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  if (server_version != nullptr) {
    const auto& metadata = context.GetServerInitialMetadata();
    auto it = metadata.find(kVersionHeader);
    if (it != metadata.end()) server_version->assign(it->second.data(), it->second.size());
  }
  if (response == std::string("\x08\x01", 2)) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat("service \"", service, "\" is not serving"));
}

absl::Status WaitHealthy(const std::shared_ptr<grpc::Channel>& channel,
                         const std::string& service, absl::Duration deadline) {
  const absl::Time end = absl::Now() + deadline;
  absl::Status last;
  do {
    last = CheckHealth(channel, service, absl::Seconds(1));
    if (last.ok()) return last;
    channel->WaitForStateChange(channel->GetState(true),
                                absl::ToChronoTime(std::min(end, absl::Now() + absl::Milliseconds(100))));
  } while (absl::Now() < end);
  return last;
}

}  // namespace arca::rpc
