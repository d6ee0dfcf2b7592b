#include "services/collector/collector.h"

#include <filesystem>
#include <functional>
#include <fstream>
#include <string>
#include <tuple>
#include <thread>
#include <vector>

#include "common/rpc/server.h"
#include "common/hash/crc32c.h"
#include "common/hash/sha256.h"
#include "common/time_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/catalog/catalog_testing.h"
#include "services/collector/collector_service.h"

namespace arca::collector {
namespace {

namespace cat = ::arca::catalog::v1;

class VectorSource : public UploadSource {
 public:
  explicit VectorSource(std::vector<v1::UploadRequest> messages) : messages_(std::move(messages)) {}
  bool Next(v1::UploadRequest* m) override {
    if (i_ >= messages_.size()) return false;
    *m = messages_[i_++];
    return true;
  }
  size_t consumed() const { return i_; }

 private:
  std::vector<v1::UploadRequest> messages_;
  size_t i_ = 0;
};

// Moves the clock on by a second for every message it hands out.
class SlowSource : public VectorSource {
 public:
  SlowSource(std::vector<v1::UploadRequest> messages, FakeClock* clock)
      : VectorSource(std::move(messages)), clock_(clock) {}
  bool Next(v1::UploadRequest* m) override {
    clock_->Advance(absl::Seconds(1));
    return VectorSource::Next(m);
  }

 private:
  FakeClock* clock_;
};

class StringSink : public DownloadSink {
 public:
  bool Write(const v1::DownloadResponse& m) override {
    if (m.size() > 0 || !m.sha256().empty()) {
      size = m.size();
      sha256 = m.sha256();
    }
    data += m.chunk();
    return true;
  }
  int64_t size = -1;
  std::string sha256, data;
};

// Builds upload streams.
struct Upload {
  std::vector<v1::UploadRequest> messages;
  explicit Upload(const std::string& job) {
    messages.emplace_back();
    messages.back().mutable_manifest()->set_job_id(job);
  }
  v1::UploadManifest& manifest() { return *messages.front().mutable_manifest(); }
  Upload& File(const std::string& path, const std::string& content, bool declare_digest = true) {
    messages.emplace_back();
    auto* h = messages.back().mutable_file();
    h->set_path(path);
    h->set_size(content.size());
    if (declare_digest) h->set_sha256(hash::Sha256::Of(content));
    for (size_t i = 0; i < content.size(); i += 4) {
      messages.emplace_back();
      messages.back().set_chunk(content.substr(i, 4));
    }
    return *this;
  }
  // A file in chunks of 1 MiB, as the CLI sends large files.
  Upload& Large(const std::string& path, const std::string& content,
                const std::string& declared_sha256) {
    messages.emplace_back();
    auto* h = messages.back().mutable_file();
    h->set_path(path);
    h->set_size(content.size());
    h->set_sha256(declared_sha256);
    for (size_t i = 0; i < content.size(); i += 1 << 20) {
      messages.emplace_back();
      messages.back().set_chunk(content.substr(i, 1 << 20));
    }
    return *this;
  }
  // A file whose first `in_header` bytes ride in its header, the rest in
  // chunks.
  Upload& Inline(const std::string& path, const std::string& content, size_t in_header) {
    File(path, content.substr(in_header));
    size_t chunks = (content.size() - std::min(in_header, content.size()) + 3) / 4;
    v1::FileHeader* h = messages[messages.size() - 1 - chunks].mutable_file();
    h->set_size(content.size());
    h->set_sha256(hash::Sha256::Of(content));
    h->set_content(content.substr(0, in_header));
    return *this;
  }
  Upload& End() {
    messages.emplace_back();
    messages.back().mutable_end();
    return *this;
  }
};

class CollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test_catalog_.dir();
    blobs_ = *blob::OpenLocalBlobStore(dir_ + "/blobs");
    metrics_ = std::make_unique<CollectorMetrics>(*registry_);
    options_.max_total_bytes = 1000;
    options_.max_files = 5;
    collector_ = std::make_unique<Collector>(options_, blobs_.get(), &test_catalog_.client(),
                                             &clock_, metrics_.get());
  }

  std::string NewJob(const std::string& group = "team-a") {
    cat::CreateJobRequest r;
    r.mutable_job()->set_group(group);
    return catalog_->CreateJob(r)->job().id();
  }
  absl::StatusOr<v1::UploadResponse> Run(Upload& u) {
    VectorSource source(u.messages);
    return collector_->Upload(source);
  }
  std::vector<std::string> CatalogPaths(const std::string& job) {
    cat::ListFilesRequest r;
    r.set_job_id(job);
    auto listed = catalog_->ListFiles(r);
    EXPECT_TRUE(listed.ok()) << listed.status();
    std::vector<std::string> out;
    if (!listed.ok()) return out;
    for (const auto& f : listed->files()) out.push_back(f.path());
    return out;
  }
  absl::Status Download(const std::string& job, const std::string& path, StringSink& sink,
                        int64_t offset = 0, int64_t length = 0) {
    v1::DownloadRequest r;
    r.set_job_id(job);
    r.set_path(path);
    r.set_offset(offset);
    r.set_length(length);
    return collector_->Download(r, sink);
  }
  // Temporary files of writers (not the stores' session locks).
  size_t TmpFiles() {
    size_t n = 0;
    for (auto& e : std::filesystem::recursive_directory_iterator(dir_ + "/blobs/tmp")) {
      n += e.is_regular_file() && e.path().parent_path().filename() != "sessions";
    }
    return n;
  }
  double Counter(const std::string& name, const std::string& reason = "") {
    for (const auto& family : registry_->Collect()) {
      if (family.name != name) continue;
      for (const auto& m : family.metric) {
        if (reason.empty() || (!m.label.empty() && m.label[0].value == reason)) {
          return m.counter.value;
        }
      }
    }
    return 0;
  }

  FakeClock clock_;
  catalog::TestCatalog test_catalog_{&clock_};
  catalog::Catalog* catalog_ = &test_catalog_.catalog();
  std::string dir_;
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  std::unique_ptr<blob::BlobStore> blobs_;
  std::unique_ptr<CollectorMetrics> metrics_;
  CollectorOptions options_;
  std::unique_ptr<Collector> collector_;
};

TEST_F(CollectorTest, PrimeHubJourneyUploadAndDownload) {
  std::string job = NewJob();
  Upload u(job);
  u.File("test.txt", "hello\n").File("sub/test.txt", "hello\n").End();
  auto r = Run(u);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->files_size(), 2);
  EXPECT_EQ(r->files(0).sha256(), hash::Sha256::Of("hello\n"));
  EXPECT_EQ(r->total_bytes(), 12);
  EXPECT_EQ(CatalogPaths(job), (std::vector<std::string>{"sub/test.txt", "test.txt"}));
  EXPECT_EQ(catalog_->GetBlobRef(hash::Sha256::Of("hello\n"))->refcount(), 2);
  StringSink sink;
  ASSERT_TRUE(Download(job, "sub/test.txt", sink).ok());
  EXPECT_EQ(sink.data, "hello\n");
  EXPECT_EQ(sink.size, 6);
  EXPECT_EQ(sink.sha256, hash::Sha256::Of("hello\n"));
  EXPECT_EQ(Counter("arca_collector_files_accepted_total"), 2);
  EXPECT_EQ(TmpFiles(), 0u);
  ASSERT_TRUE(collector_->RefreshBlobStats().ok());
  double objects = -1, bytes = -1;
  for (const auto& family : registry_->Collect()) {
    if (family.name == "arca_collector_blob_store_objects") objects = family.metric[0].gauge.value;
    if (family.name == "arca_collector_blob_store_bytes") bytes = family.metric[0].gauge.value;
  }
  // Both paths share one blob, in the upload's pack.
  std::vector<blob::PackInfo> packs;
  ASSERT_TRUE(blobs_->ListPacks([&](const blob::PackInfo& p) { packs.push_back(p); }).ok());
  ASSERT_EQ(packs.size(), 1u);
  ASSERT_EQ(blobs_->ReadPackIndex(packs[0].name)->size(), 1u);
  EXPECT_EQ(objects, 1);
  EXPECT_EQ(bytes, packs[0].size);
}

// The catalog is asked about each batch of 1,000 small files while the next
// one arrives; bytes repeated across batches are packed once, and every file
// reads back.
TEST_F(CollectorTest, SmallFilesRepeatedAcrossBatchesArePackedOnce) {
  options_.max_files = 5000;
  options_.max_total_bytes = 1 << 20;
  collector_ = std::make_unique<Collector>(options_, blobs_.get(), &test_catalog_.client(), &clock_,
                                           metrics_.get());
  const std::string job = NewJob();
  Upload u(job);
  for (int i = 0; i < 2500; ++i) u.File(absl::StrCat("f", i), absl::StrCat("bytes ", i % 1200));
  u.End();
  auto r = Run(u);
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<blob::PackInfo> packs;
  ASSERT_TRUE(blobs_->ListPacks([&](const blob::PackInfo& p) { packs.push_back(p); }).ok());
  ASSERT_EQ(packs.size(), 1u);
  EXPECT_EQ(blobs_->ReadPackIndex(packs[0].name)->size(), 1200u);
  for (int i : {0, 999, 1000, 1199, 1200, 2199, 2200, 2499}) {
    StringSink sink;
    ASSERT_TRUE(Download(job, absl::StrCat("f", i), sink).ok()) << i;
    EXPECT_EQ(sink.data, absl::StrCat("bytes ", i % 1200)) << i;
  }
}

TEST_F(CollectorTest, SmallFilesAlreadyStoredAreNotWrittenAgainPackedOrLoose) {
  auto packs = [&] {
    int n = 0;
    EXPECT_TRUE(blobs_->ListPacks([&](const blob::PackInfo&) { ++n; }).ok());
    return n;
  };
  auto loose = [&] {
    int n = 0;
    EXPECT_TRUE(blobs_->List([&](const blob::BlobInfo&) { ++n; }).ok());
    return n;
  };
  // A blob directory as written before packs: small files loose.
  options_.pack_threshold = 0;
  collector_ = std::make_unique<Collector>(options_, blobs_.get(), &test_catalog_.client(), &clock_,
                                           metrics_.get());
  const std::string old_job = NewJob();
  Upload before(old_job);
  before.File("old.txt", "written before packs").End();
  ASSERT_TRUE(Run(before).ok());
  ASSERT_EQ(loose(), 1);
  // Today's collector packs new bytes; bytes stored loose or packed already
  // are only referenced, and every file reads back.
  options_.pack_threshold = 256 << 10;
  collector_ = std::make_unique<Collector>(options_, blobs_.get(), &test_catalog_.client(), &clock_,
                                           metrics_.get());
  const std::string job = NewJob();
  Upload first(job);
  first.File("again.txt", "written before packs").File("new.txt", "new small bytes").End();
  ASSERT_TRUE(Run(first).ok());
  EXPECT_EQ(loose(), 1);
  EXPECT_EQ(packs(), 1);
  Upload second(NewJob());
  second.File("new-again.txt", "new small bytes").File("old-again.txt", "written before packs").End();
  ASSERT_TRUE(Run(second).ok());
  EXPECT_EQ(loose(), 1);
  EXPECT_EQ(packs(), 1);  // nothing new to pack: no pack at all
  EXPECT_EQ(catalog_->GetBlobRef(hash::Sha256::Of("written before packs"))->refcount(), 3);
  EXPECT_FALSE(catalog_->GetBlobRef(hash::Sha256::Of("written before packs"))->has_location());
  EXPECT_EQ(catalog_->GetBlobRef(hash::Sha256::Of("new small bytes"))->refcount(), 2);
  for (const auto& [j, path, content] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {old_job, "old.txt", "written before packs"},
           {job, "again.txt", "written before packs"},
           {job, "new.txt", "new small bytes"}}) {
    StringSink sink;
    ASSERT_TRUE(Download(j, path, sink).ok()) << path;
    EXPECT_EQ(sink.data, content);
  }
  EXPECT_EQ(TmpFiles(), 0u);
}

TEST_F(CollectorTest, AnUploadsTimeIsSplitIntoReceiveStoreAndCommit) {
  // {count, sum} of the upload phase histogram's series for `phase`.
  auto phase = [&](const std::string& phase) {
    for (const auto& family : registry_->Collect()) {
      if (family.name != "arca_collector_upload_phase_seconds") continue;
      for (const auto& m : family.metric) {
        if (m.label.size() == 1 && m.label[0].value == phase) {
          return std::make_pair(m.histogram.sample_count, m.histogram.sample_sum);
        }
      }
    }
    return std::make_pair(uint64_t{999}, -1.0);
  };
  EXPECT_EQ(phase("receive"), std::make_pair(uint64_t{0}, 0.0));
  std::string job = NewJob();
  Upload u(job);
  u.File("a.txt", "alpha").End();  // manifest, header, 2 chunks, end
  SlowSource source(u.messages, &clock_);
  ASSERT_TRUE(collector_->Upload(source).ok());
  EXPECT_EQ(phase("receive"), std::make_pair(uint64_t{1}, 5.0));
  EXPECT_EQ(phase("store"), std::make_pair(uint64_t{1}, 0.0));
  EXPECT_EQ(phase("commit"), std::make_pair(uint64_t{1}, 0.0));
  // A failed upload is not counted.
  Upload bad(job);
  bad.File("b.txt", "beta").End();
  bad.messages[1].mutable_file()->set_sha256(hash::Sha256::Of("other"));
  EXPECT_TRUE(absl::IsDataLoss(Run(bad).status()));
  EXPECT_EQ(phase("receive").first, 1u);
}

TEST_F(CollectorTest, AFilesBytesMayRideInItsHeader) {
  std::string job = NewJob();
  Upload u(job);
  u.Inline("whole.txt", "hello", 5)
      .Inline("split.txt", "hello, world", 5)
      .Inline(".hidden", "secret", 6)
      .File("after.txt", "fine")
      .End();
  auto r = Run(u);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(CatalogPaths(job), (std::vector<std::string>{"after.txt", "split.txt", "whole.txt"}));
  ASSERT_EQ(r->skipped_size(), 1);
  EXPECT_EQ(r->skipped(0).reason(), "hidden");
  for (const auto& [path, content] :
       std::vector<std::pair<std::string, std::string>>{{"whole.txt", "hello"},
                                                        {"split.txt", "hello, world"}}) {
    StringSink sink;
    ASSERT_TRUE(Download(job, path, sink).ok());
    EXPECT_EQ(sink.data, content) << path;
  }
  // More bytes in the header than the file declares.
  Upload over(job);
  over.Inline("over.txt", "hello", 5);
  over.messages.back().mutable_file()->set_size(3);
  over.End();
  auto rejected = Run(over);
  EXPECT_EQ(rejected.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(rejected.status().message().find("declared 3 bytes but sent more"), std::string::npos)
      << rejected.status();
  EXPECT_EQ(TmpFiles(), 0u);
}

TEST_F(CollectorTest, RetryingTheSameUploadIsHarmless) {
  std::string job = NewJob();
  Upload u(job);
  u.File("a.txt", "alpha").End();
  ASSERT_TRUE(Run(u).ok());
  auto again = Run(u);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(CatalogPaths(job).size(), 1u);
  EXPECT_EQ(catalog_->GetBlobRef(hash::Sha256::Of("alpha"))->refcount(), 1);
}

TEST_F(CollectorTest, RangedDownloads) {
  std::string job = NewJob();
  Upload u(job);
  u.File("data.bin", "0123456789").End();
  ASSERT_TRUE(Run(u).ok());
  StringSink middle;
  ASSERT_TRUE(Download(job, "data.bin", middle, 3, 4).ok());
  EXPECT_EQ(middle.data, "3456");
  StringSink tail;
  ASSERT_TRUE(Download(job, "data.bin", tail, 8).ok());
  EXPECT_EQ(tail.data, "89");
  StringSink empty;
  ASSERT_TRUE(Download(job, "data.bin", empty, 10).ok());
  EXPECT_EQ(empty.data, "");
  EXPECT_EQ(empty.size, 10);
  StringSink past;
  EXPECT_EQ(Download(job, "data.bin", past, 11).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(Download(job, "missing.bin", past).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Download(job, "../data.bin", past).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CollectorTest, CorruptedBlobIsDataLossNotServedAsFine) {
  // Packed (the default for a small file), then loose.
  for (const bool packed : {true, false}) {
    if (!packed) {
      options_.pack_threshold = 0;
      collector_ = std::make_unique<Collector>(options_, blobs_.get(), &test_catalog_.client(),
                                               &clock_, metrics_.get());
    }
    std::string job = NewJob();
    Upload u(job);
    const std::string content = packed ? "trained weights" : "loose weights";
    u.File("model.bin", content).End();
    ASSERT_TRUE(Run(u).ok());
    const std::string sha = hash::Sha256::Of(content);
    std::string path = dir_ + "/blobs/blobs/" + sha.substr(0, 2) + "/" + sha.substr(2);
    int64_t at = 3;
    if (packed) {
      ASSERT_FALSE(std::filesystem::exists(path));
      ASSERT_TRUE(blobs_->ListPacks([&](const blob::PackInfo& p) {
        path = dir_ + "/blobs/packs/" + p.name + ".pack";
      }).ok());
      at = 8 + 52 + 3;  // in the record's bytes, after the pack's and the record's headers
    }
    {
      std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(at);
      f.put('X');  // same size, different bytes
    }
    StringSink sink;
    absl::Status s = Download(job, "model.bin", sink);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_EQ(sink.data, "");
    std::filesystem::remove(path);
    StringSink gone;
    EXPECT_EQ(Download(job, "model.bin", gone).code(), absl::StatusCode::kDataLoss);
  }
}

TEST_F(CollectorTest, DigestMismatchRejectsTheWholeUpload) {
  std::string job = NewJob();
  Upload u(job);
  u.File("good.txt", "good");
  u.messages.emplace_back();
  auto* h = u.messages.back().mutable_file();
  h->set_path("bad.txt");
  h->set_size(3);
  h->set_sha256(hash::Sha256::Of("xyz"));
  u.messages.emplace_back();
  u.messages.back().set_chunk("abc");
  u.End();
  auto r = Run(u);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("bad.txt"), std::string::npos);
  EXPECT_TRUE(CatalogPaths(job).empty());
  EXPECT_EQ(TmpFiles(), 0u);
}

// Large files are sealed on threads of their own while the next ones arrive
// (several over blob buffers, unaligned); the answer still gives each
// file's digest and CRC-32C, small ones' too, and a wrong declared digest
// behind them still fails the whole upload.
TEST_F(CollectorTest, LargeFilesSealedWhileTheNextArriveKeepTheirDigestsAndChecks) {
  options_.max_total_bytes = 64 << 20;
  collector_ = std::make_unique<Collector>(options_, blobs_.get(), &test_catalog_.client(),
                                           &clock_, metrics_.get());
  std::vector<std::string> large;
  for (int i = 0; i < 4; ++i) {
    std::string bytes((9 << 20) + 1000 * i + 7, '\0');
    for (size_t at = 0; at < bytes.size(); ++at) bytes[at] = static_cast<char>(at * (i + 3) >> 5);
    large.push_back(std::move(bytes));
  }
  std::string job = NewJob();
  Upload u(job);
  for (int i = 0; i < 4; ++i) u.Large(absl::StrCat("l", i, ".bin"), large[i], i == 1 ? hash::Sha256::Of(large[i]) : "");
  u.File("small.txt", "small").End();
  auto r = Run(u);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->files_size(), 5);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(r->files(i).sha256(), hash::Sha256::Of(large[i])) << i;
    ASSERT_TRUE(r->files(i).has_crc32c());
    EXPECT_EQ(r->files(i).crc32c(), hash::Crc32c(large[i])) << i;
    StringSink sink;
    ASSERT_TRUE(Download(job, r->files(i).path(), sink).ok());
    EXPECT_TRUE(sink.data == large[i]) << i;
  }
  EXPECT_EQ(r->files(4).crc32c(), hash::Crc32c("small"));
  cat::ListFilesRequest list;
  list.set_job_id(job);
  auto listed = catalog_->ListFiles(list);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->files_size(), 5);
  for (const auto& f : listed->files()) {
    EXPECT_EQ(f.sha256(), f.path() == "small.txt" ? hash::Sha256::Of("small")
                                                  : hash::Sha256::Of(large[f.path()[1] - '0']));
  }

  std::string other = NewJob();
  Upload bad(other);
  for (int i = 0; i < 4; ++i) {
    bad.Large(absl::StrCat("l", i, ".bin"), large[i] + "x",
              i == 2 ? hash::Sha256::Of(large[i]) : "");
  }
  bad.End();
  auto refused = Run(bad);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(refused.status().message().find("l2.bin"), std::string::npos) << refused.status();
  EXPECT_TRUE(CatalogPaths(other).empty());
  EXPECT_EQ(TmpFiles(), 0u);
}

TEST_F(CollectorTest, LimitCrossedRejectsAndStopsReading) {
  std::string job = NewJob();
  Upload u(job);
  u.File("a", std::string(600, 'a')).File("b", std::string(600, 'b')).File("c", "c").End();
  VectorSource source(u.messages);
  testing::internal::CaptureStderr();
  auto r = collector_->Upload(source);
  const std::string logged = testing::internal::GetCapturedStderr();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  // The operator's line: which job, and why.
  EXPECT_NE(logged.find("upload refused job=" + job + " code=RESOURCE_EXHAUSTED reason=\""), std::string::npos)
      << logged;
  EXPECT_NE(logged.find("1000-byte limit by 200 bytes"), std::string::npos) << logged;
  EXPECT_NE(r.status().message().find("1000-byte limit by 200 bytes"), std::string::npos)
      << r.status();
  EXPECT_LT(source.consumed(), u.messages.size());  // stopped at the header of b
  EXPECT_TRUE(CatalogPaths(job).empty());
  EXPECT_EQ(Counter("arca_collector_uploads_rejected_total", "over_size"), 1);

  Upload many(job);
  for (int i = 0; i < 6; ++i) many.File("f" + std::to_string(i), "x");
  many.End();
  auto r2 = Run(many);
  EXPECT_EQ(r2.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(r2.status().message().find("more than 5 files"), std::string::npos);
  EXPECT_EQ(TmpFiles(), 0u);
}

TEST_F(CollectorTest, TruncateKeepsWhatFitsAndReportsTheRest) {
  std::string job = NewJob();
  Upload u(job);
  u.manifest().set_truncate(true);
  u.File("a", std::string(600, 'a')).File("b", std::string(600, 'b')).File("c", "c").End();
  auto r = Run(u);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(CatalogPaths(job), (std::vector<std::string>{"a", "c"}));
  ASSERT_EQ(r->skipped_size(), 1);
  EXPECT_EQ(r->skipped(0).path(), "b");
  EXPECT_EQ(r->skipped(0).reason(), "over_size");
}

TEST_F(CollectorTest, LimitsCountTheUsersFilesNotTheJobsLogs) {
  // PrimeHub's limits: exactly the limit of outputs (5 files here) and a
  // log beside them is accepted whole.
  std::string job = NewJob();
  Upload u(job);
  for (int i = 0; i < 5; ++i) u.File("f" + std::to_string(i), std::string(200, 'a' + i));
  u.File(".arca/logs/job.log", std::string(900, 'l')).End();
  auto r = Run(u);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->files_size(), 6);
  // Logs have a budget of their own, as large: one over it is refused too.
  Upload logs(NewJob());
  logs.File(".arca/logs/a.log", std::string(600, 'a')).File(".arca/logs/b.log", std::string(600, 'b')).End();
  auto refused = Run(logs);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted) << refused.status();
  Upload six(NewJob());
  for (int i = 0; i < 6; ++i) six.File(".arca/logs/" + std::to_string(i) + ".log", "x");
  six.End();
  auto too_many = Run(six);
  EXPECT_EQ(too_many.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(too_many.status().message().find("more than 5 log files"), std::string::npos) << too_many.status();
}

TEST_F(CollectorTest, ManifestMaySetLowerLimitsNotHigher) {
  std::string job = NewJob();
  Upload u(job);
  u.manifest().set_max_files(100);  // capped to the server's 5
  for (int i = 0; i < 6; ++i) u.File("f" + std::to_string(i), "x");
  u.End();
  EXPECT_EQ(Run(u).status().code(), absl::StatusCode::kResourceExhausted);
  Upload small(job);
  small.manifest().set_max_total_bytes(3);
  small.File("four", "4444").End();
  EXPECT_EQ(Run(small).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(CollectorTest, HiddenFilesSkippedUnlessAskedAndLogsAlwaysKept) {
  std::string job = NewJob();
  Upload u(job);
  u.File(".env", "SECRET=1").File("sub/.git/config", "x").File(".arca/logs/job.log", "log\n");
  u.File("ok.txt", "ok").End();
  auto r = Run(u);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(CatalogPaths(job), (std::vector<std::string>{".arca/logs/job.log", "ok.txt"}));
  ASSERT_EQ(r->skipped_size(), 2);
  EXPECT_EQ(r->skipped(0).reason(), "hidden");

  std::string job2 = NewJob();
  Upload all(job2);
  all.manifest().set_include_hidden(true);
  all.File(".env", "SECRET=1").End();
  ASSERT_TRUE(Run(all).ok());
  EXPECT_EQ(CatalogPaths(job2), std::vector<std::string>{".env"});
}

// Argo's per-artifact GC strategy, from the pattern a file matches unless
// its header sets one.
TEST_F(CollectorTest, OutputPatternsSetGcStrategiesUnlessTheFileHasOne) {
  std::string job = NewJob();
  Upload u(job);
  auto* tmp = u.manifest().add_patterns();
  tmp->set_glob("*.tmp");
  tmp->set_gc_strategy(types::v1::GC_STRATEGY_ON_JOB_COMPLETION);
  u.manifest().add_patterns()->set_glob("*");
  u.File("scratch.tmp", "x").File("result.csv", "1").File("own.tmp", "y");
  for (auto& m : u.messages) {
    if (m.has_file() && m.file().path() == "own.tmp") m.mutable_file()->set_gc_strategy(types::v1::GC_STRATEGY_NEVER);
  }
  u.End();
  ASSERT_TRUE(Run(u).ok());
  EXPECT_EQ(catalog_->GetFile(job, "scratch.tmp")->gc_strategy(), types::v1::GC_STRATEGY_ON_JOB_COMPLETION);
  EXPECT_EQ(catalog_->GetFile(job, "result.csv")->gc_strategy(), types::v1::GC_STRATEGY_UNSPECIFIED);
  EXPECT_EQ(catalog_->GetFile(job, "own.tmp")->gc_strategy(), types::v1::GC_STRATEGY_NEVER);
  Upload bad(job);
  auto* p = bad.manifest().add_patterns();
  p->set_glob("*");
  p->set_gc_strategy(static_cast<types::v1::GcStrategy>(99));
  bad.End();
  EXPECT_EQ(Run(bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CollectorTest, OutputPatternsSetPrivacyAndSkipTheRest) {
  std::string job = NewJob();
  Upload u(job);
  auto* p1 = u.manifest().add_patterns();
  p1->set_glob("output/*.csv");
  p1->set_privacy_level(types::v1::PRIVACY_LEVEL_HIGHLY_SENSITIVE);
  auto* p2 = u.manifest().add_patterns();
  p2->set_glob("output/*");
  u.File("output/cohort.csv", "id\n1\n").File("output/summary.txt", "n=1").File("scratch.tmp", "x");
  u.End();
  auto r = Run(u);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(catalog_->GetFile(job, "output/cohort.csv")->privacy_level(),
            types::v1::PRIVACY_LEVEL_HIGHLY_SENSITIVE);
  EXPECT_EQ(catalog_->GetFile(job, "output/summary.txt")->privacy_level(),
            types::v1::PRIVACY_LEVEL_MODERATELY_SENSITIVE);
  ASSERT_EQ(r->skipped_size(), 1);
  EXPECT_EQ(r->skipped(0).reason(), "no_pattern");
}

TEST_F(CollectorTest, BadStreamsAreRejectedAndCommitNothing) {
  std::string job = NewJob();
  struct Case {
    const char* what;
    std::function<void(Upload&)> build;
    absl::StatusCode want;
  } cases[] = {
      {"dotdot", [](Upload& u) { u.File("../etc/passwd", "x").End(); },
       absl::StatusCode::kInvalidArgument},
      {"absolute", [](Upload& u) { u.File("/etc/passwd", "x").End(); },
       absl::StatusCode::kInvalidArgument},
      {"nul", [](Upload& u) { u.File(std::string("a\0b", 3), "x").End(); },
       absl::StatusCode::kInvalidArgument},
      {"utf8", [](Upload& u) { u.File("bad\xff", "x").End(); }, absl::StatusCode::kInvalidArgument},
      {"long", [](Upload& u) { u.File(std::string(1025, 'p'), "x").End(); },
       absl::StatusCode::kInvalidArgument},
      {"twice", [](Upload& u) { u.File("a", "x").File("a", "x").End(); },
       absl::StatusCode::kInvalidArgument},
      {"no end marker", [](Upload& u) { u.File("a", "x"); }, absl::StatusCode::kAborted},
      {"short file", [](Upload& u) {
         u.File("a", "xyz");
         u.messages.pop_back();  // the chunk never arrives
         u.End();
       }, absl::StatusCode::kInvalidArgument},
      {"long file", [](Upload& u) {
         u.File("a", "xyz");
         u.messages.emplace_back();
         u.messages.back().set_chunk("more");
         u.End();
       }, absl::StatusCode::kInvalidArgument},
      {"chunk first", [](Upload& u) {
         u.messages.emplace_back();
         u.messages.back().set_chunk("x");
         u.End();
       }, absl::StatusCode::kInvalidArgument},
      {"second manifest", [](Upload& u) {
         u.messages.push_back(u.messages.front());
         u.End();
       }, absl::StatusCode::kInvalidArgument},
      {"bad skip reason", [](Upload& u) {
         u.messages.emplace_back();
         u.messages.back().mutable_skipped()->set_reason("because");
         u.End();
       }, absl::StatusCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    Upload u(job);
    u.File("first.txt", "fine");
    c.build(u);
    EXPECT_EQ(Run(u).status().code(), c.want) << c.what;
  }
  EXPECT_TRUE(CatalogPaths(job).empty());
  EXPECT_EQ(TmpFiles(), 0u);

  Upload unknown("job-202601010000-nosuch");
  unknown.File("a", "x").End();
  EXPECT_EQ(Run(unknown).status().code(), absl::StatusCode::kNotFound);
  Upload other_group(job);
  other_group.manifest().set_group("team-b");
  other_group.End();
  EXPECT_EQ(Run(other_group).status().code(), absl::StatusCode::kFailedPrecondition);
  Upload empty_stream(job);
  empty_stream.messages.clear();
  EXPECT_EQ(Run(empty_stream).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CollectorTest, RetentionFromTheManifestIsCapped) {
  std::string job = NewJob();
  Upload u(job);
  *u.manifest().mutable_retention() = ToProtoDuration(absl::Hours(24 * 1000));
  u.File("a", "x").End();
  ASSERT_TRUE(Run(u).ok());
  EXPECT_EQ(FromProtoTime(catalog_->GetFile(job, "a")->expires_at()),
            clock_.Now() + options_.max_retention);
}

// Over real gRPC: two jobs upload the same bytes at once; one blob, two
// references, both downloads correct. A client that vanishes mid-upload
// leaves nothing.
TEST_F(CollectorTest, OverGrpcConcurrentSameBytesAndCancelledClient) {
  options_.max_total_bytes = 64 << 20;  // room for a file large enough to be on disk mid-upload
  collector_ = std::make_unique<Collector>(options_, blobs_.get(), &test_catalog_.client(), &clock_,
                                           metrics_.get());
  CollectorServiceImpl service(collector_.get());
  rpc::ServerOptions so;
  so.name = "collector";
  auto server = *rpc::Server::Start(so, {{v1::Collector::service_full_name(), &service}},
                               std::make_shared<prometheus::Registry>());
  auto stub = v1::Collector::NewStub(
      grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials()));
  const std::string content(300, 's');
  std::string jobs[2] = {NewJob(), NewJob()};
  std::vector<std::thread> threads;
  for (const std::string& job : jobs) {
    threads.emplace_back([&, job] {
      grpc::ClientContext context;
      v1::UploadResponse response;
      auto writer = stub->Upload(&context, &response);
      Upload u(job);
      u.File("shared.bin", content).End();
      for (const auto& m : u.messages) writer->Write(m);
      writer->WritesDone();
      EXPECT_TRUE(writer->Finish().ok());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(catalog_->GetBlobRef(hash::Sha256::Of(content))->refcount(), 2);
  for (const std::string& job : jobs) {
    grpc::ClientContext context;
    v1::DownloadRequest request;
    request.set_job_id(job);
    request.set_path("shared.bin");
    auto reader = stub->Download(&context, request);
    std::string got;
    v1::DownloadResponse m;
    while (reader->Read(&m)) got += m.chunk();
    EXPECT_TRUE(reader->Finish().ok());
    EXPECT_EQ(got, content);
  }

  std::string job = NewJob();
  {
    grpc::ClientContext context;
    v1::UploadResponse response;
    auto writer = stub->Upload(&context, &response);
    Upload u(job);
    u.messages.emplace_back();
    u.messages.back().mutable_file()->set_path("partial.bin");
    u.messages.back().mutable_file()->set_size(32 << 20);
    for (const auto& m : u.messages) writer->Write(m);
    v1::UploadRequest chunk;
    chunk.set_chunk(std::string(1 << 20, 'p'));
    for (int i = 0; i < 12; ++i) writer->Write(chunk);
    // The collector has started writing the file before the client leaves.
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (TmpFiles() == 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
    ASSERT_GT(TmpFiles(), 0u);
    context.TryCancel();
    EXPECT_FALSE(writer->Finish().ok());
  }
  EXPECT_TRUE(CatalogPaths(job).empty());
  // The server may still be unwinding the cancelled call: wait for it.
  server->Shutdown();
  EXPECT_EQ(TmpFiles(), 0u);
}

// A blob store whose disk is full: every write fails as the local store
// fails on ENOSPC, naming its file.
class FullDiskStore : public blob::BlobStore {
 public:
  explicit FullDiskStore(blob::BlobStore* real) : real_(real) {}
  class Writer : public blob::BlobWriter {
   public:
    absl::Status Append(absl::string_view) override {
      return absl::ResourceExhaustedError("write /srv/arca/blobs/tmp/ab/x: No space left on device");
    }
    int64_t size() const override { return 0; }
    absl::StatusOr<blob::BlobInfo> Seal(absl::string_view) override { return Append(""); }
    absl::StatusOr<blob::BlobInfo> Commit(absl::string_view) override { return Append(""); }
  };
  absl::StatusOr<std::unique_ptr<blob::BlobWriter>> NewWriter() override {
    return std::unique_ptr<blob::BlobWriter>(new Writer());
  }
  absl::StatusOr<std::unique_ptr<blob::BlobReader>> OpenAt(const blob::Location& where,
                                                           absl::string_view sha, int64_t offset,
                                                           int64_t length) override {
    return real_->OpenAt(where, sha, offset, length);
  }
  absl::StatusOr<std::unique_ptr<blob::PackWriter>> NewPackWriter() override {
    return absl::ResourceExhaustedError("create /srv/arca/blobs/tmp/ab/x: No space left on device");
  }
  absl::Status Publish(const std::vector<blob::BlobWriter*>&) override { return absl::OkStatus(); }
  absl::StatusOr<std::unique_ptr<blob::BlobReader>> Open(absl::string_view sha, int64_t offset,
                                                   int64_t length) override {
    return real_->Open(sha, offset, length);
  }
  absl::StatusOr<blob::BlobInfo> Stat(absl::string_view sha) override { return real_->Stat(sha); }
  absl::Status Delete(absl::string_view sha) override { return real_->Delete(sha); }
  absl::StatusOr<bool> DeleteIfIdle(absl::string_view sha, absl::Time before) override {
    return real_->DeleteIfIdle(sha, before);
  }
  absl::Status List(const std::function<void(const blob::BlobInfo&)>& fn) override {
    return real_->List(fn);
  }
  absl::StatusOr<Space> FreeSpace() override { return real_->FreeSpace(); }

 private:
  blob::BlobStore* real_;
};

TEST_F(CollectorTest, AFullDiskIsResourceExhaustedCountedAndNamesNoServerPath) {
  FullDiskStore full(blobs_.get());
  // A small file (for a pack) and a larger one (a blob file of its own).
  options_.pack_threshold = 64;
  Collector collector(options_, &full, &test_catalog_.client(), &clock_, metrics_.get());
  int refused = 0;
  for (const std::string& content : {std::string("abc"), std::string(100, 'x')}) {
    std::string job = NewJob();
    Upload u(job);
    u.File("a.txt", content).End();
    VectorSource source(u.messages);
    auto r = collector.Upload(source);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
    EXPECT_NE(r.status().message().find("disk is full"), std::string::npos) << r.status();
    EXPECT_EQ(r.status().message().find("/srv"), std::string::npos) << r.status();
    EXPECT_EQ(Counter("arca_collector_uploads_rejected_total", "disk_full"), ++refused);
    EXPECT_TRUE(CatalogPaths(job).empty());
  }
}

// Over gRPC: a client that stalls, sending or reading, is cancelled after
// the idle timeout and gives back what it held; uploads beyond the limit
// are refused as busy at once.
TEST_F(CollectorTest, StalledStreamsAreCancelledAndUploadsAreBounded) {
  options_.max_total_bytes = 64 << 20;
  options_.max_concurrent_uploads = 2;
  collector_ = std::make_unique<Collector>(options_, blobs_.get(), &test_catalog_.client(), &clock_,
                                           metrics_.get());
  CollectorServiceImpl service(collector_.get(), absl::Milliseconds(400));
  rpc::ServerOptions so;
  so.name = "collector";
  auto server = *rpc::Server::Start(so, {{v1::Collector::service_full_name(), &service}},
                               std::make_shared<prometheus::Registry>());
  auto stub = v1::Collector::NewStub(
      grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials()));
  auto gauge = [&](const char* name) {
    for (const auto& family : registry_->Collect()) {
      if (family.name == name) return family.metric[0].gauge.value;
    }
    return -1.0;
  };
  auto eventually = [](const std::function<bool()>& done) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (!done() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
    return done();
  };
  // Two uploads that send 6 MiB of a file and then nothing.
  struct Stalled {
    grpc::ClientContext context;
    v1::UploadResponse response;
    std::unique_ptr<grpc::ClientWriter<v1::UploadRequest>> writer;
  };
  std::vector<std::unique_ptr<Stalled>> stalled;
  for (int i = 0; i < 2; ++i) {
    auto s = std::make_unique<Stalled>();
    s->writer = stub->Upload(&s->context, &s->response);
    Upload u(NewJob());
    u.messages.emplace_back();
    u.messages.back().mutable_file()->set_path("big.bin");
    u.messages.back().mutable_file()->set_size(32 << 20);
    for (const auto& m : u.messages) s->writer->Write(m);
    v1::UploadRequest chunk;
    chunk.set_chunk(std::string(1 << 20, 'p'));
    for (int k = 0; k < 6; ++k) s->writer->Write(chunk);
    stalled.push_back(std::move(s));
  }
  ASSERT_TRUE(eventually([&] { return gauge("arca_collector_uploads_in_progress") == 2; }));
  ASSERT_TRUE(eventually([&] { return TmpFiles() >= 2; }));
  // A third is refused at once.
  {
    grpc::ClientContext context;
    v1::UploadResponse response;
    auto writer = stub->Upload(&context, &response);
    Upload u(NewJob());
    u.File("a.txt", "abc").End();
    for (const auto& m : u.messages) writer->Write(m);
    writer->WritesDone();
    grpc::Status status = writer->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_NE(status.error_message().find("busy"), std::string::npos) << status.error_message();
  }
  EXPECT_EQ(Counter("arca_collector_uploads_rejected_total", "busy"), 1);
  // The stalled ones are cancelled, and their files and places go.
  for (auto& s : stalled) EXPECT_EQ(s->writer->Finish().error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(eventually([&] { return gauge("arca_collector_uploads_in_progress") == 0; }));
  EXPECT_EQ(TmpFiles(), 0u);
  // And uploads are served again.
  grpc::ClientContext context;
  v1::UploadResponse response;
  auto writer = stub->Upload(&context, &response);
  std::string job = NewJob();
  Upload u(job);
  u.File("a.txt", "abc").End();
  for (const auto& m : u.messages) writer->Write(m);
  writer->WritesDone();
  EXPECT_TRUE(writer->Finish().ok());
  EXPECT_EQ(CatalogPaths(job), std::vector<std::string>{"a.txt"});

  // A download whose client never reads is cancelled too.
  Upload big(job);
  big.File("big.bin", std::string(8 << 20, 'b')).End();
  ASSERT_TRUE(Run(big).ok());
  grpc::ClientContext download_context;
  v1::DownloadRequest request;
  request.set_job_id(job);
  request.set_path("big.bin");
  auto reader = stub->Download(&download_context, request);
  ASSERT_TRUE(eventually([&] { return gauge("arca_collector_downloads_in_progress") == 1; }));
  ASSERT_TRUE(eventually([&] { return gauge("arca_collector_downloads_in_progress") == 0; }));
  v1::DownloadResponse m;
  while (reader->Read(&m)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

}  // namespace
}  // namespace arca::collector
