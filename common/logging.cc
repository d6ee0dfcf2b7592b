#include "common/logging.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/ids.h"
#include "common/trace.h"

namespace arca {
namespace {

std::string& ProgramName() {
  static std::string* name = new std::string("arca");
  return *name;
}
std::atomic<LogFormat> format{LogFormat::kText};
std::atomic<LogSeverity> lowest{LogSeverity::INFO};
std::atomic<double> access_sample{0.1};

}  // namespace

std::string JsonQuoted(absl::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out += kHex[(c >> 4) & 0xF];
          out += kHex[c & 0xF];
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

namespace {

// A text line's value: as it is, or quoted when it has spaces, quotes or
// '=' (or is empty).
std::string TextValue(absl::string_view v) {
  const bool plain = !v.empty() && v.find_first_of(" \t\n\"=") == absl::string_view::npos;
  return plain ? std::string(v) : JsonQuoted(v);
}

}  // namespace

void SetProgramName(absl::string_view name) { ProgramName() = std::string(name); }
void SetLogFormat(LogFormat f) { format = f; }
void SetLogLevel(LogSeverity s) { lowest = s; }
bool LogEnabled(LogSeverity s) { return static_cast<int>(s) >= static_cast<int>(lowest.load()); }
void SetAccessLogSample(double fraction) { access_sample = fraction; }

bool AccessLogged(bool failed) {
  if (failed) return LogEnabled(LogSeverity::WARNING);
  return LogEnabled(LogSeverity::INFO) && Chance(access_sample);
}

namespace {

std::string FormatLine(LogSeverity severity, absl::string_view message, const LogFields& fields) {
  // The time, formatted once a second per thread ("…T15:30:00." + ms).
  thread_local int64_t second = -1;
  thread_local std::string prefix;
  const absl::Time now = absl::Now();
  const int64_t ms = absl::ToUnixMillis(now);
  if (ms / 1000 != second) {
    second = ms / 1000;
    prefix = absl::FormatTime("%Y-%m-%dT%H:%M:%S.", now, absl::UTCTimeZone());
  }
  char millis[8];
  std::snprintf(millis, sizeof millis, "%03dZ", static_cast<int>(ms % 1000));
  const std::string time = prefix + millis;
  // Written while working on a request or call: the trace it belongs to.
  const trace::Context* trace = trace::Current();
  std::string line;
  line.reserve(256);
  if (format == LogFormat::kJson) {
    const char* level = severity == LogSeverity::INFO ? "info" : severity == LogSeverity::WARNING ? "warning" : "error";
    absl::StrAppend(&line, "{\"time\":\"", time, "\",\"level\":\"", level, "\",\"service\":", JsonQuoted(ProgramName()),
                        ",\"message\":", JsonQuoted(message));
    for (const auto& [k, v] : fields) absl::StrAppend(&line, ",", JsonQuoted(k), ":", JsonQuoted(v));
    if (trace != nullptr) absl::StrAppend(&line, ",\"trace_id\":\"", trace->trace_id, "\"");
    line += "}\n";
  } else {
    const char level = severity == LogSeverity::INFO ? 'I' : severity == LogSeverity::WARNING ? 'W' : 'E';
    absl::StrAppend(&line, absl::string_view(&level, 1), " ", time, " ", ProgramName(), "] ", message);
    for (const auto& [k, v] : fields) absl::StrAppend(&line, " ", k, "=", TextValue(v));
    if (trace != nullptr) absl::StrAppend(&line, " trace_id=", trace->trace_id);
    line += "\n";
  }
  return line;
}

// Gathered access lines, written before any other line so the order holds.
// A plain mutex: this is on every request's path.
std::mutex write_mu;
std::string* gathered = nullptr;
constexpr size_t kBatchBytes = 64 << 10;

void WriteLocked(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

void FlushLocked() {
  if (gathered != nullptr && !gathered->empty()) {
    WriteLocked(*gathered);
    gathered->clear();
  }
}

}  // namespace

void LogLine(LogSeverity severity, absl::string_view message, const LogFields& fields) {
  if (!LogEnabled(severity)) return;
  const std::string line = FormatLine(severity, message, fields);
  std::lock_guard<std::mutex> lock(write_mu);
  FlushLocked();
  WriteLocked(line);
}

void LogAccessLine(LogSeverity severity, absl::string_view message, const LogFields& fields) {
  if (severity != LogSeverity::INFO) return LogLine(severity, message, fields);
  if (!LogEnabled(severity)) return;
  const std::string line = FormatLine(severity, message, fields);
  std::lock_guard<std::mutex> lock(write_mu);
  if (gathered == nullptr) {  // the first: a thread writes them out from now on
    gathered = new std::string();
    std::thread([] {
      for (;;) {
        absl::SleepFor(absl::Milliseconds(100));
        FlushLogs();
      }
    }).detach();
    std::atexit(FlushLogs);
  }
  *gathered += line;
  if (gathered->size() >= kBatchBytes) FlushLocked();
}

void FlushLogs() {
  std::lock_guard<std::mutex> lock(write_mu);
  FlushLocked();
}

}  // namespace arca
