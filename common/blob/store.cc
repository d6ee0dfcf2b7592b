#include "common/blob/store.h"

#include "absl/strings/str_cat.h"
#include "common/blob/local.h"

namespace arca::blob {

absl::StatusOr<std::unique_ptr<BlobReader>> BlobStore::OpenAt(const Location& where,
                                                              absl::string_view sha256,
                                                              int64_t offset, int64_t length) {
  if (!where.packed()) return Open(sha256, offset, length);
  return absl::UnimplementedError("this blob store keeps no packs");
}

absl::StatusOr<std::unique_ptr<PackWriter>> BlobStore::NewPackWriter() {
  return absl::UnimplementedError("this blob store keeps no packs");
}

absl::Status BlobStore::ListPacks(const std::function<void(const PackInfo&)>&) {
  return absl::OkStatus();  // none
}

absl::StatusOr<std::vector<PackEntry>> BlobStore::ReadPackIndex(absl::string_view pack) {
  return absl::NotFoundError(absl::StrCat("no pack ", pack));
}

absl::Status BlobStore::ReadPack(
    absl::string_view pack,
    const std::function<absl::Status(const PackEntry&, absl::string_view)>&) {
  return absl::NotFoundError(absl::StrCat("no pack ", pack));
}

absl::StatusOr<std::unique_ptr<PackWriter>> BlobStore::CopyPackRecords(
    absl::string_view pack, const std::vector<int64_t>& offsets) {
  ASSIGN_OR_RETURN(std::unique_ptr<PackWriter> to, NewPackWriter());
  size_t next = 0;
  RETURN_IF_ERROR(
      ReadPack(pack, [&](const PackEntry& e, absl::string_view bytes) -> absl::Status {
        if (next == offsets.size() || e.offset < offsets[next]) return absl::OkStatus();
        if (e.offset > offsets[next]) return NoRecordAt(pack, offsets[next]);
        ++next;
        return to->Add(e.sha256, bytes).status();
      }));
  if (next < offsets.size()) return NoRecordAt(pack, offsets[next]);
  RETURN_IF_ERROR(to->Publish());
  return to;
}

absl::Status BlobStore::DeletePack(absl::string_view) { return absl::OkStatus(); }

absl::StatusOr<std::unique_ptr<BlobReader>> OpenRecorded(BlobStore& store, absl::string_view name,
                                                         absl::string_view sha256, int64_t size,
                                                         const Location& where, int64_t offset,
                                                         int64_t length) {
  auto reader = store.OpenAt(where, sha256, offset, length);
  if (absl::IsNotFound(reader.status())) {
    return absl::DataLossError(absl::StrCat("the bytes of ", name, " (sha256 ", sha256,
                                            ") are missing from the blob store"));
  }
  if (reader.ok() && (*reader)->size() != size) {
    return absl::DataLossError(absl::StrCat("the stored bytes of ", name, " are ",
                                            (*reader)->size(), " bytes, not the ", size,
                                            " recorded"));
  }
  return reader;
}

absl::Status ReadRecorded(BlobReader& reader, absl::string_view name, std::string* out) {
  absl::Status read = reader.Read(out);
  if (absl::IsDataLoss(read)) {
    return absl::DataLossError(
        absl::StrCat("stored bytes of ", name, " are damaged: ", read.message()));
  }
  return read;
}

absl::StatusOr<BlobStore::Space> LocalBlobStore::FreeSpace() {
  struct statvfs fs;
  if (statvfs(blobs_.c_str(), &fs) != 0) return Errno("statvfs", blobs_);
  Space space;
  space.free_bytes = static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize);
  space.capacity_bytes = static_cast<int64_t>(fs.f_blocks) * static_cast<int64_t>(fs.f_frsize);
  return space;
}

absl::Status LocalBlobStore::CheckWritable() {
  const std::string path = TmpPath("");
  absl::Status written = WriteFile(path, "probe");
  unlink(path.c_str());
  return written;
}

absl::Status LocalBlobStore::Init() {
  for (const std::string& d : {blobs_.substr(0, blobs_.rfind('/')), blobs_, tmp_, packs_}) {
    if (mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) return Errno("mkdir", d);
  }
  // The 256 prefix directories, once, so publishing a blob is one rename,
  // and as many for temporary files: ext4 allocates a new file's inode
  // near its directory's, and many files made in one directory queue up
  // on that directory and its inode group.
  for (int i = 0; i < 256; ++i) {
    for (const std::string& parent : {blobs_, tmp_}) {
      const std::string d = absl::StrCat(parent, "/", HexPrefix(i));
      if (mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) return Errno("mkdir", d);
    }
  }
  RETURN_IF_ERROR(Fsync(blobs_, O_DIRECTORY));
  RETURN_IF_ERROR(Fsync(blobs_.substr(0, blobs_.rfind('/')), O_DIRECTORY));
  RETURN_IF_ERROR(StartSession());
  RemoveAbandoned();
  return absl::OkStatus();
}

absl::Status LocalBlobStore::StartSession() {
  const std::string dir = absl::StrCat(tmp_, "/sessions");
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Errno("mkdir", dir);
  session_ = RandomToken(12);
  const std::string path = absl::StrCat(dir, "/", session_);
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create", path);
  session_lock_ = UniqueFd(fd);
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) return Errno("lock", path);
  return absl::OkStatus();
}

void LocalBlobStore::RemoveAbandoned() {
  const std::string dir = absl::StrCat(tmp_, "/sessions");
  std::set<std::string> dead;
  std::vector<UniqueFd> held;  // locks of dead sessions, while their files go
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.' || e->d_name == session_) continue;
      const int fd = open(absl::StrCat(dir, "/", e->d_name).c_str(), O_RDWR | O_CLOEXEC);
      if (fd < 0) continue;
      if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
        dead.insert(e->d_name);
        held.emplace_back(fd);
      } else {
        close(fd);
      }
    }
    closedir(d);
  }
  const absl::Time stale = absl::Now() - absl::Hours(24);
  auto sweep = [&](const std::string& in) {
    DIR* d = opendir(in.c_str());
    if (d == nullptr) return;
    while (dirent* e = readdir(d)) {
      const absl::string_view name = e->d_name;
      const std::string path = absl::StrCat(in, "/", name);
      struct stat st;
      if (name[0] == '.' || lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      const size_t dot = name.find('.');
      if (dot == absl::string_view::npos) {
        if (ModifiedOf(st) < stale) unlink(path.c_str());
        continue;
      }
      if (dead.count(std::string(name.substr(0, dot))) == 0) continue;
      absl::string_view rest = name.substr(dot + 1);
      if (absl::ConsumePrefix(&rest, kDeletingPrefix) && rest.size() > 64 &&
          IsSha256Hex(rest.substr(0, 64))) {
        // Put back unless a copy is there already.
        if (link(path.c_str(), PathOf(rest.substr(0, 64)).c_str()) != 0 && errno != EEXIST) {
          continue;  // keep it: its bytes may be the only copy
        }
      }
      unlink(path.c_str());
    }
    closedir(d);
  };
  sweep(tmp_);
  for (int i = 0; i < 256; ++i) sweep(absl::StrCat(tmp_, "/", HexPrefix(i)));
  for (const std::string& session : dead) unlink(absl::StrCat(dir, "/", session).c_str());
}

std::string LocalBlobStore::TmpPath(absl::string_view sha256) const {
  const std::string token = RandomToken(20);
  const std::string prefix = sha256.empty()
                                 ? HexPrefix(static_cast<int>(std::hash<std::string>()(token)))
                                 : std::string(sha256.substr(0, 2));
  return absl::StrCat(tmp_, "/", prefix, "/", session_, ".", token);
}

Buffer LocalBlobStore::TakeBuffer() {
  {
    absl::MutexLock lock(&buffers_mu_);
    if (!buffers_.empty()) {
      Buffer b = std::move(buffers_.back());
      buffers_.pop_back();
      return b;
    }
  }
  return NewBuffer();
}

void LocalBlobStore::WroteSmall(int64_t size) {
  absl::MutexLock lock(&flush_mu_);
  unflushed_ += std::max<int64_t>(size, kDirectAlign);
  if (unflushed_ < kBackgroundFlushBytes) return;
  if (flush_.valid() && flush_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    return;
  }
  unflushed_ = 0;
  flush_ = std::async(std::launch::async, [this] { SyncFs().IgnoreError(); });
}

absl::Status LocalBlobStore::Publish(const std::vector<BlobWriter*>& sealed) {
  std::vector<LocalWriter*> writers;
  for (BlobWriter* w : sealed) {
    auto* lw = static_cast<LocalWriter*>(w);
    if (!lw->sealed()) return absl::FailedPreconditionError("publish of an unsealed blob");
    if (!lw->published()) writers.push_back(lw);
  }
  if (writers.empty()) return absl::OkStatus();
  // Data first: one syncfs for a batch, fsync for a few.
  const bool batch = writers.size() > kSyncfsThreshold;
  if (batch) {
    RETURN_IF_ERROR(SyncFs());
  } else {
    for (LocalWriter* w : writers) {
      if (w->stored_before()) continue;
      RETURN_IF_ERROR(Fsync(w->tmp_path()));
      if (!w->blocks_tmp_path().empty()) RETURN_IF_ERROR(Fsync(w->blocks_tmp_path()));
    }
  }
  // Then names: rename into place, then make each touched directory
  // durable once.
  std::set<std::string> dirs;
  bool new_prefix = false;
  for (LocalWriter* w : writers) {
    const std::string& sha = w->info().sha256;
    const std::string final_path = PathOf(sha);
    const std::string dir = final_path.substr(0, final_path.rfind('/'));
    if (w->stored_before()) {
      // Touched at Seal; removed since only if the upload outlasted the
      // orphan sweep's grace period.
      if (!MarkWritten(final_path)) {
        return absl::AbortedError(absl::StrCat(
            "blob ", sha, " was removed while the upload ran; retry it"));
      }
    } else if (!w->looked_for_stored() && MarkWritten(final_path)) {
      // Same bytes already stored: keep them, marked as just written (a
      // concurrent DeleteIfIdle then spares them).
      unlink(w->tmp_path().c_str());
    } else {
      // A copy of the same bytes stored since Seal looked is replaced by
      // these: the name holds them either way, just written.
      int rc = rename(w->tmp_path().c_str(), final_path.c_str());
      if (rc != 0 && errno == ENOENT) {  // its prefix directory was removed
        if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Errno("mkdir", dir);
        new_prefix = true;
        rc = rename(w->tmp_path().c_str(), final_path.c_str());
      }
      if (rc != 0) return Errno("rename", final_path);
      dirs.insert(dir);
    }
    // The checksums after the blob: a crash in between leaves a blob
    // checked by digest, never checksums without their blob. Where the
    // blob was stored before, these replace an identical copy or fill in
    // a lost one.
    if (!w->blocks_tmp_path().empty()) {
      const std::string sums_path = absl::StrCat(final_path, kBlocksSuffix);
      if (rename(w->blocks_tmp_path().c_str(), sums_path.c_str()) != 0) {
        return Errno("rename", sums_path);
      }
      dirs.insert(dir);
    }
    w->set_published();
    w->info().modified = absl::Now();
  }
  // The new names are durable once their directories are: one syncfs for
  // a batch (it commits the journal once), one fsync per directory else.
  if (batch) return SyncFs();
  if (new_prefix) RETURN_IF_ERROR(Fsync(blobs_, O_DIRECTORY));
  for (const std::string& dir : dirs) RETURN_IF_ERROR(Fsync(dir, O_DIRECTORY));
  return absl::OkStatus();
}

absl::Status LocalBlobStore::SyncFs() {
  int fd = open(tmp_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open", tmp_);
  int rc = syncfs(fd);
  close(fd);
  if (rc != 0) return Errno("syncfs", tmp_);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<BlobReader>> LocalBlobStore::Open(absl::string_view sha256, int64_t offset,
                                                 int64_t length) {
  if (absl::Status s = CheckDigest(sha256); !s.ok()) return s;
  const std::string path = PathOf(sha256);
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("no blob ", sha256));
    return Errno("open", path);
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    absl::Status s = Errno("stat", path);
    close(fd);
    return s;
  }
  if (offset < 0 || offset > st.st_size) {
    close(fd);
    return absl::InvalidArgumentError(absl::StrCat("offset ", offset, " is outside blob ",
                                                   sha256, " of ", st.st_size, " bytes"));
  }
  const int64_t end =
      length < 0 || length > st.st_size - offset ? st.st_size : offset + length;
  std::vector<uint32_t> sums;
  if (st.st_size > kBlockBytes) sums = ReadBlockSums(path, st.st_size);
  posix_fadvise(fd, sums.empty() ? 0 : offset, 0, POSIX_FADV_SEQUENTIAL);
  return std::unique_ptr<BlobReader>(
      new LocalReader(fd, std::string(sha256), st.st_size, std::move(sums), offset, end));
}

std::vector<uint32_t> LocalBlobStore::ReadBlockSums(const std::string& path, int64_t size) {
  const std::string sums_path = absl::StrCat(path, kBlocksSuffix);
  int fd = open(sums_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  struct stat st;
  std::string bytes(BlockSumsBytes(size), '\0');
  size_t got = 0;
  const bool read = fstat(fd, &st) == 0 && st.st_size == static_cast<off_t>(bytes.size()) &&
                    ReadAt(fd, bytes.data(), bytes.size(), 0, &got).ok() &&
                    got == bytes.size();
  close(fd);
  return read ? DecodeBlockSums(bytes, size) : std::vector<uint32_t>();
}

absl::StatusOr<BlobInfo> LocalBlobStore::Stat(absl::string_view sha256) {
  if (absl::Status s = CheckDigest(sha256); !s.ok()) return s;
  struct stat st;
  const std::string path = PathOf(sha256);
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("no blob ", sha256));
    return Errno("stat", path);
  }
  return BlobInfo{std::string(sha256), st.st_size, ModifiedOf(st)};
}

absl::Status LocalBlobStore::Delete(absl::string_view sha256) {
  if (absl::Status s = CheckDigest(sha256); !s.ok()) return s;
  const std::string path = PathOf(sha256);
  // Checksums first: a crash in between leaves a blob checked by digest,
  // never checksums without their blob.
  RETURN_IF_ERROR(UnlinkBlockSums(path));
  if (unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("unlink", path);
  return absl::OkStatus();
}

absl::StatusOr<bool> LocalBlobStore::DeleteIfIdle(absl::string_view sha256, absl::Time written_before) {
  if (absl::Status s = CheckDigest(sha256); !s.ok()) return s;
  const std::string path = PathOf(sha256);
  // Move it aside first: a Publish that comes after this finds nothing and
  // stores its own copy; one that came before has touched the time checked
  // below.
  const std::string aside =
      absl::StrCat(tmp_, "/", session_, ".", kDeletingPrefix, sha256, "-", RandomToken(8));
  if (rename(path.c_str(), aside.c_str()) != 0) {
    if (errno == ENOENT) return true;
    return Errno("rename", path);
  }
  struct stat st;
  if (stat(aside.c_str(), &st) != 0) return Errno("stat", aside);
  if (ModifiedOf(st) >= written_before) {
    // Written recently: put it back (if a new copy arrived meanwhile, it
    // holds the same bytes, and this one can go).
    if (link(aside.c_str(), path.c_str()) != 0 && errno != EEXIST) return Errno("link", path);
    unlink(aside.c_str());
    return false;
  }
  // A copy published meanwhile may lose its checksums with these; it is
  // then checked by digest.
  RETURN_IF_ERROR(UnlinkBlockSums(path));
  if (unlink(aside.c_str()) != 0) return Errno("unlink", aside);
  return true;
}

absl::Status LocalBlobStore::List(const std::function<void(const BlobInfo&)>& fn) {
  DIR* top = opendir(blobs_.c_str());
  if (top == nullptr) return Errno("opendir", blobs_);
  while (dirent* p = readdir(top)) {
    if (strlen(p->d_name) != 2) continue;
    const std::string sub = absl::StrCat(blobs_, "/", p->d_name);
    DIR* dir = opendir(sub.c_str());
    if (dir == nullptr) continue;
    while (dirent* e = readdir(dir)) {
      std::string sha = absl::StrCat(p->d_name, e->d_name);
      if (!IsSha256Hex(sha)) continue;
      struct stat st;
      if (stat(absl::StrCat(sub, "/", e->d_name).c_str(), &st) != 0) continue;
      fn(BlobInfo{sha, st.st_size, ModifiedOf(st)});
    }
    closedir(dir);
  }
  closedir(top);
  return absl::OkStatus();
}

absl::StatusOr<std::string> LocalBlobStore::PackPath(absl::string_view pack) const {
  RETURN_IF_ERROR(CheckPackName(pack));
  return absl::StrCat(packs_, "/", pack, kPackSuffix);
}

absl::StatusOr<std::unique_ptr<BlobReader>> LocalBlobStore::OpenAt(const Location& where,
                                                                   absl::string_view sha256,
                                                                   int64_t offset, int64_t length) {
  if (!where.packed()) return Open(sha256, offset, length);
  RETURN_IF_ERROR(CheckDigest(sha256));
  ASSIGN_OR_RETURN(const UniqueFd fd, OpenPack(where.pack));
  auto bytes = ReadRecord(fd.get(), where.offset, sha256);
  if (!bytes.ok()) return InPack(where.pack, bytes.status());
  const auto size = static_cast<int64_t>(bytes->size());
  if (offset < 0 || offset > size) {
    return absl::InvalidArgumentError(absl::StrCat("offset ", offset, " is outside blob ", sha256,
                                                   " of ", size, " bytes"));
  }
  const int64_t end = length < 0 || length > size - offset ? size : offset + length;
  return std::unique_ptr<BlobReader>(new CheckedBytesReader(*std::move(bytes), offset, end));
}

absl::StatusOr<std::unique_ptr<LocalPackWriter>> LocalBlobStore::NewLocalPackWriter() {
  const std::string name = NewPackName();
  auto writer = std::make_unique<LocalPackWriter>(this, name, TmpPath(""),
                                                  absl::StrCat(packs_, "/", name, kPackSuffix));
  RETURN_IF_ERROR(writer->Create());
  return writer;
}

absl::StatusOr<std::unique_ptr<PackWriter>> LocalBlobStore::NewPackWriter() {
  ASSIGN_OR_RETURN(std::unique_ptr<LocalPackWriter> writer, NewLocalPackWriter());
  return std::unique_ptr<PackWriter>(std::move(writer));
}

absl::Status LocalBlobStore::ListPacks(const std::function<void(const PackInfo&)>& fn) {
  DIR* d = opendir(packs_.c_str());
  if (d == nullptr) return Errno("opendir", packs_);
  while (dirent* e = readdir(d)) {
    absl::string_view name = e->d_name;
    if (!absl::ConsumeSuffix(&name, kPackSuffix) || !PackPath(name).ok()) continue;
    struct stat st;
    if (stat(absl::StrCat(packs_, "/", e->d_name).c_str(), &st) != 0) continue;
    fn(PackInfo{std::string(name), st.st_size, ModifiedOf(st)});
  }
  closedir(d);
  return absl::OkStatus();
}

absl::StatusOr<UniqueFd> LocalBlobStore::OpenPack(absl::string_view pack) const {
  ASSIGN_OR_RETURN(const std::string path, PackPath(pack));
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("no pack ", pack));
    return Errno("open", path);
  }
  return fd;
}

absl::Status LocalBlobStore::InPack(absl::string_view pack, const absl::Status& s) {
  if (!absl::IsDataLoss(s)) return s;
  return absl::DataLossError(absl::StrCat("pack ", pack, ": ", s.message()));
}

absl::StatusOr<std::vector<PackEntry>> LocalBlobStore::IndexOf(absl::string_view pack, int fd,
                                                               int64_t* records_end) {
  struct stat st;
  if (fstat(fd, &st) != 0) return absl::InternalError(absl::StrCat("stat pack ", pack));
  auto entries = ReadIndex(fd, st.st_size, records_end);
  if (!entries.ok()) return InPack(pack, entries.status());
  return entries;
}

absl::StatusOr<std::vector<PackEntry>> LocalBlobStore::ReadPackIndex(absl::string_view pack) {
  ASSIGN_OR_RETURN(const UniqueFd fd, OpenPack(pack));
  return IndexOf(pack, fd.get());
}

absl::Status LocalBlobStore::ReadPack(
    absl::string_view pack,
    const std::function<absl::Status(const PackEntry&, absl::string_view)>& fn) {
  ASSIGN_OR_RETURN(const UniqueFd fd, OpenPack(pack));
  ASSIGN_OR_RETURN(const std::vector<PackEntry> entries, IndexOf(pack, fd.get()));
  posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  for (const PackEntry& e : entries) {
    auto bytes = ReadRecord(fd.get(), e.offset, e.sha256);
    if (!bytes.ok()) return InPack(pack, bytes.status());
    RETURN_IF_ERROR(fn(e, *bytes));
  }
  return absl::OkStatus();
}

absl::Status LocalBlobStore::DeletePack(absl::string_view pack) {
  ASSIGN_OR_RETURN(const std::string path, PackPath(pack));
  if (unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("unlink", path);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<BlobStore>> OpenLocalBlobStore(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("blob directory is empty");
  auto store = std::make_unique<LocalBlobStore>(dir);
  if (absl::Status s = store->Init(); !s.ok()) return s;
  return std::unique_ptr<BlobStore>(std::move(store));
}

}  // namespace arca::blob
