/*
 * heap.c - see heap.h.
 */
#include "util/heap.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#if HEAP_RESERVE_WORKS
#include <malloc.h>
#endif

void heap_reserve(size_t bytes)
{
#if HEAP_RESERVE_WORKS
    /* One block from this thread's arena: the mmap threshold (global)
     * raised above it for the one call, then set back to glibc's default,
     * under a lock so that workers starting together do not undo each
     * other's.  malloc() writes only the block's header and the top's. */
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    const size_t huge = (size_t)2 << 20;
    if (bytes < 2 * huge || bytes > (size_t)INT32_MAX / 2)
        return;
    pthread_mutex_lock(&mu);
    void *p = NULL;
    if (mallopt(M_MMAP_THRESHOLD, (int)(bytes + huge)) == 1) {   /* 0: over glibc's limit */
        p = malloc(bytes);
        mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    }
    pthread_mutex_unlock(&mu);
    if (!p)
        return;
    uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1),
              hi = ((uintptr_t)p + bytes) & ~(uintptr_t)(huge - 1);
    free(p);   /* into the top, which is trimmed: the range stays writable */
    if (hi > lo)
        (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);   /* a hint: errors change nothing */
#else
    (void)bytes;
#endif
}
