// arca collect, ls, get and run: files to and from the collector.

#include <algorithm>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "common/gc/policy.h"
#include "common/paths.h"
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
  // GLOB[:LEVEL[:STRATEGY]], e.g. "*.tmp::on_job_completion".
  for (const std::string& spec : options_.patterns) {
    collector::v1::OutputPattern* p = m.add_patterns();
    std::vector<std::string> parts = absl::StrSplit(spec, absl::MaxSplits(':', 2));
    p->set_glob(parts[0]);
    if (parts.size() > 2) {
      ASSIGN_OR_RETURN(types::v1::GcStrategy g, gc::ParseStrategy("--pattern strategy", parts[2]));
      p->set_gc_strategy(g);
    }
    const std::string level =
        parts.size() > 1 && !parts[1].empty() ? parts[1] : "moderately_sensitive";
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
    Emit(r);
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
  ASSIGN_OR_RETURN(FolderScan scan, ScanFolder(rest[0], options_.include_hidden));
  ASSIGN_OR_RETURN(collector::v1::UploadManifest manifest, Manifest(options_.job));
  auto progress = Progressing("collect", Bytes(scan), scan.files.size());
  ASSIGN_OR_RETURN(collector::v1::UploadResponse uploaded,
                   UploadFolder(Collector(), manifest, scan, {}, TransferTimeout(), progress.get()));
  progress->Done();
  PrintUpload(uploaded);
  return absl::OkStatus();
}

absl::Status Runner::List(const std::vector<std::string>& rest) {
  v1::ListFilesRequest request;
  request.set_job_id(rest[0]);
  request.set_page_size(1000);
  std::vector<v1::ArtifactFile> files;
  RETURN_IF_ERROR(Catalog().ForEachFile(request, [&](const v1::ArtifactFile& f) {
    files.push_back(f);
    return absl::OkStatus();
  }));
  if (options_.json) {
    nlohmann::json all = nlohmann::json::array();
    for (const auto& f : files) all.push_back(ToJson(f));
    Emit(all);
    return absl::OkStatus();
  }
  Table t({"PATH", "SIZE", "PRIVACY", "SHA256", "EXPIRES"});
  Table logs({"LOG", "SIZE"});
  bool any_log = false;
  for (const v1::ArtifactFile& f : files) {
    if (IsJobLog(f.path())) {
      logs.Add({f.path(), Size(f.size())});
      any_log = true;
      continue;
    }
    t.Add({f.path(), Size(f.size()),
           Word(f.privacy_level()),
           Digest(f.sha256()), When(f.expires_at())});
  }
  t.Print(out_);
  if (any_log) {
    out_ << "\n";
    logs.Print(out_);
  }
  return absl::OkStatus();
}

absl::Status Runner::Get(const std::vector<std::string>& rest) {
  if (!options_.dir.empty()) {
    if (rest.size() > 1) {
      return absl::InvalidArgumentError("usage: arca get JOB_ID PATH [DEST], or arca get JOB_ID -D DIR");
    }
    return GetTree(rest[0]);
  }
  if (rest.size() < 2) {
    return absl::InvalidArgumentError(
        "usage: arca get JOB_ID PATH [DEST] (DEST - for standard output), or arca get JOB_ID -D DIR "
        "[--pattern GLOB]...");
  }
  // "-": standard output, written as it comes, checked at the end.
  const bool to_stdout = rest.size() > 2 && rest[2] == "-";
  const std::string out = to_stdout ? "/dev/stdout"
                          : rest.size() > 2 ? rest[2]
                                            : rest[1].substr(rest[1].rfind('/') + 1);
  int64_t size = 0;  // the total the display shows, asked only for it
  if (ShowsProgress()) {
    v1::GetFileRequest file;
    file.set_job_id(rest[0]);
    file.set_path(rest[1]);
    if (auto f = Catalog().GetFile(file); f.ok()) size = f->size();
  }
  auto progress = Progressing("get", size, 1);
  RETURN_IF_ERROR(DownloadFile(Collector(), rest[0], rest[1], out, TransferTimeout(), progress.get()));
  progress->FileDone();
  progress->Done();
  if (!to_stdout) {
    Say(absl::StrCat("wrote ", out, "\n"), {{"jobId", rest[0]}, {"path", rest[1]}, {"wrote", out}});
  }
  return absl::OkStatus();
}

absl::Status Runner::GetTree(const std::string& job_id) {
  v1::ListFilesRequest request;
  request.set_job_id(job_id);
  request.set_page_size(1000);
  std::vector<v1::ArtifactFile> files;
  RETURN_IF_ERROR(Catalog().ForEachFile(request, [&](const v1::ArtifactFile& f) {
    if (f.state() != types::v1::FILE_STATE_AVAILABLE) return absl::OkStatus();
    if (InTreeDownload(f.path(), "", options_.get_patterns)) files.push_back(f);
    return absl::OkStatus();
  }));
  int64_t bytes = 0;
  for (const v1::ArtifactFile& f : files) bytes += f.size();
  auto progress = Progressing("get", bytes, files.size());
  for (const v1::ArtifactFile& f : files) {
    // Catalog paths are relative and never climb; checked again here, as
    // they become local paths.
    const std::filesystem::path relative(f.path());
    if (relative.is_absolute() || absl::StrContains(absl::StrCat("/", f.path(), "/"), "/../")) {
      return absl::DataLossError(absl::StrCat("the catalog lists a path that climbs: ", f.path()));
    }
    const std::filesystem::path dest = std::filesystem::path(options_.dir) / relative;
    std::error_code ec;
    std::filesystem::create_directories(dest.parent_path(), ec);
    if (ec) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot make ", dest.parent_path().string(), ": ", ec.message()));
    }
    RETURN_IF_ERROR(DownloadFile(Collector(), job_id, f.path(), dest.string(), TransferTimeout(),
                                 progress.get()));
    progress->FileDone();
  }
  progress->Done();
  if (options_.json) {
    Emit(nlohmann::json{{"jobId", job_id}, {"dir", options_.dir}, {"files", files.size()}, {"bytes", bytes}});
  } else {
    out_ << "wrote " << files.size() << " file(s), " << Size(bytes) << " into " << options_.dir << "\n";
  }
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

namespace {

// argv as a shell would take it back: words of safe characters as they
// are, the rest in single quotes.
std::string ShellQuoted(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& arg : argv) {
    if (!out.empty()) out += ' ';
    const bool plain = !arg.empty() && std::all_of(arg.begin(), arg.end(), [](char c) {
      return absl::ascii_isalnum(c) || absl::StrContains("_@%+=:,./-", c);
    });
    out += plain ? arg : absl::StrCat("'", absl::StrReplaceAll(arg, {{"'", "'\\''"}}), "'");
  }
  return out;
}

}  // namespace

absl::Status Runner::RunJob(const std::vector<std::string>& command) {
  v1::CreateJobRequest create;
  create.mutable_job()->set_command(ShellQuoted(command));
  create.mutable_job()->set_id(options_.job);
  create.mutable_job()->set_group(options_.group.empty() ? "default" : options_.group);
  create.mutable_job()->set_name(options_.name.empty() ? command[0] : options_.name);
  if (!options_.gc_strategy.empty()) {
    ASSIGN_OR_RETURN(types::v1::GcStrategy g, gc::ParseStrategy("--gc_strategy", options_.gc_strategy));
    create.mutable_job()->set_gc_strategy(g);
  }
  create.mutable_job()->set_force_finalizer_removal(options_.force_finalizer_removal);
  // A mistake in the patterns stops here, before any job or command runs.
  ASSIGN_OR_RETURN(collector::v1::UploadManifest manifest, Manifest(""));
  ASSIGN_OR_RETURN(v1::CreateJobResponse created, Catalog().CreateJob(create));
  const std::string job_id = created.job().id();
  // As OpenSAFELY's job-runner skips a job that exists: the same id and
  // command again, once finished, is done already (another command under
  // the same id was refused above as ALREADY_EXISTS).
  if (!created.created() && created.job().has_finished_at()) {
    std::cerr << "arca: job " << job_id << " already done ("
              << Word(created.job().status())
              << "); not run again\n";
    exit_code_ = 0;
    return absl::OkStatus();
  }
  std::cerr << "arca: job " << job_id << (created.created() ? " created" : " attached") << "\n";
  RETURN_IF_ERROR(Step(job_id, "prepare", types::v1::STEP_STATUS_SUCCESS, "", true, true));
  absl::Status started;
  // The output's tail goes into the running step's text, for the web page
  // to show live; the whole log is collected when the command ends.
  bool live = true;
  ASSIGN_OR_RETURN(CommandResult result,
                   RunCommand(
                       command,
                       [&] {
                         started = Step(job_id, "execute", types::v1::STEP_STATUS_RUNNING, "",
                                        true, false);
                       },
                       [&](absl::string_view tail) {
                         if (!live || !IsValidUtf8(tail)) return;
                         live = Step(job_id, "execute", types::v1::STEP_STATUS_RUNNING,
                                     std::string(tail), false, false)
                                    .ok();
                       }));
  if (!started.ok()) std::cerr << "arca: warning: " << started.message() << "\n";
  RETURN_IF_ERROR(Step(job_id, "execute",
                       result.exit_code == 0 ? types::v1::STEP_STATUS_SUCCESS
                                             : types::v1::STEP_STATUS_FAILURE,
                       result.description, false, true));
  RETURN_IF_ERROR(Step(job_id, "collect", types::v1::STEP_STATUS_RUNNING, "", true, false));
  // As PrimeHub does: what is over a limit is skipped with a message, the
  // job's log is kept whatever happens to the outputs, and the job keeps
  // the command's outcome (a collect that fails is a warning).
  const std::vector<ExtraFile> log = {{absl::StrCat(kJobLogPrefix, "job.log"), result.log_path}};
  absl::StatusOr<collector::v1::UploadResponse> uploaded =
      [&]() -> absl::StatusOr<collector::v1::UploadResponse> {
    ASSIGN_OR_RETURN(FolderScan scan, ScanFolder(options_.artifacts, options_.include_hidden));
    manifest.set_job_id(job_id);
    manifest.set_truncate(true);
    auto progress = Progressing("collect", Bytes(scan), scan.files.size() + log.size());
    return UploadFolder(Collector(), manifest, scan, log, TransferTimeout(), progress.get());
  }();
  types::v1::StepStatus collect_status = types::v1::STEP_STATUS_SUCCESS;
  std::string collect_text;
  if (uploaded.ok()) {
    const int user_files = uploaded->files_size() - 1;  // the log is not the user's
    std::cerr << "arca: collected " << user_files << " file(s) from " << options_.artifacts;
    if (uploaded->skipped_size() > 0) std::cerr << ", skipped " << uploaded->skipped_size();
    std::cerr << "\n";
    constexpr int kShown = 20;
    for (int i = 0; i < std::min(kShown, uploaded->skipped_size()); ++i) {
      const collector::v1::SkippedFile& skipped = uploaded->skipped(i);
      std::cerr << "arca: skipped " << skipped.path() << ": " << skipped.reason()
                << (skipped.detail().empty() ? "" : " (" + skipped.detail() + ")") << "\n";
    }
    if (uploaded->skipped_size() > kShown) {
      std::cerr << "arca: and " << uploaded->skipped_size() - kShown << " more skipped\n";
    }
    collect_text = absl::StrCat(user_files, " files, ", uploaded->skipped_size(), " skipped");
    for (const collector::v1::SkippedFile& skipped : uploaded->skipped()) {
      if (absl::StartsWith(skipped.reason(), "over_")) {  // refused by a limit
        collect_status = types::v1::STEP_STATUS_WARNING;
      }
    }
  } else {
    std::cerr << "arca: warning: the artifacts were not collected: " << uploaded.status().message()
              << "\n";
    collect_status = types::v1::STEP_STATUS_WARNING;
    collect_text = absl::StrCat("artifacts not collected: ", uploaded.status().message());
    collector::v1::UploadManifest log_only;
    log_only.set_job_id(job_id);
    absl::Status kept = UploadFolder(Collector(), log_only, FolderScan{}, log, TransferTimeout()).status();
    if (!kept.ok()) {
      std::cerr << "arca: warning: the job's log was not kept either: " << kept.message() << "\n";
      absl::StrAppend(&collect_text, "; log not kept: ", kept.message());
    }
  }
  unlink(result.log_path.c_str());
  Step(job_id, "collect", collect_status, collect_text, false, true).IgnoreError();
  v1::FinishJobRequest finish;
  finish.set_job_id(job_id);
  RETURN_IF_ERROR(Catalog().FinishJob(finish).status());
  exit_code_ = result.exit_code;
  return absl::OkStatus();
}

}  // namespace arca::cli
