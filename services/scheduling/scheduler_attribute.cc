#include "services/scheduling/scheduler_attribute.h"

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/ids.h"
#include "common/paths.h"
#include "common/status_macros.h"
#include "prometheus/counter.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace arca::scheduling {
namespace {

namespace cat = ::arca::catalog::v1;

constexpr absl::string_view kLabelPrefix = "_mantis.schedulingattribute.";  // lower case
constexpr int kMaxLabels = 1000;
constexpr int kMaxBatch = 1000;
constexpr size_t kMaxText = 64 * 1024;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 &&
        HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

absl::Status CheckText(absl::string_view field, absl::string_view value) {
  if (value.size() > kMaxText || !IsValidUtf8(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is not valid UTF-8 or longer than ", kMaxText, " bytes"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string ArtifactIdFromJarUrl(absl::string_view url) {
  url = url.substr(0, url.find('#'));
  url = url.substr(0, url.find('?'));
  size_t scheme = url.find("://");
  if (scheme != absl::string_view::npos) {
    url.remove_prefix(scheme + 3);
    size_t path = url.find('/');
    if (path == absl::string_view::npos) return "";  // host only
    url.remove_prefix(path);
  }
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  size_t slash = url.rfind('/');
  if (slash != absl::string_view::npos) url.remove_prefix(slash + 1);
  return PercentDecode(url);
}

v1::SchedulingConstraints MergeAttributes(
    const google::protobuf::Map<std::string, std::string>& tags,
    const google::protobuf::Map<std::string, std::string>& labels) {
  v1::SchedulingConstraints out;
  std::map<std::string, v1::Attribute> merged;
  for (const auto& [key, value] : tags) {
    v1::Attribute& a = merged[key];
    a.set_key(key);
    a.set_value(value);
    a.set_source(kFromArtifactTag);
    a.set_source_key(key);
  }
  // Byte order of the label names: deterministic whatever the map's order.
  std::map<std::string, std::string> sorted(labels.begin(), labels.end());
  absl::flat_hash_map<std::string, std::string> key_from_label;  // key -> label
  absl::flat_hash_map<std::string, std::string> folded;          // lower(key) -> first key
  for (const auto& [label, value] : sorted) {
    if (label.size() < kLabelPrefix.size() ||
        absl::AsciiStrToLower(label.substr(0, kLabelPrefix.size())) != kLabelPrefix) {
      continue;
    }
    const std::string key = label.substr(kLabelPrefix.size());
    if (key.empty()) {
      out.add_warnings(absl::StrCat("label \"", label, "\" has an empty attribute key; ignored"));
      continue;
    }
    const bool key_seen = key_from_label.contains(key);
    if (auto it = key_from_label.find(key); it != key_from_label.end()) {
      out.add_warnings(absl::StrCat("labels \"", it->second, "\" and \"", label,
                                    "\" both set attribute \"", key, "\"; \"", label,
                                    "\" wins (later in byte order)"));
    }
    key_from_label[key] = label;
    auto [first, inserted] = folded.try_emplace(absl::AsciiStrToLower(key), key);
    if (!inserted && first->second != key && !key_seen) {
      out.add_warnings(absl::StrCat("attributes \"", first->second, "\" and \"", key,
                                    "\" differ only in case; both are kept as written"));
    }
    v1::Attribute& a = merged[key];
    if (a.source() == kFromArtifactTag) {
      a.set_overrode(true);
      a.set_overridden_value(a.value());
    }
    a.set_key(key);
    a.set_value(value);
    a.set_source(kFromJobLabel);
    a.set_source_key(label);
  }
  for (auto& [key, a] : merged) *out.add_attributes() = std::move(a);
  return out;
}

SchedulerAttribute::SchedulerAttribute(const SchedulerOptions& options,
                                       clients::CatalogClient* catalog,
                                       SchedulerMetrics* metrics)
    : options_(options),
      catalog_(catalog),
      metrics_(metrics),
      caching_clusters_(options.caching_clusters.begin(), options.caching_clusters.end()) {}

absl::StatusOr<cat::JobArtifact> SchedulerAttribute::Lookup(const v1::ArtifactRef& ref,
                                                            std::string* described) {
  std::vector<std::string> ids;  // tried in order
  switch (ref.ref_case()) {
    case v1::ArtifactRef::kJobJarUrl: {
      RETURN_IF_ERROR(CheckText("job_jar_url", ref.job_jar_url()));
      const std::string file = ArtifactIdFromJarUrl(ref.job_jar_url());
      *described = absl::StrCat("job jar URL \"", ref.job_jar_url(), "\"");
      if (file.empty()) return absl::NotFoundError(absl::StrCat(*described, " names no artifact"));
      // Mantis looks an artifact up by the file's name without ".zip"
      // (DataFormatAdapter.extractArtifactBaseName); one registered under
      // the whole file name is found too.
      absl::string_view base = file;
      if (absl::ConsumeSuffix(&base, ".zip") && !base.empty()) ids.emplace_back(base);
      ids.push_back(file);
      break;
    }
    case v1::ArtifactRef::kArtifactId:
      ids.push_back(ref.artifact_id());
      *described = absl::StrCat("artifact ", ref.artifact_id());
      break;
    case v1::ArtifactRef::kNameVersion: {
      const v1::NameVersion& nv = ref.name_version();
      RETURN_IF_ERROR(CheckName("artifact name", nv.name()));
      if (!nv.version().empty()) RETURN_IF_ERROR(CheckName("artifact version", nv.version()));
      *described = absl::StrCat("artifact ", nv.name(),
                                nv.version().empty() ? " (newest)" : "@" + nv.version());
      cat::ListJobArtifactsRequest list;
      list.set_name(nv.name());
      list.set_version(nv.version());
      list.set_page_size(1);
      ASSIGN_OR_RETURN(cat::ListJobArtifactsResponse found, catalog_->ListJobArtifacts(list));
      if (found.artifacts_size() == 0) return absl::NotFoundError(*described + " not found");
      return found.artifacts(0);
    }
    default:
      return absl::NotFoundError("no artifact given");
  }
  for (const std::string& id : ids) {
    if (!IsSafeName(id)) continue;
    cat::GetJobArtifactRequest get;
    get.set_artifact_id(id);
    auto artifact = catalog_->GetJobArtifact(get);
    if (!absl::IsNotFound(artifact.status())) return artifact;
  }
  if (ids.size() == 1 && !IsSafeName(ids[0])) {
    return absl::NotFoundError(absl::StrCat(*described, " is not an artifact id"));
  }
  return absl::NotFoundError(absl::StrCat(*described, " not found"));
}

absl::StatusOr<v1::SchedulingConstraints> SchedulerAttribute::Resolve(
    const v1::JobDefinition& definition) {
  const absl::Time start = absl::Now();
  if (definition.labels_size() > kMaxLabels) {
    return absl::InvalidArgumentError(
        absl::StrCat("at most ", kMaxLabels, " labels, got ", definition.labels_size()));
  }
  for (const auto& [k, v] : definition.labels()) {
    RETURN_IF_ERROR(CheckText("label key", k));
    RETURN_IF_ERROR(CheckText("label value", v));
  }
  RETURN_IF_ERROR(CheckText("machine_definition", definition.machine_definition()));
  RETURN_IF_ERROR(CheckText("size_attribute", definition.size_attribute()));
  if (!definition.cluster().empty()) RETURN_IF_ERROR(CheckName("cluster", definition.cluster()));
  std::string described;
  absl::StatusOr<cat::JobArtifact> artifact =
      definition.has_artifact() ? Lookup(definition.artifact(), &described)
                                : absl::NotFoundError("no artifact given");
  if (!artifact.ok() && !absl::IsNotFound(artifact.status())) return artifact.status();
  static const google::protobuf::Map<std::string, std::string> kNoTags;
  v1::SchedulingConstraints out =
      MergeAttributes(artifact.ok() ? artifact->tags() : kNoTags, definition.labels());
  out.set_machine_definition(definition.machine_definition());
  out.set_size_attribute(definition.size_attribute());
  const char* outcome = "found";
  if (artifact.ok()) {
    out.set_artifact_id(artifact->artifact_id());
    out.set_artifact_revision(artifact->revision());
    if (!definition.cluster().empty()) RecordUse(definition.cluster(), artifact->artifact_id());
  } else {
    outcome = definition.has_artifact() ? "missing" : "none";
    out.add_warnings(absl::StrCat(artifact.status().message(),
                                  "; attributes come from job labels only"));
  }
  metrics_->resolves.Add({{"artifact", outcome}}).Increment();
  metrics_->resolve_seconds.Observe(absl::ToDoubleSeconds(absl::Now() - start));
  return out;
}

absl::StatusOr<v1::BatchResolveResponse> SchedulerAttribute::BatchResolve(
    const v1::BatchResolveRequest& request) {
  if (request.definitions_size() > kMaxBatch) {
    return absl::InvalidArgumentError(absl::StrCat("at most ", kMaxBatch,
                                                   " definitions per batch, got ",
                                                   request.definitions_size()));
  }
  v1::BatchResolveResponse response;
  for (int i = 0; i < request.definitions_size(); ++i) {
    auto r = Resolve(request.definitions(i));
    if (!r.ok()) {
      return absl::Status(r.status().code(),
                          absl::StrCat("definitions[", i, "]: ", r.status().message()));
    }
    *response.add_results() = *std::move(r);
  }
  return response;
}

void SchedulerAttribute::RecordUse(const std::string& cluster, const std::string& artifact_id) {
  if (!options_.caching_enabled || options_.max_artifacts_to_cache <= 0) return;
  if (!caching_clusters_.empty() && !caching_clusters_.contains(cluster)) return;
  absl::MutexLock lock(&mu_);
  std::deque<std::string>& recent = recent_[cluster];
  recent.erase(std::remove(recent.begin(), recent.end(), artifact_id), recent.end());
  recent.push_front(artifact_id);
  while (static_cast<int>(recent.size()) > options_.max_artifacts_to_cache) recent.pop_back();
}

absl::StatusOr<v1::ListArtifactsToCacheResponse> SchedulerAttribute::ListArtifactsToCache(
    const v1::ListArtifactsToCacheRequest& request) {
  RETURN_IF_ERROR(CheckName("cluster", request.cluster()));
  v1::ListArtifactsToCacheResponse response;
  absl::MutexLock lock(&mu_);
  auto it = recent_.find(request.cluster());
  if (it != recent_.end()) {
    for (const std::string& id : it->second) response.add_artifact_ids(id);
  }
  return response;
}

}  // namespace arca::scheduling
