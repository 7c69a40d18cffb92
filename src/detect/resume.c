/*
 * resume.c - the shared resumption table (see resume.h).
 *
 * A fixed array of entries, chained buckets by index (a power of two at
 * least the cap), and a doubly linked LRU list by index: the head is the
 * most recently used, the tail is evicted first.
 *
 * The links live apart from the entries: link[i] (20 bytes) holds entry
 * i's bucket chain, LRU neighbours, bucket and a 32-bit tag of its key's
 * hash, while e[i] (the key and its ~0.7 KB origin) is read only when the
 * tag agrees.  A probe, an eviction's bucket walk and an LRU move touch
 * the small array; the tag only saves key comparisons (equal keys are
 * still decided by comparing their bytes).
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
};

struct resume_link {
    uint32_t tag;     /* the key's hash, high half: compared before the key */
    uint32_t hnext;   /* bucket chain; the free list when dropped */
    uint32_t prev, next;   /* LRU list */
    uint32_t b;       /* its bucket: a drop finds it without hashing the key again */
};

struct resume {
    pthread_mutex_t mu;
    struct hash_key hk;
    size_t cap, n, nb;
    uint32_t head, tail, free_list;   /* LRU ends; dropped entries by hnext */
    uint32_t fresh;                   /* e[fresh..cap) never used yet */
    uint32_t *bucket;
    struct resume_link *link;   /* link[i]: entry i's chains (see above) */
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
    t->link = cap ? malloc(cap * sizeof(*t->link)) : NULL;
    t->e = cap ? calloc(cap, sizeof(*t->e)) : NULL;
    if (!t->bucket || (cap && (!t->e || !t->link))) {
        free(t->bucket);
        free(t->link);
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
    free(t->link);
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

/* A canonical key's hash (once per call): its low bits pick the bucket,
 * its high half is the tag.  The bytes hashed are the ones a key uses
 * (kind, version, port, length, the address, the id's length), which
 * decide the rest (zero). */
static uint64_t hash_of(const struct resume *t, const struct resume_key *c)
{
    uint8_t b[5 + 16 + 32];
    size_t al = c->ip_ver == 4 ? 4 : 16;
    b[0] = c->kind;
    b[1] = c->ip_ver;
    memcpy(b + 2, &c->port, 2);
    b[4] = c->id_len;
    memcpy(b + 5, c->server_ip, al);
    memcpy(b + 5 + al, c->id, c->id_len);
    return hash_siphash(&t->hk, b, 5 + al + c->id_len);
}

static uint32_t find(struct resume *t, uint64_t h, const struct resume_key *c)
{
    uint32_t tag = (uint32_t)(h >> 32);
    for (uint32_t i = t->bucket[h & (t->nb - 1)]; i != NIL; i = t->link[i].hnext)
        if (t->link[i].tag == tag && memcmp(&t->e[i].k, c, sizeof(*c)) == 0)
            return i;
    return NIL;
}

static void lru_unlink(struct resume *t, uint32_t i)
{
    struct resume_link *x = &t->link[i];
    if (x->prev != NIL)
        t->link[x->prev].next = x->next;
    else
        t->head = x->next;
    if (x->next != NIL)
        t->link[x->next].prev = x->prev;
    else
        t->tail = x->prev;
}

static void lru_front(struct resume *t, uint32_t i)
{
    struct resume_link *x = &t->link[i];
    x->prev = NIL;
    x->next = t->head;
    if (t->head != NIL)
        t->link[t->head].prev = i;
    t->head = i;
    if (t->tail == NIL)
        t->tail = i;
}

/* Take entry i out of its bucket and the LRU list, onto the free list. */
static void drop(struct resume *t, uint32_t i)
{
    uint32_t *p = &t->bucket[t->link[i].b];
    while (*p != i)
        p = &t->link[*p].hnext;
    *p = t->link[i].hnext;
    lru_unlink(t, i);
    t->link[i].hnext = t->free_list;
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
    uint64_t h = hash_of(t, &c);
    uint32_t b = (uint32_t)(h & (t->nb - 1));
    pthread_mutex_lock(&t->mu);
    uint32_t i = find(t, h, &c);
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
        t->free_list = t->link[i].hnext;
    }
    memcpy(&t->e[i].k, &c, sizeof(c));   /* padding included: keys compare as bytes */
    t->e[i].o = *o;
    t->link[i].tag = (uint32_t)(h >> 32);
    t->link[i].b = b;
    t->link[i].hnext = t->bucket[b];
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
    uint64_t h = hash_of(t, &c);
    pthread_mutex_lock(&t->mu);
    uint32_t i = find(t, h, &c);
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
