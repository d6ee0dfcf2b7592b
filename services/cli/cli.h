#ifndef ARCA_SERVICES_CLI_CLI_H_
#define ARCA_SERVICES_CLI_CLI_H_

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/auth/security.h"

namespace arca::cli {

// What the command line chose (cli.cc's table fills it).
struct CliOptions {
  // Catalog address. Default: $ARCA_CATALOG or 127.0.0.1:7401.
  std::string catalog = "127.0.0.1:7401";
  // Collector address. Default: $ARCA_COLLECTOR or 127.0.0.1:7402.
  std::string collector = "127.0.0.1:7402";
  // scheduler-attribute address. Default: $ARCA_SCHEDULER_ATTRIBUTE or
  // 127.0.0.1:7404.
  std::string scheduler_attribute = "127.0.0.1:7404";
  // retention-gc address. Default: $ARCA_RETENTION_GC or 127.0.0.1:7403.
  std::string retention_gc = "127.0.0.1:7403";
  // The token and TLS files every call uses.
  auth::ClientSecurity security;
  // The contexts file `login`, `logout` and `context` change (see
  // config.h). Default: ConfigPath().
  std::string config_path;
  // -o: "table" (for people), "wide" (tables with exact bytes and whole
  // digests), "json" or "yaml" (for scripts; json is set for both).
  std::string format = "table";
  bool json = false;
  // -q: no progress display (it shows only when stderr is a terminal).
  bool quiet = false;
  // Deadline of each RPC, in seconds. Default: 10.
  double timeout_seconds = 10;
  // Target of `arca health`; empty means the catalog.
  std::string target;
  std::string service;  // health: service name, "" for the server

  // artifact register
  std::string name, version, runtime_type, entrypoint;
  std::vector<std::string> tags, dependencies;  // key=value
  bool overwrite = false;
  int64_t expected_revision = 0;
  // artifact names / list filters
  std::string prefix, contains;
  // jobs
  std::string group, status;
  int limit = 100;
  bool force = false;
  bool to_store = false;  // catalog checkpoint

  // run / collect / get
  std::string job;                    // job id (run: attach or create with it)
  std::string artifacts = "artifacts";  // run: the folder collected at the end
  std::vector<std::string> patterns;  // GLOB[:moderately_sensitive|highly_sensitive]
  bool include_hidden = false;
  bool truncate = false;
  double retention_hours = 0;  // 0: the job's retention
  std::string dir;                         // get -D: the folder a job's tree goes into
  std::vector<std::string> get_patterns;   // get -D: only the files these globs match
  std::string gc_strategy;     // run: the job's GC strategy
  bool force_finalizer_removal = false;  // run: Argo's forceFinalizerRemoval

  // sched resolve: the artifact (one of jar_url, artifact_id, name[+version]),
  // job labels k=v, machine definition, size attribute, cluster.
  std::string jar_url, artifact_id, machine_definition, size_attribute, cluster;
  std::vector<std::string> labels;
};

// Runs `arca ARGS...` as a person types it (args without the program's
// name): results and help to out, errors to err, a token for --with_token
// from in. Returns the exit status: 0 success, 1 a service refused or
// failed, 2 a usage mistake, 4 not authenticated; `arca run` its
// command's.
int Main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
         std::istream& in);

}  // namespace arca::cli

#endif  // ARCA_SERVICES_CLI_CLI_H_
