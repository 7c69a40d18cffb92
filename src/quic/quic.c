/*
 * quic.c - QUIC long headers, packet protection and Initial/Handshake
 * frames, receive side (see quic.h).
 *
 * Every read of packet bytes goes through a struct rd; lengths taken from
 * the wire are compared with what is left before anything is skipped or
 * copied, so no field can point past the datagram.  The cryptography is
 * OpenSSL's: HKDF-Extract is util/algs.c's (HMAC over OpenSSL's SHA-256,
 * keyed with each version's salt once), HKDF-Expand-Label is
 * tls/decrypt.c's (each secret keyed once for all its labels), the AEADs and the header protection
 * ciphers (AES-ECB, ChaCha20) are EVP ciphers fetched once per process
 * (util/algs.c) and shared read-only.  Each struct quic_pp keys
 * its two contexts once (taken set up from util/algs.c's per-thread pool
 * and handed back on release); a packet costs one header-protection block, one
 * nonce setup and one AEAD pass.
 *
 * Version differences live in one table (versions[]): salt, key labels,
 * Retry key and nonce, and whether the long-header type bits are v2's.
 *
 * Shortcuts: 1-RTT key updates are not followed; AES-CCM (0x1304) needs the
 * header as one piece of additional data, so it is copied into a small
 * buffer and a longer header is refused (QUIC_E_LENGTH): CCM keys only come
 * from Handshake/1-RTT secrets, whose headers have no token and are at most
 * 59 bytes.
 */
#include "quic/quic.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "tls/decrypt.h"
#include "util/algs.h"

/* ------------------------------------------------------------- versions */

struct ver_info {
    uint32_t version;
    uint8_t kind;               /* enum quic_ver_kind */
    bool v2_types;              /* RFC 9369 3.2 type bits */
    const char *key_label, *iv_label, *hp_label;
    uint8_t salt[20];           /* initial_salt */
    uint8_t retry_key[16];      /* Retry integrity AES-128-GCM key and nonce */
    uint8_t retry_nonce[12];
};

static const struct ver_info versions[] = {
    {
        QUIC_VERSION_1, QUIC_VK_V1, false, "quic key", "quic iv", "quic hp",
        /* RFC 9001 5.2 */
        { 0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
          0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a },
        /* RFC 9001 5.8 */
        { 0xbe, 0x0c, 0x69, 0x0b, 0x9f, 0x66, 0x57, 0x5a,
          0x1d, 0x76, 0x6b, 0x54, 0xe3, 0x68, 0xc8, 0x4e },
        { 0x46, 0x15, 0x99, 0xd3, 0x5d, 0x63, 0x2b, 0xf2, 0x23, 0x98, 0x25, 0xbb },
    },
    {
        QUIC_VERSION_2, QUIC_VK_V2, true, "quicv2 key", "quicv2 iv", "quicv2 hp",
        /* RFC 9369 3.3.1 */
        { 0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
          0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9 },
        /* RFC 9369 3.3.3 */
        { 0x8f, 0xb4, 0xb0, 0x1b, 0x56, 0xac, 0x48, 0xe2,
          0x60, 0xfb, 0xcb, 0xce, 0xad, 0x7c, 0xcc, 0x92 },
        { 0xd8, 0x69, 0x69, 0xbc, 0x2d, 0x7c, 0x6d, 0x99, 0x90, 0xef, 0xb0, 0x4a },
    },
    {
        QUIC_VERSION_DRAFT29, QUIC_VK_DRAFT29, false, "quic key", "quic iv", "quic hp",
        /* draft-ietf-quic-tls-29 5.2, 5.8 */
        { 0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
          0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99 },
        { 0xcc, 0xce, 0x18, 0x7e, 0xd0, 0x9a, 0x09, 0xd0,
          0x57, 0x28, 0x15, 0x5a, 0x6c, 0xb9, 0x6b, 0xe1 },
        { 0xe5, 0x49, 0x30, 0xf9, 0x7f, 0x21, 0x36, 0xf0, 0x53, 0x0a, 0x8c, 0x1c },
    },
};

static const struct ver_info *ver_find(uint32_t version)
{
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++)
        if (versions[i].version == version)
            return &versions[i];
    return NULL;
}

enum quic_ver_kind quic_version_kind(uint32_t version)
{
    const struct ver_info *vi = ver_find(version);
    return vi ? (enum quic_ver_kind)vi->kind : QUIC_VK_UNKNOWN;
}

const char *quic_version_name(uint32_t version, char buf[16])
{
    switch (quic_version_kind(version)) {
    case QUIC_VK_V1:
        return "1";
    case QUIC_VK_V2:
        return "2";
    case QUIC_VK_DRAFT29:
        return "draft-29";
    case QUIC_VK_UNKNOWN:
        break;
    }
    snprintf(buf, 16, "0x%08x", (unsigned)version);
    return buf;
}

/* ----------------------------------------------------------- algorithms */

enum aead_kind { AEAD_GCM, AEAD_CHACHA, AEAD_CCM };

struct suite_info {
    uint16_t id;
    uint8_t hash;               /* enum tls13_hash */
    uint8_t key_len;            /* AEAD key = hp key length */
    uint8_t kind;               /* enum aead_kind */
    uint8_t aead_alg, hp_alg;   /* enum algs_cipher */
};

/* RFC 9001 5.3, 5.4.3, 5.4.4; CCM_8 (0x1305) is not allowed in QUIC. */
static const struct suite_info suites[] = {
    { TLS13_SUITE_AES_128_GCM_SHA256, TLS13_HASH_SHA256, 16, AEAD_GCM, ALGS_AES128GCM, ALGS_AES128ECB },
    { TLS13_SUITE_AES_256_GCM_SHA384, TLS13_HASH_SHA384, 32, AEAD_GCM, ALGS_AES256GCM, ALGS_AES256ECB },
    { TLS13_SUITE_CHACHA20_POLY1305_SHA256, TLS13_HASH_SHA256, 32, AEAD_CHACHA, ALGS_CHACHAPOLY,
      ALGS_CHACHA20 },
    { TLS13_SUITE_AES_128_CCM_SHA256, TLS13_HASH_SHA256, 16, AEAD_CCM, ALGS_AES128CCM, ALGS_AES128ECB },
};

/* HMAC keyed with each version's initial_salt, made once: an Initial's
 * HKDF-Extract is then one HMAC. */
#define N_VERSIONS (sizeof versions / sizeof versions[0])
static CRYPTO_ONCE salt_once = CRYPTO_ONCE_STATIC_INIT;
static struct algs_hmac_key *salt_key[N_VERSIONS];

static void salt_keys_make(void)
{
    for (size_t i = 0; i < N_VERSIONS; i++)
        salt_key[i] = algs_hmac_key_new(ALGS_SHA256, versions[i].salt, sizeof versions[i].salt);
}

static const struct algs_hmac_key *salt_key_of(const struct ver_info *vi)
{
    if (CRYPTO_THREAD_run_once(&salt_once, salt_keys_make) != 1)
        return NULL;
    return salt_key[vi - versions];
}

void quic_crypto_cleanup(void)
{
    for (size_t i = 0; i < N_VERSIONS; i++) {
        algs_hmac_key_free(salt_key[i]);
        salt_key[i] = NULL;
    }
    algs_cleanup();
}

static const struct suite_info *suite_find(uint16_t id)
{
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
        if (suites[i].id == id)
            return &suites[i];
    return NULL;
}

/* ------------------------------------------------------------- headers */

/* Connection ID: length byte, then that many bytes (at most 20 here). */
static int read_cid(struct rd *r, uint8_t *cid, uint8_t *cid_len)
{
    uint8_t n = rd_u8(r);
    if (r->bad)
        return QUIC_E_TRUNCATED;
    if (n > QUIC_MAX_CID)
        return QUIC_E_CID_LEN;
    if (!rd_copy(r, cid, n))
        return QUIC_E_TRUNCATED;
    *cid_len = n;
    return QUIC_OK;
}

static uint8_t type_of(const struct ver_info *vi, uint8_t first)
{
    static const uint8_t v1[4] = { QUIC_PT_INITIAL, QUIC_PT_0RTT, QUIC_PT_HANDSHAKE, QUIC_PT_RETRY };
    static const uint8_t v2[4] = { QUIC_PT_RETRY, QUIC_PT_INITIAL, QUIC_PT_0RTT, QUIC_PT_HANDSHAKE };
    unsigned bits = (first >> 4) & 3;
    return vi->v2_types ? v2[bits] : v1[bits];
}

int quic_parse_long(const uint8_t *buf, size_t len, struct quic_long_hdr *h)
{
    if (!h)
        return QUIC_E_ARG;
    memset(h, 0, sizeof *h);
    if (!buf && len)
        return QUIC_E_ARG;
    h->packet_len = len;
    if (len == 0)
        return QUIC_E_TRUNCATED;

    struct rd r;
    rd_init(&r, buf, len);
    h->first = rd_u8(&r);
    if (!(h->first & 0x80)) {
        h->type = QUIC_PT_SHORT;
        return QUIC_E_SHORT_HEADER;
    }
    uint32_t version = rd_u32(&r);
    if (r.bad)
        return QUIC_E_TRUNCATED;
    h->version = version;
    int rc = read_cid(&r, h->dcid, &h->dcid_len);
    if (rc == QUIC_OK)
        rc = read_cid(&r, h->scid, &h->scid_len);
    if (rc != QUIC_OK)
        return rc;

    if (version == 0) {
        /* Version Negotiation (RFC 9000 17.2.1): the rest is the list. */
        size_t rest = rd_left(&r);
        h->type = QUIC_PT_VERSION_NEG;
        h->versions = rd_ptr(&r);
        h->n_versions = rest / 4;
        return rest % 4 ? QUIC_E_LENGTH : QUIC_OK;
    }
    const struct ver_info *vi = ver_find(version);
    if (!vi)
        return QUIC_E_VERSION;
    h->type = type_of(vi, h->first);
    /* A clear fixed bit is legal once the peer advertised grease_quic_bit
     * (RFC 9287), which ngtcp2 and others do: noted, not refused. */
    h->fixed_bit_clear = !(h->first & 0x40);

    if (h->type == QUIC_PT_RETRY) {
        /* Retry (RFC 9000 17.2.5): token, then the 16-byte tag. */
        size_t rest = rd_left(&r);
        if (rest < QUIC_TAG_LEN)
            return QUIC_E_TRUNCATED;
        struct rd tok, tag;
        rd_sub(&r, rest - QUIC_TAG_LEN, &tok);
        rd_sub(&r, QUIC_TAG_LEN, &tag);
        h->token = rd_ptr(&tok);
        h->token_len = rd_left(&tok);
        h->retry_tag = rd_ptr(&tag);
        return QUIC_OK;
    }
    if (h->type == QUIC_PT_INITIAL) {
        uint64_t tl = quic_rd_varint(&r, NULL);
        if (r.bad || tl > rd_left(&r))
            return QUIC_E_TRUNCATED;
        h->token = rd_ptr(&r);
        h->token_len = (size_t)tl;
        rd_skip(&r, (size_t)tl);
    }
    uint64_t length = quic_rd_varint(&r, NULL);
    if (r.bad)
        return QUIC_E_TRUNCATED;
    h->pn_offset = r.off;
    if (length > rd_left(&r))
        return QUIC_E_LENGTH;
    h->packet_len = r.off + (size_t)length;
    return QUIC_OK;
}

/* ------------------------------------------------------------------ keys */

int quic_hkdf_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                      size_t ikm_len, uint8_t out[QUIC_INITIAL_SECRET_LEN])
{
    static const uint8_t empty[1];
    if (!out)
        return QUIC_E_ARG;
    if ((!salt && salt_len) || (!ikm && ikm_len)) {
        OPENSSL_cleanse(out, QUIC_INITIAL_SECRET_LEN);
        return QUIC_E_ARG;
    }
    int ok = algs_hkdf_extract(ALGS_SHA256, salt ? salt : empty, salt_len, ikm ? ikm : empty,
                               ikm_len, out);
    if (!ok) {
        OPENSSL_cleanse(out, QUIC_INITIAL_SECRET_LEN);
        return QUIC_E_CRYPTO;
    }
    return QUIC_OK;
}

int quic_initial_secrets(uint32_t version, const uint8_t *dcid, size_t dcid_len,
                         uint8_t client[QUIC_INITIAL_SECRET_LEN],
                         uint8_t server[QUIC_INITIAL_SECRET_LEN])
{
    if (!client || !server)
        return QUIC_E_ARG;
    OPENSSL_cleanse(client, QUIC_INITIAL_SECRET_LEN);
    OPENSSL_cleanse(server, QUIC_INITIAL_SECRET_LEN);
    const struct ver_info *vi = ver_find(version);
    if (!vi)
        return QUIC_E_VERSION;
    if (dcid_len > QUIC_MAX_CID)
        return QUIC_E_CID_LEN;
    if (!dcid && dcid_len)
        return QUIC_E_ARG;

    static const uint8_t empty[1];
    uint8_t initial[QUIC_INITIAL_SECRET_LEN];
    const struct algs_hmac_key *salt = salt_key_of(vi);
    int rc = salt && algs_hkdf_extract_key(salt, dcid ? dcid : empty, dcid_len, initial)
                 ? QUIC_OK
                 : QUIC_E_CRYPTO;
    const struct tls13_label_req req[2] = {
        { "client in", client, QUIC_INITIAL_SECRET_LEN },
        { "server in", server, QUIC_INITIAL_SECRET_LEN },
    };
    if (rc == QUIC_OK &&
        tls13_hkdf_expand_labels(TLS13_HASH_SHA256, initial, sizeof initial, req, 2) != TLS13_OK)
        rc = QUIC_E_CRYPTO;
    OPENSSL_cleanse(initial, sizeof initial);
    if (rc != QUIC_OK) {
        OPENSSL_cleanse(client, QUIC_INITIAL_SECRET_LEN);
        OPENSSL_cleanse(server, QUIC_INITIAL_SECRET_LEN);
    }
    return rc;
}

void quic_pp_release(struct quic_pp *pp)
{
    if (!pp)
        return;
    const struct suite_info *s = suite_find(pp->suite);
    if (s) {
        /* keyed with zeros and kept for the next connection, or freed */
        algs_ctx_put((enum algs_cipher)s->aead_alg, pp->aead, !pp->public_keys);
        algs_ctx_put((enum algs_cipher)s->hp_alg, pp->hpctx, !pp->public_keys);
    } else {
        EVP_CIPHER_CTX_free(pp->aead);    /* cleanses the expanded keys */
        EVP_CIPHER_CTX_free(pp->hpctx);
    }
    OPENSSL_cleanse(pp, sizeof *pp);
}

int quic_pp_from_secret(struct quic_pp *pp, uint32_t version, uint16_t suite,
                        const uint8_t *secret, size_t secret_len)
{
    if (!pp)
        return QUIC_E_ARG;
    quic_pp_release(pp);
    if (!secret)
        return QUIC_E_ARG;
    const struct ver_info *vi = ver_find(version);
    if (!vi)
        return QUIC_E_VERSION;
    const struct suite_info *s = suite_find(suite);
    if (!s)
        return QUIC_E_SUITE;
    if (secret_len != tls13_hash_len((enum tls13_hash)s->hash))
        return QUIC_E_SECRET_LEN;
    if (!algs_cipher(s->aead_alg) || !algs_cipher(s->hp_alg))
        return QUIC_E_CRYPTO;

    enum tls13_hash hash = (enum tls13_hash)s->hash;
    pp->suite = s->id;
    pp->key_len = s->key_len;
    pp->largest_pn = -1;
    const struct tls13_label_req req[3] = {
        { vi->key_label, pp->key, s->key_len },
        { vi->iv_label, pp->iv, QUIC_IV_LEN },
        { vi->hp_label, pp->hp, s->key_len },
    };
    bool ok = tls13_hkdf_expand_labels(hash, secret, secret_len, req, 3) == TLS13_OK;

    if (ok) {
        /* Set up for the cipher already (util/algs.c keeps them between
         * connections); only the keys are new. */
        pp->aead = algs_ctx_get((enum algs_cipher)s->aead_alg);
        pp->hpctx = algs_ctx_get((enum algs_cipher)s->hp_alg);
        ok = pp->aead && pp->hpctx;   /* IV length 12 (QUIC_IV_LEN) already */
    }
    if (ok && s->kind == AEAD_CCM)
        ok = EVP_CIPHER_CTX_ctrl(pp->aead, EVP_CTRL_AEAD_SET_TAG, QUIC_TAG_LEN, NULL) == 1;
    if (ok)
        ok = EVP_DecryptInit_ex2(pp->aead, NULL, pp->key, NULL, NULL) == 1 &&
             EVP_EncryptInit_ex2(pp->hpctx, NULL, pp->hp, NULL, NULL) == 1;
    if (!ok) {
        quic_pp_release(pp);
        return QUIC_E_CRYPTO;
    }
    return QUIC_OK;
}

int quic_initial_keys(uint32_t version, const uint8_t *dcid, size_t dcid_len,
                      struct quic_pp *client, struct quic_pp *server)
{
    uint8_t cs[QUIC_INITIAL_SECRET_LEN], ss[QUIC_INITIAL_SECRET_LEN];
    int rc = quic_initial_secrets(version, dcid, dcid_len, cs, ss);
    if (rc == QUIC_OK && client)
        rc = quic_pp_from_secret(client, version, TLS13_SUITE_AES_128_GCM_SHA256, cs, sizeof cs);
    if (rc == QUIC_OK && server)
        rc = quic_pp_from_secret(server, version, TLS13_SUITE_AES_128_GCM_SHA256, ss, sizeof ss);
    if (rc == QUIC_OK) {
        if (client)
            client->public_keys = true;
        if (server)
            server->public_keys = true;
    }
    OPENSSL_cleanse(cs, sizeof cs);
    OPENSSL_cleanse(ss, sizeof ss);
    if (rc != QUIC_OK) {
        quic_pp_release(client);
        quic_pp_release(server);
    }
    return rc;
}

/* ------------------------------------------------------ packet protection */

uint64_t quic_pn_decode(int64_t largest, uint64_t truncated, unsigned pn_len)
{
    if (pn_len < 1)
        pn_len = 1;
    if (pn_len > 4)
        pn_len = 4;
    uint64_t expected = largest < 0 ? 0 : (uint64_t)largest + 1;
    uint64_t win = UINT64_C(1) << (8 * pn_len);
    uint64_t hwin = win / 2, mask = win - 1;
    uint64_t cand = (expected & ~mask) | (truncated & mask);
    if (expected >= hwin && cand <= expected - hwin && cand < (UINT64_C(1) << 62) - win)
        return cand + win;
    if (cand > expected + hwin && cand >= win)
        return cand - win;
    return cand;
}

/* The 5-byte header protection mask from the 16-byte sample. */
static bool hp_mask(struct quic_pp *pp, const uint8_t *sample, uint8_t mask[5])
{
    const struct suite_info *s = suite_find(pp->suite);
    uint8_t block[QUIC_SAMPLE_LEN];
    int n = 0;
    bool ok;
    if (s->kind == AEAD_CHACHA) {
        /* RFC 9001 5.4.4: counter = sample[0..4] little-endian, nonce =
         * sample[4..16]; OpenSSL's 16-byte ChaCha20 IV is exactly that. */
        static const uint8_t zeros[5];
        ok = EVP_EncryptInit_ex2(pp->hpctx, NULL, NULL, sample, NULL) == 1 &&
             EVP_EncryptUpdate(pp->hpctx, block, &n, zeros, 5) == 1 && n == 5;
    } else {
        ok = EVP_EncryptUpdate(pp->hpctx, block, &n, sample, QUIC_SAMPLE_LEN) == 1 &&
             n == QUIC_SAMPLE_LEN;
    }
    memcpy(mask, block, 5);
    OPENSSL_cleanse(block, sizeof block);
    return ok;
}

/* Header as additional data, in pieces: unmasked first byte, the bytes up
 * to the packet number as sent, the unmasked packet number. */
struct aad_parts {
    uint8_t first;
    const uint8_t *mid;
    size_t mid_len;
    uint8_t pn[4];
    size_t pn_len;
};

/* Headers up to this long go to the AEAD as one piece (copied on the
 * stack); longer ones (a long Initial token) in three. */
#define QUIC_AAD_JOIN_MAX 128

static int aead_open(struct quic_pp *pp, const uint8_t nonce[QUIC_IV_LEN],
                     const struct aad_parts *a, const uint8_t *ct, size_t ct_len,
                     const uint8_t *tag, uint8_t *out)
{
    EVP_CIPHER_CTX *ctx = pp->aead;
    uint8_t tagbuf[QUIC_TAG_LEN];
    int n = 0, fin = 0;
    bool ccm = suite_find(pp->suite)->kind == AEAD_CCM;
    static const uint8_t none[1];

    memcpy(tagbuf, tag, sizeof tagbuf);   /* the ctrl takes a non-const pointer */
    if (ccm) {
        /* CCM takes the additional data in one call. */
        uint8_t hdr[QUIC_CCM_AAD_MAX];
        size_t hl = 1 + a->mid_len + a->pn_len;
        if (hl > sizeof hdr)
            return QUIC_E_LENGTH;
        hdr[0] = a->first;
        if (a->mid_len)
            memcpy(hdr + 1, a->mid, a->mid_len);
        memcpy(hdr + 1 + a->mid_len, a->pn, a->pn_len);
        if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, QUIC_TAG_LEN, tagbuf) != 1 ||
            EVP_DecryptInit_ex2(ctx, NULL, NULL, nonce, NULL) != 1 ||
            EVP_DecryptUpdate(ctx, NULL, &n, NULL, (int)ct_len) != 1 ||
            EVP_DecryptUpdate(ctx, NULL, &n, hdr, (int)hl) != 1)
            return QUIC_E_CRYPTO;
        /* CCM verifies the tag inside this update. */
        if (EVP_DecryptUpdate(ctx, out, &n, ct_len ? ct : none, (int)ct_len) != 1)
            return QUIC_E_AUTH;
        return (size_t)n == ct_len ? QUIC_OK : QUIC_E_CRYPTO;
    }
    if (EVP_DecryptInit_ex2(ctx, NULL, NULL, nonce, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, QUIC_TAG_LEN, tagbuf) != 1)
        return QUIC_E_CRYPTO;
    size_t hl = 1 + a->mid_len + a->pn_len;
    if (hl <= QUIC_AAD_JOIN_MAX) {
        /* A header without a long token: one piece of additional data. */
        uint8_t hdr[QUIC_AAD_JOIN_MAX];
        hdr[0] = a->first;
        if (a->mid_len)
            memcpy(hdr + 1, a->mid, a->mid_len);
        memcpy(hdr + 1 + a->mid_len, a->pn, a->pn_len);
        if (EVP_DecryptUpdate(ctx, NULL, &n, hdr, (int)hl) != 1)
            return QUIC_E_CRYPTO;
    } else if (EVP_DecryptUpdate(ctx, NULL, &n, &a->first, 1) != 1 ||
               (a->mid_len && EVP_DecryptUpdate(ctx, NULL, &n, a->mid, (int)a->mid_len) != 1) ||
               EVP_DecryptUpdate(ctx, NULL, &n, a->pn, (int)a->pn_len) != 1) {
        return QUIC_E_CRYPTO;
    }
    n = 0;
    if (ct_len && EVP_DecryptUpdate(ctx, out, &n, ct, (int)ct_len) != 1)
        return QUIC_E_CRYPTO;
    if (EVP_DecryptFinal_ex(ctx, out + n, &fin) != 1)
        return QUIC_E_AUTH;
    return (size_t)n + (size_t)fin == ct_len ? QUIC_OK : QUIC_E_CRYPTO;
}

int quic_packet_open(struct quic_pp *pp, const uint8_t *pkt, size_t packet_len,
                     size_t pn_offset, bool long_header, uint8_t *out, size_t out_cap,
                     size_t *out_len, uint64_t *pn)
{
    if (out_len)
        *out_len = 0;
    if (pn)
        *pn = 0;
    if (!pp || !pp->aead || !pp->hpctx || !suite_find(pp->suite) || !pkt || !out ||
        !out_len || !pn || pn_offset == 0 || packet_len > INT_MAX)
        return QUIC_E_ARG;

    /* The sample starts 4 bytes after the packet number's offset, as if
     * the packet number were 4 bytes long (RFC 9001 5.4.2). */
    struct rd r, s, sample;
    rd_init(&r, pkt, packet_len);
    s = r;
    if (!rd_skip(&s, pn_offset) || !rd_skip(&s, 4) || !rd_sub(&s, QUIC_SAMPLE_LEN, &sample))
        return QUIC_E_SAMPLE;

    uint8_t mask[5];
    if (!hp_mask(pp, rd_ptr(&sample), mask))
        return QUIC_E_CRYPTO;

    struct aad_parts a;
    uint8_t first = rd_u8(&r);
    a.first = (uint8_t)(first ^ (mask[0] & (long_header ? 0x0f : 0x1f)));
    a.mid = rd_ptr(&r);
    a.mid_len = pn_offset - 1;
    rd_skip(&r, a.mid_len);
    a.pn_len = (size_t)(a.first & 3) + 1;
    rd_copy(&r, a.pn, a.pn_len);     /* inside the sample check above */
    uint64_t truncated = 0;
    for (size_t i = 0; i < a.pn_len; i++) {
        a.pn[i] ^= mask[1 + i];
        truncated = truncated << 8 | a.pn[i];
    }
    OPENSSL_cleanse(mask, sizeof mask);

    size_t rest = rd_left(&r);       /* >= 16: the sample fits */
    size_t ct_len = rest - QUIC_TAG_LEN;
    if (out_cap < ct_len)
        return QUIC_E_OUT_SPACE;
    uint64_t full = quic_pn_decode(pp->largest_pn, truncated, (unsigned)a.pn_len);
    if (full > QUIC_PN_MAX)
        return QUIC_E_PN;

    uint8_t nonce[QUIC_IV_LEN];
    memcpy(nonce, pp->iv, sizeof nonce);
    for (int i = 0; i < 8; i++)
        nonce[QUIC_IV_LEN - 1 - i] ^= (uint8_t)(full >> (8 * i));
    struct rd ct, tag;
    rd_sub(&r, ct_len, &ct);
    rd_sub(&r, QUIC_TAG_LEN, &tag);
    int rc = aead_open(pp, nonce, &a, rd_ptr(&ct), ct_len, rd_ptr(&tag), out);
    OPENSSL_cleanse(nonce, sizeof nonce);
    if (rc != QUIC_OK) {
        OPENSSL_cleanse(out, ct_len);
        return rc;
    }

    if ((int64_t)full > pp->largest_pn)
        pp->largest_pn = (int64_t)full;
    *pn = full;
    /* Reserved bits: 0x0c long, 0x18 short (RFC 9000 17.2, 17.3.1). */
    if (a.first & (long_header ? 0x0c : 0x18)) {
        OPENSSL_cleanse(out, ct_len);
        return QUIC_E_RESERVED_BITS;
    }
    *out_len = ct_len;
    return QUIC_OK;
}

/* --------------------------------------------------------------- frames */

static size_t varint_min_len(uint64_t v)
{
    return v < (UINT64_C(1) << 6) ? 1 : v < (UINT64_C(1) << 14) ? 2 : v < (UINT64_C(1) << 30) ? 4 : 8;
}

static void sat_add(uint32_t *c, size_t n)
{
    *c = n > UINT32_MAX - *c ? UINT32_MAX : *c + (uint32_t)n;
}

/* ACK (RFC 9000 19.3): Largest Acknowledged, ACK Delay, ACK Range Count,
 * First ACK Range, ranges (Gap, ACK Range Length), [ECN counts]. */
static int frame_ack(struct rd *r, bool ecn)
{
    uint64_t largest = quic_rd_varint(r, NULL);
    quic_rd_varint(r, NULL);                       /* ACK Delay */
    uint64_t count = quic_rd_varint(r, NULL);
    uint64_t first = quic_rd_varint(r, NULL);
    if (r->bad || first > largest)
        return QUIC_E_FRAME_MALFORMED;
    uint64_t smallest = largest - first;
    /* Each range takes at least two bytes, so a hostile count ends at the
     * end of the payload. */
    for (uint64_t i = 0; i < count; i++) {
        uint64_t gap = quic_rd_varint(r, NULL);
        uint64_t len = quic_rd_varint(r, NULL);
        if (r->bad || smallest < gap + 2)
            return QUIC_E_FRAME_MALFORMED;
        uint64_t top = smallest - gap - 2;
        if (len > top)
            return QUIC_E_FRAME_MALFORMED;
        smallest = top - len;
    }
    if (ecn) {
        quic_rd_varint(r, NULL);                   /* ECT0, ECT1, ECN-CE */
        quic_rd_varint(r, NULL);
        quic_rd_varint(r, NULL);
    }
    return r->bad ? QUIC_E_FRAME_MALFORMED : QUIC_OK;
}

int quic_frames_walk(const uint8_t *payload, size_t len, quic_crypto_cb cb, void *ctx,
                     struct quic_frame_info *info)
{
    struct quic_frame_info scratch;
    if (!info)
        info = &scratch;
    memset(info, 0, sizeof *info);
    if (!payload && len)
        return QUIC_E_ARG;

    struct rd r;
    rd_init(&r, payload, len);
    while (rd_left(&r) > 0) {
        size_t tl = 0;
        uint64_t type = quic_rd_varint(&r, &tl);
        if (r.bad)
            return QUIC_E_FRAME_MALFORMED;
        if (tl != varint_min_len(type)) {          /* RFC 9000 12.4 */
            info->bad_frame_type = type;
            return QUIC_E_FRAME;
        }
        int rc = QUIC_OK;
        switch (type) {
        case 0x00: {                               /* PADDING: count the run */
            size_t run = 1;
            while (rd_left(&r) > 0 && rd_peek(&r, 0) == 0) {
                rd_skip(&r, 1);
                run++;
            }
            sat_add(&info->n_padding_bytes, run);
            break;
        }
        case 0x01:                                 /* PING */
            sat_add(&info->n_ping, 1);
            break;
        case 0x02:
        case 0x03:
            rc = frame_ack(&r, type == 0x03);
            if (rc == QUIC_OK)
                sat_add(&info->n_ack, 1);
            break;
        case 0x06: {                               /* CRYPTO (19.6) */
            uint64_t off = quic_rd_varint(&r, NULL);
            uint64_t clen = quic_rd_varint(&r, NULL);
            struct rd data;
            if (r.bad || clen > QUIC_VARINT_MAX - off || clen > rd_left(&r) ||
                !rd_sub(&r, (size_t)clen, &data)) {
                rc = QUIC_E_FRAME_MALFORMED;
                break;
            }
            sat_add(&info->n_crypto, 1);
            if (cb && clen)
                cb(ctx, off, rd_ptr(&data), (size_t)clen);
            break;
        }
        case 0x1c:
        case 0x1d: {                               /* CONNECTION_CLOSE (19.19) */
            uint64_t err = quic_rd_varint(&r, NULL);
            uint64_t ftype = type == 0x1c ? quic_rd_varint(&r, NULL) : 0;
            uint64_t rlen = quic_rd_varint(&r, NULL);
            struct rd reason;
            if (r.bad || rlen > rd_left(&r) || !rd_sub(&r, (size_t)rlen, &reason)) {
                rc = QUIC_E_FRAME_MALFORMED;
                break;
            }
            info->conn_close = true;
            info->close_app = type == 0x1d;
            info->close_error = err;
            info->close_frame_type = ftype;
            info->close_reason = rd_ptr(&reason);
            info->close_reason_len = (size_t)rlen;
            break;
        }
        default:
            info->bad_frame_type = type;
            return QUIC_E_FRAME;
        }
        if (rc != QUIC_OK)
            return rc;
    }
    return QUIC_OK;
}

/* ---------------------------------------------------------------- Retry */

bool quic_retry_verify(const uint8_t *pkt, size_t len, uint32_t version,
                       const uint8_t *odcid, size_t odcid_len)
{
    const struct ver_info *vi = ver_find(version);
    if (!vi || !pkt || len <= QUIC_TAG_LEN || len > INT_MAX || odcid_len > QUIC_MAX_CID ||
        (!odcid && odcid_len))
        return false;
    if (!algs_cipher(ALGS_AES128GCM))
        return false;

    struct rd r, body, tag;
    rd_init(&r, pkt, len);
    rd_sub(&r, len - QUIC_TAG_LEN, &body);
    rd_sub(&r, QUIC_TAG_LEN, &tag);
    uint8_t tagbuf[QUIC_TAG_LEN], odl = (uint8_t)odcid_len, dummy[16];
    memcpy(tagbuf, rd_ptr(&tag), sizeof tagbuf);

    /* Retry Pseudo-Packet (RFC 9001 5.8) as additional data, in pieces. */
    EVP_CIPHER_CTX *ctx = algs_ctx_get(ALGS_AES128GCM);
    int n = 0;
    bool ok = ctx && EVP_DecryptInit_ex2(ctx, NULL, vi->retry_key, vi->retry_nonce, NULL) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, QUIC_TAG_LEN, tagbuf) == 1 &&
              EVP_DecryptUpdate(ctx, NULL, &n, &odl, 1) == 1 &&
              (odcid_len == 0 || EVP_DecryptUpdate(ctx, NULL, &n, odcid, (int)odcid_len) == 1) &&
              EVP_DecryptUpdate(ctx, NULL, &n, rd_ptr(&body), (int)rd_left(&body)) == 1 &&
              EVP_DecryptFinal_ex(ctx, dummy, &n) == 1;
    algs_ctx_put(ALGS_AES128GCM, ctx, false);   /* the Retry key is published */
    return ok;
}

/* ---------------------------------------------------- transport params */

int quic_tp_ids(const uint8_t *ext, size_t len, uint64_t *ids, size_t max, size_t *n,
                size_t *total)
{
    if (!n || !total)
        return QUIC_E_ARG;
    *n = 0;
    *total = 0;
    if (!ext && len)
        return QUIC_E_ARG;
    struct rd r;
    rd_init(&r, ext, len);
    while (rd_left(&r) > 0) {
        uint64_t id = quic_rd_varint(&r, NULL);
        uint64_t vlen = quic_rd_varint(&r, NULL);
        if (r.bad || vlen > rd_left(&r))
            return QUIC_E_TP;
        rd_skip(&r, (size_t)vlen);
        if (ids && *n < max)
            ids[(*n)++] = id;
        (*total)++;
    }
    return QUIC_OK;
}

const char *quic_err_name(int err)
{
    switch ((enum quic_err)err) {
    case QUIC_OK:
        return "ok";
    case QUIC_E_SHORT_HEADER:
        return "short_header";
    case QUIC_E_TRUNCATED:
        return "truncated";
    case QUIC_E_CID_LEN:
        return "cid_too_long";
    case QUIC_E_FIXED_BIT:
        return "fixed_bit_clear";
    case QUIC_E_LENGTH:
        return "length_past_datagram";
    case QUIC_E_VERSION:
        return "unknown_version";
    case QUIC_E_ARG:
        return "invalid_argument";
    case QUIC_E_CRYPTO:
        return "crypto_error";
    case QUIC_E_SUITE:
        return "unsupported_suite";
    case QUIC_E_SECRET_LEN:
        return "secret_length";
    case QUIC_E_SAMPLE:
        return "too_short_for_sample";
    case QUIC_E_AUTH:
        return "auth_failed";
    case QUIC_E_OUT_SPACE:
        return "output_too_small";
    case QUIC_E_RESERVED_BITS:
        return "reserved_bits_set";
    case QUIC_E_PN:
        return "packet_number_exhausted";
    case QUIC_E_FRAME:
        return "frame_not_allowed";
    case QUIC_E_FRAME_MALFORMED:
        return "frame_malformed";
    case QUIC_E_TP:
        return "transport_params_malformed";
    }
    return "unknown";
}
