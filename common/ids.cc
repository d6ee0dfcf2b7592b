#include "common/ids.h"

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"

namespace arca {

std::string RandomToken(int n) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  thread_local absl::BitGen gen;
  std::string out(n, ' ');
  for (char& c : out) c = kAlphabet[absl::Uniform(gen, 0u, 36u)];
  return out;
}

std::string NewSortableId(absl::string_view prefix, absl::Time now) {
  return absl::StrCat(prefix, "-",
                      absl::FormatTime("%Y%m%d%H%M", now, absl::UTCTimeZone()),
                      "-", RandomToken(6));
}

bool IsSafeName(absl::string_view s, size_t max_len) {
  if (s.empty() || s.size() > max_len) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace arca
