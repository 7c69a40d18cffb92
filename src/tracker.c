/*
 * tracker.c - one worker's flows (see tracker.h).
 */
#include "tracker.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"

int tracker_init(struct tracker *t, size_t max_flows, struct conn_env *env, struct stats *st)
{
    memset(t, 0, sizeof(*t));
    struct hash_key key;
    hash_random_key(&key);
    t->ft = flow_table_new(max_flows, &key);
    t->env = env;
    t->st = st;
    return t->ft ? 0 : -1;
}

void tracker_free(struct tracker *t)
{
    if (!t->ft)
        return;
    tracker_flush(t);
    flow_table_free(t->ft);
    t->ft = NULL;
}

void tracker_finish(struct tracker *t, struct flow *f, struct conn *c, enum ev_end end)
{
    /* TLS records started but no hello ever completed: nothing to report
     * as a connection, but not silently either. */
    if (!c->done && !tls_session_is_tls(&c->tls) &&
        (c->tls.d[0].mode == TLS_DIR_RECORDS || c->tls.d[1].mode == TLS_DIR_RECORDS))
        stats_anomaly(t->st, STATS_TLS_HELLO_INCOMPLETE);
    if (!c->emitted && tls_session_is_tls(&c->tls)) {
        struct conn_report r;
        conn_report_fill(c, f, end, &r);
        if (t->on_report)
            t->on_report(t->report_ctx, &r);
        c->emitted = true;
        t->st->flows_tls++;
        if (c->transport == FP_TRANSPORT_QUIC)
            t->st->flows_quic++;
        else if (c->transport == FP_TRANSPORT_DTLS)
            t->st->flows_dtls++;
        if (c->tls.progress == TLS_PROGRESS_COMPLETE)
            t->st->tls_complete++;
        if (c->tls.tunnel != TLS_TUNNEL_NONE)
            t->st->tls_tunnelled++;
    }
    if (!c->done)
        conn_release_analysis(t->env, c);
}

void tracker_remove(struct tracker *t, struct flow *f, enum ev_end end)
{
    if (t->last_flow == f)
        t->last_flow = NULL;
    struct conn *c = f->app;
    if (c) {
        tracker_finish(t, f, c, end);
        conn_free(t->env, c);
        f->app = NULL;
    }
    flow_table_remove(t->ft, f);
}

struct flow *tracker_lookup(struct tracker *t, const struct flow_key *key)
{
    struct flow *f = t->last_flow;
    if (!f || memcmp(&f->key, key, sizeof(*key)) != 0)
        f = flow_table_lookup(t->ft, key);
    return f;
}

void tracker_seen(struct tracker *t, struct flow *f, int side, const struct pkt *p)
{
    t->last_flow = f;
    flow_table_touch(t->ft, f, p->ts_us);
    f->pkts[side]++;
    f->bytes[side] += p->wirelen;
}

struct flow *tracker_create(struct tracker *t, const struct flow_key *key, struct conn *c,
                            const struct pkt *p)
{
    if (t->ft->count >= t->ft->max) {
        stats_cap(t->st, STATS_FLOW_TABLE_FULL);
        size_t n = t->ft->max * CFG_FLOW_EVICT_PERCENT / 100;
        if (n == 0)
            n = 1;
        while (n-- > 0 && flow_table_oldest(t->ft)) {
            stats_cap(t->st, STATS_FLOW_EVICTED);
            tracker_remove(t, flow_table_oldest(t->ft), EV_END_EVICTED);
        }
    }
    struct flow *f = flow_table_insert(t->ft, key, p->ts_us);
    if (!f) {
        conn_free(t->env, c);
        stats_cap(t->st, STATS_FLOW_TABLE_FULL);
        return NULL;
    }
    f->app = c;
    f->n_vlan = p->n_vlan;
    memcpy(f->vlan, p->vlan, sizeof(f->vlan));
    t->st->flows++;
    return f;
}

static uint64_t flow_timeout_us(const struct flow *f)
{
    const struct conn *c = f->app;
    uint64_t s;
    if (!c || c->closed)
        s = CFG_FLOW_TIMEOUT_CLOSED;
    else if (!c->done && tls_session_is_tls(&c->tls))
        s = CFG_FLOW_TIMEOUT_EST;
    else
        s = CFG_FLOW_TIMEOUT_NEW;
    return s * 1000000ULL;
}

void tracker_expire(struct tracker *t, uint64_t now)
{
    const uint64_t min_us = (uint64_t)CFG_FLOW_TIMEOUT_CLOSED * 1000000ULL;
    unsigned examined = 0;
    struct flow *f = flow_table_oldest(t->ft);
    while (f && examined < CFG_FLOW_EXPIRE_BATCH) {
        struct flow *newer = f->lru_prev;
        uint64_t idle = now > f->last_ts_us ? now - f->last_ts_us : 0;
        if (idle < min_us)
            break;   /* everything newer is younger still */
        if (idle >= flow_timeout_us(f)) {
            const struct conn *c = f->app;
            tracker_remove(t, f, c && c->closed ? EV_END_FIN : EV_END_TIMEOUT);
        } else {
            examined++;
        }
        f = newer;
    }
}

static int cmp_seq(const void *a, const void *b)
{
    const struct flow *fa = *(struct flow *const *)a, *fb = *(struct flow *const *)b;
    return fa->seq < fb->seq ? -1 : fa->seq > fb->seq;
}

void tracker_flush(struct tracker *t)
{
    size_t n = t->ft->count, i = 0;
    struct flow **all = n ? malloc(n * sizeof(*all)) : NULL;
    if (n && !all) {
        /* No memory to sort: flush in LRU order rather than lose events. */
        while (flow_table_oldest(t->ft))
            tracker_remove(t, flow_table_oldest(t->ft), EV_END_EOF);
        return;
    }
    for (struct flow *f = t->ft->lru_head; f && i < n; f = f->lru_next)
        all[i++] = f;
    if (i > 1)
        qsort(all, i, sizeof(*all), cmp_seq);
    for (size_t k = 0; k < i; k++) {
        const struct conn *c = all[k]->app;
        tracker_remove(t, all[k], c && c->closed ? EV_END_FIN : EV_END_EOF);
    }
    free(all);
}

