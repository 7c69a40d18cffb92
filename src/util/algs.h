/*
 * algs.h - the OpenSSL algorithms pinscope decrypts with, fetched once.
 *
 * OpenSSL 3 looks an algorithm up by name in its providers on every
 * implicit fetch; fetching each one once per process and handing out the
 * same object keeps that lookup off the per-record and per-packet path.
 * tls/decrypt.c (TLS 1.3 records) and quic/quic.c (QUIC packet and header
 * protection, Retry integrity) share these objects.  The fetch runs once
 * (CRYPTO_THREAD_run_once), so workers in threads would share it too.
 */
#ifndef PINSCOPE_ALGS_H
#define PINSCOPE_ALGS_H

#include <stddef.h>

#include <openssl/types.h>

enum algs_cipher {
    ALGS_AES128GCM = 0,
    ALGS_AES256GCM,
    ALGS_CHACHAPOLY,     /* ChaCha20-Poly1305 AEAD */
    ALGS_AES128CCM,
    ALGS_AES128ECB,      /* QUIC header protection */
    ALGS_AES256ECB,
    ALGS_CHACHA20,       /* QUIC header protection with ChaCha20 suites */
    ALGS_CIPHER_COUNT
};

/* The cipher, or NULL when libcrypto does not provide it. */
const EVP_CIPHER *algs_cipher(enum algs_cipher a);

/* SHA-1 and SHA-256, for EVP_Digest() (NULL when libcrypto lacks them).
 * EVP_sha1() and EVP_sha256() would be looked up again on every call. */
const EVP_MD *algs_sha1(void);
const EVP_MD *algs_sha256(void);

/* The hashes of HKDF below (TLS 1.3's two). */
enum algs_hash { ALGS_SHA256 = 0, ALGS_SHA384, ALGS_HASH_COUNT };

/* True when libcrypto provides HMAC with this hash. */
int algs_hkdf_ready(enum algs_hash h);

/*
 * HKDF (RFC 5869) from OpenSSL's HMAC: Extract (PRK = HMAC(salt, IKM)) into
 * out[hash length], and Expand into out[out_len] (out_len <= 255 * hash
 * length).  1 on success; 0 with out cleared otherwise.
 *
 * Not EVP_KDF "HKDF": that names its digest by string on every call, and
 * OpenSSL 3.0 looks the digest up again each time (about half of a QUIC
 * Initial's key derivation).  Here one HMAC context per hash, set up once,
 * is copied for each call (EVP_MAC_CTX_dup) and keyed.
 */
int algs_hkdf_extract(enum algs_hash h, const unsigned char *salt, size_t salt_len,
                      const unsigned char *ikm, size_t ikm_len, unsigned char *out);
int algs_hkdf_expand(enum algs_hash h, const unsigned char *prk, size_t prk_len,
                     const unsigned char *info, size_t info_len, unsigned char *out,
                     size_t out_len);

/* Free everything fetched.  Only at exit (for leak checkers): no call of
 * this module, tls/decrypt.c or quic/quic.c may follow. */
void algs_cleanup(void);

#endif
