/*
 * heap.h - a packet thread's malloc arena made ready before the work.
 *
 * glibc gives every thread after the first its own arena (a 64 MiB
 * reservation) and makes it writable one page-rounded request at a time:
 * an mprotect() per step.  A worker's caches fill over the first minutes
 * of traffic, so its arena grew a few kilobytes at a time (7,141
 * mprotect() calls on dense.pcap), and every first touch of a page was a
 * page fault, about 11 µs each under this project's virtualisation.
 *
 * heap_reserve() takes one block of `bytes` from the calling thread's
 * arena and frees it at once: the arena keeps the range writable and gives
 * the memory back (madvise), so later growth within it makes no system
 * call.  The range is also marked for transparent huge pages
 * (MADV_HUGEPAGE), so a first touch maps 2 MiB instead of 4 KiB: dense.pcap
 * takes 5,150 page faults instead of 11,350, for 2 MB more peak RSS (a
 * huge page is resident whole once touched).  Where THP is off ("never")
 * the hint does nothing.  Nothing is charged to the memcap: the memory is
 * not in use, only ready.
 */
#ifndef PINSCOPE_HEAP_H
#define PINSCOPE_HEAP_H

#include <stddef.h>
#include <stdlib.h>   /* __GLIBC__ */

/* HEAP_SANITIZED: a sanitizer's allocator stands in for malloc.  Pools
 * that keep freed memory for reuse give it back at once then, so that the
 * sanitizer still sees every use after free. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define HEAP_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define HEAP_SANITIZED 1
#endif
#endif
#ifndef HEAP_SANITIZED
#define HEAP_SANITIZED 0
#endif

/* Whether heap_reserve() does anything here: glibc's malloc, unsanitized. */
#if defined(__GLIBC__) && !HEAP_SANITIZED
#define HEAP_RESERVE_WORKS 1
#else
#define HEAP_RESERVE_WORKS 0
#endif

/* Make about `bytes` of the calling thread's arena ready (see above).
 * Does nothing unless HEAP_RESERVE_WORKS, or when memory is short. */
void heap_reserve(size_t bytes);

#endif
