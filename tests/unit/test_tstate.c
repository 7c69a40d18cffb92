/*
 * test_tstate.c - per-thread blocks: one zeroed block per thread and per
 * instance, `once` once per process, `setup` per block (a refusal gives
 * NULL and the next call tries again), `destroy` at thread exit and on
 * tstate_release(), 16-byte alignment.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "testhelp.h"
#include "util/tstate.h"

struct blk {
    long double align_probe;
    unsigned char bytes[1000];
    int mark;
};

static atomic_int n_once, n_setup, n_destroy;
static atomic_bool refuse;

static void on_once(void)
{
    atomic_fetch_add(&n_once, 1);
}

static bool on_setup(void *p)
{
    if (atomic_load(&refuse))
        return false;
    atomic_fetch_add(&n_setup, 1);
    ((struct blk *)p)->mark = 7;
    return true;
}

static void on_destroy(void *p)
{
    if (((struct blk *)p)->mark == 7)
        atomic_fetch_add(&n_destroy, 1);
}

static struct tstate st_a = TSTATE_INIT(sizeof(struct blk), on_once, on_setup, on_destroy);
static struct tstate st_b = TSTATE_INIT(sizeof(struct blk), NULL, NULL, NULL);

static bool zeroed(const struct blk *b)
{
    for (size_t i = 0; i < sizeof b->bytes; i++)
        if (b->bytes[i])
            return false;
    return true;
}

#define THREADS 8

static pthread_barrier_t all_have_blocks;   /* live at once: addresses must differ */

static void *worker(void *arg)
{
    struct blk *a = tstate_get(&st_a), *a2 = tstate_get(&st_a), *b = tstate_get(&st_b);
    bool ok = a && a == a2 && b && (void *)b != (void *)a && zeroed(a) && zeroed(b) &&
              a->mark == 7 && ((uintptr_t)a % 16) == 0 && ((uintptr_t)b % 16) == 0;
    if (a)
        memset(a->bytes, 0xab, sizeof a->bytes);   /* another thread's block stays zero */
    ((void **)arg)[0] = a;
    ((void **)arg)[1] = (void *)(uintptr_t)ok;
    pthread_barrier_wait(&all_have_blocks);
    return NULL;
}

int main(void)
{
    pthread_t th[THREADS];
    void *res[THREADS][2];
    pthread_barrier_init(&all_have_blocks, NULL, THREADS);
    for (int i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, worker, res[i]);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    bool all_ok = true, distinct = true;
    for (int i = 0; i < THREADS; i++) {
        all_ok = all_ok && res[i][1];
        for (int j = 0; j < i; j++)
            distinct = distinct && res[i][0] != res[j][0];
    }
    test_cond("each thread: its own zeroed, aligned block, the same on every call", all_ok);
    test_cond("blocks differ between threads", distinct);
    pthread_barrier_destroy(&all_have_blocks);
    test_cond("once ran once", atomic_load(&n_once) == 1);
    test_cond("setup once per thread", atomic_load(&n_setup) == THREADS);
    test_cond("destroy at each thread's exit", atomic_load(&n_destroy) == THREADS);

    atomic_store(&refuse, true);
    test_cond("a refused setup gives NULL", tstate_get(&st_a) == NULL);
    atomic_store(&refuse, false);
    struct blk *m = tstate_get(&st_a);
    test_cond("the next call makes the block", m && m->mark == 7 && zeroed(m));
    memset(m->bytes, 1, sizeof m->bytes);
    tstate_release(&st_a);
    test_cond("release destroys it", atomic_load(&n_destroy) == THREADS + 1);
    struct blk *m2 = tstate_get(&st_a);
    test_cond("after release, a new zeroed block", m2 && zeroed(m2));
    tstate_release(&st_a);
    tstate_release(&st_b);   /* none made on this thread: nothing happens */
    test_cond("once still once", atomic_load(&n_once) == 1);
    return test_report();
}
