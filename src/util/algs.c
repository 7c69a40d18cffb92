/*
 * algs.c - OpenSSL algorithms fetched once (see algs.h).
 */
#include "util/algs.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <string.h>

static const char *const names[ALGS_CIPHER_COUNT] = {
    "AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305", "AES-128-CCM",
    "AES-128-ECB", "AES-256-ECB", "ChaCha20",
};

static CRYPTO_ONCE once = CRYPTO_ONCE_STATIC_INIT;
static EVP_CIPHER *ciphers[ALGS_CIPHER_COUNT];
static EVP_MD *sha1, *sha256;
static EVP_MAC *hmac;
static EVP_MAC_CTX *hmac_tmpl[ALGS_HASH_COUNT];   /* digest set, keyed with a zero byte (an
                                                     unkeyed HMAC cannot be copied): only
                                                     copied, then keyed again */
static const size_t hash_len[ALGS_HASH_COUNT] = { 32, 48 };

static void fetch_all(void)
{
    static const char *const digests[ALGS_HASH_COUNT] = { OSSL_DIGEST_NAME_SHA2_256,
                                                          OSSL_DIGEST_NAME_SHA2_384 };
    for (int i = 0; i < ALGS_CIPHER_COUNT; i++)
        ciphers[i] = EVP_CIPHER_fetch(NULL, names[i], NULL);
    sha1 = EVP_MD_fetch(NULL, OSSL_DIGEST_NAME_SHA1, NULL);
    sha256 = EVP_MD_fetch(NULL, OSSL_DIGEST_NAME_SHA2_256, NULL);
    if (!(hmac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL)))
        return;
    for (int h = 0; h < ALGS_HASH_COUNT; h++) {
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digests[h], 0),
            OSSL_PARAM_construct_end(),
        };
        static const unsigned char zero[1];
        EVP_MAC_CTX *c = EVP_MAC_CTX_new(hmac);
        if (c && EVP_MAC_init(c, zero, sizeof zero, params) == 1 &&
            EVP_MAC_CTX_get_mac_size(c) == hash_len[h])
            hmac_tmpl[h] = c;
        else
            EVP_MAC_CTX_free(c);
    }
}

const EVP_CIPHER *algs_cipher(enum algs_cipher a)
{
    if ((unsigned)a >= ALGS_CIPHER_COUNT || CRYPTO_THREAD_run_once(&once, fetch_all) != 1)
        return NULL;
    return ciphers[a];
}

const EVP_MD *algs_sha1(void)
{
    return CRYPTO_THREAD_run_once(&once, fetch_all) == 1 ? sha1 : NULL;
}

const EVP_MD *algs_sha256(void)
{
    return CRYPTO_THREAD_run_once(&once, fetch_all) == 1 ? sha256 : NULL;
}

int algs_hkdf_ready(enum algs_hash h)
{
    return (unsigned)h < ALGS_HASH_COUNT && CRYPTO_THREAD_run_once(&once, fetch_all) == 1 &&
           hmac_tmpl[h] != NULL;
}

/* out[hash length] = HMAC(key, a || b || c), with one byte c (skipped when
 * c is negative). */
static int hmac3(enum algs_hash h, const unsigned char *key, size_t key_len,
                 const unsigned char *a, size_t a_len, const unsigned char *b, size_t b_len,
                 int c, unsigned char *out)
{
    static const unsigned char empty[1];
    unsigned char cb = (unsigned char)c;
    size_t n = 0;
    EVP_MAC_CTX *m = EVP_MAC_CTX_dup(hmac_tmpl[h]);
    int ok = m && EVP_MAC_init(m, key_len ? key : empty, key_len, NULL) == 1 &&
             (a_len == 0 || EVP_MAC_update(m, a, a_len) == 1) &&
             (b_len == 0 || EVP_MAC_update(m, b, b_len) == 1) &&
             (c < 0 || EVP_MAC_update(m, &cb, 1) == 1) &&
             EVP_MAC_final(m, out, &n, hash_len[h]) == 1 && n == hash_len[h];
    EVP_MAC_CTX_free(m);   /* clears its copy of the key */
    return ok;
}

int algs_hkdf_extract(enum algs_hash h, const unsigned char *salt, size_t salt_len,
                      const unsigned char *ikm, size_t ikm_len, unsigned char *out)
{
    if (!algs_hkdf_ready(h))
        return 0;
    if (!hmac3(h, salt, salt_len, ikm, ikm_len, NULL, 0, -1, out)) {
        OPENSSL_cleanse(out, hash_len[h]);
        return 0;
    }
    return 1;
}

int algs_hkdf_expand(enum algs_hash h, const unsigned char *prk, size_t prk_len,
                     const unsigned char *info, size_t info_len, unsigned char *out,
                     size_t out_len)
{
    unsigned char t[64];
    size_t done = 0;

    if (!algs_hkdf_ready(h) || out_len > 255 * hash_len[h])
        return 0;
    /* T(i) = HMAC(PRK, T(i-1) || info || i), T(0) empty */
    for (int i = 1; done < out_len; i++) {
        if (!hmac3(h, prk, prk_len, t, i == 1 ? 0 : hash_len[h], info, info_len, i, t)) {
            OPENSSL_cleanse(t, sizeof t);
            OPENSSL_cleanse(out, out_len);
            return 0;
        }
        size_t take = out_len - done < hash_len[h] ? out_len - done : hash_len[h];
        memcpy(out + done, t, take);
        done += take;
    }
    OPENSSL_cleanse(t, sizeof t);
    return 1;
}

void algs_cleanup(void)
{
    for (int i = 0; i < ALGS_CIPHER_COUNT; i++) {
        EVP_CIPHER_free(ciphers[i]);
        ciphers[i] = NULL;
    }
    for (int h = 0; h < ALGS_HASH_COUNT; h++) {
        EVP_MAC_CTX_free(hmac_tmpl[h]);
        hmac_tmpl[h] = NULL;
    }
    EVP_MAC_free(hmac);
    hmac = NULL;
    EVP_MD_free(sha1);
    EVP_MD_free(sha256);
    sha1 = sha256 = NULL;
}
