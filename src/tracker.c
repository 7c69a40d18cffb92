/*
 * tracker.c - one worker's flows (see tracker.h).
 */
#include "tracker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "x509/chain.h"

_Static_assert((CFG_SOURCE_SLOTS & (CFG_SOURCE_SLOTS - 1)) == 0,
               "CFG_SOURCE_SLOTS is a power of two");

int tracker_init(struct tracker *t, size_t max_flows, struct conn_env *env, struct stats *st)
{
    memset(t, 0, sizeof(*t));
    struct hash_key key;
    hash_random_key(&key);
    t->ft = flow_table_new(max_flows, &key);
    t->src = calloc(CFG_SOURCE_SLOTS, sizeof(*t->src));
    t->env = env;
    t->st = st;
    if (!t->ft || !t->src) {
        flow_table_free(t->ft);
        free(t->src);
        memset(t, 0, sizeof(*t));
        return -1;
    }
    return 0;
}

void tracker_free(struct tracker *t)
{
    if (!t->ft)
        return;
    tracker_flush(t);
    flow_table_free(t->ft);
    t->ft = NULL;
    free(t->src);
    t->src = NULL;
}

static struct conn *conn_of(struct flow *f)
{
    return f->app;
}

void tracker_finish(struct tracker *t, struct flow *f, struct conn *c, enum ev_end end)
{
    /* TLS records started but no hello ever completed: nothing to report
     * as a connection, but not silently either. */
    if (c->done)
        return;   /* reported (or not TLS) and released already */
    if (c->waiting) {
        if (c->wait_prev)
            conn_of(c->wait_prev)->wait_next = c->wait_next;
        else
            t->wait_head = c->wait_next;
        if (c->wait_next)
            conn_of(c->wait_next)->wait_prev = c->wait_prev;
        else
            t->wait_tail = c->wait_prev;
        c->wait_prev = c->wait_next = NULL;
        c->waiting = false;
    }
    if (c->tls->post.watching)
        end = EV_END_HANDSHAKE;   /* it completed; the wait only delayed the report */
    if (!tls_session_is_tls(c->tls) &&
        (c->tls->d[0].mode == TLS_DIR_RECORDS || c->tls->d[1].mode == TLS_DIR_RECORDS))
        stats_anomaly(t->st, STATS_TLS_HELLO_INCOMPLETE);
    if (!c->emitted && tls_session_is_tls(c->tls)) {
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
        if (c->tls->progress == TLS_PROGRESS_COMPLETE)
            t->st->tls_complete++;
        if (c->tls->tunnel != TLS_TUNNEL_NONE)
            t->st->tls_tunnelled++;
    }
    conn_release_analysis(t->env, c);
}

void tracker_wait(struct tracker *t, struct flow *f)
{
    struct conn *c = f->app;
    if (c->waiting || c->done)
        return;
    c->waiting = true;
    c->tls->post.counted = true;
    for (int i = 0; i < 2; i++) {   /* the report's counters stay those at completion */
        c->tls->post.pkts[i] = f->pkts[i];
        c->tls->post.bytes[i] = f->bytes[i];
    }
    c->wait_next = NULL;
    c->wait_prev = t->wait_tail;
    if (t->wait_tail)
        conn_of(t->wait_tail)->wait_next = f;
    else
        t->wait_head = f;
    t->wait_tail = f;
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
    struct tracker_source *src = &t->src[f->src_slot];
    if (f->src_prev)
        f->src_prev->src_next = f->src_next;
    else
        src->head = f->src_next;
    if (f->src_next)
        f->src_next->src_prev = f->src_prev;
    else
        src->tail = f->src_prev;
    src->count--;
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

/* ---- pressure ------------------------------------------------------------ */

static bool over(size_t used, size_t cap, unsigned percent)
{
    return (uint64_t)used * 100 > (uint64_t)cap * percent;
}

static bool over_mark(const struct tracker *t, unsigned percent)
{
    const struct memcap *mc = t->env->mc;
    return over(mc->used, mc->cap, percent) || over(t->ft->count, t->ft->max, percent);
}

/* What evicting f loses, 0 (nothing) to 3 (a handshake in progress);
 * see tracker.h. */
static unsigned evict_class(const struct flow *f, uint64_t now)
{
    const struct conn *c = f->app;
    if (!c || c->done)
        return 0;
    if (c->transport == FP_TRANSPORT_TCP && !c->rs[0] && !c->rs[1])
        return 1;
    if (now >= f->last_ts_us + (uint64_t)CFG_PRESSURE_STALL_S * 1000000ULL)
        return 2;
    return 3;
}

/* The source with the most flows, when it holds more than its share. */
static struct tracker_source *hog(const struct tracker *t)
{
    struct tracker_source *s = &t->src[t->top_src];
    if (s->count >= CFG_SOURCE_SHARE_MIN &&
        (uint64_t)s->count * 100 > (uint64_t)t->ft->count * CFG_SOURCE_SHARE_PERCENT)
        return s;
    return NULL;
}

static void pressure_change(struct tracker *t, bool on, uint64_t now)
{
    t->pressure = on;
    char reason[160] = "";
    if (on) {
        const struct memcap *mc = t->env->mc;
        stats_cap(t->st, STATS_PRESSURE);
        t->episode_evicted = 0;
        t->last_evict_us = now;
        if (over(mc->used, mc->cap, CFG_PRESSURE_LOW_PERCENT))
            snprintf(reason, sizeof(reason),
                     "memory pressure: memcap %u%% full (%zu of %zu bytes): evicting "
                     "connections in progress", (unsigned)((uint64_t)mc->used * 100 / mc->cap), mc->used,
                     mc->cap);
        else
            snprintf(reason, sizeof(reason),
                     "memory pressure: flow table %u%% full (%zu of %zu flows): evicting "
                     "connections in progress", (unsigned)((uint64_t)t->ft->count * 100 / t->ft->max),
                     t->ft->count, t->ft->max);
    }
    if (t->on_pressure) {
        struct tracker_pressure p = {
            .on = on,
            .ts_us = now,
            .reason = on ? reason : NULL,
            .evicted = t->episode_evicted,
        };
        t->on_pressure(t->pressure_ctx, &p);
    }
}

static bool same_source(const struct flow *a, const struct flow *b)
{
    return a->key.ip_ver == b->key.ip_ver && a->key.zone == b->key.zone &&
           memcmp(a->key.addr[a->src_side], b->key.addr[b->src_side], 16) == 0;
}

/* The hog's flow to evict.  A slot is a hash of the source address, so
 * real clients may share the hog's: the flooder is the address most of
 * the slot's newest CFG_PRESSURE_SCAN flows come from (Boyer-Moore vote),
 * and its oldest flow goes: the oldest of the slot's first
 * CFG_PRESSURE_SCAN, else the oldest of the newest it voted with. */
static struct flow *hog_victim(const struct tracker_source *h)
{
    const struct flow *cand = NULL;
    unsigned votes = 0, n = 0;
    for (const struct flow *f = h->tail; f && n < CFG_PRESSURE_SCAN; f = f->src_prev, n++) {
        if (votes == 0) {
            cand = f;
            votes = 1;
        } else if (same_source(f, cand)) {
            votes++;
        } else {
            votes--;
        }
    }
    if (!cand)
        return h->head;
    n = 0;
    for (struct flow *f = h->head; f && n < CFG_PRESSURE_SCAN; f = f->src_next, n++)
        if (same_source(f, cand))
            return f;
    struct flow *oldest = NULL;
    n = 0;
    for (struct flow *f = h->tail; f && n < CFG_PRESSURE_SCAN; f = f->src_prev, n++)
        if (same_source(f, cand))
            oldest = f;
    return oldest;   /* cand itself at least */
}

/* Evict the flow whose loss costs least (tracker.h); false when the table
 * is empty. */
static bool evict_one(struct tracker *t, uint64_t now)
{
    struct flow *best = NULL;
    unsigned best_cls = ~0u, n = 0;
    for (struct flow *f = flow_table_oldest(t->ft); f && n < CFG_PRESSURE_SCAN;
         f = f->lru_prev, n++) {
        unsigned cls = evict_class(f, now);
        if (cls < best_cls) {
            best = f;
            best_cls = cls;
            if (cls == 0)
                break;
        }
    }
    if (!best)
        return false;
    struct tracker_source *h;
    if (best_cls >= 2 && (h = hog(t)) != NULL)
        best = hog_victim(h);
    if (best_cls == 0) {
        /* Its event is written: dropping it early loses nothing. */
        stats_cap(t->st, STATS_FLOW_RECLAIMED);
    } else {
        if (!t->pressure)
            pressure_change(t, true, now);
        stats_cap(t->st, STATS_FLOW_EVICTED);
        t->last_evict_us = now;
        t->episode_evicted++;
    }
    tracker_remove(t, best, EV_END_EVICTED);
    return true;
}

void tracker_relieve(struct tracker *t, uint64_t now)
{
    if (!t->draining && !t->pressure && !over_mark(t, CFG_PRESSURE_HIGH_PERCENT))
        return;   /* the common case: two comparisons */
    if (!t->draining && over_mark(t, CFG_PRESSURE_HIGH_PERCENT))
        t->draining = true;
    if (t->draining) {
        /* Cached certificates no chain holds go first: losing one costs a
         * decode on a later visit, not a connection. */
        const struct memcap *mc = t->env->mc;
        while (t->env->x509 && over(mc->used, mc->cap, CFG_PRESSURE_LOW_PERCENT) &&
               x509_ctx_drop_unused(t->env->x509))
            ;
        for (unsigned n = 0; n < CFG_PRESSURE_BATCH && over_mark(t, CFG_PRESSURE_LOW_PERCENT);
             n++)
            if (!evict_one(t, now))
                break;
        if (!over_mark(t, CFG_PRESSURE_LOW_PERCENT) || t->ft->count == 0)
            t->draining = false;
    }
    if (t->pressure && !t->draining &&
        now >= t->last_evict_us + (uint64_t)CFG_PRESSURE_CALM_S * 1000000ULL)
        pressure_change(t, false, now);
}

/* ---- flows ----------------------------------------------------------------- */

struct flow *tracker_create(struct tracker *t, const struct flow_key *key, struct conn *c,
                            const struct pkt *p)
{
    if (t->ft->count >= t->ft->max) {
        stats_cap(t->st, STATS_FLOW_TABLE_FULL);
        evict_one(t, p->ts_us);
    }
    struct flow *f = flow_table_insert(t->ft, key, p->ts_us);
    if (!f) {
        conn_free(t->env, c);
        stats_cap(t->st, STATS_FLOW_TABLE_FULL);
        return NULL;
    }
    /* The key side the first packet came from: its source opened the flow. */
    uint8_t side = memcmp(p->src, key->addr[0], 16) == 0 && p->sport == key->port[0] ? 0 : 1;
    f->app = c;
    f->n_vlan = p->n_vlan;
    memcpy(f->vlan, p->vlan, sizeof(f->vlan));
    if (p->n_tun && (f->tun = malloc(sizeof(*f->tun)))) {
        f->tun->outer = p->tun[0];
        f->tun->n = p->n_tun;
        f->tun->first_side = side;
        for (unsigned i = 0; i < p->n_tun; i++) {
            f->tun->kind[i] = p->tun[i].kind;
            f->tun->has_id[i] = p->tun[i].has_id;
            f->tun->id[i] = p->tun[i].id;
        }
    }
    size_t alen = p->ip_ver == 4 ? 4 : 16;
    f->src_side = side;
    f->src_slot = (uint32_t)(hash_siphash(&t->ft->key, p->src, alen) & (CFG_SOURCE_SLOTS - 1));
    struct tracker_source *src = &t->src[f->src_slot];
    f->src_prev = src->tail;
    f->src_next = NULL;
    if (src->tail)
        src->tail->src_next = f;
    else
        src->head = f;
    src->tail = f;
    if (++src->count > t->src[t->top_src].count)
        t->top_src = f->src_slot;
    t->st->flows++;
    return f;
}

static uint64_t flow_timeout_us(const struct flow *f)
{
    const struct conn *c = f->app;
    uint64_t s;
    if (!c)   /* a closed TCP connection (pipeline_tcp.c) */
        s = CFG_FLOW_TIMEOUT_CLOSED;
    else if (!c->done && tls_session_is_tls(c->tls))
        s = CFG_FLOW_TIMEOUT_EST;
    else
        s = CFG_FLOW_TIMEOUT_NEW;
    return s * 1000000ULL;
}

void tracker_expire(struct tracker *t, uint64_t now)
{
    /* Waits started in packet-time order: the overdue ones are in front. */
    while (t->wait_head) {
        struct flow *f = t->wait_head;
        struct conn *c = f->app;
        if (now <= c->tls->post.start_us + CFG_TLS_LINGER_MS * 1000ULL)
            break;
        tracker_finish(t, f, c, EV_END_HANDSHAKE);
    }
    const uint64_t min_us = (uint64_t)CFG_FLOW_TIMEOUT_CLOSED * 1000000ULL;
    unsigned examined = 0;
    struct flow *f = flow_table_oldest(t->ft);
    while (f && examined < CFG_FLOW_EXPIRE_BATCH) {
        struct flow *newer = f->lru_prev;
        uint64_t idle = now > f->last_ts_us ? now - f->last_ts_us : 0;
        if (idle < min_us)
            break;   /* everything newer is younger still */
        if (idle >= flow_timeout_us(f)) {
            tracker_remove(t, f, f->app ? EV_END_TIMEOUT : EV_END_FIN);
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
        tracker_remove(t, all[k], all[k]->app ? EV_END_EOF : EV_END_FIN);
    }
    free(all);
}

