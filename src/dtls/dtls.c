/*
 * dtls.c - DTLS record walking and handshake reassembly (see dtls.h).
 *
 * Records: one function reads one header through the datagram reader and
 * returns the fragment as a pointer into the datagram; nothing is copied.
 *
 * Handshake: each pending message keeps a buffer laid out as the TLS
 * message it will become (4-byte header, then the body at offset 4) and a
 * sorted list of the body ranges received, like reasm/stream.c keeps for
 * TCP.  Insertion copies only the parts of a fragment that fill holes and
 * compares the parts that land on bytes already present.  A message is
 * complete when one range covers [0, length).  Delivery walks from
 * next_seq while the slot holding it is complete, so each call does at
 * most DTLS_MAX_PENDING deliveries after its fragments are placed.
 *
 * It does not decrypt anything, track epochs, or check that message_seq
 * matches the record sequence numbers.
 */
#include "dtls/dtls.h"

#include <string.h>

/* ---- record layer ---------------------------------------------------- */

/* Unified header, RFC 9147 4: 0b001CSLEE. */
#define UH_MASK 0xe0
#define UH_BITS 0x20
#define UH_C    0x10
#define UH_S    0x08
#define UH_L    0x04
#define UH_EE   0x03

static int record_fail(struct rd *r, int err)
{
    rd_fail(r);
    return -err;
}

static int record_unified(struct rd *r, struct dtls_record *rec)
{
    uint8_t b = rd_u8(r);

    if (b & UH_C)
        return record_fail(r, DTLS_E_CID);
    rec->type = b;
    rec->unified = true;
    rec->encrypted = true;
    rec->epoch = b & UH_EE;
    rec->seq = (b & UH_S) ? rd_u16(r) : rd_u8(r);
    size_t len = (b & UH_L) ? rd_u16(r) : rd_left(r);
    if (r->bad)
        return -DTLS_E_TRUNC;   /* already marked bad */
    struct rd sub;
    if (!rd_sub(r, len, &sub))
        return -DTLS_E_LENGTH;
    rec->frag = rd_ptr(&sub);
    rec->len = len;
    return 1;
}

int dtls_record_next(struct rd *dgram, struct dtls_record *rec)
{
    memset(rec, 0, sizeof(*rec));
    if (!rd_has(dgram, 1))
        return 0;

    uint8_t first = rd_peek(dgram, 0);
    /* 20..26 are content types, 32..63 the unified header (RFC 9147 4.1
     * demultiplexing); the ranges do not meet. */
    if ((first & UH_MASK) == UH_BITS)
        return record_unified(dgram, rec);

    if (first < DTLS_CT_CHANGE_CIPHER_SPEC || first > DTLS_CT_ACK)
        return record_fail(dgram, DTLS_E_TYPE);
    if (first == DTLS_CT_TLS12_CID)
        return record_fail(dgram, DTLS_E_CID);   /* CID before length, RFC 9146 */
    if (!rd_has(dgram, DTLS_RECORD_HDR))
        return record_fail(dgram, DTLS_E_TRUNC);

    rec->type = rd_u8(dgram);
    rec->version = rd_u16(dgram);
    if ((rec->version >> 8) != DTLS_VERSION_MAJOR)
        return record_fail(dgram, DTLS_E_VERSION);
    rec->epoch = rd_u16(dgram);
    uint64_t hi = rd_u16(dgram);
    rec->seq = hi << 32 | rd_u32(dgram);
    size_t len = rd_u16(dgram);
    struct rd sub;
    if (!rd_sub(dgram, len, &sub))
        return -DTLS_E_LENGTH;   /* rd_sub marked the reader bad */
    rec->frag = rd_ptr(&sub);
    rec->len = len;
    rec->encrypted = rec->epoch != 0;
    return 1;
}

bool dtls_looks_like_handshake(const uint8_t *p, size_t len)
{
    struct rd r, rec;

    rd_init(&r, p, len);
    if (rd_u8(&r) != DTLS_CT_HANDSHAKE)
        return false;
    uint16_t ver = rd_u16(&r);
    if (ver != DTLS_VERSION_1_0 && ver != DTLS_VERSION_1_2 && ver != DTLS_VERSION_1_3)
        return false;
    if (rd_u16(&r) != 0)   /* epoch */
        return false;
    rd_skip(&r, 6);        /* sequence number */
    size_t rlen = rd_u16(&r);
    if (rlen < DTLS_FRAG_HDR || !rd_sub(&r, rlen, &rec))
        return false;

    uint8_t mt = rd_u8(&rec);
    uint32_t mlen = rd_u24(&rec);
    rd_skip(&rec, 2);      /* message_seq */
    uint32_t foff = rd_u24(&rec);
    uint32_t flen = rd_u24(&rec);
    if (rec.bad)
        return false;
    if (mt != DTLS_HS_CLIENT_HELLO && mt != DTLS_HS_SERVER_HELLO &&
        mt != DTLS_HS_HELLO_VERIFY_REQUEST)
        return false;
    /* Every hello is at least a version and a 32-byte random (HVR: a
     * version and a cookie length). */
    if (mlen < 3 || foff > mlen || flen > mlen - foff)
        return false;
    return flen <= rd_left(&rec);
}

/* ---- handshake reassembly ------------------------------------------- */

void dtls_hs_init(struct dtls_hs_dir *d)
{
    memset(d, 0, sizeof(*d));
}

static void slot_free(struct dtls_hs_slot *s, struct memcap *mc)
{
    memcap_free(mc, s->buf, s->cap);
    memset(s, 0, sizeof(*s));
}

static bool slot_complete(const struct dtls_hs_slot *s)
{
    if (s->oversize || s->length == 0)
        return true;
    return s->n_ranges == 1 && s->r[0].start == 0 && s->r[0].end == s->length;
}

static struct dtls_hs_slot *slot_find(struct dtls_hs_dir *d, uint16_t seq)
{
    for (int i = 0; i < DTLS_MAX_PENDING; i++)
        if (d->slot[i].used && d->slot[i].msg_seq == seq)
            return &d->slot[i];
    return NULL;
}

static struct dtls_hs_slot *slot_free_one(struct dtls_hs_dir *d)
{
    for (int i = 0; i < DTLS_MAX_PENDING; i++)
        if (!d->slot[i].used)
            return &d->slot[i];
    return NULL;
}

/* Pending slot with the lowest (want_low) or highest message_seq. */
static struct dtls_hs_slot *slot_extreme(struct dtls_hs_dir *d, bool want_low)
{
    struct dtls_hs_slot *best = NULL;
    for (int i = 0; i < DTLS_MAX_PENDING; i++) {
        struct dtls_hs_slot *s = &d->slot[i];
        if (!s->used)
            continue;
        if (!best || (want_low ? s->msg_seq < best->msg_seq : s->msg_seq > best->msg_seq))
            best = s;
    }
    return best;
}

/* Drop pending messages below next_seq: they can never be delivered. */
static void prune_below(struct dtls_hs_dir *d, struct memcap *mc, int *flags)
{
    for (int i = 0; i < DTLS_MAX_PENDING; i++) {
        struct dtls_hs_slot *s = &d->slot[i];
        if (s->used && s->msg_seq < d->next_seq) {
            slot_free(s, mc);
            d->gaps++;
            *flags |= DTLS_E_GAP;
        }
    }
}

/* Hand out complete messages from next_seq on; then, if every slot is
 * taken and none holds next_seq, skip ahead to the lowest pending one. */
static void settle(struct dtls_hs_dir *d, struct memcap *mc, dtls_msg_cb cb, void *ctx,
                   int *flags)
{
    if (!d->started)
        return;
    for (;;) {
        struct dtls_hs_slot *s = slot_find(d, (uint16_t)d->next_seq);
        if (d->next_seq > UINT16_MAX)
            s = NULL;
        if (s && slot_complete(s)) {
            if (!s->oversize) {
                if (cb)
                    cb(ctx, s->buf, 4 + (size_t)s->length);
                d->delivered++;
            }
            slot_free(s, mc);
            d->next_seq++;
            continue;
        }
        if (s || slot_free_one(d))
            return;
        /* Full, and the next expected message is missing: a gap.  The
         * lowest pending message_seq is above next_seq here. */
        struct dtls_hs_slot *lo = slot_extreme(d, true);
        d->gaps += (uint32_t)(lo->msg_seq - d->next_seq);
        *flags |= DTLS_E_GAP;
        d->next_seq = lo->msg_seq;
    }
}

/* Make sure the buffer holds the header and body bytes [0, end). */
static bool slot_grow(struct dtls_hs_slot *s, struct memcap *mc, uint32_t end)
{
    size_t need = 4 + (size_t)end, full = 4 + (size_t)s->length;
    if (need <= s->cap && s->buf)
        return true;
    size_t ncap = s->cap ? s->cap * 2 : 1024;
    if (ncap < need)
        ncap = need;
    if (ncap > full)
        ncap = full;
    uint8_t *nb = memcap_realloc(mc, s->buf, s->cap, ncap);
    if (!nb)
        return false;
    if (!s->buf) {
        nb[0] = s->type;
        nb[1] = (uint8_t)(s->length >> 16);
        nb[2] = (uint8_t)(s->length >> 8);
        nb[3] = (uint8_t)s->length;
    }
    s->buf = nb;
    s->cap = ncap;
    return true;
}

/* Place body bytes [a, b) from src into slot s.  Returns DTLS_E_* bits. */
static int slot_insert(struct dtls_hs_slot *s, struct memcap *mc, uint32_t a, uint32_t b,
                       const uint8_t *src)
{
    int flags = 0;
    uint32_t out_start[DTLS_MAX_RANGES + 1], out_end[DTLS_MAX_RANGES + 1];
    uint32_t ns = a, ne = b;   /* the range [a,b) merged with its neighbours */
    unsigned n = 0;
    bool placed = false;

    /* The new range list first: if it does not fit, nothing changes. */
    for (unsigned i = 0; i < s->n_ranges; i++) {
        uint32_t rs = s->r[i].start, re = s->r[i].end;
        if (re < a || rs > b) {
            if (rs > b && !placed) {
                out_start[n] = ns;   /* ns/ne final: later ranges lie beyond b */
                out_end[n++] = ne;
                placed = true;
            }
            out_start[n] = rs;
            out_end[n++] = re;
            continue;
        }
        if (rs < ns)
            ns = rs;
        if (re > ne)
            ne = re;
    }
    if (!placed) {
        out_start[n] = ns;
        out_end[n++] = ne;
    }
    if (n > DTLS_MAX_RANGES)
        return DTLS_E_RANGES;
    if (!slot_grow(s, mc, ne))
        return DTLS_E_MEMCAP;

    /* Compare where bytes are already present, copy into the holes. */
    uint8_t *body = s->buf + 4;
    uint32_t cur = a;
    for (unsigned i = 0; i < s->n_ranges; i++) {
        uint32_t rs = s->r[i].start, re = s->r[i].end;
        if (re <= a || rs >= b)
            continue;
        uint32_t lo = rs > a ? rs : a, hi = re < b ? re : b;
        if (memcmp(body + lo, src + (lo - a), hi - lo) != 0)
            flags |= DTLS_E_OVERLAP;
        if (cur < lo)
            memcpy(body + cur, src + (cur - a), lo - cur);
        if (hi > cur)
            cur = hi;
    }
    if (cur < b)
        memcpy(body + cur, src + (cur - a), b - cur);

    for (unsigned i = 0; i < n; i++) {
        s->r[i].start = out_start[i];
        s->r[i].end = out_end[i];
    }
    s->n_ranges = (uint8_t)n;
    return flags;
}

/* A slot for a message not pending yet, or NULL (the fragment is dropped).
 * May evict the highest pending message when `seq` is below it. */
static struct dtls_hs_slot *slot_take(struct dtls_hs_dir *d, struct memcap *mc, uint16_t seq,
                                      int *flags)
{
    struct dtls_hs_slot *s = slot_free_one(d);
    if (s)
        return s;
    struct dtls_hs_slot *hi = slot_extreme(d, false);
    *flags |= DTLS_E_SLOTS;
    if (seq > hi->msg_seq)
        return NULL;
    slot_free(hi, mc);
    d->evicted++;
    return hi;
}

/* One fragment whose header has been validated against its message. */
static int add_fragment(struct dtls_hs_dir *d, struct memcap *mc, uint8_t type, uint32_t length,
                        uint16_t seq, uint32_t off, uint32_t flen, const uint8_t *src)
{
    int flags = 0;

    if (d->started && seq < d->next_seq) {
        d->retransmits++;
        return 0;
    }
    /* An empty piece of a non-empty message says nothing. */
    if (flen == 0 && length != 0)
        return 0;

    struct dtls_hs_slot *s = slot_find(d, seq);
    if (s) {
        if (s->type != type || s->length != length) {
            d->conflicts++;
            return DTLS_E_CONFLICT;
        }
        if (s->oversize || slot_complete(s))
            return 0;   /* a copy of a message waiting for its turn */
    } else {
        s = slot_take(d, mc, seq, &flags);
        if (!s) {
            d->dropped++;
            return flags;
        }
        s->used = true;
        s->type = type;
        s->msg_seq = seq;
        s->length = length;
        if (length > DTLS_MSG_MAX) {
            s->oversize = true;
            d->too_large++;
            return flags | DTLS_E_TOO_LARGE;
        }
        if (length == 0 && !slot_grow(s, mc, 0)) {
            slot_free(s, mc);
            d->dropped++;
            return flags | DTLS_E_MEMCAP;
        }
    }
    if (flen == 0)
        return flags;

    int rc = slot_insert(s, mc, off, off + flen, src);
    if (rc & (DTLS_E_RANGES | DTLS_E_MEMCAP)) {
        d->dropped++;
        if (s->n_ranges == 0)
            slot_free(s, mc);   /* nothing held: give the slot back */
    }
    if (rc & DTLS_E_OVERLAP)
        d->conflicts++;
    return flags | rc;
}

/* Start the sequence at the first message to complete (see dtls.h). */
static void maybe_start(struct dtls_hs_dir *d, struct memcap *mc, uint16_t seq, int *flags)
{
    if (d->started)
        return;
    struct dtls_hs_slot *s = slot_find(d, seq);
    if (!s || !slot_complete(s))
        return;
    d->started = true;
    d->next_seq = seq;
    prune_below(d, mc, flags);
}

int dtls_hs_add(struct dtls_hs_dir *d, struct memcap *mc, const uint8_t *frag, size_t len,
                dtls_msg_cb cb, void *ctx)
{
    struct rd r, body;
    int flags = 0;

    rd_init(&r, frag, len);
    while (rd_left(&r) > 0) {
        if (!rd_has(&r, DTLS_FRAG_HDR)) {
            flags |= DTLS_E_FRAG_HDR;
            d->malformed++;
            break;
        }
        uint8_t type = rd_u8(&r);
        uint32_t length = rd_u24(&r);
        uint16_t seq = rd_u16(&r);
        uint32_t off = rd_u24(&r);
        uint32_t flen = rd_u24(&r);
        if (!rd_sub(&r, flen, &body)) {
            flags |= DTLS_E_FRAG_HDR;
            d->malformed++;
            break;
        }
        if (off > length || flen > length - off) {
            flags |= DTLS_E_FRAG_RANGE;
            d->malformed++;
            continue;
        }
        flags |= add_fragment(d, mc, type, length, seq, off, flen, rd_ptr(&body));
        maybe_start(d, mc, seq, &flags);
        settle(d, mc, cb, ctx, &flags);
    }
    d->flags |= (uint32_t)flags;
    return flags;
}

void dtls_hs_release(struct dtls_hs_dir *d, struct memcap *mc)
{
    for (int i = 0; i < DTLS_MAX_PENDING; i++)
        slot_free(&d->slot[i], mc);
}

/* ---- message bodies -------------------------------------------------- */

int dtls_hello_verify_parse(const uint8_t *body, size_t len, uint16_t *version,
                            uint8_t *cookie_len)
{
    struct rd r, cookie;

    rd_init(&r, body, len);
    uint16_t v = rd_u16(&r);
    rd_vec8(&r, &cookie);
    if (r.bad || rd_left(&r) != 0)
        return -DTLS_E_BODY;
    if ((v >> 8) != DTLS_VERSION_MAJOR)
        return -DTLS_E_VERSION;
    *version = v;
    *cookie_len = (uint8_t)cookie.len;
    return 0;
}

const char *dtls_err_name(int err)
{
    static const char *const names[] = {
        "record_truncated",   "bad_version",       "record_length",  "connection_id",
        "bad_content_type",   "fragment_header",   "fragment_range", "fragment_conflict",
        "overlap_conflict",   "message_too_large", "too_many_ranges", "no_free_slot",
        "message_gap",        "memcap",            "bad_body",
    };
    unsigned u = err < 0 ? 0u - (unsigned)err : (unsigned)err;

    if (u == 0)
        return "ok";
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (u & (1u << i))
            return names[i];
    return "unknown";
}
