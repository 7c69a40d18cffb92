/*
 * syntax.c - the syntax of policy values (see policy_int.h): domains, pins,
 * CIDRs, dates, TLS versions, JA4/JA4S/JA3 shapes, issuer DNs, and the small
 * value lists entries hold.
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

#include "util/civil.h"

/* ---- small helpers ------------------------------------------------------ */

char *pol_dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

char pol_ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

bool pol_ascii_caseeq(const char *a, const char *b)
{
    while (*a && pol_ascii_lower(*a) == pol_ascii_lower(*b)) {
        a++;
        b++;
    }
    return pol_ascii_lower(*a) == pol_ascii_lower(*b);
}

bool pol_has_ctl(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            return true;
    }
    return false;
}

/* Room for one more element of size `sz` in arr (n used, *cap): returns
 * the array to use from now on (possibly moved), or NULL with arr and
 * *cap unchanged. */
void *pol_grow(void *arr, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return arr;
    size_t ncap = *cap ? *cap * 2 : 4;
    void *na = realloc(arr, ncap * sz);
    if (na)
        *cap = ncap;
    return na;
}

/* Lists grow one element at a time with exact-size realloc: they are short
 * (capped) and built once. */
int pol_strs_push(struct policy_strs *s, const char *v)
{
    char *d = pol_dup_str(v);
    if (!d)
        return POLICY_ENOMEM;
    char **nv = realloc(s->v, (s->n + 1) * sizeof(*nv));
    if (!nv) {
        free(d);
        return POLICY_ENOMEM;
    }
    nv[s->n++] = d;
    s->v = nv;
    return 0;
}

ssize_t pol_strs_find(const struct policy_strs *s, const char *v)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], v) == 0)
            return (ssize_t)i;
    return -1;
}

void pol_strs_free(struct policy_strs *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

int pol_strs_copy(struct policy_strs *d, const struct policy_strs *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (pol_strs_push(d, s->v[i]) < 0)
            return POLICY_ENOMEM;
    return 0;
}

int pol_pins_push(struct policy_pins *s, const uint8_t v[POLICY_SPKI_LEN])
{
    uint8_t(*nv)[POLICY_SPKI_LEN] = realloc(s->v, (s->n + 1) * sizeof(*nv));
    if (!nv)
        return POLICY_ENOMEM;
    memcpy(nv[s->n++], v, POLICY_SPKI_LEN);
    s->v = nv;
    return 0;
}

ssize_t pol_pins_find(const struct policy_pins *s, const uint8_t v[POLICY_SPKI_LEN])
{
    for (size_t i = 0; i < s->n; i++)
        if (memcmp(s->v[i], v, POLICY_SPKI_LEN) == 0)
            return (ssize_t)i;
    return -1;
}

void pol_pins_free(struct policy_pins *s)
{
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

int pol_pins_copy(struct policy_pins *d, const struct policy_pins *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (pol_pins_push(d, s->v[i]) < 0)
            return POLICY_ENOMEM;
    return 0;
}

int pol_nets_push(struct policy_nets *s, const struct policy_cidr *c)
{
    struct policy_cidr *nv = realloc(s->v, (s->n + 1) * sizeof(*nv));
    if (!nv)
        return POLICY_ENOMEM;
    nv[s->n++] = *c;
    s->v = nv;
    return 0;
}

bool pol_cidr_eq(const struct policy_cidr *a, const struct policy_cidr *b)
{
    return a->ver == b->ver && a->prefix == b->prefix &&
           memcmp(a->addr, b->addr, a->ver == 4 ? 4 : 16) == 0;
}

ssize_t pol_nets_find(const struct policy_nets *s, const struct policy_cidr *c)
{
    for (size_t i = 0; i < s->n; i++)
        if (pol_cidr_eq(&s->v[i], c))
            return (ssize_t)i;
    return -1;
}

void pol_nets_free(struct policy_nets *s)
{
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

int pol_nets_copy(struct policy_nets *d, const struct policy_nets *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (pol_nets_push(d, &s->v[i]) < 0)
            return POLICY_ENOMEM;
    return 0;
}

/* ---- value syntax ------------------------------------------------------- */

/* Normalise a domain name of len bytes into out (POLICY_MAX_DOMAIN + 1
 * bytes): ASCII lower-case, one trailing dot dropped.  Labels are 1..63 of
 * [a-z0-9_-], not starting or ending with '-'; the last label is not all
 * digits (that is an IPv4 address).  allow_wild keeps a leading "*.".
 * Returns the length, 0 if the name is not valid. */
size_t pol_domain_norm(const char *s, size_t len, char *out, bool allow_wild)
{
    if (len > 0 && s[len - 1] == '.')
        len--;
    if (len == 0 || len > POLICY_MAX_DOMAIN)
        return 0;
    size_t i = 0;
    if (allow_wild && len > 2 && s[0] == '*' && s[1] == '.') {
        out[0] = '*';
        out[1] = '.';
        i = 2;
    }
    size_t lab = 0;
    bool digits = true;
    for (; i < len; i++) {
        char c = pol_ascii_lower(s[i]);
        if (c == '.') {
            if (lab == 0 || out[i - 1] == '-')
                return 0;
            out[i] = '.';
            lab = 0;
            digits = true;
            continue;
        }
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && c != '-' && c != '_')
            return 0;
        if (c == '-' && lab == 0)
            return 0;
        if (!(c >= '0' && c <= '9'))
            digits = false;
        if (++lab > 63)
            return 0;
        out[i] = c;
    }
    if (lab == 0 || out[len - 1] == '-' || digits)
        return 0;
    out[len] = '\0';
    return len;
}

int pol_b64_val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* "sha256/" optional, then exactly 44 characters of standard base64 with
 * one '=' of padding and zero trailing bits: 32 bytes.  Decoded by hand so
 * that whitespace, missing padding and non-canonical encodings fail. */
bool pol_pin_parse(const char *s, uint8_t out[POLICY_SPKI_LEN])
{
    if (strncmp(s, "sha256/", 7) == 0)
        s += 7;
    if (strlen(s) != 44 || s[43] != '=')
        return false;
    int v[43];
    for (int i = 0; i < 43; i++)
        if ((v[i] = pol_b64_val(s[i])) < 0)
            return false;
    int o = 0;
    for (int i = 0; i < 40; i += 4) {
        uint32_t w = (uint32_t)v[i] << 18 | (uint32_t)v[i + 1] << 12 | (uint32_t)v[i + 2] << 6 |
                     (uint32_t)v[i + 3];
        out[o++] = (uint8_t)(w >> 16);
        out[o++] = (uint8_t)(w >> 8);
        out[o++] = (uint8_t)w;
    }
    uint32_t w = (uint32_t)v[40] << 12 | (uint32_t)v[41] << 6 | (uint32_t)v[42];
    if (w & 3)
        return false;
    out[o++] = (uint8_t)(w >> 10);
    out[o] = (uint8_t)(w >> 2);
    return true;
}

void pol_pin_format(const uint8_t in[POLICY_SPKI_LEN], char out[45])
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int o = 0;
    for (int i = 0; i < 30; i += 3) {
        uint32_t w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = tab[(w >> 18) & 63];
        out[o++] = tab[(w >> 12) & 63];
        out[o++] = tab[(w >> 6) & 63];
        out[o++] = tab[w & 63];
    }
    uint32_t w = (uint32_t)in[30] << 16 | (uint32_t)in[31] << 8;
    out[o++] = tab[(w >> 18) & 63];
    out[o++] = tab[(w >> 12) & 63];
    out[o++] = tab[(w >> 6) & 63];
    out[o++] = '=';
    out[o] = '\0';
}



/* "ADDR" or "ADDR/PREFIX", IPv4 dotted quad or IPv6 (inet_pton).  A plain
 * address is a full-length prefix.  Host bits must be zero. */
enum cidr_res pol_cidr_parse(const char *s, struct policy_cidr *c)
{
    char a[64];
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    if (alen == 0 || alen >= sizeof(a))
        return CIDR_BAD;
    memcpy(a, s, alen);
    a[alen] = '\0';
    memset(c, 0, sizeof(*c));
    if (inet_pton(AF_INET, a, c->addr) == 1)
        c->ver = 4;
    else if (inet_pton(AF_INET6, a, c->addr) == 1)
        c->ver = 6;
    else
        return CIDR_BAD;
    unsigned max = c->ver == 4 ? 32 : 128;
    unsigned pfx = max;
    if (slash) {
        const char *d = slash + 1;
        size_t dl = strlen(d);
        if (dl == 0 || dl > 3)
            return CIDR_BAD;
        pfx = 0;
        for (size_t i = 0; i < dl; i++) {
            if (d[i] < '0' || d[i] > '9')
                return CIDR_BAD;
            pfx = pfx * 10 + (unsigned)(d[i] - '0');
        }
        if (pfx > max || (dl > 1 && d[0] == '0'))
            return CIDR_BAD;
    }
    c->prefix = (uint8_t)pfx;
    for (unsigned bit = pfx; bit < max; bit++)
        if (c->addr[bit / 8] & (0x80u >> (bit % 8)))
            return CIDR_HOSTBITS;
    return CIDR_OK;
}

void pol_cidr_format(const struct policy_cidr *c, char out[64])
{
    char a[INET6_ADDRSTRLEN];
    inet_ntop(c->ver == 4 ? AF_INET : AF_INET6, c->addr, a, sizeof(a));
    if (c->prefix == (c->ver == 4 ? 32 : 128))
        snprintf(out, 64, "%s", a);
    else
        snprintf(out, 64, "%s/%u", a, (unsigned)c->prefix);
}

bool pol_cidr_contains(const struct policy_cidr *c, const uint8_t *ip, int ver)
{
    if (!ip || ver != c->ver)
        return false;
    unsigned full = c->prefix / 8, rest = c->prefix % 8;
    if (memcmp(c->addr, ip, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (ip[full] & mask) == c->addr[full];
}

/* "YYYY-MM-DD", 1970-01-01 .. 9999-12-31 -> epoch seconds at 00:00 UTC. */
bool pol_date_parse(const char *s, int64_t *out)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int64_t y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    unsigned m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
    unsigned d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || m < 1 || m > 12 || d < 1)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[m - 1] + (m == 2 && leap))
        return false;
    *out = civil_to_days(y, m, d) * POLICY_DAY;
    return true;
}

void pol_date_format(int64_t t, char out[32])
{
    int64_t y;
    unsigned m, d;
    civil_from_days(t / POLICY_DAY, &y, &m, &d);
    snprintf(out, 32, "%04" PRId64 "-%02u-%02u", y, m, d);
}

/* Start of the UTC day of `t`, clamped to the range dates can be written in. */
int64_t pol_day_of(int64_t t)
{
    if (t < 0)
        return 0;
    if (t > POLICY_LAST_DAY)
        return POLICY_LAST_DAY;
    return t - t % POLICY_DAY;
}

static const struct {
    const char *name;
    const char *canonical;
    uint16_t code;
} policy_versions[] = {
    {"SSLv3", "SSLv3", 0x0300},     {"TLSv1", "TLSv1", 0x0301},
    {"TLS 1.0", "TLSv1", 0x0301},   {"TLS 1.1", "TLS 1.1", 0x0302},
    {"TLS 1.2", "TLS 1.2", 0x0303}, {"TLS 1.3", "TLS 1.3", 0x0304},
};

size_t pol_version_index(const char *s)
{
    size_t n = sizeof(policy_versions) / sizeof(policy_versions[0]);
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(s, policy_versions[i].name) == 0)
            return i;
    return n;
}

const char *policy_version_canonical(const char *s)
{
    size_t i = pol_version_index(s);
    return i < sizeof(policy_versions) / sizeof(policy_versions[0]) ? policy_versions[i].canonical
                                                                    : NULL;
}

uint16_t pol_version_code(const char *s)
{
    size_t i = pol_version_index(s);
    return i < sizeof(policy_versions) / sizeof(policy_versions[0]) ? policy_versions[i].code : 0;
}

bool pol_is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool pol_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Copy n hex digits from s to out, lower-cased; false if one is not hex. */
bool pol_hex_lower(const char *s, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        char c = pol_ascii_lower(s[i]);
        if (!pol_is_digit(c) && !(c >= 'a' && c <= 'f'))
            return false;
        out[i] = c;
    }
    return true;
}

bool pol_proto_ok(char c)
{
    return c == 't' || c == 'q' || c == 'd';
}

/* JA4 (FoxIO): a_b_c, a = proto[tqd] version(2) sni[di] ciphers(2 digits)
 * extensions(2 digits) alpn(2 alnum); b, c = 12 hex each. */
bool pol_ja4_norm(const char *s, char *out)
{
    if (strlen(s) != 36 || s[10] != '_' || s[23] != '_')
        return false;
    if (!pol_proto_ok(s[0]) || !pol_is_alnum(s[1]) || !pol_is_alnum(s[2]) || (s[3] != 'd' && s[3] != 'i') ||
        !pol_is_digit(s[4]) || !pol_is_digit(s[5]) || !pol_is_digit(s[6]) || !pol_is_digit(s[7]) ||
        !pol_is_alnum(s[8]) || !pol_is_alnum(s[9]))
        return false;
    memcpy(out, s, 11);
    if (!pol_hex_lower(s + 11, 12, out + 11) || !pol_hex_lower(s + 24, 12, out + 24))
        return false;
    out[23] = '_';
    out[36] = '\0';
    return true;
}

/* JA4S: a_b_c, a = proto version(2) extensions(2 digits) alpn(2 alnum);
 * b = cipher (4 hex); c = 12 hex. */
bool pol_ja4s_norm(const char *s, char *out)
{
    if (strlen(s) != 25 || s[7] != '_' || s[12] != '_')
        return false;
    if (!pol_proto_ok(s[0]) || !pol_is_alnum(s[1]) || !pol_is_alnum(s[2]) || !pol_is_digit(s[3]) ||
        !pol_is_digit(s[4]) || !pol_is_alnum(s[5]) || !pol_is_alnum(s[6]))
        return false;
    memcpy(out, s, 8);
    if (!pol_hex_lower(s + 8, 4, out + 8) || !pol_hex_lower(s + 13, 12, out + 13))
        return false;
    out[12] = '_';
    out[25] = '\0';
    return true;
}

bool pol_md5_norm(const char *s, char *out)
{
    if (strlen(s) != 32 || !pol_hex_lower(s, 32, out))
        return false;
    out[32] = '\0';
    return true;
}

/* An issuer entry: 1..POLICY_MAX_ISSUER bytes, no control characters.  If
 * it contains '=' it is a DN and must start with an attribute type
 * ([A-Za-z0-9.-]+ then '='). */
bool pol_issuer_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > POLICY_MAX_ISSUER || pol_has_ctl(s))
        return false;
    const char *eq = strchr(s, '=');
    if (!eq)
        return true;
    if (eq == s)
        return false;
    for (const char *c = s; c < eq; c++)
        if (!pol_is_alnum(*c) && *c != '.' && *c != '-')
            return false;
    return true;
}

/* DN text for comparison: ASCII lower-case, spaces around unescaped ',',
 * '+' and '=' dropped.  Returns false if it does not fit. */
bool pol_dn_norm(const char *s, char *out, size_t outlen)
{
    size_t o = 0, keep = 0; /* keep: output length that trailing-space trimming may not cut */
    bool skip = true;       /* skip spaces (start, or after a separator) */
    for (; *s; s++) {
        char c = *s;
        if (o + 2 >= outlen)
            return false;
        if (c == '\\' && s[1]) {
            out[o++] = '\\';
            out[o++] = pol_ascii_lower(*++s);
            keep = o;
            skip = false;
            continue;
        }
        if (c == ',' || c == '+' || c == '=') {
            while (o > keep && out[o - 1] == ' ')
                o--;
            out[o++] = c;
            keep = o;
            skip = true;
            continue;
        }
        if (c == ' ' && skip)
            continue;
        skip = false;
        out[o++] = pol_ascii_lower(c);
        if (c != ' ')
            keep = o;
    }
    while (o > keep && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
    return true;
}

bool pol_dn_equal(const char *a, const char *b)
{
    char na[2 * POLICY_MAX_ISSUER + 8], nb[2 * POLICY_MAX_ISSUER + 8];
    return pol_dn_norm(a, na, sizeof(na)) && pol_dn_norm(b, nb, sizeof(nb)) && strcmp(na, nb) == 0;
}



const char *const pol_vkind_reason[] = {
    [V_SNI] = "not a domain name or *.domain",
    [V_ISSUER] = "not an issuer DN or CN (1..1024 bytes, no control characters)",
    [V_JA4] = "not a JA4 fingerprint",
    [V_JA4S] = "not a JA4S fingerprint",
    [V_JA3] = "not a JA3 hash (32 hex digits)",
    [V_JA3S] = "not a JA3S hash (32 hex digits)",
    [V_VERSION] = "not a TLS version (SSLv3, TLSv1, TLS 1.1, TLS 1.2, TLS 1.3)",
    [V_ALPN] = "not an ALPN protocol id (1..255 bytes)",
    [V_JA4TS] = "not a JA4TS fingerprint (window_options_mss_wscale)",
    [V_TTL] = "not a TTL (0..255)",
    [V_HRR] = "not \"none\" or a group name (letters, digits, '_', '-'; 1..32 bytes)",
};

/* JA4TS: window "_" option kinds joined by '-' or "00" "_" mss "_" wscale,
 * all decimal (fp/ja4t.h). */
static bool ja4ts_ok(const char *s)
{
    size_t n = strlen(s), parts = 1;
    if (n == 0 || n > 200)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '_')
            parts++;
        else if (!(s[i] >= '0' && s[i] <= '9') && !(s[i] == '-' && parts == 2))
            return false;
    }
    return parts == 4 && s[0] != '_' && s[n - 1] != '_' && !strstr(s, "__");
}

/* hello_retry: "none" or a group as pinscope names it (x25519,
 * secp256r1, X25519MLKEM768, 0x1234 for one it does not name). */
static bool hrr_ok(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= 32 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

static bool ttl_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 3 || strspn(s, "0123456789") != n)
        return false;
    return atoi(s) <= 255;
}


/* Validate and normalise one value; returns the value to store (in buf or
 * static or s itself), or NULL if invalid. */
const char *pol_vnorm(enum vkind k, const char *s, char buf[VBUF_LEN])
{
    switch (k) {
    case V_SNI:
        return pol_domain_norm(s, strlen(s), buf, true) ? buf : NULL;
    case V_ISSUER:
        return pol_issuer_ok(s) ? s : NULL;
    case V_JA4:
        return pol_ja4_norm(s, buf) ? buf : NULL;
    case V_JA4S:
        return pol_ja4s_norm(s, buf) ? buf : NULL;
    case V_JA3:
    case V_JA3S:
        return pol_md5_norm(s, buf) ? buf : NULL;
    case V_VERSION:
        return policy_version_canonical(s);
    case V_ALPN: {
        size_t n = strlen(s);
        return (n >= 1 && n <= POLICY_MAX_ALPN) ? s : NULL;
    }
    case V_JA4TS:
        return ja4ts_ok(s) ? s : NULL;
    case V_TTL:
        return ttl_ok(s) ? s : NULL;
    case V_HRR:
        return hrr_ok(s) ? s : NULL;
    }
    return NULL;
}

/* ---- public wrappers of the value syntax (policy.h) --------------------- */

bool policy_pin_parse(const char *s, uint8_t out[POLICY_SPKI_LEN])
{
    return s && pol_pin_parse(s, out);
}

void policy_pin_format(const uint8_t pin[POLICY_SPKI_LEN], char out[45])
{
    pol_pin_format(pin, out);
}

size_t policy_domain_norm(const char *s, size_t len, char out[POLICY_MAX_DOMAIN + 1])
{
    return s ? pol_domain_norm(s, len, out, false) : 0;
}

bool policy_date_parse(const char *s, int64_t *out)
{
    return s && pol_date_parse(s, out);
}

void policy_date_format(int64_t t, char out[32])
{
    pol_date_format(t, out);
}
