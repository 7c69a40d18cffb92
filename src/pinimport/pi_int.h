/*
 * pi_int.h - what the import's own files share; nothing outside
 * pinimport/ includes it.
 *
 *   pinimport.c  the collection of sets, pins and errors; detection
 *   xml.c        a small strict XML reader (Android config, plists)
 *   android.c    Network Security Config
 *   plist.c      NSPinnedDomains and TrustKit
 *   lines.c      OkHttp, HPKP, curl (line-oriented text)
 *   chromium.c   Chromium static pins JSON and .pins files
 *   dns.c        TLSA and CAA zone lines
 *   caa.c        the CAA issuer-domain -> issuing CA names table
 */
#ifndef PINSCOPE_PI_INT_H
#define PINSCOPE_PI_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "pinimport/pinimport.h"
#include "policy/policy.h"

#define PI_WHERE 192  /* "file:line" kept for messages and comments about a set */

struct pi_set {
    char domain[POLICY_MAX_DOMAIN + 1];
    bool sub;
    uint8_t pins[CFG_PINIMPORT_PINS_MAX][POLICY_SPKI_LEN];
    size_t n;
    bool has_exp;
    int64_t exp;
    const char *what;              /* format description for the comment */
    char where[PI_WHERE];
};

/* CAA: the issuing CA names for one domain, or incomplete when one of its
 * issue values names a CA the table does not know. */
struct pi_iss {
    char domain[POLICY_MAX_DOMAIN + 1];
    const struct pi_caa *cas[16];  /* table entries, in record order */
    size_t n_cas;
    bool incomplete;
    char where[PI_WHERE];
};

struct pi_name {                   /* a Chromium .pins name */
    char name[64];
    bool cert_only;                /* defined by a certificate, no sha256/ line */
    uint8_t pin[POLICY_SPKI_LEN];
};

struct pinimport {
    char domain[POLICY_MAX_DOMAIN + 1];   /* --domain, "" if none */
    pinimport_warn_fn warn;
    void *warn_ctx;
    struct pi_set *sets;
    size_t n_sets, cap_sets;
    struct pi_iss *iss;
    size_t n_iss, cap_iss;
    struct pi_name *names;
    size_t n_names, cap_names;
    uint8_t backup[CFG_PINIMPORT_PINS_MAX][POLICY_SPKI_LEN];
    size_t n_backup;
};

/* One file being read. */
struct pi_file {
    struct pinimport *pi;
    const char *name;
    const char *what;              /* "Android network security config", ... */
    char *err;
    size_t errlen;
};

/* Write "name:line: message" (line 0: "name: message") into f->err;
 * returns -1. */
int pi_fail(struct pi_file *f, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void pi_warn(struct pi_file *f, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Up to 40 printable bytes of s[0..len) for a message. */
const char *pi_quote(const char *s, size_t len, char out[48]);
/* The file name, printable bytes only, cut at 120 bytes. */
const char *pi_file_name(const struct pi_file *f, char out[128]);

/* The set for a domain (s[0..len), checked and normalised).  A set for the
 * domain from an earlier construct: with `extend`, the same set when its
 * include_subdomains agrees, else an error; without, a duplicate-domain
 * error.  NULL after pi_fail(). */
struct pi_set *pi_set_get(struct pi_file *f, unsigned line, const char *s, size_t len, bool sub,
                          bool extend);
/* Add the pin text t[0..len) (base64 of 32 bytes, "sha256/" prefix as
 * given by `prefix`, NULL for none) to set; duplicates are dropped. */
int pi_add_pin_text(struct pi_file *f, unsigned line, struct pi_set *set, const char *t,
                    size_t len, const char *prefix);
int pi_add_pin(struct pi_file *f, unsigned line, struct pi_set *set,
               const uint8_t pin[POLICY_SPKI_LEN]);
/* The CAA record list for a domain (created on first use). */
struct pi_iss *pi_iss_get(struct pi_file *f, unsigned line, const char *dom);
/* Chromium names. */
int pi_name_add(struct pi_file *f, unsigned line, const char *name, size_t len,
                const uint8_t *pin);
const struct pi_name *pi_name_find(const struct pinimport *pi, const char *name);

bool pi_is_space(char c);
/* s[0..len) equals lit ignoring ASCII case. */
bool pi_caseeq(const char *s, size_t len, const char *lit);

/* ---- xml.c ---- */

struct xml_attr {
    char *name, *value;
};

struct xml_node {
    char *name;
    struct xml_attr *attrs;
    size_t n_attrs;
    char *text;                    /* the element's own text, entities decoded */
    size_t text_len;
    struct xml_node *child, *next; /* first child, next sibling */
    unsigned line;
};

struct xml_doc;

/* Parse buf[0..len).  NULL after pi_fail() (DOCTYPE, an entity other than
 * the five predefined ones, CDATA, mismatched or unclosed tags, depth or
 * size caps). */
struct xml_doc *xml_parse(struct pi_file *f, const char *buf, size_t len);
void xml_free(struct xml_doc *d);
const struct xml_node *xml_root(const struct xml_doc *d);
const char *xml_attr(const struct xml_node *n, const char *name);
/* The element's text without leading and trailing white space, in out
 * (NUL-terminated); false when it does not fit. */
bool xml_text_trim(const struct xml_node *n, char *out, size_t outlen);
/* Every attribute of n is in known[] (NULL-terminated), else pi_fail. */
int xml_check_attrs(struct pi_file *f, const struct xml_node *n, const char *const *known);

/* ---- the formats ---- */

int pi_android(struct pi_file *f, const struct xml_node *root);
int pi_plist(struct pi_file *f, const struct xml_node *root);
int pi_okhttp(struct pi_file *f, const char *buf, size_t len);
int pi_hpkp(struct pi_file *f, const char *buf, size_t len);
int pi_curl(struct pi_file *f, const char *buf, size_t len);
int pi_chromium(struct pi_file *f, const char *buf, size_t len);
int pi_chromium_pins(struct pi_file *f, const char *buf, size_t len);
int pi_dns(struct pi_file *f, const char *buf, size_t len);

/* ---- caa.c ---- */

struct pi_caa {
    const char *domain;            /* the CAA issuer domain */
    const char *const *cns;        /* issuing CA CNs, NULL-terminated */
};

/* The table entry for a CAA issuer domain (normalised), or NULL. */
const struct pi_caa *pi_caa_find(const char *ca_domain);

#endif
