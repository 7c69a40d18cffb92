/*
 * tracker.h - one worker's flows: lookup, creation, eviction, expiry and
 * the end of each connection.
 *
 * The tracker owns the flow table and the struct conn hanging off each
 * flow (flow->app).  When a connection's analysis is over it fills the
 * finished-connection record (conn/report.h) and hands it to the
 * consumer (the pipeline's on_report: events, or learn), once, then frees
 * the analysis buffers; the flow may linger as a key.  Eviction, idle
 * timeouts (packet time) and the end of input all go through
 * tracker_remove(), so no connection leaves without its report.
 *
 * Pressure.  When the memcap or the flow table is CFG_PRESSURE_HIGH_PERCENT
 * full, the tracker evicts until both are below CFG_PRESSURE_LOW_PERCENT
 * (at most CFG_PRESSURE_BATCH per packet), so new connections always find
 * room, as in Suricata's emergency mode.  Each eviction weighs the
 * CFG_PRESSURE_SCAN least recently active flows and takes the one whose
 * loss costs least, in this order:
 *   1. analysis over (event already written, or never TLS);
 *   2. TCP without a payload byte yet (half-open, SYN floods);
 *   3. a handshake idle for CFG_PRESSURE_STALL_S or more (stalled);
 *   4. a handshake in progress;
 * then the least recently active.  Before classes 3 and 4, though, a
 * source (the address that opened the flow, hashed into CFG_SOURCE_SLOTS
 * lists) holding more than CFG_SOURCE_SHARE_PERCENT of all flows loses its
 * oldest flow, so one flooding host cannot starve the others, however
 * slow their handshakes.  Another address hashed into the flooder's list
 * keeps its flows: the address most of the list's newest CFG_PRESSURE_SCAN
 * flows come from is the one that loses its oldest.  An evicted TLS
 * connection's event is written with end "evicted".  Dropping a flow of
 * class 1 loses nothing (counted as flow_reclaimed); the first eviction of
 * any other enters pressure, and CFG_PRESSURE_CALM_S of packet time without
 * one leaves it: both call on_pressure, which writes an in-band stats event
 * (degraded true|false).
 */
#ifndef PINSCOPE_TRACKER_H
#define PINSCOPE_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn/conn.h"
#include "conn/report.h"
#include "flow/table.h"

/* The flows of the sources that hash to one slot, oldest first. */
struct tracker_source {
    struct flow *head, *tail;
    uint32_t count;
};

/* Entering (on) or leaving memory pressure, at packet time ts_us. */
struct tracker_pressure {
    bool on;
    uint64_t ts_us;
    const char *reason;            /* on: what is full, in words */
    uint64_t evicted;              /* off: flows evicted during the episode */
};
typedef void (*tracker_pressure_fn)(void *ctx, const struct tracker_pressure *p);

struct tracker {
    struct flow_table *ft;
    struct flow *last_flow;        /* one-entry lookup cache: bursts of one flow */
    struct conn_env *env;
    struct stats *st;
    conn_report_fn on_report;
    void *report_ctx;
    tracker_pressure_fn on_pressure;
    void *pressure_ctx;
    struct tracker_source *src;    /* flows per hashed source, CFG_SOURCE_SLOTS */
    uint32_t top_src;              /* the slot with the most flows, roughly */
    bool draining;                 /* above the high mark: evicting down to the low one */
    bool pressure;                 /* degraded: evicted within CFG_PRESSURE_CALM_S */
    uint64_t last_evict_us;
    uint64_t episode_evicted;
    struct flow *wait_head, *wait_tail;   /* completed handshakes waiting, oldest first */
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
/* TCP: the handshake of f->app completed and the session watches what
 * follows (tls_session_watch_start()): its report waits, at most
 * CFG_TLS_LINGER_MS of packet time (tracker_expire() ends overdue waits),
 * for the client's data or close.  Once per connection; tracker_finish()
 * ends the wait whenever it comes, and reports a waiting connection with
 * end "handshake" whatever ended it. */
void tracker_wait(struct tracker *t, struct flow *f);
/* tracker_finish(), then the flow goes. */
void tracker_remove(struct tracker *t, struct flow *f, enum ev_end end);

/* Before each packet: under pressure, evict (bounded work per call). */
void tracker_relieve(struct tracker *t, uint64_t now_us);

/* Expire flows idle at `now_us` (bounded work per call). */
void tracker_expire(struct tracker *t, uint64_t now_us);

#endif
