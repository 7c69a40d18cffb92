/*
 * frames.h - TLS carried inside another protocol's frames over TCP.
 *
 *   TDS (MS-TDS 2.2.3.1, 2.2.6.5): SQL Server clients of TDS 7.x send a
 *     PRELOGIN packet (type 0x12), the server answers (type 0x04), and the
 *     TLS handshake then travels as the payload of PRELOGIN packets in both
 *     directions, a record possibly split over several packets.  Once the
 *     handshake is over the records follow on the stream without packets.
 *   WebSocket (RFC 6455 5.2): after an HTTP Upgrade, binary and
 *     continuation frames (client frames masked) carry the TLS bytes of a
 *     tunnel (wstunnel, websockify); ping, pong and close are skipped.
 *
 * A struct tls_frames strips the framing from one direction: the TLS bytes
 * found in the frames are copied into `buf`, where tls/session.c reads the
 * records as if they had come on their own.  Frame headers are never
 * collected piecemeal: a header is read only when the caller's contiguous
 * bytes hold all of it (reassembly keeps what was not consumed).
 */
#ifndef PINSCOPE_TLS_FRAMES_H
#define PINSCOPE_TLS_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/memcap.h"

/* Room for one whole record: header and the TLSCiphertext limit. */
#define TLS_FRAMES_BUF_MAX (5 + 16384 + 2048)

enum tls_frames_kind {
    TLS_FRAMES_TDS = 1,
    TLS_FRAMES_WEBSOCKET,
};

enum tls_frames_rc {
    TLS_FRAMES_OK = 0,      /* bytes taken, or more bytes needed */
    TLS_FRAMES_MALFORMED,   /* a frame header broke its protocol's rules */
    TLS_FRAMES_NOT_TLS,     /* TDS: another packet type came before any TLS */
    TLS_FRAMES_CAP,         /* CFG_TLS_TUNNEL_FRAMES_MAX frames read */
    TLS_FRAMES_MEMCAP,      /* the buffer could not grow */
};

struct tls_frames {
    uint8_t kind;           /* enum tls_frames_kind */
    bool tls;               /* TDS: TLS bytes have begun (PRELOGIN before is skipped) */
    bool raw;               /* TDS: the stream is plain records from here on */
    bool pass;              /* the current frame's payload is TLS bytes */
    uint8_t mask[4];        /* WebSocket masking key of the current frame */
    bool masked;
    uint8_t mask_pos;       /* payload offset modulo 4 */
    uint64_t left;          /* payload bytes of the current frame not yet taken */
    uint32_t frames;        /* frame headers read */
    uint32_t skipped;       /* payload bytes passed over before TLS (saturating) */
    uint8_t *buf;           /* TLS bytes taken out of frames, not yet read */
    uint32_t len, cap;
};

/*
 * Take frames from p[0..n): their TLS payload is appended to f->buf (never
 * beyond TLS_FRAMES_BUF_MAX), other payload skipped.  *used is set to the
 * bytes of p consumed (0: a header is incomplete or buf is full).
 */
enum tls_frames_rc tls_frames_take(struct tls_frames *f, struct memcap *mc, const uint8_t *p,
                                   size_t n, size_t *used);

/* Drop n (<= f->len) bytes from the front of f->buf. */
void tls_frames_drop(struct tls_frames *f, size_t n);

void tls_frames_release(struct tls_frames *f, struct memcap *mc);

/*
 * Detection.  A TDS PRELOGIN packet or the reply to it at p: header sane
 * and the option table well formed (MS-TDS 2.2.6.5).  1 yes, 0 no, -1
 * more bytes needed.
 */
int tls_tds_prelogin(const uint8_t *p, size_t n);

/*
 * A WebSocket binary frame at p whose (unmasked) payload starts a TLS
 * handshake record.  1 yes, 0 no, -1 more bytes needed.
 */
int tls_ws_frame_starts_tls(const uint8_t *p, size_t n);

/* The first min(n, 10) bytes of p agree with a TLS record carrying a
 * ClientHello or ServerHello (16 03 0x LL LL 01|02 HH HH HH 03). */
bool tls_hello_record_prefix(const uint8_t *p, size_t n);

#endif
