/*
 * merge.c - merging two policies and learning from connections (see
 * policy.h).
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

/* ---- merge and learning ------------------------------------------------- */

static struct policy_merge_stats *stats_or(struct policy_merge_stats *st,
                                           struct policy_merge_stats *local)
{
    return st ? st : local;
}

/* Comment of a learned entry, regenerated whenever its counts change. */
static int origin_comment(const struct policy_origin *o, char **comment)
{
    char day[32], buf[128];
    pol_date_format(o->last_seen, day);
    snprintf(buf, sizeof(buf), "learned from %" PRIu64 " connection%s, last seen %s",
             o->connections, o->connections == 1 ? "" : "s", day);
    char *c = pol_dup_str(buf);
    if (!c)
        return POLICY_ENOMEM;
    free(*comment);
    *comment = c;
    return 0;
}

static void origin_add(struct policy_origin *d, const struct policy_origin *s)
{
    d->connections = (s->connections > POLICY_MAX_CONNECTIONS - d->connections)
                         ? POLICY_MAX_CONNECTIONS
                         : d->connections + s->connections;
    if (s->last_seen > d->last_seen)
        d->last_seen = s->last_seen;
}

/* Append the values of s missing from d (and from `also`, if given), up
 * to `max`; values that do not fit are counted in *capped. */
static int union_strs(struct policy_strs *d, const struct policy_strs *s, size_t max,
                      size_t *capped)
{
    for (size_t i = 0; i < s->n; i++) {
        if (pol_strs_find(d, s->v[i]) >= 0)
            continue;
        if (d->n >= max) {
            (*capped)++;
            continue;
        }
        if (pol_strs_push(d, s->v[i]) < 0)
            return POLICY_ENOMEM;
    }
    return 0;
}

static int union_pins(struct policy_pins *d, const struct policy_pins *s,
                      const struct policy_pins *also, size_t *capped)
{
    for (size_t i = 0; i < s->n; i++) {
        if (pol_pins_find(d, s->v[i]) >= 0 || (also && pol_pins_find(also, s->v[i]) >= 0))
            continue;
        if (d->n >= POLICY_MAX_PINS) {
            (*capped)++;
            continue;
        }
        if (pol_pins_push(d, s->v[i]) < 0)
            return POLICY_ENOMEM;
    }
    return 0;
}

/* Return values of the merge_* helpers: 0 added or extended, 1 dropped
 * (hand-written key or shadowed), POLICY_ECAP, POLICY_ENOMEM. */

static int merge_pin_set(struct policy *dst, const struct policy_pin_set *s,
                         struct policy_merge_stats *st)
{
    size_t pos, len = strlen(s->domain);
    if (pol_ix_search(&dst->pin_ix, s->domain, len, &pos)) {
        struct policy_pin_set *d = dst->pin_sets[dst->pin_ix.v[pos].idx];
        if (!d->origin.learned) {
            st->kept++;
            return 1;
        }
        if (union_pins(&d->pins, &s->pins, &d->backup_pins, &st->capped) < 0 ||
            union_pins(&d->backup_pins, &s->backup_pins, &d->pins, &st->capped) < 0)
            return POLICY_ENOMEM;
        origin_add(&d->origin, &s->origin);
        if (origin_comment(&d->origin, &d->comment) < 0)
            return POLICY_ENOMEM;
        st->extended++;
        return 0;
    }
    ssize_t cov = pol_ix_lookup_domain(&dst->pin_ix, s->domain, len);
    if (cov >= 0 && !((struct policy_pin_set *)dst->pin_sets[cov])->origin.learned) {
        st->shadowed++;
        return 1;
    }
    if (dst->n_pin_sets >= POLICY_MAX_ENTRIES) {
        st->capped++;
        return POLICY_ECAP;
    }
    struct policy_pin_set *d = calloc(1, sizeof(*d));
    if (!d || !(d->domain = pol_dup_str(s->domain)) || pol_pins_copy(&d->pins, &s->pins) < 0 ||
        pol_pins_copy(&d->backup_pins, &s->backup_pins) < 0)
        goto nomem;
    d->include_subdomains = s->include_subdomains;
    d->has_expires = s->has_expires;
    d->expires = s->expires;
    d->origin = s->origin;
    d->origin.learned = true;
    if (origin_comment(&d->origin, &d->comment) < 0 ||
        !pol_add_entry(&dst->pin_sets, &dst->n_pin_sets, &dst->cap_pin_sets, &dst->pin_ix,
                   pos, d, d->domain, d->include_subdomains))
        goto nomem;
    st->added++;
    return 0;
nomem:
    pol_pin_set_free(d);
    return POLICY_ENOMEM;
}

static int merge_issuer_set(struct policy *dst, const struct policy_issuer_set *s,
                            struct policy_merge_stats *st)
{
    size_t pos, len = strlen(s->domain);
    if (pol_ix_search(&dst->issuer_ix, s->domain, len, &pos)) {
        struct policy_issuer_set *d = dst->issuer_sets[dst->issuer_ix.v[pos].idx];
        if (!d->origin.learned) {
            st->kept++;
            return 1;
        }
        if (union_strs(&d->issuers, &s->issuers, POLICY_MAX_VALUES, &st->capped) < 0 ||
            union_pins(&d->issuer_pins, &s->issuer_pins, NULL, &st->capped) < 0)
            return POLICY_ENOMEM;
        origin_add(&d->origin, &s->origin);
        if (origin_comment(&d->origin, &d->comment) < 0)
            return POLICY_ENOMEM;
        st->extended++;
        return 0;
    }
    ssize_t cov = pol_ix_lookup_domain(&dst->issuer_ix, s->domain, len);
    if (cov >= 0 && !((struct policy_issuer_set *)dst->issuer_sets[cov])->origin.learned) {
        st->shadowed++;
        return 1;
    }
    if (dst->n_issuer_sets >= POLICY_MAX_ENTRIES) {
        st->capped++;
        return POLICY_ECAP;
    }
    struct policy_issuer_set *d = calloc(1, sizeof(*d));
    if (!d || !(d->domain = pol_dup_str(s->domain)) || pol_strs_copy(&d->issuers, &s->issuers) < 0 ||
        pol_pins_copy(&d->issuer_pins, &s->issuer_pins) < 0)
        goto nomem;
    d->include_subdomains = s->include_subdomains;
    d->origin = s->origin;
    d->origin.learned = true;
    if (origin_comment(&d->origin, &d->comment) < 0 ||
        !pol_add_entry(&dst->issuer_sets, &dst->n_issuer_sets, &dst->cap_issuer_sets,
                   &dst->issuer_ix, pos, d, d->domain, d->include_subdomains))
        goto nomem;
    st->added++;
    return 0;
nomem:
    pol_issuer_set_free(d);
    return POLICY_ENOMEM;
}

static int match_copy(struct policy_match *d, const struct policy_match *s)
{
    if (pol_nets_copy(&d->client_subnets, &s->client_subnets) < 0 || pol_strs_copy(&d->sni, &s->sni) < 0 ||
        pol_nets_copy(&d->server_addresses, &s->server_addresses) < 0)
        return POLICY_ENOMEM;
    return 0;
}

static int merge_client(struct policy *dst, const struct policy_client_baseline *s,
                        struct policy_merge_stats *st)
{
    size_t pos;
    if (pol_ix_search(&dst->client_ix, s->name, strlen(s->name), &pos)) {
        struct policy_client_baseline *d = dst->clients[dst->client_ix.v[pos].idx];
        if (!d->origin.learned) {
            st->kept++;
            return 1;
        }
        if (union_strs(&d->ja4, &s->ja4, POLICY_MAX_VALUES, &st->capped) < 0 ||
            union_strs(&d->ja3, &s->ja3, POLICY_MAX_VALUES, &st->capped) < 0 ||
            union_strs(&d->tls_versions, &s->tls_versions, POLICY_MAX_VALUES, &st->capped) < 0 ||
            union_strs(&d->alpn, &s->alpn, POLICY_MAX_VALUES, &st->capped) < 0)
            return POLICY_ENOMEM;
        origin_add(&d->origin, &s->origin);
        if (origin_comment(&d->origin, &d->comment) < 0)
            return POLICY_ENOMEM;
        st->extended++;
        return 0;
    }
    if (dst->n_clients >= POLICY_MAX_ENTRIES) {
        st->capped++;
        return POLICY_ECAP;
    }
    struct policy_client_baseline *d = calloc(1, sizeof(*d));
    if (!d || !(d->name = pol_dup_str(s->name)) || match_copy(&d->match, &s->match) < 0 ||
        pol_strs_copy(&d->ja4, &s->ja4) < 0 || pol_strs_copy(&d->ja3, &s->ja3) < 0 ||
        pol_strs_copy(&d->tls_versions, &s->tls_versions) < 0 || pol_strs_copy(&d->alpn, &s->alpn) < 0)
        goto nomem;
    d->origin = s->origin;
    d->origin.learned = true;
    if (origin_comment(&d->origin, &d->comment) < 0 ||
        !pol_add_entry(&dst->clients, &dst->n_clients, &dst->cap_clients, &dst->client_ix,
                   pos, d, d->name, false))
        goto nomem;
    st->added++;
    return 0;
nomem:
    pol_client_free(d);
    return POLICY_ENOMEM;
}

uint32_t policy_range_rule(enum policy_range_kind k, uint32_t min, uint32_t max)
{
    uint64_t spread2 = 2 * (uint64_t)(max >= min ? max - min : 0), t;
    if (k == POLICY_RANGE_FLIGHT) {
        t = spread2 > 64 ? spread2 : 64;
        return t > POLICY_MAX_FLIGHT_BYTES ? POLICY_MAX_FLIGHT_BYTES : (uint32_t)t;
    }
    t = 10000;
    if (max > t)
        t = max;
    if (spread2 > t)
        t = spread2;
    return t > POLICY_MAX_DELAY_US ? POLICY_MAX_DELAY_US : (uint32_t)t;
}

/* A learned range widened to cover src's values, its tolerance by the rule. */
static void union_range(struct policy_range *d, const struct policy_range *s,
                        enum policy_range_kind k)
{
    if (!s->set)
        return;
    if (!d->set) {
        *d = *s;
    } else {
        d->min = s->min < d->min ? s->min : d->min;
        d->max = s->max > d->max ? s->max : d->max;
    }
    d->tolerance = policy_range_rule(k, d->min, d->max);
}

static int merge_server(struct policy *dst, const struct policy_server_baseline *s,
                        struct policy_merge_stats *st)
{
    size_t pos;
    if (pol_ix_search(&dst->server_ix, s->name, strlen(s->name), &pos)) {
        struct policy_server_baseline *d = dst->servers[dst->server_ix.v[pos].idx];
        if (!d->origin.learned) {
            st->kept++;
            return 1;
        }
        if (union_strs(&d->ja4s, &s->ja4s, POLICY_MAX_VALUES, &st->capped) < 0 ||
            union_strs(&d->ja3s, &s->ja3s, POLICY_MAX_VALUES, &st->capped) < 0 ||
            union_strs(&d->ja4ts, &s->ja4ts, POLICY_MAX_VALUES, &st->capped) < 0 ||
            union_strs(&d->server_ttl, &s->server_ttl, POLICY_MAX_VALUES, &st->capped) < 0 ||
            union_strs(&d->hello_retry, &s->hello_retry, POLICY_MAX_VALUES, &st->capped) < 0 ||
            union_strs(&d->alpn, &s->alpn, POLICY_MAX_VALUES, &st->capped) < 0)
            return POLICY_ENOMEM;
        union_range(&d->flight_bytes, &s->flight_bytes, POLICY_RANGE_FLIGHT);
        union_range(&d->hello_delay_us, &s->hello_delay_us, POLICY_RANGE_DELAY);
        if (s->min_tls_code && (!d->min_tls_code || s->min_tls_code < d->min_tls_code)) {
            d->min_tls_code = s->min_tls_code;
            d->min_tls_version = s->min_tls_version;
        }
        origin_add(&d->origin, &s->origin);
        if (origin_comment(&d->origin, &d->comment) < 0)
            return POLICY_ENOMEM;
        st->extended++;
        return 0;
    }
    if (dst->n_servers >= POLICY_MAX_ENTRIES) {
        st->capped++;
        return POLICY_ECAP;
    }
    struct policy_server_baseline *d = calloc(1, sizeof(*d));
    if (!d || !(d->name = pol_dup_str(s->name)) || match_copy(&d->match, &s->match) < 0 ||
        pol_strs_copy(&d->ja4s, &s->ja4s) < 0 || pol_strs_copy(&d->ja3s, &s->ja3s) < 0 ||
        pol_strs_copy(&d->ja4ts, &s->ja4ts) < 0 ||
        pol_strs_copy(&d->server_ttl, &s->server_ttl) < 0 ||
        pol_strs_copy(&d->hello_retry, &s->hello_retry) < 0 ||
        pol_strs_copy(&d->alpn, &s->alpn) < 0)
        goto nomem;
    d->flight_bytes = s->flight_bytes;
    d->hello_delay_us = s->hello_delay_us;
    d->min_tls_version = s->min_tls_version;
    d->min_tls_code = s->min_tls_code;
    d->origin = s->origin;
    d->origin.learned = true;
    if (origin_comment(&d->origin, &d->comment) < 0 ||
        !pol_add_entry(&dst->servers, &dst->n_servers, &dst->cap_servers, &dst->server_ix,
                   pos, d, d->name, false))
        goto nomem;
    st->added++;
    return 0;
nomem:
    pol_server_free(d);
    return POLICY_ENOMEM;
}

int policy_merge(struct policy *dst, const struct policy *src, struct policy_merge_stats *stats)
{
    struct policy_merge_stats local;
    struct policy_merge_stats *st = stats_or(stats, &local);
    memset(st, 0, sizeof(*st));
    if (!dst || !src)
        return POLICY_EINVAL;
    /* ECAP from one entry does not stop the others (other sections may
     * have room); ENOMEM does. */
    for (size_t i = 0; i < src->n_pin_sets; i++) {
        const struct policy_pin_set *s = src->pin_sets[i];
        if (!s->origin.learned)
            st->skipped++;
        else if (merge_pin_set(dst, s, st) == POLICY_ENOMEM)
            return POLICY_ENOMEM;
    }
    for (size_t i = 0; i < src->n_issuer_sets; i++) {
        const struct policy_issuer_set *s = src->issuer_sets[i];
        if (!s->origin.learned)
            st->skipped++;
        else if (merge_issuer_set(dst, s, st) == POLICY_ENOMEM)
            return POLICY_ENOMEM;
    }
    for (size_t i = 0; i < src->n_clients; i++) {
        const struct policy_client_baseline *s = src->clients[i];
        if (!s->origin.learned)
            st->skipped++;
        else if (merge_client(dst, s, st) == POLICY_ENOMEM)
            return POLICY_ENOMEM;
    }
    for (size_t i = 0; i < src->n_servers; i++) {
        const struct policy_server_baseline *s = src->servers[i];
        if (!s->origin.learned)
            st->skipped++;
        else if (merge_server(dst, s, st) == POLICY_ENOMEM)
            return POLICY_ENOMEM;
    }
    return 0;
}

/* Learning builds a one-observation entry on the stack, borrowing the
 * caller's strings (never freed or modified: the casts drop const only to
 * fit the shared struct), and merges it. */

static int learn_result(struct policy *p, int rc, const struct policy_merge_stats *st)
{
    p->learn_capped += st->capped;
    return rc;
}

static struct policy_origin one_observation(int64_t when)
{
    return (struct policy_origin){.learned = true, .connections = 1, .last_seen = pol_day_of(when)};
}

int policy_learn_pin(struct policy *p, const char *domain, const uint8_t spki[POLICY_SPKI_LEN],
                     int64_t when)
{
    char dom[POLICY_MAX_DOMAIN + 1];
    if (!p || !domain || !spki || !pol_domain_norm(domain, strlen(domain), dom, false))
        return POLICY_EINVAL;
    uint8_t pin[1][POLICY_SPKI_LEN];
    memcpy(pin[0], spki, POLICY_SPKI_LEN);
    struct policy_pin_set s = {.domain = dom, .pins = {pin, 1}, .origin = one_observation(when)};
    struct policy_merge_stats st = {0};
    return learn_result(p, merge_pin_set(p, &s, &st), &st);
}

int policy_learn_issuer(struct policy *p, const char *domain, const char *issuer_dn,
                        const uint8_t issuer_spki[POLICY_SPKI_LEN], int64_t when)
{
    char dom[POLICY_MAX_DOMAIN + 1];
    if (!p || !domain || !pol_domain_norm(domain, strlen(domain), dom, false))
        return POLICY_EINVAL;
    if (!pol_given(issuer_dn) && !issuer_spki)
        return POLICY_EINVAL;
    if (pol_given(issuer_dn) && !pol_issuer_ok(issuer_dn))
        return POLICY_EINVAL;
    char *dn[1] = {(char *)issuer_dn};
    uint8_t pin[1][POLICY_SPKI_LEN];
    if (issuer_spki)
        memcpy(pin[0], issuer_spki, POLICY_SPKI_LEN);
    struct policy_issuer_set s = {.domain = dom,
                                  .issuers = {dn, pol_given(issuer_dn) ? 1 : 0},
                                  .issuer_pins = {pin, issuer_spki ? 1 : 0},
                                  .origin = one_observation(when)};
    struct policy_merge_stats st = {0};
    return learn_result(p, merge_issuer_set(p, &s, &st), &st);
}

/* One optional value for a learned list: *out stays {NULL,0} when the
 * value is absent; false when it is present but invalid. */
static bool learn_value(enum vkind k, const char *v, char buf[VBUF_LEN], char *slot[1],
                        struct policy_strs *out)
{
    if (!pol_given(v))
        return true;
    const char *n = pol_vnorm(k, v, buf);
    if (!n)
        return k == V_VERSION; /* unnamed versions are skipped, not an error */
    slot[0] = (char *)n;
    out->v = slot;
    out->n = 1;
    return true;
}

static bool ip_ok(const uint8_t *ip, int ver)
{
    return ip && (ver == 4 || ver == 6);
}

int policy_learn_client(struct policy *p, const uint8_t *ip, int ip_ver, const char *ja4,
                        const char *ja3, const char *version, const char *alpn, int64_t when)
{
    if (!p || !ip_ok(ip, ip_ver))
        return POLICY_EINVAL;
    struct policy_cidr net = {.ver = (uint8_t)ip_ver, .prefix = ip_ver == 4 ? 24 : 64};
    memcpy(net.addr, ip, ip_ver == 4 ? 3 : 8);
    char b1[VBUF_LEN], b2[VBUF_LEN], b3[VBUF_LEN], b4[VBUF_LEN];
    char *s1[1], *s2[1], *s3[1], *s4[1];
    struct policy_client_baseline b = {.origin = one_observation(when)};
    if (!learn_value(V_JA4, ja4, b1, s1, &b.ja4) || !learn_value(V_JA3, ja3, b2, s2, &b.ja3) ||
        !learn_value(V_VERSION, version, b3, s3, &b.tls_versions) ||
        !learn_value(V_ALPN, alpn, b4, s4, &b.alpn))
        return POLICY_EINVAL;
    if (!b.ja4.n && !b.ja3.n && !b.tls_versions.n && !b.alpn.n)
        return POLICY_EINVAL;
    char name[POLICY_MAX_NAME + 1], txt[64];
    pol_cidr_format(&net, txt);
    snprintf(name, sizeof(name), "learned-client-%s", txt);
    b.name = name;
    b.match.client_subnets = (struct policy_nets){&net, 1};
    struct policy_merge_stats st = {0};
    return learn_result(p, merge_client(p, &b, &st), &st);
}

/* Name and match a learned server baseline `b` (its lists filled) by the
 * SNI, else the server address, and merge it into p.  `more_facts`: a
 * further call for a connection policy_learn_server() already counted
 * (its TCP stack, its keyless facts), which adds values but not a
 * connection when the entry exists. */
static int learn_server_into(struct policy *p, const char *sni, const uint8_t *server_ip,
                             int ip_ver, struct policy_server_baseline *b, bool more_facts)
{
    char dom[POLICY_MAX_DOMAIN + 1];
    bool have_sni = pol_given(sni) && pol_domain_norm(sni, strlen(sni), dom, false);
    if (!have_sni && !ip_ok(server_ip, ip_ver))
        return POLICY_EINVAL;
    char name[POLICY_MAX_NAME + 1], txt[64];
    char *sni_slot[1] = {dom};
    struct policy_cidr addr = {.ver = (uint8_t)ip_ver, .prefix = ip_ver == 4 ? 32 : 128};
    if (have_sni) {
        snprintf(name, sizeof(name), "learned-server-%s", dom);
        b->match.sni = (struct policy_strs){sni_slot, 1};
    } else {
        memcpy(addr.addr, server_ip, ip_ver == 4 ? 4 : 16);
        pol_cidr_format(&addr, txt);
        snprintf(name, sizeof(name), "learned-server-%s", txt);
        b->match.server_addresses = (struct policy_nets){&addr, 1};
    }
    b->name = name;
    size_t pos;
    if (more_facts && pol_ix_search(&p->server_ix, name, strlen(name), &pos))
        b->origin.connections = 0;
    struct policy_merge_stats st = {0};
    return learn_result(p, merge_server(p, b, &st), &st);
}

int policy_learn_server(struct policy *p, const char *sni, const uint8_t *server_ip,
                        int ip_ver, const char *ja4s, const char *ja3s, const char *version,
                        const char *alpn, int64_t when)
{
    if (!p)
        return POLICY_EINVAL;
    char b1[VBUF_LEN], b2[VBUF_LEN], b3[VBUF_LEN];
    char *s1[1], *s2[1], *s3[1];
    struct policy_server_baseline b = {.origin = one_observation(when)};
    if (!learn_value(V_JA4S, ja4s, b1, s1, &b.ja4s) ||
        !learn_value(V_JA3S, ja3s, b2, s2, &b.ja3s) || !learn_value(V_ALPN, alpn, b3, s3, &b.alpn))
        return POLICY_EINVAL;
    b.min_tls_version = policy_version_canonical(version);
    b.min_tls_code = pol_version_code(version);
    if (!b.ja4s.n && !b.ja3s.n && !b.min_tls_version && !b.alpn.n)
        return POLICY_EINVAL;
    return learn_server_into(p, sni, server_ip, ip_ver, &b, false);
}

int policy_learn_server_stack(struct policy *p, const char *sni, const uint8_t *server_ip,
                              int ip_ver, const char *ja4ts, const char *ttl, int64_t when)
{
    if (!p)
        return POLICY_EINVAL;
    char b1[VBUF_LEN], b2[VBUF_LEN];
    char *s1[1], *s2[1];
    struct policy_server_baseline b = {.origin = one_observation(when)};
    if (!learn_value(V_JA4TS, ja4ts, b1, s1, &b.ja4ts) ||
        !learn_value(V_TTL, ttl, b2, s2, &b.server_ttl))
        return POLICY_EINVAL;
    if (!b.ja4ts.n && !b.server_ttl.n)
        return POLICY_EINVAL;
    return learn_server_into(p, sni, server_ip, ip_ver, &b, true);
}

/* ---- hand-written entries from elsewhere -------------------------------- */

static bool pins_ok(const struct policy_pins *s, size_t min, const struct policy_pins *other)
{
    if (s->n < min || s->n > POLICY_MAX_PINS || (s->n && !s->v))
        return false;
    for (size_t i = 0; i < s->n; i++) {
        for (size_t j = 0; j < i; j++)
            if (memcmp(s->v[i], s->v[j], POLICY_SPKI_LEN) == 0)
                return false;
        if (other && pol_pins_find(other, s->v[i]) >= 0)
            return false;
    }
    return true;
}

static bool comment_ok(const char *c)
{
    return !c || (strlen(c) <= POLICY_MAX_COMMENT && jsonv_text_ok(c, strlen(c)));
}

int policy_add_pin_set(struct policy *p, const struct policy_pin_set *s)
{
    char dom[POLICY_MAX_DOMAIN + 1];
    if (!p || !s || !s->domain || !pol_domain_norm(s->domain, strlen(s->domain), dom, false) ||
        !pins_ok(&s->pins, 1, NULL) || !pins_ok(&s->backup_pins, 0, &s->pins) ||
        !comment_ok(s->comment))
        return POLICY_EINVAL;
    size_t pos;
    if (pol_ix_search(&p->pin_ix, dom, strlen(dom), &pos))
        return 1;
    if (p->n_pin_sets >= POLICY_MAX_ENTRIES)
        return POLICY_ECAP;
    struct policy_pin_set *d = calloc(1, sizeof(*d));
    if (!d || !(d->domain = pol_dup_str(dom)) || pol_pins_copy(&d->pins, &s->pins) < 0 ||
        pol_pins_copy(&d->backup_pins, &s->backup_pins) < 0 ||
        (s->comment && !(d->comment = pol_dup_str(s->comment))))
        goto nomem;
    d->include_subdomains = s->include_subdomains;
    d->has_expires = s->has_expires;
    d->expires = s->has_expires ? pol_day_of(s->expires) : 0;
    if (!pol_add_entry(&p->pin_sets, &p->n_pin_sets, &p->cap_pin_sets, &p->pin_ix, pos, d,
                       d->domain, d->include_subdomains))
        goto nomem;
    return 0;
nomem:
    pol_pin_set_free(d);
    return POLICY_ENOMEM;
}

int policy_add_issuer_set(struct policy *p, const struct policy_issuer_set *s)
{
    char dom[POLICY_MAX_DOMAIN + 1];
    if (!p || !s || !s->domain || !pol_domain_norm(s->domain, strlen(s->domain), dom, false) ||
        s->issuers.n > POLICY_MAX_VALUES || (s->issuers.n && !s->issuers.v) ||
        !pins_ok(&s->issuer_pins, 0, NULL) || s->issuers.n + s->issuer_pins.n == 0 ||
        !comment_ok(s->comment))
        return POLICY_EINVAL;
    for (size_t i = 0; i < s->issuers.n; i++) {
        if (!s->issuers.v[i] || !pol_issuer_ok(s->issuers.v[i]))
            return POLICY_EINVAL;
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->issuers.v[i], s->issuers.v[j]) == 0)
                return POLICY_EINVAL;
    }
    size_t pos;
    if (pol_ix_search(&p->issuer_ix, dom, strlen(dom), &pos))
        return 1;
    if (p->n_issuer_sets >= POLICY_MAX_ENTRIES)
        return POLICY_ECAP;
    struct policy_issuer_set *d = calloc(1, sizeof(*d));
    if (!d || !(d->domain = pol_dup_str(dom)) || pol_strs_copy(&d->issuers, &s->issuers) < 0 ||
        pol_pins_copy(&d->issuer_pins, &s->issuer_pins) < 0 ||
        (s->comment && !(d->comment = pol_dup_str(s->comment))))
        goto nomem;
    d->include_subdomains = s->include_subdomains;
    if (!pol_add_entry(&p->issuer_sets, &p->n_issuer_sets, &p->cap_issuer_sets, &p->issuer_ix,
                       pos, d, d->domain, d->include_subdomains))
        goto nomem;
    return 0;
nomem:
    pol_issuer_set_free(d);
    return POLICY_ENOMEM;
}

int policy_learn_server_keyless(struct policy *p, const char *sni, const uint8_t *server_ip,
                                int ip_ver, int64_t flight_bytes, const char *hello_retry,
                                int64_t delay_us, int64_t when)
{
    if (!p)
        return POLICY_EINVAL;
    char b1[VBUF_LEN];
    char *s1[1];
    struct policy_server_baseline b = {.origin = one_observation(when)};
    if (!learn_value(V_HRR, hello_retry, b1, s1, &b.hello_retry))
        return POLICY_EINVAL;
    if (flight_bytes >= 0 && flight_bytes <= (int64_t)POLICY_MAX_FLIGHT_BYTES) {
        uint32_t v = (uint32_t)flight_bytes;
        b.flight_bytes = (struct policy_range){true, v, v,
                                               policy_range_rule(POLICY_RANGE_FLIGHT, v, v)};
    }
    if (delay_us >= 0 && delay_us <= (int64_t)POLICY_MAX_DELAY_US) {
        uint32_t v = (uint32_t)delay_us;
        b.hello_delay_us = (struct policy_range){true, v, v,
                                                 policy_range_rule(POLICY_RANGE_DELAY, v, v)};
    }
    if (!b.hello_retry.n && !b.flight_bytes.set && !b.hello_delay_us.set)
        return POLICY_EINVAL;
    return learn_server_into(p, sni, server_ip, ip_ver, &b, true);
}
