// Attackers' inputs: a job that swaps a directory for a link out of its
// artifacts folder while `arca collect` walks it, and HTTP requests built to
// crash, smuggle or exhaust.

#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/hash/sha256.h"
#include "services/gateway/http_test_client.h"
#include "tests/chaos/scenarios.h"

namespace arca::chaos {
namespace {

void Write(const std::string& path, const std::string& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

// Runs argv to its end, its output dropped; its exit code (-1 if it could
// not run).
int Run(const std::vector<std::string>& argv) {
  std::vector<std::string> shell = {"/bin/sh", "-c", "exec \"$@\" >/dev/null 2>&1", "sh"};
  shell.insert(shell.end(), argv.begin(), argv.end());
  testing::Subprocess p;
  if (!p.Start(shell).ok()) return -1;
  const int status = p.Wait(absl::Seconds(60));
  return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Sends raw bytes; everything the gateway answers until it closes.
std::string Raw(int port, const std::string& bytes) {
  const int fd = gateway::Connect(port);
  gateway::SendAll(fd, bytes);
  std::string got = gateway::ReadUntilClosed(fd);
  close(fd);
  return got;
}

int Status(const std::string& response) {
  return response.size() > 12 ? std::atoi(response.substr(9, 3).c_str()) : 0;
}

}  // namespace

Outcome SymlinkRace(const Bins& bins, Scale scale) {
  ScratchDir dir("symlink");
  Service catalog("catalog", bins.Path("arca-catalog"),
                  {"--data_dir=" + dir.path() + "/db", "--min_free_bytes=0", "--reserve_bytes=0"},
                  dir.path());
  if (absl::Status s = catalog.Start(); !s.ok()) return {false, std::string(s.message())};
  Service collector("collector", bins.Path("arca-collector"),
                    {"--catalog=" + catalog.address(), "--blob_dir=" + dir.path() + "/blobs"},
                    dir.path());
  if (absl::Status s = collector.Start(); !s.ok()) return {false, std::string(s.message())};
  auto stub = CatalogStub(catalog.address());

  const std::string secret = "root:x:0:0:read from outside the artifacts folder\n";
  const std::string root = dir.path() + "/job/artifacts";
  Write(dir.path() + "/outside/passwd", secret);
  Write(dir.path() + "/outside/deeper/passwd", secret);
  Write(root + "/sub/passwd", "harmless\n");
  Write(root + "/sub/deeper/passwd", "harmless too\n");
  Write(root + "/result.csv", "a,b\n1,2\n");
  std::filesystem::create_symlink(dir.path() + "/outside", root + "/swap");
  const std::string a = root + "/sub", b = root + "/swap";
  std::atomic<bool> stop{false};
  std::thread swapper([&] {
    while (!stop) renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE);
  });
  const int collects = 100 * scale.factor;
  std::vector<std::string> jobs;
  int committed = 0, refused = 0;
  for (int i = 0; i < collects; ++i) {
    auto job = NewJob(*stub, "chaos");
    if (!job.ok()) continue;
    jobs.push_back(*job);
    const int code = Run({bins.Path("arca"), "--catalog=" + catalog.address(),
                          "--collector=" + collector.address(), "collect", root, "--job=" + *job});
    (code == 0 ? committed : refused)++;
  }
  stop = true;
  swapper.join();
  int escapes = 0;
  const std::string secret_sha = hash::Sha256::Of(secret);
  for (const std::string& job : jobs) {
    auto files = AllFiles(*stub, job);
    if (!files.ok()) continue;
    for (const auto& f : *files) escapes += f.sha256() == secret_sha;
  }
  Outcome out;
  out.line = absl::StrCat("symlink swapped during arca collect x", collects, ": ", escapes,
                          " escapes (", committed, " committed, ", refused,
                          " refused: the folder changed while it was read)");
  if (escapes > 0 || committed == 0) out.ok = false;
  collector.Stop();
  catalog.Stop();
  return out;
}

Outcome HostileInputs(const Bins& bins, Scale scale) {
  ScratchDir dir("hostile");
  Service catalog("catalog", bins.Path("arca-catalog"),
                  {"--data_dir=" + dir.path() + "/db", "--min_free_bytes=0", "--reserve_bytes=0"},
                  dir.path());
  if (absl::Status s = catalog.Start(); !s.ok()) return {false, std::string(s.message())};
  Service gateway_service("gateway", bins.Path("arca-gateway"),
                          {"--catalog=" + catalog.address(), "--collector=127.0.0.1:1",
                           "--retention_gc=127.0.0.1:1", "--scheduler_attribute=127.0.0.1:1"},
                          dir.path());
  if (absl::Status s = gateway_service.Start(); !s.ok()) return {false, std::string(s.message())};
  const int port = gateway_service.port();
  const std::string deep = absl::StrCat(std::string(100000, '['), std::string(100000, ']'));
  std::string aliases = "{";
  for (int i = 0; i < 198; ++i) {
    absl::StrAppend(&aliases, " a", i, ": phJobs(limit: 1000) { items { artifact { items { name } } } }");
  }
  aliases += " }";
  // Each on a connection the gateway closes after answering.
  auto post = [](const std::string& target, const std::string& body) {
    return gateway::Request("POST", target, body,
                            {{"Content-Type", "application/json"}, {"Connection", "close"}});
  };
  struct Attack {
    const char* what;
    std::string bytes;
    int expected;
  };
  const std::vector<Attack> attacks = {
      {"JSON body nested 100,000 deep",
       post("/api/v1/jobArtifacts", absl::StrCat(R"({"name":"x","version":"1","tags":{"a":)", deep, "}}")),
       400},
      {"GraphQL variables nested 100,000 deep",
       post("/graphql", absl::StrCat(R"({"query":"query($x: String) { __typename }","variables":{"x":)",
                                     deep, "}}")),
       400},
      {"GraphQL query of 198 aliased job listings",
       post("/graphql", absl::StrCat(R"({"query":")", aliases, R"("})")), 400},
      {"Transfer-Encoding: xchunked with a smuggled request",
       "POST /api/v1/jobArtifacts HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n"
       "GET /api/v1/job HTTP/1.1\r\nHost: x\r\n\r\n",
       400},
      {"a path that is not UTF-8",
       gateway::Request("GET", "/api/v1/job/%ff%fe", "", {{"Connection", "close"}}), 400},
      {"headers of 64 KiB", gateway::Request("GET", "/healthz", "", {{"X-Big", std::string(64 << 10, 'h')}}),
       431},
  };
  Outcome out;
  int answered = 0;
  for (int round = 0; round < scale.factor; ++round) {
    for (const Attack& attack : attacks) {
      const std::string got = Raw(port, attack.bytes);
      if (Status(got) != attack.expected) {
        out.Fail(absl::StrCat(attack.what, ": expected ", attack.expected, ", got \"",
                              got.substr(0, 120), "\""));
      } else if (absl::StrContains(got.substr(12), "HTTP/1.1 ")) {
        out.Fail(absl::StrCat(attack.what, ": a second response followed"));
      } else {
        ++answered;
      }
    }
  }
  const int fd = gateway::Connect(port);
  gateway::SendAll(fd, gateway::Request("GET", "/healthz"));
  const bool alive = gateway::ReadResponse(fd).status == 200 && gateway_service.Running();
  close(fd);
  if (!alive) out.Fail("the gateway stopped answering");
  if (out.ok) {
    out.line = absl::StrCat("hostile HTTP inputs x", answered,
                            " (deep JSON and GraphQL, a cost bomb, smuggling, bad UTF-8, huge "
                            "headers): each its 4xx, one response each, the gateway alive");
  }
  gateway_service.Stop();
  catalog.Stop();
  return out;
}

}  // namespace arca::chaos
