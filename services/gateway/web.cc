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
                "default-src 'self'; img-src 'self' data: blob:; frame-src blob:; object-src 'none'; "
                "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"}};
  r.body = it->second;
  req.out.Send(std::move(r));
  return absl::OkStatus();
}

absl::Status Gateway::Impl::Favicon(Request& req) {
  // A chest (arca) in the page's blue.
  static constexpr char kIcon[] =
      R"(<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">)"
      R"(<rect x="3" y="11" width="26" height="18" rx="3" fill="#1f5fbf"/>)"
      R"(<path d="M5 11c0-5 4-8 11-8s11 3 11 8z" fill="#3d7fe0"/>)"
      R"(<rect x="13" y="15" width="6" height="6" rx="1" fill="#fff"/></svg>)";
  http::HttpResponse r;
  r.route = req.route;
  r.headers = {{"Content-Type", "image/svg+xml"}, {"Cache-Control", "max-age=86400"}};
  r.body = kIcon;
  req.out.Send(std::move(r));
  return absl::OkStatus();
}

}  // namespace arca::gateway
