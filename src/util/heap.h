/*
 * heap.h - a thread's malloc arena grown once, before the work.
 *
 * glibc gives every thread after the first its own arena and grows it by
 * exactly the page-rounded request each time it runs out: an mprotect()
 * per step.  A worker's caches fill over the first minutes of traffic,
 * so its arena grows a few kilobytes at a time: 7,100 mprotect() calls on
 * dense.pcap, each a system call and a split of the mapping.  The arena
 * never gives its protected range back, only the pages (madvise), so
 * growing it once by `bytes` at the thread's start and freeing that at
 * once leaves the range writable and the memory returned: later growth
 * within it costs page faults only, as the main arena's does.
 */
#ifndef PINSCOPE_HEAP_H
#define PINSCOPE_HEAP_H

#include <stddef.h>

/* Grow the calling thread's arena to about `bytes` and give the memory
 * back.  Does nothing where that is not how malloc works (not glibc), or
 * when memory is short. */
void heap_reserve(size_t bytes);

#endif
