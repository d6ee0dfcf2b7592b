#ifndef ARCA_SERVICES_CLI_RUN_COMMAND_H_
#define ARCA_SERVICES_CLI_RUN_COMMAND_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace arca::cli {

struct CommandResult {
  int exit_code = 0;         // 128 + signal if the command was killed
  std::string description;   // "exit code 3", "killed by signal 15 (Terminated)"
  std::string log_path;      // stdout and stderr, interleaved as they came
};

// Runs argv (PATH is searched) with its stdout and stderr shown live on ours
// and kept in a temporary log file the caller removes. SIGTERM and SIGINT
// sent to this process are passed on to the command, which is then waited
// for. `on_started` runs once the command has been started (signals are
// forwarded from before that point). INTERNAL only if the command cannot be
// started at all (a missing program is exit code 127, as in a shell).
// `on_output`, while the command runs, gets the last kLiveTailBytes of its
// output (from a character's start) at most every two seconds, and only
// when there is more; it runs between reads, so it should be quick.
inline constexpr size_t kLiveTailBytes = 4096;
absl::StatusOr<CommandResult> RunCommand(
    const std::vector<std::string>& argv, const std::function<void()>& on_started = nullptr,
    const std::function<void(absl::string_view tail)>& on_output = nullptr);

}  // namespace arca::cli

#endif  // ARCA_SERVICES_CLI_RUN_COMMAND_H_
