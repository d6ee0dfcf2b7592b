#include "services/gateway/gateway.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <map>

#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/rpc/status.h"
#include "common/page_token.h"
#include "common/http/process_metrics.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"
#include "proto/catalog/v1/catalog.grpc.pb.h"
#include "proto/collector/v1/collector.grpc.pb.h"
#include "proto/retention/v1/retention.grpc.pb.h"
#include "proto/scheduling/v1/scheduling.grpc.pb.h"
#include "common/auth/security.h"
#include "common/auth/tokens.h"
#include "services/gateway/download_limits.h"
#include "services/gateway/graphql/graphql.h"
#include "services/gateway/http_util.h"

namespace arca::gateway {

using Json = nlohmann::ordered_json;
namespace cat = ::arca::catalog::v1;
namespace types = ::arca::types::v1;

std::string DefaultWebDir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  for (const char* relative : {"../../services/gateway/web", "../share/arca/web"}) {
    auto dir = (exe.parent_path() / relative).lexically_normal();
    if (std::filesystem::exists(dir / "index.html", ec)) return dir.string();
  }
  return "";
}

namespace {

constexpr absl::string_view kLogPrefix = ".arca/logs/";

int HttpStatusFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk: return 200;
    case absl::StatusCode::kInvalidArgument: return 400;
    case absl::StatusCode::kOutOfRange: return 400;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kAlreadyExists: return 409;
    case absl::StatusCode::kAborted: return 409;
    case absl::StatusCode::kFailedPrecondition: return 412;
    case absl::StatusCode::kResourceExhausted: return 413;
    case absl::StatusCode::kUnimplemented: return 501;
    case absl::StatusCode::kUnavailable: return 503;
    case absl::StatusCode::kCancelled: return 503;
    case absl::StatusCode::kDeadlineExceeded: return 504;
    default: return 500;
  }
}

std::string Lower(absl::string_view enum_name, absl::string_view prefix) {
  absl::ConsumePrefix(&enum_name, prefix);
  return absl::AsciiStrToLower(enum_name);
}
std::string StepStatusName(types::StepStatus s) {
  return Lower(types::StepStatus_Name(s), "STEP_STATUS_");
}
std::string JobStatusName(types::JobStatus s) {
  return Lower(types::JobStatus_Name(s), "JOB_STATUS_");
}
std::string PrivacyName(types::PrivacyLevel p) {
  if (p == types::PRIVACY_LEVEL_UNSPECIFIED) p = types::PRIVACY_LEVEL_MODERATELY_SENSITIVE;
  return Lower(types::PrivacyLevel_Name(p), "PRIVACY_LEVEL_");
}

absl::StatusOr<types::JobStatus> ParseJobStatus(const std::string& text) {
  types::JobStatus s;
  if (!types::JobStatus_Parse(absl::StrCat("JOB_STATUS_", absl::AsciiStrToUpper(text)), &s) ||
      s == types::JOB_STATUS_UNSPECIFIED) {
    return absl::InvalidArgumentError(
        absl::StrCat("status must be queued, running, success or failure, got \"", text, "\""));
  }
  return s;
}

struct StrategyName {
  types::GcStrategy value;
  const char* name;
  const char* argo;
};
constexpr StrategyName kStrategies[] = {
    {types::GC_STRATEGY_ON_JOB_COMPLETION, "OnJobCompletion", "OnWorkflowCompletion"},
    {types::GC_STRATEGY_ON_JOB_SUCCESS, "OnJobSuccess", "OnWorkflowSuccess"},
    {types::GC_STRATEGY_ON_JOB_FAILURE, "OnJobFailure", "OnWorkflowFailure"},
    {types::GC_STRATEGY_ON_JOB_DELETION, "OnJobDeletion", "OnWorkflowDeletion"},
    {types::GC_STRATEGY_NEVER, "Never", "Never"},
};

Json StrategyJson(types::GcStrategy s) {
  for (const auto& n : kStrategies) {
    if (n.value == s) return n.name;
  }
  return nullptr;
}

absl::StatusOr<types::GcStrategy> ParseStrategy(absl::string_view text) {
  for (const auto& n : kStrategies) {
    if (absl::EqualsIgnoreCase(text, n.name) || absl::EqualsIgnoreCase(text, n.argo)) {
      return n.value;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "gc_strategy must be OnJobCompletion, OnJobSuccess, OnJobFailure, OnJobDeletion or "
      "Never (Argo's OnWorkflow* spellings too), got \"",
      text, "\""));
}

Json TimeJson(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return nullptr;
  return FormatRfc3339(FromProtoTime(t));
}

Json MapJson(const google::protobuf::Map<std::string, std::string>& m) {
  std::map<std::string, std::string> sorted(m.begin(), m.end());
  Json out = Json::object();
  for (const auto& [k, v] : sorted) out[k] = v;
  return out;
}

// Mantis' JobArtifact shape, plus our revision.
Json ArtifactJson(const cat::JobArtifact& a) {
  return Json{{"artifactID", a.artifact_id()},
              {"name", a.name()},
              {"version", a.version()},
              {"createdAt", TimeJson(a.created_at())},
              {"runtimeType", a.runtime_type()},
              {"dependencies", MapJson(a.dependencies())},
              {"entrypoint", a.entrypoint()},
              {"tags", MapJson(a.tags())},
              {"revision", a.revision()}};
}

absl::Status StringMap(const Json& value, absl::string_view field,
                       google::protobuf::Map<std::string, std::string>* out) {
  if (value.is_null()) return absl::OkStatus();
  if (!value.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", field, "\" must be an object of strings"));
  }
  for (const auto& [k, v] : value.items()) {
    if (!v.is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", field, "\".\"", k, "\" must be a string"));
    }
    (*out)[k] = v.get<std::string>();
  }
  return absl::OkStatus();
}

absl::Status StringField(const Json& body, absl::string_view field, std::string* out) {
  auto it = body.find(std::string(field));
  if (it == body.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", field, "\" must be a string"));
  }
  *out = it->get<std::string>();
  return absl::OkStatus();
}

absl::StatusOr<Json> ParseJsonObject(absl::string_view text) {
  ASSIGN_OR_RETURN(Json body, ParseJson(text, "request body"));
  if (!body.is_object()) return absl::InvalidArgumentError("request body must be a JSON object");
  return body;
}

absl::StatusOr<cat::JobArtifact> ParseArtifact(absl::string_view text) {
  ASSIGN_OR_RETURN(Json body, ParseJsonObject(text));
  static const char* kFields[] = {"artifactID", "name",       "version", "createdAt", "runtimeType",
                                  "dependencies", "entrypoint", "tags",    "revision"};
  for (const auto& [k, v] : body.items()) {
    if (std::find_if(std::begin(kFields), std::end(kFields),
                     [&](const char* f) { return k == f; }) == std::end(kFields)) {
      return absl::InvalidArgumentError(absl::StrCat("unknown field \"", k, "\""));
    }
  }
  cat::JobArtifact a;
  RETURN_IF_ERROR(StringField(body, "artifactID", a.mutable_artifact_id()));
  RETURN_IF_ERROR(StringField(body, "name", a.mutable_name()));
  RETURN_IF_ERROR(StringField(body, "version", a.mutable_version()));
  RETURN_IF_ERROR(StringField(body, "runtimeType", a.mutable_runtime_type()));
  RETURN_IF_ERROR(StringField(body, "entrypoint", a.mutable_entrypoint()));
  std::string created;
  RETURN_IF_ERROR(StringField(body, "createdAt", &created));
  if (!created.empty()) {
    absl::Time t;
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, created, &t, &err)) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"createdAt\" must be an RFC 3339 time, got \"", created, "\""));
    }
    *a.mutable_created_at() = ToProtoTime(t);
  }
  RETURN_IF_ERROR(StringMap(body.value("dependencies", Json()), "dependencies",
                            a.mutable_dependencies()));
  RETURN_IF_ERROR(StringMap(body.value("tags", Json()), "tags", a.mutable_tags()));
  return a;
}

// A path inside a job: relative, normalized, no "..".
absl::Status CheckFilePath(absl::string_view path) {
  if (path.empty()) return absl::InvalidArgumentError("file path is empty");
  for (absl::string_view seg : absl::StrSplit(path, '/')) {
    if (seg.empty() || seg == "." || seg == "..") {
      return absl::InvalidArgumentError(absl::StrCat(
          "file path must be relative and normalized (no empty, \".\" or \"..\" segments), got \"",
          path, "\""));
    }
  }
  return absl::OkStatus();
}

std::string DownloadUrl(absl::string_view job_id, absl::string_view path) {
  return absl::StrCat("/api/v1/job/", PercentEncode(job_id), "/artifacts/",
                      PercentEncode(path, /*keep_slash=*/true));
}

Json FileJson(const cat::ArtifactFile& f) {
  return Json{{"path", f.path()},
              {"size", f.size()},
              {"sha256", f.sha256()},
              {"lastModified", TimeJson(f.last_modified())},
              {"privacyLevel", PrivacyName(f.privacy_level())},
              {"expiresAt", TimeJson(f.expires_at())},
              {"gcStrategy", StrategyJson(f.gc_strategy())},
              {"state", f.state() == types::FILE_STATE_DELETED ? "deleted" : "available"},
              {"downloadUrl", DownloadUrl(f.job_id(), f.path())}};
}

// o2r's file listing: a tree of directories and files.
Json FileTree(const std::string& job_id, const std::vector<cat::ArtifactFile>& files) {
  std::string root_url = absl::StrCat("/api/v1/job/", PercentEncode(job_id), "/artifacts");
  Json root{{"path", root_url}, {"name", job_id}, {"type", "directory"}, {"size", 0},
            {"children", Json::array()}};
  for (const auto& f : files) {
    std::vector<std::string> parts = absl::StrSplit(f.path(), '/');
    Json* dir = &root;
    std::string prefix;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      prefix = prefix.empty() ? parts[i] : absl::StrCat(prefix, "/", parts[i]);
      (*dir)["size"] = (*dir)["size"].get<int64_t>() + f.size();
      Json& children = (*dir)["children"];
      auto it = std::find_if(children.begin(), children.end(),
                             [&](const Json& c) { return c["name"] == parts[i] && c.contains("children"); });
      if (it == children.end()) {
        children.push_back(Json{{"path", absl::StrCat(root_url, "/", PercentEncode(prefix, true))},
                                {"name", parts[i]},
                                {"type", "directory"},
                                {"size", 0},
                                {"children", Json::array()}});
        it = children.end() - 1;
      }
      dir = &*it;
    }
    (*dir)["size"] = (*dir)["size"].get<int64_t>() + f.size();
    (*dir)["children"].push_back(Json{{"path", DownloadUrl(job_id, f.path())},
                                      {"name", parts.back()},
                                      {"type", "file"},
                                      {"size", f.size()},
                                      {"lastModified", TimeJson(f.last_modified())}});
  }
  return root;
}

Json StepsJson(const cat::Job& job) {
  Json steps = Json::object();
  for (const auto& s : job.steps()) {
    steps[s.name()] = Json{{"status", StepStatusName(s.status())},
                           {"start", TimeJson(s.start())},
                           {"end", TimeJson(s.end())},
                           {"text", s.text()}};
  }
  return steps;
}

Json JobJson(const cat::Job& job) {
  Json conditions = Json::array();
  for (const auto& c : job.conditions()) {
    conditions.push_back(Json{{"type", c.type()},
                              {"message", c.message()},
                              {"lastTransitionTime", TimeJson(c.last_transition_time())}});
  }
  return Json{{"id", job.id()},
              {"compendium_id", job.compendium_id()},
              {"creation_date", TimeJson(job.created_at())},
              {"status", JobStatusName(job.status())},
              {"group", job.group()},
              {"name", job.name()},
              {"labels", MapJson(job.labels())},
              {"finished_at", TimeJson(job.finished_at())},
              {"gc_strategy", StrategyJson(job.gc_strategy())},
              {"finalizers", std::vector<std::string>(job.finalizers().begin(), job.finalizers().end())},
              {"conditions", conditions},
              {"deletion_requested_at", TimeJson(job.deletion_requested_at())}};
}

absl::StatusOr<int> IntParam(const QueryParams& q, absl::string_view name, int fallback, int lo,
                             int hi) {
  auto v = q.Get(name);
  if (!v) return fallback;
  int n = 0;
  if (!absl::SimpleAtoi(*v, &n) || n < lo || n > hi) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", name, "\" must be an integer from ", lo, " to ", hi, ", got \"", *v, "\""));
  }
  return n;
}

absl::StatusOr<bool> BoolParam(const QueryParams& q, absl::string_view name) {
  auto v = q.Get(name);
  if (!v || *v == "false" || *v == "0") return false;
  if (v->empty() || *v == "true" || *v == "1") return true;
  return absl::InvalidArgumentError(
      absl::StrCat("\"", name, "\" must be true or false, got \"", *v, "\""));
}

std::string ProtoJson(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(m, &out, options).ok()) return "{}";
  return out;
}

}  // namespace

// Everything a route needs about one request.
// JSON text for a response: bytes that are not UTF-8 (from a backend)
// become U+FFFD instead of throwing.
std::string JsonText(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

struct Request {
  const http::HttpRequest& http;
  Target target;
  std::map<std::string, std::string> params;  // from the route pattern
  auth::Identity caller;
  http::HttpResponder& out;
  std::string route;

  void Reply(int status, const Json& body,
             std::vector<std::pair<std::string, std::string>> headers = {}) {
    ReplyRaw(status, JsonText(body), std::move(headers));
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

class Gateway::Impl {
 public:
  Impl(const GatewayOptions& options, Backends backends, auth::TokenFile* auth,
       std::shared_ptr<prometheus::Registry> registry, Clock* clock)
      : options_(options),
        clock_(clock),
        auth_(auth),
        registry_(std::move(registry)),
        downloads_(options.max_downloads_per_client, options.max_downloads),
        cache_hits_(prometheus::BuildCounter()
                        .Name("arca_gateway_artifact_cache_hits_total")
                        .Help("Job-artifact listings answered from the gateway's cache")
                        .Register(*registry_)
                        .Add({})) {
    if (backends.catalog) catalog_ = cat::Catalog::NewStub(backends.catalog);
    if (backends.collector) collector_ = collector::v1::Collector::NewStub(backends.collector);
    if (backends.retention_gc) {
      retention_ = retention::v1::RetentionGc::NewStub(backends.retention_gc);
    }
    if (backends.scheduler_attribute) {
      scheduler_ = scheduling::v1::SchedulerAttribute::NewStub(backends.scheduler_attribute);
    }
    // Each route with the role it needs (reads need reader, changes writer,
    // changing or deleting what others made admin); open routes need no
    // token at all.
    constexpr auth::Role kRead = auth::Role::kReader, kWrite = auth::Role::kWriter, kAdmin = auth::Role::kAdmin;
    routes_ = {
        {"GET", "/healthz", &Impl::Health, kRead, true},
        {"GET", "/metrics", &Impl::Metrics, kRead, true},
        {"GET", "/api/v1/jobArtifacts", &Impl::SearchArtifacts, kRead},
        {"POST", "/api/v1/jobArtifacts", &Impl::RegisterArtifact, kWrite},
        {"GET", "/api/v1/jobArtifacts/names", &Impl::ArtifactNames, kRead},
        {"GET", "/api/v1/jobArtifacts/{id}", &Impl::GetArtifact, kRead},
        {"DELETE", "/api/v1/jobArtifacts/{id}", &Impl::DeleteArtifact, kAdmin},
        {"POST", "/api/v1/job", &Impl::CreateJob, kWrite},
        {"GET", "/api/v1/job", &Impl::ListJobs, kRead},
        {"GET", "/api/v1/job/{id}", &Impl::GetJob, kRead},
        {"DELETE", "/api/v1/job/{id}", &Impl::DeleteJob, kAdmin},
        {"GET", "/api/v1/job/{id}/steps", &Impl::GetSteps, kRead},
        {"GET", "/api/v1/job/{id}/logs", &Impl::GetLogs, kRead},
        {"GET", "/api/v1/job/{id}/files", &Impl::ListFiles, kRead},
        {"GET", "/api/v1/job/{id}/gc", &Impl::GcStatus, kRead},
        {"GET", "/api/v1/job/{id}/artifacts/{*path}", &Impl::Download, kRead},
        {"HEAD", "/api/v1/job/{id}/artifacts/{*path}", &Impl::Download, kRead},
        {"POST", "/api/v1/gc/run", &Impl::GcRun, kAdmin},
        {"GET", "/api/v1/gc/preview", &Impl::GcPreview, kRead},
        {"POST", "/api/v1/scheduling/resolve", &Impl::Resolve, kRead},
        {"GET", "/graphql", &Impl::GraphQl, kRead},
        {"POST", "/graphql", &Impl::GraphQl, kRead},
        {"GET", "/", &Impl::WebFile, kRead, true},
        {"GET", "/ui/{file}", &Impl::WebFile, kRead, true},
    };
    for (const char* name : {"index.html", "app.js", "style.css"}) {
      if (options_.web_dir.empty()) break;
      std::ifstream in(options_.web_dir + "/" + name, std::ios::binary);
      std::stringstream content;
      content << in.rdbuf();
      if (in) web_files_[name] = content.str();
    }
    BuildSchema();
  }

  bool FromCache(const http::HttpRequest& http, http::HttpResponse* response) {
    if (http.method != "GET" || !absl::StartsWith(http.target, "/api/v1/jobArtifacts")) {
      return false;
    }
    {
      absl::MutexLock lock(&cache_mu_);
      auto it = cache_.find(http.target);
      if (it == cache_.end() || it->second.expires <= clock_->Now()) return false;
      response->body = it->second.body;
      response->route = it->second.route;
    }
    if (auth_ != nullptr && !Authenticate(http).ok()) {
      return false;  // the handler explains the 401
    }
    response->status = 200;
    response->headers.emplace_back("Content-Type", "application/json");
    cache_hits_.Increment();
    return true;
  }

  void Handle(const http::HttpRequest& http, http::HttpResponder& out) {
    auto target = ParseTarget(http.target);
    if (!target.ok()) {
      Request req{http, Target(), {}, auth::Identity(), out, "malformed"};
      req.Reply(400, Json{{"error", target.status().message()}});
      return;
    }
    // The route for this method, else (for HEAD) the GET route.
    const Route* route = nullptr;
    std::map<std::string, std::string> params;
    std::vector<std::string> allowed;
    for (const Route& r : routes_) {
      std::map<std::string, std::string> captures;
      if (!MatchRoute(r.pattern, target->segments, &captures)) continue;
      allowed.push_back(r.method);
      bool exact = r.method == http.method;
      if (exact || (http.method == "HEAD" && r.method == "GET" && route == nullptr)) {
        route = &r;
        params = std::move(captures);
        if (exact) break;
      }
    }
    Request req{http, *std::move(target), std::move(params), auth::Identity::Everyone(), out, "unmatched"};
    if (route == nullptr) {
      if (!allowed.empty()) {
        if (absl::c_linear_search(allowed, "GET")) allowed.push_back("HEAD");
        req.Reply(405,
                  Json{{"error", absl::StrCat("method ", http.method, " is not allowed here")}},
                  {{"Allow", absl::StrJoin(allowed, ", ")}});
      } else {
        req.Reply(404, Json{{"error", absl::StrCat("no such endpoint: ", req.target.path)}});
      }
      return;
    }
    req.route = absl::StrCat(route->method, " ", route->pattern);
    if (auth_ != nullptr && !route->open) {
      auto caller = Authenticate(http);
      if (!caller.ok()) {
        req.Reply(401, Json{{"error", caller.status().message()}},
                  {{"WWW-Authenticate", "Bearer realm=\"arca\""}});
        return;
      }
      req.caller = *std::move(caller);
    }
    if (absl::Status allowed = req.caller.Allows(route->role, req.route); !allowed.ok()) {
      req.Reply(403, Json{{"error", allowed.message()}});
      return;
    }
    absl::Status s = (this->*(route->fn))(req);
    if (!s.ok()) {
      req.Reply(HttpStatusFor(s.code()), Json{{"error", s.message()}});
    }
  }

 private:
  using RouteFn = absl::Status (Impl::*)(Request&);
  struct Route {
    std::string method, pattern;
    RouteFn fn;
    auth::Role role;
    bool open = false;  // served without a token
  };

  // The caller: its bearer token's identity, else its client certificate's
  // (mTLS). UNAUTHENTICATED without either.
  absl::StatusOr<auth::Identity> Authenticate(const http::HttpRequest& http) {
    const absl::string_view bearer = http.Header("authorization");
    if (bearer.empty() && !http.client_certificate.empty()) {
      if (auto who = auth_->ByCertificate(http.client_certificate)) return *who;
      return absl::UnauthenticatedError("the client certificate names no identity");
    }
    return auth_->Authenticate(bearer);
  }

  // A backend call's context, acting for the caller when tokens are in use
  // (the backends then apply the caller's groups, level and roles too);
  // without a caller, as the gateway itself (shared listings).
  std::unique_ptr<grpc::ClientContext> Context(const auth::Identity* caller,
                                               absl::Duration timeout = absl::ZeroDuration()) {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(absl::ToChronoTime(
        absl::Now() + (timeout == absl::ZeroDuration() ? options_.backend_timeout : timeout)));
    if (auth_ != nullptr && caller != nullptr) auth::ActFor(*c, caller->name);
    return c;
  }
  // The backend's error, worded for an HTTP client when it could not be
  // reached.
  static absl::Status Check(const grpc::Status& s, absl::string_view backend) {
    if (s.ok()) return absl::OkStatus();
    if (s.error_code() == grpc::StatusCode::UNAVAILABLE) {
      return absl::UnavailableError(absl::StrCat(backend, " is unavailable: ", s.error_message()));
    }
    if (s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      return absl::DeadlineExceededError(absl::StrCat(backend, " did not answer in time"));
    }
    return rpc::FromGrpcStatus(s);
  }
  template <typename Stub>
  static absl::Status Need(const std::unique_ptr<Stub>& stub, absl::string_view backend) {
    if (stub == nullptr) {
      return absl::UnavailableError(absl::StrCat(backend, " is not configured on this gateway"));
    }
    return absl::OkStatus();
  }

  // The job, if the caller may see it; otherwise NOT_FOUND exactly as for a
  // job that does not exist.
  absl::StatusOr<cat::Job> VisibleJob(const Request& req, const std::string& id) {
    RETURN_IF_ERROR(Need(catalog_, "catalog"));
    cat::GetJobRequest get;
    get.set_id(id);
    cat::Job job;
    absl::Status s = Check(catalog_->GetJob(Context(&req.caller).get(), get, &job), "catalog");
    if (absl::IsNotFound(s) || absl::IsInvalidArgument(s) ||
        (s.ok() && !req.caller.SeesGroup(job.group()))) {
      return absl::NotFoundError(absl::StrCat("no job with id ", id));
    }
    RETURN_IF_ERROR(s);
    return job;
  }

  // A job's available files the caller may see: its outputs, and the logs
  // arca run recorded under .arca/logs/, apart.
  struct JobFiles {
    std::vector<cat::ArtifactFile> outputs, logs;
  };
  absl::StatusOr<JobFiles> VisibleFiles(const Request& req, const std::string& job_id) {
    JobFiles files;
    cat::ListFilesRequest list;  // deleted files are left out
    list.set_job_id(job_id);
    list.set_page_size(1000);
    RETURN_IF_ERROR(ForEachPage<cat::ListFilesResponse>(
        list,
        [&](const cat::ListFilesRequest& r, cat::ListFilesResponse* page) {
          return Check(catalog_->ListFiles(Context(&req.caller).get(), r, page), "catalog");
        },
        [&](const cat::ListFilesResponse& page) {
          for (const auto& f : page.files()) {
            if (!req.caller.SeesPrivacy(f.privacy_level())) continue;
            (absl::StartsWith(f.path(), kLogPrefix) ? files.logs : files.outputs).push_back(f);
          }
        }));
    return files;
  }

  // Jobs the caller may see, newest first: `offset` skipped, at most
  // `limit`, *more if another follows. `list` carries the filters (a group
  // the caller cannot see gives nothing).
  absl::Status ListVisibleJobs(const auth::Identity& caller, cat::ListJobsRequest list, int64_t offset,
                               int limit, std::vector<cat::Job>* jobs, bool* more) {
    RETURN_IF_ERROR(Need(catalog_, "catalog"));
    *more = false;
    if (!list.group().empty() && !caller.SeesGroup(list.group())) return absl::OkStatus();
    if (offset > (1 << 30)) return absl::InvalidArgumentError("the page is too far");
    if (caller.all_groups || !list.group().empty() || caller.groups.size() == 1) {
      if (list.group().empty() && !caller.all_groups) list.set_group(caller.groups.front());
      list.set_offset(static_cast<int>(offset));
      list.set_page_size(limit);
      cat::ListJobsResponse page;
      RETURN_IF_ERROR(Check(catalog_->ListJobs(Context(&caller).get(), list, &page), "catalog"));
      jobs->assign(page.jobs().begin(), page.jobs().end());
      if (!page.next_page_token().empty()) {
        cat::ListJobsRequest probe = list;
        probe.set_offset(0);
        probe.set_page_size(1);
        probe.set_page_token(page.next_page_token());
        cat::ListJobsResponse next;
        RETURN_IF_ERROR(Check(catalog_->ListJobs(Context(&caller).get(), probe, &next), "catalog"));
        *more = next.jobs_size() > 0;
      }
      return absl::OkStatus();
    }
    // Several groups: walk every job newest first, keeping the caller's.
    int64_t skipped = 0;
    list.set_page_size(1000);
    return ForEachPage<cat::ListJobsResponse>(
        list,
        [&](const cat::ListJobsRequest& r, cat::ListJobsResponse* page) {
          if (*more) return absl::OkStatus();  // enough: stop paging
          return Check(catalog_->ListJobs(Context(&caller).get(), r, page), "catalog");
        },
        [&](const cat::ListJobsResponse& page) {
          for (const auto& j : page.jobs()) {
            if (!caller.SeesGroup(j.group())) continue;
            if (skipped < offset) {
              ++skipped;
            } else if (static_cast<int>(jobs->size()) < limit) {
              jobs->push_back(j);
            } else {
              *more = true;
            }
          }
        });
  }

  // ------------------------------------------------------------ misc

  absl::Status Health(Request& req) {
    req.Reply(200, Json{{"status", "ok"}});
    return absl::OkStatus();
  }

  absl::Status Metrics(Request& req) {
    http::HttpResponse r;
    r.route = req.route;
    r.headers.emplace_back("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    auto families = registry_->Collect();
    for (auto& f : http::ProcessCollector().Collect()) families.push_back(std::move(f));
    r.body = prometheus::TextSerializer().Serialize(families);
    req.out.Send(std::move(r));
    return absl::OkStatus();
  }

  // ------------------------------------------------------- artifacts

  // The artifact cache: listings by request target, dropped whole by every
  // write through this gateway. A listing computed while a write happened
  // is not stored (the generation moved on).
  struct CachedListing {
    std::string body, route;
    absl::Time expires;
  };
  uint64_t CacheGeneration() {
    absl::MutexLock lock(&cache_mu_);
    return cache_generation_;
  }
  void InvalidateCache() {
    absl::MutexLock lock(&cache_mu_);
    ++cache_generation_;
    cache_.clear();
  }
  void ReplyAndCache(Request& req, const Json& out, uint64_t generation) {
    std::string text = JsonText(out);
    if (options_.artifact_cache_ttl > absl::ZeroDuration()) {
      absl::MutexLock lock(&cache_mu_);
      if (generation == cache_generation_) {
        if (cache_.size() >= options_.artifact_cache_entries) cache_.clear();
        cache_[req.http.target] =
            CachedListing{text + "\n", req.route, clock_->Now() + options_.artifact_cache_ttl};
      }
    }
    req.ReplyRaw(200, std::move(text));
  }

  // Every artifact (or version) a listing names, all pages.
  absl::StatusOr<std::vector<cat::JobArtifact>> AllArtifacts(cat::ListJobArtifactsRequest list) {
    RETURN_IF_ERROR(Need(catalog_, "catalog"));
    list.set_page_size(1000);
    std::vector<cat::JobArtifact> out;
    RETURN_IF_ERROR(ForEachPage<cat::ListJobArtifactsResponse>(
        list,
        [&](const cat::ListJobArtifactsRequest& r, cat::ListJobArtifactsResponse* page) {
          return Check(catalog_->ListJobArtifacts(Context(nullptr).get(), r, page), "catalog");
        },
        [&](const cat::ListJobArtifactsResponse& page) {
          out.insert(out.end(), page.artifacts().begin(), page.artifacts().end());
        }));
    return out;
  }

  absl::StatusOr<std::vector<std::string>> AllArtifactNames(cat::ListJobArtifactNamesRequest list) {
    RETURN_IF_ERROR(Need(catalog_, "catalog"));
    list.set_page_size(1000);
    std::vector<std::string> out;
    RETURN_IF_ERROR(ForEachPage<cat::ListJobArtifactNamesResponse>(
        list,
        [&](const cat::ListJobArtifactNamesRequest& r, cat::ListJobArtifactNamesResponse* page) {
          return Check(catalog_->ListJobArtifactNames(Context(nullptr).get(), r, page), "catalog");
        },
        [&](const cat::ListJobArtifactNamesResponse& page) {
          out.insert(out.end(), page.names().begin(), page.names().end());
        }));
    return out;
  }

  // Registers, and clears the listing cache even on an error (a write
  // that timed out may have landed).
  absl::StatusOr<cat::RegisterJobArtifactResponse> Register(const auth::Identity& caller,
                                                            const cat::RegisterJobArtifactRequest& reg) {
    RETURN_IF_ERROR(Need(catalog_, "catalog"));
    cat::RegisterJobArtifactResponse resp;
    absl::Status s = Check(catalog_->RegisterJobArtifact(Context(&caller).get(), reg, &resp), "catalog");
    InvalidateCache();
    RETURN_IF_ERROR(s);
    return resp;
  }

  // The revision of an If-Match header ("3" or 3); 0 without one.
  static absl::StatusOr<int64_t> IfMatchRevision(const http::HttpRequest& http) {
    absl::string_view header = http.Header("if-match");
    if (header.empty()) return 0;
    absl::string_view rev = header;
    absl::ConsumePrefix(&rev, "\"");
    absl::ConsumeSuffix(&rev, "\"");
    int64_t n = 0;
    if (!absl::SimpleAtoi(rev, &n) || n <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("If-Match must be a revision number, got \"", header, "\""));
    }
    return n;
  }

  absl::Status SearchArtifacts(Request& req) {
    RETURN_IF_ERROR(Need(catalog_, "catalog"));
    cat::ListJobArtifactsRequest list;
    list.set_name(req.target.query.GetOr("name", ""));
    list.set_version(req.target.query.GetOr("version", ""));
    if (list.name().empty() && !list.version().empty()) {
      return absl::InvalidArgumentError("\"version\" needs \"name\"");
    }
    const uint64_t generation = CacheGeneration();
    ASSIGN_OR_RETURN(auto artifacts, AllArtifacts(list));
    Json out = Json::array();
    for (const auto& a : artifacts) out.push_back(ArtifactJson(a));
    ReplyAndCache(req, out, generation);
    return absl::OkStatus();
  }

  absl::Status RegisterArtifact(Request& req) {
    RETURN_IF_ERROR(Need(catalog_, "catalog"));
    cat::RegisterJobArtifactRequest reg;
    ASSIGN_OR_RETURN(*reg.mutable_artifact(), ParseArtifact(req.http.body));
    ASSIGN_OR_RETURN(bool overwrite, BoolParam(req.target.query, "overwrite"));
    if (overwrite) RETURN_IF_ERROR(req.caller.Allows(auth::Role::kAdmin, "overwriting a job artifact"));
    reg.set_overwrite(overwrite);
    ASSIGN_OR_RETURN(int64_t revision, IfMatchRevision(req.http));
    if (revision > 0 && !overwrite) {
      return absl::InvalidArgumentError("If-Match applies to ?overwrite=true registrations");
    }
    reg.set_expected_revision(revision);
    ASSIGN_OR_RETURN(cat::RegisterJobArtifactResponse resp, Register(req.caller, reg));
    req.Reply(resp.created() ? 201 : 200,
              Json{{"artifactID", resp.artifact().artifact_id()},
                   {"revision", resp.artifact().revision()}},
              {{"ETag", absl::StrCat("\"", resp.artifact().revision(), "\"")},
               {"Location", absl::StrCat("/api/v1/jobArtifacts/",
                                         PercentEncode(resp.artifact().artifact_id()))}});
    return absl::OkStatus();
  }

  absl::Status ArtifactNames(Request& req) {
    RETURN_IF_ERROR(Need(catalog_, "catalog"));
    cat::ListJobArtifactNamesRequest list;
    list.set_prefix(req.target.query.GetOr("prefix", ""));
    list.set_contains(req.target.query.GetOr("contains", ""));
    const uint64_t generation = CacheGeneration();
    ASSIGN_OR_RETURN(auto names, AllArtifactNames(list));
    ReplyAndCache(req, Json(names), generation);
    return absl::OkStatus();
  }

  absl::Status GetArtifact(Request& req) {
    RETURN_IF_ERROR(Need(catalog_, "catalog"));
    cat::GetJobArtifactRequest get;
    get.set_artifact_id(req.params["id"]);
    cat::JobArtifact a;
    RETURN_IF_ERROR(Check(catalog_->GetJobArtifact(Context(&req.caller).get(), get, &a), "catalog"));
    req.Reply(200, ArtifactJson(a), {{"ETag", absl::StrCat("\"", a.revision(), "\"")}});
    return absl::OkStatus();
  }

  absl::Status DeleteArtifact(Request& req) {
    RETURN_IF_ERROR(Need(catalog_, "catalog"));
    cat::DeleteJobArtifactRequest del;
    del.set_artifact_id(req.params["id"]);
    ASSIGN_OR_RETURN(int64_t revision, IfMatchRevision(req.http));
    del.set_expected_revision(revision);
    cat::DeleteJobArtifactResponse resp;
    absl::Status deleted =
        Check(catalog_->DeleteJobArtifact(Context(&req.caller).get(), del, &resp), "catalog");
    InvalidateCache();
    RETURN_IF_ERROR(deleted);
    req.Reply(200, Json{{"deleted", del.artifact_id()}});
    return absl::OkStatus();
  }

  // ------------------------------------------------------------ jobs

  absl::Status CreateJob(Request& req) {
    RETURN_IF_ERROR(Need(catalog_, "catalog"));
    // o2r clients send a form (curl -F is multipart); JSON works too.
    std::map<std::string, std::string> fields;
    Json labels;
    absl::string_view type = req.http.Header("content-type");
    if (absl::StartsWithIgnoreCase(type, "application/json")) {
      ASSIGN_OR_RETURN(Json body, ParseJsonObject(req.http.body));
      for (const auto& [k, v] : body.items()) {
        if (k == "labels") {
          labels = v;
        } else if (k == "compendium_id" || k == "group" || k == "name" || k == "gc_strategy" ||
                   k == "retention") {
          if (!v.is_string()) {
            return absl::InvalidArgumentError(absl::StrCat("\"", k, "\" must be a string"));
          }
          fields[k] = v.get<std::string>();
        } else {
          return absl::InvalidArgumentError(absl::StrCat("unknown field \"", k, "\""));
        }
      }
    } else if (absl::StartsWithIgnoreCase(type, "multipart/form-data")) {
      ASSIGN_OR_RETURN(auto parts, ParseMultipartForm(type, req.http.body));
      for (auto& [k, v] : parts) fields[k] = v;
    } else {
      ASSIGN_OR_RETURN(QueryParams form, QueryParams::Parse(req.http.body));
      for (const auto& [k, v] : form.all()) fields[k] = v;
    }
    cat::CreateJobRequest create;
    cat::Job* job = create.mutable_job();
    job->set_compendium_id(fields["compendium_id"]);
    if (job->compendium_id().empty()) return absl::InvalidArgumentError("compendium_id is required");
    job->set_name(fields["name"]);
    std::string group = fields["group"];
    if (group.empty()) {
      group = req.caller.all_groups || req.caller.groups.empty() ? options_.default_group
                                                                  : req.caller.groups.front();
    }
    if (!req.caller.SeesGroup(group)) {
      return absl::PermissionDeniedError(absl::StrCat("this token may not create jobs in group ",
                                                      group));
    }
    job->set_group(group);
    RETURN_IF_ERROR(StringMap(labels, "labels", job->mutable_labels()));
    if (!fields["gc_strategy"].empty()) {
      ASSIGN_OR_RETURN(types::GcStrategy g, ParseStrategy(fields["gc_strategy"]));
      job->set_gc_strategy(g);
    }
    if (!fields["retention"].empty()) {
      absl::Duration d;
      if (!absl::ParseDuration(fields["retention"], &d) || d <= absl::ZeroDuration()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "retention must be a positive duration such as \"168h\", got \"", fields["retention"],
            "\""));
      }
      *job->mutable_retention() = ToProtoDuration(d);
    }
    cat::CreateJobResponse resp;
    absl::Status s = Check(catalog_->CreateJob(Context(&req.caller).get(), create, &resp), "catalog");
    if (absl::IsNotFound(s)) return absl::NotFoundError("no compendium with this ID found");
    RETURN_IF_ERROR(s);
    req.Reply(200, Json{{"job_id", resp.job().id()}});
    return absl::OkStatus();
  }

  absl::Status ListJobs(Request& req) {
    RETURN_IF_ERROR(Need(catalog_, "catalog"));
    const QueryParams& q = req.target.query;
    ASSIGN_OR_RETURN(int limit, IntParam(q, "limit", options_.default_limit, 1, 1000));
    ASSIGN_OR_RETURN(int start, IntParam(q, "start", 1, 1, 1 << 30));
    const std::string fields = q.GetOr("fields", "");
    bool with_status = false;
    for (absl::string_view f : absl::StrSplit(fields, ',', absl::SkipEmpty())) {
      if (f != "status") {
        return absl::InvalidArgumentError(
            absl::StrCat("fields may only name \"status\", got \"", f, "\""));
      }
      with_status = true;
    }
    cat::ListJobsRequest list;
    const std::string status = q.GetOr("status", "");
    if (!status.empty()) {
      ASSIGN_OR_RETURN(types::JobStatus s, ParseJobStatus(status));
      list.add_statuses(s);
    }
    const std::string compendia = q.GetOr("compendium_id", "");
    for (absl::string_view c : absl::StrSplit(compendia, ',', absl::SkipEmpty())) {
      list.add_compendium_ids(std::string(c));
    }
    const std::string group = q.GetOr("group", "");
    list.set_group(group);
    const int64_t offset = static_cast<int64_t>(start - 1) * limit;

    std::vector<cat::Job> jobs;
    bool more = false;
    RETURN_IF_ERROR(ListVisibleJobs(req.caller, list, offset, limit, &jobs, &more));

    Json results = Json::array();
    for (const auto& j : jobs) {
      if (with_status) {
        results.push_back(Json{{"id", j.id()}, {"status", JobStatusName(j.status())}});
      } else {
        results.push_back(j.id());
      }
    }
    auto link = [&](int page_start) {
      std::string url = absl::StrCat("/api/v1/job?limit=", limit, "&start=", page_start);
      if (!compendia.empty()) absl::StrAppend(&url, "&compendium_id=", PercentEncode(compendia));
      if (!status.empty()) absl::StrAppend(&url, "&status=", PercentEncode(status));
      if (!group.empty()) absl::StrAppend(&url, "&group=", PercentEncode(group));
      if (!fields.empty()) absl::StrAppend(&url, "&fields=", PercentEncode(fields));
      return url;
    };
    Json out{{"results", results}};
    if (more) out["next"] = link(start + 1);
    if (start > 1) out["previous"] = link(start - 1);
    req.Reply(200, out);
    return absl::OkStatus();
  }

  absl::Status GetJob(Request& req) {
    ASSIGN_OR_RETURN(cat::Job job, VisibleJob(req, req.params["id"]));
    ASSIGN_OR_RETURN(JobFiles files, VisibleFiles(req, job.id()));
    Json logs = Json::array();
    for (const auto& f : files.logs) {
      logs.push_back(Json{{"path", f.path()},
                          {"size", f.size()},
                          {"downloadUrl", DownloadUrl(job.id(), f.path())}});
    }
    Json out = JobJson(job);
    out["steps"] = StepsJson(job);
    out["files"] = FileTree(job.id(), files.outputs);
    out["logs"] = logs;
    req.Reply(200, out);
    return absl::OkStatus();
  }

  absl::Status GetSteps(Request& req) {
    ASSIGN_OR_RETURN(cat::Job job, VisibleJob(req, req.params["id"]));
    req.Reply(200, Json{{"id", job.id()},
                        {"status", JobStatusName(job.status())},
                        {"steps", StepsJson(job)}});
    return absl::OkStatus();
  }

  absl::Status DeleteJob(Request& req) {
    ASSIGN_OR_RETURN(cat::Job job, VisibleJob(req, req.params["id"]));
    cat::DeleteJobRequest del;
    del.set_id(job.id());
    ASSIGN_OR_RETURN(bool force, BoolParam(req.target.query, "force"));
    del.set_force(force);
    cat::DeleteJobResponse resp;
    RETURN_IF_ERROR(Check(catalog_->DeleteJob(Context(&req.caller).get(), del, &resp), "catalog"));
    Json out{{"id", job.id()},
             {"purged", resp.purged()},
             {"pending_finalizers", std::vector<std::string>(resp.pending_finalizers().begin(),
                                                             resp.pending_finalizers().end())}};
    if (force) {
      out["note"] = "finalizers dropped; files not yet deleted are left to TTL expiry";
    }
    req.Reply(resp.purged() ? 200 : 202, out);
    return absl::OkStatus();
  }

  absl::Status ListFiles(Request& req) {
    ASSIGN_OR_RETURN(cat::Job job, VisibleJob(req, req.params["id"]));
    const QueryParams& q = req.target.query;
    cat::ListFilesRequest list;
    list.set_job_id(job.id());
    ASSIGN_OR_RETURN(int size, IntParam(q, "page_size", 100, 1, 1000));
    list.set_page_size(size);
    list.set_page_token(q.GetOr("page_token", ""));
    list.set_path_prefix(q.GetOr("prefix", ""));
    ASSIGN_OR_RETURN(bool deleted, BoolParam(q, "include_deleted"));
    list.set_include_deleted(deleted);
    cat::ListFilesResponse page;
    RETURN_IF_ERROR(Check(catalog_->ListFiles(Context(&req.caller).get(), list, &page), "catalog"));
    Json files = Json::array();
    for (const auto& f : page.files()) {
      if (req.caller.SeesPrivacy(f.privacy_level())) files.push_back(FileJson(f));
    }
    Json out{{"files", files}};
    if (!page.next_page_token().empty()) out["next_page_token"] = page.next_page_token();
    req.Reply(200, out);
    return absl::OkStatus();
  }

  absl::Status GetLogs(Request& req) {
    req.params["path"] = absl::StrCat(kLogPrefix, "job.log");
    return Serve(req, /*inline_text=*/true);
  }

  absl::Status Download(Request& req) { return Serve(req, /*inline_text=*/false); }

  // GET or HEAD of one file, streamed from the collector.
  absl::Status Serve(Request& req, bool inline_text) {
    const std::string path = req.params["path"];
    RETURN_IF_ERROR(CheckFilePath(path));
    ASSIGN_OR_RETURN(cat::Job job, VisibleJob(req, req.params["id"]));
    cat::GetFileRequest get;
    get.set_job_id(job.id());
    get.set_path(path);
    cat::ArtifactFile file;
    absl::Status s = Check(catalog_->GetFile(Context(&req.caller).get(), get, &file), "catalog");
    if (absl::IsNotFound(s) || (s.ok() && (file.state() != types::FILE_STATE_AVAILABLE ||
                                           !req.caller.SeesPrivacy(file.privacy_level())))) {
      return absl::NotFoundError(absl::StrCat("job ", job.id(), " has no file ", path));
    }
    RETURN_IF_ERROR(s);

    http::HttpResponse head;
    head.route = req.route;
    const std::string etag = absl::StrCat("\"", file.sha256(), "\"");
    head.headers = {{"ETag", etag},
                    {"Accept-Ranges", "bytes"},
                    {"Cache-Control", "private, no-cache"},
                    {"Last-Modified", absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT",
                                                       FromProtoTime(file.last_modified()),
                                                       absl::UTCTimeZone())}};
    if (IfNoneMatchHits(req.http.Header("if-none-match"), etag)) {
      head.status = 304;
      req.out.Send(std::move(head));
      return absl::OkStatus();
    }
    auto range = ParseRange(req.http.Header("range"), file.size());
    if (absl::IsOutOfRange(range.status())) {
      req.Reply(416, Json{{"error", range.status().message()}},
                {{"Content-Range", absl::StrCat("bytes */", file.size())}});
      return absl::OkStatus();
    }
    RETURN_IF_ERROR(range.status());
    int64_t offset = 0, length = file.size();
    if (range->has_value()) {
      offset = (*range)->offset;
      length = (*range)->length;
      head.status = 206;
      head.headers.emplace_back("Content-Range", absl::StrCat("bytes ", offset, "-",
                                                              offset + length - 1, "/", file.size()));
    }
    head.headers.emplace_back("Content-Type",
                              inline_text ? "text/plain; charset=utf-8" : ContentTypeFor(path));
    head.headers.emplace_back("Content-Length", absl::StrCat(length));
    head.headers.emplace_back("Content-Disposition",
                              inline_text ? "inline" : ContentDisposition(path));
    head.headers.emplace_back("X-Content-Type-Options", "nosniff");
    if (req.http.method == "HEAD" || length == 0) {
      req.out.Send(std::move(head));
      return absl::OkStatus();
    }
    RETURN_IF_ERROR(Need(collector_, "collector"));
    auto slot = downloads_.Acquire(auth_ != nullptr ? req.caller.name : PeerAddress(req.http));
    if (!slot.ok()) {
      req.Reply(503, Json{{"error", slot.status().message()}}, {{"Retry-After", "2"}});
      return absl::OkStatus();
    }
    collector::v1::DownloadRequest dl;
    dl.set_job_id(job.id());
    dl.set_path(path);
    dl.set_offset(offset);
    dl.set_length(length);
    auto body = std::make_unique<CollectorBody>(Context(&req.caller, absl::Hours(1)), *std::move(slot));
    body->stream = collector_->Download(body->context.get(), dl);
    // The first message decides between an error status and a 200/206.
    if (!body->stream->Read(&body->message)) {
      absl::Status s = Check(body->stream->Finish(), "collector");
      body->finished = true;
      return s;
    }
    // The collector sends only bytes it has checked; if the stored ones
    // fail, the stream ends early and so does the response, short of its
    // Content-Length.
    req.out.SendStream(std::move(head), std::move(body));
    return absl::OkStatus();
  }

  // A download's body: the collector's stream, a message at a time, its
  // first message already read.
  struct CollectorBody : http::HttpBody {
    CollectorBody(std::unique_ptr<grpc::ClientContext> c, DownloadLimits::Slot s)
        : context(std::move(c)), slot(std::move(s)) {}
    ~CollectorBody() override {
      if (finished) return;
      context->TryCancel();
      stream->Finish().IgnoreError();
    }
    absl::Status Next(std::string* out) override {
      if (have_message) {
        have_message = false;
        out->swap(*message.mutable_chunk());
        return absl::OkStatus();
      }
      if (finished) {
        out->clear();
        return absl::OkStatus();
      }
      if (stream->Read(&message)) {
        out->swap(*message.mutable_chunk());
        return absl::OkStatus();
      }
      finished = true;
      out->clear();
      return Check(stream->Finish(), "collector");
    }

    std::unique_ptr<grpc::ClientContext> context;
    DownloadLimits::Slot slot;
    std::unique_ptr<grpc::ClientReaderInterface<collector::v1::DownloadResponse>> stream;
    collector::v1::DownloadResponse message;
    bool have_message = true;  // the first, read to choose the status
    bool finished = false;
  };

  // The client's address without its port.
  static std::string PeerAddress(const http::HttpRequest& http) {
    const size_t colon = http.peer.rfind(':');
    return colon == std::string::npos ? http.peer : http.peer.substr(0, colon);
  }

  // -------------------------------------------------------------- gc

  absl::Status GcRun(Request& req) {
    RETURN_IF_ERROR(Need(retention_, "retention-gc"));
    if (!req.caller.all_groups) {
      return absl::PermissionDeniedError("running a sweep needs a token for every group (\"*\")");
    }
    retention::v1::RunCleanupRequest run;
    retention::v1::RunCleanupResponse resp;
    RETURN_IF_ERROR(Check(retention_->RunCleanup(Context(&req.caller, absl::Minutes(10)).get(), run, &resp),
                          "retention-gc"));
    // Only what the caller may see: files above its level are left out,
    // and their bytes with them.
    retention::v1::RunCleanupResponse shown = resp;
    shown.clear_removed();
    shown.set_bytes_removed(0);
    for (const auto& r : resp.removed()) {
      if (!req.caller.SeesPrivacy(r.privacy_level())) continue;
      *shown.add_removed() = r;
      shown.set_bytes_removed(shown.bytes_removed() + r.size());
    }
    req.ReplyRaw(200, ProtoJson(shown));
    return absl::OkStatus();
  }

  absl::Status GcPreview(Request& req) {
    RETURN_IF_ERROR(Need(retention_, "retention-gc"));
    retention::v1::PreviewCleanupRequest preview;
    preview.set_job_id(req.target.query.GetOr("job_id", ""));
    ASSIGN_OR_RETURN(int limit, IntParam(req.target.query, "limit", 1000, 1, 100000));
    preview.set_limit(limit);
    preview.set_max_privacy_level(static_cast<types::PrivacyLevel>(req.caller.privacy_level));
    if (preview.job_id().empty()) {
      if (!req.caller.all_groups) {
        return absl::PermissionDeniedError(
            "a preview of every job needs a token for every group (\"*\"); pass job_id");
      }
    } else {
      RETURN_IF_ERROR(VisibleJob(req, preview.job_id()).status());
    }
    retention::v1::PreviewCleanupResponse resp;
    RETURN_IF_ERROR(Check(retention_->PreviewCleanup(Context(&req.caller, absl::Minutes(1)).get(), preview, &resp),
                          "retention-gc"));
    req.ReplyRaw(200, ProtoJson(resp));
    return absl::OkStatus();
  }

  absl::Status GcStatus(Request& req) {
    RETURN_IF_ERROR(Need(retention_, "retention-gc"));
    ASSIGN_OR_RETURN(cat::Job job, VisibleJob(req, req.params["id"]));
    retention::v1::GcStatusRequest status;
    status.set_job_id(job.id());
    status.set_max_privacy_level(static_cast<types::PrivacyLevel>(req.caller.privacy_level));
    retention::v1::GcStatusResponse resp;
    RETURN_IF_ERROR(Check(retention_->GcStatus(Context(&req.caller).get(), status, &resp), "retention-gc"));
    req.ReplyRaw(200, ProtoJson(resp));
    return absl::OkStatus();
  }

  // ------------------------------------------------------ scheduling

  absl::Status Resolve(Request& req) {
    RETURN_IF_ERROR(Need(scheduler_, "scheduler-attribute"));
    scheduling::v1::JobDefinition definition;
    auto parsed = google::protobuf::util::JsonStringToMessage(req.http.body, &definition);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("request body is not a JobDefinition: ", parsed.message().as_string()));
    }
    scheduling::v1::SchedulingConstraints resp;
    RETURN_IF_ERROR(Check(scheduler_->Resolve(Context(&req.caller).get(), definition, &resp),
                          "scheduler-attribute"));
    req.ReplyRaw(200, ProtoJson(resp));
    return absl::OkStatus();
  }

  // The web page: index.html at /, the rest under /ui/. No token needed to
  // load the page itself; its data comes from /graphql.
  absl::Status WebFile(Request& req) {
    const std::string name = req.params.count("file") ? req.params["file"] : "index.html";
    auto it = web_files_.find(name);
    if (it == web_files_.end()) {
      return absl::NotFoundError(options_.web_dir.empty()
                                     ? "this gateway serves no web page (see --web_dir)"
                                     : absl::StrCat("no such file: ", name));
    }
    http::HttpResponse r;
    r.route = req.route;
    r.headers = {{"Content-Type", ContentTypeFor(name)},
                 {"Cache-Control", "no-cache"},
                 {"X-Content-Type-Options", "nosniff"},
                 {"Content-Security-Policy",
                  "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'"}};
    r.body = it->second;
    req.out.Send(std::move(r));
    return absl::OkStatus();
  }

  // ---------------------------------------------------------- GraphQL

  // POST application/json {query, variables, operationName}, or GET with
  // the same as query parameters (queries only).
  absl::Status GraphQl(Request& req) {
    std::string query, operation;
    graphql::Json variables;
    const bool get = req.http.method == "GET" || req.http.method == "HEAD";
    if (get) {
      query = req.target.query.GetOr("query", "");
      operation = req.target.query.GetOr("operationName", "");
      const std::string vars = req.target.query.GetOr("variables", "");
      if (!vars.empty()) {
        ASSIGN_OR_RETURN(variables, ParseJson(vars, "variables"));
      }
    } else {
      absl::string_view type = req.http.Header("content-type");
      if (!absl::StartsWithIgnoreCase(type, "application/json")) {
        req.Reply(415, Json{{"error", "POST /graphql takes Content-Type: application/json"}});
        return absl::OkStatus();
      }
      ASSIGN_OR_RETURN(Json body, ParseJsonObject(req.http.body));
      if (!body.contains("query") || !body["query"].is_string()) {
        return absl::InvalidArgumentError("\"query\" must be a string");
      }
      query = body["query"].get<std::string>();
      if (body.contains("operationName") && !body["operationName"].is_null()) {
        if (!body["operationName"].is_string()) {
          return absl::InvalidArgumentError("\"operationName\" must be a string");
        }
        operation = body["operationName"].get<std::string>();
      }
      if (body.contains("variables")) variables = body["variables"];
    }
    if (query.empty()) return absl::InvalidArgumentError("no GraphQL query given");
    bool request_error = false;
    graphql::ExecutionLimits limits;
    limits.max_cost = options_.graphql_max_cost;
    limits.deadline = absl::Now() + options_.graphql_timeout;
    limits.max_response_bytes = options_.graphql_max_response_bytes;
    graphql::Json result =
        schema_.Execute(query, variables, operation, &req, get, &request_error, limits);
    if (get && request_error && result["errors"][0]["message"].get<std::string>().rfind(
                                    "Can only perform", 0) == 0) {
      req.Reply(405, result, {{"Allow", "POST"}});
      return absl::OkStatus();
    }
    req.Reply(request_error ? 400 : 200, result);
    return absl::OkStatus();
  }

  static Request& Req(void* context) { return *static_cast<Request*>(context); }

  static graphql::Json Entries(const google::protobuf::Map<std::string, std::string>& m) {
    std::map<std::string, std::string> sorted(m.begin(), m.end());
    graphql::Json out = graphql::Json::array();
    for (const auto& [k, v] : sorted) out.push_back(graphql::Json{{"key", k}, {"value", v}});
    return out;
  }

  static graphql::Json GqlArtifact(const cat::JobArtifact& a) {
    return graphql::Json{{"artifactID", a.artifact_id()},   {"name", a.name()},
                         {"version", a.version()},          {"createdAt", TimeJson(a.created_at())},
                         {"runtimeType", a.runtime_type()}, {"dependencies", Entries(a.dependencies())},
                         {"entrypoint", a.entrypoint()},    {"tags", Entries(a.tags())},
                         {"revision", static_cast<int>(a.revision())}};
  }

  static graphql::Json GqlJob(const cat::Job& job) {
    graphql::Json steps = graphql::Json::array();
    for (const auto& st : job.steps()) {
      steps.push_back(graphql::Json{{"name", st.name()},
                                    {"status", StepStatusName(st.status())},
                                    {"start", TimeJson(st.start())},
                                    {"end", TimeJson(st.end())},
                                    {"text", st.text()}});
    }
    graphql::Json conditions = graphql::Json::array();
    for (const auto& c : job.conditions()) {
      conditions.push_back(graphql::Json{{"type", c.type()}, {"message", c.message()}});
    }
    const bool finished = job.has_finished_at();
    return graphql::Json{{"id", job.id()},
                         {"name", job.name()},
                         {"group", job.group()},
                         {"status", JobStatusName(job.status())},
                         {"finished", finished},
                         {"compendiumId", job.compendium_id()},
                         {"createdAt", TimeJson(job.created_at())},
                         {"finishedAt", TimeJson(job.finished_at())},
                         {"labels", Entries(job.labels())},
                         {"steps", steps},
                         {"conditions", conditions}};
  }

  static graphql::Json GqlItems(const std::string& job_id,
                                const std::vector<cat::ArtifactFile>& files) {
    graphql::Json items = graphql::Json::array();
    for (const auto& f : files) {
      items.push_back(graphql::Json{{"name", f.path()},
                                    {"size", static_cast<double>(f.size())},
                                    {"lastModified", TimeJson(f.last_modified())},
                                    {"downloadUrl", DownloadUrl(job_id, f.path())},
                                    {"privacyLevel", PrivacyName(f.privacy_level())},
                                    {"sha256", f.sha256()}});
    }
    return items;
  }

  void BuildSchema() {
    using graphql::FieldDef;
    using graphql::ListOf;
    using graphql::Named;
    using graphql::NonNull;
    using graphql::TypeDef;
    using GJson = graphql::Json;
    auto str = [] { return Named("String"); };
    auto nn = [](const char* t) { return NonNull(Named(t)); };
    auto list = [](const char* t) { return NonNull(ListOf(NonNull(Named(t)))); };
    auto object = [&](const char* name, const char* description, std::vector<FieldDef> fields) {
      TypeDef t;
      t.name = name;
      t.description = description;
      t.fields = std::move(fields);
      schema_.Add(std::move(t));
    };
    auto input = [&](const char* name, std::vector<graphql::InputValueDef> fields) {
      TypeDef t;
      t.kind = TypeDef::Kind::kInputObject;
      t.name = name;
      t.input_fields = std::move(fields);
      schema_.Add(std::move(t));
    };
    auto fail = [](const absl::Status& s) -> absl::StatusOr<GJson> { return s; };
    // What fields cost, for a query's budget (graphql::FieldCost): a call to
    // a backend; a short list (labels, steps, tags); a job's files, at most
    // the collector's default 1,000; a page's items, already counted by the
    // page's limit.
    const graphql::FieldCost one_call{1, "", 0};
    const graphql::FieldCost few{0, "", 20};
    const graphql::FieldCost files_per_job{0, "", 1000};
    const graphql::FieldCost counted_by_page{0, "", 1};

    object("Entry", "A key and its value (tags, dependencies, labels).",
           {{"key", nn("String")}, {"value", nn("String")}});
    object("Step", "One step of a job (o2r).",
           {{"name", nn("String")},
            {"status", nn("String"), "queued, running, success, failure, warning or skip"},
            {"start", str()},
            {"end", str()},
            {"text", str()}});
    object("Condition", "A job condition, e.g. ArtifactGCError.",
           {{"type", nn("String")}, {"message", str()}});
    object("ArtifactItem", "One collected file of a job.",
           {{"name", nn("String"), "Path relative to the job's artifacts folder."},
            {"size", nn("Float"), "Bytes (a Float: files may pass 2^31 bytes)."},
            {"lastModified", str()},
            {"downloadUrl", nn("String")},
            {"privacyLevel", nn("String")},
            {"sha256", nn("String")}});
    object("PhJobArtifact", "A job's artifacts, as PrimeHub's phJob.artifact.",
           {{"prefix", nn("String"), "groups/<group>/jobArtifacts/<job>"},
            {"items", list("ArtifactItem"), "", {}, nullptr, files_per_job}});
    object("PhJob", "One job.",
           {{"id", nn("ID")},
            {"name", str()},
            {"group", nn("String")},
            {"status", nn("String"), "queued, running, success or failure"},
            {"finished", nn("Boolean")},
            {"compendiumId", str()},
            {"createdAt", str()},
            {"finishedAt", str()},
            {"labels", list("Entry"), "", {}, nullptr, few},
            {"steps", list("Step"), "", {}, nullptr, few},
            {"conditions", list("Condition"), "", {}, nullptr, few},
            {"artifact", nn("PhJobArtifact"), "The files the job collected (not its logs).", {},
             [this](const GJson& job, const GJson&, void* ctx) -> absl::StatusOr<GJson> {
               const std::string id = job["id"];
               auto files = VisibleFiles(Req(ctx), id);
               if (!files.ok()) return files.status();
               return GJson{{"prefix", absl::StrCat("groups/", job["group"].get<std::string>(),
                                                    "/jobArtifacts/", id)},
                            {"items", GqlItems(id, files->outputs)}};
             },
             one_call},
            {"logs", list("ArtifactItem"), "The job's logs (what arca run recorded).", {},
             [this](const GJson& job, const GJson&, void* ctx) -> absl::StatusOr<GJson> {
               const std::string id = job["id"];
               auto files = VisibleFiles(Req(ctx), id);
               if (!files.ok()) return files.status();
               return GqlItems(id, files->logs);
             },
             graphql::FieldCost{1, "", 20}}});
    object("PhJobPage", "A page of jobs, newest first.",
           {{"items", list("PhJob"), "", {}, nullptr, counted_by_page},
            {"hasNextPage", nn("Boolean")}});
    object("JobArtifact", "A package jobs run from (Mantis).",
           {{"artifactID", nn("ID")},
            {"name", nn("String")},
            {"version", nn("String")},
            {"createdAt", str()},
            {"runtimeType", str()},
            {"dependencies", list("Entry"), "", {}, nullptr, few},
            {"entrypoint", str()},
            {"tags", list("Entry"), "", {}, nullptr, few},
            {"revision", nn("Int")}});
    object("SchedulingAttribute", "One merged attribute and where it came from.",
           {{"key", nn("String")},
            {"value", nn("String")},
            {"source", nn("String"), "artifact_tag or job_label"},
            {"sourceKey", nn("String")},
            {"overrode", nn("Boolean")},
            {"overriddenValue", str()}});
    object("SchedulingConstraints", "What a job needs from the scheduler.",
           {{"machineDefinition", str()},
            {"sizeAttribute", str()},
            {"artifactId", str()},
            {"attributes", list("SchedulingAttribute")},
            {"warnings", list("String")}});
    object("DeleteJobResult", "The job as deletion left it.",
           {{"id", nn("ID")}, {"purged", nn("Boolean")}, {"pendingFinalizers", list("String")}});
    input("PhJobWhereUniqueInput", {{"id", nn("ID")}});
    input("PhJobWhereInput", {{"status", str()}, {"group", str()}, {"compendiumId", str()}});
    input("EntryInput", {{"key", nn("String")}, {"value", nn("String")}});
    input("JobArtifactInput", {{"artifactID", Named("ID")},
                               {"name", nn("String")},
                               {"version", nn("String")},
                               {"createdAt", str()},
                               {"runtimeType", str()},
                               {"entrypoint", str()},
                               {"dependencies", ListOf(NonNull(Named("EntryInput")))},
                               {"tags", ListOf(NonNull(Named("EntryInput")))}});

    object("Query", "Arca's jobs, their artifacts, packages and scheduling.",
           {{"phJob", Named("PhJob"), "One job; null if there is none the caller may see.",
             {{"where", NonNull(Named("PhJobWhereUniqueInput"))}},
             [this, fail](const GJson&, const GJson& args, void* ctx) -> absl::StatusOr<GJson> {
               auto job = VisibleJob(Req(ctx), args["where"]["id"]);
               if (absl::IsNotFound(job.status())) return GJson();
               if (!job.ok()) return fail(job.status());
               return GqlJob(*job);
             },
             one_call},
            {"phJobs", nn("PhJobPage"), "Jobs newest first, filtered, a page at a time.",
             {{"where", Named("PhJobWhereInput")},
              {"limit", Named("Int"), "", GJson(20)},
              {"page", Named("Int"), "1-indexed", GJson(1)}},
             [this, fail](const GJson&, const GJson& args, void* ctx) -> absl::StatusOr<GJson> {
               const GJson where = args.value("where", GJson::object());
               const int limit = args["limit"], page = args["page"];
               if (limit < 1 || limit > 1000) return fail(absl::InvalidArgumentError("limit must be 1 to 1000"));
               if (page < 1) return fail(absl::InvalidArgumentError("page must be at least 1"));
               cat::ListJobsRequest list;
               if (where.is_object()) {
                 const std::string status = where.value("status", GJson()).is_string() ? where["status"].get<std::string>() : "";
                 if (!status.empty()) {
                   auto st = ParseJobStatus(status);
                   if (!st.ok()) return fail(st.status());
                   list.add_statuses(*st);
                 }
                 if (where.value("group", GJson()).is_string()) list.set_group(where["group"].get<std::string>());
                 if (where.value("compendiumId", GJson()).is_string()) {
                   list.add_compendium_ids(where["compendiumId"].get<std::string>());
                 }
               }
               std::vector<cat::Job> jobs;
               bool more = false;
               absl::Status s = ListVisibleJobs(Req(ctx).caller, list, static_cast<int64_t>(page - 1) * limit, limit, &jobs, &more);
               if (!s.ok()) return fail(s);
               GJson items = GJson::array();
               for (const auto& j : jobs) items.push_back(GqlJob(j));
               return GJson{{"items", items}, {"hasNextPage", more}};
             },
             graphql::FieldCost{1, "limit", 0}},
            {"jobArtifacts", list("JobArtifact"), "A name's versions, newest first (or one version).",
             {{"name", nn("String")}, {"version", str()}},
             [this, fail](const GJson&, const GJson& args, void*) -> absl::StatusOr<GJson> {
               cat::ListJobArtifactsRequest list;
               list.set_name(args["name"]);
               if (args.value("version", GJson()).is_string()) list.set_version(args["version"]);
               auto artifacts = AllArtifacts(list);
               if (!artifacts.ok()) return fail(artifacts.status());
               GJson out = GJson::array();
               for (const auto& a : *artifacts) out.push_back(GqlArtifact(a));
               return out;
             },
             one_call},
            {"jobArtifactNames", list("String"), "Package names by prefix and/or substring.",
             {{"prefix", str()}, {"contains", str()}},
             [this, fail](const GJson&, const GJson& args, void*) -> absl::StatusOr<GJson> {
               cat::ListJobArtifactNamesRequest list;
               if (args.value("prefix", GJson()).is_string()) list.set_prefix(args["prefix"]);
               if (args.value("contains", GJson()).is_string()) list.set_contains(args["contains"]);
               auto names = AllArtifactNames(list);
               if (!names.ok()) return fail(names.status());
               return GJson(*names);
             },
             one_call},
            {"schedulingConstraints", Named("SchedulingConstraints"),
             "Mantis' merge of artifact tags and _mantis.schedulingAttribute.* labels, with sources.",
             {{"jobJarUrl", str()}, {"artifactId", str()}, {"name", str()}, {"version", str()},
              {"labels", ListOf(NonNull(Named("EntryInput")))},
              {"machineDefinition", str()}, {"sizeAttribute", str()}},
             [this, fail](const GJson&, const GJson& args, void* ctx) -> absl::StatusOr<GJson> {
               RETURN_IF_ERROR(Need(scheduler_, "scheduler-attribute"));
               scheduling::v1::JobDefinition def;
               auto text = [&](const char* k) {
                 return args.value(k, GJson()).is_string() ? args[k].get<std::string>() : std::string();
               };
               if (!text("jobJarUrl").empty()) {
                 def.mutable_artifact()->set_job_jar_url(text("jobJarUrl"));
               } else if (!text("artifactId").empty()) {
                 def.mutable_artifact()->set_artifact_id(text("artifactId"));
               } else if (!text("name").empty()) {
                 def.mutable_artifact()->mutable_name_version()->set_name(text("name"));
                 def.mutable_artifact()->mutable_name_version()->set_version(text("version"));
               }
               if (args.value("labels", GJson()).is_array()) {
                 for (const auto& l : args["labels"]) (*def.mutable_labels())[l["key"]] = l["value"];
               }
               def.set_machine_definition(text("machineDefinition"));
               def.set_size_attribute(text("sizeAttribute"));
               scheduling::v1::SchedulingConstraints c;
               absl::Status s = Check(scheduler_->Resolve(Context(&Req(ctx).caller).get(), def, &c), "scheduler-attribute");
               if (!s.ok()) return fail(s);
               GJson attributes = GJson::array();
               for (const auto& a : c.attributes()) {
                 attributes.push_back(GJson{{"key", a.key()}, {"value", a.value()}, {"source", a.source()},
                                            {"sourceKey", a.source_key()}, {"overrode", a.overrode()},
                                            {"overriddenValue", a.overrode() ? GJson(a.overridden_value()) : GJson()}});
               }
               return GJson{{"machineDefinition", c.machine_definition()},
                            {"sizeAttribute", c.size_attribute()},
                            {"artifactId", c.artifact_id()},
                            {"attributes", attributes},
                            {"warnings", std::vector<std::string>(c.warnings().begin(), c.warnings().end())}};
             },
             one_call}});
    object("Mutation", "Changes.",
           {{"cleanupPhJobArtifact", nn("Int"),
             "Runs a retention sweep now (PrimeHub's); returns how many files it removed. Needs a token for every group.",
             {},
             [this, fail](const GJson&, const GJson&, void* ctx) -> absl::StatusOr<GJson> {
               RETURN_IF_ERROR(Need(retention_, "retention-gc"));
               RETURN_IF_ERROR(Req(ctx).caller.Allows(auth::Role::kAdmin, "cleanupPhJobArtifact"));
               if (!Req(ctx).caller.all_groups) {
                 return fail(absl::PermissionDeniedError("running a sweep needs a token for every group (\"*\")"));
               }
               retention::v1::RunCleanupResponse resp;
               absl::Status s = Check(retention_->RunCleanup(Context(&Req(ctx).caller, absl::Minutes(10)).get(),
                                                              retention::v1::RunCleanupRequest(), &resp),
                                      "retention-gc");
               if (!s.ok()) return fail(s);
               // Files above the caller's level are not counted.
               int removed = 0;
               for (const auto& r : resp.removed()) removed += Req(ctx).caller.SeesPrivacy(r.privacy_level());
               return GJson(removed);
             },
             one_call},
            {"registerJobArtifact", nn("JobArtifact"),
             "Registers a package; an existing name+version with other content is an error unless overwrite.",
             {{"input", NonNull(Named("JobArtifactInput"))},
              {"overwrite", Named("Boolean"), "", GJson(false)},
              {"expectedRevision", Named("Int")}},
             [this, fail](const GJson&, const GJson& args, void* ctx) -> absl::StatusOr<GJson> {
               RETURN_IF_ERROR(Req(ctx).caller.Allows(auth::Role::kWriter, "registerJobArtifact"));
               if (args["overwrite"].get<bool>()) {
                 RETURN_IF_ERROR(Req(ctx).caller.Allows(auth::Role::kAdmin, "registerJobArtifact with overwrite"));
               }
               const GJson& in = args["input"];
               cat::RegisterJobArtifactRequest reg;
               cat::JobArtifact* a = reg.mutable_artifact();
               auto text = [&](const char* k) {
                 return in.value(k, GJson()).is_string() ? in[k].get<std::string>() : std::string();
               };
               a->set_artifact_id(text("artifactID"));
               a->set_name(text("name"));
               a->set_version(text("version"));
               a->set_runtime_type(text("runtimeType"));
               a->set_entrypoint(text("entrypoint"));
               if (!text("createdAt").empty()) {
                 absl::Time t;
                 std::string err;
                 if (!absl::ParseTime(absl::RFC3339_full, text("createdAt"), &t, &err)) {
                   return fail(absl::InvalidArgumentError("createdAt must be an RFC 3339 time"));
                 }
                 *a->mutable_created_at() = ToProtoTime(t);
               }
               for (const char* k : {"dependencies", "tags"}) {
                 if (!in.value(k, GJson()).is_array()) continue;
                 auto* m = std::string(k) == "tags" ? a->mutable_tags() : a->mutable_dependencies();
                 for (const auto& e : in[k]) (*m)[e["key"]] = e["value"];
               }
               reg.set_overwrite(args["overwrite"].get<bool>());
               if (args.value("expectedRevision", GJson()).is_number()) {
                 reg.set_expected_revision(args["expectedRevision"].get<int64_t>());
               }
               auto resp = Register(Req(ctx).caller, reg);
               if (!resp.ok()) return fail(resp.status());
               return GqlArtifact(resp->artifact());
             },
             one_call},
            {"deleteJob", nn("DeleteJobResult"),
             "Deletes a job; while GC holds it, purged is false and the finalizers are listed. force drops them.",
             {{"id", nn("ID")}, {"force", Named("Boolean"), "", GJson(false)}},
             [this, fail](const GJson&, const GJson& args, void* ctx) -> absl::StatusOr<GJson> {
               RETURN_IF_ERROR(Req(ctx).caller.Allows(auth::Role::kAdmin, "deleteJob"));
               auto job = VisibleJob(Req(ctx), args["id"]);
               if (!job.ok()) return fail(job.status());
               cat::DeleteJobRequest del;
               del.set_id(job->id());
               del.set_force(args["force"].get<bool>());
               cat::DeleteJobResponse resp;
               absl::Status s = Check(catalog_->DeleteJob(Context(&Req(ctx).caller).get(), del, &resp), "catalog");
               if (!s.ok()) return fail(s);
               return GJson{{"id", job->id()},
                            {"purged", resp.purged()},
                            {"pendingFinalizers", std::vector<std::string>(resp.pending_finalizers().begin(),
                                                                           resp.pending_finalizers().end())}};
             },
             graphql::FieldCost{2, "", 0}}});
    schema_.SetMutationType("Mutation");
  }

  GatewayOptions options_;
  Clock* clock_;
  auth::TokenFile* auth_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<cat::Catalog::Stub> catalog_;
  std::unique_ptr<collector::v1::Collector::Stub> collector_;
  std::unique_ptr<retention::v1::RetentionGc::Stub> retention_;
  std::unique_ptr<scheduling::v1::SchedulerAttribute::Stub> scheduler_;
  DownloadLimits downloads_;
  std::vector<Route> routes_;
  std::map<std::string, std::string> web_files_;
  graphql::Schema schema_;
  prometheus::Counter& cache_hits_;
  absl::Mutex cache_mu_;
  absl::flat_hash_map<std::string, CachedListing> cache_ ABSL_GUARDED_BY(cache_mu_);
  uint64_t cache_generation_ ABSL_GUARDED_BY(cache_mu_) = 0;
};

Gateway::Gateway(const GatewayOptions& options, Backends backends, auth::TokenFile* auth,
                 std::shared_ptr<prometheus::Registry> registry, Clock* clock)
    : impl_(std::make_unique<Impl>(options, std::move(backends), auth, std::move(registry),
                                   clock)) {}
Gateway::~Gateway() = default;

void Gateway::Handle(const http::HttpRequest& request, http::HttpResponder& responder) {
  impl_->Handle(request, responder);
}

bool Gateway::FromCache(const http::HttpRequest& request, http::HttpResponse* response) {
  return impl_->FromCache(request, response);
}

}  // namespace arca::gateway
