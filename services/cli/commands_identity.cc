// arca login, logout, context, whoami and health.

#include "common/version.h"
#include "services/cli/runner.h"

namespace arca::cli {

absl::StatusOr<v1::WhoAmIResponse> Runner::Who() {
  ASSIGN_OR_RETURN(v1::WhoAmIResponse who, Catalog().WhoAmI(v1::WhoAmIRequest()));
  return who;
}

void Runner::PrintWho(const v1::WhoAmIResponse& who) {
  if (options_.json) return Emit(who);
  if (!who.authenticated()) {
    out_ << "the catalog at " << options_.catalog
         << " checks no tokens: every caller may read and change everything\n";
    return;
  }
  const std::string groups = who.all_groups() ? "* (all)" : absl::StrJoin(who.groups(), ",");
  out_ << "name:   " << who.name() << "\n"
       << "groups: " << (groups.empty() ? "-" : groups) << "\n"
       << "level:  " << Word(who.privacy_level())
       << "\n"
       << "role:   " << who.role() << "\n";
}

absl::Status Runner::WhoAmI() {
  ASSIGN_OR_RETURN(v1::WhoAmIResponse who, Who());
  PrintWho(who);
  return absl::OkStatus();
}

absl::Status Runner::Login(const std::string& name) {
  auto who = Who();
  if (absl::IsUnauthenticated(who.status())) {
    return absl::UnauthenticatedError(absl::StrCat(
        who.status().message(),
        "; give the token with --with_token (read from standard input), --token_file or "
        "$ARCA_TOKEN"));
  }
  RETURN_IF_ERROR(who.status());
  ASSIGN_OR_RETURN(Config config, LoadConfig(ConfigFile()));
  cli::Context context;
  context.name = name;
  context.catalog = options_.catalog;
  context.collector = options_.collector;
  context.retention_gc = options_.retention_gc;
  context.scheduler_attribute = options_.scheduler_attribute;
  context.token = options_.security.token;
  context.tls_ca = options_.security.ca;
  context.tls_client_cert = options_.security.cert;
  context.tls_client_key = options_.security.key;
  config.Put(std::move(context));
  config.current = name;
  RETURN_IF_ERROR(SaveConfig(ConfigFile(), config));
  if (options_.json) return Emit(*who), absl::OkStatus();
  out_ << "logged in to " << options_.catalog << "; context \"" << name << "\" is current\n";
  PrintWho(*who);
  return absl::OkStatus();
}

absl::Status Runner::Logout(std::string name) {
  ASSIGN_OR_RETURN(Config config, LoadConfig(ConfigFile()));
  if (name.empty()) name = config.current;
  if (name.empty()) return absl::FailedPreconditionError("no current context to log out of");
  if (!config.Remove(name)) return NoContext(name);
  RETURN_IF_ERROR(SaveConfig(ConfigFile(), config));
  Say(absl::StrCat("logged out of context \"", name, "\"\n"), {{"loggedOut", name}});
  return absl::OkStatus();
}

absl::Status Runner::ContextList() {
  ASSIGN_OR_RETURN(Config config, LoadConfig(ConfigFile()));
  if (options_.json) {  // never the token itself
    nlohmann::json list = nlohmann::json::array();
    for (const cli::Context& c : config.contexts) {
      list.push_back({{"name", c.name}, {"current", c.name == config.current}, {"catalog", c.catalog},
                      {"token", !c.token.empty()}, {"tls", !c.tls_ca.empty()}, {"mtls", !c.tls_client_cert.empty()}});
    }
    Emit(list);
    return absl::OkStatus();
  }
  Table t({"CURRENT", "NAME", "CATALOG", "TOKEN", "TLS"});
  for (const cli::Context& c : config.contexts) {
    t.Add({c.name == config.current ? "*" : "", c.name, c.catalog, c.token.empty() ? "-" : "yes",
           c.tls_ca.empty() ? "-" : (c.tls_client_cert.empty() ? "yes" : "mTLS")});
  }
  t.Print(out_);
  return absl::OkStatus();
}

absl::Status Runner::ContextUse(const std::string& name) {
  ASSIGN_OR_RETURN(Config config, LoadConfig(ConfigFile()));
  if (config.Find(name) == nullptr) return NoContext(name);
  config.current = name;
  RETURN_IF_ERROR(SaveConfig(ConfigFile(), config));
  Say(absl::StrCat("context \"", name, "\" is current\n"), {{"current", name}});
  return absl::OkStatus();
}

absl::Status Runner::Health() {
  const std::string target = options_.target.empty() ? options_.catalog : options_.target;
  RETURN_IF_ERROR(rpc::CheckHealth(Channel(target), options_.service,
                              absl::Seconds(options_.timeout_seconds)));
  Say(absl::StrCat(target, " SERVING\n"), {{"target", target}, {"service", options_.service}, {"status", "serving"}});
  return absl::OkStatus();
}

absl::Status Runner::Version() {
  // Each service's own, as its answers carry it; "" if it cannot be asked.
  nlohmann::json services = nlohmann::json::array();
  for (const auto& [name, address] :
       std::vector<std::pair<const char*, std::string>>{{"catalog", options_.catalog},
                                                        {"collector", options_.collector},
                                                        {"retention-gc", options_.retention_gc},
                                                        {"scheduler-attribute", options_.scheduler_attribute}}) {
    std::string version;
    const absl::Status s =
        rpc::CheckHealth(Channel(address), "", absl::Seconds(std::min(options_.timeout_seconds, 2.0)), &version);
    services.push_back({{"name", name}, {"address", address}, {"version", s.ok() ? version : ""},
                        {"reachable", s.ok()}});
  }
  if (options_.json) {
    Emit(nlohmann::json{{"client", kVersion}, {"services", services}});
    return absl::OkStatus();
  }
  out_ << "arca " << kVersion << "\n";
  Table t({"SERVICE", "ADDRESS", "VERSION"});
  for (const auto& s : services) {
    t.Add({s["name"], s["address"], s["reachable"] ? s["version"].get<std::string>() : "not reachable"});
  }
  t.Print(out_);
  return absl::OkStatus();
}

}  // namespace arca::cli
