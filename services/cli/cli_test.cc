#include "services/cli/cli.h"

#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "common/rpc/server.h"
#include "common/testing/subprocess.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "prometheus/registry.h"
#include "services/catalog/catalog_testing.h"
#include "services/scheduling/scheduler_attribute_service.h"

namespace arca::cli {
namespace {

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test_catalog_.dir();
    setenv("ARCA_CONFIG", (dir_ + "/arca-config").c_str(), 1);
  }
  // Runs `arca ARGS...` against the test catalog as a person types it;
  // returns stdout, or "ERROR <exit status>: <stderr>".
  std::string Arca(std::vector<std::string> args) {
    std::ostringstream out, err;
    std::istringstream in;
    args.insert(args.begin(), "--catalog=" + catalog_address_);
    code_ = cli::Main(args, out, err, in);
    if (code_ != 0) return absl::StrCat("ERROR ", code_, ": ", err.str());
    return out.str();
  }

  catalog::TestCatalog test_catalog_;
  catalog::Catalog* catalog_ = &test_catalog_.catalog();
  std::string catalog_address_ = test_catalog_.address();
  std::string dir_;
  int code_ = 0;
};

TEST_F(CliTest, CatalogCheckpointBacksUpOnline) {
  ASSERT_EQ(Arca({"artifact", "register", "--name=my-app", "--version=1.0.0"}).rfind("registered", 0), 0u);
  std::string out = Arca({"catalog", "checkpoint", "backup"});
  EXPECT_EQ(out.rfind("checkpoint of the catalog in " + dir_ + "/backups/backup", 0), 0u) << out;
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/backups/backup/CURRENT"));
  EXPECT_EQ(Arca({"catalog", "checkpoint", "backup"}).rfind("ERROR 1: arca: ALREADY_EXISTS", 0), 0u);
  EXPECT_EQ(Arca({"catalog", "checkpoint", dir_ + "/elsewhere"}).rfind("ERROR 1: arca: INVALID_ARGUMENT", 0),
            0u);
}

TEST_F(CliTest, RegisterSearchNamesAndConflicts) {
  // Repeated and comma-separated values add up.
  std::string out = Arca({"artifact", "register", "--name", "my-app", "--version=1.0.0",
                          "--tags=jdkVersion=17", "--tags", "environment=production,team=a"});
  EXPECT_EQ(out.rfind("registered art-", 0), 0u) << out;
  EXPECT_NE(out.find("revision 1"), std::string::npos);
  EXPECT_NE(Arca({"artifact", "search", "my-app"}).find("team=a"), std::string::npos);

  const std::vector<std::string> again = {"artifact", "register", "--name=my-app", "--version=1.0.0",
                                          "--tags=jdkVersion=11"};
  out = Arca(again);
  EXPECT_EQ(out.rfind("ERROR 1: arca: ALREADY_EXISTS", 0), 0u) << out;
  auto with = [&](std::vector<std::string> more) {
    std::vector<std::string> args = again;
    args.insert(args.end(), more.begin(), more.end());
    return Arca(args);
  };
  EXPECT_EQ(with({"--overwrite", "--expected_revision=7"}).rfind("ERROR 1: arca: FAILED_PRECONDITION", 0), 0u);
  EXPECT_NE(with({"--overwrite", "--expected-revision", "1"}).find("revision 2"), std::string::npos);

  out = Arca({"artifact", "search", "my-app"});
  EXPECT_NE(out.find("ARTIFACT ID"), std::string::npos);
  EXPECT_NE(out.find("jdkVersion=11"), std::string::npos) << out;
  EXPECT_EQ(Arca({"artifact", "names", "--prefix=my-"}), "my-app\n");
  for (const char* json : {"--json", "--output=json", "-ojson"}) {
    out = Arca({"artifact", "search", "my-app", json});
    EXPECT_NE(out.find("\"artifactID\": \"art-"), std::string::npos) << json << out;
  }
  out = Arca({"-o", "json", "artifact", "search", "my-app"});
  EXPECT_NE(out.find("\"artifactID\": \"art-"), std::string::npos) << out;
}

TEST_F(CliTest, RegisterFromMantisJsonFile) {
  std::string path = dir_ + "/artifact.json";
  FILE* f = fopen(path.c_str(), "w");
  fputs(R"({"artifactID": "artifact-123", "name": "my-app", "version": "1.0.0",
            "createdAt": "2023-10-01T12:00:00Z", "runtimeType": "spring-boot",
            "dependencies": {"mantis-runtime": "1.0.0"}, "entrypoint": "com.example.MyApp",
            "tags": {"jdkVersion": "17"}})",
        f);
  fclose(f);
  EXPECT_NE(Arca({"artifact", "register", path}).find("registered artifact-123"),
            std::string::npos);
  std::string out = Arca({"artifact", "get", "artifact-123", "-o", "json"});
  EXPECT_NE(out.find("\"createdAt\": \"2023-10-01T12:00:00Z\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"entrypoint\": \"com.example.MyApp\""), std::string::npos) << out;
  FILE* bad = fopen(path.c_str(), "w");
  fputs("{\"name\": 5", bad);
  fclose(bad);
  EXPECT_EQ(Arca({"artifact", "register", path}).rfind("ERROR 1: arca: INVALID_ARGUMENT", 0), 0u);
  EXPECT_EQ(Arca({"artifact", "register", dir_ + "/missing.json"}).rfind("ERROR 1: arca: NOT_FOUND", 0),
            0u);
}

TEST_F(CliTest, JobsListShowDelete) {
  catalog::v1::CreateJobRequest create;
  create.mutable_job()->set_group("team-a");
  create.mutable_job()->set_name("train");
  std::string id = catalog_->CreateJob(create)->job().id();
  std::string out = Arca({"jobs", "list"});
  EXPECT_NE(out.find(id), std::string::npos);
  EXPECT_NE(out.find("queued"), std::string::npos);
  EXPECT_EQ(Arca({"jobs", "list", "--status=running"}).find(id), std::string::npos);
  EXPECT_EQ(Arca({"jobs", "list", "--status=bogus"}).rfind("ERROR 2: arca: --status: bogus not in", 0), 0u);
  out = Arca({"jobs", "show", id});
  EXPECT_NE(out.find("group:     team-a"), std::string::npos) << out;
  EXPECT_EQ(Arca({"jobs", "delete", id}), "deleted " + id + "\n");
  EXPECT_EQ(Arca({"jobs", "show", id}).rfind("ERROR 1: arca: NOT_FOUND", 0), 0u);
}

TEST_F(CliTest, SchedResolvePrintsSourcesAndWarnings) {
  auto registry = std::make_shared<prometheus::Registry>();
  scheduling::SchedulerMetrics metrics(*registry);
  scheduling::SchedulerAttribute core(scheduling::SchedulerOptions(), &test_catalog_.client(),
                                      &metrics);
  scheduling::SchedulerAttributeServiceImpl service(&core);
  rpc::ServerOptions so;
  so.name = "scheduler_attribute";
  auto sched = *rpc::Server::Start(so, {{"arca.scheduling.v1.SchedulerAttribute", &service}}, registry);
  const std::string at = "--scheduler_attribute=" + sched->address();

  ASSERT_EQ(Arca({"artifact", "register", "--name=my-app", "--version=1.0.0",
                  "--tags=jdkVersion=17,environment=production"})
                .rfind("registered", 0),
            0u);
  std::string out = Arca({at, "sched", "resolve", "--name=my-app", "--version=1.0.0",
                          "--labels=_mantis.schedulingAttribute.jdkVersion=21", "--cluster=prod"});
  EXPECT_NE(out.find("jdkVersion   21"), std::string::npos) << out;
  EXPECT_NE(out.find("job_label"), std::string::npos) << out;
  EXPECT_NE(out.find("tag value \"17\""), std::string::npos) << out;
  EXPECT_NE(out.find("environment  production  artifact_tag"), std::string::npos) << out;
  EXPECT_NE(Arca({at, "sched", "cache", "--cluster=prod"}).find("art-"), std::string::npos);

  out = Arca({at, "sched", "resolve", "--jar_url=http://repo/missing.zip"});
  EXPECT_NE(out.find("warning: job jar URL \"http://repo/missing.zip\" not found"),
            std::string::npos)
      << out;
}

TEST_F(CliTest, UsageMistakesExitTwoAndSuggest) {
  EXPECT_EQ(Arca({"jobs", "show"}), "ERROR 2: arca: JOB_ID is required\nsee `arca jobs show --help`\n");
  EXPECT_EQ(Arca({"frobnicate"}).rfind("ERROR 2: arca: The following argument was not expected: frobnicate", 0), 0u);
  EXPECT_EQ(Arca({"artifact", "regster"}),
            "ERROR 2: arca: The following argument was not expected: regster; did you mean register?\n"
            "see `arca artifact --help`\n");
  EXPECT_NE(Arca({"jobs", "list", "--limt=5"}).find("; did you mean --limit?"), std::string::npos);
  // A flag of another command is a mistake here.
  EXPECT_EQ(Arca({"jobs", "list", "--force"}).rfind("ERROR 2: arca: The following argument was not expected: --force", 0), 0u);
  EXPECT_EQ(Arca({"jobs", "list", "--limit=abc"}).rfind("ERROR 2: arca: --limit", 0), 0u);
  EXPECT_EQ(Arca({"jobs", "list", "--limit=0"}).rfind("ERROR 2: arca: --limit", 0), 0u);
  EXPECT_EQ(Arca({"jobs", "list", "-o", "xml"}).rfind("ERROR 2: arca: --output", 0), 0u);
  EXPECT_EQ(Arca({"help", "jobs", "lst"}), "ERROR 2: arca: no command \"jobs lst\"; did you mean list?\nsee `arca --help`\n");
  EXPECT_EQ(Arca({"artifact", "register", "--name=a", "--version=1", "--tags=novalue"}),
            "ERROR 2: arca: INVALID_ARGUMENT: --tags takes key=value, got \"novalue\"\n");
  EXPECT_EQ(Arca({"run", "--pattern=*.tmp:secret", "--", "true"}).rfind("ERROR 2: arca: INVALID_ARGUMENT: --pattern level", 0), 0u);
  // After --pattern, -- still starts the command, whose own flags are its own.
  EXPECT_EQ(Arca({"run", "--pattern=*.tmp:secret", "--", "sh", "-c", "true"}).rfind("ERROR 2: arca: INVALID_ARGUMENT: --pattern level", 0), 0u);
  EXPECT_EQ(Arca({"run", "--pattern", "*.tmp:secret", "--", "sh", "-c", "true"}).rfind("ERROR 2: arca: INVALID_ARGUMENT: --pattern level", 0), 0u);
  EXPECT_EQ(Arca({"run", "--job=x"}).rfind("ERROR 2: arca: CMD is required", 0), 0u);
}

TEST_F(CliTest, HelpForEveryCommandExitsZero) {
  // The program's help lists its commands; each command's help its own
  // options, however it is asked for.
  std::string top = Arca({"--help"});
  for (const char* command : {"artifact", "jobs", "run", "collect", "get", "gc", "sched", "version"}) {
    EXPECT_NE(top.find("\n  " + std::string(command) + " "), std::string::npos) << command << top;
  }
  const std::string register_help = Arca({"artifact", "register", "--help"});
  EXPECT_EQ(register_help.find("Usage: arca artifact register [OPTIONS] [FILE]"), register_help.find("Usage:"))
      << register_help;
  EXPECT_NE(register_help.find("--expected_revision"), std::string::npos);
  EXPECT_EQ(register_help.find("--limit"), std::string::npos) << "another command's flag";
  for (std::vector<std::string> ask : {std::vector<std::string>{"artifact", "register", "-h"},
                                       {"help", "artifact", "register"}}) {
    EXPECT_EQ(Arca(ask), register_help);
  }
  const std::string artifact = Arca({"artifact"});  // a bare group: its help
  EXPECT_NE(artifact.find("Usage: arca artifact"), std::string::npos) << artifact;
  EXPECT_NE(artifact.find("  register "), std::string::npos);
  EXPECT_EQ(Arca({"artifact", "--help"}), artifact);
  EXPECT_EQ(Arca({"help", "artifact"}), artifact);
  EXPECT_EQ(Arca({}), top);
  EXPECT_NE(Arca({"run", "-h"}).find("--force_finalizer_removal"), std::string::npos);
}

// -o json and -o yaml for scripts: lists are arrays, numbers numbers,
// enums REST's words; tables for people show human sizes, -o wide exact
// bytes.
TEST_F(CliTest, OutputFormatsForScriptsAndPeople) {
  EXPECT_EQ(Arca({"jobs", "list", "-o", "json"}), "[]\n");
  EXPECT_EQ(Arca({"artifact", "names", "-o", "json"}), "[]\n");
  catalog::v1::CreateJobRequest create;
  create.mutable_job()->set_group("team-a");
  create.mutable_job()->set_gc_strategy(types::v1::GC_STRATEGY_ON_JOB_DELETION);
  const std::string id = catalog_->CreateJob(create)->job().id();
  catalog::v1::UpdateStepRequest step;
  step.set_job_id(id);
  step.mutable_step()->set_name("validate_bag");
  step.mutable_step()->set_status(types::v1::STEP_STATUS_SKIP);
  ASSERT_TRUE(catalog_->UpdateStep(step).ok());
  catalog::v1::CommitFilesRequest commit;
  commit.set_job_id(id);
  auto* f = commit.add_files();
  f->set_job_id(id);
  f->set_path("model.bin");
  f->set_size(3'000'000);
  f->set_sha256(std::string(64, 'b'));
  f->set_state(types::v1::FILE_STATE_AVAILABLE);
  ASSERT_TRUE(catalog_->CommitFiles(commit).ok());

  const nlohmann::json jobs = nlohmann::json::parse(Arca({"jobs", "list", "-o", "json"}));
  ASSERT_TRUE(jobs.is_array()) << jobs;
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0]["id"], id);
  EXPECT_EQ(jobs[0]["status"], "running");
  EXPECT_EQ(jobs[0]["gcStrategy"], "OnJobDeletion");
  EXPECT_EQ(jobs[0]["steps"][0]["status"], "skipped");
  const nlohmann::json files = nlohmann::json::parse(Arca({"ls", id, "--json"}));
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0]["size"], 3000000) << files;  // a number, not "3000000"
  EXPECT_EQ(files[0]["privacyLevel"], "moderately_sensitive");
  const nlohmann::json shown = nlohmann::json::parse(Arca({"jobs", "show", id, "-o", "json"}));
  EXPECT_EQ(shown["files"][0]["path"], "model.bin");
  const std::string yaml = Arca({"jobs", "list", "-o", "yaml"});
  EXPECT_NE(yaml.find("- \n"), 0u);
  EXPECT_NE(yaml.find("\n  id: \"" + id + "\"\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("  gcStrategy: \"OnJobDeletion\"\n"), std::string::npos) << yaml;

  const std::string table = Arca({"ls", id});
  EXPECT_NE(table.find("model.bin  2.9 MiB  "), std::string::npos) << table;
  EXPECT_NE(table.find(" bbbbbbbbbbbb "), std::string::npos) << table;
  const std::string wide = Arca({"ls", id, "-o", "wide"});
  EXPECT_NE(wide.find("model.bin  3000000  "), std::string::npos) << wide;
  EXPECT_NE(wide.find(std::string(64, 'b')), std::string::npos) << wide;
  EXPECT_NE(Arca({"jobs", "show", id}).find("validate_bag  skipped"), std::string::npos);
  const nlohmann::json health = nlohmann::json::parse(Arca({"health", "-o", "json"}));
  EXPECT_EQ(health["status"], "serving");
  EXPECT_EQ(health["target"], catalog_address_);
  EXPECT_EQ(Arca({"context", "list", "--json"}), "[]\n");
  EXPECT_EQ(Arca({"get", id}).rfind("ERROR 2: arca: INVALID_ARGUMENT: usage: arca get JOB_ID PATH [DEST]", 0), 0u);
  EXPECT_EQ(Arca({"get", id, "a", "b", "c"}).rfind("ERROR 2: arca: The following argument was not expected: c", 0), 0u);
}

// The completion script, made from the command table, completes commands,
// flags and (from the catalog) job ids, in a real bash.
TEST_F(CliTest, BashCompletionOffersCommandsFlagsAndJobIds) {
  const char* bin = std::getenv("ARCA_BIN_ARCA");
  ASSERT_NE(bin, nullptr);
  catalog::v1::CreateJobRequest create;
  create.mutable_job()->set_group("team-a");
  const std::string id = catalog_->CreateJob(create)->job().id();
  const std::string script = dir_ + "/arca.bash";
  std::ofstream(script) << Arca({"completion", "bash"});
  EXPECT_EQ(Arca({"completion", "tcsh"}).rfind("ERROR 2: arca: SHELL: tcsh not in", 0), 0u);
  EXPECT_NE(Arca({"completion", "fish"}).find("complete -c arca -n '__fish_seen_subcommand_from artifact"),
            std::string::npos);
  EXPECT_EQ(Arca({"completion", "zsh"}).rfind("autoload -U +X bashcompinit && bashcompinit\n", 0), 0u);
  const std::string tests = absl::StrCat(
      "exec 1>&2\nsource ", script, "\n",
      "c() { COMP_WORDS=(\"$@\"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); _arca; echo \"[${COMPREPLY[*]}]\"; }\n",
      "c arca art; c arca artifact reg; c arca artifact register --overw; c arca --server x jobs li;\n",
      "c arca jobs show ''; c arca jobs list --sta\n");
  testing::Subprocess bash;
  ASSERT_TRUE(bash.Start({"/usr/bin/env", "PATH=" + std::filesystem::path(bin).parent_path().string() + ":/usr/bin:/bin",
                          "ARCA_CATALOG=" + catalog_address_, "ARCA_CONFIG=" + dir_ + "/arca-config", "/bin/bash",
                          "-c", tests})
                  .ok());
  ASSERT_EQ(bash.Wait(absl::Seconds(30)), 0) << bash.output();
  EXPECT_EQ(bash.output(), absl::StrCat("[artifact]\n[register]\n[--overwrite]\n[list]\n[", id, "]\n[--status]\n"));
}

TEST_F(CliTest, VersionAsCommandAndFlag) {
  // The client's, and each service's as its answers carry it.
  const std::string both = Arca({"--collector=127.0.0.1:1", "version"});
  EXPECT_EQ(both.rfind("arca 0.2.0\nSERVICE ", 0), 0u) << both;
  EXPECT_NE(both.find("catalog              " + catalog_address_ + "  0.2.0\n"), std::string::npos) << both;
  EXPECT_NE(both.find("collector            127.0.0.1:1"), std::string::npos) << both;
  EXPECT_NE(both.find("  not reachable\n"), std::string::npos) << both;
  const nlohmann::json json = nlohmann::json::parse(Arca({"--collector=127.0.0.1:1", "version", "-o", "json"}));
  EXPECT_EQ(json["client"], "0.2.0");
  EXPECT_EQ(json["services"][0]["version"], "0.2.0");
  EXPECT_EQ(json["services"][1]["reachable"], false);
  EXPECT_EQ(Arca({"--version"}), "arca 0.2.0\n");  // the client's alone, as kubectl version --client
  // An empty value (as scripts write `--server="$HOST"`) is empty, and the
  // next word stays the command.
  EXPECT_EQ(Arca({"--server=", "--context=", "--version"}), "arca 0.2.0\n");
  // Beside `artifact register`, --version is the artifact's.
  EXPECT_EQ(Arca({"artifact", "register", "--name=v", "--version", "2.0"}).rfind("registered", 0), 0u);
}

TEST_F(CliTest, BinaryExitCodesAndUnreachableCatalog) {
  const char* bin = std::getenv("ARCA_BIN_ARCA");
  ASSERT_NE(bin, nullptr);
  {
    testing::Subprocess ok;
    ASSERT_TRUE(ok.Start({bin, "--catalog=" + test_catalog_.address(), "health"}).ok());
    int status = ok.Wait(absl::Seconds(30));
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ok.output();
  }
  {
    testing::Subprocess usage;
    ASSERT_TRUE(usage.Start({bin, "jobs", "show"}).ok());
    int status = usage.Wait(absl::Seconds(30));
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << usage.output();
  }
  {
    // Nothing listens on the address of a server that has gone.
    std::string gone;
    {
      rpc::ServerOptions so;
      so.name = "gone";
      catalog::CatalogServiceImpl service(catalog_);
      auto other = *rpc::Server::Start(so, {{"arca.catalog.v1.Catalog", &service}},
                                  std::make_shared<prometheus::Registry>());
      gone = other->address();
    }
    testing::Subprocess down;
    ASSERT_TRUE(down.Start({bin, "--catalog=" + gone, "--timeout=2", "jobs", "list"}).ok());
    int status = down.Wait(absl::Seconds(30));
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    EXPECT_NE(down.output().find("arca: UNAVAILABLE: catalog at " + gone + " is unavailable: "),
              std::string::npos)
        << down.output();
  }
}

}  // namespace
}  // namespace arca::cli
