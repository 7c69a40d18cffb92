/*
 * certjson.c - the JSON of recently written certificates (certjson.h).
 */
#include "output/certjson.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util/sets.h"

struct slot {
    uint8_t key[32];
    bool used;
    uint64_t stamp;                /* certjson.tick when last found or filled */
    char *json[CERTJSON_KINDS];   /* buffers kept for reuse, cap[] bytes */
    size_t len[CERTJSON_KINDS];   /* 0: this kind is not kept */
    size_t cap[CERTJSON_KINDS];
};

struct certjson {
    struct slot *slots;
    size_t n_slots;           /* in sets of CFG_CERTJSON_WAYS (util/sets.h) */
    uint64_t tick;            /* lookups: the slots' LRU clock */
    struct slot *last;        /* the slot found last: an event asks for each of its
                                 certificates two or three times (kinds) in a row */
    size_t bytes;   /* buffer bytes held, all slots */
    char *scratch;  /* certjson_scratch()'s line */
    size_t s_len, s_cap;
    struct jw w;
};

struct certjson *certjson_new(size_t slots)
{
    if (slots == 0 || slots > CFG_CERTJSON_SLOTS_MAX)
        return NULL;
    struct certjson *cj = calloc(1, sizeof(*cj));
    if (!cj)
        return NULL;
    cj->slots = calloc(slots, sizeof(*cj->slots));
    if (!cj->slots) {
        free(cj);
        return NULL;
    }
    cj->n_slots = slots;
    return cj;
}

/* Forget a slot's certificate; its buffers stay for the next one. */
static void slot_clear(struct slot *s)
{
    for (int k = 0; k < CERTJSON_KINDS; k++)
        s->len[k] = 0;
    s->used = false;
}

void certjson_free(struct certjson *cj)
{
    if (!cj)
        return;
    for (size_t i = 0; i < cj->n_slots; i++)
        for (int k = 0; k < CERTJSON_KINDS; k++)
            free(cj->slots[i].json[k]);
    free(cj->slots);
    free(cj->scratch);
    free(cj);
}

/* The certificate's slot if it has one; else NULL, and *victim (if
 * asked) is the slot of its set it should take: a free one, else the least
 * recently used.  The digest is uniform: its first bytes pick the set. */
static struct slot *slot_find(struct certjson *cj, const uint8_t sha256[32],
                              struct slot **victim)
{
    cj->tick++;
    struct slot *l = cj->last;
    if (l && l->used && memcmp(l->key, sha256, 32) == 0) {
        l->stamp = cj->tick;
        return l;
    }
    uint64_t h;
    memcpy(&h, sha256, sizeof(h));
    struct set_span set = set_span_of(h, cj->n_slots, CFG_CERTJSON_WAYS);
    struct slot *v = &cj->slots[set.first];
    for (size_t i = set.first; i < set.end; i++) {
        struct slot *s = &cj->slots[i];
        if (s->used && memcmp(s->key, sha256, 32) == 0) {
            s->stamp = cj->tick;
            cj->last = s;
            return s;
        }
        if (v->used && (!s->used || s->stamp < v->stamp))
            v = s;
    }
    if (victim)
        *victim = v;
    return NULL;
}

const char *certjson_get(struct certjson *cj, const uint8_t sha256[32], enum certjson_kind kind,
                         size_t *len)
{
    struct slot *s = slot_find(cj, sha256, NULL);
    if (!s || !s->len[kind])
        return NULL;
    *len = s->len[kind];
    return s->json[kind];
}

void certjson_put(struct certjson *cj, const uint8_t sha256[32], enum certjson_kind kind,
                  const char *json, size_t n)
{
    if (n == 0 || n > CFG_CERTJSON_FRAGMENT_MAX)
        return;
    struct slot *v = NULL, *s = slot_find(cj, sha256, &v);
    if (!s) {   /* a new certificate takes its set's free or least recently used slot */
        s = v;
        slot_clear(s);
        memcpy(s->key, sha256, 32);
        s->used = true;
        s->stamp = cj->tick;
        cj->last = s;
    }
    s->len[kind] = 0;
    if (s->cap[kind] < n) {
        if (cj->bytes - s->cap[kind] + n > CFG_CERTJSON_BYTES)
            return;
        char *b = realloc(s->json[kind], n);
        if (!b)
            return;
        cj->bytes = cj->bytes - s->cap[kind] + n;
        s->json[kind] = b;
        s->cap[kind] = n;
    }
    memcpy(s->json[kind], json, n);
    s->len[kind] = n;
}

size_t certjson_bytes(const struct certjson *cj)
{
    return cj->bytes;
}

struct jw *certjson_scratch(struct certjson *cj)
{
    cj->s_len = 0;
    jw_begin(&cj->w, &cj->scratch, &cj->s_len, &cj->s_cap, CFG_CERTJSON_FRAGMENT_MAX * 4);
    return &cj->w;
}

bool certjson_keep(struct certjson *cj, const uint8_t sha256[32], enum certjson_kind kind,
                   size_t skip, const char **json, size_t *len)
{
    if (cj->w.failed || cj->s_len < skip)
        return false;
    certjson_put(cj, sha256, kind, cj->scratch + skip, cj->s_len - skip);
    if (!(*json = certjson_get(cj, sha256, kind, len))) {
        *json = cj->scratch + skip;
        *len = cj->s_len - skip;
    }
    return true;
}
