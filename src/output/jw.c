/*
 * jw.c - streaming JSON writer (see jw.h).
 */
#include "output/jw.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/dec.h"


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

/* reserve() past the buffer's end: grow it (doubling, up to max). */
static __attribute__((noinline)) bool grow(struct jw *w, size_t n)
{
    size_t len = *w->len, cap = *w->cap;
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

/* Room for n more bytes; false (and failed) when it cannot be had.
 * Inline: nearly every value fits. */
static inline bool reserve(struct jw *w, size_t n)
{
    if (w->failed)
        return false;
    if (n <= *w->cap - *w->len)
        return true;
    return grow(w, n);
}

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

/* True when one of the 8 bytes of x is a control (< 0x20), '"' or '\\':
 * the word-at-a-time tests of Hacker's Delight 6-1, exact as a whole. */
static inline bool word_needs_escape(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    uint64_t lt = (x - ones * 0x20) & ~x;
    uint64_t zq = (q - ones) & ~q, zb = (b - ones) & ~b;
    return ((lt | zq | zb) & highs) != 0;
}

/* The text escaped as cJSON escapes it, after the opening '"' at o;
 * returns the end (the closing '"' not yet written). */
static char *escape_slow(char *o, const char *s, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (n - run >= 8) {
            uint64_t x;
            memcpy(&x, s + run, 8);
            if (word_needs_escape(x))
                break;
            run += 8;
        }
        while (run < n && plain[(unsigned char)s[run]])
            run++;
        memcpy(o, s + i, run - i);   /* most strings are one run */
        o += run - i;
        if ((i = run) == n)
            break;
        unsigned char c = (unsigned char)s[i++];
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
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = digits[c >> 4];
            *o++ = digits[c & 15];
            break;
        }
    }
    return o;
}

/* The rest of escape(): the text after the opening '"' at o, checked
 * and copied eight bytes at a time (the last eight overlapping the ones
 * before), or byte by byte when shorter than four; any escape found
 * starts over in escape_slow().  Returns the end, after the closing '"'. */
static char *escape_rest(char *o, const char *s, size_t n)
{
    if (n >= 8) {
        size_t i = 0;
        uint64_t x;
        for (; n - i >= 8; i += 8) {
            memcpy(&x, s + i, 8);
            if (word_needs_escape(x))
                goto slow;
            memcpy(o + i, &x, 8);
        }
        if (i < n) {
            memcpy(&x, s + n - 8, 8);
            if (word_needs_escape(x))
                goto slow;
            memcpy(o + n - 8, &x, 8);
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            if (!plain[c])
                goto slow;
            o[i] = (char)c;
        }
    }
    o += n;
    *o++ = '"';
    return o;
slow:
    o = escape_slow(o, s, n);
    *o++ = '"';
    return o;
}

/* A JSON string: '"', the text escaped as cJSON escapes it, '"'.  The
 * caller has reserved 6 * n + 2 bytes at o; returns the end.  Most keys
 * and many values are 4 to 16 bytes with nothing to escape: those are
 * checked as two overlapping words (of four bytes or of eight) and copied
 * here, inline in the caller; the rest goes to escape_rest(). */
static inline __attribute__((always_inline)) char *escape(char *o, const char *s, size_t n)
{
    *o++ = '"';
    if (n >= 8 && n <= 16) {
        uint64_t x, y;
        memcpy(&x, s, 8);
        memcpy(&y, s + n - 8, 8);
        if (!word_needs_escape(x) && !word_needs_escape(y)) {
            memcpy(o, &x, 8);
            memcpy(o + n - 8, &y, 8);
            o += n;
            *o++ = '"';
            return o;
        }
    } else if (n >= 4 && n < 8) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        if (!word_needs_escape((uint64_t)a << 32 | b)) {
            memcpy(o, &a, 4);
            memcpy(o + n - 4, &b, 4);
            o += n;
            *o++ = '"';
            return o;
        }
    }
    return escape_rest(o, s, n);
}

/*
 * The comma and the key before a value, with room reserved for `need`
 * more bytes of value: where the value goes, or NULL (writer failed).
 * The value's writer ends with done().
 */
static char *value_start(struct jw *w, const char *key, size_t klen, size_t need)
{
    if (w->failed)
        return NULL;
    if (klen > (SIZE_MAX / 8) || need > SIZE_MAX / 2 || !reserve(w, 6 * klen + 4 + need)) {
        w->failed = true;
        return NULL;
    }
    char *o = *w->buf + *w->len;
    if (!w->first[w->depth])
        *o++ = ',';
    w->first[w->depth] = false;
    if (key) {
        o = escape(o, key, klen);
        *o++ = ':';
    }
    return o;
}

static void done(struct jw *w, char *o)
{
    *w->len = (size_t)(o - *w->buf);
}

void jw_k_open(struct jw *w, const char *key, size_t klen, char c)
{
    if (!w->failed && w->depth + 1 >= JW_MAX_DEPTH) {
        w->failed = true;
        return;
    }
    char *o = value_start(w, key, klen, 1);
    if (!o)
        return;
    *o++ = c;
    done(w, o);
    w->first[++w->depth] = true;
}

void jw_close(struct jw *w, char c)
{
    if (w->failed)
        return;
    if (w->depth == 0 || !reserve(w, 1)) {
        w->failed = true;
        return;
    }
    w->depth--;
    (*w->buf)[(*w->len)++] = c;
}

int jw_end(struct jw *w)
{
    if (w->depth != 0)
        w->failed = true;
    if (!w->failed && reserve(w, 1))
        (*w->buf)[(*w->len)++] = '\n';
    if (w->failed) {
        *w->len = w->start;
        return -1;
    }
    return 0;
}

void jw_k_strn(struct jw *w, const char *key, size_t klen, const char *v, size_t n)
{
    if (n > (SIZE_MAX - 2) / 6) {
        w->failed = true;
        return;
    }
    char *o = value_start(w, key, klen, 6 * n + 2);
    if (o)
        done(w, escape(o, v, n));
}

void jw_k_plain(struct jw *w, const char *key, size_t klen, const char *v, size_t n)
{
    if (n > SIZE_MAX / 2) {
        w->failed = true;
        return;
    }
    char *o = value_start(w, key, klen, n + 2);
    if (!o)
        return;
    *o++ = '"';
    memcpy(o, v, n);
    o += n;
    *o++ = '"';
    done(w, o);
}

void jw_k_uint(struct jw *w, const char *key, size_t klen, uint64_t v)
{
    char *o = value_start(w, key, klen, 20);
    if (o)
        done(w, dec_put(o, v));
}

void jw_k_int(struct jw *w, const char *key, size_t klen, int64_t v)
{
    char *o = value_start(w, key, klen, 21);
    if (!o)
        return;
    if (v < 0) {
        *o++ = '-';
        done(w, dec_put(o, (uint64_t)0 - (uint64_t)v));
    } else {
        done(w, dec_put(o, (uint64_t)v));
    }
}

void jw_k_bool(struct jw *w, const char *key, size_t klen, bool v)
{
    char *o = value_start(w, key, klen, 5);
    if (!o)
        return;
    memcpy(o, v ? "true" : "false", v ? 4 : 5);
    done(w, o + (v ? 4 : 5));
}

void jw_k_double(struct jw *w, const char *key, size_t klen, double v)
{
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
    if (n < 0 || (size_t)n >= sizeof(buf)) {
        w->failed = true;
        return;
    }
    char *o = value_start(w, key, klen, (size_t)n);
    if (!o)
        return;
    memcpy(o, buf, (size_t)n);
    done(w, o + n);
}

void jw_k_hex(struct jw *w, const char *key, size_t klen, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    if (n > (SIZE_MAX - 2) / 2) {
        w->failed = true;
        return;
    }
    char *o = value_start(w, key, klen, 2 * n + 2);
    if (!o)
        return;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        *o++ = digits[p[i] >> 4];
        *o++ = digits[p[i] & 15];
    }
    *o++ = '"';
    done(w, o);
}

/* RFC 4648 base64 with padding. */
static char *base64(char *o, const uint8_t *p, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 0;
    for (; n - i >= 3; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        o[0] = t[v >> 18];
        o[1] = t[(v >> 12) & 63];
        o[2] = t[(v >> 6) & 63];
        o[3] = t[v & 63];
        o += 4;
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        *o++ = t[v >> 18];
        *o++ = t[(v >> 12) & 63];
        *o++ = '=';
        *o++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        *o++ = t[v >> 18];
        *o++ = t[(v >> 12) & 63];
        *o++ = t[(v >> 6) & 63];
        *o++ = '=';
    }
    return o;
}

void jw_k_base64(struct jw *w, const char *key, size_t klen, const uint8_t *p, size_t n)
{
    if (n > SIZE_MAX / 2) {
        w->failed = true;
        return;
    }
    char *o = value_start(w, key, klen, 4 * ((n + 2) / 3) + 2);
    if (!o)
        return;
    *o++ = '"';
    o = base64(o, p, n);
    *o++ = '"';
    done(w, o);
}

void jw_k_raw(struct jw *w, const char *key, size_t klen, const char *json, size_t n)
{
    char *o = value_start(w, key, klen, n);
    if (!o)
        return;
    memcpy(o, json, n);
    done(w, o + n);
}

void jw_members(struct jw *w, const char *json, size_t n)
{
    if (n == 0)
        return;
    char *o = value_start(w, NULL, 0, n);
    if (!o)
        return;
    memcpy(o, json, n);
    done(w, o + n);
}

void jw_k_u16_array(struct jw *w, const char *key, size_t klen, const uint16_t *v, size_t n)
{
    if (w->depth + 1 >= JW_MAX_DEPTH || n > (SIZE_MAX - 2) / 6) {
        w->failed = true;
        return;
    }
    char *o = value_start(w, key, klen, 6 * n + 2);
    if (!o)
        return;
    *o++ = '[';
    for (size_t i = 0; i < n; i++) {
        if (i)
            *o++ = ',';
        o = dec_put(o, v[i]);
    }
    *o++ = ']';
    done(w, o);
}
