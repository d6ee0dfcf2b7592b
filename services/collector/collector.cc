#include "services/collector/collector.h"

#include <fnmatch.h>
#include <malloc.h>

#include <algorithm>
#include <deque>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/ids.h"
#include "common/logging.h"
#include "common/paths.h"
#include "common/hash/crc32c.h"
#include "common/hash/sha256.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "common/trace.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace arca::collector {
namespace {

namespace cat = ::arca::catalog::v1;
using ::arca::types::v1::PrivacyLevel;

const absl::flat_hash_set<std::string>& SkipReasons() {
  static const auto* reasons =
      new absl::flat_hash_set<std::string>{ARCA_COLLECTOR_SKIP_REASONS};
  return *reasons;
}

}  // namespace

namespace {

// One place among `limit` running calls, given back when destroyed.
class Slot {
 public:
  Slot(std::atomic<int>* running, prometheus::Gauge* gauge) : running_(running), gauge_(gauge) {
    gauge_->Increment();
  }
  ~Slot() {
    gauge_->Decrement();
    running_->fetch_sub(1);
  }
  // A slot, or RESOURCE_EXHAUSTED when `limit` are taken.
  static absl::StatusOr<std::unique_ptr<Slot>> Take(std::atomic<int>* running, int limit,
                                                     prometheus::Gauge* gauge,
                                                     absl::string_view what) {
    if (running->fetch_add(1) >= limit) {
      running->fetch_sub(1);
      return absl::ResourceExhaustedError(absl::StrCat(
          "the collector is busy: ", limit, " ", what, " are running, its limit; retry shortly"));
    }
    return std::make_unique<Slot>(running, gauge);
  }

 private:
  std::atomic<int>* running_;
  prometheus::Gauge* gauge_;
};

}  // namespace

bool IsHiddenPath(absl::string_view path) {
  if (IsJobLog(path)) return false;
  for (absl::string_view segment : absl::StrSplit(path, '/')) {
    if (absl::StartsWith(segment, ".")) return true;
  }
  return false;
}

Collector::Collector(const CollectorOptions& options, blob::BlobStore* blobs,
                     clients::CatalogClient* catalog, Clock* clock,
                     CollectorMetrics* metrics)
    : options_(options), blobs_(blobs), catalog_(catalog), clock_(clock), metrics_(metrics) {}

absl::Status Collector::StoreFailure(const absl::Status& status, absl::string_view job_id) {
  const bool full = absl::IsResourceExhausted(status);
  metrics_->uploads_rejected.Add({{"reason", full ? "disk_full" : "storage_error"}}).Increment();
  ARCA_LOG(ERROR) << "storing the upload of job " << job_id << " failed: " << status.message();
  if (full) {
    return absl::ResourceExhaustedError(
        "the collector's disk is full; nothing was committed, retry once space is freed");
  }
  return absl::InternalError(
      "the collector could not store the upload; nothing was committed (its log says why)");
}

// One upload in progress.
class Collector::UploadState {
 public:
  UploadState(Collector* c, const v1::UploadManifest& manifest, const cat::Job& job)
      : c_(c), manifest_(manifest), job_(job) {
    max_bytes_ = manifest.max_total_bytes() > 0
                     ? std::min(manifest.max_total_bytes(), c->options_.max_total_bytes)
                     : c->options_.max_total_bytes;
    max_files_ = manifest.max_files() > 0 ? std::min(manifest.max_files(), c->options_.max_files)
                                          : c->options_.max_files;
  }

  // A header's content is the file's first chunk.
  absl::Status StartFile(const v1::FileHeader& header) {
    RETURN_IF_ERROR(BeginFile(header));
    return header.content().empty() ? absl::OkStatus() : Chunk(header.content());
  }
  absl::Status BeginFile(const v1::FileHeader& header) {
    RETURN_IF_ERROR(FinishFile());
    absl::Status valid = ValidateArtifactPath(header.path());
    if (!valid.ok()) return absl::InvalidArgumentError(valid.message());
    if (header.size() < 0) {
      return absl::InvalidArgumentError(absl::StrCat("file ", header.path(), ": negative size"));
    }
    if (!header.sha256().empty() && !IsSha256Hex(header.sha256())) {
      return absl::InvalidArgumentError(
          absl::StrCat("file ", header.path(), ": sha256 must be 64 lowercase hex digits"));
    }
    if (!seen_.insert(header.path()).second) {
      return absl::InvalidArgumentError(absl::StrCat("file ", header.path(), " sent twice"));
    }
    current_ = header;
    received_ = 0;
    writer_.reset();
    small_ = false;
    level_ = types::v1::PRIVACY_LEVEL_MODERATELY_SENSITIVE;
    strategy_ = header.gc_strategy();
    const bool is_log = IsJobLog(header.path());
    if (!manifest_.include_hidden() && IsHiddenPath(header.path())) return Skip("hidden", "");
    if (!is_log && manifest_.patterns_size() > 0) {
      const v1::OutputPattern* match = nullptr;
      for (const v1::OutputPattern& p : manifest_.patterns()) {
        if (fnmatch(p.glob().c_str(), header.path().c_str(), 0) == 0) {
          match = &p;
          break;
        }
      }
      if (match == nullptr) return Skip("no_pattern", "matches no output pattern");
      if (match->privacy_level() != types::v1::PRIVACY_LEVEL_UNSPECIFIED) {
        level_ = match->privacy_level();
      }
      if (strategy_ == types::v1::GC_STRATEGY_UNSPECIFIED) strategy_ = match->gc_strategy();
    }
    // The limits count the user's files. The job's logs have a budget of
    // their own, of the same size, so they are kept whatever the outputs
    // are and never crowd them out.
    const Budget& used = is_log ? logs_ : outputs_;
    const char* what = is_log ? "log files" : "files";
    if (used.files + 1 > max_files_) {
      if (!manifest_.truncate()) {
        return Reject("over_count", absl::StrCat("upload has more than ", max_files_, " ", what,
                                                 " (the limit); ", header.path(), " is number ",
                                                 used.files + 1));
      }
      return Skip("over_count", absl::StrCat("limit is ", max_files_, " ", what));
    }
    if (used.bytes + header.size() > max_bytes_) {
      if (!manifest_.truncate()) {
        return Reject("over_size",
                      absl::StrCat("upload exceeds the ", max_bytes_, "-byte limit by ",
                                   used.bytes + header.size() - max_bytes_, " bytes at ",
                                   header.path()));
      }
      return Skip("over_size", absl::StrCat("limit is ", max_bytes_, " bytes"));
    }
    if (header.size() < c_->options_.pack_threshold) {
      small_ = true;  // gathered here, for a pack
      small_bytes_.clear();
      small_bytes_.reserve(static_cast<size_t>(header.size()));
      return absl::OkStatus();
    }
    auto writer = c_->blobs_->NewWriter();
    if (!writer.ok()) return c_->StoreFailure(writer.status(), job_.id());
    writer_ = *std::move(writer);
    return absl::OkStatus();
  }

  absl::Status Chunk(const std::string& data) {
    if (!current_.has_value()) {
      return absl::InvalidArgumentError("chunk before any file header");
    }
    received_ += data.size();
    if (received_ > current_->size()) {
      return absl::InvalidArgumentError(absl::StrCat("file ", current_->path(), " declared ",
                                                     current_->size(), " bytes but sent more"));
    }
    if (small_) {
      small_bytes_ += data;
      return absl::OkStatus();
    }
    if (writer_ == nullptr) return absl::OkStatus();  // skipped: drain
    absl::Status appended = writer_->Append(data);
    return appended.ok() ? appended : c_->StoreFailure(appended, job_.id());
  }

  absl::Status ClientSkipped(const v1::SkippedFile& skipped) {
    if (!SkipReasons().contains(skipped.reason())) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown skip reason \"", skipped.reason(), "\""));
    }
    if (!IsValidUtf8(skipped.path()) || skipped.path().size() > kMaxPathBytes) {
      return absl::InvalidArgumentError("skipped file path is not valid UTF-8 or too long");
    }
    *response_.add_skipped() = skipped;
    c_->metrics_->files_skipped.Add({{"reason", skipped.reason()}}).Increment();
    return absl::OkStatus();
  }

  absl::Status FinishFile() {
    if (!current_.has_value()) return absl::OkStatus();
    const v1::FileHeader header = *std::move(current_);
    current_.reset();
    if (received_ != header.size()) {
      return absl::InvalidArgumentError(absl::StrCat("file ", header.path(), " declared ",
                                                     header.size(), " bytes but sent ",
                                                     received_));
    }
    if (writer_ == nullptr && !small_) return absl::OkStatus();
    // A large file's are filled in when its seal ends (FinishOldestSeal).
    std::string sha256;
    uint32_t crc32c = 0;
    if (small_) {
      sha256 = hash::Sha256::Of(small_bytes_);
      crc32c = hash::Crc32c(small_bytes_);
      if (!header.sha256().empty() && header.sha256() != sha256) {
        return Reject("digest_mismatch",
                      absl::StrCat("file ", header.path(), ": content has sha256 ", sha256,
                                   ", not the declared ", header.sha256()));
      }
      pending_.push_back(Small{files_.size(), sha256, std::move(small_bytes_)});
      pending_bytes_ += received_;
      small_ = false;
    } else {
      if (sealing_.size() >= kSealsInFlight) RETURN_IF_ERROR(FinishOldestSeal());
      blob::BlobWriter* writer = writer_.get();
      sealing_.push_back({files_.size(), header.path(),
                          std::async(std::launch::async, [writer, expected = header.sha256()] {
                            return writer->Seal(expected);
                          })});
      sealed_.push_back(std::move(writer_));
    }
    Budget& used = IsJobLog(header.path()) ? logs_ : outputs_;
    ++used.files;
    used.bytes += received_;
    cat::ArtifactFile f;
    f.set_path(header.path());
    f.set_size(received_);
    f.set_sha256(sha256);
    f.set_privacy_level(level_);
    f.set_gc_strategy(strategy_);
    if (header.mtime_unix_nanos() > 0) {
      *f.mutable_last_modified() = ToProtoTime(absl::FromUnixNanos(header.mtime_unix_nanos()));
    } else {
      *f.mutable_last_modified() = ToProtoTime(c_->clock_->Now());
    }
    files_.push_back(std::move(f));
    v1::CollectedFile* out = response_.add_files();
    out->set_path(header.path());
    out->set_size(received_);
    out->set_sha256(sha256);
    out->set_crc32c(crc32c);
    out->set_privacy_level(level_);
    if (pending_bytes_ >= kPlaceBatchBytes || pending_.size() >= kPlaceBatchFiles) {
      return LookUpSmall();
    }
    return absl::OkStatus();
  }

  // Asks the catalog, on a thread of its own while the next batch arrives,
  // which of the gathered small files' bytes it holds; the batch before is
  // placed first, so at most one question is out.
  absl::Status LookUpSmall() {
    RETURN_IF_ERROR(PlaceLookedUp());
    if (pending_.empty()) return absl::OkStatus();
    std::vector<std::string> ask;
    for (const Small& s : pending_) {
      if (placed_.emplace(s.sha256, std::nullopt).second) ask.push_back(s.sha256);
    }
    std::optional<trace::Context> parent;
    if (const trace::Context* current = trace::Current()) parent = *current;
    looking_up_.emplace();
    looking_up_->files = std::exchange(pending_, {});
    pending_bytes_ = 0;
    looking_up_->known = std::async(
        std::launch::async,
        [catalog = c_->catalog_, ask = std::move(ask),
         parent]() -> absl::StatusOr<absl::flat_hash_map<std::string, cat::BlobRef>> {
          trace::Scope scope(parent.has_value() ? &*parent : nullptr);
          absl::flat_hash_map<std::string, cat::BlobRef> known;
          RETURN_IF_ERROR(catalog->ForEachBlobRef(ask, [&](const cat::BlobRef& ref) {
            if (ref.refcount() > 0 || ref.has_unreferenced_since()) known[ref.sha256()] = ref;
            return absl::OkStatus();
          }));
          return known;
        });
    return absl::OkStatus();
  }

  // Finds a place for each small file of the batch looked up: where this
  // upload already put the same bytes; the pack where the catalog says they
  // are (if a file still references them); a blob file of their own if they
  // are stored as one (the store then marks it as just written, as for any
  // blob); else this upload's pack.
  absl::Status PlaceLookedUp() {
    if (!looking_up_.has_value()) return absl::OkStatus();
    Lookup batch = std::move(*looking_up_);
    looking_up_.reset();
    ASSIGN_OR_RETURN(const auto known, batch.known.get());
    for (Small& s : batch.files) {
      std::optional<cat::BlobLocation>& place = placed_[s.sha256];
      if (!place.has_value()) {
        auto ref = known.find(s.sha256);
        if (ref != known.end() && ref->second.has_location() && ref->second.refcount() > 0) {
          place = ref->second.location();
        } else if (ref != known.end() && !ref->second.has_location()) {
          RETURN_IF_ERROR(StoreLoose(s));
          place = cat::BlobLocation();
        } else {
          if (pack_ == nullptr) {
            auto pack = c_->blobs_->NewPackWriter();
            if (!pack.ok()) return c_->StoreFailure(pack.status(), job_.id());
            pack_ = *std::move(pack);
          }
          auto where = pack_->Add(s.sha256, s.bytes);
          if (!where.ok()) return c_->StoreFailure(where.status(), job_.id());
          place.emplace();
          place->set_pack(where->pack);
          place->set_offset(where->offset);
        }
      }
      *files_[s.file].mutable_location() = *place;
    }
    return absl::OkStatus();
  }

  // Waits for the oldest large file's seal and records its digest.
  absl::Status FinishOldestSeal() {
    Sealing oldest = std::move(sealing_.front());
    sealing_.pop_front();
    absl::StatusOr<blob::BlobInfo> info = oldest.info.get();
    if (absl::IsDataLoss(info.status())) {
      return Reject("digest_mismatch",
                    absl::StrCat("file ", oldest.path, ": ", info.status().message()));
    }
    if (!info.ok()) return c_->StoreFailure(info.status(), job_.id());
    files_[oldest.file].set_sha256(info->sha256);
    v1::CollectedFile* out = response_.mutable_files(static_cast<int>(oldest.file));
    out->set_sha256(info->sha256);
    out->set_crc32c(info->crc32c);
    return absl::OkStatus();
  }

  // Makes every accepted blob durable: the loose ones with one flush for the
  // batch, the pack with one of its own.
  absl::Status PublishBlobs() {
    while (!sealing_.empty()) RETURN_IF_ERROR(FinishOldestSeal());
    RETURN_IF_ERROR(LookUpSmall());
    RETURN_IF_ERROR(PlaceLookedUp());
    std::vector<blob::BlobWriter*> sealed;
    for (auto& w : sealed_) sealed.push_back(w.get());
    absl::Status published = c_->blobs_->Publish(sealed);
    if (published.ok() && pack_ != nullptr && !pack_->entries().empty()) {
      published = pack_->Publish();
    }
    // ABORTED: bytes swept meanwhile; the client retries.
    if (published.ok() || absl::IsAborted(published)) return published;
    return c_->StoreFailure(published, job_.id());
  }

  // The pack this upload wrote, if any, for the commit.
  std::optional<cat::Pack> new_pack() const {
    if (pack_ == nullptr || pack_->entries().empty()) return std::nullopt;
    cat::Pack pack;
    pack.set_name(pack_->name());
    pack.set_size(pack_->size());
    pack.set_blobs(static_cast<int64_t>(pack_->entries().size()));
    for (const blob::PackEntry& e : pack_->entries()) pack.set_blob_bytes(pack.blob_bytes() + e.size);
    return pack;
  }

  std::vector<cat::ArtifactFile>& files() { return files_; }

  v1::UploadResponse& response() { return response_; }
  int64_t total() const { return outputs_.bytes + logs_.bytes; }

 private:
  // Large files whose seals run at once, each on a thread of its own while
  // the next file arrives: the last of a blob's hashing and writing, which
  // would otherwise hold up the upload once per file.
  static constexpr size_t kSealsInFlight = 2;
  // Small files are placed in batches of this many bytes or files.
  static constexpr int64_t kPlaceBatchBytes = 8 << 20;
  static constexpr size_t kPlaceBatchFiles = 1000;

  // A small file, gathered, waiting for its place.
  struct Small {
    size_t file;  // in files_
    std::string sha256;
    std::string bytes;
  };

  absl::Status StoreLoose(const Small& s) {
    auto writer = c_->blobs_->NewWriter();
    absl::Status stored = writer.status();
    if (stored.ok()) stored = (*writer)->Append(s.bytes);
    if (stored.ok()) stored = (*writer)->Seal(s.sha256).status();
    if (!stored.ok()) return c_->StoreFailure(stored, job_.id());
    sealed_.push_back(*std::move(writer));
    return absl::OkStatus();
  }

  absl::Status Skip(const std::string& reason, const std::string& detail) {
    v1::SkippedFile* s = response_.add_skipped();
    s->set_path(current_->path());
    s->set_reason(reason);
    s->set_detail(detail);
    c_->metrics_->files_skipped.Add({{"reason", reason}}).Increment();
    return absl::OkStatus();
  }
  absl::Status Reject(const std::string& reason, const std::string& message) {
    c_->metrics_->uploads_rejected.Add({{"reason", reason}}).Increment();
    if (reason == "digest_mismatch") return absl::DataLossError(message);
    return absl::ResourceExhaustedError(message);
  }

  Collector* c_;
  v1::UploadManifest manifest_;
  cat::Job job_;
  int64_t max_bytes_;
  int max_files_;
  std::optional<v1::FileHeader> current_;
  std::unique_ptr<blob::BlobWriter> writer_;
  std::vector<std::unique_ptr<blob::BlobWriter>> sealed_;  // accepted, not yet published
  // A large file of files_ whose writer, in sealed_, is being sealed. Declared
  // after sealed_, so a seal still running ends before its writer goes.
  struct Sealing {
    size_t file;
    std::string path;
    std::future<absl::StatusOr<blob::BlobInfo>> info;
  };
  std::deque<Sealing> sealing_;
  bool small_ = false;                                      // the current file is gathered
  std::string small_bytes_;
  std::vector<Small> pending_;  // gathered, not yet looked up
  int64_t pending_bytes_ = 0;
  struct Lookup {
    std::vector<Small> files;
    std::future<absl::StatusOr<absl::flat_hash_map<std::string, cat::BlobRef>>> known;
  };
  std::optional<Lookup> looking_up_;
  // Where each small file's bytes went; empty while being placed.
  absl::flat_hash_map<std::string, std::optional<cat::BlobLocation>> placed_;
  std::unique_ptr<blob::PackWriter> pack_;
  int64_t received_ = 0;
  PrivacyLevel level_ = types::v1::PRIVACY_LEVEL_MODERATELY_SENSITIVE;
  types::v1::GcStrategy strategy_ = types::v1::GC_STRATEGY_UNSPECIFIED;  // the file's own
  struct Budget {
    int files = 0;
    int64_t bytes = 0;
  };
  Budget outputs_, logs_;  // what the limits allow of each, taken so far
  absl::flat_hash_set<std::string> seen_;
  std::vector<cat::ArtifactFile> files_;
  v1::UploadResponse response_;
};

absl::StatusOr<v1::UploadResponse> Collector::Upload(UploadSource& source,
                                                     absl::string_view act_for) {
  std::string job_id;
  absl::StatusOr<v1::UploadResponse> response = Receive(source, act_for, &job_id);
  if (!response.ok()) {
    LogFields fields = {{"job", job_id.empty() ? "-" : job_id},
                        {"code", absl::StatusCodeToString(response.status().code())},
                        {"reason", std::string(response.status().message())}};
    if (!act_for.empty()) fields.emplace_back("for", std::string(act_for));
    LogLine(LogSeverity::WARNING, "upload refused", fields);
  }
  return response;
}

absl::StatusOr<v1::UploadResponse> Collector::Receive(UploadSource& source, absl::string_view act_for,
                                                      std::string* job_id) {
  const absl::Time start = clock_->Now();
  calls_.fetch_add(1);
  auto slot = Slot::Take(&uploads_, options_.max_concurrent_uploads,
                         &metrics_->uploads_in_progress, "uploads");
  if (!slot.ok()) {
    metrics_->uploads_rejected.Add({{"reason", "busy"}}).Increment();
    return slot.status();
  }
  v1::UploadRequest message;
  if (!source.Next(&message) || !message.has_manifest()) {
    return absl::InvalidArgumentError("an upload starts with its manifest");
  }
  const v1::UploadManifest manifest = message.manifest();
  RETURN_IF_ERROR(CheckName("manifest job_id", manifest.job_id()));
  *job_id = manifest.job_id();
  if (manifest.max_total_bytes() < 0 || manifest.max_files() < 0) {
    return absl::InvalidArgumentError("manifest limits must not be negative");
  }
  for (const v1::OutputPattern& p : manifest.patterns()) {
    if (p.glob().empty() || p.glob().size() > kMaxPathBytes || !IsValidUtf8(p.glob())) {
      return absl::InvalidArgumentError("an output pattern is empty, too long or not UTF-8");
    }
    if (!types::v1::PrivacyLevel_IsValid(p.privacy_level())) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown privacy level ", p.privacy_level(), " for ", p.glob()));
    }
    if (!types::v1::GcStrategy_IsValid(p.gc_strategy())) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown GC strategy ", p.gc_strategy(), " for ", p.glob()));
    }
  }
  if (manifest.has_retention() && FromProtoDuration(manifest.retention()) <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("retention must be positive");
  }
  cat::GetJobRequest get;
  get.set_id(manifest.job_id());
  ASSIGN_OR_RETURN(const cat::Job job, catalog_->GetJob(get, clients::ActingFor(act_for)));
  if (!manifest.group().empty() && manifest.group() != job.group()) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", job.id(), " belongs to group ", job.group(), ", not ",
                     manifest.group()));
  }

  UploadState state(this, manifest, job);
  bool ended = false;
  while (!ended && source.Next(&message)) {
    switch (message.part_case()) {
      case v1::UploadRequest::kFile:
        RETURN_IF_ERROR(state.StartFile(message.file()));
        break;
      case v1::UploadRequest::kChunk:
        RETURN_IF_ERROR(state.Chunk(message.chunk()));
        break;
      case v1::UploadRequest::kSkipped:
        RETURN_IF_ERROR(state.ClientSkipped(message.skipped()));
        break;
      case v1::UploadRequest::kEnd:
        RETURN_IF_ERROR(state.FinishFile());
        ended = true;
        break;
      default:
        return absl::InvalidArgumentError("a manifest may only come first");
    }
  }
  if (!ended) {
    metrics_->uploads_rejected.Add({{"reason", "incomplete"}}).Increment();
    return absl::AbortedError("the upload ended without its end marker; nothing was committed");
  }

  // Expiry: the job's finish time (or now) plus the manifest's retention,
  // capped; without one (and for logs, which have a retention of their
  // own) the catalog applies the job's retention.
  if (manifest.has_retention()) {
    const absl::Duration retention =
        std::min(FromProtoDuration(manifest.retention()), options_.max_retention);
    const absl::Time base = job.has_finished_at() ? FromProtoTime(job.finished_at()) : clock_->Now();
    for (cat::ArtifactFile& f : state.files()) {
      if (!IsJobLog(f.path())) *f.mutable_expires_at() = ToProtoTime(base + retention);
    }
  }
  const absl::Time received = clock_->Now();
  // Blobs are durable before the catalog points at them.
  RETURN_IF_ERROR(state.PublishBlobs());
  const absl::Time stored = clock_->Now();
  cat::CommitFilesRequest commit;
  commit.set_job_id(job.id());
  for (cat::ArtifactFile& f : state.files()) *commit.add_files() = std::move(f);
  if (auto pack = state.new_pack()) *commit.add_new_packs() = *std::move(pack);
  if (commit.files_size() > 0) RETURN_IF_ERROR(catalog_->CommitFiles(commit).status());
  v1::UploadResponse response = std::move(state.response());
  response.set_job_id(job.id());
  response.set_total_bytes(state.total());
  metrics_->bytes_accepted.Increment(static_cast<double>(state.total()));
  metrics_->files_accepted.Increment(commit.files_size());
  const absl::Time finished = clock_->Now();
  metrics_->upload_seconds.Observe(absl::ToDoubleSeconds(finished - start));
  metrics_->upload_receive_seconds.Observe(absl::ToDoubleSeconds(received - start));
  metrics_->upload_store_seconds.Observe(absl::ToDoubleSeconds(stored - received));
  metrics_->upload_commit_seconds.Observe(absl::ToDoubleSeconds(finished - stored));
  return response;
}

void Collector::TrimWhenIdle() {
  const int64_t calls = calls_.load();
  const bool quiet = calls == calls_seen_ && uploads_.load() == 0 && downloads_.load() == 0;
  calls_seen_ = calls;
  quiet_calls_ = quiet ? quiet_calls_ + 1 : 0;
  // gRPC frees a call's buffers a moment after it returns: the first few
  // quiet calls each trim.
  if (quiet_calls_ >= 1 && quiet_calls_ <= kTrimsWhenIdle) malloc_trim(0);
}

absl::Status Collector::RefreshBlobStats() {
  int64_t bytes = 0, objects = 0;
  RETURN_IF_ERROR(blobs_->List([&](const blob::BlobInfo& b) {
    bytes += b.size;
    ++objects;
  }));
  RETURN_IF_ERROR(blobs_->ListPacks([&](const blob::PackInfo& p) {
    bytes += p.size;
    ++objects;
  }));
  metrics_->blob_store_bytes.Set(static_cast<double>(bytes));
  metrics_->blob_store_objects.Set(static_cast<double>(objects));
  auto space = blobs_->FreeSpace();
  if (space.ok()) {
    metrics_->blob_store_free_bytes.Set(static_cast<double>(space->free_bytes));
    metrics_->blob_store_capacity_bytes.Set(static_cast<double>(space->capacity_bytes));
  } else if (!absl::IsUnimplemented(space.status())) {
    return space.status();
  }
  return absl::OkStatus();
}

absl::Status Collector::Download(const v1::DownloadRequest& request, DownloadSink& sink,
                                 absl::string_view act_for) {
  calls_.fetch_add(1);
  ASSIGN_OR_RETURN(auto slot, Slot::Take(&downloads_, options_.max_concurrent_downloads,
                                         &metrics_->downloads_in_progress, "downloads"));
  RETURN_IF_ERROR(CheckName("job_id", request.job_id()));
  RETURN_IF_ERROR(ValidateArtifactPath(request.path()));
  if (request.offset() < 0 || request.length() < 0) {
    return absl::InvalidArgumentError("offset and length must not be negative");
  }
  cat::GetFileRequest get;
  get.set_job_id(request.job_id());
  get.set_path(request.path());
  ASSIGN_OR_RETURN(const cat::ArtifactFile file,
                   catalog_->GetFile(get, clients::ActingFor(act_for)));
  if (file.state() != types::v1::FILE_STATE_AVAILABLE) {
    return absl::NotFoundError(
        absl::StrCat("job ", request.job_id(), " file ", request.path(), " was deleted"));
  }
  if (request.offset() > file.size()) {
    return absl::OutOfRangeError(absl::StrCat("offset ", request.offset(), " is past the end (",
                                              file.size(), " bytes)"));
  }
  const int64_t length = request.length() == 0 ? -1 : request.length();
  auto reader = blob::OpenRecorded(*blobs_, request.path(), file.sha256(), file.size(),
                                   {file.location().pack(), file.location().offset()},
                                   request.offset(), length);
  if (absl::IsDataLoss(reader.status())) return reader.status();
  if (!reader.ok()) {
    ARCA_LOG(ERROR) << "download of job " << request.job_id() << " " << request.path() << ": "
                    << reader.status().message();
    return absl::InternalError(absl::StrCat("the collector could not read ", request.path(),
                                            " (its log says why)"));
  }
  // The first message carries the size and digest (and goes even for an
  // empty range), every one a piece of the range, read straight into the
  // message and checked before it goes.
  v1::DownloadResponse msg;
  msg.set_size(file.size());
  msg.set_sha256(file.sha256());
  for (bool first = true;; first = false) {
    RETURN_IF_ERROR(blob::ReadRecorded(**reader, request.path(), msg.mutable_chunk()));
    if (msg.chunk().empty() && !first) break;
    if (!sink.Write(msg)) return absl::CancelledError("the client went away");
    metrics_->bytes_served.Increment(static_cast<double>(msg.chunk().size()));
    if (msg.chunk().empty()) break;
    msg.clear_size();
    msg.clear_sha256();
  }
  return absl::OkStatus();
}

}  // namespace arca::collector
