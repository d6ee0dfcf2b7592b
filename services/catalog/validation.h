#ifndef ARCA_SERVICES_CATALOG_VALIDATION_H_
#define ARCA_SERVICES_CATALOG_VALIDATION_H_

// What the catalog checks of every request before it touches the store:
// sizes, names, times, enums, revisions. Internal to the catalog's files.

#include <algorithm>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/ids.h"
#include "common/paths.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "proto/catalog/v1/catalog.pb.h"

namespace arca::catalog {

inline constexpr size_t kMaxArtifactBytes = 400 * 1024;
inline constexpr int kMaxMapEntries = 1000;
inline constexpr size_t kMaxTextBytes = 64 * 1024;
inline constexpr int kMaxFilesPerCommit = 100000;


inline absl::Status CheckText(absl::string_view field, absl::string_view value,
                       size_t max = kMaxTextBytes) {
  if (value.size() > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is ", value.size(), " bytes; the limit is ", max));
  }
  if (!IsValidUtf8(value)) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is not valid UTF-8"));
  }
  return absl::OkStatus();
}

inline absl::Status CheckMap(absl::string_view field,
                      const google::protobuf::Map<std::string, std::string>& m) {
  if (m.size() > kMaxMapEntries) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " has ", m.size(), " entries; the limit is ", kMaxMapEntries));
  }
  for (const auto& [k, v] : m) {
    if (k.empty()) return absl::InvalidArgumentError(absl::StrCat(field, " has an empty key"));
    RETURN_IF_ERROR(CheckText(absl::StrCat(field, " key"), k, 1024));
    RETURN_IF_ERROR(CheckText(absl::StrCat(field, "[", k, "]"), v));
  }
  return absl::OkStatus();
}

// Protobuf's Timestamp range: 0001-01-01 to 9999-12-31, whole nanoseconds.
inline absl::Status CheckTime(absl::string_view field, const google::protobuf::Timestamp& t) {
  constexpr int64_t kMinSeconds = -62135596800, kMaxSeconds = 253402300799;
  if (t.seconds() < kMinSeconds || t.seconds() > kMaxSeconds || t.nanos() < 0 ||
      t.nanos() > 999999999) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " must be a time from year 1 to 9999, got ", t.seconds(), " s and ", t.nanos(),
        " ns since 1970"));
  }
  return absl::OkStatus();
}

// A retention of at most a hundred years (a negative one keeps files until
// a strategy or a person removes them).
inline absl::Status CheckRetention(absl::string_view field, const google::protobuf::Duration& d) {
  constexpr int64_t kMaxSeconds = int64_t{100} * 366 * 24 * 3600;
  if (d.seconds() > kMaxSeconds || d.seconds() < -kMaxSeconds ||
      (d.seconds() > 0 && d.nanos() < 0) || (d.seconds() < 0 && d.nanos() > 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " must be at most 100 years (negative: kept until removed), got ", d.seconds(),
        " s"));
  }
  return absl::OkStatus();
}

inline absl::Status ValidateArtifact(const v1::JobArtifact& a) {
  RETURN_IF_ERROR(CheckName("name", a.name()));
  RETURN_IF_ERROR(CheckName("version", a.version()));
  if (!a.artifact_id().empty()) RETURN_IF_ERROR(CheckName("artifactID", a.artifact_id()));
  RETURN_IF_ERROR(CheckText("runtimeType", a.runtime_type(), 1024));
  RETURN_IF_ERROR(CheckText("entrypoint", a.entrypoint()));
  RETURN_IF_ERROR(CheckMap("tags", a.tags()));
  RETURN_IF_ERROR(CheckMap("dependencies", a.dependencies()));
  if (a.has_created_at()) RETURN_IF_ERROR(CheckTime("createdAt", a.created_at()));
  if (a.ByteSizeLong() > kMaxArtifactBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "artifact is ", a.ByteSizeLong(), " bytes encoded; the limit is 400 KiB (",
        kMaxArtifactBytes, " bytes)"));
  }
  return absl::OkStatus();
}

inline absl::Status CheckEnum(absl::string_view field, bool valid, int value) {
  if (!valid) {
    return absl::InvalidArgumentError(absl::StrCat(field, " has unknown value ", value));
  }
  return absl::OkStatus();
}

inline absl::Status CheckRevision(int64_t expected, int64_t stored) {
  if (expected != 0 && expected != stored) {
    return absl::FailedPreconditionError(absl::StrCat(
        "expected revision ", expected, " but the stored revision is ", stored));
  }
  return absl::OkStatus();
}

inline absl::Status CheckJobId(absl::string_view id) { return CheckName("job id", id); }

// The blob store's pack names: "pack-" and up to 64 safe characters in all.
inline bool IsPackName(absl::string_view name) {
  return absl::StartsWith(name, "pack-") && IsSafeName(name, 64);
}

inline absl::Status JobNotFound(absl::string_view id) {
  return absl::NotFoundError(absl::StrCat("no job with id ", id));
}

inline bool HasFinalizer(const v1::Job& job, absl::string_view name) {
  return std::find(job.finalizers().begin(), job.finalizers().end(), name) !=
         job.finalizers().end();
}


}  // namespace arca::catalog

#endif  // ARCA_SERVICES_CATALOG_VALIDATION_H_
