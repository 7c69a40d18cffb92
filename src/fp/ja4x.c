/*
 * ja4x.c - JA4X string building (see ja4x.h for the definition).
 *
 * Writes the raw string part by part into the caller's buffer and hashes
 * each part where it lies, so the three digests and ja4x_r always describe
 * the same bytes.  Does not look at certificates, allocates nothing, never
 * truncates: a buffer that is too small is an error, not a shorter string.
 */
#include "fp/ja4x.h"

#include <string.h>

#include "fp/fp_util.h"

#define JA4X_HASH_LEN 12               /* hex characters kept of each SHA-256 */
#define JA4X_EMPTY_HASH "000000000000"

/* a + b, or SIZE_MAX - 1 if that would overflow (keeps "+ 1" safe). */
static size_t ja4x_add(size_t a, size_t b)
{
    const size_t top = SIZE_MAX - 1;
    return (a > top || b > top - a) ? top : a + b;
}

size_t ja4x_raw_len(const struct ja4x_input *in)
{
    size_t total = JA4X_PARTS - 1;   /* the '_' separators */

    for (int part = 0; part < JA4X_PARTS; part++) {
        for (size_t i = 0; i < in->n[part]; i++) {
            size_t len = in->oids[part][i].len;
            size_t hex = len > (SIZE_MAX - 1) / 2 ? SIZE_MAX - 1 : 2 * len;
            total = ja4x_add(total, hex);
            if (i > 0)
                total = ja4x_add(total, 1);   /* ',' */
        }
    }
    return total;
}

/* Append one list at raw[*pos]; the caller has checked that it fits. */
static void ja4x_write_list(const struct ja4x_oid *oids, size_t n, char *raw, size_t *pos)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            raw[(*pos)++] = ',';
        for (size_t k = 0; k < oids[i].len; k++) {
            raw[(*pos)++] = hex[oids[i].p[k] >> 4];
            raw[(*pos)++] = hex[oids[i].p[k] & 0x0f];
        }
    }
}

bool ja4x_build(const struct ja4x_input *in, char *raw, size_t raw_cap,
                char out[JA4X_LEN + 1])
{
    size_t need = ja4x_raw_len(in);
    size_t pos = 0, outpos = 0;

    if (raw_cap > 0)
        raw[0] = '\0';
    out[0] = '\0';
    if (raw_cap == 0 || need > raw_cap - 1)
        return false;

    for (int part = 0; part < JA4X_PARTS; part++) {
        char h[JA4X_HASH_LEN + 1];
        size_t start;

        if (part > 0) {
            raw[pos++] = '_';
            out[outpos++] = '_';
        }
        start = pos;
        ja4x_write_list(in->oids[part], in->n[part], raw, &pos);
        memcpy(h, JA4X_EMPTY_HASH, sizeof h);
        if (in->n[part] > 0 &&
            !fp_digest_hex(FP_SHA256, raw + start, pos - start, h, JA4X_HASH_LEN)) {
            raw[0] = '\0';
            out[0] = '\0';
            return false;
        }
        memcpy(out + outpos, h, JA4X_HASH_LEN);
        outpos += JA4X_HASH_LEN;
    }
    raw[pos] = '\0';
    out[outpos] = '\0';
    return true;
}
