/*
 * report.h - `pinscope report`: captures or event files -> a verdict per
 * server and client, in the terminal and as one HTML page.
 *
 *   pinscope report [analysis options] -r FILE|DIR ...   analyse, then summarise
 *   pinscope report [options] EVENTS.json ...            EVE or ECS lines that
 *                                                        pinscope wrote ('-': stdin)
 *
 * Captures are analysed exactly as `pinscope -r` does (run_sources); the
 * event lines reach the summary through an in-process sink, the same lines
 * any -o output gets, so a capture and the events written from it give the
 * same summary.
 */
#ifndef PINSCOPE_APP_REPORT_H
#define PINSCOPE_APP_REPORT_H

#include "app/options.h"

/* Exit status: 0, 1 (an input or the HTML file failed). */
int report_run(struct options *o);

#endif
