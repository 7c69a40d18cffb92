/*
 * dnsname.c - public names and registered domains by the Public Suffix
 * List (see dnsname.h).
 */
#include "util/dnsname.h"

#include <libpsl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util/tstate.h"

#define DNSNAME_LABEL_MAX 63

static pthread_once_t psl_once = PTHREAD_ONCE_INIT;
static const psl_ctx_t *psl;   /* set once, read-only after; NULL: no list */

static void psl_init(void)
{
    psl = psl_builtin();
    if (!psl)
        psl = psl_latest(NULL);   /* libpsl built without data: the system's file */
}

static const psl_ctx_t *psl_get(void)
{
    pthread_once(&psl_once, psl_init);
    return psl;
}

/* Check `name` is a host name (dnsname.h) and write it lower-cased, without
 * a trailing dot, to out[0..DNSNAME_MAX]. */
static bool normalize(const char *name, char out[DNSNAME_MAX + 1])
{
    if (!name)
        return false;
    size_t len = strnlen(name, DNSNAME_MAX + 2);
    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len == 0 || len > DNSNAME_MAX)
        return false;

    size_t labels = 1, label_len = 0;
    bool digits_only = true;   /* of the current label */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '.') {
            if (label_len == 0 || out[i - 1] == '-')
                return false;   /* empty label, or one ending in '-' */
            labels++;
            label_len = 0;
            digits_only = true;
            out[i] = '.';
            continue;
        }
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (c >= 'a' && c <= 'z') {
            digits_only = false;
        } else if (c == '-') {
            if (label_len == 0)
                return false;
            digits_only = false;
        } else if (c < '0' || c > '9') {
            return false;   /* '*', '_', ':', space, non-ASCII, ... */
        }
        if (++label_len > DNSNAME_LABEL_MAX)
            return false;
        out[i] = (char)c;
    }
    if (label_len == 0 || out[len - 1] == '-' || digits_only || labels < 2)
        return false;
    out[len] = '\0';
    return true;
}

/* True when lower-case `name` is `domain` or a name under it. */
static bool under(const char *name, size_t len, const char *domain)
{
    size_t dl = strlen(domain);
    return len >= dl && memcmp(name + len - dl, domain, dl) == 0 &&
           (len == dl || name[len - dl - 1] == '.');
}

/* Names the list carries but that public DNS does not serve, and the
 * RFC 2606 documentation domains. */
static bool reserved(const char *name)
{
    static const char *const domains[] = {
        "arpa", "onion", "example.com", "example.net", "example.org",
    };
    size_t len = strlen(name);
    for (size_t i = 0; i < sizeof(domains) / sizeof(domains[0]); i++)
        if (under(name, len, domains[i]))
            return true;
    return false;
}

/* The answers for one name, kept per thread in a cache of
 * CFG_DNSNAME_CACHE_SLOTS slots, DN_WAYS-way set associative (the least
 * recently used of a set's slots is replaced): a connection's SNI is asked
 * once by the detections and once by the event's own section, and a busy
 * network names a few thousand servers.  The key is the name exactly as
 * asked (case and trailing dot kept), so a hit answers as the lookup
 * would; names longer than a host name can be are not kept.  A set keeps
 * 32 bits of each slot's name hash beside the slots, so a lookup reads
 * only the slot whose tag agrees (the name decides).  A collision only
 * replaces a slot: the worst a crafted stream of names can do is make
 * every call miss, which costs what an uncached call costs. */
#define DN_KEY_MAX (DNSNAME_MAX + 1)   /* a 253-character name and its trailing dot */
enum { DN_NOT_PUBLIC = 0xfe, DN_NO_REGISTERED = 0xff };   /* else reg: an offset */
_Static_assert(DNSNAME_MAX < DN_NOT_PUBLIC, "registered-domain offsets fit in a byte");

struct dn_slot {
    char name[DN_KEY_MAX + 1];   /* "" when empty */
    uint8_t reg;                 /* DN_NOT_PUBLIC, DN_NO_REGISTERED, or where the
                                    registered domain starts in the normalized name */
};

#define DN_WAYS 4
#define DN_SETS (CFG_DNSNAME_CACHE_SLOTS / DN_WAYS)
_Static_assert(DN_SETS > 0 && CFG_DNSNAME_CACHE_SLOTS % DN_WAYS == 0, "dnsname cache sets");

struct dn_set {
    uint32_t tag[DN_WAYS];    /* the name hash's high half */
    uint32_t used[DN_WAYS];   /* the cache's clock at the last hit; 0: empty */
};

/* What the list says of one suffix (a name's tail after a dot): many
 * names share theirs (shop.example, example), so a name not seen before
 * asks libpsl only of suffixes not seen before.  Direct-mapped by the
 * exact suffix, CFG_DNSNAME_SUFFIX_SLOTS per thread. */
struct sfx_slot {
    char s[DNSNAME_MAX + 1];   /* "" when empty */
    bool is_public;
};

struct dn_cache {
    uint32_t clock;
    struct dn_set set[DN_SETS];
    struct dn_slot slot[DN_SETS][DN_WAYS];
    struct sfx_slot sfx[CFG_DNSNAME_SUFFIX_SLOTS];
};

static struct tstate cache_state = TSTATE_INIT(sizeof(struct dn_cache), NULL, NULL, NULL);
static _Thread_local struct dn_cache *cache;   /* this thread's, NULL until first use */

/* This thread's cache; NULL without one (every call then looks up). */
static struct dn_cache *cache_get(void)
{
    return cache ? cache : (cache = tstate_get(&cache_state));
}

/* Suffix sfx (of a normalized name) is an explicit ICANN rule, from c's
 * suffix slots when they hold it (c NULL: asked each time). */
static bool suffix_public(const psl_ctx_t *ctx, struct dn_cache *c, const char *sfx)
{
    if (!c)
        return psl_is_public_suffix2(ctx, sfx, PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE);
    size_t len = 0;
    uint64_t h = 0xcbf29ce484222325ull;   /* FNV-1a */
    for (; sfx[len]; len++)
        h = (h ^ (unsigned char)sfx[len]) * 0x100000001b3ull;
    if (len > DNSNAME_MAX)   /* a normalized name never is; a suffix neither */
        return psl_is_public_suffix2(ctx, sfx, PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE);
    struct sfx_slot *sl = &c->sfx[(h ^ (h >> 29)) % CFG_DNSNAME_SUFFIX_SLOTS];
    if (memcmp(sl->s, sfx, len + 1) == 0)
        return sl->is_public;
    bool pub = psl_is_public_suffix2(ctx, sfx, PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE);
    memcpy(sl->s, sfx, len + 1);
    sl->is_public = pub;
    return pub;
}

/* `norm` is normalized: public when a proper suffix of it is an explicit
 * ICANN rule.  Every suffix is tried, not only the last label, because
 * the list does not always carry the TLD itself (it has co.za, not za). */
static bool public_normalized(const psl_ctx_t *ctx, struct dn_cache *c, const char *norm)
{
    if (reserved(norm))
        return false;
    for (const char *p = strchr(norm, '.'); p; p = strchr(p + 1, '.'))
        if (suffix_public(ctx, c, p + 1))
            return true;
    return false;
}

/* The answer for `name`, looked up in the list (with c's suffix slots). */
static uint8_t answer(const psl_ctx_t *ctx, struct dn_cache *c, const char *name)
{
    char norm[DNSNAME_MAX + 1];
    if (!normalize(name, norm) || !public_normalized(ctx, c, norm))
        return DN_NOT_PUBLIC;
    /* Both sections.  The walk from the left stops at the first suffix
     * and a public name has a listed one before its last label, so the
     * star rule libpsl applies here never decides anything. */
    const char *reg = psl_registrable_domain(ctx, norm);
    if (!reg)
        return DN_NO_REGISTERED;
    size_t nl = strlen(norm), rl = strlen(reg);
    if (rl == 0 || rl > nl || memcmp(norm + nl - rl, reg, rl) != 0)
        return DN_NO_REGISTERED;   /* not a suffix: libpsl never answers so */
    return (uint8_t)(nl - rl);
}

/* The answer for `name`, from this thread's cache when it holds it. */
static uint8_t lookup(const psl_ctx_t *ctx, const char *name)
{
    size_t len = 0;
    uint64_t h = 0xcbf29ce484222325ull;   /* FNV-1a */
    for (; len <= DN_KEY_MAX && name[len]; len++)
        h = (h ^ (unsigned char)name[len]) * 0x100000001b3ull;
    struct dn_cache *c = len > DN_KEY_MAX || len == 0 ? NULL : cache_get();
    if (!c)
        return answer(ctx, NULL, name);
    size_t si = (h ^ (h >> 29)) % DN_SETS;
    struct dn_set *set = &c->set[si];
    uint32_t tag = (uint32_t)(h >> 32);
    if (++c->clock == 0) {   /* wrapped: every slot equally old */
        for (size_t i = 0; i < DN_SETS; i++)
            for (int w = 0; w < DN_WAYS; w++)
                if (c->set[i].used[w])
                    c->set[i].used[w] = 1;
        c->clock = 2;
    }
    int victim = 0;
    for (int w = 0; w < DN_WAYS; w++) {
        if (set->used[w] && set->tag[w] == tag &&
            memcmp(c->slot[si][w].name, name, len + 1) == 0) {
            set->used[w] = c->clock;
            return c->slot[si][w].reg;
        }
        if (set->used[w] < set->used[victim])
            victim = w;
    }
    uint8_t a = answer(ctx, c, name);
    struct dn_slot *s = &c->slot[si][victim];
    memcpy(s->name, name, len + 1);
    s->reg = a;
    set->tag[victim] = tag;
    set->used[victim] = c->clock;
    return a;
}

bool dnsname_public(const char *name)
{
    const psl_ctx_t *ctx = psl_get();
    return ctx && name && lookup(ctx, name) != DN_NOT_PUBLIC;
}

const char *dnsname_registered_domain(const char *name, char *buf, size_t len)
{
    const psl_ctx_t *ctx = psl_get();
    if (!ctx || !buf || !name)
        return NULL;
    uint8_t a = lookup(ctx, name);
    if (a == DN_NOT_PUBLIC || a == DN_NO_REGISTERED)
        return NULL;
    /* The normalized name is the name lower-cased without its trailing
     * dot; the registered domain is its tail from offset a. */
    size_t nl = strlen(name);
    if (nl > 0 && name[nl - 1] == '.')
        nl--;
    size_t n = nl - a;
    if (n >= len)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char ch = name[a + i];
        buf[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
    }
    buf[n] = '\0';
    return buf;
}
