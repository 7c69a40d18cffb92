/*
 * pipeline.h - the analysis stages in order, for one worker.
 *
 *   capture -> decode -> flow -> reassembly -> tls -> fingerprint -> report
 *
 * pipeline_packet() runs one packet through every stage.  The pipeline owns
 * the flow table, the memcap, the counters and the per-flow analysis state
 * (struct conn, private to pipeline.c); modules to its left never call
 * back into it.
 */
#ifndef PINSCOPE_PIPELINE_H
#define PINSCOPE_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "conn/report.h"
#include "tracker.h"
#include "util/stats.h"

struct keylog;
struct x509_ctx;

/* Called once per finished TLS connection (conn/report.h). */
typedef conn_report_fn pipeline_report_fn;
/* Called on entering and leaving memory pressure (tracker.h). */
typedef tracker_pressure_fn pipeline_pressure_fn;

struct pipeline_config {
    size_t max_flows;
    size_t memcap;
    uint32_t depth;
    const struct keylog *keylog;   /* TLS session secrets; not owned, may be NULL */
    struct x509_ctx *x509;         /* certificate caches and trust store; not owned */
    bool external_sweep;           /* expire only on pipeline_tick() (the file reader
                                      of several workers keeps the clock) */
    pipeline_report_fn on_report;  /* the consumer of finished connections */
    void *report_ctx;
    pipeline_pressure_fn on_pressure;  /* may be NULL */
    void *pressure_ctx;
    size_t shard, n_shards;        /* file input, several workers: every worker
                                      reassembles every IP fragment and keeps the
                                      datagrams of its own flows (flow_pick) */
};

struct pipeline;

/*
 * The expiry clock of one pipeline: packet time (the latest seen), and a
 * sweep of idle flows at most every CFG_FLOW_EXPIRE_EVERY seconds of it.
 * A pipeline keeps one; with several workers on one file, whoever sees
 * every packet in order keeps the same clock and tells the workers when to
 * sweep, so flows expire at the same packet as with one worker.
 */
struct expiry_clock {
    uint64_t now_us;
    uint64_t next_sweep_us;
};

static inline void expiry_clock_see(struct expiry_clock *c, uint64_t ts_us)
{
    if (ts_us > c->now_us)
        c->now_us = ts_us;
}

/* A sweep is due at the current time: true, and the next one scheduled. */
static inline bool expiry_clock_due(struct expiry_clock *c)
{
    if (c->now_us < c->next_sweep_us)
        return false;
    c->next_sweep_us = c->now_us + CFG_FLOW_EXPIRE_EVERY * 1000000ULL;
    return true;
}

/* The end of an input: the next one's clock starts afresh (its packets
 * may be older: several -r captures in any order), and a sweep is due at
 * its first packet. */
static inline void expiry_clock_restart(struct expiry_clock *c)
{
    c->now_us = 0;
    c->next_sweep_us = 0;
}

/* Create a pipeline handing finished connections to cfg->on_report.
 * NULL on failure. */
struct pipeline *pipeline_new(const struct pipeline_config *cfg);
void pipeline_free(struct pipeline *pl);

/* Set the consumer after creation (it may need pipeline_stats()). */
void pipeline_set_report(struct pipeline *pl, pipeline_report_fn fn, void *ctx);

void pipeline_set_pressure(struct pipeline *pl, pipeline_pressure_fn fn, void *ctx);

/* One captured packet of link type `dlt`. */
void pipeline_packet(struct pipeline *pl, int dlt, uint64_t ts_us, const uint8_t *data,
                     size_t caplen, size_t wirelen);

/* Time passes without packets (live capture): expire idle flows. */
void pipeline_tick(struct pipeline *pl, uint64_t now_us);

/* End of the input: report every open flow (creation order) and empty
 * the table. */
void pipeline_flush(struct pipeline *pl);

struct stats *pipeline_stats(struct pipeline *pl);
uint64_t pipeline_last_ts(const struct pipeline *pl);

#endif
