// Packs: small blobs of one upload in one file (docs/blob-format.md).

#include "common/blob/local.h"

#include "absl/cleanup/cleanup.h"

namespace arca::blob {
namespace {

std::string RawDigest(absl::string_view sha256_hex) { return absl::HexStringToBytes(sha256_hex); }
std::string HexDigest(absl::string_view raw) { return absl::BytesToHexString(raw); }

absl::Status ReadExactly(int fd, std::string* out, size_t n, int64_t offset,
                         absl::string_view what) {
  out->resize(n);
  size_t got = 0;
  RETURN_IF_ERROR(ReadAt(fd, out->data(), n, offset, &got));
  if (got < n) {
    return absl::DataLossError(absl::StrCat(what, " at byte ", offset, " is cut short"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string EncodeIndex(const std::vector<PackEntry>& entries, int64_t index_offset) {
  std::string out;
  out.reserve(entries.size() * kIndexEntryBytes + kFooterBytes);
  for (size_t i = 0; i < entries.size(); ++i) {
    out += RawDigest(entries[i].sha256);
    PutFixed(&out, static_cast<uint64_t>(entries[i].offset), 8);
    PutFixed(&out, static_cast<uint64_t>(entries[i].size), 8);
    PutFixed(&out, entries[i].crc32c, 4);
  }
  out.append(kIndexMagic.data(), kIndexMagic.size());
  PutFixed(&out, static_cast<uint64_t>(index_offset), 8);
  PutFixed(&out, entries.size(), 8);
  PutFixed(&out, hash::Crc32c(out), 4);
  return out;
}

std::string NewPackName() {
  return absl::StrCat("pack-", absl::FormatTime("%Y%m%d%H%M%S", absl::Now(), absl::UTCTimeZone()),
                      "-", RandomToken(12));
}

absl::Status CheckPackName(absl::string_view pack) {
  if (!absl::StartsWith(pack, "pack-") || !IsSafeName(pack, 64)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", pack.substr(0, 80), "\" is not the name of a pack"));
  }
  return absl::OkStatus();
}

std::string EncodeRecordHeader(absl::string_view sha256_hex, int64_t size, uint32_t crc) {
  std::string out(kRecordMagic);
  out += RawDigest(sha256_hex);
  PutFixed(&out, static_cast<uint64_t>(size), 8);
  PutFixed(&out, crc, 4);
  PutFixed(&out, hash::Crc32c(out), 4);
  return out;
}

std::optional<RecordHeader> DecodeRecordHeader(absl::string_view bytes) {
  if (bytes.size() < kRecordHeaderBytes || !absl::StartsWith(bytes, kRecordMagic) ||
      GetFixed(bytes.data() + kRecordHeaderBytes - 4, 4) !=
          hash::Crc32c(bytes.substr(0, kRecordHeaderBytes - 4))) {
    return std::nullopt;
  }
  RecordHeader h;
  h.sha256 = HexDigest(bytes.substr(4, 32));
  h.size = static_cast<int64_t>(GetFixed(bytes.data() + 36, 8));
  h.crc = static_cast<uint32_t>(GetFixed(bytes.data() + 44, 4));
  if (h.size < 0) return std::nullopt;
  return h;
}

absl::StatusOr<RecordHeader> CheckRecordHeader(absl::string_view header, int64_t offset,
                                              absl::string_view sha256) {
  std::optional<RecordHeader> h = DecodeRecordHeader(header);
  if (!h.has_value()) {
    return absl::DataLossError(
        absl::StrCat("the record header at byte ", offset, " is damaged"));
  }
  if (h->sha256 != sha256) {
    return absl::DataLossError(absl::StrCat("the record at byte ", offset, " holds blob ",
                                            h->sha256, ", not ", sha256));
  }
  return *std::move(h);
}

absl::Status CheckRecordBytes(absl::string_view bytes, const RecordHeader& h, int64_t offset) {
  if (static_cast<int64_t>(bytes.size()) < h.size) {
    return absl::DataLossError(absl::StrCat("the record's bytes at byte ", offset, " are cut short"));
  }
  if (hash::Crc32c(bytes) != h.crc) {
    return absl::DataLossError(absl::StrCat("blob ", h.sha256, " at byte ", offset,
                                            " no longer matches its checksum"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadRecord(int fd, int64_t offset, absl::string_view sha256) {
  std::string header;
  RETURN_IF_ERROR(ReadExactly(fd, &header, kRecordHeaderBytes, offset, "the record"));
  ASSIGN_OR_RETURN(const RecordHeader h, CheckRecordHeader(header, offset, sha256));
  std::string bytes;
  RETURN_IF_ERROR(ReadExactly(fd, &bytes, static_cast<size_t>(h.size),
                              offset + static_cast<int64_t>(kRecordHeaderBytes),
                              "the record's bytes"));
  RETURN_IF_ERROR(CheckRecordBytes(bytes, h, offset));
  return bytes;
}

absl::Status NoRecordAt(absl::string_view pack, int64_t offset) {
  return absl::DataLossError(absl::StrCat("pack ", pack, ": no record starts at byte ", offset));
}

absl::StatusOr<Footer> DecodeFooter(absl::string_view footer, int64_t size) {
  if (size < static_cast<int64_t>(kPackMagic.size() + kFooterBytes) ||
      footer.size() != kFooterBytes) {
    return absl::DataLossError("the pack is too short to hold an index");
  }
  Footer f;
  f.index_offset = static_cast<int64_t>(GetFixed(footer.data() + 8, 8));
  f.count = GetFixed(footer.data() + 16, 8);
  const int64_t index_end = size - static_cast<int64_t>(kFooterBytes);
  if (!absl::StartsWith(footer, kIndexMagic) || f.index_offset < 8 || f.index_offset > index_end ||
      (index_end - f.index_offset) % static_cast<int64_t>(kIndexEntryBytes) != 0 ||
      f.count != static_cast<uint64_t>((index_end - f.index_offset) / kIndexEntryBytes)) {
    return absl::DataLossError("the pack's footer is damaged");
  }
  return f;
}

absl::StatusOr<std::vector<PackEntry>> DecodeIndex(absl::string_view index,
                                                   absl::string_view footer) {
  const uint64_t count = GetFixed(footer.data() + 16, 8);
  if (index.size() != count * kIndexEntryBytes ||
      hash::Crc32c(absl::StrCat(index, footer.substr(0, 24))) != GetFixed(footer.data() + 24, 4)) {
    return absl::DataLossError("the pack's index no longer matches its checksum");
  }
  std::vector<PackEntry> entries(count);
  for (size_t i = 0; i < count; ++i) {
    const char* p = index.data() + i * kIndexEntryBytes;
    entries[i].sha256 = HexDigest(absl::string_view(p, 32));
    entries[i].offset = static_cast<int64_t>(GetFixed(p + 32, 8));
    entries[i].size = static_cast<int64_t>(GetFixed(p + 40, 8));
    entries[i].crc32c = static_cast<uint32_t>(GetFixed(p + 48, 4));
  }
  return entries;
}

absl::StatusOr<std::vector<PackEntry>> ReadIndex(int fd, int64_t size, int64_t* index_offset_out) {
  std::string footer;
  if (size >= static_cast<int64_t>(kFooterBytes)) {
    RETURN_IF_ERROR(ReadExactly(fd, &footer, kFooterBytes, size - kFooterBytes, "the footer"));
  }
  ASSIGN_OR_RETURN(const Footer f, DecodeFooter(footer, size));
  std::string index;
  RETURN_IF_ERROR(ReadExactly(fd, &index, f.count * kIndexEntryBytes, f.index_offset, "the index"));
  ASSIGN_OR_RETURN(std::vector<PackEntry> entries, DecodeIndex(index, footer));
  if (index_offset_out != nullptr) *index_offset_out = f.index_offset;
  return entries;
}

// ------------------------------------------------------------- the writer

LocalPackWriter::~LocalPackWriter() {
  if (write_.valid()) write_.get().IgnoreError();
  if (fd_ >= 0) close(fd_);
  if (!published_) unlink(tmp_path_.c_str());
}

absl::Status LocalPackWriter::Create() {
  fd_ = open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) return Errno("create", tmp_path_);
  pending_ = std::string(kPackMagic);
  return absl::OkStatus();
}

absl::Status LocalPackWriter::Flush() {
  if (write_.valid()) RETURN_IF_ERROR(write_.get());
  std::swap(pending_, writing_);
  pending_.clear();
  // Written, and its write-back to disk started, while the next buffer
  // fills; Publish's flush then has little left to wait for.
  write_ = std::async(std::launch::async, [this, offset = written_] {
    RETURN_IF_ERROR(WriteAt(fd_, writing_.data(), writing_.size(), offset, tmp_path_));
    sync_file_range(fd_, offset, static_cast<off_t>(writing_.size()), SYNC_FILE_RANGE_WRITE);
    return absl::OkStatus();
  });
  written_ += static_cast<int64_t>(writing_.size());
  return absl::OkStatus();
}

absl::StatusOr<Location> LocalPackWriter::Add(absl::string_view sha256, absl::string_view bytes) {
  return Add(sha256, bytes, hash::Crc32c(bytes));
}

absl::StatusOr<Location> LocalPackWriter::Add(absl::string_view sha256, absl::string_view bytes,
                                              uint32_t crc) {
  if (published_) return absl::FailedPreconditionError("pack already published");
  RETURN_IF_ERROR(CheckDigest(sha256));
  const int64_t offset = written_ + static_cast<int64_t>(pending_.size());
  pending_ += EncodeRecordHeader(sha256, static_cast<int64_t>(bytes.size()), crc);
  pending_.append(bytes.data(), bytes.size());
  entries_.push_back(
      PackEntry{std::string(sha256), offset, static_cast<int64_t>(bytes.size()), crc});
  if (pending_.size() >= kPackBufferBytes) RETURN_IF_ERROR(Flush());
  return Location{name_, offset};
}

absl::Status LocalPackWriter::Publish() {
  if (published_) return absl::OkStatus();
  pending_ += EncodeIndex(entries_, written_ + static_cast<int64_t>(pending_.size()));
  RETURN_IF_ERROR(Flush());
  RETURN_IF_ERROR(write_.get());
  if (fdatasync(fd_) != 0) return Errno("fdatasync", tmp_path_);
  close(fd_);
  fd_ = -1;
  if (rename(tmp_path_.c_str(), final_path_.c_str()) != 0) return Errno("rename", final_path_);
  published_ = true;
  return Fsync(store_->packs_dir(), O_DIRECTORY);
}

// ------------------------------------------------------------ compaction

absl::StatusOr<std::unique_ptr<PackWriter>> LocalBlobStore::CopyPackRecords(
    absl::string_view pack, const std::vector<int64_t>& offsets) {
  ASSIGN_OR_RETURN(const UniqueFd fd, OpenPack(pack));
  int64_t records_end = 0;
  RETURN_IF_ERROR(IndexOf(pack, fd.get(), &records_end).status());
  ASSIGN_OR_RETURN(std::unique_ptr<LocalPackWriter> to, NewLocalPackWriter());
  // The records are checked where they lie in the mapped pack and copied
  // from there: one read of each byte, no reads of dead ones.
  if (records_end > 0) {
    void* map = mmap(nullptr, static_cast<size_t>(records_end), PROT_READ, MAP_SHARED, fd.get(), 0);
    if (map == MAP_FAILED) return Errno("mmap", absl::StrCat("pack ", pack));
    absl::Cleanup unmap = [&] { munmap(map, static_cast<size_t>(records_end)); };
    madvise(map, static_cast<size_t>(records_end), MADV_SEQUENTIAL);
    const absl::string_view records(static_cast<const char*>(map),
                                    static_cast<size_t>(records_end));
    for (const int64_t offset : offsets) {
      if (offset < static_cast<int64_t>(kPackMagic.size()) ||
          offset > records_end - static_cast<int64_t>(kRecordHeaderBytes)) {
        return NoRecordAt(pack, offset);
      }
      const absl::string_view record = records.substr(static_cast<size_t>(offset));
      const std::optional<RecordHeader> h = DecodeRecordHeader(record);
      if (!h.has_value()) return NoRecordAt(pack, offset);
      const absl::string_view bytes = record.substr(kRecordHeaderBytes, static_cast<size_t>(h->size));
      if (absl::Status s = CheckRecordBytes(bytes, *h, offset); !s.ok()) return InPack(pack, s);
      RETURN_IF_ERROR(to->Add(h->sha256, bytes, h->crc).status());
    }
  }
  RETURN_IF_ERROR(to->Publish());
  return std::unique_ptr<PackWriter>(std::move(to));
}

// ------------------------------------------------------ checks and repair

absl::StatusOr<PackCheck> VerifyPackFile(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("no pack ", path));
    return Errno("open", path);
  }
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return Errno("stat", path);
  PackCheck check;
  std::string magic;
  if (!ReadExactly(fd.get(), &magic, kPackMagic.size(), 0, "the magic").ok() ||
      magic != kPackMagic) {
    check.problem = "the file does not start as a pack";
    return check;
  }
  check.is_pack = true;
  // The records, in order, as far as they are intact; the index's offset
  // (if the footer can be believed) says where they end.
  int64_t records_end = st.st_size;
  auto index = ReadIndex(fd.get(), st.st_size, &records_end);
  for (int64_t at = check.IntactEnd(); at < records_end; at = check.IntactEnd()) {
    std::string header, bytes;
    if (!ReadExactly(fd.get(), &header, kRecordHeaderBytes, at, "header").ok()) break;
    const std::optional<RecordHeader> h = DecodeRecordHeader(header);
    if (!h.has_value()) {
      if (index.ok()) check.problem = absl::StrCat("the record header at byte ", at, " is damaged");
      break;
    }
    absl::Status read = ReadExactly(fd.get(), &bytes, static_cast<size_t>(h->size),
                                    at + static_cast<int64_t>(kRecordHeaderBytes),
                                    "the record's bytes");
    if (read.ok() && (hash::Crc32c(bytes) != h->crc || hash::Sha256::Of(bytes) != h->sha256)) {
      read = absl::DataLossError(absl::StrCat("the record at byte ", at,
                                              " no longer matches its checksum or digest"));
    }
    if (!read.ok()) {
      check.problem = std::string(read.message());
      break;
    }
    check.records.push_back(PackEntry{h->sha256, at, h->size, h->crc});
  }
  if (!index.ok()) {
    if (check.problem.empty()) check.problem = std::string(index.status().message());
    return check;
  }
  check.index_ok = std::equal(check.records.begin(), check.records.end(), index->begin(),
                              index->end(), [](const PackEntry& a, const PackEntry& b) {
                                return a.sha256 == b.sha256 && a.offset == b.offset &&
                                       a.size == b.size && a.crc32c == b.crc32c;
                              });
  if (!check.index_ok && check.problem.empty()) {
    check.problem = "the index does not list the pack's records";
  }
  return check;
}

int64_t PackCheck::IntactEnd() const {
  if (records.empty()) return static_cast<int64_t>(kPackMagic.size());
  return records.back().offset + static_cast<int64_t>(kRecordHeaderBytes) + records.back().size;
}

absl::StatusOr<int64_t> RebuildPackIndex(const std::string& path) {
  ASSIGN_OR_RETURN(const PackCheck check, VerifyPackFile(path));
  if (!check.is_pack) {
    return absl::DataLossError(absl::StrCat(path, " does not start as a pack"));
  }
  UniqueFd in(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return Errno("open", path);
  // The intact records as they are, then their new index.
  std::string bytes;
  RETURN_IF_ERROR(
      ReadExactly(in.get(), &bytes, static_cast<size_t>(check.IntactEnd()), 0, "pack"));
  bytes += EncodeIndex(check.records, check.IntactEnd());
  const std::string tmp = absl::StrCat(path, ".rebuilding-", RandomToken(8));
  RETURN_IF_ERROR(WriteFile(tmp, bytes));
  absl::Status s = Fsync(tmp);
  if (s.ok() && rename(tmp.c_str(), path.c_str()) != 0) s = Errno("rename", path);
  if (!s.ok()) {
    unlink(tmp.c_str());
    return s;
  }
  RETURN_IF_ERROR(Fsync(path.substr(0, path.rfind('/')), O_DIRECTORY));
  return static_cast<int64_t>(check.records.size());
}

}  // namespace arca::blob
