#include "common/hash/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace arca::hash {
namespace {

constexpr uint32_t kPolynomial = 0x82f63b78;  // reversed 0x1edc6f41

constexpr std::array<uint32_t, 256> MakeTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPolynomial : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kTable = MakeTable();

// The register as it would be after `kStripe` more zero bytes: a linear
// map, as four tables of a byte each. Built once, a zero byte at a time.
constexpr size_t kStripe = 4096;

std::array<std::array<uint32_t, 256>, 4> MakeShiftTables() {
  uint32_t column[32];  // the image of each single register bit
  for (int bit = 0; bit < 32; ++bit) {
    uint32_t c = uint32_t{1} << bit;
    for (size_t i = 0; i < kStripe; ++i) c = kTable[c & 0xff] ^ (c >> 8);
    column[bit] = c;
  }
  std::array<std::array<uint32_t, 256>, 4> tables{};
  for (int k = 0; k < 4; ++k) {
    for (uint32_t b = 0; b < 256; ++b) {
      uint32_t image = 0;
      for (int bit = 0; bit < 8; ++bit) {
        if (b & (1u << bit)) image ^= column[8 * k + bit];
      }
      tables[k][b] = image;
    }
  }
  return tables;
}

uint32_t ShiftByStripe(uint32_t c) {
  static const auto tables = MakeShiftTables();
  return tables[0][c & 0xff] ^ tables[1][(c >> 8) & 0xff] ^ tables[2][(c >> 16) & 0xff] ^
         tables[3][c >> 24];
}

#if defined(__x86_64__)
// The instruction takes three cycles and can start one each cycle, so three
// consecutive stripes are summed side by side and then joined: the register
// after A·B·C is shift(shift(a) ^ b) ^ c, where b and c start from zero.
__attribute__((target("sse4.2"))) uint32_t Crc32cSse42(absl::string_view data, uint32_t crc) {
  const char* p = data.data();
  size_t n = data.size();
  uint64_t a = ~crc;
  auto word = [](const char* q) {
    uint64_t w;
    memcpy(&w, q, 8);
    return w;
  };
  for (; n >= 3 * kStripe; p += 3 * kStripe, n -= 3 * kStripe) {
    uint64_t b = 0, c = 0;
    for (size_t i = 0; i < kStripe; i += 8) {
      a = _mm_crc32_u64(a, word(p + i));
      b = _mm_crc32_u64(b, word(p + kStripe + i));
      c = _mm_crc32_u64(c, word(p + 2 * kStripe + i));
    }
    a = ShiftByStripe(ShiftByStripe(static_cast<uint32_t>(a)) ^ static_cast<uint32_t>(b)) ^
        static_cast<uint32_t>(c);
  }
  for (; n >= 8; p += 8, n -= 8) a = _mm_crc32_u64(a, word(p));
  uint32_t a32 = static_cast<uint32_t>(a);
  for (; n > 0; ++p, --n) a32 = _mm_crc32_u8(a32, static_cast<uint8_t>(*p));
  return ~a32;
}
#endif

}  // namespace

uint32_t Crc32cPortable(absl::string_view data, uint32_t crc) {
  uint32_t c = ~crc;
  for (unsigned char b : data) c = kTable[(c ^ b) & 0xff] ^ (c >> 8);
  return ~c;
}

uint32_t Crc32c(absl::string_view data, uint32_t crc) {
#if defined(__x86_64__)
  static const bool sse42 = __builtin_cpu_supports("sse4.2");
  if (sse42) return Crc32cSse42(data, crc);
#endif
  return Crc32cPortable(data, crc);
}

}  // namespace arca::hash
