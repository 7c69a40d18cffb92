/*
 * fp_util.c - bounded string building and hex digests for fp/ (see fp_util.h).
 */
#include "fp/fp_util.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

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
