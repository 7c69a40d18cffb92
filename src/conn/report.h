/*
 * report.h - the finished-connection record.
 *
 * When the analysis of a connection is over (handshake done, FIN/RST,
 * timeout, eviction, end of input), the pipeline fills one struct
 * conn_report and hands it to its consumer (output/emit.c: detections,
 * serializers, sinks; app/learn.c: the policy being learned).  The report
 * points into the pipeline's per-connection state and is valid only for
 * the duration of that call.  Consumers read it; they never re-derive its
 * rules: which ServerHello is the real one after a HelloRetryRequest, how
 * a wire name becomes a matchable string, are stated once here.
 */
#ifndef PINSCOPE_CONN_REPORT_H
#define PINSCOPE_CONN_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "dtls/conn.h"
#include "flow/table.h"
#include "quic/conn.h"
#include "fp/ja4t.h"
#include "tls/session.h"
#include "x509/chain.h"

/* What one ClientHello contributed to the event. */
struct ev_client_hello {
    bool present;
    char ja3_hash[33];
    char *ja3_str;           /* in heap */
    char ja4[64], ja4_o[64];
    char *ja4_r, *ja4_ro;    /* in heap */
    size_t ja3_str_len, ja4_r_len, ja4_ro_len;   /* 0 for a NULL string */
    bool has_sni;
    uint16_t sni_len;
    uint8_t sni[TLS_HELLO_MAX_SNI];
    bool has_alpn;
    uint8_t n_alpn;
    uint8_t *alpn;           /* in heap: n_alpn x (len byte, bytes) */
    uint16_t alpn_bytes;
    /* The hello as sent, for Suricata's client_handshake: legacy_version
     * and the lists in wire order (GREASE included, capped as tls/hello.h
     * caps them), in heap: ciphers, then exts, then sig_algs. */
    uint16_t version;
    uint16_t *lists;
    uint16_t n_ciphers, n_exts, n_sig_algs;
    /* One allocation holding lists, alpn and the three strings (NULL, and
     * they with it, when it failed). */
    void *heap;
    struct {                 /* encrypted_client_hello (tls/hello.h) */
        bool present, bad;
        uint8_t type, config_id;
        uint16_t kdf, aead, enc_len, payload_len;
    } ech;
};

/* What one ServerHello (or HelloRetryRequest) contributed. */
struct ev_server_hello {
    bool present;
    bool hrr;
    char ja3s_hash[33];
    char *ja3s_str;          /* in heap */
    char ja4s[64];
    char *ja4s_r;            /* in heap */
    size_t ja3s_str_len, ja4s_r_len;   /* 0 for a NULL string */
    bool has_alpn;
    uint8_t alpn_len;
    uint8_t alpn[255];
    /* For Suricata's server_handshake: legacy_version, the selected
     * supported_versions entry (0 if none), the suite, the extensions in
     * wire order (in heap). */
    uint16_t version, selected_version, cipher;
    uint16_t *exts;
    uint16_t n_exts;
    void *heap;              /* one allocation holding exts and the two strings */
    bool ech_confirmation;   /* HelloRetryRequest: the server accepted ECH */
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

/* One finished connection: everything an event, a detection or learn reads. */
struct conn_report {
    const struct flow *flow;
    int client_side;                 /* flow key side of the client */
    const struct tls_session *tls;
    const struct ev_client_hello *ch[2];
    const struct ev_server_hello *sh[2];
    const struct x509_chain *chain;         /* server's, NULL if none */
    const struct x509_chain *client_chain;  /* client's, NULL if none */
    const struct ev_quic *quic;             /* QUIC connection, else NULL */
    const struct ev_dtls *dtls;             /* DTLS connection, else NULL */
    const struct tcp_handshake *tcp;        /* TCP opening seen, else NULL */
    int closed_by;                          /* TCP: flow key side of the first FIN or
                                               RST, -1 none */
    const char *client_app;                 /* signature match on JA4/JA3, or NULL */
    const char *interception_product;       /* signature match on the chain, or NULL */
    uint64_t resumed_from;                  /* TLS 1.2 resumption: the flow_id of the full
                                               handshake it resumes (detect/resume.h), 0 */
    const char *resumed_with;               /* "session_id", "session_ticket", or NULL */
    uint64_t pkts[2], bytes[2];             /* per flow key side, when the report was due:
                                               at completion for a handshake whose report
                                               waited (tracker_wait()), else now */
    enum ev_end end;
};

/* Free the heap parts of a hello record (not the struct). */
void ev_client_hello_release(struct ev_client_hello *c);
void ev_server_hello_release(struct ev_server_hello *s);

/* The consumer of finished connections (events, learn): called once per
 * connection on the worker's thread; the report is valid during the call. */
typedef void (*conn_report_fn)(void *ctx, const struct conn_report *r);

/* The ServerHello that settled the connection: after a HelloRetryRequest
 * it is the second one, else the first.  NULL if none. */
const struct ev_server_hello *conn_report_final_sh(const struct conn_report *r);

/* The client's first ClientHello, if one was read. */
static inline const struct ev_client_hello *conn_report_ch(const struct conn_report *r)
{
    return r->ch[0] && r->ch[0]->present ? r->ch[0] : NULL;
}

/* Wire names as NUL-terminated strings for matching: bytes outside
 * printable ASCII become '?', so they match no domain.  NULL when absent. */
struct conn_names {
    const char *sni;
    const char *alpn_client;    /* the client's first ALPN entry */
    const char *alpn_server;    /* the selected one */
    char sni_buf[TLS_HELLO_MAX_SNI + 1];
    char alpn_c_buf[256];
    char alpn_s_buf[256];
};
void conn_report_names(const struct conn_report *r, struct conn_names *n);

/* What a TLS 1.3 connection over TCP shows without session keys about
 * the server that answered (tls.server_flight, tls.hello_retry,
 * tls.server_hello_delay_us), as server baselines learn and check them:
 *   flight   the server's first encrypted flight in bytes, only when the
 *            client's first protected record closed it (a cut connection's
 *            flight is partial) and the ServerHello did not accept a PSK
 *            (a resumed handshake sends no Certificate);
 *   hrr      known once a ServerHello was read: whether a
 *            HelloRetryRequest came first and the group it asked for;
 *   delay    ClientHello to (first) ServerHello in us, when the TCP
 *            opening was seen.
 * Nothing is known for other versions, QUIC or DTLS. */
struct conn_keyless {
    bool has_flight, has_hrr, has_delay;
    bool hrr;
    uint16_t hrr_group;
    uint32_t flight_bytes;
    uint64_t delay_us;
};
void conn_report_keyless(const struct conn_report *r, struct conn_keyless *k);

/* The server's and the client's address and port. */
static inline const uint8_t *conn_report_client_ip(const struct conn_report *r)
{
    return r->flow->key.addr[r->client_side];
}
static inline const uint8_t *conn_report_server_ip(const struct conn_report *r)
{
    return r->flow->key.addr[r->client_side ^ 1];
}

#endif
