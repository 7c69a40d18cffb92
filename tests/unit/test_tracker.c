/*
 * test_tracker.c - unit tests for tracker.c's eviction under pressure,
 * through the real pipeline fed Ethernet/IPv4/TCP frames built here.
 *
 *   - one host hogging the flow table (hundreds of connections that send
 *     100 bytes of a ClientHello and stall) loses its own flows, and a
 *     slow real handshake that started before the flood survives it;
 *   - the same when the real client's address hashes into the hog's
 *     per-source list (regression: the list's oldest flow, the real one,
 *     was evicted as the hog's), also when the real client holds 40 of
 *     the list's oldest flows.  The tracker's key is set to a fixed one
 *     before the first packet so the colliding address is found the same
 *     way every run.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "pipeline.h"
#include "pipeline_priv.h"
#include "testhelp.h"
#include "util/hash.h"

#define T0_US    1740787200000000ULL
#define SERVER   0xC6130001u   /* 198.19.0.1 */
#define HOG      0xC6120002u   /* 198.18.0.2 */
#define N_HOG    600           /* against --max-flows 256 */
#define N_REAL   40            /* the most connections the real client opens */

struct seen {
    uint32_t client;
    unsigned hog_evicted;
    unsigned reports[N_REAL];    /* by client port - 40000 */
    bool answered[N_REAL], evicted[N_REAL];
};

static void on_report(void *ctx, const struct conn_report *r)
{
    struct seen *s = ctx;
    const uint8_t *a = r->flow->key.addr[r->client_side];
    uint32_t ip = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
    if (ip == HOG) {
        if (r->end == EV_END_EVICTED)
            s->hog_evicted++;
        return;
    }
    unsigned k = (unsigned)r->flow->key.port[r->client_side] - 40000;
    if (ip != s->client || k >= N_REAL)
        return;
    s->reports[k]++;   /* a second one: its flow was lost and the answer seen alone */
    s->answered[k] = conn_report_ch(r) && conn_report_final_sh(r);
    s->evicted[k] = r->end == EV_END_EVICTED;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

enum { FIN = 0x01, SYN = 0x02, PSH = 0x08, ACK = 0x10 };

/* One Ethernet/IPv4/TCP frame into the pipeline (checksums 0: not verified). */
static void tcp_pkt(struct pipeline *pl, uint64_t t, uint32_t src, unsigned sp, uint32_t dst,
                    unsigned dp, uint32_t seq, uint32_t ack, unsigned flags, const uint8_t *data,
                    size_t len)
{
    uint8_t f[1600] = { 0 };
    f[12] = 0x08;
    uint8_t *ip = f + 14, *tcp = ip + 20;
    ip[0] = 0x45;
    ip[2] = (uint8_t)((40 + len) >> 8); ip[3] = (uint8_t)(40 + len);
    ip[8] = 64; ip[9] = 6;
    put32(ip + 12, src);
    put32(ip + 16, dst);
    tcp[0] = (uint8_t)(sp >> 8); tcp[1] = (uint8_t)sp;
    tcp[2] = (uint8_t)(dp >> 8); tcp[3] = (uint8_t)dp;
    put32(tcp + 4, seq);
    put32(tcp + 8, ack);
    tcp[12] = 0x50; tcp[13] = (uint8_t)flags;
    tcp[14] = 0xff; tcp[15] = 0xff;
    if (len)
        memcpy(tcp + 20, data, len);
    pipeline_packet(pl, 1, T0_US + t, f, 54 + len, 54 + len);
}

static size_t client_hello(uint8_t *out, const char *sni)
{
    struct tbuf b = { .n = 0 }, e = { .n = 0 };
    uint8_t rnd[32] = { 7 };
    tb_u16(&b, 0x0303);
    tb_put(&b, rnd, 32);
    tb_u8(&b, 0);
    tb_u16(&b, 4); tb_u16(&b, 0xc02f); tb_u16(&b, 0xc030);
    tb_u8(&b, 1); tb_u8(&b, 0);
    size_t sl = strlen(sni);
    tb_u16(&e, 0x0000); tb_u16(&e, (unsigned)sl + 5); tb_u16(&e, (unsigned)sl + 3); tb_u8(&e, 0);
    tb_u16(&e, (unsigned)sl); tb_put(&e, sni, sl);
    tb_u16(&b, (unsigned)e.n);
    tb_put(&b, e.b, e.n);
    size_t n = 0;
    out[n++] = 22; out[n++] = 3; out[n++] = 1;
    out[n++] = (uint8_t)((b.n + 4) >> 8); out[n++] = (uint8_t)(b.n + 4);
    out[n++] = 1; out[n++] = 0; out[n++] = (uint8_t)(b.n >> 8); out[n++] = (uint8_t)b.n;
    memcpy(out + n, b.b, b.n);
    return n + b.n;
}

/* ServerHello (TLS 1.2, no extensions) and ServerHelloDone in one record. */
static size_t server_flight(uint8_t *out)
{
    struct tbuf b = { .n = 0 };
    uint8_t rnd[32] = { 9 };
    tb_u8(&b, 2); tb_u24(&b, 2 + 32 + 1 + 2 + 1 + 2);
    tb_u16(&b, 0x0303);
    tb_put(&b, rnd, 32);
    tb_u8(&b, 0);
    tb_u16(&b, 0xc02f);
    tb_u8(&b, 0);
    tb_u16(&b, 0);
    tb_u8(&b, 14); tb_u24(&b, 0);
    size_t n = 0;
    out[n++] = 22; out[n++] = 3; out[n++] = 3;
    out[n++] = (uint8_t)(b.n >> 8); out[n++] = (uint8_t)b.n;
    memcpy(out + n, b.b, b.n);
    return n + b.n;
}

static uint32_t slot_of(const struct pipeline *pl, uint32_t ip)
{
    uint8_t a[4];
    put32(a, ip);
    return (uint32_t)(hash_siphash(&pl->tr.ft->key, a, 4) & (CFG_SOURCE_SLOTS - 1));
}

/*
 * The real client opens n_real connections and says hello on each; then
 * the hog opens N_HOG connections 1 ms apart, each stalling after 100
 * bytes of its ClientHello; then the real server answers (the real
 * handshakes took 0.7 s) and both sides close.
 */
static void hog_run(const char *what, bool collide, unsigned n_real)
{
    struct pipeline_config pc = { .max_flows = 256, .memcap = 16u << 20, .depth = 65536 };
    struct pipeline *pl = pipeline_new(&pc);
    test_cond("pipeline", pl != NULL);
    if (!pl)
        return;
    hash_fixed_key(&pl->tr.ft->key);   /* the table is empty: no flow hashed yet */
    struct seen s = { .client = 0xC6130100u };   /* 198.19.1.0 */
    if (collide) {
        uint32_t want = slot_of(pl, HOG);
        s.client = 0;
        for (uint32_t ip = 0xC6120100u; ip < 0xC6140000u && !s.client; ip++)
            if (ip != HOG && ip != SERVER && slot_of(pl, ip) == want)
                s.client = ip;
        test_cond("an address in 198.18.0.0/15 shares the hog's slot", s.client != 0);
    } else {
        test_cond("the client's slot is its own", slot_of(pl, s.client) != slot_of(pl, HOG));
    }
    pipeline_set_report(pl, on_report, &s);

    uint8_t hello[512], flight[128];
    size_t hn = client_hello(hello, "real.example"), fn = server_flight(flight);
    uint32_t c = s.client, ci = 1000, si = 5000;
    for (unsigned k = 0; k < n_real; k++) {
        unsigned cp = 40000 + k;
        tcp_pkt(pl, k * 40, c, cp, SERVER, 443, ci, 0, SYN, NULL, 0);
        tcp_pkt(pl, k * 40 + 10, SERVER, 443, c, cp, si, ci + 1, SYN | ACK, NULL, 0);
        tcp_pkt(pl, k * 40 + 20, c, cp, SERVER, 443, ci + 1, si + 1, ACK, NULL, 0);
        tcp_pkt(pl, k * 40 + 30, c, cp, SERVER, 443, ci + 1, si + 1, PSH | ACK, hello, hn);
    }

    uint8_t hh[512];
    for (unsigned i = 0; i < N_HOG; i++) {
        char name[32];
        snprintf(name, sizeof(name), "hog-%u.example", i);
        size_t n = client_hello(hh, name);
        uint64_t t = 2000 + (uint64_t)i * 1000;
        unsigned port = 20000 + i;
        tcp_pkt(pl, t, HOG, port, SERVER, 443, 7, 0, SYN, NULL, 0);
        tcp_pkt(pl, t + 10, SERVER, 443, HOG, port, 9, 8, SYN | ACK, NULL, 0);
        tcp_pkt(pl, t + 20, HOG, port, SERVER, 443, 8, 10, ACK, NULL, 0);
        tcp_pkt(pl, t + 30, HOG, port, SERVER, 443, 8, 10, PSH | ACK, hh, n < 100 ? n : 100);
    }

    for (unsigned k = 0; k < n_real; k++) {
        uint64_t t = 2000 + (uint64_t)N_HOG * 1000 + 100000 + k * 30;
        unsigned cp = 40000 + k;
        tcp_pkt(pl, t, SERVER, 443, c, cp, si + 1, ci + 1 + (uint32_t)hn, PSH | ACK, flight, fn);
        tcp_pkt(pl, t + 10, c, cp, SERVER, 443, ci + 1 + (uint32_t)hn, si + 1 + (uint32_t)fn,
                FIN | ACK, NULL, 0);
        tcp_pkt(pl, t + 20, SERVER, 443, c, cp, si + 1 + (uint32_t)fn, ci + 2 + (uint32_t)hn,
                FIN | ACK, NULL, 0);
    }
    pipeline_flush(pl);

    char d[160];
    snprintf(d, sizeof(d), "%s: the flood was evicted (%u hog connections)", what, s.hog_evicted);
    test_cond(d, s.hog_evicted >= N_HOG - 256);
    unsigned once = 0, kept = 0, answered = 0;
    for (unsigned k = 0; k < n_real; k++) {
        once += s.reports[k] == 1;
        kept += s.reports[k] == 1 && !s.evicted[k];
        answered += s.reports[k] == 1 && s.answered[k];
    }
    snprintf(d, sizeof(d), "%s: each real connection reported once (%u of %u)", what, once,
             n_real);
    test_cond(d, once == n_real);
    snprintf(d, sizeof(d), "%s: ... not evicted (%u)", what, kept);
    test_cond(d, kept == n_real);
    snprintf(d, sizeof(d), "%s: ... with both hellos (%u)", what, answered);
    test_cond(d, answered == n_real);
    pipeline_free(pl);
}

int main(void)
{
    hog_run("hog, own slot", false, 1);
    hog_run("hog, shared slot", true, 1);
    /* More of the slot's oldest flows are the real client's than the
     * hog's: the vote is over the newest. */
    hog_run("hog, shared slot, 40 real connections first", true, N_REAL);
    return test_report();
}
