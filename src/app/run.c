/*
 * run.c - sources, workers, signals (see run.h).
 *
 * Threads:
 *   main      opens everything, drops privileges, then only waits for
 *             signals (sigtimedwait) and writes stats events; every signal
 *             is blocked in every thread, so none interrupts packet work.
 *   workers   one per --workers; each runs its own pipeline.  Live: each
 *             reads its own capture handle.  Files: each drains its queue.
 *   reader    files only: reads the capture files in order and hands each
 *             packet to the worker of its flow (one worker: the reader is
 *             the worker and there is no queue).
 *
 * Workers look at two shared words between packets: the engine's
 * generation number (a reload happened: build a new detector, move to the
 * new trust store) and the stats request number (copy the counters into
 * the snapshot the main thread merges).  Nothing else is shared mutably
 * but through the sinks' queues and the two-leg memory, each with its own
 * lock.
 */
#include "app/run.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app/dispatch.h"
#include "app/engine.h"
#include "capture/pcap.h"
#include "capture/pcapread.h"
#include "capture/privdrop.h"
#include "config.h"
#include "output/emit.h"
#include "output/eve.h"
#include "output/sink.h"
#include "policy/detect.h"
#include "enrich/geoip.h"
#include "util/heap.h"
#include "util/log.h"
#include "util/pidfile.h"
#include "x509/chain.h"

/* One capture file of the run, in reading order. */
struct segment {
    char *path;
    bool flush_after;   /* last file of its -r input: its flows end here */
    uint64_t size;      /* bytes, 0: unknown (stdin) */
};

struct run;

struct worker {
    int id;
    struct run *run;
    pthread_t th;
    bool started;
    struct pipeline *pl;
    struct emitter *em;
    struct x509_ctx *x509;
    struct detect *det;
    struct engine_gen *gen;
    unsigned gen_no;
    struct capture cap;            /* live */
    bool has_cap;
    struct pktq *q;                /* files, several workers */
    unsigned snap_seen;
    unsigned flush_seen;           /* the control loop's last flush tick seen */
    pthread_mutex_t mu;            /* guards snap */
    struct stats snap;
    uint64_t snap_last_ts;
    int status;
    _Atomic uint64_t done;         /* mapped: records of the input walked to the end
                                      (UINT64_MAX once finished) */
};

static void mapped_resume_wait(void *ctx);

struct run {
    const struct options *opt;
    struct engine eng;
    bool eng_ok;
    struct sink *sinks[OPT_MAX_OUTPUTS + 1];
    const char *sink_names[OPT_MAX_OUTPUTS + 1];
    size_t n_sinks;
    struct worker *w;
    int n_workers;
    struct segment *seg;
    size_t n_seg;
    pipeline_report_fn consumer;   /* learn; NULL: emitters */
    void *consumer_ctx;
    atomic_bool stop;
    atomic_uint stats_seq;
    atomic_uint flush_seq;         /* bumped every control-loop tick: workers hand
                                      over the events they hold (emitter_flush) */
    atomic_int running;            /* threads still reading */
    pthread_t main_thread;         /* woken by reading_ended() */
    bool mapped;                   /* files, several workers: each walks the files itself */
    pthread_t reader;
    bool reader_started;
    int reader_status;
    struct stats reader_stats;     /* the reader's own counters (truncated files) */
    atomic_bool reader_done;
    double t0;
    uint64_t wall0_us;
    /* Outputs that fail: the counters seen at the last look, and whether
     * each is failing now (main thread only). */
    struct sink_stats seen[OPT_MAX_OUTPUTS + 1];
    bool failing[OPT_MAX_OUTPUTS + 1];
    char degraded_reason[320];
    bool output_failed;            /* every output failed: the run stops, exit 1 */
    struct eve_config ecfg;        /* what every event shares */
    char hostname[256];
    struct geoip_db *geoip;        /* --geoip-db / --asn-db, shared read-only */
    /* --progress: what the reading thread has got through (stored every
     * PROGRESS_EVERY packets and at each file's end; plain stores, one
     * writer) and the sum of the files' sizes. */
    bool progress;
    atomic_uint_least64_t prog_bytes, prog_pkts;
    uint64_t total_bytes;
    double next_progress;
    bool progress_shown;
};

#define PROGRESS_EVERY 1024   /* packets between two updates of the counters */

/* The reading thread's side of --progress. */
struct prog {
    uint64_t done;      /* bytes of the files finished */
    uint64_t bytes;     /* record bytes of the current file so far */
    uint64_t pkts;
};

static inline void prog_packet(struct run *r, struct prog *p, uint32_t caplen)
{
    p->bytes += 16u + caplen;       /* a pcap record header and its data */
    if ((++p->pkts & (PROGRESS_EVERY - 1)) == 0 && r->progress) {
        atomic_store_explicit(&r->prog_bytes, p->done + p->bytes, memory_order_relaxed);
        atomic_store_explicit(&r->prog_pkts, p->pkts, memory_order_relaxed);
    }
}

static void prog_file_done(struct run *r, struct prog *p, const struct segment *seg)
{
    p->done += seg->size ? seg->size : p->bytes;
    p->bytes = 0;
    atomic_store_explicit(&r->prog_bytes, p->done, memory_order_relaxed);
    atomic_store_explicit(&r->prog_pkts, p->pkts, memory_order_relaxed);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

/* ---- inputs ------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_segment(struct run *r, const char *path, bool flush_after)
{
    if (r->n_seg >= CFG_RUN_MAX_FILES) {
        log_error("too many capture files (max %d)", CFG_RUN_MAX_FILES);
        return -1;
    }
    struct segment *s = realloc(r->seg, (r->n_seg + 1) * sizeof(*s));
    if (!s)
        return -1;
    r->seg = s;
    s[r->n_seg].path = strdup(path);
    s[r->n_seg].flush_after = flush_after;
    struct stat sb;
    s[r->n_seg].size = strcmp(path, "-") != 0 && stat(path, &sb) == 0 && S_ISREG(sb.st_mode)
                           ? (uint64_t)sb.st_size : 0;
    r->total_bytes += s[r->n_seg].size;
    if (!s[r->n_seg].path)
        return -1;
    r->n_seg++;
    return 0;
}

/* -r DIR: its capture files (by magic number), in name order. */
static int add_directory(struct run *r, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        log_error("cannot read directory %s: %s", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        struct stat sb;
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path) ||
            stat(path, &sb) < 0 || !S_ISREG(sb.st_mode) || capture_file_format(path) == CAPTURE_FORMAT_NONE)
            continue;
        if (n >= CFG_RUN_MAX_FILES) {
            log_error("%s: too many capture files (max %d)", dir, CFG_RUN_MAX_FILES);
            rc = -1;
            break;
        }
        char **nn = realloc(names, (n + 1) * sizeof(*nn));
        if (!nn || !(nn[n] = strdup(path))) {
            names = nn ? nn : names;
            rc = -1;
            break;
        }
        names = nn;
        n++;
    }
    closedir(d);
    if (rc == 0 && n == 0) {
        log_error("%s: no pcap or pcapng files", dir);
        rc = -1;
    }
    if (rc == 0) {
        qsort(names, n, sizeof(*names), cmp_str);
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = add_segment(r, names[i], i + 1 == n);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

static int build_segments(struct run *r)
{
    for (int i = 0; i < r->opt->n_inputs; i++) {
        const char *in = r->opt->inputs[i];
        struct stat sb;
        if (strcmp(in, "-") != 0 && stat(in, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            if (add_directory(r, in) < 0)
                return -1;
        } else if (add_segment(r, in, true) < 0) {
            return -1;
        }
    }
    return 0;
}

/* ---- workers ------------------------------------------------------------ */

/* Move to the engine's current generation: a detector on its policy and
 * signatures, the certificate caches on its trust store. */
static int worker_switch(struct worker *w)
{
    struct run *r = w->run;
    struct engine_gen *g = engine_acquire(&r->eng);
    if (w->x509)
        x509_ctx_set_store(w->x509, g->store);
    if (w->em) {
        struct detect *d =
            detect_new_shared(g->pol, g->sigs, r->eng.legs, r->eng.resume, r->eng.answers);
        if (!d) {
            engine_release(&r->eng, g);
            return -1;
        }
        emitter_set_detect(w->em, d);
        detect_free(w->det);
        w->det = d;
    }
    engine_release(&r->eng, w->gen);
    w->gen = g;
    w->gen_no = g->no;
    return 0;
}

/* The events this worker holds go to the outputs now (output/emit.c lists
 * the flush points and the worst-case delay). */
static inline void worker_flush(struct worker *w)
{
    if (w->em)
        emitter_flush(w->em);
}

static void worker_snapshot(struct worker *w, unsigned seq)
{
    /* Before the counters: every event they count is queued before the
     * stats event made of them, and before a SIGHUP reopen (sync_workers). */
    worker_flush(w);
    struct stats *st = pipeline_stats(w->pl);
    if (w->has_cap)
        capture_drops(&w->cap, &st->pcap_received, &st->pcap_drops, &st->pcap_ifdrops);
    pthread_mutex_lock(&w->mu);
    w->snap = *st;
    w->snap_last_ts = pipeline_last_ts(w->pl);
    w->snap_seen = seq;
    pthread_mutex_unlock(&w->mu);
}

/* Between two packets: a reload or a stats request since the last look? */
static inline void worker_sync(struct worker *w)
{
    struct run *r = w->run;
    if (engine_gen_no(&r->eng) != w->gen_no)
        worker_switch(w);
    unsigned seq = atomic_load_explicit(&r->stats_seq, memory_order_relaxed);
    if (seq != w->snap_seen)
        worker_snapshot(w, seq);
    unsigned fl = atomic_load_explicit(&r->flush_seq, memory_order_relaxed);
    if (fl != w->flush_seen) {
        w->flush_seen = fl;
        worker_flush(w);
    }
}

/*
 * A worker's pipeline entered or left memory pressure (tracker.h): one
 * stats event with that worker's counters, in-band with its connection
 * events and stamped with packet time, so a SIEM sees from where on
 * connections may be missing; and one line on stderr.
 */
static void worker_pressure(void *ctx, const struct tracker_pressure *p)
{
    struct worker *w = ctx;
    char reason[256];
    if (p->on) {
        snprintf(reason, sizeof(reason), "worker %d: %s", w->id, p->reason);
        log_warn("%s", reason);
    } else {
        log_info("worker %d: memory pressure over, %llu flows evicted", w->id,
                 (unsigned long long)p->evicted);
    }
    if (!w->em)
        return;
    struct eve_stats_in in = {
        .total = pipeline_stats(w->pl),
        .last_ts_us = p->ts_us,
        .elapsed_s = now_s() - w->run->t0,
        .degraded = p->on,
        .degraded_reason = p->on ? reason : NULL,
        .one_worker = true,
        .worker = (unsigned)w->id,
    };
    emit_stats(w->em, &in);
}

static int worker_init(struct run *r, struct worker *w, int id)
{
    const struct options *o = r->opt;
    char err[512];
    w->id = id;
    w->run = r;
    pthread_mutex_init(&w->mu, NULL);
    struct x509_ctx_config xc = o->xcfg;
    xc.store = r->eng.cur->store;
    w->x509 = x509_ctx_new(&xc, err, sizeof(err));
    if (!w->x509) {
        log_error("%s", err);
        return -1;
    }
    struct pipeline_config pc = {
        .max_flows = o->max_flows / (size_t)r->n_workers,
        .memcap = o->memcap / (size_t)r->n_workers,
        .depth = o->depth,
        .keylog = r->eng.kl,
        .x509 = w->x509,
        .external_sweep = !o->iface && r->n_workers > 1,
        .shard = (size_t)id,
        .n_shards = o->iface ? 1 : (size_t)r->n_workers,   /* live: the kernel defragments */
    };
    if (pc.max_flows < 16)
        pc.max_flows = 16;
    if (pc.memcap < (1u << 20))
        pc.memcap = 1u << 20;
    if (r->consumer) {
        pc.on_report = r->consumer;
        pc.report_ctx = r->consumer_ctx;
    }
    w->pl = pipeline_new(&pc);
    if (!w->pl) {
        log_error("out of memory");
        return -1;
    }
    pipeline_set_pressure(w->pl, worker_pressure, w);
    if (!r->consumer) {
        w->em = emitter_new(r->sinks, r->n_sinks, &r->ecfg, pipeline_stats(w->pl));
        if (!w->em) {
            log_error("out of memory");
            return -1;
        }
        pipeline_set_report(w->pl, emit_report, w->em);
        if (r->mapped && r->n_workers > 1)
            emitter_set_resume_wait(w->em, mapped_resume_wait, w);
        size_t nw = (size_t)r->n_workers;
        if (o->dump_dir &&
            emitter_set_dump_dir(w->em, o->dump_dir, (o->dump_max_files + nw - 1) / nw,
                                 (o->dump_max_bytes + nw - 1) / nw, err, sizeof(err)) < 0) {
            log_error("%s", err);
            return -1;
        }
    }
    return worker_switch(w);
}

/* Mapped workers: a TLS 1.2 resumption whose full handshake is not (yet)
 * in the shared table waits until every other worker has walked the input
 * up to the record before the one being handled, so that an origin earlier
 * in the capture is there whichever worker holds it: the same events with
 * any --workers N.  Waiters never wait on one another in a cycle: the one
 * furthest behind waits for nobody (the others are past it). */
static void mapped_resume_wait(void *ctx)
{
    struct worker *w = ctx;
    struct run *r = w->run;
    uint64_t mine = atomic_load(&w->done);
    for (int i = 0; i < r->n_workers; i++) {
        struct worker *v = &r->w[i];
        while (v != w && atomic_load(&v->done) < mine &&
               !atomic_load_explicit(&r->stop, memory_order_relaxed)) {
            struct timespec ts = { 0, 20000 };
            nanosleep(&ts, NULL);
        }
    }
}

static void worker_free(struct worker *w)
{
    if (w->has_cap)
        capture_close(&w->cap);
    pipeline_free(w->pl);   /* writes nothing more: flows were flushed */
    emitter_free(w->em);
    detect_free(w->det);
    x509_ctx_free(w->x509);
    if (w->run)
        engine_release(&w->run->eng, w->gen);
    pktq_free(w->q);
    pthread_mutex_destroy(&w->mu);
}

/* This worker's input is over: report its open flows and leave its last
 * counters for the main thread.  The caller then leaves the count of
 * running threads. */
static void worker_finish(struct worker *w)
{
    pipeline_flush(w->pl);
    worker_snapshot(w, atomic_load(&w->run->stats_seq));   /* flushes the emitter */
}

/* A reading thread is over: the last one wakes the main thread at once
 * (RUN_WAKE_SIGNAL ends its sigtimedwait), so a run ends when its work
 * does, not at the next 100 ms tick. */
#define RUN_WAKE_SIGNAL SIGRTMIN
static void reading_ended(struct run *r)
{
    if (atomic_fetch_sub(&r->running, 1) == 1)
        pthread_kill(r->main_thread, RUN_WAKE_SIGNAL);
}

/* A packet thread's malloc arena made ready at its start (util/heap.h)
 * where the run repays it: a live capture, or input files of
 * CFG_HEAP_RESERVE_INPUT bytes or more.  A short run would pay for huge
 * pages it barely uses (each resident whole once touched). */
static void reserve_heap(const struct run *r)
{
    if (r->opt->iface || r->total_bytes >= CFG_HEAP_RESERVE_INPUT)
        heap_reserve(CFG_HEAP_RESERVE);
}

/* Live: read this worker's handle until stopped. */
static void *live_worker(void *arg)
{
    struct worker *w = arg;
    struct run *r = w->run;
    reserve_heap(r);
    char err[CAPTURE_ERRBUF];
    while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
        const struct pcap_pkthdr *h;
        const uint8_t *d;
        enum capture_next c = capture_next(&w->cap, &h, &d, err);
        if (c == CAPTURE_PACKET) {
            uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000ULL + (uint64_t)h->ts.tv_usec;
            pipeline_packet(w->pl, w->cap.dlt, ts, d, h->caplen, h->len);
        } else if (c == CAPTURE_TIMEOUT) {
            worker_flush(w);   /* no packet ready: nothing waits while this worker does */
            if (capture_wait(&w->cap, CFG_PCAP_TIMEOUT_MS) == 0)
                pipeline_tick(w->pl, wall_us());   /* idle: expire with the wall clock */
        } else if (c == CAPTURE_END) {
            break;
        } else {
            log_error("%s", err);
            w->status = 1;
            atomic_store(&r->stop, true);   /* one handle failing ends the run */
            break;
        }
        worker_sync(w);
    }
    struct stats *st = pipeline_stats(w->pl);
    capture_drops(&w->cap, &st->pcap_received, &st->pcap_drops, &st->pcap_ifdrops);
    worker_finish(w);
    reading_ended(r);
    return NULL;
}

/* Files, several workers: drain the queue. */
static void *queue_worker(void *arg)
{
    struct worker *w = arg;
    reserve_heap(w->run);
    struct pktq_item it;
    for (;;) {
        enum pktq_pop p = pktq_pop(w->q, &it, 0);
        if (p == PKTQ_NONE) {
            worker_flush(w);   /* before waiting for the reader */
            p = pktq_pop(w->q, &it, 100);
        }
        if (p == PKTQ_CLOSED)
            break;
        if (p == PKTQ_PACKET) {
            pipeline_packet(w->pl, it.dlt, it.ts_us, it.data, it.caplen, it.wirelen);
        } else if (p == PKTQ_TICK) {
            pipeline_tick(w->pl, it.ts_us);
            worker_flush(w);
        } else if (p == PKTQ_FLUSH) {
            pipeline_flush(w->pl);
            worker_flush(w);
        }
        else if (p == PKTQ_FILE && w->em && it.ts_us < w->run->n_seg)
            emitter_set_pcap_filename(w->em, w->run->seg[it.ts_us].path);
        worker_sync(w);
    }
    worker_finish(w);
    reading_ended(w->run);
    return NULL;
}

/* Files, several workers, classic pcap: this worker reads every file and
 * walks every record itself, keeping the packets of its own flows (the
 * same symmetric hash the reader would use), and keeps the expiry clock
 * one pipeline reading the whole input would keep. */
static void *mapped_worker(void *arg)
{
    struct worker *w = arg;
    struct run *r = w->run;
    reserve_heap(r);
    size_t n = (size_t)r->n_workers;
    struct stats scratch;
    struct expiry_clock clock = { 0, 0 };
    struct prog prog = { 0, 0, 0 };
    for (size_t i = 0; i < r->n_seg; i++) {
        if (atomic_load_explicit(&r->stop, memory_order_relaxed))
            break;
        struct pcapread m;
        char err[CAPTURE_ERRBUF];
        if (pcapread_open(&m, r->seg[i].path, r->opt->filter, err) < 0) {
            if (w->id == 0) {
                log_error("%s", err);
                w->status = 1;
            }
            continue;
        }
        if (w->em)
            emitter_set_pcap_filename(w->em, r->seg[i].path);
        for (;;) {
            if (atomic_load_explicit(&r->stop, memory_order_relaxed))
                break;
            struct pcap_pkthdr h;
            const uint8_t *d;
            enum capture_next c = pcapread_next(&m, &h, &d, err);
            if (c == CAPTURE_PACKET) {
                uint64_t ts = (uint64_t)h.ts.tv_sec * 1000000ULL + (uint64_t)h.ts.tv_usec;
                if (w->id == 0)
                    prog_packet(r, &prog, h.caplen);
                size_t pick = dispatch_pick(m.dlt, d, h.caplen, h.len, n, &scratch);
                if (pick == (size_t)w->id || pick == DISPATCH_ALL)
                    pipeline_packet(w->pl, m.dlt, ts, d, h.caplen, h.len);
                expiry_clock_see(&clock, ts);
                if (expiry_clock_due(&clock)) {
                    pipeline_tick(w->pl, clock.now_us);
                    worker_flush(w);
                }
                worker_sync(w);
                atomic_fetch_add(&w->done, 1);
                continue;
            }
            if (c == CAPTURE_TRUNCATED && w->id == 0) {
                stats_anomaly(pipeline_stats(w->pl), STATS_PCAP_TRUNCATED);
                log_warn("%s (read what was readable)", err);
            } else if (c == CAPTURE_ERROR) {
                if (w->id == 0)
                    log_error("%s", err);
                w->status = 1;
            }
            break;
        }
        pcapread_close(&m);
        if (w->id == 0)
            prog_file_done(r, &prog, &r->seg[i]);
        if (r->seg[i].flush_after) {
            pipeline_flush(w->pl);
            worker_flush(w);
            expiry_clock_restart(&clock);   /* as the pipeline's (pipeline_flush) */
        }
    }
    worker_finish(w);
    atomic_store(&w->done, UINT64_MAX);
    reading_ended(r);
    return NULL;
}

/* Files: read every segment in order. */
static void *reader_main(void *arg)
{
    struct run *r = arg;
    sigset_t kick;
    sigemptyset(&kick);
    sigaddset(&kick, SIGUSR2);
    pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
    struct dispatch *dp = NULL;
    struct worker *solo = r->n_workers == 1 ? &r->w[0] : NULL;
    if (solo)
        reserve_heap(r);
    if (!solo) {
        struct pktq *qs[CFG_WORKERS_MAX];
        for (int i = 0; i < r->n_workers; i++)
            qs[i] = r->w[i].q;
        dp = dispatch_new(qs, (size_t)r->n_workers);
        if (!dp) {
            log_error("out of memory");
            r->reader_status = 1;
        }
    }
    struct prog prog = { 0, 0, 0 };
    for (size_t i = 0; i < r->n_seg && (solo || dp); i++) {
        if (atomic_load_explicit(&r->stop, memory_order_relaxed))
            break;
        struct capture cap;
        struct pcapread m;
        char err[CAPTURE_ERRBUF];
        /* One worker on a classic pcap file: read it directly (large
         * reads, no stdio or libpcap per packet; capture/pcapread.h reads
         * records as libpcap does, fuzz_pcap holds both to the same
         * packets).  pcapng and stdin go through libpcap. */
        bool direct = solo && capture_file_format(r->seg[i].path) == CAPTURE_FORMAT_PCAP;
        if (direct ? pcapread_open(&m, r->seg[i].path, r->opt->filter, err) < 0
                   : capture_open_file(&cap, r->seg[i].path, r->opt->filter, err) < 0) {
            if (atomic_load_explicit(&r->stop, memory_order_relaxed))
                break;   /* interrupted by the stop, not an error */
            log_error("%s", err);
            r->reader_status = 1;
            continue;
        }
        if (solo && solo->em) {
            emitter_set_pcap_filename(solo->em, r->seg[i].path);
            /* A read that can block for long (stdin, a pipe) would hold
             * the events of the packets before it: no batching there. */
            struct stat sb;
            emitter_set_batching(solo->em, strcmp(r->seg[i].path, "-") != 0 &&
                                               stat(r->seg[i].path, &sb) == 0 &&
                                               S_ISREG(sb.st_mode));
        }
        else if (dp)
            dispatch_file(dp, i);
        for (;;) {
            if (atomic_load_explicit(&r->stop, memory_order_relaxed))
                break;
            struct pcap_pkthdr hd;
            const struct pcap_pkthdr *h = &hd;
            const uint8_t *d;
            enum capture_next c = direct ? pcapread_next(&m, &hd, &d, err)
                                         : capture_next(&cap, &h, &d, err);
            if (c == CAPTURE_PACKET) {
                uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000ULL + (uint64_t)h->ts.tv_usec;
                prog_packet(r, &prog, h->caplen);
                if (solo) {
                    pipeline_packet(solo->pl, direct ? m.dlt : cap.dlt, ts, d, h->caplen, h->len);
                    worker_sync(solo);
                } else {
                    dispatch_packet(dp, cap.dlt, ts, d, h->caplen, h->len);
                }
                continue;
            }
            if ((c == CAPTURE_ERROR || c == CAPTURE_TRUNCATED) &&
                atomic_load_explicit(&r->stop, memory_order_relaxed))
                break;   /* the read was interrupted to stop */
            if (c == CAPTURE_TRUNCATED) {
                struct stats *st = solo ? pipeline_stats(solo->pl) : dispatch_stats(dp);
                stats_anomaly(st, STATS_PCAP_TRUNCATED);
                log_warn("%s (read what was readable)", err);
            } else if (c == CAPTURE_ERROR) {
                log_error("%s", err);
                r->reader_status = 1;
            }
            break;
        }
        if (direct)
            pcapread_close(&m);
        else
            capture_close(&cap);
        prog_file_done(r, &prog, &r->seg[i]);
        if (r->seg[i].flush_after) {
            if (solo) {
                pipeline_flush(solo->pl);
                worker_flush(solo);
            } else
                dispatch_flush(dp);
        }
    }
    if (solo)
        worker_finish(solo);
    else if (dp)
        dispatch_close(dp);   /* the workers drain and end */
    if (dp) {
        r->reader_stats = *dispatch_stats(dp);   /* read once reader_done is set */
        dispatch_free(dp);
    }
    atomic_store(&r->reader_done, true);
    reading_ended(r);
    return NULL;
}

/* ---- stats -------------------------------------------------------------- */

/* Ask every worker for its counters and wait (bounded) for the answers;
 * a worker that answers has handed its events to the outputs too. */
static void sync_workers(struct run *r)
{
    unsigned seq = atomic_fetch_add(&r->stats_seq, 1) + 1;
    double deadline = now_s() + 1.0;
    for (int i = 0; i < r->n_workers; i++) {
        for (;;) {
            pthread_mutex_lock(&r->w[i].mu);
            bool fresh = r->w[i].snap_seen == seq;
            pthread_mutex_unlock(&r->w[i].mu);
            if (fresh || atomic_load(&r->running) == 0 || now_s() > deadline)
                break;
            struct timespec ts = { 0, 5 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
    }
}

static void collect(struct run *r, struct stats *total, struct stats *per, uint64_t *last_ts)
{
    sync_workers(r);
    memset(total, 0, sizeof(*total));
    *last_ts = 0;
    for (int i = 0; i < r->n_workers; i++) {
        pthread_mutex_lock(&r->w[i].mu);
        per[i] = r->w[i].snap;
        if (r->w[i].snap_last_ts > *last_ts)
            *last_ts = r->w[i].snap_last_ts;
        pthread_mutex_unlock(&r->w[i].mu);
        stats_add(total, &per[i]);
    }
    if (atomic_load(&r->reader_done))
        stats_add(total, &r->reader_stats);
}

static void write_stats(struct run *r, struct emitter *em, bool final, struct stats *total_out)
{
    struct stats total, per[CFG_WORKERS_MAX];
    uint64_t last_ts;
    collect(r, &total, per, &last_ts);
    if (total_out)
        *total_out = total;
    if (!em)
        return;
    struct sink_stats ss[OPT_MAX_OUTPUTS + 1];
    for (size_t i = 0; i < r->n_sinks; i++)
        sink_get_stats(r->sinks[i], &ss[i]);
    bool live = r->opt->iface != NULL;
    struct eve_stats_in in = {
        .total = &total,
        .workers = per,
        .n_workers = (size_t)r->n_workers,
        .sinks = ss,
        .sink_names = r->sink_names,
        .n_sinks = r->n_sinks,
        .last_ts_us = live ? wall_us() : last_ts,
        .elapsed_s = now_s() - r->t0,
        .uptime_s = live ? (wall_us() - r->wall0_us) / 1000000 : 0,
        .final = final,
        .degraded = r->degraded_reason[0] != '\0',
        .degraded_reason = r->degraded_reason,
    };
    emit_stats(em, &in);
}

static void stop_all(struct run *r);

/*
 * Look at the outputs: one that dropped lines since the last look is
 * failing (events are being lost), one that delivered lines without a new
 * drop works again.  Entering or leaving that state writes a stats event
 * (degraded true or false, and which output) on every output, so a SIEM
 * can tell a quiet network from a sensor that loses events.  When every
 * output is a failing file (or stdout), the run stops with exit status 1,
 * unless --on-output-error drop: a socket or Redis output reconnects by
 * itself, and a sensor outlives its restart.
 */
static void watch_outputs(struct run *r, struct emitter *em)
{
    if (!em || r->n_sinks == 0)
        return;
    bool changed = false;
    size_t n_failing = 0, n_dead_files = 0;
    char reason[sizeof r->degraded_reason] = "";
    size_t len = 0;
    for (size_t i = 0; i < r->n_sinks; i++) {
        struct sink_stats st;
        sink_get_stats(r->sinks[i], &st);
        bool now = r->failing[i];
        if (st.dropped > r->seen[i].dropped)
            now = true;
        else if (st.written > r->seen[i].written)
            now = false;
        if (now != r->failing[i])
            changed = true;
        r->failing[i] = now;
        r->seen[i] = st;
        if (now) {
            n_failing++;
            if (!sink_reconnects(r->sinks[i]))
                n_dead_files++;
            int k = snprintf(reason + len, sizeof(reason) - len, "%soutput %s failing",
                             len ? "; " : "", r->sink_names[i]);
            if (k > 0 && (size_t)k < sizeof(reason) - len)
                len += (size_t)k;
        }
    }
    if (!changed)
        return;
    snprintf(r->degraded_reason, sizeof(r->degraded_reason), "%s", reason);
    write_stats(r, em, false, NULL);
    if (n_dead_files == r->n_sinks && !r->opt->output_error_drop && !r->output_failed) {
        log_error("every output is failing (%s): stopping (--on-output-error drop keeps "
                  "analysing)", reason);
        r->output_failed = true;
        stop_all(r);
    }
}

/* ---- setup -------------------------------------------------------------- */

static int n_workers_for(const struct options *o, bool learn)
{
    if (learn)
        return 1;
    int n = o->workers;
    if (n <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (int)c : 1;
    }
    if (n > CFG_WORKERS_MAX)
        n = CFG_WORKERS_MAX;
    return n;
}

static int open_sinks(struct run *r)
{
    const struct options *o = r->opt;
    enum sink_full full = o->iface ? SINK_DROP : SINK_BLOCK;
    static const char *const stdout_spec[] = { "-" };
    const char *const *specs = o->n_outputs ? o->outputs : stdout_spec;
    size_t n = o->n_outputs || o->event_fn ? (size_t)o->n_outputs : 1;
    if (o->event_fn) {
        char err[512];
        struct sink *s = sink_open_fn("report", o->event_fn, o->event_ctx, o->queue_bytes, err,
                                      sizeof(err));
        if (!s) {
            log_error("%s", err);
            return -1;
        }
        r->sinks[r->n_sinks] = s;
        r->sink_names[r->n_sinks] = sink_name(s);
        r->n_sinks++;
    }
    for (size_t i = 0; i < n; i++) {
        char err[512];
        struct sink *s = sink_open(specs[i], full, o->queue_bytes, err, sizeof(err));
        if (!s) {
            log_error("%s", err);
            return -1;
        }
        r->sinks[r->n_sinks] = s;
        r->sink_names[r->n_sinks] = sink_name(s);
        r->n_sinks++;
    }
    return 0;
}

static int open_live(struct run *r)
{
    const struct options *o = r->opt;
    struct capture_live_opts lo = {
        .buffer_bytes = o->buffer_bytes,
        .fanout = r->n_workers > 1 ? o->fanout : CAPTURE_FANOUT_NONE,
        .fanout_group = (uint16_t)(getpid() & 0xffff),
    };
    for (int i = 0; i < r->n_workers; i++) {
        char err[CAPTURE_ERRBUF];
        if (capture_open_live(&r->w[i].cap, o->iface, o->filter, CFG_SNAPLEN, &lo, err) < 0) {
            log_error("%s", err);
            return -1;
        }
        r->w[i].has_cap = true;
    }
    const char *dl = pcap_datalink_val_to_name(r->w[0].cap.dlt);
    log_info("listening on %s (%s), %d worker%s", o->iface, dl ? dl : "?", r->n_workers,
             r->n_workers == 1 ? "" : "s");
    return 0;
}

/* Files: open each once now so a bad one fails before anything is written. */
static int check_files(struct run *r)
{
    for (size_t i = 0; i < r->n_seg; i++) {
        if (strcmp(r->seg[i].path, "-") == 0)
            continue;   /* a pre-open would consume the stream */
        struct capture c;
        char err[CAPTURE_ERRBUF];
        if (capture_open_file(&c, r->seg[i].path, r->opt->filter, err) < 0) {
            log_error("%s", err);
            return -1;
        }
        capture_close(&c);
        engine_scan_dsb(&r->eng, r->seg[i].path);
    }
    return 0;
}

/* ---- the run ------------------------------------------------------------ */

/* SIGUSR2 interrupts the reader's blocking read of a pipe or stdin when
 * the run stops: its handler does nothing, and it is installed without
 * SA_RESTART so that read() fails with EINTR.  Only the reader thread
 * unblocks it; every other signal stays with the main thread. */
static void kick_handler(int sig)
{
    (void)sig;
}

static void stop_all(struct run *r)
{
    atomic_store(&r->stop, true);
    for (int i = 0; i < r->n_workers; i++)
        if (r->w[i].has_cap)
            capture_break(&r->w[i].cap);
    if (r->reader_started && !atomic_load(&r->reader_done))
        pthread_kill(r->reader, SIGUSR2);
}

/* Start `fn` on workers 0..n-1.  False, with the run stopped, when one
 * cannot start (those started end by themselves). */
static bool start_workers(struct run *r, int n, void *(*fn)(void *))
{
    for (int i = 0; i < n; i++) {
        atomic_fetch_add(&r->running, 1);
        if (pthread_create(&r->w[i].th, NULL, fn, &r->w[i]) != 0) {
            atomic_fetch_sub(&r->running, 1);
            log_error("cannot start worker %d", i);
            stop_all(r);
            return false;
        }
        r->w[i].started = true;
    }
    return true;
}

static void human_bytes(uint64_t b, char *out, size_t cap)
{
    const char *u[] = { "B", "kB", "MB", "GB", "TB" };
    double v = (double)b;
    int i = 0;
    while (v >= 1000 && i < 4) {
        v /= 1000;
        i++;
    }
    snprintf(out, cap, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

/* --progress: one line on stderr, rewritten at most CFG_PROGRESS_HZ times
 * a second: bytes read of the total, packets/s, events written, time
 * left.  Only ever on stderr; stdout stays the events' or the report's. */
static void show_progress(struct run *r)
{
    if (!r->progress)
        return;
    double now = now_s();
    if (now < r->next_progress)
        return;
    r->next_progress = now + 1.0 / CFG_PROGRESS_HZ;
    uint64_t bytes = atomic_load_explicit(&r->prog_bytes, memory_order_relaxed);
    uint64_t pkts = atomic_load_explicit(&r->prog_pkts, memory_order_relaxed);
    double el = now - r->t0;
    if (el < 0.5)
        return;     /* short runs show nothing */
    struct sink_stats ss = { 0 };
    if (r->n_sinks)
        sink_get_stats(r->sinks[0], &ss);
    char done[24], total[24], eta[32] = "";
    human_bytes(bytes, done, sizeof(done));
    double rate = el > 0 ? (double)pkts / el : 0;
    if (r->total_bytes && bytes) {
        human_bytes(r->total_bytes, total, sizeof(total));
        double left = el * ((double)r->total_bytes / (double)bytes - 1.0);
        if (left < 0)
            left = 0;
        snprintf(eta, sizeof(eta), ", %d:%02d left", (int)(left / 60), (int)left % 60);
        fprintf(stderr, "\r\033[Kpinscope: %3.0f%% %s of %s, %.2f Mpkt/s, %llu events%s",
                100.0 * (double)bytes / (double)r->total_bytes, done, total, rate / 1e6,
                (unsigned long long)ss.written, eta);
    } else {
        fprintf(stderr, "\r\033[Kpinscope: %s read, %.2f Mpkt/s, %llu events", done,
                rate / 1e6, (unsigned long long)ss.written);
    }
    fflush(stderr);
    r->progress_shown = true;
}

/* The main thread from here on: signals, periodic stats, until every
 * reading thread has ended. */
static void control_loop(struct run *r, struct emitter *em)
{
    const struct options *o = r->opt;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, RUN_WAKE_SIGNAL);
    double next_stats = o->stats_interval ? now_s() + o->stats_interval : 0;
    while (atomic_load(&r->running) > 0) {
        /* Stopping: look again soon, to kick a reader still in read(). */
        struct timespec to = { 0, (atomic_load(&r->stop) ? 10 : CFG_EMIT_FLUSH_MS) * 1000 * 1000 };
        int sig = sigtimedwait(&set, NULL, &to);
        /* Workers hand over the events they hold at their next packet. */
        atomic_fetch_add_explicit(&r->flush_seq, 1, memory_order_relaxed);
        if (sig == SIGHUP) {
            log_info("SIGHUP: reopening outputs and reloading");
            engine_reload(&r->eng);
            sync_workers(r);   /* the events held so far go to the old files */
            for (size_t i = 0; i < r->n_sinks; i++)
                sink_reopen(r->sinks[i]);
        } else if (sig == SIGUSR1) {
            write_stats(r, em, false, NULL);
        } else if (sig == SIGINT || sig == SIGTERM) {
            if (!atomic_load(&r->stop))
                log_info("%s: stopping, reporting open connections",
                         sig == SIGINT ? "SIGINT" : "SIGTERM");
            stop_all(r);
        } else if (atomic_load(&r->stop)) {
            stop_all(r);   /* again: a kick may land just before the read */
        }
        if (next_stats && now_s() >= next_stats) {
            write_stats(r, em, false, NULL);
            next_stats += o->stats_interval;
        }
        watch_outputs(r, em);
        show_progress(r);
    }
    if (r->progress_shown)
        fputs("\r\033[K", stderr);    /* the summary line takes its place */
}

int run_sources(const struct options *o, pipeline_report_fn consumer, void *ctx)
{
    struct run *r = calloc(1, sizeof(*r));
    if (!r) {
        log_error("out of memory");
        return 1;
    }
    r->opt = o;
    r->consumer = consumer;
    r->consumer_ctx = ctx;
    r->n_workers = n_workers_for(o, consumer != NULL);
    r->ecfg.format = o->format_ecs ? EVE_FORMAT_ECS : EVE_FORMAT_EVE;
    r->ecfg.deterministic = o->deterministic;
    r->ecfg.community_id_seed = (uint16_t)o->community_id_seed;
    r->ecfg.in_iface = o->iface;
    r->ecfg.host = o->sensor_name;
    if (!r->ecfg.host && !o->deterministic &&
        gethostname(r->hostname, sizeof(r->hostname) - 1) == 0 && r->hostname[0])
        r->ecfg.host = r->hostname;
    int status = 1;
    struct emitter *em = NULL;
    struct stats dummy = { 0 }, total = { 0 };
    bool summary = false;         /* the run got as far as its totals */
    double elapsed = 0;
    uint64_t unwritten = 0;       /* event lines the worst output lost */
    bool pid_written = false;

    /* Signals go to the main thread's sigtimedwait only. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, RUN_WAKE_SIGNAL);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    r->main_thread = pthread_self();
    signal(SIGPIPE, SIG_IGN);
    struct sigaction kick = { .sa_handler = kick_handler };   /* no SA_RESTART */
    sigemptyset(&kick.sa_mask);
    sigaction(SIGUSR2, &kick, NULL);
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &usr2, NULL);   /* the reader alone unblocks it */

    if (!o->iface && build_segments(r) < 0)
        goto done;
    r->progress = !o->iface && (o->progress == 1 || (o->progress < 0 && isatty(STDERR_FILENO)));
    if (!consumer && (o->geoip_db || o->asn_db)) {
        char err[1024];
        if (!(r->geoip = geoip_open(o->geoip_db, o->asn_db, err, sizeof(err)))) {
            log_error("%s", err);
            goto done;
        }
        r->ecfg.geoip = r->geoip;
        if (log_debug_enabled) {
            geoip_describe(r->geoip, err, sizeof(err));
            log_debug("GeoIP: %s", err);
        }
    }
    r->w = calloc((size_t)r->n_workers, sizeof(*r->w));
    if (!r->w || engine_init(&r->eng, o) < 0)
        goto done;
    r->eng_ok = true;
    if (o->iface ? open_live(r) < 0 : check_files(r) < 0)
        goto done;
    if (!consumer && open_sinks(r) < 0)
        goto done;
    if (o->pidfile) {
        char err[512];
        if (pidfile_write(o->pidfile, err, sizeof(err)) < 0) {
            log_error("%s", err);
            goto done;
        }
        pid_written = true;
    }
    /* Every handle and output is open: give up root before any packet. */
    if (o->user) {
        char err[512];
        if (privdrop(o->user, o->group, err, sizeof(err)) < 0) {
            log_error("%s", err);
            goto done;
        }
    }
    for (size_t i = 0; i < r->n_sinks; i++) {
        char err[512];
        if (sink_start(r->sinks[i], err, sizeof(err)) < 0) {
            log_error("%s", err);
            goto done;
        }
    }
    /* Several workers on classic pcap files: each reads the files itself;
     * otherwise (pcapng, stdin) one reader feeds worker queues. */
    if (!o->iface && r->n_workers > 1) {
        r->mapped = true;
        for (size_t i = 0; i < r->n_seg && r->mapped; i++)
            r->mapped = capture_file_format(r->seg[i].path) == CAPTURE_FORMAT_PCAP;
    }
    for (int i = 0; i < r->n_workers; i++) {
        if (!o->iface && r->n_workers > 1 && !r->mapped &&
            !(r->w[i].q = pktq_new(CFG_WORKER_QUEUE_BYTES))) {
            log_error("out of memory");
            goto done;
        }
        if (worker_init(r, &r->w[i], i) < 0)
            goto done;
    }
    if (!consumer && !(em = emitter_new(r->sinks, r->n_sinks, &r->ecfg, &dummy)))
        goto done;

    r->t0 = now_s();
    r->wall0_us = wall_us();
    bool started;
    if (o->iface) {
        started = start_workers(r, r->n_workers, live_worker);
    } else if (r->mapped) {
        started = start_workers(r, r->n_workers, mapped_worker);
    } else {
        started = start_workers(r, r->n_workers > 1 ? r->n_workers : 0, queue_worker);
        atomic_fetch_add(&r->running, 1);
        if (started && pthread_create(&r->reader, NULL, reader_main, r) == 0) {
            r->reader_started = true;
        } else {
            atomic_fetch_sub(&r->running, 1);
            if (started)
                log_error("cannot start the reader");
            stop_all(r);
            started = false;
            for (int i = 0; i < r->n_workers; i++)   /* queue workers end */
                if (r->w[i].q)
                    pktq_close(r->w[i].q);
        }
    }
    status = started ? 0 : 1;
    control_loop(r, em);
    if (r->reader_started)
        pthread_join(r->reader, NULL);
    for (int i = 0; i < r->n_workers; i++)
        if (r->w[i].started)
            pthread_join(r->w[i].th, NULL);
    if (r->reader_status || r->output_failed)
        status = 1;
    for (int i = 0; i < r->n_workers; i++)
        if (r->w[i].status)
            status = 1;

    /* The final stats event counts what each output wrote before it (a
     * destination that is down gets a moment, then counts as it stands). */
    for (size_t i = 0; i < r->n_sinks; i++)
        sink_flush_for(r->sinks[i], CFG_SINK_CLOSE_WAIT_MS);
    /* An output that failed on the last lines is seen here: the control
     * loop ends as soon as the reading does, maybe before it looked. */
    watch_outputs(r, em);
    if (r->output_failed)
        status = 1;
    write_stats(r, o->want_stats ? em : NULL, true, &total);
    summary = true;
    elapsed = o->deterministic ? 0 : now_s() - r->t0;

done:
    emitter_free(em);
    for (int i = 0; r->w && i < r->n_workers; i++)
        worker_free(&r->w[i]);
    for (size_t i = 0; i < r->n_sinks; i++) {
        /* The counts and the name belong to the sink, which sink_close()
         * frees: keep copies. */
        struct sink_stats ss;
        char name[256];
        snprintf(name, sizeof(name), "%s", r->sink_names[i]);
        /* File analysis: an output that lost lines fails the run.  The
         * sensor drops by design when an output cannot keep up; that is
         * counted in the stats events and said here, not an exit status. */
        int rc = sink_close_stats(r->sinks[i], &ss);
        if (ss.dropped > unwritten)
            unwritten = ss.dropped;
        if (rc < 0) {
            if (o->iface) {
                log_warn("output %s: %llu lines written, %llu dropped, %llu write errors", name,
                         (unsigned long long)ss.written, (unsigned long long)ss.dropped,
                         (unsigned long long)ss.errors);
            } else {
                log_error("writing %s failed: %llu lines written, %llu dropped, %llu errors", name,
                          (unsigned long long)ss.written, (unsigned long long)ss.dropped,
                          (unsigned long long)ss.errors);
                status = 1;
            }
        }
    }
    if (summary)
        event_print_summary(stderr, &total, elapsed, unwritten);
    if (pid_written)
        pidfile_remove(o->pidfile);
    if (r->eng_ok || r->eng.mu)
        engine_free(&r->eng);
    for (size_t i = 0; i < r->n_seg; i++)
        free(r->seg[i].path);
    free(r->seg);
    free(r->w);
    geoip_close(r->geoip);
    free(r);
    return status;
}

int run_analyse(const struct options *opt)
{
    return run_sources(opt, NULL, NULL);
}
