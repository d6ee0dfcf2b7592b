// A disk that fills: a small tmpfs under the catalog and the blob store,
// filled to the last byte by someone else while Arca runs.

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/rpc/status.h"
#include "grpcpp/grpcpp.h"
#include "tests/chaos/scenarios.h"

namespace arca::chaos {
namespace {

namespace cat = ::arca::catalog::v1;

// Writes zeros to `path` until the disk refuses; the bytes written.
int64_t FillDisk(const std::string& path) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return 0;
  const std::string chunk(1 << 20, '\0');
  int64_t written = 0;
  for (;;) {
    const ssize_t n = write(fd, chunk.data(), chunk.size());
    if (n <= 0) break;
    written += n;
  }
  close(fd);
  return written;
}

absl::Status Register(cat::Catalog::Stub& catalog, const std::string& version) {
  cat::RegisterJobArtifactRequest r;
  r.mutable_artifact()->set_name("disk-app");
  r.mutable_artifact()->set_version(version);
  cat::RegisterJobArtifactResponse resp;
  return rpc::FromGrpcStatus(catalog.RegisterJobArtifact(Deadline(absl::Seconds(10)).get(), r, &resp));
}

// How many versions the catalog lists; -1 if it cannot. A call that met
// the connection of a killed server is made again.
int Versions(cat::Catalog::Stub& catalog) {
  cat::ListJobArtifactsRequest r;
  r.set_name("disk-app");
  for (int attempt = 0; attempt < 5; ++attempt) {
    cat::ListJobArtifactsResponse resp;
    grpc::Status s = catalog.ListJobArtifacts(Deadline(absl::Seconds(10)).get(), r, &resp);
    if (s.ok()) return resp.artifacts_size();
    if (s.error_code() != grpc::StatusCode::UNAVAILABLE) break;
  }
  return -1;
}

}  // namespace

Outcome DiskFull(const Bins& bins, Scale scale) {
  if (geteuid() != 0) {
    return {false, "disk full: needs root, to mount a small tmpfs (CI runs as root)"};
  }
  ScratchDir dir("disk");
  const std::string disk = dir.path() + "/disk";
  mkdir(disk.c_str(), 0755);
  if (mount("tmpfs", disk.c_str(), "tmpfs", 0, "size=160m") != 0) {
    return {false, absl::StrCat("disk full: cannot mount a tmpfs on ", disk)};
  }
  struct Unmount {
    std::string path;
    ~Unmount() { umount2(path.c_str(), MNT_DETACH); }
  } unmount{disk};

  Service catalog("catalog", bins.Path("arca-catalog"),
                  {"--data_dir=" + disk + "/db", "--min_free_bytes=33554432",
                   "--reserve_bytes=16777216"},
                  dir.path());
  if (absl::Status s = catalog.Start(); !s.ok()) return {false, std::string(s.message())};
  Service collector("collector", bins.Path("arca-collector"),
                    {"--catalog=" + catalog.address(), "--blob_dir=" + disk + "/blobs"},
                    dir.path());
  if (absl::Status s = collector.Start(); !s.ok()) return {false, std::string(s.message())};
  auto stub = CatalogStub(catalog.address());
  auto collector_stub = CollectorStub(collector.address());
  Outcome out;
  for (int i = 0; i < 10; ++i) {
    if (!Register(*stub, absl::StrCat("before-", i)).ok()) out.Fail("a write failed before the disk filled");
  }
  auto job = NewJob(*stub, "chaos");
  if (!job.ok()) return {false, std::string(job.status().message())};

  // Someone else fills the disk.
  const int64_t filled = FillDisk(disk + "/fill");
  absl::Status refused = Register(*stub, "while-full");
  if (!absl::IsResourceExhausted(refused) || !absl::StrContains(refused.message(), "disk is full")) {
    out.Fail(absl::StrCat("a write on the full disk answered ", refused.ToString()));
  }
  if (Versions(*stub) != 10) out.Fail("reads failed on the full disk");
  absl::Status upload =
      Upload(*collector_stub, *job, {{"big.bin", Bytes(4 << 20, 1)}}, absl::Seconds(30));
  if (!absl::IsResourceExhausted(upload) || !absl::StrContains(upload.message(), "disk is full") ||
      absl::StrContains(upload.message(), dir.path())) {
    out.Fail(absl::StrCat("an upload to the full disk answered ", upload.ToString()));
  }
  if (!catalog.Running() || !collector.Running()) out.Fail("a service died when the disk filled");

  // Killed and restarted on the full disk: it serves reads.
  catalog.Kill();
  if (absl::Status s = catalog.Start(); !s.ok()) {
    out.Fail(absl::StrCat("the catalog did not restart on the full disk: ", s.message()));
    return out;
  }
  if (Versions(*stub) != 10) out.Fail("reads failed after a restart on the full disk");
  // (Opening let go of space the killed process held; the filler takes it.)
  FillDisk(disk + "/fill-more");
  if (!absl::IsResourceExhausted(Register(*stub, "after-restart"))) {
    out.Fail("a write after the restart on the full disk was not refused");
  }

  // Space is freed: writes resume by themselves.
  unlink((disk + "/fill").c_str());
  unlink((disk + "/fill-more").c_str());
  const absl::Time freed = absl::Now();
  absl::Status resumed;
  while (!(resumed = Register(*stub, "after-freeing")).ok() &&
         absl::Now() - freed < absl::Seconds(30)) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  const absl::Duration took = absl::Now() - freed;
  if (!resumed.ok()) out.Fail(absl::StrCat("writes did not resume: ", resumed.ToString()));
  absl::Status later = Upload(*collector_stub, *job, {{"big.bin", Bytes(4 << 20, 1)}},
                              absl::Seconds(30));
  if (!later.ok()) out.Fail(absl::StrCat("uploads did not resume: ", later.ToString()));
  if (out.ok) {
    out.line = absl::StrCat(
        "disk full (tmpfs 160 MiB, ", filled >> 20,
        " MiB written by another process): writes RESOURCE_EXHAUSTED, reads served, uploads "
        "RESOURCE_EXHAUSTED naming no path; restart on the full disk served reads; writes "
        "resumed ",
        absl::FormatDuration(absl::Trunc(took, absl::Milliseconds(1))), " after space was freed");
  }
  (void)scale;
  collector.Stop();
  catalog.Stop();
  return out;
}

}  // namespace arca::chaos
