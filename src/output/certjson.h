/*
 * certjson.h - the JSON of recently written certificates, per worker.
 *
 * A certificate seen again (an intermediate under thousands of leaves, a
 * popular server's leaf) is written exactly as it was the last time: its
 * base64, its x509_chain object, the EVE tls object's leaf members.  Each
 * is a pure function of the certificate, so the writer renders it once,
 * keeps the bytes here and copies them afterwards.
 *
 * Keyed by the certificate's SHA-256 (x509_entry.sha256), so equal keys
 * are equal certificates.  Slots form sets of CFG_CERTJSON_WAYS picked by
 * the digest; a new certificate takes its set's free or least recently
 * used slot, so a lookup compares at most CFG_CERTJSON_WAYS keys, whatever
 * the input.  Caps:
 * `slots` (CFG_CERTJSON_SLOTS) and CFG_CERTJSON_BYTES of buffers in all (a
 * slot's buffers are reused by the next certificate it holds); a fragment
 * over CFG_CERTJSON_FRAGMENT_MAX, or one that would pass the byte cap, is
 * not kept (it is rendered each time, as without a cache).
 *
 * Threads: one per worker (struct eve), no locking.
 */
#ifndef PINSCOPE_CERTJSON_H
#define PINSCOPE_CERTJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "output/jw.h"

enum certjson_kind {
    CERTJSON_BASE64 = 0,   /* "MIIB...", the DER as EVE tls.chain holds it */
    CERTJSON_OBJECT,       /* {...}, the x509_chain object (fmt.c) */
    CERTJSON_EVE_LEAF,     /* "subject":...,"subjectaltname":[...] (eve.c) */
    CERTJSON_ECS_LEAF,     /* the ECS tls.server/client leaf members (ecs.c) */
    CERTJSON_KINDS
};

struct certjson;

struct certjson *certjson_new(size_t slots);
void certjson_free(struct certjson *cj);

/* The kept JSON of `kind` for the certificate with this SHA-256, and its
 * length; NULL when not kept.  Valid until the next certjson_put(). */
const char *certjson_get(struct certjson *cj, const uint8_t sha256[32], enum certjson_kind kind,
                         size_t *len);

/* Keep `n` bytes of JSON as `kind` for this certificate, replacing what
 * its slot held for another one.  Silently keeps nothing at a cap or when
 * memory runs out. */
void certjson_put(struct certjson *cj, const uint8_t sha256[32], enum certjson_kind kind,
                  const char *json, size_t n);

/*
 * Rendering a fragment: certjson_scratch() gives a writer over the cache's
 * own scratch line, emptied; write the fragment there (at depth 0), then
 * certjson_keep() keeps its bytes from offset `skip` (1 to drop an opening
 * '{' when the fragment is a run of members) and points *json, *len at
 * them: the kept copy, or the scratch itself when nothing could be kept.
 * Returns false when the scratch writer failed (nothing to copy).
 */
struct jw *certjson_scratch(struct certjson *cj);
bool certjson_keep(struct certjson *cj, const uint8_t sha256[32], enum certjson_kind kind,
                   size_t skip, const char **json, size_t *len);

/* Bytes of buffers held (tests). */
size_t certjson_bytes(const struct certjson *cj);

#endif
