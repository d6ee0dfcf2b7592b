#include "services/gateway/zip.h"

#include <zlib.h>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace arca::gateway {
namespace {

constexpr int64_t kMax32 = 0xFFFFFFFF;
constexpr uint16_t kFlags = (1 << 3) | (1 << 11);  // a data descriptor follows; UTF-8 names

void Put16(std::string* s, uint16_t v) {
  s->push_back(static_cast<char>(v & 0xFF));
  s->push_back(static_cast<char>(v >> 8));
}
void Put32(std::string* s, uint32_t v) {
  Put16(s, static_cast<uint16_t>(v & 0xFFFF));
  Put16(s, static_cast<uint16_t>(v >> 16));
}
void Put64(std::string* s, uint64_t v) {
  Put32(s, static_cast<uint32_t>(v & kMax32));
  Put32(s, static_cast<uint32_t>(v >> 32));
}
uint32_t Clamp32(int64_t v) { return v >= kMax32 ? kMax32 : static_cast<uint32_t>(v); }

// MS-DOS date and time (two-second steps, 1980 onwards), in UTC.
void PutDosTime(std::string* s, absl::Time t) {
  absl::CivilSecond c = absl::ToCivilSecond(t, absl::UTCTimeZone());
  if (c.year() < 1980) c = absl::CivilSecond(1980, 1, 1, 0, 0, 0);
  Put16(s, static_cast<uint16_t>((c.hour() << 11) | (c.minute() << 5) | (c.second() / 2)));
  Put16(s, static_cast<uint16_t>(((c.year() - 1980) << 9) | (c.month() << 5) | c.day()));
}

int64_t LocalHeaderSize(const std::string& name, bool zip64) { return 30 + name.size() + (zip64 ? 20 : 0); }
int64_t DescriptorSize(bool zip64) { return zip64 ? 24 : 16; }
int64_t CentralHeaderSize(const std::string& name, bool zip64) { return 46 + name.size() + (zip64 ? 28 : 0); }

}  // namespace

ZipStream::ZipStream(std::vector<Entry> entries) : entries_(std::move(entries)) {
  int64_t offset = 0, central_size = 0;
  for (const Entry& e : entries_) {
    Placed p;
    p.offset = offset;
    p.zip64 = e.size >= kMax32 || offset >= kMax32;
    offset += LocalHeaderSize(e.name, p.zip64) + e.size + DescriptorSize(p.zip64);
    central_size += CentralHeaderSize(e.name, p.zip64);
    placed_.push_back(p);
  }
  central_offset_ = offset;
  const bool zip64_end = entries_.size() >= 0xFFFF || central_offset_ >= kMax32 || central_size >= kMax32;
  length_ = central_offset_ + central_size + (zip64_end ? 56 + 20 : 0) + 22;
}

std::string ZipStream::LocalHeader(size_t i) const {
  const Entry& e = entries_[i];
  const bool zip64 = placed_[i].zip64;
  std::string h;
  Put32(&h, 0x04034b50);
  Put16(&h, zip64 ? 45 : 20);  // the version needed to extract
  Put16(&h, kFlags);
  Put16(&h, 0);  // stored
  PutDosTime(&h, e.modified);
  Put32(&h, 0);  // CRC and sizes: in the descriptor
  Put32(&h, zip64 ? kMax32 : 0);
  Put32(&h, zip64 ? kMax32 : 0);
  Put16(&h, static_cast<uint16_t>(e.name.size()));
  Put16(&h, zip64 ? 20 : 0);
  h += e.name;
  if (zip64) {  // says the descriptor's sizes are 8 bytes each
    Put16(&h, 0x0001);
    Put16(&h, 16);
    Put64(&h, 0);
    Put64(&h, 0);
  }
  return h;
}

std::string ZipStream::DataDescriptor(size_t i) const {
  const int64_t size = entries_[i].size;
  std::string d;
  Put32(&d, 0x08074b50);
  Put32(&d, placed_[i].crc);
  if (placed_[i].zip64) {
    Put64(&d, size);
    Put64(&d, size);
  } else {
    Put32(&d, static_cast<uint32_t>(size));
    Put32(&d, static_cast<uint32_t>(size));
  }
  return d;
}

std::string ZipStream::CentralDirectory() const {
  std::string c;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    const Placed& p = placed_[i];
    Put32(&c, 0x02014b50);
    Put16(&c, (3 << 8) | 45);  // made on Unix, by version 4.5
    Put16(&c, p.zip64 ? 45 : 20);
    Put16(&c, kFlags);
    Put16(&c, 0);
    PutDosTime(&c, e.modified);
    Put32(&c, p.crc);
    Put32(&c, p.zip64 ? kMax32 : static_cast<uint32_t>(e.size));
    Put32(&c, p.zip64 ? kMax32 : static_cast<uint32_t>(e.size));
    Put16(&c, static_cast<uint16_t>(e.name.size()));
    Put16(&c, p.zip64 ? 28 : 0);
    Put16(&c, 0);  // comment
    Put16(&c, 0);  // disk
    Put16(&c, 0);  // internal attributes
    Put32(&c, 0100644u << 16);  // a regular file, rw-r--r--
    Put32(&c, p.zip64 ? kMax32 : static_cast<uint32_t>(p.offset));
    c += e.name;
    if (p.zip64) {
      Put16(&c, 0x0001);
      Put16(&c, 24);
      Put64(&c, e.size);
      Put64(&c, e.size);
      Put64(&c, p.offset);
    }
  }
  const int64_t central_size = c.size();
  const int64_t count = entries_.size();
  if (count >= 0xFFFF || central_offset_ >= kMax32 || central_size >= kMax32) {
    const int64_t record = central_offset_ + central_size;
    Put32(&c, 0x06064b50);  // the ZIP64 end of central directory
    Put64(&c, 44);
    Put16(&c, (3 << 8) | 45);
    Put16(&c, 45);
    Put32(&c, 0);
    Put32(&c, 0);
    Put64(&c, count);
    Put64(&c, count);
    Put64(&c, central_size);
    Put64(&c, central_offset_);
    Put32(&c, 0x07064b50);  // its locator
    Put32(&c, 0);
    Put64(&c, record);
    Put32(&c, 1);
  }
  Put32(&c, 0x06054b50);
  Put16(&c, 0);
  Put16(&c, 0);
  Put16(&c, count >= 0xFFFF ? 0xFFFF : static_cast<uint16_t>(count));
  Put16(&c, count >= 0xFFFF ? 0xFFFF : static_cast<uint16_t>(count));
  Put32(&c, Clamp32(central_size));
  Put32(&c, Clamp32(central_offset_));
  Put16(&c, 0);
  return c;
}

absl::Status ZipStream::Next(std::string* out) {
  out->clear();
  if (done_) return absl::OkStatus();
  if (next_ == entries_.size()) {
    *out = CentralDirectory();
    done_ = true;
    return absl::OkStatus();
  }
  Entry& e = entries_[next_];
  if (body_ == nullptr) {
    *out = LocalHeader(next_);
    sent_ = 0;
    if (e.size == 0) {  // its CRC is 0, as placed
      *out += DataDescriptor(next_++);
      return absl::OkStatus();
    }
    auto body = e.open();
    if (!body.ok()) return body.status();
    body_ = *std::move(body);
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(body_->Next(out));
  if (!out->empty()) {
    sent_ += out->size();
    if (sent_ > e.size) {
      return absl::DataLossError(absl::StrCat(e.name, " gave more than its ", e.size, " bytes"));
    }
    placed_[next_].crc = static_cast<uint32_t>(crc32(placed_[next_].crc,
                                                     reinterpret_cast<const Bytef*>(out->data()),
                                                     static_cast<uInt>(out->size())));
    return absl::OkStatus();
  }
  if (sent_ != e.size) {
    return absl::DataLossError(absl::StrCat(e.name, " ended after ", sent_, " of its ", e.size, " bytes"));
  }
  body_.reset();
  *out = DataDescriptor(next_++);
  return absl::OkStatus();
}

}  // namespace arca::gateway
