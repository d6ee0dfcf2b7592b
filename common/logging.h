#ifndef ARCA_COMMON_LOGGING_H_
#define ARCA_COMMON_LOGGING_H_

#include <sstream>
#include <string>

#include "absl/strings/string_view.h"

namespace arca {

// Names the program in every log line ("arca-catalog"); call once in main.
void SetProgramName(absl::string_view name);

enum class LogSeverity { INFO, WARNING, ERROR };

// One line on stderr: "I 2026-11-22T15:30:00.123Z arca-catalog] message".
void LogLine(LogSeverity severity, absl::string_view message);

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
