#ifndef ARCA_COMMON_LOGGING_H_
#define ARCA_COMMON_LOGGING_H_

#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace arca {

// Names the program in every log line ("arca-catalog"); call once in main.
void SetProgramName(absl::string_view name);

enum class LogSeverity { INFO, WARNING, ERROR };

// How lines look (--log_format): text for people, JSON (one object a line)
// for log pipelines. Lines below the level (--log_level) are dropped.
enum class LogFormat { kText, kJson };
void SetLogFormat(LogFormat format);
void SetLogLevel(LogSeverity lowest);
bool LogEnabled(LogSeverity severity);

// Access lines (one per HTTP request and gRPC call): a failed one (5xx,
// INTERNAL, UNAVAILABLE, DATA_LOSS, UNKNOWN) is always logged, as a
// warning; of the others, this fraction (--access_log_sample, 1 = all).
// Default: 0.1, so a busy server's hot path stays fast.
void SetAccessLogSample(double fraction);
bool AccessLogged(bool failed);

// Named values a line carries beside its message (method, status, ...).
using LogFields = std::vector<std::pair<std::string, std::string>>;

// One line on stderr. Text: "I 2026-11-22T15:30:00.123Z arca-catalog]
// message key=value key="two words""; JSON: {"time":…,"level":"info",
// "service":"arca-catalog","message":…,"key":"value"}.
void LogLine(LogSeverity severity, absl::string_view message, const LogFields& fields = {});

// An access line (after AccessLogged said yes). Successes are many: they
// are gathered and written in batches, at most 100 ms after they are
// logged (at once when a batch reaches 64 KiB, before any other line, at
// exit, and on FlushLogs), so a busy server makes one write per batch
// rather than one per request; a SIGKILL loses at most that much. A
// warning is written at once.
void LogAccessLine(LogSeverity severity, absl::string_view message, const LogFields& fields);
// Writes the gathered access lines now.
void FlushLogs();

// s as a JSON string literal, quotes included.
std::string JsonQuoted(absl::string_view s);

class LogMessage {
 public:
  explicit LogMessage(LogSeverity severity) : severity_(severity) {}
  ~LogMessage() { LogLine(severity_, stream_.str()); }
  std::ostream& stream() { return stream_; }

 private:
  LogSeverity severity_;
  std::ostringstream stream_;
};

}  // namespace arca

// ARCA_LOG(INFO) << "listening on " << addr;
#define ARCA_LOG(severity) ::arca::LogMessage(::arca::LogSeverity::severity).stream()

#endif  // ARCA_COMMON_LOGGING_H_
