#ifndef ARCA_SERVICES_SCHEDULING_SCHEDULER_ATTRIBUTE_H_
#define ARCA_SERVICES_SCHEDULING_SCHEDULER_ATTRIBUTE_H_

#include <deque>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clients/catalog.h"
#include "common/metrics/table.h"
#include "proto/catalog/v1/catalog.pb.h"
#include "proto/scheduling/v1/scheduling.pb.h"

namespace arca::scheduling {

namespace v1 = ::arca::scheduling::v1;

struct SchedulerOptions {
  // Mantis' mantis.artifactCaching.enabled. Default: true.
  bool caching_enabled = true;
  // Mantis' mantis.job.worker.max.artifacts.to.cache. Default: 5.
  int max_artifacts_to_cache = 5;
  // Mantis' mantis.artifactCaching.jobClusters; empty means every cluster.
  std::vector<std::string> caching_clusters;
};

#define ARCA_SCHEDULER_METRICS(M)                                                             \
  M(Counters, resolves,                                                                       \
    {"arca_scheduler_attribute_resolves_total",                                               \
     "Job definitions resolved, by what became of their artifact", "artifact",                \
     {"found", "missing", "none"}})                                                           \
  M(Histogram, resolve_seconds,                                                               \
    {"arca_scheduler_attribute_resolve_seconds", "Time to resolve one job definition", nullptr, \
     {}, {0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5}})

struct SchedulerMetrics {
  explicit SchedulerMetrics(prometheus::Registry& registry)
      : registry(registry) ARCA_SCHEDULER_METRICS(ARCA_METRIC_INIT) {}
  prometheus::Registry& registry;
  ARCA_SCHEDULER_METRICS(ARCA_METRIC_MEMBER)
};

// Where an attribute came from.
inline constexpr char kFromArtifactTag[] = "artifact_tag";
inline constexpr char kFromJobLabel[] = "job_label";

// The artifact id a job jar URL names: the last non-empty segment of its
// path, percent-decoded, with the query string and fragment ignored (a
// trailing slash is ignored too). Accepts a bare path or file name. Empty if
// the URL names no artifact (no path, or only "/").
std::string ArtifactIdFromJarUrl(absl::string_view url);

// Mantis' merge of artifact tags and _mantis.schedulingAttribute.<key>
// labels (pattern case-insensitive, key kept as written; labels win), with
// each attribute's source and any value a label overrode. Labels are applied
// in byte order of their full label names, so when two labels give the same
// key the later one in that order wins (and a warning says so). Keys that
// differ only in case are distinct attributes, as in Mantis, with a warning.
v1::SchedulingConstraints MergeAttributes(
    const google::protobuf::Map<std::string, std::string>& tags,
    const google::protobuf::Map<std::string, std::string>& labels);

// Resolves job definitions against the catalog. Thread-safe.
class SchedulerAttribute {
 public:
  SchedulerAttribute(const SchedulerOptions& options,
                     clients::CatalogClient* catalog, SchedulerMetrics* metrics);

  // INVALID_ARGUMENT for malformed input; UNAVAILABLE if the catalog cannot
  // be reached. A missing artifact is a warning in the answer, not an error.
  absl::StatusOr<v1::SchedulingConstraints> Resolve(const v1::JobDefinition& definition);
  // At most 1,000 definitions.
  absl::StatusOr<v1::BatchResolveResponse> BatchResolve(const v1::BatchResolveRequest& request);
  // The artifacts Resolve calls naming this cluster used most recently,
  // newest first, at most max_artifacts_to_cache.
  absl::StatusOr<v1::ListArtifactsToCacheResponse> ListArtifactsToCache(
      const v1::ListArtifactsToCacheRequest& request);

 private:
  // The artifact a reference names; NotFound if none.
  absl::StatusOr<catalog::v1::JobArtifact> Lookup(const v1::ArtifactRef& ref,
                                                  std::string* described);
  void RecordUse(const std::string& cluster, const std::string& artifact_id);

  SchedulerOptions options_;
  clients::CatalogClient* catalog_;
  SchedulerMetrics* metrics_;
  absl::flat_hash_set<std::string> caching_clusters_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::deque<std::string>> recent_ ABSL_GUARDED_BY(mu_);
};

}  // namespace arca::scheduling

#endif  // ARCA_SERVICES_SCHEDULING_SCHEDULER_ATTRIBUTE_H_
