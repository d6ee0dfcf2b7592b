#include "services/catalog/checkpoint_store.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/ids.h"
#include "common/status_macros.h"

namespace arca::catalog {
namespace {

constexpr absl::string_view kComplete = "COMPLETE";

}  // namespace

absl::StatusOr<std::unique_ptr<CheckpointStore>> CheckpointStore::Open(
    const std::string& url, const std::string& endpoint, bool create_bucket) {
  ASSIGN_OR_RETURN(s3::Location where, s3::ParseUrl(url));
  s3::Config config;
  config.endpoint = endpoint;
  config.bucket = where.bucket;
  std::string prefix = where.prefix;
  std::string base = absl::StrCat("s3://", where.bucket, "/", where.prefix);
  base.pop_back();  // the '/' after the bucket, or ending the prefix
  RETURN_IF_ERROR(s3::ConfigFromEnvironment(&config));
  std::unique_ptr<CheckpointStore> store(
      new CheckpointStore(std::move(config), std::move(base), std::move(prefix)));
  if (create_bucket) RETURN_IF_ERROR(store->client_.CreateBucket());
  RETURN_IF_ERROR(store->client_.CheckBucket());
  return store;
}

absl::StatusOr<std::string> CheckpointStore::Ship(const std::string& dir, const std::string& name,
                                                  int keep) {
  if (!IsSafeName(name, 128)) {
    return absl::InvalidArgumentError(absl::StrCat("\"", name, "\" cannot name a checkpoint"));
  }
  std::string manifest;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) continue;
    const std::string file = entry.path().filename().string();
    RETURN_IF_ERROR(client_.PutFile(absl::StrCat(prefix_, name, "/", file), entry.path().string()));
    absl::StrAppend(&manifest, file, " ", entry.file_size(), "\n");
  }
  if (ec) return absl::InternalError(absl::StrCat("listing ", dir, ": ", ec.message()));
  RETURN_IF_ERROR(client_.Put(absl::StrCat(prefix_, name, "/", kComplete), manifest));
  if (keep > 0) {
    ASSIGN_OR_RETURN(std::vector<std::string> names, List());
    for (size_t i = 0; i + keep < names.size(); ++i) {
      std::vector<std::string> keys;
      RETURN_IF_ERROR(client_.List(absl::StrCat(prefix_, names[i], "/"),
                                   [&](const s3::ObjectInfo& o) { keys.push_back(o.key); }));
      // The marker first: a checkpoint half deleted is not complete.
      std::stable_partition(keys.begin(), keys.end(),
                            [](const std::string& k) { return absl::EndsWith(k, kComplete); });
      for (const std::string& key : keys) RETURN_IF_ERROR(client_.Delete(key));
    }
  }
  return absl::StrCat(url_, "/", name);
}

absl::StatusOr<std::vector<std::string>> CheckpointStore::List() {
  std::vector<std::string> names;
  RETURN_IF_ERROR(client_.List(prefix_, [&](const s3::ObjectInfo& o) {
    absl::string_view rest = absl::string_view(o.key).substr(prefix_.size());
    if (absl::ConsumeSuffix(&rest, absl::StrCat("/", kComplete)) && !absl::StrContains(rest, '/')) {
      names.emplace_back(rest);
    }
  }));
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<std::string> CheckpointStore::Restore(const std::string& name,
                                                     const std::string& dir) {
  std::string chosen = name;
  if (name == "latest") {
    ASSIGN_OR_RETURN(std::vector<std::string> names, List());
    if (names.empty()) return absl::NotFoundError(absl::StrCat("no complete checkpoint in ", url_));
    chosen = names.back();
  }
  if (!IsSafeName(chosen, 128)) {
    return absl::InvalidArgumentError(absl::StrCat("\"", chosen, "\" cannot name a checkpoint"));
  }
  auto manifest = client_.GetBytes(absl::StrCat(prefix_, chosen, "/", kComplete));
  if (absl::IsNotFound(manifest.status())) {
    return absl::NotFoundError(absl::StrCat("no complete checkpoint ", url_, "/", chosen));
  }
  RETURN_IF_ERROR(manifest.status());
  std::error_code ec;
  if (std::filesystem::exists(dir, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("restoring into ", dir, ", which exists: give a new --data_dir"));
  }
  // Into a temporary sibling, renamed into place once whole.
  const std::string tmp = absl::StrCat(dir, ".restoring-", RandomToken(8));
  std::filesystem::create_directories(tmp, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot make ", tmp, ": ", ec.message()));
  absl::Status s;
  for (absl::string_view line : absl::StrSplit(*manifest, '\n', absl::SkipEmpty())) {
    const std::vector<std::string> parts = absl::StrSplit(line, ' ');
    int64_t size = 0;
    if (parts.size() != 2 || !IsSafeName(parts[0], 255) || !absl::SimpleAtoi(parts[1], &size)) {
      s = absl::DataLossError(absl::StrCat("checkpoint ", chosen, "'s manifest is damaged"));
      break;
    }
    const std::string path = absl::StrCat(tmp, "/", parts[0]);
    s = client_.GetFile(absl::StrCat(prefix_, chosen, "/", parts[0]), path);
    if (s.ok() && static_cast<int64_t>(std::filesystem::file_size(path, ec)) != size) {
      s = absl::DataLossError(absl::StrCat("checkpoint ", chosen, ": ", parts[0], " is not ",
                                           size, " bytes"));
    }
    if (!s.ok()) break;
  }
  if (s.ok()) {
    std::filesystem::rename(tmp, dir, ec);
    if (ec) s = absl::InternalError(absl::StrCat("cannot move ", tmp, " to ", dir, ": ", ec.message()));
  }
  if (!s.ok()) {
    std::filesystem::remove_all(tmp, ec);
    return s;
  }
  return chosen;
}

}  // namespace arca::catalog
