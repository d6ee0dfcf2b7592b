#ifndef ARCA_SERVICES_GATEWAY_DOWNLOAD_LIMITS_H_
#define ARCA_SERVICES_GATEWAY_DOWNLOAD_LIMITS_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace arca::gateway {

// Bounds the downloads in progress, per client and in all. Thread-safe.
class DownloadLimits {
 public:
  DownloadLimits(int per_client, int total) : per_client_(per_client), total_(total) {}

  // Held while a download runs; gives its place back when destroyed.
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept;
    Slot& operator=(Slot&& other) noexcept;
    ~Slot();

   private:
    friend class DownloadLimits;
    Slot(DownloadLimits* limits, std::string client)
        : limits_(limits), client_(std::move(client)) {}
    DownloadLimits* limits_ = nullptr;
    std::string client_;
  };

  // A place for one more download by `client`; RESOURCE_EXHAUSTED, saying
  // which bound was reached, when the client or everyone has as many
  // running as allowed.
  absl::StatusOr<Slot> Acquire(const std::string& client);

  int running() const;

 private:
  void Release(const std::string& client);

  const int per_client_, total_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, int> by_client_ ABSL_GUARDED_BY(mu_);
  int running_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace arca::gateway

#endif  // ARCA_SERVICES_GATEWAY_DOWNLOAD_LIMITS_H_
