/*
 * id.c - flow identifiers (see id.h).
 */
#include "flow/id.h"

#include <openssl/evp.h>
#include <stddef.h>
#include <string.h>

#include "util/algs.h"
#include "util/hash.h"

uint64_t flow_id(const struct flow *f)
{
    struct hash_key k;
    hash_fixed_key(&k);
    /* The key up to its zone, then the start time with the zone folded
     * in: flows outside any overlay (zone 0) keep the ids they always had. */
    struct {
        uint8_t key[offsetof(struct flow_key, zone)];
        uint64_t ts;
    } in;
    memset(&in, 0, sizeof(in));
    memcpy(in.key, &f->key, sizeof(in.key));
    in.ts = f->first_ts_us ^ ((uint64_t)f->key.zone << 32);
    return hash_siphash(&k, &in, sizeof(in)) & ((1ULL << 51) - 1);
}

void community_id(const struct flow *f, uint16_t seed, char out[COMMUNITY_ID_LEN])
{
    size_t al = f->key.ip_ver == 4 ? 4 : 16;
    /* The spec puts the smaller (address, port) endpoint first: that is
     * the flow key's side 0 (table.h: keys are stored normalised, by the
     * same comparison). */
    uint8_t in[2 + 16 + 16 + 2 + 4];
    size_t n = 0;
    in[n++] = (uint8_t)(seed >> 8);   /* seed, 16 bits big-endian */
    in[n++] = (uint8_t)seed;
    memcpy(in + n, f->key.addr[0], al);
    n += al;
    memcpy(in + n, f->key.addr[1], al);
    n += al;
    in[n++] = f->key.proto;
    in[n++] = 0;
    in[n++] = (uint8_t)(f->key.port[0] >> 8);
    in[n++] = (uint8_t)f->key.port[0];
    in[n++] = (uint8_t)(f->key.port[1] >> 8);
    in[n++] = (uint8_t)f->key.port[1];
    unsigned char md[20];
    algs_sha1_once(in, n, md);
    memcpy(out, "1:", 2);
    EVP_EncodeBlock((unsigned char *)out + 2, md, 20);   /* 28 characters and a NUL */
}
