/*
 * fuzz_x509.c - libFuzzer target: one DER certificate through
 * x509_cert_parse() (OpenSSL decoding, text sanitising, SAN, SCT framing,
 * self-signature check, JA4X).
 *
 * The input is the certificate bytes as a TLS Certificate entry would carry
 * them.  A successful parse is checked against the promises of cert.h
 * (valid UTF-8 text within its caps, capped lists, bounded ja4x_r) and
 * released; the sanitizers and LeakSanitizer are the other oracles.  Seeds:
 * the .der files in tests/unit/data/x509/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "x509/cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Strict UTF-8 without NUL (the string ends at its NUL). */
static int fuzz_utf8_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        size_t len;
        unsigned long cp;

        if (*p < 0x80) {
            p++;
            continue;
        }
        if (*p >= 0xc2 && *p <= 0xdf) {
            len = 2;
            cp = *p & 0x1f;
        } else if (*p >= 0xe0 && *p <= 0xef) {
            len = 3;
            cp = *p & 0x0f;
        } else if (*p >= 0xf0 && *p <= 0xf4) {
            len = 4;
            cp = *p & 0x07;
        } else {
            return 0;
        }
        for (size_t i = 1; i < len; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i] & 0x3f);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
            return 0;
        p += len;
    }
    return 1;
}

static void fuzz_text(const char *s)
{
    if (s && (strlen(s) > X509_CERT_MAX_TEXT || !fuzz_utf8_ok(s)))
        abort();
}

static void fuzz_list(const struct x509_cert_list *l)
{
    if (l->n > l->total || l->n > X509_CERT_MAX_SAN)
        abort();
    for (size_t i = 0; i < l->n; i++) {
        if (!l->v[i])
            abort();
        fuzz_text(l->v[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct x509_cert c;
    int rc = x509_cert_parse(data, size, &c);

    if (rc == X509_CERT_OK) {
        if (!c.subject.dn || !c.issuer.dn || !c.serial || !c.ja4x_r ||
            strlen(c.ja4x) != JA4X_LEN || strlen(c.ja4x_r) > 2 * size + 3)
            abort();
        fuzz_text(c.subject.dn);
        fuzz_text(c.subject.cn);
        fuzz_text(c.subject.o);
        fuzz_text(c.issuer.dn);
        fuzz_text(c.issuer.cn);
        fuzz_text(c.issuer.o);
        fuzz_list(&c.san_dns);
        fuzz_list(&c.san_ip);
        fuzz_list(&c.san_email);
        fuzz_list(&c.san_uri);
        if (!fuzz_utf8_ok(c.key_alg) || !fuzz_utf8_ok(c.curve) || !fuzz_utf8_ok(c.sig_alg))
            abort();
    }
    x509_cert_release(&c);
    return 0;
}
