/*
 * fuzz_geoip.c - libFuzzer target for enrich/geoip.c on hostile database
 * files.
 *
 * The input is a MaxMind DB file.  It is written to an anonymous memory
 * file (memfd) and opened as the location database and, separately, as
 * the ASN one; a set of addresses is then looked up through a small cache
 * (IPv4, IPv6, IPv4-mapped, private ones, and 256 addresses from the input
 * itself), twice each, so cached and uncached answers are both read.
 *
 * It checks memory safety (ASan/UBSan) and the answers' invariants: every
 * text field NUL-terminated within its buffer and valid UTF-8 (the JSON
 * writer relies on it), a location within +-90/+-180, the same answer from
 * the cache as from the database.  Seeds: tests/fuzz/seeds/fuzz_geoip,
 * the hand-made databases of tests/scripts/make_mmdb.py.
 *
 * Leak detection is off for this target: libmaxminddb 1.7.1 itself leaks
 * a few KB when MMDB_open fails on a damaged metadata section (our own
 * cleanup paths are leak-checked by tests/unit/test_geoip.c under ASan).
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "enrich/geoip.h"
#include "util/jsonv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_options(void);

const char *__lsan_default_options(void)
{
    return "detect_leaks=0";
}

static void check(bool cond)
{
    if (!cond)
        abort();
}

static void check_text(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    check(n < cap);
    check(jsonv_text_ok(s, n));
}

static void check_info(const struct geoip_info *g)
{
    if (!g)
        return;
    check_text(g->country_iso, sizeof(g->country_iso));
    check_text(g->country_name, sizeof(g->country_name));
    check_text(g->continent, sizeof(g->continent));
    check_text(g->region, sizeof(g->region));
    check_text(g->city, sizeof(g->city));
    check_text(g->as_org, sizeof(g->as_org));
    if (g->has_location)
        check(g->lat >= -90 && g->lat <= 90 && g->lon >= -180 && g->lon <= 180);
}

static void lookups(const struct geoip_db *db, struct geoip_cache *c, struct geoip_cache *direct,
                    const uint8_t *data, size_t size)
{
    static const char *const v4[] = { "8.8.8.8", "1.1.1.1", "129.132.1.1", "1.0.0.1",
                                      "10.0.0.1", "198.18.0.1", "255.255.255.255", "0.0.0.0" };
    static const char *const v6[] = { "2001:4860:4860::8888", "::ffff:8.8.8.8", "::1",
                                      "2606:4700::1111", "ffff::1", "64:ff9b::808:808" };
    uint8_t a[16];
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++)
            if (inet_pton(AF_INET, v4[i], a) == 1)
                check_info(geoip_lookup(db, c, 4, a));
        for (size_t i = 0; i < sizeof(v6) / sizeof(v6[0]); i++)
            if (inet_pton(AF_INET6, v6[i], a) == 1)
                check_info(geoip_lookup(db, c, 6, a));
        for (size_t off = 0; off + 4 <= size && off < 256 * 4; off += 4)
            check_info(geoip_lookup(db, c, 4, data + off));
    }
    /* A cached answer equals the database's own. */
    if (inet_pton(AF_INET, "8.8.8.8", a) == 1) {
        const struct geoip_info *g1 = geoip_lookup(db, c, 4, a);
        struct geoip_info copy;
        bool had = g1 != NULL;
        if (had)
            copy = *g1;
        const struct geoip_info *g2 = geoip_lookup(db, direct, 4, a);
        check(had == (g2 != NULL));
        if (had && g2)
            check(memcmp(&copy, g2, sizeof(copy)) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz_geoip", 0);
    if (fd < 0)
        return 0;
    size_t off = 0;
    while (off < size) {
        ssize_t n = write(fd, data + off, size - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    char path[64], err[512];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    struct geoip_cache *c = geoip_cache_new(16);
    struct geoip_cache *direct = geoip_cache_new(0);   /* caching off */
    for (int kind = 0; kind < 2 && c && direct; kind++) {
        struct geoip_db *db = kind == 0 ? geoip_open(path, NULL, err, sizeof(err))
                                        : geoip_open(NULL, path, err, sizeof(err));
        if (!db) {
            check(strnlen(err, sizeof(err)) > 0 && strnlen(err, sizeof(err)) < sizeof(err));
            continue;
        }
        geoip_cache_clear(c);
        lookups(db, c, direct, data, size);
        geoip_close(db);
    }
    geoip_cache_free(c);
    geoip_cache_free(direct);
    close(fd);
    return 0;
}
