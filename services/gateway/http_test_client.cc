#include "services/gateway/http_test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/hash/sha256.h"

namespace arca::gateway {

int Connect(int port, int receive_buffer) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (receive_buffer > 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  timeval tv{30, 0};  // a hung server fails the test instead of hanging it
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

bool SendAll(int fd, absl::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(n);
  }
  return true;
}


Response ReadResponse(int fd, bool head_request, bool keep_body) {
  Response r;
  std::string buffer;
  char chunk[1 << 16];
  size_t header_end;
  while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return r;
    buffer.append(chunk, n);
  }
  std::vector<std::string> lines = absl::StrSplit(buffer.substr(0, header_end), "\r\n");
  std::vector<std::string> status_line = absl::StrSplit(lines[0], ' ');
  if (status_line.size() < 2 || !absl::SimpleAtoi(status_line[1], &r.status)) return r;
  for (size_t i = 1; i < lines.size(); ++i) {
    auto colon = lines[i].find(':');
    r.headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
        std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
  }
  int64_t length = 0;
  if (!head_request && r.status != 304) absl::SimpleAtoi(r.header("content-length"), &length);
  std::string rest = buffer.substr(header_end + 4);
  hash::Sha256 hash;
  auto take = [&](absl::string_view data) {
    hash.Update(data);
    r.body_bytes += data.size();
    if (keep_body) r.body.append(data.data(), data.size());
  };
  take(absl::string_view(rest).substr(0, length));
  while (r.body_bytes < length) {
    ssize_t n = recv(fd, chunk, std::min<int64_t>(sizeof chunk, length - r.body_bytes), 0);
    if (n <= 0) break;
    take(absl::string_view(chunk, n));
  }
  r.complete = r.body_bytes == length;
  r.body_sha256 = hash.HexDigest();
  return r;
}

std::string Request(const std::string& method, const std::string& target,
                    const std::string& body,
                    const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string out = absl::StrCat(method, " ", target, " HTTP/1.1\r\nHost: localhost\r\n");
  for (const auto& [k, v] : headers) absl::StrAppend(&out, k, ": ", v, "\r\n");
  if (!body.empty() || method == "POST") absl::StrAppend(&out, "Content-Length: ", body.size(), "\r\n");
  return absl::StrCat(out, "\r\n", body);
}

std::string ReadUntilClosed(int fd) {
  std::string out;
  char chunk[4096];
  ssize_t n;
  while ((n = recv(fd, chunk, sizeof chunk, 0)) > 0) out.append(chunk, n);
  return out;
}

}  // namespace arca::gateway
