/*
 * dec.h - unsigned numbers as decimal text, written in place.
 *
 * The length is counted first and the digits are stored two at a time
 * from the end: no temporary buffer, no copy (a variable-length copy
 * becomes a call to memcpy per number, which the JSON writer's arrays of
 * cipher suites and the fingerprint strings paid thousands of times per
 * connection).  The caller has room for DEC_MAX characters (or `width`,
 * if larger); nothing is NUL-terminated.
 */
#ifndef PINSCOPE_DEC_H
#define PINSCOPE_DEC_H

#include <stdint.h>
#include <string.h>

/* Longest decimal text of a uint64_t. */
#define DEC_MAX 20

/* "00".."99": two characters per lookup. */
static const char dec_pairs[200] =
    "0001020304050607080910111213141516171819"
    "2021222324252627282930313233343536373839"
    "4041424344454647484950515253545556575859"
    "6061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* Digits of v in decimal (1 for 0). */
static inline unsigned dec_digits(uint64_t v)
{
    unsigned n = 1;
    for (;;) {
        if (v < 10)
            return n;
        if (v < 100)
            return n + 1;
        if (v < 1000)
            return n + 2;
        if (v < 10000)
            return n + 3;
        v /= 10000;
        n += 4;
    }
}

/* v at p, at least `width` digits (zero-padded, width <= DEC_MAX);
 * returns the end. */
static inline char *dec_put_w(char *p, uint64_t v, unsigned width)
{
    unsigned n = dec_digits(v);
    for (unsigned i = n; i < width; i++)
        *p++ = '0';
    char *q = p + n;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        q -= 2;
        memcpy(q, dec_pairs + 2 * r, 2);
    }
    if (v >= 10)
        memcpy(q - 2, dec_pairs + 2 * v, 2);
    else
        q[-1] = (char)('0' + v);
    return p + n;
}

/* v at p; returns the end. */
static inline char *dec_put(char *p, uint64_t v)
{
    return dec_put_w(p, v, 1);
}

#endif
