#ifndef ARCA_SERVICES_GATEWAY_HTTP_UTIL_H_
#define ARCA_SERVICES_GATEWAY_HTTP_UTIL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

// Request parsing helpers with no I/O: JSON, percent-decoding, query strings
// and forms, routes, byte ranges, content types.
namespace arca::gateway {

// The deepest nesting of arrays and objects a JSON input may have.
inline constexpr int kMaxJsonDepth = 64;

// Parses JSON text; `what` names it in errors ("request body"). Nesting
// deeper than kMaxJsonDepth is refused before anything is parsed, so no
// input can exhaust the stack of code that walks the result.
// INVALID_ARGUMENT for text that is not JSON or nests too deep.
absl::StatusOr<nlohmann::ordered_json> ParseJson(absl::string_view text, absl::string_view what);

// Decodes %XX escapes (and '+' as space when plus_is_space, as in forms).
// INVALID_ARGUMENT for a truncated or non-hex escape, a decoded NUL, or a
// result that is not UTF-8.
absl::StatusOr<std::string> PercentDecode(absl::string_view in, bool plus_is_space = false);

// Encodes everything but unreserved characters (and '/' when keep_slash).
std::string PercentEncode(absl::string_view in, bool keep_slash = false);

// A query string or an application/x-www-form-urlencoded body. Keys may
// repeat; Get returns the last value.
class QueryParams {
 public:
  static absl::StatusOr<QueryParams> Parse(absl::string_view text);
  std::optional<std::string> Get(absl::string_view key) const;
  std::string GetOr(absl::string_view key, std::string fallback) const;
  bool Has(absl::string_view key) const { return Get(key).has_value(); }
  const std::vector<std::pair<std::string, std::string>>& all() const { return params_; }

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

// The fields of a multipart/form-data body (what curl -F sends), in order.
// INVALID_ARGUMENT for a missing boundary or a malformed body.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseMultipartForm(
    absl::string_view content_type, absl::string_view body);

// A parsed request target.
struct Target {
  std::string path;   // decoded
  std::vector<std::string> segments;  // decoded, split on '/' before decoding
  QueryParams query;
};
// INVALID_ARGUMENT for a target that is not an absolute path or has bad
// escapes.
absl::StatusOr<Target> ParseTarget(absl::string_view target);

// Matches segments against a pattern such as "/api/v1/job/{id}/artifacts/{*path}"
// ("{*name}" takes the rest, joined with '/'). Fills captures on a match.
bool MatchRoute(absl::string_view pattern, const std::vector<std::string>& segments,
                std::map<std::string, std::string>* captures);

// A single byte range resolved against a resource of `size` bytes.
struct ByteRange {
  int64_t offset = 0;
  int64_t length = 0;
};
// Parses a Range header ("bytes=0-99", "bytes=100-", "bytes=-500").
// Returns nullopt (serve the whole file) for a header that is absent, not
// "bytes=", or lists several ranges; OUT_OF_RANGE (416) when the range
// cannot be satisfied; INVALID_ARGUMENT for a malformed one.
absl::StatusOr<std::optional<ByteRange>> ParseRange(absl::string_view header, int64_t size);

// The Content-Type for a file name, by extension; application/octet-stream
// when unknown.
std::string ContentTypeFor(absl::string_view path);

// A Content-Disposition value that names the file (RFC 6266, with a UTF-8
// filename* form).
std::string ContentDisposition(absl::string_view path);

// True if an If-None-Match header value matches the entity tag (or is "*").
bool IfNoneMatchHits(absl::string_view header, absl::string_view etag);

}  // namespace arca::gateway

#endif  // ARCA_SERVICES_GATEWAY_HTTP_UTIL_H_
