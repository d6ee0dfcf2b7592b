#ifndef ARCA_COMMON_INIT_H_
#define ARCA_COMMON_INIT_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace arca {

// Parses flags (--help lists the program's own flags, from its main.cc and
// the project's files), names the program for logging, and returns the
// positional arguments, argv[0] first.
std::vector<char*> InitProgram(int argc, char** argv, absl::string_view program,
                               absl::string_view usage);

}  // namespace arca

#endif  // ARCA_COMMON_INIT_H_
