/*
 * fuzz_quic.c - libFuzzer target for quic/quic.c.
 *
 * The first input byte picks a mode; the rest is used as:
 *   mode 0 (datagram): a UDP payload.  Every coalesced packet is parsed;
 *     Initial packets are opened with keys derived from their own DCID and
 *     with the RFC 9001 appendix A keys (so the RFC packets in the seeds
 *     decrypt and their frames are walked), Retry tags are checked, a
 *     short header packet is opened with 1-RTT keys of each suite;
 *   mode 1 (round trip): a plaintext payload.  It is sealed here with EVP
 *     (independently of quic.c) as a Handshake or short header packet
 *     under one of the four suites and a packet number taken from the
 *     input, then opened: it must open, to the same bytes and number; with
 *     one byte flipped it must not;
 *   every mode also: the bytes as a frame payload (quic_frames_walk) and as
 *     a transport parameters body (quic_tp_ids).
 *
 * Checked besides memory safety (ASan/UBSan): packet_len never passes the
 * datagram and always moves on success; the fields parsed point inside
 * it; CRYPTO data handed to the callback lies inside the payload and ends
 * at or below 2^62-1; failures leave *out_len 0, the output wiped and
 * largest_pn unchanged.
 *
 *   clang -fsanitize=fuzzer,address,undefined ... -o fuzz_quic
 *   ./fuzz_quic -max_total_time=60 tests/fuzz/seeds/fuzz_quic
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "quic/quic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint16_t suites[] = { 0x1301, 0x1302, 0x1303, 0x1304 };
#define NSUITES (sizeof suites / sizeof suites[0])

static struct quic_pp onertt[NSUITES];          /* 1-RTT style keys per suite */
static struct quic_pp rfc_client, rfc_server;   /* RFC 9001 A.1 */
static EVP_CIPHER *aead_ciphers[NSUITES], *hp_ciphers[NSUITES];

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
        secret[i] = (uint8_t)(0x5a ^ (i * 3));
    static const char *aead[NSUITES] = { "AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305",
                                         "AES-128-CCM" };
    static const char *hp[NSUITES] = { "AES-128-ECB", "AES-256-ECB", "ChaCha20", "AES-128-ECB" };
    for (size_t s = 0; s < NSUITES; s++) {
        check(quic_pp_from_secret(&onertt[s], QUIC_VERSION_1, suites[s], secret,
                                  suites[s] == 0x1302 ? 48 : 32) == 0);
        aead_ciphers[s] = EVP_CIPHER_fetch(NULL, aead[s], NULL);
        hp_ciphers[s] = EVP_CIPHER_fetch(NULL, hp[s], NULL);
        check(aead_ciphers[s] && hp_ciphers[s]);
    }
    static const uint8_t dcid[8] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08 };
    check(quic_initial_keys(QUIC_VERSION_1, dcid, 8, &rfc_client, &rfc_server) == 0);
}

/* CRYPTO callback: the data must lie inside the payload being walked. */
struct bounds {
    const uint8_t *lo, *hi;
    size_t bytes;
};

static void crypto_cb(void *ctx, uint64_t off, const uint8_t *p, size_t len)
{
    struct bounds *b = ctx;
    check(len > 0 && p >= b->lo && p <= b->hi && len <= (size_t)(b->hi - p));
    check(off <= QUIC_VARINT_MAX && len <= QUIC_VARINT_MAX - off);
    b->bytes += len;
}

static void walk(const uint8_t *p, size_t n)
{
    struct bounds b = { p, p + n, 0 };
    struct quic_frame_info fi;
    int rc = quic_frames_walk(p, n, crypto_cb, &b, &fi);
    check(rc == 0 || rc == QUIC_E_FRAME || rc == QUIC_E_FRAME_MALFORMED);
    check(fi.n_padding_bytes <= n && fi.n_ping <= n && fi.n_ack <= n / 4 + 1 &&
          fi.n_crypto <= n / 3 + 1 && b.bytes <= n);
    if (fi.conn_close)
        check(fi.close_reason >= p && fi.close_reason_len <= (size_t)(p + n - fi.close_reason));
}

/* Open with pp; on failure the output must be wiped and state unchanged. */
static void try_open(struct quic_pp *pp, const uint8_t *pkt, size_t len, size_t pn_offset,
                     bool long_header)
{
    static uint8_t out[65536 + 64];
    if (len > sizeof out)
        return;
    int64_t largest = pp->largest_pn;
    size_t out_len = 1;
    uint64_t pn = 1;
    memset(out, 0xa5, len);
    int rc = quic_packet_open(pp, pkt, len, pn_offset, long_header, out, sizeof out, &out_len,
                              &pn);
    if (rc == 0) {
        check(out_len + pn_offset + 1 + 16 <= len && (int64_t)pn <= pp->largest_pn);
        walk(out, out_len);
    } else {
        check(out_len == 0);
        if (rc == QUIC_E_RESERVED_BITS) {
            check(pp->largest_pn >= largest);
        } else {
            check(pp->largest_pn == largest);
            if (rc == QUIC_E_AUTH)
                for (size_t i = 0; i + pn_offset + 4 + 16 < len && i < 64; i++)
                    check(out[i] == 0);
        }
    }
    pp->largest_pn = largest;   /* keep runs independent of history */
}

static void as_datagram(const uint8_t *d, size_t n)
{
    size_t off = 0;
    for (int k = 0; k < 8 && off < n; k++) {
        const uint8_t *p = d + off;
        size_t left = n - off;
        struct quic_long_hdr h;
        int rc = quic_parse_long(p, left, &h);
        check(h.packet_len <= left && h.dcid_len <= QUIC_MAX_CID && h.scid_len <= QUIC_MAX_CID);
        if (h.token)
            check(h.token >= p && h.token_len <= (size_t)(p + left - h.token));
        if (rc == QUIC_E_SHORT_HEADER) {
            size_t pn_offset = 1 + (left > 1 ? p[1] % 21 : 0);
            for (size_t s = 0; s < NSUITES; s++)
                try_open(&onertt[s], p, left, pn_offset, false);
            break;
        }
        if (rc != 0)
            break;
        check(h.packet_len >= 1);
        if (h.type == QUIC_PT_INITIAL || h.type == QUIC_PT_HANDSHAKE || h.type == QUIC_PT_0RTT)
            check(h.pn_offset <= h.packet_len);
        if (h.type == QUIC_PT_INITIAL) {
            struct quic_pp c = { 0 }, s = { 0 };
            if (quic_initial_keys(h.version, h.dcid, h.dcid_len, &c, &s) == 0) {
                try_open(&c, p, h.packet_len, h.pn_offset, true);
                try_open(&s, p, h.packet_len, h.pn_offset, true);
            }
            quic_pp_release(&c);
            quic_pp_release(&s);
            if (h.version == QUIC_VERSION_1) {
                try_open(&rfc_client, p, h.packet_len, h.pn_offset, true);
                try_open(&rfc_server, p, h.packet_len, h.pn_offset, true);
            }
        } else if (h.type == QUIC_PT_HANDSHAKE) {
            try_open(&onertt[h.first % NSUITES], p, h.packet_len, h.pn_offset, true);
        } else if (h.type == QUIC_PT_RETRY) {
            check(h.retry_tag == p + left - 16);
            (void)quic_retry_verify(p, left, h.version, h.dcid, h.dcid_len);
        } else if (h.type == QUIC_PT_VERSION_NEG) {
            check(h.n_versions <= left / 4);
        }
        off += h.packet_len;
    }
}

/* Seal payload as a packet under suite s (EVP directly); returns its length. */
static size_t seal(size_t s, const uint8_t *hdr, size_t hdr_len, size_t pn_offset, uint64_t pn,
                   const uint8_t *payload, size_t plen, bool long_header, uint8_t *pkt)
{
    const struct quic_pp *pp = &onertt[s];
    bool ccm = suites[s] == 0x1304;
    memcpy(pkt, hdr, hdr_len);
    uint8_t nonce[12];
    memcpy(nonce, pp->iv, 12);
    for (int i = 0; i < 8; i++)
        nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int m = 0, ok = 1;
    ok &= EVP_EncryptInit_ex2(ctx, aead_ciphers[s], NULL, NULL, NULL);
    ok &= EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL);
    if (ccm)
        ok &= EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, NULL);
    ok &= EVP_EncryptInit_ex2(ctx, NULL, pp->key, nonce, NULL);
    if (ccm)
        ok &= EVP_EncryptUpdate(ctx, NULL, &m, NULL, (int)plen);
    ok &= EVP_EncryptUpdate(ctx, NULL, &m, hdr, (int)hdr_len);
    m = 0;
    /* CCM computes its tag in the message update: it must run even for an
     * empty payload (GCM and ChaCha20-Poly1305 need no call then). */
    if (plen || ccm)
        ok &= EVP_EncryptUpdate(ctx, pkt + hdr_len, &m, payload, (int)plen);
    int f = 0;
    ok &= EVP_EncryptFinal_ex(ctx, pkt + hdr_len + m, &f);
    ok &= EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, pkt + hdr_len + plen);

    uint8_t mask[16] = { 0 }, zeros[16] = { 0 };
    const uint8_t *sample = pkt + pn_offset + 4;
    if (suites[s] == 0x1303) {
        ok &= EVP_EncryptInit_ex2(ctx, hp_ciphers[s], pp->hp, sample, NULL);
        ok &= EVP_EncryptUpdate(ctx, mask, &m, zeros, 5);
    } else {
        ok &= EVP_EncryptInit_ex2(ctx, hp_ciphers[s], pp->hp, NULL, NULL);
        EVP_CIPHER_CTX_set_padding(ctx, 0);
        ok &= EVP_EncryptUpdate(ctx, mask, &m, sample, 16);
    }
    EVP_CIPHER_CTX_free(ctx);
    check(ok);
    pkt[0] ^= mask[0] & (long_header ? 0x0f : 0x1f);
    for (size_t i = 0; i < hdr_len - pn_offset; i++)
        pkt[pn_offset + i] ^= mask[1 + i];
    return hdr_len + plen + 16;
}

static void as_roundtrip(uint8_t mode, const uint8_t *d, size_t n)
{
    static uint8_t pkt[4096 + 128], out[4096 + 128];
    if (n < 6 || n > 4096)
        return;
    size_t s = (mode >> 2) % NSUITES;
    bool long_header = mode & 0x10;
    unsigned pn_len = (unsigned)(d[0] & 3) + 1;
    uint64_t pn = ((uint64_t)d[1] << 24 | (uint64_t)d[2] << 16 | (uint64_t)d[3] << 8 | d[4]) << (d[5] & 31);
    pn &= QUIC_PN_MAX;
    const uint8_t *payload = d + 6;
    size_t plen = n - 6;
    if (plen + pn_len < 4)
        return;                     /* the sender pads to fill the sample */

    /* A Handshake header with 8-byte CIDs, or a short header with an
     * 8-byte DCID. */
    uint8_t hdr[64];
    size_t hl = 0;
    if (long_header) {
        hdr[hl++] = (uint8_t)(0xe0 | (pn_len - 1));
        hdr[hl++] = 0; hdr[hl++] = 0; hdr[hl++] = 0; hdr[hl++] = 1;
        hdr[hl++] = 8; memset(hdr + hl, 0xdc, 8); hl += 8;
        hdr[hl++] = 8; memset(hdr + hl, 0x5c, 8); hl += 8;
        size_t length = pn_len + plen + 16;
        hdr[hl++] = (uint8_t)(0x40 | length >> 8);
        hdr[hl++] = (uint8_t)length;
    } else {
        hdr[hl++] = (uint8_t)(0x40 | (d[0] & 0x04) | (pn_len - 1));   /* key phase from input */
        memset(hdr + hl, 0xdc, 8);
        hl += 8;
    }
    size_t pn_offset = hl;
    for (unsigned k = 0; k < pn_len; k++)
        hdr[hl++] = (uint8_t)(pn >> (8 * (pn_len - 1 - k)));
    size_t pl = seal(s, hdr, hl, pn_offset, pn, payload, plen, long_header, pkt);

    struct quic_pp *pp = &onertt[s];
    /* largest_pn one below: the packet number decodes exactly. */
    pp->largest_pn = (int64_t)pn - 1;
    if (long_header) {
        struct quic_long_hdr h;
        check(quic_parse_long(pkt, pl, &h) == 0 && h.type == QUIC_PT_HANDSHAKE &&
              h.pn_offset == pn_offset && h.packet_len == pl);
    }
    size_t out_len = 0;
    uint64_t got = 0;
    int rc = quic_packet_open(pp, pkt, pl, pn_offset, long_header, out, sizeof out, &out_len,
                              &got);
    check(rc == 0 && got == pn && out_len == plen && memcmp(out, payload, plen) == 0);
    check(pp->largest_pn == (int64_t)pn);
    walk(out, out_len);

    /* One flipped byte (chosen by the input) must fail authentication. */
    size_t at = (size_t)d[1] * 256 + d[2];
    at %= pl;
    pkt[at] ^= (uint8_t)(d[3] | 1);
    pp->largest_pn = (int64_t)pn - 1;
    rc = quic_packet_open(pp, pkt, pl, pn_offset, long_header, out, sizeof out, &out_len, &got);
    check(rc != 0 && out_len == 0 && pp->largest_pn == (int64_t)pn - 1);
    pp->largest_pn = -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    const uint8_t *p = data + 1;
    size_t n = size - 1;

    if ((mode & 3) == 1)
        as_roundtrip(mode, p, n);
    else
        as_datagram(p, n);

    walk(p, n);
    uint64_t ids[16];
    size_t kept = 0, total = 0;
    int rc = quic_tp_ids(p, n, ids, 16, &kept, &total);
    check(rc == 0 || rc == QUIC_E_TP);
    check(kept <= 16 && kept <= total && total <= n / 2);
    return 0;
}
