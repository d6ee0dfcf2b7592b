#include "common/clients/collector.h"
#include "common/clients/grpc_call.h"
#include "proto/collector/v1/collector.grpc.pb.h"

namespace arca::clients {
namespace {

namespace v1 = ::arca::collector::v1;
using internal::Worded;

class GrpcUpload final : public UploadStream {
 public:
  GrpcUpload(v1::Collector::StubInterface& stub, const ClientOptions& options,
             const CallOptions& call)
      : context_(internal::NewContext(internal::Deadline(options, call), call)),
        writer_(stub.Upload(context_.get(), &response_)),
        options_(options) {}
  ~GrpcUpload() override {
    if (!finished_) {
      Cancel();
      Finish().status().IgnoreError();
    }
  }

  bool Write(const v1::UploadRequest& message, bool buffer) override {
    grpc::WriteOptions options;
    if (buffer) options.set_buffer_hint();
    return open_ && (open_ = writer_->Write(message, options));
  }
  absl::StatusOr<v1::UploadResponse> Finish() override {
    if (open_) writer_->WritesDone();
    open_ = false;
    finished_ = true;
    const grpc::Status s = writer_->Finish();
    if (!s.ok()) return Worded(s, options_);
    return std::move(response_);
  }
  void Cancel() override {
    open_ = false;
    context_->TryCancel();
  }

 private:
  std::unique_ptr<grpc::ClientContext> context_;
  v1::UploadResponse response_;
  std::unique_ptr<grpc::ClientWriterInterface<v1::UploadRequest>> writer_;
  ClientOptions options_;
  bool open_ = true, finished_ = false;
};

class GrpcDownload final : public DownloadStream {
 public:
  GrpcDownload(v1::Collector::StubInterface& stub, const v1::DownloadRequest& request,
               const ClientOptions& options, const CallOptions& call)
      : context_(internal::NewContext(internal::Deadline(options, call), call)),
        reader_(stub.Download(context_.get(), request)),
        options_(options) {}
  ~GrpcDownload() override {
    if (!finished_) {
      Cancel();
      Finish().IgnoreError();
    }
  }

  bool Read(v1::DownloadResponse* message) override { return reader_->Read(message); }
  absl::Status Finish() override {
    finished_ = true;
    const grpc::Status s = reader_->Finish();
    return s.ok() ? absl::OkStatus() : Worded(s, options_);
  }
  void Cancel() override { context_->TryCancel(); }

 private:
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReaderInterface<v1::DownloadResponse>> reader_;
  ClientOptions options_;
  bool finished_ = false;
};

class GrpcCollectorClient final : public CollectorClient {
 public:
  GrpcCollectorClient(std::shared_ptr<grpc::Channel> channel, ClientOptions options)
      : stub_(v1::Collector::NewStub(std::move(channel))), options_(std::move(options)) {
    if (options_.name.empty()) options_.name = "collector";
  }

  std::unique_ptr<UploadStream> Upload(const CallOptions& call) override {
    return std::make_unique<GrpcUpload>(*stub_, options_, call);
  }
  std::unique_ptr<DownloadStream> Download(const v1::DownloadRequest& r,
                                           const CallOptions& call) override {
    return std::make_unique<GrpcDownload>(*stub_, r, options_, call);
  }

 private:
  std::unique_ptr<v1::Collector::StubInterface> stub_;
  ClientOptions options_;
};

}  // namespace

std::unique_ptr<CollectorClient> NewCollectorClient(std::shared_ptr<grpc::Channel> channel,
                                                    ClientOptions options) {
  return std::make_unique<GrpcCollectorClient>(std::move(channel), std::move(options));
}

}  // namespace arca::clients
