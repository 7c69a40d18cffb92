/*
 * hash.h - keyed hashing for tables that hold attacker-chosen keys.
 *
 * SipHash-2-4 (Aumasson, Bernstein 2012) over a byte string with a 128-bit
 * key.  Tables draw their key once per run (hash_random_key) so that flow
 * hashes cannot be predicted from outside.  hash_fixed_key() gives a
 * constant key for values that must be reproducible across runs, such as
 * flow_id under --deterministic.
 *
 * hash_fast() is a seeded 64-bit hash of the wyhash family (final version
 * 4, default secret: 64x64->128-bit multiply-and-fold over 48-byte
 * blocks), several times cheaper than SipHash on kilobyte inputs.  It is
 * not a PRF: use it only where equality is decided by comparing the bytes
 * themselves and the table bounds its bucket chains, so that inputs
 * chosen to collide cost a bounded walk, never a wrong answer (see the
 * certificate cache in x509/chain.c).  Keys that decide anything by hash
 * alone, or short keys in tables without a bound, keep SipHash.
 */
#ifndef PINSCOPE_HASH_H
#define PINSCOPE_HASH_H

#include <stddef.h>
#include <stdint.h>

struct hash_key {
    uint64_t k0, k1;
};

uint64_t hash_siphash(const struct hash_key *key, const void *data, size_t len);

/* SipHash-1-3: the same function with one round per word and three to
 * finish (the variant CPython and Rust's HashMap use for table keys),
 * about half the work of SipHash-2-4 on a flow key.  For tables keyed
 * per run whose hashes never leave the process (the flow table); values
 * that are written out or must be reproducible (flow_id) keep
 * hash_siphash(). */
uint64_t hash_siphash13(const struct hash_key *key, const void *data, size_t len);

/* wyhash (final 4, default secret) of data[0..len) with the seed
 * key->k0 ^ key->k1 (see above for where it may be used). */
uint64_t hash_fast(const struct hash_key *key, const void *data, size_t len);

/* Fill `key` from the system's random source (getrandom); falls back to
 * time and pid mixing if that fails. */
void hash_random_key(struct hash_key *key);

void hash_fixed_key(struct hash_key *key);

#endif
