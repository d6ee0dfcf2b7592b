// The client's retries against a scripted HTTP server on loopback: each
// connection gets the next scripted answer, and the requests are kept for
// the test to read. (The client against a real S3 server:
// common/blob/s3_store_test.cc.)

#include "common/s3/client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <deque>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace arca::s3 {
namespace {

class ScriptedServer {
 public:
  explicit ScriptedServer(std::deque<std::string> answers) : answers_(std::move(answers)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(fd_, 16);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedServer() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  std::string endpoint() const { return absl::StrCat("http://127.0.0.1:", port_); }
  std::vector<std::string> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

 private:
  void Serve() {
    for (;;) {
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string in;
      char buf[65536];
      size_t need = std::string::npos;
      while (need == std::string::npos || in.size() < need) {
        const ssize_t n = read(c, buf, sizeof(buf));
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
        const size_t end = in.find("\r\n\r\n");
        if (need == std::string::npos && end != std::string::npos) {
          int64_t length = 0;
          const size_t at = in.find("Content-Length: ");
          if (at != std::string::npos && at < end) {
            absl::SimpleAtoi(in.substr(at + 16, in.find("\r\n", at) - at - 16), &length);
          }
          need = end + 4 + static_cast<size_t>(length);
        }
      }
      std::string answer;
      {
        absl::MutexLock lock(&mu_);
        requests_.push_back(in.substr(0, in.find("\r\n\r\n")));
        if (!answers_.empty()) {
          answer = answers_.front();
          answers_.pop_front();
        }
      }
      (void)!write(c, answer.data(), answer.size());
      close(c);
    }
  }

  int fd_;
  int port_ = 0;
  std::thread thread_;
  absl::Mutex mu_;
  std::deque<std::string> answers_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> requests_ ABSL_GUARDED_BY(mu_);
};

std::string Answer(int status, absl::string_view body, absl::string_view extra = "") {
  return absl::StrCat("HTTP/1.1 ", status, " X\r\nContent-Length: ", body.size(),
                      "\r\nConnection: close\r\n", extra, "\r\n", body);
}

Config ConfigFor(const ScriptedServer& server) {
  Config config;
  config.endpoint = server.endpoint();
  config.bucket = "bucket";
  config.credentials = {"key", "secret", ""};
  config.first_backoff = absl::Milliseconds(1);
  return config;
}

TEST(S3Client, RetriesServerErrorsAndThrottlingThenSucceeds) {
  ScriptedServer server({Answer(503, "<Error><Code>SlowDown</Code></Error>"),
                         Answer(429, ""), Answer(500, ""), Answer(200, "")});
  Client client(ConfigFor(server));
  EXPECT_TRUE(client.Put("k", "bytes").ok());
  const std::vector<std::string> requests = server.requests();
  ASSERT_EQ(requests.size(), 4u);
  for (const std::string& r : requests) {
    EXPECT_TRUE(absl::StartsWith(r, "PUT /bucket/k HTTP/1.1")) << r;
    EXPECT_TRUE(absl::StrContains(r, "Authorization: AWS4-HMAC-SHA256 Credential=key/")) << r;
    EXPECT_FALSE(absl::StrContains(r, "Expect:")) << "no Expect: 100-continue";
  }
}

TEST(S3Client, GivesUpAfterItsAttemptsWithUnavailable) {
  ScriptedServer server({Answer(503, "<Error><Code>SlowDown</Code><Message>busy</Message></Error>"),
                         Answer(503, ""), Answer(503, ""), Answer(503, ""), Answer(503, ""),
                         Answer(200, "")});
  Client client(ConfigFor(server));
  absl::Status s = client.Put("k", "bytes");
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_EQ(server.requests().size(), 5u) << "max_attempts";
}

TEST(S3Client, ClientErrorsAreNotRetriedAndSayWhy) {
  ScriptedServer server({Answer(403, "<Error><Code>AccessDenied</Code><Message>no</Message></Error>")});
  Client client(ConfigFor(server));
  absl::Status s = client.Put("k", "bytes");
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "AccessDenied: no")) << s;
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(S3Client, AReadThatBreaksResumesWhereItBroke) {
  // The first answer promises 10 bytes and sends 4 before the connection
  // ends; the read asks again from byte 4.
  ScriptedServer server(
      {"HTTP/1.1 206 X\r\nContent-Length: 10\r\nContent-Range: bytes 0-9/10\r\n\r\n0123",
       Answer(206, "456789", "Content-Range: bytes 4-9/10\r\n")});
  Client client(ConfigFor(server));
  auto bytes = client.GetBytes("k", 0, 10);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, "0123456789");
  const std::vector<std::string> requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_TRUE(absl::StrContains(requests[0], "range: bytes=0-9")) << requests[0];
  EXPECT_TRUE(absl::StrContains(requests[1], "range: bytes=4-9")) << requests[1];
}

TEST(S3Client, AReadRetriesWithinTheSameAttempts) {
  // Connections that end without an answer, then server errors.
  std::deque<std::string> answers(30, "");
  ScriptedServer busy(std::move(answers));
  Client client(ConfigFor(busy));
  EXPECT_TRUE(absl::IsUnavailable(client.GetBytes("k", 0, 4).status()));
  EXPECT_EQ(busy.requests().size(), 5u) << "max_attempts, not max_attempts squared";

  ScriptedServer erring(std::deque<std::string>(12, Answer(503, "")));
  Client slow(ConfigFor(erring));
  EXPECT_TRUE(absl::IsUnavailable(slow.GetBytes("k", 0, 4).status()));
  EXPECT_EQ(erring.requests().size(), 5u);

  ScriptedServer once({Answer(503, ""), Answer(206, "abcd", "Content-Range: bytes 0-3/4\r\n")});
  Client again(ConfigFor(once));
  EXPECT_EQ(*again.GetBytes("k", 0, 4), "abcd");
}

TEST(S3Client, AnUnreachableStoreIsUnavailable) {
  Config config;
  config.endpoint = "http://127.0.0.1:1";
  config.bucket = "bucket";
  config.max_attempts = 2;
  config.first_backoff = absl::Milliseconds(1);
  Client client(config);
  EXPECT_TRUE(absl::IsUnavailable(client.Head("k").status()));
}

TEST(S3Client, ParsesBucketUrls) {
  EXPECT_EQ(ParseUrl("s3://bucket")->bucket, "bucket");
  EXPECT_EQ(ParseUrl("s3://bucket")->prefix, "");
  EXPECT_EQ(ParseUrl("s3://my.bucket-1/a/b/")->prefix, "a/b/");
  for (const char* bad : {"bucket", "s3://", "s3:///x", "s3://Bucket", "s3://b_b", "s3://ab"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(ParseUrl(bad).status())) << bad;
  }
}

}  // namespace
}  // namespace arca::s3
