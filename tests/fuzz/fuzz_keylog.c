/*
 * fuzz_keylog.c - libFuzzer target for tls/keylog.c.
 *
 * The input is key log text, as it would come from a --keylog file or a
 * pcapng Decryption Secrets Block.  It is loaded into a store with a small
 * cap (so the cap path runs), then loaded a second time (every line is now
 * a duplicate or a conflict, or capped), and every 32-byte window of the
 * input is looked up as a client random.
 *
 * It checks memory safety (ASan/UBSan) and the store's invariants: never
 * more client randoms than the cap, stored secrets 32 or 48 bytes long
 * (48 for CLIENT_RANDOM), the second load stores nothing, and the summary
 * line is terminated.  It does not check parse results line by line
 * (tests/unit/test_decrypt.c does).
 *
 *   clang -fsanitize=fuzzer,address,undefined ... -o fuzz_keylog
 *   ./fuzz_keylog -max_total_time=60
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tls/keylog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CAP 8

static void check(bool cond)
{
    if (!cond)
        abort();
}

static void check_entry(const struct keylog_entry *e)
{
    for (int l = 0; l < KEYLOG_LABEL_COUNT; l++) {
        uint8_t len = keylog_entry_secret(e, (enum keylog_label)l).len;
        if (l == KEYLOG_CLIENT_RANDOM)
            check(len == 0 || len == 48);
        else
            check(len == 0 || len == 32 || len == 48);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct keylog *kl = keylog_new(FUZZ_CAP);
    check(kl != NULL);

    int n = keylog_load_buffer(kl, data, size);
    check(n >= 0);
    const struct keylog_counts *c = keylog_counts(kl);
    check(keylog_size(kl) <= FUZZ_CAP);
    check(c->secrets == (uint64_t)n);
    check(c->lines <= size + 1);

    int again = keylog_load_buffer(kl, data, size);
    check(again == 0);
    check(c->secrets == (uint64_t)n);

    size_t found = 0;
    for (size_t i = 0; i + KEYLOG_RANDOM_LEN <= size && i < 4096; i++) {
        const struct keylog_entry *e = keylog_find(kl, data + i);
        if (e) {
            check(memcmp(keylog_entry_random(e), data + i, KEYLOG_RANDOM_LEN) == 0);
            check_entry(e);
            found++;
        }
    }

    char sum[200];
    keylog_summary(kl, sum, sizeof sum);
    check(memchr(sum, '\0', sizeof sum) != NULL);
    keylog_summary(kl, sum, 7);
    check(strlen(sum) < 7);
    (void)found;
    keylog_free(kl);
    return 0;
}
