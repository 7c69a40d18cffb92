/*
 * frag.h - IPv4 and IPv6 fragment reassembly (RFC 791, RFC 8200 4.5), one
 * table per pipeline.
 *
 * decode_packet() returns DECODE_FRAGMENT with pkt.frag describing a
 * fragment; frag_add() keeps it and, when it completes its datagram,
 * returns the datagram (a rebuilt IP header and the whole payload) for
 * decode_ip() to read as if it had arrived in one piece.
 *
 * Container contract:
 *   datagrams  at most CFG_FRAG_MAX_DATAGRAMS in reassembly; one more evicts
 *              the oldest (caps.frag_evicted)
 *   memory     every buffer is charged to the pipeline's memcap, and
 *              datagrams in reassembly hold at most CFG_FRAG_MEMCAP_PERCENT
 *              of it: beyond, the oldest are evicted (caps.frag_evicted), so
 *              a flood of fragments that never complete cannot starve the
 *              flows; a fragment that still does not fit drops its datagram
 *              (caps.memcap)
 *   pieces     at most CFG_FRAG_MAX_PIECES separate ranges per datagram
 *              (caps.frag_pieces: the datagram is dropped)
 *   time       a datagram still incomplete CFG_FRAG_TIMEOUT seconds (packet
 *              time) after its first fragment is dropped (anomalies.frag_timeout);
 *              one still incomplete when its input ends is dropped then
 *   size       payload beyond 65,535 bytes drops the datagram
 *              (anomalies.frag_too_large)
 *
 * Overlaps: the first copy of a byte wins, as in TCP reassembly; a later
 * copy with other bytes is counted (anomalies.frag_overlap_conflict).
 * Attacks (RFC 1858, RFC 3128, RFC 7112): a TCP fragment at offset 8 (it
 * would rewrite the header's flags), a first fragment too short to hold the
 * transport header, an IPv6 fragment whose first one lacks the upper-layer
 * header: the datagram is dropped and counted (anomalies.frag_attack).
 */
#ifndef PINSCOPE_REASM_FRAG_H
#define PINSCOPE_REASM_FRAG_H

#include <stddef.h>
#include <stdint.h>

#include "decode/decode.h"
#include "util/memcap.h"
#include "util/stats.h"

struct frag_table;

/* NULL when out of memory. */
struct frag_table *frag_new(struct memcap *mc, struct stats *st);
void frag_free(struct frag_table *t);

/* Keep the fragment `p` (decode result DECODE_FRAGMENT) seen at now_us.
 * Returns the reassembled datagram when this fragment completes one (*len
 * bytes, valid until the next call), else NULL. */
const uint8_t *frag_add(struct frag_table *t, const struct pkt *p, uint64_t now_us,
                        size_t *len);

/* Drop datagrams whose time is up at now_us. */
void frag_expire(struct frag_table *t, uint64_t now_us);

/* The input ended: drop every datagram still incomplete (no fragment of
 * a later input completes it); not counted, as at the end of the run. */
void frag_flush(struct frag_table *t);

#endif
