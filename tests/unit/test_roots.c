/*
 * test_roots.c - policy/roots.c: the shipped removed_roots.json loads and
 * says what its sources say; every malformed input is refused with the
 * file, the entry's line and the reason; chains match by certificate,
 * by name and key, by issuer name, and a name with another key is told
 * apart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "policy/roots.h"
#include "testhelp.h"

static const char *const GOOD =
    "{\"comment\": \"t\", \"version\": 1, \"entries\": [\n"
    "{\"id\": \"a-root\", \"label\": \"A Root\", \"subject_dn\": \"CN=A Root,O=A,C=US\",\n"
    " \"store\": \"mozilla\", \"removed\": \"2020-06-01\", \"source\": \"changelog\",\n"
    " \"sha256\": \"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\",\n"
    " \"spki_sha256\": \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\",\n"
    " \"certificate_source\": \"bundle\"},\n"
    "{\"id\": \"b-root\", \"label\": \"B Root\", \"subject_dn\": \"OU=B Root,O=B\",\n"
    " \"store\": \"chrome\", \"removed\": \"2024-02-29\", \"source\": \"s\", \"comment\": \"\"}\n"
    "]}";

/* GOOD with the first occurrence of `from` replaced by `to`; load it and
 * expect failure with `needle` in the message. */
static void expect_error(const char *descr, const char *from, const char *to, const char *needle)
{
    char buf[4096], err[512];
    const char *p = strstr(GOOD, from);
    if (!p) {
        test_cond(descr, false);
        fprintf(stderr, "  test bug: \"%s\" not in GOOD\n", from);
        return;
    }
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(p - GOOD), GOOD, to, p + strlen(from));
    struct roots *r = roots_load_buffer("rr.json", buf, strlen(buf), err, sizeof err);
    bool ok = !r && strstr(err, needle);
    test_cond(descr, ok);
    if (!ok)
        fprintf(stderr, "  want \"%s\", got: %s\n", needle, r ? "(loaded)" : err);
    roots_free(r);
}

static void test_load(void)
{
    char err[512];
    struct roots *r = roots_load_buffer("rr.json", GOOD, strlen(GOOD), err, sizeof err);
    test_cond("good file loads", r != NULL);
    if (!r) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    test_cond("two entries", roots_count(r) == 2);
    const struct removed_root *a = roots_at(r, 0), *b = roots_at(r, 1);
    test_cond("past the end is NULL", roots_at(r, 2) == NULL);
    test_cond("date to epoch", a->removed_epoch == 1590969600);
    test_cond("leap day", b->removed_epoch == 1709164800);
    test_cond("sha256 parsed", a->has_sha256 && a->sha256[0] == 0x00 && a->sha256[1] == 0x11 &&
                                   a->sha256[31] == 0xff);
    test_cond("optional keys absent", !b->has_sha256 && !b->has_spki &&
                                          strcmp(b->certificate_source, "") == 0);
    test_cond("entry lines", a->line == 2 && b->line == 7);
    test_cond("strings copied", strcmp(a->label, "A Root") == 0 && strcmp(b->store, "chrome") == 0);
    roots_free(r);

    expect_error("unknown key", "\"label\": \"A Root\"", "\"lable\": \"A Root\"",
                 "rr.json:2: entry 1 (a-root): unknown key \"lable\"");
    expect_error("duplicate key", "\"label\": \"B Root\"", "\"label\": \"B\", \"label\": \"B Root\"",
                 "rr.json:7: entry 2 (b-root): duplicate key \"label\"");
    expect_error("missing key", "\"source\": \"s\", ", "", "entry 2 (b-root): missing key \"source\"");
    expect_error("empty source", "\"source\": \"s\"", "\"source\": \"\"",
                 "entry 2 (b-root): source: must not be empty");
    expect_error("not a string", "\"removed\": \"2024-02-29\"", "\"removed\": 2024",
                 "removed: must be a string");
    expect_error("no such day", "2024-02-29", "2023-02-29", "removed: not a date");
    expect_error("month 13", "2024-02-29", "2024-13-01", "removed: not a date");
    expect_error("date shape", "2024-02-29", "24-2-29", "removed: not a date");
    expect_error("store", "\"chrome\"", "\"debian\"", "store: must be \"mozilla\" or \"chrome\"");
    expect_error("id shape", "\"b-root\"", "\"B Root\"", "id: use lower-case letters");
    expect_error("duplicate id", "\"b-root\"", "\"a-root\"",
                 "rr.json:7: entry 2 (a-root): id: duplicate of entry 1 (line 2)");
    expect_error("sha256 upper case", "00112233", "0011223A", "sha256: want 64 lower-case hex");
    expect_error("sha256 short", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
                 "0011", "sha256: want 64");
    expect_error("pin shape", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "AAAA",
                 "spki_sha256: want 44 characters of base64");
    expect_error("fingerprint without its source", ",\n \"certificate_source\": \"bundle\"", "",
                 "entry 1 (a-root): certificate_source: required with sha256");
    expect_error("control character", "\"A Root\"", "\"A\\u0001Root\"", "label: not valid UTF-8 text");
    expect_error("invalid UTF-8", "\"A Root\"", "\"A \xff Root\"", "not valid");
    expect_error("entry not an object", "{\"id\": \"b-root\"", "7, {\"id\": \"b-root\"",
                 "entry 2 (?): must be an object");
    expect_error("top-level unknown key", "\"version\": 1", "\"version\": 1, \"x\": 2",
                 "rr.json: unknown key \"x\"");
    expect_error("version", "\"version\": 1", "\"version\": 2", "version: must be the number 1");
    expect_error("syntax error names the line", "\"source\": \"s\"", "\"source\": ",
                 "rr.json: not valid JSON (line 8");
    {
        /* Braces and escaped quotes inside strings are not entries. */
        static const char *const t =
            "{\"version\": 1, \"comment\": \"{ [ \\\" {\", \"entries\": [\n"
            "{\"id\": \"a\", \"label\": \"{ x \\\" {\", \"subject_dn\": \"CN=a\",\n"
            " \"store\": \"mozilla\", \"removed\": \"2020-01-01\", \"source\": \"s\"},\n"
            "\n"
            "{\"id\": \"b\", \"bad\": 1}]}";
        struct roots *rb = roots_load_buffer("rr.json", t, strlen(t), err, sizeof err);
        test_cond("braces in strings do not count as entries",
                  !rb && strstr(err, "rr.json:5: entry 2 (b): unknown key \"bad\""));
        if (rb || !strstr(err, "rr.json:5:"))
            fprintf(stderr, "  got: %s\n", rb ? "(loaded)" : err);
        roots_free(rb);
    }

    /* over the string cap */
    size_t big = CFG_ROOTS_MAX_STR + 1;
    char *longs = malloc(big + 1);
    memset(longs, 'x', big);
    longs[big] = '\0';
    char *buf = malloc(big + 4096);
    snprintf(buf, big + 4096, "{\"version\":1,\"entries\":[{\"id\":\"x\",\"label\":\"%s\","
             "\"subject_dn\":\"CN=x\",\"store\":\"mozilla\",\"removed\":\"2020-01-01\","
             "\"source\":\"s\"}]}", longs);
    r = roots_load_buffer("rr.json", buf, strlen(buf), err, sizeof err);
    test_cond("string over the cap", !r && strstr(err, "label: longer than 2048 bytes"));
    roots_free(r);
    free(buf);
    free(longs);

    /* over the entry cap */
    size_t cap = 64 + (size_t)(CFG_ROOTS_MAX + 1) * 3;
    buf = malloc(cap);
    size_t o = (size_t)snprintf(buf, cap, "{\"version\":1,\"entries\":[");
    for (int i = 0; i <= CFG_ROOTS_MAX; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s{}", i ? "," : "");
    snprintf(buf + o, cap - o, "]}");
    r = roots_load_buffer("rr.json", buf, strlen(buf), err, sizeof err);
    test_cond("more entries than the cap", !r && strstr(err, "more than 4096 entries"));
    roots_free(r);
    free(buf);

    r = roots_load_file("/nonexistent-roots/removed_roots.json", err, sizeof err);
    test_cond("missing file", !r && strstr(err, "removed_roots.json: cannot open"));
    char tiny[6];
    r = roots_load_buffer("rr.json", "[]", 2, tiny, sizeof tiny);
    test_cond("short error buffer terminated", !r && strlen(tiny) == sizeof tiny - 1);
}

static struct x509_cert mk(const char *subject, const char *issuer)
{
    struct x509_cert c;
    memset(&c, 0, sizeof c);
    c.subject.dn = (char *)subject;
    c.issuer.dn = (char *)issuer;
    snprintf(c.spki_sha256, sizeof c.spki_sha256, "%s",
             "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=");
    return c;
}

static void test_match(void)
{
    char err[512];
    struct roots *r = roots_load_buffer("rr.json", GOOD, strlen(GOOD), err, sizeof err);
    if (!r)
        return;
    struct roots_match m;
    struct x509_cert leaf = mk("CN=www.shop.com", "CN=Issuing CA,O=A,C=US");
    struct x509_cert mid = mk("CN=Issuing CA,O=A,C=US", "CN=A Root,O=A,C=US");
    const struct x509_cert *chain[3] = {&leaf, &mid, NULL};
    test_cond("issuer of the top certificate", roots_match_chain(r, chain, 2, &m) &&
                                                   m.how == ROOTS_BY_ISSUER && m.cert_index == 1 &&
                                                   strcmp(m.root->id, "a-root") == 0);
    test_cond("a NULL (unparsed) certificate is skipped", roots_match_chain(r, chain, 3, &m) &&
                                                              m.cert_index == 1);
    struct x509_cert root = mk("CN=A Root,O=A,C=US", "CN=A Root,O=A,C=US");
    chain[2] = &root;
    test_cond("name with another key", roots_match_chain(r, chain, 3, &m) &&
                                           m.how == ROOTS_KEY_DIFFERS && m.cert_index == 2);
    memcpy(root.spki_sha256, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 45);
    test_cond("name and key", roots_match_chain(r, chain, 3, &m) && m.how == ROOTS_BY_SUBJECT);
    static const uint8_t fp[32] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                   0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
                                   0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                   0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
    memcpy(root.sha256_raw, fp, 32);
    test_cond("the root certificate itself", roots_match_chain(r, chain, 3, &m) &&
                                                 m.how == ROOTS_BY_CERT);
    struct x509_cert b = mk("CN=x", "OU=B Root,O=B");
    const struct x509_cert *one[1] = {&b};
    test_cond("a name without CN", roots_match_chain(r, one, 1, &m) &&
                                       strcmp(m.root->id, "b-root") == 0);
    struct x509_cert other = mk("CN=x", "ou=b root,o=b");
    one[0] = &other;
    test_cond("names compare exactly", !roots_match_chain(r, one, 1, &m) && m.root == NULL);
    test_cond("NULL database", !roots_match_chain(NULL, one, 1, &m));
    roots_free(r);
}

static void test_shipped(void)
{
    char err[512];
    struct roots *r = roots_load_file("signatures/" ROOTS_FILE, err, sizeof err);
    test_cond("shipped removed_roots.json loads", r != NULL);
    if (!r) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    test_cond("46 entries", roots_count(r) == 46);
    size_t with_fp = 0;
    const struct removed_root *geo = NULL, *dst = NULL;
    for (size_t i = 0; i < roots_count(r); i++) {
        const struct removed_root *e = roots_at(r, i);
        with_fp += e->has_sha256 && e->has_spki;
        if (strcmp(e->id, "geotrust-global-ca") == 0)
            geo = e;
        if (strcmp(e->id, "dst-root-ca-x3") == 0)
            dst = e;
    }
    test_cond("every entry has both fingerprints", with_fp == roots_count(r));
    test_cond("GeoTrust Global CA: name, date and source",
              geo && strcmp(geo->subject_dn, "CN=GeoTrust Global CA,O=GeoTrust Inc.,C=US") == 0 &&
                  strcmp(geo->removed, "2020-06-01") == 0 && strstr(geo->source, "20200601"));
    test_cond("DST Root CA X3: blacklisted 2021-10-07",
              dst && strcmp(dst->removed, "2021-10-07") == 0 &&
                  strstr(dst->source, "blacklisted by Debian"));
    roots_free(r);
}

int main(void)
{
    test_load();
    test_match();
    test_shipped();
    return test_report();
}
