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
    EXPECT_EQ(info->crc32c, hash::Crc32c(data)) << size;
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

// ------------------------------------------------------------------ packs

class PackTest : public BlobStoreTest {
 protected:
  struct Packed {
    std::string sha256;
    std::string bytes;
    Location where;
  };
  // A published pack of `n` small blobs of varied sizes (one empty).
  std::vector<Packed> WritePack(int n, std::string* name = nullptr) {
    auto w = store_->NewPackWriter();
    EXPECT_TRUE(w.ok()) << w.status();
    std::vector<Packed> out;
    for (int i = 0; i < n; ++i) {
      Packed p;
      p.bytes = i == 1 ? "" : Pattern(static_cast<size_t>(100 + i * 977));
      p.sha256 = hash::Sha256::Of(p.bytes);
      p.where = *(*w)->Add(p.sha256, p.bytes);
      out.push_back(p);
    }
    EXPECT_TRUE((*w)->Publish().ok());
    if (name != nullptr) *name = (*w)->name();
    return out;
  }
  Got ReadAt(const Packed& p, int64_t offset = 0, int64_t length = -1) {
    auto r = store_->OpenAt(p.where, p.sha256, offset, length);
    if (!r.ok()) return {"", r.status()};
    Got got;
    std::string piece;
    while ((got.status = (*r)->Read(&piece)).ok() && !piece.empty()) got.bytes += piece;
    return got;
  }
  std::string PackPath(const std::string& name) { return dir_ + "/packs/" + name + ".pack"; }
};

TEST_F(PackTest, PackedBlobsReadBackWholeAndInRanges) {
  std::string name;
  const std::vector<Packed> packed = WritePack(50, &name);
  EXPECT_EQ(packed[7].where.pack, name);
  for (const Packed& p : packed) {
    Got got = ReadAt(p);
    ASSERT_TRUE(got.status.ok()) << got.status;
    EXPECT_EQ(got.bytes, p.bytes);
  }
  const Packed& p = packed[20];
  EXPECT_EQ(ReadAt(p, 10, 100).bytes, p.bytes.substr(10, 100));
  EXPECT_EQ(ReadAt(p, 1000).bytes, p.bytes.substr(1000));
  EXPECT_EQ(ReadAt(p, static_cast<int64_t>(p.bytes.size())).bytes, "");
  EXPECT_TRUE(absl::IsInvalidArgument(ReadAt(p, static_cast<int64_t>(p.bytes.size()) + 1).status));
  // One file in packs/, nothing left in tmp/, none loose.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_ + "/packs"),
                          std::filesystem::directory_iterator()),
            1);
  EXPECT_EQ(TmpFiles(), 0u);
  int loose = 0;
  ASSERT_TRUE(store_->List([&](const BlobInfo&) { ++loose; }).ok());
  EXPECT_EQ(loose, 0);
  // The index lists every record; the listing shows the pack.
  auto index = store_->ReadPackIndex(name);
  ASSERT_TRUE(index.ok()) << index.status();
  ASSERT_EQ(index->size(), packed.size());
  EXPECT_EQ((*index)[20].sha256, p.sha256);
  EXPECT_EQ((*index)[20].offset, p.where.offset);
  EXPECT_EQ((*index)[20].size, static_cast<int64_t>(p.bytes.size()));
  std::vector<PackInfo> packs;
  ASSERT_TRUE(store_->ListPacks([&](const PackInfo& i) { packs.push_back(i); }).ok());
  ASSERT_EQ(packs.size(), 1u);
  EXPECT_EQ(packs[0].name, name);
  EXPECT_EQ(packs[0].size, static_cast<int64_t>(std::filesystem::file_size(PackPath(name))));
}

TEST_F(PackTest, AnUnpublishedPackLeavesNothingBehind) {
  {
    auto w = *store_->NewPackWriter();
    ASSERT_TRUE(w->Add(hash::Sha256::Of("x"), "x").ok());
    EXPECT_EQ(TmpFiles(), 1u);
  }
  EXPECT_EQ(TmpFiles(), 0u);
  int packs = 0;
  ASSERT_TRUE(store_->ListPacks([&](const PackInfo&) { ++packs; }).ok());
  EXPECT_EQ(packs, 0);
}

TEST_F(PackTest, WrongPlacesAndDamagedRecordsAreRefused) {
  std::string name;
  const std::vector<Packed> packed = WritePack(5, &name);
  // The record at another blob's place, a pack that is not there, a name
  // that is not a pack's.
  Packed wrong = packed[2];
  wrong.where = packed[3].where;
  EXPECT_TRUE(absl::IsDataLoss(ReadAt(wrong).status));
  wrong.where.offset += 1;
  EXPECT_TRUE(absl::IsDataLoss(ReadAt(wrong).status));
  Packed missing = packed[2];
  missing.where.pack = "pack-20260101000000-nothere";
  EXPECT_TRUE(absl::IsNotFound(ReadAt(missing).status));
  missing.where.pack = "../blobs";
  EXPECT_TRUE(absl::IsInvalidArgument(ReadAt(missing).status));
  // Every record, in order, read whole.
  std::vector<std::string> read;
  ASSERT_TRUE(store_->ReadPack(name, [&](const PackEntry& e, absl::string_view bytes) {
    EXPECT_EQ(e.offset, packed[read.size()].where.offset);
    read.emplace_back(bytes);
    return absl::OkStatus();
  }).ok());
  ASSERT_EQ(read.size(), packed.size());
  for (size_t i = 0; i < read.size(); ++i) EXPECT_EQ(read[i], packed[i].bytes);
  // A flipped byte in one record's bytes fails that record only, before
  // any of it is handed out; OpenRecorded names the file.
  Damage(PackPath(name), packed[2].where.offset + 52 + 10);
  Got damaged = ReadAt(packed[2]);
  EXPECT_TRUE(absl::IsDataLoss(damaged.status)) << damaged.status;
  EXPECT_EQ(damaged.bytes, "");
  EXPECT_EQ(ReadAt(packed[3]).bytes, packed[3].bytes);
  int before_damage = 0;
  absl::Status whole = store_->ReadPack(name, [&](const PackEntry&, absl::string_view) {
    ++before_damage;
    return absl::OkStatus();
  });
  EXPECT_TRUE(absl::IsDataLoss(whole)) << whole;
  EXPECT_EQ(before_damage, 2);
  auto recorded = OpenRecorded(*store_, "out/x.txt", packed[2].sha256,
                               static_cast<int64_t>(packed[2].bytes.size()), packed[2].where, 0, -1);
  EXPECT_TRUE(absl::IsDataLoss(recorded.status()));
  EXPECT_NE(recorded.status().message().find(name), std::string::npos) << recorded.status();
}

TEST_F(PackTest, CompactionCopiesTheRecordsAskedForEachChecked) {
  std::string name;
  const std::vector<Packed> packed = WritePack(30, &name);
  auto copy = store_->CopyPackRecords(name, {packed[1].where.offset, packed[7].where.offset,
                                             packed[29].where.offset});
  ASSERT_TRUE(copy.ok()) << copy.status();
  const std::vector<PackEntry>& entries = (*copy)->entries();
  ASSERT_EQ(entries.size(), 3u);
  int i = 0;
  for (int from : {1, 7, 29}) {
    EXPECT_EQ(entries[i].sha256, packed[from].sha256);
    Packed moved = packed[from];
    moved.where = {(*copy)->name(), entries[i++].offset};
    EXPECT_EQ(ReadAt(moved).bytes, packed[from].bytes);
  }
  auto check = VerifyPackFile(PackPath((*copy)->name()));
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_TRUE(check->index_ok) << check->problem;
  EXPECT_EQ(static_cast<int64_t>(std::filesystem::file_size(PackPath((*copy)->name()))),
            (*copy)->size());
  // Nothing asked: an empty pack. A place where no record starts, or past
  // the records, or a damaged record: DATA_LOSS naming the pack, and no
  // new pack left behind.
  EXPECT_TRUE(store_->CopyPackRecords(name, {}).ok());
  const size_t packs_before = std::distance(std::filesystem::directory_iterator(dir_ + "/packs"),
                                            std::filesystem::directory_iterator());
  for (int64_t bad : {packed[3].where.offset + 1, int64_t{0},
                      static_cast<int64_t>(std::filesystem::file_size(PackPath(name))) - 10}) {
    auto refused = store_->CopyPackRecords(name, {bad});
    EXPECT_TRUE(absl::IsDataLoss(refused.status())) << bad << ": " << refused.status();
    EXPECT_NE(refused.status().message().find(name), std::string::npos) << refused.status();
  }
  Damage(PackPath(name), packed[7].where.offset + 52 + 3);
  EXPECT_TRUE(absl::IsDataLoss(store_->CopyPackRecords(name, {packed[7].where.offset}).status()));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_ + "/packs"),
                          std::filesystem::directory_iterator()),
            static_cast<std::ptrdiff_t>(packs_before));
  EXPECT_EQ(TmpFiles(), 0u);
  EXPECT_TRUE(absl::IsNotFound(store_->CopyPackRecords("pack-20260101000000-nothere", {}).status()));
}

TEST_F(PackTest, APackIsVerifiedAndItsIndexRebuiltFromThePackAlone) {
  std::string name;
  const std::vector<Packed> packed = WritePack(30, &name);
  auto check = VerifyPackFile(PackPath(name));
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(check->records.size(), 30u);
  EXPECT_TRUE(check->index_ok);
  EXPECT_EQ(check->problem, "");

  // The index cut off (as by a crash that kept only the records): found,
  // then rebuilt; every record reads at its old place.
  const auto records_end = packed.back().where.offset + 52 +
                           static_cast<int64_t>(packed.back().bytes.size());
  std::filesystem::resize_file(PackPath(name), static_cast<uintmax_t>(records_end + 20));
  check = VerifyPackFile(PackPath(name));
  ASSERT_TRUE(check.ok());
  EXPECT_FALSE(check->index_ok);
  EXPECT_EQ(check->records.size(), 30u);
  EXPECT_NE(check->problem, "");
  EXPECT_FALSE(store_->ReadPackIndex(name).ok());
  auto kept = RebuildPackIndex(PackPath(name));
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(*kept, 30);
  check = VerifyPackFile(PackPath(name));
  EXPECT_TRUE(check->index_ok) << check->problem;
  ASSERT_EQ(store_->ReadPackIndex(name)->size(), 30u);
  for (const Packed& p : packed) EXPECT_EQ(ReadAt(p).bytes, p.bytes);

  // A damaged record: verification names it; a rebuild keeps the records
  // before it.
  Damage(PackPath(name), packed[12].where.offset + 60);
  check = VerifyPackFile(PackPath(name));
  EXPECT_FALSE(check->index_ok);
  EXPECT_EQ(check->records.size(), 12u);
  EXPECT_NE(check->problem.find(absl::StrCat("byte ", packed[12].where.offset)),
            std::string::npos)
      << check->problem;
  EXPECT_EQ(*RebuildPackIndex(PackPath(name)), 12);
  EXPECT_EQ(store_->ReadPackIndex(name)->size(), 12u);
  EXPECT_EQ(ReadAt(packed[11]).bytes, packed[11].bytes);
  // Not a pack at all.
  std::ofstream(dir_ + "/not-a-pack") << "hello";
  EXPECT_FALSE(VerifyPackFile(dir_ + "/not-a-pack")->index_ok);
  EXPECT_FALSE(RebuildPackIndex(dir_ + "/not-a-pack").ok());
}

TEST_F(PackTest, DeletingAPackIsIdempotent) {
  std::string name;
  const std::vector<Packed> packed = WritePack(3, &name);
  ASSERT_TRUE(store_->DeletePack(name).ok());
  ASSERT_TRUE(store_->DeletePack(name).ok());
  EXPECT_TRUE(absl::IsNotFound(ReadAt(packed[0]).status));
  EXPECT_TRUE(absl::IsInvalidArgument(store_->DeletePack("../../etc/passwd")));
}

}  // namespace
}  // namespace arca::blob
