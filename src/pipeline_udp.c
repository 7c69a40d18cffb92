/*
 * pipeline_udp.c - QUIC and DTLS flows: the UDP half of the pipeline.
 *
 * A UDP flow is created only when its first datagram is a QUIC client
 * Initial that decrypts, or a DTLS handshake record; any other UDP costs
 * one header test and is only counted.  Both protocols end in the same
 * struct tls_session, fingerprints, certificate chain, detections and tls
 * event as TCP; only the framing differs:
 *
 *   QUIC  datagram -> long-header packets (quic/) -> Initial keys from the
 *         client's first Destination Connection ID, Handshake keys from the
 *         key log -> CRYPTO frames -> one reassembly stream per packet-number
 *         space and direction (reasm/, offsets as sequence numbers) ->
 *         handshake messages -> tls_session_feed_handshake().
 *   DTLS  datagram -> records (dtls/) -> handshake fragments reassembled in
 *         message_seq order -> tls_session_feed_handshake(); CCS, alerts and
 *         protected records -> tls_session_dgram_record().
 *
 * QUIC connection state, per flow (not per connection ID: a client that
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
 *   - The handshake is complete at the client's Handshake-space Finished or
 *     at its first 1-RTT (short header) packet after the ServerHello.
 */
#include "pipeline_priv.h"

#include <netinet/in.h>
#include <string.h>

#include "config.h"
#include "dtls/dtls.h"
#include "quic/quic.h"
#include "tls/keylog.h"
#include "util/rd.h"

#define TLS_HS_HELLO_VERIFY_REQUEST 3
#define TLS_HS_FINISHED 20
#define TLS_CT_ALERT 21
#define TLS_CT_HANDSHAKE 22

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

struct quic_state {
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

struct dtls_state {
    struct ev_dtls ev;
    struct dtls_hs_dir hs[2];
};

/* ---- state lifetime ---------------------------------------------------- */

static void quic_keys_release(struct quic_state *q, int space)
{
    for (int s = 0; s < 2; s++) {
        quic_pp_release(&q->pp[space][s]);
        q->ready[space][s] = false;
    }
}

static void stash_free(struct pipeline *pl, struct quic_state *q)
{
    for (unsigned i = 0; i < q->n_stash; i++)
        memcap_free(&pl->mc, q->stash[i].pkt, q->stash[i].len);
    q->n_stash = 0;
    q->stash_bytes = 0;
}

/* Called once the connection's event is written (or the conn goes): the
 * whole QUIC/DTLS state is freed, so a finished flow that lingers in the
 * table costs only its struct conn. */
void pl_udp_release(struct pipeline *pl, struct conn *c)
{
    if (c->quic) {
        struct quic_state *q = c->quic;
        stash_free(pl, q);
        for (int sp = 0; sp < N_SPACES; sp++) {
            quic_keys_release(q, sp);
            for (int s = 0; s < 2; s++) {
                if (q->cs[sp][s]) {
                    reasm_release(q->cs[sp][s], &pl->mc);
                    memcap_free(&pl->mc, q->cs[sp][s], reasm_stream_size());
                }
            }
        }
        memcap_free(&pl->mc, q, sizeof(*q));
        c->quic = NULL;
    }
    if (c->dtls) {
        for (int s = 0; s < 2; s++)
            dtls_hs_release(&c->dtls->hs[s], &pl->mc);
        memcap_free(&pl->mc, c->dtls, sizeof(*c->dtls));
        c->dtls = NULL;
    }
}

void pl_udp_event(const struct conn *c, struct conn_report *ev)
{
    ev->quic = c->quic ? &c->quic->ev : NULL;
    ev->dtls = c->dtls ? &c->dtls->ev : NULL;
}

/* ---- QUIC -------------------------------------------------------------- */

struct crypto_ctx {
    struct pipeline *pl;
    struct conn *c;
    int space, side;
};

/* A CRYPTO frame: its bytes into the stream of its space and direction. */
static void on_crypto(void *ctx, uint64_t off, const uint8_t *data, size_t len)
{
    struct crypto_ctx *x = ctx;
    struct pipeline *pl = x->pl;
    struct quic_state *q = x->c->quic;
    if (off >= pl->cfg.depth || len > pl->cfg.depth - off) {
        stats_cap(&pl->st, STATS_QUIC_CRYPTO_OFFSET);
        if (off >= pl->cfg.depth)
            return;
        len = (size_t)(pl->cfg.depth - off);
    }
    struct reasm_stream **rs = &q->cs[x->space][x->side];
    if (!*rs) {
        *rs = memcap_calloc(&pl->mc, reasm_stream_size());
        if (!*rs) {
            stats_cap(&pl->st, STATS_MEMCAP);
            return;
        }
        reasm_stream_start(*rs, 0, pl->cfg.depth);
    }
    reasm_add(*rs, &pl->mc, &pl->st, (uint32_t)off, data, len);
}

/* Initial keys of both directions from `dcid`. */
static bool quic_derive_initial(struct quic_state *q, uint32_t version, const uint8_t *dcid,
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
static void quic_handshake_keys(struct pipeline *pl, struct conn *c)
{
    struct quic_state *q = c->quic;
    if (q->hs_keys_tried || !pl->cfg.keylog || !c->tls.have_random || !c->tls.has_cipher)
        return;
    q->hs_keys_tried = true;
    const struct keylog_entry *e = keylog_find(pl->cfg.keylog, c->tls.client_random);
    if (!e)
        return;
    const struct keylog_secret *sec[2];
    sec[q->client] = &e->secret[KEYLOG_CLIENT_HANDSHAKE_TRAFFIC_SECRET];
    sec[q->client ^ 1] = &e->secret[KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET];
    if (!sec[0]->len && !sec[1]->len)
        return;
    c->tls.keys_found = true;
    for (int s = 0; s < 2; s++) {
        if (!sec[s]->len)
            continue;
        int rc = quic_pp_from_secret(&q->pp[SPACE_HANDSHAKE][s], q->version, c->tls.cipher,
                                     sec[s]->v, sec[s]->len);
        if (rc != 0) {
            quic_pp_release(&q->pp[SPACE_HANDSHAKE][s]);
            if (!c->tls.decrypt_error)
                c->tls.decrypt_error = rc;
            stats_anomaly(&pl->st, STATS_QUIC_DECRYPT_FAILED);
            continue;
        }
        q->ready[SPACE_HANDSHAKE][s] = true;
    }
}

/* The client's transport-parameter ids, from the hello in pl->hello. */
static void quic_transport_params(struct pipeline *pl, struct conn *c, const struct tls_hello *h)
{
    struct ev_quic *e = &c->quic->ev;
    if (!h->quic_tp || e->has_tp)
        return;
    e->has_tp = true;
    size_t n = 0, total = 0;
    if (quic_tp_ids(h->quic_tp, h->quic_tp_len, e->tp_ids, EV_QUIC_TP_MAX, &n, &total) != 0)
        stats_anomaly(&pl->st, STATS_QUIC_TRANSPORT_PARAMS_MALFORMED);
    e->n_tp = (uint16_t)n;
    e->tp_total = (uint32_t)total;
}

/* Hand bare handshake messages of `side` (QUIC CRYPTO bytes, DTLS
 * reassembled messages) to the TLS session until it has nothing more to
 * say; QUIC also takes the transport parameters from the ClientHello and
 * the Handshake keys after the ServerHello.  Returns the bytes consumed. */
static size_t feed_handshake(struct pipeline *pl, struct conn *c, int side, const uint8_t *p,
                             size_t n)
{
    size_t off = 0;
    for (;;) {
        size_t used = 0;
        struct tls_msg msg = { .hello = &pl->hello, .idx = -1 };
        enum tls_event ev = tls_session_feed_handshake(&c->tls, &pl->mc, &pl->st, side, p + off,
                                                       n - off, &used, &msg);
        off += used;
        if (ev == TLS_EV_CLIENT_HELLO && c->quic)
            quic_transport_params(pl, c, &pl->hello);
        if (!pl_tls_event(pl, c, ev, &msg))
            return off;
        if (ev == TLS_EV_SERVER_HELLO && c->quic)
            quic_handshake_keys(pl, c);
    }
}

/* Walk the contiguous CRYPTO bytes of one space and direction. */
static void quic_drive(struct pipeline *pl, struct conn *c, int space, int side)
{
    struct reasm_stream *rs = c->quic->cs[space][side];
    const uint8_t *p;
    size_t n;
    if (rs && (n = reasm_peek(rs, &p)) > 0)
        reasm_consume(rs, feed_handshake(pl, c, side, p, n));
}

/* Finished walked in the Handshake space of `side`? */
static bool quic_finished(const struct conn *c, int side)
{
    return c->tls.d[side].last_hs_type == TLS_HS_FINISHED &&
           tls_session_between_messages(&c->tls, side);
}

static void quic_drive_side(struct pipeline *pl, struct conn *c, int side)
{
    struct quic_state *q = c->quic;
    quic_drive(pl, c, SPACE_INITIAL, side);
    /* The Handshake space continues the same message sequence: walk it
     * once the Initial space has delivered a whole hello. */
    if (!q->hs_walk[side] && c->tls.version && q->cs[SPACE_HANDSHAKE][side] &&
        tls_session_between_messages(&c->tls, side))
        q->hs_walk[side] = true;
    if (q->hs_walk[side])
        quic_drive(pl, c, SPACE_HANDSHAKE, side);
    if (!c->tls.version || c->tls.progress == TLS_PROGRESS_COMPLETE)
        return;
    if (side != q->client && quic_finished(c, side) && c->tls.n_certificates[side] == 0)
        c->tls.resumed = true;   /* PSK: no Certificate before the server's Finished */
    if (side == q->client && quic_finished(c, side))
        tls_session_set_complete(&c->tls);
}

/* Keep a Handshake packet until its keys exist (see QUIC_STASH_MAX). */
static void quic_stash(struct pipeline *pl, struct quic_state *q, int side, const uint8_t *pkt,
                       size_t len)
{
    if (q->n_stash >= QUIC_STASH_MAX || len > QUIC_STASH_BYTES - q->stash_bytes) {
        stats_anomaly(&pl->st, STATS_QUIC_HANDSHAKE_BEFORE_KEYS);
        return;
    }
    uint8_t *copy = memcap_calloc(&pl->mc, len);
    if (!copy) {
        stats_cap(&pl->st, STATS_MEMCAP);
        return;
    }
    memcpy(copy, pkt, len);
    q->stash[q->n_stash++] = (struct quic_stashed){ (uint8_t)side, (uint16_t)len, copy };
    q->stash_bytes += (uint32_t)len;
}

static void quic_protected(struct pipeline *pl, struct conn *c, int side, int space,
                           const uint8_t *pkt, const struct quic_long_hdr *h);

/* The keys were looked up: open the kept packets in arrival order (or
 * count them lost when there were no keys for this connection). */
static void quic_replay(struct pipeline *pl, struct conn *c)
{
    struct quic_state *q = c->quic;
    unsigned n = q->n_stash;
    struct quic_stashed kept[QUIC_STASH_MAX];
    memcpy(kept, q->stash, n * sizeof(kept[0]));
    q->n_stash = 0;
    q->stash_bytes = 0;
    for (unsigned i = 0; i < n; i++) {
        struct quic_long_hdr h;
        if (q->ready[SPACE_HANDSHAKE][kept[i].side] &&
            quic_parse_long(kept[i].pkt, kept[i].len, &h) == 0 && h.type == QUIC_PT_HANDSHAKE)
            quic_protected(pl, c, kept[i].side, SPACE_HANDSHAKE, kept[i].pkt, &h);
        else
            stats_anomaly(&pl->st, STATS_QUIC_HANDSHAKE_BEFORE_KEYS);
        memcap_free(&pl->mc, kept[i].pkt, kept[i].len);
    }
}

/* Open one Initial or Handshake packet and hand its frames over. */
static void quic_protected(struct pipeline *pl, struct conn *c, int side, int space,
                           const uint8_t *pkt, const struct quic_long_hdr *h)
{
    struct quic_state *q = c->quic;
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
                                  pl->udp_plain, sizeof(pl->udp_plain), &out_len, &pn);
        if (rc != 0 && client && h->dcid_len > 0 &&
            (h->dcid_len != q->odcid_len || memcmp(h->dcid, q->odcid, h->dcid_len) != 0)) {
            /* Keys from this packet's own DCID: the first Initial was not
             * captured, or a Retry changed the DCID.  Adopted only if they
             * open the packet. */
            struct quic_pp tmp[2];
            memset(tmp, 0, sizeof(tmp));
            if (quic_initial_keys(h->version, h->dcid, h->dcid_len, &tmp[0], &tmp[1]) == 0 &&
                quic_packet_open(&tmp[0], pkt, h->packet_len, h->pn_offset, true, pl->udp_plain,
                                 sizeof(pl->udp_plain), &out_len, &pn) == 0) {
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
            if (pl->cfg.keylog && !q->hs_keys_tried)
                quic_stash(pl, q, side, pkt, h->packet_len);
            return;   /* no key log, or no secrets for this connection */
        }
        rc = quic_packet_open(&q->pp[space][side], pkt, h->packet_len, h->pn_offset, true,
                              pl->udp_plain, sizeof(pl->udp_plain), &out_len, &pn);
        if (rc != 0 && !c->tls.decrypt_error)
            c->tls.decrypt_error = rc;
    }
    if (rc != 0) {
        q->ev.undecryptable++;
        stats_anomaly(&pl->st, STATS_QUIC_DECRYPT_FAILED);
        return;
    }
    if (space == SPACE_INITIAL)
        q->ev.initial_packets[client ? 0 : 1]++;
    else
        q->ev.handshake_packets[client ? 0 : 1]++;

    struct crypto_ctx x = { pl, c, space, side };
    struct quic_frame_info info;
    if (quic_frames_walk(pl->udp_plain, out_len, on_crypto, &x, &info) != 0)
        stats_anomaly(&pl->st, STATS_QUIC_FRAME_INVALID);
    if (info.conn_close && !q->ev.has_close) {
        q->ev.has_close = true;
        q->ev.close_from_client = client;
        q->ev.close_error = info.close_error;
        /* A crypto error carries a TLS alert (RFC 9001 4.8): it joins
         * tls.alerts like an alert record would. */
        if (!info.close_app && info.close_error >= 0x100 && info.close_error <= 0x1ff) {
            uint8_t alert[2] = { 2, (uint8_t)(info.close_error - 0x100) };
            tls_session_dgram_record(&c->tls, &pl->st, side, TLS_CT_ALERT, false, alert, 2);
        }
    }
    /* Walk what arrived now: a ServerHello yields the Handshake keys that
     * the next packet of the same datagram needs. */
    quic_drive_side(pl, c, side);
}

/* A Retry from the server: check it and move the Initial keys. */
static void quic_retry(struct pipeline *pl, struct conn *c, const uint8_t *pkt, size_t len,
                       const struct quic_long_hdr *h)
{
    struct quic_state *q = c->quic;
    q->ev.retry = true;
    q->ev.retry_verified = q->odcid_len > 0 &&
                           quic_retry_verify(pkt, len, h->version, q->odcid, q->odcid_len);
    if (!q->ev.retry_verified) {
        stats_anomaly(&pl->st, STATS_QUIC_RETRY_INTEGRITY);
        return;   /* not a Retry for this connection: keys stay */
    }
    quic_derive_initial(q, h->version, h->scid, h->scid_len);
}

static void quic_datagram(struct pipeline *pl, struct conn *c, int side, const uint8_t *d,
                          size_t n)
{
    struct quic_state *q = c->quic;
    size_t off = 0;
    while (off < n) {
        struct quic_long_hdr h;
        const uint8_t *pkt = d + off;
        int rc = quic_parse_long(pkt, n - off, &h);
        if (rc == QUIC_E_SHORT_HEADER) {
            /* 1-RTT: the client has the server's Finished. */
            if (off == 0 || pkt[0] != 0) {
                if (side == q->client && c->tls.version)
                    tls_session_set_complete(&c->tls);
            }
            break;   /* a short header runs to the end; zeros are padding */
        }
        if (rc != 0) {
            stats_anomaly(&pl->st, STATS_QUIC_PACKET_MALFORMED);
            break;
        }
        pl->st.packets_quic++;
        if (h.type == QUIC_PT_VERSION_NEG) {
            if (side != q->client)
                q->ev.version_negotiation = true;
            break;
        }
        if (h.type == QUIC_PT_RETRY) {
            if (side != q->client)
                quic_retry(pl, c, pkt, h.packet_len, &h);
            break;
        }
        if (h.type == QUIC_PT_INITIAL) {
            quic_protected(pl, c, side, SPACE_INITIAL, pkt, &h);
        } else if (h.type == QUIC_PT_HANDSHAKE) {
            /* The server's encrypted flight went out (what an alert that
             * follows answers), whether or not it can be read. */
            if (side != q->client && c->tls.version)
                c->tls.d[side].appdata = true;
            quic_protected(pl, c, side, SPACE_HANDSHAKE, pkt, &h);
        }
        /* 0-RTT: application data, not ours */
        off += h.packet_len;
    }
    /* Outside the walk above: replaying re-enters the CRYPTO streams. */
    if (q->n_stash && q->hs_keys_tried)
        quic_replay(pl, c);
}

/* First datagram of a flow: a QUIC client Initial? (header test only) */
static bool quic_candidate(const uint8_t *d, size_t n, struct quic_long_hdr *h)
{
    return n >= 7 && (d[0] & 0x80) && quic_parse_long(d, n, h) == 0 &&
           h->type == QUIC_PT_INITIAL && quic_version_kind(h->version) != QUIC_VK_UNKNOWN &&
           h->dcid_len >= 8;
}

/* ---- DTLS -------------------------------------------------------------- */

struct dtls_ctx {
    struct pipeline *pl;
    struct conn *c;
    int side;
};

/* One complete handshake message, in TLS form. */
static void on_dtls_message(void *ctx, const uint8_t *msg, size_t len)
{
    struct dtls_ctx *x = ctx;
    struct pipeline *pl = x->pl;
    struct conn *c = x->c;
    if (len >= 4 && msg[0] == TLS_HS_HELLO_VERIFY_REQUEST) {
        struct ev_dtls *e = &c->dtls->ev;
        if (c->tls.client < 0)
            c->tls.client = (int8_t)(x->side ^ 1);
        c->tls.dtls_hvr = true;
        e->hello_verify_request = true;
        if (dtls_hello_verify_parse(msg + 4, len - 4, &e->hvr_version, &e->cookie_len) != 0)
            stats_anomaly(&pl->st, STATS_DTLS_FRAGMENT_INVALID);
    }
    feed_handshake(pl, c, x->side, msg, len);
}

static void dtls_datagram(struct pipeline *pl, struct conn *c, int side, const uint8_t *d,
                          size_t n)
{
    struct dtls_state *ds = c->dtls;
    struct rd r;
    struct dtls_record rec;
    int rc;
    rd_init(&r, d, n);
    while ((rc = dtls_record_next(&r, &rec)) > 0) {
        pl->st.packets_dtls++;
        if (rec.type == TLS_CT_HANDSHAKE && !rec.encrypted) {
            struct dtls_ctx x = { pl, c, side };
            struct dtls_hs_dir *hd = &ds->hs[side];
            uint32_t gaps = hd->gaps;
            int e = dtls_hs_add(hd, &pl->mc, rec.frag, rec.len, on_dtls_message, &x);
            if (e & DTLS_E_MEMCAP)
                stats_cap(&pl->st, STATS_MEMCAP);
            if (e & DTLS_E_TOO_LARGE)
                stats_cap(&pl->st, STATS_DTLS_MSG_TOO_LARGE);
            if (e & DTLS_E_SLOTS)
                stats_cap(&pl->st, STATS_DTLS_REASSEMBLY);
            if (e & ~(DTLS_E_MEMCAP | DTLS_E_TOO_LARGE | DTLS_E_SLOTS))
                stats_anomaly(&pl->st, STATS_DTLS_FRAGMENT_INVALID);
            if (hd->gaps != gaps)
                stats_anomaly(&pl->st, STATS_DTLS_HANDSHAKE_GAP);
        } else {
            if (rec.encrypted)
                ds->ev.encrypted_records[c->tls.client >= 0 && side != c->tls.client]++;
            tls_session_dgram_record(&c->tls, &pl->st, side, rec.type, rec.encrypted, rec.frag,
                                     rec.len);
        }
    }
    if (rc < 0)
        stats_anomaly(&pl->st, STATS_DTLS_RECORD_MALFORMED);
    ds->ev.retransmissions = ds->hs[0].retransmits + ds->hs[1].retransmits;
}

/* ---- entry ------------------------------------------------------------- */

/* A conn for a new UDP flow of `transport`, or NULL. */
static struct conn *udp_conn_new(struct pipeline *pl, uint8_t transport, int client_side)
{
    struct conn *c = pl_conn_new(pl);
    if (!c)
        return NULL;
    c->transport = transport;
    c->tls.transport = transport == FP_TRANSPORT_QUIC ? TLS_TRANSPORT_QUIC : TLS_TRANSPORT_DTLS;
    if (transport == FP_TRANSPORT_QUIC) {
        c->quic = memcap_calloc(&pl->mc, sizeof(*c->quic));
        if (c->quic)
            c->quic->client = client_side;
    } else {
        c->dtls = memcap_calloc(&pl->mc, sizeof(*c->dtls));
    }
    if (!c->quic && !c->dtls) {
        stats_cap(&pl->st, STATS_MEMCAP);
        pl_conn_free(pl, c);
        return NULL;
    }
    return c;
}

/* After a datagram: write the event once the handshake needs nothing more. */
static void udp_check_finished(struct pipeline *pl, struct flow *f, struct conn *c)
{
    if (tls_session_finished(&c->tls))
        pl_conn_finish(pl, f, c,
                       c->tls.progress == TLS_PROGRESS_COMPLETE ? EV_END_HANDSHAKE : EV_END_STOPPED);
}

/* The first datagram of a 5-tuple not in the table.  A QUIC flow is created
 * only once its client Initial has opened: what merely looks like one (or
 * is a QUIC connection whose first Initial was not captured) costs no flow
 * and writes no event. */
static void udp_first(struct pipeline *pl, const struct pkt *p, const struct flow_key *key,
                      int side)
{
    struct quic_long_hdr h;
    uint8_t transport = 0;
    if (quic_candidate(p->payload, p->payload_len, &h))
        transport = FP_TRANSPORT_QUIC;
    else if (dtls_looks_like_handshake(p->payload, p->payload_len))
        transport = FP_TRANSPORT_DTLS;
    if (!transport)
        return;
    if (p->caplen < p->wirelen) {
        stats_anomaly(&pl->st, STATS_UDP_DATAGRAM_CUT);
        return;
    }
    struct conn *c = udp_conn_new(pl, transport, side);
    if (!c)
        return;
    if (transport == FP_TRANSPORT_QUIC) {
        c->quic->ev.version = h.version;
        quic_derive_initial(c->quic, h.version, h.dcid, h.dcid_len);
        quic_datagram(pl, c, side, p->payload, p->payload_len);
        if (c->quic->ev.initial_packets[0] == 0) {
            stats_anomaly(&pl->st, STATS_QUIC_INITIAL_UNDECRYPTABLE);
            pl_conn_free(pl, c);
            return;
        }
    }
    struct flow *f = pl_flow_create(pl, key, c, p->ts_us);
    if (!f)
        return;   /* c went with it */
    pl_flow_seen(pl, f, side, p);
    if (transport == FP_TRANSPORT_DTLS)
        dtls_datagram(pl, c, side, p->payload, p->payload_len);
    udp_check_finished(pl, f, c);
}

void pl_handle_udp(struct pipeline *pl, const struct pkt *p)
{
    if (p->payload_len == 0)
        return;
    struct flow_key key;
    int side;
    flow_key_from_pkt(p, &key, &side);
    struct flow *f = pl_flow_lookup(pl, &key);
    if (!f) {
        udp_first(pl, p, &key, side);
        return;
    }
    pl_flow_seen(pl, f, side, p);

    struct conn *c = f->app;
    if (!c || c->done)
        return;
    if (p->caplen < p->wirelen) {
        stats_anomaly(&pl->st, STATS_UDP_DATAGRAM_CUT);
        return;
    }
    if (c->quic)
        quic_datagram(pl, c, side, p->payload, p->payload_len);
    else if (c->dtls)
        dtls_datagram(pl, c, side, p->payload, p->payload_len);
    udp_check_finished(pl, f, c);
}
