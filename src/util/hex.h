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
    /* the value of each byte as a digit, 0x10 and above for a non-digit */
#define H16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
    static const uint8_t val[256] = {
        H16(0x40), H16(0x40), H16(0x40),
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40,
        0x40, 10, 11, 12, 13, 14, 15, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40,
        H16(0x40),
        0x40, 10, 11, 12, 13, 14, 15, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40,
        H16(0x40), H16(0x40), H16(0x40), H16(0x40), H16(0x40), H16(0x40), H16(0x40),
        H16(0x40), H16(0x40),
    };
#undef H16
    unsigned bad = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned hi = val[s[2 * i]], lo = val[s[2 * i + 1]];
        bad |= hi | lo;
        out[i] = (uint8_t)(hi << 4 | (lo & 15));
    }
    return bad < 16;
}

#endif
