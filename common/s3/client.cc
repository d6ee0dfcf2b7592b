#include "common/s3/client.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"

namespace arca::s3 {

struct Client::Call {
  Call(std::string method, std::string key = "",
       std::vector<std::pair<std::string, std::string>> query = {}, absl::string_view body = {})
      : method(std::move(method)), key(std::move(key)), query(std::move(query)), body(body) {}
  std::string method;
  std::string key;  // empty: the bucket
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;  // signed and sent
  absl::string_view body;
  // The response body's bytes, when the reply is a success; nullptr: kept
  // in Reply::body.
  const std::function<absl::Status(absl::string_view)>* sink = nullptr;
  int64_t delivered = 0;  // bytes handed to sink
};

struct Client::Reply {
  long status = 0;
  std::string body;  // unless handed to the sink
  std::string etag;
  std::string content_range;
  int64_t content_length = -1;
  std::string last_modified;
  Metadata metadata;
};

namespace {

// The text of each <tag>…</tag> in `xml`, unescaped.
std::vector<std::string> Elements(absl::string_view xml, absl::string_view tag) {
  std::vector<std::string> out;
  const std::string open = absl::StrCat("<", tag, ">"), close = absl::StrCat("</", tag, ">");
  for (size_t at = xml.find(open); at != absl::string_view::npos; at = xml.find(open, at)) {
    const size_t begin = at + open.size();
    const size_t end = xml.find(close, begin);
    if (end == absl::string_view::npos) break;
    out.push_back(absl::StrReplaceAll(xml.substr(begin, end - begin),
                                      {{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""},
                                       {"&apos;", "'"}, {"&amp;", "&"}}));
    at = end + close.size();
  }
  return out;
}

std::string Element(absl::string_view xml, absl::string_view tag) {
  std::vector<std::string> all = Elements(xml, tag);
  return all.empty() ? "" : all.front();
}

absl::Time ParseIsoTime(absl::string_view s) {
  absl::Time t;
  std::string err;
  if (absl::ParseTime("%Y-%m-%dT%H:%M:%E*SZ", std::string(s), &t, &err)) return t;
  return absl::InfinitePast();
}

absl::Time ParseHttpTime(absl::string_view s) {
  absl::Time t;
  std::string err;
  if (absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", std::string(s), &t, &err)) return t;
  return absl::InfinitePast();
}

bool Retryable(long status) { return status >= 500 || status == 429; }

void InitCurl() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  Client::Call* call;
  Client::Reply* reply;
  CURL* curl;
  size_t body_at = 0;
  absl::Status sink_status;
};

size_t OnHeader(char* data, size_t size, size_t n, void* arg) {
  auto* t = static_cast<Transfer*>(arg);
  absl::string_view line(data, size * n);
  const size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    const std::string name = absl::AsciiStrToLower(line.substr(0, colon));
    const absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 1));
    if (name == "etag") t->reply->etag = std::string(value);
    if (name == "content-range") t->reply->content_range = std::string(value);
    if (name == "last-modified") t->reply->last_modified = std::string(value);
    if (absl::StartsWith(name, "x-amz-meta-")) {
      t->reply->metadata.emplace_back(name.substr(11), std::string(value));
    }
    if (name == "content-length") {
      int64_t v = 0;
      if (absl::SimpleAtoi(value, &v)) t->reply->content_length = v;
    }
  }
  return size * n;
}

size_t OnBody(char* data, size_t size, size_t n, void* arg) {
  auto* t = static_cast<Transfer*>(arg);
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  absl::string_view bytes(data, size * n);
  if (t->call->sink != nullptr && status >= 200 && status < 300) {
    t->sink_status = (*t->call->sink)(bytes);
    if (!t->sink_status.ok()) return 0;  // aborts the transfer
    t->call->delivered += static_cast<int64_t>(bytes.size());
  } else {
    t->reply->body.append(bytes.data(), bytes.size());
  }
  return size * n;
}

size_t OnRead(char* out, size_t size, size_t n, void* arg) {
  auto* t = static_cast<Transfer*>(arg);
  const size_t k = std::min(size * n, t->call->body.size() - t->body_at);
  memcpy(out, t->call->body.data() + t->body_at, k);
  t->body_at += k;
  return k;
}

// What a store's error reply says, for messages.
std::string Explain(const Client::Reply& r) {
  const std::string code = Element(r.body, "Code");
  const std::string message = Element(r.body, "Message");
  std::string out = absl::StrCat("HTTP ", r.status);
  if (!code.empty()) absl::StrAppend(&out, " ", code);
  if (!message.empty()) absl::StrAppend(&out, ": ", message);
  return out;
}

}  // namespace

struct Client::Pool {
  absl::Mutex mu;
  std::vector<CURL*> idle ABSL_GUARDED_BY(mu);
  ~Pool() {
    for (CURL* c : idle) curl_easy_cleanup(c);
  }
  CURL* Take() {
    {
      absl::MutexLock lock(&mu);
      if (!idle.empty()) {
        CURL* c = idle.back();
        idle.pop_back();
        return c;
      }
    }
    return curl_easy_init();
  }
  void Give(CURL* c) {
    curl_easy_reset(c);
    absl::MutexLock lock(&mu);
    idle.push_back(c);
  }
};

absl::Status ConfigFromEnvironment(Config* config) {
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v == nullptr ? "" : v;
  };
  config->credentials.access_key_id = env("AWS_ACCESS_KEY_ID");
  config->credentials.secret_access_key = env("AWS_SECRET_ACCESS_KEY");
  config->credentials.session_token = env("AWS_SESSION_TOKEN");
  config->ca_file = env("AWS_CA_BUNDLE");
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    if (!env(name).empty()) {
      config->region = env(name);
      break;
    }
  }
  if (config->credentials.access_key_id.empty() || config->credentials.secret_access_key.empty()) {
    return absl::InvalidArgumentError(
        "S3 credentials missing: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
        "(and AWS_SESSION_TOKEN for temporary credentials)");
  }
  return absl::OkStatus();
}

absl::StatusOr<Location> ParseUrl(absl::string_view url) {
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "s3://") || rest.empty() || rest.front() == '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", url, "\" is not of the form s3://BUCKET[/PREFIX]"));
  }
  rest = absl::StripSuffix(rest, "/");
  const size_t slash = rest.find('/');
  Location where;
  where.bucket = std::string(rest.substr(0, slash));
  if (slash != absl::string_view::npos) where.prefix = absl::StrCat(rest.substr(slash + 1), "/");
  // S3's bucket names: 3 to 63 lower-case letters, digits, '.' and '-'.
  const bool named = where.bucket.size() >= 3 && where.bucket.size() <= 63 &&
                     std::all_of(where.bucket.begin(), where.bucket.end(), [](char c) {
                       return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '.' || c == '-';
                     });
  if (!named) {
    return absl::InvalidArgumentError(absl::StrCat("\"", where.bucket, "\" is not a bucket name"));
  }
  return where;
}

Client::Client(Config config) : config_(std::move(config)), pool_(std::make_unique<Pool>()) {
  InitCurl();
  if (config_.endpoint.empty()) {
    virtual_host_ = true;
    host_ = absl::StrCat(config_.bucket, ".s3.", config_.region, ".amazonaws.com");
    scheme_host_ = absl::StrCat("https://", host_);
  } else {
    scheme_host_ = std::string(absl::StripSuffix(config_.endpoint, "/"));
    const size_t slashes = scheme_host_.find("://");
    host_ = slashes == std::string::npos ? scheme_host_ : scheme_host_.substr(slashes + 3);
    host_ = host_.substr(0, host_.find('/'));
  }
}

Client::~Client() = default;

std::string Client::PathOf(absl::string_view key) const {
  if (virtual_host_) return absl::StrCat("/", key);
  return key.empty() ? absl::StrCat("/", config_.bucket) : absl::StrCat("/", config_.bucket, "/", key);
}

std::string Client::Url(absl::string_view key) const {
  return absl::StrCat(scheme_host_, UriEncode(PathOf(key), false));
}

absl::StatusOr<Client::Reply> Client::Attempt(Call& call) {
  const absl::Time now = absl::Now();
  Request request;
  request.method = call.method;
  request.path = PathOf(call.key);
  request.query = call.query;
  request.payload_sha256 = call.body.empty() ? std::string(kEmptyPayloadSha256) : "UNSIGNED-PAYLOAD";
  request.headers = {{"host", host_},
                     {"x-amz-date", AmzDate(now)},
                     {"x-amz-content-sha256", request.payload_sha256}};
  if (!config_.credentials.session_token.empty()) {
    request.headers.emplace_back("x-amz-security-token", config_.credentials.session_token);
  }
  for (const auto& h : call.headers) request.headers.push_back(h);
  const std::string authorization =
      Authorization(request, config_.credentials, config_.region, "s3", now);

  std::string url = Url(call.key);
  for (size_t i = 0; i < call.query.size(); ++i) {
    absl::StrAppend(&url, i == 0 ? "?" : "&", UriEncode(call.query[i].first, true), "=",
                    UriEncode(call.query[i].second, true));
  }
  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    headers = curl_slist_append(headers, absl::StrCat(name, ": ", value).c_str());
  }
  headers = curl_slist_append(headers, absl::StrCat("Authorization: ", authorization).c_str());
  headers = curl_slist_append(headers, "Expect:");
  if (call.method == "POST" || call.method == "PUT") {
    headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
  }

  Reply reply;
  CURL* curl = pool_->Take();
  Transfer t{&call, &reply, curl, 0, absl::OkStatus()};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
  if (!config_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, config_.ca_file.c_str());
  // A transfer that moves nothing for a minute has stalled.
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  if (call.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (call.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (call.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, OnRead);
    curl_easy_setopt(curl, CURLOPT_READDATA, &t);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
  } else if (call.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, call.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, call.method.c_str());
  }
  const CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    curl_easy_cleanup(curl);  // its connection may be half-used
    if (!t.sink_status.ok()) return t.sink_status;
    // A certificate that cannot be trusted will not become trusted by
    // asking again.
    if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE) {
      return absl::FailedPreconditionError(absl::StrCat(
          "S3 ", call.method, " ", url, ": ", curl_easy_strerror(rc),
          " (AWS_CA_BUNDLE names the certificate authorities to trust)"));
    }
    return absl::UnavailableError(absl::StrCat("S3 ", call.method, " ", url, ": ",
                                               curl_easy_strerror(rc)));
  }
  pool_->Give(curl);
  return reply;
}

absl::StatusOr<Client::Reply> Client::Perform(Call& call) {
  absl::BitGen random;
  absl::Duration backoff = config_.first_backoff;
  for (int attempt = 1;; ++attempt) {
    const int64_t delivered = call.delivered;
    absl::StatusOr<Reply> reply = Attempt(call);
    const bool again = (absl::IsUnavailable(reply.status()) || (reply.ok() && Retryable(reply->status)));
    // What went to the sink stays there: only a caller that can resume
    // (Get) retries after bytes were handed out.
    if (!again || attempt >= config_.max_attempts || call.delivered != delivered) return reply;
    absl::SleepFor(backoff * absl::Uniform(random, 0.5, 1.5));
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
}

namespace {

// A reply that is not a success, as a status.
absl::Status Failure(absl::string_view what, const Client::Reply& r) {
  const std::string text = absl::StrCat("S3 ", what, ": ", Explain(r));
  if (r.status == 404) return absl::NotFoundError(text);
  if (r.status == 403 || r.status == 401) return absl::PermissionDeniedError(text);
  if (r.status == 412 || r.status == 409) return absl::FailedPreconditionError(text);
  if (r.status == 416) return absl::OutOfRangeError(text);
  if (Retryable(r.status)) return absl::UnavailableError(text);
  return absl::InternalError(text);
}

bool Ok(const Client::Reply& r) { return r.status >= 200 && r.status < 300; }

// A copy can fail after its 200 has gone out: the error is in the body.
absl::Status CopyFailure(absl::string_view what, Client::Reply& r) {
  if (Ok(r) && Element(r.body, "Code").empty()) return absl::OkStatus();
  if (Ok(r)) r.status = 500;
  return Failure(what, r);
}

std::string CopySource(absl::string_view bucket, absl::string_view key) {
  return UriEncode(absl::StrCat(bucket, "/", key), false);
}

void AddMetadata(const Metadata& metadata, Client::Call* call) {
  for (const auto& [name, value] : metadata) {
    call->headers.emplace_back(absl::StrCat("x-amz-meta-", name), value);
  }
}

}  // namespace

absl::Status Client::CreateBucket() {
  Call call("PUT");
  ASSIGN_OR_RETURN(Reply r, Perform(call));
  if (Ok(r) || Element(r.body, "Code") == "BucketAlreadyOwnedByYou") return absl::OkStatus();
  return Failure(absl::StrCat("creating bucket ", config_.bucket), r);
}

absl::Status Client::CheckBucket() {
  Call call("HEAD");
  ASSIGN_OR_RETURN(Reply r, Perform(call));
  if (Ok(r)) return absl::OkStatus();
  if (r.status == 404) {
    return absl::FailedPreconditionError(absl::StrCat("S3 bucket ", config_.bucket, " does not exist"));
  }
  return Failure(absl::StrCat("bucket ", config_.bucket), r);
}

absl::Status Client::Put(absl::string_view key, absl::string_view body, bool if_absent,
                         const Metadata& metadata) {
  Call call("PUT", std::string(key), {}, body);
  if (if_absent) call.headers.emplace_back("if-none-match", "*");
  AddMetadata(metadata, &call);
  ASSIGN_OR_RETURN(Reply r, Perform(call));
  if (Ok(r)) return absl::OkStatus();
  if (if_absent && r.status == 412) {
    return absl::AlreadyExistsError(absl::StrCat("S3 object ", key, " exists"));
  }
  return Failure(absl::StrCat("PUT ", key), r);
}

absl::StatusOr<int64_t> Client::Get(absl::string_view key, int64_t offset, int64_t length,
                                    const std::function<absl::Status(absl::string_view)>& sink) {
  if (length == 0) {
    ASSIGN_OR_RETURN(ObjectInfo info, Head(key));
    if (offset > info.size) return absl::OutOfRangeError("offset past the end");
    return info.size;
  }
  Call call("GET", std::string(key));
  call.sink = &sink;
  absl::BitGen random;
  absl::Duration backoff = config_.first_backoff;
  for (int attempt = 1;; ++attempt) {
    const int64_t from = offset + call.delivered;
    call.headers = {{"range", length < 0 ? absl::StrCat("bytes=", from, "-")
                                         : absl::StrCat("bytes=", from, "-", offset + length - 1)}};
    if (length >= 0 && call.delivered >= length) break;
    // Attempt, not Perform: this loop retries, resuming after what arrived.
    absl::StatusOr<Reply> r = Attempt(call);
    const bool again = absl::IsUnavailable(r.status()) || (r.ok() && Retryable(r->status));
    if (again && attempt < config_.max_attempts) {
      absl::SleepFor(backoff * absl::Uniform(random, 0.5, 1.5));
      backoff = std::min(backoff * 2, absl::Seconds(5));
      continue;
    }
    if (!r.ok()) return r.status();
    if (!Ok(*r)) {
      // An empty object answers any range with 416.
      if (r->status == 416 && offset == 0 && call.delivered == 0) {
        ASSIGN_OR_RETURN(ObjectInfo info, Head(key));
        if (info.size == 0) return int64_t{0};
      }
      return Failure(absl::StrCat("GET ", key), *r);
    }
    // "bytes 0-9/1234": the size is after the slash; a whole-object reply
    // has none.
    const size_t slash = r->content_range.rfind('/');
    int64_t size = -1;
    if (slash == std::string::npos || !absl::SimpleAtoi(r->content_range.substr(slash + 1), &size)) {
      size = r->content_length >= 0 ? from + r->content_length : call.delivered;
    }
    return size;
  }
  ASSIGN_OR_RETURN(ObjectInfo info, Head(key));
  return info.size;
}

absl::StatusOr<std::string> Client::GetBytes(absl::string_view key, int64_t offset,
                                             int64_t length) {
  std::string out;
  if (length > 0) out.reserve(static_cast<size_t>(length));
  RETURN_IF_ERROR(Get(key, offset, length, [&out](absl::string_view b) {
                    out.append(b.data(), b.size());
                    return absl::OkStatus();
                  }).status());
  return out;
}

absl::StatusOr<ObjectInfo> Client::Head(absl::string_view key) {
  Call call("HEAD", std::string(key));
  ASSIGN_OR_RETURN(Reply r, Perform(call));
  if (!Ok(r)) return Failure(absl::StrCat("HEAD ", key), r);
  return ObjectInfo{std::string(key), std::max<int64_t>(r.content_length, 0),
                    ParseHttpTime(r.last_modified), r.etag, std::move(r.metadata)};
}

absl::Status Client::Delete(absl::string_view key) {
  Call call("DELETE", std::string(key));
  ASSIGN_OR_RETURN(Reply r, Perform(call));
  if (Ok(r) || r.status == 404) return absl::OkStatus();
  return Failure(absl::StrCat("DELETE ", key), r);
}

absl::Status Client::List(absl::string_view prefix,
                          const std::function<void(const ObjectInfo&)>& fn) {
  std::string token;
  for (;;) {
    Call call("GET", "", {{"list-type", "2"}, {"prefix", std::string(prefix)}, {"max-keys", "1000"}});
    if (!token.empty()) call.query.emplace_back("continuation-token", token);
    ASSIGN_OR_RETURN(Reply r, Perform(call));
    if (!Ok(r)) return Failure(absl::StrCat("listing ", prefix), r);
    for (const std::string& item : Elements(r.body, "Contents")) {
      ObjectInfo info;
      info.key = Element(item, "Key");
      if (!absl::SimpleAtoi(Element(item, "Size"), &info.size)) info.size = 0;
      info.modified = ParseIsoTime(Element(item, "LastModified"));
      info.etag = Element(item, "ETag");
      fn(info);
    }
    token = Element(r.body, "NextContinuationToken");
    if (Element(r.body, "IsTruncated") != "true" || token.empty()) return absl::OkStatus();
  }
}

absl::Status Client::Copy(absl::string_view from, absl::string_view to, const Metadata& metadata,
                          int64_t size) {
  if (size < 0) {
    ASSIGN_OR_RETURN(const ObjectInfo info, Head(from));
    size = info.size;
  }
  if (size > config_.max_copy_bytes) return CopyInParts(from, to, metadata, size);
  Call call("PUT", std::string(to));
  call.headers.emplace_back("x-amz-copy-source", CopySource(config_.bucket, from));
  // A copy onto itself must change something: the metadata, replaced.
  if (from == to || !metadata.empty()) {
    call.headers.emplace_back("x-amz-metadata-directive", "REPLACE");
  }
  AddMetadata(metadata, &call);
  ASSIGN_OR_RETURN(Reply r, Perform(call));
  return CopyFailure(absl::StrCat("copying ", from, " to ", to), r);
}

absl::Status Client::CopyInParts(absl::string_view from, absl::string_view to,
                                 const Metadata& metadata, int64_t size) {
  ASSIGN_OR_RETURN(const std::string upload_id, StartMultipart(to, metadata));
  std::vector<std::string> etags;
  absl::Status s;
  for (int64_t at = 0; s.ok() && at < size; at += config_.copy_part_bytes) {
    const int part = static_cast<int>(etags.size()) + 1;
    Call call("PUT", std::string(to),
              {{"partNumber", absl::StrCat(part)}, {"uploadId", upload_id}});
    call.headers.emplace_back("x-amz-copy-source", CopySource(config_.bucket, from));
    call.headers.emplace_back(
        "x-amz-copy-source-range",
        absl::StrCat("bytes=", at, "-", std::min(size, at + config_.copy_part_bytes) - 1));
    absl::StatusOr<Reply> r = Perform(call);
    s = r.ok() ? CopyFailure(absl::StrCat("part ", part, " of copying ", from, " to ", to), *r)
               : r.status();
    if (s.ok()) etags.push_back(Element(r->body, "ETag"));
  }
  if (s.ok()) s = CompleteMultipart(to, upload_id, etags);
  if (!s.ok()) (void)AbortMultipart(to, upload_id);
  return s;
}

absl::StatusOr<std::string> Client::StartMultipart(absl::string_view key, const Metadata& metadata) {
  Call call("POST", std::string(key), {{"uploads", ""}});
  AddMetadata(metadata, &call);
  ASSIGN_OR_RETURN(Reply r, Perform(call));
  if (!Ok(r)) return Failure(absl::StrCat("starting an upload of ", key), r);
  std::string id = Element(r.body, "UploadId");
  if (id.empty()) return absl::InternalError("S3 started an upload without an UploadId");
  return id;
}

absl::StatusOr<std::string> Client::PutPart(absl::string_view key, absl::string_view upload_id,
                                            int part, absl::string_view body) {
  Call call("PUT", std::string(key), {{"partNumber", absl::StrCat(part)}, {"uploadId", std::string(upload_id)}}, body);
  ASSIGN_OR_RETURN(Reply r, Perform(call));
  if (!Ok(r)) return Failure(absl::StrCat("part ", part, " of ", key), r);
  return r.etag;
}

absl::Status Client::CompleteMultipart(absl::string_view key, absl::string_view upload_id,
                                       const std::vector<std::string>& etags) {
  std::string xml = "<CompleteMultipartUpload>";
  for (size_t i = 0; i < etags.size(); ++i) {
    absl::StrAppend(&xml, "<Part><PartNumber>", i + 1, "</PartNumber><ETag>",
                    absl::StrReplaceAll(etags[i], {{"&", "&amp;"}, {"\"", "&quot;"}}),
                    "</ETag></Part>");
  }
  xml += "</CompleteMultipartUpload>";
  Call call("POST", std::string(key), {{"uploadId", std::string(upload_id)}}, xml);
  ASSIGN_OR_RETURN(Reply r, Perform(call));
  if (Ok(r) && Element(r.body, "Code").empty()) return absl::OkStatus();
  if (Ok(r)) r.status = 500;
  return Failure(absl::StrCat("completing the upload of ", key), r);
}

absl::Status Client::AbortMultipart(absl::string_view key, absl::string_view upload_id) {
  Call call("DELETE", std::string(key), {{"uploadId", std::string(upload_id)}});
  ASSIGN_OR_RETURN(Reply r, Perform(call));
  if (Ok(r) || r.status == 404) return absl::OkStatus();
  return Failure(absl::StrCat("aborting the upload of ", key), r);
}

absl::Status Client::ListMultipart(absl::string_view prefix,
                                   const std::function<void(const MultipartUpload&)>& fn) {
  std::string key_marker, id_marker;
  for (;;) {
    Call call("GET", "", {{"uploads", ""}, {"prefix", std::string(prefix)}});
    if (!key_marker.empty()) {
      call.query.emplace_back("key-marker", key_marker);
      call.query.emplace_back("upload-id-marker", id_marker);
    }
    ASSIGN_OR_RETURN(Reply r, Perform(call));
    if (!Ok(r)) return Failure(absl::StrCat("listing uploads under ", prefix), r);
    for (const std::string& item : Elements(r.body, "Upload")) {
      fn(MultipartUpload{Element(item, "Key"), Element(item, "UploadId"),
                         ParseIsoTime(Element(item, "Initiated"))});
    }
    key_marker = Element(r.body, "NextKeyMarker");
    id_marker = Element(r.body, "NextUploadIdMarker");
    if (Element(r.body, "IsTruncated") != "true" || key_marker.empty()) return absl::OkStatus();
  }
}

absl::Status Client::PutFile(absl::string_view key, const std::string& path) {
  constexpr size_t kPart = 8 << 20;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("open ", path, ": ", strerror(errno)));
  std::string part;
  std::string upload_id;
  std::vector<std::string> etags;
  absl::Status s;
  for (;;) {
    part.resize(kPart);
    size_t got = 0;
    while (got < kPart) {
      const ssize_t n = read(fd, part.data() + got, kPart - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) s = absl::InternalError(absl::StrCat("read ", path, ": ", strerror(errno)));
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    part.resize(got);
    if (!s.ok()) break;
    if (upload_id.empty() && got < kPart) {  // the whole file in one PUT
      s = Put(key, part);
      break;
    }
    if (upload_id.empty()) {
      auto id = StartMultipart(key);
      if (!id.ok()) {
        s = id.status();
        break;
      }
      upload_id = *id;
    }
    if (got > 0 || etags.empty()) {
      auto etag = PutPart(key, upload_id, static_cast<int>(etags.size()) + 1, part);
      if (!etag.ok()) {
        s = etag.status();
        break;
      }
      etags.push_back(*etag);
    }
    if (got < kPart) {
      s = CompleteMultipart(key, upload_id, etags);
      upload_id.clear();
      break;
    }
  }
  close(fd);
  if (!upload_id.empty()) (void)AbortMultipart(key, upload_id);
  return s;
}

absl::Status Client::GetFile(absl::string_view key, const std::string& path) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return absl::InternalError(absl::StrCat("create ", path, ": ", strerror(errno)));
  absl::Status s = Get(key, 0, -1, [&](absl::string_view bytes) {
                     while (!bytes.empty()) {
                       const ssize_t n = write(fd, bytes.data(), bytes.size());
                       if (n < 0 && errno == EINTR) continue;
                       if (n < 0) {
                         return absl::InternalError(absl::StrCat("write ", path, ": ", strerror(errno)));
                       }
                       bytes.remove_prefix(static_cast<size_t>(n));
                     }
                     return absl::OkStatus();
                   }).status();
  if (s.ok() && fsync(fd) != 0) s = absl::InternalError(absl::StrCat("fsync ", path, ": ", strerror(errno)));
  close(fd);
  if (!s.ok()) unlink(path.c_str());
  return s;
}

std::string Client::PresignGet(absl::string_view key, absl::Duration expires) const {
  return absl::StrCat(Url(key), "?",
                      PresignedQuery("GET", host_, PathOf(key), config_.credentials,
                                     config_.region, "s3", absl::Now(), expires));
}

}  // namespace arca::s3
