#include "services/catalog/catalog.h"

#include <map>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/time_util.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "services/catalog/catalog_metrics.h"

namespace arca::catalog {
namespace {

using ::arca::types::v1::JobStatus;
using ::arca::types::v1::StepStatus;

template <typename Field>
std::vector<uint64_t> Numbers(const Field& field) {
  return std::vector<uint64_t>(field.begin(), field.end());
}

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/arca-catalog-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    Reopen();
  }
  void TearDown() override {
    catalog_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    catalog_.reset();
    CatalogOptions options;
    options.data_dir = dir_ + "/db";
    options.backup_dir = dir_ + "/backups";
    options.default_retention = absl::Hours(24 * 7);
    options.min_free_bytes = 0;
    options.reserve_bytes = 0;
    auto opened = Catalog::Open(options, &clock_);
    ASSERT_TRUE(opened.ok()) << opened.status();
    catalog_ = *std::move(opened);
  }

  static v1::RegisterJobArtifactRequest Artifact(const std::string& name,
                                                 const std::string& version,
                                                 const std::string& jdk = "17") {
    v1::RegisterJobArtifactRequest r;
    r.mutable_artifact()->set_name(name);
    r.mutable_artifact()->set_version(version);
    r.mutable_artifact()->set_runtime_type("spring-boot");
    (*r.mutable_artifact()->mutable_tags())["jdkVersion"] = jdk;
    return r;
  }

  v1::JobArtifact Register(const std::string& name, const std::string& version,
                           const std::string& jdk = "17") {
    auto r = catalog_->RegisterJobArtifact(Artifact(name, version, jdk));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->artifact() : v1::JobArtifact();
  }

  v1::Job NewJob(const std::string& group = "team-a", const std::string& id = "") {
    v1::CreateJobRequest r;
    r.mutable_job()->set_group(group);
    r.mutable_job()->set_name("train");
    r.mutable_job()->set_id(id);
    auto created = catalog_->CreateJob(r);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? created->job() : v1::Job();
  }

  static v1::ArtifactFile File(const std::string& path, char digest_char = 'a',
                               int64_t size = 6) {
    v1::ArtifactFile f;
    f.set_path(path);
    f.set_size(size);
    f.set_sha256(std::string(64, digest_char));
    return f;
  }

  absl::StatusOr<v1::CommitFilesResponse> Commit(const std::string& job,
                                                 std::vector<v1::ArtifactFile> files) {
    v1::CommitFilesRequest r;
    r.set_job_id(job);
    for (auto& f : files) *r.add_files() = f;
    return catalog_->CommitFiles(r);
  }

  std::vector<std::string> Names(const std::string& prefix, const std::string& contains) {
    v1::ListJobArtifactNamesRequest r;
    r.set_prefix(prefix);
    r.set_contains(contains);
    auto names = catalog_->ListJobArtifactNames(r);
    EXPECT_TRUE(names.ok()) << names.status();
    return names.ok() ? std::vector<std::string>(names->names().begin(), names->names().end())
                      : std::vector<std::string>();
  }

  std::string dir_;
  FakeClock clock_;
  std::unique_ptr<Catalog> catalog_;
};

// ------------------------------------------------------------- artifacts

TEST_F(CatalogTest, RegisterCreatesWithRevisionOneAndTimestamps) {
  v1::JobArtifact a = Register("my-app", "1.0.0");
  EXPECT_FALSE(a.artifact_id().empty());
  EXPECT_EQ(a.revision(), 1);
  EXPECT_EQ(FromProtoTime(a.created_at()), clock_.Now());
  auto got = catalog_->GetJobArtifact(a.artifact_id());
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->tags().at("jdkVersion"), "17");
}

TEST_F(CatalogTest, IdenticalRetryReturnsSameIdWithoutNewRevision) {
  v1::JobArtifact a = Register("my-app", "1.0.0");
  clock_.Advance(absl::Minutes(1));
  auto again = catalog_->RegisterJobArtifact(Artifact("my-app", "1.0.0"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->created());
  EXPECT_EQ(again->artifact().artifact_id(), a.artifact_id());
  EXPECT_EQ(again->artifact().revision(), 1);
}

TEST_F(CatalogTest, DifferentContentForSameNameVersionIsAlreadyExists) {
  Register("my-app", "1.0.0", "11");
  auto second = catalog_->RegisterJobArtifact(Artifact("my-app", "1.0.0", "17"));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(second.status().message().find("my-app@1.0.0"), std::string::npos);
  // The original is untouched: the Mantis hazard does not happen.
  auto listed = catalog_->ListJobArtifacts([] {
    v1::ListJobArtifactsRequest r;
    r.set_name("my-app");
    return r;
  }());
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->artifacts_size(), 1);
  EXPECT_EQ(listed->artifacts(0).tags().at("jdkVersion"), "11");
}

TEST_F(CatalogTest, OverwriteBumpsRevisionAndCompareAndSetChecksIt) {
  v1::JobArtifact a = Register("my-app", "1.0.0", "11");
  auto req = Artifact("my-app", "1.0.0", "17");
  req.set_overwrite(true);
  req.set_expected_revision(5);
  EXPECT_EQ(catalog_->RegisterJobArtifact(req).status().code(),
            absl::StatusCode::kFailedPrecondition);
  req.set_expected_revision(1);
  auto ok = catalog_->RegisterJobArtifact(req);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->artifact().artifact_id(), a.artifact_id());
  EXPECT_EQ(ok->artifact().revision(), 2);
  EXPECT_EQ(catalog_->GetJobArtifact(a.artifact_id())->tags().at("jdkVersion"), "17");
  // A retry of the same overwrite after it landed is idempotent.
  auto retry = catalog_->RegisterJobArtifact(req);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->artifact().revision(), 2);
}

TEST_F(CatalogTest, CallerChosenIdConflicts) {
  auto req = Artifact("my-app", "1.0.0");
  req.mutable_artifact()->set_artifact_id("my-app-1.0.0.zip");
  ASSERT_TRUE(catalog_->RegisterJobArtifact(req).ok());
  // Same id, other name+version, no overwrite.
  auto other = Artifact("other", "2.0");
  other.mutable_artifact()->set_artifact_id("my-app-1.0.0.zip");
  EXPECT_EQ(catalog_->RegisterJobArtifact(other).status().code(),
            absl::StatusCode::kAlreadyExists);
  // Same name+version under another id, even with overwrite.
  auto renamed = Artifact("my-app", "1.0.0");
  renamed.mutable_artifact()->set_artifact_id("another.zip");
  renamed.set_overwrite(true);
  EXPECT_EQ(catalog_->RegisterJobArtifact(renamed).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(catalog_->GetJobArtifact("another.zip").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(CatalogTest, OverwriteByIdThatRenamesKeepsAllIndexesInStep) {
  auto req = Artifact("old-name", "1.0");
  req.mutable_artifact()->set_artifact_id("pkg.zip");
  ASSERT_TRUE(catalog_->RegisterJobArtifact(req).ok());
  Register("old-name", "2.0");
  auto moved = Artifact("new-name", "3.0");
  moved.mutable_artifact()->set_artifact_id("pkg.zip");
  moved.set_overwrite(true);
  auto r = catalog_->RegisterJobArtifact(moved);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->artifact().revision(), 2);

  v1::ListJobArtifactsRequest by_nv;
  by_nv.set_name("old-name");
  by_nv.set_version("1.0");
  EXPECT_EQ(catalog_->ListJobArtifacts(by_nv)->artifacts_size(), 0);
  by_nv.set_name("new-name");
  by_nv.set_version("3.0");
  ASSERT_EQ(catalog_->ListJobArtifacts(by_nv)->artifacts_size(), 1);
  EXPECT_EQ(Names("", ""), (std::vector<std::string>{"new-name", "old-name"}));

  // Moving the last version of a name away removes the name.
  auto back = Artifact("new-name", "4.0");
  back.mutable_artifact()->set_artifact_id("pkg.zip");
  back.set_overwrite(true);
  ASSERT_TRUE(catalog_->RegisterJobArtifact(back).ok());
  v1::DeleteJobArtifactRequest del;
  del.set_artifact_id(catalog_->ListJobArtifacts([] {
                                 v1::ListJobArtifactsRequest r;
                                 r.set_name("old-name");
                                 return r;
                               }())
                          ->artifacts(0)
                          .artifact_id());
  ASSERT_TRUE(catalog_->DeleteJobArtifact(del).ok());
  EXPECT_EQ(Names("", ""), (std::vector<std::string>{"new-name"}));
}

TEST_F(CatalogTest, ListByNameIsNewestFirstAndPages) {
  for (int i = 1; i <= 5; ++i) {
    Register("svc", absl::StrCat("1.", i));
    clock_.Advance(absl::Seconds(1));
  }
  Register("svc-other", "9");
  v1::ListJobArtifactsRequest r;
  r.set_name("svc");
  r.set_page_size(2);
  std::vector<std::string> versions;
  for (int pages = 0;; ++pages) {
    ASSERT_LT(pages, 5);
    auto page = catalog_->ListJobArtifacts(r);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& a : page->artifacts()) versions.push_back(a.version());
    if (page->next_page_token().empty()) break;
    r.set_page_token(page->next_page_token());
  }
  EXPECT_EQ(versions, (std::vector<std::string>{"1.5", "1.4", "1.3", "1.2", "1.1"}));
}

TEST_F(CatalogTest, ListAllArtifactsPagesByIdExactly) {
  for (int i = 0; i < 4; ++i) Register(absl::StrCat("n", i), "1");
  v1::ListJobArtifactsRequest r;
  r.set_page_size(2);
  auto p1 = catalog_->ListJobArtifacts(r);
  ASSERT_TRUE(p1.ok());
  ASSERT_EQ(p1->artifacts_size(), 2);
  r.set_page_token(p1->next_page_token());
  auto p2 = catalog_->ListJobArtifacts(r);
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(p2->artifacts_size(), 2);
  EXPECT_TRUE(p2->next_page_token().empty());  // an exact multiple ends cleanly
}

TEST_F(CatalogTest, NamesByPrefixContainsAndPages) {
  for (const char* n : {"my-app", "my-streaming-job", "other-streaming", "zeta"}) Register(n, "1");
  Register("my-app", "2");
  EXPECT_EQ(Names("my-", ""), (std::vector<std::string>{"my-app", "my-streaming-job"}));
  EXPECT_EQ(Names("", "streaming"),
            (std::vector<std::string>{"my-streaming-job", "other-streaming"}));
  EXPECT_EQ(Names("my-", "streaming"), (std::vector<std::string>{"my-streaming-job"}));
  EXPECT_TRUE(Names("nope", "").empty());

  v1::ListJobArtifactNamesRequest r;
  r.set_page_size(3);
  auto p1 = catalog_->ListJobArtifactNames(r);
  ASSERT_TRUE(p1.ok());
  EXPECT_EQ(p1->names_size(), 3);
  r.set_page_token(p1->next_page_token());
  auto p2 = catalog_->ListJobArtifactNames(r);
  ASSERT_TRUE(p2.ok());
  ASSERT_EQ(p2->names_size(), 1);
  EXPECT_EQ(p2->names(0), "zeta");
  EXPECT_TRUE(p2->next_page_token().empty());
}

TEST_F(CatalogTest, BadArtifactInputNamesTheField) {
  struct Case {
    std::string name, version;
    const char* field;
  } cases[] = {{"", "1", "name"},          {"bad name", "1", "name"},
               {"ok", "", "version"},      {"ok", "1/2", "version"},
               {std::string(256, 'n'), "1", "name"}, {"ok", "ü", "version"},
               {".", "1", "name"},         {"ok", "..", "version"}};
  for (const Case& c : cases) {
    auto s = catalog_->RegisterJobArtifact(Artifact(c.name, c.version)).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.name << "@" << c.version;
    EXPECT_EQ(s.message().rfind(c.field, 0), 0u) << s.message();
  }
  auto many = Artifact("ok", "1");
  for (int i = 0; i < 1000; ++i) (*many.mutable_artifact()->mutable_tags())[absl::StrCat(i)] = "v";
  EXPECT_NE(catalog_->RegisterJobArtifact(many).status().message().find("tags has 1001"),
            std::string::npos);
  auto deps = Artifact("ok", "1");
  for (int i = 0; i < 1001; ++i) {
    (*deps.mutable_artifact()->mutable_dependencies())[absl::StrCat(i)] = "v";
  }
  EXPECT_NE(catalog_->RegisterJobArtifact(deps).status().message().find("dependencies"),
            std::string::npos);
  auto big = Artifact("ok", "1");
  for (int i = 0; i < 10; ++i) {
    (*big.mutable_artifact()->mutable_tags())[absl::StrCat(i)] = std::string(60000, 'x');
  }
  EXPECT_NE(catalog_->RegisterJobArtifact(big).status().message().find("400 KiB"),
            std::string::npos);
  EXPECT_EQ(catalog_->RegisterJobArtifact(v1::RegisterJobArtifactRequest()).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto far = Artifact("ok", "1");
  far.mutable_artifact()->mutable_created_at()->set_seconds(int64_t{146138514283} * 31556952);
  auto s = catalog_->RegisterJobArtifact(far).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("createdAt must be a time from year 1 to 9999"), std::string::npos) << s;
  EXPECT_TRUE(Names("", "").empty());  // nothing was stored by any of it
}

TEST_F(CatalogTest, TimesOutsideYearsOneTo9999AndAbsurdRetentionsAreRefused) {
  v1::Job job = NewJob();
  v1::UpdateStepRequest step;
  step.set_job_id(job.id());
  step.mutable_step()->set_name("run");
  step.mutable_step()->set_status(types::v1::STEP_STATUS_RUNNING);
  step.mutable_step()->mutable_start()->set_seconds(253402300800);  // year 10000
  EXPECT_EQ(catalog_->UpdateStep(step).status().code(), absl::StatusCode::kInvalidArgument);
  step.mutable_step()->mutable_start()->set_seconds(0);
  step.mutable_step()->mutable_start()->set_nanos(-1);
  EXPECT_EQ(catalog_->UpdateStep(step).status().code(), absl::StatusCode::kInvalidArgument);
  v1::ArtifactFile f = File("a.txt");
  f.mutable_last_modified()->set_seconds(-62135596801);  // before year 1
  auto committed = Commit(job.id(), {f});
  EXPECT_EQ(committed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(committed.status().message().find("last_modified"), std::string::npos);
  v1::CreateJobRequest create;
  create.mutable_job()->set_group("team-a");
  create.mutable_job()->mutable_retention()->set_seconds(int64_t{1} << 60);
  EXPECT_EQ(catalog_->CreateJob(create).status().code(), absl::StatusCode::kInvalidArgument);
  create.mutable_job()->mutable_retention()->set_seconds(-(int64_t{1} << 60));
  EXPECT_EQ(catalog_->CreateJob(create).status().code(), absl::StatusCode::kInvalidArgument);
  create.mutable_job()->clear_retention();
  create.mutable_job()->set_id("..");
  EXPECT_EQ(catalog_->CreateJob(create).status().code(), absl::StatusCode::kInvalidArgument);
  // Nothing changed.
  EXPECT_TRUE(catalog_->GetJob(job.id())->steps().empty());
  v1::ListJobsRequest all;
  EXPECT_EQ(catalog_->ListJobs(all)->jobs_size(), 1);
  create.mutable_job()->set_id("");
  create.mutable_job()->mutable_retention()->set_seconds(-1);  // kept until removed
  EXPECT_TRUE(catalog_->CreateJob(create).ok());
}

TEST_F(CatalogTest, BadPagingInput) {
  v1::ListJobArtifactNamesRequest r;
  r.set_page_size(-1);
  EXPECT_EQ(catalog_->ListJobArtifactNames(r).status().code(),
            absl::StatusCode::kInvalidArgument);
  r.set_page_size(1001);
  EXPECT_EQ(catalog_->ListJobArtifactNames(r).status().code(),
            absl::StatusCode::kInvalidArgument);
  r.set_page_size(10);
  r.set_page_token("!!not-base64");
  EXPECT_EQ(catalog_->ListJobArtifactNames(r).status().code(),
            absl::StatusCode::kInvalidArgument);
  // A token from another listing is refused too.
  for (int i = 0; i < 3; ++i) NewJob();
  v1::ListJobsRequest jobs;
  jobs.set_page_size(1);
  auto page = catalog_->ListJobs(jobs);
  ASSERT_TRUE(page.ok());
  r.set_page_token(page->next_page_token());
  EXPECT_EQ(catalog_->ListJobArtifactNames(r).status().message(), "malformed page_token");
}

TEST_F(CatalogTest, UnknownIdsAreNotFound) {
  EXPECT_EQ(catalog_->GetJobArtifact("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(catalog_->GetJob("job-1").status().code(), absl::StatusCode::kNotFound);
  v1::DeleteJobArtifactRequest d;
  d.set_artifact_id("nope");
  EXPECT_EQ(catalog_->DeleteJobArtifact(d).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Commit("job-1", {File("a.txt")}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(catalog_->GetJobArtifact("../etc").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CatalogTest, DeleteChecksRevisionAndCleansIndexes) {
  v1::JobArtifact a = Register("app", "1");
  v1::DeleteJobArtifactRequest d;
  d.set_artifact_id(a.artifact_id());
  d.set_expected_revision(2);
  EXPECT_EQ(catalog_->DeleteJobArtifact(d).code(), absl::StatusCode::kFailedPrecondition);
  d.set_expected_revision(1);
  ASSERT_TRUE(catalog_->DeleteJobArtifact(d).ok());
  EXPECT_TRUE(Names("", "").empty());
  // The name+version is free again.
  EXPECT_TRUE(catalog_->RegisterJobArtifact(Artifact("app", "1", "21"))->created());
}

TEST_F(CatalogTest, SixteenConcurrentRegistersOfOneNameVersionHaveOneWinner) {
  std::atomic<int> created{0}, conflicts{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      auto r = catalog_->RegisterJobArtifact(Artifact("race", "1", absl::StrCat(i)));
      if (r.ok() && r->created()) {
        ++created;
      } else if (r.status().code() == absl::StatusCode::kAlreadyExists) {
        ++conflicts;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(conflicts.load(), 15);
  EXPECT_EQ(other.load(), 0);
  v1::ListJobArtifactsRequest r;
  r.set_name("race");
  EXPECT_EQ(catalog_->ListJobArtifacts(r)->artifacts_size(), 1);
}

// ------------------------------------------------------------------ jobs

TEST(DeriveStatusTest, FollowsO2rRules) {
  auto steps = [](std::vector<StepStatus> statuses) {
    google::protobuf::RepeatedPtrField<v1::Step> out;
    for (StepStatus s : statuses) out.Add()->set_status(s);
    return out;
  };
  using types::v1::JOB_STATUS_FAILURE;
  using types::v1::JOB_STATUS_QUEUED;
  using types::v1::JOB_STATUS_RUNNING;
  using types::v1::JOB_STATUS_SUCCESS;
  constexpr auto Q = types::v1::STEP_STATUS_QUEUED, R = types::v1::STEP_STATUS_RUNNING,
                 S = types::v1::STEP_STATUS_SUCCESS, F = types::v1::STEP_STATUS_FAILURE,
                 W = types::v1::STEP_STATUS_WARNING, K = types::v1::STEP_STATUS_SKIP;
  struct Row {
    std::vector<StepStatus> in;
    bool finished;
    JobStatus want;
  } table[] = {
      {{}, false, JOB_STATUS_QUEUED},        {{Q}, false, JOB_STATUS_QUEUED},
      {{S, Q}, false, JOB_STATUS_RUNNING},   {{S, R}, false, JOB_STATUS_RUNNING},
      // Until it finishes, a job is running, whatever its steps say (o2r's
      // executor decides the overall status at the end, after its cleanup
      // step; o2r's clients poll while a job is running).
      {{R, F}, false, JOB_STATUS_RUNNING},   {{S, S, F}, false, JOB_STATUS_RUNNING},
      {{S}, false, JOB_STATUS_RUNNING},      {{S, W, K}, false, JOB_STATUS_RUNNING},
      {{K}, false, JOB_STATUS_RUNNING},      {{W, R, Q}, false, JOB_STATUS_RUNNING},
      {{S}, true, JOB_STATUS_SUCCESS},       {{S, W, K}, true, JOB_STATUS_SUCCESS},
      {{S, Q}, true, JOB_STATUS_SUCCESS},    {{Q}, true, JOB_STATUS_SUCCESS},
      {{S, F, Q}, true, JOB_STATUS_FAILURE},
  };
  for (const Row& row : table) {
    EXPECT_EQ(DeriveStatus(steps(row.in), row.finished), row.want)
        << ::testing::PrintToString(row.in) << (row.finished ? " finished" : "");
  }
}

TEST_F(CatalogTest, JobIdIsSortableAndPrimeHubShaped) {
  clock_.Set(absl::FromCivil(absl::CivilMinute(2026, 11, 22, 15, 30), absl::UTCTimeZone()));
  v1::Job job = NewJob();
  EXPECT_EQ(job.id().rfind("job-202611221530-", 0), 0u) << job.id();
  EXPECT_EQ(job.id().size(), std::string("job-202611221530-x7k2q9").size());
  EXPECT_EQ(job.status(), types::v1::JOB_STATUS_QUEUED);
}

TEST_F(CatalogTest, CreateWithIdIsIdempotentAndDetectsConflicts) {
  v1::Job first = NewJob("team-a", "job-fixed");
  v1::CreateJobRequest again;
  again.mutable_job()->set_id("job-fixed");
  again.mutable_job()->set_group("team-a");
  again.mutable_job()->set_name("train");
  auto r = catalog_->CreateJob(again);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->created());
  EXPECT_EQ(r->job().created_at().seconds(), first.created_at().seconds());
  again.mutable_job()->set_group("team-b");
  EXPECT_EQ(catalog_->CreateJob(again).status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(CatalogTest, UnknownCompendiumIsO2rsNotFound) {
  v1::CreateJobRequest r;
  r.mutable_job()->set_group("g");
  r.mutable_job()->set_compendium_id("a4Dnm");
  auto s = catalog_->CreateJob(r).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "no compendium with this ID found");
  auto reg = Artifact("x", "1");
  reg.mutable_artifact()->set_artifact_id("a4Dnm");
  ASSERT_TRUE(catalog_->RegisterJobArtifact(reg).ok());
  EXPECT_TRUE(catalog_->CreateJob(r).ok());
}

TEST_F(CatalogTest, ListJobsNewestFirstWithFiltersOffsetAndPaging) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(NewJob(i % 2 ? "odd" : "even").id());
    clock_.Advance(absl::Seconds(1));
  }
  v1::ListJobsRequest all;
  auto listed = catalog_->ListJobs(all);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->jobs_size(), 5);
  EXPECT_EQ(listed->jobs(0).id(), ids[4]);
  EXPECT_EQ(listed->jobs(4).id(), ids[0]);

  v1::ListJobsRequest even;
  even.set_group("even");
  even.set_page_size(2);
  auto p1 = catalog_->ListJobs(even);
  ASSERT_TRUE(p1.ok());
  ASSERT_EQ(p1->jobs_size(), 2);
  EXPECT_EQ(p1->jobs(0).id(), ids[4]);
  EXPECT_EQ(p1->jobs(1).id(), ids[2]);
  even.set_page_token(p1->next_page_token());
  auto p2 = catalog_->ListJobs(even);
  ASSERT_TRUE(p2.ok());
  ASSERT_EQ(p2->jobs_size(), 1);
  EXPECT_EQ(p2->jobs(0).id(), ids[0]);
  EXPECT_TRUE(p2->next_page_token().empty());
  // A token made for one group is no good for another.
  v1::ListJobsRequest odd;
  odd.set_group("odd");
  odd.set_page_token(p1->next_page_token());
  EXPECT_EQ(catalog_->ListJobs(odd).status().code(), absl::StatusCode::kInvalidArgument);

  v1::ListJobsRequest offset;
  offset.set_offset(3);
  auto skipped = catalog_->ListJobs(offset);
  ASSERT_TRUE(skipped.ok());
  ASSERT_EQ(skipped->jobs_size(), 2);
  EXPECT_EQ(skipped->jobs(0).id(), ids[1]);

  v1::UpdateStepRequest step;
  step.set_job_id(ids[1]);
  step.mutable_step()->set_name("image_execute");
  step.mutable_step()->set_status(types::v1::STEP_STATUS_RUNNING);
  ASSERT_TRUE(catalog_->UpdateStep(step).ok());
  v1::ListJobsRequest running;
  running.add_statuses(types::v1::JOB_STATUS_RUNNING);
  auto r = catalog_->ListJobs(running);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->jobs_size(), 1);
  EXPECT_EQ(r->jobs(0).id(), ids[1]);
}

TEST_F(CatalogTest, StepsDeriveStatusAndFinishClosesThem) {
  v1::Job job = NewJob();
  auto update = [&](const std::string& name, StepStatus s) {
    v1::UpdateStepRequest r;
    r.set_job_id(job.id());
    r.mutable_step()->set_name(name);
    r.mutable_step()->set_status(s);
    return catalog_->UpdateStep(r);
  };
  ASSERT_EQ(update("prepare", types::v1::STEP_STATUS_SUCCESS)->status(),
            types::v1::JOB_STATUS_RUNNING);
  ASSERT_EQ(update("execute", types::v1::STEP_STATUS_RUNNING)->status(),
            types::v1::JOB_STATUS_RUNNING);
  ASSERT_EQ(update("collect", types::v1::STEP_STATUS_QUEUED)->status(),
            types::v1::JOB_STATUS_RUNNING);
  v1::FinishJobRequest finish;
  finish.set_job_id(job.id());
  auto finished = catalog_->FinishJob(finish);
  ASSERT_TRUE(finished.ok());
  EXPECT_EQ(finished->status(), types::v1::JOB_STATUS_FAILURE);  // execute was cut off
  EXPECT_EQ(finished->steps(1).status(), types::v1::STEP_STATUS_FAILURE);
  EXPECT_EQ(finished->steps(2).status(), types::v1::STEP_STATUS_QUEUED) << "it never ran";
  EXPECT_TRUE(finished->has_finished_at());
  EXPECT_EQ(update("late", types::v1::STEP_STATUS_SUCCESS).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Finishing again changes nothing and enqueues nothing more.
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(catalog_->FinishJob(finish)->finished_at().seconds(),
            finished->finished_at().seconds());
  EXPECT_EQ(catalog_->GcQueueStats()->depth(), 1);
  EXPECT_EQ(update("", types::v1::STEP_STATUS_SUCCESS).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(update("x", types::v1::STEP_STATUS_UNSPECIFIED).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CatalogTest, FinishWithoutStepsUsesOutcome) {
  v1::Job job = NewJob();
  v1::FinishJobRequest finish;
  finish.set_job_id(job.id());
  finish.set_outcome(types::v1::JOB_STATUS_FAILURE);
  EXPECT_EQ(catalog_->FinishJob(finish)->status(), types::v1::JOB_STATUS_FAILURE);
  finish.set_outcome(types::v1::JOB_STATUS_RUNNING);
  EXPECT_EQ(catalog_->FinishJob(finish).status().code(), absl::StatusCode::kInvalidArgument);
}

// ----------------------------------------------------------------- files

TEST_F(CatalogTest, CommitIsAllOrNothingAndIdempotent) {
  v1::Job job = NewJob();
  auto first = Commit(job.id(), {File("test.txt", 'a'), File("sub/test.txt", 'a')});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->committed(), 2);
  auto retry = Commit(job.id(), {File("test.txt", 'a'), File("sub/test.txt", 'a')});
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->committed(), 0);
  EXPECT_EQ(retry->already_present(), 2);
  // One new file and one conflicting: nothing of it lands.
  auto conflict = Commit(job.id(), {File("new.txt", 'c'), File("test.txt", 'b')});
  EXPECT_EQ(conflict.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(catalog_->GetFile(job.id(), "new.txt").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(catalog_->GetBlobRef(std::string(64, 'c')).status().code(),
            absl::StatusCode::kNotFound);
  // Both paths share one blob.
  EXPECT_EQ(catalog_->GetBlobRef(std::string(64, 'a'))->refcount(), 2);
  // The group is filled in.
  EXPECT_EQ(catalog_->GetFile(job.id(), "sub/test.txt")->group(), "team-a");
}

TEST_F(CatalogTest, CommitOverADeletedFileTakesThePathAgain) {
  v1::Job job = NewJob();
  ASSERT_TRUE(Commit(job.id(), {File("z.txt", 'a'), File("b.txt", 'a')}).ok());
  v1::MarkFilesDeletedRequest del;
  del.set_job_id(job.id());
  del.add_paths("z.txt");
  ASSERT_TRUE(catalog_->MarkFilesDeleted(del).ok());
  // Listed out of path order: the deleted path is taken by new bytes, the
  // live one is already there.
  auto again = Commit(job.id(), {File("z.txt", 'b'), File("b.txt", 'a')});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->committed(), 1);
  EXPECT_EQ(again->already_present(), 1);
  auto z = catalog_->GetFile(job.id(), "z.txt");
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(z->state(), types::v1::FILE_STATE_AVAILABLE);
  EXPECT_EQ(z->sha256(), std::string(64, 'b'));
  EXPECT_EQ(catalog_->GetBlobRef(std::string(64, 'a'))->refcount(), 1);
  EXPECT_EQ(catalog_->GetBlobRef(std::string(64, 'b'))->refcount(), 1);
}

TEST_F(CatalogTest, CommitRejectsBadPaths) {
  v1::Job job = NewJob();
  std::string deep;
  for (int i = 0; i < 65; ++i) deep += "d/";
  deep += "f";
  const std::string bad[] = {"",  "/etc/passwd", "../x",   "a/../b", "a//b",
                             "./a", std::string("a\0b", 3), "\xff\xfe", std::string(1025, 'x'),
                             deep};
  for (const std::string& path : bad) {
    auto s = Commit(job.id(), {File(path)}).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << absl::CHexEscape(path);
  }
  auto sha = File("ok.txt");
  sha.set_sha256("ABC");
  EXPECT_EQ(Commit(job.id(), {sha}).status().code(), absl::StatusCode::kInvalidArgument);
  auto size = File("ok.txt");
  size.set_size(-1);
  EXPECT_EQ(Commit(job.id(), {size}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Commit(job.id(), {File("dup"), File("dup")}).status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::ListFilesRequest list;
  list.set_job_id(job.id());
  EXPECT_EQ(catalog_->ListFiles(list)->files_size(), 0);
}

TEST_F(CatalogTest, ListFilesSortedAndPaged) {
  v1::Job job = NewJob();
  ASSERT_TRUE(Commit(job.id(), {File("b"), File("a/z"), File("c"), File("a/b")}).ok());
  v1::ListFilesRequest r;
  r.set_job_id(job.id());
  r.set_page_size(3);
  auto p1 = catalog_->ListFiles(r);
  ASSERT_TRUE(p1.ok());
  ASSERT_EQ(p1->files_size(), 3);
  EXPECT_EQ(p1->files(0).path(), "a/b");
  EXPECT_EQ(p1->files(1).path(), "a/z");
  EXPECT_EQ(p1->files(2).path(), "b");
  r.set_page_token(p1->next_page_token());
  auto p2 = catalog_->ListFiles(r);
  ASSERT_TRUE(p2.ok());
  ASSERT_EQ(p2->files_size(), 1);
  EXPECT_EQ(p2->files(0).path(), "c");
  EXPECT_TRUE(p2->next_page_token().empty());
  v1::ListFilesRequest none;
  none.set_job_id("job-unknown");
  EXPECT_EQ(catalog_->ListFiles(none).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CatalogTest, LogsAreKeptUnderTheirOwnLongerRetention) {
  v1::CreateJobRequest create;
  create.mutable_job()->set_group("g");
  *create.mutable_job()->mutable_retention() = ToProtoDuration(absl::Hours(2));
  v1::Job job = catalog_->CreateJob(create)->job();
  ASSERT_TRUE(Commit(job.id(), {File("out.txt", 'a'), File(".arca/logs/job.log", 'b')}).ok());
  v1::FinishJobRequest finish;
  finish.set_job_id(job.id());
  ASSERT_TRUE(catalog_->FinishJob(finish).ok());
  const absl::Time finished = clock_.Now();
  EXPECT_EQ(FromProtoTime(catalog_->GetFile(job.id(), "out.txt")->expires_at()), finished + absl::Hours(2));
  EXPECT_EQ(FromProtoTime(catalog_->GetFile(job.id(), ".arca/logs/job.log")->expires_at()),
            finished + absl::Hours(24 * 30));
  // A log committed after the end, and a job kept longer than logs are.
  ASSERT_TRUE(Commit(job.id(), {File(".arca/logs/late.log", 'c')}).ok());
  EXPECT_EQ(FromProtoTime(catalog_->GetFile(job.id(), ".arca/logs/late.log")->expires_at()),
            finished + absl::Hours(24 * 30));
  *create.mutable_job()->mutable_retention() = ToProtoDuration(absl::Hours(24 * 90));
  v1::Job kept = catalog_->CreateJob(create)->job();
  ASSERT_TRUE(Commit(kept.id(), {File(".arca/logs/job.log", 'b')}).ok());
  finish.set_job_id(kept.id());
  ASSERT_TRUE(catalog_->FinishJob(finish).ok());
  EXPECT_EQ(FromProtoTime(catalog_->GetFile(kept.id(), ".arca/logs/job.log")->expires_at()),
            clock_.Now() + absl::Hours(24 * 90));
}

TEST_F(CatalogTest, ExpiryStartsWhenTheJobFinishes) {
  v1::CreateJobRequest create;
  create.mutable_job()->set_group("g");
  *create.mutable_job()->mutable_retention() = ToProtoDuration(absl::Hours(2));
  v1::Job job = catalog_->CreateJob(create)->job();
  ASSERT_TRUE(Commit(job.id(), {File("early.txt", 'a')}).ok());
  EXPECT_FALSE(catalog_->GetFile(job.id(), "early.txt")->has_expires_at());
  clock_.Advance(absl::Minutes(10));
  const absl::Time finished = clock_.Now();
  v1::FinishJobRequest finish;
  finish.set_job_id(job.id());
  ASSERT_TRUE(catalog_->FinishJob(finish).ok());
  ASSERT_TRUE(Commit(job.id(), {File("late.txt", 'b')}).ok());
  EXPECT_EQ(FromProtoTime(catalog_->GetFile(job.id(), "early.txt")->expires_at()),
            finished + absl::Hours(2));
  EXPECT_EQ(FromProtoTime(catalog_->GetFile(job.id(), "late.txt")->expires_at()),
            finished + absl::Hours(2));

  v1::ListExpiredFilesRequest expired;
  *expired.mutable_before() = ToProtoTime(finished + absl::Hours(2));
  EXPECT_EQ(catalog_->ListExpiredFiles(expired)->entries_size(), 0);  // strictly before
  *expired.mutable_before() = ToProtoTime(finished + absl::Hours(2) + absl::Microseconds(1));
  expired.set_page_size(1);
  auto p1 = catalog_->ListExpiredFiles(expired);
  ASSERT_TRUE(p1.ok());
  ASSERT_EQ(p1->entries_size(), 1);
  EXPECT_EQ(p1->entries(0).path(), "early.txt");
  EXPECT_EQ(p1->entries(0).file().sha256(), std::string(64, 'a'));
  expired.set_page_token(p1->next_page_token());
  auto p2 = catalog_->ListExpiredFiles(expired);
  ASSERT_TRUE(p2.ok());
  ASSERT_EQ(p2->entries_size(), 1);
  EXPECT_EQ(p2->entries(0).path(), "late.txt");
}

TEST_F(CatalogTest, BlobRefsInBulkAndForgettingOnDelete) {
  v1::Job job = NewJob();
  ASSERT_TRUE(Commit(job.id(), {File("x", 'a'), File("y", 'a'), File("z", 'b')}).ok());
  v1::GetBlobRefsRequest refs;
  refs.add_sha256s(std::string(64, 'a'));
  refs.add_sha256s(std::string(64, 'c'));  // unknown
  auto got = catalog_->GetBlobRefs(refs);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->blobs_size(), 2);
  EXPECT_EQ(got->blobs(0).refcount(), 2);
  EXPECT_EQ(got->blobs(1).refcount(), 0);
  EXPECT_EQ(got->blobs(1).sha256(), std::string(64, 'c'));
  refs.add_sha256s("bad");
  EXPECT_EQ(catalog_->GetBlobRefs(refs).status().code(), absl::StatusCode::kInvalidArgument);
  v1::MarkFilesDeletedRequest del;
  del.set_job_id(job.id());
  del.add_paths("z");
  del.set_forget_unreferenced_blobs(true);
  auto r = catalog_->MarkFilesDeleted(del);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->unreferenced_blobs_size(), 1);
  EXPECT_EQ(catalog_->GetBlobRef(std::string(64, 'b')).status().code(),
            absl::StatusCode::kNotFound);  // no record, nothing left to list
  v1::ListUnreferencedBlobsRequest list;
  *list.mutable_before() = ToProtoTime(clock_.Now() + absl::Hours(1));
  EXPECT_EQ(catalog_->ListUnreferencedBlobs(list)->blobs_size(), 0);
}

TEST_F(CatalogTest, MarkDeletedReleasesBlobsAndForgetNeedsGrace) {
  v1::Job a = NewJob();
  v1::Job b = NewJob();
  ASSERT_TRUE(Commit(a.id(), {File("x", 'a')}).ok());
  ASSERT_TRUE(Commit(b.id(), {File("y", 'a')}).ok());
  v1::MarkFilesDeletedRequest del;
  del.set_job_id(a.id());
  del.add_paths("x");
  del.add_paths("missing");
  auto r = catalog_->MarkFilesDeleted(del);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->deleted(), 1);
  EXPECT_EQ(r->already_deleted(), 1);
  EXPECT_EQ(r->unreferenced_blobs_size(), 0);  // b still holds it
  EXPECT_EQ(catalog_->GetFile(a.id(), "x")->state(), types::v1::FILE_STATE_DELETED);

  del.set_job_id(b.id());
  del.clear_paths();
  del.add_paths("y");
  r = catalog_->MarkFilesDeleted(del);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->unreferenced_blobs_size(), 1);
  const absl::Time unreferenced = clock_.Now();

  v1::ForgetBlobRequest forget;
  forget.set_sha256(std::string(64, 'a'));
  *forget.mutable_unreferenced_before() = ToProtoTime(unreferenced);
  EXPECT_EQ(catalog_->ForgetBlob(forget).code(), absl::StatusCode::kFailedPrecondition);

  v1::ListUnreferencedBlobsRequest list;
  *list.mutable_before() = ToProtoTime(unreferenced + absl::Seconds(1));
  ASSERT_EQ(catalog_->ListUnreferencedBlobs(list)->blobs_size(), 1);

  // A new reference in between rescues the blob.
  v1::Job c = NewJob();
  ASSERT_TRUE(Commit(c.id(), {File("z", 'a')}).ok());
  *forget.mutable_unreferenced_before() = ToProtoTime(unreferenced + absl::Hours(1));
  EXPECT_EQ(catalog_->ForgetBlob(forget).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(catalog_->ListUnreferencedBlobs(list)->blobs_size(), 0);

  del.set_job_id(c.id());
  del.clear_paths();
  del.add_paths("z");
  ASSERT_TRUE(catalog_->MarkFilesDeleted(del).ok());
  clock_.Advance(absl::Hours(2));
  *forget.mutable_unreferenced_before() = ToProtoTime(clock_.Now() - absl::Hours(1));
  EXPECT_TRUE(catalog_->ForgetBlob(forget).ok());
  EXPECT_EQ(catalog_->GetBlobRef(std::string(64, 'a')).status().code(),
            absl::StatusCode::kNotFound);
}

// ------------------------------------------------------------------ packs

TEST_F(CatalogTest, PackedBlobsKeepTheirLocationAndTheirPacksCountWhatIsLive) {
  const std::string pack = "pack-20261128000000-aaaaaaaaaaaa";
  auto in_pack = [&](v1::ArtifactFile f, int64_t offset, const std::string& p) {
    f.mutable_location()->set_pack(p);
    f.mutable_location()->set_offset(offset);
    return f;
  };
  v1::Job a = NewJob();
  v1::CommitFilesRequest commit;
  commit.set_job_id(a.id());
  *commit.add_files() = in_pack(File("x", 'a', 100), 8, pack);
  *commit.add_files() = in_pack(File("y", 'b', 300), 160, pack);
  *commit.add_files() = File("loose.bin", 'c', 1 << 20);
  v1::Pack* p = commit.add_new_packs();
  p->set_name(pack);
  p->set_size(1000);
  p->set_blobs(2);
  p->set_blob_bytes(400);
  ASSERT_TRUE(catalog_->CommitFiles(commit).ok());
  auto x = catalog_->GetFile(a.id(), "x");
  ASSERT_TRUE(x.ok());
  EXPECT_EQ(x->location().pack(), pack);
  EXPECT_EQ(x->location().offset(), 8);
  EXPECT_FALSE(catalog_->GetFile(a.id(), "loose.bin")->has_location());
  auto packs = catalog_->ListPacks({});
  ASSERT_EQ(packs->packs_size(), 1);
  EXPECT_EQ(packs->packs(0).live_blobs(), 2);
  EXPECT_EQ(packs->packs(0).live_bytes(), 400);

  // Another upload of the same bytes points at the same place: one record.
  v1::Job b = NewJob();
  ASSERT_TRUE(Commit(b.id(), {in_pack(File("x2", 'a', 100), 8, pack)}).ok());
  EXPECT_EQ(catalog_->GetBlobRef(std::string(64, 'a'))->refcount(), 2);
  // Bytes in an older pack whose record is gone cannot start one.
  auto gone = Commit(b.id(), {in_pack(File("z", 'd', 10), 8, pack)});
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kAborted) << gone.status();
  EXPECT_EQ(catalog_->GetFile(b.id(), "z").status().code(), absl::StatusCode::kNotFound);
  // Malformed places and packs.
  EXPECT_EQ(Commit(b.id(), {in_pack(File("w", 'e'), 0, "../x")}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Commit(b.id(), {in_pack(File("w", 'e'), -1, pack)}).status().code(),
            absl::StatusCode::kInvalidArgument);
  commit.set_job_id(b.id());
  // A new file that names a pack already recorded as new: refused, the
  // pack's record as it was.
  *commit.add_files() = in_pack(File("again", 'f', 10), 500, pack);
  EXPECT_EQ(catalog_->CommitFiles(commit).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(catalog_->ListPacks({})->packs(0).live_blobs(), 2);
  EXPECT_EQ(catalog_->GetFile(b.id(), "again").status().code(), absl::StatusCode::kNotFound);
  commit.mutable_new_packs(0)->set_size(0);
  EXPECT_EQ(catalog_->CommitFiles(commit).status().code(), absl::StatusCode::kInvalidArgument);

  // y released and forgotten: the pack counts it dead.
  v1::MarkFilesDeletedRequest del;
  del.set_job_id(a.id());
  del.add_paths("y");
  ASSERT_TRUE(catalog_->MarkFilesDeleted(del).ok());
  clock_.Advance(absl::Seconds(1));
  v1::ForgetBlobRequest forget;
  forget.set_sha256(std::string(64, 'b'));
  *forget.mutable_unreferenced_before() = ToProtoTime(clock_.Now());
  ASSERT_TRUE(catalog_->ForgetBlob(forget).ok());
  packs = catalog_->ListPacks({});
  EXPECT_EQ(packs->packs(0).live_blobs(), 1);
  EXPECT_EQ(packs->packs(0).live_bytes(), 100);
  EXPECT_EQ(packs->packs(0).blob_bytes(), 400);
}

TEST_F(CatalogTest, CompactionMovesLiveRecordsAtOnceAndRetiresThePackFile) {
  const std::string pack = "pack-20261128000000-from";
  const std::string to = "pack-20261128000001-to", again = "pack-20261128000002-again";
  v1::Job a = NewJob();
  v1::CommitFilesRequest commit;
  commit.set_job_id(a.id());
  for (char c : {'a', 'b', 'c'}) {
    v1::ArtifactFile f = File(std::string(1, c), c, 50);
    f.mutable_location()->set_pack(pack);
    f.mutable_location()->set_offset(8 + 102 * (c - 'a'));
    *commit.add_files() = f;
  }
  commit.add_new_packs()->set_name(pack);
  commit.mutable_new_packs(0)->set_size(500);
  commit.mutable_new_packs(0)->set_blobs(3);
  commit.mutable_new_packs(0)->set_blob_bytes(150);
  ASSERT_TRUE(catalog_->CommitFiles(commit).ok());
  auto forget = [&](char c) {
    v1::MarkFilesDeletedRequest del;
    del.set_job_id(a.id());
    del.add_paths(std::string(1, c));
    ASSERT_TRUE(catalog_->MarkFilesDeleted(del).ok());
    clock_.Advance(absl::Seconds(1));
    v1::ForgetBlobRequest f;
    f.set_sha256(std::string(64, c));
    *f.mutable_unreferenced_before() = ToProtoTime(clock_.Now());
    ASSERT_TRUE(catalog_->ForgetBlob(f).ok());
  };
  forget('b');

  // The live records, by the offsets their blob records hold.
  v1::ListPackedBlobsRequest list;
  list.set_pack(pack);
  auto live = catalog_->ListPackedBlobs(list);
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_EQ(live->file(), pack);
  EXPECT_EQ(Numbers(live->offsets()), (std::vector<uint64_t>{8, 212}));
  EXPECT_EQ(Numbers(live->file_offsets()), (std::vector<uint64_t>{8, 212}));
  list.set_page_size(1);
  live = catalog_->ListPackedBlobs(list);
  ASSERT_EQ(live->offsets_size(), 1);
  list.set_page_token(live->next_page_token());
  EXPECT_EQ(Numbers(catalog_->ListPackedBlobs(list)->offsets()), (std::vector<uint64_t>{212}));
  list.set_page_token("");
  list.set_page_size(0);
  v1::ListPackedBlobsRequest bad_list = list;
  bad_list.set_page_size(100001);
  EXPECT_EQ(catalog_->ListPackedBlobs(bad_list).status().code(), absl::StatusCode::kInvalidArgument);
  bad_list.set_page_size(0);
  bad_list.set_pack("../p");
  EXPECT_EQ(catalog_->ListPackedBlobs(bad_list).status().code(), absl::StatusCode::kInvalidArgument);
  bad_list.set_pack(pack);
  bad_list.set_page_token("not a token");
  EXPECT_EQ(catalog_->ListPackedBlobs(bad_list).status().code(), absl::StatusCode::kInvalidArgument);

  v1::MovePackedBlobsRequest move;
  move.set_pack(pack);
  move.set_from(pack);
  move.mutable_to()->set_name(to);
  move.mutable_to()->set_size(200);
  move.mutable_to()->set_blobs(1);
  move.mutable_to()->set_blob_bytes(50);
  move.add_offsets(8);
  move.add_to_offsets(8);
  // c is live and was not copied: nothing changes.
  EXPECT_EQ(catalog_->MovePackedBlobs(move).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(catalog_->GetFile(a.id(), "a")->location().pack(), pack);
  // Malformed moves change nothing either.
  v1::MovePackedBlobsRequest bad = move;
  bad.add_offsets(4);
  bad.add_to_offsets(4);
  EXPECT_EQ(catalog_->MovePackedBlobs(bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad = move;
  bad.add_offsets(212);
  EXPECT_EQ(catalog_->MovePackedBlobs(bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad = move;
  bad.mutable_to()->set_name(pack);
  EXPECT_EQ(catalog_->MovePackedBlobs(bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad = move;
  bad.set_pack("../p");
  EXPECT_EQ(catalog_->MovePackedBlobs(bad).status().code(), absl::StatusCode::kInvalidArgument);

  // c released meanwhile: the move goes through, and a, still recorded at
  // (pack, 8), is answered at its place in the new file.
  forget('c');
  move.mutable_to()->set_size(250);
  move.add_offsets(212);  // copied, though dead by now
  move.add_to_offsets(110);
  move.set_to_offsets(0, 60);
  auto moved = catalog_->MovePackedBlobs(move);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->moved(), 1);
  auto file = catalog_->GetFile(a.id(), "a");
  EXPECT_EQ(file->location().pack(), to);
  EXPECT_EQ(file->location().offset(), 60);
  auto ref = catalog_->GetBlobRef(std::string(64, 'a'));
  EXPECT_EQ(ref->location().pack(), to);
  EXPECT_EQ(ref->location().offset(), 60);
  v1::GetBlobRefsRequest refs;
  refs.add_sha256s(std::string(64, 'a'));
  EXPECT_EQ(catalog_->GetBlobRefs(refs)->blobs(0).location().offset(), 60);
  auto packs = catalog_->ListPacks({});
  ASSERT_EQ(packs->packs_size(), 1);
  EXPECT_EQ(packs->packs(0).name(), pack);
  EXPECT_EQ(packs->packs(0).file(), to);
  EXPECT_EQ(packs->packs(0).size(), 250);
  EXPECT_EQ(packs->packs(0).live_blobs(), 1);
  EXPECT_EQ(packs->packs(0).live_bytes(), 50);
  v1::ListPacksRequest retired;
  retired.set_retired(true);
  packs = catalog_->ListPacks(retired);
  ASSERT_EQ(packs->packs_size(), 1);
  EXPECT_EQ(packs->packs(0).name(), pack);
  EXPECT_TRUE(packs->packs(0).has_retired_at());
  // The same move again finds the pack in another file.
  EXPECT_EQ(catalog_->MovePackedBlobs(move).status().code(),
            absl::StatusCode::kFailedPrecondition);
  live = catalog_->ListPackedBlobs(list);
  EXPECT_EQ(live->file(), to);
  EXPECT_EQ(Numbers(live->offsets()), (std::vector<uint64_t>{8}));
  EXPECT_EQ(Numbers(live->file_offsets()), (std::vector<uint64_t>{60}));

  // Compacted again: the records still hold (pack, 8).
  move.set_from(to);
  move.mutable_to()->set_name(again);
  move.clear_offsets();
  move.clear_to_offsets();
  move.add_offsets(8);
  move.add_to_offsets(8);
  ASSERT_TRUE(catalog_->MovePackedBlobs(move).ok());
  EXPECT_EQ(catalog_->GetFile(a.id(), "a")->location().pack(), again);
  EXPECT_EQ(catalog_->GetFile(a.id(), "a")->location().offset(), 8);
  EXPECT_EQ(catalog_->ListPacks(retired)->packs_size(), 2);

  // Nothing live: the pack goes with its last file.
  forget('a');
  v1::MovePackedBlobsRequest last;
  last.set_pack(pack);
  last.set_from(again);
  ASSERT_TRUE(catalog_->MovePackedBlobs(last).ok());
  EXPECT_EQ(catalog_->ListPacks({})->packs_size(), 0);
  EXPECT_EQ(catalog_->ListPacks(retired)->packs_size(), 3);
  EXPECT_EQ(catalog_->ListPackedBlobs(list).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(catalog_->MovePackedBlobs(last).status().code(), absl::StatusCode::kNotFound);

  // A retired file's record goes only after the time asked.
  v1::ForgetPackRequest forget_pack;
  forget_pack.set_name(pack);
  *forget_pack.mutable_retired_before() = ToProtoTime(clock_.Now() - absl::Hours(1));
  EXPECT_EQ(catalog_->ForgetPack(forget_pack).code(), absl::StatusCode::kFailedPrecondition);
  *forget_pack.mutable_retired_before() = ToProtoTime(clock_.Now() + absl::Seconds(1));
  EXPECT_TRUE(catalog_->ForgetPack(forget_pack).ok());
  EXPECT_EQ(catalog_->ListPacks(retired)->packs_size(), 2);
  EXPECT_EQ(catalog_->ForgetPack(forget_pack).code(), absl::StatusCode::kNotFound);
  forget_pack.set_name("not a pack");
  EXPECT_EQ(catalog_->ForgetPack(forget_pack).code(), absl::StatusCode::kInvalidArgument);
}

// A large pack's map of new offsets spans several keys; every blob is
// found through it, one at a time or many at once, and a second compaction
// replaces it whole.
TEST_F(CatalogTest, ACompactedPacksMapFindsEveryLiveRecord) {
  const std::string pack = "pack-20261128000000-large";
  const int n = 3000;
  v1::Job job = NewJob();
  v1::CommitFilesRequest commit;
  commit.set_job_id(job.id());
  std::vector<std::string> shas;
  for (int i = 0; i < n; ++i) {
    shas.push_back(absl::StrCat(absl::Hex(i, absl::kZeroPad8), std::string(56, 'f')));
    v1::ArtifactFile* f = commit.add_files();
    f->set_path(absl::StrCat("f", i));
    f->set_size(10);
    f->set_sha256(shas.back());
    f->mutable_location()->set_pack(pack);
    f->mutable_location()->set_offset(8 + 100 * i);
  }
  commit.add_new_packs()->set_name(pack);
  commit.mutable_new_packs(0)->set_size(8 + 100 * n);
  ASSERT_TRUE(catalog_->CommitFiles(commit).ok());
  v1::GetBlobRefsRequest refs;
  for (const std::string& sha : shas) refs.add_sha256s(sha);

  int round = 0;
  std::string from = pack;
  for (auto moved_to : {std::function<int64_t(int)>([](int i) { return 8 + 50 * i; }),
                        std::function<int64_t(int)>([](int i) { return 16 + 50 * i; })}) {
    v1::MovePackedBlobsRequest move;
    move.set_pack(pack);
    move.set_from(from);
    move.mutable_to()->set_name(absl::StrCat("pack-20261128000001-round", ++round));
    move.mutable_to()->set_size(1 << 20);
    for (int i = 0; i < n; ++i) {
      move.add_offsets(8 + 100 * i);
      move.add_to_offsets(static_cast<uint64_t>(moved_to(i)));
    }
    auto moved = catalog_->MovePackedBlobs(move);
    ASSERT_TRUE(moved.ok()) << moved.status();
    EXPECT_EQ(moved->moved(), n);
    from = move.to().name();
    for (int i : {0, 1, 1023, 1024, 1025, 2047, 2048, n - 1}) {
      auto f = catalog_->GetFile(job.id(), absl::StrCat("f", i));
      ASSERT_TRUE(f.ok()) << f.status();
      EXPECT_EQ(f->location().pack(), from);
      EXPECT_EQ(f->location().offset(), moved_to(i)) << i;
    }
    auto all = catalog_->GetBlobRefs(refs);
    ASSERT_TRUE(all.ok()) << all.status();
    for (int i = 0; i < n; ++i) {
      ASSERT_EQ(all->blobs(i).location().offset(), moved_to(i)) << i;
    }
    // Asked for in another order, back and forth across the map's keys.
    v1::GetBlobRefsRequest shuffled;
    for (int i = 0; i < n; ++i) shuffled.add_sha256s(shas[(i * 1031) % n]);
    all = catalog_->GetBlobRefs(shuffled);
    ASSERT_TRUE(all.ok()) << all.status();
    for (int i = 0; i < n; ++i) {
      ASSERT_EQ(all->blobs(i).location().offset(), moved_to((i * 1031) % n)) << i;
    }
    v1::ListPackedBlobsRequest list;
    list.set_pack(pack);
    list.set_page_size(1000);
    int listed = 0;
    do {
      auto page = catalog_->ListPackedBlobs(list);
      ASSERT_TRUE(page.ok()) << page.status();
      EXPECT_EQ(page->file(), from);
      for (int k = 0; k < page->offsets_size(); ++k, ++listed) {
        ASSERT_EQ(page->offsets(k), static_cast<uint64_t>(8 + 100 * listed));
        ASSERT_EQ(page->file_offsets(k), static_cast<uint64_t>(moved_to(listed)));
      }
      list.set_page_token(page->next_page_token());
    } while (!list.page_token().empty());
    EXPECT_EQ(listed, n);
  }
}

// -------------------------------------------------------------- deletion

TEST_F(CatalogTest, DeleteWaitsForFinalizersUnlessForced) {
  v1::CreateJobRequest create;
  create.mutable_job()->set_group("g");
  create.mutable_job()->set_gc_strategy(types::v1::GC_STRATEGY_ON_JOB_DELETION);
  v1::Job job = catalog_->CreateJob(create)->job();
  ASSERT_TRUE(Commit(job.id(), {File("out.bin")}).ok());
  EXPECT_EQ(catalog_->GetJob(job.id())->finalizers(0), gc::kArtifactGcFinalizer);

  v1::DeleteJobRequest del;
  del.set_id(job.id());
  auto r = catalog_->DeleteJob(del);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->purged());
  EXPECT_EQ(r->pending_finalizers(0), gc::kArtifactGcFinalizer);
  EXPECT_TRUE(catalog_->GetJob(job.id())->has_deletion_requested_at());
  v1::ListGcTasksRequest tasks;
  tasks.set_job_id(job.id());
  ASSERT_EQ(catalog_->ListGcTasks(tasks)->tasks_size(), 1);
  EXPECT_EQ(catalog_->ListGcTasks(tasks)->tasks(0).event(), v1::GC_EVENT_JOB_DELETED);
  EXPECT_EQ(Commit(job.id(), {File("more")}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Asking again does not enqueue twice.
  ASSERT_TRUE(catalog_->DeleteJob(del).ok());
  EXPECT_EQ(catalog_->ListGcTasks(tasks)->tasks_size(), 1);

  v1::MarkFilesDeletedRequest gone;
  gone.set_job_id(job.id());
  gone.add_paths("out.bin");
  ASSERT_TRUE(catalog_->MarkFilesDeleted(gone).ok());
  v1::RemoveFinalizerRequest rm;
  rm.set_job_id(job.id());
  rm.set_finalizer(std::string(gc::kArtifactGcFinalizer));
  auto removed = catalog_->RemoveFinalizer(rm);
  ASSERT_TRUE(removed.ok());
  EXPECT_TRUE(removed->purged());
  EXPECT_EQ(catalog_->GetJob(job.id()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(catalog_->ListJobs(v1::ListJobsRequest())->jobs_size(), 0);
  EXPECT_EQ(catalog_->GetFile(job.id(), "out.bin").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CatalogTest, ForceDeletePurgesAndLeavesFilesToTtl) {
  v1::CreateJobRequest create;
  create.mutable_job()->set_group("g");
  create.mutable_job()->set_gc_strategy(types::v1::GC_STRATEGY_ON_JOB_COMPLETION);
  v1::Job job = catalog_->CreateJob(create)->job();
  ASSERT_TRUE(Commit(job.id(), {File("out.bin")}).ok());
  v1::DeleteJobRequest del;
  del.set_id(job.id());
  del.set_force(true);
  auto r = catalog_->DeleteJob(del);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->purged());
  EXPECT_EQ(catalog_->GetJob(job.id()).status().code(), absl::StatusCode::kNotFound);
  auto f = catalog_->GetFile(job.id(), "out.bin");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(FromProtoTime(f->expires_at()), clock_.Now() + absl::Hours(24 * 7));
  // TTL can still remove it; the record goes entirely since the job is gone.
  v1::MarkFilesDeletedRequest gone;
  gone.set_job_id(job.id());
  gone.add_paths("out.bin");
  ASSERT_EQ(catalog_->MarkFilesDeleted(gone)->deleted(), 1);
  EXPECT_EQ(catalog_->GetFile(job.id(), "out.bin").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CatalogTest, DeleteWithoutFinalizersPurgesAtOnce) {
  v1::Job job = NewJob();
  v1::DeleteJobRequest del;
  del.set_id(job.id());
  EXPECT_TRUE(catalog_->DeleteJob(del)->purged());
  EXPECT_EQ(catalog_->DeleteJob(del).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CatalogTest, ConditionsReplaceByType) {
  v1::Job job = NewJob();
  v1::SetConditionRequest r;
  r.set_job_id(job.id());
  r.mutable_condition()->set_type("ArtifactGCError");
  r.mutable_condition()->set_message("first");
  ASSERT_TRUE(catalog_->SetCondition(r).ok());
  r.mutable_condition()->set_message("second");
  auto updated = catalog_->SetCondition(r);
  ASSERT_EQ(updated->conditions_size(), 1);
  EXPECT_EQ(updated->conditions(0).message(), "second");
  r.set_remove(true);
  EXPECT_EQ(catalog_->SetCondition(r)->conditions_size(), 0);
}

// Jobs with a condition are listed from an index, newest first, and leave
// it when the condition is removed or the job purged.
TEST_F(CatalogTest, JobsAreListedByConditionFromAnIndex) {
  v1::Job older = NewJob("team-a");
  clock_.Advance(absl::Seconds(1));
  v1::Job plain = NewJob("team-a");
  clock_.Advance(absl::Seconds(1));
  v1::Job newer = NewJob("team-b");
  auto set = [&](const v1::Job& job, bool remove) {
    v1::SetConditionRequest r;
    r.set_job_id(job.id());
    r.mutable_condition()->set_type("ArtifactGCError");
    r.set_remove(remove);
    ASSERT_TRUE(catalog_->SetCondition(r).ok());
  };
  auto listed = [&](const std::string& group) {
    v1::ListJobsRequest list;
    list.set_condition("ArtifactGCError");
    list.set_group(group);
    auto page = catalog_->ListJobs(list);
    EXPECT_TRUE(page.ok()) << page.status();
    std::vector<std::string> ids;
    if (page.ok()) {
      for (const auto& j : page->jobs()) ids.push_back(j.id());
    }
    return ids;
  };
  set(older, false);
  set(newer, false);
  set(newer, false);  // set again: still one entry
  EXPECT_EQ(listed(""), (std::vector<std::string>{newer.id(), older.id()}));
  EXPECT_EQ(listed("team-b"), (std::vector<std::string>{newer.id()}));
  set(older, true);
  EXPECT_EQ(listed(""), (std::vector<std::string>{newer.id()}));
  v1::DeleteJobRequest del;
  del.set_id(newer.id());
  ASSERT_TRUE(catalog_->DeleteJob(del)->purged());
  EXPECT_TRUE(listed("").empty());
  v1::ListJobsRequest bad;
  bad.set_condition("no/slashes");
  EXPECT_EQ(catalog_->ListJobs(bad).status().code(), absl::StatusCode::kInvalidArgument);
}

// A database of schema version 1 has no index of conditions: opening it
// builds one from the jobs' records.
TEST_F(CatalogTest, OpeningASchemaOneDatabaseIndexesItsConditions) {
  v1::Job job = NewJob();
  v1::SetConditionRequest r;
  r.set_job_id(job.id());
  r.mutable_condition()->set_type("ArtifactGCError");
  ASSERT_TRUE(catalog_->SetCondition(r).ok());
  catalog_.reset();
  {
    rocksdb::DB* raw = nullptr;
    rocksdb::Options o;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir_ + "/db", &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    int dropped = 0;
    for (it->Seek("c/"); it->Valid() && it->key().starts_with("c/"); it->Next(), ++dropped) {
      ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), it->key()).ok());
    }
    ASSERT_EQ(dropped, 1);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "m/schema", "1").ok());
  }
  Reopen();
  v1::ListJobsRequest list;
  list.set_condition("ArtifactGCError");
  auto listed = catalog_->ListJobs(list);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->jobs_size(), 1);
  EXPECT_EQ(listed->jobs(0).id(), job.id());
}

// A database of schema version 2 has no index of live packed blobs and
// keeps retired pack files among the packs: opening it builds the one and
// moves the others.
TEST_F(CatalogTest, OpeningASchemaTwoDatabaseIndexesItsPackedBlobs) {
  const std::string pack = "pack-20261128000000-live", old = "pack-20261127000000-old";
  v1::Job job = NewJob();
  v1::CommitFilesRequest commit;
  commit.set_job_id(job.id());
  for (char c : {'a', 'b'}) {
    v1::ArtifactFile f = File(std::string(1, c), c, 50);
    f.mutable_location()->set_pack(pack);
    f.mutable_location()->set_offset(c == 'a' ? 8 : 110);
    *commit.add_files() = f;
  }
  commit.add_new_packs()->set_name(pack);
  commit.mutable_new_packs(0)->set_size(500);
  ASSERT_TRUE(catalog_->CommitFiles(commit).ok());
  catalog_.reset();
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir_ + "/db", &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    int dropped = 0;
    for (it->Seek("l/"); it->Valid() && it->key().starts_with("l/"); it->Next(), ++dropped) {
      ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), it->key()).ok());
    }
    ASSERT_EQ(dropped, 2);
    v1::Pack retired;
    retired.set_name(old);
    *retired.mutable_retired_at() = ToProtoTime(clock_.Now());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "p/" + old, retired.SerializeAsString()).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "m/schema", "2").ok());
  }
  Reopen();
  v1::ListPackedBlobsRequest list;
  list.set_pack(pack);
  auto live = catalog_->ListPackedBlobs(list);
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_EQ(Numbers(live->offsets()), (std::vector<uint64_t>{8, 110}));
  EXPECT_EQ(Numbers(live->file_offsets()), (std::vector<uint64_t>{8, 110}));
  auto packs = catalog_->ListPacks({});
  ASSERT_EQ(packs->packs_size(), 1);
  EXPECT_EQ(packs->packs(0).name(), pack);
  v1::ListPacksRequest retired;
  retired.set_retired(true);
  packs = catalog_->ListPacks(retired);
  ASSERT_EQ(packs->packs_size(), 1);
  EXPECT_EQ(packs->packs(0).name(), old);
  EXPECT_EQ(catalog_->GetFile(job.id(), "b")->location().offset(), 110);
}

// -------------------------------------------------------------- GC queue

TEST_F(CatalogTest, GcTasksAreLeasedCompletedAndRetried) {
  v1::Job job = NewJob();
  v1::EnqueueGcTaskRequest enqueue;
  enqueue.mutable_task()->set_job_id(job.id());
  enqueue.mutable_task()->set_event(v1::GC_EVENT_SWEEP);
  ASSERT_TRUE(catalog_->EnqueueGcTask(enqueue).ok());
  *enqueue.mutable_task()->mutable_due() = ToProtoTime(clock_.Now() + absl::Hours(1));
  ASSERT_TRUE(catalog_->EnqueueGcTask(enqueue).ok());

  v1::LeaseGcTasksRequest lease;
  lease.set_owner("w1");
  lease.set_max_tasks(10);
  *lease.mutable_lease() = ToProtoDuration(absl::Minutes(1));
  auto got = catalog_->LeaseGcTasks(lease);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->tasks_size(), 1);  // the other is not due
  const v1::GcTask task = got->tasks(0);
  EXPECT_EQ(task.attempts(), 1);
  lease.set_owner("w2");
  EXPECT_EQ(catalog_->LeaseGcTasks(lease)->tasks_size(), 0);  // held by w1

  clock_.Advance(absl::Minutes(2));  // w1's lease lapses
  auto stolen = catalog_->LeaseGcTasks(lease);
  ASSERT_EQ(stolen->tasks_size(), 1);
  EXPECT_EQ(stolen->tasks(0).attempts(), 2);
  v1::CompleteGcTaskRequest complete;
  complete.set_task_id(task.id());
  complete.set_lease_token(task.lease_token());
  EXPECT_EQ(catalog_->CompleteGcTask(complete).code(), absl::StatusCode::kFailedPrecondition);

  v1::RetryGcTaskRequest retry;
  retry.set_task_id(task.id());
  retry.set_lease_token(stolen->tasks(0).lease_token());
  retry.set_error("blob store down");
  *retry.mutable_next_due() = ToProtoTime(clock_.Now() + absl::Seconds(30));
  auto retried = catalog_->RetryGcTask(retry);
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(retried->last_error(), "blob store down");
  EXPECT_EQ(catalog_->LeaseGcTasks(lease)->tasks_size(), 0);
  clock_.Advance(absl::Seconds(31));
  auto third = catalog_->LeaseGcTasks(lease);
  ASSERT_EQ(third->tasks_size(), 1);
  complete.set_lease_token(third->tasks(0).lease_token());
  EXPECT_TRUE(catalog_->CompleteGcTask(complete).ok());
  EXPECT_EQ(catalog_->CompleteGcTask(complete).code(), absl::StatusCode::kNotFound);
  auto stats = catalog_->GcQueueStats();
  EXPECT_EQ(stats->depth(), 1);
  lease.set_max_tasks(0);
  EXPECT_EQ(catalog_->LeaseGcTasks(lease).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CatalogTest, ConcurrentLeasersNeverShareATask) {
  v1::Job job = NewJob();
  for (int i = 0; i < 200; ++i) {
    v1::EnqueueGcTaskRequest e;
    e.mutable_task()->set_job_id(job.id());
    e.mutable_task()->set_event(v1::GC_EVENT_SWEEP);
    ASSERT_TRUE(catalog_->EnqueueGcTask(e).ok());
  }
  std::mutex mu;
  std::multiset<std::string> seen;
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&, w] {
      v1::LeaseGcTasksRequest lease;
      lease.set_owner(absl::StrCat("w", w));
      lease.set_max_tasks(7);
      *lease.mutable_lease() = ToProtoDuration(absl::Minutes(5));
      for (;;) {
        auto got = catalog_->LeaseGcTasks(lease);
        ASSERT_TRUE(got.ok());
        if (got->tasks_size() == 0) return;
        for (const auto& t : got->tasks()) {
          v1::CompleteGcTaskRequest c;
          c.set_task_id(t.id());
          c.set_lease_token(t.lease_token());
          ASSERT_TRUE(catalog_->CompleteGcTask(c).ok());
          std::lock_guard<std::mutex> lock(mu);
          seen.insert(t.id());
        }
      }
    });
  }
  for (auto& t : workers) t.join();
  EXPECT_EQ(seen.size(), 200u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 200u);
  EXPECT_EQ(catalog_->GcQueueStats()->depth(), 0);
}

TEST_F(CatalogTest, CollectorReportsDatabaseAndQueueGauges) {
  Register("app", "1");
  v1::Job job = NewJob();
  v1::EnqueueGcTaskRequest e;
  e.mutable_task()->set_job_id(job.id());
  e.mutable_task()->set_event(v1::GC_EVENT_SWEEP);
  ASSERT_TRUE(catalog_->EnqueueGcTask(e).ok());
  clock_.Advance(absl::Seconds(90));
  std::map<std::string, double> v;
  for (const auto& f : CatalogCollector(catalog_.get(), &clock_).Collect()) {
    v[f.name] = f.type == prometheus::MetricType::Counter ? f.metric[0].counter.value
                                                          : f.metric[0].gauge.value;
  }
  EXPECT_EQ(v.size(), 12u);
  EXPECT_EQ(v.count("arca_catalog_rocksdb_write_stall_seconds_total"), 1u);
  EXPECT_EQ(v.count("arca_catalog_rocksdb_sst_bytes"), 1u);  // 0 until the first flush
  EXPECT_GT(v["arca_catalog_disk_free_bytes"], 0);  // as the last write saw it
  EXPECT_EQ(v["arca_catalog_writes_refused"], 0);
  EXPECT_EQ(v["arca_catalog_rocksdb_delayed_write_rate_bytes"], 0);
  EXPECT_EQ(v["arca_catalog_gc_queue_depth"], 1);
  EXPECT_EQ(v["arca_catalog_gc_queue_oldest_due_age_seconds"], 90);
  EXPECT_GT(v["arca_catalog_rocksdb_estimated_keys"], 0);
  EXPECT_GT(v["arca_catalog_rocksdb_memtable_bytes"], 0);
  EXPECT_EQ(v["arca_catalog_rocksdb_write_stopped"], 0);
}

// --------------------------------------------------------- durability

TEST_F(CatalogTest, EverythingSurvivesARestart) {
  v1::JobArtifact a = Register("app", "1");
  v1::Job job = NewJob();
  ASSERT_TRUE(Commit(job.id(), {File("f.txt")}).ok());
  Reopen();
  EXPECT_EQ(catalog_->GetJobArtifact(a.artifact_id())->name(), "app");
  EXPECT_EQ(catalog_->GetJob(job.id())->group(), "team-a");
  EXPECT_EQ(catalog_->GetFile(job.id(), "f.txt")->size(), 6);
  EXPECT_EQ(Names("", ""), std::vector<std::string>{"app"});
}

TEST_F(CatalogTest, ACheckpointTakenOnlineRestoresEverything) {
  v1::JobArtifact a = Register("app", "1");
  v1::Job job = NewJob();
  ASSERT_TRUE(Commit(job.id(), {File("f.txt")}).ok());
  auto checkpoint = catalog_->CreateCheckpoint("daily/backup");
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_EQ(checkpoint->dir(), dir_ + "/backups/daily/backup");
  EXPECT_GT(checkpoint->sequence(), 0u);
  Register("later", "1");  // not in the backup

  // Bad destinations change nothing; nothing is written outside the backup
  // directory, whatever path is asked for.
  EXPECT_TRUE(absl::IsAlreadyExists(catalog_->CreateCheckpoint("daily/backup").status()));
  EXPECT_TRUE(absl::IsAlreadyExists(
      catalog_->CreateCheckpoint(dir_ + "/backups/daily/backup").status()));
  for (const std::string& outside :
       {dir_ + "/elsewhere", std::string("/etc/cron.d/x"), std::string("../escape"),
        std::string("daily/../../escape"), dir_ + "/backups/../escape", std::string("")}) {
    auto s = catalog_->CreateCheckpoint(outside).status();
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << outside << " " << s;
    EXPECT_NE(s.message().find("beneath the backup directory"), std::string::npos) << s;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/elsewhere"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/escape"));
  // Without a backup directory there are no checkpoints.
  catalog_.reset();
  CatalogOptions no_backups;
  no_backups.data_dir = dir_ + "/db";
  auto plain = Catalog::Open(no_backups, &clock_);
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition((*plain)->CreateCheckpoint("x").status()));
  plain->reset();
  Reopen();

  // Restore: a catalog opened on the checkpoint.
  CatalogOptions options;
  options.data_dir = checkpoint->dir();
  auto restored = Catalog::Open(options, &clock_);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ((*restored)->GetJobArtifact(a.artifact_id())->name(), "app");
  EXPECT_EQ((*restored)->GetFile(job.id(), "f.txt")->size(), 6);
  v1::ListJobArtifactNamesRequest names;
  EXPECT_EQ((*restored)->ListJobArtifactNames(names)->names_size(), 1);
}

// The disk's free space comes from a stand-in here; tests/chaos fills a
// real one.
TEST_F(CatalogTest, AFullDiskRefusesWritesKeepsReadsAndWritesResumeByThemselves) {
  std::atomic<int64_t> free{int64_t{1} << 30};
  auto open = [&] {
    catalog_.reset();
    CatalogOptions options;
    options.data_dir = dir_ + "/db";
    options.min_free_bytes = 100 << 20;
    options.reserve_bytes = 1 << 20;
    options.free_bytes = [&]() -> absl::StatusOr<int64_t> { return free.load(); };
    auto opened = Catalog::Open(options, &clock_);
    ASSERT_TRUE(opened.ok()) << opened.status();
    catalog_ = *std::move(opened);
  };
  const std::string reserve = dir_ + "/db/ARCA-RESERVE";
  open();
  Register("app", "1");
  EXPECT_EQ(std::filesystem::file_size(reserve), 1u << 20);  // made while there was room

  free = 50 << 20;
  auto refused = catalog_->RegisterJobArtifact(Artifact("app", "2"));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(refused.status().message().find("disk is full"), std::string::npos) << refused.status();
  EXPECT_TRUE(catalog_->WritesRefused());
  EXPECT_EQ(catalog_->CreateJob(v1::CreateJobRequest()).status().code(),
            absl::StatusCode::kInvalidArgument);  // bad input is still bad input
  EXPECT_EQ(Names("", ""), std::vector<std::string>{"app"});  // reads go on

  // Restarted on the full disk: the reserve is given back to open.
  open();
  EXPECT_FALSE(std::filesystem::exists(reserve));
  EXPECT_EQ(Names("", ""), std::vector<std::string>{"app"});
  EXPECT_EQ(catalog_->RegisterJobArtifact(Artifact("app", "2")).status().code(),
            absl::StatusCode::kResourceExhausted);
  // Space is freed: writes go on by themselves, and the reserve comes back.
  free = int64_t{1} << 30;
  Register("app", "2");
  EXPECT_FALSE(catalog_->WritesRefused());
  EXPECT_TRUE(std::filesystem::exists(reserve));

  // Too full even to open for writing: reads only, and writes say so.
  free = 1 << 20;
  open();
  EXPECT_EQ(Names("", ""), std::vector<std::string>{"app"});
  auto read_only = catalog_->RegisterJobArtifact(Artifact("app", "3"));
  EXPECT_EQ(read_only.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(read_only.status().message().find("serves reads only"), std::string::npos);
}

TEST_F(CatalogTest, NewerSchemaIsRefused) {
  catalog_.reset();
  {
    rocksdb::DB* raw = nullptr;
    rocksdb::Options o;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir_ + "/db", &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "m/schema", "99").ok());
  }
  CatalogOptions options;
  options.data_dir = dir_ + "/db";
  auto opened = Catalog::Open(options, &clock_);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(opened.status().message().find("schema version 99"), std::string::npos);
}

TEST_F(CatalogTest, ASecondOpenOfTheSameDirectoryIsUnavailable) {
  CatalogOptions options;
  options.data_dir = dir_ + "/db";
  EXPECT_EQ(Catalog::Open(options, &clock_).status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace arca::catalog
