/*
 * emit.c - detections, serializers, sinks (see emit.h).
 *
 * Batching: each connection's lines (its unit) are rendered straight
 * after the units before it in the struct eve's buffer, and the whole
 * batch goes to every sink as one unit (one queue lock, at most one
 * wake-up of the writer; no copy for the last sink, which takes the
 * buffer) once it holds CFG_EMIT_BATCH_BYTES, or at a flush point
 * (emitter_flush()).  Order is kept: one worker's batches
 * leave in the order they were built, a connection's alerts follow its tls
 * event within the same batch.  A sink that drops (SINK_DROP, queue full)
 * drops the batch whole and counts each of its lines.
 *
 * The worker calls emitter_flush() wherever events could otherwise wait
 * (app/run.c): before it waits for packets (a live handle is non-blocking:
 * no packet ready means flush, then poll; a file worker before blocking
 * on its queue), at explicit flow-timeout sweeps and flushes, when the
 * control loop asks (a tick every CFG_EMIT_FLUSH_MS, seen after the next
 * packet; a stats snapshot; before a SIGHUP reopen), at the end of its
 * input, and here before a stats event and before waiting on other
 * workers.  So on a live sensor an event is queued to its sinks at most
 * CFG_EMIT_FLUSH_MS (100 ms) plus one packet's processing after it was
 * rendered: at once when the traffic pauses, at the next tick while it
 * flows.  An input that can block in read() (stdin, a pipe) is not batched
 * at all (emitter_set_batching()); regular files never wait.
 */
#include "output/emit.h"

#include <errno.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "flow/id.h"
#include "output/fmt.h"
#include "policy/detect.h"
#include "util/log.h"

struct emitter {
    struct sink *const *sinks;
    size_t n_sinks;
    struct eve *eve;
    struct detect *det;
    struct stats *st;
    char *dump_dir;
    uint8_t (*dumped)[32];     /* CFG_DUMP_SEEN slots, direct-mapped: written already */
    size_t dump_files_left, dump_bytes_left;   /* this worker's share of the caps */
    void (*resume_wait)(void *ctx);
    void *resume_wait_ctx;
    bool unbatched;            /* every unit goes to the sinks at once */
};

void emitter_set_resume_wait(struct emitter *e, void (*wait)(void *ctx), void *ctx)
{
    e->resume_wait = wait;
    e->resume_wait_ctx = ctx;
}

struct emitter *emitter_new(struct sink *const *sinks, size_t n_sinks,
                            const struct eve_config *cfg, struct stats *st)
{
    struct emitter *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->sinks = sinks;
    e->n_sinks = n_sinks;
    e->st = st;
    e->eve = eve_new(cfg);
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
    emitter_flush(e);   /* the callers flush at their end; nothing is lost if not */
    eve_free(e->eve);
    free(e->dump_dir);
    free(e->dumped);
    free(e);
}

void emitter_set_pcap_filename(struct emitter *e, const char *path)
{
    eve_set_pcap_filename(e->eve, path);
}

int emitter_set_dump_dir(struct emitter *e, const char *dir, size_t max_files,
                         size_t max_bytes, char *err, size_t errlen)
{
    e->dump_files_left = max_files;
    e->dump_bytes_left = max_bytes;
    struct stat sb;
    if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "--dump-certs: %s is not a directory", dir);
        return -1;
    }
    e->dump_dir = strdup(dir);
    e->dumped = calloc(CFG_DUMP_SEEN, sizeof(*e->dumped));
    if (!e->dump_dir || !e->dumped) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* One certificate as DIR/<sha256>.pem, whole or not at all. */
static void dump_cert(struct emitter *e, const struct x509_entry *x)
{
    uint8_t *slot = e->dumped[(((size_t)x->sha256[0] << 8) | x->sha256[1]) % CFG_DUMP_SEEN];
    if (memcmp(slot, x->sha256, 32) == 0)
        return;   /* written (or found) already by this worker */
    char hex[65], path[4096], tmp[4200];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", x->sha256[i]);
    snprintf(path, sizeof(path), "%s/%s.pem", e->dump_dir, hex);
    snprintf(tmp, sizeof(tmp), "%s/.%s.%ld.tmp", e->dump_dir, hex, (long)gettid());
    bool ok = access(path, F_OK) == 0;   /* an earlier run or another worker */
    if (!ok) {
        /* PEM: base64 lines of 64 characters and two armour lines. */
        size_t pem = (x->der_len + 2) / 3 * 4 + (x->der_len / 48 + 1) + 60;
        if (e->dump_files_left == 0 || pem > e->dump_bytes_left) {
            if (e->st->certs_dump_capped++ == 0)
                log_warn("--dump-certs: this run's cap is reached (--dump-certs-max, "
                         "--dump-certs-max-bytes): certificates are no longer written "
                         "(counted as certs_dump_capped)");
            return;
        }
        errno = 0;
        FILE *f = fopen(tmp, "w");
        ok = f && PEM_write_X509(f, x->x509) == 1;
        if (f && fclose(f) != 0)
            ok = false;
        if (ok && link(tmp, path) < 0 && errno != EEXIST)
            ok = false;
        if (f)
            unlink(tmp);
        if (ok) {
            e->st->certs_dumped++;
            e->dump_files_left--;
            e->dump_bytes_left -= pem;
        } else {
            if (e->st->certs_dump_failed++ == 0)
                log_warn("--dump-certs: cannot write %s: %s (counted from now on)", path,
                         strerror(errno ? errno : EIO));
            return;
        }
    }
    memcpy(slot, x->sha256, 32);
}

static void dump_chain(struct emitter *e, const struct x509_chain *c)
{
    for (size_t i = 0; c && i < c->n; i++)
        dump_cert(e, c->e[i]);
}

void emitter_set_detect(struct emitter *e, struct detect *d)
{
    e->det = d;
}

void emitter_set_batching(struct emitter *e, bool on)
{
    if (!on)
        emitter_flush(e);
    e->unbatched = !on;
}

/* The units built so far go to every sink as one unit, whole: a copy for
 * each sink but the last, which takes the buffer itself and gives back
 * one of its spare ones to render the next batch into. */
void emitter_flush(struct emitter *e)
{
    size_t len;
    const char *buf = eve_unit(e->eve, &len);
    if (len == 0)
        return;
    if (e->n_sinks == 0) {
        eve_unit_reset(e->eve);
        return;
    }
    uint64_t lines = eve_unit_lines(e->eve);
    for (size_t i = 0; i + 1 < e->n_sinks; i++)
        sink_write_lines(e->sinks[i], buf, len, lines);
    char *b = NULL;
    size_t cap = 0;
    eve_unit_exchange(e->eve, &b, &cap);
    sink_write_take(e->sinks[e->n_sinks - 1], &b, &cap, len, lines);
    eve_unit_exchange(e->eve, &b, &cap);   /* the spare, or the same buffer back */
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
        char ja4ts[JA4T_STR_MAX], ttl[4];
        bool synack = ja4t_server_stack(r->tcp, ja4ts, ttl);
        struct conn_keyless kl;
        char hrr_buf[8];
        conn_report_keyless(r, &kl);
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
            .client_closed_first = r->closed_by >= 0 && r->closed_by == r->client_side,
            .ech_offered = ch && ch->ech.present && !ch->ech.bad && ch->ech.type == 0,
            .ja4ts = synack ? ja4ts : NULL,
            .server_ttl = synack ? ttl : NULL,
            .has_flight_bytes = kl.has_flight,
            .flight_bytes = kl.flight_bytes,
            .has_hello_delay = kl.has_delay,
            .hello_delay_us = kl.delay_us,
            .hello_retry = fmt_hello_retry(&kl, hrr_buf),
        };
        n_alerts = detect_run(e->det, &dc, alerts, DETECT_MAX_ALERTS);
        struct detect_resumed res;
        size_t n_run = n_alerts;
        n_alerts = detect_resumption(e->det, &dc, alerts, n_run, DETECT_MAX_ALERTS, &res);
        if (res.unlinked && e->resume_wait) {
            emitter_flush(e);   /* nothing waits while this worker does */
            e->resume_wait(e->resume_wait_ctx);
            n_alerts = detect_resumption(e->det, &dc, alerts, n_run, DETECT_MAX_ALERTS, &res);
        }
        rep.resumed_from = res.from;
        rep.resumed_with = res.with;
        if (res.from)
            e->st->tls_resumed_linked++;
        if (res.unlinked)
            e->st->tls_resumed_unlinked++;
        if (res.evicted)
            stats_cap(e->st, STATS_TLS_RESUME_EVICTED);
        rep.client_app = detect_client_app(e->det, &dc);
        rep.interception_product = detect_interception_product(e->det, &dc);
    }
    eve_unit_begin(e->eve);
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
    size_t held;
    eve_unit(e->eve, &held);
    if (held >= CFG_EMIT_BATCH_BYTES || e->unbatched)
        emitter_flush(e);
    if (e->dump_dir) {
        dump_chain(e, r->chain);
        dump_chain(e, r->client_chain);
    }
}

int emit_stats(struct emitter *e, const struct eve_stats_in *in)
{
    eve_unit_begin(e->eve);
    int rc = eve_stats(e->eve, in);   /* after the events held, in order */
    emitter_flush(e);
    return rc;
}
