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
void SetAccessLogSample(double fraction);
bool AccessLogged(bool failed);

// Named values a line carries beside its message (method, status, ...).
using LogFields = std::vector<std::pair<std::string, std::string>>;

// One line on stderr. Text: "I 2026-11-22T15:30:00.123Z arca-catalog]
// message key=value key="two words""; JSON: {"time":…,"level":"info",
// "service":"arca-catalog","message":…,"key":"value"}.
void LogLine(LogSeverity severity, absl::string_view message, const LogFields& fields = {});

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
