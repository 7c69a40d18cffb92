/*
 * test_sigdb.c - unit tests for policy/sigdb.c.
 *
 * Part 1 loads the shipped signatures/ directory (relative to the
 * repository root, where `make unit` runs; PINSCOPE_SIGDB overrides it)
 * and checks entry counts, that every entry carries a source, that issuer
 * names from the research table match their product (certificates are
 * hand-built struct x509_cert values: the matcher reads only the parsed
 * fields), that traits pick the more specific entry, and that the names of
 * ordinary public CAs match nothing; three small certificates made with
 * openssl (embedded below) go through x509_cert_parse() first, so the
 * names are exactly what x509/cert.c produces.
 *
 * Part 2 looks fingerprints up: one owner, several owners, counts beyond
 * the output array, unknown values.
 *
 * Part 3 writes broken files into a temporary directory and expects a
 * load error naming the file, the entry and the reason.
 */
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/sigdb.h"
#include "testhelp.h"
#include "util/jsonv.h"
#include "x509/cert.h"

#define SIGDB_DIR "signatures"

/* ---- hand-built certificates ---------------------------------------------- */

/* A certificate with only the fields the matcher reads.  Strings point to
 * literals; the struct is never passed to x509_cert_release(). */
static struct x509_cert mkcert(const char *subj_dn, const char *subj_cn, const char *subj_o,
                               const char *iss_dn, const char *iss_cn, const char *iss_o)
{
    struct x509_cert c;
    memset(&c, 0, sizeof c);
    c.version = 3;
    c.subject.dn = (char *)subj_dn;
    c.subject.cn = (char *)subj_cn;
    c.subject.o = (char *)subj_o;
    c.issuer.dn = (char *)iss_dn;
    c.issuer.cn = (char *)iss_cn;
    c.issuer.o = (char *)iss_o;
    c.skid = (char *)"0123456789abcdef0123456789abcdef01234567";
    c.not_before.valid = c.not_after.valid = true;
    c.not_before.epoch = 1700000000;
    c.not_after.epoch = 1700000000 + 90 * 86400;
    return c;
}

/* A leaf for www.example.com issued by (cn, o). */
static struct x509_cert leaf_from(const char *iss_dn, const char *iss_cn, const char *iss_o)
{
    return mkcert("CN=www.example.com", "www.example.com", NULL, iss_dn, iss_cn, iss_o);
}

/* id of the entry matching a one-certificate chain, or "(none)". */
static const char *match1(const struct sigdb *db, const struct x509_cert *leaf,
                          const struct sigdb_chain_facts *f)
{
    const struct x509_cert *chain[1] = {leaf};
    const struct sig_issuer *s = sigdb_match_chain(db, chain, 1, f);
    return s ? s->id : "(none)";
}

static const char *match2(const struct sigdb *db, const struct x509_cert *a,
                          const struct x509_cert *b, const struct sigdb_chain_facts *f)
{
    const struct x509_cert *chain[2] = {a, b};
    const struct sig_issuer *s = sigdb_match_chain(db, chain, 2, f);
    return s ? s->id : "(none)";
}

/* One leaf issued by (dn, cn, o), leaf sent alone, 90-day validity. */
static void expect_issuer(const struct sigdb *db, const char *dn, const char *cn, const char *o,
                          const char *want_id)
{
    struct x509_cert leaf = leaf_from(dn, cn, o);
    char d[256];
    snprintf(d, sizeof d, "issuer \"%s\"", dn);
    test_streq(d, match1(db, &leaf, NULL), want_id);
}

static void test_shipped_issuers(const struct sigdb *db)
{
    test_cond("issuer entries loaded", sigdb_issuer_count(db) == 53);
    for (size_t i = 0; i < sigdb_issuer_count(db); i++) {
        const struct sig_issuer *s = sigdb_issuer_at(db, i);
        test_cond("issuer entry has a source", s && s->source && *s->source);
        test_cond("issuer entry is known-interceptor", s && !strcmp(s->kind, "known-interceptor"));
        test_cond("issuer entry index", s && s->index == i);
    }
    test_cond("issuer_at past the end", sigdb_issuer_at(db, 53) == NULL);

    /* Names from the research table, as the products write them. */
    expect_issuer(db, "CN=avast! Web/Mail Shield Root,O=avast! Web/Mail Shield,C=CZ",
                  "avast! Web/Mail Shield Root", "avast! Web/Mail Shield", "avast-web-mail-shield");
    expect_issuer(db, "CN=AVG Web/Mail Shield Root", "AVG Web/Mail Shield Root", NULL,
                  "avg-web-mail-shield");
    expect_issuer(db, "CN=Bitdefender Personal CA.Net-Defender,O=Bitdefender",
                  "Bitdefender Personal CA.Net-Defender", "Bitdefender", "bitdefender-personal-ca");
    expect_issuer(db, "CN=Kaspersky Anti-Virus Personal Root Certificate,O=AO Kaspersky Lab,C=RU",
                  "Kaspersky Anti-Virus Personal Root Certificate", "AO Kaspersky Lab",
                  "kaspersky-personal-root");
    expect_issuer(db, "CN=Cisco Umbrella Primary SubCA,O=Cisco", "Cisco Umbrella Primary SubCA",
                  "Cisco", "cisco-umbrella-subca");
    expect_issuer(db, "CN=ContentKeeper Appliance CA (12),O=ContentKeeper Technologies",
                  "ContentKeeper Appliance CA (12)", "ContentKeeper Technologies",
                  "contentkeeper-appliance");
    expect_issuer(db, "CN=whatever,O=Cyberoam Certificate Authority", "whatever",
                  "Cyberoam Certificate Authority", "cyberoam-ca");
    expect_issuer(db, "CN=FortiGate CA,O=Fortinet", "FortiGate CA", "Fortinet", "fortigate-ca");
    expect_issuer(db, "CN=FGT60E,O=Fortinet Ltd.", "FGT60E", "Fortinet Ltd.", "fortinet-o");
    expect_issuer(db, "CN=Sophos SSL CA_C4A1B2-X9,O=Sophos", "Sophos SSL CA_C4A1B2-X9", "Sophos",
                  "sophos-ssl-ca");
    expect_issuer(db, "CN=Sophos_CA_ABC123", "Sophos_CA_ABC123", NULL, "sophos-ca");
    expect_issuer(db, "CN=ProxySG,O=Blue Coat Systems", "ProxySG", "Blue Coat Systems",
                  "bluecoat-proxysg");
    expect_issuer(db, "CN=IWSS.TREND", "IWSS.TREND", NULL, "trendmicro-iwss");
    expect_issuer(db, "CN=ca.sse-pe-prod.goskope.com,O=Integratel",
                  "ca.sse-pe-prod.goskope.com", "Integratel", "netskope-tenant-ca");
    expect_issuer(db, "CN=*.dfw3.goskope.com,O=Netskope Inc.", "*.dfw3.goskope.com",
                  "Netskope Inc.", "netskope-root");
    expect_issuer(db, "CN=Cloudflare for Teams ECC Certificate Authority,O=Cloudflare\\, Inc",
                  "Cloudflare for Teams ECC Certificate Authority", "Cloudflare, Inc",
                  "cloudflare-gateway-root");
    expect_issuer(db,
                  "CN=Gateway CA,OU=Gateway Intermediate ECC Certificate Authority,"
                  "O=Cloudflare\\, Inc.",
                  "Gateway CA", "Cloudflare, Inc.", "cloudflare-gateway-intermediate");
    expect_issuer(db, "CN=Superfish\\, Inc.,O=Superfish\\, Inc.", "Superfish, Inc.",
                  "Superfish, Inc.", "superfish");
    expect_issuer(db, "CN=eDellRoot", "eDellRoot", NULL, "dell-edellroot");
    expect_issuer(db, "CN=Qaznet Trust Network", "Qaznet Trust Network", NULL,
                  "qaznet-trust-network");
    expect_issuer(db, "CN=DO_NOT_TRUST_FiddlerRoot,OU=Created by http://www.fiddler2.com,"
                      "O=DO_NOT_TRUST",
                  "DO_NOT_TRUST_FiddlerRoot", "DO_NOT_TRUST", "fiddler-classic-root");
    expect_issuer(db, "CN=Renamed Root,OU=Created by http://www.fiddler2.com,O=Acme",
                  "Renamed Root", "Acme", "fiddler-ou");
    expect_issuer(db, "CN=Charles Proxy CA (2 Jan 2023\\, IPhone)",
                  "Charles Proxy CA (2 Jan 2023, IPhone)", NULL, "charles-per-install");
    expect_issuer(db, "CN=OWASP Zed Attack Proxy Root CA,OU=OWASP ZAP Root CA,O=OWASP Root CA",
                  "OWASP Zed Attack Proxy Root CA", "OWASP Root CA", "owasp-zap-root");
    /* OU inside a multi-valued RDN, after an escaped comma */
    expect_issuer(db, "CN=zap,OU=a\\,b+OU=OWASP ZAP Root CA,L=x", "zap", NULL, "owasp-zap-ou");
    expect_issuer(db, "CN=HTTP Toolkit CA - DO NOT TRUST", "HTTP Toolkit CA - DO NOT TRUST", NULL,
                  "http-toolkit-ca");
    expect_issuer(db, "CN=BadSSL MITM Software Test", "BadSSL MITM Software Test", NULL,
                  "badssl-mitm-test");
    /* case-insensitive */
    expect_issuer(db, "CN=MITMPROXY,O=MITMPROXY", "MITMPROXY", "MITMPROXY",
                  "mitmproxy-default-ca-leaf-only");

    /* The project's own test interception CA. */
    {
        struct x509_cert leaf = leaf_from("CN=Acme Corp SSL Inspection Root,O=Acme Corp",
                                          "Acme Corp SSL Inspection Root", "Acme Corp");
        const struct x509_cert *chain[1] = {&leaf};
        const struct sig_issuer *s = sigdb_match_chain(db, chain, 1, NULL);
        test_streq("acme test CA id", s ? s->id : NULL, "pinscope-test-acme-inspection");
        test_streq("acme test CA category", s ? s->category : NULL, "test");
        test_streq("acme test CA source", s ? s->source : NULL, "pinscope samples/make-samples.sh");
        test_streq("acme test CA matched", s ? s->matched : NULL, "issuer_cn_regex");
    }

    /* mitmproxy: leaf alone vs with its CA; trait-only entry. */
    {
        struct x509_cert leaf = leaf_from("CN=mitmproxy,O=mitmproxy", "mitmproxy", "mitmproxy");
        struct x509_cert ca = mkcert("CN=mitmproxy,O=mitmproxy", "mitmproxy", "mitmproxy",
                                     "CN=mitmproxy,O=mitmproxy", "mitmproxy", "mitmproxy");
        test_streq("mitmproxy leaf alone", match1(db, &leaf, NULL),
                   "mitmproxy-default-ca-leaf-only");
        test_streq("mitmproxy leaf + CA", match2(db, &leaf, &ca, NULL), "mitmproxy-default-ca");
        const struct x509_cert *chain[1] = {&leaf};
        const struct sig_issuer *s = sigdb_match_chain(db, chain, 1, NULL);
        test_streq("mitmproxy matched fields", s ? s->matched : NULL,
                   "issuer_cn_regex+issuer_o_regex+chain_length_1");
        test_streq("mitmproxy product", s ? s->product : NULL, "mitmproxy");

        /* facts.chain_length counts certificates that did not parse too */
        struct sigdb_chain_facts f = {.chain_length = 2};
        test_streq("facts chain length wins", match1(db, &leaf, &f), "mitmproxy-default-ca");

        /* renamed CA, minted leaf: key shared, no SKI, 367 days */
        struct x509_cert ml = leaf_from("CN=Corp Proxy CA", "Corp Proxy CA", NULL);
        ml.skid = NULL;
        ml.not_after.epoch = ml.not_before.epoch + 367 * 86400;
        struct x509_cert mca = mkcert("CN=Corp Proxy CA", "Corp Proxy CA", NULL,
                                      "CN=Corp Proxy CA", "Corp Proxy CA", NULL);
        memset(ml.spki_sha256_raw, 0xab, 32);
        memset(mca.spki_sha256_raw, 0xab, 32);
        test_streq("minted leaf, derived facts", match2(db, &ml, &mca, NULL),
                   "mitmproxy-style-minted-leaf");
        struct sigdb_chain_facts yes = {.leaf_shares_issuer_key = SIGDB_YES, .chain_length = 2,
                                        .has_validity_days = true, .validity_days = 367};
        test_streq("minted leaf, given facts", match1(db, &ml, &yes),
                   "mitmproxy-style-minted-leaf");
        struct sigdb_chain_facts unk = yes;
        unk.leaf_shares_issuer_key = SIGDB_UNKNOWN;
        test_streq("minted leaf, key sharing unknown", match1(db, &ml, &unk), "(none)");
        struct sigdb_chain_facts longer = yes;
        longer.validity_days = 398;
        test_streq("minted leaf, 398 days", match1(db, &ml, &longer), "(none)");
        ml.skid = (char *)"00";
        test_streq("minted leaf with SKI", match1(db, &ml, &yes), "(none)");
        memset(mca.spki_sha256_raw, 0xcd, 32);
        ml.skid = NULL;
        test_streq("different keys, derived facts", match2(db, &ml, &mca, NULL), "(none)");
    }

    /* Burp: by CA name, with the shared key, and by the leaf's subject OU. */
    {
        struct x509_cert leaf = mkcert("CN=example.com,OU=PortSwigger CA,O=PortSwigger,"
                                       "C=PortSwigger",
                                       "example.com", "PortSwigger",
                                       "CN=PortSwigger CA,OU=PortSwigger CA,O=PortSwigger,"
                                       "L=PortSwigger,ST=PortSwigger,C=PortSwigger",
                                       "PortSwigger CA", "PortSwigger");
        test_streq("burp by name", match1(db, &leaf, NULL), "burp-ca");
        struct sigdb_chain_facts f = {.leaf_shares_issuer_key = SIGDB_YES, .chain_length = 1};
        test_streq("burp shared key", match1(db, &leaf, &f), "burp-leaf-shares-key");
        struct x509_cert renamed = leaf;
        renamed.issuer.dn = (char *)"CN=Pentest CA,O=Red Team";
        renamed.issuer.cn = (char *)"Pentest CA";
        renamed.issuer.o = (char *)"Red Team";
        test_streq("burp leaf OU, renamed CA", match1(db, &renamed, NULL), "burp-leaf-ou");
        const struct x509_cert *chain[1] = {&renamed};
        struct sig_match m;
        sigdb_match_chain_ex(db, chain, 1, NULL, &m);
        test_cond("burp leaf OU: no issuer name role", m.sig && m.role == SIG_NAME_NONE);
    }

    /* ESET: the no-SKI trait picks the specific entry. */
    {
        struct x509_cert leaf = leaf_from("CN=ESET SSL Filter CA,O=ESET\\, spol. s r. o.,C=SK",
                                          "ESET SSL Filter CA", "ESET, spol. s r. o.");
        test_streq("eset with SKI", match1(db, &leaf, NULL), "eset-ssl-filter");
        leaf.skid = NULL;
        test_streq("eset without SKI", match1(db, &leaf, NULL), "eset-ssl-filter-no-ski");
    }

    /* Zscaler: short-lived leaf, ordinary leaf, root seen in the chain. */
    {
        struct x509_cert leaf = leaf_from(
            "CN=Zscaler Intermediate Root CA (zscalerthree.net) (t) ,OU=Zscaler Inc.,"
            "O=Zscaler Inc.,ST=California,C=US",
            "Zscaler Intermediate Root CA (zscalerthree.net) (t) ", "Zscaler Inc.");
        leaf.not_before.epoch = 1663372800; /* 2022-09-17 */
        leaf.not_after.epoch = 1664582400;  /* 2022-10-01 */
        test_streq("zscaler 14-day leaf", match1(db, &leaf, NULL),
                   "zscaler-intermediate-short-lived");
        leaf.not_after.epoch = leaf.not_before.epoch + 90 * 86400;
        test_streq("zscaler 90-day leaf", match1(db, &leaf, NULL), "zscaler-intermediate");
        leaf.not_after.valid = false;
        test_streq("zscaler, validity unknown", match1(db, &leaf, NULL), "zscaler-intermediate");

        /* leaf issued by a name we do not know, the chain carries the root:
         * the root's subject is the matching name */
        struct x509_cert l2 = leaf_from("CN=Proxy Leaf Issuer", "Proxy Leaf Issuer", NULL);
        struct x509_cert root = mkcert("CN=Zscaler Root CA,OU=Zscaler Inc.,O=Zscaler Inc.",
                                       "Zscaler Root CA", "Zscaler Inc.",
                                       "CN=Other,O=Other", "Other", "Other");
        const struct x509_cert *chain[3] = {&l2, NULL, &root};
        struct sig_match m;
        const struct sig_issuer *s = sigdb_match_chain_ex(db, chain, 3, NULL, &m);
        test_streq("zscaler root as a chain subject", s ? s->id : NULL, "zscaler-root");
        test_cond("role chain subject, index 2",
                  m.sig == s && m.role == SIG_NAME_CHAIN_SUBJECT && m.cert_index == 2);

        /* intermediate issued by the root: a chain issuer */
        struct x509_cert inter = mkcert("CN=Proxy Leaf Issuer", "Proxy Leaf Issuer", NULL,
                                        "CN=Zscaler Root CA,O=Zscaler Inc.", "Zscaler Root CA",
                                        "Zscaler Inc.");
        const struct x509_cert *chain2[2] = {&l2, &inter};
        s = sigdb_match_chain_ex(db, chain2, 2, NULL, &m);
        test_streq("zscaler root as a chain issuer", s ? s->id : NULL, "zscaler-root");
        test_cond("role chain issuer, index 1",
                  m.role == SIG_NAME_CHAIN_ISSUER && m.cert_index == 1);
        s = sigdb_match_chain_ex(db, chain2, 1, NULL, &m);
        test_cond("n limits the chain", s == NULL && m.sig == NULL);
    }

    /* Ordinary public CAs and sites: nothing. */
    static const struct { const char *dn, *cn, *o; } pub[] = {
        {"CN=R3,O=Let's Encrypt,C=US", "R3", "Let's Encrypt"},
        {"CN=E6,O=Let's Encrypt,C=US", "E6", "Let's Encrypt"},
        {"CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1,O=DigiCert Inc,C=US",
         "DigiCert Global G2 TLS RSA SHA256 2020 CA1", "DigiCert Inc"},
        {"CN=GTS CA 1C3,O=Google Trust Services LLC,C=US", "GTS CA 1C3",
         "Google Trust Services LLC"},
        {"CN=WR2,O=Google Trust Services,C=US", "WR2", "Google Trust Services"},
        {"CN=Cloudflare Inc ECC CA-3,O=Cloudflare\\, Inc.,C=US", "Cloudflare Inc ECC CA-3",
         "Cloudflare, Inc."},
        {"CN=Amazon RSA 2048 M02,O=Amazon,C=US", "Amazon RSA 2048 M02", "Amazon"},
        {"CN=Sectigo RSA Domain Validation Secure Server CA,O=Sectigo Limited,L=Salford,"
         "ST=Greater Manchester,C=GB",
         "Sectigo RSA Domain Validation Secure Server CA", "Sectigo Limited"},
        {"CN=Trustwave Organization Validation SHA256 CA\\, Level 1,O=Trustwave Holdings\\, "
         "Inc.,L=Chicago,ST=Illinois,C=US",
         "Trustwave Organization Validation SHA256 CA, Level 1", "Trustwave Holdings, Inc."},
        {"CN=Microsoft Azure RSA TLS Issuing CA 03,O=Microsoft Corporation,C=US",
         "Microsoft Azure RSA TLS Issuing CA 03", "Microsoft Corporation"},
        {"CN=Thawte TLS RSA CA G1,OU=www.digicert.com,O=DigiCert Inc,C=US",
         "Thawte TLS RSA CA G1", "DigiCert Inc"},
        {"CN=Zscaler Root CA,O=Not Zscaler Inc.", "Zscaler Root CA", "Not Zscaler Inc."},
        {"", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof pub / sizeof pub[0]; i++) {
        struct x509_cert leaf = leaf_from(pub[i].dn, pub[i].cn, pub[i].o);
        struct x509_cert inter = mkcert(pub[i].dn, pub[i].cn, pub[i].o,
                                        "CN=ISRG Root X1,O=Internet Security Research Group,C=US",
                                        "ISRG Root X1", "Internet Security Research Group");
        char d[256];
        snprintf(d, sizeof d, "public CA \"%s\" leaf alone", pub[i].dn);
        test_streq(d, match1(db, &leaf, NULL), "(none)");
        snprintf(d, sizeof d, "public CA \"%s\" with intermediate", pub[i].dn);
        test_streq(d, match2(db, &leaf, &inter, NULL), "(none)");
        leaf.skid = NULL;
        leaf.not_after.epoch = leaf.not_before.epoch + 6 * 86400; /* short-lived, no SKI */
        snprintf(d, sizeof d, "public CA \"%s\" short-lived leaf without SKI", pub[i].dn);
        test_streq(d, match1(db, &leaf, NULL), "(none)");
    }
    /* a vendor's own site, with a public CA: the leaf subject is not a CA name */
    {
        struct x509_cert leaf = mkcert("CN=www.fortinet.com,O=Fortinet,C=US", "www.fortinet.com",
                                       "Fortinet", "CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1,"
                                                   "O=DigiCert Inc,C=US",
                                       "DigiCert Global G2 TLS RSA SHA256 2020 CA1", "DigiCert Inc");
        test_streq("vendor site subject", match1(db, &leaf, NULL), "(none)");
        struct x509_cert zs = mkcert("CN=*.zscaler.net,O=Zscaler Inc.", "*.zscaler.net",
                                     "Zscaler Inc.", "CN=R3,O=Let's Encrypt,C=US", "R3",
                                     "Let's Encrypt");
        test_streq("zscaler's own site", match1(db, &zs, NULL), "(none)");
    }
    test_cond("NULL db", sigdb_match_chain(NULL, NULL, 0, NULL) == NULL);
    {
        const struct x509_cert *chain[1] = {NULL};
        test_cond("unparsed leaf only", sigdb_match_chain(db, chain, 1, NULL) == NULL);
    }
    test_streq("field name", sigdb_field_name(SIG_F_SUBJECT_OU), "subject_ou_regex");
    test_streq("field name, bad", sigdb_field_name(3), "?");
}

/* ---- real certificates ----------------------------------------------------
 *
 * Made once with the openssl 3.0 command-line tool, so the names go through
 * x509/cert.c exactly as captured ones do (RFC 4514 string, escapes):
 *   der_burp_ca    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256
 *                    -days 30 -subj "/ST=PortSwigger/L=PortSwigger/O=PortSwigger/
 *                    OU=PortSwigger CA/CN=PortSwigger CA"
 *   der_burp_leaf  openssl req -new -key ca.key -subj "/O=PortSwigger/
 *                    OU=PortSwigger CA/CN=example.com" | openssl x509 -req -CA ca.pem
 *                    -CAkey ca.key -days 30 -set_serial 7
 *                  (signed by der_burp_ca with the CA's own key, no SKI: Burp's traits)
 *   der_burp_ou    openssl req -x509 -key ca.key -days 30 -set_serial 9
 *                    -subj "/O=PortSwigger/OU=PortSwigger CA/CN=renamed.example"
 *                  (a self-signed leaf with Burp's subject but another issuer name)
 * The matcher does not look at dates, so their expiry does not matter.
 */
static const unsigned char der_burp_ca[] = {
    0x30, 0x82, 0x02, 0x3c, 0x30, 0x82, 0x01, 0xe3, 0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x14, 0x62,
    0x40, 0xc6, 0x43, 0x17, 0xa6, 0x9f, 0xc1, 0x5b, 0x8c, 0xcd, 0xa9, 0x7a, 0xe2, 0x97, 0xc1, 0x6d,
    0xff, 0x13, 0xbf, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x30,
    0x74, 0x31, 0x14, 0x30, 0x12, 0x06, 0x03, 0x55, 0x04, 0x08, 0x0c, 0x0b, 0x50, 0x6f, 0x72, 0x74,
    0x53, 0x77, 0x69, 0x67, 0x67, 0x65, 0x72, 0x31, 0x14, 0x30, 0x12, 0x06, 0x03, 0x55, 0x04, 0x07,
    0x0c, 0x0b, 0x50, 0x6f, 0x72, 0x74, 0x53, 0x77, 0x69, 0x67, 0x67, 0x65, 0x72, 0x31, 0x14, 0x30,
    0x12, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x0c, 0x0b, 0x50, 0x6f, 0x72, 0x74, 0x53, 0x77, 0x69, 0x67,
    0x67, 0x65, 0x72, 0x31, 0x17, 0x30, 0x15, 0x06, 0x03, 0x55, 0x04, 0x0b, 0x0c, 0x0e, 0x50, 0x6f,
    0x72, 0x74, 0x53, 0x77, 0x69, 0x67, 0x67, 0x65, 0x72, 0x20, 0x43, 0x41, 0x31, 0x17, 0x30, 0x15,
    0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x0e, 0x50, 0x6f, 0x72, 0x74, 0x53, 0x77, 0x69, 0x67, 0x67,
    0x65, 0x72, 0x20, 0x43, 0x41, 0x30, 0x1e, 0x17, 0x0d, 0x32, 0x36, 0x31, 0x31, 0x32, 0x35, 0x32,
    0x30, 0x34, 0x33, 0x31, 0x38, 0x5a, 0x17, 0x0d, 0x32, 0x36, 0x31, 0x32, 0x32, 0x35, 0x32, 0x30,
    0x34, 0x33, 0x31, 0x38, 0x5a, 0x30, 0x74, 0x31, 0x14, 0x30, 0x12, 0x06, 0x03, 0x55, 0x04, 0x08,
    0x0c, 0x0b, 0x50, 0x6f, 0x72, 0x74, 0x53, 0x77, 0x69, 0x67, 0x67, 0x65, 0x72, 0x31, 0x14, 0x30,
    0x12, 0x06, 0x03, 0x55, 0x04, 0x07, 0x0c, 0x0b, 0x50, 0x6f, 0x72, 0x74, 0x53, 0x77, 0x69, 0x67,
    0x67, 0x65, 0x72, 0x31, 0x14, 0x30, 0x12, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x0c, 0x0b, 0x50, 0x6f,
    0x72, 0x74, 0x53, 0x77, 0x69, 0x67, 0x67, 0x65, 0x72, 0x31, 0x17, 0x30, 0x15, 0x06, 0x03, 0x55,
    0x04, 0x0b, 0x0c, 0x0e, 0x50, 0x6f, 0x72, 0x74, 0x53, 0x77, 0x69, 0x67, 0x67, 0x65, 0x72, 0x20,
    0x43, 0x41, 0x31, 0x17, 0x30, 0x15, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x0e, 0x50, 0x6f, 0x72,
    0x74, 0x53, 0x77, 0x69, 0x67, 0x67, 0x65, 0x72, 0x20, 0x43, 0x41, 0x30, 0x59, 0x30, 0x13, 0x06,
    0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03,
    0x01, 0x07, 0x03, 0x42, 0x00, 0x04, 0x8c, 0xbd, 0xd4, 0x58, 0x73, 0x54, 0xc4, 0x59, 0xc9, 0x64,
    0x80, 0xb8, 0x10, 0x8d, 0x40, 0x5c, 0xea, 0xc8, 0xa0, 0x6e, 0xa1, 0x0e, 0xea, 0xd1, 0x61, 0xa0,
    0x02, 0x8b, 0x6e, 0x64, 0xb2, 0xad, 0x16, 0xae, 0x53, 0xa6, 0xac, 0x8e, 0x6e, 0xc4, 0x40, 0xd0,
    0xe2, 0x9f, 0x1e, 0x3c, 0x6e, 0x8a, 0x97, 0x0b, 0xaf, 0xb8, 0x74, 0x93, 0x3e, 0xbc, 0x6c, 0x40,
    0x94, 0x73, 0xcf, 0x10, 0x45, 0x52, 0xa3, 0x53, 0x30, 0x51, 0x30, 0x1d, 0x06, 0x03, 0x55, 0x1d,
    0x0e, 0x04, 0x16, 0x04, 0x14, 0xf0, 0x81, 0xde, 0x4e, 0x2d, 0x59, 0xab, 0x92, 0xf4, 0xd1, 0x1d,
    0x13, 0x06, 0x8b, 0x3d, 0xc1, 0x6e, 0x43, 0x54, 0x54, 0x30, 0x1f, 0x06, 0x03, 0x55, 0x1d, 0x23,
    0x04, 0x18, 0x30, 0x16, 0x80, 0x14, 0xf0, 0x81, 0xde, 0x4e, 0x2d, 0x59, 0xab, 0x92, 0xf4, 0xd1,
    0x1d, 0x13, 0x06, 0x8b, 0x3d, 0xc1, 0x6e, 0x43, 0x54, 0x54, 0x30, 0x0f, 0x06, 0x03, 0x55, 0x1d,
    0x13, 0x01, 0x01, 0xff, 0x04, 0x05, 0x30, 0x03, 0x01, 0x01, 0xff, 0x30, 0x0a, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x03, 0x47, 0x00, 0x30, 0x44, 0x02, 0x20, 0x77, 0xb2,
    0x48, 0x25, 0xb3, 0x82, 0xa2, 0xc9, 0x3f, 0x6b, 0x5f, 0xb5, 0x80, 0x18, 0x5e, 0x74, 0xcb, 0x81,
    0xa1, 0xb2, 0xd1, 0x53, 0xcf, 0x5c, 0xef, 0x4e, 0x03, 0xde, 0x29, 0xe9, 0xe0, 0x32, 0x02, 0x20,
    0x20, 0x55, 0x60, 0x9d, 0x1c, 0x1b, 0xdf, 0x7e, 0xcf, 0x88, 0x5d, 0xfc, 0x78, 0x1c, 0xfb, 0xcb,
    0x56, 0xa3, 0x95, 0x92, 0xad, 0x2b, 0x6b, 0xd5, 0xb5, 0xc6, 0x87, 0x90, 0x5c, 0x5f, 0x9d, 0x48,
};
static const unsigned char der_burp_leaf[] = {
    0x30, 0x82, 0x01, 0xa1, 0x30, 0x82, 0x01, 0x47, 0x02, 0x01, 0x07, 0x30, 0x0a, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x30, 0x74, 0x31, 0x14, 0x30, 0x12, 0x06, 0x03, 0x55,
    0x04, 0x08, 0x0c, 0x0b, 0x50, 0x6f, 0x72, 0x74, 0x53, 0x77, 0x69, 0x67, 0x67, 0x65, 0x72, 0x31,
    0x14, 0x30, 0x12, 0x06, 0x03, 0x55, 0x04, 0x07, 0x0c, 0x0b, 0x50, 0x6f, 0x72, 0x74, 0x53, 0x77,
    0x69, 0x67, 0x67, 0x65, 0x72, 0x31, 0x14, 0x30, 0x12, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x0c, 0x0b,
    0x50, 0x6f, 0x72, 0x74, 0x53, 0x77, 0x69, 0x67, 0x67, 0x65, 0x72, 0x31, 0x17, 0x30, 0x15, 0x06,
    0x03, 0x55, 0x04, 0x0b, 0x0c, 0x0e, 0x50, 0x6f, 0x72, 0x74, 0x53, 0x77, 0x69, 0x67, 0x67, 0x65,
    0x72, 0x20, 0x43, 0x41, 0x31, 0x17, 0x30, 0x15, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x0e, 0x50,
    0x6f, 0x72, 0x74, 0x53, 0x77, 0x69, 0x67, 0x67, 0x65, 0x72, 0x20, 0x43, 0x41, 0x30, 0x1e, 0x17,
    0x0d, 0x32, 0x36, 0x31, 0x31, 0x32, 0x35, 0x32, 0x30, 0x34, 0x33, 0x31, 0x38, 0x5a, 0x17, 0x0d,
    0x32, 0x36, 0x31, 0x32, 0x32, 0x35, 0x32, 0x30, 0x34, 0x33, 0x31, 0x38, 0x5a, 0x30, 0x45, 0x31,
    0x14, 0x30, 0x12, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x0c, 0x0b, 0x50, 0x6f, 0x72, 0x74, 0x53, 0x77,
    0x69, 0x67, 0x67, 0x65, 0x72, 0x31, 0x17, 0x30, 0x15, 0x06, 0x03, 0x55, 0x04, 0x0b, 0x0c, 0x0e,
    0x50, 0x6f, 0x72, 0x74, 0x53, 0x77, 0x69, 0x67, 0x67, 0x65, 0x72, 0x20, 0x43, 0x41, 0x31, 0x14,
    0x30, 0x12, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x0b, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
    0x2e, 0x63, 0x6f, 0x6d, 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
    0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04, 0x8c,
    0xbd, 0xd4, 0x58, 0x73, 0x54, 0xc4, 0x59, 0xc9, 0x64, 0x80, 0xb8, 0x10, 0x8d, 0x40, 0x5c, 0xea,
    0xc8, 0xa0, 0x6e, 0xa1, 0x0e, 0xea, 0xd1, 0x61, 0xa0, 0x02, 0x8b, 0x6e, 0x64, 0xb2, 0xad, 0x16,
    0xae, 0x53, 0xa6, 0xac, 0x8e, 0x6e, 0xc4, 0x40, 0xd0, 0xe2, 0x9f, 0x1e, 0x3c, 0x6e, 0x8a, 0x97,
    0x0b, 0xaf, 0xb8, 0x74, 0x93, 0x3e, 0xbc, 0x6c, 0x40, 0x94, 0x73, 0xcf, 0x10, 0x45, 0x52, 0x30,
    0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x03, 0x48, 0x00, 0x30, 0x45,
    0x02, 0x21, 0x00, 0xb3, 0x0f, 0xcc, 0x62, 0xcf, 0x36, 0xf1, 0x38, 0xa4, 0x87, 0xec, 0xad, 0x05,
    0xd6, 0x48, 0xc0, 0x47, 0xb0, 0x87, 0xe0, 0xdf, 0x44, 0x59, 0x45, 0xd4, 0xe9, 0xee, 0xfa, 0x38,
    0xe4, 0x78, 0x61, 0x02, 0x20, 0x3d, 0x1c, 0x43, 0x00, 0x98, 0x5b, 0x0a, 0xbe, 0xc5, 0x0c, 0xff,
    0x52, 0x89, 0xd6, 0xdb, 0x66, 0xd9, 0x2e, 0xb1, 0x34, 0xa2, 0x74, 0x23, 0xa3, 0xd8, 0xa9, 0xf2,
    0xac, 0x92, 0xb5, 0xac, 0x4c,
};
static const unsigned char der_burp_ou[] = {
    0x30, 0x82, 0x01, 0xd3, 0x30, 0x82, 0x01, 0x7a, 0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x01, 0x09,
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x30, 0x49, 0x31, 0x14,
    0x30, 0x12, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x0c, 0x0b, 0x50, 0x6f, 0x72, 0x74, 0x53, 0x77, 0x69,
    0x67, 0x67, 0x65, 0x72, 0x31, 0x17, 0x30, 0x15, 0x06, 0x03, 0x55, 0x04, 0x0b, 0x0c, 0x0e, 0x50,
    0x6f, 0x72, 0x74, 0x53, 0x77, 0x69, 0x67, 0x67, 0x65, 0x72, 0x20, 0x43, 0x41, 0x31, 0x18, 0x30,
    0x16, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x0f, 0x72, 0x65, 0x6e, 0x61, 0x6d, 0x65, 0x64, 0x2e,
    0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x30, 0x1e, 0x17, 0x0d, 0x32, 0x36, 0x31, 0x31, 0x32,
    0x35, 0x32, 0x30, 0x34, 0x33, 0x33, 0x33, 0x5a, 0x17, 0x0d, 0x32, 0x36, 0x31, 0x32, 0x32, 0x35,
    0x32, 0x30, 0x34, 0x33, 0x33, 0x33, 0x5a, 0x30, 0x49, 0x31, 0x14, 0x30, 0x12, 0x06, 0x03, 0x55,
    0x04, 0x0a, 0x0c, 0x0b, 0x50, 0x6f, 0x72, 0x74, 0x53, 0x77, 0x69, 0x67, 0x67, 0x65, 0x72, 0x31,
    0x17, 0x30, 0x15, 0x06, 0x03, 0x55, 0x04, 0x0b, 0x0c, 0x0e, 0x50, 0x6f, 0x72, 0x74, 0x53, 0x77,
    0x69, 0x67, 0x67, 0x65, 0x72, 0x20, 0x43, 0x41, 0x31, 0x18, 0x30, 0x16, 0x06, 0x03, 0x55, 0x04,
    0x03, 0x0c, 0x0f, 0x72, 0x65, 0x6e, 0x61, 0x6d, 0x65, 0x64, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70,
    0x6c, 0x65, 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
    0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04, 0x8c, 0xbd, 0xd4,
    0x58, 0x73, 0x54, 0xc4, 0x59, 0xc9, 0x64, 0x80, 0xb8, 0x10, 0x8d, 0x40, 0x5c, 0xea, 0xc8, 0xa0,
    0x6e, 0xa1, 0x0e, 0xea, 0xd1, 0x61, 0xa0, 0x02, 0x8b, 0x6e, 0x64, 0xb2, 0xad, 0x16, 0xae, 0x53,
    0xa6, 0xac, 0x8e, 0x6e, 0xc4, 0x40, 0xd0, 0xe2, 0x9f, 0x1e, 0x3c, 0x6e, 0x8a, 0x97, 0x0b, 0xaf,
    0xb8, 0x74, 0x93, 0x3e, 0xbc, 0x6c, 0x40, 0x94, 0x73, 0xcf, 0x10, 0x45, 0x52, 0xa3, 0x53, 0x30,
    0x51, 0x30, 0x1d, 0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04, 0x16, 0x04, 0x14, 0xf0, 0x81, 0xde, 0x4e,
    0x2d, 0x59, 0xab, 0x92, 0xf4, 0xd1, 0x1d, 0x13, 0x06, 0x8b, 0x3d, 0xc1, 0x6e, 0x43, 0x54, 0x54,
    0x30, 0x1f, 0x06, 0x03, 0x55, 0x1d, 0x23, 0x04, 0x18, 0x30, 0x16, 0x80, 0x14, 0xf0, 0x81, 0xde,
    0x4e, 0x2d, 0x59, 0xab, 0x92, 0xf4, 0xd1, 0x1d, 0x13, 0x06, 0x8b, 0x3d, 0xc1, 0x6e, 0x43, 0x54,
    0x54, 0x30, 0x0f, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff, 0x04, 0x05, 0x30, 0x03, 0x01,
    0x01, 0xff, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x03, 0x47,
    0x00, 0x30, 0x44, 0x02, 0x20, 0x6f, 0x2e, 0xc4, 0xaf, 0x4a, 0xb5, 0x0d, 0x88, 0xbb, 0x8e, 0x79,
    0x42, 0x87, 0x34, 0xfc, 0xdb, 0xd2, 0x8a, 0x62, 0x26, 0x0d, 0x5c, 0x6f, 0x37, 0xfc, 0x83, 0x51,
    0x3e, 0xc6, 0x1e, 0x9a, 0x82, 0x02, 0x20, 0x66, 0x26, 0x74, 0x5e, 0x34, 0x04, 0xfd, 0x36, 0x07,
    0xc2, 0xb0, 0x7b, 0xd0, 0xbe, 0xa1, 0x96, 0xc2, 0xec, 0xab, 0xa2, 0xbe, 0x22, 0xe8, 0x54, 0xdb,
    0xa1, 0xc4, 0x0b, 0x71, 0x87, 0x55, 0x1e,
};

static void test_real_certs(const struct sigdb *db)
{
    struct x509_cert ca, leaf, ou;
    int rc1 = x509_cert_parse(der_burp_ca, sizeof der_burp_ca, &ca);
    int rc2 = x509_cert_parse(der_burp_leaf, sizeof der_burp_leaf, &leaf);
    int rc3 = x509_cert_parse(der_burp_ou, sizeof der_burp_ou, &ou);
    test_cond("real certificates parse", rc1 == 0 && rc2 == 0 && rc3 == 0);
    if (rc1 == 0 && rc2 == 0 && rc3 == 0) {
        const struct x509_cert *chain[2] = {&leaf, &ca};
        struct sig_match m;
        const struct sig_issuer *s = sigdb_match_chain_ex(db, chain, 2, NULL, &m);
        test_streq("burp leaf + CA, derived facts", s ? s->id : NULL, "burp-leaf-shares-key");
        test_cond("burp: the leaf's issuer matched", m.role == SIG_NAME_LEAF_ISSUER &&
                                                         m.cert_index == 0);
        test_streq("burp leaf alone", match1(db, &leaf, NULL), "burp-ca");
        test_streq("burp subject OU, real DN", match1(db, &ou, NULL), "burp-leaf-ou");
        test_streq("burp subject OU, CA sent", match2(db, &ou, &ca, NULL),
                   "burp-leaf-shares-key");
    }
    x509_cert_release(&ca);
    x509_cert_release(&leaf);
    x509_cert_release(&ou);
}

/* ---- fingerprints --------------------------------------------------------- */

static void test_shipped_fps(const struct sigdb *db)
{
    test_cond("fingerprint entries loaded", sigdb_fp_count(db) == 503);
    const struct sig_fp *out[16];

    size_t n = sigdb_find_fingerprint(db, SIG_FP_JA4, "t13d1516h2_8daaf6152771_02713d6af862", out,
                                      16);
    test_cond("chrome ja4: one entry", n == 1);
    if (n == 1) {
        test_streq("chrome ja4 application", out[0]->application, "Chromium Browser");
        test_cond("chrome ja4 known-good", out[0]->kind == SIG_KIND_KNOWN_GOOD);
        test_streq("chrome ja4 kind name", out[0]->kind_name, "known-good");
        test_streq("chrome ja4 source", out[0]->source,
                   "FoxIO-LLC/ja4 ja4plus-mapping.csv @0e54bc83");
    }
    test_cond("chrome ja4 as ja4s: nothing",
              sigdb_find_fingerprint(db, SIG_FP_JA4S, "t13d1516h2_8daaf6152771_02713d6af862", out,
                                     16) == 0);

    /* one value, several applications, in file order */
    n = sigdb_find_fingerprint(db, SIG_FP_JA4, "t13d190900_9dc949149365_97f8aa674fd9", out, 16);
    test_cond("go ja4: two entries", n == 2);
    if (n == 2) {
        test_streq("go ja4 first", out[0]->application, "GoLang");
        test_cond("go ja4 first is a library", out[0]->kind == SIG_KIND_LIBRARY);
        test_streq("go ja4 second", out[1]->application, "Sliver Agent / GoLang");
        test_cond("go ja4 second is suspicious", out[1]->kind == SIG_KIND_SUSPICIOUS);
        test_cond("file order", out[0]->index < out[1]->index);
    }

    /* abuse.ch lists a value that a Chrome build also sends */
    n = sigdb_find_fingerprint(db, SIG_FP_JA3, "bc6c386f480ee97b9d9e52d472b772d8", out, 16);
    test_cond("shared ja3: two entries", n == 2);
    if (n == 2) {
        test_cond("shared ja3: known-good and suspicious",
                  out[0]->kind == SIG_KIND_KNOWN_GOOD && out[1]->kind == SIG_KIND_SUSPICIOUS);
        test_streq("shared ja3: chrome", out[0]->application, "Google Chrome");
    }

    /* interception product upstream hellos */
    n = sigdb_find_fingerprint(db, SIG_FP_JA3, "a4638857df8779005018c03226c67b56", out, 16);
    test_cond("avg ja3: four captures", n == 4);
    for (size_t i = 0; i < n && i < 16; i++)
        test_cond("avg ja3 known-interceptor", out[i]->kind == SIG_KIND_KNOWN_INTERCEPTOR);
    n = sigdb_find_fingerprint(db, SIG_FP_JA3, "4d01f8b1afc22e138127611b62f1e6ec", out, 16);
    test_cond("mitmproxy ja3", n == 1 && out[0]->kind == SIG_KIND_KNOWN_INTERCEPTOR &&
                                   !strcmp(out[0]->application, "mitmproxy"));

    /* more entries than room: the total comes back, max are written */
    const struct sig_fp *two[2] = {NULL, NULL};
    n = sigdb_find_fingerprint(db, SIG_FP_JA3, "a4638857df8779005018c03226c67b56", two, 1);
    test_cond("total beyond max", n == 4 && two[0] != NULL && two[1] == NULL);
    test_cond("count only", sigdb_find_fingerprint(db, SIG_FP_JA3,
                                                   "a4638857df8779005018c03226c67b56", NULL,
                                                   0) == 4);

    n = sigdb_find_fingerprint(db, SIG_FP_JA4S, "t120300_c030_52d195ce1d92", out, 16);
    test_cond("cobalt strike ja4s, duplicates merged",
              n == 1 && out[0]->kind == SIG_KIND_SUSPICIOUS && out[0]->type == SIG_FP_JA4S);

    test_cond("unknown value",
              sigdb_find_fingerprint(db, SIG_FP_JA3, "00000000000000000000000000000000", out,
                                     16) == 0);
    test_cond("upper case is not folded",
              sigdb_find_fingerprint(db, SIG_FP_JA3, "BC6C386F480EE97B9D9E52D472B772D8", out,
                                     16) == 0);
    test_cond("empty value", sigdb_find_fingerprint(db, SIG_FP_JA4, "", out, 16) == 0);
    test_cond("NULL value", sigdb_find_fingerprint(db, SIG_FP_JA4, NULL, out, 16) == 0);
    test_cond("bad type", sigdb_find_fingerprint(db, (enum sig_fp_type)9, "x", out, 16) == 0);
    test_streq("type name", sigdb_fp_type_name(SIG_FP_JA4S), "ja4s");

    /* values of each type and source are found, with their source */
    size_t bad = 0;
    static const char *const probes[][2] = {
        {"ja4", "q13d0312h3_55b375c5d22e_06cda9e17597"},
        {"ja4", "t10i140000_dd360c240afb_000000000000"},
        {"ja4s", "t130200_1301_a56c5b993250"},
        {"ja3", "c3ca411515180e79c765dc2c3c8cea88"},
    };
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        enum sig_fp_type t = !strcmp(probes[i][0], "ja4")    ? SIG_FP_JA4
                             : !strcmp(probes[i][0], "ja4s") ? SIG_FP_JA4S
                                                             : SIG_FP_JA3;
        n = sigdb_find_fingerprint(db, t, probes[i][1], out, 16);
        if (n == 0 || !out[0]->source || !*out[0]->source)
            bad++;
    }
    test_cond("probe values found with sources", bad == 0);
}

/* ---- broken files --------------------------------------------------------- */

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

#define ISS_OK                                                                                  \
    "{\"id\":\"ok-1\",\"product\":\"P\",\"category\":\"test\",\"kind\":\"known-interceptor\","  \
    "\"match\":{\"issuer_cn_regex\":\"^P CA$\"},\"source\":\"here\"}"
#define FP_OK                                                                                   \
    "{\"type\":\"ja4\",\"value\":\"t13d1516h2_8daaf6152771_02713d6af862\",\"application\":\"C\"," \
    "\"category\":\"browser\",\"kind\":\"known-good\",\"source\":\"here\"}"

static const char *wrap(char *buf, size_t len, const char *entries)
{
    snprintf(buf, len, "{\"version\":1,\"comment\":\"t\",\"entries\":[%s]}", entries);
    return buf;
}

/* Write the two files, load, and expect failure with every needle in the
 * message (or success when needles[0] is NULL). */
static void expect_load(const char *descr, const char *iss_entries, const char *fp_entries,
                        const char *const *needles)
{
    static char a[8192], b[8192];
    write_file(SIGDB_ISSUERS_FILE, wrap(a, sizeof a, iss_entries));
    write_file(SIGDB_FPS_FILE, wrap(b, sizeof b, fp_entries));
    char err[512];
    struct sigdb *db = sigdb_load(tmpdir, err, sizeof err);
    if (!needles[0]) {
        test_cond(descr, db != NULL);
        if (!db)
            fprintf(stderr, "  unexpected error: %s\n", err);
        sigdb_free(db);
        return;
    }
    bool ok = (db == NULL);
    for (size_t i = 0; ok && needles[i]; i++)
        ok = strstr(err, needles[i]) != NULL;
    test_cond(descr, ok);
    if (!ok)
        fprintf(stderr, "  error was: %s\n", db ? "(loaded)" : err);
    sigdb_free(db);
}

#define NEED(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_broken(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_sigdb.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        test_cond("mkdtemp", 0);
        return;
    }
    const char *ISS = "interception_issuers.json: entry";
    const char *FPS = "known_fingerprints.json: entry";

    expect_load("minimal files load", ISS_OK, FP_OK, NEED(NULL));
    expect_load("empty entry lists load", "", "", NEED(NULL));

    /* issuers */
    expect_load("unknown key",
                ISS_OK ",{\"id\":\"x-2\",\"product\":\"P\",\"category\":\"c\",\"kind\":\"known-"
                       "interceptor\",\"match\":{\"issuer_o_regex\":\"^X$\"},\"source\":\"s\","
                       "\"colour\":\"red\"}",
                FP_OK, NEED(ISS, "entry 2 (x-2): unknown key \"colour\""));
    expect_load("unknown match key",
                "{\"id\":\"x-1\",\"product\":\"P\",\"category\":\"c\",\"kind\":\"known-"
                "interceptor\",\"match\":{\"issuer_cm_regex\":\"^X$\"},\"source\":\"s\"}",
                FP_OK, NEED(ISS, "entry 1 (x-1): match: unknown key \"issuer_cm_regex\""));
    expect_load("bad regex",
                ISS_OK ",{\"id\":\"bad-re\",\"product\":\"P\",\"category\":\"c\",\"kind\":"
                       "\"known-interceptor\",\"match\":{\"issuer_cn_regex\":\"^(Foo$\"},"
                       "\"source\":\"s\"}",
                FP_OK,
                NEED(ISS, "entry 2 (bad-re): match.issuer_cn_regex: regex does not compile"));
    expect_load("bad regex (range)",
                "{\"id\":\"bs\",\"product\":\"P\",\"category\":\"c\",\"kind\":\"known-"
                "interceptor\",\"match\":{\"subject_ou_regex\":\"^[z-a]+$\"},"
                "\"source\":\"s\"}",
                FP_OK, NEED(ISS, "entry 1 (bs): match.subject_ou_regex: regex does not compile"));
    expect_load("missing source",
                "{\"id\":\"nosrc\",\"product\":\"P\",\"category\":\"c\",\"kind\":\"known-"
                "interceptor\",\"match\":{\"issuer_cn_regex\":\"^X$\"}}",
                FP_OK, NEED(ISS, "entry 1 (nosrc): missing key \"source\""));
    expect_load("empty source",
                "{\"id\":\"e\",\"product\":\"P\",\"category\":\"c\",\"kind\":\"known-"
                "interceptor\",\"match\":{\"issuer_cn_regex\":\"^X$\"},\"source\":\"\"}",
                FP_OK, NEED(ISS, "entry 1 (e): source: must not be empty"));
    expect_load("wrong JSON type (product)",
                "{\"id\":\"t\",\"product\":5,\"category\":\"c\",\"kind\":\"known-interceptor\","
                "\"match\":{\"issuer_cn_regex\":\"^X$\"},\"source\":\"s\"}",
                FP_OK, NEED(ISS, "entry 1 (t): product: must be a string"));
    expect_load("wrong JSON type (match)",
                "{\"id\":\"t\",\"product\":\"P\",\"category\":\"c\",\"kind\":\"known-"
                "interceptor\",\"match\":[\"^X$\"],\"source\":\"s\"}",
                FP_OK, NEED(ISS, "entry 1 (t): match: must be an object"));
    expect_load("wrong JSON type (trait)",
                "{\"id\":\"t\",\"product\":\"P\",\"category\":\"c\",\"kind\":\"known-"
                "interceptor\",\"match\":{\"chain_length_1\":\"yes\"},\"source\":\"s\"}",
                FP_OK, NEED(ISS, "entry 1 (t): match.chain_length_1: must be true or false"));
    expect_load("trait false",
                "{\"id\":\"t\",\"product\":\"P\",\"category\":\"c\",\"kind\":\"known-"
                "interceptor\",\"match\":{\"chain_length_1\":false},\"source\":\"s\"}",
                FP_OK, NEED(ISS, "entry 1 (t): match.chain_length_1: only true"));
    expect_load("days not whole",
                "{\"id\":\"t\",\"product\":\"P\",\"category\":\"c\",\"kind\":\"known-"
                "interceptor\",\"match\":{\"max_validity_days\":1.5},\"source\":\"s\"}",
                FP_OK, NEED(ISS, "entry 1 (t): match.max_validity_days: must be a whole number"));
    expect_load("empty match",
                "{\"id\":\"t\",\"product\":\"P\",\"category\":\"c\",\"kind\":\"known-"
                "interceptor\",\"match\":{},\"source\":\"s\"}",
                FP_OK, NEED(ISS, "entry 1 (t): match: no condition"));
    expect_load("entry not an object", ISS_OK ",42", FP_OK,
                NEED(ISS, "entry 2 (?): must be an object"));
    expect_load("missing id",
                "{\"product\":\"P\",\"category\":\"c\",\"kind\":\"known-interceptor\","
                "\"match\":{\"issuer_cn_regex\":\"^X$\"},\"source\":\"s\"}",
                FP_OK, NEED(ISS, "entry 1 (?): missing key \"id\""));
    expect_load("bad id", "{\"id\":\"Has Space\",\"product\":\"P\",\"category\":\"c\",\"kind\":"
                          "\"known-interceptor\",\"match\":{\"issuer_cn_regex\":\"^X$\"},"
                          "\"source\":\"s\"}",
                FP_OK, NEED(ISS, "entry 1 (Has Space): id: use lower-case"));
    expect_load("duplicate id", ISS_OK "," ISS_OK, FP_OK,
                NEED(ISS, "entry 2 (ok-1): id: duplicate of entry 1"));
    expect_load("duplicate key",
                "{\"id\":\"d\",\"product\":\"P\",\"product\":\"Q\",\"category\":\"c\",\"kind\":"
                "\"known-interceptor\",\"match\":{\"issuer_cn_regex\":\"^X$\"},\"source\":\"s\"}",
                FP_OK, NEED(ISS, "entry 1 (d): duplicate key \"product\""));
    expect_load("wrong kind",
                "{\"id\":\"k\",\"product\":\"P\",\"category\":\"c\",\"kind\":\"known-good\","
                "\"match\":{\"issuer_cn_regex\":\"^X$\"},\"source\":\"s\"}",
                FP_OK, NEED(ISS, "entry 1 (k): kind: must be \"known-interceptor\""));
    expect_load("invalid UTF-8",
                "{\"id\":\"u\",\"product\":\"P\xff\",\"category\":\"c\",\"kind\":\"known-"
                "interceptor\",\"match\":{\"issuer_cn_regex\":\"^X$\"},\"source\":\"s\"}",
                FP_OK, NEED(ISS, "entry 1 (u): product: not valid UTF-8"));

    /* fingerprints */
    expect_load("bad ja4", ISS_OK,
                FP_OK ",{\"type\":\"ja4\",\"value\":\"t13d1516h2_8daaf6152771_XYZ\","
                      "\"application\":\"A\",\"category\":\"c\",\"kind\":\"known-good\","
                      "\"source\":\"s\"}",
                NEED(FPS, "entry 2 (ja4 t13d1516h2_8daaf6152771_XYZ): value: not a ja4 "
                          "fingerprint"));
    expect_load("ja4 value under ja4s", ISS_OK,
                "{\"type\":\"ja4s\",\"value\":\"t13d1516h2_8daaf6152771_02713d6af862\","
                "\"application\":\"A\",\"category\":\"c\",\"kind\":\"known-good\","
                "\"source\":\"s\"}",
                NEED(FPS, "entry 1 (ja4s t13d1516h2_8daaf6152771_02713d6af862): value: not a ja4s"));
    expect_load("upper-case ja3", ISS_OK,
                "{\"type\":\"ja3\",\"value\":\"BC6C386F480EE97B9D9E52D472B772D8\","
                "\"application\":\"A\",\"category\":\"c\",\"kind\":\"known-good\","
                "\"source\":\"s\"}",
                NEED(FPS, "entry 1 (ja3 BC6C386F480EE97B9D9E52D472B772D8): value: not a ja3"));
    expect_load("short ja3", ISS_OK,
                "{\"type\":\"ja3\",\"value\":\"bc6c386f480ee97b9d9e52d472b772d\","
                "\"application\":\"A\",\"category\":\"c\",\"kind\":\"known-good\","
                "\"source\":\"s\"}",
                NEED(FPS, "entry 1 (ja3 bc6c386f480ee97b9d9e52d472b772d): value: not a ja3"));
    expect_load("fingerprint missing source", ISS_OK,
                FP_OK ",{\"type\":\"ja3\",\"value\":\"bc6c386f480ee97b9d9e52d472b772d8\","
                      "\"application\":\"A\",\"category\":\"c\",\"kind\":\"suspicious\"}",
                NEED(FPS, "entry 2 (ja3 bc6c386f480ee97b9d9e52d472b772d8): missing key "
                          "\"source\""));
    expect_load("fingerprint wrong JSON type", ISS_OK,
                "{\"type\":\"ja3\",\"value\":\"bc6c386f480ee97b9d9e52d472b772d8\","
                "\"application\":[\"A\"],\"category\":\"c\",\"kind\":\"suspicious\","
                "\"source\":\"s\"}",
                NEED(FPS, "entry 1 (ja3 bc6c386f480ee97b9d9e52d472b772d8): application: must be "
                          "a string"));
    expect_load("fingerprint unknown key", ISS_OK,
                "{\"type\":\"ja3\",\"value\":\"bc6c386f480ee97b9d9e52d472b772d8\","
                "\"application\":\"A\",\"category\":\"c\",\"kind\":\"suspicious\","
                "\"source\":\"s\",\"note\":\"x\"}",
                NEED(FPS, "entry 1 (ja3 bc6c386f480ee97b9d9e52d472b772d8): unknown key "
                          "\"note\""));
    expect_load("fingerprint unknown type", ISS_OK,
                "{\"type\":\"ja5\",\"value\":\"x\",\"application\":\"A\",\"category\":\"c\","
                "\"kind\":\"suspicious\",\"source\":\"s\"}",
                NEED(FPS, "entry 1 (ja5 x): type: must be"));
    expect_load("fingerprint unknown kind", ISS_OK,
                "{\"type\":\"ja3\",\"value\":\"bc6c386f480ee97b9d9e52d472b772d8\","
                "\"application\":\"A\",\"category\":\"c\",\"kind\":\"evil\",\"source\":\"s\"}",
                NEED(FPS, "entry 1 (ja3 bc6c386f480ee97b9d9e52d472b772d8): kind: must be"));

    /* whole-file problems */
    char err[512];
    write_file(SIGDB_ISSUERS_FILE, "{\"version\":1,\n\"entries\":[\n{\"id\": }\n]}");
    struct sigdb *db = sigdb_load(tmpdir, err, sizeof err);
    test_cond("JSON syntax error with line",
              !db && strstr(err, "interception_issuers.json: not valid JSON (line 3, column "));
    sigdb_free(db);
    write_file(SIGDB_ISSUERS_FILE, "{\"version\":1,\"entries\":[],\"extra\":1}");
    db = sigdb_load(tmpdir, err, sizeof err);
    test_cond("unknown top-level key",
              !db && strstr(err, "interception_issuers.json: unknown top-level key \"extra\""));
    sigdb_free(db);
    write_file(SIGDB_ISSUERS_FILE, "{\"version\":2,\"entries\":[]}");
    db = sigdb_load(tmpdir, err, sizeof err);
    test_cond("wrong version", !db && strstr(err, "version: must be the number 1"));
    sigdb_free(db);
    write_file(SIGDB_ISSUERS_FILE, "[]");
    db = sigdb_load(tmpdir, err, sizeof err);
    test_cond("top level not an object", !db && strstr(err, "top level must be a JSON object"));
    sigdb_free(db);

    /* A CA name's verdicts are kept per thread: a database loaded after
     * another (perhaps at the same address) answers with its own entries. */
    {
        static char a[2048], b[2048];
        struct x509_cert leaf = leaf_from("CN=P CA", "P CA", NULL);
        write_file(SIGDB_FPS_FILE, wrap(b, sizeof b, FP_OK));
        write_file(SIGDB_ISSUERS_FILE, wrap(a, sizeof a, ISS_OK));
        db = sigdb_load(tmpdir, err, sizeof err);
        test_streq("name cache: first database matches", db ? match1(db, &leaf, NULL) : "-",
                   "ok-1");
        test_streq("name cache: and again", db ? match1(db, &leaf, NULL) : "-", "ok-1");
        sigdb_free(db);
        write_file(SIGDB_ISSUERS_FILE,
                   wrap(a, sizeof a,
                        "{\"id\":\"other\",\"product\":\"Q\",\"category\":\"test\","
                        "\"kind\":\"known-interceptor\",\"match\":{\"issuer_cn_regex\":"
                        "\"^Q CA$\"},\"source\":\"here\"}"));
        db = sigdb_load(tmpdir, err, sizeof err);
        test_streq("name cache: a reloaded database answers with its own entries",
                   db ? match1(db, &leaf, NULL) : "-", "(none)");
        sigdb_free(db);
    }

    char p[256];
    snprintf(p, sizeof p, "%s/%s", tmpdir, SIGDB_ISSUERS_FILE);
    unlink(p);
    db = sigdb_load(tmpdir, err, sizeof err);
    test_cond("missing file", !db && strstr(err, "interception_issuers.json: cannot open"));
    sigdb_free(db);
    snprintf(p, sizeof p, "%s/%s", tmpdir, SIGDB_FPS_FILE);
    unlink(p);
    rmdir(tmpdir);

    db = sigdb_load(NULL, err, sizeof err);
    test_cond("NULL dir", !db && err[0]);
    db = sigdb_load("/nonexistent-sigdb-dir/", err, sizeof err);
    test_cond("path has one slash",
              !db && strstr(err, "/nonexistent-sigdb-dir/interception_issuers.json: cannot open"));
    char tiny[8];
    db = sigdb_load("/nonexistent-sigdb-dir", tiny, sizeof tiny);
    test_cond("short error buffer is terminated", !db && strlen(tiny) == sizeof tiny - 1);
}

/* The prefilter literal: what each pattern must yield, and that no string
 * the regex matches lacks it (the prefilter may never hide a match). */
static void test_regex_literal(void)
{
    static const struct {
        const char *re, *lit, *matching;
    } cases[] = {
        { "^Fortinet", "Fortinet", "FORTINET Inc" },
        { "^FortiGate CA$", "FortiGate", "fortigate ca" },
        { "ab*cdef", "cdef", "acdef" },
        { "abc?def", "def", "abdef" },
        { "Kaspersky|ESET", "", "ESET SSL Filter" },
        { "(foo)?barbaz", "barbaz", "barbaz" },
        { "x(abc)+yzw", "yzw", "xabcabcyzw" },
        { "[a-z]+proxy", "proxy", "mitmproxy" },
        { "\\bavast", "avast", "avast! Web/Mail Shield" },
        { "zscaler.{0,3}root", "zscaler", "Zscaler Root CA" },
        { "a{2}bcd", "bcd", "aabcd" },
        { "[[:alpha:]]xyz", "xyz", "axyz" },
        { "[]a]bcd", "bcd", "]bcd" },
        { "Sophos\\.", "Sophos", "sophos." },
        { "ab", "", "ab" },
        { "ab+cde", "cde", "abbbcde" },
        { "netfil+ter", "netfil", "NetFillter" },
        { "(unclosed", "", NULL },
        /* A ')' inside brackets closes no group (fuzz_sigdb found "cdef"
         * required here, which "gh" lacks). */
        { "(ab[)]cdef)*gh", "", "gh" },
        { "(a[)]b)xyzw", "xyzw", "a)bxyzw" },
        { "([(]ab)cdef", "cdef", "(abcdef" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char lit[SIGDB_LITERAL_MAX + 1], name[96];
        sigdb_regex_literal(cases[i].re, lit);
        snprintf(name, sizeof name, "regex literal of %s", cases[i].re);
        test_streq(name, lit, cases[i].lit);
        if (!cases[i].matching)
            continue;
        regex_t re;
        snprintf(name, sizeof name, "regex %s matches %s, and so does its literal", cases[i].re,
                 cases[i].matching);
        bool ok = regcomp(&re, cases[i].re, REG_EXTENDED | REG_ICASE | REG_NOSUB) == 0;
        test_cond(name, ok && regexec(&re, cases[i].matching, 0, NULL, 0) == 0 &&
                            (!lit[0] || strcasestr(cases[i].matching, lit)));
        if (ok)
            regfree(&re);
    }
    char lit[SIGDB_LITERAL_MAX + 1];
    sigdb_regex_literal("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ", lit);
    test_cond("regex literal: capped at SIGDB_LITERAL_MAX", strlen(lit) == SIGDB_LITERAL_MAX);
}

/* sigdb_load_buffers(): the same database as the files give; an error
 * line stays one line whatever the key holds. */
static void test_buffers(const char *dir, const struct sigdb *files)
{
    char path[1024], err[512];
    size_t il = 0, fl = 0;
    struct jsonv v = {.err = err, .errlen = sizeof err};
    snprintf(path, sizeof path, "%s/%s", dir, SIGDB_ISSUERS_FILE);
    char *iss = jsonv_read_file(&v, path, SIGDB_MAX_FILE_BYTES, &il);
    snprintf(path, sizeof path, "%s/%s", dir, SIGDB_FPS_FILE);
    char *fps = jsonv_read_file(&v, path, SIGDB_MAX_FILE_BYTES, &fl);
    test_cond("buffers: shipped files read", iss && fps);
    if (iss && fps) {
        struct sigdb *db = sigdb_load_buffers(NULL, iss, il, NULL, fps, fl, err, sizeof err);
        test_cond("buffers: shipped documents load from memory", db != NULL);
        test_cond("buffers: same entries as the files",
                  db && sigdb_issuer_count(db) == sigdb_issuer_count(files) &&
                      sigdb_fp_count(db) == sigdb_fp_count(files) && sigdb_roots(db) == NULL &&
                      strcmp(sigdb_issuer_at(db, 0)->id, sigdb_issuer_at(files, 0)->id) == 0);
        sigdb_free(db);
    }
    free(iss);
    free(fps);
    static const char bad[] = "{\"version\": 1, \"entries\": [], \"col\nour\": 1}";
    static const char empty[] = "{\"version\": 1, \"entries\": []}";
    struct sigdb *db = sigdb_load_buffers("a.json", bad, sizeof bad - 1, "b.json", empty,
                                          sizeof empty - 1, err, sizeof err);
    test_cond("buffers: a control character in a key is refused", db == NULL);
    test_cond("buffers: ... in one error line (regression: fuzz_sigdb)",
              !strchr(err, '\n') && strstr(err, "a.json: unknown top-level key \"col?our\""));
    sigdb_free(db);
    db = sigdb_load_buffers("a.json", empty, sizeof empty - 1, "b.json", bad, 10, err,
                            sizeof err);
    test_cond("buffers: the fingerprint document's errors name it",
              db == NULL && strncmp(err, "b.json: ", 8) == 0);
    sigdb_free(db);
}

/*
 * File order decides among candidates: 70 entries (two words of the
 * candidate bits), the ones without issuer_* conditions candidates for
 * every chain, the others only when a name of the chain holds them; a
 * name repeated in the chain (an issuer that is the next certificate's
 * subject) answers as itself.
 */
static void test_candidates(void)
{
    static char entries[70 * 200], doc[70 * 200 + 64];
    size_t o = 0;
    for (int i = 0; i < 70; i++) {
        const char *m;
        char buf[64];
        if (i == 3)
            m = "\"subject_cn_regex\":\"^plain[.]\"";   /* no issuer condition */
        else if (i == 66)
            m = "\"subject_cn_regex\":\"^late[.]\"";   /* the same, second word */
        else {
            snprintf(buf, sizeof buf, "\"issuer_cn_regex\":\"^CA %d$\"", i);
            m = buf;
        }
        o += (size_t)snprintf(entries + o, sizeof entries - o,
                              "%s{\"id\":\"e%d\",\"product\":\"P%d\",\"category\":\"test\","
                              "\"kind\":\"known-interceptor\",\"match\":{%s},\"source\":\"t\"}",
                              i ? "," : "", i, i, m);
    }
    static const char empty[] = "{\"version\": 1, \"entries\": []}";
    wrap(doc, sizeof doc, entries);
    char err[512];
    struct sigdb *db = sigdb_load_buffers("a.json", doc, strlen(doc), "b.json", empty,
                                          sizeof empty - 1, err, sizeof err);
    test_cond("candidates: 70 entries load", db && sigdb_issuer_count(db) == 70);
    if (!db) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    struct x509_cert leaf = mkcert("CN=x.test", "x.test", NULL, "CN=CA 65", "CA 65", NULL);
    struct x509_cert mid = mkcert("CN=CA 65", "CA 65", NULL, "CN=CA 2", "CA 2", NULL);
    struct x509_cert root = mkcert("CN=CA 2", "CA 2", NULL, "CN=CA 2", "CA 2", NULL);
    const struct x509_cert *chain[3] = {&leaf, &mid, &root};
    struct sig_match m;
    const struct sig_issuer *s = sigdb_match_chain_ex(db, chain, 3, NULL, &m);
    test_cond("candidates: the first in file order (CA 2, the middle's issuer) answers",
              s && strcmp(s->id, "e2") == 0 && m.role == SIG_NAME_CHAIN_ISSUER &&
                  m.cert_index == 1);
    s = sigdb_match_chain_ex(db, chain, 2, NULL, &m);
    test_cond("candidates: without the root, the same (the middle's issuer)",
              s && strcmp(s->id, "e2") == 0);
    s = sigdb_match_chain_ex(db, chain, 1, NULL, &m);
    test_cond("candidates: the leaf alone: its issuer CA 65, in the second word",
              s && strcmp(s->id, "e65") == 0 && m.role == SIG_NAME_LEAF_ISSUER);
    struct x509_cert plain = mkcert("CN=plain.test", "plain.test", NULL, "CN=CA 65", "CA 65", NULL);
    chain[0] = &plain;
    s = sigdb_match_chain_ex(db, chain, 1, NULL, &m);
    test_cond("candidates: an entry without issuer conditions before them answers",
              s && strcmp(s->id, "e3") == 0 && m.role == SIG_NAME_NONE);
    struct x509_cert late = mkcert("CN=late.test", "late.test", NULL, "CN=CA 99", "CA 99", NULL);
    chain[0] = &late;
    s = sigdb_match_chain_ex(db, chain, 1, NULL, &m);
    test_cond("candidates: one in the second word without issuer conditions",
              s && strcmp(s->id, "e66") == 0);
    struct x509_cert none = mkcert("CN=n.test", "n.test", NULL, "CN=CA 99", "CA 99", NULL);
    struct x509_cert mid99 = mkcert("CN=CA 99", "CA 99", NULL, "CN=CA 98", "CA 98", NULL);
    const struct x509_cert *chain2[2] = {&none, &mid99};
    test_cond("candidates: no name holds: none", !sigdb_match_chain_ex(db, chain2, 2, NULL, &m));

    /* The per-thread name memo and cache belong to one database: another
     * one, asked about the same names in turn, answers for itself. */
    static char doc2[512];
    wrap(doc2, sizeof doc2,
         "{\"id\":\"other\",\"product\":\"Q\",\"category\":\"test\","
         "\"kind\":\"known-interceptor\",\"match\":{\"issuer_cn_regex\":\"^CA 98$\"},"
         "\"source\":\"t\"}");
    struct sigdb *db2 = sigdb_load_buffers("a.json", doc2, strlen(doc2), "b.json", empty,
                                           sizeof empty - 1, err, sizeof err);
    size_t bad = 0;
    chain[0] = &leaf;
    for (int round = 0; round < 4 && db2; round++) {
        const struct sig_issuer *a = sigdb_match_chain_ex(db, chain, 1, NULL, &m);
        const struct sig_issuer *b = sigdb_match_chain_ex(db2, chain, 1, NULL, &m);
        const struct sig_issuer *c = sigdb_match_chain_ex(db, chain2, 2, NULL, &m);
        const struct sig_issuer *d = sigdb_match_chain_ex(db2, chain2, 2, NULL, &m);
        if (!a || strcmp(a->id, "e65") != 0 || b || c || !d || strcmp(d->id, "other") != 0)
            bad++;
    }
    test_cond("candidates: two databases on the same names, in turn", db2 && bad == 0);
    sigdb_free(db2);
    sigdb_free(db);
}

int main(void)
{
    test_candidates();
    const char *dir = getenv("PINSCOPE_SIGDB");
    if (!dir)
        dir = SIGDB_DIR;
    char err[512];
    struct sigdb *db = sigdb_load(dir, err, sizeof err);
    test_cond("shipped signatures load", db != NULL);
    if (!db) {
        fprintf(stderr, "  %s\n", err);
    } else {
        test_shipped_issuers(db);
        test_real_certs(db);
        test_shipped_fps(db);
        test_buffers(dir, db);
    }
    sigdb_free(db);
    test_broken();
    test_regex_literal();
    return test_report();
}
