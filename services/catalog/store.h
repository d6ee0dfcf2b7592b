#ifndef ARCA_SERVICES_CATALOG_STORE_H_
#define ARCA_SERVICES_CATALOG_STORE_H_

// The catalog's storage underneath its domains: RocksDB's status in Arca's
// terms, striped key locks for check-then-write, and snapshot readers.
// Internal to the catalog's own files, like RocksDB's db_impl.h.

#include <array>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "rocksdb/db.h"
#include "services/catalog/catalog.h"

namespace arca::catalog {

inline absl::Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return absl::OkStatus();
  if (s.IsNoSpace()) {
    return absl::ResourceExhaustedError(absl::StrCat("the catalog's disk is full: ", s.ToString()));
  }
  if (s.IsBusy() || (s.IsIOError() && absl::StrContains(s.ToString(), "lock"))) {
    return absl::UnavailableError(s.ToString());
  }
  return absl::InternalError(absl::StrCat("storage: ", s.ToString()));
}

inline absl::Status Corrupt(absl::string_view key) {
  return absl::DataLossError(absl::StrCat("catalog record ", key, " cannot be parsed"));
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

class OffsetMap;  // blobs.cc

// Turns blob records' locations (if packed) into where their bytes are now:
// the file holding the pack and the record's offset there. Keeps what it
// looked up of each pack for the next blob of the same read.
class Catalog::Locator {
 public:
  explicit Locator(Reader& r);
  ~Locator();
  absl::Status Locate(v1::BlobRef* blob);

 private:
  struct Pack {
    std::string file;  // empty: never compacted
    std::unique_ptr<OffsetMap> map;
  };
  Reader& r_;
  absl::flat_hash_map<std::string, Pack> packs_;
};

}  // namespace arca::catalog

#endif  // ARCA_SERVICES_CATALOG_STORE_H_
