/*
 * sink_unix.c - AF_UNIX transports: unix-dgram:PATH and unix-stream:PATH.
 *
 * unix-dgram sends one datagram per event line, without the '\n', on a
 * socket connected to PATH (no client address is bound, so the receiver
 * sees an unnamed peer).  Empty lines are not sent.  A line the kernel
 * refuses as too long (EMSGSIZE) is skipped and counted; any other error
 * (ECONNREFUSED: the receiver went away, a send stalled for
 * CFG_SINK_IO_TIMEOUT_MS...) is a lost connection for sink.c to reconnect.
 *
 * unix-stream sends the lines as they are.  EPIPE, ECONNRESET or a stalled
 * send is a lost connection; the unit resumes on the new connection at the
 * first line the old one did not take whole (the old connection may have
 * got a torn last line: a reader should drop an unterminated line at EOF).
 *
 * All sends use MSG_NOSIGNAL: a vanished peer never raises SIGPIPE.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "output/sink_impl.h"

int sink_unix_path_ok(const char *path, const char *what, char *err, size_t errlen)
{
    struct sockaddr_un sa;
    if (path[0] == '\0') {
        snprintf(err, errlen, "missing %s socket path", what);
        return -1;
    }
    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "%s socket path longer than %zu bytes", what,
                 sizeof(sa.sun_path) - 1);
        return -1;
    }
    return 0;
}

int sink_unix_connect(int type, const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);    /* checked by sink_unix_path_ok */

    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    struct timeval tv = {.tv_sec = CFG_SINK_IO_TIMEOUT_MS / 1000,
                         .tv_usec = (CFG_SINK_IO_TIMEOUT_MS % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    int rc;
    do
        rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        snprintf(err, errlen, "connect %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

struct unix_sink {
    char *path;
    int type;
    int fd;
};

static int unix_open(void **st, const char *target, int type, char *err, size_t errlen)
{
    const char *what = type == SOCK_DGRAM ? "unix-dgram" : "unix-stream";
    if (sink_unix_path_ok(target, what, err, errlen) < 0)
        return -1;
    struct unix_sink *u = calloc(1, sizeof(*u));
    if (!u || !(u->path = strdup(target))) {
        free(u);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    u->type = type;
    u->fd = sink_unix_connect(type, target, err, errlen);
    if (u->fd < 0) {
        free(u->path);
        free(u);
        return -1;
    }
    *st = u;
    return 0;
}

static int dgram_open(void **st, const char *target, char *err, size_t errlen)
{
    return unix_open(st, target, SOCK_DGRAM, err, errlen);
}

static int stream_open(void **st, const char *target, char *err, size_t errlen)
{
    return unix_open(st, target, SOCK_STREAM, err, errlen);
}

static int unix_reconnect(void *st, char *err, size_t errlen)
{
    struct unix_sink *u = st;
    if (u->fd >= 0)
        close(u->fd);
    u->fd = sink_unix_connect(u->type, u->path, err, errlen);
    return u->fd < 0 ? -1 : 0;
}

static int dgram_write(void *st, const char *buf, size_t len, size_t *done, uint64_t *skipped,
                       char *err, size_t errlen)
{
    struct unix_sink *u = st;
    size_t pos = 0;
    *done = 0;
    if (u->fd < 0) {
        snprintf(err, errlen, "not connected");
        return -1;
    }
    while (pos < len) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) : len;
        if (end > pos) {
            ssize_t n;
            do
                n = send(u->fd, buf + pos, end - pos, MSG_NOSIGNAL);
            while (n < 0 && errno == EINTR);
            if (n < 0) {
                if (errno == EMSGSIZE) {
                    (*skipped)++;
                    snprintf(err, errlen, "line of %zu bytes too long for a datagram",
                             end - pos);
                } else {
                    snprintf(err, errlen, "send: %s", strerror(errno));
                    return -1;
                }
            }
        }
        pos = nl ? end + 1 : len;
        *done = pos;
    }
    return 0;
}

static int stream_write(void *st, const char *buf, size_t len, size_t *done,
                        uint64_t *skipped, char *err, size_t errlen)
{
    struct unix_sink *u = st;
    size_t put = 0;
    *done = 0;
    if (u->fd < 0) {
        snprintf(err, errlen, "not connected");
        return -1;
    }
    while (put < len) {
        ssize_t n = send(u->fd, buf + put, len - put, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            snprintf(err, errlen, "send: %s",
                     errno == EAGAIN || errno == EWOULDBLOCK ? "peer stalled" : strerror(errno));
            *done = sink_whole_lines(buf, put);
            return -1;
        }
        put += (size_t)n;
    }
    *done = len;
    return 0;
}

static void unix_close(void *st)
{
    struct unix_sink *u = st;
    if (u->fd >= 0)
        close(u->fd);
    free(u->path);
    free(u);
}

const struct sink_ops sink_unix_dgram_ops = {
    .scheme = "unix-dgram",
    .open = dgram_open,
    .write = dgram_write,
    .reopen = NULL,
    .reconnect = unix_reconnect,
    .close = unix_close,
};

const struct sink_ops sink_unix_stream_ops = {
    .scheme = "unix-stream",
    .open = stream_open,
    .write = stream_write,
    .reopen = NULL,
    .reconnect = unix_reconnect,
    .close = unix_close,
};
