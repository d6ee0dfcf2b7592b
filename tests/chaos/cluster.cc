#include "tests/chaos/cluster.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/rpc/status.h"
#include "common/hash/sha256.h"
#include "common/time_util.h"
#include "grpcpp/grpcpp.h"
#include "services/gateway/http_test_client.h"

namespace arca::chaos {

namespace cat = ::arca::catalog::v1;
namespace cv1 = ::arca::collector::v1;

Service::Service(std::string name, std::string binary, std::vector<std::string> flags,
                 std::string log_dir)
    : name_(std::move(name)),
      binary_(std::move(binary)),
      log_path_(absl::StrCat(log_dir, "/", name_, ".log")),
      flags_(std::move(flags)) {}

absl::Status Service::Start() {
  std::vector<std::string> argv = {binary_,
                                   "--listen=" + (address_.empty() ? "127.0.0.1:0" : address_),
                                   "--metrics_listen="};
  argv.insert(argv.end(), flags_.begin(), flags_.end());
  process_ = std::make_unique<testing::Subprocess>();
  if (absl::Status s = process_->Start(argv, log_path_); !s.ok()) return s;
  // "... listening on HOST:PORT[ (TLS)][ metrics on HOST:PORT]"
  auto line = process_->WaitForLine(" listening on ", absl::Seconds(60));
  if (!line.ok()) {
    return absl::UnavailableError(absl::StrCat(name_, " did not start: ", line.status().message()));
  }
  address_ = line->substr(0, line->find(' '));
  if (size_t at = line->find(" metrics on "); at != std::string::npos) {
    metrics_address_ = line->substr(at + 12);
    metrics_address_ = metrics_address_.substr(0, metrics_address_.find(' '));
  }
  return absl::OkStatus();
}

void Service::Kill() {
  if (process_ == nullptr) return;
  process_->Signal(SIGKILL);
  process_->Wait(absl::Seconds(30));
  process_.reset();
}

bool Service::Stop() {
  if (process_ == nullptr) return true;
  process_->Signal(SIGTERM);
  const int status = process_->Wait(absl::Seconds(30));
  process_.reset();
  return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool Service::Running() {
  return process_ != nullptr && process_->pid() > 0 && waitpid(process_->pid(), nullptr, WNOHANG) == 0;
}

int Service::port() const {
  int port = 0;
  (void)absl::SimpleAtoi(address_.substr(address_.rfind(':') + 1), &port);
  return port;
}

namespace {

// A field of /proc/<pid>/status ("VmRSS:", "Threads:"), its first number.
int64_t ProcStatus(pid_t pid, const std::string& field) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) != 0) continue;
    int64_t n = 0;
    std::string digits;
    for (char c : line.substr(field.size())) {
      if (c >= '0' && c <= '9') digits += c;
      else if (!digits.empty()) break;
    }
    (void)absl::SimpleAtoi(digits, &n);
    return n;
  }
  return 0;
}

}  // namespace

int64_t Service::ResidentBytes() const {
  return process_ == nullptr ? 0 : ProcStatus(process_->pid(), "VmRSS:") * 1024;
}

int Service::Threads() const {
  return process_ == nullptr ? 0 : static_cast<int>(ProcStatus(process_->pid(), "Threads:"));
}

ScratchDir::ScratchDir(const std::string& what) {
  std::string tmpl = absl::StrCat(std::filesystem::temp_directory_path().string(), "/arca-chaos-",
                                  what, "-XXXXXX");
  path_ = mkdtemp(tmpl.data());
}

ScratchDir::~ScratchDir() {
  if (getenv("ARCA_CHAOS_KEEP") != nullptr) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

namespace {

// A channel that finds a restarted server again within half a second.
std::shared_ptr<grpc::Channel> Channel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

}  // namespace

std::unique_ptr<cat::Catalog::Stub> CatalogStub(const std::string& address) {
  return cat::Catalog::NewStub(Channel(address));
}

std::unique_ptr<cv1::Collector::Stub> CollectorStub(const std::string& address) {
  return cv1::Collector::NewStub(Channel(address));
}

std::unique_ptr<retention::v1::RetentionGc::Stub> RetentionStub(const std::string& address) {
  return retention::v1::RetentionGc::NewStub(Channel(address));
}

std::unique_ptr<grpc::ClientContext> Deadline(absl::Duration timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  context->set_wait_for_ready(true);  // a server restarting is waited for
  return context;
}

absl::Status Upload(cv1::Collector::Stub& collector, const std::string& job,
                    const std::vector<std::pair<std::string, std::string>>& files,
                    absl::Duration timeout) {
  auto context = Deadline(timeout);
  cv1::UploadResponse response;
  auto writer = collector.Upload(context.get(), &response);
  cv1::UploadRequest m;
  m.mutable_manifest()->set_job_id(job);
  bool open = writer->Write(m);
  for (const auto& [path, bytes] : files) {
    if (!open) break;
    m.Clear();
    m.mutable_file()->set_path(path);
    m.mutable_file()->set_size(static_cast<int64_t>(bytes.size()));
    m.mutable_file()->set_sha256(hash::Sha256::Of(bytes));
    open = writer->Write(m);
    for (size_t at = 0; open && at < bytes.size(); at += 1 << 20) {
      m.Clear();
      m.set_chunk(bytes.substr(at, 1 << 20));
      open = writer->Write(m);
    }
  }
  if (open) {
    m.Clear();
    m.mutable_end();
    writer->Write(m);
    writer->WritesDone();
  }
  return rpc::FromGrpcStatus(writer->Finish());
}

absl::StatusOr<std::string> Download(cv1::Collector::Stub& collector, const std::string& job,
                                     const std::string& path) {
  auto context = Deadline(absl::Seconds(60));
  cv1::DownloadRequest request;
  request.set_job_id(job);
  request.set_path(path);
  auto reader = collector.Download(context.get(), request);
  std::string bytes;
  cv1::DownloadResponse m;
  while (reader->Read(&m)) bytes += m.chunk();
  absl::Status s = rpc::FromGrpcStatus(reader->Finish());
  if (!s.ok()) return s;
  return bytes;
}

absl::StatusOr<std::string> NewJob(cat::Catalog::Stub& catalog, const std::string& group,
                                   absl::Duration retention) {
  cat::CreateJobRequest request;
  request.mutable_job()->set_group(group);
  *request.mutable_job()->mutable_retention() = ToProtoDuration(retention);
  cat::CreateJobResponse response;
  absl::Status s =
      rpc::FromGrpcStatus(catalog.CreateJob(Deadline(absl::Seconds(10)).get(), request, &response));
  if (!s.ok()) return s;
  return response.job().id();
}

absl::StatusOr<std::vector<cat::ArtifactFile>> AllFiles(cat::Catalog::Stub& catalog,
                                                       const std::string& job) {
  std::vector<cat::ArtifactFile> out;
  cat::ListFilesRequest request;
  request.set_job_id(job);
  request.set_include_deleted(true);
  request.set_page_size(1000);
  for (;;) {
    cat::ListFilesResponse page;
    absl::Status s =
        rpc::FromGrpcStatus(catalog.ListFiles(Deadline(absl::Seconds(10)).get(), request, &page));
    if (!s.ok()) return s;
    out.insert(out.end(), page.files().begin(), page.files().end());
    if (page.next_page_token().empty()) return out;
    request.set_page_token(page.next_page_token());
  }
}

int CountFiles(const std::string& dir) {
  int n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    n += it->is_regular_file() && it->path().parent_path().filename() != "sessions";
  }
  return n;
}

std::string Bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>('a' + rng() % 26);
  return out;
}

double ScrapeGauge(const std::string& address, const std::string& name) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port)) return -1;
  const int fd = gateway::Connect(port);
  if (fd < 0) return -1;
  gateway::SendAll(fd, gateway::Request("GET", "/metrics"));
  const gateway::Response r = gateway::ReadResponse(fd);
  close(fd);
  for (absl::string_view line : absl::StrSplit(r.body, '\n')) {
    if (!absl::ConsumePrefix(&line, name) || line.empty() || (line[0] != ' ' && line[0] != '{')) {
      continue;
    }
    double v = 0;
    if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &v)) return v;
  }
  return -1;
}

std::string Thousands(int64_t n) {
  std::string digits = absl::StrCat(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

}  // namespace arca::chaos
