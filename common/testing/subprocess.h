#ifndef ARCA_COMMON_TESTING_SUBPROCESS_H_
#define ARCA_COMMON_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace arca::testing {

// A child process whose stderr is captured, for tests that run the real
// binaries. The destructor kills (SIGKILL) and reaps a child still running.
class Subprocess {
 public:
  Subprocess() = default;
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  // Starts argv. With log_file, the child's stderr is appended to that file
  // instead of a pipe, so a long-lived child never blocks on a reader
  // (WaitForLine then reads the file).
  absl::Status Start(const std::vector<std::string>& argv, const std::string& log_file = "");

  // Reads stderr until a line contains `marker`, then returns the rest of
  // that line after the marker. DEADLINE_EXCEEDED if it does not appear in
  // time; UNAVAILABLE if the child exits first (with what it printed).
  absl::StatusOr<std::string> WaitForLine(const std::string& marker, absl::Duration deadline);

  // For a server started with --listen=...:0: the "HOST:PORT" it logged.
  absl::StatusOr<std::string> WaitForListening(absl::Duration deadline);

  void Signal(int sig);
  // Waits for exit; returns the wait status (see WIFEXITED), or -1 on
  // timeout.
  int Wait(absl::Duration deadline);
  pid_t pid() const { return pid_; }
  // Everything read from stderr so far.
  const std::string& output() const { return output_; }

 private:
  pid_t pid_ = -1;
  int stderr_fd_ = -1;
  bool from_file_ = false;  // stderr_fd_ reads a log file, not a pipe
  std::string output_;
  size_t scanned_ = 0;
};

}  // namespace arca::testing

#endif  // ARCA_COMMON_TESTING_SUBPROCESS_H_
