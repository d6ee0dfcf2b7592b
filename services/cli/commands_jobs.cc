// arca jobs list|show|delete and arca catalog checkpoint.

#include "services/cli/runner.h"

namespace arca::cli {

absl::Status Runner::CatalogCheckpoint(const std::string& dir) {
  v1::CreateCheckpointRequest request;
  request.set_dir(dir);
  request.set_to_store(options_.to_store);
  ASSIGN_OR_RETURN(v1::CreateCheckpointResponse r, Catalog().CreateCheckpoint(request));
  if (options_.json) {
    Emit(r);
  } else {
    out_ << "checkpoint of the catalog in " << r.dir() << " (up to write " << r.sequence()
         << ")\n";
    if (!r.stored_at().empty()) out_ << "shipped to " << r.stored_at() << "\n";
  }
  return absl::OkStatus();
}

absl::Status Runner::JobsList() {
  v1::ListJobsRequest request;
  request.set_group(options_.group);
  if (!options_.status.empty()) {
    ASSIGN_OR_RETURN(types::v1::JobStatus s, ParseStatus(options_.status));
    request.add_statuses(s);
  }
  request.set_page_size(std::min(options_.limit, 1000));
  ASSIGN_OR_RETURN(v1::ListJobsResponse response, Catalog().ListJobs(request));
  if (options_.json) {
    Emit(ToJson(response.jobs()));
    return absl::OkStatus();
  }
  Table t({"JOB ID", "GROUP", "NAME", "STATUS", "CREATED", "FINISHED"});
  for (const v1::Job& j : response.jobs()) {
    std::string status = Word(j.status());
    if (j.has_deletion_requested_at()) status += " (deleting)";
    t.Add({j.id(), j.group(), j.name(), status, When(j.created_at()), When(j.finished_at())});
  }
  t.Print(out_);
  return absl::OkStatus();
}

absl::Status Runner::JobsShow(const std::vector<std::string>& rest) {
  v1::GetJobRequest request;
  request.set_id(rest[0]);
  ASSIGN_OR_RETURN(v1::Job job, Catalog().GetJob(request));
  v1::ListFilesRequest files_request;
  files_request.set_job_id(job.id());
  files_request.set_page_size(1000);
  ASSIGN_OR_RETURN(v1::ListFilesResponse files, Catalog().ListFiles(files_request));
  if (options_.json) {
    nlohmann::json out = ToJson(job);
    out["files"] = ToJson(files.files());
    Emit(out);
    return absl::OkStatus();
  }
  out_ << "id:        " << job.id() << "\n"
       << "group:     " << job.group() << "\n"
       << "name:      " << job.name() << "\n"
       << "status:    " << Word(job.status()) << "\n"
       << "created:   " << When(job.created_at()) << "\n"
       << "finished:  " << When(job.finished_at()) << "\n";
  if (!job.compendium_id().empty()) out_ << "artifact:  " << job.compendium_id() << "\n";
  if (!job.finalizers().empty()) {
    out_ << "finalizers: " << absl::StrJoin(job.finalizers(), ", ") << "\n";
  }
  for (const v1::Condition& c : job.conditions()) {
    out_ << "condition: " << c.type() << ": " << c.message() << "\n";
  }
  out_ << "\n";
  Table steps({"STEP", "STATUS", "START", "END", "TEXT"});
  for (const v1::Step& s : job.steps()) {
    steps.Add({s.name(), Word(s.status()),
               When(s.start()), When(s.end()), s.text()});
  }
  steps.Print(out_);
  out_ << "\n";
  Table t({"PATH", "SIZE", "SHA256", "EXPIRES"});
  for (const v1::ArtifactFile& f : files.files()) {
    t.Add({f.path(), Size(f.size()), Digest(f.sha256()), When(f.expires_at())});
  }
  t.Print(out_);
  return absl::OkStatus();
}

absl::Status Runner::JobsDelete(const std::vector<std::string>& rest) {
  v1::DeleteJobRequest request;
  request.set_id(rest[0]);
  request.set_force(options_.force);
  ASSIGN_OR_RETURN(v1::DeleteJobResponse response, Catalog().DeleteJob(request));
  if (options_.json) {
    Emit(response);
  } else if (response.purged()) {
    out_ << "deleted " << rest[0]
         << (options_.force ? " (forced: any remaining files expire by TTL)" : "") << "\n";
  } else {
    out_ << "deletion of " << rest[0] << " requested; waiting for "
         << absl::StrJoin(response.pending_finalizers(), ", ") << "\n";
  }
  return absl::OkStatus();
}

}  // namespace arca::cli
