#ifndef ARCA_COMMON_TIME_UTIL_H_
#define ARCA_COMMON_TIME_UTIL_H_

#include <string>

#include "absl/time/time.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace arca {

google::protobuf::Timestamp ToProtoTime(absl::Time t);
// An unset (all-zero) Timestamp reads as the Unix epoch.
absl::Time FromProtoTime(const google::protobuf::Timestamp& t);
google::protobuf::Duration ToProtoDuration(absl::Duration d);
absl::Duration FromProtoDuration(const google::protobuf::Duration& d);

// RFC 3339 in UTC, fractional seconds only when present
// ("2023-10-01T12:00:00Z").
std::string FormatRfc3339(absl::Time t);

}  // namespace arca

#endif  // ARCA_COMMON_TIME_UTIL_H_
