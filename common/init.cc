#include "common/init.h"

#include <cstdio>
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/otlp/otlp.h"
#include "common/trace.h"
#include "common/version.h"

ABSL_FLAG(std::string, log_format, "text",
          "log lines as text (for people) or json (one object a line, for log pipelines)");
ABSL_FLAG(std::string, log_level, "info", "the lowest level logged: info, warning or error");
ABSL_FLAG(double, access_log_sample, 0.1,
          "the fraction of successful requests and calls given an access line (failures always are; 1 = all)");

ABSL_FLAG(std::string, otlp_endpoint, "",
          "an OpenTelemetry collector's OTLP/HTTP endpoint (http://HOST:4318) to send trace spans to; "
          "empty: spans are not exported (trace ids are still logged and passed on)");

ABSL_FLAG(double, trace_sample, 1.0,
          "the fraction of new traces (requests that bring no traceparent) whose spans are exported; "
          "a request's traceparent decides for its own trace");

namespace arca {

std::vector<char*> InitProgram(int argc, char** argv, absl::string_view program,
                               absl::string_view usage) {
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "services/") || absl::StrContains(file, "common/");
  };
  config.contains_helpshort_flags = config.contains_help_flags;
  config.normalize_filename = [](absl::string_view file) {
    for (absl::string_view root : {"services/", "common/"}) {
      size_t at = file.rfind(root);
      if (at != absl::string_view::npos) return std::string(file.substr(at));
    }
    return std::string(file);
  };
  config.version_string = [] { return absl::StrCat("arca ", kVersion, "\n"); };
  absl::SetFlagsUsageConfig(config);
  absl::SetProgramUsageMessage(usage);
  SetProgramName(program);
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  const std::string format = absl::GetFlag(FLAGS_log_format), level = absl::GetFlag(FLAGS_log_level);
  const double sample = absl::GetFlag(FLAGS_access_log_sample);
  auto usage_error = [&](const std::string& what) {
    std::fprintf(stderr, "%s: %s\n", std::string(program).c_str(), what.c_str());
    std::exit(2);
  };
  if (format != "text" && format != "json") usage_error("--log_format must be text or json, got \"" + format + "\"");
  if (level != "info" && level != "warning" && level != "error") {
    usage_error("--log_level must be info, warning or error, got \"" + level + "\"");
  }
  if (!(sample >= 0 && sample <= 1)) usage_error("--access_log_sample must be between 0 and 1");
  const double trace_sample = absl::GetFlag(FLAGS_trace_sample);
  if (!(trace_sample >= 0 && trace_sample <= 1)) usage_error("--trace_sample must be between 0 and 1");
  trace::SetRootSampleRatio(trace_sample);
  SetLogFormat(format == "json" ? LogFormat::kJson : LogFormat::kText);
  SetLogLevel(level == "info" ? LogSeverity::INFO : level == "warning" ? LogSeverity::WARNING : LogSeverity::ERROR);
  SetAccessLogSample(sample);
  if (const std::string otlp = absl::GetFlag(FLAGS_otlp_endpoint); !otlp.empty()) {
    if (absl::Status s = otlp::StartExport({.endpoint = otlp, .service = std::string(program)}); !s.ok()) {
      usage_error(std::string(s.message()));
    }
  }
  return rest;
}

}  // namespace arca
