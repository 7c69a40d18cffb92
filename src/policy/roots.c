/*
 * roots.c - load signatures/removed_roots.json and match chains against it
 * (see roots.h).
 *
 * The file is read and parsed whole with the strict JSON loader
 * (util/jsonv.h); every entry is then checked key by key and copied out,
 * so no cJSON object outlives the load.  Error lines name the file, the
 * line of the entry's opening brace and the entry: cJSON keeps no
 * positions, so the lines are found by one scan of the text (strings and
 * escapes skipped) for the objects directly inside the top-level array.
 */
#include "policy/roots.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "util/civil.h"
#include "util/jsonv.h"
#include "util/strpool.h"

struct roots {
    struct removed_root *e;
    size_t n;
    struct strpool strs;
};

struct ctx {
    struct roots *r;
    const char *name;
    char file[512];      /* "NAME:LINE" while an entry is read */
    struct jsonv v;
};

static int fail(struct ctx *c, size_t entry, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct ctx *c, size_t entry, const char *id, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (entry) {
        char q[48];
        snprintf(c->v.entry, sizeof c->v.entry, "entry %zu (%s)", entry,
                 id ? jsonv_quote(id, q) : "?");
    } else {
        c->v.entry[0] = '\0';
    }
    c->v.file = entry ? c->file : c->name;
    return jsonv_fail(&c->v, "%s", msg);
}

/* Lines of the objects directly inside the array that is the value of a
 * top-level key, in order (at most max).  Returns how many were found. */
static size_t entry_lines(const char *buf, size_t len, size_t *lines, size_t max)
{
    size_t line = 1, n = 0;
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char ch = buf[i];
        if (ch == '\n')
            line++;
        if (in_str) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_str = false;
            continue;
        }
        if (ch == '"') {
            in_str = true;
        } else if (ch == '{' || ch == '[') {
            if (ch == '{' && depth == 2 && n < max)
                lines[n++] = line;
            depth++;
        } else if (ch == '}' || ch == ']') {
            depth--;
        }
    }
    return n;
}

static const char *keep(struct roots *r, const char *s)
{
    return strpool_dup(&r->strs, s);
}

static bool id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-' ||
              s[i] == '_' || s[i] == '.'))
            return false;
    return true;
}

/* "YYYY-MM-DD", a real calendar day from 1990 to 2199. */
static bool parse_date(const char *s, int64_t *epoch)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return false;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1990 || y > 2199 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m == 2 && d == 29 && !leap)
        return false;
    *epoch = civil_to_days(y, (unsigned)m, (unsigned)d) * 86400;
    return true;
}

static bool hex32(const char *s, uint8_t out[32])
{
    if (strlen(s) != 64)
        return false;
    for (int i = 0; i < 64; i++) {
        char ch = s[i];
        int v = (ch >= '0' && ch <= '9') ? ch - '0' : (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10 : -1;
        if (v < 0)
            return false;
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(v << 4);
        else
            out[i / 2] |= (uint8_t)v;
    }
    return true;
}

/* 44 characters of base64 ending in one '=': a SHA-256 pin. */
static bool pin_ok(const char *s)
{
    if (strlen(s) != 44 || s[43] != '=')
        return false;
    for (int i = 0; i < 43; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '+' && s[i] != '/')
            return false;
    return true;
}

static const char *const KEYS[] = {"id", "label", "subject_dn", "store", "removed", "source",
                                   "sha256", "spki_sha256", "certificate_source", "comment",
                                   NULL};
enum { REQUIRED = 6 };  /* the first six */

static int parse_entry(struct ctx *c, const cJSON *o, size_t entry, struct removed_root *e)
{
    if (!cJSON_IsObject(o))
        return fail(c, entry, NULL, "must be an object");
    const cJSON *idv = cJSON_GetObjectItemCaseSensitive(o, "id");
    const char *id = cJSON_IsString(idv) ? idv->valuestring : NULL;
    const char *val[10] = {0};
    for (const cJSON *it = o->child; it; it = it->next) {
        const char *k = it->string ? it->string : "";
        size_t ki = 0;
        while (KEYS[ki] && strcmp(KEYS[ki], k) != 0)
            ki++;
        char q[48];
        if (!KEYS[ki])
            return fail(c, entry, id, "unknown key \"%s\"", jsonv_quote(k, q));
        if (val[ki])
            return fail(c, entry, id, "duplicate key \"%s\"", k);
        if (!cJSON_IsString(it) || !it->valuestring)
            return fail(c, entry, id, "%s: must be a string", k);
        size_t len = strlen(it->valuestring);
        if (len == 0 && ki != 9)
            return fail(c, entry, id, "%s: must not be empty", k);
        if (len > CFG_ROOTS_MAX_STR)
            return fail(c, entry, id, "%s: longer than %d bytes", k, CFG_ROOTS_MAX_STR);
        if (!jsonv_text_ok(it->valuestring, len))
            return fail(c, entry, id, "%s: not valid UTF-8 text (control character or bad "
                                      "sequence)", k);
        val[ki] = it->valuestring;
    }
    for (size_t i = 0; i < REQUIRED; i++)
        if (!val[i])
            return fail(c, entry, id, "missing key \"%s\"", KEYS[i]);
    if (!id_ok(val[0]))
        return fail(c, entry, id, "id: use lower-case letters, digits, '-', '_', '.' (at most 64)");
    if (strcmp(val[3], "mozilla") != 0 && strcmp(val[3], "chrome") != 0)
        return fail(c, entry, id, "store: must be \"mozilla\" or \"chrome\"");
    if (!parse_date(val[4], &e->removed_epoch))
        return fail(c, entry, id, "removed: not a date (YYYY-MM-DD, 1990..2199)");
    if (val[6]) {
        if (!hex32(val[6], e->sha256))
            return fail(c, entry, id, "sha256: want 64 lower-case hex digits");
        e->has_sha256 = true;
    }
    if (val[7]) {
        if (!pin_ok(val[7]))
            return fail(c, entry, id, "spki_sha256: want 44 characters of base64 (a SHA-256 pin)");
        memcpy(e->spki_sha256, val[7], 45);
        e->has_spki = true;
    }
    if ((val[6] || val[7]) && !val[8])
        return fail(c, entry, id, "certificate_source: required with sha256 or spki_sha256");
    const char **dst[10] = {&e->id, &e->label, &e->subject_dn, &e->store, &e->removed,
                            &e->source, NULL, NULL, &e->certificate_source, &e->comment};
    e->certificate_source = e->comment = "";
    for (size_t i = 0; i < 10; i++)
        if (dst[i] && val[i] && !(*dst[i] = keep(c->r, val[i])))
            return fail(c, entry, id, "out of memory");
    return 0;
}

void roots_free(struct roots *r)
{
    if (!r)
        return;
    strpool_free(&r->strs);
    free(r->e);
    free(r);
}

static int parse_doc(struct ctx *c, const char *buf, size_t len)
{
    cJSON *root = jsonv_parse(&c->v, buf, len, CFG_ROOTS_MAX_FILE_BYTES);
    if (!root)
        return -1;
    int rc = -1;
    static const char *const top[] = {"comment", "version", "entries", NULL};
    const cJSON *ver, *arr = NULL;
    if (!cJSON_IsObject(root)) {
        fail(c, 0, NULL, "top level must be a JSON object");
        goto out;
    }
    if (jsonv_check_keys(&c->v, root, top, "") < 0)
        goto out;
    ver = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!cJSON_IsNumber(ver) || ver->valuedouble != 1.0) {
        fail(c, 0, NULL, "version: must be the number 1");
        goto out;
    }
    const cJSON *cm = cJSON_GetObjectItemCaseSensitive(root, "comment");
    if (cm && !cJSON_IsString(cm)) {
        fail(c, 0, NULL, "comment: must be a string");
        goto out;
    }
    if (jsonv_get_array(&c->v, root, "entries", "", CFG_ROOTS_MAX, true, &arr) < 0)
        goto out;
    if (!arr) {
        fail(c, 0, NULL, "missing key \"entries\"");
        goto out;
    }
    size_t n = (size_t)cJSON_GetArraySize(arr);
    size_t *lines = calloc(n ? n : 1, sizeof *lines);
    c->r->e = calloc(n ? n : 1, sizeof *c->r->e);
    if (!lines || !c->r->e) {
        free(lines);
        fail(c, 0, NULL, "out of memory");
        goto out;
    }
    size_t nl = entry_lines(buf, len, lines, n);
    for (const cJSON *it = arr->child; it; it = it->next) {
        size_t i = c->r->n;
        struct removed_root *e = &c->r->e[i];
        e->line = i < nl ? lines[i] : 0;
        snprintf(c->file, sizeof c->file, "%s:%zu", c->name, e->line);
        if (parse_entry(c, it, i + 1, e) < 0) {
            free(lines);
            goto out;
        }
        e->index = c->r->n++;
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->r->e[j].id, e->id) == 0) {
                fail(c, i + 1, e->id, "id: duplicate of entry %zu (line %zu)", j + 1,
                     c->r->e[j].line);
                free(lines);
                goto out;
            }
    }
    free(lines);
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

struct roots *roots_load_buffer(const char *name, const char *buf, size_t len, char *err,
                                size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    struct ctx c = {.name = name ? name : ROOTS_FILE, .v = {.err = err, .errlen = errlen}};
    c.v.file = c.name;
    c.r = calloc(1, sizeof *c.r);
    if (!c.r) {
        fail(&c, 0, NULL, "out of memory");
        return NULL;
    }
    if (parse_doc(&c, buf, len) < 0) {
        roots_free(c.r);
        return NULL;
    }
    return c.r;
}

struct roots *roots_load_file(const char *path, char *err, size_t errlen)
{
    struct jsonv v = {.file = path, .err = err, .errlen = errlen};
    size_t len;
    char *buf = jsonv_read_file(&v, path, CFG_ROOTS_MAX_FILE_BYTES, &len);
    if (!buf)
        return NULL;
    struct roots *r = roots_load_buffer(path, buf, len, err, errlen);
    free(buf);
    return r;
}

size_t roots_count(const struct roots *r)
{
    return r ? r->n : 0;
}

const struct removed_root *roots_at(const struct roots *r, size_t i)
{
    return r && i < r->n ? &r->e[i] : NULL;
}

static const struct removed_root *by_name(const struct roots *r, const char *dn)
{
    if (!dn || !*dn)
        return NULL;
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->e[i].subject_dn, dn) == 0)
            return &r->e[i];
    return NULL;
}

bool roots_match_chain(const struct roots *r, const struct x509_cert *const *chain, size_t n,
                       struct roots_match *out)
{
    struct roots_match m = {0};
    if (out)
        *out = m;
    if (!r || !chain)
        return false;
    for (size_t k = 0; k < n && !m.root; k++) {
        if (!chain[k])
            continue;
        for (size_t i = 0; i < r->n; i++)
            if (r->e[i].has_sha256 && memcmp(r->e[i].sha256, chain[k]->sha256_raw, 32) == 0) {
                m = (struct roots_match){&r->e[i], ROOTS_BY_CERT, k};
                break;
            }
    }
    for (size_t k = 0; k < n && !m.root; k++) {
        const struct removed_root *e = chain[k] ? by_name(r, chain[k]->subject.dn) : NULL;
        if (e)
            m = (struct roots_match){e,
                                     e->has_spki && strcmp(e->spki_sha256,
                                                           chain[k]->spki_sha256) != 0
                                         ? ROOTS_KEY_DIFFERS
                                         : ROOTS_BY_SUBJECT,
                                     k};
    }
    for (size_t k = n; k > 0 && !m.root; k--) {
        const struct removed_root *e = chain[k - 1] ? by_name(r, chain[k - 1]->issuer.dn) : NULL;
        if (e)
            m = (struct roots_match){e, ROOTS_BY_ISSUER, k - 1};
    }
    if (out)
        *out = m;
    return m.root != NULL;
}
