/*
 * engine.c - shared context and reload (see engine.h).
 */
#include "app/engine.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detect/answers.h"
#include "detect/legs.h"
#include "config.h"
#include "detect/resume.h"
#include "policy/policy.h"
#include "policy/sigdb.h"
#include "tls/keylog.h"
#include "tls/pcapng_dsb.h"
#include "util/log.h"
#include "x509/chain.h"

#ifndef PINSCOPE_DATADIR
#define PINSCOPE_DATADIR "/usr/local/share/pinscope"
#endif

static char sigdir_buf[PATH_MAX];

static bool has_sigs(const char *dir)
{
    char p[PATH_MAX];
    struct stat sb;
    if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, SIGDB_ISSUERS_FILE) >= sizeof(p))
        return false;
    return stat(p, &sb) == 0;
}

/* The signatures directory when --signatures is not given: beside the
 * binary (a build tree: ./pinscope or build-san/pinscope), the installed
 * data directory, then ./signatures.  NULL if none. */
static const char *find_sigdir(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            static const char *const rel[] = { "signatures", "../signatures",
                                               "../share/pinscope/signatures" };
            for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
                int n2 = snprintf(sigdir_buf, sizeof(sigdir_buf), "%s/%s", exe, rel[i]);
                if (n2 > 0 && (size_t)n2 < sizeof(sigdir_buf) && has_sigs(sigdir_buf))
                    return sigdir_buf;
            }
        }
    }
    if (has_sigs(PINSCOPE_DATADIR "/signatures"))
        return PINSCOPE_DATADIR "/signatures";
    if (has_sigs("signatures"))
        return "signatures";
    return NULL;
}

static void gen_free(struct engine_gen *g)
{
    if (!g)
        return;
    sigdb_free(g->sigs);
    policy_free(g->pol);
    x509_store_free(g->store);
    free(g);
}

/* Every reloadable file, into a new generation.  NULL after logging. */
static struct engine_gen *gen_load(struct engine *e)
{
    const struct options *o = e->opt;
    struct engine_gen *g = calloc(1, sizeof(*g));
    char err[512];
    if (!g) {
        log_error("out of memory");
        return NULL;
    }
    if (e->sigdir && !(g->sigs = sigdb_load(e->sigdir, err, sizeof(err)))) {
        log_error("%s", err);
        goto fail;
    }
    if (o->policy_path && !(g->pol = policy_load(o->policy_path, err, sizeof(err)))) {
        log_error("%s", err);
        goto fail;
    }
    if (!(g->store = x509_store_load(&o->xcfg, err, sizeof(err)))) {
        log_error("%s", err);
        goto fail;
    }
    return g;
fail:
    gen_free(g);
    return NULL;
}

int engine_init(struct engine *e, const struct options *opt)
{
    memset(e, 0, sizeof(*e));
    e->opt = opt;
    pthread_mutex_t *mu = malloc(sizeof(*mu));
    e->kl = keylog_new(0);
    e->legs = legs_new();
    e->resume = resume_new(CFG_RESUME_MAX);
    e->answers = answers_new();
    if (!mu || !e->kl || !e->legs || !e->resume || !e->answers) {
        free(mu);
        log_error("out of memory");
        return -1;
    }
    pthread_mutex_init(mu, NULL);
    e->mu = mu;

    /* Session secrets: --keylog files first (the first value seen for a
     * connection wins), then Decryption Secrets Blocks of pcapng inputs. */
    for (int i = 0; i < opt->n_keylogs; i++) {
        char kerr[512] = "";
        if (keylog_load_file(e->kl, opt->keylogs[i], kerr, sizeof(kerr)) < 0) {
            log_error("%s", kerr);
            return -1;
        }
        if (kerr[0])
            log_warn("%s", kerr);
    }

    e->sigdir = opt->sigdir ? opt->sigdir : find_sigdir();
    if (!e->sigdir)
        log_warn("no signatures found (beside the binary, " PINSCOPE_DATADIR
                 "/signatures, ./signatures): known interception products will not be named");
    e->cur = gen_load(e);
    if (!e->cur)
        return -1;
    e->cur->no = 1;
    e->cur->refs = 1;
    atomic_store(&e->gen_no, 1);
    return 0;
}

/* A pcapng input's Decryption Secrets Blocks join the key log (before
 * any worker starts). */
void engine_scan_dsb(struct engine *e, const char *path)
{
    char kerr[512] = "";
    pcapng_dsb_scan(path, e->kl, kerr, sizeof(kerr));
    if (kerr[0])
        log_warn("%s", kerr);
}

void engine_free(struct engine *e)
{
    if (e->cur && --e->cur->refs == 0)
        gen_free(e->cur);
    e->cur = NULL;
    if (e->mu) {
        pthread_mutex_destroy(e->mu);
        free(e->mu);
        e->mu = NULL;
    }
    keylog_free(e->kl);
    e->kl = NULL;
    legs_free(e->legs);
    e->legs = NULL;
    resume_free(e->resume);
    e->resume = NULL;
    answers_free(e->answers);
    e->answers = NULL;
}

int engine_reload(struct engine *e)
{
    struct engine_gen *g = gen_load(e);
    if (!g) {
        log_error("reload failed: keeping the current policy, signatures and trust store");
        return -1;
    }
    pthread_mutex_lock(e->mu);
    struct engine_gen *old = e->cur;
    g->no = old->no + 1;
    g->refs = 1;
    e->cur = g;
    bool free_old = --old->refs == 0;
    atomic_store_explicit(&e->gen_no, g->no, memory_order_release);
    pthread_mutex_unlock(e->mu);
    if (free_old)
        gen_free(old);
    log_info("reloaded (generation %u): %s%s%s%strust store", g->no,
             e->opt->policy_path ? "policy " : "", e->opt->policy_path ? e->opt->policy_path : "",
             e->opt->policy_path ? ", " : "", e->sigdir ? "signatures, " : "");
    return 0;
}

struct engine_gen *engine_acquire(struct engine *e)
{
    pthread_mutex_lock(e->mu);
    struct engine_gen *g = e->cur;
    g->refs++;
    pthread_mutex_unlock(e->mu);
    return g;
}

void engine_release(struct engine *e, struct engine_gen *g)
{
    if (!g)
        return;
    pthread_mutex_lock(e->mu);
    bool last = --g->refs == 0;
    pthread_mutex_unlock(e->mu);
    if (last)
        gen_free(g);
}
