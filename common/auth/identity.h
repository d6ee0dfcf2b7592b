#ifndef ARCA_COMMON_AUTH_IDENTITY_H_
#define ARCA_COMMON_AUTH_IDENTITY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace arca::auth {

// What a caller may do. reader: list, get, download. writer: also register
// artifacts, create and finish jobs, collect. admin: also overwrite and
// delete what others made, delete jobs, run GC, take checkpoints. Each
// includes the ones before it. service: Arca's own services, which may
// also do the work between them (GC's queue, committing uploads) and act
// for a user they name; it includes admin.
enum class Role : uint32_t { kReader = 1, kWriter = 2, kAdmin = 4, kService = 8 };

// The Role bits a role name grants (with the roles it includes); 0 for an
// unknown name.
uint32_t RoleBits(absl::string_view name);
// "reader", "writer", "admin", "service": the highest role held.
std::string RoleName(uint32_t roles);

// Who a call acts as: which groups' jobs it sees, the highest privacy level
// of file it may read (arca.types.v1.PrivacyLevel), and what it may do.
struct Identity {
  std::string name;
  bool all_groups = false;  // "*"
  std::vector<std::string> groups;
  int privacy_level = 2;
  uint32_t roles = 0;  // Role bits

  bool SeesGroup(absl::string_view group) const;
  // Files of an unspecified level count as moderately sensitive.
  bool SeesPrivacy(int level) const;
  bool Has(Role role) const { return (roles & static_cast<uint32_t>(role)) != 0; }
  // PERMISSION_DENIED, saying what `what` needs, unless the caller has it.
  absl::Status Allows(Role role, absl::string_view what) const;

  // Every group, every level, every role: what runs without tokens (the
  // loopback default).
  static Identity Everyone();
};

}  // namespace arca::auth

#endif  // ARCA_COMMON_AUTH_IDENTITY_H_
