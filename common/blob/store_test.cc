#include "common/blob/store.h"

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/hash/crc32c.h"
#include "common/hash/sha256.h"
#include "gtest/gtest.h"

namespace arca::blob {
namespace {

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/arca-blob-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    store_ = *OpenLocalBlobStore(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  absl::StatusOr<BlobInfo> Put(const std::string& data, const std::string& expected = "") {
    auto w = store_->NewWriter();
    if (!w.ok()) return w.status();
    // In uneven pieces, as a stream would arrive.
    for (size_t i = 0; i < data.size(); i += 7) {
      if (auto s = (*w)->Append(data.substr(i, 7)); !s.ok()) return s;
    }
    return (*w)->Commit(expected);
  }

  // The bytes of [offset, offset + length) handed out before the reader
  // ended or failed, and how it ended.
  struct Got {
    std::string bytes;
    absl::Status status;
  };
  Got ReadRange(const std::string& sha, int64_t offset = 0, int64_t length = -1) {
    auto r = store_->Open(sha, offset, length);
    if (!r.ok()) return {"", r.status()};
    Got got;
    std::string piece;
    while ((got.status = (*r)->Read(&piece)).ok() && !piece.empty()) got.bytes += piece;
    return got;
  }
  std::string ReadAll(const std::string& sha, int64_t offset = 0) {
    Got got = ReadRange(sha, offset);
    EXPECT_TRUE(got.status.ok()) << got.status;
    return got.bytes;
  }
  // `size` bytes that differ in every block.
  static std::string Pattern(size_t size) {
    std::string data(size, '\0');
    for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>((i * 131 + size) % 251);
    return data;
  }
  std::string PathOf(const std::string& sha) {
    return dir_ + "/blobs/" + sha.substr(0, 2) + "/" + sha.substr(2);
  }
  void Damage(const std::string& path, int64_t at) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(at);
    char c = static_cast<char>(f.get());
    f.seekp(at);
    f.put(static_cast<char>(c ^ 1));
  }

  // Temporary files of writers (not the stores' session locks).
  size_t TmpFiles() {
    size_t n = 0;
    for (auto& e : std::filesystem::recursive_directory_iterator(dir_ + "/tmp")) {
      n += e.is_regular_file() && e.path().parent_path().filename() != "sessions";
    }
    return n;
  }

  std::string dir_;
  std::unique_ptr<BlobStore> store_;
};

TEST(Crc32cTest, KnownVectorsOnBothPaths) {
  for (auto crc : {hash::Crc32c, hash::Crc32cPortable}) {
    EXPECT_EQ(crc("", 0), 0u);
    EXPECT_EQ(crc("123456789", 0), 0xe3069283u);  // the standard check value
    EXPECT_EQ(crc(std::string(32, '\0'), 0), 0x8a9136aau);  // RFC 3720 B.4
    EXPECT_EQ(crc(std::string(32, '\xff'), 0), 0x62a8ab43u);
  }
  // Long enough for the three-stripe path, with every kind of tail.
  std::string random(3 * 4096 * 5 + 77, '\0');
  uint32_t x = 12345;
  for (char& c : random) c = static_cast<char>((x = x * 1103515245 + 12345) >> 16);
  for (size_t n : {size_t{3 * 4096 - 1}, size_t{3 * 4096}, size_t{3 * 4096 + 9}, random.size()}) {
    const absl::string_view piece = absl::string_view(random).substr(random.size() - n);
    EXPECT_EQ(hash::Crc32c(piece), hash::Crc32cPortable(piece)) << n;
    EXPECT_EQ(hash::Crc32c(piece, 0xdeadbeef), hash::Crc32cPortable(piece, 0xdeadbeef)) << n;
  }
  // Odd lengths and offsets, and extending a checksum piece by piece.
  const std::string data = "The quick brown fox jumps over the lazy dog, 0123456789 times.";
  for (size_t n = 0; n <= data.size(); ++n) {
    const absl::string_view piece = absl::string_view(data).substr(data.size() - n);
    EXPECT_EQ(hash::Crc32c(piece), hash::Crc32cPortable(piece)) << n;
    EXPECT_EQ(hash::Crc32c(piece.substr(n / 3), hash::Crc32c(piece.substr(0, n / 3))), hash::Crc32c(piece)) << n;
  }
}

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(hash::Sha256::Of(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hash::Sha256::Of("hello\n"),
            "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
}

TEST_F(BlobStoreTest, PutIsContentAddressedAndReadable) {
  auto info = Put("hello\n");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->sha256, hash::Sha256::Of("hello\n"));
  EXPECT_EQ(info->size, 6);
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/blobs/58/" + info->sha256.substr(2)));
  EXPECT_EQ(ReadAll(info->sha256), "hello\n");
  EXPECT_EQ(ReadAll(info->sha256, 2), "llo\n");
  EXPECT_EQ(ReadAll(info->sha256, 6), "");
  EXPECT_EQ(store_->Open(info->sha256, 7).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Stat(info->sha256)->size, 6);
  EXPECT_EQ(TmpFiles(), 0u);
}

TEST_F(BlobStoreTest, ReportsTheRoomLeftOnItsDisk) {
  auto space = store_->FreeSpace();
  ASSERT_TRUE(space.ok()) << space.status();
  EXPECT_GT(space->capacity_bytes, 0);
  EXPECT_GT(space->free_bytes, 0);
  EXPECT_LE(space->free_bytes, space->capacity_bytes);
}

TEST_F(BlobStoreTest, ExistingBlobIsNotRewritten) {
  auto first = Put("same bytes");
  ASSERT_TRUE(first.ok());
  auto second = Put("same bytes");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->sha256, first->sha256);
  EXPECT_EQ(TmpFiles(), 0u);
  int count = 0;
  ASSERT_TRUE(store_->List([&](const BlobInfo&) { ++count; }).ok());
  EXPECT_EQ(count, 1);
}

TEST_F(BlobStoreTest, DigestMismatchStoresNothing) {
  auto r = Put("actual", std::string(64, 'a'));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  int count = 0;
  ASSERT_TRUE(store_->List([&](const BlobInfo&) { ++count; }).ok());
  EXPECT_EQ(count, 0);
  EXPECT_EQ(TmpFiles(), 0u);
}

TEST_F(BlobStoreTest, AbandonedWriterLeavesNoTemporaryFile) {
  {
    auto w = store_->NewWriter();
    ASSERT_TRUE(w.ok());
    // Large enough to be on its way to disk already.
    ASSERT_TRUE((*w)->Append(std::string(9 << 20, 'p')).ok());
    EXPECT_EQ(TmpFiles(), 1u);
  }
  EXPECT_EQ(TmpFiles(), 0u);
  {
    auto w = store_->NewWriter();
    ASSERT_TRUE((*w)->Append("partial upload").ok());
  }
  EXPECT_EQ(TmpFiles(), 0u);
}

TEST_F(BlobStoreTest, LargeBlobsOfAnySizeReadBackExactly) {
  // Around the write buffer (4 MiB) and the 4 KiB block: exact multiples, a
  // byte over, a byte under, an unaligned tail after several buffers.
  for (size_t size : {size_t{4} << 20, (size_t{4} << 20) + 1, (size_t{8} << 20) - 1,
                      (size_t{13} << 20) + 4096 + 123}) {
    const std::string data = Pattern(size);
    auto w = store_->NewWriter();
    ASSERT_TRUE(w.ok());
    for (size_t i = 0; i < size; i += 1000003) {
      ASSERT_TRUE((*w)->Append(absl::string_view(data).substr(i, 1000003)).ok());
    }
    auto info = (*w)->Commit(hash::Sha256::Of(data));
    ASSERT_TRUE(info.ok()) << size << ": " << info.status();
    EXPECT_EQ(info->size, static_cast<int64_t>(size));
    EXPECT_TRUE(ReadAll(info->sha256) == data) << size;
  }
  EXPECT_EQ(TmpFiles(), 0u);
}

TEST_F(BlobStoreTest, StoredBytesRemovedBeforePublishAbortTheUpload) {
  auto info = Put("kept");
  ASSERT_TRUE(info.ok());
  auto w = *store_->NewWriter();
  ASSERT_TRUE(w->Append("kept").ok());
  ASSERT_TRUE(w->Seal().ok());  // the store holds these bytes: nothing written
  EXPECT_EQ(TmpFiles(), 0u);
  ASSERT_TRUE(store_->Delete(info->sha256).ok());
  EXPECT_EQ(store_->Publish({w.get()}).code(), absl::StatusCode::kAborted);
  // Not claimed durable: a fresh upload stores the bytes again.
  ASSERT_TRUE(Put("kept").ok());
  EXPECT_EQ(ReadAll(info->sha256), "kept");
}

TEST_F(BlobStoreTest, OpeningRemovesTemporaryFilesLeftADayAgo) {
  const std::string old_file = dir_ + "/tmp/ab/left-by-a-crash";
  const std::string new_file = dir_ + "/tmp/cd/still-being-written";
  std::ofstream(old_file) << "x";
  std::ofstream(new_file) << "y";
  std::filesystem::last_write_time(
      old_file, std::filesystem::file_time_type::clock::now() - std::chrono::hours(25));
  ASSERT_TRUE(OpenLocalBlobStore(dir_).ok());
  EXPECT_FALSE(std::filesystem::exists(old_file));
  EXPECT_TRUE(std::filesystem::exists(new_file));
}

// A process killed mid-upload leaves its temporary files; the next store
// opened on the directory removes them, and spares those of writers alive.
TEST_F(BlobStoreTest, AKilledWritersTemporaryFilesGoWhenTheStoreIsNextOpened) {
  auto alive = *store_->NewWriter();
  ASSERT_TRUE(alive->Append(Pattern(9 << 20)).ok());  // past a buffer: a file exists
  const size_t alive_files = TmpFiles();
  ASSERT_GE(alive_files, 1u);
  const pid_t child = fork();
  if (child == 0) {
    auto store = OpenLocalBlobStore(dir_);
    auto w = store.ok() ? (*store)->NewWriter() : store.status();
    const bool wrote = w.ok() && (*w)->Append(Pattern(9 << 20)).ok() &&
                       (*w)->Append(Pattern(1 << 20)).ok();
    _exit(wrote ? 0 : 1);  // as if killed: nothing cleaned up
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_GT(TmpFiles(), alive_files);
  // A blob a killed deleter had moved aside is put back.
  auto kept = Put("moved aside");
  ASSERT_TRUE(kept.ok());
  std::ofstream(dir_ + "/tmp/sessions/gone") << "";
  std::filesystem::rename(PathOf(kept->sha256),
                          dir_ + "/tmp/gone.deleting-" + kept->sha256 + "-x");
  ASSERT_TRUE(OpenLocalBlobStore(dir_).ok());
  EXPECT_EQ(TmpFiles(), alive_files);
  EXPECT_EQ(ReadAll(kept->sha256), "moved aside");
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/tmp/sessions/gone"));
  ASSERT_TRUE(alive->Commit().ok());  // the live writer's file was spared
}

TEST_F(BlobStoreTest, DeleteIsIdempotentAndBadDigestsAreRefused) {
  auto info = Put("x");
  ASSERT_TRUE(store_->Delete(info->sha256).ok());
  EXPECT_TRUE(store_->Delete(info->sha256).ok());  // already gone: success
  EXPECT_EQ(store_->Stat(info->sha256).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->Open(info->sha256).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->Delete("../../etc/passwd").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Open("ABC").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(BlobStoreTest, ConcurrentPutsOfTheSameBytesLeaveOneBlob) {
  std::string data(1 << 20, 'z');
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] { ok += Put(data).ok(); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
  std::set<std::string> seen;
  ASSERT_TRUE(store_->List([&](const BlobInfo& b) { seen.insert(b.sha256); }).ok());
  EXPECT_EQ(seen.size(), 1u);
  EXPECT_EQ(ReadAll(*seen.begin()).size(), data.size());
  EXPECT_EQ(TmpFiles(), 0u);
}

TEST_F(BlobStoreTest, DeleteIfIdleSparesRecentlyWrittenBlobs) {
  auto info = Put("bytes");
  ASSERT_TRUE(info.ok());
  // Written just now: spared, and still readable.
  auto spared = store_->DeleteIfIdle(info->sha256, absl::Now() - absl::Hours(1));
  ASSERT_TRUE(spared.ok()) << spared.status();
  EXPECT_FALSE(*spared);
  EXPECT_EQ(ReadAll(info->sha256), "bytes");
  // Idle since before the cutoff: deleted; absent afterwards counts as gone.
  auto deleted = store_->DeleteIfIdle(info->sha256, absl::Now() + absl::Hours(1));
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(*deleted);
  EXPECT_EQ(store_->Stat(info->sha256).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(*store_->DeleteIfIdle(info->sha256, absl::Now()));
  EXPECT_EQ(TmpFiles(), 0u);
  // Re-putting the same bytes marks them as just written again.
  ASSERT_TRUE(Put("bytes").ok());
  EXPECT_FALSE(*store_->DeleteIfIdle(info->sha256, absl::Now() - absl::Seconds(30)));
}

TEST_F(BlobStoreTest, PublishMakesABatchVisibleAtOnce) {
  std::vector<std::unique_ptr<BlobWriter>> writers;
  std::vector<BlobWriter*> sealed;
  std::vector<std::string> digests;
  for (int i = 0; i < 20; ++i) {  // over the one-flush threshold
    writers.push_back(*store_->NewWriter());
    std::string data = "blob " + std::to_string(i);
    ASSERT_TRUE(writers.back()->Append(data).ok());
    auto info = writers.back()->Seal();
    ASSERT_TRUE(info.ok());
    digests.push_back(info->sha256);
    sealed.push_back(writers.back().get());
  }
  // Sealed is not yet visible.
  EXPECT_EQ(store_->Stat(digests[0]).status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(store_->Publish(sealed).ok());
  ASSERT_TRUE(store_->Publish(sealed).ok());  // twice is harmless
  writers.clear();  // destroying published writers removes nothing
  for (int i = 0; i < 20; ++i) EXPECT_EQ(ReadAll(digests[i]), "blob " + std::to_string(i));
  EXPECT_EQ(TmpFiles(), 0u);
  // An unsealed writer cannot be published.
  auto open = *store_->NewWriter();
  EXPECT_EQ(store_->Publish({open.get()}).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(BlobStoreTest, RangesOfAMultiBlockBlobReadBackExactly) {
  const size_t size = (size_t{3} << 20) + 5;  // three whole blocks and a bit
  const std::string data = Pattern(size);
  auto info = Put(data);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(std::filesystem::exists(PathOf(info->sha256) + ".blocks"));
  const int64_t mib = 1 << 20;
  for (auto [offset, length] : std::vector<std::pair<int64_t, int64_t>>{
           {0, -1}, {0, 1}, {mib - 1, 2}, {mib, mib}, {5, 3 * mib}, {3 * mib, 5},
           {3 * mib + 4, 1}, {2 * mib + 7, 1 << 30}, {static_cast<int64_t>(size), -1}}) {
    Got got = ReadRange(info->sha256, offset, length);
    ASSERT_TRUE(got.status.ok()) << offset << "+" << length << ": " << got.status;
    const size_t n = length < 0 ? std::string::npos : static_cast<size_t>(length);
    EXPECT_TRUE(got.bytes == data.substr(offset, n)) << offset << "+" << length;
  }
  // The checksums are not a blob of their own.
  int count = 0;
  ASSERT_TRUE(store_->List([&](const BlobInfo&) { ++count; }).ok());
  EXPECT_EQ(count, 1);
  EXPECT_EQ(TmpFiles(), 0u);
  // A blob of one block has none; it is checked by digest.
  auto small = Put(Pattern(1 << 20));
  ASSERT_TRUE(small.ok());
  EXPECT_FALSE(std::filesystem::exists(PathOf(small->sha256) + ".blocks"));
}

TEST_F(BlobStoreTest, ADamagedBlockIsDataLossBeforeAnyOfItIsHandedOut) {
  const int64_t mib = 1 << 20;
  const std::string data = Pattern(static_cast<size_t>(3 * mib + mib / 2));
  auto info = Put(data);
  ASSERT_TRUE(info.ok());
  Damage(PathOf(info->sha256), 2 * mib + 10);  // in the third block
  Got all = ReadRange(info->sha256);
  EXPECT_EQ(all.status.code(), absl::StatusCode::kDataLoss) << all.status;
  EXPECT_NE(all.status.message().find("2097152"), std::string::npos) << all.status;
  EXPECT_TRUE(all.bytes == data.substr(0, 2 * mib));  // the good blocks, nothing after
  // A range that stays out of the damaged block reads only its own blocks.
  Got before = ReadRange(info->sha256, 10, mib);
  EXPECT_TRUE(before.status.ok()) << before.status;
  EXPECT_TRUE(before.bytes == data.substr(10, mib));
  Got after = ReadRange(info->sha256, 3 * mib);
  EXPECT_TRUE(after.status.ok()) << after.status;
  EXPECT_TRUE(after.bytes == data.substr(3 * mib));
  Got one = ReadRange(info->sha256, 2 * mib + 500, 1);
  EXPECT_EQ(one.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(one.bytes, "");
}

TEST_F(BlobStoreTest, WithoutIntactBlockChecksumsTheDigestIsChecked) {
  const int64_t mib = 1 << 20;
  const std::string data = Pattern(static_cast<size_t>(2 * mib + 3));
  auto info = Put(data);
  ASSERT_TRUE(info.ok());
  const std::string blob = PathOf(info->sha256), sums = blob + ".blocks";
  // Damaged checksums are not believed: the intact blob still reads back.
  Damage(sums, 20);
  EXPECT_TRUE(ReadAll(info->sha256) == data);
  EXPECT_TRUE(ReadRange(info->sha256, mib, 10).bytes == data.substr(mib, 10));
  std::filesystem::remove(sums);
  EXPECT_TRUE(ReadAll(info->sha256) == data);
  // Damage anywhere fails even a range far from it, before the range's
  // last bytes are handed out.
  Damage(blob, 2 * mib + 1);
  Got first = ReadRange(info->sha256, 0, 10);
  EXPECT_EQ(first.status.code(), absl::StatusCode::kDataLoss) << first.status;
  EXPECT_EQ(first.bytes, "");
  Got all = ReadRange(info->sha256);
  EXPECT_EQ(all.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_LT(all.bytes.size(), data.size());
  // A blob cut short is caught too.
  std::filesystem::resize_file(blob, mib);
  EXPECT_EQ(ReadRange(info->sha256, 0, 1).status.code(), absl::StatusCode::kDataLoss);
  // Storing the bytes again repairs the blob's checksums along with it.
  ASSERT_TRUE(store_->Delete(info->sha256).ok());
  ASSERT_TRUE(Put(data).ok());
  EXPECT_TRUE(std::filesystem::exists(sums));
  EXPECT_TRUE(ReadAll(info->sha256) == data);
}

TEST_F(BlobStoreTest, DeletingABlobDeletesItsChecksums) {
  const std::string data = Pattern((size_t{2} << 20) + 1);
  auto info = Put(data);
  ASSERT_TRUE(info.ok());
  const std::string sums = PathOf(info->sha256) + ".blocks";
  ASSERT_TRUE(std::filesystem::exists(sums));
  ASSERT_TRUE(store_->Delete(info->sha256).ok());
  EXPECT_FALSE(std::filesystem::exists(sums));
  ASSERT_TRUE(Put(data).ok());
  ASSERT_TRUE(std::filesystem::exists(sums));
  EXPECT_FALSE(*store_->DeleteIfIdle(info->sha256, absl::Now() - absl::Hours(1)));
  EXPECT_TRUE(std::filesystem::exists(sums));  // spared with its blob
  EXPECT_TRUE(*store_->DeleteIfIdle(info->sha256, absl::Now() + absl::Hours(1)));
  EXPECT_FALSE(std::filesystem::exists(sums));
  EXPECT_EQ(TmpFiles(), 0u);
  // An abandoned writer of a multi-block blob leaves no checksums either.
  {
    auto w = *store_->NewWriter();
    ASSERT_TRUE(w->Append(data).ok());
    ASSERT_TRUE(w->Seal().ok());
  }
  EXPECT_EQ(TmpFiles(), 0u);
}

}  // namespace
}  // namespace arca::blob
