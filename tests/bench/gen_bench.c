/*
 * gen_bench.c - writes a large synthetic TLS-over-TCP capture for benchmarks.
 *
 *   gen_bench [--small] OUT.pcap [n_flows] [seed]     (OUT "-": stdout)
 *   gen_bench --dense --keylog OUT.keylog OUT.pcap [n_flows] [seed]
 *   gen_bench --version
 *
 * The output is a classic pcap file (microsecond timestamps, Ethernet link
 * type) written directly with stdio; no library is needed.  It holds
 * n_flows complete TLS connections to port 443 (default 40000; --small
 * means 2000).  Each is a TCP three-way handshake; a ClientHello shaped like
 * one of four real clients (Chrome with GREASE and shuffled extensions,
 * Firefox, Safari with GREASE, curl on OpenSSL limited to TLS 1.2; the shape
 * table lists their JA4); the server's first flight (TLS 1.3: ServerHello,
 * ChangeCipherSpec and encrypted records; TLS 1.2: ServerHello, a
 * Certificate message carrying a DER chain, ServerKeyExchange,
 * ServerHelloDone); both Finished flights; an application-data phase that
 * carries most of the bytes; a close_notify and a FIN teardown.
 *
 * Traffic shape: 300 servers picked with a Zipf popularity, a client pool
 * that scales with n_flows, about 600 flows open at once with their packets
 * interleaved, about 30% IPv6, 15% with an 802.1Q tag, 20% of ClientHellos
 * split over two TCP segments and a quarter of those (5% of all flows) sent
 * second segment first, SYN options and TTLs of Windows, macOS or Linux
 * clients (TCP timestamps on all but Windows).  The application-data phase
 * mixes request/response exchanges, chatty small-message sessions, bulk
 * downloads and uploads: full-size segments carry most bytes while small
 * records and delayed ACKs make up most packets, which gives more than 5
 * million packets in about 1.5 GB at the default size.  IPv4 and TCP
 * checksums are correct.  The output is a pure function of (GEN_VERSION,
 * n_flows, seed); a one-line key=value summary goes to stdout (to stderr
 * when the capture does).
 *
 * --dense: the handshake-dense capture of `make bench` (default 60000
 * flows): 6000 servers with their own leaves under 32 intermediates of 2
 * roots (Zipf popularity, so popular servers are visited again and
 * again), 60% of servers on TLS 1.3, and an application phase of one short
 * request and response, so a TLS handshake every ~17 packets (with
 * --exchanges N, N of them: 5 gives one every ~35 packets).  A third
 * of the TLS 1.3 connections are really encrypted: their server flight
 * (EncryptedExtensions, Certificate, CertificateVerify, Finished) and the
 * client's Finished are sealed with handshake traffic keys (RFC 8446 7.3,
 * AES-GCM or ChaCha20-Poly1305 by the server's suite, libcrypto) derived
 * from random secrets, which go to the --keylog file in the NSS format, so
 * an analyser with the key log sees those chains too.
 *
 * Not modelled: loss, retransmission, SACK blocks, session resumption,
 * HelloRetryRequest, QUIC, ports other than 443.  Encrypted bytes are
 * random.  Certificates are well-formed DER with random RSA moduli and
 * signatures: they parse but do not verify.  Port numbers are unique per
 * client until a client has opened about 28000 flows.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

/* Bump whenever the output for a given (n_flows, seed) changes. */
#define GEN_VERSION 1

#define DEFAULT_FLOWS     40000
#define DENSE_FLOWS       60000
#define SMALL_FLOWS       2000
#define DEFAULT_SEED      1
#define N_SERVERS         300
#define DENSE_SERVERS     6000
#define DENSE_CAS         32
#define MAX_CAS           32
#define CONCURRENCY       600     /* flows open at once in steady state */
#define MEAN_GAP_US       8       /* mean inter-packet gap */
#define START_TIME        1740787200u  /* 2025-03-01 00:00:00 UTC */
#define POOL_SIZE         (1u << 20)   /* random bytes reused as ciphertext */
#define TLS_MAX_PLAIN     16384

/* ------------------------------------------------------------------ */
/* Random numbers: xoshiro256** seeded through splitmix64.             */

static uint64_t rng_s[4];

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rnd(void)
{
    uint64_t r = rotl(rng_s[1] * 5, 7) * 9;
    uint64_t t = rng_s[1] << 17;
    rng_s[2] ^= rng_s[0];
    rng_s[3] ^= rng_s[1];
    rng_s[1] ^= rng_s[2];
    rng_s[0] ^= rng_s[3];
    rng_s[2] ^= t;
    rng_s[3] = rotl(rng_s[3], 45);
    return r;
}

static void rng_seed(uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        rng_s[i] = splitmix64(&seed);
}

/* Uniform in [0, n). */
static uint32_t rnd_below(uint32_t n)
{
    return (uint32_t)(((rnd() >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [lo, hi]. */
static uint32_t rnd_range(uint32_t lo, uint32_t hi)
{
    return lo + rnd_below(hi - lo + 1);
}

static bool chance(unsigned pct)
{
    return rnd_below(100) < pct;
}

static uint8_t pool[POOL_SIZE];

static void rnd_bytes(uint8_t *dst, size_t n)
{
    while (n > 0) {
        size_t k = n < POOL_SIZE / 2 ? n : POOL_SIZE / 2;
        memcpy(dst, pool + rnd_below(POOL_SIZE / 2), k);
        dst += k;
        n -= k;
    }
}

static void die(const char *msg)
{
    fprintf(stderr, "gen_bench: %s\n", msg);
    exit(1);
}

/* ------------------------------------------------------------------ */
/* Growable byte buffer with back-patched length fields.              */

struct buf {
    uint8_t *p;
    size_t len, cap;
};

static uint8_t *buf_room(struct buf *b, size_t n)
{
    if (b->len + n > b->cap) {
        size_t c = b->cap ? b->cap : 512;
        while (c < b->len + n)
            c *= 2;
        uint8_t *p = realloc(b->p, c);
        if (!p)
            die("out of memory");
        b->p = p;
        b->cap = c;
    }
    uint8_t *r = b->p + b->len;
    b->len += n;
    return r;
}

static void buf_free(struct buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static void put(struct buf *b, const void *d, size_t n)
{
    if (n)
        memcpy(buf_room(b, n), d, n);
}

static void put_u8(struct buf *b, unsigned v)
{
    *buf_room(b, 1) = (uint8_t)v;
}

static void put_u16(struct buf *b, unsigned v)
{
    uint8_t *p = buf_room(b, 2);
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_u24(struct buf *b, size_t v)
{
    uint8_t *p = buf_room(b, 3);
    p[0] = (uint8_t)(v >> 16);
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)v;
}

static void put_u32(struct buf *b, uint32_t v)
{
    put_u16(b, v >> 16);
    put_u16(b, v & 0xffff);
}

static void put_rand(struct buf *b, size_t n)
{
    rnd_bytes(buf_room(b, n), n);
}

static void put_str8(struct buf *b, const char *s)
{
    size_t n = strlen(s);
    put_u8(b, (unsigned)n);
    put(b, s, n);
}

/* Reserve a big-endian length field of `width` bytes; returns its offset. */
static size_t len_open(struct buf *b, int width)
{
    size_t at = b->len;
    memset(buf_room(b, (size_t)width), 0, (size_t)width);
    return at;
}

/* Fill the field opened at `at` with the number of bytes written since. */
static void len_close(struct buf *b, size_t at, int width)
{
    size_t n = b->len - at - (size_t)width;
    if (width < 8 && n >> (8 * width))
        die("length field overflow");
    for (int i = 0; i < width; i++)
        b->p[at + (size_t)i] = (uint8_t)(n >> (8 * (width - 1 - i)));
}

/* ------------------------------------------------------------------ */
/* DER (X.690) writer: a TLV whose length is fixed up when it closes.  */

static size_t der_open(struct buf *b, unsigned tag)
{
    put_u8(b, tag);
    put_u8(b, 0);
    return b->len;
}

static void der_close(struct buf *b, size_t start)
{
    size_t n = b->len - start;
    if (n < 0x80) {
        b->p[start - 1] = (uint8_t)n;
        return;
    }
    size_t k = n <= 0xff ? 1 : n <= 0xffff ? 2 : 3;
    buf_room(b, k);
    memmove(b->p + start + k, b->p + start, n);
    b->p[start - 1] = (uint8_t)(0x80 | k);
    for (size_t i = 0; i < k; i++)
        b->p[start + i] = (uint8_t)(n >> (8 * (k - 1 - i)));
}

static void der_prim(struct buf *b, unsigned tag, const void *d, size_t n)
{
    size_t s = der_open(b, tag);
    put(b, d, n);
    der_close(b, s);
}

#define DER_SEQ   0x30
#define DER_SET   0x31
#define DER_INT   0x02
#define DER_BITS  0x03
#define DER_OCTS  0x04
#define DER_NULL  0x05
#define DER_OID   0x06
#define DER_UTF8  0x0c
#define DER_PRINT 0x13
#define DER_UTC   0x17
#define DER_BOOL  0x01

static const uint8_t OID_SHA256_RSA[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 1, 11};
static const uint8_t OID_RSA[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 1, 1};
static const uint8_t OID_C[] = {0x55, 4, 6};
static const uint8_t OID_O[] = {0x55, 4, 10};
static const uint8_t OID_CN[] = {0x55, 4, 3};
static const uint8_t OID_SAN[] = {0x55, 0x1d, 0x11};
static const uint8_t OID_BC[] = {0x55, 0x1d, 0x13};
static const uint8_t OID_KU[] = {0x55, 0x1d, 0x0f};
static const uint8_t OID_EKU[] = {0x55, 0x1d, 0x25};
static const uint8_t OID_SKI[] = {0x55, 0x1d, 0x0e};
static const uint8_t OID_AKI[] = {0x55, 0x1d, 0x23};
static const uint8_t OID_SERVER_AUTH[] = {0x2b, 6, 1, 5, 5, 7, 3, 1};
static const uint8_t OID_CLIENT_AUTH[] = {0x2b, 6, 1, 5, 5, 7, 3, 2};

static void der_alg_sha256_rsa(struct buf *b)
{
    size_t s = der_open(b, DER_SEQ);
    der_prim(b, DER_OID, OID_SHA256_RSA, sizeof OID_SHA256_RSA);
    der_prim(b, DER_NULL, NULL, 0);
    der_close(b, s);
}

static void der_rdn(struct buf *b, const uint8_t *oid, size_t oidlen,
                    unsigned strtag, const char *val)
{
    size_t set = der_open(b, DER_SET);
    size_t seq = der_open(b, DER_SEQ);
    der_prim(b, DER_OID, oid, oidlen);
    der_prim(b, strtag, val, strlen(val));
    der_close(b, seq);
    der_close(b, set);
}

/* Name ::= SEQUENCE OF RDN; org may be NULL (a DV leaf has CN only). */
static void der_name(struct buf *b, const char *org, const char *cn)
{
    size_t s = der_open(b, DER_SEQ);
    if (org) {
        der_rdn(b, OID_C, sizeof OID_C, DER_PRINT, "US");
        der_rdn(b, OID_O, sizeof OID_O, DER_UTF8, org);
    }
    der_rdn(b, OID_CN, sizeof OID_CN, DER_UTF8, cn);
    der_close(b, s);
}

/* Random positive integer of n bytes with the top bit set (plus 0x00). */
static void der_big_uint(struct buf *b, size_t n)
{
    size_t s = der_open(b, DER_INT);
    put_u8(b, 0);
    uint8_t *p = buf_room(b, n);
    rnd_bytes(p, n);
    p[0] |= 0x80;
    p[n - 1] |= 1;
    der_close(b, s);
}

static void der_ext_open(struct buf *b, size_t *seq, size_t *octs,
                         const uint8_t *oid, size_t oidlen, bool critical)
{
    *seq = der_open(b, DER_SEQ);
    der_prim(b, DER_OID, oid, oidlen);
    if (critical)
        der_prim(b, DER_BOOL, "\xff", 1);
    *octs = der_open(b, DER_OCTS);
}

static void der_ext_close(struct buf *b, size_t seq, size_t octs)
{
    der_close(b, octs);
    der_close(b, seq);
}

struct cert_spec {
    const char *issuer_org, *issuer_cn;
    const char *subject_org, *subject_cn;  /* subject_org NULL: leaf */
    const char *not_before, *not_after;    /* UTCTime strings */
    size_t key_bytes, sig_bytes;           /* RSA modulus / signer modulus */
    bool ca;
    const char *san[3];                    /* dNSNames, leaf only */
    uint8_t ski[20], aki[20];
};

/* Append one X.509 v3 certificate (RFC 5280 4.1) to b. */
static void cert_build(struct buf *b, const struct cert_spec *cs)
{
    size_t cert = der_open(b, DER_SEQ);
    size_t tbs = der_open(b, DER_SEQ);

    size_t v = der_open(b, 0xa0);
    der_prim(b, DER_INT, "\x02", 1);
    der_close(b, v);

    uint8_t serial[16];
    rnd_bytes(serial, sizeof serial);
    serial[0] = (uint8_t)((serial[0] & 0x7f) | 0x01);
    der_prim(b, DER_INT, serial, sizeof serial);

    der_alg_sha256_rsa(b);
    der_name(b, cs->issuer_org, cs->issuer_cn);

    size_t val = der_open(b, DER_SEQ);
    der_prim(b, DER_UTC, cs->not_before, strlen(cs->not_before));
    der_prim(b, DER_UTC, cs->not_after, strlen(cs->not_after));
    der_close(b, val);

    der_name(b, cs->subject_org, cs->subject_cn);

    size_t spki = der_open(b, DER_SEQ);
    size_t alg = der_open(b, DER_SEQ);
    der_prim(b, DER_OID, OID_RSA, sizeof OID_RSA);
    der_prim(b, DER_NULL, NULL, 0);
    der_close(b, alg);
    size_t bits = der_open(b, DER_BITS);
    put_u8(b, 0);
    size_t rsa = der_open(b, DER_SEQ);
    der_big_uint(b, cs->key_bytes);
    der_prim(b, DER_INT, "\x01\x00\x01", 3);
    der_close(b, rsa);
    der_close(b, bits);
    der_close(b, spki);

    size_t exts_tag = der_open(b, 0xa3);
    size_t exts = der_open(b, DER_SEQ);
    size_t es, eo, in;

    der_ext_open(b, &es, &eo, OID_KU, sizeof OID_KU, true);
    der_prim(b, DER_BITS, cs->ca ? "\x01\x06" : "\x05\xa0", 2);
    der_ext_close(b, es, eo);

    if (!cs->ca) {
        der_ext_open(b, &es, &eo, OID_EKU, sizeof OID_EKU, false);
        in = der_open(b, DER_SEQ);
        der_prim(b, DER_OID, OID_SERVER_AUTH, sizeof OID_SERVER_AUTH);
        der_prim(b, DER_OID, OID_CLIENT_AUTH, sizeof OID_CLIENT_AUTH);
        der_close(b, in);
        der_ext_close(b, es, eo);
    }

    der_ext_open(b, &es, &eo, OID_BC, sizeof OID_BC, true);
    in = der_open(b, DER_SEQ);
    if (cs->ca) {
        der_prim(b, DER_BOOL, "\xff", 1);
        der_prim(b, DER_INT, "\x00", 1);
    }
    der_close(b, in);
    der_ext_close(b, es, eo);

    der_ext_open(b, &es, &eo, OID_SKI, sizeof OID_SKI, false);
    der_prim(b, DER_OCTS, cs->ski, 20);
    der_ext_close(b, es, eo);

    der_ext_open(b, &es, &eo, OID_AKI, sizeof OID_AKI, false);
    in = der_open(b, DER_SEQ);
    der_prim(b, 0x80, cs->aki, 20);
    der_close(b, in);
    der_ext_close(b, es, eo);

    if (cs->san[0]) {
        der_ext_open(b, &es, &eo, OID_SAN, sizeof OID_SAN, false);
        in = der_open(b, DER_SEQ);
        for (int i = 0; i < 3 && cs->san[i]; i++)
            der_prim(b, 0x82, cs->san[i], strlen(cs->san[i]));
        der_close(b, in);
        der_ext_close(b, es, eo);
    }

    der_close(b, exts);
    der_close(b, exts_tag);
    der_close(b, tbs);

    der_alg_sha256_rsa(b);
    bits = der_open(b, DER_BITS);
    put_u8(b, 0);
    put_rand(b, cs->sig_bytes);
    der_close(b, bits);
    der_close(b, cert);
}

/* ------------------------------------------------------------------ */
/* The world: certificate authorities, servers and clients.            */

struct ca {
    const char *org, *cn;
    int root;          /* index into roots[] */
    struct buf der;
    uint8_t ski[20];
    char cn_buf[48];   /* --dense: generated names */
};

struct root {
    const char *org, *cn;
    uint8_t ski[20];
    size_t key_bytes;
};

static struct root roots[2] = {
    {"Example Trust Services", "Example Root CA X1", {0}, 512},
    {"Test PKI Ltd", "Test Global Root G2", {0}, 512},
};

static struct ca cas[MAX_CAS] = {
    {"Example Trust Services", "Example TLS RSA CA R3", 0, {0}, {0}, ""},
    {"Example Trust Services", "Example TLS RSA CA R4", 0, {0}, {0}, ""},
    {"Test PKI Ltd", "Test TLS RSA CA 2025 A", 1, {0}, {0}, ""},
    {"Test PKI Ltd", "Test TLS RSA CA 2025 B", 1, {0}, {0}, ""},
};
static int n_cas = 4;

/* --dense: the handshake-dense world, and the key log of its TLS 1.3
 * connections that are really encrypted. */
static bool dense;
static FILE *keylog_out;

/* Root X1 cross-signed by root G2, sent by some servers as a third cert. */
static struct buf cross_cert;

struct server {
    char name[64];
    char wildcard[64];
    uint8_t ip4[4], ip6[16];
    bool has_v6, tls13, coalesce, ticket, sv_first;
    uint16_t cs13, cs12;
    uint8_t ttl;
    struct buf chain;       /* TLS 1.2 certificate_list body */
    size_t chain_der;       /* sum of DER sizes */
    int ncert;
};

enum shape { SHAPE_CHROME, SHAPE_FIREFOX, SHAPE_SAFARI, SHAPE_CURL12, N_SHAPES };
enum os { OS_LINUX, OS_WINDOWS, OS_MACOS };

struct client {
    uint8_t ip4[4], ip6[16], mac[6];
    bool v6;
    uint16_t vlan;
    uint8_t os, browser;
    uint16_t next_port;
};

static struct server *servers;
static double *server_cdf;
static int *server_by_rank;
static int n_servers = N_SERVERS;
static struct client *clients;
static uint32_t n_clients;

static const uint8_t gw_mac[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};

static const char *const labels[20] = {
    "www", "api", "cdn", "static", "img", "auth", "login", "mail", "app",
    "assets", "media", "edge", "m", "shop", "news", "video", "metrics",
    "telemetry", "update", "docs",
};
static const char *const domains[10] = {
    "example.com", "example.net", "example.org", "shop.test", "news.test",
    "cloud.test", "corp.test", "video.test", "bank.test", "social.test",
};

static void make_cas(void)
{
    for (int i = 0; i < 2; i++)
        rnd_bytes(roots[i].ski, 20);
    if (dense) {
        n_cas = DENSE_CAS;
        for (int i = 4; i < n_cas; i++) {
            struct ca *ca = &cas[i];
            ca->root = i % 2;
            ca->org = roots[ca->root].org;
            snprintf(ca->cn_buf, sizeof ca->cn_buf, "%s Issuing CA %02d",
                     ca->root ? "Test PKI" : "Example TLS", i);
            ca->cn = ca->cn_buf;
        }
    }
    for (int i = 0; i < n_cas; i++) {
        struct ca *ca = &cas[i];
        const struct root *r = &roots[ca->root];
        struct cert_spec cs = {
            .issuer_org = r->org, .issuer_cn = r->cn,
            .subject_org = ca->org, .subject_cn = ca->cn,
            .not_before = "240313000000Z", .not_after = "270312235959Z",
            .key_bytes = 256, .sig_bytes = r->key_bytes, .ca = true,
        };
        rnd_bytes(ca->ski, 20);
        memcpy(cs.ski, ca->ski, 20);
        memcpy(cs.aki, r->ski, 20);
        cert_build(&ca->der, &cs);
    }
    struct cert_spec cs = {
        .issuer_org = roots[1].org, .issuer_cn = roots[1].cn,
        .subject_org = roots[0].org, .subject_cn = roots[0].cn,
        .not_before = "210120191413Z", .not_after = "280930180014Z",
        .key_bytes = 512, .sig_bytes = 512, .ca = true,
    };
    memcpy(cs.ski, roots[0].ski, 20);
    memcpy(cs.aki, roots[1].ski, 20);
    cert_build(&cross_cert, &cs);
}

static void chain_add(struct server *s, const struct buf *der)
{
    put_u24(&s->chain, der->len);
    put(&s->chain, der->p, der->len);
    s->chain_der += der->len;
    s->ncert++;
}

static void make_servers(void)
{
    static const uint16_t cs13[] = {0x1301, 0x1301, 0x1301, 0x1302, 0x1303};
    static const uint16_t cs12[] = {0xc02f, 0xc02f, 0xc030, 0xcca8};
    double total = 0;

    n_servers = dense ? DENSE_SERVERS : N_SERVERS;
    servers = calloc((size_t)n_servers, sizeof *servers);
    server_cdf = calloc((size_t)n_servers, sizeof *server_cdf);
    server_by_rank = calloc((size_t)n_servers, sizeof *server_by_rank);
    if (!servers || !server_cdf || !server_by_rank)
        die("out of memory");
    for (int i = 0; i < n_servers; i++) {
        struct server *s = &servers[i];
        int num = i / 200;
        const char *dom = domains[(i / 20) % 10];
        if (num)
            snprintf(s->name, sizeof s->name, "%s%d.%s", labels[i % 20], num + 1, dom);
        else
            snprintf(s->name, sizeof s->name, "%s.%s", labels[i % 20], dom);
        snprintf(s->wildcard, sizeof s->wildcard, "*.%s", dom);
        s->ip4[0] = 198;
        s->ip4[1] = 19;
        s->ip4[2] = (uint8_t)(1 + i / 250);
        s->ip4[3] = (uint8_t)(1 + i % 250);
        static const uint8_t p6[8] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x05, 0x00, 0x00};
        memcpy(s->ip6, p6, 8);
        memset(s->ip6 + 8, 0, 8);
        s->ip6[12] = (uint8_t)(i >> 8);
        s->ip6[13] = (uint8_t)i;
        s->ip6[15] = 1;
        s->has_v6 = chance(70);
        s->tls13 = chance(dense ? 60 : 80);
        s->coalesce = chance(50);
        s->ticket = chance(70);
        s->sv_first = chance(50);
        s->cs13 = cs13[rnd_below(5)];
        s->cs12 = cs12[rnd_below(4)];
        s->ttl = (uint8_t)rnd_range(47, 60);

        const struct ca *ca = &cas[rnd_below((uint32_t)n_cas)];
        struct cert_spec cs = {
            .issuer_org = ca->org, .issuer_cn = ca->cn,
            .subject_org = NULL, .subject_cn = s->name,
            .not_before = "250115000000Z", .not_after = "260215235959Z",
            .key_bytes = chance(15) ? 512 : 256, .sig_bytes = 256, .ca = false,
            .san = {s->name, chance(40) ? s->wildcard : NULL, NULL},
        };
        rnd_bytes(cs.ski, 20);
        memcpy(cs.aki, ca->ski, 20);
        struct buf leaf = {0};
        cert_build(&leaf, &cs);
        chain_add(s, &leaf);
        buf_free(&leaf);
        chain_add(s, &ca->der);
        if (ca->root == 0 && chance(40))
            chain_add(s, &cross_cert);

        server_by_rank[i] = i;
    }
    /* Popularity rank -> server, shuffled so names and ranks are unrelated. */
    for (int i = n_servers - 1; i > 0; i--) {
        int j = (int)rnd_below((uint32_t)i + 1);
        int t = server_by_rank[i];
        server_by_rank[i] = server_by_rank[j];
        server_by_rank[j] = t;
    }
    for (int r = 0; r < n_servers; r++) {
        total += 1.0 / (1.0 + (double)r);     /* Zipf, exponent 1 */
        server_cdf[r] = total;
    }
    for (int r = 0; r < n_servers; r++)
        server_cdf[r] /= total;
}

static struct server *pick_server(void)
{
    double u = (double)(rnd() >> 11) / 9007199254740992.0;
    int lo = 0, hi = n_servers - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (server_cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return &servers[server_by_rank[lo]];
}

static void make_clients(uint32_t n_flows)
{
    n_clients = n_flows / 16;
    if (n_clients < 64)
        n_clients = 64;
    if (n_clients > 60000)
        n_clients = 60000;
    clients = calloc(n_clients, sizeof *clients);
    if (!clients)
        die("out of memory");
    static const uint16_t vlans[] = {10, 20, 30, 110, 120, 200};
    for (uint32_t i = 0; i < n_clients; i++) {
        struct client *c = &clients[i];
        uint32_t h = i + 1;         /* 198.18.0.1 .. 198.18.234.96 */
        c->ip4[0] = 198;
        c->ip4[1] = 18;
        c->ip4[2] = (uint8_t)(h >> 8);
        c->ip4[3] = (uint8_t)h;
        static const uint8_t p6[6] = {0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00};
        memcpy(c->ip6, p6, 6);
        c->ip6[6] = (uint8_t)(h >> 8);
        c->ip6[7] = (uint8_t)h;
        rnd_bytes(c->ip6 + 8, 8);
        c->mac[0] = 0x02;
        c->mac[1] = 0x42;
        c->mac[2] = (uint8_t)(h >> 24);
        c->mac[3] = (uint8_t)(h >> 16);
        c->mac[4] = (uint8_t)(h >> 8);
        c->mac[5] = (uint8_t)h;
        c->v6 = chance(50);
        c->vlan = chance(15) ? vlans[rnd_below(6)] : 0;
        unsigned r = rnd_below(100);
        c->os = r < 55 ? OS_WINDOWS : r < 80 ? OS_MACOS : OS_LINUX;
        r = rnd_below(100);
        if (c->os == OS_WINDOWS)
            c->browser = r < 72 ? SHAPE_CHROME : SHAPE_FIREFOX;
        else if (c->os == OS_MACOS)
            c->browser = r < 55 ? SHAPE_SAFARI : r < 90 ? SHAPE_CHROME : SHAPE_FIREFOX;
        else
            c->browser = r < 55 ? SHAPE_CHROME : SHAPE_FIREFOX;
        c->next_port = (uint16_t)rnd_range(32768, 60999);
    }
}

/* TLS record content types (RFC 8446 5.1) and handshake types (4). */
#define CT_CCS        0x14
#define CT_ALERT      0x15
#define CT_HANDSHAKE  0x16
#define CT_APPDATA    0x17
#define HS_CLIENT_HELLO   0x01
#define HS_SERVER_HELLO   0x02
#define HS_NEW_TICKET     0x04
#define HS_CERTIFICATE    0x0b
#define HS_SERVER_KX      0x0c
#define HS_SERVER_DONE    0x0e
#define HS_CLIENT_KX      0x10

/* ------------------------------------------------------------------ */
/* ClientHello shapes (RFC 8446 4.1.2; extension numbers from IANA).   */
/*
 * Their JA4 (SNI present, ALPN h2; curl also sends http/1.1 alone):
 *   chrome   t13d1516h2_8daaf6152771_02713d6af862  JA3 differs per hello
 *   firefox  t13d1715h2_5b57614c22b0_3d5424432f57
 *   safari   t13d2014h2_a09f3c656075_14788d8d241b
 *   curl     t12d2808h2_d943125447b4_3c5a66c06c35  (t12d2808h1_... too)
 * Firefox and Safari carry the padding extension because their hellos fall
 * in 256..511 bytes; a server name long enough to push one past that would
 * drop it, and none of the generated names is.
 */

#define GREASE 0x0a0a   /* placeholder, replaced by a random GREASE value */

#define EXT_SNI       0x0000
#define EXT_STATUS    0x0005
#define EXT_GROUPS    0x000a
#define EXT_ECPF      0x000b
#define EXT_SIGALGS   0x000d
#define EXT_ALPN      0x0010
#define EXT_SCT       0x0012
#define EXT_PADDING   0x0015
#define EXT_ETM       0x0016
#define EXT_EMS       0x0017
#define EXT_COMPCERT  0x001b
#define EXT_RSL       0x001c
#define EXT_DELEG     0x0022
#define EXT_TICKET    0x0023
#define EXT_VERSIONS  0x002b
#define EXT_PSKMODES  0x002d
#define EXT_KEYSHARE  0x0033
#define EXT_ALPS      0x4469
#define EXT_ECH       0xfe0d
#define EXT_RENEG     0xff01

#define LIST(...) (const uint16_t[]){__VA_ARGS__}, \
    sizeof((const uint16_t[]){__VA_ARGS__}) / sizeof(uint16_t)

struct shape_def {
    const char *name;
    const uint16_t *ciphers; size_t n_ciphers;
    const uint16_t *exts; size_t n_exts;
    const uint16_t *groups; size_t n_groups;
    const uint16_t *sigalgs; size_t n_sigalgs;
    const uint16_t *versions; size_t n_versions;
    const uint16_t *shares; size_t n_shares;
    const uint16_t *ecpf; size_t n_ecpf;
    const uint16_t *compcert; size_t n_compcert;
    const uint16_t *deleg; size_t n_deleg;
    size_t sid_len;
    bool tls13;
    bool shuffle;     /* permute all but the GREASE extensions */
    bool pad;         /* pad the hello to 512 bytes when 256..511 */
};

static const struct shape_def shapes[N_SHAPES] = {
    [SHAPE_CHROME] = {
        "chrome",
        LIST(GREASE, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030,
             0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035),
        LIST(GREASE, EXT_SNI, EXT_EMS, EXT_RENEG, EXT_GROUPS, EXT_ECPF,
             EXT_TICKET, EXT_ALPN, EXT_STATUS, EXT_SIGALGS, EXT_SCT,
             EXT_KEYSHARE, EXT_PSKMODES, EXT_VERSIONS, EXT_COMPCERT, EXT_ALPS,
             EXT_ECH, GREASE),
        LIST(GREASE, 0x001d, 0x0017, 0x0018),
        LIST(0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601),
        LIST(GREASE, 0x0304, 0x0303),
        LIST(GREASE, 0x001d),
        LIST(0),
        LIST(0x0002),
        NULL, 0,
        32, true, true, false,
    },
    [SHAPE_FIREFOX] = {
        "firefox",
        LIST(0x1301, 0x1303, 0x1302, 0xc02b, 0xc02f, 0xcca9, 0xcca8, 0xc02c,
             0xc030, 0xc00a, 0xc009, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f,
             0x0035),
        LIST(EXT_SNI, EXT_EMS, EXT_RENEG, EXT_GROUPS, EXT_ECPF, EXT_TICKET,
             EXT_ALPN, EXT_STATUS, EXT_DELEG, EXT_KEYSHARE, EXT_VERSIONS,
             EXT_SIGALGS, EXT_PSKMODES, EXT_RSL),
        LIST(0x001d, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101),
        LIST(0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501,
             0x0601, 0x0203, 0x0201),
        LIST(0x0304, 0x0303),
        LIST(0x001d, 0x0017),
        LIST(0),
        NULL, 0,
        LIST(0x0403, 0x0503, 0x0603, 0x0203),
        32, true, false, true,
    },
    [SHAPE_SAFARI] = {
        "safari",
        LIST(GREASE, 0x1301, 0x1302, 0x1303, 0xc02c, 0xc02b, 0xcca9, 0xc030,
             0xc02f, 0xcca8, 0xc00a, 0xc009, 0xc014, 0xc013, 0x009d, 0x009c,
             0x0035, 0x002f, 0xc008, 0xc012, 0x000a),
        LIST(GREASE, EXT_SNI, EXT_EMS, EXT_RENEG, EXT_GROUPS, EXT_ECPF,
             EXT_ALPN, EXT_STATUS, EXT_SIGALGS, EXT_SCT, EXT_KEYSHARE,
             EXT_PSKMODES, EXT_VERSIONS, EXT_COMPCERT, GREASE),
        LIST(GREASE, 0x001d, 0x0017, 0x0018, 0x0019),
        /* 0x0805 twice, as Safari sends it */
        LIST(0x0403, 0x0804, 0x0401, 0x0503, 0x0203, 0x0805, 0x0805, 0x0501,
             0x0806, 0x0601, 0x0201),
        LIST(GREASE, 0x0304, 0x0303, 0x0302, 0x0301),
        LIST(GREASE, 0x001d),
        LIST(0),
        LIST(0x0001),
        NULL, 0,
        32, true, false, true,
    },
    [SHAPE_CURL12] = {
        "curl-tls12",
        LIST(0xc02c, 0xc030, 0x009f, 0xcca9, 0xcca8, 0xccaa, 0xc02b, 0xc02f,
             0x009e, 0xc024, 0xc028, 0x006b, 0xc023, 0xc027, 0x0067, 0xc00a,
             0xc014, 0x0039, 0xc009, 0xc013, 0x0033, 0x009d, 0x009c, 0x003d,
             0x003c, 0x0035, 0x002f, 0x00ff),
        LIST(EXT_SNI, EXT_ECPF, EXT_GROUPS, EXT_TICKET, EXT_ALPN, EXT_ETM,
             EXT_EMS, EXT_SIGALGS),
        LIST(0x001d, 0x0017, 0x001e, 0x0019, 0x0018),
        LIST(0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0809, 0x080a, 0x080b,
             0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0303, 0x0203,
             0x0301, 0x0201, 0x0302, 0x0202, 0x0402, 0x0502, 0x0602),
        NULL, 0,
        NULL, 0,
        LIST(0, 1, 2),
        NULL, 0,
        NULL, 0,
        0, false, false, false,
    },
};

struct hello_ctx {
    const struct shape_def *sh;
    const char *sni;
    bool alpn_h2;
    uint16_t g_cipher, g_ext1, g_ext2, g_group, g_version;
};

static uint16_t grease_value(void)
{
    unsigned k = rnd_below(16);
    return (uint16_t)((k << 12) | 0x0a00 | (k << 4) | 0x0a);
}

static void put_list16(struct buf *b, const uint16_t *v, size_t n, uint16_t g,
                       int lenwidth)
{
    size_t at = len_open(b, lenwidth);
    for (size_t i = 0; i < n; i++)
        put_u16(b, v[i] == GREASE ? g : v[i]);
    len_close(b, at, lenwidth);
}

static void put_ext(struct buf *b, uint16_t type, const struct hello_ctx *cx,
                    bool last_grease)
{
    const struct shape_def *sh = cx->sh;
    size_t at, in;

    if (type == GREASE) {
        put_u16(b, last_grease ? cx->g_ext2 : cx->g_ext1);
        if (last_grease) {
            put_u16(b, 1);
            put_u8(b, 0);
        } else {
            put_u16(b, 0);
        }
        return;
    }
    put_u16(b, type);
    at = len_open(b, 2);
    switch (type) {
    case EXT_SNI:
        in = len_open(b, 2);
        put_u8(b, 0);
        put_u16(b, (unsigned)strlen(cx->sni));
        put(b, cx->sni, strlen(cx->sni));
        len_close(b, in, 2);
        break;
    case EXT_STATUS:
        put_u8(b, 1);
        put_u16(b, 0);
        put_u16(b, 0);
        break;
    case EXT_GROUPS:
        put_list16(b, sh->groups, sh->n_groups, cx->g_group, 2);
        break;
    case EXT_ECPF:
        put_u8(b, (unsigned)sh->n_ecpf);
        for (size_t i = 0; i < sh->n_ecpf; i++)
            put_u8(b, sh->ecpf[i]);
        break;
    case EXT_SIGALGS:
        put_list16(b, sh->sigalgs, sh->n_sigalgs, 0, 2);
        break;
    case EXT_ALPN:
        in = len_open(b, 2);
        if (cx->alpn_h2)
            put_str8(b, "h2");
        put_str8(b, "http/1.1");
        len_close(b, in, 2);
        break;
    case EXT_VERSIONS:
        put_list16(b, sh->versions, sh->n_versions, cx->g_version, 1);
        break;
    case EXT_PSKMODES:
        put_u8(b, 1);
        put_u8(b, 1);
        break;
    case EXT_KEYSHARE:
        in = len_open(b, 2);
        for (size_t i = 0; i < sh->n_shares; i++) {
            uint16_t g = sh->shares[i];
            if (g == GREASE) {
                put_u16(b, cx->g_group);
                put_u16(b, 1);
                put_u8(b, 0);
            } else if (g == 0x001d) {
                put_u16(b, g);
                put_u16(b, 32);
                put_rand(b, 32);
            } else {                      /* secp256r1, uncompressed */
                put_u16(b, g);
                put_u16(b, 65);
                put_u8(b, 4);
                put_rand(b, 64);
            }
        }
        len_close(b, in, 2);
        break;
    case EXT_COMPCERT:
        put_u8(b, (unsigned)(2 * sh->n_compcert));
        for (size_t i = 0; i < sh->n_compcert; i++)
            put_u16(b, sh->compcert[i]);
        break;
    case EXT_RSL:
        put_u16(b, 0x4001);
        break;
    case EXT_DELEG:
        put_list16(b, sh->deleg, sh->n_deleg, 0, 2);
        break;
    case EXT_ALPS:
        in = len_open(b, 2);
        put_str8(b, "h2");
        len_close(b, in, 2);
        break;
    case EXT_ECH: {                       /* GREASE ECH, outer hello */
        static const uint16_t payload[] = {144, 176, 208, 240};
        put_u8(b, 0);
        put_u16(b, 0x0001);
        put_u16(b, 0x0001);
        put_u8(b, rnd_below(256));
        put_u16(b, 32);
        put_rand(b, 32);
        uint16_t n = payload[rnd_below(4)];
        put_u16(b, n);
        put_rand(b, n);
        break;
    }
    case EXT_RENEG:
        put_u8(b, 0);
        break;
    default:                              /* EMS, SCT, ticket, ETM: empty */
        break;
    }
    len_close(b, at, 2);
}

/* Append a ClientHello record; its session id goes to sid (may be empty). */
static void client_hello(struct buf *b, const struct hello_ctx *cx,
                         uint8_t sid[32], uint8_t random_out[32])
{
    const struct shape_def *sh = cx->sh;
    uint16_t order[32];
    size_t n = sh->n_exts;

    memcpy(order, sh->exts, n * sizeof order[0]);
    if (sh->shuffle) {
        /* GREASE stays first and last; everything between is permuted. */
        for (size_t i = n - 2; i > 1; i--) {
            size_t j = 1 + rnd_below((uint32_t)i);
            uint16_t t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }

    put_u8(b, CT_HANDSHAKE);
    put_u16(b, 0x0301);
    size_t rec = len_open(b, 2);
    put_u8(b, HS_CLIENT_HELLO);
    size_t hs = len_open(b, 3);
    put_u16(b, 0x0303);
    put_rand(b, 32);
    memcpy(random_out, b->p + b->len - 32, 32);
    put_u8(b, (unsigned)sh->sid_len);
    if (sh->sid_len) {
        rnd_bytes(sid, 32);
        put(b, sid, 32);
    }
    put_list16(b, sh->ciphers, sh->n_ciphers, cx->g_cipher, 2);
    put_u8(b, 1);
    put_u8(b, 0);
    size_t ext = len_open(b, 2);
    bool seen_grease = false;
    for (size_t i = 0; i < n; i++) {
        put_ext(b, order[i], cx, order[i] == GREASE && seen_grease);
        if (order[i] == GREASE)
            seen_grease = true;
    }
    if (sh->pad) {
        size_t msg = 4 + (b->len - hs - 3);
        if (msg > 0xff && msg < 0x200) {
            size_t padlen = 0x200 - msg;
            padlen = padlen >= 5 ? padlen - 4 : 1;
            put_u16(b, EXT_PADDING);
            put_u16(b, (unsigned)padlen);
            memset(buf_room(b, padlen), 0, padlen);
        }
    }
    len_close(b, ext, 2);
    len_close(b, hs, 3);
    len_close(b, rec, 2);
}

/* ------------------------------------------------------------------ */
/* Server flights.                                                     */

static size_t rec_open(struct buf *b, unsigned type)
{
    put_u8(b, type);
    put_u16(b, 0x0303);
    return len_open(b, 2);
}

static void ccs(struct buf *b)
{
    put_u8(b, CT_CCS);
    put_u16(b, 0x0303);
    put_u16(b, 1);
    put_u8(b, 1);
}

static void opaque_record(struct buf *b, unsigned type, size_t n)
{
    size_t r = rec_open(b, type);
    put_rand(b, n);
    len_close(b, r, 2);
}

/* ---- TLS 1.3 handshake encryption (--dense keyed connections) ---- */

/* HKDF-Expand-Label(secret, label, "", len) of RFC 8446 7.1, for outputs
 * no longer than one hash block (keys and IVs). */
static void hkdf_label(const EVP_MD *md, const uint8_t *secret, size_t slen,
                       const char *label, uint8_t *out, size_t len)
{
    uint8_t info[64], t[EVP_MAX_MD_SIZE];
    size_t n = 0, ll = strlen(label);
    unsigned tl = 0;
    info[n++] = (uint8_t)(len >> 8);
    info[n++] = (uint8_t)len;
    info[n++] = (uint8_t)(6 + ll);
    memcpy(info + n, "tls13 ", 6);
    n += 6;
    memcpy(info + n, label, ll);
    n += ll;
    info[n++] = 0;          /* empty context */
    info[n++] = 1;          /* T(1) */
    if (!HMAC(md, secret, (int)slen, info, n, t, &tl) || tl < len)
        die("HMAC failed");
    memcpy(out, t, len);
}

/* One direction's handshake epoch: AEAD key, IV and record number. */
struct epoch {
    const EVP_CIPHER *aead;
    uint8_t key[32], iv[12];
    uint64_t seq;
};

static void epoch_init(struct epoch *e, uint16_t suite, const uint8_t *secret, size_t slen)
{
    const EVP_MD *md = suite == 0x1302 ? EVP_sha384() : EVP_sha256();
    size_t klen = suite == 0x1301 ? 16 : 32;
    e->aead = suite == 0x1301 ? EVP_aes_128_gcm() : suite == 0x1302 ? EVP_aes_256_gcm()
                                                                   : EVP_chacha20_poly1305();
    hkdf_label(md, secret, slen, "key", e->key, klen);
    hkdf_label(md, secret, slen, "iv", e->iv, 12);
    e->seq = 0;
}

/* Seal plain[0..n) + inner content type 22 into one application_data
 * record (RFC 8446 5.2). */
static void sealed_record(struct buf *b, struct epoch *e, const uint8_t *plain, size_t n)
{
    size_t clen = n + 1 + 16;
    uint8_t hdr[5] = {CT_APPDATA, 3, 3, (uint8_t)(clen >> 8), (uint8_t)clen};
    uint8_t nonce[12];
    memcpy(nonce, e->iv, 12);
    for (int i = 0; i < 8; i++)
        nonce[11 - i] ^= (uint8_t)(e->seq >> (8 * i));
    e->seq++;
    put(b, hdr, 5);
    uint8_t *in = malloc(n + 1), *out = buf_room(b, clen);
    if (!in)
        die("out of memory");
    memcpy(in, plain, n);
    in[n] = CT_HANDSHAKE;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int ol = 0, fl = 0;
    if (!c || !EVP_EncryptInit_ex(c, e->aead, NULL, e->key, nonce) ||
        !EVP_EncryptUpdate(c, NULL, &ol, hdr, 5) ||
        !EVP_EncryptUpdate(c, out, &ol, in, (int)n + 1) ||
        !EVP_EncryptFinal_ex(c, out + ol, &fl) ||
        !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, out + n + 1))
        die("AEAD failed");
    EVP_CIPHER_CTX_free(c);
    free(in);
}

static void keylog_line(const char *label, const uint8_t random[32], const uint8_t *secret,
                        size_t slen)
{
    fprintf(keylog_out, "%s ", label);
    for (int i = 0; i < 32; i++)
        fprintf(keylog_out, "%02x", random[i]);
    fputc(' ', keylog_out);
    for (size_t i = 0; i < slen; i++)
        fprintf(keylog_out, "%02x", secret[i]);
    fputc('\n', keylog_out);
}

/* The server's encrypted flight and the client's Finished of a keyed TLS
 * 1.3 connection: the messages in clear, sealed under the handshake keys
 * of random secrets that go to the key log. */
static void keyed_flights13(struct buf *sv, struct buf *cl, const struct server *s,
                            const uint8_t client_random[32], bool alpn_h2, bool coalesce)
{
    size_t slen = s->cs13 == 0x1302 ? 48 : 32;
    uint8_t cs[48], ss[48];
    rnd_bytes(cs, slen);
    rnd_bytes(ss, slen);
    keylog_line("CLIENT_HANDSHAKE_TRAFFIC_SECRET", client_random, cs, slen);
    keylog_line("SERVER_HANDSHAKE_TRAFFIC_SECRET", client_random, ss, slen);
    struct epoch se, ce;
    epoch_init(&se, s->cs13, ss, slen);
    epoch_init(&ce, s->cs13, cs, slen);

    struct buf m[4] = {{0}};
    /* EncryptedExtensions: ALPN. */
    put_u8(&m[0], 8);
    size_t hs = len_open(&m[0], 3);
    size_t ext = len_open(&m[0], 2);
    put_u16(&m[0], EXT_ALPN);
    size_t a = len_open(&m[0], 2);
    size_t al = len_open(&m[0], 2);
    put_str8(&m[0], alpn_h2 ? "h2" : "http/1.1");
    len_close(&m[0], al, 2);
    len_close(&m[0], a, 2);
    len_close(&m[0], ext, 2);
    len_close(&m[0], hs, 3);
    /* Certificate: context, then each certificate with empty extensions. */
    put_u8(&m[1], HS_CERTIFICATE);
    hs = len_open(&m[1], 3);
    put_u8(&m[1], 0);
    size_t list = len_open(&m[1], 3);
    for (size_t off = 0; off < s->chain.len;) {
        size_t n = (size_t)s->chain.p[off] << 16 | (size_t)s->chain.p[off + 1] << 8 |
                   s->chain.p[off + 2];
        put(&m[1], s->chain.p + off, 3 + n);
        put_u16(&m[1], 0);
        off += 3 + n;
    }
    len_close(&m[1], list, 3);
    len_close(&m[1], hs, 3);
    /* CertificateVerify (rsa_pss_rsae_sha256) and Finished. */
    put_u8(&m[2], 15);
    hs = len_open(&m[2], 3);
    put_u16(&m[2], 0x0804);
    put_u16(&m[2], 256);
    put_rand(&m[2], 256);
    len_close(&m[2], hs, 3);
    put_u8(&m[3], 20);
    put_u24(&m[3], slen);
    put_rand(&m[3], slen);
    if (coalesce) {
        struct buf all = {0};
        for (int i = 0; i < 4; i++)
            put(&all, m[i].p, m[i].len);
        sealed_record(sv, &se, all.p, all.len);
        buf_free(&all);
    } else {
        for (int i = 0; i < 4; i++)
            sealed_record(sv, &se, m[i].p, m[i].len);
    }
    struct buf fin_msg = {0};
    put_u8(&fin_msg, 20);
    put_u24(&fin_msg, slen);
    put_rand(&fin_msg, slen);
    ccs(cl);
    sealed_record(cl, &ce, fin_msg.p, fin_msg.len);
    buf_free(&fin_msg);
    for (int i = 0; i < 4; i++)
        buf_free(&m[i]);
}

static void server_hello13(struct buf *b, const struct server *s,
                           const uint8_t sid[32])
{
    size_t r = rec_open(b, CT_HANDSHAKE);
    put_u8(b, HS_SERVER_HELLO);
    size_t hs = len_open(b, 3);
    put_u16(b, 0x0303);
    put_rand(b, 32);
    put_u8(b, 32);
    put(b, sid, 32);
    put_u16(b, s->cs13);
    put_u8(b, 0);
    size_t ext = len_open(b, 2);
    for (int i = 0; i < 2; i++) {
        if ((i == 0) == s->sv_first) {
            put_u16(b, EXT_VERSIONS);
            put_u16(b, 2);
            put_u16(b, 0x0304);
        } else {
            put_u16(b, EXT_KEYSHARE);
            put_u16(b, 36);
            put_u16(b, 0x001d);
            put_u16(b, 32);
            put_rand(b, 32);
        }
    }
    len_close(b, ext, 2);
    len_close(b, hs, 3);
    len_close(b, r, 2);
}

/* ServerHello..ServerHelloDone for TLS 1.2 (RFC 5246 7.4), in one record
 * or one record per message depending on the server. */
static void server_flight12(struct buf *b, const struct server *s, bool alpn_h2)
{
    size_t r = rec_open(b, CT_HANDSHAKE);

    put_u8(b, HS_SERVER_HELLO);
    size_t hs = len_open(b, 3);
    put_u16(b, 0x0303);
    put_rand(b, 32);
    put_u8(b, 32);
    put_rand(b, 32);
    put_u16(b, s->cs12);
    put_u8(b, 0);
    size_t ext = len_open(b, 2);
    put_u16(b, EXT_RENEG);
    put_u16(b, 1);
    put_u8(b, 0);
    put_u16(b, EXT_ECPF);
    put_u16(b, 4);
    put_u8(b, 3);
    put_u8(b, 0);
    put_u8(b, 1);
    put_u8(b, 2);
    if (s->ticket) {
        put_u16(b, EXT_TICKET);
        put_u16(b, 0);
    }
    put_u16(b, EXT_ALPN);
    size_t a = len_open(b, 2);
    size_t al = len_open(b, 2);
    put_str8(b, alpn_h2 ? "h2" : "http/1.1");
    len_close(b, al, 2);
    len_close(b, a, 2);
    put_u16(b, EXT_EMS);
    put_u16(b, 0);
    len_close(b, ext, 2);
    len_close(b, hs, 3);

    if (!s->coalesce) {
        len_close(b, r, 2);
        r = rec_open(b, CT_HANDSHAKE);
    }
    put_u8(b, HS_CERTIFICATE);
    hs = len_open(b, 3);
    put_u24(b, s->chain.len);
    put(b, s->chain.p, s->chain.len);
    len_close(b, hs, 3);

    if (!s->coalesce) {
        len_close(b, r, 2);
        r = rec_open(b, CT_HANDSHAKE);
    }
    put_u8(b, HS_SERVER_KX);
    hs = len_open(b, 3);
    put_u8(b, 3);
    put_u16(b, 0x001d);
    put_u8(b, 32);
    put_rand(b, 32);
    put_u16(b, 0x0804);
    put_u16(b, 256);
    put_rand(b, 256);
    len_close(b, hs, 3);

    if (!s->coalesce) {
        len_close(b, r, 2);
        r = rec_open(b, CT_HANDSHAKE);
    }
    put_u8(b, HS_SERVER_DONE);
    put_u24(b, 0);
    len_close(b, r, 2);
}

/* ------------------------------------------------------------------ */
/* Flows: byte streams per direction plus a script of packets.         */

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_PSH 0x08
#define TH_ACK 0x10

struct pd {                 /* one packet to emit */
    uint32_t seq, ack;      /* relative to each side's ISN */
    uint16_t len;
    uint8_t dir, flags;     /* dir 0: client -> server */
};

struct flow {
    const struct client *c;
    const struct server *s;
    bool v6, ts, tls13;
    uint16_t vlan, sport, mss, seg;  /* seg: payload bytes per full segment */
    uint32_t isn[2], flowlabel[2], tsoff[2], tslast[2];
    uint16_t ipid[2], win[2];
    struct buf st[2];
    struct pd *pk;
    size_t npk, cap, next;
    uint32_t sent[2];
    bool fin[2];
};

static struct {
    uint64_t packets, wire_bytes, file_bytes, full_segs, payload, full_payload;
    uint32_t flows, v6, vlan, split, ooo, tls13, tls12, keyed, shape[N_SHAPES];
    uint32_t max_open;
} stats;

static void pd_add(struct flow *f, int dir, unsigned flags, uint32_t seq,
                   uint32_t ack, size_t len)
{
    if (f->npk == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 64;
        f->pk = realloc(f->pk, f->cap * sizeof *f->pk);
        if (!f->pk)
            die("out of memory");
    }
    f->pk[f->npk++] = (struct pd){seq, ack, (uint16_t)len, (uint8_t)dir,
                                  (uint8_t)flags};
}

static uint32_t peer_ack(const struct flow *f, int dir)
{
    return 1 + f->sent[!dir] + (f->fin[!dir] ? 1 : 0);
}

static void seg(struct flow *f, int dir, size_t len, unsigned flags)
{
    pd_add(f, dir, flags | TH_ACK, 1 + f->sent[dir] + (f->fin[dir] ? 1 : 0),
           peer_ack(f, dir), len);
    f->sent[dir] += (uint32_t)len;
}

static void pure_ack(struct flow *f, int dir)
{
    seg(f, dir, 0, 0);
}

/* Send everything queued in direction dir in full-size segments.  The
 * receiver ACKs every second full segment (delayed ACK) and, if
 * final_ack, once more after the last segment when that is unacked. */
static void flush(struct flow *f, int dir, bool final_ack)
{
    uint32_t end = (uint32_t)f->st[dir].len;
    int unacked = 0;
    while (f->sent[dir] < end) {
        uint32_t n = end - f->sent[dir];
        if (n > f->seg)
            n = f->seg;
        bool last = f->sent[dir] + n == end;
        seg(f, dir, n, last ? TH_PSH : 0);
        if (++unacked == 2 && !last) {
            pure_ack(f, !dir);
            unacked = 0;
        }
    }
    if (final_ack)
        pure_ack(f, !dir);
}

/* Queue application data as AEAD records of at most 16 KiB plaintext. */
static void app_data(struct flow *f, int dir, size_t n)
{
    size_t overhead = f->tls13 ? 17 : 24;
    while (n > 0) {
        size_t k = n < TLS_MAX_PLAIN ? n : TLS_MAX_PLAIN;
        opaque_record(&f->st[dir], CT_APPDATA, k + overhead);
        n -= k;
    }
}

static void send_app(struct flow *f, int dir, size_t n, bool final_ack)
{
    app_data(f, dir, n);
    flush(f, dir, final_ack);
}

/* --dense: short requests and their responses (--exchanges, default 1). */
static unsigned dense_exchanges = 1;

static void phase_min(struct flow *f)
{
    for (unsigned i = 0; i < dense_exchanges; i++) {
        send_app(f, 0, rnd_range(150, 700), false);
        send_app(f, 1, rnd_range(200, 4000), true);
    }
}

/* Request/response exchanges, as a browser loading a page. */
static void phase_web(struct flow *f)
{
    int n = 1;
    while (n < 30 && chance(78))
        n++;
    for (int i = 0; i < n; i++) {
        send_app(f, 0, i == 0 ? rnd_range(150, 650) : rnd_range(40, 380), false);
        if (chance(40))
            pure_ack(f, 1);
        unsigned k = rnd_below(100);
        size_t resp = k < 60 ? rnd_range(30, 1200)
                    : k < 92 ? rnd_range(1500, 8000)
                    : rnd_range(10000, 40000);
        send_app(f, 1, resp, true);
        if (chance(25)) {                 /* WINDOW_UPDATE, PING, ... */
            send_app(f, 0, rnd_range(9, 40), false);
            pure_ack(f, 1);
        }
    }
}

/* Many small messages both ways: push channels, APIs, web sockets. */
static void phase_chatty(struct flow *f)
{
    int n = (int)rnd_range(24, 200);
    for (int i = 0; i < n; i++) {
        int dir = chance(60) ? 1 : 0;
        send_app(f, dir, rnd_range(9, 150), false);
        if (chance(70))
            pure_ack(f, !dir);
    }
}

static void phase_download(struct flow *f)
{
    send_app(f, 0, rnd_range(150, 500), false);
    send_app(f, 1, rnd_range(40000, 160000), true);
}

static void phase_upload(struct flow *f)
{
    send_app(f, 0, rnd_range(30000, 120000), true);
    send_app(f, 1, rnd_range(40, 300), true);
}

static void close_notify(struct flow *f, int dir)
{
    if (f->tls13)
        opaque_record(&f->st[dir], CT_APPDATA, 19);
    else
        opaque_record(&f->st[dir], CT_ALERT, 26);
    flush(f, dir, false);
}

static void fin(struct flow *f, int dir)
{
    seg(f, dir, 0, TH_FIN);
    f->fin[dir] = true;
}

static void flow_script(struct flow *f, enum shape shape, bool split, bool ooo)
{
    const struct server *s = f->s;
    struct hello_ctx cx = {
        .sh = &shapes[shape], .sni = s->name,
        .alpn_h2 = shape != SHAPE_CURL12 || chance(70),
        .g_cipher = grease_value(), .g_group = grease_value(),
        .g_version = grease_value(), .g_ext1 = grease_value(),
    };
    do
        cx.g_ext2 = grease_value();
    while (cx.g_ext2 == cx.g_ext1);
    uint8_t sid[32] = {0}, crand[32];

    f->tls13 = shapes[shape].tls13 && s->tls13;
    bool keyed = dense && f->tls13 && chance(35);
    if (keyed)
        stats.keyed++;

    /* TCP three-way handshake. */
    pd_add(f, 0, TH_SYN, 0, 0, 0);
    pd_add(f, 1, TH_SYN | TH_ACK, 0, 1, 0);
    pd_add(f, 0, TH_ACK, 1, 1, 0);

    /* ClientHello, whole or in two segments. */
    client_hello(&f->st[0], &cx, sid, crand);
    uint32_t chlen = (uint32_t)f->st[0].len;
    if (chlen > f->seg)
        die("ClientHello larger than one segment");
    if (split) {
        uint32_t k = chance(15) ? rnd_range(1, 8) : rnd_range(9, chlen - 1);
        if (ooo) {
            pd_add(f, 0, TH_ACK | TH_PSH, 1 + k, 1, chlen - k);
            pd_add(f, 0, TH_ACK, 1, 1, k);
        } else {
            pd_add(f, 0, TH_ACK, 1, 1, k);
            pd_add(f, 0, TH_ACK | TH_PSH, 1 + k, 1, chlen - k);
        }
        f->sent[0] = chlen;
    } else {
        seg(f, 0, chlen, TH_PSH);
    }
    if (chance(40))
        pure_ack(f, 1);

    struct buf *sv = &f->st[1], *cl = &f->st[0];
    if (keyed) {
        server_hello13(sv, s, sid);
        ccs(sv);
        keyed_flights13(sv, cl, s, crand, cx.alpn_h2, s->coalesce);
        flush(f, 1, false);
        flush(f, 0, false);
        opaque_record(sv, CT_APPDATA, 0xda);
        flush(f, 1, false);
    } else if (f->tls13) {
        server_hello13(sv, s, sid);
        ccs(sv);
        size_t cert = 4 + 1 + 3 + s->chain_der + (size_t)s->ncert * 5;
        size_t ee = 4 + 2 + 4 + 2 + 1 + (cx.alpn_h2 ? 2 : 8);
        size_t cv = 4 + 4 + 256, fin_msg = 4 + 32;
        if (s->coalesce) {
            opaque_record(sv, CT_APPDATA, ee + cert + cv + fin_msg + 17);
        } else {
            opaque_record(sv, CT_APPDATA, ee + 17);
            opaque_record(sv, CT_APPDATA, cert + 17);
            opaque_record(sv, CT_APPDATA, cv + 17);
            opaque_record(sv, CT_APPDATA, fin_msg + 17);
        }
        flush(f, 1, false);
        ccs(cl);
        opaque_record(cl, CT_APPDATA, 53);
        flush(f, 0, false);
        opaque_record(sv, CT_APPDATA, 0xda);
        if (chance(60))
            opaque_record(sv, CT_APPDATA, 0xda);
        flush(f, 1, false);
    } else {
        server_flight12(sv, s, cx.alpn_h2);
        flush(f, 1, false);
        size_t r = rec_open(cl, CT_HANDSHAKE);
        put_u8(cl, HS_CLIENT_KX);
        put_u24(cl, 33);
        put_u8(cl, 32);
        put_rand(cl, 32);
        len_close(cl, r, 2);
        ccs(cl);
        opaque_record(cl, CT_HANDSHAKE, 40);
        flush(f, 0, false);
        if (s->ticket) {
            r = rec_open(sv, CT_HANDSHAKE);
            put_u8(sv, HS_NEW_TICKET);
            size_t hs = len_open(sv, 3);
            put_u32(sv, chance(50) ? 7200 : 300);
            put_u16(sv, 192);
            put_rand(sv, 192);
            len_close(sv, hs, 3);
            len_close(sv, r, 2);
        }
        ccs(sv);
        opaque_record(sv, CT_HANDSHAKE, 40);
        flush(f, 1, false);
    }

    unsigned p = dense ? 100 : rnd_below(100);
    if (p == 100)
        phase_min(f);
    else if (p < 40)
        phase_web(f);
    else if (p < 90)
        phase_chatty(f);
    else if (p < 97)
        phase_download(f);
    else
        phase_upload(f);

    /* Teardown: close_notify, FIN from the closer, FIN+ACK, last ACK. */
    int closer = chance(60) ? 0 : 1;
    close_notify(f, closer);
    fin(f, closer);
    fin(f, !closer);
    pure_ack(f, closer);
}

static struct flow *flow_new(void)
{
    struct flow *f = calloc(1, sizeof *f);
    if (!f)
        die("out of memory");
    struct client *c = &clients[rnd_below(n_clients)];
    f->c = c;
    f->s = pick_server();
    f->v6 = c->v6 && f->s->has_v6 && chance(90);
    f->vlan = c->vlan;
    f->ts = c->os != OS_WINDOWS;
    f->sport = c->next_port;
    c->next_port = c->next_port >= 60999 ? 32768 : (uint16_t)(c->next_port + 1);
    f->mss = f->v6 ? 1440 : 1460;
    f->seg = (uint16_t)(f->mss - (f->ts ? 12 : 0));
    for (int d = 0; d < 2; d++) {
        f->isn[d] = (uint32_t)rnd();
        f->flowlabel[d] = rnd_below(1u << 20);
        f->tsoff[d] = (uint32_t)rnd();
        f->ipid[d] = (uint16_t)rnd();
    }
    f->win[0] = (uint16_t)rnd_range(500, 2052);
    f->win[1] = (uint16_t)rnd_range(240, 510);

    unsigned r = rnd_below(100);
    enum shape shape = r < 22 ? SHAPE_CURL12 : (enum shape)c->browser;
    bool split = chance(20);
    bool ooo = split && chance(25);
    flow_script(f, shape, split, ooo);

    stats.flows++;
    stats.v6 += f->v6;
    stats.vlan += f->vlan != 0;
    stats.split += split;
    stats.ooo += ooo;
    stats.shape[shape]++;
    if (f->tls13)
        stats.tls13++;
    else
        stats.tls12++;
    return f;
}

static void flow_free(struct flow *f)
{
    buf_free(&f->st[0]);
    buf_free(&f->st[1]);
    free(f->pk);
    free(f);
}

/* ------------------------------------------------------------------ */
/* Packet encoding and pcap output.                                    */

static FILE *out;
static uint64_t clock_us;

/* One's-complement sum (RFC 1071) in native byte order. */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        sum += (w & 0xffffffffu) + (w >> 32);
        p += 8;
        n -= 8;
    }
    while (n >= 2) {
        uint16_t w;
        memcpy(&w, p, 2);
        sum += w;
        p += 2;
        n -= 2;
    }
    if (n) {
        uint16_t w = 0;
        memcpy(&w, p, 1);
        sum += w;
    }
    return sum;
}

static void csum_store(uint8_t *at, uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    uint16_t c = (uint16_t)~sum;
    memcpy(at, &c, 2);
}

static void wr16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    wr16(p, v >> 16);
    wr16(p + 2, v & 0xffff);
}

static void le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void write_or_die(const void *p, size_t n)
{
    if (fwrite(p, 1, n, out) != n)
        die("write failed");
    stats.file_bytes += n;
}

static void pcap_header(void)
{
    uint8_t h[24] = {0};
    le32(h, 0xa1b2c3d4);
    h[4] = 2;                           /* version 2.4, little-endian */
    h[6] = 4;
    le32(h + 16, 262144);               /* snaplen */
    le32(h + 20, 1);                    /* LINKTYPE_ETHERNET */
    write_or_die(h, sizeof h);
}

/* TCP options: SYN per client OS (or the server's reply), else timestamps. */
static size_t tcp_options(const struct flow *f, const struct pd *d,
                          uint8_t *o, uint32_t tsval, uint32_t tsecr)
{
    size_t n = 0;
#define OPT_MSS() (o[n] = 2, o[n + 1] = 4, wr16(o + n + 2, f->mss), n += 4)
#define OPT_TS() (o[n] = 8, o[n + 1] = 10, wr32(o + n + 2, tsval), \
                  wr32(o + n + 6, tsecr), n += 10)
#define OPT_WS(s) (o[n] = 3, o[n + 1] = 3, o[n + 2] = (s), n += 3)
#define OPT_SACKOK() (o[n] = 4, o[n + 1] = 2, n += 2)
#define OPT_NOP() (o[n++] = 1)
    if (!(d->flags & TH_SYN)) {
        if (f->ts) {
            OPT_NOP();
            OPT_NOP();
            OPT_TS();
        }
        return n;
    }
    if (d->dir == 1) {
        OPT_MSS();
        if (f->ts) {
            OPT_SACKOK();
            OPT_TS();
            OPT_NOP();
        } else {
            OPT_NOP();
            OPT_NOP();
            OPT_SACKOK();
            OPT_NOP();
        }
        OPT_WS(9);
        return n;
    }
    switch (f->c->os) {
    case OS_LINUX:
        OPT_MSS();
        OPT_SACKOK();
        OPT_TS();
        OPT_NOP();
        OPT_WS(7);
        break;
    case OS_WINDOWS:
        OPT_MSS();
        OPT_NOP();
        OPT_WS(8);
        OPT_NOP();
        OPT_NOP();
        OPT_SACKOK();
        break;
    default:
        OPT_MSS();
        OPT_NOP();
        OPT_WS(6);
        OPT_NOP();
        OPT_NOP();
        OPT_TS();
        OPT_SACKOK();
        o[n++] = 0;
        o[n++] = 0;
        break;
    }
#undef OPT_MSS
#undef OPT_TS
#undef OPT_WS
#undef OPT_SACKOK
#undef OPT_NOP
    return n;
}

static void emit(struct flow *f, const struct pd *d)
{
    static uint8_t frame[2048];
    const struct client *c = f->c;
    const struct server *s = f->s;
    int dir = d->dir;
    size_t off = 0;

    clock_us += 1 + rnd_below(2 * MEAN_GAP_US);

    /* Ethernet II (+ 802.1Q). */
    memcpy(frame, dir ? c->mac : gw_mac, 6);
    memcpy(frame + 6, dir ? gw_mac : c->mac, 6);
    off = 12;
    if (f->vlan) {
        wr16(frame + off, 0x8100);
        wr16(frame + off + 2, f->vlan);
        off += 4;
    }
    wr16(frame + off, f->v6 ? 0x86dd : 0x0800);
    off += 2;

    size_t ip = off, iphl = f->v6 ? 40 : 20;
    size_t tcp = ip + iphl;

    /* TCP header (RFC 9293 3.1). */
    uint32_t tsval = f->tsoff[dir] + (uint32_t)(clock_us / 1000);
    uint32_t tsecr = d->flags == TH_SYN ? 0 : f->tslast[!dir];
    f->tslast[dir] = tsval;
    size_t optlen = tcp_options(f, d, frame + tcp + 20, tsval, tsecr);
    size_t thl = 20 + optlen;
    uint8_t *t = frame + tcp;
    wr16(t, dir ? 443 : f->sport);
    wr16(t + 2, dir ? f->sport : 443);
    wr32(t + 4, f->isn[dir] + d->seq);
    wr32(t + 8, (d->flags & TH_ACK) ? f->isn[!dir] + d->ack : 0);
    t[12] = (uint8_t)((thl / 4) << 4);
    t[13] = d->flags;
    unsigned win = f->win[dir];
    if (d->flags & TH_SYN)
        win = dir ? 65160 : (f->c->os == OS_MACOS ? 65535 : 64240);
    wr16(t + 14, win);
    wr16(t + 16, 0);
    wr16(t + 18, 0);
    if (d->len)
        memcpy(t + thl, f->st[dir].p + (d->seq - 1), d->len);
    size_t tcplen = thl + d->len;

    uint8_t pseudo[40];
    size_t plen;
    const uint8_t *src4 = dir ? s->ip4 : c->ip4, *dst4 = dir ? c->ip4 : s->ip4;
    const uint8_t *src6 = dir ? s->ip6 : c->ip6, *dst6 = dir ? c->ip6 : s->ip6;
    uint8_t ttl = dir ? s->ttl : (c->os == OS_WINDOWS ? 128 : 64);
    uint8_t *h = frame + ip;
    if (f->v6) {                        /* RFC 8200 3 */
        wr32(h, (6u << 28) | f->flowlabel[dir]);
        wr16(h + 4, (unsigned)tcplen);
        h[6] = 6;
        h[7] = ttl;
        memcpy(h + 8, src6, 16);
        memcpy(h + 24, dst6, 16);
        memcpy(pseudo, src6, 16);
        memcpy(pseudo + 16, dst6, 16);
        wr32(pseudo + 32, (uint32_t)tcplen);
        wr32(pseudo + 36, 6);
        plen = 40;
    } else {                            /* RFC 791 3.1 */
        h[0] = 0x45;
        h[1] = 0;
        wr16(h + 2, (unsigned)(20 + tcplen));
        wr16(h + 4, f->ipid[dir]++);
        wr16(h + 6, 0x4000);
        h[8] = ttl;
        h[9] = 6;
        wr16(h + 10, 0);
        memcpy(h + 12, src4, 4);
        memcpy(h + 16, dst4, 4);
        csum_store(h + 10, csum_add(0, h, 20));
        memcpy(pseudo, src4, 4);
        memcpy(pseudo + 4, dst4, 4);
        pseudo[8] = 0;
        pseudo[9] = 6;
        wr16(pseudo + 10, (unsigned)tcplen);
        plen = 12;
    }
    csum_store(t + 16, csum_add(csum_add(0, pseudo, plen), t, tcplen));

    size_t caplen = tcp + tcplen;
    uint8_t rh[16];
    uint64_t secs = START_TIME + clock_us / 1000000;
    le32(rh, (uint32_t)secs);
    le32(rh + 4, (uint32_t)(clock_us % 1000000));
    le32(rh + 8, (uint32_t)caplen);
    le32(rh + 12, (uint32_t)caplen);
    write_or_die(rh, sizeof rh);
    write_or_die(frame, caplen);
    stats.packets++;
    stats.wire_bytes += caplen;
    if (d->len == f->seg)
        stats.full_segs++;
    stats.payload += d->len;
    if (d->len == f->seg)
        stats.full_payload += d->len;
}

/* ------------------------------------------------------------------ */

static void usage(void)
{
    fprintf(stderr,
            "usage: gen_bench [--small] OUT.pcap [n_flows] [seed]\n"
            "       gen_bench --dense [--exchanges N] --keylog OUT.keylog OUT.pcap [n_flows] [seed]\n"
            "       gen_bench --version\n");
    exit(2);
}

static unsigned long parse_num(const char *s)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end)
        usage();
    return v;
}

int main(int argc, char **argv)
{
    uint32_t n_flows = DEFAULT_FLOWS;
    uint64_t seed = DEFAULT_SEED;
    const char *path = NULL, *keylog_path = NULL;
    bool small = false;
    int pos = 0;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--version")) {
            printf("gen_bench %d\n", GEN_VERSION);
            return 0;
        } else if (!strcmp(argv[i], "--small")) {
            small = true;
        } else if (!strcmp(argv[i], "--dense")) {
            dense = true;
        } else if (!strcmp(argv[i], "--exchanges") && i + 1 < argc) {
            unsigned long v = parse_num(argv[++i]);
            if (v == 0 || v > 100)
                die("--exchanges must be 1..100");
            dense_exchanges = (unsigned)v;
        } else if (!strcmp(argv[i], "--keylog") && i + 1 < argc) {
            keylog_path = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            usage();
        } else if (pos == 0) {
            path = argv[i];
            pos++;
        } else if (pos == 1) {
            unsigned long v = parse_num(argv[i]);
            if (v == 0 || v > 10000000)
                die("n_flows must be 1..10000000");
            n_flows = (uint32_t)v;
            pos++;
        } else if (pos == 2) {
            seed = parse_num(argv[i]);
            pos++;
        } else {
            usage();
        }
    }
    if (!path)
        usage();
    if (small && pos < 2)
        n_flows = SMALL_FLOWS;
    if (dense && pos < 2)
        n_flows = DENSE_FLOWS;
    if (dense != (keylog_path != NULL))
        usage();
    if (keylog_path && !(keylog_out = fopen(keylog_path, "w"))) {
        perror(keylog_path);
        return 1;
    }

    rng_seed(seed * 0x2545f4914f6cdd1dull + GEN_VERSION);
    for (size_t i = 0; i < POOL_SIZE; i += 8) {
        uint64_t r = rnd();
        memcpy(pool + i, &r, 8);
    }
    make_cas();
    make_servers();
    make_clients(n_flows);

    out = strcmp(path, "-") ? fopen(path, "wb") : stdout;
    if (!out) {
        perror(path);
        return 1;
    }
    setvbuf(out, NULL, _IOFBF, 1 << 22);
    pcap_header();

    struct flow *live[CONCURRENCY];
    uint32_t n_open = 0, started = 0;
    while (started < n_flows || n_open > 0) {
        /* Ramp flows in gradually, then keep about CONCURRENCY open. */
        if (started < n_flows && n_open < CONCURRENCY &&
            (n_open == 0 || rnd_below(8) == 0)) {
            live[n_open++] = flow_new();
            started++;
            if (n_open > stats.max_open)
                stats.max_open = n_open;
        }
        uint32_t i = rnd_below(n_open);
        struct flow *f = live[i];
        unsigned burst = 1 + rnd_below(4);
        while (burst-- && f->next < f->npk)
            emit(f, &f->pk[f->next++]);
        if (f->next == f->npk) {
            flow_free(f);
            live[i] = live[--n_open];
        }
    }
    /* The summary goes to stderr when the capture itself is on stdout. */
    FILE *report = out == stdout ? stderr : stdout;
    if (fflush(out) != 0 || ferror(out) || (out != stdout && fclose(out) != 0))
        die("write failed");
    if (keylog_out && fclose(keylog_out) != 0)
        die("key log write failed");

    fprintf(report,
            "gen_bench %d: flows=%u packets=%llu file_bytes=%llu wire_bytes=%llu "
            "tls13=%u tls12=%u tls13_keyed=%u ipv6=%u vlan=%u split_ch=%u ooo_ch=%u "
            "chrome=%u firefox=%u safari=%u curl=%u max_open=%u "
            "servers=%d clients=%u duration_s=%.1f full_segs=%llu "
            "tcp_payload=%llu full_seg_payload=%llu\n",
            GEN_VERSION, stats.flows, (unsigned long long)stats.packets,
            (unsigned long long)stats.file_bytes, (unsigned long long)stats.wire_bytes,
            stats.tls13, stats.tls12, stats.keyed, stats.v6, stats.vlan, stats.split, stats.ooo,
            stats.shape[SHAPE_CHROME], stats.shape[SHAPE_FIREFOX],
            stats.shape[SHAPE_SAFARI], stats.shape[SHAPE_CURL12], stats.max_open,
            n_servers, n_clients, (double)clock_us / 1e6,
            (unsigned long long)stats.full_segs, (unsigned long long)stats.payload,
            (unsigned long long)stats.full_payload);
    return 0;
}
