/*
 * test_certjson.c - the per-worker cache of certificates' JSON: hits,
 * replacement within a set, the caps, and the scratch writer.
 */
#include <stdlib.h>

#include "config.h"
#include "output/certjson.h"
#include "testhelp.h"

static void key(uint8_t k[32], uint8_t tag)
{
    memset(k, 0, 32);
    k[0] = tag;   /* slot picked from the first 8 bytes */
    k[31] = (uint8_t)(tag ^ 0x5a);
}

static void test_get_put(void)
{
    struct certjson *cj = certjson_new(CFG_CERTJSON_WAYS);   /* one set */
    uint8_t a[32], b[32], k[CFG_CERTJSON_WAYS][32];
    key(a, 1);
    key(b, 5);
    size_t n = 0;
    test_cond("empty: miss", certjson_get(cj, a, CERTJSON_OBJECT, &n) == NULL);
    certjson_put(cj, a, CERTJSON_OBJECT, "{\"x\":1}", 7);
    certjson_put(cj, a, CERTJSON_BASE64, "\"AA==\"", 6);
    const char *j = certjson_get(cj, a, CERTJSON_OBJECT, &n);
    test_cond("hit", j && n == 7 && memcmp(j, "{\"x\":1}", 7) == 0);
    test_cond("other kind kept", certjson_get(cj, a, CERTJSON_BASE64, &n) && n == 6);
    test_cond("kind not put: miss", certjson_get(cj, a, CERTJSON_EVE_LEAF, &n) == NULL);
    test_cond("bytes counted", certjson_bytes(cj) == 13);
    test_cond("other key: miss", certjson_get(cj, b, CERTJSON_OBJECT, &n) == NULL);
    certjson_put(cj, b, CERTJSON_OBJECT, "{}", 2);
    test_cond("a set holds both", certjson_get(cj, a, CERTJSON_OBJECT, &n) && n == 7 &&
                                      certjson_get(cj, b, CERTJSON_OBJECT, &n) && n == 2);
    test_cond("bytes of both", certjson_bytes(cj) == 15);

    /* Fill the set: a (just used), b, and others; then one more certificate
     * takes the least recently used slot, b's, and reuses its buffer. */
    for (int i = 0; i < CFG_CERTJSON_WAYS - 2; i++) {
        key(k[i], (uint8_t)(9 + i));
        certjson_put(cj, k[i], CERTJSON_OBJECT, "{}", 2);
    }
    test_cond("a still there", certjson_get(cj, a, CERTJSON_OBJECT, &n) && n == 7);
    size_t bytes = certjson_bytes(cj);
    uint8_t c[32];
    key(c, 200);
    certjson_put(cj, c, CERTJSON_OBJECT, "{\"y\"}", 6);
    test_cond("replaced: least recently used gone", certjson_get(cj, b, CERTJSON_OBJECT, &n) == NULL);
    test_cond("replaced: recently used kept", certjson_get(cj, a, CERTJSON_OBJECT, &n) && n == 7 &&
                                                 certjson_get(cj, a, CERTJSON_BASE64, &n) && n == 6);
    bool others = true;
    for (int i = 0; i < CFG_CERTJSON_WAYS - 2; i++)
        others = others && certjson_get(cj, k[i], CERTJSON_OBJECT, &n) && n == 2;
    test_cond("replaced: the rest of the set kept", others);
    j = certjson_get(cj, c, CERTJSON_OBJECT, &n);
    test_cond("replaced: new key there", j && n == 6 && memcmp(j, "{\"y\"}", 6) == 0);
    test_cond("replaced: buffer grown in place of the old one", certjson_bytes(cj) == bytes + 4);
    test_cond("replaced: other kinds forgotten", certjson_get(cj, c, CERTJSON_BASE64, &n) == NULL);
    certjson_put(cj, c, CERTJSON_OBJECT, "{\"z\":2}", 7);
    j = certjson_get(cj, c, CERTJSON_OBJECT, &n);
    test_cond("same kind again: replaced", j && n == 7 && memcmp(j, "{\"z\":2}", 7) == 0);
    certjson_put(cj, c, CERTJSON_EVE_LEAF, "\"s\":\"0123456789\"", 16);
    test_cond("a new kind adds its buffer", certjson_bytes(cj) == bytes + 5 + 16);
    certjson_free(cj);

    /* One whole set and a partial one of a single slot: odd keys share it. */
    cj = certjson_new(CFG_CERTJSON_WAYS + 1);
    uint8_t o1[32], o2[32];
    key(o1, 1);
    key(o2, 3);
    certjson_put(cj, o1, CERTJSON_OBJECT, "{}", 2);
    certjson_put(cj, o2, CERTJSON_OBJECT, "{}", 2);
    test_cond("partial set: one slot", !certjson_get(cj, o1, CERTJSON_OBJECT, &n) &&
                                           certjson_get(cj, o2, CERTJSON_OBJECT, &n));
    certjson_free(cj);
    test_cond("no slots: refused", certjson_new(0) == NULL);
    test_cond("too many slots: refused", certjson_new(CFG_CERTJSON_SLOTS_MAX + 1) == NULL);
}

static void test_caps(void)
{
    struct certjson *cj = certjson_new(CFG_CERTJSON_SLOTS);
    char *big = malloc(CFG_CERTJSON_FRAGMENT_MAX + 1);
    memset(big, 'a', CFG_CERTJSON_FRAGMENT_MAX + 1);
    uint8_t k[32];
    size_t n;
    key(k, 9);
    certjson_put(cj, k, CERTJSON_BASE64, big, CFG_CERTJSON_FRAGMENT_MAX + 1);
    test_cond("fragment over its cap: not kept", !certjson_get(cj, k, CERTJSON_BASE64, &n) &&
                                                    certjson_bytes(cj) == 0);
    /* fill to the byte cap: later fragments are not kept */
    size_t kept = 0;
    for (unsigned i = 0; i < CFG_CERTJSON_SLOTS; i++) {
        uint8_t d[32];
        memset(d, 0, 32);
        memcpy(d, &i, sizeof(i));
        for (int kind = 0; kind < CERTJSON_KINDS; kind++)
            certjson_put(cj, d, (enum certjson_kind)kind, big, CFG_CERTJSON_FRAGMENT_MAX);
    }
    kept = certjson_bytes(cj);
    test_cond("byte cap holds", kept <= CFG_CERTJSON_BYTES && kept > CFG_CERTJSON_BYTES / 2);
    free(big);
    certjson_free(cj);
}

static void test_scratch(void)
{
    struct certjson *cj = certjson_new(8);
    uint8_t k[32];
    key(k, 3);
    struct jw *w = certjson_scratch(cj);
    jw_obj_open(w, NULL);
    jw_str(w, "a", "b");
    jw_uint(w, "n", 2);
    const char *j;
    size_t n;
    test_cond("members kept", certjson_keep(cj, k, CERTJSON_EVE_LEAF, 1, &j, &n) &&
                                  n == 13 && memcmp(j, "\"a\":\"b\",\"n\":2", 13) == 0);
    test_cond("members then found", certjson_get(cj, k, CERTJSON_EVE_LEAF, &n) && n == 13);
    w = certjson_scratch(cj);
    jw_base64(w, NULL, (const uint8_t *)"ab", 2);
    test_cond("value kept", certjson_keep(cj, k, CERTJSON_BASE64, 0, &j, &n) && n == 6 &&
                                memcmp(j, "\"YWI=\"", 6) == 0);
    /* a fragment the scratch cannot hold: keep() says so */
    w = certjson_scratch(cj);
    size_t len = CFG_CERTJSON_FRAGMENT_MAX * 4;
    char *big = malloc(len);
    memset(big, 'x', len);
    jw_strn(w, NULL, big, len);
    test_cond("scratch overflow: false", !certjson_keep(cj, k, CERTJSON_OBJECT, 0, &j, &n));
    free(big);
    certjson_free(cj);
}

int main(void)
{
    test_get_put();
    test_caps();
    test_scratch();
    return test_report();
}
