#include "common/otlp/otlp.h"

#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/http/server.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "prometheus/registry.h"

namespace arca::otlp {
namespace {

using Json = nlohmann::json;

trace::SpanData Finished(const std::string& name, trace::Kind kind, const trace::Context* parent) {
  trace::SpanData d;
  trace::SetSink([&d](trace::SpanData s) { d = std::move(s); });
  {
    trace::Span span(name, kind, parent);
    span.Set("rpc.system", "grpc");
    span.Set("rpc.grpc.status_code", int64_t{14});
    span.SetError("catalog is unavailable");
  }
  trace::SetSink(nullptr);
  return d;
}

TEST(OtlpTest, EncodesSpansAsOtlpJson) {
  const trace::Context parent = *trace::Parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "k=v");
  const trace::SpanData child = Finished("arca.catalog.v1.Catalog/GetJob", trace::Kind::kClient, &parent);
  const Json j = Json::parse(EncodeJson("arca-gateway", {child}));
  const Json& resource = j["resourceSpans"][0];
  EXPECT_EQ(resource["resource"]["attributes"][0],
            (Json{{"key", "service.name"}, {"value", {{"stringValue", "arca-gateway"}}}}));
  const Json& span = resource["scopeSpans"][0]["spans"][0];
  EXPECT_EQ(span["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(span["parentSpanId"], "00f067aa0ba902b7");
  EXPECT_EQ(span["spanId"].get<std::string>().size(), 16u);
  EXPECT_NE(span["spanId"], "00f067aa0ba902b7");
  EXPECT_EQ(span["traceState"], "k=v");
  EXPECT_EQ(span["name"], "arca.catalog.v1.Catalog/GetJob");
  EXPECT_EQ(span["kind"], 3);  // SPAN_KIND_CLIENT
  // 64-bit integers are strings in OTLP's JSON.
  EXPECT_LE(std::stoll(span["startTimeUnixNano"].get<std::string>()),
            std::stoll(span["endTimeUnixNano"].get<std::string>()));
  EXPECT_EQ(span["attributes"][0], (Json{{"key", "rpc.system"}, {"value", {{"stringValue", "grpc"}}}}));
  EXPECT_EQ(span["attributes"][1], (Json{{"key", "rpc.grpc.status_code"}, {"value", {{"intValue", "14"}}}}));
  EXPECT_EQ(span["status"], (Json{{"code", 2}, {"message", "catalog is unavailable"}}));
}

TEST(OtlpTest, ARootSpanHasNoParent) {
  const trace::SpanData root = Finished("GET /api/v1/jobs", trace::Kind::kServer, nullptr);
  const Json span = Json::parse(EncodeJson("arca-gateway", {root}))["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
  EXPECT_FALSE(span.contains("parentSpanId"));
  EXPECT_EQ(span["traceId"].get<std::string>().size(), 32u);
}

TEST(OtlpTest, RefusesAnEndpointThatIsNotAUrl) {
  absl::Status s = StartExport({.endpoint = "localhost:4318", .service = "arca-test"});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--otlp_endpoint"), std::string::npos) << s;
}

// The exporter against a real HTTP server standing in for a collector.
TEST(OtlpTest, SpansReachTheCollector) {
  absl::Mutex mu;
  std::vector<Json> bodies;
  std::string path, type;
  prometheus::Registry registry;
  http::HttpMetrics metrics(registry);
  http::HttpServerOptions options;
  options.trace = false;  // its own requests are not spans to send
  auto collector = http::HttpServer::Start(
      options, [&](const http::HttpRequest& r, http::HttpResponder& out) {
        absl::MutexLock lock(&mu);
        path = r.target;
        type = std::string(r.Header("content-type"));
        bodies.push_back(Json::parse(r.body));
        out.Send({});
      },
      &metrics);
  ASSERT_TRUE(collector.ok()) << collector.status();
  ASSERT_TRUE(StartExport({.endpoint = "http://" + (*collector)->address(),
                           .service = "arca-test",
                           .interval = absl::Milliseconds(20)})
                  .ok());
  std::string trace_id;
  {
    trace::Span root("GET /api/v1/jobs", trace::Kind::kServer, nullptr);
    trace_id = root.context().trace_id;
    trace::Span child("arca.catalog.v1.Catalog/ListJobs", trace::Kind::kClient, &root.context());
  }
  trace::Context unsampled = *trace::Parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  { trace::Span ignored("not sampled", trace::Kind::kServer, &unsampled); }

  std::vector<std::string> names;
  for (absl::Time deadline = absl::Now() + absl::Seconds(20); absl::Now() < deadline && names.size() < 2;
       absl::SleepFor(absl::Milliseconds(10))) {
    absl::MutexLock lock(&mu);
    names.clear();
    for (const Json& body : bodies) {
      for (const Json& span : body["resourceSpans"][0]["scopeSpans"][0]["spans"]) {
        EXPECT_EQ(span["traceId"], trace_id);
        names.push_back(span["name"]);
      }
    }
  }
  absl::MutexLock lock(&mu);
  EXPECT_EQ(path, "/v1/traces");
  EXPECT_EQ(type, "application/json");
  // Children end first.
  EXPECT_EQ(names, (std::vector<std::string>{"arca.catalog.v1.Catalog/ListJobs", "GET /api/v1/jobs"}));
}

}  // namespace
}  // namespace arca::otlp
