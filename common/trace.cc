#include "common/trace.h"

#include <atomic>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/ids.h"

namespace arca::trace {
namespace {

thread_local const Context* current = nullptr;
std::atomic<std::function<void(SpanData)>*> sink{nullptr};
std::atomic<double> root_ratio{1.0};

bool IsLowerHex(absl::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool AllZero(absl::string_view s) { return s.find_first_not_of('0') == absl::string_view::npos; }

// n random bytes as 2n hex digits, never all zero.
std::string RandomHex(int n) {
  thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  do {
    out.clear();
    for (int i = 0; i < n; i += 8) {
      uint64_t r = random();
      for (int j = 0; j < 8 && i + j < n; ++j, r >>= 8) {
        out += kHex[(r >> 4) & 0xF];
        out += kHex[r & 0xF];
      }
    }
  } while (AllZero(out));
  return out;
}

}  // namespace

std::optional<Context> Parse(absl::string_view h, absl::string_view tracestate) {
  // version(2) - trace id(32) - span id(16) - flags(2)
  if (h.size() < 55 || h[2] != '-' || h[35] != '-' || h[52] != '-') return std::nullopt;
  const absl::string_view version = h.substr(0, 2), trace = h.substr(3, 32), span = h.substr(36, 16),
                          flags = h.substr(53, 2);
  if (!IsLowerHex(version) || version == "ff" || !IsLowerHex(trace) || !IsLowerHex(span) ||
      !IsLowerHex(flags) || AllZero(trace) || AllZero(span)) {
    return std::nullopt;
  }
  if (h.size() > 55 && (version == "00" || h[55] != '-')) return std::nullopt;
  Context c;
  c.trace_id = std::string(trace);
  c.span_id = std::string(span);
  const int low = flags[1] >= 'a' ? flags[1] - 'a' + 10 : flags[1] - '0';
  c.sampled = (low & 1) != 0;
  c.tracestate = std::string(tracestate.substr(0, 512));
  return c;
}

std::string Format(const Context& c) {
  return absl::StrCat("00-", c.trace_id, "-", c.span_id, c.sampled ? "-01" : "-00");
}

const Context* Current() { return current; }

Scope::Scope(const Context* context) : context_(context), previous_(current) { current = context; }
Scope::~Scope() {
  if (current == context_) current = previous_;
}

Span::Span(std::string name, Kind kind, const Context* parent) {
  data_.name = std::move(name);
  data_.kind = kind;
  if (parent != nullptr) {
    data_.context = *parent;
    data_.parent_span_id = parent->span_id;
  } else {
    data_.context.trace_id = RandomHex(16);
    data_.context.sampled = Chance(root_ratio.load(std::memory_order_relaxed));
  }
  data_.context.span_id = RandomHex(8);
  data_.start_unix_nanos = absl::GetCurrentTimeNanos();
}

void Span::Set(std::string key, int64_t value) {
  data_.attributes.emplace_back(std::move(key), absl::StrCat(value), true);
}

void Span::SetError(std::string message) {
  data_.error = true;
  data_.status_message = std::move(message);
}

void Span::End() {
  if (ended_) return;
  ended_ = true;
  std::function<void(SpanData)>* to = sink.load(std::memory_order_acquire);
  if (to == nullptr || !data_.context.sampled) return;
  data_.end_unix_nanos = absl::GetCurrentTimeNanos();
  (*to)(std::move(data_));
}

void SetRootSampleRatio(double ratio) { root_ratio = ratio; }

void SetSink(std::function<void(SpanData)> s) {
  // The sink replaced is kept: spans on other threads may be ending with it.
  static auto* retired = new std::vector<std::function<void(SpanData)>*>();
  static absl::Mutex mu(absl::kConstInit);
  absl::MutexLock lock(&mu);
  std::function<void(SpanData)>* old =
      sink.exchange(s ? new std::function<void(SpanData)>(std::move(s)) : nullptr, std::memory_order_acq_rel);
  if (old != nullptr) retired->push_back(old);
}

std::function<void(SpanData)> GetSink() {
  std::function<void(SpanData)>* now = sink.load(std::memory_order_acquire);
  return now != nullptr ? *now : nullptr;
}

}  // namespace arca::trace
