/*
 * legs.c - shared memory of recent legs (see legs.h).
 *
 * One interception has two legs for the same server name within seconds:
 * client -> proxy and proxy -> server.  The proxy's address is the server
 * of one leg and the client of the other (explicit proxy), or both legs go
 * to the same server address from different clients (transparent proxy),
 * and the two legs differ in the leaf certificate or the client
 * fingerprint.
 */
#include "detect/legs.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

struct legs {
    pthread_mutex_t mu;
    struct hash_key key;             /* for the legs' string hashes */
    size_t next;
    uint64_t sni_h[DETECT_LEGS_MAX];   /* ring[i].sni_h, packed: the scan reads 8 KB, not 600 */
    struct leg ring[DETECT_LEGS_MAX];
};

struct legs *legs_new(void)
{
    struct legs *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    pthread_mutex_init(&l->mu, NULL);
    hash_random_key(&l->key);
    return l;
}

void legs_free(struct legs *l)
{
    if (!l)
        return;
    pthread_mutex_destroy(&l->mu);
    free(l);
}

static size_t alen(uint8_t ver)
{
    return ver == 4 ? 4 : 16;
}

static uint64_t str_hash(const struct legs *l, const char *s)
{
    return hash_siphash(&l->key, s, strlen(s));
}

static bool find(const struct legs *l, const struct detect_conn *c, uint64_t sni_h,
                 uint64_t leaf_h, uint64_t ja4_h, bool has_leaf, struct leg_match *m)
{
    int64_t now = (int64_t)(c->ts_us / 1000000);
    size_t al = alen(c->ip_ver);
    for (size_t i = 0; i < DETECT_LEGS_MAX; i++) {
        /* Cheap tests first: most remembered legs are another name, or
         * the same certificate and client fingerprint.  Keyed 64-bit
         * hashes decide (a collision cannot be arranged from outside). */
        if (l->sni_h[i] != sni_h)
            continue;
        const struct leg *g = &l->ring[i];
        if (!g->used || g->ip_ver != c->ip_ver)
            continue;
        bool other_leaf = has_leaf && g->leaf_sha256[0] && g->leaf_h != leaf_h;
        bool other_fp = c->ja4 && g->ja4[0] && g->ja4_h != ja4_h;
        if (!other_leaf && !other_fp)
            continue;
        if (now - g->ts_s > DETECT_LEG_WINDOW_S || g->ts_s - now > DETECT_LEG_WINDOW_S)
            continue;
        bool explicit_shape = memcmp(g->server_ip, c->client_ip, al) == 0 ||
                              memcmp(g->client_ip, c->server_ip, al) == 0;
        bool transparent_shape = !explicit_shape && memcmp(g->server_ip, c->server_ip, al) == 0 &&
                                 memcmp(g->client_ip, c->client_ip, al) != 0;
        if (!explicit_shape && !transparent_shape)
            continue;
        /* Two ordinary clients of one server differ in fingerprint all the
         * time: the transparent shape needs different certificates. */
        if (!other_leaf && transparent_shape)
            continue;
        m->other = *g;
        m->explicit_shape = explicit_shape;
        m->other_leaf = other_leaf;
        m->other_fp = other_fp;
        return true;
    }
    return false;
}

bool legs_match_and_remember(struct legs *l, const struct detect_conn *c, const char *leaf_sha256,
                             const char *issuer, struct leg_match *m)
{
    if (!c->sni || !*c->sni)
        return false;
    /* A host talking to itself (both ends ::1 or 127.0.0.1) has no shape:
     * every connection would meet every other at the one address. */
    if (memcmp(c->client_ip, c->server_ip, alen(c->ip_ver)) == 0)
        return false;
    uint64_t sni_h = str_hash(l, c->sni);
    uint64_t leaf_h = leaf_sha256 ? str_hash(l, leaf_sha256) : 0;
    uint64_t ja4_h = c->ja4 ? str_hash(l, c->ja4) : 0;

    pthread_mutex_lock(&l->mu);
    bool found = find(l, c, sni_h, leaf_h, ja4_h, leaf_sha256 != NULL, m);
    struct leg *g = &l->ring[l->next];
    l->sni_h[l->next] = sni_h;
    l->next = (l->next + 1) % DETECT_LEGS_MAX;
    memset(g, 0, sizeof(*g));
    g->used = true;
    g->flow_id = c->flow_id;
    g->ts_s = (int64_t)(c->ts_us / 1000000);
    g->ip_ver = c->ip_ver;
    memcpy(g->client_ip, c->client_ip, alen(c->ip_ver));
    memcpy(g->server_ip, c->server_ip, alen(c->ip_ver));
    snprintf(g->sni, sizeof(g->sni), "%s", c->sni);
    g->sni_h = sni_h;
    if (leaf_sha256) {
        snprintf(g->leaf_sha256, sizeof(g->leaf_sha256), "%s", leaf_sha256);
        snprintf(g->issuer, sizeof(g->issuer), "%s", issuer ? issuer : "-");
        g->leaf_h = leaf_h;
    }
    if (c->ja4) {
        snprintf(g->ja4, sizeof(g->ja4), "%s", c->ja4);
        g->ja4_h = ja4_h;
    }
    pthread_mutex_unlock(&l->mu);
    return found;
}
