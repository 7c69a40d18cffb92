/*
 * frames.c - TLS bytes out of TDS packets and WebSocket frames (frames.h).
 *
 *   TDS packet header (MS-TDS 2.2.3.1):  type(1) status(1) length(2, BE,
 *       header included) spid(2) packet_id(1) window(1)
 *   PRELOGIN payload (2.2.6.5):  option table of token(1) offset(2)
 *       length(2), ended by 0xff; offsets count from the payload start
 *   WebSocket frame (RFC 6455 5.2):  FIN|RSV1-3|opcode(1)
 *       MASK|length7(1) [length16 | length64] [masking key(4)] payload
 */
#include "tls/frames.h"

#include <string.h>

#include "config.h"
#include "util/rd.h"

#define TDS_HDR_LEN          8
#define TDS_REPLY            0x04   /* tabular result: the server's PRELOGIN answer */
#define TDS_PRELOGIN         0x12
#define TDS_STATUS_EOM       0x01
#define TDS_PACKET_MAX       32768  /* negotiated packet sizes go up to 32767 */
#define TDS_PRELOGIN_OPT_MAX 0x0f   /* highest option token accepted (0x07 defined) */
#define TDS_PRELOGIN_OPTS    16     /* option table entries read at most */

#define WS_OP_CONTINUATION   0x0
#define WS_OP_BINARY         0x2
#define WS_OP_CONTROL        0x8    /* close 0x8, ping 0x9, pong 0xa */
#define WS_OP_PONG           0xa
#define WS_CONTROL_MAX       125

#define TLS_RECORD_MAX       (16384 + 2048)

bool tls_hello_record_prefix(const uint8_t *p, size_t n)
{
    if (n > 10)
        n = 10;
    if (n < 1 || p[0] != 0x16)
        return false;
    if (n >= 3 && (p[1] != 3 || p[2] > 4))
        return false;
    if (n == 2 && p[1] != 3)
        return false;
    if (n >= 5) {
        unsigned rlen = rd_load_be16(p + 3);
        if (rlen < 4 || rlen > TLS_RECORD_MAX)
            return false;
    }
    if (n >= 6 && p[5] != 1 && p[5] != 2)
        return false;
    if (n >= 9) {
        uint32_t hlen = rd_load_be24(p + 6);
        if (hlen < 38 || hlen > CFG_TLS_HS_MSG_MAX)
            return false;
    }
    return n < 10 || p[9] == 3;
}

/* ---- TDS ---------------------------------------------------------------- */

int tls_tds_prelogin(const uint8_t *p, size_t n)
{
    struct rd r;
    rd_init(&r, p, n);
    if (!rd_has(&r, TDS_HDR_LEN))
        return -1;
    uint8_t type = rd_u8(&r);
    uint8_t status = rd_u8(&r);
    uint16_t len = rd_u16(&r);
    rd_skip(&r, 3);                       /* spid, packet id */
    uint8_t window = rd_u8(&r);
    if ((type != TDS_PRELOGIN && type != TDS_REPLY) || status != TDS_STATUS_EOM ||
        window != 0 || len < TDS_HDR_LEN + 6)
        return 0;
    size_t plen = (size_t)len - TDS_HDR_LEN;
    /* Entry k sits at payload offset 5k; the data it points at lies after
     * the table, so its offset is at least 5(k+1)+1. */
    for (size_t k = 0; k < TDS_PRELOGIN_OPTS; k++) {
        if (5 * k >= plen)
            return 0;
        if (!rd_has(&r, 1))
            return -1;
        uint8_t tok = rd_u8(&r);
        if (tok == 0xff)
            return k > 0;
        if (tok > TDS_PRELOGIN_OPT_MAX || 5 * k + 5 > plen)
            return 0;
        if (!rd_has(&r, 4))
            return -1;
        size_t off = rd_u16(&r);
        size_t olen = rd_u16(&r);
        if (off < 5 * (k + 1) + 1 || off + olen > plen)
            return 0;
    }
    return 0;
}

/* A TDS packet header at p.  Before the TLS bytes, PRELOGIN packets and
 * replies are passed over; the first whose payload starts a hello record
 * begins the TLS bytes.  After them, a record header in place of a packet
 * header means the handshake is over and the framing with it. */
static int tds_frame(struct tls_frames *f, const uint8_t *p, size_t n, size_t *hdr)
{
    if (f->tls && n >= 1 && p[0] >= 20 && p[0] <= 24) {
        if (n < 2)
            return -1;
        if (p[1] != 3)
            return TLS_FRAMES_MALFORMED;
        f->raw = true;
        *hdr = 0;
        return TLS_FRAMES_OK;
    }
    struct rd r;
    rd_init(&r, p, n);
    if (!rd_has(&r, TDS_HDR_LEN))
        return -1;
    uint8_t type = rd_u8(&r);
    rd_skip(&r, 1);                       /* status: a message may span packets */
    uint16_t len = rd_u16(&r);
    if (len < TDS_HDR_LEN || len > TDS_PACKET_MAX)
        return TLS_FRAMES_MALFORMED;
    size_t plen = (size_t)len - TDS_HDR_LEN;
    if (type != TDS_PRELOGIN && type != TDS_REPLY)
        return f->tls ? TLS_FRAMES_MALFORMED : TLS_FRAMES_NOT_TLS;
    if (f->frames >= CFG_TLS_TUNNEL_FRAMES_MAX)
        return TLS_FRAMES_CAP;
    if (!f->tls) {
        size_t want = plen < 10 ? plen : 10;
        if (n - TDS_HDR_LEN < want)
            return -1;
        if (plen >= 3 && tls_hello_record_prefix(p + TDS_HDR_LEN, want)) {
            f->tls = true;
        } else if (f->skipped + plen > CFG_TLS_PREAMBLE_MAX) {
            return TLS_FRAMES_NOT_TLS;
        }
    }
    f->frames++;
    f->pass = f->tls;
    f->masked = false;
    f->left = plen;
    *hdr = TDS_HDR_LEN;
    return TLS_FRAMES_OK;
}

/* ---- WebSocket ---------------------------------------------------------- */

struct ws_hdr {
    uint8_t op;
    bool masked;
    uint8_t mask[4];
    uint64_t len;
    size_t size;   /* header bytes */
};

/* 1 parsed, 0 malformed, -1 more bytes needed. */
static int ws_header(const uint8_t *p, size_t n, struct ws_hdr *h)
{
    struct rd r;
    rd_init(&r, p, n);
    uint8_t b0 = rd_u8(&r);
    uint8_t b1 = rd_u8(&r);
    uint64_t len = b1 & 0x7f;
    if (len == 126) {
        len = rd_u16(&r);
    } else if (len == 127) {
        uint64_t hi = rd_u32(&r);
        len = hi << 32 | rd_u32(&r);
    }
    h->masked = b1 & 0x80;
    if (h->masked)
        rd_copy(&r, h->mask, 4);
    if (r.bad)
        return -1;
    h->op = b0 & 0x0f;
    h->len = len;
    h->size = r.off;
    /* RSV bits belong to extensions (permessage-deflate) whose payload
     * cannot be read; a 64-bit length has its top bit clear. */
    if ((b0 & 0x70) || (len >> 63))
        return 0;
    if (h->op & WS_OP_CONTROL)
        return h->op <= WS_OP_PONG && (b0 & 0x80) && len <= WS_CONTROL_MAX;
    return h->op == WS_OP_CONTINUATION || h->op == WS_OP_BINARY;
}

int tls_ws_frame_starts_tls(const uint8_t *p, size_t n)
{
    struct ws_hdr h;
    int rc = ws_header(p, n, &h);
    if (rc <= 0)
        return rc;
    if (h.op != WS_OP_BINARY || h.len < 3)
        return 0;
    size_t want = h.len < 10 ? (size_t)h.len : 10;
    if (n - h.size < want)
        return -1;
    uint8_t b[10];
    for (size_t i = 0; i < want; i++)
        b[i] = p[h.size + i] ^ (h.masked ? h.mask[i & 3] : 0);
    return tls_hello_record_prefix(b, want);
}

static int ws_frame(struct tls_frames *f, const uint8_t *p, size_t n, size_t *hdr)
{
    struct ws_hdr h;
    int rc = ws_header(p, n, &h);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return TLS_FRAMES_MALFORMED;
    if (f->frames >= CFG_TLS_TUNNEL_FRAMES_MAX)
        return TLS_FRAMES_CAP;
    f->frames++;
    f->pass = !(h.op & WS_OP_CONTROL);
    f->masked = h.masked;
    memcpy(f->mask, h.mask, sizeof(f->mask));
    f->mask_pos = 0;
    f->left = h.len;
    *hdr = h.size;
    return TLS_FRAMES_OK;
}

/* ---- taking bytes -------------------------------------------------------- */

static bool reserve(struct tls_frames *f, struct memcap *mc, size_t need)
{
    if (need <= f->cap)
        return true;
    size_t want = f->cap ? f->cap : 2048;
    while (want < need)
        want *= 2;
    if (want > TLS_FRAMES_BUF_MAX)
        want = TLS_FRAMES_BUF_MAX;
    uint8_t *nb = memcap_realloc(mc, f->buf, f->cap, want);
    if (!nb)
        return false;
    f->buf = nb;
    f->cap = (uint32_t)want;
    return true;
}

static void copy_payload(struct tls_frames *f, const uint8_t *src, size_t m)
{
    uint8_t *dst = f->buf + f->len;
    if (f->masked) {
        for (size_t i = 0; i < m; i++)
            dst[i] = src[i] ^ f->mask[(f->mask_pos + i) & 3];
        f->mask_pos = (uint8_t)((f->mask_pos + m) & 3);
    } else {
        memcpy(dst, src, m);
    }
    f->len += (uint32_t)m;
}

enum tls_frames_rc tls_frames_take(struct tls_frames *f, struct memcap *mc, const uint8_t *p,
                                   size_t n, size_t *used)
{
    enum tls_frames_rc rc = TLS_FRAMES_OK;
    size_t off = 0;
    while (off < n) {
        if (f->left > 0 || f->raw) {
            size_t m = n - off;
            if (!f->raw && f->left < m)
                m = (size_t)f->left;
            if (f->pass || f->raw) {
                size_t room = TLS_FRAMES_BUF_MAX - f->len;
                if (m > room)
                    m = room;
                if (m == 0)
                    break;               /* buf holds a whole record: read it first */
                if (!reserve(f, mc, f->len + m)) {
                    rc = TLS_FRAMES_MEMCAP;
                    break;
                }
                copy_payload(f, p + off, m);
            } else {
                f->skipped = m > UINT32_MAX - f->skipped ? UINT32_MAX
                                                         : f->skipped + (uint32_t)m;
            }
            if (!f->raw)
                f->left -= m;
            off += m;
            continue;
        }
        size_t hdr = 0;
        int r = f->kind == TLS_FRAMES_TDS ? tds_frame(f, p + off, n - off, &hdr)
                                          : ws_frame(f, p + off, n - off, &hdr);
        if (r < 0)
            break;
        if (r != TLS_FRAMES_OK) {
            rc = (enum tls_frames_rc)r;
            break;
        }
        off += hdr;
    }
    *used = off;
    return rc;
}

void tls_frames_drop(struct tls_frames *f, size_t n)
{
    if (n >= f->len) {
        f->len = 0;
        return;
    }
    memmove(f->buf, f->buf + n, f->len - n);
    f->len -= (uint32_t)n;
}

void tls_frames_release(struct tls_frames *f, struct memcap *mc)
{
    memcap_free(mc, f->buf, f->cap);
    f->buf = NULL;
    f->cap = f->len = 0;
}
