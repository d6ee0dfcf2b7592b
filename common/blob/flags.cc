#include "common/blob/flags.h"

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "common/s3/client.h"
#include "common/s3/flags.h"
#include "common/status_macros.h"

ABSL_FLAG(std::string, blob_store, "",
          "blobs in an S3-compatible object store, s3://BUCKET[/PREFIX], instead of --blob_dir; "
          "credentials and region from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, "
          "AWS_SESSION_TOKEN and AWS_REGION");

namespace arca::blob {

bool BlobStoreFlagSet() { return !absl::GetFlag(FLAGS_blob_store).empty(); }

absl::StatusOr<std::unique_ptr<BlobStore>> OpenBlobStoreFromFlags(const std::string& blob_dir) {
  const std::string store = absl::GetFlag(FLAGS_blob_store);
  if (store.empty()) {
    if (blob_dir.empty()) return std::unique_ptr<BlobStore>();
    return OpenLocalBlobStore(blob_dir);
  }
  const absl::CommandLineFlag* dir_flag = absl::FindCommandLineFlag("blob_dir");
  // (A --blob_dir other than its default was given; this abseil keeps
  // "given at all" to itself.)
  if (dir_flag != nullptr && dir_flag->CurrentValue() != dir_flag->DefaultValue()) {
    return absl::InvalidArgumentError(
        "--blob_store and --blob_dir name two places for the same blobs; give one");
  }
  if (s3::CreateBucketFlag()) {
    ASSIGN_OR_RETURN(s3::Location where, s3::ParseUrl(store));
    s3::Config config;
    config.endpoint = s3::EndpointFlag();
    config.bucket = where.bucket;
    RETURN_IF_ERROR(s3::ConfigFromEnvironment(&config));
    RETURN_IF_ERROR(s3::Client(config).CreateBucket());
  }
  return OpenS3BlobStore(store, s3::EndpointFlag());
}

}  // namespace arca::blob
