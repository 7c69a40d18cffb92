/*
 * collect.c - what the format readers share: messages naming file and
 * line, and the collection of pin sets and issuer sets they fill (see
 * pi_int.h).  pinimport.c detects the format, runs a reader, and hands
 * the collection to the policy.
 */
#include "pinimport/pi_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- messages ----------------------------------------------------------- */

const char *pi_quote(const char *s, size_t len, char out[48])
{
    size_t o = 0;
    for (size_t i = 0; i < len && o < 40; i++) {
        unsigned char c = (unsigned char)s[i];
        out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (len > 40) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

const char *pi_file_name(const struct pi_file *f, char out[128])
{
    size_t o = 0;
    for (const char *c = f->name; *c && o < 120; c++)
        out[o++] = ((unsigned char)*c >= 0x20 && (unsigned char)*c < 0x7f) ? *c : '?';
    out[o] = '\0';
    return out;
}

static int vmsg(char *buf, size_t buflen, const char *name, unsigned line, const char *fmt,
                va_list ap)
{
    if (!buf || buflen == 0)
        return -1;
    int n = line ? snprintf(buf, buflen, "%s:%u: ", name, line)
                 : snprintf(buf, buflen, "%s: ", name);
    if (n >= 0 && (size_t)n < buflen)
        vsnprintf(buf + n, buflen - (size_t)n, fmt, ap);
    /* One line, and no terminal control bytes from the input. */
    for (char *c = buf; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    return -1;
}

int pi_fail(struct pi_file *f, unsigned line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(f->err, f->errlen, f->name, line, fmt, ap);
    va_end(ap);
    return -1;
}

void pi_warn(struct pi_file *f, unsigned line, const char *fmt, ...)
{
    if (!f->pi->warn)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vmsg(buf, sizeof(buf), f->name, line, fmt, ap);
    va_end(ap);
    f->pi->warn(f->pi->warn_ctx, buf);
}

bool pi_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool pi_caseeq(const char *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    if (n != len)
        return false;
    for (size_t i = 0; i < n; i++) {
        char a = s[i], b = lit[i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z')
            b = (char)(b - 'A' + 'a');
        if (a != b)
            return false;
    }
    return true;
}

/* ---- the collection ----------------------------------------------------- */

struct pinimport *pinimport_new(const char *domain, pinimport_warn_fn warn, void *warn_ctx)
{
    struct pinimport *pi = calloc(1, sizeof(*pi));
    if (!pi)
        return NULL;
    if (domain && !policy_domain_norm(domain, strlen(domain), pi->domain)) {
        free(pi);
        return NULL;
    }
    pi->warn = warn;
    pi->warn_ctx = warn_ctx;
    return pi;
}

void pinimport_free(struct pinimport *pi)
{
    if (!pi)
        return;
    free(pi->sets);
    free(pi->iss);
    free(pi->names);
    free(pi);
}

static bool grow(void **arr, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return true;
    size_t nc = *cap ? *cap * 2 : 16;
    void *na = realloc(*arr, nc * sz);
    if (!na)
        return false;
    *arr = na;
    *cap = nc;
    return true;
}

static void set_where(struct pi_file *f, unsigned line, char out[PI_WHERE])
{
    char q[128];
    if (line)
        snprintf(out, PI_WHERE, "%s:%u", pi_file_name(f, q), line);
    else
        snprintf(out, PI_WHERE, "%s", pi_file_name(f, q));
}

struct pi_set *pi_set_get(struct pi_file *f, unsigned line, const char *s, size_t len, bool sub,
                          bool extend)
{
    struct pinimport *pi = f->pi;
    char dom[POLICY_MAX_DOMAIN + 1], q[48];
    if (!policy_domain_norm(s, len, dom)) {
        pi_fail(f, line, "\"%s\": not a domain name", pi_quote(s, len, q));
        return NULL;
    }
    for (size_t i = 0; i < pi->n_sets; i++) {
        struct pi_set *e = &pi->sets[i];
        if (strcmp(e->domain, dom) != 0)
            continue;
        if (!extend) {
            pi_fail(f, line, "%s: a second pin set for this domain (the first is at %s)", dom,
                    e->where);
            return NULL;
        }
        if (e->sub != sub) {
            pi_fail(f, line,
                    "%s: pinned both with and without its subdomains (at %s); pinscope keeps "
                    "one pin set per name",
                    dom, e->where);
            return NULL;
        }
        return e;
    }
    if (pi->n_sets >= CFG_PINIMPORT_SETS_MAX) {
        pi_fail(f, line, "more than %d pin sets", CFG_PINIMPORT_SETS_MAX);
        return NULL;
    }
    if (!grow((void **)&pi->sets, &pi->cap_sets, pi->n_sets, sizeof(*pi->sets))) {
        pi_fail(f, line, "out of memory");
        return NULL;
    }
    struct pi_set *e = &pi->sets[pi->n_sets++];
    memset(e, 0, sizeof(*e));
    memcpy(e->domain, dom, sizeof(dom));
    e->sub = sub;
    e->what = f->what;
    set_where(f, line, e->where);
    return e;
}

int pi_add_pin(struct pi_file *f, unsigned line, struct pi_set *set,
               const uint8_t pin[POLICY_SPKI_LEN])
{
    for (size_t i = 0; i < set->n; i++)
        if (memcmp(set->pins[i], pin, POLICY_SPKI_LEN) == 0)
            return 0;
    if (set->n >= CFG_PINIMPORT_PINS_MAX)
        return pi_fail(f, line, "%s: more than %d pins", set->domain, CFG_PINIMPORT_PINS_MAX);
    memcpy(set->pins[set->n++], pin, POLICY_SPKI_LEN);
    return 0;
}

static int b64v(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Bytes t[0..len) of base64 decode to, -1 when it is not base64. */
static long b64_len(const char *t, size_t len)
{
    size_t pad = 0;
    while (pad < 2 && len > pad && t[len - 1 - pad] == '=')
        pad++;
    if (len % 4 != 0)
        return -1;
    for (size_t i = 0; i < len - pad; i++)
        if (b64v(t[i]) < 0)
            return -1;
    return (long)(len / 4 * 3 - pad);
}

int pi_add_pin_text(struct pi_file *f, unsigned line, struct pi_set *set, const char *t,
                    size_t len, const char *prefix)
{
    char q[48];
    if (prefix) {
        size_t pl = strlen(prefix);
        if (len < pl || memcmp(t, prefix, pl) != 0) {
            if ((len >= 5 && memcmp(t, "sha1/", 5) == 0) || (len >= 6 && memcmp(t, "sha1//", 6) == 0))
                return pi_fail(f, line, "\"%s\": only SHA-256 pins", pi_quote(t, len, q));
            return pi_fail(f, line, "\"%s\": expected %sBASE64", pi_quote(t, len, q), prefix);
        }
        t += pl;
        len -= pl;
    }
    long n = b64_len(t, len);
    if (n < 0)
        return pi_fail(f, line, "pin \"%s\": not base64", pi_quote(t, len, q));
    if (n != POLICY_SPKI_LEN)
        return pi_fail(f, line, "pin \"%s\": %ld bytes, not the 32 of a SHA-256",
                       pi_quote(t, len, q), n);
    char buf[45];
    memcpy(buf, t, 44);
    buf[44] = '\0';
    uint8_t pin[POLICY_SPKI_LEN];
    if (!policy_pin_parse(buf, pin))
        return pi_fail(f, line, "pin \"%s\": not canonical base64", pi_quote(t, len, q));
    return pi_add_pin(f, line, set, pin);
}

struct pi_iss *pi_iss_get(struct pi_file *f, unsigned line, const char *dom)
{
    struct pinimport *pi = f->pi;
    for (size_t i = 0; i < pi->n_iss; i++)
        if (strcmp(pi->iss[i].domain, dom) == 0)
            return &pi->iss[i];
    if (pi->n_iss >= CFG_PINIMPORT_SETS_MAX) {
        pi_fail(f, line, "more than %d domains with CAA records", CFG_PINIMPORT_SETS_MAX);
        return NULL;
    }
    if (!grow((void **)&pi->iss, &pi->cap_iss, pi->n_iss, sizeof(*pi->iss))) {
        pi_fail(f, line, "out of memory");
        return NULL;
    }
    struct pi_iss *e = &pi->iss[pi->n_iss++];
    memset(e, 0, sizeof(*e));
    snprintf(e->domain, sizeof(e->domain), "%s", dom);
    set_where(f, line, e->where);
    return e;
}

int pi_name_add(struct pi_file *f, unsigned line, const char *name, size_t len,
                const uint8_t *pin)
{
    struct pinimport *pi = f->pi;
    char q[48];
    if (len == 0 || len >= sizeof(pi->names[0].name))
        return pi_fail(f, line, "\"%s\": not a pin name", pi_quote(name, len, q));
    for (size_t i = 0; i < pi->n_names; i++)
        if (strlen(pi->names[i].name) == len && memcmp(pi->names[i].name, name, len) == 0)
            return pi_fail(f, line, "%s: defined twice", pi_quote(name, len, q));
    if (pi->n_names >= CFG_PINIMPORT_NAMES_MAX)
        return pi_fail(f, line, "more than %d pin names", CFG_PINIMPORT_NAMES_MAX);
    if (!grow((void **)&pi->names, &pi->cap_names, pi->n_names, sizeof(*pi->names)))
        return pi_fail(f, line, "out of memory");
    struct pi_name *e = &pi->names[pi->n_names++];
    memset(e, 0, sizeof(*e));
    memcpy(e->name, name, len);
    e->cert_only = pin == NULL;
    if (pin)
        memcpy(e->pin, pin, POLICY_SPKI_LEN);
    return 0;
}

const struct pi_name *pi_name_find(const struct pinimport *pi, const char *name)
{
    for (size_t i = 0; i < pi->n_names; i++)
        if (strcmp(pi->names[i].name, name) == 0)
            return &pi->names[i];
    return NULL;
}

int pinimport_backup(struct pinimport *pi, const char *pin)
{
    uint8_t v[POLICY_SPKI_LEN];
    if (!pi || !policy_pin_parse(pin, v) || pi->n_backup >= CFG_PINIMPORT_PINS_MAX)
        return -1;
    for (size_t i = 0; i < pi->n_backup; i++)
        if (memcmp(pi->backup[i], v, POLICY_SPKI_LEN) == 0)
            return 0;
    memcpy(pi->backup[pi->n_backup++], v, POLICY_SPKI_LEN);
    return 0;
}
