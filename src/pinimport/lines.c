/*
 * lines.c - the line-oriented pin formats: OkHttp CertificatePinner, HPKP
 * headers, curl --pinnedpubkey values.
 *
 * OkHttp: every add("pattern", "sha256/...", ...) call in Java or Kotlin
 * source (string literals only), or, in a file without such calls, lines
 * "pattern sha256/... [sha256/...]".  Patterns: "host" -> that name only;
 * "**.host" -> host with include_subdomains (the same set of names);
 * "*.host" -> host with include_subdomains, which widens it: OkHttp's
 * "*." is exactly one label and excludes host itself, pinscope's
 * include_subdomains covers host and every depth.  Several adds for one
 * pattern are one set; "host" and "*.host" together are an error (one
 * pin set per name).  All pins go into `pins`.
 *
 * HPKP: "Public-Key-Pins: pin-sha256=...; max-age=...; includeSubDomains"
 * (also -Report-Only, or the value alone) for --domain, or lines
 * "example.com: Public-Key-Pins: ...".  Every pin goes into `pins` (which
 * of them is the RFC 7469 backup cannot be known from the header; name it
 * with --backup).  max-age and report-uri are not pinning data.
 *
 * curl: "sha256//B64;sha256//B64" values, alone or in a curl command
 * line (after --pinnedpubkey); the domain is a "example.com:" line
 * prefix, else the host of an https:// URL on the line, else --domain.
 */
#include "pinimport/pi_int.h"

#include <stdio.h>
#include <string.h>

struct line {
    const char *s;
    size_t len;
    unsigned no;
};

/* The next line, trimmed; false at the end. */
static bool next_line(const char **p, const char *end, unsigned *no, struct line *out)
{
    if (*p >= end)
        return false;
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    const char *le = nl ? nl : end;
    const char *a = *p, *b = le;
    while (a < b && pi_is_space(*a))
        a++;
    while (b > a && pi_is_space(b[-1]))
        b--;
    out->s = a;
    out->len = (size_t)(b - a);
    out->no = ++*no;
    *p = nl ? nl + 1 : end;
    return true;
}

static bool comment_line(const struct line *l)
{
    return l->len == 0 || l->s[0] == '#' || (l->len >= 2 && l->s[0] == '/' && l->s[1] == '/');
}

static bool starts(const char *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    return len >= n && pi_caseeq(s, n, lit);
}

/* ---- OkHttp ---- */

/* A pattern into a pin set. */
static struct pi_set *okhttp_set(struct pi_file *f, unsigned line, const char *s, size_t len)
{
    bool sub = false;
    if (len > 3 && memcmp(s, "**.", 3) == 0) {
        s += 3;
        len -= 3;
        sub = true;
    } else if (len > 2 && memcmp(s, "*.", 2) == 0) {
        s += 2;
        len -= 2;
        sub = true;
    }
    if (memchr(s, '*', len)) {
        char q[48];
        pi_fail(f, line, "pattern \"%s\": a wildcard only as \"*.\" or \"**.\" at the start",
                pi_quote(s, len, q));
        return NULL;
    }
    return pi_set_get(f, line, s, len, sub, true);
}

static bool ident(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* A string literal at *p (on '"'); false if there is none or it holds a
 * backslash (host names and pins never do). */
static bool literal(const char **p, const char *end, const char **s, size_t *len)
{
    if (*p >= end || **p != '"')
        return false;
    const char *a = *p + 1, *b = a;
    while (b < end && *b != '"' && *b != '\\' && *b != '\n')
        b++;
    if (b >= end || *b != '"')
        return false;
    *s = a;
    *len = (size_t)(b - a);
    *p = b + 1;
    return true;
}

static const char *skip_ws(const char *p, const char *end, unsigned *line)
{
    while (p < end && pi_is_space(*p)) {
        if (*p == '\n')
            (*line)++;
        p++;
    }
    return p;
}

/* add("pattern", "sha256/...", ...) calls.  Returns the number read, or
 * -1 after pi_fail. */
static int okhttp_calls(struct pi_file *f, const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len;
    unsigned line = 1;
    int n = 0;
    for (; p + 4 <= end; p++) {
        if (*p == '\n')
            line++;
        if (memcmp(p, "add(", 4) != 0 || (p > buf && ident(p[-1])))
            continue;
        unsigned at = line, ln = line;
        char qb[48];
        const char *q = skip_ws(p + 4, end, &ln), *pat, *s;
        size_t plen, slen;
        if (!literal(&q, end, &pat, &plen))
            continue; /* not a pinner call: its first argument is no string */
        q = skip_ws(q, end, &ln);
        if (q >= end || *q != ',')
            continue;
        q = skip_ws(q + 1, end, &ln);
        const char *first = q;
        if (!literal(&q, end, &s, &slen)) {
            if (q < end && *q != '"')
                continue; /* add("x", variable): some other add */
            return pi_fail(f, at, "add(\"%s\", ...): the pins must be string literals",
                           pi_quote(pat, plen, qb));
        }
        if (!(slen >= 4 && (memcmp(s, "sha", 3) == 0)))
            continue; /* some other add("x", "y") */
        struct pi_set *set = okhttp_set(f, at, pat, plen);
        if (!set)
            return -1;
        q = first;
        for (;;) {
            q = skip_ws(q, end, &ln);
            if (!literal(&q, end, &s, &slen))
                return pi_fail(f, ln, "add(\"%s\", ...): expected a \"sha256/...\" string",
                               pi_quote(pat, plen, qb));
            if (pi_add_pin_text(f, ln, set, s, slen, "sha256/") < 0)
                return -1;
            q = skip_ws(q, end, &ln);
            if (q < end && *q == ',') {
                q++;
                continue;
            }
            if (q < end && *q == ')')
                break;
            return pi_fail(f, ln, "add(\"%s\", ...): expected ',' or ')'",
                           pi_quote(pat, plen, qb));
        }
        /* Continue after the call, whose lines ln counted. */
        p = q;
        line = ln;
        n++;
    }
    return n;
}

int pi_okhttp(struct pi_file *f, const char *buf, size_t len)
{
    int n = okhttp_calls(f, buf, len);
    if (n != 0)
        return n < 0 ? -1 : 0;
    const char *p = buf, *end = buf + len;
    unsigned no = 0;
    struct line l;
    size_t sets = 0;
    while (next_line(&p, end, &no, &l)) {
        if (comment_line(&l))
            continue;
        const char *s = l.s, *e = l.s + l.len;
        const char *t = s;
        while (t < e && !pi_is_space(*t))
            t++;
        if (t == e)
            return pi_fail(f, l.no, "expected \"pattern sha256/...\"");
        struct pi_set *set = okhttp_set(f, l.no, s, (size_t)(t - s));
        if (!set)
            return -1;
        while (t < e) {
            while (t < e && (pi_is_space(*t) || *t == ','))
                t++;
            const char *a = t;
            while (t < e && !pi_is_space(*t) && *t != ',')
                t++;
            if (a < t && pi_add_pin_text(f, l.no, set, a, (size_t)(t - a), "sha256/") < 0)
                return -1;
        }
        sets++;
    }
    if (sets == 0)
        return pi_fail(f, 0, "no OkHttp pins (add(\"host\", \"sha256/...\") or \"host sha256/...\")");
    return 0;
}

/* ---- "domain:" prefixes ---- */

/* A leading "example.com:" (a domain name, a colon, white space).  On a
 * match, *rest points after it. */
static bool domain_prefix(const struct line *l, const char **dom, size_t *dlen, const char **rest)
{
    const char *c = memchr(l->s, ':', l->len);
    if (!c || c == l->s)
        return false;
    for (const char *x = l->s; x < c; x++)
        if (!(ident(*x) || *x == '.' || *x == '-'))
            return false;
    if (!memchr(l->s, '.', (size_t)(c - l->s)))
        return false; /* "Public-Key-Pins:", "curl:" */
    *dom = l->s;
    *dlen = (size_t)(c - l->s);
    *rest = c + 1;
    return true;
}

static struct pi_set *cmdline_set(struct pi_file *f, unsigned line, const char *dom, size_t dlen,
                                  bool sub)
{
    if (dom)
        return pi_set_get(f, line, dom, dlen, sub, false);
    if (!f->pi->domain[0]) {
        pi_fail(f, line, "no domain: give --domain NAME or start the line with \"NAME:\"");
        return NULL;
    }
    return pi_set_get(f, line, f->pi->domain, strlen(f->pi->domain), sub, false);
}

/* ---- HPKP ---- */

static int hpkp_line(struct pi_file *f, const struct line *l)
{
    const char *dom = NULL, *p = l->s, *e = l->s + l->len;
    size_t dlen = 0;
    if (!starts(p, l->len, "Public-Key-Pins") && !starts(p, l->len, "pin-sha"))
        if (domain_prefix(l, &dom, &dlen, &p))
            while (p < e && pi_is_space(*p))
                p++;
    size_t rl = (size_t)(e - p);
    if (starts(p, rl, "Public-Key-Pins-Report-Only:"))
        p += strlen("Public-Key-Pins-Report-Only:");
    else if (starts(p, rl, "Public-Key-Pins:"))
        p += strlen("Public-Key-Pins:");
    else if (!starts(p, rl, "pin-"))
        return pi_fail(f, l->no, "expected a Public-Key-Pins header");
    /* Collect the directives first: includeSubDomains may come last. */
    bool sub = false;
    struct { const char *s; size_t len; } pins[CFG_PINIMPORT_PINS_MAX];
    size_t np = 0;
    while (p < e) {
        while (p < e && (pi_is_space(*p) || *p == ';'))
            p++;
        if (p >= e)
            break;
        const char *name = p;
        while (p < e && *p != '=' && *p != ';' && !pi_is_space(*p))
            p++;
        size_t nlen = (size_t)(p - name);
        while (p < e && pi_is_space(*p))
            p++;
        const char *val = NULL;
        size_t vlen = 0;
        if (p < e && *p == '=') {
            p++;
            while (p < e && pi_is_space(*p))
                p++;
            if (p < e && *p == '"') {
                val = ++p;
                while (p < e && *p != '"')
                    p++;
                if (p >= e)
                    return pi_fail(f, l->no, "an unclosed quote");
                vlen = (size_t)(p - val);
                p++;
            } else {
                val = p;
                while (p < e && *p != ';' && !pi_is_space(*p))
                    p++;
                vlen = (size_t)(p - val);
            }
        }
        char q[48];
        if (pi_caseeq(name, nlen, "pin-sha256")) {
            if (!val)
                return pi_fail(f, l->no, "pin-sha256 without a value");
            if (np >= CFG_PINIMPORT_PINS_MAX)
                return pi_fail(f, l->no, "more than %d pins", CFG_PINIMPORT_PINS_MAX);
            pins[np].s = val;
            pins[np++].len = vlen;
        } else if (pi_caseeq(name, nlen, "includeSubDomains")) {
            sub = true;
        } else if (pi_caseeq(name, nlen, "max-age") || pi_caseeq(name, nlen, "report-uri")) {
            continue;
        } else if (nlen > 4 && pi_caseeq(name, 4, "pin-")) {
            return pi_fail(f, l->no, "%s: only SHA-256 pins", pi_quote(name, nlen, q));
        } else {
            return pi_fail(f, l->no, "unknown directive \"%s\"", pi_quote(name, nlen, q));
        }
    }
    if (np == 0)
        return pi_fail(f, l->no, "no pin-sha256 directive");
    struct pi_set *s = cmdline_set(f, l->no, dom, dlen, sub);
    if (!s)
        return -1;
    for (size_t i = 0; i < np; i++)
        if (pi_add_pin_text(f, l->no, s, pins[i].s, pins[i].len, NULL) < 0)
            return -1;
    if (s->n < 2 && f->pi->n_backup == 0)
        pi_warn(f, l->no, "%s: one pin; RFC 7469 requires a backup pin (give it with --backup)",
                s->domain);
    return 0;
}

/* Every line that is neither empty nor a '#' comment through `one`; at
 * least one must be there, else `none` is the error. */
static int each_line(struct pi_file *f, const char *buf, size_t len,
                     int (*one)(struct pi_file *f, const struct line *l), const char *none)
{
    const char *p = buf, *end = buf + len;
    unsigned no = 0;
    struct line l;
    size_t n = 0;
    while (next_line(&p, end, &no, &l)) {
        if (l.len == 0 || l.s[0] == '#')
            continue;
        if (one(f, &l) < 0)
            return -1;
        n++;
    }
    return n ? 0 : pi_fail(f, 0, "%s", none);
}

int pi_hpkp(struct pi_file *f, const char *buf, size_t len)
{
    return each_line(f, buf, len, hpkp_line, "no Public-Key-Pins header");
}

/* ---- curl ---- */

/* The next white-space separated token of [*p, e), quotes removed. */
static bool token(const char **p, const char *e, const char **s, size_t *len)
{
    while (*p < e && pi_is_space(**p))
        (*p)++;
    if (*p >= e)
        return false;
    if (**p == '"' || **p == '\'') {
        char qc = **p;
        const char *a = ++*p;
        while (*p < e && **p != qc)
            (*p)++;
        *s = a;
        *len = (size_t)(*p - a);
        if (*p < e)
            (*p)++;
        return true;
    }
    const char *a = *p;
    while (*p < e && !pi_is_space(**p))
        (*p)++;
    *s = a;
    *len = (size_t)(*p - a);
    return true;
}

static int curl_line(struct pi_file *f, const struct line *l)
{
    const char *dom = NULL, *p = l->s, *e = l->s + l->len, *rest;
    size_t dlen = 0;
    if (domain_prefix(l, &dom, &dlen, &rest) && rest < e && pi_is_space(*rest))
        p = rest;
    else
        dom = NULL;
    const char *val = NULL, *t;
    size_t vlen = 0, tl;
    bool want = false;
    while (token(&p, e, &t, &tl)) {
        if (want || (tl >= 8 && memcmp(t, "sha256//", 8) == 0)) {
            if (val)
                return pi_fail(f, l->no, "two --pinnedpubkey values on one line");
            val = t;
            vlen = tl;
            want = false;
        } else if (tl == 14 && memcmp(t, "--pinnedpubkey", 14) == 0) {
            want = true;
        } else if (tl > 15 && memcmp(t, "--pinnedpubkey=", 15) == 0) {
            val = t + 15;
            vlen = tl - 15;
        } else if (!dom && tl > 8 && memcmp(t, "https://", 8) == 0) {
            const char *h = t + 8, *he = h;
            while (he < t + tl && *he != '/' && *he != ':' && *he != '?')
                he++;
            dom = h;
            dlen = (size_t)(he - h);
        }
    }
    if (!val)
        return pi_fail(f, l->no, "no sha256// value");
    if (vlen < 8 || memcmp(val, "sha256//", 8) != 0)
        return pi_fail(f, l->no, "--pinnedpubkey names a key file, not sha256// hashes; pin "
                                 "the file with `pinscope spki FILE`");
    struct pi_set *s = cmdline_set(f, l->no, dom, dlen, false);
    if (!s)
        return -1;
    const char *a = val, *ve = val + vlen;
    while (a < ve) {
        const char *b = memchr(a, ';', (size_t)(ve - a));
        if (!b)
            b = ve;
        if (pi_add_pin_text(f, l->no, s, a, (size_t)(b - a), "sha256//") < 0)
            return -1;
        a = b + 1;
    }
    return 0;
}

int pi_curl(struct pi_file *f, const char *buf, size_t len)
{
    return each_line(f, buf, len, curl_line, "no sha256// value");
}
