/*
 * stream.c - per-direction TCP reassembly window (see stream.h).
 *
 * The window is a flat buffer indexed by (stream offset - base_off) and a
 * sorted list of disjoint ranges of bytes present.  Insertion copies only
 * the parts of a segment that fill holes; the parts that land on bytes
 * already present are compared, and a difference is an anomaly (first data
 * wins, as Suricata's default "first" policy and Windows/BSD stacks do for
 * the common cases).
 */
#include "reasm/stream.h"

#include <string.h>

#include "config.h"

size_t reasm_stream_size(void)
{
    return sizeof(struct reasm_stream) + CFG_REASM_MAX_RANGES * sizeof(struct reasm_range);
}

void reasm_stream_start(struct reasm_stream *s, uint32_t isn1, uint32_t depth)
{
    s->init = true;
    s->isn1 = isn1;
    s->depth = depth;
    s->base_off = 0;
    s->n_ranges = 0;
}

static bool grow(struct reasm_stream *s, struct memcap *mc, uint32_t need)
{
    if (need <= s->cap)
        return true;
    uint32_t ncap = s->cap ? s->cap : 2048;
    while (ncap < need)
        ncap *= 2;
    if (ncap > REASM_WINDOW)
        ncap = REASM_WINDOW;
    uint8_t *nb = memcap_realloc(mc, s->buf, s->cap, ncap);
    if (!nb)
        return false;
    s->buf = nb;
    s->cap = ncap;
    return true;
}

/* Count conflicting bytes where [a,b) overlaps existing ranges. */
static void check_overlap(const struct reasm_stream *s, struct stats *st, uint32_t a,
                          uint32_t b, const uint8_t *src)
{
    for (uint16_t i = 0; i < s->n_ranges; i++) {
        uint32_t lo = s->r[i].start > a ? s->r[i].start : a;
        uint32_t hi = s->r[i].end < b ? s->r[i].end : b;
        if (lo < hi && memcmp(s->buf + lo, src + (lo - a), hi - lo) != 0) {
            stats_anomaly(st, STATS_TCP_OVERLAP_CONFLICT);
            return;
        }
    }
}

bool reasm_add(struct reasm_stream *s, struct memcap *mc, struct stats *st,
               uint32_t seq, const uint8_t *data, size_t len)
{
    if (!s->init || len == 0)
        return false;

    /* Stream offset of the segment; negative means it starts before
     * offset 0 (a retransmitted SYN-era byte or garbage). */
    int64_t off = (int32_t)(seq - s->isn1);
    int64_t end = off + (int64_t)len;
    int64_t lo = (int64_t)s->base_off, hi = lo + REASM_WINDOW;

    if (end > (int64_t)s->depth) {
        if (!s->depth_hit) {
            s->depth_hit = true;
            stats_cap(st, STATS_REASM_DEPTH);
        }
        end = s->depth;
    }
    if (end > hi) {
        stats_cap(st, STATS_REASM_WINDOW);
        end = hi;
    }
    if (off < lo) {
        data += lo - off;
        off = lo;
    }
    if (end <= off)
        return false;

    uint32_t a = (uint32_t)(off - lo), b = (uint32_t)(end - lo);
    const uint8_t *src = data;

    if (!grow(s, mc, b)) {
        stats_cap(st, STATS_MEMCAP);
        return false;
    }
    check_overlap(s, st, a, b, src);

    /* Build the new range list: copy bytes into the holes of [a,b). */
    struct reasm_range out[CFG_REASM_MAX_RANGES + 1];
    uint16_t n = 0;
    uint32_t cur = a;       /* next byte of [a,b) not yet placed */
    bool placed = false;
    struct reasm_range nr = { a, b };

    for (uint16_t i = 0; i < s->n_ranges; i++) {
        struct reasm_range r = s->r[i];
        if (r.end < nr.start || r.start > nr.end) {
            if (r.start > nr.end && !placed) {
                if (n == CFG_REASM_MAX_RANGES) {
                    stats_cap(st, STATS_REASM_HOLES);
                    return false;
                }
                out[n++] = nr;
                placed = true;
            }
            if (n == CFG_REASM_MAX_RANGES) {
                stats_cap(st, STATS_REASM_HOLES);
                return false;
            }
            out[n++] = r;
            continue;
        }
        /* Overlapping or adjacent: fill the gap before r, then merge. */
        if (cur < r.start)
            memcpy(s->buf + cur, src + (cur - a), (r.start < b ? r.start : b) - cur);
        if (r.end > cur)
            cur = r.end;
        if (r.start < nr.start)
            nr.start = r.start;
        if (r.end > nr.end)
            nr.end = r.end;
    }
    if (cur < b)
        memcpy(s->buf + cur, src + (cur - a), b - cur);
    if (!placed) {
        if (n == CFG_REASM_MAX_RANGES) {
            stats_cap(st, STATS_REASM_HOLES);
            return false;
        }
        out[n++] = nr;
    }
    /* out[] may hold the merged range after later ranges were appended in
     * order; keep the list sorted. */
    for (uint16_t i = 1; i < n; i++) {
        struct reasm_range t = out[i];
        uint16_t j = i;
        while (j > 0 && out[j - 1].start > t.start) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = t;
    }
    bool grew = n > 0 && out[0].start == 0 &&
                (s->n_ranges == 0 || s->r[0].start != 0 || out[0].end > s->r[0].end);
    memcpy(s->r, out, n * sizeof(out[0]));
    s->n_ranges = n;
    return grew;
}

size_t reasm_peek(const struct reasm_stream *s, const uint8_t **p)
{
    *p = s->buf;
    if (s->n_ranges == 0 || s->r[0].start != 0)
        return 0;
    return s->r[0].end;
}

void reasm_consume(struct reasm_stream *s, size_t n)
{
    if (n == 0 || s->n_ranges == 0 || s->r[0].start != 0)
        return;
    if (n > s->r[0].end)
        n = s->r[0].end;
    uint32_t top = s->r[s->n_ranges - 1].end;
    memmove(s->buf, s->buf + n, top - n);
    uint16_t j = 0;
    for (uint16_t i = 0; i < s->n_ranges; i++) {
        struct reasm_range r = s->r[i];
        if (r.end <= n)
            continue;
        r.start = r.start > n ? r.start - (uint32_t)n : 0;
        r.end -= (uint32_t)n;
        s->r[j++] = r;
    }
    s->n_ranges = j;
    s->base_off += n;
}

void reasm_release(struct reasm_stream *s, struct memcap *mc)
{
    memcap_free(mc, s->buf, s->cap);
    s->buf = NULL;
    s->cap = 0;
    s->n_ranges = 0;
}
