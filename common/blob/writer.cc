// Writing a blob: buffered, hashed as it goes, sealed, then published by the
// store.

#include "common/blob/local.h"

namespace arca::blob {

LocalWriter::~LocalWriter() {
  FinishWriting().IgnoreError();
  if (fd_ >= 0) close(fd_);
  if (created_ && !published_) unlink(tmp_path_.c_str());
  if (!blocks_tmp_path_.empty() && !published_) unlink(blocks_tmp_path_.c_str());
  ReturnBuffers();
}

absl::Status LocalWriter::Create(absl::string_view sha256) {
  tmp_path_ = store_->TmpPath(sha256);
  fd_ = open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) return Errno("create", tmp_path_);
  created_ = true;
  return absl::OkStatus();
}

absl::Status LocalWriter::FinishOldest() {
  InFlight oldest = std::move(in_flight_.front());
  in_flight_.pop_front();
  absl::Status s = oldest.written.get();
  // A spare not taken meanwhile goes back to the store rather than to the
  // system: a buffer given back is fresh pages, every one a fault to fill.
  if (spare_ != nullptr) store_->ReturnBuffer(std::move(spare_));
  spare_ = std::move(oldest.buffer);
  return s;
}

absl::Status LocalWriter::FinishWriting() {
  absl::Status first;
  while (!in_flight_.empty()) first.Update(FinishOldest());
  return first;
}

absl::Status LocalWriter::WriteFullBuffer() {
  if (in_flight_.size() >= kWritesInFlight) RETURN_IF_ERROR(FinishOldest());
  if (fd_ < 0) {
    RETURN_IF_ERROR(Create());
    // Large enough to write around the page cache, where the file system can.
    const int flags = fcntl(fd_, F_GETFL);
    direct_ = flags >= 0 && fcntl(fd_, F_SETFL, flags | O_DIRECT) == 0;
  }
  std::promise<void> summed;
  std::shared_future<void> before = std::exchange(summed_, summed.get_future().share());
  const char* p = buffer_.get();
  auto work = [this, p, offset = written_, before, summed = std::move(summed)]() mutable {
    if (before.valid()) before.wait();
    hash_.Update(absl::string_view(p, kBufferBytes));
    info_.crc32c = hash::Crc32c(absl::string_view(p, kBufferBytes), info_.crc32c);
    SumBlocks(p, kBufferBytes);
    summed.set_value();
    return WriteAt(fd_, p, kBufferBytes, offset, tmp_path_);
  };
  in_flight_.push_back({std::move(buffer_), std::async(std::launch::async, std::move(work))});
  written_ += kBufferBytes;
  filled_ = 0;
  return absl::OkStatus();
}

void LocalWriter::ReturnBuffers() {
  for (Buffer* b : {&buffer_, &spare_}) {
    if (*b != nullptr) store_->ReturnBuffer(std::move(*b));
  }
  filled_ = 0;
}

absl::Status LocalWriter::Append(absl::string_view data) {
  if (ended_) return absl::FailedPreconditionError("blob already sealed");
  size_ += data.size();
  while (!data.empty()) {
    if (buffer_ == nullptr) {
      buffer_ = spare_ != nullptr ? std::move(spare_) : store_->TakeBuffer();
      if (buffer_ == nullptr) return absl::ResourceExhaustedError("no memory for a write buffer");
    }
    const size_t n = std::min(data.size(), kBufferBytes - filled_);
    memcpy(buffer_.get() + filled_, data.data(), n);
    filled_ += n;
    data.remove_prefix(n);
    if (filled_ == kBufferBytes) RETURN_IF_ERROR(WriteFullBuffer());
  }
  return absl::OkStatus();
}

// Writes what is left in the buffer: its aligned part the way the rest
// went, the tail (and all of a blob smaller than one buffer) through the
// page cache.
absl::Status LocalWriter::WriteRest() {
  RETURN_IF_ERROR(FinishWriting());
  if (fd_ < 0) RETURN_IF_ERROR(Create(info_.sha256));
  // A direct write that the file system refused fell back to the page cache.
  if (direct_) direct_ = Direct();
  const size_t aligned = direct_ ? filled_ & ~(kDirectAlign - 1) : 0;
  if (aligned > 0) RETURN_IF_ERROR(WriteAt(fd_, buffer_.get(), aligned, written_, tmp_path_));
  if (filled_ > aligned) {
    if (direct_ && fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) & ~O_DIRECT) != 0) {
      return Errno("fcntl", tmp_path_);
    }
    RETURN_IF_ERROR(WriteAt(fd_, buffer_.get() + aligned, filled_ - aligned, written_ + aligned,
                            tmp_path_));
  }
  if (size_ > kBlockBytes) SumBlocks(buffer_.get(), filled_);
  written_ += filled_;
  filled_ = 0;
  if (!direct_) {
    if (size_ >= kEarlyWriteBackBytes) {
      sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WRITE);
    } else {
      store_->WroteSmall(size_);
    }
  }
  if (close(fd_) != 0) {
    fd_ = -1;
    return Errno("close", tmp_path_);
  }
  fd_ = -1;
  if (size_ <= kBlockBytes) return absl::OkStatus();
  blocks_tmp_path_ = absl::StrCat(tmp_path_, kBlocksSuffix);
  return WriteFile(blocks_tmp_path_, EncodeBlockSums(size_, block_sums_));
}

absl::StatusOr<BlobInfo> LocalWriter::Seal(absl::string_view expected_sha256) {
  if (ended_) return absl::FailedPreconditionError("blob already sealed");
  ended_ = true;  // no more bytes, whatever happens below
  if (absl::Status hashed = FinishWriting(); !hashed.ok()) {
    ReturnBuffers();
    return hashed;
  }
  const absl::string_view rest(buffer_.get(), filled_);
  hash_.Update(rest);
  info_.crc32c = hash::Crc32c(rest, info_.crc32c);
  info_.sha256 = hash_.HexDigest();
  info_.size = size_;
  if (!expected_sha256.empty() && expected_sha256 != info_.sha256) {
    ReturnBuffers();
    return absl::DataLossError(absl::StrCat("content has sha256 ", info_.sha256,
                                            ", not the declared ", expected_sha256));
  }
  // A small blob the store already holds is only marked as just written,
  // which keeps a concurrent DeleteIfIdle from taking it before Publish.
  looked_for_stored_ = fd_ < 0 && written_ == 0;
  if (looked_for_stored_ && store_->Touch(info_.sha256)) {
    ReturnBuffers();
    sealed_ = true;
    return info_;
  }
  absl::Status written = WriteRest();
  ReturnBuffers();
  RETURN_IF_ERROR(written);
  sealed_ = true;
  return info_;
}

absl::StatusOr<BlobInfo> LocalWriter::Commit(absl::string_view expected_sha256) {
  RETURN_IF_ERROR(Seal(expected_sha256).status());
  RETURN_IF_ERROR(store_->Publish({this}));
  return info_;
}

}  // namespace arca::blob
