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

/* HKDF (RFC 5869), or NULL when libcrypto does not provide it. */
EVP_KDF *algs_hkdf(void);

/* Free everything fetched.  Only at exit (for leak checkers): no call of
 * this module, tls/decrypt.c or quic/quic.c may follow. */
void algs_cleanup(void);

#endif
