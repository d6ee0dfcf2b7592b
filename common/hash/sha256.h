#ifndef ARCA_COMMON_HASH_SHA256_H_
#define ARCA_COMMON_HASH_SHA256_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"

namespace arca::hash {

// Incremental SHA-256 (OpenSSL underneath).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  void Update(absl::string_view data);
  // Lowercase hex of the digest; the object is spent afterwards.
  std::string HexDigest();

  static std::string Of(absl::string_view data);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace arca::hash

#endif  // ARCA_COMMON_HASH_SHA256_H_
