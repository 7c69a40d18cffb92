/*
 * match.c - lookups and checks for one connection (see policy.h).
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

/* ---- lookups and checks ------------------------------------------------ */

const struct policy_pin_set *policy_find_pinset(const struct policy *p, const char *sni,
                                                size_t len)
{
    char name[POLICY_MAX_DOMAIN + 1];
    size_t n;
    if (!p || !sni || !(n = pol_domain_norm(sni, len, name, false)))
        return NULL;
    ssize_t i = pol_ix_lookup_domain(&p->pin_ix, name, n);
    return i >= 0 ? p->pin_sets[i] : NULL;
}

const struct policy_issuer_set *policy_find_issuers(const struct policy *p, const char *sni,
                                                    size_t len)
{
    char name[POLICY_MAX_DOMAIN + 1];
    size_t n;
    if (!p || !sni || !(n = pol_domain_norm(sni, len, name, false)))
        return NULL;
    ssize_t i = pol_ix_lookup_domain(&p->issuer_ix, name, n);
    return i >= 0 ? p->issuer_sets[i] : NULL;
}

int policy_pinset_check(const struct policy_pin_set *set, const uint8_t (*spkis)[POLICY_SPKI_LEN],
                        size_t n, int64_t capture_time_s, struct policy_pin_result *out)
{
    if (!set || !out || (!spkis && n))
        return POLICY_EINVAL;
    memset(out, 0, sizeof(*out));
    out->expired = set->has_expires && capture_time_s >= set->expires + POLICY_DAY;
    for (size_t c = 0; c < n; c++) {
        ssize_t i = pol_pins_find(&set->pins, spkis[c]);
        bool backup = false;
        if (i < 0 && (i = pol_pins_find(&set->backup_pins, spkis[c])) >= 0)
            backup = true;
        if (i >= 0) {
            out->matched = true;
            out->backup = backup;
            out->cert_index = c;
            out->pin_index = (size_t)i;
            return 1;
        }
    }
    return 0;
}

int policy_issuer_check(const struct policy_issuer_set *set, const char *issuer_dn,
                        const char *issuer_cn, const uint8_t issuer_spki[POLICY_SPKI_LEN],
                        struct policy_issuer_result *out)
{
    if (!set || !out)
        return POLICY_EINVAL;
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < set->issuers.n; i++) {
        const char *want = set->issuers.v[i];
        bool is_dn = strchr(want, '=') != NULL;
        if (is_dn ? (issuer_dn && pol_dn_equal(want, issuer_dn))
                  : (issuer_cn && pol_ascii_caseeq(want, issuer_cn))) {
            out->verdict = POLICY_ISSUER_MATCH;
            out->by = is_dn ? POLICY_ISSUER_BY_DN : POLICY_ISSUER_BY_CN;
            out->index = i;
            return out->verdict;
        }
    }
    if (issuer_spki) {
        ssize_t i = pol_pins_find(&set->issuer_pins, issuer_spki);
        if (i >= 0) {
            out->verdict = POLICY_ISSUER_MATCH;
            out->by = POLICY_ISSUER_BY_PIN;
            out->index = (size_t)i;
            return out->verdict;
        }
    } else if (set->issuer_pins.n) {
        out->verdict = POLICY_ISSUER_UNKNOWN;
        return out->verdict;
    }
    out->verdict = POLICY_ISSUER_MISMATCH;
    return out->verdict;
}

static bool nets_match(const struct policy_nets *n, const uint8_t *ip, int ver)
{
    if (n->n == 0)
        return true;
    for (size_t i = 0; i < n->n; i++)
        if (pol_cidr_contains(&n->v[i], ip, ver))
            return true;
    return false;
}

/* name: normalised SNI (nlen bytes) or NULL. */
static bool sni_match(const struct policy_strs *s, const char *name, size_t nlen)
{
    if (s->n == 0)
        return true;
    if (!name)
        return false;
    for (size_t i = 0; i < s->n; i++) {
        const char *w = s->v[i];
        size_t wl = strlen(w);
        if (w[0] == '*') {
            /* "*.x": nlen > len(".x") and the name ends with ".x" */
            if (nlen > wl - 1 && memcmp(name + nlen - (wl - 1), w + 1, wl - 1) == 0)
                return true;
        } else if (wl == nlen && memcmp(name, w, nlen) == 0) {
            return true;
        }
    }
    return false;
}

static bool match_ok(const struct policy_match *m, const uint8_t *client_ip, int ver,
                     const char *name, size_t nlen, const uint8_t *server_ip)
{
    return nets_match(&m->client_subnets, client_ip, ver) && sni_match(&m->sni, name, nlen) &&
           nets_match(&m->server_addresses, server_ip, ver);
}

size_t policy_find_client_baselines(const struct policy *p, const uint8_t *client_ip,
                                    int ip_ver, const char *sni, size_t sni_len,
                                    const uint8_t *server_ip,
                                    const struct policy_client_baseline **out, size_t max_out)
{
    char buf[POLICY_MAX_DOMAIN + 1];
    size_t nlen = (p && sni) ? pol_domain_norm(sni, sni_len, buf, false) : 0;
    const char *name = nlen ? buf : NULL;
    size_t found = 0;
    for (size_t i = 0; p && i < p->n_clients; i++) {
        const struct policy_client_baseline *b = p->clients[i];
        if (!match_ok(&b->match, client_ip, ip_ver, name, nlen, server_ip))
            continue;
        if (out && found < max_out)
            out[found] = b;
        found++;
    }
    return found;
}

size_t policy_find_server_baselines(const struct policy *p, const uint8_t *client_ip,
                                    int ip_ver, const char *sni, size_t sni_len,
                                    const uint8_t *server_ip,
                                    const struct policy_server_baseline **out, size_t max_out)
{
    char buf[POLICY_MAX_DOMAIN + 1];
    size_t nlen = (p && sni) ? pol_domain_norm(sni, sni_len, buf, false) : 0;
    const char *name = nlen ? buf : NULL;
    size_t found = 0;
    for (size_t i = 0; p && i < p->n_servers; i++) {
        const struct policy_server_baseline *b = p->servers[i];
        if (!match_ok(&b->match, client_ip, ip_ver, name, nlen, server_ip))
            continue;
        if (out && found < max_out)
            out[found] = b;
        found++;
    }
    return found;
}

static void dev_add(struct policy_dev *d, enum policy_attr a, const char *key, const char *seen,
                    const char *const *expected, size_t n_expected)
{
    if (d->n < POLICY_DEV_MAX)
        d->item[d->n++] = (struct policy_dev_item){.attr = a, .key = key, .seen = seen,
                                                   .expected = expected,
                                                   .n_expected = n_expected};
}

static void check_list(struct policy_dev *d, enum policy_attr a, const char *key,
                       const struct policy_strs *list, const char *seen)
{
    if (list->n && pol_given(seen) && pol_strs_find(list, seen) < 0)
        dev_add(d, a, key, seen, (const char *const *)list->v, list->n);
}

int policy_client_check(const struct policy_client_baseline *b, const char *ja4,
                        const char *ja3, const char *version, const char *alpn_first,
                        struct policy_dev *out)
{
    if (!b || !out)
        return POLICY_EINVAL;
    memset(out, 0, sizeof(*out));
    check_list(out, POLICY_ATTR_JA4, "ja4", &b->ja4, ja4);
    /* JA3 hashes the extensions in wire order, which Chromium permutes on
     * every connection: when the JA4 (sorted) is one the baseline allows,
     * a JA3 outside it says nothing.  A baseline with JA3 values only is
     * still checked on them. */
    bool ja4_allowed = b->ja4.n && pol_given(ja4) && out->n == 0;
    if (!ja4_allowed)
        check_list(out, POLICY_ATTR_JA3, "ja3", &b->ja3, ja3);
    if (b->tls_versions.n && pol_given(version)) {
        uint16_t code = pol_version_code(version);
        bool ok = false;
        for (size_t i = 0; code && i < b->tls_versions.n; i++)
            ok |= pol_version_code(b->tls_versions.v[i]) == code;
        if (!ok)
            dev_add(out, POLICY_ATTR_TLS_VERSION, "tls_versions", version,
                    (const char *const *)b->tls_versions.v, b->tls_versions.n);
    }
    check_list(out, POLICY_ATTR_ALPN, "alpn", &b->alpn, alpn_first);
    return (int)out->n;
}

int policy_server_stack_check(const struct policy_server_baseline *b, const char *ja4ts,
                              const char *ttl, struct policy_dev *out)
{
    if (!b || !out)
        return POLICY_EINVAL;
    check_list(out, POLICY_ATTR_JA4TS, "ja4ts", &b->ja4ts, ja4ts);
    check_list(out, POLICY_ATTR_SERVER_TTL, "server_ttl", &b->server_ttl, ttl);
    return (int)out->n;
}

int policy_server_keyless_check(const struct policy_server_baseline *b, int64_t flight_bytes,
                                const char *hello_retry, int64_t delay_us,
                                struct policy_dev *out)
{
    if (!b || !out)
        return POLICY_EINVAL;
    const struct policy_range *f = &b->flight_bytes, *dl = &b->hello_delay_us;
    if (f->set && flight_bytes >= 0) {
        int64_t lo = (int64_t)f->min - f->tolerance, hi = (int64_t)f->max + f->tolerance;
        if ((flight_bytes < lo || flight_bytes > hi) && out->n < POLICY_DEV_MAX) {
            struct policy_dev_item *it = &out->item[out->n++];
            *it = (struct policy_dev_item){.attr = POLICY_ATTR_FLIGHT_BYTES,
                                           .key = "server_flight_bytes"};
            snprintf(it->seen_num, sizeof(it->seen_num), "%" PRId64, flight_bytes);
            snprintf(it->expected_num, sizeof(it->expected_num), "%" PRId64 "..%" PRId64,
                     lo < 0 ? 0 : lo, hi);
        }
    }
    check_list(out, POLICY_ATTR_HELLO_RETRY, "hello_retry", &b->hello_retry, hello_retry);
    if (dl->set && delay_us >= 0) {
        int64_t hi = (int64_t)dl->max + dl->tolerance;
        if (delay_us > hi && out->n < POLICY_DEV_MAX) {
            struct policy_dev_item *it = &out->item[out->n++];
            *it = (struct policy_dev_item){.attr = POLICY_ATTR_HELLO_DELAY,
                                           .key = "server_hello_delay_us"};
            snprintf(it->seen_num, sizeof(it->seen_num), "%" PRId64, delay_us);
            snprintf(it->expected_num, sizeof(it->expected_num), "<= %" PRId64, hi);
        }
    }
    return (int)out->n;
}

int policy_server_check(const struct policy_server_baseline *b, const char *ja4s,
                        const char *ja3s, const char *version, const char *alpn,
                        struct policy_dev *out)
{
    if (!b || !out)
        return POLICY_EINVAL;
    memset(out, 0, sizeof(*out));
    check_list(out, POLICY_ATTR_JA4S, "ja4s", &b->ja4s, ja4s);
    check_list(out, POLICY_ATTR_JA3S, "ja3s", &b->ja3s, ja3s);
    if (b->min_tls_code && pol_given(version)) {
        uint16_t code = pol_version_code(version);
        if (code && code < b->min_tls_code)
            dev_add(out, POLICY_ATTR_MIN_TLS_VERSION, "min_tls_version", version,
                    &b->min_tls_version, 1);
    }
    check_list(out, POLICY_ATTR_ALPN, "alpn", &b->alpn, alpn);
    return (int)out->n;
}
