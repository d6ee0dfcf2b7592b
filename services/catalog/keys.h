#ifndef ARCA_SERVICES_CATALOG_KEYS_H_
#define ARCA_SERVICES_CATALOG_KEYS_H_

// The catalog's key layout in RocksDB, and the encodings keys are made of.
// Internal to the catalog's own files.

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/time_util.h"
#include "proto/catalog/v1/catalog.pb.h"

namespace arca::catalog {

// Key layout (one column family; values are protobuf unless noted):
//   m/schema                          -> decimal schema version
//   a/<artifact id>                   -> JobArtifact
//   v/<name>\0<version>               -> artifact id
//   n/<name>                          -> decimal count of versions
//   j/<job id>                        -> Job
//   t/<be64 ~created_us><job id>      -> ""   (all jobs, newest first)
//   g/<group>\0<be64 ~created_us><id> -> ""   (a group's jobs, newest first)
//   c/<type>\0<be64 ~created_us><id>  -> ""   (jobs with a condition, newest first)
//   f/<job id>\0<path>                -> ArtifactFile
//   e/<be64 expires_us><job>\0<path>  -> ""   (expiry index)
//   b/<sha256>                        -> BlobRef
//   u/<be64 since_us><sha256>         -> ""   (unreferenced blobs)
//   p/<pack name>                     -> Pack (packs of small blobs)
//   l/<pack name>\0<be64 offset>      -> ""   (live packed blobs, by the
//                                             offset their records hold)
//   o/<pack name>\0<be64 offset>      -> pairs of be64 (offset, offset in the
//                                        pack's file now), ascending, from
//                                        this offset (a compacted pack's map)
//   r/<pack file name>                -> Pack (a retired pack file)
//   q/<be64 due_us><task id>          -> GcTask
//   k/<task id>                       -> be64 due_us
inline constexpr char kSchemaKey[] = "m/schema";

inline std::string Be64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

// Reads 8 big-endian bytes at p.
inline uint64_t ReadBe64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

inline uint64_t Micros(absl::Time t) {
  int64_t us = absl::ToUnixMicros(t);
  return us < 0 ? 0 : static_cast<uint64_t>(us);
}
inline uint64_t Micros(const google::protobuf::Timestamp& t) { return Micros(FromProtoTime(t)); }

inline std::string ArtifactKey(absl::string_view id) { return absl::StrCat("a/", id); }
inline std::string VersionKey(absl::string_view name, absl::string_view version) {
  return absl::StrCat("v/", name, absl::string_view("\0", 1), version);
}
inline std::string NameKey(absl::string_view name) { return absl::StrCat("n/", name); }
inline std::string JobKey(absl::string_view id) { return absl::StrCat("j/", id); }
inline std::string JobTimeKey(const v1::Job& job) {
  return absl::StrCat("t/", Be64(~Micros(job.created_at())), job.id());
}
inline std::string GroupPrefix(absl::string_view group) {
  return absl::StrCat("g/", group, absl::string_view("\0", 1));
}
inline std::string JobGroupKey(const v1::Job& job) {
  return absl::StrCat(GroupPrefix(job.group()), Be64(~Micros(job.created_at())), job.id());
}
inline std::string ConditionPrefix(absl::string_view type) {
  return absl::StrCat("c/", type, absl::string_view("\0", 1));
}
inline std::string JobConditionKey(absl::string_view type, const v1::Job& job) {
  return absl::StrCat(ConditionPrefix(type), Be64(~Micros(job.created_at())), job.id());
}
inline std::string FilePrefix(absl::string_view job) {
  return absl::StrCat("f/", job, absl::string_view("\0", 1));
}
inline std::string FileKey(absl::string_view job, absl::string_view path) {
  return absl::StrCat(FilePrefix(job), path);
}
inline std::string ExpiryKey(const v1::ArtifactFile& f) {
  return absl::StrCat("e/", Be64(Micros(f.expires_at())), f.job_id(),
                      absl::string_view("\0", 1), f.path());
}
inline std::string BlobKey(absl::string_view sha) { return absl::StrCat("b/", sha); }
inline std::string UnrefKey(const v1::BlobRef& b) {
  return absl::StrCat("u/", Be64(Micros(b.unreferenced_since())), b.sha256());
}
inline std::string PackKey(absl::string_view name) { return absl::StrCat("p/", name); }
inline std::string LivePrefix(absl::string_view pack) {
  return absl::StrCat("l/", pack, absl::string_view("\0", 1));
}
inline std::string LiveKey(absl::string_view pack, uint64_t offset) {
  return absl::StrCat(LivePrefix(pack), Be64(offset));
}
inline std::string LiveKey(const v1::BlobLocation& where) {
  return LiveKey(where.pack(), static_cast<uint64_t>(where.offset()));
}
inline std::string MapPrefix(absl::string_view pack) {
  return absl::StrCat("o/", pack, absl::string_view("\0", 1));
}
inline std::string MapKey(absl::string_view pack, uint64_t offset) {
  return absl::StrCat(MapPrefix(pack), Be64(offset));
}
// The file that holds a pack now.
inline const std::string& FileOf(const v1::Pack& p) {
  return p.file().empty() ? p.name() : p.file();
}
inline std::string RetiredKey(absl::string_view file) { return absl::StrCat("r/", file); }
inline std::string QueueKey(uint64_t due_us, absl::string_view task_id) {
  return absl::StrCat("q/", Be64(due_us), task_id);
}
inline std::string TaskKey(absl::string_view task_id) { return absl::StrCat("k/", task_id); }

}  // namespace arca::catalog

#endif  // ARCA_SERVICES_CATALOG_KEYS_H_
