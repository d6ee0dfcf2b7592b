#include "services/gateway/auth.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/logging.h"
#include "common/sha256.h"

namespace arca::gateway {
namespace {

constexpr int kModeratelySensitive = 1;
constexpr int kHighlySensitive = 2;

// Equal length and contents, in time that depends only on the length.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

bool IsLowerHex(absl::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

bool Caller::SeesGroup(absl::string_view group) const {
  return all_groups || std::find(groups.begin(), groups.end(), group) != groups.end();
}

bool Caller::SeesPrivacy(int level) const {
  return std::max(level, kModeratelySensitive) <= privacy_level;
}

absl::Status Caller::Allows(Role role, absl::string_view what) const {
  if (Has(role)) return absl::OkStatus();
  const char* needed = role == Role::kAdmin ? "admin" : role == Role::kWriter ? "writer" : "reader";
  return absl::PermissionDeniedError(
      absl::StrCat(what, " needs the ", needed, " role, which this token does not have"));
}

Caller Caller::Everyone() {
  Caller c;
  c.name = "anonymous";
  c.all_groups = true;
  c.privacy_level = kHighlySensitive;
  c.roles = static_cast<uint32_t>(Role::kReader) | static_cast<uint32_t>(Role::kWriter) |
            static_cast<uint32_t>(Role::kAdmin);
  return c;
}

absl::StatusOr<std::vector<std::pair<std::string, Caller>>> TokenAuth::Parse(
    absl::string_view text) {
  std::vector<std::pair<std::string, Caller>> entries;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("token file line ", line_no, ": ", why));
    };
    if (fields.size() < 3 || fields.size() > 5) {
      return bad("want \"sha256:<hex> <groups|*> <privacy level> [name [roles]]\"");
    }
    absl::string_view hash = fields[0];
    if (!absl::ConsumePrefix(&hash, "sha256:") || hash.size() != 64 || !IsLowerHex(hash)) {
      return bad("the first field must be sha256: and 64 lowercase hex digits");
    }
    Caller c;
    c.name = fields.size() >= 4 ? std::string(fields[3]) : absl::StrCat("line ", line_no);
    if (fields[1] == "*") {
      c.all_groups = true;
    } else {
      for (absl::string_view g : absl::StrSplit(fields[1], ',', absl::SkipEmpty())) {
        c.groups.emplace_back(g);
      }
      if (c.groups.empty()) return bad("no groups");
    }
    std::string level = absl::AsciiStrToLower(fields[2]);
    if (level == "moderately_sensitive") {
      c.privacy_level = kModeratelySensitive;
    } else if (level == "highly_sensitive") {
      c.privacy_level = kHighlySensitive;
    } else {
      return bad(absl::StrCat("privacy level must be moderately_sensitive or highly_sensitive, got \"",
                              fields[2], "\""));
    }
    if (fields.size() == 5) {
      for (absl::string_view role : absl::StrSplit(fields[4], ',', absl::SkipEmpty())) {
        // Each role includes the ones before it.
        if (role == "reader") {
          c.roles |= static_cast<uint32_t>(Role::kReader);
        } else if (role == "writer") {
          c.roles |= static_cast<uint32_t>(Role::kReader) | static_cast<uint32_t>(Role::kWriter);
        } else if (role == "admin") {
          c.roles |= static_cast<uint32_t>(Role::kReader) | static_cast<uint32_t>(Role::kWriter) |
                     static_cast<uint32_t>(Role::kAdmin);
        } else {
          return bad(absl::StrCat("roles are reader, writer and admin, got \"", role, "\""));
        }
      }
      if (c.roles == 0) return bad("no roles");
    } else {
      c.roles = static_cast<uint32_t>(Role::kReader) | static_cast<uint32_t>(Role::kWriter) |
                (c.all_groups ? static_cast<uint32_t>(Role::kAdmin) : 0);
    }
    entries.emplace_back(std::string(hash), std::move(c));
  }
  return entries;
}

absl::StatusOr<std::unique_ptr<TokenAuth>> TokenAuth::Open(const std::string& path, Clock* clock) {
  std::unique_ptr<TokenAuth> auth(new TokenAuth(path, clock));
  absl::Status s = auth->Load();
  if (!s.ok()) return s;
  return auth;
}

absl::Status TokenAuth::Load() {
  struct stat st;
  if (stat(path_.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("cannot read token file ", path_));
  }
  std::ifstream in(path_);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read token file ", path_));
  auto entries = Parse(text.str());
  absl::MutexLock lock(&mu_);
  mtime_ns_ = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  file_size_ = st.st_size;
  if (!entries.ok()) return entries.status();
  entries_ = *std::move(entries);
  return absl::OkStatus();
}

void TokenAuth::MaybeReload() {
  {
    absl::MutexLock lock(&mu_);
    absl::Time now = clock_->Now();
    if (now - last_check_ < absl::Seconds(1)) return;
    last_check_ = now;
    struct stat st;
    if (stat(path_.c_str(), &st) != 0) return;
    int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    if (mtime == mtime_ns_ && st.st_size == file_size_) return;
  }
  absl::Status s = Load();
  if (s.ok()) {
    ARCA_LOG(INFO) << "reloaded token file " << path_;
  } else {
    ARCA_LOG(ERROR) << s.message() << "; keeping the previous tokens";
  }
}

absl::StatusOr<Caller> TokenAuth::Authenticate(absl::string_view header) {
  MaybeReload();
  if (header.empty()) {
    return absl::UnauthenticatedError("missing Authorization: Bearer token");
  }
  absl::string_view token = header;
  if (!absl::ConsumePrefix(&token, "Bearer ") || absl::StripAsciiWhitespace(token).empty()) {
    return absl::UnauthenticatedError("Authorization must be \"Bearer <token>\"");
  }
  std::string digest = Sha256::Of(absl::StripAsciiWhitespace(token));
  absl::MutexLock lock(&mu_);
  const Caller* found = nullptr;
  for (const auto& [hash, caller] : entries_) {  // no early exit
    if (ConstantTimeEquals(hash, digest)) found = &caller;
  }
  if (found == nullptr) return absl::UnauthenticatedError("unknown token");
  return *found;
}

}  // namespace arca::gateway
