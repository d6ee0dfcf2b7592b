#ifndef ARCA_COMMON_GC_ARTIFACT_GC_H_
#define ARCA_COMMON_GC_ARTIFACT_GC_H_

#include "absl/strings/string_view.h"

namespace arca::gc {

// The finalizer that holds a job whose files still await strategy GC; the
// catalog adds it, retention-gc removes it.
inline constexpr absl::string_view kArtifactGcFinalizer = "arca.io/artifact-gc";

// The job condition retention-gc sets when it gave up after its last retry.
inline constexpr absl::string_view kArtifactGcErrorCondition = "ArtifactGCError";

}  // namespace arca::gc

#endif  // ARCA_COMMON_GC_ARTIFACT_GC_H_
