#include "services/collector/collector_service.h"

#include "common/grpc_status.h"

namespace arca::collector {
namespace {

class ReaderSource : public UploadSource {
 public:
  explicit ReaderSource(grpc::ServerReader<v1::UploadRequest>* reader) : reader_(reader) {}
  bool Next(v1::UploadRequest* message) override { return reader_->Read(message); }

 private:
  grpc::ServerReader<v1::UploadRequest>* reader_;
};

class WriterSink : public DownloadSink {
 public:
  explicit WriterSink(grpc::ServerWriter<v1::DownloadResponse>* writer) : writer_(writer) {}
  bool Write(const v1::DownloadResponse& message) override { return writer_->Write(message); }

 private:
  grpc::ServerWriter<v1::DownloadResponse>* writer_;
};

}  // namespace

grpc::Status CollectorServiceImpl::Upload(grpc::ServerContext* context,
                                          grpc::ServerReader<v1::UploadRequest>* reader,
                                          v1::UploadResponse* response) {
  ReaderSource source(reader);
  auto result = collector_->Upload(source);
  if (!result.ok()) return ToGrpcStatus(result.status());
  if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status CollectorServiceImpl::Download(grpc::ServerContext* context,
                                            const v1::DownloadRequest* request,
                                            grpc::ServerWriter<v1::DownloadResponse>* writer) {
  WriterSink sink(writer);
  return ToGrpcStatus(collector_->Download(*request, sink));
}

}  // namespace arca::collector
