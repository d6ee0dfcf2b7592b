#include "services/gateway/zip.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace arca::gateway {
namespace {

// Gives `size` bytes of `fill` (or of `text`) in pieces.
struct Bytes : http::HttpBody {
  Bytes(int64_t n, char c) : left(n), fill(c) {}
  explicit Bytes(std::string t) : left(t.size()), text(std::move(t)) {}
  absl::Status Next(std::string* out) override {
    const int64_t n = std::min<int64_t>(left, 1 << 20);
    if (!text.empty()) {
      *out = text.substr(text.size() - left, n);
    } else {
      out->assign(n, fill);
    }
    left -= n;
    return absl::OkStatus();
  }
  int64_t left;
  char fill = 0;
  std::string text;
};

ZipStream::Entry Text(std::string name, std::string text) {
  const int64_t size = text.size();
  return {std::move(name), size, absl::FromCivil(absl::CivilSecond(2026, 11, 28, 14, 3, 22), absl::UTCTimeZone()),
          [text]() -> absl::StatusOr<std::unique_ptr<http::HttpBody>> { return std::make_unique<Bytes>(text); }};
}

ZipStream::Entry Zeros(std::string name, int64_t size) {
  return {std::move(name), size, absl::UnixEpoch(),
          [size]() -> absl::StatusOr<std::unique_ptr<http::HttpBody>> { return std::make_unique<Bytes>(size, '\0'); }};
}

class ZipTest : public testing::Test {
 protected:
  void SetUp() override {
    path_ = absl::StrCat(testing::TempDir(), "/zip_test_", getpid(), ".zip");
  }
  void TearDown() override { std::filesystem::remove(path_); }

  // Writes the whole stream to path_, leaving runs of zeros as holes so
  // that archives of many GiB cost no disk; returns the bytes written.
  absl::StatusOr<int64_t> Write(ZipStream& zip) {
    const int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int64_t at = 0;
    std::string piece;
    absl::Status s;
    while ((s = zip.Next(&piece)).ok() && !piece.empty()) {
      if (piece.find_first_not_of('\0') == std::string::npos) {
        lseek(fd, piece.size(), SEEK_CUR);
      } else if (write(fd, piece.data(), piece.size()) != static_cast<ssize_t>(piece.size())) {
        s = absl::InternalError("write");
        break;
      }
      at += piece.size();
    }
    if (ftruncate(fd, at) != 0) s = absl::InternalError("ftruncate");
    close(fd);
    if (!s.ok()) return s;
    return at;
  }

  // What Python's zipfile says of the archive: each entry's name, size and
  // time, and a line for any whose bytes do not match its CRC (every entry
  // read, or only those below `read_below` bytes), or the error it raised.
  std::string PythonSays(int64_t read_below = int64_t{1} << 62) {
    const std::string cmd = absl::StrCat(
        "python3 -c 'import sys, zipfile\n"
        "z = zipfile.ZipFile(sys.argv[1])\n"
        "for i in z.infolist():\n"
        "  if i.file_size < int(sys.argv[2]) and z.read(i) is None: pass\n"
        "for i in z.infolist()[:5]: print(i.filename, i.file_size, i.date_time)\n"
        "print(len(z.infolist()), \"entries\")' ",
        path_, " ", read_below, " 2>&1");
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    pclose(p);
    return out;
  }

  std::string path_;
};

TEST_F(ZipTest, FilesOfAnySizeReadBackWithTheirNamesTimesAndChecksums) {
  std::string several_pieces;  // 3.5 MiB, sent in four
  for (int i = 0; several_pieces.size() < (7u << 19); ++i) absl::StrAppend(&several_pieces, i, "\n");
  ZipStream zip({Text("out/a.txt", "hello\n"), Zeros("empty", 0), Text("out/sub/ü.csv", "a,b\n1,2\n"),
                 Text("numbers", several_pieces)});
  ASSERT_EQ(Write(zip).value(), zip.length());
  EXPECT_EQ(PythonSays(),
            "out/a.txt 6 (2026, 11, 28, 14, 3, 22)\n"
            "empty 0 (1980, 1, 1, 0, 0, 0)\n"
            "out/sub/ü.csv 8 (2026, 11, 28, 14, 3, 22)\n" +
                absl::StrCat("numbers ", several_pieces.size(), " (2026, 11, 28, 14, 3, 22)\n") +
                "4 entries\n");
  // Info-ZIP's unzip agrees, byte for byte.
  const std::string dir = path_ + ".d";
  ASSERT_EQ(std::system(("unzip -q -o " + path_ + " -d " + dir).c_str()), 0);
  std::ifstream in(dir + "/out/sub/ü.csv");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "a,b\n1,2\n");
  std::filesystem::remove_all(dir);
}

TEST_F(ZipTest, AFilePast4GiBAndOnesAfterItUseZip64) {
  const int64_t big = (int64_t{4} << 30) + 10;
  ZipStream zip({Text("first.txt", "one"), Zeros("big.bin", big), Text("after.txt", "two")});
  ASSERT_EQ(Write(zip).value(), zip.length());
  // The small ones are read and checked (the second past the 4 GiB mark);
  // the big one's CRC is computed as the small ones' are.
  EXPECT_EQ(PythonSays(/*read_below=*/100),
            "first.txt 3 (2026, 11, 28, 14, 3, 22)\n"
            "big.bin 4294967306 (1980, 1, 1, 0, 0, 0)\n"
            "after.txt 3 (2026, 11, 28, 14, 3, 22)\n"
            "3 entries\n");
  EXPECT_EQ(std::system(("unzip -tq " + path_ + " after.txt >/dev/null").c_str()), 0);
}

TEST_F(ZipTest, MoreThan65535FilesUseTheZip64End) {
  std::vector<ZipStream::Entry> entries;
  for (int i = 0; i < 70000; ++i) entries.push_back(Text(absl::StrCat("f/", i), absl::StrCat(i)));
  ZipStream zip(std::move(entries));
  ASSERT_EQ(Write(zip).value(), zip.length());
  const std::string says = PythonSays();
  EXPECT_NE(says.find("70000 entries"), std::string::npos) << says;
}

TEST_F(ZipTest, AFileThatGivesOtherThanItsSizeIsDataLoss) {
  ZipStream::Entry shorter = Zeros("short", 10);
  shorter.size = 11;
  ZipStream a({shorter});
  EXPECT_EQ(Write(a).status().message(), "short ended after 10 of its 11 bytes");
  ZipStream::Entry longer = Zeros("long", 10);
  longer.size = 9;
  ZipStream b({longer});
  EXPECT_EQ(Write(b).status().message(), "long gave more than its 9 bytes");
  ZipStream::Entry failing = Zeros("gone", 10);
  failing.open = []() -> absl::StatusOr<std::unique_ptr<http::HttpBody>> {
    return absl::UnavailableError("the collector is away");
  };
  ZipStream c({failing});
  EXPECT_EQ(Write(c).status(), absl::UnavailableError("the collector is away"));
}

}  // namespace
}  // namespace arca::gateway
