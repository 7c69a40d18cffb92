/*
 * resume.c - the shared resumption table (see resume.h).
 *
 * A fixed array of entries, chained buckets by index (a power of two at
 * least the cap), and a doubly linked LRU list by index: the head is the
 * most recently used, the tail is evicted first.
 */
#include "detect/resume.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util/hash.h"

#define NIL UINT32_MAX

struct resume_entry {
    struct resume_key k;
    struct resume_origin o;
    uint32_t hnext, prev, next;
    uint32_t b;   /* its bucket: a drop finds it without hashing the key again */
};

struct resume {
    pthread_mutex_t mu;
    struct hash_key hk;
    size_t cap, n, nb;
    uint32_t head, tail, free_list;   /* LRU ends; dropped entries by hnext */
    uint32_t fresh;                   /* e[fresh..cap) never used yet */
    uint32_t *bucket;
    struct resume_entry *e;
};

struct resume *resume_new(size_t cap)
{
    if (cap >= NIL)
        return NULL;
    struct resume *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->cap = cap;
    t->nb = 1;
    while (t->nb < cap)
        t->nb <<= 1;
    t->bucket = malloc(t->nb * sizeof(*t->bucket));
    t->e = cap ? calloc(cap, sizeof(*t->e)) : NULL;
    if (!t->bucket || (cap && !t->e)) {
        free(t->bucket);
        free(t->e);
        free(t);
        return NULL;
    }
    for (size_t i = 0; i < t->nb; i++)
        t->bucket[i] = NIL;
    t->free_list = NIL;   /* entries are taken from e[fresh] first: none touched here */
    t->head = t->tail = NIL;
    pthread_mutex_init(&t->mu, NULL);
    hash_random_key(&t->hk);
    return t;
}

void resume_free(struct resume *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->mu);
    free(t->bucket);
    free(t->e);
    free(t);
}

/* The key with its unused bytes zeroed, so that it compares as bytes. */
static void canon(struct resume_key *c, const struct resume_key *k)
{
    memset(c, 0, sizeof(*c));
    c->kind = k->kind;
    c->ip_ver = k->ip_ver;
    c->port = k->port;
    c->id_len = k->id_len > 32 ? 32 : k->id_len;
    memcpy(c->server_ip, k->server_ip, k->ip_ver == 4 ? 4 : 16);
    memcpy(c->id, k->id, c->id_len);
}

/* The bucket of a canonical key (hashed once per call). */
static uint32_t bucket_of(const struct resume *t, const struct resume_key *c)
{
    return (uint32_t)(hash_siphash(&t->hk, c, sizeof(*c)) & (t->nb - 1));
}

static uint32_t find(struct resume *t, uint32_t b, const struct resume_key *c)
{
    for (uint32_t i = t->bucket[b]; i != NIL; i = t->e[i].hnext)
        if (memcmp(&t->e[i].k, c, sizeof(*c)) == 0)
            return i;
    return NIL;
}

static void lru_unlink(struct resume *t, uint32_t i)
{
    struct resume_entry *x = &t->e[i];
    if (x->prev != NIL)
        t->e[x->prev].next = x->next;
    else
        t->head = x->next;
    if (x->next != NIL)
        t->e[x->next].prev = x->prev;
    else
        t->tail = x->prev;
}

static void lru_front(struct resume *t, uint32_t i)
{
    struct resume_entry *x = &t->e[i];
    x->prev = NIL;
    x->next = t->head;
    if (t->head != NIL)
        t->e[t->head].prev = i;
    t->head = i;
    if (t->tail == NIL)
        t->tail = i;
}

/* Take entry i out of its bucket and the LRU list, onto the free list. */
static void drop(struct resume *t, uint32_t i)
{
    uint32_t *p = &t->bucket[t->e[i].b];
    while (*p != i)
        p = &t->e[*p].hnext;
    *p = t->e[i].hnext;
    lru_unlink(t, i);
    t->e[i].hnext = t->free_list;
    t->free_list = i;
    t->n--;
}

bool resume_put(struct resume *t, const struct resume_key *k, const struct resume_origin *o)
{
    if (t->cap == 0)
        return false;
    struct resume_key c;
    canon(&c, k);
    bool evicted = false;
    uint32_t b = bucket_of(t, &c);
    pthread_mutex_lock(&t->mu);
    uint32_t i = find(t, b, &c);
    if (i != NIL) {
        t->e[i].o = *o;
        lru_unlink(t, i);
        lru_front(t, i);
        pthread_mutex_unlock(&t->mu);
        return false;
    }
    if (t->free_list == NIL && t->fresh < t->cap) {
        i = t->fresh++;
    } else {
        if (t->free_list == NIL) {
            drop(t, t->tail);
            evicted = true;
        }
        i = t->free_list;
        t->free_list = t->e[i].hnext;
    }
    memcpy(&t->e[i].k, &c, sizeof(c));   /* padding included: keys compare as bytes */
    t->e[i].o = *o;
    t->e[i].b = b;
    t->e[i].hnext = t->bucket[b];
    t->bucket[b] = i;
    lru_front(t, i);
    t->n++;
    pthread_mutex_unlock(&t->mu);
    return evicted;
}

bool resume_get(struct resume *t, const struct resume_key *k, int64_t now_s,
                struct resume_origin *o)
{
    if (t->cap == 0)
        return false;
    struct resume_key c;
    canon(&c, k);
    bool ok = false;
    uint32_t b = bucket_of(t, &c);
    pthread_mutex_lock(&t->mu);
    uint32_t i = find(t, b, &c);
    if (i != NIL) {
        if (now_s - t->e[i].o.ts_s > CFG_RESUME_MAX_AGE_S) {
            drop(t, i);
        } else {
            *o = t->e[i].o;
            lru_unlink(t, i);
            lru_front(t, i);
            ok = true;
        }
    }
    pthread_mutex_unlock(&t->mu);
    return ok;
}

size_t resume_count(struct resume *t)
{
    pthread_mutex_lock(&t->mu);
    size_t n = t->n;
    pthread_mutex_unlock(&t->mu);
    return n;
}
