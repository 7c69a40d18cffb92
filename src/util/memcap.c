/*
 * memcap.c - accounted allocation (see memcap.h).
 */
#include "util/memcap.h"

#include <stdlib.h>

void memcap_init(struct memcap *mc, size_t cap)
{
    mc->cap = cap;
    mc->used = 0;
    mc->peak = 0;
    mc->hits = 0;
}

static int memcap_take(struct memcap *mc, size_t n)
{
    if (n > mc->cap - mc->used) {   /* used <= cap always holds */
        mc->hits++;
        return -1;
    }
    mc->used += n;
    if (mc->used > mc->peak)
        mc->peak = mc->used;
    return 0;
}

void *memcap_calloc(struct memcap *mc, size_t size)
{
    if (memcap_take(mc, size) < 0)
        return NULL;
    void *p = calloc(1, size ? size : 1);
    if (!p) {
        mc->used -= size;
        mc->hits++;
    }
    return p;
}

void *memcap_malloc(struct memcap *mc, size_t size)
{
    if (memcap_take(mc, size) < 0)
        return NULL;
    void *p = malloc(size ? size : 1);
    if (!p) {
        mc->used -= size;
        mc->hits++;
    }
    return p;
}

void *memcap_realloc(struct memcap *mc, void *p, size_t old_size, size_t new_size)
{
    if (new_size > old_size) {
        if (memcap_take(mc, new_size - old_size) < 0)
            return NULL;
    }
    void *q = realloc(p, new_size ? new_size : 1);
    if (!q) {
        if (new_size > old_size)
            mc->used -= new_size - old_size;
        mc->hits++;
        return NULL;
    }
    if (new_size < old_size)
        mc->used -= old_size - new_size;
    return q;
}

void memcap_free(struct memcap *mc, void *p, size_t size)
{
    if (!p)
        return;
    free(p);
    mc->used -= size;
}

bool memcap_charge(struct memcap *mc, size_t size)
{
    return memcap_take(mc, size) == 0;
}

void memcap_uncharge(struct memcap *mc, size_t size)
{
    mc->used -= size < mc->used ? size : mc->used;
}
