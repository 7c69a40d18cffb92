/*
 * test_hash.c - unit tests for util/hash.c.
 *
 * SipHash-2-4 against the reference vector of its paper (key 00..0f,
 * message 00..0e) and vectors of its reference code (every tail length,
 * aligned or not); SipHash-1-3 against CPython's hash() of bytes; and hash_fast() against the published test vectors of
 * wyhash final version 4 with the default secret (message i hashed with
 * seed i), plus every length from 0 to 300 through each of its code paths
 * (0, 1-3, 4-16, 17-48, more than 48 bytes): a change in any byte or in
 * the length, and a different key, change the hash.
 */
#include <stdio.h>
#include <string.h>

#include "testhelp.h"
#include "util/hash.h"

static void test_siphash(void)
{
    struct hash_key k;
    uint8_t key[16], msg[15];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 15; i++)
        msg[i] = (uint8_t)i;
    k.k0 = k.k1 = 0;
    for (int i = 7; i >= 0; i--) {
        k.k0 = k.k0 << 8 | key[i];
        k.k1 = k.k1 << 8 | key[8 + i];
    }
    test_cond("SipHash-2-4 reference vector", hash_siphash(&k, msg, sizeof msg) ==
                                                  0xa129ca6149be45e5ULL);

    /* The reference implementation's vectors.h (vectors_sip64, read as
     * little-endian words): message 00 01 02 .. of each length, so every
     * tail length 0..7 and one to seven whole words are taken. */
    static const struct {
        size_t len;
        uint64_t h;
    } v[] = {
        { 0, 0x726fdb47dd0e0e31ULL },  { 1, 0x74f839c593dc67fdULL },
        { 7, 0xab0200f58b01d137ULL },  { 8, 0x93f5f5799a932462ULL },
        { 9, 0x9e0082df0ba9e4b0ULL },  { 16, 0x3f2acc7f57c29bdbULL },
        { 17, 0x699ae9f52cbe4794ULL }, { 37, 0x027990f029623981ULL },
        { 63, 0x958a324ceb064572ULL },
    };
    uint8_t m[64];
    for (int i = 0; i < 64; i++)
        m[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "SipHash-2-4 vector, %zu bytes", v[i].len);
        /* From an odd address too: the loads must not assume alignment. */
        uint8_t odd[65];
        memcpy(odd + 1, m, v[i].len);
        test_cond(what, hash_siphash(&k, m, v[i].len) == v[i].h &&
                            hash_siphash(&k, odd + 1, v[i].len) == v[i].h);
    }
}

/* SipHash-1-3 with key 0 against CPython's own hash() of bytes (its
 * algorithm since 3.11, with PYTHONHASHSEED=0: a zero key; CPython maps
 * -1 to -2, which none of these hits), and with key 00..0f. */
static void test_siphash13(void)
{
    static const struct {
        size_t len;
        uint64_t key0, key_seq;
    } v[] = {
        { 1, 0x68a914128e01e473ULL, 0xc9f49bf37d57ca93ULL },
        { 7, 0x2f098ab0c751325aULL, 0xd3927d989bb11140ULL },
        { 8, 0xead411e67ebe2eeaULL, 0x369095118d299a8eULL },
        { 9, 0x75927f9d95124362ULL, 0x25a48eb36c063de4ULL },
        { 15, 0xf30eb725bb91c9eaULL, 0xd320d86d2a519956ULL },
        { 16, 0x8972188433a5c5b7ULL, 0xcc4fdd1a7d908b66ULL },
        { 17, 0x4883c49a2c009c1dULL, 0x9cf2689063dbd80cULL },
        { 37, 0x422a9751192ff266ULL, 0xb6101c2da3c33057ULL },
        { 63, 0x385d3e39e5f37359ULL, 0x9d199062b7bbb3a8ULL },
    };
    struct hash_key zero = { 0, 0 }, seq = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };
    uint8_t m[64];
    for (int i = 0; i < 64; i++)
        m[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "SipHash-1-3, %zu bytes, key 0 (CPython)", v[i].len);
        test_cond(what, hash_siphash13(&zero, m, v[i].len) == v[i].key0);
        snprintf(what, sizeof what, "SipHash-1-3, %zu bytes, key 00..0f", v[i].len);
        test_cond(what, hash_siphash13(&seq, m, v[i].len) == v[i].key_seq);
    }
    test_cond("SipHash-1-3 is not SipHash-2-4",
              hash_siphash13(&seq, m, 15) != hash_siphash(&seq, m, 15));
}

static void test_fast_vectors(void)
{
    static const struct {
        const char *msg;
        uint64_t want;
    } v[] = {
        { "", 0x0409638ee2bde459ULL },
        { "a", 0xa8412d091b5fe0a9ULL },
        { "abc", 0x32dd92e4b2915153ULL },
        { "message digest", 0x8619124089a3a16bULL },
        { "abcdefghijklmnopqrstuvwxyz", 0x7a43afb61d7f5f40ULL },
        { "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
          0xff42329b90e50d58ULL },
        { "1234567890123456789012345678901234567890123456789012345678901234567890"
          "1234567890",
          0xc39cab13b115aad3ULL },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct hash_key k = { i, 0 };
        char what[64];
        snprintf(what, sizeof what, "wyhash final 4 vector %zu", i);
        test_cond(what, hash_fast(&k, v[i].msg, strlen(v[i].msg)) == v[i].want);
        /* The seed is k0 ^ k1: the same seed split differently. */
        struct hash_key k2 = { i ^ 0x5555, 0x5555 };
        test_cond("seed is k0 ^ k1", hash_fast(&k2, v[i].msg, strlen(v[i].msg)) == v[i].want);
    }
}

static void test_fast_sensitivity(void)
{
    uint8_t buf[301];
    struct hash_key k = { 0x0123456789abcdefULL, 0xfedcba9876543210ULL };
    struct hash_key k2 = { 0x0123456789abcdefULL, 0xfedcba9876543211ULL };
    unsigned byte_bad = 0, len_bad = 0, key_bad = 0, unaligned_bad = 0;
    uint8_t shifted[302];

    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 131 + 7);
    for (size_t len = 0; len <= 300; len++) {
        uint64_t h = hash_fast(&k, buf, len);
        if (len > 0 && hash_fast(&k, buf, len - 1) == h)
            len_bad++;
        if (hash_fast(&k2, buf, len) == h)
            key_bad++;
        memcpy(shifted + 1, buf, len);
        if (hash_fast(&k, shifted + 1, len) != h)
            unaligned_bad++;
        for (size_t j = 0; j < len; j++) {
            buf[j] ^= 0x01;
            if (hash_fast(&k, buf, len) == h)
                byte_bad++;
            buf[j] ^= 0x01;
        }
    }
    test_cond("flipping any bit of the input changes the hash", byte_bad == 0);
    test_cond("the length is part of the hash", len_bad == 0);
    test_cond("another key gives another hash", key_bad == 0);
    test_cond("alignment of the input does not matter", unaligned_bad == 0);
}

int main(void)
{
    test_siphash();
    test_siphash13();
    test_fast_vectors();
    test_fast_sensitivity();
    return test_report();
}
