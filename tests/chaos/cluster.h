#ifndef ARCA_TESTS_CHAOS_CLUSTER_H_
#define ARCA_TESTS_CHAOS_CLUSTER_H_

// The chaos suite's view of Arca: the real binaries run as child processes
// on free loopback ports, killed and restarted at will, and what the suite
// checks them with.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/testing/subprocess.h"
#include "proto/catalog/v1/catalog.grpc.pb.h"
#include "proto/collector/v1/collector.grpc.pb.h"
#include "proto/retention/v1/retention.grpc.pb.h"

namespace arca::chaos {

// One service binary. Its stderr goes to <log_dir>/<name>.log; after its
// first start it is restarted on the same port, so clients find it again.
class Service {
 public:
  Service(std::string name, std::string binary, std::vector<std::string> flags,
          std::string log_dir);

  // Starts it and waits until it says where it listens.
  absl::Status Start();
  // SIGKILL, then reaps it.
  void Kill();
  // SIGTERM; false if it did not exit cleanly within 30 s.
  bool Stop();
  bool Running();

  const std::string& address() const { return address_; }
  int port() const;
  // Where it serves /metrics, when started with --metrics_listen=HOST:0.
  const std::string& metrics_address() const { return metrics_address_; }
  // From /proc: resident memory and thread count; 0 when not running.
  int64_t ResidentBytes() const;
  int Threads() const;
  const std::string& log_path() const { return log_path_; }

 private:
  std::string name_, binary_, log_path_;
  std::vector<std::string> flags_;
  std::string address_, metrics_address_;
  std::unique_ptr<testing::Subprocess> process_;
};

// The binaries' directory (build/bin), from the command line.
struct Bins {
  std::string dir;
  std::string Path(const std::string& name) const { return dir + "/" + name; }
};

// A scratch directory removed when the object goes (unless kept).
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& what);
  ~ScratchDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::unique_ptr<catalog::v1::Catalog::Stub> CatalogStub(const std::string& address);
std::unique_ptr<collector::v1::Collector::Stub> CollectorStub(const std::string& address);
std::unique_ptr<retention::v1::RetentionGc::Stub> RetentionStub(const std::string& address);

// A context whose deadline is `timeout` from now, waiting for a server
// that is restarting.
std::unique_ptr<grpc::ClientContext> Deadline(absl::Duration timeout);

// Uploads files (path -> bytes) to a job through the collector's stream,
// declaring each digest. The collector's answer, or its error.
absl::Status Upload(collector::v1::Collector::Stub& collector, const std::string& job,
                    const std::vector<std::pair<std::string, std::string>>& files,
                    absl::Duration timeout);

// Downloads a file whole; its bytes, or the error.
absl::StatusOr<std::string> Download(collector::v1::Collector::Stub& collector,
                                     const std::string& job, const std::string& path);

// Creates a job in `group`; its id.
absl::StatusOr<std::string> NewJob(catalog::v1::Catalog::Stub& catalog, const std::string& group,
                                   absl::Duration retention = absl::Hours(24 * 7));

// Every file of a job, deleted ones too.
absl::StatusOr<std::vector<catalog::v1::ArtifactFile>> AllFiles(
    catalog::v1::Catalog::Stub& catalog, const std::string& job);

// Regular files under dir (recursively), leaving out blob-store session
// locks.
int CountFiles(const std::string& dir);

// Bytes of `n` pseudo-random characters from `seed`.
std::string Bytes(size_t n, uint64_t seed);

// Thousands separated: 17878 -> "17,878".
std::string Thousands(int64_t n);

// A gauge's value in a Prometheus text exposition (GET http://address/metrics);
// -1 if it cannot be read.
double ScrapeGauge(const std::string& address, const std::string& name);

}  // namespace arca::chaos

#endif  // ARCA_TESTS_CHAOS_CLUSTER_H_
