/*
 * testhelp.h - a minimal unit-test helper (one binary per module).
 *
 *   test_cond("parses a ClientHello", rc == 0);
 *   ...
 *   return test_report();
 *
 * test_report() prints "unit: N passed, N failed" and returns the process
 * exit status (0 only when nothing failed and at least one check ran).
 */
#ifndef PINSCOPE_TESTHELP_H
#define PINSCOPE_TESTHELP_H

#include <stdio.h>
#include <string.h>

static int test_passed, test_failed;

#define test_cond(descr, cond)                                                  \
    do {                                                                        \
        if (cond) {                                                             \
            test_passed++;                                                      \
        } else {                                                                \
            test_failed++;                                                      \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, descr);     \
        }                                                                       \
    } while (0)

/* Compare two strings and show both on failure. */
#define test_streq(descr, got, want)                                            \
    do {                                                                        \
        const char *g_ = (got), *w_ = (want);                                   \
        if (g_ && w_ && strcmp(g_, w_) == 0) {                                  \
            test_passed++;                                                      \
        } else {                                                                \
            test_failed++;                                                      \
            fprintf(stderr, "FAIL %s:%d: %s\n   got: %s\n  want: %s\n",         \
                    __FILE__, __LINE__, descr, g_ ? g_ : "(null)",              \
                    w_ ? w_ : "(null)");                                        \
        }                                                                       \
    } while (0)

static inline int test_report_named(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, test_passed, test_failed);
    return (test_failed == 0 && test_passed > 0) ? 0 : 1;
}

#define test_report() test_report_named(__FILE__)

#endif
