/*
 * dnsname.c - public names and registered domains by the Public Suffix
 * List (see dnsname.h).
 */
#include "util/dnsname.h"

#include <libpsl.h>
#include <pthread.h>
#include <string.h>

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

/* `norm` is normalized: public when a proper suffix of it is an explicit
 * ICANN rule.  Every suffix is tried, not only the last label, because
 * the list does not always carry the TLD itself (it has co.za, not za). */
static bool public_normalized(const psl_ctx_t *ctx, const char *norm)
{
    if (reserved(norm))
        return false;
    for (const char *p = strchr(norm, '.'); p; p = strchr(p + 1, '.'))
        if (psl_is_public_suffix2(ctx, p + 1, PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE))
            return true;
    return false;
}

bool dnsname_public(const char *name)
{
    char norm[DNSNAME_MAX + 1];
    const psl_ctx_t *ctx = psl_get();
    return ctx && normalize(name, norm) && public_normalized(ctx, norm);
}

const char *dnsname_registered_domain(const char *name, char *buf, size_t len)
{
    char norm[DNSNAME_MAX + 1];
    const psl_ctx_t *ctx = psl_get();
    if (!ctx || !buf || !normalize(name, norm) || !public_normalized(ctx, norm))
        return NULL;
    /* Both sections.  The walk from the left stops at the first suffix
     * and a public name has a listed one before its last label, so the
     * star rule libpsl applies here never decides anything. */
    const char *reg = psl_registrable_domain(ctx, norm);
    if (!reg)
        return NULL;
    size_t n = strlen(reg);
    if (n >= len)
        return NULL;
    memcpy(buf, reg, n + 1);
    return buf;
}
