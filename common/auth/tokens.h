#ifndef ARCA_COMMON_AUTH_TOKENS_H_
#define ARCA_COMMON_AUTH_TOKENS_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/identity.h"
#include "common/clock.h"

namespace arca::auth {

// Who may call, from a file every service reads, one identity per line:
//
//   # credential                 groups          privacy level         name          roles
//   sha256:9f86d08...            team-a,team-b   highly_sensitive      alice         reader
//   sha256:2c26b46...            *               moderately_sensitive  ops           admin
//   sha256:fcde2b2...            team-c          moderately_sensitive  ci
//   cert:collector-1             *               highly_sensitive      collector     service
//
// A credential is the SHA-256 of a bearer token (never the token itself),
// or cert:<name>, a client certificate whose subject's common name is
// <name> (mTLS). Roles (reader, writer, admin, service) each include the
// ones before them; without roles a line is a writer, and a line for every
// group ("*") an admin. Names are unique: a service acting for a user
// names it. A changed file is read again (checked at most once a second);
// a file that no longer parses keeps the previous identities in force, and
// the error is logged.
class TokenFile {
 public:
  struct Entry {
    std::string sha256;       // of the token, hex; empty for cert:
    std::string certificate;  // a client certificate's common name; empty for sha256:
    Identity identity;
  };

  // INVALID_ARGUMENT naming the line for a malformed file; NOT_FOUND if it
  // cannot be read.
  static absl::StatusOr<std::unique_ptr<TokenFile>> Open(const std::string& path,
                                                         Clock* clock = Clock::Real());

  // UNAUTHENTICATED for a missing, malformed or unknown token. Tokens are
  // compared in constant time.
  absl::StatusOr<Identity> Authenticate(absl::string_view authorization_header);
  // The identity of a client certificate's common name, if listed.
  std::optional<Identity> ByCertificate(absl::string_view common_name);
  // The identity of that name, if listed (for a service acting for it).
  std::optional<Identity> ByName(absl::string_view name);

  // Parses the file's text (exposed for tests).
  static absl::StatusOr<std::vector<Entry>> Parse(absl::string_view text);

 private:
  TokenFile(std::string path, Clock* clock) : path_(std::move(path)), clock_(clock) {}
  absl::Status Load();
  void MaybeReload();

  std::string path_;
  Clock* clock_;
  absl::Mutex mu_;
  std::vector<Entry> entries_ ABSL_GUARDED_BY(mu_);
  int64_t mtime_ns_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t file_size_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_check_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace arca::auth

#endif  // ARCA_COMMON_AUTH_TOKENS_H_
