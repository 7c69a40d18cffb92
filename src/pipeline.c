/*
 * pipeline.c - one packet through every stage (see pipeline.h).
 *
 * Decode, then hand the packet to its transport (pipeline_tcp.c,
 * pipeline_udp.c), which finds or creates its flow in the tracker and
 * feeds its connection (conn/); and keep the clock that drives idle expiry
 * (packet time; live capture also ticks with the wall clock).
 */
#include "pipeline_priv.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "x509/chain.h"

struct pipeline *pipeline_new(const struct pipeline_config *cfg)
{
    struct pipeline *pl = calloc(1, sizeof(*pl));
    if (!pl)
        return NULL;
    pl->cfg = *cfg;
    memcap_init(&pl->mc, cfg->memcap);
    memcap_pool_enable(&pl->mc, CFG_MEMCAP_POOL_BYTES);
    pl->env.mc = &pl->mc;
    pl->env.st = &pl->st;
    pl->env.keylog = cfg->keylog;
    pl->env.x509 = cfg->x509;
    if (cfg->x509)
        x509_ctx_set_memcap(cfg->x509, &pl->mc);
    pl->env.depth = cfg->depth;
    if (tracker_init(&pl->tr, cfg->max_flows, &pl->env, &pl->st) < 0 ||
        !(pl->frag = frag_new(&pl->mc, cfg->n_shards > 1 && cfg->shard != 0 ? &pl->frag_st
                                                                            : &pl->st))) {
        tracker_free(&pl->tr);
        free(pl);
        return NULL;
    }
    pl->tr.on_report = cfg->on_report;
    pl->tr.report_ctx = cfg->report_ctx;
    pl->tr.on_pressure = cfg->on_pressure;
    pl->tr.pressure_ctx = cfg->pressure_ctx;
    return pl;
}

void pipeline_free(struct pipeline *pl)
{
    if (!pl)
        return;
    tracker_free(&pl->tr);
    frag_free(pl->frag);
    if (pl->cfg.x509)
        x509_ctx_set_memcap(pl->cfg.x509, NULL);   /* the cache outlives this memcap */
    memcap_destroy(&pl->mc);
    free(pl);
}

void pipeline_set_pressure(struct pipeline *pl, pipeline_pressure_fn fn, void *ctx)
{
    pl->cfg.on_pressure = fn;
    pl->cfg.pressure_ctx = ctx;
    pl->tr.on_pressure = fn;
    pl->tr.pressure_ctx = ctx;
}

void pipeline_set_report(struct pipeline *pl, pipeline_report_fn fn, void *ctx)
{
    pl->cfg.on_report = fn;
    pl->cfg.report_ctx = ctx;
    pl->tr.on_report = fn;
    pl->tr.report_ctx = ctx;
}

struct stats *pipeline_stats(struct pipeline *pl)
{
    pl->st.memuse = pl->mc.used;
    pl->st.memuse_peak = pl->mc.peak;
    return &pl->st;
}

uint64_t pipeline_last_ts(const struct pipeline *pl)
{
    return pl->clock.now_us > pl->ts_before_us ? pl->clock.now_us : pl->ts_before_us;
}

static void expire(struct pipeline *pl)
{
    tracker_expire(&pl->tr, pl->clock.now_us);
    frag_expire(pl->frag, pl->clock.now_us);
}

void pipeline_tick(struct pipeline *pl, uint64_t now_us)
{
    expiry_clock_see(&pl->clock, now_us);
    if (pl->cfg.external_sweep || expiry_clock_due(&pl->clock))
        expire(pl);
}

void pipeline_packet(struct pipeline *pl, int dlt, uint64_t ts_us, const uint8_t *data,
                     size_t caplen, size_t wirelen)
{
    struct pkt p;
    pl->st.packets++;
    pl->st.bytes += wirelen;
    pl->env.pkt_ts_us = ts_us;
    expiry_clock_see(&pl->clock, ts_us);

    enum decode_result r = decode_packet(dlt, data, caplen, wirelen, &p, &pl->st);
    if (r == DECODE_FRAGMENT) {
        /* Several workers on one file all see every fragment (dispatch.h):
         * the first counts it, and the owner of the datagram's flow counts
         * what is inside, so the totals are those of one worker. */
        bool sharded = pl->cfg.n_shards > 1;
        if (sharded && pl->cfg.shard != 0) {
            pl->st.packets--;
            pl->st.bytes -= wirelen;
            pl->st.anomalies[STATS_IP_FRAGMENT]--;
        }
        size_t len;
        const uint8_t *dg = frag_add(pl->frag, &p, ts_us, &len);
        if (!dg)
            return;   /* kept, or dropped and counted */
        struct pkt outer = p;
        struct stats scratch;
        memset(&scratch, 0, sizeof(scratch));
        r = decode_ip(&p, dg, len, p.ip_ver, sharded ? &scratch : &pl->st);
        if (sharded && r == DECODE_OK && flow_pick(&p, pl->cfg.n_shards) != pl->cfg.shard)
            return;   /* another worker's flow: it reassembled this datagram too */
        if (sharded && pl->cfg.shard != 0 && r != DECODE_OK)
            return;   /* not a flow's: the first worker counts it */
        if (sharded) {
            p = outer;
            r = decode_ip(&p, dg, len, p.ip_ver, &pl->st);
        }
        if (r == DECODE_FRAGMENT)
            return;   /* a fragment inside a fragment: not followed (counted) */
    }
    if (r != DECODE_OK) {
        if (r == DECODE_SKIP)
            pl->st.packets_other++;
        return;
    }
    p.ts_us = ts_us;
    tracker_relieve(&pl->tr, pl->clock.now_us);
    if (p.proto == IPPROTO_TCP) {
        pl->st.packets_tcp++;
        pl_handle_tcp(pl, &p);
    } else {
        pl->st.packets_udp++;
        pl_handle_udp(pl, &p);
    }
    if (!pl->cfg.external_sweep && expiry_clock_due(&pl->clock))
        expire(pl);
}

void pipeline_flush(struct pipeline *pl)
{
    tracker_flush(&pl->tr);
    frag_flush(pl->frag);
    /* A clock kept at this input's latest time would expire an older
     * input's flows at once. */
    pl->ts_before_us = pipeline_last_ts(pl);
    expiry_clock_restart(&pl->clock);
}
