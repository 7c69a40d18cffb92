/*
 * write.c - the canonical policy writer (see policy.h).
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

/* ---- writer ------------------------------------------------------------- */

static bool put(cJSON *obj, const char *key, cJSON *item)
{
    if (!item)
        return false;
    if (!cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

static bool push(cJSON *arr, cJSON *item)
{
    if (!item)
        return false;
    if (!cJSON_AddItemToArray(arr, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

/* The lists below are written only when non-empty. */
static bool put_range(cJSON *obj, const char *key, const struct policy_range *r)
{
    if (!r->set)
        return true;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return false;
    if (!put(o, "min", cJSON_CreateNumber(r->min)) || !put(o, "max", cJSON_CreateNumber(r->max)) ||
        !put(o, "tolerance", cJSON_CreateNumber(r->tolerance))) {
        cJSON_Delete(o);
        return false;
    }
    return put(obj, key, o);
}

static bool put_strs(cJSON *obj, const char *key, const struct policy_strs *s)
{
    if (s->n == 0)
        return true;
    cJSON *a = cJSON_CreateArray();
    if (!a)
        return false;
    for (size_t i = 0; i < s->n; i++)
        if (!push(a, cJSON_CreateString(s->v[i]))) {
            cJSON_Delete(a);
            return false;
        }
    return put(obj, key, a);
}

static bool put_pins(cJSON *obj, const char *key, const struct policy_pins *s)
{
    if (s->n == 0)
        return true;
    cJSON *a = cJSON_CreateArray();
    if (!a)
        return false;
    for (size_t i = 0; i < s->n; i++) {
        char b64[45];
        pol_pin_format(s->v[i], b64);
        if (!push(a, cJSON_CreateString(b64))) {
            cJSON_Delete(a);
            return false;
        }
    }
    return put(obj, key, a);
}

static bool put_nets(cJSON *obj, const char *key, const struct policy_nets *s)
{
    if (s->n == 0)
        return true;
    cJSON *a = cJSON_CreateArray();
    if (!a)
        return false;
    for (size_t i = 0; i < s->n; i++) {
        char txt[64];
        pol_cidr_format(&s->v[i], txt);
        if (!push(a, cJSON_CreateString(txt))) {
            cJSON_Delete(a);
            return false;
        }
    }
    return put(obj, key, a);
}

static bool put_match(cJSON *obj, const struct policy_match *m)
{
    if (!m->client_subnets.n && !m->sni.n && !m->server_addresses.n)
        return true;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return false;
    if (!put_nets(o, "client_subnets", &m->client_subnets) || !put_strs(o, "sni", &m->sni) ||
        !put_nets(o, "server_addresses", &m->server_addresses)) {
        cJSON_Delete(o);
        return false;
    }
    return put(obj, "match", o);
}

static bool put_tail(cJSON *obj, const char *comment, const struct policy_origin *o)
{
    if (comment && !put(obj, "comment", cJSON_CreateString(comment)))
        return false;
    if (!o->learned)
        return true;
    cJSON *l = cJSON_CreateObject();
    char day[32];
    pol_date_format(o->last_seen, day);
    if (!l || !put(l, "connections", cJSON_CreateNumber((double)o->connections)) ||
        !put(l, "last_seen", cJSON_CreateString(day))) {
        cJSON_Delete(l);
        return false;
    }
    return put(obj, "learned", l);
}

static cJSON *pin_set_json(const struct policy_pin_set *s)
{
    cJSON *o = cJSON_CreateObject();
    char day[32];
    if (!o || !put(o, "domain", cJSON_CreateString(s->domain)) ||
        !put(o, "include_subdomains", cJSON_CreateBool(s->include_subdomains)) ||
        !put_pins(o, "pins", &s->pins) || !put_pins(o, "backup_pins", &s->backup_pins))
        goto fail;
    if (s->has_expires) {
        pol_date_format(s->expires, day);
        if (!put(o, "expires", cJSON_CreateString(day)))
            goto fail;
    }
    if (!put_tail(o, s->comment, &s->origin))
        goto fail;
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

static cJSON *issuer_set_json(const struct policy_issuer_set *s)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !put(o, "domain", cJSON_CreateString(s->domain)) ||
        !put(o, "include_subdomains", cJSON_CreateBool(s->include_subdomains)) ||
        !put_strs(o, "issuers", &s->issuers) || !put_pins(o, "issuer_pins", &s->issuer_pins) ||
        !put_tail(o, s->comment, &s->origin)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *client_json(const struct policy_client_baseline *b)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !put(o, "name", cJSON_CreateString(b->name)) || !put_match(o, &b->match) ||
        !put_strs(o, "ja4", &b->ja4) || !put_strs(o, "ja3", &b->ja3) ||
        !put_strs(o, "tls_versions", &b->tls_versions) || !put_strs(o, "alpn", &b->alpn) ||
        !put_tail(o, b->comment, &b->origin)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *server_json(const struct policy_server_baseline *b)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !put(o, "name", cJSON_CreateString(b->name)) || !put_match(o, &b->match) ||
        !put_strs(o, "ja4s", &b->ja4s) || !put_strs(o, "ja3s", &b->ja3s) ||
        !put_strs(o, "ja4ts", &b->ja4ts) || !put_strs(o, "server_ttl", &b->server_ttl) ||
        !put_range(o, "server_flight_bytes", &b->flight_bytes) ||
        !put_strs(o, "hello_retry", &b->hello_retry) ||
        !put_range(o, "server_hello_delay_us", &b->hello_delay_us) ||
        (b->min_tls_version &&
         !put(o, "min_tls_version", cJSON_CreateString(b->min_tls_version))) ||
        !put_strs(o, "alpn", &b->alpn) || !put_tail(o, b->comment, &b->origin)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static bool put_section(cJSON *root, const char *key, void *const *entries, size_t n,
                        cJSON *(*fn)(const void *))
{
    cJSON *a = cJSON_CreateArray();
    if (!a)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!push(a, fn(entries[i]))) {
            cJSON_Delete(a);
            return false;
        }
    return put(root, key, a);
}

static cJSON *pin_set_json_v(const void *e) { return pin_set_json(e); }
static cJSON *issuer_set_json_v(const void *e) { return issuer_set_json(e); }
static cJSON *client_json_v(const void *e) { return client_json(e); }
static cJSON *server_json_v(const void *e) { return server_json(e); }

int policy_write(const struct policy *p, FILE *out, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!p || !out) {
        if (err && errlen)
            snprintf(err, errlen, "policy_write: no policy or stream");
        return -1;
    }
    cJSON *root = cJSON_CreateObject();
    bool ok = root && put(root, "version", cJSON_CreateNumber(1)) &&
              (!p->comment || put(root, "comment", cJSON_CreateString(p->comment))) &&
              put_section(root, "pin_sets", (void *const *)p->pin_sets, p->n_pin_sets,
                          pin_set_json_v) &&
              put_section(root, "expected_issuers", (void *const *)p->issuer_sets,
                          p->n_issuer_sets, issuer_set_json_v) &&
              put_section(root, "client_baselines", (void *const *)p->clients, p->n_clients,
                          client_json_v) &&
              put_section(root, "server_baselines", (void *const *)p->servers, p->n_servers,
                          server_json_v);
    char *text = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text) {
        if (err && errlen)
            snprintf(err, errlen, "policy_write: out of memory");
        return -1;
    }
    int rc = (fputs(text, out) == EOF || fputc('\n', out) == EOF || ferror(out)) ? -1 : 0;
    free(text);
    if (rc < 0 && err && errlen)
        snprintf(err, errlen, "policy_write: %s", strerror(errno));
    return rc;
}
