/*
 * memcap.h - a byte budget for packet-path allocations.
 *
 * Every buffer that grows with traffic (reassembly windows, handshake
 * message buffers, per-connection state) is allocated through a struct
 * memcap.  An allocation that would take `used` past `cap` fails with NULL
 * and increments `hits`; the caller drops state for that flow and counts it,
 * it never aborts.  Callers pass the size back on free, so no per-block
 * header is kept.
 */
#ifndef PINSCOPE_MEMCAP_H
#define PINSCOPE_MEMCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEMCAP_POOL_SIZES 16   /* distinct block sizes a pool keeps */

/* Freed blocks of one size, for reuse (memcap_pool_enable). */
struct memcap_pool_list {
    size_t size;       /* 0: unused */
    void *head;        /* blocks linked through their first bytes */
    unsigned n;
};

struct memcap {
    size_t cap;
    size_t used;
    size_t peak;
    uint64_t hits;   /* allocations refused because of the cap */
    /* The pool (off unless enabled): blocks freed are kept for the next
     * allocation of the same size, up to pool_max bytes in all. */
    size_t pool_max, pool_bytes;
    struct memcap_pool_list pool[MEMCAP_POOL_SIZES];
};

void memcap_init(struct memcap *mc, size_t cap);

/*
 * Keep up to `max_bytes` of freed blocks (each MEMCAP_POOL_MIN to
 * MEMCAP_POOL_MAX bytes, at most MEMCAP_POOL_SIZES distinct sizes) for
 * reuse: a connection's fixed-size state and its doubling buffers are
 * then taken from the pool instead of malloc.  Accounting is unchanged:
 * pooled blocks are not `used`.  memcap_destroy() frees them.  For one
 * thread's memcap only (no locking).
 */
#define MEMCAP_POOL_MIN 256
#define MEMCAP_POOL_MAX (64 * 1024 + 512)
void memcap_pool_enable(struct memcap *mc, size_t max_bytes);
/* Free the pooled blocks (live blocks are the callers'). */
void memcap_destroy(struct memcap *mc);

/* calloc-like: zeroed memory, or NULL (counted in hits) over the cap or on
 * allocation failure. */
void *memcap_calloc(struct memcap *mc, size_t size);
/* The same, not zeroed: for buffers written before they are read. */
void *memcap_malloc(struct memcap *mc, size_t size);

/* Resize from old_size to new_size; on failure returns NULL and the old
 * block stays valid and accounted. */
void *memcap_realloc(struct memcap *mc, void *p, size_t old_size, size_t new_size);

void memcap_free(struct memcap *mc, void *p, size_t size);

/* Account for memory allocated elsewhere (a library's objects): true and
 * charged, or false (counted in hits) when it does not fit.  Uncharge with
 * the same size when it is freed. */
bool memcap_charge(struct memcap *mc, size_t size);
void memcap_uncharge(struct memcap *mc, size_t size);

#endif
