#ifndef ARCA_COMMON_IDS_H_
#define ARCA_COMMON_IDS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace arca {

// "<prefix>-YYYYMMDDHHMM-xxxxxx" in UTC with six random [a-z0-9], e.g.
// job-202611221530-x7k2q9 (PrimeHub's shape). Ids sort by minute.
std::string NewSortableId(absl::string_view prefix, absl::Time now);

// n random characters from [a-z0-9], from a thread-safe CSPRNG-seeded source.
std::string RandomToken(int n);

// True with probability `fraction` (never at 0 or below, always at 1 or
// above), from the same source: sampling decisions.
bool Chance(double fraction);

// True if s matches [A-Za-z0-9._-]{1,max_len} and is not "." or "..".
bool IsSafeName(absl::string_view s, size_t max_len = 255);

// OK if IsSafeName(value); else INVALID_ARGUMENT naming the field and what
// it got.
absl::Status CheckName(absl::string_view field, absl::string_view value);

}  // namespace arca

#endif  // ARCA_COMMON_IDS_H_
