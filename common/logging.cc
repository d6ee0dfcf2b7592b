#include "common/logging.h"

#include <atomic>
#include <cstdio>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/trace.h"

namespace arca {
namespace {

std::string& ProgramName() {
  static std::string* name = new std::string("arca");
  return *name;
}
std::atomic<LogFormat> format{LogFormat::kText};
std::atomic<LogSeverity> lowest{LogSeverity::INFO};
std::atomic<double> access_sample{1.0};

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
  if (!LogEnabled(LogSeverity::INFO)) return false;
  const double fraction = access_sample;
  if (fraction >= 1) return true;
  if (fraction <= 0) return false;
  thread_local std::minstd_rand random{std::random_device{}()};
  return std::uniform_real_distribution<double>(0, 1)(random) < fraction;
}

void LogLine(LogSeverity severity, absl::string_view message, const LogFields& fields) {
  if (!LogEnabled(severity)) return;
  const std::string time = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  // Written while working on a request or call: the trace it belongs to.
  const trace::Context* trace = trace::Current();
  std::string line;
  if (format == LogFormat::kJson) {
    const char* level = severity == LogSeverity::INFO ? "info" : severity == LogSeverity::WARNING ? "warning" : "error";
    line = absl::StrCat("{\"time\":\"", time, "\",\"level\":\"", level, "\",\"service\":", JsonQuoted(ProgramName()),
                        ",\"message\":", JsonQuoted(message));
    for (const auto& [k, v] : fields) absl::StrAppend(&line, ",", JsonQuoted(k), ":", JsonQuoted(v));
    if (trace != nullptr) absl::StrAppend(&line, ",\"trace_id\":\"", trace->trace_id, "\"");
    line += "}\n";
  } else {
    const char level = severity == LogSeverity::INFO ? 'I' : severity == LogSeverity::WARNING ? 'W' : 'E';
    line = absl::StrCat(std::string(1, level), " ", time, " ", ProgramName(), "] ", message);
    for (const auto& [k, v] : fields) absl::StrAppend(&line, " ", k, "=", TextValue(v));
    if (trace != nullptr) absl::StrAppend(&line, " trace_id=", trace->trace_id);
    line += "\n";
  }
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace arca
