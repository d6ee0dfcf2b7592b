// arca: the command line over Arca's gRPC contracts. See `arca help`.

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "common/grpc_status.h"
#include "common/init.h"
#include "services/cli/cli.h"

namespace {
std::string FromEnv(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}
}  // namespace

ABSL_FLAG(std::string, catalog, FromEnv("ARCA_CATALOG", "127.0.0.1:7401"),
          "catalog address HOST:PORT (default from $ARCA_CATALOG)");
ABSL_FLAG(std::string, collector, FromEnv("ARCA_COLLECTOR", "127.0.0.1:7402"),
          "collector address HOST:PORT (default from $ARCA_COLLECTOR)");
ABSL_FLAG(std::string, scheduler_attribute,
          FromEnv("ARCA_SCHEDULER_ATTRIBUTE", "127.0.0.1:7404"),
          "scheduler-attribute address HOST:PORT (default from $ARCA_SCHEDULER_ATTRIBUTE)");
ABSL_FLAG(std::string, retention_gc, FromEnv("ARCA_RETENTION_GC", "127.0.0.1:7403"),
          "retention-gc address HOST:PORT (default from $ARCA_RETENTION_GC)");
ABSL_FLAG(bool, json, false, "print JSON instead of tables");
ABSL_FLAG(double, timeout, 10, "deadline of each call, in seconds");
ABSL_FLAG(std::string, target, "", "health: address to check (default: the catalog)");
ABSL_FLAG(std::string, service, "", "health: service name to check (default: the server)");
ABSL_FLAG(std::string, name, "", "artifact register: name");
ABSL_FLAG(std::string, version, "", "artifact register/search: version");
ABSL_FLAG(std::string, runtime_type, "", "artifact register: runtime type");
ABSL_FLAG(std::string, entrypoint, "", "artifact register: entrypoint");
ABSL_FLAG(std::vector<std::string>, tags, {}, "artifact register: tags as k=v,k=v");
ABSL_FLAG(std::vector<std::string>, dependencies, {},
          "artifact register: dependencies as k=v,k=v");
ABSL_FLAG(bool, overwrite, false, "artifact register: replace an existing name+version");
ABSL_FLAG(int64_t, expected_revision, 0,
          "artifact register/delete: only if the stored revision is this one");
ABSL_FLAG(std::string, prefix, "", "artifact names: name prefix");
ABSL_FLAG(std::string, contains, "", "artifact names: substring");
ABSL_FLAG(std::string, group, "", "jobs list: only this group");
ABSL_FLAG(std::string, status, "", "jobs list: only this status");
ABSL_FLAG(int, limit, 100, "how many results to list (at most 1000)");
ABSL_FLAG(bool, force, false, "jobs delete: drop finalizers and purge now");
ABSL_FLAG(std::string, job, "", "run: job id to create or attach to; collect: the job");
ABSL_FLAG(std::string, artifacts, "artifacts", "run: the folder collected when CMD ends");
ABSL_FLAG(std::vector<std::string>, pattern, {},
          "run/collect: output patterns GLOB[:LEVEL], comma-separated");
ABSL_FLAG(bool, include_hidden, false, "run/collect: also collect names starting with '.'");
ABSL_FLAG(bool, truncate, false, "run/collect: over a limit, keep what fits");
ABSL_FLAG(double, retention_hours, 0, "run/collect: keep files this long after the job ends");
ABSL_FLAG(std::string, output, "", "get: file to write (default: the file's own name)");
ABSL_FLAG(std::string, gc_strategy, "", "run: the job's GC strategy, e.g. on_job_deletion");
ABSL_FLAG(std::string, jar_url, "", "sched resolve: the job jar URL");
ABSL_FLAG(std::string, artifact_id, "", "sched resolve: the artifact id");
ABSL_FLAG(std::vector<std::string>, labels, {}, "sched resolve: job labels as k=v,k=v");
ABSL_FLAG(std::string, machine_definition, "", "sched resolve: machine definition");
ABSL_FLAG(std::string, size_attribute, "", "sched resolve: size attribute");
ABSL_FLAG(std::string, cluster, "", "sched resolve/cache: the job cluster");

int main(int argc, char** argv) {
  std::vector<char*> positional =
      arca::InitProgram(argc, argv, "arca", "the Arca command line; run `arca help`");
  arca::cli::CliOptions options;
  options.catalog = absl::GetFlag(FLAGS_catalog);
  options.collector = absl::GetFlag(FLAGS_collector);
  options.scheduler_attribute = absl::GetFlag(FLAGS_scheduler_attribute);
  options.retention_gc = absl::GetFlag(FLAGS_retention_gc);
  options.json = absl::GetFlag(FLAGS_json);
  options.timeout_seconds = absl::GetFlag(FLAGS_timeout);
  options.target = absl::GetFlag(FLAGS_target);
  options.service = absl::GetFlag(FLAGS_service);
  options.name = absl::GetFlag(FLAGS_name);
  options.version = absl::GetFlag(FLAGS_version);
  options.runtime_type = absl::GetFlag(FLAGS_runtime_type);
  options.entrypoint = absl::GetFlag(FLAGS_entrypoint);
  options.tags = absl::GetFlag(FLAGS_tags);
  options.dependencies = absl::GetFlag(FLAGS_dependencies);
  options.overwrite = absl::GetFlag(FLAGS_overwrite);
  options.expected_revision = absl::GetFlag(FLAGS_expected_revision);
  options.prefix = absl::GetFlag(FLAGS_prefix);
  options.contains = absl::GetFlag(FLAGS_contains);
  options.group = absl::GetFlag(FLAGS_group);
  options.status = absl::GetFlag(FLAGS_status);
  options.limit = absl::GetFlag(FLAGS_limit);
  options.force = absl::GetFlag(FLAGS_force);
  options.job = absl::GetFlag(FLAGS_job);
  options.artifacts = absl::GetFlag(FLAGS_artifacts);
  options.patterns = absl::GetFlag(FLAGS_pattern);
  options.include_hidden = absl::GetFlag(FLAGS_include_hidden);
  options.truncate = absl::GetFlag(FLAGS_truncate);
  options.retention_hours = absl::GetFlag(FLAGS_retention_hours);
  options.output = absl::GetFlag(FLAGS_output);
  options.gc_strategy = absl::GetFlag(FLAGS_gc_strategy);
  options.jar_url = absl::GetFlag(FLAGS_jar_url);
  options.artifact_id = absl::GetFlag(FLAGS_artifact_id);
  options.labels = absl::GetFlag(FLAGS_labels);
  options.machine_definition = absl::GetFlag(FLAGS_machine_definition);
  options.size_attribute = absl::GetFlag(FLAGS_size_attribute);
  options.cluster = absl::GetFlag(FLAGS_cluster);

  std::vector<std::string> args(positional.begin() + 1, positional.end());
  int exit_code = 0;
  absl::Status status = arca::cli::Run(options, args, std::cout, &exit_code);
  if (status.ok()) return exit_code;
  std::cerr << "arca: " << arca::StatusCodeName(static_cast<int>(status.code())) << ": "
            << status.message() << "\n";
  const bool usage = absl::IsInvalidArgument(status) &&
                     (status.message().rfind("usage", 0) == 0 ||
                      status.message().rfind("unknown command", 0) == 0);
  return usage ? 2 : 1;
}
