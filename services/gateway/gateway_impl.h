#ifndef ARCA_SERVICES_GATEWAY_GATEWAY_IMPL_H_
#define ARCA_SERVICES_GATEWAY_GATEWAY_IMPL_H_

// The gateway's insides, one room per file: gateway.cc (routing, auth,
// what a caller may see, the cache), rest_artifacts.cc, rest_jobs.cc
// (jobs, files, downloads), rest_gc.cc (GC and scheduling), web.cc (the
// web page's files), graphql_schema.cc (the GraphQL schema and resolvers).
// Internal to the gateway.


#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <map>
#include <optional>

#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/http/process_metrics.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"
#include "common/clients/catalog.h"
#include "common/clients/collector.h"
#include "common/clients/retention.h"
#include "common/clients/scheduling.h"
#include "common/blob/store.h"
#include "common/auth/tokens.h"
#include "services/gateway/download_limits.h"
#include "services/gateway/graphql/graphql.h"
#include "services/gateway/http_util.h"
#include "services/gateway/gateway.h"
#include "services/gateway/rest.h"

namespace arca::gateway {

class Gateway::Impl {
 public:
  Impl(const GatewayOptions& options, Backends backends, auth::TokenFile* auth,
       std::shared_ptr<prometheus::Registry> registry, Clock* clock)
      : options_(options),
        clock_(clock),
        auth_(auth),
        registry_(std::move(registry)),
        downloads_(options.max_downloads_per_client, options.max_downloads),
        cache_hits_(metrics::Register<metrics::Counter>(
            *registry_, {"arca_gateway_artifact_cache_hits_total",
                         "Job-artifact listings answered from the gateway's cache"})) {
    blobs_ = backends.blobs;
    backends_ = backends;
    clients::ClientOptions backend;
    backend.timeout = options.backend_timeout;
    backend.public_errors = true;
    if (backends.catalog) catalog_ = clients::NewCatalogClient(backends.catalog, backend);
    if (backends.collector) collector_ = clients::NewCollectorClient(backends.collector, backend);
    if (backends.retention_gc) {
      retention_ = clients::NewRetentionClient(backends.retention_gc, backend);
    }
    if (backends.scheduler_attribute) {
      scheduler_ = clients::NewSchedulingClient(backends.scheduler_attribute, backend);
    }
    // Each route with the role it needs (reads need reader, changes writer,
    // changing or deleting what others made admin); open routes need no
    // token at all.
    constexpr auth::Role kRead = auth::Role::kReader, kWrite = auth::Role::kWriter, kAdmin = auth::Role::kAdmin;
    routes_ = {
        {"GET", "/healthz", &Impl::Health, kRead, true},
        {"GET", "/readyz", &Impl::Ready, kRead, true},
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
        {"GET", "/api/v1/job/{id}/artifacts.zip", &Impl::DownloadZip, kRead},
        {"HEAD", "/api/v1/job/{id}/artifacts.zip", &Impl::DownloadZip, kRead},
        {"GET", "/files/groups/{group}/jobArtifacts/{id}/{*path}", &Impl::PhFile, kRead},
        {"HEAD", "/files/groups/{group}/jobArtifacts/{id}/{*path}", &Impl::PhFile, kRead},
        {"GET", "/api/files/groups/{group}/jobArtifacts/{id}/{*path}", &Impl::PhFile, kRead},
        {"HEAD", "/api/files/groups/{group}/jobArtifacts/{id}/{*path}", &Impl::PhFile, kRead},
        {"POST", "/api/v1/gc/run", &Impl::GcRun, kAdmin},
        {"GET", "/api/v1/gc/preview", &Impl::GcPreview, kRead},
        {"POST", "/api/v1/scheduling/resolve", &Impl::Resolve, kRead},
        {"GET", "/graphql", &Impl::GraphQl, kRead},
        {"POST", "/graphql", &Impl::GraphQl, kRead},
        {"GET", "/api/v1/openapi.json", &Impl::OpenApi, kRead, true},
        {"GET", "/", &Impl::WebFile, kRead, true},
        {"GET", "/favicon.ico", &Impl::Favicon, kRead, true},
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

  bool FromCache(const http::HttpRequest& http, http::HttpResponse* response);

  void Handle(const http::HttpRequest& http, http::HttpResponder& out);

  std::vector<std::string> Routes() const {
    std::vector<std::string> out;
    for (const Route& r : routes_) out.push_back(absl::StrCat(r.method, " ", r.pattern));
    return out;
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
  absl::StatusOr<auth::Identity> Authenticate(const http::HttpRequest& http);

  // A backend call acting for the caller when tokens are in use (the
  // backends then apply the caller's groups, level and roles too); without
  // a caller, as the gateway itself (shared listings). Zero timeout: the
  // gateway's --backend_timeout.
  clients::CallOptions Call(const auth::Identity* caller,
                            absl::Duration timeout = absl::ZeroDuration());
  template <typename Client>
  static absl::Status Need(const std::unique_ptr<Client>& client, absl::string_view backend) {
    if (client == nullptr) {
      return absl::UnavailableError(absl::StrCat(backend, " is not configured on this gateway"));
    }
    return absl::OkStatus();
  }

  // The job, if the caller may see it; otherwise NOT_FOUND exactly as for a
  // job that does not exist.
  absl::StatusOr<cat::Job> VisibleJob(const Request& req, const std::string& id);

  // A job's files the caller may see, from the catalog the first time a
  // request asks.
  absl::StatusOr<JobFiles> VisibleFiles(Request& req, const std::string& job_id);

  // Jobs the caller may see, newest first: `offset` skipped, at most
  // `limit`, *more if another follows. `list` carries the filters (a group
  // the caller cannot see gives nothing).
  absl::Status ListVisibleJobs(const auth::Identity& caller, cat::ListJobsRequest list, int64_t offset,
                               int limit, std::vector<cat::Job>* jobs, bool* more,
                               const std::function<bool(const cat::Job&)>& keep = nullptr);

  // ------------------------------------------------------------ misc

  // Alive: the gateway answers.
  absl::Status Health(Request& req) {
    req.Reply(200, Json{{"status", "ok"}});
    return absl::OkStatus();
  }
  // Ready: what it needs to serve jobs and downloads is SERVING (each
  // service is NOT_SERVING itself while its own peers or disk fail).
  absl::Status Ready(Request& req);

  absl::Status Metrics(Request& req);

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
  void InvalidateCache();
  void ReplyAndCache(Request& req, const Json& out, uint64_t generation);

  // Every artifact (or version) a listing names, all pages.
  absl::StatusOr<std::vector<cat::JobArtifact>> AllArtifacts(cat::ListJobArtifactsRequest list);

  absl::StatusOr<std::vector<std::string>> AllArtifactNames(cat::ListJobArtifactNamesRequest list);

  // Registers, and clears the listing cache even on an error (a write
  // that timed out may have landed).
  absl::StatusOr<cat::RegisterJobArtifactResponse> Register(const auth::Identity& caller,
                                                            const cat::RegisterJobArtifactRequest& reg);

  // The revision of an If-Match header ("3" or 3); 0 without one.
  static absl::StatusOr<int64_t> IfMatchRevision(const http::HttpRequest& http);

  absl::Status SearchArtifacts(Request& req);

  absl::Status RegisterArtifact(Request& req);

  absl::Status ArtifactNames(Request& req);

  absl::Status GetArtifact(Request& req);

  absl::Status DeleteArtifact(Request& req);

  // ------------------------------------------------------------ jobs

  absl::Status CreateJob(Request& req);

  absl::Status ListJobs(Request& req);

  absl::Status GetJob(Request& req);

  absl::Status GetSteps(Request& req);

  absl::Status DeleteJob(Request& req);

  absl::Status ListFiles(Request& req);

  absl::Status GetLogs(Request& req) {
    ASSIGN_OR_RETURN(cat::Job job, VisibleJob(req, req.params["id"]));
    return Serve(req, job, absl::StrCat(kJobLogPrefix, "job.log"), /*inline_text=*/true);
  }

  absl::Status Download(Request& req) {
    ASSIGN_OR_RETURN(cat::Job job, VisibleJob(req, req.params["id"]));
    return Serve(req, job, req.params["path"], /*inline_text=*/false);
  }

  // GET or HEAD /api/v1/job/{id}/artifacts.zip[?path=DIR][&pattern=GLOB...]:
  // the files `arca get -D` would take, as one zip built while it is sent.
  absl::Status DownloadZip(Request& req);

  // A place for one more download by the caller (the backend it reads from
  // must be there); none free: 503 with Retry-After is sent, and nullopt.
  absl::StatusOr<std::optional<DownloadLimits::Slot>> DownloadPlace(Request& req);

  // A body that holds a download's place while it is sent.
  struct SlotBody : http::HttpBody {
    SlotBody(std::unique_ptr<http::HttpBody> b, DownloadLimits::Slot s)
        : body(std::move(b)), slot(std::move(s)) {}
    absl::Status Next(std::string* out) override { return body->Next(out); }
    std::unique_ptr<http::HttpBody> body;
    DownloadLimits::Slot slot;
  };

  // PrimeHub's download links: the console's /files/<prefix>/<name> and the
  // SDK's /api/files/<prefix>/<name>, where the prefix is the job's
  // artifact.prefix (groups/<group>/jobArtifacts/<job>).
  absl::Status PhFile(Request& req);

  // GET or HEAD of one of the job's files, streamed from the blob store or
  // the collector.
  absl::Status Serve(Request& req, const cat::Job& job, const std::string& path, bool inline_text);

  // A download's body: the collector's stream, a message at a time, its
  // first message already read.
  struct CollectorBody : http::HttpBody {
    CollectorBody(std::unique_ptr<clients::DownloadStream> s, DownloadLimits::Slot l)
        : stream(std::move(s)), slot(std::move(l)) {}
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
      return stream->Finish();
    }

    std::unique_ptr<clients::DownloadStream> stream;  // cancelled if dropped unfinished
    DownloadLimits::Slot slot;
    collector::v1::DownloadResponse message;
    bool have_message = true;  // the first, read to choose the status
    bool finished = false;
  };

  // A download's body read from the blob store itself, checked block by
  // block; its first piece already read.
  struct BlobBody : http::HttpBody {
    BlobBody(std::unique_ptr<blob::BlobReader> r, DownloadLimits::Slot l)
        : reader(std::move(r)), slot(std::move(l)) {}
    absl::Status Next(std::string* out) override {
      if (!first.empty()) {
        out->swap(first);
        first.clear();
        return absl::OkStatus();
      }
      return reader->Read(out);  // DATA_LOSS ends the response short
    }

    std::unique_ptr<blob::BlobReader> reader;
    DownloadLimits::Slot slot;
    std::string first;
  };

  // The body of a download of `file`: from the blob store when the gateway
  // has it, else the collector's stream. Its first piece is read here, so a
  // missing or damaged start is an error status, not a short 200.
  absl::StatusOr<std::unique_ptr<http::HttpBody>> DownloadBody(
      const auth::Identity& caller, const cat::ArtifactFile& file, int64_t offset, int64_t length,
      DownloadLimits::Slot slot);

  // The client's address without its port.
  static std::string PeerAddress(const http::HttpRequest& http) {
    const size_t colon = http.peer.rfind(':');
    return colon == std::string::npos ? http.peer : http.peer.substr(0, colon);
  }

  // -------------------------------------------------------------- gc

  absl::Status GcRun(Request& req);

  absl::Status GcPreview(Request& req);

  absl::Status GcStatus(Request& req);

  // ------------------------------------------------------ scheduling

  absl::Status Resolve(Request& req);

  // The web page: index.html at /, the rest under /ui/. No token needed to
  // load the page itself; its data comes from /graphql.
  absl::Status WebFile(Request& req);
  // Arca's icon (an SVG, whatever the name says: browsers take it).
  absl::Status Favicon(Request& req);
  // The routes described as OpenAPI 3.1 (openapi.cc).
  absl::Status OpenApi(Request& req);

  // ---------------------------------------------------------- GraphQL

  // POST application/json {query, variables, operationName}, or GET with
  // the same as query parameters (queries only).
  absl::Status GraphQl(Request& req);

  static graphql::Json Entries(const google::protobuf::Map<std::string, std::string>& m);

  static graphql::Json GqlArtifact(const cat::JobArtifact& a);

  static graphql::Json GqlJob(const cat::Job& job);

  static graphql::Json GqlItems(const std::string& job_id,
                                const std::vector<cat::ArtifactFile>& files);

  void BuildSchema();

  GatewayOptions options_;
  Clock* clock_;
  auth::TokenFile* auth_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<clients::CatalogClient> catalog_;
  std::unique_ptr<clients::CollectorClient> collector_;
  std::unique_ptr<clients::RetentionClient> retention_;
  std::unique_ptr<clients::SchedulingClient> scheduler_;
  Backends backends_;  // the channels, for /readyz
  blob::BlobStore* blobs_ = nullptr;
  DownloadLimits downloads_;
  std::vector<Route> routes_;
  std::map<std::string, std::string> web_files_;
  graphql::Schema schema_;
  prometheus::Counter& cache_hits_;
  absl::Mutex cache_mu_;
  absl::flat_hash_map<std::string, CachedListing> cache_ ABSL_GUARDED_BY(cache_mu_);
  uint64_t cache_generation_ ABSL_GUARDED_BY(cache_mu_) = 0;
};

}  // namespace arca::gateway

#endif  // ARCA_SERVICES_GATEWAY_GATEWAY_IMPL_H_
