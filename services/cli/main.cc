// arca: the command line over Arca's gRPC contracts. See `arca --help`.

#include <iostream>
#include <string>
#include <vector>

#include "common/memory.h"
#include "services/cli/cli.h"

int main(int argc, char** argv) {
  arca::KeepFreedMemoryForReuse();
  return arca::cli::Main(std::vector<std::string>(argv + 1, argv + argc), std::cout, std::cerr,
                         std::cin);
}
