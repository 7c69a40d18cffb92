/*
 * fp_util.c - bounded string building and hex digests for fp/ (see fp_util.h).
 */
#include "fp/fp_util.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void fp_buf_init(struct fp_buf *b, char *p, size_t cap)
{
    b->p = p;
    b->cap = cap;
    b->len = 0;
    p[0] = '\0';
}

void fp_buf_printf(struct fp_buf *b, const char *fmt, ...)
{
    size_t room = b->cap - b->len;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(b->p + b->len, room, fmt, ap);
    va_end(ap);
    if (n < 0)
        b->p[b->len] = '\0';
    else if ((size_t)n >= room)
        b->len = b->cap - 1;
    else
        b->len += (size_t)n;
}

void fp_buf_u16(struct fp_buf *b, char sep, unsigned v, bool hex4)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[8];
    size_t n = 0;

    if (sep)
        tmp[n++] = sep;
    if (hex4) {
        tmp[n++] = hex[(v >> 12) & 0xf];
        tmp[n++] = hex[(v >> 8) & 0xf];
        tmp[n++] = hex[(v >> 4) & 0xf];
        tmp[n++] = hex[v & 0xf];
    } else {
        char d[5];
        size_t k = 0;
        v &= 0xffff;
        do {
            d[k++] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        while (k)
            tmp[n++] = d[--k];
    }
    size_t room = b->cap - 1 - b->len;
    if (n > room)
        n = room;
    memcpy(b->p + b->len, tmp, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static pthread_once_t digests_once = PTHREAD_ONCE_INIT;
static const EVP_MD *digests[2];

static void digests_fetch(void)
{
    digests[FP_MD5] = EVP_MD_fetch(NULL, "MD5", NULL);
    digests[FP_SHA256] = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!digests[FP_MD5])
        digests[FP_MD5] = EVP_md5();
    if (!digests[FP_SHA256])
        digests[FP_SHA256] = EVP_sha256();
}

bool fp_digest_hex(enum fp_digest d, const char *s, size_t len, char *out, size_t hex_chars)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    pthread_once(&digests_once, digests_fetch);
    if (!digests[d] || !EVP_Digest(s, len, md, &mdlen, digests[d], NULL) ||
        mdlen < hex_chars / 2)
        return false;
    for (size_t i = 0; i < hex_chars / 2; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0x0f];
    }
    out[hex_chars] = '\0';
    return true;
}
