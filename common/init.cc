#include "common/init.h"

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "common/logging.h"

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
  config.version_string = [] { return std::string("arca 0.1.0\n"); };
  absl::SetFlagsUsageConfig(config);
  absl::SetProgramUsageMessage(usage);
  SetProgramName(program);
  return absl::ParseCommandLine(argc, argv);
}

}  // namespace arca
