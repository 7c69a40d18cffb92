/*
 * answers.h - how a server name answered recent TLS 1.3 clients, shared by
 * every worker, to notice one name answered two ways at once.
 *
 * Without keys or a baseline, a proxy in front of some clients shows in
 * one capture as one server name answering the same kind of client (the
 * same JA4) two ways: a first encrypted flight hundreds of bytes apart (the
 * proxy's chain is not the origin's) or a HelloRetryRequest one client gets
 * and the other does not (the proxy's TLS stack prefers another group).
 * The same JA4 means the same offer (suites, extensions, certificate
 * compression, groups): an origin answers it the same way every time.
 *
 * Container contract (as detect/legs.h):
 *   entries   DETECT_ANSWERS_MAX TLS 1.3 connections with a server name and
 *             a known flight or HelloRetryRequest, a ring: the oldest is
 *             overwritten.  ~90 bytes each.  Each is chained in a bucket
 *             by its (name, JA4) hashes: a lookup walks that bucket only.
 *   window    DETECT_ANSWERS_WINDOW_S seconds between the two connections.
 *   locking   one mutex; answers_match_and_remember() looks up and records
 *             in one critical section.  Keyed 64-bit hashes of the name and
 *             the JA4 (SipHash, per-run key, detect/strhash.h) decide equality.
 *   order     the connection that finishes second carries the alert.
 */
#ifndef PINSCOPE_ANSWERS_H
#define PINSCOPE_ANSWERS_H

#include <stdbool.h>
#include <stdint.h>

#include "policy/detect.h"

/* One remembered answer (copied out on a match). */
struct answer {
    bool used, has_flight;
    uint8_t ip_ver;
    uint32_t flight_bytes;
    uint64_t flow_id, sni_h, ja4_h;
    int64_t ts_s;
    uint8_t client_ip[16];
    char hello_retry[16];   /* "none", a group name, "" when not known */
};

struct answer_match {
    struct answer other;
    bool flight_apart;      /* flights differ by more than the threshold */
    bool hrr_differs;       /* one got a HelloRetryRequest (or another group) */
};

/* Two flights are far apart when they differ by more than
 * DETECT_ANSWERS_MIN_GAP bytes and by more than a fifth of the larger. */
bool answers_flights_apart(uint32_t a, uint32_t b);

struct answers;

struct answers *answers_new(void);
void answers_free(struct answers *a);

/* Look for an earlier answer of c's server name to a client with c's JA4
 * from another client address that differs (answers_flights_apart(), or
 * the HelloRetryRequest), then remember c.  True with *m filled on a
 * match.  Connections without a name, a JA4 or any keyless fact are
 * neither matched nor remembered. */
bool answers_match_and_remember(struct answers *a, const struct detect_conn *c,
                                struct answer_match *m);

#endif
