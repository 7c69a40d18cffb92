/*
 * fuzz_certmsg.c - libFuzzer target: the Certificate message path.
 *
 * The first input byte selects the form (TLS 1.2 Certificate, TLS 1.3
 * Certificate, CompressedCertificate); the rest is the message body.  The
 * certificates found go through the whole chain builder: cache, OpenSSL
 * parsing of each DER, linkage, SNI check and validation against an empty
 * trust store.  Run twice so the second pass exercises the caches.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tls/certmsg.h"
#include "x509/chain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct x509_ctx *ctx;
    static struct stats st;
    if (!ctx) {
        char err[256];
        struct x509_ctx_config cfg = { .ca_path = "/nonexistent-pinscope-ca-dir",
                                       .cert_cache_max = 8, .verify_cache_size = 16 };
        ctx = x509_ctx_new(&cfg, err, sizeof(err));
        if (!ctx) {
            cfg.ca_path = NULL;
            ctx = x509_ctx_new(&cfg, err, sizeof(err));
        }
        if (!ctx)
            abort();
    }
    if (size < 1)
        return 0;
    unsigned form = data[0] % 3;
    const uint8_t *body = data + 1;
    size_t len = size - 1;

    struct memcap mc;
    memcap_init(&mc, 1u << 20);
    uint8_t *buf = NULL;
    uint32_t cap = 0;
    bool tls13 = form != 0;
    if (form == 2) {
        size_t n = 0;
        if (tls_certmsg_decompress(body, len, &mc, &buf, &cap, &n) != TLS_CERTMSG_OK) {
            memcap_free(&mc, buf, cap);
            return 0;
        }
        body = buf;
        len = n;
    }
    struct tls_cert_list list;
    tls_certmsg_parse(body, len, tls13, &list);
    for (int pass = 0; pass < 2; pass++) {
        struct x509_chain chain;
        x509_chain_build(ctx, &list, pass ? X509_PURPOSE_CLIENT_CHAIN : X509_PURPOSE_SERVER_CHAIN,
                         true, (const uint8_t *)"www.example.test", 16, 1700000000000000ULL,
                         &chain, &st);
        if (chain.n > TLS_CERTMSG_MAX_CERTS)
            abort();
        x509_chain_release(ctx, &chain);
    }
    memcap_free(&mc, buf, cap);
    if (mc.used != 0)
        abort();
    return 0;
}
