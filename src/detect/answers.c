/*
 * answers.c - recent answers per server name (see answers.h).
 */
#include "detect/answers.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "detect/strhash.h"

#define ANSWERS_BUCKETS 2048   /* power of two, at least DETECT_ANSWERS_MAX */
_Static_assert((ANSWERS_BUCKETS & (ANSWERS_BUCKETS - 1)) == 0 &&
                   ANSWERS_BUCKETS >= DETECT_ANSWERS_MAX,
               "ANSWERS_BUCKETS");

struct answers {
    pthread_mutex_t mu;
    size_t next;
    /* ring[] indexed by (name, JA4): each used slot in one bucket's doubly
     * linked list (-1 ends a list), so a lookup visits only the answers
     * that can match instead of the whole ring. */
    int32_t head[ANSWERS_BUCKETS];
    int32_t hnext[DETECT_ANSWERS_MAX], hprev[DETECT_ANSWERS_MAX];
    struct answer ring[DETECT_ANSWERS_MAX];
};

struct answers *answers_new(void)
{
    struct answers *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    pthread_mutex_init(&a->mu, NULL);
    for (size_t b = 0; b < ANSWERS_BUCKETS; b++)
        a->head[b] = -1;
    return a;
}

void answers_free(struct answers *a)
{
    if (!a)
        return;
    pthread_mutex_destroy(&a->mu);
    free(a);
}

bool answers_flights_apart(uint32_t a, uint32_t b)
{
    uint32_t hi = a > b ? a : b, gap = a > b ? a - b : b - a;
    return gap > DETECT_ANSWERS_MIN_GAP && (uint64_t)gap * 5 > hi;
}

static size_t alen(uint8_t ver)
{
    return ver == 4 ? 4 : 16;
}

static size_t bucket_of(uint64_t sni_h, uint64_t ja4_h)
{
    uint64_t h = sni_h ^ (ja4_h * 0x9e3779b97f4a7c15ull);
    return (size_t)(h ^ (h >> 32)) & (ANSWERS_BUCKETS - 1);
}

/* Take slot i out of its bucket's list. */
static void unlink_slot(struct answers *a, int32_t i)
{
    const struct answer *g = &a->ring[i];
    if (a->hprev[i] >= 0)
        a->hnext[a->hprev[i]] = a->hnext[i];
    else
        a->head[bucket_of(g->sni_h, g->ja4_h)] = a->hnext[i];
    if (a->hnext[i] >= 0)
        a->hprev[a->hnext[i]] = a->hprev[i];
}

/* src cut to cap - 1 bytes and terminated, as snprintf("%s") would. */
static void copy_cut(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

bool answers_match_and_remember(struct answers *a, const struct detect_conn *c,
                                struct answer_match *m)
{
    if (!c->sni || !*c->sni || !c->ja4 || !*c->ja4 ||
        (!c->has_flight_bytes && !c->hello_retry))
        return false;
    size_t al = alen(c->ip_ver);
    uint64_t sni_h = strhash(STRHASH_NAME, c->sni);   /* as the legs' (one memo) */
    uint64_t ja4_h = strhash(STRHASH_FP, c->ja4);
    int64_t now = (int64_t)(c->ts_us / 1000000);
    size_t b = bucket_of(sni_h, ja4_h);
    int32_t best = -1;

    pthread_mutex_lock(&a->mu);
    /* Of several matching answers the one in the lowest ring slot
     * answers, as when the ring was scanned in order. */
    for (int32_t i = a->head[b]; i >= 0; i = a->hnext[i]) {
        const struct answer *g = &a->ring[i];
        if ((best >= 0 && i > best) || g->sni_h != sni_h || g->ja4_h != ja4_h ||
            g->ip_ver != c->ip_ver || memcmp(g->client_ip, c->client_ip, al) == 0)
            continue;
        if (now - g->ts_s > DETECT_ANSWERS_WINDOW_S || g->ts_s - now > DETECT_ANSWERS_WINDOW_S)
            continue;
        bool apart = g->has_flight && c->has_flight_bytes &&
                     answers_flights_apart(g->flight_bytes, c->flight_bytes);
        bool hrr = g->hello_retry[0] && c->hello_retry && strcmp(g->hello_retry, c->hello_retry);
        if (!apart && !hrr)
            continue;
        m->other = *g;
        m->flight_apart = apart;
        m->hrr_differs = hrr;
        best = i;
    }
    int32_t slot = (int32_t)a->next;
    struct answer *g = &a->ring[slot];
    a->next = (a->next + 1) % DETECT_ANSWERS_MAX;
    if (g->used)
        unlink_slot(a, slot);
    memset(g, 0, sizeof(*g));
    g->used = true;
    g->ip_ver = c->ip_ver;
    g->flow_id = c->flow_id;
    g->sni_h = sni_h;
    g->ja4_h = ja4_h;
    g->ts_s = now;
    memcpy(g->client_ip, c->client_ip, al);
    g->has_flight = c->has_flight_bytes;
    g->flight_bytes = c->flight_bytes;
    if (c->hello_retry)
        copy_cut(g->hello_retry, sizeof(g->hello_retry), c->hello_retry);
    a->hprev[slot] = -1;
    a->hnext[slot] = a->head[b];
    if (a->head[b] >= 0)
        a->hprev[a->head[b]] = slot;
    a->head[b] = slot;
    pthread_mutex_unlock(&a->mu);
    return best >= 0;
}
