/*
 * sink_impl.h - the transports behind sink.h (internal to src/output/).
 *
 * sink.c owns the queue, the writer thread, backoff, counting and the
 * warnings; a transport only opens, writes, reopens/reconnects and closes.
 * Every operation of one sink runs on that sink's writer thread, except
 * open (in sink_open(), before the thread starts) and close (after it was
 * joined), so a transport keeps no locks.
 *
 * write() gets one or more complete lines ('\n'-terminated).  It returns 0
 * when every line was delivered (or skipped, see below), -1 on failure with
 * a message in err.  *done is always set: the length of the prefix of buf,
 * made of whole lines, that the destination has taken; sink.c resumes the
 * unit there after a reconnect, so a line is neither lost nor sent twice
 * by a retry (a stream peer may see a torn last line on the connection
 * that failed, never on the new one).  A line the destination can never
 * take (a datagram too long, a Redis error reply) is skipped and counted
 * in *skipped; that is not a failure.
 */
#ifndef PINSCOPE_SINK_IMPL_H
#define PINSCOPE_SINK_IMPL_H

#include <stddef.h>
#include <stdint.h>

struct sink_ops {
    const char *scheme;     /* for messages: "file", "unix-dgram", ... */
    /* Parse `target` (the spec without its scheme) and open/connect.
     * 0, or -1 with a message in err. */
    int (*open)(void **st, const char *target, char *err, size_t errlen);
    int (*write)(void *st, const char *buf, size_t len, size_t *done, uint64_t *skipped,
                 char *err, size_t errlen);
    /* File sinks: reopen the path (logrotate), keeping the old file on
     * failure.  NULL for the others. */
    int (*reopen)(void *st, char *err, size_t errlen);
    /* Socket and Redis sinks: drop the connection and make a new one.
     * NULL for files (a failed file write drops its unit). */
    int (*reconnect)(void *st, char *err, size_t errlen);
    void (*close)(void *st);
};

extern const struct sink_ops sink_file_ops;
extern const struct sink_ops sink_unix_dgram_ops;
extern const struct sink_ops sink_unix_stream_ops;
extern const struct sink_ops sink_syslog_ops;
extern const struct sink_ops sink_redis_ops;

/* Helpers shared by the transports (sink.c, sink_unix.c). */

/* Length of the prefix of buf[0..len) that ends with its last '\n'. */
size_t sink_whole_lines(const char *buf, size_t len);

/* Number of '\n' in buf[0..len). */
uint64_t sink_count_lines(const char *buf, size_t len);

/* Connect a new AF_UNIX socket of `type` to `path` with send (and receive)
 * timeouts of CFG_SINK_IO_TIMEOUT_MS.  The fd, or -1 with err set. */
int sink_unix_connect(int type, const char *path, char *err, size_t errlen);

/* Check an AF_UNIX socket path from a spec: non-empty and short enough. */
int sink_unix_path_ok(const char *path, const char *what, char *err, size_t errlen);

#endif
