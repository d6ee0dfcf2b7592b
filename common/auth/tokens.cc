#include "common/auth/tokens.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/logging.h"
#include "common/hash/sha256.h"

namespace arca::auth {
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

absl::StatusOr<std::vector<TokenFile::Entry>> TokenFile::Parse(absl::string_view text) {
  std::vector<Entry> entries;
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
      return bad("want \"sha256:<hex>|cert:<name> <groups|*> <privacy level> [name [roles]]\"");
    }
    Entry entry;
    absl::string_view credential = fields[0];
    if (absl::ConsumePrefix(&credential, "sha256:")) {
      if (credential.size() != 64 || !IsLowerHex(credential)) {
        return bad("a sha256: credential is 64 lowercase hex digits");
      }
      entry.sha256 = std::string(credential);
    } else if (absl::ConsumePrefix(&credential, "cert:") && !credential.empty()) {
      entry.certificate = std::string(credential);
    } else {
      return bad("the first field must be sha256:<64 hex digits> or cert:<common name>");
    }
    Identity& c = entry.identity;
    c.name = fields.size() >= 4 ? std::string(fields[3])
             : entry.certificate.empty() ? absl::StrCat("line ", line_no)
                                         : entry.certificate;
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
        const uint32_t bits = RoleBits(role);
        if (bits == 0) {
          return bad(absl::StrCat("roles are reader, writer, admin and service, got \"", role,
                                  "\""));
        }
        c.roles |= bits;
      }
      if (c.roles == 0) return bad("no roles");
    } else {
      c.roles = RoleBits(c.all_groups ? "admin" : "writer");
    }
    for (const Entry& e : entries) {
      if (e.identity.name == c.name) return bad(absl::StrCat("name \"", c.name, "\" is used twice"));
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

absl::StatusOr<std::unique_ptr<TokenFile>> TokenFile::Open(const std::string& path, Clock* clock) {
  std::unique_ptr<TokenFile> auth(new TokenFile(path, clock));
  absl::Status s = auth->Load();
  if (!s.ok()) return s;
  return auth;
}

absl::Status TokenFile::Load() {
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

void TokenFile::MaybeReload() {
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

absl::StatusOr<Identity> TokenFile::Authenticate(absl::string_view header) {
  MaybeReload();
  if (header.empty()) {
    return absl::UnauthenticatedError("missing Authorization: Bearer token");
  }
  absl::string_view token = header;
  if (!absl::ConsumePrefix(&token, "Bearer ") || absl::StripAsciiWhitespace(token).empty()) {
    return absl::UnauthenticatedError("Authorization must be \"Bearer <token>\"");
  }
  const std::string digest = hash::Sha256::Of(absl::StripAsciiWhitespace(token));
  absl::MutexLock lock(&mu_);
  const Identity* found = nullptr;
  for (const Entry& e : entries_) {  // no early exit
    if (!e.sha256.empty() && ConstantTimeEquals(e.sha256, digest)) found = &e.identity;
  }
  if (found == nullptr) return absl::UnauthenticatedError("unknown token");
  return *found;
}

std::optional<Identity> TokenFile::ByCertificate(absl::string_view common_name) {
  MaybeReload();
  absl::MutexLock lock(&mu_);
  for (const Entry& e : entries_) {
    if (!e.certificate.empty() && e.certificate == common_name) return e.identity;
  }
  return std::nullopt;
}

std::optional<Identity> TokenFile::ByName(absl::string_view name) {
  MaybeReload();
  absl::MutexLock lock(&mu_);
  for (const Entry& e : entries_) {
    if (e.identity.name == name) return e.identity;
  }
  return std::nullopt;
}

}  // namespace arca::auth
