/*
 * legs.h - recent connections remembered to link the two legs of one
 * interception, shared by every worker.
 *
 * With several workers the client->proxy and proxy->server connections of
 * one interception usually land on different workers, so the memory of
 * recent legs cannot live in a per-worker detector.  One struct legs is
 * made per process and handed to every detector; it survives policy
 * reloads (it holds facts of the traffic, not of the policy).
 *
 * Container contract:
 *   entries   DETECT_LEGS_MAX connections with a server name, a ring: the
 *             oldest is overwritten.  ~600 bytes each.
 *   locking   one mutex; legs_match_and_remember() looks up and records in
 *             one critical section, so of two legs finishing at once on two
 *             workers exactly one sees the other.  The work inside is a
 *             walk of the legs with the same name's bucket (2048
 *             buckets of the 64-bit keyed name hash: SipHash, per-run key,
 *             detect/strhash.h).
 *   order     which leg carries the alert is the one that finishes second;
 *             with several workers that can be either.
 */
#ifndef PINSCOPE_LEGS_H
#define PINSCOPE_LEGS_H

#include <stdbool.h>
#include <stdint.h>

#include "policy/detect.h"

/* One remembered connection (copied out on a match). */
struct leg {
    bool used;
    uint64_t flow_id;
    int64_t ts_s;
    uint64_t ts_us;
    uint8_t ip_ver;
    bool via_connect;                /* came through HTTP CONNECT to its own SNI */
    uint16_t server_port, connect_port;
    uint8_t client_ip[16], server_ip[16];
    char sni[256];
    char leaf_sha256[65];
    char issuer[160];
    char ja4[48];
};

/* How a match relates to the connection. */
struct leg_match {
    struct leg other;
    bool explicit_shape;   /* the proxy is the server of one leg, the client of the other */
    bool by_connect;       /* no address shape: one leg asked an explicit proxy (HTTP
                              CONNECT) for the name, the other did not, from another
                              client, within DETECT_LEG_CONNECT_WINDOW_US */
    bool other_leaf;       /* the two legs show different leaf certificates */
    bool other_fp;         /* the two legs come from different client fingerprints */
};

struct legs;

struct legs *legs_new(void);
void legs_free(struct legs *l);

/* Look for the other leg of `c` (same name within DETECT_LEG_WINDOW_S, the
 * explicit or transparent proxy shape, different leaf or client; or, with
 * no shape, linked by the CONNECT target: see by_connect, different leaf
 * and the upstream leg's server port the CONNECT port) and then remember
 * `c`.  `leaf_sha256`/`issuer` describe c's leaf (NULL if none).
 * True with *m filled when a match was found. */
bool legs_match_and_remember(struct legs *l, const struct detect_conn *c, const char *leaf_sha256,
                             const char *issuer, struct leg_match *m);

#endif
