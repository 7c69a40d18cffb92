/*
 * conn.c - one QUIC connection (see conn.h).
 */
#include "quic/conn.h"

#include <string.h>

#include "reasm/stream.h"
#include "tls/keylog.h"

#define TLS_HS_FINISHED 20
#define TLS_CT_ALERT 21

enum { SPACE_INITIAL = 0, SPACE_HANDSHAKE = 1, N_SPACES = 2 };

/* Handshake packets that arrive before the ServerHello that gives their
 * keys (reordering, a ServerHello split over Initials) are kept, with a key
 * log, until the keys exist: at most this many per connection, and this
 * many bytes in all (through the memcap). */
#define QUIC_STASH_MAX       8
#define QUIC_STASH_BYTES     (16 * 1024)

struct quic_stashed {
    uint8_t side;
    uint16_t len;
    uint8_t *pkt;
};

struct quic_conn {
    struct ev_quic ev;
    int client;                       /* flow key side of the client */
    uint32_t version;                 /* version the Initial keys are for */
    uint8_t odcid[QUIC_MAX_CID];      /* DCID the Initial keys come from */
    uint8_t odcid_len;
    bool ready[N_SPACES][2];          /* pp[space][side] holds keys */
    struct quic_pp pp[N_SPACES][2];
    bool hs_keys_tried;
    bool hs_walk[2];                  /* the Handshake space is being walked, per side */
    uint8_t n_stash;
    uint32_t stash_bytes;
    struct quic_stashed stash[QUIC_STASH_MAX];
    struct reasm_stream *cs[N_SPACES][2];  /* CRYPTO streams */
};

/* ---- lifetime ------------------------------------------------------------ */

static void quic_keys_release(struct quic_conn *q, int space)
{
    for (int s = 0; s < 2; s++) {
        quic_pp_release(&q->pp[space][s]);
        q->ready[space][s] = false;
    }
}

static void stash_free(struct memcap *mc, struct quic_conn *q)
{
    for (unsigned i = 0; i < q->n_stash; i++)
        memcap_free(mc, q->stash[i].pkt, q->stash[i].len);
    q->n_stash = 0;
    q->stash_bytes = 0;
}

struct quic_conn *quic_conn_new(struct memcap *mc, struct stats *st, int client_side)
{
    struct quic_conn *q = memcap_calloc(mc, sizeof(*q));
    if (!q) {
        stats_cap(st, STATS_MEMCAP);
        return NULL;
    }
    q->client = client_side;
    return q;
}

void quic_conn_free(struct quic_conn *q, struct memcap *mc)
{
    if (!q)
        return;
    stash_free(mc, q);
    for (int sp = 0; sp < N_SPACES; sp++) {
        quic_keys_release(q, sp);
        for (int s = 0; s < 2; s++) {
            if (q->cs[sp][s]) {
                reasm_release(q->cs[sp][s], mc);
                memcap_free(mc, q->cs[sp][s], reasm_stream_size());
            }
        }
    }
    memcap_free(mc, q, sizeof(*q));
}

const struct ev_quic *quic_conn_facts(const struct quic_conn *q)
{
    return &q->ev;
}

/* ---- CRYPTO streams -------------------------------------------------------- */

struct crypto_ctx {
    const struct quic_conn_io *io;
    struct quic_conn *q;
    int space, side;
};

/* A CRYPTO frame: its bytes into the stream of its space and direction. */
static void on_crypto(void *ctx, uint64_t off, const uint8_t *data, size_t len)
{
    struct crypto_ctx *x = ctx;
    const struct quic_conn_io *io = x->io;
    if (off >= io->depth || len > io->depth - off) {
        stats_cap(io->st, STATS_QUIC_CRYPTO_OFFSET);
        if (off >= io->depth)
            return;
        len = (size_t)(io->depth - off);
    }
    struct reasm_stream **rs = &x->q->cs[x->space][x->side];
    if (!*rs) {
        *rs = memcap_calloc(io->mc, reasm_stream_size());
        if (!*rs) {
            stats_cap(io->st, STATS_MEMCAP);
            return;
        }
        reasm_stream_start(*rs, 0, io->depth);
    }
    reasm_add(*rs, io->mc, io->st, (uint32_t)off, data, len);
}

/* Initial keys of both directions from `dcid`. */
static bool quic_derive_initial(struct quic_conn *q, uint32_t version, const uint8_t *dcid,
                                size_t dcid_len)
{
    quic_keys_release(q, SPACE_INITIAL);
    int cs = q->client, ss = q->client ^ 1;
    if (quic_initial_keys(version, dcid, dcid_len, &q->pp[SPACE_INITIAL][cs],
                          &q->pp[SPACE_INITIAL][ss]) != 0) {
        quic_keys_release(q, SPACE_INITIAL);
        return false;
    }
    q->ready[SPACE_INITIAL][cs] = q->ready[SPACE_INITIAL][ss] = true;
    q->version = version;
    memcpy(q->odcid, dcid, dcid_len);
    q->odcid_len = (uint8_t)dcid_len;
    return true;
}

/* Handshake keys from the key log, once the ServerHello gave the suite. */
void quic_conn_server_hello(struct quic_conn *q, const struct quic_conn_io *io)
{
    struct tls_session *t = io->tls;
    if (q->hs_keys_tried || !io->keylog || !t->have_random || !t->has_cipher)
        return;
    q->hs_keys_tried = true;
    const struct keylog_entry *e = keylog_find(io->keylog, t->client_random);
    if (!e)
        return;
    struct keylog_secret sec[2];
    sec[q->client] = keylog_entry_secret(e, KEYLOG_CLIENT_HANDSHAKE_TRAFFIC_SECRET);
    sec[q->client ^ 1] = keylog_entry_secret(e, KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET);
    if (!sec[0].len && !sec[1].len)
        return;
    t->keys_found = true;
    for (int s = 0; s < 2; s++) {
        if (!sec[s].len)
            continue;
        int rc = quic_pp_from_secret(&q->pp[SPACE_HANDSHAKE][s], q->version, t->cipher,
                                     sec[s].v, sec[s].len);
        if (rc != 0) {
            quic_pp_release(&q->pp[SPACE_HANDSHAKE][s]);
            if (!t->decrypt_error)
                t->decrypt_error = rc;
            stats_anomaly(io->st, STATS_QUIC_DECRYPT_FAILED);
            continue;
        }
        q->ready[SPACE_HANDSHAKE][s] = true;
    }
}

/* The client's transport-parameter ids, from its ClientHello. */
void quic_conn_client_hello(struct quic_conn *q, struct stats *st, const struct tls_hello *h)
{
    struct ev_quic *e = &q->ev;
    if (!h->quic_tp || e->has_tp)
        return;
    e->has_tp = true;
    size_t n = 0, total = 0;
    if (quic_tp_ids(h->quic_tp, h->quic_tp_len, e->tp_ids, EV_QUIC_TP_MAX, &n, &total) != 0)
        stats_anomaly(st, STATS_QUIC_TRANSPORT_PARAMS_MALFORMED);
    e->n_tp = (uint16_t)n;
    e->tp_total = (uint32_t)total;
}

/* Walk the contiguous CRYPTO bytes of one space and direction. */
static void quic_drive(struct quic_conn *q, const struct quic_conn_io *io, int space, int side)
{
    struct reasm_stream *rs = q->cs[space][side];
    const uint8_t *p;
    size_t n;
    if (rs && (n = reasm_peek(rs, &p)) > 0)
        reasm_consume(rs, io->feed(io->ctx, side, p, n));
}

/* Finished walked in the Handshake space of `side`? */
static bool quic_finished(const struct tls_session *t, int side)
{
    return t->d[side].last_hs_type == TLS_HS_FINISHED && tls_session_between_messages(t, side);
}

static void quic_drive_side(struct quic_conn *q, const struct quic_conn_io *io, int side)
{
    struct tls_session *t = io->tls;
    quic_drive(q, io, SPACE_INITIAL, side);
    /* The Handshake space continues the same message sequence: walk it
     * once the Initial space has delivered a whole hello. */
    if (!q->hs_walk[side] && t->version && q->cs[SPACE_HANDSHAKE][side] &&
        tls_session_between_messages(t, side))
        q->hs_walk[side] = true;
    if (q->hs_walk[side])
        quic_drive(q, io, SPACE_HANDSHAKE, side);
    if (!t->version || t->progress == TLS_PROGRESS_COMPLETE)
        return;
    if (side != q->client && quic_finished(t, side) && t->n_certificates[side] == 0)
        t->resumed = true;   /* PSK: no Certificate before the server's Finished */
    if (side == q->client && quic_finished(t, side))
        tls_session_set_complete(t);
}

/* Keep a Handshake packet until its keys exist (see QUIC_STASH_MAX). */
static void quic_stash(const struct quic_conn_io *io, struct quic_conn *q, int side, const uint8_t *pkt,
                       size_t len)
{
    if (q->n_stash >= QUIC_STASH_MAX || len > QUIC_STASH_BYTES - q->stash_bytes) {
        stats_anomaly(io->st, STATS_QUIC_HANDSHAKE_BEFORE_KEYS);
        return;
    }
    uint8_t *copy = memcap_calloc(io->mc, len);
    if (!copy) {
        stats_cap(io->st, STATS_MEMCAP);
        return;
    }
    memcpy(copy, pkt, len);
    q->stash[q->n_stash++] = (struct quic_stashed){ (uint8_t)side, (uint16_t)len, copy };
    q->stash_bytes += (uint32_t)len;
}

static void quic_protected(struct quic_conn *q, const struct quic_conn_io *io, int side,
                           int space, const uint8_t *pkt, const struct quic_long_hdr *h);

/* The keys were looked up: open the kept packets in arrival order (or
 * count them lost when there were no keys for this connection). */
static void quic_replay(struct quic_conn *q, const struct quic_conn_io *io)
{
    unsigned n = q->n_stash;
    struct quic_stashed kept[QUIC_STASH_MAX];
    memcpy(kept, q->stash, n * sizeof(kept[0]));
    q->n_stash = 0;
    q->stash_bytes = 0;
    for (unsigned i = 0; i < n; i++) {
        struct quic_long_hdr h;
        if (q->ready[SPACE_HANDSHAKE][kept[i].side] &&
            quic_parse_long(kept[i].pkt, kept[i].len, &h) == 0 && h.type == QUIC_PT_HANDSHAKE)
            quic_protected(q, io, kept[i].side, SPACE_HANDSHAKE, kept[i].pkt, &h);
        else
            stats_anomaly(io->st, STATS_QUIC_HANDSHAKE_BEFORE_KEYS);
        memcap_free(io->mc, kept[i].pkt, kept[i].len);
    }
}

/* Open one Initial or Handshake packet and hand its frames over. */
static void quic_protected(struct quic_conn *q, const struct quic_conn_io *io, int side,
                           int space, const uint8_t *pkt, const struct quic_long_hdr *h)
{
    struct tls_session *t = io->tls;
    bool client = side == q->client;
    size_t out_len = 0;
    uint64_t pn = 0;
    int rc = -1;

    if (space == SPACE_INITIAL) {
        if (client && h->version != q->version) {
            /* After Version Negotiation: the keys follow the new version. */
            if (q->ev.version)
                q->ev.final_version = h->version;
            quic_derive_initial(q, h->version, q->odcid_len ? q->odcid : h->dcid,
                                q->odcid_len ? q->odcid_len : h->dcid_len);
        }
        if (q->ready[space][side])
            rc = quic_packet_open(&q->pp[space][side], pkt, h->packet_len, h->pn_offset, true,
                                  io->plain, io->plain_cap, &out_len, &pn);
        if (rc != 0 && client && h->dcid_len > 0 &&
            (h->dcid_len != q->odcid_len || memcmp(h->dcid, q->odcid, h->dcid_len) != 0)) {
            /* Keys from this packet's own DCID: the first Initial was not
             * captured, or a Retry changed the DCID.  Adopted only if they
             * open the packet. */
            struct quic_pp tmp[2];
            memset(tmp, 0, sizeof(tmp));
            if (quic_initial_keys(h->version, h->dcid, h->dcid_len, &tmp[0], &tmp[1]) == 0 &&
                quic_packet_open(&tmp[0], pkt, h->packet_len, h->pn_offset, true, io->plain,
                                 io->plain_cap, &out_len, &pn) == 0) {
                quic_keys_release(q, SPACE_INITIAL);
                q->pp[SPACE_INITIAL][side] = tmp[0];
                q->pp[SPACE_INITIAL][side ^ 1] = tmp[1];
                q->ready[SPACE_INITIAL][0] = q->ready[SPACE_INITIAL][1] = true;
                q->version = h->version;
                memcpy(q->odcid, h->dcid, h->dcid_len);
                q->odcid_len = h->dcid_len;
                rc = 0;
            } else {
                quic_pp_release(&tmp[0]);
                quic_pp_release(&tmp[1]);
            }
        }
    } else {
        if (!q->ready[space][side]) {
            if (io->keylog && !q->hs_keys_tried)
                quic_stash(io, q, side, pkt, h->packet_len);
            return;   /* no key log, or no secrets for this connection */
        }
        rc = quic_packet_open(&q->pp[space][side], pkt, h->packet_len, h->pn_offset, true,
                              io->plain, io->plain_cap, &out_len, &pn);
        if (rc != 0 && !t->decrypt_error)
            t->decrypt_error = rc;
    }
    if (rc != 0) {
        q->ev.undecryptable++;
        stats_anomaly(io->st, STATS_QUIC_DECRYPT_FAILED);
        return;
    }
    if (space == SPACE_INITIAL)
        q->ev.initial_packets[client ? 0 : 1]++;
    else
        q->ev.handshake_packets[client ? 0 : 1]++;

    struct crypto_ctx x = { io, q, space, side };
    struct quic_frame_info info;
    if (quic_frames_walk(io->plain, out_len, on_crypto, &x, &info) != 0)
        stats_anomaly(io->st, STATS_QUIC_FRAME_INVALID);
    if (info.conn_close && !q->ev.has_close) {
        q->ev.has_close = true;
        q->ev.close_from_client = client;
        q->ev.close_error = info.close_error;
        /* A crypto error carries a TLS alert (RFC 9001 4.8): it joins
         * tls.alerts like an alert record would. */
        if (!info.close_app && info.close_error >= 0x100 && info.close_error <= 0x1ff) {
            uint8_t alert[2] = { 2, (uint8_t)(info.close_error - 0x100) };
            tls_session_dgram_record(t, io->st, side, TLS_CT_ALERT, false, alert, 2);
        }
    }
    /* Walk what arrived now: a ServerHello yields the Handshake keys that
     * the next packet of the same datagram needs. */
    quic_drive_side(q, io, side);
}

/* A Retry from the server: check it and move the Initial keys. */
static void quic_retry(struct quic_conn *q, const struct quic_conn_io *io, const uint8_t *pkt,
                       size_t len, const struct quic_long_hdr *h)
{
    q->ev.retry = true;
    q->ev.retry_verified = q->odcid_len > 0 &&
                           quic_retry_verify(pkt, len, h->version, q->odcid, q->odcid_len);
    if (!q->ev.retry_verified) {
        stats_anomaly(io->st, STATS_QUIC_RETRY_INTEGRITY);
        return;   /* not a Retry for this connection: keys stay */
    }
    quic_derive_initial(q, h->version, h->scid, h->scid_len);
}

void quic_conn_datagram(struct quic_conn *q, const struct quic_conn_io *io, int side,
                        const uint8_t *d, size_t n)
{
    struct tls_session *t = io->tls;
    size_t off = 0;
    while (off < n) {
        struct quic_long_hdr h;
        const uint8_t *pkt = d + off;
        int rc = quic_parse_long(pkt, n - off, &h);
        if (rc == QUIC_E_SHORT_HEADER) {
            /* 1-RTT: the client has the server's Finished. */
            if (off == 0 || pkt[0] != 0) {
                if (side == q->client && t->version)
                    tls_session_set_complete(t);
            }
            break;   /* a short header runs to the end; zeros are padding */
        }
        if (rc != 0) {
            stats_anomaly(io->st, STATS_QUIC_PACKET_MALFORMED);
            break;
        }
        io->st->packets_quic++;
        if (h.type == QUIC_PT_VERSION_NEG) {
            if (side != q->client)
                q->ev.version_negotiation = true;
            break;
        }
        if (h.type == QUIC_PT_RETRY) {
            if (side != q->client)
                quic_retry(q, io, pkt, h.packet_len, &h);
            break;
        }
        if (h.type == QUIC_PT_INITIAL) {
            quic_protected(q, io, side, SPACE_INITIAL, pkt, &h);
        } else if (h.type == QUIC_PT_HANDSHAKE) {
            /* The server's encrypted flight went out (what an alert that
             * follows answers), whether or not it can be read. */
            if (side != q->client && t->version)
                t->d[side].appdata = true;
            quic_protected(q, io, side, SPACE_HANDSHAKE, pkt, &h);
        }
        /* 0-RTT: application data, not ours */
        off += h.packet_len;
    }
    /* Outside the walk above: replaying re-enters the CRYPTO streams. */
    if (q->n_stash && q->hs_keys_tried)
        quic_replay(q, io);
}

/* First datagram of a flow: a QUIC client Initial? (header test only) */
bool quic_conn_candidate(const uint8_t *d, size_t n, struct quic_long_hdr *h)
{
    return n >= 7 && (d[0] & 0x80) && quic_parse_long(d, n, h) == 0 &&
           h->type == QUIC_PT_INITIAL && quic_version_kind(h->version) != QUIC_VK_UNKNOWN &&
           h->dcid_len >= 8;
}

bool quic_conn_start(struct quic_conn *q, const struct quic_conn_io *io, int side,
                     const uint8_t *d, size_t n, const struct quic_long_hdr *h)
{
    q->ev.version = h->version;
    quic_derive_initial(q, h->version, h->dcid, h->dcid_len);
    quic_conn_datagram(q, io, side, d, n);
    if (q->ev.initial_packets[0] == 0) {
        stats_anomaly(io->st, STATS_QUIC_INITIAL_UNDECRYPTABLE);
        return false;
    }
    return true;
}
