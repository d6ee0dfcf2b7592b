#ifndef ARCA_COMMON_PATHS_H_
#define ARCA_COMMON_PATHS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace arca {

inline constexpr size_t kMaxPathBytes = 1024;
inline constexpr int kMaxPathDepth = 64;

// OK if path is a normalized relative artifact path: valid UTF-8, 1..1024
// bytes, no NUL, not absolute, no empty, "." or ".." segments, at most 64
// segments. Otherwise INVALID_ARGUMENT saying what is wrong.
absl::Status ValidateArtifactPath(absl::string_view path);

// True if s is well-formed UTF-8 (no overlongs, surrogates or values past
// U+10FFFF).
bool IsValidUtf8(absl::string_view s);

// Where a job's logs live among its files (`arca run` keeps the command's
// output as .arca/logs/job.log). Logs are outside the upload limits and
// kept under a retention of their own.
inline constexpr absl::string_view kJobLogPrefix = ".arca/logs/";
inline bool IsJobLog(absl::string_view path) { return absl::StartsWith(path, kJobLogPrefix); }

// Whether a job's file is among those a download of its tree takes (`arca
// get -D`, GET /api/v1/job/{id}/artifacts.zip): those under `dir` ("" for
// all) that match one of `patterns` (shell globs whose '*' crosses '/'),
// or, with no patterns, the job's outputs (its logs only when named).
bool InTreeDownload(absl::string_view path, absl::string_view dir,
                    const std::vector<std::string>& patterns);

// True if s is 64 lowercase hex digits.
bool IsSha256Hex(absl::string_view s);

}  // namespace arca

#endif  // ARCA_COMMON_PATHS_H_
