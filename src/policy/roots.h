/*
 * roots.h - roots removed from the public trust store
 * (signatures/removed_roots.json; the format is in signatures/README.md).
 *
 * A chain that does not validate today may have validated when it was
 * captured: its root was public then and left Mozilla's bundle later
 * (Symantec's GeoTrust/thawte/VeriSign roots, DST Root CA X3, ...).  This
 * module loads the list of such roots (subject name as pinscope prints it,
 * certificate and SPKI fingerprints, the date each left the store, the
 * source) and says whether a chain leads to one of them.  It decides
 * nothing: detect.c weighs the match against the capture's time.
 *
 * Containers: at most CFG_ROOTS_MAX entries, a file of at most
 * CFG_ROOTS_MAX_FILE_BYTES, strings of at most CFG_ROOTS_MAX_STR bytes
 * (config.h); over a cap the load fails, nothing is truncated.  Read-only
 * after load; lookups allocate nothing and may run on any thread.
 */
#ifndef PINSCOPE_POLICY_ROOTS_H
#define PINSCOPE_POLICY_ROOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "x509/cert.h"

#define ROOTS_FILE "removed_roots.json"

struct removed_root {
    const char *id;               /* [a-z0-9._-], unique in the file */
    const char *label;            /* the store's name for the root */
    const char *subject_dn;       /* RFC 4514, as tls.chain[].subject / issuer */
    const char *store;            /* "mozilla" */
    const char *removed;          /* YYYY-MM-DD */
    int64_t removed_epoch;        /* that day, 00:00 UTC */
    const char *source;           /* where the removal and its date come from */
    const char *certificate_source; /* where sha256/spki_sha256 come from; "" if absent */
    const char *comment;          /* "" if absent */
    bool has_sha256, has_spki;
    uint8_t sha256[32];           /* of the certificate's DER */
    char spki_sha256[45];         /* base64, as x509_cert.spki_sha256 */
    size_t index;                 /* 0-based position in the file */
    size_t line;                  /* line of the entry's opening brace */
};

/* How a chain reached a removed root. */
enum roots_how {
    ROOTS_BY_CERT = 1,     /* the root certificate itself was sent (same SHA-256) */
    ROOTS_BY_SUBJECT,      /* a certificate sent carries the root's name and (when the
                              file gives it) the root's key */
    ROOTS_BY_ISSUER,       /* a certificate sent was issued under the root's name */
    ROOTS_KEY_DIFFERS,     /* a certificate sent carries the root's name with another key */
};

struct roots_match {
    const struct removed_root *root;
    enum roots_how how;
    size_t cert_index;     /* the certificate that matched */
};

struct roots;

/*
 * Parse a removed_roots.json held in buf[0..len) (`name` starts error
 * lines).  NULL with one line in err on any problem:
 *   "NAME:14: entry 2 (geotrust-global-ca): removed: not a date (YYYY-MM-DD)"
 *   "NAME: not valid JSON (line 3, column 9)"
 * Every key is checked (unknown, duplicate, wrong type, missing required,
 * empty source, invalid UTF-8, over a cap, duplicate id).
 */
struct roots *roots_load_buffer(const char *name, const char *buf, size_t len, char *err,
                                size_t errlen);
/* The same from a file (regular, at most CFG_ROOTS_MAX_FILE_BYTES). */
struct roots *roots_load_file(const char *path, char *err, size_t errlen);
void roots_free(struct roots *r);

size_t roots_count(const struct roots *r);
const struct removed_root *roots_at(const struct roots *r, size_t i);

/*
 * Whether the chain (leaf first, as sent; entries may be NULL) leads to a
 * removed root.  Tried in this order, the first that holds wins: a
 * certificate sent is the root (SHA-256); a certificate sent carries a
 * root's subject name (ROOTS_KEY_DIFFERS when its SPKI is not the root's);
 * a certificate's issuer is a root's name, the top certificate first.
 * Names compare exactly (pinscope's RFC 4514 text).  False when nothing
 * matched or r is NULL.
 */
bool roots_match_chain(const struct roots *r, const struct x509_cert *const *chain, size_t n,
                       struct roots_match *out);

#endif
