/*
 * id.c - flow identifiers (see id.h).
 */
#include "flow/id.h"

#include <string.h>

#include "util/hash.h"

uint64_t flow_id(const struct flow *f)
{
    struct hash_key k;
    hash_fixed_key(&k);
    struct {
        struct flow_key key;
        uint64_t ts;
    } in;
    memset(&in, 0, sizeof(in));
    in.key = f->key;
    in.ts = f->first_ts_us;
    return hash_siphash(&k, &in, sizeof(in)) & ((1ULL << 51) - 1);
}
