/*
 * test_certmsg.c - unit tests for tls/certmsg.c: the TLS 1.2 and TLS 1.3
 * Certificate layouts, every prefix, and CompressedCertificate with zlib
 * and brotli (compressed here with the libraries' encoders), including
 * declared-length lies and decompression bombs.
 */
#include <brotli/encode.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "config.h"
#include "tls/certmsg.h"
#include "testhelp.h"

static size_t put24(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 16);
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)v;
    return 3;
}

/* Two fake "certificates" (the splitter does not look inside). */
static const uint8_t c1[] = { 0x30, 0x03, 0x01, 0x02, 0x03 };
static const uint8_t c2[] = { 0x30, 0x01, 0x09 };

static size_t build(uint8_t *out, bool tls13)
{
    uint8_t list[64];
    size_t n = 0;
    n += put24(list + n, sizeof(c1));
    memcpy(list + n, c1, sizeof(c1));
    n += sizeof(c1);
    if (tls13) {
        list[n++] = 0;
        list[n++] = 0;   /* no extensions */
    }
    n += put24(list + n, sizeof(c2));
    memcpy(list + n, c2, sizeof(c2));
    n += sizeof(c2);
    if (tls13) {
        list[n++] = 0;
        list[n++] = 2;
        list[n++] = 0xaa;   /* a 2-byte extensions block */
        list[n++] = 0xbb;
    }
    size_t o = 0;
    if (tls13)
        out[o++] = 0;   /* empty certificate_request_context */
    o += put24(out + o, n);
    memcpy(out + o, list, n);
    return o + n;
}

static void test_layouts(void)
{
    uint8_t m[128];
    struct tls_cert_list l;
    for (int v = 0; v < 2; v++) {
        size_t n = build(m, v == 1);
        test_cond("parses", tls_certmsg_parse(m, n, v == 1, &l) == TLS_CERTMSG_OK);
        test_cond("two certificates, views exact",
                  l.n_certs == 2 && l.total_certs == 2 && l.certs[0].len == sizeof(c1) &&
                      memcmp(l.certs[0].der, c1, sizeof(c1)) == 0 && l.certs[1].len == sizeof(c2) &&
                      memcmp(l.certs[1].der, c2, sizeof(c2)) == 0);
        int bad = 0;
        for (size_t cut = 0; cut < n; cut++) {
            uint8_t *exact = malloc(cut ? cut : 1);
            memcpy(exact, m, cut);
            if (tls_certmsg_parse(exact, cut, v == 1, &l) == TLS_CERTMSG_OK)
                bad++;
            free(exact);
        }
        test_cond("every prefix is an error", bad == 0);
        test_cond("wrong layout is an error", tls_certmsg_parse(m, n, v == 0, &l) != TLS_CERTMSG_OK);
    }
    uint8_t empty[3] = { 0, 0, 0 };
    test_cond("empty list is fine", tls_certmsg_parse(empty, 3, false, &l) == TLS_CERTMSG_OK &&
                                        l.n_certs == 0);
    /* More certificates than kept: true count stays. */
    uint8_t many[4 + 40 * 4];
    size_t o = 3;
    for (int i = 0; i < 40; i++) {
        o += put24(many + o, 1);
        many[o++] = 0x30;
    }
    put24(many, o - 3);
    test_cond("cap keeps the true count", tls_certmsg_parse(many, o, false, &l) == TLS_CERTMSG_OK &&
                                              l.n_certs == TLS_CERTMSG_MAX_CERTS && l.total_certs == 40);
}

static size_t compressed_msg(uint8_t *out, unsigned alg, const uint8_t *msg, size_t len,
                             size_t declared)
{
    uint8_t comp[4096];
    size_t clen = sizeof(comp);
    if (alg == 1) {
        uLongf zl = sizeof(comp);
        compress2(comp, &zl, msg, len, 9);
        clen = zl;
    } else {
        BrotliEncoderCompress(5, 22, BROTLI_MODE_GENERIC, len, msg, &clen, comp);
    }
    size_t o = 0;
    out[o++] = (uint8_t)(alg >> 8);
    out[o++] = (uint8_t)alg;
    o += put24(out + o, declared);
    o += put24(out + o, clen);
    memcpy(out + o, comp, clen);
    return o + clen;
}

static void test_decompress(void)
{
    struct memcap mc;
    memcap_init(&mc, 1u << 20);
    uint8_t m[128], cm[4200];
    size_t n = build(m, true);
    const char *names[] = { "", "zlib", "brotli" };
    for (unsigned alg = 1; alg <= 2; alg++) {
        uint8_t *buf = NULL;
        uint32_t cap = 0;
        size_t out = 0;
        char d[64];
        size_t cn = compressed_msg(cm, alg, m, n, n);
        snprintf(d, sizeof(d), "%s: round trip", names[alg]);
        test_cond(d, tls_certmsg_decompress(cm, cn, &mc, &buf, &cap, &out) == TLS_CERTMSG_OK &&
                         out == n && memcmp(buf, m, n) == 0);
        struct tls_cert_list l;
        snprintf(d, sizeof(d), "%s: decompressed message parses", names[alg]);
        test_cond(d, tls_certmsg_parse(buf, out, true, &l) == TLS_CERTMSG_OK && l.n_certs == 2);
        cn = compressed_msg(cm, alg, m, n, n + 1);
        snprintf(d, sizeof(d), "%s: declared length too long", names[alg]);
        test_cond(d, tls_certmsg_decompress(cm, cn, &mc, &buf, &cap, &out) == TLS_CERTMSG_EMALFORMED);
        cn = compressed_msg(cm, alg, m, n, n - 1);
        snprintf(d, sizeof(d), "%s: declared length too short", names[alg]);
        test_cond(d, tls_certmsg_decompress(cm, cn, &mc, &buf, &cap, &out) == TLS_CERTMSG_EMALFORMED);
        memcap_free(&mc, buf, cap);
    }
    /* A bomb: 1 MiB of zeros declared, above CFG_TLS_HS_MSG_MAX. */
    static uint8_t zeros[1 << 20];
    static uint8_t bomb[1 << 20];
    uLongf zl = sizeof(bomb) - 8;
    compress2(bomb + 8, &zl, zeros, sizeof(zeros), 9);
    bomb[0] = 0;
    bomb[1] = 1;
    put24(bomb + 2, sizeof(zeros) - 1);
    put24(bomb + 5, zl);
    uint8_t *buf = NULL;
    uint32_t cap = 0;
    size_t out = 0;
    test_cond("bomb refused before inflating",
              tls_certmsg_decompress(bomb, 8 + zl, &mc, &buf, &cap, &out) == TLS_CERTMSG_EMALFORMED &&
                  buf == NULL);
    uint8_t zstd[16] = { 0, 3, 0, 0, 4, 0, 0, 1, 0 };
    test_cond("zstd reported unsupported",
              tls_certmsg_decompress(zstd, 9, &mc, &buf, &cap, &out) == TLS_CERTMSG_EUNSUPPORTED);
    test_cond("memcap balanced", mc.used == 0);
}

int main(void)
{
    test_layouts();
    test_decompress();
    return test_report();
}
