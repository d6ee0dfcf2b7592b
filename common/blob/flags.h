#ifndef ARCA_COMMON_BLOB_FLAGS_H_
#define ARCA_COMMON_BLOB_FLAGS_H_

// --blob_store (with --s3_endpoint and --s3_create_bucket, common/s3/flags.h),
// for every service that takes --blob_dir.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/blob/store.h"

namespace arca::blob {

// The store the flags name: --blob_store (s3://BUCKET[/PREFIX]) if set,
// else the local directory `blob_dir` (empty: none, nullptr).
// INVALID_ARGUMENT when --blob_store is given with a --blob_dir other than
// its default.
absl::StatusOr<std::unique_ptr<BlobStore>> OpenBlobStoreFromFlags(const std::string& blob_dir);

// Whether --blob_store is set.
bool BlobStoreFlagSet();

}  // namespace arca::blob

#endif  // ARCA_COMMON_BLOB_FLAGS_H_
