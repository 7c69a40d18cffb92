/*
 * sigdb.h - the shipped signature database: issuer names and certificate
 * traits of TLS interception products, and known JA3/JA4/JA4S values.
 *
 * sigdb_load() reads two JSON files from one directory at startup
 * (interception_issuers.json, known_fingerprints.json; the format is in
 * signatures/README.md), and removed_roots.json when the directory has it
 * (policy/roots.h), validates every key and value, compiles every
 * regular expression, and builds read-only tables.  After that the
 * database is immutable: the lookups below are pure functions of their
 * arguments, do no I/O and allocate nothing, so one database can be shared
 * by every worker thread.
 *
 * What it does not do: it does not decide anything.  A match says "this
 * chain carries the name or traits of product X" or "this fingerprint was
 * seen from applications A, B"; whether that is an alert, and how strong,
 * is detect.c's policy.  It parses no certificates (x509/ does) and
 * computes no fingerprints (fp/ does), and it writes no JSON.
 *
 * Containers (fixed once loaded; no eviction, no growth):
 *   issuer entries       at most SIGDB_MAX_ISSUERS, kept in file order
 *   fingerprint entries  at most SIGDB_MAX_FPS, sorted by (type, value),
 *                        file order among equal values; binary search
 *   per file             at most SIGDB_MAX_FILE_BYTES of JSON
 * A file over a cap is refused at load, never truncated.
 */
#ifndef PINSCOPE_POLICY_SIGDB_H
#define PINSCOPE_POLICY_SIGDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "x509/cert.h"

#define SIGDB_ISSUERS_FILE      "interception_issuers.json"
#define SIGDB_FPS_FILE          "known_fingerprints.json"

#define SIGDB_MAX_FILE_BYTES    (16u << 20) /* bytes of one JSON file */
#define SIGDB_MAX_ISSUERS       1024        /* entries in interception_issuers.json */
#define SIGDB_MAX_FPS           65536       /* entries in known_fingerprints.json */
#define SIGDB_MAX_REGEX_LEN     256         /* bytes of one regular expression */
#define SIGDB_LITERAL_MAX       32          /* bytes of a regex's required literal (prefilter) */
#define SIGDB_CHAIN_MAX         16          /* certificates of one chain a match looks at */
#define SIGDB_MAX_STR           2048        /* bytes of any other string (comment, source, ...) */
#define SIGDB_MAX_ID_LEN        64          /* bytes of an issuer entry id ([a-z0-9._-]) */
#define SIGDB_MAX_VALIDITY_DAYS 36500       /* largest accepted max_validity_days */

/* Conditions an issuer entry can state (bits of struct sig_issuer.fields).
 * The names are the JSON keys of the entry's "match" object. */
enum sig_field {
    SIG_F_ISSUER_CN = 1u << 0,       /* issuer_cn_regex */
    SIG_F_ISSUER_O = 1u << 1,        /* issuer_o_regex */
    SIG_F_ISSUER_OU = 1u << 2,       /* issuer_ou_regex: any OU attribute of the name */
    SIG_F_ISSUER_DN = 1u << 3,       /* issuer_dn_regex: the RFC 4514 string */
    SIG_F_SUBJECT_CN = 1u << 4,      /* subject_cn_regex (leaf) */
    SIG_F_SUBJECT_O = 1u << 5,       /* subject_o_regex (leaf) */
    SIG_F_SUBJECT_OU = 1u << 6,      /* subject_ou_regex (leaf, any OU) */
    SIG_F_SUBJECT_DN = 1u << 7,      /* subject_dn_regex (leaf) */
    SIG_F_LEAF_SHARES_KEY = 1u << 8, /* leaf_shares_issuer_key: true */
    SIG_F_NO_SKI = 1u << 9,          /* no_subject_key_identifier: true (leaf) */
    SIG_F_CHAIN_LEN_1 = 1u << 10,    /* chain_length_1: true (leaf sent alone) */
    SIG_F_MAX_VALIDITY = 1u << 11,   /* max_validity_days: N (leaf lifetime <= N days) */
};
#define SIG_F_ISSUER_NAME (SIG_F_ISSUER_CN | SIG_F_ISSUER_O | SIG_F_ISSUER_OU | SIG_F_ISSUER_DN)

struct sig_cond;

/* One entry of interception_issuers.json.  All strings are valid UTF-8,
 * NUL-terminated, owned by the database. */
struct sig_issuer {
    const char *id;          /* stable, unique in the file */
    const char *product;
    const char *category;    /* "antivirus", "cloud proxy (SSE)", "debugging proxy", "test", ... */
    const char *kind;        /* "known-interceptor" */
    const char *source;      /* where the fact comes from; never empty */
    const char *comment;     /* "" when absent */
    unsigned fields;         /* enum sig_field bits: every condition of the entry */
    const char *matched;     /* the same as text: "issuer_cn_regex+issuer_o_regex"; all of
                                them held when this entry is returned */
    size_t index;            /* position in the file, 0-based */
    const struct sig_cond *cond; /* compiled conditions (private) */
    size_t n_cond;
};

enum sig_fp_type { SIG_FP_JA3 = 0, SIG_FP_JA3S, SIG_FP_JA4, SIG_FP_JA4S, SIG_FP_TYPE_COUNT };

enum sig_fp_kind {
    SIG_KIND_KNOWN_GOOD = 0,      /* browsers, OS TLS stacks, ordinary applications */
    SIG_KIND_KNOWN_INTERCEPTOR,   /* upstream ClientHello of an interception product */
    SIG_KIND_SUSPICIOUS,          /* malware lists (abuse.ch SSLBL), C2 frameworks */
    SIG_KIND_LIBRARY,             /* a TLS library or runtime shared by many programs */
};

/* One entry of known_fingerprints.json (strings owned by the database). */
struct sig_fp {
    enum sig_fp_type type;
    const char *value;       /* lower case, shape checked for its type */
    const char *application;
    const char *category;
    enum sig_fp_kind kind;
    const char *kind_name;   /* "known-good", "known-interceptor", "suspicious", "library" */
    const char *source;
    const char *comment;     /* "" when absent */
    size_t index;            /* position in the file, 0-based */
};

/* Tri-state for facts that need a certificate the capture may not hold. */
enum sigdb_tri { SIGDB_UNKNOWN = 0, SIGDB_NO = 1, SIGDB_YES = 2 };

/*
 * What x509/chain.c knows about a chain that struct x509_cert does not:
 * fill it from struct x509_chain.  A condition whose fact is unknown does
 * not hold.
 */
struct sigdb_chain_facts {
    enum sigdb_tri leaf_shares_issuer_key; /* leaf key == its issuer's key; UNKNOWN when
                                              the issuer certificate was not available */
    size_t chain_length;                   /* certificates in the Certificate message,
                                              parsable or not (x509_chain.total); 0: use
                                              the n given to the matcher */
    bool has_validity_days;
    int64_t validity_days;                 /* leaf not_after - not_before, whole days */
};

/* Where the name that satisfied the issuer_* conditions was found. */
enum sig_name_role {
    SIG_NAME_NONE = 0,      /* the entry has no issuer_* condition */
    SIG_NAME_LEAF_ISSUER,   /* chain[0]'s issuer */
    SIG_NAME_CHAIN_ISSUER,  /* chain[cert_index]'s issuer, cert_index >= 1 */
    SIG_NAME_CHAIN_SUBJECT, /* chain[cert_index]'s subject: the product's CA was sent */
};

/* Result of sigdb_match_chain_ex(). */
struct sig_match {
    const struct sig_issuer *sig; /* NULL: nothing matched */
    enum sig_name_role role;
    size_t cert_index;            /* certificate holding that name (0 for the leaf) */
};

struct sigdb;

/*
 * Load both files from directory `dir`.  Returns a new database, or NULL
 * with a one-line reason in err[0..errlen) (always NUL-terminated when
 * errlen > 0):
 *   "DIR/FILE: cannot open: No such file or directory"
 *   "DIR/FILE:12: JSON syntax error"
 *   "DIR/FILE: entry 7 (burp-ca): match: unknown key \"issuer_cm_regex\""
 *   "DIR/FILE: entry 3 (ja4 t13d...): value: not a JA4 fingerprint"
 * Entries are numbered from 1 in file order; the parenthesis holds the
 * entry's id (issuers) or "type value" (fingerprints), "?" when missing.
 * Every key is checked: unknown keys, wrong JSON types, missing required
 * keys, empty source, regexes that do not compile (POSIX extended,
 * case-insensitive), malformed fingerprint values, duplicate ids, invalid
 * UTF-8, and the caps above are all errors; the first one found is
 * reported.  The caller owns the result and frees it with sigdb_free().
 *
 * Note: meant for startup (before privileges are dropped); it allocates
 * freely and is not bounded by the packet-path memcap.  Not thread-safe
 * while it runs (cJSON's error pointer is global).
 */
struct sigdb *sigdb_load(const char *dir, char *err, size_t errlen);

/*
 * The same from memory: the two documents' bytes (not NUL-terminated;
 * iss_name and fps_name are the names error lines start with, NULL for
 * the file names above).  It reads no removed_roots.json (sigdb_roots()
 * is NULL).  sigdb_load() reads each file and parses it with the same code.
 */
struct sigdb *sigdb_load_buffers(const char *iss_name, const char *iss, size_t iss_len,
                                 const char *fps_name, const char *fps, size_t fps_len,
                                 char *err, size_t errlen);

/* The removed public roots (removed_roots.json); NULL when the directory
 * had no such file or db is NULL. */
struct roots;
const struct roots *sigdb_roots(const struct sigdb *db);

/* Free a database and everything it owns.  NULL is fine.  No pointer
 * obtained from it may be used afterwards. */
void sigdb_free(struct sigdb *db);

/* Entry counts; entry i (0-based, file order) of the issuer list; NULL past
 * the end. */
size_t sigdb_issuer_count(const struct sigdb *db);
size_t sigdb_fp_count(const struct sigdb *db);
const struct sig_issuer *sigdb_issuer_at(const struct sigdb *db, size_t i);

/*
 * Match a server chain (leaf first, as sent; chain[i] may be NULL for a
 * certificate that did not parse) against the issuer entries.  An entry
 * matches when all of its conditions hold:
 *   issuer_* conditions  all on one name, tried in this order: the leaf's
 *                        issuer, then for each further certificate its
 *                        issuer and its subject (the product's CA sent in
 *                        the chain);
 *   subject_* conditions on the leaf's subject;
 *   traits               on `facts`; when facts is NULL they are derived
 *                        from the certificates: chain length n, the leaf
 *                        sharing chain[1]'s SPKI, the leaf's validity.
 * A regex condition on an attribute the name lacks does not hold.
 * Returns the first matching entry in file order, NULL when none (or when
 * db is NULL or n is 0).  The entry's `matched` says which fields held.
 *
 * Note: a few hundred regexec() calls per chain with the shipped file;
 * callers should run it once per distinct chain (e.g. keyed by the leaf's
 * SHA-256), not per connection.
 */
const struct sig_issuer *sigdb_match_chain(const struct sigdb *db,
                                           const struct x509_cert *const *chain, size_t n,
                                           const struct sigdb_chain_facts *facts);

/* The same, also saying which certificate's name matched.  *out is always
 * written (out->sig NULL when nothing matched); returns out->sig. */
const struct sig_issuer *sigdb_match_chain_ex(const struct sigdb *db,
                                              const struct x509_cert *const *chain, size_t n,
                                              const struct sigdb_chain_facts *facts,
                                              struct sig_match *out);

/*
 * All fingerprint entries with this type and value (exact, case-sensitive:
 * values are lower case as fp/ produces them).  Stores up to max pointers
 * in out[] in file order and returns how many entries exist in total
 * (which may exceed max; out may be NULL when max is 0).  0 when nothing
 * matches, or db or value is NULL.
 */
size_t sigdb_find_fingerprint(const struct sigdb *db, enum sig_fp_type type, const char *value,
                              const struct sig_fp **out, size_t max);

/*
 * The longest run (3 to SIGDB_LITERAL_MAX letters and digits) that every
 * match of the POSIX extended regex `re` contains, into out; "" when there
 * is none worth a prefilter (alternation, only short runs).  Matching
 * tests it with strcasestr() before regexec(), as the regexes are
 * REG_ICASE.
 */
void sigdb_regex_literal(const char *re, char out[SIGDB_LITERAL_MAX + 1]);

/* "ja3", "ja3s", "ja4", "ja4s"; "?" for an out-of-range value. */
const char *sigdb_fp_type_name(enum sig_fp_type type);

/* The JSON key of one enum sig_field bit ("issuer_cn_regex"); "?" if not
 * exactly one known bit. */
const char *sigdb_field_name(unsigned field);

#endif
