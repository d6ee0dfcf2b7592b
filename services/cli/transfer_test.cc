#include "services/cli/transfer.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/rpc/server.h"
#include "common/hash/crc32c.h"
#include "common/hash/sha256.h"
#include "common/testing/subprocess.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/catalog/catalog_testing.h"
#include "services/collector/collector_service.h"

namespace arca::cli {
namespace {

namespace fs = std::filesystem;
namespace cat = ::arca::catalog::v1;
namespace cv1 = ::arca::collector::v1;

void WriteFile(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Real catalog and collector services on free ports, as the CLI meets them.
class TransferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test_catalog_.dir();
    blobs_ = *blob::OpenLocalBlobStore(dir_ + "/blobs");
    metrics_ = std::make_unique<collector::CollectorMetrics>(*registry_);
    collector_ = std::make_unique<collector::Collector>(collector::CollectorOptions(), blobs_.get(),
                                                        &test_catalog_.client(), Clock::Real(),
                                                        metrics_.get());
    collector_service_ = std::make_unique<collector::CollectorServiceImpl>(collector_.get());
    rpc::ServerOptions so;
    so.name = "collector";
    collector_server_ = *rpc::Server::Start(
        so, {{cv1::Collector::service_full_name(), collector_service_.get()}}, registry_);
    collector_client_ = clients::NewCollectorClient(grpc::CreateChannel(
        collector_server_->address(), grpc::InsecureChannelCredentials()));
    root_ = dir_ + "/work/artifacts";
    fs::create_directories(root_);
  }
  void TearDown() override { collector_server_.reset(); }

  std::string NewJob() {
    cat::CreateJobRequest r;
    r.mutable_job()->set_group("team-a");
    return catalog_->CreateJob(r)->job().id();
  }
  std::map<std::string, std::string> Skipped(const FolderScan& scan) {
    std::map<std::string, std::string> out;
    for (const auto& s : scan.skipped) out[s.path()] = s.reason();
    return out;
  }
  std::vector<std::string> Paths(const FolderScan& scan) {
    std::vector<std::string> out;
    for (const auto& f : scan.files) out.push_back(f.path);
    return out;
  }

  catalog::TestCatalog test_catalog_;
  catalog::Catalog* catalog_ = &test_catalog_.catalog();
  std::string dir_, root_;
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  std::unique_ptr<blob::BlobStore> blobs_;
  std::unique_ptr<collector::CollectorMetrics> metrics_;
  std::unique_ptr<collector::Collector> collector_;
  std::unique_ptr<collector::CollectorServiceImpl> collector_service_;
  std::unique_ptr<rpc::Server> collector_server_;
  std::unique_ptr<clients::CollectorClient> collector_client_;
};

TEST_F(TransferTest, ScanNeverLeavesTheFolder) {
  WriteFile(root_ + "/test.txt", "hello\n");
  WriteFile(root_ + "/sub/test.txt", "hello\n");
  WriteFile(root_ + "/.env", "SECRET=1");
  WriteFile(dir_ + "/outside/secret.txt", "do not read");
  fs::create_symlink("/etc/passwd", root_ + "/passwd");
  fs::create_symlink("loop-b", root_ + "/loop-a");
  fs::create_symlink("loop-a", root_ + "/loop-b");
  fs::create_symlink(root_ + "/hop", root_ + "/chain");  // chain -> hop -> outside
  fs::create_symlink(dir_ + "/outside/secret.txt", root_ + "/hop");
  fs::create_symlink("test.txt", root_ + "/alias.txt");  // stays inside: collected
  fs::create_symlink("sub", root_ + "/subdir-link");
  ASSERT_EQ(mkfifo((root_ + "/fifo").c_str(), 0644), 0);
  auto scan = ScanFolder(root_, false);
  ASSERT_TRUE(scan.ok()) << scan.status();
  EXPECT_EQ(Paths(*scan), (std::vector<std::string>{"alias.txt", "sub/test.txt", "test.txt"}));
  auto skipped = Skipped(*scan);
  EXPECT_EQ(skipped[".env"], "hidden");
  EXPECT_EQ(skipped["passwd"], "symlink_escape");
  EXPECT_EQ(skipped["loop-a"], "symlink_escape");
  EXPECT_EQ(skipped["chain"], "symlink_escape");
  EXPECT_EQ(skipped["hop"], "symlink_escape");
  EXPECT_EQ(skipped["fifo"], "not_regular");
  EXPECT_EQ(skipped["subdir-link"], "not_regular");
  auto hidden = ScanFolder(root_, true);
  ASSERT_TRUE(hidden.ok());
  EXPECT_EQ(hidden->files.front().path, ".env");
}

// A directory swapped for a link out of the folder while collects run
// (renameat2 RENAME_EXCHANGE in a loop, as an attacker's job would) never
// gets a byte from outside the folder uploaded.
TEST_F(TransferTest, ADirectorySwappedForALinkMidCollectNeverUploadsWhatItPointsAt) {
  const std::string secret = "root:x:0:0:not to be collected\n";
  hash::Sha256 hash;
  hash.Update(secret);
  const std::string secret_sha = hash.HexDigest();
  WriteFile(dir_ + "/outside/passwd", secret);
  WriteFile(dir_ + "/outside/nested/passwd", secret);
  WriteFile(root_ + "/sub/passwd", "harmless\n");
  WriteFile(root_ + "/sub/nested/passwd", "harmless too\n");
  WriteFile(root_ + "/top.txt", "top\n");
  fs::create_symlink(dir_ + "/outside", root_ + "/swap");
  const std::string a = root_ + "/sub", b = root_ + "/swap";
  std::atomic<bool> stop{false};
  std::atomic<int> swaps{0};
  std::thread swapper([&] {
    while (!stop) {
      if (renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) == 0) ++swaps;
    }
  });
  int escapes = 0, committed = 0;
  for (int i = 0; i < 150; ++i) {
    auto scan = ScanFolder(root_, false);
    if (!scan.ok()) continue;
    cv1::UploadManifest manifest;
    manifest.set_job_id(NewJob());
    auto r = UploadFolder(*collector_client_, manifest, *scan, {}, absl::Seconds(30));
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
      continue;
    }
    ++committed;
    for (const auto& f : r->files()) {
      if (f.sha256() == secret_sha) {
        ++escapes;
        ADD_FAILURE() << "collect " << i << " uploaded " << f.path() << " from outside";
      }
    }
  }
  stop = true;
  swapper.join();
  EXPECT_EQ(escapes, 0);
  EXPECT_GT(swaps.load(), 150);
  EXPECT_GT(committed, 0);  // the race did not stop every collect
}

TEST_F(TransferTest, FolderMayBeASymlinkAndMayBeMissing) {
  WriteFile(dir_ + "/real/out.txt", "x");
  fs::remove_all(root_);
  fs::create_symlink(dir_ + "/real", root_);
  auto scan = ScanFolder(root_, false);
  ASSERT_TRUE(scan.ok());
  EXPECT_EQ(Paths(*scan), std::vector<std::string>{"out.txt"});
  auto none = ScanFolder(dir_ + "/no-such-folder", false);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->files.empty());
  WriteFile(dir_ + "/plain-file", "x");
  EXPECT_EQ(ScanFolder(dir_ + "/plain-file", false).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(TransferTest, NamesThatCannotBeArtifactPathsAreRefusedClearly) {
  WriteFile(root_ + "/bad\xff.txt", "x");
  auto s = ScanFolder(root_, false).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("not valid UTF-8"), std::string::npos) << s;
  fs::remove(root_ + "/bad\xff.txt");
  std::string deep = root_;
  for (int i = 0; i < 65; ++i) deep += "/d";
  WriteFile(deep + "/f", "x");
  EXPECT_NE(ScanFolder(root_, false).status().message().find("deep"), std::string::npos);
}

// Stands for a collector that stored other bytes than it was sent: the real
// one's answer, with one file's CRC-32C changed.
class AnswerAltering : public clients::CollectorClient {
 public:
  explicit AnswerAltering(clients::CollectorClient* real) : real_(real) {}
  std::unique_ptr<clients::UploadStream> Upload(const clients::CallOptions& call) override {
    class Stream : public clients::UploadStream {
     public:
      explicit Stream(std::unique_ptr<clients::UploadStream> real) : real_(std::move(real)) {}
      bool Write(const cv1::UploadRequest& m, bool buffer) override { return real_->Write(m, buffer); }
      absl::StatusOr<cv1::UploadResponse> Finish() override {
        auto r = real_->Finish();
        if (r.ok()) r->mutable_files(0)->set_crc32c(r->files(0).crc32c() ^ 1);
        return r;
      }
      void Cancel() override { real_->Cancel(); }

     private:
      std::unique_ptr<clients::UploadStream> real_;
    };
    return std::make_unique<Stream>(real_->Upload(call));
  }
  std::unique_ptr<clients::DownloadStream> Download(const cv1::DownloadRequest& r,
                                                    const clients::CallOptions& call) override {
    return real_->Download(r, call);
  }

 private:
  clients::CollectorClient* real_;
};

// The collector answers each file's CRC-32C; the CLI checks it against the
// bytes it read (instead of hashing them with SHA-256 a second time).
TEST_F(TransferTest, WhatWasStoredIsCheckedAgainstWhatWasRead) {
  WriteFile(root_ + "/big.bin", std::string(3 << 20, 'b'));
  WriteFile(root_ + "/small.txt", "hello\n");
  auto scan = ScanFolder(root_, false);
  cv1::UploadManifest manifest;
  manifest.set_job_id(NewJob());
  auto r = UploadFolder(*collector_client_, manifest, *scan, {}, absl::Seconds(30));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->files_size(), 2);
  EXPECT_EQ(r->files(0).crc32c(), hash::Crc32c(std::string(3 << 20, 'b')));
  EXPECT_EQ(r->files(1).crc32c(), hash::Crc32c("hello\n"));

  AnswerAltering altering(collector_client_.get());
  manifest.set_job_id(NewJob());
  auto altered = UploadFolder(altering, manifest, *scan, {}, absl::Seconds(30));
  EXPECT_EQ(altered.status().code(), absl::StatusCode::kDataLoss) << altered.status();
  EXPECT_NE(altered.status().message().find("big.bin was stored with CRC-32C"), std::string::npos)
      << altered.status();
}

TEST_F(TransferTest, UploadThenDownloadAndResume) {
  std::string job = NewJob();
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  WriteFile(root_ + "/big.bin", big);
  WriteFile(root_ + "/small.txt", "hello\n");
  auto scan = ScanFolder(root_, false);
  cv1::UploadManifest manifest;
  manifest.set_job_id(job);
  auto r = UploadFolder(*collector_client_, manifest, *scan, {}, absl::Seconds(30));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->files_size(), 2);

  const std::string out = dir_ + "/got.bin";
  ASSERT_TRUE(DownloadFile(*collector_client_, job, "big.bin", out, absl::Seconds(30)).ok());
  EXPECT_EQ(ReadFile(out), big);
  EXPECT_FALSE(fs::exists(out + ".part"));

  // An interrupted earlier attempt left the first megabyte: it is resumed.
  WriteFile(out + ".part", big.substr(0, 1 << 20));
  fs::remove(out);
  ASSERT_TRUE(DownloadFile(*collector_client_, job, "big.bin", out, absl::Seconds(30)).ok());
  EXPECT_EQ(ReadFile(out), big);

  // A partial file that is not a prefix of the real one is caught.
  WriteFile(out + ".part", "garbage");
  absl::Status bad = DownloadFile(*collector_client_, job, "big.bin", out, absl::Seconds(30));
  EXPECT_EQ(bad.code(), absl::StatusCode::kDataLoss) << bad;
  EXPECT_FALSE(fs::exists(out + ".part"));

  EXPECT_EQ(DownloadFile(*collector_client_, job, "nope.bin", out, absl::Seconds(30)).code(),
            absl::StatusCode::kNotFound);
}

TEST_F(TransferTest, DownloadIntoAPipeWritesThroughAndNeverReplacesIt) {
  std::string job = NewJob();
  WriteFile(root_ + "/small.txt", "hello\n");
  cv1::UploadManifest manifest;
  manifest.set_job_id(job);
  ASSERT_TRUE(UploadFolder(*collector_client_, manifest, *ScanFolder(root_, false), {}, absl::Seconds(30)).ok());
  // As `arca get JOB small.txt -o /dev/null` (or a FIFO) would.
  const std::string fifo = dir_ + "/pipe";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::string got;
  std::thread reader([&] { got = ReadFile(fifo); });
  absl::Status s = DownloadFile(*collector_client_, job, "small.txt", fifo, absl::Seconds(30));
  reader.join();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(got, "hello\n");
  struct stat st;
  ASSERT_EQ(stat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_FALSE(fs::exists(fifo + ".part"));
}

// gh run download -D DIR -p GLOB: a job's tree, through the real binary.
TEST_F(TransferTest, GetDownloadsAJobsTreeOrTheFilesAPatternNames) {
  const char* bin = std::getenv("ARCA_BIN_ARCA");
  ASSERT_NE(bin, nullptr);
  std::string job = NewJob();
  WriteFile(root_ + "/out/a.csv", "a\n");
  WriteFile(root_ + "/out/deep/b.csv", "bb\n");
  WriteFile(root_ + "/model.bin", std::string(100000, 'm'));
  cv1::UploadManifest manifest;
  manifest.set_job_id(job);
  ASSERT_TRUE(UploadFolder(*collector_client_, manifest, *ScanFolder(root_, false),
                           {{".arca/logs/job.log", root_ + "/model.bin"}}, absl::Seconds(30))
                  .ok());
  // Its standard output and error, together.
  auto arca = [&](std::vector<std::string> args, int want) {
    args.insert(args.begin(), {"/bin/sh", "-c", "exec \"$0\" \"$@\" 1>&2", bin,
                               "--catalog=" + test_catalog_.address(),
                               "--collector=" + collector_server_->address()});
    testing::Subprocess p;
    EXPECT_TRUE(p.Start(args).ok());
    const int status = p.Wait(absl::Seconds(60));
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == want) << p.output();
    return p.output();
  };
  const std::string all = dir_ + "/all";
  // A partial file an earlier attempt left is resumed, not fetched again.
  WriteFile(all + "/model.bin.part", std::string(40000, 'm'));
  EXPECT_NE(arca({"get", job, "-D", all}, 0).find("wrote 3 file(s), 97.7 KiB into " + all), std::string::npos);
  EXPECT_EQ(ReadFile(all + "/out/a.csv"), "a\n");
  EXPECT_EQ(ReadFile(all + "/out/deep/b.csv"), "bb\n");
  EXPECT_EQ(ReadFile(all + "/model.bin"), std::string(100000, 'm'));
  EXPECT_FALSE(fs::exists(all + "/model.bin.part"));
  EXPECT_FALSE(fs::exists(all + "/.arca")) << "the log is not an output";

  const std::string some = dir_ + "/some";
  arca({"get", job, "--dir=" + some, "-p", "*.csv", "--pattern=.arca/logs/*"}, 0);
  EXPECT_TRUE(fs::exists(some + "/out/deep/b.csv"));  // '*' crosses '/'
  EXPECT_TRUE(fs::exists(some + "/.arca/logs/job.log"));
  EXPECT_FALSE(fs::exists(some + "/model.bin"));

  // A file to standard output; a damaged partial file is not trusted.
  EXPECT_EQ(arca({"get", job, "out/a.csv", "-"}, 0), "a\n");
  WriteFile(dir_ + "/b.csv.part", "XXX");
  EXPECT_NE(arca({"get", job, "out/deep/b.csv", dir_ + "/b.csv"}, 1).find("DATA_LOSS"), std::string::npos);
  EXPECT_NE(arca({"get", job, "out/a.csv", "-D", some}, 2).find("usage: arca get"), std::string::npos);
  EXPECT_NE(arca({"get", job}, 2).find("usage: arca get"), std::string::npos);
}

// As rclone -P and curl: progress on stderr when it is a terminal (here a
// pseudo-terminal made by script(1)), never when it is not, nor with -q.
TEST_F(TransferTest, ProgressShowsOnATerminalOnly) {
  const char* bin = std::getenv("ARCA_BIN_ARCA");
  ASSERT_NE(bin, nullptr);
  WriteFile(root_ + "/big.bin", std::string(12 << 20, 'p'));
  WriteFile(root_ + "/small.txt", "s\n");
  auto collect = [&](const std::string& job, const std::string& flags, bool terminal) {
    const std::string command =
        absl::StrCat(bin, " --catalog=", test_catalog_.address(), " --collector=",
                     collector_server_->address(), " collect ", root_, " --job ", job, " ", flags);
    testing::Subprocess p;
    if (terminal) {
      // script copies the terminal's output to its own standard output.
      EXPECT_TRUE(p.Start({"/bin/sh", "-c", "exec /usr/bin/script -qec \"$0\" /dev/null 1>&2", command}).ok());
    } else {
      EXPECT_TRUE(p.Start({"/bin/sh", "-c", command + " 1>&2"}).ok());
    }
    const int status = p.Wait(absl::Seconds(60));
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << p.output();
    return p.output();
  };
  const std::string shown = collect(NewJob(), "", true);
  EXPECT_NE(shown.find("\rcollect 12.0 MiB / 12.0 MiB (100%)  2/2 files  "), std::string::npos) << shown;
  EXPECT_NE(shown.find("/s  in "), std::string::npos) << shown;
  EXPECT_NE(shown.find("collected 2 file(s)"), std::string::npos) << shown;
  const std::string quiet = collect(NewJob(), "-q", true);
  EXPECT_EQ(quiet.find("\rcollect"), std::string::npos) << quiet;
  EXPECT_NE(quiet.find("collected 2 file(s)"), std::string::npos) << quiet;
  const std::string piped = collect(NewJob(), "", false);
  EXPECT_EQ(piped.find("\rcollect"), std::string::npos) << piped;
}

TEST_F(TransferTest, AFileThatChangesWhileReadAbortsTheUpload) {
  std::string job = NewJob();
  WriteFile(root_ + "/growing.log", std::string(8 << 20, 'g'));
  auto scan = ScanFolder(root_, false);
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    std::ofstream out(root_ + "/growing.log", std::ios::app);
    while (!stop) out << 'x' << std::flush;
  });
  cv1::UploadManifest manifest;
  manifest.set_job_id(job);
  auto r = UploadFolder(*collector_client_, manifest, *scan, {}, absl::Seconds(30));
  stop = true;
  writer.join();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  EXPECT_NE(r.status().message().find("changed while it was read"), std::string::npos);
  cat::ListFilesRequest list;
  list.set_job_id(job);
  EXPECT_EQ(catalog_->ListFiles(list)->files_size(), 0);
}

// `arca run` end to end, through the real binary: PrimeHub's journey, the
// command's exit code, and SIGTERM.
TEST_F(TransferTest, ArcaRunCollectsAndPassesTheExitCodeThrough) {
  const char* bin = std::getenv("ARCA_BIN_ARCA");
  ASSERT_NE(bin, nullptr);
  const std::string work = dir_ + "/work";
  fs::remove_all(root_);
  testing::Subprocess run;
  ASSERT_TRUE(run.Start({bin, "--catalog=" + test_catalog_.address(),
                         "--collector=" + collector_server_->address(),
                         "run", "--job=job-primehub-journey", "--artifacts=" + root_, "--",
                         "sh", "-c",
                         absl::StrCat("cd ", work, " && mkdir -p artifacts/sub && echo hello > "
                                      "artifacts/test.txt && echo hello > artifacts/sub/test.txt "
                                      "&& echo done >&2 && exit 3")})
                  .ok());
  int status = run.Wait(absl::Seconds(60));
  ASSERT_TRUE(WIFEXITED(status)) << run.output();
  EXPECT_EQ(WEXITSTATUS(status), 3) << run.output();
  auto job = catalog_->GetJob("job-primehub-journey");
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->status(), types::v1::JOB_STATUS_FAILURE);
  EXPECT_TRUE(job->has_finished_at());
  ASSERT_EQ(job->steps_size(), 3);
  EXPECT_EQ(job->steps(1).text(), "exit code 3");
  EXPECT_EQ(job->steps(2).status(), types::v1::STEP_STATUS_SUCCESS);
  EXPECT_EQ(catalog_->GetFile(job->id(), "test.txt")->size(), 6);
  EXPECT_EQ(catalog_->GetFile(job->id(), "sub/test.txt")->sha256(), hash::Sha256::Of("hello\n"));
  EXPECT_EQ(catalog_->GetFile(job->id(), ".arca/logs/job.log")->size(), 5);  // "done\n"
}

// PrimeHub's limits count the user's files: exactly 1,000 and the job's log
// all go up; one more is skipped with a message, and the job keeps the
// command's outcome.
TEST_F(TransferTest, ArcaRunAtTheFileLimitKeepsTheLogAndSkipsWhatIsOver) {
  const char* bin = std::getenv("ARCA_BIN_ARCA");
  ASSERT_NE(bin, nullptr);
  ASSERT_EQ(collector::CollectorOptions().max_files, 1000);
  for (int i = 0; i < 1000; ++i) WriteFile(absl::StrCat(root_, "/f", 1000 + i, ".txt"), "x");
  auto run = [&](const std::string& job) {
    testing::Subprocess arca;
    EXPECT_TRUE(arca.Start({bin, "--catalog=" + test_catalog_.address(),
                            "--collector=" + collector_server_->address(), "run", "--job=" + job,
                            "--artifacts=" + root_, "--", "sh", "-c", "echo ran; exit 4"})
                    .ok());
    const int status = arca.Wait(absl::Seconds(120));
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 4) << arca.output();
    return arca.output();
  };
  auto count = [&](const std::string& job) {
    cat::ListFilesRequest list;
    list.set_job_id(job);
    list.set_page_size(1000);
    size_t n = 0;
    for (;;) {
      auto page = catalog_->ListFiles(list);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) return n;
      n += page->files_size();
      if (page->next_page_token().empty()) return n;
      list.set_page_token(page->next_page_token());
    }
  };
  run("job-at-limit");
  EXPECT_EQ(count("job-at-limit"), 1001u);
  EXPECT_EQ(catalog_->GetFile("job-at-limit", ".arca/logs/job.log")->size(), 4);  // "ran\n"
  EXPECT_EQ(catalog_->GetJob("job-at-limit")->steps(2).status(), types::v1::STEP_STATUS_SUCCESS);

  WriteFile(root_ + "/f2000.txt", "one too many");
  const std::string output = run("job-over-limit");
  EXPECT_NE(output.find("arca: skipped f2000.txt: over_count (limit is 1000 files)"), std::string::npos)
      << output;
  EXPECT_EQ(count("job-over-limit"), 1001u);
  EXPECT_TRUE(catalog_->GetFile("job-over-limit", ".arca/logs/job.log").ok());
  auto job = catalog_->GetJob("job-over-limit");
  EXPECT_EQ(job->status(), types::v1::JOB_STATUS_FAILURE) << "the command's outcome (exit 4)";
  EXPECT_EQ(job->steps(2).status(), types::v1::STEP_STATUS_WARNING);
  EXPECT_EQ(job->steps(2).text(), "1000 files, 1 skipped");
}

TEST_F(TransferTest, ArcaRunKeepsTheLogAndTheOutcomeWhenTheArtifactsCannotGoUp) {
  const char* bin = std::getenv("ARCA_BIN_ARCA");
  ASSERT_NE(bin, nullptr);
  // A file that grows while it is read aborts the artifacts' upload.
  WriteFile(root_ + "/growing.log", std::string(8 << 20, 'g'));
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    std::ofstream out(root_ + "/growing.log", std::ios::app);
    while (!stop) out << 'x' << std::flush;
  });
  testing::Subprocess arca;
  ASSERT_TRUE(arca.Start({bin, "--catalog=" + test_catalog_.address(),
                          "--collector=" + collector_server_->address(), "run", "--job=job-no-artifacts",
                          "--artifacts=" + root_, "--", "sh", "-c", "echo ran"})
                  .ok());
  const int status = arca.Wait(absl::Seconds(120));
  stop = true;
  writer.join();
  ASSERT_TRUE(WIFEXITED(status)) << arca.output();
  EXPECT_EQ(WEXITSTATUS(status), 0) << arca.output();
  EXPECT_NE(arca.output().find("the artifacts were not collected"), std::string::npos) << arca.output();
  auto job = catalog_->GetJob("job-no-artifacts");
  EXPECT_EQ(job->status(), types::v1::JOB_STATUS_SUCCESS);
  EXPECT_EQ(job->steps(2).status(), types::v1::STEP_STATUS_WARNING);
  EXPECT_NE(job->steps(2).text().find("changed while it was read"), std::string::npos) << job->steps(2).text();
  EXPECT_EQ(catalog_->GetFile("job-no-artifacts", ".arca/logs/job.log")->size(), 4);
  EXPECT_FALSE(catalog_->GetFile("job-no-artifacts", "growing.log").ok());
}

// As OpenSAFELY's job-runner: a finished job run again with the same
// command is done already; another command under its id is refused.
TEST_F(TransferTest, ArcaRunOfAFinishedJobIsSkippedNotRepeated) {
  const char* bin = std::getenv("ARCA_BIN_ARCA");
  ASSERT_NE(bin, nullptr);
  const std::string marker = dir_ + "/ran";
  auto run = [&](const std::string& script, int* code) {
    testing::Subprocess arca;
    EXPECT_TRUE(arca.Start({bin, "--catalog=" + test_catalog_.address(),
                            "--collector=" + collector_server_->address(), "run", "--job=job-once",
                            "--artifacts=" + root_, "--", "sh", "-c", script})
                    .ok());
    const int status = arca.Wait(absl::Seconds(60));
    *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return arca.output();
  };
  int code = 0;
  const std::string script = "echo x >> " + marker + "; exit 2";
  run(script, &code);
  EXPECT_EQ(code, 2);
  EXPECT_EQ(catalog_->GetJob("job-once")->command(), "sh -c 'echo x >> " + marker + "; exit 2'");
  std::string output = run(script, &code);
  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find("arca: job job-once already done (failure); not run again"), std::string::npos)
      << output;
  EXPECT_EQ(ReadFile(marker), "x\n") << "the command did not run again";
  EXPECT_EQ(catalog_->GetJob("job-once")->steps_size(), 3);
  output = run("echo another", &code);
  EXPECT_EQ(code, 1) << output;
  EXPECT_NE(output.find("already exists with a different spec"), std::string::npos) << output;
}

TEST_F(TransferTest, ArcaRunWithABadPatternRunsNothing) {
  const char* bin = std::getenv("ARCA_BIN_ARCA");
  ASSERT_NE(bin, nullptr);
  const std::string marker = dir_ + "/ran";
  testing::Subprocess arca;
  ASSERT_TRUE(arca.Start({bin, "--catalog=" + test_catalog_.address(),
                          "--collector=" + collector_server_->address(), "run", "--job=job-bad-pattern",
                          "--pattern=*.tmp::sometimes", "--", "touch", marker})
                  .ok());
  const int status = arca.Wait(absl::Seconds(60));
  ASSERT_TRUE(WIFEXITED(status)) << arca.output();
  EXPECT_NE(WEXITSTATUS(status), 0) << arca.output();
  EXPECT_NE(arca.output().find("--pattern strategy must be"), std::string::npos) << arca.output();
  EXPECT_FALSE(fs::exists(marker)) << "the command never ran";
  EXPECT_TRUE(absl::IsNotFound(catalog_->GetJob("job-bad-pattern").status())) << "no job was made";
}

TEST_F(TransferTest, ArcaRunOnSigtermStillCollectsAndFinishes) {
  const char* bin = std::getenv("ARCA_BIN_ARCA");
  ASSERT_NE(bin, nullptr);
  WriteFile(root_ + "/partial.txt", "written before the kill");
  testing::Subprocess run;
  ASSERT_TRUE(run.Start({bin, "--catalog=" + test_catalog_.address(),
                         "--collector=" + collector_server_->address(), "run", "--job=job-sigterm",
                         "--artifacts=" + root_, "--", "sleep", "600"})
                  .ok());
  // Wait until the command runs, then stop arca as an orchestrator would.
  const absl::Time end = absl::Now() + absl::Seconds(30);
  for (;;) {
    auto job = catalog_->GetJob("job-sigterm");
    if (job.ok() && job->steps_size() >= 2 &&
        job->steps(1).status() == types::v1::STEP_STATUS_RUNNING) {
      break;
    }
    ASSERT_LT(absl::Now(), end) << run.output();
    std::this_thread::yield();
  }
  run.Signal(SIGTERM);
  int status = run.Wait(absl::Seconds(60));
  ASSERT_TRUE(WIFEXITED(status)) << run.output();
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM);
  auto job = catalog_->GetJob("job-sigterm");
  EXPECT_TRUE(job->has_finished_at());
  EXPECT_EQ(job->steps(1).text(), "killed by signal 15 (Terminated)");
  EXPECT_TRUE(catalog_->GetFile("job-sigterm", "partial.txt").ok());
}

}  // namespace
}  // namespace arca::cli
