/*
 * model.c - struct policy: entries kept in file order, their indexes,
 * new/free, summary and accessors (see policy_int.h).
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

/* ---- the policy --------------------------------------------------------- */



void pol_match_free(struct policy_match *m)
{
    pol_nets_free(&m->client_subnets);
    pol_strs_free(&m->sni);
    pol_nets_free(&m->server_addresses);
}

void pol_pin_set_free(struct policy_pin_set *s)
{
    if (!s)
        return;
    free(s->domain);
    pol_pins_free(&s->pins);
    pol_pins_free(&s->backup_pins);
    free(s->comment);
    free(s);
}

void pol_issuer_set_free(struct policy_issuer_set *s)
{
    if (!s)
        return;
    free(s->domain);
    pol_strs_free(&s->issuers);
    pol_pins_free(&s->issuer_pins);
    free(s->comment);
    free(s);
}

void pol_client_free(struct policy_client_baseline *b)
{
    if (!b)
        return;
    free(b->name);
    pol_match_free(&b->match);
    pol_strs_free(&b->ja4);
    pol_strs_free(&b->ja3);
    pol_strs_free(&b->tls_versions);
    pol_strs_free(&b->alpn);
    free(b->comment);
    free(b);
}

void pol_server_free(struct policy_server_baseline *b)
{
    if (!b)
        return;
    free(b->name);
    pol_match_free(&b->match);
    pol_strs_free(&b->ja4s);
    pol_strs_free(&b->ja3s);
    pol_strs_free(&b->ja4ts);
    pol_strs_free(&b->server_ttl);
    pol_strs_free(&b->hello_retry);
    pol_strs_free(&b->alpn);
    free(b->comment);
    free(b);
}

struct policy *policy_new(void)
{
    return calloc(1, sizeof(struct policy));
}

void policy_free(struct policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_pin_sets; i++)
        pol_pin_set_free(p->pin_sets[i]);
    for (size_t i = 0; i < p->n_issuer_sets; i++)
        pol_issuer_set_free(p->issuer_sets[i]);
    for (size_t i = 0; i < p->n_clients; i++)
        pol_client_free(p->clients[i]);
    for (size_t i = 0; i < p->n_servers; i++)
        pol_server_free(p->servers[i]);
    free(p->pin_sets);
    free(p->issuer_sets);
    free(p->clients);
    free(p->servers);
    free(p->pin_ix.v);
    free(p->issuer_ix.v);
    free(p->client_ix.v);
    free(p->server_ix.v);
    free(p->comment);
    free(p);
}

/* Append an entry and index it at slot `pos` (from ix_search).  On
 * failure nothing changes and the caller still owns e. */
bool pol_add_entry(void ***arr, size_t *n, size_t *cap, struct policy_ix *ix, size_t pos,
                      void *e, const char *key, bool sub)
{
    void **na = pol_grow(*arr, cap, *n, sizeof(void *));
    if (!na)
        return false;
    *arr = na;
    if (!pol_ix_insert(ix, pos, key, *n, sub))
        return false;
    (*arr)[(*n)++] = e;
    return true;
}

void policy_summary(const struct policy *p, struct policy_summary *out)
{
    out->pin_sets = p->n_pin_sets;
    out->issuer_sets = p->n_issuer_sets;
    out->client_baselines = p->n_clients;
    out->server_baselines = p->n_servers;
}

const struct policy_pin_set *policy_pin_set_at(const struct policy *p, size_t idx)
{
    return idx < p->n_pin_sets ? p->pin_sets[idx] : NULL;
}

const struct policy_issuer_set *policy_issuer_set_at(const struct policy *p, size_t idx)
{
    return idx < p->n_issuer_sets ? p->issuer_sets[idx] : NULL;
}

const struct policy_client_baseline *policy_client_baseline_at(const struct policy *p,
                                                               size_t idx)
{
    return idx < p->n_clients ? p->clients[idx] : NULL;
}

const struct policy_server_baseline *policy_server_baseline_at(const struct policy *p,
                                                               size_t idx)
{
    return idx < p->n_servers ? p->servers[idx] : NULL;
}

uint64_t policy_learn_capped(const struct policy *p)
{
    return p->learn_capped;
}
