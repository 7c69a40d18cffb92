/*
 * session.h - one TLS handshake as seen from the wire: over TCP (records),
 * or over QUIC and DTLS (handshake messages handed over already framed).
 *
 * A struct tls_session consumes the reassembled bytes of both directions
 * (in the order the packets arrived) and records what a passive observer
 * can know about the handshake: which side is the client, the ClientHello(s)
 * and ServerHello(s), the negotiated version and cipher, alerts, and when
 * the handshake is over.  It does not compute fingerprints and does not
 * write output: each hello is handed back to the caller (TLS_EV_*), which
 * fingerprints it while the parsed struct is still in its scratch space.
 *
 * What it handles:
 *   - detection by content on any port: a TLS handshake record, an SSLv2
 *     CLIENT-HELLO, or TLS after a plaintext preamble: HTTP CONNECT,
 *     SOCKS4/4a/5, STARTTLS in SMTP/IMAP/POP3/FTP/XMPP (line-based text),
 *     LDAP StartTLS (one BER message), PostgreSQL SSLRequest, RDP X.224,
 *     MySQL SSLRequest, an HTTP Upgrade; and TLS inside TDS packets after
 *     a PRELOGIN exchange or inside WebSocket frames (tls/frames.h);
 *   - records of any size up to 2^14 + 2048, several handshake messages per
 *     record and messages spanning records;
 *   - HelloRetryRequest and the second ClientHello;
 *   - ChangeCipherSpec, alerts in clear (and the fact of an encrypted one).
 *   - TLS 1.3 with session keys (a key log): the encrypted handshake of
 *     each direction is decrypted (tls/decrypt.c) and walked like a clear
 *     one, so Certificate, CompressedCertificate and alerts become visible.
 * What it does not do: parse certificates (Certificate bodies are handed to
 * the caller), decrypt application data, or decrypt TLS 1.2.
 *
 * Memory: one handshake-message buffer per direction, grown through the
 * memcap up to CFG_TLS_HS_MSG_MAX and only for the messages read (hellos,
 * Certificate, ServerKeyExchange for its curve).
 */
#ifndef PINSCOPE_TLS_SESSION_H
#define PINSCOPE_TLS_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "tls/decrypt.h"
#include "tls/hello.h"
#include "tls/keylog.h"
#include "util/memcap.h"
#include "util/stats.h"

/* What carries the handshake.  TCP: tls_session_feed() parses records.
 * QUIC and DTLS: the caller removes its own framing (QUIC CRYPTO frames,
 * DTLS records and fragments) and hands over the bare handshake messages
 * with tls_session_feed_handshake(); record-level events of DTLS go
 * through tls_session_dgram_record(). */
enum tls_transport {
    TLS_TRANSPORT_TCP = 0,
    TLS_TRANSPORT_QUIC,
    TLS_TRANSPORT_DTLS,
};

enum tls_tunnel {
    TLS_TUNNEL_NONE = 0,
    TLS_TUNNEL_HTTP_CONNECT,
    TLS_TUNNEL_SOCKS4,
    TLS_TUNNEL_SOCKS5,
    TLS_TUNNEL_SMTP,
    TLS_TUNNEL_IMAP,
    TLS_TUNNEL_POP3,
    TLS_TUNNEL_FTP,
    TLS_TUNNEL_XMPP,
    TLS_TUNNEL_LDAP,
    TLS_TUNNEL_POSTGRES,
    TLS_TUNNEL_TEXT,      /* a line-based plaintext exchange we did not name */
    TLS_TUNNEL_RDP,       /* X.224 connection request/confirm (MS-RDPBCGR 2.2.1.1/2) */
    TLS_TUNNEL_MYSQL,     /* server greeting, client SSLRequest (CLIENT_SSL) */
    TLS_TUNNEL_TDS,       /* TDS PRELOGIN, then TLS inside PRELOGIN packets (MS-TDS) */
    TLS_TUNNEL_WEBSOCKET, /* HTTP Upgrade: websocket, then TLS inside binary frames */
    TLS_TUNNEL_HTTP_UPGRADE, /* HTTP Upgrade (RFC 9110 7.8), then TLS on the stream */
};

/* How far the handshake got (monotonic). */
enum tls_progress {
    TLS_PROGRESS_NONE = 0,
    TLS_PROGRESS_SSLV2_HELLO,
    TLS_PROGRESS_CLIENT_HELLO,
    TLS_PROGRESS_SERVER_HELLO,
    TLS_PROGRESS_COMPLETE,
};

/* State of one direction's byte stream. */
enum tls_dir_mode {
    TLS_DIR_DETECT = 0,   /* nothing seen yet */
    TLS_DIR_PREAMBLE,     /* plaintext before TLS */
    TLS_DIR_RECORDS,      /* TLS records */
    TLS_DIR_DONE,         /* nothing more wanted from this direction */
    TLS_DIR_NOT_TLS,      /* content is not TLS */
};

struct tls_alert {
    uint8_t from_client;  /* 1 client, 0 server */
    uint8_t encrypted;    /* sent after ChangeCipherSpec / in TLS 1.3, not decrypted */
    uint8_t decrypted;    /* read from a record decrypted with the key log */
    uint8_t level;        /* 1 warning, 2 fatal (0 if encrypted) */
    uint8_t description;
    uint8_t after_certificate;  /* server's Certificate was the last flight */
};

struct tls_frames;

/* After the handshake (TCP records only): what each side sent next, while
 * the caller keeps watching (tls_session_watch(), CFG_TLS_LINGER_*).  A
 * client record is an alert when its type says so (TLS 1.2) or, for TLS
 * 1.3, when it has an alert's size (TLS13_ALERT_RECORD); any other
 * application-data record of the client is data.  Times are the caller's
 * packet times. */
struct tls_post {
    bool watching;                /* the watch ran: the facts below hold */
    bool over;                    /* nothing more to learn: the client sent data,
                                     or a cap or a bad record ended it */
    bool client_data;             /* the client sent an application-data record */
    bool client_alert;            /* ... or an alert record (close_notify, most likely) */
    bool client_fin, client_rst;  /* set by the caller */
    bool server_closed_first;     /* the server's alert, FIN or RST came before any
                                     client close */
    bool dead[2];                 /* a direction stopped parsing (not a record) */
    uint16_t records[2];          /* records read per direction since completion */
    uint16_t server_data;         /* the server's application-data records */
    uint32_t skip[2];             /* bytes of the current record still to come */
    uint64_t start_us;            /* packet time of completion */
    uint64_t close_us;            /* the client's first alert, FIN or RST; 0: none */
    bool counted;                 /* pkts, bytes: the caller's flow counters at completion */
    uint64_t pkts[2], bytes[2];
};

#define TLS_FLIGHT_SIZES 8        /* record sizes of the server's first flight kept */

struct tls_dir {
    uint8_t mode;                 /* enum tls_dir_mode */
    uint8_t preamble_kind;        /* enum tls_tunnel guessed from first bytes */
    bool ccs;                     /* ChangeCipherSpec sent */
    bool encrypted;               /* later handshake records are ciphertext */
    bool appdata;                 /* application_data record sent */
    uint32_t preamble_len;        /* bytes of preamble consumed */
    uint32_t records;
    uint8_t last_hs_type;         /* last cleartext handshake message type */
    /* Handshake message reassembly */
    uint8_t *hs;
    uint32_t hs_len, hs_cap;
    uint32_t skip;                /* bytes of the current message still to come */
    bool keep;                    /* the current message is being buffered */
    uint8_t hs_hdr[4];            /* header of the current message */
    uint8_t hdr_have;             /* bytes of hs_hdr collected */
    bool line_start;              /* text preamble: at the start of a line */
    struct tls_frames *fr;        /* TLS inside TDS packets or WebSocket frames: the
                                     records are read from fr->buf (NULL: on the stream) */
    uint32_t rec_pos;             /* bytes of the front record already walked */
    /* TLS 1.3 with keys: the handshake epoch of this direction */
    struct tls13_dir_cipher *cipher;  /* NULL: no keys or handshake over */
    uint8_t *plain;               /* the record being walked, decrypted */
    uint32_t plain_len;           /* 0: no decrypted record pending */
    uint8_t plain_type;           /* its inner content type */
    bool hs_done;                 /* Finished sent (decrypted) */
    uint8_t *decomp;              /* CompressedCertificate, decompressed */
    uint32_t decomp_cap;
};

struct tls_session {
    struct tls_dir d[2];          /* indexed by the caller's direction */
    uint8_t transport;            /* enum tls_transport, set by the caller after init */
    bool dtls_hvr;                /* DTLS: a HelloVerifyRequest was seen (caller sets it) */
    bool dtls_cookie_hello;       /* DTLS: the ClientHello repeated with the cookie */
    int8_t client;                /* direction of the client, -1 unknown */
    uint8_t progress;             /* enum tls_progress */
    uint8_t tunnel;               /* enum tls_tunnel */
    uint8_t n_client_hellos;      /* 0..2 (a third is an anomaly) */
    uint8_t n_server_hellos;
    bool hrr;                     /* a HelloRetryRequest was seen */
    bool server_cert_seen;        /* the server sent a Certificate in clear */
    uint8_t n_certificates[2];    /* Certificate messages seen per direction */
    const struct keylog *keylog;  /* set by the caller after init; may be NULL */
    uint8_t client_random[32];
    bool have_random;
    bool keys_found;              /* TLS 1.3 handshake secrets were in the key log */
    int decrypt_error;            /* first TLS13_E_* on this connection, 0 if none */
    bool resumed;                 /* the server finished without a Certificate: TLS 1.3
                                     PSK, or TLS 1.2 answering the ClientHello's
                                     session_id (echoed) or SessionTicket */
    /* TLS 1.2 resumption in clear (RFC 5246 7.4.1.2, RFC 5077): the first
     * ClientHello's session_id and SessionTicket, the real ServerHello's
     * session_id, and the ticket of a NewSessionTicket the server sent
     * before its ChangeCipherSpec.  Tickets (up to 64 KiB) are kept as
     * their SHA-256. */
    uint8_t ch_sid_len, sh_sid_len;
    uint8_t ch_sid[32], sh_sid[32];
    bool ch_ticket;               /* a non-empty SessionTicket was offered */
    bool new_ticket;              /* a non-empty NewSessionTicket was read */
    uint8_t ch_ticket_sha256[32], new_ticket_sha256[32];
    bool client_aborted_tls13;    /* TLS 1.3, no keys: the client's first protected
                                     record after the ServerHello was alert-sized */
    /* TLS 1.3 without keys: the server's first encrypted flight (its
     * protected records before the client's first one): a proxy's chain
     * and extensions make it another size than the origin's. */
    bool client_protected;        /* the client sent a protected record */
    uint8_t n_flight_sizes;
    uint16_t flight_records;
    uint32_t flight_bytes;
    uint16_t flight_sizes[TLS_FLIGHT_SIZES];
    uint16_t client_version;      /* first ClientHello's highest version */
    uint16_t version;             /* negotiated (ServerHello), 0 if unknown */
    uint16_t cipher;              /* selected suite */
    bool has_cipher;
    uint16_t sslv2_version;       /* version in an SSLv2 CLIENT-HELLO */
    uint16_t group;               /* key exchange group: the ServerHello's key_share
                                     (TLS 1.3) or the ServerKeyExchange's named
                                     curve (TLS 1.2 ECDHE); 0 if not seen */
    /* Zeek's ssl_history: one letter per handshake message, ChangeCipherSpec
     * (i), alert (l) and heartbeat (b), upper case when the client sent it;
     * at most CFG_TLS_HISTORY_MAX letters (history_cut says more came). */
    char history[CFG_TLS_HISTORY_MAX + 1];
    uint8_t history_len;
    bool history_cut;
    uint8_t n_alerts;
    uint32_t alerts_total;
    struct tls_alert alerts[CFG_TLS_MAX_ALERTS];
    struct tls_post post;         /* after completion, while watched (TCP) */
    /* TLS after an HTTP CONNECT: the target of the request line
     * ("CONNECT host:port HTTP/1.x"), the first line of the direction that
     * then sent the ClientHello.  connect_port 0: none kept. */
    uint16_t connect_port;
    int8_t connect_dir;           /* direction that sent the request line, -1 none */
    char connect_host[CFG_TLS_CONNECT_HOST_MAX + 1];
};

/* What tls_session_feed() reports. */
enum tls_event {
    TLS_EV_NEED_MORE = 0,   /* consumed what it could; feed more later */
    TLS_EV_CLIENT_HELLO,    /* msg->hello holds a parsed ClientHello (index in msg->idx) */
    TLS_EV_SERVER_HELLO,    /* msg->hello holds a parsed ServerHello/HRR (index in msg->idx) */
    TLS_EV_CERTIFICATE,     /* msg->body is a Certificate message body (a
                               CompressedCertificate arrives decompressed) */
    TLS_EV_PROGRESS,        /* state changed (e.g. handshake complete); call again */
    TLS_EV_DONE,            /* this direction wants no more bytes */
};

/* A message handed to the caller.  `hello` is the caller's scratch; the
 * other fields are filled by tls_session_feed().  `body` points into the
 * session's buffers and is valid until the next call. */
struct tls_msg {
    struct tls_hello *hello;
    int idx;
    uint8_t type;            /* handshake message type */
    bool from_client;
    bool tls13;              /* TLS 1.3 message format (e.g. Certificate) */
    const uint8_t *body;
    size_t len;
};

void tls_session_init(struct tls_session *s);

/*
 * Feed the contiguous bytes `data[0..len)` of direction `dir` (0 or 1; the
 * caller's own numbering, stable for the connection).  Sets *used to the
 * number of bytes the caller must drop from the front (they are fully
 * processed).  Returns an enum tls_event; for the message events `*msg`
 * describes the message (hellos are parsed into msg->hello, the caller's
 * scratch; msg->idx is 0 for the first hello, 1 after a HelloRetryRequest).
 * The caller loops while the result is not NEED_MORE or DONE.
 * Malformed input moves the direction to DONE or NOT_TLS and is counted.
 */
enum tls_event tls_session_feed(struct tls_session *s, struct memcap *mc,
                                struct stats *st, int dir, const uint8_t *data,
                                size_t len, size_t *used, struct tls_msg *msg);

/*
 * QUIC and DTLS: feed bare handshake messages (type, uint24 length, body,
 * as in TLS) of direction `dir`, contiguous and in order.  Same contract
 * as tls_session_feed(); *used bytes are fully processed.  A message may
 * span calls.  TLS 1.3 record decryption is never attempted here: QUIC
 * removes its own packet protection and hands over the Handshake-space
 * CRYPTO bytes in the same way.
 */
enum tls_event tls_session_feed_handshake(struct tls_session *s, struct memcap *mc,
                                          struct stats *st, int dir, const uint8_t *data,
                                          size_t len, size_t *used, struct tls_msg *msg);

/*
 * DTLS: a record other than a cleartext handshake record, of content type
 * `type` (20 ChangeCipherSpec, 21 alert, 23 application data, or any type
 * when `encrypted`: an epoch > 0 or DTLS 1.3 ciphertext record).  Returns
 * TLS_EV_PROGRESS when this completes the handshake, else NEED_MORE.
 */
enum tls_event tls_session_dgram_record(struct tls_session *s, struct stats *st, int dir,
                                        uint8_t type, bool encrypted, const uint8_t *frag,
                                        size_t len);

/* The caller knows the handshake is over (QUIC: the client's Finished or
 * its first 1-RTT packet).  Both directions become DONE. */
void tls_session_set_complete(struct tls_session *s);

/* TCP, the handshake just completed at packet time `ts_us`: read what
 * follows with tls_session_watch().  False (nothing started) when a
 * direction carries its records inside frames (TDS, WebSocket). */
bool tls_session_watch_start(struct tls_session *s, uint64_t ts_us);

/* After tls_session_watch_start(): the contiguous bytes data[0..len) of
 * direction `dir`, read only as far as record headers (bodies are skipped,
 * never buffered).  Returns the bytes the caller may drop (all of them
 * once the watch is over).  At most CFG_TLS_LINGER_RECORDS records per
 * direction are read. */
size_t tls_session_watch(struct tls_session *s, int dir, const uint8_t *data, size_t len,
                         uint64_t ts_us);

/* A FIN (rst false) or RST from direction `dir` while watched. */
void tls_session_watch_close(struct tls_session *s, int dir, bool rst, uint64_t ts_us);

/* True while direction `dir` is between handshake messages (no partial
 * message or header pending). */
bool tls_session_between_messages(const struct tls_session *s, int dir);

/* The negotiated version is TLS 1.3 or DTLS 1.3 (encrypted handshake). */
static inline bool tls_session_is_13(const struct tls_session *s)
{
    return s->version == 0x0304 || s->version == 0xfefc;
}

/* True when neither direction needs more bytes. */
bool tls_session_finished(const struct tls_session *s);

/* Parse the target of an HTTP CONNECT request line (RFC 9110 9.3.6:
 * "CONNECT host:port HTTP/1.x", the line up to n bytes, its end included
 * or not): host is a DNS name or IPv4 address of letters, digits, '-',
 * '.', '_' or a bracketed IPv6 address, at most CFG_TLS_CONNECT_HOST_MAX
 * bytes; port 1..65535.  True with host (NUL-terminated, as written) and
 * *port filled; false for anything else. */
bool tls_connect_target_parse(const uint8_t *line, size_t n,
                              char host[CFG_TLS_CONNECT_HOST_MAX + 1], uint16_t *port);

/* The kept CONNECT target as "host:port" (buf of CFG_TLS_CONNECT_HOST_MAX
 * + 7 bytes); NULL if none. */
const char *tls_connect_target(const struct tls_session *s, char *buf, size_t cap);

/* True if this connection was recognised as TLS (any hello seen). */
static inline bool tls_session_is_tls(const struct tls_session *s)
{
    return s->progress != TLS_PROGRESS_NONE;
}

/* Release buffers (the struct belongs to the caller). */
void tls_session_release(struct tls_session *s, struct memcap *mc);

/* Names for output: "TLS 1.2", "unknown_ca", "http-connect", ... */
const char *tls_version_name(uint16_t v, char buf[24]);
const char *tls_alert_name(uint8_t desc);
const char *tls_tunnel_name(enum tls_tunnel t);
const char *tls_progress_name(enum tls_progress p);

#endif
