// The gateway against real catalog, collector, retention-gc and
// scheduler-attribute services (in-process, on loopback ports), spoken to
// over real sockets.

#include "services/gateway/gateway.h"

#include <arpa/inet.h>
#include <signal.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/rpc/server.h"
#include "common/hash/sha256.h"
#include "common/testing/subprocess.h"
#include "common/time_util.h"
#include "common/version.h"
#include "grpcpp/grpcpp.h"
#include "common/logging.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "services/catalog/catalog_service.h"
#include "services/catalog/catalog_testing.h"
#include "services/collector/collector_service.h"
#include "common/auth/tokens.h"
#include "services/gateway/gateway_testing.h"
#include "common/http/server.h"
#include "services/gateway/http_util.h"
#include "services/retention/retention_gc_service.h"
#include "services/scheduling/scheduler_attribute_service.h"

namespace arca::gateway {
namespace {

// ------------------------------------------------------------- Mantis

TEST_F(RestTest, RegisterSearchAndNamesAsMantisShapesThem) {
  // The seed's JSON goes in...
  Json artifact = {{"artifactID", "artifact-123"},
                   {"name", "my-app"},
                   {"version", "1.0.0"},
                   {"createdAt", "2023-10-01T12:00:00Z"},
                   {"runtimeType", "spring-boot"},
                   {"dependencies", {{"mantis-runtime", "1.0.0"}}},
                   {"entrypoint", "com.example.MyApp"},
                   {"tags", {{"jdkVersion", "17"}, {"sbnVersion", "2.7.0"}, {"environment", "production"}}}};
  Response created = PostJson("/api/v1/jobArtifacts", artifact);
  ASSERT_EQ(created.status, 201) << created.body;
  // ...and Mantis' answers come out: the ArtifactID, then JobArtifacts as
  // Jackson writes them (the id an object, the time in seconds).
  EXPECT_EQ(created.body, "{\"resourceID\":\"artifact-123\",\"revision\":1}\n");
  EXPECT_EQ(created.header("etag"), "\"1\"");
  NewArtifact("my-app", "2.0.0");
  NewArtifact("streaming-job", "1.0.0");

  Response found = Get("/api/v1/jobArtifacts?name=my-app&version=1.0.0");
  ASSERT_EQ(found.status, 200);
  ASSERT_EQ(found.json().size(), 1u);
  EXPECT_TRUE(absl::StartsWith(found.body,
                               "[{\"artifactID\":{\"resourceID\":\"artifact-123\"},\"name\":\"my-app\","
                               "\"version\":\"1.0.0\",\"createdAt\":1696161600.0,\"runtimeType\":"
                               "\"spring-boot\",\"dependencies\":{\"mantis-runtime\":\"1.0.0\"},"
                               "\"entrypoint\":\"com.example.MyApp\",\"tags\":{"))
      << found.body;

  // Mantis' JSON exactly as its JobArtifactSerdeTest writes it, with a
  // property Arca does not know (Mantis ignores unknown properties).
  Response mantis = Fetch("POST", "/api/v1/jobArtifacts",
                          R"({"artifactID":{"resourceID":"id"},"name":"proj1","version":"v1",)"
                          R"("createdAt":1668135.952000000,"runtimeType":"sbn",)"
                          R"("dependencies":{"de1":"1.0.0"},"entrypoint":"entrypoint","tags":null,)"
                          R"("futureField":{"x":1}})",
                          {{"Content-Type", "application/json"}});
  ASSERT_EQ(mantis.status, 201) << mantis.body;
  EXPECT_EQ(mantis.json()["resourceID"], "id");
  Json back = Get("/api/v1/jobArtifacts/id").json();
  EXPECT_EQ(back["artifactID"], Json::parse(R"({"resourceID":"id"})"));
  EXPECT_DOUBLE_EQ(back["createdAt"].get<double>(), 1668135.952);
  EXPECT_EQ(FromProtoTime(catalog_->GetJobArtifact("id")->created_at()),
            absl::FromUnixMillis(1668135952));

  Response versions = Get("/api/v1/jobArtifacts?name=my-app");
  ASSERT_EQ(versions.json().size(), 2u);
  EXPECT_EQ(versions.json()[0]["version"], "2.0.0");  // newest first
  EXPECT_EQ(Get("/api/v1/jobArtifacts/names?prefix=my-").json(), Json({"my-app"}));
  EXPECT_EQ(Get("/api/v1/jobArtifacts/names?contains=streaming").json(), Json({"streaming-job"}));
  EXPECT_EQ(Get("/api/v1/jobArtifacts/names").json(), Json({"my-app", "proj1", "streaming-job"}));
  EXPECT_EQ(Get("/api/v1/jobArtifacts?name=nothing").json(), Json::array());
  EXPECT_EQ(Get("/api/v1/jobArtifacts/artifact-123").json()["name"], "my-app");
  EXPECT_EQ(Get("/api/v1/jobArtifacts/missing").status, 404);
}

TEST_F(RestTest, NoSilentOverwrite) {
  Json v1 = {{"name", "my-app"}, {"version", "1.0.0"}, {"tags", {{"jdkVersion", "11"}}}};
  Response first = PostJson("/api/v1/jobArtifacts", v1);
  ASSERT_EQ(first.status, 201);
  const std::string id = first.json()["resourceID"];
  // An identical retry: the same id, 200.
  Response retry = PostJson("/api/v1/jobArtifacts", v1);
  EXPECT_EQ(retry.status, 200);
  EXPECT_EQ(retry.json()["resourceID"], id);

  // The seed's hazard: different tags for the same name+version.
  Json v2 = {{"name", "my-app"}, {"version", "1.0.0"}, {"tags", {{"jdkVersion", "17"}}}};
  Response conflict = PostJson("/api/v1/jobArtifacts", v2);
  EXPECT_EQ(conflict.status, 409);
  EXPECT_TRUE(conflict.json().contains("error"));
  EXPECT_EQ(Get("/api/v1/jobArtifacts?name=my-app").json()[0]["tags"]["jdkVersion"], "11");

  // Compare-and-set: a stale revision is 412 and changes nothing.
  Response stale = PostJson("/api/v1/jobArtifacts?overwrite=true", v2, {{"If-Match", "\"7\""}});
  EXPECT_EQ(stale.status, 412) << stale.body;
  EXPECT_EQ(Get("/api/v1/jobArtifacts?name=my-app").json()[0]["tags"]["jdkVersion"], "11");
  Response replaced = PostJson("/api/v1/jobArtifacts?overwrite=true", v2, {{"If-Match", "\"1\""}});
  EXPECT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_EQ(replaced.json()["revision"], 2);
  EXPECT_EQ(replaced.json()["resourceID"], id);
  EXPECT_EQ(Get("/api/v1/jobArtifacts?name=my-app").json()[0]["tags"]["jdkVersion"], "17");
}

TEST_F(RestTest, BadArtifactBodiesSayWhatIsWrong) {
  struct Case {
    std::string body;
    int status;
    std::string error_mentions;
  } cases[] = {
      {"{not json", 400, "not valid JSON"},
      {"[1,2]", 400, "JSON object"},
      {R"({"name": 5, "version": "1"})", 400, "\"name\""},
      {R"({"name": "a", "version": "1", "tags": ["x"]})", 400, "\"tags\""},
      {R"({"name": "a", "version": "1", "tags": {"k": 1}})", 400, "\"tags\".\"k\""},
      {R"({"name": "a", "version": "1", "createdAt": "yesterday"})", 400, "createdAt"},
      {R"({"name": "a", "version": "1", "createdAt": -5})", 400, "createdAt"},
      {R"({"artifactID": {"resourceID": 7}, "name": "a", "version": "1"})", 400, "resourceID"},
      {R"({"artifactID": ["x"], "name": "a", "version": "1"})", 400, "artifactID"},
      {R"({"name": "a b", "version": "1"})", 400, "name"},
      {R"({"name": "a", "version": ""})", 400, "version"},
  };
  for (const auto& c : cases) {
    Response r = Fetch("POST", "/api/v1/jobArtifacts", c.body, {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.body;
    EXPECT_TRUE(absl::StrContains(r.json()["error"].get<std::string>(), c.error_mentions))
        << c.body << " -> " << r.body;
  }
  EXPECT_EQ(Get("/api/v1/jobArtifacts/names").json(), Json::array());  // nothing stored
  EXPECT_EQ(PostJson("/api/v1/jobArtifacts?overwrite=maybe", Json{{"name", "a"}, {"version", "1"}}).status,
            400);
  EXPECT_EQ(PostJson("/api/v1/jobArtifacts?overwrite=true", Json{{"name", "a"}, {"version", "1"}},
                     {{"If-Match", "abc"}})
                .status,
            400);
}

// ---------------------------------------------------------------- o2r

TEST_F(RestTest, NewJobFromAFormAsCurlSendsIt) {
  const std::string compendium = NewArtifact();
  const std::string boundary = "------------------------d74496d66958873e";
  std::string form = absl::StrCat("--", boundary,
                                  "\r\nContent-Disposition: form-data; name=\"compendium_id\"\r\n\r\n",
                                  compendium, "\r\n--", boundary, "--\r\n");
  Response r = Fetch("POST", "/api/v1/job", form,
                     {{"Content-Type", "multipart/form-data; boundary=" + boundary}});
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string id = r.json()["job_id"];
  EXPECT_EQ(r.body, absl::StrCat("{\"job_id\":\"", id, "\"}\n"));
  EXPECT_EQ(catalog_->GetJob(id)->compendium_id(), compendium);

  Response urlencoded = Fetch("POST", "/api/v1/job", "compendium_id=" + compendium,
                              {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(urlencoded.status, 200);
  Response json = PostJson("/api/v1/job", Json{{"compendium_id", compendium}, {"group", "team-b"},
                                               {"labels", {{"k", "v"}}}, {"gc_strategy", "OnWorkflowSuccess"}});
  ASSERT_EQ(json.status, 200) << json.body;
  auto stored = catalog_->GetJob(json.json()["job_id"]);
  EXPECT_EQ(stored->group(), "team-b");
  EXPECT_EQ(stored->gc_strategy(), types::v1::GC_STRATEGY_ON_JOB_SUCCESS);
  // The CLI's older spelling works here too: one vocabulary.
  Response snake = PostJson("/api/v1/job", Json{{"compendium_id", compendium}, {"gc_strategy", "on_job_deletion"}});
  ASSERT_EQ(snake.status, 200) << snake.body;
  EXPECT_EQ(catalog_->GetJob(snake.json()["job_id"])->gc_strategy(), types::v1::GC_STRATEGY_ON_JOB_DELETION);

  // Argo's per-artifact GC strategies and forceFinalizerRemoval.
  Response argo = PostJson("/api/v1/job", Json::parse(absl::StrCat(
      R"({"compendium_id": ")", compendium, R"(", "forceFinalizerRemoval": true, "gc_rules": [
           {"glob": "*.tmp", "strategy": "OnWorkflowCompletion"},
           {"glob": "keep/*", "strategy": "Never"}]})")));
  ASSERT_EQ(argo.status, 200) << argo.body;
  const std::string argo_id = argo.json()["job_id"];
  EXPECT_TRUE(catalog_->GetJob(argo_id)->force_finalizer_removal());
  Json shown = Get("/api/v1/job/" + argo_id).json();
  EXPECT_EQ(shown["gc_rules"], Json::parse(R"([{"glob":"*.tmp","strategy":"OnJobCompletion"},
                                                {"glob":"keep/*","strategy":"Never"}])"));
  EXPECT_EQ(shown["force_finalizer_removal"], true);
  EXPECT_EQ(Fetch("POST", "/api/v1/job", "compendium_id=" + compendium + "&force_finalizer_removal=true",
                  {{"Content-Type", "application/x-www-form-urlencoded"}}).status,
            200);
  for (const char* bad : {R"("gc_rules": {})", R"("gc_rules": [{"glob": "*"}])",
                          R"("gc_rules": [{"glob": "*", "strategy": "Sometimes"}])",
                          R"("gc_rules": [{"glob": "", "strategy": "Never"}])",
                          R"("forceFinalizerRemoval": "yes")"}) {
    Response r = PostJson("/api/v1/job", Json::parse(absl::StrCat(R"({"compendium_id": ")", compendium,
                                                                  R"(", )", bad, "}")));
    EXPECT_EQ(r.status, 400) << bad << " " << r.body;
  }

  // o2r's error, byte for byte.
  Response missing = Fetch("POST", "/api/v1/job", "compendium_id=nope",
                           {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.body, "{\"error\":\"no compendium with this ID found\"}\n");
  EXPECT_EQ(Fetch("POST", "/api/v1/job", "", {{"Content-Type", "application/x-www-form-urlencoded"}}).status,
            400);
  EXPECT_EQ(PostJson("/api/v1/job", Json{{"compendium_id", 7}}).status, 400);
  EXPECT_EQ(PostJson("/api/v1/job", Json{{"compendium_id", compendium}, {"gc_strategy", "Sometimes"}}).status,
            400);
  EXPECT_EQ(Fetch("POST", "/api/v1/job", "--x\r\nbroken",
                  {{"Content-Type", "multipart/form-data; boundary=x"}})
                .status,
            400);
}

TEST_F(RestTest, ListJobsPagesNewestFirstWithLinks) {
  const std::string a = NewArtifact("a", "1"), b = NewArtifact("b", "1");
  std::vector<std::string> ids;  // oldest first
  for (int i = 0; i < 5; ++i) ids.push_back(NewJob("team-a", i % 2 ? b : a));
  Finish(ids[0]);

  Response all = Get("/api/v1/job");
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(all.json()["results"], Json({ids[4], ids[3], ids[2], ids[1], ids[0]}));
  EXPECT_FALSE(all.json().contains("next"));
  EXPECT_FALSE(all.json().contains("previous"));

  // o2r's start is the position of the first job (it skips start - 1).
  Response page2 = Get("/api/v1/job?limit=2&start=3");
  EXPECT_EQ(page2.json()["results"], Json({ids[2], ids[1]}));
  EXPECT_EQ(page2.json()["next"], "/api/v1/job?limit=2&start=5");
  EXPECT_EQ(page2.json()["previous"], "/api/v1/job?limit=2&start=1");
  Response page3 = Get("/api/v1/job?limit=2&start=5");
  EXPECT_EQ(page3.json()["results"], Json({ids[0]}));
  EXPECT_FALSE(page3.json().contains("next"));
  EXPECT_EQ(Get("/api/v1/job?limit=2&start=2").json()["results"], Json({ids[3], ids[2]}));

  Response with_status = Get("/api/v1/job?limit=1&start=5&fields=status");
  EXPECT_EQ(with_status.body,
            absl::StrCat("{\"results\":[{\"id\":\"", ids[0],
                         "\",\"status\":\"success\"}],\"previous\":\"/api/v1/job?limit=1&start=4&"
                         "fields=status\"}\n"));
  // o2r's fields: spaces trimmed; given at all, results are objects.
  EXPECT_EQ(Get("/api/v1/job?limit=1&start=5&fields=%20status%20,%20").json()["results"],
            Json::parse(absl::StrCat(R"([{"id":")", ids[0], R"(","status":"success"}])")));
  EXPECT_EQ(Get("/api/v1/job?limit=1&fields=").json()["results"],
            Json::parse(absl::StrCat(R"([{"id":")", ids[4], R"("}])")));
  // An unfinished job is running to o2r's clients, queued or not.
  EXPECT_EQ(Get("/api/v1/job?limit=1&fields=status").json()["results"][0]["status"], "running");
  EXPECT_EQ(Get("/api/v1/job?status=running").json()["results"].size(), 4u);
  EXPECT_EQ(Get("/api/v1/job?status=success").json()["results"], Json({ids[0]}));
  // An unknown status matches nothing (o2r: 200, empty).
  Response foo = Get("/api/v1/job?status=foo");
  EXPECT_EQ(foo.status, 200);
  EXPECT_EQ(foo.json(), Json::parse(R"({"results":[]})"));
  EXPECT_EQ(Get("/api/v1/job?compendium_id=" + b).json()["results"], Json({ids[3], ids[1]}));
  EXPECT_EQ(Get("/api/v1/job?compendium_id=" + a + "," + b + "&limit=1").json()["next"],
            absl::StrCat("/api/v1/job?limit=1&start=2&compendium_id=", a, "%2C", b));
  // An unknown compendium is 404 (o2r).
  Response unknown = Get("/api/v1/job?compendium_id=no-such-compendium");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.json()["error"], "no compendium with id no-such-compendium");
  for (const char* bad : {"limit=0", "limit=abc", "limit=1001", "start=0", "fields=name",
                          "fields=user", "limit=%zz"}) {
    Response r = Get(absl::StrCat("/api/v1/job?", bad));
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_TRUE(r.json().contains("error")) << bad;
  }
}

TEST_F(RestTest, ViewSingleJobWithStepsFilesAndLogs) {
  const std::string job = NewJob();
  cat::UpdateStepRequest step;
  step.set_job_id(job);
  step.mutable_step()->set_name("execute");
  step.mutable_step()->set_status(types::v1::STEP_STATUS_FAILURE);
  step.mutable_step()->set_text("exit code 3");
  *step.mutable_step()->mutable_start() = ToProtoTime(absl::FromUnixSeconds(1790000000));
  ASSERT_TRUE(catalog_->UpdateStep(step).ok());
  Collect(job, {{"test.txt", "hello\n"}, {"sub/test.txt", "hello\n"}, {".arca/logs/job.log", "ran\n"}});
  // As o2r: running until it ends, though a step has failed.
  EXPECT_EQ(Get("/api/v1/job/" + job).json()["status"], "running");
  cat::FinishJobRequest finish;
  finish.set_job_id(job);
  ASSERT_TRUE(catalog_->FinishJob(finish).ok());

  Response r = Get("/api/v1/job/" + job);
  ASSERT_EQ(r.status, 200) << r.body;
  Json j = r.json();
  EXPECT_EQ(j["id"], job);
  EXPECT_EQ(j["status"], "failure");
  EXPECT_EQ(j["steps"]["execute"]["status"], "failure");
  EXPECT_EQ(j["steps"]["execute"]["start"], "2026-09-21T14:13:20Z");
  // As o2r: a step's details (its text) only when ?steps= names it.
  EXPECT_FALSE(j["steps"]["execute"].contains("text")) << r.body;
  for (const char* steps : {"all", "execute", " nope , execute"}) {
    Json detailed = Get(absl::StrCat("/api/v1/job/", job, "?steps=", PercentEncode(steps))).json();
    EXPECT_EQ(detailed["steps"]["execute"]["text"], "exit code 3") << steps;
  }
  EXPECT_FALSE(Get("/api/v1/job/" + job + "?steps=none").json()["steps"]["execute"].contains("text"));
  EXPECT_EQ(j["files"]["size"], 12);
  ASSERT_EQ(j["files"]["children"].size(), 2u);
  EXPECT_EQ(j["files"]["children"][0]["name"], "sub");
  EXPECT_EQ(j["files"]["children"][0]["children"][0]["path"],
            absl::StrCat("/api/v1/job/", job, "/artifacts/sub/test.txt"));
  EXPECT_EQ(j["files"]["children"][1]["name"], "test.txt");
  ASSERT_EQ(j["logs"].size(), 1u);
  EXPECT_EQ(j["logs"][0]["path"], ".arca/logs/job.log");

  Response steps = Get("/api/v1/job/" + job + "/steps");
  EXPECT_EQ(steps.json()["steps"]["execute"]["status"], "failure");
  Response log = Get("/api/v1/job/" + job + "/logs");
  EXPECT_EQ(log.status, 200);
  EXPECT_EQ(log.body, "ran\n");
  EXPECT_EQ(log.header("content-type"), "text/plain; charset=utf-8");

  Response files = Get("/api/v1/job/" + job + "/files?page_size=2");
  ASSERT_EQ(files.status, 200);
  EXPECT_EQ(files.json()["files"].size(), 2u);
  Response next = Get(absl::StrCat("/api/v1/job/", job, "/files?page_size=2&page_token=",
                                   files.json()["next_page_token"].get<std::string>()));
  EXPECT_EQ(next.json()["files"].size(), 1u);
  EXPECT_EQ(Get("/api/v1/job/" + job + "/files?page_token=garbage").status, 400);
  EXPECT_EQ(Get("/api/v1/job/job-nope").status, 404);
  EXPECT_EQ(Get("/api/v1/job/job-nope").body, "{\"error\":\"no job with id job-nope\"}\n");
}

// ---------------------------------------------------------- downloads

TEST_F(RestTest, DownloadsHonourRangesAndValidators) {
  const std::string job = NewJob();
  const std::string content = "0123456789abcdefghij";
  Collect(job, {{"out/data.csv", content}, {"out/empty.bin", ""}});
  const std::string url = "/api/v1/job/" + job + "/artifacts/out/data.csv";

  Response whole = Get(url);
  ASSERT_EQ(whole.status, 200) << whole.body;
  EXPECT_EQ(whole.body, content);
  EXPECT_EQ(whole.header("content-length"), "20");
  EXPECT_EQ(whole.header("content-type"), "text/csv; charset=utf-8");
  EXPECT_EQ(whole.header("content-disposition"),
            "attachment; filename=\"data.csv\"; filename*=UTF-8''data.csv");
  EXPECT_EQ(whole.header("etag"), absl::StrCat("\"", hash::Sha256::Of(content), "\""));
  EXPECT_EQ(whole.header("accept-ranges"), "bytes");

  Response head = Fetch("HEAD", url);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-length"), "20");
  EXPECT_EQ(head.body, "");

  Response part = Get(url, {{"Range", "bytes=5-9"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, "56789");
  EXPECT_EQ(part.header("content-range"), "bytes 5-9/20");
  EXPECT_EQ(Get(url, {{"Range", "bytes=-3"}}).body, "hij");
  EXPECT_EQ(Get(url, {{"Range", "bytes=18-"}}).body, "ij");
  EXPECT_EQ(Get(url, {{"Range", "bytes=15-100"}}).body, "fghij");
  Response unsatisfiable = Get(url, {{"Range", "bytes=20-"}});
  EXPECT_EQ(unsatisfiable.status, 416);
  EXPECT_EQ(unsatisfiable.header("content-range"), "bytes */20");
  EXPECT_EQ(Get(url, {{"Range", "bytes=9-5"}}).status, 400);

  Response cached = Get(url, {{"If-None-Match", whole.header("etag")}});
  EXPECT_EQ(cached.status, 304);
  EXPECT_EQ(cached.body, "");
  EXPECT_EQ(Get(url, {{"If-None-Match", "\"other\""}}).status, 200);

  Response empty = Get("/api/v1/job/" + job + "/artifacts/out/empty.bin");
  EXPECT_EQ(empty.status, 200);
  EXPECT_EQ(empty.header("content-length"), "0");
  EXPECT_EQ(empty.header("content-type"), "application/octet-stream");

  EXPECT_EQ(Get("/api/v1/job/" + job + "/artifacts/out/missing.csv").status, 404);
  EXPECT_EQ(Get("/api/v1/job/" + job + "/artifacts/out/../out/data.csv").status, 400);
  EXPECT_EQ(Get("/api/v1/job/" + job + "/artifacts/out/%2e%2e/x").status, 400);
  EXPECT_EQ(Get("/api/v1/job/" + job + "/artifacts/out//data.csv").status, 400);
  EXPECT_EQ(Get("/api/v1/job/job-nope/artifacts/out/data.csv").status, 404);
  EXPECT_EQ(Fetch("PUT", url).status, 405);
}

// The files of a zip archive, by name, as Python's zipfile reads them
// (checking each one's CRC).
Json Unzipped(const std::string& dir, const std::string& bytes) {
  const std::string path = dir + "/download.zip";
  std::ofstream(path, std::ios::binary) << bytes;
  FILE* p = popen(("python3 -c 'import json, sys, zipfile\n"
                   "z = zipfile.ZipFile(sys.argv[1])\n"
                   "print(json.dumps({n: z.read(n).decode() for n in z.namelist()}))' " +
                   path + " 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof(buf), p)) > 0;) out.append(buf, n);
  pclose(p);
  return Json::parse(out, nullptr, /*allow_exceptions=*/false);
}

TEST_F(RestTest, AJobsFilesAsOneZipTakeWhatArcaGetDTakes) {
  const std::string job = NewJob();
  Collect(job, {{"out/a.csv", "a,b\n"}, {"out/sub/b.txt", "bee"}, {"top.txt", "top"},
                {"out/empty", ""}, {".arca/logs/job.log", "the log"}});
  const std::string url = "/api/v1/job/" + job + "/artifacts.zip";

  Response all = Get(url);
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(all.header("content-type"), "application/zip");
  EXPECT_EQ(all.header("content-length"), absl::StrCat(all.body.size()));
  EXPECT_EQ(all.header("content-disposition"),
            absl::StrCat("attachment; filename=\"", job, ".zip\"; filename*=UTF-8''", job, ".zip"));
  // The outputs, not the log (as arca get -D).
  EXPECT_EQ(Unzipped(dir_, all.body),
            Json({{"out/a.csv", "a,b\n"}, {"out/empty", ""}, {"out/sub/b.txt", "bee"}, {"top.txt", "top"}}));
  EXPECT_EQ(Fetch("HEAD", url).header("content-length"), all.header("content-length"));

  Response dir = Get(url + "?path=out/");
  EXPECT_EQ(Unzipped(dir_, dir.body), Json({{"out/a.csv", "a,b\n"}, {"out/empty", ""}, {"out/sub/b.txt", "bee"}}));
  EXPECT_NE(dir.header("content-disposition").find(job + "-out.zip"), std::string::npos);
  EXPECT_EQ(Unzipped(dir_, Get(url + "?pattern=*.txt").body), Json({{"out/sub/b.txt", "bee"}, {"top.txt", "top"}}));
  EXPECT_EQ(Unzipped(dir_, Get(url + "?pattern=*.csv&pattern=.arca/logs/*").body),
            Json({{".arca/logs/job.log", "the log"}, {"out/a.csv", "a,b\n"}}));
  EXPECT_EQ(Unzipped(dir_, Get(url + "?path=out&pattern=*.txt").body), Json({{"out/sub/b.txt", "bee"}}));

  Response none = Get(url + "?pattern=*.pdf");
  EXPECT_EQ(none.status, 404);
  EXPECT_EQ(none.json()["error"], absl::StrCat("job ", job, " has no files that match the pattern"));
  EXPECT_EQ(Get(url + "?path=elsewhere").json()["error"], absl::StrCat("job ", job, " has no files under elsewhere"));
  EXPECT_EQ(Get(url + "?path=../x").status, 400);
  EXPECT_EQ(Get("/api/v1/job/job-nope/artifacts.zip").status, 404);
}

TEST_F(RestTest, TheOpenApiDescriptionNamesEveryRouteAndNoOther) {
  Response r = Get("/api/v1/openapi.json");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json");
  const Json doc = r.json();
  EXPECT_EQ(doc["openapi"], "3.1.0");
  EXPECT_EQ(doc["info"]["version"], kVersion);
  std::set<std::string> described;
  for (const auto& [path, ops] : doc["paths"].items()) {
    for (const auto& [method, op] : ops.items()) {
      described.insert(absl::StrCat(absl::AsciiStrToUpper(method), " ", path));
      EXPECT_TRUE(op.contains("responses")) << method << " " << path;
    }
  }
  std::set<std::string> served;
  for (std::string route : gateway_->Routes()) {
    if (route == "GET /" || route == "GET /ui/{file}" || route == "GET /favicon.ico") continue;  // the web page
    served.insert(absl::StrReplaceAll(route, {{"{*", "{"}}));
  }
  EXPECT_EQ(described, served);
  // It needs no token, as the page and the probes do not.
  EXPECT_EQ(Get("/favicon.ico").header("content-type"), "image/svg+xml");
}

TEST_F(RestTest, DownloadsReadTheBlobStoreOrGoThroughTheCollectorAlike) {
  const std::string job = NewJob();
  std::string content(3 << 20, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>('a' + i % 23);
  const std::string damaged(2 << 20, 'd');
  Collect(job, {{"big.bin", content}, {"gone.txt", "gone"}, {"bad.bin", damaged}});
  auto blob_path = [&](const std::string& digest) {
    return absl::StrCat(dir_, "/blobs/blobs/", digest.substr(0, 2), "/", digest.substr(2));
  };
  // gone.txt was small: its bytes are in the upload's pack, which goes.
  const std::string packs = dir_ + "/blobs/packs";
  ASSERT_EQ(std::distance(std::filesystem::directory_iterator(packs),
                          std::filesystem::directory_iterator()),
            1);
  ASSERT_TRUE(std::filesystem::remove(std::filesystem::directory_iterator(packs)->path()));
  // A small file in a pack that stays.
  Collect(job, {{"small.txt", "small and packed"}});
  {  // the first block of bad.bin goes bad
    std::fstream f(blob_path(hash::Sha256::Of(damaged)),
                   std::ios::in | std::ios::out | std::ios::binary);
    f.put('x');
  }
  // A record whose size is not its bytes'.
  cat::CommitFilesRequest commit;
  commit.set_job_id(job);
  cat::ArtifactFile* wrong = commit.add_files();
  wrong->set_path("wrong-size.bin");
  wrong->set_size(10);
  wrong->set_sha256(hash::Sha256::Of(content));
  ASSERT_TRUE(catalog_->CommitFiles(commit).ok());
  const std::string url = "/api/v1/job/" + job + "/artifacts/big.bin";
  for (bool through_collector : {false, true}) {
    SCOPED_TRACE(through_collector ? "through the collector" : "from the blob store");
    downloads_through_collector_ = through_collector;
    StartGateway();
    const double served = collector_metrics_->bytes_served.Value();
    Response whole = Get(url);
    EXPECT_EQ(whole.status, 200);
    EXPECT_TRUE(whole.body == content);
    // A range across the first block's end.
    Response part = Get(url, {{"Range", "bytes=1048570-1048585"}});
    EXPECT_EQ(part.status, 206);
    EXPECT_EQ(part.body, content.substr(1048570, 16));
    Response small = Get("/api/v1/job/" + job + "/artifacts/small.txt");
    EXPECT_EQ(small.status, 200);
    EXPECT_EQ(small.body, "small and packed");
    EXPECT_EQ(Get("/api/v1/job/" + job + "/artifacts/small.txt", {{"Range", "bytes=6-8"}}).body,
              "and");
    Response missing = Get("/api/v1/job/" + job + "/artifacts/gone.txt");
    EXPECT_EQ(missing.status, 500);
    EXPECT_NE(missing.body.find("are missing from the blob store"), std::string::npos)
        << missing.body;
    Response bad = Get("/api/v1/job/" + job + "/artifacts/bad.bin");
    EXPECT_EQ(bad.status, 500);  // found before anything was sent
    EXPECT_NE(bad.body.find("stored bytes of bad.bin are damaged"), std::string::npos)
        << bad.body;
    Response sized = Get("/api/v1/job/" + job + "/artifacts/wrong-size.bin");
    EXPECT_EQ(sized.status, 500);
    EXPECT_NE(sized.body.find("are 3145728 bytes, not the 10 recorded"), std::string::npos)
        << sized.body;
    // Only the collector's path costs the collector anything.
    EXPECT_EQ(collector_metrics_->bytes_served.Value() > served, through_collector);
  }
}

TEST_F(RestTest, ACorruptedBlobIsNeverServedWhole) {
  const std::string job = NewJob();
  const std::string content(3 << 20, 'x');  // several collector messages
  Collect(job, {{"big.bin", content}});
  const std::string digest = hash::Sha256::Of(content);
  const std::string blob = absl::StrCat(dir_, "/blobs/blobs/", digest.substr(0, 2), "/", digest.substr(2));
  ASSERT_TRUE(std::filesystem::exists(blob));
  {
    std::fstream f(blob, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(content.size() - 1));
    f.put('y');
  }
  Response r = Get("/api/v1/job/" + job + "/artifacts/big.bin");
  EXPECT_EQ(r.status, 200);  // the head went out before the damage was found
  EXPECT_FALSE(r.complete);
  // The checked blocks before the damaged one, and nothing of it.
  EXPECT_EQ(r.body_bytes, int64_t{2} << 20);
  // Checked by digest once the block checksums are gone: still cut short.
  ASSERT_TRUE(std::filesystem::remove(blob + ".blocks"));
  r = Get("/api/v1/job/" + job + "/artifacts/big.bin");
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.complete);
  EXPECT_LT(r.body_bytes, static_cast<int64_t>(content.size()));
}

TEST_F(RestTest, ArtifactListingsAreCachedBrieflyAndClearedByWrites) {
  NewArtifact("a", "1");
  EXPECT_EQ(Get("/api/v1/jobArtifacts/names").json(), Json({"a"}));
  EXPECT_EQ(Get("/api/v1/jobArtifacts/names").json(), Json({"a"}));  // from the cache
  // A write made elsewhere shows once the entry expires (1 s by default).
  cat::RegisterJobArtifactRequest direct;
  direct.mutable_artifact()->set_name("b");
  direct.mutable_artifact()->set_version("1");
  ASSERT_TRUE(catalog_->RegisterJobArtifact(direct).ok());
  EXPECT_EQ(Get("/api/v1/jobArtifacts/names").json(), Json({"a"}));
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Get("/api/v1/jobArtifacts/names").json(), Json({"a", "b"}));
  // A write through the gateway shows at once.
  NewArtifact("c", "1");
  EXPECT_EQ(Get("/api/v1/jobArtifacts/names").json(), Json({"a", "b", "c"}));
  EXPECT_TRUE(absl::StrContains(Get("/metrics").body, "arca_gateway_artifact_cache_hits_total 2"));
}

// ------------------------------------------------------------- limits

TEST_F(RestTest, OversizedAndMalformedRequestsGetTheirStatusAndTheServerGoesOn) {
  // An 8 MiB + 1 body.
  const std::string big(8 * 1024 * 1024 + 1, 'x');
  int fd = Connect(server_->port());
  SendAll(fd, absl::StrCat("POST /api/v1/jobArtifacts HTTP/1.1\r\nHost: x\r\nContent-Length: ",
                           big.size(), "\r\n\r\n"));
  SendAll(fd, big.substr(0, 1 << 16));  // the server answers before reading it all
  Response too_big = ReadResponse(fd);
  close(fd);
  EXPECT_EQ(too_big.status, 413);
  EXPECT_TRUE(absl::StrContains(too_big.body, "larger than 8388608 bytes"));

  fd = Connect(server_->port());
  SendAll(fd, absl::StrCat("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ", std::string(9000, 'a'),
                           "\r\n\r\n"));
  EXPECT_EQ(ReadResponse(fd).status, 431);
  close(fd);

  for (const char* garbage : {"NOT HTTP AT ALL\r\n\r\n", "GET / HTTP/9.9\r\n\r\n",
                              "GET /x HTTP/1.1\r\nContent-Length: abc\r\n\r\n"}) {
    fd = Connect(server_->port());
    SendAll(fd, garbage);
    EXPECT_EQ(ReadResponse(fd).status, 400) << garbage;
    close(fd);
  }
  EXPECT_EQ(Get("/api/v1/job/%zz").status, 400);
  EXPECT_EQ(Get("/api/v1/jobArtifacts?name=%").status, 400);
  EXPECT_EQ(Get("/nowhere").status, 404);
  EXPECT_EQ(Get("/healthz").status, 200);  // still serving
}

TEST_F(GatewayTest, ASlowClientIsDroppedWithoutStallingOthers) {
  http::HttpServerOptions options;
  options.read_timeout = absl::Milliseconds(500);
  options.io_threads = 1;
  options.worker_threads = 1;
  StartGateway("", options);
  // More idle and half-sent connections than there are threads.
  std::vector<int> slow;
  for (int i = 0; i < 8; ++i) {
    slow.push_back(Connect(server_->port()));
    SendAll(slow.back(), "GET /healthz HTTP/1.1\r\nHost: x\r\n");  // never finished
  }
  EXPECT_EQ(Get("/healthz").status, 200);
  for (int fd : slow) {
    EXPECT_EQ(ReadUntilClosed(fd), "");  // closed by the server, nothing sent
    close(fd);
  }
}

TEST_F(RestTest, AClientThatStopsReadingIsDroppedAndDoesNotHoldUpShutdown) {
  http::HttpServerOptions options;
  options.write_timeout = absl::Milliseconds(300);
  options.shutdown_deadline = absl::Milliseconds(100);
  StartGateway("", options);
  const std::string job = NewJob();
  const std::string content(32 << 20, 'z');  // far more than socket buffers hold
  Collect(job, {{"big.bin", content}});
  const std::string request = Request("GET", "/api/v1/job/" + job + "/artifacts/big.bin");
  // Polls `done` until it holds, for up to 30 s.
  auto eventually = [](const std::function<bool()>& done) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (!done()) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return true;
  };

  int fd = Connect(server_->port(), 64 << 10);
  double sent = http_metrics_.bytes_sent.Value();
  ASSERT_TRUE(SendAll(fd, request));  // and read nothing
  // The gateway sent what the socket took, then gave up on the client.
  ASSERT_TRUE(eventually([&] {
    return http_metrics_.bytes_sent.Value() > sent && http_metrics_.in_flight.Value() == 0;
  }));
  const std::string got = ReadUntilClosed(fd);  // what was buffered, then the close
  close(fd);
  EXPECT_TRUE(absl::StartsWith(got, "HTTP/1.1 200")) << got.substr(0, 100);
  EXPECT_LT(got.size(), content.size());
  EXPECT_EQ(Get("/healthz").status, 200);  // still serving

  // Stalled for longer than shutdown allows: Shutdown cuts it off.
  StartGateway("", [] {
    http::HttpServerOptions o;
    o.shutdown_deadline = absl::Milliseconds(100);
    return o;
  }());
  fd = Connect(server_->port(), 64 << 10);
  sent = http_metrics_.bytes_sent.Value();
  ASSERT_TRUE(SendAll(fd, request));
  ASSERT_TRUE(eventually([&] { return http_metrics_.bytes_sent.Value() > sent; }));
  ASSERT_EQ(http_metrics_.in_flight.Value(), 1);  // the download, waiting on the client
  auto stopped = std::async(std::launch::async, [&] { server_->Shutdown(); });
  EXPECT_EQ(stopped.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  close(fd);
}

TEST_F(RestTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  int fd = Connect(server_->port());
  for (int i = 0; i < 3; ++i) {
    SendAll(fd, Request("GET", "/healthz"));
    Response r = ReadResponse(fd);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "{\"status\":\"ok\"}\n");
  }
  close(fd);
}

// ------------------------------------------------------ who sees what

TEST_F(AuthTest, MissingOrWrongTokensAre401) {
  Response none = Get("/api/v1/job");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.header("www-authenticate"), "Bearer realm=\"arca\"");
  token_ = "wrong";
  EXPECT_EQ(Get("/api/v1/job").status, 401);
  EXPECT_EQ(Get("/api/v1/job", {{"Authorization", "Basic abc"}}).status, 401);
  token_ = "";
  EXPECT_EQ(Get("/api/v1/job", {{"Authorization", "Bearer"}}).status, 401);
  EXPECT_EQ(Get("/healthz").status, 200);  // open
}

TEST_F(AuthTest, AccessLinesNameTheCaller) {
  SetAccessLogSample(1);
  ::testing::internal::CaptureStderr();
  token_ = "bob-token";
  EXPECT_EQ(Get("/api/v1/job").status, 200);
  token_ = "";
  EXPECT_EQ(Get("/api/v1/job/" + job_a_).status, 401);
  // A response's line is written once its last byte is out.
  for (absl::Time deadline = absl::Now() + absl::Seconds(10);
       http_metrics_.in_flight.Value() > 0 && absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  FlushLogs();
  const std::string logged = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(logged.find("target=/api/v1/job route=\"GET /api/v1/job\" status=200"), std::string::npos) << logged;
  EXPECT_NE(logged.find(" identity=bob"), std::string::npos) << logged;
  const size_t refused = logged.find("target=/api/v1/job/" + job_a_ + " ");
  ASSERT_NE(refused, std::string::npos) << logged;
  const std::string line = logged.substr(refused, logged.find('\n', refused) - refused);
  EXPECT_NE(line.find("status=401"), std::string::npos) << line;
  EXPECT_EQ(line.find("identity="), std::string::npos) << line;  // nobody signed in
}

TEST_F(AuthTest, OtherGroupsAreInvisibleAndPrivacyIsEnforced) {
  token_ = "bob-token";  // team-a and team-c, moderately sensitive
  EXPECT_EQ(Get("/api/v1/job").json()["results"], Json({job_a_}));
  EXPECT_EQ(Get("/api/v1/job?group=team-b").json()["results"], Json::array());
  Response other = Get("/api/v1/job/" + job_b_);
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(other.body, absl::StrCat("{\"error\":\"no job with id ", job_b_, "\"}\n"));
  EXPECT_EQ(Get("/api/v1/job/" + job_b_ + "/artifacts/b.txt").status, 404);
  EXPECT_EQ(Fetch("DELETE", "/api/v1/job/" + job_b_).status, 403);  // deleting needs admin

  Json files = Get("/api/v1/job/" + job_a_ + "/files").json()["files"];
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0]["path"], "public.txt");
  EXPECT_EQ(Get("/api/v1/job/" + job_a_ + "/artifacts/secret/key.txt").status, 404);
  EXPECT_EQ(Get("/api/v1/job/" + job_a_ + "/artifacts/public.txt").body, "p");
  EXPECT_EQ(Fetch("POST", "/api/v1/gc/run").status, 403);
  EXPECT_EQ(PostJson("/api/v1/job", Json{{"compendium_id", "x"}, {"group", "team-b"}}).status, 403);

  token_ = "alice-token";  // highly sensitive
  EXPECT_EQ(Get("/api/v1/job/" + job_a_ + "/artifacts/secret/key.txt").body, "k");
  EXPECT_EQ(Get("/api/v1/job/" + job_a_ + "/files").json()["files"].size(), 2u);

  token_ = "ops-token";
  EXPECT_EQ(Get("/api/v1/job").json()["results"].size(), 2u);
  EXPECT_EQ(Fetch("POST", "/api/v1/gc/run").status, 200);
}

TEST_F(AuthTest, AZipHoldsOnlyWhatTheCallerMaySee) {
  token_ = "bob-token";  // moderately sensitive
  EXPECT_EQ(Unzipped(dir_, Get("/api/v1/job/" + job_a_ + "/artifacts.zip").body), Json({{"public.txt", "p"}}));
  EXPECT_EQ(Get("/api/v1/job/" + job_b_ + "/artifacts.zip").status, 404);
  token_ = "alice-token";  // highly sensitive
  EXPECT_EQ(Unzipped(dir_, Get("/api/v1/job/" + job_a_ + "/artifacts.zip").body),
            Json({{"public.txt", "p"}, {"secret/key.txt", "k"}}));
  token_ = "";
  EXPECT_EQ(Get("/api/v1/job/" + job_a_ + "/artifacts.zip").status, 401);
}

TEST_F(AuthTest, AChangedTokenFileIsReloaded) {
  token_ = "carol-token";
  EXPECT_EQ(Get("/api/v1/job").status, 401);
  WriteTokens(tokens_, absl::StrCat("sha256:", hash::Sha256::Of("carol-token"), " team-b moderately_sensitive carol\n"));
  clock_.Advance(absl::Seconds(2));
  EXPECT_EQ(Get("/api/v1/job").json()["results"], Json({job_b_}));
  token_ = "alice-token";  // gone from the file
  EXPECT_EQ(Get("/api/v1/job").status, 401);
  // A broken file keeps the tokens in force.
  WriteTokens(tokens_, "this is not a token line\n");
  clock_.Advance(absl::Seconds(2));
  token_ = "carol-token";
  EXPECT_EQ(Get("/api/v1/job").status, 200);
}


// ------------------------------------------- deletion, GC, scheduling

TEST_F(RestTest, DeleteGcAndResolve) {
  const std::string job = NewJob();
  cat::CreateJobRequest create;
  create.mutable_job()->set_group("team-a");
  create.mutable_job()->set_gc_strategy(types::v1::GC_STRATEGY_ON_JOB_DELETION);
  const std::string held = catalog_->CreateJob(create)->job().id();
  Collect(held, {{"a.txt", "a"}});
  Finish(held);

  Response deleting = Fetch("DELETE", "/api/v1/job/" + held);
  EXPECT_EQ(deleting.status, 202) << deleting.body;
  EXPECT_EQ(deleting.json()["pending_finalizers"], Json({"arca.io/artifact-gc"}));
  Response forced = Fetch("DELETE", "/api/v1/job/" + held + "?force=true");
  EXPECT_EQ(forced.status, 200);
  EXPECT_EQ(forced.json()["purged"], true);
  EXPECT_EQ(Get("/api/v1/job/" + held).status, 404);
  EXPECT_EQ(Fetch("DELETE", "/api/v1/job/" + job).status, 200);

  Response run = Fetch("POST", "/api/v1/gc/run");
  EXPECT_EQ(run.status, 200) << run.body;
  EXPECT_TRUE(run.json().contains("removed"));
  EXPECT_EQ(Get("/api/v1/gc/preview").status, 200);
  EXPECT_EQ(Get("/api/v1/gc/preview?limit=0").status, 400);

  Response tagged = PostJson("/api/v1/jobArtifacts",
                             Json{{"artifactID", "sched-1"}, {"name", "s"}, {"version", "1"},
                                  {"tags", {{"jdkVersion", "17"}}}});
  ASSERT_EQ(tagged.status, 201);
  Response resolved = PostJson(
      "/api/v1/scheduling/resolve",
      Json{{"artifact", {{"jobJarUrl", "http://repo/sched-1?x=1"}}},
           {"labels", {{"_mantis.schedulingAttribute.jdkVersion", "21"}}}});
  ASSERT_EQ(resolved.status, 200) << resolved.body;
  EXPECT_EQ(resolved.json()["attributes"][0]["value"], "21");
  EXPECT_EQ(resolved.json()["attributes"][0]["overriddenValue"], "17");
  EXPECT_EQ(PostJson("/api/v1/scheduling/resolve", Json{{"labels", 5}}).status, 400);
}

TEST_F(GatewayTest, ABackendThatIsDownIs503AndTheGatewayRecovers) {
  StartGateway();
  Response ready = Get("/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(ready.json()["backends"]["catalog"], "serving");
  EXPECT_EQ(ready.json()["backends"]["blob_store"], "readable");
  const std::string address = test_catalog_.address();
  test_catalog_.StopServer();
  Response down = Get("/api/v1/job");
  EXPECT_EQ(down.status, 503);
  // Said for people: no address, no gRPC detail (those go to the log).
  EXPECT_EQ(down.json()["error"], "catalog is unavailable; try again in a moment") << down.body;
  Json gql_down = PostJson("/graphql", Json{{"query", "{ phJobs { items { id } } }"}}).json();
  EXPECT_EQ(gql_down["errors"][0]["message"], "catalog is unavailable; try again in a moment") << gql_down;
  EXPECT_EQ(gql_down["errors"][0]["extensions"]["code"], "UNAVAILABLE");
  // Alive, not ready; the probe's answer names no address.
  EXPECT_EQ(Get("/healthz").status, 200);
  Response not_ready = Get("/readyz");
  EXPECT_EQ(not_ready.status, 503) << not_ready.body;
  EXPECT_EQ(not_ready.json()["status"], "not ready");
  EXPECT_EQ(not_ready.json()["backends"]["catalog"], "not serving");
  EXPECT_EQ(not_ready.json()["backends"]["collector"], "serving");
  EXPECT_FALSE(absl::StrContains(not_ready.body, address)) << not_ready.body;

  // The catalog comes back on the same address.
  catalog::CatalogServiceImpl service(catalog_);
  rpc::ServerOptions so;
  so.name = "catalog";
  so.listen = address;
  auto restarted = rpc::Server::Start(so, {{cat::Catalog::service_full_name(), &service}},
                                 std::make_shared<prometheus::Registry>());
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  int status = 0;
  while (absl::Now() < deadline && (status = Get("/api/v1/job").status) != 200) {
  }
  EXPECT_EQ(status, 200);
  while (absl::Now() < deadline && (status = Get("/readyz").status) != 200) {
  }
  EXPECT_EQ(status, 200);
}

TEST_F(RestTest, MetricsCountRequestsByRoute) {
  Get("/api/v1/job");
  Get("/api/v1/job/job-nope");
  Response metrics = Get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_TRUE(absl::StrContains(
      metrics.body, "arca_gateway_http_requests_total{code=\"404\",route=\"GET /api/v1/job/{id}\"} 1"))
      << metrics.body;
  EXPECT_TRUE(absl::StrContains(metrics.body,
                                "arca_gateway_http_requests_total{code=\"200\",route=\"GET /api/v1/job\"} 1"));
  EXPECT_TRUE(absl::StrContains(metrics.body, "arca_gateway_http_connections"));
  EXPECT_TRUE(absl::StrContains(metrics.body, "process_resident_memory_bytes"));
}

// ------------------------------------------------------------ GraphQL

Json Gql(const std::string& query, const Json& variables = Json()) {
  Json body{{"query", query}};
  if (!variables.is_null()) body["variables"] = variables;
  return body;
}

TEST_F(RestTest, GraphQlAnswersPrimeHubsArtifactQuery) {
  const std::string job = NewJob("team-a");
  Collect(job, {{"test.txt", "hello\n"}, {"sub/test.txt", "hello\n"}, {".arca/logs/job.log", "ran\n"}});
  Finish(job);
  // The seed's query, as written.
  Response r = PostJson("/graphql", Gql(absl::StrCat(R"(query {
      phJob(where: {id: ")", job, R"("}) {
        id
        artifact {
          prefix
          items {
            name
            size
            lastModified
          }
        }
      }
    })")));
  ASSERT_EQ(r.status, 200) << r.body;
  Json data = r.json()["data"]["phJob"];
  EXPECT_FALSE(r.json().contains("errors")) << r.body;
  EXPECT_EQ(data["id"], job);
  EXPECT_EQ(data["artifact"]["prefix"], "groups/team-a/jobArtifacts/" + job);
  ASSERT_EQ(data["artifact"]["items"].size(), 2u);  // the log is not an artifact
  EXPECT_EQ(data["artifact"]["items"][0]["name"], "sub/test.txt");
  EXPECT_EQ(data["artifact"]["items"][0]["size"], 6);
  EXPECT_TRUE(data["artifact"]["items"][0]["lastModified"].is_string());

  Response more = PostJson("/graphql", Gql(R"(query Job($id: ID!) {
      phJob(where: {id: $id}) { status finished steps { name status } logs { name downloadUrl }
                                artifact { items { downloadUrl } } }
      phJobs(where: {status: "success"}, limit: 5) { items { id } hasNextPage }
    })", Json{{"id", job}}));
  ASSERT_EQ(more.status, 200) << more.body;
  Json d = more.json()["data"];
  EXPECT_EQ(d["phJob"]["status"], "success");
  EXPECT_EQ(d["phJob"]["finished"], true);
  EXPECT_EQ(d["phJob"]["logs"][0]["name"], ".arca/logs/job.log");
  EXPECT_EQ(d["phJob"]["artifact"]["items"][1]["downloadUrl"],
            absl::StrCat("/api/v1/job/", job, "/artifacts/test.txt"));
  EXPECT_EQ(d["phJobs"]["items"], Json::parse(absl::StrCat(R"([{"id":")", job, R"("}])")));
  EXPECT_EQ(d["phJobs"]["hasNextPage"], false);
}

// PrimeHub's console and Python SDK, their queries as they send them.
TEST_F(RestTest, GraphQlAnswersPrimeHubsConsoleAndSdkUnchanged) {
  std::vector<std::string> jobs;
  for (int i = 0; i < 12; ++i) {
    cat::CreateJobRequest create;
    create.mutable_job()->set_group("team_a");
    create.mutable_job()->set_name(absl::StrCat(i % 2 ? "train-" : "eval-", i));
    create.mutable_job()->set_command("python train.py");
    jobs.push_back(catalog_->CreateJob(create)->job().id());
  }
  const std::string other = NewJob("team-b");
  const std::string job = jobs.back();
  Collect(job, {{"out/model.bin", "weights"}, {".arca/logs/job.log", "ran\n"}});
  // A file past 2^31 bytes (recorded, not written): its size stays exact.
  cat::CommitFilesRequest big;
  big.set_job_id(job);
  cat::ArtifactFile* f = big.add_files();
  f->set_job_id(job);
  f->set_path("out/huge.tar");
  f->set_size(5'000'000'007);
  f->set_sha256(std::string(64, 'a'));
  f->set_state(types::v1::FILE_STATE_AVAILABLE);
  ASSERT_TRUE(catalog_->CommitFiles(big).ok());
  Finish(job);

  // packages/client/src/queries/PhJob.graphql, the console's job list.
  const std::string console_list = R"(fragment PhJobInfo on PhJob {
  id
  displayName
  cancel
  command
  groupId
  groupName
  schedule
  image
  instanceType {
    id
    name
    displayName
    cpuLimit
    memoryLimit
    gpuLimit
  }
  userId
  userName
  phase
  reason
  message
  createTime
  startTime
  finishTime
  logEndpoint
}

query PhJobsConnection($where: PhJobWhereInput, $page: Int, $orderBy: PhJobOrderByInput) {
  phJobsConnection(where: $where, page: $page, orderBy: $orderBy) {
    pageInfo {
      totalPage
      currentPage
    }
    edges {
      cursor
      node {
        ...PhJobInfo
      }
    }
  }
}

query phJob($where: PhJobWhereUniqueInput!) {
  phJob(where: $where) {
    ...PhJobInfo
  }
}
)";
  // As the console's getCurrentQueryVariables builds them.
  Json vars{{"page", 1},
            {"where", {{"groupId_in", {"team_a"}}, {"search", ""}, {"mine", false}}},
            {"orderBy", Json::object()}};
  Json list_body{{"query", console_list}, {"operationName", "PhJobsConnection"}, {"variables", vars}};
  Response r = PostJson("/graphql", list_body);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_FALSE(r.json().contains("errors")) << r.body;
  Json conn = r.json()["data"]["phJobsConnection"];
  EXPECT_EQ(conn["pageInfo"], Json::parse(R"({"totalPage":2,"currentPage":1})"));
  ASSERT_EQ(conn["edges"].size(), 10u);  // PrimeHub's pages hold 10
  Json node = conn["edges"][0]["node"];
  EXPECT_EQ(conn["edges"][0]["cursor"], job);  // newest first
  EXPECT_EQ(node["id"], job);
  EXPECT_EQ(node["displayName"], "train-11");
  EXPECT_EQ(node["groupName"], "team_a");
  EXPECT_EQ(node["groupId"], "team_a");
  EXPECT_EQ(node["command"], "python train.py");
  EXPECT_EQ(node["phase"], "Succeeded");
  EXPECT_EQ(node["cancel"], false);
  EXPECT_TRUE(node["instanceType"].is_null());
  EXPECT_TRUE(node["createTime"].is_string());
  EXPECT_TRUE(node["finishTime"].is_string());
  EXPECT_EQ(node["logEndpoint"], absl::StrCat("/api/v1/job/", job, "/logs"));
  EXPECT_EQ(conn["edges"][1]["node"]["phase"], "Pending");
  EXPECT_TRUE(conn["edges"][1]["node"]["finishTime"].is_null());

  list_body["variables"]["page"] = 2;
  conn = PostJson("/graphql", list_body).json()["data"]["phJobsConnection"];
  EXPECT_EQ(conn["pageInfo"]["currentPage"], 2);
  ASSERT_EQ(conn["edges"].size(), 2u);
  EXPECT_EQ(conn["edges"][1]["cursor"], jobs[0]);
  // The console's search box and column sorting.
  list_body["variables"]["page"] = 1;
  list_body["variables"]["where"]["search"] = "TRAIN";
  list_body["variables"]["orderBy"] = {{"displayName", "asc"}};
  conn = PostJson("/graphql", list_body).json()["data"]["phJobsConnection"];
  ASSERT_EQ(conn["edges"].size(), 6u);
  EXPECT_EQ(conn["pageInfo"]["totalPage"], 1);
  EXPECT_EQ(conn["edges"][0]["node"]["displayName"], "train-1");
  EXPECT_EQ(conn["edges"][5]["node"]["displayName"], "train-9");
  list_body["variables"]["where"]["search"] = "";
  list_body["variables"]["orderBy"] = {{"createTime", "asc"}};
  conn = PostJson("/graphql", list_body).json()["data"]["phJobsConnection"];
  EXPECT_EQ(conn["edges"][0]["cursor"], jobs[0]);
  // Another group's jobs are not listed; an empty one is one empty page.
  list_body["variables"]["where"]["groupId_in"] = {"team-b", "team_a"};
  EXPECT_EQ(PostJson("/graphql", list_body).json()["data"]["phJobsConnection"]["pageInfo"]["totalPage"], 2);
  list_body["variables"]["where"]["groupId_in"] = {"team-c"};
  conn = PostJson("/graphql", list_body).json()["data"]["phJobsConnection"];
  EXPECT_EQ(conn["edges"], Json::array());
  EXPECT_EQ(conn["pageInfo"]["totalPage"], 1);
  list_body["variables"]["orderBy"] = {{"createTime", "sideways"}};
  EXPECT_TRUE(absl::StrContains(PostJson("/graphql", list_body).body, "orderBy takes one field"));

  Json one{{"query", console_list}, {"operationName", "phJob"}, {"variables", {{"where", {{"id", job}}}}}};
  r = PostJson("/graphql", one);
  EXPECT_EQ(r.json()["data"]["phJob"]["displayName"], "train-11") << r.body;

  // packages/client/src/ee/containers/jobArtifact.tsx, the Artifacts tab.
  r = PostJson("/graphql", Gql(R"(
  query phJob($where: PhJobWhereUniqueInput!) {
    phJob(where: $where) {
      id
      artifact {
        prefix
        items {
          name
          size
          lastModified
        }
      }
    }
  }
)", Json{{"where", {{"id", job}}}}));
  ASSERT_EQ(r.status, 200) << r.body;
  Json artifact = r.json()["data"]["phJob"]["artifact"];
  ASSERT_EQ(artifact["items"].size(), 2u) << r.body;
  EXPECT_EQ(artifact["items"][0]["name"], "out/huge.tar");
  EXPECT_EQ(artifact["items"][0]["size"].get<int64_t>(), 5'000'000'007);
  EXPECT_TRUE(absl::StrContains(r.body, R"("size":5000000007)")) << r.body;
  // The tab links each item as `${appPrefix}files/${prefix}/${item.name}`.
  Response file = Get(absl::StrCat("/files/", artifact["prefix"].get<std::string>(), "/out/model.bin"));
  EXPECT_EQ(file.status, 200);
  EXPECT_EQ(file.body, "weights");
  // The SDK's /api/files/groups/<group path>/… writes the group in lower
  // case with '-' for '_'.
  file = Get(absl::StrCat("/api/files/groups/team-a/jobArtifacts/", job, "/out/model.bin"));
  EXPECT_EQ(file.status, 200);
  EXPECT_EQ(file.body, "weights");
  EXPECT_EQ(Get(absl::StrCat("/files/groups/team-b/jobArtifacts/", job, "/out/model.bin")).status, 404);
  EXPECT_EQ(Get(absl::StrCat("/files/groups/team_a/jobArtifacts/", job, "/out/none.bin")).status, 404);
  EXPECT_EQ(Get(absl::StrCat("/files/groups/team_a/jobArtifacts/", job, "/../x")).status, 400);

  // primehub/jobs.py: list, get and list-artifacts, over its form POST.
  auto sdk = [&](const std::string& query, const Json& variables) {
    return Fetch("POST", "/graphql",
                 absl::StrCat("query=", PercentEncode(query), "&variables=", PercentEncode(variables.dump())),
                 {{"Content-Type", "application/x-www-form-urlencoded"}});
  };
  const std::string sdk_get = R"(
        query ($where: PhJobWhereUniqueInput!) {
          phJob(where: $where) {
            id
            displayName
            cancel
            command
            groupId
            groupName
            schedule
            image
            instanceType {
              id
              name
              displayName
              cpuLimit
              memoryLimit
              gpuLimit
            }
            userId
            userName
            phase
            reason
            message
            createTime
            startTime
            finishTime
          }
        }
        )";
  r = sdk(sdk_get, Json{{"where", {{"id", job}}}});
  EXPECT_EQ(r.json()["data"]["phJob"]["phase"], "Succeeded") << r.body;
  // An unknown id: the message jobs.py's _error_handler looks for.
  r = sdk(sdk_get, Json{{"where", {{"id", other + "x"}}}});
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.json()["data"].is_null()) << r.body;
  EXPECT_TRUE(std::regex_search(r.json()["errors"][0]["message"].get<std::string>(),
                                std::regex(R"re(phjobs.primehub.io "([^"]+)" not found)re")))
      << r.body;
  r = sdk(R"(
        query ($where: PhJobWhereInput, $page: Int, $orderBy: PhJobOrderByInput) {
          phJobsConnection(where: $where, page: $page, orderBy: $orderBy) {
            pageInfo {
              totalPage
              currentPage
            }
            edges {
              cursor
              node {
                id
                phase
              }
            }
          }
        }
        )", Json{{"where", {{"groupId_in", {"team-b"}}}}, {"page", 1}});
  EXPECT_EQ(r.json()["data"]["phJobsConnection"]["edges"][0]["cursor"], other) << r.body;
  r = sdk(R"(
        query ($where: PhJobWhereUniqueInput!) {
          phJob(where: $where) {
            artifact {
              items {
                name
                size
                lastModified
              }
            }
          }
        }
        )", Json{{"where", {{"id", job}}}});
  EXPECT_EQ(r.json()["data"]["phJob"]["artifact"]["items"][1]["name"], "out/model.bin") << r.body;
}

// A job's artifact and its logs come from one listing of its files.
TEST_F(RestTest, GraphQlListsAJobsFilesOncePerRequest) {
  const std::string job = NewJob("team-a");
  Collect(job, {{"out.txt", "out\n"}, {".arca/logs/job.log", "ran\n"}});
  auto calls = [&](const std::string& fields) {
    const double before = test_catalog_.Calls();
    Response r = PostJson("/graphql", Gql(absl::StrCat(R"({ phJob(where: {id: ")", job, R"("}) { )",
                                                        fields, " } }")));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_FALSE(r.json().contains("errors")) << r.body;
    return test_catalog_.Calls() - before;
  };
  const double artifact_only = calls("artifact { items { name } }");
  EXPECT_EQ(calls("artifact { items { name } } logs { name } again: artifact { prefix }"),
            artifact_only);
}

TEST_F(RestTest, GraphQlArtifactsSchedulingAndMutations) {
  Response reg = PostJson("/graphql", Gql(R"(mutation {
      registerJobArtifact(input: {artifactID: "g-1", name: "g-app", version: "1.0",
                                  tags: [{key: "jdkVersion", value: "17"}]}) { artifactID revision }
    })"));
  ASSERT_EQ(reg.status, 200) << reg.body;
  EXPECT_EQ(reg.json()["data"]["registerJobArtifact"]["revision"], 1);
  Response conflict = PostJson("/graphql", Gql(R"(mutation {
      registerJobArtifact(input: {name: "g-app", version: "1.0", tags: [{key: "jdkVersion", value: "11"}]}) { revision }
    })"));
  EXPECT_TRUE(conflict.json()["data"].is_null());
  EXPECT_EQ(conflict.json()["errors"][0]["path"], Json({"registerJobArtifact"}));

  Response q = PostJson("/graphql", Gql(R"({
      jobArtifacts(name: "g-app") { name version tags { key value } }
      jobArtifactNames(prefix: "g-")
      schedulingConstraints(jobJarUrl: "http://repo/g-1", labels: [{key: "_mantis.schedulingAttribute.jdkVersion", value: "21"}]) {
        attributes { key value source overrode overriddenValue } warnings }
    })"));
  ASSERT_EQ(q.status, 200) << q.body;
  Json d = q.json()["data"];
  EXPECT_EQ(d["jobArtifacts"][0]["tags"][0]["value"], "17");
  EXPECT_EQ(d["jobArtifactNames"], Json({"g-app"}));
  EXPECT_EQ(d["schedulingConstraints"]["attributes"][0]["value"], "21");
  EXPECT_EQ(d["schedulingConstraints"]["attributes"][0]["overriddenValue"], "17");

  const std::string job = NewJob();
  Response cleanup = PostJson("/graphql", Gql("mutation { cleanupPhJobArtifact }"));
  EXPECT_EQ(cleanup.json()["data"]["cleanupPhJobArtifact"], 0) << cleanup.body;
  Response del = PostJson("/graphql", Gql(absl::StrCat(R"(mutation { deleteJob(id: ")", job, R"(") { purged } })")));
  EXPECT_EQ(del.json()["data"]["deleteJob"]["purged"], true) << del.body;
}

TEST_F(RestTest, GraphQlOverHttpRules) {
  Response get = Get("/graphql?query=" + PercentEncode("{ jobArtifactNames }"));
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.json()["data"]["jobArtifactNames"], Json::array());
  Response get_mutation = Get("/graphql?query=" + PercentEncode("mutation { cleanupPhJobArtifact }"));
  EXPECT_EQ(get_mutation.status, 405);
  EXPECT_EQ(get_mutation.header("allow"), "POST");
  Response syntax = PostJson("/graphql", Gql("{ jobArtifactNames"));
  EXPECT_EQ(syntax.status, 400);
  EXPECT_EQ(syntax.json()["errors"][0]["message"], "Syntax Error: Expected Name, found <EOF>.");
  EXPECT_EQ(syntax.json()["errors"][0]["locations"][0], (Json{{"line", 1}, {"column", 19}}));
  EXPECT_FALSE(syntax.json().contains("data"));
  EXPECT_EQ(PostJson("/graphql", Gql("{ nope }")).status, 400);
  EXPECT_EQ(PostJson("/graphql", Json{{"query", 5}}).status, 400);
  EXPECT_EQ(Fetch("POST", "/graphql", "{ jobArtifactNames }", {{"Content-Type", "text/plain"}}).status, 415);
  // PrimeHub's SDK posts a form (Python requests' data=dict(variables=
  // json.dumps(variables), query=query)): spaces as '+', JSON variables.
  Response form = Fetch("POST", "/graphql",
                        "variables=%7B%22n%22%3A+%22none%22%7D&query=query+%28%24n%3A+String%29+%7B+"
                        "jobArtifactNames%28prefix%3A+%24n%29+%7D",
                        {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(form.status, 200) << form.body;
  EXPECT_EQ(form.json()["data"]["jobArtifactNames"], Json::array()) << form.body;
  Response form_mutation = Fetch("POST", "/graphql", "query=mutation+%7B+cleanupPhJobArtifact+%7D",
                                 {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(form_mutation.status, 200) << "a form is a POST: mutations run";
  EXPECT_EQ(Fetch("POST", "/graphql", "query=%7B+jobArtifactNames+%7D&variables=%7Bbad",
                  {{"Content-Type", "application/x-www-form-urlencoded"}}).status, 400);
  EXPECT_EQ(PostJson("/graphql", Gql("query($id: ID!) { phJob(where: {id: $id}) { id } }")).status, 400);

  // GraphQL over HTTP: every error in GraphQL's shape with extensions.code,
  // those raised before a query runs too.
  auto code = [](const Response& r) { return r.json()["errors"][0]["extensions"]["code"]; };
  EXPECT_EQ(code(syntax), "GRAPHQL_PARSE_FAILED");
  EXPECT_EQ(code(PostJson("/graphql", Gql("{ nope }"))), "GRAPHQL_VALIDATION_FAILED");
  EXPECT_EQ(code(PostJson("/graphql", Gql("query($id: ID!) { phJob(where: {id: $id}) { id } }"))), "BAD_REQUEST");
  Response unsupported = Fetch("POST", "/graphql", "{ jobArtifactNames }", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(unsupported.status, 415);
  EXPECT_EQ(code(unsupported), "BAD_REQUEST");
  EXPECT_TRUE(absl::StrContains(unsupported.json()["errors"][0]["message"].get<std::string>(), "application/json"));
  Response batch = Fetch("POST", "/graphql", R"([{"query": "{ jobArtifactNames }"}])",
                         {{"Content-Type", "application/json"}});
  EXPECT_EQ(batch.status, 400);
  EXPECT_EQ(code(batch), "BAD_REQUEST");
  EXPECT_TRUE(absl::StrContains(batch.json()["errors"][0]["message"].get<std::string>(), "batched")) << batch.body;
  Response missing = PostJson("/graphql", Gql(R"({ phJob(where: {id: "job-nope"}) { id } })"));
  EXPECT_EQ(missing.status, 200);
  EXPECT_EQ(code(missing), "NOT_FOUND");
  EXPECT_EQ(missing.json()["errors"][0]["path"], Json::array({"phJob"}));
  EXPECT_EQ(code(PostJson("/graphql", Gql("{ phJobs(limit: 5000) { hasNextPage } }"))), "BAD_USER_INPUT");
  // REST keeps its own shape.
  EXPECT_EQ(Get("/api/v1/job/job-nope").json(), (Json{{"error", "no job with id job-nope"}}));
}

// CORS: nothing allowed by default; an allowed origin's preflight names
// what the path takes, and its answers carry the headers.
TEST_F(RestTest, CorsOnlyForTheOriginsAllowed) {
  const std::string site = "https://ui.example.com";
  auto preflight = [&](const std::string& path, const std::string& origin) {
    return Fetch("OPTIONS", path, "",
                 {{"Origin", origin}, {"Access-Control-Request-Method", "POST"},
                  {"Access-Control-Request-Headers", "authorization, content-type"}});
  };
  Response refused = preflight("/api/v1/job", site);
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.header("access-control-allow-origin"), "");
  EXPECT_TRUE(absl::StrContains(refused.body, "--cors_origins")) << refused.body;
  EXPECT_EQ(Get("/api/v1/job", {{"Origin", site}}).header("access-control-allow-origin"), "");

  GatewayOptions options;
  options.cors_origins = {site};
  StartGateway("", http::HttpServerOptions(), options);
  Response ok = preflight("/api/v1/job", site);
  EXPECT_EQ(ok.status, 204);
  EXPECT_EQ(ok.header("access-control-allow-origin"), site);
  EXPECT_EQ(ok.header("access-control-allow-methods"), "POST, GET, HEAD");
  EXPECT_TRUE(absl::StrContains(ok.header("access-control-allow-headers"), "Authorization"));
  EXPECT_EQ(preflight("/api/v1/job", "https://evil.example.com").status, 403);
  EXPECT_EQ(preflight("/api/v1/nothing", site).status, 404);
  Response listed = Get("/api/v1/job", {{"Origin", site}});
  EXPECT_EQ(listed.status, 200);
  EXPECT_EQ(listed.header("access-control-allow-origin"), site);
  EXPECT_EQ(listed.header("vary"), "Origin");
  EXPECT_TRUE(absl::StrContains(listed.header("access-control-expose-headers"), "ETag"));
  // The listing cache answers a cross-origin request with its headers too.
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(Get("/api/v1/jobArtifacts?name=x", {{"Origin", site}}).header("access-control-allow-origin"), site);
  }
  EXPECT_EQ(Get("/api/v1/job", {{"Origin", "https://evil.example.com"}}).header("access-control-allow-origin"), "");
  EXPECT_EQ(Fetch("OPTIONS", "/api/v1/job").status, 405) << "not a preflight";
}

TEST_F(AuthTest, GraphQlFollowsTheSameVisibility) {
  token_ = "bob-token";
  Json other = PostJson("/graphql", Gql(absl::StrCat(R"({ phJob(where: {id: ")", job_b_, R"("}) { id } })"))).json();
  EXPECT_TRUE(other["data"].is_null());
  EXPECT_TRUE(absl::StrContains(other["errors"][0]["message"].get<std::string>(), "not found")) << other;
  EXPECT_EQ(Get(absl::StrCat("/files/groups/team-b/jobArtifacts/", job_b_, "/b.txt")).status, 404);
  Json listed = PostJson("/graphql", Gql(R"({ phJobsConnection(where: {groupId_in: ["team-a", "team-b"]}) {
                                                edges { cursor } } })")).json();
  EXPECT_EQ(listed["data"]["phJobsConnection"]["edges"], Json::parse(absl::StrCat(R"([{"cursor":")", job_a_, R"("}])")));
  Json mine = PostJson("/graphql", Gql(absl::StrCat(R"({ phJob(where: {id: ")", job_a_,
                                                    R"("}) { artifact { items { name } } } })"))).json();
  EXPECT_EQ(mine["data"]["phJob"]["artifact"]["items"], Json::parse(R"([{"name":"public.txt"}])"));
  EXPECT_EQ(PostJson("/graphql", Gql("{ phJobs { items { id } } }")).json()["data"]["phJobs"]["items"].size(), 1u);
  Json sweep = PostJson("/graphql", Gql("mutation { cleanupPhJobArtifact }")).json();
  EXPECT_TRUE(absl::StrContains(sweep["errors"][0]["message"].get<std::string>(), "admin role"));
  token_ = "";
  Response unauthenticated = PostJson("/graphql", Gql("{ jobArtifactNames }"));
  EXPECT_EQ(unauthenticated.status, 401);
  EXPECT_EQ(unauthenticated.json()["errors"][0]["extensions"]["code"], "UNAUTHENTICATED") << unauthenticated.body;
  EXPECT_EQ(unauthenticated.header("www-authenticate"), "Bearer realm=\"arca\"");
}

// ------------------------------------------------------ the real binary

TEST(GatewayBinaryTest, RefusesAnOpenAddressWithoutTokensAndStopsOnSigterm) {
  const char* bin = std::getenv("ARCA_BIN_ARCA_GATEWAY");
  ASSERT_NE(bin, nullptr);
  testing::Subprocess open;
  ASSERT_TRUE(open.Start({bin, "--listen=0.0.0.0:0", "--metrics_listen="}).ok());
  int status = open.Wait(absl::Seconds(30));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << open.output();
  EXPECT_TRUE(absl::StrContains(open.output(), "without --tokens_file")) << open.output();

  testing::Subprocess gateway;
  ASSERT_TRUE(gateway.Start({bin, "--listen=127.0.0.1:0", "--metrics_listen=",
                             "--catalog=127.0.0.1:1"}).ok());
  auto address = gateway.WaitForListening(absl::Seconds(30));
  ASSERT_TRUE(address.ok()) << address.status();
  int port = 0;
  ASSERT_TRUE(absl::SimpleAtoi(address->substr(address->rfind(':') + 1), &port));
  int fd = Connect(port);
  SendAll(fd, Request("GET", "/api/v1/job"));
  Response r = ReadResponse(fd);
  close(fd);
  EXPECT_EQ(r.status, 503);  // nothing listens where the catalog should be
  EXPECT_EQ(r.json()["error"], "catalog is unavailable; try again in a moment");
  gateway.Signal(SIGTERM);
  status = gateway.Wait(absl::Seconds(30));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << gateway.output();
}

// --------------------------------------------------------- a big file

int64_t PeakRssBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, "VmHWM:")) {
      int64_t kb = 0;
      absl::SimpleAtoi(absl::StripSuffix(absl::StripAsciiWhitespace(line.substr(6)), " kB"), &kb);
      return kb * 1024;
    }
  }
  return 0;
}

TEST_F(RestTest, AHugeDownloadStreamsInBoundedMemory) {
  const int64_t size = int64_t{2} << 30;
  // Far below the file's size: gRPC's flow-control windows and the
  // allocator's per-thread arenas, not the file. AddressSanitizer keeps up
  // to 256 MiB of freed memory in quarantine on top.
#if defined(__SANITIZE_ADDRESS__)
  const int64_t bound = int64_t{512} << 20;
#else
  const int64_t bound = int64_t{256} << 20;
#endif
  const std::string job = NewJob();
  // Written straight into the blob store and catalogued, as a collect would.
  auto writer = *blobs_->NewWriter();
  std::string block(1 << 20, '\0');
  for (size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>(i * 131 % 251);
  hash::Sha256 expected;
  for (int64_t written = 0; written < size; written += block.size()) {
    ASSERT_TRUE(writer->Append(block).ok());
    expected.Update(block);
  }
  auto info = writer->Commit();
  ASSERT_TRUE(info.ok()) << info.status();
  cat::CommitFilesRequest commit;
  commit.set_job_id(job);
  auto* file = commit.add_files();
  file->set_path("huge.bin");
  file->set_size(size);
  file->set_sha256(info->sha256);
  ASSERT_TRUE(catalog_->CommitFiles(commit).ok());

  std::ofstream("/proc/self/clear_refs") << "5";  // resets the peak
  const int64_t before = PeakRssBytes();
  int fd = Connect(server_->port());
  SendAll(fd, Request("GET", "/api/v1/job/" + job + "/artifacts/huge.bin"));
  Response r = ReadResponse(fd, false, /*keep_body=*/false);
  close(fd);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.body_bytes, size);
  EXPECT_EQ(r.body_sha256, expected.HexDigest());
  EXPECT_LT(PeakRssBytes() - before, bound) << "the download was buffered";
}

}  // namespace
}  // namespace arca::gateway
