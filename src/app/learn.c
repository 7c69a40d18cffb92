/*
 * learn.c - `pinscope learn` (see learn.h).
 */
#include "app/learn.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/run.h"
#include "output/fmt.h"
#include "policy/policy.h"
#include "tls/session.h"
#include "util/log.h"

void learn_report(void *ctx, const struct conn_report *r)
{
    struct policy *p = ctx;
    const struct flow *f = r->flow;
    const struct ev_client_hello *ch = r->ch[0];
    int64_t when = (int64_t)(f->first_ts_us / 1000000);
    struct conn_names nm;
    conn_report_names(r, &nm);
    char vb[24], cvb[24];
    const char *version = r->tls->version ? tls_version_name(r->tls->version, vb) : NULL;
    const struct x509_chain *chain = r->chain;

    if (nm.sni && chain && chain->n > 0) {
        for (size_t i = 0; i < chain->n; i++)
            policy_learn_pin(p, nm.sni, chain->e[i]->info.spki_sha256_raw, when);
        const struct x509_cert *leaf = &chain->e[0]->info;
        const uint8_t *issuer_spki = chain->n > 1 && chain->linked ? chain->e[1]->info.spki_sha256_raw
                                                                   : NULL;
        policy_learn_issuer(p, nm.sni, leaf->issuer.dn, issuer_spki, when);
    }
    if (ch)
        policy_learn_client(p, conn_report_client_ip(r), f->key.ip_ver, ch->ja4, ch->ja3_hash,
                            r->tls->client_version ? tls_version_name(r->tls->client_version, cvb)
                                                   : NULL,
                            nm.alpn_client, when);
    if (r->sh[0])
        policy_learn_server(p, nm.sni, conn_report_server_ip(r), f->key.ip_ver, r->sh[0]->ja4s,
                            r->sh[0]->ja3s_hash, version, nm.alpn_server, when);
    /* The TCP stack that answered: JA4TS and the SYN-ACK's TTL, which
     * hold without session keys (a device in line answers with its own). */
    char ja4ts[JA4T_STR_MAX], ttl[4];
    if (r->sh[0] && ja4t_server_stack(r->tcp, ja4ts, ttl))
        policy_learn_server_stack(p, nm.sni, conn_report_server_ip(r), f->key.ip_ver, ja4ts, ttl,
                                  when);
    /* TLS 1.3 without keys: the first flight's size, the HelloRetryRequest
     * and the ServerHello delay (conn_report_keyless() states when each is
     * known); the ranges' tolerances follow policy_range_rule(). */
    struct conn_keyless kl;
    char hrr_buf[8];
    conn_report_keyless(r, &kl);
    const char *hrr = fmt_hello_retry(&kl, hrr_buf);
    if (r->sh[0] && (kl.has_flight || hrr || kl.has_delay))
        policy_learn_server_keyless(p, nm.sni, conn_report_server_ip(r), f->key.ip_ver,
                                    kl.has_flight ? (int64_t)kl.flight_bytes : -1, hrr,
                                    kl.has_delay && kl.delay_us <= INT64_MAX
                                        ? (int64_t)kl.delay_us : -1,
                                    when);
}

int learn_write_policy(const struct policy *pol, const char *path)
{
    char tmp[4096], err[512];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        log_error("cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    int rc = policy_write(pol, f, err, sizeof(err));
    if (fclose(f) != 0 || rc < 0) {
        log_error("writing %s failed%s%s", tmp, rc < 0 ? ": " : "", rc < 0 ? err : "");
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) < 0) {
        log_error("cannot rename %s to %s: %s", tmp, path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int learn_run(const struct options *opt)
{
    const char *outpath = opt->outputs[0];
    struct policy *learned = policy_new(), *base = NULL;
    if (!learned) {
        log_error("out of memory");
        return 1;
    }
    int status = run_sources(opt, learn_report, learned);
    if (status != 0)
        goto done;
    /* Merge into the policy given, else into the one already at -o,
     * keeping every hand-written entry. */
    char perr[512];
    struct stat sb;
    const char *base_path = opt->policy_path ? opt->policy_path
                            : stat(outpath, &sb) == 0 ? outpath : NULL;
    if (base_path && !(base = policy_load(base_path, perr, sizeof(perr)))) {
        log_error("%s (not overwritten)", perr);
        status = 1;
        goto done;
    }
    struct policy_merge_stats ms = { 0 };
    if (base && policy_merge(base, learned, &ms) < 0) {
        log_error("merging the learned policy failed");
        status = 1;
        goto done;
    }
    if (learn_write_policy(base ? base : learned, outpath) < 0) {
        status = 1;
        goto done;
    }
    struct policy_summary sum;
    policy_summary(base ? base : learned, &sum);
    log_info("policy %s: %zu pin-sets, %zu issuer sets, %zu client and %zu server baselines",
             outpath, sum.pin_sets, sum.issuer_sets, sum.client_baselines, sum.server_baselines);
done:
    policy_free(base);
    policy_free(learned);
    return status;
}
