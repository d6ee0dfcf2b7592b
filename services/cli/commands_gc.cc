// arca gc run|preview|status and arca sched resolve|cache.

#include "services/cli/runner.h"

namespace arca::cli {

absl::Status Runner::SchedResolve() {
  scheduling::v1::JobDefinition d;
  if (!options_.jar_url.empty()) {
    d.mutable_artifact()->set_job_jar_url(options_.jar_url);
  } else if (!options_.artifact_id.empty()) {
    d.mutable_artifact()->set_artifact_id(options_.artifact_id);
  } else if (!options_.name.empty()) {
    d.mutable_artifact()->mutable_name_version()->set_name(options_.name);
    d.mutable_artifact()->mutable_name_version()->set_version(options_.version);
  }
  RETURN_IF_ERROR(ParsePairs("labels", options_.labels, d.mutable_labels()));
  d.set_machine_definition(options_.machine_definition);
  d.set_size_attribute(options_.size_attribute);
  d.set_cluster(options_.cluster);
  ASSIGN_OR_RETURN(scheduling::v1::SchedulingConstraints c, Scheduler().Resolve(d));
  if (options_.json) {
    Emit(c);
    return absl::OkStatus();
  }
  if (!c.artifact_id().empty()) {
    out_ << "artifact: " << c.artifact_id() << " (revision " << c.artifact_revision() << ")\n";
  }
  if (!c.machine_definition().empty()) out_ << "machine:  " << c.machine_definition() << "\n";
  if (!c.size_attribute().empty()) out_ << "size:     " << c.size_attribute() << "\n";
  Table t({"KEY", "VALUE", "SOURCE", "FROM", "OVERRODE"});
  for (const auto& a : c.attributes()) {
    t.Add({a.key(), a.value(), a.source(), a.source_key(),
           a.overrode() ? absl::StrCat("tag value \"", a.overridden_value(), "\"") : ""});
  }
  t.Print(out_);
  for (const std::string& w : c.warnings()) out_ << "warning: " << w << "\n";
  return absl::OkStatus();
}

absl::Status Runner::GcRun() {
  ASSIGN_OR_RETURN(retention::v1::RunCleanupResponse r, Gc().RunCleanup(retention::v1::RunCleanupRequest()));
  if (options_.json) {
    Emit(r);
    return absl::OkStatus();
  }
  out_ << "removed " << r.removed_size() << " file(s), " << r.bytes_removed() << " bytes; "
       << r.blobs_deleted() << " blob(s) deleted; " << r.packs_compacted()
       << " pack(s) compacted, " << r.packs_deleted() << " deleted; " << r.errors()
       << " error(s)\n";
  if (r.removed_size() > 0) {
    Table t({"JOB", "PATH", "SIZE", "REASON"});
    for (const auto& f : r.removed()) {
      t.Add({f.job_id(), f.path(), Size(f.size()), f.reason()});
    }
    t.Print(out_);
  }
  return absl::OkStatus();
}

absl::Status Runner::GcPreview(const std::vector<std::string>& rest) {
  retention::v1::PreviewCleanupRequest request;
  if (!rest.empty()) request.set_job_id(rest[0]);
  request.set_limit(std::min(options_.limit, 100000));
  ASSIGN_OR_RETURN(retention::v1::PreviewCleanupResponse r, Gc().PreviewCleanup(request));
  if (options_.json) {
    Emit(r);
    return absl::OkStatus();
  }
  Table t({"JOB", "PATH", "SIZE", "ACTION", "WHY", "EXPIRES"});
  for (const auto& e : r.entries()) {
    t.Add({e.job_id(), e.path(), Size(e.size()), e.would_delete() ? "delete" : "keep",
           e.reason(), When(e.expires_at())});
  }
  t.Print(out_);
  if (r.packs_size() > 0) {
    out_ << "\npacks the next sweep compacts (their live blobs rewritten to a new pack):\n";
    Table packs({"PACK", "SIZE", "LIVE BLOBS", "LIVE BYTES", "DEAD BYTES"});
    for (const auto& p : r.packs()) {
      packs.Add({p.name(), absl::StrCat(p.size()), absl::StrCat(p.live_blobs(), "/", p.blobs()),
                 absl::StrCat(p.live_bytes()), absl::StrCat(p.dead_bytes())});
    }
    packs.Print(out_);
  }
  return absl::OkStatus();
}

absl::Status Runner::GcStatus(const std::string& job_id) {
  retention::v1::GcStatusRequest request;
  request.set_job_id(job_id);
  ASSIGN_OR_RETURN(retention::v1::GcStatusResponse r, Gc().GcStatus(request));
  if (options_.json) {
    Emit(r);
    return absl::OkStatus();
  }
  out_ << "job:             " << r.job_id() << "\n"
       << "pending tasks:   " << r.pending_tasks() << "\n"
       << "finalizers:      " << (r.finalizers().empty() ? "-" : absl::StrJoin(r.finalizers(), ", "))
       << "\n"
       << "files available: " << r.files_available() << "\n"
       << "files deleted:   " << r.files_deleted() << "\n";
  if (!r.last_error().empty()) out_ << "last error:      " << r.last_error() << "\n";
  return absl::OkStatus();
}

absl::Status Runner::SchedCache() {
  scheduling::v1::ListArtifactsToCacheRequest r;
  r.set_cluster(options_.cluster);
  ASSIGN_OR_RETURN(scheduling::v1::ListArtifactsToCacheResponse resp, Scheduler().ListArtifactsToCache(r));
  if (options_.json) {
    Emit(nlohmann::json(std::vector<std::string>(resp.artifact_ids().begin(), resp.artifact_ids().end())));
  } else {
    for (const std::string& id : resp.artifact_ids()) out_ << id << "\n";
  }
  return absl::OkStatus();
}

}  // namespace arca::cli
