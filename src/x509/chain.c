/*
 * chain.c - chains as sent, the certificate cache and the validation cache
 * (see chain.h).
 *
 * A server seen a thousand times costs: a seeded hash and a memcmp of each
 * DER certificate (the cache lookup), and one chain-cache probe that gives
 * the linkage, key reuse, validation result and, for the same SNI as last
 * time, the name match.  Parsing with OpenSSL, X509_verify_cert() and
 * X509_check_host() run only for certificates, chains and names not seen
 * before (or evicted since).
 */
#include "x509/chain.h"

#include "config.h"
#include "util/hash.h"
#include "util/heap.h"
#include "util/memcap.h"
#include "util/sets.h"
#include "x509/keys.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CERT_BUCKETS X509_CACHE_BUCKETS
#define CERT_TIME_END 253402300800LL   /* 10000-01-01: ASN1_TIME_set() fails from here */

/* One chain: the key (entry ids and purpose), what depends on the
 * certificates alone, the validation result with the capture times it
 * holds for, and the leaf's match against the last SNI.  Slots form sets
 * of CFG_X509_VERIFY_WAYS; a new chain takes its set's least recently
 * used slot. */
struct chain_slot {
    uint64_t ids[TLS_CERTMSG_MAX_CERTS];
    uint64_t used;                    /* x509_ctx.tick when last found or filled */
    uint8_t n;                        /* 0: free */
    uint8_t purpose;
    bool linked, leaf_shares_issuer_key;
    bool verified;                    /* error, depth, lo, hi hold */
    bool sni_known, sni_match;
    uint8_t sni_len;
    int error;
    int depth;
    int64_t lo, hi;                   /* capture times [lo, hi) for which the result holds */
    uint8_t sni[CFG_X509_SNI_MEMO];
};

/*
 * Freed entries are kept for the next certificates, in classes of DER
 * capacity (512-byte steps, CFG_X509_SPARE each): a new certificate
 * usually follows an eviction, and glibc serves a request of a kilobyte
 * or more from its sorted bins after merging every small free chunk
 * (malloc_consolidate(), after OpenSSL's frees there are many), which took
 * 1.4% of dense.pcap's time.  Not charged to the memcap: at most
 * SPARE_CLASSES x CFG_X509_SPARE entries of 1 KB plus their capacity.
 * None are kept under a sanitizer (util/heap.h), which then sees every use
 * of a freed entry.
 */
#define SPARE_STEP 512
#define SPARE_CLASSES (CFG_X509_SPARE_DER_MAX / SPARE_STEP)

struct x509_ctx {
    X509_STORE *store;
    struct x509_entry *buckets[CERT_BUCKETS];
    struct x509_entry *lru_head, *lru_tail;   /* unreferenced entries only */
    size_t n_unref_x509;                      /* ... of them holding their X509 */
    struct x509_entry *swept;                 /* from the tail to here: none holds it */
    size_t n_entries, n_unref, cert_cache_max;
    struct chain_slot *slots;
    size_t n_slots;                           /* in sets of CFG_X509_VERIFY_WAYS (util/sets.h) */
    uint64_t tick;                            /* chain lookups: the slots' LRU clock */
    uint64_t next_id;                         /* entry ids, from 1 */
    struct hash_key hkey;                     /* per context: the caches' hash */
    struct memcap *mc;                        /* entries are charged here; may be NULL */
    struct x509_entry *spare[SPARE_CLASSES];  /* freed entries by DER capacity, by hnext */
    unsigned n_spare[SPARE_CLASSES];
};

/* A --ca-bundle must be a readable file, a --ca-path a directory: say
 * which it is not, with the system's reason (OpenSSL would only say
 * "system lib"). */
static bool usable(const char *what, const char *path, bool dir, char *err, size_t errlen)
{
    struct stat sb;
    if (stat(path, &sb) < 0 || (!dir && access(path, R_OK) < 0)) {
        snprintf(err, errlen, "cannot use %s %s: %s", what, path, strerror(errno));
        return false;
    }
    if (dir != S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "cannot use %s %s: %s", what, path,
                 dir ? "not a directory" : "a directory (use --ca-path for a hashed directory)");
        return false;
    }
    return true;
}

/* A c_rehash name: eight hex digits, '.', a decimal suffix ("9d04f354.0"). */
static bool hashed_name(const char *n)
{
    size_t i = 0;
    for (; i < 8; i++)
        if (!((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f')))
            return false;
    if (n[i++] != '.' || !n[i])
        return false;
    for (; n[i]; i++)
        if (n[i] < '0' || n[i] > '9')
            return false;
    return true;
}

/* Every certificate file of a hashed directory into `store` (the trust
 * set X509_STORE_load_path() would find lazily).  False when the
 * directory cannot be read or holds no certificate. */
static bool load_hashed_dir(X509_STORE *store, const char *dir)
{
    DIR *d = opendir(dir);
    char path[PATH_MAX];
    size_t loaded = 0;

    if (!d)
        return false;
    x509_keys_init();
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        if (!hashed_name(de->d_name) ||
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path)
            continue;
        if (X509_STORE_load_file(store, path) == 1)
            loaded++;
    }
    closedir(d);
    ERR_clear_error();
    return loaded > 0;
}

/* The trust store of `cfg` (the system's when neither is given). */
void *x509_store_load(const struct x509_ctx_config *cfg, char *err, size_t errlen)
{
    if ((cfg->ca_bundle && !usable("CA bundle", cfg->ca_bundle, false, err, errlen)) ||
        (cfg->ca_path && !usable("CA directory", cfg->ca_path, true, err, errlen)))
        return NULL;
    X509_STORE *store = X509_STORE_new();
    if (!store) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (cfg->ca_bundle && !X509_STORE_load_file(store, cfg->ca_bundle)) {
        const char *why = ERR_reason_error_string(ERR_peek_last_error());
        snprintf(err, errlen, "cannot load CA bundle %s: %s", cfg->ca_bundle,
                 why ? why : "no certificates in it");
        ERR_clear_error();
        X509_STORE_free(store);
        return NULL;
    }
    if (cfg->ca_path && !X509_STORE_load_path(store, cfg->ca_path)) {
        snprintf(err, errlen, "cannot use CA directory %s", cfg->ca_path);
        ERR_clear_error();
        X509_STORE_free(store);
        return NULL;
    }
    if (!cfg->ca_bundle && !cfg->ca_path) {
        /* The system's hashed CA directory, every certificate read once
         * now; the bundle file only when there is no such directory.
         * Looked up lazily (X509_STORE_load_path), a chain to a CA that is
         * not there, as every interception's is, costs a stat() of the
         * directory per lookup, several per validation. (And
         * X509_STORE_set_default_paths() in OpenSSL 3 also adds a store
         * loader that lists the whole directory on every lookup.)  A
         * missing store only makes validation fail, it is not fatal. */
        const char *dir = getenv(X509_get_default_cert_dir_env());
        const char *file = getenv(X509_get_default_cert_file_env());
        if (!load_hashed_dir(store, dir ? dir : X509_get_default_cert_dir()))
            X509_STORE_load_file(store, file ? file : X509_get_default_cert_file());
    }
    ERR_clear_error();
    return store;
}

void x509_store_free(void *store)
{
    X509_STORE_free(store);
}

void x509_ctx_set_store(struct x509_ctx *ctx, void *store)
{
    if (!store || store == ctx->store)
        return;
    X509_STORE_up_ref(store);
    X509_STORE_free(ctx->store);
    ctx->store = store;
    for (size_t i = 0; i < ctx->n_slots; i++)   /* results of the old store */
        ctx->slots[i].verified = false;
}

struct x509_ctx *x509_ctx_new(const struct x509_ctx_config *cfg, char *err, size_t errlen)
{
    struct x509_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    x509_keys_init();   /* before any worker decodes a certificate */
    ctx->cert_cache_max = cfg->cert_cache_max;
    if (cfg->cache_key)
        ctx->hkey = *cfg->cache_key;
    else
        hash_random_key(&ctx->hkey);
    ctx->n_slots = cfg->verify_cache_size ? cfg->verify_cache_size : 1;
    ctx->slots = calloc(ctx->n_slots, sizeof(*ctx->slots));
    if (!ctx->slots) {
        snprintf(err, errlen, "out of memory");
        x509_ctx_free(ctx);
        return NULL;
    }
    if (cfg->store) {
        X509_STORE_up_ref(cfg->store);
        ctx->store = cfg->store;
    } else if (!(ctx->store = x509_store_load(cfg, err, errlen))) {
        x509_ctx_free(ctx);
        return NULL;
    }
    ERR_clear_error();
    return ctx;
}

/* OpenSSL's X509 object of a certificate, as charged while an entry holds
 * it: CFG_X509_OBJECT_FACTOR times the DER length plus CFG_X509_OBJECT_BASE
 * (measured with mallinfo2() over 5,000 decodes of the golden
 * certificates: 5.4 to 6.4 KB for 730 to 880-byte RSA and EC
 * certificates). */
static size_t x509_cost(const struct x509_entry *e)
{
    return CFG_X509_OBJECT_BASE + CFG_X509_OBJECT_FACTOR * e->der_len;
}

/* Free the entry's X509 object and its charge. */
static void entry_drop_x509(struct x509_ctx *ctx, struct x509_entry *e)
{
    if (e->x509_charged && ctx->mc)
        memcap_uncharge(ctx->mc, x509_cost(e));
    e->x509_charged = false;
    X509_free(e->x509);
    e->x509 = NULL;
}

/* An entry with room for `len` bytes of DER, cleared up to der[]. */
static struct x509_entry *entry_alloc(struct x509_ctx *ctx, size_t len)
{
    size_t cap = (len + SPARE_STEP - 1) / SPARE_STEP * SPARE_STEP;
    size_t k = cap / SPARE_STEP - 1;   /* len > 0: a certificate is never empty */
    struct x509_entry *e;
    if (cap && k < SPARE_CLASSES && (e = ctx->spare[k])) {
        ctx->spare[k] = e->hnext;
        ctx->n_spare[k]--;
    } else if (!(e = malloc(sizeof(*e) + cap))) {
        return NULL;
    }
    memset(e, 0, sizeof(*e));
    e->der_cap = cap;
    return e;
}

/* Keep a freed entry for the next certificate of its class, or free it. */
static void entry_dealloc(struct x509_ctx *ctx, struct x509_entry *e)
{
    size_t k = e->der_cap / SPARE_STEP - 1;
    if (!HEAP_SANITIZED && e->der_cap && k < SPARE_CLASSES && ctx->n_spare[k] < CFG_X509_SPARE) {
        e->hnext = ctx->spare[k];
        ctx->spare[k] = e;
        ctx->n_spare[k]++;
    } else {
        free(e);
    }
}

static void entry_free(struct x509_ctx *ctx, struct x509_entry *e)
{
    if (ctx->mc)
        memcap_uncharge(ctx->mc, e->cost);
    entry_drop_x509(ctx, e);
    x509_cert_release(&e->info);
    entry_dealloc(ctx, e);
}

void x509_ctx_set_memcap(struct x509_ctx *ctx, struct memcap *mc)
{
    ctx->mc = mc;
}

void x509_ctx_free(struct x509_ctx *ctx)
{
    if (!ctx)
        return;
    for (size_t b = 0; b < CERT_BUCKETS; b++) {
        struct x509_entry *e = ctx->buckets[b];
        while (e) {
            struct x509_entry *n = e->hnext;
            entry_free(ctx, e);
            e = n;
        }
    }
    for (size_t k = 0; k < SPARE_CLASSES; k++)
        while (ctx->spare[k]) {
            struct x509_entry *n = ctx->spare[k]->hnext;
            free(ctx->spare[k]);
            ctx->spare[k] = n;
        }
    X509_STORE_free(ctx->store);
    free(ctx->slots);
    free(ctx);
}

/* ---- certificate cache ------------------------------------------------- */

static size_t bucket_of(uint64_t h)
{
    return (size_t)h & (CERT_BUCKETS - 1);
}

static void lru_unlink(struct x509_ctx *ctx, struct x509_entry *e)
{
    if (e->x509)
        ctx->n_unref_x509--;
    if (ctx->swept == e)
        ctx->swept = e->lru_next;   /* older, also swept (NULL at the tail) */
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else if (ctx->lru_head == e)
        ctx->lru_head = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else if (ctx->lru_tail == e)
        ctx->lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void remove_entry(struct x509_ctx *ctx, struct x509_entry *e)
{
    struct x509_entry **pp = &ctx->buckets[bucket_of(e->h)];
    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
    ctx->n_entries--;
    entry_free(ctx, e);
}

/* Drop the least recently released unreferenced entry; false if none. */
static bool drop_unreferenced(struct x509_ctx *ctx)
{
    struct x509_entry *old = ctx->lru_tail;
    if (!old)
        return false;
    lru_unlink(ctx, old);
    ctx->n_unref--;
    remove_entry(ctx, old);
    return true;
}

/* What one entry holds on the heap besides OpenSSL's object, as charged to
 * the memcap: the entry and its DER and the decoded fields' strings. */
static size_t entry_cost(const struct x509_entry *e)
{
    return sizeof(*e) + e->der_len + x509_cert_heap_bytes(&e->info);
}


/* A referenced entry for this DER, from the cache or newly parsed; NULL if
 * OpenSSL cannot parse it (*capped false) or the memcap cannot hold it
 * even with the unreferenced entries dropped (*capped true).  A cached
 * certificate costs one keyed hash and one memcmp: no digest, no decode. */
static struct x509_entry *entry_get(struct x509_ctx *ctx, const uint8_t *der, size_t len,
                                    bool *capped, struct stats *st)
{
    *capped = false;
    uint64_t h = hash_fast(&ctx->hkey, der, len);
    size_t b = bucket_of(h), in_bucket = 0;
    for (struct x509_entry *e = ctx->buckets[b]; e; e = e->hnext) {
        if (e->h == h && e->der_len == len && memcmp(e->der, der, len) == 0) {
            if (e->refs++ == 0) {
                lru_unlink(ctx, e);
                ctx->n_unref--;
            }
            return e;
        }
        in_bucket++;
    }
    struct x509_entry *e = entry_alloc(ctx, len);   /* der[] is copied below */
    if (!e)
        return NULL;
    st->certs_parsed++;
    void *x = NULL;
    if (x509_cert_parse_keep(der, len, &e->info, &x) != 0) {
        entry_dealloc(ctx, e);
        ERR_clear_error();
        return NULL;
    }
    e->der_len = len;
    e->cost = entry_cost(e);
    if (ctx->mc) {
        while (!memcap_charge(ctx->mc, e->cost + x509_cost(e)))
            if (!drop_unreferenced(ctx)) {
                *capped = true;
                x509_cert_release(&e->info);
                X509_free(x);
                entry_dealloc(ctx, e);
                return NULL;
            }
        e->x509_charged = true;
    }
    memcpy(e->sha256, e->info.sha256_raw, 32);
    memcpy(e->der, der, len);
    e->h = h;
    e->id = ++ctx->next_id;
    e->x509 = x;
    e->refs = 1;
    /* A full bucket: give up an unused certificate there, else serve this
     * one uncached.  (The memcap above may have dropped `unused`: look
     * again.) */
    if (in_bucket >= CFG_X509_BUCKET_MAX) {
        struct x509_entry *unused = NULL;
        in_bucket = 0;
        for (struct x509_entry *o = ctx->buckets[b]; o; o = o->hnext, in_bucket++)
            if (o->refs == 0)
                unused = o;
        if (in_bucket >= CFG_X509_BUCKET_MAX) {
            if (unused) {
                lru_unlink(ctx, unused);
                ctx->n_unref--;
                remove_entry(ctx, unused);
            } else {
                stats_cap(st, STATS_X509_CACHE_BUCKET);
                return e;
            }
        }
    }
    e->cached = true;
    e->hnext = ctx->buckets[b];
    ctx->buckets[b] = e;
    ctx->n_entries++;
    return e;
}

bool x509_ctx_drop_unused(struct x509_ctx *ctx)
{
    return drop_unreferenced(ctx);
}

static void entry_put(struct x509_ctx *ctx, struct x509_entry *e)
{
    if (--e->refs > 0)
        return;
    if (!e->cached) {
        entry_free(ctx, e);
        return;
    }
    /* Most recently released first; evict from the tail over the cap. */
    e->lru_prev = NULL;
    e->lru_next = ctx->lru_head;
    if (ctx->lru_head)
        ctx->lru_head->lru_prev = e;
    ctx->lru_head = e;
    if (!ctx->lru_tail)
        ctx->lru_tail = e;
    ctx->n_unref++;
    if (e->x509)
        ctx->n_unref_x509++;
    while (ctx->n_unref > ctx->cert_cache_max && drop_unreferenced(ctx))
        ;
    /* Only the CFG_X509_OBJECTS_KEPT most recently used of the unused
     * certificates keep OpenSSL's object (5 to 6 KB); older ones keep their
     * DER and decoded fields, and entry_x509() decodes them again if a
     * chain needs one (most find their facts in the chain cache). */
    if (ctx->n_unref_x509 > CFG_X509_OBJECTS_KEPT + CFG_X509_OBJECTS_SLACK) {
        struct x509_entry *o = ctx->swept ? ctx->swept->lru_prev : ctx->lru_tail;
        while (o && ctx->n_unref_x509 > CFG_X509_OBJECTS_KEPT) {
            if (o->x509) {
                entry_drop_x509(ctx, o);
                ctx->n_unref_x509--;
            }
            ctx->swept = o;
            o = o->lru_prev;
        }
    }
}

/* The entry's X509, decoded again from its DER if it was let go when the
 * entry was last unused; NULL only if that fails (out of memory: the DER
 * decoded once before).  The object is charged to the memcap, unreferenced
 * entries dropped to make room; when none is left it is decoded anyway,
 * uncharged: a chain's own certificates, a bounded excess, rather than a
 * validation result that says "unspecified" for want of memory. */
static X509 *entry_x509(struct x509_ctx *ctx, struct x509_entry *e)
{
    if (!e->x509) {
        const unsigned char *p = e->der;
        e->x509 = d2i_X509(NULL, &p, (long)e->der_len);
        ERR_clear_error();
        if (e->x509 && ctx->mc) {
            bool charged;
            while (!(charged = memcap_charge(ctx->mc, x509_cost(e))) && drop_unreferenced(ctx))
                ;
            e->x509_charged = charged;
        }
    }
    return e->x509;
}

/* ---- checks ------------------------------------------------------------ */

/* The chain's slot: where a chain of these entries for `purpose` is
 * (*hit), or the slot of its set it should replace: a free one, else the
 * least recently used.  The caller fills a slot it did not hit. */
static struct chain_slot *chain_slot_of(struct x509_ctx *ctx, const struct x509_chain *c,
                                        enum x509_purpose purpose, bool *hit)
{
    uint64_t key[TLS_CERTMSG_MAX_CERTS + 1];
    for (size_t i = 0; i < c->n; i++)
        key[i] = c->e[i]->id;
    key[c->n] = (uint64_t)purpose;
    struct set_span set = set_span_of(hash_fast(&ctx->hkey, key, (c->n + 1) * sizeof(key[0])),
                                      ctx->n_slots, CFG_X509_VERIFY_WAYS);
    struct chain_slot *victim = &ctx->slots[set.first];
    ctx->tick++;
    for (size_t i = set.first; i < set.end; i++) {
        struct chain_slot *cs = &ctx->slots[i];
        if (cs->n == c->n && cs->purpose == (uint8_t)purpose &&
            memcmp(cs->ids, key, c->n * sizeof(key[0])) == 0) {
            cs->used = ctx->tick;
            *hit = true;
            return cs;
        }
        if (victim->n != 0 && (cs->n == 0 || cs->used < victim->used))
            victim = cs;
    }
    *hit = false;
    return victim;
}

/* Narrow [*lo, *hi) around t so that no validity bound of `x` lies inside:
 * within it, x is valid (or not) exactly as it is at t. */
static void narrow_window(const X509 *x, int64_t t, int64_t *lo, int64_t *hi)
{
    const ASN1_TIME *bounds[2] = { X509_get0_notBefore(x), X509_get0_notAfter(x) };
    for (int i = 0; i < 2; i++) {
        struct tm tm;
        if (!bounds[i] || !ASN1_TIME_to_tm(bounds[i], &tm)) {
            *lo = *hi = t;   /* unreadable time: do not reuse this result */
            return;
        }
        /* OpenSSL's check is X509_cmp_time(), "<=": a certificate is
         * valid from its notBefore second and expired from its notAfter
         * second on, so both bounds start a new state. */
        int64_t b = (int64_t)timegm(&tm);
        if (b <= t && b > *lo)
            *lo = b;
        if (b > t && b < *hi)
            *hi = b;
    }
}

/* The same for a cached certificate, from the times decoded with it (the
 * same ASN1_TIME_to_tm() reading, as seconds) when both were readable. */
static void narrow_window_entry(struct x509_ctx *ctx, struct x509_entry *e, int64_t t,
                                int64_t *lo, int64_t *hi)
{
    if (!e->info.not_before.valid || !e->info.not_after.valid) {
        X509 *x = entry_x509(ctx, e);
        if (x)
            narrow_window(x, t, lo, hi);
        else
            *lo = *hi = t;   /* do not reuse this result */
        return;
    }
    const int64_t bounds[2] = { e->info.not_before.epoch, e->info.not_after.epoch };
    for (int i = 0; i < 2; i++) {
        if (bounds[i] <= t && bounds[i] > *lo)
            *lo = bounds[i];
        if (bounds[i] > t && bounds[i] < *hi)
            *hi = bounds[i];
    }
}

static void verify_chain(struct x509_ctx *ctx, struct x509_chain *c, enum x509_purpose purpose,
                         time_t t, int64_t *lo, int64_t *hi)
{
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    X509_STORE_CTX *vctx = X509_STORE_CTX_new();
    c->verify_error = X509_V_ERR_UNSPECIFIED;
    c->verify_depth = 0;
    if (!untrusted || !vctx)
        goto out;
    for (size_t i = 0; i < c->n; i++)
        if (!entry_x509(ctx, c->e[i]))
            goto out;
    for (size_t i = 1; i < c->n; i++)
        sk_X509_push(untrusted, (X509 *)c->e[i]->x509);
    if (!X509_STORE_CTX_init(vctx, ctx->store, (X509 *)c->e[0]->x509, untrusted))
        goto out;
    X509_STORE_CTX_set_purpose(vctx, purpose == X509_PURPOSE_SERVER_CHAIN ? X509_PURPOSE_SSL_SERVER
                                                                           : X509_PURPOSE_SSL_CLIENT);
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(vctx), t);
    if (X509_verify_cert(vctx) == 1) {
        c->verify_error = X509_V_OK;
    } else {
        c->verify_error = X509_STORE_CTX_get_error(vctx);
        c->verify_depth = X509_STORE_CTX_get_error_depth(vctx);
    }
    /* The result can be reused while no certificate involved (sent, or
     * taken from the trust store) changes validity state. */
    STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(vctx);
    for (int i = 0; built && i < sk_X509_num(built); i++)
        narrow_window(sk_X509_value(built, i), (int64_t)t, lo, hi);
    for (size_t i = 0; i < c->n; i++)
        narrow_window_entry(ctx, c->e[i], (int64_t)t, lo, hi);
out:
    X509_STORE_CTX_free(vctx);
    sk_X509_free(untrusted);
    ERR_clear_error();
}

void x509_chain_build(struct x509_ctx *ctx, const struct tls_cert_list *list,
                      enum x509_purpose purpose, bool has_sni, const uint8_t *sni,
                      size_t sni_len, uint64_t ts_us, struct x509_chain *out,
                      struct stats *st)
{
    memset(out, 0, sizeof(*out));
    out->total = list->total_certs;
    for (size_t i = 0; i < list->n_certs; i++) {
        bool capped;
        struct x509_entry *e = entry_get(ctx, list->certs[i].der, list->certs[i].len, &capped, st);
        if (!e) {
            if (capped) {
                stats_cap(st, STATS_MEMCAP);
            } else {
                out->unparsable++;
                stats_anomaly(st, STATS_X509_UNPARSABLE);
            }
            continue;
        }
        out->e[out->n++] = e;
    }
    if (out->n == 0)
        return;

    bool hit;
    struct chain_slot *cs = chain_slot_of(ctx, out, purpose, &hit);
    if (!hit) {
        /* What depends on the certificates alone, once per chain. */
        memset(cs, 0, sizeof(*cs));
        cs->used = ctx->tick;
        cs->n = (uint8_t)out->n;
        cs->purpose = (uint8_t)purpose;
        for (size_t i = 0; i < out->n; i++)
            cs->ids[i] = out->e[i]->id;
        cs->linked = true;
        for (size_t i = 0; i + 1 < out->n; i++) {
            X509 *a = entry_x509(ctx, out->e[i]), *b = entry_x509(ctx, out->e[i + 1]);
            if (!a || !b ||
                X509_NAME_cmp(X509_get_issuer_name(a), X509_get_subject_name(b)) != 0)
                cs->linked = false;
        }
        if (out->n > 1) {
            X509 *a = entry_x509(ctx, out->e[0]), *b = entry_x509(ctx, out->e[1]);
            const EVP_PKEY *k0 = a ? X509_get0_pubkey(a) : NULL;
            const EVP_PKEY *k1 = b ? X509_get0_pubkey(b) : NULL;
            cs->leaf_shares_issuer_key = k0 && k1 && EVP_PKEY_eq(k0, k1) == 1;
        }
    }
    out->linked = cs->linked;
    out->leaf_shares_issuer_key = cs->leaf_shares_issuer_key;

    time_t t = (time_t)(ts_us / 1000000);
    const struct x509_cert *li = &out->e[0]->info;
    if (li->not_before.valid && li->not_after.valid && (int64_t)t < CERT_TIME_END) {
        /* The decoded times are ASN1_TIME_to_tm()'s, as ASN1_TIME_diff()
         * reads them: its whole days (towards zero) and seconds. */
        out->validity_days = (li->not_after.epoch - li->not_before.epoch) / 86400;
        out->not_before_age_s = (int64_t)t - li->not_before.epoch;
    } else if (entry_x509(ctx, out->e[0])) {
        X509 *leaf = out->e[0]->x509;
        int days = 0, secs = 0;
        if (ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(leaf), X509_get0_notAfter(leaf)))
            out->validity_days = days;
        ASN1_TIME *now = ASN1_TIME_set(NULL, t);
        if (now && ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(leaf), now))
            out->not_before_age_s = (int64_t)days * 86400 + secs;
        ASN1_TIME_free(now);
    }

    if (has_sni) {
        out->has_sni = true;
        if (sni_len > 0 && sni_len <= sizeof(cs->sni)) {
            if (!cs->sni_known || cs->sni_len != sni_len || memcmp(cs->sni, sni, sni_len) != 0) {
                X509 *leaf = entry_x509(ctx, out->e[0]);
                cs->sni_match =
                    leaf && X509_check_host(leaf, (const char *)sni, sni_len, 0, NULL) == 1;
                cs->sni_known = true;
                cs->sni_len = (uint8_t)sni_len;
                memcpy(cs->sni, sni, sni_len);
            }
            out->sni_match = cs->sni_match;
        } else {
            X509 *leaf = entry_x509(ctx, out->e[0]);
            out->sni_match = leaf && X509_check_host(leaf, (const char *)sni, sni_len, 0, NULL) == 1;
        }
    }

    if (cs->verified && cs->lo <= (int64_t)t && (int64_t)t < cs->hi) {
        out->verify_error = cs->error;
        out->verify_depth = cs->depth;
    } else {
        int64_t lo = INT64_MIN, hi = INT64_MAX;
        verify_chain(ctx, out, purpose, t, &lo, &hi);
        st->chains_validated++;
        cs->verified = true;
        cs->error = out->verify_error;
        cs->depth = out->verify_depth;
        cs->lo = lo;
        cs->hi = hi;
    }
    if (ERR_peek_error())   /* what OpenSSL refused; a cache hit called nothing */
        ERR_clear_error();
}

void x509_chain_release(struct x509_ctx *ctx, struct x509_chain *c)
{
    for (size_t i = 0; i < c->n; i++)
        entry_put(ctx, c->e[i]);
    c->n = 0;
}

/* ---- names ------------------------------------------------------------- */

#define V(name) { X509_V_ERR_##name, #name }
static const struct {
    int code;
    const char *name;
} verify_names[] = {
    V(UNSPECIFIED), V(UNABLE_TO_GET_ISSUER_CERT), V(UNABLE_TO_GET_CRL),
    V(UNABLE_TO_DECRYPT_CERT_SIGNATURE), V(UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY),
    V(CERT_SIGNATURE_FAILURE), V(CERT_NOT_YET_VALID), V(CERT_HAS_EXPIRED),
    V(ERROR_IN_CERT_NOT_BEFORE_FIELD), V(ERROR_IN_CERT_NOT_AFTER_FIELD),
    V(OUT_OF_MEM), V(DEPTH_ZERO_SELF_SIGNED_CERT), V(SELF_SIGNED_CERT_IN_CHAIN),
    V(UNABLE_TO_GET_ISSUER_CERT_LOCALLY), V(UNABLE_TO_VERIFY_LEAF_SIGNATURE),
    V(CERT_CHAIN_TOO_LONG), V(CERT_REVOKED), V(INVALID_CA), V(PATH_LENGTH_EXCEEDED),
    V(INVALID_PURPOSE), V(CERT_UNTRUSTED), V(CERT_REJECTED), V(SUBJECT_ISSUER_MISMATCH),
    V(AKID_SKID_MISMATCH), V(AKID_ISSUER_SERIAL_MISMATCH), V(KEYUSAGE_NO_CERTSIGN),
    V(INVALID_EXTENSION), V(INVALID_POLICY_EXTENSION), V(NO_EXPLICIT_POLICY),
    V(UNSUPPORTED_CONSTRAINT_TYPE), V(UNSUPPORTED_NAME_SYNTAX), V(HOSTNAME_MISMATCH),
    V(EE_KEY_TOO_SMALL), V(CA_KEY_TOO_SMALL), V(CA_MD_TOO_WEAK), V(INVALID_CALL),
    V(STORE_LOOKUP), V(NO_VALID_SCTS), V(PATHLEN_INVALID_FOR_NON_CA),
    V(PATHLEN_WITHOUT_KU_KEY_CERT_SIGN), V(KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA),
    V(ISSUER_NAME_EMPTY), V(SUBJECT_NAME_EMPTY), V(MISSING_AUTHORITY_KEY_IDENTIFIER),
    V(MISSING_SUBJECT_KEY_IDENTIFIER), V(EMPTY_SUBJECT_ALT_NAME),
    V(EMPTY_SUBJECT_SAN_NOT_CRITICAL), V(CA_BCONS_NOT_CRITICAL),
    V(AUTHORITY_KEY_IDENTIFIER_CRITICAL), V(SUBJECT_KEY_IDENTIFIER_CRITICAL),
    V(CA_CERT_MISSING_KEY_USAGE), V(EXTENSIONS_REQUIRE_VERSION_3),
    V(EC_KEY_EXPLICIT_PARAMS),
};
#undef V

#define N_VERIFY_NAMES (sizeof(verify_names) / sizeof(verify_names[0]))
static char verify_lower[N_VERIFY_NAMES][64];

/* The lower-case names, made once for the process (workers share them). */
static void verify_names_init(void)
{
    for (size_t i = 0; i < N_VERIFY_NAMES; i++) {
        size_t k = 0;
        for (const char *p = verify_names[i].name; *p && k + 1 < sizeof(verify_lower[0]); p++)
            verify_lower[i][k++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        verify_lower[i][k] = '\0';
    }
}

const char *x509_verify_name(int err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    if (err == X509_V_OK)
        return "ok";
    pthread_once(&once, verify_names_init);
    for (size_t i = 0; i < N_VERIFY_NAMES; i++)
        if (verify_names[i].code == err)
            return verify_lower[i];
    return "other";
}

const char *x509_verify_text(int err)
{
    return X509_verify_cert_error_string(err);
}
