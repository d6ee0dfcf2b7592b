#include "common/ids.h"

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace arca {

namespace {

absl::BitGen& Generator() {
  thread_local absl::BitGen gen;
  return gen;
}

}  // namespace

std::string RandomToken(int n) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out(n, ' ');
  for (char& c : out) c = kAlphabet[absl::Uniform(Generator(), 0u, 36u)];
  return out;
}

bool Chance(double fraction) {
  if (fraction >= 1) return true;
  if (fraction <= 0) return false;
  return absl::Bernoulli(Generator(), fraction);
}

std::string NewSortableId(absl::string_view prefix, absl::Time now) {
  return absl::StrCat(prefix, "-",
                      absl::FormatTime("%Y%m%d%H%M", now, absl::UTCTimeZone()),
                      "-", RandomToken(6));
}

bool IsSafeName(absl::string_view s, size_t max_len) {
  if (s.empty() || s.size() > max_len || s == "." || s == "..") return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

absl::Status CheckName(absl::string_view field, absl::string_view value) {
  if (IsSafeName(value)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      field, " must be 1 to 255 of [A-Za-z0-9._-] and not \".\" or \"..\", got \"",
      absl::CHexEscape(value.substr(0, 300)), "\""));
}

}  // namespace arca
