#include "services/catalog/catalog_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/rpc/status.h"
#include "common/status_macros.h"

namespace arca::catalog {

CatalogServiceImpl::CatalogServiceImpl(Catalog* catalog,
                                       std::shared_ptr<const auth::Authorizer> authorizer)
    : catalog_(catalog),
      authorizer_(authorizer != nullptr ? std::move(authorizer)
                                        : std::make_shared<auth::Authorizer>(nullptr)) {}

absl::StatusOr<auth::Identity> CatalogServiceImpl::Authorize(grpc::ServerContext* context,
                                                             const char* method) {
  return authorizer_->Authorize(*context,
                                absl::StrCat("/", v1::Catalog::service_full_name(), "/", method));
}

absl::Status CatalogServiceImpl::SeeJob(const auth::Identity& who, const std::string& job_id) {
  if (who.all_groups) return absl::OkStatus();
  auto job = catalog_->GetJob(job_id);
  if (job.ok() && who.SeesGroup(job->group())) return absl::OkStatus();
  if (!job.ok() && !absl::IsNotFound(job.status())) return job.status();
  return absl::NotFoundError(absl::StrCat("no job with id ", job_id));
}

namespace {

// The caller's identity, or the status to answer with.
#define WHO(method)                                  \
  auto who_or = Authorize(context, #method);         \
  if (!who_or.ok()) return rpc::ToGrpcStatus(who_or.status()); \
  const auth::Identity& who = *who_or;               \
  (void)who

}  // namespace

// --- Job artifacts: shared by every group; writing needs the roles.

grpc::Status CatalogServiceImpl::RegisterJobArtifact(grpc::ServerContext* context,
                                                     const v1::RegisterJobArtifactRequest* req,
                                                     v1::RegisterJobArtifactResponse* resp) {
  WHO(RegisterJobArtifact);
  if (req->overwrite()) {
    if (absl::Status s = who.Allows(auth::Role::kAdmin, "overwriting a job artifact"); !s.ok()) {
      return rpc::ToGrpcStatus(s);
    }
  }
  return rpc::ToGrpcReply(catalog_->RegisterJobArtifact(*req), resp);
}

grpc::Status CatalogServiceImpl::GetJobArtifact(grpc::ServerContext* context,
                                                const v1::GetJobArtifactRequest* req,
                                                v1::JobArtifact* resp) {
  WHO(GetJobArtifact);
  return rpc::ToGrpcReply(catalog_->GetJobArtifact(req->artifact_id()), resp);
}

grpc::Status CatalogServiceImpl::ListJobArtifacts(grpc::ServerContext* context,
                                                  const v1::ListJobArtifactsRequest* req,
                                                  v1::ListJobArtifactsResponse* resp) {
  WHO(ListJobArtifacts);
  return rpc::ToGrpcReply(catalog_->ListJobArtifacts(*req), resp);
}

grpc::Status CatalogServiceImpl::ListJobArtifactNames(grpc::ServerContext* context,
                                                      const v1::ListJobArtifactNamesRequest* req,
                                                      v1::ListJobArtifactNamesResponse* resp) {
  WHO(ListJobArtifactNames);
  return rpc::ToGrpcReply(catalog_->ListJobArtifactNames(*req), resp);
}

grpc::Status CatalogServiceImpl::DeleteJobArtifact(grpc::ServerContext* context,
                                                   const v1::DeleteJobArtifactRequest* req,
                                                   v1::DeleteJobArtifactResponse*) {
  WHO(DeleteJobArtifact);
  return rpc::ToGrpcStatus(catalog_->DeleteJobArtifact(*req));
}

// --- Jobs: a group's.

grpc::Status CatalogServiceImpl::CreateJob(grpc::ServerContext* context,
                                           const v1::CreateJobRequest* req,
                                           v1::CreateJobResponse* resp) {
  WHO(CreateJob);
  if (!who.SeesGroup(req->job().group())) {
    return rpc::ToGrpcStatus(absl::PermissionDeniedError(
        absl::StrCat(who.name, " may not create jobs in group \"", req->job().group(), "\"")));
  }
  return rpc::ToGrpcReply(catalog_->CreateJob(*req), resp);
}

grpc::Status CatalogServiceImpl::GetJob(grpc::ServerContext* context, const v1::GetJobRequest* req,
                                        v1::Job* resp) {
  WHO(GetJob);
  auto job = catalog_->GetJob(req->id());
  if (job.ok() && !who.SeesGroup(job->group())) {
    return rpc::ToGrpcStatus(absl::NotFoundError(absl::StrCat("no job with id ", req->id())));
  }
  return rpc::ToGrpcReply(std::move(job), resp);
}

grpc::Status CatalogServiceImpl::ListJobs(grpc::ServerContext* context,
                                          const v1::ListJobsRequest* req,
                                          v1::ListJobsResponse* resp) {
  WHO(ListJobs);
  if (who.all_groups) return rpc::ToGrpcReply(catalog_->ListJobs(*req), resp);
  // Only the caller's groups (narrowed further by what it asked for).
  if (!req->group().empty() && !who.SeesGroup(req->group())) return grpc::Status::OK;
  v1::ListJobsRequest mine = *req;
  mine.clear_visible_groups();
  for (const std::string& g : who.groups) {
    if (req->visible_groups().empty() ||
        std::find(req->visible_groups().begin(), req->visible_groups().end(), g) !=
            req->visible_groups().end()) {
      mine.add_visible_groups(g);
    }
  }
  if (mine.visible_groups().empty()) return grpc::Status::OK;
  // One group: its own index.
  if (mine.group().empty() && mine.visible_groups_size() == 1) {
    mine.set_group(mine.visible_groups(0));
  }
  return rpc::ToGrpcReply(catalog_->ListJobs(mine), resp);
}

grpc::Status CatalogServiceImpl::UpdateStep(grpc::ServerContext* context,
                                            const v1::UpdateStepRequest* req, v1::Job* resp) {
  WHO(UpdateStep);
  if (absl::Status s = SeeJob(who, req->job_id()); !s.ok()) return rpc::ToGrpcStatus(s);
  return rpc::ToGrpcReply(catalog_->UpdateStep(*req), resp);
}

grpc::Status CatalogServiceImpl::FinishJob(grpc::ServerContext* context,
                                           const v1::FinishJobRequest* req, v1::Job* resp) {
  WHO(FinishJob);
  if (absl::Status s = SeeJob(who, req->job_id()); !s.ok()) return rpc::ToGrpcStatus(s);
  return rpc::ToGrpcReply(catalog_->FinishJob(*req), resp);
}

grpc::Status CatalogServiceImpl::DeleteJob(grpc::ServerContext* context,
                                           const v1::DeleteJobRequest* req,
                                           v1::DeleteJobResponse* resp) {
  WHO(DeleteJob);
  if (absl::Status s = SeeJob(who, req->id()); !s.ok()) return rpc::ToGrpcStatus(s);
  return rpc::ToGrpcReply(catalog_->DeleteJob(*req), resp);
}

grpc::Status CatalogServiceImpl::RemoveFinalizer(grpc::ServerContext* context,
                                                 const v1::RemoveFinalizerRequest* req,
                                                 v1::RemoveFinalizerResponse* resp) {
  WHO(RemoveFinalizer);
  return rpc::ToGrpcReply(catalog_->RemoveFinalizer(*req), resp);
}

grpc::Status CatalogServiceImpl::SetCondition(grpc::ServerContext* context,
                                              const v1::SetConditionRequest* req, v1::Job* resp) {
  WHO(SetCondition);
  return rpc::ToGrpcReply(catalog_->SetCondition(*req), resp);
}

// --- Files: their job's group, and each its privacy level.

grpc::Status CatalogServiceImpl::CommitFiles(grpc::ServerContext* context,
                                             const v1::CommitFilesRequest* req,
                                             v1::CommitFilesResponse* resp) {
  WHO(CommitFiles);
  return rpc::ToGrpcReply(catalog_->CommitFiles(*req), resp);
}

grpc::Status CatalogServiceImpl::ListFiles(grpc::ServerContext* context,
                                           const v1::ListFilesRequest* req,
                                           v1::ListFilesResponse* resp) {
  WHO(ListFiles);
  if (absl::Status s = SeeJob(who, req->job_id()); !s.ok()) return rpc::ToGrpcStatus(s);
  grpc::Status status = rpc::ToGrpcReply(catalog_->ListFiles(*req), resp);
  if (status.ok()) {
    auto* files = resp->mutable_files();
    files->erase(std::remove_if(files->begin(), files->end(),
                                [&](const v1::ArtifactFile& f) {
                                  return !who.SeesPrivacy(f.privacy_level());
                                }),
                 files->end());
  }
  return status;
}

grpc::Status CatalogServiceImpl::GetFile(grpc::ServerContext* context,
                                         const v1::GetFileRequest* req, v1::ArtifactFile* resp) {
  WHO(GetFile);
  if (absl::Status s = SeeJob(who, req->job_id()); !s.ok()) return rpc::ToGrpcStatus(s);
  auto file = catalog_->GetFile(req->job_id(), req->path());
  if (file.ok() && !who.SeesPrivacy(file->privacy_level())) {
    return rpc::ToGrpcStatus(absl::NotFoundError(
        absl::StrCat("job ", req->job_id(), " has no file ", req->path())));
  }
  return rpc::ToGrpcReply(std::move(file), resp);
}

// --- The work between Arca's services (the service role).

#define ARCA_INTERNAL(Method, Request, Response, call)                                        \
  grpc::Status CatalogServiceImpl::Method(grpc::ServerContext* context, const v1::Request* req, \
                                          v1::Response* resp) {                               \
    WHO(Method);                                                                              \
    return call;                                                                              \
  }

ARCA_INTERNAL(ListExpiredFiles, ListExpiredFilesRequest, ListExpiredFilesResponse,
              rpc::ToGrpcReply(catalog_->ListExpiredFiles(*req), resp))
ARCA_INTERNAL(MarkFilesDeleted, MarkFilesDeletedRequest, MarkFilesDeletedResponse,
              rpc::ToGrpcReply(catalog_->MarkFilesDeleted(*req), resp))
ARCA_INTERNAL(GetBlobRef, GetBlobRefRequest, BlobRef,
              rpc::ToGrpcReply(catalog_->GetBlobRef(req->sha256()), resp))
ARCA_INTERNAL(GetBlobRefs, GetBlobRefsRequest, GetBlobRefsResponse,
              rpc::ToGrpcReply(catalog_->GetBlobRefs(*req), resp))
ARCA_INTERNAL(ListUnreferencedBlobs, ListUnreferencedBlobsRequest, ListUnreferencedBlobsResponse,
              rpc::ToGrpcReply(catalog_->ListUnreferencedBlobs(*req), resp))
ARCA_INTERNAL(ForgetBlob, ForgetBlobRequest, ForgetBlobResponse,
              rpc::ToGrpcStatus(catalog_->ForgetBlob(*req)))
ARCA_INTERNAL(ListPacks, ListPacksRequest, ListPacksResponse,
              rpc::ToGrpcReply(catalog_->ListPacks(*req), resp))
ARCA_INTERNAL(ListPackedBlobs, ListPackedBlobsRequest, ListPackedBlobsResponse,
              rpc::ToGrpcReply(catalog_->ListPackedBlobs(*req), resp))
ARCA_INTERNAL(MovePackedBlobs, MovePackedBlobsRequest, MovePackedBlobsResponse,
              rpc::ToGrpcReply(catalog_->MovePackedBlobs(*req), resp))
ARCA_INTERNAL(ForgetPack, ForgetPackRequest, Empty, rpc::ToGrpcStatus(catalog_->ForgetPack(*req)))
ARCA_INTERNAL(EnqueueGcTask, EnqueueGcTaskRequest, GcTask,
              rpc::ToGrpcReply(catalog_->EnqueueGcTask(*req), resp))
ARCA_INTERNAL(LeaseGcTasks, LeaseGcTasksRequest, LeaseGcTasksResponse,
              rpc::ToGrpcReply(catalog_->LeaseGcTasks(*req), resp))
ARCA_INTERNAL(CompleteGcTask, CompleteGcTaskRequest, Empty,
              rpc::ToGrpcStatus(catalog_->CompleteGcTask(*req)))
ARCA_INTERNAL(RetryGcTask, RetryGcTaskRequest, GcTask,
              rpc::ToGrpcReply(catalog_->RetryGcTask(*req), resp))
ARCA_INTERNAL(GcQueueStats, GcQueueStatsRequest, GcQueueStatsResponse,
              rpc::ToGrpcReply(catalog_->GcQueueStats(), resp))
ARCA_INTERNAL(CreateCheckpoint, CreateCheckpointRequest, CreateCheckpointResponse,
              rpc::ToGrpcReply(catalog_->CreateCheckpoint(req->dir(), req->to_store()), resp))

#undef ARCA_INTERNAL

grpc::Status CatalogServiceImpl::ListGcTasks(grpc::ServerContext* context,
                                             const v1::ListGcTasksRequest* req,
                                             v1::ListGcTasksResponse* resp) {
  WHO(ListGcTasks);
  if (req->job_id().empty()) {
    if (absl::Status s = who.Allows(auth::Role::kAdmin, "listing every job's GC tasks");
        !s.ok() || !who.all_groups) {
      return rpc::ToGrpcStatus(s.ok() ? absl::PermissionDeniedError(
                                       "listing every job's GC tasks needs every group (\"*\")")
                                 : s);
    }
  } else if (absl::Status s = SeeJob(who, req->job_id()); !s.ok()) {
    return rpc::ToGrpcStatus(s);
  }
  return rpc::ToGrpcReply(catalog_->ListGcTasks(*req), resp);
}

grpc::Status CatalogServiceImpl::WhoAmI(grpc::ServerContext* context, const v1::WhoAmIRequest*,
                                        v1::WhoAmIResponse* resp) {
  WHO(WhoAmI);
  resp->set_name(who.name);
  resp->set_all_groups(who.all_groups);
  for (const std::string& g : who.groups) resp->add_groups(g);
  resp->set_privacy_level(static_cast<types::v1::PrivacyLevel>(who.privacy_level));
  resp->set_role(auth::RoleName(who.roles));
  resp->set_authenticated(authorizer_->enabled());
  return grpc::Status::OK;
}

#undef WHO

}  // namespace arca::catalog
