/*
 * android.c - Android Network Security Config (an XML resource of the app, see
 * developer.android.com/privacy-and-security/security-config).
 *
 * Each <domain> of a <domain-config> becomes one pin set holding every
 * <pin> of the config's <pin-set> (all in `pins`: Android accepts any of
 * them and has no notion of a backup), include_subdomains from the
 * domain's includeSubdomains, expires from the pin-set's expiration.  A
 * nested <domain-config> without its own <pin-set> inherits its parent's,
 * as Android does.  An empty <pin-set> (which switches pinning off for
 * those names on Android) cannot be written as a pin set: it is skipped
 * with a warning.  <base-config>, <debug-overrides> and <trust-anchors>
 * hold no pins and are only checked for known elements.  A domain named
 * twice is an error, as on Android.
 */
#include "pinimport/pi_int.h"

#include <stdio.h>
#include <string.h>

struct pinset {
    bool present;
    unsigned line;
    uint8_t pins[CFG_PINIMPORT_PINS_MAX][POLICY_SPKI_LEN];
    size_t n;
    bool has_exp;
    int64_t exp;
};

static const char *const known[] = {"network-security-config", "base-config", "domain-config",
                                    "domain", "pin-set", "pin", "trust-anchors", "certificates",
                                    "debug-overrides", NULL};

static int check_known(struct pi_file *f, const struct xml_node *n)
{
    for (const char *const *k = known; *k; k++)
        if (strcmp(*k, n->name) == 0)
            return 0;
    char q[48];
    return pi_fail(f, n->line, "<%s>: not an element of a network security config",
                   pi_quote(n->name, strlen(n->name), q));
}

/* Every element below n is known and none is a pin-set (base-config,
 * debug-overrides, trust-anchors). */
static int check_tree(struct pi_file *f, const struct xml_node *n, const char *where)
{
    for (const struct xml_node *c = n->child; c; c = c->next) {
        if (check_known(f, c) < 0)
            return -1;
        if (strcmp(c->name, "pin-set") == 0 || strcmp(c->name, "domain-config") == 0 ||
            strcmp(c->name, "domain") == 0)
            return pi_fail(f, c->line, "<%s> inside <%s>", c->name, where);
        if (check_tree(f, c, where) < 0)
            return -1;
    }
    return 0;
}

static int read_bool(struct pi_file *f, const struct xml_node *n, const char *attr, bool *out)
{
    const char *v = xml_attr(n, attr);
    *out = false;
    if (!v)
        return 0;
    if (strcmp(v, "true") == 0)
        *out = true;
    else if (strcmp(v, "false") != 0) {
        char q[48];
        return pi_fail(f, n->line, "<%s %s=\"%s\">: expected true or false", n->name, attr,
                       pi_quote(v, strlen(v), q));
    }
    return 0;
}

static int read_pinset(struct pi_file *f, const struct xml_node *ps, struct pinset *out)
{
    static const char *const attrs[] = {"expiration", NULL};
    if (xml_check_attrs(f, ps, attrs) < 0)
        return -1;
    memset(out, 0, sizeof(*out));
    out->present = true;
    out->line = ps->line;
    const char *exp = xml_attr(ps, "expiration");
    if (exp) {
        char q[48];
        if (!policy_date_parse(exp, &out->exp))
            return pi_fail(f, ps->line, "<pin-set expiration=\"%s\">: not a date (yyyy-MM-dd)",
                           pi_quote(exp, strlen(exp), q));
        out->has_exp = true;
    }
    for (const struct xml_node *p = ps->child; p; p = p->next) {
        if (check_known(f, p) < 0)
            return -1;
        if (strcmp(p->name, "pin") != 0)
            return pi_fail(f, p->line, "<%s> inside <pin-set>: only <pin>", p->name);
        static const char *const pattrs[] = {"digest", NULL};
        if (xml_check_attrs(f, p, pattrs) < 0)
            return -1;
        const char *dg = xml_attr(p, "digest");
        if (!dg)
            return pi_fail(f, p->line, "<pin>: no digest attribute");
        if (strcmp(dg, "SHA-256") != 0) {
            char q[48];
            return pi_fail(f, p->line, "<pin digest=\"%s\">: only SHA-256 pins",
                           pi_quote(dg, strlen(dg), q));
        }
        if (p->child)
            return pi_fail(f, p->child->line, "<%s> inside <pin>", p->child->name);
        char txt[128];
        if (!xml_text_trim(p, txt, sizeof(txt)))
            return pi_fail(f, p->line, "<pin>: not a base64 SHA-256 pin (too long)");
        /* A throwaway set collects the pin through the common checks. */
        struct pi_set tmp = {.n = 0};
        snprintf(tmp.domain, sizeof(tmp.domain), "pin-set");
        if (pi_add_pin_text(f, p->line, &tmp, txt, strlen(txt), NULL) < 0)
            return -1;
        bool dup = false;
        for (size_t i = 0; i < out->n && !dup; i++)
            dup = memcmp(out->pins[i], tmp.pins[0], POLICY_SPKI_LEN) == 0;
        if (dup)
            continue;
        if (out->n >= CFG_PINIMPORT_PINS_MAX)
            return pi_fail(f, p->line, "<pin-set>: more than %d pins", CFG_PINIMPORT_PINS_MAX);
        memcpy(out->pins[out->n++], tmp.pins[0], POLICY_SPKI_LEN);
    }
    return 0;
}

static int domain_config(struct pi_file *f, const struct xml_node *dc, const struct pinset *parent)
{
    static const char *const attrs[] = {"cleartextTrafficPermitted", NULL};
    if (xml_check_attrs(f, dc, attrs) < 0)
        return -1;
    struct pinset own;
    const struct pinset *eff = parent;
    size_t n_domains = 0;
    own.present = false;
    for (const struct xml_node *c = dc->child; c; c = c->next) {
        if (check_known(f, c) < 0)
            return -1;
        if (strcmp(c->name, "pin-set") == 0) {
            if (own.present)
                return pi_fail(f, c->line, "a second <pin-set> in one <domain-config> (the "
                                           "first is at line %u)", own.line);
            if (read_pinset(f, c, &own) < 0)
                return -1;
            eff = &own;
        } else if (strcmp(c->name, "domain") == 0) {
            n_domains++;
        } else if (strcmp(c->name, "trust-anchors") == 0) {
            if (check_tree(f, c, "trust-anchors") < 0)
                return -1;
        } else if (strcmp(c->name, "domain-config") != 0) {
            return pi_fail(f, c->line, "<%s> inside <domain-config>", c->name);
        }
    }
    if (n_domains == 0)
        return pi_fail(f, dc->line, "<domain-config> without a <domain>");
    for (const struct xml_node *c = dc->child; c; c = c->next) {
        if (strcmp(c->name, "domain") != 0)
            continue;
        static const char *const dattrs[] = {"includeSubdomains", NULL};
        bool sub;
        if (xml_check_attrs(f, c, dattrs) < 0 || read_bool(f, c, "includeSubdomains", &sub) < 0)
            return -1;
        if (c->child)
            return pi_fail(f, c->child->line, "<%s> inside <domain>", c->child->name);
        char name[POLICY_MAX_DOMAIN + 2];
        if (!xml_text_trim(c, name, sizeof(name)))
            return pi_fail(f, c->line, "<domain>: not a domain name (too long)");
        if (!eff || !eff->present)
            continue; /* no pinning for this name */
        if (eff->n == 0) {
            pi_warn(f, c->line, "%s: an empty <pin-set> (no pinning) has no pinscope "
                                "equivalent; not imported", name);
            continue;
        }
        struct pi_set *s = pi_set_get(f, c->line, name, strlen(name), sub, false);
        if (!s)
            return -1;
        for (size_t i = 0; i < eff->n; i++)
            if (pi_add_pin(f, c->line, s, eff->pins[i]) < 0)
                return -1;
        s->has_exp = eff->has_exp;
        s->exp = eff->exp;
    }
    for (const struct xml_node *c = dc->child; c; c = c->next)
        if (strcmp(c->name, "domain-config") == 0 && domain_config(f, c, eff) < 0)
            return -1;
    return 0;
}

int pi_android(struct pi_file *f, const struct xml_node *root)
{
    if (strcmp(root->name, "network-security-config") != 0)
        return pi_fail(f, root->line, "<%s>: expected <network-security-config>", root->name);
    for (const struct xml_node *c = root->child; c; c = c->next) {
        if (check_known(f, c) < 0)
            return -1;
        if (strcmp(c->name, "domain-config") == 0) {
            if (domain_config(f, c, NULL) < 0)
                return -1;
        } else if (strcmp(c->name, "base-config") == 0 ||
                   strcmp(c->name, "debug-overrides") == 0) {
            if (check_tree(f, c, c->name) < 0)
                return -1;
        } else {
            return pi_fail(f, c->line, "<%s> inside <network-security-config>", c->name);
        }
    }
    return 0;
}
