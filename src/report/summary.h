/*
 * summary.h - the analyst's view: events in, one verdict per server out.
 *
 * `pinscope report` feeds every event line it gets (from its own analysis,
 * or from EVE or ECS files that a sensor wrote) to summary_add_line(), then
 * calls summary_finish() and hands the result to a renderer (report/text.c:
 * terminal, markdown, JSON; report/html.c: one self-contained page).  The
 * summary reads only what pinscope itself writes, so the same captures give
 * the same summary whether they are analysed here or read back as events.
 *
 *   tls/quic event  -> one connection: server (SNI, else address:port),
 *                      client (source address), versions, JA4/JA4S, chain
 *   alert event     -> grouped per server and signature; marks its
 *                      connection (joined by flow_id and start time)
 *   stats event     -> packets, anomalies (the last one of each worker)
 *
 * Verdicts, worst first, from the connection's own facts:
 *   intercepted  an interception product named, or a severity-1 alert of
 *                the interception or policy families (pin mismatch,
 *                unexpected issuer, known product, both legs...)
 *   suspicious   any other alert
 *   refused      a client refused the certificate, nothing else seen
 *   clean        a certificate chain was seen and nothing was raised
 *   unknown      no chain seen (TLS 1.3 without keys, cut short), no alert
 * A server's verdict is its worst connection's; the sentence that decided
 * it is the reason of its most severe alert (or a stated fact).
 *
 * Every table is capped (CFG_REPORT_* in config.h); what does not fit is
 * counted, never silently lost.  Strings are kept as the events carry them
 * (they come from the wire): renderers escape them for their medium.
 */
#ifndef PINSCOPE_SUMMARY_H
#define PINSCOPE_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum verdict { V_INTERCEPTED, V_SUSPICIOUS, V_REFUSED, V_CLEAN, V_UNKNOWN, V_COUNT };

const char *verdict_name(enum verdict v);

/* A string -> item table: open addressing over SipHash, items stored
 * contiguously (pointers into it move when it grows: use indexes). */
struct stab {
    char **keys;
    uint32_t *slots;        /* index + 1, 0: empty */
    unsigned char *items;
    size_t n, cap, nslots, isz, max;
    uint64_t over;          /* insertions refused at `max` */
};

/* One distinct certificate chain seen for a server. */
#define SUM_CHAIN_CERTS 4
struct sum_cert {
    char *subject_cn, *issuer_cn, *issuer, *sha256, *spki, *not_after;
};
struct sum_chain {
    struct sum_cert c[SUM_CHAIN_CERTS];
    int n;                  /* certificates kept */
    int total;              /* certificates in the chain */
    char *validation;       /* validation code, NULL: not checked */
    uint64_t conns;
};

/* Alerts of one signature for one server. */
#define SUM_EXAMPLES 3
struct sum_alert {
    uint32_t sid;
    int severity;
    char *signature, *confidence, *category, *reason;
    char *evidence;         /* "key: value; key: value" of the first one */
    uint64_t count;
    int n_ex;
    struct { uint64_t flow_id; char *ts, *client; } ex[SUM_EXAMPLES];
};

/* A small capped list of (string, count). */
#define SUM_LIST_MAX 8
struct sum_list {
    struct { char *s; uint64_t n; } v[SUM_LIST_MAX];
    int n;
    uint64_t more;          /* distinct values beyond the cap */
};

#define SUM_CHAINS_MAX 4
#define SUM_ALERTS_MAX 16
struct sum_server {
    char *name;             /* SNI, or "address:port" without one */
    bool has_sni;
    enum verdict verdict;
    char *why;              /* the sentence that decided the verdict */
    uint64_t conns, intercepted, refused, alerted, chains_seen, valid, complete;
    uint64_t clients;       /* distinct clients */
    struct { uint32_t client; uint64_t n, intercepted; } top[SUM_LIST_MAX];
    int n_top;              /* its clients, most intercepted first */
    double first_ts, last_ts;
    struct sum_list dests, issuers, products, spki, ja4s, versions;
    char *expected_pins;    /* from a pin alert's evidence */
    struct sum_list policy_pins;    /* from --policy: base64 pins (n 1: a backup pin) */
    bool has_policy_pins;
    struct sum_chain chain[SUM_CHAINS_MAX];
    int n_chain;
    uint64_t chains_more;
    struct sum_alert alert[SUM_ALERTS_MAX];
    int n_alert;
    uint64_t alerts_more;
    uint64_t alerts;        /* alert events, all signatures */
};

struct sum_client {
    char *addr;
    uint64_t conns, intercepted;
    uint64_t servers;       /* distinct servers */
    struct sum_list ja4, apps;
};

/* One connection, compact (timeline, matrix, per-client counts). */
struct sum_conn {
    double ts;
    uint32_t server, client;
    uint8_t flags;          /* SUM_F_* */
    uint8_t verdict;
};
#define SUM_F_EVENT       1  /* its tls/quic event was read */
#define SUM_F_INTERCEPTED 2
#define SUM_F_SUSPICIOUS  4
#define SUM_F_REFUSED     8
#define SUM_F_CHAIN       16 /* a certificate chain was seen */

struct sum_count {          /* item of a tally table (versions, JA4, issuers...) */
    uint64_t n;
    uint64_t flagged;       /* of them intercepted */
    char *name;             /* JA4: the application; certificates: status */
    char *extra;            /* certificates: server name; chains: issuer */
    double when;            /* certificates: not after (epoch s) */
    double seen;            /* certificates: capture time of first use */
};

struct summary {
    struct stab servers;    /* struct sum_server */
    struct stab clients;    /* struct sum_client */
    struct stab conns;      /* "flow_id/start" -> struct sum_conn */
    struct stab pairs;      /* "server\x1fclient" -> struct sum_count */
    struct stab versions, ja4, ja4s, issuers, certs, invalid;   /* struct sum_count */

    uint64_t lines, events, conn_events, alert_events, stats_events;
    uint64_t unreadable;    /* lines that are not pinscope events */
    uint64_t other_events;
    uint64_t verdicts[V_COUNT];
    double first_ts, last_ts;
    /* from the last stats event per worker */
    uint64_t packets, bytes, anomalies;
    char *sensor;           /* "host" of the first event */
    bool finished;

    /* after summary_finish(): servers and clients worst first */
    uint32_t *server_order, *client_order;
};

void summary_init(struct summary *s);
void summary_free(struct summary *s);

/* One line of EVE or ECS JSON (without or with its '\n').  0 when it was
 * a pinscope event (used or skipped by type), -1 when it is not JSON or
 * not an event (counted in unreadable). */
int summary_add_line(struct summary *s, const char *line, size_t len);

/* Verdicts and orders; call once, after the last line. */
void summary_finish(struct summary *s);

static inline struct sum_server *summary_server(const struct summary *s, size_t i)
{
    return (struct sum_server *)(void *)(s->servers.items + i * s->servers.isz);
}
static inline struct sum_client *summary_client(const struct summary *s, size_t i)
{
    return (struct sum_client *)(void *)(s->clients.items + i * s->clients.isz);
}
static inline struct sum_conn *summary_conn(const struct summary *s, size_t i)
{
    return (struct sum_conn *)(void *)(s->conns.items + i * s->conns.isz);
}
static inline struct sum_count *stab_count(const struct stab *t, size_t i)
{
    return (struct sum_count *)(void *)(t->items + i * t->isz);
}

/* A pin that the policy expects for the server (pinscope report
 * --policy): `backup` for a backup pin.  Renderers mark the pins seen that
 * match one. */
void summary_expect_pin(struct sum_server *sv, const char *pin_b64, bool backup);

/* True when pin is one sv's policy expects. */
bool summary_pin_expected(const struct sum_server *sv, const char *pin);

/* The pair of server i and client j (connections n, intercepted
 * flagged), NULL if they never met. */
const struct sum_count *summary_pair(const struct summary *s, size_t server, size_t client);

/* Indexes of t's struct sum_count items, largest n first (ties by key);
 * at most `max`.  Caller frees.  *n gets the number returned. */
uint32_t *summary_top(const struct stab *t, size_t max, size_t *n);

/* The CN of a DN ("CN=x,O=y" -> "x"), else the DN, into out. */
void summary_short_dn(const char *dn, char *out, size_t cap);

/* Epoch seconds as "YYYY-MM-DD HH:MM:SS" (UTC), "-" when unknown. */
void summary_format_time(double t, char *out, size_t cap);

/* ISO-8601 (EVE "...+0000", ECS "...Z") to epoch seconds; -1 if not one. */
double summary_parse_time(const char *s);

#endif
