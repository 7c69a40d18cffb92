/*
 * engine.h - the read-only context every worker shares, and its reload.
 *
 * What the detections read (policy, signatures, trust store) forms one
 * generation.  A generation is immutable once published; workers take a
 * reference at start and move to a newer one between two packets when the
 * generation number changes (engine_gen_no(): one relaxed atomic load per
 * packet).  engine_reload() (SIGHUP) loads every file again into a new
 * generation; if any file is bad, the current generation stays and one
 * error line names the file and the reason.  A generation is freed when
 * its last worker leaves it.
 *
 * The key log and the two-leg memory (detect/legs.h) are not reloaded:
 * keys only grow, and legs are facts about the traffic (so are the TLS 1.2
 * sessions of detect/resume.h).
 */
#ifndef PINSCOPE_ENGINE_H
#define PINSCOPE_ENGINE_H

#include <stdatomic.h>
#include <stdbool.h>

#include "app/options.h"

struct keylog;
struct legs;
struct resume;
struct answers;
struct policy;
struct sigdb;

struct engine_gen {
    unsigned no;
    struct sigdb *sigs;       /* NULL: no signatures */
    struct policy *pol;       /* NULL: no policy */
    void *store;              /* X509_STORE * */
    unsigned refs;            /* workers on it, + 1 while current */
};

struct engine {
    const struct options *opt;
    const char *sigdir;       /* resolved signatures directory, or NULL */
    struct keylog *kl;
    struct legs *legs;
    struct resume *resume;    /* TLS 1.2 sessions by id and ticket (detect/resume.h) */
    struct answers *answers;  /* detect/answers.h, like legs */
    atomic_uint gen_no;
    struct engine_gen *cur;   /* under mu */
    void *mu;                 /* pthread_mutex_t * */
};

/* Load keys, signatures, policy, trust store.  -1 after logging why. */
int engine_init(struct engine *e, const struct options *opt);
void engine_free(struct engine *e);

/* SIGHUP: a new generation from the files, or the current one kept.
 * 0 when a new generation was published. */
int engine_reload(struct engine *e);

static inline unsigned engine_gen_no(struct engine *e)
{
    return atomic_load_explicit(&e->gen_no, memory_order_acquire);
}

/* A pcapng input's Decryption Secrets Blocks into the key log (before
 * the workers start). */
void engine_scan_dsb(struct engine *e, const char *path);

/* Take a reference on the current generation / drop one. */
struct engine_gen *engine_acquire(struct engine *e);
void engine_release(struct engine *e, struct engine_gen *g);

#endif
