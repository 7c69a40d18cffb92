/*
 * sink.c - event sinks: spec parsing, the bounded queue and one writer
 * thread per sink (see sink.h; the transports are behind sink_impl.h).
 *
 * The queue is a FIFO list of units (one malloc'd copy of the bytes given
 * to one sink_write() call, or the producer's own buffer taken by
 * sink_write_take(), which gets a delivered unit's buffer back), capped
 * by queue_bytes of payload.  A unit is
 * admitted when it fits or when the queue is empty, so a unit larger than
 * the cap still goes through (one at a time): memory held is at most
 * queue_bytes + one unit + a small header per unit.  A unit that does not
 * end in '\n' gets one, so lines never glue across units.
 *
 * The writer takes the head unit without unlinking it, writes it with the
 * lock released, then unlinks it: queued bytes count the unit being
 * written, flush waits for it, and a unit whose write failed stays at the
 * head.  A transport reports how much of a unit it delivered as whole
 * lines; after a reconnect the unit resumes there.
 *
 * Failures:
 *   - socket/Redis sinks: the connection is marked down (one warning), the
 *     writer retries after 100 ms, doubling to 5 s (CFG_SINK_BACKOFF_*).
 *     Units stay queued; once the queue is full a SINK_DROP sink drops new
 *     units (one warning when dropping starts, one line when the queue has
 *     drained completely, so a sink at the edge of overload does not
 *     flap) and a SINK_BLOCK sink holds its producer.
 *   - file sinks: the unit is dropped and counted (one warning until a
 *     write succeeds again); there is nothing to reconnect.
 *   - sink_close() drains.  If the destination is down, or goes down, the
 *     writer keeps retrying for CFG_SINK_CLOSE_WAIT_MS after the close
 *     began, then drops what is left (counted, one warning).  A socket
 *     write that stalls for CFG_SINK_IO_TIMEOUT_MS counts as a lost
 *     connection, so close is bounded even with a peer that never reads.
 *   - sink_flush() waits for the queue to empty; it does not give up while
 *     a destination is down (use sink_close() for a bounded wait).
 *
 * The writer thread blocks every signal, so process signals (SIGINT,
 * SIGHUP...) reach the program's own threads.  There is no "failed for
 * good" state: every sink keeps trying, and sink_write() returns -1 only
 * for a dropped unit.
 */
#include "output/sink.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "output/sink_impl.h"
#include "util/log.h"

#define SINK_SPEC_MAX 4096  /* longest spec accepted */

struct unit {
    struct unit *next;
    size_t len;         /* bytes in data, ends with '\n' */
    size_t off;         /* bytes already delivered (whole lines) */
    uint64_t lines;     /* '\n's in data[0..len): the producer knows them, so the
                           writer need not read the bytes to count what it wrote */
    int cls;            /* size class (data holds UNIT_CLASS_BYTES(cls)), UNIT_EXACT: exact
                           size, UNIT_TAKEN: a producer's buffer (sink_write_take) */
    char *data;         /* inl, or the taken buffer */
    size_t dcap;        /* UNIT_TAKEN: the bytes data holds */
    char inl[];
};
#define UNIT_EXACT (-1)
#define UNIT_TAKEN (-2)

/* Units are recycled by size class rather than malloc'd and freed per
 * event: the producer allocated and the writer thread freed, so every event
 * went through glibc's arena lock twice. */
#define UNIT_CLASSES 6                          /* 4, 8, 16, 32, 64, 128 KiB: the
                                                   emitter's batches (CFG_EMIT_BATCH_BYTES
                                                   and one unit) fit the last */
#define UNIT_CLASS_BYTES(c) ((size_t)4096 << (c))

/* sink_write_take(): the largest buffer taken (the last class), and the
 * size of the buffers given back. */
#define UNIT_TAKE_MAX UNIT_CLASS_BYTES(UNIT_CLASSES - 1)

static int unit_class(size_t ulen)
{
    for (int c = 0; c < UNIT_CLASSES; c++)
        if (ulen <= UNIT_CLASS_BYTES(c))
            return c;
    return -1;
}

struct sink {
    char *name;
    const struct sink_ops *ops;
    void *st;
    enum sink_full full;
    size_t cap;

    pthread_mutex_t mu;
    pthread_cond_t work;    /* writer: units, stop or reopen (monotonic clock) */
    pthread_cond_t room;    /* producers and flush: a unit left the queue */
    pthread_t thread;
    bool started;           /* sink_start() ran */

    /* under mu */
    struct unit *head, *tail;
    struct unit *pool[UNIT_CLASSES];   /* spare units, at most CFG_SINK_UNIT_POOL each */
    unsigned n_pool[UNIT_CLASSES];
    struct unit *spare;                /* taken units delivered: their buffers go back to */
    unsigned n_spare;                  /* producers (at most CFG_SINK_UNIT_POOL) */
    size_t pool_bytes;                 /* ... at most CFG_SINK_POOL_BYTES in all */
    size_t queued;          /* payload bytes queued, including reserved */
    uint64_t seq_in;        /* units appended */
    uint64_t seq_out;       /* units unlinked (delivered or dropped) */
    bool idle;              /* the writer waits on `work` for units: only then
                               does a producer signal it */
    bool stop;
    uint64_t stop_deadline; /* ms, monotonic: when close stops retrying */
    bool reopen_req;
    bool dropping;          /* queue-full drops since the last "room" line */
    uint64_t drop_mark;     /* dropped count when dropping began */
    struct sink_stats stats;

    /* writer thread only */
    char *batch;            /* CFG_SINK_BATCH_BYTES: whole units copied for one write */
    bool down;              /* connection lost, reconnecting */
    bool write_failing;     /* file: last write failed */
    bool rejecting;         /* destination skipped lines of the last unit */
    uint64_t backoff_ms;
    uint64_t next_try;      /* ms, monotonic */
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

size_t sink_whole_lines(const char *buf, size_t len)
{
    while (len > 0 && buf[len - 1] != '\n')
        len--;
    return len;
}

uint64_t sink_count_lines(const char *buf, size_t len)
{
    uint64_t n = 0;
    const char *p = buf, *end = buf + len;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        n++;
        p++;
    }
    return n;
}

/* The lines of a unit not yet delivered. */
static uint64_t unit_lines_left(const struct unit *u)
{
    return u->off == 0 ? u->lines : sink_count_lines(u->data + u->off, u->len - u->off);
}

/* ---- spec parsing ---- */

static const struct {
    const char *prefix;
    const struct sink_ops *ops;
} schemes[] = {
    {"file:", &sink_file_ops},
    {"unix-dgram:", &sink_unix_dgram_ops},
    {"unix-stream:", &sink_unix_stream_ops},
    {"syslog:", &sink_syslog_ops},
    {"redis:", &sink_redis_ops},
};

/* The transport of `spec` and the target after the scheme, or NULL. */
static const struct sink_ops *parse_spec(const char *spec, const char **target, char *err,
                                         size_t errlen)
{
    size_t n = strnlen(spec, SINK_SPEC_MAX + 1);
    if (n == 0) {
        snprintf(err, errlen, "empty output spec");
        return NULL;
    }
    if (n > SINK_SPEC_MAX) {
        snprintf(err, errlen, "output spec longer than %d bytes", SINK_SPEC_MAX);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)spec[i];
        if (c < 0x20 || c == 0x7f) {
            snprintf(err, errlen, "output spec holds a control character (byte %zu)", i);
            return NULL;
        }
    }
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        size_t pl = strlen(schemes[i].prefix);
        if (strncmp(spec, schemes[i].prefix, pl) == 0) {
            *target = spec + pl;
            return schemes[i].ops;
        }
    }
    /* "word:" that is none of the above: a typo of a scheme, not a file
     * (a file name with ':' is written file:NAME or ./NAME). */
    size_t w = 0;
    while (w < n && ((spec[w] >= 'a' && spec[w] <= 'z') || (spec[w] >= 'A' && spec[w] <= 'Z') ||
                     (w > 0 && ((spec[w] >= '0' && spec[w] <= '9') || spec[w] == '-' ||
                                spec[w] == '+' || spec[w] == '.'))))
        w++;
    if (w > 0 && w < n && spec[w] == ':') {
        snprintf(err, errlen,
                 "unknown output scheme '%.*s' in '%s' (file, unix-dgram, unix-stream, syslog, "
                 "redis; a file name with ':' is written file:NAME)",
                 (int)w, spec, spec);
        return NULL;
    }
    *target = spec;
    return &sink_file_ops;
}

/* ---- the writer thread ---- */

static void unlink_head(struct sink *s)
{
    struct unit *u = s->head;
    s->head = u->next;
    if (!s->head)
        s->tail = NULL;
    s->queued -= u->len;
    s->seq_out++;
    if (u->cls >= 0 && s->n_pool[u->cls] < CFG_SINK_UNIT_POOL &&
        UNIT_CLASS_BYTES(u->cls) <= CFG_SINK_POOL_BYTES - s->pool_bytes) {
        u->next = s->pool[u->cls];
        s->pool[u->cls] = u;
        s->n_pool[u->cls]++;
        s->pool_bytes += UNIT_CLASS_BYTES(u->cls);
    } else if (u->cls == UNIT_TAKEN && s->n_spare < CFG_SINK_UNIT_POOL &&
               u->dcap <= CFG_SINK_POOL_BYTES - s->pool_bytes) {
        u->next = s->spare;
        s->spare = u;
        s->n_spare++;
        s->pool_bytes += u->dcap;
    } else {
        if (u->cls == UNIT_TAKEN)
            free(u->data);
        free(u);
    }
    if (s->dropping && s->queued == 0) {
        uint64_t lost = s->stats.dropped - s->drop_mark;
        s->dropping = false;
        log_info("sink %s: queue drained, %llu lines were dropped while it was full", s->name,
                 (unsigned long long)lost);
    }
    pthread_cond_broadcast(&s->room);
}

/* Close gave up on a down destination: drop everything left. */
static void drop_all(struct sink *s)
{
    uint64_t lines = 0;
    s->dropping = false;    /* no "room again" line while emptying */
    while (s->head) {
        struct unit *u = s->head;
        lines += unit_lines_left(u);
        unlink_head(s);
    }
    if (lines) {
        s->stats.dropped += lines;
        log_warn("sink %s: destination still down at exit, %llu lines dropped", s->name,
                 (unsigned long long)lines);
    }
}

/* Wait on `work` until `until` (monotonic ms) or a signal.  Lock held. */
static void wait_until(struct sink *s, uint64_t until)
{
    struct timespec ts = {.tv_sec = (time_t)(until / 1000),
                          .tv_nsec = (long)(until % 1000) * 1000000L};
    pthread_cond_timedwait(&s->work, &s->mu, &ts);
}

/* Try to reconnect a down sink, or wait for its next try.  Lock held. */
static void reconnect_step(struct sink *s)
{
    uint64_t now = now_ms();
    if (s->stop && now >= s->stop_deadline) {
        drop_all(s);
        return;
    }
    if (now < s->next_try) {
        uint64_t until = s->next_try;
        if (s->stop && s->stop_deadline < until)
            until = s->stop_deadline;
        wait_until(s, until);
        return;
    }
    char err[256] = "";
    pthread_mutex_unlock(&s->mu);
    int rc = s->ops->reconnect(s->st, err, sizeof(err));
    pthread_mutex_lock(&s->mu);
    if (rc == 0) {
        s->down = false;
        s->backoff_ms = CFG_SINK_BACKOFF_MIN_MS;
        log_info("sink %s: reconnected", s->name);
        return;
    }
    s->backoff_ms *= 2;
    if (s->backoff_ms > CFG_SINK_BACKOFF_MAX_MS)
        s->backoff_ms = CFG_SINK_BACKOFF_MAX_MS;
    s->next_try = now_ms() + s->backoff_ms;
}

/*
 * Write the head unit, and the whole units queued behind it, at once: up
 * to CFG_SINK_BATCH_BYTES are copied into one buffer for a single write
 * (one syscall for many events).  A unit of CFG_EMIT_BATCH_BYTES or more
 * (an emitter's full batch) is written from its own buffer, alone: copying
 * it would cost more than the write it saves.  Units are never split
 * between two batches; what a failed write did not take stays at the
 * head.  Lock held on entry and exit.
 */
static void write_head(struct sink *s)
{
    struct unit *u = s->head;
    const char *p = u->data + u->off;
    size_t left = u->len - u->off;
    size_t done = 0;
    uint64_t skipped = 0;
    char err[256] = "";

    const struct unit *more[CFG_SINK_BATCH_UNITS];
    size_t n_more = 0, total = left;
    if (s->batch && u->off == 0 && left < CFG_EMIT_BATCH_BYTES)
        for (const struct unit *v = u->next;
             v && n_more < CFG_SINK_BATCH_UNITS && v->len < CFG_EMIT_BATCH_BYTES &&
             v->len <= CFG_SINK_BATCH_BYTES - total;
             v = v->next) {
            more[n_more++] = v;
            total += v->len;
        }
    pthread_mutex_unlock(&s->mu);
    if (n_more > 0) {
        /* The units stay queued (only this thread unlinks them), so they
         * can be read without the lock. */
        memcpy(s->batch, p, left);
        size_t at = left;
        for (size_t i = 0; i < n_more; i++) {
            memcpy(s->batch + at, more[i]->data, more[i]->len);
            at += more[i]->len;
        }
        p = s->batch;
        left = total;
    }
    int rc = s->ops->write(s->st, p, left, &done, &skipped, err, sizeof(err));
    if (rc == 0)
        done = left;
    else if (done > left)
        done = left;
    /* What was written, in lines: known from the units when they all went
     * whole, counted in the bytes when a write stopped inside them. */
    uint64_t lines = 0;
    if (done == left) {
        lines = unit_lines_left(u);
        for (size_t i = 0; i < n_more; i++)
            lines += more[i]->lines;
    } else {
        lines = sink_count_lines(p, done);
    }
    pthread_mutex_lock(&s->mu);

    /* Every unit of the batch but the last that the write took whole
     * leaves the queue; the last one, or the one a failed write stopped
     * in, is dealt with below as a single unit would be. */
    size_t rem = done;
    for (; n_more > 0 && rem >= s->head->len - s->head->off; n_more--) {
        rem -= s->head->len - s->head->off;
        unlink_head(s);
    }
    u = s->head;
    u->off += rem;
    s->stats.written += lines >= skipped ? lines - skipped : 0;
    s->stats.dropped += skipped;
    if (skipped) {
        s->stats.errors += skipped;
        if (!s->rejecting)
            log_warn("sink %s: destination refused %llu line(s): %s", s->name,
                     (unsigned long long)skipped, err[0] ? err : "rejected");
        s->rejecting = true;
    } else if (rc == 0 && s->rejecting) {
        s->rejecting = false;
        log_info("sink %s: destination accepts lines again", s->name);
    }

    if (rc == 0) {
        if (s->write_failing) {
            s->write_failing = false;
            log_info("sink %s: writing again", s->name);
        }
        unlink_head(s);
        return;
    }
    s->stats.errors++;
    if (s->ops->reconnect) {
        s->down = true;
        s->backoff_ms = CFG_SINK_BACKOFF_MIN_MS;
        s->next_try = now_ms() + s->backoff_ms;
        log_warn("sink %s: connection lost (%s), reconnecting", s->name,
                 err[0] ? err : "write failed");
        return;
    }
    /* A file: nothing to retry, drop the rest of this unit. */
    s->stats.dropped += unit_lines_left(u);
    if (!s->write_failing)
        log_warn("sink %s: write failed (%s), dropping events until it works again", s->name,
                 err[0] ? err : "error");
    s->write_failing = true;
    unlink_head(s);
}

static void *writer_main(void *arg)
{
    struct sink *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->head && !s->stop && !s->reopen_req) {
            s->idle = true;
            pthread_cond_wait(&s->work, &s->mu);
            s->idle = false;
        }
        if (s->head && !s->head->next && !s->stop && !s->reopen_req && !s->down &&
            CFG_SINK_LINGER_US > 0) {
            /* One unit waiting: let a few more join it, so one write (and
             * one wake-up) carries many events.  Producers do not wake a
             * writer that is not waiting. */
            pthread_mutex_unlock(&s->mu);
            struct timespec ts = { 0, CFG_SINK_LINGER_US * 1000L };
            nanosleep(&ts, NULL);
            pthread_mutex_lock(&s->mu);
        }
        if (s->reopen_req) {
            s->reopen_req = false;
            char err[256] = "";
            pthread_mutex_unlock(&s->mu);
            int rc = s->ops->reopen(s->st, err, sizeof(err));
            pthread_mutex_lock(&s->mu);
            if (rc < 0) {
                s->stats.errors++;
                log_warn("sink %s: reopen failed, still writing to the old file: %s", s->name,
                         err);
            }
            continue;
        }
        if (!s->head)
            break;      /* stopping and drained */
        if (s->down)
            reconnect_step(s);
        else
            write_head(s);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- public API ---- */

/* ---- in-process consumer (sink_open_fn) ---- */

struct fn_state {
    sink_line_fn fn;
    void *ctx;
};

static int fn_open(void **st, const char *target, char *err, size_t errlen)
{
    (void)st; (void)target;
    snprintf(err, errlen, "not a destination");   /* only through sink_open_fn() */
    return -1;
}

static int fn_write(void *st, const char *buf, size_t len, size_t *done, uint64_t *skipped,
                    char *err, size_t errlen)
{
    struct fn_state *f = st;
    (void)skipped;
    *done = len;
    if (f->fn(f->ctx, buf, len) < 0) {
        snprintf(err, errlen, "consumer failed");
        return -1;
    }
    return 0;
}

static void fn_close(void *st)
{
    free(st);
}

static const struct sink_ops sink_fn_ops = {
    .scheme = "consumer", .open = fn_open, .write = fn_write, .close = fn_close,
};

static struct sink *sink_new(const char *spec, const struct sink_ops *ops, enum sink_full full,
                             size_t queue_bytes, char *err, size_t errlen);

struct sink *sink_open_fn(const char *name, sink_line_fn fn, void *ctx, size_t queue_bytes,
                          char *err, size_t errlen)
{
    struct fn_state *f = malloc(sizeof(*f));
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    f->fn = fn;
    f->ctx = ctx;
    struct sink *s = sink_new(name, &sink_fn_ops, SINK_BLOCK, queue_bytes, err, errlen);
    if (!s) {
        free(f);
        return NULL;
    }
    s->st = f;
    return s;
}

struct sink *sink_open(const char *spec, enum sink_full full, size_t queue_bytes, char *err,
                       size_t errlen)
{
    const char *target = NULL;
    const struct sink_ops *ops = parse_spec(spec, &target, err, errlen);
    if (!ops)
        return NULL;
    struct sink *s = sink_new(spec, ops, full, queue_bytes, err, errlen);
    if (!s)
        return NULL;
    char terr[512] = "";
    if (ops->open(&s->st, target, terr, sizeof(terr)) < 0) {
        snprintf(err, errlen, "%s: %s", spec, terr);
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->work);
        pthread_cond_destroy(&s->room);
        free(s->name);
        free(s);
        return NULL;
    }
    return s;
}

/* A sink with its queue and locks, not yet opened or started. */
static struct sink *sink_new(const char *spec, const struct sink_ops *ops, enum sink_full full,
                             size_t queue_bytes, char *err, size_t errlen)
{
    struct sink *s = calloc(1, sizeof(*s));
    if (!s || !(s->name = strdup(spec))) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->ops = ops;
    s->full = full;
    s->cap = queue_bytes ? queue_bytes : CFG_SINK_QUEUE_BYTES;
    s->backoff_ms = CFG_SINK_BACKOFF_MIN_MS;

    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->work, &ca);
    pthread_cond_init(&s->room, NULL);
    pthread_condattr_destroy(&ca);

    return s;
}

int sink_start(struct sink *s, char *err, size_t errlen)
{
    if (s->started)
        return 0;
    /* The writer inherits a mask blocking every signal. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    if (!s->batch)
        s->batch = malloc(CFG_SINK_BATCH_BYTES);   /* NULL: one unit per write */
    int rc = pthread_create(&s->thread, NULL, writer_main, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "%s: cannot start writer thread: %s", s->name, strerror(rc));
        return -1;
    }
    s->started = true;
    return 0;
}

/* Wait for room for a unit of ulen bytes (SINK_BLOCK) and reserve it: 0
 * with the lock still held; or drop it, counting its lines (SINK_DROP,
 * queue full): -1 with the lock released.  Lock held on entry. */
static int admit(struct sink *s, uint64_t lines, size_t ulen)
{
    while (s->queued != 0 && (s->queued >= s->cap || ulen > s->cap - s->queued)) {
        if (s->full == SINK_DROP) {
            bool first = !s->dropping;
            if (first) {
                s->dropping = true;
                s->drop_mark = s->stats.dropped;
            }
            s->stats.dropped += lines;
            pthread_mutex_unlock(&s->mu);
            if (first)
                log_warn("sink %s: queue full (%zu bytes), dropping events", s->name, s->cap);
            return -1;
        }
        pthread_cond_wait(&s->room, &s->mu);
    }
    s->queued += ulen;
    return 0;
}

/* Append a filled unit and wake the writer if it waits.  Lock held. */
static void append(struct sink *s, struct unit *u)
{
    if (s->tail)
        s->tail->next = u;
    else
        s->head = u;
    s->tail = u;
    s->seq_in++;
    if (s->idle)   /* otherwise the writer looks at the queue before it waits */
        pthread_cond_signal(&s->work);
}

int sink_write_lines(struct sink *s, const char *buf, size_t len, uint64_t lines)
{
    if (len == 0)
        return 0;
    size_t ulen = len + (buf[len - 1] != '\n');
    if (ulen < len || ulen > SIZE_MAX - sizeof(struct unit))
        return -1;
    if (lines == SINK_LINES_UNKNOWN)
        lines = sink_count_lines(buf, len);
    lines += ulen != len;   /* the '\n' added */

    pthread_mutex_lock(&s->mu);
    if (admit(s, lines, ulen) < 0)
        return -1;
    /* reserved; the copy is made unlocked */
    int cls = unit_class(ulen);
    struct unit *u = NULL;
    if (cls >= 0 && s->pool[cls]) {
        u = s->pool[cls];
        s->pool[cls] = u->next;
        s->n_pool[cls]--;
        s->pool_bytes -= UNIT_CLASS_BYTES(cls);
    }
    pthread_mutex_unlock(&s->mu);

    if (!u && (u = malloc(sizeof(*u) + (cls >= 0 ? UNIT_CLASS_BYTES(cls) : ulen))) != NULL) {
        u->cls = cls >= 0 ? cls : UNIT_EXACT;
        u->data = u->inl;
    }
    if (u) {
        u->next = NULL;
        u->len = ulen;
        u->off = 0;
        u->lines = lines;
        memcpy(u->data, buf, len);
        u->data[ulen - 1] = '\n';
    }

    pthread_mutex_lock(&s->mu);
    if (!u) {
        s->queued -= ulen;
        s->stats.dropped += lines;
        pthread_cond_broadcast(&s->room);
        pthread_mutex_unlock(&s->mu);
        return -1;
    }
    append(s, u);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

int sink_write(struct sink *s, const char *buf, size_t len)
{
    return sink_write_lines(s, buf, len, SINK_LINES_UNKNOWN);
}

int sink_write_take(struct sink *s, char **buf, size_t *cap, size_t len, uint64_t lines)
{
    char *b = *buf;
    size_t bcap = *cap;
    if (len == 0)
        return 0;
    /* Only a buffer at least half full and no larger than the last size
     * class is taken, so a taken unit holds at most twice its bytes, as a
     * pooled one does. */
    if (b[len - 1] != '\n' || len > bcap || bcap > UNIT_TAKE_MAX || len < bcap / 2)
        return sink_write_lines(s, b, len, lines);
    if (lines == SINK_LINES_UNKNOWN)
        lines = sink_count_lines(b, len);

    pthread_mutex_lock(&s->mu);
    if (admit(s, lines, len) < 0)
        return -1;
    struct unit *u = s->spare;
    if (u) {
        s->spare = u->next;
        s->n_spare--;
        s->pool_bytes -= u->dcap;
    } else {
        pthread_mutex_unlock(&s->mu);
        char *nb = malloc(UNIT_TAKE_MAX);
        u = nb ? malloc(sizeof(*u)) : NULL;
        pthread_mutex_lock(&s->mu);
        if (!u) {
            free(nb);
            s->queued -= len;
            pthread_cond_broadcast(&s->room);
            pthread_mutex_unlock(&s->mu);
            return sink_write_lines(s, b, len, lines);   /* a copy, or dropped and counted */
        }
        u->data = nb;
        u->dcap = UNIT_TAKE_MAX;
    }
    *buf = u->data;
    *cap = u->dcap;
    u->data = b;
    u->dcap = bcap;
    u->next = NULL;
    u->len = len;
    u->off = 0;
    u->lines = lines;
    u->cls = UNIT_TAKEN;
    append(s, u);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

void sink_reopen(struct sink *s)
{
    if (!s->ops->reopen)
        return;
    pthread_mutex_lock(&s->mu);
    s->reopen_req = true;
    pthread_cond_signal(&s->work);
    pthread_mutex_unlock(&s->mu);
}

void sink_flush(struct sink *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t target = s->seq_in;
    while (s->seq_out < target)
        pthread_cond_wait(&s->room, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

bool sink_flush_for(struct sink *s, unsigned ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);   /* `room` uses the default clock */
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->mu);
    uint64_t target = s->seq_in;
    while (s->seq_out < target && s->started)
        if (pthread_cond_timedwait(&s->room, &s->mu, &until) != 0)
            break;
    bool done = s->seq_out >= target;
    pthread_mutex_unlock(&s->mu);
    return done;
}

bool sink_reconnects(const struct sink *s)
{
    return s->ops->reconnect != NULL;
}

void sink_get_stats(struct sink *s, struct sink_stats *st)
{
    pthread_mutex_lock(&s->mu);
    *st = s->stats;
    st->queued = s->queued;
    pthread_mutex_unlock(&s->mu);
}

const char *sink_name(const struct sink *s)
{
    return s->name;
}

int sink_close(struct sink *s)
{
    return sink_close_stats(s, NULL);
}

int sink_close_stats(struct sink *s, struct sink_stats *final)
{
    if (!s)
        return 0;
    if (!s->started) {
        char err[256];
        if (sink_start(s, err, sizeof(err)) < 0)   /* to drain what was queued */
            log_error("%s", err);
    }
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    s->stop_deadline = now_ms() + CFG_SINK_CLOSE_WAIT_MS;
    pthread_cond_signal(&s->work);
    pthread_mutex_unlock(&s->mu);
    if (s->started)
        pthread_join(s->thread, NULL);

    s->ops->close(s->st);
    if (final) {
        *final = s->stats;
        final->queued = 0;
    }
    int rc = 0;
    if (s->stats.errors > 0 || (s->full == SINK_BLOCK && s->stats.dropped > 0))
        rc = -1;
    pthread_cond_destroy(&s->room);
    pthread_cond_destroy(&s->work);
    pthread_mutex_destroy(&s->mu);
    while (s->spare) {
        struct unit *u = s->spare;
        s->spare = u->next;
        free(u->data);
        free(u);
    }
    for (int c = 0; c < UNIT_CLASSES; c++)
        while (s->pool[c]) {
            struct unit *u = s->pool[c];
            s->pool[c] = u->next;
            free(u);
        }
    free(s->batch);
    free(s->name);
    free(s);
    return rc;
}
