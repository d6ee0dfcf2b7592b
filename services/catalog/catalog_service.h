#ifndef ARCA_SERVICES_CATALOG_CATALOG_SERVICE_H_
#define ARCA_SERVICES_CATALOG_CATALOG_SERVICE_H_

#include <memory>

#include "common/auth/authorizer.h"
#include "proto/catalog/v1/catalog.grpc.pb.h"
#include "services/catalog/catalog.h"

namespace arca::catalog {

// The gRPC face of Catalog: authorizes each call (common/auth's table),
// decodes, calls the core, maps the status. Where the data is a group's,
// the caller's identity decides: another group's job, and a file above the
// caller's privacy level, are NOT_FOUND, exactly as if absent; listings
// hold only what the caller may see.
class CatalogServiceImpl final : public v1::Catalog::Service {
 public:
  // authorizer null: nothing is checked.
  explicit CatalogServiceImpl(Catalog* catalog,
                              std::shared_ptr<const auth::Authorizer> authorizer = nullptr);

  grpc::Status RegisterJobArtifact(grpc::ServerContext*, const v1::RegisterJobArtifactRequest*,
                                   v1::RegisterJobArtifactResponse*) override;
  grpc::Status GetJobArtifact(grpc::ServerContext*, const v1::GetJobArtifactRequest*,
                              v1::JobArtifact*) override;
  grpc::Status ListJobArtifacts(grpc::ServerContext*, const v1::ListJobArtifactsRequest*,
                                v1::ListJobArtifactsResponse*) override;
  grpc::Status ListJobArtifactNames(grpc::ServerContext*, const v1::ListJobArtifactNamesRequest*,
                                    v1::ListJobArtifactNamesResponse*) override;
  grpc::Status DeleteJobArtifact(grpc::ServerContext*, const v1::DeleteJobArtifactRequest*,
                                 v1::DeleteJobArtifactResponse*) override;
  grpc::Status CreateJob(grpc::ServerContext*, const v1::CreateJobRequest*,
                         v1::CreateJobResponse*) override;
  grpc::Status GetJob(grpc::ServerContext*, const v1::GetJobRequest*, v1::Job*) override;
  grpc::Status ListJobs(grpc::ServerContext*, const v1::ListJobsRequest*,
                        v1::ListJobsResponse*) override;
  grpc::Status UpdateStep(grpc::ServerContext*, const v1::UpdateStepRequest*, v1::Job*) override;
  grpc::Status FinishJob(grpc::ServerContext*, const v1::FinishJobRequest*, v1::Job*) override;
  grpc::Status DeleteJob(grpc::ServerContext*, const v1::DeleteJobRequest*,
                         v1::DeleteJobResponse*) override;
  grpc::Status RemoveFinalizer(grpc::ServerContext*, const v1::RemoveFinalizerRequest*,
                               v1::RemoveFinalizerResponse*) override;
  grpc::Status SetCondition(grpc::ServerContext*, const v1::SetConditionRequest*,
                            v1::Job*) override;
  grpc::Status CommitFiles(grpc::ServerContext*, const v1::CommitFilesRequest*,
                           v1::CommitFilesResponse*) override;
  grpc::Status ListFiles(grpc::ServerContext*, const v1::ListFilesRequest*,
                         v1::ListFilesResponse*) override;
  grpc::Status GetFile(grpc::ServerContext*, const v1::GetFileRequest*,
                       v1::ArtifactFile*) override;
  grpc::Status ListExpiredFiles(grpc::ServerContext*, const v1::ListExpiredFilesRequest*,
                                v1::ListExpiredFilesResponse*) override;
  grpc::Status MarkFilesDeleted(grpc::ServerContext*, const v1::MarkFilesDeletedRequest*,
                                v1::MarkFilesDeletedResponse*) override;
  grpc::Status GetBlobRef(grpc::ServerContext*, const v1::GetBlobRefRequest*,
                          v1::BlobRef*) override;
  grpc::Status GetBlobRefs(grpc::ServerContext*, const v1::GetBlobRefsRequest*,
                           v1::GetBlobRefsResponse*) override;
  grpc::Status ListUnreferencedBlobs(grpc::ServerContext*, const v1::ListUnreferencedBlobsRequest*,
                                     v1::ListUnreferencedBlobsResponse*) override;
  grpc::Status ForgetBlob(grpc::ServerContext*, const v1::ForgetBlobRequest*,
                          v1::ForgetBlobResponse*) override;
  grpc::Status ListPacks(grpc::ServerContext*, const v1::ListPacksRequest*,
                         v1::ListPacksResponse*) override;
  grpc::Status ListPackedBlobs(grpc::ServerContext*, const v1::ListPackedBlobsRequest*,
                               v1::ListPackedBlobsResponse*) override;
  grpc::Status MovePackedBlobs(grpc::ServerContext*, const v1::MovePackedBlobsRequest*,
                               v1::MovePackedBlobsResponse*) override;
  grpc::Status ForgetPack(grpc::ServerContext*, const v1::ForgetPackRequest*,
                          v1::Empty*) override;
  grpc::Status EnqueueGcTask(grpc::ServerContext*, const v1::EnqueueGcTaskRequest*,
                             v1::GcTask*) override;
  grpc::Status LeaseGcTasks(grpc::ServerContext*, const v1::LeaseGcTasksRequest*,
                            v1::LeaseGcTasksResponse*) override;
  grpc::Status CompleteGcTask(grpc::ServerContext*, const v1::CompleteGcTaskRequest*,
                              v1::Empty*) override;
  grpc::Status RetryGcTask(grpc::ServerContext*, const v1::RetryGcTaskRequest*,
                           v1::GcTask*) override;
  grpc::Status GcQueueStats(grpc::ServerContext*, const v1::GcQueueStatsRequest*,
                            v1::GcQueueStatsResponse*) override;
  grpc::Status ListGcTasks(grpc::ServerContext*, const v1::ListGcTasksRequest*,
                           v1::ListGcTasksResponse*) override;
  grpc::Status CreateCheckpoint(grpc::ServerContext*, const v1::CreateCheckpointRequest*,
                                v1::CreateCheckpointResponse*) override;
  grpc::Status WhoAmI(grpc::ServerContext*, const v1::WhoAmIRequest*,
                      v1::WhoAmIResponse*) override;

 private:
  // The identity a call acts as, if its method allows it.
  absl::StatusOr<auth::Identity> Authorize(grpc::ServerContext* context, const char* method);
  // NOT_FOUND, as for an absent job, unless the caller sees the job's group.
  absl::Status SeeJob(const auth::Identity& who, const std::string& job_id);

  Catalog* catalog_;
  std::shared_ptr<const auth::Authorizer> authorizer_;
};

}  // namespace arca::catalog

#endif  // ARCA_SERVICES_CATALOG_CATALOG_SERVICE_H_
