/*
 * test_decrypt.c - unit tests for tls/keylog.c, tls/pcapng_dsb.c and
 * tls/decrypt.c.
 *
 * Known answers:
 *   - RFC 8448 section 3 (Simple 1-RTT Handshake): traffic secrets to
 *     keys and IVs, the server's protected flight (EncryptedExtensions,
 *     Certificate, CertificateVerify, Finished in one 679-byte record) and
 *     the client's protected Finished, opened byte for byte;
 *   - RFC 9001 appendix A: HKDF-Expand-Label with the QUIC labels;
 *   - one OpenSSL 3.0 s_server/s_client handshake on 127.0.0.1 per TLS 1.3
 *     suite (0x1301..0x1305), captured with tcpdump: the NSS key log lines
 *     and the server's first protected records (EncryptedExtensions,
 *     Certificate, and the first NewSessionTicket under the application
 *     secret), opened through the key store.
 * Then the failure paths: a flipped byte and a wrong secret give
 * TLS13_E_AUTH, every length limit, every prefix; synthetic records sealed
 * here with EVP for padding and the RFC 8446 5.4 limits.  The key log
 * parser on malformed lines, case, CRLF, duplicates, the cap and chunked
 * file reading; the pcapng walk on hand-built files in both byte orders,
 * truncated and hostile variants, and the corpus capture when present.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "tls/decrypt.h"
#include "util/algs.h"
#include "tls/keylog.h"
#include "tls/pcapng_dsb.h"
#include "testhelp.h"

#define CORPUS_DSB "../shared/corpus/foxio/pcap/chrome-cloudflare-quic-with-secrets.pcapng"

/* ------------------------------------------------------------------ helpers */

/* Open a whole record (header included) with c. */
static int open_rec(struct tls13_dir_cipher *c, const uint8_t *rec, size_t rec_len,
                    uint8_t *out, size_t cap, size_t *out_len, uint8_t *type)
{
    if (rec_len < 5)
        return -100;
    return tls13_record_open(c, rec, rec + 5, rec_len - 5, out, cap, out_len, type);
}

static uint32_t get24(const uint8_t *p)
{
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* Seal content||type||zeros(pad) as record number seq under k (test-side
 * encryption with EVP, to build records the tests need).  Returns the
 * record length. */
static size_t seal(const struct tls13_keys *k, uint64_t seq, const uint8_t *content,
                   size_t len, uint8_t type, size_t pad, uint8_t *rec)
{
    static uint8_t inner[TLS13_MAX_CIPHERTEXT + 64];
    const char *name;
    int ccm = 0;
    switch (k->suite) {
    case 0x1301: name = "AES-128-GCM"; break;
    case 0x1302: name = "AES-256-GCM"; break;
    case 0x1303: name = "ChaCha20-Poly1305"; break;
    default: name = "AES-128-CCM"; ccm = 1; break;
    }
    size_t in_len = len + 1 + pad;
    if (len)
        memcpy(inner, content, len);
    inner[len] = type;
    memset(inner + len + 1, 0, pad);
    size_t rlen = in_len + k->tag_len;
    rec[0] = 0x17; rec[1] = 3; rec[2] = 3;
    rec[3] = (uint8_t)(rlen >> 8); rec[4] = (uint8_t)rlen;
    uint8_t nonce[12];
    memcpy(nonce, k->iv, 12);
    for (int i = 0; i < 8; i++)
        nonce[11 - i] ^= (uint8_t)(seq >> (8 * i));
    EVP_CIPHER *ci = EVP_CIPHER_fetch(NULL, name, NULL);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, ok = 1;
    ok &= EVP_EncryptInit_ex2(ctx, ci, NULL, NULL, NULL);
    ok &= EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL);
    if (ccm)
        ok &= EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, k->tag_len, NULL);
    ok &= EVP_EncryptInit_ex2(ctx, NULL, k->key, nonce, NULL);
    if (ccm)
        ok &= EVP_EncryptUpdate(ctx, NULL, &n, NULL, (int)in_len);
    ok &= EVP_EncryptUpdate(ctx, NULL, &n, rec, 5);
    ok &= EVP_EncryptUpdate(ctx, rec + 5, &n, inner, (int)in_len);
    ok &= EVP_EncryptFinal_ex(ctx, rec + 5 + n, &n);
    ok &= EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, k->tag_len, rec + 5 + in_len);
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(ci);
    if (!ok)
        return 0;
    return 5 + rlen;
}

/* ---------------------------------------------------------- RFC 8448 / 9001 */

static const char rfc8448_s_hs[] =
    "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38";
static const char rfc8448_c_hs[] =
    "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21";
static const char rfc8448_s_ap[] =
    "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643";
static const char rfc8448_c_ap[] =
    "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5";

/* {server} send handshake record: the protected server flight. */
static const char rfc8448_server_flight_record[] =
    "17030302a2d1ff334a56f5bff6594a07cc87b580233f500f45e489e7f33af35edf7869fc"
    "f40aa40aa2b8ea73f848a7ca07612ef9f945cb960b4068905123ea78b111b429ba9191cd"
    "05d2a389280f526134aadc7fc78c4b729df828b5ecf7b13bd9aefb0e57f271585b8ea9bb"
    "355c7c79020716cfb9b1183ef3ab20e37d57a6b9d7477609aee6e122a4cf51427325250c"
    "7d0e509289444c9b3a648f1d71035d2ed65b0e3cdd0cbae8bf2d0b227812cbb360987255"
    "cc744110c453baa4fcd610928d809810e4b7ed1a8fd991f06aa6248204797e36a6a73b70"
    "a2559c09ead686945ba246ab66e5edd8044b4c6de3fcf2a89441ac66272fd8fb330ef819"
    "0579b3684596c960bd596eea520a56a8d650f563aad27409960dca63d3e688611ea5e22f"
    "4415cf9538d51a200c27034272968a264ed6540c84838d89f72c24461aad6d26f59ecaba"
    "9acbbb317b66d902f4f292a36ac1b639c637ce343117b659622245317b49eeda0c6258f1"
    "00d7d961ffb138647e92ea330faeea6dfa31c7a84dc3bd7e1b7a6c7178af36879018e3f2"
    "52107f243d243dc7339d5684c8b0378bf30244da8c87c843f5e56eb4c5e8280a2b48052c"
    "f93b16499a66db7cca71e4599426f7d461e66f99882bd89fc50800becca62d6c74116dbd"
    "2972fda1fa80f85df881edbe5a37668936b335583b599186dc5c6918a396fa48a181d6b6"
    "fa4f9d62d513afbb992f2b992f67f8afe67f76913fa388cb5630c8ca01e0c65d11c66a1e"
    "2ac4c85977b7c7a6999bbf10dc35ae69f5515614636c0b9b68c19ed2e31c0b3b66763038"
    "ebba42f3b38edc0399f3a9f23faa63978c317fc9fa66a73f60f0504de93b5b845e275592"
    "c12335ee340bbc4fddd502784016e4b3be7ef04dda49f4b440a30cb5d2af939828fd4ae3"
    "794e44f94df5a631ede42c1719bfdabf0253fe5175be898e750edc53370d2b";

/* Its plaintext: EncryptedExtensions, Certificate, CertificateVerify,
 * Finished (inner content type handshake, no padding). */
static const char rfc8448_server_flight[] =
    "080000240022000a00140012001d00170018001901000101010201030104001c00024001"
    "000000000b0001b9000001b50001b0308201ac30820115a003020102020102300d06092a"
    "864886f70d01010b0500300e310c300a06035504031303727361301e170d313630373330"
    "3031323335395a170d3236303733303031323335395a300e310c300a0603550403130372"
    "736130819f300d06092a864886f70d010101050003818d0030818902818100b4bb498f82"
    "79303d980836399b36c6988c0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc9a"
    "95137ace6c1af19eaa6af98c7ced43120998e187a80ee0ccb0524b1b018c3e0b63264d44"
    "9a6d38e22a5fda430846748030530ef0461c8ca9d9efbfae8ea6d1d03e2bd193eff0ab9a"
    "8002c47428a6d35a8d88d79f7f1e3f0203010001a31a301830090603551d130402300030"
    "0b0603551d0f0404030205a0300d06092a864886f70d01010b05000381810085aad2a0e5"
    "b9276b908c65f73a7267170618a54c5f8a7b337d2df7a594365417f2eae8f8a58c8f8172"
    "f9319cf36b7fd6c55b80f21a03015156726096fd335e5e67f2dbf102702e608ccae6bec1"
    "fc63a42a99be5c3eb7107c3c54e9b9eb2bd5203b1c3b84e0a8b2f759409ba3eac9d91d40"
    "2dcc0cc8f8961229ac9187b42b4de100000f000084080400805a747c5d88fa9bd2e55ab0"
    "85a61015b7211f824cd484145ab3ff52f1fda8477b0b7abc90db78e2d33a5c141a078653"
    "fa6bef780c5ea248eeaaa785c4f394cab6d30bbe8d4859ee511f602957b15411ac027671"
    "459e46445c9ea58c181e818e95b8c3fb0bf3278409d3be152a3da5043e063dda65cdf5ae"
    "a20d53dfacd42f74f3140000209b9b141d906337fbd2cbdce71df4deda4ab42c309572cb"
    "7fffee5454b78f0718";

/* {client} send handshake record: the protected client Finished. */
static const char rfc8448_client_finished_record[] =
    "17030300 3575ec4dc238cce60b298044a71e219c56cc77b0517fe9b93c7a4bfc44d87f38"
    "f80338ac98fc46deb384bd1caeacab6867d726c40546";
static const char rfc8448_client_finished[] =
    "14000020a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61";

static void test_rfc8448_keys(void)
{
    static const struct {
        const char *secret, *key, *iv;
    } v[] = {
        { rfc8448_s_hs, "3fce516009c21727d0f2e4e86ee403bc", "5d313eb2671276ee13000b30" },
        { rfc8448_c_hs, "dbfaa693d1762c5b666af5d950258d01", "5bd3c71b836e0b76bb73265f" },
        { rfc8448_s_ap, "9f02283b6c9c07efc26bb9f2ac92e356", "cf782b88dd83549aadf1e984" },
        { rfc8448_c_ap, "17422dda596ed5d9acd890e3c63f5051", "5b78923dee08579033e523d9" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t s[32];
        struct tls13_keys k;
        test_unhex(v[i].secret, s, sizeof s);
        int rc = tls13_keys_derive(0x1301, s, sizeof s, &k);
        test_cond("rfc8448: derive", rc == 0);
        test_cond("rfc8448: key", k.key_len == 16 && test_hexeq(k.key, 16, v[i].key));
        test_cond("rfc8448: iv", test_hexeq(k.iv, 12, v[i].iv));
        test_cond("rfc8448: tag length", k.tag_len == 16 && k.suite == 0x1301);
        tls13_keys_wipe(&k);
        test_cond("wipe zeroes the keys", test_all_zero((const uint8_t *)&k, sizeof k));
    }
}

static void test_rfc8448_records(void)
{
    static uint8_t rec[1024], pt[1024], out[1024], s[32];
    size_t rec_len = test_unhex(rfc8448_server_flight_record, rec, sizeof rec);
    size_t pt_len = test_unhex(rfc8448_server_flight, pt, sizeof pt);
    struct tls13_dir_cipher c = { 0 };
    size_t out_len = 99;
    uint8_t type = 99;

    test_cond("rfc8448: record and plaintext sizes", rec_len == 679 && pt_len == 657);
    test_unhex(rfc8448_s_hs, s, sizeof s);
    test_cond("rfc8448: cipher init", tls13_dir_cipher_init_secret(&c, 0x1301, s, 32) == 0);

    /* A flipped byte anywhere (header, body, tag) fails authentication and
     * leaves the sequence number alone. */
    size_t flips[] = { 0, 2, 5, 6, 300, rec_len - 17, rec_len - 1 };
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        size_t at = flips[i];
        if (at == 3 || at == 4)
            continue;
        rec[at] ^= 0x01;
        memset(out, 0xAA, sizeof out);
        int rc = open_rec(&c, rec, rec_len, out, sizeof out, &out_len, &type);
        test_cond("rfc8448: flipped byte -> auth failure", rc == TLS13_E_AUTH);
        test_cond("rfc8448: failure wipes the output", test_all_zero(out, rec_len - 5 - 16));
        test_cond("rfc8448: failure leaves outputs zero", out_len == 0 && type == 0);
        test_cond("rfc8448: failure keeps seq", c.seq == 0);
        rec[at] ^= 0x01;
    }

    int rc = open_rec(&c, rec, rec_len, out, sizeof out, &out_len, &type);
    test_cond("rfc8448: server flight opens", rc == 0);
    test_cond("rfc8448: inner type handshake", type == 22);
    test_cond("rfc8448: plaintext is EE..Finished",
              out_len == pt_len && memcmp(out, pt, pt_len) == 0);
    test_cond("rfc8448: first message is EncryptedExtensions", out[0] == 8);
    test_cond("rfc8448: seq advanced", c.seq == 1);

    /* The same record again is at the wrong sequence number. */
    rc = open_rec(&c, rec, rec_len, out, sizeof out, &out_len, &type);
    test_cond("rfc8448: replay at seq 1 -> auth failure", rc == TLS13_E_AUTH && c.seq == 1);

    /* Wrong secret: the client's for the server's record. */
    test_unhex(rfc8448_c_hs, s, sizeof s);
    test_cond("reinit with client secret", tls13_dir_cipher_init_secret(&c, 0x1301, s, 32) == 0);
    rc = open_rec(&c, rec, rec_len, out, sizeof out, &out_len, &type);
    test_cond("rfc8448: wrong secret -> auth failure", rc == TLS13_E_AUTH);

    /* Client Finished under the client handshake secret. */
    rec_len = test_unhex(rfc8448_client_finished_record, rec, sizeof rec);
    test_cond("rfc8448: client finished record size", rec_len == 58);
    rc = open_rec(&c, rec, rec_len, out, sizeof out, &out_len, &type);
    test_cond("rfc8448: client Finished opens", rc == 0 && type == 22);
    test_cond("rfc8448: client Finished plaintext",
              test_hexeq(out, out_len, rfc8448_client_finished));

    /* In place. */
    test_unhex(rfc8448_s_hs, s, sizeof s);
    tls13_dir_cipher_init_secret(&c, 0x1301, s, 32);
    rec_len = test_unhex(rfc8448_server_flight_record, rec, sizeof rec);
    rc = tls13_record_open(&c, rec, rec + 5, rec_len - 5, rec + 5, rec_len - 5, &out_len, &type);
    test_cond("rfc8448: opens in place", rc == 0 && out_len == pt_len &&
                                         memcmp(rec + 5, pt, pt_len) == 0);
    tls13_dir_cipher_release(&c);
    test_cond("release zeroes the struct", test_all_zero((const uint8_t *)&c, sizeof c));
    tls13_dir_cipher_release(&c);   /* twice is harmless */
}

static void test_rfc9001_labels(void)
{
    uint8_t initial[32], client[32], server[32], out[32];
    test_unhex("7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44", initial, 32);
    test_cond("quic: client in",
              tls13_hkdf_expand_label(TLS13_HASH_SHA256, initial, 32, "client in", NULL, 0,
                                      client, 32) == 0 &&
                  test_hexeq(client, 32, "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea"));
    test_cond("quic: server in",
              tls13_hkdf_expand_label(TLS13_HASH_SHA256, initial, 32, "server in", NULL, 0,
                                      server, 32) == 0 &&
                  test_hexeq(server, 32, "3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b"));
    test_cond("quic: client key",
              tls13_hkdf_expand_label(TLS13_HASH_SHA256, client, 32, "quic key", NULL, 0, out, 16) == 0 &&
                  test_hexeq(out, 16, "1f369613dd76d5467730efcbe3b1a22d"));
    test_cond("quic: client iv",
              tls13_hkdf_expand_label(TLS13_HASH_SHA256, client, 32, "quic iv", NULL, 0, out, 12) == 0 &&
                  test_hexeq(out, 12, "fa044b2f42a3fd3b46fb255c"));
    test_cond("quic: client hp",
              tls13_hkdf_expand_label(TLS13_HASH_SHA256, client, 32, "quic hp", NULL, 0, out, 16) == 0 &&
                  test_hexeq(out, 16, "9f50449e04a0e810283a1e9933adedd2"));
    test_cond("quic: server key",
              tls13_hkdf_expand_label(TLS13_HASH_SHA256, server, 32, "quic key", NULL, 0, out, 16) == 0 &&
                  test_hexeq(out, 16, "cf3a5331653c364c88f0f379b6067e37"));
    test_cond("quic: server iv",
              tls13_hkdf_expand_label(TLS13_HASH_SHA256, server, 32, "quic iv", NULL, 0, out, 12) == 0 &&
                  test_hexeq(out, 12, "0ac1493ca1905853b0bba03e"));
    test_cond("quic: server hp",
              tls13_hkdf_expand_label(TLS13_HASH_SHA256, server, 32, "quic hp", NULL, 0, out, 16) == 0 &&
                  test_hexeq(out, 16, "c206b8d9b9f0f37644430b490eeaa314"));
    uint8_t key[16], iv[12], hp[16];
    const struct tls13_label_req req[3] = {
        { "quic key", key, 16 }, { "quic iv", iv, 12 }, { "quic hp", hp, 16 } };
    test_cond("quic: client key, iv, hp from one keying",
              tls13_hkdf_expand_labels(TLS13_HASH_SHA256, client, 32, req, 3) == 0 &&
                  test_hexeq(key, 16, "1f369613dd76d5467730efcbe3b1a22d") &&
                  test_hexeq(iv, 12, "fa044b2f42a3fd3b46fb255c") &&
                  test_hexeq(hp, 16, "9f50449e04a0e810283a1e9933adedd2"));
    const struct tls13_label_req bad[2] = { { "quic key", key, 16 }, { "", iv, 12 } };
    test_cond("labels: one empty label refuses all, outputs wiped",
              tls13_hkdf_expand_labels(TLS13_HASH_SHA256, client, 32, bad, 2) == TLS13_E_ARG &&
                  test_all_zero(key, 16) && test_all_zero(iv, 12));
    test_cond("labels: more than TLS13_LABELS_MAX refused",
              tls13_hkdf_expand_labels(TLS13_HASH_SHA256, client, 32, req,
                                       TLS13_LABELS_MAX + 1) == TLS13_E_ARG);

    /* Argument limits. */
    char label[300];
    memset(label, 'a', sizeof label);
    label[249] = '\0';
    test_cond("label of 249 bytes is allowed",
              tls13_hkdf_expand_label(TLS13_HASH_SHA384, initial, 32, label, NULL, 0, out, 32) == 0);
    label[249] = 'a';
    label[250] = '\0';
    test_cond("label of 250 bytes is refused",
              tls13_hkdf_expand_label(TLS13_HASH_SHA256, initial, 32, label, NULL, 0, out, 32) == TLS13_E_ARG);
    test_cond("empty label is refused",
              tls13_hkdf_expand_label(TLS13_HASH_SHA256, initial, 32, "", NULL, 0, out, 32) == TLS13_E_ARG);
    uint8_t ctx[256] = { 0 };
    test_cond("context of 255 is allowed",
              tls13_hkdf_expand_label(TLS13_HASH_SHA256, initial, 32, "x", ctx, 255, out, 32) == 0);
    test_cond("context of 256 is refused",
              tls13_hkdf_expand_label(TLS13_HASH_SHA256, initial, 32, "x", ctx, 256, out, 32) == TLS13_E_ARG);
    test_cond("zero output is refused",
              tls13_hkdf_expand_label(TLS13_HASH_SHA256, initial, 32, "x", NULL, 0, out, 0) == TLS13_E_ARG);
    static uint8_t big[255 * 48 + 1];
    test_cond("255*hash output is allowed",
              tls13_hkdf_expand_label(TLS13_HASH_SHA384, initial, 32, "x", NULL, 0, big, 255 * 48) == 0);
    test_cond("more than 255*hash is refused",
              tls13_hkdf_expand_label(TLS13_HASH_SHA384, initial, 32, "x", NULL, 0, big, sizeof big) == TLS13_E_ARG);
    test_cond("NULL secret is refused",
              tls13_hkdf_expand_label(TLS13_HASH_SHA256, NULL, 32, "x", NULL, 0, out, 16) == TLS13_E_ARG);
}

/* ------------------------------------------------- OpenSSL-made handshakes */

/*
 * One TLS 1.3 handshake per suite between OpenSSL 3.0 s_server and
 * s_client on 127.0.0.1 (P-256 self-signed certificate, CN=t, 369 bytes of
 * DER), captured with tcpdump.  Per suite: the key log as written by
 * -keylogfile (the 0x1303 one in upper case, the 0x1304 one with CRLF), and
 * three protected server records: EncryptedExtensions and Certificate
 * (server handshake traffic secret, sequence 0 and 1) and the first
 * NewSessionTicket (server application traffic secret, sequence 0).
 */
static const struct ossl_vec {
    uint16_t suite;
    const char *name;
    const char *keylog;
    const char *ee, *cert, *nst;
} ossl[] = {
    {
        0x1301, "TLS_AES_128_GCM_SHA256",
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET 19f4979c5ed69b01526560787077116f3662afb09ac08fa92762b50d5cc2b5b0 9bc86a1fdbdb996691c04b4790ff80aac5db7363665c6f6fdcef68453e40880d\n"
        "SERVER_HANDSHAKE_TRAFFIC_SECRET 19f4979c5ed69b01526560787077116f3662afb09ac08fa92762b50d5cc2b5b0 5497eaeca0a02c399ccd257c60e66491a0f4fb9561a52d7ec245ce20a94244c6\n"
        "CLIENT_TRAFFIC_SECRET_0 19f4979c5ed69b01526560787077116f3662afb09ac08fa92762b50d5cc2b5b0 d3a892191a30ff47d50aacfca277c5ca486d9911b489c7385402b07ea3525853\n"
        "SERVER_TRAFFIC_SECRET_0 19f4979c5ed69b01526560787077116f3662afb09ac08fa92762b50d5cc2b5b0 378c51c15314d0e8a2e86d6a8adce261246768dfdaa56123d1a2b02f943d137c\n"
        "EXPORTER_SECRET 19f4979c5ed69b01526560787077116f3662afb09ac08fa92762b50d5cc2b5b0 c8195f5f0d7be7e8850553fede50630412585c63f9dc9fb2ac9d4ec095298cf9\n",
        "1703030017df1117174b8feda2afb0cfdf12d5946329d57c3d3fc1d8",
        "170303018f8cd4d988f3a763d6b4969b4238aab2f14de769fd4d435d5773e35edae30efe"
        "744844dd5fee7b1c928c25068326d1eff68245eb8f72ca671b4bc8715ebe582eeb62dcfa"
        "97c23a9104607deae187f2646b3f5ead5b16b96a7f019e05ed03b530038a00bff7f24a08"
        "4f40d59bfc95c57e88e3c0e019e1a4883d9ea188b4f5ffad21523009938a43cd56b7603a"
        "9d7e77e6915d4105320d691244a0e0f92f48a0a4ec63f659533da40a71bb2a76dce4e924"
        "b28595fd0dc6181e40c1cafe82e7b29c85c818c03187e0d419778cbe1d4989cdda59b338"
        "e32f11149a35a9ca17febeb0f8e55c8abdd74c447ca3948c80d68a2ebdac4caab21fb639"
        "df5699f461a3ef9c87bf746ea5c884279174352851386aaa1eb96877e6f0023e613262be"
        "c529acfe63cb9b526be5fc679e54ac864fe581fae78e201db57f9a3ce05c1e41849d3a89"
        "612cbf602063a3e0da7d7e65dd0724e45dcb845d412700710a18fb8ffa01122ba2ea6fc9"
        "bc9dcb9ef7b4701b366647b2a3f493ddc3c9dbe223e70eaa26a1d6dac47f4f645d03595c"
        "9ab0143aea686040",
        "17030300ead69a8a9708614d53103e3170101e0e08949acb4b3668dc1ef71411db4f15b7"
        "edfed8da8594709700aacd32730e6d489d7d864d6145d702a65424abd13aff93c44fa414"
        "01b2a235f738ee0acf1ed30ad18c7429a4b6b0bcdb1ee9b0915831d28dc9167b141a1325"
        "da4af2f57a72bd0ebc7e3ce2402506506508c603ed9be15ae76324992a6f951a2821ce40"
        "5fa3e2802c2c068873eb0015ea1d73a340c0ecb2ce283638efc12415b42b6050c4f18086"
        "df7fbf231f351bde27f5a6cdd1321153c9642e3c39940435e6d5958aee463456d9653390"
        "cdc7d55dcf23770c3000f808ec9fba7df338ebf818161a",
    },
    {
        0x1302, "TLS_AES_256_GCM_SHA384",
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET 7498564ae990c45b6cc0794ea0356103db5c6c1531cc51e04f9eed69309f282c 7ffc6ea2c2602056fc2d2d1ba9526860f674467834c156a6399764cae736e05837800b82fbd9970bb2270c3f751db15d\n"
        "SERVER_HANDSHAKE_TRAFFIC_SECRET 7498564ae990c45b6cc0794ea0356103db5c6c1531cc51e04f9eed69309f282c 4753a268dfab22a405d082891f942ba265371b9a7f4e8f7513101efa03ad8d2ec86389508f27ac47984ff1c629bab5d2\n"
        "CLIENT_TRAFFIC_SECRET_0 7498564ae990c45b6cc0794ea0356103db5c6c1531cc51e04f9eed69309f282c 55081979cdcac66e68b6ef24d20d6f7d03c286d0da0aeeaeb994b620f745bd51c346597b24045d9e574ee71792b90cfc\n"
        "SERVER_TRAFFIC_SECRET_0 7498564ae990c45b6cc0794ea0356103db5c6c1531cc51e04f9eed69309f282c 3861af1c566a5d5371f53a174db0c414df50564e205c1daaa34c3a4b51c2a52a3c051bc054768325b773adf48441c5da\n"
        "EXPORTER_SECRET 7498564ae990c45b6cc0794ea0356103db5c6c1531cc51e04f9eed69309f282c 93d81b2a2bd9e30730030a760e36834b39e43b9ed25d975753d08a1c51852b3ec0660bde41f0d4bb1d5c7e3aac921521\n",
        "1703030017df4aa0b61a500b293c1e547e3f15412d47347cb5294b71",
        "170303018fe6f98bb783c77f73f49c5dc7878010d7843698c23472792b29c5d9fe25673e"
        "ca246552c50c9369396d85e91ed99bcb96408540ca23d491a10222174706d22d311d79f1"
        "a7e7663ccfb3df6dd988e0f82c2567cf94003b87aeec36b9f666e78f4a70a50ef5831802"
        "ae35c05ae3ed9bb168f42ce6909bad2d0ecd2de497f41236a282c17d19cc511019e210f3"
        "dd3d4005967607eb95a7eb6f167ac4eb44241d32f093fa53e397389241780305c1118468"
        "d43e7a840fd98dad5e8dd5d4720c68c6382a8adba9667279014b3cefd79f40caaec2fda2"
        "0ab85611b0142b88a4b7e4f692e6e169b7d5afb97e90f450ebc78adf4d721228a5923bad"
        "4ec97ad95cfdf98f98ad6554fa3796c0372043adf22738fe4d2d49771a0653b309e8657d"
        "ed8cb60d2bb075fdb64969d69eb8a89f4a87a5fc196c38ce78c457cd8f9ce202ea9df68b"
        "1aa4662b564f1d7163128292d7345af138d5e3a09ce7b06f5858c92e1ab002e1520c054e"
        "1d65824c5b681ad7914e2ea1bc8373212a47379f5579bef765cbd3a263cd374e4d079402"
        "2e9751308c4f331d",
        "17030300fa190f87340f9275676775c7bf22e80e0e95b3de0f48509674ae83405259ba8e"
        "54e7a80721f48dcff95c07fad6f09b51b6ad467606eee730c0fe857a1233f9a0b8140dc0"
        "7167f081d223625c93415d83d89f7a5d50ef98ac32c826679395e3d3892745e809032c33"
        "fcf0bcef426057e1cd5a8239a1ccf21a904849bb71c572418ba87da1a675f2c2c2fd1cc6"
        "f8793f49dab57e2c982299538923adfb45688c9e9425f7640701415087096e5af9390708"
        "4e0c0dab038fa3c63cb103f43094dc43a19a2f9bdceaaeaa8a2c920b40d922cc7d6f1168"
        "77119070db1eb3e10b0b9aecc10f96eee2070d694357e80d425bb8de499b71772a6be5ed"
        "0e07f7",
    },
    {
        0x1303, "TLS_CHACHA20_POLY1305_SHA256",
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET CC569F93454008F205CA6B48F63BF0CF570050A28C8E0A5C63B982798C9CF6D6 FEE6AD0C87A025DA4E87505C90C2C8AD222601875361B290B61C0EA1FA28AAE5\n"
        "SERVER_HANDSHAKE_TRAFFIC_SECRET CC569F93454008F205CA6B48F63BF0CF570050A28C8E0A5C63B982798C9CF6D6 3E10D58D07D331FFEF84245E754445C170D2DC3A22E149686EE12876BE399B2C\n"
        "CLIENT_TRAFFIC_SECRET_0 CC569F93454008F205CA6B48F63BF0CF570050A28C8E0A5C63B982798C9CF6D6 09302D13C3625E0B215ACD51451976D3851AE67B091B78510B8C0594B46662A0\n"
        "SERVER_TRAFFIC_SECRET_0 CC569F93454008F205CA6B48F63BF0CF570050A28C8E0A5C63B982798C9CF6D6 28AE05ADC393B095155BADAE1263B36A8C8C2336A8A2D320CEC2A14B0D95EF35\n"
        "EXPORTER_SECRET CC569F93454008F205CA6B48F63BF0CF570050A28C8E0A5C63B982798C9CF6D6 CB1C65CE2210C9DB3E857C5EEF107F4042D9A0AA4884DB45D702C4D9ACD4FE3E\n",
        "17030300176038cc79b2180f76272728f7e81c0941615378b1be3880",
        "170303018f4ddb2321eb3eae7ff69083cd0086e90d2f808cbdbf14818afc16b9c85b0075"
        "6bd724b42bfadf315fd1ad9270693df7dac10b6124d779ffb5879998d1b213d3b99fb983"
        "5ff4dc981c6a680075041a9f1799750780b112c0146776cf1c08762ee95bfbb15d529db0"
        "97b970b3a54b61cf1d6c8f547c23c63955535fd9af2006d01968c80d9e50951e8fe87789"
        "e97831e1608a43dca0c77f5fa8713c4892c80dc0e25f3d7422b8bbf1c1be237703094d04"
        "58249eb98d945ebee618277b62b9609959a70885413fc2ad0fe5690d57cbdd6dd6eac3d2"
        "e3d02421a94e1fdb718c4630272f73fd4a790e1e24394c2ec714cdde892a272aea9fa081"
        "8ef7cb53f36c6d8c6a22e9d0f62d955fc0c0c710a9ce0762a10115405f120c325a0b4d4a"
        "c610f22bc3a4f6388b89dee1dfd64edcf2d187fcb8c32bc19a8a2c8d10c4716ff91b8464"
        "67f5ce2d76efc1bcb22f7248f932c0a6ed699c484a4951ece9f0e2fea618a7fd34d7f917"
        "493942b58b336b3cdb7bb6acb2edf372317ceeb89188662ef6350fe7b053575825c75108"
        "7a13271700dab492",
        "17030300ea8dddf069104359f011540388d923b11212189a3394c5e57bad520f80c26caf"
        "a80f509f740d09a39306b70ca247af7172db1def86992fffb53c0c5e351d2175c31cf1a7"
        "44f03d896516bcf0a27f13f116c910dfe4a2d1504f0313ba3948cdeb957eadbde97d4f32"
        "db18831b1e0a79572ef7a223f04f5aeca0cc4d1c7d4c0ab84b5969a466ea4ec6a2354381"
        "4231766bcc3f299b6f6dc8389bad1cd258a0dc367ca533c6852dcc367bacbc6812e329f3"
        "8c643c9ab53a181319c58f90838eeae08246b4410edf91fbe1a50f0b45e232b75dde0890"
        "6d5f701334aba45efa67a5702d399c9747c9aec5f2ad44",
    },
    {
        0x1304, "TLS_AES_128_CCM_SHA256",
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET c6e67550d58325583f0216e4ec52fc1fbfb7ee45091856d26ca15c54b5ca8520 82ebe1f3920cd6140f94a01a2676d72b6050d447a5f5383d5bfe0d24c184fffc\r\n"
        "SERVER_HANDSHAKE_TRAFFIC_SECRET c6e67550d58325583f0216e4ec52fc1fbfb7ee45091856d26ca15c54b5ca8520 34fad8870ce1cd680c3165d6339b82e7585a47a8a43dae21833c79767ed1b244\r\n"
        "CLIENT_TRAFFIC_SECRET_0 c6e67550d58325583f0216e4ec52fc1fbfb7ee45091856d26ca15c54b5ca8520 c9ce0ca67c28657260bac40be04b8a2c5fa1e1d6ad38bbde377366023d4477ad\r\n"
        "SERVER_TRAFFIC_SECRET_0 c6e67550d58325583f0216e4ec52fc1fbfb7ee45091856d26ca15c54b5ca8520 d7d7513b839b870f8a6b0d4f92a4e8bbc92742133aba166f761471fb141d0165\r\n"
        "EXPORTER_SECRET c6e67550d58325583f0216e4ec52fc1fbfb7ee45091856d26ca15c54b5ca8520 f04c8528af490d0e0b6b47d640a7af3ce643666f41456860cc76c1fc2609e594\r\n",
        "1703030017aa6ea66fea1514bb81048a9cf161c3072c45173c1083eb",
        "170303018f63f64b96c4f989ac91c22f3819d236389caa9f3574b8e78d2260244d0933ee"
        "44259778682e6be5a52c3ae0c39d856d088e3c47d84d8cb6e00f99417fe42677d377e9f6"
        "9a10b7c210c2ff74aeec15f1235d67743e891d010cde460d80a8c33c4a0cad7d85f9d91d"
        "cf0f3f2afc7b8cfc793a8c74721bbfe985c3ff070b494c79ff359a8358260c9701b9994e"
        "93a2f530c8bcf21f380e83cbb080085fbced04d3704c0dc5da5a22c569906f471e358af4"
        "283c44ea1d9a8ab619c3b39317354d4db16d511270b0fd4f17c6d58670cf9131b0cd3c5e"
        "cebb7ab15a0fa1117d2c2cd352c5818755f64b0516082a6380ca067db08c882b94b493ea"
        "69922f6324aad3df8203de0b19835d95b81a50d3a572ea380170c9eb482d6021ce88d669"
        "44853dc66f2870e00d23a33b42326373015ff5e4b121e75fd65a2cd33000b92870245130"
        "051282cee21dcd5c9eae7c265176085a47b832dbc831568f716bdcf9f7607888efd6cb89"
        "eebc90e3565df945484e6a757c0893b0f8a04fa75dd069f9eb847b7ef41210307c76ee5c"
        "9e1f2bacec309c44",
        "17030300eaced9d08cdb37a1c5eafd7974d766f16425e5ff00cd0db037ce587990d125f4"
        "9042676d2139f181f5b2870fd46a573409eba9da4510bd53583bbb41b4f23e73f4bac179"
        "3697f23035db21556d9b018c1c792229181438357b6a7cc9f966dcc238625d26f2a4577a"
        "ca737f68aad5c6acd7aca26ef60b3c70ebc3b247a68addc326cf9615db0e59a0de34fe61"
        "832c9a774ec201809a5b20d72c7b544e65b24bec9ca1a5d075195e2bc897435d97caa4ee"
        "0a060fd2c0d74adfd6d684643121ec60cdf4318544c7d53d6a4106fd0fc7e11ea02ab824"
        "dea82aec56a1f63d55184d8ceeb3a2f5d27f2ba14b35a5",
    },
    {
        0x1305, "TLS_AES_128_CCM_8_SHA256",
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET 9b438e43dcb95c8311c5549c8bea818fedf5e098f1b89a1e44a587850931c8a7 571da3c1194a0562fb53b7f72ac124a51ec2d69e1a9401b2d2b3d64ae8bc9671\n"
        "SERVER_HANDSHAKE_TRAFFIC_SECRET 9b438e43dcb95c8311c5549c8bea818fedf5e098f1b89a1e44a587850931c8a7 f69659820c923622771408438aa70cc7f299a0f2088d8acb8f758c42022d2a18\n"
        "CLIENT_TRAFFIC_SECRET_0 9b438e43dcb95c8311c5549c8bea818fedf5e098f1b89a1e44a587850931c8a7 ceaa978e9fbbe1e2a1afbc8aff6394bd680adc41d3f94cb2033b36e184f56974\n"
        "SERVER_TRAFFIC_SECRET_0 9b438e43dcb95c8311c5549c8bea818fedf5e098f1b89a1e44a587850931c8a7 b997c6fd5cad787053e237e6b5b8c961fe4c66c87339ac61703878068ce6d72c\n"
        "EXPORTER_SECRET 9b438e43dcb95c8311c5549c8bea818fedf5e098f1b89a1e44a587850931c8a7 97744c65318ff461e9f84627b4c10c369291dcb7dfd0412a3bb30223201e7a8a\n",
        "170303000f47fc80b7556f0fb648890a511e55c5",
        "17030301874125573a9d944fdadfdf3dbcb8520143f4bfd2a87c6c5f5505bffb21654cb3"
        "588feb468aa48e9fdf1e5505fe47ba81fb00cf3895e6fb24fd7c2811d2215d48dd8a769b"
        "92c8d7dbe222f52a098cb9175b0f79ecff63d1c539565d9f44faf435cb21b9a65fa59cb1"
        "8f955eda2950f88e609738fa12d2ac2b7b3dd0b21c63d0d9aa884fc61ae6d60ee2bddbc7"
        "bfd907879ac44745b9a3426c523aef3e674da71b7d83ced120841729fecf2cfcd02137e8"
        "e79f05af89eba4d738be98db44880975440878f3d8451c68224266de51e33dbc8270009a"
        "c56f212140d52dca7e9da0f20e1fdb563c0c108170a5a941142ebc12abb3671408d2b762"
        "f716111f54e06f7fa730e7409d49b1df845f1e9fcf63b7d770d5a34f301d68ce33620fab"
        "faab8d42f2e664ddc712b7e50c6959da30507437eb147f41369e75e0839a663c29a9712e"
        "85771af0920572b5628924714008c1b2eda6bfc21406cebedac88f50c888f7f6f5f6102a"
        "302e60956dd6f72c1a7f32ecd09cbe8bf2beb1e7dfea6567214211dfcf7c8dcddcf1bb5e",
        "17030300e20b0c8930472c54fb6817cc5972c06b00461b3f03c24e7bf19f7f8e533e7aef"
        "88c0f7bd3fa0bc96739266c54cf45700d7785e4bbefa330cb50fdcd660842ece916abdd0"
        "3dfe7d651970ff3577c632d063f17909ee7e428abda95ce5f429c93e5d1ea85446cd58a9"
        "3b2466b0d69c1697089c89a4b0af918db8dab50b07accb7149b0a4f44f2c401d9924f411"
        "1dd12406174ccddef4479de020940588b7d3e5d64dde6ec4b615e0f5049c19cec29644e1"
        "29228ee89db09b45cf20ed92e4ec72e9a425dabd9f54cf553fd9a35a37191540b1bf8d73"
        "b12f37d27dd35e18738acdb6a24cc4",
    },
};

static void test_openssl_vectors(void)
{
    static uint8_t rec[4096], out[4096];
    for (size_t i = 0; i < sizeof ossl / sizeof ossl[0]; i++) {
        const struct ossl_vec *v = &ossl[i];
        struct keylog *kl = keylog_new(0);
        int n = keylog_load_buffer(kl, (const uint8_t *)v->keylog, strlen(v->keylog));
        test_cond(v->name, n == 5);
        test_cond("key log: one client random", keylog_size(kl) == 1 &&
                                                keylog_counts(kl)->malformed == 0);

        /* The client random is the second field of any line. */
        uint8_t cr[32];
        test_unhex(strchr(v->keylog, ' ') + 1, cr, 32);
        const struct keylog_entry *e = keylog_find(kl, cr);
        test_cond("key log: found by client random", e != NULL);
        if (!e) {
            keylog_free(kl);
            continue;
        }
        struct keylog_secret shs_s = keylog_entry_secret(e, KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET);
        struct keylog_secret sap_s = keylog_entry_secret(e, KEYLOG_SERVER_TRAFFIC_SECRET_0);
        struct keylog_secret chs_s = keylog_entry_secret(e, KEYLOG_CLIENT_HANDSHAKE_TRAFFIC_SECRET);
        const struct keylog_secret *shs = &shs_s, *sap = &sap_s, *chs = &chs_s;
        test_cond("secret length is the suite's hash length",
                  shs->len == tls13_suite_hash_len(v->suite) &&
                      sap->len == shs->len && chs->len == shs->len);
        test_cond("suite supported", tls13_suite_supported(v->suite));

        struct tls13_dir_cipher c = { 0 };
        size_t out_len;
        uint8_t type;
        int rc = tls13_dir_cipher_init_secret(&c, v->suite, shs->v, shs->len);
        test_cond("init with SERVER_HANDSHAKE_TRAFFIC_SECRET", rc == 0);

        /* A flipped ciphertext byte: authentication failure. */
        size_t rl = test_unhex(v->ee, rec, sizeof rec);
        rec[6] ^= 0x80;
        rc = open_rec(&c, rec, rl, out, sizeof out, &out_len, &type);
        test_cond("flipped EE byte -> auth failure", rc == TLS13_E_AUTH && c.seq == 0);
        rec[6] ^= 0x80;

        rc = open_rec(&c, rec, rl, out, sizeof out, &out_len, &type);
        test_cond("EncryptedExtensions opens", rc == 0);
        test_cond("EE: inner type handshake(22)", type == 22);
        test_cond("EE: handshake type 8", out_len >= 4 && out[0] == 8 &&
                                          get24(out + 1) + 4 == out_len);

        rl = test_unhex(v->cert, rec, sizeof rec);
        rc = open_rec(&c, rec, rl, out, sizeof out, &out_len, &type);
        test_cond("Certificate opens at seq 1", rc == 0 && type == 22 && c.seq == 2);
        /* Certificate: type 11, uint24 len, context<0..255> (empty),
         * certificate_list<uint24>, first cert_data<uint24> = our 369-byte DER */
        test_cond("Certificate: handshake type 11", out_len > 11 && out[0] == 11 &&
                                                    get24(out + 1) + 4 == out_len);
        test_cond("Certificate: first certificate is the server's",
                  out[4] == 0 && get24(out + 8) == 369 && out[11] == 0x30 && out[12] == 0x82);

        /* The application secret opens the ticket; the handshake key does not. */
        rl = test_unhex(v->nst, rec, sizeof rec);
        rc = open_rec(&c, rec, rl, out, sizeof out, &out_len, &type);
        test_cond("NST under handshake key -> auth failure", rc == TLS13_E_AUTH);
        rc = tls13_dir_cipher_init_secret(&c, v->suite, sap->v, sap->len);
        rc = rc ? rc : open_rec(&c, rec, rl, out, sizeof out, &out_len, &type);
        test_cond("NewSessionTicket opens with SERVER_TRAFFIC_SECRET_0",
                  rc == 0 && type == 22 && out_len > 4 && out[0] == 4);

        /* Wrong secret of the right length. */
        rl = test_unhex(v->ee, rec, sizeof rec);
        tls13_dir_cipher_init_secret(&c, v->suite, chs->v, chs->len);
        rc = open_rec(&c, rec, rl, out, sizeof out, &out_len, &type);
        test_cond("EE with client secret -> auth failure", rc == TLS13_E_AUTH);

        /* Wrong suite: the record cannot be opened, or the secret does not fit. */
        uint16_t other = v->suite == 0x1302 ? 0x1301 : 0x1302;
        rc = tls13_dir_cipher_init_secret(&c, other, shs->v, shs->len);
        test_cond("other suite: secret length refused", rc == TLS13_E_SECRET_LEN);
        other = v->suite == 0x1301 ? 0x1303 : 0x1301;
        if (shs->len == 32) {
            rc = tls13_dir_cipher_init_secret(&c, other, shs->v, shs->len);
            rc = rc ? rc : open_rec(&c, rec, rl, out, sizeof out, &out_len, &type);
            /* (a CCM_8 record may even be shorter than a 16-byte tag) */
            test_cond("other suite of the same hash: not decryptable",
                      rc == TLS13_E_AUTH || (v->suite == 0x1305 && rc == TLS13_E_RECORD_LEN));
        }

        /* Every shorter body: a clean error, never a success. */
        tls13_dir_cipher_init_secret(&c, v->suite, shs->v, shs->len);
        int bad = 0;
        for (size_t cut = 0; cut < rl - 5; cut++) {
            uint8_t hdr[5] = { 0x17, 3, 3, (uint8_t)(cut >> 8), (uint8_t)cut };
            rc = tls13_record_open(&c, hdr, rec + 5, cut, out, sizeof out, &out_len, &type);
            if (rc == 0 || c.seq != 0)
                bad++;
        }
        test_cond("every prefix: not decryptable", bad == 0);
        tls13_dir_cipher_release(&c);
        keylog_free(kl);
    }
}

/* ------------------------------------------------------ synthetic records */

static void test_limits(void)
{
    static uint8_t rec[TLS13_MAX_CIPHERTEXT + 64], out[TLS13_MAX_CIPHERTEXT + 64];
    static uint8_t content[TLS13_MAX_CIPHERTEXT];
    uint8_t secret[48];
    struct tls13_keys k;
    struct tls13_dir_cipher c = { 0 };
    size_t out_len;
    uint8_t type;

    for (size_t i = 0; i < sizeof secret; i++)
        secret[i] = (uint8_t)(i * 7 + 1);
    for (size_t i = 0; i < sizeof content; i++)
        content[i] = (uint8_t)(i % 251 + 1);

    test_cond("suite 0x1306 unsupported", tls13_keys_derive(0x1306, secret, 32, &k) == TLS13_E_SUITE);
    test_cond("suite 0xc02f unsupported", tls13_keys_derive(0xc02f, secret, 48, &k) == TLS13_E_SUITE);
    test_cond("unsupported suite not supported", !tls13_suite_supported(0x1306) &&
                                                 tls13_suite_hash_len(0x1306) == 0);
    test_cond("sha256 suite needs 32 bytes", tls13_keys_derive(0x1301, secret, 48, &k) == TLS13_E_SECRET_LEN);
    test_cond("sha384 suite needs 48 bytes", tls13_keys_derive(0x1302, secret, 32, &k) == TLS13_E_SECRET_LEN);
    test_cond("NULL out", tls13_keys_derive(0x1301, secret, 32, NULL) == TLS13_E_ARG);
    test_cond("err names", strcmp(tls13_err_name(TLS13_E_AUTH), "auth_failed") == 0 &&
                               strcmp(tls13_err_name(12345), "unknown") == 0);
    test_cond("open on a zeroed cipher",
              tls13_record_open(&c, rec, rec + 5, 20, out, sizeof out, &out_len, &type) == TLS13_E_ARG);

    static const uint16_t all[] = { 0x1301, 0x1302, 0x1303, 0x1304, 0x1305 };
    for (size_t s = 0; s < sizeof all / sizeof all[0]; s++) {
        size_t hl = tls13_suite_hash_len(all[s]);
        test_cond("derive", tls13_keys_derive(all[s], secret, hl, &k) == 0);
        test_cond("tag length", k.tag_len == (all[s] == 0x1305 ? 8 : 16));
        test_cond("init", tls13_dir_cipher_init(&c, &k) == 0);

        /* Padding is stripped; the real type comes back. */
        size_t rl = seal(&k, 0, content, 100, 23, 50, rec);
        int rc = open_rec(&c, rec, rl, out, sizeof out, &out_len, &type);
        test_cond("padded record opens", rc == 0 && type == 23 && out_len == 100 &&
                                         memcmp(out, content, 100) == 0);
        /* Empty content with only a type byte. */
        rl = seal(&k, 1, NULL, 0, 21, 0, rec);
        rc = open_rec(&c, rec, rl, out, sizeof out, &out_len, &type);
        test_cond("empty content opens", rc == 0 && type == 21 && out_len == 0);
        /* All zeros: authentic, no content type; sequence advances. */
        rl = seal(&k, 2, NULL, 0, 0, 10, rec);
        rc = open_rec(&c, rec, rl, out, sizeof out, &out_len, &type);
        test_cond("all-zero plaintext -> no content type", rc == TLS13_E_NO_CONTENT_TYPE &&
                                                          c.seq == 3 && out_len == 0);
        /* Largest legal inner plaintext: 2^14 content + type. */
        rl = seal(&k, 3, content, 16384, 22, 0, rec);
        rc = open_rec(&c, rec, rl, out, sizeof out, &out_len, &type);
        test_cond("2^14 content opens", rc == 0 && out_len == 16384 && type == 22);
        /* 2^14 + 2 inner bytes: authentic but over the limit. */
        rl = seal(&k, 4, content, 16384, 22, 1, rec);
        rc = open_rec(&c, rec, rl, out, sizeof out, &out_len, &type);
        test_cond("inner plaintext over 2^14+1 -> inner length", rc == TLS13_E_INNER_LEN &&
                                                                c.seq == 5);
        /* Ciphertext over 2^14+256 is refused before decryption. */
        rl = seal(&k, 5, content, 16384, 22, 256 - k.tag_len, rec);
        test_cond("sealed 2^14+257", rl == 5 + 16384 + 257);
        rc = open_rec(&c, rec, rl, out, sizeof out, &out_len, &type);
        test_cond("ciphertext over 2^14+256 -> record length", rc == TLS13_E_RECORD_LEN &&
                                                               c.seq == 5);
        /* Exactly 2^14+256 is allowed by the record layer (then over the
         * inner limit). */
        rl = seal(&k, 5, content, 16384, 22, 255 - k.tag_len, rec);
        rc = open_rec(&c, rec, rl, out, sizeof out, &out_len, &type);
        test_cond("ciphertext of 2^14+256 authenticates", rc == TLS13_E_INNER_LEN);

        /* Header/length consistency and output space. */
        rl = seal(&k, 6, content, 40, 22, 0, rec);
        rc = tls13_record_open(&c, rec, rec + 5, rl - 6, out, sizeof out, &out_len, &type);
        test_cond("length differs from header -> record length", rc == TLS13_E_RECORD_LEN);
        rc = tls13_record_open(&c, rec, rec + 5, rl - 5, out, 40, &out_len, &type);
        test_cond("out_cap too small -> out space", rc == TLS13_E_OUT_SPACE);
        rc = tls13_record_open(&c, rec, rec + 5, rl - 5, out, 41, &out_len, &type);
        test_cond("out_cap = ciphertext - tag is enough", rc == 0 && out_len == 40);
        uint8_t hdr[5] = { 0x17, 3, 3, 0, (uint8_t)k.tag_len };
        rc = tls13_record_open(&c, hdr, rec + 5, k.tag_len, out, sizeof out, &out_len, &type);
        test_cond("tag only -> record length", rc == TLS13_E_RECORD_LEN);
        test_cond("NULL args", tls13_record_open(&c, NULL, rec, 1, out, 1, &out_len, &type) == TLS13_E_ARG &&
                                   tls13_record_open(&c, rec, rec + 5, 1, out, 1, NULL, &type) == TLS13_E_ARG);

        /* The record type in the header is authenticated. */
        rl = seal(&k, 7, content, 40, 22, 0, rec);
        rec[0] = 0x16;
        rc = open_rec(&c, rec, rl, out, sizeof out, &out_len, &type);
        test_cond("altered header type -> auth failure", rc == TLS13_E_AUTH);
        rec[0] = 0x17;
        rc = open_rec(&c, rec, rl, out, sizeof out, &out_len, &type);
        test_cond("then the record still opens", rc == 0 && c.seq == 8);

        /* A large sequence number in the nonce, and its end. */
        c.seq = 0x0102030405060708ull;
        rl = seal(&k, c.seq, content, 10, 23, 0, rec);
        rc = open_rec(&c, rec, rl, out, sizeof out, &out_len, &type);
        test_cond("64-bit sequence number", rc == 0 && type == 23);
        c.seq = UINT64_MAX;
        rc = open_rec(&c, rec, rl, out, sizeof out, &out_len, &type);
        test_cond("sequence exhausted", rc == TLS13_E_SEQ);

        tls13_keys_wipe(&k);
    }
    tls13_dir_cipher_release(&c);
}

/* ------------------------------------------------------------------ keylog */

static const char cr_a[] = "0101010101010101010101010101010101010101010101010101010101010101";
static const char cr_b[] = "abcdefABCDEF0123456789abcdef0123456789ABCDEFabcdef0123456789abcd";
static const char s32[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
static const char s48[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
                          "202122232425262728292a2b2c2d2e2f";

static int load_str(struct keylog *kl, const char *s)
{
    return keylog_load_buffer(kl, (const uint8_t *)s, strlen(s));
}

static void test_keylog_parse(void)
{
    struct keylog *kl = keylog_new(16);
    char buf[4096];
    snprintf(buf, sizeof buf,
             "# a comment\n"
             "\n"
             "   \t \r\n"
             "CLIENT_RANDOM %s %s\n"                         /* TLS 1.2, 48 bytes */
             "SERVER_HANDSHAKE_TRAFFIC_SECRET %s %s\r\n"     /* CRLF */
             "CLIENT_HANDSHAKE_TRAFFIC_SECRET\t%s  \t%s  \n" /* tabs, runs, trailing */
             "SERVER_TRAFFIC_SECRET_0 %s %s\n"               /* upper and lower case */
             "EXPORTER_SECRET %s %s",                        /* no final newline */
             cr_a, s48, cr_a, s32, cr_a, s32, cr_b, s48, cr_b, s32);
    int n = load_str(kl, buf);
    const struct keylog_counts *c = keylog_counts(kl);
    test_cond("keylog: 5 secrets stored", n == 5 && c->secrets == 5);
    test_cond("keylog: 2 randoms", keylog_size(kl) == 2);
    test_cond("keylog: 8 lines, none malformed", c->lines == 8 && c->malformed == 0);

    uint8_t cr[32];
    test_unhex(cr_a, cr, 32);
    const struct keylog_entry *e = keylog_find(kl, cr);
    test_cond("keylog: find a", e != NULL);
    test_cond("keylog: found under its random",
              e && memcmp(keylog_entry_random(e), cr, 32) == 0 && !keylog_entry_random(NULL));
    test_cond("keylog: CLIENT_RANDOM 48",
              e && keylog_entry_secret(e, KEYLOG_CLIENT_RANDOM).len == 48 &&
                  test_hexeq(keylog_entry_secret(e, KEYLOG_CLIENT_RANDOM).v, 48, s48));
    test_cond("keylog: SHTS via CRLF",
              e && keylog_entry_secret(e, KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET).len == 32 &&
                  test_hexeq(keylog_entry_secret(e, KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET).v, 32, s32));
    test_cond("keylog: CHTS via tabs", e && keylog_entry_secret(e, KEYLOG_CLIENT_HANDSHAKE_TRAFFIC_SECRET).len == 32);
    test_cond("keylog: unknown secret has len 0", e && keylog_entry_secret(e, KEYLOG_EXPORTER_SECRET).len == 0);
    test_unhex(cr_b, cr, 32);
    e = keylog_find(kl, cr);
    test_cond("keylog: mixed-case random found", e != NULL);
    test_cond("keylog: 48-byte traffic secret", e && keylog_entry_secret(e, KEYLOG_SERVER_TRAFFIC_SECRET_0).len == 48);
    test_cond("keylog: last line without LF", e && keylog_entry_secret(e, KEYLOG_EXPORTER_SECRET).len == 32);
    cr[0] ^= 1;
    test_cond("keylog: other random not found", keylog_find(kl, cr) == NULL);
    test_cond("keylog: NULL store finds nothing", keylog_find(NULL, cr) == NULL);

    /* Malformed lines, each counted and skipped. */
    uint64_t before = c->malformed;
    static const struct {
        const char *label, *random, *secret, *tail;
    } bad[] = {
        { "CLIENT_RANDOM", cr_a, NULL, "" },                            /* missing secret */
        { "CLIENT_RANDOM", NULL, NULL, "" },
        { "CLIENT_RANDOM", cr_a, s48, " extra" },                       /* extra field */
        { "CLIENT_RANDOM", cr_a, "0011", "" },                          /* short secret */
        { "CLIENT_RANDOM", cr_a, s32, "" },                             /* 32-byte master secret */
        { "SERVER_HANDSHAKE_TRAFFIC_SECRET", cr_a, s32, "0" },          /* odd hex length */
        { "SERVER_HANDSHAKE_TRAFFIC_SECRET", cr_a,
          "g0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", "" }, /* not hex */
        { "SERVER_HANDSHAKE_TRAFFIC_SECRET", cr_a, s32, "0011" },       /* 34 bytes */
        { "SERVER_HANDSHAKE_TRAFFIC_SECRET", "0123", s32, "" },          /* short random */
        { "SERVER_HANDSHAKE_TRAFFIC_SECRET",
          "01010101010101010101010101010101010101010101010101010101010101010", s32, "" }, /* 65 digits */
        { "server_handshake_traffic_secret", cr_a, s32, "" },           /* labels are case-sensitive */
        { "NOT_A_LABEL", cr_a, s32, "" },
        { "SERVER_HANDSHAKE_TRAFFIC_SECRET",
          "z101010101010101010101010101010101010101010101010101010101010101", s32, "" },
        { "SERVER_HANDSHAKE_TRAFFIC_SECRET", cr_a, s32, "\x01" },       /* control byte */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char line[512];
        snprintf(line, sizeof line, "%s%s%s%s%s%s\n", bad[i].label, bad[i].random ? " " : "",
                 bad[i].random ? bad[i].random : "", bad[i].secret ? " " : "",
                 bad[i].secret ? bad[i].secret : "", bad[i].tail);
        int rc = load_str(kl, line);
        test_cond("keylog: malformed line stores nothing", rc == 0);
    }
    test_cond("keylog: every malformed line counted",
              c->malformed - before == sizeof bad / sizeof bad[0]);

    /* Labels we recognise but do not keep. */
    snprintf(buf, sizeof buf, "RSA 0011223344556677 %s%s\nEARLY_EXPORTER_SECRET %s %s\n",
             s48, s48, cr_a, s32);
    test_cond("keylog: RSA and EARLY_EXPORTER_SECRET ignored",
              load_str(kl, buf) == 0 && c->ignored == 2);

    /* A line longer than KEYLOG_LINE_MAX. */
    static char longline[KEYLOG_LINE_MAX + 200];
    snprintf(longline, sizeof longline, "CLIENT_RANDOM %s %s", cr_a, s48);
    memset(longline + strlen(longline), ' ', sizeof longline - strlen(longline) - 2);
    longline[sizeof longline - 2] = '\n';
    longline[sizeof longline - 1] = '\0';
    before = c->malformed;
    test_cond("keylog: over-long line skipped", load_str(kl, longline) == 0 &&
                                                c->malformed == before + 1);

    /* Duplicates and conflicts: the first value stays. */
    snprintf(buf, sizeof buf, "SERVER_HANDSHAKE_TRAFFIC_SECRET %s %s\n", cr_a, s32);
    test_cond("keylog: duplicate not stored", load_str(kl, buf) == 0 && c->duplicates == 1);
    snprintf(buf, sizeof buf, "SERVER_HANDSHAKE_TRAFFIC_SECRET %s %s\n", cr_a, s48);
    test_cond("keylog: conflict not stored", load_str(kl, buf) == 0 && c->conflicts == 1);
    test_unhex(cr_a, cr, 32);
    e = keylog_find(kl, cr);
    test_cond("keylog: first value kept",
              e && keylog_entry_secret(e, KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET).len == 32 &&
                  test_hexeq(keylog_entry_secret(e, KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET).v, 32, s32));

    char sum[256];
    keylog_summary(kl, sum, sizeof sum);
    test_cond("keylog: summary", strncmp(sum, "5 secrets for 2 client randoms", 30) == 0 &&
                                     strstr(sum, "malformed") && strstr(sum, "conflicting"));
    test_cond("keylog: label names",
              strcmp(keylog_label_name(KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET),
                     "SERVER_HANDSHAKE_TRAFFIC_SECRET") == 0 &&
                  strcmp(keylog_label_name(KEYLOG_LABEL_COUNT), "?") == 0);
    test_cond("keylog: bad args", keylog_load_buffer(NULL, (const uint8_t *)"", 0) == KEYLOG_E_ARG &&
                                      keylog_load_buffer(kl, NULL, 5) == KEYLOG_E_ARG &&
                                      keylog_load_buffer(kl, NULL, 0) == 0);
    test_cond("keylog: NUL padding is blank", keylog_load_buffer(kl, (const uint8_t *)"\0\0\0", 3) == 0 &&
                                                  c->malformed == before + 1);

    /* Every prefix of a valid text: never more than the whole, no crash. */
    snprintf(buf, sizeof buf, "CLIENT_RANDOM %s %s\nSERVER_TRAFFIC_SECRET_0 %s %s\n",
             cr_b, s48, cr_a, s48);
    size_t len = strlen(buf);
    int over = 0;
    for (size_t cut = 0; cut <= len; cut++) {
        struct keylog *p = keylog_new(4);
        int rc = keylog_load_buffer(p, (const uint8_t *)buf, cut);
        if (rc < 0 || rc > 2 || (cut == len && rc != 2))
            over++;
        keylog_free(p);
    }
    test_cond("keylog: every prefix", over == 0);
    keylog_free(kl);
    keylog_free(NULL);
}

static void test_keylog_cap(void)
{
    test_cond("keylog: cap over the limit refused", keylog_new((size_t)KEYLOG_MAX_ENTRIES_LIMIT + 1) == NULL);
    struct keylog *kl = keylog_new(2);
    char buf[1024];
    char r[65];
    for (int i = 0; i < 3; i++) {
        snprintf(r, sizeof r, "%064x", i + 1);
        snprintf(buf, sizeof buf, "SERVER_HANDSHAKE_TRAFFIC_SECRET %s %s\n", r, s32);
        load_str(kl, buf);
    }
    test_cond("keylog: cap of 2 randoms", keylog_size(kl) == 2 && keylog_counts(kl)->capped == 1);
    snprintf(r, sizeof r, "%064x", 1);
    snprintf(buf, sizeof buf, "CLIENT_TRAFFIC_SECRET_0 %s %s\n", r, s32);
    test_cond("keylog: known random still takes secrets at the cap", load_str(kl, buf) == 1);
    keylog_free(kl);

    /* Growth: many randoms, all found afterwards. */
    enum { N = 5000 };
    kl = keylog_new(N);
    int stored = 0;
    for (int i = 0; i < N; i++) {
        snprintf(r, sizeof r, "%064x", i * 2654435761u);
        snprintf(buf, sizeof buf, "CLIENT_HANDSHAKE_TRAFFIC_SECRET %s %s\n", r, s32);
        stored += load_str(kl, buf);
    }
    int found = 0;
    for (int i = 0; i < N; i++) {
        uint8_t cr[32];
        snprintf(r, sizeof r, "%064x", i * 2654435761u);
        test_unhex(r, cr, 32);
        found += keylog_find(kl, cr) != NULL;
    }
    test_cond("keylog: 5000 stored and found", stored == N && found == N && keylog_size(kl) == N);
    keylog_free(kl);
}

/* The secret test_keylog_subsets() gives label l of subset m (32 or 48
 * bytes, CLIENT_RANDOM always 48), into out[]; returns its length. */
static size_t subset_secret(unsigned m, int l, int salt, uint8_t out[48])
{
    size_t len = l == KEYLOG_CLIENT_RANDOM || ((m >> l) ^ (unsigned)l ^ m) & 1 ? 48 : 32;
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(m * 31 + (unsigned)l * 7 + i * 13 + (unsigned)salt);
    return len;
}

static void subset_line(char *buf, size_t cap, int l, const uint8_t cr[32], const uint8_t *v,
                        size_t len)
{
    int n = snprintf(buf, cap, "%s ", keylog_label_name((enum keylog_label)l));
    for (int i = 0; i < 32; i++)
        n += snprintf(buf + n, cap - (size_t)n, "%02x", cr[i]);
    buf[n++] = ' ';
    for (size_t i = 0; i < len; i++)
        n += snprintf(buf + n, cap - (size_t)n, "%02x", v[i]);
    snprintf(buf + n, cap - (size_t)n, "\n");
}

/* The client random of subset m added in order o. */
static void subset_random(uint8_t cr[32], int o, unsigned m)
{
    memset(cr, 0, 32);
    cr[0] = (uint8_t)o;
    cr[1] = (uint8_t)m;
}

/* Every subset of the seven labels, added in three orders (ascending,
 * descending, odd labels first), each its own client random: every
 * secret is found with its length and bytes, every other label is
 * absent; then a repeat of each is a duplicate and another value a
 * conflict, and neither changes what is stored. */
static void test_keylog_subsets(void)
{
    enum { ORDERS = 3, SUBSETS = 1 << KEYLOG_LABEL_COUNT };
    struct keylog *kl = keylog_new(ORDERS * SUBSETS);
    char line[256];
    uint8_t v[48], cr[32];
    int stored = 0, bad = 0, wanted = 0, repeats = 0;
    for (int o = 0; o < ORDERS; o++) {
        for (unsigned m = 1; m < SUBSETS; m++) {
            subset_random(cr, o, m);
            for (int k = 0; k < KEYLOG_LABEL_COUNT; k++) {
                int l = o == 0 ? k : o == 1 ? KEYLOG_LABEL_COUNT - 1 - k
                                   : k < KEYLOG_LABEL_COUNT / 2 ? 2 * k + 1
                                                                : 2 * (k - KEYLOG_LABEL_COUNT / 2);
                if (!(m & (1u << l)))
                    continue;
                wanted++;
                size_t len = subset_secret(m, l, 0, v);
                subset_line(line, sizeof line, l, cr, v, len);
                stored += load_str(kl, line);
            }
        }
    }
    for (int o = 0; o < ORDERS; o++) {
        for (unsigned m = 1; m < SUBSETS; m++) {
            subset_random(cr, o, m);
            const struct keylog_entry *e = keylog_find(kl, cr);
            if (!e) {
                bad++;
                continue;
            }
            for (int l = 0; l < KEYLOG_LABEL_COUNT; l++) {
                struct keylog_secret s = keylog_entry_secret(e, (enum keylog_label)l);
                if (!(m & (1u << l))) {
                    bad += s.len != 0 || s.v != NULL;
                    continue;
                }
                size_t len = subset_secret(m, l, 0, v);
                bad += s.len != len || !s.v || memcmp(s.v, v, len) != 0;
                /* The same value again, then another one of the same length. */
                subset_line(line, sizeof line, l, cr, v, len);
                repeats += load_str(kl, line);
                subset_secret(m, l, 1, v);
                subset_line(line, sizeof line, l, cr, v, len);
                repeats += load_str(kl, line);
            }
        }
    }
    const struct keylog_counts *c = keylog_counts(kl);
    test_cond("keylog subsets: every secret stored once",
              stored == wanted && c->secrets == (uint64_t)wanted &&
                  keylog_size(kl) == ORDERS * (SUBSETS - 1));
    test_cond("keylog subsets: every secret found, others absent", bad == 0);
    test_cond("keylog subsets: repeats stored nothing", repeats == 0);
    test_cond("keylog subsets: a duplicate and a conflict each",
              c->duplicates == (uint64_t)wanted && c->conflicts == (uint64_t)wanted);
    bad = 0;
    for (int o = 0; o < ORDERS; o++) {
        for (unsigned m = 1; m < SUBSETS; m++) {
            subset_random(cr, o, m);
            const struct keylog_entry *e = keylog_find(kl, cr);
            for (int l = 0; e && l < KEYLOG_LABEL_COUNT; l++) {
                if (!(m & (1u << l)))
                    continue;
                struct keylog_secret s = keylog_entry_secret(e, (enum keylog_label)l);
                size_t len = subset_secret(m, l, 0, v);
                bad += s.len != len || memcmp(s.v, v, len) != 0;
            }
        }
    }
    test_cond("keylog subsets: first values kept", bad == 0);
    struct keylog_secret none = keylog_entry_secret(NULL, KEYLOG_CLIENT_RANDOM);
    subset_random(cr, 0, 1);
    struct keylog_secret out = keylog_entry_secret(keylog_find(kl, cr), KEYLOG_LABEL_COUNT);
    test_cond("keylog subsets: NULL entry and label out of range are absent",
              none.len == 0 && !none.v && out.len == 0 && !out.v);
    keylog_free(kl);
}

static char *temp_file(const void *data, size_t len)
{
    static char path[64];
    strcpy(path, "/tmp/pinscope-test-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, (const char *)data + off, len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(fd);
    return path;
}

static void test_keylog_file(void)
{
    char err[256];
    struct keylog *kl = keylog_new(0);
    int rc = keylog_load_file(kl, "/nonexistent/pinscope.keys", err, sizeof err);
    test_cond("keylog file: missing file is an error", rc == KEYLOG_E_OPEN &&
                                                       strstr(err, "/nonexistent/pinscope.keys"));

    /* Many lines (crossing the 64 KiB read chunks), CRLF, one huge line in
     * the middle, no final newline. */
    size_t cap = 2 * 1024 * 1024, n = 0;
    char *text = malloc(cap);
    enum { LINES = 3000 };
    for (int i = 0; i < LINES; i++) {
        char r[65];
        snprintf(r, sizeof r, "%064x", i + 7);
        n += (size_t)snprintf(text + n, cap - n, "SERVER_HANDSHAKE_TRAFFIC_SECRET %s %s%s", r,
                              s32, i == LINES - 1 ? "" : "\r\n");
        if (i == 1000) {
            memset(text + n, 'x', 200000);   /* a 200 kB line */
            n += 200000;
            text[n++] = '\n';
        }
    }
    char *path = temp_file(text, n);
    test_cond("temp file", path != NULL);
    rc = keylog_load_file(kl, path, err, sizeof err);
    test_cond("keylog file: all lines loaded", rc == LINES && keylog_size(kl) == LINES);
    test_cond("keylog file: the huge line is one malformed line",
              keylog_counts(kl)->malformed == 1 && keylog_counts(kl)->lines == LINES + 1);
    test_cond("keylog file: the warning names the bad line",
              strstr(err, "1 malformed line skipped, the first is line 1002") != NULL);
    rc = keylog_load_file(kl, path, err, sizeof err);
    test_cond("keylog file: reload gives duplicates", rc == 0 &&
                                                      keylog_counts(kl)->duplicates == LINES);
    unlink(path);
    free(text);

    path = temp_file("", 0);
    test_cond("keylog file: empty file", keylog_load_file(kl, path, err, sizeof err) == 0 &&
                                             err[0] == '\0');
    unlink(path);
    static const char not_keylog[] = "# comment\nhello world\nCLIENT_RANDOM zz\n";
    path = temp_file(not_keylog, sizeof not_keylog - 1);
    rc = keylog_load_file(kl, path, err, sizeof err);
    test_cond("keylog file: no key log line at all is not a key log",
              rc == KEYLOG_E_NOTKEYLOG && strstr(err, "not a key log: line 2") != NULL);
    unlink(path);
    test_cond("keylog file: a directory is a read error",
              keylog_load_file(kl, "/tmp", err, sizeof err) == KEYLOG_E_READ && err[0]);
    keylog_free(kl);
}

/* ------------------------------------------------------------------ pcapng */

struct img {
    uint8_t b[1 << 16];
    size_t n;
    int le;
};

static void put(struct img *m, const void *p, size_t n)
{
    memcpy(m->b + m->n, p, n);
    m->n += n;
}
static void w8(struct img *m, unsigned v) { m->b[m->n++] = (uint8_t)v; }
static void w16(struct img *m, unsigned v)
{
    if (m->le) { w8(m, v & 0xff); w8(m, v >> 8); }
    else { w8(m, v >> 8); w8(m, v & 0xff); }
}
static void w32(struct img *m, uint32_t v)
{
    if (m->le) { w16(m, v & 0xffff); w16(m, v >> 16); }
    else { w16(m, v >> 16); w16(m, v & 0xffff); }
}

/* Where each block of the last image ends, and which end a TLSK DSB. */
static size_t ends[64], n_ends;
static size_t tlsk_ends[64], n_tlsk_ends;

/* A block: type, total length, body padded to 4, total length. */
static void block(struct img *m, uint32_t type, const struct img *body)
{
    size_t pad = (4 - body->n % 4) % 4;
    uint32_t total = (uint32_t)(12 + body->n + pad);
    w32(m, type);
    w32(m, total);
    put(m, body->b, body->n);
    for (size_t i = 0; i < pad; i++)
        w8(m, 0);
    w32(m, total);
    if (n_ends < 64)
        ends[n_ends++] = m->n;
}

static void shb(struct img *m)
{
    static struct img b;
    b.n = 0;
    b.le = m->le;
    w32(&b, PCAPNG_BYTE_ORDER_MAGIC);
    w16(&b, 1);
    w16(&b, 0);
    w32(&b, 0xffffffff);
    w32(&b, 0xffffffff);
    block(m, PCAPNG_BT_SHB, &b);
}

static void idb(struct img *m)
{
    static struct img b;
    b.n = 0;
    b.le = m->le;
    w16(&b, 1);        /* LINKTYPE_ETHERNET */
    w16(&b, 0);
    w32(&b, 65535);
    block(m, 1, &b);
}

static void epb(struct img *m, size_t len)
{
    static struct img b;
    b.n = 0;
    b.le = m->le;
    w32(&b, 0);
    w32(&b, 1);
    w32(&b, 2);
    w32(&b, (uint32_t)len);
    w32(&b, (uint32_t)len);
    for (size_t i = 0; i < len; i++)
        w8(&b, i);
    block(m, 6, &b);
}

static void dsb(struct img *m, uint32_t secrets_type, const char *text)
{
    static struct img b;
    b.n = 0;
    b.le = m->le;
    w32(&b, secrets_type);
    w32(&b, (uint32_t)strlen(text));
    put(&b, text, strlen(text));
    block(m, PCAPNG_BT_DSB, &b);
    if (secrets_type == PCAPNG_SECRETS_TLSK && n_tlsk_ends < 64)
        tlsk_ends[n_tlsk_ends++] = m->n;
}

static void keyline(char *buf, size_t cap, int i)
{
    char r[65];
    snprintf(r, sizeof r, "%064x", 0x5000 + i);
    snprintf(buf, cap, "SERVER_HANDSHAKE_TRAFFIC_SECRET %s %s\nCLIENT_TRAFFIC_SECRET_0 %s %s\n",
             r, s32, r, s48);
}

/* Two sections: big-endian, then little-endian (or the reverse). */
static void build(struct img *m, int first_le)
{
    char t[512];
    m->n = 0;
    m->le = first_le;
    n_ends = n_tlsk_ends = 0;
    shb(m);
    idb(m);
    epb(m, 60);
    keyline(t, sizeof t, 1);
    dsb(m, PCAPNG_SECRETS_TLSK, t);
    epb(m, 61);
    dsb(m, 0x57474b4c, "wireguard");   /* other secrets type */
    m->le = !first_le;
    shb(m);
    idb(m);
    keyline(t, sizeof t, 2);
    dsb(m, PCAPNG_SECRETS_TLSK, t);
    epb(m, 62);
}

static int has_key(const struct keylog *kl, int i)
{
    char r[65];
    uint8_t cr[32];
    snprintf(r, sizeof r, "%064x", 0x5000 + i);
    test_unhex(r, cr, 32);
    const struct keylog_entry *e = keylog_find(kl, cr);
    return e && keylog_entry_secret(e, KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET).len == 32 &&
           keylog_entry_secret(e, KEYLOG_CLIENT_TRAFFIC_SECRET_0).len == 48;
}

static void test_pcapng(void)
{
    static struct img m;
    struct pcapng_dsb_result res;
    char err[256];

    for (int le = 0; le < 2; le++) {
        build(&m, le);
        struct keylog *kl = keylog_new(0);
        int rc = pcapng_dsb_scan_buffer(m.b, m.n, kl, &res);
        test_cond("pcapng: two TLSK DSBs", rc == 2 && res.dsb_tlsk == 2);
        test_cond("pcapng: both sections", res.pcapng && res.sections == 2 && res.blocks == 10);
        test_cond("pcapng: other secrets type skipped", res.dsb_other == 1);
        test_cond("pcapng: clean walk", !res.truncated && !res.malformed);
        test_cond("pcapng: keys from both byte orders", has_key(kl, 1) && has_key(kl, 2) &&
                                                        keylog_size(kl) == 2);
        keylog_free(kl);

        /* The same through a file. */
        char *path = temp_file(m.b, m.n);
        kl = keylog_new(0);
        rc = pcapng_dsb_scan_ex(path, kl, &res, err, sizeof err);
        test_cond("pcapng file: two DSBs", rc == 2 && has_key(kl, 1) && has_key(kl, 2) &&
                                           err[0] == '\0');
        keylog_free(kl);

        /* Truncated file: what came before the cut is kept, with a warning. */
        test_cond("truncate", truncate(path, (off_t)(m.n - 10)) == 0);
        kl = keylog_new(0);
        rc = pcapng_dsb_scan(path, kl, err, sizeof err);
        test_cond("pcapng file: truncated keeps earlier DSBs", rc == 2 && strstr(err, "truncated"));
        keylog_free(kl);
        unlink(path);

        /* Every prefix of the image: a cut inside a block is "truncated"
         * (once the first SHB header is readable), a cut on a block boundary
         * is clean, and exactly the DSBs before the cut are loaded. */
        int bad = 0;
        for (size_t cut = 0; cut <= m.n; cut++) {
            int on_boundary = 0, want = 0;
            for (size_t i = 0; i < n_ends; i++)
                on_boundary |= ends[i] == cut;
            for (size_t i = 0; i < n_tlsk_ends; i++)
                want += tlsk_ends[i] <= cut;
            kl = keylog_new(0);
            rc = pcapng_dsb_scan_buffer(m.b, cut, kl, &res);
            if (rc != want || res.malformed ||
                res.truncated != (cut >= 12 && !on_boundary) ||
                (int)keylog_size(kl) != want)
                bad++;
            keylog_free(kl);
        }
        test_cond("pcapng: every prefix", bad == 0);

        /* Hostile lengths in the second block (the IDB at offset 28). */
        struct { size_t at; uint32_t v; int want_trunc; } h[] = {
            { 28 + 4, 0, 0 },             /* length 0 */
            { 28 + 4, 8, 0 },             /* under 12 */
            { 28 + 4, 22, 0 },            /* not a multiple of 4 */
            { 28 + 4, 0xfffffffc, 1 },    /* past the end */
            { 28 + 4, 24, 0 },            /* trailer mismatch */
            { 4, 24, 0 },                 /* SHB under 28 */
        };
        for (size_t i = 0; i < sizeof h / sizeof h[0]; i++) {
            build(&m, le);
            uint8_t v[4];
            for (int j = 0; j < 4; j++)
                v[j] = (uint8_t)(le ? h[i].v >> (8 * j) : h[i].v >> (24 - 8 * j));
            memcpy(m.b + h[i].at, v, 4);
            kl = keylog_new(0);
            rc = pcapng_dsb_scan_buffer(m.b, m.n, kl, &res);
            test_cond("pcapng: hostile length stops the walk",
                      rc == 0 && keylog_size(kl) == 0 &&
                          (h[i].want_trunc ? res.truncated : res.malformed) &&
                          res.stop_offset == (h[i].at == 4 ? 0 : 28));
            keylog_free(kl);
        }

        /* A DSB whose secrets length overruns its block, one too short
         * for its header; then a good DSB still loads. */
        m.n = 0;
        m.le = le;
        shb(&m);
        size_t at = m.n;
        dsb(&m, PCAPNG_SECRETS_TLSK, "CLIENT_RANDOM x y\n");
        uint8_t big[4] = { 0x7f, 0xff, 0xff, 0xf0 };
        if (le) { big[0] = 0xf0; big[3] = 0x7f; }
        memcpy(m.b + at + 12, big, 4);
        static struct img e;
        e.n = 0;
        e.le = le;
        w32(&e, PCAPNG_SECRETS_TLSK);
        block(&m, PCAPNG_BT_DSB, &e);      /* 16-byte DSB */
        char t[512];
        keyline(t, sizeof t, 3);
        dsb(&m, PCAPNG_SECRETS_TLSK, t);
        kl = keylog_new(0);
        rc = pcapng_dsb_scan_buffer(m.b, m.n, kl, &res);
        test_cond("pcapng: bad DSBs skipped, good one loaded",
                  rc == 1 && res.dsb_bad == 2 && has_key(kl, 3) && !res.malformed);
        keylog_free(kl);

        /* Second section with a bad byte-order magic. */
        build(&m, le);
        size_t shb2 = 0;
        for (size_t i = 28; i + 12 <= m.n; i++)
            if (memcmp(m.b + i, "\x0a\x0d\x0d\x0a", 4) == 0) {
                shb2 = i;
                break;
            }
        m.b[shb2 + 8] ^= 0xff;
        kl = keylog_new(0);
        rc = pcapng_dsb_scan_buffer(m.b, m.n, kl, &res);
        test_cond("pcapng: bad magic in section 2 stops there",
                  rc == 1 && res.malformed && res.stop_offset == shb2 && has_key(kl, 1));
        keylog_free(kl);
    }

    /* Random corruption: bounded, no crash, never more than the clean run. */
    build(&m, 1);
    uint32_t x = 12345;
    int bad = 0;
    for (int it = 0; it < 3000; it++) {
        static struct img c;
        memcpy(c.b, m.b, m.n);
        c.n = m.n;
        for (int k = 0; k < 4; k++) {
            x = x * 1103515245u + 12345u;
            c.b[(x >> 8) % c.n] = (uint8_t)(x >> 24);
        }
        struct keylog *kl = keylog_new(0);
        int rc = pcapng_dsb_scan_buffer(c.b, c.n, kl, &res);
        if (rc < 0 || rc > 2 || res.blocks > c.n / 12)
            bad++;
        keylog_free(kl);
    }
    test_cond("pcapng: random corruption", bad == 0);

    /* Not pcapng. */
    static const uint8_t classic[24] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0 };
    struct keylog *kl = keylog_new(0);
    int rc = pcapng_dsb_scan_buffer(classic, sizeof classic, kl, &res);
    test_cond("pcapng: classic pcap is 0, not pcapng", rc == 0 && !res.pcapng && !res.malformed);
    rc = pcapng_dsb_scan_buffer(classic, 0, kl, &res);
    test_cond("pcapng: empty input", rc == 0 && !res.pcapng);
    char *path = temp_file(classic, sizeof classic);
    rc = pcapng_dsb_scan(path, kl, err, sizeof err);
    test_cond("pcapng file: classic pcap", rc == 0 && err[0] == '\0');
    unlink(path);
    rc = pcapng_dsb_scan("-", kl, err, sizeof err);
    test_cond("pcapng file: stdin not scanned", rc == 0 && strstr(err, "standard input"));
    rc = pcapng_dsb_scan("/tmp", kl, err, sizeof err);
    test_cond("pcapng file: directory not scanned", rc == 0 && strstr(err, "not a regular file"));
    rc = pcapng_dsb_scan("/nonexistent/x.pcapng", kl, err, sizeof err);
    test_cond("pcapng file: missing file", rc == PCAPNG_DSB_E_OPEN && err[0]);
    test_cond("pcapng: NULL store", pcapng_dsb_scan_buffer(classic, 4, NULL, &res) == PCAPNG_DSB_E_ARG);
    keylog_free(kl);
}

static void test_corpus(void)
{
    if (access(CORPUS_DSB, R_OK) != 0) {
        printf("test_decrypt: %s not present, corpus check skipped\n", CORPUS_DSB);
        return;
    }
    struct keylog *kl = keylog_new(0);
    struct pcapng_dsb_result res;
    char err[256];
    int rc = pcapng_dsb_scan_ex(CORPUS_DSB, kl, &res, err, sizeof err);
    test_cond("corpus: one TLSK DSB loaded", rc == 1 && res.dsb_tlsk == 1 && err[0] == '\0');
    test_cond("corpus: clean walk", res.pcapng && !res.truncated && !res.malformed);
    test_cond("corpus: secrets loaded", keylog_size(kl) >= 1 &&
                                        keylog_counts(kl)->secrets >= 4 &&
                                        keylog_counts(kl)->malformed == 0);
    uint8_t cr[32];
    test_unhex("a8ba73151e99d1a071af2e07e67c8b38f14914d8757d56f0f1d85a5a3372f741", cr, 32);
    const struct keylog_entry *e = keylog_find(kl, cr);
    test_cond("corpus: SERVER_HANDSHAKE_TRAFFIC_SECRET of the first connection",
              e && keylog_entry_secret(e, KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET).len == 32 &&
                  test_hexeq(keylog_entry_secret(e, KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET).v, 32,
                        "e669c56fb9f4933a70c3a33dd1014e0145b9f283edd5023839f474017a06ccb0"));
    keylog_free(kl);
}

/* RFC 5869 A.1 and A.3: SHA-256, 42 bytes of output (two HMAC blocks). */
static void test_rfc5869(void)
{
    uint8_t ikm[22], salt[13], info[10], prk[32], okm[42];
    memset(ikm, 0x0b, sizeof ikm);
    for (size_t i = 0; i < sizeof salt; i++)
        salt[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof info; i++)
        info[i] = (uint8_t)(0xf0 + i);
    test_cond("rfc5869 A.1: extract", algs_hkdf_extract(ALGS_SHA256, salt, sizeof salt, ikm,
                                                        sizeof ikm, prk) == 1);
    test_cond("rfc5869 A.1: PRK",
              test_hexeq(prk, 32, "077709362c2e32df0ddc3f0dc47bba63"
                                  "90b6c73bb50f9c3122ec844ad7c2b3e5"));
    test_cond("rfc5869 A.1: expand 42",
              algs_hkdf_expand(ALGS_SHA256, prk, 32, info, sizeof info, okm, 42) == 1);
    test_cond("rfc5869 A.1: OKM", test_hexeq(okm, 42, "3cb25f25faacd57a90434f64d0362f2a"
                                                      "2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                                                      "34007208d5b887185865"));
    test_cond("rfc5869 A.3: extract, no salt",
              algs_hkdf_extract(ALGS_SHA256, NULL, 0, ikm, sizeof ikm, prk) == 1 &&
                  test_hexeq(prk, 32, "19ef24a32c717b167f33a91d6f648bdf"
                                      "96596776afdb6377ac434c1c293ccb04"));
    test_cond("rfc5869 A.3: expand, no info",
              algs_hkdf_expand(ALGS_SHA256, prk, 32, NULL, 0, okm, 42) == 1 &&
                  test_hexeq(okm, 42, "8da4e775a563c18f715f802a063c5a31"
                                      "b8a11f5c5ee1879ec3454e5f3c738d2d"
                                      "9d201395faa4b61a96c8"));
    test_cond("hkdf expand: over 255 blocks refused",
              algs_hkdf_expand(ALGS_SHA256, prk, 32, NULL, 0, okm, 255 * 32 + 1) == 0);

    /* HKDF-Extract is HMAC(salt, IKM): RFC 4231 vectors for the HMAC. */
    static const char data2[] = "what do ya want for nothing?";
    static const char data6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
    uint8_t longkey[131], mac[48];
    memset(longkey, 0xaa, sizeof longkey);
    test_cond("rfc4231 2: HMAC-SHA-384",
              algs_hkdf_extract(ALGS_SHA384, (const uint8_t *)"Jefe", 4, (const uint8_t *)data2,
                                sizeof data2 - 1, mac) == 1 &&
                  test_hexeq(mac, 48, "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47"
                                      "e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"));
    test_cond("rfc4231 6: HMAC-SHA-384, key over the block",
              algs_hkdf_extract(ALGS_SHA384, longkey, 131, (const uint8_t *)data6,
                                sizeof data6 - 1, mac) == 1 &&
                  test_hexeq(mac, 48, "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f"
                                      "3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952"));
    test_cond("rfc4231 6: HMAC-SHA-256, key over the block",
              algs_hkdf_extract(ALGS_SHA256, longkey, 131, (const uint8_t *)data6,
                                sizeof data6 - 1, mac) == 1 &&
                  test_hexeq(mac, 32, "60e431591ee0b67f0d8a26aacbf5b77f"
                                      "8e0bc6213728c5140546040f0ee37f54"));

    /* A salt kept keyed gives the same PRK as keying it each time. */
    struct algs_hmac_key *sk = algs_hmac_key_new(ALGS_SHA256, salt, sizeof salt);
    test_cond("hmac key: extract with a kept salt",
              sk && algs_hkdf_extract_key(sk, ikm, sizeof ikm, prk) == 1 &&
                  test_hexeq(prk, 32, "077709362c2e32df0ddc3f0dc47bba63"
                                      "90b6c73bb50f9c3122ec844ad7c2b3e5"));
    algs_hmac_key_free(sk);

    /* Several expands from one PRK equal one expand each. */
    uint8_t a[42], b[100], c1[42], c2[100];
    struct algs_expand_req req[2] = { { info, sizeof info, a, sizeof a },
                                      { NULL, 0, b, sizeof b } };
    test_cond("hkdf expand_n: two outputs",
              algs_hkdf_expand_n(ALGS_SHA384, prk, 32, req, 2) == 1 &&
                  algs_hkdf_expand(ALGS_SHA384, prk, 32, info, sizeof info, c1, sizeof c1) == 1 &&
                  algs_hkdf_expand(ALGS_SHA384, prk, 32, NULL, 0, c2, sizeof c2) == 1 &&
                  memcmp(a, c1, sizeof a) == 0 && memcmp(b, c2, sizeof b) == 0);
    req[1].out_len = 255 * 48 + 1;
    memset(a, 0x5a, sizeof a);
    test_cond("hkdf expand_n: one output over the limit, nothing written",
              algs_hkdf_expand_n(ALGS_SHA384, prk, 32, req, 2) == 0 && a[0] == 0x5a &&
                  a[41] == 0x5a);

    /* A cipher context handed back is handed out again, set up. */
    EVP_CIPHER_CTX *x = algs_ctx_get(ALGS_AES128GCM);
    algs_ctx_put(ALGS_AES128GCM, x, true);
    EVP_CIPHER_CTX *y = algs_ctx_get(ALGS_AES128GCM);
    test_cond("ctx pool: reused", x && x == y &&
                                      EVP_CIPHER_CTX_get0_cipher(y) == algs_cipher(ALGS_AES128GCM));
    algs_ctx_put(ALGS_AES128GCM, y, true);
    EVP_CIPHER_CTX *z = algs_ctx_get(ALGS_AES128CCM);
    algs_ctx_put(ALGS_AES128CCM, z, true);
    test_cond("ctx pool: CCM not kept", z && algs_ctx_get(ALGS_AES128GCM) == x);
    algs_ctx_put(ALGS_AES128GCM, x, true);
}

int main(void)
{
    test_rfc5869();
    test_rfc8448_keys();
    test_rfc8448_records();
    test_rfc9001_labels();
    test_openssl_vectors();
    test_limits();
    test_keylog_parse();
    test_keylog_cap();
    test_keylog_subsets();
    test_keylog_file();
    test_pcapng();
    test_corpus();
    tls13_crypto_cleanup();
    return test_report();
}
