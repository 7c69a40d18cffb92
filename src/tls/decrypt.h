/*
 * decrypt.h - TLS 1.3 record protection, receive side (RFC 8446 5.2, 7.1, 7.3).
 *
 * Given a traffic secret (from the key log, tls/keylog.h) and the cipher
 * suite the ServerHello selected, this module derives the record key and
 * IV and opens protected records one at a time, in order, per direction.
 * All cryptography is OpenSSL libcrypto (HKDF over its digests, util/algs.h;
 * EVP AEAD ciphers); algorithms are fetched once per process, and each
 * direction keeps one EVP_CIPHER_CTX keyed once, so a record costs one
 * nonce setup and one AEAD pass.
 *
 * It does not: run the key schedule (secrets come from the key log), track
 * KeyUpdate (the caller moves to the next secret), parse the handshake
 * messages it decrypts, decrypt TLS 1.2 or earlier, or seal records.
 * A record that fails authentication is reported as TLS13_E_AUTH and its
 * would-be plaintext is wiped: a wrong key gives "not decryptable", never
 * garbage.
 *
 * Supported suites (RFC 8446 B.4):
 *   0x1301 TLS_AES_128_GCM_SHA256        key 16  tag 16  SHA-256
 *   0x1302 TLS_AES_256_GCM_SHA384        key 32  tag 16  SHA-384
 *   0x1303 TLS_CHACHA20_POLY1305_SHA256  key 32  tag 16  SHA-256
 *   0x1304 TLS_AES_128_CCM_SHA256        key 16  tag 16  SHA-256
 *   0x1305 TLS_AES_128_CCM_8_SHA256      key 16  tag  8  SHA-256
 * All use a 12-byte IV.
 *
 * Wire layout of a protected record (RFC 8446 5.2):
 *
 *    0      1      2      3      4      5 ...
 *   +------+------+------+------+------+---------------------------+-----+
 *   | 0x17 | 0x03   0x03 |  length     | encrypted_record          | tag |
 *   +------+------+------+------+------+---------------------------+-----+
 *   opaque_type legacy_record_version  <- length bytes, <= 2^14+256 ->
 *   \_______ additional_data (the 5-byte header as sent) _______/
 *
 *   decrypts to TLSInnerPlaintext:
 *   +---------------------------+------+--------------+
 *   | content (<= 2^14)         | type | zeros (pad)  |
 *   +---------------------------+------+--------------+
 *
 *   nonce = iv XOR (64-bit sequence number, big-endian, left-padded to 12)
 *
 * HKDF-Expand-Label (RFC 8446 7.1) expands over this HkdfLabel as info:
 *
 *   +------+------+-----+--------------------+-----+-----------------+
 *   | length (2)  | n   | "tls13 " + Label   | m   | Context         |
 *   +------+------+-----+--------------------+-----+-----------------+
 *                  uint8  n = 6 + len(Label)  uint8  m <= 255
 *
 * Memory: a struct tls13_dir_cipher owns one EVP_CIPHER_CTX (about 1 KiB
 * inside libcrypto, outside any memcap; from util/algs.c's per-thread pool,
 * handed back keyed with zeros).  Keys and IVs are wiped (OPENSSL_cleanse)
 * by tls13_keys_wipe() and tls13_dir_cipher_release().
 */
#ifndef PINSCOPE_TLS_DECRYPT_H
#define PINSCOPE_TLS_DECRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#define TLS13_SUITE_AES_128_GCM_SHA256        0x1301
#define TLS13_SUITE_AES_256_GCM_SHA384        0x1302
#define TLS13_SUITE_CHACHA20_POLY1305_SHA256  0x1303
#define TLS13_SUITE_AES_128_CCM_SHA256        0x1304
#define TLS13_SUITE_AES_128_CCM_8_SHA256      0x1305

#define TLS13_RECORD_HDR_LEN   5
#define TLS13_MAX_CIPHERTEXT   (16384 + 256)  /* TLSCiphertext.length limit (5.2) */
#define TLS13_MAX_INNER        (16384 + 1)    /* TLSInnerPlaintext limit (5.4) */
#define TLS13_KEY_MAX          32
#define TLS13_IV_LEN           12
#define TLS13_HASH_MAX         48

enum tls13_hash {
    TLS13_HASH_SHA256 = 0,
    TLS13_HASH_SHA384 = 1,
};

/* 0 or one of these. */
enum tls13_err {
    TLS13_OK = 0,
    TLS13_E_SUITE = -1,         /* cipher suite not supported */
    TLS13_E_SECRET_LEN = -2,    /* secret length is not the suite's hash length */
    TLS13_E_ARG = -3,           /* NULL pointer, bad label/context/output length */
    TLS13_E_CRYPTO = -4,        /* libcrypto failed or lacks the algorithm */
    TLS13_E_RECORD_LEN = -5,    /* ciphertext over 2^14+256, under tag+1, or
                                   not the length the header states */
    TLS13_E_AUTH = -6,          /* authentication failed: wrong key, wrong
                                   sequence, or altered record */
    TLS13_E_NO_CONTENT_TYPE = -7, /* authentic, but the plaintext is all zeros */
    TLS13_E_INNER_LEN = -8,     /* authentic, but inner plaintext over 2^14+1 */
    TLS13_E_OUT_SPACE = -9,     /* out_cap smaller than the ciphertext minus tag */
    TLS13_E_SEQ = -10,          /* sequence number space used up */
};

/* Record protection keys of one direction (RFC 8446 7.3). */
struct tls13_keys {
    uint16_t suite;
    uint8_t hash;                 /* enum tls13_hash */
    uint8_t key_len;              /* 16 or 32 */
    uint8_t tag_len;              /* 16, or 8 for CCM_8 */
    uint8_t key[TLS13_KEY_MAX];
    uint8_t iv[TLS13_IV_LEN];
};

/* One direction's record decryption state.  Zero-initialise, then
 * tls13_dir_cipher_init(); release with tls13_dir_cipher_release(). */
struct tls13_dir_cipher {
    struct tls13_keys k;
    uint64_t seq;                 /* sequence number of the next record */
    EVP_CIPHER_CTX *ctx;          /* owned */
};

/* True if `suite` is one of the five above (and libcrypto provides it). */
bool tls13_suite_supported(uint16_t suite);

/* Hash length of a suite's hash (32 or 48), 0 if unsupported.  This is the
 * length a traffic secret for that suite must have. */
size_t tls13_suite_hash_len(uint16_t suite);

size_t tls13_hash_len(enum tls13_hash h);

/*
 * HKDF-Expand-Label(secret, label, context, out_len) with `hash` (RFC 8446
 * 7.1).  `label` is without the "tls13 " prefix ("key", "iv", "quic key",
 * "quic hp", ...), 1..249 bytes; context_len <= 255; 1 <= out_len <=
 * 255 * hash length.  Writes out[0..out_len).  Returns 0, TLS13_E_ARG or
 * TLS13_E_CRYPTO (out is then wiped).
 */
int tls13_hkdf_expand_label(enum tls13_hash hash, const uint8_t *secret, size_t secret_len,
                            const char *label, const uint8_t *context, size_t context_len,
                            uint8_t *out, size_t out_len);

/* Several HKDF-Expand-Labels from one secret with an empty context, the
 * secret keyed once: req[i].out[out_len] for each i < n.  The labels and
 * lengths are checked as above.  Returns 0, TLS13_E_ARG or TLS13_E_CRYPTO
 * (every output wiped then).  n <= TLS13_LABELS_MAX. */
#define TLS13_LABELS_MAX 4
struct tls13_label_req {
    const char *label;
    uint8_t *out;
    size_t out_len;
};
int tls13_hkdf_expand_labels(enum tls13_hash hash, const uint8_t *secret, size_t secret_len,
                             const struct tls13_label_req *req, size_t n);

/*
 * Derive the record key and IV of `cipher_suite` from a traffic secret
 * (client/server handshake or application traffic secret):
 *   key = HKDF-Expand-Label(secret, "key", "", key_length)
 *   iv  = HKDF-Expand-Label(secret, "iv",  "", 12)
 * Returns 0, TLS13_E_SUITE, TLS13_E_SECRET_LEN (secret_len must be the
 * suite's hash length), TLS13_E_ARG or TLS13_E_CRYPTO; on failure *out is
 * wiped.  Wipe *out with tls13_keys_wipe() when done.
 */
int tls13_keys_derive(uint16_t cipher_suite, const uint8_t *traffic_secret, size_t secret_len,
                      struct tls13_keys *out);

void tls13_keys_wipe(struct tls13_keys *k);

/*
 * Prepare a direction to open records with keys `k` (copied), sequence 0.
 * Allocates the cipher context.  Returns 0, TLS13_E_SUITE or TLS13_E_CRYPTO
 * (nothing allocated then).  Calling it on an initialised struct releases
 * the old state first.
 */
int tls13_dir_cipher_init(struct tls13_dir_cipher *c, const struct tls13_keys *k);

/* Derive keys from a traffic secret and init in one step (intermediate keys
 * wiped).  Returns as tls13_keys_derive() / tls13_dir_cipher_init(). */
int tls13_dir_cipher_init_secret(struct tls13_dir_cipher *c, uint16_t cipher_suite,
                                 const uint8_t *traffic_secret, size_t secret_len);

/* Free the context and wipe the keys; the struct is zeroed and may be
 * initialised again.  Safe on a zeroed struct. */
void tls13_dir_cipher_release(struct tls13_dir_cipher *c);

/*
 * Open one protected record.  hdr5 is the record header exactly as on the
 * wire (it is the AEAD additional data); its length field must equal len.
 * ciphertext[0..len) is the encrypted_record including the tag.  The inner
 * content goes to out[0..*out_len) with padding stripped, and its real
 * content type to *inner_type.  out_cap must be at least len - tag length
 * (TLS13_MAX_CIPHERTEXT always suffices); out may equal ciphertext (in
 * place) but must not overlap it otherwise.
 *
 * Returns 0, or:
 *   TLS13_E_ARG, TLS13_E_RECORD_LEN, TLS13_E_OUT_SPACE, TLS13_E_SEQ:
 *       nothing tried, sequence unchanged;
 *   TLS13_E_AUTH: not decryptable with this key at this sequence number;
 *       out is wiped, sequence unchanged (a later record cannot be opened
 *       either, so the caller should stop on this direction);
 *   TLS13_E_NO_CONTENT_TYPE, TLS13_E_INNER_LEN: the record is authentic but
 *       breaks RFC 8446 5.4 (the peer would abort); sequence advanced;
 *   TLS13_E_CRYPTO: libcrypto failed.
 * *out_len and *inner_type are 0 on any failure.
 * Note: the sequence number advances on every record that authenticates,
 * which is also what the sender did; only success returns 0.
 */
int tls13_record_open(struct tls13_dir_cipher *c, const uint8_t *hdr5,
                      const uint8_t *ciphertext, size_t len, uint8_t *out, size_t out_cap,
                      size_t *out_len, uint8_t *inner_type);

/* "auth_failed", "unsupported_suite", ... for counters and logs. */
const char *tls13_err_name(int err);

/* Free the algorithms fetched on first use.  Only at exit (for leak
 * checkers); no other call of this module may follow. */
void tls13_crypto_cleanup(void);

#endif
