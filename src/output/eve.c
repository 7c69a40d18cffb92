/*
 * eve.c - EVE JSON serializers (see eve.h).
 *
 * Each event is written front to back with the streaming writer
 * (output/jw.h) straight into the worker's unit buffer: no tree, no
 * allocation per key.  Key order is the order of the calls below, so
 * output is reproducible for the same input.
 *
 * Threads: every mutable thing is in struct eve, one per worker.
 */
#include "output/eve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "flow/id.h"
#include "output/jw.h"
#include "quic/quic.h"
#include "util/hash.h"


void event_format_ts(uint64_t ts_us, char buf[40])
{
    time_t sec = (time_t)(ts_us / 1000000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    size_t n = strftime(buf, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, 40 - n, ".%06u+0000", (unsigned)(ts_us % 1000000));
}

/* Validate UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
static size_t utf8_seq_len(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    if (c < 0x80)
        return c ? 1 : 0;   /* NUL is not kept: it would cut C strings */
    size_t len;
    uint32_t min;
    if ((c & 0xe0) == 0xc0) { len = 2; min = 0x80; }
    else if ((c & 0xf0) == 0xe0) { len = 3; min = 0x800; }
    else if ((c & 0xf8) == 0xf0) { len = 4; min = 0x10000; }
    else return 0;
    if (n < len)
        return 0;
    uint32_t cp = c & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* Copy wire bytes into a NUL-terminated valid UTF-8 string; each byte that
 * is not part of a valid sequence becomes U+FFFD.  Returns true if the
 * input was valid as it was.  `out` needs 3 * n + 1 bytes. */
static bool to_utf8(const uint8_t *p, size_t n, char *out)
{
    bool clean = true;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t l = utf8_seq_len(p + i, n - i);
        if (l == 0) {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
            clean = false;
        } else {
            memcpy(out + o, p + i, l);
            o += l;
            i += l;
        }
    }
    out[o] = '\0';
    return clean;
}

static void add_wire_string(struct jw *w, const char *name, const uint8_t *p, size_t n)
{
    char buf[3 * 256 + 1];
    if (n > 255)
        n = 255;
    bool clean = to_utf8(p, n, buf);
    jw_str(w, name, buf);
    if (!clean) {
        char hname[64];
        snprintf(hname, sizeof(hname), "%s_hex", name);
        jw_hex(w, hname, p, n);
    }
}

/* One ALPN protocol name (at most 255 bytes on the wire). */
static void add_alpn(struct jw *w, const char *key, const uint8_t *p, size_t n)
{
    char buf[3 * 256 + 1];
    to_utf8(p, n > 255 ? 255 : n, buf);
    jw_str(w, key, buf);
}

static void addr_string(const struct flow *f, int side, char *buf, size_t len)
{
    if (f->key.ip_ver == 4)
        inet_ntop(AF_INET, f->key.addr[side], buf, (socklen_t)len);
    else
        inet_ntop(AF_INET6, f->key.addr[side], buf, (socklen_t)len);
}

/* IANA name of a cipher suite from OpenSSL's table, or "0x%04x". */
static const char *cipher_name(SSL *ssl, uint16_t id, char buf[8])
{
    if (ssl) {
        unsigned char b[2] = { (unsigned char)(id >> 8), (unsigned char)id };
        const SSL_CIPHER *c = SSL_CIPHER_find(ssl, b);
        const char *n = c ? SSL_CIPHER_standard_name(c) : NULL;
        if (n)
            return n;
    }
    snprintf(buf, 8, "0x%04x", id);
    return buf;
}

static const char *end_name(enum ev_end e)
{
    switch (e) {
    case EV_END_HANDSHAKE: return "handshake_complete";
    case EV_END_FIN: return "fin";
    case EV_END_RST: return "rst";
    case EV_END_TIMEOUT: return "timeout";
    case EV_END_EOF: return "end_of_input";
    case EV_END_EVICTED: return "evicted";
    case EV_END_STOPPED: return "analysis_stopped";
    default: return "unknown";
    }
}

static void add_client_fps(struct jw *w, const struct ev_client_hello *c)
{
    jw_obj_open(w, "ja3");
    jw_str(w, "hash", c->ja3_hash);
    jw_str(w, "string", c->ja3_str ? c->ja3_str : "");
    jw_obj_close(w);
    jw_str(w, "ja4", c->ja4);
    jw_str(w, "ja4_r", c->ja4_r ? c->ja4_r : "");
    jw_str(w, "ja4_o", c->ja4_o);
    jw_str(w, "ja4_ro", c->ja4_ro ? c->ja4_ro : "");
}

static void add_server_fps(struct jw *w, const struct ev_server_hello *s)
{
    jw_obj_open(w, "ja3s");
    jw_str(w, "hash", s->ja3s_hash);
    jw_str(w, "string", s->ja3s_str ? s->ja3s_str : "");
    jw_obj_close(w);
    jw_str(w, "ja4s", s->ja4s);
    jw_str(w, "ja4s_r", s->ja4s_r ? s->ja4s_r : "");
}

/* ---- certificates ------------------------------------------------------ */

static void add_opt_string(struct jw *w, const char *name, const char *v)
{
    if (v)
        jw_str(w, name, v);
}

static void add_string_list(struct jw *w, const char *name, const struct x509_cert_list *l)
{
    if (l->n == 0)
        return;
    jw_arr_open(w, name);
    for (size_t i = 0; i < l->n; i++)
        jw_str(w, NULL, l->v[i]);
    jw_arr_close(w);
}

static void cert_object(struct jw *w, const struct x509_cert *x)
{
    jw_obj_open(w, NULL);
    jw_str(w, "subject", x->subject.dn ? x->subject.dn : "");
    jw_str(w, "issuer", x->issuer.dn ? x->issuer.dn : "");
    add_opt_string(w, "subject_cn", x->subject.cn);
    add_opt_string(w, "subject_o", x->subject.o);
    add_opt_string(w, "issuer_cn", x->issuer.cn);
    add_opt_string(w, "issuer_o", x->issuer.o);
    add_opt_string(w, "serial", x->serial);
    if (x->not_before.valid)
        jw_str(w, "not_before", x->not_before.iso);
    if (x->not_after.valid)
        jw_str(w, "not_after", x->not_after.iso);
    if (x->has_san) {
        jw_obj_open(w, "san");
        add_string_list(w, "dns", &x->san_dns);
        add_string_list(w, "ip", &x->san_ip);
        add_string_list(w, "email", &x->san_email);
        add_string_list(w, "uri", &x->san_uri);
        jw_obj_close(w);
    }
    jw_str(w, "sha1", x->sha1);
    jw_str(w, "sha256", x->sha256);
    jw_str(w, "spki_sha256", x->spki_sha256);
    jw_obj_open(w, "key");
    jw_str(w, "algorithm", x->key_alg);
    if (x->key_bits > 0)
        jw_uint(w, "bits", (uint64_t)x->key_bits);
    if (x->curve_nist[0])
        jw_str(w, "curve", x->curve_nist);
    else if (x->curve[0])
        jw_str(w, "curve", x->curve);
    jw_obj_close(w);
    jw_str(w, "signature_algorithm", x->sig_alg);
    jw_bool(w, "is_ca", x->is_ca);
    jw_bool(w, "self_signed", x->self_signed);
    add_opt_string(w, "ski", x->skid);
    add_opt_string(w, "aki", x->akid);
    jw_uint(w, "sct_count", x->sct_count);
    jw_str(w, "ja4x", x->ja4x);
    jw_str(w, "ja4x_r", x->ja4x_r ? x->ja4x_r : "");
    jw_obj_close(w);
}

static void chain_array(struct jw *w, const char *key, const struct x509_chain *c)
{
    jw_arr_open(w, key);
    for (size_t i = 0; i < c->n; i++)
        cert_object(w, &c->e[i]->info);
    jw_arr_close(w);
}

/* "ab:cd:..." of a lower-case hex string, upper-cased if asked. */
static void colon_hex(const char *hex, bool upper, char *out, size_t cap)
{
    size_t n = strlen(hex), o = 0;
    size_t start = n % 2;   /* an odd-length serial gets a leading 0 */
    char first[3] = { '0', hex[0], 0 };
    for (size_t i = 0; i < n + start && o + 3 < cap; i += 2) {
        const char *pair = (i == 0 && start) ? first : hex + i - start;
        if (o)
            out[o++] = ':';
        for (int k = 0; k < 2; k++) {
            char ch = pair[k];
            out[o++] = (char)(upper && ch >= 'a' && ch <= 'f' ? ch - 32 : ch);
        }
    }
    out[o] = '\0';
}

/* The leaf's main fields where Suricata EVE puts them. */
static void add_eve_leaf(struct jw *w, const struct x509_cert *x)
{
    char buf[3 * 128 + 1];
    jw_str(w, "subject", x->subject.dn ? x->subject.dn : "");
    jw_str(w, "issuerdn", x->issuer.dn ? x->issuer.dn : "");
    if (x->serial && x->serial[0] != '-' && strlen(x->serial) <= 2 * 64) {
        colon_hex(x->serial, true, buf, sizeof(buf));
        jw_str(w, "serial", buf);
    }
    colon_hex(x->sha1, false, buf, sizeof(buf));
    jw_str(w, "fingerprint", buf);
    if (x->not_before.valid)
        jw_strn(w, "notbefore", x->not_before.iso, 19);
    if (x->not_after.valid)
        jw_strn(w, "notafter", x->not_after.iso, 19);
}

static void add_chain_checks(struct jw *w, const struct x509_chain *c)
{
    jw_obj_open(w, "chain_checks");
    jw_bool(w, "linked", c->linked);
    jw_obj_open(w, "validation");
    jw_str(w, "code", x509_verify_name(c->verify_error));
    jw_str(w, "text", x509_verify_text(c->verify_error));
    if (c->verify_error)
        jw_uint(w, "depth", (uint64_t)c->verify_depth);
    jw_obj_close(w);
    if (c->has_sni)
        jw_bool(w, "sni_match", c->sni_match);
    jw_bool(w, "leaf_shares_issuer_key", c->leaf_shares_issuer_key);
    jw_int(w, "validity_days", c->validity_days);
    jw_int(w, "not_before_age_seconds", c->not_before_age_s);
    if (c->unparsable)
        jw_uint(w, "unparsable_certificates", c->unparsable);
    if (c->total > c->n + c->unparsable)
        jw_uint(w, "certificates_not_kept", c->total - c->n - c->unparsable);
    jw_obj_close(w);
}

/* Why no server chain is shown, or NULL when one is. */
static const char *chain_invisible_reason(const struct conn_report *ev)
{
    const struct tls_session *t = ev->tls;
    if (ev->chain && ev->chain->n > 0)
        return NULL;
    if (ev->chain)
        return "unparsable";             /* a Certificate message, nothing OpenSSL read */
    if (t->version == 0)
        return "not_captured";           /* no ServerHello */
    int server = t->client >= 0 ? t->client ^ 1 : 1;
    if (tls_session_is_13(t)) {
        if (!t->keys_found)
            return "tls13_no_keys";
        if (t->decrypt_error)
            return "tls13_decryption_failed";
        if (t->resumed)
            return "resumed";
        return "not_captured";
    }
    if (t->d[server].ccs && t->n_certificates[server] == 0)
        return "resumed";
    return "not_captured";
}

static void add_client_alpn(struct jw *w, const struct ev_client_hello *c)
{
    jw_arr_open(w, "client");
    size_t off = 0;
    for (unsigned i = 0; i < c->n_alpn && off < c->alpn_bytes; i++) {
        size_t l = c->alpn[off++];
        if (l > (size_t)c->alpn_bytes - off)
            break;
        add_alpn(w, NULL, c->alpn + off, l);
        off += l;
    }
    jw_arr_close(w);
}

struct eve {
    bool deterministic;
    SSL_CTX *ssl_ctx;       /* cipher-suite names from OpenSSL's table */
    SSL *ssl;
    char *buf;              /* the unit: complete lines */
    size_t len, cap;
    struct jw w;            /* the line being written */
};

struct eve *eve_new(bool deterministic)
{
    struct eve *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->deterministic = deterministic;
    e->ssl_ctx = SSL_CTX_new(TLS_method());
    e->ssl = e->ssl_ctx ? SSL_new(e->ssl_ctx) : NULL;
    e->cap = CFG_EVENT_UNIT_INITIAL;
    e->buf = malloc(e->cap);
    if (!e->buf) {
        eve_free(e);
        return NULL;
    }
    return e;
}

void eve_free(struct eve *e)
{
    if (!e)
        return;
    SSL_free(e->ssl);
    SSL_CTX_free(e->ssl_ctx);
    free(e->buf);
    free(e);
}

const char *eve_unit(const struct eve *e, size_t *len)
{
    *len = e->len;
    return e->buf;
}

void eve_unit_reset(struct eve *e)
{
    e->len = 0;
}

/* Start a line at the end of the unit; the root object is open. */
static struct jw *line_begin(struct eve *e)
{
    jw_begin(&e->w, &e->buf, &e->len, &e->cap, CFG_EVENT_UNIT_MAX);
    jw_obj_open(&e->w, NULL);
    return &e->w;
}

/* Close the root object and the line: 0, or -1 when it did not fit
 * CFG_EVENT_UNIT_MAX or memory ran out (nothing added). */
static int line_end(struct eve *e)
{
    jw_obj_close(&e->w);
    return jw_end(&e->w);
}

/* The envelope every per-connection event shares (Suricata EVE). */
static void envelope(struct jw *w, const struct conn_report *ev, const char *type)
{
    const struct flow *f = ev->flow;
    int cs = ev->client_side, ss = cs ^ 1;
    char ts[40], a[INET6_ADDRSTRLEN];
    event_format_ts(f->first_ts_us, ts);
    jw_str(w, "timestamp", ts);
    jw_uint(w, "flow_id", flow_id(f));
    jw_str(w, "event_type", type);
    addr_string(f, cs, a, sizeof(a));
    jw_str(w, "src_ip", a);
    jw_uint(w, "src_port", f->key.port[cs]);
    addr_string(f, ss, a, sizeof(a));
    jw_str(w, "dest_ip", a);
    jw_uint(w, "dest_port", f->key.port[ss]);
    jw_str(w, "proto", f->key.proto == IPPROTO_UDP ? "UDP" : "TCP");
    char cid[COMMUNITY_ID_LEN];
    community_id(f, cid);
    if (cid[0])
        jw_str(w, "community_id", cid);
}

int eve_alert(struct eve *e, const struct conn_report *ev, const struct detect_alert *al)
{
    struct jw *w = line_begin(e);
    envelope(w, ev, "alert");
    jw_obj_open(w, "alert");
    jw_str(w, "action", "allowed");
    jw_uint(w, "gid", 1);
    jw_uint(w, "signature_id", al->sid);
    jw_uint(w, "rev", 1);
    jw_str(w, "signature", al->signature);
    jw_str(w, "category", al->category);
    jw_uint(w, "severity", (uint64_t)al->severity);
    jw_str(w, "confidence", al->confidence);
    jw_str(w, "reason", al->reason);
    jw_obj_open(w, "evidence");
    for (int i = 0; i < al->n_ev; i++)
        jw_str(w, al->ev[i].key, al->ev[i].value);
    jw_obj_close(w);
    if (al->related_flow_id) {
        jw_arr_open(w, "related_flow_ids");
        jw_uint(w, NULL, al->related_flow_id);
        jw_arr_close(w);
    }
    jw_obj_close(w);
    const struct ev_client_hello *ch = ev->ch[0];
    if (ch && ch->present && ch->has_sni) {
        jw_obj_open(w, "tls");
        add_wire_string(w, "sni", ch->sni, ch->sni_len);
        jw_obj_close(w);
    }
    return line_end(e);
}

static void add_quic_version(struct jw *w, const char *name, uint32_t v)
{
    char buf[16];
    jw_str(w, name, quic_version_name(v, buf));
}

static void add_quic(struct jw *w, const struct ev_quic *q)
{
    jw_obj_open(w, "quic");
    add_quic_version(w, "version", q->version);
    if (q->final_version && q->final_version != q->version)
        add_quic_version(w, "final_version", q->final_version);
    if (q->has_tp) {
        jw_arr_open(w, "transport_parameters");
        for (unsigned i = 0; i < q->n_tp; i++)
            jw_uint(w, NULL, q->tp_ids[i]);
        jw_arr_close(w);
        if (q->tp_total > q->n_tp)
            jw_uint(w, "transport_parameters_not_kept", q->tp_total - q->n_tp);
    }
    jw_bool(w, "version_negotiation", q->version_negotiation);
    jw_bool(w, "retry", q->retry);
    if (q->retry)
        jw_bool(w, "retry_verified", q->retry_verified);
    jw_obj_open(w, "packets_decrypted");
    jw_uint(w, "client_initial", q->initial_packets[0]);
    jw_uint(w, "server_initial", q->initial_packets[1]);
    jw_uint(w, "client_handshake", q->handshake_packets[0]);
    jw_uint(w, "server_handshake", q->handshake_packets[1]);
    jw_obj_close(w);
    if (q->undecryptable)
        jw_uint(w, "packets_undecryptable", q->undecryptable);
    if (q->has_close) {
        jw_obj_open(w, "connection_close");
        jw_str(w, "from", q->close_from_client ? "client" : "server");
        jw_uint(w, "error_code", q->close_error);
        if (q->close_error >= 0x100 && q->close_error <= 0x1ff)
            jw_str(w, "tls_alert", tls_alert_name((uint8_t)(q->close_error - 0x100)));
        jw_obj_close(w);
    }
    jw_obj_close(w);
}

static void add_dtls(struct jw *w, const struct ev_dtls *d)
{
    char vb[24];
    jw_obj_open(w, "dtls");
    jw_bool(w, "hello_verify_request", d->hello_verify_request);
    if (d->hello_verify_request) {
        jw_uint(w, "cookie_length", d->cookie_len);
        jw_str(w, "hello_verify_version", tls_version_name(d->hvr_version, vb));
    }
    if (d->retransmissions)
        jw_uint(w, "retransmissions", d->retransmissions);
    jw_obj_open(w, "encrypted_records");
    jw_uint(w, "client", d->encrypted_records[0]);
    jw_uint(w, "server", d->encrypted_records[1]);
    jw_obj_close(w);
    jw_obj_close(w);
}

static void add_tls_alerts(struct jw *w, const struct tls_session *t)
{
    jw_arr_open(w, "alerts");
    for (unsigned i = 0; i < t->n_alerts; i++) {
        const struct tls_alert *al = &t->alerts[i];
        jw_obj_open(w, NULL);
        jw_str(w, "from", al->from_client ? "client" : "server");
        if (al->encrypted) {
            jw_bool(w, "encrypted", true);
        } else {
            if (al->decrypted)
                jw_bool(w, "decrypted", true);
            jw_str(w, "level", al->level == 2 ? "fatal" :
                               al->level == 1 ? "warning" : "unknown");
            jw_str(w, "description", tls_alert_name(al->description));
            jw_uint(w, "code", al->description);
        }
        jw_bool(w, "after_certificate", al->after_certificate);
        jw_obj_close(w);
    }
    jw_arr_close(w);
    if (t->alerts_total > t->n_alerts)
        jw_uint(w, "alerts_dropped", t->alerts_total - t->n_alerts);
}

int eve_tls(struct eve *e, const struct conn_report *ev)
{
    const struct tls_session *t = ev->tls;
    char vb[24];

    struct jw *w = line_begin(e);
    envelope(w, ev, "tls");

    jw_obj_open(w, "tls");
    const struct ev_client_hello *ch = ev->ch[0];
    const struct ev_server_hello *sh = ev->sh[0];
    /* After a HelloRetryRequest the real ServerHello is the second one. */
    const struct ev_server_hello *final_sh = (ev->sh[1] && ev->sh[1]->present) ? ev->sh[1] : sh;

    if (t->version)
        jw_str(w, "version", tls_version_name(t->version, vb));
    if (t->sslv2_version) {
        jw_bool(w, "sslv2_client_hello", true);
        jw_str(w, "client_version", tls_version_name(t->sslv2_version, vb));
    } else if (ch && ch->present) {
        jw_str(w, "client_version", tls_version_name(t->client_version, vb));
    }
    if (ch && ch->present && ch->has_sni)
        add_wire_string(w, "sni", ch->sni, ch->sni_len);
    if ((ch && ch->present && ch->has_alpn) || (final_sh && final_sh->present && final_sh->has_alpn)) {
        jw_obj_open(w, "alpn");
        if (ch && ch->present && ch->has_alpn)
            add_client_alpn(w, ch);
        if (final_sh && final_sh->present && final_sh->has_alpn)
            add_alpn(w, "server", final_sh->alpn, final_sh->alpn_len);
        jw_obj_close(w);
    }
    if (t->has_cipher) {
        char cb[8];
        jw_str(w, "cipher", cipher_name(e->ssl, t->cipher, cb));
    }
    if (ch && ch->present)
        add_client_fps(w, ch);
    else if (!t->sslv2_version)
        jw_bool(w, "client_hello_seen", false);
    if (sh && sh->present)
        add_server_fps(w, sh);
    if (t->tunnel != TLS_TUNNEL_NONE)
        jw_str(w, "tunnel", tls_tunnel_name((enum tls_tunnel)t->tunnel));
    if (ev->client_app)
        jw_str(w, "client_app", ev->client_app);
    if (ev->interception_product)
        jw_str(w, "interception_product", ev->interception_product);
    jw_str(w, "state", tls_progress_name((enum tls_progress)t->progress));
    jw_str(w, "end", end_name(ev->end));

    if (t->hrr || (ev->ch[1] && ev->ch[1]->present)) {
        jw_obj_open(w, "hello_retry");
        if (ev->ch[1] && ev->ch[1]->present) {
            add_client_fps(w, ev->ch[1]);
            if (ev->ch[1]->has_sni)
                add_wire_string(w, "sni", ev->ch[1]->sni, ev->ch[1]->sni_len);
        }
        if (ev->sh[1] && ev->sh[1]->present)
            add_server_fps(w, ev->sh[1]);
        jw_obj_close(w);
    }

    if (ev->quic)
        add_quic(w, ev->quic);
    if (ev->dtls)
        add_dtls(w, ev->dtls);

    if (ev->chain && ev->chain->n > 0)
        add_eve_leaf(w, &ev->chain->e[0]->info);
    const char *why = chain_invisible_reason(ev);
    jw_bool(w, "chain_visible", why == NULL);
    if (why)
        jw_str(w, "chain_invisible_reason", why);
    if (ev->chain && ev->chain->n > 0) {
        chain_array(w, "chain", ev->chain);
        add_chain_checks(w, ev->chain);
    }
    if (ev->client_chain && ev->client_chain->n > 0)
        chain_array(w, "client_chain", ev->client_chain);

    add_tls_alerts(w, t);
    jw_obj_close(w);
    return line_end(e);
}

/* The counters of one stats object; the caller closes it. */
static void stats_fields(struct jw *w, const struct stats *st)
{
    jw_uint(w, "packets", st->packets);
    jw_uint(w, "bytes", st->bytes);
    jw_uint(w, "packets_tcp", st->packets_tcp);
    jw_uint(w, "packets_udp", st->packets_udp);
    jw_uint(w, "packets_quic", st->packets_quic);
    jw_uint(w, "packets_dtls", st->packets_dtls);
    jw_uint(w, "packets_other", st->packets_other);
    jw_uint(w, "flows", st->flows);
    jw_uint(w, "flows_tls", st->flows_tls);
    jw_uint(w, "flows_quic", st->flows_quic);
    jw_uint(w, "flows_dtls", st->flows_dtls);
    jw_uint(w, "tls_events", st->tls_events);
    jw_uint(w, "alerts", st->alerts);
    jw_uint(w, "events_unwritable", st->events_unwritable);
    if (st->certs_dumped || st->certs_dump_failed) {
        jw_uint(w, "certs_dumped", st->certs_dumped);
        jw_uint(w, "certs_dump_failed", st->certs_dump_failed);
    }
    jw_uint(w, "tls_client_hellos", st->tls_client_hellos);
    jw_uint(w, "tls_server_hellos", st->tls_server_hellos);
    jw_uint(w, "tls_complete", st->tls_complete);
    jw_uint(w, "tls_certificate_msgs", st->tls_certificate_msgs);
    jw_uint(w, "tls_tunnelled", st->tls_tunnelled);
    jw_uint(w, "capture_received", st->pcap_received);
    jw_uint(w, "capture_drops", st->pcap_drops);
    jw_uint(w, "capture_ifdrops", st->pcap_ifdrops);
    jw_obj_open(w, "anomalies");
    for (int i = 0; i < STATS_ANOMALY_COUNT; i++)
        if (st->anomalies[i])
            jw_uint(w, stats_anomaly_name((enum stats_anomaly)i), st->anomalies[i]);
    jw_obj_close(w);
    jw_obj_open(w, "caps");
    for (int i = 0; i < STATS_CAP_COUNT; i++)
        if (st->caps[i])
            jw_uint(w, stats_cap_name((enum stats_cap)i), st->caps[i]);
    jw_obj_close(w);
}

int eve_stats(struct eve *e, const struct eve_stats_in *in)
{
    char ts[40];
    struct jw *w = line_begin(e);
    event_format_ts(in->last_ts_us, ts);
    jw_str(w, "timestamp", ts);
    jw_str(w, "event_type", "stats");
    jw_obj_open(w, "stats");
    stats_fields(w, in->total);
    if (!e->deterministic) {
        jw_double(w, "elapsed_seconds", in->elapsed_s);
        if (in->uptime_s > 0)
            jw_uint(w, "uptime_seconds", in->uptime_s);
    }
    if (in->final)
        jw_bool(w, "final", true);
    if (in->n_workers > 1) {
        jw_arr_open(w, "workers");
        for (size_t i = 0; i < in->n_workers; i++) {
            jw_obj_open(w, NULL);
            stats_fields(w, &in->workers[i]);
            jw_obj_close(w);
        }
        jw_arr_close(w);
    }
    if (in->n_sinks > 0) {
        jw_arr_open(w, "sinks");
        for (size_t i = 0; i < in->n_sinks; i++) {
            jw_obj_open(w, NULL);
            jw_str(w, "name", in->sink_names[i]);
            jw_uint(w, "written", in->sinks[i].written);
            jw_uint(w, "dropped", in->sinks[i].dropped);
            jw_uint(w, "errors", in->sinks[i].errors);
            jw_uint(w, "queued_bytes", in->sinks[i].queued);
            jw_obj_close(w);
        }
        jw_arr_close(w);
    }
    jw_obj_close(w);
    return line_end(e);
}

void event_print_summary(FILE *fp, const struct stats *st, double elapsed_s)
{
    fprintf(fp, "pinscope: %llu packets, %llu bytes, %llu flows, %llu TLS connections "
                "(%llu complete, %llu tunnelled), %llu events",
            (unsigned long long)st->packets, (unsigned long long)st->bytes,
            (unsigned long long)st->flows, (unsigned long long)st->flows_tls,
            (unsigned long long)st->tls_complete, (unsigned long long)st->tls_tunnelled,
            (unsigned long long)st->tls_events);
    if (elapsed_s > 0)
        fprintf(fp, " in %.3f s", elapsed_s);
    fputc('\n', fp);
    if (st->pcap_drops || st->pcap_ifdrops)
        fprintf(fp, "pinscope: capture drops: %llu kernel, %llu interface\n",
                (unsigned long long)st->pcap_drops, (unsigned long long)st->pcap_ifdrops);
    bool any = false;
    for (int i = 0; i < STATS_ANOMALY_COUNT; i++) {
        if (!st->anomalies[i])
            continue;
        fprintf(fp, "%s %s=%llu", any ? "," : "pinscope: anomalies:",
                stats_anomaly_name((enum stats_anomaly)i), (unsigned long long)st->anomalies[i]);
        any = true;
    }
    if (any)
        fputc('\n', fp);
    any = false;
    for (int i = 0; i < STATS_CAP_COUNT; i++) {
        if (!st->caps[i])
            continue;
        fprintf(fp, "%s %s=%llu", any ? "," : "pinscope: caps hit:",
                stats_cap_name((enum stats_cap)i), (unsigned long long)st->caps[i]);
        any = true;
    }
    if (any)
        fputc('\n', fp);
}
