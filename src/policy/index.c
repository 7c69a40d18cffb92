/*
 * index.c - sorted index from a domain or name to an entry (see
 * policy_int.h).
 */
#include "policy/policy_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* ---- sorted index (domain or name -> entry index) --------------------- */





/* Compare key k (klen bytes) with the NUL-terminated s, like strcmp. */
int pol_keycmp(const char *k, size_t klen, const char *s)
{
    size_t sl = strlen(s);
    int c = memcmp(k, s, klen < sl ? klen : sl);
    if (c)
        return c;
    return klen < sl ? -1 : klen > sl ? 1 : 0;
}

/* True if found (*pos = its slot); else *pos = insertion slot. */
bool pol_ix_search(const struct policy_ix *ix, const char *k, size_t klen, size_t *pos)
{
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = pol_keycmp(k, klen, ix->v[mid].key);
        if (c == 0) {
            *pos = mid;
            return true;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *pos = lo;
    return false;
}

bool pol_ix_insert(struct policy_ix *ix, size_t pos, const char *key, size_t idx, bool sub)
{
    struct policy_ix_ent *nv = pol_grow(ix->v, &ix->cap, ix->n, sizeof(ix->v[0]));
    if (!nv)
        return false;
    ix->v = nv;
    memmove(&ix->v[pos + 1], &ix->v[pos], (ix->n - pos) * sizeof(ix->v[0]));
    ix->v[pos] = (struct policy_ix_ent){key, idx, sub};
    ix->n++;
    return true;
}

/* Most specific entry for a normalised name: exact, else the closest
 * parent with sub set.  Returns the entry index or -1. */
ssize_t pol_ix_lookup_domain(const struct policy_ix *ix, const char *name, size_t len)
{
    size_t pos;
    if (pol_ix_search(ix, name, len, &pos))
        return (ssize_t)ix->v[pos].idx;
    for (size_t i = 0; i < len; i++) {
        if (name[i] != '.')
            continue;
        if (pol_ix_search(ix, name + i + 1, len - i - 1, &pos) && ix->v[pos].sub)
            return (ssize_t)ix->v[pos].idx;
    }
    return -1;
}
