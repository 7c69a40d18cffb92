/*
 * fuzz_roots.c - libFuzzer target for policy/roots.c.
 *
 * The input is a removed_roots.json.  It is loaded with
 * roots_load_buffer(); when it loads, every entry is read back and a chain
 * built from the entries' names (each name as a subject and as an issuer,
 * with and without the entry's key) is matched.  Failure to load is fine;
 * the error must be one NUL-terminated line.
 *
 * It checks memory safety (ASan/UBSan, leaks with LSan); which inputs are
 * accepted is test_roots.c's business.
 *
 *   make build-fuzz/fuzz_roots && build-fuzz/fuzz_roots tests/fuzz/seeds/fuzz_roots
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/roots.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool cond)
{
    if (!cond)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    struct roots *r = roots_load_buffer("fuzz.json", (const char *)data, size, err, sizeof err);
    if (!r) {
        size_t n = strnlen(err, sizeof err);
        check(n > 0 && n < sizeof err && !memchr(err, '\n', n));
        return 0;
    }
    size_t n = roots_count(r);
    struct x509_cert certs[4];
    const struct x509_cert *chain[4];
    for (size_t i = 0; i < n; i++) {
        const struct removed_root *e = roots_at(r, i);
        check(e && e->id && e->subject_dn && e->removed && e->source && e->line > 0);
        memset(certs, 0, sizeof certs);
        certs[0].subject.dn = (char *)"CN=leaf";
        certs[0].issuer.dn = (char *)e->subject_dn;
        certs[1].subject.dn = (char *)e->subject_dn;
        certs[1].issuer.dn = (char *)e->subject_dn;
        if (e->has_spki)
            memcpy(certs[1].spki_sha256, e->spki_sha256, sizeof certs[1].spki_sha256);
        if (e->has_sha256)
            memcpy(certs[2].sha256_raw, e->sha256, 32);
        certs[2].subject.dn = (char *)(i + 1 < n ? roots_at(r, i + 1)->subject_dn : "");
        for (int k = 0; k < 4; k++)
            chain[k] = &certs[k];
        chain[3] = NULL;
        struct roots_match m;
        for (size_t len = 0; len <= 4; len++) {
            bool hit = roots_match_chain(r, chain, len, &m);
            check(hit == (m.root != NULL));
            check(!hit || m.cert_index < len);
        }
        check(roots_match_chain(r, chain, 1, &m) && m.how == ROOTS_BY_ISSUER);
    }
    check(roots_at(r, n) == NULL);
    roots_free(r);
    return 0;
}
