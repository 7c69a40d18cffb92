/*
 * algs.c - OpenSSL algorithms fetched once (see algs.h).
 */
/* HMAC and the one-shot digests run on SHA_CTX / SHA256_CTX / SHA512_CTX
 * states, which libcrypto 3 marks deprecated but still provides: they live
 * on the stack and copy with a memcpy, where an EVP_MD_CTX allocates on
 * every init and copy. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "util/algs.h"

#include "config.h"
#include "util/tstate.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[ALGS_CIPHER_COUNT] = {
    "AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305", "AES-128-CCM",
    "AES-128-ECB", "AES-256-ECB", "ChaCha20",
};

static CRYPTO_ONCE once = CRYPTO_ONCE_STATIC_INIT;
static EVP_CIPHER *ciphers[ALGS_CIPHER_COUNT];
static EVP_MD *sha256, *sha384;
static EVP_MD *hkdf_md[ALGS_HASH_COUNT];          /* sha256, sha384: HKDF is ready */
static const size_t hash_len[ALGS_HASH_COUNT] = { 32, 48 };
static const size_t block_len[ALGS_HASH_COUNT] = { 64, 128 };
#define BLOCK_MAX 128
#define HASH_MAX 48

/* One thread's pooled cipher contexts (algs_ctx_get). */
struct ws {
    unsigned n_pool[ALGS_CIPHER_COUNT];
    EVP_CIPHER_CTX *pool[ALGS_CIPHER_COUNT][CFG_CIPHER_CTX_POOL];   /* zero or public key */
};

/* Releases the pooled contexts (the block itself is tstate's). */
static void ws_destroy(void *p)
{
    struct ws *w = p;
    for (int a = 0; a < ALGS_CIPHER_COUNT; a++)
        for (unsigned i = 0; i < w->n_pool[a]; i++)
            EVP_CIPHER_CTX_free(w->pool[a][i]);
}

static struct tstate ws_state = TSTATE_INIT(sizeof(struct ws), NULL, NULL, ws_destroy);

static void fetch_all(void)
{
    for (int i = 0; i < ALGS_CIPHER_COUNT; i++)
        ciphers[i] = EVP_CIPHER_fetch(NULL, names[i], NULL);
    sha256 = EVP_MD_fetch(NULL, OSSL_DIGEST_NAME_SHA2_256, NULL);
    sha384 = EVP_MD_fetch(NULL, OSSL_DIGEST_NAME_SHA2_384, NULL);
    const EVP_MD *md[ALGS_HASH_COUNT] = { sha256, sha384 };
    for (int h = 0; h < ALGS_HASH_COUNT; h++)
        if (md[h] && (size_t)EVP_MD_get_size(md[h]) == hash_len[h] &&
            (size_t)EVP_MD_get_block_size(md[h]) == block_len[h])
            hkdf_md[h] = (EVP_MD *)md[h];
}

/* This thread's pools, made on first use; NULL if that fails. */
static struct ws *ws_get(void)
{
    return tstate_get(&ws_state);
}

const EVP_CIPHER *algs_cipher(enum algs_cipher a)
{
    if ((unsigned)a >= ALGS_CIPHER_COUNT || CRYPTO_THREAD_run_once(&once, fetch_all) != 1)
        return NULL;
    return ciphers[a];
}

int algs_hkdf_ready(enum algs_hash h)
{
    return (unsigned)h < ALGS_HASH_COUNT && CRYPTO_THREAD_run_once(&once, fetch_all) == 1 &&
           hkdf_md[h] != NULL;
}

void algs_sha1_once(const void *p, size_t n, unsigned char out[20])
{
    SHA_CTX c;
    SHA1_Init(&c);
    SHA1_Update(&c, p, n);
    SHA1_Final(out, &c);
}

void algs_sha256_once(const void *p, size_t n, unsigned char out[32])
{
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, p, n);
    SHA256_Final(out, &c);
}

/* A SHA-256 or SHA-384 state. */
struct hstate {
    union {
        SHA256_CTX s256;
        SHA512_CTX s512;
    } u;
};

static int hs_init(enum algs_hash h, struct hstate *st)
{
    return h == ALGS_SHA256 ? SHA256_Init(&st->u.s256) : SHA384_Init(&st->u.s512);
}

static int hs_update(enum algs_hash h, struct hstate *st, const unsigned char *p, size_t n)
{
    if (n == 0)
        return 1;
    return h == ALGS_SHA256 ? SHA256_Update(&st->u.s256, p, n) : SHA384_Update(&st->u.s512, p, n);
}

static int hs_final(enum algs_hash h, struct hstate *st, unsigned char *out)
{
    return h == ALGS_SHA256 ? SHA256_Final(out, &st->u.s256) : SHA384_Final(out, &st->u.s512);
}

/* A keyed HMAC (RFC 2104): in has absorbed K XOR ipad, out K XOR opad, K
 * being the key zero-padded to the block (hashed first if longer). */
struct hkey {
    enum algs_hash h;
    struct hstate in, out;
};

static int key_set(struct hkey *k, enum algs_hash h, const unsigned char *key, size_t key_len)
{
    size_t bl = block_len[h];
    unsigned char kb[BLOCK_MAX], pad[BLOCK_MAX];
    struct hstate t;
    int ok = 1;

    k->h = h;
    memset(kb, 0, sizeof kb);
    if (key_len > bl)
        ok = hs_init(h, &t) && hs_update(h, &t, key, key_len) && hs_final(h, &t, kb);
    else if (key_len)
        memcpy(kb, key, key_len);
    for (size_t i = 0; i < bl; i++)
        pad[i] = kb[i] ^ 0x36;
    ok = ok && hs_init(h, &k->in) && hs_update(h, &k->in, pad, bl);
    for (size_t i = 0; i < bl; i++)
        pad[i] = kb[i] ^ 0x5c;
    ok = ok && hs_init(h, &k->out) && hs_update(h, &k->out, pad, bl);
    OPENSSL_cleanse(kb, sizeof kb);
    OPENSSL_cleanse(pad, sizeof pad);
    if (key_len > bl)
        OPENSSL_cleanse(&t, sizeof t);
    return ok;
}

/* out[hash length] = HMAC(k, a || b || c), with one byte c (skipped when
 * c is negative).  *w is scratch (wiped by the caller). */
static int hmac3(const struct hkey *k, struct hstate *w, const unsigned char *a, size_t a_len,
                 const unsigned char *b, size_t b_len, int c, unsigned char *out)
{
    unsigned char inner[HASH_MAX], cb = (unsigned char)c;
    enum algs_hash h = k->h;
    *w = k->in;
    int ok = hs_update(h, w, a, a_len) && hs_update(h, w, b, b_len) &&
             (c < 0 || hs_update(h, w, &cb, 1)) && hs_final(h, w, inner);
    *w = k->out;
    ok = ok && hs_update(h, w, inner, hash_len[h]) && hs_final(h, w, out);
    OPENSSL_cleanse(inner, sizeof inner);
    return ok;
}

int algs_hkdf_extract(enum algs_hash h, const unsigned char *salt, size_t salt_len,
                      const unsigned char *ikm, size_t ikm_len, unsigned char *out)
{
    struct hkey k;
    struct hstate w;
    if (!algs_hkdf_ready(h))
        return 0;
    int ok = key_set(&k, h, salt, salt_len) && hmac3(&k, &w, ikm, ikm_len, NULL, 0, -1, out);
    OPENSSL_cleanse(&k, sizeof k);
    OPENSSL_cleanse(&w, sizeof w);
    if (!ok)
        OPENSSL_cleanse(out, hash_len[h]);
    return ok;
}

/* T(i) = HMAC(PRK, T(i-1) || info || i), T(0) empty, with PRK keyed in k. */
static int expand_keyed(const struct hkey *k, struct hstate *w, const unsigned char *info,
                        size_t info_len, unsigned char *out, size_t out_len)
{
    unsigned char t[HASH_MAX];
    size_t done = 0, hl = hash_len[k->h];
    int ok = 1;
    for (int i = 1; ok && done < out_len; i++) {
        ok = hmac3(k, w, t, i == 1 ? 0 : hl, info, info_len, i, t);
        size_t take = out_len - done < hl ? out_len - done : hl;
        memcpy(out + done, t, take);
        done += take;
    }
    OPENSSL_cleanse(t, sizeof t);
    return ok;
}

int algs_hkdf_expand_n(enum algs_hash h, const unsigned char *prk, size_t prk_len,
                       const struct algs_expand_req *req, size_t n)
{
    struct hkey k;
    struct hstate w;
    if ((unsigned)h >= ALGS_HASH_COUNT || (!req && n))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!req[i].out || req[i].out_len > 255 * hash_len[h])
            return 0;   /* nothing written */
    int ok = algs_hkdf_ready(h) && (prk || !prk_len);
    for (size_t i = 0; ok && i < n; i++)
        ok = req[i].info || !req[i].info_len;
    ok = ok && key_set(&k, h, prk, prk_len);
    for (size_t i = 0; ok && i < n; i++)
        ok = expand_keyed(&k, &w, req[i].info, req[i].info_len, req[i].out, req[i].out_len);
    OPENSSL_cleanse(&k, sizeof k);
    OPENSSL_cleanse(&w, sizeof w);
    if (!ok)
        for (size_t i = 0; i < n; i++)
            OPENSSL_cleanse(req[i].out, req[i].out_len);
    return ok;
}

int algs_hkdf_expand(enum algs_hash h, const unsigned char *prk, size_t prk_len,
                     const unsigned char *info, size_t info_len, unsigned char *out,
                     size_t out_len)
{
    struct algs_expand_req r = { info, info_len, out, out_len };
    return out && algs_hkdf_expand_n(h, prk, prk_len, &r, 1);
}

struct algs_hmac_key {
    struct hkey k;
};

void algs_hmac_key_free(struct algs_hmac_key *k)
{
    if (k)
        OPENSSL_clear_free(k, sizeof *k);
}

struct algs_hmac_key *algs_hmac_key_new(enum algs_hash h, const unsigned char *key,
                                        size_t key_len)
{
    if (!algs_hkdf_ready(h) || (!key && key_len))
        return NULL;
    struct algs_hmac_key *k = OPENSSL_zalloc(sizeof *k);
    if (k && !key_set(&k->k, h, key, key_len)) {
        algs_hmac_key_free(k);
        return NULL;
    }
    return k;
}

int algs_hkdf_extract_key(const struct algs_hmac_key *salt, const unsigned char *ikm,
                          size_t ikm_len, unsigned char *out)
{
    struct hstate w;
    if (!salt || !out)
        return 0;
    int ok = (ikm || !ikm_len) && hmac3(&salt->k, &w, ikm, ikm_len, NULL, 0, -1, out);
    OPENSSL_cleanse(&w, sizeof w);
    if (!ok)
        OPENSSL_cleanse(out, hash_len[salt->k.h]);
    return ok;
}

/* Header protection ciphers encrypt; the AEADs decrypt. */
static bool ctx_encrypts(enum algs_cipher a)
{
    return a == ALGS_AES128ECB || a == ALGS_AES256ECB || a == ALGS_CHACHA20;
}

EVP_CIPHER_CTX *algs_ctx_get(enum algs_cipher a)
{
    const EVP_CIPHER *ci = algs_cipher(a);
    if (!ci)
        return NULL;
    struct ws *w = ws_get();
    if (w && w->n_pool[a] > 0)
        return w->pool[a][--w->n_pool[a]];
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    bool enc = ctx_encrypts(a);
    int ok = c && (enc ? EVP_EncryptInit_ex2(c, ci, NULL, NULL, NULL)
                       : EVP_DecryptInit_ex2(c, ci, NULL, NULL, NULL)) == 1;
    if (ok && enc && a != ALGS_CHACHA20)
        ok = EVP_CIPHER_CTX_set_padding(c, 0) == 1;
    if (ok && !enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) == 1;
    if (!ok) {
        EVP_CIPHER_CTX_free(c);
        return NULL;
    }
    return c;
}

void algs_ctx_put(enum algs_cipher a, EVP_CIPHER_CTX *c, bool wipe)
{
    static const unsigned char zero_key[32];
    if (!c)
        return;
    struct ws *w = (unsigned)a < ALGS_CIPHER_COUNT && a != ALGS_AES128CCM ? ws_get() : NULL;
    /* Keyed again with zeros (each cipher's key is at most 32 bytes) unless
     * the key is public: the last secret key's schedule does not stay. */
    if (w && w->n_pool[a] < CFG_CIPHER_CTX_POOL && EVP_CIPHER_CTX_get0_cipher(c) == algs_cipher(a) &&
        (!wipe || (ctx_encrypts(a) ? EVP_EncryptInit_ex2(c, NULL, zero_key, NULL, NULL)
                                   : EVP_DecryptInit_ex2(c, NULL, zero_key, NULL, NULL)) == 1)) {
        w->pool[a][w->n_pool[a]++] = c;
        return;
    }
    EVP_CIPHER_CTX_free(c);   /* cleanses the expanded key */
}

void algs_cleanup(void)
{
    for (int i = 0; i < ALGS_CIPHER_COUNT; i++) {
        EVP_CIPHER_free(ciphers[i]);
        ciphers[i] = NULL;
    }
    tstate_release(&ws_state);
    for (int h = 0; h < ALGS_HASH_COUNT; h++)
        hkdf_md[h] = NULL;
    EVP_MD_free(sha256);
    EVP_MD_free(sha384);
    sha256 = sha384 = NULL;
}
