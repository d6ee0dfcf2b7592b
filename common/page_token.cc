#include "common/page_token.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace arca {

std::string EncodePageToken(absl::string_view kind, absl::string_view position) {
  return absl::WebSafeBase64Escape(absl::StrCat(kind, "\n", position));
}

absl::StatusOr<std::string> DecodePageToken(absl::string_view kind,
                                            absl::string_view token) {
  if (token.empty()) return std::string();
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw) || raw.size() <= kind.size() ||
      absl::string_view(raw).substr(0, kind.size()) != kind ||
      raw[kind.size()] != '\n') {
    return absl::InvalidArgumentError("malformed page_token");
  }
  return raw.substr(kind.size() + 1);
}

absl::StatusOr<int> CheckPageSize(int page_size, int default_size, int max_size) {
  if (page_size < 0 || page_size > max_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_size must be between 0 and ", max_size, ", got ", page_size));
  }
  return page_size == 0 ? default_size : page_size;
}

}  // namespace arca
