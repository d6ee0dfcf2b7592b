#include "services/retention/retention_gc.h"
#include "services/retention/worker.h"

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/hash/sha256.h"
#include "common/testing/subprocess.h"
#include "common/time_util.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/catalog/catalog_testing.h"
#include "services/collector/collector.h"

namespace arca::retention {
namespace {

namespace cat = ::arca::catalog::v1;
using ::arca::types::v1::GcStrategy;

// A blob store whose deletions fail on cue.
class FlakyBlobStore : public blob::BlobStore {
 public:
  explicit FlakyBlobStore(blob::BlobStore* real) : real_(real) {}
  std::atomic<int> failures_left{0};
  std::atomic<int> delete_calls{0};

  absl::StatusOr<std::unique_ptr<blob::BlobWriter>> NewWriter() override { return real_->NewWriter(); }
  absl::Status Publish(const std::vector<blob::BlobWriter*>& sealed) override {
    return real_->Publish(sealed);
  }
  absl::StatusOr<std::unique_ptr<blob::BlobReader>> Open(absl::string_view sha, int64_t offset,
                                                   int64_t length) override {
    return real_->Open(sha, offset, length);
  }
  absl::StatusOr<std::unique_ptr<blob::BlobReader>> OpenAt(const blob::Location& where,
                                                           absl::string_view sha, int64_t offset,
                                                           int64_t length) override {
    return real_->OpenAt(where, sha, offset, length);
  }
  absl::StatusOr<std::unique_ptr<blob::PackWriter>> NewPackWriter() override {
    return real_->NewPackWriter();
  }
  absl::Status ListPacks(const std::function<void(const blob::PackInfo&)>& fn) override {
    return real_->ListPacks(fn);
  }
  absl::StatusOr<std::vector<blob::PackEntry>> ReadPackIndex(absl::string_view pack) override {
    return real_->ReadPackIndex(pack);
  }
  absl::Status ReadPack(absl::string_view pack,
                        const std::function<absl::Status(const blob::PackEntry&,
                                                         absl::string_view)>& fn) override {
    return real_->ReadPack(pack, fn);
  }
  absl::StatusOr<std::unique_ptr<blob::PackWriter>> CopyPackRecords(
      absl::string_view pack, const std::vector<int64_t>& offsets) override {
    return real_->CopyPackRecords(pack, offsets);
  }
  absl::Status DeletePack(absl::string_view pack) override { return real_->DeletePack(pack); }
  absl::StatusOr<blob::BlobInfo> Stat(absl::string_view sha) override { return real_->Stat(sha); }
  absl::Status Delete(absl::string_view sha) override { return real_->Delete(sha); }
  absl::StatusOr<bool> DeleteIfIdle(absl::string_view sha, absl::Time before) override {
    ++delete_calls;
    if (failures_left > 0) {
      --failures_left;
      return absl::UnavailableError("blob store unreachable (injected)");
    }
    return real_->DeleteIfIdle(sha, before);
  }
  absl::StatusOr<Space> FreeSpace() override { return real_->FreeSpace(); }
  absl::Status List(const std::function<void(const blob::BlobInfo&)>& fn) override {
    return real_->List(fn);
  }

 private:
  blob::BlobStore* real_;
};

class VectorSource : public collector::UploadSource {
 public:
  explicit VectorSource(std::vector<collector::v1::UploadRequest> m) : m_(std::move(m)) {}
  bool Next(collector::v1::UploadRequest* out) override {
    if (i_ >= m_.size()) return false;
    *out = m_[i_++];
    return true;
  }

 private:
  std::vector<collector::v1::UploadRequest> m_;
  size_t i_ = 0;
};

double Count(prometheus::Registry& registry, const std::string& name, const std::string& label) {
  double total = 0;
  for (const auto& f : registry.Collect()) {
    if (f.name != name) continue;
    for (const auto& m : f.metric) {
      if (label.empty() || (!m.label.empty() && m.label[0].value == label)) {
        total += m.counter.value;
      }
    }
  }
  return total;
}

class RetentionTest : public ::testing::Test {
 protected:
  RetentionTest() : clock_(absl::Now()), test_catalog_(&clock_) {}

  void SetUp() override {
    real_blobs_ = *blob::OpenLocalBlobStore(test_catalog_.dir() + "/blobs");
    blobs_ = std::make_unique<FlakyBlobStore>(real_blobs_.get());
    collector_metrics_ = std::make_unique<collector::CollectorMetrics>(*collector_registry_);
    // Every file in a blob file of its own, whose deletion these tests see.
    collector::CollectorOptions collector_options;
    collector_options.pack_threshold = 0;
    collector_ = std::make_unique<collector::Collector>(collector_options, blobs_.get(),
                                                        &test_catalog_.client(), &clock_,
                                                        collector_metrics_.get());
    metrics_ = std::make_unique<RetentionMetrics>(*registry_);
    options_.max_attempts = 4;
    Rebuild();
  }
  void Rebuild() {
    gc_ = std::make_unique<RetentionGc>(options_, &test_catalog_.client(), blobs_.get(), &clock_,
                                        metrics_.get());
  }

  std::string NewJob(GcStrategy strategy, absl::Duration retention = absl::Hours(24 * 7)) {
    cat::CreateJobRequest r;
    r.mutable_job()->set_group("g");
    r.mutable_job()->set_gc_strategy(strategy);
    *r.mutable_job()->mutable_retention() = ToProtoDuration(retention);
    return catalog().CreateJob(r)->job().id();
  }
  // Uploads files through the real collector core.
  void Collect(const std::string& job, const std::map<std::string, std::string>& files,
               GcStrategy override_strategy = types::v1::GC_STRATEGY_UNSPECIFIED) {
    std::vector<collector::v1::UploadRequest> m(1);
    m[0].mutable_manifest()->set_job_id(job);
    for (const auto& [path, content] : files) {
      m.emplace_back();
      m.back().mutable_file()->set_path(path);
      m.back().mutable_file()->set_size(content.size());
      m.back().mutable_file()->set_gc_strategy(override_strategy);
      m.emplace_back();
      m.back().set_chunk(content);
    }
    m.emplace_back();
    m.back().mutable_end();
    VectorSource source(m);
    auto r = collector_->Upload(source);
    ASSERT_TRUE(r.ok()) << r.status();
  }
  void Finish(const std::string& job, types::v1::JobStatus outcome) {
    cat::FinishJobRequest r;
    r.set_job_id(job);
    r.set_outcome(outcome);
    ASSERT_TRUE(catalog().FinishJob(r).ok());
  }
  bool Available(const std::string& job, const std::string& path) {
    auto f = catalog().GetFile(job, path);
    return f.ok() && f->state() == types::v1::FILE_STATE_AVAILABLE;
  }
  bool BytesExist(const std::string& content) {
    return real_blobs_->Stat(hash::Sha256::Of(content)).ok();
  }
  // Runs the queue until nothing is due.
  void Drain() {
    for (int i = 0; i < 100; ++i) {
      auto n = gc_->ProcessDueTasks();
      ASSERT_TRUE(n.ok()) << n.status();
      if (*n == 0) return;
    }
    FAIL() << "the GC queue did not drain";
  }
  catalog::Catalog& catalog() { return test_catalog_.catalog(); }
  int64_t QueueDepth() { return catalog().GcQueueStats()->depth(); }

  FakeClock clock_;
  catalog::TestCatalog test_catalog_;
  std::unique_ptr<blob::BlobStore> real_blobs_;
  std::unique_ptr<FlakyBlobStore> blobs_;
  std::shared_ptr<prometheus::Registry> collector_registry_ =
      std::make_shared<prometheus::Registry>();
  std::unique_ptr<collector::CollectorMetrics> collector_metrics_;
  std::unique_ptr<collector::Collector> collector_;
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  std::unique_ptr<RetentionMetrics> metrics_;
  RetentionOptions options_;
  std::unique_ptr<RetentionGc> gc_;
};

TEST_F(RetentionTest, StrategyByOutcomeTable) {
  struct Row {
    GcStrategy strategy;
    types::v1::JobStatus outcome;
    bool deleted;
  } table[] = {
      {types::v1::GC_STRATEGY_ON_JOB_COMPLETION, types::v1::JOB_STATUS_SUCCESS, true},
      {types::v1::GC_STRATEGY_ON_JOB_COMPLETION, types::v1::JOB_STATUS_FAILURE, true},
      {types::v1::GC_STRATEGY_ON_JOB_SUCCESS, types::v1::JOB_STATUS_SUCCESS, true},
      {types::v1::GC_STRATEGY_ON_JOB_SUCCESS, types::v1::JOB_STATUS_FAILURE, false},
      {types::v1::GC_STRATEGY_ON_JOB_FAILURE, types::v1::JOB_STATUS_SUCCESS, false},
      {types::v1::GC_STRATEGY_ON_JOB_FAILURE, types::v1::JOB_STATUS_FAILURE, true},
      {types::v1::GC_STRATEGY_ON_JOB_DELETION, types::v1::JOB_STATUS_SUCCESS, false},
      {types::v1::GC_STRATEGY_NEVER, types::v1::JOB_STATUS_SUCCESS, false},
      {types::v1::GC_STRATEGY_UNSPECIFIED, types::v1::JOB_STATUS_FAILURE, false},
  };
  int i = 0;
  for (const Row& row : table) {
    const std::string content = "content " + std::to_string(i++);
    std::string job = NewJob(row.strategy);
    Collect(job, {{"out.bin", content}});
    Finish(job, row.outcome);
    clock_.Advance(options_.grace + absl::Minutes(1));  // the bytes are idle
    Drain();
    EXPECT_EQ(!Available(job, "out.bin"), row.deleted)
        << types::v1::GcStrategy_Name(row.strategy) << " / "
        << types::v1::JobStatus_Name(row.outcome);
    EXPECT_EQ(!BytesExist(content), row.deleted) << types::v1::GcStrategy_Name(row.strategy);
    // A strategy that can no longer fire does not hold the job.
    const bool held = row.strategy == types::v1::GC_STRATEGY_ON_JOB_DELETION;
    EXPECT_EQ(catalog().GetJob(job)->finalizers_size() > 0, held)
        << types::v1::GcStrategy_Name(row.strategy);
  }
  EXPECT_EQ(QueueDepth(), 0);
}

TEST_F(RetentionTest, OnJobDeletionWaitsForDeleteThenPurges) {
  std::string job = NewJob(types::v1::GC_STRATEGY_ON_JOB_DELETION);
  Collect(job, {{"model.bin", "weights"}});
  Finish(job, types::v1::JOB_STATUS_SUCCESS);
  Drain();
  EXPECT_TRUE(Available(job, "model.bin"));
  cat::DeleteJobRequest del;
  del.set_id(job);
  auto pending = catalog().DeleteJob(del);
  ASSERT_TRUE(pending.ok());
  EXPECT_FALSE(pending->purged());
  EXPECT_EQ(gc_->GcStatus([&] {
                 v1::GcStatusRequest r;
                 r.set_job_id(job);
                 return r;
               }())
                ->pending_tasks(),
            1);
  clock_.Advance(options_.grace + absl::Minutes(1));
  Drain();
  EXPECT_EQ(catalog().GetJob(job).status().code(), absl::StatusCode::kNotFound);  // purged
  EXPECT_FALSE(BytesExist("weights"));
}

TEST_F(RetentionTest, PerFileOverrideBeatsTheJobDefault) {
  std::string job = NewJob(types::v1::GC_STRATEGY_ON_JOB_COMPLETION);
  Collect(job, {{"scratch.tmp", "scratch"}});
  Collect(job, {{"keep.txt", "keep"}}, types::v1::GC_STRATEGY_NEVER);
  Finish(job, types::v1::JOB_STATUS_SUCCESS);
  clock_.Advance(options_.grace + absl::Minutes(1));
  Drain();
  EXPECT_FALSE(Available(job, "scratch.tmp"));
  EXPECT_TRUE(Available(job, "keep.txt"));
}

TEST_F(RetentionTest, TtlBoundariesAndNeverStillExpires) {
  std::string job = NewJob(types::v1::GC_STRATEGY_NEVER, absl::Hours(2));
  Collect(job, {{"a.txt", "ttl bytes"}});
  Finish(job, types::v1::JOB_STATUS_SUCCESS);
  clock_.Advance(absl::Hours(2) - absl::Microseconds(1));
  auto early = gc_->RunCleanup();
  ASSERT_TRUE(early.ok()) << early.status();
  EXPECT_EQ(early->removed_size(), 0);
  EXPECT_TRUE(Available(job, "a.txt"));
  clock_.Advance(absl::Microseconds(1));  // exactly at expiry
  auto due = gc_->RunCleanup();
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->removed_size(), 1);
  EXPECT_EQ(due->removed(0).reason(), "ttl");
  EXPECT_EQ(due->bytes_removed(), 9);
  EXPECT_FALSE(Available(job, "a.txt"));
  EXPECT_FALSE(BytesExist("ttl bytes"));
  EXPECT_EQ(Count(*registry_, "arca_retention_gc_files_deleted_total", "ttl"), 1);
}

// The loop of a retention-gc process, turned by hand on a fake clock: the
// GC queue on every turn, a whole sweep only once its interval has passed.
TEST_F(RetentionTest, TheWorkerDrainsTheQueueEveryTurnAndSweepsOncePerInterval) {
  WorkerOptions options;
  options.sweep_interval = absl::Hours(24);
  Worker worker(gc_.get(), &clock_, options);
  const std::string ttl_job = NewJob(types::v1::GC_STRATEGY_NEVER, absl::Hours(1));
  Collect(ttl_job, {{"old.txt", "expiring bytes"}});
  Finish(ttl_job, types::v1::JOB_STATUS_SUCCESS);
  const std::string done_job = NewJob(types::v1::GC_STRATEGY_ON_JOB_COMPLETION);
  Collect(done_job, {{"out.txt", "strategy bytes"}});
  worker.Turn();  // the first also finishes what a killed worker left: nothing here
  EXPECT_TRUE(Available(ttl_job, "old.txt"));
  Finish(done_job, types::v1::JOB_STATUS_FAILURE);

  clock_.Advance(absl::Hours(2));  // the TTL has passed, the sweep is not due
  worker.Turn();
  EXPECT_FALSE(Available(done_job, "out.txt"));  // the queue: at once
  EXPECT_EQ(QueueDepth(), 0);
  EXPECT_TRUE(Available(ttl_job, "old.txt"));  // waits for the sweep
  clock_.Advance(absl::Hours(22) - absl::Seconds(1));
  worker.Turn();
  EXPECT_TRUE(Available(ttl_job, "old.txt"));
  clock_.Advance(absl::Seconds(1));
  worker.Turn();
  EXPECT_FALSE(Available(ttl_job, "old.txt"));
  EXPECT_FALSE(BytesExist("expiring bytes"));

  // The next sweep is an interval after this one.
  const std::string later = NewJob(types::v1::GC_STRATEGY_NEVER, absl::Hours(1));
  Collect(later, {{"new.txt", "later bytes"}});
  Finish(later, types::v1::JOB_STATUS_SUCCESS);
  clock_.Advance(absl::Hours(23));
  worker.Turn();
  EXPECT_TRUE(Available(later, "new.txt"));
  clock_.Advance(absl::Hours(1));
  worker.Turn();
  EXPECT_FALSE(Available(later, "new.txt"));
}

TEST_F(RetentionTest, RetriesWithBackoffThenSucceeds) {
  std::string job = NewJob(types::v1::GC_STRATEGY_ON_JOB_COMPLETION);
  Collect(job, {{"x.bin", "flaky"}});
  Finish(job, types::v1::JOB_STATUS_SUCCESS);
  clock_.Advance(options_.grace + absl::Minutes(1));
  blobs_->failures_left = 2;
  ASSERT_EQ(*gc_->ProcessDueTasks(), 1);  // attempt 1 fails
  EXPECT_FALSE(Available(job, "x.bin"));  // marked first: no longer served
  EXPECT_TRUE(BytesExist("flaky"));       // and its bytes still to go
  EXPECT_EQ(*gc_->ProcessDueTasks(), 0);  // backing off: not due yet
  clock_.Advance(absl::Seconds(1));       // base delay
  ASSERT_EQ(*gc_->ProcessDueTasks(), 1);  // attempt 2 fails
  clock_.Advance(absl::Milliseconds(1999));
  EXPECT_EQ(*gc_->ProcessDueTasks(), 0);  // x2: two seconds this time
  clock_.Advance(absl::Milliseconds(1));
  ASSERT_EQ(*gc_->ProcessDueTasks(), 1);  // attempt 3 succeeds
  EXPECT_FALSE(Available(job, "x.bin"));
  EXPECT_FALSE(BytesExist("flaky"));
  EXPECT_EQ(Count(*registry_, "arca_retention_gc_tasks_total", "retried"), 2);
  EXPECT_EQ(Count(*registry_, "arca_retention_gc_tasks_total", "done"), 1);
  EXPECT_EQ(QueueDepth(), 0);
}

TEST_F(RetentionTest, GivesUpWithAConditionThenKeepsRetryingUntilItClears) {
  std::string job = NewJob(types::v1::GC_STRATEGY_ON_JOB_COMPLETION);
  std::string other = NewJob(types::v1::GC_STRATEGY_NEVER);
  Collect(job, {{"x.bin", "stuck"}});
  Collect(other, {{"y.bin", "bystander"}});
  Finish(job, types::v1::JOB_STATUS_SUCCESS);
  clock_.Advance(options_.grace + absl::Minutes(1));
  blobs_->failures_left = 1000;
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    ASSERT_EQ(*gc_->ProcessDueTasks(), 1) << attempt;
    clock_.Advance(options_.backoff_cap);
  }
  auto stuck = catalog().GetJob(job);
  ASSERT_EQ(stuck->conditions_size(), 1);
  EXPECT_EQ(stuck->conditions(0).type(), "ArtifactGCError");
  EXPECT_NE(stuck->conditions(0).message().find("injected"), std::string::npos);
  EXPECT_EQ(stuck->finalizers_size(), 1);   // deletion still waits for GC
  EXPECT_TRUE(BytesExist("stuck"));         // the bytes it could not delete
  EXPECT_TRUE(Available(other, "y.bin"));   // nothing else touched
  EXPECT_TRUE(BytesExist("bystander"));
  EXPECT_EQ(Count(*registry_, "arca_retention_gc_tasks_total", "failed"), 1);
  // The task stays queued, its delays doubling past backoff_cap up to
  // error_retry_cap.
  auto delay = [&] {
    cat::ListGcTasksRequest r;
    r.set_job_id(job);
    auto tasks = catalog().ListGcTasks(r);
    return FromProtoTime(tasks->tasks(0).due()) - clock_.Now();
  };
  std::vector<int64_t> delays;
  for (int attempt = options_.max_attempts + 1; attempt <= 16; ++attempt) {
    clock_.Advance(std::max(absl::ZeroDuration(), delay()));
    ASSERT_EQ(*gc_->ProcessDueTasks(), 1) << attempt;
    delays.push_back(absl::ToInt64Seconds(delay()));
  }
  EXPECT_EQ(delays, (std::vector<int64_t>{16, 32, 64, 128, 256, 512, 1024, 2048, 3600, 3600,
                                          3600, 3600}));
  EXPECT_EQ(Count(*registry_, "arca_retention_gc_tasks_total", "failed"), 1);
  EXPECT_EQ(QueueDepth(), 1);

  blobs_->failures_left = 0;  // the store is back
  clock_.Advance(options_.error_retry_cap);
  ASSERT_EQ(*gc_->ProcessDueTasks(), 1);
  EXPECT_FALSE(BytesExist("stuck"));
  auto cleared = catalog().GetJob(job);
  EXPECT_EQ(cleared->conditions_size(), 0);
  EXPECT_EQ(cleared->finalizers_size(), 0);
  EXPECT_EQ(QueueDepth(), 0);
  EXPECT_TRUE(BytesExist("bystander"));
}

// Argo's forceFinalizerRemoval: a deleted job whose GC keeps failing goes
// once the retries are spent; what could not be deleted stays until TTL.
TEST_F(RetentionTest, ForceFinalizerRemovalLetsADeletedJobGoWhenGcGivesUp) {
  cat::CreateJobRequest r;
  r.mutable_job()->set_group("g");
  r.mutable_job()->set_gc_strategy(types::v1::GC_STRATEGY_ON_JOB_DELETION);
  r.mutable_job()->set_force_finalizer_removal(true);
  const std::string job = catalog().CreateJob(r)->job().id();
  const std::string held = NewJob(types::v1::GC_STRATEGY_ON_JOB_DELETION);  // without it
  Collect(job, {{"x.bin", "forced"}});
  Collect(held, {{"y.bin", "held"}});
  for (const std::string& j : {job, held}) {
    Finish(j, types::v1::JOB_STATUS_SUCCESS);
    cat::DeleteJobRequest del;
    del.set_id(j);
    ASSERT_FALSE(catalog().DeleteJob(del)->purged()) << "waits for its GC finalizer";
  }
  clock_.Advance(options_.grace + absl::Minutes(1));
  blobs_->failures_left = 1000;
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    ASSERT_GE(*gc_->ProcessDueTasks(), 1) << attempt;
    clock_.Advance(options_.backoff_cap);
  }
  EXPECT_TRUE(absl::IsNotFound(catalog().GetJob(job).status())) << "purged without its finalizer";
  EXPECT_TRUE(BytesExist("forced"));
  auto still = catalog().GetJob(held);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->finalizers_size(), 1) << "a job that did not ask keeps waiting";
}

// A sweep puts every file it removes in its answer (cleanupPhJobArtifact
// returns how many), strategy deletions of failed jobs included.
TEST_F(RetentionTest, ASweepCountsEveryFileItRemoves) {
  std::string expiring = NewJob(types::v1::GC_STRATEGY_UNSPECIFIED, absl::Hours(1));
  Collect(expiring, {{"a.txt", "a"}, {"b.txt", "b"}});
  Finish(expiring, types::v1::JOB_STATUS_SUCCESS);
  std::string failing = NewJob(types::v1::GC_STRATEGY_ON_JOB_COMPLETION);
  Collect(failing, {{"c.txt", "c"}});
  Finish(failing, types::v1::JOB_STATUS_FAILURE);
  cat::SetConditionRequest condition;
  condition.set_job_id(failing);
  condition.mutable_condition()->set_type("ArtifactGCError");
  ASSERT_TRUE(catalog().SetCondition(condition).ok());
  clock_.Advance(absl::Hours(2));
  auto swept = gc_->RunCleanup();
  ASSERT_TRUE(swept.ok()) << swept.status();
  std::set<std::string> paths;
  for (const auto& r : swept->removed()) paths.insert(r.path());
  EXPECT_EQ(paths, (std::set<std::string>{"a.txt", "b.txt", "c.txt"}));
  EXPECT_EQ(swept->bytes_removed(), 3);
}

TEST_F(RetentionTest, SharedBytesSurviveUntilTheLastReferenceGoes) {
  std::string a = NewJob(types::v1::GC_STRATEGY_ON_JOB_COMPLETION);
  std::string b = NewJob(types::v1::GC_STRATEGY_NEVER);
  Collect(a, {{"same.bin", "shared bytes"}});
  Collect(b, {{"same.bin", "shared bytes"}});
  Finish(a, types::v1::JOB_STATUS_SUCCESS);
  clock_.Advance(options_.grace + absl::Minutes(1));
  Drain();
  EXPECT_FALSE(Available(a, "same.bin"));
  EXPECT_TRUE(Available(b, "same.bin"));
  EXPECT_TRUE(BytesExist("shared bytes"));  // pinned by b
}

TEST_F(RetentionTest, CollectOfTheSameBytesDuringGcNeverLosesThem) {
  std::string a = NewJob(types::v1::GC_STRATEGY_ON_JOB_COMPLETION);
  Collect(a, {{"x.bin", "racing bytes"}});
  Finish(a, types::v1::JOB_STATUS_SUCCESS);
  // Another job is collecting the same bytes right now: they were written
  // within the grace period, so GC of a's last reference spares them.
  std::string b = NewJob(types::v1::GC_STRATEGY_NEVER);
  Collect(b, {{"copy.bin", "racing bytes"}});
  Drain();
  EXPECT_FALSE(Available(a, "x.bin"));
  EXPECT_TRUE(BytesExist("racing bytes"));
  // Even when a's file goes first and b commits afterwards.
  std::string c = NewJob(types::v1::GC_STRATEGY_ON_JOB_COMPLETION);
  Collect(c, {{"y.bin", "second race"}});
  Finish(c, types::v1::JOB_STATUS_SUCCESS);
  Drain();  // within grace: bytes spared, record forgotten
  std::string d = NewJob(types::v1::GC_STRATEGY_NEVER);
  Collect(d, {{"y.bin", "second race"}});
  clock_.Advance(options_.grace * 2);
  ASSERT_TRUE(gc_->RunCleanup().ok());  // d's reference keeps them
  EXPECT_TRUE(BytesExist("second race"));
  EXPECT_TRUE(Available(d, "y.bin"));
}

TEST_F(RetentionTest, TwoWorkersDoEveryTaskExactlyOnce) {
  std::vector<std::string> jobs;
  for (int i = 0; i < 20; ++i) {
    jobs.push_back(NewJob(types::v1::GC_STRATEGY_ON_JOB_COMPLETION));
    Collect(jobs.back(), {{"f.bin", "bytes of job " + std::to_string(i)}});
    Finish(jobs.back(), types::v1::JOB_STATUS_SUCCESS);
  }
  clock_.Advance(options_.grace + absl::Minutes(1));
  auto registry2 = std::make_shared<prometheus::Registry>();
  RetentionMetrics metrics2(*registry2);
  RetentionOptions options2 = options_;
  options2.worker_id = "second";
  RetentionGc second(options2, &test_catalog_.client(), blobs_.get(), &clock_, &metrics2);
  std::atomic<int> handled{0};
  auto work = [&](RetentionGc* gc) {
    for (;;) {
      auto n = gc->ProcessDueTasks(3);
      if (!n.ok() || *n == 0) return;
      handled += *n;
    }
  };
  std::thread t1(work, gc_.get()), t2(work, &second);
  t1.join();
  t2.join();
  EXPECT_EQ(handled.load(), 20);
  EXPECT_EQ(Count(*registry_, "arca_retention_gc_tasks_total", "done") +
                Count(*registry2, "arca_retention_gc_tasks_total", "done"),
            20);
  for (const std::string& job : jobs) EXPECT_FALSE(Available(job, "f.bin"));
  EXPECT_EQ(QueueDepth(), 0);
}

TEST_F(RetentionTest, KillSwitchDeletesNothingAndKeepsTheQueue) {
  std::string job = NewJob(types::v1::GC_STRATEGY_ON_JOB_COMPLETION, absl::Hours(1));
  Collect(job, {{"x.bin", "protected"}});
  Finish(job, types::v1::JOB_STATUS_SUCCESS);
  clock_.Advance(absl::Hours(3));
  options_.deletion_enabled = false;
  Rebuild();
  EXPECT_EQ(*gc_->ProcessDueTasks(), 0);
  EXPECT_EQ(gc_->RunCleanup()->removed_size(), 0);
  EXPECT_EQ(QueueDepth(), 1);
  EXPECT_TRUE(Available(job, "x.bin"));
  EXPECT_TRUE(BytesExist("protected"));
}

TEST_F(RetentionTest, OrphanBlobsGoAfterTheGracePeriod) {
  // Bytes a crashed upload left behind: in the store, unknown to the catalog.
  auto w = *real_blobs_->NewWriter();
  ASSERT_TRUE(w->Append("orphan").ok());
  ASSERT_TRUE(w->Commit().ok());
  ASSERT_TRUE(gc_->RunCleanup().ok());
  EXPECT_TRUE(BytesExist("orphan"));  // inside the grace period
  clock_.Advance(options_.grace + absl::Minutes(1));
  auto swept = gc_->RunCleanup();
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(swept->blobs_deleted(), 1);
  EXPECT_FALSE(BytesExist("orphan"));
}

TEST_F(RetentionTest, PreviewSaysWhatAndWhy) {
  std::string running = NewJob(types::v1::GC_STRATEGY_ON_JOB_COMPLETION);
  Collect(running, {{"r.bin", "running"}});
  std::string never = NewJob(types::v1::GC_STRATEGY_NEVER, absl::Hours(1));
  Collect(never, {{"n.bin", "never"}});
  Finish(never, types::v1::JOB_STATUS_SUCCESS);
  std::string done = NewJob(types::v1::GC_STRATEGY_ON_JOB_SUCCESS);
  Collect(done, {{"d.bin", "done"}});
  Finish(done, types::v1::JOB_STATUS_SUCCESS);
  auto p = gc_->PreviewCleanup(v1::PreviewCleanupRequest());
  ASSERT_TRUE(p.ok()) << p.status();
  std::map<std::string, std::pair<bool, std::string>> got;
  for (const auto& e : p->entries()) got[e.path()] = {e.would_delete(), e.reason()};
  EXPECT_EQ(got["r.bin"], std::make_pair(false, std::string("job_running")));
  EXPECT_EQ(got["n.bin"], std::make_pair(false, std::string("strategy_never; expires by TTL")));
  EXPECT_EQ(got["d.bin"],
            std::make_pair(true, std::string("strategy; bytes kept: inside the grace period")));
  clock_.Advance(absl::Hours(2));
  p = gc_->PreviewCleanup(v1::PreviewCleanupRequest());
  for (const auto& e : p->entries()) got[e.path()] = {e.would_delete(), e.reason()};
  EXPECT_EQ(got["n.bin"], std::make_pair(true, std::string("expired")));
  // A preview deletes nothing.
  EXPECT_TRUE(Available(done, "d.bin"));
  v1::PreviewCleanupRequest bad;
  bad.set_job_id("no/such");
  EXPECT_EQ(gc_->PreviewCleanup(bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad.set_job_id("job-unknown");
  EXPECT_EQ(gc_->PreviewCleanup(bad).status().code(), absl::StatusCode::kNotFound);
}

// The real binary, killed with SIGKILL in the middle of a sweep (as soon as
// the first bytes are gone): no file is left listed as available without
// its bytes, and once restarted the work completes at once, and nothing
// that policy keeps is touched.
TEST_F(RetentionTest, SigkillMidSweepThenRestartCompletesTheWork) {
  const char* bin = std::getenv("ARCA_BIN_ARCA_RETENTION_GC");
  ASSERT_NE(bin, nullptr);
  std::string expiring = NewJob(types::v1::GC_STRATEGY_UNSPECIFIED, absl::Microseconds(1));
  std::map<std::string, std::string> many;
  for (int i = 0; i < 1000; ++i) many["f" + std::to_string(i)] = "expiring " + std::to_string(i);
  Collect(expiring, many);
  std::string kept = NewJob(types::v1::GC_STRATEGY_NEVER, absl::Hours(24));
  Collect(kept, {{"keep.txt", "kept bytes"}});
  Finish(expiring, types::v1::JOB_STATUS_SUCCESS);
  Finish(kept, types::v1::JOB_STATUS_SUCCESS);
  auto blob_count = [&] {
    int n = 0;
    real_blobs_->List([&](const blob::BlobInfo&) { ++n; }).IgnoreError();
    return n;
  };
  const int before = blob_count();
  ASSERT_EQ(before, 1001);
  const std::vector<std::string> args = {
      bin, "--listen=127.0.0.1:0", "--metrics_listen=",
      "--catalog=" + test_catalog_.address(), "--blob_dir=" + test_catalog_.dir() + "/blobs",
      "--sweep_interval=24h", "--poll_interval=10ms", "--grace=0s"};
  {
    testing::Subprocess gc;
    ASSERT_TRUE(gc.Start(args).ok());
    const absl::Time end = absl::Now() + absl::Seconds(60);
    while (blob_count() == before) {
      ASSERT_LT(absl::Now(), end) << gc.output();
    }
    gc.Signal(SIGKILL);
    gc.Wait(absl::Seconds(10));
  }
  int available_without_bytes = 0;
  for (const auto& [path, content] : many) {
    available_without_bytes += Available(expiring, path) && !BytesExist(content);
  }
  EXPECT_EQ(available_without_bytes, 0);
  EXPECT_TRUE(Available(kept, "keep.txt"));
  EXPECT_TRUE(BytesExist("kept bytes"));

  testing::Subprocess again;
  ASSERT_TRUE(again.Start(args).ok());
  auto deleted = [&] {
    cat::ListFilesRequest r;
    r.set_job_id(expiring);
    r.set_page_size(1000);
    r.set_include_deleted(true);
    auto listed = catalog().ListFiles(r);
    int n = 0;
    if (!listed.ok()) return n;
    for (const auto& f : listed->files()) n += f.state() == types::v1::FILE_STATE_DELETED;
    return n;
  };
  const absl::Time end = absl::Now() + absl::Seconds(60);
  while (deleted() < 1000 || blob_count() > 1) ASSERT_LT(absl::Now(), end) << again.output();
  EXPECT_EQ(blob_count(), 1);  // only the kept file's bytes remain
  EXPECT_EQ(catalog().GetBlobRef(hash::Sha256::Of("expiring 7")).status().code(),
            absl::StatusCode::kNotFound);  // and the records of the others went too
  EXPECT_TRUE(Available(kept, "keep.txt"));
  EXPECT_TRUE(BytesExist("kept bytes"));
  again.Signal(SIGTERM);
  const int status = again.Wait(absl::Seconds(30));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << again.output();
}

TEST_F(RetentionTest, MostlyDeadPacksAreCompactedWhileEveryLiveFileStaysReadable) {
  collector::CollectorOptions packing;  // small files in packs, the default
  collector_ = std::make_unique<collector::Collector>(packing, blobs_.get(), &test_catalog_.client(),
                                                      &clock_, collector_metrics_.get());
  auto packs = [&] {
    std::vector<std::string> names;
    EXPECT_TRUE(real_blobs_->ListPacks([&](const blob::PackInfo& p) { names.push_back(p.name); }).ok());
    return names;
  };
  auto read = [&](const std::string& job, const std::string& path) -> std::string {
    auto f = catalog().GetFile(job, path);
    if (!f.ok()) return "no record";
    auto r = blob::OpenRecorded(*real_blobs_, path, f->sha256(), f->size(),
                                {f->location().pack(), f->location().offset()}, 0, -1);
    if (!r.ok()) return std::string(r.status().message());
    std::string all, piece;
    do {
      if (!(*r)->Read(&piece).ok()) return "damaged";
      all += piece;
    } while (!piece.empty());
    return all;
  };
  const std::string job = NewJob(types::v1::GC_STRATEGY_NEVER);
  std::map<std::string, std::string> files;
  for (int i = 0; i < 10; ++i) files[absl::StrCat("f", i)] = absl::StrCat("packed content ", i);
  Collect(job, files);
  ASSERT_EQ(packs().size(), 1u);
  const std::string first = packs()[0];
  // An orphan: a pack no commit recorded (as from a collector killed
  // between writing its pack and committing).
  {
    auto orphan = *real_blobs_->NewPackWriter();
    ASSERT_TRUE(orphan->Add(hash::Sha256::Of("orphan"), "orphan").ok());
    ASSERT_TRUE(orphan->Publish().ok());
  }
  ASSERT_EQ(packs().size(), 2u);

  // Six of ten deleted: below half live, so the next sweep compacts.
  cat::MarkFilesDeletedRequest del;
  del.set_job_id(job);
  for (int i = 0; i < 6; ++i) del.add_paths(absl::StrCat("f", i));
  auto marked = catalog().MarkFilesDeleted(del);
  ASSERT_TRUE(marked.ok());
  clock_.Advance(absl::Seconds(1));
  auto preview = gc_->PreviewCleanup(retention::v1::PreviewCleanupRequest(), "");
  ASSERT_TRUE(preview.ok());
  EXPECT_EQ(preview->packs_size(), 0);  // the records are not yet released
  // Released (as a sweep's first step does): the pack is now mostly dead.
  for (const std::string& sha : marked->unreferenced_blobs()) {
    cat::ForgetBlobRequest forget;
    forget.set_sha256(sha);
    *forget.mutable_unreferenced_before() = ToProtoTime(clock_.Now());
    ASSERT_TRUE(catalog().ForgetBlob(forget).ok());
  }
  preview = gc_->PreviewCleanup(retention::v1::PreviewCleanupRequest(), "");
  ASSERT_EQ(preview->packs_size(), 1);
  EXPECT_EQ(preview->packs(0).name(), first);
  EXPECT_EQ(preview->packs(0).live_blobs(), 4);
  EXPECT_EQ(preview->packs(0).blobs(), 10);
  EXPECT_GT(preview->packs(0).dead_bytes(), 0);

  auto swept = gc_->RunCleanup();
  ASSERT_TRUE(swept.ok()) << swept.status();
  EXPECT_EQ(swept->errors(), 0);
  EXPECT_EQ(swept->packs_compacted(), 1);
  EXPECT_EQ(Count(*registry_, "arca_retention_gc_packs_compacted_total", ""), 1);
  // The live files now read from the new pack; the old one stays for the
  // grace period, for readers that learnt its place before.
  for (int i = 6; i < 10; ++i) {
    const std::string path = absl::StrCat("f", i);
    EXPECT_EQ(read(job, path), files[path]);
    EXPECT_NE(catalog().GetFile(job, path)->location().pack(), first);
  }
  std::vector<std::string> now = packs();
  EXPECT_EQ(now.size(), 3u);  // old, new, the orphan (not idle yet)
  EXPECT_NE(std::find(now.begin(), now.end(), first), now.end());
  EXPECT_EQ(real_blobs_->ReadPackIndex(first)->size(), 10u);
  // ... and once the grace period has passed, it goes, as does the orphan.
  clock_.Advance(options_.grace + absl::Minutes(1));
  swept = gc_->RunCleanup();
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(swept->packs_deleted(), 2);
  now = packs();
  ASSERT_EQ(now.size(), 1u);
  EXPECT_NE(now[0], first);
  EXPECT_EQ(catalog().ListPacks({})->packs_size(), 1);
  for (int i = 6; i < 10; ++i) {
    const std::string path = absl::StrCat("f", i);
    EXPECT_EQ(read(job, path), files[path]);
  }
  // One more file goes: three of four live, not compacted, its bytes
  // counted dead.
  del.clear_paths();
  del.add_paths("f6");
  ASSERT_TRUE(catalog().MarkFilesDeleted(del).ok());
  clock_.Advance(absl::Seconds(1));
  swept = gc_->RunCleanup();
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(swept->packs_compacted(), 0);
  double dead = -1;
  for (const auto& family : registry_->Collect()) {
    if (family.name == "arca_retention_gc_pack_dead_bytes") dead = family.metric[0].gauge.value;
  }
  EXPECT_EQ(dead, static_cast<double>(files["f6"].size()));

  // Two more go: the compacted pack is compacted again. Its blob records
  // never moved; the last live file reads from the third file, and the
  // second goes after the grace period.
  del.clear_paths();
  del.add_paths("f7");
  del.add_paths("f8");
  ASSERT_TRUE(catalog().MarkFilesDeleted(del).ok());
  clock_.Advance(absl::Seconds(1));
  const std::string second = catalog().ListPacks({})->packs(0).file();
  EXPECT_EQ(catalog().GetFile(job, "f9")->location().pack(), second);
  swept = gc_->RunCleanup();
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(swept->errors(), 0);
  EXPECT_EQ(swept->packs_compacted(), 1);
  const std::string third = catalog().ListPacks({})->packs(0).file();
  EXPECT_NE(third, second);
  EXPECT_EQ(catalog().GetFile(job, "f9")->location().pack(), third);
  EXPECT_EQ(read(job, "f9"), files["f9"]);
  EXPECT_EQ(real_blobs_->ReadPackIndex(third)->size(), 1u);
  clock_.Advance(options_.grace + absl::Minutes(1));
  swept = gc_->RunCleanup();
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(swept->packs_deleted(), 1);
  EXPECT_EQ(packs(), std::vector<std::string>{third});
  cat::ListPacksRequest retired;
  retired.set_retired(true);
  EXPECT_EQ(catalog().ListPacks(retired)->packs_size(), 0);
  EXPECT_EQ(read(job, "f9"), files["f9"]);
}

// Readers keep reading the files that stay while their pack is compacted
// twice under them: each read finds its bytes, where the catalog said.
TEST_F(RetentionTest, ReadsDuringCompactionNeverFail) {
  collector::CollectorOptions packing;
  collector_ = std::make_unique<collector::Collector>(packing, blobs_.get(), &test_catalog_.client(),
                                                      &clock_, collector_metrics_.get());
  const std::string job = NewJob(types::v1::GC_STRATEGY_NEVER);
  std::map<std::string, std::string> files;
  for (int i = 0; i < 200; ++i) {
    files[absl::StrCat("f", 1000 + i)] = absl::StrCat("packed content ", i, std::string(i, 'x'));
  }
  Collect(job, files);
  std::vector<std::string> kept, doomed;
  for (const auto& [path, content] : files) {
    ((kept.size() + doomed.size()) % 8 == 0 ? kept : doomed).push_back(path);
  }
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0}, failures{0};
  std::string first_failure;
  std::thread reader([&] {
    while (!stop) {
      for (const std::string& path : kept) {
        auto f = catalog().GetFile(job, path);
        absl::Status s = f.status();
        std::string bytes;
        if (s.ok()) {
          auto r = blob::OpenRecorded(*real_blobs_, path, f->sha256(), f->size(),
                                      {f->location().pack(), f->location().offset()}, 0, -1);
          s = r.ok() ? blob::ReadRecorded(**r, path, &bytes) : r.status();
        }
        if (s.ok() && bytes != files.at(path)) s = absl::DataLossError("other bytes");
        if (!s.ok() && failures++ == 0) first_failure = path + ": " + s.ToString();
        ++reads;
      }
    }
  });
  // Most of the rest go, then more: two compactions, the second of the
  // file the first wrote.
  int compacted = 0;
  for (size_t goes : {doomed.size() * 2 / 3, doomed.size()}) {
    cat::MarkFilesDeletedRequest del;
    del.set_job_id(job);
    for (size_t i = 0; i < goes; ++i) del.add_paths(doomed[i]);
    ASSERT_TRUE(catalog().MarkFilesDeleted(del).ok());
    clock_.Advance(absl::Seconds(1));
    const int before = reads;
    auto swept = gc_->RunCleanup();
    ASSERT_TRUE(swept.ok()) << swept.status();
    EXPECT_EQ(swept->errors(), 0);
    compacted += swept->packs_compacted();
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (reads < before + 2 * static_cast<int>(kept.size()) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(1));
    }
  }
  stop = true;
  reader.join();
  EXPECT_EQ(compacted, 2);
  EXPECT_GT(reads, 0);
  EXPECT_EQ(failures, 0) << first_failure;
}

TEST_F(RetentionTest, APackIsVerifiedAndItsIndexRebuiltFromTheCommandLine) {
  const char* bin = std::getenv("ARCA_BIN_ARCA_RETENTION_GC");
  ASSERT_NE(bin, nullptr);
  std::string name;
  {
    auto pack = *real_blobs_->NewPackWriter();
    for (int i = 0; i < 5; ++i) {
      const std::string bytes = absl::StrCat("record ", i);
      ASSERT_TRUE(pack->Add(hash::Sha256::Of(bytes), bytes).ok());
    }
    ASSERT_TRUE(pack->Publish().ok());
    name = pack->name();
  }
  const std::string path = test_catalog_.dir() + "/blobs/packs/" + name + ".pack";
  auto run = [&](const std::string& flag) {
    testing::Subprocess tool;
    EXPECT_TRUE(tool.Start({bin, flag + "=" + path}).ok());
    const int status = tool.Wait(absl::Seconds(30));
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  EXPECT_EQ(run("--verify_pack"), 0);
  // The index lost (as by a crash before the footer): verification fails,
  // and a rebuild from the records alone makes the pack whole again.
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 30);
  EXPECT_EQ(run("--verify_pack"), 1);
  EXPECT_FALSE(real_blobs_->ReadPackIndex(name).ok());
  EXPECT_EQ(run("--rebuild_pack_index"), 0);
  EXPECT_EQ(run("--verify_pack"), 0);
  EXPECT_EQ(real_blobs_->ReadPackIndex(name)->size(), 5u);
  std::filesystem::remove(path);
  EXPECT_EQ(run("--verify_pack"), 1);
}

}  // namespace
}  // namespace arca::retention
