/*
 * hex.h - one hexadecimal digit's value, for the text formats that carry
 * digests (key logs, TLSA records).
 */
#ifndef PINSCOPE_HEX_H
#define PINSCOPE_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 0..15, or -1 when c is not a hex digit (either case). */
static inline int hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Decode 2 * n hex digits at s into out[n]: true, or false at the first
 * character that is not a hex digit (out then holds a partial result).
 * The caller has checked that s holds 2 * n characters.
 */
static inline bool hex_decode(const uint8_t *s, size_t n, uint8_t *out)
{
    unsigned bad = 0;
    for (size_t i = 0; i < n; i++) {
        int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
        bad |= (unsigned)(hi | lo) >> 8;   /* -1 sets the high bits */
        out[i] = (uint8_t)((unsigned)hi << 4 | ((unsigned)lo & 15));
    }
    return bad == 0;
}

#endif
