/*
 * summary.c - events -> servers, clients, tallies and verdicts (summary.h).
 *
 * Each line is parsed with cJSON and read through ev_read(), which maps
 * both of pinscope's formats onto one struct ev: EVE keeps the connection
 * under "tls" and the detection under "alert"; ECS keeps pinscope's own
 * record under "pinscope.tls" and "pinscope.alert", the rule under "rule"
 * and the addresses under "source"/"destination".  Nothing else in this
 * file knows which format a line was.
 */
#include "report/summary.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "util/hash.h"

const char *verdict_name(enum verdict v)
{
    static const char *const names[V_COUNT] = {
        "intercepted", "suspicious", "refused", "clean", "unknown",
    };
    return (unsigned)v < V_COUNT ? names[v] : "?";
}

/* ---- string table ---- */

static struct hash_key stab_key;
static bool stab_key_set;

static void stab_init(struct stab *t, size_t isz, size_t max)
{
    memset(t, 0, sizeof(*t));
    t->isz = isz;
    t->max = max;
    if (!stab_key_set) {
        hash_random_key(&stab_key);
        stab_key_set = true;
    }
}

static void stab_free(struct stab *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->keys[i]);
    free(t->keys);
    free(t->slots);
    free(t->items);
    memset(t, 0, sizeof(*t));
}

static size_t stab_slot(const struct stab *t, const char *key, size_t len, bool *found)
{
    size_t mask = t->nslots - 1;
    size_t i = (size_t)hash_siphash(&stab_key, key, len) & mask;
    for (;;) {
        uint32_t v = t->slots[i];
        if (v == 0) {
            *found = false;
            return i;
        }
        if (strcmp(t->keys[v - 1], key) == 0) {
            *found = true;
            return i;
        }
        i = (i + 1) & mask;
    }
}

static int stab_grow(struct stab *t)
{
    if (t->n + 1 > t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 64;
        char **k = realloc(t->keys, nc * sizeof(*k));
        if (!k)
            return -1;
        t->keys = k;
        unsigned char *it = realloc(t->items, nc * t->isz);
        if (!it)
            return -1;
        t->items = it;
        t->cap = nc;
    }
    if ((t->n + 1) * 2 > t->nslots) {
        size_t ns = t->nslots ? t->nslots * 2 : 128;
        uint32_t *sl = calloc(ns, sizeof(*sl));
        if (!sl)
            return -1;
        free(t->slots);
        t->slots = sl;
        t->nslots = ns;
        for (size_t i = 0; i < t->n; i++) {
            bool f;
            size_t j = stab_slot(t, t->keys[i], strlen(t->keys[i]), &f);
            t->slots[j] = (uint32_t)(i + 1);
        }
    }
    return 0;
}

/* The index of `key`, created (zeroed item) when absent and `create`;
 * -1 when absent, or full (counted in over), or out of memory. */
static long stab_get(struct stab *t, const char *key, bool create, bool *created)
{
    if (created)
        *created = false;
    if (!key)
        return -1;
    size_t len = strlen(key);
    bool found = false;
    size_t i = 0;
    if (t->nslots) {
        i = stab_slot(t, key, len, &found);
        if (found)
            return (long)t->slots[i] - 1;
    }
    if (!create)
        return -1;
    if (t->n >= t->max) {
        t->over++;
        return -1;
    }
    char *k = strdup(key);
    if (!k || stab_grow(t) < 0) {
        free(k);
        t->over++;
        return -1;
    }
    i = stab_slot(t, key, len, &found);
    t->keys[t->n] = k;
    memset(t->items + t->n * t->isz, 0, t->isz);
    t->slots[i] = (uint32_t)(t->n + 1);
    if (created)
        *created = true;
    return (long)t->n++;
}

/* ---- small helpers ---- */

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void set_once(char **dst, const char *s)
{
    if (!*dst && s)
        *dst = strdup(s);
}

static void list_add(struct sum_list *l, const char *s, uint64_t n)
{
    if (!s || !*s)
        return;
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->v[i].s, s) == 0) {
            l->v[i].n += n;
            return;
        }
    if (l->n == SUM_LIST_MAX) {
        l->more++;
        return;
    }
    char *d = strdup(s);
    if (!d) {
        l->more++;
        return;
    }
    l->v[l->n].s = d;
    l->v[l->n].n = n;
    l->n++;
}

static int list_cmp(const void *a, const void *b)
{
    const struct { char *s; uint64_t n; } *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return strcmp(x->s, y->s);
}

static void list_sort(struct sum_list *l)
{
    qsort(l->v, (size_t)l->n, sizeof(l->v[0]), list_cmp);
}

static void list_free(struct sum_list *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->v[i].s);
    l->n = 0;
}

static const cJSON *get(const cJSON *o, const char *path)
{
    char part[64];
    while (o && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof(part))
            return NULL;
        memcpy(part, path, n);
        part[n] = '\0';
        o = cJSON_GetObjectItemCaseSensitive(o, part);
        path += n + (dot ? 1 : 0);
    }
    return o;
}

static const char *gets(const cJSON *o, const char *path)
{
    const cJSON *v = get(o, path);
    if (cJSON_IsArray(v))
        v = cJSON_GetArrayItem(v, 0);     /* EVE metadata values are lists */
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double getn(const cJSON *o, const char *path, double dflt)
{
    const cJSON *v = get(o, path);
    if (cJSON_IsNumber(v))
        return v->valuedouble;
    if (cJSON_IsString(v) && *v->valuestring) {
        char *end;
        double d = strtod(v->valuestring, &end);
        if (*end == '\0')
            return d;
    }
    return dflt;
}

static bool getb(const cJSON *o, const char *path)
{
    return cJSON_IsTrue(get(o, path));
}

void summary_format_time(double t, char *out, size_t cap)
{
    if (t < 0 || !isfinite(t)) {
        snprintf(out, cap, "-");
        return;
    }
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm);
}

void summary_short_dn(const char *dn, char *out, size_t cap)
{
    const char *cn = dn ? strstr(dn, "CN=") : NULL;
    if (cn && (cn == dn || cn[-1] == ',' || cn[-1] == ' ')) {
        cn += 3;
        snprintf(out, cap, "%.*s", (int)strcspn(cn, ","), cn);
    } else {
        snprintf(out, cap, "%s", dn ? dn : "");
    }
}

double summary_parse_time(const char *s)
{
    if (!s)
        return -1;
    int y, mo, d, h, mi, n = 0;
    double sec;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec < 0 || sec >= 61)
        return -1;
    struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
                     .tm_min = mi };
    time_t t = timegm(&tm);
    double off = 0;
    const char *z = s + n;
    if ((*z == '+' || *z == '-') && strlen(z) >= 5) {
        int oh = (z[1] - '0') * 10 + (z[2] - '0');
        int om = z[3] == ':' ? (z[4] - '0') * 10 + (z[5] - '0') : (z[3] - '0') * 10 + (z[4] - '0');
        off = (oh * 3600.0 + om * 60.0) * (*z == '-' ? -1 : 1);
    }
    return (double)t + (sec - floor(sec)) + floor(sec) - off;
}

/* ---- one event, either format ---- */

enum ev_type { EV_OTHER, EV_CONN, EV_ALERT, EV_STATS };

struct ev {
    enum ev_type type;
    uint64_t flow_id;
    const char *ts, *start, *host;
    const char *src, *dst;
    int sport, dport;
    const cJSON *tls;           /* pinscope's connection record */
    /* alerts */
    uint32_t sid;
    int severity;
    const char *signature, *family, *confidence, *reason;
    const cJSON *evidence;
    const cJSON *stats;
};

static int ev_read(const cJSON *root, struct ev *e)
{
    memset(e, 0, sizeof(*e));
    const char *et = gets(root, "event_type");
    if (et) {                                           /* EVE */
        e->ts = gets(root, "timestamp");
        e->flow_id = (uint64_t)getn(root, "flow_id", 0);
        e->src = gets(root, "src_ip");
        e->dst = gets(root, "dest_ip");
        e->sport = (int)getn(root, "src_port", 0);
        e->dport = (int)getn(root, "dest_port", 0);
        e->host = gets(root, "host");
        e->tls = get(root, "tls");
        if (strcmp(et, "tls") == 0 || strcmp(et, "quic") == 0 || strcmp(et, "dtls") == 0) {
            e->type = EV_CONN;
            e->start = e->ts;
        } else if (strcmp(et, "alert") == 0) {
            e->type = EV_ALERT;
            e->start = gets(root, "flow.start");
            e->sid = (uint32_t)getn(root, "alert.signature_id", 0);
            e->severity = (int)getn(root, "alert.severity", 3);
            e->signature = gets(root, "alert.signature");
            e->family = gets(root, "alert.metadata.detection_family");
            e->confidence = gets(root, "alert.confidence");
            e->reason = gets(root, "alert.reason");
            e->evidence = get(root, "alert.evidence");
        } else if (strcmp(et, "stats") == 0) {
            e->type = EV_STATS;
            e->stats = get(root, "stats");
        } else {
            e->type = EV_OTHER;
        }
    } else {                                            /* ECS */
        const char *ds = gets(root, "event.dataset");
        if (!ds || strncmp(ds, "pinscope.", 9) != 0)
            return -1;
        e->ts = gets(root, "@timestamp");
        e->start = gets(root, "event.start");
        e->flow_id = (uint64_t)getn(root, "pinscope.flow_id", 0);
        e->src = gets(root, "source.ip");
        e->dst = gets(root, "destination.ip");
        e->sport = (int)getn(root, "source.port", 0);
        e->dport = (int)getn(root, "destination.port", 0);
        e->host = gets(root, "observer.hostname");
        e->tls = get(root, "pinscope.tls");
        ds += 9;
        if (strcmp(ds, "tls") == 0 || strcmp(ds, "quic") == 0 || strcmp(ds, "dtls") == 0) {
            e->type = EV_CONN;
        } else if (strcmp(ds, "alert") == 0) {
            e->type = EV_ALERT;
            e->sid = (uint32_t)getn(root, "rule.id", 0);
            e->severity = (int)getn(root, "event.severity", 3);
            e->signature = gets(root, "rule.name");
            e->family = gets(root, "rule.category");
            e->confidence = gets(root, "pinscope.alert.confidence");
            e->reason = gets(root, "event.reason");
            e->evidence = get(root, "pinscope.alert.evidence");
        } else if (strcmp(ds, "stats") == 0) {
            e->type = EV_STATS;
            e->stats = get(root, "pinscope.stats");
        } else {
            e->type = EV_OTHER;
        }
    }
    if (!e->start)
        e->start = e->ts;
    if ((e->type == EV_CONN || e->type == EV_ALERT) && (!e->dst || !cJSON_IsObject(e->tls)))
        return -1;
    return 0;
}

/* The server's name: SNI, else destination address and port. */
static void server_key(const struct ev *e, char *out, size_t cap, bool *has_sni)
{
    const char *sni = gets(e->tls, "sni");
    *has_sni = sni && *sni;
    if (*has_sni) {
        size_t i = 0;
        for (; sni[i] && i + 1 < cap; i++)
            out[i] = (sni[i] >= 'A' && sni[i] <= 'Z') ? (char)(sni[i] + 32) : sni[i];
        out[i] = '\0';
    } else if (strchr(e->dst, ':')) {
        snprintf(out, cap, "[%s]:%d", e->dst, e->dport);
    } else {
        snprintf(out, cap, "%s:%d", e->dst, e->dport);
    }
}

static long conn_index(struct summary *s, const struct ev *e)
{
    char key[96];
    snprintf(key, sizeof(key), "%llu/%.40s", (unsigned long long)e->flow_id,
             e->start ? e->start : "");
    return stab_get(&s->conns, key, true, NULL);
}

static long server_index(struct summary *s, const struct ev *e)
{
    char name[300];
    bool has_sni, created;
    server_key(e, name, sizeof(name), &has_sni);
    long i = stab_get(&s->servers, name, true, &created);
    if (i >= 0 && created) {
        struct sum_server *sv = summary_server(s, (size_t)i);
        sv->name = s->servers.keys[i];
        sv->has_sni = has_sni;
        sv->verdict = V_UNKNOWN;
        sv->first_ts = INFINITY;
        sv->last_ts = -INFINITY;
    }
    return i;
}

static long client_index(struct summary *s, const char *addr)
{
    bool created;
    long i = stab_get(&s->clients, addr, true, &created);
    if (i >= 0 && created)
        summary_client(s, (size_t)i)->addr = s->clients.keys[i];
    return i;
}

static struct sum_count *tally(struct stab *t, const char *key, uint64_t n, bool flagged)
{
    long i = stab_get(t, key, true, NULL);
    if (i < 0)
        return NULL;
    struct sum_count *c = stab_count(t, (size_t)i);
    c->n += n;
    if (flagged)
        c->flagged += n;
    return c;
}

/* ---- connections ---- */

static bool chain_add(struct sum_server *sv, const cJSON *chain, const char *validation)
{
    const cJSON *leaf = cJSON_GetArrayItem(chain, 0);
    const char *sha = gets(leaf, "sha256");
    if (!sha)
        return false;
    for (int i = 0; i < sv->n_chain; i++)
        if (sv->chain[i].c[0].sha256 && strcmp(sv->chain[i].c[0].sha256, sha) == 0) {
            sv->chain[i].conns++;
            return true;
        }
    if (sv->n_chain == SUM_CHAINS_MAX) {
        sv->chains_more++;
        return true;
    }
    struct sum_chain *ch = &sv->chain[sv->n_chain++];
    ch->total = cJSON_GetArraySize(chain);
    ch->conns = 1;
    ch->validation = dup_or_null(validation);
    const cJSON *c;
    cJSON_ArrayForEach(c, chain) {
        if (ch->n == SUM_CHAIN_CERTS)
            break;
        struct sum_cert *k = &ch->c[ch->n++];
        k->subject_cn = dup_or_null(gets(c, "subject_cn") ? gets(c, "subject_cn") : gets(c, "subject"));
        k->issuer_cn = dup_or_null(gets(c, "issuer_cn"));
        k->issuer = dup_or_null(gets(c, "issuer"));
        k->sha256 = dup_or_null(gets(c, "sha256"));
        k->spki = dup_or_null(gets(c, "spki_sha256"));
        k->not_after = dup_or_null(gets(c, "not_after"));
    }
    return true;
}

static void add_conn(struct summary *s, const struct ev *e)
{
    const cJSON *t = e->tls;
    double ts = summary_parse_time(e->start);
    long si = server_index(s, e), ci = client_index(s, e->src ? e->src : "?");
    long ki = conn_index(s, e);
    s->conn_events++;
    if (ts >= 0) {
        if (ts < s->first_ts || s->first_ts < 0)
            s->first_ts = ts;
        if (ts > s->last_ts)
            s->last_ts = ts;
    }
    const char *product = gets(t, "interception_product");
    const cJSON *chain = get(t, "x509_chain");
    bool has_chain = cJSON_IsArray(chain) && cJSON_GetArraySize(chain) > 0;
    const char *validation = gets(t, "chain_checks.validation.code");
    const char *version = gets(t, "version");
    const char *ja4 = gets(t, "ja4"), *ja4s = gets(t, "ja4s"), *app = gets(t, "client_app");
    const char *state = gets(t, "state");

    if (ki >= 0) {
        struct sum_conn *c = summary_conn(s, (size_t)ki);
        c->flags |= SUM_F_EVENT | (has_chain ? SUM_F_CHAIN : 0) |
                    (product ? SUM_F_INTERCEPTED : 0);
        c->ts = ts;
        c->server = si >= 0 ? (uint32_t)si : UINT32_MAX;
        c->client = ci >= 0 ? (uint32_t)ci : UINT32_MAX;
    }
    tally(&s->versions, version ? version : "(no version)", 1, false);
    if (ja4) {
        struct sum_count *c = tally(&s->ja4, ja4, 1, false);
        if (c)
            set_once(&c->name, app);
    }
    if (ja4s)
        tally(&s->ja4s, ja4s, 1, false);

    if (si >= 0) {
        struct sum_server *sv = summary_server(s, (size_t)si);
        char dest[80];
        snprintf(dest, sizeof(dest), strchr(e->dst, ':') ? "[%s]:%d" : "%s:%d", e->dst, e->dport);
        sv->conns++;
        list_add(&sv->dests, dest, 1);
        list_add(&sv->products, product, 1);
        list_add(&sv->ja4s, ja4s, 1);
        list_add(&sv->versions, version, 1);
        if (ts >= 0) {
            if (ts < sv->first_ts)
                sv->first_ts = ts;
            if (ts > sv->last_ts)
                sv->last_ts = ts;
        }
        if (state && strcmp(state, "complete") == 0)
            sv->complete++;
        if (has_chain) {
            const cJSON *leaf = cJSON_GetArrayItem(chain, 0);
            sv->chains_seen++;
            if (validation && strcmp(validation, "ok") == 0)
                sv->valid++;
            list_add(&sv->issuers, gets(leaf, "issuer"), 1);
            list_add(&sv->spki, gets(leaf, "spki_sha256"), 1);
            chain_add(sv, chain, validation);
            if (validation && strcmp(validation, "ok") != 0) {
                char key[400];
                snprintf(key, sizeof(key), "%s\x1f%s", sv->name, validation);
                struct sum_count *c = tally(&s->invalid, key, 1, false);
                if (c)
                    set_once(&c->extra, gets(leaf, "issuer"));
            }
            const char *sha = gets(leaf, "sha256"), *na = gets(leaf, "not_after");
            double when = summary_parse_time(na);
            if (sha && when >= 0) {
                bool created;
                long k = stab_get(&s->certs, sha, true, &created);
                if (k >= 0) {
                    struct sum_count *c = stab_count(&s->certs, (size_t)k);
                    c->n++;
                    if (created) {
                        c->when = when;
                        c->seen = ts;
                        c->name = dup_or_null(gets(leaf, "subject_cn") ? gets(leaf, "subject_cn")
                                                                        : gets(leaf, "subject"));
                        c->extra = strdup(sv->name);
                    } else if (ts >= 0 && (c->seen < 0 || ts > c->seen)) {
                        c->seen = ts;       /* the latest use counts for expiry */
                    }
                }
            }
            const char *iss = gets(leaf, "issuer");
            if (iss)
                tally(&s->issuers, iss, 1, false);
        }
    }
    if (ci >= 0) {
        struct sum_client *cl = summary_client(s, (size_t)ci);
        cl->conns++;
        list_add(&cl->ja4, ja4, 1);
        list_add(&cl->apps, app, 1);
    }
    if (si >= 0 && ci >= 0) {
        char key[400];
        snprintf(key, sizeof(key), "%s\x1f%s", s->servers.keys[si], s->clients.keys[ci]);
        bool created;
        long p = stab_get(&s->pairs, key, true, &created);
        if (p >= 0) {
            struct sum_count *c = stab_count(&s->pairs, (size_t)p);
            c->n++;
            if (created) {
                summary_server(s, (size_t)si)->clients++;
                summary_client(s, (size_t)ci)->servers++;
            }
        }
    }
}

/* ---- alerts ---- */

static bool is_refusal(uint32_t sid)
{
    /* client refused, aborted TLS 1.3, closed after the certificate or
     * right after the handshake */
    return sid == 9100014 || sid == 9100015 || sid == 9100017 || sid == 9100024;
}

static bool is_interception(const struct ev *e)
{
    if (is_refusal(e->sid) || e->severity != 1)
        return false;
    return e->family && (strcmp(e->family, "interception") == 0 ||
                         strcmp(e->family, "policy") == 0);
}

static char *evidence_text(const cJSON *ev)
{
    if (!cJSON_IsObject(ev))
        return NULL;
    char buf[1024];
    size_t n = 0;
    buf[0] = '\0';
    const cJSON *c;
    cJSON_ArrayForEach(c, ev) {
        char val[400];
        if (cJSON_IsString(c))
            snprintf(val, sizeof(val), "%s", c->valuestring);
        else if (cJSON_IsNumber(c))
            snprintf(val, sizeof(val), "%.17g", c->valuedouble);
        else
            continue;
        int w = snprintf(buf + n, sizeof(buf) - n, "%s%s: %s", n ? "; " : "", c->string, val);
        if (w < 0 || (size_t)w >= sizeof(buf) - n)
            break;
        n += (size_t)w;
    }
    return n ? strdup(buf) : NULL;
}

static void add_alert(struct summary *s, const struct ev *e)
{
    s->alert_events++;
    long si = server_index(s, e);
    long ki = conn_index(s, e);
    bool intercept = is_interception(e), refusal = is_refusal(e->sid);
    /* "Both legs" is written on whichever leg came second: on the proxy's
     * own upstream connection (a chain that validates, no product named)
     * it says "part of an interception", not "this one was intercepted". */
    if (e->sid == 9100016 && !gets(e->tls, "interception_product")) {
        const char *v = gets(e->tls, "chain_checks.validation.code");
        if (v && strcmp(v, "ok") == 0)
            intercept = false;
    }
    if (ki >= 0) {
        struct sum_conn *c = summary_conn(s, (size_t)ki);
        c->flags |= intercept ? SUM_F_INTERCEPTED : refusal ? SUM_F_REFUSED : SUM_F_SUSPICIOUS;
    }
    if (si < 0)
        return;
    struct sum_server *sv = summary_server(s, (size_t)si);
    sv->alerts++;
    const char *pins = e->evidence ? gets(e->evidence, "expected_pins") : NULL;
    set_once(&sv->expected_pins, pins);
    const char *prod = e->evidence ? gets(e->evidence, "product") : NULL;
    if (e->sid == 9100004)
        list_add(&sv->products, prod, 1);

    struct sum_alert *a = NULL;
    for (int i = 0; i < sv->n_alert; i++)
        if (sv->alert[i].sid == e->sid) {
            a = &sv->alert[i];
            break;
        }
    if (!a) {
        if (sv->n_alert == SUM_ALERTS_MAX) {
            sv->alerts_more++;
            return;
        }
        a = &sv->alert[sv->n_alert++];
        a->sid = e->sid;
        a->severity = e->severity;
        a->signature = dup_or_null(e->signature);
        a->confidence = dup_or_null(e->confidence);
        a->category = dup_or_null(e->family);
        a->reason = dup_or_null(e->reason);
        a->evidence = evidence_text(e->evidence);
    }
    a->count++;
    if (a->n_ex < SUM_EXAMPLES) {
        a->ex[a->n_ex].flow_id = e->flow_id;
        a->ex[a->n_ex].ts = dup_or_null(e->start);
        a->ex[a->n_ex].client = dup_or_null(e->src);
        a->n_ex++;
    }
}

static void add_stats(struct summary *s, const struct ev *e)
{
    s->stats_events++;
    /* The final event of a run holds the run's totals (a worker's own
     * events carry "worker"); one per input file of events. */
    if (!getb(e->stats, "final") || get(e->stats, "worker"))
        return;
    s->packets += (uint64_t)getn(e->stats, "packets", 0);
    s->bytes += (uint64_t)getn(e->stats, "bytes", 0);
    const cJSON *an = get(e->stats, "anomalies"), *c;
    cJSON_ArrayForEach(c, an)
        if (cJSON_IsNumber(c))
            s->anomalies += (uint64_t)c->valuedouble;
}

int summary_add_line(struct summary *s, const char *line, size_t len)
{
    s->lines++;
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (len == 0) {
        s->lines--;     /* blank lines are not lines */
        return 0;
    }
    cJSON *root = cJSON_ParseWithLength(line, len);
    struct ev e;
    if (!cJSON_IsObject(root) || ev_read(root, &e) < 0) {
        cJSON_Delete(root);
        s->unreadable++;
        return -1;
    }
    s->events++;
    set_once(&s->sensor, e.host);
    switch (e.type) {
    case EV_CONN: add_conn(s, &e); break;
    case EV_ALERT: add_alert(s, &e); break;
    case EV_STATS: add_stats(s, &e); break;
    default: s->other_events++; break;
    }
    cJSON_Delete(root);
    return 0;
}

/* ---- verdicts ---- */

static enum verdict conn_verdict(uint8_t f)
{
    if (f & SUM_F_INTERCEPTED)
        return V_INTERCEPTED;
    if (f & SUM_F_SUSPICIOUS)
        return V_SUSPICIOUS;
    if (f & SUM_F_REFUSED)
        return V_REFUSED;
    if (f & SUM_F_CHAIN)
        return V_CLEAN;
    return V_UNKNOWN;
}

static int conf_rank(const char *c)
{
    if (!c)
        return 3;
    return strcmp(c, "high") == 0 ? 0 : strcmp(c, "medium") == 0 ? 1 : 2;
}

static int alert_cmp(const void *a, const void *b)
{
    const struct sum_alert *x = a, *y = b;
    if (x->severity != y->severity)
        return x->severity - y->severity;
    if (conf_rank(x->confidence) != conf_rank(y->confidence))
        return conf_rank(x->confidence) - conf_rank(y->confidence);
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->sid < y->sid ? -1 : x->sid > y->sid;
}

static void decide(struct sum_server *sv)
{
    char buf[600];
    qsort(sv->alert, (size_t)sv->n_alert, sizeof(sv->alert[0]), alert_cmp);
    list_sort(&sv->issuers);
    list_sort(&sv->products);
    list_sort(&sv->spki);
    list_sort(&sv->dests);
    list_sort(&sv->ja4s);
    list_sort(&sv->versions);
    const struct sum_alert *top = NULL;
    for (int i = 0; i < sv->n_alert; i++) {
        bool refusal = is_refusal(sv->alert[i].sid);
        if (sv->verdict == V_REFUSED ? refusal : !refusal) {
            top = &sv->alert[i];
            break;
        }
    }
    if (!top && sv->n_alert)
        top = &sv->alert[0];
    if (top && top->reason) {
        sv->why = strdup(top->reason);
        return;
    }
    if (sv->verdict == V_INTERCEPTED && sv->products.n) {
        snprintf(buf, sizeof(buf), "The certificate came from %s.", sv->products.v[0].s);
    } else if (sv->verdict == V_CLEAN) {
        char iss[256];
        summary_short_dn(sv->issuers.n ? sv->issuers.v[0].s : "?", iss, sizeof(iss));
        if (sv->valid == sv->chains_seen)
            snprintf(buf, sizeof(buf),
                     "%llu chain%s seen, all validated, issued by %s; no detection fired.",
                     (unsigned long long)sv->chains_seen, sv->chains_seen == 1 ? "" : "s", iss);
        else
            snprintf(buf, sizeof(buf),
                     "%llu chain%s seen (%llu validated), issued by %s; no detection fired.",
                     (unsigned long long)sv->chains_seen, sv->chains_seen == 1 ? "" : "s",
                     (unsigned long long)sv->valid, iss);
    } else if (sv->verdict == V_UNKNOWN) {
        snprintf(buf, sizeof(buf),
                 "No certificate was seen (%s) and no detection fired.",
                 sv->complete ? "TLS 1.3 without its keys, or a resumed session"
                              : "the handshake did not complete");
    } else {
        snprintf(buf, sizeof(buf), "See the alerts.");
    }
    sv->why = strdup(buf);
}

static const struct summary *sort_ctx;

static int server_cmp(const void *a, const void *b)
{
    const struct sum_server *x = summary_server(sort_ctx, *(const uint32_t *)a);
    const struct sum_server *y = summary_server(sort_ctx, *(const uint32_t *)b);
    if (x->verdict != y->verdict)
        return (int)x->verdict - (int)y->verdict;
    if (x->intercepted != y->intercepted)
        return x->intercepted > y->intercepted ? -1 : 1;
    if (x->alerts != y->alerts)
        return x->alerts > y->alerts ? -1 : 1;
    if (x->conns != y->conns)
        return x->conns > y->conns ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int client_cmp(const void *a, const void *b)
{
    const struct sum_client *x = summary_client(sort_ctx, *(const uint32_t *)a);
    const struct sum_client *y = summary_client(sort_ctx, *(const uint32_t *)b);
    if (x->intercepted != y->intercepted)
        return x->intercepted > y->intercepted ? -1 : 1;
    if (x->conns != y->conns)
        return x->conns > y->conns ? -1 : 1;
    return strcmp(x->addr, y->addr);
}

static uint32_t *order(const struct summary *s, size_t n, int (*cmp)(const void *, const void *))
{
    uint32_t *o = malloc((n ? n : 1) * sizeof(*o));
    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++)
        o[i] = (uint32_t)i;
    sort_ctx = s;
    qsort(o, n, sizeof(*o), cmp);
    sort_ctx = NULL;
    return o;
}

/* Each server's clients, most intercepted (then most connections) first,
 * from the pair table. */
static void top_clients(struct summary *s)
{
    for (size_t i = 0; i < s->pairs.n; i++) {
        const char *key = s->pairs.keys[i];
        const char *sep = strchr(key, '\x1f');
        if (!sep)
            continue;
        char name[300];
        size_t nl = (size_t)(sep - key);
        if (nl >= sizeof(name))
            continue;
        memcpy(name, key, nl);
        name[nl] = '\0';
        long si = stab_get(&s->servers, name, false, NULL);
        long ci = stab_get(&s->clients, sep + 1, false, NULL);
        if (si < 0 || ci < 0)
            continue;
        struct sum_server *sv = summary_server(s, (size_t)si);
        const struct sum_count *c = stab_count(&s->pairs, i);
        int at = sv->n_top;
        if (at == SUM_LIST_MAX) {
            at = SUM_LIST_MAX - 1;      /* replace the last if this one is worse */
            if (c->flagged < sv->top[at].intercepted ||
                (c->flagged == sv->top[at].intercepted && c->n <= sv->top[at].n))
                continue;
        } else {
            sv->n_top++;
        }
        while (at > 0 && (c->flagged > sv->top[at - 1].intercepted ||
                          (c->flagged == sv->top[at - 1].intercepted && c->n > sv->top[at - 1].n))) {
            sv->top[at] = sv->top[at - 1];
            at--;
        }
        sv->top[at].client = (uint32_t)ci;
        sv->top[at].n = c->n;
        sv->top[at].intercepted = c->flagged;
    }
}

void summary_finish(struct summary *s)
{
    if (s->finished)
        return;
    s->finished = true;
    for (size_t i = 0; i < s->servers.n; i++) {
        struct sum_server *sv = summary_server(s, i);
        sv->verdict = V_UNKNOWN;
    }
    /* Connections carry the flags their alerts set; a server is as bad as
     * its worst connection. */
    for (size_t i = 0; i < s->conns.n; i++) {
        struct sum_conn *c = summary_conn(s, i);
        if (!(c->flags & SUM_F_EVENT))
            continue;       /* an alert whose connection event was not read */
        enum verdict v = conn_verdict(c->flags);
        c->verdict = (uint8_t)v;
        if (c->server != UINT32_MAX) {
            struct sum_server *sv = summary_server(s, c->server);
            if (v < sv->verdict)
                sv->verdict = v;
            if (v == V_INTERCEPTED)
                sv->intercepted++;
            if (c->flags & SUM_F_REFUSED)
                sv->refused++;
            if (c->flags & (SUM_F_INTERCEPTED | SUM_F_SUSPICIOUS | SUM_F_REFUSED))
                sv->alerted++;
        }
        if (c->client != UINT32_MAX && v == V_INTERCEPTED)
            summary_client(s, c->client)->intercepted++;
        if (v == V_INTERCEPTED && c->server != UINT32_MAX && c->client != UINT32_MAX) {
            char key[400];
            snprintf(key, sizeof(key), "%s\x1f%s", s->servers.keys[c->server],
                     s->clients.keys[c->client]);
            long p = stab_get(&s->pairs, key, false, NULL);
            if (p >= 0)
                stab_count(&s->pairs, (size_t)p)->flagged++;
        }
    }
    top_clients(s);
    for (size_t i = 0; i < s->servers.n; i++) {
        struct sum_server *sv = summary_server(s, i);
        /* A server known only from alerts (its events were not read). */
        if (sv->conns == 0 && sv->n_alert)
            sv->verdict = V_SUSPICIOUS;
        decide(sv);
        s->verdicts[sv->verdict]++;
    }
    for (size_t i = 0; i < s->clients.n; i++) {
        struct sum_client *c = summary_client(s, i);
        list_sort(&c->ja4);
        list_sort(&c->apps);
    }
    s->server_order = order(s, s->servers.n, server_cmp);
    s->client_order = order(s, s->clients.n, client_cmp);
}

/* ---- tallies ---- */

static const struct stab *top_ctx;

static int top_cmp(const void *a, const void *b)
{
    const struct sum_count *x = stab_count(top_ctx, *(const uint32_t *)a);
    const struct sum_count *y = stab_count(top_ctx, *(const uint32_t *)b);
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return strcmp(top_ctx->keys[*(const uint32_t *)a], top_ctx->keys[*(const uint32_t *)b]);
}

uint32_t *summary_top(const struct stab *t, size_t max, size_t *n)
{
    uint32_t *o = malloc((t->n ? t->n : 1) * sizeof(*o));
    *n = 0;
    if (!o)
        return NULL;
    for (size_t i = 0; i < t->n; i++)
        o[i] = (uint32_t)i;
    top_ctx = t;
    qsort(o, t->n, sizeof(*o), top_cmp);
    top_ctx = NULL;
    *n = t->n < max ? t->n : max;
    return o;
}

void summary_expect_pin(struct sum_server *sv, const char *pin_b64, bool backup)
{
    sv->has_policy_pins = true;
    list_add(&sv->policy_pins, pin_b64, backup ? 1 : 0);
}

bool summary_pin_expected(const struct sum_server *sv, const char *pin)
{
    for (int i = 0; pin && i < sv->policy_pins.n; i++)
        if (strcmp(sv->policy_pins.v[i].s, pin) == 0)
            return true;
    return false;
}

const struct sum_count *summary_pair(const struct summary *s, size_t server, size_t client)
{
    char key[400];
    snprintf(key, sizeof(key), "%s\x1f%s", s->servers.keys[server], s->clients.keys[client]);
    long p = stab_get((struct stab *)&s->pairs, key, false, NULL);
    return p >= 0 ? stab_count(&s->pairs, (size_t)p) : NULL;
}

/* ---- life cycle ---- */

void summary_init(struct summary *s)
{
    memset(s, 0, sizeof(*s));
    stab_init(&s->servers, sizeof(struct sum_server), CFG_REPORT_SERVERS_MAX);
    stab_init(&s->clients, sizeof(struct sum_client), CFG_REPORT_CLIENTS_MAX);
    stab_init(&s->conns, sizeof(struct sum_conn), CFG_REPORT_CONNS_MAX);
    stab_init(&s->pairs, sizeof(struct sum_count), CFG_REPORT_PAIRS_MAX);
    stab_init(&s->versions, sizeof(struct sum_count), CFG_REPORT_TALLY_MAX);
    stab_init(&s->ja4, sizeof(struct sum_count), CFG_REPORT_TALLY_MAX);
    stab_init(&s->ja4s, sizeof(struct sum_count), CFG_REPORT_TALLY_MAX);
    stab_init(&s->issuers, sizeof(struct sum_count), CFG_REPORT_TALLY_MAX);
    stab_init(&s->certs, sizeof(struct sum_count), CFG_REPORT_TALLY_MAX);
    stab_init(&s->invalid, sizeof(struct sum_count), CFG_REPORT_TALLY_MAX);
    s->first_ts = -1;
    s->last_ts = -1;
}

static void counts_free(struct stab *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(stab_count(t, i)->name);
        free(stab_count(t, i)->extra);
    }
    stab_free(t);
}

void summary_free(struct summary *s)
{
    for (size_t i = 0; i < s->servers.n; i++) {
        struct sum_server *sv = summary_server(s, i);
        free(sv->why);
        free(sv->expected_pins);
        list_free(&sv->dests);
        list_free(&sv->issuers);
        list_free(&sv->products);
        list_free(&sv->spki);
        list_free(&sv->ja4s);
        list_free(&sv->versions);
        list_free(&sv->policy_pins);
        for (int k = 0; k < sv->n_chain; k++) {
            struct sum_chain *ch = &sv->chain[k];
            free(ch->validation);
            for (int j = 0; j < ch->n; j++) {
                free(ch->c[j].subject_cn);
                free(ch->c[j].issuer_cn);
                free(ch->c[j].issuer);
                free(ch->c[j].sha256);
                free(ch->c[j].spki);
                free(ch->c[j].not_after);
            }
        }
        for (int k = 0; k < sv->n_alert; k++) {
            struct sum_alert *a = &sv->alert[k];
            free(a->signature);
            free(a->confidence);
            free(a->category);
            free(a->reason);
            free(a->evidence);
            for (int j = 0; j < a->n_ex; j++) {
                free(a->ex[j].ts);
                free(a->ex[j].client);
            }
        }
    }
    for (size_t i = 0; i < s->clients.n; i++) {
        list_free(&summary_client(s, i)->ja4);
        list_free(&summary_client(s, i)->apps);
    }
    stab_free(&s->servers);
    stab_free(&s->clients);
    stab_free(&s->conns);
    counts_free(&s->pairs);
    counts_free(&s->versions);
    counts_free(&s->ja4);
    counts_free(&s->ja4s);
    counts_free(&s->issuers);
    counts_free(&s->certs);
    counts_free(&s->invalid);
    free(s->sensor);
    free(s->server_order);
    free(s->client_order);
    memset(s, 0, sizeof(*s));
}
