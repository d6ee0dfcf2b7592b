#ifndef ARCA_SERVICES_GATEWAY_HTTP_TEST_CLIENT_H_
#define ARCA_SERVICES_GATEWAY_HTTP_TEST_CLIENT_H_

// A raw HTTP/1.1 client over a loopback socket, for tests that speak to a
// gateway byte by byte (malformed requests, clients that stall).

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace arca::gateway {

// A connected socket to 127.0.0.1:port, or -1. receive_buffer > 0: a small
// window, so a client that stops reading stalls the server soon. Reads time
// out after 30 s, so a hung server fails a test instead of hanging it.
int Connect(int port, int receive_buffer = 0);

bool SendAll(int fd, absl::string_view bytes);

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  int64_t body_bytes = 0;   // counted even when not kept
  std::string body_sha256;  // of the body read
  bool complete = false;    // the whole declared body arrived

  nlohmann::json json() const { return nlohmann::json::parse(body); }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// Reads one response from fd. keep_body false: the body is hashed and
// counted, not kept (for large downloads).
Response ReadResponse(int fd, bool head_request = false, bool keep_body = true);

// An HTTP/1.1 request's bytes.
std::string Request(const std::string& method, const std::string& target,
                    const std::string& body = "",
                    const std::vector<std::pair<std::string, std::string>>& headers = {});

// Everything the server sends until it closes the connection (or 30 s).
std::string ReadUntilClosed(int fd);

}  // namespace arca::gateway

#endif  // ARCA_SERVICES_GATEWAY_HTTP_TEST_CLIENT_H_
