/*
 * test_policy_import.c - unit tests for src/pinimport/ (policy import).
 *
 * Every format is read from a real-world-shaped file under
 * tests/unit/data/pins/, written as a policy, loaded back with
 * policy_load_buffer() (the strict loader), and the loaded pin sets and
 * issuer sets are compared with what the file says.  Then a table of
 * hostile and broken inputs, each of which must fail with a message
 * naming the file and, where the format has lines, the line.  Pins are
 * base64 of SHA-256("pin1".."pin6"), computed outside this code.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pinimport/pinimport.h"
#include "policy/policy.h"
#include "testhelp.h"

#define P1 "fyj+KICYkyj+3oWWl30HqEC3CfevAVXs3ncouIizAQc="
#define P2 "MngU5pqnDTuMH08fEjwQSKziwQZT29MijhyWGYgBKlU="
#define P3 "hV3kXHYNAad2PdSNLhD3wisXY1wFLXyZy4Eak3Zm0wU="
#define P4 "vO3bj0FJ00j07ZJhctfByubkyjn4RiEduxBHyK78o7E="
#define P5 "gH2JqBqUuN6HLjoR4KCwSp7Yh4o3upWBNK5nT4Q7EkQ="
#define P6 "ud+g7E6t7J3HpCjLg0SpKc7WucMcSQ2DMJDS8O3Hycw="
#define AND1 "7HIpactkIAq2Y49orFOOQKurWxmmSFZhBCoQYcRhJ3Y="
#define AND2 "fwza0LRMXouZHRC8Ei+4PyuldPDcf3UKgO/04cDM1oE="

#define DATA "tests/unit/data/pins/"

static int n_warnings;
static char last_warning[512];

static void warn(void *ctx, const char *msg)
{
    (void)ctx;
    n_warnings++;
    snprintf(last_warning, sizeof(last_warning), "%s", msg);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 20);
    *len = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    return buf;
}

/* Import files (NULL-terminated) into a fresh policy, write it, load it
 * back.  NULL when any step fails (err says why). */
static struct policy *import_files(const char *domain, const char *backup, const char *const *paths,
                                   char *err, size_t errlen)
{
    struct pinimport *pi = pinimport_new(domain, warn, NULL);
    if (!pi)
        return NULL;
    if (backup)
        pinimport_backup(pi, backup);
    for (; *paths; paths++) {
        size_t len;
        char *buf = slurp(*paths, &len);
        if (!buf) {
            snprintf(err, errlen, "cannot read %s", *paths);
            pinimport_free(pi);
            return NULL;
        }
        int rc = pinimport_buffer(pi, *paths, buf, len, PINIMPORT_AUTO, err, errlen);
        free(buf);
        if (rc < 0) {
            pinimport_free(pi);
            return NULL;
        }
    }
    struct policy *p = policy_new();
    struct pinimport_stats st;
    int rc = pinimport_finish(pi, p, &st, err, errlen);
    pinimport_free(pi);
    if (rc < 0) {
        policy_free(p);
        return NULL;
    }
    char *out = NULL;
    size_t olen = 0;
    FILE *mf = open_memstream(&out, &olen);
    policy_write(p, mf, err, errlen);
    fclose(mf);
    policy_free(p);
    struct policy *q = policy_load_buffer("imported.json", out, olen, err, errlen);
    free(out);
    return q;
}

static struct policy *import1(const char *path, char *err, size_t errlen)
{
    const char *paths[] = {path, NULL};
    return import_files(NULL, NULL, paths, err, errlen);
}

/* The loaded set for domain has exactly these pins (in order), backups,
 * include_subdomains and expiry day ("" for none). */
static bool set_is(const struct policy *p, const char *domain, bool sub, const char *expires,
                   const char *const *pins, const char *const *backups)
{
    const struct policy_pin_set *s = NULL;
    for (size_t i = 0; (s = policy_pin_set_at(p, i)); i++)
        if (strcmp(s->domain, domain) == 0)
            break;
    if (!s || s->include_subdomains != sub || s->origin.learned)
        return false;
    char day[32] = "";
    if (s->has_expires)
        policy_date_format(s->expires, day);
    if (strcmp(day, expires) != 0)
        return false;
    size_t n = 0;
    for (; pins[n]; n++) {
        uint8_t v[POLICY_SPKI_LEN];
        if (n >= s->pins.n || !policy_pin_parse(pins[n], v) ||
            memcmp(v, s->pins.v[n], POLICY_SPKI_LEN) != 0)
            return false;
    }
    if (n != s->pins.n)
        return false;
    size_t nb = 0;
    for (; backups && backups[nb]; nb++) {
        uint8_t v[POLICY_SPKI_LEN];
        if (nb >= s->backup_pins.n || !policy_pin_parse(backups[nb], v) ||
            memcmp(v, s->backup_pins.v[nb], POLICY_SPKI_LEN) != 0)
            return false;
    }
    return nb == s->backup_pins.n;
}

#define PINS(...) ((const char *const[]){__VA_ARGS__, NULL})

static size_t n_sets(const struct policy *p)
{
    struct policy_summary s;
    policy_summary(p, &s);
    return s.pin_sets;
}

static void test_android(void)
{
    char err[512] = "";
    struct policy *p = import1(DATA "android_nsc.xml", err, sizeof(err));
    test_streq("android: imports", p ? "ok" : err, "ok");
    if (!p)
        return;
    test_cond("android: 4 pin sets", n_sets(p) == 4);
    test_cond("android: example.com with subdomains, expiry, both pins",
              set_is(p, "example.com", true, "2027-01-01", PINS(AND1, AND2), NULL));
    test_cond("android: nested domain-config inherits the pin-set",
              set_is(p, "api.example.com", false, "2027-01-01", PINS(AND1, AND2), NULL));
    test_cond("android: includeSubdomains=false",
              set_is(p, "payments.example.net", false, "", PINS(P1, P2), NULL));
    test_cond("android: second domain of a config, pin text trimmed",
              set_is(p, "cdn.example.net", false, "", PINS(P1, P2), NULL));
    const struct policy_pin_set *s = policy_find_pinset(p, "www.example.com", 15);
    test_cond("android: lookup through the parent", s && strcmp(s->domain, "example.com") == 0);
    test_cond("android: comment names file and line",
              s && s->comment && strstr(s->comment, "android_nsc.xml:11"));
    policy_free(p);
}

static void test_okhttp(void)
{
    char err[512] = "";
    struct policy *p = import1(DATA "okhttp_pinner.kt", err, sizeof(err));
    test_streq("okhttp: imports", p ? "ok" : err, "ok");
    if (p) {
        test_cond("okhttp: 3 sets", n_sets(p) == 3);
        test_cond("okhttp: two adds for one host are one set",
                  set_is(p, "publicobject.com", false, "", PINS(P1, P5), NULL));
        test_cond("okhttp: *. widened to include_subdomains, multi-line call",
                  set_is(p, "example.org", true, "", PINS(P2, P3), NULL));
        test_cond("okhttp: **. is include_subdomains",
                  set_is(p, "example.io", true, "", PINS(P4), NULL));
        policy_free(p);
    }
    p = import1(DATA "okhttp_lines.txt", err, sizeof(err));
    test_streq("okhttp lines: imports", p ? "ok" : err, "ok");
    if (p) {
        test_cond("okhttp lines: exact", set_is(p, "api.example.com", false, "", PINS(P1, P2), NULL));
        test_cond("okhttp lines: **.", set_is(p, "example.net", true, "", PINS(P3), NULL));
        policy_free(p);
    }
}

static void test_plists(void)
{
    char err[512] = "";
    struct policy *p = import1(DATA "trustkit_Info.plist", err, sizeof(err));
    test_streq("trustkit: imports", p ? "ok" : err, "ok");
    if (p) {
        test_cond("trustkit: 2 sets", n_sets(p) == 2);
        test_cond("trustkit: subdomains, expiration, both hashes in pins",
                  set_is(p, "www.datatheorem.com", true, "2027-12-01", PINS(P1, P2), NULL));
        test_cond("trustkit: kTSK spelling", set_is(p, "yahoo.com", false, "", PINS(P3, P4), NULL));
        policy_free(p);
    }
    p = import1(DATA "ns_pinned_Info.plist", err, sizeof(err));
    test_streq("NSPinnedDomains: imports", p ? "ok" : err, "ok");
    if (p) {
        test_cond("NSPinnedDomains: CA identity, subdomains",
                  set_is(p, "example.com", true, "", PINS(P5), NULL));
        test_cond("NSPinnedDomains: leaf identities",
                  set_is(p, "api.example.org", false, "", PINS(P6, P1), NULL));
        policy_free(p);
    }
}

static void test_hpkp_curl(void)
{
    char err[512] = "";
    const char *hp[] = {DATA "hpkp_header.txt", NULL};
    struct policy *p = import_files("example.com", NULL, hp, err, sizeof(err));
    test_streq("hpkp --domain: imports", p ? "ok" : err, "ok");
    if (p) {
        test_cond("hpkp: both pins in pins, includeSubDomains",
                  set_is(p, "example.com", true, "", PINS(P1, P2), NULL));
        policy_free(p);
    }
    p = import_files("example.com", P2, hp, err, sizeof(err));
    test_cond("hpkp --backup: the named pin is a backup",
              p && set_is(p, "example.com", true, "", PINS(P1), PINS(P2)));
    policy_free(p);
    p = import_files(NULL, NULL, hp, err, sizeof(err));
    test_cond("hpkp without --domain: refused naming the line",
              !p && strstr(err, "hpkp_header.txt:2: no domain"));
    p = import1(DATA "hpkp_domains.txt", err, sizeof(err));
    test_streq("hpkp domain: lines: imports", p ? "ok" : err, "ok");
    if (p) {
        test_cond("hpkp: example.com", set_is(p, "example.com", false, "", PINS(P3, P4), NULL));
        test_cond("hpkp: value without header name",
                  set_is(p, "static.example.com", true, "", PINS(P5, P6), NULL));
        policy_free(p);
    }
    const char *cu[] = {DATA "curl_pinnedpubkey.txt", NULL};
    p = import_files("pinned.example.com", NULL, cu, err, sizeof(err));
    test_cond("curl --domain", p && set_is(p, "pinned.example.com", false, "", PINS(P1, P2), NULL));
    policy_free(p);
    p = import1(DATA "curl_cmdlines.txt", err, sizeof(err));
    test_streq("curl command lines: imports", p ? "ok" : err, "ok");
    if (p) {
        test_cond("curl: host from the URL",
                  set_is(p, "api.example.com", false, "", PINS(P3, P4), NULL));
        test_cond("curl: domain: prefix",
                  set_is(p, "download.example.org", false, "", PINS(P5), NULL));
        policy_free(p);
    }
}

static void test_chromium(void)
{
    char err[512] = "";
    const char *both[] = {DATA "chromium.pins", DATA "chromium_static.json", NULL};
    int w = n_warnings;
    struct policy *p = import_files(NULL, NULL, both, err, sizeof(err));
    test_streq("chromium: imports with the .pins file", p ? "ok" : err, "ok");
    if (p) {
        test_cond("chromium: 2 sets (an entry without pins is skipped)", n_sets(p) == 2);
        test_cond("chromium: named hash",
                  set_is(p, "pinningtest.appspot.com", true, "", PINS(P1), NULL));
        test_cond("chromium: inline and named, include_subdomains_for_pinning wins",
                  set_is(p, "example.test", true, "", PINS(P3, P2), NULL));
        test_cond("chromium: bad_static_spki_hashes warned about", n_warnings > w);
        policy_free(p);
    }
    p = import1(DATA "chromium_static.json", err, sizeof(err));
    test_cond("chromium without .pins: names the entry and the hash",
              !p && strstr(err, "chromium_static.json: entries[0] (pinningtest.appspot.com): hash "
                                "\"TestSPKI\" is not defined"));
}

static void test_dns(void)
{
    char err[512] = "";
    int w = n_warnings;
    struct policy *p = import1(DATA "dns_tlsa_caa.zone", err, sizeof(err));
    test_streq("dns: imports", p ? "ok" : err, "ok");
    if (!p)
        return;
    test_cond("dns: TLSA 3 1 1 and 2 1 1 (split hex, relative owner) into one set",
              set_is(p, "www.example.com", false, "", PINS(P1, P2), NULL));
    test_cond("dns: one pin set", n_sets(p) == 1);
    test_cond("dns: selector 0 and unknown CA warned about", n_warnings >= w + 2);
    const struct policy_issuer_set *is = policy_find_issuers(p, "www.example.com", 15);
    test_cond("dns: CAA at the origin, issue + issuewild, with subdomains",
              is && strcmp(is->domain, "example.com") == 0 && is->include_subdomains);
    if (is) {
        struct policy_issuer_result r;
        test_cond("dns: letsencrypt.org -> R11",
                  policy_issuer_check(is, "CN=R11,O=Let's Encrypt,C=US", "R11", NULL, &r) ==
                      POLICY_ISSUER_MATCH);
        test_cond("dns: pki.goog -> WR2",
                  policy_issuer_check(is, "CN=WR2,O=Google Trust Services,C=US", "WR2", NULL, &r) ==
                      POLICY_ISSUER_MATCH);
        test_cond("dns: other CA does not match",
                  policy_issuer_check(is, "CN=Other CA", "Other CA", NULL, &r) ==
                      POLICY_ISSUER_MISMATCH);
    }
    is = policy_find_issuers(p, "shop.example.com", 16);
    test_cond("dns: shop -> DigiCert names",
              is && strcmp(is->domain, "shop.example.com") == 0 && is->issuers.n >= 5);
    is = policy_find_issuers(p, "legacy.example.com", 18);
    test_cond("dns: unknown CA domain gives no issuer set of its own",
              !is || strcmp(is->domain, "legacy.example.com") != 0);
    policy_free(p);
}

/* ---- hostile and broken inputs ---- */

struct bad {
    const char *name;
    enum pinimport_format fmt;
    const char *text;
    const char *want;      /* substring of the error */
};

#define NSC_HEAD "<network-security-config>\n<domain-config>\n<domain>a.example</domain>\n"

static const struct bad bads[] = {
    {"nsc.xml", PINIMPORT_AUTO,
     NSC_HEAD "<pin-set>\n<pin digest=\"SHA-1\">" P1 "</pin>\n</pin-set>\n</domain-config>\n"
              "</network-security-config>\n",
     "nsc.xml:5: <pin digest=\"SHA-1\">: only SHA-256 pins"},
    {"trunc.xml", PINIMPORT_AUTO, NSC_HEAD "<pin-set>\n<pin digest=\"SHA-256\">" P1,
     "trunc.xml:5: unexpected end of file: <pin> from line 5 is not closed"},
    {"doctype.xml", PINIMPORT_ANDROID,
     "<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>\n"
     "<network-security-config>&e;</network-security-config>\n",
     "doctype.xml:2: <!DOCTYPE>: document type declarations are refused"},
    {"entity.xml", PINIMPORT_ANDROID,
     "<network-security-config>\n<!ENTITY a \"b\">\n</network-security-config>\n",
     "entity.xml:2: <!ENTITY>: entity declarations are refused"},
    {"ref.xml", PINIMPORT_ANDROID,
     "<network-security-config>\n&xxe;\n</network-security-config>\n",
     "ref.xml:2: entity \"&xxe;\": only &amp; &lt; &gt; &quot; &apos; are read"},
    {"cdata.xml", PINIMPORT_ANDROID,
     "<network-security-config><![CDATA[x]]></network-security-config>",
     "cdata.xml:1: CDATA sections are not read"},
    {"b64.xml", PINIMPORT_AUTO,
     NSC_HEAD "<pin-set><pin digest=\"SHA-256\">not*base64*at*all*not*base64*at*all*xxxx</pin>"
              "</pin-set></domain-config></network-security-config>",
     "b64.xml:4: pin \"not*base64*at*all*not*base64*at*all*xxxx\": not base64"},
    {"short.xml", PINIMPORT_AUTO,
     NSC_HEAD "<pin-set><pin digest=\"SHA-256\">AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=</pin>"
              "</pin-set></domain-config></network-security-config>",
     "short.xml:4: pin \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\": 29 bytes, not the 32 of a SHA-256"},
    {"31.xml", PINIMPORT_AUTO,
     NSC_HEAD "<pin-set><pin digest=\"SHA-256\">AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==</pin>"
              "</pin-set></domain-config></network-security-config>",
     "31.xml:4: pin \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA...\": 31 bytes, not the 32"},
    {"dup.xml", PINIMPORT_AUTO,
     "<network-security-config>\n<domain-config><domain>a.example</domain>"
     "<pin-set><pin digest=\"SHA-256\">" P1 "</pin></pin-set></domain-config>\n"
     "<domain-config><domain>A.Example.</domain>"
     "<pin-set><pin digest=\"SHA-256\">" P2 "</pin></pin-set></domain-config>\n"
     "</network-security-config>\n",
     "dup.xml:3: a.example: a second pin set for this domain (the first is at dup.xml:2)"},
    {"mismatch.xml", PINIMPORT_ANDROID,
     "<network-security-config>\n<domain-config>\n</network-security-config>\n",
     "mismatch.xml:3: </network-security-config> closes <domain-config> from line 2"},
    {"unknown.xml", PINIMPORT_ANDROID,
     "<network-security-config>\n<domain-config>\n<domain>a.example</domain>\n<pinset/>\n"
     "</domain-config></network-security-config>\n",
     "unknown.xml:4: <pinset>: not an element of a network security config"},
    {"wild.xml", PINIMPORT_ANDROID,
     "<network-security-config><domain-config><domain>*.a.example</domain><pin-set>"
     "<pin digest=\"SHA-256\">" P1 "</pin></pin-set></domain-config></network-security-config>",
     "wild.xml:1: \"*.a.example\": not a domain name"},
    {"expiry.xml", PINIMPORT_ANDROID,
     NSC_HEAD "<pin-set expiration=\"2027-02-30\"><pin digest=\"SHA-256\">" P1 "</pin>"
              "</pin-set></domain-config></network-security-config>",
     "expiry.xml:4: <pin-set expiration=\"2027-02-30\">: not a date"},
    {"two.xml", PINIMPORT_ANDROID,
     "<network-security-config></network-security-config>\n<network-security-config/>",
     "two.xml:2: a second root element"},
    {"plistdup.plist", PINIMPORT_AUTO,
     "<plist version=\"1.0\"><dict><key>TSKPinnedDomains</key><dict>\n"
     "<key>a.example</key><dict><key>TSKPublicKeyHashes</key><array><string>" P1
     "</string></array></dict>\n<key>a.example</key><dict/>\n</dict></dict></plist>",
     "plistdup.plist:3: key \"a.example\" given twice in one <dict>"},
    {"plistkey.plist", PINIMPORT_AUTO,
     "<plist version=\"1.0\"><dict><key>NSPinnedDomains</key><dict>\n"
     "<key>a.example</key><dict>\n<key>NSPinnedLeafIdentity</key><array/></dict>\n"
     "</dict></dict></plist>",
     "plistkey.plist:3: NSPinnedDomains: a.example: unknown key \"NSPinnedLeafIdentity\""},
    {"plistnone.plist", PINIMPORT_PLIST,
     "<?xml version=\"1.0\"?>\n<plist version=\"1.0\"><dict><key>a</key><string>b</string></dict>"
     "</plist>",
     "plistnone.plist:2: no NSPinnedDomains or TSKPinnedDomains dictionary"},
    {"sha1.kt", PINIMPORT_OKHTTP, "pinner\n  .add(\"a.example\", \"sha1/BOGUSBOGUSBOGUSBOGUSBOGUSBOGUS=\")\n",
     "sha1.kt:2: \"sha1/BOGUSBOGUSBOGUSBOGUSBOGUSBOGUS=\": only SHA-256 pins"},
    {"mixed.kt", PINIMPORT_OKHTTP,
     ".add(\"a.example\", \"sha256/" P1 "\")\n.add(\"*.a.example\", \"sha256/" P2 "\")\n",
     "mixed.kt:2: a.example: pinned both with and without its subdomains (at mixed.kt:1)"},
    {"midwild.txt", PINIMPORT_OKHTTP, "a.*.example sha256/" P1 "\n",
     "midwild.txt:1: pattern \"a.*.example\": a wildcard only as"},
    {"hpkp.txt", PINIMPORT_HPKP, "a.example: Public-Key-Pins: pin-sha1=\"x\"; max-age=1\n",
     "hpkp.txt:1: pin-sha1: only SHA-256 pins"},
    {"hpkp2.txt", PINIMPORT_HPKP, "a.example: Public-Key-Pins: pin-sha256=\"" P1 "\"; frobnicate\n",
     "hpkp2.txt:1: unknown directive \"frobnicate\""},
    {"curl.txt", PINIMPORT_CURL, "a.example: --pinnedpubkey /etc/key.pem\n",
     "curl.txt:1: --pinnedpubkey names a key file"},
    {"tlsa.zone", PINIMPORT_DNS, "_443._tcp.a.example. IN TLSA 3 1 1 00ff\n",
     "tlsa.zone:1: TLSA 3 1 1: 4 hex digits, not the 64 of a SHA-256"},
    {"tlsa2.zone", PINIMPORT_DNS,
     "a.example. IN TLSA 3 1 1 7f28fe2880989328fede8596977d07a840b709f7af0155ecde7728b888b30107\n",
     "tlsa2.zone:1: TLSA owner \"a.example.\": expected _PORT._PROTO.NAME"},
    {"tlsa3.zone", PINIMPORT_DNS, "_443._tcp.a.example. IN TLSA 3 1 1 (\n 00 )\n",
     "tlsa3.zone:1: records over several lines (parentheses) are not read"},
    {"caa.zone", PINIMPORT_DNS, "a.example. IN CAA 128 tbs \"x\"\n",
     "caa.zone:1: CAA: critical tag \"tbs\" is not understood"},
    {"chrome.json", PINIMPORT_CHROMIUM, "// x\n{\"pinsets\": [{\"name\": \"p\", \"hashes\": []}]}",
     "chrome.json: pinsets[0] (p): unknown key \"hashes\""},
    {"chrome2.json", PINIMPORT_CHROMIUM, "{\"entries\": [\n{\"name\": \"a.example\", \"pins\": \"nope\"}\n",
     "chrome2.json: not valid JSON"},
    {"pins.pins", PINIMPORT_CHROMIUM_PINS, "Name\nsha1/AAAA\n", "pins.pins:2: \"sha1/AAAA\": only SHA-256 pins"},
    {"nothing.txt", PINIMPORT_AUTO, "hello world\n", "nothing.txt: not a pin format pinscope reads"},
};

static void test_bad(void)
{
    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        const struct bad *b = &bads[i];
        struct pinimport *pi = pinimport_new(NULL, warn, NULL);
        char err[512] = "";
        int rc = pinimport_buffer(pi, b->name, b->text, strlen(b->text), b->fmt, err, sizeof(err));
        char descr[128];
        snprintf(descr, sizeof(descr), "refused: %s", b->name);
        test_cond(descr, rc == -1);
        if (!strstr(err, b->want))
            test_streq(descr, err, b->want);
        else
            test_cond(descr, !strchr(err, '\n'));
        pinimport_free(pi);
    }
}

static void test_caps(void)
{
    char err[512];
    /* Deep nesting: refused at the cap, no stack exhaustion. */
    size_t depth = 10000;
    char *deep = malloc(depth * 16 + 64);
    size_t o = 0;
    o += (size_t)sprintf(deep, "<network-security-config>");
    for (size_t i = 0; i < depth; i++)
        o += (size_t)sprintf(deep + o, "<domain-config>");
    struct pinimport *pi = pinimport_new(NULL, warn, NULL);
    int rc = pinimport_buffer(pi, "deep.xml", deep, o, PINIMPORT_AUTO, err, sizeof(err));
    test_cond("deep nesting refused", rc == -1 && strstr(err, "deep.xml:1: elements nested deeper than"));
    pinimport_free(pi);
    free(deep);

    /* A file over the size cap. */
    size_t big = (4u << 20) + 1;
    char *huge = malloc(big);
    memset(huge, ' ', big);
    memcpy(huge, "<network-security-config>", 25);
    pi = pinimport_new(NULL, warn, NULL);
    rc = pinimport_buffer(pi, "huge.xml", huge, big, PINIMPORT_AUTO, err, sizeof(err));
    test_cond("huge file refused", rc == -1 && strstr(err, "huge.xml: larger than"));
    pinimport_free(pi);
    free(huge);

    /* 33 pins for one name. */
    char *many = malloc(33 * 60 + 64);
    o = (size_t)sprintf(many, "a.example");
    for (int i = 0; i < 33; i++) {
        char pin[45];
        uint8_t v[POLICY_SPKI_LEN] = {(uint8_t)i, 1, 2};
        policy_pin_format(v, pin);
        o += (size_t)sprintf(many + o, " sha256/%s", pin);
    }
    pi = pinimport_new(NULL, warn, NULL);
    rc = pinimport_buffer(pi, "many.txt", many, o, PINIMPORT_OKHTTP, err, sizeof(err));
    test_cond("33 pins refused", rc == -1 && strstr(err, "many.txt:1: a.example: more than 32 pins"));
    pinimport_free(pi);
    free(many);

    /* NUL byte. */
    pi = pinimport_new(NULL, warn, NULL);
    rc = pinimport_buffer(pi, "nul.txt", "a\0b", 3, PINIMPORT_AUTO, err, sizeof(err));
    test_cond("NUL refused", rc == -1 && strstr(err, "nul.txt: a NUL byte"));
    pinimport_free(pi);
}

static void test_merge_and_backup(void)
{
    char err[512];
    const char *base = "{\"version\": 1, \"pin_sets\": [{\"domain\": \"example.com\", "
                       "\"pins\": [\"" P6 "\"], \"comment\": \"mine\"}]}";
    struct policy *p = policy_load_buffer("base.json", base, strlen(base), err, sizeof(err));
    struct pinimport *pi = pinimport_new(NULL, warn, NULL);
    size_t len;
    char *buf = slurp(DATA "android_nsc.xml", &len);
    test_cond("merge: import", buf && pinimport_buffer(pi, "nsc.xml", buf, len, PINIMPORT_AUTO, err,
                                                       sizeof(err)) == 0);
    struct pinimport_stats st;
    int w = n_warnings;
    test_cond("merge: finish", p && pinimport_finish(pi, p, &st, err, sizeof(err)) == 0);
    test_cond("merge: existing domain kept, others added", st.kept == 1 && st.pin_sets == 3);
    test_cond("merge: kept entry warned about", n_warnings == w + 1 && strstr(last_warning, "example.com"));
    const struct policy_pin_set *s = p ? policy_find_pinset(p, "example.com", 11) : NULL;
    test_cond("merge: hand-written entry unchanged",
              s && s->pins.n == 1 && s->comment && strcmp(s->comment, "mine") == 0);
    free(buf);
    pinimport_free(pi);
    policy_free(p);

    pi = pinimport_new(NULL, warn, NULL);
    pinimport_backup(pi, P3);
    const char *t = "a.example sha256/" P1 "\n";
    pinimport_buffer(pi, "b.txt", t, strlen(t), PINIMPORT_OKHTTP, err, sizeof(err));
    p = policy_new();
    test_cond("a --backup pin in no set is an error",
              pinimport_finish(pi, p, &st, err, sizeof(err)) == -1 && strstr(err, "in no imported"));
    policy_free(p);
    pinimport_free(pi);

    pi = pinimport_new(NULL, warn, NULL);
    pinimport_backup(pi, P1);
    pinimport_buffer(pi, "b.txt", t, strlen(t), PINIMPORT_OKHTTP, err, sizeof(err));
    p = policy_new();
    test_cond("a set of backups only is an error",
              pinimport_finish(pi, p, &st, err, sizeof(err)) == -1 && strstr(err, "every pin"));
    policy_free(p);
    pinimport_free(pi);
}

static void test_detect(void)
{
    static const struct {
        const char *file;
        enum pinimport_format f;
    } d[] = {
        {"android_nsc.xml", PINIMPORT_ANDROID},       {"okhttp_pinner.kt", PINIMPORT_OKHTTP},
        {"okhttp_lines.txt", PINIMPORT_OKHTTP},       {"trustkit_Info.plist", PINIMPORT_PLIST},
        {"ns_pinned_Info.plist", PINIMPORT_PLIST},    {"hpkp_header.txt", PINIMPORT_HPKP},
        {"hpkp_domains.txt", PINIMPORT_HPKP},         {"curl_pinnedpubkey.txt", PINIMPORT_CURL},
        {"curl_cmdlines.txt", PINIMPORT_CURL},        {"chromium_static.json", PINIMPORT_CHROMIUM},
        {"chromium.pins", PINIMPORT_CHROMIUM_PINS},   {"dns_tlsa_caa.zone", PINIMPORT_DNS},
    };
    for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
        char path[256], descr[128];
        snprintf(path, sizeof(path), DATA "%s", d[i].file);
        size_t len;
        char *buf = slurp(path, &len);
        snprintf(descr, sizeof(descr), "detect %s", d[i].file);
        test_streq(descr, buf ? pinimport_format_name(pinimport_detect(buf, len)) : "(unreadable)",
                   pinimport_format_name(d[i].f));
        free(buf);
    }
    test_cond("format names", pinimport_format_parse("trustkit") == PINIMPORT_PLIST &&
                                  pinimport_format_parse("tlsa") == PINIMPORT_DNS &&
                                  pinimport_format_parse("nope") == PINIMPORT_AUTO);
}

int main(void)
{
    test_android();
    test_okhttp();
    test_plists();
    test_hpkp_curl();
    test_chromium();
    test_dns();
    test_bad();
    test_caps();
    test_merge_and_backup();
    test_detect();
    return test_report();
}
