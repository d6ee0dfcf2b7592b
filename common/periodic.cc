#include "common/periodic.h"

#include <utility>

namespace arca {

Periodic::Periodic(absl::Duration period, std::function<void()> fn)
    : thread_([this, period, fn = std::move(fn)] {
        do {
          fn();
        } while (!stop_.WaitForNotificationWithTimeout(period));
      }) {}

Periodic::~Periodic() {
  stop_.Notify();
  thread_.join();
}

}  // namespace arca
