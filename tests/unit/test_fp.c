/*
 * test_fp.c - known-answer tests for fp/ja3.c and fp/ja4.c.
 *
 * Part 1 builds struct tls_hello values by hand (GREASE, empty lists, ALPN
 * corner cases, count caps, DTLS and QUIC) and checks every output string.
 *
 * Part 2 is data-driven: when the conformance corpus is present at
 * ../shared/corpus (relative to the repository root, where `make unit`
 * runs; PINSCOPE_CORPUS overrides it), every row of each expected.jsonl is
 * turned back into a struct tls_hello from its raw strings (ja3_string and
 * ja4_ro for the client, ja3s_string and ja4s_r for the server) and the
 * fingerprints must reproduce the row exactly.  The values that the raw
 * strings do not carry are derived from the JA4 `a` section: SNI flag,
 * supported_versions (only when the version differs from legacy_version's)
 * and an ALPN name that yields the same two characters.  Without the corpus
 * this part is skipped and the test still passes.
 *
 * Part 3 checks fp_util.c's digest memo against EVP_Digest: more distinct
 * inputs than it holds, in two rounds and two threads, the same bytes under
 * both digests and different prefix lengths, inputs around
 * CFG_FP_MEMO_KEY_MAX, and two inputs with the same memo hash.
 *
 * It does not parse wire bytes (test_hello.c does) and does not touch pcaps.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <glob.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fp/fp.h"
#include "fp/fp_util.h"
#include "testhelp.h"

/* ---- helpers ------------------------------------------------------------ */

static void set_list(uint16_t *dst, size_t *n, size_t *total, const uint16_t *src,
                     size_t cnt)
{
    memcpy(dst, src, cnt * sizeof *src);
    *n = cnt;
    *total = cnt;
}

#define SET_LIST(h, field, ...)                                                   \
    do {                                                                          \
        static const uint16_t v_[] = { __VA_ARGS__ };                             \
        set_list((h)->field, &(h)->n_##field, &(h)->total_##field, v_,            \
                 sizeof v_ / sizeof v_[0]);                                       \
    } while (0)

static void set_alpn(struct tls_hello *h, const void *name, size_t len)
{
    h->has_alpn = true;
    h->alpn[0].len = (uint8_t)len;
    memcpy(h->alpn[0].name, name, len);
    h->n_alpn = 1;
    h->total_alpn = 1;
}

static struct tls_hello *new_hello(void)
{
    struct tls_hello *h = calloc(1, sizeof *h);

    if (!h) {
        perror("calloc");
        exit(1);
    }
    return h;
}

/* ---- part 1: hand-built structs ----------------------------------------- */

/* TLS 1.3 ClientHello with GREASE in ciphers, extensions, groups, signature
 * algorithms and supported_versions. */
static void test_grease_tls13(void)
{
    struct tls_hello *h = new_hello();
    struct fp_ja3 j3;
    struct fp_ja4 j4;

    h->legacy_version = 0x0303;
    SET_LIST(h, ciphers, 0x3a3a, 0x1301, 0x1302, 0xc02b);
    SET_LIST(h, exts, 0xdada, 0x0000, 0x002b, 0x000a, 0x0033, 0x000d, 0x0010, 0x1a1a);
    SET_LIST(h, groups, 0x2a2a, 0x001d, 0x0017);
    SET_LIST(h, sig_algs, 0x0403, 0x1a1a, 0x0804);
    SET_LIST(h, versions, 0x5a5a, 0x0304, 0x0303);
    h->has_extensions = true;
    h->has_sni = true;
    set_alpn(h, "h2", 2);

    fp_ja3(h, &j3);
    test_streq("grease ja3 string", j3.str, "771,4865-4866-49195,0-43-10-51-13-16,29-23,");
    test_streq("grease ja3 hash", j3.hash, "bdedb0b3cc31c3755a6e0686896fea63");

    fp_ja4(h, FP_TRANSPORT_TCP, &j4);
    test_streq("grease ja4", j4.ja4, "t13d0306h2_5559582ccdc4_e12c865f31a5");
    test_streq("grease ja4_r", j4.ja4_r,
               "t13d0306h2_1301,1302,c02b_000a,000d,002b,0033_0403,0804");
    test_streq("grease ja4_o", j4.ja4_o, "t13d0306h2_5559582ccdc4_b795a03bfc7e");
    test_streq("grease ja4_ro", j4.ja4_ro,
               "t13d0306h2_1301,1302,c02b_0000,002b,000a,0033,000d,0010_0403,0804");

    test_cond("version ignores GREASE", tls_hello_version(h) == 0x0304);
    free(h);
}

/* SSLv3 hello pair with no extensions block at all. */
static void test_sslv3_no_extensions(void)
{
    struct tls_hello *ch = new_hello(), *sh = new_hello();
    struct fp_ja3 j3;
    struct fp_ja4 j4;
    struct fp_ja4s j4s;

    ch->legacy_version = 0x0300;
    SET_LIST(ch, ciphers, 0x000a, 0x0005, 0x0004, 0x00ff);
    fp_ja3(ch, &j3);
    test_streq("sslv3 ja3 string", j3.str, "768,10-5-4-255,,,");
    test_streq("sslv3 ja3 hash", j3.hash, "0d7ec54c3e0e84e6c5cbbfa0da946222");
    fp_ja4(ch, FP_TRANSPORT_TCP, &j4);
    test_streq("sslv3 ja4", j4.ja4, "ts3i040000_fe90cb5d9337_000000000000");
    test_streq("sslv3 ja4_r", j4.ja4_r, "ts3i040000_0004,0005,000a,00ff_");
    test_streq("sslv3 ja4_o", j4.ja4_o, "ts3i040000_41e6f219c4ca_000000000000");
    test_streq("sslv3 ja4_ro", j4.ja4_ro, "ts3i040000_000a,0005,0004,00ff_");

    sh->is_server = true;
    sh->legacy_version = 0x0300;
    SET_LIST(sh, ciphers, 0x000a);
    fp_ja3s(sh, &j3);
    test_streq("sslv3 ja3s string", j3.str, "768,10,");
    test_streq("sslv3 ja3s hash", j3.hash, "beee243d749b8f43c283eeaf7517600d");
    fp_ja4s(sh, FP_TRANSPORT_TCP, &j4s);
    test_streq("sslv3 ja4s", j4s.ja4s, "ts30000_000a_000000000000");
    test_streq("sslv3 ja4s_r", j4s.ja4s_r, "ts30000_000a_");
    free(ch);
    free(sh);
}

/* Zero cipher suites; only SNI and ALPN as extensions, so the sorted
 * extension list is empty too. */
static void test_empty_lists(void)
{
    struct tls_hello *h = new_hello();
    struct fp_ja3 j3;
    struct fp_ja4 j4;

    h->legacy_version = 0x0302;
    SET_LIST(h, exts, 0x0000, 0x0010);
    h->has_extensions = true;
    h->has_sni = true;
    set_alpn(h, "h2", 2);
    fp_ja3(h, &j3);
    test_streq("empty ja3 string", j3.str, "770,,0-16,,");
    test_streq("empty ja3 hash", j3.hash, "1227cdf52d22d3e0a5196c4a127f03bd");
    fp_ja4(h, FP_TRANSPORT_TCP, &j4);
    test_streq("empty ja4", j4.ja4, "t11d0002h2_000000000000_000000000000");
    test_streq("empty ja4_r", j4.ja4_r, "t11d0002h2__");
    test_streq("empty ja4_o", j4.ja4_o, "t11d0002h2_000000000000_a2cf1a00988d");
    test_streq("empty ja4_ro", j4.ja4_ro, "t11d0002h2__0000,0010");
    free(h);
}

/* Extensions but no signature algorithms: no trailing '_'. */
static void test_no_sigalgs(void)
{
    struct tls_hello *h = new_hello();
    struct fp_ja4 j4;

    h->legacy_version = 0x0303;
    SET_LIST(h, ciphers, 0x1301);
    SET_LIST(h, exts, 0x0000, 0x0017);
    h->has_extensions = true;
    h->has_sni = true;  /* empty server_name extension */
    fp_ja4(h, FP_TRANSPORT_TCP, &j4);
    test_streq("no sigalgs ja4", j4.ja4, "t12d010200_0f2cb44170f4_1ca028f07214");
    test_streq("no sigalgs ja4_r", j4.ja4_r, "t12d010200_1301_0017");
    test_streq("no sigalgs ja4_o", j4.ja4_o, "t12d010200_0f2cb44170f4_3cadf28b6ba8");
    test_streq("no sigalgs ja4_ro", j4.ja4_ro, "t12d010200_1301_0000,0017");
    free(h);
}

/* ALPN characters: the `a` section ends with them. */
static void check_alpn(const char *descr, const void *name, size_t len, bool present,
                       const char *want)
{
    struct tls_hello *h = new_hello();
    struct fp_ja4 j4;
    char got[3];

    h->legacy_version = 0x0303;
    SET_LIST(h, ciphers, 0x1301);
    if (present)
        set_alpn(h, name, len);
    fp_ja4(h, FP_TRANSPORT_TCP, &j4);
    memcpy(got, j4.ja4 + 8, 2);
    got[2] = '\0';
    test_streq(descr, got, want);
    test_cond("ALPN does not change the length of a", j4.ja4[10] == '_');
    free(h);
}

static void test_alpn_chars(void)
{
    check_alpn("alpn h2", "h2", 2, true, "h2");
    check_alpn("alpn http/1.1", "http/1.1", 8, true, "h1");
    check_alpn("alpn h3-29", "h3-29", 5, true, "h9");
    check_alpn("alpn one char", "h", 1, true, "hh");
    check_alpn("alpn one char x", "x", 1, true, "xx");
    check_alpn("alpn trailing space", "a ", 2, true, "60");
    check_alpn("alpn non-ascii", "\xba\xad", 2, true, "bd");
    check_alpn("alpn alnum then non-ascii", "0\xab", 2, true, "3b");
    check_alpn("alpn one non-alnum byte", "\x01", 1, true, "01");
    check_alpn("alpn empty first value", "", 0, true, "00");
    check_alpn("alpn absent", "", 0, false, "00");
    check_alpn("alpn upper case", "AB", 2, true, "AB");
}

/* 120 ciphers and 101 extensions: both counts print 99. */
static void test_count_cap(void)
{
    struct tls_hello *h = new_hello();
    struct fp_ja4 j4;

    h->legacy_version = 0x0303;
    for (unsigned i = 0; i < 120; i++)
        h->ciphers[i] = (uint16_t)(i + 1);
    h->n_ciphers = h->total_ciphers = 120;
    h->exts[0] = 0x0000;
    for (unsigned i = 1; i < 101; i++)
        h->exts[i] = (uint16_t)(0x1000 + i - 1);
    h->n_exts = h->total_exts = 101;
    h->has_extensions = true;
    h->has_sni = true;
    fp_ja4(h, FP_TRANSPORT_TCP, &j4);
    test_streq("count cap ja4", j4.ja4, "t12d999900_0f8860b09f90_0fa24da5b043");
    test_streq("count cap ja4_o", j4.ja4_o, "t12d999900_0f8860b09f90_a8f72908760e");

    /* Fewer than 99 stored, but the true count is larger. */
    h->n_ciphers = 3;
    h->total_ciphers = 500;
    h->n_exts = 2;
    h->total_exts = 3;
    h->capped = true;
    fp_ja4(h, FP_TRANSPORT_TCP, &j4);
    test_cond("true counts used", strncmp(j4.ja4, "t12d9903", 8) == 0);

    /* GREASE does not count. */
    h->ciphers[0] = 0x0a0a;
    h->n_ciphers = h->total_ciphers = 3;
    h->exts[1] = 0xfafa;
    h->n_exts = h->total_exts = 2;
    h->capped = false;
    fp_ja4(h, FP_TRANSPORT_TCP, &j4);
    test_cond("GREASE not counted", strncmp(j4.ja4, "t12d0201", 8) == 0);
    free(h);
}

/* DTLS 1.2 pair and the version table. */
static void test_dtls_and_versions(void)
{
    struct tls_hello *ch = new_hello(), *sh = new_hello();
    struct fp_ja3 j3;
    struct fp_ja4 j4;
    struct fp_ja4s j4s;
    static const struct {
        unsigned v;
        const char *s;
    } table[] = {
        { 0x0304, "13" }, { 0x0303, "12" }, { 0x0302, "11" }, { 0x0301, "10" },
        { 0x0300, "s3" }, { 0x0002, "s2" }, { 0xfeff, "d1" }, { 0xfefd, "d2" },
        { 0xfefc, "d3" }, { 0x0200, "00" }, { 0x7f1c, "00" }, { 0x0a0a, "00" },
        { 0x0000, "00" }, { 0x12345, "00" },
    };

    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        char v[3];

        fp_ja4_version(table[i].v, v);
        test_streq("fp_ja4_version", v, table[i].s);
    }

    ch->legacy_version = 0xfefd;
    SET_LIST(ch, ciphers, 0xc02b, 0xc02f);
    SET_LIST(ch, exts, 0x000a, 0x000b, 0x000d, 0x0017);
    SET_LIST(ch, groups, 0x001d);
    SET_LIST(ch, sig_algs, 0x0403);
    ch->point_formats[0] = 0;
    ch->n_point_formats = ch->total_point_formats = 1;
    ch->has_extensions = true;
    fp_ja3(ch, &j3);
    test_streq("dtls ja3 string", j3.str, "65277,49195-49199,10-11-13-23,29,0");
    test_streq("dtls ja3 hash", j3.hash, "2a05842004382fdb5c8eedfd1df71c34");
    fp_ja4(ch, FP_TRANSPORT_DTLS, &j4);
    test_streq("dtls ja4", j4.ja4, "dd2i020400_b6f57f3be927_1ffa2a9f14b6");
    test_streq("dtls ja4_ro", j4.ja4_ro, "dd2i020400_c02b,c02f_000a,000b,000d,0017_0403");

    sh->is_server = true;
    sh->legacy_version = 0xfefd;
    SET_LIST(sh, ciphers, 0xc02b);
    SET_LIST(sh, exts, 0xff01, 0x0017);
    sh->has_extensions = true;
    fp_ja3s(sh, &j3);
    test_streq("dtls ja3s string", j3.str, "65277,49195,65281-23");
    test_streq("dtls ja3s hash", j3.hash, "db393854eda13874a3ec74c11357cf68");
    fp_ja4s(sh, FP_TRANSPORT_DTLS, &j4s);
    test_streq("dtls ja4s", j4s.ja4s, "dd20200_c02b_ec53b3cc8a64");
    test_streq("dtls ja4s_r", j4s.ja4s_r, "dd20200_c02b_ff01,0017");

    /* Highest value of supported_versions: numeric, GREASE skipped, an
     * unknown draft value above 0x0304 wins. */
    SET_LIST(ch, versions, 0xfefc, 0xfefd);
    test_cond("dtls 1.3 offer -> 0xfefd", tls_hello_version(ch) == 0xfefd);
    ch->legacy_version = 0x0303;
    SET_LIST(ch, versions, 0x0304, 0x7f1c);
    test_cond("draft version wins", tls_hello_version(ch) == 0x7f1c);
    SET_LIST(ch, versions, 0x4a4a);
    test_cond("only GREASE -> legacy", tls_hello_version(ch) == 0x0303);
    free(ch);
    free(sh);
}

/* QUIC TLS 1.3 pair: JA3 keeps legacy_version 771 while JA4 says 13. */
static void test_quic_tls13(void)
{
    struct tls_hello *ch = new_hello(), *sh = new_hello();
    struct fp_ja3 j3;
    struct fp_ja4 j4;
    struct fp_ja4s j4s;

    ch->legacy_version = 0x0303;
    SET_LIST(ch, ciphers, 0x1301, 0x1302, 0x1303);
    SET_LIST(ch, exts, 0x0000, 0x0010, 0x000a, 0x000d, 0x002b, 0x0033, 0x002d, 0x0039);
    SET_LIST(ch, groups, 0x001d);
    SET_LIST(ch, sig_algs, 0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806,
             0x0601);
    SET_LIST(ch, versions, 0x0304);
    ch->has_extensions = true;
    ch->has_sni = true;
    set_alpn(ch, "h3", 2);
    fp_ja3(ch, &j3);
    test_streq("quic ja3 string", j3.str, "771,4865-4866-4867,0-16-10-13-43-51-45-57,29,");
    test_streq("quic ja3 hash", j3.hash, "54ae98b098159941cf2918cd67639f54");
    fp_ja4(ch, FP_TRANSPORT_QUIC, &j4);
    test_streq("quic ja4", j4.ja4, "q13d0308h3_55b375c5d22e_1b7ced03430d");
    test_streq("quic ja4_o", j4.ja4_o, "q13d0308h3_55b375c5d22e_e3e7be97f044");
    test_streq("quic ja4_r", j4.ja4_r,
               "q13d0308h3_1301,1302,1303_000a,000d,002b,002d,0033,0039_"
               "0403,0804,0401,0503,0805,0501,0806,0601");

    sh->is_server = true;
    sh->legacy_version = 0x0303;
    SET_LIST(sh, ciphers, 0x1301);
    SET_LIST(sh, exts, 0x0033, 0x002b);
    SET_LIST(sh, versions, 0x0304);
    sh->has_extensions = true;
    fp_ja3s(sh, &j3);
    test_streq("quic ja3s string", j3.str, "771,4865,51-43");
    test_streq("quic ja3s hash", j3.hash, "eb1d94daa7e0344597e756a1fb6e7054");
    fp_ja4s(sh, FP_TRANSPORT_QUIC, &j4s);
    test_streq("quic ja4s", j4s.ja4s, "q130200_1301_234ea6891581");
    test_streq("quic ja4s_r", j4s.ja4s_r, "q130200_1301_0033,002b");

    /* A GREASE extension from a server is dropped from list and count. */
    SET_LIST(sh, exts, 0x0033, 0x2a2a, 0x002b);
    fp_ja3s(sh, &j3);
    test_streq("ja3s drops GREASE", j3.str, "771,4865,51-43");
    fp_ja4s(sh, FP_TRANSPORT_QUIC, &j4s);
    test_streq("ja4s drops GREASE", j4s.ja4s_r, "q130200_1301_0033,002b");
    free(ch);
    free(sh);
}

/* A hello at every TLS_HELLO_MAX_* limit with the widest values: strings
 * must fit FP_STR_MAX and stay terminated. */
static void test_max_struct(void)
{
    struct tls_hello *h = new_hello();
    struct fp_ja3 *j3 = malloc(sizeof *j3);
    struct fp_ja4 *j4 = malloc(sizeof *j4);
    struct fp_ja4s *j4s = malloc(sizeof *j4s);

    if (!j3 || !j4 || !j4s) {
        perror("malloc");
        exit(1);
    }
    h->legacy_version = 0xffff;
    for (size_t i = 0; i < TLS_HELLO_MAX_CIPHERS; i++)
        h->ciphers[i] = (uint16_t)(0xffff - i);
    for (size_t i = 0; i < TLS_HELLO_MAX_EXTS; i++)
        h->exts[i] = (uint16_t)(0xffff - i);
    for (size_t i = 0; i < TLS_HELLO_MAX_GROUPS; i++)
        h->groups[i] = (uint16_t)(0xffff - i);
    for (size_t i = 0; i < TLS_HELLO_MAX_SIGALGS; i++)
        h->sig_algs[i] = (uint16_t)(0xffff - i);
    for (size_t i = 0; i < TLS_HELLO_MAX_POINTFMTS; i++)
        h->point_formats[i] = 0xff;
    /* Counts larger than the arrays must not be trusted. */
    h->n_ciphers = h->total_ciphers = TLS_HELLO_MAX_CIPHERS + 7;
    h->n_exts = h->total_exts = TLS_HELLO_MAX_EXTS + 7;
    h->n_groups = h->total_groups = TLS_HELLO_MAX_GROUPS + 7;
    h->n_sig_algs = h->total_sig_algs = TLS_HELLO_MAX_SIGALGS + 7;
    h->n_point_formats = h->total_point_formats = TLS_HELLO_MAX_POINTFMTS + 7;
    h->n_versions = TLS_HELLO_MAX_VERSIONS + 7;
    fp_ja3(h, j3);
    fp_ja4(h, FP_TRANSPORT_TCP, j4);
    fp_ja3s(h, j3);
    fp_ja4s(h, FP_TRANSPORT_TCP, j4s);
    fp_ja3(h, j3);
    test_cond("max ja3 fits", strlen(j3->str) > 9000 && strlen(j3->str) < FP_STR_MAX);
    test_cond("max ja3 string ends with point formats",
              strcmp(j3->str + strlen(j3->str) - 4, "-255") == 0);
    test_cond("max ja3 hash", strlen(j3->hash) == 32);
    test_cond("max ja4", strncmp(j4->ja4, "t00i9999", 8) == 0 && strlen(j4->ja4) == 36);
    test_cond("max ja4_r fits", strlen(j4->ja4_r) < FP_STR_MAX &&
                                    strcmp(j4->ja4_r + strlen(j4->ja4_r) - 4, "ff00") == 0);
    free(j3);
    free(j4);
    free(j4s);
    free(h);
}

/* ---- part 2: the conformance corpus ------------------------------------ */

struct corpus_stats {
    unsigned rows, client_checked, server_checked, skipped;
};

/* Parse a separator-joined list of numbers (base 10 or 16). Returns the
 * count, or -1 on a bad token or too many entries. */
static long parse_num_list(const char *s, size_t len, char sep, int base, uint16_t *out,
                           size_t cap)
{
    size_t n = 0, i = 0;

    while (i < len) {
        char tok[16];
        size_t j = i;
        char *end;
        unsigned long v;

        while (j < len && s[j] != sep)
            j++;
        if (j - i == 0 || j - i >= sizeof tok || n >= cap)
            return -1;
        memcpy(tok, s + i, j - i);
        tok[j - i] = '\0';
        errno = 0;
        v = strtoul(tok, &end, base);
        if (errno || *end || v > 0xffff)
            return -1;
        out[n++] = (uint16_t)v;
        if (j + 1 == len)
            return -1;  /* trailing separator */
        i = j + 1;
    }
    return (long)n;
}

/* Split s at `sep` into at most max fields (pointers into s, lengths). */
static size_t split(const char *s, char sep, const char **f, size_t *fl, size_t max)
{
    size_t n = 0;
    const char *p = s;

    for (;;) {
        const char *q = strchr(p, sep);

        if (n == max)
            return max + 1;
        f[n] = p;
        fl[n] = q ? (size_t)(q - p) : strlen(p);
        n++;
        if (!q)
            return n;
        p = q + 1;
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static bool is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Build an ALPN first name that produces the two characters c0 c1. */
static bool alpn_from_chars(struct tls_hello *h, char c0, char c1)
{
    uint8_t name[2];
    int hi, lo;

    if (c0 == '0' && c1 == '0')
        return true;  /* no ALPN (or an empty first value: same result) */
    if (is_alnum((unsigned char)c0) && is_alnum((unsigned char)c1)) {
        name[0] = (uint8_t)c0;
        name[1] = (uint8_t)c1;
        set_alpn(h, name, 2);
        return true;
    }
    hi = hexval(c0);
    lo = hexval(c1);
    if (hi < 0 || lo < 0)
        return false;
    /* First byte with high digit hi that is not alphanumeric, last byte
     * 0x0<lo> (a control character): the hex rule applies. */
    name[0] = (uint8_t)(hi << 4);
    for (unsigned low = 0; low < 16 && is_alnum(name[0]); low++)
        name[0] = (uint8_t)(hi << 4 | low);
    name[1] = (uint8_t)lo;
    set_alpn(h, name, 2);
    return true;
}

/* Version number for two JA4 version characters. */
static bool version_from_chars(const char *c, uint16_t *v)
{
    static const struct {
        const char *s;
        uint16_t v;
    } t[] = {
        { "13", 0x0304 }, { "12", 0x0303 }, { "11", 0x0302 }, { "10", 0x0301 },
        { "s3", 0x0300 }, { "s2", 0x0002 }, { "d1", 0xfeff }, { "d2", 0xfefd },
        { "d3", 0xfefc }, { "00", 0x7f1c },
    };

    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (c[0] == t[i].s[0] && c[1] == t[i].s[1]) {
            *v = t[i].v;
            return true;
        }
    }
    return false;
}

/* supported_versions only when legacy_version alone would not give the
 * version characters. */
static bool versions_from_chars(struct tls_hello *h, const char *c)
{
    char legacy[3];
    uint16_t v;

    fp_ja4_version(h->legacy_version, legacy);
    if (legacy[0] == c[0] && legacy[1] == c[1])
        return true;
    if (!version_from_chars(c, &v))
        return false;
    h->versions[0] = v;
    h->n_versions = h->total_versions = 1;
    return true;
}

static const char *jstr(const cJSON *row, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(row, key);

    return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* Rebuild the ClientHello of a row; false if the row cannot be represented. */
static bool client_from_row(const cJSON *row, struct tls_hello *h, enum fp_transport *t)
{
    const char *ja3s = jstr(row, "ja3_string"), *ro = jstr(row, "ja4_ro");
    const char *f[6], *g[5];
    size_t fl[6], gl[5], ng;
    char *end;
    long n;

    memset(h, 0, sizeof *h);
    if (split(ja3s, ',', f, fl, 5) != 5)
        return false;
    h->legacy_version = (uint16_t)strtoul(f[0], &end, 10);
    if (end != f[0] + fl[0])
        return false;
    if ((n = parse_num_list(f[1], fl[1], '-', 10, h->ciphers, TLS_HELLO_MAX_CIPHERS)) < 0)
        return false;
    h->n_ciphers = h->total_ciphers = (size_t)n;
    if ((n = parse_num_list(f[2], fl[2], '-', 10, h->exts, TLS_HELLO_MAX_EXTS)) < 0)
        return false;
    h->n_exts = h->total_exts = (size_t)n;
    h->has_extensions = n > 0;
    if ((n = parse_num_list(f[3], fl[3], '-', 10, h->groups, TLS_HELLO_MAX_GROUPS)) < 0)
        return false;
    h->n_groups = h->total_groups = (size_t)n;
    {
        uint16_t pf[TLS_HELLO_MAX_POINTFMTS];

        if ((n = parse_num_list(f[4], fl[4], '-', 10, pf, TLS_HELLO_MAX_POINTFMTS)) < 0)
            return false;
        for (long i = 0; i < n; i++)
            h->point_formats[i] = (uint8_t)pf[i];
        h->n_point_formats = h->total_point_formats = (size_t)n;
    }

    ng = split(ro, '_', g, gl, 4);
    if (ng < 3 || ng > 4 || gl[0] != 10)
        return false;
    if (ng == 4) {
        if ((n = parse_num_list(g[3], gl[3], ',', 16, h->sig_algs,
                                TLS_HELLO_MAX_SIGALGS)) < 0)
            return false;
        h->n_sig_algs = h->total_sig_algs = (size_t)n;
    }
    *t = (enum fp_transport)g[0][0];
    h->has_sni = g[0][3] == 'd';
    return versions_from_chars(h, g[0] + 1) && alpn_from_chars(h, g[0][8], g[0][9]);
}

/* Rebuild the ServerHello of a row from ja3s_string and ja4s_r. */
static bool server_from_row(const cJSON *row, struct tls_hello *h, enum fp_transport *t)
{
    const char *ja3s = jstr(row, "ja3s_string"), *r = jstr(row, "ja4s_r");
    const char *f[4], *g[4];
    size_t fl[4], gl[4];
    char *end;
    long n;

    memset(h, 0, sizeof *h);
    h->is_server = true;
    if (split(ja3s, ',', f, fl, 3) != 3)
        return false;
    h->legacy_version = (uint16_t)strtoul(f[0], &end, 10);
    if (end != f[0] + fl[0])
        return false;
    if (parse_num_list(f[1], fl[1], '-', 10, h->ciphers, 1) != 1)
        return false;
    h->n_ciphers = h->total_ciphers = 1;
    if ((n = parse_num_list(f[2], fl[2], '-', 10, h->exts, TLS_HELLO_MAX_EXTS)) < 0)
        return false;
    h->n_exts = h->total_exts = (size_t)n;
    h->has_extensions = n > 0;
    if (split(r, '_', g, gl, 3) != 3 || gl[0] != 7)
        return false;
    *t = (enum fp_transport)g[0][0];
    return versions_from_chars(h, g[0] + 1) && alpn_from_chars(h, g[0][5], g[0][6]);
}

static void check_field(const cJSON *row, const char *key, const char *got)
{
    const char *want = jstr(row, key);
    char descr[256];

    if (!want)
        return;
    snprintf(descr, sizeof descr, "corpus %s %s:%d %s", jstr(row, "pcap"),
             jstr(row, "src") ? jstr(row, "src") : "?",
             cJSON_GetObjectItem(row, "sport")
                 ? (int)cJSON_GetObjectItem(row, "sport")->valuedouble
                 : 0,
             key);
    test_streq(descr, got, want);
}

static void corpus_row(const cJSON *row, struct corpus_stats *st, struct tls_hello *h,
                       struct fp_ja3 *j3, struct fp_ja4 *j4, struct fp_ja4s *j4s)
{
    enum fp_transport t;

    st->rows++;
    if (jstr(row, "ja3_string") && jstr(row, "ja4_ro")) {
        if (client_from_row(row, h, &t)) {
            fp_ja3(h, j3);
            fp_ja4(h, t, j4);
            check_field(row, "ja3", j3->hash);
            check_field(row, "ja3_string", j3->str);
            check_field(row, "ja4", j4->ja4);
            check_field(row, "ja4_r", j4->ja4_r);
            check_field(row, "ja4_o", j4->ja4_o);
            check_field(row, "ja4_ro", j4->ja4_ro);
            st->client_checked++;
        } else {
            fprintf(stderr, "corpus: cannot rebuild client of %s\n", jstr(row, "pcap"));
            st->skipped++;
            test_cond("corpus client row representable", 0);
        }
    }
    if (jstr(row, "ja3s_string") && jstr(row, "ja4s_r")) {
        if (server_from_row(row, h, &t)) {
            fp_ja3s(h, j3);
            fp_ja4s(h, t, j4s);
            check_field(row, "ja3s", j3->hash);
            check_field(row, "ja3s_string", j3->str);
            check_field(row, "ja4s", j4s->ja4s);
            check_field(row, "ja4s_r", j4s->ja4s_r);
            st->server_checked++;
        } else {
            fprintf(stderr, "corpus: cannot rebuild server of %s\n", jstr(row, "pcap"));
            st->skipped++;
            test_cond("corpus server row representable", 0);
        }
    }
}

static void corpus_file(const char *path, struct corpus_stats *st)
{
    FILE *fp = fopen(path, "r");
    struct tls_hello *h = new_hello();
    struct fp_ja3 *j3 = malloc(sizeof *j3);
    struct fp_ja4 *j4 = malloc(sizeof *j4);
    struct fp_ja4s *j4s = malloc(sizeof *j4s);
    char *line = NULL;
    size_t cap = 0;

    if (!j3 || !j4 || !j4s) {
        perror("malloc");
        exit(1);
    }
    test_cond("corpus file opens", fp != NULL);
    while (fp && getline(&line, &cap, fp) > 0) {
        cJSON *row = cJSON_Parse(line);

        test_cond("corpus line is JSON", row != NULL);
        if (row)
            corpus_row(row, st, h, j3, j4, j4s);
        cJSON_Delete(row);
    }
    if (fp)
        fclose(fp);
    free(line);
    free(h);
    free(j3);
    free(j4);
    free(j4s);
}

static void test_corpus(void)
{
    const char *dir = getenv("PINSCOPE_CORPUS");
    struct corpus_stats st = { 0 };
    char pattern[1024];
    glob_t gl;

    if (!dir || !*dir)
        dir = "../shared/corpus";
    snprintf(pattern, sizeof pattern, "%s/*/expected.jsonl", dir);
    if (glob(pattern, 0, NULL, &gl) != 0) {
        printf("corpus: %s not found, data-driven checks skipped\n", dir);
        return;
    }
    for (size_t i = 0; i < gl.gl_pathc; i++)
        corpus_file(gl.gl_pathv[i], &st);
    globfree(&gl);
    printf("corpus: %u rows, %u client and %u server hellos checked, %u not rebuilt\n",
           st.rows, st.client_checked, st.server_checked, st.skipped);
}

/* ---- part 3: the digest memo ------------------------------------------- */

#define MEMO_INPUTS (CFG_FP_MEMO_SETS * CFG_FP_MEMO_WAYS * 3)

/* Input i: a cipher-list-like string whose length varies with i, and for
 * a few of them longer than the memo keeps. */
static size_t memo_input(unsigned i, char *buf, size_t cap)
{
    size_t len = (size_t)snprintf(buf, cap, "%u,", i);
    size_t want = (i % 7 == 0) ? CFG_FP_MEMO_KEY_MAX - 1 + (i % 3) : 20 + i % 200;

    while (len < want && len + 1 < cap)
    {
        buf[len] = (char)('a' + (i + len) % 26);
        len++;
    }
    buf[len] = '\0';
    return len;
}

static unsigned memo_check(const char *what, enum fp_digest d, const char *s, size_t len,
                           size_t hex_chars, bool report)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char want[2 * EVP_MAX_MD_SIZE + 1], got[2 * EVP_MAX_MD_SIZE + 1];

    if (!EVP_Digest(s, len, md, &mdlen, d == FP_MD5 ? EVP_md5() : EVP_sha256(), NULL))
        return 0;      /* digest unavailable here (FIPS): nothing to compare */
    for (size_t i = 0; i < hex_chars / 2; i++)
        sprintf(want + 2 * i, "%02x", md[i]);
    want[hex_chars] = '\0';
    memset(got, 'X', sizeof got);
    got[sizeof got - 1] = '\0';
    bool ok = fp_digest_hex(d, s, len, got, hex_chars) && strcmp(got, want) == 0;
    if (report)
        test_cond(what, ok);
    return ok ? 0 : 1;
}

/* Two rounds over all inputs, each digested with both digests and two
 * lengths; returns the number of wrong results. */
static unsigned memo_rounds(bool report)
{
    char buf[CFG_FP_MEMO_KEY_MAX + 16];
    unsigned bad = 0;

    for (int round = 0; round < 2; round++) {
        for (unsigned i = 0; i < MEMO_INPUTS; i++) {
            size_t len = memo_input(i, buf, sizeof buf);
            bad += memo_check("memo sha256/12", FP_SHA256, buf, len, 12, false);
            bad += memo_check("memo sha256/64", FP_SHA256, buf, len, 64, false);
            bad += memo_check("memo md5/32", FP_MD5, buf, len, 32, false);
            bad += memo_check("memo prefix", FP_SHA256, buf, len - 1, 12, false);
        }
    }
    if (report)
        test_cond("memo: every result equals EVP_Digest's", bad == 0);
    return bad;
}

static void *memo_thread(void *arg)
{
    unsigned *bad = arg;

    *bad = memo_rounds(false);
    return NULL;
}

static void test_digest_memo(void)
{
    char buf[CFG_FP_MEMO_KEY_MAX + 2];
    pthread_t th[2];
    unsigned bad[2] = {1, 1};

    memo_rounds(true);
    memset(buf, 'z', sizeof buf);
    memo_check("memo key max", FP_SHA256, buf, CFG_FP_MEMO_KEY_MAX, 64, true);
    memo_check("memo key max + 1", FP_SHA256, buf, CFG_FP_MEMO_KEY_MAX + 1, 64, true);
    memo_check("memo key max again", FP_SHA256, buf, CFG_FP_MEMO_KEY_MAX, 64, true);
    memo_check("memo empty input", FP_SHA256, buf, 0, 12, true);
    memo_check("memo empty input md5", FP_MD5, buf, 0, 32, true);
    /* Two inputs of the same length whose memo hash (fp_util.c's
     * memo_hash) is the same, 0x007a4c40: only the byte comparison tells
     * them apart. */
    memo_check("memo same hash a", FP_SHA256, "c,0000313937", 12, 64, true);
    memo_check("memo same hash b", FP_SHA256, "c,0000527121", 12, 64, true);
    memo_check("memo same hash a again", FP_SHA256, "c,0000313937", 12, 64, true);
    for (int i = 0; i < 2; i++)
        if (pthread_create(&th[i], NULL, memo_thread, &bad[i]) != 0) {
            perror("pthread_create");
            exit(1);
        }
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    test_cond("memo: two threads at once", bad[0] == 0 && bad[1] == 0);
}

int main(void)
{
    test_grease_tls13();
    test_sslv3_no_extensions();
    test_empty_lists();
    test_no_sigalgs();
    test_alpn_chars();
    test_count_cap();
    test_dtls_and_versions();
    test_quic_tls13();
    test_max_struct();
    test_corpus();
    test_digest_memo();
    return test_report();
}
