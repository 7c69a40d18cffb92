/*
 * rd.h - the one bounds-checked reader for untrusted bytes.
 *
 * Every parser in pinscope reads packet and stream bytes through a struct rd.
 * A reader is a view (pointer, length, offset) over memory it does not own.
 * Reads are big-endian.  A read past the end returns 0, leaves the offset
 * where it was and sets the sticky `bad` flag; every later read on that
 * reader also returns 0, so a parser may read a whole structure and check
 * `bad` once at the end.
 *
 * Length-prefixed fields become child readers (rd_sub, rd_vec8/16/24) so
 * that inner code cannot overrun the field its parent declared.
 *
 * The bounds test exists once, in rd_has(), written so that it cannot
 * overflow: `n <= len - off` with the invariant off <= len.
 */
#ifndef PINSCOPE_RD_H
#define PINSCOPE_RD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct rd {
    const uint8_t *p;
    size_t len;
    size_t off;   /* invariant: off <= len */
    bool bad;     /* sticky: set by the first failed read */
};

static inline void rd_init(struct rd *r, const void *p, size_t len)
{
    r->p = (const uint8_t *)p;
    r->len = p ? len : 0;
    r->off = 0;
    r->bad = false;
}

/* Bytes left to read (0 once bad). */
static inline size_t rd_left(const struct rd *r)
{
    return r->bad ? 0 : r->len - r->off;
}

/* True if n more bytes can be read; does not set bad. */
static inline bool rd_has(const struct rd *r, size_t n)
{
    return !r->bad && n <= r->len - r->off;
}

/* Pointer to the next unread byte (valid for rd_left() bytes). */
static inline const uint8_t *rd_ptr(const struct rd *r)
{
    return r->p + r->off;
}

static inline bool rd_fail(struct rd *r)
{
    r->bad = true;
    return false;
}

static inline bool rd_skip(struct rd *r, size_t n)
{
    if (!rd_has(r, n))
        return rd_fail(r);
    r->off += n;
    return true;
}

/* Big-endian loads from bytes whose bounds the caller has checked once for
 * a whole fixed header (the one-pass decode, the reader's choice of
 * worker); every other read goes through a struct rd. */
static inline uint16_t rd_load_be16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t rd_load_be24(const uint8_t *p)
{
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static inline uint32_t rd_load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint8_t rd_u8(struct rd *r)
{
    if (!rd_has(r, 1)) {
        rd_fail(r);
        return 0;
    }
    return r->p[r->off++];
}

static inline uint16_t rd_u16(struct rd *r)
{
    if (!rd_has(r, 2)) {
        rd_fail(r);
        return 0;
    }
    uint16_t v = rd_load_be16(r->p + r->off);
    r->off += 2;
    return v;
}

static inline uint32_t rd_u24(struct rd *r)
{
    if (!rd_has(r, 3)) {
        rd_fail(r);
        return 0;
    }
    uint32_t v = rd_load_be24(r->p + r->off);
    r->off += 3;
    return v;
}

static inline uint32_t rd_u32(struct rd *r)
{
    if (!rd_has(r, 4)) {
        rd_fail(r);
        return 0;
    }
    uint32_t v = rd_load_be32(r->p + r->off);
    r->off += 4;
    return v;
}

/* Little-endian 32-bit read (pcap BSD loopback header only). */
static inline uint32_t rd_u32le(struct rd *r)
{
    if (!rd_has(r, 4)) {
        rd_fail(r);
        return 0;
    }
    uint32_t v = (uint32_t)r->p[r->off + 3] << 24 | (uint32_t)r->p[r->off + 2] << 16 |
                 (uint32_t)r->p[r->off + 1] << 8 | r->p[r->off];
    r->off += 4;
    return v;
}

/* Peek byte at offset i from the current position without consuming; 0 and
 * no error if out of range (callers test rd_has first when it matters). */
static inline uint8_t rd_peek(const struct rd *r, size_t i)
{
    return rd_has(r, i + 1) ? r->p[r->off + i] : 0;
}

/* Copy n bytes out.  On failure `out` is zeroed.  (Inline: the decoder
 * copies both addresses of every packet with it.) */
static inline bool rd_copy(struct rd *r, void *out, size_t n)
{
    if (!rd_has(r, n)) {
        memset(out, 0, n);
        return rd_fail(r);
    }
    memcpy(out, r->p + r->off, n);
    r->off += n;
    return true;
}

/* Child view over the next n bytes, consumed from the parent. */
static inline bool rd_sub(struct rd *r, size_t n, struct rd *out)
{
    if (!rd_has(r, n)) {
        rd_init(out, NULL, 0);
        out->bad = true;
        return rd_fail(r);
    }
    rd_init(out, r->p + r->off, n);
    r->off += n;
    return true;
}

/* TLS opaque vectors: a 1-, 2- or 3-byte length, then that many bytes,
 * returned as a child reader. */
bool rd_vec8(struct rd *r, struct rd *out);
bool rd_vec16(struct rd *r, struct rd *out);
bool rd_vec24(struct rd *r, struct rd *out);

#endif
