// The gateway as an attacker meets it: inputs built to crash it, to smuggle
// a request, or to hold its threads, against real services and sockets.

#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "prometheus/gauge.h"
#include "services/gateway/gateway_testing.h"
#include "services/gateway/http_util.h"

namespace arca::gateway {
namespace {

std::string Nested(int depth) {
  return absl::StrCat(std::string(depth, '['), std::string(depth, ']'));
}

// How many HTTP responses `bytes` holds (each begins with a status line).
int Responses(const std::string& bytes) {
  int n = 0;
  for (size_t at = bytes.find("HTTP/1.1 "); at != std::string::npos;
       at = bytes.find("HTTP/1.1 ", at + 1)) {
    ++n;
  }
  return n;
}

TEST_F(RestTest, JsonNestedBeyondTheLimitIs400AndTheGatewayGoesOn) {
  const std::string deep = Nested(100000);  // 200 KB
  Response rest = Fetch("POST", "/api/v1/jobArtifacts",
                        absl::StrCat(R"({"name":"x","version":"1","tags":{"a":)", deep, "}}"),
                        {{"Content-Type", "application/json"}});
  EXPECT_EQ(rest.status, 400);
  EXPECT_NE(rest.json()["error"].get<std::string>().find("deeper than 64 levels"),
            std::string::npos)
      << rest.body;
  Response gql = Fetch("POST", "/graphql",
                       absl::StrCat(R"({"query":"query($x: String) { __typename }","variables":{"x":)",
                                    deep, "}}"),
                       {{"Content-Type", "application/json"}});
  EXPECT_EQ(gql.status, 400) << gql.body;
  Response get = Get(absl::StrCat("/graphql?query=%7B__typename%7D&variables=",
                                  PercentEncode(absl::StrCat(R"({"x":)", Nested(100), "}"))));
  EXPECT_EQ(get.status, 400) << get.body;
  EXPECT_NE(get.body.find("variables nests"), std::string::npos) << get.body;
  // Up to the limit is still JSON like any other.
  Response fine = Fetch("POST", "/api/v1/jobArtifacts",
                        absl::StrCat(R"({"name":"x","version":"1","tags":{"a":)", Nested(60), "}}"),
                        {{"Content-Type", "application/json"}});
  EXPECT_EQ(fine.status, 400);
  EXPECT_NE(fine.body.find("must be a string"), std::string::npos) << fine.body;
  EXPECT_EQ(Get("/healthz").status, 200);
}

// RFC 9112 section 6.1: a body whose framing the server does not use would
// run as a second request.
TEST_F(RestTest, ATransferEncodingOtherThanChunkedIs400AndNothingRunsAfterIt) {
  const std::string smuggled = "GET /api/v1/jobArtifacts/names HTTP/1.1\r\nHost: x\r\n\r\n";
  for (const std::string& header :
       {std::string("Transfer-Encoding: xchunked\r\n"),
        std::string("Transfer-Encoding: gzip, chunked\r\n"),
        std::string("Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n"),
        std::string("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n")}) {
    int fd = Connect(server_->port());
    ASSERT_GE(fd, 0);
    SendAll(fd, absl::StrCat("POST /api/v1/jobArtifacts HTTP/1.1\r\nHost: x\r\n", header,
                             "Content-Type: application/json\r\n\r\n", smuggled));
    const std::string got = ReadUntilClosed(fd);
    close(fd);
    EXPECT_TRUE(absl::StartsWith(got, "HTTP/1.1 400")) << header << got;
    EXPECT_EQ(Responses(got), 1) << header << got;  // then closed: the rest never ran
    // Says which framing header is wrong (Beast names Content-Length itself).
    EXPECT_TRUE(got.find("Transfer-Encoding") != std::string::npos ||
                got.find("Content-Length\"}") != std::string::npos)
        << got;
  }
  // Plain chunked still works.
  const std::string body = R"({"name":"chunked","version":"1"})";
  int fd = Connect(server_->port());
  SendAll(fd, absl::StrCat("POST /api/v1/jobArtifacts HTTP/1.1\r\nHost: x\r\n",
                           "Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n",
                           absl::Hex(body.size()), "\r\n", body, "\r\n0\r\n\r\n"));
  Response r = ReadResponse(fd);
  close(fd);
  EXPECT_EQ(r.status, 201) << r.body;
}

TEST_F(RestTest, BytesThatAreNotUtf8InAPathOrQueryAre400WithAMessage) {
  const std::string job = NewJob();
  for (const std::string& target :
       {std::string("/api/v1/job/%ff%fe"), std::string("/api/v1/jobArtifacts?name=%ff"),
        absl::StrCat("/api/v1/job/", job, "/artifacts/%c3%28"),
        std::string("/api/v1/job?status=\xff"), std::string("/no/such/\xfe")}) {
    Response r = Get(target);
    EXPECT_EQ(r.status, 400) << target << " " << r.body;
    EXPECT_NE(r.json()["error"].get<std::string>().find("not UTF-8"), std::string::npos)
        << target << " " << r.body;
  }
  Response form = Fetch("POST", "/api/v1/job", "compendium_id=%ff",
                        {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(form.status, 400) << form.body;
}

// One 13 KB query once made 30,888 catalog calls: its cost is known before
// it runs, and it is refused.
TEST_F(RestTest, AGraphQlQueryOverItsCostBudgetIsRefusedBeforeItRuns) {
  const std::string job = NewJob();
  Collect(job, {{"a.txt", "a"}});
  std::string query = "{";
  for (int i = 0; i < 198; ++i) {
    absl::StrAppend(&query, " a", i, ": phJobs(limit: 1000) { items { artifact { items { name } } } }");
  }
  query += " }";
  const double calls_before = test_catalog_.Calls();
  Response r = PostJson("/graphql", Json{{"query", query}});
  EXPECT_EQ(r.status, 400) << r.body.substr(0, 300);
  const std::string message = r.json()["errors"][0]["message"];
  EXPECT_EQ(message.rfind("Query cost ", 0), 0u) << message;
  EXPECT_NE(message.find("exceeds the budget of 100000"), std::string::npos) << message;
  EXPECT_EQ(test_catalog_.Calls(), calls_before);  // nothing ran
  // The web page's job query is well within it.
  Response page = PostJson(
      "/graphql",
      Json{{"query", absl::StrCat(R"({ phJob(where: {id: ")", job, R"("}) {
             id name group status finished createdAt finishedAt steps { name status start end text }
             logs { name size downloadUrl }
             artifact { prefix items { name size lastModified downloadUrl } } } })")}});
  EXPECT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.json()["data"]["phJob"]["artifact"]["items"][0]["name"], "a.txt");
}

// GC previews, status counts and sweep answers show only what downloads
// would: nothing of a file above the caller's privacy level.
TEST_F(AuthTest, GcPreviewStatusAndSweepsHideFilesAboveTheCallersLevel) {
  WriteTokens(tokens_, absl::StrCat(
                           "sha256:", hash::Sha256::Of("bob-token"), " team-a moderately_sensitive bob\n",
                           "sha256:", hash::Sha256::Of("alice-token"), " team-a highly_sensitive alice\n",
                           "sha256:", hash::Sha256::Of("low-ops"), " * moderately_sensitive low-ops\n"));
  StartGateway(tokens_);
  token_ = "bob-token";
  Response preview = Get("/api/v1/gc/preview?job_id=" + job_a_);
  ASSERT_EQ(preview.status, 200) << preview.body;
  ASSERT_EQ(preview.json()["entries"].size(), 1u) << preview.body;
  EXPECT_EQ(preview.json()["entries"][0]["path"], "public.txt");
  EXPECT_EQ(preview.body.find("secret"), std::string::npos) << preview.body;
  Response status = Get("/api/v1/job/" + job_a_ + "/gc");
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_EQ(status.json()["filesAvailable"], 1) << status.body;
  token_ = "alice-token";
  EXPECT_EQ(Get("/api/v1/job/" + job_a_ + "/gc").json()["filesAvailable"], 2);
  EXPECT_EQ(Get("/api/v1/gc/preview?job_id=" + job_a_).json()["entries"].size(), 2u);

  // A sweep that removes both files of a job tells a moderately cleared
  // operator of one of them, and counts its bytes only.
  auto expiring = [&] {
    cat::CreateJobRequest create;
    create.mutable_job()->set_group("team-a");
    create.mutable_job()->mutable_retention()->set_nanos(1000);
    const std::string job = catalog_->CreateJob(create)->job().id();
    Collect(job, {{"public.txt", "pp"}, {"secret/key.txt", "kkk"}});
    cat::FinishJobRequest finish;
    finish.set_job_id(job);
    finish.set_outcome(types::v1::JOB_STATUS_SUCCESS);
    EXPECT_TRUE(catalog_->FinishJob(finish).ok());
    return job;
  };
  expiring();
  token_ = "low-ops";
  Response swept = Fetch("POST", "/api/v1/gc/run");
  ASSERT_EQ(swept.status, 200) << swept.body;
  ASSERT_EQ(swept.json()["removed"].size(), 1u) << swept.body;
  EXPECT_EQ(swept.json()["removed"][0]["path"], "public.txt");
  EXPECT_EQ(swept.json()["bytesRemoved"], "2");
  EXPECT_EQ(swept.body.find("secret"), std::string::npos) << swept.body;
  expiring();
  Response gql = PostJson("/graphql", Json{{"query", "mutation { cleanupPhJobArtifact }"}});
  EXPECT_EQ(gql.json()["data"]["cleanupPhJobArtifact"], 1) << gql.body;
}

// Writing needs the writer role; overwriting or deleting what others
// registered, deleting jobs and sweeping need admin, over REST and GraphQL.
TEST_F(AuthTest, WritesNeedTheRoleThatAllowsThem) {
  WriteTokens(tokens_, absl::StrCat(
                           "sha256:", hash::Sha256::Of("reader"), " team-a moderately_sensitive r reader\n",
                           "sha256:", hash::Sha256::Of("writer"), " team-a moderately_sensitive w\n",
                           "sha256:", hash::Sha256::Of("admin"), " team-a highly_sensitive a admin\n",
                           "sha256:", hash::Sha256::Of("ops"), " * highly_sensitive ops\n"));
  StartGateway(tokens_);
  const Json artifact{{"name", "shared-app"}, {"version", "1.0"}};
  token_ = "reader";
  Response denied = PostJson("/api/v1/jobArtifacts", artifact);
  EXPECT_EQ(denied.status, 403);
  EXPECT_NE(denied.body.find("needs the writer role"), std::string::npos) << denied.body;
  EXPECT_EQ(Fetch("POST", "/api/v1/job", "compendium_id=x",
                  {{"Content-Type", "application/x-www-form-urlencoded"}}).status, 403);
  EXPECT_EQ(Get("/api/v1/jobArtifacts/names").status, 200);  // reading is fine

  token_ = "writer";  // reader and writer by default
  Response created = PostJson("/api/v1/jobArtifacts", artifact);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = created.json()["resourceID"];
  Json changed = artifact;
  changed["tags"] = Json{{"evil", "1"}};
  Response overwrite = PostJson("/api/v1/jobArtifacts?overwrite=true", changed);
  EXPECT_EQ(overwrite.status, 403);
  EXPECT_NE(overwrite.body.find("overwriting a job artifact needs the admin role"),
            std::string::npos) << overwrite.body;
  EXPECT_EQ(Fetch("DELETE", "/api/v1/jobArtifacts/" + id).status, 403);
  EXPECT_EQ(Fetch("DELETE", "/api/v1/job/" + job_a_).status, 403);
  Json gql = PostJson("/graphql", Json{{"query", R"(mutation {
      registerJobArtifact(input: {name: "shared-app", version: "1.0", tags: [{key: "evil", value: "1"}]},
                          overwrite: true) { revision } })"}}).json();
  EXPECT_NE(gql["errors"][0]["message"].get<std::string>().find("admin role"), std::string::npos);
  gql = PostJson("/graphql", Json{{"query", absl::StrCat(R"(mutation { deleteJob(id: ")", job_a_,
                                                         R"(") { purged } })")}}).json();
  EXPECT_NE(gql["errors"][0]["message"].get<std::string>().find("admin role"), std::string::npos);
  // Nothing changed.
  EXPECT_EQ(catalog_->GetJobArtifact(id)->revision(), 1);
  EXPECT_TRUE(catalog_->GetJob(job_a_).ok());

  token_ = "admin";
  EXPECT_EQ(PostJson("/api/v1/jobArtifacts?overwrite=true", changed).status, 200);
  EXPECT_EQ(catalog_->GetJobArtifact(id)->revision(), 2);
  EXPECT_EQ(Fetch("DELETE", "/api/v1/jobArtifacts/" + id).status, 200);
  token_ = "ops";  // every group: admin unless its roles say otherwise
  EXPECT_EQ(Fetch("POST", "/api/v1/gc/run").status, 200);
}

// A client that asks for a large file and never reads holds no worker: with
// more stalled downloads than workers, other requests are still answered.
// Downloads are bounded per client and in all, with 503 and Retry-After.
TEST_F(GatewayTest, StalledDownloadersHoldNoWorkerAndAreBounded) {
  http::HttpServerOptions http;
  http.worker_threads = 4;
  http.write_timeout = absl::Minutes(5);  // stalled clients stay for the whole test
  http.shutdown_deadline = absl::Milliseconds(100);
  GatewayOptions options;
  options.max_downloads = 24;
  options.max_downloads_per_client = 24;
  StartGateway("", http, options);
  const std::string job = NewJob();
  Collect(job, {{"big.bin", std::string(20 << 20, 'b')}});
  const std::string request = Request("GET", "/api/v1/job/" + job + "/artifacts/big.bin");
  std::vector<int> stalled;
  for (int i = 0; i < 24; ++i) {
    int fd = Connect(server_->port(), 16 << 10);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(SendAll(fd, request));  // and never read
    stalled.push_back(fd);
  }
  // Each has its head and is waiting on its socket.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (http_metrics_.in_flight.Value() < 24 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(http_metrics_.in_flight.Value(), 24);
  // Six times as many stalled downloads as workers, and the rest is served.
  for (int i = 0; i < 10; ++i) {
    Response r = Get("/api/v1/job/" + job);
    ASSERT_EQ(r.status, 200);
  }
  Response over = Get("/api/v1/job/" + job + "/artifacts/big.bin");
  EXPECT_EQ(over.status, 503);
  EXPECT_EQ(over.header("retry-after"), "2");
  EXPECT_NE(over.body.find("downloads"), std::string::npos) << over.body;
  for (int fd : stalled) close(fd);

  // Per client: the ninth of one client's downloads is refused.
  options.max_downloads = 64;
  options.max_downloads_per_client = 8;
  StartGateway("", http, options);
  // Responses cut off by the shutdown left the gauge.
  ASSERT_EQ(http_metrics_.in_flight.Value(), 0);
  stalled.clear();
  for (int i = 0; i < 8; ++i) {
    stalled.push_back(Connect(server_->port(), 16 << 10));
    ASSERT_TRUE(SendAll(stalled.back(), request));
  }
  const absl::Time deadline2 = absl::Now() + absl::Seconds(30);
  while (http_metrics_.in_flight.Value() < 8 && absl::Now() < deadline2) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(http_metrics_.in_flight.Value(), 8);
  Response ninth = Get("/api/v1/job/" + job + "/artifacts/big.bin");
  EXPECT_EQ(ninth.status, 503);
  EXPECT_NE(ninth.body.find("per client"), std::string::npos) << ninth.body;
  for (int fd : stalled) close(fd);
  // Once they are gone, downloads are served again.
  const absl::Time deadline3 = absl::Now() + absl::Seconds(30);
  Response small;
  do {
    small = Get("/api/v1/job/" + job + "/artifacts/big.bin", {{"Range", "bytes=0-9"}});
  } while (small.status == 503 && absl::Now() < deadline3);
  EXPECT_EQ(small.status, 206);
  EXPECT_EQ(small.body, "bbbbbbbbbb");
}

}  // namespace
}  // namespace arca::gateway
