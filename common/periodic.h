#ifndef ARCA_COMMON_PERIODIC_H_
#define ARCA_COMMON_PERIODIC_H_

#include <functional>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace arca {

// Runs `fn` on its own thread at once and then every `period` until the
// object is destroyed; the destructor wakes the thread and waits for a
// running `fn` to return.
class Periodic {
 public:
  Periodic(absl::Duration period, std::function<void()> fn);
  ~Periodic();
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;

 private:
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace arca

#endif  // ARCA_COMMON_PERIODIC_H_
