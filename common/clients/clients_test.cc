#include <atomic>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/clients/catalog.h"
#include "common/rpc/server.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/catalog/v1/catalog.grpc.pb.h"
#include "prometheus/registry.h"
#include "services/catalog/catalog_testing.h"

namespace arca::clients {
namespace {

namespace cat = ::arca::catalog::v1;

// A catalog server that answers a few calls the way a test needs, over a
// real socket; it counts the calls it was asked.
class ScriptedCatalog final : public cat::Catalog::Service {
 public:
  grpc::Status ListJobs(grpc::ServerContext*, const cat::ListJobsRequest*,
                        cat::ListJobsResponse*) override {
    ++list_calls;
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "draining");
  }
  grpc::Status CreateJob(grpc::ServerContext*, const cat::CreateJobRequest*,
                         cat::CreateJobResponse*) override {
    ++create_calls;
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "draining");
  }
  grpc::Status GetJob(grpc::ServerContext* context, const cat::GetJobRequest* request,
                      cat::Job* job) override {
    if (request->id() == "slow") {
      while (!context->IsCancelled()) absl::SleepFor(absl::Milliseconds(1));
      return grpc::Status::CANCELLED;
    }
    auto act_for = context->client_metadata().find("x-arca-act-for");
    job->set_id(request->id());
    if (act_for != context->client_metadata().end()) {
      job->set_group(std::string(act_for->second.data(), act_for->second.size()));
    }
    return grpc::Status::OK;
  }
  grpc::Status GetFile(grpc::ServerContext*, const cat::GetFileRequest* request,
                       cat::ArtifactFile*) override {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "no file " + request->path());
  }

  std::atomic<int> list_calls{0}, create_calls{0};
};

class ClientsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rpc::ServerOptions options;
    options.name = "scripted";
    auto server = rpc::Server::Start(options, {{cat::Catalog::service_full_name(), &scripted_}},
                                     std::make_shared<prometheus::Registry>());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = NewCatalogClient(
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  }

  ScriptedCatalog scripted_;
  std::unique_ptr<rpc::Server> server_;
  std::unique_ptr<CatalogClient> client_;
};

TEST_F(ClientsTest, AnIdempotentCallIsTriedAgainWhenThePeerIsUnavailable) {
  auto listed = client_->ListJobs(cat::ListJobsRequest());
  EXPECT_EQ(listed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(listed.status().message(), "catalog is unavailable: draining");
  EXPECT_EQ(scripted_.list_calls, 3);
}

TEST_F(ClientsTest, AWriteThatMayHaveHappenedIsNotTriedAgain) {
  auto created = client_->CreateJob(cat::CreateJobRequest());
  EXPECT_EQ(created.status().message(), "catalog is unavailable: draining");
  EXPECT_EQ(scripted_.create_calls, 1);
}

TEST_F(ClientsTest, APeerThatDoesNotAnswerInTimeIsWordedAsSuch) {
  cat::GetJobRequest get;
  get.set_id("slow");
  CallOptions call;
  call.timeout = absl::Milliseconds(200);
  auto job = client_->GetJob(get, call);
  EXPECT_EQ(job.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(job.status().message(), "catalog did not answer in time");
}

TEST_F(ClientsTest, ThePeersOwnAnswerIsPassedOnUnchanged) {
  cat::GetFileRequest get;
  get.set_path("a.txt");
  auto file = client_->GetFile(get);
  EXPECT_EQ(file.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(file.status().message(), "no file a.txt");
}

TEST_F(ClientsTest, ACallActsForTheUserItNames) {
  cat::GetJobRequest get;
  get.set_id("j");
  EXPECT_EQ(client_->GetJob(get)->group(), "");
  CallOptions call;
  call.act_for = "alice";
  EXPECT_EQ(client_->GetJob(get, call)->group(), "alice");
}

TEST(ClientNameTest, ErrorsNameThePeerAsTheClientWasToldTo) {
  // Nothing listens on a port taken from a server that has gone.
  std::string gone;
  {
    catalog::TestCatalog stopped;
    gone = stopped.address();
  }
  ClientOptions options;
  options.name = absl::StrCat("catalog at ", gone);
  auto client =
      NewCatalogClient(grpc::CreateChannel(gone, grpc::InsecureChannelCredentials()), options);
  auto job = client->GetJob(cat::GetJobRequest());
  EXPECT_TRUE(absl::StartsWith(job.status().message(),
                               absl::StrCat("catalog at ", gone, " is unavailable: ")))
      << job.status();
}

TEST(ClientPagingTest, ForEachJobFollowsEveryPageOfTheRealCatalog) {
  catalog::TestCatalog catalog;
  for (int i = 0; i < 25; ++i) {
    cat::CreateJobRequest create;
    create.mutable_job()->set_id(absl::StrCat("job-", i));
    create.mutable_job()->set_group("g");
    ASSERT_TRUE(catalog.client().CreateJob(create).ok());
  }
  const double before = catalog.Calls();
  cat::ListJobsRequest filter;
  filter.set_page_size(10);
  int seen = 0;
  ASSERT_TRUE(catalog.client()
                  .ForEachJob(filter,
                              [&](const cat::Job&) {
                                ++seen;
                                return absl::OkStatus();
                              })
                  .ok());
  EXPECT_EQ(seen, 25);
  EXPECT_EQ(catalog.Calls() - before, 3);  // pages of 10, 10 and 5

  // The callback's error ends the iteration with that error.
  seen = 0;
  absl::Status stopped = catalog.client().ForEachJob(filter, [&](const cat::Job&) {
    return ++seen == 12 ? absl::CancelledError("enough") : absl::OkStatus();
  });
  EXPECT_EQ(stopped, absl::CancelledError("enough"));
  EXPECT_EQ(seen, 12);
}

// A fake implements only what its test needs; the rest says so.
class OneJobCatalog : public CatalogClient {
 public:
  absl::StatusOr<cat::ListJobsResponse> ListJobs(const cat::ListJobsRequest& r,
                                                 const CallOptions&) override {
    cat::ListJobsResponse page;
    page.add_jobs()->set_id(r.page_token().empty() ? "first" : "second");
    if (r.page_token().empty()) page.set_next_page_token("more");
    return page;
  }
};

TEST(ClientFakeTest, AFakeOverridesOnlyTheCallsItNeeds) {
  OneJobCatalog fake;
  std::string ids;
  ASSERT_TRUE(fake.ForEachJob({}, [&](const cat::Job& j) {
                    ids += j.id() + " ";
                    return absl::OkStatus();
                  }).ok());
  EXPECT_EQ(ids, "first second ");
  EXPECT_EQ(fake.GetJob({}).status().code(), absl::StatusCode::kUnimplemented);
}

TEST(ClientBatchTest, ForEachBlobRefAsksInBatchesOfTheCatalogsLimit) {
  catalog::TestCatalog catalog;
  std::vector<std::string> digests;
  for (int i = 0; i < 10001; ++i) digests.push_back(absl::StrCat(std::string(59, 'a'), 10000 + i));
  const double before = catalog.Calls();
  int refs = 0;
  ASSERT_TRUE(catalog.client()
                  .ForEachBlobRef(digests,
                                  [&](const cat::BlobRef& ref) {
                                    EXPECT_EQ(ref.refcount(), 0);
                                    ++refs;
                                    return absl::OkStatus();
                                  })
                  .ok());
  EXPECT_EQ(refs, 10001);
  EXPECT_EQ(catalog.Calls() - before, 2);
}

}  // namespace
}  // namespace arca::clients
