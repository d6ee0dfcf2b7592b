#include "services/collector/collector_service.h"

#include "common/rpc/status.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace arca::collector {
namespace {

class ReaderSource : public UploadSource {
 public:
  ReaderSource(grpc::ServerReader<v1::UploadRequest>* reader, rpc::IdleCalls::Call* call)
      : reader_(reader), call_(call) {}
  bool Next(v1::UploadRequest* message) override {
    const bool more = reader_->Read(message);
    call_->Touch();
    return more;
  }

 private:
  grpc::ServerReader<v1::UploadRequest>* reader_;
  rpc::IdleCalls::Call* call_;
};

class WriterSink : public DownloadSink {
 public:
  WriterSink(grpc::ServerWriter<v1::DownloadResponse>* writer, rpc::IdleCalls::Call* call)
      : writer_(writer), call_(call) {}
  bool Write(const v1::DownloadResponse& message) override {
    const bool written = writer_->Write(message);
    call_->Touch();
    return written;
  }

 private:
  grpc::ServerWriter<v1::DownloadResponse>* writer_;
  rpc::IdleCalls::Call* call_;
};

}  // namespace

CollectorServiceImpl::CollectorServiceImpl(Collector* collector, absl::Duration idle_timeout,
                                           std::shared_ptr<const auth::Authorizer> authorizer)
    : collector_(collector),
      idle_(idle_timeout),
      authorizer_(authorizer != nullptr ? std::move(authorizer)
                                        : std::make_shared<auth::Authorizer>(nullptr)) {}

absl::StatusOr<std::string> CollectorServiceImpl::ActFor(grpc::ServerContext* context,
                                                         const char* method) {
  ASSIGN_OR_RETURN(auth::Identity who,
                   authorizer_->Authorize(*context, absl::StrCat("/", v1::Collector::service_full_name(),
                                                                 "/", method)));
  return authorizer_->enabled() ? who.name : std::string();
}

grpc::Status CollectorServiceImpl::Upload(grpc::ServerContext* context,
                                          grpc::ServerReader<v1::UploadRequest>* reader,
                                          v1::UploadResponse* response) {
  auto act_for = ActFor(context, "Upload");
  if (!act_for.ok()) return rpc::ToGrpcStatus(act_for.status());
  const std::string peer = context->peer();
  auto call = idle_.Watch(context);
  ReaderSource source(reader, call.get());
  auto result = collector_->Upload(source, *act_for);
  if (call->cancelled()) {
    ARCA_LOG(WARNING) << "an upload from " << peer << " sent nothing for too long and was cancelled";
  }
  if (!result.ok()) return rpc::ToGrpcStatus(result.status());
  if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status CollectorServiceImpl::Download(grpc::ServerContext* context,
                                            const v1::DownloadRequest* request,
                                            grpc::ServerWriter<v1::DownloadResponse>* writer) {
  auto act_for = ActFor(context, "Download");
  if (!act_for.ok()) return rpc::ToGrpcStatus(act_for.status());
  const std::string peer = context->peer();
  auto call = idle_.Watch(context);
  WriterSink sink(writer, call.get());
  absl::Status s = collector_->Download(*request, sink, *act_for);
  if (call->cancelled()) {
    ARCA_LOG(WARNING) << "a download by " << peer << " read nothing for too long and was cancelled";
  }
  return rpc::ToGrpcStatus(s);
}

}  // namespace arca::collector
