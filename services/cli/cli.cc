// The command table of `arca` (CLI11): every command with its own options,
// positionals and help, and what it runs. Help, usage errors and dispatch
// all come from this one table.

#include "services/cli/cli.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iterator>

#include "CLI/CLI.hpp"
#include "absl/algorithm/container.h"
#include "absl/strings/str_replace.h"
#include "common/version.h"
#include "services/cli/runner.h"

namespace arca::cli {

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

absl::Status Run(const CliOptions& options, const std::function<absl::Status(Runner&)>& command,
                 std::ostream& out, int* exit_code) {
  RETURN_IF_ERROR(auth::SecureChannel(options.catalog, options.security, {}).status());
  Runner runner(options, out);
  absl::Status status = command(runner);
  if (exit_code != nullptr) *exit_code = runner.exit_code_;
  return status;
}

namespace {

// What was typed, before contexts and the environment fill the gaps.
struct Typed {
  CliOptions options;
  std::string catalog, collector, scheduler_attribute, retention_gc, server, context;
  std::string token_file, tls_ca, tls_client_cert, tls_client_key;
  std::string output;  // -o
  bool json = false, with_token = false;
  std::vector<std::string> words;    // the command's positionals
  std::vector<std::string> command;  // run: the command after --
  std::string get[3];                // get: JOB_ID PATH [DEST]
  std::function<absl::Status(Runner&)> action;
  bool help = false;                 // `arca help WORDS...`
  std::vector<std::string> help_words;
};

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
absl::Status Resolve(Typed& t, bool login, std::istream& in) {
  CliOptions& o = t.options;
  o.config_path = ConfigPath();
  Context context;
  if (!login) {
    ASSIGN_OR_RETURN(auto config, LoadConfig(o.config_path));
    const std::string name = First({t.context, config.current});
    if (!name.empty()) {
      const Context* found = config.Find(name);
      if (found == nullptr) {
        return absl::NotFoundError(absl::StrCat("no context \"", name, "\" in ", o.config_path,
                                                "; see `arca context list`"));
      }
      context = *found;
    }
  }
  auto at = [&](const char* port) { return t.server.empty() ? "" : absl::StrCat(t.server, ":", port); };
  o.catalog = First({t.catalog, at("7401"), Env("ARCA_CATALOG"), context.catalog, "127.0.0.1:7401"});
  o.collector =
      First({t.collector, at("7402"), Env("ARCA_COLLECTOR"), context.collector, "127.0.0.1:7402"});
  o.retention_gc = First({t.retention_gc, at("7403"), Env("ARCA_RETENTION_GC"), context.retention_gc,
                          "127.0.0.1:7403"});
  o.scheduler_attribute = First({t.scheduler_attribute, at("7404"), Env("ARCA_SCHEDULER_ATTRIBUTE"),
                                 context.scheduler_attribute, "127.0.0.1:7404"});
  std::string token;
  if (t.with_token) {
    token.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    token = std::string(absl::StripAsciiWhitespace(token));
    if (token.empty()) return absl::InvalidArgumentError("--with_token: standard input is empty");
  }
  if (!t.token_file.empty()) {
    std::ifstream file(t.token_file);
    std::stringstream text;
    text << file.rdbuf();
    if (!file) return absl::InvalidArgumentError(absl::StrCat("cannot read --token_file ", t.token_file));
    token = First({token, std::string(absl::StripAsciiWhitespace(text.str()))});
    if (token.empty()) return absl::InvalidArgumentError(absl::StrCat("--token_file ", t.token_file, " is empty"));
  }
  o.security.token = First({token, Env("ARCA_TOKEN"), context.token});
  o.security.ca = Absolute(First({t.tls_ca, context.tls_ca}));
  o.security.cert = Absolute(First({t.tls_client_cert, context.tls_client_cert}));
  o.security.key = Absolute(First({t.tls_client_key, context.tls_client_key}));
  return absl::OkStatus();
}

// Levenshtein distance, for "did you mean".
size_t Distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The nearest of `choices` to `word`, if it is near enough to be a typo.
std::string Nearest(const std::string& word, const std::vector<std::string>& choices) {
  std::string best;
  size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
  for (const std::string& c : choices) {
    const size_t d = Distance(word, c);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

// The deepest command the words name ("artifact register"): *used of
// them in a row, or, with skip, passing over the words between (option
// values, positionals).
CLI::App* Find(CLI::App* app, const std::vector<std::string>& words, size_t* used = nullptr,
               bool skip = false) {
  size_t i = 0;
  for (; i < words.size(); ++i) {
    CLI::App* next = nullptr;
    for (CLI::App* sub : app->get_subcommands({})) {
      if (sub->get_name() == words[i]) next = sub;
    }
    if (next == nullptr && skip) continue;
    if (next == nullptr) break;
    app = next;
  }
  if (used != nullptr) *used = i;
  return app;
}

// The words typed that are not options.
std::vector<std::string> Words(const std::vector<std::string>& args) {
  std::vector<std::string> words;
  for (const std::string& a : args) {
    if (a == "--") break;
    if (!absl::StartsWith(a, "-")) words.push_back(a);
  }
  return words;
}

std::string Path(const CLI::App* app) {
  std::string path;
  for (; app != nullptr; app = app->get_parent()) {
    path = path.empty() ? app->get_name() : absl::StrCat(app->get_name(), " ", path);
  }
  return path;
}

// "did you mean" for what a command did not expect: another option of the
// command (or the program), or one of its subcommands.
std::string Suggestion(const CLI::App* app, const std::vector<std::string>& extras) {
  if (extras.empty()) return "";
  std::string word = extras.front();
  std::vector<std::string> choices;
  if (absl::StartsWith(word, "-")) {
    word = word.substr(0, word.find('='));
    for (const CLI::App* a = app; a != nullptr; a = a->get_parent()) {
      for (const CLI::Option* opt : a->get_options()) {
        for (const std::string& l : opt->get_lnames()) choices.push_back("--" + l);
      }
    }
  } else {
    for (const CLI::App* sub : app->get_subcommands({})) choices.push_back(sub->get_name());
  }
  const std::string near = Nearest(word, choices);
  return near.empty() ? "" : absl::StrCat("; did you mean ", near, "?");
}

constexpr char kMoreHelp[] =
    "The options every command takes (where the services are, credentials, -o): arca --help";

absl::StatusOr<std::string> Completion(const CLI::App& app, const std::string& shell);

void Build(CLI::App& app, Typed& t) {
  CliOptions& o = t.options;
  app.description("Arca: the artifact layer of a job platform, from the command line.");
  app.footer(
      "Services are found with --catalog=HOST:PORT (or $ARCA_CATALOG, else the current context's, "
      "else 127.0.0.1:7401), --collector (7402), --retention_gc (7403), --scheduler_attribute (7404), "
      "or --server=HOST for all four at their standard ports. Credentials, strongest first: "
      "--token_file and the --tls_* flags, then $ARCA_TOKEN, then the context's. $ARCA_CONFIG names "
      "another contexts file.\n\nExit status: 0 success, 1 a service refused or failed, 2 a usage "
      "mistake, 4 not authenticated; `arca run` exits with its command's code.\n\n"
      "Run `arca COMMAND --help` for a command's options.");
  app.fallthrough();
  app.require_subcommand(0, 1);
  app.set_help_flag("-h,--help", "print this help and exit");
  app.set_version_flag("--version", std::string("arca ") + kVersion, "print the version and exit");
  auto* conn = "Connection";
  app.add_option("--catalog", t.catalog, "catalog address HOST:PORT")->group(conn);
  app.add_option("--collector", t.collector, "collector address HOST:PORT")->group(conn);
  app.add_option("--retention_gc,--retention-gc", t.retention_gc, "retention-gc address HOST:PORT")
      ->group(conn);
  app.add_option("--scheduler_attribute,--scheduler-attribute", t.scheduler_attribute,
                 "scheduler-attribute address HOST:PORT")
      ->group(conn);
  app.add_option("--server", t.server, "HOST: every service at its standard port there")->group(conn);
  app.add_option("--context", t.context, "use this context instead of the current one")->group(conn);
  app.add_option("--timeout", o.timeout_seconds, "deadline of each call, in seconds")
      ->check(CLI::PositiveNumber)
      ->group(conn);
  app.add_option("--token_file,--token-file", t.token_file, "a file holding the token")->group(conn);
  app.add_option("--tls_ca,--tls-ca", t.tls_ca, "CA certificates (PEM); set: TLS to the services")
      ->group(conn);
  app.add_option("--tls_client_cert,--tls-client-cert", t.tls_client_cert,
                 "client certificate (PEM), for mTLS")
      ->group(conn);
  app.add_option("--tls_client_key,--tls-client-key", t.tls_client_key, "its private key (PEM)")
      ->group(conn);
  app.add_option("-o,--output", t.output,
                 "output format: table (default; human sizes), wide (exact bytes, whole digests), "
                 "json or yaml (for scripts)")
      ->check(CLI::IsMember({"table", "wide", "json", "yaml"}))
      ->group("Output");
  app.add_flag("--json", t.json, "the same as -o json")->group("Output");
  app.add_flag("-q,--quiet", o.quiet,
               "no progress display (shown on a terminal for collect, run and get)")
      ->group("Output");

  // A leaf command: its positionals go to t.words, and it runs `run`.
  auto leaf = [&](CLI::App* parent, const std::string& name, const std::string& summary,
                  std::function<absl::Status(Runner&, const std::vector<std::string>&)> run) {
    CLI::App* cmd = parent->add_subcommand(name, summary)->footer(kMoreHelp);
    cmd->final_callback([&t, run] {
      t.action = [&t, run](Runner& r) { return run(r, t.words); };
    });
    return cmd;
  };
  auto group = [&](const std::string& name, const std::string& summary) {
    return app.add_subcommand(name, summary)->require_subcommand(0, 1)->footer(kMoreHelp);
  };
  auto words = [&](CLI::App* cmd, const std::string& name, const std::string& help, int n) {
    cmd->add_option(name, t.words, help)->expected(n)->required();
  };
  auto optional_word = [&](CLI::App* cmd, const std::string& name, const std::string& help) {
    cmd->add_option(name, t.words, help)->expected(0, 1);
  };
  auto strategy_help = "OnJobCompletion, OnJobSuccess, OnJobFailure, OnJobDeletion or Never, as REST "
                       "says them (on_job_completion and Argo's OnWorkflowCompletion, … too)";
  auto patterns = [&](CLI::App* cmd) {
    cmd->add_option("--pattern", o.patterns,
                    "output patterns GLOB[:LEVEL[:STRATEGY]], repeated or comma-separated; LEVEL is "
                    "moderately_sensitive (default) or highly_sensitive")
        ->delimiter(',')
        ->allow_extra_args(false);  // one value a time: a following -- still starts CMD
    cmd->add_flag("--include_hidden,--include-hidden", o.include_hidden,
                  "also collect names starting with '.'");
    cmd->add_flag("--truncate", o.truncate, "over a limit, keep what fits");
    cmd->add_option("--retention_hours,--retention-hours", o.retention_hours,
                    "keep files this long after the job ends")
        ->check(CLI::NonNegativeNumber);
  };

  // ------------------------------------------------------------ identity
  CLI::App* login = leaf(&app, "login", "check addresses and credentials, store them as a context",
                         [](Runner& r, const std::vector<std::string>& w) {
                           return r.Login(w.empty() ? "default" : w[0]);
                         });
  optional_word(login, "NAME", "the context's name (default \"default\")");
  login->add_flag("--with_token,--with-token", t.with_token, "read the token from standard input");
  CLI::App* logout = leaf(&app, "logout", "forget a context (default: the current one)",
                          [](Runner& r, const std::vector<std::string>& w) {
                            return r.Logout(w.empty() ? "" : w[0]);
                          });
  optional_word(logout, "NAME", "the context");
  CLI::App* context = group("context", "the stored contexts");
  leaf(context, "list", "the stored contexts; * marks the current one",
       [](Runner& r, const std::vector<std::string>&) { return r.ContextList(); });
  words(leaf(context, "use", "make a context current",
             [](Runner& r, const std::vector<std::string>& w) { return r.ContextUse(w[0]); }),
        "NAME", "the context", 1);
  leaf(&app, "whoami", "the identity, groups, level and role the services see",
       [](Runner& r, const std::vector<std::string>&) { return r.WhoAmI(); });
  CLI::App* health = leaf(&app, "health", "whether a server (or one of its services) is serving",
                          [](Runner& r, const std::vector<std::string>&) { return r.Health(); });
  health->add_option("--target", o.target, "address to check (default: the catalog)");
  health->add_option("--service", o.service, "service name to check (default: the server)");
  leaf(&app, "version", "this program's version",
       [](Runner& r, const std::vector<std::string>&) { return r.Version(); });
  CLI::App* completion = leaf(&app, "completion",
                              "a shell completion script (commands, flags, job ids): "
                              "source <(arca completion bash)",
                              [&app](Runner& r, const std::vector<std::string>& w) -> absl::Status {
                                ASSIGN_OR_RETURN(std::string script, Completion(app, w[0]));
                                r.Write(script);
                                return absl::OkStatus();
                              });
  completion->add_option("SHELL", t.words, "bash, zsh or fish")
      ->expected(1)
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}));

  // ------------------------------------------------------------ artifacts
  CLI::App* artifact = group("artifact", "packages jobs run from (Mantis' job artifacts)");
  CLI::App* reg = leaf(artifact, "register", "register a package, from flags or a Mantis JSON file",
                       [](Runner& r, const std::vector<std::string>& w) { return r.ArtifactRegister(w); });
  optional_word(reg, "FILE", "a Mantis JobArtifact JSON file, or - for standard input");
  reg->add_option("--name", o.name, "name");
  reg->add_option("--version", o.version, "version");
  reg->add_option("--runtime_type,--runtime-type", o.runtime_type, "runtime type");
  reg->add_option("--entrypoint", o.entrypoint, "entrypoint");
  reg->add_option("--tags", o.tags, "tags as k=v, repeated or comma-separated")->delimiter(',');
  reg->add_option("--dependencies", o.dependencies, "dependencies as k=v, repeated or comma-separated")
      ->delimiter(',');
  reg->add_flag("--overwrite", o.overwrite, "replace an existing name+version (admin role)");
  reg->add_option("--expected_revision,--expected-revision", o.expected_revision,
                  "only if the stored revision is this one");
  words(leaf(artifact, "get", "one package",
             [](Runner& r, const std::vector<std::string>& w) { return r.ArtifactGet(w); }),
        "ARTIFACT_ID", "the package", 1);
  CLI::App* search = leaf(artifact, "search", "a name's versions, newest first",
                          [](Runner& r, const std::vector<std::string>& w) { return r.ArtifactSearch(w); });
  words(search, "NAME", "the package name", 1);
  search->add_option("--version", o.version, "only this version");
  CLI::App* names = leaf(artifact, "names", "package names",
                         [](Runner& r, const std::vector<std::string>&) { return r.ArtifactNames(); });
  names->add_option("--prefix", o.prefix, "names starting with this");
  names->add_option("--contains", o.contains, "names containing this");
  CLI::App* del = leaf(artifact, "delete", "delete a package (admin role)",
                       [](Runner& r, const std::vector<std::string>& w) { return r.ArtifactDelete(w); });
  words(del, "ARTIFACT_ID", "the package", 1);
  del->add_option("--expected_revision,--expected-revision", o.expected_revision,
                  "only if the stored revision is this one");

  // ------------------------------------------------------------ jobs
  CLI::App* jobs = group("jobs", "jobs and their steps");
  CLI::App* list = leaf(jobs, "list", "jobs newest first",
                        [](Runner& r, const std::vector<std::string>&) { return r.JobsList(); });
  list->add_option("--group", o.group, "only this group");
  list->add_option("--status", o.status, "only this status")
      ->check(CLI::IsMember({"queued", "running", "success", "failure"}));
  list->add_option("--limit", o.limit, "at most this many (1 to 1000)")->check(CLI::Range(1, 1000));
  words(leaf(jobs, "show", "one job with its steps",
             [](Runner& r, const std::vector<std::string>& w) { return r.JobsShow(w); }),
        "JOB_ID", "the job", 1);
  CLI::App* jdel = leaf(jobs, "delete", "delete a job (admin role)",
                        [](Runner& r, const std::vector<std::string>& w) { return r.JobsDelete(w); });
  words(jdel, "JOB_ID", "the job", 1);
  jdel->add_flag("--force", o.force, "drop finalizers and purge now");

  // ------------------------------------------------------------ transfers
  CLI::App* run = leaf(&app, "run",
                       "create (or attach to) a job, run CMD with its output kept as the job's log, "
                       "collect the artifacts folder, finish the job; exits with CMD's code",
                       [&t](Runner& r, const std::vector<std::string>&) { return r.RunJob(t.command); });
  run->add_option("CMD", t.command, "the command, after --")->required();
  run->add_option("--job", o.job, "job id to create or attach to");
  run->add_option("--group", o.group, "the job's group");
  run->add_option("--name", o.name, "the job's name");
  run->add_option("--artifacts", o.artifacts, "the folder collected when CMD ends (may be a symlink)");
  run->add_option("--gc_strategy,--gc-strategy", o.gc_strategy, std::string("the job's GC strategy: ") + strategy_help);
  run->add_flag("--force_finalizer_removal,--force-finalizer-removal", o.force_finalizer_removal,
                "once GC of the job's files has failed past its retries, drop the finalizer anyway "
                "(Argo's forceFinalizerRemoval)");
  patterns(run);
  CLI::App* collect = leaf(&app, "collect", "upload a folder's files into a job",
                           [](Runner& r, const std::vector<std::string>& w) { return r.Collect(w); });
  words(collect, "DIR", "the folder", 1);
  collect->add_option("--job", o.job, "the job")->required();
  patterns(collect);
  words(leaf(&app, "ls", "a job's files and logs",
             [](Runner& r, const std::vector<std::string>& w) { return r.List(w); }),
        "JOB_ID", "the job", 1);
  CLI::App* get = leaf(&app, "get",
                       "download a file, or with -D a job's tree (each resumed from DEST.part, "
                       "its digest checked)",
                       [&t](Runner& r, const std::vector<std::string>&) {
                         std::vector<std::string> w = {t.get[0]};
                         for (int i = 1; i < 3 && !t.get[i].empty(); ++i) w.push_back(t.get[i]);
                         return r.Get(w);
                       });
  get->add_option("JOB_ID", t.get[0], "the job")->required();
  get->add_option("PATH", t.get[1], "the file's path in the job");
  get->add_option("DEST", t.get[2], "where to write it (default: the file's own name; - standard output)");
  get->add_option("-D,--dir", o.dir, "download the job's outputs into this folder, as its tree");
  get->add_option("-p,--pattern", o.get_patterns,
                  "with -D: only files matching these globs ('*' crosses '/'; the log is "
                  ".arca/logs/job.log), repeated or comma-separated")
      ->delimiter(',');

  // ------------------------------------------------------------ operations
  CLI::App* sched = group("sched", "scheduling attributes (Mantis)");
  CLI::App* resolve = leaf(sched, "resolve", "scheduling attributes with their sources",
                           [](Runner& r, const std::vector<std::string>&) { return r.SchedResolve(); });
  resolve->add_option("--jar_url,--jar-url", o.jar_url, "the job jar URL");
  resolve->add_option("--artifact_id,--artifact-id", o.artifact_id, "the artifact id");
  resolve->add_option("--name", o.name, "the artifact name");
  resolve->add_option("--version", o.version, "the artifact version");
  resolve->add_option("--labels", o.labels, "job labels as k=v, repeated or comma-separated")
      ->delimiter(',');
  resolve->add_option("--machine_definition,--machine-definition", o.machine_definition,
                      "machine definition");
  resolve->add_option("--size_attribute,--size-attribute", o.size_attribute, "size attribute");
  resolve->add_option("--cluster", o.cluster, "the job cluster");
  leaf(sched, "cache", "artifacts to cache for a cluster, newest first",
       [](Runner& r, const std::vector<std::string>&) { return r.SchedCache(); })
      ->add_option("--cluster", o.cluster, "the job cluster")
      ->required();
  CLI::App* catalog = group("catalog", "the catalog's own operations");
  CLI::App* checkpoint =
      leaf(catalog, "checkpoint", "online backup of the catalog beneath its --backup_dir",
           [](Runner& r, const std::vector<std::string>& w) { return r.CatalogCheckpoint(w[0]); });
  words(checkpoint, "NAME", "the checkpoint's name", 1);
  checkpoint->add_flag("--to_store,--to-store", o.to_store,
                       "also ship it to the catalog's --checkpoint_store (an S3 bucket)");
  CLI::App* gc = group("gc", "retention: sweeps, previews, a job's GC state");
  leaf(gc, "run", "sweep now: expired files, idle blobs (PrimeHub's cleanupPhJobArtifact)",
       [](Runner& r, const std::vector<std::string>&) { return r.GcRun(); });
  optional_word(leaf(gc, "preview",
                     "what a sweep would delete now, and why the rest stays (without JOB_ID also "
                     "the packs it would compact)",
                     [](Runner& r, const std::vector<std::string>& w) { return r.GcPreview(w); }),
                "JOB_ID", "only this job");
  words(leaf(gc, "status", "a job's pending GC work, finalizers and last error",
             [](Runner& r, const std::vector<std::string>& w) { return r.GcStatus(w[0]); }),
        "JOB_ID", "the job", 1);

  CLI::App* help = app.add_subcommand("help", "help for a command: arca help COMMAND...");
  help->add_option("COMMAND", t.help_words, "the command")->expected(0, 3);
  help->final_callback([&t] { t.help = true; });
}

// A command's help: its usage line names it in full ("arca jobs list").
std::string Help(const CLI::App* app) {
  return app->get_parent() == nullptr ? app->help() : app->help(Path(app->get_parent()));
}

// Commands whose first positional is a job id (completed from `arca jobs
// list`).
bool TakesJobId(const std::string& path) {
  for (const char* p : {"arca jobs show", "arca jobs delete", "arca ls", "arca get", "arca gc preview",
                        "arca gc status"}) {
    if (path == p) return true;
  }
  return false;
}

// Every command below app, depth first, the program itself first.
void Walk(const CLI::App* app, std::vector<const CLI::App*>* all) {
  all->push_back(app);
  for (const CLI::App* sub : app->get_subcommands({})) Walk(sub, all);
}

// What to offer after a command: its subcommands, and its long options
// with the program's, which every command takes.
std::string Subcommands(const CLI::App* app) {
  std::vector<std::string> words;
  for (const CLI::App* sub : app->get_subcommands({})) words.push_back(sub->get_name());
  return absl::StrJoin(words, " ");
}
std::string Flags(const CLI::App* app) {
  std::vector<std::string> words;
  for (const CLI::App* a = app; a != nullptr; a = a->get_parent()) {
    for (const CLI::Option* opt : a->get_options()) {
      for (const std::string& l : opt->get_lnames()) {
        if (!absl::c_linear_search(words, "--" + l)) words.push_back("--" + l);
      }
    }
  }
  return absl::StrJoin(words, " ");
}

// `arca completion SHELL`: a completion script made from the command table,
// completing commands, flags and (from `arca jobs list`) job ids.
absl::StatusOr<std::string> Completion(const CLI::App& app, const std::string& shell) {
  std::vector<const CLI::App*> all;
  Walk(&app, &all);
  const char* job_ids = "arca jobs list --limit 1000 2>/dev/null | awk 'NR>1 {print $1}'";
  if (shell == "bash" || shell == "zsh") {
    std::string known, cases;
    for (const CLI::App* cmd : all) {
      const std::string full = Path(cmd);
      const std::string path = full.size() > 4 ? full.substr(5) : "";  // without "arca "
      if (!path.empty()) absl::StrAppend(&known, "      \"", path, "\") path=\"$path $w\" ;;\n");
      absl::StrAppend(&cases, "    \"", path, "\") words=\"", Subcommands(cmd), "\" flags=\"", Flags(cmd), "\"",
                      TakesJobId(Path(cmd)) ? absl::StrCat("; [[ $cur == -* ]] || words+=\" $(", job_ids, ")\"") : "",
                      " ;;\n");
    }
    std::string script = absl::StrCat(
        shell == "zsh" ? "autoload -U +X bashcompinit && bashcompinit\n" : "",
        "# arca ", kVersion, " completion; source it (e.g. from ~/.bashrc): source <(arca completion ", shell,
        ")\n_arca() {\n  local cur=${COMP_WORDS[COMP_CWORD]} path= w words flags\n",
        // A command's words match from the start: "artifact" then "artifact register".
        "  for w in \"${COMP_WORDS[@]:1:COMP_CWORD-1}\"; do\n    case \"${path# }${path:+ }$w\" in\n", known,
        "    esac\n  done\n  case \"${path# }\" in\n", cases, "  esac\n",
        "  [[ $cur == -* ]] && words=$flags\n",
        "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n}\ncomplete -F _arca arca\n");
    return script;
  }
  if (shell == "fish") {
    std::string script = absl::StrCat("# arca ", kVersion, " completion: arca completion fish | source\n",
                                      "complete -c arca -f\n");
    for (const CLI::App* cmd : all) {
      std::vector<std::string> words = absl::StrSplit(Path(cmd), ' ');
      words.erase(words.begin());
      // Offered once the command's words are all there and no subcommand follows.
      std::string when = words.empty() ? "__fish_use_subcommand"
                                       : absl::StrCat("__fish_seen_subcommand_from ", words.back());
      if (words.size() == 1 && !cmd->get_subcommands({}).empty()) {
        when = absl::StrCat(when, "; and not __fish_seen_subcommand_from ");
        for (const CLI::App* sub : cmd->get_subcommands({})) absl::StrAppend(&when, sub->get_name(), " ");
      }
      for (const CLI::App* sub : cmd->get_subcommands({})) {
        absl::StrAppend(&script, "complete -c arca -n '", when, "' -a ", sub->get_name(), " -d '",
                        absl::StrReplaceAll(sub->get_description(), {{"'", "\\'"}}), "'\n");
      }
      for (const CLI::Option* opt : cmd->get_options()) {
        for (const std::string& l : opt->get_lnames()) {
          absl::StrAppend(&script, "complete -c arca -n '", when, "' -l ", l, "\n");
        }
      }
      if (TakesJobId(Path(cmd))) {
        absl::StrAppend(&script, "complete -c arca -n '", when, "' -a '(", job_ids, ")'\n");
      }
    }
    return script;
  }
  return absl::InvalidArgumentError(absl::StrCat("usage: arca completion bash|zsh|fish, not \"", shell, "\""));
}

// A mistake the CLI itself finds in what was typed: its message names the
// flag first ("--tags takes key=value, …") or starts with "usage". A
// service's INVALID_ARGUMENT is the service refusing (1).
bool IsUsage(const absl::Status& s) {
  return absl::IsInvalidArgument(s) &&
         (absl::StartsWith(s.message(), "usage") || absl::StartsWith(s.message(), "--"));
}

}  // namespace

int Main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, std::istream& in) {
  Typed t;
  CLI::App app("", "arca");
  Build(app, t);
  // CLI11 reads `--catalog=` as a flag still waiting for its value (and
  // takes the next word); here it is the empty value it says.
  std::vector<std::string> reversed;
  for (auto a = args.rbegin(); a != args.rend(); ++a) {
    if (absl::StartsWith(*a, "--") && absl::EndsWith(*a, "=") && a->size() > 3) {
      reversed.push_back("");
      reversed.push_back(a->substr(0, a->size() - 1));
    } else {
      reversed.push_back(*a);
    }
  }
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    // The command typed prints its own help.
    out << Help(Find(&app, Words(args), nullptr, /*skip=*/true));
    return 0;
  } catch (const CLI::CallForVersion&) {
    out << "arca " << kVersion << "\n";
    return 0;
  } catch (const CLI::ParseError& e) {
    // Said in the command the mistake was made in, with a suggestion for
    // a word it did not expect.
    CLI::App* where = Find(&app, Words(args), nullptr, /*skip=*/true);
    std::string hint;
    if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
      const std::string what = e.what();
      const size_t colon = what.rfind(": ");
      if (colon != std::string::npos) {
        hint = Suggestion(where, absl::StrSplit(what.substr(colon + 2), ' ', absl::SkipEmpty()));
      }
    }
    err << "arca: " << e.what() << hint << "\nsee `" << Path(where) << " --help`\n";
    return 2;
  }
  if (t.help) {
    const std::vector<std::string>& words = t.help_words;
    size_t used = 0;
    CLI::App* target = Find(&app, words, &used);
    if (used < words.size()) {
      err << "arca: no command \"" << absl::StrJoin(words, " ") << "\""
          << Suggestion(target, {words[used]}) << "\nsee `arca --help`\n";
      return 2;
    }
    out << Help(target);
    return 0;
  }
  if (!t.action) {
    // No command, or a group without one of its commands: its help.
    CLI::App* chosen = &app;
    while (!chosen->get_subcommands().empty()) chosen = chosen->get_subcommands().front();
    out << Help(chosen);
    return 0;
  }
  t.options.format = t.json ? "json" : t.output.empty() ? "table" : t.output;
  t.options.json = t.options.format == "json" || t.options.format == "yaml";
  const bool login = app.got_subcommand("login");
  int exit_code = 0;
  absl::Status status = Resolve(t, login, in);
  if (status.ok()) status = Run(t.options, t.action, out, &exit_code);
  if (status.ok()) return exit_code;
  err << "arca: " << rpc::StatusCodeName(static_cast<int>(status.code())) << ": " << status.message()
      << "\n";
  if (IsUsage(status)) return 2;
  return absl::IsUnauthenticated(status) ? 4 : 1;
}

}  // namespace arca::cli
