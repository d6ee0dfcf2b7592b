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
#include "common/grpc_status.h"
#include "common/health_client.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "proto/catalog/v1/catalog.grpc.pb.h"

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
    if (group == "health") return Health();
    if (group == "artifact") {
      if (command == "register") return ArtifactRegister(rest);
      if (command == "get") return ArtifactGet(rest);
      if (command == "search") return ArtifactSearch(rest);
      if (command == "names") return ArtifactNames();
      if (command == "delete") return ArtifactDelete(rest);
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
  std::shared_ptr<grpc::Channel> Channel(const std::string& target) {
    return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
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
    absl::Status status = FromGrpcStatus(s);
    if (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status)) {
      return absl::Status(status.code(),
                          absl::StrCat("cannot reach ", target, ": ", status.message()));
    }
    return status;
  }
  absl::Status CheckCatalog(const grpc::Status& s) { return Check(s, options_.catalog); }

  absl::Status Want(const std::vector<std::string>& rest, size_t n, const char* usage) {
    if (rest.size() != n) return absl::InvalidArgumentError(absl::StrCat("usage: arca ", usage));
    return absl::OkStatus();
  }

  absl::Status Health() {
    const std::string target = options_.target.empty() ? options_.catalog : options_.target;
    RETURN_IF_ERROR(CheckHealth(Channel(target), options_.service,
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
};

}  // namespace

std::string Usage() {
  return R"(usage: arca [flags] COMMAND

Services are found with --catalog=HOST:PORT (or $ARCA_CATALOG; default
127.0.0.1:7401). --json prints JSON instead of tables.

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

Exit status: 0 on success, 1 when the service refused or failed, 2 for a
usage mistake.
)";
}

absl::Status Run(const CliOptions& options, const std::vector<std::string>& args,
                 std::ostream& out) {
  return Runner(options, out).Run(args);
}

}  // namespace arca::cli
