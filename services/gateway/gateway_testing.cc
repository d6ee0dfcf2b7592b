#include "services/gateway/gateway_testing.h"

#include <fstream>

namespace arca::gateway {

std::string WriteTokens(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

}  // namespace arca::gateway
