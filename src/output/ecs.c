/*
 * ecs.c - Elastic Common Schema documents (--format ecs).
 *
 * One document per line, as Elastic's ingest and Filebeat/Logstash expect
 * them: ECS field names with ECS types (checked against ECS's
 * ecs_flat.yml by tests/scripts/check_ecs.py), everything pinscope knows
 * that ECS has no field for under the custom `pinscope.*` namespace, as
 * ECS advises for custom fields.
 *
 *   connection   event.kind event, category [network], type [connection,
 *                protocol]; source/destination (with geo/as),
 *                network (community_id, vlan, bytes, packets), tls.*,
 *                tls.server.x509.* / tls.client.x509.*, related.*,
 *                observer.*; pinscope.tls (JA4, chain checks, alerts...),
 *                pinscope.quic
 *   alert        event.kind alert, category [network, intrusion_detection],
 *                type [info]; rule.*, message, threat.* (MITRE ATT&CK
 *                T1557 Adversary-in-the-Middle for interceptions),
 *                event.severity; the connection's fields as above
 *   stats        event.kind metric; pinscope.stats
 *
 * Certificates in tls.*.certificate_chain are base64 DER (the body of the
 * PEM ECS describes, without its armour lines), leaf first.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "flow/id.h"
#include "output/eve_int.h"
#include "output/fmt.h"
#include "util/version.h"

#define ECS_VERSION "9.0.0"

/* ECS dates: ISO 8601 UTC with microseconds and "Z". */
static void ecs_ts(uint64_t ts_us, char buf[40])
{
    time_t sec = (time_t)(ts_us / 1000000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    size_t n = strftime(buf, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, 40 - n, ".%06uZ", (unsigned)(ts_us % 1000000));
}

/* tls.version and tls.version_protocol ("1.2", "tls"). */
static bool ecs_version(uint16_t v, const char **num, const char **proto)
{
    switch (v) {
    case 0x0002: *num = "2.0"; *proto = "ssl"; return true;
    case 0x0300: *num = "3.0"; *proto = "ssl"; return true;
    case 0x0301: *num = "1.0"; *proto = "tls"; return true;
    case 0x0302: *num = "1.1"; *proto = "tls"; return true;
    case 0x0303: *num = "1.2"; *proto = "tls"; return true;
    case 0x0304: *num = "1.3"; *proto = "tls"; return true;
    case 0xfeff: *num = "1.0"; *proto = "dtls"; return true;
    case 0xfefd: *num = "1.2"; *proto = "dtls"; return true;
    case 0xfefc: *num = "1.3"; *proto = "dtls"; return true;
    default: return false;
    }
}

static void str_array1(struct jw *w, const char *key, const char *v)
{
    if (!v)
        return;
    jw_arr_open(w, key);
    jw_str(w, NULL, v);
    jw_arr_close(w);
}

static void upper_hex(struct jw *w, const char *key, const char *hex)
{
    char buf[160];
    size_t n = strlen(hex);
    if (n >= sizeof(buf))
        return;
    for (size_t i = 0; i <= n; i++)
        buf[i] = (char)(hex[i] >= 'a' && hex[i] <= 'f' ? hex[i] - 32 : hex[i]);
    jw_str(w, key, buf);
}

/* x509.subject / x509.issuer: ECS keeps every attribute as an array. */
static void ecs_name(struct jw *w, const char *key, const struct x509_cert_name *n)
{
    jw_obj_open(w, key);
    str_array1(w, "common_name", n->cn);
    str_array1(w, "country", n->c);
    jw_str(w, "distinguished_name", n->dn ? n->dn : "");
    str_array1(w, "locality", n->l);
    str_array1(w, "organization", n->o);
    str_array1(w, "organizational_unit", n->ou);
    str_array1(w, "state_or_province", n->st);
    jw_obj_close(w);
}

static void ecs_x509(struct jw *w, const struct x509_cert *x)
{
    jw_obj_open(w, "x509");
    if (x->has_san && x->san_dns.n + x->san_ip.n + x->san_email.n + x->san_uri.n > 0) {
        jw_arr_open(w, "alternative_names");
        const struct x509_cert_list *l[] = { &x->san_dns, &x->san_ip, &x->san_email, &x->san_uri };
        for (size_t k = 0; k < 4; k++)
            for (size_t i = 0; i < l[k]->n; i++)
                jw_str(w, NULL, l[k]->v[i]);
        jw_arr_close(w);
    }
    ecs_name(w, "issuer", &x->issuer);
    if (x->not_after.valid)
        jw_str(w, "not_after", x->not_after.iso);
    if (x->not_before.valid)
        jw_str(w, "not_before", x->not_before.iso);
    jw_str(w, "public_key_algorithm", x->key_alg);
    if (x->curve_nist[0])
        jw_str(w, "public_key_curve", x->curve_nist);
    else if (x->curve[0])
        jw_str(w, "public_key_curve", x->curve);
    if (x->rsa_exponent)
        jw_uint(w, "public_key_exponent", x->rsa_exponent);
    if (x->key_bits > 0)
        jw_uint(w, "public_key_size", (uint64_t)x->key_bits);
    if (x->serial && x->serial[0] != '-')
        upper_hex(w, "serial_number", x->serial);
    jw_str(w, "signature_algorithm", x->sig_alg);
    ecs_name(w, "subject", &x->subject);
    if (x->version > 0) {
        char v[24];
        snprintf(v, sizeof(v), "%ld", x->version);
        jw_str(w, "version_number", v);
    }
    jw_obj_close(w);
}

/* tls.server.* / tls.client.*: the leaf's summary, hashes, chain, x509. */
static void ecs_leaf(struct jw *w, const struct x509_entry *e)
{
    const struct x509_cert *x = &e->info;
    jw_obj_open(w, "hash");
    upper_hex(w, "sha1", x->sha1);
    upper_hex(w, "sha256", x->sha256);
    jw_obj_close(w);
    jw_str(w, "issuer", x->issuer.dn ? x->issuer.dn : "");
    if (x->not_after.valid)
        jw_str(w, "not_after", x->not_after.iso);
    if (x->not_before.valid)
        jw_str(w, "not_before", x->not_before.iso);
    jw_str(w, "subject", x->subject.dn ? x->subject.dn : "");
    ecs_x509(w, x);
}

static void ecs_cert_side(struct eve *e, const struct x509_chain *c)
{
    struct jw *w = &e->w;
    jw_arr_open(w, "certificate_chain");
    for (size_t i = 0; i < c->n; i++)
        fmt_cert_base64(w, e->certs, c->e[i]);
    jw_arr_close(w);
    fmt_cert_cached(w, e->certs, c->e[0], CERTJSON_ECS_LEAF, true, ecs_leaf);
}

static void ecs_endpoint(struct eve *e, const char *key, const struct conn_report *ev, int side)
{
    const struct flow *f = ev->flow;
    struct jw *w = &e->w;
    char a[INET6_ADDRSTRLEN];
    fmt_addr(f, side, a, sizeof(a));
    jw_obj_open(w, key);
    jw_str(w, "ip", a);
    jw_uint(w, "port", f->key.port[side]);
    jw_uint(w, "packets", ev->pkts[side]);
    jw_uint(w, "bytes", ev->bytes[side]);
    if (e->cfg.geoip) {
        const struct geoip_info *g =
            geoip_lookup(e->cfg.geoip, e->geo, f->key.ip_ver, f->key.addr[side]);
        fmt_geoip(w, NULL, g);   /* geo and as inside the endpoint, as ECS */
    }
    jw_obj_close(w);
}

/* The fields every connection document and alert share. */
static void ecs_common(struct eve *e, const struct conn_report *ev, bool alert)
{
    struct jw *w = &e->w;
    const struct flow *f = ev->flow;
    const struct tls_session *t = ev->tls;
    const struct ev_client_hello *ch = conn_report_ch(ev);
    const struct ev_server_hello *sh = ev->sh[0] && ev->sh[0]->present ? ev->sh[0] : NULL;
    const struct ev_server_hello *final_sh = conn_report_final_sh(ev);
    const struct x509_chain *chain = ev->chain && ev->chain->n > 0 ? ev->chain : NULL;
    const struct x509_chain *cchain =
        ev->client_chain && ev->client_chain->n > 0 ? ev->client_chain : NULL;
    int cs = ev->client_side, ss = cs ^ 1;
    enum app app = app_of(ev);
    char buf[64];

    /* destination, network, observer, related, source, tls (ECS order is
     * alphabetical by habit; readers do not depend on it). */
    ecs_endpoint(e, "destination", ev, ss);

    jw_obj_open(w, "network");
    char cid[COMMUNITY_ID_LEN];
    community_id(f, e->cfg.community_id_seed, cid);
    jw_uint(w, "bytes", ev->bytes[0] + ev->bytes[1]);
    if (cid[0])
        jw_str(w, "community_id", cid);
    jw_str(w, "iana_number", f->key.proto == IPPROTO_UDP ? "17" : "6");
    if (f->n_vlan > 1) {
        snprintf(buf, sizeof(buf), "%u", (unsigned)f->vlan[1]);
        jw_obj_open(w, "inner");
        jw_obj_open(w, "vlan");
        jw_str(w, "id", buf);
        jw_obj_close(w);
        jw_obj_close(w);
    }
    jw_uint(w, "packets", ev->pkts[0] + ev->pkts[1]);
    jw_str(w, "protocol", app_name[app]);
    jw_str(w, "transport", f->key.proto == IPPROTO_UDP ? "udp" : "tcp");
    jw_str(w, "type", f->key.ip_ver == 4 ? "ipv4" : "ipv6");
    if (f->n_vlan > 0) {
        snprintf(buf, sizeof(buf), "%u", (unsigned)f->vlan[0]);
        jw_obj_open(w, "vlan");
        jw_str(w, "id", buf);
        jw_obj_close(w);
    }
    jw_obj_close(w);

    jw_obj_open(w, "observer");
    if (e->cfg.host)
        jw_str(w, "hostname", e->cfg.host);
    if (e->cfg.in_iface) {
        jw_obj_open(w, "ingress");
        jw_obj_open(w, "interface");
        jw_str(w, "name", e->cfg.in_iface);
        jw_obj_close(w);
        jw_obj_close(w);
    }
    jw_str(w, "product", "pinscope");
    jw_str(w, "type", "sensor");
    jw_str(w, "vendor", "pinscope");
    jw_str(w, "version", PINSCOPE_VERSION);
    jw_obj_close(w);

    jw_obj_open(w, "related");
    jw_arr_open(w, "hash");
    if (ch) {
        jw_str(w, NULL, ch->ja3_hash);
        jw_str(w, NULL, ch->ja4);
    }
    if (sh) {
        jw_str(w, NULL, sh->ja3s_hash);
        jw_str(w, NULL, sh->ja4s);
    }
    if (chain)
        upper_hex(w, NULL, chain->e[0]->info.sha256);
    jw_arr_close(w);
    if (ch && ch->has_sni && ch->sni_len) {
        jw_arr_open(w, "hosts");
        fmt_wire_string(w, NULL, ch->sni, ch->sni_len);
        jw_arr_close(w);
    }
    jw_arr_open(w, "ip");
    fmt_addr(f, cs, buf, sizeof(buf));
    jw_str(w, NULL, buf);
    fmt_addr(f, ss, buf, sizeof(buf));
    jw_str(w, NULL, buf);
    jw_arr_close(w);
    jw_obj_close(w);

    ecs_endpoint(e, "source", ev, cs);

    jw_obj_open(w, "tls");
    if (t->has_cipher) {
        char cb[8];
        jw_str(w, "cipher", fmt_cipher_name(e->ssl, t->cipher, cb));
    }
    if (t->group) {
        char gb[8];
        jw_str(w, "curve", fmt_group_name(t->group, gb));
    }
    if (ch || cchain) {
        jw_obj_open(w, "client");
        if (cchain)
            ecs_cert_side(e, cchain);
        if (ch) {
            jw_str(w, "ja3", ch->ja3_hash);
            if (ch->has_sni) {   /* raw bytes, if not UTF-8: pinscope.tls.sni_hex */
                char sb[3 * 256 + 1];
                fmt_utf8(ch->sni, ch->sni_len, sb);
                jw_str(w, "server_name", sb);
            }
            if (ch->lists && ch->n_ciphers) {
                jw_arr_open(w, "supported_ciphers");
                for (unsigned i = 0; i < ch->n_ciphers; i++) {
                    char cb[8];
                    if (!tls_is_grease(ch->lists[i]))
                        jw_str(w, NULL, fmt_cipher_name(e->ssl, ch->lists[i], cb));
                }
                jw_arr_close(w);
            }
        }
        jw_obj_close(w);
    }
    jw_bool(w, "established", t->progress == TLS_PROGRESS_COMPLETE);
    if (final_sh && final_sh->has_alpn) {
        char ab[3 * 256 + 1];
        fmt_utf8(final_sh->alpn, final_sh->alpn_len, ab);
        jw_str(w, "next_protocol", ab);
    }
    jw_bool(w, "resumed", t->resumed);
    if (sh || chain) {
        jw_obj_open(w, "server");
        if (chain)
            ecs_cert_side(e, chain);
        if (sh)
            jw_str(w, "ja3s", sh->ja3s_hash);
        jw_obj_close(w);
    }
    const char *num, *proto;
    uint16_t v = t->version ? t->version : t->sslv2_version ? 0x0002 : 0;
    if (ecs_version(v, &num, &proto)) {
        jw_str(w, "version", num);
        jw_str(w, "version_protocol", proto);
    }
    jw_obj_close(w);

    /* pinscope.* : what ECS has no field for. */
    jw_obj_open(w, "pinscope");
    jw_uint(w, "flow_id", flow_id(f));
    if (e->pcap_filename)
        jw_str(w, "pcap_filename", e->pcap_filename);
    if (ev->quic) {
        jw_obj_open(w, "quic");
        fmt_quic_version(w, "version", ev->quic->version);
        fmt_quic_facts(w, ev->quic);
        jw_obj_close(w);
    }
    jw_obj_open(w, "tls");
    char vb[24];
    jw_str(w, "version", fmt_version(v ? v : ch ? ch->version : 0, vb));
    if (ch && ch->has_sni)
        fmt_wire_string(w, "sni", ch->sni, ch->sni_len);
    if (ch)
        fmt_client_fps(w, ch);
    if (sh)
        fmt_server_fps(w, sh);
    if (ch && ch->has_alpn && ch->n_alpn)
        fmt_alpn_list(w, "client_alpns", ch);
    fmt_tls_own(w, e->ssl, ev, e->certs);
    if (cchain)
        fmt_x509_chain(w, "client_x509_chain", cchain, e->certs);
    jw_obj_close(w);
    if (!alert)
        jw_obj_close(w);   /* an alert adds pinscope.alert first */
}

/* @timestamp, ecs, event (the caller adds its own keys, then closes). */
static void ecs_head(struct eve *e, const struct conn_report *ev, const char *kind,
                     const char *dataset)
{
    struct jw *w = &e->w;
    const struct flow *f = ev->flow;
    char ts[40];
    ecs_ts(f->first_ts_us, ts);
    jw_str(w, "@timestamp", ts);
    jw_obj_open(w, "ecs");
    jw_str(w, "version", ECS_VERSION);
    jw_obj_close(w);
    jw_obj_open(w, "event");
    jw_str(w, "dataset", dataset);
    uint64_t dur = f->last_ts_us >= f->first_ts_us ? f->last_ts_us - f->first_ts_us : 0;
    jw_uint(w, "duration", dur * 1000);   /* nanoseconds */
    ecs_ts(f->last_ts_us, ts);
    jw_str(w, "end", ts);
    jw_str(w, "kind", kind);
    jw_str(w, "module", "pinscope");
    ecs_ts(f->first_ts_us, ts);
    jw_str(w, "start", ts);
}

int ecs_conn(struct eve *e, const struct conn_report *ev)
{
    struct jw *w = line_begin(e);
    ecs_head(e, ev, "event", app_of(ev) == APP_QUIC ? "pinscope.quic" : "pinscope.tls");
    jw_arr_open(w, "category");
    jw_str(w, NULL, "network");
    jw_arr_close(w);
    jw_arr_open(w, "type");
    jw_str(w, NULL, "connection");
    jw_str(w, NULL, "protocol");
    jw_arr_close(w);
    jw_obj_close(w);
    ecs_common(e, ev, false);
    return line_end(e);
}

int ecs_alert(struct eve *e, const struct conn_report *ev, const struct detect_alert *al)
{
    struct jw *w = line_begin(e);
    char buf[32];
    ecs_head(e, ev, "alert", "pinscope.alert");
    jw_arr_open(w, "category");
    jw_str(w, NULL, "network");
    jw_str(w, NULL, "intrusion_detection");
    jw_arr_close(w);
    jw_str(w, "reason", al->reason);
    jw_uint(w, "severity", (uint64_t)al->severity);
    jw_arr_open(w, "type");
    jw_str(w, NULL, "info");
    jw_arr_close(w);
    jw_obj_close(w);
    jw_str(w, "message", al->reason);
    jw_obj_open(w, "rule");
    jw_str(w, "category", al->category);
    snprintf(buf, sizeof(buf), "%u", (unsigned)al->sid);
    jw_str(w, "id", buf);
    jw_str(w, "name", al->signature);
    jw_str(w, "ruleset", "pinscope");
    jw_str(w, "version", "1");
    jw_obj_close(w);
    if (strcmp(al->category, "interception") == 0) {
        jw_obj_open(w, "threat");
        jw_str(w, "framework", "MITRE ATT&CK");
        jw_obj_open(w, "technique");
        str_array1(w, "id", "T1557");
        str_array1(w, "name", "Adversary-in-the-Middle");
        str_array1(w, "reference", "https://attack.mitre.org/techniques/T1557/");
        jw_obj_close(w);
        jw_obj_close(w);
    }
    ecs_common(e, ev, true);
    /* pinscope is still open: the alert's own facts. */
    jw_obj_open(w, "alert");
    jw_str(w, "confidence", al->confidence);
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
    jw_obj_close(w);   /* pinscope */
    return line_end(e);
}

int ecs_stats(struct eve *e, const struct eve_stats_in *in)
{
    struct jw *w = line_begin(e);
    char ts[40];
    ecs_ts(in->last_ts_us, ts);
    jw_str(w, "@timestamp", ts);
    jw_obj_open(w, "ecs");
    jw_str(w, "version", ECS_VERSION);
    jw_obj_close(w);
    jw_obj_open(w, "event");
    jw_str(w, "dataset", "pinscope.stats");
    jw_str(w, "kind", "metric");
    jw_str(w, "module", "pinscope");
    jw_obj_close(w);
    if (e->cfg.host) {
        jw_obj_open(w, "observer");
        jw_str(w, "hostname", e->cfg.host);
        jw_obj_close(w);
    }
    jw_obj_open(w, "pinscope");
    jw_obj_open(w, "stats");
    fmt_stats_fields(w, in->total);
    if (!e->cfg.deterministic)
        jw_double(w, "elapsed_seconds", in->elapsed_s);
    if (in->one_worker)
        jw_uint(w, "worker", in->worker);
    if (in->final)
        jw_bool(w, "final", true);
    jw_bool(w, "degraded", in->degraded);
    if (in->degraded && in->degraded_reason)
        jw_str(w, "degraded_reason", in->degraded_reason);
    jw_obj_close(w);
    jw_obj_close(w);
    return line_end(e);
}
