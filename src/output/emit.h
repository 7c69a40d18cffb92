/*
 * emit.h - the one place events leave.
 *
 *   finished connection (struct conn_report)
 *     -> detections (the worker's detector)
 *     -> serializer (output/eve.c, into the emitter's buffer)
 *     -> every sink (output/sink.h: bounded queue, writer thread), in
 *        batches of consecutive connections (CFG_EMIT_BATCH_BYTES)
 *
 * One struct emitter per worker; the sinks are shared by all emitters.
 * emit_report() is the pipeline's on_report callback.  The stats event
 * goes through the same path (emit_stats), so a sink sees whole lines
 * only, whatever their source.
 */
#ifndef PINSCOPE_EMIT_H
#define PINSCOPE_EMIT_H

#include <stdbool.h>
#include <stddef.h>

#include "conn/report.h"
#include "output/eve.h"
#include "output/sink.h"
#include "util/stats.h"

struct detect;
struct emitter;

/* An emitter counting into `st` (the worker's stats: tls_events, alerts,
 * events_unwritable) and writing to sinks[0..n) (not owned); `cfg` is
 * copied, its strings are not. */
struct emitter *emitter_new(struct sink *const *sinks, size_t n_sinks,
                            const struct eve_config *cfg, struct stats *st);

/* The capture file now being read, for the events' pcap_filename (the
 * string must stay valid until the next call); NULL: none. */
void emitter_set_pcap_filename(struct emitter *e, const char *path);
void emitter_free(struct emitter *e);

/* --dump-certs: write each distinct certificate of a reported chain as
 * DIR/<sha256>.pem.  A file appears whole (written under a temporary
 * name, then linked into place; an existing one is kept), so several
 * workers and earlier runs share the directory.  Successes and failures
 * are counted (certs_dumped, certs_dump_failed), the first failure is
 * said on stderr.  At most max_files files and max_bytes bytes are
 * written (this emitter's share of the run's caps); beyond, certificates
 * are counted (certs_dump_capped) and said once.  The directory must
 * exist. */
int emitter_set_dump_dir(struct emitter *e, const char *dir, size_t max_files,
                         size_t max_bytes, char *err, size_t errlen);

/* The detector to run (NULL: none); switched by a reload, between two
 * connections. */
void emitter_set_detect(struct emitter *e, struct detect *d);

/* Several workers each walking the same file: called before a TLS 1.2
 * resumption is reported without its origin, to wait until the other
 * workers have reached this point of the input (app/run.c); then the
 * lookup is made again.  NULL (the default): no wait. */
void emitter_set_resume_wait(struct emitter *e, void (*wait)(void *ctx), void *ctx);

/* pipeline_report_fn: detections, events, sinks for one connection. */
void emit_report(void *emitter, const struct conn_report *r);

/* Serialize a stats event and hand it, after the events held, to every
 * sink.  0 or -1. */
int emit_stats(struct emitter *e, const struct eve_stats_in *in);

/* Hand the events held (the batch being built) to every sink now.  The
 * worker calls it wherever events could otherwise wait: no packet ready,
 * a timeout sweep, a stats snapshot, the end of its input (see emit.c for
 * the list and the worst-case delay). */
void emitter_flush(struct emitter *e);

/* false: every connection's events go to the sinks at once, unbatched
 * (an input that can block for long, such as stdin or a pipe); true (the
 * default): batched. */
void emitter_set_batching(struct emitter *e, bool on);

#endif
