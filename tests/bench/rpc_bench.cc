// RPC benchmarks, as ratios against a baseline measured in the same run:
//   1. catalog GetJobArtifact QPS over gRPC vs a trivial Echo RPC on the
//      same server (target >= 0.7x);
//   2. scheduler-attribute Resolve QPS vs that GetJobArtifact QPS (the merge
//      should cost little: each Resolve is one Get plus the merge);
//   3. durable RegisterJobArtifact/s with 32 concurrent clients (target
//      >= 5,000/s), next to the same load with WAL sync off;
//   4. GetJobArtifact QPS with TLS and a token on every call (checked
//      against a tokens file, the caller's group and level applied) vs the
//      same in plaintext without tokens (target >= 0.8x);
//   5. GetJobArtifact QPS with access lines and traces at their defaults
//      (one success in ten logged, to a file; every call a span of the
//      caller's trace, no exporter) vs no access lines and no traceparent
//      (target >= 0.9x); beside it, every call logged and every span
//      exported over OTLP to a local receiver.
// Usage: rpc_bench [--seconds=N] [--read_clients=N] [--write_clients=N]

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/auth/authorizer.h"
#include "common/auth/security.h"
#include "common/auth/tokens.h"
#include "common/http/server.h"
#include "common/logging.h"
#include "common/otlp/otlp.h"
#include "common/rpc/server.h"
#include "common/hash/sha256.h"
#include "grpcpp/grpcpp.h"
#include "prometheus/registry.h"
#include "proto/echo/v1/echo.grpc.pb.h"
#include "services/catalog/catalog_service.h"
#include "services/scheduling/scheduler_attribute_service.h"

ABSL_FLAG(double, seconds, 3, "duration of each measurement");
ABSL_FLAG(int, read_clients, 8, "concurrent clients for the read comparison");
ABSL_FLAG(int, write_clients, 32, "concurrent clients for durable registers");

namespace arca {
namespace {

namespace v1 = ::arca::catalog::v1;

class EchoService final : public echo::v1::Echo::Service {
  grpc::Status Echo(grpc::ServerContext*, const echo::v1::EchoRequest* request,
                    echo::v1::EchoResponse* response) override {
    response->set_message(request->message());
    return grpc::Status::OK;
  }
};

// Runs `clients` threads, each calling op(thread, i) in a loop for the
// duration over its own channel (with `security`); returns successful calls
// per second.
double Measure(const std::string& address, int clients, absl::Duration duration,
               const std::function<bool(const std::shared_ptr<grpc::Channel>&, int, int)>& op,
               const auth::ClientSecurity& security = {}) {
  std::atomic<int64_t> done{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  const absl::Time end = absl::Now() + duration;
  const absl::Time start = absl::Now();
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      grpc::ChannelArguments args;
      args.SetInt("arca.bench.channel", t);  // a distinct connection per client
      auto channel = *auth::SecureChannel(address, security, args);
      int64_t n = 0;
      for (int i = 0; absl::Now() < end; ++i) {
        if (!op(channel, t, i)) {
          failed = true;
          break;
        }
        ++n;
      }
      done += n;
    });
  }
  for (auto& th : threads) th.join();
  if (failed) std::fprintf(stderr, "warning: some calls failed\n");
  return done / absl::ToDoubleSeconds(absl::Now() - start);
}

struct Suite {
  std::string dir;
  std::unique_ptr<catalog::Catalog> catalog;
  std::unique_ptr<catalog::CatalogServiceImpl> service;
  EchoService echo;
  std::unique_ptr<rpc::Server> server;
};

std::unique_ptr<Suite> StartSuite(bool sync) {
  auto s = std::make_unique<Suite>();
  char tmpl[] = "/tmp/arca-bench-XXXXXX";
  s->dir = mkdtemp(tmpl);
  catalog::CatalogOptions options;
  options.data_dir = s->dir;
  options.sync_writes = sync;
  s->catalog = *catalog::Catalog::Open(options, Clock::Real());
  s->service = std::make_unique<catalog::CatalogServiceImpl>(s->catalog.get());
  rpc::ServerOptions server_options;
  server_options.name = "bench";
  s->server = *rpc::Server::Start(server_options,
                             {{v1::Catalog::service_full_name(), s->service.get()},
                              {echo::v1::Echo::service_full_name(), &s->echo}},
                             std::make_shared<prometheus::Registry>());
  return s;
}

double Registers(const Suite& suite, int clients, absl::Duration duration, const char* tag) {
  return Measure(suite.server->address(), clients, duration,
                 [tag](const std::shared_ptr<grpc::Channel>& channel, int t, int i) {
                   thread_local std::unique_ptr<v1::Catalog::Stub> stub;
                   if (!stub) stub = v1::Catalog::NewStub(channel);
                   grpc::ClientContext context;
                   v1::RegisterJobArtifactRequest request;
                   request.mutable_artifact()->set_name(absl::StrCat(tag, "-", t));
                   request.mutable_artifact()->set_version(absl::StrCat("1.", i));
                   (*request.mutable_artifact()->mutable_tags())["jdkVersion"] = "17";
                   v1::RegisterJobArtifactResponse response;
                   return stub->RegisterJobArtifact(&context, request, &response).ok();
                 });
}

int Main() {
  const absl::Duration duration = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  const int readers = absl::GetFlag(FLAGS_read_clients);
  const int writers = absl::GetFlag(FLAGS_write_clients);
  int failures = 0;

  auto suite = StartSuite(/*sync=*/true);
  v1::RegisterJobArtifactRequest seed;
  seed.mutable_artifact()->set_artifact_id("bench-artifact");
  seed.mutable_artifact()->set_name("bench");
  seed.mutable_artifact()->set_version("1.0.0");
  (*seed.mutable_artifact()->mutable_tags())["jdkVersion"] = "17";
  if (!suite->catalog->RegisterJobArtifact(seed).ok()) return 1;

  const std::string address = suite->server->address();
  auto echo_op = [](const std::shared_ptr<grpc::Channel>& channel, int, int) {
    thread_local std::unique_ptr<echo::v1::Echo::Stub> stub;
    if (!stub) stub = echo::v1::Echo::NewStub(channel);
    grpc::ClientContext context;
    echo::v1::EchoRequest request;
    request.set_message("bench-artifact");
    echo::v1::EchoResponse response;
    return stub->Echo(&context, request, &response).ok();
  };
  auto get_op = [](const std::shared_ptr<grpc::Channel>& channel, int, int) {
    thread_local std::unique_ptr<v1::Catalog::Stub> stub;
    if (!stub) stub = v1::Catalog::NewStub(channel);
    grpc::ClientContext context;
    v1::GetJobArtifactRequest request;
    request.set_artifact_id("bench-artifact");
    v1::JobArtifact response;
    return stub->GetJobArtifact(&context, request, &response).ok();
  };
  Measure(address, readers, absl::Milliseconds(500), echo_op);  // warm up
  // Interleave the two so machine noise hits both alike.
  double echo_qps = 0, get_qps = 0;
  for (int round = 0; round < 2; ++round) {
    echo_qps += Measure(address, readers, duration / 2, echo_op);
    get_qps += Measure(address, readers, duration / 2, get_op);
  }
  const double read_ratio = get_qps / echo_qps;
  std::printf("catalog GetJobArtifact  %9.0f qps | echo %9.0f qps | ratio %.2fx (target >= 0.70x) %s\n",
              get_qps / 2, echo_qps / 2, read_ratio, read_ratio >= 0.7 ? "PASS" : "FAIL");
  failures += read_ratio < 0.7;

  // scheduler-attribute in front of the same catalog, on its own server.
  {
    auto catalog_client = clients::NewCatalogClient(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    auto registry = std::make_shared<prometheus::Registry>();
    scheduling::SchedulerMetrics metrics(*registry);
    scheduling::SchedulerAttribute core(scheduling::SchedulerOptions(), catalog_client.get(),
                                        &metrics);
    scheduling::SchedulerAttributeServiceImpl service(&core);
    rpc::ServerOptions options;
    options.name = "bench_scheduler";
    auto server = *rpc::Server::Start(
        options, {{scheduling::v1::SchedulerAttribute::service_full_name(), &service}}, registry);
    auto resolve_op = [](const std::shared_ptr<grpc::Channel>& channel, int, int) {
      thread_local std::unique_ptr<scheduling::v1::SchedulerAttribute::Stub> stub;
      if (!stub) stub = scheduling::v1::SchedulerAttribute::NewStub(channel);
      grpc::ClientContext context;
      scheduling::v1::JobDefinition request;
      request.mutable_artifact()->set_job_jar_url("http://repo/jobs/bench-artifact?sig=x");
      (*request.mutable_labels())["_mantis.schedulingAttribute.jdkVersion"] = "21";
      scheduling::v1::SchedulingConstraints response;
      return stub->Resolve(&context, request, &response).ok() && response.attributes_size() == 1;
    };
    double resolve_qps = 0, get_again = 0;
    for (int round = 0; round < 2; ++round) {
      get_again += Measure(address, readers, duration / 2, get_op);
      resolve_qps += Measure(server->address(), readers, duration / 2, resolve_op);
    }
    std::printf("scheduler Resolve       %9.0f qps | catalog Get %9.0f qps | ratio %.2fx "
                "(each Resolve makes one Get)\n",
                resolve_qps / 2, get_again / 2, resolve_qps / get_again);
  }

  // The same catalog behind TLS and tokens, on its own server.
  {
    const std::string dir = suite->dir + "/tls";
    std::filesystem::create_directories(dir);
    const std::string script = absl::StrCat(
        "cd '", dir, "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 ",
        "-nodes -keyout server.key -out server.pem -subj /CN=localhost -days 1 ",
        "-addext subjectAltName=IP:127.0.0.1 2>/dev/null");
    std::ofstream(dir + "/tokens") << "sha256:" << hash::Sha256::Of("bench-token")
                                   << " bench moderately_sensitive bench reader\n";
    if (std::system(script.c_str()) != 0) {
      std::fprintf(stderr, "cannot make a certificate with openssl\n");
      return 1;
    }
    auto authorizer = std::make_shared<auth::Authorizer>(
        std::shared_ptr<auth::TokenFile>(*auth::TokenFile::Open(dir + "/tokens")));
    catalog::CatalogServiceImpl service(suite->catalog.get(), authorizer);
    rpc::ServerOptions options;
    options.name = "bench_tls";
    options.tls = {dir + "/server.pem", dir + "/server.key", ""};
    options.authorizer = authorizer;
    auto server = *rpc::Server::Start(options, {{v1::Catalog::service_full_name(), &service}},
                                 std::make_shared<prometheus::Registry>());
    const auth::ClientSecurity tls{"bench-token", dir + "/server.pem", "", ""};
    Measure(server->address(), readers, absl::Milliseconds(500), get_op, tls);  // warm up
    double plain_qps = 0, tls_qps = 0;
    for (int round = 0; round < 2; ++round) {
      plain_qps += Measure(address, readers, duration / 2, get_op);
      tls_qps += Measure(server->address(), readers, duration / 2, get_op, tls);
    }
    const double ratio = tls_qps / plain_qps;
    std::printf("GetJobArtifact, TLS+token %9.0f qps | plaintext, no tokens %9.0f qps | "
                "ratio %.2fx (target >= 0.80x) %s\n",
                tls_qps / 2, plain_qps / 2, ratio, ratio >= 0.8 ? "PASS" : "FAIL");
    failures += ratio < 0.8;
  }

  // Access lines and traces on, against off: off, on, off again.
  {
    prometheus::Registry registry;
    http::HttpMetrics http_metrics(registry);
    std::atomic<int64_t> exported{0};
    http::HttpServerOptions receiver_options;
    receiver_options.trace = false;  // its own requests are not spans to send
    auto receiver = *http::HttpServer::Start(
        receiver_options, [&](const http::HttpRequest& r, http::HttpResponder& out) {
          exported += static_cast<int64_t>(r.body.size());
          out.Send({});
        },
        &http_metrics);
    auto traced_op = [](const std::shared_ptr<grpc::Channel>& channel, int, int) {
      thread_local std::unique_ptr<v1::Catalog::Stub> stub;
      if (!stub) stub = v1::Catalog::NewStub(channel);
      grpc::ClientContext context;
      context.AddMetadata("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
      v1::GetJobArtifactRequest request;
      request.set_artifact_id("bench-artifact");
      v1::JobArtifact response;
      return stub->GetJobArtifact(&context, request, &response).ok();
    };
    // The access lines go to a file, as a service's stderr would.
    const std::string log_path = suite->dir + "/access.log";
    std::fflush(stderr);
    const int saved_stderr = dup(2);
    const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(log_fd, 2);
    if (!otlp::StartExport({.endpoint = "http://" + receiver->address(), .service = "bench"}).ok()) return 1;
    const auto exporter = trace::GetSink();
    // Alternating, so machine noise hits all alike.
    double off = 0, defaults = 0, everything = 0;
    constexpr int kRounds = 4;
    for (int round = 0; round < kRounds; ++round) {
      trace::SetSink(nullptr);
      SetAccessLogSample(0);
      off += Measure(address, readers, duration, get_op) / kRounds;
      SetAccessLogSample(0.1);
      defaults += Measure(address, readers, duration, traced_op) / kRounds;
      trace::SetSink(exporter);
      SetAccessLogSample(1);
      everything += Measure(address, readers, duration, traced_op) / kRounds;
    }
    trace::SetSink(nullptr);
    SetAccessLogSample(0.1);
    FlushLogs();
    dup2(saved_stderr, 2);
    close(saved_stderr);
    close(log_fd);
    const double ratio = defaults / off;
    int64_t lines = 0;
    std::ifstream log(log_path);
    for (std::string line; std::getline(log, line);) lines += absl::StrContains(line, "] grpc method=");
    std::printf("GetJobArtifact, logs+traces at defaults %9.0f qps | both off %9.0f qps | ratio %.2fx "
                "(target >= 0.90x) %s\n",
                defaults, off, ratio, ratio >= 0.9 ? "PASS" : "FAIL");
    std::printf("  every call logged, every span exported %9.0f qps | ratio %.2fx  [%lld access lines, "
                "%.1f MB of OTLP JSON]\n",
                everything, everything / off, static_cast<long long>(lines), exported / 1e6);
    failures += ratio < 0.9;
    receiver->Shutdown();
  }

  const double durable = Registers(*suite, writers, duration, "durable");
  const std::string durable_dir = suite->dir;
  suite.reset();
  std::filesystem::remove_all(durable_dir);
  auto unsynced = StartSuite(/*sync=*/false);
  const double unsynced_rate = Registers(*unsynced, writers, duration, "unsynced");
  std::printf("durable RegisterJobArtifact, %d clients %9.0f /s | WAL sync off %9.0f /s | "
              "%.2fx of unsynced (target >= 5000/s) %s\n",
              writers, durable, unsynced_rate, durable / unsynced_rate,
              durable >= 5000 ? "PASS" : "FAIL");
  failures += durable < 5000;
  std::filesystem::remove_all(unsynced->dir);
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace arca

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return arca::Main();
}
