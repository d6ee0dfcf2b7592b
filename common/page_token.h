#ifndef ARCA_COMMON_PAGE_TOKEN_H_
#define ARCA_COMMON_PAGE_TOKEN_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace arca {

// Opaque page tokens: web-safe base64 of "<kind>\n<position>". A token made
// for one listing is refused by another.
std::string EncodePageToken(absl::string_view kind, absl::string_view position);
// INVALID_ARGUMENT "malformed page_token" unless token came from
// EncodePageToken with the same kind. An empty token decodes to "".
absl::StatusOr<std::string> DecodePageToken(absl::string_view kind,
                                            absl::string_view token);

// 0 means default_size; INVALID_ARGUMENT outside [0, max_size].
absl::StatusOr<int> CheckPageSize(int page_size, int default_size = 100,
                                  int max_size = 1000);

}  // namespace arca

#endif  // ARCA_COMMON_PAGE_TOKEN_H_
