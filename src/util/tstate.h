/*
 * tstate.h - a block of per-thread state, allocated on first use.
 *
 * Caches that must not be shared between workers (digest contexts, cipher
 * contexts, public-suffix answers, signature verdicts) keep one zeroed
 * block per thread: the first call in a thread allocates it, `setup` (if
 * any) fills what cannot be zero, and at the thread's exit `destroy` (if
 * any) releases what the block holds before the block is freed.  The
 * caller keeps the pointer in its own _Thread_local variable, so the
 * common path is one load:
 *
 *   static struct tstate cache_state = TSTATE_INIT(sizeof(struct cache), NULL, NULL, NULL);
 *   static _Thread_local struct cache *cache;
 *   ...
 *   struct cache *c = cache ? cache : (cache = tstate_get(&cache_state));
 *   if (!c) ... (out of memory: work without the cache)
 *
 * `once` runs once per process before the first block (a hash key, say).
 * A thread whose block cannot be made gets NULL; it may ask again.
 */
#ifndef PINSCOPE_TSTATE_H
#define PINSCOPE_TSTATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct tstate {
    size_t size;
    void (*once)(void);           /* may be NULL */
    bool (*setup)(void *block);   /* may be NULL; false: the block is not made */
    void (*destroy)(void *block); /* may be NULL; releases what the block holds */
    /* internal */
    atomic_int state;             /* 0 new, 1 key ready, -1 no key */
    pthread_key_t key;
};

#define TSTATE_INIT(size, once, setup, destroy) { (size), (once), (setup), (destroy), 0, 0 }

/* This thread's block: made (zeroed, set up) on the first call; NULL when
 * that fails. */
void *tstate_get(struct tstate *s);

/* Free this thread's block now, if it has one (the main thread's at exit:
 * pthread key destructors run only when a thread ends). */
void tstate_release(struct tstate *s);

#endif
