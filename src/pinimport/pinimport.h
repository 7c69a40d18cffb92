/*
 * pinimport.h - the pin formats pinned apps ship, read into pinscope
 * policy entries (`pinscope policy import`).
 *
 * Formats (detected by content, or named):
 *   android        Android Network Security Config XML (<pin-set>)
 *   okhttp         OkHttp CertificatePinner .add("host", "sha256/...")
 *                  calls, or "host sha256/..." lines
 *   plist          iOS Info.plist NSPinnedDomains and TrustKit
 *                  TSKPinnedDomains (XML plists)
 *   hpkp           Public-Key-Pins headers
 *   curl           curl --pinnedpubkey "sha256//...;sha256//..." values
 *   chromium       Chromium static pins JSON (// comments allowed)
 *   chromium-pins  the .pins file that names Chromium's hashes
 *   dns            zone-file TLSA (pins) and CAA (expected issuers) records
 * The mapping rules are in src/policy/README.md ("Importing pins").
 *
 * Use: pinimport_new(), pinimport_buffer() once per file (Chromium .pins
 * files before the JSON that names their hashes), then pinimport_finish()
 * adds the collected entries to a policy as hand-written entries.  The
 * first problem in a file stops that file with one line naming the file
 * and the line (or the JSON entry): "nsc.xml:14: <pin digest="SHA-1">:
 * only SHA-256 pins".  Warnings (a TLSA record of a type that carries no
 * SPKI hash, a CAA issuer domain not in the table) go to the warn
 * callback and do not stop anything.
 *
 * The readers are text parsers over the caller's buffer; nothing here
 * touches files, the network or the clock.
 */
#ifndef PINSCOPE_PINIMPORT_H
#define PINSCOPE_PINIMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct policy;

enum pinimport_format {
    PINIMPORT_AUTO = 0,
    PINIMPORT_ANDROID,
    PINIMPORT_OKHTTP,
    PINIMPORT_PLIST,
    PINIMPORT_HPKP,
    PINIMPORT_CURL,
    PINIMPORT_CHROMIUM,
    PINIMPORT_CHROMIUM_PINS,
    PINIMPORT_DNS,
    PINIMPORT_NFORMATS
};

struct pinimport;

typedef void (*pinimport_warn_fn)(void *ctx, const char *msg);

/* An empty import.  domain: the name HPKP headers and curl strings without
 * their own "domain:" prefix apply to (--domain), or NULL.  NULL when out
 * of memory or domain is not a valid name. */
struct pinimport *pinimport_new(const char *domain, pinimport_warn_fn warn, void *warn_ctx);
void pinimport_free(struct pinimport *pi);

/* A pin (base64 SHA-256, "sha256/" allowed) to file as a backup pin
 * wherever it appears (--backup); with --domain it is also added to that
 * domain's set.  -1 if it is not a valid pin or there are too many. */
int pinimport_backup(struct pinimport *pi, const char *pin);

/* Read one file's bytes.  name: used in messages.  fmt: PINIMPORT_AUTO to
 * detect.  Returns 0, or -1 with one line in err ("name:line: reason");
 * entries read before the error stay collected, so the caller should
 * treat -1 as fatal for the whole import. */
int pinimport_buffer(struct pinimport *pi, const char *name, const char *buf, size_t len,
                     enum pinimport_format fmt, char *err, size_t errlen);

struct pinimport_stats {
    size_t pin_sets, issuer_sets;   /* added to the policy */
    size_t kept;                    /* not added: the policy already had the domain */
};

/* Add every collected pin set and issuer set to p (hand-written entries;
 * a domain p already holds is left as it is, counted in kept and warned
 * about).  Returns 0, or -1 with a reason in err (a --backup pin that is
 * in no set, a set whose pins are all backups, out of memory). */
int pinimport_finish(struct pinimport *pi, struct policy *p, struct pinimport_stats *st,
                     char *err, size_t errlen);

/* The format of a buffer by its content, PINIMPORT_AUTO if none fits. */
enum pinimport_format pinimport_detect(const char *buf, size_t len);

const char *pinimport_format_name(enum pinimport_format f);
/* The format named s (also "trustkit", "ios", "tlsa", "caa"), or
 * PINIMPORT_AUTO if unknown. */
enum pinimport_format pinimport_format_parse(const char *s);

#endif
