/*
 * test_hello.c - unit tests for tls/hello.c (ClientHello / ServerHello parsing).
 *
 * Builds real hello bodies (the bytes after the handshake header): a TLS 1.3
 * ClientHello with GREASE everywhere, an SSLv3 ClientHello and ServerHello
 * with no extensions block (literal byte arrays), a HelloRetryRequest, a
 * TLS 1.2 ServerHello, a DTLS ClientHello with a cookie, and hellos that
 * overflow the stored-list caps.  Every parsed field is checked.
 *
 * Robustness: every prefix of each valid message, and every single-byte
 * corruption of each (a few values per position), is parsed from a heap
 * copy of exactly that size, so ASan reports any read past the end.  A
 * prefix must fail cleanly unless it is itself a valid message (a hello cut
 * right before its extensions block is a valid extension-less hello).
 *
 * Fingerprints over these structs are tested in test_fp.c.
 */
#include <stdlib.h>
#include <string.h>

#include "testhelp.h"
#include "fp/fp.h"
#include "tls/hello.h"

/* ---- a small writer with back-patched length prefixes ------------------- */

struct wb {
    uint8_t b[16384];
    size_t len;
    size_t open_at[8];   /* offset of each open length field */
    unsigned open_w[8];  /* its width in bytes */
    unsigned depth;
};

static void put8(struct wb *w, unsigned v)
{
    if (w->len < sizeof w->b)
        w->b[w->len++] = (uint8_t)v;
}

static void put16(struct wb *w, unsigned v)
{
    put8(w, v >> 8);
    put8(w, v);
}

static void putn(struct wb *w, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put8(w, ((const uint8_t *)p)[i]);
}

static void putfill(struct wb *w, unsigned v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put8(w, v);
}

/* Open a length prefix of `width` bytes; close() fills it in. */
static void open_len(struct wb *w, unsigned width)
{
    w->open_at[w->depth] = w->len;
    w->open_w[w->depth] = width;
    w->depth++;
    putfill(w, 0, width);
}

static void close_len(struct wb *w)
{
    size_t at, n;
    unsigned width;

    w->depth--;
    at = w->open_at[w->depth];
    width = w->open_w[w->depth];
    n = w->len - at - width;
    for (unsigned i = 0; i < width; i++)
        w->b[at + i] = (uint8_t)(n >> (8 * (width - 1 - i)));
}

/* One extension: type, then its body between open_ext() and close_len(). */
static void open_ext(struct wb *w, unsigned type)
{
    put16(w, type);
    open_len(w, 2);
}

static const uint8_t hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
    0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
    0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* ---- messages ------------------------------------------------------------ */

/* Offsets recorded while building, for the prefix test. */
struct msg {
    const char *name;
    bool server;
    const uint8_t *p;
    size_t len;
    size_t noext_len;  /* a prefix of this length is itself valid; 0 if none */
};

/* TLS 1.3 ClientHello, GREASE in ciphers, extensions, groups, signature
 * algorithms and supported_versions. */
static size_t build_tls13_client(struct wb *w)
{
    size_t noext;

    memset(w, 0, sizeof *w);
    put16(w, 0x0303);
    for (unsigned i = 0; i < 32; i++)
        put8(w, i);                       /* random */
    open_len(w, 1);
    putfill(w, 0xee, 32);                 /* session id */
    close_len(w);
    open_len(w, 2);
    put16(w, 0x3a3a);
    put16(w, 0x1301);
    put16(w, 0x1302);
    put16(w, 0xc02b);
    close_len(w);
    open_len(w, 1);
    put8(w, 0);                           /* compression: null */
    close_len(w);
    noext = w->len;

    open_len(w, 2);                       /* extensions */
    open_ext(w, 0xdada);                  /* GREASE, empty */
    close_len(w);
    open_ext(w, 0x0000);                  /* server_name */
    open_len(w, 2);
    put8(w, 0);
    open_len(w, 2);
    putn(w, "example.com", 11);
    close_len(w);
    close_len(w);
    close_len(w);
    open_ext(w, 0x002b);                  /* supported_versions */
    open_len(w, 1);
    put16(w, 0x5a5a);
    put16(w, 0x0304);
    put16(w, 0x0303);
    close_len(w);
    close_len(w);
    open_ext(w, 0x000a);                  /* supported_groups */
    open_len(w, 2);
    put16(w, 0x2a2a);
    put16(w, 0x001d);
    put16(w, 0x0017);
    close_len(w);
    close_len(w);
    open_ext(w, 0x0033);                  /* key_share: not decoded */
    open_len(w, 2);
    put16(w, 0x001d);
    open_len(w, 2);
    putfill(w, 0x42, 32);
    close_len(w);
    close_len(w);
    close_len(w);
    open_ext(w, 0x000d);                  /* signature_algorithms */
    open_len(w, 2);
    put16(w, 0x0403);
    put16(w, 0x1a1a);
    put16(w, 0x0804);
    close_len(w);
    close_len(w);
    open_ext(w, 0x000b);                  /* ec_point_formats */
    open_len(w, 1);
    put8(w, 0);
    close_len(w);
    close_len(w);
    open_ext(w, 0x0010);                  /* ALPN */
    open_len(w, 2);
    open_len(w, 1);
    putn(w, "h2", 2);
    close_len(w);
    open_len(w, 1);
    putn(w, "http/1.1", 8);
    close_len(w);
    close_len(w);
    close_len(w);
    open_ext(w, 0x1a1a);                  /* GREASE, one byte */
    put8(w, 0);
    close_len(w);
    close_len(w);
    return noext;
}

/* SSLv3 ClientHello: no extensions block at all.  Written out by hand. */
static const uint8_t sslv3_client[] = {
    0x03, 0x00,                                     /* legacy_version */
    0x5f, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, /* random */
    0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,
    0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
    0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
    0x00,                                           /* session_id: empty */
    0x00, 0x08, 0x00, 0x0a, 0x00, 0x05, 0x00, 0x04, 0x00, 0xff, /* 4 suites */
    0x01, 0x00,                                     /* compression: null */
};

/* SSLv3 ServerHello answering it, no extensions block. */
static const uint8_t sslv3_server[] = {
    0x03, 0x00,
    0x60, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
    0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    0x04, 0xde, 0xad, 0xbe, 0xef,                   /* session_id (4) */
    0x00, 0x0a,                                     /* cipher_suite */
    0x00,                                           /* compression_method */
};

/* HelloRetryRequest: special random, selected_version and key_share group. */
static size_t build_hrr(struct wb *w)
{
    size_t noext;

    memset(w, 0, sizeof *w);
    put16(w, 0x0303);
    putn(w, hrr_random, sizeof hrr_random);
    open_len(w, 1);
    putfill(w, 0xee, 32);
    close_len(w);
    put16(w, 0x1301);
    put8(w, 0);
    noext = w->len;
    open_len(w, 2);
    open_ext(w, 0x002b);
    put16(w, 0x0304);
    close_len(w);
    open_ext(w, 0x0033);
    put16(w, 0x0017);
    close_len(w);
    close_len(w);
    return noext;
}

/* TLS 1.2 ServerHello: renegotiation_info, empty server_name, ALPN h2,
 * ec_point_formats, extended_master_secret. */
static size_t build_tls12_server(struct wb *w)
{
    size_t noext;

    memset(w, 0, sizeof *w);
    put16(w, 0x0303);
    putfill(w, 0x11, 32);
    open_len(w, 1);
    close_len(w);
    put16(w, 0xc02f);
    put8(w, 0);
    noext = w->len;
    open_len(w, 2);
    open_ext(w, 0xff01);
    put8(w, 0);
    close_len(w);
    open_ext(w, 0x0000);
    close_len(w);
    open_ext(w, 0x0010);
    open_len(w, 2);
    open_len(w, 1);
    putn(w, "h2", 2);
    close_len(w);
    close_len(w);
    close_len(w);
    open_ext(w, 0x000b);
    open_len(w, 1);
    put8(w, 0);
    put8(w, 1);
    close_len(w);
    close_len(w);
    open_ext(w, 0x0017);
    close_len(w);
    close_len(w);
    return noext;
}

/* DTLS 1.2 ClientHello with an 8-byte cookie. */
static size_t build_dtls_client(struct wb *w)
{
    size_t noext;

    memset(w, 0, sizeof *w);
    put16(w, 0xfefd);
    putfill(w, 0x22, 32);
    open_len(w, 1);                       /* session id: empty */
    close_len(w);
    open_len(w, 1);                       /* cookie */
    putfill(w, 0x11, 8);
    close_len(w);
    open_len(w, 2);
    put16(w, 0xc02b);
    put16(w, 0xc02f);
    close_len(w);
    open_len(w, 1);
    put8(w, 0);
    close_len(w);
    noext = w->len;
    open_len(w, 2);
    open_ext(w, 0x000a);
    open_len(w, 2);
    put16(w, 0x001d);
    close_len(w);
    close_len(w);
    open_ext(w, 0x002b);
    open_len(w, 1);
    put16(w, 0xfefc);
    put16(w, 0xfefd);
    close_len(w);
    close_len(w);
    close_len(w);
    return noext;
}

/* ---- helpers ------------------------------------------------------------ */

static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);

    if (!c) {
        perror("malloc");
        exit(1);
    }
    if (n)
        memcpy(c, p, n);
    return c;
}

/* Parse from a heap copy of exactly len bytes. */
static int parse_exact(bool server, const uint8_t *p, size_t len, struct tls_hello *h)
{
    uint8_t *c = dup_exact(p, len);
    int rc = server ? tls_server_hello_parse(c, len, h)
                    : tls_client_hello_parse(c, len, h);

    free(c);
    return rc;
}

static bool rc_known(int rc)
{
    return rc == TLS_HELLO_OK || rc == TLS_HELLO_ETRUNC || rc == TLS_HELLO_EMALFORMED;
}

static struct tls_hello *new_hello(void)
{
    struct tls_hello *h = malloc(sizeof *h);

    if (!h) {
        perror("malloc");
        exit(1);
    }
    memset(h, 0xa5, sizeof *h);  /* the parser must overwrite every field before its lists */
    return h;
}

/* ---- field checks -------------------------------------------------------- */

static void test_tls13_client(void)
{
    static struct wb w;
    struct tls_hello *h = new_hello();
    int rc;

    build_tls13_client(&w);
    rc = parse_exact(false, w.b, w.len, h);
    test_cond("tls13 client parses", rc == TLS_HELLO_OK);
    test_cond("tls13 is client", !h->is_server && !h->is_hrr && !h->capped);
    test_cond("tls13 legacy_version", h->legacy_version == 0x0303);
    test_cond("tls13 random", h->random[0] == 0 && h->random[31] == 31);
    test_cond("tls13 session id", h->session_id_len == 32);
    test_cond("tls13 ciphers", h->n_ciphers == 4 && h->total_ciphers == 4 &&
                                   h->ciphers[0] == 0x3a3a && h->ciphers[1] == 0x1301 &&
                                   h->ciphers[2] == 0x1302 && h->ciphers[3] == 0xc02b);
    test_cond("tls13 compression", h->n_compression == 1);
    test_cond("tls13 has extensions", h->has_extensions);
    {
        static const uint16_t want[] = { 0xdada, 0x0000, 0x002b, 0x000a, 0x0033,
                                         0x000d, 0x000b, 0x0010, 0x1a1a };
        bool same = h->n_exts == 9 && h->total_exts == 9;

        for (size_t i = 0; same && i < 9; i++)
            same = h->exts[i] == want[i];
        test_cond("tls13 extensions in wire order with GREASE", same);
    }
    test_cond("tls13 sni", h->has_sni && h->sni_len == 11 &&
                               memcmp(h->sni, "example.com", 11) == 0);
    test_cond("tls13 versions", h->n_versions == 3 && h->total_versions == 3 &&
                                    h->versions[0] == 0x5a5a && h->versions[1] == 0x0304 &&
                                    h->versions[2] == 0x0303);
    test_cond("tls13 groups", h->n_groups == 3 && h->total_groups == 3 &&
                                  h->groups[0] == 0x2a2a && h->groups[1] == 0x001d &&
                                  h->groups[2] == 0x0017);
    test_cond("tls13 sig algs", h->n_sig_algs == 3 && h->total_sig_algs == 3 &&
                                    h->sig_algs[0] == 0x0403 && h->sig_algs[1] == 0x1a1a &&
                                    h->sig_algs[2] == 0x0804);
    test_cond("tls13 point formats", h->n_point_formats == 1 &&
                                         h->total_point_formats == 1 &&
                                         h->point_formats[0] == 0);
    test_cond("tls13 alpn", h->has_alpn && h->n_alpn == 2 && h->total_alpn == 2 &&
                                h->alpn[0].len == 2 && memcmp(h->alpn[0].name, "h2", 2) == 0 &&
                                h->alpn[1].len == 8 &&
                                memcmp(h->alpn[1].name, "http/1.1", 8) == 0);
    test_cond("tls13 version", tls_hello_version(h) == 0x0304);
    free(h);
}

/* A parse leaves the lists past their counts as they were: fingerprints
 * and kept fields of a hello parsed over another (longer lists, SNI, ALPN)
 * equal those of the same hello parsed into a cleared struct. */
static bool same_fingerprints(const struct tls_hello *a, const struct tls_hello *b)
{
    static struct fp_ja3 ja, jb;
    static struct fp_ja4 fa, fb;
    fp_ja3(a, &ja);
    fp_ja3(b, &jb);
    fp_ja4(a, FP_TRANSPORT_TCP, &fa);
    fp_ja4(b, FP_TRANSPORT_TCP, &fb);
    return strcmp(ja.str, jb.str) == 0 && strcmp(ja.hash, jb.hash) == 0 &&
           strcmp(fa.ja4, fb.ja4) == 0 && strcmp(fa.ja4_r, fb.ja4_r) == 0 &&
           strcmp(fa.ja4_o, fb.ja4_o) == 0 && strcmp(fa.ja4_ro, fb.ja4_ro) == 0;
}

static void test_reused(void)
{
    static struct wb w;
    size_t n = build_tls13_client(&w);
    struct tls_hello *fresh = calloc(1, sizeof *fresh), *h = new_hello();
    if (!fresh)
        exit(1);

    /* long lists, then short ones over them */
    test_cond("reuse: fresh sslv3", parse_exact(false, sslv3_client, sizeof sslv3_client,
                                                fresh) == TLS_HELLO_OK);
    test_cond("reuse: tls13 first", parse_exact(false, w.b, n, h) == TLS_HELLO_OK);
    test_cond("reuse: sslv3 over tls13", parse_exact(false, sslv3_client, sizeof sslv3_client,
                                                     h) == TLS_HELLO_OK);
    test_cond("reuse: sslv3 fingerprints as fresh", same_fingerprints(h, fresh));
    test_cond("reuse: sslv3 keeps no sni, alpn, versions",
              !h->has_sni && h->sni_len == 0 && !h->has_alpn && h->n_alpn == 0 &&
                  h->n_versions == 0 && h->n_groups == 0 && h->quic_tp == NULL);

    /* and the other way round */
    memset(fresh, 0, sizeof *fresh);
    test_cond("reuse: fresh tls13", parse_exact(false, w.b, n, fresh) == TLS_HELLO_OK);
    test_cond("reuse: tls13 over sslv3", parse_exact(false, w.b, n, h) == TLS_HELLO_OK);
    test_cond("reuse: tls13 fingerprints as fresh", same_fingerprints(h, fresh));
    test_cond("reuse: tls13 sni as fresh",
              h->sni_len == fresh->sni_len && memcmp(h->sni, fresh->sni, h->sni_len) == 0);
    free(fresh);
    free(h);
}

static void test_sslv3(void)
{
    struct tls_hello *h = new_hello();
    int rc;

    rc = parse_exact(false, sslv3_client, sizeof sslv3_client, h);
    test_cond("sslv3 client parses", rc == TLS_HELLO_OK);
    test_cond("sslv3 client fields",
              h->legacy_version == 0x0300 && h->session_id_len == 0 &&
                  h->random[0] == 0x5f && h->random[31] == 0x1d &&
                  h->n_ciphers == 4 && h->ciphers[0] == 0x000a && h->ciphers[3] == 0x00ff &&
                  h->n_compression == 1);
    test_cond("sslv3 client has no extensions",
              !h->has_extensions && h->n_exts == 0 && h->total_exts == 0 &&
                  !h->has_sni && !h->has_alpn && h->n_versions == 0 && h->n_groups == 0 &&
                  h->n_sig_algs == 0 && h->n_point_formats == 0 && !h->capped);
    test_cond("sslv3 version", tls_hello_version(h) == 0x0300);

    rc = parse_exact(true, sslv3_server, sizeof sslv3_server, h);
    test_cond("sslv3 server parses", rc == TLS_HELLO_OK);
    test_cond("sslv3 server fields",
              h->is_server && !h->is_hrr && h->legacy_version == 0x0300 &&
                  h->session_id_len == 4 && h->n_ciphers == 1 && h->total_ciphers == 1 &&
                  h->ciphers[0] == 0x000a && h->n_compression == 1 && h->compression == 0 &&
                  !h->has_extensions && h->n_exts == 0);
    free(h);
}

static void test_hrr(void)
{
    static struct wb w;
    struct tls_hello *h = new_hello();
    int rc;

    build_hrr(&w);
    rc = parse_exact(true, w.b, w.len, h);
    test_cond("hrr parses", rc == TLS_HELLO_OK);
    test_cond("hrr detected", h->is_server && h->is_hrr);
    test_cond("hrr fields", h->ciphers[0] == 0x1301 && h->n_ciphers == 1 &&
                                h->session_id_len == 32 && h->n_exts == 2 &&
                                h->exts[0] == 0x002b && h->exts[1] == 0x0033);
    test_cond("hrr selected_version", h->n_versions == 1 && h->versions[0] == 0x0304 &&
                                          tls_hello_version(h) == 0x0304);
    test_cond("hrr key_share selected_group", h->key_share_group == 0x0017);

    /* The same message through the client parser is not an HRR and is
     * malformed (cipher list length 0x1301 runs past the end). */
    rc = parse_exact(false, w.b, w.len, h);
    test_cond("hrr via client parser fails", rc != TLS_HELLO_OK && rc_known(rc));

    /* One bit off in the random: an ordinary ServerHello. */
    w.b[2 + 31] ^= 1;
    rc = parse_exact(true, w.b, w.len, h);
    test_cond("near-hrr random is not hrr", rc == TLS_HELLO_OK && !h->is_hrr);
    free(h);
}

static void test_tls12_server(void)
{
    static struct wb w;
    struct tls_hello *h = new_hello();
    int rc;

    build_tls12_server(&w);
    rc = parse_exact(true, w.b, w.len, h);
    test_cond("tls12 server parses", rc == TLS_HELLO_OK);
    test_cond("tls12 server fields",
              h->is_server && !h->is_hrr && h->session_id_len == 0 &&
                  h->ciphers[0] == 0xc02f && h->has_extensions && h->n_exts == 5 &&
                  h->exts[0] == 0xff01 && h->exts[1] == 0x0000 && h->exts[2] == 0x0010 &&
                  h->exts[3] == 0x000b && h->exts[4] == 0x0017);
    test_cond("tls12 server empty sni", h->has_sni && h->sni_len == 0);
    test_cond("tls12 server alpn", h->has_alpn && h->n_alpn == 1 && h->alpn[0].len == 2 &&
                                       memcmp(h->alpn[0].name, "h2", 2) == 0);
    test_cond("tls12 server point formats", h->n_point_formats == 2 &&
                                                h->point_formats[1] == 1);
    test_cond("tls12 server version", h->n_versions == 0 &&
                                          tls_hello_version(h) == 0x0303);
    test_cond("tls12 server: no key_share", h->key_share_group == 0);
    free(h);
}

static void test_dtls_client(void)
{
    static struct wb w;
    struct tls_hello *h = new_hello();
    int rc;

    build_dtls_client(&w);
    rc = parse_exact(false, w.b, w.len, h);
    test_cond("dtls client parses (cookie skipped)", rc == TLS_HELLO_OK);
    test_cond("dtls client fields", h->legacy_version == 0xfefd && h->n_ciphers == 2 &&
                                        h->ciphers[0] == 0xc02b && h->n_exts == 2 &&
                                        h->n_groups == 1 && h->groups[0] == 0x001d &&
                                        h->n_versions == 2);
    test_cond("dtls version is the numerically highest",
              tls_hello_version(h) == 0xfefd);
    free(h);
}

/* Lists longer than the TLS_HELLO_MAX_* caps. */
static void test_caps(void)
{
    static struct wb w;
    struct tls_hello *h = new_hello();
    int rc;

    memset(&w, 0, sizeof w);
    put16(&w, 0x0303);
    putfill(&w, 0, 32);
    put8(&w, 0);
    open_len(&w, 2);
    for (unsigned i = 0; i < TLS_HELLO_MAX_CIPHERS + 10; i++)
        put16(&w, i + 1);
    close_len(&w);
    put8(&w, 1);
    put8(&w, 0);
    open_len(&w, 2);
    open_ext(&w, 0x0000);                 /* 300-byte host name */
    open_len(&w, 2);
    put8(&w, 0);
    open_len(&w, 2);
    putfill(&w, 'a', 300);
    close_len(&w);
    close_len(&w);
    close_len(&w);
    open_ext(&w, 0x0010);                 /* 20 ALPN names */
    open_len(&w, 2);
    for (unsigned i = 0; i < 20; i++) {
        open_len(&w, 1);
        put8(&w, 'a' + i);
        close_len(&w);
    }
    close_len(&w);
    close_len(&w);
    for (unsigned i = 0; i < TLS_HELLO_MAX_EXTS + 20; i++) {
        open_ext(&w, 0x1000 + i);         /* unknown, empty */
        close_len(&w);
    }
    close_len(&w);

    rc = parse_exact(false, w.b, w.len, h);
    test_cond("capped hello parses", rc == TLS_HELLO_OK);
    test_cond("capped flag", h->capped);
    test_cond("ciphers capped", h->n_ciphers == TLS_HELLO_MAX_CIPHERS &&
                                    h->total_ciphers == TLS_HELLO_MAX_CIPHERS + 10 &&
                                    h->ciphers[TLS_HELLO_MAX_CIPHERS - 1] ==
                                        TLS_HELLO_MAX_CIPHERS);
    test_cond("exts capped", h->n_exts == TLS_HELLO_MAX_EXTS &&
                                 h->total_exts == TLS_HELLO_MAX_EXTS + 22);
    test_cond("sni capped", h->has_sni && h->sni_len == TLS_HELLO_MAX_SNI &&
                                h->sni[TLS_HELLO_MAX_SNI - 1] == 'a');
    test_cond("alpn capped", h->n_alpn == TLS_HELLO_MAX_ALPN && h->total_alpn == 20 &&
                                 h->alpn[TLS_HELLO_MAX_ALPN - 1].name[0] ==
                                     'a' + TLS_HELLO_MAX_ALPN - 1);
    free(h);
}

/* ---- malformed inputs --------------------------------------------------- */

/* A minimal ClientHello with one extension whose body is given. */
static void build_one_ext_client(struct wb *w, unsigned type, const uint8_t *body,
                                 size_t n)
{
    memset(w, 0, sizeof *w);
    put16(w, 0x0303);
    putfill(w, 0, 32);
    put8(w, 0);
    put16(w, 2);
    put16(w, 0x1301);
    put8(w, 1);
    put8(w, 0);
    open_len(w, 2);
    open_ext(w, type);
    putn(w, body, n);
    close_len(w);
    close_len(w);
}

static int one_ext(bool server, unsigned type, const uint8_t *body, size_t n)
{
    static struct wb w;
    struct tls_hello *h = new_hello();
    int rc;

    build_one_ext_client(&w, type, body, n);
    if (server) {
        /* Turn the client layout into a server one: cipher(2) comp(1). */
        static struct wb s;

        memset(&s, 0, sizeof s);
        put16(&s, 0x0303);
        putfill(&s, 0, 32);
        put8(&s, 0);
        put16(&s, 0x1301);
        put8(&s, 0);
        open_len(&s, 2);
        open_ext(&s, type);
        putn(&s, body, n);
        close_len(&s);
        close_len(&s);
        rc = parse_exact(true, s.b, s.len, h);
    } else {
        rc = parse_exact(false, w.b, w.len, h);
    }
    free(h);
    return rc;
}

static void test_malformed(void)
{
    static struct wb w;
    struct tls_hello *h = new_hello();
    int rc;

    test_cond("NULL body", tls_client_hello_parse(NULL, 0, h) == TLS_HELLO_ETRUNC);
    test_cond("NULL body server", tls_server_hello_parse(NULL, 0, h) == TLS_HELLO_ETRUNC);

    /* Odd cipher list length. */
    memset(&w, 0, sizeof w);
    put16(&w, 0x0303);
    putfill(&w, 0, 32);
    put8(&w, 0);
    put16(&w, 3);
    putfill(&w, 0x13, 3);
    put8(&w, 1);
    put8(&w, 0);
    rc = parse_exact(false, w.b, w.len, h);
    test_cond("odd cipher list", rc == TLS_HELLO_EMALFORMED);

    /* Session id longer than 32. */
    memset(&w, 0, sizeof w);
    put16(&w, 0x0303);
    putfill(&w, 0, 32);
    put8(&w, 33);
    putfill(&w, 0, 33);
    put16(&w, 2);
    put16(&w, 0x1301);
    put8(&w, 1);
    put8(&w, 0);
    rc = parse_exact(false, w.b, w.len, h);
    test_cond("session id > 32", rc == TLS_HELLO_EMALFORMED);

    /* Zero cipher suites and zero compression methods still parse. */
    memset(&w, 0, sizeof w);
    put16(&w, 0x0302);
    putfill(&w, 0, 32);
    put8(&w, 0);
    put16(&w, 0);
    put8(&w, 0);
    rc = parse_exact(false, w.b, w.len, h);
    test_cond("empty lists parse", rc == TLS_HELLO_OK && h->n_ciphers == 0 &&
                                       h->n_compression == 0);

    /* A byte after the extensions block. */
    build_tls13_client(&w);
    put8(&w, 0);
    rc = parse_exact(false, w.b, w.len, h);
    test_cond("trailing byte", rc == TLS_HELLO_EMALFORMED);

    /* Extensions block length one short: the last extension runs past it. */
    {
        size_t noext = build_tls13_client(&w);
        unsigned n = (unsigned)(w.b[noext] << 8 | w.b[noext + 1]);

        w.b[noext] = (uint8_t)((n - 1) >> 8);
        w.b[noext + 1] = (uint8_t)(n - 1);
        rc = parse_exact(false, w.b, w.len, h);
        test_cond("ext block one short", rc != TLS_HELLO_OK && rc_known(rc));
        w.b[noext] = (uint8_t)((n + 1) >> 8);
        w.b[noext + 1] = (uint8_t)(n + 1);
        rc = parse_exact(false, w.b, w.len, h);
        test_cond("ext block one long", rc == TLS_HELLO_ETRUNC);
    }

    /* Extension bodies. */
    {
        static const uint8_t sni_short_list[] = { 0x00, 0x03, 0x00, 0x00, 0x01, 'a' };
        static const uint8_t sni_long_list[] = { 0x00, 0x05, 0x00, 0x00, 0x01, 'a' };
        static const uint8_t sni_trunc_name[] = { 0x00, 0x04, 0x00, 0x00, 0x05, 'a' };
        static const uint8_t sni_ok[] = { 0x00, 0x04, 0x00, 0x00, 0x01, 'a' };
        static const uint8_t groups_odd[] = { 0x00, 0x03, 0x00, 0x1d, 0x00 };
        static const uint8_t groups_extra[] = { 0x00, 0x02, 0x00, 0x1d, 0x00 };
        static const uint8_t sigs_odd[] = { 0x00, 0x01, 0x04 };
        static const uint8_t pf_long[] = { 0x02, 0x00 };
        static const uint8_t alpn_trunc[] = { 0x00, 0x03, 0x03, 'h', '2' };
        static const uint8_t alpn_empty_name[] = { 0x00, 0x04, 0x00, 0x02, 'h', '2' };
        static const uint8_t sv_odd[] = { 0x03, 0x03, 0x04, 0x03 };
        static const uint8_t sv_server_long[] = { 0x03, 0x04, 0x00 };
        static const uint8_t sv_server_short[] = { 0x03 };
        static const uint8_t empty[1] = { 0 };

        test_cond("sni list shorter than ext",
                  one_ext(false, 0x0000, sni_short_list, sizeof sni_short_list) ==
                      TLS_HELLO_EMALFORMED);
        test_cond("sni list longer than ext",
                  one_ext(false, 0x0000, sni_long_list, sizeof sni_long_list) ==
                      TLS_HELLO_ETRUNC);
        test_cond("sni name past list",
                  one_ext(false, 0x0000, sni_trunc_name, sizeof sni_trunc_name) ==
                      TLS_HELLO_ETRUNC);
        test_cond("sni ok", one_ext(false, 0x0000, sni_ok, sizeof sni_ok) == TLS_HELLO_OK);
        test_cond("sni empty ext ok", one_ext(false, 0x0000, empty, 0) == TLS_HELLO_OK);
        test_cond("groups odd", one_ext(false, 0x000a, groups_odd, sizeof groups_odd) ==
                                    TLS_HELLO_EMALFORMED);
        test_cond("groups extra byte",
                  one_ext(false, 0x000a, groups_extra, sizeof groups_extra) ==
                      TLS_HELLO_EMALFORMED);
        test_cond("groups empty ext", one_ext(false, 0x000a, empty, 0) == TLS_HELLO_ETRUNC);
        test_cond("sig algs odd", one_ext(false, 0x000d, sigs_odd, sizeof sigs_odd) ==
                                      TLS_HELLO_EMALFORMED);
        test_cond("point formats past ext",
                  one_ext(false, 0x000b, pf_long, sizeof pf_long) == TLS_HELLO_ETRUNC);
        test_cond("alpn name past list",
                  one_ext(false, 0x0010, alpn_trunc, sizeof alpn_trunc) == TLS_HELLO_ETRUNC);
        test_cond("alpn empty first name ok",
                  one_ext(false, 0x0010, alpn_empty_name, sizeof alpn_empty_name) ==
                      TLS_HELLO_OK);
        test_cond("supported_versions odd",
                  one_ext(false, 0x002b, sv_odd, sizeof sv_odd) == TLS_HELLO_EMALFORMED);
        test_cond("selected_version too long",
                  one_ext(true, 0x002b, sv_server_long, sizeof sv_server_long) ==
                      TLS_HELLO_EMALFORMED);
        test_cond("selected_version too short",
                  one_ext(true, 0x002b, sv_server_short, sizeof sv_server_short) ==
                      TLS_HELLO_ETRUNC);
        test_cond("unknown ext body not read",
                  one_ext(false, 0x4469, sv_server_short, sizeof sv_server_short) ==
                      TLS_HELLO_OK);
        test_cond("groups in ServerHello only listed",
                  one_ext(true, 0x000a, groups_odd, sizeof groups_odd) == TLS_HELLO_OK);
    }

    /* Duplicate ALPN: the first is kept, the second only listed. */
    memset(&w, 0, sizeof w);
    put16(&w, 0x0303);
    putfill(&w, 0, 32);
    put8(&w, 0);
    put16(&w, 2);
    put16(&w, 0x1301);
    put8(&w, 1);
    put8(&w, 0);
    open_len(&w, 2);
    for (unsigned i = 0; i < 2; i++) {
        open_ext(&w, 0x0010);
        open_len(&w, 2);
        open_len(&w, 1);
        putn(&w, i ? "h3" : "h2", 2);
        close_len(&w);
        close_len(&w);
        close_len(&w);
    }
    close_len(&w);
    rc = parse_exact(false, w.b, w.len, h);
    test_cond("duplicate alpn", rc == TLS_HELLO_OK && h->n_exts == 2 && h->n_alpn == 1 &&
                                    memcmp(h->alpn[0].name, "h2", 2) == 0);
    free(h);
}

/* ---- prefixes and corruptions ------------------------------------------- */

static void check_prefixes(const struct msg *m)
{
    struct tls_hello *h = new_hello();
    unsigned bad_ok = 0, unknown = 0;
    char descr[128];

    for (size_t k = 0; k < m->len; k++) {
        int rc = parse_exact(m->server, m->p, k, h);

        if (!rc_known(rc))
            unknown++;
        if (rc == TLS_HELLO_OK && k != m->noext_len)
            bad_ok++;
        if (k == m->noext_len && m->noext_len) {
            snprintf(descr, sizeof descr, "%s cut before extensions parses", m->name);
            test_cond(descr, rc == TLS_HELLO_OK && !h->has_extensions);
        }
    }
    snprintf(descr, sizeof descr, "%s: every shorter prefix fails", m->name);
    test_cond(descr, bad_ok == 0);
    snprintf(descr, sizeof descr, "%s: only known error codes", m->name);
    test_cond(descr, unknown == 0);
    snprintf(descr, sizeof descr, "%s: whole message parses", m->name);
    test_cond(descr, parse_exact(m->server, m->p, m->len, h) == TLS_HELLO_OK);
    free(h);
}

/* Every byte set to a few values, and every byte +1 / -1: whatever the
 * result, it is a known code and ASan sees no bad read. */
static void check_corruptions(const struct msg *m)
{
    static const uint8_t vals[] = { 0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff };
    struct tls_hello *h = new_hello();
    uint8_t *c = dup_exact(m->p, m->len);
    unsigned unknown = 0, runs = 0;
    char descr[128];

    for (size_t i = 0; i < m->len; i++) {
        uint8_t orig = c[i];
        uint8_t tries[sizeof vals + 2];

        memcpy(tries, vals, sizeof vals);
        tries[sizeof vals] = (uint8_t)(orig + 1);
        tries[sizeof vals + 1] = (uint8_t)(orig - 1);
        for (size_t j = 0; j < sizeof tries; j++) {
            int rc;

            c[i] = tries[j];
            rc = m->server ? tls_server_hello_parse(c, m->len, h)
                           : tls_client_hello_parse(c, m->len, h);
            if (!rc_known(rc))
                unknown++;
            runs++;
        }
        c[i] = orig;
    }
    snprintf(descr, sizeof descr, "%s: %u corruptions give known codes", m->name, runs);
    test_cond(descr, unknown == 0 && runs > 0);
    free(c);
    free(h);
}

static void test_prefixes_and_corruptions(void)
{
    static struct wb w13, whrr, w12, wdtls;
    struct msg msgs[6];
    size_t n = 0;

    msgs[n++] = (struct msg){ "tls13 client", false, w13.b, 0, build_tls13_client(&w13) };
    msgs[n - 1].len = w13.len;
    msgs[n++] = (struct msg){ "hrr", true, whrr.b, 0, build_hrr(&whrr) };
    msgs[n - 1].len = whrr.len;
    msgs[n++] = (struct msg){ "tls12 server", true, w12.b, 0, build_tls12_server(&w12) };
    msgs[n - 1].len = w12.len;
    msgs[n++] = (struct msg){ "dtls client", false, wdtls.b, 0, build_dtls_client(&wdtls) };
    msgs[n - 1].len = wdtls.len;
    /* Without an extensions block only the full length is valid. */
    msgs[n++] = (struct msg){ "sslv3 client", false, sslv3_client, sizeof sslv3_client, 0 };
    msgs[n++] = (struct msg){ "sslv3 server", true, sslv3_server, sizeof sslv3_server, 0 };

    for (size_t i = 0; i < n; i++) {
        check_prefixes(&msgs[i]);
        check_corruptions(&msgs[i]);
    }
}

/* encrypted_client_hello: outer, inner, malformed (the hello still reads),
 * and a HelloRetryRequest's confirmation. */
static void test_ech(void)
{
    static struct wb w;
    struct tls_hello *h = new_hello();
    /* outer: kdf 1, aead 1, config_id 77, enc 4 bytes, payload 3 bytes */
    static const uint8_t outer[] = { 0, 0, 1, 0, 1, 77, 0, 4, 9, 9, 9, 9, 0, 3, 7, 7, 7 };
    build_one_ext_client(&w, 0xfe0d, outer, sizeof outer);
    test_cond("ECH outer parses", parse_exact(false, w.b, w.len, h) == TLS_HELLO_OK);
    test_cond("ECH outer fields", h->has_ech && !h->ech_bad && h->ech_type == 0 &&
                                      h->ech_kdf == 1 && h->ech_aead == 1 &&
                                      h->ech_config_id == 77 && h->ech_enc_len == 4 &&
                                      h->ech_payload_len == 3);
    static const uint8_t inner[] = { 1 };
    build_one_ext_client(&w, 0xfe0d, inner, sizeof inner);
    test_cond("ECH inner", parse_exact(false, w.b, w.len, h) == TLS_HELLO_OK && h->has_ech &&
                               !h->ech_bad && h->ech_type == 1);
    static const uint8_t empty_payload[] = { 0, 0, 1, 0, 1, 5, 0, 0, 0, 0 };
    build_one_ext_client(&w, 0xfe0d, empty_payload, sizeof empty_payload);
    test_cond("ECH empty payload: malformed, hello kept",
              parse_exact(false, w.b, w.len, h) == TLS_HELLO_OK && h->has_ech && h->ech_bad &&
                  h->n_ciphers == 1);
    static const uint8_t cut[] = { 0, 0, 1, 0 };
    build_one_ext_client(&w, 0xfe0d, cut, sizeof cut);
    test_cond("ECH cut short: malformed, hello kept",
              parse_exact(false, w.b, w.len, h) == TLS_HELLO_OK && h->ech_bad);
    static const uint8_t lies[] = { 0, 0, 1, 0, 1, 5, 0xff, 0xff, 1 };
    build_one_ext_client(&w, 0xfe0d, lies, sizeof lies);
    test_cond("ECH enc length past the end: malformed",
              parse_exact(false, w.b, w.len, h) == TLS_HELLO_OK && h->ech_bad);
    static const uint8_t bad_type[] = { 7 };
    build_one_ext_client(&w, 0xfe0d, bad_type, sizeof bad_type);
    test_cond("ECH unknown type: malformed", parse_exact(false, w.b, w.len, h) == TLS_HELLO_OK &&
                                                 h->ech_bad);
    /* HelloRetryRequest with the 8-byte confirmation. */
    memset(&w, 0, sizeof w);
    put16(&w, 0x0303);
    putn(&w, hrr_random, sizeof hrr_random);
    put8(&w, 0);
    put16(&w, 0x1301);
    put8(&w, 0);
    open_len(&w, 2);
    open_ext(&w, 0x002b);
    put16(&w, 0x0304);
    close_len(&w);
    open_ext(&w, 0xfe0d);
    putfill(&w, 0xab, 8);
    close_len(&w);
    close_len(&w);
    test_cond("HRR ECH confirmation", parse_exact(true, w.b, w.len, h) == TLS_HELLO_OK &&
                                          h->is_hrr && h->has_ech && !h->ech_bad);
    static const uint8_t conf[8] = { 0 };
    test_cond("ECH in a plain ServerHello: malformed, read",
              one_ext(true, 0xfe0d, conf, sizeof conf) == TLS_HELLO_OK);
    free(h);
}

int main(void)
{
    test_ech();
    test_tls13_client();
    test_reused();
    test_sslv3();
    test_hrr();
    test_tls12_server();
    test_dtls_client();
    test_caps();
    test_malformed();
    test_prefixes_and_corruptions();
    return test_report();
}
