#ifndef ARCA_COMMON_MEMORY_H_
#define ARCA_COMMON_MEMORY_H_

namespace arca {

// For programs that stream large messages (the collector, the CLI): memory
// freed after one message stays with the allocator for the next. By default
// glibc maps each large block afresh and hands a heap's freed top back with
// madvise, so every page of the next message is a fault to fill: about a
// third of the collector's CPU time in a 1 GiB upload. What it keeps goes
// back with malloc_trim, as the collector does once it is idle.
void KeepFreedMemoryForReuse();

}  // namespace arca

#endif  // ARCA_COMMON_MEMORY_H_
