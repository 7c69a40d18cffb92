/*
 * tstate.c - per-thread blocks (see tstate.h).
 *
 * Each struct tstate owns one pthread key, created under a process-wide
 * mutex the first time any thread asks (pthread_once takes no argument,
 * so it cannot serve many instances).  The key's destructor is the block's
 * own: the block starts with a pointer back to its struct tstate.
 */
#include "util/tstate.h"

#include <stdlib.h>

/* What a block is on the heap: the owner, then the caller's bytes. */
struct tstate_block {
    struct tstate *owner;
    max_align_t data[];
};

static pthread_mutex_t tstate_mu = PTHREAD_MUTEX_INITIALIZER;

static void block_free(void *p)
{
    struct tstate_block *b = p;
    if (!b)
        return;
    if (b->owner->destroy)
        b->owner->destroy(b->data);
    free(b);
}

static bool key_ready(struct tstate *s)
{
    int st = atomic_load_explicit(&s->state, memory_order_acquire);
    if (st != 0)
        return st > 0;
    pthread_mutex_lock(&tstate_mu);
    st = atomic_load_explicit(&s->state, memory_order_relaxed);
    if (st == 0) {
        if (s->once)
            s->once();
        st = pthread_key_create(&s->key, block_free) == 0 ? 1 : -1;
        atomic_store_explicit(&s->state, st, memory_order_release);
    }
    pthread_mutex_unlock(&tstate_mu);
    return st > 0;
}

void tstate_release(struct tstate *s)
{
    if (atomic_load_explicit(&s->state, memory_order_acquire) <= 0)
        return;
    struct tstate_block *b = pthread_getspecific(s->key);
    if (b) {
        pthread_setspecific(s->key, NULL);
        block_free(b);
    }
}

void *tstate_get(struct tstate *s)
{
    if (!key_ready(s))
        return NULL;
    struct tstate_block *b = pthread_getspecific(s->key);
    if (b)
        return b->data;
    b = calloc(1, sizeof(*b) + s->size);
    if (!b)
        return NULL;
    b->owner = s;
    if (s->setup && !s->setup(b->data)) {
        free(b);
        return NULL;
    }
    if (pthread_setspecific(s->key, b) != 0) {
        block_free(b);
        return NULL;
    }
    return b->data;
}
