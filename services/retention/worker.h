#ifndef ARCA_SERVICES_RETENTION_WORKER_H_
#define ARCA_SERVICES_RETENTION_WORKER_H_

#include <memory>

#include "absl/time/time.h"
#include "common/clock.h"
#include "common/periodic.h"
#include "services/retention/retention_gc.h"

namespace arca::retention {

struct WorkerOptions {
  absl::Duration poll_interval = absl::Seconds(1);   // the GC queue
  absl::Duration sweep_interval = absl::Hours(24);   // expired files, idle blobs
};

// What a retention-gc process does besides answering calls: first what a
// worker killed mid-way left undone (ResumeDeletions), then the GC queue
// every poll interval and a whole sweep once every sweep interval, by
// `clock`.
class Worker {
 public:
  Worker(RetentionGc* gc, Clock* clock, WorkerOptions options);

  // One turn of the loop, on the caller's thread.
  void Turn();
  // Turns every poll interval on a thread of its own until destroyed.
  void Start();

 private:
  RetentionGc* gc_;
  Clock* clock_;
  const WorkerOptions options_;
  bool resumed_ = false;
  absl::Time next_sweep_;
  std::unique_ptr<Periodic> loop_;  // last: stopped before the rest goes
};

}  // namespace arca::retention

#endif  // ARCA_SERVICES_RETENTION_WORKER_H_
