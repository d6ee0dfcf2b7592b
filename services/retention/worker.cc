#include "services/retention/worker.h"

#include "common/logging.h"

namespace arca::retention {

Worker::Worker(RetentionGc* gc, Clock* clock, WorkerOptions options)
    : gc_(gc), clock_(clock), options_(options),
      next_sweep_(clock->Now() + options.sweep_interval) {}

void Worker::Turn() {
  if (!resumed_) {
    auto resumed = gc_->ResumeDeletions();
    if (!resumed.ok()) {
      ARCA_LOG(WARNING) << "resuming deletions: " << resumed.status().message();
    } else {
      resumed_ = true;
      if (resumed->removed_size() > 0 || resumed->blobs_deleted() > 0) {
        ARCA_LOG(INFO) << "resumed: removed " << resumed->removed_size() << " file(s) and "
                       << resumed->blobs_deleted() << " blob(s)";
      }
    }
  }
  auto handled = gc_->ProcessDueTasks();
  if (!handled.ok()) ARCA_LOG(WARNING) << "GC queue: " << handled.status().message();
  if (clock_->Now() >= next_sweep_) {
    auto swept = gc_->RunCleanup();
    if (!swept.ok()) ARCA_LOG(WARNING) << "sweep: " << swept.status().message();
    next_sweep_ = clock_->Now() + options_.sweep_interval;
  }
}

void Worker::Start() {
  loop_ = std::make_unique<Periodic>(options_.poll_interval, [this] { Turn(); });
}

}  // namespace arca::retention
