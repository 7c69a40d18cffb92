/*
 * algs.c - OpenSSL algorithms fetched once (see algs.h).
 */
#include "util/algs.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

static const char *const names[ALGS_CIPHER_COUNT] = {
    "AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305", "AES-128-CCM",
    "AES-128-ECB", "AES-256-ECB", "ChaCha20",
};

static CRYPTO_ONCE once = CRYPTO_ONCE_STATIC_INIT;
static EVP_CIPHER *ciphers[ALGS_CIPHER_COUNT];
static EVP_KDF *hkdf;

static void fetch_all(void)
{
    for (int i = 0; i < ALGS_CIPHER_COUNT; i++)
        ciphers[i] = EVP_CIPHER_fetch(NULL, names[i], NULL);
    hkdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
}

const EVP_CIPHER *algs_cipher(enum algs_cipher a)
{
    if ((unsigned)a >= ALGS_CIPHER_COUNT || CRYPTO_THREAD_run_once(&once, fetch_all) != 1)
        return NULL;
    return ciphers[a];
}

EVP_KDF *algs_hkdf(void)
{
    if (CRYPTO_THREAD_run_once(&once, fetch_all) != 1)
        return NULL;
    return hkdf;
}

void algs_cleanup(void)
{
    for (int i = 0; i < ALGS_CIPHER_COUNT; i++) {
        EVP_CIPHER_free(ciphers[i]);
        ciphers[i] = NULL;
    }
    EVP_KDF_free(hkdf);
    hkdf = NULL;
}
