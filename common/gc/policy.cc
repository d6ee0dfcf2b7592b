#include "common/gc/policy.h"

#include <fnmatch.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/paths.h"
#include "common/time_util.h"

namespace arca::gc {

namespace cat = ::arca::catalog::v1;
using ::arca::types::v1::GcStrategy;

namespace {
bool Finished(const cat::Job& job) { return job.has_finished_at(); }
bool Deleting(const cat::Job& job) { return job.has_deletion_requested_at(); }
}  // namespace

GcStrategy Effective(const cat::Job& job, const cat::ArtifactFile& f) {
  if (f.gc_strategy() != types::v1::GC_STRATEGY_UNSPECIFIED) return f.gc_strategy();
  for (const cat::GcRule& rule : job.gc_rules()) {
    if (fnmatch(rule.glob().c_str(), f.path().c_str(), 0) == 0) return rule.strategy();
  }
  const GcStrategy s = job.gc_strategy();
  // A job's logs outlive its outputs: a strategy that deletes the outputs
  // when the job ends leaves the logs to their retention, until the job
  // itself is deleted.
  if (IsJobLog(f.path()) && (s == types::v1::GC_STRATEGY_ON_JOB_COMPLETION ||
                             s == types::v1::GC_STRATEGY_ON_JOB_SUCCESS ||
                             s == types::v1::GC_STRATEGY_ON_JOB_FAILURE)) {
    return types::v1::GC_STRATEGY_ON_JOB_DELETION;
  }
  return s;
}

bool NeedsGc(GcStrategy s) {
  return s == types::v1::GC_STRATEGY_ON_JOB_COMPLETION ||
         s == types::v1::GC_STRATEGY_ON_JOB_SUCCESS ||
         s == types::v1::GC_STRATEGY_ON_JOB_FAILURE ||
         s == types::v1::GC_STRATEGY_ON_JOB_DELETION;
}

bool Fires(GcStrategy s, cat::GcEvent event, types::v1::JobStatus outcome) {
  switch (s) {
    case types::v1::GC_STRATEGY_ON_JOB_COMPLETION:
      return event == cat::GC_EVENT_JOB_FINISHED;
    case types::v1::GC_STRATEGY_ON_JOB_SUCCESS:
      return event == cat::GC_EVENT_JOB_FINISHED && outcome == types::v1::JOB_STATUS_SUCCESS;
    case types::v1::GC_STRATEGY_ON_JOB_FAILURE:
      return event == cat::GC_EVENT_JOB_FINISHED && outcome == types::v1::JOB_STATUS_FAILURE;
    case types::v1::GC_STRATEGY_ON_JOB_DELETION:
      return event == cat::GC_EVENT_JOB_DELETED;
    default:
      return false;
  }
}

bool Due(GcStrategy s, const cat::Job& job) {
  return (Finished(job) && Fires(s, cat::GC_EVENT_JOB_FINISHED, job.status())) ||
         (Deleting(job) && Fires(s, cat::GC_EVENT_JOB_DELETED, job.status()));
}

bool Pending(GcStrategy s, const cat::Job& job) {
  switch (s) {
    case types::v1::GC_STRATEGY_ON_JOB_COMPLETION:
    case types::v1::GC_STRATEGY_ON_JOB_SUCCESS:
    case types::v1::GC_STRATEGY_ON_JOB_FAILURE:
      return !Finished(job) && !Deleting(job);
    case types::v1::GC_STRATEGY_ON_JOB_DELETION:
      return !Deleting(job);
    default:
      return false;
  }
}

Verdict Judge(const cat::Job& job, const cat::ArtifactFile& f, absl::Time now) {
  const GcStrategy s = Effective(job, f);
  if (f.has_expires_at() && FromProtoTime(f.expires_at()) <= now) return {true, "expired"};
  if (Due(s, job)) return {true, "strategy"};
  if (s == types::v1::GC_STRATEGY_NEVER && !f.has_expires_at()) return {false, "strategy_never"};
  if (Pending(s, job) && !Finished(job)) return {false, "job_running"};
  if (s == types::v1::GC_STRATEGY_NEVER) return {false, "strategy_never; expires by TTL"};
  return {false, "not_expired"};
}

namespace {

struct Names {
  GcStrategy value;
  const char* name;  // Arca's, as REST writes it
  const char* argo;  // Argo's artifactGC name for the same
};
constexpr Names kStrategies[] = {
    {types::v1::GC_STRATEGY_ON_JOB_COMPLETION, "OnJobCompletion", "OnWorkflowCompletion"},
    {types::v1::GC_STRATEGY_ON_JOB_SUCCESS, "OnJobSuccess", "OnWorkflowSuccess"},
    {types::v1::GC_STRATEGY_ON_JOB_FAILURE, "OnJobFailure", "OnWorkflowFailure"},
    {types::v1::GC_STRATEGY_ON_JOB_DELETION, "OnJobDeletion", "OnWorkflowDeletion"},
    {types::v1::GC_STRATEGY_NEVER, "Never", "Never"},
};

}  // namespace

std::string StrategyName(GcStrategy s) {
  for (const Names& n : kStrategies) {
    if (n.value == s) return n.name;
  }
  return "";
}

absl::StatusOr<GcStrategy> ParseStrategy(absl::string_view subject, absl::string_view text) {
  const std::string plain = absl::StrReplaceAll(text, {{"_", ""}});  // on_job_deletion
  for (const Names& n : kStrategies) {
    if (absl::EqualsIgnoreCase(plain, n.name) || absl::EqualsIgnoreCase(plain, n.argo)) return n.value;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      subject, " must be OnJobCompletion, OnJobSuccess, OnJobFailure, OnJobDeletion or Never "
      "(on_job_completion, … and Argo's OnWorkflowCompletion, … too), got \"", text, "\""));
}

}  // namespace arca::gc
