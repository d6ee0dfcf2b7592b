#ifndef ARCA_COMMON_S3_FLAGS_H_
#define ARCA_COMMON_S3_FLAGS_H_

// --s3_endpoint and --s3_create_bucket, for every program that reaches an S3
// bucket.

#include <string>

namespace arca::s3 {

std::string EndpointFlag();
bool CreateBucketFlag();

}  // namespace arca::s3

#endif  // ARCA_COMMON_S3_FLAGS_H_
