/*
 * certmsg.c - split a Certificate message into DER views (see certmsg.h).
 */
#include "tls/certmsg.h"

#include <string.h>

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
