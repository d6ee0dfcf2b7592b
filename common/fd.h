#ifndef ARCA_COMMON_FD_H_
#define ARCA_COMMON_FD_H_

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace arca {

// An owned file descriptor, closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// Opens `relative` ('/'-separated, no empty, "." or ".." segments) beneath
// the directory `dir_fd`, one component at a time and following no symbolic
// link, so nothing outside that directory can be reached whatever happens to
// the tree meanwhile. `flags` are for the last component (O_NOFOLLOW and
// O_CLOEXEC are added). On failure returns errno's value as the status
// message's cause: NOT_FOUND for a missing component, FAILED_PRECONDITION
// where a component is a symbolic link or not a directory, INTERNAL else.
absl::StatusOr<UniqueFd> OpenBeneath(int dir_fd, absl::string_view relative, int flags);

// The path the kernel has for an open descriptor ("/proc/self/fd/N").
absl::StatusOr<std::string> PathOfFd(int fd);

}  // namespace arca

#endif  // ARCA_COMMON_FD_H_
