#ifndef ARCA_SERVICES_GATEWAY_GATEWAY_H_
#define ARCA_SERVICES_GATEWAY_GATEWAY_H_

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "common/clock.h"
#include "common/http/server.h"

namespace grpc {
class Channel;
}
namespace prometheus {
class Registry;
}

namespace arca::auth {
class TokenFile;
}
namespace arca::blob {
class BlobStore;
}

namespace arca::gateway {

struct GatewayOptions {
  // Deadline of each backend call (a download's stream gets an hour).
  // Default: 10 s.
  absl::Duration backend_timeout = absl::Seconds(10);
  // Default page size of GET /api/v1/job (o2r's 100).
  int default_limit = 100;
  // Group of jobs created over REST without one.
  std::string default_group = "default";
  // How long a job-artifact listing (GET /api/v1/jobArtifacts and
  // .../names) is served from memory. Writes through this gateway clear the
  // cache at once; writes made elsewhere show within this long. Zero turns
  // the cache off. Default: 1 s.
  absl::Duration artifact_cache_ttl = absl::Seconds(1);
  // Most cached listings. Default: 10,000.
  size_t artifact_cache_entries = 10000;
  // GraphQL bounds: a query costing more than max_cost is refused before
  // it runs (each field counts once per object it is resolved on, 100 more
  // per backend call, lists as many times as the items they may hold);
  // resolving stops after the timeout or once the response holds about
  // max_response_bytes. Defaults: 100,000; 10 s; 16 MiB.
  int64_t graphql_max_cost = 100000;
  absl::Duration graphql_timeout = absl::Seconds(10);
  size_t graphql_max_response_bytes = 16 << 20;
  // Downloads in progress at once, per client (its token's name, or its
  // address without one) and in all; beyond either, 503 with Retry-After.
  // Defaults: 8 and 64.
  int max_downloads_per_client = 8;
  int max_downloads = 64;
  // Non-zero, with a blob store that has URLs of its own (S3): a GET of a
  // loose file the caller may see answers 307 with a presigned URL valid
  // this long instead of streaming the bytes; packed files are streamed.
  absl::Duration presign_downloads = absl::ZeroDuration();
  // The web page's files (index.html, app.js, style.css), read once at
  // start. Empty: no web page.
  std::string web_dir;
  // Origins (scheme://host[:port]) whose pages may call the API from a
  // browser (CORS). Empty: none; the web page itself is same-origin.
  std::vector<std::string> cors_origins;
};

// Where the web page's files are when nobody says: beside the binary's
// build tree (services/gateway/web) or an install's share/arca/web. Empty if
// neither exists.
std::string DefaultWebDir();

// The four services the gateway talks to, as gRPC channels (rpc::PeerChannel,
// carrying the gateway's own token: it acts for each caller). Any may be
// null: its routes then answer 503.
struct Backends {
  std::shared_ptr<grpc::Channel> catalog, collector, retention_gc, scheduler_attribute;
  // The blob store, where the gateway shares it with the collector:
  // downloads then read it directly, block checks included, instead of
  // through the collector. Not owned; null: through the collector.
  blob::BlobStore* blobs = nullptr;
};


// REST (Mantis jobArtifacts, o2r jobs, files and downloads, GC, scheduling)
// over the backends' gRPC contracts, with visibility by token.
class Gateway {
 public:
  // auth null: everyone sees everything (the loopback default).
  Gateway(const GatewayOptions& options, Backends backends, auth::TokenFile* auth,
          std::shared_ptr<prometheus::Registry> registry, Clock* clock = Clock::Real());
  ~Gateway();

  // The http::HttpServer handler.
  void Handle(const http::HttpRequest& request, http::HttpResponder& responder);
  // The http::HttpServer fast path: answers cached artifact listings without
  // blocking.
  bool FromCache(const http::HttpRequest& request, http::HttpResponse* response);

  // Every route the gateway answers, as "GET /api/v1/job/{id}".
  std::vector<std::string> Routes() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace arca::gateway

#endif  // ARCA_SERVICES_GATEWAY_GATEWAY_H_
