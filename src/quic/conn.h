/*
 * conn.h - one QUIC connection: keys, CRYPTO streams, Retry, Version
 * Negotiation, the Handshake-packet stash.
 *
 * quic/quic.c is the packet layer (headers, keys, AEAD, frames); this file
 * is the connection above it.  It knows nothing of flows or of the
 * pipeline: what it needs from outside comes in a struct quic_conn_io (the
 * worker's memcap, counters, key log, a scratch buffer, the connection's
 * TLS session), and the handshake bytes CRYPTO reassembly makes contiguous
 * go out through io->feed, which hands them to the TLS session and records
 * hellos and certificates (conn/conn.c).  That caller in turn tells the
 * connection about the hellos it saw (quic_conn_client_hello,
 * quic_conn_server_hello).
 *
 * Connection state, per flow (not per connection ID: a client that
 * migrates to another address or port starts a new flow, which has no
 * Initial and is not analysed):
 *   - Initial keys are derived once from the DCID of the client's first
 *     Initial.  A client Initial that does not open with them is tried with
 *     keys from its own DCID (the first Initial was not captured, or a
 *     Retry changed it), which are adopted if they work.
 *   - A Retry replaces that DCID with the Retry's SCID; its integrity tag is
 *     checked against the DCID it answers.
 *   - Version Negotiation is recorded; the client's next Initial in another
 *     version re-derives the keys.
 *   - The Handshake space is opened only with the key log's handshake
 *     traffic secrets for the client random; without them the server's
 *     chain is reported invisible (tls13_no_keys), exactly as over TCP.
 *     Handshake packets that arrive before the ServerHello that gives their
 *     keys wait (at most QUIC_STASH_MAX packets, QUIC_STASH_BYTES bytes,
 *     through the memcap).
 *   - The handshake is complete at the client's Handshake-space Finished or
 *     at its first 1-RTT (short header) packet after the ServerHello.
 *
 * Memory: struct quic_conn, its CRYPTO streams and stash are taken from
 * io->mc; quic_conn_free() gives everything back.
 */
#ifndef PINSCOPE_QUIC_CONN_H
#define PINSCOPE_QUIC_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "quic/quic.h"
#include "tls/hello.h"
#include "tls/session.h"
#include "util/memcap.h"
#include "util/stats.h"

struct keylog;
struct quic_conn;

/* QUIC details of a connection (tls.quic). */
#define EV_QUIC_TP_MAX 64   /* transport-parameter ids kept */
struct ev_quic {
    uint32_t version;               /* of the client's first Initial */
    uint32_t final_version;         /* after Version Negotiation, if it changed */
    bool version_negotiation;       /* the server sent Version Negotiation */
    bool retry;                     /* the server sent a Retry */
    bool retry_verified;            /* its integrity tag checked out */
    bool has_tp;                    /* the ClientHello carried transport parameters */
    uint16_t n_tp;
    uint32_t tp_total;
    uint64_t tp_ids[EV_QUIC_TP_MAX]; /* client's transport-parameter ids, wire order */
    uint32_t initial_packets[2];    /* [0] client, [1] server: decrypted */
    uint32_t handshake_packets[2];  /* decrypted with the key log */
    uint32_t undecryptable;         /* Initial/Handshake packets that did not open */
    bool has_close;                 /* a CONNECTION_CLOSE was read (first one kept) */
    bool close_from_client;
    uint64_t close_error;           /* its error code (0x100-0x1ff: TLS alert) */
};


struct quic_conn_io {
    struct memcap *mc;
    struct stats *st;
    const struct keylog *keylog;   /* may be NULL */
    uint32_t depth;                /* CRYPTO bytes kept per space and direction */
    uint8_t *plain;                /* scratch for one decrypted packet */
    size_t plain_cap;
    struct tls_session *tls;       /* the connection's TLS session */
    /* Contiguous handshake bytes of `side`: returns how many were used. */
    size_t (*feed)(void *ctx, int side, const uint8_t *p, size_t n);
    void *ctx;
};

/* A connection whose client is flow key side `client_side`; NULL when the
 * memcap is full (counted). */
struct quic_conn *quic_conn_new(struct memcap *mc, struct stats *st, int client_side);
void quic_conn_free(struct quic_conn *q, struct memcap *mc);

/* The first datagram of a flow, whose first packet is the client Initial
 * `h`: Initial keys from its DCID, then the datagram.  True when the client
 * Initial opened (otherwise the caller drops the connection). */
bool quic_conn_start(struct quic_conn *q, const struct quic_conn_io *io, int side,
                     const uint8_t *d, size_t n, const struct quic_long_hdr *h);

/* Every later datagram of the flow. */
void quic_conn_datagram(struct quic_conn *q, const struct quic_conn_io *io, int side,
                        const uint8_t *d, size_t n);

/* The TLS session read the ClientHello `h` (transport parameters) / the
 * ServerHello (Handshake keys from the key log). */
void quic_conn_client_hello(struct quic_conn *q, struct stats *st, const struct tls_hello *h);
void quic_conn_server_hello(struct quic_conn *q, const struct quic_conn_io *io);

/* What the tls event says about QUIC. */
const struct ev_quic *quic_conn_facts(const struct quic_conn *q);

/* First datagram of a flow: a QUIC client Initial?  (header test only) */
bool quic_conn_candidate(const uint8_t *d, size_t n, struct quic_long_hdr *h);

#endif
