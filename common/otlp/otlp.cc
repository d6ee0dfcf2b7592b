#include "common/otlp/otlp.h"

#include <cstdlib>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "curl/curl.h"
#include "common/logging.h"
#include "common/version.h"

namespace arca::otlp {
namespace {

std::string Attribute(absl::string_view key, absl::string_view value, bool integer) {
  return absl::StrCat("{\"key\":", JsonQuoted(key), ",\"value\":{",
                      integer ? absl::StrCat("\"intValue\":\"", value, "\"")
                              : absl::StrCat("\"stringValue\":", JsonQuoted(value)),
                      "}}");
}

// Spans that go out without waiting for the interval.
constexpr size_t kBatch = 1024;

class Exporter {
 public:
  Exporter(ExporterOptions options, std::string url) : options_(std::move(options)), url_(std::move(url)) {}

  void Add(trace::SpanData span) {
    absl::MutexLock lock(&mu_);
    if (queue_.size() >= options_.max_queue) {
      ++dropped_;
      return;
    }
    queue_.push_back(std::move(span));
    if (queue_.size() == kBatch) cv_.Signal();  // a batch is ready: no need to wait
  }

  void Run() {
    for (;;) {
      std::vector<trace::SpanData> batch;
      size_t dropped = 0;
      bool stopping;
      {
        absl::MutexLock lock(&mu_);
        const absl::Time until = absl::Now() + options_.interval;
        while (!stopping_ && queue_.size() < kBatch && absl::Now() < until) cv_.WaitWithDeadline(&mu_, until);
        batch.swap(queue_);
        std::swap(dropped, dropped_);
        stopping = stopping_;
      }
      if (dropped > 0) {
        LogLine(LogSeverity::WARNING, "spans dropped: more waited than the exporter holds",
                {{"dropped", absl::StrCat(dropped)}, {"max_queue", absl::StrCat(options_.max_queue)}});
      }
      if (!batch.empty()) Send(EncodeJson(options_.service, batch), batch.size());
      if (stopping) return;
    }
  }

  // At exit: what waits goes out, then the thread ends.
  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
      cv_.Signal();
    }
    if (thread_.joinable()) thread_.join();
  }

  std::thread thread_;

 private:
  void Send(const std::string& body, size_t spans) {
    CURL* curl = curl_easy_init();
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION,
                     +[](char*, size_t size, size_t n, void*) -> size_t { return size * n; });
    const CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK || status / 100 != 2) {
      LogLine(LogSeverity::WARNING, "spans not exported",
              {{"endpoint", url_}, {"spans", absl::StrCat(spans)},
               {"error", rc != CURLE_OK ? curl_easy_strerror(rc) : absl::StrCat("HTTP ", status)}});
    }
  }

  const ExporterOptions options_;
  const std::string url_;
  absl::Mutex mu_;
  absl::CondVar cv_;
  std::vector<trace::SpanData> queue_ ABSL_GUARDED_BY(mu_);
  size_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

Exporter* exporter = nullptr;

}  // namespace

std::string EncodeJson(absl::string_view service, const std::vector<trace::SpanData>& spans) {
  std::string out = absl::StrCat(
      "{\"resourceSpans\":[{\"resource\":{\"attributes\":[", Attribute("service.name", service, false), ",",
      Attribute("service.version", kVersion, false), "]},\"scopeSpans\":[{\"scope\":{\"name\":\"arca\",\"version\":",
      JsonQuoted(kVersion), "},\"spans\":[");
  for (size_t i = 0; i < spans.size(); ++i) {
    const trace::SpanData& s = spans[i];
    absl::StrAppend(&out, i == 0 ? "" : ",", "{\"traceId\":\"", s.context.trace_id, "\",\"spanId\":\"",
                    s.context.span_id, "\"");
    if (!s.parent_span_id.empty()) absl::StrAppend(&out, ",\"parentSpanId\":\"", s.parent_span_id, "\"");
    if (!s.context.tracestate.empty()) absl::StrAppend(&out, ",\"traceState\":", JsonQuoted(s.context.tracestate));
    absl::StrAppend(&out, ",\"name\":", JsonQuoted(s.name), ",\"kind\":", static_cast<int>(s.kind),
                    ",\"startTimeUnixNano\":\"", s.start_unix_nanos, "\",\"endTimeUnixNano\":\"",
                    s.end_unix_nanos, "\",\"attributes\":[");
    for (size_t a = 0; a < s.attributes.size(); ++a) {
      const auto& [key, value, integer] = s.attributes[a];
      absl::StrAppend(&out, a == 0 ? "" : ",", Attribute(key, value, integer));
    }
    // Status codes: 1 OK, 2 ERROR.
    absl::StrAppend(&out, "],\"status\":{\"code\":", s.error ? 2 : 1);
    if (s.error) absl::StrAppend(&out, ",\"message\":", JsonQuoted(s.status_message));
    out += "}}";
  }
  return out + "]}]}]}";
}

absl::Status StartExport(const ExporterOptions& options) {
  if (!absl::StartsWith(options.endpoint, "http://") && !absl::StartsWith(options.endpoint, "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("--otlp_endpoint must be an http:// or https:// URL, got \"", options.endpoint, "\""));
  }
  std::string url = options.endpoint;
  if (!absl::EndsWith(url, "/v1/traces")) url = absl::StrCat(absl::StripSuffix(url, "/"), "/v1/traces");
  curl_global_init(CURL_GLOBAL_DEFAULT);
  exporter = new Exporter(options, std::move(url));
  exporter->thread_ = std::thread([] { exporter->Run(); });
  trace::SetSink([](trace::SpanData span) { exporter->Add(std::move(span)); });
  std::atexit([] { exporter->Stop(); });
  return absl::OkStatus();
}

}  // namespace arca::otlp
