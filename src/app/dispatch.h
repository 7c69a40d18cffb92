/*
 * dispatch.h - file input with several workers: the reader hands each
 * packet to the worker of its flow.
 *
 * The worker is chosen by a symmetric hash of the addresses and ports (the
 * same for both directions), so a connection is analysed by one worker
 * and a file gives the same connections with any worker count.  Packets
 * that are not TCP/UDP over IP go to worker 0.
 *
 * Packets travel in batches (CFG_WORKER_BATCH_BYTES, copied once) through
 * one bounded queue per worker (struct pktq, CFG_WORKER_QUEUE_BYTES): a
 * full queue makes the reader wait, so nothing is dropped and memory is
 * bounded.  Time: the workers' pipelines do not run their expiry sweeps
 * themselves (pipeline_config.external_sweep); the reader keeps the clock
 * one pipeline reading the whole file would keep and tells every worker
 * when to sweep (PKTQ_TICK), so idle flows end at the same packet as with
 * one worker.
 */
#ifndef PINSCOPE_DISPATCH_H
#define PINSCOPE_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "util/stats.h"

struct pktq;

/* PKTQ_FILE: the packets that follow come from input file number ts_us. */
enum pktq_pop { PKTQ_NONE = 0, PKTQ_PACKET, PKTQ_TICK, PKTQ_FLUSH, PKTQ_FILE, PKTQ_CLOSED };

struct pktq_item {
    int dlt;
    uint64_t ts_us;
    const uint8_t *data;     /* valid until the next pop */
    uint32_t caplen, wirelen;
};

struct pktq *pktq_new(size_t max_bytes);
void pktq_free(struct pktq *q);
/* The next item; PKTQ_NONE after `wait_ms` without one; PKTQ_CLOSED once
 * closed and empty. */
enum pktq_pop pktq_pop(struct pktq *q, struct pktq_item *it, int wait_ms);
void pktq_close(struct pktq *q);

struct dispatch;

struct dispatch *dispatch_new(struct pktq *const *qs, size_t n);
void dispatch_free(struct dispatch *d);
void dispatch_packet(struct dispatch *d, int dlt, uint64_t ts_us, const uint8_t *data,
                     size_t caplen, size_t wirelen);
/* End of one -r input: every worker reports its open flows. */
void dispatch_flush(struct dispatch *d);
/* Every worker: the next packets come from input file number `index`. */
void dispatch_file(struct dispatch *d, size_t index);
/* Send what is batched and close every queue. */
void dispatch_close(struct dispatch *d);
/* Counters of the reader's own decoding (discarded: workers count). */
struct stats *dispatch_stats(struct dispatch *d);

/* The worker for a packet (exported for tests); DISPATCH_ALL for an IP
 * fragment: every worker reassembles it and keeps the datagram if its flow
 * is theirs (pipeline_config.shard). */
#define DISPATCH_ALL ((size_t)-1)
size_t dispatch_pick(int dlt, const uint8_t *data, size_t caplen, size_t wirelen, size_t n,
                     struct stats *scratch);
/* The same through the full decoder only (no header fast path): for a
 * packet the decoder accepts, the two must agree (fuzz_pcap checks it). */
size_t dispatch_pick_decoded(int dlt, const uint8_t *data, size_t caplen, size_t wirelen,
                             size_t n, struct stats *scratch);

#endif
