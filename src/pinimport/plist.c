/*
 * plist.c - pins in XML property lists: iOS App Transport Security
 * NSPinnedDomains (Info.plist, NSAppTransportSecurity) and TrustKit
 * (TSKConfiguration / TSKPinnedDomains, the kTSK... constants' values).
 *
 * The dictionaries are found wherever they sit in the plist (an
 * Info.plist holds much else, which is not read).  Inside them every key
 * must be known:
 *   NSPinnedDomains: domain -> NSIncludesSubdomains, NSPinnedLeafIdentities,
 *     NSPinnedCAIdentities (arrays of {SPKI-SHA256-BASE64}).  Leaf and CA
 *     identities both go into `pins` (pinscope's pins match any
 *     certificate of the chain, as Apple's CA identities do).
 *   TSKPinnedDomains: domain -> TSKPublicKeyHashes (into `pins`: TrustKit
 *     requires two hashes so that one is a backup, but does not say
 *     which), TSKIncludeSubdomains, TSKExpirationDate (yyyy-MM-dd ->
 *     expires); TSKEnforcePinning, TSKReportUris,
 *     TSKDisableDefaultReportUri and TSKPublicKeyAlgorithms are not
 *     pinning data and are ignored; TSKExcludeSubdomainFromParentPolicy
 *     (no pinning for that name) has no pinscope equivalent and is skipped
 *     with a warning.
 */
#include "pinimport/pi_int.h"

#include <stdio.h>
#include <string.h>

static bool is(const struct xml_node *n, const char *name)
{
    return strcmp(n->name, name) == 0;
}

/* Check a <dict>: <key> and a value alternate, keys unique.  Calls back
 * for each pair via the iteration below. */
static int dict_check(struct pi_file *f, const struct xml_node *d)
{
    const struct xml_node *c = d->child;
    size_t pairs = 0;
    while (c) {
        if (++pairs > CFG_PINIMPORT_SETS_MAX)
            return pi_fail(f, c->line, "a <dict> with more than %d keys", CFG_PINIMPORT_SETS_MAX);
        if (!is(c, "key"))
            return pi_fail(f, c->line, "<%s> where a <dict> needs a <key>", c->name);
        if (!c->next)
            return pi_fail(f, c->line, "<key> without a value");
        for (const struct xml_node *k = d->child; k != c; k = k->next->next)
            if (strcmp(k->text ? k->text : "", c->text ? c->text : "") == 0) {
                char q[48];
                return pi_fail(f, c->line, "key \"%s\" given twice in one <dict>",
                               pi_quote(c->text ? c->text : "", c->text_len, q));
            }
        c = c->next->next;
    }
    return 0;
}

static const char *key_of(const struct xml_node *k)
{
    return k->text ? k->text : "";
}

/* TrustKit keys, written "TSK..." in plists and "kTSK..." by some. */
static bool tsk(const char *key, const char *name)
{
    if (key[0] == 'k')
        key++;
    return strcmp(key, name) == 0;
}

static int read_bool(struct pi_file *f, const struct xml_node *v, const char *key, bool *out)
{
    if (is(v, "true"))
        *out = true;
    else if (is(v, "false"))
        *out = false;
    else
        return pi_fail(f, v->line, "%s: expected <true/> or <false/>", key);
    return 0;
}

static int add_string_pin(struct pi_file *f, struct pi_set *s, const struct xml_node *v,
                          const char *key)
{
    if (!is(v, "string"))
        return pi_fail(f, v->line, "%s: expected a <string> pin", key);
    char txt[128];
    if (!xml_text_trim(v, txt, sizeof(txt)))
        return pi_fail(f, v->line, "%s: not a base64 SHA-256 pin (too long)", key);
    return pi_add_pin_text(f, v->line, s, txt, strlen(txt), NULL);
}

static int ns_domain(struct pi_file *f, const struct xml_node *k, const struct xml_node *v)
{
    const char *dom = key_of(k);
    if (!is(v, "dict"))
        return pi_fail(f, v->line, "NSPinnedDomains: %s: expected a <dict>", dom);
    if (dict_check(f, v) < 0)
        return -1;
    bool sub = false;
    for (const struct xml_node *c = v->child; c; c = c->next->next)
        if (strcmp(key_of(c), "NSIncludesSubdomains") == 0 &&
            read_bool(f, c->next, "NSIncludesSubdomains", &sub) < 0)
            return -1;
    struct pi_set *s = pi_set_get(f, k->line, dom, strlen(dom), sub, false);
    if (!s)
        return -1;
    for (const struct xml_node *c = v->child; c; c = c->next->next) {
        const char *key = key_of(c);
        const struct xml_node *val = c->next;
        if (strcmp(key, "NSIncludesSubdomains") == 0)
            continue;
        if (strcmp(key, "NSPinnedLeafIdentities") != 0 && strcmp(key, "NSPinnedCAIdentities") != 0) {
            char q[48];
            return pi_fail(f, c->line, "NSPinnedDomains: %s: unknown key \"%s\"", dom,
                           pi_quote(key, strlen(key), q));
        }
        if (!is(val, "array"))
            return pi_fail(f, val->line, "%s: expected an <array>", key);
        for (const struct xml_node *id = val->child; id; id = id->next) {
            if (!is(id, "dict"))
                return pi_fail(f, id->line, "%s: expected a <dict> per identity", key);
            if (dict_check(f, id) < 0)
                return -1;
            if (!id->child)
                return pi_fail(f, id->line, "%s: an identity without SPKI-SHA256-BASE64", key);
            for (const struct xml_node *ik = id->child; ik; ik = ik->next->next) {
                if (strcmp(key_of(ik), "SPKI-SHA256-BASE64") != 0) {
                    char q[48];
                    return pi_fail(f, ik->line, "%s: unknown identity key \"%s\" (only "
                                                "SPKI-SHA256-BASE64)", key,
                                   pi_quote(key_of(ik), strlen(key_of(ik)), q));
                }
                if (add_string_pin(f, s, ik->next, "SPKI-SHA256-BASE64") < 0)
                    return -1;
            }
        }
    }
    if (s->n == 0)
        return pi_fail(f, k->line, "NSPinnedDomains: %s: no pinned identities", dom);
    return 0;
}

static int tsk_domain(struct pi_file *f, const struct xml_node *k, const struct xml_node *v)
{
    const char *dom = key_of(k);
    if (!is(v, "dict"))
        return pi_fail(f, v->line, "TSKPinnedDomains: %s: expected a <dict>", dom);
    if (dict_check(f, v) < 0)
        return -1;
    bool sub = false, excluded = false;
    const struct xml_node *hashes = NULL, *expiry = NULL;
    for (const struct xml_node *c = v->child; c; c = c->next->next) {
        const char *key = key_of(c);
        const struct xml_node *val = c->next;
        if (tsk(key, "TSKIncludeSubdomains")) {
            if (read_bool(f, val, key, &sub) < 0)
                return -1;
        } else if (tsk(key, "TSKExcludeSubdomainFromParentPolicy")) {
            if (read_bool(f, val, key, &excluded) < 0)
                return -1;
        } else if (tsk(key, "TSKPublicKeyHashes")) {
            hashes = val;
        } else if (tsk(key, "TSKExpirationDate")) {
            expiry = val;
        } else if (tsk(key, "TSKEnforcePinning") || tsk(key, "TSKDisableDefaultReportUri")) {
            bool ignored;
            if (read_bool(f, val, key, &ignored) < 0)
                return -1;
        } else if (!tsk(key, "TSKReportUris") && !tsk(key, "TSKPublicKeyAlgorithms")) {
            char q[48];
            return pi_fail(f, c->line, "TSKPinnedDomains: %s: unknown key \"%s\"", dom,
                           pi_quote(key, strlen(key), q));
        }
    }
    if (excluded) {
        pi_warn(f, k->line, "%s: TSKExcludeSubdomainFromParentPolicy (no pinning) has no "
                            "pinscope equivalent; not imported", dom);
        return 0;
    }
    if (!hashes)
        return pi_fail(f, k->line, "TSKPinnedDomains: %s: no TSKPublicKeyHashes", dom);
    if (!is(hashes, "array") || !hashes->child)
        return pi_fail(f, hashes->line, "TSKPublicKeyHashes: expected an <array> of pins");
    struct pi_set *s = pi_set_get(f, k->line, dom, strlen(dom), sub, false);
    if (!s)
        return -1;
    for (const struct xml_node *h = hashes->child; h; h = h->next)
        if (add_string_pin(f, s, h, "TSKPublicKeyHashes") < 0)
            return -1;
    if (expiry) {
        char txt[32];
        if (!is(expiry, "string") || !xml_text_trim(expiry, txt, sizeof(txt)) ||
            !policy_date_parse(txt, &s->exp))
            return pi_fail(f, expiry->line, "TSKExpirationDate: expected a <string> yyyy-MM-dd");
        s->has_exp = true;
    }
    return 0;
}

static int walk(struct pi_file *f, const struct xml_node *n, size_t *found)
{
    if (is(n, "dict")) {
        if (dict_check(f, n) < 0)
            return -1;
        for (const struct xml_node *k = n->child; k; k = k->next->next) {
            const char *key = key_of(k);
            const struct xml_node *v = k->next;
            bool ns = strcmp(key, "NSPinnedDomains") == 0, tk = tsk(key, "TSKPinnedDomains");
            if (ns || tk) {
                if (!is(v, "dict"))
                    return pi_fail(f, v->line, "%s: expected a <dict> of domains", key);
                if (dict_check(f, v) < 0)
                    return -1;
                for (const struct xml_node *d = v->child; d; d = d->next->next)
                    if ((ns ? ns_domain(f, d, d->next) : tsk_domain(f, d, d->next)) < 0)
                        return -1;
                (*found)++;
            } else if (walk(f, v, found) < 0) {
                return -1;
            }
        }
    } else if (is(n, "array")) {
        for (const struct xml_node *c = n->child; c; c = c->next)
            if (walk(f, c, found) < 0)
                return -1;
    }
    return 0;
}

int pi_plist(struct pi_file *f, const struct xml_node *root)
{
    if (!is(root, "plist"))
        return pi_fail(f, root->line, "<%s>: expected <plist>", root->name);
    size_t found = 0;
    for (const struct xml_node *c = root->child; c; c = c->next)
        if (walk(f, c, &found) < 0)
            return -1;
    if (found == 0)
        return pi_fail(f, root->line, "no NSPinnedDomains or TSKPinnedDomains dictionary");
    return 0;
}
