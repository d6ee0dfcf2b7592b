// The signer against AWS's published vectors: the SigV4 test suite
// (credentials AKIDEXAMPLE, service "service", 2015-08-30T12:36:00Z) and the
// worked examples of the S3 API reference (examplebucket, 2013-05-24).

#include "common/s3/sigv4.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace arca::s3 {
namespace {

const Credentials kSuite{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const Credentials kS3Docs{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};

absl::Time SuiteTime() { return absl::FromCivil(absl::CivilSecond(2015, 8, 30, 12, 36, 0), absl::UTCTimeZone()); }
absl::Time S3DocsTime() { return absl::FromCivil(absl::CivilSecond(2013, 5, 24, 0, 0, 0), absl::UTCTimeZone()); }

std::string SignSuite(Request r) {
  r.headers.insert(r.headers.begin(), {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}});
  return Authorization(r, kSuite, "us-east-1", "service", SuiteTime());
}

std::string SuiteAuthorization(absl::string_view signed_headers, absl::string_view signature) {
  return absl::StrCat(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
      "SignedHeaders=", signed_headers, ", Signature=", signature);
}

constexpr absl::string_view kUnreserved =
    "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

TEST(SigV4, TestSuiteVanillaRequests) {
  EXPECT_EQ(SignSuite({.method = "GET"}),
            SuiteAuthorization("host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"));
  EXPECT_EQ(SignSuite({.method = "POST"}),
            SuiteAuthorization("host;x-amz-date", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"));
}

TEST(SigV4, TestSuiteQueriesAreSortedAndEncoded) {
  // get-vanilla-query-order-key-case
  EXPECT_EQ(SignSuite({.method = "GET", .query = {{"Param2", "value2"}, {"Param1", "value1"}}}),
            SuiteAuthorization("host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"));
  // get-vanilla-query-order-encoded: sorted by the encoded names
  EXPECT_EQ(SignSuite({.method = "GET",
                       .query = {{"Param-3", "Value3"}, {"Param", "Value2"}, {"\xE1\x88\xB4", "Value1"}}}),
            SuiteAuthorization("host;x-amz-date", "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac"));
  // get-vanilla-query-unreserved
  EXPECT_EQ(SignSuite({.method = "GET", .query = {{std::string(kUnreserved), std::string(kUnreserved)}}}),
            SuiteAuthorization("host;x-amz-date", "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"));
  // get-vanilla-utf8-query
  EXPECT_EQ(SignSuite({.method = "GET", .query = {{"\xE1\x88\xB4", "bar"}}}),
            SuiteAuthorization("host;x-amz-date", "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"));
}

TEST(SigV4, TestSuitePaths) {
  // get-unreserved, get-utf8
  EXPECT_EQ(SignSuite({.method = "GET", .path = absl::StrCat("/", kUnreserved)}),
            SuiteAuthorization("host;x-amz-date", "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"));
  EXPECT_EQ(SignSuite({.method = "GET", .path = "/\xE1\x88\xB4"}),
            SuiteAuthorization("host;x-amz-date", "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"));
}

TEST(SigV4, TestSuiteHeaders) {
  // post-header-value-case: values keep their case, names do not
  EXPECT_EQ(SignSuite({.method = "POST", .headers = {{"My-Header1", "VALUE1"}}}),
            SuiteAuthorization("host;my-header1;x-amz-date", "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"));
  // get-header-key-duplicate: one name, its values joined in order
  EXPECT_EQ(SignSuite({.method = "GET",
                       .headers = {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}}}),
            SuiteAuthorization("host;my-header1;x-amz-date", "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"));
}

std::string Signature(absl::string_view authorization) {
  return std::string(authorization.substr(authorization.rfind('=') + 1));
}

TEST(SigV4, S3ReferenceExamples) {
  // GET Object with a Range
  Request get{.method = "GET", .path = "/test.txt",
              .headers = {{"Host", "examplebucket.s3.amazonaws.com"}, {"Range", "bytes=0-9"},
                          {"x-amz-content-sha256", std::string(kEmptyPayloadSha256)},
                          {"x-amz-date", "20130524T000000Z"}}};
  EXPECT_EQ(Signature(Authorization(get, kS3Docs, "us-east-1", "s3", S3DocsTime())),
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  // PUT Object: '$' in the key is encoded
  const std::string put_hash = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
  Request put{.method = "PUT", .path = "/test$file.text",
              .headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                          {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                          {"x-amz-content-sha256", put_hash}, {"x-amz-date", "20130524T000000Z"},
                          {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
              .payload_sha256 = put_hash};
  EXPECT_EQ(Authorization(put, kS3Docs, "us-east-1", "s3", S3DocsTime()),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, "
            "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
  // GET Bucket (list objects) with a query
  Request list{.method = "GET", .path = "/", .query = {{"max-keys", "2"}, {"prefix", "J"}},
               .headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                           {"x-amz-content-sha256", std::string(kEmptyPayloadSha256)},
                           {"x-amz-date", "20130524T000000Z"}}};
  EXPECT_EQ(Signature(Authorization(list, kS3Docs, "us-east-1", "s3", S3DocsTime())),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, PresignedUrlReferenceExample) {
  EXPECT_EQ(PresignedQuery("GET", "examplebucket.s3.amazonaws.com", "/test.txt", kS3Docs,
                           "us-east-1", "s3", S3DocsTime(), absl::Hours(24)),
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F"
            "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&"
            "X-Amz-SignedHeaders=host&X-Amz-Signature="
            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4, UriEncode) {
  EXPECT_EQ(UriEncode("a b+c/d%", false), "a%20b%2Bc/d%25");
  EXPECT_EQ(UriEncode("a/b", true), "a%2Fb");
  EXPECT_EQ(UriEncode(kUnreserved, true), kUnreserved);
  EXPECT_EQ(AmzDate(SuiteTime()), "20150830T123600Z");
}

}  // namespace
}  // namespace arca::s3
