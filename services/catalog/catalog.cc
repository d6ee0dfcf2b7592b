#include "services/catalog/catalog.h"
#include "services/catalog/disk_room.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <mutex>
#include <set>
#include <utility>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/escaping.h"
#include "absl/strings/strip.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/ids.h"
#include "common/page_token.h"
#include "common/logging.h"
#include "common/paths.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/statistics.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/utilities/options_util.h"
#include "rocksdb/write_batch.h"

namespace arca::catalog {
namespace {

using ::arca::types::v1::JobStatus;
using ::arca::types::v1::StepStatus;
using ::google::protobuf::util::MessageDifferencer;

constexpr size_t kMaxArtifactBytes = 400 * 1024;
constexpr int kMaxMapEntries = 1000;
constexpr size_t kMaxTextBytes = 64 * 1024;
constexpr int kMaxFilesPerCommit = 100000;

// Key layout (one column family; values are protobuf unless noted):
//   m/schema                          -> decimal schema version
//   a/<artifact id>                   -> JobArtifact
//   v/<name>\0<version>               -> artifact id
//   n/<name>                          -> decimal count of versions
//   j/<job id>                        -> Job
//   t/<be64 ~created_us><job id>      -> ""   (all jobs, newest first)
//   g/<group>\0<be64 ~created_us><id> -> ""   (a group's jobs, newest first)
//   f/<job id>\0<path>                -> ArtifactFile
//   e/<be64 expires_us><job>\0<path>  -> ""   (expiry index)
//   b/<sha256>                        -> BlobRef
//   u/<be64 since_us><sha256>         -> ""   (unreferenced blobs)
//   q/<be64 due_us><task id>          -> GcTask
//   k/<task id>                       -> be64 due_us
constexpr char kSchemaKey[] = "m/schema";

std::string Be64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

// Reads 8 big-endian bytes at p.
uint64_t ReadBe64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

uint64_t Micros(absl::Time t) {
  int64_t us = absl::ToUnixMicros(t);
  return us < 0 ? 0 : static_cast<uint64_t>(us);
}
uint64_t Micros(const google::protobuf::Timestamp& t) { return Micros(FromProtoTime(t)); }

std::string ArtifactKey(absl::string_view id) { return absl::StrCat("a/", id); }
std::string VersionKey(absl::string_view name, absl::string_view version) {
  return absl::StrCat("v/", name, absl::string_view("\0", 1), version);
}
std::string NameKey(absl::string_view name) { return absl::StrCat("n/", name); }
std::string JobKey(absl::string_view id) { return absl::StrCat("j/", id); }
std::string JobTimeKey(const v1::Job& job) {
  return absl::StrCat("t/", Be64(~Micros(job.created_at())), job.id());
}
std::string GroupPrefix(absl::string_view group) {
  return absl::StrCat("g/", group, absl::string_view("\0", 1));
}
std::string JobGroupKey(const v1::Job& job) {
  return absl::StrCat(GroupPrefix(job.group()), Be64(~Micros(job.created_at())), job.id());
}
std::string FilePrefix(absl::string_view job) {
  return absl::StrCat("f/", job, absl::string_view("\0", 1));
}
std::string FileKey(absl::string_view job, absl::string_view path) {
  return absl::StrCat(FilePrefix(job), path);
}
std::string ExpiryKey(const v1::ArtifactFile& f) {
  return absl::StrCat("e/", Be64(Micros(f.expires_at())), f.job_id(),
                      absl::string_view("\0", 1), f.path());
}
std::string BlobKey(absl::string_view sha) { return absl::StrCat("b/", sha); }
std::string UnrefKey(const v1::BlobRef& b) {
  return absl::StrCat("u/", Be64(Micros(b.unreferenced_since())), b.sha256());
}
std::string QueueKey(uint64_t due_us, absl::string_view task_id) {
  return absl::StrCat("q/", Be64(due_us), task_id);
}
std::string TaskKey(absl::string_view task_id) { return absl::StrCat("k/", task_id); }

absl::Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return absl::OkStatus();
  if (s.IsNoSpace()) {
    return absl::ResourceExhaustedError(absl::StrCat("the catalog's disk is full: ", s.ToString()));
  }
  if (s.IsBusy() || (s.IsIOError() && absl::StrContains(s.ToString(), "lock"))) {
    return absl::UnavailableError(s.ToString());
  }
  return absl::InternalError(absl::StrCat("storage: ", s.ToString()));
}

absl::Status Corrupt(absl::string_view key) {
  return absl::DataLossError(absl::StrCat("catalog record ", key, " cannot be parsed"));
}

// ------------------------------------------------------------- validation

absl::Status CheckText(absl::string_view field, absl::string_view value,
                       size_t max = kMaxTextBytes) {
  if (value.size() > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is ", value.size(), " bytes; the limit is ", max));
  }
  if (!IsValidUtf8(value)) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is not valid UTF-8"));
  }
  return absl::OkStatus();
}

absl::Status CheckMap(absl::string_view field,
                      const google::protobuf::Map<std::string, std::string>& m) {
  if (m.size() > kMaxMapEntries) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " has ", m.size(), " entries; the limit is ", kMaxMapEntries));
  }
  for (const auto& [k, v] : m) {
    if (k.empty()) return absl::InvalidArgumentError(absl::StrCat(field, " has an empty key"));
    RETURN_IF_ERROR(CheckText(absl::StrCat(field, " key"), k, 1024));
    RETURN_IF_ERROR(CheckText(absl::StrCat(field, "[", k, "]"), v));
  }
  return absl::OkStatus();
}

// Protobuf's Timestamp range: 0001-01-01 to 9999-12-31, whole nanoseconds.
absl::Status CheckTime(absl::string_view field, const google::protobuf::Timestamp& t) {
  constexpr int64_t kMinSeconds = -62135596800, kMaxSeconds = 253402300799;
  if (t.seconds() < kMinSeconds || t.seconds() > kMaxSeconds || t.nanos() < 0 ||
      t.nanos() > 999999999) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " must be a time from year 1 to 9999, got ", t.seconds(), " s and ", t.nanos(),
        " ns since 1970"));
  }
  return absl::OkStatus();
}

// A retention of at most a hundred years (a negative one keeps files until
// a strategy or a person removes them).
absl::Status CheckRetention(absl::string_view field, const google::protobuf::Duration& d) {
  constexpr int64_t kMaxSeconds = int64_t{100} * 366 * 24 * 3600;
  if (d.seconds() > kMaxSeconds || d.seconds() < -kMaxSeconds ||
      (d.seconds() > 0 && d.nanos() < 0) || (d.seconds() < 0 && d.nanos() > 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " must be at most 100 years (negative: kept until removed), got ", d.seconds(),
        " s"));
  }
  return absl::OkStatus();
}

absl::Status ValidateArtifact(const v1::JobArtifact& a) {
  RETURN_IF_ERROR(CheckName("name", a.name()));
  RETURN_IF_ERROR(CheckName("version", a.version()));
  if (!a.artifact_id().empty()) RETURN_IF_ERROR(CheckName("artifactID", a.artifact_id()));
  RETURN_IF_ERROR(CheckText("runtimeType", a.runtime_type(), 1024));
  RETURN_IF_ERROR(CheckText("entrypoint", a.entrypoint()));
  RETURN_IF_ERROR(CheckMap("tags", a.tags()));
  RETURN_IF_ERROR(CheckMap("dependencies", a.dependencies()));
  if (a.has_created_at()) RETURN_IF_ERROR(CheckTime("createdAt", a.created_at()));
  if (a.ByteSizeLong() > kMaxArtifactBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "artifact is ", a.ByteSizeLong(), " bytes encoded; the limit is 400 KiB (",
        kMaxArtifactBytes, " bytes)"));
  }
  return absl::OkStatus();
}

absl::Status CheckEnum(absl::string_view field, bool valid, int value) {
  if (!valid) {
    return absl::InvalidArgumentError(absl::StrCat(field, " has unknown value ", value));
  }
  return absl::OkStatus();
}

absl::Status CheckRevision(int64_t expected, int64_t stored) {
  if (expected != 0 && expected != stored) {
    return absl::FailedPreconditionError(absl::StrCat(
        "expected revision ", expected, " but the stored revision is ", stored));
  }
  return absl::OkStatus();
}

absl::Status CheckJobId(absl::string_view id) { return CheckName("job id", id); }

bool HasFinalizer(const v1::Job& job, absl::string_view name) {
  return std::find(job.finalizers().begin(), job.finalizers().end(), name) !=
         job.finalizers().end();
}

}  // namespace

JobStatus DeriveStatus(const google::protobuf::RepeatedPtrField<v1::Step>& steps) {
  bool any_running = false, all_done = !steps.empty();
  for (const v1::Step& s : steps) {
    switch (s.status()) {
      case types::v1::STEP_STATUS_FAILURE:
        return types::v1::JOB_STATUS_FAILURE;
      case types::v1::STEP_STATUS_RUNNING:
        any_running = true;
        all_done = false;
        break;
      case types::v1::STEP_STATUS_SUCCESS:
      case types::v1::STEP_STATUS_WARNING:
      case types::v1::STEP_STATUS_SKIP:
        break;
      default:
        all_done = false;
    }
  }
  if (any_running) return types::v1::JOB_STATUS_RUNNING;
  if (all_done) return types::v1::JOB_STATUS_SUCCESS;
  return types::v1::JOB_STATUS_QUEUED;
}

// Striped mutexes over logical keys: a writer locks every key it reads to
// decide and writes, so check-then-write is atomic, while writers on
// different keys reach RocksDB together and share one WAL sync (group
// commit).
class Catalog::KeyLocks {
 public:
  class Held {
   public:
    Held(KeyLocks* locks, const std::vector<std::string>& keys) : locks_(locks) {
      std::set<size_t> stripes;
      for (const std::string& k : keys) stripes.insert(absl::HashOf(k) % kStripes);
      held_.assign(stripes.begin(), stripes.end());
      for (size_t s : held_) locks_->mu_[s].lock();
    }
    ~Held() {
      for (auto it = held_.rbegin(); it != held_.rend(); ++it) locks_->mu_[*it].unlock();
    }
    Held(const Held&) = delete;
    Held& operator=(const Held&) = delete;

   private:
    KeyLocks* locks_;
    std::vector<size_t> held_;
  };

 private:
  static constexpr size_t kStripes = 4096;
  std::array<std::mutex, kStripes> mu_;
};

// Reads from one consistent snapshot.
class Catalog::Reader {
 public:
  explicit Reader(rocksdb::DB* db) : db_(db), snapshot_(db->GetSnapshot()) {
    options_.snapshot = snapshot_;
  }
  ~Reader() { db_->ReleaseSnapshot(snapshot_); }

  // NOT_FOUND if absent.
  absl::Status GetRaw(const std::string& key, std::string* value) {
    rocksdb::Status s = db_->Get(options_, key, value);
    if (s.IsNotFound()) return absl::NotFoundError(key);
    return FromRocks(s);
  }
  // Returns false if absent.
  template <typename Message>
  absl::StatusOr<bool> Get(const std::string& key, Message* message) {
    std::string value;
    absl::Status s = GetRaw(key, &value);
    if (absl::IsNotFound(s)) return false;
    RETURN_IF_ERROR(s);
    if (!message->ParseFromString(value)) return Corrupt(key);
    return true;
  }
  std::unique_ptr<rocksdb::Iterator> Iterate() {
    return std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(options_));
  }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snapshot_;
  rocksdb::ReadOptions options_;
};

// ------------------------------------------------------------------ open

Catalog::Catalog(const CatalogOptions& options, Clock* clock, std::unique_ptr<rocksdb::DB> db,
                 std::unique_ptr<DiskRoom> room, bool read_only)
    : options_(options),
      clock_(clock),
      db_(std::move(db)),
      locks_(std::make_unique<KeyLocks>()),
      room_(std::move(room)),
      read_only_(read_only) {}

Catalog::~Catalog() {
  if (db_ != nullptr) db_->Close().PermitUncheckedError();
}

absl::StatusOr<std::unique_ptr<Catalog>> Catalog::Open(const CatalogOptions& options,
                                                       Clock* clock) {
  if (options.data_dir.empty()) return absl::InvalidArgumentError("data_dir is empty");
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot make the catalog directory ", options.data_dir, ": ", ec.message()));
  }
  auto room = std::make_unique<DiskRoom>(options.data_dir, options.min_free_bytes,
                                         options.reserve_bytes, options.free_bytes);
  ASSIGN_OR_RETURN(const int64_t free, room->PrepareToOpen());
  // Opening for writes writes a little (a log, the manifest, the options);
  // with less room than that, only reading is safe.
  constexpr int64_t kBytesToOpen = 4 << 20;
  const bool read_only = free < kBytesToOpen;
  rocksdb::Options db_options;
  // Recovery keeps a log's writes in memory instead of flushing them at
  // open, so a restart on a nearly full disk writes next to nothing.
  db_options.avoid_flush_during_recovery = true;
  db_options.create_if_missing = true;
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 5;
  // A bloom filter over the memtable's keys: a commit looks up every new
  // blob, and most are absent.
  db_options.memtable_whole_key_filtering = true;
  db_options.memtable_prefix_bloom_size_ratio = 0.02;
  // Keys of one kind ("f/", "b/", ...) are inserted from where the last one
  // of that kind went: a commit's keys of each kind arrive in order.
  db_options.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(2));
  // Tickers only (write stall time for /metrics), no timers or histograms.
  db_options.statistics = rocksdb::CreateDBStatistics();
  db_options.statistics->set_stats_level(rocksdb::StatsLevel::kExceptHistogramOrTimers);
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  db_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = read_only
                          ? rocksdb::DB::OpenForReadOnly(db_options, options.data_dir, &raw)
                          : rocksdb::DB::Open(db_options, options.data_dir, &raw);
  if (!s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot open catalog database ", options.data_dir, ": ", s.ToString()));
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  if (read_only) {
    ARCA_LOG(ERROR) << "the catalog's disk has only " << free
                    << " bytes free: opened for reading only; restart it once space is freed";
  }

  std::string version;
  s = db->Get(rocksdb::ReadOptions(), kSchemaKey, &version);
  if (s.IsNotFound() && read_only) {
    return absl::UnavailableError("a new catalog database cannot be made on a full disk");
  }
  if (s.IsNotFound()) {
    rocksdb::WriteOptions w;
    w.sync = true;
    s = db->Put(w, kSchemaKey, std::to_string(kSchemaVersion));
    if (!s.ok()) return FromRocks(s);
  } else if (!s.ok()) {
    return FromRocks(s);
  } else {
    int stored = 0;
    if (!absl::SimpleAtoi(version, &stored)) {
      return absl::DataLossError(absl::StrCat("catalog database ", options.data_dir,
                                              " has an unreadable schema version \"",
                                              version, "\""));
    }
    if (stored > kSchemaVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          "catalog database ", options.data_dir, " was written by schema version ",
          stored, "; this arca-catalog understands up to ", kSchemaVersion,
          ". Run a newer arca-catalog."));
    }
  }
  return std::unique_ptr<Catalog>(
      new Catalog(options, clock, std::move(db), std::move(room), read_only));
}

absl::Status Catalog::Write(rocksdb::WriteBatch& batch) {
  if (read_only_) {
    return absl::ResourceExhaustedError(
        "the catalog started on a full disk and serves reads only; restart it once space is "
        "freed");
  }
  absl::Status room = room_->CheckRoom();
  writes_refused_ = !room.ok();
  RETURN_IF_ERROR(room);
  // A write that failed for want of room stopped RocksDB's writes; there is
  // room again, so they go on.
  if (resume_.exchange(false)) {
    rocksdb::Status resumed = db_->Resume();
    if (!resumed.ok()) ARCA_LOG(WARNING) << "resuming writes: " << resumed.ToString();
  }
  rocksdb::WriteOptions w;
  w.sync = options_.sync_writes;
  rocksdb::Status s = db_->Write(w, &batch);
  if (s.IsNoSpace()) {
    resume_ = true;
    writes_refused_ = true;
    return absl::ResourceExhaustedError(absl::StrCat(
        "the catalog's disk is full; nothing was written (", s.ToString(), ")"));
  }
  return FromRocks(s);
}

int64_t Catalog::DiskFreeBytes() const { return room_->last_free(); }

uint64_t Catalog::GetIntProperty(absl::string_view property) {
  uint64_t v = 0;
  db_->GetIntProperty(rocksdb::Slice(property.data(), property.size()), &v);
  return v;
}

double Catalog::WriteStallSeconds() {
  auto* stats = db_->GetOptions().statistics.get();
  return stats == nullptr ? 0 : static_cast<double>(stats->getTickerCount(rocksdb::STALL_MICROS)) / 1e6;
}

absl::Status Catalog::Flush() { return FromRocks(db_->Flush(rocksdb::FlushOptions())); }

absl::StatusOr<v1::CreateCheckpointResponse> Catalog::CreateCheckpoint(const std::string& dir) {
  if (options_.backup_dir.empty()) {
    return absl::FailedPreconditionError(
        "this catalog takes no checkpoints: it was started without --backup_dir");
  }
  std::error_code ec;
  const std::filesystem::path root = std::filesystem::absolute(options_.backup_dir, ec);
  std::filesystem::create_directories(root, ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("cannot make the backup directory ", root.string(),
                                            ": ", ec.message()));
  }
  // A name beneath the backup directory, given as such or as a path there.
  absl::string_view name = dir;
  const std::string prefix = root.lexically_normal().string() + "/";
  if (!absl::ConsumePrefix(&name, prefix) && !name.empty() && name[0] == '/') name = "";
  if (!ValidateArtifactPath(name).ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a checkpoint goes beneath the backup directory ", root.string(),
        ": give a name such as \"2026-11-27\" (no \"..\"), got \"", absl::CHexEscape(dir), "\""));
  }
  const std::filesystem::path target = root / std::string(name);
  if (std::filesystem::exists(target, ec)) {
    return absl::AlreadyExistsError(absl::StrCat("checkpoint dir ", target.string(), " already exists"));
  }
  std::filesystem::create_directories(target.parent_path(), ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("cannot make ", target.parent_path().string(), ": ",
                                            ec.message()));
  }
  rocksdb::Checkpoint* raw = nullptr;
  RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(db_.get(), &raw)));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  uint64_t sequence = 0;
  // log_size_for_flush 0: flush memtables first, so the copy needs no WAL.
  RETURN_IF_ERROR(FromRocks(checkpoint->CreateCheckpoint(target.string(), 0, &sequence)));
  v1::CreateCheckpointResponse response;
  response.set_dir(target.string());
  response.set_sequence(sequence);
  return response;
}

absl::Duration Catalog::RetentionOf(const v1::Job& job) const {
  if (job.has_retention()) return FromProtoDuration(job.retention());
  return options_.default_retention;
}

// ------------------------------------------------------------- artifacts

absl::StatusOr<v1::RegisterJobArtifactResponse> Catalog::RegisterJobArtifact(
    const v1::RegisterJobArtifactRequest& request) {
  if (!request.has_artifact()) return absl::InvalidArgumentError("artifact is required");
  const v1::JobArtifact& in = request.artifact();
  RETURN_IF_ERROR(ValidateArtifact(in));
  if (request.expected_revision() < 0) {
    return absl::InvalidArgumentError("expected_revision must not be negative");
  }
  const std::string nv_key = VersionKey(in.name(), in.version());
  std::vector<std::string> lock_keys = {nv_key, NameKey(in.name())};
  if (!in.artifact_id().empty()) lock_keys.push_back(ArtifactKey(in.artifact_id()));

  // An overwrite by id may rename the artifact, so the old name's keys join
  // the lock set; loop until the set covers what we read.
  for (int attempt = 0;; ++attempt) {
    KeyLocks::Held held(locks_.get(), lock_keys);
    Reader r(db_.get());
    std::string nv_id;
    absl::Status nv = r.GetRaw(nv_key, &nv_id);
    if (!nv.ok() && !absl::IsNotFound(nv)) return nv;
    const bool nv_exists = nv.ok();
    v1::JobArtifact by_id;
    bool id_exists = false;
    if (!in.artifact_id().empty()) {
      ASSIGN_OR_RETURN(id_exists, r.Get(ArtifactKey(in.artifact_id()), &by_id));
    }
    const absl::Time now = clock_->Now();
    rocksdb::WriteBatch batch;
    v1::RegisterJobArtifactResponse response;

    if (!nv_exists && !id_exists) {
      v1::JobArtifact a = in;
      if (a.artifact_id().empty()) a.set_artifact_id(NewSortableId("art", now));
      a.set_revision(1);
      if (!a.has_created_at()) *a.mutable_created_at() = ToProtoTime(now);
      std::string count;
      absl::Status cs = r.GetRaw(NameKey(a.name()), &count);
      if (!cs.ok() && !absl::IsNotFound(cs)) return cs;
      int n = 0;
      if (cs.ok() && !absl::SimpleAtoi(count, &n)) return Corrupt(NameKey(a.name()));
      batch.Put(ArtifactKey(a.artifact_id()), a.SerializeAsString());
      batch.Put(nv_key, a.artifact_id());
      batch.Put(NameKey(a.name()), std::to_string(n + 1));
      RETURN_IF_ERROR(Write(batch));
      *response.mutable_artifact() = std::move(a);
      response.set_created(true);
      return response;
    }

    if (nv_exists && id_exists && nv_id != in.artifact_id()) {
      return absl::AlreadyExistsError(absl::StrCat(
          "artifactID ", in.artifact_id(), " belongs to ", by_id.name(), "@",
          by_id.version(), " while ", in.name(), "@", in.version(), " has artifactID ",
          nv_id));
    }
    v1::JobArtifact stored;
    if (id_exists) {
      stored = by_id;
    } else {
      ASSIGN_OR_RETURN(bool found, r.Get(ArtifactKey(nv_id), &stored));
      if (!found) return Corrupt(nv_key);
    }
    if (!in.artifact_id().empty() && in.artifact_id() != stored.artifact_id()) {
      return absl::AlreadyExistsError(absl::StrCat(
          "job artifact ", stored.name(), "@", stored.version(),
          " is registered with artifactID ", stored.artifact_id(), ", not ",
          in.artifact_id()));
    }
    // Renaming by id: make sure the old name's keys are locked too.
    const std::string old_nv_key = VersionKey(stored.name(), stored.version());
    if (old_nv_key != nv_key &&
        std::find(lock_keys.begin(), lock_keys.end(), old_nv_key) == lock_keys.end()) {
      if (attempt > 8) return absl::AbortedError("artifact changed concurrently; retry");
      lock_keys.push_back(old_nv_key);
      lock_keys.push_back(NameKey(stored.name()));
      lock_keys.push_back(ArtifactKey(stored.artifact_id()));
      continue;
    }

    // An identical retry: the content the caller controls is the same.
    v1::JobArtifact candidate = in;
    candidate.set_artifact_id(stored.artifact_id());
    candidate.set_revision(stored.revision());
    if (!candidate.has_created_at()) *candidate.mutable_created_at() = stored.created_at();
    if (MessageDifferencer::Equals(candidate, stored)) {
      *response.mutable_artifact() = std::move(stored);
      response.set_created(false);
      return response;
    }
    if (!request.overwrite()) {
      return absl::AlreadyExistsError(absl::StrCat(
          "job artifact ", stored.name(), "@", stored.version(), " already exists (artifactID ",
          stored.artifact_id(), ", revision ", stored.revision(),
          ") with different content; set overwrite to replace it"));
    }
    RETURN_IF_ERROR(CheckRevision(request.expected_revision(), stored.revision()));
    candidate.set_revision(stored.revision() + 1);
    if (old_nv_key != nv_key) {
      // Renamed: move the name+version index entry and both name counts.
      std::string old_count, new_count;
      int old_n = 0, new_n = 0;
      RETURN_IF_ERROR(r.GetRaw(NameKey(stored.name()), &old_count));
      if (!absl::SimpleAtoi(old_count, &old_n)) return Corrupt(NameKey(stored.name()));
      absl::Status cs = r.GetRaw(NameKey(in.name()), &new_count);
      if (!cs.ok() && !absl::IsNotFound(cs)) return cs;
      if (cs.ok() && !absl::SimpleAtoi(new_count, &new_n)) return Corrupt(NameKey(in.name()));
      batch.Delete(old_nv_key);
      if (stored.name() == in.name()) {
        // Same name, new version: the count stays.
      } else {
        if (old_n <= 1) {
          batch.Delete(NameKey(stored.name()));
        } else {
          batch.Put(NameKey(stored.name()), std::to_string(old_n - 1));
        }
        batch.Put(NameKey(in.name()), std::to_string(new_n + 1));
      }
      batch.Put(nv_key, candidate.artifact_id());
    }
    batch.Put(ArtifactKey(candidate.artifact_id()), candidate.SerializeAsString());
    RETURN_IF_ERROR(Write(batch));
    *response.mutable_artifact() = std::move(candidate);
    response.set_created(false);
    return response;
  }
}

absl::StatusOr<v1::JobArtifact> Catalog::GetJobArtifact(absl::string_view artifact_id) {
  RETURN_IF_ERROR(CheckName("artifactID", artifact_id));
  Reader r(db_.get());
  v1::JobArtifact a;
  ASSIGN_OR_RETURN(bool found, r.Get(ArtifactKey(artifact_id), &a));
  if (!found) {
    return absl::NotFoundError(absl::StrCat("no job artifact with artifactID ", artifact_id));
  }
  return a;
}

absl::StatusOr<v1::ListJobArtifactsResponse> Catalog::ListJobArtifacts(
    const v1::ListJobArtifactsRequest& request) {
  ASSIGN_OR_RETURN(int page_size, CheckPageSize(request.page_size()));
  if (!request.version().empty()) RETURN_IF_ERROR(CheckName("version", request.version()));
  v1::ListJobArtifactsResponse response;
  Reader r(db_.get());
  if (request.name().empty()) {
    if (!request.version().empty()) {
      return absl::InvalidArgumentError("version needs a name");
    }
    ASSIGN_OR_RETURN(std::string after, DecodePageToken("artifacts", request.page_token()));
    auto it = r.Iterate();
    const std::string start = after.empty() ? "a/" : ArtifactKey(after);
    for (it->Seek(start); it->Valid() && it->key().starts_with("a/"); it->Next()) {
      if (!after.empty() && it->key() == start) continue;
      if (response.artifacts_size() == page_size) {
        response.set_next_page_token(EncodePageToken(
            "artifacts", response.artifacts().rbegin()->artifact_id()));
        break;
      }
      if (!response.add_artifacts()->ParseFromArray(it->value().data(), it->value().size())) {
        return Corrupt(it->key().ToString());
      }
    }
    RETURN_IF_ERROR(FromRocks(it->status()));
    return response;
  }
  RETURN_IF_ERROR(CheckName("name", request.name()));
  const std::string kind = absl::StrCat("versions:", request.name());
  ASSIGN_OR_RETURN(std::string offset_text, DecodePageToken(kind, request.page_token()));
  size_t offset = 0;
  if (!offset_text.empty() && !absl::SimpleAtoi(offset_text, &offset)) {
    return absl::InvalidArgumentError("malformed page_token");
  }
  std::vector<v1::JobArtifact> found;
  if (!request.version().empty()) {
    std::string id;
    absl::Status s = r.GetRaw(VersionKey(request.name(), request.version()), &id);
    if (absl::IsNotFound(s)) return response;
    RETURN_IF_ERROR(s);
    v1::JobArtifact a;
    ASSIGN_OR_RETURN(bool ok, r.Get(ArtifactKey(id), &a));
    if (!ok) return Corrupt(VersionKey(request.name(), request.version()));
    found.push_back(std::move(a));
  } else {
    const std::string prefix = VersionKey(request.name(), "");
    auto it = r.Iterate();
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      v1::JobArtifact a;
      ASSIGN_OR_RETURN(bool ok, r.Get(ArtifactKey(it->value().ToString()), &a));
      if (!ok) return Corrupt(it->key().ToString());
      found.push_back(std::move(a));
    }
    RETURN_IF_ERROR(FromRocks(it->status()));
  }
  // Newest first; equal times by version, descending.
  std::sort(found.begin(), found.end(), [](const v1::JobArtifact& x, const v1::JobArtifact& y) {
    uint64_t tx = Micros(x.created_at()), ty = Micros(y.created_at());
    if (tx != ty) return tx > ty;
    return x.version() > y.version();
  });
  for (size_t i = offset; i < found.size() && response.artifacts_size() < page_size; ++i) {
    *response.add_artifacts() = std::move(found[i]);
  }
  if (offset + response.artifacts_size() < found.size()) {
    response.set_next_page_token(
        EncodePageToken(kind, std::to_string(offset + response.artifacts_size())));
  }
  return response;
}

absl::StatusOr<v1::ListJobArtifactNamesResponse> Catalog::ListJobArtifactNames(
    const v1::ListJobArtifactNamesRequest& request) {
  ASSIGN_OR_RETURN(int page_size, CheckPageSize(request.page_size()));
  RETURN_IF_ERROR(CheckText("prefix", request.prefix(), 255));
  RETURN_IF_ERROR(CheckText("contains", request.contains(), 255));
  ASSIGN_OR_RETURN(std::string after, DecodePageToken("names", request.page_token()));
  v1::ListJobArtifactNamesResponse response;
  Reader r(db_.get());
  auto it = r.Iterate();
  const std::string prefix = NameKey(request.prefix());
  it->Seek(after.empty() ? prefix : NameKey(after));
  for (; it->Valid() && it->key().starts_with(prefix); it->Next()) {
    absl::string_view name(it->key().data() + 2, it->key().size() - 2);
    if (!after.empty() && name == after) continue;
    if (!request.contains().empty() && !absl::StrContains(name, request.contains())) continue;
    if (response.names_size() == page_size) {
      response.set_next_page_token(EncodePageToken("names", *response.names().rbegin()));
      break;
    }
    response.add_names(std::string(name));
  }
  RETURN_IF_ERROR(FromRocks(it->status()));
  return response;
}

absl::Status Catalog::DeleteJobArtifact(const v1::DeleteJobArtifactRequest& request) {
  RETURN_IF_ERROR(CheckName("artifactID", request.artifact_id()));
  for (int attempt = 0; attempt < 8; ++attempt) {
    v1::JobArtifact peek;
    {
      Reader r(db_.get());
      ASSIGN_OR_RETURN(bool found, r.Get(ArtifactKey(request.artifact_id()), &peek));
      if (!found) {
        return absl::NotFoundError(
            absl::StrCat("no job artifact with artifactID ", request.artifact_id()));
      }
    }
    KeyLocks::Held held(locks_.get(), {ArtifactKey(peek.artifact_id()),
                                       VersionKey(peek.name(), peek.version()),
                                       NameKey(peek.name())});
    Reader r(db_.get());
    v1::JobArtifact a;
    ASSIGN_OR_RETURN(bool found, r.Get(ArtifactKey(request.artifact_id()), &a));
    if (!found) {
      return absl::NotFoundError(
          absl::StrCat("no job artifact with artifactID ", request.artifact_id()));
    }
    if (a.name() != peek.name() || a.version() != peek.version()) continue;  // renamed
    RETURN_IF_ERROR(CheckRevision(request.expected_revision(), a.revision()));
    std::string count;
    int n = 0;
    RETURN_IF_ERROR(r.GetRaw(NameKey(a.name()), &count));
    if (!absl::SimpleAtoi(count, &n)) return Corrupt(NameKey(a.name()));
    rocksdb::WriteBatch batch;
    batch.Delete(ArtifactKey(a.artifact_id()));
    batch.Delete(VersionKey(a.name(), a.version()));
    if (n <= 1) {
      batch.Delete(NameKey(a.name()));
    } else {
      batch.Put(NameKey(a.name()), std::to_string(n - 1));
    }
    return Write(batch);
  }
  return absl::AbortedError("artifact changed concurrently; retry");
}

// ------------------------------------------------------------------ jobs

namespace {

absl::Status ValidateJobSpec(const v1::Job& job) {
  if (!job.id().empty()) RETURN_IF_ERROR(CheckJobId(job.id()));
  RETURN_IF_ERROR(CheckName("group", job.group()));
  RETURN_IF_ERROR(CheckText("name", job.name(), 1024));
  if (!job.compendium_id().empty()) RETURN_IF_ERROR(CheckName("compendium_id", job.compendium_id()));
  RETURN_IF_ERROR(CheckMap("labels", job.labels()));
  RETURN_IF_ERROR(CheckEnum("gc_strategy", types::v1::GcStrategy_IsValid(job.gc_strategy()),
                            job.gc_strategy()));
  if (job.has_retention()) RETURN_IF_ERROR(CheckRetention("retention", job.retention()));
  return absl::OkStatus();
}

// The part of a job its creator chose; equal specs make create idempotent.
v1::Job SpecOf(const v1::Job& job) {
  v1::Job spec;
  spec.set_id(job.id());
  spec.set_group(job.group());
  spec.set_name(job.name());
  spec.set_compendium_id(job.compendium_id());
  *spec.mutable_labels() = job.labels();
  spec.set_gc_strategy(job.gc_strategy());
  if (job.has_retention()) *spec.mutable_retention() = job.retention();
  return spec;
}

absl::Status JobNotFound(absl::string_view id) {
  return absl::NotFoundError(absl::StrCat("no job with id ", id));
}

}  // namespace

absl::StatusOr<v1::CreateJobResponse> Catalog::CreateJob(const v1::CreateJobRequest& request) {
  RETURN_IF_ERROR(ValidateJobSpec(request.job()));
  const absl::Time now = clock_->Now();
  v1::Job job = SpecOf(request.job());
  if (job.id().empty()) job.set_id(NewSortableId("job", now));
  KeyLocks::Held held(locks_.get(), {JobKey(job.id())});
  Reader r(db_.get());
  v1::Job existing;
  ASSIGN_OR_RETURN(bool exists, r.Get(JobKey(job.id()), &existing));
  v1::CreateJobResponse response;
  if (exists) {
    if (!MessageDifferencer::Equals(SpecOf(existing), job)) {
      return absl::AlreadyExistsError(
          absl::StrCat("job ", job.id(), " already exists with a different spec"));
    }
    *response.mutable_job() = std::move(existing);
    return response;
  }
  if (!job.compendium_id().empty()) {
    v1::JobArtifact a;
    ASSIGN_OR_RETURN(bool found, r.Get(ArtifactKey(job.compendium_id()), &a));
    if (!found) return absl::NotFoundError("no compendium with this ID found");
  }
  job.set_status(types::v1::JOB_STATUS_QUEUED);
  *job.mutable_created_at() = ToProtoTime(now);
  rocksdb::WriteBatch batch;
  batch.Put(JobKey(job.id()), job.SerializeAsString());
  batch.Put(JobTimeKey(job), "");
  batch.Put(JobGroupKey(job), "");
  RETURN_IF_ERROR(Write(batch));
  *response.mutable_job() = std::move(job);
  response.set_created(true);
  return response;
}

absl::StatusOr<v1::Job> Catalog::GetJob(absl::string_view id) {
  RETURN_IF_ERROR(CheckJobId(id));
  Reader r(db_.get());
  v1::Job job;
  ASSIGN_OR_RETURN(bool found, r.Get(JobKey(id), &job));
  if (!found) return JobNotFound(id);
  return job;
}

absl::StatusOr<v1::ListJobsResponse> Catalog::ListJobs(const v1::ListJobsRequest& request) {
  ASSIGN_OR_RETURN(int page_size, CheckPageSize(request.page_size()));
  if (!request.group().empty()) RETURN_IF_ERROR(CheckName("group", request.group()));
  if (request.offset() < 0) return absl::InvalidArgumentError("offset must not be negative");
  for (int s : request.statuses()) {
    RETURN_IF_ERROR(CheckEnum("statuses", types::v1::JobStatus_IsValid(s), s));
  }
  const std::string prefix = request.group().empty() ? "t/" : GroupPrefix(request.group());
  const std::string kind = absl::StrCat("jobs:", request.group());
  ASSIGN_OR_RETURN(std::string after, DecodePageToken(kind, request.page_token()));
  if (!after.empty() && !absl::StartsWith(after, prefix)) {
    return absl::InvalidArgumentError("malformed page_token");
  }
  absl::flat_hash_set<int> statuses(request.statuses().begin(), request.statuses().end());
  absl::flat_hash_set<std::string> compendia(request.compendium_ids().begin(),
                                              request.compendium_ids().end());
  absl::flat_hash_set<std::string> groups(request.visible_groups().begin(),
                                          request.visible_groups().end());
  v1::ListJobsResponse response;
  Reader r(db_.get());
  auto it = r.Iterate();
  int to_skip = request.offset();
  std::string last_key;
  for (it->Seek(after.empty() ? prefix : after);
       it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (!after.empty() && it->key() == after) continue;
    absl::string_view id(it->key().data() + prefix.size() + 8,
                         it->key().size() - prefix.size() - 8);
    v1::Job job;
    ASSIGN_OR_RETURN(bool found, r.Get(JobKey(id), &job));
    if (!found) return Corrupt(it->key().ToString());
    if (!statuses.empty() && !statuses.contains(job.status())) continue;
    if (!compendia.empty() && !compendia.contains(job.compendium_id())) continue;
    if (!groups.empty() && !groups.contains(job.group())) continue;
    if (to_skip > 0) {
      --to_skip;
      continue;
    }
    if (response.jobs_size() == page_size) {
      response.set_next_page_token(EncodePageToken(kind, last_key));
      break;
    }
    *response.add_jobs() = std::move(job);
    last_key = it->key().ToString();
  }
  RETURN_IF_ERROR(FromRocks(it->status()));
  return response;
}

absl::StatusOr<v1::Job> Catalog::UpdateStep(const v1::UpdateStepRequest& request) {
  RETURN_IF_ERROR(CheckJobId(request.job_id()));
  const v1::Step& in = request.step();
  if (in.name().empty()) return absl::InvalidArgumentError("step name is empty");
  RETURN_IF_ERROR(CheckText("step name", in.name(), 255));
  RETURN_IF_ERROR(CheckText("step text", in.text()));
  if (in.status() == types::v1::STEP_STATUS_UNSPECIFIED ||
      !types::v1::StepStatus_IsValid(in.status())) {
    return absl::InvalidArgumentError(
        absl::StrCat("step status must be queued, running, success, failure, warning or "
                     "skip; got ",
                     in.status()));
  }
  if (in.has_start()) RETURN_IF_ERROR(CheckTime("step start", in.start()));
  if (in.has_end()) RETURN_IF_ERROR(CheckTime("step end", in.end()));
  KeyLocks::Held held(locks_.get(), {JobKey(request.job_id())});
  Reader r(db_.get());
  v1::Job job;
  ASSIGN_OR_RETURN(bool found, r.Get(JobKey(request.job_id()), &job));
  if (!found) return JobNotFound(request.job_id());
  if (job.has_finished_at()) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", job.id(), " has finished; its steps are final"));
  }
  if (job.has_deletion_requested_at()) {
    return absl::FailedPreconditionError(absl::StrCat("job ", job.id(), " is being deleted"));
  }
  v1::Step* step = nullptr;
  for (v1::Step& s : *job.mutable_steps()) {
    if (s.name() == in.name()) step = &s;
  }
  if (step == nullptr) {
    if (job.steps_size() >= 256) {
      return absl::InvalidArgumentError("a job has at most 256 steps");
    }
    step = job.add_steps();
    step->set_name(in.name());
  }
  step->set_status(in.status());
  if (in.has_start()) *step->mutable_start() = in.start();
  if (in.has_end()) *step->mutable_end() = in.end();
  if (!in.text().empty()) step->set_text(in.text());
  job.set_status(DeriveStatus(job.steps()));
  rocksdb::WriteBatch batch;
  batch.Put(JobKey(job.id()), job.SerializeAsString());
  RETURN_IF_ERROR(Write(batch));
  return job;
}

v1::GcTask Catalog::AddGcTask(const std::string& job_id, v1::GcEvent event,
                              JobStatus outcome, absl::Time due, rocksdb::WriteBatch& batch) {
  v1::GcTask task;
  task.set_id(NewSortableId("gc", due));
  task.set_job_id(job_id);
  task.set_event(event);
  task.set_outcome(outcome);
  *task.mutable_due() = ToProtoTime(due);
  *task.mutable_enqueued_at() = ToProtoTime(clock_->Now());
  batch.Put(QueueKey(Micros(due), task.id()), task.SerializeAsString());
  batch.Put(TaskKey(task.id()), Be64(Micros(due)));
  return task;
}

absl::StatusOr<v1::Job> Catalog::FinishJob(const v1::FinishJobRequest& request) {
  RETURN_IF_ERROR(CheckJobId(request.job_id()));
  if (request.outcome() != types::v1::JOB_STATUS_UNSPECIFIED &&
      request.outcome() != types::v1::JOB_STATUS_SUCCESS &&
      request.outcome() != types::v1::JOB_STATUS_FAILURE) {
    return absl::InvalidArgumentError("outcome must be success or failure");
  }
  KeyLocks::Held held(locks_.get(), {JobKey(request.job_id())});
  Reader r(db_.get());
  v1::Job job;
  ASSIGN_OR_RETURN(bool found, r.Get(JobKey(request.job_id()), &job));
  if (!found) return JobNotFound(request.job_id());
  if (job.has_finished_at()) return job;
  const absl::Time now = clock_->Now();
  for (v1::Step& s : *job.mutable_steps()) {
    if (s.status() == types::v1::STEP_STATUS_RUNNING) {
      s.set_status(types::v1::STEP_STATUS_FAILURE);
      if (s.text().empty()) s.set_text("the job finished while this step was running");
      if (!s.has_end()) *s.mutable_end() = ToProtoTime(now);
    } else if (s.status() == types::v1::STEP_STATUS_QUEUED) {
      s.set_status(types::v1::STEP_STATUS_SKIP);
    }
  }
  if (job.steps_size() > 0) {
    job.set_status(DeriveStatus(job.steps()));
  } else {
    job.set_status(request.outcome() == types::v1::JOB_STATUS_FAILURE
                       ? types::v1::JOB_STATUS_FAILURE
                       : types::v1::JOB_STATUS_SUCCESS);
  }
  *job.mutable_finished_at() = ToProtoTime(now);
  rocksdb::WriteBatch batch;
  // Files committed while the job ran expire from now on.
  const absl::Duration retention = RetentionOf(job);
  const std::string prefix = FilePrefix(job.id());
  auto it = r.Iterate();
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    v1::ArtifactFile f;
    if (!f.ParseFromArray(it->value().data(), it->value().size())) {
      return Corrupt(it->key().ToString());
    }
    if (f.state() != types::v1::FILE_STATE_AVAILABLE || f.has_expires_at() ||
        retention < absl::ZeroDuration()) {
      continue;
    }
    *f.mutable_expires_at() = ToProtoTime(now + retention);
    batch.Put(it->key(), f.SerializeAsString());
    batch.Put(ExpiryKey(f), "");
  }
  RETURN_IF_ERROR(FromRocks(it->status()));
  AddGcTask(job.id(), v1::GC_EVENT_JOB_FINISHED, job.status(), now, batch);
  batch.Put(JobKey(job.id()), job.SerializeAsString());
  RETURN_IF_ERROR(Write(batch));
  return job;
}

void Catalog::PurgeJob(const v1::Job& job, rocksdb::WriteBatch& batch, absl::Time now) {
  batch.Delete(JobKey(job.id()));
  batch.Delete(JobTimeKey(job));
  batch.Delete(JobGroupKey(job));
  // Deleted files' records go with the job; available ones stay until TTL
  // removes them, and get an expiry if the job never finished.
  Reader r(db_.get());
  const std::string prefix = FilePrefix(job.id());
  const absl::Duration retention = RetentionOf(job);
  auto it = r.Iterate();
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    v1::ArtifactFile f;
    if (!f.ParseFromArray(it->value().data(), it->value().size())) continue;
    if (f.state() == types::v1::FILE_STATE_DELETED) {
      batch.Delete(it->key());
    } else if (!f.has_expires_at() && retention >= absl::ZeroDuration()) {
      *f.mutable_expires_at() = ToProtoTime(now + retention);
      batch.Put(it->key(), f.SerializeAsString());
      batch.Put(ExpiryKey(f), "");
    }
  }
}

absl::StatusOr<v1::DeleteJobResponse> Catalog::DeleteJob(const v1::DeleteJobRequest& request) {
  RETURN_IF_ERROR(CheckJobId(request.id()));
  KeyLocks::Held held(locks_.get(), {JobKey(request.id())});
  Reader r(db_.get());
  v1::Job job;
  ASSIGN_OR_RETURN(bool found, r.Get(JobKey(request.id()), &job));
  if (!found) return JobNotFound(request.id());
  const absl::Time now = clock_->Now();
  rocksdb::WriteBatch batch;
  v1::DeleteJobResponse response;
  if (request.force() || job.finalizers().empty()) {
    PurgeJob(job, batch, now);
    RETURN_IF_ERROR(Write(batch));
    response.set_purged(true);
    return response;
  }
  if (!job.has_deletion_requested_at()) {
    *job.mutable_deletion_requested_at() = ToProtoTime(now);
    AddGcTask(job.id(), v1::GC_EVENT_JOB_DELETED, job.status(), now, batch);
    batch.Put(JobKey(job.id()), job.SerializeAsString());
    RETURN_IF_ERROR(Write(batch));
  }
  response.set_purged(false);
  *response.mutable_pending_finalizers() = job.finalizers();
  *response.mutable_job() = std::move(job);
  return response;
}

absl::StatusOr<v1::RemoveFinalizerResponse> Catalog::RemoveFinalizer(
    const v1::RemoveFinalizerRequest& request) {
  RETURN_IF_ERROR(CheckJobId(request.job_id()));
  if (request.finalizer().empty()) return absl::InvalidArgumentError("finalizer is empty");
  KeyLocks::Held held(locks_.get(), {JobKey(request.job_id())});
  Reader r(db_.get());
  v1::Job job;
  ASSIGN_OR_RETURN(bool found, r.Get(JobKey(request.job_id()), &job));
  if (!found) return JobNotFound(request.job_id());
  auto* f = job.mutable_finalizers();
  f->erase(std::remove(f->begin(), f->end(), request.finalizer()), f->end());
  rocksdb::WriteBatch batch;
  v1::RemoveFinalizerResponse response;
  if (job.has_deletion_requested_at() && job.finalizers().empty()) {
    PurgeJob(job, batch, clock_->Now());
    response.set_purged(true);
  } else {
    batch.Put(JobKey(job.id()), job.SerializeAsString());
  }
  RETURN_IF_ERROR(Write(batch));
  return response;
}

absl::StatusOr<v1::Job> Catalog::SetCondition(const v1::SetConditionRequest& request) {
  RETURN_IF_ERROR(CheckJobId(request.job_id()));
  RETURN_IF_ERROR(CheckName("condition type", request.condition().type()));
  RETURN_IF_ERROR(CheckText("condition message", request.condition().message()));
  KeyLocks::Held held(locks_.get(), {JobKey(request.job_id())});
  Reader r(db_.get());
  v1::Job job;
  ASSIGN_OR_RETURN(bool found, r.Get(JobKey(request.job_id()), &job));
  if (!found) return JobNotFound(request.job_id());
  auto* conditions = job.mutable_conditions();
  conditions->erase(std::remove_if(conditions->begin(), conditions->end(),
                                   [&](const v1::Condition& c) {
                                     return c.type() == request.condition().type();
                                   }),
                    conditions->end());
  if (!request.remove()) {
    v1::Condition* c = job.add_conditions();
    *c = request.condition();
    if (!c->has_last_transition_time()) *c->mutable_last_transition_time() = ToProtoTime(clock_->Now());
  }
  rocksdb::WriteBatch batch;
  batch.Put(JobKey(job.id()), job.SerializeAsString());
  RETURN_IF_ERROR(Write(batch));
  return job;
}

// ----------------------------------------------------------------- files

absl::StatusOr<v1::CommitFilesResponse> Catalog::CommitFiles(
    const v1::CommitFilesRequest& request) {
  RETURN_IF_ERROR(CheckJobId(request.job_id()));
  if (request.files_size() > kMaxFilesPerCommit) {
    return absl::InvalidArgumentError(absl::StrCat("a commit holds at most ", kMaxFilesPerCommit,
                                                   " files, got ", request.files_size()));
  }
  std::vector<std::string> lock_keys = {JobKey(request.job_id())};
  absl::flat_hash_set<absl::string_view> paths;
  for (const v1::ArtifactFile& f : request.files()) {
    absl::Status path_ok = ValidateArtifactPath(f.path());
    if (!path_ok.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("files[", paths.size(), "]: ", path_ok.message()));
    }
    if (!paths.insert(f.path()).second) {
      return absl::InvalidArgumentError(absl::StrCat("path ", f.path(), " appears twice"));
    }
    if (!IsSha256Hex(f.sha256())) {
      return absl::InvalidArgumentError(
          absl::StrCat("file ", f.path(), ": sha256 must be 64 lowercase hex digits"));
    }
    if (f.size() < 0) {
      return absl::InvalidArgumentError(absl::StrCat("file ", f.path(), ": negative size"));
    }
    RETURN_IF_ERROR(CheckEnum("privacy_level", types::v1::PrivacyLevel_IsValid(f.privacy_level()),
                              f.privacy_level()));
    RETURN_IF_ERROR(CheckEnum("gc_strategy", types::v1::GcStrategy_IsValid(f.gc_strategy()),
                              f.gc_strategy()));
    if (f.has_last_modified()) RETURN_IF_ERROR(CheckTime("last_modified", f.last_modified()));
    if (f.has_expires_at()) RETURN_IF_ERROR(CheckTime("expires_at", f.expires_at()));
    lock_keys.push_back(BlobKey(f.sha256()));
  }
  KeyLocks::Held held(locks_.get(), lock_keys);
  Reader r(db_.get());
  v1::Job job;
  ASSIGN_OR_RETURN(bool found, r.Get(JobKey(request.job_id()), &job));
  if (!found) return JobNotFound(request.job_id());
  if (job.has_deletion_requested_at()) {
    return absl::FailedPreconditionError(absl::StrCat("job ", job.id(), " is being deleted"));
  }
  const absl::Time now = clock_->Now();
  const absl::Duration retention = RetentionOf(job);
  // Each kind of key goes into the batch in ascending order, so the
  // memtable inserts each next to the one before it.
  std::vector<const v1::ArtifactFile*> in_order;
  in_order.reserve(request.files_size());
  for (const v1::ArtifactFile& in : request.files()) in_order.push_back(&in);
  std::sort(in_order.begin(), in_order.end(), [](const auto* a, const auto* b) {
    return a->path() < b->path();
  });
  // A job's first commit has nothing to look up, which one seek shows.
  bool job_has_files;
  {
    const std::string prefix = FilePrefix(job.id());
    auto it = r.Iterate();
    it->Seek(prefix);
    RETURN_IF_ERROR(FromRocks(it->status()));
    job_has_files = it->Valid() && it->key().starts_with(prefix);
  }
  rocksdb::WriteBatch batch(/*reserved_bytes=*/request.ByteSizeLong() * 2);
  v1::CommitFilesResponse response;
  std::vector<std::string> expiry_keys;
  absl::btree_map<std::string, v1::BlobRef> blobs;  // read once, written once
  bool needs_gc = false;
  for (const v1::ArtifactFile* in : in_order) {
    std::string key = FileKey(job.id(), in->path());
    v1::ArtifactFile stored;  // stays empty if absent
    if (job_has_files) RETURN_IF_ERROR(r.Get(key, &stored).status());
    if (stored.state() == types::v1::FILE_STATE_AVAILABLE) {
      if (stored.sha256() != in->sha256()) {
        return absl::AlreadyExistsError(absl::StrCat(
            "job ", job.id(), " already has ", in->path(), " with sha256 ", stored.sha256()));
      }
      response.set_already_present(response.already_present() + 1);
      continue;
    }
    v1::ArtifactFile f = *in;
    f.set_job_id(job.id());
    f.set_group(job.group());
    f.set_state(types::v1::FILE_STATE_AVAILABLE);
    f.clear_deleted_at();
    *f.mutable_committed_at() = ToProtoTime(now);
    if (!f.has_expires_at() && job.has_finished_at() && retention >= absl::ZeroDuration()) {
      *f.mutable_expires_at() = ToProtoTime(FromProtoTime(job.finished_at()) + retention);
    }
    if (f.has_expires_at()) expiry_keys.push_back(ExpiryKey(f));
    batch.Put(key, f.SerializeAsString());
    auto [bit, first] = blobs.try_emplace(f.sha256());
    v1::BlobRef& blob = bit->second;
    if (first) {
      ASSIGN_OR_RETURN(bool known, r.Get(BlobKey(f.sha256()), &blob));
      if (known && blob.refcount() == 0) batch.Delete(UnrefKey(blob));
      blob.set_sha256(f.sha256());
      blob.set_size(f.size());
      blob.clear_unreferenced_since();
    }
    blob.set_refcount(blob.refcount() + 1);
    needs_gc |= gc::NeedsGc(gc::Effective(job, f));
    response.set_committed(response.committed() + 1);
  }
  if (response.committed() == 0) return response;
  for (const std::string& key : expiry_keys) batch.Put(key, "");
  for (const auto& [sha, blob] : blobs) batch.Put(BlobKey(sha), blob.SerializeAsString());
  if (needs_gc && !HasFinalizer(job, gc::kArtifactGcFinalizer)) {
    job.add_finalizers(std::string(gc::kArtifactGcFinalizer));
    batch.Put(JobKey(job.id()), job.SerializeAsString());
  }
  // Files arriving after the job finished still get their strategy applied.
  if (job.has_finished_at()) {
    AddGcTask(job.id(), v1::GC_EVENT_JOB_FINISHED, job.status(), now, batch);
  }
  RETURN_IF_ERROR(Write(batch));
  return response;
}

absl::StatusOr<v1::ListFilesResponse> Catalog::ListFiles(const v1::ListFilesRequest& request) {
  RETURN_IF_ERROR(CheckJobId(request.job_id()));
  ASSIGN_OR_RETURN(int page_size, CheckPageSize(request.page_size()));
  RETURN_IF_ERROR(CheckText("path_prefix", request.path_prefix(), kMaxPathBytes));
  const std::string kind = absl::StrCat("files:", request.job_id());
  ASSIGN_OR_RETURN(std::string after, DecodePageToken(kind, request.page_token()));
  Reader r(db_.get());
  v1::ListFilesResponse response;
  auto it = r.Iterate();
  const std::string prefix = FileKey(request.job_id(), request.path_prefix());
  const std::string start = after.empty() ? prefix : FileKey(request.job_id(), after);
  for (it->Seek(start); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (!after.empty() && it->key() == start) continue;
    v1::ArtifactFile f;
    if (!f.ParseFromArray(it->value().data(), it->value().size())) {
      return Corrupt(it->key().ToString());
    }
    if (!request.include_deleted() && f.state() == types::v1::FILE_STATE_DELETED) continue;
    if (response.files_size() == page_size) {
      response.set_next_page_token(EncodePageToken(kind, response.files().rbegin()->path()));
      break;
    }
    *response.add_files() = std::move(f);
  }
  RETURN_IF_ERROR(FromRocks(it->status()));
  if (response.files_size() == 0 && request.page_token().empty()) {
    // Distinguish "no files" from "no job" (a purged job's files may remain).
    v1::Job job;
    ASSIGN_OR_RETURN(bool found, r.Get(JobKey(request.job_id()), &job));
    if (!found) return JobNotFound(request.job_id());
  }
  return response;
}

absl::StatusOr<v1::ArtifactFile> Catalog::GetFile(absl::string_view job_id,
                                                  absl::string_view path) {
  RETURN_IF_ERROR(CheckJobId(job_id));
  RETURN_IF_ERROR(ValidateArtifactPath(path));
  Reader r(db_.get());
  v1::ArtifactFile f;
  ASSIGN_OR_RETURN(bool found, r.Get(FileKey(job_id, path), &f));
  if (!found) return absl::NotFoundError(absl::StrCat("job ", job_id, " has no file ", path));
  return f;
}

// ---------------------------------------------------------- retention-gc

absl::StatusOr<v1::ListExpiredFilesResponse> Catalog::ListExpiredFiles(
    const v1::ListExpiredFilesRequest& request) {
  ASSIGN_OR_RETURN(int page_size, CheckPageSize(request.page_size()));
  ASSIGN_OR_RETURN(std::string after, DecodePageToken("expired", request.page_token()));
  const std::string end = absl::StrCat("e/", Be64(Micros(request.before())));
  Reader r(db_.get());
  v1::ListExpiredFilesResponse response;
  auto it = r.Iterate();
  for (it->Seek(after.empty() ? "e/" : after); it->Valid() && it->key().compare(end) < 0;
       it->Next()) {
    if (!after.empty() && it->key() == after) continue;
    if (response.entries_size() == page_size) {
      // The last entry's key is rebuilt from the entry itself.
      const v1::ExpiryEntry& last = *response.entries().rbegin();
      v1::ArtifactFile f;
      f.set_job_id(last.job_id());
      f.set_path(last.path());
      *f.mutable_expires_at() = last.expires_at();
      response.set_next_page_token(EncodePageToken("expired", ExpiryKey(f)));
      break;
    }
    absl::string_view rest(it->key().data() + 10, it->key().size() - 10);
    size_t nul = rest.find('\0');
    if (nul == absl::string_view::npos) return Corrupt(it->key().ToString());
    v1::ExpiryEntry* e = response.add_entries();
    e->set_job_id(std::string(rest.substr(0, nul)));
    e->set_path(std::string(rest.substr(nul + 1)));
    ASSIGN_OR_RETURN(bool found, r.Get(FileKey(e->job_id(), e->path()), e->mutable_file()));
    if (!found) return Corrupt(it->key().ToString());
    *e->mutable_expires_at() = ToProtoTime(
        absl::FromUnixMicros(static_cast<int64_t>(ReadBe64(it->key().data() + 2))));
  }
  RETURN_IF_ERROR(FromRocks(it->status()));
  return response;
}

absl::StatusOr<v1::MarkFilesDeletedResponse> Catalog::MarkFilesDeleted(
    const v1::MarkFilesDeletedRequest& request) {
  RETURN_IF_ERROR(CheckJobId(request.job_id()));
  for (const std::string& p : request.paths()) RETURN_IF_ERROR(ValidateArtifactPath(p));
  // Lock the job and the blobs the files point at; the files are read first
  // to learn the blobs, then re-read under the locks.
  std::vector<std::string> lock_keys = {JobKey(request.job_id())};
  for (int attempt = 0; attempt < 8; ++attempt) {
    KeyLocks::Held held(locks_.get(), lock_keys);
    Reader r(db_.get());
    v1::Job job;
    ASSIGN_OR_RETURN(bool job_exists, r.Get(JobKey(request.job_id()), &job));
    const absl::Time now = clock_->Now();
    rocksdb::WriteBatch batch;
    v1::MarkFilesDeletedResponse response;
    absl::flat_hash_map<std::string, v1::BlobRef> blobs;
    bool relock = false;
    for (const std::string& path : request.paths()) {
      v1::ArtifactFile f;
      ASSIGN_OR_RETURN(bool exists, r.Get(FileKey(request.job_id(), path), &f));
      if (!exists || f.state() == types::v1::FILE_STATE_DELETED) {
        response.set_already_deleted(response.already_deleted() + 1);
        continue;
      }
      const std::string blob_key = BlobKey(f.sha256());
      if (std::find(lock_keys.begin(), lock_keys.end(), blob_key) == lock_keys.end()) {
        lock_keys.push_back(blob_key);
        relock = true;
        continue;
      }
      if (f.has_expires_at()) batch.Delete(ExpiryKey(f));
      if (job_exists) {
        f.set_state(types::v1::FILE_STATE_DELETED);
        *f.mutable_deleted_at() = ToProtoTime(now);
        batch.Put(FileKey(f.job_id(), f.path()), f.SerializeAsString());
      } else {
        batch.Delete(FileKey(f.job_id(), f.path()));
      }
      auto [bit, first] = blobs.try_emplace(f.sha256());
      if (first) {
        ASSIGN_OR_RETURN(bool known, r.Get(blob_key, &bit->second));
        if (!known) bit->second.set_sha256(f.sha256());
      }
      bit->second.set_refcount(std::max<int64_t>(0, bit->second.refcount() - 1));
      response.set_deleted(response.deleted() + 1);
    }
    if (relock) continue;
    for (auto& [sha, blob] : blobs) {
      if (blob.refcount() == 0) {
        response.add_unreferenced_blobs(sha);
        if (request.forget_unreferenced_blobs()) {
          batch.Delete(BlobKey(sha));
          continue;
        }
        *blob.mutable_unreferenced_since() = ToProtoTime(now);
        batch.Put(UnrefKey(blob), "");
      }
      batch.Put(BlobKey(sha), blob.SerializeAsString());
    }
    RETURN_IF_ERROR(Write(batch));
    return response;
  }
  return absl::AbortedError("files changed concurrently; retry");
}

absl::StatusOr<v1::BlobRef> Catalog::GetBlobRef(absl::string_view sha256) {
  if (!IsSha256Hex(sha256)) {
    return absl::InvalidArgumentError("sha256 must be 64 lowercase hex digits");
  }
  Reader r(db_.get());
  v1::BlobRef b;
  ASSIGN_OR_RETURN(bool found, r.Get(BlobKey(sha256), &b));
  if (!found) return absl::NotFoundError(absl::StrCat("no blob record for ", sha256));
  return b;
}

absl::StatusOr<v1::GetBlobRefsResponse> Catalog::GetBlobRefs(
    const v1::GetBlobRefsRequest& request) {
  if (request.sha256s_size() > 10000) {
    return absl::InvalidArgumentError("at most 10,000 digests per call");
  }
  Reader r(db_.get());
  v1::GetBlobRefsResponse response;
  for (const std::string& sha : request.sha256s()) {
    if (!IsSha256Hex(sha)) {
      return absl::InvalidArgumentError(
          absl::StrCat("sha256 must be 64 lowercase hex digits, got \"", sha.substr(0, 80), "\""));
    }
    v1::BlobRef* b = response.add_blobs();
    ASSIGN_OR_RETURN(bool found, r.Get(BlobKey(sha), b));
    if (!found) b->set_sha256(sha);
  }
  return response;
}

absl::StatusOr<v1::ListUnreferencedBlobsResponse> Catalog::ListUnreferencedBlobs(
    const v1::ListUnreferencedBlobsRequest& request) {
  ASSIGN_OR_RETURN(int page_size, CheckPageSize(request.page_size()));
  ASSIGN_OR_RETURN(std::string after, DecodePageToken("unreferenced", request.page_token()));
  const std::string end = absl::StrCat("u/", Be64(Micros(request.before())));
  Reader r(db_.get());
  v1::ListUnreferencedBlobsResponse response;
  auto it = r.Iterate();
  std::string last_key;
  for (it->Seek(after.empty() ? "u/" : after); it->Valid() && it->key().compare(end) < 0;
       it->Next()) {
    if (!after.empty() && it->key() == after) continue;
    if (response.blobs_size() == page_size) {
      response.set_next_page_token(EncodePageToken("unreferenced", last_key));
      break;
    }
    std::string sha = it->key().ToString().substr(10);
    v1::BlobRef b;
    ASSIGN_OR_RETURN(bool found, r.Get(BlobKey(sha), &b));
    if (!found) return Corrupt(it->key().ToString());
    *response.add_blobs() = std::move(b);
    last_key = it->key().ToString();
  }
  RETURN_IF_ERROR(FromRocks(it->status()));
  return response;
}

absl::Status Catalog::ForgetBlob(const v1::ForgetBlobRequest& request) {
  if (!IsSha256Hex(request.sha256())) {
    return absl::InvalidArgumentError("sha256 must be 64 lowercase hex digits");
  }
  KeyLocks::Held held(locks_.get(), {BlobKey(request.sha256())});
  Reader r(db_.get());
  v1::BlobRef b;
  ASSIGN_OR_RETURN(bool found, r.Get(BlobKey(request.sha256()), &b));
  if (!found) return absl::NotFoundError(absl::StrCat("no blob record for ", request.sha256()));
  if (b.refcount() > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("blob ", b.sha256(), " is referenced by ", b.refcount(), " file(s)"));
  }
  if (Micros(b.unreferenced_since()) >= Micros(request.unreferenced_before())) {
    return absl::FailedPreconditionError(
        absl::StrCat("blob ", b.sha256(), " has been unreferenced only since ",
                     FormatRfc3339(FromProtoTime(b.unreferenced_since()))));
  }
  rocksdb::WriteBatch batch;
  batch.Delete(BlobKey(b.sha256()));
  batch.Delete(UnrefKey(b));
  return Write(batch);
}

// -------------------------------------------------------------- GC queue

absl::StatusOr<v1::GcTask> Catalog::EnqueueGcTask(const v1::EnqueueGcTaskRequest& request) {
  const v1::GcTask& in = request.task();
  RETURN_IF_ERROR(CheckJobId(in.job_id()));
  if (in.event() == v1::GC_EVENT_UNSPECIFIED || !v1::GcEvent_IsValid(in.event())) {
    return absl::InvalidArgumentError(absl::StrCat("event has unknown value ", in.event()));
  }
  const absl::Time due = in.has_due() ? FromProtoTime(in.due()) : clock_->Now();
  rocksdb::WriteBatch batch;
  v1::GcTask task = AddGcTask(in.job_id(), in.event(), in.outcome(), due, batch);
  RETURN_IF_ERROR(Write(batch));
  return task;
}

absl::StatusOr<v1::LeaseGcTasksResponse> Catalog::LeaseGcTasks(
    const v1::LeaseGcTasksRequest& request) {
  if (request.max_tasks() < 1 || request.max_tasks() > 1000) {
    return absl::InvalidArgumentError("max_tasks must be between 1 and 1000");
  }
  const absl::Duration lease = FromProtoDuration(request.lease());
  if (lease <= absl::ZeroDuration() || lease > absl::Hours(1)) {
    return absl::InvalidArgumentError("lease must be more than 0 and at most 1 h");
  }
  RETURN_IF_ERROR(CheckText("owner", request.owner(), 255));
  const absl::Time now = clock_->Now();
  const std::string end = absl::StrCat("q/", Be64(Micros(now) + 1));
  // Find candidates, then lock and re-check each: a task completed or leased
  // in between is skipped.
  std::vector<std::string> ids;
  {
    Reader r(db_.get());
    auto it = r.Iterate();
    for (it->Seek("q/"); it->Valid() && it->key().compare(end) < 0 &&
                         static_cast<int>(ids.size()) < request.max_tasks();
         it->Next()) {
      ids.push_back(it->key().ToString().substr(10));
    }
    RETURN_IF_ERROR(FromRocks(it->status()));
  }
  std::vector<std::string> lock_keys;
  for (const std::string& id : ids) lock_keys.push_back(TaskKey(id));
  KeyLocks::Held held(locks_.get(), lock_keys);
  Reader r(db_.get());
  rocksdb::WriteBatch batch;
  v1::LeaseGcTasksResponse response;
  for (const std::string& id : ids) {
    std::string due;
    absl::Status s = r.GetRaw(TaskKey(id), &due);
    if (absl::IsNotFound(s)) continue;
    RETURN_IF_ERROR(s);
    if (due.size() != 8) return Corrupt(TaskKey(id));
    if (ReadBe64(due.data()) > Micros(now)) continue;  // leased by someone else meanwhile
    v1::GcTask task;
    ASSIGN_OR_RETURN(bool found, r.Get(QueueKey(ReadBe64(due.data()), id), &task));
    if (!found) return Corrupt(TaskKey(id));
    batch.Delete(QueueKey(ReadBe64(due.data()), id));
    task.set_attempts(task.attempts() + 1);
    task.set_lease_token(RandomToken(16));
    task.set_lease_owner(request.owner());
    *task.mutable_due() = ToProtoTime(now + lease);
    const uint64_t new_due = Micros(task.due());
    batch.Put(QueueKey(new_due, id), task.SerializeAsString());
    batch.Put(TaskKey(id), Be64(new_due));
    *response.add_tasks() = std::move(task);
  }
  if (response.tasks_size() > 0) RETURN_IF_ERROR(Write(batch));
  return response;
}


absl::StatusOr<v1::GcTask> Catalog::LeasedTask(Reader& r, const std::string& task_id,
                                               const std::string& lease_token) {
  std::string due;
  absl::Status s = r.GetRaw(TaskKey(task_id), &due);
  if (absl::IsNotFound(s)) return absl::NotFoundError(absl::StrCat("no GC task ", task_id));
  RETURN_IF_ERROR(s);
  if (due.size() != 8) return Corrupt(TaskKey(task_id));
  v1::GcTask task;
  ASSIGN_OR_RETURN(bool found, r.Get(QueueKey(ReadBe64(due.data()), task_id), &task));
  if (!found) return Corrupt(TaskKey(task_id));
  if (task.lease_token().empty() || task.lease_token() != lease_token) {
    return absl::FailedPreconditionError(absl::StrCat(
        "GC task ", task_id, " is not leased with this token (lease expired or taken)"));
  }
  return task;
}

absl::Status Catalog::CompleteGcTask(const v1::CompleteGcTaskRequest& request) {
  RETURN_IF_ERROR(CheckName("task_id", request.task_id()));
  KeyLocks::Held held(locks_.get(), {TaskKey(request.task_id())});
  Reader r(db_.get());
  ASSIGN_OR_RETURN(v1::GcTask task, LeasedTask(r, request.task_id(), request.lease_token()));
  rocksdb::WriteBatch batch;
  batch.Delete(QueueKey(Micros(task.due()), task.id()));
  batch.Delete(TaskKey(task.id()));
  return Write(batch);
}

absl::StatusOr<v1::GcTask> Catalog::RetryGcTask(const v1::RetryGcTaskRequest& request) {
  RETURN_IF_ERROR(CheckName("task_id", request.task_id()));
  RETURN_IF_ERROR(CheckText("error", request.error()));
  KeyLocks::Held held(locks_.get(), {TaskKey(request.task_id())});
  Reader r(db_.get());
  ASSIGN_OR_RETURN(v1::GcTask task, LeasedTask(r, request.task_id(), request.lease_token()));
  rocksdb::WriteBatch batch;
  batch.Delete(QueueKey(Micros(task.due()), task.id()));
  task.clear_lease_token();
  task.clear_lease_owner();
  task.set_last_error(request.error());
  *task.mutable_due() = request.has_next_due() ? request.next_due() : ToProtoTime(clock_->Now());
  batch.Put(QueueKey(Micros(task.due()), task.id()), task.SerializeAsString());
  batch.Put(TaskKey(task.id()), Be64(Micros(task.due())));
  RETURN_IF_ERROR(Write(batch));
  return task;
}

absl::StatusOr<v1::GcQueueStatsResponse> Catalog::GcQueueStats() {
  Reader r(db_.get());
  v1::GcQueueStatsResponse response;
  auto it = r.Iterate();
  for (it->Seek("q/"); it->Valid() && it->key().starts_with("q/"); it->Next()) {
    if (response.depth() == 0) {
      *response.mutable_oldest_due() = ToProtoTime(
          absl::FromUnixMicros(static_cast<int64_t>(ReadBe64(it->key().data() + 2))));
    }
    response.set_depth(response.depth() + 1);
  }
  RETURN_IF_ERROR(FromRocks(it->status()));
  return response;
}

absl::StatusOr<v1::ListGcTasksResponse> Catalog::ListGcTasks(
    const v1::ListGcTasksRequest& request) {
  ASSIGN_OR_RETURN(int page_size, CheckPageSize(request.page_size()));
  if (!request.job_id().empty()) RETURN_IF_ERROR(CheckJobId(request.job_id()));
  ASSIGN_OR_RETURN(std::string after, DecodePageToken("gctasks", request.page_token()));
  Reader r(db_.get());
  v1::ListGcTasksResponse response;
  auto it = r.Iterate();
  std::string last_key;
  for (it->Seek(after.empty() ? "q/" : after); it->Valid() && it->key().starts_with("q/");
       it->Next()) {
    if (!after.empty() && it->key() == after) continue;
    v1::GcTask task;
    if (!task.ParseFromArray(it->value().data(), it->value().size())) {
      return Corrupt(it->key().ToString());
    }
    if (!request.job_id().empty() && task.job_id() != request.job_id()) continue;
    if (response.tasks_size() == page_size) {
      response.set_next_page_token(EncodePageToken("gctasks", last_key));
      break;
    }
    *response.add_tasks() = std::move(task);
    last_key = it->key().ToString();
  }
  RETURN_IF_ERROR(FromRocks(it->status()));
  return response;
}

}  // namespace arca::catalog
