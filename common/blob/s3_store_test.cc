// The S3 blob store and client against a real S3 server: the single-node
// Ceph that tests/s3/ceph.sh starts (ctest starts it as a fixture and
// passes its endpoint and credentials in the environment).

#include <curl/curl.h>
#include <sys/stat.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/blob/store.h"
#include "common/hash/crc32c.h"
#include "common/hash/sha256.h"
#include "common/ids.h"
#include "common/s3/client.h"

namespace arca::blob {
namespace {

std::string Endpoint() {
  const char* e = std::getenv("ARCA_S3_ENDPOINT");
  return e == nullptr ? "" : e;
}

constexpr absl::string_view kBucket = "arca-test";

class S3Test : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(Endpoint().empty()) << "ARCA_S3_ENDPOINT is not set (run under tests/s3/with_ceph.sh)";
    s3::Config config;
    config.endpoint = Endpoint();
    config.bucket = std::string(kBucket);
    ASSERT_TRUE(s3::ConfigFromEnvironment(&config).ok());
    client_ = std::make_unique<s3::Client>(config);
    ASSERT_TRUE(client_->CreateBucket().ok());
    prefix_ = absl::StrCat("t-", RandomToken(10));
    auto store = OpenS3BlobStore(absl::StrCat("s3://", kBucket, "/", prefix_), Endpoint());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  // What the test left under its prefix goes, so runs do not fill the
  // cluster.
  void TearDown() override {
    if (client_ == nullptr) return;
    std::vector<s3::MultipartUpload> uploads;
    (void)client_->ListMultipart(Key(""), [&](const s3::MultipartUpload& u) { uploads.push_back(u); });
    for (const auto& u : uploads) (void)client_->AbortMultipart(u.key, u.upload_id);
    for (const std::string& key : Keys("")) (void)client_->Delete(key);
  }

  std::string Key(absl::string_view rest) const { return absl::StrCat(prefix_, "/", rest); }

  // Stores `bytes` as one blob; returns its digest.
  std::string Put(absl::string_view bytes) {
    auto w = store_->NewWriter();
    EXPECT_TRUE(w.ok());
    EXPECT_TRUE((*w)->Append(bytes).ok());
    auto info = (*w)->Commit();
    EXPECT_TRUE(info.ok()) << info.status();
    if (info.ok()) {
      EXPECT_EQ(info->crc32c, hash::Crc32c(bytes));
    }
    return info.ok() ? info->sha256 : "";
  }

  absl::StatusOr<std::string> ReadAll(absl::StatusOr<std::unique_ptr<BlobReader>> reader) {
    if (!reader.ok()) return reader.status();
    std::string all, piece;
    for (;;) {
      absl::Status s = (*reader)->Read(&piece);
      if (!s.ok()) return s;
      if (piece.empty()) return all;
      all += piece;
    }
  }

  std::vector<std::string> Keys(absl::string_view prefix) {
    std::vector<std::string> keys;
    EXPECT_TRUE(client_->List(Key(prefix), [&](const s3::ObjectInfo& o) { keys.push_back(o.key); }).ok());
    return keys;
  }
  int Uploads() {
    int n = 0;
    EXPECT_TRUE(client_->ListMultipart(Key(""), [&](const s3::MultipartUpload&) { ++n; }).ok());
    return n;
  }

  std::unique_ptr<s3::Client> client_;
  std::string prefix_;
  std::unique_ptr<BlobStore> store_;
};

std::string Pattern(size_t n, int seed) {
  std::string s(n, '\0');
  uint32_t x = static_cast<uint32_t>(seed) * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

TEST_F(S3Test, ClientPutGetRangesListAndDelete) {
  ASSERT_TRUE(client_->Put(Key("a"), "hello, world").ok());
  EXPECT_EQ(*client_->GetBytes(Key("a")), "hello, world");
  EXPECT_EQ(*client_->GetBytes(Key("a"), 7, 5), "world");
  EXPECT_EQ(*client_->GetBytes(Key("a"), 7), "world");
  EXPECT_EQ(client_->Head(Key("a"))->size, 12);
  EXPECT_TRUE(absl::IsNotFound(client_->GetBytes(Key("missing")).status()));
  EXPECT_TRUE(absl::IsNotFound(client_->Head(Key("missing")).status()));
  EXPECT_TRUE(absl::IsOutOfRange(client_->GetBytes(Key("a"), 40, 2).status()));
  ASSERT_TRUE(client_->Put(Key("empty"), "").ok());
  EXPECT_EQ(*client_->GetBytes(Key("empty")), "");
  EXPECT_EQ(Keys(""), (std::vector<std::string>{Key("a"), Key("empty")}));
  ASSERT_TRUE(client_->Delete(Key("a")).ok());
  EXPECT_TRUE(client_->Delete(Key("a")).ok()) << "deleting what is gone succeeds";
  EXPECT_EQ(Keys(""), (std::vector<std::string>{Key("empty")}));
}

TEST_F(S3Test, ClientNeverReplacesAnObjectWhenAskedNotTo) {
  ASSERT_TRUE(client_->Put(Key("once"), "first", /*if_absent=*/true).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(client_->Put(Key("once"), "second", /*if_absent=*/true)));
  EXPECT_EQ(*client_->GetBytes(Key("once")), "first");
}

TEST_F(S3Test, ClientListsPastOnePage) {
  for (int i = 0; i < 1005; ++i) {
    ASSERT_TRUE(client_->Put(Key(absl::StrCat("many/", i)), "x").ok());
  }
  EXPECT_EQ(Keys("many/").size(), 1005u);
}

TEST_F(S3Test, ClientMultipartIsInvisibleUntilCompleteAndAbortLeavesNothing) {
  auto id = client_->StartMultipart(Key("mp"));
  ASSERT_TRUE(id.ok()) << id.status();
  const std::string p1 = Pattern(5 << 20, 1), p2 = Pattern(1000, 2);
  auto e1 = client_->PutPart(Key("mp"), *id, 1, p1);
  auto e2 = client_->PutPart(Key("mp"), *id, 2, p2);
  ASSERT_TRUE(e1.ok() && e2.ok());
  EXPECT_TRUE(absl::IsNotFound(client_->Head(Key("mp")).status()));
  EXPECT_EQ(Uploads(), 1);
  ASSERT_TRUE(client_->CompleteMultipart(Key("mp"), *id, {*e1, *e2}).ok());
  EXPECT_EQ(*client_->GetBytes(Key("mp")), p1 + p2);

  auto dead = client_->StartMultipart(Key("dead"));
  ASSERT_TRUE(client_->PutPart(Key("dead"), *dead, 1, p2).ok());
  ASSERT_TRUE(client_->AbortMultipart(Key("dead"), *dead).ok());
  EXPECT_EQ(Uploads(), 0);
  EXPECT_TRUE(absl::IsNotFound(client_->Head(Key("dead")).status()));
}

TEST_F(S3Test, ClientPutsAndGetsFilesOfAnySize) {
  const std::string dir = ::testing::TempDir() + "/" + prefix_;
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  for (size_t size : {size_t{0}, size_t{100}, size_t{8} << 20, (size_t{17} << 20) + 3}) {
    const std::string bytes = Pattern(size, static_cast<int>(size % 1000));
    const std::string in = absl::StrCat(dir, "/in-", size), out = absl::StrCat(dir, "/out-", size);
    FILE* f = fopen(in.c_str(), "wb");
    ASSERT_EQ(fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
    fclose(f);
    ASSERT_TRUE(client_->PutFile(Key(absl::StrCat("file-", size)), in).ok()) << size;
    ASSERT_TRUE(client_->GetFile(Key(absl::StrCat("file-", size)), out).ok()) << size;
    std::string back(size, '\0');
    f = fopen(out.c_str(), "rb");
    EXPECT_EQ(fread(back.data(), 1, size + 1, f), size);
    fclose(f);
    EXPECT_TRUE(back == bytes) << size;
    EXPECT_FALSE(client_->GetFile(Key(absl::StrCat("file-", size)), out).ok()) << "never overwrites a file";
  }
  EXPECT_TRUE(absl::IsNotFound(client_->GetFile(Key("missing"), dir + "/missing")));
  struct stat st;
  EXPECT_NE(stat((dir + "/missing").c_str(), &st), 0) << "a failed get leaves no file";
  EXPECT_EQ(Uploads(), 0);
}

TEST_F(S3Test, ClientKeepsMetadataAndCopiesLargeObjectsInParts) {
  ASSERT_TRUE(client_->Put(Key("m"), "with metadata", false, {{"colour", "blue"}}).ok());
  EXPECT_EQ(client_->Head(Key("m"))->metadata, (s3::Metadata{{"colour", "blue"}}));
  ASSERT_TRUE(client_->Copy(Key("m"), Key("m"), {{"colour", "green"}}).ok());
  EXPECT_EQ(client_->Head(Key("m"))->metadata, (s3::Metadata{{"colour", "green"}}));
  ASSERT_TRUE(client_->Copy(Key("m"), Key("m2")).ok());
  EXPECT_EQ(client_->Head(Key("m2"))->metadata, (s3::Metadata{{"colour", "green"}}))
      << "a copy without metadata keeps the source's";

  // Objects above max_copy_bytes are copied part by part (S3 copies at
  // most 5 GiB at once; here the limits are small).
  s3::Config config = client_->config();
  config.max_copy_bytes = 6 << 20;
  config.copy_part_bytes = 5 << 20;
  s3::Client parts(config);
  const std::string big = Pattern((12 << 20) + 7, 11);
  ASSERT_TRUE(parts.Put(Key("big"), big).ok());
  ASSERT_TRUE(parts.Copy(Key("big"), Key("big-copy"), {{"colour", "red"}}).ok());
  EXPECT_TRUE(*parts.GetBytes(Key("big-copy")) == big);
  EXPECT_EQ(parts.Head(Key("big-copy"))->metadata, (s3::Metadata{{"colour", "red"}}));
  const absl::Time before = parts.Head(Key("big"))->modified;
  absl::SleepFor(absl::Seconds(1.1));  // object times have one-second resolution
  ASSERT_TRUE(parts.Copy(Key("big"), Key("big"), {}, static_cast<int64_t>(big.size())).ok());
  EXPECT_GT(parts.Head(Key("big"))->modified, before) << "copied onto itself: marked as written";
  EXPECT_TRUE(*parts.GetBytes(Key("big")) == big);
  EXPECT_TRUE(absl::IsNotFound(parts.Copy(Key("missing"), Key("nowhere"), {}, 7 << 20)));
  EXPECT_EQ(Uploads(), 0) << "the failed copy's upload was aborted";
}

TEST_F(S3Test, ClientRefusesWrongCredentials) {
  s3::Config config = client_->config();
  config.credentials.secret_access_key = "not-the-secret";
  s3::Client wrong(config);
  absl::Status s = wrong.Put(Key("x"), "y");
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "SignatureDoesNotMatch")) << s;
}

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

long FetchUrl(const std::string& url, std::string* body) {
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
  curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  return status;
}

TEST_F(S3Test, PresignedUrlServesTheObjectAndNothingElse) {
  ASSERT_TRUE(client_->Put(Key("signed"), "presigned bytes").ok());
  const std::string url = client_->PresignGet(Key("signed"), absl::Minutes(5));
  std::string body;
  EXPECT_EQ(FetchUrl(url, &body), 200);
  EXPECT_EQ(body, "presigned bytes");
  // The signature covers the key.
  std::string other = url;
  other.replace(other.find("signed?"), 6, "signeX");
  body.clear();
  EXPECT_EQ(FetchUrl(other, &body), 403);
}

TEST_F(S3Test, SmallAndLargeBlobsReadWholeAndInRanges) {
  const std::string small = "a small blob";
  const std::string large = Pattern((20 << 20) + 12345, 3);  // three parts, 21 blocks
  const std::string s = Put(small), l = Put(large);
  EXPECT_EQ(s, hash::Sha256::Of(small));
  EXPECT_EQ(l, hash::Sha256::Of(large));
  EXPECT_EQ(*ReadAll(store_->Open(s)), small);
  EXPECT_EQ(*ReadAll(store_->Open(s, 2, 5)), "small");
  EXPECT_EQ(*ReadAll(store_->Open(l)), large);
  for (auto [offset, length] : std::vector<std::pair<int64_t, int64_t>>{
           {0, 1}, {(1 << 20) - 3, 10}, {(8 << 20) - 1, (1 << 20) + 2}, {(20 << 20) + 12000, -1}}) {
    EXPECT_EQ(*ReadAll(store_->Open(l, offset, length)),
              large.substr(offset, length < 0 ? std::string::npos : length))
        << offset << "+" << length;
  }
  EXPECT_EQ(store_->Stat(l)->size, static_cast<int64_t>(large.size()));
  EXPECT_TRUE(absl::IsInvalidArgument(store_->Open(s, 100).status()));
  EXPECT_TRUE(absl::IsNotFound(store_->Open(std::string(64, 'a')).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(store_->Open("not-a-digest").status()));
  std::vector<std::string> listed;
  ASSERT_TRUE(store_->List([&](const BlobInfo& b) { listed.push_back(b.sha256); }).ok());
  std::sort(listed.begin(), listed.end());
  std::vector<std::string> want = {s, l};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(listed, want) << "the .blocks object is not a blob";
  // Nothing left on the way in.
  EXPECT_TRUE(Keys("incoming/").empty());
  EXPECT_EQ(Uploads(), 0);
}

TEST_F(S3Test, BlockChecksumsGoInMetadataUpTo256MiBAndBesideBeyond) {
  const std::string mid = Pattern((3 << 20) + 1, 12);
  const std::string m = Put(mid);
  EXPECT_EQ(Keys("blobs/").size(), 1u) << "no .blocks object";
  // A blob stored before checksums went into metadata: .blocks beside it.
  const std::string key = Key(absl::StrCat("blobs/", m.substr(0, 2), "/", m.substr(2)));
  const std::string rot = mid.substr(0, 5) + "X" + mid.substr(6);
  ASSERT_TRUE(client_->Put(key, rot).ok());  // no metadata now
  EXPECT_TRUE(absl::IsDataLoss(ReadAll(store_->Open(m, 2 << 20, 10)).status()))
      << "without checksums, the digest is checked";

  const std::string huge = Pattern((256 << 20) + 1, 14);
  const std::string h = Put(huge);
  std::vector<std::string> keys = Keys("blobs/");
  EXPECT_EQ(std::count_if(keys.begin(), keys.end(),
                          [](const std::string& k) { return absl::EndsWith(k, ".blocks"); }),
            1);
  EXPECT_TRUE(*ReadAll(store_->Open(h, (255 << 20) + 3, 1 << 20)) == huge.substr((255 << 20) + 3, 1 << 20));
  // The .blocks object checks ranges block by block: damage in another
  // block does not stop this one.
  const std::string hkey = Key(absl::StrCat("blobs/", h.substr(0, 2), "/", h.substr(2)));
  std::string bad = huge;
  bad[5] ^= 1;
  ASSERT_TRUE(client_->Put(hkey, bad).ok());
  EXPECT_TRUE(*ReadAll(store_->Open(h, 200 << 20, 100)) == huge.substr(200 << 20, 100));
  EXPECT_TRUE(absl::IsDataLoss(ReadAll(store_->Open(h, 0, 100)).status()));
  ASSERT_TRUE(store_->Delete(h).ok());
  ASSERT_TRUE(store_->Delete(m).ok());
}

TEST_F(S3Test, OpeningSweepsWhatKilledWritersLeft) {
  auto id = client_->StartMultipart(Key("incoming/killed"));
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(client_->PutPart(Key("incoming/killed"), *id, 1, "part").ok());
  ASSERT_TRUE(client_->Put(Key("incoming/completed-not-placed"), "bytes").ok());
  const std::string url = absl::StrCat("s3://", kBucket, "/", prefix_);
  ASSERT_TRUE(OpenS3BlobStore(url, Endpoint()).ok());
  EXPECT_EQ(Uploads(), 1) << "younger than a day: perhaps still going";
  EXPECT_EQ(Keys("incoming/").size(), 1u);
  ASSERT_TRUE(OpenS3BlobStore(url, Endpoint(), absl::ZeroDuration()).ok());
  EXPECT_EQ(Uploads(), 0);
  EXPECT_TRUE(Keys("incoming/").empty());
}

TEST_F(S3Test, StoringTheSameBytesAgainKeepsOneBlobAndMarksItWritten) {
  const std::string large = Pattern(9 << 20, 4);
  const std::string l = Put(large);
  const std::string s = Put("again");
  const absl::Time before = std::min(store_->Stat(l)->modified, store_->Stat(s)->modified);
  absl::SleepFor(absl::Seconds(1.1));  // object times have one-second resolution
  EXPECT_EQ(Put(large), l);
  EXPECT_EQ(Put("again"), s);
  EXPECT_GT(store_->Stat(l)->modified, before);
  EXPECT_GT(store_->Stat(s)->modified, before);
  EXPECT_EQ(client_->Head(Key(absl::StrCat("blobs/", l.substr(0, 2), "/", l.substr(2))))->metadata.size(), 1u)
      << "marking a blob as written keeps its block checksums";
  EXPECT_EQ(*ReadAll(store_->Open(l)), large);
  EXPECT_TRUE(Keys("incoming/").empty());
}

TEST_F(S3Test, AWrongDigestOrAnAbandonedWriterLeavesNothingButAnOrphan) {
  {
    auto w = *store_->NewWriter();
    ASSERT_TRUE(w->Append(Pattern(10 << 20, 5)).ok());  // a part went up
    EXPECT_TRUE(absl::IsDataLoss(w->Seal(std::string(64, '0')).status()));
  }
  {
    auto w = *store_->NewWriter();
    ASSERT_TRUE(w->Append(Pattern(17 << 20, 6)).ok());
    EXPECT_EQ(Uploads(), 1);
  }  // dropped unsealed
  EXPECT_EQ(Uploads(), 0);
  EXPECT_TRUE(Keys("").empty());
  // Sealed blobs go up at once; one never published is an unreferenced
  // blob (and its checksums), which the orphan sweep removes.
  std::string sha;
  {
    auto w = *store_->NewWriter();
    ASSERT_TRUE(w->Append(Pattern(9 << 20, 7)).ok());
    sha = w->Seal()->sha256;
  }
  EXPECT_EQ(Uploads(), 0);
  EXPECT_TRUE(Keys("incoming/").empty());
  EXPECT_TRUE(*store_->DeleteIfIdle(sha, absl::Now() + absl::Minutes(1)));
  EXPECT_TRUE(Keys("").empty());
}

TEST_F(S3Test, DamagedBytesAreDataLossBeforeTheyAreHandedOut) {
  const std::string large = Pattern(3 << 20, 8);
  const std::string l = Put(large);
  const std::string s = Put("small and checked by digest");
  // Same length, other bytes, straight into the bucket, its metadata (the
  // block checksums) kept.
  std::string bad = large;
  bad[(2 << 20) + 5] ^= 1;
  const std::string key = Key(absl::StrCat("blobs/", l.substr(0, 2), "/", l.substr(2)));
  const s3::Metadata metadata = client_->Head(key)->metadata;
  ASSERT_EQ(metadata.size(), 1u) << "the block checksums";
  ASSERT_TRUE(client_->Put(key, bad, /*if_absent=*/false, metadata).ok());
  EXPECT_EQ(*ReadAll(store_->Open(l, 0, 1 << 20)), large.substr(0, 1 << 20)) << "an intact block still reads";
  absl::StatusOr<std::string> damaged = ReadAll(store_->Open(l, 2 << 20, 10));
  EXPECT_TRUE(absl::IsDataLoss(damaged.status())) << damaged.status();
  ASSERT_TRUE(client_->Put(Key(absl::StrCat("blobs/", s.substr(0, 2), "/", s.substr(2))),
                           "small and checked by digesT").ok());
  EXPECT_TRUE(absl::IsDataLoss(ReadAll(store_->Open(s, 0, 5)).status()));
}

TEST_F(S3Test, DeleteIfIdleSparesWhatWasJustWritten) {
  const std::string s = Put("idle");
  EXPECT_FALSE(*store_->DeleteIfIdle(s, absl::Now() - absl::Hours(1)));
  EXPECT_TRUE(store_->Stat(s).ok());
  EXPECT_TRUE(*store_->DeleteIfIdle(s, absl::Now() + absl::Minutes(1)));
  EXPECT_TRUE(absl::IsNotFound(store_->Stat(s).status()));
  EXPECT_TRUE(*store_->DeleteIfIdle(s, absl::Now())) << "absent counts as gone";
  const std::string l = Put(Pattern(2 << 20, 9));
  ASSERT_TRUE(store_->Delete(l).ok());
  EXPECT_TRUE(Keys("blobs/").empty()) << "the checksums went with the blob";
}

TEST_F(S3Test, PacksWriteReadCheckAndDelete) {
  auto pack = *store_->NewPackWriter();
  std::vector<std::pair<std::string, Location>> put;
  std::vector<std::string> contents;
  for (int i = 0; i < 3000; ++i) {  // about 12 MiB: two parts
    contents.push_back(Pattern(4096 + i % 7, 100 + i));
    const std::string sha = hash::Sha256::Of(contents.back());
    put.emplace_back(sha, *pack->Add(sha, contents.back()));
  }
  EXPECT_TRUE(absl::IsNotFound(store_->ReadPackIndex(pack->name()).status())) << "not yet published";
  ASSERT_TRUE(pack->Publish().ok());
  std::vector<PackInfo> packs;
  ASSERT_TRUE(store_->ListPacks([&](const PackInfo& p) { packs.push_back(p); }).ok());
  ASSERT_EQ(packs.size(), 1u);
  EXPECT_EQ(packs[0].name, pack->name());
  EXPECT_EQ(packs[0].size, pack->size());
  for (int i : {0, 1, 1999, 2999}) {
    EXPECT_EQ(*ReadAll(store_->OpenAt(put[i].second, put[i].first)), contents[i]);
    EXPECT_EQ(*ReadAll(store_->OpenAt(put[i].second, put[i].first, 10, 20)), contents[i].substr(10, 20));
  }
  EXPECT_TRUE(absl::IsDataLoss(store_->OpenAt(put[1].second, put[0].first).status()))
      << "a record that holds another blob";
  EXPECT_EQ(store_->ReadPackIndex(pack->name())->size(), 3000u);
  size_t n = 0;
  ASSERT_TRUE(store_->ReadPack(pack->name(), [&](const PackEntry& e, absl::string_view bytes) {
    EXPECT_EQ(bytes, contents[n]);
    EXPECT_EQ(e.sha256, put[n].first);
    ++n;
    return absl::OkStatus();
  }).ok());
  EXPECT_EQ(n, 3000u);
  // Compaction's copy: the records chosen, in a new pack, each where the
  // copy says; a place where no record starts is refused.
  auto copy = store_->CopyPackRecords(pack->name(), {put[1].second.offset, put[2999].second.offset});
  ASSERT_TRUE(copy.ok()) << copy.status();
  ASSERT_EQ((*copy)->entries().size(), 2u);
  const Location moved{(*copy)->name(), (*copy)->entries()[1].offset};
  EXPECT_EQ(*ReadAll(store_->OpenAt(moved, put[2999].first)), contents[2999]);
  EXPECT_TRUE(absl::IsDataLoss(
      store_->CopyPackRecords(pack->name(), {put[1].second.offset + 1}).status()));
  ASSERT_TRUE(store_->DeletePack((*copy)->name()).ok());

  // A small pack goes up with one PUT; damage in it is DATA_LOSS.
  auto one = *store_->NewPackWriter();
  const std::string bytes = "packed once";
  const Location at = *one->Add(hash::Sha256::Of(bytes), bytes);
  ASSERT_TRUE(one->Publish().ok());
  std::string raw = *client_->GetBytes(Key(absl::StrCat("packs/", one->name())));
  raw[at.offset + 60] ^= 1;
  ASSERT_TRUE(client_->Put(Key(absl::StrCat("packs/", one->name())), raw).ok());
  absl::Status damaged = store_->OpenAt(at, hash::Sha256::Of(bytes)).status();
  EXPECT_TRUE(absl::IsDataLoss(damaged)) << damaged;
  EXPECT_TRUE(absl::StrContains(damaged.message(), one->name())) << damaged;

  ASSERT_TRUE(store_->DeletePack(pack->name()).ok());
  ASSERT_TRUE(store_->DeletePack(one->name()).ok());
  EXPECT_TRUE(absl::IsNotFound(store_->OpenAt(put[0].second, put[0].first).status()));
  EXPECT_TRUE(Keys("packs/").empty());
  EXPECT_TRUE(absl::IsInvalidArgument(store_->DeletePack("../blobs")));
}

TEST_F(S3Test, AnUnpublishedPackLeavesNothing) {
  {
    auto pack = *store_->NewPackWriter();
    for (int i = 0; i < 2500; ++i) {
      const std::string b = Pattern(4096, 5000 + i);
      ASSERT_TRUE(pack->Add(hash::Sha256::Of(b), b).ok());
    }
  }
  EXPECT_EQ(Uploads(), 0);
  EXPECT_TRUE(Keys("").empty());
}

TEST_F(S3Test, ReadinessAndSpace) {
  EXPECT_TRUE(store_->CheckWritable().ok());
  EXPECT_TRUE(absl::IsUnimplemented(store_->FreeSpace().status()));
}

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    const char* old = std::getenv(name);
    had_ = old != nullptr;
    if (had_) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (had_) setenv(name_, old_.c_str(), 1);
    else unsetenv(name_);
  }

 private:
  const char* name_;
  bool had_;
  std::string old_;
};

TEST(S3StoreOpen, HttpsEndpointsTrustTheAuthoritiesInAwsCaBundle) {
  const char* endpoint = std::getenv("ARCA_S3_TLS_ENDPOINT");
  const char* ca = std::getenv("ARCA_S3_TLS_CA");
  ASSERT_TRUE(endpoint != nullptr && ca != nullptr) << "run under tests/s3/with_ceph.sh";
  const std::string url = absl::StrCat("s3://", kBucket, "/tls-", RandomToken(8));
  {
    ScopedEnv trust("AWS_CA_BUNDLE", ca);
    auto store = OpenS3BlobStore(url, endpoint);
    ASSERT_TRUE(store.ok()) << store.status();
    const std::string bytes = Pattern((2 << 20) + 9, 15);
    auto w = *(*store)->NewWriter();
    ASSERT_TRUE(w->Append(bytes).ok());
    const std::string sha = w->Commit()->sha256;
    auto r = *(*store)->Open(sha, 1 << 20, 100);
    std::string piece;
    ASSERT_TRUE(r->Read(&piece).ok());
    EXPECT_EQ(piece, bytes.substr(1 << 20, 100));
    EXPECT_TRUE((*store)->Delete(sha).ok());
  }
  // The store's certificate is self-signed: not among the system's.
  ScopedEnv system("AWS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt");
  auto refused = OpenS3BlobStore(url, endpoint);
  // FAILED_PRECONDITION, not UNAVAILABLE: asking again would not help.
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status())) << refused.status();
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "AWS_CA_BUNDLE")) << refused.status();
}

TEST(S3StoreOpen, BadUrlsAndMissingCredentialsAreClearErrors) {
  EXPECT_TRUE(absl::IsInvalidArgument(OpenS3BlobStore("bucket/x", "http://127.0.0.1:1").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(OpenS3BlobStore("s3://", "http://127.0.0.1:1").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(OpenS3BlobStore("s3://bad bucket", "http://127.0.0.1:1").status()));
  if (!Endpoint().empty()) {
    auto missing = OpenS3BlobStore("s3://arca-no-such-bucket", Endpoint());
    EXPECT_TRUE(absl::IsFailedPrecondition(missing.status())) << missing.status();
    EXPECT_TRUE(absl::StrContains(missing.status().message(), "arca-no-such-bucket"));
  }
  const std::string saved = std::getenv("AWS_SECRET_ACCESS_KEY") ? std::getenv("AWS_SECRET_ACCESS_KEY") : "";
  unsetenv("AWS_SECRET_ACCESS_KEY");
  auto no_creds = OpenS3BlobStore("s3://arca-test", "http://127.0.0.1:1");
  EXPECT_TRUE(absl::IsInvalidArgument(no_creds.status()));
  EXPECT_TRUE(absl::StrContains(no_creds.status().message(), "AWS_SECRET_ACCESS_KEY"));
  if (!saved.empty()) setenv("AWS_SECRET_ACCESS_KEY", saved.c_str(), 1);
}

}  // namespace
}  // namespace arca::blob
