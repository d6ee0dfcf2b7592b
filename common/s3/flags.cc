#include "common/s3/flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, s3_endpoint, "",
          "scheme://host[:port] of a non-AWS S3 endpoint (MinIO, Ceph RGW), addressed "
          "path-style; empty: AWS S3");

ABSL_FLAG(bool, s3_create_bucket, false,
          "create the S3 bucket this program uses if it does not exist (for local and test "
          "setups)");

namespace arca::s3 {

std::string EndpointFlag() { return absl::GetFlag(FLAGS_s3_endpoint); }
bool CreateBucketFlag() { return absl::GetFlag(FLAGS_s3_create_bucket); }

}  // namespace arca::s3
