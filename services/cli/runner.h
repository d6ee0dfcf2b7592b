#ifndef ARCA_SERVICES_CLI_RUNNER_H_
#define ARCA_SERVICES_CLI_RUNNER_H_

// The commands of `arca`, one class over the services' stubs, its methods
// spread by topic: cli.cc (dispatch, channels), commands_transfer.cc
// (collect, ls, get, run), commands_identity.cc (login, contexts, whoami,
// health), commands_artifacts.cc, commands_jobs.cc (and checkpoints),
// commands_gc.cc (GC and scheduling); output.cc prints. Internal to the CLI.

#include <unistd.h>

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
#include "common/status_macros.h"
#include "common/time_util.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"
#include "common/clients/catalog.h"
#include "common/clients/collector.h"
#include "common/clients/retention.h"
#include "common/clients/scheduling.h"
#include "services/cli/config.h"
#include "services/cli/run_command.h"
#include "services/cli/transfer.h"

#include "services/cli/cli.h"

namespace arca::cli {

class Runner;

// Runs one command of `arca`, checking first that the credentials can be
// read. `arca run` sets *exit_code to its command's exit code.
absl::Status Run(const CliOptions& options, const std::function<absl::Status(Runner&)>& command,
                 std::ostream& out, int* exit_code = nullptr);

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


// The word REST and GraphQL use for an enum value: JOB_STATUS_SUCCESS is
// "success", PRIVACY_LEVEL_HIGHLY_SENSITIVE "highly_sensitive",
// STEP_STATUS_SKIP o2r's "skipped", a GC strategy Argo's "OnJobDeletion".
std::string EnumWord(const google::protobuf::EnumValueDescriptor& value);
template <typename E>
std::string Word(E value) {
  return EnumWord(*google::protobuf::GetEnumDescriptor<E>()->FindValueByNumber(value));
}

// A message as JSON for scripts: protobuf's field names, every field
// present, 64-bit numbers as numbers, enums as the words REST uses.
nlohmann::json ToJson(const google::protobuf::Message& message);

template <typename T>
nlohmann::json ToJson(const google::protobuf::RepeatedPtrField<T>& items) {
  nlohmann::json list = nlohmann::json::array();
  for (const T& item : items) list.push_back(ToJson(item));
  return list;
}

// JSON (format "json") or YAML ("yaml").
void Print(const nlohmann::json& json, const std::string& format, std::ostream& out);

std::string When(const google::protobuf::Timestamp& t);

absl::StatusOr<types::v1::JobStatus> ParseStatus(const std::string& text);

absl::Status ParsePairs(absl::string_view flag, const std::vector<std::string>& pairs,
                        google::protobuf::Map<std::string, std::string>* out);

// The commands, each called by cli.cc's table with its positionals.
class Runner {
 public:
  Runner(const CliOptions& options, std::ostream& out) : options_(options), out_(out) {}

  // With the token and TLS files; Run checked that they can be read.
  std::shared_ptr<grpc::Channel> Channel(const std::string& target) {
    return *auth::SecureChannel(target, options_.security, grpc::ChannelArguments());
  }
  // Each service's client, made on first use. Calls wait --timeout; a
  // service that cannot be reached fails fast, named with its address
  // ("catalog at HOST:PORT is unavailable: …").
  clients::ClientOptions Peer(absl::string_view name, const std::string& target) const;
  clients::CatalogClient& Catalog() {
    if (catalog_ == nullptr) {
      catalog_ = clients::NewCatalogClient(Channel(options_.catalog),
                                           Peer("catalog", options_.catalog));
    }
    return *catalog_;
  }
  clients::CollectorClient& Collector();
  // Transfers get more time than a single call: an hour per run.
  absl::Duration TransferTimeout() const {
    return std::max(absl::Seconds(options_.timeout_seconds), absl::Hours(1));
  }

  absl::StatusOr<collector::v1::UploadManifest> Manifest(const std::string& job_id);

  void PrintUpload(const collector::v1::UploadResponse& r);

  absl::Status Collect(const std::vector<std::string>& rest);

  absl::Status List(const std::vector<std::string>& rest);

  absl::Status Get(const std::vector<std::string>& rest);

  // arca get JOB -D DIR: the job's outputs (or the files --pattern names)
  // into DIR as the job's tree, each resumed and checked as `get` does.
  absl::Status GetTree(const std::string& job_id);

  clients::SchedulingClient& Scheduler();

  absl::Status SchedResolve();

  clients::RetentionClient& Gc() {
    if (gc_ == nullptr) {
      gc_ = clients::NewRetentionClient(Channel(options_.retention_gc),
                                        Peer("retention-gc", options_.retention_gc));
    }
    return *gc_;
  }

  absl::Status CatalogCheckpoint(const std::string& dir);

  absl::Status GcRun();

  absl::Status GcPreview(const std::vector<std::string>& rest);

  absl::Status GcStatus(const std::string& job_id);

  absl::Status SchedCache();

  absl::Status Step(const std::string& job_id, const std::string& name, types::v1::StepStatus status,
                    const std::string& text, bool start, bool end);

  // PrimeHub's run-job.sh, durable: create or attach to a job, run the
  // command with its output shown and kept, collect the artifacts folder,
  // finish the job, and exit with the command's code.
  absl::Status RunJob(const std::vector<std::string>& command);

  // The identity the services see for this token or certificate.
  absl::StatusOr<v1::WhoAmIResponse> Who();
  void PrintWho(const v1::WhoAmIResponse& who);
  absl::Status WhoAmI();

  // Checks the addresses and credentials with WhoAmI, then stores them as
  // context `name` and makes it current. Nothing is stored when the check
  // fails.
  absl::Status Login(const std::string& name);

  // Forgets context `name` (default: the current one) and its token.
  absl::Status Logout(std::string name);

  absl::Status ContextList();

  absl::Status ContextUse(const std::string& name);

  std::string ConfigFile() const {
    return options_.config_path.empty() ? ConfigPath() : options_.config_path;
  }
  absl::Status NoContext(const std::string& name) {
    return absl::NotFoundError(absl::StrCat("no context \"", name, "\" in ", ConfigFile(),
                                            "; see `arca context list`"));
  }

  absl::Status Health();

  void PrintArtifacts(const google::protobuf::RepeatedPtrField<v1::JobArtifact>& artifacts);

  absl::Status ArtifactRegister(const std::vector<std::string>& rest);

  absl::Status ArtifactGet(const std::vector<std::string>& rest);

  absl::Status ArtifactSearch(const std::vector<std::string>& rest);

  absl::Status ArtifactNames();

  absl::Status ArtifactDelete(const std::vector<std::string>& rest);

  absl::Status JobsList();

  absl::Status JobsShow(const std::vector<std::string>& rest);

  absl::Status JobsDelete(const std::vector<std::string>& rest);

  absl::Status Version();

  // A confirmation: the line for people, or the object for scripts.
  void Say(const std::string& line, const nlohmann::json& json) {
    if (options_.json) {
      Emit(json);
    } else {
      out_ << line;
    }
  }

  // Text as it is, e.g. a completion script.
  void Write(const std::string& text) { out_ << text; }

  // A transfer's progress display: on stderr when it is a terminal, not
  // with -q.
  bool ShowsProgress() const { return !options_.quiet && isatty(STDERR_FILENO) == 1; }
  std::unique_ptr<Progress> Progressing(const char* verb, int64_t bytes, int files) const {
    return std::make_unique<Progress>(std::cerr, ShowsProgress(), verb, bytes, files);
  }
  static int64_t Bytes(const FolderScan& scan) {
    int64_t total = 0;
    for (const FoundFile& f : scan.files) total += f.size;
    return total;
  }

  // A size and a digest in a table: for people, or exact with -o wide.
  std::string Size(int64_t bytes) const {
    return options_.format == "wide" ? absl::StrCat(bytes) : HumanSize(bytes);
  }
  std::string Digest(const std::string& sha256) const {
    return options_.format == "wide" ? sha256 : sha256.substr(0, 12);
  }

  // What a command answers, for scripts (-o json or -o yaml).
  void Emit(const nlohmann::json& json) { Print(json, options_.format, out_); }
  void Emit(const google::protobuf::Message& message) { Emit(ToJson(message)); }

 private:
  const CliOptions& options_;
  std::ostream& out_;
  std::unique_ptr<clients::CatalogClient> catalog_;
  std::unique_ptr<clients::CollectorClient> collector_;
  std::unique_ptr<clients::SchedulingClient> scheduler_;
  std::unique_ptr<clients::RetentionClient> gc_;

 public:
  int exit_code_ = 0;
};

}  // namespace arca::cli

#endif  // ARCA_SERVICES_CLI_RUNNER_H_
