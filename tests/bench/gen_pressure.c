/*
 * gen_pressure.c - captures that put a sensor under memory pressure, with
 * real TLS connections among or after the attack.
 *
 *   gen_pressure SCENARIO OUT.pcap [--attack N] [--real R] [--seed S]
 *                [--server-delay-ms D]
 *
 * SCENARIO is one of:
 *   stuck     N connections (default 30000) that complete the TCP handshake,
 *             send a ClientHello and then nothing: no server answer, no
 *             FIN; sent over the first 10 s.  The R real connections
 *             (default 2000) follow over the next 100 s.
 *   halfopen  N SYN/SYN-ACK pairs (default 100000) that never go further,
 *             over the first 10 s; the real connections follow.
 *   ooo       N connections (default 20000) that send 4 full segments
 *             after a hole that is never filled (the reassembly buffers
 *             them all), over the first 10 s; the real connections follow.
 *   synflood  N bare SYNs (default 2000000) from random sources in
 *             198.18.0.0/15 over 100 s, with R real connections (default
 *             200) interleaved over the same 100 s.
 *   hog       one source address opens N connections (default 300000) over
 *             100 s, each sending the first 100 bytes of a ClientHello and
 *             then nothing, while the R real connections (default 2000)
 *             over the same 100 s wait --server-delay-ms (default 2000) for
 *             their server's answer: a slow handshake that only survives
 *             if the hog's flows are evicted before it.
 *   certs     N connections (default 20000) over the first 10 s whose
 *             server sends its ServerHello and a Certificate message of 6
 *             distinct certificates (~1.9 KB each: random 2048-bit RSA
 *             modulus and signature, 24 dNSNames) and then nothing, so
 *             every parsed certificate stays referenced; the real
 *             connections follow.
 *   none      only the real connections (the control).
 *
 * A real connection is a TCP handshake, a ClientHello naming
 * real-<k>.example, the server's ServerHello, Certificate-less
 * ServerHelloDone (after the server delay, default none), then FINs: 8
 * packets 1 ms apart, from its own client address and port.  A sensor that reports it writes one TLS event with that
 * server name; tests count them.  Attack connections name
 * attack-<i>.example (stuck) or carry no TLS at all.
 *
 * Classic pcap, Ethernet, IPv4 with correct header checksums (TCP checksums
 * are zero), addresses in 198.18.0.0/15 only; the output is a pure function
 * of the arguments.  Standard C only.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0_US 1740787200000000ULL   /* 2025-03-01 00:00:00 UTC */

enum { SC_STUCK, SC_HALFOPEN, SC_OOO, SC_SYNFLOOD, SC_HOG, SC_CERTS, SC_NONE };

static uint64_t rng_s;
static uint64_t rnd(void)
{
    uint64_t z = (rng_s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static FILE *out;
static uint64_t n_pkts, n_bytes;

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static void putle32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

/* One TCP segment from a:ap to b:bp at time t. */
static void tcp_pkt(uint64_t t, uint32_t a, unsigned ap, uint32_t b, unsigned bp, uint32_t seq,
                    uint32_t ack, uint8_t flags, const uint8_t *data, size_t len)
{
    uint8_t f[16 + 14 + 20 + 20 + 1500];
    size_t frame = 14 + 20 + 20 + len;
    putle32(f, (uint32_t)(t / 1000000));
    putle32(f + 4, (uint32_t)(t % 1000000));
    putle32(f + 8, (uint32_t)frame);
    putle32(f + 12, (uint32_t)frame);
    uint8_t *e = f + 16;
    memcpy(e, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00", 14);
    uint8_t *ip = e + 14;
    memset(ip, 0, 40);
    ip[0] = 0x45;
    put16(ip + 2, (unsigned)(40 + len));
    put16(ip + 6, 0x4000);
    ip[8] = 64;
    ip[9] = 6;
    put32(ip + 12, a);
    put32(ip + 16, b);
    uint32_t s = 0;
    for (int i = 0; i < 20; i += 2)
        s += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    while (s >> 16)
        s = (s & 0xFFFF) + (s >> 16);
    put16(ip + 10, ~s & 0xFFFF);
    uint8_t *th = ip + 20;
    put16(th, ap);
    put16(th + 2, bp);
    put32(th + 4, seq);
    put32(th + 8, ack);
    th[12] = 5 << 4;
    th[13] = flags;
    put16(th + 14, 65535);
    if (len)
        memcpy(th + 20, data, len);
    fwrite(f, 1, 16 + frame, out);
    n_pkts++;
    n_bytes += frame;
}

enum { FIN = 1, SYN = 2, PSH = 8, ACK = 16 };

/* A TLS record holding a ClientHello for `name`. */
static size_t client_hello(uint8_t *b, const char *name)
{
    size_t nl = strlen(name), n = 0;
    uint8_t body[512];
    put16(body, 0x0303);
    for (int i = 0; i < 32; i++)
        body[2 + i] = (uint8_t)rnd();
    n = 34;
    body[n++] = 0;                                  /* session id */
    static const uint8_t suites[] = { 0, 6, 0x13, 0x01, 0xC0, 0x2F, 0xC0, 0x30 };
    memcpy(body + n, suites, sizeof suites);
    n += sizeof suites;
    body[n++] = 1;
    body[n++] = 0;                                  /* null compression */
    size_t ext_len_at = n;
    n += 2;
    put16(body + n, 0);                             /* server_name */
    put16(body + n + 2, (unsigned)(nl + 5));
    put16(body + n + 4, (unsigned)(nl + 3));
    body[n + 6] = 0;
    put16(body + n + 7, (unsigned)nl);
    memcpy(body + n + 9, name, nl);
    n += 9 + nl;
    static const uint8_t more[] = {
        0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17,   /* groups */
        0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,                           /* point formats */
        0x00, 0x0d, 0x00, 0x06, 0x00, 0x04, 0x04, 0x03, 0x08, 0x04,   /* sig algs */
        0x00, 0x10, 0x00, 0x05, 0x00, 0x03, 0x02, 0x68, 0x32,         /* ALPN h2 */
    };
    memcpy(body + n, more, sizeof more);
    n += sizeof more;
    put16(body + ext_len_at, (unsigned)(n - ext_len_at - 2));
    b[0] = 22;
    put16(b + 1, 0x0301);
    put16(b + 3, (unsigned)(n + 4));
    b[5] = 1;
    b[6] = 0;
    put16(b + 7, (unsigned)n);
    memcpy(b + 9, body, n);
    return n + 9;
}

/* ServerHello (TLS 1.2, ECDHE-RSA-AES128-GCM) and ServerHelloDone. */
static size_t server_flight(uint8_t *b)
{
    uint8_t *r = b + 5;
    size_t n = 0;
    r[n++] = 2;
    r[n++] = 0;
    put16(r + n, 2 + 32 + 1 + 2 + 1 + 2 + 5);
    n += 2;
    put16(r + n, 0x0303);
    n += 2;
    for (int i = 0; i < 32; i++)
        r[n++] = (uint8_t)rnd();
    r[n++] = 0;
    put16(r + n, 0xC02F);
    n += 2;
    r[n++] = 0;
    put16(r + n, 5);
    n += 2;
    static const uint8_t ri[] = { 0xff, 0x01, 0x00, 0x01, 0x00 };
    memcpy(r + n, ri, sizeof ri);
    n += sizeof ri;
    static const uint8_t shd[] = { 14, 0, 0, 0 };
    memcpy(r + n, shd, sizeof shd);
    n += sizeof shd;
    b[0] = 22;
    put16(b + 1, 0x0303);
    put16(b + 3, (unsigned)n);
    return n + 5;
}

/* ---- certificates (certs) ------------------------------------------------ */
/* A DER writer: a TLV whose length is fixed up when it closes. */

struct buf {
    uint8_t p[16384];
    size_t len;
};

static size_t der_open(struct buf *b, unsigned tag)
{
    b->p[b->len++] = (uint8_t)tag;
    b->p[b->len++] = 0;
    return b->len;
}

static void der_close(struct buf *b, size_t start)
{
    size_t n = b->len - start;
    if (n < 0x80) {
        b->p[start - 1] = (uint8_t)n;
        return;
    }
    size_t k = n <= 0xff ? 1 : 2;
    memmove(b->p + start + k, b->p + start, n);
    b->p[start - 1] = (uint8_t)(0x80 | k);
    for (size_t i = 0; i < k; i++)
        b->p[start + i] = (uint8_t)(n >> (8 * (k - 1 - i)));
    b->len += k;
}

static void der_prim(struct buf *b, unsigned tag, const void *d, size_t n)
{
    size_t at = der_open(b, tag);
    memcpy(b->p + b->len, d, n);
    b->len += n;
    der_close(b, at);
}

static void der_rand(struct buf *b, unsigned tag, size_t n, bool integer)
{
    size_t at = der_open(b, tag);
    b->p[b->len++] = 0;   /* INTEGER sign / BIT STRING unused bits */
    for (size_t i = 0; i < n; i++)
        b->p[b->len++] = (uint8_t)rnd();
    if (integer)
        b->p[at + 1] |= 0x80;
    der_close(b, at);
}

static void der_name(struct buf *b, const char *cn)
{
    static const uint8_t oid_cn[] = { 0x55, 4, 3 };
    size_t seq = der_open(b, 0x30), set = der_open(b, 0x31), atv = der_open(b, 0x30);
    der_prim(b, 0x06, oid_cn, sizeof oid_cn);
    der_prim(b, 0x0c, cn, strlen(cn));
    der_close(b, atv);
    der_close(b, set);
    der_close(b, seq);
}

static void der_alg(struct buf *b)
{
    static const uint8_t sha256_rsa[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 1, 11 };
    size_t at = der_open(b, 0x30);
    der_prim(b, 0x06, sha256_rsa, sizeof sha256_rsa);
    der_prim(b, 0x05, NULL, 0);
    der_close(b, at);
}

/* One X.509 v3 certificate (RFC 5280 4.1) for `cn`, appended to b. */
static void cert_build(struct buf *b, const char *cn)
{
    static const uint8_t oid_rsa[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 1, 1 };
    static const uint8_t oid_san[] = { 0x55, 0x1d, 0x11 };
    size_t cert = der_open(b, 0x30), tbs = der_open(b, 0x30);
    size_t v = der_open(b, 0xa0);
    der_prim(b, 0x02, "\x02", 1);
    der_close(b, v);
    uint8_t serial[16];
    for (int i = 0; i < 16; i++)
        serial[i] = (uint8_t)rnd();
    serial[0] = (uint8_t)((serial[0] & 0x7f) | 1);
    der_prim(b, 0x02, serial, sizeof serial);
    der_alg(b);
    der_name(b, "Pressure Test CA");
    size_t val = der_open(b, 0x30);
    der_prim(b, 0x17, "250101000000Z", 13);
    der_prim(b, 0x17, "270101000000Z", 13);
    der_close(b, val);
    der_name(b, cn);
    size_t spki = der_open(b, 0x30), alg = der_open(b, 0x30);
    der_prim(b, 0x06, oid_rsa, sizeof oid_rsa);
    der_prim(b, 0x05, NULL, 0);
    der_close(b, alg);
    size_t bits = der_open(b, 0x03);
    b->p[b->len++] = 0;
    size_t rsa = der_open(b, 0x30);
    der_rand(b, 0x02, 256, true);
    der_prim(b, 0x02, "\x01\x00\x01", 3);
    der_close(b, rsa);
    der_close(b, bits);
    der_close(b, spki);
    size_t exts_tag = der_open(b, 0xa3), exts = der_open(b, 0x30);
    size_t ext = der_open(b, 0x30);
    der_prim(b, 0x06, oid_san, sizeof oid_san);
    size_t octs = der_open(b, 0x04), names = der_open(b, 0x30);
    for (int i = 0; i < 24; i++) {
        char dns[64];
        snprintf(dns, sizeof dns, "host%02d.%s", i, cn);
        der_prim(b, 0x82, dns, strlen(dns));
    }
    der_close(b, names);
    der_close(b, octs);
    der_close(b, ext);
    der_close(b, exts);
    der_close(b, exts_tag);
    der_close(b, tbs);
    der_alg(b);
    der_rand(b, 0x03, 256, false);
    der_close(b, cert);
}

#define CERTS_PER_CHAIN 6

/* The server's first flight of a `certs` connection: ServerHello and a
 * Certificate message, as TLS records; returns its length. */
static size_t cert_flight(uint8_t *out, unsigned long i)
{
    size_t n = server_flight(out) - 4;   /* ServerHello without ServerHelloDone */
    put16(out + 3, (unsigned)(n - 5));
    static struct buf b;
    b.len = 0;
    b.p[b.len++] = 11;
    b.len += 3;            /* handshake length */
    b.len += 3;            /* certificate_list length */
    for (int k = 0; k < CERTS_PER_CHAIN; k++) {
        size_t at = b.len;
        b.len += 3;
        char cn[48];
        snprintf(cn, sizeof cn, "c%d.attack-%lu.example", k, i);
        cert_build(&b, cn);
        size_t cl = b.len - at - 3;
        b.p[at] = (uint8_t)(cl >> 16); b.p[at + 1] = (uint8_t)(cl >> 8); b.p[at + 2] = (uint8_t)cl;
    }
    size_t list = b.len - 7, hs = b.len - 4;
    b.p[1] = (uint8_t)(hs >> 16); b.p[2] = (uint8_t)(hs >> 8); b.p[3] = (uint8_t)hs;
    b.p[4] = (uint8_t)(list >> 16); b.p[5] = (uint8_t)(list >> 8); b.p[6] = (uint8_t)list;
    out[n] = 22;
    put16(out + n + 1, 0x0303);
    put16(out + n + 3, (unsigned)b.len);
    memcpy(out + n + 5, b.p, b.len);
    return n + 5 + b.len;
}

/* ---- the real connections ------------------------------------------------ */

#define SERVER   0xC6120001u  /* 198.18.0.1 */
#define REAL_NET 0xC6130000u  /* 198.19.0.0/16: real clients */
#define REAL_PKTS 8
#define REAL_STEP_US 1000

/* Emit packet `j` (0..7) of real connection `k` at time t. */
static void real_packet(unsigned k, unsigned j, uint64_t t)
{
    uint32_t c = REAL_NET | (1 + k % 65000);
    unsigned cp = 20000 + k % 40000;
    uint32_t ci = 1000u + k * 7919u, si = 500000u + k * 104729u;
    char name[64];
    snprintf(name, sizeof name, "real-%u.example", k);
    uint8_t ch[600], sf[128];
    size_t chl = client_hello(ch, name), sfl = server_flight(sf);
    switch (j) {
    case 0: tcp_pkt(t, c, cp, SERVER, 443, ci, 0, SYN, NULL, 0); break;
    case 1: tcp_pkt(t, SERVER, 443, c, cp, si, ci + 1, SYN | ACK, NULL, 0); break;
    case 2: tcp_pkt(t, c, cp, SERVER, 443, ci + 1, si + 1, ACK, NULL, 0); break;
    case 3: tcp_pkt(t, c, cp, SERVER, 443, ci + 1, si + 1, PSH | ACK, ch, chl); break;
    case 4: tcp_pkt(t, SERVER, 443, c, cp, si + 1, ci + 1 + (uint32_t)chl, PSH | ACK, sf, sfl); break;
    case 5: tcp_pkt(t, c, cp, SERVER, 443, ci + 1 + (uint32_t)chl, si + 1 + (uint32_t)sfl, FIN | ACK, NULL, 0); break;
    case 6: tcp_pkt(t, SERVER, 443, c, cp, si + 1 + (uint32_t)sfl, ci + 2 + (uint32_t)chl, FIN | ACK, NULL, 0); break;
    default: tcp_pkt(t, c, cp, SERVER, 443, ci + 2 + (uint32_t)chl, si + 2 + (uint32_t)sfl, ACK, NULL, 0); break;
    }
}

/* Every real packet in time order (connections may overlap). */
struct real_pkt {
    uint64_t t;
    uint32_t k, j;
};

struct real {
    struct real_pkt *p;
    size_t n, next;
};

static int cmp_real(const void *a, const void *b)
{
    const struct real_pkt *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->k != y->k ? (x->k < y->k ? -1 : 1) : (x->j < y->j ? -1 : x->j > y->j);
}

static void real_plan(struct real *r, unsigned long n, uint64_t start, uint64_t gap,
                      uint64_t delay)
{
    r->n = (size_t)n * REAL_PKTS;
    r->next = 0;
    r->p = r->n ? malloc(r->n * sizeof(*r->p)) : NULL;
    if (r->n && !r->p) {
        fprintf(stderr, "gen_pressure: out of memory\n");
        exit(1);
    }
    for (unsigned long k = 0; k < n; k++)
        for (unsigned j = 0; j < REAL_PKTS; j++) {
            struct real_pkt *e = &r->p[k * REAL_PKTS + j];
            e->t = start + k * gap + j * REAL_STEP_US + (j >= 4 ? delay : 0);
            e->k = (uint32_t)k;
            e->j = j;
        }
    qsort(r->p, r->n, sizeof(*r->p), cmp_real);
}

static uint64_t real_next_time(const struct real *r)
{
    return r->next < r->n ? r->p[r->next].t : UINT64_MAX;
}

static void real_emit(struct real *r)
{
    const struct real_pkt *e = &r->p[r->next++];
    real_packet(e->k, e->j, e->t);
}

/* ---- the attacks --------------------------------------------------------- */

struct attack {
    int sc;
    unsigned long i, n;
    uint64_t start, gap;
};

static uint32_t attack_addr(unsigned long i)
{
    return 0xC6120000u | (uint32_t)(2 + i % 65000);   /* 198.18.0.2 .. */
}

static uint64_t attack_next_time(const struct attack *a)
{
    return a->i >= a->n ? UINT64_MAX : a->start + a->i * a->gap;
}

/* One attack unit: every packet of one attack connection. */
static void attack_emit(struct attack *a)
{
    uint64_t t = attack_next_time(a);
    unsigned long i = a->i++;
    uint32_t c = attack_addr(i);
    unsigned cp = 1024 + (unsigned)(i / 65000) % 60000;
    uint32_t ci = (uint32_t)rnd(), si = (uint32_t)rnd();
    uint8_t buf[1400];
    switch (a->sc) {
    case SC_STUCK: {
        char name[64];
        snprintf(name, sizeof name, "attack-%lu.example", i);
        size_t n = client_hello(buf, name);
        tcp_pkt(t, c, cp, SERVER, 443, ci, 0, SYN, NULL, 0);
        tcp_pkt(t + 10, SERVER, 443, c, cp, si, ci + 1, SYN | ACK, NULL, 0);
        tcp_pkt(t + 20, c, cp, SERVER, 443, ci + 1, si + 1, ACK, NULL, 0);
        tcp_pkt(t + 30, c, cp, SERVER, 443, ci + 1, si + 1, PSH | ACK, buf, n);
        break;
    }
    case SC_HALFOPEN:
        tcp_pkt(t, c, cp, SERVER, 443, ci, 0, SYN, NULL, 0);
        tcp_pkt(t + 10, SERVER, 443, c, cp, si, ci + 1, SYN | ACK, NULL, 0);
        break;
    case SC_OOO:
        /* Record header first so the stream looks like TLS once filled. */
        for (size_t k = 0; k < sizeof buf; k++)
            buf[k] = (uint8_t)rnd();
        tcp_pkt(t, c, cp, SERVER, 443, ci, 0, SYN, NULL, 0);
        tcp_pkt(t + 10, SERVER, 443, c, cp, si, ci + 1, SYN | ACK, NULL, 0);
        tcp_pkt(t + 20, c, cp, SERVER, 443, ci + 1, si + 1, ACK, NULL, 0);
        for (unsigned s = 0; s < 4; s++)
            tcp_pkt(t + 30 + 10 * s, c, cp, SERVER, 443, ci + 1 + 1400 * (s + 1), si + 1,
                    PSH | ACK, buf, sizeof buf);
        break;
    case SC_HOG: {
        char name[64];
        snprintf(name, sizeof name, "hog-%lu.example", i);
        size_t n = client_hello(buf, name);
        unsigned port = 1024 + (unsigned)(i % 64000);
        tcp_pkt(t, 0xC6120002u, port, SERVER, 443, ci, 0, SYN, NULL, 0);
        tcp_pkt(t + 10, SERVER, 443, 0xC6120002u, port, si, ci + 1, SYN | ACK, NULL, 0);
        tcp_pkt(t + 20, 0xC6120002u, port, SERVER, 443, ci + 1, si + 1, ACK, NULL, 0);
        tcp_pkt(t + 30, 0xC6120002u, port, SERVER, 443, ci + 1, si + 1, PSH | ACK, buf,
                n < 100 ? n : 100);
        break;
    }
    case SC_CERTS: {
        static uint8_t flight[20000];
        char name[64];
        snprintf(name, sizeof name, "attack-%lu.example", i);
        size_t n = client_hello(buf, name), fl = cert_flight(flight, i);
        tcp_pkt(t, c, cp, SERVER, 443, ci, 0, SYN, NULL, 0);
        tcp_pkt(t + 10, SERVER, 443, c, cp, si, ci + 1, SYN | ACK, NULL, 0);
        tcp_pkt(t + 20, c, cp, SERVER, 443, ci + 1, si + 1, ACK, NULL, 0);
        tcp_pkt(t + 30, c, cp, SERVER, 443, ci + 1, si + 1, PSH | ACK, buf, n);
        for (size_t off = 0, k = 0; off < fl; off += 1400, k++)
            tcp_pkt(t + 40 + 5 * k, SERVER, 443, c, cp, si + 1 + (uint32_t)off,
                    ci + 1 + (uint32_t)n, ACK, flight + off, fl - off < 1400 ? fl - off : 1400);
        break;
    }
    case SC_SYNFLOOD: {
        uint32_t src = 0xC6120000u | (uint32_t)(rnd() & 0x1FFFF);   /* 198.18.0.0/15 */
        if (src == SERVER)
            src++;
        tcp_pkt(t, src, 1024 + (unsigned)(rnd() % 64000), SERVER, 443, ci, 0, SYN, NULL, 0);
        break;
    }
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: gen_pressure stuck|halfopen|ooo|synflood|hog|certs|none OUT.pcap "
                    "[--attack N] [--real R] [--seed S] [--server-delay-ms D]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        usage();
    static const char *names[] = { "stuck", "halfopen", "ooo", "synflood", "hog", "certs",
                                   "none" };
    static const unsigned long def_attack[] = { 30000, 100000, 20000, 2000000, 300000, 20000, 0 };
    int sc = -1;
    for (int i = 0; i < 7; i++)
        if (strcmp(argv[1], names[i]) == 0)
            sc = i;
    if (sc < 0)
        usage();
    unsigned long n_attack = def_attack[sc], n_real = sc == SC_SYNFLOOD ? 200 : 2000;
    unsigned long long seed = 1, delay_ms = sc == SC_HOG ? 2000 : 0;
    for (int i = 3; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        char *end;
        unsigned long long v = strtoull(argv[i + 1], &end, 10);
        if (*end)
            usage();
        if (strcmp(argv[i], "--attack") == 0)
            n_attack = (unsigned long)v;
        else if (strcmp(argv[i], "--real") == 0)
            n_real = (unsigned long)v;
        else if (strcmp(argv[i], "--seed") == 0)
            seed = v;
        else if (strcmp(argv[i], "--server-delay-ms") == 0 && v <= 60000)
            delay_ms = v;
        else
            usage();
        i++;
    }
    if (n_real > 100000000ul)
        usage();
    rng_s = seed;
    out = strcmp(argv[2], "-") == 0 ? stdout : fopen(argv[2], "wb");
    if (!out) {
        perror(argv[2]);
        return 1;
    }
    uint8_t gh[24];
    putle32(gh, 0xA1B2C3D4);
    gh[4] = 2; gh[5] = 0; gh[6] = 4; gh[7] = 0;
    memset(gh + 8, 0, 8);
    putle32(gh + 16, 65535);
    putle32(gh + 20, 1);
    fwrite(gh, 1, sizeof gh, out);

    const uint64_t s = 1000000;
    struct attack a = { .sc = sc, .n = sc == SC_NONE ? 0 : n_attack, .start = T0_US };
    struct real r;
    uint64_t r_start, r_gap;
    if (sc == SC_SYNFLOOD || sc == SC_HOG) {
        a.gap = a.n ? 100 * s / a.n : 1;
        r_start = T0_US + 5000;   /* interleaved with the attack */
    } else {
        a.gap = a.n ? 10 * s / a.n : 1;
        r_start = T0_US + 10 * s + 1000;   /* after it */
    }
    r_gap = n_real ? 100 * s / n_real : 1;
    if (a.gap == 0)
        a.gap = 1;
    real_plan(&r, n_real, r_start, r_gap, delay_ms * 1000);
    for (;;) {
        uint64_t ta = attack_next_time(&a), tr = real_next_time(&r);
        if (ta == UINT64_MAX && tr == UINT64_MAX)
            break;
        if (ta <= tr)
            attack_emit(&a);
        else
            real_emit(&r);
    }
    if (fflush(out) != 0 || (out != stdout && fclose(out) != 0)) {
        perror(argv[2]);
        return 1;
    }
    fprintf(out == stdout ? stderr : stdout,
            "scenario=%s attack=%lu real=%lu packets=%llu bytes=%llu\n", names[sc], a.n,
            n_real, (unsigned long long)n_pkts, (unsigned long long)n_bytes);
    free(r.p);
    return 0;
}
