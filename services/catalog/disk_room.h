#ifndef ARCA_SERVICES_CATALOG_DISK_ROOM_H_
#define ARCA_SERVICES_CATALOG_DISK_ROOM_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"

namespace arca::catalog {

// Keeps the database's disk from filling under RocksDB, which cannot be
// trusted to survive a log write that fails for want of space: writes are
// refused while less than `min_free` bytes are free and go ahead again by
// themselves once there is room. A reserve file of `reserve` bytes in the
// database's directory is given back when the catalog starts on a full
// disk, so it can open and serve reads; it is made again once there is
// room for it. Thread-safe.
class DiskRoom {
 public:
  // Free bytes where the database lives; the default asks statvfs.
  using FreeBytes = std::function<absl::StatusOr<int64_t>()>;

  DiskRoom(std::string dir, int64_t min_free, int64_t reserve, FreeBytes free_bytes = nullptr);

  // Before the database opens: gives the reserve back if the disk is short.
  // Returns the bytes free afterwards.
  absl::StatusOr<int64_t> PrepareToOpen();

  // OK when a write may go ahead; RESOURCE_EXHAUSTED saying how full the
  // disk is otherwise. Makes the reserve again when there is room for it.
  absl::Status CheckRoom();

  // Bytes free as last seen (for /metrics).
  int64_t last_free() const { return last_free_; }

 private:
  absl::StatusOr<int64_t> Free();
  std::string ReservePath() const;

  const std::string dir_;
  const int64_t min_free_, reserve_;
  FreeBytes free_bytes_;
  std::atomic<int64_t> last_free_{0};
  std::atomic<bool> reserve_missing_{true};
};

}  // namespace arca::catalog

#endif  // ARCA_SERVICES_CATALOG_DISK_ROOM_H_
