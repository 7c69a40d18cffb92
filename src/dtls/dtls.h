/*
 * dtls.h - DTLS 1.0/1.2/1.3 records and handshake reassembly, receive side,
 * for a passive observer.
 *
 * Two independent parts:
 *
 *   1. The record layer.  dtls_record_next() walks the records of one UDP
 *      datagram.  Cleartext records (epoch 0) come back with their fragment;
 *      encrypted ones (DTLS 1.2 epoch > 0, DTLS 1.3 unified header) are
 *      recognised, delimited and reported as such, never decrypted.
 *
 *   2. Handshake reassembly of one direction.  DTLS cuts handshake messages
 *      into fragments that may arrive in any order, be retransmitted (cut
 *      differently the second time) and overlap.  struct dtls_hs_dir puts
 *      them back together and hands out complete messages in message_seq
 *      order in TLS framing (type, uint24 length, body), so the TLS
 *      handshake walker reads them as if they came over TCP.
 *
 * DTLSPlaintext (RFC 6347 4.1; RFC 9147 4 keeps it for epoch 0), 13 bytes
 * of header, several records per datagram:
 *
 *   byte  0      1-2       3-4     5-10               11-12
 *        +------+---------+-------+------------------+--------+------------
 *        | type | version | epoch | sequence_number  | length | fragment
 *        |      |         |       | (48 bits)        |        | (length)
 *        +------+---------+-------+------------------+--------+------------
 *
 *   version: 0xfeff DTLS 1.0, 0xfefd DTLS 1.2 (DTLS 1.3 keeps 0xfefd as
 *   legacy_record_version; its own number, 0xfefc, belongs inside hellos,
 *   but the detection test accepts it on a record too).  Clients commonly
 *   send their first ClientHello in a 0xfeff record whatever they offer.
 *   type: 20 change_cipher_spec, 21 alert, 22 handshake, 23 application
 *   data, 24 heartbeat, 25 tls12_cid (RFC 9146), 26 ack (RFC 9147).
 *
 * DTLS 1.3 unified header (RFC 9147 4, Figure 3), always ciphertext:
 *
 *    0 1 2 3 4 5 6 7
 *   +-+-+-+-+-+-+-+-+
 *   |0|0|1|C|S|L|E E|   C: connection ID present; S: 16-bit sequence
 *   +-+-+-+-+-+-+-+-+   number (else 8); L: length present (else the
 *   | CID (if C)    |   record runs to the end of the datagram);
 *   | seq (8 or 16) |   EE: low two bits of the epoch.
 *   | length (if L) |
 *   +-+-+-+-+-+-+-+-+
 *
 *   The CID length is not on the wire (it was negotiated), so a record with
 *   C set, like a DTLS 1.2 tls12_cid record (RFC 9146), cannot be delimited:
 *   dtls_record_next() reports DTLS_E_CID and the rest of the datagram is
 *   lost to us.  The sequence number bits are themselves encrypted (RFC 9147
 *   4.2.3); they are returned as read.
 *
 * DTLS handshake fragment (RFC 6347 4.2.2), 12 bytes of header; a record
 * may carry several:
 *
 *   byte  0          1-3      4-5           6-8           9-11
 *        +----------+--------+-------------+-------------+-------------+-----
 *        | msg_type | length | message_seq | fragment_   | fragment_   | body
 *        |          | (body) |             | offset      | length      | ...
 *        +----------+--------+-------------+-------------+-------------+-----
 *
 *   The body bytes are [fragment_offset, fragment_offset + fragment_length)
 *   of a message of `length` bytes; delivered, the message is rebuilt in
 *   TLS framing: msg_type(1) length(3) body.
 *
 * Container contract (struct dtls_hs_dir, one per direction):
 *   slots      at most DTLS_MAX_PENDING messages under reassembly at once.
 *              When all are taken and the next expected message_seq is not
 *              among them, delivery skips ahead to the lowest pending one
 *              (a gap).  A fragment of a new message that finds no slot
 *              evicts the pending message with the highest message_seq if
 *              it is lower than that, else it is dropped (both: SLOTS).
 *   size       messages longer than DTLS_MSG_MAX are not buffered; their
 *              message_seq is passed over in order (TOO_LARGE).
 *   ranges     at most DTLS_MAX_RANGES disjoint received ranges per message;
 *              a fragment that would need more is dropped (RANGES).
 *   memory     each message buffer grows (doubling, capped at the message
 *              size) through the memcap, so at most DTLS_MAX_PENDING *
 *              (DTLS_MSG_MAX + 4) bytes per direction; a refusal drops the
 *              fragment (MEMCAP).  Delivered messages are freed at once.
 *   overlaps   the first copy of a byte wins; a later copy with other
 *              content is reported (OVERLAP).
 *   timeout    none here: the flow's idle timeout frees the direction.
 *
 * Shortcuts, admitted:
 *   - before anything was delivered, the first message to complete starts
 *     the sequence (the capture may have missed the first flight); a lower
 *     message_seq still in pieces at that moment is abandoned (a gap).
 *   - the skip-ahead happens as soon as all slots are full, so a flight of
 *     more than DTLS_MAX_PENDING messages reordered as a whole loses its
 *     late first message.
 *   - message_seq does not wrap within a handshake; next_seq is 32 bits,
 *     so after 65535 every fragment counts as a retransmission.
 *   - the limits below live here, not in config.h as STYLE.md asks; moving
 *     them there is left to whoever owns config.h.
 *
 * Error reporting: one namespace of reasons, DTLS_E_*, each a bit.  The
 * record layer returns one of them negated; dtls_hs_add() returns the OR of
 * the reasons it met.  Counters live in the structs; the caller turns them
 * into its anomaly counters.
 */
#ifndef PINSCOPE_DTLS_H
#define PINSCOPE_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/memcap.h"
#include "util/rd.h"

#define DTLS_MAX_PENDING 4             /* messages under reassembly per direction */
#define DTLS_MAX_RANGES  16            /* disjoint received ranges per message */
#define DTLS_MSG_MAX     (64 * 1024)   /* largest message body reassembled */

#define DTLS_RECORD_HDR  13            /* DTLSPlaintext header */
#define DTLS_FRAG_HDR    12            /* handshake fragment header */

/* Record-layer major version byte shared by every DTLS version. */
#define DTLS_VERSION_MAJOR 0xfe
#define DTLS_VERSION_1_0   0xfeff
#define DTLS_VERSION_1_2   0xfefd
#define DTLS_VERSION_1_3   0xfefc

enum dtls_content_type {
    DTLS_CT_CHANGE_CIPHER_SPEC = 20,
    DTLS_CT_ALERT = 21,
    DTLS_CT_HANDSHAKE = 22,
    DTLS_CT_APPLICATION_DATA = 23,
    DTLS_CT_HEARTBEAT = 24,
    DTLS_CT_TLS12_CID = 25,
    DTLS_CT_ACK = 26,
};

enum dtls_hs_type {
    DTLS_HS_CLIENT_HELLO = 1,
    DTLS_HS_SERVER_HELLO = 2,
    DTLS_HS_HELLO_VERIFY_REQUEST = 3,
};

/* Reasons, one bit each.  Record layer: returned negated, one at a time.
 * Handshake layer: OR-ed into the return value of dtls_hs_add(). */
enum dtls_err {
    DTLS_E_TRUNC      = 1 << 0,   /* record header cut by the datagram end */
    DTLS_E_VERSION    = 1 << 1,   /* version major byte is not 0xfe */
    DTLS_E_LENGTH     = 1 << 2,   /* record length past the datagram end */
    DTLS_E_CID        = 1 << 3,   /* connection ID of unknown length */
    DTLS_E_TYPE       = 1 << 4,   /* not a DTLS content type */
    DTLS_E_FRAG_HDR   = 1 << 5,   /* fragment header or body cut by the record */
    DTLS_E_FRAG_RANGE = 1 << 6,   /* fragment_offset + fragment_length > length */
    DTLS_E_CONFLICT   = 1 << 7,   /* other type/length for a pending message_seq */
    DTLS_E_OVERLAP    = 1 << 8,   /* overlapping bytes differ (first copy kept) */
    DTLS_E_TOO_LARGE  = 1 << 9,   /* message longer than DTLS_MSG_MAX, skipped */
    DTLS_E_RANGES     = 1 << 10,  /* more than DTLS_MAX_RANGES pieces, dropped */
    DTLS_E_SLOTS      = 1 << 11,  /* no slot: fragment dropped or message evicted */
    DTLS_E_GAP        = 1 << 12,  /* messages passed over undelivered */
    DTLS_E_MEMCAP     = 1 << 13,  /* buffer refused by the memcap */
    DTLS_E_BODY       = 1 << 14,  /* malformed message body */
};

struct dtls_record {
    uint8_t type;          /* content type; unified header: its first byte */
    uint16_t version;      /* 0 for a unified header */
    uint16_t epoch;        /* unified header: the two low bits only */
    uint64_t seq;          /* 48 bits; unified header: 8 or 16 encrypted bits */
    const uint8_t *frag;   /* into the datagram, valid while it is */
    size_t len;
    bool encrypted;        /* epoch > 0, or unified header */
    bool unified;          /* DTLS 1.3 unified header (DTLSCiphertext) */
};

/*
 * Next record of a datagram.  `dgram` is a reader over the whole UDP
 * payload; each call consumes one record.  Returns 1 with *rec filled, 0
 * when the datagram is used up, or a negative DTLS_E_TRUNC, _VERSION,
 * _LENGTH, _CID or _TYPE when the next record cannot be delimited.
 * Note: after a negative return the reader is marked bad (the rest of the
 * datagram cannot be framed) and every later call returns 0.  A unified
 * header without L consumes the rest of the datagram.
 */
int dtls_record_next(struct rd *dgram, struct dtls_record *rec);

/*
 * Content test for flow detection on any port: does this UDP payload start
 * with a cleartext DTLS handshake record (type 22, version 0xfeff, 0xfefd or
 * 0xfefc, epoch 0, record length within the payload and able to hold a
 * fragment header) whose first fragment is a ClientHello, ServerHello or
 * HelloVerifyRequest with a consistent fragment header?
 */
bool dtls_looks_like_handshake(const uint8_t *p, size_t len);

/* One message under reassembly. */
struct dtls_hs_slot {
    bool used;
    bool oversize;         /* longer than DTLS_MSG_MAX: no buffer, passed over */
    uint8_t type;
    uint16_t msg_seq;
    uint32_t length;       /* body length from the fragment headers */
    uint8_t *buf;          /* TLS header (4) + body; memcap'd, `cap` bytes */
    size_t cap;
    uint8_t n_ranges;
    struct {
        uint32_t start, end;   /* [start, end) of the body, sorted, disjoint */
    } r[DTLS_MAX_RANGES];
};

/* Handshake reassembly of one direction.  A zeroed struct is ready. */
struct dtls_hs_dir {
    uint32_t next_seq;     /* next message_seq to deliver (32 bits: no wrap) */
    bool started;          /* something was delivered or passed over */
    struct dtls_hs_slot slot[DTLS_MAX_PENDING];

    uint32_t delivered;    /* messages handed to the callback */
    uint32_t retransmits;  /* fragments of messages already delivered */
    uint32_t gaps;         /* messages passed over without delivery */
    uint32_t malformed;    /* FRAG_HDR, FRAG_RANGE */
    uint32_t conflicts;    /* CONFLICT, OVERLAP */
    uint32_t too_large;    /* messages over DTLS_MSG_MAX */
    uint32_t dropped;      /* fragments dropped: SLOTS, RANGES, MEMCAP */
    uint32_t evicted;      /* pending messages evicted for a lower message_seq */
    uint32_t flags;        /* OR of every DTLS_E_* reported so far */
};

/* Called for each complete message, in message_seq order: `msg` is the
 * 4-byte TLS header (type, uint24 length) followed by the body, `len`
 * bytes in all, valid only during the call.  The callback must not call
 * dtls_hs_add() or dtls_hs_release() on the same direction. */
typedef void (*dtls_msg_cb)(void *ctx, const uint8_t *msg, size_t len);

void dtls_hs_init(struct dtls_hs_dir *d);

/*
 * Add the handshake fragments of one cleartext handshake record (`frag`,
 * `len`: the record's fragment).  Calls `cb` (may be NULL) for each message
 * that becomes complete and is next in order, then for the pending ones
 * that follow it.  Fragments of delivered messages are counted in
 * `retransmits` and otherwise ignored.
 * Returns 0, or the OR of the DTLS_E_* reasons met; they are also OR-ed
 * into d->flags and counted.  A malformed fragment header stops the record;
 * any other reason affects only its own fragment.
 */
int dtls_hs_add(struct dtls_hs_dir *d, struct memcap *mc, const uint8_t *frag, size_t len,
                dtls_msg_cb cb, void *ctx);

/* Free every pending buffer and forget pending messages.  Sequence state
 * and counters stay; the struct itself belongs to the caller. */
void dtls_hs_release(struct dtls_hs_dir *d, struct memcap *mc);

/*
 * HelloVerifyRequest body (RFC 6347 4.2.1): server_version(2)
 * cookie<0..2^8-1>.  Returns 0 with *version and *cookie_len set, or
 * -DTLS_E_BODY (truncated, or bytes after the cookie) or -DTLS_E_VERSION
 * (major byte not 0xfe).
 */
int dtls_hello_verify_parse(const uint8_t *body, size_t len, uint16_t *version,
                            uint8_t *cookie_len);

/* Short name of a reason (either sign; with several bits set, the lowest);
 * "ok" for 0. */
const char *dtls_err_name(int err);

#endif
