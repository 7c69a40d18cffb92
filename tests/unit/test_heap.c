/*
 * test_heap.c - util/heap: a thread's arena made ready.
 *
 * After heap_reserve() in a new thread, a later allocation of that thread
 * lies in one writable mapping that reaches about the reserved size past
 * it (so the arena grows there without an mprotect() per step), and that
 * mapping carries the huge-page advice ("hg" in VmFlags).  The memory is
 * usable, and a second reservation in another thread works alike (each
 * worker calls it).  glibc's malloc only: under a sanitizer's allocator
 * the call does nothing, and only that memory works is checked.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testhelp.h"
#include "util/heap.h"

#define RESERVE (16u << 20)

struct probe {
    uintptr_t start, end;  /* the mapping holding a block allocated after the reserve */
    bool hugepage_advised;
    bool usable;
};

/* The mapping of /proc/self/smaps holding `a`, and its VmFlags. */
static void find_mapping(uintptr_t a, struct probe *pr)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f)
        return;
    char line[512];
    bool in = false;
    while (fgets(line, sizeof line, f)) {
        unsigned long s, e;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &s, &e, perms) == 3) {
            in = a >= s && a < e;
            if (in) {
                pr->start = s;
                pr->end = e;
            }
        } else if (in && strncmp(line, "VmFlags:", 8) == 0) {
            pr->hugepage_advised = strstr(line, " hg") != NULL;
        }
    }
    fclose(f);
}

static void *reserve_and_probe(void *arg)
{
    struct probe *pr = arg;
    heap_reserve(RESERVE);
    /* grows into the reserved range: 4 MiB in 64 KiB pieces, all written */
    enum { N = 64, SZ = 60 * 1024 };
    void *b[N];
    pr->usable = true;
    for (int i = 0; i < N; i++) {
        b[i] = malloc(SZ);
        if (!b[i]) {
            pr->usable = false;
            break;
        }
        memset(b[i], 0x5a, SZ);
    }
    if (pr->usable)
        find_mapping((uintptr_t)b[N - 1], pr);
    for (int i = 0; i < N && b[i]; i++)
        free(b[i]);
    return NULL;
}

int main(void)
{
#if HEAP_RESERVE_WORKS
    for (int t = 0; t < 2; t++) {
        struct probe pr = { 0 };
        pthread_t th;
        test_cond("thread starts", pthread_create(&th, NULL, reserve_and_probe, &pr) == 0);
        pthread_join(th, NULL);
        test_cond("memory after the reserve is usable", pr.usable);
        test_cond("the block after the reserve is in a known mapping", pr.end > pr.start);
        /* the writable range covers most of the reservation, not just
         * the 4 MiB used */
        test_cond("the arena's writable range spans the reservation",
                  pr.end - pr.start >= RESERVE - (4u << 20));
        test_cond("the range is advised for huge pages", pr.hugepage_advised);
    }
    heap_reserve(0);      /* too small: ignored, nothing to check but that it returns */
#else
    /* a sanitizer's allocator: the call does nothing, memory still works */
    struct probe pr = { 0 };
    reserve_and_probe(&pr);
    test_cond("sanitizer build: memory after the call is usable", pr.usable);
#endif
    return test_report();
}
