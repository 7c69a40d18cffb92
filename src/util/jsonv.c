/*
 * jsonv.c - the strict JSON configuration loader (see jsonv.h).
 */
#include "util/jsonv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int jsonv_fail(struct jsonv *v, const char *fmt, ...)
{
    if (!v->err || v->errlen == 0)
        return -1;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(v->err, v->errlen, "%s: %s%s%s", v->file, v->entry, v->entry[0] ? ": " : "", msg);
    return -1;
}

const char *jsonv_quote(const char *s, char out[48])
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

char *jsonv_read_file(struct jsonv *v, const char *path, size_t max, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        jsonv_fail(v, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        jsonv_fail(v, "is a directory");
        fclose(f);
        return NULL;
    }
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max) {
        jsonv_fail(v, "larger than %zu bytes", max);
        fclose(f);
        return NULL;
    }
    /* Pipes and devices too (--policy <(...)), read to at most max + 1. */
    size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 65536, len = 0;
    char *buf = NULL;
    for (;;) {
        char *nb = realloc(buf, cap + 1);
        if (!nb) {
            free(buf);
            fclose(f);
            jsonv_fail(v, "out of memory");
            return NULL;
        }
        buf = nb;
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap || cap > max)
            break;
        cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad || len > max) {
        if (bad)
            jsonv_fail(v, "read error");
        else
            jsonv_fail(v, "larger than %zu bytes", max);
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    *len_out = len;
    return buf;
}

cJSON *jsonv_parse(struct jsonv *v, const char *buf, size_t len, size_t max)
{
    if (!buf && len) {
        jsonv_fail(v, "no data");
        return NULL;
    }
    if (len > max) {
        jsonv_fail(v, "larger than %zu bytes", max);
        return NULL;
    }
    if (len && memchr(buf, '\0', len)) {
        jsonv_fail(v, "contains a NUL byte");
        return NULL;
    }
    char *text = malloc(len + 1);
    if (!text) {
        jsonv_fail(v, "out of memory");
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
        jsonv_fail(v, "not valid JSON (line %zu, column %zu)", line, col);
    }
    free(text);
    return root;
}

int jsonv_check_keys(struct jsonv *v, const cJSON *obj, const char *const *known,
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
            return jsonv_fail(v, "%sunknown key \"%s\"", prefix, jsonv_quote(k, q));
        for (const cJSON *prev = obj->child; prev != it; prev = prev->next)
            if (prev->string && strcmp(prev->string, k) == 0)
                return jsonv_fail(v, "%sduplicate key \"%s\"", prefix, jsonv_quote(k, q));
    }
    return 0;
}

int jsonv_get_string(struct jsonv *v, const cJSON *obj, const char *key, const char *prefix,
                     const char **out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!it)
        return 0;
    if (!cJSON_IsString(it) || !it->valuestring)
        return jsonv_fail(v, "%s%s: not a string", prefix, key);
    *out = it->valuestring;
    return 0;
}

int jsonv_get_bool(struct jsonv *v, const cJSON *obj, const char *key, bool *out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = false;
    if (!it)
        return 0;
    if (!cJSON_IsBool(it))
        return jsonv_fail(v, "%s: not true or false", key);
    *out = cJSON_IsTrue(it);
    return 0;
}

int jsonv_get_array(struct jsonv *v, const cJSON *obj, const char *key, const char *prefix,
                    size_t max, bool allow_empty, const cJSON **out)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!a)
        return 0;
    if (!cJSON_IsArray(a))
        return jsonv_fail(v, "%s%s: not a list", prefix, key);
    size_t n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, a)
        n++;
    if (n == 0 && !allow_empty)
        return jsonv_fail(v, "%s%s: empty list", prefix, key);
    if (n > max)
        return jsonv_fail(v, "%s%s: more than %zu entries", prefix, key, max);
    *out = a;
    return 0;
}

bool jsonv_text_ok(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return false;
            i++;
            continue;
        }
        size_t n;
        unsigned cp, min;
        if ((c & 0xe0) == 0xc0) {
            n = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}
