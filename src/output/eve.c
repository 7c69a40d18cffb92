/*
 * eve.c - EVE JSON serializers (see eve.h).
 *
 * Built with cJSON, one object per event, printed unformatted on one line
 * into the caller's struct eve buffer.  Key order is fixed by the order of
 * the cJSON_Add* calls below, so output is reproducible for the same input.
 *
 * Threads: every mutable thing is in struct eve (one per worker) or
 * thread-local (the cJSON node arena, below).  The cJSON allocator hooks
 * are installed once per process and never change afterwards.
 */
#include "output/eve.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "flow/id.h"
#include "quic/quic.h"
#include "util/hash.h"

static void add_uint(cJSON *obj, const char *name, uint64_t v);
static void add_uint_item(cJSON *arr, uint64_t v);

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

static void add_wire_string(cJSON *obj, const char *name, const uint8_t *p, size_t n)
{
    char buf[3 * 256 + 1];
    if (n > 255)
        n = 255;
    bool clean = to_utf8(p, n, buf);
    cJSON_AddStringToObject(obj, name, buf);
    if (!clean) {
        char hex[2 * 255 + 1];
        for (size_t i = 0; i < n; i++)
            snprintf(hex + 2 * i, 3, "%02x", p[i]);
        hex[2 * n] = '\0';
        char hname[64];
        snprintf(hname, sizeof(hname), "%s_hex", name);
        cJSON_AddStringToObject(obj, hname, hex);
    }
}

static cJSON *alpn_item(const uint8_t *p, size_t n)
{
    char buf[3 * 256 + 1];
    to_utf8(p, n, buf);
    return cJSON_CreateString(buf);
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

static void add_client_fps(cJSON *o, const struct ev_client_hello *c)
{
    cJSON *ja3 = cJSON_AddObjectToObject(o, "ja3");
    cJSON_AddStringToObject(ja3, "hash", c->ja3_hash);
    cJSON_AddStringToObject(ja3, "string", c->ja3_str ? c->ja3_str : "");
    cJSON_AddStringToObject(o, "ja4", c->ja4);
    cJSON_AddStringToObject(o, "ja4_r", c->ja4_r ? c->ja4_r : "");
    cJSON_AddStringToObject(o, "ja4_o", c->ja4_o);
    cJSON_AddStringToObject(o, "ja4_ro", c->ja4_ro ? c->ja4_ro : "");
}

static void add_server_fps(cJSON *o, const struct ev_server_hello *s)
{
    cJSON *ja3s = cJSON_AddObjectToObject(o, "ja3s");
    cJSON_AddStringToObject(ja3s, "hash", s->ja3s_hash);
    cJSON_AddStringToObject(ja3s, "string", s->ja3s_str ? s->ja3s_str : "");
    cJSON_AddStringToObject(o, "ja4s", s->ja4s);
    cJSON_AddStringToObject(o, "ja4s_r", s->ja4s_r ? s->ja4s_r : "");
}

/* ---- certificates ------------------------------------------------------ */

static void add_opt_string(cJSON *o, const char *name, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, name, v);
}

static void add_string_list(cJSON *o, const char *name, const struct x509_cert_list *l)
{
    if (l->n == 0)
        return;
    cJSON *arr = cJSON_AddArrayToObject(o, name);
    for (size_t i = 0; i < l->n; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(l->v[i]));
}

static cJSON *cert_object(const struct x509_cert *x)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "subject", x->subject.dn ? x->subject.dn : "");
    cJSON_AddStringToObject(o, "issuer", x->issuer.dn ? x->issuer.dn : "");
    add_opt_string(o, "subject_cn", x->subject.cn);
    add_opt_string(o, "subject_o", x->subject.o);
    add_opt_string(o, "issuer_cn", x->issuer.cn);
    add_opt_string(o, "issuer_o", x->issuer.o);
    add_opt_string(o, "serial", x->serial);
    if (x->not_before.valid)
        cJSON_AddStringToObject(o, "not_before", x->not_before.iso);
    if (x->not_after.valid)
        cJSON_AddStringToObject(o, "not_after", x->not_after.iso);
    if (x->has_san) {
        cJSON *san = cJSON_AddObjectToObject(o, "san");
        add_string_list(san, "dns", &x->san_dns);
        add_string_list(san, "ip", &x->san_ip);
        add_string_list(san, "email", &x->san_email);
        add_string_list(san, "uri", &x->san_uri);
    }
    cJSON_AddStringToObject(o, "sha1", x->sha1);
    cJSON_AddStringToObject(o, "sha256", x->sha256);
    cJSON_AddStringToObject(o, "spki_sha256", x->spki_sha256);
    cJSON *key = cJSON_AddObjectToObject(o, "key");
    cJSON_AddStringToObject(key, "algorithm", x->key_alg);
    if (x->key_bits > 0)
        add_uint(key, "bits", (uint64_t)x->key_bits);
    if (x->curve_nist[0])
        cJSON_AddStringToObject(key, "curve", x->curve_nist);
    else if (x->curve[0])
        cJSON_AddStringToObject(key, "curve", x->curve);
    cJSON_AddStringToObject(o, "signature_algorithm", x->sig_alg);
    cJSON_AddBoolToObject(o, "is_ca", x->is_ca);
    cJSON_AddBoolToObject(o, "self_signed", x->self_signed);
    add_opt_string(o, "ski", x->skid);
    add_opt_string(o, "aki", x->akid);
    add_uint(o, "sct_count", x->sct_count);
    cJSON_AddStringToObject(o, "ja4x", x->ja4x);
    cJSON_AddStringToObject(o, "ja4x_r", x->ja4x_r ? x->ja4x_r : "");
    return o;
}

static cJSON *chain_array(const struct x509_chain *c)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < c->n; i++)
        cJSON_AddItemToArray(arr, cert_object(&c->e[i]->info));
    return arr;
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
static void add_eve_leaf(cJSON *tls, const struct x509_cert *x)
{
    char buf[3 * 128 + 1];
    cJSON_AddStringToObject(tls, "subject", x->subject.dn ? x->subject.dn : "");
    cJSON_AddStringToObject(tls, "issuerdn", x->issuer.dn ? x->issuer.dn : "");
    if (x->serial && x->serial[0] != '-' && strlen(x->serial) <= 2 * 64) {
        colon_hex(x->serial, true, buf, sizeof(buf));
        cJSON_AddStringToObject(tls, "serial", buf);
    }
    colon_hex(x->sha1, false, buf, sizeof(buf));
    cJSON_AddStringToObject(tls, "fingerprint", buf);
    if (x->not_before.valid) {
        snprintf(buf, sizeof(buf), "%.19s", x->not_before.iso);
        cJSON_AddStringToObject(tls, "notbefore", buf);
    }
    if (x->not_after.valid) {
        snprintf(buf, sizeof(buf), "%.19s", x->not_after.iso);
        cJSON_AddStringToObject(tls, "notafter", buf);
    }
}

static void add_chain_checks(cJSON *tls, const struct x509_chain *c)
{
    cJSON *o = cJSON_AddObjectToObject(tls, "chain_checks");
    cJSON_AddBoolToObject(o, "linked", c->linked);
    cJSON *v = cJSON_AddObjectToObject(o, "validation");
    cJSON_AddStringToObject(v, "code", x509_verify_name(c->verify_error));
    cJSON_AddStringToObject(v, "text", x509_verify_text(c->verify_error));
    if (c->verify_error)
        add_uint(v, "depth", (uint64_t)c->verify_depth);
    if (c->has_sni)
        cJSON_AddBoolToObject(o, "sni_match", c->sni_match);
    cJSON_AddBoolToObject(o, "leaf_shares_issuer_key", c->leaf_shares_issuer_key);
    cJSON_AddNumberToObject(o, "validity_days", (double)c->validity_days);
    cJSON_AddNumberToObject(o, "not_before_age_seconds", (double)c->not_before_age_s);
    if (c->unparsable)
        add_uint(o, "unparsable_certificates", c->unparsable);
    if (c->total > c->n + c->unparsable)
        add_uint(o, "certificates_not_kept", c->total - c->n - c->unparsable);
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

static void add_client_alpn(cJSON *alpn, const struct ev_client_hello *c)
{
    cJSON *arr = cJSON_AddArrayToObject(alpn, "client");
    size_t off = 0;
    for (unsigned i = 0; i < c->n_alpn && off < c->alpn_bytes; i++) {
        size_t l = c->alpn[off++];
        if (l > (size_t)c->alpn_bytes - off)
            break;
        cJSON_AddItemToArray(arr, alpn_item(c->alpn + off, l));
        off += l;
    }
}

/*
 * cJSON allocates every node and string separately.  An event is built,
 * printed and thrown away at once, so while a thread builds one, its
 * allocations come from a thread-local bump arena that is reset after the
 * line is printed: no free() per node.  Blocks that do not fit the arena
 * fall back to malloc and are chained for the reset.  The hooks are
 * installed once (eve_new); outside an event (policy and signature
 * loading) they are plain malloc/free.
 */
#define ARENA_SIZE (64 * 1024)

struct arena_big {
    struct arena_big *next;
    max_align_t data[];
};

static _Thread_local struct {
    bool active;
    unsigned char *buf;
    size_t used;
    struct arena_big *big;
} arena;

static void *arena_malloc(size_t n)
{
    if (!arena.active)
        return malloc(n);
    size_t a = (n + 15) & ~(size_t)15;
    if (!arena.buf)
        arena.buf = malloc(ARENA_SIZE);
    if (arena.buf && a <= ARENA_SIZE - arena.used) {
        void *p = arena.buf + arena.used;
        arena.used += a;
        return p;
    }
    struct arena_big *b = malloc(sizeof(*b) + n);
    if (!b)
        return NULL;
    b->next = arena.big;
    arena.big = b;
    return b->data;
}

static void arena_free(void *p)
{
    if (!arena.active)
        free(p);
    /* else: released all at once by arena_reset() */
}

static void install_hooks(void)
{
    cJSON_Hooks h = { arena_malloc, arena_free };
    cJSON_InitHooks(&h);
}

static void arena_begin(void)
{
    arena.active = true;
}

static void arena_reset(void)
{
    while (arena.big) {
        struct arena_big *n = arena.big->next;
        free(arena.big);
        arena.big = n;
    }
    arena.used = 0;
    arena.active = false;
}

/* Release this thread's arena block (a worker that ends). */
void eve_thread_exit(void)
{
    arena_reset();
    free(arena.buf);
    arena.buf = NULL;
}

struct eve {
    bool deterministic;
    SSL_CTX *ssl_ctx;       /* cipher-suite names from OpenSSL's table */
    SSL *ssl;
    char *buf;              /* the unit: complete lines */
    size_t len, cap;
};

struct eve *eve_new(bool deterministic)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install_hooks);
    struct eve *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->deterministic = deterministic;
    e->ssl_ctx = SSL_CTX_new(TLS_method());
    e->ssl = e->ssl_ctx ? SSL_new(e->ssl_ctx) : NULL;
    e->cap = CFG_EVENT_LINE_RESERVE * 2;
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

/* Room for `n` more bytes in the unit, within CFG_EVENT_UNIT_MAX. */
static bool unit_reserve(struct eve *e, size_t n)
{
    if (n <= e->cap - e->len)
        return true;
    if (n > CFG_EVENT_UNIT_MAX - e->len)
        return false;
    size_t cap = e->cap;
    while (cap - e->len < n)
        cap *= 2;
    if (cap > CFG_EVENT_UNIT_MAX)
        cap = CFG_EVENT_UNIT_MAX;
    char *b = realloc(e->buf, cap);
    if (!b)
        return false;
    e->buf = b;
    e->cap = cap;
    return true;
}

/* Integers as raw JSON text: exact for 64-bit values (cJSON keeps numbers
 * as doubles) and without a printf/strtod round trip. */
static const char *uint_text(uint64_t v, char buf[24])
{
    char *p = buf + 23;
    *p = '\0';
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

static void add_uint(cJSON *obj, const char *name, uint64_t v)
{
    char buf[24];
    cJSON_AddRawToObject(obj, name, uint_text(v, buf));
}

/* The same, as an array element. */
static void add_uint_item(cJSON *arr, uint64_t v)
{
    char buf[24];
    cJSON_AddItemToArray(arr, cJSON_CreateRaw(uint_text(v, buf)));
}

/* Print `root` as one line at the end of the unit.  -1 (nothing added)
 * when the line does not fit CFG_EVENT_UNIT_MAX or memory runs out. */
static int write_line(struct eve *e, cJSON *root)
{
    int rc = -1;
    if (unit_reserve(e, CFG_EVENT_LINE_RESERVE) &&
        cJSON_PrintPreallocated(root, e->buf + e->len, (int)CFG_EVENT_LINE_RESERVE - 1, false)) {
        size_t n = strlen(e->buf + e->len);
        e->buf[e->len + n] = '\n';
        e->len += n + 1;
        rc = 0;
    } else {
        char *s = cJSON_PrintUnformatted(root);   /* arena memory too */
        size_t n = s ? strlen(s) : 0;
        if (s && unit_reserve(e, n + 1)) {
            memcpy(e->buf + e->len, s, n);
            e->buf[e->len + n] = '\n';
            e->len += n + 1;
            rc = 0;
        }
    }
    arena_reset();   /* frees root, every node and a printed copy */
    return rc;
}

/* The envelope every per-connection event shares (Suricata EVE). */
static cJSON *envelope(const struct conn_report *ev, const char *type)
{
    const struct flow *f = ev->flow;
    int cs = ev->client_side, ss = cs ^ 1;
    char ts[40], a[INET6_ADDRSTRLEN];
    cJSON *root = cJSON_CreateObject();
    event_format_ts(f->first_ts_us, ts);
    cJSON_AddStringToObject(root, "timestamp", ts);
    add_uint(root, "flow_id", flow_id(f));
    cJSON_AddStringToObject(root, "event_type", type);
    addr_string(f, cs, a, sizeof(a));
    cJSON_AddStringToObject(root, "src_ip", a);
    add_uint(root, "src_port", f->key.port[cs]);
    addr_string(f, ss, a, sizeof(a));
    cJSON_AddStringToObject(root, "dest_ip", a);
    add_uint(root, "dest_port", f->key.port[ss]);
    cJSON_AddStringToObject(root, "proto", f->key.proto == IPPROTO_UDP ? "UDP" : "TCP");
    char cid[COMMUNITY_ID_LEN];
    community_id(f, cid);
    if (cid[0])
        cJSON_AddStringToObject(root, "community_id", cid);
    return root;
}

int eve_alert(struct eve *e, const struct conn_report *ev, const struct detect_alert *al)
{
    arena_begin();
    cJSON *root = envelope(ev, "alert");
    cJSON *a = cJSON_AddObjectToObject(root, "alert");
    cJSON_AddStringToObject(a, "action", "allowed");
    add_uint(a, "gid", 1);
    add_uint(a, "signature_id", al->sid);
    add_uint(a, "rev", 1);
    cJSON_AddStringToObject(a, "signature", al->signature);
    cJSON_AddStringToObject(a, "category", al->category);
    add_uint(a, "severity", (uint64_t)al->severity);
    cJSON_AddStringToObject(a, "confidence", al->confidence);
    cJSON_AddStringToObject(a, "reason", al->reason);
    cJSON *evid = cJSON_AddObjectToObject(a, "evidence");
    for (int i = 0; i < al->n_ev; i++)
        cJSON_AddStringToObject(evid, al->ev[i].key, al->ev[i].value);
    if (al->related_flow_id) {
        cJSON *r = cJSON_AddArrayToObject(a, "related_flow_ids");
        add_uint_item(r, al->related_flow_id);
    }
    const struct ev_client_hello *ch = ev->ch[0];
    if (ch && ch->present && ch->has_sni) {
        cJSON *tls = cJSON_AddObjectToObject(root, "tls");
        add_wire_string(tls, "sni", ch->sni, ch->sni_len);
    }
    return write_line(e, root);
}

static void add_quic_version(cJSON *o, const char *name, uint32_t v)
{
    char buf[16];
    cJSON_AddStringToObject(o, name, quic_version_name(v, buf));
}

static void add_quic(cJSON *tls, const struct ev_quic *q)
{
    cJSON *o = cJSON_AddObjectToObject(tls, "quic");
    add_quic_version(o, "version", q->version);
    if (q->final_version && q->final_version != q->version)
        add_quic_version(o, "final_version", q->final_version);
    if (q->has_tp) {
        cJSON *tp = cJSON_AddArrayToObject(o, "transport_parameters");
        for (unsigned i = 0; i < q->n_tp; i++)
            add_uint_item(tp, q->tp_ids[i]);
        if (q->tp_total > q->n_tp)
            add_uint(o, "transport_parameters_not_kept", q->tp_total - q->n_tp);
    }
    cJSON_AddBoolToObject(o, "version_negotiation", q->version_negotiation);
    cJSON_AddBoolToObject(o, "retry", q->retry);
    if (q->retry)
        cJSON_AddBoolToObject(o, "retry_verified", q->retry_verified);
    cJSON *pk = cJSON_AddObjectToObject(o, "packets_decrypted");
    add_uint(pk, "client_initial", q->initial_packets[0]);
    add_uint(pk, "server_initial", q->initial_packets[1]);
    add_uint(pk, "client_handshake", q->handshake_packets[0]);
    add_uint(pk, "server_handshake", q->handshake_packets[1]);
    if (q->undecryptable)
        add_uint(o, "packets_undecryptable", q->undecryptable);
    if (q->has_close) {
        cJSON *cc = cJSON_AddObjectToObject(o, "connection_close");
        cJSON_AddStringToObject(cc, "from", q->close_from_client ? "client" : "server");
        add_uint(cc, "error_code", q->close_error);
        if (q->close_error >= 0x100 && q->close_error <= 0x1ff)
            cJSON_AddStringToObject(cc, "tls_alert", tls_alert_name((uint8_t)(q->close_error - 0x100)));
    }
}

static void add_dtls(cJSON *tls, const struct ev_dtls *d)
{
    char vb[24];
    cJSON *o = cJSON_AddObjectToObject(tls, "dtls");
    cJSON_AddBoolToObject(o, "hello_verify_request", d->hello_verify_request);
    if (d->hello_verify_request) {
        add_uint(o, "cookie_length", d->cookie_len);
        cJSON_AddStringToObject(o, "hello_verify_version", tls_version_name(d->hvr_version, vb));
    }
    if (d->retransmissions)
        add_uint(o, "retransmissions", d->retransmissions);
    cJSON *e = cJSON_AddObjectToObject(o, "encrypted_records");
    add_uint(e, "client", d->encrypted_records[0]);
    add_uint(e, "server", d->encrypted_records[1]);
}

int eve_tls(struct eve *e, const struct conn_report *ev)
{
    const struct tls_session *t = ev->tls;
    char vb[24];

    arena_begin();
    cJSON *root = envelope(ev, "tls");

    cJSON *tls = cJSON_AddObjectToObject(root, "tls");
    const struct ev_client_hello *ch = ev->ch[0];
    const struct ev_server_hello *sh = ev->sh[0];
    /* After a HelloRetryRequest the real ServerHello is the second one. */
    const struct ev_server_hello *final_sh = (ev->sh[1] && ev->sh[1]->present) ? ev->sh[1] : sh;

    if (t->version)
        cJSON_AddStringToObject(tls, "version", tls_version_name(t->version, vb));
    if (t->sslv2_version) {
        cJSON_AddBoolToObject(tls, "sslv2_client_hello", true);
        cJSON_AddStringToObject(tls, "client_version", tls_version_name(t->sslv2_version, vb));
    } else if (ch && ch->present) {
        cJSON_AddStringToObject(tls, "client_version", tls_version_name(t->client_version, vb));
    }
    if (ch && ch->present && ch->has_sni)
        add_wire_string(tls, "sni", ch->sni, ch->sni_len);
    if ((ch && ch->present && ch->has_alpn) || (final_sh && final_sh->present && final_sh->has_alpn)) {
        cJSON *alpn = cJSON_AddObjectToObject(tls, "alpn");
        if (ch && ch->present && ch->has_alpn)
            add_client_alpn(alpn, ch);
        if (final_sh && final_sh->present && final_sh->has_alpn)
            cJSON_AddItemToObject(alpn, "server", alpn_item(final_sh->alpn, final_sh->alpn_len));
    }
    if (t->has_cipher) {
        char cb[8];
        cJSON_AddStringToObject(tls, "cipher", cipher_name(e->ssl, t->cipher, cb));
    }
    if (ch && ch->present)
        add_client_fps(tls, ch);
    else if (!t->sslv2_version)
        cJSON_AddBoolToObject(tls, "client_hello_seen", false);
    if (sh && sh->present)
        add_server_fps(tls, sh);
    if (t->tunnel != TLS_TUNNEL_NONE)
        cJSON_AddStringToObject(tls, "tunnel", tls_tunnel_name((enum tls_tunnel)t->tunnel));
    if (ev->client_app)
        cJSON_AddStringToObject(tls, "client_app", ev->client_app);
    if (ev->interception_product)
        cJSON_AddStringToObject(tls, "interception_product", ev->interception_product);
    cJSON_AddStringToObject(tls, "state", tls_progress_name((enum tls_progress)t->progress));
    cJSON_AddStringToObject(tls, "end", end_name(ev->end));

    if (t->hrr || (ev->ch[1] && ev->ch[1]->present)) {
        cJSON *hr = cJSON_AddObjectToObject(tls, "hello_retry");
        if (ev->ch[1] && ev->ch[1]->present) {
            add_client_fps(hr, ev->ch[1]);
            if (ev->ch[1]->has_sni)
                add_wire_string(hr, "sni", ev->ch[1]->sni, ev->ch[1]->sni_len);
        }
        if (ev->sh[1] && ev->sh[1]->present)
            add_server_fps(hr, ev->sh[1]);
    }

    if (ev->quic)
        add_quic(tls, ev->quic);
    if (ev->dtls)
        add_dtls(tls, ev->dtls);

    if (ev->chain && ev->chain->n > 0)
        add_eve_leaf(tls, &ev->chain->e[0]->info);
    const char *why = chain_invisible_reason(ev);
    cJSON_AddBoolToObject(tls, "chain_visible", why == NULL);
    if (why)
        cJSON_AddStringToObject(tls, "chain_invisible_reason", why);
    if (ev->chain && ev->chain->n > 0) {
        cJSON_AddItemToObject(tls, "chain", chain_array(ev->chain));
        add_chain_checks(tls, ev->chain);
    }
    if (ev->client_chain && ev->client_chain->n > 0)
        cJSON_AddItemToObject(tls, "client_chain", chain_array(ev->client_chain));

    cJSON *alerts = cJSON_AddArrayToObject(tls, "alerts");
    for (unsigned i = 0; i < t->n_alerts; i++) {
        const struct tls_alert *al = &t->alerts[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "from", al->from_client ? "client" : "server");
        if (al->encrypted) {
            cJSON_AddBoolToObject(o, "encrypted", true);
        } else {
            if (al->decrypted)
                cJSON_AddBoolToObject(o, "decrypted", true);
            cJSON_AddStringToObject(o, "level", al->level == 2 ? "fatal" :
                                                al->level == 1 ? "warning" : "unknown");
            cJSON_AddStringToObject(o, "description", tls_alert_name(al->description));
            add_uint(o, "code", al->description);
        }
        cJSON_AddBoolToObject(o, "after_certificate", al->after_certificate);
        cJSON_AddItemToArray(alerts, o);
    }
    if (t->alerts_total > t->n_alerts)
        add_uint(tls, "alerts_dropped", t->alerts_total - t->n_alerts);

    return write_line(e, root);
}

static cJSON *stats_object(const struct stats *st)
{
    cJSON *o = cJSON_CreateObject();
    add_uint(o, "packets", st->packets);
    add_uint(o, "bytes", st->bytes);
    add_uint(o, "packets_tcp", st->packets_tcp);
    add_uint(o, "packets_udp", st->packets_udp);
    add_uint(o, "packets_quic", st->packets_quic);
    add_uint(o, "packets_dtls", st->packets_dtls);
    add_uint(o, "packets_other", st->packets_other);
    add_uint(o, "flows", st->flows);
    add_uint(o, "flows_tls", st->flows_tls);
    add_uint(o, "flows_quic", st->flows_quic);
    add_uint(o, "flows_dtls", st->flows_dtls);
    add_uint(o, "tls_events", st->tls_events);
    add_uint(o, "alerts", st->alerts);
    add_uint(o, "events_unwritable", st->events_unwritable);
    if (st->certs_dumped || st->certs_dump_failed) {
        add_uint(o, "certs_dumped", st->certs_dumped);
        add_uint(o, "certs_dump_failed", st->certs_dump_failed);
    }
    add_uint(o, "tls_client_hellos", st->tls_client_hellos);
    add_uint(o, "tls_server_hellos", st->tls_server_hellos);
    add_uint(o, "tls_complete", st->tls_complete);
    add_uint(o, "tls_certificate_msgs", st->tls_certificate_msgs);
    add_uint(o, "tls_tunnelled", st->tls_tunnelled);
    add_uint(o, "capture_received", st->pcap_received);
    add_uint(o, "capture_drops", st->pcap_drops);
    add_uint(o, "capture_ifdrops", st->pcap_ifdrops);
    cJSON *an = cJSON_AddObjectToObject(o, "anomalies");
    for (int i = 0; i < STATS_ANOMALY_COUNT; i++)
        if (st->anomalies[i])
            add_uint(an, stats_anomaly_name((enum stats_anomaly)i), st->anomalies[i]);
    cJSON *caps = cJSON_AddObjectToObject(o, "caps");
    for (int i = 0; i < STATS_CAP_COUNT; i++)
        if (st->caps[i])
            add_uint(caps, stats_cap_name((enum stats_cap)i), st->caps[i]);
    return o;
}

int eve_stats(struct eve *e, const struct eve_stats_in *in)
{
    char ts[40];
    arena_begin();
    cJSON *root = cJSON_CreateObject();
    event_format_ts(in->last_ts_us, ts);
    cJSON_AddStringToObject(root, "timestamp", ts);
    cJSON_AddStringToObject(root, "event_type", "stats");
    cJSON *s = stats_object(in->total);
    if (!e->deterministic) {
        cJSON_AddNumberToObject(s, "elapsed_seconds", in->elapsed_s);
        if (in->uptime_s > 0)
            add_uint(s, "uptime_seconds", in->uptime_s);
    }
    if (in->final)
        cJSON_AddBoolToObject(s, "final", true);
    if (in->n_workers > 1) {
        cJSON *w = cJSON_AddArrayToObject(s, "workers");
        for (size_t i = 0; i < in->n_workers; i++)
            cJSON_AddItemToArray(w, stats_object(&in->workers[i]));
    }
    if (in->n_sinks > 0) {
        cJSON *arr = cJSON_AddArrayToObject(s, "sinks");
        for (size_t i = 0; i < in->n_sinks; i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "name", in->sink_names[i]);
            add_uint(o, "written", in->sinks[i].written);
            add_uint(o, "dropped", in->sinks[i].dropped);
            add_uint(o, "errors", in->sinks[i].errors);
            add_uint(o, "queued_bytes", in->sinks[i].queued);
            cJSON_AddItemToArray(arr, o);
        }
    }
    cJSON_AddItemToObject(root, "stats", s);
    return write_line(e, root);
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
