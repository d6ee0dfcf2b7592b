// REST: job artifacts (/api/v1/jobArtifacts), with the listing cache.

#include "services/gateway/gateway_impl.h"

namespace arca::gateway {

void Gateway::Impl::InvalidateCache() {
  absl::MutexLock lock(&cache_mu_);
  ++cache_generation_;
  cache_.clear();
}

void Gateway::Impl::ReplyAndCache(Request& req, const Json& out, uint64_t generation) {
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

absl::StatusOr<std::vector<cat::JobArtifact>> Gateway::Impl::AllArtifacts(cat::ListJobArtifactsRequest list) {
  RETURN_IF_ERROR(Need(catalog_, "catalog"));
  list.set_page_size(1000);
  std::vector<cat::JobArtifact> out;
  RETURN_IF_ERROR(catalog_->ForEachArtifact(list, [&](const cat::JobArtifact& a) {
    out.push_back(a);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<std::string>> Gateway::Impl::AllArtifactNames(cat::ListJobArtifactNamesRequest list) {
  RETURN_IF_ERROR(Need(catalog_, "catalog"));
  list.set_page_size(1000);
  std::vector<std::string> out;
  RETURN_IF_ERROR(catalog_->ForEachArtifactName(list, [&](const std::string& name) {
    out.push_back(name);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<cat::RegisterJobArtifactResponse> Gateway::Impl::Register(const auth::Identity& caller,
                                                          const cat::RegisterJobArtifactRequest& reg) {
  RETURN_IF_ERROR(Need(catalog_, "catalog"));
  auto registered = catalog_->RegisterJobArtifact(reg, Call(&caller));
  InvalidateCache();
  return registered;
}

absl::StatusOr<int64_t> Gateway::Impl::IfMatchRevision(const http::HttpRequest& http) {
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

absl::Status Gateway::Impl::SearchArtifacts(Request& req) {
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

absl::Status Gateway::Impl::RegisterArtifact(Request& req) {
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
  // Mantis answers with the ArtifactID: {"resourceID": …}.
  req.Reply(resp.created() ? 201 : 200,
            Json{{"resourceID", resp.artifact().artifact_id()},
                 {"revision", resp.artifact().revision()}},
            {{"ETag", absl::StrCat("\"", resp.artifact().revision(), "\"")},
             {"Location", absl::StrCat("/api/v1/jobArtifacts/",
                                       PercentEncode(resp.artifact().artifact_id()))}});
  return absl::OkStatus();
}

absl::Status Gateway::Impl::ArtifactNames(Request& req) {
  RETURN_IF_ERROR(Need(catalog_, "catalog"));
  cat::ListJobArtifactNamesRequest list;
  list.set_prefix(req.target.query.GetOr("prefix", ""));
  list.set_contains(req.target.query.GetOr("contains", ""));
  const uint64_t generation = CacheGeneration();
  ASSIGN_OR_RETURN(auto names, AllArtifactNames(list));
  ReplyAndCache(req, Json(names), generation);
  return absl::OkStatus();
}

absl::Status Gateway::Impl::GetArtifact(Request& req) {
  RETURN_IF_ERROR(Need(catalog_, "catalog"));
  cat::GetJobArtifactRequest get;
  get.set_artifact_id(req.params["id"]);
  ASSIGN_OR_RETURN(cat::JobArtifact a, catalog_->GetJobArtifact(get, Call(&req.caller)));
  req.Reply(200, ArtifactJson(a), {{"ETag", absl::StrCat("\"", a.revision(), "\"")}});
  return absl::OkStatus();
}

absl::Status Gateway::Impl::DeleteArtifact(Request& req) {
  RETURN_IF_ERROR(Need(catalog_, "catalog"));
  cat::DeleteJobArtifactRequest del;
  del.set_artifact_id(req.params["id"]);
  ASSIGN_OR_RETURN(int64_t revision, IfMatchRevision(req.http));
  del.set_expected_revision(revision);
  absl::Status deleted = catalog_->DeleteJobArtifact(del, Call(&req.caller)).status();
  InvalidateCache();
  RETURN_IF_ERROR(deleted);
  req.Reply(200, Json{{"deleted", del.artifact_id()}});
  return absl::OkStatus();
}

}  // namespace arca::gateway
