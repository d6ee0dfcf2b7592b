// The catalog at scale against itself small, in the same run. A generator
// writes file records through the catalog library (no RPC), 100 files per
// job: first 10,000 records (100 jobs), then --jobs x --files_per_job
// (default 10,000,000 in 100,000 jobs). In each, 1,000 files (10 in each of
// 100 jobs spread over the catalog) expire an hour from now; the rest in a
// month. Once its compactions have settled, with the catalog reopened as a service runs it (synced
// writes) behind a real gRPC server and retention-gc as its client:
//  - a sweep with nothing due: target under 1 s at full size;
//  - point lookups (GetJob, GetFile of random records) as clients make
//    them, over gRPC: target, full size within 2x of the small one's time.
//    The same lookups in process, through the library, are printed too: at
//    full size the records no longer fit the block cache, which a lookup
//    over gRPC hardly notices and one in process does;
//  - a sweep two hours later, which expires the 1,000 files: target, full
//    size within 2x of the small one's time;
//  - resident memory after each phase (printed; bounded by the block cache
//    and memtables, not by the records).
// Usage: scale_bench [--jobs=N] [--files_per_job=N] [--lookups=N]

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/blob/store.h"
#include "common/clients/catalog.h"
#include "common/rpc/server.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "grpcpp/grpcpp.h"
#include "prometheus/registry.h"
#include "services/catalog/catalog_service.h"
#include "services/retention/retention_gc.h"

ABSL_FLAG(int, jobs, 100000, "jobs in the full-size catalog");
ABSL_FLAG(int, files_per_job, 100, "file records per job");
ABSL_FLAG(int, lookups, 20000, "random point lookups of each kind");

namespace arca {
namespace {

namespace cat = ::arca::catalog::v1;
namespace fs = std::filesystem;

constexpr int kDueJobs = 100, kDuePerJob = 10;

std::string JobId(int j) { return absl::StrFormat("job-%06d", j); }
std::string FilePath(int i) { return absl::StrFormat("out/part-%02d/file-%03d.dat", i % 10, i); }

// Resident and peak resident memory of this process, in MiB.
std::string Memory() {
  std::ifstream status("/proc/self/status");
  std::string line, rss = "?", hwm = "?";
  while (std::getline(status, line)) {
    auto kib = [&] { return absl::StrFormat("%.0f", std::stod(line.substr(6)) / 1024); };
    if (line.rfind("VmRSS:", 0) == 0) rss = kib();
    if (line.rfind("VmHWM:", 0) == 0) hwm = kib();
  }
  return absl::StrCat("RSS ", rss, " MiB (peak ", hwm, " MiB)");
}

struct Figures {
  double idle_sweep_s = 0, due_sweep_s = 0;
  double get_job_us = 0, get_file_us = 0, rpc_get_job_us = 0, rpc_get_file_us = 0;
};

class Scale {
 public:
  Scale(int jobs, int files_per_job) : jobs_(jobs), files_per_job_(files_per_job) {
    char tmpl[] = "/tmp/arca-scale-bench-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  ~Scale() { fs::remove_all(dir_); }

  int64_t records() const { return int64_t{jobs_} * files_per_job_; }

  // Writes every record with unsynced writes, as a bulk load would, then
  // lets RocksDB finish compacting, as a catalog that has run a while has.
  absl::Status Fill(absl::Time now) {
    catalog::CatalogOptions options = Options();
    options.sync_writes = false;
    ASSIGN_OR_RETURN(auto catalog, catalog::Catalog::Open(options, Clock::Real()));
    ASSIGN_OR_RETURN(auto blobs, blob::OpenLocalBlobStore(dir_ + "/blobs"));
    const int due_every = std::max(1, jobs_ / kDueJobs);
    const std::string content(1024, 'x');
    for (int j = 0; j < jobs_; ++j) {
      cat::CreateJobRequest create;
      create.mutable_job()->set_id(JobId(j));
      create.mutable_job()->set_group("bench");
      RETURN_IF_ERROR(catalog->CreateJob(create).status());
      cat::CommitFilesRequest commit;
      commit.set_job_id(JobId(j));
      const bool due_job = j % due_every == 0 && j / due_every < kDueJobs;
      std::vector<std::unique_ptr<blob::BlobWriter>> writers;
      std::vector<blob::BlobWriter*> sealed;
      for (int i = 0; i < files_per_job_; ++i) {
        cat::ArtifactFile* f = commit.add_files();
        f->set_path(FilePath(i));
        f->set_size(1024);
        if (due_job && i < kDuePerJob) {  // real bytes, deleted by the sweep
          writers.push_back(*blobs->NewWriter());
          RETURN_IF_ERROR(writers.back()->Append(absl::StrCat(j, "/", i, content)));
          ASSIGN_OR_RETURN(blob::BlobInfo info, writers.back()->Seal());
          sealed.push_back(writers.back().get());
          f->set_sha256(info.sha256);
          *f->mutable_expires_at() = ToProtoTime(now + absl::Hours(1));
        } else {
          f->set_sha256(absl::StrFormat("%016x%016x%032x", j, i, 0xa5ca1e));
          *f->mutable_expires_at() = ToProtoTime(now + absl::Hours(24 * 30));
        }
      }
      RETURN_IF_ERROR(blobs->Publish(sealed));
      RETURN_IF_ERROR(catalog->CommitFiles(commit).status());
    }
    RETURN_IF_ERROR(catalog->Flush());
    const absl::Time deadline = absl::Now() + absl::Minutes(20);
    while (catalog->GetIntProperty("rocksdb.compaction-pending") != 0 ||
           catalog->GetIntProperty("rocksdb.num-running-compactions") != 0) {
      if (absl::Now() > deadline) return absl::DeadlineExceededError("compactions never settled");
      absl::SleepFor(absl::Milliseconds(100));
    }
    return absl::OkStatus();
  }

  // Reopens the catalog as a service runs it and measures.
  absl::StatusOr<Figures> Measure(absl::Time now, int lookups) {
    Figures out;
    ASSIGN_OR_RETURN(auto catalog, catalog::Catalog::Open(Options(), Clock::Real()));
    catalog::CatalogServiceImpl service(catalog.get());
    rpc::ServerOptions server_options;
    server_options.name = "bench_catalog";
    ASSIGN_OR_RETURN(auto server,
                     rpc::Server::Start(server_options, {{cat::Catalog::service_full_name(), &service}},
                                        std::make_shared<prometheus::Registry>()));
    auto client = clients::NewCatalogClient(
        grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials()));
    ASSIGN_OR_RETURN(auto blobs, blob::OpenLocalBlobStore(dir_ + "/blobs"));
    prometheus::Registry registry;
    retention::RetentionMetrics metrics(registry);
    retention::RetentionOptions gc_options;
    gc_options.grace = absl::ZeroDuration();  // the bytes go with their records
    FakeClock clock(now);
    retention::RetentionGc gc(gc_options, client.get(), blobs.get(), &clock, &metrics);

    absl::Time start = absl::Now();
    ASSIGN_OR_RETURN(auto idle, gc.RunCleanup());
    out.idle_sweep_s = absl::ToDoubleSeconds(absl::Now() - start);
    if (idle.removed_size() != 0 || idle.errors() != 0) {
      return absl::InternalError(absl::StrCat("the idle sweep removed ", idle.removed_size(),
                                              " files with ", idle.errors(), " errors"));
    }

    // Mean microseconds of `n` calls of `lookup` on random records, after
    // as many to warm the caches.
    std::mt19937 random(7);
    auto job = [&] { return JobId(static_cast<int>(random() % jobs_)); };
    auto file = [&] { return FilePath(static_cast<int>(random() % files_per_job_)); };
    auto time = [](int n, const std::function<absl::Status()>& lookup) -> absl::StatusOr<double> {
      for (int i = 0; i < n; ++i) RETURN_IF_ERROR(lookup());
      const absl::Time start = absl::Now();
      for (int i = 0; i < n; ++i) RETURN_IF_ERROR(lookup());
      return absl::ToDoubleMicroseconds(absl::Now() - start) / n;
    };
    ASSIGN_OR_RETURN(out.get_job_us,
                     time(lookups, [&] { return catalog->GetJob(job()).status(); }));
    ASSIGN_OR_RETURN(out.get_file_us,
                     time(lookups, [&] { return catalog->GetFile(job(), file()).status(); }));
    const int rpc_lookups = std::max(1, lookups / 4);
    ASSIGN_OR_RETURN(out.rpc_get_job_us, time(rpc_lookups, [&] {
                       cat::GetJobRequest get;
                       get.set_id(job());
                       return client->GetJob(get).status();
                     }));
    ASSIGN_OR_RETURN(out.rpc_get_file_us, time(rpc_lookups, [&] {
                       cat::GetFileRequest get;
                       get.set_job_id(job());
                       get.set_path(file());
                       return client->GetFile(get).status();
                     }));

    clock.Set(now + absl::Hours(2));
    start = absl::Now();
    ASSIGN_OR_RETURN(auto due, gc.RunCleanup());
    out.due_sweep_s = absl::ToDoubleSeconds(absl::Now() - start);
    const int expected = std::min(jobs_, kDueJobs) * std::min(files_per_job_, kDuePerJob);
    if (due.removed_size() != expected || due.errors() != 0 || due.blobs_deleted() != expected) {
      return absl::InternalError(absl::StrCat("the due sweep removed ", due.removed_size(), " of ",
                                              expected, " files (", due.blobs_deleted(),
                                              " blobs) with ", due.errors(), " errors"));
    }
    server->Shutdown();
    return out;
  }

 private:
  catalog::CatalogOptions Options() const {
    catalog::CatalogOptions options;
    options.data_dir = dir_ + "/catalog";
    return options;
  }

  int jobs_, files_per_job_;
  std::string dir_;
};

absl::StatusOr<Figures> Run(const char* label, int jobs, int files_per_job, int lookups) {
  Scale scale(jobs, files_per_job);
  const absl::Time now = absl::Now();
  const absl::Time start = absl::Now();
  RETURN_IF_ERROR(scale.Fill(now));
  std::printf("%s: %lld records in %d jobs written and compacted in %.1f s; %s\n", label,
              static_cast<long long>(scale.records()), jobs,
              absl::ToDoubleSeconds(absl::Now() - start), Memory().c_str());
  ASSIGN_OR_RETURN(Figures f, scale.Measure(now, lookups));
  std::printf(
      "%s: idle sweep %.3f s | over gRPC: GetJob %.1f us, GetFile %.1f us | in process: GetJob "
      "%.1f us, GetFile %.1f us | sweep of 1,000 expired %.3f s; %s\n",
      label, f.idle_sweep_s, f.rpc_get_job_us, f.rpc_get_file_us, f.get_job_us, f.get_file_us,
      f.due_sweep_s, Memory().c_str());
  std::fflush(stdout);
  return f;
}

int Main() {
  const int files_per_job = absl::GetFlag(FLAGS_files_per_job);
  const int lookups = absl::GetFlag(FLAGS_lookups);
  auto small = Run("small", 10000 / files_per_job, files_per_job, lookups);
  if (!small.ok()) {
    std::fprintf(stderr, "small: %s\n", small.status().ToString().c_str());
    return 1;
  }
  auto full = Run("full", absl::GetFlag(FLAGS_jobs), files_per_job, lookups);
  if (!full.ok()) {
    std::fprintf(stderr, "full: %s\n", full.status().ToString().c_str());
    return 1;
  }
  bool pass = true;
  auto check = [&](const char* what, double value, double limit, const char* unit) {
    const bool ok = value <= limit;
    pass &= ok;
    std::printf("scale: %-34s %.2f%s (target <= %.2f%s) %s\n", what, value, unit, limit, unit,
                ok ? "PASS" : "FAIL");
  };
  check("idle sweep at full size", full->idle_sweep_s, 1.0, " s");
  check("sweep of 1,000 expired, full/small", full->due_sweep_s / small->due_sweep_s, 2.0, "x");
  check("GetJob over gRPC, full/small", full->rpc_get_job_us / small->rpc_get_job_us, 2.0, "x");
  check("GetFile over gRPC, full/small", full->rpc_get_file_us / small->rpc_get_file_us, 2.0, "x");
  std::printf("scale: in process, full/small: GetJob %.2fx, GetFile %.2fx (no target)\n",
              full->get_job_us / small->get_job_us, full->get_file_us / small->get_file_us);
  return pass ? 0 : 1;
}

}  // namespace
}  // namespace arca

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return arca::Main();
}
