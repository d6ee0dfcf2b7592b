#include "common/auth/identity.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace arca::auth {
namespace {

constexpr int kModeratelySensitive = 1;
constexpr int kHighlySensitive = 2;

constexpr uint32_t Bits(Role r) { return static_cast<uint32_t>(r); }

}  // namespace

uint32_t RoleBits(absl::string_view name) {
  const uint32_t reader = Bits(Role::kReader), writer = reader | Bits(Role::kWriter),
                 admin = writer | Bits(Role::kAdmin), service = admin | Bits(Role::kService);
  if (name == "reader") return reader;
  if (name == "writer") return writer;
  if (name == "admin") return admin;
  if (name == "service") return service;
  return 0;
}

std::string RoleName(uint32_t roles) {
  if (roles & Bits(Role::kService)) return "service";
  if (roles & Bits(Role::kAdmin)) return "admin";
  if (roles & Bits(Role::kWriter)) return "writer";
  if (roles & Bits(Role::kReader)) return "reader";
  return "none";
}

bool Identity::SeesGroup(absl::string_view group) const {
  return all_groups || std::find(groups.begin(), groups.end(), group) != groups.end();
}

bool Identity::SeesPrivacy(int level) const {
  return std::max(level, kModeratelySensitive) <= privacy_level;
}

absl::Status Identity::Allows(Role role, absl::string_view what) const {
  if (Has(role)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(what, " needs the ", RoleName(Bits(role)),
                                                  " role, which ", name, " does not have"));
}

Identity Identity::Everyone() {
  Identity c;
  c.name = "anonymous";
  c.all_groups = true;
  c.privacy_level = kHighlySensitive;
  c.roles = RoleBits("service");
  return c;
}

}  // namespace arca::auth
