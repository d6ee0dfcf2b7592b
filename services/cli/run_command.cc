#include "services/cli/run_command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace arca::cli {
namespace {

volatile sig_atomic_t child_pid = 0;
volatile sig_atomic_t pending_signal = 0;  // arrived before the child existed

void Forward(int sig) {
  if (child_pid > 0) {
    kill(child_pid, sig);
  } else {
    pending_signal = sig;
  }
}

void WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    data += w;
    n -= w;
  }
}

}  // namespace

absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         const std::function<void()>& on_started,
                                         const std::function<void(absl::string_view)>& on_output) {
  CommandResult result;
  char log_template[] = "/tmp/arca-run-XXXXXX";
  int log_fd = mkstemp(log_template);
  if (log_fd < 0) return absl::InternalError(absl::StrCat("mkstemp: ", strerror(errno)));
  result.log_path = log_template;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(log_fd);
    return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  struct sigaction forward = {}, old_term, old_int;
  forward.sa_handler = Forward;
  sigemptyset(&forward.sa_mask);
  forward.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &forward, &old_term);
  sigaction(SIGINT, &forward, &old_int);

  // Blocked across fork: a signal forwarded before the child has restored
  // the default action stays pending instead of reaching the inherited
  // handler (which would lose it), and kills the child once unblocked.
  sigset_t terminate, old_mask;
  sigemptyset(&terminate);
  sigaddset(&terminate, SIGTERM);
  sigaddset(&terminate, SIGINT);
  pthread_sigmask(SIG_BLOCK, &terminate, &old_mask);
  pid_t pid = fork();
  if (pid < 0) {
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    close(log_fd);
    return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  }
  if (pid == 0) {
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    execvp(args[0], args.data());
    std::string msg = absl::StrCat("arca: cannot run ", argv[0], ": ", strerror(errno), "\n");
    WriteAll(2, msg.data(), msg.size());
    _exit(127);
  }
  child_pid = pid;
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  if (pending_signal != 0) kill(pid, pending_signal);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (on_started) on_started();

  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char buffer[65536];
  std::string tail;  // the output's last kLiveTailBytes, for on_output
  bool more = false;
  absl::Time next_tail = absl::Now() + absl::Seconds(2);
  while (open_fds > 0) {
    if (on_output && more && absl::Now() >= next_tail) {
      absl::string_view t = tail;
      while (!t.empty() && (static_cast<unsigned char>(t[0]) & 0xC0) == 0x80) t.remove_prefix(1);
      on_output(t);
      more = false;
      next_tail = absl::Now() + absl::Seconds(2);
    }
    const int wait_ms = on_output && more
                            ? static_cast<int>(std::max<int64_t>(
                                  0, absl::ToInt64Milliseconds(next_tail - absl::Now())))
                            : -1;
    const int ready = poll(fds, 2, wait_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
        continue;
      }
      WriteAll(i == 0 ? 1 : 2, buffer, n);
      WriteAll(log_fd, buffer, n);
      if (on_output) {
        tail.append(buffer, n);
        if (tail.size() > kLiveTailBytes) tail.erase(0, tail.size() - kLiveTailBytes);
        more = true;
      }
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  child_pid = 0;
  pending_signal = 0;
  sigaction(SIGTERM, &old_term, nullptr);
  sigaction(SIGINT, &old_int, nullptr);
  close(log_fd);
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
    result.description = absl::StrCat("exit code ", result.exit_code);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
    result.description =
        absl::StrCat("killed by signal ", WTERMSIG(status), " (", strsignal(WTERMSIG(status)), ")");
  }
  return result;
}

}  // namespace arca::cli
