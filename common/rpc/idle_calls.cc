#include "common/rpc/idle_calls.h"

#include <algorithm>

#include "absl/time/clock.h"
#include "grpcpp/server_context.h"

namespace arca::rpc {

IdleCalls::IdleCalls(absl::Duration timeout)
    : timeout_(timeout), scan_(std::min(timeout / 4, absl::Seconds(1)), [this] { Scan(); }) {}

IdleCalls::~IdleCalls() = default;

IdleCalls::Call::~Call() {
  absl::MutexLock lock(&owner_->mu_);
  owner_->calls_.erase(it_);
}

std::unique_ptr<IdleCalls::Call> IdleCalls::Watch(grpc::ServerContext* context) {
  std::unique_ptr<Call> call(new Call(this, context));
  absl::MutexLock lock(&mu_);
  call->it_ = calls_.insert(calls_.end(), call.get());
  return call;
}

void IdleCalls::Scan() {
  const int64_t idle_since = absl::GetCurrentTimeNanos() - absl::ToInt64Nanoseconds(timeout_);
  absl::MutexLock lock(&mu_);
  for (Call* call : calls_) {
    if (call->last_progress_ns_ < idle_since && !call->cancelled_.exchange(true)) {
      call->context_->TryCancel();
    }
  }
}

}  // namespace arca::rpc
