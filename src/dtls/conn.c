/*
 * conn.c - one DTLS connection (see conn.h).
 */
#include "dtls/conn.h"

#include "dtls/dtls.h"
#include "util/rd.h"

#define TLS_HS_HELLO_VERIFY_REQUEST 3
#define TLS_CT_HANDSHAKE 22

struct dtls_conn {
    struct ev_dtls ev;
    struct dtls_hs_dir hs[2];
};

struct dtls_conn *dtls_conn_new(struct memcap *mc, struct stats *st)
{
    struct dtls_conn *d = memcap_calloc(mc, sizeof(*d));
    if (!d)
        stats_cap(st, STATS_MEMCAP);
    return d;
}

void dtls_conn_free(struct dtls_conn *d, struct memcap *mc)
{
    if (!d)
        return;
    for (int s = 0; s < 2; s++)
        dtls_hs_release(&d->hs[s], mc);
    memcap_free(mc, d, sizeof(*d));
}

const struct ev_dtls *dtls_conn_facts(const struct dtls_conn *d)
{
    return &d->ev;
}

struct dtls_ctx {
    const struct dtls_conn_io *io;
    struct dtls_conn *d;
    int side;
};

/* One complete handshake message, in TLS form. */
static void on_dtls_message(void *ctx, const uint8_t *msg, size_t len)
{
    struct dtls_ctx *x = ctx;
    const struct dtls_conn_io *io = x->io;
    struct tls_session *t = io->tls;
    if (len >= 4 && msg[0] == TLS_HS_HELLO_VERIFY_REQUEST) {
        struct ev_dtls *e = &x->d->ev;
        if (t->client < 0)
            t->client = (int8_t)(x->side ^ 1);
        t->dtls_hvr = true;
        e->hello_verify_request = true;
        if (dtls_hello_verify_parse(msg + 4, len - 4, &e->hvr_version, &e->cookie_len) != 0)
            stats_anomaly(io->st, STATS_DTLS_FRAGMENT_INVALID);
    }
    io->feed(io->ctx, x->side, msg, len);
}

void dtls_conn_datagram(struct dtls_conn *ds, const struct dtls_conn_io *io, int side,
                        const uint8_t *d, size_t n)
{
    struct tls_session *t = io->tls;
    struct rd r;
    struct dtls_record rec;
    int rc;
    rd_init(&r, d, n);
    while ((rc = dtls_record_next(&r, &rec)) > 0) {
        io->st->packets_dtls++;
        if (rec.type == TLS_CT_HANDSHAKE && !rec.encrypted) {
            struct dtls_ctx x = { io, ds, side };
            struct dtls_hs_dir *hd = &ds->hs[side];
            uint32_t gaps = hd->gaps;
            int e = dtls_hs_add(hd, io->mc, rec.frag, rec.len, on_dtls_message, &x);
            if (e & DTLS_E_MEMCAP)
                stats_cap(io->st, STATS_MEMCAP);
            if (e & DTLS_E_TOO_LARGE)
                stats_cap(io->st, STATS_DTLS_MSG_TOO_LARGE);
            if (e & DTLS_E_SLOTS)
                stats_cap(io->st, STATS_DTLS_REASSEMBLY);
            if (e & ~(DTLS_E_MEMCAP | DTLS_E_TOO_LARGE | DTLS_E_SLOTS))
                stats_anomaly(io->st, STATS_DTLS_FRAGMENT_INVALID);
            if (hd->gaps != gaps)
                stats_anomaly(io->st, STATS_DTLS_HANDSHAKE_GAP);
        } else {
            if (rec.encrypted)
                ds->ev.encrypted_records[t->client >= 0 && side != t->client]++;
            tls_session_dgram_record(t, io->st, side, rec.type, rec.encrypted, rec.frag,
                                     rec.len);
        }
    }
    if (rc < 0)
        stats_anomaly(io->st, STATS_DTLS_RECORD_MALFORMED);
    ds->ev.retransmissions = ds->hs[0].retransmits + ds->hs[1].retransmits;
}

