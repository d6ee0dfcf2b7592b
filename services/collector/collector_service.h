#ifndef ARCA_SERVICES_COLLECTOR_COLLECTOR_SERVICE_H_
#define ARCA_SERVICES_COLLECTOR_COLLECTOR_SERVICE_H_

#include <memory>

#include "absl/time/time.h"
#include "common/auth/authorizer.h"
#include "common/rpc/idle_calls.h"
#include "proto/collector/v1/collector.grpc.pb.h"
#include "services/collector/collector.h"

namespace arca::collector {

// The gRPC face of Collector: authorizes each call (common/auth's table),
// adapts the streams, maps the status; the catalog then sees the caller's
// identity, so another group's job or file is NOT_FOUND. A stream that
// moves no message for `idle_timeout` (a client that stalls, sending or
// reading) is cancelled, and what it held is given back.
class CollectorServiceImpl final : public v1::Collector::Service {
 public:
  // authorizer null: nothing is checked.
  explicit CollectorServiceImpl(Collector* collector,
                                absl::Duration idle_timeout = absl::Minutes(1),
                                std::shared_ptr<const auth::Authorizer> authorizer = nullptr);

  grpc::Status Upload(grpc::ServerContext* context,
                      grpc::ServerReader<v1::UploadRequest>* reader,
                      v1::UploadResponse* response) override;
  grpc::Status Download(grpc::ServerContext* context, const v1::DownloadRequest* request,
                        grpc::ServerWriter<v1::DownloadResponse>* writer) override;

 private:
  // Who the call acts for, named to the catalog ("" without tokens).
  absl::StatusOr<std::string> ActFor(grpc::ServerContext* context, const char* method);

  Collector* collector_;
  rpc::IdleCalls idle_;
  std::shared_ptr<const auth::Authorizer> authorizer_;
};

}  // namespace arca::collector

#endif  // ARCA_SERVICES_COLLECTOR_COLLECTOR_SERVICE_H_
