/*
 * dispatch.c - reader -> worker queues (see dispatch.h).
 *
 * A batch is one allocation: a header and packet records, each
 *   struct rec { kind, dlt, caplen, wirelen, ts_us } + caplen bytes,
 * padded to 8 bytes.  The queue is a mutex and two condition variables
 * over a list of full batches; used batches go back on a free list, so in
 * a steady state nothing is allocated.
 */
#include "app/dispatch.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include <pcap/dlt.h>
#include "decode/decode.h"
#include "flow/table.h"
#include "pipeline.h"
#include "util/hash.h"
#include "util/rd.h"

enum rec_kind { REC_PACKET = 1, REC_TICK, REC_FLUSH, REC_FILE };

struct rec {
    uint32_t kind;
    int32_t dlt;
    uint32_t caplen, wirelen;
    uint64_t ts_us;
};

struct batch {
    struct batch *next;
    size_t cap, len, pos;     /* bytes of data[]: capacity, filled, read */
    _Alignas(8) uint8_t data[];
};

struct pktq {
    pthread_mutex_t mu;
    pthread_cond_t can_pop, can_push;
    struct batch *head, *tail;
    size_t bytes, max_bytes;
    bool closed;
    struct batch *free_list;   /* standard-size batches for reuse */
    struct batch *cur;         /* consumer's batch being read */
};

static struct batch *batch_new(size_t cap)
{
    struct batch *b = malloc(sizeof(*b) + cap);
    if (b) {
        b->next = NULL;
        b->cap = cap;
        b->len = b->pos = 0;
    }
    return b;
}

struct pktq *pktq_new(size_t max_bytes)
{
    struct pktq *q = calloc(1, sizeof(*q));
    if (!q)
        return NULL;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->can_pop, NULL);
    pthread_cond_init(&q->can_push, NULL);
    q->max_bytes = max_bytes;
    return q;
}

static void free_list(struct batch *b)
{
    while (b) {
        struct batch *n = b->next;
        free(b);
        b = n;
    }
}

void pktq_free(struct pktq *q)
{
    if (!q)
        return;
    free_list(q->head);
    free_list(q->free_list);
    free(q->cur);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->can_pop);
    pthread_cond_destroy(&q->can_push);
    free(q);
}

/* Producer: append a full batch, waiting while the queue is over its
 * bound (one batch always fits, so a huge packet cannot wedge it). */
static void pktq_push(struct pktq *q, struct batch *b)
{
    pthread_mutex_lock(&q->mu);
    while (q->bytes > 0 && q->bytes + b->len > q->max_bytes)
        pthread_cond_wait(&q->can_push, &q->mu);
    b->next = NULL;
    if (q->tail)
        q->tail->next = b;
    else
        q->head = b;
    q->tail = b;
    q->bytes += b->len;
    pthread_cond_signal(&q->can_pop);
    pthread_mutex_unlock(&q->mu);
}

/* Producer: a batch from the free list, or a new one. */
static struct batch *pktq_take_free(struct pktq *q, size_t need)
{
    struct batch *b = NULL;
    if (need <= CFG_WORKER_BATCH_BYTES) {
        pthread_mutex_lock(&q->mu);
        b = q->free_list;
        if (b)
            q->free_list = b->next;
        pthread_mutex_unlock(&q->mu);
    }
    if (!b)
        b = batch_new(need > CFG_WORKER_BATCH_BYTES ? need : CFG_WORKER_BATCH_BYTES);
    if (b) {
        b->len = b->pos = 0;
        b->next = NULL;
    }
    return b;
}

void pktq_close(struct pktq *q)
{
    pthread_mutex_lock(&q->mu);
    q->closed = true;
    pthread_cond_broadcast(&q->can_pop);
    pthread_mutex_unlock(&q->mu);
}

/* Consumer: the batch just read goes back for reuse. */
static void recycle(struct pktq *q, struct batch *b)
{
    pthread_mutex_lock(&q->mu);
    if (b->cap == CFG_WORKER_BATCH_BYTES) {
        b->next = q->free_list;
        q->free_list = b;
        b = NULL;
    }
    pthread_mutex_unlock(&q->mu);
    free(b);
}

enum pktq_pop pktq_pop(struct pktq *q, struct pktq_item *it, int wait_ms)
{
    if (q->cur && q->cur->pos >= q->cur->len) {
        recycle(q, q->cur);
        q->cur = NULL;
    }
    if (!q->cur) {
        pthread_mutex_lock(&q->mu);
        if (!q->head && !q->closed && wait_ms > 0) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += (long)wait_ms * 1000000L;
            ts.tv_sec += ts.tv_nsec / 1000000000L;
            ts.tv_nsec %= 1000000000L;
            while (!q->head && !q->closed)
                if (pthread_cond_timedwait(&q->can_pop, &q->mu, &ts) == ETIMEDOUT)
                    break;
        }
        struct batch *b = q->head;
        if (b) {
            q->head = b->next;
            if (!q->head)
                q->tail = NULL;
            q->bytes -= b->len;
            pthread_cond_signal(&q->can_push);
        }
        bool closed = q->closed;
        pthread_mutex_unlock(&q->mu);
        if (!b)
            return closed ? PKTQ_CLOSED : PKTQ_NONE;
        q->cur = b;
    }
    struct batch *b = q->cur;
    const struct rec *r = (const struct rec *)(b->data + b->pos);
    it->dlt = r->dlt;
    it->ts_us = r->ts_us;
    it->caplen = r->caplen;
    it->wirelen = r->wirelen;
    it->data = (const uint8_t *)(r + 1);
    b->pos += (sizeof(*r) + r->caplen + 7) & ~(size_t)7;
    switch (r->kind) {
    case REC_PACKET: return PKTQ_PACKET;
    case REC_TICK: return PKTQ_TICK;
    case REC_FILE: return PKTQ_FILE;
    default: return PKTQ_FLUSH;
    }
}

/* ---- the reader's side --------------------------------------------------- */

struct dispatch {
    size_t n;
    struct pktq **qs;          /* per worker (copied; the queues are not owned) */
    struct batch **open;       /* per worker: the batch being filled */
    struct expiry_clock clock;        /* the clock one pipeline would keep */
    struct hash_key key;
    struct stats scratch;      /* decoding to pick a worker (workers count) */
    struct stats own;          /* the reader's counters */
};

struct dispatch *dispatch_new(struct pktq *const *qs, size_t n)
{
    struct dispatch *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->open = calloc(n, sizeof(*d->open));
    d->qs = calloc(n, sizeof(*d->qs));
    if (!d->open || !d->qs) {
        free(d->open);
        free(d->qs);
        free(d);
        return NULL;
    }
    d->n = n;
    memcpy(d->qs, qs, n * sizeof(*qs));
    return d;
}

void dispatch_free(struct dispatch *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        free(d->open[i]);
    free(d->open);
    free(d->qs);
    free(d);
}

struct stats *dispatch_stats(struct dispatch *d)
{
    return &d->own;
}

/* Append one record to worker i's batch, handing the batch over when it
 * is full.  Out of memory: the record is lost and counted. */
static void put(struct dispatch *d, size_t i, uint32_t kind, int dlt, uint64_t ts_us,
                const uint8_t *data, size_t caplen, size_t wirelen)
{
    size_t need = (sizeof(struct rec) + caplen + 7) & ~(size_t)7;
    struct batch *b = d->open[i];
    if (b && need > b->cap - b->len) {
        pktq_push(d->qs[i], b);
        b = d->open[i] = NULL;
    }
    if (!b) {
        b = d->open[i] = pktq_take_free(d->qs[i], need);
        if (!b) {
            stats_cap(&d->own, STATS_MEMCAP);
            return;
        }
    }
    struct rec *r = (struct rec *)(b->data + b->len);
    r->kind = kind;
    r->dlt = dlt;
    r->caplen = (uint32_t)caplen;
    r->wirelen = (uint32_t)wirelen;
    r->ts_us = ts_us;
    if (caplen)
        memcpy(r + 1, data, caplen);
    b->len += need;
}

/* The endpoints of an Ethernet (VLAN-tagged or not) IPv4/IPv6 TCP/UDP
 * packet read straight from the header bytes, for the common case; false
 * sends the packet through the full decoder.  Only packets the full
 * decoder reads the same way are taken: IPv4 fragments, IPv6
 * extension headers, tunnels and every other link type fall back. */
static bool fast_endpoints(int dlt, const uint8_t *d, size_t n, struct pkt *p)
{
    if (dlt != DLT_EN10MB || n < 14)
        return false;
    size_t off = 12;
    unsigned type = rd_load_be16(d + off);
    for (int tags = 0; (type == 0x8100 || type == 0x88a8 || type == 0x9100) && tags < 4; tags++) {
        off += 4;
        if (off + 2 > n)
            return false;
        type = rd_load_be16(d + off);
    }
    off += 2;
    const uint8_t *ip = d + off;
    size_t left = n - off, l4;
    memset(p->src, 0, sizeof(p->src));
    memset(p->dst, 0, sizeof(p->dst));
    if (type == 0x0800) {
        if (left < 20 || ip[0] >> 4 != 4 || (ip[6] & 0x3f) || ip[7])
            return false;   /* short, not v4, or a fragment (MF or an offset) */
        l4 = (size_t)(ip[0] & 0x0f) * 4;
        if (l4 < 20)
            return false;
        p->ip_ver = 4;
        p->proto = ip[9];
        memcpy(p->src, ip + 12, 4);
        memcpy(p->dst, ip + 16, 4);
    } else if (type == 0x86dd) {
        if (left < 40 || ip[0] >> 4 != 6)
            return false;
        l4 = 40;
        p->ip_ver = 6;
        p->proto = ip[6];
        memcpy(p->src, ip + 8, 16);
        memcpy(p->dst, ip + 24, 16);
    } else {
        return false;
    }
    if ((p->proto != 6 && p->proto != 17) || left < l4 + 4)
        return false;
    p->sport = rd_load_be16(ip + l4);
    p->dport = rd_load_be16(ip + l4 + 2);
    if (p->proto == 17 && decode_tunnel_port(p->dport))
        return false;   /* maybe a tunnel: the flow is the one inside */
    return true;
}

size_t dispatch_pick(int dlt, const uint8_t *data, size_t caplen, size_t wirelen, size_t n,
                     struct stats *scratch)
{
    if (n <= 1)
        return 0;
    struct pkt p;
    if (fast_endpoints(dlt, data, caplen, &p))
        return flow_pick(&p, n);
    return dispatch_pick_decoded(dlt, data, caplen, wirelen, n, scratch);
}

size_t dispatch_pick_decoded(int dlt, const uint8_t *data, size_t caplen, size_t wirelen,
                             size_t n, struct stats *scratch)
{
    struct pkt p;
    if (n <= 1)
        return 0;
    enum decode_result r = decode_packet(dlt, data, caplen, wirelen, &p, scratch);
    if (r == DECODE_FRAGMENT)
        return DISPATCH_ALL;   /* whose it is shows once it is whole */
    return r == DECODE_OK ? flow_pick(&p, n) : 0;
}

void dispatch_packet(struct dispatch *d, int dlt, uint64_t ts_us, const uint8_t *data,
                     size_t caplen, size_t wirelen)
{
    size_t w = dispatch_pick(dlt, data, caplen, wirelen, d->n, &d->scratch);
    if (w == DISPATCH_ALL)
        for (size_t i = 0; i < d->n; i++)
            put(d, i, REC_PACKET, dlt, ts_us, data, caplen, wirelen);
    else
        put(d, w, REC_PACKET, dlt, ts_us, data, caplen, wirelen);
    /* The workers' pipelines do not sweep by themselves: the reader sees
     * every packet in order and tells all of them to expire idle flows
     * exactly when one pipeline reading the whole file would (after the
     * packet that moves the clock past the next sweep time). */
    expiry_clock_see(&d->clock, ts_us);
    if (expiry_clock_due(&d->clock))
        for (size_t i = 0; i < d->n; i++)
            put(d, i, REC_TICK, 0, d->clock.now_us, NULL, 0, 0);
}

void dispatch_flush(struct dispatch *d)
{
    for (size_t i = 0; i < d->n; i++)
        put(d, i, REC_FLUSH, 0, 0, NULL, 0, 0);
    expiry_clock_restart(&d->clock);   /* as the workers' (pipeline_flush) */
}

void dispatch_file(struct dispatch *d, size_t index)
{
    for (size_t i = 0; i < d->n; i++)
        put(d, i, REC_FILE, 0, index, NULL, 0, 0);
}

void dispatch_close(struct dispatch *d)
{
    for (size_t i = 0; i < d->n; i++) {
        if (d->open[i] && d->open[i]->len)
            pktq_push(d->qs[i], d->open[i]);
        else
            free(d->open[i]);
        d->open[i] = NULL;
        pktq_close(d->qs[i]);
    }
}
