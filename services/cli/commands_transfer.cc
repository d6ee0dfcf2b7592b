// arca collect, ls, get and run: files to and from the collector.

#include "services/cli/runner.h"

namespace arca::cli {

absl::StatusOr<collector::v1::UploadManifest> Runner::Manifest(const std::string& job_id) {
  collector::v1::UploadManifest m;
  m.set_job_id(job_id);
  m.set_include_hidden(options_.include_hidden);
  m.set_truncate(options_.truncate);
  if (options_.retention_hours > 0) {
    *m.mutable_retention() = ToProtoDuration(absl::Hours(options_.retention_hours));
  }
  for (const std::string& spec : options_.patterns) {
    collector::v1::OutputPattern* p = m.add_patterns();
    std::vector<std::string> parts = absl::StrSplit(spec, absl::MaxSplits(':', 1));
    p->set_glob(parts[0]);
    const std::string level = parts.size() > 1 ? parts[1] : "moderately_sensitive";
    types::v1::PrivacyLevel l;
    if (!types::v1::PrivacyLevel_Parse(
            absl::StrCat("PRIVACY_LEVEL_", absl::AsciiStrToUpper(level)), &l) ||
        l == types::v1::PRIVACY_LEVEL_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--pattern level must be moderately_sensitive or highly_sensitive, got \"", level,
          "\""));
    }
    p->set_privacy_level(l);
  }
  return m;
}

void Runner::PrintUpload(const collector::v1::UploadResponse& r) {
  if (options_.json) {
    PrintJson(r, out_);
    return;
  }
  out_ << "collected " << r.files_size() << " file(s), " << r.total_bytes() << " bytes into "
       << r.job_id() << "\n";
  if (r.skipped_size() > 0) {
    Table t({"SKIPPED", "REASON", "DETAIL"});
    for (const auto& s : r.skipped()) t.Add({s.path(), s.reason(), s.detail()});
    t.Print(out_);
  }
}

absl::Status Runner::Collect(const std::vector<std::string>& rest) {
  RETURN_IF_ERROR(Want(rest, 1, "collect DIR --job JOB_ID [--pattern GLOB[:LEVEL]]..."));
  if (options_.job.empty()) return absl::InvalidArgumentError("usage: arca collect DIR --job JOB_ID");
  ASSIGN_OR_RETURN(FolderScan scan, ScanFolder(rest[0], options_.include_hidden));
  ASSIGN_OR_RETURN(collector::v1::UploadManifest manifest, Manifest(options_.job));
  ASSIGN_OR_RETURN(collector::v1::UploadResponse uploaded,
                   UploadFolder(Collector(), manifest, scan, {}, TransferTimeout()));
  PrintUpload(uploaded);
  return absl::OkStatus();
}

absl::Status Runner::List(const std::vector<std::string>& rest) {
  RETURN_IF_ERROR(Want(rest, 1, "ls JOB_ID"));
  v1::ListFilesRequest request;
  request.set_job_id(rest[0]);
  request.set_page_size(1000);
  std::vector<v1::ArtifactFile> files;
  RETURN_IF_ERROR(Catalog().ForEachFile(request, [&](const v1::ArtifactFile& f) {
    files.push_back(f);
    return absl::OkStatus();
  }));
  if (options_.json) {
    v1::ListFilesResponse all;
    for (auto& f : files) *all.add_files() = f;
    PrintJson(all, out_);
    return absl::OkStatus();
  }
  Table t({"PATH", "SIZE", "PRIVACY", "SHA256", "EXPIRES"});
  Table logs({"LOG", "SIZE"});
  bool any_log = false;
  for (const v1::ArtifactFile& f : files) {
    if (absl::StartsWith(f.path(), ".arca/logs/")) {
      logs.Add({f.path(), absl::StrCat(f.size())});
      any_log = true;
      continue;
    }
    t.Add({f.path(), absl::StrCat(f.size()),
           Lower(types::v1::PrivacyLevel_Name(
                     f.privacy_level() == types::v1::PRIVACY_LEVEL_UNSPECIFIED
                         ? types::v1::PRIVACY_LEVEL_MODERATELY_SENSITIVE
                         : f.privacy_level()),
                 "PRIVACY_LEVEL_"),
           f.sha256().substr(0, 12), When(f.expires_at())});
  }
  t.Print(out_);
  if (any_log) {
    out_ << "\n";
    logs.Print(out_);
  }
  return absl::OkStatus();
}

absl::Status Runner::Get(const std::vector<std::string>& rest) {
  RETURN_IF_ERROR(Want(rest, 2, "get JOB_ID PATH [--output FILE]"));
  std::string out = options_.output;
  if (out.empty()) out = rest[1].substr(rest[1].rfind('/') + 1);
  RETURN_IF_ERROR(DownloadFile(Collector(), rest[0], rest[1], out, TransferTimeout()));
  out_ << "wrote " << out << "\n";
  return absl::OkStatus();
}

absl::Status Runner::Step(const std::string& job_id, const std::string& name, types::v1::StepStatus status,
                  const std::string& text, bool start, bool end) {
  v1::UpdateStepRequest request;
  request.set_job_id(job_id);
  request.mutable_step()->set_name(name);
  request.mutable_step()->set_status(status);
  request.mutable_step()->set_text(text);
  if (start) *request.mutable_step()->mutable_start() = ToProtoTime(absl::Now());
  if (end) *request.mutable_step()->mutable_end() = ToProtoTime(absl::Now());
  return Catalog().UpdateStep(request).status();
}

absl::Status Runner::RunJob(const std::vector<std::string>& command) {
  if (command.empty()) return absl::InvalidArgumentError("usage: arca run [flags] -- CMD...");
  v1::CreateJobRequest create;
  create.mutable_job()->set_id(options_.job);
  create.mutable_job()->set_group(options_.group.empty() ? "default" : options_.group);
  create.mutable_job()->set_name(options_.name.empty() ? command[0] : options_.name);
  if (!options_.gc_strategy.empty()) {
    types::v1::GcStrategy g;
    if (!types::v1::GcStrategy_Parse(
            absl::StrCat("GC_STRATEGY_", absl::AsciiStrToUpper(options_.gc_strategy)), &g)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--gc_strategy must be on_job_completion, on_job_success, on_job_failure, "
          "on_job_deletion or never, got \"", options_.gc_strategy, "\""));
    }
    create.mutable_job()->set_gc_strategy(g);
  }
  ASSIGN_OR_RETURN(v1::CreateJobResponse created, Catalog().CreateJob(create));
  const std::string job_id = created.job().id();
  std::cerr << "arca: job " << job_id << (created.created() ? " created" : " attached") << "\n";
  RETURN_IF_ERROR(Step(job_id, "prepare", types::v1::STEP_STATUS_SUCCESS, "", true, true));
  absl::Status started;
  ASSIGN_OR_RETURN(CommandResult result, RunCommand(command, [&] {
                     started = Step(job_id, "execute", types::v1::STEP_STATUS_RUNNING, "",
                                    true, false);
                   }));
  if (!started.ok()) std::cerr << "arca: warning: " << started.message() << "\n";
  RETURN_IF_ERROR(Step(job_id, "execute",
                       result.exit_code == 0 ? types::v1::STEP_STATUS_SUCCESS
                                             : types::v1::STEP_STATUS_FAILURE,
                       result.description, false, true));
  RETURN_IF_ERROR(Step(job_id, "collect", types::v1::STEP_STATUS_RUNNING, "", true, false));
  absl::Status collected = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(FolderScan scan, ScanFolder(options_.artifacts, options_.include_hidden));
    ASSIGN_OR_RETURN(collector::v1::UploadManifest manifest, Manifest(job_id));
    auto uploaded = UploadFolder(Collector(), manifest, scan,
                                 {{".arca/logs/job.log", result.log_path}}, TransferTimeout());
    RETURN_IF_ERROR(uploaded.status());
    const int user_files = uploaded->files_size() - 1;  // the log is not the user's
    std::cerr << "arca: collected " << user_files << " file(s) from " << options_.artifacts
              << (uploaded->skipped_size() > 0
                      ? absl::StrCat(", skipped ", uploaded->skipped_size())
                      : std::string())
              << "\n";
    return Step(job_id, "collect", types::v1::STEP_STATUS_SUCCESS,
                absl::StrCat(user_files, " files, ", uploaded->skipped_size(), " skipped"),
                false, true);
  }();
  unlink(result.log_path.c_str());
  if (!collected.ok()) {
    Step(job_id, "collect", types::v1::STEP_STATUS_FAILURE, std::string(collected.message()),
         false, true)
        .IgnoreError();
  }
  v1::FinishJobRequest finish;
  finish.set_job_id(job_id);
  RETURN_IF_ERROR(Catalog().FinishJob(finish).status());
  RETURN_IF_ERROR(collected);
  exit_code_ = result.exit_code;
  return absl::OkStatus();
}

}  // namespace arca::cli
