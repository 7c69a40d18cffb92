/*
 * stream.h - TCP reassembly of one direction, for handshake analysis.
 *
 * A struct reasm_stream turns TCP segments, in any order, duplicated or
 * overlapping, into the ordered bytes of one direction of a connection,
 * starting at stream offset 0 (the byte after the SYN, or the first data
 * byte seen when the SYN was not captured).
 *
 * It keeps only a window: bytes not yet consumed by the analyzer, from
 * stream offset `base_off` up to base_off + REASM window size.  The
 * analyzer reads the contiguous prefix (reasm_peek) and drops what it has
 * used (reasm_consume), so memory holds at most one partial TLS record plus
 * out-of-order data.
 *
 * Container contract:
 *   depth        bytes beyond stream offset `depth` are ignored (caps hit:
 *                reassembly_depth, once per direction).
 *   window       segments further than CFG_REASM_WINDOW past base_off are
 *                dropped (reassembly_window); the sender will retransmit.
 *   holes        at most CFG_REASM_MAX_RANGES disjoint ranges; a segment
 *                that would need more is dropped (reassembly_holes).
 *   memory       the window buffer, grown by doubling, through the memcap.
 *   overlaps     the first copy of a byte wins; a later copy with other
 *                content is counted (tcp_overlap_conflict).
 *
 * Sequence numbers are compared modulo 2^32 relative to the stream's ISN,
 * which is fine because depth is far below 2^31.
 */
#ifndef PINSCOPE_REASM_STREAM_H
#define PINSCOPE_REASM_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/memcap.h"
#include "util/stats.h"

#define REASM_WINDOW (64 * 1024)   /* bytes buffered past base_off */

struct reasm_range {
    uint32_t start, end;   /* [start, end) relative to base_off */
};

struct reasm_stream {
    bool init;
    bool depth_hit;
    uint32_t isn1;         /* sequence number of stream offset 0 */
    uint32_t depth;
    uint64_t base_off;     /* stream offset of buf[0] */
    uint8_t *buf;
    uint32_t cap;          /* allocated bytes of buf */
    uint16_t n_ranges;
    struct reasm_range r[];  /* CFG_REASM_MAX_RANGES entries follow */
};

/* Size to allocate for a stream (flexible array included). */
size_t reasm_stream_size(void);

/* Reset a zeroed stream: offset 0 is sequence number `isn1`. */
void reasm_stream_start(struct reasm_stream *s, uint32_t isn1, uint32_t depth);

/*
 * Add a segment carrying `len` bytes at sequence number `seq`.  Data before
 * base_off, beyond the depth or beyond the window is trimmed; conflicts and
 * caps are counted in `st`.  Returns true if the contiguous prefix grew.
 * Note: on memcap failure the segment is dropped (caps: memcap) and false
 * is returned; the stream stays consistent.
 */
bool reasm_add(struct reasm_stream *s, struct memcap *mc, struct stats *st,
               uint32_t seq, const uint8_t *data, size_t len);

/* Contiguous bytes available from base_off; *p points at them. */
size_t reasm_peek(const struct reasm_stream *s, const uint8_t **p);

/* Drop n (<= reasm_peek()) bytes from the front. */
void reasm_consume(struct reasm_stream *s, size_t n);

/* Stream offset of the first unconsumed byte. */
static inline uint64_t reasm_offset(const struct reasm_stream *s)
{
    return s->base_off;
}

/* Release the buffer (the struct itself belongs to the caller). */
void reasm_release(struct reasm_stream *s, struct memcap *mc);

#endif
