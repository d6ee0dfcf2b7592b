#ifndef ARCA_COMMON_RPC_IDLE_CALLS_H_
#define ARCA_COMMON_RPC_IDLE_CALLS_H_

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/periodic.h"

namespace grpc {
class ServerContext;
}

namespace arca::rpc {

// Cancels streaming calls that make no progress (no message read or
// written) for longer than a timeout, so a client that stalls gives back
// its server thread and buffers. The client sees CANCELLED. Thread-safe.
class IdleCalls {
 public:
  // Looks for idle calls about four times per timeout (at most once a
  // second).
  explicit IdleCalls(absl::Duration timeout);
  ~IdleCalls();

  // A call being watched, from Watch until destroyed.
  class Call {
   public:
    ~Call();
    // Progress was made: the idle time starts again.
    void Touch() { last_progress_ns_ = absl::GetCurrentTimeNanos(); }
    // Whether it was cancelled for being idle.
    bool cancelled() const { return cancelled_; }

   private:
    friend class IdleCalls;
    Call(IdleCalls* owner, grpc::ServerContext* context)
        : owner_(owner), context_(context), last_progress_ns_(absl::GetCurrentTimeNanos()) {}
    IdleCalls* owner_;
    grpc::ServerContext* context_;
    std::atomic<int64_t> last_progress_ns_;
    std::atomic<bool> cancelled_{false};
    std::list<Call*>::iterator it_;
  };

  std::unique_ptr<Call> Watch(grpc::ServerContext* context);

 private:
  void Scan();

  const absl::Duration timeout_;
  absl::Mutex mu_;
  std::list<Call*> calls_ ABSL_GUARDED_BY(mu_);
  Periodic scan_;  // last: stopped before the calls' list goes
};

}  // namespace arca::rpc

#endif  // ARCA_COMMON_RPC_IDLE_CALLS_H_
