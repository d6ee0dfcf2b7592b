// The gateway: routing, authentication, what a caller may see, the cache.

#include "services/gateway/gateway.h"
#include "services/gateway/gateway_impl.h"

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

void Gateway::Impl::Handle(const http::HttpRequest& http, http::HttpResponder& out) {
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

absl::StatusOr<auth::Identity> Gateway::Impl::Authenticate(const http::HttpRequest& http) {
  const absl::string_view bearer = http.Header("authorization");
  if (bearer.empty() && !http.client_certificate.empty()) {
    if (auto who = auth_->ByCertificate(http.client_certificate)) return *who;
    return absl::UnauthenticatedError("the client certificate names no identity");
  }
  return auth_->Authenticate(bearer);
}

std::unique_ptr<grpc::ClientContext> Gateway::Impl::Context(const auth::Identity* caller,
                                             absl::Duration timeout) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(absl::ToChronoTime(
      absl::Now() + (timeout == absl::ZeroDuration() ? options_.backend_timeout : timeout)));
  if (auth_ != nullptr && caller != nullptr) auth::ActFor(*c, caller->name);
  return c;
}

absl::Status Gateway::Impl::Check(const grpc::Status& s, absl::string_view backend) {
  if (s.ok()) return absl::OkStatus();
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE) {
    return absl::UnavailableError(absl::StrCat(backend, " is unavailable: ", s.error_message()));
  }
  if (s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::DeadlineExceededError(absl::StrCat(backend, " did not answer in time"));
  }
  return rpc::FromGrpcStatus(s);
}

absl::StatusOr<cat::Job> Gateway::Impl::VisibleJob(const Request& req, const std::string& id) {
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

absl::StatusOr<JobFiles> Gateway::Impl::VisibleFiles(Request& req, const std::string& job_id) {
  if (auto seen = req.files.find(job_id); seen != req.files.end()) return seen->second;
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
  req.files[job_id] = files;
  return files;
}

absl::Status Gateway::Impl::ListVisibleJobs(const auth::Identity& caller, cat::ListJobsRequest list, int64_t offset,
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
