// SIGKILL under concurrent load, in the spirit of RocksDB's db_crashtest:
// every acknowledged write must survive, and nothing inconsistent may be
// visible afterwards.

#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/blob/store.h"
#include "common/hash/sha256.h"
#include "common/ids.h"
#include "common/rpc/status.h"
#include "common/s3/client.h"
#include "common/status_macros.h"
#include "grpcpp/grpcpp.h"
#include "tests/chaos/scenarios.h"

namespace arca::chaos {
namespace {

namespace cat = ::arca::catalog::v1;

// Kills `service` `rounds` times at random moments 200-700 ms apart,
// restarting it each time. False if it would not come back.
bool KillRepeatedly(Service& service, int rounds, uint64_t seed, Outcome* out) {
  std::mt19937_64 rng(seed);
  for (int k = 0; k < rounds; ++k) {
    absl::SleepFor(absl::Milliseconds(200 + rng() % 500));  // the load runs meanwhile
    service.Kill();
    if (absl::Status s = service.Start(); !s.ok()) {
      out->Fail(std::string(s.message()));
      return false;
    }
  }
  return true;
}

// Where a scenario keeps its blobs: a directory, or a bucket.
struct BlobPlace {
  std::string what;                // "blob files or packs" or "objects", for the line
  std::vector<std::string> flags;  // for the collector and retention-gc
  int64_t large_bytes = 3 << 20;   // collector-kills' large file
  // The digests of the stored blobs and the names of the stored packs.
  std::function<absl::Status(std::set<std::string>* blobs, std::set<std::string>* packs)> list;
  std::function<bool(const std::string& sha)> has_blob;
  std::function<bool(const std::string& pack)> has_pack;
  // What killed writers left behind, once what cleans it up has run: the
  // temporary files a restarted collector removes; the incoming objects
  // and unfinished multipart uploads a sweep of abandoned uploads removes.
  std::function<absl::StatusOr<int>()> leftovers;
};

BlobPlace LocalPlace(const std::string& blob_dir) {
  BlobPlace place;
  place.what = "blob files or packs";
  place.flags = {"--blob_dir=" + blob_dir};
  place.list = [blob_dir](std::set<std::string>* blobs, std::set<std::string>* packs) {
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(blob_dir + "/blobs", ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file() || it->path().extension() == ".blocks") continue;
      blobs->insert(absl::StrCat(it->path().parent_path().filename().string(),
                                 it->path().filename().string()));
    }
    for (auto it = std::filesystem::directory_iterator(blob_dir + "/packs", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      packs->insert(it->path().stem().string());
    }
    return absl::OkStatus();
  };
  place.has_blob = [blob_dir](const std::string& sha) {
    struct stat st;
    return stat(absl::StrCat(blob_dir, "/blobs/", sha.substr(0, 2), "/", sha.substr(2)).c_str(), &st) == 0;
  };
  place.has_pack = [blob_dir](const std::string& pack) {
    struct stat st;
    return stat(absl::StrCat(blob_dir, "/packs/", pack, ".pack").c_str(), &st) == 0;
  };
  // A restarted collector removed what killed ones left in tmp/.
  place.leftovers = [blob_dir]() -> absl::StatusOr<int> { return CountFiles(blob_dir + "/tmp"); };
  return place;
}

// A prefix of its own in the bucket arca-chaos of the S3 store that
// ARCA_S3_ENDPOINT and the AWS_* variables name (tests/s3/with_ceph.sh).
absl::StatusOr<BlobPlace> S3Place() {
  const char* endpoint_env = std::getenv("ARCA_S3_ENDPOINT");
  if (endpoint_env == nullptr) {
    return absl::FailedPreconditionError(
        "no S3 store: run it with tests/s3/with_ceph.sh (ARCA_S3_ENDPOINT and AWS_*)");
  }
  const std::string endpoint = endpoint_env;
  const std::string prefix = absl::StrCat("run-", RandomToken(8), "/");
  const std::string url = absl::StrCat("s3://arca-chaos/", prefix);
  s3::Config config;
  config.endpoint = endpoint;
  config.bucket = "arca-chaos";
  RETURN_IF_ERROR(s3::ConfigFromEnvironment(&config));
  auto client = std::make_shared<s3::Client>(config);
  RETURN_IF_ERROR(client->CreateBucket());
  BlobPlace place;
  place.what = "objects";
  place.flags = {"--blob_store=" + url, "--s3_endpoint=" + endpoint};
  place.large_bytes = 10 << 20;  // in parts (8 MiB each)
  place.list = [client, prefix](std::set<std::string>* blobs, std::set<std::string>* packs) {
    RETURN_IF_ERROR(client->List(prefix + "blobs/", [&](const s3::ObjectInfo& o) {
      // blobs/ab/cdef…, and blobs/ab/cdef….blocks beside a big one
      const std::string rest = o.key.substr(prefix.size() + 6);
      if (!absl::EndsWith(rest, ".blocks")) blobs->insert(rest.substr(0, 2) + rest.substr(3));
    }));
    return client->List(prefix + "packs/", [&](const s3::ObjectInfo& o) {
      packs->insert(o.key.substr(prefix.size() + 6));
    });
  };
  place.has_blob = [client, prefix](const std::string& sha) {
    return client->Head(absl::StrCat(prefix, "blobs/", sha.substr(0, 2), "/", sha.substr(2))).ok();
  };
  place.has_pack = [client, prefix](const std::string& pack) {
    return client->Head(absl::StrCat(prefix, "packs/", pack)).ok();
  };
  // What the killed collectors left in incoming/ and as unfinished
  // multipart uploads, after a store opened with no grace swept it.
  place.leftovers = [client, prefix, url, endpoint]() -> absl::StatusOr<int> {
    auto count = [&]() -> absl::StatusOr<int> {
      int n = 0;
      RETURN_IF_ERROR(client->List(prefix + "incoming/", [&](const s3::ObjectInfo&) { ++n; }));
      RETURN_IF_ERROR(client->ListMultipart(prefix, [&](const s3::MultipartUpload&) { ++n; }));
      return n;
    };
    ASSIGN_OR_RETURN(const int before, count());
    std::printf("  (killed collectors left %d incoming objects and unfinished uploads)\n", before);
    RETURN_IF_ERROR(blob::OpenS3BlobStore(url, endpoint, absl::ZeroDuration()).status());
    return count();
  };
  return place;
}

// Whether the file the catalog lists has its bytes where the catalog says
// they are: a blob of their own, or a pack.
bool BytesExist(cat::Catalog::Stub& catalog, const BlobPlace& place, const cat::ArtifactFile& listed) {
  cat::GetFileRequest get;
  get.set_job_id(listed.job_id());
  get.set_path(listed.path());
  cat::ArtifactFile f;
  if (!catalog.GetFile(Deadline(absl::Seconds(10)).get(), get, &f).ok()) return false;
  return f.location().pack().empty() ? place.has_blob(f.sha256()) : place.has_pack(f.location().pack());
}

// The pack files that hold a pack with a live blob; an error if the
// catalog cannot say.
absl::StatusOr<std::set<std::string>> LivePacks(cat::Catalog::Stub& catalog) {
  std::set<std::string> live;
  cat::ListPacksRequest list;
  list.set_page_size(1000);
  for (;;) {
    cat::ListPacksResponse page;
    RETURN_IF_ERROR(rpc::FromGrpcStatus(catalog.ListPacks(Deadline(absl::Seconds(10)).get(), list, &page)));
    for (const cat::Pack& p : page.packs()) {
      if (p.live_blobs() > 0) live.insert(p.file().empty() ? p.name() : p.file());
    }
    if (page.next_page_token().empty()) return live;
    list.set_page_token(page.next_page_token());
  }
}

// Stored packs the catalog has no record of, or whose blobs are all dead;
// -1 if they cannot be counted.
int DeadPacks(cat::Catalog::Stub& catalog, const BlobPlace& place) {
  auto live = LivePacks(catalog);
  std::set<std::string> blobs, packs;
  if (!live.ok() || !place.list(&blobs, &packs).ok()) return -1;
  int dead = 0;
  for (const std::string& pack : packs) dead += live->count(pack) == 0;
  return dead;
}

}  // namespace

Outcome CatalogKills(const Bins& bins, Scale scale) {
  Outcome out;
  ScratchDir dir("catalog");
  Service catalog("catalog", bins.Path("arca-catalog"),
                  {"--data_dir=" + dir.path() + "/db", "--min_free_bytes=0", "--reserve_bytes=0"},
                  dir.path());
  if (absl::Status s = catalog.Start(); !s.ok()) return {false, std::string(s.message())};
  auto stub = CatalogStub(catalog.address());

  // What the catalog acknowledged.
  std::mutex mu;
  std::vector<cat::JobArtifact> artifacts;
  std::vector<std::string> jobs;
  std::vector<std::pair<std::string, cat::ArtifactFile>> files;
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      std::string job;
      for (int i = 0; !stop; ++i) {
        auto context = Deadline(absl::Seconds(2));
        if (i % 3 == 0) {
          cat::RegisterJobArtifactRequest r;
          r.mutable_artifact()->set_name(absl::StrCat("writer-", t));
          r.mutable_artifact()->set_version(absl::StrCat(i));
          (*r.mutable_artifact()->mutable_tags())["n"] = absl::StrCat(i);
          cat::RegisterJobArtifactResponse resp;
          if (stub->RegisterJobArtifact(context.get(), r, &resp).ok()) {
            std::lock_guard<std::mutex> lock(mu);
            artifacts.push_back(resp.artifact());
          }
        } else if (i % 3 == 1 || job.empty()) {
          cat::CreateJobRequest r;
          r.mutable_job()->set_group(absl::StrCat("group-", t % 3));
          cat::CreateJobResponse resp;
          if (stub->CreateJob(context.get(), r, &resp).ok()) {
            job = resp.job().id();
            std::lock_guard<std::mutex> lock(mu);
            jobs.push_back(job);
          }
        } else {
          cat::CommitFilesRequest r;
          r.set_job_id(job);
          cat::ArtifactFile* f = r.add_files();
          f->set_path(absl::StrCat("out/f", i, ".txt"));
          f->set_size(i);
          f->set_sha256(hash::Sha256::Of(absl::StrCat(t, "/", i)));
          cat::CommitFilesResponse resp;
          if (stub->CommitFiles(context.get(), r, &resp).ok()) {
            std::lock_guard<std::mutex> lock(mu);
            files.emplace_back(job, *f);
          }
        }
      }
    });
  }
  const int rounds = 8 * scale.factor;
  const bool killed = KillRepeatedly(catalog, rounds, 17, &out);
  stop = true;
  for (auto& w : writers) w.join();
  if (!killed) return out;

  // Every acknowledged write is there, and every index agrees.
  int lost = 0, inconsistent = 0;
  for (const cat::JobArtifact& a : artifacts) {
    cat::GetJobArtifactRequest get;
    get.set_artifact_id(a.artifact_id());
    cat::JobArtifact got;
    if (!stub->GetJobArtifact(Deadline(absl::Seconds(10)).get(), get, &got).ok() ||
        got.version() != a.version()) {
      ++lost;
      continue;
    }
    cat::ListJobArtifactsRequest by_name;
    by_name.set_name(a.name());
    by_name.set_version(a.version());
    cat::ListJobArtifactsResponse listed;
    if (!stub->ListJobArtifacts(Deadline(absl::Seconds(10)).get(), by_name, &listed).ok() ||
        listed.artifacts_size() != 1 || listed.artifacts(0).artifact_id() != a.artifact_id()) {
      ++inconsistent;
    }
  }
  std::set<std::string> listed_jobs;
  cat::ListJobsRequest list;
  list.set_page_size(1000);
  for (;;) {
    cat::ListJobsResponse page;
    if (!stub->ListJobs(Deadline(absl::Seconds(10)).get(), list, &page).ok()) break;
    for (const auto& j : page.jobs()) listed_jobs.insert(j.id());
    if (page.next_page_token().empty()) break;
    list.set_page_token(page.next_page_token());
  }
  for (const std::string& job : jobs) {
    cat::GetJobRequest get;
    get.set_id(job);
    cat::Job got;
    if (!stub->GetJob(Deadline(absl::Seconds(10)).get(), get, &got).ok()) {
      ++lost;
    } else if (listed_jobs.count(job) == 0) {
      ++inconsistent;
    }
  }
  for (const auto& [job, f] : files) {
    cat::GetFileRequest get;
    get.set_job_id(job);
    get.set_path(f.path());
    cat::ArtifactFile got;
    if (!stub->GetFile(Deadline(absl::Seconds(10)).get(), get, &got).ok() ||
        got.sha256() != f.sha256()) {
      ++lost;
      continue;
    }
    cat::GetBlobRefRequest ref_request;
    ref_request.set_sha256(f.sha256());
    cat::BlobRef ref;
    if (!stub->GetBlobRef(Deadline(absl::Seconds(10)).get(), ref_request, &ref).ok() ||
        ref.refcount() < 1) {
      ++inconsistent;
    }
  }
  const int64_t acked = static_cast<int64_t>(artifacts.size() + jobs.size() + files.size());
  out.line = absl::StrCat("catalog kill x", rounds, ": ", lost, " of ", Thousands(acked),
                          " acknowledged writes lost; ", inconsistent, " index inconsistencies");
  if (lost > 0 || inconsistent > 0 || acked < 100) out.ok = false;
  if (!catalog.Stop()) out.Fail("catalog did not stop cleanly after the kills");
  return out;
}

namespace {

Outcome CollectorKillsIn(const Bins& bins, Scale scale, const ScratchDir& dir, const BlobPlace& place) {
  Outcome out;
  Service catalog("catalog", bins.Path("arca-catalog"),
                  {"--data_dir=" + dir.path() + "/db", "--min_free_bytes=0", "--reserve_bytes=0"},
                  dir.path());
  if (absl::Status s = catalog.Start(); !s.ok()) return {false, std::string(s.message())};
  std::vector<std::string> collector_flags = {"--catalog=" + catalog.address()};
  collector_flags.insert(collector_flags.end(), place.flags.begin(), place.flags.end());
  Service collector("collector", bins.Path("arca-collector"), collector_flags, dir.path());
  if (absl::Status s = collector.Start(); !s.ok()) return {false, std::string(s.message())};
  auto catalog_stub = CatalogStub(catalog.address());
  auto collector_stub = CollectorStub(collector.address());

  using Files = std::vector<std::pair<std::string, std::string>>;
  std::mutex mu;
  std::map<std::string, Files> acked, unacked;
  std::atomic<bool> stop{false};
  std::vector<std::thread> uploaders;
  for (int t = 0; t < 4; ++t) {
    uploaders.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        auto job = NewJob(*catalog_stub, "chaos");
        if (!job.ok()) continue;
        Files files;
        for (int k = 0; k < 7; ++k) {
          files.emplace_back(absl::StrCat("small/", k, ".txt"),
                             Bytes(1 + (k * 9973 + i) % 65536, t * 1000000 + i * 10 + k));
        }
        files.emplace_back("large.bin", Bytes(place.large_bytes, t * 1000000 + i * 10 + 9));
        const bool ok = Upload(*collector_stub, *job, files, absl::Seconds(60)).ok();
        std::lock_guard<std::mutex> lock(mu);
        (ok ? acked : unacked)[*job] = std::move(files);
      }
    });
  }
  const int rounds = 6 * scale.factor;
  const bool killed = KillRepeatedly(collector, rounds, 23, &out);
  stop = true;
  for (auto& u : uploaders) u.join();
  if (!killed) return out;

  // Acknowledged uploads are whole and read back; the others are whole or
  // absent.
  int lost = 0, partial = 0;
  for (const auto& [job, files] : acked) {
    for (const auto& [path, bytes] : files) {
      auto got = Download(*collector_stub, job, path);
      if (!got.ok() || *got != bytes) {
        ++lost;
        break;
      }
    }
  }
  for (const auto& [job, files] : unacked) {
    auto listed = AllFiles(*catalog_stub, job);
    if (!listed.ok() || (!listed->empty() && listed->size() != files.size())) ++partial;
  }
  const absl::StatusOr<int> leftovers = place.leftovers();
  // The orphan sweep removes bytes no upload committed.
  std::vector<std::string> gc_flags = {"--catalog=" + catalog.address(), "--grace=0s", "--sweep_interval=24h"};
  gc_flags.insert(gc_flags.end(), place.flags.begin(), place.flags.end());
  Service gc("retention-gc", bins.Path("arca-retention-gc"), gc_flags, dir.path());
  if (absl::Status s = gc.Start(); !s.ok()) return {false, std::string(s.message())};
  retention::v1::RunCleanupResponse swept;
  absl::Status sweep = rpc::FromGrpcStatus(RetentionStub(gc.address())->RunCleanup(
      Deadline(absl::Minutes(2)).get(), retention::v1::RunCleanupRequest(), &swept));
  std::set<std::string> referenced;
  for (const auto& [job, files] : acked) {
    for (const auto& [path, bytes] : files) referenced.insert(hash::Sha256::Of(bytes));
  }
  for (const auto& [job, files] : unacked) {
    auto listed = AllFiles(*catalog_stub, job);
    if (!listed.ok()) continue;
    for (const auto& f : *listed) referenced.insert(f.sha256());
  }
  // Blobs no file references, and packs no live record points into.
  std::set<std::string> blobs, packs;
  absl::Status listed = place.list(&blobs, &packs);
  int leaked = DeadPacks(*catalog_stub, place);
  if (leaked < 0) listed = absl::UnavailableError("the catalog did not list its packs");
  for (const std::string& sha : blobs) leaked += referenced.count(sha) == 0;
  out.line = absl::StrCat("collector kill x", rounds, ": ", lost, " of ", acked.size(),
                          " acknowledged uploads lost, ", partial, " of ", unacked.size(),
                          " cut-off uploads partly visible; ",
                          leftovers.ok() ? absl::StrCat(*leftovers) : "?",
                          " leftovers of killed writers after their cleanup, ", leaked, " leaked ",
                          place.what, " after the orphan sweep");
  if (!sweep.ok()) out.Fail(absl::StrCat("orphan sweep failed: ", sweep.message()));
  if (!listed.ok()) out.Fail(absl::StrCat("listing the stored blobs: ", listed.message()));
  if (!leftovers.ok()) out.Fail(absl::StrCat("counting leftovers: ", leftovers.status().message()));
  if (lost > 0 || partial > 0 || !leftovers.ok() || *leftovers > 0 || leaked != 0 || acked.size() < 4) {
    out.ok = false;
  }
  gc.Stop();
  collector.Stop();
  catalog.Stop();
  return out;
}

}  // namespace

Outcome CollectorKills(const Bins& bins, Scale scale) {
  ScratchDir dir("collector");
  return CollectorKillsIn(bins, scale, dir, LocalPlace(dir.path() + "/blobs"));
}

Outcome S3CollectorKills(const Bins& bins, Scale scale) {
  auto place = S3Place();
  if (!place.ok()) return {false, std::string(place.status().message())};
  ScratchDir dir("s3-collector");
  return CollectorKillsIn(bins, scale, dir, *place);
}

namespace {

Outcome RetentionKillsIn(const Bins& bins, Scale scale, const ScratchDir& dir, const BlobPlace& place) {
  Outcome out;
  Service catalog("catalog", bins.Path("arca-catalog"),
                  {"--data_dir=" + dir.path() + "/db", "--min_free_bytes=0", "--reserve_bytes=0"},
                  dir.path());
  if (absl::Status s = catalog.Start(); !s.ok()) return {false, std::string(s.message())};
  std::vector<std::string> collector_flags = {"--catalog=" + catalog.address()};
  collector_flags.insert(collector_flags.end(), place.flags.begin(), place.flags.end());
  Service collector("collector", bins.Path("arca-collector"), collector_flags, dir.path());
  if (absl::Status s = collector.Start(); !s.ok()) return {false, std::string(s.message())};
  auto catalog_stub = CatalogStub(catalog.address());
  auto collector_stub = CollectorStub(collector.address());

  // Jobs whose files expire at once, and one whose files stay.
  std::vector<std::string> expiring;
  int expiring_files = 0;
  const int jobs = 20 * scale.factor;
  for (int j = 0; j <= jobs; ++j) {
    const bool kept = j == jobs;
    auto job = NewJob(*catalog_stub, "chaos", kept ? absl::Hours(24) : absl::Microseconds(1));
    if (!job.ok()) return {false, std::string(job.status().message())};
    std::vector<std::pair<std::string, std::string>> files;
    for (int k = 0; k < 100; ++k) {
      files.emplace_back(absl::StrCat("f", k), Bytes(100 + k, j * 1000 + k));
    }
    if (absl::Status s = Upload(*collector_stub, *job, files, absl::Seconds(60)); !s.ok()) {
      return {false, std::string(s.message())};
    }
    cat::FinishJobRequest finish;
    finish.set_job_id(*job);
    finish.set_outcome(types::v1::JOB_STATUS_SUCCESS);
    cat::Job finished;
    if (!catalog_stub->FinishJob(Deadline(absl::Seconds(10)).get(), finish, &finished).ok()) {
      return {false, "cannot finish a job"};
    }
    if (!kept) {
      expiring.push_back(*job);
      expiring_files += 100;
    } else {
      expiring.insert(expiring.begin(), *job);  // first: the kept one
    }
  }
  const std::string kept_job = expiring.front();
  expiring.erase(expiring.begin());

  // No file may be listed as available while its bytes are gone.
  auto available_without_bytes = [&] {
    int n = 0;
    for (const std::string& job : expiring) {
      auto files = AllFiles(*catalog_stub, job);
      if (!files.ok()) return -1;
      for (const auto& f : *files) {
        n += f.state() == types::v1::FILE_STATE_AVAILABLE && !BytesExist(*catalog_stub, place, f);
      }
    }
    return n;
  };
  std::vector<std::string> gc_flags = {"--catalog=" + catalog.address(), "--grace=0s", "--sweep_interval=24h",
                                       "--poll_interval=10ms"};
  gc_flags.insert(gc_flags.end(), place.flags.begin(), place.flags.end());
  Service gc("retention-gc", bins.Path("arca-retention-gc"), gc_flags, dir.path());
  const int rounds = 8 * scale.factor;
  std::mt19937_64 rng(29);
  int violations = 0;
  for (int k = 0; k < rounds; ++k) {
    if (absl::Status s = gc.Start(); !s.ok()) return {false, std::string(s.message())};
    absl::SleepFor(absl::Milliseconds(20 + rng() % 200));  // the deletions run meanwhile
    gc.Kill();
    const int found = available_without_bytes();
    if (found != 0) violations += found < 0 ? 1 : found;
  }
  // Once it runs undisturbed, everything due goes: the files, their blob
  // records, and their packs (retired by one sweep, deleted by the next).
  if (absl::Status s = gc.Start(); !s.ok()) return {false, std::string(s.message())};
  auto gc_stub = RetentionStub(gc.address());
  int deleted = 0, records_left = 0, dead_packs = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  for (;;) {
    deleted = 0;
    records_left = 0;
    for (const std::string& job : expiring) {
      auto files = AllFiles(*catalog_stub, job);
      if (!files.ok()) continue;
      for (const auto& f : *files) {
        deleted += f.state() == types::v1::FILE_STATE_DELETED;
        cat::GetBlobRefRequest get;
        get.set_sha256(f.sha256());
        cat::BlobRef ref;
        records_left += catalog_stub->GetBlobRef(Deadline(absl::Seconds(10)).get(), get, &ref).ok() ||
                        place.has_blob(f.sha256());
      }
    }
    dead_packs = DeadPacks(*catalog_stub, place);
    if ((deleted == expiring_files && records_left == 0 && dead_packs == 0) ||
        absl::Now() > deadline) {
      break;
    }
    retention::v1::RunCleanupResponse swept;
    gc_stub->RunCleanup(Deadline(absl::Minutes(1)).get(), retention::v1::RunCleanupRequest(),
                        &swept);
  }
  int kept_intact = 0;
  auto kept = AllFiles(*catalog_stub, kept_job);
  if (kept.ok()) {
    for (const auto& f : *kept) {
      auto got = Download(*collector_stub, kept_job, f.path());
      kept_intact += f.state() == types::v1::FILE_STATE_AVAILABLE && got.ok() &&
                     hash::Sha256::Of(*got) == f.sha256();
    }
  }
  out.line = absl::StrCat("retention-gc kill x", rounds, " mid-sweep (packs compacted): ",
                          violations, " files listed without their bytes; after restart ",
                          Thousands(deleted), " of ", Thousands(expiring_files),
                          " expired files deleted, ", records_left, " of their blobs and ",
                          dead_packs, " dead packs left, ", kept_intact, " of 100 kept files intact");
  if (violations > 0 || deleted != expiring_files || records_left > 0 || dead_packs != 0 ||
      kept_intact != 100) {
    out.ok = false;
  }
  gc.Stop();
  collector.Stop();
  catalog.Stop();
  return out;
}

}  // namespace

Outcome RetentionKills(const Bins& bins, Scale scale) {
  ScratchDir dir("retention");
  return RetentionKillsIn(bins, scale, dir, LocalPlace(dir.path() + "/blobs"));
}

Outcome S3RetentionKills(const Bins& bins, Scale scale) {
  auto place = S3Place();
  if (!place.ok()) return {false, std::string(place.status().message())};
  ScratchDir dir("s3-retention");
  return RetentionKillsIn(bins, scale, dir, *place);
}

}  // namespace arca::chaos
