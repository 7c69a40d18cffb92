/*
 * test_memcap.c - accounted allocation: the byte budget, and the pool of
 * freed blocks a worker's memcap keeps for reuse.
 */
#include <stdlib.h>

#include "util/memcap.h"
#include "testhelp.h"

static void test_budget(void)
{
    struct memcap mc;
    memcap_init(&mc, 1000);
    void *a = memcap_malloc(&mc, 600);
    test_cond("fits", a && mc.used == 600 && mc.peak == 600);
    test_cond("over the cap: NULL, counted", !memcap_calloc(&mc, 500) && mc.hits == 1);
    void *b = memcap_realloc(&mc, a, 600, 900);
    test_cond("grown within the cap", b && mc.used == 900);
    test_cond("grown past the cap: NULL, old kept", !memcap_realloc(&mc, b, 900, 1200) &&
                                                        mc.used == 900 && mc.hits == 2);
    memcap_free(&mc, b, 900);
    test_cond("freed", mc.used == 0 && mc.peak == 900);
    test_cond("charge", memcap_charge(&mc, 1000) && !memcap_charge(&mc, 1));
    memcap_uncharge(&mc, 5000);
    test_cond("uncharge never below zero", mc.used == 0);
    memcap_destroy(&mc);
}

static void test_pool(void)
{
    struct memcap mc;
    memcap_init(&mc, 1u << 20);
    memcap_pool_enable(&mc, 64 * 1024);

    uint8_t *a = memcap_malloc(&mc, 4096);
    memset(a, 0xab, 4096);
    memcap_free(&mc, a, 4096);
    test_cond("freed block pooled, not used", mc.used == 0 && mc.pool_bytes == 4096);
    uint8_t *b = memcap_calloc(&mc, 4096);
    test_cond("same size: the pooled block, zeroed", b == a && b[0] == 0 && b[4095] == 0 &&
                                                         mc.pool_bytes == 0 && mc.used == 4096);
    /* a doubling buffer: contents kept, the old block pooled */
    memset(b, 0x5a, 4096);
    uint8_t *c = memcap_realloc(&mc, b, 4096, 8192);
    int same = c != NULL;
    for (int i = 0; c && i < 4096; i++)
        same &= c[i] == 0x5a;
    test_cond("realloc keeps the bytes", same && mc.used == 8192);
    test_cond("realloc pools the old block", mc.pool_bytes == 4096);
    uint8_t *d = memcap_malloc(&mc, 4096);
    test_cond("and reuses it", d == b && mc.pool_bytes == 0);
    memcap_free(&mc, d, 4096);
    memcap_free(&mc, c, 8192);
    test_cond("both pooled", mc.pool_bytes == 4096 + 8192 && mc.used == 0);

    /* a buffer's first allocation through realloc(NULL) uses the pool too */
    uint8_t *e = memcap_realloc(&mc, NULL, 0, 8192);
    test_cond("realloc from NULL: pooled block", e == c && mc.pool_bytes == 4096);
    memcap_free(&mc, e, 8192);

    /* sizes out of range are never pooled */
    void *small = memcap_malloc(&mc, MEMCAP_POOL_MIN - 1);
    void *big = memcap_malloc(&mc, MEMCAP_POOL_MAX + 1);
    memcap_free(&mc, small, MEMCAP_POOL_MIN - 1);
    memcap_free(&mc, big, MEMCAP_POOL_MAX + 1);
    test_cond("small and big blocks freed, not pooled", mc.pool_bytes == 4096 + 8192);

    /* the byte bound */
    void *blk[40];
    for (int i = 0; i < 40; i++)
        blk[i] = memcap_malloc(&mc, 2048);
    for (int i = 0; i < 40; i++)
        memcap_free(&mc, blk[i], 2048);
    test_cond("pool stays within its bytes", mc.pool_bytes <= 64 * 1024 && mc.used == 0);

    /* at most MEMCAP_POOL_SIZES distinct sizes */
    memcap_destroy(&mc);
    memcap_init(&mc, 1u << 20);
    memcap_pool_enable(&mc, 1u << 20);
    for (size_t i = 0; i < MEMCAP_POOL_SIZES + 4; i++) {
        void *p = memcap_malloc(&mc, 1000 + i);
        memcap_free(&mc, p, 1000 + i);
    }
    size_t want = 0;
    for (size_t i = 0; i < MEMCAP_POOL_SIZES; i++)
        want += 1000 + i;
    test_cond("distinct sizes bounded", mc.pool_bytes == want);
    memcap_destroy(&mc);
    test_cond("destroy empties the pool", mc.pool_bytes == 0);

    /* without the pool, nothing is kept */
    memcap_init(&mc, 1u << 20);
    void *p = memcap_malloc(&mc, 4096);
    memcap_free(&mc, p, 4096);
    test_cond("pool off by default", mc.pool_bytes == 0);
    memcap_destroy(&mc);
}

int main(void)
{
    test_budget();
    test_pool();
    return test_report();
}
