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

struct memcap {
    size_t cap;
    size_t used;
    size_t peak;
    uint64_t hits;   /* allocations refused because of the cap */
};

void memcap_init(struct memcap *mc, size_t cap);

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
