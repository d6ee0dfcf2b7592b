// What a collect costs on the collector's disk alone, without the network,
// the client or the catalog: every regular file under SRC is read and
// written into a new store under DST; the seconds the writing took (the
// store's directories made beforehand) are printed.
//   store     through the local blob store, as the collector writes: each
//             file hashed, looked up, written to a temporary name; then one
//             Publish for all of them (syncfs, renames, syncfs).
//   protocol  the blob store's write protocol and nothing else, no arca
//             code: each file to a temporary name, one syncfs, each renamed
//             into one of 256 prefix directories, one syncfs.
// collect_bench.sh prints both against cp -r in the same run.
// Usage: store_bench store|protocol SRC DST

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "common/blob/store.h"

namespace arca {
namespace {

namespace fs = std::filesystem;

constexpr size_t kReadBytes = 1 << 20;

// Calls fn(piece) for each read of the file at `path`.
template <typename Fn>
bool ReadFile(const std::string& path, std::string& buffer, Fn fn) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = true;
  for (;;) {
    ssize_t n = read(fd, buffer.data(), buffer.size());
    if (n < 0) ok = false;
    if (n <= 0) break;
    if (!fn(absl::string_view(buffer.data(), n))) {
      ok = false;
      break;
    }
  }
  close(fd);
  return ok;
}

std::vector<std::string> RegularFiles(const std::string& src) {
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(src)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  return files;
}

bool SyncFs(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  bool ok = fd >= 0 && syncfs(fd) == 0;
  if (fd >= 0) close(fd);
  return ok;
}

// Each returns the seconds its writing took (after setting up the store), or
// a negative number if something failed.
double Store(const std::string& src, const std::string& dst) {
  auto blobs = blob::OpenLocalBlobStore(dst);
  if (!blobs.ok()) return -1;
  const absl::Time start = absl::Now();
  std::string buffer(kReadBytes, '\0');
  std::vector<std::unique_ptr<blob::BlobWriter>> writers;
  std::vector<blob::BlobWriter*> sealed;
  for (const std::string& path : RegularFiles(src)) {
    auto w = (*blobs)->NewWriter();
    if (!w.ok()) return -1;
    auto append = [&](absl::string_view piece) { return (*w)->Append(piece).ok(); };
    if (!ReadFile(path, buffer, append) || !(*w)->Seal().ok()) return -1;
    sealed.push_back(w->get());
    writers.push_back(*std::move(w));
  }
  if (!(*blobs)->Publish(sealed).ok()) return -1;
  return absl::ToDoubleSeconds(absl::Now() - start);
}

double Protocol(const std::string& src, const std::string& dst) {
  for (const char* sub : {"/tmp", "/blobs"}) {
    for (int i = 0; i < 256; ++i) {
      if (!fs::create_directories(absl::StrFormat("%s%s/%02x", dst, sub, i))) return -1;
    }
  }
  const absl::Time start = absl::Now();
  std::string buffer(kReadBytes, '\0');
  const std::vector<std::string> files = RegularFiles(src);
  auto name = [&](const char* sub, size_t i) {
    return absl::StrFormat("%s%s/%02x/%d", dst, sub, i % 256, i);
  };
  for (size_t i = 0; i < files.size(); ++i) {
    int fd = open(name("/tmp", i).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    bool ok = ReadFile(files[i], buffer, [&](absl::string_view piece) {
      return write(fd, piece.data(), piece.size()) == static_cast<ssize_t>(piece.size());
    });
    if (close(fd) != 0 || !ok) return -1;
  }
  if (!SyncFs(dst)) return -1;
  for (size_t i = 0; i < files.size(); ++i) {
    if (rename(name("/tmp", i).c_str(), name("/blobs", i).c_str()) != 0) return -1;
  }
  if (!SyncFs(dst)) return -1;
  return absl::ToDoubleSeconds(absl::Now() - start);
}

int Main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: store_bench store|protocol SRC DST\n");
    return 2;
  }
  const std::string mode = argv[1], src = argv[2], dst = argv[3];
  if (mode != "store" && mode != "protocol") {
    fprintf(stderr, "unknown mode %s\n", mode.c_str());
    return 2;
  }
  double seconds;
  try {
    seconds = mode == "store" ? Store(src, dst) : Protocol(src, dst);
  } catch (const fs::filesystem_error& e) {
    fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  if (seconds < 0) {
    perror(mode.c_str());
    return 1;
  }
  printf("%.6f\n", seconds);
  return 0;
}

}  // namespace
}  // namespace arca

int main(int argc, char** argv) { return arca::Main(argc, argv); }
