/*
 * fuzz_decrypt.c - libFuzzer target for tls/decrypt.c and tls/pcapng_dsb.c.
 *
 * Keys are derived once per suite from a fixed traffic secret.  The first
 * input byte picks the suite (one of the five, or an unsupported one) and
 * a mode; the rest is used three ways:
 *   - as a protected record: 5 header bytes then the encrypted_record,
 *     opened with tls13_record_open() (mode bit 0 forces the header's
 *     length to match, so the AEAD runs instead of the length check;
 *     bit 1 opens in place);
 *   - as a plaintext (mode bit 2): sealed here with EVP under the same key
 *     and sequence number, then opened, which must succeed or report the
 *     RFC 8446 5.4 errors, and return exactly the bytes before the last
 *     non-zero byte;
 *   - as a pcapng file image for pcapng_dsb_scan_buffer(), and as label
 *     and context for tls13_hkdf_expand_label().
 *
 * Checked: memory safety (ASan/UBSan), outputs zero on every failure, the
 * sequence number moves only when a record authenticates, and the pcapng
 * walk never reports more DSBs or blocks than the input can hold.
 *
 *   clang -fsanitize=fuzzer,address,undefined ... -o fuzz_decrypt
 *   ./fuzz_decrypt -max_total_time=60
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "tls/decrypt.h"
#include "tls/keylog.h"
#include "tls/pcapng_dsb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint16_t suites[] = { 0x1301, 0x1302, 0x1303, 0x1304, 0x1305, 0x13ff };
#define NSUITES (sizeof suites / sizeof suites[0])

static struct tls13_keys keys[NSUITES];
static struct tls13_dir_cipher dirs[NSUITES];
static bool ready[NSUITES];
static EVP_CIPHER *seal_ciphers[NSUITES];

static void check(bool cond)
{
    if (!cond)
        abort();
}

static void setup(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    uint8_t secret[48];
    for (size_t i = 0; i < sizeof secret; i++)
        secret[i] = (uint8_t)(0xA5 ^ i);
    static const char *names[NSUITES] = {
        "AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305", "AES-128-CCM", "AES-128-CCM", NULL,
    };
    for (size_t s = 0; s < NSUITES; s++) {
        size_t hl = tls13_suite_hash_len(suites[s]);
        int rc = tls13_keys_derive(suites[s], secret, hl ? hl : 32, &keys[s]);
        if (suites[s] == 0x13ff) {
            check(rc == TLS13_E_SUITE);
            continue;
        }
        check(rc == 0);
        check(tls13_dir_cipher_init(&dirs[s], &keys[s]) == 0);
        seal_ciphers[s] = EVP_CIPHER_fetch(NULL, names[s], NULL);
        check(seal_ciphers[s] != NULL);
        ready[s] = true;
    }
}

/* Seal inner[0..n) as record number seq; returns the record length or 0. */
static size_t seal(size_t s, uint64_t seq, const uint8_t *inner, size_t n, uint8_t *rec)
{
    const struct tls13_keys *k = &keys[s];
    bool ccm = suites[s] == 0x1304 || suites[s] == 0x1305;
    size_t rlen = n + k->tag_len;
    rec[0] = 0x17;
    rec[1] = 3;
    rec[2] = 3;
    rec[3] = (uint8_t)(rlen >> 8);
    rec[4] = (uint8_t)rlen;
    uint8_t nonce[12];
    memcpy(nonce, k->iv, 12);
    for (int i = 0; i < 8; i++)
        nonce[11 - i] ^= (uint8_t)(seq >> (8 * i));
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int m = 0, ok = 1;
    ok &= EVP_EncryptInit_ex2(ctx, seal_ciphers[s], NULL, NULL, NULL);
    ok &= EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL);
    if (ccm)
        ok &= EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, k->tag_len, NULL);
    ok &= EVP_EncryptInit_ex2(ctx, NULL, k->key, nonce, NULL);
    if (ccm)
        ok &= EVP_EncryptUpdate(ctx, NULL, &m, NULL, (int)n);
    ok &= EVP_EncryptUpdate(ctx, NULL, &m, rec, 5);
    ok &= EVP_EncryptUpdate(ctx, rec + 5, &m, inner, (int)n);
    ok &= EVP_EncryptFinal_ex(ctx, rec + 5 + m, &m);
    ok &= EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, k->tag_len, rec + 5 + n);
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 5 + rlen : 0;
}

static void as_record(size_t s, uint8_t mode, const uint8_t *data, size_t size)
{
    static uint8_t rec[TLS13_MAX_CIPHERTEXT + 1024], out[TLS13_MAX_CIPHERTEXT + 1024];
    if (size < 5 || size > sizeof rec)
        return;
    struct tls13_dir_cipher *c = &dirs[s];
    memcpy(rec, data, size);
    size_t len = size - 5;
    if (mode & 1) {
        rec[3] = (uint8_t)(len >> 8);
        rec[4] = (uint8_t)len;
    }
    c->seq = mode >> 4;
    uint64_t seq0 = c->seq;
    size_t out_len = 1;
    uint8_t type = 1;
    uint8_t *dst = (mode & 2) ? rec + 5 : out;
    size_t cap = (mode & 2) ? len : sizeof out;
    int rc = tls13_record_open(c, rec, rec + 5, len, dst, cap, &out_len, &type);
    if (rc != 0)
        check(out_len == 0 && type == 0);
    if (rc == TLS13_E_AUTH || rc == TLS13_E_RECORD_LEN || rc == TLS13_E_OUT_SPACE)
        check(c->seq == seq0);
    if (rc == 0)
        check(c->seq == seq0 + 1 && type != 0 && out_len < len);
}

static void as_plaintext(size_t s, uint8_t mode, const uint8_t *data, size_t size)
{
    static uint8_t rec[TLS13_MAX_CIPHERTEXT + 1024], out[TLS13_MAX_CIPHERTEXT + 1024];
    if (size == 0 || size > TLS13_MAX_CIPHERTEXT)
        return;
    struct tls13_dir_cipher *c = &dirs[s];
    uint64_t seq = (uint64_t)mode << 40;
    size_t rl = seal(s, seq, data, size, rec);
    check(rl != 0);
    c->seq = seq;
    size_t out_len = 0;
    uint8_t type = 0;
    int rc = tls13_record_open(c, rec, rec + 5, rl - 5, out, sizeof out, &out_len, &type);
    if (rl - 5 > TLS13_MAX_CIPHERTEXT) {
        check(rc == TLS13_E_RECORD_LEN && c->seq == seq);
        return;
    }
    check(c->seq == seq + 1);
    size_t last = size;
    while (last > 0 && data[last - 1] == 0)
        last--;
    if (size > TLS13_MAX_INNER) {
        check(rc == TLS13_E_INNER_LEN);
    } else if (last == 0) {
        check(rc == TLS13_E_NO_CONTENT_TYPE);
    } else {
        check(rc == 0 && type == data[last - 1] && out_len == last - 1);
        check(memcmp(out, data, out_len) == 0);
    }
}

static void as_pcapng(const uint8_t *data, size_t size)
{
    struct keylog *kl = keylog_new(16);
    struct pcapng_dsb_result res;
    int rc = pcapng_dsb_scan_buffer(data, size, kl, &res);
    check(rc >= 0);
    check(res.blocks <= size / 12);
    check((uint64_t)rc == res.dsb_tlsk && res.dsb_tlsk <= res.blocks);
    check(!(res.truncated && res.malformed));
    check(keylog_size(kl) <= 16);
    keylog_free(kl);
}

static void as_label(const uint8_t *data, size_t size)
{
    char label[300];
    uint8_t out[64];
    uint8_t secret[32] = { 1 };
    size_t n = size < 260 ? size : 260;
    memcpy(label, data, n);
    label[n] = '\0';
    size_t ctx_len = size > 260 ? size - 260 : 0;
    int rc = tls13_hkdf_expand_label(size & 1 ? TLS13_HASH_SHA384 : TLS13_HASH_SHA256, secret,
                                     sizeof secret, label, data, ctx_len, out,
                                     size % sizeof out + 1);
    size_t ll = strlen(label);
    if (ll == 0 || ll > 249 || ctx_len > 255)
        check(rc == TLS13_E_ARG);
    else
        check(rc == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    if (size < 2)
        return 0;
    size_t s = data[0] % NSUITES;
    uint8_t mode = data[1];
    const uint8_t *p = data + 2;
    size_t n = size - 2;

    if (ready[s]) {
        if (mode & 4)
            as_plaintext(s, mode, p, n);
        else
            as_record(s, mode, p, n);
    }
    as_pcapng(p, n);
    as_label(p, n);
    return 0;
}
