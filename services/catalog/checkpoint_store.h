#ifndef ARCA_SERVICES_CATALOG_CHECKPOINT_STORE_H_
#define ARCA_SERVICES_CATALOG_CHECKPOINT_STORE_H_

// The catalog's checkpoints in an S3 bucket, and back: PREFIX/NAME/<file>
// for each file of the checkpoint, then PREFIX/NAME/COMPLETE listing them
// (a checkpoint without it was cut short and is never restored).

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/s3/client.h"

namespace arca::catalog {

class CheckpointStore {
 public:
  // `url` is s3://BUCKET[/PREFIX]; `endpoint` as --s3_endpoint; credentials
  // from the environment. The bucket must exist, unless create_bucket.
  static absl::StatusOr<std::unique_ptr<CheckpointStore>> Open(const std::string& url,
                                                               const std::string& endpoint,
                                                               bool create_bucket = false);

  // Uploads the checkpoint in `dir` as NAME, then deletes the oldest complete
  // checkpoints beyond `keep` (0: none). Returns where it went
  // (s3://BUCKET/PREFIX/NAME).
  absl::StatusOr<std::string> Ship(const std::string& dir, const std::string& name, int keep);
  // The complete checkpoints' names, oldest first (names are times, or the
  // caller's own: sorted as strings).
  absl::StatusOr<std::vector<std::string>> List();
  // Downloads checkpoint `name` ("latest": the newest complete one) into
  // `dir`, which must not exist; returns the name restored. NOT_FOUND if
  // there is no such complete checkpoint.
  absl::StatusOr<std::string> Restore(const std::string& name, const std::string& dir);

 private:
  CheckpointStore(s3::Config config, std::string url, std::string prefix)
      : client_(std::move(config)), url_(std::move(url)), prefix_(std::move(prefix)) {}

  s3::Client client_;
  const std::string url_;     // without a trailing '/'
  const std::string prefix_;  // "" or ending in '/'
};

}  // namespace arca::catalog

#endif  // ARCA_SERVICES_CATALOG_CHECKPOINT_STORE_H_
