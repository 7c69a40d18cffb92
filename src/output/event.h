/*
 * event.h - JSON events, one line each (Suricata EVE field names).
 *
 * output/ owns the shape of every event: the envelope (timestamp, flow_id,
 * event_type, addresses, proto) and one serializer per event type.  It
 * reads finished structs and never parses packet bytes.  Strings that came
 * off the wire (SNI, ALPN) are made valid UTF-8 before they are written, so
 * every line is valid JSON whatever the packet held.
 */
#ifndef PINSCOPE_EVENT_H
#define PINSCOPE_EVENT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "flow/table.h"
#include "tls/session.h"
#include "util/stats.h"
#include "policy/detect.h"
#include "x509/chain.h"

/* What one ClientHello contributed to the event. */
struct ev_client_hello {
    bool present;
    char ja3_hash[33];
    char *ja3_str;           /* heap */
    char ja4[64], ja4_o[64];
    char *ja4_r, *ja4_ro;    /* heap */
    bool has_sni;
    uint16_t sni_len;
    uint8_t sni[TLS_HELLO_MAX_SNI];
    bool has_alpn;
    uint8_t n_alpn;
    uint8_t *alpn;           /* heap: n_alpn x (len byte, bytes) */
    uint16_t alpn_bytes;
};

/* What one ServerHello (or HelloRetryRequest) contributed. */
struct ev_server_hello {
    bool present;
    bool hrr;
    char ja3s_hash[33];
    char *ja3s_str;          /* heap */
    char ja4s[64];
    char *ja4s_r;            /* heap */
    bool has_alpn;
    uint8_t alpn_len;
    uint8_t alpn[255];
};

/* QUIC details of a connection (tls.quic). */
#define EV_QUIC_TP_MAX 64   /* transport-parameter ids kept */
struct ev_quic {
    uint32_t version;               /* of the client's first Initial */
    uint32_t final_version;         /* after Version Negotiation, if it changed */
    bool version_negotiation;       /* the server sent Version Negotiation */
    bool retry;                     /* the server sent a Retry */
    bool retry_verified;            /* its integrity tag checked out */
    bool has_tp;                    /* the ClientHello carried transport parameters */
    uint16_t n_tp;
    uint32_t tp_total;
    uint64_t tp_ids[EV_QUIC_TP_MAX]; /* client's transport-parameter ids, wire order */
    uint32_t initial_packets[2];    /* [0] client, [1] server: decrypted */
    uint32_t handshake_packets[2];  /* decrypted with the key log */
    uint32_t undecryptable;         /* Initial/Handshake packets that did not open */
    bool has_close;                 /* a CONNECTION_CLOSE was read (first one kept) */
    bool close_from_client;
    uint64_t close_error;           /* its error code (0x100-0x1ff: TLS alert) */
};

/* DTLS details of a connection (tls.dtls). */
struct ev_dtls {
    bool hello_verify_request;
    uint8_t cookie_len;             /* HelloVerifyRequest cookie length */
    uint16_t hvr_version;
    uint32_t retransmissions;       /* handshake messages seen again */
    uint32_t encrypted_records[2];  /* [0] client, [1] server */
};

/* Why the event was written. */
enum ev_end {
    EV_END_HANDSHAKE = 0,
    EV_END_FIN,
    EV_END_RST,
    EV_END_TIMEOUT,
    EV_END_EOF,
    EV_END_EVICTED,
    EV_END_STOPPED,     /* analysis gave up (malformed input or a cap) */
};

/* Everything the tls event is made from. */
struct ev_tls {
    const struct flow *flow;
    int client_side;                 /* flow key side of the client */
    const struct tls_session *tls;
    const struct ev_client_hello *ch[2];
    const struct ev_server_hello *sh[2];
    const struct x509_chain *chain;         /* server's, NULL if none */
    const struct x509_chain *client_chain;  /* client's, NULL if none */
    const struct ev_quic *quic;             /* QUIC connection, else NULL */
    const struct ev_dtls *dtls;             /* DTLS connection, else NULL */
    const char *client_app;                 /* signature match on JA4/JA3, or NULL */
    const char *interception_product;       /* signature match on the chain, or NULL */
    enum ev_end end;
};

struct output {
    FILE *fp;
    bool live;              /* flush after every line */
    bool deterministic;
    uint64_t lines;
    bool error;             /* a write failed */
};

/* Open `path` ("-" or NULL: stdout).  Returns 0 or -1 with errno set. */
int output_open(struct output *out, const char *path, bool live, bool deterministic);
int output_close(struct output *out);

/* Free the heap parts of a hello record (not the struct). */
void ev_client_hello_release(struct ev_client_hello *c);
void ev_server_hello_release(struct ev_server_hello *s);

/* Write one tls event.  Returns 0 or -1 on a write error. */
int event_write_tls(struct output *out, const struct ev_tls *ev);

/* Write one alert event for the connection of `ev` (its envelope: same
 * flow_id, addresses, timestamp).  Returns 0 or -1 on a write error. */
int event_write_alert(struct output *out, const struct ev_tls *ev, const struct detect_alert *a);

/* Write the stats event (and, to `summary` if not NULL, the text summary). */
int event_write_stats(struct output *out, const struct stats *st, uint64_t last_ts_us,
                      double elapsed_s);
void event_print_summary(FILE *fp, const struct stats *st, double elapsed_s);

/* flow_id for a flow: 51 bits of SipHash over the key and first timestamp,
 * with a fixed key so the same capture always gives the same ids. */
uint64_t event_flow_id(const struct flow *f);

/* ISO 8601 UTC with microseconds, Suricata style: 2026-11-25T19:18:42.123456+0000 */
void event_format_ts(uint64_t ts_us, char buf[40]);

#endif
