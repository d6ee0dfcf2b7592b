#ifndef ARCA_COMMON_TRACE_H_
#define ARCA_COMMON_TRACE_H_

// Traces in the W3C Trace Context shape: a request carries `traceparent`
// ("00-<32 hex trace id>-<16 hex parent span id>-<2 hex flags>") from the
// gateway through every gRPC hop; each hop records spans, which an exporter
// (common/otlp, --otlp_endpoint) sends on. Log lines written while a span
// is the thread's current one carry its trace id.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace arca::trace {

// Where a span stands in a trace.
struct Context {
  std::string trace_id;    // 32 lower-case hex digits, not all zero
  std::string span_id;     // 16 lower-case hex digits, not all zero
  bool sampled = true;     // the traceparent's flag: export it
  std::string tracestate;  // passed on as it came (vendors' state)
};

// A `traceparent` header's context, or nullopt when it is malformed (the
// W3C rules: version ff, upper-case hex and all-zero ids are invalid; a
// later version may carry more after the flags).
std::optional<Context> Parse(absl::string_view traceparent, absl::string_view tracestate = "");
// "00-<trace id>-<span id>-<flags>".
std::string Format(const Context& context);

// The thread's current span (the call or request it is working on), or null.
const Context* Current();

// Makes a context the thread's current one while it lives (a Scope ended
// on another thread leaves that thread's current one alone).
class Scope {
 public:
  explicit Scope(const Context* context);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  const Context* context_;
  const Context* previous_;
};

enum class Kind { kInternal = 1, kServer = 2, kClient = 3 };

// A finished span, as the exporter sends it.
struct SpanData {
  std::string name;
  Kind kind = Kind::kInternal;
  Context context;
  std::string parent_span_id;  // "" for a trace's root
  int64_t start_unix_nanos = 0;
  int64_t end_unix_nanos = 0;
  // (key, value, value is an integer)
  std::vector<std::tuple<std::string, std::string, bool>> attributes;
  bool error = false;
  std::string status_message;
};

// One operation of a trace: a child of `parent`, or the root of a new
// trace when parent is null. Ends (and goes to the sink, when sampled) on
// End or destruction.
class Span {
 public:
  Span(std::string name, Kind kind, const Context* parent);
  ~Span() { End(); }
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;

  const Context& context() const { return data_.context; }
  void SetName(std::string name) { data_.name = std::move(name); }
  void Set(std::string key, std::string value) { data_.attributes.emplace_back(std::move(key), std::move(value), false); }
  void Set(std::string key, int64_t value);
  void SetError(std::string message);
  void End();

 private:
  SpanData data_;
  bool ended_ = false;
};

// The fraction of new traces (spans without a parent) that are sampled,
// as OpenTelemetry's parent-based ratio sampler does it: a child follows
// its parent's flag. Default: 1 (all).
void SetRootSampleRatio(double ratio);

// Where ended, sampled spans go (the exporter); none by default, when spans
// cost only their ids and times. Set before serving; null unsets.
void SetSink(std::function<void(SpanData)> sink);
// The sink set now (empty when none), to set again later.
std::function<void(SpanData)> GetSink();

}  // namespace arca::trace

#endif  // ARCA_COMMON_TRACE_H_
