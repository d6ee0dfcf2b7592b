#include "common/paths.h"

#include <fnmatch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace arca {

bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = s[i];
    int n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= static_cast<size_t>(n)) return false;  // truncated
    for (int k = 1; k <= n; ++k) {
      const unsigned char cc = s[i + k];
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

absl::Status ValidateArtifactPath(absl::string_view path) {
  if (path.empty()) return absl::InvalidArgumentError("path is empty");
  if (path.size() > kMaxPathBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "path is ", path.size(), " bytes; the limit is ", kMaxPathBytes));
  }
  if (path.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("path contains a NUL byte");
  }
  if (!IsValidUtf8(path)) {
    return absl::InvalidArgumentError("path is not valid UTF-8");
  }
  if (path.front() == '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("path must be relative: \"", path, "\""));
  }
  int depth = 0;
  for (absl::string_view segment : absl::StrSplit(path, '/')) {
    if (segment.empty() || segment == "." || segment == "..") {
      return absl::InvalidArgumentError(absl::StrCat(
          "path \"", path, "\" is not normalized (empty, \".\" or \"..\" segment)"));
    }
    ++depth;
  }
  if (depth > kMaxPathDepth) {
    return absl::InvalidArgumentError(absl::StrCat(
        "path is nested ", depth, " deep; the limit is ", kMaxPathDepth));
  }
  return absl::OkStatus();
}

bool IsSha256Hex(absl::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool InTreeDownload(absl::string_view path, absl::string_view dir,
                    const std::vector<std::string>& patterns) {
  if (!dir.empty() && !absl::StartsWith(path, absl::StrCat(dir, "/"))) return false;
  if (patterns.empty()) return !IsJobLog(path);
  const std::string p(path);
  for (const std::string& glob : patterns) {
    if (fnmatch(glob.c_str(), p.c_str(), 0) == 0) return true;
  }
  return false;
}

}  // namespace arca
