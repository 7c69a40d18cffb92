/*
 * chain.h - certificate chains as sent: parsed certificates (cached),
 * and facts about the chain: issuer/subject linkage, validation against a
 * trust store at capture time (cached), SNI match, key reuse, validity.
 *
 * Facts, not verdicts: policy/ decides what they mean.
 *
 * Containers (one struct x509_ctx per worker):
 *   certificate cache   distinct certificates by their DER (a seeded
 *                       hash_fast() picks the bucket, memcmp decides), at
 *                       most cert_cache_max unreferenced entries kept (LRU);
 *                       entries in use by a chain are never evicted.  A
 *                       bucket holds at most CFG_X509_BUCKET_MAX entries, so
 *                       DER chosen to collide costs a bounded walk: a new
 *                       certificate for a full bucket replaces an unused
 *                       one there, else it serves its chain uncached
 *                       (caps.x509_cache_bucket).
 *   chain cache         direct-mapped, verify_cache_size slots, keyed by the
 *                       ids of the chain's entries (an entry's id is unique
 *                       for the context's life) and the purpose.  A slot
 *                       keeps what depends on the certificates alone
 *                       (linkage, leaf/issuer key reuse), the validation
 *                       result, reused only between the validity bounds (of
 *                       every certificate involved) around the time it was
 *                       computed for, and the leaf's match against the last
 *                       SNI seen (up to CFG_X509_SNI_MEMO bytes).  A
 *                       collision just computes again.
 *
 * Everything X.509 goes through OpenSSL; x509/cert.c extracts the fields.
 */
#ifndef PINSCOPE_X509_CHAIN_H
#define PINSCOPE_X509_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls/certmsg.h"
#include "util/hash.h"
#include "util/stats.h"
#include "x509/cert.h"

#define X509_CACHE_BUCKETS 4096   /* certificate cache buckets (a power of two): bucket
                                     hash_fast(cache_key, der) & (X509_CACHE_BUCKETS - 1) */

struct x509_ctx_config {
    const char *ca_bundle;     /* PEM file; NULL: the system default store */
    const char *ca_path;       /* hashed directory; may be combined with ca_bundle */
    size_t cert_cache_max;     /* unreferenced certificates kept */
    size_t verify_cache_size;  /* validation cache slots */
    void *store;               /* a shared trust store (x509_store_load); NULL: load one */
    const struct hash_key *cache_key;   /* the caches' hash key; NULL: a random one
                                           (tests fix it to make buckets collide) */
};

struct x509_ctx;

/* One distinct certificate, shared by every chain that holds it. */
struct x509_entry {
    uint8_t sha256[32];
    void *x509;                /* X509 *, owned */
    struct x509_cert info;
    unsigned refs;
    struct x509_entry *hnext, *lru_prev, *lru_next;
    uint64_t h;                /* keyed hash of the DER: the cache key with der[] */
    uint64_t id;               /* unique per context: chain cache keys */
    bool cached;               /* in the cache; false: freed on its last release */
    bool x509_charged;         /* x509's estimate is charged to the memcap too */
    size_t cost;               /* bytes charged to the memcap for the rest */
    size_t der_len;
    size_t der_cap;            /* room in der[]: der_len rounded up to 512 (chain.c) */
    uint8_t der[];             /* the certificate as sent (EVE tls.chain) */
};

enum x509_purpose { X509_PURPOSE_SERVER_CHAIN = 0, X509_PURPOSE_CLIENT_CHAIN = 1 };

struct x509_chain {
    size_t n;                          /* parsed and kept, leaf first */
    size_t total;                      /* certificates in the message */
    size_t unparsable;                 /* DER that OpenSSL refused */
    struct x509_entry *e[TLS_CERTMSG_MAX_CERTS];
    bool linked;                       /* each issuer == next subject */
    int verify_error;                  /* X509_V_OK (0) or X509_V_ERR_* */
    int verify_depth;                  /* where the error was found */
    bool has_sni, sni_match;
    bool leaf_shares_issuer_key;       /* leaf key == next certificate's key */
    int64_t validity_days;             /* leaf not_after - not_before */
    int64_t not_before_age_s;          /* capture time - leaf not_before */
};

/* Create a context.  Returns NULL with a one-line reason in err (e.g. an
 * unreadable CA bundle). */
struct x509_ctx *x509_ctx_new(const struct x509_ctx_config *cfg, char *err, size_t errlen);

/* A trust store (X509_STORE *) loaded from cfg->ca_bundle / ca_path (the
 * system's when neither): NULL with a reason in err.  One store can be
 * shared by the contexts of every worker (cfg->store); OpenSSL locks its
 * lookups.  x509_ctx_set_store() moves a context to a newly loaded store
 * (reload) and forgets the validation results of the old one. */
void *x509_store_load(const struct x509_ctx_config *cfg, char *err, size_t errlen);
void x509_store_free(void *store);
void x509_ctx_set_store(struct x509_ctx *ctx, void *store);
/* Charge every cached certificate to `mc` (the worker's memcap): a new
 * certificate that does not fit, even after the unreferenced ones are
 * dropped, is left out of its chain and counted (caps.memcap). */
struct memcap;
void x509_ctx_set_memcap(struct x509_ctx *ctx, struct memcap *mc);
/* Drop the least recently used certificate no chain holds, giving its
 * memory back to the memcap; false when there is none.  Under memory
 * pressure these go before any connection (a later visit decodes again). */
bool x509_ctx_drop_unused(struct x509_ctx *ctx);
void x509_ctx_free(struct x509_ctx *ctx);

/*
 * Build `out` from the certificates of one Certificate message, checked
 * for `purpose` at capture time ts_us, against `sni` when has_sni.  Never
 * fails as a whole: certificates OpenSSL cannot parse are counted in
 * out->unparsable (and in st); an empty result has n == 0.  The chain
 * holds references until x509_chain_release().
 */
void x509_chain_build(struct x509_ctx *ctx, const struct tls_cert_list *list,
                      enum x509_purpose purpose, bool has_sni, const uint8_t *sni,
                      size_t sni_len, uint64_t ts_us, struct x509_chain *out,
                      struct stats *st);

void x509_chain_release(struct x509_ctx *ctx, struct x509_chain *c);

/* Stable short name of a verification result ("ok",
 * "certificate_has_expired", ...) and OpenSSL's text for it. */
const char *x509_verify_name(int err);
const char *x509_verify_text(int err);

#endif
