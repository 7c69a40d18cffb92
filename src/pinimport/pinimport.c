/*
 * pinimport.c - format detection, one file through its reader, and the
 * collection (collect.c) handed to the policy (see pinimport.h).
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
