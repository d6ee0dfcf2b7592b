#include <atomic>
#include <functional>
#include <regex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/logging.h"
#include "common/page_token.h"
#include "common/paths.h"
#include "common/periodic.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "common/trace.h"
#include "gtest/gtest.h"

namespace arca {
namespace {

absl::StatusOr<int> Half(int x) {
  if (x % 2 != 0) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::StatusOr<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int half, Half(x));
  ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

absl::Status CheckEven(int x) {
  RETURN_IF_ERROR(Half(x).status());
  return absl::OkStatus();
}

// What LogLine wrote, without its time.
std::string Logged(const std::function<void()>& log) {
  testing::internal::CaptureStderr();
  log();
  const std::string out = testing::internal::GetCapturedStderr();
  return std::regex_replace(out, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"), "TIME");
}

TEST(Logging, TextAndJsonLinesWithFieldsAndLevels) {
  SetProgramName("arca-test");
  EXPECT_EQ(Logged([] { LogLine(LogSeverity::INFO, "http", {{"route", "GET /api/v1/job/{id}"}, {"status", "200"}}); }),
            "I TIME arca-test] http route=\"GET /api/v1/job/{id}\" status=200\n");
  SetLogFormat(LogFormat::kJson);
  EXPECT_EQ(Logged([] { LogLine(LogSeverity::WARNING, "a \"quoted\"\nline", {{"peer", "ipv4:127.0.0.1:5"}, {"ctl", "\x01"}}); }),
            "{\"time\":\"TIME\",\"level\":\"warning\",\"service\":\"arca-test\",\"message\":\"a \\\"quoted\\\"\\nline\","
            "\"peer\":\"ipv4:127.0.0.1:5\",\"ctl\":\"\\u0001\"}\n");
  SetLogLevel(LogSeverity::WARNING);
  EXPECT_EQ(Logged([] { ARCA_LOG(INFO) << "dropped"; }), "");
  EXPECT_EQ(Logged([] { LogLine(LogSeverity::INFO, "dropped too"); }), "");
  EXPECT_NE(Logged([] { ARCA_LOG(ERROR) << "kept"; }), "");
  // Failures are always access-logged (above warning); successes by sample.
  EXPECT_TRUE(AccessLogged(/*failed=*/true));
  EXPECT_FALSE(AccessLogged(/*failed=*/false));  // INFO is below the level
  SetLogLevel(LogSeverity::INFO);
  SetAccessLogSample(0);
  EXPECT_FALSE(AccessLogged(false));
  EXPECT_TRUE(AccessLogged(true));
  SetAccessLogSample(1);
  EXPECT_TRUE(AccessLogged(false));
  SetLogFormat(LogFormat::kText);
}

TEST(Logging, AccessLinesAreBatchedButNeverOutOfOrderOrLost) {
  SetProgramName("arca-test");
  // Another line writes the gathered ones first; a failed call's line is
  // written at once, in its place.
  std::string out = Logged([] {
    LogAccessLine(LogSeverity::INFO, "grpc", {{"code", "OK"}});
    LogAccessLine(LogSeverity::WARNING, "grpc", {{"code", "INTERNAL"}});
    LogAccessLine(LogSeverity::INFO, "grpc", {{"code", "NOT_FOUND"}});
    FlushLogs();
  });
  EXPECT_EQ(out, "I TIME arca-test] grpc code=OK\nW TIME arca-test] grpc code=INTERNAL\n"
                 "I TIME arca-test] grpc code=NOT_FOUND\n")
      << out;
  // A full batch goes out without waiting.
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 2000; ++i) LogAccessLine(LogSeverity::INFO, "http", {{"n", std::to_string(i)}});
  out = ::testing::internal::GetCapturedStderr();
  EXPECT_GE(out.size(), 64u << 10);
  EXPECT_EQ(out.rfind("I ", 0), 0u);  // whole lines, from the first
  FlushLogs();
}

TEST(Trace, ParsesAndFormatsTraceparentByTheW3cRules) {
  const std::string kTrace = "4bf92f3577b34da6a3ce929d0e0e4736", kSpan = "00f067aa0ba902b7";
  auto c = trace::Parse("00-" + kTrace + "-" + kSpan + "-01", "vendor=x");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->trace_id, kTrace);
  EXPECT_EQ(c->span_id, kSpan);
  EXPECT_TRUE(c->sampled);
  EXPECT_EQ(c->tracestate, "vendor=x");
  EXPECT_EQ(trace::Format(*c), "00-" + kTrace + "-" + kSpan + "-01");
  EXPECT_FALSE(trace::Parse("00-" + kTrace + "-" + kSpan + "-00")->sampled);
  // A later version may carry more after the flags; version 00 may not.
  EXPECT_TRUE(trace::Parse("01-" + kTrace + "-" + kSpan + "-01-more").has_value());
  for (const std::string& bad : {
           std::string(""), "00-" + kTrace + "-" + kSpan,                  // short
           "ff-" + kTrace + "-" + kSpan + "-01",                            // version ff
           "00-" + std::string(32, '0') + "-" + kSpan + "-01",              // zero trace id
           "00-" + kTrace + "-" + std::string(16, '0') + "-01",             // zero span id
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-" + kSpan + "-01",          // upper case
           "00-" + kTrace + "-" + kSpan + "-01-more",                       // extra in 00
           "00_" + kTrace + "-" + kSpan + "-01", "00-" + kTrace + "-" + kSpan + "-0g"}) {
    EXPECT_FALSE(trace::Parse(bad).has_value()) << bad;
  }
}

TEST(Trace, SpansAreChildrenOfTheirParentAndSampledOnesReachTheSink) {
  std::vector<trace::SpanData> ended;
  trace::SetSink([&](trace::SpanData s) { ended.push_back(std::move(s)); });
  std::string root_trace, root_span;
  {
    trace::Span root("root", trace::Kind::kServer, nullptr);
    root_trace = root.context().trace_id;
    root_span = root.context().span_id;
    EXPECT_EQ(root_trace.size(), 32u);
    EXPECT_EQ(root_span.size(), 16u);
    trace::Span child("child", trace::Kind::kClient, &root.context());
    EXPECT_EQ(child.context().trace_id, root_trace);
    EXPECT_NE(child.context().span_id, root_span);
  }
  trace::Context unsampled = *trace::Parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  { trace::Span quiet("not sampled", trace::Kind::kServer, &unsampled); }
  trace::SetSink(nullptr);
  ASSERT_EQ(ended.size(), 2u);
  EXPECT_EQ(ended[0].name, "child");
  EXPECT_EQ(ended[0].parent_span_id, root_span);
  EXPECT_EQ(ended[1].name, "root");
  EXPECT_EQ(ended[1].parent_span_id, "");
  EXPECT_LE(ended[1].start_unix_nanos, ended[0].start_unix_nanos);
  EXPECT_LE(ended[0].end_unix_nanos, ended[1].end_unix_nanos);
}

TEST(Trace, NewTracesAreSampledByTheRatioAndChildrenFollowTheirParent) {
  std::vector<trace::SpanData> ended;
  trace::SetSink([&](trace::SpanData s) { ended.push_back(std::move(s)); });
  trace::SetRootSampleRatio(0);
  {
    trace::Span root("root", trace::Kind::kServer, nullptr);
    EXPECT_FALSE(root.context().sampled);
    trace::Span child("child", trace::Kind::kClient, &root.context());
    EXPECT_FALSE(child.context().sampled);
  }
  EXPECT_TRUE(ended.empty());
  // A caller's sampled trace is kept whatever the ratio.
  const trace::Context sampled = *trace::Parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  { trace::Span joined("joined", trace::Kind::kServer, &sampled); }
  EXPECT_EQ(ended.size(), 1u);
  trace::SetRootSampleRatio(0.5);
  int kept = 0;
  for (int i = 0; i < 1000; ++i) kept += trace::Span("root", trace::Kind::kServer, nullptr).context().sampled;
  EXPECT_GT(kept, 350);
  EXPECT_LT(kept, 650);
  trace::SetRootSampleRatio(1);
  EXPECT_TRUE(trace::Span("root", trace::Kind::kServer, nullptr).context().sampled);
  trace::SetSink(nullptr);
}

TEST(Trace, LinesLoggedInsideATraceCarryItsId) {
  SetProgramName("arca-test");
  trace::Span span("request", trace::Kind::kServer, nullptr);
  {
    trace::Scope scope(&span.context());
    EXPECT_EQ(trace::Current(), &span.context());
    EXPECT_EQ(Logged([] { LogLine(LogSeverity::INFO, "grpc", {{"code", "OK"}}); }),
              "I TIME arca-test] grpc code=OK trace_id=" + span.context().trace_id + "\n");
    SetLogFormat(LogFormat::kJson);
    EXPECT_NE(Logged([] { ARCA_LOG(INFO) << "inside"; }).find(",\"trace_id\":\"" + span.context().trace_id + "\"}"),
              std::string::npos);
    SetLogFormat(LogFormat::kText);
  }
  EXPECT_EQ(trace::Current(), nullptr);
  EXPECT_EQ(Logged([] { ARCA_LOG(INFO) << "outside"; }), "I TIME arca-test] outside\n");
}

TEST(StatusMacros, PropagateErrorsAndValues) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().message(), "odd");
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_EQ(CheckEven(3).code(), absl::StatusCode::kInvalidArgument);
}

TEST(Ids, SortableByMinuteWithRandomSuffix) {
  absl::Time t = absl::FromCivil(absl::CivilMinute(2020, 9, 25, 1, 53), absl::UTCTimeZone());
  std::string a = NewSortableId("job", t), b = NewSortableId("job", t);
  EXPECT_EQ(a.substr(0, 17), "job-202009250153-");
  EXPECT_NE(a, b);
  EXPECT_LT(NewSortableId("job", t), NewSortableId("job", t + absl::Minutes(1)));
  EXPECT_TRUE(IsSafeName(a));
}

TEST(Ids, SafeNames) {
  EXPECT_TRUE(IsSafeName("my-app_1.0"));
  EXPECT_FALSE(IsSafeName(""));
  EXPECT_FALSE(IsSafeName("a b"));
  EXPECT_FALSE(IsSafeName("a/b"));
  EXPECT_FALSE(IsSafeName(std::string(256, 'x')));
  EXPECT_TRUE(IsSafeName(std::string(255, 'x')));
  EXPECT_FALSE(IsSafeName("."));
  EXPECT_FALSE(IsSafeName(".."));
  EXPECT_TRUE(IsSafeName("..."));
  EXPECT_EQ(CheckName("job id", "..").message(),
            "job id must be 1 to 255 of [A-Za-z0-9._-] and not \".\" or \"..\", got \"..\"");
}

TEST(PageToken, RoundTripsAndRejectsForeignOrBroken) {
  std::string token = EncodePageToken("names", std::string("a\0b", 3));
  EXPECT_EQ(*DecodePageToken("names", token), std::string("a\0b", 3));
  EXPECT_EQ(DecodePageToken("jobs", token).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodePageToken("names", "%%%").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*DecodePageToken("names", ""), "");
  EXPECT_EQ(*CheckPageSize(0), 100);
  EXPECT_EQ(*CheckPageSize(1000), 1000);
  EXPECT_FALSE(CheckPageSize(1001).ok());
  EXPECT_FALSE(CheckPageSize(-5).ok());
}

TEST(Paths, Utf8) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("gr\xc3\xbc\xc3\x9f"));         // grüß
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));           // emoji
  EXPECT_FALSE(IsValidUtf8("\xc3"));                      // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));                  // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));              // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));          // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xff"));
}

TEST(Paths, ArtifactPathRules) {
  EXPECT_TRUE(ValidateArtifactPath("sub/test.txt").ok());
  EXPECT_TRUE(ValidateArtifactPath(".hidden/ok").ok());  // hidden is policy, not syntax
  for (const char* bad : {"", "/abs", "a/../b", "..", "a/./b", "a//b", "a/"}) {
    EXPECT_EQ(ValidateArtifactPath(bad).code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(ValidateArtifactPath(std::string("a\0b", 3)).ok());
  EXPECT_FALSE(ValidateArtifactPath(std::string(1025, 'x')).ok());
  EXPECT_TRUE(ValidateArtifactPath(std::string(1024, 'x')).ok());
  std::string depth64, depth65;
  for (int i = 0; i < 63; ++i) depth64 += "d/";
  depth64 += "f";
  depth65 = "d/" + depth64;
  EXPECT_TRUE(ValidateArtifactPath(depth64).ok());
  EXPECT_NE(ValidateArtifactPath(depth65).message().find("65 deep"), std::string::npos);
  EXPECT_TRUE(IsSha256Hex(std::string(64, 'f')));
  EXPECT_FALSE(IsSha256Hex(std::string(64, 'F')));
  EXPECT_FALSE(IsSha256Hex(std::string(63, 'f')));
}

TEST(TimeUtil, RoundTripsIncludingBeforeEpoch) {
  for (absl::Time t : {absl::FromUnixMicros(1790000000123456), absl::FromUnixMicros(-1500000)}) {
    EXPECT_EQ(FromProtoTime(ToProtoTime(t)), t);
  }
  EXPECT_GE(ToProtoTime(absl::FromUnixMicros(-1500000)).nanos(), 0);
  EXPECT_EQ(FromProtoDuration(ToProtoDuration(absl::Milliseconds(1500))), absl::Milliseconds(1500));
  EXPECT_EQ(FormatRfc3339(absl::FromUnixSeconds(1696161600)), "2023-10-01T12:00:00Z");
}

TEST(FakeClock, MovesOnlyWhenTold) {
  FakeClock clock(absl::FromUnixSeconds(100));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(100));
  clock.Advance(absl::Seconds(5));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(105));
}

TEST(PeriodicTest, RunsAtOnceThenEveryPeriodAndStopsWhenDestroyed) {
  std::atomic<int> runs{0};
  {
    Periodic often(absl::Milliseconds(1), [&] { ++runs; });
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (runs < 3 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
    EXPECT_GE(runs, 3);
  }

  // A long period does not hold up the destructor: it wakes the thread.
  std::atomic<int> rare{0};
  {
    Periodic daily(absl::Hours(24), [&] { ++rare; });
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (rare < 1 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_EQ(rare, 1);
}

}  // namespace
}  // namespace arca
