// Expiring files against rm, in the same run: N files of 1 KiB (default
// 100,000, as 100 jobs of 1,000) are collected into a real catalog and
// blob store and expired by one retention-gc sweep; the same number of
// files of the same size are made in a directory tree and removed with
// rm -rf. Target: the sweep takes at most 3x as long as rm.
// Usage: expire_bench [--files=N]

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/blob/store.h"
#include "common/rpc/server.h"
#include "common/time_util.h"
#include "grpcpp/grpcpp.h"
#include "prometheus/registry.h"
#include "services/catalog/catalog_service.h"
#include "services/retention/retention_gc.h"

ABSL_FLAG(int, files, 100000, "how many files to expire");

namespace arca {
namespace {

namespace cat = ::arca::catalog::v1;
namespace fs = std::filesystem;

int Main() {
  const int files = absl::GetFlag(FLAGS_files);
  const int per_job = 1000;
  char tmpl[] = "/tmp/arca-expire-bench-XXXXXX";
  const std::string dir = mkdtemp(tmpl);

  catalog::CatalogOptions options;
  options.data_dir = dir + "/catalog";
  auto catalog = *catalog::Catalog::Open(options, Clock::Real());
  catalog::CatalogServiceImpl service(catalog.get());
  rpc::ServerOptions server_options;
  server_options.name = "bench_catalog";
  auto server = *rpc::Server::Start(server_options, {{cat::Catalog::service_full_name(), &service}},
                               std::make_shared<prometheus::Registry>());
  auto client = clients::NewCatalogClient(
      grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials()));
  auto blobs = *blob::OpenLocalBlobStore(dir + "/blobs");

  // Collected files whose jobs finished with a retention of a microsecond.
  std::string content(1024, 'x');
  for (int j = 0; j * per_job < files; ++j) {
    cat::CreateJobRequest create;
    create.mutable_job()->set_group("bench");
    *create.mutable_job()->mutable_retention() = ToProtoDuration(absl::Microseconds(1));
    const std::string job = catalog->CreateJob(create)->job().id();
    std::vector<std::unique_ptr<blob::BlobWriter>> writers;
    std::vector<blob::BlobWriter*> sealed;
    cat::CommitFilesRequest commit;
    commit.set_job_id(job);
    for (int i = 0; i < per_job && j * per_job + i < files; ++i) {
      const std::string tag = absl::StrCat(j, "/", i);
      std::copy(tag.begin(), tag.end(), content.begin());
      writers.push_back(*blobs->NewWriter());
      if (!writers.back()->Append(content).ok()) return 1;
      auto info = writers.back()->Seal();
      sealed.push_back(writers.back().get());
      cat::ArtifactFile* f = commit.add_files();
      f->set_path(absl::StrCat("out/file-", i, ".dat"));
      f->set_size(info->size);
      f->set_sha256(info->sha256);
    }
    if (!blobs->Publish(sealed).ok() || !catalog->CommitFiles(commit).ok()) return 1;
    cat::FinishJobRequest finish;
    finish.set_job_id(job);
    if (!catalog->FinishJob(finish).ok()) return 1;
  }

  // The same number of files of the same size, for rm.
  const std::string tree = dir + "/tree";
  for (int j = 0; j * per_job < files; ++j) {
    const std::string sub = absl::StrCat(tree, "/d", j);
    fs::create_directories(sub);
    for (int i = 0; i < per_job && j * per_job + i < files; ++i) {
      std::ofstream(absl::StrCat(sub, "/f", i)) << content;
    }
  }
  std::system("sync");
  const absl::Time rm_start = absl::Now();
  if (std::system(("rm -rf " + tree).c_str()) != 0) return 1;
  const absl::Duration rm_time = absl::Now() - rm_start;

  auto registry = std::make_shared<prometheus::Registry>();
  retention::RetentionMetrics metrics(*registry);
  retention::RetentionOptions gc_options;
  gc_options.grace = absl::ZeroDuration();  // the bytes go too
  retention::RetentionGc gc(gc_options, client.get(), blobs.get(), Clock::Real(), &metrics);
  const absl::Time gc_start = absl::Now();
  auto swept = gc.RunCleanup();
  const absl::Duration gc_time = absl::Now() - gc_start;
  if (!swept.ok() || swept->removed_size() != files) {
    std::fprintf(stderr, "sweep removed %d of %d files: %s\n",
                 swept.ok() ? swept->removed_size() : 0, files,
                 swept.ok() ? "" : swept.status().ToString().c_str());
    return 1;
  }
  int left = 0;
  if (!blobs->List([&](const blob::BlobInfo&) { ++left; }).ok() || left != 0) {
    std::fprintf(stderr, "%d blobs left behind\n", left);
    return 1;
  }
  const double ratio = absl::ToDoubleSeconds(gc_time) / absl::ToDoubleSeconds(rm_time);
  std::printf("expire %d files: sweep %.2f s | rm -rf %.2f s | %.2fx rm (target <= 3.00x) %s\n",
              files, absl::ToDoubleSeconds(gc_time), absl::ToDoubleSeconds(rm_time), ratio,
              ratio <= 3 ? "PASS" : "FAIL");
  server->Shutdown();
  catalog.reset();
  fs::remove_all(dir);
  return ratio <= 3 ? 0 : 1;
}

}  // namespace
}  // namespace arca

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return arca::Main();
}
