/*
 * testhelp.h - a minimal unit-test helper (one binary per module).
 *
 *   test_cond("parses a ClientHello", rc == 0);
 *   ...
 *   return test_report();
 *
 * test_report() prints "unit: N passed, N failed" and returns the process
 * exit status (0 only when nothing failed and at least one check ran).
 */
#ifndef PINSCOPE_TESTHELP_H
#define PINSCOPE_TESTHELP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/hex.h"

static int test_passed, test_failed;

#define test_cond(descr, cond)                                                  \
    do {                                                                        \
        if (cond) {                                                             \
            test_passed++;                                                      \
        } else {                                                                \
            test_failed++;                                                      \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, descr);     \
        }                                                                       \
    } while (0)

/* Compare two strings and show both on failure. */
#define test_streq(descr, got, want)                                            \
    do {                                                                        \
        const char *g_ = (got), *w_ = (want);                                   \
        if (g_ && w_ && strcmp(g_, w_) == 0) {                                  \
            test_passed++;                                                      \
        } else {                                                                \
            test_failed++;                                                      \
            fprintf(stderr, "FAIL %s:%d: %s\n   got: %s\n  want: %s\n",         \
                    __FILE__, __LINE__, descr, g_ ? g_ : "(null)",              \
                    w_ ? w_ : "(null)");                                        \
        }                                                                       \
    } while (0)

static inline int test_report_named(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, test_passed, test_failed);
    return (test_failed == 0 && test_passed > 0) ? 0 : 1;
}

#define test_report() test_report_named(__FILE__)

/* ---- building wire bytes ---- */

struct tbuf {
    uint8_t b[16384];
    size_t n;
};

static inline void tb_put(struct tbuf *b, const void *p, size_t n)
{
    memcpy(b->b + b->n, p, n);
    b->n += n;
}
static inline void tb_u8(struct tbuf *b, unsigned v) { b->b[b->n++] = (uint8_t)v; }
static inline void tb_u16(struct tbuf *b, unsigned v) { tb_u8(b, v >> 8); tb_u8(b, v); }
static inline void tb_u24(struct tbuf *b, unsigned v) { tb_u8(b, v >> 16); tb_u16(b, v & 0xffff); }

/* ---- byte helpers for test vectors ---- */

/* Decode hex (other characters ignored) into out[0..cap); returns the
 * number of bytes the text holds (more than cap if it did not fit). */
static inline size_t test_unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (; *s; s++) {
        int v = hex_digit((unsigned char)*s);
        if (v < 0)
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            if (n < cap)
                out[n] = (uint8_t)(hi << 4 | v);
            n++;
            hi = -1;
        }
    }
    return n;
}

/* got[0..len) equals the bytes written in hex in `want` (at most 2 KiB). */
static inline int test_hexeq(const uint8_t *got, size_t len, const char *want)
{
    uint8_t w[2048];
    size_t n = test_unhex(want, w, sizeof w);
    return n == len && n <= sizeof w && memcmp(got, w, len) == 0;
}

static inline int test_all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

#endif
