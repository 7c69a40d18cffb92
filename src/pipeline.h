/*
 * pipeline.h - the analysis stages in order, for one worker.
 *
 *   capture -> decode -> flow -> reassembly -> tls -> fingerprint -> output
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

#include "output/event.h"
#include "util/stats.h"

struct keylog;
struct x509_ctx;
struct detect;
struct policy;

struct pipeline_config {
    size_t max_flows;
    size_t memcap;
    uint32_t depth;
    const struct keylog *keylog;   /* TLS session secrets; not owned, may be NULL */
    struct x509_ctx *x509;         /* certificate caches and trust store; not owned */
    struct detect *detect;         /* interception detections; not owned, may be NULL */
    struct policy *learn;          /* `pinscope learn`: record connections here instead
                                      of writing events; not owned, may be NULL */
};

struct pipeline;

/* Create a pipeline writing to `out` (not owned).  NULL on failure. */
struct pipeline *pipeline_new(const struct pipeline_config *cfg, struct output *out);
void pipeline_free(struct pipeline *pl);

/* One captured packet of link type `dlt`. */
void pipeline_packet(struct pipeline *pl, int dlt, uint64_t ts_us, const uint8_t *data,
                     size_t caplen, size_t wirelen);

/* Time passes without packets (live capture): expire idle flows. */
void pipeline_tick(struct pipeline *pl, uint64_t now_us);

/* End of an input: write the events of every open flow (creation order)
 * and empty the table. */
void pipeline_flush(struct pipeline *pl);

struct stats *pipeline_stats(struct pipeline *pl);
uint64_t pipeline_last_ts(const struct pipeline *pl);

#endif
