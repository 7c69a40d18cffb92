/*
 * sets.h - which slots a key may take in a set-associative table.
 *
 * A table of n_slots slots is cut into sets of `ways` consecutive slots,
 * the last one partial when n_slots is not a multiple of ways; a key's
 * hash picks its set.  The caller looks for the key among the set's slots
 * and, on a miss, replaces one of them (the chain cache in x509/chain.c,
 * the certificates' JSON in output/certjson.c: the least recently used).
 */
#ifndef PINSCOPE_SETS_H
#define PINSCOPE_SETS_H

#include <stddef.h>
#include <stdint.h>

/* The slots [first, end) of hash h's set; n_slots and ways > 0. */
struct set_span {
    size_t first, end;
};

static inline struct set_span set_span_of(uint64_t h, size_t n_slots, size_t ways)
{
    size_t n_sets = (n_slots + ways - 1) / ways;
    size_t first = (size_t)(h % n_sets) * ways;
    struct set_span s = { first, first + ways < n_slots ? first + ways : n_slots };
    return s;
}

#endif
