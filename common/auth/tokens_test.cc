#include "common/auth/tokens.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/hash/sha256.h"
#include "gtest/gtest.h"

namespace arca::auth {
namespace {

TEST(TokenFileTest, ParsesAndRejectsWithTheLine) {
  auto ok = TokenFile::Parse(absl::StrCat("\n# comment\nsha256:", std::string(64, 'a'),
                                          " g1,g2 highly_sensitive n\n"));
  ASSERT_TRUE(ok.ok()) << ok.status();
  ASSERT_EQ(ok->size(), 1u);
  EXPECT_EQ((*ok)[0].identity.groups, (std::vector<std::string>{"g1", "g2"}));
  EXPECT_EQ((*ok)[0].identity.name, "n");
  EXPECT_TRUE((*ok)[0].identity.Has(Role::kWriter));  // no roles given: a writer
  EXPECT_FALSE((*ok)[0].identity.Has(Role::kAdmin));
  auto roles = TokenFile::Parse(absl::StrCat("sha256:", std::string(64, 'b'),
                                             " g1 highly_sensitive r reader\nsha256:",
                                             std::string(64, 'c'), " * highly_sensitive ops\n"));
  ASSERT_TRUE(roles.ok()) << roles.status();
  EXPECT_TRUE((*roles)[0].identity.Has(Role::kReader));
  EXPECT_FALSE((*roles)[0].identity.Has(Role::kWriter));
  EXPECT_TRUE((*roles)[1].identity.Has(Role::kAdmin));  // every group: admin
  for (const std::string& bad :
       {std::string("plaintext-token g1 highly_sensitive"),
        absl::StrCat("sha256:", std::string(63, 'a'), " g1 highly_sensitive"),
        absl::StrCat("sha256:", std::string(64, 'A'), " g1 highly_sensitive"),
        absl::StrCat("sha256:", std::string(64, 'a'), " g1 secret"),
        absl::StrCat("sha256:", std::string(64, 'a'), " , highly_sensitive"),
        absl::StrCat("sha256:", std::string(64, 'a'), " g1 highly_sensitive n root"),
        absl::StrCat("sha256:", std::string(64, 'a'), " g1 highly_sensitive n ,")}) {
    auto r = TokenFile::Parse("# first\n" + bad);
    EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << bad;
    EXPECT_TRUE(absl::StrContains(r.status().message(), "line 2")) << r.status();
  }
}

TEST(TokenFileTest, CertificatesAndNamesFindTheirIdentity) {
  char tmpl[] = "/tmp/arca-tokens-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::string path = dir + "/tokens";
  std::ofstream(path) << absl::StrCat("sha256:", hash::Sha256::Of("alice-token"),
                                      " team-a highly_sensitive alice reader\n",
                                      "cert:collector-1 * highly_sensitive collector service\n");
  FakeClock clock;
  auto tokens = TokenFile::Open(path, &clock);
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  auto alice = (*tokens)->Authenticate("Bearer alice-token");
  ASSERT_TRUE(alice.ok());
  EXPECT_EQ(alice->name, "alice");
  EXPECT_FALSE(alice->Has(Role::kWriter));
  EXPECT_EQ((*tokens)->Authenticate("Bearer collector-1").status().code(),
            absl::StatusCode::kUnauthenticated);  // a certificate name is no token
  auto collector = (*tokens)->ByCertificate("collector-1");
  ASSERT_TRUE(collector.has_value());
  EXPECT_TRUE(collector->Has(Role::kService));
  EXPECT_TRUE(collector->Has(Role::kAdmin));  // service includes admin
  EXPECT_FALSE((*tokens)->ByCertificate("alice").has_value());
  EXPECT_EQ((*tokens)->ByName("alice")->groups, std::vector<std::string>{"team-a"});
  EXPECT_FALSE((*tokens)->ByName("mallory").has_value());
  EXPECT_EQ(alice->Allows(Role::kWriter, "registering").message(),
            "registering needs the writer role, which alice does not have");
  std::filesystem::remove_all(dir);
}

TEST(TokenFileTest, NamesAreUnique) {
  auto dup = TokenFile::Parse(absl::StrCat("sha256:", std::string(64, 'a'), " g1 highly_sensitive n\n",
                                           "sha256:", std::string(64, 'b'), " g2 highly_sensitive n\n"));
  EXPECT_TRUE(absl::IsInvalidArgument(dup.status()));
  EXPECT_TRUE(absl::StrContains(dup.status().message(), "line 2")) << dup.status();
}

}  // namespace
}  // namespace arca::auth
