#include "services/gateway/rest.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/gc/policy.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "google/protobuf/util/json_util.h"

namespace arca::gateway {

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
  if (s == types::STEP_STATUS_SKIP) return "skipped";  // o2r's word
  return Lower(types::StepStatus_Name(s), "STEP_STATUS_");
}

std::string JobStatusName(types::JobStatus s) {
  return Lower(types::JobStatus_Name(s), "JOB_STATUS_");
}

std::string JobStatusName(const cat::Job& job) {
  // o2r's clients poll a job until it is no longer running: until it has
  // finished, it is running, queued or not.
  if (!job.has_finished_at()) return "running";
  return JobStatusName(job.status());
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

Json StrategyJson(types::GcStrategy s) {
  const std::string name = gc::StrategyName(s);
  return name.empty() ? Json() : Json(name);
}

Json GcRulesJson(const cat::Job& job) {
  Json rules = Json::array();
  for (const cat::GcRule& r : job.gc_rules()) {
    rules.push_back(Json{{"glob", r.glob()}, {"strategy", StrategyJson(r.strategy())}});
  }
  return rules;
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

Json ArtifactJson(const cat::JobArtifact& a) {
  // Mantis' own JSON (its JobArtifact through Jackson): the id an object,
  // the time seconds since the epoch.
  Json created = nullptr;
  if (a.created_at().seconds() != 0 || a.created_at().nanos() != 0) {
    created = static_cast<double>(a.created_at().seconds()) + a.created_at().nanos() / 1e9;
  }
  return Json{{"artifactID", Json{{"resourceID", a.artifact_id()}}},
              {"name", a.name()},
              {"version", a.version()},
              {"createdAt", created},
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
  // Mantis' JSON as its serde tests write it, and the seed's: properties
  // Arca does not know are ignored (Mantis turns FAIL_ON_UNKNOWN_PROPERTIES
  // off).
  ASSIGN_OR_RETURN(Json body, ParseJsonObject(text));
  cat::JobArtifact a;
  // "artifactID": "id", or Mantis' {"resourceID": "id"}.
  if (auto id = body.find("artifactID"); id != body.end() && id->is_object()) {
    RETURN_IF_ERROR(StringField(*id, "resourceID", a.mutable_artifact_id()));
  } else {
    RETURN_IF_ERROR(StringField(body, "artifactID", a.mutable_artifact_id()));
  }
  RETURN_IF_ERROR(StringField(body, "name", a.mutable_name()));
  RETURN_IF_ERROR(StringField(body, "version", a.mutable_version()));
  RETURN_IF_ERROR(StringField(body, "runtimeType", a.mutable_runtime_type()));
  RETURN_IF_ERROR(StringField(body, "entrypoint", a.mutable_entrypoint()));
  // "createdAt": an RFC 3339 time, or Mantis' seconds since the epoch.
  if (auto created = body.find("createdAt"); created != body.end() && created->is_number()) {
    const double seconds = created->get<double>();
    if (!(seconds >= 0 && seconds < 253402300800.0)) {  // before year 10000
      return absl::InvalidArgumentError("\"createdAt\" is not a time");
    }
    *a.mutable_created_at() = ToProtoTime(absl::FromUnixNanos(static_cast<int64_t>(std::llround(seconds * 1e9))));
  } else {
    std::string text_time;
    RETURN_IF_ERROR(StringField(body, "createdAt", &text_time));
    if (!text_time.empty()) {
      absl::Time t;
      std::string err;
      if (!absl::ParseTime(absl::RFC3339_full, text_time, &t, &err)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "\"createdAt\" must be an RFC 3339 time or seconds since the epoch, got \"", text_time,
            "\""));
      }
      *a.mutable_created_at() = ToProtoTime(t);
    }
  }
  RETURN_IF_ERROR(StringMap(body.value("dependencies", Json()), "dependencies",
                            a.mutable_dependencies()));
  RETURN_IF_ERROR(StringMap(body.value("tags", Json()), "tags", a.mutable_tags()));
  return a;
}

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

Json StepsJson(const cat::Job& job, const std::function<bool(const std::string&)>& details) {
  Json steps = Json::object();
  for (const auto& s : job.steps()) {
    Json& step = steps[s.name()] = Json{{"status", StepStatusName(s.status())},
                                        {"start", TimeJson(s.start())},
                                        {"end", TimeJson(s.end())}};
    if (details == nullptr || details(s.name())) step["text"] = s.text();
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
              {"status", JobStatusName(job)},
              {"group", job.group()},
              {"name", job.name()},
              {"command", job.command()},
              {"labels", MapJson(job.labels())},
              {"finished_at", TimeJson(job.finished_at())},
              {"gc_strategy", StrategyJson(job.gc_strategy())},
              {"gc_rules", GcRulesJson(job)},
              {"force_finalizer_removal", job.force_finalizer_removal()},
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

}  // namespace arca::gateway
