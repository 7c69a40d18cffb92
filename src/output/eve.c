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

struct eve {
    struct eve_config cfg;
    const char *pcap_filename;
    SSL_CTX *ssl_ctx;       /* cipher-suite names from OpenSSL's table */
    SSL *ssl;
    char *buf;              /* the unit: complete lines */
    size_t len, cap;
    struct jw w;            /* the line being written */
    struct geoip_cache *geo;  /* this worker's answers (cfg.geoip set) */
};

struct eve *eve_new(const struct eve_config *cfg)
{
    struct eve *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->cfg = *cfg;
    e->ssl_ctx = SSL_CTX_new(TLS_method());
    e->ssl = e->ssl_ctx ? SSL_new(e->ssl_ctx) : NULL;
    e->cap = CFG_EVENT_UNIT_INITIAL;
    e->buf = malloc(e->cap);
    if (cfg->geoip && !(e->geo = geoip_cache_new(CFG_GEOIP_CACHE_SLOTS))) {
        eve_free(e);
        return NULL;
    }
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
    geoip_cache_free(e->geo);
    free(e->buf);
    free(e);
}

void eve_set_pcap_filename(struct eve *e, const char *path)
{
    if (path && strcmp(path, "-") == 0)
        path = NULL;   /* standard input has no name */
    if (path && e->cfg.deterministic) {
        const char *slash = strrchr(path, '/');
        if (slash && slash[1])
            path = slash + 1;
    }
    e->pcap_filename = path;
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

/* ---- the event header ---------------------------------------------------- */

enum app { APP_TLS, APP_QUIC, APP_DTLS };

static enum app app_of(const struct conn_report *ev)
{
    return ev->quic ? APP_QUIC : ev->dtls ? APP_DTLS : APP_TLS;
}

static const char *const app_name[] = { "tls", "quic", "dtls" };

/* One endpoint's location and network, with ECS's names (source.geo.*,
 * source.as.*) under src_geoip / dest_geoip. */
static void add_geoip(struct eve *e, const char *key, const struct flow *f, int side)
{
    const struct geoip_info *g =
        geoip_lookup(e->cfg.geoip, e->geo, f->key.ip_ver, f->key.addr[side]);
    if (!g || !g->found)
        return;
    struct jw *w = &e->w;
    jw_obj_open(w, key);
    if (g->country_iso[0] || g->city[0] || g->has_location) {
        jw_obj_open(w, "geo");
        if (g->continent[0])
            jw_str(w, "continent_code", g->continent);
        if (g->country_iso[0])
            jw_str(w, "country_iso_code", g->country_iso);
        if (g->country_name[0])
            jw_str(w, "country_name", g->country_name);
        if (g->region[0])
            jw_str(w, "region_name", g->region);
        if (g->city[0])
            jw_str(w, "city_name", g->city);
        if (g->has_location) {
            jw_obj_open(w, "location");
            jw_double(w, "lat", g->lat);
            jw_double(w, "lon", g->lon);
            jw_obj_close(w);
        }
        jw_obj_close(w);
    }
    if (g->asn || g->as_org[0]) {
        jw_obj_open(w, "as");
        if (g->asn)
            jw_uint(w, "number", g->asn);
        if (g->as_org[0]) {
            jw_obj_open(w, "organization");
            jw_str(w, "name", g->as_org);
            jw_obj_close(w);
        }
        jw_obj_close(w);
    }
    jw_obj_close(w);
}

/* The header every per-connection event shares, in Suricata's names. */
static void envelope(struct eve *e, const struct conn_report *ev, const char *type)
{
    struct jw *w = &e->w;
    const struct flow *f = ev->flow;
    int cs = ev->client_side, ss = cs ^ 1;
    char ts[40], a[INET6_ADDRSTRLEN];
    event_format_ts(f->first_ts_us, ts);
    jw_str(w, "timestamp", ts);
    jw_uint(w, "flow_id", flow_id(f));
    if (e->cfg.in_iface)
        jw_str(w, "in_iface", e->cfg.in_iface);
    if (e->pcap_filename)
        jw_str(w, "pcap_filename", e->pcap_filename);
    jw_str(w, "event_type", type);
    if (f->n_vlan) {
        jw_arr_open(w, "vlan");
        for (unsigned i = 0; i < f->n_vlan; i++)
            jw_uint(w, NULL, f->vlan[i]);
        jw_arr_close(w);
    }
    addr_string(f, cs, a, sizeof(a));
    jw_str(w, "src_ip", a);
    jw_uint(w, "src_port", f->key.port[cs]);
    addr_string(f, ss, a, sizeof(a));
    jw_str(w, "dest_ip", a);
    jw_uint(w, "dest_port", f->key.port[ss]);
    jw_str(w, "proto", f->key.proto == IPPROTO_UDP ? "UDP" : "TCP");
    char cid[COMMUNITY_ID_LEN];
    community_id(f, e->cfg.community_id_seed, cid);
    if (cid[0])
        jw_str(w, "community_id", cid);
    jw_str(w, "app_proto", app_name[app_of(ev)]);
    if (e->cfg.host)
        jw_str(w, "host", e->cfg.host);
    if (e->cfg.geoip) {
        add_geoip(e, "src_geoip", f, cs);
        add_geoip(e, "dest_geoip", f, ss);
    }
}

/* ---- the application objects --------------------------------------------- */

static void add_u16_list(struct jw *w, const char *key, const uint16_t *v, size_t n)
{
    if (n == 0)
        return;   /* Suricata's schema: at least one item */
    jw_arr_open(w, key);
    for (size_t i = 0; i < n; i++)
        jw_uint(w, NULL, v[i]);
    jw_arr_close(w);
}

/* Suricata's subjectaltname: DNS names, then IP addresses, as strings. */
static void add_subjectaltname(struct jw *w, const struct x509_cert *x)
{
    if (!x->has_san || x->san_dns.n + x->san_ip.n == 0)
        return;
    jw_arr_open(w, "subjectaltname");
    for (size_t i = 0; i < x->san_dns.n; i++)
        jw_str(w, NULL, x->san_dns.v[i]);
    for (size_t i = 0; i < x->san_ip.n; i++)
        jw_str(w, NULL, x->san_ip.v[i]);
    jw_arr_close(w);
}

/* The leaf's fields and the chain as Suricata writes them: DNs in its
 * order, colon hex, the certificates as base64 DER, leaf first. */
static void add_suricata_cert(struct jw *w, const struct x509_chain *c)
{
    const struct x509_cert *x = &c->e[0]->info;
    char buf[3 * 128 + 1];
    jw_str(w, "subject", x->subject.dn_eve ? x->subject.dn_eve : "");
    jw_str(w, "issuerdn", x->issuer.dn_eve ? x->issuer.dn_eve : "");
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
    add_subjectaltname(w, x);
    /* Suricata's tls.certificate repeats chain[0]; Suricata itself warns
     * against logging both, so only the chain is written. */
    jw_arr_open(w, "chain");
    for (size_t i = 0; i < c->n; i++)
        jw_base64(w, NULL, c->e[i]->der, c->e[i]->der_len);
    jw_arr_close(w);
}

/* Suricata's tls.version: the negotiated version, else the ClientHello's,
 * else UNDETERMINED; TLS 1.3 drafts named as Suricata names them. */
static const char *suricata_version(uint16_t v, char buf[24])
{
    if (v == 0)
        return "UNDETERMINED";
    if ((v >> 8) == 0x7f) {
        unsigned d = v & 0xff;
        if (d < 16)
            return "TLS 1.3 draft-<16";
        snprintf(buf, 24, "TLS 1.3 draft-%u", d);
        return buf;
    }
    switch (v) {
    case 0xfb14: return "TLS 1.3 draft-20-fb";
    case 0xfb15: return "TLS 1.3 draft-21-fb";
    case 0xfb16: return "TLS 1.3 draft-22-fb";
    case 0xfb17: return "TLS 1.3 draft-23-fb";
    case 0xfb1a: return "TLS 1.3 draft-26-fb";
    default: return tls_version_name(v, buf);
    }
}

static void add_alpn_list(struct jw *w, const char *key, const struct ev_client_hello *c)
{
    jw_arr_open(w, key);
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

static void add_handshakes(struct jw *w, const struct tls_session *t,
                           const struct ev_client_hello *ch, const struct ev_server_hello *sh)
{
    char vb[24];
    if (ch) {
        jw_obj_open(w, "client_handshake");
        jw_str(w, "version", suricata_version(ch->version, vb));
        if (ch->lists) {
            add_u16_list(w, "ciphers", ch->lists, ch->n_ciphers);
            add_u16_list(w, "exts", ch->lists + ch->n_ciphers, ch->n_exts);
            add_u16_list(w, "sig_algs", ch->lists + ch->n_ciphers + ch->n_exts, ch->n_sig_algs);
        }
        jw_obj_close(w);
    }
    if (sh) {
        jw_obj_open(w, "server_handshake");
        jw_str(w, "version", suricata_version(sh->selected_version ? sh->selected_version
                                                                   : sh->version, vb));
        jw_uint(w, "cipher", sh->cipher);
        if (sh->exts)
            add_u16_list(w, "exts", sh->exts, sh->n_exts);
        jw_obj_close(w);
    }
    (void)t;
}

static void add_quic_version(struct jw *w, const char *name, uint32_t v)
{
    char buf[16];
    jw_str(w, name, quic_version_name(v, buf));
}

/* Suricata's quic object (version, sni, ja3, ja3s, ja4, extensions), then
 * pinscope's facts about the QUIC connection. */
static void add_quic(struct jw *w, const struct conn_report *ev)
{
    const struct ev_quic *q = ev->quic;
    const struct ev_client_hello *ch = conn_report_ch(ev);
    const struct ev_server_hello *sh = ev->sh[0] && ev->sh[0]->present ? ev->sh[0] : NULL;
    jw_obj_open(w, "quic");
    add_quic_version(w, "version", q->version);
    if (ch && ch->has_sni)
        add_wire_string(w, "sni", ch->sni, ch->sni_len);
    if (ch) {
        jw_obj_open(w, "ja3");
        jw_str(w, "hash", ch->ja3_hash);
        jw_str(w, "string", ch->ja3_str ? ch->ja3_str : "");
        jw_obj_close(w);
        jw_str(w, "ja4", ch->ja4);
    }
    if (sh) {
        jw_obj_open(w, "ja3s");
        jw_str(w, "hash", sh->ja3s_hash);
        jw_str(w, "string", sh->ja3s_str ? sh->ja3s_str : "");
        jw_obj_close(w);
    }
    if (ch && ch->lists && ch->n_exts) {
        jw_arr_open(w, "extensions");
        const uint16_t *ex = ch->lists + ch->n_ciphers;
        for (unsigned i = 0; i < ch->n_exts; i++) {
            jw_obj_open(w, NULL);
            jw_uint(w, "type", ex[i]);
            if (ex[i] == 0 && ch->has_sni) {
                jw_arr_open(w, "values");
                add_wire_string(w, NULL, ch->sni, ch->sni_len);
                jw_arr_close(w);
            } else if (ex[i] == 16 && ch->n_alpn) {
                add_alpn_list(w, "values", ch);
            }
            jw_obj_close(w);
        }
        jw_arr_close(w);
    }
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

/*
 * The tls object: first every key Suricata's schema defines, with its
 * type and format; then pinscope's own keys, which Suricata does not
 * define (the full certificate objects are under x509_chain).
 */
static void add_tls(struct eve *e, const struct conn_report *ev)
{
    struct jw *w = &e->w;
    const struct tls_session *t = ev->tls;
    const struct ev_client_hello *ch = conn_report_ch(ev);
    const struct ev_server_hello *sh = ev->sh[0] && ev->sh[0]->present ? ev->sh[0] : NULL;
    const struct ev_server_hello *final_sh = conn_report_final_sh(ev);
    const struct x509_chain *chain = ev->chain && ev->chain->n > 0 ? ev->chain : NULL;
    const struct x509_chain *cchain =
        ev->client_chain && ev->client_chain->n > 0 ? ev->client_chain : NULL;
    char vb[24];

    jw_obj_open(w, "tls");
    /* -- Suricata's keys -- */
    if (chain)
        add_suricata_cert(w, chain);
    if (ch && ch->has_sni)
        add_wire_string(w, "sni", ch->sni, ch->sni_len);
    /* As Suricata: the negotiated version, else the ClientHello's own
     * (legacy_version, not supported_versions), else UNDETERMINED. */
    uint16_t v = t->version ? t->version : t->sslv2_version ? 0x0002 : ch ? ch->version : 0;
    jw_str(w, "version", suricata_version(v, vb));
    if (t->resumed)
        jw_bool(w, "session_resumed", true);
    if (ch) {
        jw_obj_open(w, "ja3");
        jw_str(w, "hash", ch->ja3_hash);
        jw_str(w, "string", ch->ja3_str ? ch->ja3_str : "");
        jw_obj_close(w);
    }
    if (sh) {
        jw_obj_open(w, "ja3s");
        jw_str(w, "hash", sh->ja3s_hash);
        jw_str(w, "string", sh->ja3s_str ? sh->ja3s_str : "");
        jw_obj_close(w);
    }
    if (ch)
        jw_str(w, "ja4", ch->ja4);
    if (ch && ch->has_alpn && ch->n_alpn)
        add_alpn_list(w, "client_alpns", ch);
    if (final_sh && final_sh->has_alpn) {
        jw_arr_open(w, "server_alpns");
        add_alpn(w, NULL, final_sh->alpn, final_sh->alpn_len);
        jw_arr_close(w);
    }
    if (cchain) {
        jw_obj_open(w, "client");
        add_suricata_cert(w, cchain);
        chain_array(w, "x509_chain", cchain);
        jw_obj_close(w);
    }
    add_handshakes(w, t, ch, final_sh);

    /* -- pinscope's keys -- */
    if (t->sslv2_version) {
        jw_bool(w, "sslv2_client_hello", true);
        jw_str(w, "client_version", tls_version_name(t->sslv2_version, vb));
    } else if (ch) {
        jw_str(w, "client_version", tls_version_name(t->client_version, vb));
    }
    if (t->has_cipher) {
        char cb[8];
        jw_str(w, "cipher", cipher_name(e->ssl, t->cipher, cb));
    }
    if (ch) {
        jw_str(w, "ja4_r", ch->ja4_r ? ch->ja4_r : "");
        jw_str(w, "ja4_o", ch->ja4_o);
        jw_str(w, "ja4_ro", ch->ja4_ro ? ch->ja4_ro : "");
    } else if (!t->sslv2_version) {
        jw_bool(w, "client_hello_seen", false);
    }
    if (sh) {
        jw_str(w, "ja4s", sh->ja4s);
        jw_str(w, "ja4s_r", sh->ja4s_r ? sh->ja4s_r : "");
    }
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
    if (ev->dtls)
        add_dtls(w, ev->dtls);

    const char *why = chain_invisible_reason(ev);
    jw_bool(w, "chain_visible", why == NULL);
    if (why)
        jw_str(w, "chain_invisible_reason", why);
    if (chain) {
        chain_array(w, "x509_chain", chain);
        add_chain_checks(w, chain);
    }
    add_tls_alerts(w, t);
    jw_obj_close(w);
}

/* The application objects of a connection: quic (QUIC only), tls. */
static void add_app(struct eve *e, const struct conn_report *ev)
{
    if (ev->quic)
        add_quic(&e->w, ev);
    add_tls(e, ev);
}

int eve_tls(struct eve *e, const struct conn_report *ev)
{
    line_begin(e);
    envelope(e, ev, app_of(ev) == APP_QUIC ? "quic" : "tls");
    add_app(e, ev);
    return line_end(e);
}

/* ---- alerts -------------------------------------------------------------- */

/* Suricata's classification.config description for a detection family. */
static const char *suricata_category(const char *family)
{
    if (strcmp(family, "interception") == 0)
        return "Potentially Bad Traffic";
    if (strcmp(family, "policy") == 0)
        return "Potential Corporate Privacy Violation";
    return "Misc activity";
}

static const char *signature_severity(int severity)
{
    return severity <= 1 ? "Major" : severity == 2 ? "Minor" : "Informational";
}

static void add_endpoint(struct jw *w, const char *key, const struct flow *f, int side)
{
    char a[INET6_ADDRSTRLEN];
    addr_string(f, side, a, sizeof(a));
    jw_obj_open(w, key);
    jw_str(w, "ip", a);
    jw_uint(w, "port", f->key.port[side]);
    jw_obj_close(w);
}

int eve_alert(struct eve *e, const struct conn_report *ev, const struct detect_alert *al)
{
    struct jw *w = line_begin(e);
    const struct flow *f = ev->flow;
    int cs = ev->client_side, ss = cs ^ 1;
    envelope(e, ev, "alert");
    jw_str(w, "direction", "to_server");
    jw_obj_open(w, "alert");
    jw_str(w, "action", "allowed");
    jw_uint(w, "gid", 1);
    jw_uint(w, "signature_id", al->sid);
    jw_uint(w, "rev", 1);
    jw_str(w, "signature", al->signature);
    jw_str(w, "category", suricata_category(al->category));
    jw_uint(w, "severity", (uint64_t)al->severity);
    /* The connection's server presents what the alert is about; the
     * client is the one intercepted or refused. */
    add_endpoint(w, "source", f, ss);
    add_endpoint(w, "target", f, cs);
    /* ET rules carry their facts in metadata as arrays of strings. */
    jw_obj_open(w, "metadata");
    jw_arr_open(w, "signature_severity");
    jw_str(w, NULL, signature_severity(al->severity));
    jw_arr_close(w);
    jw_arr_open(w, "confidence");
    jw_str(w, NULL, al->confidence);
    jw_arr_close(w);
    jw_arr_open(w, "detection_family");
    jw_str(w, NULL, al->category);
    jw_arr_close(w);
    for (int i = 0; i < al->n_ev; i++) {
        jw_arr_open(w, al->ev[i].key);
        jw_str(w, NULL, al->ev[i].value);
        jw_arr_close(w);
    }
    jw_obj_close(w);
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
    char ts[40];
    event_format_ts(f->first_ts_us, ts);
    jw_obj_open(w, "flow");
    jw_uint(w, "pkts_toserver", f->pkts[cs]);
    jw_uint(w, "pkts_toclient", f->pkts[ss]);
    jw_uint(w, "bytes_toserver", f->bytes[cs]);
    jw_uint(w, "bytes_toclient", f->bytes[ss]);
    jw_str(w, "start", ts);
    jw_obj_close(w);
    add_app(e, ev);
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
    if (!e->cfg.deterministic) {
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
