/*
 * conn.c - the analysis state of one connection (see conn.h).
 */
#include "conn/conn.h"

#include <stdlib.h>
#include <string.h>

#include "tls/certmsg.h"
#include "tls/hello.h"
#include "x509/chain.h"

struct conn *conn_new(struct conn_env *env, uint8_t transport, int client_side)
{
    struct conn *c = memcap_calloc(env->mc, sizeof(*c));
    if (c && !(c->tls = memcap_calloc(env->mc, sizeof(*c->tls)))) {
        memcap_free(env->mc, c, sizeof(*c));
        c = NULL;
    }
    if (!c) {
        stats_cap(env->st, STATS_MEMCAP);
        return NULL;
    }
    tls_session_init(c->tls);
    c->tls->keylog = env->keylog;
    c->transport = transport;
    c->closed_by = -1;
    if (transport == FP_TRANSPORT_QUIC) {
        c->tls->transport = TLS_TRANSPORT_QUIC;
        c->quic = quic_conn_new(env->mc, env->st, client_side);
        if (!c->quic) {
            conn_free(env, c);
            return NULL;
        }
    } else if (transport == FP_TRANSPORT_DTLS) {
        c->tls->transport = TLS_TRANSPORT_DTLS;
        c->dtls = dtls_conn_new(env->mc, env->st);
        if (!c->dtls) {
            conn_free(env, c);
            return NULL;
        }
    }
    return c;
}

void conn_tcp_opening(struct conn_env *env, struct conn *c, const struct pkt *p, int side)
{
    uint8_t fl = p->tcp_flags;
    if (!c->tcp) {
        if ((fl & (TCP_SYN | TCP_ACK)) != TCP_SYN || c->done)
            return;                 /* only a client's SYN opens the record */
        if (!(c->tcp = memcap_calloc(env->mc, sizeof(*c->tcp))))
            return;                 /* counted by the memcap */
        c->tcp->client_side = (uint8_t)side;
    }
    struct tcp_handshake *h = c->tcp;
    bool from_client = side == h->client_side;
    if ((fl & (TCP_SYN | TCP_ACK)) == TCP_SYN && from_client && !h->syn.seen)
        ja4t_read(&h->syn, p->tcp_window, p->ttl, p->tcp_opts, p->tcp_opts_len);
    else if ((fl & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK) && !from_client && !h->synack.seen)
        ja4t_read(&h->synack, p->tcp_window, p->ttl, p->tcp_opts, p->tcp_opts_len);
    ja4l_packet(h, fl, from_client, p->ts_us, p->ttl);
}

void conn_release_analysis(struct conn_env *env, struct conn *c)
{
    if (c->tcp) {
        memcap_free(env->mc, c->tcp, sizeof(*c->tcp));
        c->tcp = NULL;
    }
    for (int i = 0; i < 2; i++) {
        if (c->rs[i]) {
            reasm_release(c->rs[i], env->mc);
            memcap_free(env->mc, c->rs[i], reasm_stream_size());
            c->rs[i] = NULL;
        }
        if (c->ch[i]) {
            ev_client_hello_release(c->ch[i]);
            memcap_free(env->mc, c->ch[i], sizeof(*c->ch[i]));
            c->ch[i] = NULL;
        }
        if (c->sh[i]) {
            ev_server_hello_release(c->sh[i]);
            memcap_free(env->mc, c->sh[i], sizeof(*c->sh[i]));
            c->sh[i] = NULL;
        }
    }
    for (int i = 0; i < 2; i++) {
        if (c->chain[i]) {
            x509_chain_release(env->x509, c->chain[i]);
            memcap_free(env->mc, c->chain[i], sizeof(*c->chain[i]));
            c->chain[i] = NULL;
        }
    }
    if (c->tls) {
        tls_session_release(c->tls, env->mc);
        memcap_free(env->mc, c->tls, sizeof(*c->tls));
        c->tls = NULL;
    }
    /* The whole TLS/QUIC/DTLS state goes once the event is written, so a
     * finished flow that lingers in the table costs only its struct conn. */
    quic_conn_free(c->quic, env->mc);
    c->quic = NULL;
    dtls_conn_free(c->dtls, env->mc);
    c->dtls = NULL;
    c->done = true;
}

void conn_free(struct conn_env *env, struct conn *c)
{
    if (!c)
        return;
    conn_release_analysis(env, c);
    memcap_free(env->mc, c, sizeof(*c));
}

void conn_report_fill(const struct conn *c, const struct flow *f, enum ev_end end,
                      struct conn_report *r)
{
    memset(r, 0, sizeof(*r));
    r->flow = f;
    r->client_side = c->tls->client >= 0 ? c->tls->client : 0;
    r->tls = c->tls;
    r->ch[0] = c->ch[0];
    r->ch[1] = c->ch[1];
    r->sh[0] = c->sh[0];
    r->sh[1] = c->sh[1];
    r->chain = c->chain[0];
    r->client_chain = c->chain[1];
    r->quic = c->quic ? quic_conn_facts(c->quic) : NULL;
    r->dtls = c->dtls ? dtls_conn_facts(c->dtls) : NULL;
    r->tcp = c->tcp;
    r->closed_by = c->closed_by;
    r->end = end;
    const struct tls_post *w = &c->tls->post;
    for (int i = 0; i < 2; i++) {
        r->pkts[i] = w->counted ? w->pkts[i] : f->pkts[i];
        r->bytes[i] = w->counted ? w->bytes[i] : f->bytes[i];
    }
}

/* ---- hellos -> fingerprints -------------------------------------------- */

/* s (n bytes) and its NUL at *at, which moves past them; the copy. */
static char *put_str(uint8_t **at, const char *s, size_t n)
{
    char *d = (char *)*at;
    memcpy(d, s, n + 1);
    *at += n + 1;
    return d;
}

static void record_client_hello(struct conn_env *env, struct conn *c, int idx,
                                const struct tls_hello *h)
{
    env->st->tls_client_hellos++;
    if (idx < 0 || idx > 1 || c->ch[idx])
        return;
    struct ev_client_hello *e = memcap_calloc(env->mc, sizeof(*e));
    if (!e) {
        stats_cap(env->st, STATS_MEMCAP);
        return;
    }
    fp_ja3(h, &env->ja3);
    fp_ja4(h, (enum fp_transport)c->transport, &env->ja4);
    e->present = true;
    memcpy(e->ja3_hash, env->ja3.hash, sizeof(e->ja3_hash));
    memcpy(e->ja4, env->ja4.ja4, sizeof(e->ja4));
    memcpy(e->ja4_o, env->ja4.ja4_o, sizeof(e->ja4_o));
    e->has_sni = h->has_sni;
    e->sni_len = h->sni_len;
    memcpy(e->sni, h->sni, h->sni_len);
    e->has_alpn = h->has_alpn;
    e->ech.present = h->has_ech;
    e->ech.bad = h->ech_bad;
    e->ech.type = h->ech_type;
    e->ech.config_id = h->ech_config_id;
    e->ech.kdf = h->ech_kdf;
    e->ech.aead = h->ech_aead;
    e->ech.enc_len = h->ech_enc_len;
    e->ech.payload_len = h->ech_payload_len;
    e->version = h->legacy_version;

    /* The lists, the ALPN names and the strings, in one allocation. */
    size_t nl = h->n_ciphers + h->n_exts + h->n_sig_algs;
    size_t alpn_total = 0;
    for (size_t i = 0; i < h->n_alpn; i++)
        alpn_total += 1 + (size_t)h->alpn[i].len;
    size_t l3 = strlen(env->ja3.str), lr = strlen(env->ja4.ja4_r),
           lro = strlen(env->ja4.ja4_ro);
    uint8_t *at = malloc(nl * sizeof(uint16_t) + alpn_total + l3 + lr + lro + 3);
    if (!at) {
        c->ch[idx] = e;   /* the strings are written as "", the lists left out */
        return;
    }
    e->heap = at;
    if (nl) {   /* first: the block's alignment */
        uint16_t *l = (uint16_t *)at;
        memcpy(l, h->ciphers, h->n_ciphers * sizeof(uint16_t));
        memcpy(l + h->n_ciphers, h->exts, h->n_exts * sizeof(uint16_t));
        memcpy(l + h->n_ciphers + h->n_exts, h->sig_algs, h->n_sig_algs * sizeof(uint16_t));
        e->lists = l;
        e->n_ciphers = (uint16_t)h->n_ciphers;
        e->n_exts = (uint16_t)h->n_exts;
        e->n_sig_algs = (uint16_t)h->n_sig_algs;
        at += nl * sizeof(uint16_t);
    }
    if (h->n_alpn > 0) {
        e->alpn = at;
        for (size_t i = 0; i < h->n_alpn; i++) {
            *at++ = h->alpn[i].len;
            memcpy(at, h->alpn[i].name, h->alpn[i].len);
            at += h->alpn[i].len;
        }
        e->n_alpn = (uint8_t)h->n_alpn;
        e->alpn_bytes = (uint16_t)alpn_total;
    }
    e->ja3_str = put_str(&at, env->ja3.str, e->ja3_str_len = l3);
    e->ja4_r = put_str(&at, env->ja4.ja4_r, e->ja4_r_len = lr);
    e->ja4_ro = put_str(&at, env->ja4.ja4_ro, e->ja4_ro_len = lro);
    c->ch[idx] = e;
}

static void record_server_hello(struct conn_env *env, struct conn *c, int idx,
                                const struct tls_hello *h)
{
    env->st->tls_server_hellos++;
    if (idx < 0 || idx > 1 || c->sh[idx])
        return;
    struct ev_server_hello *e = memcap_calloc(env->mc, sizeof(*e));
    if (!e) {
        stats_cap(env->st, STATS_MEMCAP);
        return;
    }
    fp_ja3s(h, &env->ja3);
    fp_ja4s(h, (enum fp_transport)c->transport, &env->ja4s);
    e->present = true;
    e->hrr = h->is_hrr;
    e->ech_confirmation = h->is_hrr && h->has_ech && !h->ech_bad;
    memcpy(e->ja3s_hash, env->ja3.hash, sizeof(e->ja3s_hash));
    memcpy(e->ja4s, env->ja4s.ja4s, sizeof(e->ja4s));
    if (h->has_alpn && h->n_alpn > 0) {
        e->has_alpn = true;
        e->alpn_len = h->alpn[0].len;
        memcpy(e->alpn, h->alpn[0].name, h->alpn[0].len);
    }
    e->version = h->legacy_version;
    e->selected_version = h->n_versions ? h->versions[0] : 0;
    e->cipher = h->n_ciphers ? h->ciphers[0] : 0;
    /* The extensions and the strings, in one allocation. */
    size_t l3 = strlen(env->ja3.str), lr = strlen(env->ja4s.ja4s_r);
    uint8_t *at = malloc(h->n_exts * sizeof(uint16_t) + l3 + lr + 2);
    if (at) {
        e->heap = at;
        if (h->n_exts) {
            e->exts = (uint16_t *)at;
            memcpy(e->exts, h->exts, h->n_exts * sizeof(uint16_t));
            e->n_exts = (uint16_t)h->n_exts;
            at += h->n_exts * sizeof(uint16_t);
        }
        e->ja3s_str = put_str(&at, env->ja3.str, e->ja3s_str_len = l3);
        e->ja4s_r = put_str(&at, env->ja4s.ja4s_r, e->ja4s_r_len = lr);
    }
    c->sh[idx] = e;
}

/* The first Certificate message of each side becomes that side's chain. */
static void record_certificate(struct conn_env *env, struct conn *c, const struct tls_msg *m)
{
    int which = m->from_client ? 1 : 0;
    if (!env->x509 || c->chain[which])
        return;
    struct tls_cert_list list;
    if (tls_certmsg_parse(m->body, m->len, m->tls13, &list) != TLS_CERTMSG_OK)
        stats_anomaly(env->st, STATS_TLS_CERTMSG_MALFORMED);   /* keep what parsed */
    struct x509_chain *ch = memcap_calloc(env->mc, sizeof(*ch));
    if (!ch) {
        stats_cap(env->st, STATS_MEMCAP);
        return;
    }
    const struct ev_client_hello *hello = c->ch[1] ? c->ch[1] : c->ch[0];
    bool has_sni = hello && hello->has_sni && hello->sni_len > 0;
    x509_chain_build(env->x509, &list,
                     m->from_client ? X509_PURPOSE_CLIENT_CHAIN : X509_PURPOSE_SERVER_CHAIN,
                     has_sni && !m->from_client, has_sni ? hello->sni : NULL,
                     has_sni ? hello->sni_len : 0, env->pkt_ts_us, ch, env->st);
    c->chain[which] = ch;
}

/* What the TLS session reported: record hellos and certificates.  False
 * when the session wants nothing more for now (NEED_MORE, DONE). */
static bool tls_event(struct conn_env *env, struct conn *c, enum tls_event ev,
                      const struct tls_msg *msg)
{
    switch (ev) {
    case TLS_EV_CLIENT_HELLO:
        record_client_hello(env, c, msg->idx, msg->hello);
        return true;
    case TLS_EV_SERVER_HELLO:
        record_server_hello(env, c, msg->idx, msg->hello);
        return true;
    case TLS_EV_CERTIFICATE:
        env->st->tls_certificate_msgs++;
        record_certificate(env, c, msg);
        return true;
    case TLS_EV_PROGRESS:
        return true;
    case TLS_EV_NEED_MORE:
    case TLS_EV_DONE:
    default:
        return false;
    }
}

/* ---- bytes in ------------------------------------------------------------ */

void conn_drive_stream(struct conn_env *env, struct conn *c, int side)
{
    struct reasm_stream *rs = c->rs[side];
    for (;;) {
        const uint8_t *p;
        size_t n = reasm_peek(rs, &p);
        if (c->tls->post.watching) {
            reasm_consume(rs, tls_session_watch(c->tls, side, p, n, env->pkt_ts_us));
            return;
        }
        size_t used = 0;
        struct tls_msg msg = { .hello = &env->hello, .idx = -1 };
        enum tls_event ev = tls_session_feed(c->tls, env->mc, env->st, side, p, n, &used, &msg);
        reasm_consume(rs, used);
        /* Complete: what follows is read by the watch (the client's data
         * or close), not dropped as a finished direction's bytes are. */
        if (c->tls->progress == TLS_PROGRESS_COMPLETE && c->transport == FP_TRANSPORT_TCP &&
            tls_session_watch_start(c->tls, env->pkt_ts_us))
            continue;
        if (!tls_event(env, c, ev, &msg))
            return;
    }
}

struct feed_ctx {
    struct conn_env *env;
    struct conn *c;
};

static void quic_io(struct conn_env *env, struct conn *c, struct feed_ctx *fc,
                    struct quic_conn_io *io);

/* Bare handshake messages of `side` (QUIC CRYPTO bytes, DTLS reassembled
 * messages) to the TLS session until it has nothing more to say; QUIC
 * also learns of the ClientHello (transport parameters) and the
 * ServerHello (Handshake keys).  Returns the bytes consumed. */
static size_t feed_handshake(void *ctx, int side, const uint8_t *p, size_t n)
{
    struct feed_ctx *fc = ctx;
    struct conn_env *env = fc->env;
    struct conn *c = fc->c;
    size_t off = 0;
    for (;;) {
        size_t used = 0;
        struct tls_msg msg = { .hello = &env->hello, .idx = -1 };
        enum tls_event ev = tls_session_feed_handshake(c->tls, env->mc, env->st, side, p + off,
                                                       n - off, &used, &msg);
        off += used;
        if (ev == TLS_EV_CLIENT_HELLO && c->quic)
            quic_conn_client_hello(c->quic, env->st, &env->hello);
        if (!tls_event(env, c, ev, &msg))
            return off;
        if (ev == TLS_EV_SERVER_HELLO && c->quic) {
            struct quic_conn_io io;
            quic_io(env, c, fc, &io);
            quic_conn_server_hello(c->quic, &io);
        }
    }
}

static void quic_io(struct conn_env *env, struct conn *c, struct feed_ctx *fc,
                    struct quic_conn_io *io)
{
    *io = (struct quic_conn_io){
        .mc = env->mc,
        .st = env->st,
        .keylog = env->keylog,
        .depth = env->depth,
        .plain = env->plain,
        .plain_cap = sizeof(env->plain),
        .tls = c->tls,
        .feed = feed_handshake,
        .ctx = fc,
    };
}

bool conn_quic_start(struct conn_env *env, struct conn *c, int side, const uint8_t *d, size_t n,
                     const struct quic_long_hdr *h)
{
    struct feed_ctx fc = { env, c };
    struct quic_conn_io io;
    quic_io(env, c, &fc, &io);
    return quic_conn_start(c->quic, &io, side, d, n, h);
}

void conn_datagram(struct conn_env *env, struct conn *c, int side, const uint8_t *d, size_t n)
{
    struct feed_ctx fc = { env, c };
    if (c->quic) {
        struct quic_conn_io io;
        quic_io(env, c, &fc, &io);
        quic_conn_datagram(c->quic, &io, side, d, n);
    } else if (c->dtls) {
        struct dtls_conn_io io = {
            .mc = env->mc,
            .st = env->st,
            .tls = c->tls,
            .feed = feed_handshake,
            .ctx = &fc,
        };
        dtls_conn_datagram(c->dtls, &io, side, d, n);
    }
}
