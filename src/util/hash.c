/*
 * hash.c - SipHash-2-4 and -1-3, the seeded wyhash of hash_fast(), and
 * per-run keys
 * (see hash.h).
 */
#include "util/hash.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND                                                                \
    do {                                                                        \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);               \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                                  \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                                  \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);               \
    } while (0)

/* Eight bytes as a little-endian word: one load (byte-swapped on a
 * big-endian host).  SipHash and wyhash both read their input so. */
static inline uint64_t load_le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* The last len % 8 (0..7) bytes as a little-endian word, zero-padded. */
static inline uint64_t load_le_tail(const uint8_t *p, size_t n)
{
    uint8_t b[8] = { 0 };
    memcpy(b, p, n);
    return load_le64(b);
}

/* SipHash-c-d: c rounds per word, d to finish. */
static inline __attribute__((always_inline)) uint64_t siphash_cd(const struct hash_key *key,
                                                                 const void *data, size_t len,
                                                                 int c, int d)
{
    const uint8_t *in = data;
    uint64_t v0 = 0x736f6d6570736575ULL ^ key->k0;
    uint64_t v1 = 0x646f72616e646f6dULL ^ key->k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ key->k0;
    uint64_t v3 = 0x7465646279746573ULL ^ key->k1;
    size_t full = len - (len % 8);

    for (size_t i = 0; i < full; i += 8) {
        uint64_t m = load_le64(in + i);
        v3 ^= m;
        for (int r = 0; r < c; r++)
            SIPROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)len << 56 | load_le_tail(in + full, len % 8);
    v3 ^= b;
    for (int r = 0; r < c; r++)
        SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    for (int r = 0; r < d; r++)
        SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t hash_siphash(const struct hash_key *key, const void *data, size_t len)
{
    return siphash_cd(key, data, len, 2, 4);
}

uint64_t hash_siphash13(const struct hash_key *key, const void *data, size_t len)
{
    return siphash_cd(key, data, len, 1, 3);
}

/* ---- hash_fast: wyhash, final version 4 -------------------------------- */

static const uint64_t wy_secret[4] = { 0xa0761d6478bd642fULL, 0xe7037ed1a0b428dbULL,
                                       0x8ebc6af09c88c6e3ULL, 0x589965cc75374cc3ULL };

/* The 128-bit product of a and b, low half into *a, high half into *b. */
static inline void wy_mul(uint64_t *a, uint64_t *b)
{
#if defined(__SIZEOF_INT128__)
    __extension__ unsigned __int128 r = (unsigned __int128)*a * *b;
    *a = (uint64_t)r;
    *b = (uint64_t)(r >> 64);
#else
    uint64_t ha = *a >> 32, hb = *b >> 32, la = (uint32_t)*a, lb = (uint32_t)*b;
    uint64_t rh = ha * hb, rm0 = ha * lb, rm1 = hb * la, rl = la * lb;
    uint64_t t = rl + (rm0 << 32), c = t < rl;
    uint64_t lo = t + (rm1 << 32);
    c += lo < t;
    *a = lo;
    *b = rh + (rm0 >> 32) + (rm1 >> 32) + c;
#endif
}

static inline uint64_t wy_fold(uint64_t a, uint64_t b)
{
    wy_mul(&a, &b);
    return a ^ b;
}

static inline uint64_t wy_le32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

uint64_t hash_fast(const struct hash_key *key, const void *data, size_t len)
{
    const uint8_t *p = data;
    const uint64_t *s = wy_secret;
    uint64_t seed = key->k0 ^ key->k1;
    uint64_t a, b;

    seed ^= wy_fold(seed ^ s[0], s[1]);
    if (len <= 16) {
        if (len >= 4) {
            size_t q = (len >> 3) << 2;
            a = wy_le32(p) << 32 | wy_le32(p + q);
            b = wy_le32(p + len - 4) << 32 | wy_le32(p + len - 4 - q);
        } else if (len > 0) {
            a = (uint64_t)p[0] << 16 | (uint64_t)p[len >> 1] << 8 | p[len - 1];
            b = 0;
        } else {
            a = b = 0;
        }
    } else {
        size_t i = len;
        if (i > 48) {
            uint64_t s1 = seed, s2 = seed;
            do {
                seed = wy_fold(load_le64(p) ^ s[1], load_le64(p + 8) ^ seed);
                s1 = wy_fold(load_le64(p + 16) ^ s[2], load_le64(p + 24) ^ s1);
                s2 = wy_fold(load_le64(p + 32) ^ s[3], load_le64(p + 40) ^ s2);
                p += 48;
                i -= 48;
            } while (i > 48);
            seed ^= s1 ^ s2;
        }
        while (i > 16) {
            seed = wy_fold(load_le64(p) ^ s[1], load_le64(p + 8) ^ seed);
            i -= 16;
            p += 16;
        }
        a = load_le64(p + i - 16);
        b = load_le64(p + i - 8);
    }
    a ^= s[1];
    b ^= seed;
    wy_mul(&a, &b);
    return wy_fold(a ^ s[0] ^ len, b ^ s[1]);
}

void hash_random_key(struct hash_key *key)
{
    uint64_t k[2];
    if (getrandom(k, sizeof(k), 0) != (ssize_t)sizeof(k)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        k[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
        k[1] = (uint64_t)ts.tv_sec * 0xbf58476d1ce4e5b9ULL ^ (uint64_t)(uintptr_t)key;
    }
    key->k0 = k[0];
    key->k1 = k[1];
}

void hash_fixed_key(struct hash_key *key)
{
    key->k0 = 0x70696e73636f7065ULL; /* "pinscope" */
    key->k1 = 0x666c6f775f696421ULL; /* "flow_id!" */
}
