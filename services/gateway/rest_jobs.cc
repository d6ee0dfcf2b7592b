// REST: jobs, their steps, logs and files, and downloads (/api/v1/job).

#include "absl/strings/str_replace.h"
#include "common/gc/policy.h"
#include "common/logging.h"
#include "common/paths.h"
#include "services/gateway/gateway_impl.h"
#include "services/gateway/zip.h"

namespace arca::gateway {

absl::Status Gateway::Impl::CreateJob(Request& req) {
  RETURN_IF_ERROR(Need(catalog_, "catalog"));
  // o2r clients send a form (curl -F is multipart); JSON works too.
  std::map<std::string, std::string> fields;
  Json labels, gc_rules;
  absl::string_view type = req.http.Header("content-type");
  if (absl::StartsWithIgnoreCase(type, "application/json")) {
    ASSIGN_OR_RETURN(Json body, ParseJsonObject(req.http.body));
    for (const auto& [k, v] : body.items()) {
      if (k == "labels") {
        labels = v;
      } else if (k == "gc_rules") {
        gc_rules = v;
      } else if (k == "force_finalizer_removal" || k == "forceFinalizerRemoval") {
        if (!v.is_boolean()) return absl::InvalidArgumentError(absl::StrCat("\"", k, "\" must be a boolean"));
        fields["force_finalizer_removal"] = v.get<bool>() ? "true" : "false";
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
  // Argo's per-artifact artifactGC: [{"glob": "*.tmp", "strategy": "OnJobCompletion"}].
  if (!gc_rules.is_null()) {
    if (!gc_rules.is_array()) return absl::InvalidArgumentError("\"gc_rules\" must be an array");
    for (const Json& rule : gc_rules) {
      if (!rule.is_object() || !rule.value("glob", Json()).is_string() ||
          !rule.value("strategy", Json()).is_string()) {
        return absl::InvalidArgumentError(
            "each of \"gc_rules\" is {\"glob\": \"…\", \"strategy\": \"OnJobCompletion\"}");
      }
      cat::GcRule* r = job->add_gc_rules();
      r->set_glob(rule["glob"].get<std::string>());
      ASSIGN_OR_RETURN(types::GcStrategy g, gc::ParseStrategy("gc_strategy", rule["strategy"].get<std::string>()));
      r->set_strategy(g);
    }
  }
  if (const std::string& force = fields["force_finalizer_removal"]; !force.empty()) {
    if (force != "true" && force != "false") {
      return absl::InvalidArgumentError(absl::StrCat(
          "force_finalizer_removal must be true or false, got \"", force, "\""));
    }
    job->set_force_finalizer_removal(force == "true");
  }
  if (!fields["gc_strategy"].empty()) {
    ASSIGN_OR_RETURN(types::GcStrategy g, gc::ParseStrategy("gc_strategy", fields["gc_strategy"]));
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
  auto created = catalog_->CreateJob(create, Call(&req.caller));
  if (absl::IsNotFound(created.status())) {  // 400, as o2r answers
    return absl::InvalidArgumentError("no compendium with this ID found");
  }
  RETURN_IF_ERROR(created.status());
  req.Reply(200, Json{{"job_id", created->job().id()}});
  return absl::OkStatus();
}

absl::Status Gateway::Impl::ListJobs(Request& req) {
  RETURN_IF_ERROR(Need(catalog_, "catalog"));
  const QueryParams& q = req.target.query;
  ASSIGN_OR_RETURN(int limit, IntParam(q, "limit", options_.default_limit, 1, 1000));
  // o2r's start: the 1-based position of the first job, not a page.
  ASSIGN_OR_RETURN(int start, IntParam(q, "start", 1, 1, 1 << 30));
  // o2r's fields: a comma-separated list, spaces trimmed; given at all,
  // results are objects with the id and those fields.
  const std::optional<std::string> fields = q.Get("fields");
  bool with_status = false;
  for (absl::string_view f : absl::StrSplit(fields.value_or(""), ',')) {
    f = absl::StripAsciiWhitespace(f);
    if (f.empty()) continue;
    if (f != "status") {
      return absl::InvalidArgumentError(absl::StrCat(
          "unsupported field requested: ", f, " (jobs have status; Arca keeps no users)"));
    }
    with_status = true;
  }
  cat::ListJobsRequest list;
  const std::string status = q.GetOr("status", "");
  if (!status.empty()) {
    // As o2r: an unknown status matches no job. A job that has not
    // finished reads "running" (JobStatusName), queued or not.
    auto s = ParseJobStatus(status);
    if (!s.ok()) {
      req.Reply(200, Json{{"results", Json::array()}});
      return absl::OkStatus();
    }
    list.add_statuses(*s);
    if (*s == types::JOB_STATUS_RUNNING) list.add_statuses(types::JOB_STATUS_QUEUED);
  }
  const std::string compendia = q.GetOr("compendium_id", "");
  for (absl::string_view c : absl::StrSplit(compendia, ',', absl::SkipEmpty())) {
    list.add_compendium_ids(std::string(c));
    // As o2r: jobs of a compendium that does not exist are 404.
    cat::GetJobArtifactRequest get;
    get.set_artifact_id(std::string(c));
    auto found = catalog_->GetJobArtifact(get, Call(&req.caller));
    if (absl::IsNotFound(found.status()) || absl::IsInvalidArgument(found.status())) {
      return absl::NotFoundError(absl::StrCat("no compendium with id ", c));
    }
    RETURN_IF_ERROR(found.status());
  }
  const std::string group = q.GetOr("group", "");
  list.set_group(group);
  const int64_t offset = start - 1;

  std::vector<cat::Job> jobs;
  bool more = false;
  RETURN_IF_ERROR(ListVisibleJobs(req.caller, list, offset, limit, &jobs, &more));

  Json results = Json::array();
  for (const auto& j : jobs) {
    if (!fields.has_value()) {
      results.push_back(j.id());
    } else if (with_status) {
      results.push_back(Json{{"id", j.id()}, {"status", JobStatusName(j)}});
    } else {
      results.push_back(Json{{"id", j.id()}});
    }
  }
  auto link = [&](int page_start) {
    std::string url = absl::StrCat("/api/v1/job?limit=", limit, "&start=", page_start);
    if (!compendia.empty()) absl::StrAppend(&url, "&compendium_id=", PercentEncode(compendia));
    if (!status.empty()) absl::StrAppend(&url, "&status=", PercentEncode(status));
    if (!group.empty()) absl::StrAppend(&url, "&group=", PercentEncode(group));
    if (fields.has_value()) absl::StrAppend(&url, "&fields=", PercentEncode(*fields));
    return url;
  };
  Json out{{"results", results}};
  if (more) out["next"] = link(start + limit);
  if (start > 1) out["previous"] = link(std::max(1, start - limit));
  req.Reply(200, out);
  return absl::OkStatus();
}

absl::Status Gateway::Impl::GetJob(Request& req) {
  ASSIGN_OR_RETURN(cat::Job job, VisibleJob(req, req.params["id"]));
  ASSIGN_OR_RETURN(JobFiles files, VisibleFiles(req, job.id()));
  Json logs = Json::array();
  for (const auto& f : files.logs) {
    logs.push_back(Json{{"path", f.path()},
                        {"size", f.size()},
                        {"downloadUrl", DownloadUrl(job.id(), f.path())}});
  }
  Json out = JobJson(job);
  // As o2r: each step's status, start and end; its details only for the
  // steps named in ?steps= (a comma list, or "all").
  std::vector<std::string> detailed;
  for (absl::string_view s : absl::StrSplit(req.target.query.GetOr("steps", ""), ',')) {
    s = absl::StripAsciiWhitespace(s);
    if (!s.empty()) detailed.emplace_back(s);
  }
  const bool all = detailed.size() == 1 && detailed[0] == "all";
  out["steps"] = StepsJson(job, [&](const std::string& step) {
    return all || absl::c_linear_search(detailed, step);
  });
  out["files"] = FileTree(job.id(), files.outputs);
  out["logs"] = logs;
  req.Reply(200, out);
  return absl::OkStatus();
}

absl::Status Gateway::Impl::GetSteps(Request& req) {
  ASSIGN_OR_RETURN(cat::Job job, VisibleJob(req, req.params["id"]));
  req.Reply(200, Json{{"id", job.id()},
                      {"status", JobStatusName(job)},
                      {"steps", StepsJson(job)}});
  return absl::OkStatus();
}

absl::Status Gateway::Impl::DeleteJob(Request& req) {
  ASSIGN_OR_RETURN(cat::Job job, VisibleJob(req, req.params["id"]));
  cat::DeleteJobRequest del;
  del.set_id(job.id());
  ASSIGN_OR_RETURN(bool force, BoolParam(req.target.query, "force"));
  del.set_force(force);
  ASSIGN_OR_RETURN(cat::DeleteJobResponse resp, catalog_->DeleteJob(del, Call(&req.caller)));
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

absl::Status Gateway::Impl::ListFiles(Request& req) {
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
  ASSIGN_OR_RETURN(cat::ListFilesResponse page, catalog_->ListFiles(list, Call(&req.caller)));
  Json files = Json::array();
  for (const auto& f : page.files()) {
    if (req.caller.SeesPrivacy(f.privacy_level())) files.push_back(FileJson(f));
  }
  Json out{{"files", files}};
  if (!page.next_page_token().empty()) out["next_page_token"] = page.next_page_token();
  req.Reply(200, out);
  return absl::OkStatus();
}

absl::Status Gateway::Impl::PhFile(Request& req) {
  ASSIGN_OR_RETURN(cat::Job job, VisibleJob(req, req.params["id"]));
  // The SDK writes a group's path in lower case with '-' for '_'.
  const std::string& group = req.params["group"];
  if (group != job.group() &&
      group != absl::AsciiStrToLower(absl::StrReplaceAll(job.group(), {{"_", "-"}}))) {
    return absl::NotFoundError(absl::StrCat("job ", job.id(), " is not in group ", group));
  }
  return Serve(req, job, req.params["path"], /*inline_text=*/false);
}

absl::Status Gateway::Impl::Serve(Request& req, const cat::Job& job, const std::string& path,
                                  bool inline_text) {
  RETURN_IF_ERROR(CheckFilePath(path));
  cat::GetFileRequest get;
  get.set_job_id(job.id());
  get.set_path(path);
  auto got = catalog_->GetFile(get, Call(&req.caller));
  absl::Status s = got.status();
  const cat::ArtifactFile file = got.value_or(cat::ArtifactFile());
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
  // The object store serves the bytes (and the Range, which the client
  // sends again) itself: the caller has been checked above.
  if (options_.presign_downloads > absl::ZeroDuration() && blobs_ != nullptr &&
      req.http.method == "GET" && file.location().pack().empty()) {
    auto url = blobs_->PresignedUrl(file.sha256(), options_.presign_downloads);
    if (url.ok()) {
      http::HttpResponse redirect;
      redirect.route = req.route;
      redirect.status = 307;
      redirect.headers = {{"Location", *url}, {"Cache-Control", "private, no-store"}};
      req.out.Send(std::move(redirect));
      return absl::OkStatus();
    }
    ARCA_LOG(WARNING) << "no presigned URL for job " << job.id() << " " << path << ": "
                      << url.status().message() << "; streaming it instead";
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
  ASSIGN_OR_RETURN(std::optional<DownloadLimits::Slot> slot, DownloadPlace(req));
  if (!slot.has_value()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::unique_ptr<http::HttpBody> body,
                   DownloadBody(req.caller, file, offset, length, *std::move(slot)));
  // Only checked bytes go out; if the stored ones fail later, the body ends
  // early and so does the response, short of its Content-Length.
  req.out.SendStream(std::move(head), std::move(body));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<DownloadLimits::Slot>> Gateway::Impl::DownloadPlace(Request& req) {
  if (blobs_ == nullptr) RETURN_IF_ERROR(Need(collector_, "collector"));
  auto slot = downloads_.Acquire(auth_ != nullptr ? req.caller.name : PeerAddress(req.http));
  if (!slot.ok()) {
    req.Reply(503, Json{{"error", slot.status().message()}}, {{"Retry-After", "2"}});
    return std::nullopt;
  }
  return *std::move(slot);
}

absl::Status Gateway::Impl::DownloadZip(Request& req) {
  ASSIGN_OR_RETURN(cat::Job job, VisibleJob(req, req.params["id"]));
  const std::string path = req.target.query.GetOr("path", "");
  absl::string_view trimmed = path;
  while (absl::ConsumeSuffix(&trimmed, "/")) {
  }
  const std::string dir(trimmed);
  if (!dir.empty()) RETURN_IF_ERROR(CheckFilePath(dir));
  std::vector<std::string> patterns;
  for (const auto& [key, value] : req.target.query.all()) {
    if (key == "pattern" && !value.empty()) patterns.push_back(value);
  }
  ASSIGN_OR_RETURN(JobFiles files, VisibleFiles(req, job.id()));
  std::vector<ZipStream::Entry> entries;
  for (const std::vector<cat::ArtifactFile>* list : {&files.outputs, &files.logs}) {
    for (const cat::ArtifactFile& f : *list) {
      if (f.state() != types::FILE_STATE_AVAILABLE || !InTreeDownload(f.path(), dir, patterns)) continue;
      // Where its bytes are is asked as it is reached: a pack may have been
      // compacted since the listing.
      entries.push_back({f.path(), f.size(), FromProtoTime(f.last_modified()),
                         [this, caller = req.caller, f]() -> absl::StatusOr<std::unique_ptr<http::HttpBody>> {
                           cat::GetFileRequest get;
                           get.set_job_id(f.job_id());
                           get.set_path(f.path());
                           ASSIGN_OR_RETURN(cat::ArtifactFile now, catalog_->GetFile(get, Call(&caller)));
                           if (now.sha256() != f.sha256()) {
                             return absl::AbortedError(absl::StrCat(f.path(), " changed while it was sent"));
                           }
                           return DownloadBody(caller, now, 0, now.size(), DownloadLimits::Slot());
                         }});
    }
  }
  if (entries.empty()) {
    return absl::NotFoundError(absl::StrCat("job ", job.id(), " has no files",
                                            dir.empty() ? "" : absl::StrCat(" under ", dir),
                                            patterns.empty() ? "" : " that match the pattern"));
  }
  auto zip = std::make_unique<ZipStream>(std::move(entries));
  std::string name = job.id();
  if (!dir.empty()) absl::StrAppend(&name, "-", absl::StrReplaceAll(dir, {{"/", "-"}}));
  http::HttpResponse head;
  head.route = req.route;
  head.headers = {{"Content-Type", "application/zip"},
                  {"Content-Length", absl::StrCat(zip->length())},
                  {"Content-Disposition", ContentDisposition(name + ".zip")},
                  {"Cache-Control", "private, no-cache"},
                  {"X-Content-Type-Options", "nosniff"}};
  if (req.http.method == "HEAD") {
    req.out.Send(std::move(head));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::optional<DownloadLimits::Slot> slot, DownloadPlace(req));
  if (!slot.has_value()) return absl::OkStatus();
  req.out.SendStream(std::move(head), std::make_unique<SlotBody>(std::move(zip), *std::move(slot)));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<http::HttpBody>> Gateway::Impl::DownloadBody(
    const auth::Identity& caller, const cat::ArtifactFile& file, int64_t offset, int64_t length,
    DownloadLimits::Slot slot) {
  if (blobs_ == nullptr) {
    collector::v1::DownloadRequest dl;
    dl.set_job_id(file.job_id());
    dl.set_path(file.path());
    dl.set_offset(offset);
    dl.set_length(length);
    auto body = std::make_unique<CollectorBody>(
        collector_->Download(dl, Call(&caller, absl::Hours(1))), std::move(slot));
    if (!body->stream->Read(&body->message)) {
      body->finished = true;
      RETURN_IF_ERROR(body->stream->Finish());
    }
    return body;
  }
  // As the collector's Download answers, so that both paths look alike.
  auto reader =
      blob::OpenRecorded(*blobs_, file.path(), file.sha256(), file.size(),
                         {file.location().pack(), file.location().offset()}, offset, length);
  if (absl::IsDataLoss(reader.status())) return reader.status();
  if (!reader.ok()) {
    ARCA_LOG(ERROR) << "download of job " << file.job_id() << " " << file.path() << ": "
                    << reader.status().message();
    return absl::InternalError(
        absl::StrCat("the gateway could not read ", file.path(), " (its log says why)"));
  }
  auto body = std::make_unique<BlobBody>(*std::move(reader), std::move(slot));
  RETURN_IF_ERROR(blob::ReadRecorded(*body->reader, file.path(), &body->first));
  return body;
}

}  // namespace arca::gateway
