#ifndef ARCA_COMMON_GC_POLICY_H_
#define ARCA_COMMON_GC_POLICY_H_

// The artifact GC policy, strategy x job outcome x TTL, in one place: the
// catalog asks it which jobs must wait for a sweep (the finalizer), and
// retention-gc what a sweep deletes and what a preview says about a file.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/catalog/v1/catalog.pb.h"

namespace arca::gc {

// The finalizer that holds a job whose files still await strategy GC; the
// catalog adds it, retention-gc removes it.
inline constexpr absl::string_view kArtifactGcFinalizer = "arca.io/artifact-gc";

// The job condition retention-gc sets when it gave up after its last retry.
inline constexpr absl::string_view kArtifactGcErrorCondition = "ArtifactGCError";

// A file's own strategy, else that of the job's first GC rule matching its
// path, else its job's; for a job log (.arca/logs/), OnJobDeletion where the
// job's strategy would delete it when the job ends. Unspecified means TTL
// only, like Never.
types::v1::GcStrategy Effective(const catalog::v1::Job& job, const catalog::v1::ArtifactFile& f);

// Whether some job event deletes files of this strategy (so a job holding
// such files keeps the finalizer until a sweep has applied it).
bool NeedsGc(types::v1::GcStrategy s);

// Whether the strategy deletes a file on this event of a job with this
// outcome.
bool Fires(types::v1::GcStrategy s, catalog::v1::GcEvent event, types::v1::JobStatus outcome);

// Whether the job's events so far delete a file of this strategy.
bool Due(types::v1::GcStrategy s, const catalog::v1::Job& job);

// Whether some later event of the job could still delete it.
bool Pending(types::v1::GcStrategy s, const catalog::v1::Job& job);

// What a sweep at `now` does with an available file, and why: deleted
// because "expired" or by "strategy"; kept as "strategy_never",
// "job_running", "strategy_never; expires by TTL" or "not_expired".
struct Verdict {
  bool deletes = false;
  absl::string_view reason;
};
Verdict Judge(const catalog::v1::Job& job, const catalog::v1::ArtifactFile& f, absl::Time now);

// A strategy's one name, as REST, GraphQL and the CLI write it:
// "OnJobDeletion". Empty for GC_STRATEGY_UNSPECIFIED.
std::string StrategyName(types::v1::GcStrategy s);

// OnJobDeletion, on_job_deletion or Argo's OnWorkflowDeletion, in any
// case. INVALID_ARGUMENT otherwise, its message starting with `subject`
// ("gc_strategy must be …", "--pattern strategy must be …").
absl::StatusOr<types::v1::GcStrategy> ParseStrategy(absl::string_view subject, absl::string_view text);

}  // namespace arca::gc

#endif  // ARCA_COMMON_GC_POLICY_H_
