#ifndef ARCA_SERVICES_CLI_TRANSFER_H_
#define ARCA_SERVICES_CLI_TRANSFER_H_

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/fd.h"
#include "common/clients/collector.h"
#include "proto/collector/v1/collector.pb.h"

namespace arca::cli {

// 2.9 MiB, as the web page shows sizes; under 1 KiB in bytes.
std::string HumanSize(int64_t bytes);

// A transfer's progress, as `rclone -P` and curl show it: one line on a
// terminal, redrawn at most five times a second, with bytes, files, rate
// and time left. Silent when not enabled (stderr is not a terminal, or
// -q).
class Progress {
 public:
  Progress(std::ostream& out, bool enabled, const char* verb, int64_t total_bytes, int total_files);
  ~Progress() { Done(); }
  void Add(int64_t bytes);
  void FileDone();
  // Ends the line (once).
  void Done();

 private:
  void Draw(bool final);

  std::ostream& out_;
  const bool enabled_;
  const char* verb_;
  const int64_t total_bytes_;
  const int total_files_;
  int64_t bytes_ = 0;
  int files_ = 0;
  absl::Time start_ = absl::Now(), drawn_ = absl::InfinitePast();
  bool done_ = false;
};

// A file found in an artifacts folder.
struct FoundFile {
  std::string path;    // relative to the folder, '/'-separated
  std::string source;  // what is opened, relative to the folder (a symlink's target inside it)
  int64_t size = 0;
};

struct FolderScan {
  std::vector<FoundFile> files;  // sorted by path
  std::vector<collector::v1::SkippedFile> skipped;
  // The folder, opened once: every file is opened beneath it.
  std::shared_ptr<const UniqueFd> root;
};

// Walks an artifacts folder the way the collector expects: the folder itself
// may be a symlink; nothing that resolves outside it is read (a link out, a
// dangling link or a loop is skipped as symlink_escape); FIFOs, sockets and
// devices are skipped as not_regular; names starting with "." are skipped
// as hidden unless include_hidden. A folder that does not exist is empty.
// The walk goes by descriptor, each directory opened beneath its parent
// without following links, and the upload opens each file the same way
// beneath the folder, so a tree changed meanwhile (a directory swapped for
// a link out of the folder) can never make either read outside it.
// INVALID_ARGUMENT if a path cannot be an artifact path (not UTF-8, longer
// than 1,024 bytes, deeper than 64) or the folder is not a directory.
absl::StatusOr<FolderScan> ScanFolder(const std::string& folder, bool include_hidden);

// One extra file to send with an upload, e.g. a job log.
struct ExtraFile {
  std::string path;       // artifact path, e.g. ".arca/logs/job.log"
  std::string real_path;  // local file
};

// Streams the scan (plus extras) as one upload: manifest first, then every
// file in large reads, then the end marker. A file that shrinks or changes
// while being read, or can no longer be opened beneath the folder, aborts
// the upload (FAILED_PRECONDITION), so nothing is committed. The reply's
// digests are checked against what was read.
absl::StatusOr<collector::v1::UploadResponse> UploadFolder(
    clients::CollectorClient& collector,
    const collector::v1::UploadManifest& manifest, const FolderScan& scan,
    const std::vector<ExtraFile>& extras, absl::Duration timeout, Progress* progress = nullptr);

// Downloads a job's file to `out_path`, through `out_path`.part: a partial
// download left by an earlier attempt is resumed with a ranged request. The
// digest of the whole file is checked before it is renamed into place;
// DATA_LOSS if it does not match.
absl::Status DownloadFile(clients::CollectorClient& collector,
                          const std::string& job_id, const std::string& path,
                          const std::string& out_path, absl::Duration timeout,
                          Progress* progress = nullptr);

}  // namespace arca::cli

#endif  // ARCA_SERVICES_CLI_TRANSFER_H_
