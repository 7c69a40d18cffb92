/*
 * quic.h - QUIC long headers and packet protection, receive side
 * (RFC 9000, RFC 9001, RFC 9369 QUIC v2, draft-ietf-quic-*-29).
 *
 * What a passive observer needs to read the TLS handshake that QUIC
 * carries in CRYPTO frames:
 *   - quic_parse_long(): one long-header packet of a UDP datagram (Initial,
 *     0-RTT, Handshake, Retry, Version Negotiation), with the offset of the
 *     next coalesced packet;
 *   - quic_initial_keys(): the Initial keys every observer can derive from
 *     the client's first Destination Connection ID;
 *   - quic_pp_from_secret(): Handshake (or 1-RTT) keys from a TLS 1.3
 *     traffic secret taken from a key log;
 *   - quic_packet_open(): remove header protection, rebuild the packet
 *     number, open the AEAD;
 *   - quic_frames_walk(): PADDING, PING, ACK, CRYPTO and CONNECTION_CLOSE
 *     in a decrypted Initial or Handshake payload;
 *   - quic_retry_verify(), quic_tp_ids(): Retry integrity tags and the ids
 *     of the quic_transport_parameters TLS extension.
 *
 * It does not: reassemble CRYPTO data (the callback gets each frame at its
 * offset; the caller orders them), parse TLS, track connections, follow key
 * updates (1-RTT key phase), seal packets, or decode frames that are not
 * allowed in Initial and Handshake packets (STREAM, NEW_CONNECTION_ID, ...:
 * quic_frames_walk() stops there with QUIC_E_FRAME).  A clear fixed bit
 * (the QUIC bit greased after grease_quic_bit, RFC 9287) is accepted and
 * noted in fixed_bit_clear.
 *
 * Long header (RFC 9000 17.2; RFC 8999 for the version-independent part):
 *
 *    0 1 2 3 4 5 6 7
 *   +-+-+-+-+-+-+-+-+
 *   |1|1|T T|X X X X|  header form, fixed bit, type, type-specific bits
 *   +-+-+-+-+-+-+-+-+-------------------------------+
 *   |                 Version (32)                  |
 *   +-+-+-+-+-+-+-+-+-------------------------------+
 *   | DCID Len (8)  |  Destination Connection ID (0..160 bits)
 *   +-+-+-+-+-+-+-+-+
 *   | SCID Len (8)  |  Source Connection ID (0..160 bits)
 *   +-+-+-+-+-+-+-+-+
 *   Initial:   Token Length (i), Token, Length (i), Packet Number (8..32),
 *              Payload   <- Length covers packet number + payload + tag
 *   0-RTT, Handshake: Length (i), Packet Number, Payload
 *   Retry:     Retry Token, Retry Integrity Tag (128)
 *   Version Negotiation (version 0): Supported Version (32) ...
 *
 *   Type bits T T   v1, draft-29   v2 (RFC 9369 3.2)
 *     Initial          0b00          0b01
 *     0-RTT            0b01          0b10
 *     Handshake        0b10          0b11
 *     Retry            0b11          0b00
 *
 *   (i) is a variable-length integer (RFC 9000 16): the top two bits of
 *   the first byte give the length, 1, 2, 4 or 8 bytes, for 6, 14, 30 or
 *   62 bits of value, big-endian.
 *
 * Packet protection (RFC 9001 5.3, 5.4):
 *
 *   pn_offset           pn_offset+4        packet_len-16   packet_len
 *   |<- pn (1..4) ->|         |<- sample (16) ->|               |
 *   +---------------+---------+-----------------+---------------+-----+
 *   | header ...    | pn      | protected payload (AEAD)        | tag |
 *   +---------------+---------+---------------------------------+-----+
 *   mask = AES-ECB(hp, sample) or ChaCha20(hp, counter=sample[0..4] LE,
 *          nonce=sample[4..16], zeros)[0..5]
 *   first byte ^= mask[0] & 0x0f (long) / 0x1f (short); pn ^= mask[1..]
 *   nonce = iv XOR packet number (big-endian, left-padded to 12 bytes)
 *   AAD   = the unprotected header through the packet number
 *
 * Memory: a struct quic_pp owns two EVP_CIPHER_CTX (a few KiB inside
 * libcrypto, outside any memcap), taken from and handed back to
 * util/algs.c's per-thread pool (CFG_CIPHER_CTX_POOL); nothing else here
 * allocates.  Keys are wiped by quic_pp_release(), and the contexts keyed
 * with zeros unless the keys were Initial keys (public_keys).  Algorithms
 * are fetched once per process.
 */
#ifndef PINSCOPE_QUIC_QUIC_H
#define PINSCOPE_QUIC_QUIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "util/rd.h"

#define QUIC_MAX_CID        20          /* connection ID bytes, v1/v2 (RFC 9000 17.2) */
#define QUIC_TAG_LEN        16          /* AEAD and Retry integrity tag */
#define QUIC_SAMPLE_LEN     16          /* header protection sample */
#define QUIC_IV_LEN         12
#define QUIC_KEY_MAX        32
#define QUIC_SECRET_MAX     48          /* SHA-384 traffic secret */
#define QUIC_INITIAL_SECRET_LEN 32      /* SHA-256 */
#define QUIC_VARINT_MAX     ((UINT64_C(1) << 62) - 1)
#define QUIC_PN_MAX         ((UINT64_C(1) << 62) - 1)
#define QUIC_CCM_AAD_MAX    64          /* header bytes an AES-CCM packet may have */

#define QUIC_VERSION_1       0x00000001u
#define QUIC_VERSION_2       0x6b3343cfu
#define QUIC_VERSION_DRAFT29 0xff00001du

#define QUIC_TP_EXT          0x0039     /* quic_transport_parameters (RFC 9001 8.2) */
#define QUIC_TP_EXT_DRAFT    0xffa5     /* its codepoint in the drafts */

/* 0 or one of these. */
enum quic_err {
    QUIC_OK = 0,
    QUIC_E_SHORT_HEADER = -1,   /* header form bit clear: not a long header */
    QUIC_E_TRUNCATED = -2,      /* packet ends inside a header field */
    QUIC_E_CID_LEN = -3,        /* connection ID over QUIC_MAX_CID bytes */
    QUIC_E_FIXED_BIT = -4,      /* fixed bit clear (kept for names; quic_parse_long()
                                   accepts it since RFC 9287 greasing) */
    QUIC_E_LENGTH = -5,         /* Length field past the datagram; VN list
                                   not a multiple of 4 */
    QUIC_E_VERSION = -6,        /* version this module does not know */
    QUIC_E_ARG = -7,            /* NULL pointer, bad length argument */
    QUIC_E_CRYPTO = -8,         /* libcrypto failed or lacks the algorithm */
    QUIC_E_SUITE = -9,          /* cipher suite not usable with QUIC */
    QUIC_E_SECRET_LEN = -10,    /* secret length is not the suite's hash length */
    QUIC_E_SAMPLE = -11,        /* packet too short for the header protection
                                   sample (pn_offset + 4 + 16 > packet_len) */
    QUIC_E_AUTH = -12,          /* AEAD authentication failed */
    QUIC_E_OUT_SPACE = -13,     /* out_cap below the payload length */
    QUIC_E_RESERVED_BITS = -14, /* authentic, but reserved header bits set */
    QUIC_E_PN = -15,            /* reconstructed packet number over 2^62-1 */
    QUIC_E_FRAME = -16,         /* frame type not allowed in Initial/Handshake */
    QUIC_E_FRAME_MALFORMED = -17, /* frame truncated or its fields impossible */
    QUIC_E_TP = -18,            /* transport parameters malformed */
};

enum quic_ver_kind {
    QUIC_VK_UNKNOWN = 0,
    QUIC_VK_V1,                 /* 0x00000001, RFC 9000 */
    QUIC_VK_V2,                 /* 0x6b3343cf, RFC 9369 */
    QUIC_VK_DRAFT29,            /* 0xff00001d */
};

/* Packet types, the same numbers whatever the version's type bits are. */
enum quic_ptype {
    QUIC_PT_UNKNOWN = 0,        /* long header of an unknown version */
    QUIC_PT_INITIAL,
    QUIC_PT_0RTT,
    QUIC_PT_HANDSHAKE,
    QUIC_PT_RETRY,
    QUIC_PT_VERSION_NEG,
    QUIC_PT_SHORT,
};

enum quic_ver_kind quic_version_kind(uint32_t version);

/* "1", "2", "draft-29", else "0x%08x" written into buf. */
const char *quic_version_name(uint32_t version, char buf[16]);

/*
 * Read a variable-length integer (RFC 9000 16).  Returns 0 and sets
 * r->bad if the reader holds fewer bytes than the first byte announces.
 * Non-minimal encodings are accepted (RFC 9000 16 allows them, except for
 * frame types, which quic_frames_walk() checks itself); *len_out, if not
 * NULL, receives the encoded length (0 on failure).
 */
static inline uint64_t quic_rd_varint(struct rd *r, size_t *len_out)
{
    size_t n = (size_t)1 << (rd_peek(r, 0) >> 6);
    if (len_out)
        *len_out = 0;
    if (!rd_has(r, n)) {
        rd_fail(r);
        return 0;
    }
    uint64_t v = rd_u8(r) & 0x3f;
    for (size_t i = 1; i < n; i++)
        v = v << 8 | rd_u8(r);
    if (len_out)
        *len_out = n;
    return v;
}

/* One parsed long header.  Pointers point into the caller's buffer. */
struct quic_long_hdr {
    uint8_t first;              /* first byte as on the wire (still protected) */
    uint32_t version;
    uint8_t type;               /* enum quic_ptype */
    bool fixed_bit_clear;       /* greased QUIC bit (RFC 9287), accepted */
    uint8_t dcid_len, scid_len;
    uint8_t dcid[QUIC_MAX_CID], scid[QUIC_MAX_CID];
    const uint8_t *token;       /* Initial token or Retry token */
    size_t token_len;
    size_t pn_offset;           /* Initial/0-RTT/Handshake: offset of the packet number */
    size_t packet_len;          /* bytes of this packet from its first byte; the
                                   next coalesced packet starts here.  Retry, VN
                                   and errors: the rest of the datagram (len) */
    const uint8_t *retry_tag;   /* Retry: the last QUIC_TAG_LEN bytes */
    const uint8_t *versions;    /* VN: n_versions big-endian 32-bit versions */
    size_t n_versions;
};

/*
 * Parse the long-header packet at buf[0..len).  Returns 0, or:
 *   QUIC_E_SHORT_HEADER  first byte has the header form bit clear: `first`
 *                        set, type QUIC_PT_SHORT (the caller knows the
 *                        DCID length; pn_offset = 1 + that);
 *   QUIC_E_TRUNCATED     a field runs past len;
 *   QUIC_E_CID_LEN       a CID length over 20: fields before it set;
 *   QUIC_E_VERSION       unknown version: fields through scid set, type
 *                        QUIC_PT_UNKNOWN;
 *   QUIC_E_LENGTH        Length past the datagram (pn_offset set), or a VN
 *                        list whose size is not a multiple of 4 (the whole
 *                        entries kept).
 * On every return packet_len is len (errors, Retry, VN) or the packet's own
 * length (>= 1), so a loop over coalesced packets always moves forward;
 * fields not reached are zero.
 * Note: RFC 8999 allows 255-byte CIDs in versions other than these; such
 * packets are reported as QUIC_E_CID_LEN.  Version Negotiation ignores the
 * fixed bit and the type bits (RFC 9000 17.2.1); other packets with the
 * fixed bit clear parse normally, with fixed_bit_clear set (RFC 9287).
 */
int quic_parse_long(const uint8_t *buf, size_t len, struct quic_long_hdr *h);

/*
 * Packet protection of one direction in one packet-number space.
 * Zero-initialise, then quic_initial_keys() or quic_pp_from_secret();
 * release with quic_pp_release().
 */
struct quic_pp {
    uint16_t suite;             /* TLS13_SUITE_*: 0x1301, 0x1302, 0x1303, 0x1304 */
    uint8_t key_len;            /* AEAD key and hp key length: 16 or 32 */
    uint8_t key[QUIC_KEY_MAX], iv[QUIC_IV_LEN], hp[QUIC_KEY_MAX];
    int64_t largest_pn;         /* largest authenticated packet number, -1 = none */
    EVP_CIPHER_CTX *aead, *hpctx;  /* owned */
    bool public_keys;           /* Initial keys: derived from a DCID on the wire
                                   (RFC 9001 5.2), nothing to wipe from the contexts */
};

/*
 * HKDF-Extract(salt, ikm) with SHA-256 (RFC 5869 2.2): out[0..32).
 * ikm may be empty.  Returns 0, QUIC_E_ARG or QUIC_E_CRYPTO (out wiped).
 */
int quic_hkdf_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                      size_t ikm_len, uint8_t out[QUIC_INITIAL_SECRET_LEN]);

/*
 * The Initial secrets of `version` (RFC 9001 5.2, RFC 9369 3.3.1):
 *   initial_secret = HKDF-Extract(initial_salt(version), dcid)
 *   client = HKDF-Expand-Label(initial_secret, "client in", "", 32)
 *   server = HKDF-Expand-Label(initial_secret, "server in", "", 32)
 * dcid is the Destination Connection ID of the client's first Initial
 * (0..20 bytes; after a Retry, the Retry's Source Connection ID).
 * Returns 0, QUIC_E_VERSION, QUIC_E_CID_LEN, QUIC_E_ARG or QUIC_E_CRYPTO;
 * both outputs are wiped on failure.
 */
int quic_initial_secrets(uint32_t version, const uint8_t *dcid, size_t dcid_len,
                         uint8_t client[QUIC_INITIAL_SECRET_LEN],
                         uint8_t server[QUIC_INITIAL_SECRET_LEN]);

/*
 * Initial packet protection of both directions (AES-128-GCM, suite 0x1301)
 * from the client's original DCID, as quic_initial_secrets() then
 * quic_pp_from_secret().  Either output may be NULL.  Returns as those;
 * on failure both are released.
 */
int quic_initial_keys(uint32_t version, const uint8_t *dcid, size_t dcid_len,
                      struct quic_pp *client, struct quic_pp *server);

/*
 * Keys from a TLS 1.3 traffic secret (CLIENT/SERVER_HANDSHAKE_TRAFFIC_SECRET,
 * or a 1-RTT secret) and the negotiated suite (RFC 9001 5.1):
 *   key = HKDF-Expand-Label(secret, "quic key", "", key length)
 *   iv  = HKDF-Expand-Label(secret, "quic iv",  "", 12)
 *   hp  = HKDF-Expand-Label(secret, "quic hp",  "", key length)
 * with "quicv2 key", "quicv2 iv", "quicv2 hp" for v2.  Suites 0x1301,
 * 0x1302, 0x1303, 0x1304; 0x1305 (CCM_8) is QUIC_E_SUITE (RFC 9001 5.3).
 * secret_len must be the suite's hash length (32, or 48 for 0x1302).
 * Allocates both cipher contexts, each keyed once; largest_pn = -1.
 * Releases the old state first if pp was initialised.  Returns 0,
 * QUIC_E_ARG, QUIC_E_VERSION, QUIC_E_SUITE, QUIC_E_SECRET_LEN or
 * QUIC_E_CRYPTO (pp then released, nothing allocated).
 */
int quic_pp_from_secret(struct quic_pp *pp, uint32_t version, uint16_t suite,
                        const uint8_t *secret, size_t secret_len);

/* Free the contexts and wipe the keys (OPENSSL_cleanse); the struct is
 * zeroed and may be initialised again.  Safe on a zeroed struct and NULL. */
void quic_pp_release(struct quic_pp *pp);

/*
 * Packet number reconstruction (RFC 9000 A.3): the packet number closest
 * to largest + 1 whose low 8*pn_len bits are `truncated`.  largest is -1
 * before any packet; pn_len is 1..4.  May return a value over QUIC_PN_MAX
 * only when largest is within a window of it.
 */
uint64_t quic_pn_decode(int64_t largest, uint64_t truncated, unsigned pn_len);

/*
 * Remove header protection from the packet at pkt[0..packet_len) and open
 * it (RFC 9001 5.3, 5.4).  pn_offset is the packet number's offset (from
 * quic_parse_long(), or 1 + DCID length for a short header); long_header
 * selects the first-byte mask (4 or 5 low bits).  pkt is not modified.
 *
 * On success writes the payload (packet_len - pn_offset - pn length - 16
 * bytes, possibly 0) to out[0..*out_len), sets *pn, and raises largest_pn
 * to *pn.  out must not overlap pkt; out_cap >= packet_len always suffices.
 *
 * Returns 0, or:
 *   QUIC_E_ARG, QUIC_E_SAMPLE, QUIC_E_OUT_SPACE, QUIC_E_LENGTH (AES-CCM
 *       header over QUIC_CCM_AAD_MAX): nothing tried;
 *   QUIC_E_PN: the packet number would pass 2^62-1;
 *   QUIC_E_AUTH: wrong keys, wrong packet number, or altered packet;
 *   QUIC_E_RESERVED_BITS: authentic, but the reserved bits of the first
 *       byte are not zero (RFC 9000 17.2, 17.3.1: the peer closes the
 *       connection); *pn set and largest_pn raised;
 *   QUIC_E_CRYPTO.
 * On any failure out[0..payload) is wiped, *out_len is 0 and largest_pn is
 * unchanged (except for QUIC_E_RESERVED_BITS, see above).
 */
int quic_packet_open(struct quic_pp *pp, const uint8_t *pkt, size_t packet_len,
                     size_t pn_offset, bool long_header, uint8_t *out, size_t out_cap,
                     size_t *out_len, uint64_t *pn);

/* What quic_frames_walk() saw.  Counters saturate at UINT32_MAX. */
struct quic_frame_info {
    uint32_t n_crypto, n_padding_bytes, n_ping, n_ack;
    bool conn_close;            /* a CONNECTION_CLOSE frame was seen (the last one wins) */
    bool close_app;             /* it was type 0x1d (application error) */
    uint64_t close_error;
    uint64_t close_frame_type;  /* 0x1c only: the frame type that caused it */
    const uint8_t *close_reason;  /* into the payload */
    size_t close_reason_len;
    uint64_t bad_frame_type;    /* QUIC_E_FRAME: the type that stopped the walk */
};

/* Gets each CRYPTO frame's data (len > 0) at its offset in the CRYPTO
 * stream, in payload order; data points into the payload. */
typedef void (*quic_crypto_cb)(void *ctx, uint64_t offset, const uint8_t *data, size_t len);

/*
 * Walk the frames of a decrypted Initial or Handshake payload (RFC 9000
 * 12.4, 19): PADDING (0x00), PING (0x01), ACK (0x02, 0x03 with ECN
 * counts), CRYPTO (0x06) and CONNECTION_CLOSE (0x1c, 0x1d).  cb may be
 * NULL; info is zeroed first.
 * Returns 0 when the whole payload parsed, or:
 *   QUIC_E_FRAME: a frame type not allowed here, or a type in a longer
 *       encoding than needed (info->bad_frame_type);
 *   QUIC_E_FRAME_MALFORMED: a frame runs past the payload, an ACK range
 *       goes below packet number 0, a CRYPTO frame ends past 2^62-1.
 * The walk stops at the first error; frames before it were delivered.
 * Note: hostile counts cost nothing: every ACK range consumes at least two
 * bytes of payload, so work is linear in len.
 */
int quic_frames_walk(const uint8_t *payload, size_t len, quic_crypto_cb cb, void *ctx,
                     struct quic_frame_info *info);

/*
 * Check the Retry Integrity Tag of the Retry packet pkt[0..len) (tag
 * included) against the client's original DCID (RFC 9001 5.8, RFC 9369
 * 3.3.3): AES-128-GCM with the version's fixed key and nonce, empty
 * plaintext, AAD = odcid_len || odcid || pkt[0..len-16).  True only if
 * the tag verifies; false for an unknown version, odcid over 20 bytes, a
 * packet shorter than the tag, or any libcrypto failure.
 */
bool quic_retry_verify(const uint8_t *pkt, size_t len, uint32_t version,
                       const uint8_t *odcid, size_t odcid_len);

/*
 * The parameter ids of a quic_transport_parameters extension body (RFC
 * 9000 18: varint id, varint length, value), in wire order.  Up to max ids
 * go to ids[] (*n of them); *total counts every parameter.  Returns 0 or
 * QUIC_E_TP when a parameter is truncated (ids before it kept; the
 * truncated one is not counted); QUIC_E_ARG for NULL outputs.
 */
int quic_tp_ids(const uint8_t *ext, size_t len, uint64_t *ids, size_t max, size_t *n,
                size_t *total);

/* "truncated", "auth_failed", ... for counters and logs. */
const char *quic_err_name(int err);

/* Free the algorithms fetched on first use.  Only at exit (for leak
 * checkers); no other call of this module may follow. */
void quic_crypto_cleanup(void);

#endif
