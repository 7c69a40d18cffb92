/*
 * test_sink.c - unit tests for output/sink*.c: spec errors, the file sink
 * (append, logrotate-style reopen, torn-line repair), unix-dgram and syslog
 * framing, SINK_DROP against a peer that never reads (drops counted, queue
 * bounded, sink_write never held up) and SINK_BLOCK against a slow reader
 * (nothing lost, order kept).
 *
 * With --cat it is instead the driver of tests/scripts/sink_test.sh:
 *
 *   test_sink --cat [--drop] [--queue BYTES] SPEC...
 *
 * reads stdin lines, writes each line as one unit to every SPEC (SINK_BLOCK
 * unless --drop), closes the sinks and prints one line per sink:
 * "SPEC written=N dropped=N errors=N close=RC".  Exit status 0 when every
 * close returned 0, 1 otherwise, 2 on a bad spec.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "output/sink.h"
#include "testhelp.h"


/* sink_open() + sink_start(), as the program does once privileges are down. */
static struct sink *open_started(const char *spec, enum sink_full full, size_t queue, char *err,
                                 size_t errlen)
{
    struct sink *s = sink_open(spec, full, queue, err, errlen);
    if (s && sink_start(s, err, errlen) < 0) {
        sink_close(s);
        return NULL;
    }
    return s;
}

static char dir[64];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void path_in_dir(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

/* Whole file into a NUL-terminated buffer (NULL if missing). */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    size_t r;
    while (b && (r = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n < 2) {
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (b)
        b[n] = '\0';
    if (len)
        *len = n;
    return b;
}

static void put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* Check that buf holds only lines {"n":K} for K = *next, *next+1, ...,
 * each complete; advance *next.  0 on success. */
static int check_seq(const char *buf, int *next)
{
    const char *p = buf;
    while (*p) {
        int k, used = 0;
        if (sscanf(p, "{\"n\":%d}%n", &k, &used) != 1 || used == 0 || p[used] != '\n' ||
            k != *next)
            return -1;
        (*next)++;
        p += used + 1;
    }
    return 0;
}

/* ---- spec errors ---- */

static void expect_open_error(const char *spec, const char *want)
{
    char err[512] = "";
    struct sink *s = open_started(spec, SINK_BLOCK, 0, err, sizeof(err));
    char descr[1024];
    snprintf(descr, sizeof(descr), "'%s' refused with an error naming '%s' (got '%s')", spec,
             want, err);
    test_cond(descr, s == NULL && strstr(err, want) != NULL);
    if (s)
        sink_close(s);
}

static void test_spec_errors(void)
{
    char longpath[300];
    memset(longpath, 'a', sizeof(longpath));
    memcpy(longpath, "unix-stream:/", 13);
    longpath[sizeof(longpath) - 1] = '\0';

    expect_open_error("", "empty");
    expect_open_error("tcp://127.0.0.1:9", "unknown output scheme 'tcp'");
    expect_open_error("udp:host", "unknown output scheme 'udp'");
    expect_open_error("out\x01.json", "control character");
    expect_open_error("file:", "missing file path");
    expect_open_error("unix-dgram:", "missing unix-dgram socket path");
    expect_open_error("unix-stream:", "missing unix-stream socket path");
    expect_open_error(longpath, "longer than");
    expect_open_error("unix-dgram:/nonexistent/pinscope.sock", "connect");
    expect_open_error("syslog:kern", "unknown syslog facility 'kern'");
    expect_open_error("syslog:local8", "unknown syslog facility 'local8'");
    expect_open_error("syslog:", "missing syslog facility");
    expect_open_error("syslog:local0:", "missing syslog socket path");
    expect_open_error("redis:127.0.0.1:6379/list/k", "bad Redis URI");
    expect_open_error("redis://", "missing host");
    expect_open_error("redis://:6379/list/k", "missing host");
    expect_open_error("redis://h:0/list/k", "port must be 1..65535");
    expect_open_error("redis://h:70000/list/k", "port must be 1..65535");
    expect_open_error("redis://h:12x/list/k", "port must be 1..65535");
    expect_open_error("redis://h:6379/hash/k", "missing /list/KEY or /stream/KEY");
    expect_open_error("redis://h:6379", "missing /list/KEY or /stream/KEY");
    expect_open_error("redis://h:6379/list/", "missing key");
    expect_open_error("redis://[::1/list/k", "unterminated");
    expect_open_error("redis://h$x:1/list/k", "bad character");

    char p[128];
    path_in_dir(p, sizeof(p), "adir");
    mkdir(p, 0755);
    char spec[160];
    snprintf(spec, sizeof(spec), "file:%s", p);
    expect_open_error(spec, "Is a directory");
    snprintf(spec, sizeof(spec), "%s/no/such/dir/out.json", dir);
    expect_open_error(spec, "cannot open");
}

/* ---- file sink ---- */

static void write_n(struct sink *s, int from, int to)
{
    char line[64];
    for (int i = from; i < to; i++) {
        int n = snprintf(line, sizeof(line), "{\"n\":%d}\n", i);
        sink_write(s, line, (size_t)n);
    }
}

static void test_file_rotate(void)
{
    char p[128], rotated[128], err[256] = "";
    path_in_dir(p, sizeof(p), "events.json");
    path_in_dir(rotated, sizeof(rotated), "events.json.1");
    put_file(p, "{\"n\":0}\n");     /* a previous run: appended to, not replaced */

    struct sink *s = open_started(p, SINK_BLOCK, 256, err, sizeof(err));
    test_cond("file sink opens", s != NULL);
    if (!s)
        return;
    test_streq("sink_name is the spec", sink_name(s), p);
    write_n(s, 1, 300);
    test_cond("rename for rotation", rename(p, rotated) == 0);
    write_n(s, 300, 600);   /* still going to the renamed file or the new one */
    sink_reopen(s);
    write_n(s, 600, 1000);
    sink_flush(s);
    struct sink_stats st;
    sink_get_stats(s, &st);
    test_cond("flush: nothing queued", st.queued == 0);
    test_cond("written counts lines", st.written == 999 && st.dropped == 0 && st.errors == 0);
    test_cond("close returns 0", sink_close(s) == 0);

    char *a = slurp(rotated, NULL), *b = slurp(p, NULL);
    test_cond("both files exist", a && b);
    if (a && b) {
        int next = 0;
        test_cond("rotated file: complete lines from the start", check_seq(a, &next) == 0);
        test_cond("rotated file holds at least the lines before the rename", next >= 300);
        test_cond("new file: complete lines, continuing in order",
                  check_seq(b, &next) == 0 && next == 1000);
        test_cond("new file holds the lines written after the reopen",
                  strstr(b, "{\"n\":600}\n") != NULL);
    }
    free(a);
    free(b);

    /* A unit without a final newline gets one; a unit bigger than the
     * queue still goes through; a two-line unit stays together. */
    path_in_dir(p, sizeof(p), "units.json");
    s = open_started(p, SINK_BLOCK, 16, err, sizeof(err));
    test_cond("file: prefix opens", s != NULL);
    if (!s)
        return;
    char big[1000];
    memset(big, 'x', sizeof(big));
    big[0] = '{';
    big[sizeof(big) - 2] = '}';
    big[sizeof(big) - 1] = '\n';
    test_cond("unit larger than the queue is accepted", sink_write(s, big, sizeof(big)) == 0);
    test_cond("unit without newline accepted", sink_write(s, "{\"a\":1}", 7) == 0);
    test_cond("two-line unit accepted", sink_write(s, "{\"b\":1}\n{\"b\":2}\n", 16) == 0);
    test_cond("empty write is a no-op", sink_write(s, "", 0) == 0);
    sink_get_stats(s, &st);
    test_cond("queued bytes bounded by cap + one unit", st.queued <= 16 + sizeof(big));
    test_cond("close", sink_close(s) == 0);
    size_t len = 0;
    char *c = slurp(p, &len);
    test_cond("all units, newline added",
              c && len == sizeof(big) + 8 + 16 &&
                  memcmp(c + sizeof(big), "{\"a\":1}\n{\"b\":1}\n{\"b\":2}\n", 24) == 0);
    free(c);
}

static void test_torn_line(void)
{
    char p[128], err[256] = "";
    const struct {
        const char *before, *after;
    } cases[] = {
        {"{\"n\":1}\n{\"killed\":tr", "{\"n\":1}\n{\"killed\":tr\n{\"n\":2}\n"},
        {"{\"n\":1}\n", "{\"n\":1}\n{\"n\":2}\n"},
        {"", "{\"n\":2}\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(p, sizeof(p), "%s/torn%zu.json", dir, i);
        put_file(p, cases[i].before);
        struct sink *s = open_started(p, SINK_BLOCK, 0, err, sizeof(err));
        test_cond("torn: open", s != NULL);
        if (!s)
            continue;
        sink_write(s, "{\"n\":2}\n", 8);
        sink_close(s);
        char *c = slurp(p, NULL);
        test_streq("torn line repaired only when needed", c, cases[i].after);
        free(c);
    }
}

/* A destination that fails every write: units dropped whole and counted,
 * one warning, close reports the failure. */
static void test_file_failure(void)
{
    char err[256] = "";
    struct sink *s = open_started("file:/dev/full", SINK_BLOCK, 0, err, sizeof(err));
    test_cond("/dev/full opens", s != NULL);
    if (!s)
        return;
    write_n(s, 0, 3);
    test_cond("two-line unit queued", sink_write(s, "{\"n\":3}\n{\"n\":4}\n", 16) == 0);
    sink_flush(s);
    struct sink_stats st;
    sink_get_stats(s, &st);
    test_cond("failed writes: every line dropped and counted",
              st.written == 0 && st.dropped == 5 && st.errors == 4 && st.queued == 0);
    test_cond("close reports the failure", sink_close(s) == -1);
}

/* ---- sockets ---- */

static int listen_unix(const char *path, int type)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    unlink(path);
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        (type == SOCK_STREAM && listen(fd, 16) < 0)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static ssize_t recv_wait(int fd, char *buf, size_t n)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, 3000) != 1)
        return -1;
    return recv(fd, buf, n, 0);
}

static void test_dgram_and_syslog(void)
{
    char p[128], spec[160], err[256] = "", buf[512];
    path_in_dir(p, sizeof(p), "dgram.sock");
    int fd = listen_unix(p, SOCK_DGRAM);
    test_cond("dgram receiver", fd >= 0);
    if (fd < 0)
        return;
    snprintf(spec, sizeof(spec), "unix-dgram:%s", p);
    struct sink *s = open_started(spec, SINK_BLOCK, 0, err, sizeof(err));
    test_cond("unix-dgram opens", s != NULL);
    if (s) {
        sink_write(s, "{\"n\":1}\n\n{\"n\":2}\n", 17);
        sink_close(s);
        ssize_t n = recv_wait(fd, buf, sizeof(buf));
        test_cond("first datagram is the first line, no newline",
                  n == 7 && memcmp(buf, "{\"n\":1}", 7) == 0);
        n = recv_wait(fd, buf, sizeof(buf));
        test_cond("second datagram (empty line skipped)",
                  n == 7 && memcmp(buf, "{\"n\":2}", 7) == 0);
    }
    close(fd);

    path_in_dir(p, sizeof(p), "log.sock");
    fd = listen_unix(p, SOCK_DGRAM);
    test_cond("syslog receiver", fd >= 0);
    if (fd < 0)
        return;
    snprintf(spec, sizeof(spec), "syslog:local3:%s", p);
    s = open_started(spec, SINK_BLOCK, 0, err, sizeof(err));
    test_cond("syslog opens", s != NULL);
    if (s) {
        sink_write(s, "{\"n\":1}\n", 8);
        sink_reopen(s);     /* a no-op for sockets */
        sink_close(s);
        ssize_t n = recv_wait(fd, buf, sizeof(buf) - 1);
        buf[n > 0 ? n : 0] = '\0';
        char tail[64];
        snprintf(tail, sizeof(tail), " pinscope[%ld]: {\"n\":1}", (long)getpid());
        size_t tl = strlen(tail);
        test_cond("syslog PRI local3.info = 158", strncmp(buf, "<158>", 5) == 0);
        test_cond("syslog timestamp Mmm dd hh:mm:ss",
                  n > 21 && buf[8] == ' ' && buf[11] == ' ' && buf[14] == ':' &&
                      buf[17] == ':' && buf[20] == ' ');
        test_cond("syslog tag, pid and line without newline",
                  n > 0 && (size_t)n > tl && strcmp(buf + n - (ssize_t)tl, tail) == 0);
    }
    close(fd);
}

/* A unix-stream server thread: accepts every connection and either never
 * reads (stalled) or reads slowly into a buffer. */
struct server {
    int lfd;
    bool read_slowly;
    atomic_bool stop;
    int conns[32];
    int nconns;
    char *data;
    size_t len, cap;
};

static void *server_main(void *arg)
{
    struct server *sv = arg;
    while (!atomic_load(&sv->stop)) {
        struct pollfd pf[33];
        int n = 0;
        pf[n++] = (struct pollfd){.fd = sv->lfd, .events = POLLIN};
        if (sv->read_slowly)
            for (int i = 0; i < sv->nconns; i++)
                pf[n++] = (struct pollfd){.fd = sv->conns[i], .events = POLLIN};
        if (poll(pf, (nfds_t)n, 50) <= 0)
            continue;
        if ((pf[0].revents & POLLIN) && sv->nconns < 32) {
            int c = accept(sv->lfd, NULL, NULL);
            if (c >= 0)
                sv->conns[sv->nconns++] = c;
        }
        for (int i = 1; i < n; i++) {
            if (!(pf[i].revents & (POLLIN | POLLHUP)))
                continue;
            char buf[512];
            ssize_t r = read(pf[i].fd, buf, sizeof(buf));
            if (r <= 0)
                continue;
            if (sv->len + (size_t)r + 1 > sv->cap) {
                size_t ncap = sv->cap ? sv->cap * 2 : 65536;
                while (ncap < sv->len + (size_t)r + 1)
                    ncap *= 2;
                char *nd = realloc(sv->data, ncap);
                if (!nd)
                    continue;
                sv->data = nd;
                sv->cap = ncap;
            }
            memcpy(sv->data + sv->len, buf, (size_t)r);
            sv->len += (size_t)r;
            sv->data[sv->len] = '\0';
            usleep(50);     /* a slow reader */
        }
    }
    /* Drain what is left so a slow-reader test sees everything. */
    if (sv->read_slowly) {
        for (int i = 0; i < sv->nconns; i++) {
            char buf[4096];
            ssize_t r;
            struct pollfd pf = {.fd = sv->conns[i], .events = POLLIN};
            while (poll(&pf, 1, 0) == 1 && (r = read(sv->conns[i], buf, sizeof(buf))) > 0) {
                char *nd = realloc(sv->data, sv->len + (size_t)r + 1);
                if (!nd)
                    break;
                sv->data = nd;
                memcpy(sv->data + sv->len, buf, (size_t)r);
                sv->len += (size_t)r;
                sv->data[sv->len] = '\0';
            }
        }
    }
    return NULL;
}

static void server_end(struct server *sv, pthread_t th)
{
    atomic_store(&sv->stop, true);
    pthread_join(th, NULL);
    for (int i = 0; i < sv->nconns; i++)
        close(sv->conns[i]);
    close(sv->lfd);
}

static void test_drop_stalled(void)
{
    char p[128], spec[160], err[256] = "";
    path_in_dir(p, sizeof(p), "stall.sock");
    struct server sv = {.lfd = listen_unix(p, SOCK_STREAM)};
    test_cond("stalled server listens", sv.lfd >= 0);
    if (sv.lfd < 0)
        return;
    pthread_t th;
    pthread_create(&th, NULL, server_main, &sv);

    const size_t qcap = 4096;
    snprintf(spec, sizeof(spec), "unix-stream:%s", p);
    struct sink *s = open_started(spec, SINK_DROP, qcap, err, sizeof(err));
    test_cond("unix-stream opens", s != NULL);
    if (!s) {
        server_end(&sv, th);
        return;
    }
    enum { N = 20000 };
    char line[160];
    memset(line, 'p', sizeof(line));
    double worst = 0;
    size_t max_queued = 0;
    int refused = 0;
    for (int i = 0; i < N; i++) {
        int n = snprintf(line, sizeof(line), "{\"n\":%d,\"pad\":\"", i);
        memset(line + n, 'p', 100);
        memcpy(line + n + 100, "\"}\n", 3);
        double t0 = now_s();
        if (sink_write(s, line, (size_t)n + 103) < 0)
            refused++;
        double dt = now_s() - t0;
        if (dt > worst)
            worst = dt;
        if (i % 64 == 0) {
            struct sink_stats st;
            sink_get_stats(s, &st);
            if (st.queued > max_queued)
                max_queued = st.queued;
        }
    }
    struct sink_stats st;
    sink_get_stats(s, &st);
    printf("drop: worst sink_write %.3f ms, max queued %zu, dropped %llu\n", worst * 1e3,
           max_queued, (unsigned long long)st.dropped);
    test_cond("stalled peer: units dropped and counted", refused > 0 && st.dropped >= (uint64_t)refused);
    test_cond("stalled peer: queue stays within queue_bytes", max_queued <= qcap);
    test_cond("stalled peer: sink_write never held up (< 20 ms)", worst < 0.020);

    double t0 = now_s();
    sink_close(s);
    double dt = now_s() - t0;
    test_cond("close with a stalled peer is bounded (< 10 s)", dt < 10.0);
    server_end(&sv, th);
}

struct producer {
    struct sink *s;
    int id, n;
};

static void *producer_main(void *arg)
{
    struct producer *pr = arg;
    char line[64];
    for (int i = 0; i < pr->n; i++) {
        int n = snprintf(line, sizeof(line), "{\"t\":%d,\"n\":%d}\n", pr->id, i);
        if (sink_write(pr->s, line, (size_t)n) < 0)
            break;
    }
    return NULL;
}

static void test_block_slow_reader(void)
{
    char p[128], spec[160], err[256] = "";
    path_in_dir(p, sizeof(p), "slow.sock");
    struct server sv = {.lfd = listen_unix(p, SOCK_STREAM), .read_slowly = true};
    test_cond("slow server listens", sv.lfd >= 0);
    if (sv.lfd < 0)
        return;
    pthread_t th;
    pthread_create(&th, NULL, server_main, &sv);
    snprintf(spec, sizeof(spec), "unix-stream:%s", p);
    struct sink *s = open_started(spec, SINK_BLOCK, 512, err, sizeof(err));
    test_cond("unix-stream (block) opens", s != NULL);
    if (!s) {
        server_end(&sv, th);
        return;
    }
    enum { NP = 2, PER = 5000 };
    struct producer pr[NP];
    pthread_t pt[NP];
    for (int i = 0; i < NP; i++) {
        pr[i] = (struct producer){.s = s, .id = i, .n = PER};
        pthread_create(&pt[i], NULL, producer_main, &pr[i]);
    }
    for (int i = 0; i < NP; i++)
        pthread_join(pt[i], NULL);
    sink_flush(s);
    struct sink_stats st;
    sink_get_stats(s, &st);
    test_cond("block: every line written, none dropped",
              st.written == NP * PER && st.dropped == 0 && st.queued == 0);
    test_cond("block: close returns 0", sink_close(s) == 0);
    usleep(100000);
    server_end(&sv, th);

    int next[NP] = {0}, bad = 0;
    const char *q = sv.data ? sv.data : "";
    while (*q) {
        int t, k, used = 0;
        if (sscanf(q, "{\"t\":%d,\"n\":%d}%n", &t, &k, &used) != 2 || q[used] != '\n' ||
            t < 0 || t >= NP || k != next[t]) {
            bad++;
            break;
        }
        next[t]++;
        q += used + 1;
    }
    test_cond("block: reader got every line of every producer, in order, complete",
              bad == 0 && next[0] == PER && next[1] == PER);
    free(sv.data);
}

/* ---- --cat driver ---- */

static int cat_main(int argc, char **argv)
{
    enum sink_full full = SINK_BLOCK;
    size_t queue = 0;
    int i = 2;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--drop") == 0) {
            full = SINK_DROP;
        } else if (strcmp(argv[i], "--queue") == 0 && i + 1 < argc) {
            char *end;
            unsigned long long v = strtoull(argv[++i], &end, 10);
            if (*end || v == 0) {
                fprintf(stderr, "test_sink: bad --queue\n");
                return 2;
            }
            queue = (size_t)v;
        } else {
            fprintf(stderr, "usage: test_sink --cat [--drop] [--queue BYTES] SPEC...\n");
            return 2;
        }
    }
    int ns = argc - i;
    if (ns <= 0) {
        fprintf(stderr, "usage: test_sink --cat [--drop] [--queue BYTES] SPEC...\n");
        return 2;
    }
    struct sink **sinks = calloc((size_t)ns, sizeof(*sinks));
    if (!sinks)
        return 2;
    for (int k = 0; k < ns; k++) {
        char err[512];
        sinks[k] = open_started(argv[i + k], full, queue, err, sizeof(err));
        if (!sinks[k]) {
            fprintf(stderr, "test_sink: %s\n", err);
            for (int j = 0; j < k; j++)
                sink_close(sinks[j]);
            free(sinks);
            return 2;
        }
    }
    char *line = NULL;
    size_t lcap = 0;
    ssize_t n;
    while ((n = getline(&line, &lcap, stdin)) > 0)
        for (int k = 0; k < ns; k++)
            sink_write(sinks[k], line, (size_t)n);
    free(line);
    int rc = 0;
    for (int k = 0; k < ns; k++) {
        struct sink_stats st;
        sink_flush(sinks[k]);
        sink_get_stats(sinks[k], &st);
        int c = sink_close(sinks[k]);
        /* stats after close are not available: flush first, then report
         * what close may add only through its return code */
        printf("%s written=%llu dropped=%llu errors=%llu close=%d\n", argv[i + k],
               (unsigned long long)st.written, (unsigned long long)st.dropped,
               (unsigned long long)st.errors, c);
        if (c != 0)
            rc = 1;
    }
    free(sinks);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--cat") == 0)
        return cat_main(argc, argv);

    snprintf(dir, sizeof(dir), "/tmp/test_sink.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_spec_errors();
    test_file_rotate();
    test_torn_line();
    test_file_failure();
    test_dgram_and_syslog();
    test_block_slow_reader();
    test_drop_stalled();

    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "test_sink: could not remove %s\n", dir);
    return test_report();
}
