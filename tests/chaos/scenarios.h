#ifndef ARCA_TESTS_CHAOS_SCENARIOS_H_
#define ARCA_TESTS_CHAOS_SCENARIOS_H_

#include <string>

#include "tests/chaos/cluster.h"

namespace arca::chaos {

// What a scenario found: one line with its figures, and whether every
// check held.
struct Outcome {
  bool ok = true;
  std::string line;
  // Records a failed check (the line keeps the first).
  void Fail(const std::string& why) {
    if (ok) line = why;
    ok = false;
  }
};

// How hard to push: 1 in CI, more with --long.
struct Scale {
  int factor = 1;
};

// kills.cc: SIGKILL under load, then an expected-state check.
Outcome CatalogKills(const Bins& bins, Scale scale);
Outcome CollectorKills(const Bins& bins, Scale scale);
// The same with the blobs in an S3 bucket (ARCA_S3_ENDPOINT and the AWS_*
// credentials, as tests/s3/with_ceph.sh sets them): big files go up in
// parts, and what killed collectors leave is swept as abandoned uploads.
Outcome S3CollectorKills(const Bins& bins, Scale scale);
Outcome RetentionKills(const Bins& bins, Scale scale);
Outcome S3RetentionKills(const Bins& bins, Scale scale);

// disk.cc: a disk that fills (a tmpfs; needs root).
Outcome DiskFull(const Bins& bins, Scale scale);

// stalls.cc: clients that stop reading or sending.
Outcome StalledDownloaders(const Bins& bins, Scale scale);
Outcome StalledUploads(const Bins& bins, Scale scale);

// inputs.cc: the symlink race and hostile HTTP.
Outcome SymlinkRace(const Bins& bins, Scale scale);
Outcome HostileInputs(const Bins& bins, Scale scale);

}  // namespace arca::chaos

#endif  // ARCA_TESTS_CHAOS_SCENARIOS_H_
