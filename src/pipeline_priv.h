/*
 * pipeline_priv.h - the pipeline's state, shared by its own files only:
 * pipeline.c (packets in, decode, dispatch, time), pipeline_tcp.c and
 * pipeline_udp.c (one transport each).  The transports use the tracker
 * and conn/; neither calls back into pipeline.c.
 */
#ifndef PINSCOPE_PIPELINE_PRIV_H
#define PINSCOPE_PIPELINE_PRIV_H

#include "pipeline.h"

#include "conn/conn.h"
#include "decode/decode.h"
#include "reasm/frag.h"
#include "tracker.h"
#include "util/memcap.h"

struct pipeline {
    struct pipeline_config cfg;
    struct tracker tr;
    struct memcap mc;
    struct frag_table *frag;
    struct stats frag_st;     /* its counters when another worker counts fragments */
    struct stats st;
    struct expiry_clock clock;   /* of the current input: pipeline_flush() restarts it */
    uint64_t ts_before_us;       /* the latest packet time of the inputs before it */
    struct conn_env env;      /* last: its scratch buffers are large */
};

/* pipeline_tcp.c */
void pl_handle_tcp(struct pipeline *pl, const struct pkt *p);

/* pipeline_udp.c */
void pl_handle_udp(struct pipeline *pl, const struct pkt *p);

#endif
