/*
 * hello.h - ClientHello / ServerHello parsing into a plain struct.
 *
 * The parsers take the body of one complete handshake message (the bytes
 * after the 4-byte handshake header: msg_type and uint24 length) and fill a
 * struct tls_hello.  They do no I/O, keep no state, allocate nothing and
 * never read outside the buffer they are given (all reads go through
 * util/rd.h).  The record layer, handshake-message reassembly and the choice
 * of which message is a hello live in tls/session.c.
 *
 * The struct keeps lists in wire order.  Each list is capped (TLS_HELLO_MAX_*)
 * and keeps its true length beside the stored one; `capped` says that some
 * list was cut, so fingerprints over it are not exact and the caller counts
 * an anomaly.
 *
 * Wire layout (RFC 8446 4.1.2, RFC 5246 7.4.1.2):
 *
 *   ClientHello:  legacy_version(2) random(32) session_id<0..32>
 *                 cipher_suites<2..2^16-2> compression_methods<1..2^8-1>
 *                 [extensions<0..2^16-1>]           (absent in SSLv3/TLS1.0)
 *   ServerHello:  legacy_version(2) random(32) session_id<0..32>
 *                 cipher_suite(2) compression_method(1) [extensions<0..2^16-1>]
 *   Extension:    type(2) extension_data<0..2^16-1>
 */
#ifndef PINSCOPE_TLS_HELLO_H
#define PINSCOPE_TLS_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLS_HELLO_MAX_CIPHERS   1024  /* cipher suites kept per hello */
#define TLS_HELLO_MAX_EXTS       256  /* extensions kept per hello */
#define TLS_HELLO_MAX_GROUPS     256  /* supported_groups entries kept */
#define TLS_HELLO_MAX_SIGALGS    256  /* signature_algorithms entries kept */
#define TLS_HELLO_MAX_POINTFMTS   32  /* ec_point_formats entries kept */
#define TLS_HELLO_MAX_VERSIONS    32  /* supported_versions entries kept */
#define TLS_HELLO_MAX_ALPN        16  /* ALPN protocol names kept */
#define TLS_HELLO_MAX_SNI        255  /* bytes of the first host_name kept */

/* Extension type numbers used by the parsers and fingerprints. */
#define TLS_EXT_SERVER_NAME          0x0000
#define TLS_EXT_SUPPORTED_GROUPS     0x000a
#define TLS_EXT_EC_POINT_FORMATS     0x000b
#define TLS_EXT_SIGNATURE_ALGORITHMS 0x000d
#define TLS_EXT_ALPN                 0x0010
#define TLS_EXT_SESSION_TICKET       0x0023          /* RFC 5077 */
#define TLS_EXT_SUPPORTED_VERSIONS   0x002b
#define TLS_EXT_KEY_SHARE            0x0033
#define TLS_EXT_QUIC_TRANSPORT_PARAMS 0x0039          /* RFC 9001 8.2 */
#define TLS_EXT_QUIC_TRANSPORT_PARAMS_DRAFT 0xffa5    /* drafts up to 32 */
#define TLS_EXT_ECH                  0xfe0d          /* encrypted_client_hello */

/* Return values of the parsers: 0 on success, one of these on failure. */
enum tls_hello_err {
    TLS_HELLO_OK = 0,
    TLS_HELLO_ETRUNC = -1,     /* a length ran past the message */
    TLS_HELLO_EMALFORMED = -2, /* lengths inconsistent (odd cipher list...) */
    TLS_HELLO_EDUPEXT = -3,    /* reserved: duplicate extension (not fatal today) */
};

struct tls_alpn {
    uint8_t len;
    uint8_t name[255];
};

struct tls_hello {
    bool is_server;
    bool capped;               /* some list exceeded its TLS_HELLO_MAX_* */
    bool is_hrr;               /* ServerHello carrying the HelloRetryRequest random */
    uint16_t legacy_version;   /* ClientHello.legacy_version / ServerHello.version */

    uint8_t random[32];
    uint8_t session_id_len;
    uint8_t session_id[32];    /* the first session_id_len bytes */

    /* The lists below (after the counts): n_* entries kept in order,
     * total_* entries seen.  ClientHello: offered suites in order.
     * ServerHello: n_ciphers == 1, ciphers[0] is the selected suite. */
    size_t n_ciphers, total_ciphers;

    uint8_t n_compression;     /* ClientHello: count; ServerHello: 1 */
    uint8_t compression;       /* ServerHello: selected method */

    bool has_extensions;       /* the extensions block was present */
    size_t n_exts, total_exts;
    size_t n_groups, total_groups;
    size_t n_point_formats, total_point_formats;
    size_t n_sig_algs, total_sig_algs;
    /* supported_versions: ClientHello list in order; ServerHello: the one
     * selected_version (n_versions == 1). */
    size_t n_versions, total_versions;

    /* key_share in a ServerHello (the group of its KeyShareEntry) or a
     * HelloRetryRequest (the selected_group); 0 when absent.  Not decoded
     * in a ClientHello. */
    uint16_t key_share_group;

    /* server_name: the first host_name entry, raw bytes in sni[] (untrusted:
     * may hold any byte value; output escapes it).  has_sni is true when
     * the extension is present even if its list is empty. */
    bool has_sni;
    uint16_t sni_len;

    /* ALPN: ClientHello: offered names in order; ServerHello: the one
     * selected name (n_alpn == 1). */
    bool has_alpn;
    size_t n_alpn, total_alpn;

    /* encrypted_client_hello (draft-ietf-tls-esni, as Chromium and Firefox
     * send it, GREASE or real): ClientHello outer(0) or inner(1) with the
     * HPKE suite, config_id and lengths; a HelloRetryRequest's carries the
     * 8-byte acceptance confirmation.  ech_bad: present but malformed
     * (the hello is still read). */
    bool has_ech, ech_bad;
    uint8_t ech_type;
    uint8_t ech_config_id;
    uint16_t ech_kdf, ech_aead;
    uint16_t ech_enc_len, ech_payload_len;

    /* QUIC transport parameters (first such extension): a view into the
     * parsed message, valid only as long as the bytes given to the parser;
     * NULL when absent.  Parsed by quic/. */
    const uint8_t *quic_tp;
    uint16_t quic_tp_len;

    /* SessionTicket (RFC 5077 3.2), first such extension: has_ticket when
     * present (empty: the client asks for a ticket); ticket a view of its
     * body as quic_tp is, NULL when empty. */
    bool has_ticket;
    const uint8_t *ticket;
    uint16_t ticket_len;

    /* ---- the lists' storage (TLS_HELLO_LISTS onwards): a parse writes
     * the first n_* entries (sni_len bytes of sni) and leaves the rest as
     * it was, so nothing past a count may be read (8 KB, not worth
     * clearing twice per connection). */
    uint16_t ciphers[TLS_HELLO_MAX_CIPHERS];
    uint16_t exts[TLS_HELLO_MAX_EXTS];
    uint16_t groups[TLS_HELLO_MAX_GROUPS];
    uint16_t sig_algs[TLS_HELLO_MAX_SIGALGS];
    uint16_t versions[TLS_HELLO_MAX_VERSIONS];
    uint8_t point_formats[TLS_HELLO_MAX_POINTFMTS];
    uint8_t sni[TLS_HELLO_MAX_SNI];
    struct tls_alpn alpn[TLS_HELLO_MAX_ALPN];
};

/* Where the lists' storage starts: a parse clears the struct up to here. */
#define TLS_HELLO_LISTS offsetof(struct tls_hello, ciphers)

/* GREASE values (RFC 8701): 0x0a0a, 0x1a1a, ... 0xfafa. */
static inline bool tls_is_grease(uint16_t v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/*
 * Parse a ClientHello body of `len` bytes.  Every field of `out` before
 * TLS_HELLO_LISTS is overwritten, and each list's first n_* entries.
 * Returns TLS_HELLO_OK or a negative enum tls_hello_err; on failure `out`
 * holds what was parsed before the error (callers must not fingerprint it).
 * Note: unknown extensions are listed in exts[] and otherwise skipped; a
 * malformed body of a known extension (SNI, groups, ALPN...) fails the parse.
 */
int tls_client_hello_parse(const uint8_t *body, size_t len, struct tls_hello *out);

/*
 * Parse a ServerHello (or HelloRetryRequest) body.  Same contract as
 * tls_client_hello_parse().  Sets is_hrr for the RFC 8446 4.1.3 special
 * random value.
 */
int tls_server_hello_parse(const uint8_t *body, size_t len, struct tls_hello *out);

/*
 * Parse a TLS 1.2 NewSessionTicket body (RFC 5077 3.3):
 *   ticket_lifetime_hint(4) ticket<0..2^16-1>
 * nothing after it.  On success *ticket and *ticket_len view the ticket inside
 * `body` and *lifetime holds the hint.  Returns TLS_HELLO_OK, ETRUNC or
 * EMALFORMED (bytes after the ticket).  TLS 1.3's NewSessionTicket is
 * encrypted and has another layout; it is never given to this parser.
 */
int tls_new_session_ticket_parse(const uint8_t *body, size_t len, uint32_t *lifetime,
                                 const uint8_t **ticket, size_t *ticket_len);

/* The version the hello speaks for: the highest non-GREASE entry of
 * supported_versions when present, else legacy_version. */
uint16_t tls_hello_version(const struct tls_hello *h);

#endif
