#ifndef ARCA_COMMON_CLIENTS_CATALOG_H_
#define ARCA_COMMON_CLIENTS_CATALOG_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clients/call.h"
#include "proto/catalog/v1/catalog.pb.h"

namespace grpc {
class Channel;
}

namespace arca::clients {

// The catalog's calls: name, request, response, and whether a call that
// did not reach the catalog may be tried again (kIdempotent) or not.
#define ARCA_CATALOG_CALLS(X)                                                           \
  X(RegisterJobArtifact, RegisterJobArtifactRequest, RegisterJobArtifactResponse, kNever) \
  X(GetJobArtifact, GetJobArtifactRequest, JobArtifact, kIdempotent)                    \
  X(ListJobArtifacts, ListJobArtifactsRequest, ListJobArtifactsResponse, kIdempotent)   \
  X(ListJobArtifactNames, ListJobArtifactNamesRequest, ListJobArtifactNamesResponse,    \
    kIdempotent)                                                                        \
  X(DeleteJobArtifact, DeleteJobArtifactRequest, DeleteJobArtifactResponse, kNever)     \
  X(CreateJob, CreateJobRequest, CreateJobResponse, kNever)                             \
  X(GetJob, GetJobRequest, Job, kIdempotent)                                            \
  X(ListJobs, ListJobsRequest, ListJobsResponse, kIdempotent)                           \
  X(UpdateStep, UpdateStepRequest, Job, kNever)                                         \
  X(FinishJob, FinishJobRequest, Job, kNever)                                           \
  X(DeleteJob, DeleteJobRequest, DeleteJobResponse, kNever)                             \
  X(RemoveFinalizer, RemoveFinalizerRequest, RemoveFinalizerResponse, kIdempotent)      \
  X(SetCondition, SetConditionRequest, Job, kIdempotent)                                \
  X(CommitFiles, CommitFilesRequest, CommitFilesResponse, kNever)                       \
  X(ListFiles, ListFilesRequest, ListFilesResponse, kIdempotent)                        \
  X(GetFile, GetFileRequest, ArtifactFile, kIdempotent)                                 \
  X(ListExpiredFiles, ListExpiredFilesRequest, ListExpiredFilesResponse, kIdempotent)   \
  X(MarkFilesDeleted, MarkFilesDeletedRequest, MarkFilesDeletedResponse, kIdempotent)   \
  X(GetBlobRef, GetBlobRefRequest, BlobRef, kIdempotent)                                \
  X(GetBlobRefs, GetBlobRefsRequest, GetBlobRefsResponse, kIdempotent)                  \
  X(ListUnreferencedBlobs, ListUnreferencedBlobsRequest, ListUnreferencedBlobsResponse, \
    kIdempotent)                                                                        \
  X(ForgetBlob, ForgetBlobRequest, ForgetBlobResponse, kIdempotent)                     \
  X(ListPacks, ListPacksRequest, ListPacksResponse, kIdempotent)                        \
  X(ListPackedBlobs, ListPackedBlobsRequest, ListPackedBlobsResponse, kIdempotent)      \
  X(MovePackedBlobs, MovePackedBlobsRequest, MovePackedBlobsResponse, kNever)           \
  X(ForgetPack, ForgetPackRequest, Empty, kIdempotent)                                  \
  X(EnqueueGcTask, EnqueueGcTaskRequest, GcTask, kNever)                                \
  X(LeaseGcTasks, LeaseGcTasksRequest, LeaseGcTasksResponse, kNever)                    \
  X(CompleteGcTask, CompleteGcTaskRequest, Empty, kNever)                               \
  X(RetryGcTask, RetryGcTaskRequest, GcTask, kNever)                                    \
  X(GcQueueStats, GcQueueStatsRequest, GcQueueStatsResponse, kIdempotent)               \
  X(ListGcTasks, ListGcTasksRequest, ListGcTasksResponse, kIdempotent)                  \
  X(WhoAmI, WhoAmIRequest, WhoAmIResponse, kIdempotent)                                 \
  X(CreateCheckpoint, CreateCheckpointRequest, CreateCheckpointResponse, kNever)

// The catalog as its peers call it (see proto/catalog/v1/catalog.proto for
// each call). NewCatalogClient speaks gRPC; a test may instead override only
// the calls it needs (the others answer UNIMPLEMENTED). Thread-safe.
class CatalogClient {
 public:
  virtual ~CatalogClient() = default;

#define ARCA_CATALOG_DECLARE(method, request, response, retry)                       \
  virtual absl::StatusOr<catalog::v1::response> method(const catalog::v1::request& r, \
                                                       const CallOptions& call = {});
  ARCA_CATALOG_CALLS(ARCA_CATALOG_DECLARE)
#undef ARCA_CATALOG_DECLARE

  // Paged listings as iteration, page after page to the end (the request's
  // page_token is where to start); stops at fn's first error.
  absl::Status ForEachJob(catalog::v1::ListJobsRequest filter,
                          absl::FunctionRef<absl::Status(const catalog::v1::Job&)> fn,
                          const CallOptions& call = {});
  absl::Status ForEachFile(catalog::v1::ListFilesRequest request,
                           absl::FunctionRef<absl::Status(const catalog::v1::ArtifactFile&)> fn,
                           const CallOptions& call = {});
  absl::Status ForEachExpiredFile(
      catalog::v1::ListExpiredFilesRequest request,
      absl::FunctionRef<absl::Status(const catalog::v1::ExpiryEntry&)> fn,
      const CallOptions& call = {});
  absl::Status ForEachUnreferencedBlob(
      catalog::v1::ListUnreferencedBlobsRequest request,
      absl::FunctionRef<absl::Status(const catalog::v1::BlobRef&)> fn,
      const CallOptions& call = {});
  absl::Status ForEachPack(catalog::v1::ListPacksRequest request,
                           absl::FunctionRef<absl::Status(const catalog::v1::Pack&)> fn,
                           const CallOptions& call = {});
  absl::Status ForEachArtifact(catalog::v1::ListJobArtifactsRequest request,
                               absl::FunctionRef<absl::Status(const catalog::v1::JobArtifact&)> fn,
                               const CallOptions& call = {});
  absl::Status ForEachArtifactName(catalog::v1::ListJobArtifactNamesRequest request,
                                   absl::FunctionRef<absl::Status(const std::string&)> fn,
                                   const CallOptions& call = {});

  // The references of these blobs (those the catalog knows), asked in
  // batches of GetBlobRefs' limit.
  absl::Status ForEachBlobRef(const std::vector<std::string>& sha256s,
                              absl::FunctionRef<absl::Status(const catalog::v1::BlobRef&)> fn,
                              const CallOptions& call = {});
};

// A client over `channel`; options.name defaults to "catalog".
std::unique_ptr<CatalogClient> NewCatalogClient(std::shared_ptr<grpc::Channel> channel,
                                                ClientOptions options = {});

}  // namespace arca::clients

#endif  // ARCA_COMMON_CLIENTS_CATALOG_H_
