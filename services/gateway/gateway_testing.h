#ifndef ARCA_SERVICES_GATEWAY_GATEWAY_TESTING_H_
#define ARCA_SERVICES_GATEWAY_GATEWAY_TESTING_H_

// The gateway's test bench: real catalog, collector, retention-gc and
// scheduler-attribute services (in-process, on loopback ports), a gateway
// on a real HTTP socket, and a raw client to speak to it.

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/clock.h"
#include "common/rpc/server.h"
#include "common/rpc/service_main.h"
#include "common/hash/sha256.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "prometheus/registry.h"
#include "services/catalog/catalog_testing.h"
#include "services/collector/collector_service.h"
#include "common/auth/tokens.h"
#include "services/gateway/gateway.h"
#include "common/http/server.h"
#include "services/gateway/http_test_client.h"
#include "services/retention/retention_gc_service.h"
#include "services/scheduling/scheduler_attribute_service.h"

namespace arca::gateway {

using Json = nlohmann::json;
namespace cat = ::arca::catalog::v1;
namespace cv1 = ::arca::collector::v1;

std::string WriteTokens(const std::string& path, const std::string& text);

// ----------------------------------------------------------- the fixture

class UploadList : public collector::UploadSource {
 public:
  explicit UploadList(std::vector<cv1::UploadRequest> m) : m_(std::move(m)) {}
  bool Next(cv1::UploadRequest* out) override {
    if (i_ >= m_.size()) return false;
    *out = m_[i_++];
    return true;
  }

 private:
  std::vector<cv1::UploadRequest> m_;
  size_t i_ = 0;
};

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServices(); }

  void StartServices() {
    dir_ = test_catalog_.dir();
    blobs_ = *blob::OpenLocalBlobStore(dir_ + "/blobs");
    collector_metrics_ = std::make_unique<collector::CollectorMetrics>(*registry_);
    collector_ = std::make_unique<collector::Collector>(collector::CollectorOptions(), blobs_.get(),
                                                        &test_catalog_.client(), Clock::Real(),
                                                        collector_metrics_.get());
    collector_service_ = std::make_unique<collector::CollectorServiceImpl>(collector_.get());
    retention_metrics_ = std::make_unique<retention::RetentionMetrics>(*registry_);
    retention_ = std::make_unique<retention::RetentionGc>(retention::RetentionOptions(),
                                                          &test_catalog_.client(), blobs_.get(),
                                                          Clock::Real(), retention_metrics_.get());
    retention_service_ = std::make_unique<retention::RetentionGcServiceImpl>(retention_.get());
    scheduler_metrics_ = std::make_unique<scheduling::SchedulerMetrics>(*registry_);
    scheduler_ = std::make_unique<scheduling::SchedulerAttribute>(
        scheduling::SchedulerOptions(), &test_catalog_.client(), scheduler_metrics_.get());
    scheduler_service_ =
        std::make_unique<scheduling::SchedulerAttributeServiceImpl>(scheduler_.get());
    rpc::ServerOptions so;
    so.name = "backends";
    backends_server_ = *rpc::Server::Start(
        so,
        {{cv1::Collector::service_full_name(), collector_service_.get()},
         {retention::v1::RetentionGc::service_full_name(), retention_service_.get()},
         {scheduling::v1::SchedulerAttribute::service_full_name(), scheduler_service_.get()}},
        registry_);
  }

  // Starts (or restarts) the gateway; tokens_file empty: no authentication.
  void StartGateway(const std::string& tokens_file = "",
                    http::HttpServerOptions http_options = http::HttpServerOptions(),
                    GatewayOptions options = GatewayOptions()) {
    server_.reset();
    gateway_.reset();
    auth_.reset();
    if (!tokens_file.empty()) auth_ = *auth::TokenFile::Open(tokens_file, &clock_);
    Backends b;
    b.catalog = *rpc::PeerChannel(test_catalog_.address(), {});
    b.collector = b.retention_gc = b.scheduler_attribute =
        *rpc::PeerChannel(backends_server_->address(), {});
    if (!downloads_through_collector_) b.blobs = blobs_.get();
    gateway_ =
        std::make_unique<Gateway>(options, b, auth_.get(), gateway_registry_, &clock_);
    server_ = *http::HttpServer::Start(
        http_options,
        [this](const http::HttpRequest& req, http::HttpResponder& out) { gateway_->Handle(req, out); },
        &http_metrics_,
        [this](const http::HttpRequest& req, http::HttpResponse* out) { return gateway_->FromCache(req, out); });
  }

  Response Fetch(const std::string& method, const std::string& target, const std::string& body = "",
                 std::vector<std::pair<std::string, std::string>> headers = {}) {
    if (!token_.empty()) headers.emplace_back("Authorization", "Bearer " + token_);
    int fd = Connect(server_->port());
    EXPECT_GE(fd, 0);
    SendAll(fd, Request(method, target, body, headers));
    Response r = ReadResponse(fd, method == "HEAD");
    close(fd);
    return r;
  }
  Response Get(const std::string& target,
               std::vector<std::pair<std::string, std::string>> headers = {}) {
    return Fetch("GET", target, "", std::move(headers));
  }
  Response PostJson(const std::string& target, const Json& body,
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
    headers.emplace_back("Content-Type", "application/json");
    return Fetch("POST", target, body.dump(), std::move(headers));
  }

  std::string NewArtifact(const std::string& name = "my-app", const std::string& version = "1.0.0") {
    Response r = PostJson("/api/v1/jobArtifacts", Json{{"name", name}, {"version", version}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json()["resourceID"];
  }
  std::string NewJob(const std::string& group = "team-a", const std::string& compendium = "") {
    cat::CreateJobRequest r;
    r.mutable_job()->set_group(group);
    r.mutable_job()->set_compendium_id(compendium);
    return catalog_->CreateJob(r)->job().id();
  }
  void Finish(const std::string& job) {
    cat::FinishJobRequest f;
    f.set_job_id(job);
    f.set_outcome(types::v1::JOB_STATUS_SUCCESS);
    ASSERT_TRUE(catalog_->FinishJob(f).ok());
  }
  // Collects files into a job; paths under secret/ are highly sensitive.
  void Collect(const std::string& job, const std::map<std::string, std::string>& files) {
    std::vector<cv1::UploadRequest> m(1);
    auto* manifest = m[0].mutable_manifest();
    manifest->set_job_id(job);
    manifest->set_include_hidden(true);
    auto* secret = manifest->add_patterns();
    secret->set_glob("secret/*");
    secret->set_privacy_level(types::v1::PRIVACY_LEVEL_HIGHLY_SENSITIVE);
    auto* rest = manifest->add_patterns();
    rest->set_glob("*");
    rest->set_privacy_level(types::v1::PRIVACY_LEVEL_MODERATELY_SENSITIVE);
    for (const auto& [path, content] : files) {
      m.emplace_back();
      m.back().mutable_file()->set_path(path);
      m.back().mutable_file()->set_size(content.size());
      m.emplace_back();
      m.back().set_chunk(content);
    }
    m.emplace_back();
    m.back().mutable_end();
    UploadList source(std::move(m));
    auto result = collector_->Upload(source);
    ASSERT_TRUE(result.ok()) << result.status();
  }

  FakeClock clock_;
  catalog::TestCatalog test_catalog_;
  catalog::Catalog* catalog_ = &test_catalog_.catalog();
  std::string dir_;
  // The gateway reads the blob store itself unless this is set.
  bool downloads_through_collector_ = false;
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  std::shared_ptr<prometheus::Registry> gateway_registry_ = std::make_shared<prometheus::Registry>();
  http::HttpMetrics http_metrics_{*gateway_registry_};
  std::unique_ptr<blob::BlobStore> blobs_;
  std::unique_ptr<collector::CollectorMetrics> collector_metrics_;
  std::unique_ptr<collector::Collector> collector_;
  std::unique_ptr<collector::CollectorServiceImpl> collector_service_;
  std::unique_ptr<retention::RetentionMetrics> retention_metrics_;
  std::unique_ptr<retention::RetentionGc> retention_;
  std::unique_ptr<retention::RetentionGcServiceImpl> retention_service_;
  std::unique_ptr<scheduling::SchedulerMetrics> scheduler_metrics_;
  std::unique_ptr<scheduling::SchedulerAttribute> scheduler_;
  std::unique_ptr<scheduling::SchedulerAttributeServiceImpl> scheduler_service_;
  std::unique_ptr<rpc::Server> backends_server_;
  std::unique_ptr<auth::TokenFile> auth_;
  std::unique_ptr<Gateway> gateway_;
  std::unique_ptr<http::HttpServer> server_;
  std::string token_;  // sent as a bearer token when set
};

class RestTest : public GatewayTest {
 protected:
  void SetUp() override {
    GatewayTest::SetUp();
    StartGateway();
  }
};

class AuthTest : public GatewayTest {
 protected:
  void SetUp() override {
    GatewayTest::SetUp();
    tokens_ = dir_ + "/tokens";
    WriteTokens(tokens_, absl::StrCat("# alice sees team-a, everything\n",
                                      "sha256:", hash::Sha256::Of("alice-token"), " team-a highly_sensitive alice\n",
                                      "sha256:", hash::Sha256::Of("bob-token"), " team-a,team-c moderately_sensitive bob\n",
                                      "sha256:", hash::Sha256::Of("ops-token"), " * highly_sensitive ops\n"));
    StartGateway(tokens_);
    job_a_ = NewJob("team-a");
    job_b_ = NewJob("team-b");
    Collect(job_a_, {{"public.txt", "p"}, {"secret/key.txt", "k"}});
    Collect(job_b_, {{"b.txt", "b"}});
  }
  std::string tokens_, job_a_, job_b_;
};


}  // namespace arca::gateway

#endif  // ARCA_SERVICES_GATEWAY_GATEWAY_TESTING_H_
