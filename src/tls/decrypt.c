/*
 * decrypt.c - TLS 1.3 record decryption with libcrypto (see decrypt.h).
 *
 * The HKDF, the AEAD ciphers and the tag check are OpenSSL's; this file
 * builds the HkdfLabel, the per-record nonce and additional data, checks the
 * lengths RFC 8446 sets, and strips the inner padding.  Algorithms are
 * fetched once (util/algs.c) and shared read-only; a suite whose
 * cipher the loaded providers lack reports TLS13_E_CRYPTO.
 *
 * GCM and ChaCha20-Poly1305 are keyed once per direction; each record only
 * sets the nonce and the expected tag.  CCM needs the tag and the message
 * length before the data, so its record path sets those first; the key
 * stays in the context between records there too.
 */
#include "tls/decrypt.h"

#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "util/algs.h"
#include "util/rd.h"

enum aead_kind { AEAD_GCM, AEAD_CHACHA, AEAD_CCM };

struct suite_info {
    uint16_t id;
    uint8_t hash;         /* enum tls13_hash */
    uint8_t key_len;
    uint8_t tag_len;
    uint8_t kind;         /* enum aead_kind */
    uint8_t alg;          /* enum algs_cipher */
};

static const struct suite_info suites[] = {
    { TLS13_SUITE_AES_128_GCM_SHA256, TLS13_HASH_SHA256, 16, 16, AEAD_GCM, ALGS_AES128GCM },
    { TLS13_SUITE_AES_256_GCM_SHA384, TLS13_HASH_SHA384, 32, 16, AEAD_GCM, ALGS_AES256GCM },
    { TLS13_SUITE_CHACHA20_POLY1305_SHA256, TLS13_HASH_SHA256, 32, 16, AEAD_CHACHA, ALGS_CHACHAPOLY },
    { TLS13_SUITE_AES_128_CCM_SHA256, TLS13_HASH_SHA256, 16, 16, AEAD_CCM, ALGS_AES128CCM },
    { TLS13_SUITE_AES_128_CCM_8_SHA256, TLS13_HASH_SHA256, 16, 8, AEAD_CCM, ALGS_AES128CCM },
};

void tls13_crypto_cleanup(void)
{
    algs_cleanup();
}

static const struct suite_info *suite_find(uint16_t id)
{
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
        if (suites[i].id == id)
            return &suites[i];
    return NULL;
}

bool tls13_suite_supported(uint16_t suite)
{
    const struct suite_info *s = suite_find(suite);
    return s && algs_cipher(s->alg) &&
           algs_hkdf_ready(s->hash == TLS13_HASH_SHA384 ? ALGS_SHA384 : ALGS_SHA256);
}

size_t tls13_hash_len(enum tls13_hash h)
{
    switch (h) {
    case TLS13_HASH_SHA256:
        return 32;
    case TLS13_HASH_SHA384:
        return 48;
    }
    return 0;
}

size_t tls13_suite_hash_len(uint16_t suite)
{
    const struct suite_info *s = suite_find(suite);
    return s ? tls13_hash_len((enum tls13_hash)s->hash) : 0;
}

/* HkdfLabel (RFC 8446 7.1): uint16 length, opaque label<7..255>, opaque
 * context<0..255>, into info[]; its length, or 0 if an argument is out of
 * range. */
#define HKDF_LABEL_MAX (2 + 1 + 255 + 1 + 255)
static size_t hkdf_label(size_t hlen, const char *label, const uint8_t *context,
                         size_t context_len, size_t out_len, uint8_t info[HKDF_LABEL_MAX])
{
    static const char prefix[] = "tls13 ";
    const size_t prefix_len = sizeof prefix - 1;
    size_t label_len = label ? strlen(label) : 0;
    if (!hlen || label_len == 0 || label_len > 255 - prefix_len || context_len > 255 ||
        (!context && context_len) || out_len == 0 || out_len > 255 * hlen)
        return 0;
    size_t n = 0;
    info[n++] = (uint8_t)(out_len >> 8);
    info[n++] = (uint8_t)out_len;
    info[n++] = (uint8_t)(prefix_len + label_len);
    memcpy(info + n, prefix, prefix_len);
    n += prefix_len;
    memcpy(info + n, label, label_len);
    n += label_len;
    info[n++] = (uint8_t)context_len;
    if (context_len)
        memcpy(info + n, context, context_len);
    n += context_len;
    return n;
}

int tls13_hkdf_expand_label(enum tls13_hash hash, const uint8_t *secret, size_t secret_len,
                            const char *label, const uint8_t *context, size_t context_len,
                            uint8_t *out, size_t out_len)
{
    size_t hlen = tls13_hash_len(hash);
    uint8_t info[HKDF_LABEL_MAX];

    if (!out)
        return TLS13_E_ARG;
    size_t n = hkdf_label(hlen, label, context, context_len, out_len, info);
    if (!secret || secret_len == 0 || n == 0) {
        OPENSSL_cleanse(out, out_len);
        return TLS13_E_ARG;
    }
    int ok = algs_hkdf_expand(hash == TLS13_HASH_SHA384 ? ALGS_SHA384 : ALGS_SHA256, secret,
                              secret_len, info, n, out, out_len);
    if (!ok) {
        OPENSSL_cleanse(out, out_len);
        return TLS13_E_CRYPTO;
    }
    return TLS13_OK;
}

int tls13_hkdf_expand_labels(enum tls13_hash hash, const uint8_t *secret, size_t secret_len,
                             const struct tls13_label_req *req, size_t n)
{
    size_t hlen = tls13_hash_len(hash);
    uint8_t info[TLS13_LABELS_MAX][HKDF_LABEL_MAX];
    struct algs_expand_req er[TLS13_LABELS_MAX];
    memset(er, 0, sizeof er);
    int rc = TLS13_OK;

    if (!req || n > TLS13_LABELS_MAX)
        return TLS13_E_ARG;
    for (size_t i = 0; i < n; i++) {
        er[i] = (struct algs_expand_req){ info[i], 0, req[i].out, req[i].out_len };
        if (!req[i].out)
            rc = TLS13_E_ARG;
        else if (!(er[i].info_len = hkdf_label(hlen, req[i].label, NULL, 0, req[i].out_len,
                                               info[i])))
            rc = TLS13_E_ARG;
    }
    if (rc == TLS13_OK && (!secret || secret_len == 0))
        rc = TLS13_E_ARG;
    if (rc == TLS13_OK &&
        !algs_hkdf_expand_n(hash == TLS13_HASH_SHA384 ? ALGS_SHA384 : ALGS_SHA256, secret,
                            secret_len, er, n))
        rc = TLS13_E_CRYPTO;
    if (rc != TLS13_OK)
        for (size_t i = 0; i < n; i++)
            if (req[i].out)
                OPENSSL_cleanse(req[i].out, req[i].out_len);
    return rc;
}

void tls13_keys_wipe(struct tls13_keys *k)
{
    if (k)
        OPENSSL_cleanse(k, sizeof *k);
}

int tls13_keys_derive(uint16_t cipher_suite, const uint8_t *traffic_secret, size_t secret_len,
                      struct tls13_keys *out)
{
    if (!out)
        return TLS13_E_ARG;
    memset(out, 0, sizeof *out);
    const struct suite_info *s = suite_find(cipher_suite);
    if (!s)
        return TLS13_E_SUITE;
    if (!traffic_secret)
        return TLS13_E_ARG;
    if (secret_len != tls13_hash_len((enum tls13_hash)s->hash))
        return TLS13_E_SECRET_LEN;

    out->suite = s->id;
    out->hash = s->hash;
    out->key_len = s->key_len;
    out->tag_len = s->tag_len;
    const struct tls13_label_req req[2] = {
        { "key", out->key, s->key_len },
        { "iv", out->iv, TLS13_IV_LEN },
    };
    int rc = tls13_hkdf_expand_labels((enum tls13_hash)s->hash, traffic_secret, secret_len,
                                      req, 2);
    if (rc != TLS13_OK)
        tls13_keys_wipe(out);
    return rc;
}

void tls13_dir_cipher_release(struct tls13_dir_cipher *c)
{
    if (!c)
        return;
    const struct suite_info *s = suite_find(c->k.suite);
    if (s)
        algs_ctx_put((enum algs_cipher)s->alg, c->ctx, true);   /* zero key, then kept or freed */
    else
        EVP_CIPHER_CTX_free(c->ctx);   /* cleanses the expanded key */
    OPENSSL_cleanse(c, sizeof *c);
}

int tls13_dir_cipher_init(struct tls13_dir_cipher *c, const struct tls13_keys *k)
{
    if (!c || !k)
        return TLS13_E_ARG;
    tls13_dir_cipher_release(c);
    const struct suite_info *s = suite_find(k->suite);
    if (!s || k->key_len != s->key_len || k->tag_len != s->tag_len)
        return TLS13_E_SUITE;
    if (!algs_cipher(s->alg))
        return TLS13_E_CRYPTO;

    EVP_CIPHER_CTX *ctx = algs_ctx_get((enum algs_cipher)s->alg);   /* cipher set, no key */
    if (!ctx)
        return TLS13_E_CRYPTO;
    int ok = 1;   /* IV length 12 (TLS13_IV_LEN) already */
    if (ok && s->kind == AEAD_CCM)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, s->tag_len, NULL) == 1;
    if (ok)
        ok = EVP_DecryptInit_ex2(ctx, NULL, k->key, NULL, NULL) == 1;
    if (!ok) {
        algs_ctx_put((enum algs_cipher)s->alg, ctx, true);
        return TLS13_E_CRYPTO;
    }
    c->k = *k;
    c->seq = 0;
    c->ctx = ctx;
    return TLS13_OK;
}

int tls13_dir_cipher_init_secret(struct tls13_dir_cipher *c, uint16_t cipher_suite,
                                 const uint8_t *traffic_secret, size_t secret_len)
{
    struct tls13_keys k;
    if (!c)
        return TLS13_E_ARG;
    int rc = tls13_keys_derive(cipher_suite, traffic_secret, secret_len, &k);
    if (rc == TLS13_OK)
        rc = tls13_dir_cipher_init(c, &k);
    tls13_keys_wipe(&k);
    return rc;
}

/* The AEAD pass.  Returns 0, TLS13_E_AUTH or TLS13_E_CRYPTO. */
static int aead_open(struct tls13_dir_cipher *c, const uint8_t nonce[TLS13_IV_LEN],
                     const uint8_t *aad, const uint8_t *ct, int ct_len, const uint8_t *tag,
                     uint8_t *out)
{
    EVP_CIPHER_CTX *ctx = c->ctx;
    uint8_t tagbuf[16];
    int tag_len = c->k.tag_len, n = 0, fin = 0;
    bool ccm = suite_find(c->k.suite)->kind == AEAD_CCM;   /* checked at init */

    memcpy(tagbuf, tag, (size_t)tag_len);   /* the ctrl takes a non-const pointer */
    if (ccm) {
        if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, tag_len, tagbuf) != 1 ||
            EVP_DecryptInit_ex2(ctx, NULL, NULL, nonce, NULL) != 1 ||
            EVP_DecryptUpdate(ctx, NULL, &n, NULL, ct_len) != 1 ||
            EVP_DecryptUpdate(ctx, NULL, &n, aad, TLS13_RECORD_HDR_LEN) != 1)
            return TLS13_E_CRYPTO;
        /* CCM verifies the tag inside this update. */
        if (EVP_DecryptUpdate(ctx, out, &n, ct, ct_len) != 1)
            return TLS13_E_AUTH;
        return n == ct_len ? TLS13_OK : TLS13_E_CRYPTO;
    }
    if (EVP_DecryptInit_ex2(ctx, NULL, NULL, nonce, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, tag_len, tagbuf) != 1 ||
        EVP_DecryptUpdate(ctx, NULL, &n, aad, TLS13_RECORD_HDR_LEN) != 1 ||
        EVP_DecryptUpdate(ctx, out, &n, ct, ct_len) != 1)
        return TLS13_E_CRYPTO;
    if (EVP_DecryptFinal_ex(ctx, out + n, &fin) != 1)
        return TLS13_E_AUTH;
    return n + fin == ct_len ? TLS13_OK : TLS13_E_CRYPTO;
}

int tls13_record_open(struct tls13_dir_cipher *c, const uint8_t *hdr5,
                      const uint8_t *ciphertext, size_t len, uint8_t *out, size_t out_cap,
                      size_t *out_len, uint8_t *inner_type)
{
    if (out_len)
        *out_len = 0;
    if (inner_type)
        *inner_type = 0;
    if (!c || !c->ctx || !hdr5 || !ciphertext || !out || !out_len || !inner_type)
        return TLS13_E_ARG;

    struct rd h;
    rd_init(&h, hdr5, TLS13_RECORD_HDR_LEN);
    rd_skip(&h, 3);                       /* opaque_type, legacy_record_version */
    size_t stated = rd_u16(&h);
    size_t tag_len = c->k.tag_len;
    if (stated != len || len > TLS13_MAX_CIPHERTEXT || len < tag_len + 1)
        return TLS13_E_RECORD_LEN;
    size_t ct_len = len - tag_len;
    if (out_cap < ct_len)
        return TLS13_E_OUT_SPACE;
    if (c->seq == UINT64_MAX)
        return TLS13_E_SEQ;

    /* nonce = iv XOR seq (big-endian, left-padded with zeros) */
    uint8_t nonce[TLS13_IV_LEN];
    memcpy(nonce, c->k.iv, sizeof nonce);
    for (int i = 0; i < 8; i++)
        nonce[TLS13_IV_LEN - 1 - i] ^= (uint8_t)(c->seq >> (8 * i));

    struct rd r;
    struct rd ct, tag;
    rd_init(&r, ciphertext, len);
    rd_sub(&r, ct_len, &ct);
    rd_sub(&r, tag_len, &tag);
    int rc = aead_open(c, nonce, hdr5, rd_ptr(&ct), (int)ct_len, rd_ptr(&tag), out);
    OPENSSL_cleanse(nonce, sizeof nonce);
    if (rc != TLS13_OK) {
        OPENSSL_cleanse(out, ct_len);
        return rc;
    }
    c->seq++;

    /* TLSInnerPlaintext: content, type (non-zero), zeros. */
    if (ct_len > TLS13_MAX_INNER)
        return TLS13_E_INNER_LEN;
    size_t i = ct_len;
    while (i > 0 && out[i - 1] == 0)
        i--;
    if (i == 0)
        return TLS13_E_NO_CONTENT_TYPE;
    *inner_type = out[i - 1];
    *out_len = i - 1;
    return TLS13_OK;
}

const char *tls13_err_name(int err)
{
    switch (err) {
    case TLS13_OK:
        return "ok";
    case TLS13_E_SUITE:
        return "unsupported_suite";
    case TLS13_E_SECRET_LEN:
        return "secret_length";
    case TLS13_E_ARG:
        return "invalid_argument";
    case TLS13_E_CRYPTO:
        return "crypto_error";
    case TLS13_E_RECORD_LEN:
        return "record_length";
    case TLS13_E_AUTH:
        return "auth_failed";
    case TLS13_E_NO_CONTENT_TYPE:
        return "no_content_type";
    case TLS13_E_INNER_LEN:
        return "inner_plaintext_too_long";
    case TLS13_E_OUT_SPACE:
        return "output_too_small";
    case TLS13_E_SEQ:
        return "sequence_exhausted";
    }
    return "unknown";
}
