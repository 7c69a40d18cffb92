/*
 * test_dnsname.c - unit tests for util/dnsname.c: which names are public by
 * the Public Suffix List, their registered domains, and hostile input.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "config.h"
#include "policy/detect.h"
#include "testhelp.h"
#include "util/dnsname.h"

static void check_public(const char *name, bool want)
{
    bool got = dnsname_public(name);
    char descr[400];
    snprintf(descr, sizeof descr, "%s is %spublic", name ? name : "(null)", want ? "" : "not ");
    test_cond(descr, got == want);
    /* detect.c's test is this one */
    test_cond(descr, detect_public_looking(name) == want);
}

static void check_regdom(const char *name, const char *want)
{
    char buf[DNSNAME_MAX + 1];
    const char *got = dnsname_registered_domain(name, buf, sizeof buf);
    char descr[400];
    snprintf(descr, sizeof descr, "registered domain of %s", name ? name : "(null)");
    if (want) {
        test_streq(descr, got, want);
        test_cond("returned in buf", got == buf);
    } else {
        test_cond(descr, got == NULL);
        if (got)
            fprintf(stderr, "   got: %s\n", got);
    }
}

/* A string of n copies of c. */
static char *fill(char *p, char c, size_t n)
{
    memset(p, c, n);
    return p + n;
}

static void *thread_lookups(void *arg)
{
    int *bad = arg;
    char buf[DNSNAME_MAX + 1];
    for (int i = 0; i < 20000; i++) {
        const char *r = dnsname_registered_domain("a.b.www.bbc.co.uk", buf, sizeof buf);
        if (!dnsname_public("www.google.com") || dnsname_public("host.mylab") || !r ||
            strcmp(r, "bbc.co.uk") != 0)
            (*bad)++;
    }
    return NULL;
}

/* The per-thread cache answers a repeated name as the first lookup did,
 * keeps case and trailing dot apart, honours a short buffer on a hit, and
 * survives more names than it has slots (each replaced slot looked up
 * again). */
static void test_cache(void)
{
    char buf[DNSNAME_MAX + 1];
    for (int round = 0; round < 3; round++) {
        check_regdom("WWW.BBC.Co.UK.", "bbc.co.uk");
        check_regdom("www.bbc.co.uk", "bbc.co.uk");
        check_regdom("co.uk", NULL);
        check_regdom("host.mylab", NULL);
        check_public("co.uk", true);
        check_public("Host.MyLab.", false);
        test_cond("short buffer on a hit",
                  dnsname_registered_domain("www.bbc.co.uk", buf, 9) == NULL);
        test_cond("exact buffer on a hit",
                  dnsname_registered_domain("www.bbc.co.uk", buf, 10) == buf &&
                      strcmp(buf, "bbc.co.uk") == 0);
    }
    int bad = 0;
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 3 * CFG_DNSNAME_CACHE_SLOTS; i++) {
            char name[64], want[64];
            snprintf(name, sizeof name, "h%d.Site%d.co.uk", i, i % 977);
            snprintf(want, sizeof want, "site%d.co.uk", i % 977);
            const char *r = dnsname_registered_domain(name, buf, sizeof buf);
            if (!r || strcmp(r, want) != 0 || !dnsname_public(name))
                bad++;
            snprintf(name, sizeof name, "h%d.lab%d", i, i);
            if (dnsname_public(name) || dnsname_registered_domain(name, buf, sizeof buf))
                bad++;
        }
    test_cond("many names through the cache", bad == 0);

    /* Names of one set (the cache's FNV-1a index, 4 ways): more of them
     * than the set holds, asked in turn and repeated, answer every time
     * as the list does. */
    const char *same[8];
    static char names[8][64];
    size_t ns = 0;
    uint64_t want_set = 0;
    for (int i = 0; i < 2000000 && ns < 8; i++) {
        snprintf(names[ns], sizeof names[ns], "n%d.Site%d.co.uk", i, i % 7);
        uint64_t h = 0xcbf29ce484222325ull;
        for (const char *p = names[ns]; *p; p++)
            h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
        uint64_t set = (h ^ (h >> 29)) % (CFG_DNSNAME_CACHE_SLOTS / 4);
        if (ns == 0)
            want_set = set;
        if (set == want_set) {
            same[ns] = names[ns];
            ns++;
        }
    }
    bad = 0;
    for (int round = 0; round < 4; round++)
        for (size_t i = 0; i < ns; i++) {
            size_t k = round % 2 ? i : (i * 3) % ns;   /* two orders */
            char want[64];
            const char *site = strchr(same[k], '.') + 1;
            snprintf(want, sizeof want, "%s", site);
            for (char *p = want; *p; p++)
                *p = (char)tolower((unsigned char)*p);
            const char *r = dnsname_registered_domain(same[k], buf, sizeof buf);
            if (!r || strcmp(r, want) != 0 || !dnsname_public(same[k]))
                bad++;
        }
    test_cond("eight names of one set, in turn", ns == 8 && bad == 0);
}

int main(void)
{
    /* Lookups from several threads at once, the first ones of the process
     * (the list is set up by whichever comes first). */
    pthread_t t[4];
    int bad[4] = { 0 };
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, thread_lookups, &bad[i]);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    test_cond("threads agree", bad[0] + bad[1] + bad[2] + bad[3] == 0);

    /* Public: under a real ICANN suffix. */
    static const char *const public[] = {
        "www.google.com", "google.com", "foo.co.uk", "a.b.github.io", "github.io", "co.uk",
        "www.bbc.co.uk", "s3.amazonaws.com", "x.blogspot.com", "xn--80ak6aa92e.xn--p1ai",
        "foo.co.za", "x.city.kawasaki.jp", "a.b.kawasaki.jp", "www.ck", "example.edu",
        "mail.google", "a-b.c-d.de", "1.2.3.com", "123.example.io",
    };
    for (size_t i = 0; i < sizeof public / sizeof public[0]; i++)
        check_public(public[i], true);

    /* Not public: undelegated, special-use or reserved names. */
    static const char *const private[] = {
        "host.mylab", "wiki.acme.zz", "acme.zz", "printer.local", "x.test", "x.example",
        "x.invalid", "localhost", "x.localhost", "x.internal", "x.home.arpa", "home.arpa",
        "4.3.2.1.in-addr.arpa", "x.corp", "x.lan", "x.home", "x.intranet", "x.private",
        "x.localdomain", "localhost.localdomain", "x.alt", "abc.onion", "example.com",
        "www.example.com", "a.b.example.net", "EXAMPLE.ORG", "www.example.org.", "x.za",
        "www.pinscope.test", "intranet", "com", "uk", "",
    };
    for (size_t i = 0; i < sizeof private / sizeof private[0]; i++)
        check_public(private[i], false);
    check_public(NULL, false);

    /* The PSL lists the special names below only through its "*" rule;
     * each one on its own, under a public-looking label. */
    static const char *const special[] = {
        "test", "example", "invalid", "localhost", "local", "internal", "lan", "home",
        "corp", "intranet", "private", "arpa", "localdomain", "home.arpa", "onion",
    };
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "www.shop.%s", special[i]);
        check_public(name, false);
    }

    /* IP literals. */
    check_public("198.18.0.1", false);
    check_public("8.8.8.8", false);
    check_public("127.1", false);
    check_public("0x7f.1", false);
    check_public("::1", false);
    check_public("[2001:db8::1]", false);
    check_public("2001:db8::1", false);
    check_public("1.2.3.4.", false);

    /* Case, dots. */
    check_public("WWW.GOOGLE.COM", true);
    check_public("www.Google.Com.", true);
    check_public("www.google.com..", false);
    check_public(".www.google.com", false);
    check_public("www..google.com", false);
    check_public("..", false);
    check_public(".", false);
    check_public(".com", false);
    check_public("com.", false);

    /* Characters outside LDH. */
    check_public("*.google.com", false);
    check_public("*.example.com", false);
    check_public("a*.google.com", false);
    check_public("my_host.google.com", false);
    check_public("www.google.com:443", false);
    check_public("www google.com", false);
    check_public("www.google.com\n", false);
    check_public("b\xc3\xbc" "cher.de", false);   /* raw UTF-8: not an A-label */
    check_public("www.\xff.com", false);
    check_public("www.google.\xd1\x80\xd1\x84", false);
    check_public("-www.google.com", false);
    check_public("www-.google.com", false);
    check_public("www.google.com-", false);
    check_public("www.-.com", false);
    check_public("w-w.google.com", true);
    check_public("xn--bcher-kva.de", true);

    /* Lengths: labels of 63 and 64, names of 253, 254 and 300. */
    char name[512];
    char *p = fill(name, 'a', 63);
    strcpy(p, ".com");
    check_public(name, true);
    p = fill(name, 'a', 64);
    strcpy(p, ".com");
    check_public(name, false);
    for (size_t last = 57; last <= 58; last++) {   /* 3 x (63 + 1) + last + 4 */
        p = name;
        for (int i = 0; i < 3; i++) {
            p = fill(p, 'a', 63);
            *p++ = '.';
        }
        p = fill(p, 'b', last);
        strcpy(p, ".com");
        test_cond("253 or 254 characters", strlen(name) == 196 + last);
        check_public(name, last == 57);
        strcat(name, ".");   /* a trailing dot is not counted */
        check_public(name, last == 57);
    }
    p = name;
    for (int i = 0; i < 37; i++) {
        p = fill(p, 'a', 7);
        *p++ = '.';
    }
    strcpy(p, "example.co.uk");   /* 296 + 13 */
    test_cond("over 300 characters", strlen(name) > 300);
    check_public(name, false);
    check_regdom(name, NULL);
    p = name;
    for (int i = 0; i < 126; i++) {
        *p++ = 'a';
        *p++ = '.';
    }
    strcpy(p, "d");   /* 127 labels, 253 characters, last one unknown */
    check_public(name, false);
    memcpy(p - 2, "io", 3);   /* ...a.a.io: 126 labels */
    check_public(name, true);

    /* Registered domains. */
    check_regdom("www.bbc.co.uk", "bbc.co.uk");
    check_regdom("WWW.BBC.CO.UK.", "bbc.co.uk");
    check_regdom("bbc.co.uk", "bbc.co.uk");
    check_regdom("www.google.com", "google.com");
    check_regdom("a.b.c.d.e.f.g.h.i.j.google.com", "google.com");
    check_regdom("a.b.github.io", "b.github.io");
    check_regdom("mybucket.s3.amazonaws.com", "mybucket.s3.amazonaws.com");
    check_regdom("x.y.city.kawasaki.jp", "city.kawasaki.jp");
    check_regdom("x.y.kawasaki.jp", "x.y.kawasaki.jp");
    check_regdom("www.ck", "www.ck");
    check_regdom("shop.foo.co.za", "foo.co.za");
    check_regdom("xn--80ak6aa92e.xn--p1ai", "xn--80ak6aa92e.xn--p1ai");
    check_regdom("co.uk", NULL);
    check_regdom("github.io", NULL);
    check_regdom("com", NULL);
    check_regdom("host.mylab", NULL);
    check_regdom("wiki.acme.zz", NULL);
    check_regdom("www.example.com", NULL);
    check_regdom("x.home.arpa", NULL);
    check_regdom("198.18.0.1", NULL);
    check_regdom("*.bbc.co.uk", NULL);
    check_regdom("", NULL);
    check_regdom(NULL, NULL);

    /* The result must fit: "bbc.co.uk" needs 10 bytes. */
    char small[16];
    memset(small, 'Z', sizeof small);
    test_cond("fits in 10", dnsname_registered_domain("www.bbc.co.uk", small, 10) == small &&
                                strcmp(small, "bbc.co.uk") == 0);
    memset(small, 'Z', sizeof small);
    test_cond("not in 9", dnsname_registered_domain("www.bbc.co.uk", small, 9) == NULL &&
                              small[0] == 'Z');
    test_cond("not in 0", dnsname_registered_domain("www.bbc.co.uk", small, 0) == NULL);
    test_cond("no buffer", dnsname_registered_domain("www.bbc.co.uk", NULL, 10) == NULL);

    test_cache();
    return test_report();
}
