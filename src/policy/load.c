/*
 * load.c - the strict policy loader (see policy.h): every key checked
 * against the keys its object may hold, every value's type, syntax and
 * cap; the first problem ends the load with one line naming the file, the
 * entry and the reason (util/jsonv.c).
 */
#include "policy/policy_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/jsonv.h"

/* ---- loader ------------------------------------------------------------- */

static int get_comment(struct jsonv *l, const cJSON *obj, char **out)
{
    const char *s;
    if (jsonv_get_string(l, obj, "comment", "", &s) < 0)
        return -1;
    if (!s)
        return 0;
    if (strlen(s) > POLICY_MAX_COMMENT)
        return jsonv_fail(l, "comment: longer than %d bytes", POLICY_MAX_COMMENT);
    if (!(*out = pol_dup_str(s)))
        return jsonv_fail(l, "out of memory");
    return 0;
}


static int get_strs(struct jsonv *l, const cJSON *obj, const char *key, const char *prefix,
                    enum vkind k, struct policy_strs *out)
{
    const cJSON *a, *it;
    if (jsonv_get_array(l, obj, key, prefix, POLICY_MAX_VALUES, false, &a) < 0)
        return -1;
    if (!a)
        return 0;
    size_t i = 0;
    char buf[VBUF_LEN];
    cJSON_ArrayForEach(it, a)
    {
        if (!cJSON_IsString(it) || !it->valuestring)
            return jsonv_fail(l, "%s%s[%zu]: not a string", prefix, key, i);
        const char *v = pol_vnorm(k, it->valuestring, buf);
        if (!v)
            return jsonv_fail(l, "%s%s[%zu]: %s", prefix, key, i, pol_vkind_reason[k]);
        ssize_t d = pol_strs_find(out, v);
        if (d >= 0)
            return jsonv_fail(l, "%s%s[%zu]: duplicate of %s[%zd]", prefix, key, i, key, d);
        if (pol_strs_push(out, v) < 0)
            return jsonv_fail(l, "out of memory");
        i++;
    }
    return 0;
}

/* A numeric range {"min": N, "max": N, "tolerance": N}: whole numbers
 * from 0 to cap, min <= max; tolerance optional (policy_range_rule()
 * of min and max when absent). */
static int get_range(struct jsonv *l, const cJSON *obj, const char *key, uint32_t cap,
                     enum policy_range_kind kind, struct policy_range *out)
{
    static const char *const keys[] = {"min", "max", "tolerance", NULL};
    static const char *const names[] = {"min", "max", "tolerance"};
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(obj, key);
    memset(out, 0, sizeof(*out));
    if (!r)
        return 0;
    if (!cJSON_IsObject(r))
        return jsonv_fail(l, "%s: not an object (min, max, tolerance)", key);
    char pfx[64];
    snprintf(pfx, sizeof(pfx), "%s: ", key);
    if (jsonv_check_keys(l, r, keys, pfx) < 0)
        return -1;
    uint32_t v[3];
    for (int i = 0; i < 3; i++) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(r, names[i]);
        if (!c) {
            if (i == 2) {
                v[2] = policy_range_rule(kind, v[0], v[1]);
                break;
            }
            return jsonv_fail(l, "%s: missing \"%s\"", key, names[i]);
        }
        double d = c->valuedouble;
        if (!cJSON_IsNumber(c) || !(d >= 0 && d <= (double)cap) || (double)(uint32_t)d != d)
            return jsonv_fail(l, "%s: %s: not a whole number from 0 to %u", key, names[i], cap);
        v[i] = (uint32_t)d;
        if (i == 1 && v[1] < v[0])
            return jsonv_fail(l, "%s: min (%u) above max (%u)", key, v[0], v[1]);
    }
    *out = (struct policy_range){true, v[0], v[1], v[2]};
    return 0;
}

static int get_pins(struct jsonv *l, const cJSON *obj, const char *key, bool allow_empty,
                    struct policy_pins *out, const struct policy_pins *other,
                    const char *other_key)
{
    const cJSON *a, *it;
    if (jsonv_get_array(l, obj, key, "", POLICY_MAX_PINS, allow_empty, &a) < 0)
        return -1;
    if (!a)
        return 0;
    size_t i = 0;
    cJSON_ArrayForEach(it, a)
    {
        uint8_t pin[POLICY_SPKI_LEN];
        if (!cJSON_IsString(it) || !it->valuestring)
            return jsonv_fail(l, "%s[%zu]: not a string", key, i);
        if (!pol_pin_parse(it->valuestring, pin))
            return jsonv_fail(l, "%s[%zu]: not a base64 SHA-256 pin", key, i);
        ssize_t d = pol_pins_find(out, pin);
        if (d >= 0)
            return jsonv_fail(l, "%s[%zu]: duplicate of %s[%zd]", key, i, key, d);
        if (other && (d = pol_pins_find(other, pin)) >= 0)
            return jsonv_fail(l, "%s[%zu]: also in %s[%zd]", key, i, other_key, d);
        if (pol_pins_push(out, pin) < 0)
            return jsonv_fail(l, "out of memory");
        i++;
    }
    return 0;
}

static int get_nets(struct jsonv *l, const cJSON *obj, const char *key, const char *prefix,
                    struct policy_nets *out)
{
    const cJSON *a, *it;
    if (jsonv_get_array(l, obj, key, prefix, POLICY_MAX_VALUES, false, &a) < 0)
        return -1;
    if (!a)
        return 0;
    size_t i = 0;
    cJSON_ArrayForEach(it, a)
    {
        struct policy_cidr c;
        if (!cJSON_IsString(it) || !it->valuestring)
            return jsonv_fail(l, "%s%s[%zu]: not a string", prefix, key, i);
        enum cidr_res r = pol_cidr_parse(it->valuestring, &c);
        if (r == CIDR_BAD)
            return jsonv_fail(l, "%s%s[%zu]: not an IP address or CIDR", prefix, key, i);
        if (r == CIDR_HOSTBITS)
            return jsonv_fail(l, "%s%s[%zu]: CIDR has host bits set beyond /%u", prefix, key, i,
                           (unsigned)c.prefix);
        ssize_t d = pol_nets_find(out, &c);
        if (d >= 0)
            return jsonv_fail(l, "%s%s[%zu]: duplicate of %s[%zd]", prefix, key, i, key, d);
        if (pol_nets_push(out, &c) < 0)
            return jsonv_fail(l, "out of memory");
        i++;
    }
    return 0;
}

static int get_learned(struct jsonv *l, const cJSON *obj, struct policy_origin *o)
{
    static const char *const keys[] = {"connections", "last_seen", NULL};
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, "learned");
    memset(o, 0, sizeof(*o));
    if (!it)
        return 0;
    if (!cJSON_IsObject(it))
        return jsonv_fail(l, "learned: not an object");
    if (jsonv_check_keys(l, it, keys, "learned: ") < 0)
        return -1;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(it, "connections");
    if (!c)
        return jsonv_fail(l, "learned: missing \"connections\"");
    double d = c->valuedouble;
    if (!cJSON_IsNumber(c) || !(d >= 1 && d <= (double)POLICY_MAX_CONNECTIONS) ||
        (double)(uint64_t)d != d)
        return jsonv_fail(l, "learned: connections: not a whole number from 1 to 2^53");
    const char *ls;
    if (jsonv_get_string(l, it, "last_seen", "learned: ", &ls) < 0)
        return -1;
    if (!ls)
        return jsonv_fail(l, "learned: missing \"last_seen\"");
    if (!pol_date_parse(ls, &o->last_seen))
        return jsonv_fail(l, "learned: last_seen: not a date (YYYY-MM-DD)");
    o->learned = true;
    o->connections = (uint64_t)d;
    return 0;
}

/* "domain" of a pin or issuer set: sets the entry label. */
static int get_domain(struct jsonv *l, const cJSON *e, const char *section, size_t i,
                      char out[POLICY_MAX_DOMAIN + 1])
{
    const char *s;
    if (jsonv_get_string(l, e, "domain", "", &s) < 0)
        return -1;
    if (!s)
        return jsonv_fail(l, "missing \"domain\"");
    if (!pol_domain_norm(s, strlen(s), out, false)) {
        if (s[0] == '*')
            return jsonv_fail(l, "domain: wildcards are not allowed here (use include_subdomains)");
        return jsonv_fail(l, "domain: not a domain name");
    }
    snprintf(l->entry, sizeof(l->entry), "%s[%zu] (%s)", section, i, out);
    return 0;
}

static int get_name(struct jsonv *l, const cJSON *e, const char *section, size_t i,
                    const char **out)
{
    if (jsonv_get_string(l, e, "name", "", out) < 0)
        return -1;
    if (!*out)
        return jsonv_fail(l, "missing \"name\"");
    size_t n = strlen(*out);
    if (n == 0 || n > POLICY_MAX_NAME || pol_has_ctl(*out))
        return jsonv_fail(l, "name: must be 1..%d bytes without control characters",
                       POLICY_MAX_NAME);
    snprintf(l->entry, sizeof(l->entry), "%s[%zu] (%s)", section, i, *out);
    return 0;
}

static int get_match(struct jsonv *l, const cJSON *e, struct policy_match *m)
{
    static const char *const keys[] = {"client_subnets", "sni", "server_addresses", NULL};
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(e, "match");
    if (!it)
        return 0;
    if (!cJSON_IsObject(it))
        return jsonv_fail(l, "match: not an object");
    if (jsonv_check_keys(l, it, keys, "match: ") < 0 ||
        get_nets(l, it, "client_subnets", "match: ", &m->client_subnets) < 0 ||
        get_strs(l, it, "sni", "match: ", V_SNI, &m->sni) < 0 ||
        get_nets(l, it, "server_addresses", "match: ", &m->server_addresses) < 0)
        return -1;
    return 0;
}

static int load_pin_set(struct jsonv *l, struct policy *p, const cJSON *e, size_t i)
{
    static const char *const keys[] = {"domain",  "include_subdomains", "pins", "backup_pins",
                                       "expires", "comment",            "learned", NULL};
    char dom[POLICY_MAX_DOMAIN + 1];
    if (!cJSON_IsObject(e))
        return jsonv_fail(l, "not an object");
    if (get_domain(l, e, "pin_sets", i, dom) < 0 || jsonv_check_keys(l, e, keys, "") < 0)
        return -1;
    size_t pos;
    if (pol_ix_search(&p->pin_ix, dom, strlen(dom), &pos))
        return jsonv_fail(l, "domain: duplicate of pin_sets[%zu]", p->pin_ix.v[pos].idx);
    struct policy_pin_set *s = calloc(1, sizeof(*s));
    if (!s || !(s->domain = pol_dup_str(dom))) {
        free(s);
        return jsonv_fail(l, "out of memory");
    }
    const char *exp;
    if (jsonv_get_bool(l, e, "include_subdomains", &s->include_subdomains) < 0)
        goto fail;
    if (!cJSON_GetObjectItemCaseSensitive(e, "pins")) {
        jsonv_fail(l, "missing \"pins\"");
        goto fail;
    }
    if (get_pins(l, e, "pins", false, &s->pins, NULL, NULL) < 0 ||
        get_pins(l, e, "backup_pins", true, &s->backup_pins, &s->pins, "pins") < 0 ||
        jsonv_get_string(l, e, "expires", "", &exp) < 0)
        goto fail;
    if (exp) {
        if (!pol_date_parse(exp, &s->expires)) {
            jsonv_fail(l, "expires: not a date (YYYY-MM-DD)");
            goto fail;
        }
        s->has_expires = true;
    }
    if (get_comment(l, e, &s->comment) < 0 || get_learned(l, e, &s->origin) < 0)
        goto fail;
    if (!pol_add_entry(&p->pin_sets, &p->n_pin_sets, &p->cap_pin_sets, &p->pin_ix, pos, s,
                   s->domain, s->include_subdomains)) {
        jsonv_fail(l, "out of memory");
        goto fail;
    }
    return 0;
fail:
    pol_pin_set_free(s);
    return -1;
}

static int load_issuer_set(struct jsonv *l, struct policy *p, const cJSON *e, size_t i)
{
    static const char *const keys[] = {"domain",  "include_subdomains", "issuers", "issuer_pins",
                                       "comment", "learned",            NULL};
    char dom[POLICY_MAX_DOMAIN + 1];
    if (!cJSON_IsObject(e))
        return jsonv_fail(l, "not an object");
    if (get_domain(l, e, "expected_issuers", i, dom) < 0 || jsonv_check_keys(l, e, keys, "") < 0)
        return -1;
    size_t pos;
    if (pol_ix_search(&p->issuer_ix, dom, strlen(dom), &pos))
        return jsonv_fail(l, "domain: duplicate of expected_issuers[%zu]", p->issuer_ix.v[pos].idx);
    struct policy_issuer_set *s = calloc(1, sizeof(*s));
    if (!s || !(s->domain = pol_dup_str(dom))) {
        free(s);
        return jsonv_fail(l, "out of memory");
    }
    if (jsonv_get_bool(l, e, "include_subdomains", &s->include_subdomains) < 0 ||
        get_strs(l, e, "issuers", "", V_ISSUER, &s->issuers) < 0 ||
        get_pins(l, e, "issuer_pins", true, &s->issuer_pins, NULL, NULL) < 0)
        goto fail;
    if (s->issuers.n == 0 && s->issuer_pins.n == 0) {
        jsonv_fail(l, "needs \"issuers\" or \"issuer_pins\"");
        goto fail;
    }
    if (get_comment(l, e, &s->comment) < 0 || get_learned(l, e, &s->origin) < 0)
        goto fail;
    if (!pol_add_entry(&p->issuer_sets, &p->n_issuer_sets, &p->cap_issuer_sets,
                   &p->issuer_ix, pos, s, s->domain, s->include_subdomains)) {
        jsonv_fail(l, "out of memory");
        goto fail;
    }
    return 0;
fail:
    pol_issuer_set_free(s);
    return -1;
}

static int load_client(struct jsonv *l, struct policy *p, const cJSON *e, size_t i)
{
    static const char *const keys[] = {"name", "match", "ja4",     "ja3",     "tls_versions",
                                       "alpn", "comment", "learned", NULL};
    const char *name;
    if (!cJSON_IsObject(e))
        return jsonv_fail(l, "not an object");
    if (get_name(l, e, "client_baselines", i, &name) < 0 || jsonv_check_keys(l, e, keys, "") < 0)
        return -1;
    size_t pos;
    if (pol_ix_search(&p->client_ix, name, strlen(name), &pos))
        return jsonv_fail(l, "name: duplicate of client_baselines[%zu]", p->client_ix.v[pos].idx);
    struct policy_client_baseline *b = calloc(1, sizeof(*b));
    if (!b || !(b->name = pol_dup_str(name))) {
        free(b);
        return jsonv_fail(l, "out of memory");
    }
    if (get_match(l, e, &b->match) < 0 || get_strs(l, e, "ja4", "", V_JA4, &b->ja4) < 0 ||
        get_strs(l, e, "ja3", "", V_JA3, &b->ja3) < 0 ||
        get_strs(l, e, "tls_versions", "", V_VERSION, &b->tls_versions) < 0 ||
        get_strs(l, e, "alpn", "", V_ALPN, &b->alpn) < 0)
        goto fail;
    if (!b->ja4.n && !b->ja3.n && !b->tls_versions.n && !b->alpn.n) {
        jsonv_fail(l, "constrains nothing (needs ja4, ja3, tls_versions or alpn)");
        goto fail;
    }
    if (get_comment(l, e, &b->comment) < 0 || get_learned(l, e, &b->origin) < 0)
        goto fail;
    if (!pol_add_entry(&p->clients, &p->n_clients, &p->cap_clients, &p->client_ix, pos, b,
                   b->name, false)) {
        jsonv_fail(l, "out of memory");
        goto fail;
    }
    return 0;
fail:
    pol_client_free(b);
    return -1;
}

static int load_server(struct jsonv *l, struct policy *p, const cJSON *e, size_t i)
{
    static const char *const keys[] = {"name",  "match",   "ja4s",    "ja3s",
                                       "ja4ts", "server_ttl", "server_flight_bytes",
                                       "hello_retry", "server_hello_delay_us",
                                       "min_tls_version", "alpn", "comment", "learned", NULL};
    const char *name, *minv;
    if (!cJSON_IsObject(e))
        return jsonv_fail(l, "not an object");
    if (get_name(l, e, "server_baselines", i, &name) < 0 || jsonv_check_keys(l, e, keys, "") < 0)
        return -1;
    size_t pos;
    if (pol_ix_search(&p->server_ix, name, strlen(name), &pos))
        return jsonv_fail(l, "name: duplicate of server_baselines[%zu]", p->server_ix.v[pos].idx);
    struct policy_server_baseline *b = calloc(1, sizeof(*b));
    if (!b || !(b->name = pol_dup_str(name))) {
        free(b);
        return jsonv_fail(l, "out of memory");
    }
    if (get_match(l, e, &b->match) < 0 || get_strs(l, e, "ja4s", "", V_JA4S, &b->ja4s) < 0 ||
        get_strs(l, e, "ja3s", "", V_JA3S, &b->ja3s) < 0 ||
        get_strs(l, e, "ja4ts", "", V_JA4TS, &b->ja4ts) < 0 ||
        get_strs(l, e, "server_ttl", "", V_TTL, &b->server_ttl) < 0 ||
        get_range(l, e, "server_flight_bytes", POLICY_MAX_FLIGHT_BYTES, POLICY_RANGE_FLIGHT,
                  &b->flight_bytes) < 0 ||
        get_strs(l, e, "hello_retry", "", V_HRR, &b->hello_retry) < 0 ||
        get_range(l, e, "server_hello_delay_us", POLICY_MAX_DELAY_US, POLICY_RANGE_DELAY,
                  &b->hello_delay_us) < 0 ||
        jsonv_get_string(l, e, "min_tls_version", "", &minv) < 0 ||
        get_strs(l, e, "alpn", "", V_ALPN, &b->alpn) < 0)
        goto fail;
    if (minv) {
        if (!(b->min_tls_version = policy_version_canonical(minv))) {
            jsonv_fail(l, "min_tls_version: %s", pol_vkind_reason[V_VERSION]);
            goto fail;
        }
        b->min_tls_code = pol_version_code(minv);
    }
    if (!b->ja4s.n && !b->ja3s.n && !b->min_tls_version && !b->alpn.n && !b->ja4ts.n &&
        !b->server_ttl.n && !b->flight_bytes.set && !b->hello_retry.n &&
        !b->hello_delay_us.set) {
        jsonv_fail(l, "constrains nothing (needs ja4s, ja3s, ja4ts, server_ttl, "
                      "server_flight_bytes, hello_retry, server_hello_delay_us, min_tls_version "
                      "or alpn)");
        goto fail;
    }
    if (get_comment(l, e, &b->comment) < 0 || get_learned(l, e, &b->origin) < 0)
        goto fail;
    if (!pol_add_entry(&p->servers, &p->n_servers, &p->cap_servers, &p->server_ix, pos, b,
                   b->name, false)) {
        jsonv_fail(l, "out of memory");
        goto fail;
    }
    return 0;
fail:
    pol_server_free(b);
    return -1;
}

typedef int (*load_entry_fn)(struct jsonv *, struct policy *, const cJSON *, size_t);

static int load_section(struct jsonv *l, struct policy *p, const cJSON *root, const char *key,
                        load_entry_fn fn)
{
    const cJSON *a, *it;
    if (jsonv_get_array(l, root, key, "", POLICY_MAX_ENTRIES, true, &a) < 0)
        return -1;
    if (!a)
        return 0;
    size_t i = 0;
    cJSON_ArrayForEach(it, a)
    {
        snprintf(l->entry, sizeof(l->entry), "%s[%zu]", key, i);
        if (fn(l, p, it, i) < 0)
            return -1;
        i++;
    }
    l->entry[0] = '\0';
    return 0;
}

static int load_root(struct jsonv *l, struct policy *p, const cJSON *root)
{
    static const char *const keys[] = {"version",          "comment",          "pin_sets",
                                       "expected_issuers", "client_baselines", "server_baselines",
                                       NULL};
    if (!cJSON_IsObject(root))
        return jsonv_fail(l, "not a JSON object");
    if (jsonv_check_keys(l, root, keys, "") < 0)
        return -1;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!v)
        return jsonv_fail(l, "missing \"version\"");
    if (!cJSON_IsNumber(v) || v->valuedouble != 1.0)
        return jsonv_fail(l, "version: unsupported (this pinscope reads version 1)");
    if (get_comment(l, root, &p->comment) < 0 ||
        load_section(l, p, root, "pin_sets", load_pin_set) < 0 ||
        load_section(l, p, root, "expected_issuers", load_issuer_set) < 0 ||
        load_section(l, p, root, "client_baselines", load_client) < 0 ||
        load_section(l, p, root, "server_baselines", load_server) < 0)
        return -1;
    return 0;
}

struct policy *policy_load_buffer(const char *name, const char *buf, size_t len, char *err,
                                  size_t errlen)
{
    struct jsonv l = {.file = name ? name : "(policy)", .err = err, .errlen = errlen};
    if (err && errlen)
        err[0] = '\0';
    cJSON *root = jsonv_parse(&l, buf, len, POLICY_MAX_FILE_BYTES);
    if (!root)
        return NULL;
    struct policy *p = policy_new();
    if (!p) {
        jsonv_fail(&l, "out of memory");
    } else if (load_root(&l, p, root) < 0) {
        policy_free(p);
        p = NULL;
    }
    cJSON_Delete(root);
    return p;
}

struct policy *policy_load(const char *path, char *err, size_t errlen)
{
    struct jsonv l = {.file = path ? path : "(null)", .err = err, .errlen = errlen};
    if (err && errlen)
        err[0] = '\0';
    if (!path) {
        jsonv_fail(&l, "no file name");
        return NULL;
    }
    size_t len;
    char *buf = jsonv_read_file(&l, path, POLICY_MAX_FILE_BYTES, &len);
    if (!buf)
        return NULL;
    struct policy *p = policy_load_buffer(path, buf, len, err, errlen);
    free(buf);
    return p;
}
