/*
 * certmsg.h - the Certificate handshake message: the list of DER
 * certificates it carries, without looking inside them (x509/ does that).
 *
 *   TLS 1.0-1.2 (RFC 5246 7.4.2):
 *       opaque ASN.1Cert<1..2^24-1>;
 *       struct { ASN.1Cert certificate_list<0..2^24-1>; } Certificate;
 *   TLS 1.3 (RFC 8446 4.4.2):
 *       struct { opaque cert_data<1..2^24-1>;
 *                Extension extensions<0..2^16-1>; } CertificateEntry;
 *       struct { opaque certificate_request_context<0..2^8-1>;
 *                CertificateEntry certificate_list<0..2^24-1>; } Certificate;
 *
 * The parser returns views into the message body (no copies).
 */
#ifndef PINSCOPE_TLS_CERTMSG_H
#define PINSCOPE_TLS_CERTMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/memcap.h"

#define TLS_CERTMSG_MAX_CERTS 16   /* certificates kept per message (leaf first) */

struct tls_cert_view {
    const uint8_t *der;
    size_t len;
};

struct tls_cert_list {
    struct tls_cert_view certs[TLS_CERTMSG_MAX_CERTS];
    size_t n_certs;      /* stored */
    size_t total_certs;  /* in the message */
};

enum tls_certmsg_err {
    TLS_CERTMSG_OK = 0,
    TLS_CERTMSG_ETRUNC = -1,      /* a length runs past the message */
    TLS_CERTMSG_EMALFORMED = -2,  /* empty certificate, trailing bytes, bad compression */
    TLS_CERTMSG_EUNSUPPORTED = -3, /* compression algorithm not available */
    TLS_CERTMSG_ENOMEM = -4,      /* memcap */
};

/*
 * Split a Certificate message body (after the 4-byte handshake header)
 * into its certificates.  `tls13` selects the TLS 1.3 layout.  Returns
 * TLS_CERTMSG_OK or a negative enum tls_certmsg_err; `out` holds the
 * certificates found before an error.
 */
int tls_certmsg_parse(const uint8_t *body, size_t len, bool tls13, struct tls_cert_list *out);

/*
 * CompressedCertificate (RFC 8879 4):
 *     struct { CertificateCompressionAlgorithm algorithm;   (2: 1 zlib, 2 brotli, 3 zstd)
 *              uint24 uncompressed_length;
 *              opaque compressed_certificate_message<1..2^24-1>; }
 * Decompress into *buf (grown through the memcap; caller frees *cap
 * bytes), giving a TLS 1.3 Certificate message body of *out_len bytes.
 * The declared length is checked before anything is inflated and must be
 * met exactly; it may not exceed CFG_TLS_HS_MSG_MAX (decompression bombs).
 * Returns TLS_CERTMSG_OK, TLS_CERTMSG_EMALFORMED, or
 * TLS_CERTMSG_EUNSUPPORTED (zstd, unknown algorithm).
 */
int tls_certmsg_decompress(const uint8_t *body, size_t len, struct memcap *mc, uint8_t **buf,
                           uint32_t *cap, size_t *out_len);

#endif
