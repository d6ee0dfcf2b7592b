// Identity where the data is: every RPC of every service has a rule, and
// every one is enforced — called with no token, another group's token, a
// reader's token and a service acting for a user — against the real
// services on real sockets.

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/auth/authorizer.h"
#include "common/auth/security.h"
#include "common/auth/tokens.h"
#include "common/blob/store.h"
#include "common/rpc/server.h"
#include "common/hash/sha256.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/impl/codegen/client_unary_call.h"
#include "common/logging.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/catalog/catalog_service.h"
#include "services/collector/collector_service.h"
#include "services/retention/retention_gc_service.h"
#include "services/scheduling/scheduler_attribute_service.h"

namespace arca {
namespace {

namespace cat = ::arca::catalog::v1;
namespace cv1 = ::arca::collector::v1;
using ::google::protobuf::Message;

constexpr const char* kServices[] = {
    "arca.catalog.v1.Catalog", "arca.collector.v1.Collector", "arca.retention.v1.RetentionGc",
    "arca.scheduling.v1.SchedulerAttribute"};

const google::protobuf::ServiceDescriptor* Service(const char* name) {
  // Generated descriptors are registered when their code is linked.
  cat::Catalog::service_full_name();
  return google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
}

TEST(AuthorizationTableTest, EveryRpcOfEveryServiceHasARuleAndEveryRuleAnRpc) {
  std::set<std::string> methods;
  for (const char* name : kServices) {
    const auto* service = Service(name);
    ASSERT_NE(service, nullptr) << name;
    for (int i = 0; i < service->method_count(); ++i) {
      const std::string method = absl::StrCat("/", name, "/", service->method(i)->name());
      methods.insert(method);
      EXPECT_NE(auth::FindRule(method), nullptr) << method << " has no authorization rule";
    }
  }
  for (const auth::Rule& rule : auth::Rules()) {
    EXPECT_EQ(methods.count(std::string(rule.method)), 1u) << rule.method << " is no RPC";
  }
}

// The four services, in process, each with the authorizer, behind one
// server; the collector and retention-gc reach the catalog as a service.
class AuthorizationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/arca-authz-XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::ofstream(dir_ + "/tokens") << absl::StrCat(
        "sha256:", hash::Sha256::Of("alice"), " team-a moderately_sensitive alice writer\n",
        "sha256:", hash::Sha256::Of("bob"), " team-b highly_sensitive bob reader\n",
        "sha256:", hash::Sha256::Of("ops"), " * highly_sensitive ops admin\n",
        "sha256:", hash::Sha256::Of("svc"), " * highly_sensitive svc service\n");
    tokens_ = *auth::TokenFile::Open(dir_ + "/tokens");
    authorizer_ = std::make_shared<auth::Authorizer>(tokens_);

    catalog::CatalogOptions catalog_options;
    catalog_options.data_dir = dir_ + "/db";
    catalog_options.backup_dir = dir_ + "/backups";
    catalog_options.min_free_bytes = 0;
    catalog_options.reserve_bytes = 0;
    catalog_ = *catalog::Catalog::Open(catalog_options, Clock::Real());
    catalog_service_ = std::make_unique<catalog::CatalogServiceImpl>(catalog_.get(), authorizer_);
    rpc::ServerOptions catalog_server;
    catalog_server.name = "catalog";
    catalog_server.authorizer = authorizer_;
    catalog_server_ = *rpc::Server::Start(catalog_server,
                                     {{cat::Catalog::service_full_name(), catalog_service_.get()}},
                                     registry_);
    // The other services call the catalog with the service token.
    peer_ = clients::NewCatalogClient(*auth::SecureChannel(
        catalog_server_->address(), {"svc", "", "", ""}, grpc::ChannelArguments()));

    blobs_ = *blob::OpenLocalBlobStore(dir_ + "/blobs");
    collector_metrics_ = std::make_unique<collector::CollectorMetrics>(*registry_);
    collector_ = std::make_unique<collector::Collector>(collector::CollectorOptions(), blobs_.get(),
                                                        peer_.get(), Clock::Real(),
                                                        collector_metrics_.get());
    collector_service_ = std::make_unique<collector::CollectorServiceImpl>(
        collector_.get(), absl::Minutes(1), authorizer_);
    retention_metrics_ = std::make_unique<retention::RetentionMetrics>(*registry_);
    retention_ = std::make_unique<retention::RetentionGc>(retention::RetentionOptions(), peer_.get(),
                                                          blobs_.get(), Clock::Real(),
                                                          retention_metrics_.get());
    retention_service_ =
        std::make_unique<retention::RetentionGcServiceImpl>(retention_.get(), authorizer_);
    scheduler_metrics_ = std::make_unique<scheduling::SchedulerMetrics>(*registry_);
    scheduler_ = std::make_unique<scheduling::SchedulerAttribute>(
        scheduling::SchedulerOptions(), peer_.get(), scheduler_metrics_.get());
    scheduler_service_ =
        std::make_unique<scheduling::SchedulerAttributeServiceImpl>(scheduler_.get(), authorizer_);
    rpc::ServerOptions others;
    others.name = "others";
    others.authorizer = authorizer_;
    others_server_ = *rpc::Server::Start(
        others,
        {{cv1::Collector::service_full_name(), collector_service_.get()},
         {retention::v1::RetentionGc::service_full_name(), retention_service_.get()},
         {scheduling::v1::SchedulerAttribute::service_full_name(), scheduler_service_.get()}},
        registry_);

    // team-a's job, with a file at each level.
    cat::CreateJobRequest create;
    create.mutable_job()->set_group("team-a");
    job_ = catalog_->CreateJob(create)->job().id();
    cat::CommitFilesRequest commit;
    commit.set_job_id(job_);
    for (const auto& [path, level] :
         {std::pair{"public.txt", types::v1::PRIVACY_LEVEL_MODERATELY_SENSITIVE},
          std::pair{"secret.txt", types::v1::PRIVACY_LEVEL_HIGHLY_SENSITIVE}}) {
      cat::ArtifactFile* f = commit.add_files();
      f->set_path(path);
      f->set_size(1);
      f->set_sha256(hash::Sha256::Of(path));
      f->set_privacy_level(level);
    }
    ASSERT_TRUE(catalog_->CommitFiles(commit).ok());
  }
  void TearDown() override {
    others_server_.reset();
    catalog_server_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A channel to the server holding `method`, presenting `token`.
  std::shared_ptr<grpc::Channel> ChannelFor(const std::string& method, const std::string& token) {
    const std::string& address = absl::StartsWith(method, "/arca.catalog.")
                                     ? catalog_server_->address()
                                     : others_server_->address();
    return *auth::SecureChannel(address, {token, "", "", ""}, grpc::ChannelArguments());
  }

  // A request for `method` naming team-a's job, its public file and a group
  // and artifact where it has fields for them.
  std::unique_ptr<Message> RequestFor(const std::string& method) {
    const auto* service = Service(std::string(method.substr(1, method.rfind('/') - 1)).c_str());
    const auto* rpc = service->FindMethodByName(std::string(auth::MethodName(method)));
    std::unique_ptr<Message> m(
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(rpc->input_type())->New());
    Fill(m.get());
    return m;
  }
  void Fill(Message* m) {
    const std::map<std::string, std::string> values = {
        {"job_id", job_}, {"id", job_}, {"path", "public.txt"}, {"group", "team-a"},
        {"sha256", hash::Sha256::Of("public.txt")}, {"name", "app"}, {"version", "1"},
        {"artifact_id", "art-none"}, {"dir", "backup"}, {"task_id", "task-none"}};
    const auto* d = m->GetDescriptor();
    const auto* r = m->GetReflection();
    for (int i = 0; i < d->field_count(); ++i) {
      const auto* f = d->field(i);
      if (f->is_repeated()) continue;
      if (f->type() == google::protobuf::FieldDescriptor::TYPE_STRING) {
        if (auto it = values.find(f->name()); it != values.end()) r->SetString(m, f, it->second);
      } else if (f->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE &&
                 (f->message_type()->full_name() == "arca.catalog.v1.Job" ||
                  f->message_type()->full_name() == "arca.catalog.v1.JobArtifact")) {
        Fill(r->MutableMessage(m, f));
        if (f->message_type()->full_name() == "arca.catalog.v1.Job") {
          r->MutableMessage(m, f)->GetReflection()->ClearField(
              r->MutableMessage(m, f), f->message_type()->FindFieldByName("id"));
        }
      }
    }
  }

  // Calls `method` with `token` (and the user a service acts for); its code.
  grpc::StatusCode Call(const std::string& method, const std::string& token,
                        const std::string& act_for = "") {
    auto channel = ChannelFor(method, token);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!act_for.empty()) auth::ActFor(context, act_for);
    if (absl::EndsWith(method, "/Upload")) {
      cv1::UploadResponse response;
      auto writer = cv1::Collector::NewStub(channel)->Upload(&context, &response);
      cv1::UploadRequest m;
      m.mutable_manifest()->set_job_id(job_);
      writer->Write(m);
      m.Clear();
      m.mutable_end();
      writer->Write(m);
      writer->WritesDone();
      return writer->Finish().error_code();
    }
    if (absl::EndsWith(method, "/Download")) {
      cv1::DownloadRequest request;
      request.set_job_id(job_);
      request.set_path("public.txt");
      auto reader = cv1::Collector::NewStub(channel)->Download(&context, request);
      cv1::DownloadResponse m;
      while (reader->Read(&m)) {
      }
      return reader->Finish().error_code();
    }
    auto request = RequestFor(method);
    const auto* service = Service(std::string(method.substr(1, method.rfind('/') - 1)).c_str());
    const auto* rpc = service->FindMethodByName(std::string(auth::MethodName(method)));
    std::unique_ptr<Message> response(
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(rpc->output_type())->New());
    grpc::internal::RpcMethod rpc_method(method.c_str(), grpc::internal::RpcMethod::NORMAL_RPC,
                                         channel);
    return grpc::internal::BlockingUnaryCall<Message, Message>(channel.get(), rpc_method, &context,
                                                               *request, response.get())
        .error_code();
  }

  std::string dir_, job_;
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  std::shared_ptr<auth::TokenFile> tokens_;
  std::shared_ptr<auth::Authorizer> authorizer_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<catalog::CatalogServiceImpl> catalog_service_;
  std::unique_ptr<rpc::Server> catalog_server_;
  std::unique_ptr<clients::CatalogClient> peer_;
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
  std::unique_ptr<rpc::Server> others_server_;
};

TEST_F(AuthorizationTest, EveryRpcWithoutCredentialsIsUnauthenticated) {
  for (const auth::Rule& rule : auth::Rules()) {
    const std::string method(rule.method);
    EXPECT_EQ(Call(method, ""), grpc::StatusCode::UNAUTHENTICATED) << method;
    EXPECT_EQ(Call(method, "not-a-token"), grpc::StatusCode::UNAUTHENTICATED) << method;
  }
}

TEST_F(AuthorizationTest, AReaderMayNotWriteAndAnotherGroupsJobIsNotFound) {
  for (const auth::Rule& rule : auth::Rules()) {
    const std::string method(rule.method);
    const grpc::StatusCode bob = Call(method, "bob");  // team-b, reader
    if (rule.role != auth::Role::kReader) {
      EXPECT_EQ(bob, grpc::StatusCode::PERMISSION_DENIED) << method;
    } else if (rule.scope == auth::Scope::kJob) {
      EXPECT_EQ(bob, grpc::StatusCode::NOT_FOUND) << method;  // team-a's job, never revealed
    } else {
      EXPECT_NE(bob, grpc::StatusCode::PERMISSION_DENIED) << method;
      EXPECT_NE(bob, grpc::StatusCode::UNAUTHENTICATED) << method;
    }
    // Arca's internal work needs the service role, even for an admin.
    if (rule.scope == auth::Scope::kInternal) {
      EXPECT_EQ(Call(method, "ops"), grpc::StatusCode::PERMISSION_DENIED) << method;
    }
  }
}

TEST_F(AuthorizationTest, FilesAboveTheCallersLevelAreNotFoundAndListingsHideThem) {
  auto channel = ChannelFor("/arca.catalog.v1.Catalog/GetFile", "alice");
  auto stub = cat::Catalog::NewStub(channel);
  cat::ListFilesRequest list;
  list.set_job_id(job_);
  cat::ListFilesResponse files;
  grpc::ClientContext c1;
  ASSERT_TRUE(stub->ListFiles(&c1, list, &files).ok());
  ASSERT_EQ(files.files_size(), 1);
  EXPECT_EQ(files.files(0).path(), "public.txt");
  cat::GetFileRequest get;
  get.set_job_id(job_);
  get.set_path("secret.txt");
  cat::ArtifactFile file;
  grpc::ClientContext c2;
  EXPECT_EQ(stub->GetFile(&c2, get, &file).error_code(), grpc::StatusCode::NOT_FOUND);
  // bob sees no team-a job in a listing; ops sees it.
  cat::ListJobsResponse jobs;
  grpc::ClientContext c3;
  ASSERT_TRUE(cat::Catalog::NewStub(ChannelFor("/arca.catalog.v1.Catalog/ListJobs", "bob"))
                  ->ListJobs(&c3, cat::ListJobsRequest(), &jobs)
                  .ok());
  EXPECT_EQ(jobs.jobs_size(), 0);
  grpc::ClientContext c4;
  ASSERT_TRUE(cat::Catalog::NewStub(ChannelFor("/arca.catalog.v1.Catalog/ListJobs", "ops"))
                  ->ListJobs(&c4, cat::ListJobsRequest(), &jobs)
                  .ok());
  EXPECT_EQ(jobs.jobs_size(), 1);
}

TEST_F(AuthorizationTest, OnlyAServiceMayActForAUserAndThenItIsThatUser) {
  auto whoami = [&](const std::string& token, const std::string& act_for,
                    cat::WhoAmIResponse* out) {
    grpc::ClientContext context;
    if (!act_for.empty()) auth::ActFor(context, act_for);
    return cat::Catalog::NewStub(ChannelFor("/arca.catalog.v1.Catalog/WhoAmI", token))
        ->WhoAmI(&context, cat::WhoAmIRequest(), out)
        .error_code();
  };
  cat::WhoAmIResponse who;
  SetAccessLogSample(1);
  ::testing::internal::CaptureStderr();
  ASSERT_EQ(whoami("svc", "alice", &who), grpc::StatusCode::OK);
  FlushLogs();
  const std::string logged = ::testing::internal::GetCapturedStderr();
  // The access line names who the call acted as.
  EXPECT_NE(logged.find("grpc method=/arca.catalog.v1.Catalog/WhoAmI code=OK"), std::string::npos) << logged;
  EXPECT_NE(logged.find(" identity=alice"), std::string::npos) << logged;
  EXPECT_EQ(who.name(), "alice");
  EXPECT_EQ(who.role(), "writer");
  EXPECT_EQ(std::vector<std::string>(who.groups().begin(), who.groups().end()),
            std::vector<std::string>{"team-a"});
  EXPECT_EQ(whoami("alice", "ops", &who), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(whoami("svc", "nobody", &who), grpc::StatusCode::UNAUTHENTICATED);
  // The service acting for bob sees what bob sees.
  EXPECT_EQ(Call("/arca.catalog.v1.Catalog/GetJob", "svc", "bob"), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Call("/arca.catalog.v1.Catalog/GetJob", "svc", "alice"), grpc::StatusCode::OK);
  // The collector, acting for bob, finds no team-a job to upload to.
  EXPECT_EQ(Call("/arca.collector.v1.Collector/Upload", "alice"), grpc::StatusCode::OK);
  EXPECT_EQ(Call("/arca.collector.v1.Collector/Download", "alice"), grpc::StatusCode::DATA_LOSS);
}

}  // namespace
}  // namespace arca
