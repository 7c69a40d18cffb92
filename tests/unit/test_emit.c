/*
 * test_emit.c - unit tests for output/emit.c's hand-off to the sinks: the
 * real pipeline over a real capture (tests/golden/certs_rsa_san.pcap,
 * one connection of ~7 KB of event, replayed) into real sinks.
 *
 *   - batching: events are held until CFG_EMIT_BATCH_BYTES, and what is
 *     held stays below the cap plus one unit; the bytes the sinks get are
 *     those of the unbatched path, in the same order;
 *   - flush points: emitter_flush() hands over everything held,
 *     emit_stats() puts the stats line after the held events, unbatched
 *     mode holds nothing;
 *   - drop counting: a SINK_DROP sink whose peer never reads counts every
 *     line of every batch it could not deliver (written + dropped = lines
 *     emitted, exactly);
 *   - the writer is woken for a unit queued while it waits (a sink left
 *     idle between writes delivers each one);
 *   - sink_write_take(): the buffer is queued without a copy and a spare
 *     one comes back, recycled once delivered; small units are copied.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "capture/pcapread.h"
#include "config.h"
#include "output/emit.h"
#include "output/sink.h"
#include "pipeline.h"
#include "testhelp.h"

#define CAPTURE "tests/golden/certs_rsa_san.pcap"

/* What a consumer sink received. */
struct got {
    pthread_mutex_t mu;
    char *buf;
    size_t len, cap;
    size_t calls;
};

static int got_fn(void *ctx, const char *lines, size_t len)
{
    struct got *g = ctx;
    pthread_mutex_lock(&g->mu);
    if (g->len + len > g->cap) {
        size_t nc = (g->len + len) * 2;
        char *b = realloc(g->buf, nc);
        if (!b) {
            pthread_mutex_unlock(&g->mu);
            return -1;
        }
        g->buf = b;
        g->cap = nc;
    }
    memcpy(g->buf + g->len, lines, len);
    g->len += len;
    g->calls++;
    pthread_mutex_unlock(&g->mu);
    return 0;
}

static size_t got_len(struct got *g)
{
    pthread_mutex_lock(&g->mu);
    size_t n = g->len;
    pthread_mutex_unlock(&g->mu);
    return n;
}

static size_t count_lines(const char *b, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += b[i] == '\n';
    return k;
}

/* One pass over the capture, its flows reported at the end. */
static int replay(struct pipeline *pl)
{
    struct pcapread m;
    char err[CAPTURE_ERRBUF];
    if (pcapread_open(&m, CAPTURE, NULL, err) < 0)
        return -1;
    struct pcap_pkthdr h;
    const uint8_t *d;
    while (pcapread_next(&m, &h, &d, err) == CAPTURE_PACKET)
        pipeline_packet(pl, m.dlt, (uint64_t)h.ts.tv_sec * 1000000ULL + (uint64_t)h.ts.tv_usec,
                        d, h.caplen, h.len);
    pcapread_close(&m);
    pipeline_flush(pl);
    return 0;
}

static const struct eve_config ecfg = { .deterministic = true, .host = "test" };

struct rig {
    struct pipeline *pl;
    struct emitter *em;
    struct sink *s;
    struct got got;
};

static int rig_open(struct rig *r, bool batched)
{
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->got.mu, NULL);
    char err[256];
    r->s = sink_open_fn("test", got_fn, &r->got, 0, err, sizeof(err));
    if (!r->s || sink_start(r->s, err, sizeof(err)) < 0)
        return -1;
    struct pipeline_config pc = { .max_flows = 64, .memcap = 16u << 20, .depth = 65536 };
    r->pl = pipeline_new(&pc);
    if (!r->pl)
        return -1;
    r->em = emitter_new(&r->s, 1, &ecfg, pipeline_stats(r->pl));
    if (!r->em)
        return -1;
    emitter_set_pcap_filename(r->em, CAPTURE);
    emitter_set_batching(r->em, batched);
    pipeline_set_report(r->pl, emit_report, r->em);
    return 0;
}

static void rig_close(struct rig *r)
{
    pipeline_free(r->pl);
    emitter_free(r->em);
    sink_close(r->s);
    free(r->got.buf);
    pthread_mutex_destroy(&r->got.mu);
}

enum { REPLAYS = 40 };

static void test_batching(void)
{
    struct rig ub, b;
    test_cond("unbatched rig", rig_open(&ub, false) == 0);
    test_cond("batched rig", rig_open(&b, true) == 0);
    if (!ub.em || !b.em)
        return;

    /* Unbatched: each connection reaches the sink at once. */
    size_t unit = 0;
    bool each_at_once = true;
    for (int i = 0; i < REPLAYS; i++) {
        replay(ub.pl);
        sink_flush(ub.s);
        if (i == 0)
            unit = got_len(&ub.got);
        if (got_len(&ub.got) != unit * (size_t)(i + 1))
            each_at_once = false;
    }
    test_cond("capture gives one event of some KB", unit > 1000 && count_lines(ub.got.buf, unit) == 1);
    test_cond("unbatched: every event delivered without a flush", each_at_once);

    /* Batched: held until the batch is full. */
    size_t worst_held = 0;
    bool some_held = false;
    for (int i = 0; i < REPLAYS; i++) {
        replay(b.pl);
        sink_flush(b.s);
        size_t held = unit * (size_t)(i + 1) - got_len(&b.got);
        if (held > worst_held)
            worst_held = held;
        if (held > 0)
            some_held = true;
    }
    test_cond("batched: events are held between flush points", some_held);
    test_cond("batched: some batches were handed over", got_len(&b.got) > 0);
    test_cond("batched: held bytes stay below the cap plus one unit",
              worst_held < CFG_EMIT_BATCH_BYTES + unit);
    test_cond("batched: a handed-over batch is whole lines",
              got_len(&b.got) % unit == 0 && got_len(&b.got) >= CFG_EMIT_BATCH_BYTES);

    emitter_flush(b.em);
    sink_flush(b.s);
    test_cond("emitter_flush hands over everything held", got_len(&b.got) == unit * REPLAYS);
    test_cond("batched bytes equal the unbatched ones, in order",
              b.got.len == ub.got.len && memcmp(b.got.buf, ub.got.buf, ub.got.len) == 0);

    /* A stats event follows the events held before it. */
    replay(b.pl);
    replay(b.pl);
    size_t before = got_len(&b.got);
    struct eve_stats_in in = { .total = pipeline_stats(b.pl), .last_ts_us = 1 };
    test_cond("emit_stats", emit_stats(b.em, &in) == 0);
    sink_flush(b.s);
    size_t n = got_len(&b.got);
    test_cond("stats: the two held events and the stats line delivered",
              n > before + 2 * unit && count_lines(b.got.buf + before, n - before) == 3);
    test_cond("stats: events first, in order",
              memcmp(b.got.buf + before, ub.got.buf, unit) == 0 &&
                  memcmp(b.got.buf + before + unit, ub.got.buf, unit) == 0);
    test_cond("stats: the stats line last",
              strstr(b.got.buf + before + 2 * unit, "\"event_type\":\"stats\"") != NULL);

    /* Switching batching off hands over what is held. */
    replay(b.pl);
    emitter_set_batching(b.em, false);
    sink_flush(b.s);
    test_cond("batching off flushes", got_len(&b.got) == n + unit);

    rig_close(&ub);
    rig_close(&b);
}

/* emitter_free() hands over what a caller left held. */
static void test_free_flushes(void)
{
    struct rig r;
    test_cond("rig", rig_open(&r, true) == 0);
    if (!r.em)
        return;
    replay(r.pl);
    sink_flush(r.s);
    test_cond("one event held", got_len(&r.got) == 0);
    pipeline_free(r.pl);
    r.pl = NULL;
    emitter_free(r.em);
    r.em = NULL;
    sink_flush(r.s);
    test_cond("emitter_free delivered it", count_lines(r.got.buf, got_len(&r.got)) == 1);
    rig_close(&r);
}

/* A SINK_DROP sink whose peer accepts nothing: every line of every batch is
 * either written or counted as dropped, none twice. */
static void test_drop_counts_lines(void)
{
    char dir[] = "/tmp/emit-test.XXXXXX";
    if (!mkdtemp(dir)) {
        test_cond("temp dir", false);
        return;
    }
    char path[64], spec[160], err[256] = "";
    snprintf(path, sizeof(path), "%s/stall.sock", dir);
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    memcpy(sa.sun_path, path, strlen(path) + 1);   /* path is shorter than sun_path */
    bool listening = lfd >= 0 && bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
                     listen(lfd, 4) == 0;
    test_cond("stalled peer listens", listening);
    snprintf(spec, sizeof(spec), "unix-stream:%s", path);
    struct sink *s = listening ? sink_open(spec, SINK_DROP, 16384, err, sizeof(err)) : NULL;
    test_cond("drop sink opens", s && sink_start(s, err, sizeof(err)) == 0);
    struct pipeline_config pc = { .max_flows = 64, .memcap = 16u << 20, .depth = 65536 };
    struct pipeline *pl = s ? pipeline_new(&pc) : NULL;
    struct emitter *em = pl ? emitter_new(&s, 1, &ecfg, pipeline_stats(pl)) : NULL;
    if (em) {
        pipeline_set_report(pl, emit_report, em);
        for (int i = 0; i < 200; i++)   /* ~1.4 MB, far more than the socket takes */
            replay(pl);
        emitter_flush(em);
        uint64_t emitted = pipeline_stats(pl)->tls_events;
        struct sink_stats st;
        sink_close_stats(s, &st);
        printf("drop: emitted %llu, written %llu, dropped %llu\n", (unsigned long long)emitted,
               (unsigned long long)st.written, (unsigned long long)st.dropped);
        test_cond("drop: 200 events emitted", emitted == 200);
        test_cond("drop: lines were dropped", st.dropped > 0);
        test_cond("drop: written + dropped = lines emitted", st.written + st.dropped == emitted);
    } else if (s) {
        sink_close(s);
    }
    emitter_free(em);
    pipeline_free(pl);
    if (lfd >= 0)
        close(lfd);
    unlink(path);
    rmdir(dir);
}

/* A unit queued while the writer waits is delivered: a lost wake-up would
 * leave it queued until the next write (or close). */
static void test_idle_writer_woken(void)
{
    struct got g = { .mu = PTHREAD_MUTEX_INITIALIZER };
    char err[256];
    struct sink *s = sink_open_fn("idle", got_fn, &g, 0, err, sizeof(err));
    test_cond("sink", s && sink_start(s, err, sizeof(err)) == 0);
    if (!s)
        return;
    int ok = 0;
    for (int i = 0; i < 50; i++) {
        struct timespec ts = { 0, 2 * 1000 * 1000 };   /* the writer goes back to waiting */
        nanosleep(&ts, NULL);
        sink_write(s, "{\"x\":1}\n", 8);
        if (sink_flush_for(s, 2000))
            ok++;
    }
    test_cond("idle writer: every unit delivered at once", ok == 50 && got_len(&g) == 50 * 8);
    sink_close(s);
    free(g.buf);
}

/* sink_write_take(): a full buffer is queued as it is and a spare comes
 * back (a delivered one is recycled); a buffer less than half full is
 * copied and stays the caller's. */
static void test_take(void)
{
    struct got g = { .mu = PTHREAD_MUTEX_INITIALIZER };
    char err[256];
    struct sink *s = sink_open_fn("take", got_fn, &g, 0, err, sizeof(err));
    test_cond("take: sink", s && sink_start(s, err, sizeof(err)) == 0);
    if (!s)
        return;
    const size_t cap0 = 128 * 1024, n = 70000;
    char *want = malloc(2 * n + 1000);
    char *a = malloc(cap0);
    if (!want || !a) {
        test_cond("take: memory", false);
        return;
    }
    for (size_t i = 0; i < n; i++)
        a[i] = (i % 100 == 99) ? '\n' : (char)('a' + i % 26);
    a[n - 1] = '\n';
    memcpy(want, a, n);
    char *buf = a;
    size_t cap = cap0;
    test_cond("take: queued", sink_write_take(s, &buf, &cap, n, SINK_LINES_UNKNOWN) == 0);
    test_cond("take: a spare buffer came back", buf != a && buf != NULL && cap >= n);
    sink_flush(s);
    test_cond("take: delivered whole", got_len(&g) == n && memcmp(g.buf, want, n) == 0);

    char *b = buf;
    memcpy(b, want, n);
    test_cond("take: second queued", sink_write_take(s, &buf, &cap, n, n / 100) == 0);
    test_cond("take: the delivered buffer is recycled", buf == a);
    memcpy(buf, "{\"small\":1}\n", 12);
    char *c = buf;
    test_cond("take: small unit queued", sink_write_take(s, &buf, &cap, 12, 1) == 0);
    test_cond("take: a small unit is copied, the buffer stays", buf == c);
    memcpy(want + n, want, n);
    memcpy(want + 2 * n, "{\"small\":1}\n", 12);
    sink_flush(s);
    test_cond("take: everything delivered in order",
              got_len(&g) == 2 * n + 12 && memcmp(g.buf, want, 2 * n + 12) == 0);
    /* Written lines: counted by the sink for the first unit, given by
     * the caller for the other two (the writer does not read them). */
    struct sink_stats ss;
    sink_get_stats(s, &ss);
    test_cond("take: lines written counted", ss.written == 2 * (n / 100) + 1);
    free(buf);
    sink_close(s);
    free(g.buf);
    free(want);
}

int main(void)
{
    test_take();
    test_idle_writer_woken();   /* first: the others wait on sink_flush() */
    test_batching();
    test_free_flushes();
    test_drop_counts_lines();
    return test_report();
}
