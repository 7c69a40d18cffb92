/*
 * resume.c - the shared resumption table (see resume.h).
 *
 * A fixed array of entries, an index of them by key hash, and a doubly
 * linked LRU list by entry: the head is the most recently used, the tail
 * is evicted first.
 *
 * The index is open addressing with linear probing in a power-of-two
 * array of slots at least twice the cap (so at most half full, and a run
 * of slots ends at an empty one): a slot is 8 bytes, the entry's number
 * and the low 32 bits of its key's hash, which give its home slot and
 * are compared before the key, so a probe reads one or two lines of
 * slots and the entry (the key and its origin's numbers) only when
 * they agree.  Equal keys are decided by comparing their bytes.  A
 * removal shifts the following slots of its run back (Knuth's algorithm
 * R), so no tombstones build up.  link[i] holds entry i's LRU neighbours
 * and slot: an eviction and an LRU move touch these small arrays only.
 *
 * An origin's eight strings (fingerprint to confidence) are kept apart
 * from its entry, packed without terminators in one allocation of their
 * total length (about 250 bytes for a typical leaf, at most the 566 of
 * the fixed fields), with their lengths in the entry; resume_get() puts
 * them back into the fixed fields.
 */
#include "detect/resume.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util/hash.h"

#define NIL UINT32_MAX

/* The strings of struct resume_origin, in the order they are packed. */
#define RESUME_FIELD(f) { offsetof(struct resume_origin, f), sizeof(((struct resume_origin *)0)->f) }
static const struct {
    size_t off, size;
} str_field[] = {
    RESUME_FIELD(fingerprint), RESUME_FIELD(leaf_sha256), RESUME_FIELD(spki_sha256),
    RESUME_FIELD(subject),     RESUME_FIELD(issuer),      RESUME_FIELD(product),
    RESUME_FIELD(category),    RESUME_FIELD(confidence),
};
#define RESUME_STRS (sizeof str_field / sizeof str_field[0])

struct resume_entry {
    struct resume_key k;
    uint8_t n_sids;
    uint8_t len[RESUME_STRS];      /* the strings' lengths (each under 256) */
    uint16_t str_cap;              /* bytes at str */
    int severity;
    uint64_t flow_id;
    int64_t ts_s;
    uint32_t sids[RESUME_SIDS];
    char *str;                     /* the strings, packed; kept when the entry is dropped,
                                      for the next origin it holds */
};

struct resume_slot {
    uint32_t tag;   /* the key's hash, low half: its home is tag & (ns - 1) */
    uint32_t idx;   /* the entry; NIL: empty */
};

struct resume_link {
    uint32_t prev, next;   /* LRU list; next: the free list when dropped */
    uint32_t pos;          /* its slot */
};

struct resume {
    pthread_mutex_t mu;
    struct hash_key hk;
    size_t cap, n, ns;
    uint32_t head, tail, free_list;   /* LRU ends; dropped entries by next */
    uint32_t fresh;                   /* e[fresh..cap) never used yet */
    struct resume_slot *slot;         /* ns slots */
    struct resume_link *link;         /* link[i]: entry i's (see above) */
    struct resume_entry *e;
};

struct resume *resume_new(size_t cap)
{
    if (cap >= NIL / 2)
        return NULL;
    struct resume *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->cap = cap;
    t->ns = 2;
    while (t->ns < 2 * cap)
        t->ns <<= 1;
    t->slot = malloc(t->ns * sizeof(*t->slot));
    t->link = cap ? malloc(cap * sizeof(*t->link)) : NULL;
    t->e = cap ? calloc(cap, sizeof(*t->e)) : NULL;
    if (!t->slot || (cap && (!t->e || !t->link))) {
        free(t->slot);
        free(t->link);
        free(t->e);
        free(t);
        return NULL;
    }
    for (size_t i = 0; i < t->ns; i++)
        t->slot[i].idx = NIL;
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
    for (size_t i = 0; i < t->fresh; i++)
        free(t->e[i].str);
    free(t->slot);
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

/* A canonical key's hash (once per call): its low half is the tag.  The bytes hashed are the ones a key uses
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

static uint32_t find(struct resume *t, uint32_t tag, const struct resume_key *c)
{
    size_t mask = t->ns - 1;
    for (size_t p = tag & mask;; p = (p + 1) & mask) {
        const struct resume_slot *s = &t->slot[p];
        if (s->idx == NIL)
            return NIL;
        if (s->tag == tag && memcmp(&t->e[s->idx].k, c, sizeof(*c)) == 0)
            return s->idx;
    }
}

/* Index entry i under tag (its key is not there: the run ends empty). */
static void slot_add(struct resume *t, uint32_t i, uint32_t tag)
{
    size_t mask = t->ns - 1, p = tag & mask;
    while (t->slot[p].idx != NIL)
        p = (p + 1) & mask;
    t->slot[p] = (struct resume_slot){ .tag = tag, .idx = i };
    t->link[i].pos = (uint32_t)p;
}

/* Take slot p out of the index, moving back the slots after it in its
 * run that may take its place (their home is not within (p, q]). */
static void slot_remove(struct resume *t, size_t p)
{
    size_t mask = t->ns - 1;
    for (size_t q = (p + 1) & mask; t->slot[q].idx != NIL; q = (q + 1) & mask) {
        size_t home = t->slot[q].tag & mask;
        bool stays = p <= q ? (p < home && home <= q) : (p < home || home <= q);
        if (stays)
            continue;
        t->slot[p] = t->slot[q];
        t->link[t->slot[p].idx].pos = (uint32_t)p;
        p = q;
    }
    t->slot[p].idx = NIL;
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

/* Take entry i out of the index and the LRU list, onto the free list. */
static void drop(struct resume *t, uint32_t i)
{
    slot_remove(t, t->link[i].pos);
    lru_unlink(t, i);
    t->link[i].next = t->free_list;   /* its string buffer stays for the next origin */
    t->free_list = i;
    t->n--;
}

/* The lengths of o's strings into len[], each cut at its field's size
 * less one, as it is read back; their total. */
static size_t measure(const struct resume_origin *o, uint8_t len[RESUME_STRS])
{
    const char *base = (const char *)o;
    size_t total = 0;
    for (size_t f = 0; f < RESUME_STRS; f++) {
        len[f] = (uint8_t)strnlen(base + str_field[f].off, str_field[f].size - 1);
        total += len[f];
    }
    return total;
}

/* Entry e takes o's numbers and its strings (measured into len[], `total`
 * bytes), packed into the entry's buffer, grown when too small (in
 * 64-byte steps: an entry's buffer is reused for origin after origin).
 * False when memory is short (the entry is then unchanged). */
static bool set_origin(struct resume_entry *e, const struct resume_origin *o,
                       const uint8_t len[RESUME_STRS], size_t total)
{
    if (total > e->str_cap) {
        size_t cap = (total + 63) & ~(size_t)63;
        char *p = malloc(cap);
        if (!p)
            return false;
        free(e->str);
        e->str = p;
        e->str_cap = (uint16_t)cap;
    }
    e->flow_id = o->flow_id;
    e->ts_s = o->ts_s;
    memcpy(e->sids, o->sids, sizeof(e->sids));
    e->n_sids = o->n_sids;
    e->severity = o->severity;
    memcpy(e->len, len, sizeof(e->len));
    char *p = e->str;
    const char *base = (const char *)o;
    for (size_t f = 0; total && f < RESUME_STRS; f++) {
        if (len[f])
            memcpy(p, base + str_field[f].off, len[f]);
        p += len[f];
    }
    return true;
}

/* Entry e's origin into *o, zero padded as origin_of() fills it. */
static void get_origin(const struct resume_entry *e, struct resume_origin *o)
{
    memset(o, 0, sizeof(*o));
    o->flow_id = e->flow_id;
    o->ts_s = e->ts_s;
    memcpy(o->sids, e->sids, sizeof(o->sids));
    o->n_sids = e->n_sids;
    o->severity = e->severity;
    const char *p = e->str;
    for (size_t f = 0; f < RESUME_STRS; f++) {
        if (e->len[f])
            memcpy((char *)o + str_field[f].off, p, e->len[f]);
        p += e->len[f];
    }
}

bool resume_put(struct resume *t, const struct resume_key *k, const struct resume_origin *o)
{
    if (t->cap == 0)
        return false;
    struct resume_key c;
    canon(&c, k);
    bool evicted = false;
    uint32_t tag = (uint32_t)hash_of(t, &c);
    uint8_t len[RESUME_STRS];
    size_t total = measure(o, len);
    pthread_mutex_lock(&t->mu);
    uint32_t i = find(t, tag, &c);
    if (i != NIL) {
        if (!set_origin(&t->e[i], o, len, total)) {
            drop(t, i);   /* no room for the strings: o is lost, and so is what k held */
            pthread_mutex_unlock(&t->mu);
            return true;
        }
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
        t->free_list = t->link[i].next;
    }
    if (!set_origin(&t->e[i], o, len, total)) {
        t->link[i].next = t->free_list;   /* back to the free entries */
        t->free_list = i;
        pthread_mutex_unlock(&t->mu);
        return true;
    }
    memcpy(&t->e[i].k, &c, sizeof(c));   /* padding included: keys compare as bytes */
    slot_add(t, i, tag);
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
    uint32_t tag = (uint32_t)hash_of(t, &c);
    pthread_mutex_lock(&t->mu);
    uint32_t i = find(t, tag, &c);
    if (i != NIL) {
        if (now_s - t->e[i].ts_s > CFG_RESUME_MAX_AGE_S) {
            drop(t, i);
        } else {
            get_origin(&t->e[i], o);
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
