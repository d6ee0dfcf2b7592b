#ifndef ARCA_SERVICES_COLLECTOR_COLLECTOR_SERVICE_H_
#define ARCA_SERVICES_COLLECTOR_COLLECTOR_SERVICE_H_

#include "absl/time/time.h"
#include "common/idle_calls.h"
#include "proto/collector/v1/collector.grpc.pb.h"
#include "services/collector/collector.h"

namespace arca::collector {

// The gRPC face of Collector: adapts the streams, maps the status. A stream
// that moves no message for `idle_timeout` (a client that stalls, sending
// or reading) is cancelled, and what it held is given back.
class CollectorServiceImpl final : public v1::Collector::Service {
 public:
  explicit CollectorServiceImpl(Collector* collector,
                                absl::Duration idle_timeout = absl::Minutes(1))
      : collector_(collector), idle_(idle_timeout) {}

  grpc::Status Upload(grpc::ServerContext* context,
                      grpc::ServerReader<v1::UploadRequest>* reader,
                      v1::UploadResponse* response) override;
  grpc::Status Download(grpc::ServerContext* context, const v1::DownloadRequest* request,
                        grpc::ServerWriter<v1::DownloadResponse>* writer) override;

 private:
  Collector* collector_;
  IdleCalls idle_;
};

}  // namespace arca::collector

#endif  // ARCA_SERVICES_COLLECTOR_COLLECTOR_SERVICE_H_
