#include "services/cli/cli.h"

#include "services/cli/runner.h"

namespace arca::cli {

absl::Status Runner::Run(const std::vector<std::string>& args) {
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

clients::ClientOptions Runner::Peer(absl::string_view name, const std::string& target) const {
  clients::ClientOptions peer;
  peer.name = absl::StrCat(name, " at ", target);
  peer.timeout = absl::Seconds(options_.timeout_seconds);
  return peer;
}

clients::CollectorClient& Runner::Collector() {
  if (collector_ == nullptr) {
    collector_ = clients::NewCollectorClient(Channel(options_.collector),
                                             Peer("collector", options_.collector));
  }
  return *collector_;
}

clients::SchedulingClient& Runner::Scheduler() {
  if (scheduler_ == nullptr) {
    scheduler_ = clients::NewSchedulingClient(Channel(options_.scheduler_attribute),
                                              Peer("scheduler-attribute", options_.scheduler_attribute));
  }
  return *scheduler_;
}


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
           [--pattern GLOB[:LEVEL[:STRATEGY]],...] [--retention_hours H]
           [--force_finalizer_removal] -- CMD...
      Create (or attach to) a job, run CMD with its output shown and kept as
      the job's log, collect DIR (default ./artifacts, may be a symlink),
      finish the job, and exit with CMD's exit code.
  arca collect DIR --job ID [--pattern GLOB[:LEVEL[:STRATEGY]],...] [--include_hidden]
               [--truncate] [--retention_hours H]
  arca ls JOB_ID
  arca get JOB_ID PATH [--output FILE]     (resumes FILE.part, checks the digest)
  arca sched resolve [--jar_url URL | --artifact_id ID | --name N [--version V]]
                     [--labels k=v,...] [--machine_definition M] [--size_attribute S]
                     [--cluster C]
      Scheduling attributes with their sources (artifact tag or job label).
  arca sched cache --cluster C    artifacts to cache for a cluster, newest first
  arca catalog checkpoint NAME [--to_store]
      online backup of the catalog into NAME beneath its --backup_dir; with
      --to_store also shipped to its --checkpoint_store (an S3 bucket)
  arca gc run                      sweep now: expired files, idle blobs (cleanupPhJobArtifact)
  arca gc preview [JOB_ID]         what a sweep would delete now, and why the rest stays
                                   (without JOB_ID also the packs it would compact)
  arca gc status JOB_ID            pending GC work, finalizers, last error

The collector is found with --collector=HOST:PORT (or $ARCA_COLLECTOR;
default 127.0.0.1:7402), scheduler-attribute with --scheduler_attribute
(or $ARCA_SCHEDULER_ATTRIBUTE; default 127.0.0.1:7404), retention-gc with
--retention_gc (or $ARCA_RETENTION_GC; default 127.0.0.1:7403). LEVEL is moderately_sensitive (default) or
highly_sensitive. STRATEGY (S) is on_job_completion, on_job_success, on_job_failure, on_job_deletion or
never (Argo's OnJobCompletion, … too); a pattern's applies to the files it matches ("*.tmp::on_job_completion").

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
