/*
 * pipeline_priv.h - state shared by the pipeline's own files: pipeline.c
 * (packets, flows, TCP, events) and pipeline_udp.c (QUIC and DTLS).
 * Nothing outside the pipeline includes it.
 */
#ifndef PINSCOPE_PIPELINE_PRIV_H
#define PINSCOPE_PIPELINE_PRIV_H

#include "pipeline.h"

#include "decode/decode.h"
#include "flow/table.h"
#include "fp/fp.h"
#include "conn/report.h"
#include "reasm/stream.h"
#include "tls/session.h"
#include "util/memcap.h"

struct quic_state;
struct dtls_state;

struct conn {
    bool syn[2];
    bool fin[2];
    bool rst;
    bool closed;      /* FIN both ways or RST: event written, lingering */
    bool done;        /* analysis over: no more buffering */
    bool emitted;
    uint32_t isn1[2]; /* first data sequence number per side, if syn[] */
    struct reasm_stream *rs[2];
    struct tls_session tls;
    struct ev_client_hello *ch[2];
    struct ev_server_hello *sh[2];
    struct x509_chain *chain[2];      /* [0] server's, [1] client's */
    uint8_t transport;                /* enum fp_transport */
    struct quic_state *quic;          /* QUIC flows: pipeline_udp.c */
    struct dtls_state *dtls;          /* DTLS flows: pipeline_udp.c */
};

struct pipeline {
    struct pipeline_config cfg;
    struct flow_table *ft;
    struct memcap mc;
    struct stats st;
    uint64_t now_us;          /* latest packet time seen (clock for expiry) */
    uint64_t pkt_ts_us;       /* time of the packet being processed */
    uint64_t next_sweep_us;
    struct flow *last_flow;   /* one-entry lookup cache: bursts of one flow */
    /* Scratch space, reused for every hello. */
    struct tls_hello hello;
    struct fp_ja3 ja3;
    struct fp_ja4 ja4;
    struct fp_ja4s ja4s;
    uint8_t udp_plain[65536];   /* one decrypted QUIC packet */
};

/* pipeline.c */
struct conn *pl_conn_new(struct pipeline *pl);
void pl_conn_free(struct pipeline *pl, struct conn *c);
void pl_conn_finish(struct pipeline *pl, struct flow *f, struct conn *c, enum ev_end end);
void pl_flow_finish_and_remove(struct pipeline *pl, struct flow *f, enum ev_end end);
/* The flow of `key` (one-entry cache first), or NULL. */
struct flow *pl_flow_lookup(struct pipeline *pl, const struct flow_key *key);
/* A packet of `side` belongs to `f`: activity, counters, lookup cache. */
void pl_flow_seen(struct pipeline *pl, struct flow *f, int side, const struct pkt *p);
/* A new flow for `key` with `c` attached (evicting if the table is full);
 * NULL (and c freed) on failure. */
struct flow *pl_flow_create(struct pipeline *pl, const struct flow_key *key, struct conn *c,
                            uint64_t ts_us);
bool pl_tls_event(struct pipeline *pl, struct conn *c, enum tls_event ev, const struct tls_msg *msg);

/* pipeline_udp.c */
void pl_handle_udp(struct pipeline *pl, const struct pkt *p);
/* Free the QUIC/DTLS state (after the event is written). */
void pl_udp_release(struct pipeline *pl, struct conn *c);
/* Fill the QUIC/DTLS parts of an event. */
void pl_udp_event(const struct conn *c, struct conn_report *ev);

#endif
