/*
 * test_dec.c - util/dec.h against snprintf: every value below ten million,
 * each power of ten and its neighbours up to UINT64_MAX, a million
 * pseudo-random 64-bit values, and zero-padding to every width.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "testhelp.h"
#include "util/dec.h"

static int check(uint64_t v, unsigned width)
{
    char got[DEC_MAX + 8], want[DEC_MAX + 8];
    memset(got, 'x', sizeof got);
    char *end = dec_put_w(got, v, width);
    int n = snprintf(want, sizeof want, "%0*" PRIu64, (int)width, v);
    if (end - got != n || memcmp(got, want, (size_t)n) != 0 || got[n] != 'x') {
        printf("  %" PRIu64 " width %u: got %.*s want %s\n", v, width, (int)(end - got), got, want);
        return 1;
    }
    return 0;
}

int main(void)
{
    int wrong = 0;
    for (uint64_t v = 0; v < 10000000; v++)
        wrong += check(v, 1);
    test_cond("every value below ten million", wrong == 0);

    wrong = 0;
    for (uint64_t p = 1;; p *= 10) {
        wrong += check(p - 1, 1) + check(p, 1) + check(p + 1, 1);
        if (p > UINT64_MAX / 10)
            break;
    }
    wrong += check(UINT64_MAX, 1) + check(UINT64_MAX - 1, 1);
    test_cond("powers of ten and their neighbours, UINT64_MAX", wrong == 0);

    wrong = 0;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 1000000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        wrong += check(x >> (i % 64), 1);
    }
    test_cond("a million pseudo-random values", wrong == 0);

    wrong = 0;
    for (unsigned w = 0; w <= DEC_MAX; w++) {
        static const uint64_t vs[] = { 0, 7, 42, 999, 123456, 18446744073709551615ull };
        for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++)
            wrong += check(vs[i], w);
    }
    test_cond("zero-padded to every width", wrong == 0);

    test_cond("dec_digits", dec_digits(0) == 1 && dec_digits(9) == 1 && dec_digits(10) == 2 &&
                                dec_digits(UINT64_MAX) == 20);
    return test_report();
}
