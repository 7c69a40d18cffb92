/*
 * pinimport.c - collecting imported pin sets, format detection, and
 * handing the result to the policy (see pinimport.h).
 */
#include "pinimport/pi_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const fmt_names[PINIMPORT_NFORMATS] = {
    [PINIMPORT_AUTO] = "auto",         [PINIMPORT_ANDROID] = "android",
    [PINIMPORT_OKHTTP] = "okhttp",     [PINIMPORT_PLIST] = "plist",
    [PINIMPORT_HPKP] = "hpkp",         [PINIMPORT_CURL] = "curl",
    [PINIMPORT_CHROMIUM] = "chromium", [PINIMPORT_CHROMIUM_PINS] = "chromium-pins",
    [PINIMPORT_DNS] = "dns",
};

static const char *const fmt_what[PINIMPORT_NFORMATS] = {
    [PINIMPORT_ANDROID] = "Android network security config",
    [PINIMPORT_OKHTTP] = "OkHttp CertificatePinner",
    [PINIMPORT_PLIST] = "iOS/TrustKit plist",
    [PINIMPORT_HPKP] = "HPKP header",
    [PINIMPORT_CURL] = "curl --pinnedpubkey",
    [PINIMPORT_CHROMIUM] = "Chromium static pins",
    [PINIMPORT_CHROMIUM_PINS] = "Chromium .pins file",
    [PINIMPORT_DNS] = "DNS TLSA/CAA records",
};

const char *pinimport_format_name(enum pinimport_format f)
{
    return (unsigned)f < PINIMPORT_NFORMATS ? fmt_names[f] : "?";
}

enum pinimport_format pinimport_format_parse(const char *s)
{
    for (int i = 1; i < PINIMPORT_NFORMATS; i++)
        if (strcmp(s, fmt_names[i]) == 0)
            return (enum pinimport_format)i;
    if (strcmp(s, "trustkit") == 0 || strcmp(s, "ios") == 0)
        return PINIMPORT_PLIST;
    if (strcmp(s, "tlsa") == 0 || strcmp(s, "caa") == 0)
        return PINIMPORT_DNS;
    return PINIMPORT_AUTO;
}

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

/* ---- detection ---------------------------------------------------------- */

static const char *skip_space(const char *p, const char *end)
{
    while (p < end && pi_is_space(*p))
        p++;
    return p;
}

static bool has(const char *buf, size_t len, const char *needle, bool nocase)
{
    size_t n = strlen(needle);
    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (nocase ? pi_caseeq(buf + i, n, needle) : memcmp(buf + i, needle, n) == 0)
            return true;
    return false;
}

/* The name of the first element of an XML document (after the
 * declaration, comments and a DOCTYPE), copied into out. */
static bool xml_first_element(const char *p, const char *end, char *out, size_t outlen)
{
    for (;;) {
        p = skip_space(p, end);
        if (p >= end || *p != '<')
            return false;
        if (end - p >= 2 && (p[1] == '?' || p[1] == '!')) {
            const char *close = memchr(p, '>', (size_t)(end - p));
            if (!close)
                return false;
            if (end - p >= 4 && memcmp(p, "<!--", 4) == 0) {
                const char *c = p + 4;
                while (c + 3 <= end && memcmp(c, "-->", 3) != 0)
                    c++;
                if (c + 3 > end)
                    return false;
                close = c + 2;
            }
            p = close + 1;
            continue;
        }
        p++;
        size_t n = 0;
        while (p < end && !pi_is_space(*p) && *p != '>' && *p != '/' && n + 1 < outlen)
            out[n++] = *p++;
        out[n] = '\0';
        return n > 0;
    }
}

/* A Chromium .pins file: its first line that is not blank or a comment is
 * a bare name, and the next such line a sha256/ hash or a PEM block. */
static bool looks_chromium_pins(const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len;
    int seen = 0;
    while (p < end && seen < 2) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *a = skip_space(p, le), *b = le;
        while (b > a && pi_is_space(b[-1]))
            b--;
        if (a < b && *a != '#') {
            if (seen == 0) {
                for (const char *c = a; c < b; c++)
                    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                          (*c >= '0' && *c <= '9') || *c == '_'))
                        return false;
            } else {
                return (b - a >= 7 && memcmp(a, "sha256/", 7) == 0) ||
                       (b - a >= 10 && memcmp(a, "-----BEGIN", 10) == 0);
            }
            seen++;
        }
        p = le + 1;
    }
    return false;
}

/* A zone line of type TLSA or CAA somewhere in the text. */
static bool looks_dns(const char *buf, size_t len)
{
    static const char *const types[] = {" TLSA ", "\tTLSA ", " TLSA\t", "\tTLSA\t",
                                        " CAA ",  "\tCAA ",  " CAA\t",  "\tCAA\t"};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (has(buf, len, types[i], false))
            return true;
    return false;
}

enum pinimport_format pinimport_detect(const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len;
    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3;
    p = skip_space(p, end);
    if (p < end && *p == '<') {
        char root[64];
        if (!xml_first_element(p, end, root, sizeof(root)))
            return PINIMPORT_AUTO;
        if (strcmp(root, "network-security-config") == 0)
            return PINIMPORT_ANDROID;
        if (strcmp(root, "plist") == 0)
            return PINIMPORT_PLIST;
        return PINIMPORT_AUTO;
    }
    if (p < end && *p == '{')
        return PINIMPORT_CHROMIUM;
    if (end - p >= 2 && p[0] == '/' && p[1] == '/' &&
        (has(p, (size_t)(end - p), "\"pinsets\"", false) ||
         has(p, (size_t)(end - p), "\"entries\"", false)))
        return PINIMPORT_CHROMIUM;
    size_t n = (size_t)(end - p);
    if (has(p, n, "Public-Key-Pins", true) || has(p, n, "pin-sha256=", true))
        return PINIMPORT_HPKP;
    if (has(p, n, "sha256//", false))
        return PINIMPORT_CURL;
    if (looks_dns(p, n))
        return PINIMPORT_DNS;
    if (looks_chromium_pins(p, n))
        return PINIMPORT_CHROMIUM_PINS;
    if (has(p, n, "sha256/", false) || has(p, n, "sha1/", false))
        return PINIMPORT_OKHTTP;
    return PINIMPORT_AUTO;
}

/* ---- one file ----------------------------------------------------------- */

int pinimport_buffer(struct pinimport *pi, const char *name, const char *buf, size_t len,
                     enum pinimport_format fmt, char *err, size_t errlen)
{
    struct pi_file f = {.pi = pi, .name = name ? name : "-", .err = err, .errlen = errlen};
    if (err && errlen)
        err[0] = '\0';
    if (!pi || (!buf && len))
        return pi_fail(&f, 0, "no input");
    if (len > CFG_PINIMPORT_FILE_MAX)
        return pi_fail(&f, 0, "larger than %u bytes", CFG_PINIMPORT_FILE_MAX);
    if (memchr(buf, '\0', len))
        return pi_fail(&f, 0, "a NUL byte: not a text file");
    if (fmt == PINIMPORT_AUTO)
        fmt = pinimport_detect(buf, len);
    if (fmt <= PINIMPORT_AUTO || fmt >= PINIMPORT_NFORMATS)
        return pi_fail(&f, 0,
                       "not a pin format pinscope reads (android, okhttp, plist, hpkp, curl, "
                       "chromium, chromium-pins, dns); name one with --format");
    f.what = fmt_what[fmt];
    if (fmt == PINIMPORT_ANDROID || fmt == PINIMPORT_PLIST) {
        struct xml_doc *d = xml_parse(&f, buf, len);
        if (!d)
            return -1;
        int rc = fmt == PINIMPORT_ANDROID ? pi_android(&f, xml_root(d)) : pi_plist(&f, xml_root(d));
        xml_free(d);
        return rc;
    }
    switch (fmt) {
    case PINIMPORT_OKHTTP: return pi_okhttp(&f, buf, len);
    case PINIMPORT_HPKP: return pi_hpkp(&f, buf, len);
    case PINIMPORT_CURL: return pi_curl(&f, buf, len);
    case PINIMPORT_CHROMIUM: return pi_chromium(&f, buf, len);
    case PINIMPORT_CHROMIUM_PINS: return pi_chromium_pins(&f, buf, len);
    case PINIMPORT_DNS: return pi_dns(&f, buf, len);
    default: return pi_fail(&f, 0, "unknown format");
    }
}

/* ---- into the policy ---------------------------------------------------- */

static bool is_backup(const struct pinimport *pi, const uint8_t pin[POLICY_SPKI_LEN], bool *used)
{
    for (size_t i = 0; i < pi->n_backup; i++)
        if (memcmp(pi->backup[i], pin, POLICY_SPKI_LEN) == 0) {
            used[i] = true;
            return true;
        }
    return false;
}

static int finish_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int finish_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void warn_msg(const struct pinimport *pi, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void warn_msg(const struct pinimport *pi, const char *fmt, ...)
{
    if (!pi->warn)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    pi->warn(pi->warn_ctx, buf);
}

static int add_sets(struct pinimport *pi, struct policy *p, struct pinimport_stats *st,
                    char *err, size_t errlen)
{
    bool used[CFG_PINIMPORT_PINS_MAX] = {false};
    for (size_t i = 0; i < pi->n_sets; i++) {
        struct pi_set *e = &pi->sets[i];
        if (e->n == 0)
            continue;
        uint8_t prim[CFG_PINIMPORT_PINS_MAX][POLICY_SPKI_LEN], back[CFG_PINIMPORT_PINS_MAX][POLICY_SPKI_LEN];
        size_t np = 0, nb = 0;
        for (size_t k = 0; k < e->n; k++) {
            if (is_backup(pi, e->pins[k], used))
                memcpy(back[nb++], e->pins[k], POLICY_SPKI_LEN);
            else
                memcpy(prim[np++], e->pins[k], POLICY_SPKI_LEN);
        }
        /* --backup with --domain: the spare key is added to that set. */
        if (pi->domain[0] && strcmp(pi->domain, e->domain) == 0)
            for (size_t k = 0; k < pi->n_backup && nb < CFG_PINIMPORT_PINS_MAX; k++)
                if (!used[k]) {
                    used[k] = true;
                    memcpy(back[nb++], pi->backup[k], POLICY_SPKI_LEN);
                }
        if (np == 0)
            return finish_fail(err, errlen,
                               "%s: every pin is a --backup pin; a pin set needs a pin in use",
                               e->domain);
        char comment[256];
        snprintf(comment, sizeof(comment), "imported from %s (%s)", e->where, e->what);
        struct policy_pin_set s = {.domain = e->domain, .include_subdomains = e->sub,
                                   .pins = {prim, np}, .backup_pins = {back, nb},
                                   .has_expires = e->has_exp, .expires = e->exp,
                                   .comment = comment};
        int rc = policy_add_pin_set(p, &s);
        if (rc == 1) {
            st->kept++;
            warn_msg(pi, "%s: the policy already has a pin set for %s; it is kept, the "
                         "imported one is not added", e->where, e->domain);
        } else if (rc == POLICY_ECAP) {
            return finish_fail(err, errlen, "%s: the policy's pin sets are full", e->domain);
        } else if (rc < 0) {
            return finish_fail(err, errlen, "%s: cannot add this pin set (out of memory?)",
                               e->domain);
        } else {
            st->pin_sets++;
        }
    }
    for (size_t k = 0; k < pi->n_backup; k++)
        if (!used[k]) {
            char b64[45];
            policy_pin_format(pi->backup[k], b64);
            return finish_fail(err, errlen, "--backup %s: in no imported pin set", b64);
        }
    return 0;
}

static int add_issuers(struct pinimport *pi, struct policy *p, struct pinimport_stats *st,
                       char *err, size_t errlen)
{
    for (size_t i = 0; i < pi->n_iss; i++) {
        struct pi_iss *e = &pi->iss[i];
        if (e->incomplete || e->n_cas == 0)
            continue;
        char *names[POLICY_MAX_VALUES];
        size_t n = 0;
        char cas[160] = "";
        for (size_t c = 0; c < e->n_cas; c++) {
            const char *const *cn = e->cas[c]->cns;
            size_t l = strlen(cas);
            snprintf(cas + l, sizeof(cas) - l, "%s%s", c ? ", " : "", e->cas[c]->domain);
            for (; cn && *cn && n < POLICY_MAX_VALUES; cn++) {
                bool dup = false;
                for (size_t k = 0; k < n && !dup; k++)
                    dup = strcmp(names[k], *cn) == 0;
                if (!dup)
                    names[n++] = (char *)*cn;
            }
        }
        char comment[320];
        snprintf(comment, sizeof(comment),
                 "imported from %s (CAA issue: %s); issuing CA names from pinscope's CAA table",
                 e->where, cas);
        struct policy_issuer_set s = {.domain = e->domain, .include_subdomains = true,
                                      .issuers = {names, n}, .comment = comment};
        int rc = policy_add_issuer_set(p, &s);
        if (rc == 1) {
            st->kept++;
            warn_msg(pi, "%s: the policy already has expected issuers for %s; they are kept",
                     e->where, e->domain);
        } else if (rc < 0) {
            return finish_fail(err, errlen, "%s: cannot add the expected issuers", e->domain);
        } else {
            st->issuer_sets++;
        }
    }
    return 0;
}

int pinimport_finish(struct pinimport *pi, struct policy *p, struct pinimport_stats *st,
                     char *err, size_t errlen)
{
    struct pinimport_stats local;
    if (!st)
        st = &local;
    memset(st, 0, sizeof(*st));
    if (!pi || !p)
        return finish_fail(err, errlen, "%s", "no import");
    if (add_sets(pi, p, st, err, errlen) < 0 || add_issuers(pi, p, st, err, errlen) < 0)
        return -1;
    return 0;
}
