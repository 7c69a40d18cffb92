/*
 * options.h - what the command line asked for (filled by main.c).
 */
#ifndef PINSCOPE_OPTIONS_H
#define PINSCOPE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "capture/pcap.h"
#include "x509/chain.h"

#define OPT_MAX_INPUTS  256
#define OPT_MAX_OUTPUTS 16

struct options {
    bool learn;                             /* `pinscope learn` */
    bool report;                            /* `pinscope report` */
    bool audit;                             /* `pinscope policy audit` */
    unsigned audit_days;                    /* policy audit --days N */
    const char *event_files[OPT_MAX_INPUTS];    /* report: EVE/ECS files */
    int n_event_files;
    const char *html_path;                  /* report --html FILE */
    int report_format;                      /* report --format: enum report_format */
    size_t report_rows;                     /* report --rows N */
    const char *inputs[OPT_MAX_INPUTS];     /* -r FILE|DIR */
    int n_inputs;
    const char *iface, *filter;
    const char *outputs[OPT_MAX_OUTPUTS];   /* -o SPEC */
    int n_outputs;
    bool want_stats, deterministic;
    unsigned stats_interval;                /* s, 0: none */
    size_t max_flows, memcap;
    unsigned depth;
    struct x509_ctx_config xcfg;
    const char *sigdir, *policy_path;
    const char *dump_dir;                   /* --dump-certs */
    size_t dump_max_files, dump_max_bytes;  /* --dump-certs-max, --dump-certs-max-bytes */
    const char *keylogs[OPT_MAX_INPUTS];
    int n_keylogs;
    int workers;                            /* 0: one per CPU */
    enum capture_fanout fanout;
    size_t buffer_bytes;                    /* live ring per worker */
    size_t queue_bytes;                     /* per sink */
    const char *user, *group, *pidfile;
    const char *sensor_name;                /* events' "host"; NULL: the host name */
    unsigned community_id_seed;             /* 0..65535 */
    const char *geoip_db, *asn_db;          /* --geoip-db, --asn-db: comma-separated files */
    bool format_ecs;                        /* --format ecs */
    bool output_error_drop;                 /* --on-output-error drop (default: exit) */
    int progress;                           /* --progress 1, --no-progress 0, -1: on a tty */
    /* pinscope report: every event line also goes to event_fn (a sink's
     * writer thread calls it); then stdout is not a default output. */
    int (*event_fn)(void *ctx, const char *lines, size_t len);
    void *event_ctx;
};

#endif
