/*
 * eve.h - JSON events, one line each (Suricata EVE field names).
 *
 * output/ owns the shape of every event: the envelope (timestamp, flow_id,
 * event_type, addresses, proto) and one serializer per event type.  It
 * reads finished records (struct conn_report, struct stats) and never
 * parses packet bytes.  Strings that came off the wire (SNI, ALPN) are made
 * valid UTF-8 before they are written, so every line is valid JSON
 * whatever the packet held.
 *
 * A struct eve belongs to one worker: serializers append complete lines to
 * its buffer, which the caller hands to the sinks and resets.  The buffer
 * may hold several units (one connection's lines each, at most
 * CFG_EVENT_UNIT_MAX bytes a unit; eve_unit_begin() starts the next one),
 * so the emitter batches consecutive connections without a copy.  Nothing
 * here does I/O.
 */
#ifndef PINSCOPE_EVE_H
#define PINSCOPE_EVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conn/report.h"
#include "enrich/geoip.h"
#include "output/sink.h"
#include "policy/detect.h"
#include "util/stats.h"

struct eve;

/* What every event of a run shares.  The strings are not copied: they
 * must outlive the struct eve. */
enum eve_format {
    EVE_FORMAT_EVE = 0,          /* Suricata EVE JSON */
    EVE_FORMAT_ECS,              /* Elastic Common Schema documents (output/ecs.c) */
};

struct eve_config {
    enum eve_format format;
    bool deterministic;          /* no wall-clock values; pcap_filename as a base name */
    uint16_t community_id_seed;
    const char *host;            /* "host": the sensor's name; NULL: omitted */
    const char *in_iface;        /* "in_iface": the live interface; NULL for files */
    const struct geoip_db *geoip;  /* src_geoip/dest_geoip from these databases; NULL: none */
};

struct eve *eve_new(const struct eve_config *cfg);
void eve_free(struct eve *e);

/* The capture file being read ("pcap_filename"); NULL: none (live).  The
 * string must stay valid until the next call. */
void eve_set_pcap_filename(struct eve *e, const char *path);

/* Append one tls event / one alert event (same envelope as its tls
 * event).  0, or -1 when the line could not be built (nothing appended). */
int eve_tls(struct eve *e, const struct conn_report *r);
int eve_alert(struct eve *e, const struct conn_report *r, const struct detect_alert *a);

/* What a stats event reports. */
struct eve_stats_in {
    const struct stats *total;
    const struct stats *workers;     /* per worker, listed when n_workers > 1 */
    size_t n_workers;
    const struct sink_stats *sinks;
    const char *const *sink_names;
    size_t n_sinks;
    uint64_t last_ts_us;             /* the event's timestamp */
    double elapsed_s;                /* omitted with --deterministic */
    uint64_t uptime_s;               /* live: seconds since start (0: omitted) */
    bool final;                      /* the last stats event of the run */
    bool degraded;                   /* events are being lost: a failing output, or
                                        a worker evicting under memory pressure */
    const char *degraded_reason;     /* why, when degraded */
    bool one_worker;                 /* the counters are worker `worker`'s alone */
    unsigned worker;
};
int eve_stats(struct eve *e, const struct eve_stats_in *in);

/* The lines appended since the last reset (every unit begun since). */
const char *eve_unit(const struct eve *e, size_t *len);
/* The lines (events) in that batch. */
size_t eve_unit_lines(const struct eve *e);
/* The lines appended from now on form a new unit: the per-unit cap
 * (CFG_EVENT_UNIT_MAX) counts from here. */
void eve_unit_begin(struct eve *e);
/* Exchange the buffer for *buf (malloc'd, capacity *cap; NULL: none yet):
 * *buf and *cap then hold the old one and its lines (eve_unit()'s), and
 * the eve writes into the new one from its start.  For a sink that takes
 * the buffer itself (sink_write_take()). */
void eve_unit_exchange(struct eve *e, char **buf, size_t *cap);
/* Empty the buffer. */
void eve_unit_reset(struct eve *e);

/* The text summary on stderr at exit; `unwritten`: event lines the worst
 * output lost (0: every line reached every output). */
void event_print_summary(FILE *fp, const struct stats *st, double elapsed_s, uint64_t unwritten);

/* ISO 8601 UTC with microseconds, Suricata style: 2026-11-25T19:18:42.123456+0000 */
void event_format_ts(uint64_t ts_us, char buf[40]);

#endif
