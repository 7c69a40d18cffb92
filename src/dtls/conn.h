/*
 * conn.h - one DTLS connection: records to the TLS session.
 *
 * dtls/dtls.c reads records and reassembles handshake fragments; this file
 * is the connection above it: handshake messages go out through io->feed
 * (the TLS session and the recording of hellos and certificates, in
 * conn/conn.c), ChangeCipherSpec, alerts and protected records to the TLS
 * session directly, and a HelloVerifyRequest is recorded (the ClientHello
 * sent again with the cookie is not a second hello).  It knows nothing of
 * flows or of the pipeline.
 */
#ifndef PINSCOPE_DTLS_CONN_H
#define PINSCOPE_DTLS_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "tls/session.h"
#include "util/memcap.h"
#include "util/stats.h"

struct dtls_conn;

/* DTLS details of a connection (tls.dtls). */
struct ev_dtls {
    bool hello_verify_request;
    uint8_t cookie_len;             /* HelloVerifyRequest cookie length */
    uint16_t hvr_version;
    uint32_t retransmissions;       /* handshake messages seen again */
    uint32_t encrypted_records[2];  /* [0] client, [1] server */
};

struct dtls_conn_io {
    struct memcap *mc;
    struct stats *st;
    struct tls_session *tls;       /* the connection's TLS session */
    /* One complete handshake message of `side`, in TLS form. */
    size_t (*feed)(void *ctx, int side, const uint8_t *p, size_t n);
    void *ctx;
};

/* NULL when the memcap is full (counted). */
struct dtls_conn *dtls_conn_new(struct memcap *mc, struct stats *st);
void dtls_conn_free(struct dtls_conn *d, struct memcap *mc);

void dtls_conn_datagram(struct dtls_conn *d, const struct dtls_conn_io *io, int side,
                        const uint8_t *p, size_t n);

/* What the tls event says about DTLS. */
const struct ev_dtls *dtls_conn_facts(const struct dtls_conn *d);

#endif
