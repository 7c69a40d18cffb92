/*
 * jw.c - streaming JSON writer (see jw.h).
 */
#include "output/jw.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

void jw_begin(struct jw *w, char **buf, size_t *len, size_t *cap, size_t max)
{
    memset(w, 0, sizeof(*w));
    w->buf = buf;
    w->len = len;
    w->cap = cap;
    w->max = max;
    w->start = *len;
    w->first[0] = true;
}

/* Room for n more bytes; false (and failed) when it cannot be had. */
static bool reserve(struct jw *w, size_t n)
{
    if (w->failed)
        return false;
    size_t len = *w->len, cap = *w->cap;
    if (n <= cap - len)
        return true;
    if (n > w->max - len) {
        w->failed = true;
        return false;
    }
    size_t ncap = cap ? cap : 256;
    while (ncap - len < n)
        ncap *= 2;
    if (ncap > w->max)
        ncap = w->max;
    char *b = realloc(*w->buf, ncap);
    if (!b) {
        w->failed = true;
        return false;
    }
    *w->buf = b;
    *w->cap = ncap;
    return true;
}

static void put(struct jw *w, const char *s, size_t n)
{
    if (!reserve(w, n))
        return;
    memcpy(*w->buf + *w->len, s, n);
    *w->len += n;
}

static void putc1(struct jw *w, char c)
{
    if (!reserve(w, 1))
        return;
    (*w->buf)[(*w->len)++] = c;
}

/* A JSON string: '"', the text escaped as cJSON escapes it, '"'. */
/* Bytes copied as they are: all but '"', '\\' and the C0 controls. */
#define P16 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
static const uint8_t plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* 0x10 */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* 0x20: '"' */
    P16,                                              /* 0x30 */
    P16,                                              /* 0x40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,   /* 0x50: '\\' */
    P16, P16,                                         /* 0x60, 0x70 */
    P16, P16, P16, P16, P16, P16, P16, P16,           /* 0x80 - 0xff */
};
#undef P16

static void put_string(struct jw *w, const char *s, size_t n)
{
    /* Worst case 6 bytes per input byte ("\u001f"). */
    if (n > (SIZE_MAX - 2) / 6 || !reserve(w, 6 * n + 2)) {
        w->failed = true;
        return;
    }
    char *o = *w->buf + *w->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        size_t run = i;
        while (run < n && plain[(unsigned char)s[run]])
            run++;
        memcpy(o, s + i, run - i);   /* most strings are one run */
        o += run - i;
        if ((i = run) == n)
            break;
        unsigned char c = (unsigned char)s[i];
        *o++ = '\\';
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\b': *o++ = 'b'; break;
        case '\f': *o++ = 'f'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        default:
            o += snprintf(o, 6, "u%04x", c);
            break;
        }
    }
    *o++ = '"';
    *w->len = (size_t)(o - *w->buf);
}

/* The comma and the key before a value. */
static bool value_start(struct jw *w, const char *key)
{
    if (w->failed)
        return false;
    if (!w->first[w->depth])
        putc1(w, ',');
    w->first[w->depth] = false;
    if (key) {
        put_string(w, key, strlen(key));
        putc1(w, ':');
    }
    return !w->failed;
}

static void open_(struct jw *w, const char *key, char c)
{
    if (!value_start(w, key))
        return;
    if (w->depth + 1 >= JW_MAX_DEPTH) {
        w->failed = true;
        return;
    }
    putc1(w, c);
    w->first[++w->depth] = true;
}

static void close_(struct jw *w, char c)
{
    if (w->failed)
        return;
    if (w->depth == 0) {
        w->failed = true;
        return;
    }
    w->depth--;
    putc1(w, c);
}

void jw_obj_open(struct jw *w, const char *key) { open_(w, key, '{'); }
void jw_obj_close(struct jw *w) { close_(w, '}'); }
void jw_arr_open(struct jw *w, const char *key) { open_(w, key, '['); }
void jw_arr_close(struct jw *w) { close_(w, ']'); }

int jw_end(struct jw *w)
{
    if (w->depth != 0)
        w->failed = true;
    putc1(w, '\n');
    if (w->failed) {
        *w->len = w->start;
        return -1;
    }
    return 0;
}

void jw_strn(struct jw *w, const char *key, const char *v, size_t n)
{
    if (value_start(w, key))
        put_string(w, v, n);
}

void jw_str(struct jw *w, const char *key, const char *v)
{
    jw_strn(w, key, v, strlen(v));
}

void jw_uint(struct jw *w, const char *key, uint64_t v)
{
    if (!value_start(w, key))
        return;
    char buf[24], *p = buf + sizeof(buf);
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(w, p, (size_t)(buf + sizeof(buf) - p));
}

void jw_int(struct jw *w, const char *key, int64_t v)
{
    if (v >= 0) {
        jw_uint(w, key, (uint64_t)v);
        return;
    }
    if (!value_start(w, key))
        return;
    uint64_t m = (uint64_t)0 - (uint64_t)v;
    char buf[24], *p = buf + sizeof(buf);
    do {
        *--p = (char)('0' + m % 10);
        m /= 10;
    } while (m);
    *--p = '-';
    put(w, p, (size_t)(buf + sizeof(buf) - p));
}

void jw_bool(struct jw *w, const char *key, bool v)
{
    if (value_start(w, key))
        put(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_double(struct jw *w, const char *key, double v)
{
    if (!value_start(w, key))
        return;
    char buf[32];
    int n;
    if (isnan(v) || isinf(v)) {
        n = snprintf(buf, sizeof(buf), "null");
    } else {
        n = snprintf(buf, sizeof(buf), "%1.15g", v);
        /* cJSON keeps 15 digits when they read back within an epsilon */
        double back = 0;
        int ok = sscanf(buf, "%lg", &back);
        double mag = fabs(back) > fabs(v) ? fabs(back) : fabs(v);
        if (ok != 1 || fabs(back - v) > mag * DBL_EPSILON)
            n = snprintf(buf, sizeof(buf), "%1.17g", v);
    }
    put(w, buf, (size_t)n);
}

void jw_hex(struct jw *w, const char *key, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    if (!value_start(w, key))
        return;
    if (n > (SIZE_MAX - 2) / 2 || !reserve(w, 2 * n + 2)) {
        w->failed = true;
        return;
    }
    char *o = *w->buf + *w->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        *o++ = digits[p[i] >> 4];
        *o++ = digits[p[i] & 15];
    }
    *o++ = '"';
    *w->len = (size_t)(o - *w->buf);
}

void jw_base64(struct jw *w, const char *key, const uint8_t *p, size_t n)
{
    if (!value_start(w, key))
        return;
    if (n > (size_t)INT32_MAX / 2) {
        w->failed = true;
        return;
    }
    size_t out = 4 * ((n + 2) / 3);
    if (!reserve(w, out + 3))   /* quotes and EVP_EncodeBlock's NUL */
        return;
    char *o = *w->buf + *w->len;
    *o++ = '"';
    int k = EVP_EncodeBlock((unsigned char *)o, p, (int)n);
    o += k;
    *o++ = '"';
    *w->len = (size_t)(o - *w->buf);
}
