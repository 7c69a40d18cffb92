/*
 * test_dtls.c - unit tests for dtls/dtls.c: record walking (plaintext,
 * epoch > 0, DTLS 1.3 unified header, connection IDs, malformed headers),
 * the detection test, and handshake reassembly: fragments out of order,
 * retransmitted and overlapping, a message spread over datagrams, several
 * messages per record, HelloVerifyRequest, a capture that starts late,
 * slot exhaustion, conflicts, caps, the memcap, every prefix of a valid
 * record and random hostile input.  Delivered messages are compared byte
 * for byte with the TLS framing (type, uint24 length, body).
 */
#include <stdlib.h>
#include <string.h>

#include "dtls/dtls.h"
#include "testhelp.h"

static struct memcap mc;

/* ---- builders -------------------------------------------------------- */

/* A DTLSPlaintext record carrying p[0..n). */
static void record(struct tbuf *dg, unsigned type, unsigned ver, unsigned epoch, uint64_t seq,
                   const void *p, size_t n)
{
    tb_u8(dg, type);
    tb_u16(dg, ver);
    tb_u16(dg, epoch);
    tb_u16(dg, (unsigned)(seq >> 32));
    tb_u16(dg, (unsigned)(seq >> 16) & 0xffff);
    tb_u16(dg, (unsigned)seq & 0xffff);
    tb_u16(dg, (unsigned)n);
    tb_put(dg, p, n);
}

/* A handshake fragment of the message whose whole body is `body`. */
static void frag(struct tbuf *rec, unsigned type, uint32_t length, unsigned seq, uint32_t off,
                 uint32_t flen, const uint8_t *body)
{
    tb_u8(rec, type);
    tb_u24(rec, length);
    tb_u16(rec, seq);
    tb_u24(rec, off);
    tb_u24(rec, flen);
    if (flen)
        tb_put(rec, body + off, flen);
}

static void pattern(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + seed + (i >> 8));
}

/* ---- delivery collector ---------------------------------------------- */

#define GOT_MAX 32

struct got {
    int n;
    size_t len[GOT_MAX];
    uint8_t *msg[GOT_MAX];
};

static void collect(void *ctx, const uint8_t *msg, size_t len)
{
    struct got *g = ctx;
    if (g->n >= GOT_MAX)
        return;
    g->msg[g->n] = malloc(len ? len : 1);
    memcpy(g->msg[g->n], msg, len);
    g->len[g->n++] = len;
}

static void got_free(struct got *g)
{
    for (int i = 0; i < g->n; i++)
        free(g->msg[i]);
    memset(g, 0, sizeof(*g));
}

/* Message i equals the TLS-format message (type, length, body). */
static int got_is(const struct got *g, int i, unsigned type, const uint8_t *body, size_t blen)
{
    if (i >= g->n || g->len[i] != 4 + blen)
        return 0;
    const uint8_t *m = g->msg[i];
    uint8_t hdr[4] = { (uint8_t)type, (uint8_t)(blen >> 16), (uint8_t)(blen >> 8),
                       (uint8_t)blen };
    return memcmp(m, hdr, 4) == 0 && (blen == 0 || memcmp(m + 4, body, blen) == 0);
}

/* Walk a datagram as the pipeline would: cleartext handshake records go
 * to reassembly; everything else is only counted. */
struct walk {
    int records, encrypted, unified, err;
    int hs_flags;
};

static struct walk feed(struct dtls_hs_dir *d, const struct tbuf *dg, struct got *g)
{
    struct walk w = { 0 };
    struct rd r;
    struct dtls_record rec;
    int rc;

    rd_init(&r, dg->b, dg->n);
    while ((rc = dtls_record_next(&r, &rec)) == 1) {
        w.records++;
        if (rec.encrypted)
            w.encrypted++;
        if (rec.unified)
            w.unified++;
        if (rec.type == DTLS_CT_HANDSHAKE && !rec.encrypted)
            w.hs_flags |= dtls_hs_add(d, &mc, rec.frag, rec.len, collect, g);
    }
    w.err = rc;
    return w;
}

/* ---- record layer ---------------------------------------------------- */

static void test_records(void)
{
    struct tbuf dg = { .n = 0 };
    uint8_t hs[20], ct[5] = { 9, 8, 7, 6, 5 }, alert[18], ack[10];
    pattern(hs, sizeof(hs), 1);
    pattern(alert, sizeof(alert), 2);
    pattern(ack, sizeof(ack), 3);

    record(&dg, 22, 0xfefd, 0, 0xa1b2c3d4e5f6ull, hs, sizeof(hs));
    tb_u8(&dg, 0x2d);                      /* 001 C=0 S=1 L=1 EE=01 */
    tb_u16(&dg, 0x1234);
    tb_u16(&dg, sizeof(ct));
    tb_put(&dg, ct, sizeof(ct));
    record(&dg, 21, 0xfefd, 1, 7, alert, sizeof(alert));
    record(&dg, 26, 0xfefd, 0, 8, ack, sizeof(ack));

    struct rd r;
    struct dtls_record rec;
    rd_init(&r, dg.b, dg.n);
    test_cond("plaintext record", dtls_record_next(&r, &rec) == 1);
    test_cond("plaintext fields", rec.type == 22 && rec.version == 0xfefd && rec.epoch == 0 &&
                                      rec.seq == 0xa1b2c3d4e5f6ull && !rec.encrypted &&
                                      !rec.unified);
    test_cond("plaintext fragment", rec.len == sizeof(hs) && memcmp(rec.frag, hs, sizeof(hs)) == 0);
    test_cond("unified record", dtls_record_next(&r, &rec) == 1);
    test_cond("unified fields", rec.unified && rec.encrypted && rec.epoch == 1 &&
                                    rec.seq == 0x1234 && rec.type == 0x2d && rec.version == 0);
    test_cond("unified body", rec.len == sizeof(ct) && memcmp(rec.frag, ct, sizeof(ct)) == 0);
    test_cond("epoch-1 record", dtls_record_next(&r, &rec) == 1);
    test_cond("epoch-1 is encrypted", rec.type == 21 && rec.epoch == 1 && rec.encrypted &&
                                          !rec.unified && rec.len == sizeof(alert));
    test_cond("ack record", dtls_record_next(&r, &rec) == 1);
    test_cond("ack fields", rec.type == DTLS_CT_ACK && !rec.encrypted && rec.len == sizeof(ack) &&
                                memcmp(rec.frag, ack, sizeof(ack)) == 0);
    test_cond("end of datagram", dtls_record_next(&r, &rec) == 0);
    test_cond("end stays end", dtls_record_next(&r, &rec) == 0);

    /* Unified header without L runs to the end, 8-bit sequence number. */
    struct tbuf d2 = { .n = 0 };
    record(&d2, 22, 0xfefd, 0, 1, hs, 12);
    tb_u8(&d2, 0x22);                      /* 001 C=0 S=0 L=0 EE=10 */
    tb_u8(&d2, 0x99);
    tb_put(&d2, alert, sizeof(alert));
    rd_init(&r, d2.b, d2.n);
    test_cond("record before unified", dtls_record_next(&r, &rec) == 1 && rec.len == 12);
    test_cond("unified without length", dtls_record_next(&r, &rec) == 1);
    test_cond("unified runs to the end", rec.len == sizeof(alert) && rec.seq == 0x99 &&
                                             rec.epoch == 2 && rec.unified &&
                                             memcmp(rec.frag, alert, sizeof(alert)) == 0);
    test_cond("nothing after it", dtls_record_next(&r, &rec) == 0);

    /* Undelimitable and malformed headers stop the datagram. */
    struct {
        const char *name;
        uint8_t b[16];
        size_t n;
        int want;
    } bad[] = {
        { "unified with CID", { 0x3c, 1, 2, 3, 4, 0, 1, 0 }, 8, -DTLS_E_CID },
        { "tls12_cid record", { 25, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 1, 0xaa, 0xbb, 0, 1, 0 },
          16, -DTLS_E_CID },
        { "TLS version", { 22, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 13, -DTLS_E_VERSION },
        { "length past end", { 22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 1, 2, 3 }, 16,
          -DTLS_E_LENGTH },
        { "short header", { 22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0 }, 10, -DTLS_E_TRUNC },
        { "short unified", { 0x2c, 1, 2 }, 3, -DTLS_E_TRUNC },
        { "unified length past end", { 0x24, 1, 0, 9, 1 }, 5, -DTLS_E_LENGTH },
        { "content type 0", { 0, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 13, -DTLS_E_TYPE },
        { "content type 64", { 64, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 13, -DTLS_E_TYPE },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct tbuf d3 = { .n = 0 };
        record(&d3, 23, 0xfeff, 0, 0, ack, 3);
        tb_put(&d3, bad[i].b, bad[i].n);
        rd_init(&r, d3.b, d3.n);
        int first = dtls_record_next(&r, &rec);
        int rc = dtls_record_next(&r, &rec);
        test_cond(bad[i].name, first == 1 && rc == bad[i].want);
        test_cond("reader spent after an error", dtls_record_next(&r, &rec) == 0);
    }

    /* Every prefix: a clean end or a clean error, never past the end. */
    for (size_t n = 0; n <= dg.n; n++) {
        uint8_t *exact = malloc(n ? n : 1);
        memcpy(exact, dg.b, n);
        rd_init(&r, exact, n);
        int rc, k = 0;
        size_t sum = 0;
        while ((rc = dtls_record_next(&r, &rec)) == 1 && k < 10) {
            sum += rec.len;
            k++;
        }
        int ok = rc <= 0 && k <= 4 && sum <= n;
        if (n == dg.n)
            ok = ok && rc == 0 && k == 4;
        test_cond("record prefix", ok);
        free(exact);
    }
}

static void test_looks_like(void)
{
    uint8_t body[60];
    pattern(body, sizeof(body), 4);
    struct {
        const char *name;
        unsigned type, ver, epoch, mt;
        uint32_t mlen, off, flen;
        bool want;
    } c[] = {
        { "ClientHello DTLS 1.0 record", 22, 0xfeff, 0, 1, 60, 0, 60, true },
        { "ServerHello DTLS 1.2", 22, 0xfefd, 0, 2, 60, 0, 60, true },
        { "HelloVerifyRequest", 22, 0xfeff, 0, 3, 23, 0, 23, true },
        { "0xfefc record version", 22, 0xfefc, 0, 1, 60, 0, 60, true },
        { "first fragment of a longer hello", 22, 0xfefd, 0, 1, 600, 0, 60, true },
        { "epoch 1", 22, 0xfefd, 1, 1, 60, 0, 60, false },
        { "application data", 23, 0xfefd, 0, 1, 60, 0, 60, false },
        { "TLS version", 22, 0x0303, 0, 1, 60, 0, 60, false },
        { "Certificate first", 22, 0xfefd, 0, 11, 60, 0, 60, false },
        { "fragment beyond length", 22, 0xfefd, 0, 1, 50, 0, 60, false },
        { "offset beyond length", 22, 0xfefd, 0, 1, 10, 20, 0, false },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        struct tbuf rec = { .n = 0 }, dg = { .n = 0 };
        tb_u8(&rec, c[i].mt);
        tb_u24(&rec, c[i].mlen);
        tb_u16(&rec, 0);
        tb_u24(&rec, c[i].off);
        tb_u24(&rec, c[i].flen);
        tb_put(&rec, body, c[i].flen);
        record(&dg, c[i].type, c[i].ver, c[i].epoch, 0, rec.b, rec.n);
        test_cond(c[i].name, dtls_looks_like_handshake(dg.b, dg.n) == c[i].want);
        if (c[i].want) {
            int all_false = 1;
            for (size_t n = 0; n < DTLS_RECORD_HDR + DTLS_FRAG_HDR; n++)
                if (dtls_looks_like_handshake(dg.b, n))
                    all_false = 0;
            test_cond("short prefixes are not DTLS", all_false);
            test_cond("record length past payload", !dtls_looks_like_handshake(dg.b, dg.n - 1));
        }
    }
    test_cond("empty payload", !dtls_looks_like_handshake(NULL, 0));
    test_cond("unified header", !dtls_looks_like_handshake((const uint8_t *)"\x2c\0\0\0\0", 5));
}

/* ---- handshake reassembly -------------------------------------------- */

static void test_single(void)
{
    struct dtls_hs_dir d;
    struct got g = { 0 };
    uint8_t ch[100];
    pattern(ch, sizeof(ch), 5);
    dtls_hs_init(&d);

    struct tbuf rec = { .n = 0 }, dg = { .n = 0 };
    frag(&rec, 1, sizeof(ch), 0, 0, sizeof(ch), ch);
    record(&dg, 22, 0xfefd, 0, 0, rec.b, rec.n);
    struct walk w = feed(&d, &dg, &g);
    test_cond("one record, no error", w.records == 1 && w.err == 0 && w.hs_flags == 0);
    test_cond("ClientHello delivered", g.n == 1 && got_is(&g, 0, 1, ch, sizeof(ch)));
    test_cond("sequence advanced", d.started && d.next_seq == 1 && d.delivered == 1);
    test_cond("slot freed", mc.used == 0);
    dtls_hs_release(&d, &mc);
    got_free(&g);
}

static void test_out_of_order(void)
{
    struct dtls_hs_dir d;
    struct got g = { 0 };
    uint8_t ch[300];
    pattern(ch, sizeof(ch), 6);
    dtls_hs_init(&d);

    struct tbuf r1 = { .n = 0 }, r2 = { .n = 0 }, r3 = { .n = 0 }, dg = { .n = 0 };
    frag(&r1, 1, 300, 0, 200, 100, ch);
    frag(&r2, 1, 300, 0, 0, 120, ch);
    frag(&r3, 1, 300, 0, 100, 150, ch);   /* retransmission cut differently */

    int rc = dtls_hs_add(&d, &mc, r1.b, r1.n, collect, &g);
    test_cond("tail first: nothing yet", rc == 0 && g.n == 0 && !d.started);
    rc = dtls_hs_add(&d, &mc, r2.b, r2.n, collect, &g);
    test_cond("head: still a hole", rc == 0 && g.n == 0 && d.slot[0].n_ranges == 2);
    rc = dtls_hs_add(&d, &mc, r3.b, r3.n, collect, &g);
    test_cond("overlapping piece completes", rc == 0 && g.n == 1);
    test_cond("reassembled bytes", got_is(&g, 0, 1, ch, sizeof(ch)));

    /* The whole flight again, in one datagram of three records. */
    record(&dg, 22, 0xfefd, 0, 3, r1.b, r1.n);
    record(&dg, 22, 0xfefd, 0, 4, r2.b, r2.n);
    record(&dg, 22, 0xfefd, 0, 5, r3.b, r3.n);
    struct walk w = feed(&d, &dg, &g);
    test_cond("retransmission ignored", w.hs_flags == 0 && g.n == 1 && d.retransmits == 3);
    test_cond("no buffer kept", mc.used == 0);
    dtls_hs_release(&d, &mc);
    got_free(&g);

    /* One message in two records of one datagram (as DTLS 1.3 clients do
     * when a hello is cut at a record boundary). */
    dtls_hs_init(&d);
    struct tbuf a = { .n = 0 }, b = { .n = 0 }, d2 = { .n = 0 };
    frag(&a, 1, 69, 0, 0, 34, ch);
    frag(&b, 1, 69, 0, 34, 35, ch);
    record(&d2, 22, 0xfeff, 0, 0, a.b, a.n);
    record(&d2, 22, 0xfeff, 0, 1, b.b, b.n);
    w = feed(&d, &d2, &g);
    test_cond("split over two records", w.records == 2 && g.n == 1 && got_is(&g, 0, 1, ch, 69));
    dtls_hs_release(&d, &mc);
    got_free(&g);
}

/* ServerHello, a 5000-byte Certificate in 5 pieces over three datagrams
 * (arriving out of order), ServerKeyExchange and ServerHelloDone. */
static void test_big_certificate(void)
{
    struct dtls_hs_dir d;
    struct got g = { 0 };
    static uint8_t cert[5000];
    uint8_t sh[80], ske[40];
    pattern(cert, sizeof(cert), 7);
    pattern(sh, sizeof(sh), 8);
    pattern(ske, sizeof(ske), 9);
    dtls_hs_init(&d);

    struct tbuf rec = { .n = 0 }, dg1 = { .n = 0 }, dg2 = { .n = 0 }, dg3 = { .n = 0 };
    frag(&rec, 2, sizeof(sh), 0, 0, sizeof(sh), sh);
    record(&dg1, 22, 0xfefd, 0, 0, rec.b, rec.n);
    rec.n = 0;
    frag(&rec, 11, 5000, 1, 0, 1200, cert);
    record(&dg1, 22, 0xfefd, 0, 1, rec.b, rec.n);

    rec.n = 0;
    frag(&rec, 11, 5000, 1, 1200, 1200, cert);
    record(&dg2, 22, 0xfefd, 0, 2, rec.b, rec.n);
    rec.n = 0;
    frag(&rec, 11, 5000, 1, 2400, 1200, cert);
    record(&dg2, 22, 0xfefd, 0, 3, rec.b, rec.n);

    rec.n = 0;
    frag(&rec, 11, 5000, 1, 3600, 1000, cert);
    record(&dg3, 22, 0xfefd, 0, 4, rec.b, rec.n);
    rec.n = 0;
    frag(&rec, 11, 5000, 1, 4600, 400, cert);
    frag(&rec, 12, sizeof(ske), 2, 0, sizeof(ske), ske);
    frag(&rec, 14, 0, 3, 0, 0, NULL);
    record(&dg3, 22, 0xfefd, 0, 5, rec.b, rec.n);

    struct walk w = feed(&d, &dg1, &g);
    test_cond("datagram 1: ServerHello only", w.hs_flags == 0 && g.n == 1 &&
                                                  got_is(&g, 0, 2, sh, sizeof(sh)));
    w = feed(&d, &dg3, &g);
    test_cond("datagram 3 early: held back", w.hs_flags == 0 && g.n == 1 && mc.used > 0);
    w = feed(&d, &dg2, &g);
    test_cond("datagram 2: the rest follows", w.hs_flags == 0 && g.n == 4);
    test_cond("Certificate bytes", got_is(&g, 1, 11, cert, sizeof(cert)));
    test_cond("ServerKeyExchange after it", got_is(&g, 2, 12, ske, sizeof(ske)));
    test_cond("ServerHelloDone last", got_is(&g, 3, 14, NULL, 0));
    test_cond("counters", d.delivered == 4 && d.next_seq == 4 && d.gaps == 0 &&
                              d.retransmits == 0 && d.flags == 0);
    test_cond("buffers returned", mc.used == 0);
    dtls_hs_release(&d, &mc);
    got_free(&g);
}

static void test_two_in_one_record(void)
{
    struct dtls_hs_dir d;
    struct got g = { 0 };
    uint8_t ske[50];
    pattern(ske, sizeof(ske), 10);
    dtls_hs_init(&d);

    struct tbuf rec = { .n = 0 };
    frag(&rec, 12, sizeof(ske), 0, 0, sizeof(ske), ske);
    frag(&rec, 14, 0, 1, 0, 0, NULL);
    int rc = dtls_hs_add(&d, &mc, rec.b, rec.n, collect, &g);
    test_cond("two messages, one record", rc == 0 && g.n == 2);
    test_cond("first", got_is(&g, 0, 12, ske, sizeof(ske)));
    test_cond("second (zero-length)", got_is(&g, 1, 14, NULL, 0) && g.len[1] == 4);
    test_cond("zero-length bytes", memcmp(g.msg[1], "\x0e\x00\x00\x00", 4) == 0);
    dtls_hs_release(&d, &mc);
    got_free(&g);

    /* An empty piece of a non-empty message changes nothing. */
    dtls_hs_init(&d);
    rec.n = 0;
    frag(&rec, 1, 40, 0, 10, 0, NULL);
    rc = dtls_hs_add(&d, &mc, rec.b, rec.n, collect, &g);
    test_cond("empty piece ignored", rc == 0 && g.n == 0 && !d.slot[0].used && mc.used == 0);
    dtls_hs_release(&d, &mc);
}

/* A DTLS 1.3 server datagram: ServerHello in clear, then a unified-header
 * record (skipped), then a cleartext record again; and a DTLS 1.2 client
 * flight: ClientKeyExchange, ChangeCipherSpec, then Finished in epoch 1. */
static void test_mixed_datagram(void)
{
    struct dtls_hs_dir d;
    struct got g = { 0 };
    uint8_t sh[90], ct[48], m2[25], cke[66], fin[40];
    pattern(sh, sizeof(sh), 70);
    pattern(ct, sizeof(ct), 71);
    pattern(m2, sizeof(m2), 72);
    pattern(cke, sizeof(cke), 73);
    pattern(fin, sizeof(fin), 74);
    dtls_hs_init(&d);

    struct tbuf rec = { .n = 0 }, dg = { .n = 0 };
    frag(&rec, 2, sizeof(sh), 0, 0, sizeof(sh), sh);
    record(&dg, 22, 0xfefd, 0, 0, rec.b, rec.n);
    tb_u8(&dg, 0x2e);                      /* 001 C=0 S=1 L=1 EE=10 */
    tb_u16(&dg, 0x0001);
    tb_u16(&dg, sizeof(ct));
    tb_put(&dg, ct, sizeof(ct));
    rec.n = 0;
    frag(&rec, 2, sizeof(m2), 1, 0, sizeof(m2), m2);
    record(&dg, 22, 0xfefd, 0, 1, rec.b, rec.n);
    struct walk w = feed(&d, &dg, &g);
    test_cond("three records, one unified", w.records == 3 && w.unified == 1 &&
                                                w.encrypted == 1 && w.err == 0);
    test_cond("cleartext around it delivered", w.hs_flags == 0 && g.n == 2 &&
                                                   got_is(&g, 0, 2, sh, sizeof(sh)) &&
                                                   got_is(&g, 1, 2, m2, sizeof(m2)));
    dtls_hs_release(&d, &mc);
    got_free(&g);

    dtls_hs_init(&d);
    rec.n = dg.n = 0;
    frag(&rec, 16, sizeof(cke), 2, 0, sizeof(cke), cke);
    record(&dg, 22, 0xfefd, 0, 2, rec.b, rec.n);
    record(&dg, 20, 0xfefd, 0, 3, "\x01", 1);
    record(&dg, 22, 0xfefd, 1, 0, fin, sizeof(fin));
    w = feed(&d, &dg, &g);
    test_cond("epoch-1 handshake record is encrypted", w.records == 3 && w.encrypted == 1 &&
                                                           w.unified == 0 && w.err == 0);
    test_cond("only the cleartext message", g.n == 1 && got_is(&g, 0, 16, cke, sizeof(cke)) &&
                                                d.next_seq == 3 && d.flags == 0);
    dtls_hs_release(&d, &mc);
    got_free(&g);
}

static void test_hello_verify(void)
{
    struct dtls_hs_dir cli, srv;
    struct got gc = { 0 }, gs = { 0 };
    uint8_t ch0[90], ch1[110], sh[70], hvr[23];
    pattern(ch0, sizeof(ch0), 11);
    pattern(ch1, sizeof(ch1), 12);
    pattern(sh, sizeof(sh), 13);
    hvr[0] = 0xfe;
    hvr[1] = 0xff;
    hvr[2] = 20;
    pattern(hvr + 3, 20, 14);
    dtls_hs_init(&cli);
    dtls_hs_init(&srv);

    struct tbuf rec = { .n = 0 }, dg = { .n = 0 };
    frag(&rec, 1, sizeof(ch0), 0, 0, sizeof(ch0), ch0);
    record(&dg, 22, 0xfeff, 0, 0, rec.b, rec.n);
    test_cond("looks like DTLS", dtls_looks_like_handshake(dg.b, dg.n));
    feed(&cli, &dg, &gc);
    test_cond("first ClientHello", gc.n == 1 && got_is(&gc, 0, 1, ch0, sizeof(ch0)));

    rec.n = dg.n = 0;
    frag(&rec, 3, sizeof(hvr), 0, 0, sizeof(hvr), hvr);
    record(&dg, 22, 0xfeff, 0, 0, rec.b, rec.n);
    test_cond("HVR looks like DTLS", dtls_looks_like_handshake(dg.b, dg.n));
    feed(&srv, &dg, &gs);
    test_cond("HelloVerifyRequest", gs.n == 1 && got_is(&gs, 0, 3, hvr, sizeof(hvr)));
    uint16_t ver = 0;
    uint8_t clen = 0;
    int rc = gs.n == 1 ? dtls_hello_verify_parse(gs.msg[0] + 4, gs.len[0] - 4, &ver, &clen) : -1;
    test_cond("HVR body", rc == 0 && ver == 0xfeff && clen == 20);

    rec.n = dg.n = 0;
    frag(&rec, 1, sizeof(ch1), 1, 0, sizeof(ch1), ch1);
    record(&dg, 22, 0xfeff, 0, 1, rec.b, rec.n);
    feed(&cli, &dg, &gc);
    test_cond("second ClientHello", gc.n == 2 && got_is(&gc, 1, 1, ch1, sizeof(ch1)));

    /* The first ClientHello retransmitted late. */
    rec.n = dg.n = 0;
    frag(&rec, 1, sizeof(ch0), 0, 0, sizeof(ch0), ch0);
    record(&dg, 22, 0xfeff, 0, 2, rec.b, rec.n);
    feed(&cli, &dg, &gc);
    test_cond("late first hello is a retransmission", gc.n == 2 && cli.retransmits == 1);

    rec.n = dg.n = 0;
    frag(&rec, 2, sizeof(sh), 1, 0, sizeof(sh), sh);
    record(&dg, 22, 0xfefd, 0, 1, rec.b, rec.n);
    feed(&srv, &dg, &gs);
    test_cond("ServerHello message_seq 1", gs.n == 2 && got_is(&gs, 1, 2, sh, sizeof(sh)));
    dtls_hs_release(&cli, &mc);
    dtls_hs_release(&srv, &mc);
    got_free(&gc);
    got_free(&gs);

    /* Parser on its own. */
    test_cond("empty cookie", dtls_hello_verify_parse((const uint8_t *)"\xfe\xfd\x00", 3, &ver,
                                                      &clen) == 0 && ver == 0xfefd && clen == 0);
    int all_bad = 1;
    for (size_t n = 0; n < sizeof(hvr); n++)
        if (dtls_hello_verify_parse(hvr, n, &ver, &clen) != -DTLS_E_BODY)
            all_bad = 0;
    test_cond("every prefix is malformed", all_bad);
    uint8_t longer[24];
    memcpy(longer, hvr, sizeof(hvr));
    longer[23] = 0;
    test_cond("trailing byte", dtls_hello_verify_parse(longer, 24, &ver, &clen) == -DTLS_E_BODY);
    test_cond("TLS version", dtls_hello_verify_parse((const uint8_t *)"\x03\x03\x00", 3, &ver,
                                                     &clen) == -DTLS_E_VERSION);
}

static void test_late_start(void)
{
    struct dtls_hs_dir d;
    struct got g = { 0 };
    uint8_t m3[30], m4[31], m2[32];
    pattern(m3, sizeof(m3), 15);
    pattern(m4, sizeof(m4), 16);
    pattern(m2, sizeof(m2), 17);
    dtls_hs_init(&d);

    struct tbuf rec = { .n = 0 };
    frag(&rec, 16, sizeof(m3), 3, 0, sizeof(m3), m3);
    dtls_hs_add(&d, &mc, rec.b, rec.n, collect, &g);
    test_cond("message_seq 3 starts the sequence", g.n == 1 && got_is(&g, 0, 16, m3, sizeof(m3)) &&
                                                      d.next_seq == 4 && d.gaps == 0);
    rec.n = 0;
    frag(&rec, 20, sizeof(m4), 4, 0, sizeof(m4), m4);
    frag(&rec, 15, sizeof(m2), 2, 0, sizeof(m2), m2);
    dtls_hs_add(&d, &mc, rec.b, rec.n, collect, &g);
    test_cond("then 4; 2 is old", g.n == 2 && got_is(&g, 1, 20, m4, sizeof(m4)) &&
                                      d.retransmits == 1);
    dtls_hs_release(&d, &mc);
    got_free(&g);

    /* message_seq 65535: the sequence does not wrap back to 0. */
    dtls_hs_init(&d);
    rec.n = 0;
    frag(&rec, 16, sizeof(m3), 65535, 0, sizeof(m3), m3);
    frag(&rec, 16, sizeof(m3), 0, 0, sizeof(m3), m3);
    int rc0 = dtls_hs_add(&d, &mc, rec.b, rec.n, collect, &g);
    test_cond("no wrap after 65535", rc0 == 0 && g.n == 1 && d.next_seq == 65536 &&
                                         d.retransmits == 1 && mc.used == 0);
    dtls_hs_release(&d, &mc);
    got_free(&g);

    /* A lower message still in pieces when a later one completes first is
     * abandoned (and reported). */
    dtls_hs_init(&d);
    rec.n = 0;
    frag(&rec, 11, sizeof(m2), 2, 0, 10, m2);
    frag(&rec, 12, sizeof(m3), 3, 0, sizeof(m3), m3);
    int rc = dtls_hs_add(&d, &mc, rec.b, rec.n, collect, &g);
    test_cond("lower partial message abandoned", rc == DTLS_E_GAP && g.n == 1 && d.gaps == 1 &&
                                                     d.next_seq == 4 && mc.used == 0);
    dtls_hs_release(&d, &mc);
    got_free(&g);
}

static void test_slots(void)
{
    struct dtls_hs_dir d;
    struct got g = { 0 };
    uint8_t m[10][40];
    for (int i = 0; i < 10; i++)
        pattern(m[i], sizeof(m[i]), 20 + (unsigned)i);
    dtls_hs_init(&d);

    struct tbuf rec = { .n = 0 };
    frag(&rec, 1, 40, 0, 0, 40, m[0]);
    dtls_hs_add(&d, &mc, rec.b, rec.n, collect, &g);
    /* 1 is lost; 2, 3, 4 wait for it. */
    for (unsigned s = 2; s <= 4; s++) {
        rec.n = 0;
        frag(&rec, 10 + s, 40, s, 0, 40, m[s]);
        dtls_hs_add(&d, &mc, rec.b, rec.n, collect, &g);
    }
    test_cond("held while a slot is free", g.n == 1 && d.next_seq == 1 && d.gaps == 0);
    rec.n = 0;
    frag(&rec, 13, 40, 3, 0, 40, m[3]);   /* copy of a waiting message */
    int rc = dtls_hs_add(&d, &mc, rec.b, rec.n, collect, &g);
    test_cond("copy of a waiting message ignored", rc == 0 && g.n == 1 && d.retransmits == 0);
    rec.n = 0;
    frag(&rec, 15, 40, 5, 0, 40, m[5]);
    rc = dtls_hs_add(&d, &mc, rec.b, rec.n, collect, &g);
    test_cond("slots full: skip ahead", rc == DTLS_E_GAP && d.gaps == 1 && d.next_seq == 6);
    test_cond("2..5 delivered in order", g.n == 5 && got_is(&g, 1, 12, m[2], 40) &&
                                             got_is(&g, 2, 13, m[3], 40) &&
                                             got_is(&g, 3, 14, m[4], 40) &&
                                             got_is(&g, 4, 15, m[5], 40));
    rec.n = 0;
    frag(&rec, 11, 40, 1, 0, 40, m[1]);
    rc = dtls_hs_add(&d, &mc, rec.b, rec.n, collect, &g);
    test_cond("the lost one arrives too late", rc == 0 && g.n == 5 && d.retransmits == 1);
    test_cond("gap flag kept", (d.flags & DTLS_E_GAP) != 0);
    dtls_hs_release(&d, &mc);
    got_free(&g);

    /* Full with the next message in progress: a lower newcomer evicts the
     * highest, a higher one is dropped. */
    dtls_hs_init(&d);
    rec.n = 0;
    frag(&rec, 1, 40, 0, 0, 40, m[0]);
    frag(&rec, 2, 40, 1, 0, 20, m[1]);
    frag(&rec, 5, 40, 5, 0, 20, m[5]);
    frag(&rec, 6, 40, 6, 0, 20, m[6]);
    frag(&rec, 7, 40, 7, 0, 20, m[7]);
    rc = dtls_hs_add(&d, &mc, rec.b, rec.n, collect, &g);
    test_cond("four in progress", rc == 0 && g.n == 1 && d.next_seq == 1);
    rec.n = 0;
    frag(&rec, 3, 40, 3, 0, 40, m[3]);
    rc = dtls_hs_add(&d, &mc, rec.b, rec.n, collect, &g);
    test_cond("lower newcomer evicts the highest", rc == DTLS_E_SLOTS && d.evicted == 1);
    rec.n = 0;
    frag(&rec, 9, 40, 9, 0, 40, m[9]);
    rc = dtls_hs_add(&d, &mc, rec.b, rec.n, collect, &g);
    test_cond("higher newcomer dropped", rc == DTLS_E_SLOTS && d.dropped == 1);
    rec.n = 0;
    frag(&rec, 2, 40, 1, 20, 20, m[1]);
    rc = dtls_hs_add(&d, &mc, rec.b, rec.n, collect, &g);
    test_cond("completing the next one delivers it", rc == 0 && g.n == 2 &&
                                                         got_is(&g, 1, 2, m[1], 40) &&
                                                         d.next_seq == 2);
    dtls_hs_release(&d, &mc);
    test_cond("release returns the buffers", mc.used == 0);
    got_free(&g);
}

static void test_conflicts(void)
{
    struct dtls_hs_dir d;
    struct got g = { 0 };
    uint8_t body[200], other[200];
    pattern(body, sizeof(body), 30);
    pattern(other, sizeof(other), 31);
    dtls_hs_init(&d);

    struct tbuf rec = { .n = 0 };
    frag(&rec, 1, 100, 0, 0, 50, body);
    int rc = dtls_hs_add(&d, &mc, rec.b, rec.n, collect, &g);
    rec.n = 0;
    frag(&rec, 1, 200, 0, 50, 50, body);
    rc = dtls_hs_add(&d, &mc, rec.b, rec.n, collect, &g);
    test_cond("other length", rc == DTLS_E_CONFLICT && d.conflicts == 1 && g.n == 0);
    rec.n = 0;
    frag(&rec, 2, 100, 0, 50, 50, body);
    rc = dtls_hs_add(&d, &mc, rec.b, rec.n, collect, &g);
    test_cond("other type", rc == DTLS_E_CONFLICT && d.conflicts == 2 && g.n == 0);
    rec.n = 0;
    frag(&rec, 1, 100, 0, 50, 50, body);
    rc = dtls_hs_add(&d, &mc, rec.b, rec.n, collect, &g);
    test_cond("the original completes", rc == 0 && g.n == 1 && got_is(&g, 0, 1, body, 100));
    dtls_hs_release(&d, &mc);
    got_free(&g);

    /* Overlap with other bytes: reported, first copy kept. */
    dtls_hs_init(&d);
    uint8_t mixed[100];
    memcpy(mixed, body, 100);
    memcpy(mixed + 40, other + 40, 60);
    rec.n = 0;
    frag(&rec, 1, 100, 0, 0, 60, body);
    frag(&rec, 1, 100, 0, 40, 60, mixed);
    rc = dtls_hs_add(&d, &mc, rec.b, rec.n, collect, &g);
    uint8_t want[100];
    memcpy(want, body, 60);
    memcpy(want + 60, other + 60, 40);
    test_cond("overlap conflict reported", rc == DTLS_E_OVERLAP && d.conflicts == 1);
    test_cond("first copy wins", g.n == 1 && got_is(&g, 0, 1, want, 100));
    dtls_hs_release(&d, &mc);
    got_free(&g);
}

static void test_malformed(void)
{
    struct dtls_hs_dir d;
    struct got g = { 0 };
    uint8_t body[40];
    pattern(body, sizeof(body), 40);
    dtls_hs_init(&d);

    /* offset + length beyond the message, then a good fragment. */
    struct tbuf rec = { .n = 0 };
    tb_u8(&rec, 1);
    tb_u24(&rec, 10);
    tb_u16(&rec, 0);
    tb_u24(&rec, 8);
    tb_u24(&rec, 4);
    tb_put(&rec, body, 4);
    frag(&rec, 1, 40, 0, 0, 40, body);
    int rc = dtls_hs_add(&d, &mc, rec.b, rec.n, collect, &g);
    test_cond("fragment beyond length", (rc & DTLS_E_FRAG_RANGE) && d.malformed == 1);
    test_cond("next fragment still used", g.n == 1 && got_is(&g, 0, 1, body, 40));

    /* Offset alone beyond length; huge values must not wrap. */
    rec.n = 0;
    tb_u8(&rec, 2);
    tb_u24(&rec, 10);
    tb_u16(&rec, 1);
    tb_u24(&rec, 0xffffff);
    tb_u24(&rec, 0);
    rc = dtls_hs_add(&d, &mc, rec.b, rec.n, collect, &g);
    test_cond("offset beyond length", rc == DTLS_E_FRAG_RANGE && d.malformed == 2);

    rec.n = 0;
    tb_put(&rec, "\x02\x00\x00", 3);
    rc = dtls_hs_add(&d, &mc, rec.b, rec.n, collect, &g);
    test_cond("short fragment header", rc == DTLS_E_FRAG_HDR && d.malformed == 3);

    rec.n = 0;
    frag(&rec, 2, 40, 1, 0, 40, body);
    rc = dtls_hs_add(&d, &mc, rec.b, rec.n - 1, collect, &g);
    test_cond("fragment body cut by the record", rc == DTLS_E_FRAG_HDR && g.n == 1);
    test_cond("malformed flags accumulate",
              d.flags == (DTLS_E_FRAG_RANGE | DTLS_E_FRAG_HDR) && mc.used == 0);
    dtls_hs_release(&d, &mc);
    got_free(&g);

    /* Every prefix of a valid record: a clean error, nothing delivered. */
    static uint8_t big[1500];
    pattern(big, sizeof(big), 41);
    rec.n = 0;
    frag(&rec, 11, 1500, 0, 0, 1500, big);
    int ok = 1;
    for (size_t n = 0; n < rec.n; n++) {
        uint8_t *exact = malloc(n ? n : 1);
        memcpy(exact, rec.b, n);
        dtls_hs_init(&d);
        rc = dtls_hs_add(&d, &mc, exact, n, collect, &g);
        if (g.n != 0 || rc != (n ? DTLS_E_FRAG_HDR : 0))
            ok = 0;
        dtls_hs_release(&d, &mc);
        free(exact);
    }
    test_cond("every prefix of a record", ok && mc.used == 0);
}

static void test_caps(void)
{
    struct dtls_hs_dir d;
    struct got g = { 0 };
    uint8_t small[30];
    pattern(small, sizeof(small), 50);
    dtls_hs_init(&d);

    /* Too large: passed over in order, the next message still delivered. */
    struct tbuf rec = { .n = 0 };
    tb_u8(&rec, 11);
    tb_u24(&rec, DTLS_MSG_MAX + 1);
    tb_u16(&rec, 0);
    tb_u24(&rec, 0);
    tb_u24(&rec, 30);
    tb_put(&rec, small, 30);
    int rc = dtls_hs_add(&d, &mc, rec.b, rec.n, collect, &g);
    test_cond("too large", rc == DTLS_E_TOO_LARGE && d.too_large == 1 && mc.used == 0 &&
                               g.n == 0 && d.next_seq == 1);
    rec.n = 0;
    frag(&rec, 14, 0, 1, 0, 0, NULL);
    rc = dtls_hs_add(&d, &mc, rec.b, rec.n, collect, &g);
    test_cond("message after it delivered", rc == 0 && g.n == 1 && got_is(&g, 0, 14, NULL, 0));
    dtls_hs_release(&d, &mc);
    got_free(&g);

    /* DTLS_MAX_RANGES disjoint pieces, one more is dropped, a full copy
     * then completes the message. */
    uint8_t body[100];
    pattern(body, sizeof(body), 51);
    dtls_hs_init(&d);
    rec.n = 0;
    for (unsigned i = 0; i <= DTLS_MAX_RANGES; i++)
        frag(&rec, 1, 100, 0, 2 * i, 1, body);
    rc = dtls_hs_add(&d, &mc, rec.b, rec.n, collect, &g);
    test_cond("too many ranges", rc == DTLS_E_RANGES && d.slot[0].n_ranges == DTLS_MAX_RANGES &&
                                     d.dropped == 1);
    rec.n = 0;
    frag(&rec, 1, 100, 0, 0, 100, body);
    rc = dtls_hs_add(&d, &mc, rec.b, rec.n, collect, &g);
    test_cond("full copy completes", rc == 0 && g.n == 1 && got_is(&g, 0, 1, body, 100));
    dtls_hs_release(&d, &mc);
    got_free(&g);
}

static void test_memcap(void)
{
    static uint8_t cert[5000];
    pattern(cert, sizeof(cert), 60);
    uint8_t small[20];
    pattern(small, sizeof(small), 61);

    size_t caps[] = { 0, 30, 100, 3000, 6000 };
    for (size_t k = 0; k < sizeof(caps) / sizeof(caps[0]); k++) {
        struct memcap tiny;
        struct dtls_hs_dir d;
        struct got g = { 0 };
        memcap_init(&tiny, caps[k]);
        dtls_hs_init(&d);
        int flags = 0;
        for (uint32_t off = 0; off < 5000; off += 1200) {
            struct tbuf rec = { .n = 0 };
            frag(&rec, 11, 5000, 0, off, off + 1200 > 5000 ? 5000 - off : 1200, cert);
            flags |= dtls_hs_add(&d, &tiny, rec.b, rec.n, collect, &g);
        }
        struct tbuf rec = { .n = 0 };
        frag(&rec, 14, 0, 1, 0, 0, NULL);
        frag(&rec, 16, sizeof(small), 2, 0, sizeof(small), small);
        flags |= dtls_hs_add(&d, &tiny, rec.b, rec.n, collect, &g);
        if (caps[k] < 5004) {
            test_cond("memcap reported", (flags & DTLS_E_MEMCAP) && tiny.hits > 0 &&
                                             d.dropped > 0);
            test_cond("certificate not delivered", g.n == 0 || g.msg[0][0] != 11);
        } else {
            test_cond("fits under 6000", flags == 0 && g.n == 3 &&
                                             got_is(&g, 0, 11, cert, sizeof(cert)));
        }
        test_cond("never over the cap", tiny.peak <= caps[k]);
        dtls_hs_release(&d, &tiny);
        test_cond("everything returned", tiny.used == 0);
        got_free(&g);
    }
}

/* ---- hostile input --------------------------------------------------- */

static uint32_t rng = 0x2545f491;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static int bad_msgs;
static void check_msg(void *ctx, const uint8_t *msg, size_t len)
{
    (void)ctx;
    if (len < 4 || len != 4 + ((size_t)msg[1] << 16 | (size_t)msg[2] << 8 | msg[3]))
        bad_msgs++;
}

static void test_random(void)
{
    struct memcap cap;
    memcap_init(&cap, 200000);
    int invariant_ok = 1;
    for (int round = 0; round < 300; round++) {
        struct dtls_hs_dir d;
        dtls_hs_init(&d);
        for (int i = 0; i < 60; i++) {
            struct tbuf rec = { .n = 0 };
            int nfrag = (int)(rnd() % 4);
            for (int f = 0; f < nfrag; f++) {
                uint32_t length = rnd() % 4 == 0 ? rnd() % 0x20000 : rnd() % 300;
                uint32_t off = rnd() % (length + 20), flen = rnd() % 200;
                tb_u8(&rec, rnd() % 20);
                tb_u24(&rec, length);
                tb_u16(&rec, rnd() % 12);
                tb_u24(&rec, off);
                tb_u24(&rec, flen);
                for (uint32_t k = 0; k < flen && rec.n < 4000; k++)
                    tb_u8(&rec, rnd() % 3);
            }
            size_t n = rec.n ? rnd() % (rec.n + 1) : 0;
            uint8_t *exact = malloc(n ? n : 1);
            memcpy(exact, rec.b, n);
            dtls_hs_add(&d, &cap, exact, n, check_msg, NULL);
            free(exact);
            for (int s = 0; s < DTLS_MAX_PENDING; s++) {
                const struct dtls_hs_slot *sl = &d.slot[s];
                if (!sl->used)
                    continue;
                if (sl->n_ranges > DTLS_MAX_RANGES || (d.started && sl->msg_seq < d.next_seq))
                    invariant_ok = 0;
                if (sl->cap > 4 + (size_t)DTLS_MSG_MAX)
                    invariant_ok = 0;
            }
        }
        dtls_hs_release(&d, &cap);
    }
    test_cond("random: delivered messages well-formed", bad_msgs == 0);
    test_cond("random: invariants", invariant_ok);
    test_cond("random: memory returned", cap.used == 0 && cap.peak <= 200000);

    /* Random datagrams through the record walker. */
    int walker_ok = 1;
    for (int i = 0; i < 20000; i++) {
        uint8_t dg[64];
        size_t n = rnd() % sizeof(dg);
        for (size_t k = 0; k < n; k++)
            dg[k] = (uint8_t)rnd();
        if (n && rnd() % 2)
            dg[0] = (uint8_t)(20 + rnd() % 50);
        if (n > 2 && rnd() % 2)
            dg[1] = 0xfe;
        if (n > 12 && rnd() % 2)
            dg[11] = 0;
        struct rd r;
        struct dtls_record rec;
        rd_init(&r, dg, n);
        int k = 0, rc;
        while ((rc = dtls_record_next(&r, &rec)) == 1) {
            if (rec.frag < dg || rec.frag + rec.len > dg + n)
                walker_ok = 0;
            if (++k > 64)
                break;
        }
        if (k > 64 || (rc < 0 && dtls_record_next(&r, &rec) != 0))
            walker_ok = 0;
        (void)dtls_looks_like_handshake(dg, n);
    }
    test_cond("random: record walker stays inside", walker_ok);
}

static void test_names(void)
{
    test_streq("ok", dtls_err_name(0), "ok");
    test_streq("negated", dtls_err_name(-DTLS_E_CID), "connection_id");
    test_streq("positive", dtls_err_name(DTLS_E_FRAG_RANGE), "fragment_range");
    test_streq("lowest bit wins", dtls_err_name(DTLS_E_GAP | DTLS_E_MEMCAP), "message_gap");
    test_streq("last", dtls_err_name(DTLS_E_BODY), "bad_body");
    test_streq("unknown", dtls_err_name(1 << 30), "unknown");
}

int main(void)
{
    memcap_init(&mc, 64u << 20);
    test_records();
    test_looks_like();
    test_single();
    test_out_of_order();
    test_big_certificate();
    test_two_in_one_record();
    test_mixed_datagram();
    test_hello_verify();
    test_late_start();
    test_slots();
    test_conflicts();
    test_malformed();
    test_caps();
    test_memcap();
    test_random();
    test_names();
    return test_report();
}
