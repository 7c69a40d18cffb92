/*
 * rd.c - out-of-line parts of the bounds-checked reader (see rd.h): the
 * TLS vectors.
 */
#include "util/rd.h"

bool rd_vec8(struct rd *r, struct rd *out)
{
    size_t n = rd_u8(r);
    return rd_sub(r, n, out);   /* a bad length read leaves r bad: out bad too */
}

bool rd_vec16(struct rd *r, struct rd *out)
{
    size_t n = rd_u16(r);
    return rd_sub(r, n, out);   /* a bad length read leaves r bad: out bad too */
}

bool rd_vec24(struct rd *r, struct rd *out)
{
    size_t n = rd_u24(r);
    return rd_sub(r, n, out);   /* a bad length read leaves r bad: out bad too */
}
