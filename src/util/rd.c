/*
 * rd.c - out-of-line parts of the bounds-checked reader (see rd.h).
 */
#include "util/rd.h"

#include <string.h>

bool rd_copy(struct rd *r, void *out, size_t n)
{
    if (!rd_has(r, n)) {
        memset(out, 0, n);
        return rd_fail(r);
    }
    memcpy(out, r->p + r->off, n);
    r->off += n;
    return true;
}

bool rd_sub(struct rd *r, size_t n, struct rd *out)
{
    if (!rd_has(r, n)) {
        rd_init(out, NULL, 0);
        out->bad = true;
        return rd_fail(r);
    }
    rd_init(out, r->p + r->off, n);
    r->off += n;
    return true;
}

bool rd_vec8(struct rd *r, struct rd *out)
{
    size_t n = rd_u8(r);
    if (r->bad) {
        rd_init(out, NULL, 0);
        out->bad = true;
        return false;
    }
    return rd_sub(r, n, out);
}

bool rd_vec16(struct rd *r, struct rd *out)
{
    size_t n = rd_u16(r);
    if (r->bad) {
        rd_init(out, NULL, 0);
        out->bad = true;
        return false;
    }
    return rd_sub(r, n, out);
}

bool rd_vec24(struct rd *r, struct rd *out)
{
    size_t n = rd_u24(r);
    if (r->bad) {
        rd_init(out, NULL, 0);
        out->bad = true;
        return false;
    }
    return rd_sub(r, n, out);
}
