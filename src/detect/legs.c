/*
 * legs.c - shared memory of recent legs (see legs.h).
 *
 * One interception has two legs for the same server name within seconds:
 * client -> proxy and proxy -> server.  The proxy's address is the server
 * of one leg and the client of the other (explicit proxy), or both legs go
 * to the same server address from different clients (transparent proxy),
 * and the two legs differ in the leaf certificate or the client
 * fingerprint.  An explicit proxy whose upstream connection leaves from
 * another address than the one its clients reach shows no shape: there
 * the client's leg names the server in its HTTP CONNECT request, and a leg
 * for that name that did not come through CONNECT, from another client,
 * to the CONNECT port, within seconds and with another leaf, is the
 * proxy's own.
 */
#include "detect/legs.h"

#include <pthread.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include "detect/strhash.h"
#include "tls/session.h"
#include "util/hash.h"

#define LEGS_BUCKETS 2048   /* power of two, at least DETECT_LEGS_MAX */
_Static_assert((LEGS_BUCKETS & (LEGS_BUCKETS - 1)) == 0 && LEGS_BUCKETS >= DETECT_LEGS_MAX,
               "LEGS_BUCKETS");

/* The part of ring[i] a lookup tests first, 48 bytes beside the others: a
 * popular name's bucket is walked without touching its 600-byte legs. */
struct leg_key {
    uint64_t sni_h, leaf_h, ja4_h;   /* leaf_h, ja4_h: 0 when the leg has none */
    int64_t ts_s;
    uint32_t client_f, server_f;     /* fold() of the addresses: equal when they are */
    uint8_t ip_ver;
    bool via_connect;
};

struct legs {
    pthread_mutex_t mu;
    struct hash_key key;             /* for leaves' hashes (names and fingerprints: strhash.h) */
    size_t next;
    /* ring[] indexed by name: each slot in one bucket's doubly linked list
     * (-1 ends a list), so a lookup visits only the legs of its own name. */
    int32_t head[LEGS_BUCKETS];
    int32_t hnext[DETECT_LEGS_MAX], hprev[DETECT_LEGS_MAX];
    struct leg_key keys[DETECT_LEGS_MAX];   /* what a lookup tests, packed */
    struct leg ring[DETECT_LEGS_MAX];
};

struct legs *legs_new(void)
{
    struct legs *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    pthread_mutex_init(&l->mu, NULL);
    hash_random_key(&l->key);
    for (size_t b = 0; b < LEGS_BUCKETS; b++)
        l->head[b] = -1;
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

/* A leaf's hash.  Its SHA-256 (64 hex digits) is our own digest of the
 * certificate, which nobody outside can steer, so the cheaper hash_fast()
 * (all 64 digits, seeded with the table's key) decides as well as SipHash
 * does: two leaves are one only if their digests are, or by a 2^-64 chance
 * no input can arrange.  Anything else is hashed with SipHash. */
static uint64_t leaf_hash(const struct legs *l, const char *s)
{
    size_t n = strnlen(s, 65);
    return n == 64 ? hash_fast(&l->key, s, 64) : str_hash(l, s);
}

/* An address folded to 32 bits: two equal addresses fold equal, so
 * unequal folds rule a shape out without reading the leg. */
static uint32_t fold(const uint8_t *a, size_t al)
{
    uint32_t f = 0;
    for (size_t i = 0; i < al; i += 4) {
        uint32_t w;
        memcpy(&w, a + i, 4);
        f ^= w;
    }
    return f;
}

/* Two addresses of al bytes, with their folds, are equal: an IPv4
 * address is its own fold; an IPv6 one is compared when the folds agree. */
static bool same_addr(uint32_t fa, uint32_t fb, const uint8_t *a, const uint8_t *b, size_t al)
{
    return fa == fb && (al == 4 || memcmp(a, b, al) == 0);
}

/* Linked by the CONNECT target: exactly one of the two legs came through
 * CONNECT to its name, the other went to that CONNECT port from another
 * client, close in time.  (The caller has checked the name, the leaves.) */
static bool connect_link(const struct leg *g, const struct detect_conn *c, bool c_via,
                         uint16_t c_connect_port, size_t al)
{
    if (c_via == g->via_connect)
        return false;
    if (memcmp(g->client_ip, c->client_ip, al) == 0)
        return false;
    uint64_t dt = c->ts_us >= g->ts_us ? c->ts_us - g->ts_us : g->ts_us - c->ts_us;
    if (dt > DETECT_LEG_CONNECT_WINDOW_US)
        return false;
    return c_via ? g->server_port == c_connect_port : c->server_port == g->connect_port;
}

static bool find(const struct legs *l, const struct detect_conn *c, uint64_t sni_h,
                 uint64_t leaf_h, uint64_t ja4_h, bool has_leaf, bool c_via,
                 uint16_t c_connect_port, struct leg_match *m)
{
    int64_t now = (int64_t)(c->ts_us / 1000000);
    size_t al = alen(c->ip_ver);
    uint32_t c_client_f = fold(c->client_ip, al), c_server_f = fold(c->server_ip, al);
    int32_t best = -1;
    const bool c_ja4 = c->ja4 != NULL;
    const uint8_t c_ver = c->ip_ver;
    /* Of several matching legs the one in the lowest ring slot answers, as
     * when the ring was scanned in order. */
    for (int32_t i = l->head[sni_h & (LEGS_BUCKETS - 1)]; i >= 0; i = l->hnext[i]) {
        /* Cheap tests first, on the packed keys: most remembered legs of a
         * name are the same certificate, and differ in client fingerprint
         * from clients that have nothing to do with this one.  Keyed
         * 64-bit hashes decide (a collision cannot be arranged from
         * outside). */
        const struct leg_key *k = &l->keys[i];
        /* No shape can hold (the tests below, on folded addresses), and no
         * CONNECT link: the explicit shape needs the proxy's address on
         * both legs; the transparent shape and the CONNECT link need
         * another leaf, and the one server or one leg through CONNECT.
         * A leg with the same leaf and no address in common, the most
         * common by far, is passed over on these two tests. */
        bool may_explicit = k->server_f == c_client_f || k->client_f == c_server_f;
        bool other_leaf = has_leaf && k->leaf_h && k->leaf_h != leaf_h;
        if (!may_explicit && !other_leaf)
            continue;
        if (k->sni_h != sni_h)
            continue;
        bool other_fp = c_ja4 && k->ja4_h && k->ja4_h != ja4_h;
        if (!(other_leaf ? may_explicit || k->server_f == c_server_f || k->via_connect != c_via
                         : other_fp && may_explicit))
            continue;
        if (k->ip_ver != c_ver || (best >= 0 && i > best))
            continue;
        if (now - k->ts_s > DETECT_LEG_WINDOW_S || k->ts_s - now > DETECT_LEG_WINDOW_S)
            continue;
        const struct leg *g = &l->ring[i];
        if (!g->used)
            continue;
        bool explicit_shape = same_addr(k->server_f, c_client_f, g->server_ip, c->client_ip, al) ||
                              same_addr(k->client_f, c_server_f, g->client_ip, c->server_ip, al);
        bool transparent_shape =
            !explicit_shape && same_addr(k->server_f, c_server_f, g->server_ip, c->server_ip, al) &&
            !same_addr(k->client_f, c_client_f, g->client_ip, c->client_ip, al);
        /* Two ordinary clients of one server differ in fingerprint all the
         * time: the transparent shape and the CONNECT link need different
         * certificates. */
        bool by_connect = !explicit_shape && !transparent_shape && other_leaf &&
                          connect_link(g, c, c_via, c_connect_port, al);
        if (!explicit_shape && !transparent_shape && !by_connect)
            continue;
        if (!other_leaf && transparent_shape)
            continue;
        best = i;
        m->by_connect = by_connect;
        m->other = *g;
        m->explicit_shape = explicit_shape;
        m->other_leaf = other_leaf;
        m->other_fp = other_fp;
    }
    return best >= 0;
}

/* src cut to cap - 1 bytes and terminated, as snprintf("%s") would. */
static void copy_cut(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Take slot i out of its bucket's list. */
static void unlink_slot(struct legs *l, int32_t i)
{
    if (l->hprev[i] >= 0)
        l->hnext[l->hprev[i]] = l->hnext[i];
    else
        l->head[l->keys[i].sni_h & (LEGS_BUCKETS - 1)] = l->hnext[i];
    if (l->hnext[i] >= 0)
        l->hprev[l->hnext[i]] = l->hprev[i];
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
    uint64_t sni_h = strhash(STRHASH_NAME, c->sni);
    uint64_t leaf_h = leaf_sha256 ? leaf_hash(l, leaf_sha256) : 0;
    uint64_t ja4_h = c->ja4 ? strhash(STRHASH_FP, c->ja4) : 0;
    /* Through HTTP CONNECT to the name it then asked for in its SNI. */
    uint16_t connect_port = 0;
    if (c->tls && c->tls->tunnel == TLS_TUNNEL_HTTP_CONNECT && c->tls->connect_port &&
        strcasecmp(c->tls->connect_host, c->sni) == 0)
        connect_port = c->tls->connect_port;

    pthread_mutex_lock(&l->mu);
    bool found = find(l, c, sni_h, leaf_h, ja4_h, leaf_sha256 != NULL, connect_port != 0,
                      connect_port, m);
    int32_t slot = (int32_t)l->next;
    struct leg *g = &l->ring[slot];
    l->next = (l->next + 1) % DETECT_LEGS_MAX;
    if (g->used)
        unlink_slot(l, slot);
    /* Field by field rather than a memset of the ~600 bytes: only the
     * strings' bytes in use are written (the rest of each array is never
     * read past its NUL). */
    memset(g->client_ip, 0, sizeof(g->client_ip));
    memset(g->server_ip, 0, sizeof(g->server_ip));
    g->leaf_sha256[0] = g->issuer[0] = g->ja4[0] = '\0';
    g->used = true;
    g->flow_id = c->flow_id;
    g->ts_s = (int64_t)(c->ts_us / 1000000);
    g->ts_us = c->ts_us;
    g->ip_ver = c->ip_ver;
    g->server_port = c->server_port;
    g->via_connect = connect_port != 0;
    g->connect_port = connect_port;
    memcpy(g->client_ip, c->client_ip, alen(c->ip_ver));
    memcpy(g->server_ip, c->server_ip, alen(c->ip_ver));
    copy_cut(g->sni, sizeof(g->sni), c->sni);
    int32_t *h = &l->head[sni_h & (LEGS_BUCKETS - 1)];
    l->hprev[slot] = -1;
    l->hnext[slot] = *h;
    if (*h >= 0)
        l->hprev[*h] = slot;
    *h = slot;
    if (leaf_sha256) {
        copy_cut(g->leaf_sha256, sizeof(g->leaf_sha256), leaf_sha256);
        copy_cut(g->issuer, sizeof(g->issuer), issuer ? issuer : "-");
    }
    if (c->ja4)
        copy_cut(g->ja4, sizeof(g->ja4), c->ja4);
    l->keys[slot] = (struct leg_key){
        .sni_h = sni_h,
        .leaf_h = g->leaf_sha256[0] ? leaf_h : 0,
        .ja4_h = g->ja4[0] ? ja4_h : 0,
        .ts_s = g->ts_s,
        .client_f = fold(g->client_ip, alen(g->ip_ver)),
        .server_f = fold(g->server_ip, alen(g->ip_ver)),
        .ip_ver = g->ip_ver,
        .via_connect = g->via_connect,
    };
    pthread_mutex_unlock(&l->mu);
    return found;
}
