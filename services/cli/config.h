#ifndef ARCA_SERVICES_CLI_CONFIG_H_
#define ARCA_SERVICES_CLI_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace arca::cli {

// Where and as whom the CLI talks to one Arca: the services' addresses, the
// token, and the TLS files (paths; empty: plaintext).
struct Context {
  std::string name;
  std::string catalog, collector, retention_gc, scheduler_attribute;
  std::string token;
  std::string tls_ca, tls_client_cert, tls_client_key;
};

// The CLI's contexts and which one is in use, as `arca login` stores them
// (like a kubeconfig). The file is text, one section per context:
//
//   current = prod
//
//   [context prod]
//   catalog = arca.example.com:7401
//   token = ...
//
// It holds tokens, so it is written with mode 0600 (its folder 0700).
struct Config {
  std::string current;
  std::vector<Context> contexts;

  const Context* Find(const std::string& name) const;
  // Adds the context, or replaces the one of the same name.
  void Put(Context context);
  // False if there was none of that name.
  bool Remove(const std::string& name);
};

// The config file: $ARCA_CONFIG, else $XDG_CONFIG_HOME/arca/config, else
// $HOME/.config/arca/config.
std::string ConfigPath();

// An empty Config when the file does not exist; INVALID_ARGUMENT (with the
// line) for one that is not in the format above.
absl::StatusOr<Config> LoadConfig(const std::string& path);

// Writes atomically (a temporary file renamed over it), mode 0600, making
// the folder (0700) when missing.
absl::Status SaveConfig(const std::string& path, const Config& config);

}  // namespace arca::cli

#endif  // ARCA_SERVICES_CLI_CONFIG_H_
