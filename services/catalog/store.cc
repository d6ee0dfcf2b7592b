// The catalog: opening the database, writing, checkpoints, disk space.

#include "services/catalog/catalog.h"
#include "services/catalog/disk_room.h"

#include <algorithm>
#include <filesystem>
#include <utility>

#include "absl/strings/strip.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/logging.h"
#include "common/paths.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/statistics.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/write_batch.h"
#include "services/catalog/keys.h"
#include "services/catalog/store.h"
#include "services/catalog/validation.h"

namespace arca::catalog {

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

namespace {

// Schema 1 to 2: the index of jobs by condition, from every job's record.
absl::Status IndexConditions(rocksdb::DB* db, rocksdb::WriteBatch& batch) {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek("j/"); it->Valid() && it->key().starts_with("j/"); it->Next()) {
    v1::Job job;
    if (!job.ParseFromArray(it->value().data(), it->value().size())) {
      return Corrupt(it->key().ToString());
    }
    for (const v1::Condition& c : job.conditions()) batch.Put(JobConditionKey(c.type(), job), "");
  }
  return FromRocks(it->status());
}

// Schema 2 to 3: the index of live packed blobs, from every blob record
// (packs were never compacted in place then), and retired pack files
// apart from packs.
absl::Status IndexPackedBlobs(rocksdb::DB* db, rocksdb::WriteBatch& batch) {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek("b/"); it->Valid() && it->key().starts_with("b/"); it->Next()) {
    v1::BlobRef b;
    if (!b.ParseFromArray(it->value().data(), it->value().size())) {
      return Corrupt(it->key().ToString());
    }
    if (b.has_location() && !b.location().pack().empty()) {
      batch.Put(LiveKey(b.location()), "");
    }
  }
  for (it->Seek("p/"); it->Valid() && it->key().starts_with("p/"); it->Next()) {
    v1::Pack p;
    if (!p.ParseFromArray(it->value().data(), it->value().size())) {
      return Corrupt(it->key().ToString());
    }
    if (p.has_retired_at()) {
      batch.Delete(it->key());
      batch.Put(RetiredKey(p.name()), it->value());
    }
  }
  return FromRocks(it->status());
}

// Brings a database of an older schema up to this one in one write.
absl::Status Upgrade(rocksdb::DB* db, int stored) {
  rocksdb::WriteBatch batch;
  if (stored < 2) RETURN_IF_ERROR(IndexConditions(db, batch));
  if (stored < 3) RETURN_IF_ERROR(IndexPackedBlobs(db, batch));
  batch.Put(kSchemaKey, std::to_string(Catalog::kSchemaVersion));
  rocksdb::WriteOptions w;
  w.sync = true;
  return FromRocks(db->Write(w, &batch));
}

}  // namespace

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
    if (stored < kSchemaVersion && read_only) {
      return absl::UnavailableError(absl::StrCat(
          "catalog database ", options.data_dir, " must be upgraded from schema version ", stored,
          ", which needs free disk space"));
    }
    if (stored < kSchemaVersion) RETURN_IF_ERROR(Upgrade(db.get(), stored));
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

absl::StatusOr<v1::CreateCheckpointResponse> Catalog::CreateCheckpoint(const std::string& dir,
                                                                       bool to_store) {
  if (options_.backup_dir.empty()) {
    return absl::FailedPreconditionError(
        "this catalog takes no checkpoints: it was started without --backup_dir");
  }
  if (to_store && !options_.ship_checkpoint) {
    return absl::FailedPreconditionError(
        "this catalog has no checkpoint store: it was started without --checkpoint_store");
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
  if (to_store) {
    ASSIGN_OR_RETURN(*response.mutable_stored_at(),
                     options_.ship_checkpoint(target.string(),
                                              absl::StrReplaceAll(std::string(name), {{"/", "-"}})));
  }
  return response;
}

absl::Duration Catalog::RetentionOf(const v1::Job& job, absl::string_view path) const {
  const absl::Duration retention =
      job.has_retention() ? FromProtoDuration(job.retention()) : options_.default_retention;
  if (IsJobLog(path) && retention >= absl::ZeroDuration()) {
    return std::max(retention, options_.log_retention);
  }
  return retention;
}

}  // namespace arca::catalog
