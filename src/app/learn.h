/*
 * learn.h - `pinscope learn`: trusted captures -> a policy file.
 *
 * Runs the captures through one worker whose consumer records each
 * finished connection into a new policy (pins, issuers, client and server
 * baselines), then merges it into the policy given (--policy) or the one
 * already at -o, and writes the result atomically (temporary file,
 * rename).
 */
#ifndef PINSCOPE_LEARN_H
#define PINSCOPE_LEARN_H

#include "app/options.h"
#include "conn/report.h"

struct policy;

/* pipeline_report_fn: one connection into the policy `ctx`. */
void learn_report(void *ctx, const struct conn_report *r);

/* Write `pol` to `path` through a temporary file renamed into place (also
 * `policy import`).  0, or -1 after log_error(). */
int learn_write_policy(const struct policy *pol, const char *path);

/* Exit status 0/1. */
int learn_run(const struct options *opt);

#endif
