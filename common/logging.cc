#include "common/logging.h"

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace arca {
namespace {
std::string& ProgramName() {
  static std::string* name = new std::string("arca");
  return *name;
}
}  // namespace

void SetProgramName(absl::string_view name) { ProgramName() = std::string(name); }

void LogLine(LogSeverity severity, absl::string_view message) {
  char level = severity == LogSeverity::INFO      ? 'I'
               : severity == LogSeverity::WARNING ? 'W'
                                                  : 'E';
  std::string line = absl::StrCat(
      std::string(1, level), " ",
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()),
      " ", ProgramName(), "] ", message, "\n");
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace arca
