#include "services/gateway/download_limits.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace arca::gateway {

DownloadLimits::Slot::Slot(Slot&& other) noexcept
    : limits_(std::exchange(other.limits_, nullptr)), client_(std::move(other.client_)) {}

DownloadLimits::Slot& DownloadLimits::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    if (limits_ != nullptr) limits_->Release(client_);
    limits_ = std::exchange(other.limits_, nullptr);
    client_ = std::move(other.client_);
  }
  return *this;
}

DownloadLimits::Slot::~Slot() {
  if (limits_ != nullptr) limits_->Release(client_);
}

absl::StatusOr<DownloadLimits::Slot> DownloadLimits::Acquire(const std::string& client) {
  absl::MutexLock lock(&mu_);
  if (running_ >= total_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the gateway is serving ", running_, " downloads, its limit; retry shortly"));
  }
  int& mine = by_client_[client];
  if (mine >= per_client_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "this client has ", mine, " downloads running, the limit per client; retry shortly"));
  }
  ++mine;
  ++running_;
  return Slot(this, client);
}

void DownloadLimits::Release(const std::string& client) {
  absl::MutexLock lock(&mu_);
  --running_;
  auto it = by_client_.find(client);
  if (it != by_client_.end() && --it->second == 0) by_client_.erase(it);
}

int DownloadLimits::running() const {
  absl::MutexLock lock(&mu_);
  return running_;
}

}  // namespace arca::gateway
