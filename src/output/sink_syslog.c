/*
 * sink_syslog.c - syslog:FACILITY[:SOCKETPATH], one RFC 3164 message per
 * event line on the local syslog socket (default /dev/log).
 *
 * Not syslog(3): openlog() state is process-global and its buffer size
 * and reconnect behaviour are libc's.  Each line becomes one datagram
 *
 *   <PRI>Mmm dd hh:mm:ss pinscope[PID]: LINE
 *
 * with PRI = facility * 8 + 6 (severity info), the local time with the
 * day space-padded and English month names whatever the locale, and LINE
 * without its '\n'.  Facilities: user, daemon, local0..local7.  Empty
 * lines are not sent.  A message too long for the socket (EMSGSIZE) is
 * skipped and counted; other send errors are a lost connection (the
 * syslog daemon restarted) that sink.c reconnects.  Note that daemons
 * impose their own size limits (rsyslog: 8 KiB by default) and may cut
 * longer messages.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "output/sink_impl.h"

#define SYSLOG_DEFAULT_SOCKET "/dev/log"
#define SYSLOG_TAG            "pinscope"
#define SYSLOG_SEV_INFO       6

static const struct {
    const char *name;
    int code;
} facilities[] = {
    {"user", 1},    {"daemon", 3},  {"local0", 16}, {"local1", 17}, {"local2", 18},
    {"local3", 19}, {"local4", 20}, {"local5", 21}, {"local6", 22}, {"local7", 23},
};

struct syslog_sink {
    char *path;
    int fd;
    int pri;
    long pid;
    time_t hdr_time;    /* second the cached header was made for */
    char hdr[64];
    size_t hdr_len;
};

static int syslog_open(void **st, const char *target, char *err, size_t errlen)
{
    const char *colon = strchr(target, ':');
    size_t flen = colon ? (size_t)(colon - target) : strlen(target);
    const char *path = colon ? colon + 1 : SYSLOG_DEFAULT_SOCKET;
    if (flen == 0) {
        snprintf(err, errlen, "missing syslog facility (user, daemon, local0..local7)");
        return -1;
    }
    int code = -1;
    for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
        if (strlen(facilities[i].name) == flen && strncmp(facilities[i].name, target, flen) == 0)
            code = facilities[i].code;
    if (code < 0) {
        snprintf(err, errlen,
                 "unknown syslog facility '%.*s' (user, daemon, local0..local7)", (int)flen,
                 target);
        return -1;
    }
    if (sink_unix_path_ok(path, "syslog", err, errlen) < 0)
        return -1;

    struct syslog_sink *y = calloc(1, sizeof(*y));
    if (!y || !(y->path = strdup(path))) {
        free(y);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    y->pri = code * 8 + SYSLOG_SEV_INFO;
    y->pid = (long)getpid();
    y->hdr_time = (time_t)-1;
    tzset();
    y->fd = sink_unix_connect(SOCK_DGRAM, path, err, errlen);
    if (y->fd < 0) {
        free(y->path);
        free(y);
        return -1;
    }
    *st = y;
    return 0;
}

static void make_header(struct syslog_sink *y)
{
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t now = time(NULL);
    if (now == y->hdr_time)
        return;
    struct tm tm;
    if (!localtime_r(&now, &tm))
        memset(&tm, 0, sizeof(tm));
    int n = snprintf(y->hdr, sizeof(y->hdr), "<%d>%s %2d %02d:%02d:%02d %s[%ld]: ", y->pri,
                     months[tm.tm_mon >= 0 && tm.tm_mon < 12 ? tm.tm_mon : 0], tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, SYSLOG_TAG, y->pid);
    y->hdr_len = n > 0 && (size_t)n < sizeof(y->hdr) ? (size_t)n : strlen(y->hdr);
    y->hdr_time = now;
}

static int syslog_write(void *st, const char *buf, size_t len, size_t *done, uint64_t *skipped,
                        char *err, size_t errlen)
{
    struct syslog_sink *y = st;
    size_t pos = 0;
    *done = 0;
    if (y->fd < 0) {
        snprintf(err, errlen, "not connected");
        return -1;
    }
    while (pos < len) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) : len;
        if (end > pos) {
            make_header(y);
            struct iovec iov[2] = {{.iov_base = y->hdr, .iov_len = y->hdr_len},
                                   {.iov_base = (void *)(buf + pos), .iov_len = end - pos}};
            struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
            ssize_t n;
            do
                n = sendmsg(y->fd, &mh, MSG_NOSIGNAL);
            while (n < 0 && errno == EINTR);
            if (n < 0) {
                if (errno == EMSGSIZE) {
                    (*skipped)++;
                    snprintf(err, errlen, "line of %zu bytes too long for a syslog message",
                             end - pos);
                } else {
                    snprintf(err, errlen, "send to %s: %s", y->path, strerror(errno));
                    return -1;
                }
            }
        }
        pos = nl ? end + 1 : len;
        *done = pos;
    }
    return 0;
}

static int syslog_reconnect(void *st, char *err, size_t errlen)
{
    struct syslog_sink *y = st;
    if (y->fd >= 0)
        close(y->fd);
    y->fd = sink_unix_connect(SOCK_DGRAM, y->path, err, errlen);
    return y->fd < 0 ? -1 : 0;
}

static void syslog_close(void *st)
{
    struct syslog_sink *y = st;
    if (y->fd >= 0)
        close(y->fd);
    free(y->path);
    free(y);
}

const struct sink_ops sink_syslog_ops = {
    .scheme = "syslog",
    .open = syslog_open,
    .write = syslog_write,
    .reopen = NULL,
    .reconnect = syslog_reconnect,
    .close = syslog_close,
};
