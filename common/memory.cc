#include "common/memory.h"

#include <malloc.h>

namespace arca {

void KeepFreedMemoryForReuse() {
  // Blocks up to 32 MiB (glibc's largest threshold) come from the heap, and
  // a heap keeps up to 256 MiB free at its top. Setting either stops glibc
  // from moving them by itself.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

}  // namespace arca
