#include "common/gc/policy.h"

#include "common/time_util.h"
#include "gtest/gtest.h"

namespace arca::gc {
namespace {

namespace cat = ::arca::catalog::v1;
using types::v1::GcStrategy;

constexpr GcStrategy kCompletion = types::v1::GC_STRATEGY_ON_JOB_COMPLETION;
constexpr GcStrategy kSuccess = types::v1::GC_STRATEGY_ON_JOB_SUCCESS;
constexpr GcStrategy kFailure = types::v1::GC_STRATEGY_ON_JOB_FAILURE;
constexpr GcStrategy kDeletion = types::v1::GC_STRATEGY_ON_JOB_DELETION;
constexpr GcStrategy kNever = types::v1::GC_STRATEGY_NEVER;
constexpr GcStrategy kUnspecified = types::v1::GC_STRATEGY_UNSPECIFIED;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

cat::Job Job(GcStrategy s, bool finished, types::v1::JobStatus outcome, bool deleting) {
  cat::Job job;
  job.set_gc_strategy(s);
  job.set_status(outcome);
  if (finished) *job.mutable_finished_at() = ToProtoTime(kNow - absl::Hours(1));
  if (deleting) *job.mutable_deletion_requested_at() = ToProtoTime(kNow - absl::Minutes(1));
  return job;
}

TEST(PolicyTest, AFilesOwnStrategyWinsOverItsJobs) {
  cat::Job job = Job(kSuccess, false, types::v1::JOB_STATUS_RUNNING, false);
  cat::ArtifactFile f;
  EXPECT_EQ(Effective(job, f), kSuccess);
  f.set_gc_strategy(kNever);
  EXPECT_EQ(Effective(job, f), kNever);
}

TEST(PolicyTest, AJobsGcRulesSetTheStrategyOfFilesWithoutTheirOwn) {
  cat::Job job = Job(kNever, true, types::v1::JOB_STATUS_SUCCESS, false);
  auto* tmp = job.add_gc_rules();
  tmp->set_glob("*.tmp");
  tmp->set_strategy(kCompletion);
  auto* all = job.add_gc_rules();
  all->set_glob("out/*");
  all->set_strategy(kSuccess);
  cat::ArtifactFile f;
  f.set_path("out/deep/x.tmp");  // '*' crosses '/'; the first rule wins
  EXPECT_EQ(Effective(job, f), kCompletion);
  f.set_path("out/y.csv");
  EXPECT_EQ(Effective(job, f), kSuccess);
  f.set_path("z.csv");
  EXPECT_EQ(Effective(job, f), kNever) << "no rule: the job's";
  f.set_path("a.tmp");
  f.set_gc_strategy(kDeletion);
  EXPECT_EQ(Effective(job, f), kDeletion) << "its own wins";
}

TEST(PolicyTest, AJobsLogsOutliveItsOutputsUntilTheJobIsDeleted) {
  cat::ArtifactFile log;
  log.set_path(".arca/logs/job.log");
  for (GcStrategy s : {kCompletion, kSuccess, kFailure}) {
    EXPECT_EQ(Effective(Job(s, true, types::v1::JOB_STATUS_SUCCESS, false), log), kDeletion) << s;
  }
  for (GcStrategy s : {kDeletion, kNever, kUnspecified}) {
    EXPECT_EQ(Effective(Job(s, true, types::v1::JOB_STATUS_SUCCESS, false), log), s) << s;
  }
  EXPECT_FALSE(Judge(Job(kSuccess, true, types::v1::JOB_STATUS_SUCCESS, false), log, kNow).deletes);
  EXPECT_TRUE(Judge(Job(kSuccess, true, types::v1::JOB_STATUS_SUCCESS, true), log, kNow).deletes);
  log.set_gc_strategy(kSuccess);  // its own strategy still wins
  EXPECT_EQ(Effective(Job(kNever, true, types::v1::JOB_STATUS_SUCCESS, false), log), kSuccess);
}

TEST(PolicyTest, OnlyTheEventStrategiesNeedASweep) {
  for (GcStrategy s : {kCompletion, kSuccess, kFailure, kDeletion}) EXPECT_TRUE(NeedsGc(s)) << s;
  for (GcStrategy s : {kNever, kUnspecified}) EXPECT_FALSE(NeedsGc(s)) << s;
}

// Strategy x event x outcome, the whole table.
TEST(PolicyTest, WhichEventAndOutcomeFireEachStrategy) {
  const auto ok = types::v1::JOB_STATUS_SUCCESS;
  const auto failed = types::v1::JOB_STATUS_FAILURE;
  const auto finished = cat::GC_EVENT_JOB_FINISHED;
  const auto deleted = cat::GC_EVENT_JOB_DELETED;
  EXPECT_TRUE(Fires(kCompletion, finished, ok));
  EXPECT_TRUE(Fires(kCompletion, finished, failed));
  EXPECT_FALSE(Fires(kCompletion, deleted, ok));
  EXPECT_TRUE(Fires(kSuccess, finished, ok));
  EXPECT_FALSE(Fires(kSuccess, finished, failed));
  EXPECT_FALSE(Fires(kFailure, finished, ok));
  EXPECT_TRUE(Fires(kFailure, finished, failed));
  EXPECT_FALSE(Fires(kDeletion, finished, ok));
  EXPECT_TRUE(Fires(kDeletion, deleted, failed));
  for (auto event : {finished, deleted}) {
    EXPECT_FALSE(Fires(kNever, event, ok));
    EXPECT_FALSE(Fires(kUnspecified, event, failed));
  }
}

TEST(PolicyTest, DueAndPendingFollowTheJobsEventsSoFar) {
  const cat::Job running = Job(kCompletion, false, types::v1::JOB_STATUS_RUNNING, false);
  const cat::Job failed = Job(kCompletion, true, types::v1::JOB_STATUS_FAILURE, false);
  const cat::Job deleting = Job(kCompletion, true, types::v1::JOB_STATUS_SUCCESS, true);
  EXPECT_FALSE(Due(kSuccess, running));
  EXPECT_TRUE(Pending(kSuccess, running));
  EXPECT_FALSE(Due(kSuccess, failed));
  EXPECT_FALSE(Pending(kSuccess, failed));  // the outcome is known: never
  EXPECT_TRUE(Due(kFailure, failed));
  EXPECT_FALSE(Due(kDeletion, failed));
  EXPECT_TRUE(Pending(kDeletion, failed));
  EXPECT_TRUE(Due(kDeletion, deleting));
  EXPECT_FALSE(Pending(kDeletion, deleting));
  EXPECT_FALSE(Pending(kNever, running));
}

TEST(PolicyTest, AVerdictSaysWhyAFileGoesOrStays) {
  cat::ArtifactFile f;
  const cat::Job running = Job(kSuccess, false, types::v1::JOB_STATUS_RUNNING, false);
  const cat::Job succeeded = Job(kSuccess, true, types::v1::JOB_STATUS_SUCCESS, false);
  const cat::Job failed = Job(kSuccess, true, types::v1::JOB_STATUS_FAILURE, false);
  auto judge = [&](const cat::Job& job) {
    Verdict v = Judge(job, f, kNow);
    return std::make_pair(v.deletes, std::string(v.reason));
  };
  EXPECT_EQ(judge(running), std::make_pair(false, std::string("job_running")));
  EXPECT_EQ(judge(succeeded), std::make_pair(true, std::string("strategy")));
  EXPECT_EQ(judge(failed), std::make_pair(false, std::string("not_expired")));
  *f.mutable_expires_at() = ToProtoTime(kNow);  // expired at this instant
  EXPECT_EQ(judge(running), std::make_pair(true, std::string("expired")));
  *f.mutable_expires_at() = ToProtoTime(kNow + absl::Seconds(1));
  f.set_gc_strategy(kNever);
  EXPECT_EQ(judge(succeeded), std::make_pair(false, std::string("strategy_never; expires by TTL")));
  f.clear_expires_at();
  EXPECT_EQ(judge(succeeded), std::make_pair(false, std::string("strategy_never")));
}

// One vocabulary for the CLI, REST and GraphQL: Arca's names, the CLI's
// older snake case and Argo's, in any case; answers use Arca's.
TEST(StrategyNamesTest, OneNameAndTheOldSpellings) {
  for (const char* text : {"OnJobDeletion", "on_job_deletion", "ONJOBDELETION", "OnWorkflowDeletion"}) {
    auto s = ParseStrategy("gc_strategy", text);
    ASSERT_TRUE(s.ok()) << text << ": " << s.status();
    EXPECT_EQ(*s, types::v1::GC_STRATEGY_ON_JOB_DELETION) << text;
  }
  EXPECT_EQ(*ParseStrategy("x", "never"), types::v1::GC_STRATEGY_NEVER);
  EXPECT_EQ(StrategyName(types::v1::GC_STRATEGY_ON_JOB_COMPLETION), "OnJobCompletion");
  EXPECT_EQ(StrategyName(types::v1::GC_STRATEGY_UNSPECIFIED), "");
  for (const char* bad : {"", "Sometimes", "on_job"}) {
    auto s = ParseStrategy("--gc_strategy", bad);
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(s.status().message().rfind("--gc_strategy must be OnJobCompletion", 0), 0u) << s.status();
  }
}

}  // namespace
}  // namespace arca::gc
