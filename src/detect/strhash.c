/*
 * strhash.c - keyed hashes of names and fingerprints (see strhash.h).
 */
#include "detect/strhash.h"

#include <pthread.h>
#include <string.h>

#include "config.h"
#include "util/hash.h"

static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static struct hash_key key;

static void key_init(void)
{
    hash_random_key(&key);
}

struct memo_slot {
    uint64_t h;
    uint64_t head;   /* s's first 8 bytes (zero padded): compared first */
    size_t len;      /* 0: empty (the empty string is hashed each time) */
    char s[CFG_DETECT_HASH_LEN];
};

static _Thread_local struct memo_slot names[CFG_DETECT_HASH_NAMES], fps[CFG_DETECT_HASH_FPS];
static _Thread_local unsigned next_name, next_fp;
static _Thread_local int key_ready;   /* this thread has seen key_init() run */

uint64_t strhash(enum strhash_kind kind, const char *s)
{
    if (!key_ready) {
        pthread_once(&key_once, key_init);
        key_ready = 1;
    }
    size_t len = strlen(s);
    if (len == 0 || len >= CFG_DETECT_HASH_LEN)
        return hash_siphash(&key, s, len);
    struct memo_slot *m = kind == STRHASH_FP ? fps : names;
    unsigned n = kind == STRHASH_FP ? CFG_DETECT_HASH_FPS : CFG_DETECT_HASH_NAMES;
    uint64_t head = 0;
    memcpy(&head, s, len < 8 ? len : 8);
    for (unsigned i = 0; i < n; i++)
        if (m[i].head == head && m[i].len == len && memcmp(m[i].s, s, len) == 0)
            return m[i].h;
    unsigned *next = kind == STRHASH_FP ? &next_fp : &next_name;
    struct memo_slot *sl = &m[(*next)++ % n];
    sl->len = len;
    sl->head = head;
    memcpy(sl->s, s, len);
    return sl->h = hash_siphash(&key, s, len);
}
