/*
 * chromium.c - Chromium's static pins: the JSON of pinsets and entries
 * (transport_security_state_static.json and ..._pins.json, with //
 * comments) and the .pins file that names the hashes.
 *
 * JSON: "pinsets": [{"name", "static_spki_hashes", "bad_static_spki_hashes",
 * "report_uri"}], "entries": [{"name", "pins", "include_subdomains",
 * "include_subdomains_for_pinning", ...}].  Each entry with "pins" becomes
 * a pin set for its name holding the pinset's static_spki_hashes (all in
 * `pins`), include_subdomains from include_subdomains_for_pinning when
 * given, else include_subdomains.  Hashes are "sha256/..." values or names
 * defined by a .pins file read earlier.  bad_static_spki_hashes (keys
 * that must not appear) have no pinscope equivalent and are skipped with
 * a warning.  Entry keys that are not about pinning (mode, policy, ...)
 * are ignored; unknown keys of a pinset are an error.
 *
 * .pins: blocks of a name line followed by a "sha256/..." line or a PEM
 * block.  A name defined only by a PEM certificate cannot be used here
 * (its hash would have to be computed): naming it is an error.
 */
#include "pinimport/pi_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/jsonv.h"

/* JSON text with every // comment outside strings blanked (newlines
 * kept, so the parser's line numbers stay right).  Caller frees. */
static char *strip_comments(const char *buf, size_t len)
{
    char *o = malloc(len + 1);
    if (!o)
        return NULL;
    memcpy(o, buf, len);
    o[len] = '\0';
    bool str = false;
    for (size_t i = 0; i < len; i++) {
        if (str) {
            if (o[i] == '\\' && i + 1 < len)
                i++;
            else if (o[i] == '"' || o[i] == '\n')
                str = false;
        } else if (o[i] == '"') {
            str = true;
        } else if (o[i] == '/' && i + 1 < len && o[i + 1] == '/') {
            while (i < len && o[i] != '\n')
                o[i++] = ' ';
        }
    }
    return o;
}

static const cJSON *find_pinset(const cJSON *pinsets, const char *name)
{
    const cJSON *ps;
    cJSON_ArrayForEach(ps, pinsets)
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(ps, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
            return ps;
    }
    return NULL;
}

static int check_pinsets(struct pi_file *f, const cJSON *pinsets)
{
    static const char *const keys[] = {"name", "static_spki_hashes", "bad_static_spki_hashes",
                                       "report_uri", NULL};
    if (!cJSON_IsArray(pinsets))
        return pi_fail(f, 0, "pinsets: not a list");
    if (cJSON_GetArraySize(pinsets) > CFG_PINIMPORT_SETS_MAX)
        return pi_fail(f, 0, "pinsets: more than %d", CFG_PINIMPORT_SETS_MAX);
    size_t i = 0;
    const cJSON *ps;
    cJSON_ArrayForEach(ps, pinsets)
    {
        char q[48];
        if (!cJSON_IsObject(ps))
            return pi_fail(f, 0, "pinsets[%zu]: not an object", i);
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(ps, "name");
        if (!cJSON_IsString(n))
            return pi_fail(f, 0, "pinsets[%zu]: no name", i);
        const cJSON *k;
        cJSON_ArrayForEach(k, ps)
        {
            const char *const *kk = keys;
            while (*kk && strcmp(*kk, k->string) != 0)
                kk++;
            if (!*kk) {
                char kq[48];
                return pi_fail(f, 0, "pinsets[%zu] (%s): unknown key \"%s\"", i,
                               pi_quote(n->valuestring, strlen(n->valuestring), q),
                               pi_quote(k->string, strlen(k->string), kq));
            }
        }
        for (const cJSON *o = pinsets->child; o != ps; o = o->next) {
            const cJSON *on = cJSON_GetObjectItemCaseSensitive(o, "name");
            if (strcmp(on->valuestring, n->valuestring) == 0)
                return pi_fail(f, 0, "pinsets[%zu] (%s): a second pinset of this name", i,
                               pi_quote(n->valuestring, strlen(n->valuestring), q));
        }
        const cJSON *bad = cJSON_GetObjectItemCaseSensitive(ps, "bad_static_spki_hashes");
        if (bad && cJSON_GetArraySize(bad) > 0)
            pi_warn(f, 0, "pinsets[%zu] (%s): bad_static_spki_hashes (forbidden keys) have no "
                          "pinscope equivalent; not imported", i,
                    pi_quote(n->valuestring, strlen(n->valuestring), q));
        i++;
    }
    return 0;
}

static int entry_pins(struct pi_file *f, const char *where, const cJSON *ps, struct pi_set *s)
{
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(ps, "static_spki_hashes");
    if (!cJSON_IsArray(h) || cJSON_GetArraySize(h) == 0)
        return pi_fail(f, 0, "%s: its pinset has no static_spki_hashes", where);
    const cJSON *v;
    cJSON_ArrayForEach(v, h)
    {
        char q[48];
        if (!cJSON_IsString(v))
            return pi_fail(f, 0, "%s: static_spki_hashes: not a string", where);
        const char *t = v->valuestring;
        if (strncmp(t, "sha256/", 7) == 0 || strncmp(t, "sha1/", 5) == 0) {
            if (pi_add_pin_text(f, 0, s, t, strlen(t), "sha256/") < 0)
                return -1;
            continue;
        }
        const struct pi_name *nm = pi_name_find(f->pi, t);
        if (!nm)
            return pi_fail(f, 0, "%s: hash \"%s\" is not defined (give the .pins file that "
                                 "names it before this file)", where, pi_quote(t, strlen(t), q));
        if (nm->cert_only)
            return pi_fail(f, 0, "%s: hash \"%s\" is defined by a certificate in the .pins file; "
                                 "write its sha256/ pin (`pinscope spki`)", where,
                           pi_quote(t, strlen(t), q));
        if (pi_add_pin(f, 0, s, nm->pin) < 0)
            return -1;
    }
    return 0;
}

static int walk(struct pi_file *f, const cJSON *root)
{
    if (!cJSON_IsObject(root))
        return pi_fail(f, 0, "not a JSON object");
    const cJSON *pinsets = cJSON_GetObjectItemCaseSensitive(root, "pinsets");
    const cJSON *entries = cJSON_GetObjectItemCaseSensitive(root, "entries");
    if (!pinsets && !entries)
        return pi_fail(f, 0, "no \"pinsets\" or \"entries\"");
    if (pinsets && check_pinsets(f, pinsets) < 0)
        return -1;
    if (!entries)
        return 0;
    if (!cJSON_IsArray(entries))
        return pi_fail(f, 0, "entries: not a list");
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, entries)
    {
        char where[128], q[48];
        if (!cJSON_IsObject(e))
            return pi_fail(f, 0, "entries[%zu]: not an object", i);
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "name");
        if (!cJSON_IsString(n))
            return pi_fail(f, 0, "entries[%zu]: no name", i);
        snprintf(where, sizeof(where), "entries[%zu] (%s)", i,
                 pi_quote(n->valuestring, strlen(n->valuestring), q));
        i++;
        const cJSON *pins = cJSON_GetObjectItemCaseSensitive(e, "pins");
        if (!pins)
            continue;
        if (!cJSON_IsString(pins))
            return pi_fail(f, 0, "%s: pins: not a string", where);
        const cJSON *ps = pinsets ? find_pinset(pinsets, pins->valuestring) : NULL;
        if (!ps)
            return pi_fail(f, 0, "%s: pinset \"%s\" is not defined", where,
                           pi_quote(pins->valuestring, strlen(pins->valuestring), q));
        const cJSON *sub = cJSON_GetObjectItemCaseSensitive(e, "include_subdomains_for_pinning");
        if (!sub)
            sub = cJSON_GetObjectItemCaseSensitive(e, "include_subdomains");
        if (sub && !cJSON_IsBool(sub))
            return pi_fail(f, 0, "%s: %s: not true or false", where, sub->string);
        struct pi_set *s = pi_set_get(f, 0, n->valuestring, strlen(n->valuestring),
                                      sub && cJSON_IsTrue(sub), false);
        if (!s)
            return -1;
        /* pi_set_get named no line: say which entry. */
        char fn[128];
        snprintf(s->where, sizeof(s->where), "%s %s", pi_file_name(f, fn), where);
        if (entry_pins(f, where, ps, s) < 0)
            return -1;
    }
    return 0;
}

int pi_chromium(struct pi_file *f, const char *buf, size_t len)
{
    char *txt = strip_comments(buf, len);
    if (!txt)
        return pi_fail(f, 0, "out of memory");
    char err[512];
    struct jsonv v = {.file = f->name, .err = err, .errlen = sizeof(err)};
    cJSON *root = jsonv_parse(&v, txt, len, CFG_PINIMPORT_FILE_MAX);
    free(txt);
    if (!root) {
        if (f->err && f->errlen)
            snprintf(f->err, f->errlen, "%s", err);
        return -1;
    }
    int rc = walk(f, root);
    cJSON_Delete(root);
    return rc;
}

/* ---- the .pins file ---- */

static bool name_ok(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return len > 0;
}

int pi_chromium_pins(struct pi_file *f, const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len;
    unsigned no = 0, name_line = 0;
    const char *name = NULL;
    size_t name_len = 0, n = 0;
    bool in_pem = false;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end, *a = p, *b = le;
        p = nl ? nl + 1 : end;
        no++;
        while (a < b && pi_is_space(*a))
            a++;
        while (b > a && pi_is_space(b[-1]))
            b--;
        size_t l = (size_t)(b - a);
        char q[48];
        if (in_pem) {
            if (l >= 9 && memcmp(a, "-----END ", 9) == 0)
                in_pem = false;
            continue;
        }
        if (l == 0 || *a == '#')
            continue;
        if (!name) {
            if (!name_ok(a, l))
                return pi_fail(f, no, "\"%s\": expected a pin name", pi_quote(a, l, q));
            name = a;
            name_len = l;
            name_line = no;
            continue;
        }
        if (l >= 11 && memcmp(a, "-----BEGIN ", 11) == 0) {
            if (pi_name_add(f, name_line, name, name_len, NULL) < 0)
                return -1;
            in_pem = true;
        } else {
            struct pi_set tmp = {.n = 0};
            snprintf(tmp.domain, sizeof(tmp.domain), "%.*s", (int)(name_len > 60 ? 60 : name_len),
                     name);
            if (pi_add_pin_text(f, no, &tmp, a, l, "sha256/") < 0 ||
                pi_name_add(f, name_line, name, name_len, tmp.pins[0]) < 0)
                return -1;
        }
        name = NULL;
        n++;
    }
    if (in_pem)
        return pi_fail(f, no, "unexpected end of file inside a PEM block");
    if (name) {
        char q[48];
        return pi_fail(f, name_line, "%s: no hash follows the name", pi_quote(name, name_len, q));
    }
    if (n == 0)
        return pi_fail(f, 0, "no named hashes");
    return 0;
}
