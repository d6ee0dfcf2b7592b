#include "common/testing/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace arca::testing {

Subprocess::~Subprocess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (stderr_fd_ >= 0) close(stderr_fd_);
}

absl::Status Subprocess::Start(const std::vector<std::string>& argv, const std::string& log_file) {
  int fds[2];
  if (log_file.empty()) {
    if (pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  } else {
    fds[1] = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fds[1] < 0) return absl::InternalError(absl::StrCat("cannot open ", log_file));
    struct stat st;
    fds[0] = open(log_file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fds[0] < 0 || fstat(fds[0], &st) != 0 || lseek(fds[0], st.st_size, SEEK_SET) < 0) {
      return absl::InternalError(absl::StrCat("cannot read ", log_file));
    }
    from_file_ = true;
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_ = fork();
  if (pid_ < 0) return absl::InternalError("fork failed");
  if (pid_ == 0) {
    dup2(fds[1], 2);
    // Signals blocked in the test are not inherited as blocked.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  stderr_fd_ = fds[0];
  return absl::OkStatus();
}

absl::StatusOr<std::string> Subprocess::WaitForLine(const std::string& marker,
                                                    absl::Duration deadline) {
  const absl::Time end = absl::Now() + deadline;
  for (;;) {
    size_t at = output_.find(marker, scanned_);
    if (at != std::string::npos) {
      size_t eol = output_.find('\n', at);
      if (eol != std::string::npos) {
        scanned_ = eol + 1;
        return output_.substr(at + marker.size(), eol - at - marker.size());
      }
    }
    const absl::Duration left = end - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(
          absl::StrCat("no \"", marker, "\" from the child; it said:\n", output_));
    }
    pollfd p{stderr_fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1) <= 0) continue;
    char buf[4096];
    ssize_t n = read(stderr_fd_, buf, sizeof buf);
    if (n == 0 && from_file_ && waitpid(pid_, nullptr, WNOHANG) == 0) {
      absl::SleepFor(absl::Milliseconds(10));  // the file has nothing new yet
      continue;
    }
    if (n <= 0) {
      return absl::UnavailableError(
          absl::StrCat("the child exited before saying \"", marker, "\":\n", output_));
    }
    output_.append(buf, n);
  }
}

absl::StatusOr<std::string> Subprocess::WaitForListening(absl::Duration deadline) {
  auto rest = WaitForLine(" listening on ", deadline);
  if (!rest.ok()) return rest.status();
  return rest->substr(0, rest->find(' '));
}

void Subprocess::Signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

int Subprocess::Wait(absl::Duration deadline) {
  if (pid_ <= 0) return -1;
  const absl::Time end = absl::Now() + deadline;
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd < 0) return -1;
  int result = -1;
  for (;;) {
    // Drain stderr meanwhile so the child never blocks on a full pipe.
    pollfd p[2] = {{pidfd, POLLIN, 0}, {stderr_fd_, POLLIN, 0}};
    const int64_t left = absl::ToInt64Milliseconds(end - absl::Now());
    const int watched = stderr_fd_ >= 0 && !from_file_ ? 2 : 1;
    if (left < 0 || poll(p, watched, static_cast<int>(left) + 1) <= 0) break;
    if (watched == 2 && (p[1].revents & (POLLIN | POLLHUP))) {
      char buf[4096];
      ssize_t n = read(stderr_fd_, buf, sizeof buf);
      if (n > 0) {
        output_.append(buf, n);
      } else {
        close(stderr_fd_);
        stderr_fd_ = -1;
      }
    }
    if (p[0].revents & POLLIN) {
      int status = 0;
      waitpid(pid_, &status, 0);
      pid_ = -1;
      result = status;
      break;
    }
  }
  close(pidfd);
  return result;
}

}  // namespace arca::testing
