/*
 * spki.c - SPKI pins of files (see spki.h).  Everything through OpenSSL.
 */
#include "x509/spki.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#define SPKI_FILE_MAX (1024 * 1024)   /* larger files are not certificates */

static EVP_PKEY *key_from_bytes(const unsigned char *buf, size_t len)
{
    EVP_PKEY *pk = NULL;
    BIO *b = BIO_new_mem_buf(buf, (int)len);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    if (!x && b) {
        BIO_free(b);
        b = BIO_new_mem_buf(buf, (int)len);
        pk = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
    }
    if (!x && !pk && b) {   /* an unencrypted private key: pin its public half */
        BIO_free(b);
        b = BIO_new_mem_buf(buf, (int)len);
        pk = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    }
    BIO_free(b);
    if (!x && !pk) {
        const unsigned char *p = buf;
        x = d2i_X509(NULL, &p, (long)len);
        if (!x) {
            p = buf;
            pk = d2i_PUBKEY(NULL, &p, (long)len);
        }
    }
    if (x) {
        pk = X509_get_pubkey(x);   /* new reference */
        X509_free(x);
    }
    ERR_clear_error();   /* the formats tried and refused */
    return pk;
}

int x509_spki_pin_file(const char *path, char pin[X509_SPKI_PIN_LEN + 1], char *err,
                       size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    static unsigned char buf[SPKI_FILE_MAX];
    size_t len = fread(buf, 1, sizeof(buf), f);
    int too_big = !feof(f);
    fclose(f);
    if (too_big) {
        snprintf(err, errlen, "%s: larger than %d bytes, not a certificate or key", path,
                 SPKI_FILE_MAX);
        return -1;
    }
    EVP_PKEY *pk = key_from_bytes(buf, len);
    if (!pk) {
        snprintf(err, errlen, "%s: no PEM or DER certificate or public key found", path);
        return -1;
    }
    unsigned char *der = NULL;
    int dlen = i2d_PUBKEY(pk, &der);
    EVP_PKEY_free(pk);
    if (dlen <= 0) {
        snprintf(err, errlen, "%s: cannot encode the public key", path);
        return -1;
    }
    unsigned char md[32];
    unsigned int mdlen = 0;
    int ok = EVP_Digest(der, (size_t)dlen, md, &mdlen, EVP_sha256(), NULL);
    OPENSSL_free(der);
    if (!ok || mdlen != 32) {
        snprintf(err, errlen, "%s: SHA-256 unavailable", path);
        return -1;
    }
    EVP_EncodeBlock((unsigned char *)pin, md, 32);
    pin[X509_SPKI_PIN_LEN] = '\0';
    return 0;
}
