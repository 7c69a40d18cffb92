/*
 * audit.c - `pinscope policy audit` (see policy_cmd.h): a rotation-safety
 * report of a policy's pin sets against the chains captures show.
 *
 * The captures run through run_sources() with one worker whose consumer
 * records, per pin set (found by SNI as the checks find it), every
 * distinct served chain (leaf CN and each certificate's SPKI pin) and the
 * pin it matched, which pins appeared in any chain, and the certificates
 * carrying a pinned key with their notAfter; and, for names with no pin
 * set, the SNI and a count.  The report is written once at the end.
 *
 * "Now" is capture time: expiry is judged against the time of the
 * connection that showed the certificate (keys) and against the latest
 * capture time seen (pin sets' expires), never the wall clock, so an old
 * capture audits as it was.
 */
#include "app/policy_cmd.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "app/run.h"
#include "config.h"
#include "policy/policy.h"
#include "report/render.h"
#include "util/log.h"

#define DAY 86400

struct chain_obs {
    char leaf[128];                        /* leaf subject CN, else its DN */
    size_t n;
    uint8_t spki[TLS_CERTMSG_MAX_CERTS][POLICY_SPKI_LEN];
    bool matched, backup;
    size_t cert_index, pin_index;
    uint64_t conns;
};

/* A certificate carrying a pinned key, with the least time left seen. */
struct key_obs {
    uint8_t spki[POLICY_SPKI_LEN];
    char subject[128];
    int64_t not_after, at;                 /* notAfter, capture time */
};

struct set_state {
    uint64_t conns, matched, mismatched, no_chain;
    struct chain_obs *chains;
    size_t n_chains;
    uint64_t chains_dropped;
    uint64_t *pin_seen, *backup_seen;      /* connections whose chain held the pin */
    struct key_obs keys[2 * POLICY_MAX_PINS];
    size_t n_keys;
};

struct unpinned {
    char sni[POLICY_MAX_DOMAIN + 1];
    uint64_t conns;
};

struct audit {
    const struct policy *pol;
    struct set_state *sets;
    size_t n_sets;
    struct unpinned *un;
    size_t n_un, cap_un;
    uint64_t un_dropped;
    int64_t last_ts;
    bool have_ts;
    unsigned days;
};

/* Certificate text for the report: control bytes (an ESC to a terminal)
 * become '?'. */
static void copy_name(char *out, size_t outlen, const struct x509_cert *c)
{
    snprintf(out, outlen, "%s", c->subject.cn ? c->subject.cn : c->subject.dn);
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
}

/* Whole days in t seconds, rounded down (also below zero). */
static int64_t days_of(int64_t t)
{
    return t >= 0 ? t / DAY : -((-t + DAY - 1) / DAY);
}

static size_t set_index(const struct audit *a, const struct policy_pin_set *s)
{
    for (size_t i = 0; i < a->n_sets; i++)
        if (policy_pin_set_at(a->pol, i) == s)
            return i;
    return a->n_sets;
}

static void note_unpinned(struct audit *a, const char *sni)
{
    char dom[POLICY_MAX_DOMAIN + 1];
    if (!policy_domain_norm(sni, strlen(sni), dom))
        return;
    for (size_t i = 0; i < a->n_un; i++)
        if (strcmp(a->un[i].sni, dom) == 0) {
            a->un[i].conns++;
            return;
        }
    if (a->n_un >= CFG_AUDIT_UNPINNED_MAX) {
        a->un_dropped++;
        return;
    }
    if (a->n_un == a->cap_un) {
        size_t nc = a->cap_un ? a->cap_un * 2 : 64;
        struct unpinned *nu = realloc(a->un, nc * sizeof(*nu));
        if (!nu) {
            a->un_dropped++;
            return;
        }
        a->un = nu;
        a->cap_un = nc;
    }
    snprintf(a->un[a->n_un].sni, sizeof(a->un[0].sni), "%s", dom);
    a->un[a->n_un++].conns = 1;
}

static void note_key(struct set_state *st, const struct x509_cert *c, int64_t when)
{
    if (!c->not_after.valid)
        return;
    struct key_obs *k = NULL;
    for (size_t i = 0; i < st->n_keys && !k; i++)
        if (memcmp(st->keys[i].spki, c->spki_sha256_raw, POLICY_SPKI_LEN) == 0)
            k = &st->keys[i];
    if (!k) {
        if (st->n_keys >= sizeof(st->keys) / sizeof(st->keys[0]))
            return;
        k = &st->keys[st->n_keys++];
        memcpy(k->spki, c->spki_sha256_raw, POLICY_SPKI_LEN);
    } else if (c->not_after.epoch - when >= k->not_after - k->at) {
        return; /* keep the certificate with the least time left */
    }
    copy_name(k->subject, sizeof(k->subject), c);
    k->not_after = c->not_after.epoch;
    k->at = when;
}

static void note_chain(struct set_state *st, const struct x509_chain *ch,
                       const uint8_t (*spkis)[POLICY_SPKI_LEN], size_t n,
                       const struct policy_pin_result *r)
{
    for (size_t i = 0; i < st->n_chains; i++) {
        struct chain_obs *o = &st->chains[i];
        if (o->n == n && memcmp(o->spki, spkis, n * POLICY_SPKI_LEN) == 0) {
            o->conns++;
            return;
        }
    }
    if (st->n_chains >= CFG_AUDIT_CHAINS_MAX) {
        st->chains_dropped++;
        return;
    }
    struct chain_obs *nc = realloc(st->chains, (st->n_chains + 1) * sizeof(*nc));
    if (!nc) {
        st->chains_dropped++;
        return;
    }
    st->chains = nc;
    struct chain_obs *o = &st->chains[st->n_chains++];
    memset(o, 0, sizeof(*o));
    copy_name(o->leaf, sizeof(o->leaf), &ch->e[0]->info);
    o->n = n;
    memcpy(o->spki, spkis, n * POLICY_SPKI_LEN);
    o->matched = r->matched;
    o->backup = r->backup;
    o->cert_index = r->cert_index;
    o->pin_index = r->pin_index;
    o->conns = 1;
}

static void audit_report(void *ctx, const struct conn_report *r)
{
    struct audit *a = ctx;
    int64_t when = (int64_t)(r->flow->first_ts_us / 1000000);
    if (!a->have_ts || when > a->last_ts) {
        a->last_ts = when;
        a->have_ts = true;
    }
    struct conn_names nm;
    conn_report_names(r, &nm);
    if (!nm.sni)
        return;
    const struct policy_pin_set *set = policy_find_pinset(a->pol, nm.sni, strlen(nm.sni));
    if (!set) {
        note_unpinned(a, nm.sni);
        return;
    }
    size_t si = set_index(a, set);
    if (si >= a->n_sets)
        return;
    struct set_state *st = &a->sets[si];
    st->conns++;
    const struct x509_chain *ch = r->chain;
    if (!ch || ch->n == 0) {
        st->no_chain++;
        return;
    }
    uint8_t spkis[TLS_CERTMSG_MAX_CERTS][POLICY_SPKI_LEN];
    size_t n = ch->n < TLS_CERTMSG_MAX_CERTS ? ch->n : TLS_CERTMSG_MAX_CERTS;
    for (size_t i = 0; i < n; i++)
        memcpy(spkis[i], ch->e[i]->info.spki_sha256_raw, POLICY_SPKI_LEN);
    struct policy_pin_result res;
    policy_pinset_check(set, (const uint8_t(*)[POLICY_SPKI_LEN])spkis, n, when, &res);
    if (res.matched)
        st->matched++;
    else
        st->mismatched++;
    note_chain(st, ch, (const uint8_t(*)[POLICY_SPKI_LEN])spkis, n, &res);
    for (size_t i = 0; i < n; i++) {
        bool pinned = false;
        for (size_t k = 0; k < set->pins.n; k++)
            if (memcmp(set->pins.v[k], spkis[i], POLICY_SPKI_LEN) == 0) {
                st->pin_seen[k]++;
                pinned = true;
            }
        for (size_t k = 0; k < set->backup_pins.n; k++)
            if (memcmp(set->backup_pins.v[k], spkis[i], POLICY_SPKI_LEN) == 0) {
                st->backup_seen[k]++;
                pinned = true;
            }
        if (pinned)
            note_key(st, &ch->e[i]->info, when);
    }
}

/* ---- the report ---- */

struct findings {
    bool has_chains;
    size_t spare;            /* pins and backups in no observed chain */
    const char *set_status;  /* "ok", "expired", "expires soon", NULL: no expiry */
    int64_t set_days_left;
};

static void assess(const struct audit *a, const struct policy_pin_set *s,
                   const struct set_state *st, struct findings *f)
{
    memset(f, 0, sizeof(*f));
    f->has_chains = st->n_chains > 0;
    for (size_t k = 0; k < s->pins.n; k++)
        f->spare += st->pin_seen[k] == 0;
    for (size_t k = 0; k < s->backup_pins.n; k++)
        f->spare += st->backup_seen[k] == 0;
    if (s->has_expires && a->have_ts) {
        /* In force through the whole expires day. */
        int64_t end = s->expires + DAY;
        f->set_days_left = days_of(end - a->last_ts);
        f->set_status = a->last_ts >= end ? "expired"
                        : end - a->last_ts <= (int64_t)a->days * DAY ? "expires soon"
                                                                     : "ok";
    }
}

static bool key_soon(const struct audit *a, const struct key_obs *k)
{
    return k->not_after - k->at <= (int64_t)a->days * DAY;
}

static void fmt_day(int64_t t, char out[32])
{
    policy_date_format(t - ((t % DAY) + DAY) % DAY, out);
}

static void pin_b64(const uint8_t *v, char out[45])
{
    policy_pin_format(v, out);
}

/* Which list holds a pin in the set: "pins[i]" / "backup_pins[i]" / "". */
static void pin_role(const struct policy_pin_set *s, const uint8_t *v, char *out, size_t outlen)
{
    out[0] = '\0';
    for (size_t k = 0; k < s->pins.n; k++)
        if (memcmp(s->pins.v[k], v, POLICY_SPKI_LEN) == 0)
            snprintf(out, outlen, "pins[%zu]", k);
    for (size_t k = 0; k < s->backup_pins.n; k++)
        if (memcmp(s->backup_pins.v[k], v, POLICY_SPKI_LEN) == 0)
            snprintf(out, outlen, "backup_pins[%zu]", k);
}

static void write_text(const struct audit *a, FILE *out)
{
    char day[32];
    fprintf(out, "pin audit: %zu pin set%s", a->n_sets, a->n_sets == 1 ? "" : "s");
    if (a->have_ts) {
        fmt_day(a->last_ts, day);
        fprintf(out, ", latest capture %s", day);
    }
    fprintf(out, ", horizon %u days\n", a->days);
    for (size_t i = 0; i < a->n_sets; i++) {
        const struct policy_pin_set *s = policy_pin_set_at(a->pol, i);
        const struct set_state *st = &a->sets[i];
        struct findings f;
        assess(a, s, st, &f);
        fprintf(out, "\n%s%s\n", s->domain, s->include_subdomains ? " (and subdomains)" : "");
        if (s->has_expires) {
            fmt_day(s->expires, day);
            if (f.set_status && strcmp(f.set_status, "ok") != 0)
                fprintf(out, "  ! pin set %s: expires %s (%" PRId64 " days left at the latest capture)\n",
                        f.set_status, day, f.set_days_left);
            else
                fprintf(out, "  pin set expires %s\n", day);
        }
        fprintf(out, "  connections: %" PRIu64 " (%" PRIu64 " matched, %" PRIu64 " mismatched, %" PRIu64
                     " without a visible chain)\n",
                st->conns, st->matched, st->mismatched, st->no_chain);
        for (size_t c = 0; c < st->n_chains; c++) {
            const struct chain_obs *o = &st->chains[c];
            fprintf(out, "  chain %s, %" PRIu64 " connection%s: ", o->leaf, o->conns,
                    o->conns == 1 ? "" : "s");
            if (o->matched) {
                char b64[45];
                pin_b64(o->spki[o->cert_index], b64);
                fprintf(out, "matched %s[%zu] %s (certificate %zu)\n",
                        o->backup ? "backup_pins" : "pins", o->pin_index, b64, o->cert_index);
            } else {
                fprintf(out, "NO PIN MATCHED\n");
            }
            for (size_t k = 0; k < o->n; k++) {
                char b64[45], role[48];
                pin_b64(o->spki[k], b64);
                pin_role(s, o->spki[k], role, sizeof(role));
                fprintf(out, "    [%zu] %s%s%s\n", k, b64, role[0] ? "  " : "", role);
            }
        }
        if (st->chains_dropped)
            fprintf(out, "  (%" PRIu64 " more distinct chains not itemised)\n", st->chains_dropped);
        if (!f.has_chains)
            fprintf(out, "  backup: unknown (no chain seen)\n");
        else if (f.spare == 0)
            fprintf(out, "  ! no backup: every pin is in a served chain; a key change leaves no pin "
                         "to match (RFC 7469 4.3)\n");
        else
            fprintf(out, "  backup: %zu pin%s in no served chain (a spare key to rotate to)\n",
                    f.spare, f.spare == 1 ? "" : "s");
        for (size_t k = 0; k < st->n_keys; k++) {
            const struct key_obs *ko = &st->keys[k];
            if (!key_soon(a, ko))
                continue;
            char b64[45], role[48];
            pin_b64(ko->spki, b64);
            pin_role(s, ko->spki, role, sizeof(role));
            fmt_day(ko->not_after, day);
            int64_t left = days_of(ko->not_after - ko->at);
            fprintf(out, "  ! pinned key %s (%s): certificate %s %s %s (%" PRId64
                         " days after the capture)\n",
                    b64, role, ko->subject, left < 0 ? "expired" : "expires", day, left);
        }
        for (size_t k = 0; k < s->pins.n; k++)
            if (f.has_chains && st->pin_seen[k] == 0) {
                char b64[45];
                pin_b64(s->pins.v[k], b64);
                fprintf(out, "  unused: pins[%zu] %s matched no chain\n", k, b64);
            }
        for (size_t k = 0; k < s->backup_pins.n; k++)
            if (f.has_chains && st->backup_seen[k] == 0) {
                char b64[45];
                pin_b64(s->backup_pins.v[k], b64);
                fprintf(out, "  unused: backup_pins[%zu] %s matched no chain (expected of a spare)\n",
                        k, b64);
            }
    }
    fprintf(out, "\nserver names without a pin set: %zu%s\n", a->n_un, a->un_dropped ? " (more not kept)" : "");
    for (size_t i = 0; i < a->n_un; i++)
        fprintf(out, "  %s  %" PRIu64 " connection%s\n", a->un[i].sni, a->un[i].conns,
                a->un[i].conns == 1 ? "" : "s");
}

static cJSON *pin_json(const uint8_t *v)
{
    char b64[45];
    pin_b64(v, b64);
    return cJSON_CreateString(b64);
}

static cJSON *build_json(const struct audit *a)
{
    char day[32];
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "days", a->days);
    if (a->have_ts) {
        fmt_day(a->last_ts, day);
        cJSON_AddStringToObject(root, "latest_capture", day);
    }
    cJSON *sets = cJSON_AddArrayToObject(root, "pin_sets");
    for (size_t i = 0; i < a->n_sets; i++) {
        const struct policy_pin_set *s = policy_pin_set_at(a->pol, i);
        const struct set_state *st = &a->sets[i];
        struct findings f;
        assess(a, s, st, &f);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(sets, o);
        cJSON_AddStringToObject(o, "domain", s->domain);
        cJSON_AddBoolToObject(o, "include_subdomains", s->include_subdomains);
        if (s->has_expires) {
            fmt_day(s->expires, day);
            cJSON_AddStringToObject(o, "expires", day);
            if (f.set_status) {
                cJSON_AddStringToObject(o, "expiry_status", f.set_status);
                cJSON_AddNumberToObject(o, "days_left", (double)f.set_days_left);
            }
        }
        cJSON_AddNumberToObject(o, "connections", (double)st->conns);
        cJSON_AddNumberToObject(o, "matched", (double)st->matched);
        cJSON_AddNumberToObject(o, "mismatched", (double)st->mismatched);
        cJSON_AddNumberToObject(o, "no_chain", (double)st->no_chain);
        cJSON *chains = cJSON_AddArrayToObject(o, "chains");
        for (size_t c = 0; c < st->n_chains; c++) {
            const struct chain_obs *ob = &st->chains[c];
            cJSON *co = cJSON_CreateObject();
            cJSON_AddItemToArray(chains, co);
            cJSON_AddStringToObject(co, "leaf", ob->leaf);
            cJSON_AddNumberToObject(co, "connections", (double)ob->conns);
            cJSON *sp = cJSON_AddArrayToObject(co, "spki_sha256");
            for (size_t k = 0; k < ob->n; k++)
                cJSON_AddItemToArray(sp, pin_json(ob->spki[k]));
            cJSON_AddBoolToObject(co, "matched", ob->matched);
            if (ob->matched) {
                cJSON *m = cJSON_AddObjectToObject(co, "match");
                cJSON_AddStringToObject(m, "list", ob->backup ? "backup_pins" : "pins");
                cJSON_AddNumberToObject(m, "pin_index", (double)ob->pin_index);
                cJSON_AddNumberToObject(m, "cert_index", (double)ob->cert_index);
                cJSON_AddItemToObject(m, "pin", pin_json(ob->spki[ob->cert_index]));
            }
        }
        cJSON_AddNumberToObject(o, "chains_not_itemised", (double)st->chains_dropped);
        if (f.has_chains)
            cJSON_AddBoolToObject(o, "backup_outside_chains", f.spare > 0);
        else
            cJSON_AddNullToObject(o, "backup_outside_chains");
        cJSON *exp = cJSON_AddArrayToObject(o, "expiring_pinned_keys");
        for (size_t k = 0; k < st->n_keys; k++) {
            const struct key_obs *ko = &st->keys[k];
            if (!key_soon(a, ko))
                continue;
            char role[48];
            cJSON *ke = cJSON_CreateObject();
            cJSON_AddItemToArray(exp, ke);
            cJSON_AddItemToObject(ke, "pin", pin_json(ko->spki));
            pin_role(s, ko->spki, role, sizeof(role));
            cJSON_AddStringToObject(ke, "role", role);
            cJSON_AddStringToObject(ke, "subject", ko->subject);
            fmt_day(ko->not_after, day);
            cJSON_AddStringToObject(ke, "not_after", day);
            cJSON_AddNumberToObject(ke, "days_left", (double)days_of(ko->not_after - ko->at));
        }
        cJSON *unused = cJSON_AddArrayToObject(o, "unused_pins");
        for (size_t k = 0; f.has_chains && k < s->pins.n; k++)
            if (st->pin_seen[k] == 0)
                cJSON_AddItemToArray(unused, pin_json(s->pins.v[k]));
        cJSON *unusedb = cJSON_AddArrayToObject(o, "unused_backup_pins");
        for (size_t k = 0; f.has_chains && k < s->backup_pins.n; k++)
            if (st->backup_seen[k] == 0)
                cJSON_AddItemToArray(unusedb, pin_json(s->backup_pins.v[k]));
    }
    cJSON *un = cJSON_AddArrayToObject(root, "unpinned_names");
    for (size_t i = 0; i < a->n_un; i++) {
        cJSON *u = cJSON_CreateObject();
        cJSON_AddItemToArray(un, u);
        cJSON_AddStringToObject(u, "sni", a->un[i].sni);
        cJSON_AddNumberToObject(u, "connections", (double)a->un[i].conns);
    }
    cJSON_AddNumberToObject(root, "unpinned_names_not_kept", (double)a->un_dropped);
    return root;
}

int policy_audit_run(const struct options *opt)
{
    char err[512];
    struct policy *pol = policy_load(opt->policy_path, err, sizeof(err));
    if (!pol) {
        log_error("%s", err);
        return 1;
    }
    struct policy_summary sum;
    policy_summary(pol, &sum);
    struct audit a = {.pol = pol, .n_sets = sum.pin_sets, .days = opt->audit_days};
    int status = 1;
    a.sets = calloc(a.n_sets ? a.n_sets : 1, sizeof(*a.sets));
    if (!a.sets)
        goto oom;
    for (size_t i = 0; i < a.n_sets; i++) {
        const struct policy_pin_set *s = policy_pin_set_at(pol, i);
        a.sets[i].pin_seen = calloc(s->pins.n ? s->pins.n : 1, sizeof(uint64_t));
        a.sets[i].backup_seen = calloc(s->backup_pins.n ? s->backup_pins.n : 1, sizeof(uint64_t));
        if (!a.sets[i].pin_seen || !a.sets[i].backup_seen)
            goto oom;
    }
    status = run_sources(opt, audit_report, &a);
    if (status != 0)
        goto done;
    if (opt->report_format == REPORT_JSON) {
        cJSON *j = build_json(&a);
        char *txt = j ? cJSON_Print(j) : NULL;
        cJSON_Delete(j);
        if (!txt)
            goto oom;
        printf("%s\n", txt);
        free(txt);
    } else {
        write_text(&a, stdout);
    }
    if (fflush(stdout) != 0) {
        log_error("writing the audit failed");
        status = 1;
    }
    goto done;
oom:
    log_error("out of memory");
    status = 1;
done:
    for (size_t i = 0; a.sets && i < a.n_sets; i++) {
        free(a.sets[i].pin_seen);
        free(a.sets[i].backup_seen);
        free(a.sets[i].chains);
    }
    free(a.sets);
    free(a.un);
    policy_free(pol);
    return status;
}
