#ifndef ARCA_COMMON_S3_CLIENT_H_
#define ARCA_COMMON_S3_CLIENT_H_

// A client of one bucket of an S3-compatible object store, over libcurl:
// the calls the blob store needs, each signed with SigV4, retried with
// backoff on 5xx, 429, timeouts and broken connections. Thread-safe;
// connections are kept and reused.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/s3/sigv4.h"

namespace arca::s3 {

struct Config {
  // scheme://host[:port] of an S3-compatible store, addressed path-style
  // (http://127.0.0.1:7480/BUCKET/KEY); empty: AWS S3 in `region`,
  // addressed by virtual host (https://BUCKET.s3.REGION.amazonaws.com/KEY).
  std::string endpoint;
  std::string bucket;
  std::string region = "us-east-1";
  Credentials credentials;
  // A PEM file of the certificate authorities to trust for an https
  // endpoint; empty: the system's.
  std::string ca_file;
  int max_attempts = 5;
  absl::Duration first_backoff = absl::Milliseconds(100);
  // The largest object one CopyObject copies (S3's limit); a larger one is
  // copied in parts of copy_part_bytes (UploadPartCopy).
  int64_t max_copy_bytes = int64_t{5} << 30;
  int64_t copy_part_bytes = int64_t{512} << 20;
};

// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, the
// region from AWS_REGION (or AWS_DEFAULT_REGION, else us-east-1) and the
// certificate authorities from AWS_CA_BUNDLE, into `config`.
// INVALID_ARGUMENT naming what is missing.
absl::Status ConfigFromEnvironment(Config* config);

// s3://BUCKET[/PREFIX]: the bucket, and the prefix ("" or ending in '/').
struct Location {
  std::string bucket;
  std::string prefix;
};
absl::StatusOr<Location> ParseUrl(absl::string_view url);

// User metadata: (name, value) pairs, sent as x-amz-meta-NAME headers;
// names in lower case. S3 allows 2 KiB of it per object.
using Metadata = std::vector<std::pair<std::string, std::string>>;

struct ObjectInfo {
  std::string key;
  int64_t size = 0;
  absl::Time modified;
  std::string etag;
  Metadata metadata;  // from Head only
};

struct MultipartUpload {
  std::string key;
  std::string upload_id;
  absl::Time initiated;
};

class Client {
 public:
  explicit Client(Config config);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const Config& config() const { return config_; }

  // Creates the bucket; one the caller already owns counts as success.
  absl::Status CreateBucket();
  // OK if the bucket answers to these credentials.
  absl::Status CheckBucket();

  // Stores `body` under `key`. With if_absent, the store is asked not to
  // replace an existing object (If-None-Match: *): ALREADY_EXISTS if there
  // is one, where the store honours the condition.
  absl::Status Put(absl::string_view key, absl::string_view body, bool if_absent = false,
                   const Metadata& metadata = {});
  // Reads [offset, offset + length) (to the end if length < 0), handing the
  // bytes to `sink` in order as they arrive; returns the object's size.
  // NOT_FOUND if absent; OUT_OF_RANGE if offset is past the end. A
  // connection that breaks is resumed where it broke.
  absl::StatusOr<int64_t> Get(absl::string_view key, int64_t offset, int64_t length,
                              const std::function<absl::Status(absl::string_view)>& sink);
  // Get into one string.
  absl::StatusOr<std::string> GetBytes(absl::string_view key, int64_t offset = 0,
                                       int64_t length = -1);
  // NOT_FOUND if absent.
  absl::StatusOr<ObjectInfo> Head(absl::string_view key);
  // Absent counts as success.
  absl::Status Delete(absl::string_view key);
  // Every object whose key starts with `prefix`, in key order.
  absl::Status List(absl::string_view prefix, const std::function<void(const ObjectInfo&)>& fn);
  // Copies `from` (of `size` bytes; < 0: unknown, asked for when needed)
  // to `to` inside the bucket, on the server, with `metadata` in place of
  // the source's if any is given. Onto itself, it marks the object as just
  // written (with `metadata`: keep the object's by passing it again).
  absl::Status Copy(absl::string_view from, absl::string_view to, const Metadata& metadata = {},
                    int64_t size = -1);

  // Multipart uploads: nothing is visible under the key until Complete.
  absl::StatusOr<std::string> StartMultipart(absl::string_view key, const Metadata& metadata = {});
  // Part numbers from 1; returns the part's ETag for Complete.
  absl::StatusOr<std::string> PutPart(absl::string_view key, absl::string_view upload_id,
                                      int part, absl::string_view body);
  absl::Status CompleteMultipart(absl::string_view key, absl::string_view upload_id,
                                 const std::vector<std::string>& etags);
  // An upload already gone counts as success.
  absl::Status AbortMultipart(absl::string_view key, absl::string_view upload_id);
  absl::Status ListMultipart(absl::string_view prefix,
                             const std::function<void(const MultipartUpload&)>& fn);

  // The file at `path` under `key`: one PUT up to 8 MiB, else a multipart
  // upload of 8 MiB parts read from the file one at a time.
  absl::Status PutFile(absl::string_view key, const std::string& path);
  // `key` into a new file at `path` (made with mode 0600).
  absl::Status GetFile(absl::string_view key, const std::string& path);

  // A URL that lets whoever holds it GET `key` until `expires` from now.
  std::string PresignGet(absl::string_view key, absl::Duration expires) const;

  // The request and what came back, for the implementation.
  struct Call;
  struct Reply;

 private:
  absl::StatusOr<Reply> Perform(Call& call);
  absl::StatusOr<Reply> Attempt(Call& call);
  absl::Status CopyInParts(absl::string_view from, absl::string_view to, const Metadata& metadata,
                           int64_t size);
  std::string Url(absl::string_view key) const;
  std::string PathOf(absl::string_view key) const;

  Config config_;
  std::string scheme_host_;  // scheme://host[:port]
  std::string host_;         // host[:port], as signed
  bool virtual_host_ = false;
  struct Pool;
  std::unique_ptr<Pool> pool_;
};

}  // namespace arca::s3

#endif  // ARCA_COMMON_S3_CLIENT_H_
