/*
 * certmsg.c - split a Certificate message into DER views (see certmsg.h).
 */
#include "tls/certmsg.h"

#include <brotli/decode.h>
#include <string.h>
#include <zlib.h>

#include "config.h"
#include "util/rd.h"

int tls_certmsg_parse(const uint8_t *body, size_t len, bool tls13, struct tls_cert_list *out)
{
    struct rd r, list, ctx;
    memset(out, 0, sizeof(*out));
    rd_init(&r, body, len);

    if (tls13)
        rd_vec8(&r, &ctx);            /* certificate_request_context */
    if (!rd_vec24(&r, &list))
        return TLS_CERTMSG_ETRUNC;
    if (rd_left(&r) != 0)
        return TLS_CERTMSG_EMALFORMED;

    while (rd_left(&list) > 0) {
        struct rd cert, exts;
        if (!rd_vec24(&list, &cert))
            return TLS_CERTMSG_ETRUNC;
        if (tls13 && !rd_vec16(&list, &exts))
            return TLS_CERTMSG_ETRUNC;
        if (rd_left(&cert) == 0)
            return TLS_CERTMSG_EMALFORMED;
        if (out->n_certs < TLS_CERTMSG_MAX_CERTS) {
            out->certs[out->n_certs].der = rd_ptr(&cert);
            out->certs[out->n_certs].len = rd_left(&cert);
            out->n_certs++;
        }
        out->total_certs++;
    }
    return TLS_CERTMSG_OK;
}

#define CERTCOMP_ZLIB   1
#define CERTCOMP_BROTLI 2

static int inflate_zlib(const uint8_t *in, size_t in_len, uint8_t *out, size_t want)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit(&z) != Z_OK)
        return TLS_CERTMSG_ENOMEM;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)in_len;
    z.next_out = out;
    z.avail_out = (uInt)want;
    int rc = inflate(&z, Z_FINISH);
    size_t got = want - z.avail_out;
    inflateEnd(&z);
    return (rc == Z_STREAM_END && got == want) ? TLS_CERTMSG_OK : TLS_CERTMSG_EMALFORMED;
}

static int inflate_brotli(const uint8_t *in, size_t in_len, uint8_t *out, size_t want)
{
    size_t got = want;
    /* Output beyond `want` fails the call: the bound is the buffer. */
    BrotliDecoderResult rc = BrotliDecoderDecompress(in_len, in, &got, out);
    return (rc == BROTLI_DECODER_RESULT_SUCCESS && got == want) ? TLS_CERTMSG_OK
                                                                 : TLS_CERTMSG_EMALFORMED;
}

int tls_certmsg_decompress(const uint8_t *body, size_t len, struct memcap *mc, uint8_t **buf,
                           uint32_t *cap, size_t *out_len)
{
    struct rd r, comp;
    rd_init(&r, body, len);
    unsigned alg = rd_u16(&r);
    size_t want = rd_u24(&r);
    if (!rd_vec24(&r, &comp) || rd_left(&r) != 0 || rd_left(&comp) == 0)
        return TLS_CERTMSG_EMALFORMED;
    if (want == 0 || want > CFG_TLS_HS_MSG_MAX)
        return TLS_CERTMSG_EMALFORMED;
    if (alg != CERTCOMP_ZLIB && alg != CERTCOMP_BROTLI)
        return TLS_CERTMSG_EUNSUPPORTED;
    if (want > *cap) {
        uint8_t *nb = memcap_realloc(mc, *buf, *cap, want);
        if (!nb)
            return TLS_CERTMSG_ENOMEM;
        *buf = nb;
        *cap = (uint32_t)want;
    }
    int rc = alg == CERTCOMP_ZLIB ? inflate_zlib(rd_ptr(&comp), rd_left(&comp), *buf, want)
                                  : inflate_brotli(rd_ptr(&comp), rd_left(&comp), *buf, want);
    *out_len = rc == TLS_CERTMSG_OK ? want : 0;
    return rc;
}
