/*
 * tracker.h - one worker's flows: lookup, creation, eviction, expiry and
 * the end of each connection.
 *
 * The tracker owns the flow table and the struct conn hanging off each
 * flow (flow->app).  When a connection's analysis is over it fills the
 * finished-connection record (conn/report.h) and hands it to the
 * consumer (the pipeline's on_report: events, or learn), once, then frees
 * the analysis buffers; the flow may linger as a key.  Eviction (table
 * full: the oldest CFG_FLOW_EVICT_PERCENT), idle timeouts (packet time)
 * and the end of input all go through tracker_remove(), so no connection
 * leaves without its report.
 */
#ifndef PINSCOPE_TRACKER_H
#define PINSCOPE_TRACKER_H

#include <stddef.h>
#include <stdint.h>

#include "conn/conn.h"
#include "conn/report.h"
#include "flow/table.h"

struct tracker {
    struct flow_table *ft;
    struct flow *last_flow;        /* one-entry lookup cache: bursts of one flow */
    struct conn_env *env;
    struct stats *st;
    conn_report_fn on_report;
    void *report_ctx;
};

/* 0, or -1 when out of memory. */
int tracker_init(struct tracker *t, size_t max_flows, struct conn_env *env, struct stats *st);
/* Report every open flow (creation order) and empty the table. */
void tracker_flush(struct tracker *t);
void tracker_free(struct tracker *t);

/* The flow of `key` (one-entry cache first), or NULL. */
struct flow *tracker_lookup(struct tracker *t, const struct flow_key *key);
/* A packet of `side` belongs to `f`: activity, counters, lookup cache. */
void tracker_seen(struct tracker *t, struct flow *f, int side, const struct pkt *p);
/* A new flow for `key` with `c` attached (evicting if the table is full);
 * NULL (and c freed) on failure. */
struct flow *tracker_create(struct tracker *t, const struct flow_key *key, struct conn *c,
                            const struct pkt *p);

/* The analysis of `c` on `f` is over for `end`: report it if it was TLS
 * and was not reported yet, then free its buffers (the flow stays). */
void tracker_finish(struct tracker *t, struct flow *f, struct conn *c, enum ev_end end);
/* tracker_finish(), then the flow goes. */
void tracker_remove(struct tracker *t, struct flow *f, enum ev_end end);

/* Expire flows idle at `now_us` (bounded work per call). */
void tracker_expire(struct tracker *t, uint64_t now_us);

#endif
