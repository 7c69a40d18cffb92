/*
 * test_resume.c - unit tests for detect/resume.c (the shared table of TLS
 * 1.2 sessions: cap, LRU eviction, replacement, age, key parts) and for
 * detect_resumption() in policy/detect.c (an origin remembered by session
 * ID and by ticket, a resumption linked with its inherited verdict, one on
 * another server not linked), and for tls_new_session_ticket_parse().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "detect/resume.h"
#include "policy/detect.h"
#include "policy/sigdb.h"
#include "tls/hello.h"
#include "testhelp.h"

static struct stats st;

static struct resume_key key(uint8_t kind, uint8_t id0, uint16_t port)
{
    struct resume_key k;
    memset(&k, 0, sizeof(k));
    k.kind = kind;
    k.ip_ver = 4;
    k.port = port;
    k.server_ip[0] = 198, k.server_ip[1] = 18, k.server_ip[3] = 2;
    k.id_len = 32;
    memset(k.id, id0, 32);
    return k;
}

/* field[0..n) filled with c, cut to its size less one. */
static void fill(char *field, size_t size, size_t n, char c)
{
    if (n > size - 1)
        n = size - 1;
    memset(field, c, n);
    field[n] = '\0';
}

/* An origin whose strings and verdict vary with `flow`: every fifth has
 * only empty strings, the others lengths from 0 up to their fields' size
 * less one, as origin_of() fills them (zero padded). */
static struct resume_origin origin(uint64_t flow, int64_t ts)
{
    struct resume_origin o;
    memset(&o, 0, sizeof(o));
    o.flow_id = flow;
    o.ts_s = ts;
    if (flow % 5 == 0)
        return o;
    char c = (char)('a' + flow % 26);
    fill(o.fingerprint, sizeof(o.fingerprint), flow % 2 ? 59 : 0, c);
    fill(o.leaf_sha256, sizeof(o.leaf_sha256), 64, (char)(c + 1));
    fill(o.spki_sha256, sizeof(o.spki_sha256), flow % 45, (char)(c - 32));
    fill(o.subject, sizeof(o.subject), flow * 7 % 170, c);
    fill(o.issuer, sizeof(o.issuer), flow * 13 % 170, (char)(c + 1));
    fill(o.product, sizeof(o.product), flow % 3 ? 0 : flow % 70, 'P');
    o.n_sids = (uint8_t)(flow % (RESUME_SIDS + 1));
    for (uint8_t i = 0; i < o.n_sids; i++)
        o.sids[i] = 9100000u + (uint32_t)flow + i;
    o.severity = o.n_sids ? (int)(flow % 3) + 1 : 0;
    fill(o.category, sizeof(o.category), o.n_sids ? flow % 24 : 0, 'g');
    fill(o.confidence, sizeof(o.confidence), o.n_sids ? flow % 8 : 0, 'h');
    return o;
}

/* The origin's strings come back as they went in: every length up to the
 * fields' size less one, empty ones, a field without a terminator (cut
 * and terminated), and a replacement by shorter strings (nothing of the
 * longer ones left). */
static void test_strings(void)
{
    struct resume *t = resume_new(8);
    test_cond("strings: table made", t != NULL);
    if (!t)
        return;
    struct resume_origin in, got;
    size_t bad = 0;
    for (uint64_t f = 1; f <= 400; f++) {
        struct resume_key k = key(RESUME_SESSION_ID, (uint8_t)f, 443);
        in = origin(f, 1000);
        resume_put(t, &k, &in);
        memset(&got, 0xA5, sizeof(got));
        if (!resume_get(t, &k, 1000, &got) || memcmp(&got, &in, sizeof(in)) != 0)
            bad++;
    }
    test_cond("strings: 400 origins come back byte for byte", bad == 0);
    /* Evicted entries' buffers went to the later origins, longer or
     * shorter: the eight held at the end are still whole. */
    bad = 0;
    for (uint64_t f = 393; f <= 400; f++) {
        struct resume_key k = key(RESUME_SESSION_ID, (uint8_t)f, 443);
        in = origin(f, 1000);
        memset(&got, 0xA5, sizeof(got));
        if (!resume_get(t, &k, 1000, &got) || memcmp(&got, &in, sizeof(in)) != 0)
            bad++;
    }
    test_cond("strings: the last eight, on reused buffers, come back byte for byte", bad == 0);

    struct resume_key k = key(RESUME_TICKET, 1, 443);
    in = origin(1, 1000);
    memset(in.subject, 'S', sizeof(in.subject));   /* no terminator */
    memset(in.confidence, 'C', sizeof(in.confidence));
    resume_put(t, &k, &in);
    bool ok = resume_get(t, &k, 1000, &got);
    test_cond("strings: an unterminated field is cut and terminated",
              ok && strlen(got.subject) == sizeof(got.subject) - 1 && got.subject[0] == 'S' &&
                  strlen(got.confidence) == sizeof(got.confidence) - 1 &&
                  strcmp(got.issuer, in.issuer) == 0);

    in = origin(3, 1000);
    fill(in.subject, sizeof(in.subject), 159, 's');
    fill(in.issuer, sizeof(in.issuer), 159, 'i');
    resume_put(t, &k, &in);
    struct resume_origin shorter = origin(10, 1000);   /* all strings empty */
    test_cond("strings: replaced", !resume_put(t, &k, &shorter));
    memset(&got, 0xA5, sizeof(got));
    ok = resume_get(t, &k, 1000, &got);
    test_cond("strings: the replacement's, zero padded",
              ok && memcmp(&got, &shorter, sizeof(got)) == 0);
    resume_free(t);
}

static void test_table(void)
{
    struct resume *t = resume_new(4);
    test_cond("table made", t != NULL);
    if (!t)
        return;
    struct resume_origin o;
    for (uint8_t i = 1; i <= 4; i++) {
        struct resume_key k = key(RESUME_SESSION_ID, i, 443);
        struct resume_origin in = origin(i, 1000);
        test_cond("no eviction below the cap", !resume_put(t, &k, &in));
    }
    test_cond("four held", resume_count(t) == 4);
    struct resume_key k1 = key(RESUME_SESSION_ID, 1, 443);
    test_cond("found", resume_get(t, &k1, 1000, &o) && o.flow_id == 1);   /* 1 now most recent */
    struct resume_key k5 = key(RESUME_SESSION_ID, 5, 443);
    struct resume_origin in5 = origin(5, 1000);
    test_cond("the fifth evicts", resume_put(t, &k5, &in5));
    test_cond("still four", resume_count(t) == 4);
    struct resume_key k2 = key(RESUME_SESSION_ID, 2, 443);
    test_cond("the least recently used (2) went", !resume_get(t, &k2, 1000, &o));
    test_cond("the recently used (1) stayed", resume_get(t, &k1, 1000, &o) && o.flow_id == 1);
    test_cond("the new one is there", resume_get(t, &k5, 1000, &o) && o.flow_id == 5);

    struct resume_origin again = origin(9, 1000);
    test_cond("replacing a key evicts nothing", !resume_put(t, &k5, &again));
    test_cond("replaced", resume_get(t, &k5, 1000, &o) && o.flow_id == 9 &&
                              resume_count(t) == 4);

    struct resume_key other_port = key(RESUME_SESSION_ID, 1, 8443);
    struct resume_key other_kind = key(RESUME_TICKET, 1, 443);
    struct resume_key other_ip = key(RESUME_SESSION_ID, 1, 443);
    other_ip.server_ip[3] = 3;
    struct resume_key short_id = key(RESUME_SESSION_ID, 1, 443);
    short_id.id_len = 16;
    test_cond("another port does not match", !resume_get(t, &other_port, 1000, &o));
    test_cond("a ticket is not a session id", !resume_get(t, &other_kind, 1000, &o));
    test_cond("another server does not match", !resume_get(t, &other_ip, 1000, &o));
    test_cond("a shorter id does not match", !resume_get(t, &short_id, 1000, &o));

    test_cond("within the age bound",
              resume_get(t, &k1, 1000 + CFG_RESUME_MAX_AGE_S, &o));
    test_cond("past the age bound: not matched",
              !resume_get(t, &k1, 1001 + CFG_RESUME_MAX_AGE_S, &o));
    test_cond("and dropped", resume_count(t) == 3 && !resume_get(t, &k1, 1000, &o));
    for (uint8_t i = 10; i < 40; i++) {   /* churn through the free list and the LRU */
        struct resume_key k = key(RESUME_TICKET, i, 443);
        struct resume_origin in = origin(i, 1000);
        resume_put(t, &k, &in);
    }
    struct resume_key last = key(RESUME_TICKET, 39, 443);
    test_cond("after churn: capped, newest kept", resume_count(t) == 4 &&
                                                     resume_get(t, &last, 1000, &o) &&
                                                     o.flow_id == 39);
    resume_free(t);

    struct resume *z = resume_new(0);
    struct resume_key k = key(RESUME_SESSION_ID, 1, 443);
    struct resume_origin in = origin(1, 1000);
    test_cond("a zero cap keeps nothing", z && !resume_put(z, &k, &in) &&
                                              !resume_get(z, &k, 1000, &o));
    resume_free(z);
}

/*
 * The table against a plain model (an array in recency order): a long
 * random run of puts and gets over keys that differ in one byte of the
 * id, the kind, the port or the address, in tables from 1 to 300 entries
 * (small ones wrap their probe runs, gets of aged entries remove from the
 * middle of runs).  Each answer, each eviction and the count must agree:
 * the index, its tags and the links kept beside the entries change no
 * result and no eviction order.
 */
#define MODEL_MAX 300
struct model {
    size_t n;
    struct resume_key k[MODEL_MAX];   /* k[0]: most recently used */
    struct resume_origin o[MODEL_MAX];
};

static int model_find(const struct model *m, const struct resume_key *k)
{
    for (size_t i = 0; i < m->n; i++)
        if (memcmp(&m->k[i], k, sizeof(*k)) == 0)
            return (int)i;
    return -1;
}

static void model_front(struct model *m, size_t i, const struct resume_key *k,
                        const struct resume_origin *o)
{
    memmove(&m->k[1], &m->k[0], i * sizeof(m->k[0]));
    memmove(&m->o[1], &m->o[0], i * sizeof(m->o[0]));
    m->k[0] = *k;
    m->o[0] = *o;
}

static bool model_put(struct model *m, size_t cap, const struct resume_key *k,
                      const struct resume_origin *o)
{
    int i = model_find(m, k);
    if (i >= 0) {
        model_front(m, (size_t)i, k, o);
        return false;
    }
    bool evicted = m->n == cap;
    if (!evicted)
        m->n++;
    model_front(m, m->n - 1, k, o);
    return evicted;
}

static bool model_get(struct model *m, const struct resume_key *k, int64_t now,
                      struct resume_origin *o)
{
    int i = model_find(m, k);
    if (i < 0)
        return false;
    if (now - m->o[i].ts_s > CFG_RESUME_MAX_AGE_S) {
        memmove(&m->k[i], &m->k[i + 1], (m->n - (size_t)i - 1) * sizeof(m->k[0]));
        memmove(&m->o[i], &m->o[i + 1], (m->n - (size_t)i - 1) * sizeof(m->o[0]));
        m->n--;
        return false;
    }
    *o = m->o[i];
    struct resume_key kk = m->k[i];
    model_front(m, (size_t)i, &kk, o);
    return true;
}

static struct resume_key model_key(unsigned r)
{
    struct resume_key k = key(r & 1 ? RESUME_TICKET : RESUME_SESSION_ID, (uint8_t)(r >> 1 & 7),
                              r >> 4 & 1 ? 8443 : 443);
    k.id_len = r >> 10 & 1 ? 32 : 31;   /* a shorter id: its last byte zero */
    k.id[31] = 0;
    k.id[k.id_len - 1] = (uint8_t)(r >> 5 & 15);   /* one byte apart */
    if (r >> 9 & 1) {
        k.ip_ver = 6;
        k.server_ip[15] = 1;
    }
    return k;
}

static void test_model(void)
{
    static const size_t caps[] = { 1, 2, 3, 7, 64, 300 };
    uint32_t seed = 12345;
    size_t bad = 0, evictions = 0, hits = 0;
    for (size_t ci = 0; ci < sizeof(caps) / sizeof(caps[0]); ci++) {
        size_t cap = caps[ci];
        struct resume *t = resume_new(cap);
        static struct model m;
        m.n = 0;
        if (!t) {
            bad++;
            continue;
        }
        for (unsigned step = 0; step < 20000; step++) {
            seed = seed * 1103515245u + 12345u;
            unsigned r = seed >> 8;
            /* keys from a space of 2048 (pairs of which differ in one
             * byte), clustered so that gets find entries */
            struct resume_key k = model_key(r % (cap < 8 ? 16 : 2048));
            int64_t now = 1000 + (int64_t)(step / 64) * 3600;   /* entries age out */
            struct resume_origin in = origin(step + 1, now), got, want;
            if (r >> 20 & 1) {
                bool ev = resume_put(t, &k, &in);
                if (ev != model_put(&m, cap, &k, &in))
                    bad++;
                evictions += ev;
            } else {
                memset(&got, 0, sizeof(got));
                bool a = resume_get(t, &k, now, &got), b = model_get(&m, &k, now, &want);
                if (a != b || (a && memcmp(&got, &want, sizeof(got)) != 0))
                    bad++;
                hits += a;
            }
            if (resume_count(t) != m.n)
                bad++;
        }
        resume_free(t);
    }
    test_cond("random puts and gets agree with the LRU model (answers, evictions, counts)",
              bad == 0);
    test_cond("the run evicted and hit", evictions > 1000 && hits > 1000);
}

static void test_ticket_parse(void)
{
    static const uint8_t ok[] = { 0, 0, 0x1c, 0x20, 0, 3, 'a', 'b', 'c' };
    static const uint8_t empty[] = { 0, 0, 0, 0, 0, 0 };
    static const uint8_t trunc[] = { 0, 0, 0x1c, 0x20, 0, 4, 'a', 'b', 'c' };
    static const uint8_t extra[] = { 0, 0, 0x1c, 0x20, 0, 1, 'a', 'b' };
    static const uint8_t shorty[] = { 0, 0, 0x1c };
    uint32_t hint = 0;
    const uint8_t *tk = NULL;
    size_t n = 0;
    test_cond("NewSessionTicket parsed", tls_new_session_ticket_parse(ok, sizeof ok, &hint, &tk, &n) ==
                                                 TLS_HELLO_OK &&
                                             hint == 7200 && n == 3 && tk == ok + 6);
    test_cond("empty ticket parsed", tls_new_session_ticket_parse(empty, sizeof empty, &hint, &tk,
                                                                  &n) == TLS_HELLO_OK && n == 0);
    test_cond("ticket past the end", tls_new_session_ticket_parse(trunc, sizeof trunc, &hint, &tk,
                                                                  &n) == TLS_HELLO_ETRUNC);
    test_cond("bytes after the ticket", tls_new_session_ticket_parse(extra, sizeof extra, &hint,
                                                                     &tk, &n) ==
                                            TLS_HELLO_EMALFORMED);
    test_cond("no room for the hint", tls_new_session_ticket_parse(shorty, sizeof shorty, &hint,
                                                                   &tk, &n) == TLS_HELLO_ETRUNC);
}

static size_t read_file(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static const struct detect_alert *find(const struct detect_alert *a, size_t n, uint32_t sid)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].sid == sid)
            return &a[i];
    return NULL;
}

static const char *ev(const struct detect_alert *a, const char *k)
{
    for (int i = 0; a && i < a->n_ev; i++)
        if (strcmp(a->ev[i].key, k) == 0)
            return a->ev[i].value;
    return NULL;
}

/* A self-signed leaf for a public name: alerts 9100005 and 9100006 (medium). */
static void test_detect(void)
{
    char err[512];
    char empty_dir[] = "/tmp/pinscope-resume-ca.XXXXXX";
    test_cond("empty CA directory", mkdtemp(empty_dir) != NULL);
    struct x509_ctx_config xc = { .ca_path = empty_dir, .cert_cache_max = 16,
                                  .verify_cache_size = 16 };
    struct x509_ctx *x = x509_ctx_new(&xc, err, sizeof(err));
    rmdir(empty_dir);
    struct detect *d = detect_new(NULL, NULL);
    static uint8_t der[16384];
    size_t dl = read_file("tests/unit/data/x509/nosct_selfsigned_leaf.der", der, sizeof(der));
    test_cond("detector and leaf", x && d && dl > 0);
    if (!x || !d || dl == 0)
        return;
    const uint64_t now = 1790000000000000ULL;
    struct tls_cert_list list = { .n_certs = 1, .total_certs = 1 };
    list.certs[0].der = der;
    list.certs[0].len = dl;
    struct x509_chain chain;
    x509_chain_build(x, &list, X509_PURPOSE_SERVER_CHAIN, true, (const uint8_t *)"www.github.com",
                     14, now, &chain, &st);

    static uint8_t cip[4] = { 198, 18, 0, 1 }, sip[4] = { 198, 18, 0, 2 };
    struct tls_session full;
    tls_session_init(&full);
    full.version = 0x0303;
    full.sh_sid_len = 32;
    memset(full.sh_sid, 0x5a, 32);
    full.new_ticket = true;
    memset(full.new_ticket_sha256, 0x77, 32);
    struct detect_conn c = {
        .flow_id = 1001, .ts_us = now, .ip_ver = 4, .client_ip = cip, .server_ip = sip,
        .client_port = 40000, .server_port = 443, .sni = "www.github.com", .tls = &full,
        .chain = &chain,
    };
    struct detect_alert a[DETECT_MAX_ALERTS];
    struct detect_resumed res;
    size_t n = detect_run(d, &c, a, DETECT_MAX_ALERTS);
    test_cond("the origin has alerts", n > 0);
    size_t n2 = detect_resumption(d, &c, a, n, DETECT_MAX_ALERTS, &res);
    test_cond("an origin adds no alert and is no resumption", n2 == n && !res.from && !res.with);

    /* Resumed by session ID: the server echoes the client's. */
    struct tls_session rs;
    tls_session_init(&rs);
    rs.version = 0x0303;
    rs.resumed = true;
    rs.ch_sid_len = rs.sh_sid_len = 32;
    memset(rs.ch_sid, 0x5a, 32);
    memset(rs.sh_sid, 0x5a, 32);
    struct detect_conn r = c;
    r.flow_id = 1002;
    r.ts_us = now + 5000000;
    r.client_port = 40002;
    r.tls = &rs;
    r.chain = NULL;
    n = detect_run(d, &r, a, DETECT_MAX_ALERTS);
    n = detect_resumption(d, &r, a, n, DETECT_MAX_ALERTS, &res);
    const struct detect_alert *inh = find(a, n, DETECT_SID_RESUMED_FLAGGED);
    test_cond("linked by session id", res.from == 1001 && res.with &&
                                          strcmp(res.with, "session_id") == 0 && !res.unlinked);
    test_cond("inherited alert", inh && inh->related_flow_id == 1001 && inh->severity == 2 &&
                                     strcmp(inh->category, "interception") == 0);
    test_streq("evidence: origin", ev(inh, "resumed_from"), "1001");
    test_cond("evidence: the origin's sids",
              ev(inh, "origin_sids") && strstr(ev(inh, "origin_sids"), "9100005"));
    test_cond("evidence: fingerprint as tls.fingerprint",
              ev(inh, "fingerprint") && strlen(ev(inh, "fingerprint")) == 59 &&
                  ev(inh, "fingerprint")[2] == ':');

    /* Resumed by ticket. */
    struct tls_session rt;
    tls_session_init(&rt);
    rt.version = 0x0303;
    rt.resumed = true;
    rt.ch_ticket = true;
    memset(rt.ch_ticket_sha256, 0x77, 32);
    r.tls = &rt;
    r.flow_id = 1003;
    n = detect_resumption(d, &r, a, 0, DETECT_MAX_ALERTS, &res);
    test_cond("linked by ticket", res.from == 1001 && strcmp(res.with, "session_ticket") == 0 &&
                                      n == 1 && a[0].sid == DETECT_SID_RESUMED_FLAGGED);

    /* The same ticket at another server port: not this session. */
    r.server_port = 8443;
    n = detect_resumption(d, &r, a, 0, DETECT_MAX_ALERTS, &res);
    test_cond("another server: not linked", res.from == 0 && res.unlinked && n == 0);

    /* TLS 1.3 is never looked up (its tickets are encrypted). */
    rt.version = 0x0304;
    r.server_port = 443;
    n = detect_resumption(d, &r, a, 0, DETECT_MAX_ALERTS, &res);
    test_cond("TLS 1.3: not a TLS 1.2 resumption", !res.with && !res.from && n == 0);

    x509_chain_release(x, &chain);
    detect_free(d);
    x509_ctx_free(x);
}

int main(void)
{
    test_table();
    test_strings();
    test_model();
    test_ticket_parse();
    test_detect();
    return test_report();
}
