// arca: the command line over Arca's gRPC contracts. See `arca help`.

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/auth/flags.h"
#include "common/rpc/status.h"
#include "common/init.h"
#include "common/status_macros.h"
#include "services/cli/cli.h"
#include "services/cli/config.h"

ABSL_FLAG(std::string, catalog, "",
          "catalog address HOST:PORT (default: $ARCA_CATALOG, the context's, or 127.0.0.1:7401)");
ABSL_FLAG(std::string, collector, "",
          "collector address HOST:PORT (default: $ARCA_COLLECTOR, the context's, or "
          "127.0.0.1:7402)");
ABSL_FLAG(std::string, scheduler_attribute, "",
          "scheduler-attribute address HOST:PORT (default: $ARCA_SCHEDULER_ATTRIBUTE, the "
          "context's, or 127.0.0.1:7404)");
ABSL_FLAG(std::string, retention_gc, "",
          "retention-gc address HOST:PORT (default: $ARCA_RETENTION_GC, the context's, or "
          "127.0.0.1:7403)");
ABSL_FLAG(std::string, server, "",
          "HOST: every service at its standard port there (7401-7404), unless its own flag "
          "says otherwise");
ABSL_FLAG(std::string, context, "", "use this context instead of the current one");
ABSL_FLAG(bool, with_token, false, "login: read the token from standard input");
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
ABSL_FLAG(bool, to_store, false,
          "catalog checkpoint: also ship it to the catalog's --checkpoint_store");
ABSL_FLAG(std::string, job, "", "run: job id to create or attach to; collect: the job");
ABSL_FLAG(std::string, artifacts, "artifacts", "run: the folder collected when CMD ends");
ABSL_FLAG(std::vector<std::string>, pattern, {},
          "run/collect: output patterns GLOB[:LEVEL[:STRATEGY]], comma-separated");
ABSL_FLAG(bool, include_hidden, false, "run/collect: also collect names starting with '.'");
ABSL_FLAG(bool, truncate, false, "run/collect: over a limit, keep what fits");
ABSL_FLAG(double, retention_hours, 0, "run/collect: keep files this long after the job ends");
ABSL_FLAG(std::string, output, "", "get: file to write (default: the file's own name)");
ABSL_FLAG(std::string, gc_strategy, "", "run: the job's GC strategy, e.g. on_job_deletion");
ABSL_FLAG(bool, force_finalizer_removal, false,
          "run: once GC of the job's files has failed past its retries, drop the finalizer "
          "anyway (Argo's forceFinalizerRemoval)");
ABSL_FLAG(std::string, jar_url, "", "sched resolve: the job jar URL");
ABSL_FLAG(std::string, artifact_id, "", "sched resolve: the artifact id");
ABSL_FLAG(std::vector<std::string>, labels, {}, "sched resolve: job labels as k=v,k=v");
ABSL_FLAG(std::string, machine_definition, "", "sched resolve: machine definition");
ABSL_FLAG(std::string, size_attribute, "", "sched resolve: size attribute");
ABSL_FLAG(std::string, cluster, "", "sched resolve/cache: the job cluster");

namespace {

using arca::cli::CliOptions;
using arca::cli::Context;

// The first of these that is set.
std::string First(std::initializer_list<std::string> choices) {
  for (const std::string& choice : choices) {
    if (!choice.empty()) return choice;
  }
  return "";
}
std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}
std::string Absolute(const std::string& path) {
  return path.empty() ? path : std::filesystem::absolute(path).lexically_normal().string();
}

// Where to go and as whom: a flag, else the environment, else the context
// (`login` starts afresh: it makes the context), else loopback.
absl::Status Resolve(const std::vector<std::string>& args, CliOptions* options) {
  options->config_path = arca::cli::ConfigPath();
  Context context;
  if (args.empty() || args[0] != "login") {
    ASSIGN_OR_RETURN(auto config, arca::cli::LoadConfig(options->config_path));
    const std::string name = First({absl::GetFlag(FLAGS_context), config.current});
    if (!name.empty()) {
      const Context* found = config.Find(name);
      if (found == nullptr) {
        return absl::NotFoundError(absl::StrCat("no context \"", name, "\" in ",
                                                options->config_path, "; see `arca context list`"));
      }
      context = *found;
    }
  }
  const std::string server = absl::GetFlag(FLAGS_server);
  auto at = [&](const char* port) { return server.empty() ? "" : absl::StrCat(server, ":", port); };
  options->catalog = First({absl::GetFlag(FLAGS_catalog), at("7401"), Env("ARCA_CATALOG"),
                            context.catalog, "127.0.0.1:7401"});
  options->collector = First({absl::GetFlag(FLAGS_collector), at("7402"), Env("ARCA_COLLECTOR"),
                              context.collector, "127.0.0.1:7402"});
  options->retention_gc = First({absl::GetFlag(FLAGS_retention_gc), at("7403"),
                                 Env("ARCA_RETENTION_GC"), context.retention_gc,
                                 "127.0.0.1:7403"});
  options->scheduler_attribute =
      First({absl::GetFlag(FLAGS_scheduler_attribute), at("7404"),
             Env("ARCA_SCHEDULER_ATTRIBUTE"), context.scheduler_attribute, "127.0.0.1:7404"});
  ASSIGN_OR_RETURN(arca::auth::ClientSecurity flags, arca::auth::ClientSecurityFromFlags());
  std::string token;
  if (absl::GetFlag(FLAGS_with_token)) {
    token.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    token = std::string(absl::StripAsciiWhitespace(token));
    if (token.empty()) return absl::InvalidArgumentError("--with_token: standard input is empty");
  }
  options->security.token = First({token, flags.token, Env("ARCA_TOKEN"), context.token});
  options->security.ca = Absolute(First({flags.ca, context.tls_ca}));
  options->security.cert = Absolute(First({flags.cert, context.tls_client_cert}));
  options->security.key = Absolute(First({flags.key, context.tls_client_key}));
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> positional =
      arca::InitProgram(argc, argv, "arca", "the Arca command line; run `arca help`");
  std::vector<std::string> args(positional.begin() + 1, positional.end());
  arca::cli::CliOptions options;
  absl::Status status = Resolve(args, &options);
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
  options.to_store = absl::GetFlag(FLAGS_to_store);
  options.job = absl::GetFlag(FLAGS_job);
  options.artifacts = absl::GetFlag(FLAGS_artifacts);
  options.patterns = absl::GetFlag(FLAGS_pattern);
  options.include_hidden = absl::GetFlag(FLAGS_include_hidden);
  options.truncate = absl::GetFlag(FLAGS_truncate);
  options.retention_hours = absl::GetFlag(FLAGS_retention_hours);
  options.output = absl::GetFlag(FLAGS_output);
  options.gc_strategy = absl::GetFlag(FLAGS_gc_strategy);
  options.force_finalizer_removal = absl::GetFlag(FLAGS_force_finalizer_removal);
  options.jar_url = absl::GetFlag(FLAGS_jar_url);
  options.artifact_id = absl::GetFlag(FLAGS_artifact_id);
  options.labels = absl::GetFlag(FLAGS_labels);
  options.machine_definition = absl::GetFlag(FLAGS_machine_definition);
  options.size_attribute = absl::GetFlag(FLAGS_size_attribute);
  options.cluster = absl::GetFlag(FLAGS_cluster);

  int exit_code = 0;
  if (status.ok()) status = arca::cli::Run(options, args, std::cout, &exit_code);
  if (status.ok()) return exit_code;
  std::cerr << "arca: " << arca::rpc::StatusCodeName(static_cast<int>(status.code())) << ": "
            << status.message() << "\n";
  const bool usage = absl::IsInvalidArgument(status) &&
                     (status.message().rfind("usage", 0) == 0 ||
                      status.message().rfind("unknown command", 0) == 0);
  return usage ? 2 : 1;
}
