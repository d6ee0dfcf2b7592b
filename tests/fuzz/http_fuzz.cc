// libFuzzer target: an HTTP request as the gateway meets it, from bytes on
// the socket through Beast's parser (with the gateway's limits) to the
// gateway's own parsing: target, route, query and form, multipart, Range,
// and a JSON body walked whole (as the handlers walk it).
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http.hpp"
#include "services/gateway/http_util.h"

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(8 << 10);
  parser.body_limit(8 << 20);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_header_done()) return 0;
  const auto& request = parser.get();
  auto target = arca::gateway::ParseTarget(std::string(request.target()));
  if (target.ok()) {
    static const char* kRoutes[] = {
        "/api/v1/jobArtifacts", "/api/v1/jobArtifacts/names", "/api/v1/jobArtifacts/{id}",
        "/api/v1/job",          "/api/v1/job/{id}",           "/api/v1/job/{id}/files",
        "/api/v1/job/{id}/artifacts/{*path}",
    };
    for (const char* route : kRoutes) {
      std::map<std::string, std::string> captures;
      arca::gateway::MatchRoute(route, target->segments, &captures);
    }
    for (const auto& [k, v] : target->query.all()) {
      (void)arca::gateway::ContentTypeFor(v);
      (void)arca::gateway::ContentDisposition(v);
      (void)arca::gateway::PercentEncode(k);
    }
  }
  if (auto json = arca::gateway::ParseJson(request.body(), "request body"); json.ok()) {
    (void)json->dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  }
  (void)arca::gateway::QueryParams::Parse(request.body());
  (void)arca::gateway::ParseMultipartForm(std::string(request[http::field::content_type]),
                                          request.body());
  (void)arca::gateway::ParseRange(std::string(request[http::field::range]), 1000);
  (void)arca::gateway::IfNoneMatchHits(std::string(request[http::field::if_none_match]), "\"x\"");
  return 0;
}
