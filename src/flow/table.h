/*
 * table.h - the bidirectional flow table.
 *
 * Keyed by (address, port) pairs + IP version + transport protocol, both
 * directions of a connection map to one struct flow.  The key is stored
 * normalised (lower endpoint first); `side` tells callers which endpoint a
 * packet came from.
 *
 * Container contract:
 *   max entries   ft->max (CFG_FLOW_MAX by default); flow_table_insert()
 *                 refuses beyond it; the caller (tracker.c) evicts first,
 *                 choosing among the least recently active flows.
 *   memory        sizeof(struct flow) per entry + the bucket array
 *                 (power of two >= max); analyzer state hangs off flow->app
 *                 and is accounted by its owner.
 *   order         an LRU list by last packet; flow_table_oldest() is the
 *                 least recently active flow (timeouts and eviction walk it).
 *   hashing       SipHash-1-3 with a key drawn per run (util/hash.h).
 *
 * The table owns the struct flow allocations; it knows nothing of what
 * hangs off flow->app.  flow_table_remove() unlinks and frees only the
 * struct flow; the caller must have released flow->app first.
 */
#ifndef PINSCOPE_FLOW_TABLE_H
#define PINSCOPE_FLOW_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/decode.h"
#include "util/hash.h"

struct flow_key {
    uint8_t addr[2][16];
    uint16_t port[2];
    uint8_t ip_ver;
    uint8_t proto;
    uint8_t pad[2];       /* zeroed: the key is compared as bytes */
    uint32_t zone;        /* the overlay tenant (decode.h pkt.zone), 0 if none */
};

/* What carried a tunnelled flow's first packet (decode.h), for its events. */
struct flow_tunnel {
    struct tunnel_layer outer;          /* the outermost layer */
    uint8_t n;                          /* layers */
    uint8_t first_side;                 /* flow key side that sent the first packet */
    uint8_t kind[DECODE_MAX_TUNNEL];    /* enum tunnel_kind, outermost first */
    bool has_id[DECODE_MAX_TUNNEL];
    uint32_t id[DECODE_MAX_TUNNEL];
};

struct flow {
    struct flow *hnext;                /* bucket chain */
    struct flow *lru_prev, *lru_next;  /* prev = more recent */
    struct flow_key key;
    uint32_t src_slot;                 /* the owner's per-source list (tracker.c) */
    uint64_t hash;
    uint64_t seq;                      /* creation order, 1-based */
    uint64_t first_ts_us, last_ts_us;
    uint64_t pkts[2], bytes[2];        /* per key side */
    void *app;                         /* owned by the pipeline; NULL once a closed TCP
                                          connection has given up its state */
    uint16_t vlan[DECODE_MAX_VLAN];    /* the first packet's 802.1Q/ad ids, outer first */
    uint8_t n_vlan;
    /* What a closed TCP connection keeps while its flow lingers (app
     * NULL): each side's first data sequence number, valid for the sides
     * whose SYN was seen (bit 0: key side 0, bit 1: side 1), which tell a
     * retransmitted SYN from a new connection on the same ports. */
    uint8_t closed_syn;
    uint8_t src_side;                  /* key side of the address src_slot hashes: the
                                          first packet's source (tracker.c) */
    struct flow_tunnel *tun;           /* NULL unless the first packet was tunnelled; owned */
    uint32_t closed_isn1[2];
    struct flow *src_prev, *src_next;  /* that list, in creation order */
};

struct flow_table {
    struct flow **buckets;
    size_t n_buckets;      /* power of two */
    size_t count, max;
    uint64_t next_seq;
    struct hash_key key;
    struct flow *lru_head, *lru_tail;  /* head = most recent */
    struct flow *spare;                /* removed flows kept for reuse, by hnext */
    size_t n_spare;                    /* at most CFG_FLOW_SPARE */
};

/* Create a table for at most `max` flows, hashing with `key`.
 * Returns NULL on allocation failure. */
struct flow_table *flow_table_new(size_t max, const struct hash_key *key);

/* Free the table and every struct flow still in it (app must be released
 * by the caller beforehand, e.g. by draining with flow_table_oldest()). */
void flow_table_free(struct flow_table *ft);

/* Build the normalised key of a packet; *side is 0 if the packet's source
 * is key.addr[0]/port[0], else 1. */
void flow_key_from_pkt(const struct pkt *p, struct flow_key *key, int *side);

/* Which of n workers owns the packet's flow: a symmetric hash of the
 * normalised key (the same for both directions), FNV-1a with a fixed basis,
 * so every reader of one file makes the same choice. */
size_t flow_pick(const struct pkt *p, size_t n);

/* Find the flow for `key` (hash computed here) or NULL. */
struct flow *flow_table_lookup(struct flow_table *ft, const struct flow_key *key);

/* Insert a new flow for `key`.  Returns NULL when the table is full
 * (count == max) or on allocation failure. */
struct flow *flow_table_insert(struct flow_table *ft, const struct flow_key *key,
                               uint64_t ts_us);

/* Mark activity: move to the LRU head and set last_ts_us. */
void flow_table_touch(struct flow_table *ft, struct flow *f, uint64_t ts_us);

/* The least recently active flow, or NULL if empty. */
static inline struct flow *flow_table_oldest(const struct flow_table *ft)
{
    return ft->lru_tail;
}

/* Unlink and free one flow. */
void flow_table_remove(struct flow_table *ft, struct flow *f);

#endif
