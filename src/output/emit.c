/*
 * emit.c - detections, serializers, sinks (see emit.h).
 */
#include "output/emit.h"

#include <stdlib.h>

#include "flow/id.h"
#include "policy/detect.h"

struct emitter {
    struct sink *const *sinks;
    size_t n_sinks;
    struct eve *eve;
    struct detect *det;
    struct stats *st;
};

struct emitter *emitter_new(struct sink *const *sinks, size_t n_sinks, bool deterministic,
                            struct stats *st)
{
    struct emitter *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->sinks = sinks;
    e->n_sinks = n_sinks;
    e->st = st;
    e->eve = eve_new(deterministic);
    if (!e->eve) {
        free(e);
        return NULL;
    }
    return e;
}

void emitter_free(struct emitter *e)
{
    if (!e)
        return;
    eve_free(e->eve);
    free(e);
}

void emitter_set_detect(struct emitter *e, struct detect *d)
{
    e->det = d;
}

/* The unit built so far goes to every sink, whole. */
static void send_unit(struct emitter *e)
{
    size_t len;
    const char *buf = eve_unit(e->eve, &len);
    if (len > 0)
        for (size_t i = 0; i < e->n_sinks; i++)
            sink_write(e->sinks[i], buf, len);
    eve_unit_reset(e->eve);
}

void emit_report(void *ctx, const struct conn_report *r)
{
    struct emitter *e = ctx;
    struct conn_report rep = *r;   /* the detector fills the verdict fields */
    struct detect_alert alerts[DETECT_MAX_ALERTS];
    size_t n_alerts = 0;
    if (e->det) {
        struct conn_names nm;
        conn_report_names(r, &nm);
        const struct ev_client_hello *ch = r->ch[0];
        const struct ev_server_hello *sh0 = r->sh[0];
        struct detect_conn dc = {
            .flow_id = flow_id(r->flow),
            .ts_us = r->flow->first_ts_us,
            .ip_ver = r->flow->key.ip_ver,
            .client_ip = conn_report_client_ip(r),
            .server_ip = conn_report_server_ip(r),
            .client_port = r->flow->key.port[r->client_side],
            .server_port = r->flow->key.port[r->client_side ^ 1],
            .sni = nm.sni,
            .ja4 = ch ? ch->ja4 : NULL,
            .ja3 = ch ? ch->ja3_hash : NULL,
            .ja4s = sh0 ? sh0->ja4s : NULL,
            .ja3s = sh0 ? sh0->ja3s_hash : NULL,
            .alpn_client = nm.alpn_client,
            .alpn_server = nm.alpn_server,
            .tls = r->tls,
            .chain = r->chain,
        };
        n_alerts = detect_run(e->det, &dc, alerts, DETECT_MAX_ALERTS);
        rep.client_app = detect_client_app(e->det, &dc);
        rep.interception_product = detect_interception_product(e->det, &dc);
    }
    if (eve_tls(e->eve, &rep) == 0)
        e->st->tls_events++;
    else
        e->st->events_unwritable++;
    for (size_t i = 0; i < n_alerts; i++) {
        if (eve_alert(e->eve, &rep, &alerts[i]) == 0)
            e->st->alerts++;
        else
            e->st->events_unwritable++;
    }
    send_unit(e);
}

int emit_stats(struct emitter *e, const struct eve_stats_in *in)
{
    int rc = eve_stats(e->eve, in);
    send_unit(e);
    return rc;
}
