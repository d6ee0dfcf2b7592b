#ifndef ARCA_SERVICES_GATEWAY_ZIP_H_
#define ARCA_SERVICES_GATEWAY_ZIP_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/http/server.h"

namespace arca::gateway {

// A zip archive written as it is sent: every file stored as it is (no
// compression: artifacts are mostly compressed already, and the archive
// then streams at the speed of the bytes), its CRC-32 in a data descriptor
// after it, ZIP64 records for files or archives past 4 GiB or 65,535
// entries. Only the central directory (a few dozen bytes a file) is held.
class ZipStream : public http::HttpBody {
 public:
  struct Entry {
    std::string name;  // a relative path with '/'
    int64_t size = 0;  // exactly the bytes open() will give
    absl::Time modified = absl::UnixEpoch();
    // Opened when the archive reaches the file, so that one backend stream
    // is open at a time.
    std::function<absl::StatusOr<std::unique_ptr<http::HttpBody>>()> open;
  };

  explicit ZipStream(std::vector<Entry> entries);

  // The archive's exact length in bytes, known before any byte is read.
  int64_t length() const { return length_; }

  // DATA_LOSS when a file gives more or fewer bytes than its size; the
  // response then ends short.
  absl::Status Next(std::string* out) override;

 private:
  struct Placed {
    int64_t offset = 0;  // of its local header
    bool zip64 = false;
    uint32_t crc = 0;
  };
  std::string LocalHeader(size_t i) const;
  std::string DataDescriptor(size_t i) const;
  std::string CentralDirectory() const;

  std::vector<Entry> entries_;
  std::vector<Placed> placed_;
  int64_t central_offset_ = 0, length_ = 0;

  size_t next_ = 0;  // the entry being sent
  std::unique_ptr<http::HttpBody> body_;
  int64_t sent_ = 0;  // of the entry being sent
  bool done_ = false;
};

}  // namespace arca::gateway

#endif  // ARCA_SERVICES_GATEWAY_ZIP_H_
