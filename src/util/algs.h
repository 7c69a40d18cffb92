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

#include <stdbool.h>
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

/* SHA-1 and SHA-256 of p[0..n) into out, on a stack state: no EVP context
 * allocated, no provider looked up (52 ns instead of 188 for 40 bytes on
 * this project's machines).  For the digests taken per connection and per
 * certificate: Community ID, ticket keys, certificate fingerprints. */
void algs_sha1_once(const void *p, size_t n, unsigned char out[20]);
void algs_sha256_once(const void *p, size_t n, unsigned char out[32]);

/* The hashes of HKDF below (TLS 1.3's two). */
enum algs_hash { ALGS_SHA256 = 0, ALGS_SHA384, ALGS_HASH_COUNT };

/* True when libcrypto provides HMAC with this hash. */
int algs_hkdf_ready(enum algs_hash h);

/*
 * HKDF (RFC 5869) over OpenSSL's digests: Extract (PRK = HMAC(salt, IKM))
 * into out[hash length], and Expand into out[out_len] (out_len <= 255 *
 * hash length).  1 on success; 0 with out cleared otherwise (left as it is
 * when out_len is over that limit).
 *
 * HMAC (RFC 2104) is built here on libcrypto's SHA-256 / SHA-384 block
 * functions (SHA256_CTX, SHA512_CTX): a key is absorbed once into an inner
 * and an outer state (two compression blocks), and each HMAC copies those
 * states (a struct copy on the stack) and adds two more.  Nothing is
 * allocated or looked up by name, and every state is wiped before return.
 */
int algs_hkdf_extract(enum algs_hash h, const unsigned char *salt, size_t salt_len,
                      const unsigned char *ikm, size_t ikm_len, unsigned char *out);
int algs_hkdf_expand(enum algs_hash h, const unsigned char *prk, size_t prk_len,
                     const unsigned char *info, size_t info_len, unsigned char *out,
                     size_t out_len);

/* Several Expands from one PRK, which is keyed once: req[i].out[out_len]
 * = HKDF-Expand(PRK, req[i].info, req[i].out_len) for i < n.  1 on
 * success; 0 with every output cleared otherwise (none written when an
 * out is NULL or an out_len over the limit). */
struct algs_expand_req {
    const unsigned char *info;
    size_t info_len;
    unsigned char *out;
    size_t out_len;
};
int algs_hkdf_expand_n(enum algs_hash h, const unsigned char *prk, size_t prk_len,
                       const struct algs_expand_req *req, size_t n);

/*
 * An HMAC key kept keyed, for a salt used again and again (QUIC's
 * initial_salt): Extract with it costs one HMAC, no keying.  Read-only
 * after creation, so threads may share one.  NULL on failure.  The free
 * wipes the key state; safe on NULL.
 */
struct algs_hmac_key;
struct algs_hmac_key *algs_hmac_key_new(enum algs_hash h, const unsigned char *key,
                                        size_t key_len);
void algs_hmac_key_free(struct algs_hmac_key *k);
int algs_hkdf_extract_key(const struct algs_hmac_key *salt, const unsigned char *ikm,
                          size_t ikm_len, unsigned char *out);

/*
 * Cipher contexts for keys that change with every connection.  Making a
 * context costs libcrypto a few allocations and a cipher set-up; handing
 * one back keeps it, unkeyed, for the next connection of the same thread.
 *
 * algs_ctx_get(): a context set up for `a`, without a key: for decryption
 * with the AEADs (IV length 12, what TLS 1.3 and QUIC use), for encryption
 * with ALGS_AES128ECB, ALGS_AES256ECB and ALGS_CHACHA20 (header protection;
 * padding off for ECB).  The caller keys it (EVP_DecryptInit_ex2 /
 * EVP_EncryptInit_ex2 with a NULL cipher) and sets what else it needs
 * (CCM's tag length).  NULL on failure.
 *
 * algs_ctx_put(): done with it.  It joins this thread's pool
 * (CFG_CIPHER_CTX_POOL per cipher) or is freed; with `wipe` its key is
 * first overwritten with zeros (false only for keys anyone can derive,
 * such as QUIC Initial keys).  AES-CCM contexts are always freed: their
 * tag length is part of the set-up.  Safe on NULL.
 */
EVP_CIPHER_CTX *algs_ctx_get(enum algs_cipher a);
void algs_ctx_put(enum algs_cipher a, EVP_CIPHER_CTX *c, bool wipe);

/* Free everything fetched, and the calling thread's pooled contexts.
 * Only at exit (for leak checkers): no call of this module, tls/decrypt.c
 * or quic/quic.c may follow. */
void algs_cleanup(void);

#endif
