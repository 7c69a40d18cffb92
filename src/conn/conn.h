/*
 * conn.h - the analysis state of one connection, whatever carries it.
 *
 * struct conn holds, per flow: TCP endpoint state, one reassembly stream
 * per direction (TCP), the TLS session, what each hello contributed to the
 * event (fingerprints, SNI, ALPN), the certificate chains, and the QUIC or
 * DTLS connection (quic/conn.c, dtls/conn.c).  Transports hand it bytes:
 * conn_drive_stream() for a TCP direction's contiguous stream,
 * conn_feed_handshake() for bare handshake messages (QUIC CRYPTO, DTLS);
 * both record hellos and certificates as the TLS session reports them.
 * conn_report_fill() makes the finished-connection record.
 *
 * struct conn_env is the worker's context these functions run in: its
 * memcap and counters, key log, certificate caches, the time of the packet
 * being processed, and scratch space reused for every hello.  One per
 * pipeline; nothing in it is shared between workers.
 */
#ifndef PINSCOPE_CONN_CONN_H
#define PINSCOPE_CONN_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn/report.h"
#include "dtls/conn.h"
#include "flow/table.h"
#include "decode/decode.h"
#include "fp/fp.h"
#include "fp/ja4t.h"
#include "quic/conn.h"
#include "reasm/stream.h"
#include "tls/session.h"
#include "util/memcap.h"
#include "util/stats.h"

struct keylog;
struct x509_ctx;

struct conn_env {
    struct memcap *mc;
    struct stats *st;
    const struct keylog *keylog;   /* may be NULL */
    struct x509_ctx *x509;         /* NULL: no chains */
    uint32_t depth;                /* stream bytes examined per direction */
    uint64_t pkt_ts_us;            /* time of the packet being processed */
    /* Scratch space, reused for every hello and QUIC packet. */
    struct tls_hello hello;
    struct fp_ja3 ja3;
    struct fp_ja4 ja4;
    struct fp_ja4s ja4s;
    uint8_t plain[65536];          /* one decrypted QUIC packet */
};

struct conn {
    bool syn[2];
    bool fin[2];
    bool rst;
    int8_t closed_by; /* flow key side of the first FIN or RST, -1 none yet */
    bool done;        /* analysis over: no more buffering */
    bool emitted;
    bool waiting;     /* TCP: handshake complete, on the tracker's wait list */
    uint32_t isn1[2]; /* first data sequence number per side, if syn[] */
    struct reasm_stream *rs[2];
    struct tls_session *tls;          /* NULL once the analysis is over */
    struct ev_client_hello *ch[2];
    struct ev_server_hello *sh[2];
    struct x509_chain *chain[2];      /* [0] server's, [1] client's */
    uint8_t transport;                /* enum fp_transport */
    struct quic_conn *quic;           /* QUIC connections */
    struct dtls_conn *dtls;           /* DTLS connections */
    struct tcp_handshake *tcp;        /* TCP: SYN, SYN-ACK facts (JA4T/JA4TS/JA4L) */
    struct flow *wait_prev, *wait_next;   /* the tracker's wait list, while waiting */
};

/* A connection over `transport` (enum fp_transport); for QUIC the client
 * is flow key side `client_side`.  NULL when the memcap is full (counted). */
struct conn *conn_new(struct conn_env *env, uint8_t transport, int client_side);

/* Free every buffer of the analysis; the conn itself stays (a finished
 * flow lingers as a key and this struct) and is marked done. */
void conn_release_analysis(struct conn_env *env, struct conn *c);
void conn_free(struct conn_env *env, struct conn *c);

/* TCP: hand the contiguous bytes of direction `side` to the TLS session
 * until it has nothing more to say.  When they complete the handshake,
 * the session starts watching what follows (tls_session_watch_start()) and
 * the rest of the bytes, now and later, go to tls_session_watch(). */
void conn_drive_stream(struct conn_env *env, struct conn *c, int side);

/* QUIC/DTLS: hand one datagram of `side` to the connection. */
void conn_datagram(struct conn_env *env, struct conn *c, int side, const uint8_t *d, size_t n);

/* QUIC: the first datagram, whose first packet is the client Initial `h`.
 * False when it did not open (the caller drops the connection). */
bool conn_quic_start(struct conn_env *env, struct conn *c, int side, const uint8_t *d, size_t n,
                     const struct quic_long_hdr *h);

/* TCP: a segment of the connection's opening (SYN, SYN-ACK, the ACK)
 * from flow key side `side`: JA4T, JA4TS, JA4L.  The record is allocated
 * at the first SYN, whose side is the client's (within the memcap; when
 * it is full the facts are not kept). */
void conn_tcp_opening(struct conn_env *env, struct conn *c, const struct pkt *p, int side);

/* The finished-connection record of `c` on flow `f`. */
void conn_report_fill(const struct conn *c, const struct flow *f, enum ev_end end,
                      struct conn_report *r);

#endif
