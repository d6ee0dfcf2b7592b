#ifndef ARCA_COMMON_S3_SIGV4_H_
#define ARCA_COMMON_S3_SIGV4_H_

// AWS Signature Version 4, as S3 and S3-compatible stores check it
// (docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html).

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace arca::s3 {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials
};

// The SHA-256 (hex) of an empty payload.
inline constexpr absl::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// RFC 3986 percent-encoding as SigV4 wants it: every byte but A-Z a-z 0-9
// - . _ ~ (and '/' unless encode_slash) becomes %XX, upper-case hex.
std::string UriEncode(absl::string_view s, bool encode_slash);

// A request to sign. The path and the query's names and values are as
// they are meant (not yet percent-encoded); the headers are those to sign,
// and must include host and x-amz-date (and, for S3, x-amz-content-sha256).
struct Request {
  std::string method;
  std::string path = "/";
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload_sha256 = std::string(kEmptyPayloadSha256);
};

// "20150830T123600Z", as x-amz-date carries it.
std::string AmzDate(absl::Time t);

// The value of the Authorization header for `request`, signed at `when`
// for `region` and `service` ("s3").
std::string Authorization(const Request& request, const Credentials& credentials,
                          absl::string_view region, absl::string_view service, absl::Time when);

// The query string (without '?') of a presigned URL for `method` on `host`
// and `path`, valid for `expires` from `when`: the X-Amz-* parameters with
// X-Amz-Signature last. Only host is signed; the payload is UNSIGNED-PAYLOAD.
std::string PresignedQuery(absl::string_view method, absl::string_view host,
                           absl::string_view path, const Credentials& credentials,
                           absl::string_view region, absl::string_view service, absl::Time when,
                           absl::Duration expires);

}  // namespace arca::s3

#endif  // ARCA_COMMON_S3_SIGV4_H_
