#ifndef ARCA_COMMON_CLIENTS_COLLECTOR_H_
#define ARCA_COMMON_CLIENTS_COLLECTOR_H_

#include <memory>

#include "absl/status/statusor.h"
#include "common/clients/call.h"
#include "proto/collector/v1/collector.pb.h"

namespace grpc {
class Channel;
}

namespace arca::clients {

// An upload in progress: manifest, files and end marker, then Finish.
class UploadStream {
 public:
  virtual ~UploadStream() = default;
  // False once the stream is broken; Finish then says why. `buffer`: the
  // message may wait to leave with the next one (small files).
  virtual bool Write(const collector::v1::UploadRequest& message, bool buffer = false) = 0;
  // Ends the writes (unless Cancel came first) and waits for the answer.
  virtual absl::StatusOr<collector::v1::UploadResponse> Finish() = 0;
  // Abandons the upload: nothing is committed.
  virtual void Cancel() = 0;
};

// A download in progress, a message at a time.
class DownloadStream {
 public:
  virtual ~DownloadStream() = default;
  // False at the end of the stream or on an error; Finish then says which.
  virtual bool Read(collector::v1::DownloadResponse* message) = 0;
  virtual absl::Status Finish() = 0;
  // Abandons the download; Finish still has to be called.
  virtual void Cancel() = 0;
};

// The collector as its peers call it (proto/collector/v1/collector.proto).
// Streams are not retried: the caller knows how to resume (a download from
// the bytes it has).
class CollectorClient {
 public:
  virtual ~CollectorClient() = default;
  virtual std::unique_ptr<UploadStream> Upload(const CallOptions& call = {}) = 0;
  virtual std::unique_ptr<DownloadStream> Download(const collector::v1::DownloadRequest& r,
                                                   const CallOptions& call = {}) = 0;
};

// options.name defaults to "collector".
std::unique_ptr<CollectorClient> NewCollectorClient(std::shared_ptr<grpc::Channel> channel,
                                                    ClientOptions options = {});

}  // namespace arca::clients

#endif  // ARCA_COMMON_CLIENTS_COLLECTOR_H_
