// TLS on the services' listeners, with the real binaries: tokens over TLS,
// client certificates (mTLS) naming identities, a certificate renewed
// without a restart, and the refusal of an open address with neither TLS
// nor tokens.

#include <signal.h>
#include <sys/wait.h>

#include <cstdlib>
#include <vector>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/auth/security.h"
#include "common/hash/sha256.h"
#include "common/testing/subprocess.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/catalog/v1/catalog.grpc.pb.h"

namespace arca {
namespace {

namespace cat = ::arca::catalog::v1;

// Runs a shell script in `dir`; true if it succeeded.
bool Shell(const std::string& dir, const std::string& script) {
  testing::Subprocess p;
  if (!p.Start({"/bin/sh", "-ec", absl::StrCat("cd '", dir, "'\n", script)}).ok()) return false;
  const int status = p.Wait(absl::Seconds(60));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << p.output();
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// A CA `name` (name.pem, name.key) and certificates it signs.
bool MakeCa(const std::string& dir, const std::string& name) {
  return Shell(dir, absl::StrCat(
                        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ",
                        "-keyout ", name, ".key -out ", name, ".pem -subj /CN=", name,
                        " -days 2 2>/dev/null"));
}
// A certificate for `cn` (cn.pem, cn.key) signed by `ca`, good for
// 127.0.0.1 as a server and as a client.
bool MakeCert(const std::string& dir, const std::string& ca, const std::string& cn,
              const std::string& out) {
  return Shell(
      dir, absl::StrCat(
               "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ", out,
               ".key.new -out ", out, ".csr -subj /CN=", cn, " 2>/dev/null\n",
               "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > ", out, ".ext\n",
               "openssl x509 -req -in ", out, ".csr -CA ", ca, ".pem -CAkey ", ca,
               ".key -CAcreateserial -out ", out, ".pem.new -days 2 -extfile ", out,
               ".ext 2>/dev/null\n",
               // Replaced whole, key first, as a renewal would.
               "mv ", out, ".key.new ", out, ".key\nmv ", out, ".pem.new ", out, ".pem\n"));
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bin_ = std::getenv("ARCA_BIN_ARCA_CATALOG");
    ASSERT_NE(bin_, nullptr);
    char tmpl[] = "/tmp/arca-tls-XXXXXX";
    dir_ = mkdtemp(tmpl);
    ASSERT_TRUE(MakeCa(dir_, "ca"));
    ASSERT_TRUE(MakeCert(dir_, "ca", "catalog", "server"));
    ASSERT_TRUE(MakeCert(dir_, "ca", "collector-1", "client"));
    std::ofstream(dir_ + "/tokens") << absl::StrCat(
        "sha256:", hash::Sha256::Of("alice-token"), " team-a moderately_sensitive alice writer\n",
        "cert:collector-1 * highly_sensitive collector service\n");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Starts the catalog with these flags; its address, or "" if it did not.
  std::string StartCatalog(testing::Subprocess& p, std::vector<std::string> flags,
                           const std::string& listen = "127.0.0.1:0") {
    std::vector<std::string> argv = {bin_, "--listen=" + listen, "--metrics_listen=",
                                     "--data_dir=" + dir_ + "/db", "--min_free_bytes=0",
                                     "--reserve_bytes=0"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    EXPECT_TRUE(p.Start(argv).ok());
    auto address = p.WaitForListening(absl::Seconds(30));
    return address.ok() ? *address : "";
  }

  // WhoAmI over a channel with `security`: the name, or the error's code.
  std::string WhoAmI(const std::string& address, const auth::ClientSecurity& security) {
    auto channel = auth::SecureChannel(address, security, grpc::ChannelArguments());
    if (!channel.ok()) return std::string(channel.status().message());
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    cat::WhoAmIResponse who;
    grpc::Status s = cat::Catalog::NewStub(*channel)->WhoAmI(&context, cat::WhoAmIRequest(), &who);
    return s.ok() ? who.name() : absl::StrCat("code ", s.error_code());
  }

  const char* bin_ = nullptr;
  std::string dir_;
};

TEST_F(TlsTest, TokensTravelOverTlsAndPlaintextIsRefused) {
  testing::Subprocess catalog;
  const std::string address = StartCatalog(
      catalog, {"--tls_cert=" + dir_ + "/server.pem", "--tls_key=" + dir_ + "/server.key",
                "--tokens_file=" + dir_ + "/tokens"});
  ASSERT_FALSE(address.empty()) << catalog.output();
  EXPECT_EQ(WhoAmI(address, {"alice-token", dir_ + "/ca.pem", "", ""}), "alice");
  EXPECT_EQ(WhoAmI(address, {"", dir_ + "/ca.pem", "", ""}), "code 16");  // UNAUTHENTICATED
  EXPECT_EQ(WhoAmI(address, {"alice-token", "", "", ""}), "code 14");    // plaintext: UNAVAILABLE
  // A CA the server's certificate does not come from.
  ASSERT_TRUE(MakeCa(dir_, "other"));
  EXPECT_EQ(WhoAmI(address, {"alice-token", dir_ + "/other.pem", "", ""}), "code 14");
}

TEST_F(TlsTest, AClientCertificateNamesItsIdentity) {
  testing::Subprocess catalog;
  const std::string address = StartCatalog(
      catalog, {"--tls_cert=" + dir_ + "/server.pem", "--tls_key=" + dir_ + "/server.key",
                "--tls_client_ca=" + dir_ + "/ca.pem", "--tokens_file=" + dir_ + "/tokens"});
  ASSERT_FALSE(address.empty()) << catalog.output();
  EXPECT_EQ(WhoAmI(address, {"", dir_ + "/ca.pem", dir_ + "/client.pem", dir_ + "/client.key"}),
            "collector");
  // Without a certificate there is no connection at all.
  EXPECT_EQ(WhoAmI(address, {"alice-token", dir_ + "/ca.pem", "", ""}), "code 14");
}

TEST_F(TlsTest, ARenewedCertificateIsUsedWithoutARestart) {
  testing::Subprocess catalog;
  const std::string address = StartCatalog(
      catalog, {"--tls_cert=" + dir_ + "/server.pem", "--tls_key=" + dir_ + "/server.key",
                "--tokens_file=" + dir_ + "/tokens"});
  ASSERT_FALSE(address.empty()) << catalog.output();
  ASSERT_TRUE(MakeCa(dir_, "next"));
  const auth::ClientSecurity trusting_next{"alice-token", dir_ + "/next.pem", "", ""};
  EXPECT_EQ(WhoAmI(address, trusting_next), "code 14");
  ASSERT_TRUE(MakeCert(dir_, "next", "catalog", "server"));  // renewed by the next CA
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  std::string who;
  while ((who = WhoAmI(address, trusting_next)) != "alice" && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_EQ(who, "alice");
  catalog.Signal(SIGTERM);
  EXPECT_EQ(catalog.Wait(absl::Seconds(30)), 0) << catalog.output();
}

// curl's answer: the HTTP status, or 0 when no connection was made.
int Curl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "status=%{http_code}\n",
                                   "--max-time", "10"};
  argv.insert(argv.end(), args.begin(), args.end());
  // curl writes the status to stdout; the shell sends it to the captured stderr.
  std::vector<std::string> shell = {"/bin/sh", "-c", "exec \"$@\" 1>&2", "sh"};
  shell.insert(shell.end(), argv.begin(), argv.end());
  testing::Subprocess p;
  if (!p.Start(shell).ok()) return -1;
  auto status = p.WaitForLine("status=", absl::Seconds(30));
  p.Wait(absl::Seconds(30));
  return status.ok() ? std::atoi(status->c_str()) : -1;
}

TEST_F(TlsTest, TheGatewayServesHttpsWithTokensOrClientCertificates) {
  const char* gateway_bin = std::getenv("ARCA_BIN_ARCA_GATEWAY");
  ASSERT_NE(gateway_bin, nullptr);
  testing::Subprocess catalog;
  const std::string catalog_address = StartCatalog(catalog, {});
  ASSERT_FALSE(catalog_address.empty()) << catalog.output();
  auto start = [&](testing::Subprocess& gateway, std::vector<std::string> flags) {
    std::vector<std::string> argv = {gateway_bin, "--listen=127.0.0.1:0", "--metrics_listen=",
                                     "--catalog=" + catalog_address,
                                     "--tls_cert=" + dir_ + "/server.pem",
                                     "--tls_key=" + dir_ + "/server.key",
                                     "--tokens_file=" + dir_ + "/tokens"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    EXPECT_TRUE(gateway.Start(argv).ok());
    auto address = gateway.WaitForListening(absl::Seconds(30));
    return address.ok() ? absl::StrCat("https://", *address) : std::string();
  };
  testing::Subprocess https;
  const std::string url = start(https, {});
  ASSERT_FALSE(url.empty()) << https.output();
  const std::string ca = dir_ + "/ca.pem";
  EXPECT_EQ(Curl({"--cacert", ca, "-H", "Authorization: Bearer alice-token", url + "/api/v1/job"}),
            200);
  EXPECT_EQ(Curl({"--cacert", ca, url + "/api/v1/job"}), 401);
  EXPECT_EQ(Curl({"--cacert", ca, url + "/healthz"}), 200);
  std::string plain = url;
  plain.replace(0, 5, "http");
  EXPECT_EQ(Curl({plain + "/healthz"}), 0);  // plain HTTP gets no answer
  // The certificate renewed by another CA is served to new connections.
  ASSERT_TRUE(MakeCa(dir_, "next"));
  ASSERT_TRUE(MakeCert(dir_, "next", "gateway", "server"));
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  int status = 0;
  while ((status = Curl({"--cacert", dir_ + "/next.pem", url + "/healthz"})) != 200 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_EQ(status, 200);

  // mTLS: a client certificate names its identity; none, no connection.
  testing::Subprocess mtls;
  const std::string mtls_url = start(mtls, {"--tls_client_ca=" + dir_ + "/ca.pem"});
  ASSERT_FALSE(mtls_url.empty()) << mtls.output();
  const std::string next_ca = dir_ + "/next.pem";
  EXPECT_EQ(Curl({"--cacert", next_ca, "--cert", dir_ + "/client.pem", "--key",
                  dir_ + "/client.key", mtls_url + "/api/v1/job"}),
            200);
  EXPECT_EQ(Curl({"--cacert", next_ca, mtls_url + "/healthz"}), 0);
}

TEST_F(TlsTest, AnOpenAddressNeedsTlsOrTokensOrInsecure) {
  testing::Subprocess open;
  EXPECT_EQ(StartCatalog(open, {}, "0.0.0.0:0"), "");
  const int status = open.Wait(absl::Seconds(30));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << open.output();
  EXPECT_TRUE(absl::StrContains(open.output(), "with neither TLS")) << open.output();
  EXPECT_TRUE(absl::StrContains(open.output(), "--insecure")) << open.output();
  for (const std::string& flag :
       {"--tokens_file=" + dir_ + "/tokens", std::string("--insecure")}) {
    testing::Subprocess allowed;
    EXPECT_NE(StartCatalog(allowed, {flag}, "0.0.0.0:0"), "") << flag << allowed.output();
    allowed.Signal(SIGTERM);
    allowed.Wait(absl::Seconds(30));
  }
}

// Each write and each denied call is logged: who (and through which
// service), what, which object, how it ended.
TEST_F(TlsTest, WritesAndDenialsAreAudited) {
  std::ofstream(dir_ + "/tokens", std::ios::app) << absl::StrCat(
      "sha256:", hash::Sha256::Of("gateway-token"), " * highly_sensitive gateway service\n",
      "sha256:", hash::Sha256::Of("ops-token"), " * highly_sensitive ops admin\n");
  testing::Subprocess catalog;
  const std::string address = StartCatalog(catalog, {"--tokens_file=" + dir_ + "/tokens"});
  ASSERT_FALSE(address.empty()) << catalog.output();
  auto call = [&](const std::string& token, const std::string& act_for, auto rpc) {
    auto channel = auth::SecureChannel(address, {token, "", "", ""}, grpc::ChannelArguments());
    grpc::ClientContext context;
    if (!act_for.empty()) auth::ActFor(context, act_for);
    return rpc(*cat::Catalog::NewStub(*channel), context).error_code();
  };
  cat::CreateJobRequest create;
  create.mutable_job()->set_id("job-audit");
  create.mutable_job()->set_group("team-a");
  EXPECT_EQ(call("alice-token", "",
                 [&](cat::Catalog::Stub& stub, grpc::ClientContext& context) {
                   cat::CreateJobResponse response;
                   return stub.CreateJob(&context, create, &response);
                 }),
            grpc::StatusCode::OK);
  cat::DeleteJobRequest remove;
  remove.set_id("job-audit");
  auto delete_job = [&](cat::Catalog::Stub& stub, grpc::ClientContext& context) {
    cat::DeleteJobResponse response;
    return stub.DeleteJob(&context, remove, &response);
  };
  EXPECT_EQ(call("alice-token", "", delete_job), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(call("gateway-token", "ops", delete_job), grpc::StatusCode::OK);
  EXPECT_EQ(call("alice-token", "ops", delete_job), grpc::StatusCode::PERMISSION_DENIED);
  for (const std::string line : {
           "audit: alice CreateJob id=job-audit -> OK",
           "audit: denied DeleteJob to alice from ipv4:127.0.0.1:",
           "audit: ops (via gateway) DeleteJob id=job-audit -> OK",
           "audit: denied DeleteJob to alice from ipv4:127.0.0.1:",
       }) {
    EXPECT_TRUE(catalog.WaitForLine(line, absl::Seconds(10)).ok()) << line << "\n"
                                                                  << catalog.output();
  }
}

TEST_F(TlsTest, TheMetricsListenerServesHttpsWithTheSameCertificate) {
  testing::Subprocess catalog;
  ASSERT_TRUE(catalog
                  .Start({bin_, "--listen=127.0.0.1:0", "--metrics_listen=127.0.0.1:0",
                          "--data_dir=" + dir_ + "/db", "--min_free_bytes=0", "--reserve_bytes=0",
                          "--tls_cert=" + dir_ + "/server.pem", "--tls_key=" + dir_ + "/server.key",
                          "--tokens_file=" + dir_ + "/tokens"})
                  .ok());
  auto metrics = catalog.WaitForLine(" metrics on ", absl::Seconds(30));
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  const std::string url = absl::StrCat("https://", *metrics, "/metrics");
  EXPECT_EQ(Curl({"--cacert", dir_ + "/ca.pem", url}), 200);
  EXPECT_EQ(Curl({"--cacert", dir_ + "/ca.pem", "https://" + *metrics + "/other"}), 404);
  std::string plain = url;
  plain.replace(0, 5, "http");
  EXPECT_EQ(Curl({plain}), 0);  // plain HTTP gets no answer
}

// The CLI signs in like kubectl and gh: `arca login` checks and stores a
// context (mode 0600), later commands use it, $ARCA_TOKEN overrides its
// token, `context use|list` switch, `whoami` shows what the services see.
class CliLoginTest : public TlsTest {
 protected:
  // Runs `arca args...` with this environment and standard input; returns
  // "exit=N" followed by everything it printed.
  std::string Arca(std::vector<std::string> args, std::vector<std::string> env = {},
                   const std::string& input = "") {
    const char* arca = std::getenv("ARCA_BIN_ARCA");
    EXPECT_NE(arca, nullptr);
    std::vector<std::string> argv = {"/usr/bin/env", "ARCA_CONFIG=" + dir_ + "/home/config"};
    argv.insert(argv.end(), env.begin(), env.end());
    argv.insert(argv.end(), {"/bin/sh", "-c",
                             "exec 1>&2; input=$1; shift; printf %s \"$input\" | \"$@\"; "
                             "echo \"exit=$?\"",
                             "sh", input, arca});
    argv.insert(argv.end(), args.begin(), args.end());
    testing::Subprocess p;
    if (!p.Start(argv).ok()) return "cannot start";
    auto code = p.WaitForLine("exit=", absl::Seconds(30));
    p.Wait(absl::Seconds(30));
    return absl::StrCat("exit=", code.ok() ? *code : "?", "\n", p.output());
  }
};

TEST_F(CliLoginTest, LoginStoresAContextThatLaterCommandsUse) {
  std::ofstream(dir_ + "/tokens", std::ios::app) << absl::StrCat(
      "sha256:", hash::Sha256::Of("bob-token"), " team-b highly_sensitive bob reader\n",
      "sha256:", hash::Sha256::Of("root-token"), " * highly_sensitive root admin\n");
  testing::Subprocess catalog;
  const std::string address = StartCatalog(
      catalog, {"--tls_cert=" + dir_ + "/server.pem", "--tls_key=" + dir_ + "/server.key",
                "--tokens_file=" + dir_ + "/tokens"});
  ASSERT_FALSE(address.empty()) << catalog.output();
  const std::string ca = "--tls_ca=" + dir_ + "/ca.pem";

  // Nothing stored yet: the loopback default, no token.
  EXPECT_TRUE(absl::StartsWith(Arca({"whoami"}), "exit=1\n")) << Arca({"whoami"});
  // Not authenticated: exit 4.
  std::string out = Arca({"whoami", "--catalog=" + address, ca});
  EXPECT_TRUE(absl::StartsWith(out, "exit=4\n")) << out;
  EXPECT_TRUE(absl::StrContains(out, "UNAUTHENTICATED")) << out;

  // A wrong token is refused and nothing is stored.
  out = Arca({"login", "prod", "--catalog=" + address, ca, "--with_token"}, {}, "wrong\n");
  EXPECT_TRUE(absl::StartsWith(out, "exit=4\n")) << out;
  EXPECT_TRUE(absl::StrContains(out, "unknown token")) << out;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/home/config"));

  out = Arca({"login", "prod", "--catalog=" + address, ca, "--with_token"}, {}, "alice-token\n");
  ASSERT_TRUE(absl::StartsWith(out, "exit=0\n")) << out;
  EXPECT_TRUE(absl::StrContains(out, "context \"prod\" is current")) << out;
  EXPECT_EQ(std::filesystem::status(dir_ + "/home/config").permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_EQ(std::filesystem::status(dir_ + "/home").permissions(),
            std::filesystem::perms::owner_all);

  // Later commands need no flags; whoami shows what the catalog sees.
  out = Arca({"whoami"});
  EXPECT_TRUE(absl::StrContains(out, "exit=0\nname:   alice\ngroups: team-a\n"
                                     "level:  moderately_sensitive\nrole:   writer\n"))
      << out;
  // $ARCA_TOKEN overrides the context's token (TLS still from the context).
  out = Arca({"whoami"}, {"ARCA_TOKEN=bob-token"});
  EXPECT_TRUE(absl::StrContains(out, "name:   bob\ngroups: team-b\nlevel:  highly_sensitive\n"
                                     "role:   reader\n"))
      << out;
  EXPECT_TRUE(absl::StrContains(Arca({"whoami"}, {"ARCA_TOKEN=nobody"}), "unknown token"));

  // A second context becomes current; `context use` and --context switch.
  out = Arca({"login", "ops", "--catalog=" + address, ca, "--with_token"}, {}, "root-token");
  ASSERT_TRUE(absl::StartsWith(out, "exit=0\n")) << out;
  out = Arca({"context", "list"});
  EXPECT_TRUE(absl::StrContains(out, "CURRENT  NAME  CATALOG")) << out;
  EXPECT_TRUE(absl::StrContains(out, "\n         prod  " + address + "  yes    yes\n")) << out;
  EXPECT_TRUE(absl::StrContains(out, "\n*        ops   " + address + "  yes    yes\n")) << out;
  EXPECT_TRUE(absl::StrContains(Arca({"whoami"}), "name:   root\ngroups: * (all)\n"));
  EXPECT_TRUE(absl::StrContains(Arca({"whoami", "--context=prod"}), "name:   alice\n"));
  EXPECT_TRUE(absl::StartsWith(Arca({"context", "use", "prod"}), "exit=0\n"));
  EXPECT_TRUE(absl::StrContains(Arca({"whoami"}), "name:   alice\n"));
  out = Arca({"context", "use", "staging"});
  EXPECT_TRUE(absl::StartsWith(out, "exit=1\n")) << out;
  EXPECT_TRUE(absl::StrContains(out, "NOT_FOUND: no context \"staging\"")) << out;

  // Logging out forgets the context and its token.
  EXPECT_TRUE(absl::StartsWith(Arca({"logout", "ops"}), "exit=0\n"));
  std::ifstream in(dir_ + "/home/config");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_FALSE(absl::StrContains(text.str(), "root-token")) << text.str();
  EXPECT_TRUE(absl::StrContains(text.str(), "token = alice-token")) << text.str();
  EXPECT_TRUE(absl::StrContains(Arca({"whoami", "--context=ops"}), "NOT_FOUND")) << text.str();
}

TEST_F(CliLoginTest, ABrokenContextsFileIsReportedWithItsLine) {
  std::filesystem::create_directories(dir_ + "/home");
  std::ofstream(dir_ + "/home/config") << "current = prod\n\n[context prod]\ncatalog: nowhere\n";
  const std::string out = Arca({"jobs", "list"});
  EXPECT_TRUE(absl::StartsWith(out, "exit=1\n")) << out;
  EXPECT_TRUE(absl::StrContains(out, "INVALID_ARGUMENT: " + dir_ + "/home/config line 4: want "
                                     "KEY = VALUE"))
      << out;
}

}  // namespace
}  // namespace arca
