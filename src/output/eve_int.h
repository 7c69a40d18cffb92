/*
 * eve_int.h - what the two event formats share inside output/: the
 * per-worker struct eve and its line framing.  eve.c writes Suricata EVE,
 * ecs.c Elastic Common Schema documents, into the same unit buffer.
 */
#ifndef PINSCOPE_EVE_INT_H
#define PINSCOPE_EVE_INT_H

#include <openssl/ssl.h>

#include "config.h"
#include "output/certjson.h"
#include "output/eve.h"
#include "output/jw.h"

struct eve {
    struct eve_config cfg;
    const char *pcap_filename;
    SSL_CTX *ssl_ctx;         /* cipher-suite names from OpenSSL's table */
    SSL *ssl;
    char *buf;                /* the batch: complete lines of one or more units */
    size_t len, cap;
    size_t lines;             /* complete lines in buf */
    size_t unit_start;        /* where the unit being built begins in buf */
    struct jw w;              /* the line being written */
    struct geoip_cache *geo;  /* this worker's answers (cfg.geoip set) */
    struct certjson *certs;   /* this worker's certificates' JSON */
};

/* Start a line at the end of the buffer; the root object is open.  The
 * unit being built (not the batch before it) is capped at
 * CFG_EVENT_UNIT_MAX. */
static inline struct jw *line_begin(struct eve *e)
{
    jw_begin(&e->w, &e->buf, &e->len, &e->cap, e->unit_start + CFG_EVENT_UNIT_MAX);
    jw_obj_open(&e->w, NULL);
    return &e->w;
}

/* Close the root object and the line: 0, or -1 when the unit did not fit
 * CFG_EVENT_UNIT_MAX or memory ran out (nothing added). */
static inline int line_end(struct eve *e)
{
    jw_obj_close(&e->w);
    if (jw_end(&e->w) < 0)
        return -1;
    e->lines++;
    return 0;
}

enum app { APP_TLS, APP_QUIC, APP_DTLS };

static inline enum app app_of(const struct conn_report *ev)
{
    return ev->quic ? APP_QUIC : ev->dtls ? APP_DTLS : APP_TLS;
}

static const char *const app_name[] = { "tls", "quic", "dtls" };

/* The ECS documents (ecs.c), called by eve_tls/eve_alert/eve_stats when
 * cfg.format is EVE_FORMAT_ECS. */
int ecs_conn(struct eve *e, const struct conn_report *ev);
int ecs_alert(struct eve *e, const struct conn_report *ev, const struct detect_alert *a);
int ecs_stats(struct eve *e, const struct eve_stats_in *in);

#endif
