/*
 * test_session.c - unit tests for tls/session.c: records, handshake framing
 * across records, preambles (CONNECT, SOCKS5, STARTTLS, PostgreSQL), TLS
 * inside TDS packets and WebSocket frames, HTTP Upgrade, SSLv2,
 * HelloRetryRequest, alerts, completion, and every prefix of a valid
 * conversation (a clean "need more", never a read out of bounds).
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "tls/session.h"
#include "testhelp.h"

static struct memcap mc;
static struct stats st;
static struct tls_hello hello;

/* A ClientHello body: TLS 1.3 offer with SNI, ALPN h2, supported_versions. */
static void client_hello_body(struct tbuf *b, const char *sni)
{
    uint8_t rnd[32] = { 1, 2, 3 };
    tb_u16(b, 0x0303);
    tb_put(b, rnd, 32);
    tb_u8(b, 0);                          /* session id */
    tb_u16(b, 4); tb_u16(b, 0x1301); tb_u16(b, 0xc02f);
    tb_u8(b, 1); tb_u8(b, 0);                /* compression */
    struct tbuf e = { .n = 0 };
    size_t sl = strlen(sni);
    tb_u16(&e, 0x0000); tb_u16(&e, (unsigned)sl + 5); tb_u16(&e, (unsigned)sl + 3); tb_u8(&e, 0);
    tb_u16(&e, (unsigned)sl); tb_put(&e, sni, sl);
    tb_u16(&e, 0x0010); tb_u16(&e, 5); tb_u16(&e, 3); tb_u8(&e, 2); tb_put(&e, "h2", 2);
    tb_u16(&e, 0x002b); tb_u16(&e, 5); tb_u8(&e, 4); tb_u16(&e, 0x0304); tb_u16(&e, 0x0303);
    tb_u16(b, (unsigned)e.n);
    tb_put(b, e.b, e.n);
}

static void server_hello_body(struct tbuf *b, unsigned version, bool hrr)
{
    static const uint8_t hrr_random[32] = {
        0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
        0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C };
    uint8_t rnd[32] = { 9 };
    tb_u16(b, 0x0303);
    tb_put(b, hrr ? hrr_random : rnd, 32);
    tb_u8(b, 0);
    tb_u16(b, version == 0x0304 ? 0x1301 : 0xc02f);
    tb_u8(b, 0);
    if (version == 0x0304) {
        tb_u16(b, 6);
        tb_u16(b, 0x002b); tb_u16(b, 2); tb_u16(b, 0x0304);
    } else {
        tb_u16(b, 0);
    }
}

static void handshake_msg(struct tbuf *out, unsigned type, const struct tbuf *body)
{
    tb_u8(out, type);
    tb_u24(out, (unsigned)body->n);
    tb_put(out, body->b, body->n);
}

/* Wrap `payload` in records of at most `frag` bytes of content type `ct`. */
static void records(struct tbuf *out, unsigned ct, const struct tbuf *payload, size_t frag)
{
    for (size_t off = 0; off < payload->n; off += frag) {
        size_t n = payload->n - off < frag ? payload->n - off : frag;
        tb_u8(out, ct); tb_u16(out, 0x0303); tb_u16(out, (unsigned)n);
        tb_put(out, payload->b + off, n);
    }
}

struct result {
    int client_hellos, server_hellos, progress_events, certificates, tls13_certs;
    size_t cert_len;
    uint16_t ch_version;
    char sni[64];
};

/* tls_session_feed (TCP records) or tls_session_feed_handshake (bare
 * messages, QUIC and DTLS): the same contract. */
typedef enum tls_event (*feeder)(struct tls_session *, struct memcap *, struct stats *, int,
                                 const uint8_t *, size_t, size_t *, struct tls_msg *);

/* Feed a whole direction buffer in chunks of `step` bytes, as reassembly
 * would deliver it, and collect events. */
static void feed_with(feeder fn, struct tls_session *s, int dir, const struct tbuf *b,
                      size_t step, struct result *r)
{
    uint8_t window[sizeof b->b];
    size_t have = 0, next = 0;
    while (next < b->n || have > 0) {
        size_t add = b->n - next < step ? b->n - next : step;
        memcpy(window + have, b->b + next, add);
        have += add;
        next += add;
        for (;;) {
            size_t used = 0;
            struct tls_msg msg = { .hello = &hello, .idx = -1 };
            /* Copy to an exact-size heap block so ASan sees over-reads. */
            uint8_t *exact = malloc(have ? have : 1);
            memcpy(exact, window, have);
            enum tls_event ev = fn(s, &mc, &st, dir, exact, have, &used, &msg);
            free(exact);
            memmove(window, window + used, have - used);
            have -= used;
            if (ev == TLS_EV_CLIENT_HELLO) {
                r->client_hellos++;
                r->ch_version = hello.legacy_version;
                memcpy(r->sni, hello.sni, hello.sni_len);
                r->sni[hello.sni_len] = '\0';
            } else if (ev == TLS_EV_SERVER_HELLO) {
                r->server_hellos++;
            } else if (ev == TLS_EV_CERTIFICATE) {
                r->certificates++;
                r->tls13_certs += msg.tls13;
                r->cert_len = msg.len;
                if (msg.from_client || msg.tls13 || msg.len == 0 || msg.body[0] != 0 ||
                    msg.body[msg.len - 1] != (uint8_t)(msg.len - 1))
                    r->cert_len = 0;   /* wrong framing: the check below fails */
            } else if (ev == TLS_EV_PROGRESS) {
                r->progress_events++;
            } else {
                break;
            }
        }
        if (add == 0)
            break;
    }
}

static void feed(struct tls_session *s, int dir, const struct tbuf *b, size_t step,
                 struct result *r)
{
    feed_with(tls_session_feed, s, dir, b, step, r);
}

static void build_client_flight(struct tbuf *out, const char *sni, size_t frag)
{
    struct tbuf body = { .n = 0 }, msg = { .n = 0 };
    client_hello_body(&body, sni);
    handshake_msg(&msg, 1, &body);
    records(out, 22, &msg, frag);
}

static void test_basic_tls12(void)
{
    struct tls_session s;
    struct result rc = { 0 }, rs = { 0 };
    tls_session_init(&s);

    struct tbuf cli = { .n = 0 }, srv = { .n = 0 };
    build_client_flight(&cli, "www.example.test", 16384);
    /* Server: ServerHello + Certificate (skipped) + ServerHelloDone in one record. */
    struct tbuf body = { .n = 0 }, msgs = { .n = 0 }, cert = { .n = 0 }, empty = { .n = 0 };
    server_hello_body(&body, 0x0303, false);
    handshake_msg(&msgs, 2, &body);
    for (int i = 0; i < 3000; i++)
        tb_u8(&cert, i);
    handshake_msg(&msgs, 11, &cert);
    handshake_msg(&msgs, 14, &empty);
    records(&srv, 22, &msgs, 1000);   /* messages spanning records */

    feed(&s, 0, &cli, 7, &rc);
    test_cond("client hello seen", rc.client_hellos == 1);
    test_streq("sni parsed", rc.sni, "www.example.test");
    test_cond("client side is dir 0", s.client == 0);
    feed(&s, 1, &srv, 3, &rs);
    test_cond("server hello seen", rs.server_hellos == 1);
    test_cond("certificate noted", s.server_cert_seen);
    test_cond("certificate message handed over whole across records",
              rs.certificates == 1 && rs.cert_len == 3000);
    test_cond("version 1.2", s.version == 0x0303 && s.cipher == 0xc02f);

    /* Client rejects the certificate: fatal unknown_ca. */
    struct tbuf al = { .n = 0 };
    tb_u8(&al, 21); tb_u16(&al, 0x0303); tb_u16(&al, 2); tb_u8(&al, 2); tb_u8(&al, 48);
    feed(&s, 0, &al, 100, &rc);
    test_cond("alert recorded", s.n_alerts == 1 && s.alerts[0].from_client &&
                                    s.alerts[0].level == 2 && s.alerts[0].description == 48);
    test_cond("alert after certificate", s.alerts[0].after_certificate);
    test_cond("not complete", s.progress == TLS_PROGRESS_SERVER_HELLO);
    tls_session_release(&s, &mc);
}

static void test_complete_tls13_hrr(void)
{
    struct tls_session s;
    struct result r = { 0 };
    tls_session_init(&s);
    struct tbuf c1 = { .n = 0 }, s1 = { .n = 0 }, c2 = { .n = 0 }, s2 = { .n = 0 };
    build_client_flight(&c1, "a.test", 100);   /* hello split over records */
    struct tbuf body = { .n = 0 }, msg = { .n = 0 };
    server_hello_body(&body, 0x0304, true);
    handshake_msg(&msg, 2, &body);
    records(&s1, 22, &msg, 16384);
    tb_u8(&c2, 20); tb_u16(&c2, 0x0303); tb_u16(&c2, 1); tb_u8(&c2, 1);   /* compat CCS */
    build_client_flight(&c2, "a.test", 16384);
    struct tbuf body2 = { .n = 0 }, msg2 = { .n = 0 };
    server_hello_body(&body2, 0x0304, false);
    handshake_msg(&msg2, 2, &body2);
    records(&s2, 22, &msg2, 16384);
    tb_u8(&s2, 23); tb_u16(&s2, 0x0303); tb_u16(&s2, 3);
    tb_u8(&s2, 1); tb_u8(&s2, 2); tb_u8(&s2, 3);

    feed(&s, 0, &c1, 50, &r);
    feed(&s, 1, &s1, 50, &r);
    test_cond("HRR seen", s.hrr && s.version == 0);
    feed(&s, 0, &c2, 50, &r);
    test_cond("two client hellos", r.client_hellos == 2 && s.n_client_hellos == 2);
    feed(&s, 1, &s2, 50, &r);
    test_cond("two server hellos", r.server_hellos == 2 && s.version == 0x0304);
    test_cond("not complete before client Finished", s.progress == TLS_PROGRESS_SERVER_HELLO);
    /* A 19-byte protected record (alert-sized) is not the Finished. */
    struct tls_session a = s;   /* same state so far; buffers are not shared below */
    struct tbuf al = { .n = 0 };
    tb_u8(&al, 23); tb_u16(&al, 0x0303); tb_u16(&al, 19);
    for (int i = 0; i < 19; i++)
        tb_u8(&al, i);
    a.d[0].hs = a.d[1].hs = NULL;
    a.d[0].hs_cap = a.d[1].hs_cap = 0;
    struct result ra = { 0 };
    feed(&a, 0, &al, 50, &ra);
    test_cond("alert-sized first record: not complete", a.progress == TLS_PROGRESS_SERVER_HELLO);
    test_cond("alert-sized first record: encrypted client alert, abort noted",
              a.client_aborted_tls13 && a.n_alerts == 1 && a.alerts[0].from_client &&
                  a.alerts[0].encrypted);

    struct tbuf fin = { .n = 0 };
    tb_u8(&fin, 23); tb_u16(&fin, 0x0303); tb_u16(&fin, 53);
    for (int i = 0; i < 53; i++)
        tb_u8(&fin, i);
    feed(&s, 0, &fin, 50, &r);
    test_cond("complete after the client's Finished-sized record", s.progress == TLS_PROGRESS_COMPLETE);
    test_cond("finished", tls_session_finished(&s));
    tls_session_release(&s, &mc);
}

static void test_preambles(void)
{
    static const struct {
        const char *name;
        const char *cli, *srv;
        size_t cli_len, srv_len;
        enum tls_tunnel want;
    } cases[] = {
        { "CONNECT", "CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n\r\n",
          "HTTP/1.1 200 Connection established\r\n\r\n", 0, 0, TLS_TUNNEL_HTTP_CONNECT },
        { "SMTP", "EHLO client\r\nSTARTTLS\r\n", "220 mx ESMTP\r\n250-mx\r\n250 STARTTLS\r\n220 go\r\n",
          0, 0, TLS_TUNNEL_SMTP },
        { "IMAP", "a1 STARTTLS\r\n", "* OK ready\r\na1 OK begin\r\n", 0, 0, TLS_TUNNEL_IMAP },
        { "POP3", "STLS\r\n", "+OK\r\n+OK begin\r\n", 0, 0, TLS_TUNNEL_POP3 },
        { "FTP", "AUTH TLS\r\n", "220 ftp\r\n234 ok\r\n", 0, 0, TLS_TUNNEL_FTP },
        { "XMPP", "<?xml version='1.0'?><stream:stream to='a'><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
          "<?xml version='1.0'?><stream:stream><proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
          0, 0, TLS_TUNNEL_XMPP },
        { "SOCKS5", "\x05\x01\x00\x05\x01\x00\x03\x06" "a.test\x01\xbb",
          "\x05\x00\x05\x00\x00\x01\x7f\x00\x00\x01\x01\xbb", 16, 12, TLS_TUNNEL_SOCKS5 },
        { "SOCKS4", "\x04\x01\x01\xbb\x7f\x00\x00\x01user\x00", "\x00\x5a\x01\xbb\x7f\x00\x00\x01",
          13, 8, TLS_TUNNEL_SOCKS4 },
        { "PostgreSQL", "\x00\x00\x00\x08\x04\xd2\x16\x2f", "S", 8, 1, TLS_TUNNEL_POSTGRES },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tls_session s;
        struct result r = { 0 };
        tls_session_init(&s);
        struct tbuf cli = { .n = 0 }, srv = { .n = 0 };
        tb_put(&cli, cases[i].cli, cases[i].cli_len ? cases[i].cli_len : strlen(cases[i].cli));
        build_client_flight(&cli, "tunnel.test", 16384);
        tb_put(&srv, cases[i].srv, cases[i].srv_len ? cases[i].srv_len : strlen(cases[i].srv));
        struct tbuf body = { .n = 0 }, msg = { .n = 0 };
        server_hello_body(&body, 0x0303, false);
        handshake_msg(&msg, 2, &body);
        records(&srv, 22, &msg, 16384);
        feed(&s, 0, &cli, 5, &r);
        feed(&s, 1, &srv, 5, &r);
        char d[80];
        snprintf(d, sizeof(d), "%s: hellos found after the preamble", cases[i].name);
        test_cond(d, r.client_hellos == 1 && r.server_hellos == 1);
        snprintf(d, sizeof(d), "%s: tunnel named", cases[i].name);
        test_streq(d, tls_tunnel_name((enum tls_tunnel)s.tunnel), tls_tunnel_name(cases[i].want));
        tls_session_release(&s, &mc);
    }
}

/* The CONNECT request's target: parsed from the client's first line,
 * kept for the TLS that follows, ill-formed targets counted, not kept. */
static void test_connect_target(void)
{
    static const struct {
        const char *line;
        bool ok;
        const char *host;
        unsigned port;
    } parse[] = {
        { "CONNECT www.bank.test:443 HTTP/1.1\r\n", true, "www.bank.test", 443 },
        { "connect WWW.Bank.TEST:8443 HTTP/1.0\n", true, "WWW.Bank.TEST", 8443 },
        { "CONNECT 198.18.0.1:443 HTTP/1.1", true, "198.18.0.1", 443 },
        { "CONNECT [2001:db8::1]:443 HTTP/1.1\r\n", true, "[2001:db8::1]", 443 },
        { "CONNECT a_b.test:1 HTTP/1.1\r\n", true, "a_b.test", 1 },
        { "CONNECT www.bank.test HTTP/1.1\r\n", false, "", 0 },          /* no port */
        { "CONNECT www.bank.test:0 HTTP/1.1\r\n", false, "", 0 },
        { "CONNECT www.bank.test:65536 HTTP/1.1\r\n", false, "", 0 },
        { "CONNECT www.bank.test:000443 HTTP/1.1\r\n", false, "", 0 },   /* six digits */
        { "CONNECT www.bank.test:443x HTTP/1.1\r\n", false, "", 0 },
        { "CONNECT www.b\"nk.test:443 HTTP/1.1\r\n", false, "", 0 },
        { "CONNECT www.bank.test:443 HTTP/2.0\r\n", false, "", 0 },
        { "CONNECT www.bank.test:443 HTTP/1.1 junk\r\n", false, "", 0 },
        { "CONNECT :443 HTTP/1.1\r\n", false, "", 0 },
        { "CONNECT .x:443 HTTP/1.1\r\n", false, "", 0 },
        { "CONNECT [2001:db8::1:443 HTTP/1.1\r\n", false, "", 0 },
        { "CONNECT []:443 HTTP/1.1\r\n", false, "", 0 },
        { "CONNECT www.bank.test:443", false, "", 0 },                    /* cut */
        { "GET / HTTP/1.1\r\n", false, "", 0 },
    };
    for (size_t i = 0; i < sizeof(parse) / sizeof(parse[0]); i++) {
        char host[CFG_TLS_CONNECT_HOST_MAX + 1];
        uint16_t port = 7;
        bool ok = tls_connect_target_parse((const uint8_t *)parse[i].line, strlen(parse[i].line),
                                           host, &port);
        char d[120];
        snprintf(d, sizeof d, "connect target: %.60s", parse[i].line);
        test_cond(d, ok == parse[i].ok && (!ok || (strcmp(host, parse[i].host) == 0 &&
                                                   port == parse[i].port)));
    }
    /* The host cap: CFG_TLS_CONNECT_HOST_MAX bytes fit, one more does not. */
    for (size_t extra = 0; extra <= 1; extra++) {
        char line[CFG_TLS_CONNECT_HOST_MAX + 64], host[CFG_TLS_CONNECT_HOST_MAX + 1];
        size_t hl = CFG_TLS_CONNECT_HOST_MAX + extra;
        memcpy(line, "CONNECT ", 8);
        memset(line + 8, 'a', hl);
        snprintf(line + 8 + hl, sizeof line - 8 - hl, ":443 HTTP/1.1\r\n");
        uint16_t port;
        bool ok = tls_connect_target_parse((const uint8_t *)line, strlen(line), host, &port);
        test_cond(extra ? "connect target: one byte over the cap refused"
                        : "connect target: a host of the cap kept",
                  extra ? !ok : (ok && strlen(host) == CFG_TLS_CONNECT_HOST_MAX));
    }

    /* Through the session, fed in small pieces. */
    static const struct {
        const char *cli;
        const char *want;     /* NULL: none kept */
        uint64_t anomalies;   /* tls_connect_target_malformed */
    } sess[] = {
        { "CONNECT www.bank.test:443 HTTP/1.1\r\nHost: www.bank.test:443\r\n\r\n",
          "www.bank.test:443", 0 },
        { "CONNECT www.ba<k.test:443 HTTP/1.1\r\n\r\n", NULL, 1 },
        /* a line longer than any target: counted, the TLS still found */
        { "CONNECT aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:443 HTTP/1.1\r\n\r\n",
          NULL, 1 },
        /* CONNECT not on the first line: a text preamble, no target */
        { "X-Hello: 1\r\nCONNECT www.bank.test:443 HTTP/1.1\r\n\r\n", NULL, 0 },
    };
    for (size_t i = 0; i < sizeof(sess) / sizeof(sess[0]); i++) {
        struct tls_session s;
        struct result r = { 0 };
        tls_session_init(&s);
        struct tbuf cli = { .n = 0 }, srv = { .n = 0 };
        tb_put(&cli, sess[i].cli, strlen(sess[i].cli));
        build_client_flight(&cli, "www.bank.test", 16384);
        tb_put(&srv, "HTTP/1.1 200 Connection established\r\n\r\n", 39);
        struct tbuf body = { .n = 0 }, msg = { .n = 0 };
        server_hello_body(&body, 0x0303, false);
        handshake_msg(&msg, 2, &body);
        records(&srv, 22, &msg, 16384);
        uint64_t before = st.anomalies[STATS_TLS_CONNECT_MALFORMED];
        feed(&s, 0, &cli, 7, &r);
        feed(&s, 1, &srv, 7, &r);
        char buf[CFG_TLS_CONNECT_HOST_MAX + 8], d[80];
        const char *got = tls_connect_target(&s, buf, sizeof buf);
        snprintf(d, sizeof d, "connect session %zu: hellos found", i);
        test_cond(d, r.client_hellos == 1 && r.server_hellos == 1);
        snprintf(d, sizeof d, "connect session %zu: target", i);
        test_streq(d, got ? got : "(none)", sess[i].want ? sess[i].want : "(none)");
        snprintf(d, sizeof d, "connect session %zu: anomalies", i);
        test_cond(d, st.anomalies[STATS_TLS_CONNECT_MALFORMED] == before + sess[i].anomalies);
        tls_session_release(&s, &mc);
    }
}

static void test_not_tls(void)
{
    struct tls_session s;
    struct result r = { 0 };
    tls_session_init(&s);
    struct tbuf cli = { .n = 0 }, srv = { .n = 0 };
    tb_put(&cli, "SSH-2.0-OpenSSH_9.2\r\n", 21);
    tb_u8(&cli, 0); tb_u8(&cli, 0); tb_u8(&cli, 5); tb_u8(&cli, 0xdc);   /* binary KEX */
    feed(&s, 0, &cli, 100, &r);
    test_cond("SSH is not TLS", s.d[0].mode == TLS_DIR_NOT_TLS && tls_session_finished(&s));
    tls_session_release(&s, &mc);

    tls_session_init(&s);
    tb_put(&srv, "\x16\x03\x01\x00\x05\x05\x00\x00\x00\x00", 10);   /* hello request-ish garbage */
    srv.b[2] = 9;   /* bad minor version */
    feed(&s, 1, &srv, 100, &r);
    test_cond("bad version byte is not TLS", s.d[1].mode == TLS_DIR_NOT_TLS);
    tls_session_release(&s, &mc);

    /* SSLv2 CLIENT-HELLO */
    tls_session_init(&s);
    struct tbuf v2 = { .n = 0 };
    tb_u8(&v2, 0x80); tb_u8(&v2, 0x2e); tb_u8(&v2, 1); tb_u16(&v2, 0x0301);
    tb_u16(&v2, 21); tb_u16(&v2, 0); tb_u16(&v2, 16);
    for (int i = 0; i < 21 + 16; i++)
        tb_u8(&v2, i);
    feed(&s, 0, &v2, 100, &r);
    test_cond("SSLv2 hello reported", s.progress == TLS_PROGRESS_SSLV2_HELLO && s.sslv2_version == 0x0301);
    tls_session_release(&s, &mc);
}

/* Every prefix of a client flight: no event beyond what the bytes allow,
 * never an error, and ASan checks the reads (exact-size copies in feed). */
static void test_prefixes(void)
{
    struct tbuf cli = { .n = 0 };
    build_client_flight(&cli, "prefix.test", 40);
    int bad = 0;
    for (size_t cut = 0; cut <= cli.n; cut++) {
        struct tls_session s;
        struct result r = { 0 };
        tls_session_init(&s);
        struct tbuf part = { .n = 0 };
        tb_put(&part, cli.b, cut);
        feed(&s, 0, &part, cut ? cut : 1, &r);
        if ((cut < cli.n && r.client_hellos != 0) || (cut == cli.n && r.client_hellos != 1))
            bad++;
        if (s.d[0].mode == TLS_DIR_NOT_TLS || s.d[0].mode == TLS_DIR_DONE)
            bad++;
        tls_session_release(&s, &mc);
    }
    test_cond("every prefix of a client flight waits cleanly", bad == 0);

    /* Corrupt each byte of the record header and first handshake header. */
    int undefined_state = 0;
    for (size_t i = 0; i < 14; i++) {
        for (unsigned v = 0; v < 256; v += 17) {
            struct tls_session s;
            struct result r = { 0 };
            tls_session_init(&s);
            struct tbuf c = cli;
            c.b[i] = (uint8_t)v;
            feed(&s, 0, &c, 13, &r);
            if (s.d[0].mode > TLS_DIR_NOT_TLS || r.client_hellos > 1 || s.n_client_hellos > 1)
                undefined_state++;
            tls_session_release(&s, &mc);
        }
    }
    test_cond("corrupted headers leave a defined state", undefined_state == 0);
    test_cond("memcap balanced", mc.used == 0);
}

/* QUIC and DTLS: bare handshake messages. */
static void feed_raw(struct tls_session *s, int dir, const struct tbuf *b, size_t step,
                     struct result *r)
{
    feed_with(tls_session_feed_handshake, s, dir, b, step, r);
}

static void test_quic_framing(void)
{
    for (size_t step = 1; step <= 400; step += 57) {
        struct tls_session s;
        tls_session_init(&s);
        s.transport = TLS_TRANSPORT_QUIC;
        struct tbuf body = { .n = 0 }, c = { .n = 0 }, sv = { .n = 0 };
        struct result r = { 0 };
        client_hello_body(&body, "quic.example");
        handshake_msg(&c, 1, &body);
        feed_raw(&s, 0, &c, step, &r);
        test_cond("quic: ClientHello from bare messages", r.client_hellos == 1 && s.client == 0);
        body.n = 0;
        server_hello_body(&body, 0x0304, false);
        handshake_msg(&sv, 2, &body);
        /* The Handshake space continues the message sequence:
         * EncryptedExtensions, Certificate (TLS 1.3 form), Finished. */
        struct tbuf ee = { .n = 0 }, cert = { .n = 0 }, fin = { .n = 0 };
        tb_u16(&ee, 0);
        handshake_msg(&sv, 8, &ee);
        tb_u8(&cert, 0); tb_u24(&cert, 0);
        handshake_msg(&sv, 11, &cert);
        for (int i = 0; i < 32; i++)
            tb_u8(&fin, (unsigned)i);
        handshake_msg(&sv, 20, &fin);
        feed_raw(&s, 1, &sv, step, &r);
        test_cond("quic: ServerHello", r.server_hellos == 1 && s.version == 0x0304);
        test_cond("quic: no TLS record cipher is set up", s.d[1].cipher == NULL);
        test_cond("quic: Certificate in TLS 1.3 form", r.certificates == 1 && r.tls13_certs == 1);
        test_cond("quic: server ends between messages, Finished last",
                  tls_session_between_messages(&s, 1) && s.d[1].last_hs_type == 20);
        test_cond("quic: not complete before the caller says so", !tls_session_finished(&s));
        tls_session_set_complete(&s);
        test_cond("quic: complete", tls_session_finished(&s) &&
                                    s.progress == TLS_PROGRESS_COMPLETE);
        tls_session_release(&s, &mc);
    }
}

/* DTLS ClientHello body: legacy_version 0xfefd and a cookie. */
static void dtls_client_hello_body(struct tbuf *b, uint8_t cookie_len)
{
    uint8_t rnd[32] = { 7 };
    tb_u16(b, 0xfefd);
    tb_put(b, rnd, 32);
    tb_u8(b, 0);
    tb_u8(b, cookie_len);
    for (unsigned i = 0; i < cookie_len; i++)
        tb_u8(b, i);
    tb_u16(b, 2); tb_u16(b, 0xc02b);
    tb_u8(b, 1); tb_u8(b, 0);
    tb_u16(b, 0);
}

static void test_dtls_framing(void)
{
    struct tls_session s;
    tls_session_init(&s);
    s.transport = TLS_TRANSPORT_DTLS;
    struct tbuf body = { .n = 0 }, m = { .n = 0 };
    struct result r = { 0 };
    dtls_client_hello_body(&body, 0);
    handshake_msg(&m, 1, &body);
    feed_raw(&s, 0, &m, 13, &r);
    test_cond("dtls: first ClientHello", r.client_hellos == 1 && r.ch_version == 0xfefd);
    /* HelloVerifyRequest (the caller marks it), then the hello again with
     * the cookie: not a second hello. */
    s.dtls_hvr = true;
    body.n = m.n = 0;
    dtls_client_hello_body(&body, 20);
    handshake_msg(&m, 1, &body);
    feed_raw(&s, 0, &m, 1000, &r);
    test_cond("dtls: cookie hello is not a new hello",
              r.client_hellos == 1 && s.dtls_cookie_hello && s.n_client_hellos == 1);
    body.n = m.n = 0;
    server_hello_body(&body, 0x0303, false);
    body.b[0] = 0xfe; body.b[1] = 0xfd;
    handshake_msg(&m, 2, &body);
    feed_raw(&s, 1, &m, 5, &r);
    test_cond("dtls: ServerHello DTLS 1.2", r.server_hellos == 1 && s.version == 0xfefd);
    uint8_t ccs = 1, alert[2] = { 2, 40 };
    test_cond("dtls: one CCS does not complete",
              tls_session_dgram_record(&s, &st, 0, 20, false, &ccs, 1) == TLS_EV_NEED_MORE);
    test_cond("dtls: CCS both ways completes",
              tls_session_dgram_record(&s, &st, 1, 20, false, &ccs, 1) == TLS_EV_PROGRESS &&
              s.progress == TLS_PROGRESS_COMPLETE);
    tls_session_release(&s, &mc);

    tls_session_init(&s);
    s.transport = TLS_TRANSPORT_DTLS;
    body.n = m.n = 0;
    dtls_client_hello_body(&body, 0);
    handshake_msg(&m, 1, &body);
    feed_raw(&s, 0, &m, 64, &r);
    tls_session_dgram_record(&s, &st, 1, 21, false, alert, 2);
    test_cond("dtls: clear alert recorded", s.n_alerts == 1 && s.alerts[0].description == 40 &&
                                            s.alerts[0].level == 2 && !s.alerts[0].encrypted);
    tls_session_dgram_record(&s, &st, 1, 21, true, alert, 2);
    test_cond("dtls: encrypted alert recorded", s.n_alerts == 2 && s.alerts[1].encrypted);
    tls_session_release(&s, &mc);
}

/* ---- TLS inside TDS packets and WebSocket frames ------------------------ */

/* The server's first flight: ServerHello, a 3000-byte Certificate (bytes
 * 0, 1, 2, ... as feed_with() checks) and ServerHelloDone, in records of
 * `frag` bytes. */
static void build_server_flight(struct tbuf *out, size_t frag)
{
    struct tbuf body = { .n = 0 }, msgs = { .n = 0 }, cert = { .n = 0 }, empty = { .n = 0 };
    server_hello_body(&body, 0x0303, false);
    handshake_msg(&msgs, 2, &body);
    for (int i = 0; i < 3000; i++)
        tb_u8(&cert, (unsigned)i);
    handshake_msg(&msgs, 11, &cert);
    handshake_msg(&msgs, 14, &empty);
    records(out, 22, &msgs, frag);
}

static void ccs_record(struct tbuf *out)
{
    tb_u8(out, 20); tb_u16(out, 0x0303); tb_u16(out, 1); tb_u8(out, 1);
}

/* One TDS packet (MS-TDS 2.2.3.1). */
static void tds_packet(struct tbuf *out, unsigned type, unsigned status, const uint8_t *p,
                       size_t n)
{
    tb_u8(out, type); tb_u8(out, status); tb_u16(out, (unsigned)n + 8);
    tb_u16(out, 0); tb_u8(out, 1); tb_u8(out, 0);
    if (n)
        tb_put(out, p, n);
}

/* `payload` in TDS packets of type `type` with at most `chunk` bytes each. */
static void tds_packets(struct tbuf *out, unsigned type, const struct tbuf *payload, size_t chunk)
{
    for (size_t off = 0; off < payload->n; off += chunk) {
        size_t n = payload->n - off < chunk ? payload->n - off : chunk;
        tds_packet(out, type, off + n == payload->n ? 1 : 0, payload->b + off, n);
    }
}

/* A PRELOGIN packet (client, type 0x12) or its reply (server, 0x04):
 * VERSION, ENCRYPTION (ENCRYPT_ON), INSTOPT, THREADID (client), MARS. */
static void tds_prelogin(struct tbuf *out, bool client)
{
    static const struct { uint8_t tok; uint8_t len; } opts[] = {
        { 0, 6 }, { 1, 1 }, { 2, 1 }, { 3, 4 }, { 4, 1 },
    };
    struct tbuf pl = { .n = 0 };
    size_t k = client ? 5 : 4, off = 5 * k + 1;
    for (size_t i = 0; i < 5; i++) {
        if (!client && opts[i].tok == 3)
            continue;
        tb_u8(&pl, opts[i].tok); tb_u16(&pl, (unsigned)off); tb_u16(&pl, opts[i].len);
        off += opts[i].len;
    }
    tb_u8(&pl, 0xff);
    tb_u8(&pl, 16); tb_u8(&pl, 0); tb_u16(&pl, 0x07d0); tb_u16(&pl, 0);   /* VERSION */
    tb_u8(&pl, 1);                                                     /* ENCRYPT_ON */
    tb_u8(&pl, 0);                                                     /* INSTOPT */
    if (client)
        tb_u16(&pl, 0x1234), tb_u16(&pl, 0x5678);                      /* THREADID */
    tb_u8(&pl, 0);                                                     /* MARS */
    tds_packet(out, client ? 0x12 : 0x04, 1, pl.b, pl.n);
}

static void test_tds(void)
{
    static const size_t steps[] = { 1, 3, 8, 61, 5000 };
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        struct tls_session s;
        struct result rc = { 0 }, rs = { 0 };
        tls_session_init(&s);
        struct tbuf tls = { .n = 0 }, cli = { .n = 0 }, srv = { .n = 0 };
        /* Client: PRELOGIN, then the ClientHello in 37-byte packets (the
         * record header and the handshake header split between them),
         * then its CCS in a packet of its own. */
        tds_prelogin(&cli, true);
        build_client_flight(&tls, "sql.tds.test", 16384);
        tds_packets(&cli, 0x12, &tls, 37);
        tls.n = 0;
        ccs_record(&tls);
        tds_packets(&cli, 0x12, &tls, 4096);
        /* Server: the reply, its flight in 4096-byte packets (the 3000-byte
         * Certificate crosses packets), then its CCS directly on the
         * stream: the handshake is over, the framing with it. */
        tds_prelogin(&srv, false);
        tls.n = 0;
        build_server_flight(&tls, 16384);
        tds_packets(&srv, 0x12, &tls, 1000);
        ccs_record(&srv);

        feed(&s, 0, &cli, steps[i], &rc);
        feed(&s, 1, &srv, steps[i], &rs);
        test_cond("tds: ClientHello inside TDS packets", rc.client_hellos == 1);
        test_streq("tds: its SNI", rc.sni, "sql.tds.test");
        test_cond("tds: ServerHello and the whole Certificate across packets",
                  rs.server_hellos == 1 && rs.certificates == 1 && rs.cert_len == 3000);
        test_streq("tds: tunnel named", tls_tunnel_name((enum tls_tunnel)s.tunnel), "tds");
        test_cond("tds: CCS in a packet and on the stream complete the handshake",
                  s.progress == TLS_PROGRESS_COMPLETE && tls_session_finished(&s));
        tls_session_release(&s, &mc);
    }

    /* A packet whose payload is only the first 3 bytes of the record header. */
    struct tls_session s;
    struct result r = { 0 };
    tls_session_init(&s);
    struct tbuf tls = { .n = 0 }, cli = { .n = 0 };
    tds_prelogin(&cli, true);
    build_client_flight(&tls, "split.tds.test", 16384);
    tds_packet(&cli, 0x12, 0, tls.b, 3);
    tds_packet(&cli, 0x12, 1, tls.b + 3, tls.n - 3);
    feed(&s, 0, &cli, 2, &r);
    test_cond("tds: a record header split 3 + 2 across packets", r.client_hellos == 1);
    tls_session_release(&s, &mc);
    test_cond("tds: memcap balanced", mc.used == 0);
}

static void test_tds_hostile(void)
{
    struct tbuf tls = { .n = 0 };
    build_client_flight(&tls, "bad.tds.test", 16384);

    /* Packet lengths below the header and above 32768 after TLS began. */
    static const unsigned bad_len[] = { 0, 7, 0xffff };
    for (size_t i = 0; i < 3; i++) {
        struct tls_session s;
        struct result r = { 0 };
        tls_session_init(&s);
        struct tbuf cli = { .n = 0 };
        tds_prelogin(&cli, true);
        tds_packet(&cli, 0x12, 0, tls.b, 20);
        tb_u8(&cli, 0x12); tb_u8(&cli, 1); tb_u16(&cli, bad_len[i]);
        tb_u16(&cli, 0); tb_u8(&cli, 2); tb_u8(&cli, 0);
        tb_put(&cli, tls.b + 20, tls.n - 20);
        uint64_t before = st.anomalies[STATS_TLS_FRAME_MALFORMED];
        feed(&s, 0, &cli, 11, &r);
        test_cond("tds: a bad packet length is a malformed frame, the direction ends",
                  st.anomalies[STATS_TLS_FRAME_MALFORMED] == before + 1 &&
                      s.d[0].mode == TLS_DIR_DONE && r.client_hellos == 0);
        tls_session_release(&s, &mc);
    }

    /* Encryption refused: LOGIN7 (0x10) in clear after the PRELOGIN. */
    struct tls_session s;
    struct result r = { 0 };
    tls_session_init(&s);
    struct tbuf cli = { .n = 0 };
    tds_prelogin(&cli, true);
    tds_packet(&cli, 0x10, 1, (const uint8_t *)"login7 in clear", 15);
    uint64_t before = st.anomalies[STATS_TLS_PREAMBLE_NO_TLS];
    feed(&s, 0, &cli, 100, &r);
    test_cond("tds: LOGIN7 after PRELOGIN is not TLS",
              s.d[0].mode == TLS_DIR_NOT_TLS && tls_session_finished(&s) &&
                  st.anomalies[STATS_TLS_PREAMBLE_NO_TLS] == before + 1);
    tls_session_release(&s, &mc);

    /* Empty packets without end: the frame cap stops the direction. */
    tls_session_init(&s);
    cli.n = 0;
    tds_prelogin(&cli, true);
    tds_packet(&cli, 0x12, 0, tls.b, 20);
    for (int i = 0; i < CFG_TLS_TUNNEL_FRAMES_MAX + 10; i++)
        tds_packet(&cli, 0x12, 0, NULL, 0);
    before = st.caps[STATS_TLS_TUNNEL_FRAMES];
    feed(&s, 0, &cli, 999, &r);
    test_cond("tds: frame cap", st.caps[STATS_TLS_TUNNEL_FRAMES] == before + 1 &&
                                    s.d[0].mode == TLS_DIR_DONE);
    tls_session_release(&s, &mc);

    /* A PRELOGIN option pointing past the packet is not TDS; SOCKS4 with
     * an address ending in .0 and an empty user id is still SOCKS4. */
    tls_session_init(&s);
    cli.n = 0;
    tds_prelogin(&cli, true);
    cli.b[8 + 1] = 0x7f;   /* VERSION offset high byte */
    feed(&s, 0, &cli, 100, &r);
    test_cond("tds: a broken option table is not a PRELOGIN",
              s.d[0].mode == TLS_DIR_NOT_TLS);
    tls_session_release(&s, &mc);

    tls_session_init(&s);
    cli.n = 0;
    tb_put(&cli, "\x04\x01\x01\xbb\x0a\x00\x00\x00\x00", 9);
    tb_put(&cli, tls.b, tls.n);
    r = (struct result){ 0 };
    feed(&s, 0, &cli, 9, &r);
    test_cond("tds: SOCKS4 to x.x.x.0 without user id stays SOCKS4",
              r.client_hellos == 1 && s.tunnel == TLS_TUNNEL_SOCKS4);
    tls_session_release(&s, &mc);
    test_cond("tds hostile: memcap balanced", mc.used == 0);
}

static const char ws_request[] =
    "GET /tunnel HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
static const char ws_response[] =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

/* One WebSocket frame (RFC 6455 5.2); `len_form` 0: shortest length
 * encoding, 16 or 64: that one. */
static void ws_frame(struct tbuf *out, unsigned b0, bool masked, const uint8_t *p, size_t n,
                     int len_form)
{
    static const uint8_t key[4] = { 0x37, 0xfa, 0x21, 0x3d };
    tb_u8(out, b0);
    unsigned m = masked ? 0x80 : 0;
    if (len_form == 64 || (len_form == 0 && n > 0xffff)) {
        tb_u8(out, m | 127); tb_u16(out, 0); tb_u16(out, 0);
        tb_u16(out, (unsigned)(n >> 16)); tb_u16(out, (unsigned)n & 0xffff);
    } else if (len_form == 16 || n > 125) {
        tb_u8(out, m | 126); tb_u16(out, (unsigned)n);
    } else {
        tb_u8(out, m | (unsigned)n);
    }
    if (masked)
        tb_put(out, key, 4);
    for (size_t i = 0; i < n; i++)
        tb_u8(out, p[i] ^ (masked ? key[i & 3] : 0));
}

static void test_websocket(void)
{
    static const size_t steps[] = { 1, 4, 13, 200, 9000 };
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        struct tls_session s;
        struct result rc = { 0 }, rs = { 0 };
        tls_session_init(&s);
        struct tbuf tls = { .n = 0 }, cli = { .n = 0 }, srv = { .n = 0 };
        /* Client: masked frames: a binary frame without FIN holding 7
         * bytes (the record header and part of the handshake header), a
         * ping, continuations of 100 bytes (7-bit and forced 16-bit
         * lengths) and the last one with FIN; then its CCS. */
        tb_put(&cli, ws_request, strlen(ws_request));
        build_client_flight(&tls, "ws.tunnel.test", 16384);
        ws_frame(&cli, 0x02, true, tls.b, 7, 0);
        ws_frame(&cli, 0x89, true, (const uint8_t *)"ping", 4, 0);
        size_t off = 7;
        for (int k = 0; off + 100 < tls.n; k++, off += 100)
            ws_frame(&cli, 0x00, true, tls.b + off, 100, k % 2 ? 16 : 0);
        ws_frame(&cli, 0x80, true, tls.b + off, tls.n - off, 0);
        tls.n = 0;
        ccs_record(&tls);
        ws_frame(&cli, 0x82, true, tls.b, tls.n, 0);
        /* Server: unmasked; the flight in one frame with a 64-bit length,
         * a pong, its CCS in a frame with a 16-bit length. */
        tb_put(&srv, ws_response, strlen(ws_response));
        tls.n = 0;
        build_server_flight(&tls, 1000);
        ws_frame(&srv, 0x82, false, tls.b, tls.n, 64);
        ws_frame(&srv, 0x8a, false, NULL, 0, 0);
        tls.n = 0;
        ccs_record(&tls);
        ws_frame(&srv, 0x82, false, tls.b, tls.n, 16);

        feed(&s, 0, &cli, steps[i], &rc);
        feed(&s, 1, &srv, steps[i], &rs);
        test_cond("websocket: ClientHello from masked frames", rc.client_hellos == 1);
        test_streq("websocket: its SNI", rc.sni, "ws.tunnel.test");
        test_cond("websocket: ServerHello, whole Certificate",
                  rs.server_hellos == 1 && rs.certificates == 1 && rs.cert_len == 3000);
        test_streq("websocket: tunnel named", tls_tunnel_name((enum tls_tunnel)s.tunnel),
                   "websocket");
        test_cond("websocket: complete", s.progress == TLS_PROGRESS_COMPLETE);
        tls_session_release(&s, &mc);
    }
    test_cond("websocket: memcap balanced", mc.used == 0);
}

static void test_websocket_hostile(void)
{
    struct tbuf tls = { .n = 0 };
    build_client_flight(&tls, "bad.ws.test", 16384);

    /* Not TLS: a text frame first, or a binary frame of something else.
     * Counted as nothing. */
    static const struct { unsigned b0; const char *payload; } other[] = {
        { 0x81, "{\"hello\": 1}" }, { 0x82, "\x00\x01\x02\x03 binary" }, { 0x89, "ping" },
    };
    for (size_t i = 0; i < 3; i++) {
        struct tls_session s;
        struct result r = { 0 };
        tls_session_init(&s);
        struct tbuf cli = { .n = 0 };
        tb_put(&cli, ws_request, strlen(ws_request));
        ws_frame(&cli, other[i].b0, true, (const uint8_t *)other[i].payload,
                 strlen(other[i].payload), 0);
        uint64_t before = st.anomalies[STATS_TLS_PREAMBLE_NO_TLS];
        feed(&s, 0, &cli, 7, &r);
        test_cond("websocket: other content is not TLS, and no anomaly",
                  s.d[0].mode == TLS_DIR_NOT_TLS && tls_session_finished(&s) &&
                      st.anomalies[STATS_TLS_PREAMBLE_NO_TLS] == before);
        tls_session_release(&s, &mc);
    }

    /* After a first frame that starts TLS: a 64-bit length with its top
     * bit set, a control frame longer than 125 bytes, a control frame
     * without FIN, RSV1 (compression), a reserved opcode. */
    static const uint8_t bad[][10] = {
        { 0x80, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1 },
        { 0x89, 0x7e, 0x00, 0x80 },
        { 0x09, 0x00 },
        { 0xc0, 0x05 },
        { 0x83, 0x01 },
    };
    static const size_t bad_len[] = { 10, 4, 2, 2, 2 };
    for (size_t i = 0; i < 5; i++) {
        struct tls_session s;
        struct result r = { 0 };
        tls_session_init(&s);
        struct tbuf cli = { .n = 0 };
        tb_put(&cli, ws_request, strlen(ws_request));
        ws_frame(&cli, 0x02, false, tls.b, 50, 0);
        tb_put(&cli, bad[i], bad_len[i]);
        tb_put(&cli, "xxxxxxxxxx", 10);
        uint64_t before = st.anomalies[STATS_TLS_FRAME_MALFORMED];
        feed(&s, 0, &cli, 6, &r);
        test_cond("websocket: a broken frame header is counted, the direction ends",
                  st.anomalies[STATS_TLS_FRAME_MALFORMED] == before + 1 &&
                      s.d[0].mode == TLS_DIR_DONE && r.client_hellos == 0);
        tls_session_release(&s, &mc);
    }

    /* A 64-bit length of 2^40: the bytes that came are read, nothing
     * waits for the rest but the record parser. */
    struct tls_session s;
    struct result r = { 0 };
    tls_session_init(&s);
    struct tbuf cli = { .n = 0 };
    tb_put(&cli, ws_request, strlen(ws_request));
    tb_u8(&cli, 0x82); tb_u8(&cli, 0x7f);
    tb_u16(&cli, 0); tb_u16(&cli, 0x100); tb_u16(&cli, 0); tb_u16(&cli, 0);
    tb_put(&cli, tls.b, tls.n);
    feed(&s, 0, &cli, 33, &r);
    test_cond("websocket: a huge frame's first bytes are read", r.client_hellos == 1 &&
                                                                 s.d[0].mode == TLS_DIR_RECORDS);
    tls_session_release(&s, &mc);

    /* Every prefix of the opening and first frames waits cleanly. */
    struct tbuf full = { .n = 0 };
    tb_put(&full, ws_request, strlen(ws_request));
    ws_frame(&full, 0x02, true, tls.b, 9, 0);
    ws_frame(&full, 0x80, true, tls.b + 9, tls.n - 9, 0);
    int bad_prefix = 0;
    for (size_t cut = 1; cut <= full.n; cut++) {
        tls_session_init(&s);
        struct tbuf part = { .n = 0 };
        tb_put(&part, full.b, cut);
        r = (struct result){ 0 };
        feed(&s, 0, &part, cut, &r);
        if (s.d[0].mode == TLS_DIR_NOT_TLS || s.d[0].mode == TLS_DIR_DONE ||
            r.client_hellos != (cut == full.n))
            bad_prefix++;
        tls_session_release(&s, &mc);
    }
    test_cond("websocket: every prefix waits cleanly", bad_prefix == 0);

    /* The same for TDS. */
    full.n = 0;
    tds_prelogin(&full, true);
    tds_packets(&full, 0x12, &tls, 30);
    bad_prefix = 0;
    for (size_t cut = 1; cut <= full.n; cut++) {
        tls_session_init(&s);
        struct tbuf part = { .n = 0 };
        tb_put(&part, full.b, cut);
        r = (struct result){ 0 };
        feed(&s, 0, &part, cut, &r);
        if (s.d[0].mode == TLS_DIR_NOT_TLS || s.d[0].mode == TLS_DIR_DONE ||
            r.client_hellos != (cut == full.n))
            bad_prefix++;
        tls_session_release(&s, &mc);
    }
    test_cond("tds: every prefix waits cleanly", bad_prefix == 0);
    test_cond("websocket hostile: memcap balanced", mc.used == 0);
}

/* HTTP Upgrade to something else than WebSocket (RFC 2817's TLS/1.0),
 * records directly after the 101. */
static void test_http_upgrade(void)
{
    struct tls_session s;
    struct result r = { 0 };
    tls_session_init(&s);
    struct tbuf cli = { .n = 0 }, srv = { .n = 0 };
    const char *req = "OPTIONS * HTTP/1.1\r\nHost: printer.test\r\nUpgrade: TLS/1.0\r\n"
                      "Connection: Upgrade\r\n\r\n";
    const char *resp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: TLS/1.0, HTTP/1.1\r\n"
                       "Connection: Upgrade\r\n\r\n";
    tb_put(&cli, req, strlen(req));
    build_client_flight(&cli, "printer.test", 16384);
    tb_put(&srv, resp, strlen(resp));
    build_server_flight(&srv, 16384);
    feed(&s, 0, &cli, 10, &r);
    feed(&s, 1, &srv, 10, &r);
    test_cond("http-upgrade: hellos", r.client_hellos == 1 && r.server_hellos == 1);
    test_streq("http-upgrade: tunnel named", tls_tunnel_name((enum tls_tunnel)s.tunnel),
               "http-upgrade");
    tls_session_release(&s, &mc);
}

/* One record header and body of `len` bytes of `fill`. */
static void rec(struct tbuf *out, unsigned ct, size_t len, uint8_t fill)
{
    tb_u8(out, ct);
    tb_u16(out, 0x0303);
    tb_u16(out, (unsigned)len);
    for (size_t i = 0; i < len; i++)
        tb_u8(out, fill);
}

/* Feed b to the watch in pieces of `step` bytes as a reassembled stream
 * would: what a call does not consume comes again with the next bytes. */
static void watch_feed(struct tls_session *s, int dir, const struct tbuf *b, size_t step,
                       uint64_t ts)
{
    size_t done = 0, have = 0;
    while (done < b->n) {
        have = have + step > b->n - done ? b->n - done : have + step;
        size_t used = tls_session_watch(s, dir, b->b + done, have, ts);
        test_cond("watch: never consumes more than it is given", used <= have);
        done += used;
        have -= used;
        if (used == 0 && done + have == b->n)
            break;
    }
}

/* The watch after completion: what the client and the server did, across
 * record boundaries, with its caps. */
static void test_watch(void)
{
    struct tls_session s;
    struct tbuf c = { .n = 0 }, v = { .n = 0 };

    /* TLS 1.2: the server sends two records of data, the client a
     * close_notify alert split across three segments, then a FIN. */
    tls_session_init(&s);
    s.client = 0;
    s.version = 0x0303;
    test_cond("watch: starts", tls_session_watch_start(&s, 1000));
    rec(&v, 23, 300, 0xaa);
    rec(&v, 23, 20, 0xbb);
    watch_feed(&s, 1, &v, 7, 1100);
    test_cond("watch: server data records counted", s.post.server_data == 2);
    rec(&c, 21, 2, 0x01);
    watch_feed(&s, 0, &c, 3, 1200);
    test_cond("watch: the client's alert seen, its time kept",
              s.post.client_alert && s.post.close_us == 1200 && !s.post.client_data);
    tls_session_watch_close(&s, 0, false, 1300);
    test_cond("watch: FIN after the alert: the first close's time stays",
              s.post.client_fin && s.post.close_us == 1200 && !s.post.server_closed_first);
    tls_session_release(&s, &mc);

    /* The client sends data: the watch is over, and the rest is taken. */
    tls_session_init(&s);
    s.client = 1;
    s.version = 0x0303;
    tls_session_watch_start(&s, 1);
    c.n = 0;
    rec(&c, 23, 40, 0x11);
    rec(&c, 21, 2, 0x01);
    watch_feed(&s, 1, &c, 1000, 2);
    test_cond("watch: client data ends it", s.post.client_data && s.post.over &&
                                                !s.post.client_alert);
    tls_session_release(&s, &mc);

    /* TLS 1.3: an application-data record of an alert's size is a close; a
     * larger one is data.  The server closing first is noted. */
    tls_session_init(&s);
    s.client = 0;
    s.version = 0x0304;
    tls_session_watch_start(&s, 1);
    v.n = 0;
    rec(&v, 23, 19, 0x00);
    watch_feed(&s, 1, &v, 100, 5);
    test_cond("watch: TLS 1.3 server alert-sized record: the server closed first",
              s.post.server_closed_first && s.post.server_data == 0);
    c.n = 0;
    rec(&c, 23, 19, 0x00);
    watch_feed(&s, 0, &c, 4, 6);
    test_cond("watch: TLS 1.3 client alert-sized record is a close", s.post.client_alert);
    tls_session_release(&s, &mc);

    /* Not records: that direction stops being read, all of it taken. */
    tls_session_init(&s);
    s.client = 0;
    s.version = 0x0303;
    tls_session_watch_start(&s, 1);
    static const uint8_t junk[] = "GET / HTTP/1.1\r\n\r\n";
    size_t used = tls_session_watch(&s, 0, junk, sizeof junk - 1, 2);
    test_cond("watch: not a record: dead, all taken", s.post.dead[0] && used == sizeof junk - 1);
    test_cond("watch: ... the other direction still read",
              !s.post.dead[1] && tls_session_watch(&s, 1, v.b, 2, 3) == 0);

    /* The record cap ends the watch. */
    v.n = 0;
    for (int i = 0; i < CFG_TLS_LINGER_RECORDS + 4; i++)
        rec(&v, 23, 10, 0xcc);
    watch_feed(&s, 1, &v, 64, 4);
    test_cond("watch: CFG_TLS_LINGER_RECORDS ends it",
              s.post.over && s.post.records[1] == CFG_TLS_LINGER_RECORDS);
    tls_session_release(&s, &mc);

    /* A session with a frame buffer (TDS, WebSocket) does not watch. */
    tls_session_init(&s);
    test_cond("watch: no client side yet: not started", !tls_session_watch_start(&s, 1));
    tls_session_release(&s, &mc);
}

int main(void)
{
    memcap_init(&mc, 64u << 20);
    test_watch();
    test_basic_tls12();
    test_complete_tls13_hrr();
    test_preambles();
    test_connect_target();
    test_not_tls();
    test_prefixes();
    test_quic_framing();
    test_dtls_framing();
    test_tds();
    test_tds_hostile();
    test_websocket();
    test_websocket_hostile();
    test_http_upgrade();
    return test_report();
}
