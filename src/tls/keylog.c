/*
 * keylog.c - the NSS key log store (see keylog.h).
 *
 * Text is split into lines and each line into whitespace-separated fields
 * through the bounds-checked reader; nothing here indexes the input
 * directly.  The store is a chained hash table keyed by SipHash of the
 * client random, grown by doubling up to the power of two that covers
 * max_entries.  An entry is one allocation holding only the secrets known
 * for its random, packed in label order after a header that says which
 * labels are present and which of them are 48 bytes long; a new label
 * moves the entry to a larger allocation and wipes the old one.  It does
 * not know what the secrets are for.
 */
#include "tls/keylog.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "util/hash.h"
#include "util/hex.h"
#include "util/rd.h"

#define KEYLOG_BUCKETS_MIN  256           /* initial bucket array */
#define KEYLOG_READ_CHUNK   (64 * 1024)   /* file read buffer */
#define KEYLOG_SECRET_SHORT 32            /* a SHA-256 suite's secret; the long one is 48 */

/* All secrets known for one client random. */
struct keylog_entry {
    struct keylog_entry *next;            /* hash chain */
    uint8_t client_random[KEYLOG_RANDOM_LEN];
    uint8_t present;                      /* bit l: label l is known */
    uint8_t wide;                         /* bit l: its secret is 48 bytes (else 32) */
    uint8_t v[];                          /* the known secrets, packed in label order */
};

#define KEYLOG_ENTRY_HEAD offsetof(struct keylog_entry, v)

struct keylog {
    struct keylog_entry **b;
    size_t nb;            /* buckets, a power of two */
    size_t nb_max;        /* growth stops here */
    size_t n;             /* entries */
    size_t max;           /* entry cap */
    struct hash_key key;
    struct keylog_counts c;
    uint64_t lines_mark, malformed_mark;   /* counts when the current file began */
};

static const struct {
    const char *name;
    int label;            /* enum keylog_label, or -1: recognised, not kept */
} label_table[] = {
    { "CLIENT_RANDOM", KEYLOG_CLIENT_RANDOM },
    { "CLIENT_EARLY_TRAFFIC_SECRET", KEYLOG_CLIENT_EARLY_TRAFFIC_SECRET },
    { "CLIENT_HANDSHAKE_TRAFFIC_SECRET", KEYLOG_CLIENT_HANDSHAKE_TRAFFIC_SECRET },
    { "SERVER_HANDSHAKE_TRAFFIC_SECRET", KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET },
    { "CLIENT_TRAFFIC_SECRET_0", KEYLOG_CLIENT_TRAFFIC_SECRET_0 },
    { "SERVER_TRAFFIC_SECRET_0", KEYLOG_SERVER_TRAFFIC_SECRET_0 },
    { "EXPORTER_SECRET", KEYLOG_EXPORTER_SECRET },
    { "EARLY_EXPORTER_SECRET", -1 },
    { "RSA", -1 },
    { "ECH_SECRET", -1 },
    { "ECH_CONFIG", -1 },
};

const char *keylog_label_name(enum keylog_label l)
{
    for (size_t i = 0; i < sizeof label_table / sizeof label_table[0]; i++)
        if (label_table[i].label >= 0 && label_table[i].label == (int)l)
            return label_table[i].name;
    return "?";
}

static size_t pow2_at_least(size_t n)
{
    size_t p = 1;
    while (p < n && p <= SIZE_MAX / 2)
        p <<= 1;
    return p;
}

struct keylog *keylog_new(size_t max_entries)
{
    if (max_entries == 0)
        max_entries = KEYLOG_MAX_ENTRIES_DEFAULT;
    if (max_entries > KEYLOG_MAX_ENTRIES_LIMIT)
        return NULL;
    struct keylog *kl = calloc(1, sizeof *kl);
    if (!kl)
        return NULL;
    kl->max = max_entries;
    kl->nb_max = pow2_at_least(max_entries);
    kl->nb = kl->nb_max < KEYLOG_BUCKETS_MIN ? kl->nb_max : KEYLOG_BUCKETS_MIN;
    kl->b = calloc(kl->nb, sizeof *kl->b);
    if (!kl->b) {
        free(kl);
        return NULL;
    }
    hash_random_key(&kl->key);
    return kl;
}

/* Bytes of the secrets of labels below `label` that e holds: the offset of
 * label's secret in e->v (KEYLOG_LABEL_COUNT: all of them). */
static size_t secrets_below(const struct keylog_entry *e, int label)
{
    size_t n = 0;
    for (int l = 0; l < label; l++)
        if (e->present & (1u << l))
            n += e->wide & (1u << l) ? KEYLOG_SECRET_MAX : KEYLOG_SECRET_SHORT;
    return n;
}

static size_t entry_size(const struct keylog_entry *e)
{
    return KEYLOG_ENTRY_HEAD + secrets_below(e, KEYLOG_LABEL_COUNT);
}

void keylog_free(struct keylog *kl)
{
    if (!kl)
        return;
    for (size_t i = 0; i < kl->nb; i++) {
        struct keylog_entry *e = kl->b[i];
        while (e) {
            struct keylog_entry *next = e->next;
            OPENSSL_cleanse(e, entry_size(e));
            free(e);
            e = next;
        }
    }
    free(kl->b);
    OPENSSL_cleanse(&kl->key, sizeof kl->key);
    free(kl);
}

static size_t bucket_of(const struct keylog *kl, const uint8_t *cr)
{
    return (size_t)hash_siphash(&kl->key, cr, KEYLOG_RANDOM_LEN) & (kl->nb - 1);
}

const struct keylog_entry *keylog_find(const struct keylog *kl,
                                       const uint8_t client_random[KEYLOG_RANDOM_LEN])
{
    if (!kl || !client_random)
        return NULL;
    for (const struct keylog_entry *e = kl->b[bucket_of(kl, client_random)]; e; e = e->next)
        if (memcmp(e->client_random, client_random, KEYLOG_RANDOM_LEN) == 0)
            return e;
    return NULL;
}

struct keylog_secret keylog_entry_secret(const struct keylog_entry *e, enum keylog_label l)
{
    struct keylog_secret s = { 0, NULL };
    if (!e || (unsigned)l >= KEYLOG_LABEL_COUNT || !(e->present & (1u << l)))
        return s;
    s.len = e->wide & (1u << l) ? KEYLOG_SECRET_MAX : KEYLOG_SECRET_SHORT;
    s.v = e->v + secrets_below(e, (int)l);
    return s;
}

const uint8_t *keylog_entry_random(const struct keylog_entry *e)
{
    return e ? e->client_random : NULL;
}

size_t keylog_size(const struct keylog *kl)
{
    return kl ? kl->n : 0;
}

const struct keylog_counts *keylog_counts(const struct keylog *kl)
{
    return kl ? &kl->c : NULL;
}

/* Double the bucket array.  On allocation failure the old array stays (the
 * table still works, with longer chains). */
static void grow(struct keylog *kl)
{
    size_t nb = kl->nb * 2;
    struct keylog_entry **b = calloc(nb, sizeof *b);
    if (!b)
        return;
    size_t old_nb = kl->nb;
    struct keylog_entry **old = kl->b;
    kl->b = b;
    kl->nb = nb;
    for (size_t i = 0; i < old_nb; i++) {
        struct keylog_entry *e = old[i];
        while (e) {
            struct keylog_entry *next = e->next;
            size_t h = bucket_of(kl, e->client_random);
            e->next = b[h];
            b[h] = e;
            e = next;
        }
    }
    free(old);
}

/* Store one secret.  Returns 1 if stored, 0 if not (counted), or
 * KEYLOG_E_NOMEM. */
static int store(struct keylog *kl, const uint8_t *cr, int label, const uint8_t *secret,
                 size_t len)
{
    size_t h = bucket_of(kl, cr);
    struct keylog_entry **pe;
    for (pe = &kl->b[h]; *pe; pe = &(*pe)->next)
        if (memcmp((*pe)->client_random, cr, KEYLOG_RANDOM_LEN) == 0)
            break;
    struct keylog_entry *e = *pe;
    if (e && (e->present & (1u << label))) {
        struct keylog_secret s = keylog_entry_secret(e, (enum keylog_label)label);
        if (s.len == len && CRYPTO_memcmp(s.v, secret, len) == 0)
            kl->c.duplicates++;
        else
            kl->c.conflicts++;
        return 0;
    }
    if (!e && kl->n >= kl->max) {
        kl->c.capped++;
        return 0;
    }

    /* The entry with the new secret in its place: the old one's header and
     * secrets around it, or a new header. */
    size_t old = e ? entry_size(e) : KEYLOG_ENTRY_HEAD;
    size_t at = e ? secrets_below(e, label) : 0;
    struct keylog_entry *ne = malloc(old + len);
    if (!ne)
        return KEYLOG_E_NOMEM;
    if (e) {
        memcpy(ne, e, KEYLOG_ENTRY_HEAD + at);
        memcpy(ne->v + at + len, e->v + at, old - KEYLOG_ENTRY_HEAD - at);
        *pe = ne;
        OPENSSL_cleanse(e, old);
        free(e);
    } else {
        memcpy(ne->client_random, cr, KEYLOG_RANDOM_LEN);
        ne->present = 0;
        ne->wide = 0;
        ne->next = kl->b[h];
        kl->b[h] = ne;
        kl->n++;
    }
    memcpy(ne->v + at, secret, len);
    ne->present |= (uint8_t)(1u << label);
    if (len == KEYLOG_SECRET_MAX)
        ne->wide |= (uint8_t)(1u << label);
    kl->c.secrets++;
    if (!e && kl->n > kl->nb && kl->nb < kl->nb_max)
        grow(kl);
    return 1;
}

static bool is_blank(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\0';
}

static void skip_blank(struct rd *r)
{
    while (rd_has(r, 1) && is_blank(rd_peek(r, 0)))
        rd_skip(r, 1);
}

/* Next field of a line: a maximal run of non-blank bytes. */
static bool next_field(struct rd *line, struct rd *f)
{
    skip_blank(line);
    const uint8_t *p = rd_ptr(line);
    size_t left = rd_left(line), n = 0;
    while (n < left && !is_blank(p[n]))
        n++;
    if (n == 0)
        return false;
    return rd_sub(line, n, f);
}

/* Decode a field of exactly 2*n hex digits into out[n]. */
static bool hex_field(struct rd *f, uint8_t *out, size_t n)
{
    if (rd_left(f) != 2 * n || !hex_decode(rd_ptr(f), n, out))
        return false;
    rd_skip(f, 2 * n);
    return true;
}

static int find_label(struct rd *f, bool *known)
{
    size_t n = rd_left(f);
    for (size_t i = 0; i < sizeof label_table / sizeof label_table[0]; i++) {
        if (strlen(label_table[i].name) == n && memcmp(rd_ptr(f), label_table[i].name, n) == 0) {
            *known = true;
            return label_table[i].label;
        }
    }
    *known = false;
    return -1;
}

static void bad_line(struct keylog *kl)
{
    if (kl->c.malformed++ == kl->malformed_mark)
        kl->c.first_malformed = kl->c.lines - kl->lines_mark;
}

/* One line without its LF.  Returns 1 if a secret was stored, 0 if not,
 * or KEYLOG_E_NOMEM. */
static int parse_line(struct keylog *kl, struct rd *line)
{
    kl->c.lines++;
    if (rd_left(line) > KEYLOG_LINE_MAX) {
        bad_line(kl);
        return 0;
    }
    skip_blank(line);
    if (!rd_has(line, 1) || rd_peek(line, 0) == '#')
        return 0;

    struct rd f_label, f_random, f_secret, f_extra;
    if (!next_field(line, &f_label) || !next_field(line, &f_random) ||
        !next_field(line, &f_secret) || next_field(line, &f_extra)) {
        bad_line(kl);
        return 0;
    }
    bool known;
    int label = find_label(&f_label, &known);

    uint8_t cr[KEYLOG_RANDOM_LEN];
    uint8_t secret[KEYLOG_SECRET_MAX];
    size_t slen = rd_left(&f_secret) / 2;
    int rc = 0;
    if (!known) {
        bad_line(kl);
    } else if (label < 0) {
        kl->c.ignored++;   /* RSA's first field is 8 bytes: not a client random */
    } else if (!hex_field(&f_random, cr, sizeof cr) ||
               (label == KEYLOG_CLIENT_RANDOM ? slen != 48 : (slen != 32 && slen != 48)) ||
               !hex_field(&f_secret, secret, slen)) {
        bad_line(kl);
    } else {
        rc = store(kl, cr, label, secret, slen);
    }
    OPENSSL_cleanse(secret, sizeof secret);
    return rc;
}

/* Add a per-call stored count without overflowing int. */
static int add_sat(int total, int rc)
{
    return total == INT_MAX ? total : total + rc;
}

/* Walk the complete lines of buf.  If `partial` is set, a last line without
 * LF is left unparsed and its offset returned in *rest; otherwise it is
 * parsed.  Returns secrets stored or KEYLOG_E_NOMEM. */
static int parse_lines(struct keylog *kl, const uint8_t *buf, size_t len, bool partial,
                       size_t *rest)
{
    struct rd r;
    int total = 0;
    rd_init(&r, buf, len);
    while (rd_has(&r, 1)) {
        const uint8_t *nl = memchr(rd_ptr(&r), '\n', rd_left(&r));
        size_t n = nl ? (size_t)(nl - rd_ptr(&r)) : rd_left(&r);
        if (!nl && partial)
            break;
        struct rd line;
        rd_sub(&r, n, &line);
        if (nl)
            rd_skip(&r, 1);
        int rc = parse_line(kl, &line);
        if (rc < 0)
            return rc;
        total = add_sat(total, rc);
    }
    if (rest)
        *rest = r.off;
    return total;
}

int keylog_load_buffer(struct keylog *kl, const uint8_t *data, size_t len)
{
    if (!kl || (!data && len))
        return KEYLOG_E_ARG;
    return parse_lines(kl, data, len, false, NULL);
}

static void set_err(char *err, size_t errlen, const char *path, const char *why)
{
    if (err && errlen)
        snprintf(err, errlen, "keylog %s: %s", path, why);
}

int keylog_load_file(struct keylog *kl, const char *path, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!kl || !path) {
        set_err(err, errlen, path ? path : "(null)", "invalid argument");
        return KEYLOG_E_ARG;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        set_err(err, errlen, path, strerror(errno));
        return KEYLOG_E_OPEN;
    }
    uint8_t *buf = malloc(KEYLOG_READ_CHUNK);
    if (!buf) {
        fclose(f);
        set_err(err, errlen, path, "out of memory");
        return KEYLOG_E_NOMEM;
    }
    int total = 0, rc = 0;
    size_t have = 0;
    uint64_t read_total = 0, secrets0 = kl->c.secrets, ignored0 = kl->c.ignored;
    uint64_t repeats0 = kl->c.duplicates + kl->c.conflicts;
    bool skipping = false;   /* inside a line that overflowed the buffer */
    kl->lines_mark = kl->c.lines;
    kl->malformed_mark = kl->c.malformed;
    kl->c.first_malformed = 0;
    for (;;) {
        size_t got = fread(buf + have, 1, KEYLOG_READ_CHUNK - have, f);
        have += got;
        read_total += got;
        if (read_total > KEYLOG_FILE_MAX) {
            rc = KEYLOG_E_TOOBIG;
            char why[96];
            snprintf(why, sizeof(why), "more than %llu MiB: not a key log, or far too large",
                     (unsigned long long)(KEYLOG_FILE_MAX >> 20));
            set_err(err, errlen, path, why);
            break;
        }
        bool end = got == 0;
        size_t start = 0;
        if (skipping) {
            /* Drop the rest of an over-long line, already counted. */
            const uint8_t *nl = memchr(buf, '\n', have);
            if (nl) {
                start = (size_t)(nl - buf) + 1;
                skipping = false;
            } else {
                start = have;
            }
        }
        size_t rest = 0;
        rc = parse_lines(kl, buf + start, have - start, !end, &rest);
        if (rc < 0)
            break;
        total = add_sat(total, rc);
        start += rest;
        memmove(buf, buf + start, have - start);
        have -= start;
        if (have == KEYLOG_READ_CHUNK) {
            /* No LF in a full buffer: a line far over KEYLOG_LINE_MAX. */
            kl->c.lines++;
            bad_line(kl);
            skipping = true;
            have = 0;
        }
        if (end)
            break;
    }
    uint64_t bad = kl->c.malformed - kl->malformed_mark;
    if (rc >= 0 && ferror(f)) {
        rc = KEYLOG_E_READ;
        set_err(err, errlen, path, "read error");
    } else if (rc == KEYLOG_E_NOMEM) {
        set_err(err, errlen, path, "out of memory");
    } else if (rc >= 0 && bad > 0 && kl->c.secrets == secrets0 && kl->c.ignored == ignored0 &&
               kl->c.duplicates + kl->c.conflicts == repeats0) {
        char why[160];
        snprintf(why, sizeof(why), "not a key log: line %llu is not \"LABEL <client random> "
                 "<secret>\" (NSS key log format), nor any other line",
                 (unsigned long long)kl->c.first_malformed);
        set_err(err, errlen, path, why);
        rc = KEYLOG_E_NOTKEYLOG;
    } else if (rc >= 0 && bad > 0) {
        char why[160];
        snprintf(why, sizeof(why), "%llu malformed line%s skipped, the first is line %llu",
                 (unsigned long long)bad, bad == 1 ? "" : "s",
                 (unsigned long long)kl->c.first_malformed);
        set_err(err, errlen, path, why);
    }
    OPENSSL_cleanse(buf, KEYLOG_READ_CHUNK);
    free(buf);
    fclose(f);
    return rc < 0 ? rc : total;
}

const char *keylog_summary(const struct keylog *kl, char *buf, size_t len)
{
    if (!buf || !len)
        return buf;
    if (!kl) {
        snprintf(buf, len, "no key log");
        return buf;
    }
    const struct keylog_counts *c = &kl->c;
    int n = snprintf(buf, len, "%llu secrets for %zu client randoms",
                     (unsigned long long)c->secrets, kl->n);
    struct {
        uint64_t v;
        const char *what;
    } extra[] = {
        { c->malformed, "malformed lines skipped" },
        { c->ignored, "lines with unused labels" },
        { c->duplicates, "duplicates" },
        { c->conflicts, "conflicting secrets (first kept)" },
        { c->capped, "secrets dropped at the entry cap" },
    };
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
        if (!extra[i].v || n < 0 || (size_t)n >= len)
            continue;
        n += snprintf(buf + n, len - (size_t)n, "; %llu %s",
                      (unsigned long long)extra[i].v, extra[i].what);
    }
    return buf;
}
