#include "services/cli/cli.h"

#include <sys/wait.h>

#include <filesystem>
#include <sstream>
#include <string>

#include "common/rpc/server.h"
#include "common/testing/subprocess.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/catalog/catalog_testing.h"
#include "services/scheduling/scheduler_attribute_service.h"

namespace arca::cli {
namespace {

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test_catalog_.dir();
    options_.catalog = test_catalog_.address();
  }
  // Runs a command; returns stdout, or "ERROR <code>: message".
  std::string Arca(std::vector<std::string> args) {
    std::ostringstream out;
    absl::Status s = cli::Run(options_, args, out);
    if (!s.ok()) return "ERROR " + s.ToString();
    return out.str();
  }

  catalog::TestCatalog test_catalog_;
  catalog::Catalog* catalog_ = &test_catalog_.catalog();
  std::string dir_;
  CliOptions options_;
};

TEST_F(CliTest, CatalogCheckpointBacksUpOnline) {
  options_.name = "my-app";
  options_.version = "1.0.0";
  ASSERT_EQ(Arca({"artifact", "register"}).rfind("registered", 0), 0u);
  std::string out = Arca({"catalog", "checkpoint", "backup"});
  EXPECT_EQ(out.rfind("checkpoint of the catalog in " + dir_ + "/backups/backup", 0), 0u) << out;
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/backups/backup/CURRENT"));
  EXPECT_EQ(Arca({"catalog", "checkpoint", "backup"}).rfind("ERROR ALREADY_EXISTS", 0), 0u);
  EXPECT_EQ(Arca({"catalog", "checkpoint", dir_ + "/elsewhere"}).rfind("ERROR INVALID_ARGUMENT", 0),
            0u);
}

TEST_F(CliTest, RegisterSearchNamesAndConflicts) {
  options_.name = "my-app";
  options_.version = "1.0.0";
  options_.tags = {"jdkVersion=17", "environment=production"};
  std::string out = Arca({"artifact", "register"});
  EXPECT_EQ(out.rfind("registered art-", 0), 0u) << out;
  EXPECT_NE(out.find("revision 1"), std::string::npos);

  options_.tags = {"jdkVersion=11"};
  out = Arca({"artifact", "register"});
  EXPECT_EQ(out.rfind("ERROR ALREADY_EXISTS", 0), 0u) << out;
  options_.overwrite = true;
  options_.expected_revision = 7;
  EXPECT_EQ(Arca({"artifact", "register"}).rfind("ERROR FAILED_PRECONDITION", 0), 0u);
  options_.expected_revision = 1;
  EXPECT_NE(Arca({"artifact", "register"}).find("revision 2"), std::string::npos);

  const std::string address = options_.catalog;
  options_ = CliOptions();
  options_.catalog = address;
  out = Arca({"artifact", "search", "my-app"});
  EXPECT_NE(out.find("ARTIFACT ID"), std::string::npos);
  EXPECT_NE(out.find("jdkVersion=11"), std::string::npos) << out;
  options_.prefix = "my-";
  EXPECT_EQ(Arca({"artifact", "names"}), "my-app\n");
  options_.json = true;
  out = Arca({"artifact", "search", "my-app"});
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
  options_.json = true;
  std::string out = Arca({"artifact", "get", "artifact-123"});
  EXPECT_NE(out.find("\"createdAt\": \"2023-10-01T12:00:00Z\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"entrypoint\": \"com.example.MyApp\""), std::string::npos) << out;
  FILE* bad = fopen(path.c_str(), "w");
  fputs("{\"name\": 5", bad);
  fclose(bad);
  EXPECT_EQ(Arca({"artifact", "register", path}).rfind("ERROR INVALID_ARGUMENT", 0), 0u);
  EXPECT_EQ(Arca({"artifact", "register", dir_ + "/missing.json"}).rfind("ERROR NOT_FOUND", 0),
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
  options_.status = "running";
  EXPECT_EQ(Arca({"jobs", "list"}).find(id), std::string::npos);
  options_.status = "bogus";
  EXPECT_EQ(Arca({"jobs", "list"}).rfind("ERROR INVALID_ARGUMENT: --status", 0), 0u);
  options_.status = "";
  out = Arca({"jobs", "show", id});
  EXPECT_NE(out.find("group:     team-a"), std::string::npos) << out;
  EXPECT_EQ(Arca({"jobs", "delete", id}), "deleted " + id + "\n");
  EXPECT_EQ(Arca({"jobs", "show", id}).rfind("ERROR NOT_FOUND", 0), 0u);
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
  options_.scheduler_attribute = sched->address();

  options_.name = "my-app";
  options_.version = "1.0.0";
  options_.tags = {"jdkVersion=17", "environment=production"};
  ASSERT_EQ(Arca({"artifact", "register"}).rfind("registered", 0), 0u);
  options_.tags = {};
  options_.labels = {"_mantis.schedulingAttribute.jdkVersion=21"};
  options_.cluster = "prod";
  std::string out = Arca({"sched", "resolve"});
  EXPECT_NE(out.find("jdkVersion   21"), std::string::npos) << out;
  EXPECT_NE(out.find("job_label"), std::string::npos) << out;
  EXPECT_NE(out.find("tag value \"17\""), std::string::npos) << out;
  EXPECT_NE(out.find("environment  production  artifact_tag"), std::string::npos) << out;
  EXPECT_NE(Arca({"sched", "cache"}).find("art-"), std::string::npos);

  options_.name = "";
  options_.jar_url = "http://repo/missing.zip";
  out = Arca({"sched", "resolve"});
  EXPECT_NE(out.find("warning: job jar URL \"http://repo/missing.zip\" not found"),
            std::string::npos)
      << out;
}

TEST_F(CliTest, UsageMistakes) {
  EXPECT_EQ(Arca({"jobs", "show"}).rfind("ERROR INVALID_ARGUMENT: usage: arca jobs show", 0), 0u);
  EXPECT_EQ(Arca({"frobnicate"}).rfind("ERROR INVALID_ARGUMENT: unknown command", 0), 0u);
  options_.tags = {"novalue"};
  EXPECT_NE(Arca({"artifact", "register"}).find("--tags takes key=value"), std::string::npos);
  EXPECT_NE(Arca({"help"}).find("usage: arca"), std::string::npos);
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
