#include "services/catalog/catalog_service.h"

#include <utility>

#include "common/grpc_status.h"

namespace arca::catalog {
namespace {

template <typename T>
grpc::Status Reply(absl::StatusOr<T> result, T* out) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *out = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace

#define ARCA_UNARY(Method, Request, Response, call)                                   \
  grpc::Status CatalogServiceImpl::Method(grpc::ServerContext*, const v1::Request* req, \
                                          v1::Response* resp) {                       \
    return call;                                                                      \
  }

ARCA_UNARY(RegisterJobArtifact, RegisterJobArtifactRequest, RegisterJobArtifactResponse,
           Reply(catalog_->RegisterJobArtifact(*req), resp))
ARCA_UNARY(GetJobArtifact, GetJobArtifactRequest, JobArtifact,
           Reply(catalog_->GetJobArtifact(req->artifact_id()), resp))
ARCA_UNARY(ListJobArtifacts, ListJobArtifactsRequest, ListJobArtifactsResponse,
           Reply(catalog_->ListJobArtifacts(*req), resp))
ARCA_UNARY(ListJobArtifactNames, ListJobArtifactNamesRequest, ListJobArtifactNamesResponse,
           Reply(catalog_->ListJobArtifactNames(*req), resp))
ARCA_UNARY(DeleteJobArtifact, DeleteJobArtifactRequest, DeleteJobArtifactResponse,
           ToGrpcStatus(catalog_->DeleteJobArtifact(*req)))
ARCA_UNARY(CreateJob, CreateJobRequest, CreateJobResponse, Reply(catalog_->CreateJob(*req), resp))
ARCA_UNARY(GetJob, GetJobRequest, Job, Reply(catalog_->GetJob(req->id()), resp))
ARCA_UNARY(ListJobs, ListJobsRequest, ListJobsResponse, Reply(catalog_->ListJobs(*req), resp))
ARCA_UNARY(UpdateStep, UpdateStepRequest, Job, Reply(catalog_->UpdateStep(*req), resp))
ARCA_UNARY(FinishJob, FinishJobRequest, Job, Reply(catalog_->FinishJob(*req), resp))
ARCA_UNARY(DeleteJob, DeleteJobRequest, DeleteJobResponse, Reply(catalog_->DeleteJob(*req), resp))
ARCA_UNARY(RemoveFinalizer, RemoveFinalizerRequest, RemoveFinalizerResponse,
           Reply(catalog_->RemoveFinalizer(*req), resp))
ARCA_UNARY(SetCondition, SetConditionRequest, Job, Reply(catalog_->SetCondition(*req), resp))
ARCA_UNARY(CommitFiles, CommitFilesRequest, CommitFilesResponse,
           Reply(catalog_->CommitFiles(*req), resp))
ARCA_UNARY(ListFiles, ListFilesRequest, ListFilesResponse, Reply(catalog_->ListFiles(*req), resp))
ARCA_UNARY(GetFile, GetFileRequest, ArtifactFile,
           Reply(catalog_->GetFile(req->job_id(), req->path()), resp))
ARCA_UNARY(ListExpiredFiles, ListExpiredFilesRequest, ListExpiredFilesResponse,
           Reply(catalog_->ListExpiredFiles(*req), resp))
ARCA_UNARY(MarkFilesDeleted, MarkFilesDeletedRequest, MarkFilesDeletedResponse,
           Reply(catalog_->MarkFilesDeleted(*req), resp))
ARCA_UNARY(GetBlobRef, GetBlobRefRequest, BlobRef, Reply(catalog_->GetBlobRef(req->sha256()), resp))
ARCA_UNARY(ListUnreferencedBlobs, ListUnreferencedBlobsRequest, ListUnreferencedBlobsResponse,
           Reply(catalog_->ListUnreferencedBlobs(*req), resp))
ARCA_UNARY(ForgetBlob, ForgetBlobRequest, ForgetBlobResponse,
           ToGrpcStatus(catalog_->ForgetBlob(*req)))
ARCA_UNARY(EnqueueGcTask, EnqueueGcTaskRequest, GcTask, Reply(catalog_->EnqueueGcTask(*req), resp))
ARCA_UNARY(LeaseGcTasks, LeaseGcTasksRequest, LeaseGcTasksResponse,
           Reply(catalog_->LeaseGcTasks(*req), resp))
ARCA_UNARY(CompleteGcTask, CompleteGcTaskRequest, Empty,
           ToGrpcStatus(catalog_->CompleteGcTask(*req)))
ARCA_UNARY(RetryGcTask, RetryGcTaskRequest, GcTask, Reply(catalog_->RetryGcTask(*req), resp))
ARCA_UNARY(GcQueueStats, GcQueueStatsRequest, GcQueueStatsResponse,
           Reply(catalog_->GcQueueStats(), resp))
ARCA_UNARY(ListGcTasks, ListGcTasksRequest, ListGcTasksResponse,
           Reply(catalog_->ListGcTasks(*req), resp))

#undef ARCA_UNARY

}  // namespace arca::catalog
