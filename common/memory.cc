#include "common/memory.h"

#include <malloc.h>

namespace arca {

void KeepFreedMemoryForReuse() {
  // Blocks up to 32 MiB (glibc's largest threshold) come from the heap, and
  // the heap keeps up to 64 MiB free at its top; setting either stops glibc
  // from moving them by itself. One heap for all threads: malloc_trim gives
  // back the top of the main heap only, so what a thread's heap of its own
  // kept at its top would stay until that thread freed more.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_ARENA_MAX, 1);
}

}  // namespace arca
