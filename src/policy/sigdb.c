/*
 * sigdb.c - load and query the shipped signature database.
 *
 * Loading reads each JSON file whole (cJSON), walks every entry, checks
 * every key against the list of keys its object may have, checks each
 * value's JSON type and shape, compiles the regexes (POSIX <regex.h>,
 * REG_EXTENDED | REG_ICASE | REG_NOSUB) and copies the strings out, so no
 * cJSON object outlives sigdb_load().  The first problem stops the load
 * with "FILE: entry N (id): reason".  Fingerprints are then sorted by
 * (type, value, file position) for binary search.
 *
 * Matching walks the issuer entries in file order and evaluates each
 * entry's conditions (all must hold): traits first (cheap), then the
 * leaf's subject, then the issuer_* conditions against each CA name the
 * chain carries.  What a CA name says to every entry's issuer_* conditions
 * is kept per thread (see name_slot below): a chain's CA names repeat.
 * OU conditions need the individual OU attributes, which
 * struct x509_cert does not keep: they are read back out of the RFC 4514
 * string (x509/cert.c writes it with OpenSSL's RFC 2253 flags: "," between
 * RDNs, "+" inside one, "\c" or "\HH" escapes).
 *
 * What it does not do: no reload, no incremental update, no locking (the
 * database is read-only after load), no JSON output, no verdicts.
 */
#include "policy/sigdb.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "policy/roots.h"
#include "util/hash.h"
#include "util/hex.h"
#include "util/jsonv.h"
#include "util/strpool.h"
#include "util/tstate.h"

/* Which part of a name a regex condition looks at. */
enum sig_attr { SIG_ATTR_NONE = 0, SIG_ATTR_CN, SIG_ATTR_O, SIG_ATTR_OU, SIG_ATTR_DN };

struct sig_cond {
    unsigned field;     /* one enum sig_field bit */
    enum sig_attr attr; /* regex conditions: the attribute */
    bool is_regex;
    regex_t re;
    char lit[SIGDB_LITERAL_MAX + 1];   /* "" or letters and digits every match holds */
    int64_t max_days;   /* SIG_F_MAX_VALIDITY */
};

/*
 * sigdb_regex_literal(): the longest run of letters and digits that every match of the POSIX
 * extended regex `re` contains (case folded by the caller, as the regexes
 * are REG_ICASE), so that a strcasestr() can turn most non-matching names
 * away before regexec() runs, as Suricata's fast pattern does.  Only a
 * top-level run of plain characters counts: nothing inside brackets or
 * groups, no character a '*', '?' or '{' makes optional, nothing after an
 * escape (glibc's \w, \b and back-references are not literals), and no
 * literal at all when the pattern has an alternation.  Shorter than 3
 * characters is not worth it: out stays "".
 */
/* p at a bracket expression's '[': the character after its closing ']',
 * NULL when it does not close.  A ']' first (or after '^') is a member;
 * "[:alpha:]", "[.x.]" and "[=e=]" inside are skipped whole. */
static const char *skip_bracket(const char *p)
{
    p++;
    if (*p == '^')
        p++;
    if (*p == ']')
        p++;
    while (*p && *p != ']') {
        if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
            const char *close = strstr(p + 2, (char[]){p[1], ']', '\0'});
            if (!close)
                return NULL;
            p = close + 2;
        } else {
            p++;
        }
    }
    return *p ? p + 1 : NULL;
}

void sigdb_regex_literal(const char *re, char out[SIGDB_LITERAL_MAX + 1])
{
    char run[SIGDB_LITERAL_MAX + 1];
    size_t rl = 0, best = 0;

    out[0] = '\0';
    if (strchr(re, '|'))
        return;
#define END_RUN()                                                              \
    do {                                                                       \
        if (rl > best && rl >= 3) {                                            \
            memcpy(out, run, rl);                                              \
            out[rl] = '\0';                                                    \
            best = rl;                                                         \
        }                                                                      \
        rl = 0;                                                                \
    } while (0)
    for (const char *p = re; *p;) {
        unsigned char ch = (unsigned char)*p;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) {
            if (rl < SIGDB_LITERAL_MAX)
                run[rl++] = (char)ch;
            else
                END_RUN();
            p++;
        } else if (ch == '*' || ch == '?' || ch == '{') {
            if (rl > 0)
                rl--;   /* the atom before it may be absent */
            END_RUN();
            if (ch == '{' && !(p = strchr(p, '}')))
                return;
            p++;
        } else if (ch == '\\') {
            END_RUN();
            if (!p[1])
                return;
            p += 2;
        } else if (ch == '[') {
            END_RUN();
            if (!(p = skip_bracket(p)))
                return;
        } else if (ch == '(') {
            END_RUN();
            /* Brackets are skipped whole: a ')' inside one closes nothing. */
            int depth = 0;
            while (*p) {
                if (*p == '[') {
                    if (!(p = skip_bracket(p)))
                        return;
                    continue;
                }
                if (*p == '\\' && p[1])
                    p++;
                else if (*p == '(')
                    depth++;
                else if (*p == ')' && --depth == 0)
                    break;
                p++;
            }
            if (!*p)
                return;
            p++;
        } else {
            END_RUN();   /* '.', '^', '$', '+', ')' and other punctuation */
            p++;
        }
    }
    END_RUN();
#undef END_RUN
}

struct sigdb {
    struct sig_issuer *iss;
    size_t n_iss;
    struct sig_fp *fps;
    size_t n_fps;
    const struct sig_fp **fp_sorted;
    struct strpool strs;    /* every string the entries point to */
    struct roots *roots;    /* removed_roots.json; NULL when the directory has none */
    uint64_t gen;           /* unique per loaded database (tags the name cache) */
    /* Bit i: entry i has no issuer_* condition (it may match whatever
     * names the chain carries). */
    uint64_t no_issuer[(SIGDB_MAX_ISSUERS + 63) / 64];
    bool any_issuer;        /* some entry has one */
};

static atomic_uint_fast64_t sigdb_gens;

/* The keys of an issuer entry's "match" object, in evaluation and
 * description order (the order of the enum sig_field bits). */
enum cond_kind { COND_REGEX, COND_TRUE, COND_DAYS };
static const struct {
    const char *key;
    unsigned field;
    enum cond_kind kind;
    enum sig_attr attr;
} cond_keys[] = {
    {"issuer_cn_regex", SIG_F_ISSUER_CN, COND_REGEX, SIG_ATTR_CN},
    {"issuer_o_regex", SIG_F_ISSUER_O, COND_REGEX, SIG_ATTR_O},
    {"issuer_ou_regex", SIG_F_ISSUER_OU, COND_REGEX, SIG_ATTR_OU},
    {"issuer_dn_regex", SIG_F_ISSUER_DN, COND_REGEX, SIG_ATTR_DN},
    {"subject_cn_regex", SIG_F_SUBJECT_CN, COND_REGEX, SIG_ATTR_CN},
    {"subject_o_regex", SIG_F_SUBJECT_O, COND_REGEX, SIG_ATTR_O},
    {"subject_ou_regex", SIG_F_SUBJECT_OU, COND_REGEX, SIG_ATTR_OU},
    {"subject_dn_regex", SIG_F_SUBJECT_DN, COND_REGEX, SIG_ATTR_DN},
    {"leaf_shares_issuer_key", SIG_F_LEAF_SHARES_KEY, COND_TRUE, SIG_ATTR_NONE},
    {"no_subject_key_identifier", SIG_F_NO_SKI, COND_TRUE, SIG_ATTR_NONE},
    {"chain_length_1", SIG_F_CHAIN_LEN_1, COND_TRUE, SIG_ATTR_NONE},
    {"max_validity_days", SIG_F_MAX_VALIDITY, COND_DAYS, SIG_ATTR_NONE},
};
#define N_COND_KEYS (sizeof cond_keys / sizeof cond_keys[0])

#define SIG_F_SUBJECT_NAME (SIG_F_SUBJECT_CN | SIG_F_SUBJECT_O | SIG_F_SUBJECT_OU | SIG_F_SUBJECT_DN)

static const char *const fp_type_names[SIG_FP_TYPE_COUNT] = {"ja3", "ja3s", "ja4", "ja4s"};
static const char *const fp_kind_names[] = {"known-good", "known-interceptor", "suspicious",
                                            "library"};

const char *sigdb_fp_type_name(enum sig_fp_type type)
{
    return ((unsigned)type < SIG_FP_TYPE_COUNT) ? fp_type_names[type] : "?";
}

const char *sigdb_field_name(unsigned field)
{
    for (size_t i = 0; i < N_COND_KEYS; i++)
        if (cond_keys[i].field == field)
            return cond_keys[i].key;
    return "?";
}

/* ---- load: error context -------------------------------------------------- */

struct load_ctx {
    struct sigdb *db;
    const char *path;
    size_t entry;       /* 1-based; 0 outside the entries */
    char id[80];        /* printable form of the entry's id, "?" if none */
    struct jsonv v;     /* the shared strict loader's error context */
};

static bool load_fail(struct load_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static bool load_fail(struct load_ctx *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->entry > 0)
        snprintf(c->v.entry, sizeof(c->v.entry), "entry %zu (%s)", c->entry, c->id);
    else
        c->v.entry[0] = '\0';
    c->v.file = c->path;
    jsonv_fail(&c->v, "%s", msg);
    return false;
}

/* Copy at most 64 printable ASCII bytes of s into the context id. */
static void ctx_set_id(struct load_ctx *c, const char *s)
{
    size_t j = 0;
    if (s)
        for (; s[j] && j < 64; j++)
            c->id[j] = (s[j] >= 0x20 && s[j] < 0x7f) ? s[j] : '?';
    if (j == 0)
        c->id[j++] = '?';
    else if (s[j])
        for (int d = 0; d < 3; d++)
            c->id[j++] = '.';
    c->id[j] = '\0';
}

/* ---- load: strings -------------------------------------------------------- */

/* Keep a copy of s in the database; NULL on allocation failure. */
static const char *db_strdup(struct sigdb *db, const char *s)
{
    return strpool_dup(&db->strs, s);
}

/*
 * Check that `it` (the value of `key`) is a string of at most max bytes,
 * non-empty unless allow_empty, valid UTF-8 without control characters, and
 * store a database copy in *out.
 */
static bool take_str(struct load_ctx *c, const cJSON *it, const char *key, size_t max,
                     bool allow_empty, const char **out)
{
    if (!cJSON_IsString(it) || !it->valuestring)
        return load_fail(c, "%s: must be a string", key);
    const char *s = it->valuestring;
    size_t len = strlen(s);
    if (len == 0 && !allow_empty)
        return load_fail(c, "%s: must not be empty", key);
    if (len > max)
        return load_fail(c, "%s: longer than %zu bytes", key, max);
    if (!jsonv_text_ok(s, len))
        return load_fail(c, "%s: not valid UTF-8 text (control character or bad sequence)", key);
    *out = db_strdup(c->db, s);
    if (!*out)
        return load_fail(c, "out of memory");
    return true;
}

/* ---- load: files ---------------------------------------------------------- */

/*
 * Parse the file and check the envelope: an object with "version": 1, an
 * optional "comment" string and an "entries" array.  Returns the root
 * (caller deletes) and the array in *entries.
 */
static cJSON *parse_envelope(struct load_ctx *c, const char *buf, size_t len,
                             size_t max_entries, const cJSON **entries)
{
    c->v.file = c->path;
    c->v.entry[0] = '\0';
    cJSON *root = jsonv_parse(&c->v, buf, len, SIGDB_MAX_FILE_BYTES);
    if (!root)
        return NULL;
    if (!cJSON_IsObject(root)) {
        load_fail(c, "top level must be a JSON object");
        goto bad;
    }
    *entries = NULL;
    bool seen_version = false, seen_comment = false;
    for (const cJSON *it = root->child; it; it = it->next) {
        const char *k = it->string ? it->string : "";
        if (strcmp(k, "version") == 0) {
            if (seen_version) {
                load_fail(c, "duplicate key \"version\"");
                goto bad;
            }
            seen_version = true;
            if (!cJSON_IsNumber(it) || it->valuedouble != 1.0) {
                load_fail(c, "version: must be the number 1");
                goto bad;
            }
        } else if (strcmp(k, "comment") == 0) {
            if (seen_comment || !cJSON_IsString(it)) {
                load_fail(c, "comment: must be one string");
                goto bad;
            }
            seen_comment = true;
        } else if (strcmp(k, "entries") == 0) {
            if (*entries || !cJSON_IsArray(it)) {
                load_fail(c, "entries: must be one array");
                goto bad;
            }
            *entries = it;
        } else {
            char kq[48];
            load_fail(c, "unknown top-level key \"%s\"", jsonv_quote(k, kq));
            goto bad;
        }
    }
    if (!seen_version) {
        load_fail(c, "missing key \"version\"");
        goto bad;
    }
    if (!*entries) {
        load_fail(c, "missing key \"entries\"");
        goto bad;
    }
    if ((size_t)cJSON_GetArraySize(*entries) > max_entries) {
        load_fail(c, "more than %zu entries", max_entries);
        goto bad;
    }
    return root;
bad:
    cJSON_Delete(root);
    return NULL;
}

static void cond_release(struct sig_cond *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].is_regex)
            regfree(&v[i].re);
    free(v);
}

/* ---- load: interception_issuers.json -------------------------------------- */

static bool id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SIGDB_MAX_ID_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-' ||
              s[i] == '_' || s[i] == '.'))
            return false;
    return true;
}

/* Parse one "match" object into e->cond (sorted by field bit). */
static bool parse_match(struct load_ctx *c, const cJSON *m, struct sig_issuer *e)
{
    if (!cJSON_IsObject(m))
        return load_fail(c, "match: must be an object");
    struct sig_cond *conds = calloc(N_COND_KEYS, sizeof *conds);
    if (!conds)
        return load_fail(c, "out of memory");
    unsigned seen = 0;
    size_t n = 0;
    for (const cJSON *it = m->child; it; it = it->next) {
        const char *k = it->string ? it->string : "";
        size_t ki = 0;
        while (ki < N_COND_KEYS && strcmp(cond_keys[ki].key, k) != 0)
            ki++;
        if (ki == N_COND_KEYS) {
            char kq[48];
            load_fail(c, "match: unknown key \"%s\"", jsonv_quote(k, kq));
            goto bad;
        }
        if (seen & cond_keys[ki].field) {
            load_fail(c, "match: duplicate key \"%s\"", k);
            goto bad;
        }
        struct sig_cond cd = {.field = cond_keys[ki].field, .attr = cond_keys[ki].attr};
        switch (cond_keys[ki].kind) {
        case COND_REGEX: {
            if (!cJSON_IsString(it) || !it->valuestring) {
                load_fail(c, "match.%s: must be a string", k);
                goto bad;
            }
            size_t len = strlen(it->valuestring);
            if (len == 0 || len > SIGDB_MAX_REGEX_LEN) {
                load_fail(c, "match.%s: regex must be 1..%d bytes", k, SIGDB_MAX_REGEX_LEN);
                goto bad;
            }
            if (!jsonv_text_ok(it->valuestring, len)) {
                load_fail(c, "match.%s: not valid UTF-8 text", k);
                goto bad;
            }
            int rc = regcomp(&cd.re, it->valuestring, REG_EXTENDED | REG_ICASE | REG_NOSUB);
            if (rc != 0) {
                char why[128];
                regerror(rc, &cd.re, why, sizeof why);
                load_fail(c, "match.%s: regex does not compile (POSIX extended): %s", k, why);
                goto bad;
            }
            cd.is_regex = true;
            sigdb_regex_literal(it->valuestring, cd.lit);
            for (char *q = cd.lit; *q; q++)   /* compared with lower-cased names */
                *q = (char)tolower((unsigned char)*q);
            break;
        }
        case COND_TRUE:
            if (!cJSON_IsBool(it)) {
                load_fail(c, "match.%s: must be true or false", k);
                goto bad;
            }
            if (!cJSON_IsTrue(it)) {
                load_fail(c, "match.%s: only true is meaningful (omit the key instead)", k);
                goto bad;
            }
            break;
        case COND_DAYS:
            if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble) ||
                it->valuedouble < 1 || it->valuedouble > SIGDB_MAX_VALIDITY_DAYS) {
                load_fail(c, "match.%s: must be a whole number of days, 1..%d", k,
                          SIGDB_MAX_VALIDITY_DAYS);
                goto bad;
            }
            cd.max_days = (int64_t)it->valuedouble;
            break;
        }
        conds[n++] = cd;
        seen |= cd.field;
    }
    if (n == 0) {
        load_fail(c, "match: no condition");
        goto bad;
    }
    /* Canonical order: by field bit (insertion sort; n <= 12). */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && conds[j - 1].field > conds[j].field; j--) {
            struct sig_cond t = conds[j - 1];
            conds[j - 1] = conds[j];
            conds[j] = t;
        }
    char desc[512];
    size_t dl = 0;
    desc[0] = '\0';
    for (size_t i = 0; i < n; i++)
        dl += (size_t)snprintf(desc + dl, sizeof desc - dl, "%s%s", i ? "+" : "",
                               sigdb_field_name(conds[i].field));
    e->matched = db_strdup(c->db, desc);
    if (!e->matched) {
        load_fail(c, "out of memory");
        goto bad;
    }
    e->cond = conds;
    e->n_cond = n;
    e->fields = seen;
    return true;
bad:
    cond_release(conds, n);
    return false;
}

enum { IK_ID = 1, IK_PRODUCT = 2, IK_CATEGORY = 4, IK_KIND = 8, IK_MATCH = 16, IK_SOURCE = 32,
       IK_COMMENT = 64 };

static bool parse_issuer(struct load_ctx *c, const cJSON *o, struct sig_issuer *e)
{
    ctx_set_id(c, NULL);
    if (!cJSON_IsObject(o))
        return load_fail(c, "must be an object");
    const cJSON *idv = cJSON_GetObjectItemCaseSensitive(o, "id");
    if (cJSON_IsString(idv))
        ctx_set_id(c, idv->valuestring);
    e->comment = "";
    unsigned seen = 0;
    const cJSON *match = NULL;
    for (const cJSON *it = o->child; it; it = it->next) {
        const char *k = it->string ? it->string : "";
        unsigned bit;
        bool ok = true;
        if (strcmp(k, "id") == 0) {
            bit = IK_ID;
            ok = take_str(c, it, k, SIGDB_MAX_ID_LEN, false, &e->id);
            if (ok && !id_ok(e->id))
                return load_fail(c, "id: use lower-case letters, digits, '-', '_', '.' (at most "
                                    "%d)", SIGDB_MAX_ID_LEN);
        } else if (strcmp(k, "product") == 0) {
            bit = IK_PRODUCT;
            ok = take_str(c, it, k, SIGDB_MAX_STR, false, &e->product);
        } else if (strcmp(k, "category") == 0) {
            bit = IK_CATEGORY;
            ok = take_str(c, it, k, SIGDB_MAX_STR, false, &e->category);
        } else if (strcmp(k, "kind") == 0) {
            bit = IK_KIND;
            ok = take_str(c, it, k, SIGDB_MAX_STR, false, &e->kind);
            if (ok && strcmp(e->kind, "known-interceptor") != 0)
                return load_fail(c, "kind: must be \"known-interceptor\"");
        } else if (strcmp(k, "match") == 0) {
            bit = IK_MATCH;
            match = it;
        } else if (strcmp(k, "source") == 0) {
            bit = IK_SOURCE;
            ok = take_str(c, it, k, SIGDB_MAX_STR, false, &e->source);
        } else if (strcmp(k, "comment") == 0) {
            bit = IK_COMMENT;
            ok = take_str(c, it, k, SIGDB_MAX_STR, true, &e->comment);
        } else {
            char kq[48];
            return load_fail(c, "unknown key \"%s\"", jsonv_quote(k, kq));
        }
        if (!ok)
            return false;
        if (seen & bit)
            return load_fail(c, "duplicate key \"%s\"", k);
        seen |= bit;
    }
    static const struct { unsigned bit; const char *key; } req[] = {
        {IK_ID, "id"},         {IK_PRODUCT, "product"}, {IK_CATEGORY, "category"},
        {IK_KIND, "kind"},     {IK_MATCH, "match"},     {IK_SOURCE, "source"},
    };
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++)
        if (!(seen & req[i].bit))
            return load_fail(c, "missing key \"%s\"", req[i].key);
    /* Last, so nothing can fail after the regexes are compiled. */
    return parse_match(c, match, e);
}

static bool load_issuers(struct load_ctx *c, const char *buf, size_t len)
{
    const cJSON *arr;
    cJSON *root = parse_envelope(c, buf, len, SIGDB_MAX_ISSUERS, &arr);
    if (!root)
        return false;
    size_t n = (size_t)cJSON_GetArraySize(arr);
    struct sigdb *db = c->db;
    db->iss = calloc(n ? n : 1, sizeof *db->iss);
    if (!db->iss) {
        cJSON_Delete(root);
        return load_fail(c, "out of memory");
    }
    bool ok = true;
    for (const cJSON *it = arr->child; it; it = it->next) {
        c->entry = db->n_iss + 1;
        struct sig_issuer *e = &db->iss[db->n_iss];
        if (!parse_issuer(c, it, e)) {
            ok = false;
            break;
        }
        e->index = db->n_iss++;
        if (e->fields & SIG_F_ISSUER_NAME)
            db->any_issuer = true;
        else
            db->no_issuer[e->index / 64] |= 1ull << (e->index % 64);
        for (size_t j = 0; j + 1 < db->n_iss; j++)
            if (strcmp(db->iss[j].id, e->id) == 0) {
                ok = load_fail(c, "id: duplicate of entry %zu", j + 1);
                break;
            }
        if (!ok)
            break;
    }
    c->entry = 0;
    cJSON_Delete(root);
    return ok;
}

/* ---- load: known_fingerprints.json ---------------------------------------- */

struct fp_shapes {
    regex_t ja4, ja4s, hex32;
    bool ready;
};

static bool shapes_init(struct fp_shapes *s)
{
    /* JA4: protocol (t, q, d), version (13, 12.., s3, d1..d3), SNI d/i,
     * 2-digit counts, ALPN, two 12-hex hashes.
     * JA4S: protocol, version, extension count, ALPN, cipher, one hash. */
    if (regcomp(&s->ja4,
                "^[tqd][0-9sd][0-9a-z][di][0-9]{2}[0-9]{2}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$",
                REG_EXTENDED | REG_NOSUB) != 0)
        return false;
    if (regcomp(&s->ja4s, "^[tqd][0-9sd][0-9a-z][0-9]{2}[0-9a-z]{2}_[0-9a-f]{4}_[0-9a-f]{12}$",
                REG_EXTENDED | REG_NOSUB) != 0) {
        regfree(&s->ja4);
        return false;
    }
    if (regcomp(&s->hex32, "^[0-9a-f]{32}$", REG_EXTENDED | REG_NOSUB) != 0) {
        regfree(&s->ja4);
        regfree(&s->ja4s);
        return false;
    }
    s->ready = true;
    return true;
}

static void shapes_free(struct fp_shapes *s)
{
    if (!s->ready)
        return;
    regfree(&s->ja4);
    regfree(&s->ja4s);
    regfree(&s->hex32);
    s->ready = false;
}

static bool shape_ok(const struct fp_shapes *s, enum sig_fp_type t, const char *v)
{
    const regex_t *re = (t == SIG_FP_JA4) ? &s->ja4 : (t == SIG_FP_JA4S) ? &s->ja4s : &s->hex32;
    return regexec(re, v, 0, NULL, 0) == 0;
}

enum { FK_TYPE = 1, FK_VALUE = 2, FK_APP = 4, FK_CATEGORY = 8, FK_KIND = 16, FK_SOURCE = 32,
       FK_COMMENT = 64 };

static bool parse_fp(struct load_ctx *c, const struct fp_shapes *shapes, const cJSON *o,
                     struct sig_fp *e)
{
    ctx_set_id(c, NULL);
    if (!cJSON_IsObject(o))
        return load_fail(c, "must be an object");
    {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "type");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "value");
        char idb[128];
        snprintf(idb, sizeof idb, "%s %s", cJSON_IsString(t) ? t->valuestring : "?",
                 cJSON_IsString(v) ? v->valuestring : "?");
        ctx_set_id(c, idb);
    }
    e->comment = "";
    unsigned seen = 0;
    const char *type = NULL, *kind = NULL;
    const cJSON *value = NULL;
    for (const cJSON *it = o->child; it; it = it->next) {
        const char *k = it->string ? it->string : "";
        unsigned bit;
        bool ok = true;
        if (strcmp(k, "type") == 0) {
            bit = FK_TYPE;
            ok = take_str(c, it, k, 16, false, &type);
        } else if (strcmp(k, "value") == 0) {
            bit = FK_VALUE;
            value = it;
        } else if (strcmp(k, "application") == 0) {
            bit = FK_APP;
            ok = take_str(c, it, k, SIGDB_MAX_STR, false, &e->application);
        } else if (strcmp(k, "category") == 0) {
            bit = FK_CATEGORY;
            ok = take_str(c, it, k, SIGDB_MAX_STR, false, &e->category);
        } else if (strcmp(k, "kind") == 0) {
            bit = FK_KIND;
            ok = take_str(c, it, k, 32, false, &kind);
        } else if (strcmp(k, "source") == 0) {
            bit = FK_SOURCE;
            ok = take_str(c, it, k, SIGDB_MAX_STR, false, &e->source);
        } else if (strcmp(k, "comment") == 0) {
            bit = FK_COMMENT;
            ok = take_str(c, it, k, SIGDB_MAX_STR, true, &e->comment);
        } else {
            char kq[48];
            return load_fail(c, "unknown key \"%s\"", jsonv_quote(k, kq));
        }
        if (!ok)
            return false;
        if (seen & bit)
            return load_fail(c, "duplicate key \"%s\"", k);
        seen |= bit;
    }
    static const struct { unsigned bit; const char *key; } req[] = {
        {FK_TYPE, "type"}, {FK_VALUE, "value"},   {FK_APP, "application"},
        {FK_CATEGORY, "category"}, {FK_KIND, "kind"}, {FK_SOURCE, "source"},
    };
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++)
        if (!(seen & req[i].bit))
            return load_fail(c, "missing key \"%s\"", req[i].key);

    size_t t = 0;
    while (t < SIG_FP_TYPE_COUNT && strcmp(fp_type_names[t], type) != 0)
        t++;
    if (t == SIG_FP_TYPE_COUNT)
        return load_fail(c, "type: must be \"ja3\", \"ja3s\", \"ja4\" or \"ja4s\"");
    e->type = (enum sig_fp_type)t;

    size_t k = 0;
    while (k < sizeof fp_kind_names / sizeof fp_kind_names[0] && strcmp(fp_kind_names[k], kind))
        k++;
    if (k == sizeof fp_kind_names / sizeof fp_kind_names[0])
        return load_fail(c, "kind: must be \"known-good\", \"known-interceptor\", "
                            "\"suspicious\" or \"library\"");
    e->kind = (enum sig_fp_kind)k;
    e->kind_name = fp_kind_names[k];

    if (!cJSON_IsString(value) || !value->valuestring)
        return load_fail(c, "value: must be a string");
    if (!shape_ok(shapes, e->type, value->valuestring)) {
        static const char *const want[SIG_FP_TYPE_COUNT] = {
            "32 lower-case hex digits", "32 lower-case hex digits",
            "a_b_c with a like t13d1516h2 and two 12-hex-digit hashes (lower case)",
            "a_b_c with a like t130200, a 4-hex-digit cipher and a 12-hex-digit hash (lower case)",
        };
        return load_fail(c, "value: not a %s fingerprint: want %s", fp_type_names[e->type],
                         want[e->type]);
    }
    e->value = db_strdup(c->db, value->valuestring);
    if (!e->value)
        return load_fail(c, "out of memory");
    return true;
}

static int fp_cmp(const void *a, const void *b)
{
    const struct sig_fp *x = *(const struct sig_fp *const *)a;
    const struct sig_fp *y = *(const struct sig_fp *const *)b;
    if (x->type != y->type)
        return x->type < y->type ? -1 : 1;
    int r = strcmp(x->value, y->value);
    if (r)
        return r;
    return (x->index > y->index) - (x->index < y->index);
}

static bool load_fps(struct load_ctx *c, const char *buf, size_t len)
{
    const cJSON *arr;
    cJSON *root = parse_envelope(c, buf, len, SIGDB_MAX_FPS, &arr);
    if (!root)
        return false;
    struct sigdb *db = c->db;
    size_t n = (size_t)cJSON_GetArraySize(arr);
    db->fps = calloc(n ? n : 1, sizeof *db->fps);
    db->fp_sorted = calloc(n ? n : 1, sizeof *db->fp_sorted);
    struct fp_shapes shapes = {0};
    if (!db->fps || !db->fp_sorted || !shapes_init(&shapes)) {
        cJSON_Delete(root);
        return load_fail(c, "out of memory");
    }
    bool ok = true;
    for (const cJSON *it = arr->child; it; it = it->next) {
        c->entry = db->n_fps + 1;
        struct sig_fp *e = &db->fps[db->n_fps];
        if (!parse_fp(c, &shapes, it, e)) {
            ok = false;
            break;
        }
        e->index = db->n_fps;
        db->fp_sorted[db->n_fps++] = e;
    }
    c->entry = 0;
    shapes_free(&shapes);
    cJSON_Delete(root);
    if (ok)
        qsort(db->fp_sorted, db->n_fps, sizeof *db->fp_sorted, fp_cmp);
    return ok;
}

/* ---- load / free ---------------------------------------------------------- */

void sigdb_free(struct sigdb *db)
{
    if (!db)
        return;
    for (size_t i = 0; i < db->n_iss; i++)
        cond_release((struct sig_cond *)db->iss[i].cond, db->iss[i].n_cond);
    free(db->iss);
    free(db->fps);
    free(db->fp_sorted);
    strpool_free(&db->strs);
    roots_free(db->roots);
    free(db);
}

/* A new empty database with its own generation; NULL after load_fail(). */
static struct sigdb *db_new(struct load_ctx *c)
{
    c->db = calloc(1, sizeof *c->db);
    if (!c->db) {
        load_fail(c, "out of memory");
        return NULL;
    }
    c->db->gen = (uint64_t)atomic_fetch_add(&sigdb_gens, 1) + 1;
    return c->db;
}

/* Document f (0: interception_issuers.json, 1: known_fingerprints.json)
 * from memory into c->db: the one path of sigdb_load() and
 * sigdb_load_buffers(). */
static bool load_doc(struct load_ctx *c, int f, const char *buf, size_t len)
{
    return f == 0 ? load_issuers(c, buf, len) : load_fps(c, buf, len);
}

struct sigdb *sigdb_load_buffers(const char *iss_name, const char *iss, size_t iss_len,
                                 const char *fps_name, const char *fps, size_t fps_len,
                                 char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    const char *names[2] = {iss_name ? iss_name : SIGDB_ISSUERS_FILE,
                            fps_name ? fps_name : SIGDB_FPS_FILE};
    const char *bufs[2] = {iss, fps};
    size_t lens[2] = {iss_len, fps_len};
    struct load_ctx c = {.path = names[0], .v = {.err = err, .errlen = errlen}};
    if (!db_new(&c))
        return NULL;
    for (int f = 0; f < 2; f++) {
        c.path = names[f];
        if (!load_doc(&c, f, bufs[f], lens[f])) {
            sigdb_free(c.db);
            return NULL;
        }
    }
    return c.db;
}

struct sigdb *sigdb_load(const char *dir, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    char path[PATH_MAX];
    struct load_ctx c = {.path = path, .v = {.err = err, .errlen = errlen}};
    if (!dir || !*dir) {
        c.path = "sigdb";
        load_fail(&c, "no signature directory given");
        return NULL;
    }
    size_t dl = strlen(dir);
    const char *sep = (dir[dl - 1] == '/') ? "" : "/";
    c.path = dir;
    if (!db_new(&c))
        return NULL;
    c.path = path;
    static const char *const files[2] = {SIGDB_ISSUERS_FILE, SIGDB_FPS_FILE};
    for (int f = 0; f < 2; f++) {
        if ((size_t)snprintf(path, sizeof path, "%s%s%s", dir, sep, files[f]) >= sizeof path) {
            c.path = dir;
            load_fail(&c, "path too long");
            goto bad;
        }
        size_t len;
        c.v.file = c.path;
        c.v.entry[0] = '\0';
        char *buf = jsonv_read_file(&c.v, c.path, SIGDB_MAX_FILE_BYTES, &len);
        if (!buf)
            goto bad;
        bool ok = load_doc(&c, f, buf, len);
        free(buf);
        if (!ok)
            goto bad;
    }
    /* removed_roots.json is optional: a directory without it knows no
     * removed roots.  Present, it must load. */
    if ((size_t)snprintf(path, sizeof path, "%s%s%s", dir, sep, ROOTS_FILE) >= sizeof path) {
        c.path = dir;
        load_fail(&c, "path too long");
        goto bad;
    }
    struct stat st;
    if (stat(path, &st) == 0 || errno != ENOENT) {
        c.db->roots = roots_load_file(path, err, errlen);
        if (!c.db->roots)
            goto bad;
    }
    return c.db;
bad:
    sigdb_free(c.db);
    return NULL;
}

const struct roots *sigdb_roots(const struct sigdb *db)
{
    return db ? db->roots : NULL;
}

size_t sigdb_issuer_count(const struct sigdb *db)
{
    return db ? db->n_iss : 0;
}

size_t sigdb_fp_count(const struct sigdb *db)
{
    return db ? db->n_fps : 0;
}

const struct sig_issuer *sigdb_issuer_at(const struct sigdb *db, size_t i)
{
    return (db && i < db->n_iss) ? &db->iss[i] : NULL;
}

/* ---- matching ------------------------------------------------------------- */

/*
 * True when some attribute of type `type` (e.g. "OU") in the RFC 4514
 * string dn has a value matching re.  Values are unescaped first ("\,"
 * -> ",", "\HH" -> byte).  A value longer than X509_CERT_MAX_TEXT is cut
 * (cert.c never stores longer text).
 */
/*
 * A name as the regexes see it, with lower-cased copies of the strings
 * they look at, made once per chain match: the literal prefilter is then a
 * strstr() (vectorised in glibc), not a strcasestr() per condition.
 */
struct lname {
    const struct x509_cert_name *nm;
    const char *cn, *o, *dn;   /* lower case; NULL where nm's is NULL */
};

/* regexec() on v, after the literal prefilter on its lower-case copy lc. */
static bool holds(const struct sig_cond *cd, const char *v, const char *lc)
{
    return (!cd->lit[0] || strstr(lc, cd->lit)) && regexec(&cd->re, v, 0, NULL, 0) == 0;
}

static bool dn_attr_matches(const char *dn, const char *type, const struct sig_cond *cd)
{
    char val[X509_CERT_MAX_TEXT + 1];
    size_t tl = strlen(type);
    const char *p = dn;
    while (p && *p) {
        const char *t = p;
        while (*p && *p != '=' && *p != ',' && *p != '+')
            p++;
        bool has_eq = (*p == '=');
        size_t tlen = (size_t)(p - t);
        if (has_eq)
            p++;
        size_t vl = 0;
        while (*p && *p != ',' && *p != '+') {
            char ch = *p;
            if (ch == '\\' && p[1]) {
                int h = hex_digit(p[1]), l = p[2] ? hex_digit(p[2]) : -1;
                if (h >= 0 && l >= 0) {
                    ch = (char)(h * 16 + l);
                    p += 3;
                } else {
                    ch = p[1];
                    p += 2;
                }
            } else {
                p++;
            }
            if (vl < sizeof val - 1)
                val[vl++] = ch;
        }
        val[vl] = '\0';
        if (*p)
            p++;
        if (has_eq && tlen == tl && strncasecmp(t, type, tl) == 0 &&
            regexec(&cd->re, val, 0, NULL, 0) == 0)
            return true;
    }
    return false;
}

static bool cond_on_name(const struct sig_cond *cd, const struct lname *ln)
{
    const struct x509_cert_name *nm = ln->nm;
    switch (cd->attr) {
    case SIG_ATTR_CN:
        return nm->cn && holds(cd, nm->cn, ln->cn);
    case SIG_ATTR_O:
        return nm->o && holds(cd, nm->o, ln->o);
    case SIG_ATTR_OU:
        /* An OU value's letters and digits stand unescaped in the DN. */
        return nm->dn && (!cd->lit[0] || strstr(ln->dn, cd->lit)) &&
               dn_attr_matches(nm->dn, "OU", cd);
    case SIG_ATTR_DN:
        return nm->dn && holds(cd, nm->dn, ln->dn);
    case SIG_ATTR_NONE:
        break;
    }
    return false;
}

static bool name_holds(const struct sig_issuer *e, unsigned mask, const struct lname *ln)
{
    for (size_t i = 0; i < e->n_cond; i++)
        if ((e->cond[i].field & mask) && !cond_on_name(&e->cond[i], ln))
            return false;
    return true;
}

/* Lower-cased copies of nm's strings, appended to *arena. */
static const char *lower_into(const char *v, char **arena)
{
    if (!v)
        return NULL;
    char *out = *arena;
    size_t i = 0;
    for (; v[i]; i++)
        out[i] = (char)tolower((unsigned char)v[i]);
    out[i] = '\0';
    *arena += i + 1;
    return out;
}

static size_t lname_bytes(const struct x509_cert_name *nm)
{
    return (nm->cn ? strlen(nm->cn) + 1 : 0) + (nm->o ? strlen(nm->o) + 1 : 0) +
           (nm->dn ? strlen(nm->dn) + 1 : 0);
}

static void lname_make(struct lname *ln, const struct x509_cert_name *nm, char **arena)
{
    ln->nm = nm;
    ln->cn = lower_into(nm->cn, arena);
    ln->o = lower_into(nm->o, arena);
    ln->dn = lower_into(nm->dn, arena);
}

static bool traits_hold(const struct sig_issuer *e, const struct x509_cert *leaf,
                        const struct sigdb_chain_facts *f)
{
    for (size_t i = 0; i < e->n_cond; i++) {
        const struct sig_cond *cd = &e->cond[i];
        switch (cd->field) {
        case SIG_F_LEAF_SHARES_KEY:
            if (f->leaf_shares_issuer_key != SIGDB_YES)
                return false;
            break;
        case SIG_F_NO_SKI:
            if (!leaf || leaf->skid)
                return false;
            break;
        case SIG_F_CHAIN_LEN_1:
            if (f->chain_length != 1)
                return false;
            break;
        case SIG_F_MAX_VALIDITY:
            if (!f->has_validity_days || f->validity_days > cd->max_days)
                return false;
            break;
        default:
            break;
        }
    }
    return true;
}

/* ---- what one name says to every issuer_* condition ----------------------- */

/* The conditions traits_hold() tests. */
#define SIG_F_TRAITS (SIG_F_LEAF_SHARES_KEY | SIG_F_NO_SKI | SIG_F_CHAIN_LEN_1 | SIG_F_MAX_VALIDITY)

/* Bit i: entry i's issuer_* conditions all hold on the name. */
#define NV_WORDS ((SIGDB_MAX_ISSUERS + 63) / 64)
struct name_verdicts {
    uint64_t bits[NV_WORDS];
};

/*
 * A chain's CA names repeat from one connection to the next while its leaf
 * does not, so each thread keeps what a name said, direct-mapped in
 * CFG_SIGDB_NAME_CACHE slots.  The key is a SipHash (per-run key) of the
 * name's CN, O and RFC 4514 string with the database's generation: the
 * 64-bit keyed hash decides, as the legs' do (a collision cannot be
 * arranged from outside), and a name too long for the key buffer is
 * evaluated every time.  A collision of slots only replaces the slot.
 */
struct name_slot {
    uint64_t tag, gen;   /* gen 0: empty */
    struct name_verdicts v;
};

/*
 * In front of those slots, CFG_SIGDB_NAME_MEMO more keep the key itself
 * (up to CFG_SIGDB_NAME_MEMO_KEY bytes): they are found by hash_fast()
 * and decided by comparing the key's bytes, so a name a chain repeats
 * (the few issuing CAs of a network) costs no SipHash.  Two ways per set
 * (the one not used last is replaced): a collision only replaces a slot.
 */
struct name_memo {
    uint64_t gen;        /* 0: empty */
    size_t len;
    struct name_verdicts v;
    char key[CFG_SIGDB_NAME_MEMO_KEY];
};

#define NAME_MEMO_SETS (CFG_SIGDB_NAME_MEMO / 2)
_Static_assert(NAME_MEMO_SETS > 0 && CFG_SIGDB_NAME_MEMO % 2 == 0, "CFG_SIGDB_NAME_MEMO");

struct name_tables {
    struct name_slot slot[CFG_SIGDB_NAME_CACHE];
    struct name_memo memo[NAME_MEMO_SETS][2];
    uint8_t memo_last[NAME_MEMO_SETS];   /* the way used last */
};

static struct hash_key nc_hk;
static _Thread_local struct name_tables *nc;

static void nc_init(void)
{
    hash_random_key(&nc_hk);
}

static struct tstate nc_state = TSTATE_INIT(sizeof(struct name_tables), nc_init, NULL, NULL);

static struct name_tables *nc_get(void)
{
    return nc ? nc : (nc = tstate_get(&nc_state));
}

/* Append "present" and s (NUL ended) to key[*o..cap); false when it does
 * not fit. */
static bool key_put(char *key, size_t cap, size_t *o, const char *s)
{
    size_t l = s ? strlen(s) : 0;
    if (*o + l + 2 > cap)
        return false;
    key[(*o)++] = s ? 1 : 0;
    if (l)
        memcpy(key + *o, s, l);
    *o += l;
    key[(*o)++] = '\0';
    return true;
}

/* Every entry's issuer_* verdict on nm, into *v. */
static void name_verdicts_eval(const struct sigdb *db, const struct x509_cert_name *nm,
                               struct name_verdicts *v)
{
    memset(v, 0, sizeof(*v));
    char *arena = malloc(lname_bytes(nm) + 1), *next = arena;
    if (!arena)
        return;   /* out of memory: no entry matches this name */
    struct lname ln;
    lname_make(&ln, nm, &next);
    for (size_t i = 0; i < db->n_iss; i++) {
        const struct sig_issuer *e = &db->iss[i];
        if ((e->fields & SIG_F_ISSUER_NAME) && name_holds(e, SIG_F_ISSUER_NAME, &ln))
            v->bits[i / 64] |= 1ull << (i % 64);
    }
    free(arena);
}

/* The same (CN, O, RFC 4514 string): the key of the name cache. */
static bool opt_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static bool same_name(const struct x509_cert_name *a, const struct x509_cert_name *b)
{
    return opt_eq(a->dn, b->dn) && opt_eq(a->cn, b->cn) && opt_eq(a->o, b->o);
}

/* The verdicts of names[j] of the chain (j = 2k: chain[k]'s subject,
 * 2k + 1: its issuer), from an earlier name of the chain that is the
 * same (a certificate's issuer is usually the next one's subject), the
 * cache, or evaluated into nv[j]. */
static const uint64_t *issuer_bits(const struct sigdb *db, const struct x509_cert *const *chain,
                                   size_t j, struct name_verdicts *nv, const uint64_t **iv)
{
    if (iv[j])
        return iv[j];
    const struct x509_cert_name *nm = j % 2 ? &chain[j / 2]->issuer : &chain[j / 2]->subject;
    for (size_t p = 1; p < j; p++) {
        if (!iv[p])
            continue;   /* not looked up (its certificate may be missing) */
        const struct x509_cert_name *pn = p % 2 ? &chain[p / 2]->issuer : &chain[p / 2]->subject;
        if (same_name(nm, pn))
            return iv[j] = iv[p];
    }
    char key[3 * (X509_CERT_MAX_TEXT + 8)];
    size_t o = 0;
    struct name_tables *t = nc_get();
    size_t words = (db->n_iss + 63) / 64;
    if (t && key_put(key, sizeof key, &o, nm->cn) && key_put(key, sizeof key, &o, nm->o) &&
        key_put(key, sizeof key, &o, nm->dn)) {
        struct name_memo *mm = NULL;
        if (o <= CFG_SIGDB_NAME_MEMO_KEY) {
            uint64_t fh = hash_fast(&nc_hk, key, o);
            size_t set = (fh ^ (fh >> 32)) % NAME_MEMO_SETS;
            for (int w = 0; w < 2; w++) {
                mm = &t->memo[set][w];
                if (mm->gen == db->gen && mm->len == o && memcmp(mm->key, key, o) == 0) {
                    t->memo_last[set] = (uint8_t)w;
                    memcpy(nv[j].bits, mm->v.bits, words * sizeof(uint64_t));
                    return iv[j] = nv[j].bits;
                }
            }
            int w = t->memo_last[set] ^ 1;
            mm = &t->memo[set][w];
            t->memo_last[set] = (uint8_t)w;
        }
        uint64_t h = hash_siphash(&nc_hk, key, o);
        struct name_slot *sl = &t->slot[(h ^ (h >> 32)) % CFG_SIGDB_NAME_CACHE];
        if (sl->gen != db->gen || sl->tag != h) {
            name_verdicts_eval(db, nm, &sl->v);
            sl->gen = db->gen;
            sl->tag = h;
        }
        if (mm) {
            mm->gen = db->gen;
            mm->len = o;
            memcpy(mm->key, key, o);
            memcpy(mm->v.bits, sl->v.bits, words * sizeof(uint64_t));
        }
        /* A copy: another name of this chain may take the slot. */
        memcpy(nv[j].bits, sl->v.bits, words * sizeof(uint64_t));
        return iv[j] = nv[j].bits;
    }
    name_verdicts_eval(db, nm, &nv[j]);
    return iv[j] = nv[j].bits;
}

const struct sig_issuer *sigdb_match_chain_ex(const struct sigdb *db,
                                              const struct x509_cert *const *chain, size_t n,
                                              const struct sigdb_chain_facts *facts,
                                              struct sig_match *out)
{
    struct sig_match none = {0};
    if (out)
        *out = none;
    if (!db || !chain || n == 0)
        return NULL;
    const struct x509_cert *leaf = chain[0];

    struct sigdb_chain_facts f = {0};
    if (facts) {
        f = *facts;
        if (f.chain_length == 0)
            f.chain_length = n;
    } else {
        f.chain_length = n;
        if (n >= 2 && chain[0] && chain[1])
            f.leaf_shares_issuer_key =
                memcmp(chain[0]->spki_sha256_raw, chain[1]->spki_sha256_raw, 32) == 0
                    ? SIGDB_YES
                    : SIGDB_NO;
        if (leaf && leaf->not_before.valid && leaf->not_after.valid) {
            f.has_validity_days = true;
            f.validity_days = (leaf->not_after.epoch - leaf->not_before.epoch) / 86400;
        }
    }

    /* names[2k] is chain[k]'s subject, names[2k + 1] its issuer; what each
     * says to every entry's issuer_* conditions is looked up once. */
    if (n > SIGDB_CHAIN_MAX)
        n = SIGDB_CHAIN_MAX;
    struct name_verdicts nv[2 * SIGDB_CHAIN_MAX];
    const uint64_t *iv[2 * SIGDB_CHAIN_MAX] = {0};
#define ISSUER_OK(j, i)                                                                      \
    ((iv[j] ? iv[j] : issuer_bits(db, chain, (j), nv, iv))[(i) / 64] >> ((i) % 64) & 1)
    struct lname subj;   /* the leaf subject, lower-cased when an entry asks */
    char *subj_arena = NULL;
    bool subj_made = false;

    /* An entry with issuer_* conditions matches only when one of the
     * chain's names holds them all: the candidates are the entries
     * without any and those some name of the chain holds (every name is
     * looked up, as a chain that matches nothing needs anyway), visited
     * in file order. */
    uint64_t cand[NV_WORDS];
    size_t words = (db->n_iss + 63) / 64;
    memcpy(cand, db->no_issuer, words * sizeof(uint64_t));
    if (db->any_issuer) {
        for (size_t j = leaf ? 1 : 2; j < 2 * n; j++) {
            if (!chain[j / 2])
                continue;
            const uint64_t *b = issuer_bits(db, chain, j, nv, iv);
            for (size_t w = 0; w < words; w++)
                cand[w] |= b[w];
        }
    }

    const struct sig_issuer *found_sig = NULL;
    for (size_t i = 0; i < db->n_iss && !found_sig; i++) {
        uint64_t rest = cand[i / 64] >> (i % 64);
        if (!rest)
            i = (i | 63);   /* none left in this word */
        else if (!(rest & 1))
            i += (size_t)__builtin_ctzll(rest) - 1;   /* to the next candidate */
        if (!(rest & 1))
            continue;
        const struct sig_issuer *e = &db->iss[i];
        if ((e->fields & SIG_F_TRAITS) && !traits_hold(e, leaf, &f))
            continue;
        if (e->fields & SIG_F_SUBJECT_NAME) {
            if (!leaf)
                continue;
            if (!subj_made) {
                subj_arena = malloc(lname_bytes(&leaf->subject) + 1);
                if (!subj_arena)
                    goto out;
                char *next = subj_arena;
                lname_make(&subj, &leaf->subject, &next);
                subj_made = true;
            }
            if (!name_holds(e, SIG_F_SUBJECT_NAME, &subj))
                continue;
        }
        struct sig_match m = {.sig = e, .role = SIG_NAME_NONE, .cert_index = 0};
        if (e->fields & SIG_F_ISSUER_NAME) {
            bool found = false;
            if (leaf && ISSUER_OK(1, i)) {
                m.role = SIG_NAME_LEAF_ISSUER;
                found = true;
            }
            for (size_t k = 1; k < n && !found; k++) {
                if (!chain[k])
                    continue;
                if (ISSUER_OK(2 * k + 1, i)) {
                    m.role = SIG_NAME_CHAIN_ISSUER;
                    found = true;
                } else if (ISSUER_OK(2 * k, i)) {
                    m.role = SIG_NAME_CHAIN_SUBJECT;
                    found = true;
                }
                m.cert_index = k;
            }
            if (!found)
                continue;
        }
        if (out)
            *out = m;
        found_sig = e;
    }
out:
#undef ISSUER_OK
    free(subj_arena);
    return found_sig;
}

const struct sig_issuer *sigdb_match_chain(const struct sigdb *db,
                                           const struct x509_cert *const *chain, size_t n,
                                           const struct sigdb_chain_facts *facts)
{
    return sigdb_match_chain_ex(db, chain, n, facts, NULL);
}

size_t sigdb_find_fingerprint(const struct sigdb *db, enum sig_fp_type type, const char *value,
                              const struct sig_fp **out, size_t max)
{
    if (!db || !value || (unsigned)type >= SIG_FP_TYPE_COUNT)
        return 0;
    /* lower bound of (type, value) */
    size_t lo = 0, hi = db->n_fps;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct sig_fp *e = db->fp_sorted[mid];
        int r = (e->type != type) ? (e->type < type ? -1 : 1) : strcmp(e->value, value);
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t total = 0;
    for (size_t i = lo; i < db->n_fps; i++) {
        const struct sig_fp *e = db->fp_sorted[i];
        if (e->type != type || strcmp(e->value, value) != 0)
            break;
        if (out && total < max)
            out[total] = e;
        total++;
    }
    return total;
}
