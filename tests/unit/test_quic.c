/*
 * test_quic.c - unit tests for quic/quic.c.
 *
 * Known answers:
 *   - RFC 9000 A.1 (variable-length integers) and A.3 (packet number
 *     decoding: largest 0xa82f30ea, 16-bit 0x9b32 -> 0xa82f9b32);
 *   - RFC 9001 appendix A (QUIC v1): A.1 initial secret, client and server
 *     secrets, key, iv, hp; A.2 the 1200-byte protected client Initial
 *     (pn 2, a CRYPTO frame holding the ClientHello, then PADDING); A.3 the
 *     server Initial (pn 1, ACK + CRYPTO/ServerHello); A.4 the Retry; A.5
 *     the ChaCha20-Poly1305 short header packet (pn 654360564, PING);
 *   - RFC 9369 appendix A (QUIC v2): the same five;
 *   - draft-ietf-quic-tls-29 A.1 keys and A.4 Retry.
 * A test-side sealer (EVP directly, not quic.c) must reproduce the RFC
 * 9001 A.2 packet byte for byte; it then builds synthetic packets for the
 * other suites (AES-256-GCM, AES-128-CCM), the reserved bits, packet number
 * windows and the limits.  Then the failure paths: flipped bytes, wrong
 * keys, every prefix of every packet, hostile lengths, CID length 255,
 * frames with huge ACK range counts and CRYPTO offsets near 2^62, and
 * transport parameters.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "quic/quic.h"
#include "tls/decrypt.h"
#include "testhelp.h"

/* ------------------------------------------------------------------ helpers */

/* Test-side packet protection with EVP (independent of quic.c): encrypt
 * payload under key/iv with AAD = hdr (unprotected, packet number at
 * pn_offset, pn_len bytes), then mask the header with hp.  Returns the
 * packet length, 0 on failure. */
static size_t seal(uint16_t suite, const uint8_t *key, const uint8_t *iv, const uint8_t *hp,
                   const uint8_t *hdr, size_t hdr_len, size_t pn_offset, uint64_t pn,
                   const uint8_t *payload, size_t plen, int long_header, uint8_t *pkt)
{
    const char *aead, *hpname;
    int ccm = 0;
    switch (suite) {
    case 0x1301: aead = "AES-128-GCM"; hpname = "AES-128-ECB"; break;
    case 0x1302: aead = "AES-256-GCM"; hpname = "AES-256-ECB"; break;
    case 0x1303: aead = "ChaCha20-Poly1305"; hpname = "ChaCha20"; break;
    default: aead = "AES-128-CCM"; hpname = "AES-128-ECB"; ccm = 1; break;
    }
    size_t pn_len = hdr_len - pn_offset;
    memcpy(pkt, hdr, hdr_len);
    uint8_t nonce[12];
    memcpy(nonce, iv, 12);
    for (int i = 0; i < 8; i++)
        nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
    EVP_CIPHER *ci = EVP_CIPHER_fetch(NULL, aead, NULL);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, ok = 1;
    ok &= EVP_EncryptInit_ex2(ctx, ci, NULL, NULL, NULL);
    ok &= EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL);
    if (ccm)
        ok &= EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, NULL);
    ok &= EVP_EncryptInit_ex2(ctx, NULL, key, nonce, NULL);
    if (ccm)
        ok &= EVP_EncryptUpdate(ctx, NULL, &n, NULL, (int)plen);
    ok &= EVP_EncryptUpdate(ctx, NULL, &n, hdr, (int)hdr_len);
    n = 0;
    if (plen)
        ok &= EVP_EncryptUpdate(ctx, pkt + hdr_len, &n, payload, (int)plen);
    int m = 0;
    ok &= EVP_EncryptFinal_ex(ctx, pkt + hdr_len + n, &m);
    ok &= EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, pkt + hdr_len + plen);
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(ci);

    /* Header protection. */
    const uint8_t *sample = pkt + pn_offset + 4;
    uint8_t mask[16] = { 0 }, zeros[16] = { 0 };
    EVP_CIPHER *hc = EVP_CIPHER_fetch(NULL, hpname, NULL);
    ctx = EVP_CIPHER_CTX_new();
    if (suite == 0x1303) {
        ok &= EVP_EncryptInit_ex2(ctx, hc, hp, sample, NULL);
        ok &= EVP_EncryptUpdate(ctx, mask, &n, zeros, 5);
    } else {
        ok &= EVP_EncryptInit_ex2(ctx, hc, hp, NULL, NULL);
        EVP_CIPHER_CTX_set_padding(ctx, 0);
        ok &= EVP_EncryptUpdate(ctx, mask, &n, sample, 16);
    }
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(hc);
    pkt[0] ^= mask[0] & (long_header ? 0x0f : 0x1f);
    for (size_t i = 0; i < pn_len; i++)
        pkt[pn_offset + i] ^= mask[1 + i];
    return ok ? hdr_len + plen + 16 : 0;
}

/* CRYPTO callback: copies the stream bytes to their offsets. */
struct crypto_sink {
    uint8_t buf[4096];
    size_t hi;          /* highest offset + len seen */
    unsigned calls;
    uint64_t last_off;
};

static void sink_cb(void *ctx, uint64_t off, const uint8_t *data, size_t len)
{
    struct crypto_sink *s = ctx;
    s->calls++;
    s->last_off = off;
    if (off < sizeof s->buf && len <= sizeof s->buf - off) {
        memcpy(s->buf + off, data, len);
        if (off + len > s->hi)
            s->hi = (size_t)(off + len);
    }
}

/* ------------------------------------------------------------ RFC vectors */

static const char dcid_hex[] = "8394c8f03e515708";

/* RFC 9001 A.2 / RFC 9369 A.2: the CRYPTO frame (then PADDING to 1162). */
static const char client_crypto_frame[] =
    "060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868"
    "04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578"
    "616d706c652e636f6dff01000100000a00080006001d00170018001000070005"
    "04616c706e000500050100000000003300260024001d00209370b2c9caa47fba"
    "baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400"
    "0d0010000e0403050306030203080408050806002d00020101001c0002400100"
    "3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000"
    "75300901100f088394c8f03e51570806048000ffff";

static const char v1_client_initial[] =
    "c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11"
    "d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399"
    "1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c"
    "8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212"
    "30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5"
    "457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208"
    "4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec"
    "4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3"
    "485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db"
    "059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c"
    "7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8"
    "9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556"
    "be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74"
    "68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a"
    "c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00"
    "f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632"
    "291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964"
    "25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd"
    "14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff"
    "ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198"
    "e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd"
    "c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73"
    "203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f"
    "cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e"
    "fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade"
    "a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047"
    "90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2"
    "162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4"
    "40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0"
    "6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e"
    "8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0"
    "be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400"
    "54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab"
    "760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9"
    "f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4"
    "056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064"
    "7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241"
    "e221af44860018ab0856972e194cd934";

static const char v2_client_initial[] =
    "d76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485"
    "dd04de806071bf03dceebfa162e75d6c96058bdbfb127cdfcbf903388e99ad04"
    "9f9a3dd4425ae4d0992cfff18ecf0fdb5a842d09747052f17ac2053d21f57c5d"
    "250f2c4f0e0202b70785b7946e992e58a59ac52dea6774d4f03b55545243cf1a"
    "12834e3f249a78d395e0d18f4d766004f1a2674802a747eaa901c3f10cda5500"
    "cb9122faa9f1df66c392079a1b40f0de1c6054196a11cbea40afb6ef5253cd68"
    "18f6625efce3b6def6ba7e4b37a40f7732e093daa7d52190935b8da58976ff33"
    "12ae50b187c1433c0f028edcc4c2838b6a9bfc226ca4b4530e7a4ccee1bfa2a3"
    "d396ae5a3fb512384b2fdd851f784a65e03f2c4fbe11a53c7777c023462239dd"
    "6f7521a3f6c7d5dd3ec9b3f233773d4b46d23cc375eb198c63301c21801f6520"
    "bcfb7966fc49b393f0061d974a2706df8c4a9449f11d7f3d2dcbb90c6b877045"
    "636e7c0c0fe4eb0f697545460c806910d2c355f1d253bc9d2452aaa549e27a1f"
    "ac7cf4ed77f322e8fa894b6a83810a34b361901751a6f5eb65a0326e07de7c12"
    "16ccce2d0193f958bb3850a833f7ae432b65bc5a53975c155aa4bcb4f7b2c4e5"
    "4df16efaf6ddea94e2c50b4cd1dfe06017e0e9d02900cffe1935e0491d77ffb4"
    "fdf85290fdd893d577b1131a610ef6a5c32b2ee0293617a37cbb08b847741c3b"
    "8017c25ca9052ca1079d8b78aebd47876d330a30f6a8c6d61dd1ab5589329de7"
    "14d19d61370f8149748c72f132f0fc99f34d766c6938597040d8f9e2bb522ff9"
    "9c63a344d6a2ae8aa8e51b7b90a4a806105fcbca31506c446151adfeceb51b91"
    "abfe43960977c87471cf9ad4074d30e10d6a7f03c63bd5d4317f68ff325ba3bd"
    "80bf4dc8b52a0ba031758022eb025cdd770b44d6d6cf0670f4e990b22347a7db"
    "848265e3e5eb72dfe8299ad7481a408322cac55786e52f633b2fb6b614eaed18"
    "d703dd84045a274ae8bfa73379661388d6991fe39b0d93debb41700b41f90a15"
    "c4d526250235ddcd6776fc77bc97e7a417ebcb31600d01e57f32162a8560cacc"
    "7e27a096d37a1a86952ec71bd89a3e9a30a2a26162984d7740f81193e8238e61"
    "f6b5b984d4d3dfa033c1bb7e4f0037febf406d91c0dccf32acf423cfa1e70710"
    "10d3f270121b493ce85054ef58bada42310138fe081adb04e2bd901f2f13458b"
    "3d6758158197107c14ebb193230cd1157380aa79cae1374a7c1e5bbcb80ee23e"
    "06ebfde206bfb0fcbc0edc4ebec309661bdd908d532eb0c6adc38b7ca7331dce"
    "8dfce39ab71e7c32d318d136b6100671a1ae6a6600e3899f31f0eed19e3417d1"
    "34b90c9058f8632c798d4490da4987307cba922d61c39805d072b589bd52fdf1"
    "e86215c2d54e6670e07383a27bbffb5addf47d66aa85a0c6f9f32e59d85a44dd"
    "5d3b22dc2be80919b490437ae4f36a0ae55edf1d0b5cb4e9a3ecabee93dfc6e3"
    "8d209d0fa6536d27a5d6fbb17641cde27525d61093f1b28072d111b2b4ae5f89"
    "d5974ee12e5cf7d5da4d6a31123041f33e61407e76cffcdcfd7e19ba58cf4b53"
    "6f4c4938ae79324dc402894b44faf8afbab35282ab659d13c93f70412e85cb19"
    "9a37ddec600545473cfb5a05e08d0b209973b2172b4d21fb69745a262ccde96b"
    "a18b2faa745b6fe189cf772a9f84cbfc";

/* RFC 9001 A.3 / RFC 9369 A.3: ACK, then CRYPTO with the ServerHello. */
static const char server_payload[] =
    "02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf739"
    "88cfc79825df566dc5430b9a045a1200130100002e00330024001d00209d3c94"
    "0d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00"
    "020304";

static const char v1_server_initial[] =
    "cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a"
    "5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3"
    "dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84"
    "022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4"
    "2158407dd074ee";

static const char v2_server_initial[] =
    "dc6b3343cf0008f067a5502a4262b5004075d92faaf16f05d8a4398c47089698"
    "baeea26b91eb761d9b89237bbf87263017915358230035f7fd3945d88965cf17"
    "f9af6e16886c61bfc703106fbaf3cb4cfa52382dd16a393e42757507698075b2"
    "c984c707f0a0812d8cd5a6881eaf21ceda98f4bd23f6fe1a3e2c43edd9ce7ca8"
    "4bed8521e2e140";

static const char v1_retry[] =
    "ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba";
static const char v2_retry[] =
    "cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d955543665dcc7b6";
static const char d29_retry[] =
    "ffff00001d0008f067a5502a4262b5746f6b656ed16926d81f6f9ca2953a8aa4575e1e49";

static const char a5_secret[] =
    "9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b";

struct initial_vec {
    const char *name;
    uint32_t version;
    const char *initial_secret;       /* NULL: not published */
    const char *salt;
    const char *client_secret, *client_key, *client_iv, *client_hp;
    const char *server_secret, *server_key, *server_iv, *server_hp;
    const char *client_packet, *server_packet;  /* NULL: not used */
    uint8_t client_unprot_first, server_unprot_first;
};

static const struct initial_vec initial_vecs[] = {
    {
        "v1", QUIC_VERSION_1,
        "7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44",
        "38762cf7f55934b34d179ae6a4c80cadccbb7f0a",
        "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea",
        "1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c",
        "9f50449e04a0e810283a1e9933adedd2",
        "3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b",
        "cf3a5331653c364c88f0f379b6067e37", "0ac1493ca1905853b0bba03e",
        "c206b8d9b9f0f37644430b490eeaa314",
        v1_client_initial, v1_server_initial, 0xc3, 0xc1,
    },
    {
        "v2", QUIC_VERSION_2,
        "2062e8b3cd8d52092614b8071d0aa1fb7c2e3ac193f78b280e72d8f5751f6aba",
        "0dede3def700a6db819381be6e269dcbf9bd2ed9",
        "14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b",
        "8b1a0bc121284290a29e0971b5cd045d", "91f73e2351d8fa91660e909f",
        "45b95e15235d6f45a6b19cbcb0294ba9",
        "0263db1782731bf4588e7e4d93b7463907cb8cd8200b5da55a8bd488eafc37c1",
        "82db637861d55e1d011f19ea71d5d2a7", "dd13c276499c0249d3310652",
        "edf6d05c83121201b436e16877593c3a",
        v2_client_initial, v2_server_initial, 0xd3, 0xd1,
    },
    {
        "draft-29", QUIC_VERSION_DRAFT29, NULL, NULL,
        "0088119288f1d866733ceeed15ff9d50902cf82952eee27e9d4d4918ea371d87",
        "175257a31eb09dea9366d8bb79ad80ba", "6b26114b9cba2b63a9e8dd4f",
        "9ddd12c994c0698b89374a9c077a3077",
        "006f881359244dd9ad1acf85f595bad67c13f9f5586f5e64e1acae1d9ea8f616",
        "149d0b1662ab871fbe63c49b5e655a5d", "bab2b12a4c76016ace47856d",
        "c0c499a65a60024a18a250974ea01dfa",
        NULL, NULL, 0, 0,
    },
};

/* ---------------------------------------------------------------- tests */

static void test_varint(void)
{
    static const struct {
        const char *hex;
        uint64_t v;
        size_t len;
    } v[] = {
        /* RFC 9000 A.1 */
        { "c2197c5eff14e88c", UINT64_C(151288809941952652), 8 },
        { "9d7f3e7d", 494878333, 4 },
        { "7bbd", 15293, 2 },
        { "25", 37, 1 },
        { "4025", 37, 2 },
        /* Largest value of each size. */
        { "3f", 63, 1 },
        { "7fff", 16383, 2 },
        { "bfffffff", 1073741823, 4 },
        { "ffffffffffffffff", QUIC_VARINT_MAX, 8 },
        { "c000000000000000", 0, 8 },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t b[8];
        size_t n = test_unhex(v[i].hex, b, sizeof b), len = 99;
        struct rd r;
        rd_init(&r, b, n);
        uint64_t got = quic_rd_varint(&r, &len);
        test_cond("varint: value", got == v[i].v && len == v[i].len);
        test_cond("varint: consumed", !r.bad && rd_left(&r) == 0);
        /* Every shorter prefix fails cleanly. */
        for (size_t k = 0; k < n; k++) {
            rd_init(&r, b, k);
            got = quic_rd_varint(&r, &len);
            test_cond("varint: truncated", got == 0 && len == 0 && r.bad && r.off == 0);
        }
    }
    struct rd r;
    rd_init(&r, NULL, 0);
    test_cond("varint: empty reader", quic_rd_varint(&r, NULL) == 0 && r.bad);
    uint8_t two[] = { 0x25, 0x40 };   /* 37, then a 2-byte varint cut short */
    rd_init(&r, two, sizeof two);
    test_cond("varint: first of two", quic_rd_varint(&r, NULL) == 37 && !r.bad);
    test_cond("varint: second truncated", quic_rd_varint(&r, NULL) == 0 && r.bad);
    test_cond("varint: sticky", quic_rd_varint(&r, NULL) == 0 && r.bad);
}

static void test_versions(void)
{
    char buf[16];
    test_cond("kind v1", quic_version_kind(1) == QUIC_VK_V1);
    test_cond("kind v2", quic_version_kind(0x6b3343cf) == QUIC_VK_V2);
    test_cond("kind draft-29", quic_version_kind(0xff00001d) == QUIC_VK_DRAFT29);
    test_cond("kind unknown", quic_version_kind(0xff00001c) == QUIC_VK_UNKNOWN &&
                                  quic_version_kind(0) == QUIC_VK_UNKNOWN &&
                                  quic_version_kind(2) == QUIC_VK_UNKNOWN);
    test_streq("name v1", quic_version_name(1, buf), "1");
    test_streq("name v2", quic_version_name(0x6b3343cf, buf), "2");
    test_streq("name draft-29", quic_version_name(0xff00001d, buf), "draft-29");
    test_streq("name other", quic_version_name(0x1a2a3a4a, buf), "0x1a2a3a4a");
    test_streq("name zero", quic_version_name(0, buf), "0x00000000");
}

static void test_pn_decode(void)
{
    /* RFC 9000 A.3 */
    test_cond("pn: RFC 9000 A.3", quic_pn_decode(0xa82f30ea, 0x9b32, 2) == 0xa82f9b32);
    test_cond("pn: first packet", quic_pn_decode(-1, 0, 1) == 0 && quic_pn_decode(-1, 2, 4) == 2);
    test_cond("pn: nothing received, 1-byte 0xff", quic_pn_decode(-1, 0xff, 1) == 0xff);
    test_cond("pn: next after 0xff wraps up", quic_pn_decode(0xff, 0x00, 1) == 0x100);
    test_cond("pn: late packet stays below", quic_pn_decode(0x100, 0xff, 1) == 0xff);
    test_cond("pn: far below moves up a window", quic_pn_decode(0x1fe, 0x00, 1) == 0x200);
    test_cond("pn: RFC 9001 A.5", quic_pn_decode(654360563, 49140, 3) == 654360564);
    test_cond("pn: 4-byte", quic_pn_decode(0x1234567890, 0x34567891, 4) == 0x1234567891);
    /* Near the 2^62 limit the candidate does not move up past it. */
    uint64_t top = QUIC_PN_MAX;
    test_cond("pn: near 2^62", quic_pn_decode((int64_t)top - 1, top & 0xff, 1) == top);
    test_cond("pn: clamps pn_len", quic_pn_decode(-1, 0x1ff, 0) == 0xff &&
                                       quic_pn_decode(-1, 0x1ff, 9) == 0x1ff);
}

static void test_keys(const struct initial_vec *v)
{
    uint8_t dcid[8], out[32], cs[32], ss[32], salt[20];
    test_unhex(dcid_hex, dcid, sizeof dcid);
    if (v->initial_secret) {
        test_unhex(v->salt, salt, sizeof salt);
        test_cond("keys: HKDF-Extract = initial_secret",
                  quic_hkdf_extract(salt, 20, dcid, 8, out) == 0 &&
                      test_hexeq(out, 32, v->initial_secret));
    }
    test_cond("keys: initial secrets", quic_initial_secrets(v->version, dcid, 8, cs, ss) == 0);
    test_cond("keys: client_initial_secret", test_hexeq(cs, 32, v->client_secret));
    test_cond("keys: server_initial_secret", test_hexeq(ss, 32, v->server_secret));

    struct quic_pp c = { 0 }, s = { 0 };
    test_cond("keys: initial keys", quic_initial_keys(v->version, dcid, 8, &c, &s) == 0);
    test_cond("keys: client key", c.key_len == 16 && test_hexeq(c.key, 16, v->client_key));
    test_cond("keys: client iv", test_hexeq(c.iv, 12, v->client_iv));
    test_cond("keys: client hp", test_hexeq(c.hp, 16, v->client_hp));
    test_cond("keys: server key", s.key_len == 16 && test_hexeq(s.key, 16, v->server_key));
    test_cond("keys: server iv", test_hexeq(s.iv, 12, v->server_iv));
    test_cond("keys: server hp", test_hexeq(s.hp, 16, v->server_hp));
    test_cond("keys: state", c.suite == 0x1301 && c.largest_pn == -1 && c.aead && c.hpctx);
    /* One side only. */
    struct quic_pp only = { 0 };
    test_cond("keys: server only", quic_initial_keys(v->version, dcid, 8, NULL, &only) == 0 &&
                                       test_hexeq(only.key, 16, v->server_key));
    quic_pp_release(&only);
    quic_pp_release(&c);
    quic_pp_release(&s);
    test_cond("keys: release zeroes", test_all_zero((const uint8_t *)&c, sizeof c));
    quic_pp_release(&c);
    quic_pp_release(NULL);
}

static void test_keys_misc(void)
{
    uint8_t cs[32], ss[32], cid[21] = { 0 };
    struct quic_pp c = { 0 }, s = { 0 };
    test_cond("keys: unknown version",
              quic_initial_secrets(0x1a2a3a4a, cid, 8, cs, ss) == QUIC_E_VERSION &&
                  test_all_zero(cs, 32) && test_all_zero(ss, 32));
    test_cond("keys: 21-byte dcid", quic_initial_secrets(1, cid, 21, cs, ss) == QUIC_E_CID_LEN);
    test_cond("keys: NULL dcid", quic_initial_secrets(1, NULL, 4, cs, ss) == QUIC_E_ARG);
    /* An empty DCID (after a Retry with an empty SCID) still derives. */
    test_cond("keys: empty dcid", quic_initial_keys(1, NULL, 0, &c, &s) == 0 && c.aead);
    uint8_t cs2[32], ss2[32];
    quic_initial_secrets(1, cid, 0, cs, ss);
    quic_initial_secrets(1, cid, 1, cs2, ss2);
    test_cond("keys: empty differs from one zero byte", memcmp(cs, cs2, 32) != 0);
    test_cond("keys: failure releases",
              quic_initial_keys(7, cid, 8, &c, &s) == QUIC_E_VERSION && !c.aead && !s.aead);

    uint8_t secret[48];
    memset(secret, 0x42, sizeof secret);
    test_cond("pp: CCM_8 refused",
              quic_pp_from_secret(&c, 1, 0x1305, secret, 32) == QUIC_E_SUITE && !c.aead);
    test_cond("pp: unknown suite", quic_pp_from_secret(&c, 1, 0x1307, secret, 32) == QUIC_E_SUITE);
    test_cond("pp: SHA-384 needs 48", quic_pp_from_secret(&c, 1, 0x1302, secret, 32) ==
                                          QUIC_E_SECRET_LEN);
    test_cond("pp: SHA-256 needs 32", quic_pp_from_secret(&c, 1, 0x1301, secret, 48) ==
                                          QUIC_E_SECRET_LEN);
    test_cond("pp: unknown version", quic_pp_from_secret(&c, 2, 0x1301, secret, 32) ==
                                         QUIC_E_VERSION);
    test_cond("pp: NULL secret", quic_pp_from_secret(&c, 1, 0x1301, NULL, 32) == QUIC_E_ARG);
    test_cond("pp: NULL pp", quic_pp_from_secret(NULL, 1, 0x1301, secret, 32) == QUIC_E_ARG);
    test_cond("pp: AES-256", quic_pp_from_secret(&c, 1, 0x1302, secret, 48) == 0 &&
                                 c.key_len == 32);
    /* Re-init over a live state releases the old contexts (ASan: no leak). */
    test_cond("pp: re-init", quic_pp_from_secret(&c, 1, 0x1301, secret, 32) == 0 &&
                                 c.key_len == 16 && c.largest_pn == -1);
    quic_pp_release(&c);
    quic_pp_release(&s);

    /* HKDF-Extract argument checks. */
    uint8_t out[32];
    test_cond("extract: NULL out", quic_hkdf_extract(cid, 1, cid, 1, NULL) == QUIC_E_ARG);
    test_cond("extract: NULL ikm", quic_hkdf_extract(cid, 1, NULL, 1, out) == QUIC_E_ARG &&
                                       test_all_zero(out, 32));
}

/* A.2 and A.3 for one version. */
static void test_initial_packets(const struct initial_vec *v)
{
    static uint8_t pkt[1300], out[1300], frame[300], sp[200], dgram[1400], copy[1300];
    uint8_t dcid[8];
    test_unhex(dcid_hex, dcid, sizeof dcid);
    struct quic_pp c = { 0 }, s = { 0 };
    quic_initial_keys(v->version, dcid, 8, &c, &s);

    /* --- client Initial --- */
    size_t len = test_unhex(v->client_packet, pkt, sizeof pkt);
    size_t flen = test_unhex(client_crypto_frame, frame, sizeof frame);
    test_cond("A.2: sizes", len == 1200 && flen == 245);
    struct quic_long_hdr h;
    int rc = quic_parse_long(pkt, len, &h);
    test_cond("A.2: parses", rc == 0);
    test_cond("A.2: header", h.version == v->version && h.type == QUIC_PT_INITIAL &&
                                 h.first == pkt[0] && h.dcid_len == 8 &&
                                 memcmp(h.dcid, dcid, 8) == 0 && h.scid_len == 0 &&
                                 h.token_len == 0 && h.token == pkt + 16);
    test_cond("A.2: pn_offset and length", h.pn_offset == 18 && h.packet_len == 1200);

    size_t out_len = 99;
    uint64_t pn = 99;
    memcpy(copy, pkt, len);
    rc = quic_packet_open(&c, pkt, h.packet_len, h.pn_offset, true, out, sizeof out, &out_len,
                          &pn);
    test_cond("A.2: opens", rc == 0);
    test_cond("A.2: packet number 2", pn == 2 && c.largest_pn == 2);
    test_cond("A.2: payload 1162 bytes", out_len == 1162);
    test_cond("A.2: CRYPTO frame then PADDING",
              memcmp(out, frame, flen) == 0 && test_all_zero(out + flen, 1162 - flen));
    test_cond("A.2: packet not modified", memcmp(copy, pkt, len) == 0);

    struct crypto_sink sink;
    memset(&sink, 0, sizeof sink);
    struct quic_frame_info fi;
    rc = quic_frames_walk(out, out_len, sink_cb, &sink, &fi);
    test_cond("A.2: frames walk", rc == 0);
    test_cond("A.2: one CRYPTO frame at 0", fi.n_crypto == 1 && sink.calls == 1 &&
                                                sink.last_off == 0 && sink.hi == 241);
    test_cond("A.2: ClientHello bytes", memcmp(sink.buf, frame + 4, 241) == 0 &&
                                            sink.buf[0] == 0x01);
    test_cond("A.2: padding counted", fi.n_padding_bytes == 917 && fi.n_ack == 0 &&
                                          fi.n_ping == 0 && !fi.conn_close);

    /* The test sealer reproduces the RFC packet from the plaintext. */
    static uint8_t hdr[22], plain[1162], sealed[1300];
    memcpy(hdr, pkt, 18);
    hdr[0] = v->client_unprot_first;
    hdr[18] = 0; hdr[19] = 0; hdr[20] = 0; hdr[21] = 2;
    memset(plain, 0, sizeof plain);
    memcpy(plain, frame, flen);
    size_t sl = seal(0x1301, c.key, c.iv, c.hp, hdr, 22, 18, 2, plain, sizeof plain, 1, sealed);
    test_cond("A.2: test sealer matches the RFC", sl == 1200 && memcmp(sealed, pkt, 1200) == 0);

    /* Same packet again: still opens (duplicate), largest stays. */
    rc = quic_packet_open(&c, pkt, len, 18, true, out, sizeof out, &out_len, &pn);
    test_cond("A.2: opens twice", rc == 0 && pn == 2 && c.largest_pn == 2);

    /* Server keys on the client's packet. */
    memset(out, 0xAA, sizeof out);
    rc = quic_packet_open(&s, pkt, len, 18, true, out, sizeof out, &out_len, &pn);
    test_cond("A.2: wrong direction -> auth", rc == QUIC_E_AUTH && out_len == 0 && pn == 0);
    test_cond("A.2: failure wipes out", test_all_zero(out, 1162));
    test_cond("A.2: failure keeps largest", s.largest_pn == -1);

    /* A flipped byte in header, packet number, payload, sample, tag. */
    size_t flips[] = { 0, 1, 5, 6, 14, 16, 17, 18, 21, 22, 30, 600, 1183, 1184, 1199 };
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        pkt[flips[i]] ^= 0x04;
        c.largest_pn = 1;
        rc = quic_packet_open(&c, pkt, len, 18, true, out, sizeof out, &out_len, &pn);
        test_cond("A.2: flipped byte -> auth", rc == QUIC_E_AUTH && c.largest_pn == 1);
        pkt[flips[i]] ^= 0x04;
    }
    /* Every shorter length: parse never succeeds beyond the data; open
     * fails cleanly. */
    int bad = 0;
    for (size_t k = 0; k < len; k++) {
        memcpy(copy, pkt, k);
        rc = quic_parse_long(copy, k, &h);
        if (rc == 0 || h.packet_len != k)
            bad++;
        rc = quic_packet_open(&c, copy, k, 18, true, out, sizeof out, &out_len, &pn);
        if (rc == 0 || (k < 38 && rc != QUIC_E_SAMPLE) || out_len != 0)
            bad++;
    }
    test_cond("A.2: every prefix fails cleanly", bad == 0);
    test_cond("A.2: output space", quic_packet_open(&c, pkt, len, 18, true, out, 1161, &out_len,
                                                    &pn) == QUIC_E_OUT_SPACE);

    /* --- server Initial --- */
    len = test_unhex(v->server_packet, pkt, sizeof pkt);
    size_t splen = test_unhex(server_payload, sp, sizeof sp);
    test_cond("A.3: sizes", len == 135 && splen == 99);
    rc = quic_parse_long(pkt, len, &h);
    test_cond("A.3: parses", rc == 0 && h.type == QUIC_PT_INITIAL && h.version == v->version);
    test_cond("A.3: cids", h.dcid_len == 0 && h.scid_len == 8 &&
                               test_hexeq(h.scid, 8, "f067a5502a4262b5"));
    test_cond("A.3: pn_offset and length", h.pn_offset == 18 && h.packet_len == 135);
    rc = quic_packet_open(&s, pkt, h.packet_len, h.pn_offset, true, out, sizeof out, &out_len,
                          &pn);
    test_cond("A.3: opens", rc == 0 && pn == 1 && s.largest_pn == 1);
    test_cond("A.3: payload", out_len == splen && memcmp(out, sp, splen) == 0);
    memset(&sink, 0, sizeof sink);
    rc = quic_frames_walk(out, out_len, sink_cb, &sink, &fi);
    test_cond("A.3: frames", rc == 0 && fi.n_ack == 1 && fi.n_crypto == 1 &&
                                 fi.n_padding_bytes == 0 && sink.hi == 90);
    test_cond("A.3: ServerHello", sink.buf[0] == 0x02 && memcmp(sink.buf, sp + 9, 90) == 0);
    memcpy(hdr, pkt, 18);
    hdr[0] = v->server_unprot_first;
    hdr[18] = 0; hdr[19] = 1;
    sl = seal(0x1301, s.key, s.iv, s.hp, hdr, 20, 18, 1, sp, splen, 1, sealed);
    test_cond("A.3: test sealer matches the RFC", sl == 135 && memcmp(sealed, pkt, 135) == 0);

    /* Coalesced: server Initial then client Initial in one datagram. */
    memcpy(dgram, pkt, 135);
    test_unhex(v->client_packet, dgram + 135, 1200);
    size_t off = 0, n = 0;
    uint8_t types[4];
    while (off < 1335 && n < 4) {
        rc = quic_parse_long(dgram + off, 1335 - off, &h);
        if (rc != 0)
            break;
        types[n++] = h.type;
        off += h.packet_len;
    }
    test_cond("coalesced: two packets", n == 2 && off == 1335 && types[0] == QUIC_PT_INITIAL);
    /* A Length 1 past the datagram. */
    test_unhex(v->server_packet, pkt, sizeof pkt);
    pkt[17] = 0x76;
    rc = quic_parse_long(pkt, 135, &h);
    test_cond("A.3: length past end", rc == QUIC_E_LENGTH && h.packet_len == 135 &&
                                          h.pn_offset == 18);

    quic_pp_release(&c);
    quic_pp_release(&s);
}

static void test_retry(const char *hex, uint32_t version, const char *name)
{
    uint8_t pkt[64], odcid[8];
    size_t len = test_unhex(hex, pkt, sizeof pkt);
    test_unhex(dcid_hex, odcid, sizeof odcid);
    struct quic_long_hdr h;
    int rc = quic_parse_long(pkt, len, &h);
    test_cond(name, rc == 0 && h.type == QUIC_PT_RETRY && h.version == version);
    test_cond("retry: fields", h.dcid_len == 0 && h.scid_len == 8 &&
                                   test_hexeq(h.scid, 8, "f067a5502a4262b5") && h.token_len == 5 &&
                                   memcmp(h.token, "token", 5) == 0 &&
                                   h.retry_tag == pkt + len - 16 && h.packet_len == len);
    test_cond("retry: tag verifies", quic_retry_verify(pkt, len, version, odcid, 8));
    int bad = 0;
    for (size_t i = 0; i < len; i++) {
        pkt[i] ^= 0x01;
        if (quic_retry_verify(pkt, len, version, odcid, 8))
            bad++;
        pkt[i] ^= 0x01;
    }
    test_cond("retry: any flipped byte fails", bad == 0);
    odcid[7] ^= 1;
    test_cond("retry: other odcid fails", !quic_retry_verify(pkt, len, version, odcid, 8));
    odcid[7] ^= 1;
    test_cond("retry: shorter odcid fails", !quic_retry_verify(pkt, len, version, odcid, 7));
    uint32_t others[] = { QUIC_VERSION_1, QUIC_VERSION_2, QUIC_VERSION_DRAFT29 };
    for (size_t i = 0; i < 3; i++)
        if (others[i] != version)
            test_cond("retry: other version's key fails",
                      !quic_retry_verify(pkt, len, others[i], odcid, 8));
    test_cond("retry: unknown version", !quic_retry_verify(pkt, len, 0x0a0a0a0a, odcid, 8));
    test_cond("retry: odcid 21", !quic_retry_verify(pkt, len, version, odcid, 21));
    test_cond("retry: 16 bytes", !quic_retry_verify(pkt + len - 16, 16, version, odcid, 8));
    test_cond("retry: NULL", !quic_retry_verify(NULL, len, version, odcid, 8) &&
                                 !quic_retry_verify(pkt, len, version, NULL, 8));
    for (size_t k = 0; k < len; k++)
        if (quic_retry_verify(pkt, k, version, odcid, 8))
            bad++;
    test_cond("retry: no prefix verifies", bad == 0);
    /* Too short for the tag. */
    rc = quic_parse_long(pkt, len - 6, &h);
    test_cond("retry: token shorter than tag", rc == QUIC_E_TRUNCATED && h.packet_len == len - 6);
    rc = quic_parse_long(pkt, 15 + 6, &h);
    test_cond("retry: no room for tag", rc == QUIC_E_TRUNCATED);
}

/* RFC 9001 A.5 / RFC 9369 A.5. */
static void test_chacha_short(uint32_t version, const char *key, const char *iv, const char *hp,
                              const char *packet)
{
    uint8_t secret[32], pkt[32], out[32];
    test_unhex(a5_secret, secret, sizeof secret);
    size_t len = test_unhex(packet, pkt, sizeof pkt);
    struct quic_pp pp = { 0 };
    test_cond("A.5: keys", quic_pp_from_secret(&pp, version, 0x1303, secret, 32) == 0);
    test_cond("A.5: key", pp.key_len == 32 && test_hexeq(pp.key, 32, key));
    test_cond("A.5: iv", test_hexeq(pp.iv, 12, iv));
    test_cond("A.5: hp", test_hexeq(pp.hp, 32, hp));
    struct quic_long_hdr h;
    test_cond("A.5: short header", quic_parse_long(pkt, len, &h) == QUIC_E_SHORT_HEADER &&
                                       h.type == QUIC_PT_SHORT && h.first == pkt[0] &&
                                       h.packet_len == len);
    size_t out_len = 0;
    uint64_t pn = 0;
    /* Without history the 3-byte 49140 stays 49140: wrong nonce. */
    int rc = quic_packet_open(&pp, pkt, len, 1, false, out, sizeof out, &out_len, &pn);
    test_cond("A.5: no history -> auth", rc == QUIC_E_AUTH && pp.largest_pn == -1);
    pp.largest_pn = 654360563;
    rc = quic_packet_open(&pp, pkt, len, 1, false, out, sizeof out, &out_len, &pn);
    test_cond("A.5: opens", rc == 0);
    test_cond("A.5: pn 654360564", pn == 654360564 && pp.largest_pn == 654360564);
    test_cond("A.5: PING", out_len == 1 && out[0] == 0x01);
    struct quic_frame_info fi;
    test_cond("A.5: PING frame", quic_frames_walk(out, out_len, NULL, NULL, &fi) == 0 &&
                                     fi.n_ping == 1);
    test_cond("A.5: one byte short", quic_packet_open(&pp, pkt, len - 1, 1, false, out,
                                                      sizeof out, &out_len, &pn) == QUIC_E_SAMPLE);
    quic_pp_release(&pp);
}

/* Synthetic Handshake packets sealed here, for every suite. */
/* An Initial whose header is longer than quic.c joins into one piece of
 * additional data (a 200-byte token): it opens, and a changed token byte
 * fails authentication. */
static void test_long_token(void)
{
    static const uint8_t dcid[8] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08 };
    static uint8_t hdr[300], payload[300], pkt[700], out[700];
    struct quic_pp cl = { 0 }, sv = { 0 };
    test_cond("long token: keys", quic_initial_keys(QUIC_VERSION_1, dcid, 8, &cl, &sv) == 0);
    memset(payload, 0, sizeof payload);
    payload[0] = 0x01;   /* PING, then PADDING */
    for (size_t tl = 20; tl <= 200; tl += 180) {
        size_t n = 0;
        hdr[n++] = 0xc1;   /* Initial, 2-byte packet number */
        hdr[n++] = 0; hdr[n++] = 0; hdr[n++] = 0; hdr[n++] = 1;
        hdr[n++] = 8; memcpy(hdr + n, dcid, 8); n += 8;
        hdr[n++] = 0;
        hdr[n++] = (uint8_t)(0x40 | tl >> 8); hdr[n++] = (uint8_t)tl;
        for (size_t i = 0; i < tl; i++)
            hdr[n++] = (uint8_t)(i * 13 + 5);
        size_t length = 2 + sizeof payload + 16;
        hdr[n++] = (uint8_t)(0x40 | length >> 8); hdr[n++] = (uint8_t)length;
        size_t pn_offset = n;
        hdr[n++] = 0; hdr[n++] = 7;
        size_t pl = seal(0x1301, cl.key, cl.iv, cl.hp, hdr, n, pn_offset, 7, payload,
                         sizeof payload, 1, pkt);
        struct quic_long_hdr h;
        size_t out_len = 0;
        uint64_t pn = 0;
        int rc = quic_parse_long(pkt, pl, &h);
        test_cond("long token: parses", rc == 0 && h.type == QUIC_PT_INITIAL &&
                                            h.token_len == tl && h.packet_len == pl);
        rc = quic_packet_open(&cl, pkt, pl, h.pn_offset, true, out, sizeof out, &out_len, &pn);
        test_cond("long token: opens", rc == 0 && pn == 7 && out_len == sizeof payload &&
                                           memcmp(out, payload, sizeof payload) == 0);
        pkt[20] ^= 1;   /* inside the token */
        rc = quic_packet_open(&cl, pkt, pl, h.pn_offset, true, out, sizeof out, &out_len, &pn);
        test_cond("long token: altered token fails", rc == QUIC_E_AUTH && out_len == 0);
    }
    quic_pp_release(&cl);
    quic_pp_release(&sv);
}

static void test_suites(void)
{
    static const uint16_t suites[] = { 0x1301, 0x1302, 0x1303, 0x1304 };
    static uint8_t hdr[80], payload[600], pkt[800], out[800];
    uint8_t secret[48];
    for (size_t i = 0; i < sizeof secret; i++)
        secret[i] = (uint8_t)(i * 7 + 1);
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i % 251);

    for (size_t si = 0; si < 4; si++) {
        uint16_t suite = suites[si];
        for (int ver = 0; ver < 2; ver++) {
            uint32_t version = ver ? QUIC_VERSION_2 : QUIC_VERSION_1;
            struct quic_pp pp = { 0 };
            size_t sl = suite == 0x1302 ? 48 : 32;
            int rc = quic_pp_from_secret(&pp, version, suite, secret, sl);
            test_cond("suite: keys", rc == 0);
            /* Handshake header, 20-byte CIDs, 2-byte pn, Length 2-byte. */
            for (unsigned pn_len = 1; pn_len <= 4; pn_len++) {
                size_t plen = 40 + pn_len * 100;
                size_t n = 0;
                hdr[n++] = (uint8_t)(0xc0 | (ver ? 0x30 : 0x20) | (pn_len - 1));
                uint32_t vv = version;
                hdr[n++] = (uint8_t)(vv >> 24); hdr[n++] = (uint8_t)(vv >> 16);
                hdr[n++] = (uint8_t)(vv >> 8); hdr[n++] = (uint8_t)vv;
                hdr[n++] = 20; memset(hdr + n, 0xd1, 20); n += 20;
                hdr[n++] = 20; memset(hdr + n, 0x5c, 20); n += 20;
                size_t length = pn_len + plen + 16;
                hdr[n++] = (uint8_t)(0x40 | length >> 8); hdr[n++] = (uint8_t)length;
                size_t pn_offset = n;
                uint64_t pnv = 1000 + pn_len;   /* truncated to pn_len bytes */
                for (unsigned k = 0; k < pn_len; k++)
                    hdr[n++] = (uint8_t)(pnv >> (8 * (pn_len - 1 - k)));
                size_t pl = seal(suite, pp.key, pp.iv, pp.hp, hdr, n, pn_offset, pnv, payload,
                                 plen, 1, pkt);
                test_cond("suite: sealed", pl == n + plen + 16);
                struct quic_long_hdr h;
                rc = quic_parse_long(pkt, pl, &h);
                test_cond("suite: parses as Handshake", rc == 0 && h.type == QUIC_PT_HANDSHAKE &&
                                                            h.pn_offset == pn_offset &&
                                                            h.packet_len == pl);
                pp.largest_pn = 1000;
                size_t out_len = 0;
                uint64_t pn = 0;
                rc = quic_packet_open(&pp, pkt, pl, pn_offset, true, out, sizeof out, &out_len,
                                      &pn);
                test_cond("suite: opens", rc == 0 && pn == pnv && out_len == plen &&
                                              memcmp(out, payload, plen) == 0);
                pkt[pl - 1] ^= 0x80;
                pp.largest_pn = 1000;
                rc = quic_packet_open(&pp, pkt, pl, pn_offset, true, out, sizeof out, &out_len,
                                      &pn);
                test_cond("suite: bad tag", rc == QUIC_E_AUTH && test_all_zero(out, plen) &&
                                                pp.largest_pn == 1000);
            }
            quic_pp_release(&pp);
        }
    }

    /* Reserved bits set (authentic packet): reported, not delivered. */
    struct quic_pp pp = { 0 };
    quic_pp_from_secret(&pp, 1, 0x1301, secret, 32);
    uint8_t h2[] = { 0xc0 | 0x20 | 0x08 | 0x01, 0, 0, 0, 1, 0, 0, 0x40, 40, 0x00, 0x07 };
    size_t pl = seal(0x1301, pp.key, pp.iv, pp.hp, h2, sizeof h2, 9, 7, payload, 22, 1, pkt);
    size_t out_len = 5;
    uint64_t pn = 0;
    int rc = quic_packet_open(&pp, pkt, pl, 9, true, out, sizeof out, &out_len, &pn);
    test_cond("reserved bits", rc == QUIC_E_RESERVED_BITS && pn == 7 && out_len == 0 &&
                                   pp.largest_pn == 7 && test_all_zero(out, 22));
    /* Short header: reserved bits 0x18; key phase 0x04 is not reserved. */
    uint8_t h3[] = { 0x40 | 0x04 | 0x00, 0xaa, 0xbb, 0x09 };
    pl = seal(0x1301, pp.key, pp.iv, pp.hp, h3, sizeof h3, 3, 9, payload, 20, 0, pkt);
    rc = quic_packet_open(&pp, pkt, pl, 3, false, out, sizeof out, &out_len, &pn);
    test_cond("short: key phase bit ok", rc == 0 && pn == 9 && out_len == 20);
    h3[0] = 0x40 | 0x10;
    pl = seal(0x1301, pp.key, pp.iv, pp.hp, h3, sizeof h3, 3, 9, payload, 20, 0, pkt);
    rc = quic_packet_open(&pp, pkt, pl, 3, false, out, sizeof out, &out_len, &pn);
    test_cond("short: reserved bit", rc == QUIC_E_RESERVED_BITS);

    /* Empty payload with a 4-byte pn: exactly pn_offset + 4 + 16. */
    uint8_t h4[] = { 0xc3 | 0x20, 0, 0, 0, 1, 0, 0, 0x40, 20, 0, 0, 0, 3 };
    pl = seal(0x1301, pp.key, pp.iv, pp.hp, h4, sizeof h4, 9, 3, payload, 0, 1, pkt);
    rc = quic_packet_open(&pp, pkt, pl, 9, true, out, sizeof out, &out_len, &pn);
    test_cond("empty payload opens", rc == 0 && out_len == 0 && pn == 3);

    /* Packet numbers through a 1-byte window: 250..600 in order. */
    int bad = 0;
    pp.largest_pn = -1;
    for (uint64_t p = 250; p <= 600; p++) {
        uint8_t h5[] = { 0x40, 0x01, (uint8_t)p };
        pl = seal(0x1301, pp.key, pp.iv, pp.hp, h5, sizeof h5, 2, p, payload, 20, 0, pkt);
        if (p == 250)
            pp.largest_pn = 249;
        rc = quic_packet_open(&pp, pkt, pl, 2, false, out, sizeof out, &out_len, &pn);
        if (rc != 0 || pn != p || pp.largest_pn != (int64_t)p)
            bad++;
    }
    test_cond("pn: 1-byte window across 256 and 512", bad == 0);
    /* A reordered older packet does not lower largest_pn. */
    uint8_t h6[] = { 0x40, 0x01, (uint8_t)590 };
    pl = seal(0x1301, pp.key, pp.iv, pp.hp, h6, sizeof h6, 2, 590, payload, 20, 0, pkt);
    rc = quic_packet_open(&pp, pkt, pl, 2, false, out, sizeof out, &out_len, &pn);
    test_cond("pn: older packet", rc == 0 && pn == 590 && pp.largest_pn == 600);
    /* Near 2^62: the next packet number would not fit. */
    pp.largest_pn = (int64_t)QUIC_PN_MAX;
    uint8_t h7[] = { 0x40, 0x01, 0x00 };
    pl = seal(0x1301, pp.key, pp.iv, pp.hp, h7, sizeof h7, 2, 0, payload, 20, 0, pkt);
    rc = quic_packet_open(&pp, pkt, pl, 2, false, out, sizeof out, &out_len, &pn);
    test_cond("pn: past 2^62-1", rc == QUIC_E_PN && pp.largest_pn == (int64_t)QUIC_PN_MAX);

    /* Argument checks. */
    struct quic_pp zero = { 0 };
    test_cond("open: zeroed pp", quic_packet_open(&zero, pkt, pl, 2, false, out, sizeof out,
                                                  &out_len, &pn) == QUIC_E_ARG);
    test_cond("open: pn_offset 0", quic_packet_open(&pp, pkt, pl, 0, false, out, sizeof out,
                                                    &out_len, &pn) == QUIC_E_ARG);
    test_cond("open: NULL out", quic_packet_open(&pp, pkt, pl, 2, false, NULL, sizeof out,
                                                 &out_len, &pn) == QUIC_E_ARG);
    test_cond("open: huge pn_offset", quic_packet_open(&pp, pkt, pl, SIZE_MAX - 2, false, out,
                                                       sizeof out, &out_len, &pn) == QUIC_E_SAMPLE);
    quic_pp_release(&pp);

    /* AES-CCM refuses a header it cannot take in one piece. */
    quic_pp_from_secret(&pp, 1, 0x1304, secret, 32);
    static uint8_t h8[100];
    memset(h8, 0, sizeof h8);
    h8[0] = 0xc0 | 0x20;                      /* Handshake, 1-byte pn */
    h8[4] = 1;
    h8[5] = 20;
    h8[26] = 20;
    h8[47] = 0x40; h8[48] = 60;               /* pn_offset 49 */
    h8[49] = 5;
    pl = seal(0x1304, pp.key, pp.iv, pp.hp, h8, 50, 49, 5, payload, 43, 1, pkt);
    pp.largest_pn = 4;
    rc = quic_packet_open(&pp, pkt, pl, 49, true, out, sizeof out, &out_len, &pn);
    test_cond("ccm: 50-byte header opens", rc == 0 && pn == 5);
    pl = seal(0x1304, pp.key, pp.iv, pp.hp, h8, 70, 66, 5, payload, 43, 1, pkt);
    rc = quic_packet_open(&pp, pkt, pl, 66, true, out, sizeof out, &out_len, &pn);
    test_cond("ccm: header over the cap", rc == QUIC_E_LENGTH && pp.largest_pn == 5);
    quic_pp_release(&pp);
}

static void test_parse_hostile(void)
{
    struct quic_long_hdr h;
    uint8_t b[200];
    memset(b, 0, sizeof b);

    test_cond("parse: empty", quic_parse_long(b, 0, &h) == QUIC_E_TRUNCATED && h.packet_len == 0);
    test_cond("parse: NULL", quic_parse_long(NULL, 5, &h) == QUIC_E_ARG &&
                                 quic_parse_long(b, 5, NULL) == QUIC_E_ARG);
    b[0] = 0x40;
    test_cond("parse: short header", quic_parse_long(b, 10, &h) == QUIC_E_SHORT_HEADER &&
                                         h.type == QUIC_PT_SHORT && h.packet_len == 10);
    /* v1 Initial: dcid len 255. */
    uint8_t p1[] = { 0xc0, 0, 0, 0, 1, 255, 1, 2, 3 };
    test_cond("parse: dcid 255", quic_parse_long(p1, sizeof p1, &h) == QUIC_E_CID_LEN &&
                                     h.version == 1 && h.dcid_len == 0 &&
                                     h.packet_len == sizeof p1);
    uint8_t p2[] = { 0xc0, 0, 0, 0, 1, 21 };
    test_cond("parse: dcid 21", quic_parse_long(p2, sizeof p2, &h) == QUIC_E_CID_LEN);
    uint8_t p3[] = { 0xc0, 0, 0, 0, 1, 2, 0xaa, 0xbb, 255, 0 };
    test_cond("parse: scid 255", quic_parse_long(p3, sizeof p3, &h) == QUIC_E_CID_LEN &&
                                     h.dcid_len == 2 && h.dcid[1] == 0xbb);
    uint8_t p4[] = { 0xc0, 0, 0, 0, 1, 20, 1 };
    test_cond("parse: dcid past end", quic_parse_long(p4, sizeof p4, &h) == QUIC_E_TRUNCATED);
    /* Token length of each varint size, past the end. */
    uint8_t p5[] = { 0xc0, 0, 0, 0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1 };
    test_cond("parse: token 2^62-1", quic_parse_long(p5, sizeof p5, &h) == QUIC_E_TRUNCATED &&
                                         h.token_len == 0);
    uint8_t p6[] = { 0xc0, 0, 0, 0, 1, 0, 0, 0x80, 0, 0, 5, 1, 2, 3 };
    test_cond("parse: token 4-byte past end", quic_parse_long(p6, sizeof p6, &h) ==
                                                  QUIC_E_TRUNCATED);
    uint8_t p7[] = { 0xc0, 0, 0, 0, 1, 0, 0, 0x40, 2, 7, 7, 0x41 };
    test_cond("parse: length varint cut", quic_parse_long(p7, sizeof p7, &h) == QUIC_E_TRUNCATED &&
                                              h.token_len == 2);
    uint8_t p8[] = { 0xc0, 0, 0, 0, 1, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 2, 1, 2 };
    test_cond("parse: 8-byte length fits", quic_parse_long(p8, sizeof p8, &h) == 0 &&
                                               h.pn_offset == 16 && h.packet_len == 18);
    p8[15] = 3;
    test_cond("parse: 8-byte length past end", quic_parse_long(p8, sizeof p8, &h) ==
                                                   QUIC_E_LENGTH && h.packet_len == sizeof p8);
    uint8_t p9[] = { 0xc0, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    test_cond("parse: length 2^62-1", quic_parse_long(p9, sizeof p9, &h) == QUIC_E_LENGTH);
    uint8_t p10[] = { 0xe0, 0, 0, 0, 1, 0, 0, 0 };   /* v1 Handshake, Length 0 */
    test_cond("parse: Length 0", quic_parse_long(p10, sizeof p10, &h) == 0 &&
                                     h.type == QUIC_PT_HANDSHAKE && h.packet_len == 8 &&
                                     h.pn_offset == 8 && h.token == NULL);
    /* Fixed bit clear (greased, RFC 9287): parsed, and noted. */
    uint8_t p11[] = { 0x80, 0, 0, 0, 1, 1, 9, 1, 8, 0, 1, 0 };
    test_cond("parse: greased fixed bit", quic_parse_long(p11, sizeof p11, &h) == 0 &&
                                              h.fixed_bit_clear && h.type == QUIC_PT_INITIAL &&
                                              h.scid_len == 1 && h.scid[0] == 8 &&
                                              h.dcid[0] == 9 && h.packet_len == sizeof p11);
    p11[0] = 0xc0;
    test_cond("parse: fixed bit set", quic_parse_long(p11, sizeof p11, &h) == 0 &&
                                          !h.fixed_bit_clear);
    /* Unknown version: fields through scid. */
    uint8_t p12[] = { 0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 1, 9, 2, 8, 7, 0xee, 0xee };
    test_cond("parse: unknown version", quic_parse_long(p12, sizeof p12, &h) == QUIC_E_VERSION &&
                                            h.version == 0x1a2a3a4a && h.scid_len == 2 &&
                                            h.scid[1] == 7 && h.type == QUIC_PT_UNKNOWN &&
                                            h.packet_len == sizeof p12);
    /* Version Negotiation: any first-byte bits. */
    uint8_t p13[] = { 0x80, 0, 0, 0, 0, 1, 9, 1, 8, 0, 0, 0, 1, 0x6b, 0x33, 0x43, 0xcf };
    test_cond("parse: VN", quic_parse_long(p13, sizeof p13, &h) == 0 &&
                               h.type == QUIC_PT_VERSION_NEG && h.n_versions == 2 &&
                               h.versions == p13 + 9 && h.packet_len == sizeof p13);
    test_cond("parse: VN odd list", quic_parse_long(p13, sizeof p13 - 1, &h) == QUIC_E_LENGTH &&
                                        h.n_versions == 1);
    /* Version cut short. */
    uint8_t p14[] = { 0xc0, 0, 0 };
    test_cond("parse: version cut", quic_parse_long(p14, sizeof p14, &h) == QUIC_E_TRUNCATED &&
                                        h.version == 0 && h.type == QUIC_PT_UNKNOWN);
    /* v2 type bits: 0b00 = Retry, 0b10 = 0-RTT, 0b11 = Handshake. */
    uint8_t p15[] = { 0xe0, 0x6b, 0x33, 0x43, 0xcf, 0, 0, 1, 0 };
    test_cond("parse: v2 0-RTT", quic_parse_long(p15, sizeof p15, &h) == 0 &&
                                     h.type == QUIC_PT_0RTT && h.packet_len == 9);
    p15[0] = 0xf0;
    test_cond("parse: v2 Handshake", quic_parse_long(p15, sizeof p15, &h) == 0 &&
                                         h.type == QUIC_PT_HANDSHAKE);
    p15[0] = 0xc0;
    test_cond("parse: v2 Retry bits", quic_parse_long(p15, sizeof p15, &h) == QUIC_E_TRUNCATED &&
                                          h.type == QUIC_PT_RETRY);
    uint8_t p15b[] = { 0xd0, 0x6b, 0x33, 0x43, 0xcf, 0, 0, 0, 1, 0 };
    test_cond("parse: v2 Initial", quic_parse_long(p15b, sizeof p15b, &h) == 0 &&
                                       h.type == QUIC_PT_INITIAL && h.token_len == 0 &&
                                       h.pn_offset == 9 && h.packet_len == 10);
    uint8_t p16[] = { 0xd0, 0, 0, 0, 1, 0, 0, 0, 0 };   /* v1 0-RTT */
    test_cond("parse: v1 0-RTT", quic_parse_long(p16, sizeof p16, &h) == 0 &&
                                     h.type == QUIC_PT_0RTT);
    /* draft-29 Initial. */
    uint8_t p17[] = { 0xc0, 0xff, 0, 0, 0x1d, 0, 0, 0, 1, 0xaa };
    test_cond("parse: draft-29", quic_parse_long(p17, sizeof p17, &h) == 0 &&
                                     h.type == QUIC_PT_INITIAL && h.packet_len == 10);

    /* Random bytes behind every first byte: never past len, always moves. */
    uint32_t x = 12345;
    int bad = 0;
    for (int round = 0; round < 20000; round++) {
        size_t n = (size_t)(round % 64);
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            b[i] = (uint8_t)(x >> 16);
        }
        if (n > 1 && (round & 1)) {
            b[1] = 0; b[2] = 0; b[3] = 0; b[4] = (uint8_t)(round & 2 ? 1 : 0);
        }
        if (n > 6 && (round & 4))
            b[5] = (uint8_t)(b[5] % 24);
        int rc = quic_parse_long(b, n, &h);
        if (h.packet_len > n || (n > 0 && h.packet_len == 0) || (rc == 0 && h.pn_offset > n) ||
            h.dcid_len > 20 || h.scid_len > 20 || (h.token && h.token + h.token_len > b + n))
            bad++;
    }
    test_cond("parse: random headers stay in bounds", bad == 0);
}

/* Append a varint of exactly `size` bytes. */
static size_t put_varint(uint8_t *p, uint64_t v, size_t size)
{
    static const uint8_t tag[9] = { 0, 0x00, 0x40, 0, 0x80, 0, 0, 0, 0xc0 };
    for (size_t i = 0; i < size; i++)
        p[i] = (uint8_t)(v >> (8 * (size - 1 - i)));
    p[0] |= tag[size];
    return size;
}

static void test_frames(void)
{
    static uint8_t p[4096];
    struct quic_frame_info fi;
    struct crypto_sink sink;
    size_t n = 0;

    /* PADDING, PING, ACK with 2 ranges, ACK_ECN, CRYPTO x2 (varint sizes),
     * CONNECTION_CLOSE 0x1c, PADDING. */
    p[n++] = 0; p[n++] = 0; p[n++] = 0;
    p[n++] = 0x01;
    p[n++] = 0x02;
    n += put_varint(p + n, 100, 2);     /* largest */
    n += put_varint(p + n, 5, 1);       /* delay */
    n += put_varint(p + n, 2, 1);       /* 2 ranges */
    n += put_varint(p + n, 10, 1);      /* first range: 90..100 */
    n += put_varint(p + n, 3, 4);       /* gap -> top 85 */
    n += put_varint(p + n, 5, 1);       /* 80..85 */
    n += put_varint(p + n, 0, 8);       /* gap -> top 78 */
    n += put_varint(p + n, 78, 2);      /* 0..78 */
    p[n++] = 0x03;
    n += put_varint(p + n, 7, 1);
    n += put_varint(p + n, 0, 1);
    n += put_varint(p + n, 0, 1);
    n += put_varint(p + n, 7, 1);       /* 0..7 */
    n += put_varint(p + n, 1, 1);
    n += put_varint(p + n, 2, 4);
    n += put_varint(p + n, 3, 8);       /* ECN counts */
    p[n++] = 0x06;
    n += put_varint(p + n, 4, 8);
    n += put_varint(p + n, 3, 4);
    memcpy(p + n, "def", 3); n += 3;
    p[n++] = 0x06;
    n += put_varint(p + n, 0, 2);
    n += put_varint(p + n, 4, 1);
    memcpy(p + n, "abc.", 4); n += 4;
    p[n++] = 0x1c;
    n += put_varint(p + n, 0x0a, 1);    /* PROTOCOL_VIOLATION */
    n += put_varint(p + n, 0x06, 1);
    n += put_varint(p + n, 3, 1);
    memcpy(p + n, "bad", 3); n += 3;
    p[n++] = 0; p[n++] = 0;
    size_t full = n;

    memset(&sink, 0, sizeof sink);
    int rc = quic_frames_walk(p, full, sink_cb, &sink, &fi);
    test_cond("frames: walk", rc == 0);
    test_cond("frames: counts", fi.n_padding_bytes == 5 && fi.n_ping == 1 && fi.n_ack == 2 &&
                                    fi.n_crypto == 2 && sink.calls == 2);
    test_cond("frames: crypto data placed", sink.hi == 7 && memcmp(sink.buf, "abc.def", 7) == 0);
    test_cond("frames: close", fi.conn_close && !fi.close_app && fi.close_error == 0x0a &&
                                   fi.close_frame_type == 6 && fi.close_reason_len == 3 &&
                                   memcmp(fi.close_reason, "bad", 3) == 0);
    test_cond("frames: NULL cb and info", quic_frames_walk(p, full, NULL, NULL, NULL) == 0);
    test_cond("frames: empty", quic_frames_walk(NULL, 0, NULL, NULL, &fi) == 0 &&
                                   fi.n_crypto == 0);
    test_cond("frames: NULL payload", quic_frames_walk(NULL, 3, NULL, NULL, &fi) == QUIC_E_ARG);

    /* Every prefix: clean result, nothing delivered past the cut. */
    int bad = 0;
    for (size_t k = 0; k < full; k++) {
        memset(&sink, 0, sizeof sink);
        rc = quic_frames_walk(p, k, sink_cb, &sink, &fi);
        if (rc != 0 && rc != QUIC_E_FRAME_MALFORMED)
            bad++;
        if (sink.hi > 7)
            bad++;
    }
    test_cond("frames: every prefix", bad == 0);

    /* 0x1d application close. */
    n = 0;
    p[n++] = 0x1d;
    n += put_varint(p + n, 0x100, 2);
    n += put_varint(p + n, 0, 1);
    rc = quic_frames_walk(p, n, NULL, NULL, &fi);
    test_cond("frames: app close", rc == 0 && fi.conn_close && fi.close_app &&
                                       fi.close_error == 0x100 && fi.close_reason_len == 0);
    /* Close reason past the end. */
    n = 0;
    p[n++] = 0x1c;
    n += put_varint(p + n, 1, 1);
    n += put_varint(p + n, 0, 1);
    n += put_varint(p + n, QUIC_VARINT_MAX, 8);
    test_cond("frames: close reason past end",
              quic_frames_walk(p, n, NULL, NULL, &fi) == QUIC_E_FRAME_MALFORMED && !fi.conn_close);

    /* Frames not allowed in Initial/Handshake stop the walk. */
    uint8_t stream[] = { 0x06, 0x00, 0x01, 'x', 0x08, 0x00, 'y' };
    memset(&sink, 0, sizeof sink);
    rc = quic_frames_walk(stream, sizeof stream, sink_cb, &sink, &fi);
    test_cond("frames: STREAM stops", rc == QUIC_E_FRAME && fi.bad_frame_type == 8 &&
                                          fi.n_crypto == 1 && sink.calls == 1);
    uint8_t big_type[] = { 0x80, 0x00, 0x40, 0x00 };
    rc = quic_frames_walk(big_type, sizeof big_type, NULL, NULL, &fi);
    test_cond("frames: unknown 4-byte type", rc == QUIC_E_FRAME && fi.bad_frame_type == 0x4000);
    uint8_t long_ping[] = { 0x40, 0x01 };
    rc = quic_frames_walk(long_ping, sizeof long_ping, NULL, NULL, &fi);
    test_cond("frames: PING in 2 bytes", rc == QUIC_E_FRAME && fi.bad_frame_type == 1 &&
                                             fi.n_ping == 0);
    uint8_t cut_type[] = { 0x01, 0x40 };
    rc = quic_frames_walk(cut_type, sizeof cut_type, NULL, NULL, &fi);
    test_cond("frames: type cut", rc == QUIC_E_FRAME_MALFORMED && fi.n_ping == 1);

    /* ACK with a range count of 2^62-1 and a few bytes: ends, malformed. */
    n = 0;
    p[n++] = 0x02;
    n += put_varint(p + n, QUIC_VARINT_MAX, 8);
    n += put_varint(p + n, 0, 1);
    n += put_varint(p + n, QUIC_VARINT_MAX, 8);
    n += put_varint(p + n, 0, 1);
    for (int i = 0; i < 1000; i++) {
        p[n++] = 0;
        p[n++] = 0;
    }
    rc = quic_frames_walk(p, n, NULL, NULL, &fi);
    test_cond("frames: huge ACK range count", rc == QUIC_E_FRAME_MALFORMED && fi.n_ack == 0);
    /* Ranges going below zero. */
    uint8_t ack1[] = { 0x02, 5, 0, 0, 6 };
    test_cond("frames: first range > largest",
              quic_frames_walk(ack1, sizeof ack1, NULL, NULL, &fi) == QUIC_E_FRAME_MALFORMED);
    uint8_t ack2[] = { 0x02, 5, 0, 1, 5, 0, 0 };
    test_cond("frames: gap below zero",
              quic_frames_walk(ack2, sizeof ack2, NULL, NULL, &fi) == QUIC_E_FRAME_MALFORMED);
    uint8_t ack3[] = { 0x02, 10, 0, 1, 2, 0, 7 };  /* 8..10, top 6, len 7 -> -1 */
    test_cond("frames: range below zero",
              quic_frames_walk(ack3, sizeof ack3, NULL, NULL, &fi) == QUIC_E_FRAME_MALFORMED);
    ack3[6] = 6;
    test_cond("frames: range down to zero", quic_frames_walk(ack3, sizeof ack3, NULL, NULL, &fi) ==
                                                0 && fi.n_ack == 1);
    uint8_t ack4[] = { 0x03, 1, 0, 0, 0, 1, 2 };   /* ECN counts cut */
    test_cond("frames: ECN cut",
              quic_frames_walk(ack4, sizeof ack4, NULL, NULL, &fi) == QUIC_E_FRAME_MALFORMED);

    /* CRYPTO offsets near 2^62. */
    n = 0;
    p[n++] = 0x06;
    n += put_varint(p + n, QUIC_VARINT_MAX - 1, 8);
    n += put_varint(p + n, 1, 1);
    p[n++] = 'z';
    memset(&sink, 0, sizeof sink);
    rc = quic_frames_walk(p, n, sink_cb, &sink, &fi);
    test_cond("frames: CRYPTO ending at 2^62-1", rc == 0 && sink.calls == 1 &&
                                                     sink.last_off == QUIC_VARINT_MAX - 1);
    n = 0;
    p[n++] = 0x06;
    n += put_varint(p + n, QUIC_VARINT_MAX, 8);
    n += put_varint(p + n, 1, 1);
    p[n++] = 'z';
    memset(&sink, 0, sizeof sink);
    rc = quic_frames_walk(p, n, sink_cb, &sink, &fi);
    test_cond("frames: CRYPTO past 2^62-1", rc == QUIC_E_FRAME_MALFORMED && sink.calls == 0);
    n = 0;
    p[n++] = 0x06;
    n += put_varint(p + n, 0, 1);
    n += put_varint(p + n, QUIC_VARINT_MAX, 8);
    p[n++] = 'z';
    rc = quic_frames_walk(p, n, sink_cb, &sink, &fi);
    test_cond("frames: CRYPTO length 2^62-1", rc == QUIC_E_FRAME_MALFORMED);
    n = 0;
    p[n++] = 0x06;
    n += put_varint(p + n, 0, 1);
    n += put_varint(p + n, 5, 2);
    p[n++] = 'z';
    rc = quic_frames_walk(p, n, sink_cb, &sink, &fi);
    test_cond("frames: CRYPTO past payload", rc == QUIC_E_FRAME_MALFORMED && fi.n_crypto == 0);
    uint8_t empty_crypto[] = { 0x06, 0x00, 0x00 };
    memset(&sink, 0, sizeof sink);
    rc = quic_frames_walk(empty_crypto, 3, sink_cb, &sink, &fi);
    test_cond("frames: empty CRYPTO counted, not delivered", rc == 0 && fi.n_crypto == 1 &&
                                                                 sink.calls == 0);

    /* A long PADDING run. */
    memset(p, 0, 4096);
    rc = quic_frames_walk(p, 4096, NULL, NULL, &fi);
    test_cond("frames: 4096 padding bytes", rc == 0 && fi.n_padding_bytes == 4096);
}

static void test_tp(void)
{
    uint8_t e[64];
    size_t n = 0, kept = 99, total = 99;
    uint64_t ids[8];
    n += put_varint(e + n, 0x01, 1);
    n += put_varint(e + n, 2, 1);
    e[n++] = 0x80; e[n++] = 0x01;             /* max_idle_timeout */
    n += put_varint(e + n, 0x04, 1);
    n += put_varint(e + n, 0, 1);
    n += put_varint(e + n, 0x1a2a, 2);        /* greased id */
    n += put_varint(e + n, 3, 4);
    e[n++] = 1; e[n++] = 2; e[n++] = 3;
    n += put_varint(e + n, 0x0f, 1);
    n += put_varint(e + n, 0, 1);
    n += put_varint(e + n, UINT64_C(0x2ab2), 8);
    n += put_varint(e + n, 0, 1);
    int rc = quic_tp_ids(e, n, ids, 8, &kept, &total);
    test_cond("tp: ids", rc == 0 && kept == 5 && total == 5 && ids[0] == 1 && ids[1] == 4 &&
                             ids[2] == 0x1a2a && ids[3] == 0x0f && ids[4] == 0x2ab2);
    rc = quic_tp_ids(e, n, ids, 2, &kept, &total);
    test_cond("tp: cap", rc == 0 && kept == 2 && total == 5);
    rc = quic_tp_ids(e, n, NULL, 0, &kept, &total);
    test_cond("tp: count only", rc == 0 && kept == 0 && total == 5);
    rc = quic_tp_ids(e, 0, ids, 8, &kept, &total);
    test_cond("tp: empty", rc == 0 && kept == 0 && total == 0);
    int bad = 0;
    for (size_t k = 1; k < n; k++) {
        rc = quic_tp_ids(e, k, ids, 8, &kept, &total);
        if (rc == 0 && k != 4 && k != 6 && k != 15 && k != 17)
            bad++;
        if (rc != 0 && rc != QUIC_E_TP)
            bad++;
        if (kept > 5 || total != kept)
            bad++;
    }
    test_cond("tp: prefixes", bad == 0);
    uint8_t huge[] = { 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00 };
    rc = quic_tp_ids(huge, sizeof huge, ids, 8, &kept, &total);
    test_cond("tp: length 2^62-1", rc == QUIC_E_TP && kept == 0 && total == 0);
    test_cond("tp: NULL outputs", quic_tp_ids(e, n, ids, 8, NULL, &total) == QUIC_E_ARG);
}

static void test_err_names(void)
{
    int distinct = 1;
    for (int a = 0; a >= -18; a--) {
        if (strcmp(quic_err_name(a), "unknown") == 0)
            distinct = 0;
        for (int b = a - 1; b >= -18; b--)
            if (strcmp(quic_err_name(a), quic_err_name(b)) == 0)
                distinct = 0;
    }
    test_cond("err names: distinct", distinct);
    test_streq("err name: auth", quic_err_name(QUIC_E_AUTH), "auth_failed");
    test_streq("err name: other", quic_err_name(-99), "unknown");
}

int main(void)
{
    test_varint();
    test_versions();
    test_pn_decode();
    for (size_t i = 0; i < sizeof initial_vecs / sizeof initial_vecs[0]; i++) {
        test_keys(&initial_vecs[i]);
        if (initial_vecs[i].client_packet)
            test_initial_packets(&initial_vecs[i]);
    }
    test_keys_misc();
    test_retry(v1_retry, QUIC_VERSION_1, "retry v1 (RFC 9001 A.4)");
    test_retry(v2_retry, QUIC_VERSION_2, "retry v2 (RFC 9369 A.4)");
    test_retry(d29_retry, QUIC_VERSION_DRAFT29, "retry draft-29 (A.4)");
    test_chacha_short(QUIC_VERSION_1,
                      "c6d98ff3441c3fe1b2182094f69caa2ed4b716b65488960a7a984979fb23e1c8",
                      "e0459b3474bdd0e44a41c144",
                      "25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4",
                      "4cfe4189655e5cd55c41f69080575d7999c25a5bfb");
    test_chacha_short(QUIC_VERSION_2,
                      "3bfcddd72bcf02541d7fa0dd1f5f9eeea817e09a6963a0e6c7df0f9a1bab90f2",
                      "a6b5bc6ab7dafce30ffff5dd",
                      "d659760d2ba434a226fd37b35c69e2da8211d10c4f12538787d65645d5d1b8e2",
                      "5558b1c60ae7b6b932bc27d786f4bc2bb20f2162ba");
    test_suites();
    test_long_token();
    test_parse_hostile();
    test_frames();
    test_tp();
    test_err_names();
    quic_crypto_cleanup();
    tls13_crypto_cleanup();
    return test_report();
}
