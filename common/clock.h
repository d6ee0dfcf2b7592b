#ifndef ARCA_COMMON_CLOCK_H_
#define ARCA_COMMON_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace arca {

// The source of "now" for everything that stores or compares times, so tests
// can move time instead of sleeping.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() = 0;
  // The process-wide wall clock.
  static Clock* Real();
};

// A clock that only moves when told to. Thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1790000000))
      : now_(start) {}
  absl::Time Now() override;
  void Advance(absl::Duration d);
  void Set(absl::Time t);

 private:
  absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace arca

#endif  // ARCA_COMMON_CLOCK_H_
