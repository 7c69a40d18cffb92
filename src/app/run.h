/*
 * run.h - analysing captures and running the sensor.
 *
 * run_analyse() is `pinscope -r ...` and `pinscope -i IFACE`: it opens the
 * sources and the sinks, drops privileges (-Z), starts the workers and
 * then handles signals until the input ends or it is told to stop:
 *
 *   SIGHUP          reopen file sinks; reload policy, signatures, trust store
 *   SIGTERM/SIGINT  stop reading, report every open connection, final stats
 *   SIGUSR1         a stats event now
 *
 * Workers (--workers N): live, one libpcap handle each in one PACKET_FANOUT
 * group; files, one reader thread hands packets to the workers by a
 * symmetric flow hash through bounded queues (app/dispatch.c).  Each worker
 * owns a pipeline, an emitter, a detector and certificate caches; they
 * share the engine (read-only generations), the two-leg memory and the
 * sinks.
 *
 * learn_run() (app/learn.c) uses the same sources with one worker whose
 * consumer is the policy being learned.
 */
#ifndef PINSCOPE_RUN_H
#define PINSCOPE_RUN_H

#include "app/options.h"
#include "conn/report.h"
#include "pipeline.h"

/* Exit status: 0, 1 (input/output failure). */
int run_analyse(const struct options *opt);

/* The shared driver: `consumer`/`ctx` replace the emitter when not NULL
 * (learn); then there is exactly one worker and no sinks. */
int run_sources(const struct options *opt, pipeline_report_fn consumer, void *ctx);

#endif
