// Arca's chaos suite: the real binaries, killed under load, on a disk that
// fills, behind clients that stall, fed hostile input. One line per
// scenario with its figures; exits 1 if any check failed.
//
// Usage: chaos BIN_DIR [--long] [--s3] [--only=NAME[,NAME...]]
//   --s3: the scenarios with blobs in an S3 bucket instead (run under
//   tests/s3/with_ceph.sh)

#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/chaos/scenarios.h"

int main(int argc, char** argv) {
  using namespace arca::chaos;
  signal(SIGPIPE, SIG_IGN);
  Bins bins;
  Scale scale;
  std::vector<std::string> only;
  bool s3 = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--long") {
      scale.factor = 4;
    } else if (arg == "--s3") {
      s3 = true;
    } else if (absl::StartsWith(arg, "--only=")) {
      only = absl::StrSplit(arg.substr(7), ',');
    } else if (bins.dir.empty() && arg[0] != '-') {
      bins.dir = arg;
    } else {
      std::fprintf(stderr, "usage: chaos BIN_DIR [--long] [--s3] [--only=NAME[,NAME...]]\n");
      return 2;
    }
  }
  if (bins.dir.empty()) {
    std::fprintf(stderr, "usage: chaos BIN_DIR [--long] [--s3] [--only=NAME[,NAME...]]\n");
    return 2;
  }
  struct Entry {
    const char* name;
    Outcome (*run)(const Bins&, Scale);
    bool s3 = false;
  };
  const Entry scenarios[] = {
      {"catalog-kills", CatalogKills},       {"collector-kills", CollectorKills},
      {"retention-kills", RetentionKills},   {"disk-full", DiskFull},
      {"stalled-downloads", StalledDownloaders}, {"stalled-uploads", StalledUploads},
      {"symlink-race", SymlinkRace},         {"hostile-inputs", HostileInputs},
      {"s3-collector-kills", S3CollectorKills, /*s3=*/true},
      {"s3-retention-kills", S3RetentionKills, /*s3=*/true},
  };
  int failed = 0;
  for (const Entry& e : scenarios) {
    if (e.s3 != s3) continue;
    if (!only.empty() && std::find(only.begin(), only.end(), e.name) == only.end()) continue;
    const absl::Time start = absl::Now();
    Outcome outcome = e.run(bins, scale);
    std::printf("%s %-18s %s (%.0f s)\n", outcome.ok ? "PASS" : "FAIL", e.name,
                outcome.line.c_str(), absl::ToDoubleSeconds(absl::Now() - start));
    std::fflush(stdout);
    failed += !outcome.ok;
  }
  return failed == 0 ? 0 : 1;
}
