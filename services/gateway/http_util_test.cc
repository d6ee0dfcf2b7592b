#include "services/gateway/http_util.h"

#include "gtest/gtest.h"

namespace arca::gateway {
namespace {

TEST(PercentDecodeTest, DecodesAndRejectsBadEscapes) {
  EXPECT_EQ(*PercentDecode("a%20b%2Fc"), "a b/c");
  EXPECT_EQ(*PercentDecode("a+b", true), "a b");
  EXPECT_EQ(*PercentDecode("a+b"), "a+b");
  for (const char* bad : {"%", "%2", "%zz", "a%g1", "%00"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(PercentDecode(bad).status())) << bad;
  }
  EXPECT_EQ(PercentEncode("a b/ü", true), "a%20b/%C3%BC");
  EXPECT_EQ(*PercentDecode(PercentEncode("x/y z?&=")), "x/y z?&=");
}

TEST(TargetTest, SplitsPathAndQuery) {
  auto t = ParseTarget("/api/v1/job/a%2Fb/artifacts/x?limit=2&status=&limit=3#frag");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->segments, (std::vector<std::string>{"api", "v1", "job", "a/b", "artifacts", "x"}));
  EXPECT_EQ(t->query.Get("limit"), "3");
  EXPECT_EQ(t->query.Get("status"), "");
  EXPECT_FALSE(t->query.Has("missing"));
  EXPECT_EQ(ParseTarget("/api/v1/job/")->segments, (std::vector<std::string>{"api", "v1", "job"}));
  EXPECT_FALSE(ParseTarget("http://x/").ok());
  EXPECT_FALSE(ParseTarget("").ok());
  EXPECT_FALSE(ParseTarget("/a?b=%").ok());
}

TEST(RouteTest, MatchesParamsAndRest) {
  std::map<std::string, std::string> c;
  auto segs = [](const char* t) { return ParseTarget(t)->segments; };
  EXPECT_TRUE(MatchRoute("/api/v1/job/{id}", segs("/api/v1/job/j1"), &c));
  EXPECT_EQ(c["id"], "j1");
  EXPECT_FALSE(MatchRoute("/api/v1/job/{id}", segs("/api/v1/job"), &c));
  EXPECT_FALSE(MatchRoute("/api/v1/job/{id}", segs("/api/v1/job/j1/x"), &c));
  EXPECT_TRUE(MatchRoute("/api/v1/job/{id}/artifacts/{*path}", segs("/api/v1/job/j/artifacts/a/b.txt"), &c));
  EXPECT_EQ(c["path"], "a/b.txt");
  EXPECT_FALSE(MatchRoute("/api/v1/job/{id}/artifacts/{*path}", segs("/api/v1/job/j/artifacts"), &c));
  EXPECT_TRUE(MatchRoute("/api/v1/job", segs("/api/v1/job"), &c));
}

TEST(RangeTest, ResolvesAgainstTheSize) {
  auto r = ParseRange("bytes=0-99", 1000);
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->offset, 0);
  EXPECT_EQ((*r)->length, 100);
  EXPECT_EQ((*ParseRange("bytes=990-", 1000))->length, 10);
  EXPECT_EQ((*ParseRange("bytes=-10", 1000))->offset, 990);
  EXPECT_EQ((*ParseRange("bytes=-5000", 1000))->length, 1000);
  EXPECT_EQ((*ParseRange("bytes=500-5000", 1000))->length, 500);
  EXPECT_FALSE(ParseRange("", 1000)->has_value());
  EXPECT_FALSE(ParseRange("items=0-1", 1000)->has_value());
  EXPECT_FALSE(ParseRange("bytes=0-1,5-6", 1000)->has_value());
  EXPECT_TRUE(absl::IsOutOfRange(ParseRange("bytes=1000-", 1000).status()));
  EXPECT_TRUE(absl::IsOutOfRange(ParseRange("bytes=-0", 1000).status()));
  EXPECT_TRUE(absl::IsOutOfRange(ParseRange("bytes=0-", 0).status()));
  for (const char* bad : {"bytes=abc", "bytes=5-1", "bytes=-", "bytes=1-x", "bytes=+1-2", "bytes=-+3"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(ParseRange(bad, 1000).status())) << bad;
  }
}

TEST(MultipartTest, ReadsCurlFormFields) {
  std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"compendium_id\"\r\n\r\nabc\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nmy job\r\n--XyZ--\r\n";
  auto f = ParseMultipartForm("multipart/form-data; boundary=XyZ", body);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->size(), 2u);
  EXPECT_EQ((*f)[0], (std::pair<std::string, std::string>{"compendium_id", "abc"}));
  EXPECT_EQ((*f)[1].second, "my job");
  EXPECT_FALSE(ParseMultipartForm("multipart/form-data", body).ok());
  EXPECT_FALSE(ParseMultipartForm("multipart/form-data; boundary=XyZ", "--XyZ\r\nno end").ok());
  EXPECT_FALSE(ParseMultipartForm("multipart/form-data; boundary=Q", body).ok());
}

TEST(HeadersTest, ContentTypesDispositionsAndValidators) {
  EXPECT_EQ(ContentTypeFor("a/b.CSV"), "text/csv; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("model.bin"), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor(".hidden"), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor("x.png"), "image/png");
  EXPECT_EQ(ContentDisposition("dir/r\xc3\xa9sum\xc3\xa9 \"1\".txt"),
            "attachment; filename=\"r__sum__ _1_.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%221%22.txt");
  EXPECT_TRUE(IfNoneMatchHits("\"a\", \"b\"", "\"b\""));
  EXPECT_TRUE(IfNoneMatchHits("W/\"b\"", "\"b\""));
  EXPECT_TRUE(IfNoneMatchHits("*", "\"b\""));
  EXPECT_FALSE(IfNoneMatchHits("\"a\"", "\"b\""));
  EXPECT_FALSE(IfNoneMatchHits("", "\"b\""));
}

}  // namespace
}  // namespace arca::gateway
