/*
 * policy.c - policy file model: strict JSON loader, writer, learning,
 * merge, and per-connection lookups.
 *
 * The loader reads the whole file (at most POLICY_MAX_FILE_BYTES), parses
 * it with cJSON and walks the tree once, checking every key against the
 * list of keys its object may hold, every value's type and syntax, every
 * cap, and duplicates; the first problem ends the load with one line that
 * names the file, the entry and the reason.  Values are normalised on the
 * way in (domains lower-case without trailing dot, "sha256/" prefixes
 * dropped, pins decoded to 32 bytes, versions spelled canonically, hex in
 * fingerprints lower-case), so the writer's output is canonical and loads
 * back into an identical model.
 *
 * Pin sets and issuer sets are kept in file order, with a sorted index by
 * domain for lookups; baselines are kept in file order, with a sorted
 * index by name for duplicate detection and merging.  Nothing is ever
 * removed, so entry pointers handed out stay valid until policy_free().
 *
 * What it does not do: no packet, certificate or hello parsing, no event
 * output, no reloading while running, no IDNA (names are compared as the
 * ASCII the wire carries), and no RFC 4514 parsing beyond what DN
 * comparison needs (ASCII case and spaces after separators are ignored;
 * escapes are compared as written).
 */
#include "policy/policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#define POLICY_MAX_CONNECTIONS 9007199254740992ULL /* 2^53: exact in a JSON number */
#define POLICY_DAY 86400
#define POLICY_LAST_DAY 253402214400LL /* 9999-12-31T00:00:00Z */

/* ---- small helpers ------------------------------------------------------ */

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

static bool ascii_caseeq(const char *a, const char *b)
{
    while (*a && ascii_lower(*a) == ascii_lower(*b)) {
        a++;
        b++;
    }
    return ascii_lower(*a) == ascii_lower(*b);
}

static bool has_ctl(const char *s)
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
static void *grow(void *arr, size_t *cap, size_t n, size_t sz)
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
static int strs_push(struct policy_strs *s, const char *v)
{
    char *d = dup_str(v);
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

static ssize_t strs_find(const struct policy_strs *s, const char *v)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], v) == 0)
            return (ssize_t)i;
    return -1;
}

static void strs_free(struct policy_strs *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

static int strs_copy(struct policy_strs *d, const struct policy_strs *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (strs_push(d, s->v[i]) < 0)
            return POLICY_ENOMEM;
    return 0;
}

static int pins_push(struct policy_pins *s, const uint8_t v[POLICY_SPKI_LEN])
{
    uint8_t(*nv)[POLICY_SPKI_LEN] = realloc(s->v, (s->n + 1) * sizeof(*nv));
    if (!nv)
        return POLICY_ENOMEM;
    memcpy(nv[s->n++], v, POLICY_SPKI_LEN);
    s->v = nv;
    return 0;
}

static ssize_t pins_find(const struct policy_pins *s, const uint8_t v[POLICY_SPKI_LEN])
{
    for (size_t i = 0; i < s->n; i++)
        if (memcmp(s->v[i], v, POLICY_SPKI_LEN) == 0)
            return (ssize_t)i;
    return -1;
}

static void pins_free(struct policy_pins *s)
{
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

static int pins_copy(struct policy_pins *d, const struct policy_pins *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (pins_push(d, s->v[i]) < 0)
            return POLICY_ENOMEM;
    return 0;
}

static int nets_push(struct policy_nets *s, const struct policy_cidr *c)
{
    struct policy_cidr *nv = realloc(s->v, (s->n + 1) * sizeof(*nv));
    if (!nv)
        return POLICY_ENOMEM;
    nv[s->n++] = *c;
    s->v = nv;
    return 0;
}

static bool cidr_eq(const struct policy_cidr *a, const struct policy_cidr *b)
{
    return a->ver == b->ver && a->prefix == b->prefix &&
           memcmp(a->addr, b->addr, a->ver == 4 ? 4 : 16) == 0;
}

static ssize_t nets_find(const struct policy_nets *s, const struct policy_cidr *c)
{
    for (size_t i = 0; i < s->n; i++)
        if (cidr_eq(&s->v[i], c))
            return (ssize_t)i;
    return -1;
}

static void nets_free(struct policy_nets *s)
{
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

static int nets_copy(struct policy_nets *d, const struct policy_nets *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (nets_push(d, &s->v[i]) < 0)
            return POLICY_ENOMEM;
    return 0;
}

/* ---- value syntax ------------------------------------------------------- */

/* Normalise a domain name of len bytes into out (POLICY_MAX_DOMAIN + 1
 * bytes): ASCII lower-case, one trailing dot dropped.  Labels are 1..63 of
 * [a-z0-9_-], not starting or ending with '-'; the last label is not all
 * digits (that is an IPv4 address).  allow_wild keeps a leading "*.".
 * Returns the length, 0 if the name is not valid. */
static size_t domain_norm(const char *s, size_t len, char *out, bool allow_wild)
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
        char c = ascii_lower(s[i]);
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

static int b64_val(char c)
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
static bool pin_parse(const char *s, uint8_t out[POLICY_SPKI_LEN])
{
    if (strncmp(s, "sha256/", 7) == 0)
        s += 7;
    if (strlen(s) != 44 || s[43] != '=')
        return false;
    int v[43];
    for (int i = 0; i < 43; i++)
        if ((v[i] = b64_val(s[i])) < 0)
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

static void pin_format(const uint8_t in[POLICY_SPKI_LEN], char out[45])
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

enum cidr_res { CIDR_OK, CIDR_BAD, CIDR_HOSTBITS };

/* "ADDR" or "ADDR/PREFIX", IPv4 dotted quad or IPv6 (inet_pton).  A plain
 * address is a full-length prefix.  Host bits must be zero. */
static enum cidr_res cidr_parse(const char *s, struct policy_cidr *c)
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

static void cidr_format(const struct policy_cidr *c, char out[64])
{
    char a[INET6_ADDRSTRLEN];
    inet_ntop(c->ver == 4 ? AF_INET : AF_INET6, c->addr, a, sizeof(a));
    if (c->prefix == (c->ver == 4 ? 32 : 128))
        snprintf(out, 64, "%s", a);
    else
        snprintf(out, 64, "%s/%u", a, (unsigned)c->prefix);
}

static bool cidr_contains(const struct policy_cidr *c, const uint8_t *ip, int ver)
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

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* "YYYY-MM-DD", 1970-01-01 .. 9999-12-31 -> epoch seconds at 00:00 UTC. */
static bool date_parse(const char *s, int64_t *out)
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
    *out = days_from_civil(y, m, d) * POLICY_DAY;
    return true;
}

static void date_format(int64_t t, char out[32])
{
    int64_t y;
    unsigned m, d;
    civil_from_days(t / POLICY_DAY, &y, &m, &d);
    snprintf(out, 32, "%04" PRId64 "-%02u-%02u", y, m, d);
}

/* Start of the UTC day of `t`, clamped to the range dates can be written in. */
static int64_t day_of(int64_t t)
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

static size_t version_index(const char *s)
{
    size_t n = sizeof(policy_versions) / sizeof(policy_versions[0]);
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(s, policy_versions[i].name) == 0)
            return i;
    return n;
}

const char *policy_version_canonical(const char *s)
{
    size_t i = version_index(s);
    return i < sizeof(policy_versions) / sizeof(policy_versions[0]) ? policy_versions[i].canonical
                                                                    : NULL;
}

static uint16_t version_code(const char *s)
{
    size_t i = version_index(s);
    return i < sizeof(policy_versions) / sizeof(policy_versions[0]) ? policy_versions[i].code : 0;
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Copy n hex digits from s to out, lower-cased; false if one is not hex. */
static bool hex_lower(const char *s, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        char c = ascii_lower(s[i]);
        if (!is_digit(c) && !(c >= 'a' && c <= 'f'))
            return false;
        out[i] = c;
    }
    return true;
}

static bool proto_ok(char c)
{
    return c == 't' || c == 'q' || c == 'd';
}

/* JA4 (FoxIO): a_b_c, a = proto[tqd] version(2) sni[di] ciphers(2 digits)
 * extensions(2 digits) alpn(2 alnum); b, c = 12 hex each. */
static bool ja4_norm(const char *s, char *out)
{
    if (strlen(s) != 36 || s[10] != '_' || s[23] != '_')
        return false;
    if (!proto_ok(s[0]) || !is_alnum(s[1]) || !is_alnum(s[2]) || (s[3] != 'd' && s[3] != 'i') ||
        !is_digit(s[4]) || !is_digit(s[5]) || !is_digit(s[6]) || !is_digit(s[7]) ||
        !is_alnum(s[8]) || !is_alnum(s[9]))
        return false;
    memcpy(out, s, 11);
    if (!hex_lower(s + 11, 12, out + 11) || !hex_lower(s + 24, 12, out + 24))
        return false;
    out[23] = '_';
    out[36] = '\0';
    return true;
}

/* JA4S: a_b_c, a = proto version(2) extensions(2 digits) alpn(2 alnum);
 * b = cipher (4 hex); c = 12 hex. */
static bool ja4s_norm(const char *s, char *out)
{
    if (strlen(s) != 25 || s[7] != '_' || s[12] != '_')
        return false;
    if (!proto_ok(s[0]) || !is_alnum(s[1]) || !is_alnum(s[2]) || !is_digit(s[3]) ||
        !is_digit(s[4]) || !is_alnum(s[5]) || !is_alnum(s[6]))
        return false;
    memcpy(out, s, 8);
    if (!hex_lower(s + 8, 4, out + 8) || !hex_lower(s + 13, 12, out + 13))
        return false;
    out[12] = '_';
    out[25] = '\0';
    return true;
}

static bool md5_norm(const char *s, char *out)
{
    if (strlen(s) != 32 || !hex_lower(s, 32, out))
        return false;
    out[32] = '\0';
    return true;
}

/* An issuer entry: 1..POLICY_MAX_ISSUER bytes, no control characters.  If
 * it contains '=' it is a DN and must start with an attribute type
 * ([A-Za-z0-9.-]+ then '='). */
static bool issuer_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > POLICY_MAX_ISSUER || has_ctl(s))
        return false;
    const char *eq = strchr(s, '=');
    if (!eq)
        return true;
    if (eq == s)
        return false;
    for (const char *c = s; c < eq; c++)
        if (!is_alnum(*c) && *c != '.' && *c != '-')
            return false;
    return true;
}

/* DN text for comparison: ASCII lower-case, spaces around unescaped ',',
 * '+' and '=' dropped.  Returns false if it does not fit. */
static bool dn_norm(const char *s, char *out, size_t outlen)
{
    size_t o = 0, keep = 0; /* keep: output length that trailing-space trimming may not cut */
    bool skip = true;       /* skip spaces (start, or after a separator) */
    for (; *s; s++) {
        char c = *s;
        if (o + 2 >= outlen)
            return false;
        if (c == '\\' && s[1]) {
            out[o++] = '\\';
            out[o++] = ascii_lower(*++s);
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
        out[o++] = ascii_lower(c);
        if (c != ' ')
            keep = o;
    }
    while (o > keep && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
    return true;
}

static bool dn_equal(const char *a, const char *b)
{
    char na[2 * POLICY_MAX_ISSUER + 8], nb[2 * POLICY_MAX_ISSUER + 8];
    return dn_norm(a, na, sizeof(na)) && dn_norm(b, nb, sizeof(nb)) && strcmp(na, nb) == 0;
}

/* Kinds of string list values, with the reason given when one is invalid. */
enum vkind { V_SNI, V_ISSUER, V_JA4, V_JA4S, V_JA3, V_JA3S, V_VERSION, V_ALPN };

static const char *const vkind_reason[] = {
    [V_SNI] = "not a domain name or *.domain",
    [V_ISSUER] = "not an issuer DN or CN (1..1024 bytes, no control characters)",
    [V_JA4] = "not a JA4 fingerprint",
    [V_JA4S] = "not a JA4S fingerprint",
    [V_JA3] = "not a JA3 hash (32 hex digits)",
    [V_JA3S] = "not a JA3S hash (32 hex digits)",
    [V_VERSION] = "not a TLS version (SSLv3, TLSv1, TLS 1.1, TLS 1.2, TLS 1.3)",
    [V_ALPN] = "not an ALPN protocol id (1..255 bytes)",
};

#define VBUF_LEN (POLICY_MAX_ISSUER + 1)

/* Validate and normalise one value; returns the value to store (in buf or
 * static or s itself), or NULL if invalid. */
static const char *vnorm(enum vkind k, const char *s, char buf[VBUF_LEN])
{
    switch (k) {
    case V_SNI:
        return domain_norm(s, strlen(s), buf, true) ? buf : NULL;
    case V_ISSUER:
        return issuer_ok(s) ? s : NULL;
    case V_JA4:
        return ja4_norm(s, buf) ? buf : NULL;
    case V_JA4S:
        return ja4s_norm(s, buf) ? buf : NULL;
    case V_JA3:
    case V_JA3S:
        return md5_norm(s, buf) ? buf : NULL;
    case V_VERSION:
        return policy_version_canonical(s);
    case V_ALPN: {
        size_t n = strlen(s);
        return (n >= 1 && n <= POLICY_MAX_ALPN) ? s : NULL;
    }
    }
    return NULL;
}

/* ---- sorted index (domain or name -> entry index) --------------------- */

struct policy_ix_ent {
    const char *key;   /* borrowed from the entry; never changes */
    size_t idx;        /* index of the entry in its section */
    bool sub;          /* include_subdomains (domain indexes) */
};

struct policy_ix {
    struct policy_ix_ent *v;
    size_t n, cap;
};

/* Compare key k (klen bytes) with the NUL-terminated s, like strcmp. */
static int keycmp(const char *k, size_t klen, const char *s)
{
    size_t sl = strlen(s);
    int c = memcmp(k, s, klen < sl ? klen : sl);
    if (c)
        return c;
    return klen < sl ? -1 : klen > sl ? 1 : 0;
}

/* True if found (*pos = its slot); else *pos = insertion slot. */
static bool ix_search(const struct policy_ix *ix, const char *k, size_t klen, size_t *pos)
{
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = keycmp(k, klen, ix->v[mid].key);
        if (c == 0) {
            *pos = mid;
            return true;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *pos = lo;
    return false;
}

static bool ix_insert(struct policy_ix *ix, size_t pos, const char *key, size_t idx, bool sub)
{
    struct policy_ix_ent *nv = grow(ix->v, &ix->cap, ix->n, sizeof(ix->v[0]));
    if (!nv)
        return false;
    ix->v = nv;
    memmove(&ix->v[pos + 1], &ix->v[pos], (ix->n - pos) * sizeof(ix->v[0]));
    ix->v[pos] = (struct policy_ix_ent){key, idx, sub};
    ix->n++;
    return true;
}

/* Most specific entry for a normalised name: exact, else the closest
 * parent with sub set.  Returns the entry index or -1. */
static ssize_t ix_lookup_domain(const struct policy_ix *ix, const char *name, size_t len)
{
    size_t pos;
    if (ix_search(ix, name, len, &pos))
        return (ssize_t)ix->v[pos].idx;
    for (size_t i = 0; i < len; i++) {
        if (name[i] != '.')
            continue;
        if (ix_search(ix, name + i + 1, len - i - 1, &pos) && ix->v[pos].sub)
            return (ssize_t)ix->v[pos].idx;
    }
    return -1;
}

/* ---- the policy --------------------------------------------------------- */

struct policy {
    char *comment;
    /* Entry arrays hold void pointers so that one add_entry() serves all
     * four sections; each element points to the section's entry type. */
    void **pin_sets;
    size_t n_pin_sets, cap_pin_sets;
    struct policy_ix pin_ix;
    void **issuer_sets;
    size_t n_issuer_sets, cap_issuer_sets;
    struct policy_ix issuer_ix;
    void **clients;
    size_t n_clients, cap_clients;
    struct policy_ix client_ix;
    void **servers;
    size_t n_servers, cap_servers;
    struct policy_ix server_ix;
    uint64_t learn_capped;
};

static void match_free(struct policy_match *m)
{
    nets_free(&m->client_subnets);
    strs_free(&m->sni);
    nets_free(&m->server_addresses);
}

static void pin_set_free(struct policy_pin_set *s)
{
    if (!s)
        return;
    free(s->domain);
    pins_free(&s->pins);
    pins_free(&s->backup_pins);
    free(s->comment);
    free(s);
}

static void issuer_set_free(struct policy_issuer_set *s)
{
    if (!s)
        return;
    free(s->domain);
    strs_free(&s->issuers);
    pins_free(&s->issuer_pins);
    free(s->comment);
    free(s);
}

static void client_free(struct policy_client_baseline *b)
{
    if (!b)
        return;
    free(b->name);
    match_free(&b->match);
    strs_free(&b->ja4);
    strs_free(&b->ja3);
    strs_free(&b->tls_versions);
    strs_free(&b->alpn);
    free(b->comment);
    free(b);
}

static void server_free(struct policy_server_baseline *b)
{
    if (!b)
        return;
    free(b->name);
    match_free(&b->match);
    strs_free(&b->ja4s);
    strs_free(&b->ja3s);
    strs_free(&b->alpn);
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
        pin_set_free(p->pin_sets[i]);
    for (size_t i = 0; i < p->n_issuer_sets; i++)
        issuer_set_free(p->issuer_sets[i]);
    for (size_t i = 0; i < p->n_clients; i++)
        client_free(p->clients[i]);
    for (size_t i = 0; i < p->n_servers; i++)
        server_free(p->servers[i]);
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
static bool add_entry(void ***arr, size_t *n, size_t *cap, struct policy_ix *ix, size_t pos,
                      void *e, const char *key, bool sub)
{
    void **na = grow(*arr, cap, *n, sizeof(void *));
    if (!na)
        return false;
    *arr = na;
    if (!ix_insert(ix, pos, key, *n, sub))
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

/* ---- loader ------------------------------------------------------------- */

struct ld {
    const char *file;
    char *err;
    size_t errlen;
    char entry[POLICY_MAX_DOMAIN + POLICY_MAX_NAME + 64]; /* "pin_sets[3] (example.com)" */
};

__attribute__((format(printf, 2, 3))) static int ld_fail(struct ld *l, const char *fmt, ...)
{
    if (!l->err || l->errlen == 0)
        return -1;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(l->err, l->errlen, "%s: %s%s%s", l->file, l->entry, l->entry[0] ? ": " : "", msg);
    return -1;
}

/* A key or value quoted for an error line: printable ASCII only, cut. */
static const char *quote(const char *s, char out[48])
{
    size_t o = 0;
    for (; *s && o < 40; s++) {
        unsigned char c = (unsigned char)*s;
        out[o++] = (c >= 0x20 && c < 0x7f && c != '"') ? (char)c : '?';
    }
    if (*s) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

/* Every key of obj must be in `known` (at most 16) and appear once. */
static int check_keys(struct ld *l, const cJSON *obj, const char *const *known,
                      const char *prefix)
{
    char q[48];
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        const char *k = it->string ? it->string : "";
        size_t i;
        for (i = 0; known[i]; i++)
            if (strcmp(k, known[i]) == 0)
                break;
        if (!known[i])
            return ld_fail(l, "%sunknown key \"%s\"", prefix, quote(k, q));
        for (const cJSON *prev = obj->child; prev != it; prev = prev->next)
            if (prev->string && strcmp(prev->string, k) == 0)
                return ld_fail(l, "%sduplicate key \"%s\"", prefix, quote(k, q));
    }
    return 0;
}

static int get_string(struct ld *l, const cJSON *obj, const char *key, const char *prefix,
                      const char **out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!it)
        return 0;
    if (!cJSON_IsString(it) || !it->valuestring)
        return ld_fail(l, "%s%s: not a string", prefix, key);
    *out = it->valuestring;
    return 0;
}

static int get_bool(struct ld *l, const cJSON *obj, const char *key, bool *out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = false;
    if (!it)
        return 0;
    if (!cJSON_IsBool(it))
        return ld_fail(l, "%s: not true or false", key);
    *out = cJSON_IsTrue(it);
    return 0;
}

static int get_comment(struct ld *l, const cJSON *obj, char **out)
{
    const char *s;
    if (get_string(l, obj, "comment", "", &s) < 0)
        return -1;
    if (!s)
        return 0;
    if (strlen(s) > POLICY_MAX_COMMENT)
        return ld_fail(l, "comment: longer than %d bytes", POLICY_MAX_COMMENT);
    if (!(*out = dup_str(s)))
        return ld_fail(l, "out of memory");
    return 0;
}

/* An optional array: NULL if absent; fails unless it is an array with
 * 1..max elements (0..max if allow_empty). */
static int get_array(struct ld *l, const cJSON *obj, const char *key, const char *prefix,
                     size_t max, bool allow_empty, const cJSON **out)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!a)
        return 0;
    if (!cJSON_IsArray(a))
        return ld_fail(l, "%s%s: not a list", prefix, key);
    size_t n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, a)
        n++;
    if (n == 0 && !allow_empty)
        return ld_fail(l, "%s%s: empty list", prefix, key);
    if (n > max)
        return ld_fail(l, "%s%s: more than %zu entries", prefix, key, max);
    *out = a;
    return 0;
}

static int get_strs(struct ld *l, const cJSON *obj, const char *key, const char *prefix,
                    enum vkind k, struct policy_strs *out)
{
    const cJSON *a, *it;
    if (get_array(l, obj, key, prefix, POLICY_MAX_VALUES, false, &a) < 0)
        return -1;
    if (!a)
        return 0;
    size_t i = 0;
    char buf[VBUF_LEN];
    cJSON_ArrayForEach(it, a)
    {
        if (!cJSON_IsString(it) || !it->valuestring)
            return ld_fail(l, "%s%s[%zu]: not a string", prefix, key, i);
        const char *v = vnorm(k, it->valuestring, buf);
        if (!v)
            return ld_fail(l, "%s%s[%zu]: %s", prefix, key, i, vkind_reason[k]);
        ssize_t d = strs_find(out, v);
        if (d >= 0)
            return ld_fail(l, "%s%s[%zu]: duplicate of %s[%zd]", prefix, key, i, key, d);
        if (strs_push(out, v) < 0)
            return ld_fail(l, "out of memory");
        i++;
    }
    return 0;
}

static int get_pins(struct ld *l, const cJSON *obj, const char *key, bool allow_empty,
                    struct policy_pins *out, const struct policy_pins *other,
                    const char *other_key)
{
    const cJSON *a, *it;
    if (get_array(l, obj, key, "", POLICY_MAX_PINS, allow_empty, &a) < 0)
        return -1;
    if (!a)
        return 0;
    size_t i = 0;
    cJSON_ArrayForEach(it, a)
    {
        uint8_t pin[POLICY_SPKI_LEN];
        if (!cJSON_IsString(it) || !it->valuestring)
            return ld_fail(l, "%s[%zu]: not a string", key, i);
        if (!pin_parse(it->valuestring, pin))
            return ld_fail(l, "%s[%zu]: not a base64 SHA-256 pin", key, i);
        ssize_t d = pins_find(out, pin);
        if (d >= 0)
            return ld_fail(l, "%s[%zu]: duplicate of %s[%zd]", key, i, key, d);
        if (other && (d = pins_find(other, pin)) >= 0)
            return ld_fail(l, "%s[%zu]: also in %s[%zd]", key, i, other_key, d);
        if (pins_push(out, pin) < 0)
            return ld_fail(l, "out of memory");
        i++;
    }
    return 0;
}

static int get_nets(struct ld *l, const cJSON *obj, const char *key, const char *prefix,
                    struct policy_nets *out)
{
    const cJSON *a, *it;
    if (get_array(l, obj, key, prefix, POLICY_MAX_VALUES, false, &a) < 0)
        return -1;
    if (!a)
        return 0;
    size_t i = 0;
    cJSON_ArrayForEach(it, a)
    {
        struct policy_cidr c;
        if (!cJSON_IsString(it) || !it->valuestring)
            return ld_fail(l, "%s%s[%zu]: not a string", prefix, key, i);
        enum cidr_res r = cidr_parse(it->valuestring, &c);
        if (r == CIDR_BAD)
            return ld_fail(l, "%s%s[%zu]: not an IP address or CIDR", prefix, key, i);
        if (r == CIDR_HOSTBITS)
            return ld_fail(l, "%s%s[%zu]: CIDR has host bits set beyond /%u", prefix, key, i,
                           (unsigned)c.prefix);
        ssize_t d = nets_find(out, &c);
        if (d >= 0)
            return ld_fail(l, "%s%s[%zu]: duplicate of %s[%zd]", prefix, key, i, key, d);
        if (nets_push(out, &c) < 0)
            return ld_fail(l, "out of memory");
        i++;
    }
    return 0;
}

static int get_learned(struct ld *l, const cJSON *obj, struct policy_origin *o)
{
    static const char *const keys[] = {"connections", "last_seen", NULL};
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, "learned");
    memset(o, 0, sizeof(*o));
    if (!it)
        return 0;
    if (!cJSON_IsObject(it))
        return ld_fail(l, "learned: not an object");
    if (check_keys(l, it, keys, "learned: ") < 0)
        return -1;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(it, "connections");
    if (!c)
        return ld_fail(l, "learned: missing \"connections\"");
    double d = c->valuedouble;
    if (!cJSON_IsNumber(c) || !(d >= 1 && d <= (double)POLICY_MAX_CONNECTIONS) ||
        (double)(uint64_t)d != d)
        return ld_fail(l, "learned: connections: not a whole number from 1 to 2^53");
    const char *ls;
    if (get_string(l, it, "last_seen", "learned: ", &ls) < 0)
        return -1;
    if (!ls)
        return ld_fail(l, "learned: missing \"last_seen\"");
    if (!date_parse(ls, &o->last_seen))
        return ld_fail(l, "learned: last_seen: not a date (YYYY-MM-DD)");
    o->learned = true;
    o->connections = (uint64_t)d;
    return 0;
}

/* "domain" of a pin or issuer set: sets the entry label. */
static int get_domain(struct ld *l, const cJSON *e, const char *section, size_t i,
                      char out[POLICY_MAX_DOMAIN + 1])
{
    const char *s;
    if (get_string(l, e, "domain", "", &s) < 0)
        return -1;
    if (!s)
        return ld_fail(l, "missing \"domain\"");
    if (!domain_norm(s, strlen(s), out, false)) {
        if (s[0] == '*')
            return ld_fail(l, "domain: wildcards are not allowed here (use include_subdomains)");
        return ld_fail(l, "domain: not a domain name");
    }
    snprintf(l->entry, sizeof(l->entry), "%s[%zu] (%s)", section, i, out);
    return 0;
}

static int get_name(struct ld *l, const cJSON *e, const char *section, size_t i,
                    const char **out)
{
    if (get_string(l, e, "name", "", out) < 0)
        return -1;
    if (!*out)
        return ld_fail(l, "missing \"name\"");
    size_t n = strlen(*out);
    if (n == 0 || n > POLICY_MAX_NAME || has_ctl(*out))
        return ld_fail(l, "name: must be 1..%d bytes without control characters",
                       POLICY_MAX_NAME);
    snprintf(l->entry, sizeof(l->entry), "%s[%zu] (%s)", section, i, *out);
    return 0;
}

static int get_match(struct ld *l, const cJSON *e, struct policy_match *m)
{
    static const char *const keys[] = {"client_subnets", "sni", "server_addresses", NULL};
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(e, "match");
    if (!it)
        return 0;
    if (!cJSON_IsObject(it))
        return ld_fail(l, "match: not an object");
    if (check_keys(l, it, keys, "match: ") < 0 ||
        get_nets(l, it, "client_subnets", "match: ", &m->client_subnets) < 0 ||
        get_strs(l, it, "sni", "match: ", V_SNI, &m->sni) < 0 ||
        get_nets(l, it, "server_addresses", "match: ", &m->server_addresses) < 0)
        return -1;
    return 0;
}

static int load_pin_set(struct ld *l, struct policy *p, const cJSON *e, size_t i)
{
    static const char *const keys[] = {"domain",  "include_subdomains", "pins", "backup_pins",
                                       "expires", "comment",            "learned", NULL};
    char dom[POLICY_MAX_DOMAIN + 1];
    if (!cJSON_IsObject(e))
        return ld_fail(l, "not an object");
    if (get_domain(l, e, "pin_sets", i, dom) < 0 || check_keys(l, e, keys, "") < 0)
        return -1;
    size_t pos;
    if (ix_search(&p->pin_ix, dom, strlen(dom), &pos))
        return ld_fail(l, "domain: duplicate of pin_sets[%zu]", p->pin_ix.v[pos].idx);
    struct policy_pin_set *s = calloc(1, sizeof(*s));
    if (!s || !(s->domain = dup_str(dom))) {
        free(s);
        return ld_fail(l, "out of memory");
    }
    const char *exp;
    if (get_bool(l, e, "include_subdomains", &s->include_subdomains) < 0)
        goto fail;
    if (!cJSON_GetObjectItemCaseSensitive(e, "pins")) {
        ld_fail(l, "missing \"pins\"");
        goto fail;
    }
    if (get_pins(l, e, "pins", false, &s->pins, NULL, NULL) < 0 ||
        get_pins(l, e, "backup_pins", true, &s->backup_pins, &s->pins, "pins") < 0 ||
        get_string(l, e, "expires", "", &exp) < 0)
        goto fail;
    if (exp) {
        if (!date_parse(exp, &s->expires)) {
            ld_fail(l, "expires: not a date (YYYY-MM-DD)");
            goto fail;
        }
        s->has_expires = true;
    }
    if (get_comment(l, e, &s->comment) < 0 || get_learned(l, e, &s->origin) < 0)
        goto fail;
    if (!add_entry(&p->pin_sets, &p->n_pin_sets, &p->cap_pin_sets, &p->pin_ix, pos, s,
                   s->domain, s->include_subdomains)) {
        ld_fail(l, "out of memory");
        goto fail;
    }
    return 0;
fail:
    pin_set_free(s);
    return -1;
}

static int load_issuer_set(struct ld *l, struct policy *p, const cJSON *e, size_t i)
{
    static const char *const keys[] = {"domain",  "include_subdomains", "issuers", "issuer_pins",
                                       "comment", "learned",            NULL};
    char dom[POLICY_MAX_DOMAIN + 1];
    if (!cJSON_IsObject(e))
        return ld_fail(l, "not an object");
    if (get_domain(l, e, "expected_issuers", i, dom) < 0 || check_keys(l, e, keys, "") < 0)
        return -1;
    size_t pos;
    if (ix_search(&p->issuer_ix, dom, strlen(dom), &pos))
        return ld_fail(l, "domain: duplicate of expected_issuers[%zu]", p->issuer_ix.v[pos].idx);
    struct policy_issuer_set *s = calloc(1, sizeof(*s));
    if (!s || !(s->domain = dup_str(dom))) {
        free(s);
        return ld_fail(l, "out of memory");
    }
    if (get_bool(l, e, "include_subdomains", &s->include_subdomains) < 0 ||
        get_strs(l, e, "issuers", "", V_ISSUER, &s->issuers) < 0 ||
        get_pins(l, e, "issuer_pins", true, &s->issuer_pins, NULL, NULL) < 0)
        goto fail;
    if (s->issuers.n == 0 && s->issuer_pins.n == 0) {
        ld_fail(l, "needs \"issuers\" or \"issuer_pins\"");
        goto fail;
    }
    if (get_comment(l, e, &s->comment) < 0 || get_learned(l, e, &s->origin) < 0)
        goto fail;
    if (!add_entry(&p->issuer_sets, &p->n_issuer_sets, &p->cap_issuer_sets,
                   &p->issuer_ix, pos, s, s->domain, s->include_subdomains)) {
        ld_fail(l, "out of memory");
        goto fail;
    }
    return 0;
fail:
    issuer_set_free(s);
    return -1;
}

static int load_client(struct ld *l, struct policy *p, const cJSON *e, size_t i)
{
    static const char *const keys[] = {"name", "match", "ja4",     "ja3",     "tls_versions",
                                       "alpn", "comment", "learned", NULL};
    const char *name;
    if (!cJSON_IsObject(e))
        return ld_fail(l, "not an object");
    if (get_name(l, e, "client_baselines", i, &name) < 0 || check_keys(l, e, keys, "") < 0)
        return -1;
    size_t pos;
    if (ix_search(&p->client_ix, name, strlen(name), &pos))
        return ld_fail(l, "name: duplicate of client_baselines[%zu]", p->client_ix.v[pos].idx);
    struct policy_client_baseline *b = calloc(1, sizeof(*b));
    if (!b || !(b->name = dup_str(name))) {
        free(b);
        return ld_fail(l, "out of memory");
    }
    if (get_match(l, e, &b->match) < 0 || get_strs(l, e, "ja4", "", V_JA4, &b->ja4) < 0 ||
        get_strs(l, e, "ja3", "", V_JA3, &b->ja3) < 0 ||
        get_strs(l, e, "tls_versions", "", V_VERSION, &b->tls_versions) < 0 ||
        get_strs(l, e, "alpn", "", V_ALPN, &b->alpn) < 0)
        goto fail;
    if (!b->ja4.n && !b->ja3.n && !b->tls_versions.n && !b->alpn.n) {
        ld_fail(l, "constrains nothing (needs ja4, ja3, tls_versions or alpn)");
        goto fail;
    }
    if (get_comment(l, e, &b->comment) < 0 || get_learned(l, e, &b->origin) < 0)
        goto fail;
    if (!add_entry(&p->clients, &p->n_clients, &p->cap_clients, &p->client_ix, pos, b,
                   b->name, false)) {
        ld_fail(l, "out of memory");
        goto fail;
    }
    return 0;
fail:
    client_free(b);
    return -1;
}

static int load_server(struct ld *l, struct policy *p, const cJSON *e, size_t i)
{
    static const char *const keys[] = {"name",            "match", "ja4s",    "ja3s",
                                       "min_tls_version", "alpn",  "comment", "learned",
                                       NULL};
    const char *name, *minv;
    if (!cJSON_IsObject(e))
        return ld_fail(l, "not an object");
    if (get_name(l, e, "server_baselines", i, &name) < 0 || check_keys(l, e, keys, "") < 0)
        return -1;
    size_t pos;
    if (ix_search(&p->server_ix, name, strlen(name), &pos))
        return ld_fail(l, "name: duplicate of server_baselines[%zu]", p->server_ix.v[pos].idx);
    struct policy_server_baseline *b = calloc(1, sizeof(*b));
    if (!b || !(b->name = dup_str(name))) {
        free(b);
        return ld_fail(l, "out of memory");
    }
    if (get_match(l, e, &b->match) < 0 || get_strs(l, e, "ja4s", "", V_JA4S, &b->ja4s) < 0 ||
        get_strs(l, e, "ja3s", "", V_JA3S, &b->ja3s) < 0 ||
        get_string(l, e, "min_tls_version", "", &minv) < 0 ||
        get_strs(l, e, "alpn", "", V_ALPN, &b->alpn) < 0)
        goto fail;
    if (minv) {
        if (!(b->min_tls_version = policy_version_canonical(minv))) {
            ld_fail(l, "min_tls_version: %s", vkind_reason[V_VERSION]);
            goto fail;
        }
        b->min_tls_code = version_code(minv);
    }
    if (!b->ja4s.n && !b->ja3s.n && !b->min_tls_version && !b->alpn.n) {
        ld_fail(l, "constrains nothing (needs ja4s, ja3s, min_tls_version or alpn)");
        goto fail;
    }
    if (get_comment(l, e, &b->comment) < 0 || get_learned(l, e, &b->origin) < 0)
        goto fail;
    if (!add_entry(&p->servers, &p->n_servers, &p->cap_servers, &p->server_ix, pos, b,
                   b->name, false)) {
        ld_fail(l, "out of memory");
        goto fail;
    }
    return 0;
fail:
    server_free(b);
    return -1;
}

typedef int (*load_entry_fn)(struct ld *, struct policy *, const cJSON *, size_t);

static int load_section(struct ld *l, struct policy *p, const cJSON *root, const char *key,
                        load_entry_fn fn)
{
    const cJSON *a, *it;
    if (get_array(l, root, key, "", POLICY_MAX_ENTRIES, true, &a) < 0)
        return -1;
    if (!a)
        return 0;
    size_t i = 0;
    cJSON_ArrayForEach(it, a)
    {
        snprintf(l->entry, sizeof(l->entry), "%s[%zu]", key, i);
        if (fn(l, p, it, i) < 0)
            return -1;
        i++;
    }
    l->entry[0] = '\0';
    return 0;
}

static int load_root(struct ld *l, struct policy *p, const cJSON *root)
{
    static const char *const keys[] = {"version",          "comment",          "pin_sets",
                                       "expected_issuers", "client_baselines", "server_baselines",
                                       NULL};
    if (!cJSON_IsObject(root))
        return ld_fail(l, "not a JSON object");
    if (check_keys(l, root, keys, "") < 0)
        return -1;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!v)
        return ld_fail(l, "missing \"version\"");
    if (!cJSON_IsNumber(v) || v->valuedouble != 1.0)
        return ld_fail(l, "version: unsupported (this pinscope reads version 1)");
    if (get_comment(l, root, &p->comment) < 0 ||
        load_section(l, p, root, "pin_sets", load_pin_set) < 0 ||
        load_section(l, p, root, "expected_issuers", load_issuer_set) < 0 ||
        load_section(l, p, root, "client_baselines", load_client) < 0 ||
        load_section(l, p, root, "server_baselines", load_server) < 0)
        return -1;
    return 0;
}

struct policy *policy_load_buffer(const char *name, const char *buf, size_t len, char *err,
                                  size_t errlen)
{
    struct ld l = {.file = name ? name : "(policy)", .err = err, .errlen = errlen};
    if (err && errlen)
        err[0] = '\0';
    if (!buf && len) {
        ld_fail(&l, "no data");
        return NULL;
    }
    if (len > POLICY_MAX_FILE_BYTES) {
        ld_fail(&l, "larger than %u bytes", POLICY_MAX_FILE_BYTES);
        return NULL;
    }
    if (len && memchr(buf, '\0', len)) {
        ld_fail(&l, "contains a NUL byte");
        return NULL;
    }
    char *text = malloc(len + 1);
    if (!text) {
        ld_fail(&l, "out of memory");
        return NULL;
    }
    if (len)
        memcpy(text, buf, len);
    text[len] = '\0';
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root) {
        size_t line = 1, col = 1;
        for (const char *c = text; end && c < end && *c; c++) {
            if (*c == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        ld_fail(&l, "not valid JSON (line %zu, column %zu)", line, col);
        free(text);
        return NULL;
    }
    free(text);
    struct policy *p = policy_new();
    if (!p) {
        ld_fail(&l, "out of memory");
    } else if (load_root(&l, p, root) < 0) {
        policy_free(p);
        p = NULL;
    }
    cJSON_Delete(root);
    return p;
}

struct policy *policy_load(const char *path, char *err, size_t errlen)
{
    struct ld l = {.file = path ? path : "(null)", .err = err, .errlen = errlen};
    if (err && errlen)
        err[0] = '\0';
    if (!path) {
        ld_fail(&l, "no file name");
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        ld_fail(&l, "cannot open: %s", strerror(errno));
        return NULL;
    }
    char *buf = malloc(POLICY_MAX_FILE_BYTES + 1);
    if (!buf) {
        fclose(f);
        ld_fail(&l, "out of memory");
        return NULL;
    }
    size_t n = fread(buf, 1, POLICY_MAX_FILE_BYTES + 1, f);
    int rerr = ferror(f);
    fclose(f);
    struct policy *p = NULL;
    if (rerr)
        ld_fail(&l, "read error");
    else if (n > POLICY_MAX_FILE_BYTES)
        ld_fail(&l, "larger than %u bytes", POLICY_MAX_FILE_BYTES);
    else
        p = policy_load_buffer(path, buf, n, err, errlen);
    free(buf);
    return p;
}

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
        pin_format(s->v[i], b64);
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
        cidr_format(&s->v[i], txt);
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
    date_format(o->last_seen, day);
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
        date_format(s->expires, day);
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

/* ---- merge and learning ------------------------------------------------- */

static struct policy_merge_stats *stats_or(struct policy_merge_stats *st,
                                           struct policy_merge_stats *local)
{
    return st ? st : local;
}

/* Comment of a learned entry, regenerated whenever its counts change. */
static int origin_comment(const struct policy_origin *o, char **comment)
{
    char day[32], buf[128];
    date_format(o->last_seen, day);
    snprintf(buf, sizeof(buf), "learned from %" PRIu64 " connection%s, last seen %s",
             o->connections, o->connections == 1 ? "" : "s", day);
    char *c = dup_str(buf);
    if (!c)
        return POLICY_ENOMEM;
    free(*comment);
    *comment = c;
    return 0;
}

static void origin_add(struct policy_origin *d, const struct policy_origin *s)
{
    d->connections = (s->connections > POLICY_MAX_CONNECTIONS - d->connections)
                         ? POLICY_MAX_CONNECTIONS
                         : d->connections + s->connections;
    if (s->last_seen > d->last_seen)
        d->last_seen = s->last_seen;
}

/* Append the values of s missing from d (and from `also`, if given), up
 * to `max`; values that do not fit are counted in *capped. */
static int union_strs(struct policy_strs *d, const struct policy_strs *s, size_t max,
                      size_t *capped)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strs_find(d, s->v[i]) >= 0)
            continue;
        if (d->n >= max) {
            (*capped)++;
            continue;
        }
        if (strs_push(d, s->v[i]) < 0)
            return POLICY_ENOMEM;
    }
    return 0;
}

static int union_pins(struct policy_pins *d, const struct policy_pins *s,
                      const struct policy_pins *also, size_t *capped)
{
    for (size_t i = 0; i < s->n; i++) {
        if (pins_find(d, s->v[i]) >= 0 || (also && pins_find(also, s->v[i]) >= 0))
            continue;
        if (d->n >= POLICY_MAX_PINS) {
            (*capped)++;
            continue;
        }
        if (pins_push(d, s->v[i]) < 0)
            return POLICY_ENOMEM;
    }
    return 0;
}

/* Return values of the merge_* helpers: 0 added or extended, 1 dropped
 * (hand-written key or shadowed), POLICY_ECAP, POLICY_ENOMEM. */

static int merge_pin_set(struct policy *dst, const struct policy_pin_set *s,
                         struct policy_merge_stats *st)
{
    size_t pos, len = strlen(s->domain);
    if (ix_search(&dst->pin_ix, s->domain, len, &pos)) {
        struct policy_pin_set *d = dst->pin_sets[dst->pin_ix.v[pos].idx];
        if (!d->origin.learned) {
            st->kept++;
            return 1;
        }
        if (union_pins(&d->pins, &s->pins, &d->backup_pins, &st->capped) < 0 ||
            union_pins(&d->backup_pins, &s->backup_pins, &d->pins, &st->capped) < 0)
            return POLICY_ENOMEM;
        origin_add(&d->origin, &s->origin);
        if (origin_comment(&d->origin, &d->comment) < 0)
            return POLICY_ENOMEM;
        st->extended++;
        return 0;
    }
    ssize_t cov = ix_lookup_domain(&dst->pin_ix, s->domain, len);
    if (cov >= 0 && !((struct policy_pin_set *)dst->pin_sets[cov])->origin.learned) {
        st->shadowed++;
        return 1;
    }
    if (dst->n_pin_sets >= POLICY_MAX_ENTRIES) {
        st->capped++;
        return POLICY_ECAP;
    }
    struct policy_pin_set *d = calloc(1, sizeof(*d));
    if (!d || !(d->domain = dup_str(s->domain)) || pins_copy(&d->pins, &s->pins) < 0 ||
        pins_copy(&d->backup_pins, &s->backup_pins) < 0)
        goto nomem;
    d->include_subdomains = s->include_subdomains;
    d->has_expires = s->has_expires;
    d->expires = s->expires;
    d->origin = s->origin;
    d->origin.learned = true;
    if (origin_comment(&d->origin, &d->comment) < 0 ||
        !add_entry(&dst->pin_sets, &dst->n_pin_sets, &dst->cap_pin_sets, &dst->pin_ix,
                   pos, d, d->domain, d->include_subdomains))
        goto nomem;
    st->added++;
    return 0;
nomem:
    pin_set_free(d);
    return POLICY_ENOMEM;
}

static int merge_issuer_set(struct policy *dst, const struct policy_issuer_set *s,
                            struct policy_merge_stats *st)
{
    size_t pos, len = strlen(s->domain);
    if (ix_search(&dst->issuer_ix, s->domain, len, &pos)) {
        struct policy_issuer_set *d = dst->issuer_sets[dst->issuer_ix.v[pos].idx];
        if (!d->origin.learned) {
            st->kept++;
            return 1;
        }
        if (union_strs(&d->issuers, &s->issuers, POLICY_MAX_VALUES, &st->capped) < 0 ||
            union_pins(&d->issuer_pins, &s->issuer_pins, NULL, &st->capped) < 0)
            return POLICY_ENOMEM;
        origin_add(&d->origin, &s->origin);
        if (origin_comment(&d->origin, &d->comment) < 0)
            return POLICY_ENOMEM;
        st->extended++;
        return 0;
    }
    ssize_t cov = ix_lookup_domain(&dst->issuer_ix, s->domain, len);
    if (cov >= 0 && !((struct policy_issuer_set *)dst->issuer_sets[cov])->origin.learned) {
        st->shadowed++;
        return 1;
    }
    if (dst->n_issuer_sets >= POLICY_MAX_ENTRIES) {
        st->capped++;
        return POLICY_ECAP;
    }
    struct policy_issuer_set *d = calloc(1, sizeof(*d));
    if (!d || !(d->domain = dup_str(s->domain)) || strs_copy(&d->issuers, &s->issuers) < 0 ||
        pins_copy(&d->issuer_pins, &s->issuer_pins) < 0)
        goto nomem;
    d->include_subdomains = s->include_subdomains;
    d->origin = s->origin;
    d->origin.learned = true;
    if (origin_comment(&d->origin, &d->comment) < 0 ||
        !add_entry(&dst->issuer_sets, &dst->n_issuer_sets, &dst->cap_issuer_sets,
                   &dst->issuer_ix, pos, d, d->domain, d->include_subdomains))
        goto nomem;
    st->added++;
    return 0;
nomem:
    issuer_set_free(d);
    return POLICY_ENOMEM;
}

static int match_copy(struct policy_match *d, const struct policy_match *s)
{
    if (nets_copy(&d->client_subnets, &s->client_subnets) < 0 || strs_copy(&d->sni, &s->sni) < 0 ||
        nets_copy(&d->server_addresses, &s->server_addresses) < 0)
        return POLICY_ENOMEM;
    return 0;
}

static int merge_client(struct policy *dst, const struct policy_client_baseline *s,
                        struct policy_merge_stats *st)
{
    size_t pos;
    if (ix_search(&dst->client_ix, s->name, strlen(s->name), &pos)) {
        struct policy_client_baseline *d = dst->clients[dst->client_ix.v[pos].idx];
        if (!d->origin.learned) {
            st->kept++;
            return 1;
        }
        if (union_strs(&d->ja4, &s->ja4, POLICY_MAX_VALUES, &st->capped) < 0 ||
            union_strs(&d->ja3, &s->ja3, POLICY_MAX_VALUES, &st->capped) < 0 ||
            union_strs(&d->tls_versions, &s->tls_versions, POLICY_MAX_VALUES, &st->capped) < 0 ||
            union_strs(&d->alpn, &s->alpn, POLICY_MAX_VALUES, &st->capped) < 0)
            return POLICY_ENOMEM;
        origin_add(&d->origin, &s->origin);
        if (origin_comment(&d->origin, &d->comment) < 0)
            return POLICY_ENOMEM;
        st->extended++;
        return 0;
    }
    if (dst->n_clients >= POLICY_MAX_ENTRIES) {
        st->capped++;
        return POLICY_ECAP;
    }
    struct policy_client_baseline *d = calloc(1, sizeof(*d));
    if (!d || !(d->name = dup_str(s->name)) || match_copy(&d->match, &s->match) < 0 ||
        strs_copy(&d->ja4, &s->ja4) < 0 || strs_copy(&d->ja3, &s->ja3) < 0 ||
        strs_copy(&d->tls_versions, &s->tls_versions) < 0 || strs_copy(&d->alpn, &s->alpn) < 0)
        goto nomem;
    d->origin = s->origin;
    d->origin.learned = true;
    if (origin_comment(&d->origin, &d->comment) < 0 ||
        !add_entry(&dst->clients, &dst->n_clients, &dst->cap_clients, &dst->client_ix,
                   pos, d, d->name, false))
        goto nomem;
    st->added++;
    return 0;
nomem:
    client_free(d);
    return POLICY_ENOMEM;
}

static int merge_server(struct policy *dst, const struct policy_server_baseline *s,
                        struct policy_merge_stats *st)
{
    size_t pos;
    if (ix_search(&dst->server_ix, s->name, strlen(s->name), &pos)) {
        struct policy_server_baseline *d = dst->servers[dst->server_ix.v[pos].idx];
        if (!d->origin.learned) {
            st->kept++;
            return 1;
        }
        if (union_strs(&d->ja4s, &s->ja4s, POLICY_MAX_VALUES, &st->capped) < 0 ||
            union_strs(&d->ja3s, &s->ja3s, POLICY_MAX_VALUES, &st->capped) < 0 ||
            union_strs(&d->alpn, &s->alpn, POLICY_MAX_VALUES, &st->capped) < 0)
            return POLICY_ENOMEM;
        if (s->min_tls_code && (!d->min_tls_code || s->min_tls_code < d->min_tls_code)) {
            d->min_tls_code = s->min_tls_code;
            d->min_tls_version = s->min_tls_version;
        }
        origin_add(&d->origin, &s->origin);
        if (origin_comment(&d->origin, &d->comment) < 0)
            return POLICY_ENOMEM;
        st->extended++;
        return 0;
    }
    if (dst->n_servers >= POLICY_MAX_ENTRIES) {
        st->capped++;
        return POLICY_ECAP;
    }
    struct policy_server_baseline *d = calloc(1, sizeof(*d));
    if (!d || !(d->name = dup_str(s->name)) || match_copy(&d->match, &s->match) < 0 ||
        strs_copy(&d->ja4s, &s->ja4s) < 0 || strs_copy(&d->ja3s, &s->ja3s) < 0 ||
        strs_copy(&d->alpn, &s->alpn) < 0)
        goto nomem;
    d->min_tls_version = s->min_tls_version;
    d->min_tls_code = s->min_tls_code;
    d->origin = s->origin;
    d->origin.learned = true;
    if (origin_comment(&d->origin, &d->comment) < 0 ||
        !add_entry(&dst->servers, &dst->n_servers, &dst->cap_servers, &dst->server_ix,
                   pos, d, d->name, false))
        goto nomem;
    st->added++;
    return 0;
nomem:
    server_free(d);
    return POLICY_ENOMEM;
}

int policy_merge(struct policy *dst, const struct policy *src, struct policy_merge_stats *stats)
{
    struct policy_merge_stats local;
    struct policy_merge_stats *st = stats_or(stats, &local);
    memset(st, 0, sizeof(*st));
    if (!dst || !src)
        return POLICY_EINVAL;
    /* ECAP from one entry does not stop the others (other sections may
     * have room); ENOMEM does. */
    for (size_t i = 0; i < src->n_pin_sets; i++) {
        const struct policy_pin_set *s = src->pin_sets[i];
        if (!s->origin.learned)
            st->skipped++;
        else if (merge_pin_set(dst, s, st) == POLICY_ENOMEM)
            return POLICY_ENOMEM;
    }
    for (size_t i = 0; i < src->n_issuer_sets; i++) {
        const struct policy_issuer_set *s = src->issuer_sets[i];
        if (!s->origin.learned)
            st->skipped++;
        else if (merge_issuer_set(dst, s, st) == POLICY_ENOMEM)
            return POLICY_ENOMEM;
    }
    for (size_t i = 0; i < src->n_clients; i++) {
        const struct policy_client_baseline *s = src->clients[i];
        if (!s->origin.learned)
            st->skipped++;
        else if (merge_client(dst, s, st) == POLICY_ENOMEM)
            return POLICY_ENOMEM;
    }
    for (size_t i = 0; i < src->n_servers; i++) {
        const struct policy_server_baseline *s = src->servers[i];
        if (!s->origin.learned)
            st->skipped++;
        else if (merge_server(dst, s, st) == POLICY_ENOMEM)
            return POLICY_ENOMEM;
    }
    return 0;
}

/* Learning builds a one-observation entry on the stack, borrowing the
 * caller's strings (never freed or modified: the casts drop const only to
 * fit the shared struct), and merges it. */

static int learn_result(struct policy *p, int rc, const struct policy_merge_stats *st)
{
    p->learn_capped += st->capped;
    return rc;
}

static struct policy_origin one_observation(int64_t when)
{
    return (struct policy_origin){.learned = true, .connections = 1, .last_seen = day_of(when)};
}

static bool given(const char *s)
{
    return s && *s;
}

int policy_learn_pin(struct policy *p, const char *domain, const uint8_t spki[POLICY_SPKI_LEN],
                     int64_t when)
{
    char dom[POLICY_MAX_DOMAIN + 1];
    if (!p || !domain || !spki || !domain_norm(domain, strlen(domain), dom, false))
        return POLICY_EINVAL;
    uint8_t pin[1][POLICY_SPKI_LEN];
    memcpy(pin[0], spki, POLICY_SPKI_LEN);
    struct policy_pin_set s = {.domain = dom, .pins = {pin, 1}, .origin = one_observation(when)};
    struct policy_merge_stats st = {0};
    return learn_result(p, merge_pin_set(p, &s, &st), &st);
}

int policy_learn_issuer(struct policy *p, const char *domain, const char *issuer_dn,
                        const uint8_t issuer_spki[POLICY_SPKI_LEN], int64_t when)
{
    char dom[POLICY_MAX_DOMAIN + 1];
    if (!p || !domain || !domain_norm(domain, strlen(domain), dom, false))
        return POLICY_EINVAL;
    if (!given(issuer_dn) && !issuer_spki)
        return POLICY_EINVAL;
    if (given(issuer_dn) && !issuer_ok(issuer_dn))
        return POLICY_EINVAL;
    char *dn[1] = {(char *)issuer_dn};
    uint8_t pin[1][POLICY_SPKI_LEN];
    if (issuer_spki)
        memcpy(pin[0], issuer_spki, POLICY_SPKI_LEN);
    struct policy_issuer_set s = {.domain = dom,
                                  .issuers = {dn, given(issuer_dn) ? 1 : 0},
                                  .issuer_pins = {pin, issuer_spki ? 1 : 0},
                                  .origin = one_observation(when)};
    struct policy_merge_stats st = {0};
    return learn_result(p, merge_issuer_set(p, &s, &st), &st);
}

/* One optional value for a learned list: *out stays {NULL,0} when the
 * value is absent; false when it is present but invalid. */
static bool learn_value(enum vkind k, const char *v, char buf[VBUF_LEN], char *slot[1],
                        struct policy_strs *out)
{
    if (!given(v))
        return true;
    const char *n = vnorm(k, v, buf);
    if (!n)
        return k == V_VERSION; /* unnamed versions are skipped, not an error */
    slot[0] = (char *)n;
    out->v = slot;
    out->n = 1;
    return true;
}

static bool ip_ok(const uint8_t *ip, int ver)
{
    return ip && (ver == 4 || ver == 6);
}

int policy_learn_client(struct policy *p, const uint8_t *ip, int ip_ver, const char *ja4,
                        const char *ja3, const char *version, const char *alpn, int64_t when)
{
    if (!p || !ip_ok(ip, ip_ver))
        return POLICY_EINVAL;
    struct policy_cidr net = {.ver = (uint8_t)ip_ver, .prefix = ip_ver == 4 ? 24 : 64};
    memcpy(net.addr, ip, ip_ver == 4 ? 3 : 8);
    char b1[VBUF_LEN], b2[VBUF_LEN], b3[VBUF_LEN], b4[VBUF_LEN];
    char *s1[1], *s2[1], *s3[1], *s4[1];
    struct policy_client_baseline b = {.origin = one_observation(when)};
    if (!learn_value(V_JA4, ja4, b1, s1, &b.ja4) || !learn_value(V_JA3, ja3, b2, s2, &b.ja3) ||
        !learn_value(V_VERSION, version, b3, s3, &b.tls_versions) ||
        !learn_value(V_ALPN, alpn, b4, s4, &b.alpn))
        return POLICY_EINVAL;
    if (!b.ja4.n && !b.ja3.n && !b.tls_versions.n && !b.alpn.n)
        return POLICY_EINVAL;
    char name[POLICY_MAX_NAME + 1], txt[64];
    cidr_format(&net, txt);
    snprintf(name, sizeof(name), "learned-client-%s", txt);
    b.name = name;
    b.match.client_subnets = (struct policy_nets){&net, 1};
    struct policy_merge_stats st = {0};
    return learn_result(p, merge_client(p, &b, &st), &st);
}

int policy_learn_server(struct policy *p, const char *sni, const uint8_t *server_ip,
                        int ip_ver, const char *ja4s, const char *ja3s, const char *version,
                        const char *alpn, int64_t when)
{
    if (!p)
        return POLICY_EINVAL;
    char dom[POLICY_MAX_DOMAIN + 1];
    bool have_sni = given(sni) && domain_norm(sni, strlen(sni), dom, false);
    if (!have_sni && !ip_ok(server_ip, ip_ver))
        return POLICY_EINVAL;
    char b1[VBUF_LEN], b2[VBUF_LEN], b3[VBUF_LEN];
    char *s1[1], *s2[1], *s3[1];
    struct policy_server_baseline b = {.origin = one_observation(when)};
    if (!learn_value(V_JA4S, ja4s, b1, s1, &b.ja4s) ||
        !learn_value(V_JA3S, ja3s, b2, s2, &b.ja3s) || !learn_value(V_ALPN, alpn, b3, s3, &b.alpn))
        return POLICY_EINVAL;
    b.min_tls_version = policy_version_canonical(version);
    b.min_tls_code = version_code(version);
    if (!b.ja4s.n && !b.ja3s.n && !b.min_tls_version && !b.alpn.n)
        return POLICY_EINVAL;
    char name[POLICY_MAX_NAME + 1], txt[64];
    char *sni_slot[1] = {dom};
    struct policy_cidr addr = {.ver = (uint8_t)ip_ver, .prefix = ip_ver == 4 ? 32 : 128};
    if (have_sni) {
        snprintf(name, sizeof(name), "learned-server-%s", dom);
        b.match.sni = (struct policy_strs){sni_slot, 1};
    } else {
        memcpy(addr.addr, server_ip, ip_ver == 4 ? 4 : 16);
        cidr_format(&addr, txt);
        snprintf(name, sizeof(name), "learned-server-%s", txt);
        b.match.server_addresses = (struct policy_nets){&addr, 1};
    }
    b.name = name;
    struct policy_merge_stats st = {0};
    return learn_result(p, merge_server(p, &b, &st), &st);
}

/* ---- lookups and checks ------------------------------------------------ */

const struct policy_pin_set *policy_find_pinset(const struct policy *p, const char *sni,
                                                size_t len)
{
    char name[POLICY_MAX_DOMAIN + 1];
    size_t n;
    if (!p || !sni || !(n = domain_norm(sni, len, name, false)))
        return NULL;
    ssize_t i = ix_lookup_domain(&p->pin_ix, name, n);
    return i >= 0 ? p->pin_sets[i] : NULL;
}

const struct policy_issuer_set *policy_find_issuers(const struct policy *p, const char *sni,
                                                    size_t len)
{
    char name[POLICY_MAX_DOMAIN + 1];
    size_t n;
    if (!p || !sni || !(n = domain_norm(sni, len, name, false)))
        return NULL;
    ssize_t i = ix_lookup_domain(&p->issuer_ix, name, n);
    return i >= 0 ? p->issuer_sets[i] : NULL;
}

int policy_pinset_check(const struct policy_pin_set *set, const uint8_t (*spkis)[POLICY_SPKI_LEN],
                        size_t n, int64_t capture_time_s, struct policy_pin_result *out)
{
    if (!set || !out || (!spkis && n))
        return POLICY_EINVAL;
    memset(out, 0, sizeof(*out));
    out->expired = set->has_expires && capture_time_s >= set->expires + POLICY_DAY;
    for (size_t c = 0; c < n; c++) {
        ssize_t i = pins_find(&set->pins, spkis[c]);
        bool backup = false;
        if (i < 0 && (i = pins_find(&set->backup_pins, spkis[c])) >= 0)
            backup = true;
        if (i >= 0) {
            out->matched = true;
            out->backup = backup;
            out->cert_index = c;
            out->pin_index = (size_t)i;
            return 1;
        }
    }
    return 0;
}

int policy_issuer_check(const struct policy_issuer_set *set, const char *issuer_dn,
                        const char *issuer_cn, const uint8_t issuer_spki[POLICY_SPKI_LEN],
                        struct policy_issuer_result *out)
{
    if (!set || !out)
        return POLICY_EINVAL;
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < set->issuers.n; i++) {
        const char *want = set->issuers.v[i];
        bool is_dn = strchr(want, '=') != NULL;
        if (is_dn ? (issuer_dn && dn_equal(want, issuer_dn))
                  : (issuer_cn && ascii_caseeq(want, issuer_cn))) {
            out->verdict = POLICY_ISSUER_MATCH;
            out->by = is_dn ? POLICY_ISSUER_BY_DN : POLICY_ISSUER_BY_CN;
            out->index = i;
            return out->verdict;
        }
    }
    if (issuer_spki) {
        ssize_t i = pins_find(&set->issuer_pins, issuer_spki);
        if (i >= 0) {
            out->verdict = POLICY_ISSUER_MATCH;
            out->by = POLICY_ISSUER_BY_PIN;
            out->index = (size_t)i;
            return out->verdict;
        }
    } else if (set->issuer_pins.n) {
        out->verdict = POLICY_ISSUER_UNKNOWN;
        return out->verdict;
    }
    out->verdict = POLICY_ISSUER_MISMATCH;
    return out->verdict;
}

static bool nets_match(const struct policy_nets *n, const uint8_t *ip, int ver)
{
    if (n->n == 0)
        return true;
    for (size_t i = 0; i < n->n; i++)
        if (cidr_contains(&n->v[i], ip, ver))
            return true;
    return false;
}

/* name: normalised SNI (nlen bytes) or NULL. */
static bool sni_match(const struct policy_strs *s, const char *name, size_t nlen)
{
    if (s->n == 0)
        return true;
    if (!name)
        return false;
    for (size_t i = 0; i < s->n; i++) {
        const char *w = s->v[i];
        size_t wl = strlen(w);
        if (w[0] == '*') {
            /* "*.x": nlen > len(".x") and the name ends with ".x" */
            if (nlen > wl - 1 && memcmp(name + nlen - (wl - 1), w + 1, wl - 1) == 0)
                return true;
        } else if (wl == nlen && memcmp(name, w, nlen) == 0) {
            return true;
        }
    }
    return false;
}

static bool match_ok(const struct policy_match *m, const uint8_t *client_ip, int ver,
                     const char *name, size_t nlen, const uint8_t *server_ip)
{
    return nets_match(&m->client_subnets, client_ip, ver) && sni_match(&m->sni, name, nlen) &&
           nets_match(&m->server_addresses, server_ip, ver);
}

size_t policy_find_client_baselines(const struct policy *p, const uint8_t *client_ip,
                                    int ip_ver, const char *sni, size_t sni_len,
                                    const uint8_t *server_ip,
                                    const struct policy_client_baseline **out, size_t max_out)
{
    char buf[POLICY_MAX_DOMAIN + 1];
    size_t nlen = (p && sni) ? domain_norm(sni, sni_len, buf, false) : 0;
    const char *name = nlen ? buf : NULL;
    size_t found = 0;
    for (size_t i = 0; p && i < p->n_clients; i++) {
        const struct policy_client_baseline *b = p->clients[i];
        if (!match_ok(&b->match, client_ip, ip_ver, name, nlen, server_ip))
            continue;
        if (out && found < max_out)
            out[found] = b;
        found++;
    }
    return found;
}

size_t policy_find_server_baselines(const struct policy *p, const uint8_t *client_ip,
                                    int ip_ver, const char *sni, size_t sni_len,
                                    const uint8_t *server_ip,
                                    const struct policy_server_baseline **out, size_t max_out)
{
    char buf[POLICY_MAX_DOMAIN + 1];
    size_t nlen = (p && sni) ? domain_norm(sni, sni_len, buf, false) : 0;
    const char *name = nlen ? buf : NULL;
    size_t found = 0;
    for (size_t i = 0; p && i < p->n_servers; i++) {
        const struct policy_server_baseline *b = p->servers[i];
        if (!match_ok(&b->match, client_ip, ip_ver, name, nlen, server_ip))
            continue;
        if (out && found < max_out)
            out[found] = b;
        found++;
    }
    return found;
}

static void dev_add(struct policy_dev *d, enum policy_attr a, const char *key, const char *seen,
                    const char *const *expected, size_t n_expected)
{
    if (d->n < POLICY_DEV_MAX)
        d->item[d->n++] = (struct policy_dev_item){a, key, seen, expected, n_expected};
}

static void check_list(struct policy_dev *d, enum policy_attr a, const char *key,
                       const struct policy_strs *list, const char *seen)
{
    if (list->n && given(seen) && strs_find(list, seen) < 0)
        dev_add(d, a, key, seen, (const char *const *)list->v, list->n);
}

int policy_client_check(const struct policy_client_baseline *b, const char *ja4,
                        const char *ja3, const char *version, const char *alpn_first,
                        struct policy_dev *out)
{
    if (!b || !out)
        return POLICY_EINVAL;
    memset(out, 0, sizeof(*out));
    check_list(out, POLICY_ATTR_JA4, "ja4", &b->ja4, ja4);
    check_list(out, POLICY_ATTR_JA3, "ja3", &b->ja3, ja3);
    if (b->tls_versions.n && given(version)) {
        uint16_t code = version_code(version);
        bool ok = false;
        for (size_t i = 0; code && i < b->tls_versions.n; i++)
            ok |= version_code(b->tls_versions.v[i]) == code;
        if (!ok)
            dev_add(out, POLICY_ATTR_TLS_VERSION, "tls_versions", version,
                    (const char *const *)b->tls_versions.v, b->tls_versions.n);
    }
    check_list(out, POLICY_ATTR_ALPN, "alpn", &b->alpn, alpn_first);
    return (int)out->n;
}

int policy_server_check(const struct policy_server_baseline *b, const char *ja4s,
                        const char *ja3s, const char *version, const char *alpn,
                        struct policy_dev *out)
{
    if (!b || !out)
        return POLICY_EINVAL;
    memset(out, 0, sizeof(*out));
    check_list(out, POLICY_ATTR_JA4S, "ja4s", &b->ja4s, ja4s);
    check_list(out, POLICY_ATTR_JA3S, "ja3s", &b->ja3s, ja3s);
    if (b->min_tls_code && given(version)) {
        uint16_t code = version_code(version);
        if (code && code < b->min_tls_code)
            dev_add(out, POLICY_ATTR_MIN_TLS_VERSION, "min_tls_version", version,
                    &b->min_tls_version, 1);
    }
    check_list(out, POLICY_ATTR_ALPN, "alpn", &b->alpn, alpn);
    return (int)out->n;
}
