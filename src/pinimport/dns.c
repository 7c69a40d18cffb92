/*
 * dns.c - TLSA (RFC 6698, 7671) and CAA (RFC 8659) records in zone-file
 * lines ("_443._tcp.example.com. 3600 IN TLSA 3 1 1 <hex>",
 * "example.com. IN CAA 0 issue \"letsencrypt.org\"").
 *
 * One record per line; ";" comments, $ORIGIN, "@" and a blank owner
 * (the previous line's) are read; parentheses (records over several
 * lines) are refused.  Records of other types are passed over.
 *
 * TLSA: selector 1 (SubjectPublicKeyInfo) with matching type 1 (SHA-256)
 * is exactly a pinscope pin: the hex digest, base64-encoded, goes into
 * `pins` of the pin set of the owner name without its _port._proto
 * labels (pinscope's pin sets are per name, not per port).  Usages 3
 * (DANE-EE) and 1 (PKIX-EE) pin the leaf's key, 2 (DANE-TA) and 0
 * (PKIX-TA) a CA key; all go into `pins`, which match any certificate of
 * the served chain.  Other selectors and matching types carry no SPKI
 * SHA-256 and are skipped with a warning naming the line.
 *
 * CAA: "issue" and "issuewild" values name CA domains; each known one
 * (caa.c) gives the names of that CA's issuing certificates, which become
 * `expected_issuers` (CN values) of the owner with include_subdomains
 * (CAA applies below a name unless a lower name has its own records).
 * When one of a name's CA domains is not in the table, that name gets no
 * issuer set (it would flag that CA's certificates) and a warning says
 * so.  iodef, contact and other tags are not issuer data; an unknown tag
 * with the critical flag is an error.
 */
#include "pinimport/pi_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hex.h"

#define MAX_TOK 80

struct tok {
    const char *s;
    size_t len;
    bool quoted;
};

struct zone {
    char origin[POLICY_MAX_DOMAIN + 2];
    char owner[POLICY_MAX_DOMAIN + 2];
    bool have_owner;
};

/* Split a line into tokens (";" starts a comment outside quotes). */
static int tokenize(struct pi_file *f, unsigned no, const char *s, const char *e,
                    struct tok *t, size_t *n)
{
    *n = 0;
    while (s < e) {
        while (s < e && (*s == ' ' || *s == '\t' || *s == '\r'))
            s++;
        if (s >= e || *s == ';')
            break;
        if (*s == '(' || *s == ')')
            return pi_fail(f, no, "records over several lines (parentheses) are not read");
        if (*n >= MAX_TOK)
            return pi_fail(f, no, "more than %d fields", MAX_TOK);
        struct tok *k = &t[(*n)++];
        if (*s == '"') {
            const char *a = ++s;
            while (s < e && *s != '"') {
                if (*s == '\\' && s + 1 < e)
                    s++;
                s++;
            }
            if (s >= e)
                return pi_fail(f, no, "an unclosed quote");
            k->s = a;
            k->len = (size_t)(s - a);
            k->quoted = true;
            s++;
        } else {
            const char *a = s;
            while (s < e && *s != ' ' && *s != '\t' && *s != '\r' && *s != ';')
                s++;
            k->s = a;
            k->len = (size_t)(s - a);
            k->quoted = false;
        }
    }
    return 0;
}

static bool all_digits(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* A TTL: digits, optionally with BIND's unit letters (1h30m). */
static bool is_ttl(const struct tok *t)
{
    if (t->quoted || t->len == 0 || t->s[0] < '0' || t->s[0] > '9')
        return false;
    for (size_t i = 0; i < t->len; i++) {
        char c = t->s[i];
        if (!((c >= '0' && c <= '9') || strchr("smhdwSMHDW", c)))
            return false;
    }
    return true;
}

static bool number(const struct tok *t, unsigned max, unsigned *out)
{
    if (t->quoted || !all_digits(t->s, t->len) || t->len > 5)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < t->len; i++)
        v = v * 10 + (unsigned)(t->s[i] - '0');
    if (v > max)
        return false;
    *out = v;
    return true;
}

/* The owner name, absolute, into out (with its trailing dot). */
static int owner_name(struct pi_file *f, unsigned no, struct zone *z, const struct tok *t,
                      char *out, size_t outlen)
{
    char q[48];
    if (t->len == 1 && t->s[0] == '@') {
        if (!z->origin[0])
            return pi_fail(f, no, "\"@\" without a $ORIGIN");
        snprintf(out, outlen, "%s", z->origin);
        return 0;
    }
    if (t->len > 0 && t->s[t->len - 1] == '.') {
        if (t->len >= outlen)
            return pi_fail(f, no, "\"%s\": name too long", pi_quote(t->s, t->len, q));
        memcpy(out, t->s, t->len);
        out[t->len] = '\0';
        return 0;
    }
    /* Relative: below $ORIGIN, or taken as written when there is none. */
    int n = snprintf(out, outlen, "%.*s.%s", (int)t->len, t->s, z->origin);
    if (n < 0 || (size_t)n >= outlen)
        return pi_fail(f, no, "\"%s\": name too long", pi_quote(t->s, t->len, q));
    return 0;
}

static int tlsa(struct pi_file *f, unsigned no, const char *owner, const struct tok *t, size_t n)
{
    char q[48];
    unsigned usage, sel, mt;
    if (n < 4 || !number(&t[0], 255, &usage) || !number(&t[1], 255, &sel) ||
        !number(&t[2], 255, &mt))
        return pi_fail(f, no, "TLSA: expected usage, selector, matching type and data");
    if (usage > 3)
        return pi_fail(f, no, "TLSA: certificate usage %u is not 0 to 3", usage);
    if (sel != 1 || mt != 1) {
        pi_warn(f, no, "TLSA %u %u %u: only selector 1 (SPKI) with matching type 1 (SHA-256) "
                       "is a pin; record skipped", usage, sel, mt);
        return 0;
    }
    uint8_t pin[POLICY_SPKI_LEN];
    size_t nib = 0;
    for (size_t i = 3; i < n; i++)
        for (size_t k = 0; k < t[i].len; k++) {
            int v = hex_digit((unsigned char)t[i].s[k]);
            if (v < 0 || t[i].quoted)
                return pi_fail(f, no, "TLSA: \"%s\": not hex", pi_quote(t[i].s, t[i].len, q));
            if (nib >= 2 * POLICY_SPKI_LEN)
                return pi_fail(f, no, "TLSA 3 1 1: more than 32 bytes of SHA-256");
            if (nib % 2 == 0)
                pin[nib / 2] = (uint8_t)(v << 4);
            else
                pin[nib / 2] |= (uint8_t)v;
            nib++;
        }
    if (nib != 2 * POLICY_SPKI_LEN)
        return pi_fail(f, no, "TLSA %u 1 1: %zu hex digits, not the 64 of a SHA-256", usage, nib);
    /* _443._tcp.example.com. -> example.com */
    const char *name = owner;
    for (int lab = 0; lab < 2; lab++) {
        const char *dot = strchr(name, '.');
        if (name[0] != '_' || !dot)
            return pi_fail(f, no, "TLSA owner \"%s\": expected _PORT._PROTO.NAME",
                           pi_quote(owner, strlen(owner), q));
        name = dot + 1;
    }
    struct pi_set *s = pi_set_get(f, no, name, strlen(name), false, true);
    if (!s)
        return -1;
    return pi_add_pin(f, no, s, pin);
}

static int caa(struct pi_file *f, unsigned no, const char *owner, const struct tok *t, size_t n)
{
    char q[48];
    unsigned flags;
    if (n != 3 || !number(&t[0], 255, &flags))
        return pi_fail(f, no, "CAA: expected flags, tag and value");
    bool issue = pi_caseeq(t[1].s, t[1].len, "issue"),
         wild = pi_caseeq(t[1].s, t[1].len, "issuewild");
    if (!issue && !wild) {
        static const char *const other[] = {"iodef", "contactemail", "contactphone", "issuemail",
                                            "issuevmc", NULL};
        for (const char *const *o = other; *o; o++)
            if (pi_caseeq(t[1].s, t[1].len, *o))
                return 0;
        if (flags & 128)
            return pi_fail(f, no, "CAA: critical tag \"%s\" is not understood",
                           pi_quote(t[1].s, t[1].len, q));
        return 0;
    }
    char dom[POLICY_MAX_DOMAIN + 1];
    if (!policy_domain_norm(owner, strlen(owner), dom))
        return pi_fail(f, no, "CAA owner \"%s\": not a domain name",
                       pi_quote(owner, strlen(owner), q));
    /* The issuer domain is what precedes the first ';' (parameters follow). */
    const char *v = t[2].s, *ve = t[2].s + t[2].len;
    const char *semi = memchr(v, ';', t[2].len);
    if (semi)
        ve = semi;
    while (v < ve && pi_is_space(*v))
        v++;
    while (ve > v && pi_is_space(ve[-1]))
        ve--;
    struct pi_iss *is = pi_iss_get(f, no, dom);
    if (!is)
        return -1;
    if (v == ve) {
        pi_warn(f, no, "%s: CAA %s \";\" (no CA may issue) gives no expected issuers", dom,
                wild ? "issuewild" : "issue");
        return 0;
    }
    char ca[POLICY_MAX_DOMAIN + 1];
    if (!policy_domain_norm(v, (size_t)(ve - v), ca))
        return pi_fail(f, no, "CAA %s \"%s\": not a CA domain", wild ? "issuewild" : "issue",
                       pi_quote(v, (size_t)(ve - v), q));
    const struct pi_caa *ent = pi_caa_find(ca);
    if (!ent) {
        is->incomplete = true;
        pi_warn(f, no, "%s: CAA issuer \"%s\" is not in pinscope's CAA table; no expected "
                       "issuers are imported for %s", dom, ca, dom);
        return 0;
    }
    for (size_t i = 0; i < is->n_cas; i++)
        if (is->cas[i] == ent)
            return 0;
    if (is->n_cas >= sizeof(is->cas) / sizeof(is->cas[0]))
        return pi_fail(f, no, "%s: more than %zu CAA issuers", dom,
                       sizeof(is->cas) / sizeof(is->cas[0]));
    is->cas[is->n_cas++] = ent;
    return 0;
}

int pi_dns(struct pi_file *f, const char *buf, size_t len)
{
    struct zone z = {.origin = ""};
    const char *p = buf, *end = buf + len;
    unsigned no = 0;
    size_t n_rec = 0;
    struct tok t[MAX_TOK];
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end, *ls = p;
        p = nl ? nl + 1 : end;
        no++;
        size_t n;
        if (tokenize(f, no, ls, le, t, &n) < 0)
            return -1;
        if (n == 0)
            continue;
        bool blank_owner = ls < le && (*ls == ' ' || *ls == '\t');
        char q[48];
        if (!blank_owner && t[0].s[0] == '$') {
            if (pi_caseeq(t[0].s, t[0].len, "$ORIGIN") && n == 2) {
                struct tok o = t[1];
                if (o.len == 0 || o.s[o.len - 1] != '.' || o.len >= sizeof(z.origin))
                    return pi_fail(f, no, "$ORIGIN: expected an absolute name (ending in '.')");
                memcpy(z.origin, o.s, o.len);
                z.origin[o.len] = '\0';
            } else if (!pi_caseeq(t[0].s, t[0].len, "$TTL")) {
                return pi_fail(f, no, "\"%s\": not a directive pinscope reads",
                               pi_quote(t[0].s, t[0].len, q));
            }
            continue;
        }
        size_t i = 0;
        if (!blank_owner) {
            if (owner_name(f, no, &z, &t[0], z.owner, sizeof(z.owner)) < 0)
                return -1;
            z.have_owner = true;
            i = 1;
        } else if (!z.have_owner) {
            return pi_fail(f, no, "a record without an owner name");
        }
        /* [TTL] [class] or [class] [TTL] */
        for (int k = 0; k < 2 && i < n; k++) {
            if (is_ttl(&t[i]) ||
                (!t[i].quoted && (pi_caseeq(t[i].s, t[i].len, "IN") ||
                                  pi_caseeq(t[i].s, t[i].len, "CH") ||
                                  pi_caseeq(t[i].s, t[i].len, "HS"))))
                i++;
        }
        if (i >= n)
            return pi_fail(f, no, "a record without a type");
        const struct tok *type = &t[i++];
        if (pi_caseeq(type->s, type->len, "TLSA")) {
            if (tlsa(f, no, z.owner, &t[i], n - i) < 0)
                return -1;
            n_rec++;
        } else if (pi_caseeq(type->s, type->len, "CAA")) {
            if (caa(f, no, z.owner, &t[i], n - i) < 0)
                return -1;
            n_rec++;
        }
    }
    if (n_rec == 0)
        return pi_fail(f, 0, "no TLSA or CAA records");
    return 0;
}
