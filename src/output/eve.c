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
#include "output/eve_int.h"
#include "output/fmt.h"
#include "output/jw.h"
#include "quic/quic.h"
#include "util/civil.h"
#include "util/hash.h"

static char *put_digits(char *o, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        o[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return o + width;
}

/* "YYYY-MM-DDTHH:MM:SS.uuuuuu+0000", as strftime("%Y-%m-%dT%H:%M:%S") of
 * gmtime and ".%06u+0000" wrote it, without either. */
void event_format_ts(uint64_t ts_us, char buf[40])
{
    uint64_t sec = ts_us / 1000000;
    int64_t days = (int64_t)(sec / 86400);
    unsigned sod = (unsigned)(sec % 86400), m, d;
    int64_t y;
    civil_from_days(days, &y, &m, &d);
    char *o = buf;
    if (y < 0 || y > 9999) {   /* not reachable from a uint64 of 2^64 µs */
        o += snprintf(buf, 40, "%lld", (long long)y);
    } else {
        o = put_digits(o, (unsigned)y, 4);
    }
    *o++ = '-';
    o = put_digits(o, m, 2);
    *o++ = '-';
    o = put_digits(o, d, 2);
    *o++ = 'T';
    o = put_digits(o, sod / 3600, 2);
    *o++ = ':';
    o = put_digits(o, sod / 60 % 60, 2);
    *o++ = ':';
    o = put_digits(o, sod % 60, 2);
    *o++ = '.';
    o = put_digits(o, (unsigned)(ts_us % 1000000), 6);
    memcpy(o, "+0000", 6);
}







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
    if (!e->buf || !(e->certs = certjson_new(CFG_CERTJSON_SLOTS))) {
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
    certjson_free(e->certs);
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

size_t eve_unit_lines(const struct eve *e)
{
    return e->lines;
}

void eve_unit_begin(struct eve *e)
{
    e->unit_start = e->len;
}

void eve_unit_exchange(struct eve *e, char **buf, size_t *cap)
{
    char *b = e->buf;
    size_t c = e->cap;
    e->buf = *buf;
    e->cap = e->buf ? *cap : 0;
    *buf = b;
    *cap = c;
    e->len = 0;
    e->lines = 0;
    e->unit_start = 0;
}

void eve_unit_reset(struct eve *e)
{
    e->len = 0;
    e->lines = 0;
    e->unit_start = 0;
}

/* ---- the event header ---------------------------------------------------- */


/* One endpoint's location and network under `key` (src_geoip/dest_geoip). */
static void add_geoip(struct eve *e, const char *key, const struct flow *f, int side)
{
    fmt_geoip(&e->w, key, geoip_lookup(e->cfg.geoip, e->geo, f->key.ip_ver, f->key.addr[side]));
}

/* The header every per-connection event shares, in Suricata's names. */
static void envelope(struct eve *e, const struct conn_report *ev, const char *type)
{
    struct jw *w = &e->w;
    const struct flow *f = ev->flow;
    int cs = ev->client_side, ss = cs ^ 1;
    char ts[40], a[INET6_ADDRSTRLEN];
    event_format_ts(f->first_ts_us, ts);
    jw_plain(w, "timestamp", ts, strlen(ts));   /* digits and -T:.+ */
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
    fmt_addr(f, cs, a, sizeof(a));   /* digits, hex, '.' and ':' */
    jw_plain(w, "src_ip", a, strlen(a));
    jw_uint(w, "src_port", f->key.port[cs]);
    fmt_addr(f, ss, a, sizeof(a));
    jw_plain(w, "dest_ip", a, strlen(a));
    jw_uint(w, "dest_port", f->key.port[ss]);
    jw_str(w, "proto", f->key.proto == IPPROTO_UDP ? "UDP" : "TCP");
    fmt_tunnel(w, f, cs);
    char cid[COMMUNITY_ID_LEN];
    community_id(f, e->cfg.community_id_seed, cid);
    if (cid[0])
        fmt_fp(w, "community_id", cid);   /* "1:" and base64 */
    jw_str(w, "app_proto", app_name[app_of(ev)]);
    if (e->cfg.host)
        jw_str(w, "host", e->cfg.host);
    if (e->cfg.geoip) {
        add_geoip(e, "src_geoip", f, cs);
        add_geoip(e, "dest_geoip", f, ss);
    }
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
static void suricata_leaf(struct jw *w, const struct x509_entry *e)
{
    const struct x509_cert *x = &e->info;
    char buf[3 * 128 + 1];
    jw_str(w, "subject", x->subject.dn_eve ? x->subject.dn_eve : "");
    jw_str(w, "issuerdn", x->issuer.dn_eve ? x->issuer.dn_eve : "");
    if (x->serial && x->serial[0] != '-' && strlen(x->serial) <= 2 * 64) {
        fmt_colon_hex(x->serial, true, buf, sizeof(buf));
        fmt_fp(w, "serial", buf);
    }
    fmt_colon_hex(x->sha1, false, buf, sizeof(buf));
    fmt_fp(w, "fingerprint", buf);
    if (x->not_before.valid)   /* the ISO time without its 'Z' */
        jw_plain(w, "notbefore", x->not_before.iso, sizeof(x->not_before.iso) - 2);
    if (x->not_after.valid)
        jw_plain(w, "notafter", x->not_after.iso, sizeof(x->not_after.iso) - 2);
    add_subjectaltname(w, x);
}

static void add_suricata_cert(struct eve *e, const struct x509_chain *c)
{
    struct jw *w = &e->w;
    fmt_cert_cached(w, e->certs, c->e[0], CERTJSON_EVE_LEAF, true, suricata_leaf);
    /* Suricata's tls.certificate repeats chain[0]; Suricata itself warns
     * against logging both, so only the chain is written. */
    jw_arr_open(w, "chain");
    for (size_t i = 0; i < c->n; i++)
        fmt_cert_base64(w, e->certs, c->e[i]);
    jw_arr_close(w);
}

static void add_handshakes(struct jw *w, const struct tls_session *t,
                           const struct ev_client_hello *ch, const struct ev_server_hello *sh)
{
    char vb[24];
    if (ch) {
        jw_obj_open(w, "client_handshake");
        jw_str(w, "version", fmt_version(ch->version, vb));
        if (ch->lists) {
            fmt_u16_list(w, "ciphers", ch->lists, ch->n_ciphers);
            fmt_u16_list(w, "exts", ch->lists + ch->n_ciphers, ch->n_exts);
            fmt_u16_list(w, "sig_algs", ch->lists + ch->n_ciphers + ch->n_exts, ch->n_sig_algs);
        }
        jw_obj_close(w);
    }
    if (sh) {
        jw_obj_open(w, "server_handshake");
        jw_str(w, "version", fmt_version(sh->selected_version ? sh->selected_version
                                                                   : sh->version, vb));
        jw_uint(w, "cipher", sh->cipher);
        if (sh->exts)
            fmt_u16_list(w, "exts", sh->exts, sh->n_exts);
        jw_obj_close(w);
    }
    (void)t;
}

/* Suricata's quic object (version, sni, ja3, ja3s, ja4, extensions), then
 * pinscope's facts about the QUIC connection. */
static void add_quic(struct jw *w, const struct conn_report *ev)
{
    const struct ev_quic *q = ev->quic;
    const struct ev_client_hello *ch = conn_report_ch(ev);
    const struct ev_server_hello *sh = ev->sh[0] && ev->sh[0]->present ? ev->sh[0] : NULL;
    jw_obj_open(w, "quic");
    fmt_quic_version(w, "version", q->version);
    if (ch && ch->has_sni)
        fmt_wire_string(w, "sni", ch->sni, ch->sni_len);
    if (ch) {
        fmt_ja3(w, "ja3", ch->ja3_hash, ch->ja3_str, ch->ja3_str_len);
        fmt_fp(w, "ja4", ch->ja4);
    }
    if (sh)
        fmt_ja3(w, "ja3s", sh->ja3s_hash, sh->ja3s_str, sh->ja3s_str_len);
    if (ch && ch->lists && ch->n_exts) {
        jw_arr_open(w, "extensions");
        const uint16_t *ex = ch->lists + ch->n_ciphers;
        for (unsigned i = 0; i < ch->n_exts; i++) {
            jw_obj_open(w, NULL);
            jw_uint(w, "type", ex[i]);
            if (ex[i] == 0 && ch->has_sni) {
                jw_arr_open(w, "values");
                fmt_wire_string(w, NULL, ch->sni, ch->sni_len);
                jw_arr_close(w);
            } else if (ex[i] == 16 && ch->n_alpn) {
                fmt_alpn_list(w, "values", ch);
            }
            jw_obj_close(w);
        }
        jw_arr_close(w);
    }
    fmt_quic_facts(w, q);
    jw_obj_close(w);
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
        add_suricata_cert(e, chain);
    if (ch && ch->has_sni)
        fmt_wire_string(w, "sni", ch->sni, ch->sni_len);
    /* As Suricata: the negotiated version, else the ClientHello's own
     * (legacy_version, not supported_versions), else UNDETERMINED. */
    uint16_t v = t->version ? t->version : t->sslv2_version ? 0x0002 : ch ? ch->version : 0;
    jw_str(w, "version", fmt_version(v, vb));
    if (t->resumed)
        jw_bool(w, "session_resumed", true);
    if (ch)
        fmt_ja3(w, "ja3", ch->ja3_hash, ch->ja3_str, ch->ja3_str_len);
    if (sh)
        fmt_ja3(w, "ja3s", sh->ja3s_hash, sh->ja3s_str, sh->ja3s_str_len);
    if (ch)
        fmt_fp(w, "ja4", ch->ja4);
    if (ch && ch->has_alpn && ch->n_alpn)
        fmt_alpn_list(w, "client_alpns", ch);
    if (final_sh && final_sh->has_alpn) {
        jw_arr_open(w, "server_alpns");
        fmt_alpn(w, NULL, final_sh->alpn, final_sh->alpn_len);
        jw_arr_close(w);
    }
    if (cchain) {
        jw_obj_open(w, "client");
        add_suricata_cert(e, cchain);
        fmt_x509_chain(w, "x509_chain", cchain, e->certs);
        jw_obj_close(w);
    }
    add_handshakes(w, t, ch, final_sh);

    /* -- pinscope's keys -- */
    fmt_tls_own(w, e->ssl, ev, e->certs);
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
    if (e->cfg.format == EVE_FORMAT_ECS)
        return ecs_conn(e, ev);
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
    fmt_addr(f, side, a, sizeof(a));
    jw_obj_open(w, key);
    jw_str(w, "ip", a);
    jw_uint(w, "port", f->key.port[side]);
    jw_obj_close(w);
}

int eve_alert(struct eve *e, const struct conn_report *ev, const struct detect_alert *al)
{
    if (e->cfg.format == EVE_FORMAT_ECS)
        return ecs_alert(e, ev, al);
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
    jw_uint(w, "pkts_toserver", ev->pkts[cs]);
    jw_uint(w, "pkts_toclient", ev->pkts[ss]);
    jw_uint(w, "bytes_toserver", ev->bytes[cs]);
    jw_uint(w, "bytes_toclient", ev->bytes[ss]);
    jw_str(w, "start", ts);
    jw_obj_close(w);
    add_app(e, ev);
    return line_end(e);
}

int eve_stats(struct eve *e, const struct eve_stats_in *in)
{
    if (e->cfg.format == EVE_FORMAT_ECS)
        return ecs_stats(e, in);
    char ts[40];
    struct jw *w = line_begin(e);
    event_format_ts(in->last_ts_us, ts);
    jw_str(w, "timestamp", ts);
    jw_str(w, "event_type", "stats");
    jw_obj_open(w, "stats");
    fmt_stats_fields(w, in->total);
    if (!e->cfg.deterministic) {
        jw_double(w, "elapsed_seconds", in->elapsed_s);
        if (in->uptime_s > 0)
            jw_uint(w, "uptime_seconds", in->uptime_s);
    }
    if (in->one_worker)
        jw_uint(w, "worker", in->worker);
    if (in->final)
        jw_bool(w, "final", true);
    jw_bool(w, "degraded", in->degraded);
    if (in->degraded && in->degraded_reason)
        jw_str(w, "degraded_reason", in->degraded_reason);
    if (in->n_workers > 1) {
        jw_arr_open(w, "workers");
        for (size_t i = 0; i < in->n_workers; i++) {
            jw_obj_open(w, NULL);
            fmt_stats_fields(w, &in->workers[i]);
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

void event_print_summary(FILE *fp, const struct stats *st, double elapsed_s, uint64_t unwritten)
{
    fprintf(fp, "pinscope: %llu packets, %llu bytes, %llu flows, %llu TLS connections "
                "(%llu complete, %llu tunnelled), %llu events",
            (unsigned long long)st->packets, (unsigned long long)st->bytes,
            (unsigned long long)st->flows, (unsigned long long)st->flows_tls,
            (unsigned long long)st->tls_complete, (unsigned long long)st->tls_tunnelled,
            (unsigned long long)st->tls_events);
    if (unwritten)
        fprintf(fp, " (%llu lines not written)", (unsigned long long)unwritten);
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
