/*
 * detect.h - interception detections: facts of one TLS connection in,
 * alerts out.
 *
 * Inputs are plain data (struct detect_conn): fingerprints, the chain and
 * its checks (x509/chain.h), the TLS session facts (alerts, version).  The
 * detector applies the analyst's policy (policy/policy.h) and the shipped
 * signatures (policy/sigdb.h) and returns struct detect_alert values; it
 * writes nothing (output/ serializes alerts) and sees no packets.
 *
 * One detector per worker.  It keeps a short memory of recent connections
 * per server name to link the two legs of one interception (client->proxy
 * and proxy->server): DETECT_LEGS_MAX entries, DETECT_LEG_WINDOW_S seconds,
 * oldest overwritten first; and of recent TLS 1.3 answers per server name
 * and client fingerprint (detect/answers.h): DETECT_ANSWERS_MAX entries,
 * DETECT_ANSWERS_WINDOW_S seconds.  Both are shared by the workers' detectors.
 *
 * Signature ids are stable; names and reasons may be reworded.
 */
#ifndef PINSCOPE_DETECT_H
#define PINSCOPE_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls/session.h"
#include "x509/chain.h"

#define DETECT_MAX_ALERTS    12   /* alerts per connection */
#define DETECT_MAX_EVIDENCE  12   /* evidence fields per alert */
#define DETECT_LEGS_MAX      1024 /* recent connections remembered for leg linking */
#define DETECT_LEG_WINDOW_S  30   /* seconds between two legs of one interception */
#define DETECT_LEG_CONNECT_WINDOW_US 3000000 /* us between the first packets of an HTTP
                                                CONNECT leg and an upstream leg linked by
                                                its target alone (no address shape) */
#define DETECT_ANSWERS_MAX   1024 /* recent TLS 1.3 answers remembered per process */
#define DETECT_ANSWERS_WINDOW_S 600 /* seconds between two answers compared */
#define DETECT_ANSWERS_MIN_GAP 256 /* bytes: first flights this far apart (and 20%) differ */
#define DETECT_BACKDATE_SLACK_S 600 /* a leaf this close to exactly 1 or 2 days old was minted, backdated */
#define DETECT_BARE_CLOSE_MS 50   /* 9100024: a close without an alert counts this soon after completion */
#define DETECT_CT_REQUIRED_SINCE 1525046400 /* 2018-04-30: CT required for new public leaves */

enum detect_sid {
    DETECT_SID_PIN_MISMATCH = 9100001,
    DETECT_SID_PIN_EXPIRED_MISMATCH = 9100002,
    DETECT_SID_UNEXPECTED_ISSUER = 9100003,
    DETECT_SID_KNOWN_PRODUCT = 9100004,
    DETECT_SID_UNTRUSTED_PUBLIC_NAME = 9100005,
    DETECT_SID_NO_SCTS = 9100006,
    DETECT_SID_LEAF_SHARES_ISSUER_KEY = 9100007,
    DETECT_SID_JUST_MINTED = 9100008,
    DETECT_SID_CLIENT_FP_BASELINE = 9100009,
    DETECT_SID_KNOWN_INTERCEPTOR_FP = 9100010,
    DETECT_SID_SERVER_FP_BASELINE = 9100011,
    DETECT_SID_VERSION_DOWNGRADE = 9100012,
    DETECT_SID_ALPN_BASELINE = 9100013,
    DETECT_SID_CLIENT_REFUSED_CERT = 9100014,
    DETECT_SID_CLIENT_ABORTED_TLS13 = 9100015,
    DETECT_SID_TWO_LEGS = 9100016,
    DETECT_SID_CLIENT_LEFT_AFTER_CERT = 9100017,
    DETECT_SID_ECH_REQUIRED = 9100018,
    DETECT_SID_SERVER_STACK_BASELINE = 9100019,
    DETECT_SID_RESUMED_FLAGGED = 9100020,
    DETECT_SID_REMOVED_ROOT = 9100021,
    DETECT_SID_SERVER_KEYLESS_BASELINE = 9100022,
    DETECT_SID_TWO_ANSWERS = 9100023,
    DETECT_SID_CLIENT_CLOSED_AFTER_HANDSHAKE = 9100024,
};

struct detect_evidence {
    const char *key;
    char value[192];
};

struct detect_alert {
    uint32_t sid;
    const char *signature;      /* short name */
    const char *category;       /* "interception", "policy", "client-refused" */
    int severity;               /* 1 high, 2 medium, 3 low (Suricata's scale) */
    const char *confidence;     /* "high", "medium", "low" */
    char reason[320];           /* one sentence for the analyst */
    struct detect_evidence ev[DETECT_MAX_EVIDENCE];
    int n_ev;
    uint64_t related_flow_id;   /* the other leg, 0 if none */
};

/* Facts of one connection (all pointers borrowed for the call). */
struct detect_conn {
    uint64_t flow_id;
    uint64_t ts_us;                  /* first packet */
    uint8_t ip_ver;
    const uint8_t *client_ip, *server_ip;   /* 4 or 16 bytes */
    uint16_t client_port, server_port;
    const char *sni;                 /* NUL-terminated, valid UTF-8, NULL if none */
    const char *ja4, *ja3;           /* first ClientHello, NULL if not seen */
    const char *ja4s, *ja3s;         /* ServerHello answering it, NULL if not seen */
    const char *alpn_client;         /* first offered, NULL if none */
    const char *alpn_server;         /* chosen, NULL if none */
    const struct tls_session *tls;
    const struct x509_chain *chain;  /* server chain, NULL if not visible */
    bool client_closed_first;        /* TCP: the client's FIN or RST came first */
    bool ech_offered;                /* the first ClientHello carried an outer ECH */
    const char *ja4ts;               /* TCP: the server's SYN-ACK (fp/ja4t.h), NULL if none */
    const char *server_ttl;          /* TCP: its TTL as decimal text, NULL if none */
    /* TLS 1.3 facts that hold without keys (conn/report.h, conn_keyless):
     * the server's first encrypted flight in bytes and the ServerHello
     * delay in us (each when its has_ flag is set), the HelloRetryRequest
     * ("none" or its group; NULL when not known). */
    bool has_flight_bytes, has_hello_delay;
    uint32_t flight_bytes;
    uint64_t hello_delay_us;
    const char *hello_retry;
};

struct policy;
struct sigdb;
struct detect;

/* A detector applying `pol` and `sigs` (either may be NULL: those checks
 * are skipped).  Neither is owned. */
struct detect *detect_new(const struct policy *pol, const struct sigdb *sigs);
/* The same, linking legs through `legs` (detect/legs.h), TLS 1.2
 * resumptions through `resume` (detect/resume.h) and comparing answers
 * through `answers` (detect/answers.h), all shared with other detectors and
 * not owned; NULL: a private one. */
struct legs;
struct resume;
struct answers;
struct detect *detect_new_shared(const struct policy *pol, const struct sigdb *sigs,
                                 struct legs *legs, struct resume *resume,
                                 struct answers *answers);
void detect_free(struct detect *d);

/* Run every detection on one connection; returns the number of alerts
 * written to out[0..max). */
size_t detect_run(struct detect *d, const struct detect_conn *c, struct detect_alert *out,
                  size_t max);

/* TLS 1.2 resumption, after detect_run() gave out[0..n):
 *   - a full handshake that showed a chain and issued a session_id or a
 *     ticket is remembered with its leaf facts and the sids of out[0..n)
 *     (not 9100016, which is about the pair of legs, nor the client
 *     refusals, which end a session rather than make one);
 *   - a resumed connection finds it by the ticket it offered or the
 *     session_id the server echoed (same server address and port): *res
 *     gets the origin's flow_id, and when the origin raised alerts one
 *     alert 9100020 is appended carrying the origin's verdict (its most
 *     severe alert's severity and family, every sid) and chain facts as
 *     evidence, related_flow_ids the origin.
 * Returns the new number of alerts. */
struct detect_resumed {
    uint64_t from;           /* the origin's flow_id, 0 when not linked */
    const char *with;        /* "session_id", "session_ticket"; NULL: not a TLS 1.2 resumption */
    bool unlinked;           /* resumed, but the origin is not held */
    bool evicted;            /* remembering this one evicted an older session */
};
size_t detect_resumption(struct detect *d, const struct detect_conn *c, struct detect_alert *out,
                         size_t n, size_t max, struct detect_resumed *res);

/* What the signatures say about this connection, for the tls event
 * (tls.client_app, tls.interception_product); NULL when nothing matched. */
const char *detect_client_app(const struct detect *d, const struct detect_conn *c);
const char *detect_interception_product(const struct detect *d, const struct detect_conn *c);

/* True for a name that looks publicly resolvable: a valid host name (not
 * an IP literal, at least two labels) under a real ICANN entry of the
 * Public Suffix List, not counting its implicit "*" rule, so names under
 * test, example, invalid, localhost, local, internal, lan, home, corp,
 * intranet, ... or any other undelegated top-level name are not; nor is
 * anything under arpa, onion or example.com/.net/.org (RFC 2606).  A
 * private name under a real TLD still looks public.  dnsname_public() in
 * util/dnsname.h; exported for tests. */
bool detect_public_looking(const char *name);

#endif
