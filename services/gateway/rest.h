#ifndef ARCA_SERVICES_GATEWAY_REST_H_
#define ARCA_SERVICES_GATEWAY_REST_H_

// What the gateway's handlers share: one request and its reply, HTTP
// statuses for errors, the JSON shapes of artifacts, jobs, steps and files,
// and query parameters. Internal to the gateway.

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/identity.h"
#include "common/paths.h"
#include "common/http/server.h"
#include "google/protobuf/message.h"
#include "nlohmann/json.hpp"
#include "proto/catalog/v1/catalog.pb.h"
#include "services/gateway/graphql/graphql.h"
#include "services/gateway/http_util.h"

namespace arca::gateway {

using Json = nlohmann::ordered_json;
namespace cat = ::arca::catalog::v1;
namespace types = ::arca::types::v1;

int HttpStatusFor(absl::StatusCode code);

std::string Lower(absl::string_view enum_name, absl::string_view prefix);
std::string StepStatusName(types::StepStatus s);
std::string JobStatusName(types::JobStatus s);
// As the REST API (o2r's) shows a job: "running" until it has finished
// (or failed).
std::string JobStatusName(const cat::Job& job);
std::string PrivacyName(types::PrivacyLevel p);

absl::StatusOr<types::JobStatus> ParseJobStatus(const std::string& text);

Json StrategyJson(types::GcStrategy s);
// A job's gc_rules: [{"glob", "strategy"}].
Json GcRulesJson(const cat::Job& job);


Json TimeJson(const google::protobuf::Timestamp& t);

Json MapJson(const google::protobuf::Map<std::string, std::string>& m);

// Mantis' JobArtifact shape, plus our revision.
Json ArtifactJson(const cat::JobArtifact& a);

absl::Status StringMap(const Json& value, absl::string_view field,
                       google::protobuf::Map<std::string, std::string>* out);

absl::Status StringField(const Json& body, absl::string_view field, std::string* out);

absl::StatusOr<Json> ParseJsonObject(absl::string_view text);

absl::StatusOr<cat::JobArtifact> ParseArtifact(absl::string_view text);

// A path inside a job: relative, normalized, no "..".
absl::Status CheckFilePath(absl::string_view path);

std::string DownloadUrl(absl::string_view job_id, absl::string_view path);

Json FileJson(const cat::ArtifactFile& f);

// o2r's file listing: a tree of directories and files.
Json FileTree(const std::string& job_id, const std::vector<cat::ArtifactFile>& files);

// A job's steps keyed by name: status, start and end, and the details
// (text) of the steps `details` names (of all when it is null).
Json StepsJson(const cat::Job& job,
               const std::function<bool(const std::string&)>& details = nullptr);

Json JobJson(const cat::Job& job);

absl::StatusOr<int> IntParam(const QueryParams& q, absl::string_view name, int fallback, int lo,
                             int hi);

absl::StatusOr<bool> BoolParam(const QueryParams& q, absl::string_view name);

std::string ProtoJson(const google::protobuf::Message& m);

// JSON text for a response: bytes that are not UTF-8 (from a backend)
// become U+FFFD instead of throwing.
inline std::string JsonText(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// Everything a route needs about one request.
// A job's available files a caller may see: its outputs, and the logs arca
// run recorded under .arca/logs/, apart.
struct JobFiles {
  std::vector<cat::ArtifactFile> outputs, logs;
};

struct Request : graphql::RequestContext {
  const http::HttpRequest& http;
  Target target;
  std::map<std::string, std::string> params;  // from the route pattern
  auth::Identity caller;
  http::HttpResponder& out;
  std::string route;
  // Each job's visible files, listed once per request however many fields
  // (a GraphQL job's artifact and logs) ask for them.
  std::map<std::string, JobFiles> files = {};

  void Reply(int status, const Json& body,
             std::vector<std::pair<std::string, std::string>> headers = {}) {
    ReplyRaw(status, JsonText(body), std::move(headers));
  }
  // An error: {"error": message}, or for /graphql GraphQL's own shape,
  // {"errors": [{"message", "extensions": {"code"}}]}, so that a GraphQL
  // client reads a 401 or 415 as it reads any other error.
  void ReplyError(int status, absl::string_view message,
                  std::vector<std::pair<std::string, std::string>> headers = {}) {
    if (target.path != "/graphql") return Reply(status, Json{{"error", message}}, std::move(headers));
    const char* code = status == 401   ? "UNAUTHENTICATED"
                       : status == 403 ? "FORBIDDEN"
                       : status == 404 ? "NOT_FOUND"
                       : status == 503 ? "UNAVAILABLE"
                       : status < 500  ? "BAD_REQUEST"
                                       : "INTERNAL_SERVER_ERROR";
    Reply(status, Json{{"errors", Json::array({Json{{"message", message}, {"extensions", {{"code", code}}}}})}},
          std::move(headers));
  }
  // `json` is JSON text already; a newline is added.
  void ReplyRaw(int status, std::string json,
                std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::HttpResponse r;
    r.status = status;
    r.route = route;
    r.headers = std::move(headers);
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = std::move(json);
    r.body += '\n';
    out.Send(std::move(r));
  }
};

}  // namespace arca::gateway

#endif  // ARCA_SERVICES_GATEWAY_REST_H_
