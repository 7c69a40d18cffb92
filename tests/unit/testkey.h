/*
 * testkey.h - a P-256 key for unit tests that make certificates.
 *
 * By curve NID, not EVP_EC_gen("P-256"): with x509/keys.c's ENGINE
 * registered, EC key generation takes OpenSSL 3.0's legacy method, whose
 * translation of a group *name* parameter fails (pinscope itself never
 * generates keys).
 */
#ifndef PINSCOPE_TESTKEY_H
#define PINSCOPE_TESTKEY_H

#include <openssl/ec.h>
#include <openssl/evp.h>

static EVP_PKEY *p256_key(void)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
    EVP_PKEY *k = NULL;

    if (ctx && EVP_PKEY_keygen_init(ctx) > 0 &&
        EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1) > 0)
        EVP_PKEY_keygen(ctx, &k);
    EVP_PKEY_CTX_free(ctx);
    return k;
}

#endif
