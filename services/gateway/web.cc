// The web page's files (/, /ui/{file}).

#include "services/gateway/gateway_impl.h"

namespace arca::gateway {

absl::Status Gateway::Impl::WebFile(Request& req) {
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

}  // namespace arca::gateway
