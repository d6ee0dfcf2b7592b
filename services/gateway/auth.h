#ifndef ARCA_SERVICES_GATEWAY_AUTH_H_
#define ARCA_SERVICES_GATEWAY_AUTH_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace arca::gateway {

// What a caller may do: read (list, get, download), write (register,
// create jobs, collect) and administer (overwrite or delete what others
// registered, delete jobs, run GC, take checkpoints).
enum class Role : uint32_t { kReader = 1, kWriter = 2, kAdmin = 4 };

// Who is asking: which groups' jobs they see, the highest privacy level of
// file they may read, and what they may do.
struct Caller {
  std::string name;                // from the token file, for logs
  bool all_groups = false;         // "*": every group
  std::vector<std::string> groups;
  int privacy_level = 2;           // arca.types.v1.PrivacyLevel number
  uint32_t roles = 0;              // Role bits

  bool SeesGroup(absl::string_view group) const;
  // Files of an unspecified level count as moderately sensitive.
  bool SeesPrivacy(int level) const;
  bool Has(Role role) const { return (roles & static_cast<uint32_t>(role)) != 0; }
  // PERMISSION_DENIED, saying what `what` needs, unless the caller has it.
  absl::Status Allows(Role role, absl::string_view what) const;
  // Every group, every level, every role (no authentication: loopback).
  static Caller Everyone();
};

// Bearer tokens from a file, one per line:
//
//   # sha256 of the token (hex)  groups          privacy level         name   roles
//   sha256:9f86d08...            team-a,team-b   highly_sensitive      alice  reader
//   sha256:2c26b46...            *               moderately_sensitive  ops    admin
//   sha256:fcde2b2...            team-c          moderately_sensitive  ci
//
// Roles are reader, writer and admin, each including the ones before it;
// without them a token is a writer, and a token for every group ("*") an
// admin.
// Only hashes are stored. A changed file is read again (checked at most once
// a second); a file that no longer parses keeps the previous tokens in force
// and the error is logged.
class TokenAuth {
 public:
  // INVALID_ARGUMENT naming the line for a malformed file; NOT_FOUND if it
  // cannot be read.
  static absl::StatusOr<std::unique_ptr<TokenAuth>> Open(const std::string& path,
                                                         Clock* clock = Clock::Real());

  // UNAUTHENTICATED for a missing, malformed or unknown token. Tokens are
  // compared in constant time.
  absl::StatusOr<Caller> Authenticate(absl::string_view authorization_header);

  // Parses the file's text (exposed for tests).
  static absl::StatusOr<std::vector<std::pair<std::string, Caller>>> Parse(
      absl::string_view text);

 private:
  TokenAuth(std::string path, Clock* clock) : path_(std::move(path)), clock_(clock) {}
  absl::Status Load();
  void MaybeReload();

  std::string path_;
  Clock* clock_;
  absl::Mutex mu_;
  std::vector<std::pair<std::string, Caller>> entries_ ABSL_GUARDED_BY(mu_);  // raw digest
  int64_t mtime_ns_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t file_size_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_check_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace arca::gateway

#endif  // ARCA_SERVICES_GATEWAY_AUTH_H_
