// The gateway: routing, authentication, what a caller may see, the cache.

#include "services/gateway/gateway.h"
#include "services/gateway/gateway_impl.h"

#include "common/rpc/health_client.h"

namespace arca::gateway {

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

bool Gateway::Impl::FromCache(const http::HttpRequest& http, http::HttpResponse* response) {
  // A browser's cross-origin request goes the long way, for its CORS headers.
  if (http.method != "GET" || !absl::StartsWith(http.target, "/api/v1/jobArtifacts") ||
      !http.Header("origin").empty()) {
    return false;
  }
  {
    absl::MutexLock lock(&cache_mu_);
    auto it = cache_.find(http.target);
    if (it == cache_.end() || it->second.expires <= clock_->Now()) return false;
    response->body = it->second.body;
    response->route = it->second.route;
  }
  if (auth_ != nullptr) {
    auto caller = Authenticate(http);
    if (!caller.ok()) return false;  // the handler explains the 401
    response->identity = caller->name;
  }
  response->status = 200;
  response->headers.emplace_back("Content-Type", "application/json");
  cache_hits_.Increment();
  return true;
}

namespace {

// Every answer names its caller (for the access line); an allowed origin's
// answers carry CORS' headers.
class AnswerResponder : public http::HttpResponder {
 public:
  AnswerResponder(http::HttpResponder& out, std::string origin) : out_(out), origin_(std::move(origin)) {}
  void Send(http::HttpResponse response) override { out_.Send(With(std::move(response))); }
  void SendStream(http::HttpResponse head, std::unique_ptr<http::HttpBody> body) override {
    out_.SendStream(With(std::move(head)), std::move(body));
  }
  std::string identity;  // "" until authenticated

 private:
  http::HttpResponse With(http::HttpResponse r) {
    r.identity = identity;
    if (origin_.empty()) return r;
    r.headers.emplace_back("Access-Control-Allow-Origin", origin_);
    r.headers.emplace_back("Vary", "Origin");
    r.headers.emplace_back("Access-Control-Expose-Headers",
                           "ETag, Content-Range, Content-Disposition, Location, Retry-After, WWW-Authenticate");
    return r;
  }
  http::HttpResponder& out_;
  const std::string origin_;
};

}  // namespace

void Gateway::Impl::Handle(const http::HttpRequest& http, http::HttpResponder& plain_out) {
  const std::string origin(http.Header("origin"));
  const bool cors = !origin.empty() && absl::c_linear_search(options_.cors_origins, origin);
  AnswerResponder out(plain_out, cors ? origin : "");
  auto target = ParseTarget(http.target);
  if (!target.ok()) {
    Request req{{}, http, Target(), {}, auth::Identity(), out, "malformed"};
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
  Request req{{}, http, *std::move(target), std::move(params), auth::Identity::Everyone(), out,
              "unmatched"};
  // A browser's CORS preflight: what the path allows, to an allowed origin.
  if (http.method == "OPTIONS" && !http.Header("access-control-request-method").empty() && !allowed.empty()) {
    req.route = "OPTIONS (CORS preflight)";
    if (!cors) {
      req.ReplyError(403, absl::StrCat("CORS: the origin \"", origin,
                                       "\" may not call this API from a browser (the gateway's --cors_origins)"));
      return;
    }
    if (absl::c_linear_search(allowed, "GET")) allowed.push_back("HEAD");
    http::HttpResponse ok;
    ok.status = 204;
    ok.route = req.route;
    ok.headers = {{"Access-Control-Allow-Methods", absl::StrJoin(allowed, ", ")},
                  {"Access-Control-Allow-Headers", "Authorization, Content-Type, Range, If-None-Match, If-Match"},
                  {"Access-Control-Max-Age", "600"}};
    out.Send(std::move(ok));
    return;
  }
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
      req.ReplyError(401, caller.status().message(), {{"WWW-Authenticate", "Bearer realm=\"arca\""}});
      return;
    }
    req.caller = *std::move(caller);
    out.identity = req.caller.name;
  }
  if (absl::Status allowed = req.caller.Allows(route->role, req.route); !allowed.ok()) {
    req.ReplyError(403, allowed.message());
    return;
  }
  absl::Status s = (this->*(route->fn))(req);
  if (!s.ok()) {
    req.ReplyError(HttpStatusFor(s.code()), s.message());
  }
}

absl::StatusOr<auth::Identity> Gateway::Impl::Authenticate(const http::HttpRequest& http) {
  const absl::string_view bearer = http.Header("authorization");
  if (bearer.empty() && !http.client_certificate.empty()) {
    if (auto who = auth_->ByCertificate(http.client_certificate)) return *who;
    return absl::UnauthenticatedError("the client certificate names no identity");
  }
  return auth_->Authenticate(bearer);
}

clients::CallOptions Gateway::Impl::Call(const auth::Identity* caller, absl::Duration timeout) {
  clients::CallOptions call;
  if (auth_ != nullptr && caller != nullptr) call.act_for = caller->name;
  call.timeout = timeout;
  return call;
}

absl::StatusOr<cat::Job> Gateway::Impl::VisibleJob(const Request& req, const std::string& id) {
  RETURN_IF_ERROR(Need(catalog_, "catalog"));
  cat::GetJobRequest get;
  get.set_id(id);
  auto job = catalog_->GetJob(get, Call(&req.caller));
  if (absl::IsNotFound(job.status()) || absl::IsInvalidArgument(job.status()) ||
      (job.ok() && !req.caller.SeesGroup(job->group()))) {
    return absl::NotFoundError(absl::StrCat("no job with id ", id));
  }
  return job;
}

absl::StatusOr<JobFiles> Gateway::Impl::VisibleFiles(Request& req, const std::string& job_id) {
  if (auto seen = req.files.find(job_id); seen != req.files.end()) return seen->second;
  JobFiles files;
  cat::ListFilesRequest list;  // deleted files are left out
  list.set_job_id(job_id);
  list.set_page_size(1000);
  RETURN_IF_ERROR(catalog_->ForEachFile(
      list,
      [&](const cat::ArtifactFile& f) {
        if (req.caller.SeesPrivacy(f.privacy_level())) {
          (IsJobLog(f.path()) ? files.logs : files.outputs).push_back(f);
        }
        return absl::OkStatus();
      },
      Call(&req.caller)));
  req.files[job_id] = files;
  return files;
}

absl::Status Gateway::Impl::ListVisibleJobs(const auth::Identity& caller, cat::ListJobsRequest list, int64_t offset,
                             int limit, std::vector<cat::Job>* jobs, bool* more,
                             const std::function<bool(const cat::Job&)>& keep) {
  RETURN_IF_ERROR(Need(catalog_, "catalog"));
  *more = false;
  if (!list.group().empty() && !caller.SeesGroup(list.group())) return absl::OkStatus();
  if (offset > (1 << 30)) return absl::InvalidArgumentError("the page is too far");
  if (!keep && (caller.all_groups || !list.group().empty() || caller.groups.size() == 1)) {
    if (list.group().empty() && !caller.all_groups) list.set_group(caller.groups.front());
    list.set_offset(static_cast<int>(offset));
    list.set_page_size(limit);
    ASSIGN_OR_RETURN(cat::ListJobsResponse page, catalog_->ListJobs(list, Call(&caller)));
    jobs->assign(page.jobs().begin(), page.jobs().end());
    if (!page.next_page_token().empty()) {
      cat::ListJobsRequest probe = list;
      probe.set_offset(0);
      probe.set_page_size(1);
      probe.set_page_token(page.next_page_token());
      ASSIGN_OR_RETURN(cat::ListJobsResponse next, catalog_->ListJobs(probe, Call(&caller)));
      *more = next.jobs_size() > 0;
    }
    return absl::OkStatus();
  }
  // Several groups, or a filter of the gateway's own: walk every job newest
  // first, keeping the caller's and those `keep` keeps.
  int64_t skipped = 0;
  list.set_page_size(1000);
  absl::Status walked = catalog_->ForEachJob(
      list,
      [&](const cat::Job& j) {
        if (!caller.SeesGroup(j.group()) || (keep && !keep(j))) return absl::OkStatus();
        if (skipped < offset) {
          ++skipped;
        } else if (static_cast<int>(jobs->size()) < limit) {
          jobs->push_back(j);
        } else {
          *more = true;
          return absl::CancelledError("enough");  // stops the walk
        }
        return absl::OkStatus();
      },
      Call(&caller));
  return *more ? absl::OkStatus() : walked;
}

absl::Status Gateway::Impl::Metrics(Request& req) {
  http::HttpResponse r;
  r.route = req.route;
  r.headers.emplace_back("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  auto families = registry_->Collect();
  for (auto& f : http::ProcessCollector().Collect()) families.push_back(std::move(f));
  r.body = prometheus::TextSerializer().Serialize(families);
  req.out.Send(std::move(r));
  return absl::OkStatus();
}

absl::Status Gateway::Impl::Ready(Request& req) {
  // Each backend's own health: the gateway needs the catalog, and for
  // downloads either the blob store or the collector; the others are
  // reported. States only: no addresses or errors to an unauthenticated
  // caller (each service logs its own).
  Json backends = Json::object();
  bool ready = true;
  auto check = [&](const char* name, const std::shared_ptr<grpc::Channel>& channel,
                   const char* service, bool needed) {
    if (channel == nullptr) return;
    const absl::Status s = rpc::CheckHealth(channel, service, absl::Seconds(2));
    backends[name] = s.ok() ? "serving" : "not serving";
    ready &= s.ok() || !needed;
  };
  check("catalog", backends_.catalog, "arca.catalog.v1.Catalog", true);
  check("collector", backends_.collector, "arca.collector.v1.Collector", blobs_ == nullptr);
  check("retention_gc", backends_.retention_gc, "arca.retention.v1.RetentionGc", false);
  check("scheduler_attribute", backends_.scheduler_attribute,
        "arca.scheduling.v1.SchedulerAttribute", false);
  if (blobs_ != nullptr) {
    const bool readable = blobs_->CheckReadable().ok();
    backends["blob_store"] = readable ? "readable" : "not readable";
    ready &= readable;
  }
  req.Reply(ready ? 200 : 503,
            Json{{"status", ready ? "ready" : "not ready"}, {"backends", std::move(backends)}});
  return absl::OkStatus();
}

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

std::vector<std::string> Gateway::Routes() const { return impl_->Routes(); }

}  // namespace arca::gateway
