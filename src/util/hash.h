/*
 * hash.h - keyed hashing for tables that hold attacker-chosen keys.
 *
 * SipHash-2-4 (Aumasson, Bernstein 2012) over a byte string with a 128-bit
 * key.  Tables draw their key once per run (hash_random_key) so that flow
 * hashes cannot be predicted from outside.  hash_fixed_key() gives a
 * constant key for values that must be reproducible across runs, such as
 * flow_id under --deterministic.
 */
#ifndef PINSCOPE_HASH_H
#define PINSCOPE_HASH_H

#include <stddef.h>
#include <stdint.h>

struct hash_key {
    uint64_t k0, k1;
};

uint64_t hash_siphash(const struct hash_key *key, const void *data, size_t len);

/* Fill `key` from the system's random source (getrandom); falls back to
 * time and pid mixing if that fails. */
void hash_random_key(struct hash_key *key);

void hash_fixed_key(struct hash_key *key);

#endif
