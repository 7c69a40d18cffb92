/*
 * test_geoip.c - unit tests for enrich/geoip.c.
 *
 * Hand-made databases (tests/scripts/make_mmdb.py fixtures, written into a
 * temporary directory): MaxMind's nested layout, ip-location-db's flat one
 * split into an IPv4 and an IPv6 file, values of the wrong type, bad UTF-8,
 * over-long text, a corrupt data section, a corrupt search tree; open
 * errors (missing, empty, truncated, not a MaxMind DB, a directory, the
 * wrong kind of database); the ISO 3166-1 table; private and reserved
 * addresses; the cache (hits, misses, collisions, "not found" cached, off);
 * four threads sharing one database.
 *
 * Then the real data, when tests/scripts/geoip_data.sh has installed it and
 * the environment names it (otherwise those checks are skipped, with a
 * notice):
 *
 *   eval "$(sh tests/scripts/geoip_data.sh --env)"   # PINSCOPE_GEOIP_CITY, _ASN
 *   build/tests/test_geoip
 *
 * PINSCOPE_GEOIP_MAXMIND_CITY (geoip_data.sh --maxmind) adds checks on a real
 * GeoLite2-City file in MaxMind's own layout.
 *
 * With --bench it instead times lookups (run by hand, no assertion):
 *
 *   build/tests/test_geoip --bench CITY_SPEC ASN_SPEC
 */
#include <arpa/inet.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "enrich/geoip.h"
#include "testhelp.h"

static char dir[PATH_MAX];

/* Path of fixture `name` (each call returns a new buffer of a small ring). */
static const char *fx(const char *name)
{
    static char ring[8][PATH_MAX + 64];
    static unsigned at;
    char *p = ring[at++ % 8];
    snprintf(p, sizeof ring[0], "%s/%s", dir, name);
    return p;
}

/* Look up a textual address. */
static const struct geoip_info *look(const struct geoip_db *db, struct geoip_cache *c,
                                     const char *text)
{
    uint8_t a[16];
    if (inet_pton(AF_INET, text, a) == 1)
        return geoip_lookup(db, c, 4, a);
    if (inet_pton(AF_INET6, text, a) == 1)
        return geoip_lookup(db, c, 6, a);
    fprintf(stderr, "bad address in test: %s\n", text);
    return NULL;
}

static bool near(double a, double b)
{
    return fabs(a - b) < 1e-4;
}

/* Open must fail and the message hold both substrings. */
static void open_fails(const char *descr, const char *city, const char *asn, const char *want1,
                       const char *want2)
{
    char err[512];
    struct geoip_db *db = geoip_open(city, asn, err, sizeof err);
    bool ok = !db && strstr(err, want1) && (!want2 || strstr(err, want2)) && !strchr(err, '\n');
    test_cond(descr, ok);
    if (!ok)
        fprintf(stderr, "  message: %s\n", err);
    geoip_close(db);
}

static struct geoip_db *open_ok(const char *city, const char *asn)
{
    char err[512];
    struct geoip_db *db = geoip_open(city, asn, err, sizeof err);
    test_cond("opens", db != NULL);
    if (!db)
        fprintf(stderr, "  message: %s\n", err);
    return db;
}

static void test_table(void)
{
    test_streq("US", geoip_country_name("US"), "United States");
    test_streq("lower case kr, common name", geoip_country_name("kr"), "South Korea");
    test_streq("TW common name", geoip_country_name("TW"), "Taiwan");
    test_streq("non-ASCII name", geoip_country_name("CI"), "Côte d'Ivoire");
    test_streq("AD, first", geoip_country_name("AD"), "Andorra");
    test_streq("ZW, last", geoip_country_name("ZW"), "Zimbabwe");
    test_streq("XK added", geoip_country_name("XK"), "Kosovo");
    test_cond("ZZ unknown", geoip_country_name("ZZ") == NULL);
    test_cond("one letter", geoip_country_name("U") == NULL);
    test_cond("three letters", geoip_country_name("USA") == NULL);
    test_cond("digits", geoip_country_name("1A") == NULL);
    test_cond("NULL", geoip_country_name(NULL) == NULL);
    /* every entry is found by the binary search: so the table is sorted */
    int found = 0;
    for (char a = 'A'; a <= 'Z'; a++)
        for (char b = 'A'; b <= 'Z'; b++)
            found += geoip_country_name((char[]){ a, b, 0 }) != NULL;
    test_cond("249 ISO codes and XK found", found == 250);
}

static void test_open_errors(void)
{
    open_fails("missing file", fx("nope.mmdb"), NULL, "GeoIP city database ",
               "nope.mmdb: No such file or directory");
    open_fails("missing ASN file", NULL, fx("nope.mmdb"), "GeoIP ASN database ", "nope.mmdb");
    open_fails("empty file", fx("empty.mmdb"), NULL, "empty.mmdb: empty file", NULL);
    open_fails("truncated file", fx("truncated.mmdb"), NULL, "truncated.mmdb: ",
               "invalid metadata");
    open_fails("text file", NULL, fx("text.mmdb"), "text.mmdb: ", "invalid metadata");
    open_fails("directory", dir, NULL, "not a regular file", NULL);
    open_fails("nothing given", NULL, "", "neither", NULL);
    char list[4 * PATH_MAX];
    snprintf(list, sizeof list, "%s,,%s", fx("flat4.mmdb"), fx("flat6.mmdb"));
    open_fails("empty element", list, NULL, "an empty path", NULL);
    snprintf(list, sizeof list, "%s,", fx("flat4.mmdb"));
    open_fails("trailing comma", list, NULL, "an empty path", NULL);
    snprintf(list, sizeof list, "%s,%s,%s,%s,%s", fx("flat4.mmdb"), fx("flat6.mmdb"),
             fx("nested.mmdb"), fx("flat4.mmdb"), fx("flat6.mmdb"));
    open_fails("five files", list, NULL, "more than 4 files", NULL);
    snprintf(list, sizeof list, "%s,%s", fx("flat4.mmdb"), fx("empty.mmdb"));
    open_fails("second file of a list bad", list, NULL, "empty.mmdb: empty file", NULL);
    open_fails("ASN file as city", fx("asn.mmdb"), NULL, "asn.mmdb: its type \"GeoLite2-ASN\"",
               "not a location one");
    open_fails("city file as ASN", NULL, fx("flat4.mmdb"), "flat4.mmdb: its type \"city ipv4\"",
               "not an ASN one");
    open_fails("the error of the ASN list", fx("nested.mmdb"), fx("truncated.mmdb"),
               "GeoIP ASN database", "truncated.mmdb");
    test_cond("NULL error buffer", geoip_open(fx("nope.mmdb"), NULL, NULL, 0) == NULL);

    struct geoip_db *db = open_ok(fx("wrongtype.mmdb"), fx("wrongtype.mmdb"));
    test_cond("a custom type is accepted as both kinds", db != NULL);
    geoip_close(db);
    geoip_close(NULL);
}

static void test_nested(void)
{
    struct geoip_db *db = open_ok(fx("nested.mmdb"), fx("asn.mmdb"));
    struct geoip_cache *c = geoip_cache_new(64);
    if (!db || !c)
        goto out;
    char d[512];
    geoip_describe(db, d, sizeof d);
    test_cond("describe", strstr(d, "city: nested.mmdb (GeoLite2-City, 2") &&
                              strstr(d, "; asn: asn.mmdb (GeoLite2-ASN, "));
    geoip_describe(db, d, 12);
    test_cond("describe cut", strlen(d) == 11);

    const struct geoip_info *i = look(db, c, "81.2.69.160");
    test_cond("nested: found", i && i->found);
    if (i) {
        test_streq("nested: iso", i->country_iso, "GB");
        test_streq("nested: name from the db", i->country_name, "United Kingdom");
        test_streq("nested: continent", i->continent, "EU");
        test_streq("nested: first subdivision", i->region, "England");
        test_streq("nested: city", i->city, "Boxford");
        test_cond("nested: location",
                  i->has_location && near(i->lat, 51.75) && near(i->lon, -1.25));
        test_cond("nested: uint16 ASN", i->asn == 20712);
        test_streq("nested: AS org", i->as_org, "Andrews & Arnold Ltd");
    }
    i = look(db, c, "::ffff:81.2.69.161");
    test_cond("IPv4-mapped IPv6 looked up as IPv4", i && strcmp(i->city, "Boxford") == 0);

    i = look(db, c, "2a02:dd8::1");
    test_cond("nested v6: found", i != NULL);
    if (i) {
        test_streq("nested v6: iso", i->country_iso, "DE");
        test_streq("nested v6: name from the ISO table", i->country_name, "Germany");
        test_cond("nested v6: no city, region, continent, location, AS",
                  !i->city[0] && !i->region[0] && !i->continent[0] && !i->has_location &&
                      !i->asn && !i->as_org[0]);
    }
    i = look(db, c, "89.160.20.1");
    test_cond("the db's name wins over the table, 0,0 is a location",
              i && strcmp(i->country_name, "Sverige (db)") == 0 && i->has_location &&
                  i->lat == 0 && i->lon == 0);
    test_cond("only registered_country: nothing", look(db, c, "1.2.3.4") == NULL);
    i = look(db, c, "8.8.8.8");
    test_cond("ASN database only", i && i->asn == 15169 && strcmp(i->as_org, "Google LLC") == 0 &&
                                        !i->country_iso[0] && !i->country_name[0]);
    i = look(db, c, "2001:4860:4860::8888");
    test_cond("ASN database only, v6", i && i->asn == 15169);
    i = look(db, c, "64:ff9b::8.8.8.9");
    test_cond("NAT64 address looked up as IPv4", i && i->asn == 15169);
    test_cond("in neither", look(db, c, "9.9.9.9") == NULL);
out:
    geoip_cache_free(c);
    geoip_close(db);
}

static void test_flat(void)
{
    char list[3 * PATH_MAX];
    snprintf(list, sizeof list, " %s , %s ", fx("flat4.mmdb"), fx("flat6.mmdb"));
    struct geoip_db *db = open_ok(list, fx("asn.mmdb"));
    struct geoip_cache *c = geoip_cache_new(64);
    if (!db || !c)
        goto out;
    const struct geoip_info *i = look(db, c, "8.8.8.8");
    test_cond("flat: found", i != NULL);
    if (i) {
        test_streq("flat: iso", i->country_iso, "US");
        test_streq("flat: name from the table", i->country_name, "United States");
        test_cond("flat: empty strings are unknown", !i->city[0] && !i->region[0]);
        test_cond("flat: no continent", !i->continent[0]);
        test_cond("flat: float location", i->has_location && near(i->lat, 37.751) &&
                                              near(i->lon, -97.822));
        test_cond("flat: ASN from the ASN db", i->asn == 15169);
    }
    i = look(db, c, "81.2.69.160");
    test_cond("flat: city and state1", i && strcmp(i->city, "Bracknell") == 0 &&
                                           strcmp(i->region, "England") == 0);
    i = look(db, c, "5.1.2.3");
    test_cond("flat: lower-case code, XK", i && strcmp(i->country_iso, "XK") == 0 &&
                                               strcmp(i->country_name, "Kosovo") == 0 &&
                                               strcmp(i->city, "Prishtina") == 0);
    test_cond("flat: every field empty", look(db, c, "5.2.0.1") == NULL);
    i = look(db, c, "2a00:1450::1");
    test_cond("flat: v6 from the second file", i && strcmp(i->country_iso, "IE") == 0 &&
                                                   strcmp(i->country_name, "Ireland") == 0 &&
                                                   strcmp(i->city, "Dublin") == 0 &&
                                                   strcmp(i->region, "Leinster") == 0);
    test_cond("flat: v4 not in the v6 file", look(db, c, "5.3.0.1") == NULL);
out:
    geoip_cache_free(c);
    geoip_close(db);
}

static void test_wrong_types(void)
{
    struct geoip_db *db = open_ok(fx("wrongtype.mmdb"), NULL);
    struct geoip_cache *c = geoip_cache_new(64);
    if (!db || !c)
        goto out;
    const struct geoip_info *i = look(db, c, "1.0.0.1");
    test_cond("wrong types ignored, the good value kept",
              i && strcmp(i->region, "Good Region") == 0 && !i->country_iso[0] &&
                  !i->country_name[0] && !i->continent[0] && !i->city[0] && !i->has_location &&
                  !i->asn && !i->as_org[0]);
    test_cond("bad UTF-8, control characters, negative ASN, half a location: nothing",
              look(db, c, "1.0.1.1") == NULL);
    i = look(db, c, "1.0.2.1");
    test_cond("over-long values", i != NULL);
    if (i) {
        char want[128] = "";
        for (int k = 0; k < 31; k++)
            strcat(want, "é");
        test_streq("city cut at a character boundary", i->city, want);
        want[0] = '\0';
        for (int k = 0; k < 42; k++)
            strcat(want, "€");
        test_streq("AS org cut at a character boundary", i->as_org, want);
        test_cond("ASCII cut at 63", strlen(i->region) == 63);
        test_cond("three-letter code refused", !i->country_iso[0] && !i->country_name[0]);
        test_cond("one-letter continent refused", !i->continent[0]);
        test_cond("latitude 91 refused", !i->has_location);
        test_cond("ASN above 32 bits refused", i->asn == 0);
    }
    i = look(db, c, "1.0.3.1");
    test_cond("NaN refused, uint64 ASN taken, map as a name ignored",
              i && !i->has_location && i->asn == 64512 && strcmp(i->country_iso, "FR") == 0 &&
                  strcmp(i->country_name, "France") == 0);
    test_cond("a record that is not a map", look(db, c, "1.0.4.1") == NULL);
out:
    geoip_cache_free(c);
    geoip_close(db);
}

static void test_corrupt(void)
{
    struct geoip_db *db = open_ok(fx("corrupt-data.mmdb"), NULL);
    struct geoip_cache *c = geoip_cache_new(8);
    if (db && c) {
        test_cond("corrupt data section: no answer", look(db, c, "81.2.69.160") == NULL);
        test_cond("corrupt data section: no answer, v6", look(db, c, "2a02:dd8::1") == NULL);
    }
    geoip_close(db);
    db = open_ok(fx("badtree.mmdb"), fx("asn.mmdb"));
    geoip_cache_clear(c);   /* the new db may have the old one's address */
    if (db && c) {
        const struct geoip_info *i = look(db, c, "8.8.8.8");
        test_cond("corrupt tree: the next database still answers", i && i->asn == 15169 &&
                                                                       !i->country_iso[0]);
        i = look(db, c, "81.2.69.160");
        test_cond("corrupt tree: no location, the ASN still", i && !i->country_iso[0] &&
                                                                  i->asn == 20712);
    }
    geoip_close(db);
    geoip_cache_free(c);
}

static void test_cache(void)
{
    struct geoip_db *db = open_ok(fx("nested.mmdb"), fx("asn.mmdb"));
    struct geoip_cache *c = geoip_cache_new(16);
    if (!db || !c)
        goto out;
    uint64_t h, m;
    const struct geoip_info *a = look(db, c, "81.2.69.160");
    const struct geoip_info *b = look(db, c, "81.2.69.160");
    geoip_cache_stats(c, &h, &m);
    test_cond("same address twice: one miss, one hit", h == 1 && m == 1);
    test_cond("... same answer", a && a == b && strcmp(b->city, "Boxford") == 0);

    static const char *const reserved[] = {
        "0.0.0.0", "0.1.2.3", "10.1.2.3", "100.64.0.1", "100.127.255.255", "127.0.0.1",
        "169.254.9.9", "172.16.0.1", "172.31.255.255", "192.0.0.9", "192.0.2.1",
        "192.88.99.1", "192.168.1.1", "198.18.0.1", "198.19.255.255", "198.51.100.7",
        "203.0.113.9", "224.0.0.251", "239.255.255.250", "240.0.0.1", "255.255.255.255",
        "::", "::1", "::10.1.2.3", "::ffff:10.0.0.1", "::ffff:192.168.0.1", "64:ff9b::10.0.0.1",
        "64:ff9b:1::1",
        "100::1", "2001:2::1", "2001:db8::1", "3fff::1", "fc00::1", "fd12:3456::1", "fe80::1",
        "febf::1", "fec0::1", "ff02::1",
    };
    bool all = true;
    for (size_t k = 0; k < sizeof reserved / sizeof reserved[0]; k++)
        if (look(db, c, reserved[k]) != NULL) {
            all = false;
            fprintf(stderr, "  reserved address answered: %s\n", reserved[k]);
        }
    geoip_cache_stats(c, &h, &m);
    test_cond("private and reserved addresses: NULL, no lookup", all && h == 1 && m == 1);
    static const char *const public[] = { "100.128.0.1", "172.32.0.1", "198.20.0.1",
                                          "223.255.255.255", "64:ff9b::808:808", "2002:808:808::1",
                                          "2001:db9::1", "4000::1" };
    for (size_t k = 0; k < sizeof public / sizeof public[0]; k++)
        look(db, c, public[k]);
    geoip_cache_stats(c, &h, &m);
    test_cond("neighbours of reserved ranges are looked up", h == 1 && m == 1 + 8);

    test_cond("not found, first", look(db, c, "9.9.9.9") == NULL);
    test_cond("not found, again", look(db, c, "9.9.9.9") == NULL);
    geoip_cache_stats(c, &h, &m);
    test_cond("\"not found\" is cached", h == 2 && m == 10);

    struct geoip_db *other = open_ok(fx("flat4.mmdb"), NULL);
    if (other) {
        a = look(other, c, "81.2.69.160");
        test_cond("another db: the cache starts afresh", a && strcmp(a->city, "Bracknell") == 0);
        a = look(db, c, "81.2.69.160");
        test_cond("... and again when back", a && strcmp(a->city, "Boxford") == 0);
        geoip_cache_clear(c);
        a = look(db, c, "81.2.69.160");
        geoip_cache_stats(c, &h, &m);
        test_cond("cleared: a miss", a && h == 2 && m == 13);
        geoip_close(other);
    }

    test_cond("bad IP version", geoip_lookup(db, c, 5, (const uint8_t *)"abcd") == NULL);
    test_cond("no database", geoip_lookup(NULL, c, 4, (const uint8_t *)"abcd") == NULL);
    test_cond("no cache", geoip_lookup(db, NULL, 4, (const uint8_t *)"abcd") == NULL);
    geoip_cache_stats(NULL, &h, &m);
    test_cond("stats of no cache", h == 0 && m == 0);
    geoip_cache_free(c);

    /* one slot: every other address evicts */
    c = geoip_cache_new(1);
    if (!c)
        goto out;
    a = look(db, c, "81.2.69.160");
    test_cond("one slot: first", a && strcmp(a->country_iso, "GB") == 0);
    a = look(db, c, "2a02:dd8::1");
    test_cond("one slot: second replaces it", a && strcmp(a->country_iso, "DE") == 0);
    a = look(db, c, "81.2.69.160");
    test_cond("one slot: first again, right answer", a && strcmp(a->country_iso, "GB") == 0);
    test_cond("one slot: v4 and v6 with the same leading bytes differ",
              look(db, c, "5102:45a0::") == NULL);
    geoip_cache_stats(c, &h, &m);
    test_cond("one slot: all misses", h == 0 && m == 4);
    geoip_cache_free(c);

    /* four slots, one set: the least recently used goes */
    c = geoip_cache_new(4);
    if (!c)
        goto out;
    static const char *const seq[] = { "81.2.69.160", "2a02:dd8::1", "89.160.20.1", "8.8.8.8",
                                       "81.2.69.160", "9.9.9.9", "81.2.69.160", "89.160.20.1",
                                       "8.8.8.8", "2a02:dd8::1" };
    const unsigned want_hit = 1u << 4 | 1u << 6 | 1u << 7 | 1u << 8;   /* hit at these steps */
    bool lru = true;
    for (size_t k = 0; k < sizeof seq / sizeof seq[0]; k++) {
        uint64_t h0;
        geoip_cache_stats(c, &h0, NULL);
        look(db, c, seq[k]);
        geoip_cache_stats(c, &h, &m);
        lru = lru && (h - h0 == ((want_hit >> k) & 1));
    }
    test_cond("4 slots: LRU eviction within the set", lru && h == 4 && m == 6);
    a = look(db, c, "2a02:dd8::1");
    test_cond("... and the answers right", a && strcmp(a->country_iso, "DE") == 0);
    geoip_cache_free(c);

    /* off */
    c = geoip_cache_new(0);
    if (!c)
        goto out;
    look(db, c, "81.2.69.160");
    a = look(db, c, "81.2.69.160");
    geoip_cache_stats(c, &h, &m);
    test_cond("cache off: every lookup a miss", a && h == 0 && m == 2);
    geoip_cache_free(c);

    c = geoip_cache_new((size_t)1 << 40);
    test_cond("a huge request is capped", c != NULL);
    if (c)
        test_cond("... and works", look(db, c, "81.2.69.160") != NULL);
out:
    geoip_cache_free(c);
    geoip_close(db);
}

/* Random byte changes in the search tree and data section, and truncations
 * before the metadata, of a good file: open refuses it with one line, or
 * lookups answer something or nothing, never a crash (the sanitizer build
 * runs this too).  The metadata map itself is left alone: libmaxminddb 1.7.1
 * leaks an entry-data pool (4.6 KB) when MMDB_open() fails while decoding
 * a damaged metadata map, which LeakSanitizer would report. */
static void test_mutants(void)
{
    FILE *f = fopen(fx("nested.mmdb"), "rb");
    uint8_t good[8192], buf[8192];
    size_t n = f ? fread(good, 1, sizeof good, f) : 0;
    if (f)
        fclose(f);
    size_t meta = 0;    /* where the metadata marker starts */
    for (size_t k = 0; k + 14 <= n; k++)
        if (memcmp(good + k, "\xab\xcd\xefMaxMind.com", 14) == 0)
            meta = k;
    test_cond("read nested.mmdb", n > 0 && n < sizeof good && meta > 0);
    uint64_t seed = 7;
    int opened = 0, answered = 0;
    for (int k = 0; k < 400 && meta; k++) {
        memcpy(buf, good, n);
        size_t len = n;
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        if (k % 5 == 4) {
            len = (size_t)(seed >> 33) % (meta + 14);
        } else {
            for (int j = 0; j <= k % 8; j++) {
                seed = seed * 6364136223846793005u + 1442695040888963407u;
                buf[(seed >> 33) % meta] = (uint8_t)(seed >> 20);
            }
        }
        f = fopen(fx("mutant.mmdb"), "wb");
        if (!f)
            break;
        fwrite(buf, 1, len, f);
        fclose(f);
        char err[512];
        struct geoip_db *db = geoip_open(fx("mutant.mmdb"), NULL, err, sizeof err);
        struct geoip_cache *c = geoip_cache_new(0);
        if (db && c) {
            opened++;
            static const char *const addrs[] = { "81.2.69.160", "2a02:dd8::1", "89.160.20.1",
                                                 "1.2.3.4", "8.8.8.8", "4000::1" };
            for (size_t a = 0; a < sizeof addrs / sizeof addrs[0]; a++) {
                const struct geoip_info *i = look(db, c, addrs[a]);
                if (i) {
                    answered++;
                    /* whatever came out is clean text */
                    if (strlen(i->city) >= sizeof i->city || strlen(i->as_org) >= sizeof i->as_org)
                        answered = -100000;
                }
            }
        } else if (!db && (!err[0] || strchr(err, '\n'))) {
            opened = -100000;
        }
        geoip_cache_free(c);
        geoip_close(db);
    }
    unlink(fx("mutant.mmdb"));
    test_cond("400 damaged files: refused with one line, or looked up", opened >= 0 &&
                                                                        answered >= 0);
    printf("test_geoip: %d of 400 damaged files opened, %d answers\n", opened, answered);
}

/* ---- threads ---- */

struct worker {
    const struct geoip_db *db;
    int bad;
};

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    struct geoip_cache *c = geoip_cache_new(4);
    if (!c) {
        w->bad = 1;
        return NULL;
    }
    for (int k = 0; k < 3000; k++) {
        const struct geoip_info *i;
        switch (k % 4) {
        case 0:
            i = look(w->db, c, "81.2.69.160");
            w->bad += !i || strcmp(i->city, "Boxford") || i->asn != 20712;
            break;
        case 1:
            i = look(w->db, c, "2a02:dd8::1");
            w->bad += !i || strcmp(i->country_name, "Germany");
            break;
        case 2:
            i = look(w->db, c, "8.8.8.8");
            w->bad += !i || i->asn != 15169;
            break;
        default:
            w->bad += look(w->db, c, "10.0.0.1") != NULL;
        }
    }
    geoip_cache_free(c);
    return NULL;
}

static void test_threads(void)
{
    struct geoip_db *db = open_ok(fx("nested.mmdb"), fx("asn.mmdb"));
    if (!db)
        return;
    pthread_t t[4];
    struct worker w[4];
    int started = 0;
    for (int k = 0; k < 4; k++) {
        w[k] = (struct worker){ .db = db };
        if (pthread_create(&t[k], NULL, worker_run, &w[k]) == 0)
            started++;
        else
            break;
    }
    int bad = 0;
    for (int k = 0; k < started; k++) {
        pthread_join(t[k], NULL);
        bad += w[k].bad;
    }
    test_cond("four threads, one database, right answers", started == 4 && bad == 0);
    geoip_close(db);
}

/* ---- real data ---- */

static void test_real(void)
{
    const char *city = getenv("PINSCOPE_GEOIP_CITY"), *asn = getenv("PINSCOPE_GEOIP_ASN");
    const char *mm = getenv("PINSCOPE_GEOIP_MAXMIND_CITY");
    if ((!city || !*city) && (!asn || !*asn)) {
        printf("test_geoip: PINSCOPE_GEOIP_CITY/_ASN not set, real-data checks skipped "
               "(eval \"$(sh tests/scripts/geoip_data.sh --env)\" to run them)\n");
    } else {
        struct geoip_db *db = open_ok(city, asn);
        struct geoip_cache *c = geoip_cache_new(256);
        if (db && c && city && *city) {
            const struct geoip_info *i = look(db, c, "8.8.8.8");
            test_cond("real: 8.8.8.8 in the US", i && strcmp(i->country_iso, "US") == 0 &&
                                                     strcmp(i->country_name, "United States") == 0);
            i = look(db, c, "2001:4860:4860::8888");
            test_cond("real: 2001:4860:4860::8888 in the US",
                      i && strcmp(i->country_iso, "US") == 0);
            i = look(db, c, "129.132.1.1");   /* ETH Zurich */
            test_cond("real: 129.132.1.1 in Switzerland, with a city and a location",
                      i && strcmp(i->country_iso, "CH") == 0 &&
                          strcmp(i->country_name, "Switzerland") == 0 && i->city[0] &&
                          i->has_location && i->lat > 45.8 && i->lat < 47.9 && i->lon > 5.9 &&
                          i->lon < 10.5);
            i = look(db, c, "133.11.0.1");    /* University of Tokyo */
            test_cond("real: 133.11.0.1 in Japan", i && strcmp(i->country_iso, "JP") == 0);
            i = look(db, c, "2001:67c:2e8:22::c100:68b");   /* RIPE NCC */
            test_cond("real: RIPE NCC v6 in the Netherlands",
                      i && strcmp(i->country_iso, "NL") == 0);
        }
        if (db && c && asn && *asn) {
            const struct geoip_info *i = look(db, c, "8.8.8.8");
            test_cond("real: 8.8.8.8 AS15169 Google", i && i->asn == 15169 &&
                                                          strstr(i->as_org, "Google"));
            i = look(db, c, "1.1.1.1");
            test_cond("real: 1.1.1.1 AS13335 Cloudflare", i && i->asn == 13335 &&
                                                              strstr(i->as_org, "Cloudflare"));
            i = look(db, c, "2001:4860:4860::8888");
            test_cond("real: 2001:4860:4860::8888 AS15169", i && i->asn == 15169);
            i = look(db, c, "2606:4700:4700::1111");
            test_cond("real: 2606:4700:4700::1111 AS13335", i && i->asn == 13335);
            i = look(db, c, "193.0.6.139");
            test_cond("real: 193.0.6.139 AS3333 RIPE NCC", i && i->asn == 3333);
            i = look(db, c, "129.132.1.1");
            test_cond("real: 129.132.1.1 AS559 SWITCH", i && i->asn == 559);
        }
        geoip_cache_free(c);
        geoip_close(db);
    }
    if (!mm || !*mm) {
        printf("test_geoip: PINSCOPE_GEOIP_MAXMIND_CITY not set, checks on a real MaxMind "
               "file skipped\n");
        return;
    }
    struct geoip_db *db = open_ok(mm, NULL);
    struct geoip_cache *c = geoip_cache_new(16);
    if (db && c) {
        const struct geoip_info *i = look(db, c, "129.132.1.1");
        test_cond("real MaxMind: 129.132.1.1 in Zurich, Europe",
                  i && strcmp(i->country_iso, "CH") == 0 &&
                      strcmp(i->country_name, "Switzerland") == 0 &&
                      strcmp(i->continent, "EU") == 0 && strcmp(i->city, "Zurich") == 0 &&
                      i->region[0] && i->has_location);
        i = look(db, c, "2001:4860:4860::8888");
        test_cond("real MaxMind: v6 in North America",
                  i && strcmp(i->country_iso, "US") == 0 && strcmp(i->continent, "NA") == 0);
    }
    geoip_cache_free(c);
    geoip_close(db);
}

/* ---- --bench ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Random public IPv4 (3 in 4) and IPv6 (in 2000::/4) addresses. */
static void random_addrs(uint8_t (*a)[16], int *ver, size_t n, uint64_t seed)
{
    for (size_t k = 0; k < n; k++) {
        for (int b = 0; b < 16; b++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            a[k][b] = (uint8_t)(seed >> 56);
        }
        ver[k] = (k % 4 == 3) ? 6 : 4;
        if (ver[k] == 6)
            a[k][0] = (uint8_t)(0x20 | (a[k][0] & 0x0f));
        else if (a[k][0] == 10 || a[k][0] == 127 || a[k][0] >= 224)
            a[k][0] = 8;
    }
}

static void bench_run(const struct geoip_db *db, size_t slots, uint8_t (*a)[16], const int *ver,
                      size_t distinct, size_t lookups, const char *what)
{
    struct geoip_cache *c = geoip_cache_new(slots);
    if (!c)
        return;
    size_t answered = 0;
    double t0 = now_s();
    for (size_t k = 0; k < lookups; k++) {
        size_t j = k % distinct;
        answered += geoip_lookup(db, c, ver[j], a[j]) != NULL;
    }
    double dt = now_s() - t0;
    uint64_t h, m;
    geoip_cache_stats(c, &h, &m);
    printf("%-44s %9.0f lookups/s  (%zu lookups, %zu answered, hits %llu, misses %llu)\n", what,
           (double)lookups / dt, lookups, answered, (unsigned long long)h,
           (unsigned long long)m);
    geoip_cache_free(c);
}

static int bench(const char *city, const char *asn)
{
    char err[512];
    struct geoip_db *db = geoip_open(city, asn, err, sizeof err);
    if (!db) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    char d[1024];
    geoip_describe(db, d, sizeof d);
    printf("%s\n", d);
    enum { N = 200000 };
    uint8_t (*a)[16] = malloc(sizeof *a * N);
    int *ver = malloc(sizeof *ver * N);
    if (!a || !ver)
        return 1;
    random_addrs(a, ver, N, 42);
    bench_run(db, 0, a, ver, N, 1000000, "cache off, 200000 distinct addresses");
    bench_run(db, 4096, a, ver, N, 1000000, "4096 slots, 200000 distinct addresses");
    bench_run(db, 0, a, ver, 1000, 1000000, "cache off, 1000 distinct addresses");
    bench_run(db, 4096, a, ver, 1000, 5000000, "4096 slots, 1000 distinct addresses");
    free(a);
    free(ver);
    geoip_close(db);
    return 0;
}

static void cleanup(void)
{
    static const char *const names[] = { "nested.mmdb", "badtree.mmdb", "corrupt-data.mmdb",
                                         "flat4.mmdb", "flat6.mmdb", "asn.mmdb",
                                         "wrongtype.mmdb", "empty.mmdb", "truncated.mmdb",
                                         "text.mmdb" };
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        unlink(fx(names[k]));
    rmdir(dir);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--bench") == 0) {
        if (argc != 4) {
            fprintf(stderr, "usage: test_geoip --bench CITY_SPEC ASN_SPEC\n");
            return 2;
        }
        return bench(argv[2], argv[3]);
    }
    test_table();

    snprintf(dir, sizeof dir, "/tmp/pinscope-geoip-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char cmd[PATH_MAX + 128];
    snprintf(cmd, sizeof cmd, "python3 tests/scripts/make_mmdb.py fixtures '%s'", dir);
    int made = system(cmd) == 0;
    test_cond("make_mmdb.py writes the fixtures", made);
    if (made) {
        test_open_errors();
        test_nested();
        test_flat();
        test_wrong_types();
        test_corrupt();
        test_cache();
        test_mutants();
        test_threads();
    }
    cleanup();
    test_real();
    return test_report();
}
