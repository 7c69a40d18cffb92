/*
 * fp_util.c - hex digests for fp/ (see fp_util.h).
 *
 * Every connection needs about seven digests (JA3, JA3S, the JA4 b and c
 * parts of two variants, JA4S, JA4X per certificate), and EVP_Digest()
 * creates and frees a digest context each time.  Here each thread keeps one
 * context and a set-associative memo of recent results: clients and servers
 * repeat the same cipher and extension lists, so most digests become one
 * hash of the input and one comparison.  The memo's set index comes from an
 * unkeyed hash: inputs are attacker-chosen, but all a crafted input can do
 * is evict entries, which costs the digest it would have cost without the
 * memo; a result is only ever returned for a byte-identical input.
 */
#include "fp/fp_util.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util/tstate.h"

_Static_assert((CFG_FP_MEMO_SETS & (CFG_FP_MEMO_SETS - 1)) == 0,
               "CFG_FP_MEMO_SETS must be a power of two");
_Static_assert(CFG_FP_MEMO_KEY_MAX <= UINT16_MAX, "memo key length is a uint16_t");

static pthread_once_t digests_once = PTHREAD_ONCE_INIT;
static const EVP_MD *digests[2];

static void digests_fetch(void)
{
    digests[FP_MD5] = EVP_MD_fetch(NULL, "MD5", NULL);
    digests[FP_SHA256] = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!digests[FP_MD5])
        digests[FP_MD5] = EVP_md5();
    if (!digests[FP_SHA256])
        digests[FP_SHA256] = EVP_sha256();
}

#define FP_MEMO_MD_MAX 32            /* SHA-256; MD5 is 16 */

struct fp_memo_slot {
    uint32_t hash;                   /* of the key, checked before the bytes */
    uint16_t len;                    /* key length */
    uint8_t used, kind, mdlen, hits; /* hits: saturating use count, halved on eviction nearby */
    unsigned char md[FP_MEMO_MD_MAX];
    char key[CFG_FP_MEMO_KEY_MAX];
};

struct fp_thread {
    EVP_MD_CTX *ctx;
    struct fp_memo_slot slot[CFG_FP_MEMO_SETS * CFG_FP_MEMO_WAYS];
};

static _Thread_local struct fp_thread *fp_self;
static _Thread_local bool fp_self_failed;

static bool fp_thread_setup(void *p)
{
    struct fp_thread *t = p;
    return (t->ctx = EVP_MD_CTX_new()) != NULL;
}

static void fp_thread_destroy(void *p)
{
    struct fp_thread *t = p;
    EVP_MD_CTX_free(t->ctx);
    fp_self = NULL;
}

/* The thread's state, found through a thread-local pointer; freed at
 * thread exit.  The main thread's lives until exit. */
static struct tstate fp_state =
    TSTATE_INIT(sizeof(struct fp_thread), NULL, fp_thread_setup, fp_thread_destroy);

static struct fp_thread *fp_thread_get(void)
{
    if (fp_self || fp_self_failed)
        return fp_self;
    if (!(fp_self = tstate_get(&fp_state)))
        fp_self_failed = true;     /* digest without the memo from now on */
    return fp_self;
}

/* 32-bit hash of s[0..len): eight bytes per step (a multiply-xorshift mix). */
static uint32_t memo_hash(const char *s, size_t len)
{
    const uint64_t k = 0x9e3779b97f4a7c15ull;
    uint64_t h = (uint64_t)len * k;
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * k;
        h ^= h >> 29;
    }
    if (i < len) {
        uint64_t w = 0;
        memcpy(&w, s + i, len - i);
        h = (h ^ w) * k;
        h ^= h >> 29;
    }
    h *= k;
    return (uint32_t)(h >> 32);
}

static void to_hex(const unsigned char *md, size_t hex_chars, char *out)
{
    for (size_t i = 0; i < hex_chars / 2; i++) {
        out[2 * i] = fp_hex2[2 * md[i]];
        out[2 * i + 1] = fp_hex2[2 * md[i] + 1];
    }
    out[hex_chars] = '\0';
}

/* The digest into md; its length, or 0 when it is unavailable. */
static unsigned digest(struct fp_thread *t, const EVP_MD *md_impl, const char *s,
                       size_t len, unsigned char md[EVP_MAX_MD_SIZE])
{
    unsigned int mdlen = 0;

    if (!t) {
        if (!EVP_Digest(s, len, md, &mdlen, md_impl, NULL))
            return 0;
        return mdlen;
    }
    if (!EVP_DigestInit_ex2(t->ctx, md_impl, NULL) || !EVP_DigestUpdate(t->ctx, s, len) ||
        !EVP_DigestFinal_ex(t->ctx, md, &mdlen))
        return 0;
    return mdlen;
}

bool fp_digest_hex(enum fp_digest d, const char *s, size_t len, char *out, size_t hex_chars)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    struct fp_thread *t;
    unsigned mdlen;

    pthread_once(&digests_once, digests_fetch);
    if (!digests[d])
        return false;
    t = fp_thread_get();
    if (!t || len > CFG_FP_MEMO_KEY_MAX) {
        mdlen = digest(t, digests[d], s, len, md);
        if (mdlen == 0 || mdlen < hex_chars / 2)
            return false;
        to_hex(md, hex_chars, out);
        return true;
    }

    uint32_t h = memo_hash(s, len) ^ (uint32_t)d;
    struct fp_memo_slot *set = &t->slot[(h & (CFG_FP_MEMO_SETS - 1)) * CFG_FP_MEMO_WAYS];
    struct fp_memo_slot *victim = &set[0];

    for (int w = 0; w < CFG_FP_MEMO_WAYS; w++) {
        struct fp_memo_slot *e = &set[w];
        if (!e->used) {
            if (victim->used)
                victim = e;
            continue;
        }
        if (e->hash == h && e->len == len && e->kind == (uint8_t)d &&
            memcmp(e->key, s, len) == 0) {
            if (e->mdlen < hex_chars / 2)
                return false;
            if (e->hits < UINT8_MAX)
                e->hits++;
            to_hex(e->md, hex_chars, out);
            return true;
        }
        if (victim->used && e->hits < victim->hits)
            victim = e;
    }

    mdlen = digest(t, digests[d], s, len, md);
    if (mdlen == 0 || mdlen < hex_chars / 2)
        return false;
    to_hex(md, hex_chars, out);
    if (mdlen <= FP_MEMO_MD_MAX) {
        for (int w = 0; w < CFG_FP_MEMO_WAYS; w++)
            set[w].hits >>= 1;     /* age the set so that old favourites can leave */
        victim->used = 1;
        victim->hash = h;
        victim->len = (uint16_t)len;
        victim->kind = (uint8_t)d;
        victim->mdlen = (uint8_t)mdlen;
        victim->hits = 0;
        memcpy(victim->md, md, mdlen);
        memcpy(victim->key, s, len);
    }
    return true;
}
