/*
 * sink.h - where event lines go.
 *
 * A sink is one destination named by a spec on the command line (-o,
 * repeatable):
 *
 *   PATH or file:PATH              append to a file ("-": stdout); reopened
 *                                  on sink_reopen() (SIGHUP, logrotate)
 *   unix-dgram:PATH                one datagram per event line
 *   unix-stream:PATH               lines on a stream socket
 *   syslog:FACILITY[:SOCKET]       one RFC 3164 message per line to the local
 *                                  syslog socket (default /dev/log)
 *   redis://HOST:PORT/list/KEY     RPUSH KEY line
 *   redis://HOST:PORT/stream/KEY   XADD KEY * event line
 *
 * Every sink has its own writer thread and a bounded queue (queue_bytes).
 * sink_write() never does I/O: it copies the bytes into the queue and
 * returns.  When the queue is full, a SINK_BLOCK sink waits for room (file
 * analysis: nothing is lost, the reader slows down), a SINK_DROP sink drops
 * the whole unit and counts it (live capture: the packet path is never
 * held up by a slow or dead destination).  A unit passed to sink_write() is
 * one or more complete lines; it is written whole or dropped whole, never
 * in part.  Socket and Redis sinks reconnect with backoff (100 ms doubling
 * to 5 s); each state change (lost, reconnected, dropping, draining) is one
 * warning line on stderr, not one per event.
 *
 * Thread safety: sink_write(), sink_reopen(), sink_get_stats() may be
 * called from any thread.  sink_open()/sink_close() from one thread.
 */
#ifndef PINSCOPE_SINK_H
#define PINSCOPE_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sink_full { SINK_BLOCK, SINK_DROP };

struct sink_stats {
    uint64_t written;   /* lines delivered */
    uint64_t dropped;   /* lines dropped (queue full or destination down) */
    uint64_t errors;    /* failed writes / connection losses */
    uint64_t queued;    /* bytes waiting now */
};

struct sink;

/* Open the sink of `spec`.  Files and sockets are opened (connected)
 * here so a bad spec fails at start-up with a message in `err`; a socket
 * or Redis that is down at start is an error too.  NULL on failure.
 * No thread is started yet: the sensor opens its outputs as root, drops
 * privileges while it is still single-threaded, then starts the writers. */
struct sink *sink_open(const char *spec, enum sink_full full, size_t queue_bytes,
                       char *err, size_t errlen);

/* A sink whose writer thread hands each batch of whole lines to `fn`
 * (pinscope report reads its own events this way).  It blocks when full,
 * like a file sink; fn returning -1 drops the batch (counted as an error).
 * `name` is for messages and stats. */
typedef int (*sink_line_fn)(void *ctx, const char *lines, size_t len);
struct sink *sink_open_fn(const char *name, sink_line_fn fn, void *ctx, size_t queue_bytes,
                          char *err, size_t errlen);

/* Start the writer thread.  0, or -1 with a reason in err.  (sink_close()
 * of a sink never started starts it to drain, then stops it.) */
int sink_start(struct sink *s, char *err, size_t errlen);

/* Queue `len` bytes of complete lines.  0 when queued, -1 when dropped
 * (counted) or after the sink failed for good. */
int sink_write(struct sink *s, const char *buf, size_t len);

/* The same when the caller knows how many lines ('\n's) buf holds: the
 * sink counts written and dropped events without reading the bytes again
 * (SINK_LINES_UNKNOWN: it counts them, as sink_write() does). */
#define SINK_LINES_UNKNOWN UINT64_MAX
int sink_write_lines(struct sink *s, const char *buf, size_t len, uint64_t lines);

/* The same without a copy: the sink takes the malloc'd buffer *buf
 * (capacity *cap, holding `len` bytes of complete lines ending in '\n')
 * as the unit, and leaves in *buf and *cap a spare buffer of its own (that
 * of a unit delivered earlier, or a new one) for the caller to fill next.
 * A buffer that is larger than 128 KiB, less than half full or not ending
 * in '\n' is copied as by sink_write() and stays the caller's, as it does
 * when the unit is dropped.  `lines` as for sink_write_lines().  0 when
 * queued, -1 when dropped (counted). */
int sink_write_take(struct sink *s, char **buf, size_t *cap, size_t len, uint64_t lines);

/* Ask the writer to reopen a file sink (a no-op for the others) before
 * the next write.  Async-signal-unsafe: call from a normal thread. */
void sink_reopen(struct sink *s);

/* Wait until everything queued so far has been handed to the destination. */
void sink_flush(struct sink *s);
/* The same for at most `ms` milliseconds (a destination may be down);
 * true when everything was handed over. */
bool sink_flush_for(struct sink *s, unsigned ms);

void sink_get_stats(struct sink *s, struct sink_stats *st);

/* True for sinks that reconnect when their destination goes away
 * (sockets, syslog, Redis), false for files and stdout. */
bool sink_reconnects(const struct sink *s);

/* The spec as given, for messages and the stats event. */
const char *sink_name(const struct sink *s);

/* Drain the queue, stop the writer, close.  0, or -1 if any write failed
 * (file sinks: a short write, ENOSPC...) or lines were dropped on a
 * SINK_BLOCK sink. */
int sink_close(struct sink *s);
/* The same, leaving the sink's final counts (after the drain) in *final. */
int sink_close_stats(struct sink *s, struct sink_stats *final);

#endif
