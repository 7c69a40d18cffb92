/*
 * pipeline.c - one packet through every stage (see pipeline.h).
 *
 * Per TCP flow the pipeline keeps a struct conn: TCP endpoint state, one
 * reassembly stream per direction (created on the first payload byte), the
 * TLS session and what each hello contributed to the event.  When the TLS
 * session says it needs nothing more, the event is written, the buffers
 * are freed and the flow stays in the table only as a key: later packets
 * cost one lookup.  A closed flow lingers CFG_FLOW_TIMEOUT_CLOSED seconds
 * to absorb retransmissions, unless a new SYN reuses its ports.
 *
 * Directions are numbered by flow key side (0/1), which the TLS session
 * uses as its own direction numbers; the client is whichever side sent the
 * ClientHello.
 *
 * UDP flows carrying QUIC or DTLS are analysed in pipeline_udp.c with the
 * same struct conn, TLS session, fingerprints and events.
 */
#include "pipeline_priv.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "decode/decode.h"
#include "flow/table.h"
#include "fp/fp.h"
#include "reasm/stream.h"
#include "tls/certmsg.h"
#include "tls/hello.h"
#include "tls/session.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/memcap.h"
#include "x509/chain.h"

struct pipeline *pipeline_new(const struct pipeline_config *cfg)
{
    struct pipeline *pl = calloc(1, sizeof(*pl));
    if (!pl)
        return NULL;
    pl->cfg = *cfg;
    struct hash_key key;
    hash_random_key(&key);
    pl->ft = flow_table_new(cfg->max_flows, &key);
    if (!pl->ft) {
        free(pl);
        return NULL;
    }
    memcap_init(&pl->mc, cfg->memcap);
    return pl;
}

void pipeline_set_report(struct pipeline *pl, pipeline_report_fn fn, void *ctx)
{
    pl->cfg.on_report = fn;
    pl->cfg.report_ctx = ctx;
}

struct stats *pipeline_stats(struct pipeline *pl)
{
    return &pl->st;
}

uint64_t pipeline_last_ts(const struct pipeline *pl)
{
    return pl->now_us;
}

/* ---- per-connection state ---------------------------------------------- */

struct conn *pl_conn_new(struct pipeline *pl)
{
    struct conn *c = memcap_calloc(&pl->mc, sizeof(*c));
    if (!c) {
        stats_cap(&pl->st, STATS_MEMCAP);
        return NULL;
    }
    tls_session_init(&c->tls);
    c->tls.keylog = pl->cfg.keylog;
    c->transport = FP_TRANSPORT_TCP;
    return c;
}

/* Free every buffer of the analysis; the conn itself stays. */
static void conn_release_analysis(struct pipeline *pl, struct conn *c)
{
    for (int i = 0; i < 2; i++) {
        if (c->rs[i]) {
            reasm_release(c->rs[i], &pl->mc);
            memcap_free(&pl->mc, c->rs[i], reasm_stream_size());
            c->rs[i] = NULL;
        }
        if (c->ch[i]) {
            ev_client_hello_release(c->ch[i]);
            memcap_free(&pl->mc, c->ch[i], sizeof(*c->ch[i]));
            c->ch[i] = NULL;
        }
        if (c->sh[i]) {
            ev_server_hello_release(c->sh[i]);
            memcap_free(&pl->mc, c->sh[i], sizeof(*c->sh[i]));
            c->sh[i] = NULL;
        }
    }
    for (int i = 0; i < 2; i++) {
        if (c->chain[i]) {
            x509_chain_release(pl->cfg.x509, c->chain[i]);
            memcap_free(&pl->mc, c->chain[i], sizeof(*c->chain[i]));
            c->chain[i] = NULL;
        }
    }
    tls_session_release(&c->tls, &pl->mc);
    pl_udp_release(pl, c);
    c->done = true;
}

void pl_conn_free(struct pipeline *pl, struct conn *c)
{
    if (!c)
        return;
    conn_release_analysis(pl, c);
    memcap_free(&pl->mc, c, sizeof(*c));
}

/*
 * The analysis of this flow is over for `end`: hand its report to the
 * consumer if it was TLS and none was handed yet, then free its buffers.
 */
void pl_conn_finish(struct pipeline *pl, struct flow *f, struct conn *c, enum ev_end end)
{
    /* TLS records started but no hello ever completed: nothing to report
     * as a connection, but not silently either. */
    if (!c->done && !tls_session_is_tls(&c->tls) &&
        (c->tls.d[0].mode == TLS_DIR_RECORDS || c->tls.d[1].mode == TLS_DIR_RECORDS))
        stats_anomaly(&pl->st, STATS_TLS_HELLO_INCOMPLETE);
    if (!c->emitted && tls_session_is_tls(&c->tls)) {
        struct conn_report ev = {
            .flow = f,
            .client_side = c->tls.client >= 0 ? c->tls.client : 0,
            .tls = &c->tls,
            .ch = { c->ch[0], c->ch[1] },
            .sh = { c->sh[0], c->sh[1] },
            .chain = c->chain[0],
            .client_chain = c->chain[1],
            .end = end,
        };
        pl_udp_event(c, &ev);
        if (pl->cfg.on_report)
            pl->cfg.on_report(pl->cfg.report_ctx, &ev);
        c->emitted = true;
        pl->st.flows_tls++;
        if (c->transport == FP_TRANSPORT_QUIC)
            pl->st.flows_quic++;
        else if (c->transport == FP_TRANSPORT_DTLS)
            pl->st.flows_dtls++;
        if (c->tls.progress == TLS_PROGRESS_COMPLETE)
            pl->st.tls_complete++;
        if (c->tls.tunnel != TLS_TUNNEL_NONE)
            pl->st.tls_tunnelled++;
    }
    if (!c->done)
        conn_release_analysis(pl, c);
}

void pl_flow_finish_and_remove(struct pipeline *pl, struct flow *f, enum ev_end end)
{
    if (pl->last_flow == f)
        pl->last_flow = NULL;
    struct conn *c = f->app;
    if (c) {
        pl_conn_finish(pl, f, c, end);
        pl_conn_free(pl, c);
        f->app = NULL;
    }
    flow_table_remove(pl->ft, f);
}

struct flow *pl_flow_lookup(struct pipeline *pl, const struct flow_key *key)
{
    struct flow *f = pl->last_flow;
    if (!f || memcmp(&f->key, key, sizeof(*key)) != 0)
        f = flow_table_lookup(pl->ft, key);
    return f;
}

void pl_flow_seen(struct pipeline *pl, struct flow *f, int side, const struct pkt *p)
{
    pl->last_flow = f;
    flow_table_touch(pl->ft, f, p->ts_us);
    f->pkts[side]++;
    f->bytes[side] += p->wirelen;
}

struct flow *pl_flow_create(struct pipeline *pl, const struct flow_key *key, struct conn *c,
                            uint64_t ts_us)
{
    if (pl->ft->count >= pl->ft->max) {
        stats_cap(&pl->st, STATS_FLOW_TABLE_FULL);
        size_t n = pl->ft->max * CFG_FLOW_EVICT_PERCENT / 100;
        if (n == 0)
            n = 1;
        while (n-- > 0 && flow_table_oldest(pl->ft)) {
            stats_cap(&pl->st, STATS_FLOW_EVICTED);
            pl_flow_finish_and_remove(pl, flow_table_oldest(pl->ft), EV_END_EVICTED);
        }
    }
    struct flow *f = flow_table_insert(pl->ft, key, ts_us);
    if (!f) {
        pl_conn_free(pl, c);
        stats_cap(&pl->st, STATS_FLOW_TABLE_FULL);
        return NULL;
    }
    f->app = c;
    pl->st.flows++;
    return f;
}

/* ---- hellos -> fingerprints -------------------------------------------- */

static char *dup_str(const char *s)
{
    return strdup(s);   /* NULL on failure; output writes "" then */
}

static void record_client_hello(struct pipeline *pl, struct conn *c, int idx,
                                const struct tls_hello *h)
{
    pl->st.tls_client_hellos++;
    if (idx < 0 || idx > 1 || c->ch[idx])
        return;
    struct ev_client_hello *e = memcap_calloc(&pl->mc, sizeof(*e));
    if (!e) {
        stats_cap(&pl->st, STATS_MEMCAP);
        return;
    }
    fp_ja3(h, &pl->ja3);
    fp_ja4(h, (enum fp_transport)c->transport, &pl->ja4);
    e->present = true;
    memcpy(e->ja3_hash, pl->ja3.hash, sizeof(e->ja3_hash));
    e->ja3_str = dup_str(pl->ja3.str);
    memcpy(e->ja4, pl->ja4.ja4, sizeof(e->ja4));
    memcpy(e->ja4_o, pl->ja4.ja4_o, sizeof(e->ja4_o));
    e->ja4_r = dup_str(pl->ja4.ja4_r);
    e->ja4_ro = dup_str(pl->ja4.ja4_ro);
    e->has_sni = h->has_sni;
    e->sni_len = h->sni_len;
    memcpy(e->sni, h->sni, h->sni_len);
    e->has_alpn = h->has_alpn;
    if (h->n_alpn > 0) {
        size_t total = 0;
        for (size_t i = 0; i < h->n_alpn; i++)
            total += 1 + (size_t)h->alpn[i].len;
        e->alpn = malloc(total);
        if (e->alpn) {
            size_t off = 0;
            for (size_t i = 0; i < h->n_alpn; i++) {
                e->alpn[off++] = h->alpn[i].len;
                memcpy(e->alpn + off, h->alpn[i].name, h->alpn[i].len);
                off += h->alpn[i].len;
            }
            e->n_alpn = (uint8_t)h->n_alpn;
            e->alpn_bytes = (uint16_t)total;
        }
    }
    c->ch[idx] = e;
}

static void record_server_hello(struct pipeline *pl, struct conn *c, int idx,
                                const struct tls_hello *h)
{
    pl->st.tls_server_hellos++;
    if (idx < 0 || idx > 1 || c->sh[idx])
        return;
    struct ev_server_hello *e = memcap_calloc(&pl->mc, sizeof(*e));
    if (!e) {
        stats_cap(&pl->st, STATS_MEMCAP);
        return;
    }
    fp_ja3s(h, &pl->ja3);
    fp_ja4s(h, (enum fp_transport)c->transport, &pl->ja4s);
    e->present = true;
    e->hrr = h->is_hrr;
    memcpy(e->ja3s_hash, pl->ja3.hash, sizeof(e->ja3s_hash));
    e->ja3s_str = dup_str(pl->ja3.str);
    memcpy(e->ja4s, pl->ja4s.ja4s, sizeof(e->ja4s));
    e->ja4s_r = dup_str(pl->ja4s.ja4s_r);
    if (h->has_alpn && h->n_alpn > 0) {
        e->has_alpn = true;
        e->alpn_len = h->alpn[0].len;
        memcpy(e->alpn, h->alpn[0].name, h->alpn[0].len);
    }
    c->sh[idx] = e;
}

/* The first Certificate message of each side becomes that side's chain. */
static void record_certificate(struct pipeline *pl, struct conn *c, const struct tls_msg *m)
{
    int which = m->from_client ? 1 : 0;
    if (!pl->cfg.x509 || c->chain[which])
        return;
    struct tls_cert_list list;
    if (tls_certmsg_parse(m->body, m->len, m->tls13, &list) != TLS_CERTMSG_OK)
        stats_anomaly(&pl->st, STATS_TLS_CERTMSG_MALFORMED);   /* keep what parsed */
    struct x509_chain *ch = memcap_calloc(&pl->mc, sizeof(*ch));
    if (!ch) {
        stats_cap(&pl->st, STATS_MEMCAP);
        return;
    }
    const struct ev_client_hello *hello = c->ch[1] ? c->ch[1] : c->ch[0];
    bool has_sni = hello && hello->has_sni && hello->sni_len > 0;
    x509_chain_build(pl->cfg.x509, &list,
                     m->from_client ? X509_PURPOSE_CLIENT_CHAIN : X509_PURPOSE_SERVER_CHAIN,
                     has_sni && !m->from_client, has_sni ? hello->sni : NULL,
                     has_sni ? hello->sni_len : 0, pl->pkt_ts_us, ch, &pl->st);
    c->chain[which] = ch;
}

/* What the TLS session reported: record hellos and certificates.  False
 * when the session wants nothing more for now (NEED_MORE, DONE). */
bool pl_tls_event(struct pipeline *pl, struct conn *c, enum tls_event ev, const struct tls_msg *msg)
{
    switch (ev) {
    case TLS_EV_CLIENT_HELLO:
        record_client_hello(pl, c, msg->idx, msg->hello);
        return true;
    case TLS_EV_SERVER_HELLO:
        record_server_hello(pl, c, msg->idx, msg->hello);
        return true;
    case TLS_EV_CERTIFICATE:
        pl->st.tls_certificate_msgs++;
        record_certificate(pl, c, msg);
        return true;
    case TLS_EV_PROGRESS:
        return true;
    case TLS_EV_NEED_MORE:
    case TLS_EV_DONE:
    default:
        return false;
    }
}

/* ---- TCP --------------------------------------------------------------- */

/* Hand the contiguous bytes of `side` to the TLS session until it has
 * nothing more to say. */
static void drive_tls(struct pipeline *pl, struct conn *c, int side)
{
    struct reasm_stream *rs = c->rs[side];
    for (;;) {
        const uint8_t *p;
        size_t n = reasm_peek(rs, &p);
        size_t used = 0;
        struct tls_msg msg = { .hello = &pl->hello, .idx = -1 };
        enum tls_event ev = tls_session_feed(&c->tls, &pl->mc, &pl->st, side, p, n, &used, &msg);
        reasm_consume(rs, used);
        if (!pl_tls_event(pl, c, ev, &msg))
            return;
    }
}

static void tcp_payload(struct pipeline *pl, struct conn *c, int side, const struct pkt *p)
{
    if (c->tls.d[side].mode == TLS_DIR_DONE || c->tls.d[side].mode == TLS_DIR_NOT_TLS)
        return;
    struct reasm_stream *rs = c->rs[side];
    if (!rs) {
        rs = memcap_calloc(&pl->mc, reasm_stream_size());
        if (!rs) {
            stats_cap(&pl->st, STATS_MEMCAP);
            return;
        }
        reasm_stream_start(rs, c->syn[side] ? c->isn1[side] : p->seq, pl->cfg.depth);
        c->rs[side] = rs;
    }
    if (reasm_add(rs, &pl->mc, &pl->st, p->seq, p->payload, p->payload_len))
        drive_tls(pl, c, side);
}

static void handle_tcp(struct pipeline *pl, const struct pkt *p)
{
    struct flow_key key;
    int side;
    flow_key_from_pkt(p, &key, &side);
    struct flow *f = pl_flow_lookup(pl, &key);
    uint8_t fl = p->tcp_flags;

    if (!f) {
        /* Stray resets and bare ACKs/FINs do not open a flow. */
        if (!(fl & TCP_SYN) && p->payload_len == 0)
            return;
        struct conn *c = pl_conn_new(pl);
        if (!c || !(f = pl_flow_create(pl, &key, c, p->ts_us)))
            return;
    }
    pl_flow_seen(pl, f, side, p);

    struct conn *c = f->app;
    if (c->closed) {
        if ((fl & (TCP_SYN | TCP_ACK)) == TCP_SYN && !c->syn[side]) {
            /* Port reuse: a new connection on the same addresses. */
            pl_flow_finish_and_remove(pl, f, EV_END_FIN);
            handle_tcp(pl, p);
        } else if (p->payload_len > 0) {
            stats_anomaly(&pl->st, STATS_TCP_DATA_AFTER_CLOSE);
        }
        return;
    }

    if (fl & TCP_SYN) {
        if (!c->syn[side] && !c->rs[side]) {
            c->syn[side] = true;
            c->isn1[side] = p->seq + 1;
        }
    }
    if (!c->done && p->payload_len > 0 && !(fl & TCP_RST)) {
        tcp_payload(pl, c, side, p);
        if (tls_session_finished(&c->tls))
            pl_conn_finish(pl, f, c,
                        c->tls.progress == TLS_PROGRESS_COMPLETE ? EV_END_HANDSHAKE
                                                                   : EV_END_STOPPED);
    }
    if (fl & TCP_FIN)
        c->fin[side] = true;
    if (fl & TCP_RST)
        c->rst = true;
    if (c->rst || (c->fin[0] && c->fin[1])) {
        pl_conn_finish(pl, f, c, c->rst ? EV_END_RST : EV_END_FIN);
        c->closed = true;
    }
}

/* ---- expiry ------------------------------------------------------------ */

static uint64_t flow_timeout_us(const struct flow *f)
{
    const struct conn *c = f->app;
    uint64_t s;
    if (!c || c->closed)
        s = CFG_FLOW_TIMEOUT_CLOSED;
    else if (!c->done && tls_session_is_tls(&c->tls))
        s = CFG_FLOW_TIMEOUT_EST;
    else
        s = CFG_FLOW_TIMEOUT_NEW;
    return s * 1000000ULL;
}

static void expire(struct pipeline *pl, uint64_t now)
{
    const uint64_t min_us = (uint64_t)CFG_FLOW_TIMEOUT_CLOSED * 1000000ULL;
    unsigned examined = 0;
    struct flow *f = flow_table_oldest(pl->ft);
    while (f && examined < CFG_FLOW_EXPIRE_BATCH) {
        struct flow *newer = f->lru_prev;
        uint64_t idle = now > f->last_ts_us ? now - f->last_ts_us : 0;
        if (idle < min_us)
            break;   /* everything newer is younger still */
        if (idle >= flow_timeout_us(f)) {
            const struct conn *c = f->app;
            pl_flow_finish_and_remove(pl, f, c && c->closed ? EV_END_FIN : EV_END_TIMEOUT);
        } else {
            examined++;
        }
        f = newer;
    }
}

void pipeline_tick(struct pipeline *pl, uint64_t now_us)
{
    if (now_us > pl->now_us)
        pl->now_us = now_us;
    if (pl->cfg.external_sweep) {
        expire(pl, pl->now_us);
        return;
    }
    if (pl->now_us >= pl->next_sweep_us) {
        expire(pl, pl->now_us);
        pl->next_sweep_us = pl->now_us + CFG_FLOW_EXPIRE_EVERY * 1000000ULL;
    }
}

void pipeline_packet(struct pipeline *pl, int dlt, uint64_t ts_us, const uint8_t *data,
                     size_t caplen, size_t wirelen)
{
    struct pkt p;
    pl->st.packets++;
    pl->st.bytes += wirelen;
    pl->pkt_ts_us = ts_us;
    if (ts_us > pl->now_us)
        pl->now_us = ts_us;

    enum decode_result r = decode_packet(dlt, data, caplen, wirelen, &p, &pl->st);
    if (r != DECODE_OK) {
        if (r == DECODE_SKIP)
            pl->st.packets_other++;
        return;
    }
    p.ts_us = ts_us;
    if (p.proto == IPPROTO_TCP) {
        pl->st.packets_tcp++;
        handle_tcp(pl, &p);
    } else {
        pl->st.packets_udp++;
        pl_handle_udp(pl, &p);
    }
    if (pl->now_us >= pl->next_sweep_us && !pl->cfg.external_sweep)
        pipeline_tick(pl, pl->now_us);
}

static int cmp_seq(const void *a, const void *b)
{
    const struct flow *fa = *(struct flow *const *)a, *fb = *(struct flow *const *)b;
    return fa->seq < fb->seq ? -1 : fa->seq > fb->seq;
}

void pipeline_flush(struct pipeline *pl)
{
    size_t n = pl->ft->count, i = 0;
    struct flow **all = n ? malloc(n * sizeof(*all)) : NULL;
    if (n && !all) {
        /* No memory to sort: flush in LRU order rather than lose events. */
        while (flow_table_oldest(pl->ft))
            pl_flow_finish_and_remove(pl, flow_table_oldest(pl->ft), EV_END_EOF);
        return;
    }
    for (struct flow *f = pl->ft->lru_head; f && i < n; f = f->lru_next)
        all[i++] = f;
    if (i > 1)
        qsort(all, i, sizeof(*all), cmp_seq);
    for (size_t k = 0; k < i; k++) {
        const struct conn *c = all[k]->app;
        pl_flow_finish_and_remove(pl, all[k], c && c->closed ? EV_END_FIN : EV_END_EOF);
    }
    free(all);
    pl->next_sweep_us = 0;
}

void pipeline_free(struct pipeline *pl)
{
    if (!pl)
        return;
    pipeline_flush(pl);
    flow_table_free(pl->ft);
    free(pl);
}
