#include "common/s3/sigv4.h"

#include <openssl/hmac.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/hash/sha256.h"

namespace arca::s3 {
namespace {

std::string Hmac(absl::string_view key, absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &n);
  return std::string(reinterpret_cast<const char*>(out), n);
}

std::string SigningKey(absl::string_view secret, absl::string_view day, absl::string_view region,
                       absl::string_view service) {
  std::string k = Hmac(absl::StrCat("AWS4", secret), day);
  k = Hmac(k, region);
  k = Hmac(k, service);
  return Hmac(k, "aws4_request");
}

// Header values lose surrounding blanks, and runs of blanks become one.
std::string TrimValue(absl::string_view v) {
  v = absl::StripAsciiWhitespace(v);
  std::string out;
  bool blank = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      blank = true;
      continue;
    }
    if (blank) out += ' ';
    blank = false;
    out += c;
  }
  return out;
}

std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(UriEncode(name, true), UriEncode(value, true));
  }
  std::sort(encoded.begin(), encoded.end());
  return absl::StrJoin(encoded, "&", [](std::string* out, const auto& p) {
    absl::StrAppend(out, p.first, "=", p.second);
  });
}

std::string Day(absl::Time t) { return absl::FormatTime("%Y%m%d", t, absl::UTCTimeZone()); }

std::string Scope(absl::Time when, absl::string_view region, absl::string_view service) {
  return absl::StrCat(Day(when), "/", region, "/", service, "/aws4_request");
}

std::string Signature(absl::string_view canonical_request, const Credentials& credentials,
                      absl::string_view region, absl::string_view service, absl::Time when) {
  const std::string to_sign =
      absl::StrCat("AWS4-HMAC-SHA256\n", AmzDate(when), "\n", Scope(when, region, service), "\n",
                   hash::Sha256::Of(canonical_request));
  return absl::BytesToHexString(
      Hmac(SigningKey(credentials.secret_access_key, Day(when), region, service), to_sign));
}

}  // namespace

std::string UriEncode(absl::string_view s, bool encode_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
        (c == '/' && !encode_slash)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string AmzDate(absl::Time t) {
  return absl::FormatTime("%Y%m%dT%H%M%SZ", t, absl::UTCTimeZone());
}

std::string Authorization(const Request& request, const Credentials& credentials,
                          absl::string_view region, absl::string_view service, absl::Time when) {
  // Names in lower case, sorted; a name given more than once has its values
  // joined by commas in the order given.
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [name, value] : request.headers) {
    headers.emplace_back(absl::AsciiStrToLower(name), TrimValue(value));
  }
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string canonical_headers, signed_headers;
  for (size_t i = 0; i < headers.size(); ++i) {
    if (i > 0 && headers[i].first == headers[i - 1].first) {
      canonical_headers.pop_back();  // the newline
      absl::StrAppend(&canonical_headers, ",", headers[i].second, "\n");
      continue;
    }
    absl::StrAppend(&canonical_headers, headers[i].first, ":", headers[i].second, "\n");
    absl::StrAppend(&signed_headers, signed_headers.empty() ? "" : ";", headers[i].first);
  }
  const std::string canonical_request =
      absl::StrCat(request.method, "\n", UriEncode(request.path, false), "\n",
                   CanonicalQuery(request.query), "\n", canonical_headers, "\n", signed_headers,
                   "\n", request.payload_sha256);
  return absl::StrCat("AWS4-HMAC-SHA256 Credential=", credentials.access_key_id, "/",
                      Scope(when, region, service), ", SignedHeaders=", signed_headers,
                      ", Signature=",
                      Signature(canonical_request, credentials, region, service, when));
}

std::string PresignedQuery(absl::string_view method, absl::string_view host,
                           absl::string_view path, const Credentials& credentials,
                           absl::string_view region, absl::string_view service, absl::Time when,
                           absl::Duration expires) {
  std::vector<std::pair<std::string, std::string>> query = {
      {"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
      {"X-Amz-Credential",
       absl::StrCat(credentials.access_key_id, "/", Scope(when, region, service))},
      {"X-Amz-Date", AmzDate(when)},
      {"X-Amz-Expires", absl::StrCat(absl::ToInt64Seconds(expires))},
      {"X-Amz-SignedHeaders", "host"},
  };
  if (!credentials.session_token.empty()) {
    query.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  const std::string canonical_query = CanonicalQuery(query);
  const std::string canonical_request =
      absl::StrCat(method, "\n", UriEncode(path, false), "\n", canonical_query, "\nhost:", host,
                   "\n\nhost\nUNSIGNED-PAYLOAD");
  return absl::StrCat(canonical_query, "&X-Amz-Signature=",
                      Signature(canonical_request, credentials, region, service, when));
}

}  // namespace arca::s3
