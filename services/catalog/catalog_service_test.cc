#include "services/catalog/catalog_service.h"

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/rpc/health_client.h"
#include "common/rpc/server.h"
#include "common/testing/subprocess.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"

namespace arca::catalog {
namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/arca-catalog-svc-XXXXXX";
  return mkdtemp(tmpl);
}

// A real catalog behind a real gRPC server on a free port.
class CatalogServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir();
    CatalogOptions options;
    options.data_dir = dir_ + "/db";
    catalog_ = *Catalog::Open(options, Clock::Real());
    service_ = std::make_unique<CatalogServiceImpl>(catalog_.get());
    rpc::ServerOptions server_options;
    server_options.name = "catalog";
    auto server = rpc::Server::Start(server_options,
                                {{v1::Catalog::service_full_name(), service_.get()}},
                                std::make_shared<prometheus::Registry>());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::Catalog::NewStub(
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    server_.reset();
    catalog_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<CatalogServiceImpl> service_;
  std::unique_ptr<rpc::Server> server_;
  std::unique_ptr<v1::Catalog::Stub> stub_;
};

TEST_F(CatalogServiceTest, RegisterThenReadBackOverTheWire) {
  grpc::ClientContext c1;
  v1::RegisterJobArtifactRequest req;
  req.mutable_artifact()->set_name("my-app");
  req.mutable_artifact()->set_version("1.0.0");
  (*req.mutable_artifact()->mutable_tags())["jdkVersion"] = "17";
  v1::RegisterJobArtifactResponse resp;
  ASSERT_TRUE(stub_->RegisterJobArtifact(&c1, req, &resp).ok());
  EXPECT_TRUE(resp.created());

  grpc::ClientContext c2;
  v1::GetJobArtifactRequest get;
  get.set_artifact_id(resp.artifact().artifact_id());
  v1::JobArtifact got;
  ASSERT_TRUE(stub_->GetJobArtifact(&c2, get, &got).ok());
  EXPECT_EQ(got.tags().at("jdkVersion"), "17");

  grpc::ClientContext c3;
  req.mutable_artifact()->mutable_tags()->at("jdkVersion") = "11";
  grpc::Status conflict = stub_->RegisterJobArtifact(&c3, req, &resp);
  EXPECT_EQ(conflict.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_NE(conflict.error_message().find("set overwrite"), std::string::npos);
}

// Every RPC, given bad input, answers with the code that fits and a message.
TEST_F(CatalogServiceTest, EveryRpcRejectsBadInputWithTheRightCode) {
  using Call = std::function<grpc::Status(grpc::ClientContext*)>;
  auto* s = stub_.get();
  std::string long_name(300, 'x');
  struct Case {
    const char* what;
    Call call;
    grpc::StatusCode want;
  };
  std::vector<Case> cases = {
      {"register empty", [&](auto* c) {
         v1::RegisterJobArtifactResponse r;
         return s->RegisterJobArtifact(c, v1::RegisterJobArtifactRequest(), &r);
       }, grpc::StatusCode::INVALID_ARGUMENT},
      {"register long name", [&](auto* c) {
         v1::RegisterJobArtifactRequest q;
         q.mutable_artifact()->set_name(long_name);
         q.mutable_artifact()->set_version("1");
         v1::RegisterJobArtifactResponse r;
         return s->RegisterJobArtifact(c, q, &r);
       }, grpc::StatusCode::INVALID_ARGUMENT},
      {"get artifact empty id", [&](auto* c) {
         v1::JobArtifact r;
         return s->GetJobArtifact(c, v1::GetJobArtifactRequest(), &r);
       }, grpc::StatusCode::INVALID_ARGUMENT},
      {"get artifact unknown", [&](auto* c) {
         v1::GetJobArtifactRequest q;
         q.set_artifact_id("unknown");
         v1::JobArtifact r;
         return s->GetJobArtifact(c, q, &r);
       }, grpc::StatusCode::NOT_FOUND},
      {"list artifacts bad token", [&](auto* c) {
         v1::ListJobArtifactsRequest q;
         q.set_page_token("garbage");
         v1::ListJobArtifactsResponse r;
         return s->ListJobArtifacts(c, q, &r);
       }, grpc::StatusCode::INVALID_ARGUMENT},
      {"list artifacts version without name", [&](auto* c) {
         v1::ListJobArtifactsRequest q;
         q.set_version("1");
         v1::ListJobArtifactsResponse r;
         return s->ListJobArtifacts(c, q, &r);
       }, grpc::StatusCode::INVALID_ARGUMENT},
      {"names page size", [&](auto* c) {
         v1::ListJobArtifactNamesRequest q;
         q.set_page_size(5000);
         v1::ListJobArtifactNamesResponse r;
         return s->ListJobArtifactNames(c, q, &r);
       }, grpc::StatusCode::INVALID_ARGUMENT},
      {"delete artifact unknown", [&](auto* c) {
         v1::DeleteJobArtifactRequest q;
         q.set_artifact_id("unknown");
         v1::DeleteJobArtifactResponse r;
         return s->DeleteJobArtifact(c, q, &r);
       }, grpc::StatusCode::NOT_FOUND},
      {"create job no group", [&](auto* c) {
         v1::CreateJobResponse r;
         return s->CreateJob(c, v1::CreateJobRequest(), &r);
       }, grpc::StatusCode::INVALID_ARGUMENT},
      {"create job bad id", [&](auto* c) {
         v1::CreateJobRequest q;
         q.mutable_job()->set_group("g");
         q.mutable_job()->set_id("job/1");
         v1::CreateJobResponse r;
         return s->CreateJob(c, q, &r);
       }, grpc::StatusCode::INVALID_ARGUMENT},
      {"get job unknown", [&](auto* c) {
         v1::GetJobRequest q;
         q.set_id("job-202601010000-aaaaaa");
         v1::Job r;
         return s->GetJob(c, q, &r);
       }, grpc::StatusCode::NOT_FOUND},
      {"list jobs bad status", [&](auto* c) {
         v1::ListJobsRequest q;
         q.add_statuses(static_cast<types::v1::JobStatus>(99));
         v1::ListJobsResponse r;
         return s->ListJobs(c, q, &r);
       }, grpc::StatusCode::INVALID_ARGUMENT},
      {"list jobs negative offset", [&](auto* c) {
         v1::ListJobsRequest q;
         q.set_offset(-1);
         v1::ListJobsResponse r;
         return s->ListJobs(c, q, &r);
       }, grpc::StatusCode::INVALID_ARGUMENT},
      {"update step unknown job", [&](auto* c) {
         v1::UpdateStepRequest q;
         q.set_job_id("nope");
         q.mutable_step()->set_name("x");
         q.mutable_step()->set_status(types::v1::STEP_STATUS_RUNNING);
         v1::Job r;
         return s->UpdateStep(c, q, &r);
       }, grpc::StatusCode::NOT_FOUND},
      {"finish unknown job", [&](auto* c) {
         v1::FinishJobRequest q;
         q.set_job_id("nope");
         v1::Job r;
         return s->FinishJob(c, q, &r);
       }, grpc::StatusCode::NOT_FOUND},
      {"delete job empty id", [&](auto* c) {
         v1::DeleteJobResponse r;
         return s->DeleteJob(c, v1::DeleteJobRequest(), &r);
       }, grpc::StatusCode::INVALID_ARGUMENT},
      {"remove finalizer empty", [&](auto* c) {
         v1::RemoveFinalizerRequest q;
         q.set_job_id("nope");
         v1::RemoveFinalizerResponse r;
         return s->RemoveFinalizer(c, q, &r);
       }, grpc::StatusCode::INVALID_ARGUMENT},
      {"set condition no type", [&](auto* c) {
         v1::SetConditionRequest q;
         q.set_job_id("nope");
         v1::Job r;
         return s->SetCondition(c, q, &r);
       }, grpc::StatusCode::INVALID_ARGUMENT},
      {"commit unknown job", [&](auto* c) {
         v1::CommitFilesRequest q;
         q.set_job_id("nope");
         v1::CommitFilesResponse r;
         return s->CommitFiles(c, q, &r);
       }, grpc::StatusCode::NOT_FOUND},
      {"list files unknown job", [&](auto* c) {
         v1::ListFilesRequest q;
         q.set_job_id("nope");
         v1::ListFilesResponse r;
         return s->ListFiles(c, q, &r);
       }, grpc::StatusCode::NOT_FOUND},
      {"get file dotdot", [&](auto* c) {
         v1::GetFileRequest q;
         q.set_job_id("nope");
         q.set_path("../etc/passwd");
         v1::ArtifactFile r;
         return s->GetFile(c, q, &r);
       }, grpc::StatusCode::INVALID_ARGUMENT},
      {"expired bad token", [&](auto* c) {
         v1::ListExpiredFilesRequest q;
         q.set_page_token("x");
         v1::ListExpiredFilesResponse r;
         return s->ListExpiredFiles(c, q, &r);
       }, grpc::StatusCode::INVALID_ARGUMENT},
      {"mark deleted bad path", [&](auto* c) {
         v1::MarkFilesDeletedRequest q;
         q.set_job_id("j");
         q.add_paths("/abs");
         v1::MarkFilesDeletedResponse r;
         return s->MarkFilesDeleted(c, q, &r);
       }, grpc::StatusCode::INVALID_ARGUMENT},
      {"blob ref bad digest", [&](auto* c) {
         v1::GetBlobRefRequest q;
         q.set_sha256("xyz");
         v1::BlobRef r;
         return s->GetBlobRef(c, q, &r);
       }, grpc::StatusCode::INVALID_ARGUMENT},
      {"unreferenced bad size", [&](auto* c) {
         v1::ListUnreferencedBlobsRequest q;
         q.set_page_size(-3);
         v1::ListUnreferencedBlobsResponse r;
         return s->ListUnreferencedBlobs(c, q, &r);
       }, grpc::StatusCode::INVALID_ARGUMENT},
      {"forget unknown blob", [&](auto* c) {
         v1::ForgetBlobRequest q;
         q.set_sha256(std::string(64, '0'));
         v1::ForgetBlobResponse r;
         return s->ForgetBlob(c, q, &r);
       }, grpc::StatusCode::NOT_FOUND},
      {"enqueue no event", [&](auto* c) {
         v1::EnqueueGcTaskRequest q;
         q.mutable_task()->set_job_id("j");
         v1::GcTask r;
         return s->EnqueueGcTask(c, q, &r);
       }, grpc::StatusCode::INVALID_ARGUMENT},
      {"lease no duration", [&](auto* c) {
         v1::LeaseGcTasksRequest q;
         q.set_max_tasks(1);
         v1::LeaseGcTasksResponse r;
         return s->LeaseGcTasks(c, q, &r);
       }, grpc::StatusCode::INVALID_ARGUMENT},
      {"complete unknown task", [&](auto* c) {
         v1::CompleteGcTaskRequest q;
         q.set_task_id("gc-1");
         v1::Empty r;
         return s->CompleteGcTask(c, q, &r);
       }, grpc::StatusCode::NOT_FOUND},
      {"retry unknown task", [&](auto* c) {
         v1::RetryGcTaskRequest q;
         q.set_task_id("gc-1");
         v1::GcTask r;
         return s->RetryGcTask(c, q, &r);
       }, grpc::StatusCode::NOT_FOUND},
      {"list tasks bad job", [&](auto* c) {
         v1::ListGcTasksRequest q;
         q.set_job_id("a b");
         v1::ListGcTasksResponse r;
         return s->ListGcTasks(c, q, &r);
       }, grpc::StatusCode::INVALID_ARGUMENT},
  };
  for (const Case& c : cases) {
    grpc::ClientContext context;
    grpc::Status status = c.call(&context);
    EXPECT_EQ(status.error_code(), c.want) << c.what << ": " << status.error_message();
    EXPECT_FALSE(status.error_message().empty()) << c.what;
  }
  grpc::ClientContext context;
  v1::GcQueueStatsResponse stats;
  EXPECT_TRUE(s->GcQueueStats(&context, v1::GcQueueStatsRequest(), &stats).ok());
}

// ------------------------------------------------- the real binary

const char* CatalogBinary() {
  const char* bin = std::getenv("ARCA_BIN_ARCA_CATALOG");
  return bin != nullptr ? bin : "build/bin/arca-catalog";
}

absl::StatusOr<std::string> StartCatalog(testing::Subprocess& child, const std::string& data_dir) {
  absl::Status started = child.Start({CatalogBinary(), "--listen=127.0.0.1:0",
                                      "--metrics_listen=", "--data_dir=" + data_dir});
  if (!started.ok()) return started;
  return child.WaitForListening(absl::Seconds(30));
}

TEST(CatalogBinaryTest, SigtermShutsDownCleanlyAndDataSurvives) {
  std::string dir = TempDir();
  std::string id;
  {
    testing::Subprocess child;
    auto address = StartCatalog(child, dir);
    ASSERT_TRUE(address.ok()) << address.status();
    auto channel = grpc::CreateChannel(*address, grpc::InsecureChannelCredentials());
    ASSERT_TRUE(rpc::WaitHealthy(channel, "arca.catalog.v1.Catalog", absl::Seconds(10)).ok());
    auto stub = v1::Catalog::NewStub(channel);
    grpc::ClientContext c;
    v1::CreateJobRequest req;
    req.mutable_job()->set_group("g");
    v1::CreateJobResponse resp;
    ASSERT_TRUE(stub->CreateJob(&c, req, &resp).ok());
    id = resp.job().id();
    child.Signal(SIGTERM);
    int status = child.Wait(absl::Seconds(30));
    ASSERT_TRUE(WIFEXITED(status)) << child.output();
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  testing::Subprocess again;
  auto address = StartCatalog(again, dir);
  ASSERT_TRUE(address.ok()) << address.status();
  auto stub = v1::Catalog::NewStub(
      grpc::CreateChannel(*address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext c;
  v1::GetJobRequest get;
  get.set_id(id);
  v1::Job job;
  EXPECT_TRUE(stub->GetJob(&c, get, &job).ok());
  std::filesystem::remove_all(dir);
}

TEST(CatalogBinaryTest, SecondProcessOnTheSameDataDirFailsClearly) {
  std::string dir = TempDir();
  testing::Subprocess first;
  ASSERT_TRUE(StartCatalog(first, dir).ok());
  testing::Subprocess second;
  auto address = StartCatalog(second, dir);
  EXPECT_EQ(address.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(second.output().find("cannot open catalog database"), std::string::npos)
      << second.output();
  std::filesystem::remove_all(dir);
}

// Clients write as fast as they can; the server is SIGKILLed mid-stream.
// Every write it acknowledged must be there afterwards, with every index in
// agreement.
TEST(CatalogBinaryTest, AcknowledgedWritesSurviveSigkill) {
  std::string dir = TempDir();
  struct Acked {
    std::string artifact_id, name, version, job_id;
  };
  std::mutex mu;
  std::vector<Acked> acked;
  {
    testing::Subprocess child;
    auto address = StartCatalog(child, dir);
    ASSERT_TRUE(address.ok()) << address.status();
    auto channel = grpc::CreateChannel(*address, grpc::InsecureChannelCredentials());
    ASSERT_TRUE(rpc::WaitHealthy(channel, "", absl::Seconds(10)).ok());
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int w = 0; w < 8; ++w) {
      writers.emplace_back([&, w] {
        auto stub = v1::Catalog::NewStub(channel);
        for (int i = 0; !stop; ++i) {
          Acked a;
          a.name = absl::StrCat("crash-", w % 3);
          a.version = absl::StrCat(w, ".", i);
          grpc::ClientContext c1;
          c1.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
          v1::RegisterJobArtifactRequest reg;
          reg.mutable_artifact()->set_name(a.name);
          reg.mutable_artifact()->set_version(a.version);
          v1::RegisterJobArtifactResponse reg_resp;
          if (!stub->RegisterJobArtifact(&c1, reg, &reg_resp).ok()) return;
          a.artifact_id = reg_resp.artifact().artifact_id();
          grpc::ClientContext c2;
          c2.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
          v1::CreateJobRequest job;
          job.mutable_job()->set_group("crash");
          job.mutable_job()->set_compendium_id(a.artifact_id);
          v1::CreateJobResponse job_resp;
          if (!stub->CreateJob(&c2, job, &job_resp).ok()) return;
          a.job_id = job_resp.job().id();
          grpc::ClientContext c3;
          c3.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
          v1::CommitFilesRequest files;
          files.set_job_id(a.job_id);
          auto* f = files.add_files();
          f->set_path("out/result.txt");
          f->set_size(1);
          f->set_sha256(std::string(64, "0123456789abcdef"[i % 16]));
          v1::CommitFilesResponse files_resp;
          if (!stub->CommitFiles(&c3, files, &files_resp).ok()) return;
          std::lock_guard<std::mutex> lock(mu);
          acked.push_back(a);
        }
      });
    }
    // Kill once a good number of writes are acknowledged (or a deadline).
    const absl::Time end = absl::Now() + absl::Seconds(30);
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (acked.size() >= 200 || absl::Now() > end) break;
      }
      std::this_thread::yield();
    }
    child.Signal(SIGKILL);
    child.Wait(absl::Seconds(10));
    stop = true;
    for (auto& t : writers) t.join();
  }
  ASSERT_GE(acked.size(), 50u) << "too few writes before the kill to test anything";

  CatalogOptions options;
  options.data_dir = dir;  // what the binary was given
  auto catalog = Catalog::Open(options, Clock::Real());
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  for (const Acked& a : acked) {
    auto artifact = (*catalog)->GetJobArtifact(a.artifact_id);
    ASSERT_TRUE(artifact.ok()) << a.artifact_id << ": " << artifact.status();
    v1::ListJobArtifactsRequest by_nv;
    by_nv.set_name(a.name);
    by_nv.set_version(a.version);
    auto listed = (*catalog)->ListJobArtifacts(by_nv);
    ASSERT_TRUE(listed.ok());
    ASSERT_EQ(listed->artifacts_size(), 1) << a.name << "@" << a.version;
    EXPECT_EQ(listed->artifacts(0).artifact_id(), a.artifact_id);
    auto job = (*catalog)->GetJob(a.job_id);
    ASSERT_TRUE(job.ok()) << a.job_id;
    EXPECT_EQ(job->compendium_id(), a.artifact_id);
    EXPECT_TRUE((*catalog)->GetFile(a.job_id, "out/result.txt").ok()) << a.job_id;
  }
  // Every index agrees with the records: names <-> versions <-> artifacts,
  // and the group index lists exactly the stored jobs.
  v1::ListJobArtifactNamesRequest names;
  auto listed_names = (*catalog)->ListJobArtifactNames(names);
  ASSERT_TRUE(listed_names.ok());
  size_t artifacts_by_name = 0;
  for (const std::string& name : listed_names->names()) {
    v1::ListJobArtifactsRequest by_name;
    by_name.set_name(name);
    by_name.set_page_size(1000);
    for (;;) {
      auto page = (*catalog)->ListJobArtifacts(by_name);
      ASSERT_TRUE(page.ok()) << page.status();
      for (const auto& a : page->artifacts()) {
        EXPECT_EQ(a.name(), name);
        ++artifacts_by_name;
      }
      if (page->next_page_token().empty()) break;
      by_name.set_page_token(page->next_page_token());
    }
  }
  v1::ListJobArtifactsRequest all;
  all.set_page_size(1000);
  size_t artifacts_by_id = 0;
  for (;;) {
    auto page = (*catalog)->ListJobArtifacts(all);
    ASSERT_TRUE(page.ok());
    artifacts_by_id += page->artifacts_size();
    if (page->next_page_token().empty()) break;
    all.set_page_token(page->next_page_token());
  }
  EXPECT_EQ(artifacts_by_name, artifacts_by_id);
  EXPECT_GE(artifacts_by_id, acked.size());
  v1::ListJobsRequest jobs;
  jobs.set_group("crash");
  jobs.set_page_size(1000);
  size_t listed_jobs = 0;
  for (;;) {
    auto page = (*catalog)->ListJobs(jobs);
    ASSERT_TRUE(page.ok()) << page.status();  // fails if an index entry lacks its job
    listed_jobs += page->jobs_size();
    if (page->next_page_token().empty()) break;
    jobs.set_page_token(page->next_page_token());
  }
  EXPECT_GE(listed_jobs, acked.size());
  catalog->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace arca::catalog
