#include "services/cli/cli.h"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/rpc/status.h"
#include "common/rpc/health_client.h"
#include "common/page_token.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "proto/catalog/v1/catalog.grpc.pb.h"
#include "proto/collector/v1/collector.grpc.pb.h"
#include "proto/retention/v1/retention.grpc.pb.h"
#include "proto/scheduling/v1/scheduling.grpc.pb.h"
#include "services/cli/config.h"
#include "services/cli/run_command.h"
#include "services/cli/transfer.h"

namespace arca::cli {
namespace {

namespace v1 = ::arca::catalog::v1;

// Column-aligned text for people.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void Print(std::ostream& out) const {
    std::vector<size_t> width(rows_[0].size(), 0);
    for (const auto& row : rows_) {
      for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    }
    for (const auto& row : rows_) {
      std::string line;
      for (size_t i = 0; i < row.size(); ++i) {
        line += row[i];
        if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
      }
      out << line << "\n";
    }
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

void PrintJson(const google::protobuf::Message& message, std::ostream& out) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  out << (status.ok() ? json : "{\"error\": \"cannot print as JSON\"}\n");
}

std::string When(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "-";
  return FormatRfc3339(absl::FromUnixSeconds(t.seconds()));
}

std::string Lower(absl::string_view enum_name, absl::string_view prefix) {
  if (absl::StartsWith(enum_name, prefix)) enum_name.remove_prefix(prefix.size());
  return absl::AsciiStrToLower(enum_name);
}

std::string StatusName(types::v1::JobStatus s) {
  return Lower(types::v1::JobStatus_Name(s), "JOB_STATUS_");
}

absl::StatusOr<types::v1::JobStatus> ParseStatus(const std::string& text) {
  types::v1::JobStatus s;
  if (!types::v1::JobStatus_Parse(absl::StrCat("JOB_STATUS_", absl::AsciiStrToUpper(text)), &s) ||
      s == types::v1::JOB_STATUS_UNSPECIFIED) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--status must be queued, running, success or failure, got \"", text, "\""));
  }
  return s;
}

absl::Status ParsePairs(absl::string_view flag, const std::vector<std::string>& pairs,
                        google::protobuf::Map<std::string, std::string>* out) {
  for (const std::string& pair : pairs) {
    std::vector<std::string> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
    if (kv.size() != 2 || kv[0].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, " takes key=value, got \"", pair, "\""));
    }
    (*out)[kv[0]] = kv[1];
  }
  return absl::OkStatus();
}

class Runner {
 public:
  Runner(const CliOptions& options, std::ostream& out) : options_(options), out_(out) {}

  absl::Status Run(const std::vector<std::string>& args) {
    if (args.empty() || args[0] == "help") {
      out_ << Usage();
      return absl::OkStatus();
    }
    const std::string& group = args[0];
    const std::string command = args.size() > 1 ? args[1] : "";
    std::vector<std::string> rest(args.begin() + std::min<size_t>(2, args.size()), args.end());
    if (group == "context") {
      if (command == "list" && rest.empty()) return ContextList();
      if (command == "use" && rest.size() == 1) return ContextUse(rest[0]);
    }
    if (group == "logout" && args.size() <= 2) return Logout(command);
    // Everything else calls the services.
    RETURN_IF_ERROR(auth::SecureChannel(options_.catalog, options_.security, {}).status());
    if (group == "login" && args.size() <= 2) return Login(command.empty() ? "default" : command);
    if (group == "whoami" && args.size() == 1) return WhoAmI();
    if (group == "health") return Health();
    if (group == "run") return RunJob(std::vector<std::string>(args.begin() + 1, args.end()));
    if (group == "collect") return Collect(std::vector<std::string>(args.begin() + 1, args.end()));
    if (group == "ls") return List(std::vector<std::string>(args.begin() + 1, args.end()));
    if (group == "get") return Get(std::vector<std::string>(args.begin() + 1, args.end()));
    if (group == "artifact") {
      if (command == "register") return ArtifactRegister(rest);
      if (command == "get") return ArtifactGet(rest);
      if (command == "search") return ArtifactSearch(rest);
      if (command == "names") return ArtifactNames();
      if (command == "delete") return ArtifactDelete(rest);
    }
    if (group == "catalog" && command == "checkpoint" && rest.size() == 1) {
      return CatalogCheckpoint(rest[0]);
    }
    if (group == "gc") {
      if (command == "run" && rest.empty()) return GcRun();
      if (command == "preview" && rest.size() <= 1) return GcPreview(rest);
      if (command == "status" && rest.size() == 1) return GcStatus(rest[0]);
    }
    if (group == "sched") {
      if (command == "resolve" && rest.empty()) return SchedResolve();
      if (command == "cache" && rest.empty()) return SchedCache();
    }
    if (group == "jobs") {
      if (command == "list") return JobsList();
      if (command == "show") return JobsShow(rest);
      if (command == "delete") return JobsDelete(rest);
    }
    return absl::InvalidArgumentError(absl::StrCat("unknown command \"", absl::StrJoin(args, " "),
                                                   "\"; see `arca help`"));
  }

 private:
  // With the token and TLS files; Run checked that they can be read.
  std::shared_ptr<grpc::Channel> Channel(const std::string& target) {
    return *auth::SecureChannel(target, options_.security, grpc::ChannelArguments());
  }
  v1::Catalog::Stub& Catalog() {
    if (catalog_ == nullptr) catalog_ = v1::Catalog::NewStub(Channel(options_.catalog));
    return *catalog_;
  }
  // A fresh context with the deadline; wait_for_ready is off so a down
  // service fails fast with UNAVAILABLE.
  std::unique_ptr<grpc::ClientContext> Context() {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(options_.timeout_seconds)));
    return c;
  }
  // Adds the address to errors that mean the service could not be reached.
  absl::Status Check(const grpc::Status& s, const std::string& target) {
    absl::Status status = rpc::FromGrpcStatus(s);
    if (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status)) {
      return absl::Status(status.code(),
                          absl::StrCat("cannot reach ", target, ": ", status.message()));
    }
    return status;
  }
  absl::Status CheckCatalog(const grpc::Status& s) { return Check(s, options_.catalog); }
  collector::v1::Collector::Stub& Collector() {
    if (collector_ == nullptr) {
      collector_ = collector::v1::Collector::NewStub(Channel(options_.collector));
    }
    return *collector_;
  }
  // Transfers get more time than a single call: an hour per run.
  absl::Duration TransferTimeout() const {
    return std::max(absl::Seconds(options_.timeout_seconds), absl::Hours(1));
  }

  absl::StatusOr<collector::v1::UploadManifest> Manifest(const std::string& job_id) {
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

  void PrintUpload(const collector::v1::UploadResponse& r) {
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

  absl::Status Collect(const std::vector<std::string>& rest) {
    RETURN_IF_ERROR(Want(rest, 1, "collect DIR --job JOB_ID [--pattern GLOB[:LEVEL]]..."));
    if (options_.job.empty()) return absl::InvalidArgumentError("usage: arca collect DIR --job JOB_ID");
    ASSIGN_OR_RETURN(FolderScan scan, ScanFolder(rest[0], options_.include_hidden));
    ASSIGN_OR_RETURN(collector::v1::UploadManifest manifest, Manifest(options_.job));
    auto uploaded = UploadFolder(Collector(), manifest, scan, {}, TransferTimeout());
    if (!uploaded.ok()) return Check(rpc::ToGrpcStatus(uploaded.status()), options_.collector);
    PrintUpload(*uploaded);
    return absl::OkStatus();
  }

  absl::Status List(const std::vector<std::string>& rest) {
    RETURN_IF_ERROR(Want(rest, 1, "ls JOB_ID"));
    v1::ListFilesRequest request;
    request.set_job_id(rest[0]);
    request.set_page_size(1000);
    std::vector<v1::ArtifactFile> files;
    RETURN_IF_ERROR(ForEachPage<v1::ListFilesResponse>(
        request,
        [&](const v1::ListFilesRequest& r, v1::ListFilesResponse* page) {
          return CheckCatalog(Catalog().ListFiles(Context().get(), r, page));
        },
        [&](const v1::ListFilesResponse& page) {
          files.insert(files.end(), page.files().begin(), page.files().end());
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

  absl::Status Get(const std::vector<std::string>& rest) {
    RETURN_IF_ERROR(Want(rest, 2, "get JOB_ID PATH [--output FILE]"));
    std::string out = options_.output;
    if (out.empty()) out = rest[1].substr(rest[1].rfind('/') + 1);
    absl::Status s = DownloadFile(Collector(), rest[0], rest[1], out, TransferTimeout());
    if (!s.ok()) return Check(rpc::ToGrpcStatus(s), options_.collector);
    out_ << "wrote " << out << "\n";
    return absl::OkStatus();
  }

  scheduling::v1::SchedulerAttribute::Stub& Scheduler() {
    if (scheduler_ == nullptr) {
      scheduler_ = scheduling::v1::SchedulerAttribute::NewStub(Channel(options_.scheduler_attribute));
    }
    return *scheduler_;
  }

  absl::Status SchedResolve() {
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
    scheduling::v1::SchedulingConstraints c;
    RETURN_IF_ERROR(Check(Scheduler().Resolve(Context().get(), d, &c), options_.scheduler_attribute));
    if (options_.json) {
      PrintJson(c, out_);
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

  retention::v1::RetentionGc::Stub& Gc() {
    if (gc_ == nullptr) gc_ = retention::v1::RetentionGc::NewStub(Channel(options_.retention_gc));
    return *gc_;
  }

  absl::Status CatalogCheckpoint(const std::string& dir) {
    v1::CreateCheckpointRequest request;
    request.set_dir(dir);
    v1::CreateCheckpointResponse r;
    RETURN_IF_ERROR(CheckCatalog(Catalog().CreateCheckpoint(Context().get(), request, &r)));
    if (options_.json) {
      PrintJson(r, out_);
    } else {
      out_ << "checkpoint of the catalog in " << r.dir() << " (up to write " << r.sequence()
           << ")\n";
    }
    return absl::OkStatus();
  }

  absl::Status GcRun() {
    retention::v1::RunCleanupResponse r;
    RETURN_IF_ERROR(Check(Gc().RunCleanup(Context().get(), retention::v1::RunCleanupRequest(), &r),
                          options_.retention_gc));
    if (options_.json) {
      PrintJson(r, out_);
      return absl::OkStatus();
    }
    out_ << "removed " << r.removed_size() << " file(s), " << r.bytes_removed() << " bytes; "
         << r.blobs_deleted() << " blob(s) deleted; " << r.errors() << " error(s)\n";
    if (r.removed_size() > 0) {
      Table t({"JOB", "PATH", "SIZE", "REASON"});
      for (const auto& f : r.removed()) {
        t.Add({f.job_id(), f.path(), absl::StrCat(f.size()), f.reason()});
      }
      t.Print(out_);
    }
    return absl::OkStatus();
  }

  absl::Status GcPreview(const std::vector<std::string>& rest) {
    retention::v1::PreviewCleanupRequest request;
    if (!rest.empty()) request.set_job_id(rest[0]);
    request.set_limit(std::min(options_.limit, 100000));
    retention::v1::PreviewCleanupResponse r;
    RETURN_IF_ERROR(Check(Gc().PreviewCleanup(Context().get(), request, &r), options_.retention_gc));
    if (options_.json) {
      PrintJson(r, out_);
      return absl::OkStatus();
    }
    Table t({"JOB", "PATH", "SIZE", "ACTION", "WHY", "EXPIRES"});
    for (const auto& e : r.entries()) {
      t.Add({e.job_id(), e.path(), absl::StrCat(e.size()), e.would_delete() ? "delete" : "keep",
             e.reason(), When(e.expires_at())});
    }
    t.Print(out_);
    return absl::OkStatus();
  }

  absl::Status GcStatus(const std::string& job_id) {
    retention::v1::GcStatusRequest request;
    request.set_job_id(job_id);
    retention::v1::GcStatusResponse r;
    RETURN_IF_ERROR(Check(Gc().GcStatus(Context().get(), request, &r), options_.retention_gc));
    if (options_.json) {
      PrintJson(r, out_);
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

  absl::Status SchedCache() {
    scheduling::v1::ListArtifactsToCacheRequest r;
    r.set_cluster(options_.cluster);
    scheduling::v1::ListArtifactsToCacheResponse resp;
    RETURN_IF_ERROR(Check(Scheduler().ListArtifactsToCache(Context().get(), r, &resp),
                          options_.scheduler_attribute));
    if (options_.json) {
      PrintJson(resp, out_);
    } else {
      for (const std::string& id : resp.artifact_ids()) out_ << id << "\n";
    }
    return absl::OkStatus();
  }

  absl::Status Step(const std::string& job_id, const std::string& name, types::v1::StepStatus status,
                    const std::string& text, bool start, bool end) {
    v1::UpdateStepRequest request;
    request.set_job_id(job_id);
    request.mutable_step()->set_name(name);
    request.mutable_step()->set_status(status);
    request.mutable_step()->set_text(text);
    if (start) *request.mutable_step()->mutable_start() = ToProtoTime(absl::Now());
    if (end) *request.mutable_step()->mutable_end() = ToProtoTime(absl::Now());
    v1::Job job;
    return CheckCatalog(Catalog().UpdateStep(Context().get(), request, &job));
  }

  // PrimeHub's run-job.sh, durable: create or attach to a job, run the
  // command with its output shown and kept, collect the artifacts folder,
  // finish the job, and exit with the command's code.
  absl::Status RunJob(const std::vector<std::string>& command) {
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
    v1::CreateJobResponse created;
    RETURN_IF_ERROR(CheckCatalog(Catalog().CreateJob(Context().get(), create, &created)));
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
      if (!uploaded.ok()) return Check(rpc::ToGrpcStatus(uploaded.status()), options_.collector);
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
    v1::Job job;
    RETURN_IF_ERROR(CheckCatalog(Catalog().FinishJob(Context().get(), finish, &job)));
    RETURN_IF_ERROR(collected);
    exit_code_ = result.exit_code;
    return absl::OkStatus();
  }

  absl::Status Want(const std::vector<std::string>& rest, size_t n, const char* usage) {
    if (rest.size() != n) return absl::InvalidArgumentError(absl::StrCat("usage: arca ", usage));
    return absl::OkStatus();
  }

  // The identity the services see for this token or certificate.
  absl::StatusOr<v1::WhoAmIResponse> Who() {
    v1::WhoAmIResponse who;
    RETURN_IF_ERROR(CheckCatalog(Catalog().WhoAmI(Context().get(), v1::WhoAmIRequest(), &who)));
    return who;
  }
  void PrintWho(const v1::WhoAmIResponse& who) {
    if (options_.json) return PrintJson(who, out_);
    if (!who.authenticated()) {
      out_ << "the catalog at " << options_.catalog
           << " checks no tokens: every caller may read and change everything\n";
      return;
    }
    const std::string groups = who.all_groups() ? "* (all)" : absl::StrJoin(who.groups(), ",");
    out_ << "name:   " << who.name() << "\n"
         << "groups: " << (groups.empty() ? "-" : groups) << "\n"
         << "level:  " << Lower(types::v1::PrivacyLevel_Name(who.privacy_level()), "PRIVACY_LEVEL_")
         << "\n"
         << "role:   " << who.role() << "\n";
  }
  absl::Status WhoAmI() {
    ASSIGN_OR_RETURN(v1::WhoAmIResponse who, Who());
    PrintWho(who);
    return absl::OkStatus();
  }

  // Checks the addresses and credentials with WhoAmI, then stores them as
  // context `name` and makes it current. Nothing is stored when the check
  // fails.
  absl::Status Login(const std::string& name) {
    auto who = Who();
    if (absl::IsUnauthenticated(who.status())) {
      return absl::UnauthenticatedError(absl::StrCat(
          who.status().message(),
          "; give the token with --with_token (read from standard input), --token_file or "
          "$ARCA_TOKEN"));
    }
    RETURN_IF_ERROR(who.status());
    ASSIGN_OR_RETURN(Config config, LoadConfig(ConfigFile()));
    cli::Context context;
    context.name = name;
    context.catalog = options_.catalog;
    context.collector = options_.collector;
    context.retention_gc = options_.retention_gc;
    context.scheduler_attribute = options_.scheduler_attribute;
    context.token = options_.security.token;
    context.tls_ca = options_.security.ca;
    context.tls_client_cert = options_.security.cert;
    context.tls_client_key = options_.security.key;
    config.Put(std::move(context));
    config.current = name;
    RETURN_IF_ERROR(SaveConfig(ConfigFile(), config));
    if (options_.json) return PrintJson(*who, out_), absl::OkStatus();
    out_ << "logged in to " << options_.catalog << "; context \"" << name << "\" is current\n";
    PrintWho(*who);
    return absl::OkStatus();
  }

  // Forgets context `name` (default: the current one) and its token.
  absl::Status Logout(std::string name) {
    ASSIGN_OR_RETURN(Config config, LoadConfig(ConfigFile()));
    if (name.empty()) name = config.current;
    if (name.empty()) return absl::FailedPreconditionError("no current context to log out of");
    if (!config.Remove(name)) return NoContext(name);
    RETURN_IF_ERROR(SaveConfig(ConfigFile(), config));
    out_ << "logged out of context \"" << name << "\"\n";
    return absl::OkStatus();
  }

  absl::Status ContextList() {
    ASSIGN_OR_RETURN(Config config, LoadConfig(ConfigFile()));
    Table t({"CURRENT", "NAME", "CATALOG", "TOKEN", "TLS"});
    for (const cli::Context& c : config.contexts) {
      t.Add({c.name == config.current ? "*" : "", c.name, c.catalog, c.token.empty() ? "-" : "yes",
             c.tls_ca.empty() ? "-" : (c.tls_client_cert.empty() ? "yes" : "mTLS")});
    }
    t.Print(out_);
    return absl::OkStatus();
  }

  absl::Status ContextUse(const std::string& name) {
    ASSIGN_OR_RETURN(Config config, LoadConfig(ConfigFile()));
    if (config.Find(name) == nullptr) return NoContext(name);
    config.current = name;
    RETURN_IF_ERROR(SaveConfig(ConfigFile(), config));
    out_ << "context \"" << name << "\" is current\n";
    return absl::OkStatus();
  }

  std::string ConfigFile() const {
    return options_.config_path.empty() ? ConfigPath() : options_.config_path;
  }
  absl::Status NoContext(const std::string& name) {
    return absl::NotFoundError(absl::StrCat("no context \"", name, "\" in ", ConfigFile(),
                                            "; see `arca context list`"));
  }

  absl::Status Health() {
    const std::string target = options_.target.empty() ? options_.catalog : options_.target;
    RETURN_IF_ERROR(rpc::CheckHealth(Channel(target), options_.service,
                                absl::Seconds(options_.timeout_seconds)));
    out_ << target << " SERVING\n";
    return absl::OkStatus();
  }

  void PrintArtifacts(const google::protobuf::RepeatedPtrField<v1::JobArtifact>& artifacts) {
    Table t({"ARTIFACT ID", "NAME", "VERSION", "CREATED", "REVISION", "TAGS"});
    for (const v1::JobArtifact& a : artifacts) {
      std::vector<std::string> tags;
      for (const auto& [k, v] : a.tags()) tags.push_back(absl::StrCat(k, "=", v));
      std::sort(tags.begin(), tags.end());
      t.Add({a.artifact_id(), a.name(), a.version(), When(a.created_at()),
             absl::StrCat(a.revision()), absl::StrJoin(tags, ",")});
    }
    t.Print(out_);
  }

  absl::Status ArtifactRegister(const std::vector<std::string>& rest) {
    v1::RegisterJobArtifactRequest request;
    if (rest.size() == 1) {
      // A JobArtifact as JSON (Mantis' REST body), from a file or "-".
      std::stringstream buffer;
      if (rest[0] == "-") {
        buffer << std::cin.rdbuf();
      } else {
        std::ifstream in(rest[0]);
        if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", rest[0]));
        buffer << in.rdbuf();
      }
      auto parsed = google::protobuf::util::JsonStringToMessage(buffer.str(),
                                                                request.mutable_artifact());
      if (!parsed.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(rest[0], " is not a JobArtifact: ", parsed.message().as_string()));
      }
    } else if (!rest.empty()) {
      return absl::InvalidArgumentError("usage: arca artifact register [FILE.json|-] [flags]");
    }
    v1::JobArtifact* a = request.mutable_artifact();
    if (!options_.name.empty()) a->set_name(options_.name);
    if (!options_.version.empty()) a->set_version(options_.version);
    if (!options_.runtime_type.empty()) a->set_runtime_type(options_.runtime_type);
    if (!options_.entrypoint.empty()) a->set_entrypoint(options_.entrypoint);
    RETURN_IF_ERROR(ParsePairs("tags", options_.tags, a->mutable_tags()));
    RETURN_IF_ERROR(ParsePairs("dependencies", options_.dependencies, a->mutable_dependencies()));
    request.set_overwrite(options_.overwrite);
    request.set_expected_revision(options_.expected_revision);
    v1::RegisterJobArtifactResponse response;
    RETURN_IF_ERROR(CheckCatalog(Catalog().RegisterJobArtifact(Context().get(), request, &response)));
    if (options_.json) {
      PrintJson(response, out_);
    } else {
      out_ << (response.created() ? "registered " : "unchanged or replaced ")
           << response.artifact().artifact_id() << " (" << response.artifact().name() << "@"
           << response.artifact().version() << ", revision " << response.artifact().revision()
           << ")\n";
    }
    return absl::OkStatus();
  }

  absl::Status ArtifactGet(const std::vector<std::string>& rest) {
    RETURN_IF_ERROR(Want(rest, 1, "artifact get ARTIFACT_ID"));
    v1::GetJobArtifactRequest request;
    request.set_artifact_id(rest[0]);
    v1::JobArtifact a;
    RETURN_IF_ERROR(CheckCatalog(Catalog().GetJobArtifact(Context().get(), request, &a)));
    if (options_.json) {
      PrintJson(a, out_);
      return absl::OkStatus();
    }
    google::protobuf::RepeatedPtrField<v1::JobArtifact> one;
    *one.Add() = a;
    PrintArtifacts(one);
    return absl::OkStatus();
  }

  absl::Status ArtifactSearch(const std::vector<std::string>& rest) {
    RETURN_IF_ERROR(Want(rest, 1, "artifact search NAME [--version V]"));
    v1::ListJobArtifactsRequest request;
    request.set_name(rest[0]);
    request.set_version(options_.version);
    request.set_page_size(std::min(options_.limit, 1000));
    v1::ListJobArtifactsResponse response;
    RETURN_IF_ERROR(CheckCatalog(Catalog().ListJobArtifacts(Context().get(), request, &response)));
    if (options_.json) {
      PrintJson(response, out_);
    } else {
      PrintArtifacts(response.artifacts());
    }
    return absl::OkStatus();
  }

  absl::Status ArtifactNames() {
    v1::ListJobArtifactNamesRequest request;
    request.set_prefix(options_.prefix);
    request.set_contains(options_.contains);
    request.set_page_size(std::min(options_.limit, 1000));
    v1::ListJobArtifactNamesResponse response;
    RETURN_IF_ERROR(
        CheckCatalog(Catalog().ListJobArtifactNames(Context().get(), request, &response)));
    if (options_.json) {
      PrintJson(response, out_);
    } else {
      for (const std::string& n : response.names()) out_ << n << "\n";
    }
    return absl::OkStatus();
  }

  absl::Status ArtifactDelete(const std::vector<std::string>& rest) {
    RETURN_IF_ERROR(Want(rest, 1, "artifact delete ARTIFACT_ID [--expected_revision N]"));
    v1::DeleteJobArtifactRequest request;
    request.set_artifact_id(rest[0]);
    request.set_expected_revision(options_.expected_revision);
    v1::DeleteJobArtifactResponse response;
    RETURN_IF_ERROR(CheckCatalog(Catalog().DeleteJobArtifact(Context().get(), request, &response)));
    out_ << "deleted " << rest[0] << "\n";
    return absl::OkStatus();
  }

  absl::Status JobsList() {
    v1::ListJobsRequest request;
    request.set_group(options_.group);
    if (!options_.status.empty()) {
      ASSIGN_OR_RETURN(types::v1::JobStatus s, ParseStatus(options_.status));
      request.add_statuses(s);
    }
    request.set_page_size(std::min(options_.limit, 1000));
    v1::ListJobsResponse response;
    RETURN_IF_ERROR(CheckCatalog(Catalog().ListJobs(Context().get(), request, &response)));
    if (options_.json) {
      PrintJson(response, out_);
      return absl::OkStatus();
    }
    Table t({"JOB ID", "GROUP", "NAME", "STATUS", "CREATED", "FINISHED"});
    for (const v1::Job& j : response.jobs()) {
      std::string status = StatusName(j.status());
      if (j.has_deletion_requested_at()) status += " (deleting)";
      t.Add({j.id(), j.group(), j.name(), status, When(j.created_at()), When(j.finished_at())});
    }
    t.Print(out_);
    return absl::OkStatus();
  }

  absl::Status JobsShow(const std::vector<std::string>& rest) {
    RETURN_IF_ERROR(Want(rest, 1, "jobs show JOB_ID"));
    v1::GetJobRequest request;
    request.set_id(rest[0]);
    v1::Job job;
    RETURN_IF_ERROR(CheckCatalog(Catalog().GetJob(Context().get(), request, &job)));
    v1::ListFilesRequest files_request;
    files_request.set_job_id(job.id());
    files_request.set_page_size(1000);
    v1::ListFilesResponse files;
    RETURN_IF_ERROR(CheckCatalog(Catalog().ListFiles(Context().get(), files_request, &files)));
    if (options_.json) {
      PrintJson(job, out_);
      PrintJson(files, out_);
      return absl::OkStatus();
    }
    out_ << "id:        " << job.id() << "\n"
         << "group:     " << job.group() << "\n"
         << "name:      " << job.name() << "\n"
         << "status:    " << StatusName(job.status()) << "\n"
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
      steps.Add({s.name(), Lower(types::v1::StepStatus_Name(s.status()), "STEP_STATUS_"),
                 When(s.start()), When(s.end()), s.text()});
    }
    steps.Print(out_);
    out_ << "\n";
    Table t({"PATH", "SIZE", "SHA256", "EXPIRES"});
    for (const v1::ArtifactFile& f : files.files()) {
      t.Add({f.path(), absl::StrCat(f.size()), f.sha256().substr(0, 12), When(f.expires_at())});
    }
    t.Print(out_);
    return absl::OkStatus();
  }

  absl::Status JobsDelete(const std::vector<std::string>& rest) {
    RETURN_IF_ERROR(Want(rest, 1, "jobs delete JOB_ID [--force]"));
    v1::DeleteJobRequest request;
    request.set_id(rest[0]);
    request.set_force(options_.force);
    v1::DeleteJobResponse response;
    RETURN_IF_ERROR(CheckCatalog(Catalog().DeleteJob(Context().get(), request, &response)));
    if (options_.json) {
      PrintJson(response, out_);
    } else if (response.purged()) {
      out_ << "deleted " << rest[0]
           << (options_.force ? " (forced: any remaining files expire by TTL)" : "") << "\n";
    } else {
      out_ << "deletion of " << rest[0] << " requested; waiting for "
           << absl::StrJoin(response.pending_finalizers(), ", ") << "\n";
    }
    return absl::OkStatus();
  }

  const CliOptions& options_;
  std::ostream& out_;
  std::unique_ptr<v1::Catalog::Stub> catalog_;
  std::unique_ptr<collector::v1::Collector::Stub> collector_;
  std::unique_ptr<scheduling::v1::SchedulerAttribute::Stub> scheduler_;
  std::unique_ptr<retention::v1::RetentionGc::Stub> gc_;

 public:
  int exit_code_ = 0;
};

}  // namespace

std::string Usage() {
  return R"(usage: arca [flags] COMMAND

Services are found with --catalog=HOST:PORT (or $ARCA_CATALOG, else the
current context's, else 127.0.0.1:7401), or --server=HOST for all four at
their standard ports. --json prints JSON instead of tables.

  arca login [NAME] [--server HOST | --catalog H:P ...] [--with_token | --token_file F]
             [--tls_ca CA.pem [--tls_client_cert C.pem --tls_client_key K.pem]]
      Check the addresses and credentials, then store them as context NAME
      (default "default") in ~/.config/arca/config (mode 0600) and make it
      current. --with_token reads the token from standard input.
  arca logout [NAME]               forget a context (default: the current one)
  arca context list                the stored contexts; * marks the current one
  arca context use NAME            make NAME current (--context NAME: for one command)
  arca whoami                      the identity, groups, level and role the services see

  arca artifact register [FILE.json|-] [--name N --version V --runtime_type T
                          --entrypoint E --tags k=v,... --dependencies k=v,...]
                         [--overwrite [--expected_revision R]]
  arca artifact get ARTIFACT_ID
  arca artifact search NAME [--version V]
  arca artifact names [--prefix P] [--contains C]
  arca artifact delete ARTIFACT_ID [--expected_revision R]
  arca jobs list [--group G] [--status queued|running|success|failure] [--limit N]
  arca jobs show JOB_ID
  arca jobs delete JOB_ID [--force]
  arca health [--target HOST:PORT] [--service NAME]

  arca run [--job ID] [--group G] [--name N] [--artifacts DIR] [--gc_strategy S]
           [--pattern GLOB[:LEVEL]]... [--retention_hours H] -- CMD...
      Create (or attach to) a job, run CMD with its output shown and kept as
      the job's log, collect DIR (default ./artifacts, may be a symlink),
      finish the job, and exit with CMD's exit code.
  arca collect DIR --job ID [--pattern GLOB[:LEVEL]]... [--include_hidden]
               [--truncate] [--retention_hours H]
  arca ls JOB_ID
  arca get JOB_ID PATH [--output FILE]     (resumes FILE.part, checks the digest)
  arca sched resolve [--jar_url URL | --artifact_id ID | --name N [--version V]]
                     [--labels k=v,...] [--machine_definition M] [--size_attribute S]
                     [--cluster C]
      Scheduling attributes with their sources (artifact tag or job label).
  arca sched cache --cluster C    artifacts to cache for a cluster, newest first
  arca catalog checkpoint NAME     online backup of the catalog into NAME beneath its --backup_dir
  arca gc run                      sweep now: expired files, idle blobs (cleanupPhJobArtifact)
  arca gc preview [JOB_ID]         what a sweep would delete now, and why the rest stays
  arca gc status JOB_ID            pending GC work, finalizers, last error

The collector is found with --collector=HOST:PORT (or $ARCA_COLLECTOR;
default 127.0.0.1:7402), scheduler-attribute with --scheduler_attribute
(or $ARCA_SCHEDULER_ATTRIBUTE; default 127.0.0.1:7404), retention-gc with
--retention_gc (or $ARCA_RETENTION_GC; default 127.0.0.1:7403). LEVEL is moderately_sensitive (default) or
highly_sensitive.

Credentials, strongest first: --token_file and the --tls_* flags, then
$ARCA_TOKEN, then the context's. $ARCA_CONFIG names another contexts file.

Exit status: 0 on success, 1 when the service refused or failed, 2 for a
usage mistake.
)";
}

absl::Status Run(const CliOptions& options, const std::vector<std::string>& args,
                 std::ostream& out, int* exit_code) {
  Runner runner(options, out);
  absl::Status status = runner.Run(args);
  if (exit_code != nullptr) *exit_code = runner.exit_code_;
  return status;
}

}  // namespace arca::cli
