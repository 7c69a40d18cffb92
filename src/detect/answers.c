/*
 * answers.c - recent answers per server name (see answers.h).
 */
#include "detect/answers.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

struct answers {
    pthread_mutex_t mu;
    struct hash_key key;
    size_t next;
    struct answer ring[DETECT_ANSWERS_MAX];
};

struct answers *answers_new(void)
{
    struct answers *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    pthread_mutex_init(&a->mu, NULL);
    hash_random_key(&a->key);
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

bool answers_match_and_remember(struct answers *a, const struct detect_conn *c,
                                struct answer_match *m)
{
    if (!c->sni || !*c->sni || !c->ja4 || !*c->ja4 ||
        (!c->has_flight_bytes && !c->hello_retry))
        return false;
    size_t al = alen(c->ip_ver);
    uint64_t sni_h = hash_siphash(&a->key, c->sni, strlen(c->sni));
    uint64_t ja4_h = hash_siphash(&a->key, c->ja4, strlen(c->ja4));
    int64_t now = (int64_t)(c->ts_us / 1000000);
    bool found = false;

    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < DETECT_ANSWERS_MAX && !found; i++) {
        const struct answer *g = &a->ring[i];
        if (!g->used || g->sni_h != sni_h || g->ja4_h != ja4_h || g->ip_ver != c->ip_ver ||
            memcmp(g->client_ip, c->client_ip, al) == 0)
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
        found = true;
    }
    struct answer *g = &a->ring[a->next];
    a->next = (a->next + 1) % DETECT_ANSWERS_MAX;
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
        snprintf(g->hello_retry, sizeof(g->hello_retry), "%s", c->hello_retry);
    pthread_mutex_unlock(&a->mu);
    return found;
}
