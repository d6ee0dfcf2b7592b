#include "common/rpc/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <regex>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "common/rpc/health_client.h"
#include "common/http/process_metrics.h"
#include "absl/strings/str_cat.h"
#include "common/version.h"
#include "gtest/gtest.h"
#include "grpcpp/grpcpp.h"
#include "prometheus/registry.h"
#include "proto/echo/v1/echo.grpc.pb.h"

namespace arca::rpc {
namespace {

// Echoes; a message "block" waits until released, to test shutdown.
class EchoService final : public echo::v1::Echo::Service {
 public:
  grpc::Status Echo(grpc::ServerContext*, const echo::v1::EchoRequest* request,
                    echo::v1::EchoResponse* response) override {
    if (request->message() == "block") {
      entered.Notify();
      release.WaitForNotification();
    }
    if (request->message().empty()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "message is empty");
    }
    response->set_message(request->message());
    return grpc::Status::OK;
  }
  absl::Notification entered, release;
};

double CounterValue(prometheus::Registry& registry, const std::string& name,
                    const std::string& code) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& metric : family.metric) {
      for (const auto& label : metric.label) {
        if (label.name == "code" && label.value == code) return metric.counter.value;
      }
    }
  }
  return -1;
}

std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return "";
  }
  std::string request = "GET " + path + " HTTP/1.0\r\nHost: x\r\n\r\n";
  if (write(fd, request.data(), request.size()) < 0) return "";
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, n);
  close(fd);
  return out;
}

TEST(ServerTest, ServesHealthMetricsAndShutsDownGracefully) {
  EchoService service;
  auto registry = std::make_shared<prometheus::Registry>();
  ServerOptions options;
  options.name = "test";
  options.metrics_listen = "127.0.0.1:0";
  auto server = Server::Start(options, {{echo::v1::Echo::service_full_name(), &service}}, registry);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->port(), 0);
  ASSERT_GT((*server)->metrics_port(), 0);

  auto channel = grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials());
  EXPECT_TRUE(WaitHealthy(channel, "", absl::Seconds(10)).ok());
  EXPECT_TRUE(CheckHealth(channel, "arca.echo.v1.Echo", absl::Seconds(5)).ok());
  EXPECT_EQ(CheckHealth(channel, "no.such.Service", absl::Seconds(5)).code(),
            absl::StatusCode::kNotFound);

  auto stub = echo::v1::Echo::NewStub(channel);
  for (const char* message : {"hi", "hi", ""}) {
    grpc::ClientContext context;
    echo::v1::EchoRequest request;
    echo::v1::EchoResponse response;
    request.set_message(message);
    stub->Echo(&context, request, &response).ok();
  }
  EXPECT_EQ(CounterValue(*registry, "arca_test_grpc_calls_total", "OK"), 2);
  EXPECT_EQ(CounterValue(*registry, "arca_test_grpc_calls_total", "INVALID_ARGUMENT"), 1);
  std::string scraped = HttpGet((*server)->metrics_port(), "/metrics");
  EXPECT_NE(scraped.find("arca_test_grpc_call_seconds_bucket{code=\"OK\","
                         "method=\"/arca.echo.v1.Echo/Echo\""),
            std::string::npos)
      << scraped.substr(0, 2000);
  // The names go-grpc-prometheus gives, beside Arca's own.
  for (const char* line : {
           "grpc_server_started_total{grpc_method=\"Echo\",grpc_service=\"arca.echo.v1.Echo\",grpc_type=\"unary\"} 3",
           "grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Echo\",grpc_service=\"arca.echo.v1.Echo\",grpc_type=\"unary\"} 2",
           "grpc_server_handled_total{grpc_code=\"InvalidArgument\",grpc_method=\"Echo\",grpc_service=\"arca.echo.v1.Echo\",grpc_type=\"unary\"} 1",
           "grpc_server_handling_seconds_count{grpc_method=\"Echo\",grpc_service=\"arca.echo.v1.Echo\",grpc_type=\"unary\"} 3"}) {
    EXPECT_NE(scraped.find(line), std::string::npos) << line << "\n" << scraped.substr(0, 4000);
  }
  // The release and the commit (a Bazel build, from a tree without .git, says "unknown").
  std::smatch build;
  ASSERT_TRUE(std::regex_search(scraped, build,
                                std::regex("\narca_build_info\\{version=\"([^\"]+)\",revision=\"([0-9a-f]{12}|unknown)\"\\} 1\n")))
      << scraped;
  EXPECT_EQ(build[1], kVersion);
  for (const char* name : {"process_resident_memory_bytes ", "process_cpu_seconds_total ",
                           "process_open_fds ", "process_start_time_seconds "}) {
    EXPECT_NE(scraped.find(std::string("\n") + name), std::string::npos) << name;
  }

  // An in-flight call finishes after Shutdown has begun; new calls fail.
  grpc::Status blocked_status;
  std::thread blocked([&] {
    grpc::ClientContext context;
    echo::v1::EchoRequest request;
    echo::v1::EchoResponse response;
    request.set_message("block");
    blocked_status = stub->Echo(&context, request, &response);
  });
  service.entered.WaitForNotification();
  std::thread stopper([&] { (*server)->Shutdown(); });
  // Health turns NOT_SERVING (and new calls are refused) while the blocked
  // call is still running.
  absl::Status health;
  const absl::Time end = absl::Now() + absl::Seconds(10);
  do {
    health = CheckHealth(channel, "", absl::Seconds(1));
  } while (health.ok() && absl::Now() < end);
  EXPECT_EQ(health.code(), absl::StatusCode::kUnavailable) << health;
  service.release.Notify();
  blocked.join();
  stopper.join();
  EXPECT_TRUE(blocked_status.ok()) << blocked_status.error_message();
}

TEST(ServerTest, ServicesAreNotServingWhileTheyCannotDoTheirJobAndTheServerStaysAlive) {
  EchoService service;
  std::atomic<bool> peer_up{true};
  auto registry = std::make_shared<prometheus::Registry>();
  auto ready_gauge = [&] {
    for (const auto& family : registry->Collect()) {
      if (family.name == "arca_test_ready") return family.metric[0].gauge.value;
    }
    return -1.0;
  };
  ServerOptions options;
  options.name = "test";
  options.readiness_interval = absl::Milliseconds(20);
  options.readiness = [&]() -> absl::Status {
    if (peer_up) return absl::OkStatus();
    return absl::UnavailableError("catalog is unavailable: connection refused");
  };
  auto server = Server::Start(options, {{echo::v1::Echo::service_full_name(), &service}},
                              registry);
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel = grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials());
  EXPECT_TRUE(WaitHealthy(channel, "arca.echo.v1.Echo", absl::Seconds(10)).ok());
  EXPECT_EQ(ready_gauge(), 1);
  // Until the check fails again, polled with a deadline.
  auto wait_for = [&](bool serving) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (CheckHealth(channel, "arca.echo.v1.Echo", absl::Seconds(1)).ok() != serving) {
      if (absl::Now() > deadline) return false;
    }
    return true;
  };
  peer_up = false;
  EXPECT_TRUE(wait_for(false));
  EXPECT_EQ(CheckHealth(channel, "arca.echo.v1.Echo", absl::Seconds(1)).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_TRUE(CheckHealth(channel, "", absl::Seconds(1)).ok());  // alive
  EXPECT_EQ(ready_gauge(), 0);  // set before the health it reports
  peer_up = true;
  EXPECT_TRUE(wait_for(true));
  EXPECT_EQ(ready_gauge(), 1);
  (*server)->Shutdown();
}

TEST(ProcessCollectorTest, ReadsPlausibleFiguresFromProc) {
  std::map<std::string, double> v;
  for (const auto& f : http::ProcessCollector().Collect()) {
    v[f.name] = f.type == prometheus::MetricType::Counter ? f.metric[0].counter.value
                                                          : f.metric[0].gauge.value;
  }
  EXPECT_GT(v["process_resident_memory_bytes"], 1 << 20);
  EXPECT_GE(v["process_virtual_memory_bytes"], v["process_resident_memory_bytes"]);
  EXPECT_GE(v["process_cpu_seconds_total"], 0);
  EXPECT_GE(v["process_open_fds"], 3);  // stdin, stdout, stderr at least
  EXPECT_GT(v["process_max_fds"], v["process_open_fds"]);
  const double now = absl::ToUnixSeconds(absl::Now());
  EXPECT_GT(v["process_start_time_seconds"], now - 3600);
  EXPECT_LE(v["process_start_time_seconds"], now + 1);
}

TEST(ServerTest, BusyAddressIsUnavailable) {
  EchoService service;
  ServerOptions options;
  options.name = "first";
  auto first = Server::Start(options, {{"arca.echo.v1.Echo", &service}}, std::make_shared<prometheus::Registry>());
  ASSERT_TRUE(first.ok());
  EchoService other;
  options.name = "second";
  options.listen = (*first)->address();
  auto second = Server::Start(options, {{"arca.echo.v1.Echo", &other}}, std::make_shared<prometheus::Registry>());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace arca::rpc
