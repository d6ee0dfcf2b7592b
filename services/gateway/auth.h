#ifndef ARCA_SERVICES_GATEWAY_AUTH_H_
#define ARCA_SERVICES_GATEWAY_AUTH_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace arca::gateway {

// Who is asking: which groups' jobs they see and the highest privacy level
// of file they may read.
struct Caller {
  std::string name;                // from the token file, for logs
  bool all_groups = false;         // "*": every group, and GC runs
  std::vector<std::string> groups;
  int privacy_level = 2;           // arca.types.v1.PrivacyLevel number

  bool SeesGroup(absl::string_view group) const;
  // Files of an unspecified level count as moderately sensitive.
  bool SeesPrivacy(int level) const;
  static Caller Everyone();
};

// Bearer tokens from a file, one per line:
//
//   # sha256 of the token (hex)  groups             privacy level      name
//   sha256:9f86d08...            team-a,team-b      highly_sensitive   alice
//   sha256:2c26b46...            *                  moderately_sensitive ops
//
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
