// Clients that stop: downloaders that never read, uploaders that never
// finish. Nobody else may notice, and nothing may grow without bound.

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "services/gateway/http_test_client.h"
#include "tests/chaos/scenarios.h"

namespace arca::chaos {
namespace {

namespace cv1 = ::arca::collector::v1;

// The 99th percentile of `n` GETs of `target`, each on its own connection;
// -1 if one failed.
double P99Millis(int port, const std::string& target, int n) {
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    const absl::Time start = absl::Now();
    const int fd = gateway::Connect(port);
    if (fd < 0) return -1;
    gateway::SendAll(fd, gateway::Request("GET", target));
    const int status = gateway::ReadResponse(fd).status;
    close(fd);
    if (status != 200) return -1;
    ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
  }
  std::sort(ms.begin(), ms.end());
  return ms[std::min(ms.size() - 1, ms.size() * 99 / 100)];
}

std::string Mib(int64_t bytes) { return absl::StrCat(bytes >> 20, " MiB"); }

}  // namespace

Outcome StalledDownloaders(const Bins& bins, Scale scale) {
  ScratchDir dir("stalled-downloads");
  Service catalog("catalog", bins.Path("arca-catalog"),
                  {"--data_dir=" + dir.path() + "/db", "--min_free_bytes=0", "--reserve_bytes=0"},
                  dir.path());
  if (absl::Status s = catalog.Start(); !s.ok()) return {false, std::string(s.message())};
  Service collector("collector", bins.Path("arca-collector"),
                    {"--catalog=" + catalog.address(), "--blob_dir=" + dir.path() + "/blobs"},
                    dir.path());
  if (absl::Status s = collector.Start(); !s.ok()) return {false, std::string(s.message())};
  const int stalled_count = 64;
  Service gateway_service(
      "gateway", bins.Path("arca-gateway"),
      {"--catalog=" + catalog.address(), "--collector=" + collector.address(),
       "--retention_gc=127.0.0.1:1", "--scheduler_attribute=127.0.0.1:1", "--worker_threads=8",
       absl::StrCat("--max_downloads=", stalled_count),
       absl::StrCat("--max_downloads_per_client=", stalled_count), "--write_timeout=10m"},
      dir.path());
  if (absl::Status s = gateway_service.Start(); !s.ok()) return {false, std::string(s.message())};
  auto stub = CatalogStub(catalog.address());
  auto job = NewJob(*stub, "chaos");
  if (!job.ok()) return {false, std::string(job.status().message())};
  auto collector_stub = CollectorStub(collector.address());
  if (absl::Status s = Upload(*collector_stub, *job, {{"big.bin", Bytes(20 << 20, 7)}},
                              absl::Seconds(60));
      !s.ok()) {
    return {false, std::string(s.message())};
  }
  const int port = gateway_service.port();
  const std::string page = "/api/v1/job/" + *job;
  const int n = 200 * scale.factor;
  const double alone = P99Millis(port, page, n);

  // Downloaders of a 20 MiB file that read nothing past the status line,
  // eight times as many as there are workers.
  std::vector<int> stalled;
  int admitted = 0;
  for (int i = 0; i < stalled_count; ++i) {
    const int fd = gateway::Connect(port, 16 << 10);
    gateway::SendAll(fd, gateway::Request("GET", page + "/artifacts/big.bin"));
    char head[12] = {};
    if (recv(fd, head, sizeof head, MSG_WAITALL) == sizeof head &&
        absl::StartsWith(absl::string_view(head, sizeof head), "HTTP/1.1 200")) {
      ++admitted;
    }
    stalled.push_back(fd);
  }
  const double during = P99Millis(port, page, n);
  const int over = gateway::Connect(port);
  gateway::SendAll(over, gateway::Request("GET", page + "/artifacts/big.bin"));
  const gateway::Response refused = gateway::ReadResponse(over);
  close(over);
  for (int fd : stalled) close(fd);

  Outcome out;
  out.line = absl::StrCat("gateway with ", stalled_count, " stalled downloaders of 20 MiB (",
                          admitted, " admitted, 8 workers): other requests' p99 ",
                          absl::SixDigits(during), " ms (", absl::SixDigits(alone),
                          " ms without them); the next download ", refused.status,
                          " Retry-After ", refused.header("retry-after"));
  if (alone < 0 || during < 0) out.Fail("a request failed while downloaders stalled");
  if (admitted != stalled_count) out.ok = false;
  if (during > 10 * alone + 20) out.ok = false;
  if (refused.status != 503 || refused.header("retry-after").empty()) out.ok = false;
  gateway_service.Stop();
  collector.Stop();
  catalog.Stop();
  return out;
}

Outcome StalledUploads(const Bins& bins, Scale scale) {
  ScratchDir dir("stalled-uploads");
  Service catalog("catalog", bins.Path("arca-catalog"),
                  {"--data_dir=" + dir.path() + "/db", "--min_free_bytes=0", "--reserve_bytes=0"},
                  dir.path());
  if (absl::Status s = catalog.Start(); !s.ok()) return {false, std::string(s.message())};
  const absl::Duration idle = absl::Seconds(3);
  Service collector("collector", bins.Path("arca-collector"),
                    {"--catalog=" + catalog.address(), "--blob_dir=" + dir.path() + "/blobs",
                     "--metrics_listen=127.0.0.1:0", "--max_concurrent_uploads=32",
                     "--stream_idle_timeout=" + absl::FormatDuration(idle)},
                    dir.path());
  if (absl::Status s = collector.Start(); !s.ok()) return {false, std::string(s.message())};
  auto job = NewJob(*CatalogStub(catalog.address()), "chaos");
  if (!job.ok()) return {false, std::string(job.status().message())};
  auto stub = CollectorStub(collector.address());
  const int64_t rss_before = collector.ResidentBytes();
  const int threads_before = collector.Threads();

  // Uploads that send 4 MiB of a 64 MiB file, then nothing.
  struct Stalled {
    grpc::ClientContext context;
    cv1::UploadResponse response;
    std::unique_ptr<grpc::ClientWriter<cv1::UploadRequest>> writer;
  };
  const int count = 200 * scale.factor;
  std::vector<std::unique_ptr<Stalled>> stalled;
  const std::string chunk(1 << 20, 'x');
  int64_t rss_peak = 0;
  int threads_peak = 0;
  double running_peak = 0;
  for (int i = 0; i < count; ++i) {
    auto s = std::make_unique<Stalled>();
    s->writer = stub->Upload(&s->context, &s->response);
    cv1::UploadRequest m;
    m.mutable_manifest()->set_job_id(*job);
    bool open = s->writer->Write(m);
    m.Clear();
    m.mutable_file()->set_path("big.bin");
    m.mutable_file()->set_size(64 << 20);
    open = open && s->writer->Write(m);
    m.Clear();
    m.set_chunk(chunk);
    for (int k = 0; open && k < 4; ++k) open = s->writer->Write(m);
    stalled.push_back(std::move(s));
    rss_peak = std::max(rss_peak, collector.ResidentBytes());
    threads_peak = std::max(threads_peak, collector.Threads());
    if (i % 10 == 9) {
      running_peak = std::max(
          running_peak, ScrapeGauge(collector.metrics_address(), "arca_collector_uploads_in_progress"));
    }
  }
  // Until the idle timeout cancels them, then their memory goes back.
  int busy = 0, cancelled = 0;
  for (auto& s : stalled) {
    const grpc::StatusCode code = s->writer->Finish().error_code();
    busy += code == grpc::StatusCode::RESOURCE_EXHAUSTED;
    cancelled += code == grpc::StatusCode::CANCELLED;
    rss_peak = std::max(rss_peak, collector.ResidentBytes());
  }
  int64_t rss_after = collector.ResidentBytes();
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (rss_after > rss_before + (128 << 20) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
    rss_after = collector.ResidentBytes();
  }
  const int threads_after = collector.Threads();
  Outcome out;
  out.line = absl::StrCat("collector with ", count, " uploads stalled after 4 MiB: at most ",
                          running_peak, " running at once, ", busy, " refused as busy, ", cancelled,
                          " cancelled after ", absl::FormatDuration(idle), " idle; resident ",
                          Mib(rss_before), " -> ", Mib(rss_peak), " -> ", Mib(rss_after),
                          ", threads ", threads_before, " -> ", threads_peak, " -> ",
                          threads_after);
  if (busy + cancelled != count || running_peak > 32 || running_peak < 1) out.ok = false;
  if (rss_peak - rss_before > (640 << 20)) out.ok = false;  // 32 uploads' buffers, and gRPC's
  // Threads: the admitted calls' and the server's idle pollers (at most 64).
  if (rss_after > rss_before + (128 << 20) || threads_peak > threads_before + 32 + 64) {
    out.ok = false;
  }
  collector.Stop();
  catalog.Stop();
  return out;
}

}  // namespace arca::chaos
