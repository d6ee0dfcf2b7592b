#ifndef ARCA_COMMON_HASH_CRC32C_H_
#define ARCA_COMMON_HASH_CRC32C_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace arca::hash {

// CRC-32C (Castagnoli), as iSCSI, ext4 and RocksDB use it: the SSE4.2
// instruction where the processor has it, a table otherwise. Extends `crc`,
// the checksum of the bytes before `data`.
uint32_t Crc32c(absl::string_view data, uint32_t crc = 0);

// The table version, for tests that compare the two.
uint32_t Crc32cPortable(absl::string_view data, uint32_t crc = 0);

}  // namespace arca::hash

#endif  // ARCA_COMMON_HASH_CRC32C_H_
