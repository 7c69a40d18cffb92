/*
 * fmt.c - the pieces both event formats write (see fmt.h).
 */
#include "output/fmt.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "quic/quic.h"
#include "util/dec.h"
#include "util/dnsname.h"

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
bool fmt_utf8(const uint8_t *p, size_t n, char *out)
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

void fmt_wire_string(struct jw *w, const char *name, const uint8_t *p, size_t n)
{
    char buf[3 * 256 + 1];
    if (n > 255)
        n = 255;
    bool clean = fmt_utf8(p, n, buf);
    jw_str(w, name, buf);
    if (!clean && name) {   /* in an array (no name) there is no room for it */
        char hname[64];
        snprintf(hname, sizeof(hname), "%s_hex", name);
        jw_hex(w, hname, p, n);
    }
}

/* One ALPN protocol name (at most 255 bytes on the wire). */
void fmt_alpn(struct jw *w, const char *key, const uint8_t *p, size_t n)
{
    char buf[3 * 256 + 1];
    fmt_utf8(p, n > 255 ? 255 : n, buf);
    jw_str(w, key, buf);
}

/* A dotted quad as inet_ntop() writes it; returns the end (the NUL). */
static char *put_ipv4(char *o, const uint8_t a[4])
{
    for (int i = 0; i < 4; i++) {
        o = dec_put(o, a[i]);
        *o++ = i < 3 ? '.' : '\0';
    }
    return o - 1;
}

/*
 * An IPv6 address as glibc's inet_ntop() writes it (RFC 5952 but for the
 * IPv4 forms): lower-case hex words without leading zeros, the first
 * longest run of two or more zero words as "::", and ::a.b.c.d and
 * ::ffff:a.b.c.d for IPv4-compatible and -mapped addresses.  test_fmt
 * compares the two over every pattern of zero words.  `o` has room for
 * INET6_ADDRSTRLEN bytes.
 */
static void put_ipv6(char *o, const uint8_t a[16])
{
    static const char hex[] = "0123456789abcdef";
    unsigned w[8];
    int best = -1, best_len = 0, cur = -1, cur_len = 0;

    for (int i = 0; i < 8; i++) {
        w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
        if (w[i] == 0) {
            if (cur < 0)
                cur = i, cur_len = 0;
            if (++cur_len > best_len)
                best = cur, best_len = cur_len;
        } else {
            cur = -1;
        }
    }
    if (best_len < 2)
        best = -1;
    for (int i = 0; i < 8; i++) {
        if (best >= 0 && i >= best && i < best + best_len) {
            if (i == best)
                *o++ = ':';
            continue;
        }
        if (i != 0)
            *o++ = ':';
        if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff))) {
            put_ipv4(o, a + 12);
            return;
        }
        bool lead = true;
        for (int sh = 12; sh >= 0; sh -= 4) {
            unsigned d = (w[i] >> sh) & 0xf;
            if (d || !lead || sh == 0) {
                *o++ = hex[d];
                lead = false;
            }
        }
    }
    if (best >= 0 && best + best_len == 8)
        *o++ = ':';
    *o = '\0';
}

void fmt_addr(const struct flow *f, int side, char *buf, size_t len)
{
    const uint8_t *a = f->key.addr[side];
    if (f->key.ip_ver == 4 && len >= INET_ADDRSTRLEN)
        put_ipv4(buf, a);
    else if (f->key.ip_ver != 4 && len >= INET6_ADDRSTRLEN)
        put_ipv6(buf, a);
    else
        inet_ntop(f->key.ip_ver == 4 ? AF_INET : AF_INET6, a, buf, (socklen_t)len);
}

/* IANA name of a cipher suite from OpenSSL's table, or "0x%04x". */
const char *fmt_cipher_name(SSL *ssl, uint16_t id, char buf[8])
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

const char *fmt_end_name(enum ev_end e)
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

void fmt_ja3(struct jw *w, const char *key, const char *hash, const char *str, size_t len)
{
    jw_obj_open(w, key);
    fmt_fp(w, "hash", hash);
    jw_plain(w, "string", str ? str : "", len);
    jw_obj_close(w);
}

void fmt_client_fps(struct jw *w, const struct ev_client_hello *c)
{
    fmt_ja3(w, "ja3", c->ja3_hash, c->ja3_str, c->ja3_str_len);
    fmt_fp(w, "ja4", c->ja4);
    jw_plain(w, "ja4_r", c->ja4_r ? c->ja4_r : "", c->ja4_r_len);
    fmt_fp(w, "ja4_o", c->ja4_o);
    jw_plain(w, "ja4_ro", c->ja4_ro ? c->ja4_ro : "", c->ja4_ro_len);
}

void fmt_server_fps(struct jw *w, const struct ev_server_hello *s)
{
    fmt_ja3(w, "ja3s", s->ja3s_hash, s->ja3s_str, s->ja3s_str_len);
    fmt_fp(w, "ja4s", s->ja4s);
    jw_plain(w, "ja4s_r", s->ja4s_r ? s->ja4s_r : "", s->ja4s_r_len);
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
    if (x->serial)   /* hex, '-' first if negative */
        fmt_fp(w, "serial", x->serial);
    /* "YYYY-MM-DDTHH:MM:SSZ", digits made by x509/cert.c */
    if (x->not_before.valid)
        jw_plain(w, "not_before", x->not_before.iso, sizeof(x->not_before.iso) - 1);
    if (x->not_after.valid)
        jw_plain(w, "not_after", x->not_after.iso, sizeof(x->not_after.iso) - 1);
    if (x->has_san) {
        jw_obj_open(w, "san");
        add_string_list(w, "dns", &x->san_dns);
        add_string_list(w, "ip", &x->san_ip);
        add_string_list(w, "email", &x->san_email);
        add_string_list(w, "uri", &x->san_uri);
        jw_obj_close(w);
    }
    fmt_fp(w, "sha1", x->sha1);
    fmt_fp(w, "sha256", x->sha256);
    fmt_fp(w, "spki_sha256", x->spki_sha256);
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
    if (x->skid)   /* hex */
        fmt_fp(w, "ski", x->skid);
    if (x->akid)
        fmt_fp(w, "aki", x->akid);
    jw_uint(w, "sct_count", x->sct_count);
    if (x->version > 0)
        jw_uint(w, "version", (uint64_t)x->version);
    if (x->rsa_exponent)
        jw_uint(w, "exponent", x->rsa_exponent);
    if (x->is_ca && x->path_len >= 0)
        jw_uint(w, "path_len", (uint64_t)x->path_len);
    fmt_fp(w, "ja4x", x->ja4x);
    fmt_fp(w, "ja4x_r", x->ja4x_r ? x->ja4x_r : "");
    if (x->text_cut)
        jw_bool(w, "text_cut", true);
    jw_obj_close(w);
}

/* Contract in fmt.h. */
void fmt_cert_cached(struct jw *w, struct certjson *cj, const struct x509_entry *e,
                     enum certjson_kind kind, bool members,
                     void (*render)(struct jw *w, const struct x509_entry *e))
{
    const char *json;
    size_t n;
    if (!cj) {
        render(w, e);
        return;
    }
    if (!(json = certjson_get(cj, e->sha256, kind, &n))) {
        struct jw *s = certjson_scratch(cj);
        if (members)
            jw_obj_open(s, NULL);
        render(s, e);
        if (!certjson_keep(cj, e->sha256, kind, members ? 1 : 0, &json, &n)) {
            render(w, e);   /* did not fit the scratch: written directly */
            return;
        }
    }
    if (members)
        jw_members(w, json, n);
    else
        jw_raw(w, NULL, json, n);
}

static void render_object(struct jw *w, const struct x509_entry *e)
{
    cert_object(w, &e->info);
}

static void render_base64(struct jw *w, const struct x509_entry *e)
{
    jw_base64(w, NULL, e->der, e->der_len);
}

void fmt_cert_base64(struct jw *w, struct certjson *cj, const struct x509_entry *e)
{
    fmt_cert_cached(w, cj, e, CERTJSON_BASE64, false, render_base64);
}

void fmt_x509_chain(struct jw *w, const char *key, const struct x509_chain *c,
                    struct certjson *cj)
{
    jw_arr_open(w, key);
    for (size_t i = 0; i < c->n; i++)
        fmt_cert_cached(w, cj, c->e[i], CERTJSON_OBJECT, false, render_object);
    jw_arr_close(w);
}

/* "ab:cd:..." of a lower-case hex string, upper-cased if asked. */
void fmt_colon_hex(const char *hex, bool upper, char *out, size_t cap)
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

void fmt_chain_checks(struct jw *w, const struct x509_chain *c)
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
const char *fmt_chain_invisible_reason(const struct conn_report *ev)
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

/* ---- the application objects --------------------------------------------- */

void fmt_u16_list(struct jw *w, const char *key, const uint16_t *v, size_t n)
{
    if (n == 0)
        return;   /* Suricata's schema: at least one item */
    jw_u16_array(w, key, v, n);
}

/* Suricata's tls.version: the negotiated version, else the ClientHello's,
 * else UNDETERMINED; TLS 1.3 drafts named as Suricata names them. */
const char *fmt_version(uint16_t v, char buf[24])
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

void fmt_alpn_list(struct jw *w, const char *key, const struct ev_client_hello *c)
{
    jw_arr_open(w, key);
    size_t off = 0;
    for (unsigned i = 0; i < c->n_alpn && off < c->alpn_bytes; i++) {
        size_t l = c->alpn[off++];
        if (l > (size_t)c->alpn_bytes - off)
            break;
        fmt_alpn(w, NULL, c->alpn + off, l);
        off += l;
    }
    jw_arr_close(w);
}

void fmt_quic_version(struct jw *w, const char *name, uint32_t v)
{
    char buf[16];
    jw_str(w, name, quic_version_name(v, buf));
}

void fmt_dtls(struct jw *w, const struct ev_dtls *d)
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

void fmt_tls_alerts(struct jw *w, const struct tls_session *t)
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

/* The counters of one stats object; the caller closes it. */
void fmt_stats_fields(struct jw *w, const struct stats *st)
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
    if (st->certs_dumped || st->certs_dump_failed || st->certs_dump_capped) {
        jw_uint(w, "certs_dumped", st->certs_dumped);
        jw_uint(w, "certs_dump_failed", st->certs_dump_failed);
        jw_uint(w, "certs_dump_capped", st->certs_dump_capped);
    }
    jw_uint(w, "tls_client_hellos", st->tls_client_hellos);
    jw_uint(w, "tls_server_hellos", st->tls_server_hellos);
    jw_uint(w, "tls_complete", st->tls_complete);
    jw_uint(w, "tls_certificate_msgs", st->tls_certificate_msgs);
    jw_uint(w, "certs_parsed", st->certs_parsed);
    jw_uint(w, "chains_validated", st->chains_validated);
    jw_uint(w, "frag_reassembled", st->frag_reassembled);
    jw_uint(w, "dtls_multiplexed", st->dtls_multiplexed);
    jw_uint(w, "tls_tunnelled", st->tls_tunnelled);
    jw_uint(w, "tls_resumed_linked", st->tls_resumed_linked);
    jw_uint(w, "tls_resumed_unlinked", st->tls_resumed_unlinked);
    jw_uint(w, "capture_received", st->pcap_received);
    jw_uint(w, "capture_drops", st->pcap_drops);
    jw_uint(w, "capture_ifdrops", st->pcap_ifdrops);
    jw_uint(w, "memuse", st->memuse);
    jw_uint(w, "memuse_peak", st->memuse_peak);
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

void fmt_quic_facts(struct jw *w, const struct ev_quic *q)
{
    if (q->final_version && q->final_version != q->version)
        fmt_quic_version(w, "final_version", q->final_version);
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
}

void fmt_geoip(struct jw *w, const char *key, const struct geoip_info *g)
{
    if (!g || !g->found)
        return;
    if (key)
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
    if (key)
        jw_obj_close(w);
}

void fmt_tls_own(struct jw *w, SSL *ssl, const struct conn_report *ev, struct certjson *cj)
{
    const struct tls_session *t = ev->tls;
    const struct ev_client_hello *ch = conn_report_ch(ev);
    const struct ev_server_hello *sh = ev->sh[0] && ev->sh[0]->present ? ev->sh[0] : NULL;
    const struct x509_chain *chain = ev->chain && ev->chain->n > 0 ? ev->chain : NULL;
    char vb[24];

    if (t->sslv2_version) {
        jw_bool(w, "sslv2_client_hello", true);
        jw_str(w, "client_version", tls_version_name(t->sslv2_version, vb));
    } else if (ch) {
        jw_str(w, "client_version", tls_version_name(t->client_version, vb));
    }
    if (t->has_cipher) {
        char cb[8];
        jw_str(w, "cipher", fmt_cipher_name(ssl, t->cipher, cb));
    }
    if (ch) {
        jw_plain(w, "ja4_r", ch->ja4_r ? ch->ja4_r : "", ch->ja4_r_len);
        fmt_fp(w, "ja4_o", ch->ja4_o);
        jw_plain(w, "ja4_ro", ch->ja4_ro ? ch->ja4_ro : "", ch->ja4_ro_len);
    } else if (!t->sslv2_version) {
        jw_bool(w, "client_hello_seen", false);
    }
    if (sh) {
        fmt_fp(w, "ja4s", sh->ja4s);
        jw_plain(w, "ja4s_r", sh->ja4s_r ? sh->ja4s_r : "", sh->ja4s_r_len);
    }
    if (ch && ch->ech.present) {   /* encrypted_client_hello: the outer hello's view */
        jw_obj_open(w, "ech");
        jw_str(w, "type", ch->ech.bad ? "malformed" : ch->ech.type == 0 ? "outer" : "inner");
        if (!ch->ech.bad && ch->ech.type == 0) {
            jw_uint(w, "config_id", ch->ech.config_id);
            jw_uint(w, "kdf_id", ch->ech.kdf);
            jw_uint(w, "aead_id", ch->ech.aead);
            jw_uint(w, "enc_length", ch->ech.enc_len);
            jw_uint(w, "payload_length", ch->ech.payload_len);
        }
        if (sh && sh->hrr)
            jw_bool(w, "hrr_confirmation", sh->ech_confirmation);
        jw_obj_close(w);
    }
    if (ev->tcp) {      /* the TCP opening: JA4T, JA4TS, JA4L (fp/ja4t.h) */
        char b[JA4T_STR_MAX], lc[32], ls[32];
        if (ev->tcp->syn.seen) {
            ja4t_format(&ev->tcp->syn, b);
            fmt_fp(w, "ja4t", b);
        }
        if (ev->tcp->synack.seen) {
            ja4t_format(&ev->tcp->synack, b);
            fmt_fp(w, "ja4ts", b);
        }
        if (ja4l_format(ev->tcp, lc, ls)) {
            fmt_fp(w, "ja4l", lc);
            fmt_fp(w, "ja4ls", ls);
        }
        if (ev->tcp->t_client_hello && ev->tcp->t_server_hello >= ev->tcp->t_client_hello)
            jw_uint(w, "server_hello_delay_us",
                    ev->tcp->t_server_hello - ev->tcp->t_client_hello);
    }
    if (t->flight_records) {   /* TLS 1.3 without keys: the server's first flight */
        jw_obj_open(w, "server_flight");
        jw_uint(w, "records", t->flight_records);
        jw_uint(w, "bytes", t->flight_bytes);
        jw_arr_open(w, "record_sizes");
        for (unsigned i = 0; i < t->n_flight_sizes; i++)
            jw_uint(w, NULL, t->flight_sizes[i]);
        jw_arr_close(w);
        jw_obj_close(w);
    }
    if (t->tunnel != TLS_TUNNEL_NONE)
        jw_str(w, "tunnel", tls_tunnel_name((enum tls_tunnel)t->tunnel));
    char ctb[CFG_TLS_CONNECT_HOST_MAX + 8];
    if (tls_connect_target(t, ctb, sizeof(ctb)))
        jw_str(w, "connect_target", ctb);
    fmt_after_handshake(w, t);
    if (ev->client_app)
        jw_str(w, "client_app", ev->client_app);
    if (ev->interception_product)
        jw_str(w, "interception_product", ev->interception_product);
    if (ev->resumed_with)   /* TLS 1.2 resumption (detect/resume.h) */
        jw_str(w, "resumed_with", ev->resumed_with);
    if (ev->resumed_from)
        jw_uint(w, "resumed_from", ev->resumed_from);
    jw_str(w, "state", tls_progress_name((enum tls_progress)t->progress));
    jw_str(w, "end", fmt_end_name(ev->end));
    /* Zeek's facts: established, curve, ssl_history, last_alert. */
    jw_bool(w, "established", t->progress == TLS_PROGRESS_COMPLETE);
    if (t->group) {
        char gb[8];
        jw_str(w, "curve", fmt_group_name(t->group, gb));
    }
    if (t->history_len) {
        jw_str(w, "ssl_history", t->history);
        if (t->history_cut)
            jw_bool(w, "ssl_history_cut", true);
    }
    for (unsigned i = t->n_alerts; i-- > 0;) {
        if (!t->alerts[i].encrypted) {
            jw_str(w, "last_alert", tls_alert_name(t->alerts[i].description));
            break;
        }
    }
    if (ch && ch->has_sni) {
        char sni[TLS_HELLO_MAX_SNI + 1], reg[DNSNAME_MAX + 1];
        if (fmt_utf8(ch->sni, ch->sni_len, sni) && dnsname_registered_domain(sni, reg, sizeof(reg)))
            jw_str(w, "sni_registered_domain", reg);
    }

    if (t->hrr || (ev->ch[1] && ev->ch[1]->present)) {
        jw_obj_open(w, "hello_retry");
        if (ev->ch[1] && ev->ch[1]->present) {
            fmt_client_fps(w, ev->ch[1]);
            if (ev->ch[1]->has_sni)
                fmt_wire_string(w, "sni", ev->ch[1]->sni, ev->ch[1]->sni_len);
        }
        if (ev->sh[1] && ev->sh[1]->present)
            fmt_server_fps(w, ev->sh[1]);
        jw_obj_close(w);
    }
    if (ev->dtls)
        fmt_dtls(w, ev->dtls);

    const char *why = fmt_chain_invisible_reason(ev);
    jw_bool(w, "chain_visible", why == NULL);
    if (why)
        jw_str(w, "chain_invisible_reason", why);
    if (chain) {
        fmt_x509_chain(w, "x509_chain", chain, cj);
        fmt_chain_checks(w, chain);
    }
    fmt_tls_alerts(w, t);
    fmt_encapsulation(w, ev->flow, ev->client_side);
}

/* TCP: the wait after completion (tls/session.h, struct tls_post), written
 * only when the client sent no application data in it: whether and how it
 * closed, how long after completion, what the server sent meanwhile. */
void fmt_after_handshake(struct jw *w, const struct tls_session *t)
{
    const struct tls_post *p = &t->post;
    if (!p->watching || p->client_data)
        return;
    jw_obj_open(w, "after_handshake");
    jw_bool(w, "client_app_data", false);
    if (p->close_us) {
        char how[32];
        fmt_client_close(p, how, sizeof(how));
        jw_str(w, "client_close", how);
        jw_double(w, "client_closed_after_handshake_ms",
                  p->close_us > p->start_us ? (double)(p->close_us - p->start_us) / 1000.0 : 0.0);
    }
    if (p->server_closed_first)
        jw_bool(w, "server_closed_first", true);
    jw_uint(w, "server_app_records", p->server_data);
    jw_obj_close(w);
}

const char *fmt_client_close(const struct tls_post *p, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s%s%s", p->client_alert ? "alert" : "",
             p->client_alert && (p->client_fin || p->client_rst) ? "+" : "",
             p->client_rst ? "rst" : p->client_fin ? "fin" : "");
    return buf;
}

/* Names as IANA's TLS Supported Groups registry (and Zeek) give them. */
const char *fmt_group_name(uint16_t g, char buf[8])
{
    switch (g) {
    case 23: return "secp256r1";
    case 24: return "secp384r1";
    case 25: return "secp521r1";
    case 29: return "x25519";
    case 30: return "x448";
    case 31: return "brainpoolP256r1tls13";
    case 32: return "brainpoolP384r1tls13";
    case 33: return "brainpoolP512r1tls13";
    case 26: return "brainpoolP256r1";
    case 27: return "brainpoolP384r1";
    case 28: return "brainpoolP512r1";
    case 256: return "ffdhe2048";
    case 257: return "ffdhe3072";
    case 258: return "ffdhe4096";
    case 259: return "ffdhe6144";
    case 260: return "ffdhe8192";
    case 0x0200: return "MLKEM512";
    case 0x0201: return "MLKEM768";
    case 0x0202: return "MLKEM1024";
    case 0x11eb: return "SecP256r1MLKEM768";
    case 0x11ec: return "X25519MLKEM768";
    case 0x11ed: return "SecP384r1MLKEM1024";
    case 0x6399: return "X25519Kyber768Draft00";
    default:
        snprintf(buf, 8, "0x%04x", g);
        return buf;
    }
}

const char *fmt_hello_retry(const struct conn_keyless *k, char buf[8])
{
    if (!k->has_hrr)
        return NULL;
    return k->hrr ? fmt_group_name(k->hrr_group, buf) : "none";
}

/* ---- tunnels ------------------------------------------------------------- */

static void tunnel_addr(const struct tunnel_layer *t, const uint8_t *a, char *buf, size_t len)
{
    inet_ntop(t->ip_ver == 4 ? AF_INET : AF_INET6, a, buf, (socklen_t)len);
}

/* The outer layer's endpoints, client's first. */
static void tunnel_ends(const struct flow *f, int client_side, const uint8_t **src,
                        const uint8_t **dst, unsigned *sport, unsigned *dport)
{
    const struct tunnel_layer *t = &f->tun->outer;
    bool swap = f->tun->first_side != client_side;
    *src = swap ? t->dst : t->src;
    *dst = swap ? t->src : t->dst;
    *sport = swap ? t->dport : t->sport;
    *dport = swap ? t->sport : t->dport;
}

static const char *tunnel_proto_name(const struct tunnel_layer *t)
{
    switch (t->proto) {
    case 4: return "IPv4";     /* IANA keywords */
    case 17: return "UDP";
    case 41: return "IPv6";
    case 47: return "GRE";
    default: return t->kind == TUNNEL_MPLS ? "MPLS" : t->kind == TUNNEL_PPPOE ? "PPPoE" : "";
    }
}

/* The outer layer's src_ip/dest_ip (and UDP ports when `ports`), client
 * first; nothing when no IP header carried it. */
static void tunnel_endpoints(struct jw *w, const struct flow *f, int client_side, bool ports)
{
    const struct tunnel_layer *t = &f->tun->outer;
    if (!t->ip_ver)
        return;
    const uint8_t *src, *dst;
    unsigned sport, dport;
    char a[INET6_ADDRSTRLEN];
    ports = ports && t->proto == 17;
    tunnel_ends(f, client_side, &src, &dst, &sport, &dport);
    tunnel_addr(t, src, a, sizeof(a));
    jw_str(w, "src_ip", a);
    if (ports)
        jw_uint(w, "src_port", sport);
    tunnel_addr(t, dst, a, sizeof(a));
    jw_str(w, "dest_ip", a);
    if (ports)
        jw_uint(w, "dest_port", dport);
}

void fmt_tunnel(struct jw *w, const struct flow *f, int client_side)
{
    if (!f->tun)
        return;
    const struct tunnel_layer *t = &f->tun->outer;
    jw_obj_open(w, "tunnel");
    tunnel_endpoints(w, f, client_side, true);
    jw_str(w, "proto", tunnel_proto_name(t));
    jw_uint(w, "depth", f->tun->n);
    jw_obj_close(w);
}

void fmt_encapsulation(struct jw *w, const struct flow *f, int client_side)
{
    if (!f->tun)
        return;
    jw_arr_open(w, "encapsulation");
    for (unsigned i = 0; i < f->tun->n; i++) {
        enum tunnel_kind k = (enum tunnel_kind)f->tun->kind[i];
        jw_obj_open(w, NULL);
        jw_str(w, "type", tunnel_kind_name(k));
        if (f->tun->has_id[i]) {
            const char *name = k == TUNNEL_VXLAN || k == TUNNEL_GENEVE ? "vni"
                               : k == TUNNEL_GRE ? "key"
                               : k == TUNNEL_GTPU ? "teid"
                               : k == TUNNEL_MPLS ? "label" : "session";
            jw_uint(w, name, f->tun->id[i]);
        }
        if (i == 0)
            tunnel_endpoints(w, f, client_side, false);
        jw_obj_close(w);
    }
    jw_arr_close(w);
}
