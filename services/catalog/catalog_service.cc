#include "services/catalog/catalog_service.h"

#include "common/grpc_status.h"

namespace arca::catalog {

#define ARCA_UNARY(Method, Request, Response, call)                                   \
  grpc::Status CatalogServiceImpl::Method(grpc::ServerContext*, const v1::Request* req, \
                                          v1::Response* resp) {                       \
    return call;                                                                      \
  }

ARCA_UNARY(RegisterJobArtifact, RegisterJobArtifactRequest, RegisterJobArtifactResponse,
           ToGrpcReply(catalog_->RegisterJobArtifact(*req), resp))
ARCA_UNARY(GetJobArtifact, GetJobArtifactRequest, JobArtifact,
           ToGrpcReply(catalog_->GetJobArtifact(req->artifact_id()), resp))
ARCA_UNARY(ListJobArtifacts, ListJobArtifactsRequest, ListJobArtifactsResponse,
           ToGrpcReply(catalog_->ListJobArtifacts(*req), resp))
ARCA_UNARY(ListJobArtifactNames, ListJobArtifactNamesRequest, ListJobArtifactNamesResponse,
           ToGrpcReply(catalog_->ListJobArtifactNames(*req), resp))
ARCA_UNARY(DeleteJobArtifact, DeleteJobArtifactRequest, DeleteJobArtifactResponse,
           ToGrpcStatus(catalog_->DeleteJobArtifact(*req)))
ARCA_UNARY(CreateJob, CreateJobRequest, CreateJobResponse, ToGrpcReply(catalog_->CreateJob(*req), resp))
ARCA_UNARY(GetJob, GetJobRequest, Job, ToGrpcReply(catalog_->GetJob(req->id()), resp))
ARCA_UNARY(ListJobs, ListJobsRequest, ListJobsResponse, ToGrpcReply(catalog_->ListJobs(*req), resp))
ARCA_UNARY(UpdateStep, UpdateStepRequest, Job, ToGrpcReply(catalog_->UpdateStep(*req), resp))
ARCA_UNARY(FinishJob, FinishJobRequest, Job, ToGrpcReply(catalog_->FinishJob(*req), resp))
ARCA_UNARY(DeleteJob, DeleteJobRequest, DeleteJobResponse, ToGrpcReply(catalog_->DeleteJob(*req), resp))
ARCA_UNARY(RemoveFinalizer, RemoveFinalizerRequest, RemoveFinalizerResponse,
           ToGrpcReply(catalog_->RemoveFinalizer(*req), resp))
ARCA_UNARY(SetCondition, SetConditionRequest, Job, ToGrpcReply(catalog_->SetCondition(*req), resp))
ARCA_UNARY(CommitFiles, CommitFilesRequest, CommitFilesResponse,
           ToGrpcReply(catalog_->CommitFiles(*req), resp))
ARCA_UNARY(ListFiles, ListFilesRequest, ListFilesResponse, ToGrpcReply(catalog_->ListFiles(*req), resp))
ARCA_UNARY(GetFile, GetFileRequest, ArtifactFile,
           ToGrpcReply(catalog_->GetFile(req->job_id(), req->path()), resp))
ARCA_UNARY(ListExpiredFiles, ListExpiredFilesRequest, ListExpiredFilesResponse,
           ToGrpcReply(catalog_->ListExpiredFiles(*req), resp))
ARCA_UNARY(MarkFilesDeleted, MarkFilesDeletedRequest, MarkFilesDeletedResponse,
           ToGrpcReply(catalog_->MarkFilesDeleted(*req), resp))
ARCA_UNARY(GetBlobRef, GetBlobRefRequest, BlobRef, ToGrpcReply(catalog_->GetBlobRef(req->sha256()), resp))
ARCA_UNARY(GetBlobRefs, GetBlobRefsRequest, GetBlobRefsResponse,
           ToGrpcReply(catalog_->GetBlobRefs(*req), resp))
ARCA_UNARY(ListUnreferencedBlobs, ListUnreferencedBlobsRequest, ListUnreferencedBlobsResponse,
           ToGrpcReply(catalog_->ListUnreferencedBlobs(*req), resp))
ARCA_UNARY(ForgetBlob, ForgetBlobRequest, ForgetBlobResponse,
           ToGrpcStatus(catalog_->ForgetBlob(*req)))
ARCA_UNARY(EnqueueGcTask, EnqueueGcTaskRequest, GcTask, ToGrpcReply(catalog_->EnqueueGcTask(*req), resp))
ARCA_UNARY(LeaseGcTasks, LeaseGcTasksRequest, LeaseGcTasksResponse,
           ToGrpcReply(catalog_->LeaseGcTasks(*req), resp))
ARCA_UNARY(CompleteGcTask, CompleteGcTaskRequest, Empty,
           ToGrpcStatus(catalog_->CompleteGcTask(*req)))
ARCA_UNARY(RetryGcTask, RetryGcTaskRequest, GcTask, ToGrpcReply(catalog_->RetryGcTask(*req), resp))
ARCA_UNARY(GcQueueStats, GcQueueStatsRequest, GcQueueStatsResponse,
           ToGrpcReply(catalog_->GcQueueStats(), resp))
ARCA_UNARY(CreateCheckpoint, CreateCheckpointRequest, CreateCheckpointResponse,
           ToGrpcReply(catalog_->CreateCheckpoint(req->dir()), resp))
ARCA_UNARY(ListGcTasks, ListGcTasksRequest, ListGcTasksResponse,
           ToGrpcReply(catalog_->ListGcTasks(*req), resp))

#undef ARCA_UNARY

}  // namespace arca::catalog
