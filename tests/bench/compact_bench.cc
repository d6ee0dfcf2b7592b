// Compacting a pack against cp, in the same run: a pack of N files of 4 KiB
// (default 20,000) is committed to a real catalog, every other file is
// deleted and its blob released, and one retention-gc sweep rewrites the
// pack with the live half (read and checked, written to a new pack file,
// the pack switched to it in one catalog write). The baseline copies the same
// live bytes, as one file, with cp and makes the copy durable (sync).
// Target: the sweep takes at most 2x as long as cp.
// Usage: compact_bench [--files=N] [--dir=DIR]   (DIR: on the disk to measure)

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
#include "common/hash/sha256.h"
#include "common/rpc/server.h"
#include "common/time_util.h"
#include "grpcpp/grpcpp.h"
#include "prometheus/registry.h"
#include "services/catalog/catalog_service.h"
#include "services/retention/retention_gc.h"

ABSL_FLAG(int, files, 20000, "files in the pack; every other one is deleted");
ABSL_FLAG(std::string, dir, "/tmp", "where the catalog, the pack and the copies go");

namespace arca {
namespace {

namespace cat = ::arca::catalog::v1;
namespace fs = std::filesystem;

int Main() {
  const int files = absl::GetFlag(FLAGS_files);
  const std::string dir = absl::StrCat(absl::GetFlag(FLAGS_dir), "/arca-compact-bench-",
                                       absl::ToUnixNanos(absl::Now()));
  fs::create_directories(dir);

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

  // One upload's pack of small files, committed as the collector commits.
  cat::CreateJobRequest create;
  create.mutable_job()->set_group("bench");
  const std::string job = catalog->CreateJob(create)->job().id();
  auto pack = *blobs->NewPackWriter();
  cat::CommitFilesRequest commit;
  commit.set_job_id(job);
  std::string content(4096, 'x');
  std::ofstream live(dir + "/live.bin", std::ios::binary);
  for (int i = 0; i < files; ++i) {
    const std::string tag = absl::StrCat(i, "/");
    std::copy(tag.begin(), tag.end(), content.begin());
    const std::string sha = hash::Sha256::Of(content);
    auto where = pack->Add(sha, content);
    if (!where.ok()) return 1;
    cat::ArtifactFile* f = commit.add_files();
    f->set_path(absl::StrCat("out/file-", i, ".dat"));
    f->set_size(static_cast<int64_t>(content.size()));
    f->set_sha256(sha);
    f->mutable_location()->set_pack(where->pack);
    f->mutable_location()->set_offset(where->offset);
    if (i % 2 == 1) live << content;
  }
  live.close();
  if (!pack->Publish().ok()) return 1;
  cat::Pack* p = commit.add_new_packs();
  p->set_name(pack->name());
  p->set_size(pack->size());
  p->set_blobs(files);
  p->set_blob_bytes(static_cast<int64_t>(files) * 4096);
  if (!catalog->CommitFiles(commit).ok()) return 1;

  auto registry = std::make_shared<prometheus::Registry>();
  retention::RetentionMetrics metrics(*registry);
  retention::RetentionOptions gc_options;
  gc_options.compact_below = 0.75;  // exactly half live is not below the default's half
  retention::RetentionGc gc(gc_options, client.get(), blobs.get(), Clock::Real(), &metrics);
  // A sweep with nothing to do, for what a sweep costs besides compaction.
  const absl::Time idle_start = absl::Now();
  if (!gc.RunCleanup().ok()) return 1;
  const absl::Duration idle_time = absl::Now() - idle_start;

  // Every other file deleted and its blob released: the pack half dead.
  cat::MarkFilesDeletedRequest del;
  del.set_job_id(job);
  for (int i = 0; i < files; i += 2) del.add_paths(absl::StrCat("out/file-", i, ".dat"));
  auto marked = catalog->MarkFilesDeleted(del);
  if (!marked.ok()) return 1;
  for (const std::string& sha : marked->unreferenced_blobs()) {
    cat::ForgetBlobRequest forget;
    forget.set_sha256(sha);
    *forget.mutable_unreferenced_before() = ToProtoTime(absl::Now() + absl::Seconds(1));
    if (!catalog->ForgetBlob(forget).ok()) return 1;
  }

  // cp of the live bytes, made durable.
  std::system("sync");
  const absl::Time cp_start = absl::Now();
  if (std::system(("cp " + dir + "/live.bin " + dir + "/copy.bin && sync").c_str()) != 0) return 1;
  const absl::Duration cp_time = absl::Now() - cp_start;

  const absl::Time gc_start = absl::Now();
  auto swept = gc.RunCleanup();
  const absl::Duration gc_time = absl::Now() - gc_start;
  if (!swept.ok() || swept->packs_compacted() != 1 || swept->errors() != 0) {
    std::fprintf(stderr, "the sweep did not compact the pack: %s\n",
                 swept.ok() ? "" : swept.status().ToString().c_str());
    return 1;
  }
  // The live files read back from the new pack.
  for (int i = 1; i < files; i += 2 * std::max(1, files / 200)) {
    auto f = catalog->GetFile(job, absl::StrCat("out/file-", i, ".dat"));
    if (!f.ok() || f->location().pack() == pack->name()) return 1;
    auto r = blob::OpenRecorded(*blobs, f->path(), f->sha256(), f->size(),
                                {f->location().pack(), f->location().offset()}, 0, -1);
    std::string bytes;
    if (!r.ok() || !(*r)->Read(&bytes).ok() || hash::Sha256::Of(bytes) != f->sha256()) {
      std::fprintf(stderr, "file %d does not read back after compaction\n", i);
      return 1;
    }
  }
  const double ratio = absl::ToDoubleSeconds(gc_time) / absl::ToDoubleSeconds(cp_time);
  std::printf(
      "compact a pack of %d x 4 KiB, half dead: sweep %.3f s | cp;sync of the %d MiB live %.3f s "
      "| %.2fx cp (target <= 2.00x) %s; a sweep with nothing to do %.3f s\n",
      files, absl::ToDoubleSeconds(gc_time), files * 2 / 1024, absl::ToDoubleSeconds(cp_time),
      ratio, ratio <= 2 ? "PASS" : "FAIL", absl::ToDoubleSeconds(idle_time));
  server->Shutdown();
  catalog.reset();
  fs::remove_all(dir);
  return ratio <= 2 ? 0 : 1;
}

}  // namespace
}  // namespace arca

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return arca::Main();
}
