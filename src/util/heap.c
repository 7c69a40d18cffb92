/*
 * heap.c - see heap.h.
 */
#include "util/heap.h"

#include <stdlib.h>

void heap_reserve(size_t bytes)
{
#ifdef __GLIBC__
    /* Blocks under the mmap threshold (128 KiB unless tuned), so they come
     * from the arena, each holding the one before; freed newest first,
     * each merges into the arena's top, which free() trims with madvise()
     * once it is large, keeping the range. */
    enum { BLOCK = 120 * 1024 };
    void **head = NULL;
    for (size_t got = 0; got < bytes; got += BLOCK) {
        void **blk = malloc(BLOCK);
        if (!blk)
            break;
        *blk = head;
        head = blk;
    }
    while (head) {
        void **next = *head;
        free(head);
        head = next;
    }
#else
    (void)bytes;
#endif
}
