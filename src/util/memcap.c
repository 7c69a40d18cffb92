/*
 * memcap.c - accounted allocation (see memcap.h).
 */
#include "util/memcap.h"

#include <stdlib.h>
#include <string.h>

void memcap_init(struct memcap *mc, size_t cap)
{
    memset(mc, 0, sizeof(*mc));
    mc->cap = cap;
}

void memcap_pool_enable(struct memcap *mc, size_t max_bytes)
{
    mc->pool_max = max_bytes;
}

void memcap_destroy(struct memcap *mc)
{
    for (int i = 0; i < MEMCAP_POOL_SIZES; i++) {
        struct memcap_pool_list *l = &mc->pool[i];
        while (l->head) {
            void *next;
            memcpy(&next, l->head, sizeof(next));
            free(l->head);
            l->head = next;
        }
        l->n = 0;
        l->size = 0;
    }
    mc->pool_bytes = 0;
    mc->pool_max = 0;
}

/* A pooled block of exactly `size` bytes, or NULL. */
static void *pool_get(struct memcap *mc, size_t size)
{
    if (!mc->pool_bytes || size < MEMCAP_POOL_MIN || size > MEMCAP_POOL_MAX)
        return NULL;
    for (int i = 0; i < MEMCAP_POOL_SIZES; i++) {
        struct memcap_pool_list *l = &mc->pool[i];
        if (l->size == size && l->head) {
            void *p = l->head;
            memcpy(&l->head, p, sizeof(l->head));
            l->n--;
            mc->pool_bytes -= size;
            return p;
        }
    }
    return NULL;
}

/* Keep a freed block: true, or false when the pool cannot take it. */
static bool pool_put(struct memcap *mc, void *p, size_t size)
{
    if (size < MEMCAP_POOL_MIN || size > MEMCAP_POOL_MAX || size > mc->pool_max - mc->pool_bytes)
        return false;
    struct memcap_pool_list *l = NULL;
    for (int i = 0; i < MEMCAP_POOL_SIZES; i++) {
        if (mc->pool[i].size == size) {
            l = &mc->pool[i];
            break;
        }
        if (!l && mc->pool[i].n == 0)
            l = &mc->pool[i];   /* a free list to (re)use, if no list has this size */
    }
    if (!l)
        return false;
    l->size = size;
    memcpy(p, &l->head, sizeof(l->head));
    l->head = p;
    l->n++;
    mc->pool_bytes += size;
    return true;
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
    void *p = pool_get(mc, size);
    if (p)
        memset(p, 0, size);
    else
        p = calloc(1, size ? size : 1);
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
    void *p = pool_get(mc, size);
    if (!p)
        p = malloc(size ? size : 1);
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
    void *q;
    if (mc->pool_max && new_size >= MEMCAP_POOL_MIN && new_size <= MEMCAP_POOL_MAX) {
        /* a doubling buffer: the next size from the pool, the old one back */
        if (p && !old_size) {
            q = realloc(p, new_size);
        } else if ((q = pool_get(mc, new_size)) || (q = malloc(new_size))) {
            if (p) {
                memcpy(q, p, old_size < new_size ? old_size : new_size);
                if (!pool_put(mc, p, old_size))
                    free(p);
            }
        }
    } else {
        q = realloc(p, new_size ? new_size : 1);
    }
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
    if (!mc->pool_max || !pool_put(mc, p, size))
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
