/*
 * fuzz_pinimport.c - libFuzzer target for src/pinimport/ (policy import).
 *
 * The input is read by every format's reader in turn (and once with
 * detection); whatever each collects is added to a fresh policy, written,
 * and the output must load back with the strict loader.  A failed read
 * must leave one NUL-terminated line without a newline.  The first byte
 * also picks a --domain and a --backup pin so that those paths run.
 *
 * It checks memory safety (ASan/UBSan, leaks with LSan) and that imported
 * policies always load; test_policy_import.c checks what is accepted.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pinimport/pinimport.h"
#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool cond)
{
    if (!cond)
        abort();
}

static void one(const uint8_t *data, size_t size, enum pinimport_format fmt)
{
    char err[512];
    struct pinimport *pi = pinimport_new((size && (data[0] & 1)) ? "example.com" : NULL, NULL, NULL);
    check(pi != NULL);
    if (size && (data[0] & 2))
        pinimport_backup(pi, "fyj+KICYkyj+3oWWl30HqEC3CfevAVXs3ncouIizAQc=");
    err[0] = '\0';
    if (pinimport_buffer(pi, "fuzz", (const char *)data, size, fmt, err, sizeof(err)) < 0) {
        check(strlen(err) < sizeof(err) && strchr(err, '\n') == NULL && err[0] != '\0');
        pinimport_free(pi);
        return;
    }
    struct policy *p = policy_new();
    check(p != NULL);
    struct pinimport_stats st;
    if (pinimport_finish(pi, p, &st, err, sizeof(err)) == 0) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        check(f != NULL);
        check(policy_write(p, f, err, sizeof(err)) == 0);
        fclose(f);
        struct policy *q = policy_load_buffer("out.json", buf, len, err, sizeof(err));
        check(q != NULL);
        struct policy_summary a, b;
        policy_summary(p, &a);
        policy_summary(q, &b);
        check(a.pin_sets == b.pin_sets && a.issuer_sets == b.issuer_sets);
        policy_free(q);
        free(buf);
    }
    policy_free(p);
    pinimport_free(pi);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int f = PINIMPORT_AUTO; f < PINIMPORT_NFORMATS; f++)
        one(data, size, (enum pinimport_format)f);
    return 0;
}
