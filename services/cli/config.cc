#include "services/cli/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"

namespace arca::cli {
namespace {

// The context's fields by their names in the file.
std::string* Field(Context& c, absl::string_view key) {
  if (key == "catalog") return &c.catalog;
  if (key == "collector") return &c.collector;
  if (key == "retention_gc") return &c.retention_gc;
  if (key == "scheduler_attribute") return &c.scheduler_attribute;
  if (key == "token") return &c.token;
  if (key == "tls_ca") return &c.tls_ca;
  if (key == "tls_client_cert") return &c.tls_client_cert;
  if (key == "tls_client_key") return &c.tls_client_key;
  return nullptr;
}

constexpr const char* kFields[] = {"catalog", "collector", "retention_gc", "scheduler_attribute",
                                   "token",   "tls_ca",    "tls_client_cert", "tls_client_key"};

absl::Status MakeFolders(const std::string& path) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    const std::string folder = path.substr(0, slash);
    if (mkdir(folder.c_str(), 0700) != 0 && errno != EEXIST) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot make ", folder, ": ", std::strerror(errno)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

const Context* Config::Find(const std::string& name) const {
  for (const Context& c : contexts) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

void Config::Put(Context context) {
  for (Context& c : contexts) {
    if (c.name == context.name) {
      c = std::move(context);
      return;
    }
  }
  contexts.push_back(std::move(context));
}

bool Config::Remove(const std::string& name) {
  for (auto it = contexts.begin(); it != contexts.end(); ++it) {
    if (it->name == name) {
      contexts.erase(it);
      if (current == name) current.clear();
      return true;
    }
  }
  return false;
}

std::string ConfigPath() {
  if (const char* path = std::getenv("ARCA_CONFIG"); path != nullptr && *path != '\0') return path;
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg == '/') {
    return absl::StrCat(xdg, "/arca/config");
  }
  const char* home = std::getenv("HOME");
  return absl::StrCat(home != nullptr ? home : "", "/.config/arca/config");
}

absl::StatusOr<Config> LoadConfig(const std::string& path) {
  Config config;
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return config;
    return absl::PermissionDeniedError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  std::string line;
  Context* context = nullptr;
  for (int number = 1; std::getline(in, line); ++number) {
    const absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty() || text[0] == '#') continue;
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat(path, " line ", number, ": ", why));
    };
    if (absl::string_view name = text; absl::ConsumePrefix(&name, "[context ")) {
      name = absl::StripAsciiWhitespace(name);
      if (!absl::ConsumeSuffix(&name, "]") || name.empty()) return bad("want [context NAME]");
      if (config.Find(std::string(name)) != nullptr) {
        return bad(absl::StrCat("context \"", name, "\" appears twice"));
      }
      context = &config.contexts.emplace_back();
      context->name = std::string(name);
      continue;
    }
    const size_t eq = text.find('=');
    if (eq == absl::string_view::npos) return bad("want KEY = VALUE");
    const absl::string_view key = absl::StripAsciiWhitespace(text.substr(0, eq));
    const std::string value(absl::StripAsciiWhitespace(text.substr(eq + 1)));
    if (context == nullptr) {
      if (key != "current") return bad(absl::StrCat("unknown setting \"", key, "\""));
      config.current = value;
      continue;
    }
    std::string* field = Field(*context, key);
    if (field == nullptr) return bad(absl::StrCat("unknown context setting \"", key, "\""));
    *field = value;
  }
  return config;
}

absl::Status SaveConfig(const std::string& path, const Config& config) {
  RETURN_IF_ERROR(MakeFolders(path));
  std::ostringstream text;
  text << "# Arca CLI contexts, written by `arca login`. Holds tokens: keep it private.\n";
  if (!config.current.empty()) text << "current = " << config.current << "\n";
  for (const Context& c : config.contexts) {
    text << "\n[context " << c.name << "]\n";
    Context copy = c;
    for (const char* key : kFields) {
      if (const std::string* value = Field(copy, key); !value->empty()) {
        text << key << " = " << *value << "\n";
      }
    }
  }
  const std::string tmp = path + ".tmp";
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot write ", tmp, ": ", std::strerror(errno)));
  }
  const std::string data = text.str();
  const bool written = fchmod(fd, 0600) == 0 &&
                       write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) &&
                       fsync(fd) == 0;
  const int saved = errno;
  close(fd);
  if (!written || rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = written ? errno : saved;
    unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat("cannot write ", path, ": ", std::strerror(err)));
  }
  return absl::OkStatus();
}

}  // namespace arca::cli
