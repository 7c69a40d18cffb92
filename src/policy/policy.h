/*
 * policy.h - the analyst's policy file: pins, expected issuers, baselines.
 *
 * A policy holds four lists, each entry with an optional comment:
 *   pin_sets          SPKI SHA-256 pins a domain's chain must contain
 *   expected_issuers  issuer names or issuer-CA pins allowed for a domain
 *   client_baselines  ClientHello fingerprints/versions/ALPN expected from
 *                     a group of clients (by subnet, SNI, server address)
 *   server_baselines  ServerHello fingerprints, minimum version and ALPN
 *                     expected from a group of servers
 * The file format, the matching rules and the merge rule are described in
 * src/policy/README.md.
 *
 * This module loads a policy file (JSON, cJSON) once at startup and
 * validates every key: the first problem fails the load with one line
 * "FILE: pin_sets[3] (example.com): pins[1]: not a base64 SHA-256 pin".
 * It writes a policy back (`pinscope learn`), builds learned entries one
 * observation at a time, merges learned entries into a hand-written policy
 * without changing any hand-written entry, and answers per-connection
 * lookups and checks.  Lookups and checks are pure: they never allocate,
 * never modify the policy, and return pointers into it that stay valid
 * until policy_free() (entries are never removed or moved).
 *
 * It does not parse packets, certificates or hellos, decide what a
 * mismatch means for an event, or write events: callers pass in plain
 * values (SPKI hashes, DN strings, fingerprint strings as pinscope prints
 * them) and get plain results back.
 *
 * Lookup cost: pin sets and issuer sets are found through a sorted index
 * (one binary search per label of the SNI); baselines are scanned linearly
 * (at most POLICY_MAX_ENTRIES, each with at most POLICY_MAX_VALUES
 * criteria).
 */
#ifndef PINSCOPE_POLICY_H
#define PINSCOPE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Caps.  A file over any of them fails to load; learning and merging stop
 * adding at them and count it (policy_learn_capped(), merge stats). */
#define POLICY_MAX_FILE_BYTES (4u * 1024 * 1024) /* size of a policy file */
#define POLICY_MAX_ENTRIES    4096  /* entries per section */
#define POLICY_MAX_PINS       32    /* pins, backup_pins, issuer_pins: each list */
#define POLICY_MAX_VALUES     256   /* any other list (issuers, ja4, alpn, sni, subnets...) */
#define POLICY_MAX_COMMENT    4096  /* bytes of a comment */
#define POLICY_MAX_NAME       320   /* bytes of a baseline name (learned: prefix + domain) */
#define POLICY_MAX_FLIGHT_BYTES 16777215u /* server_flight_bytes: min, max, tolerance */
#define POLICY_MAX_DELAY_US   60000000u   /* server_hello_delay_us: 60 s */
#define POLICY_MAX_ISSUER     1024  /* bytes of an issuer DN or CN */
#define POLICY_MAX_ALPN       255   /* bytes of an ALPN protocol id (RFC 7301) */
#define POLICY_MAX_DOMAIN     253   /* bytes of a domain name without trailing dot */

#define POLICY_SPKI_LEN 32          /* SHA-256 of a SubjectPublicKeyInfo */

/* Failure values of the builder and merge functions. */
enum policy_err {
    POLICY_OK = 0,
    POLICY_EINVAL = -1,   /* a NULL argument or a value that fails validation */
    POLICY_ENOMEM = -2,   /* an allocation failed; the policy stays consistent */
    POLICY_ECAP = -3,     /* a cap was hit; nothing more was added */
};

/* Who wrote an entry and how often it was observed.  learned == false: a
 * hand-written entry, never modified by learning or merging.  A learned
 * entry is written with a "learned" object ({"connections": N,
 * "last_seen": "YYYY-MM-DD"}) and read back as learned. */
struct policy_origin {
    bool learned;
    uint64_t connections;      /* observations (learned only) */
    int64_t last_seen;         /* UTC day of the latest observation, epoch s at 00:00 */
};

struct policy_strs {
    char **v;                  /* n heap strings, NULL when n == 0 */
    size_t n;
};

struct policy_pins {
    uint8_t (*v)[POLICY_SPKI_LEN];
    size_t n;
};

/* An address or network: ver 4 or 6, addr in network order (4 or 16
 * bytes used), prefix 0..32 or 0..128, host bits zero. */
struct policy_cidr {
    uint8_t ver;
    uint8_t prefix;
    uint8_t addr[16];
};

struct policy_nets {
    struct policy_cidr *v;
    size_t n;
};

/* Which connections a baseline applies to.  Every non-empty list must
 * match; an empty match applies to every connection. */
struct policy_match {
    struct policy_nets client_subnets;
    struct policy_strs sni;            /* lower-case; "*.x" = any name below x */
    struct policy_nets server_addresses;
};

/* All fields are read-only for callers. */
struct policy_pin_set {
    char *domain;                      /* lower-case, no trailing dot */
    bool include_subdomains;
    struct policy_pins pins;           /* n >= 1 */
    struct policy_pins backup_pins;    /* may be empty; disjoint from pins */
    bool has_expires;
    int64_t expires;                   /* the "expires" day, epoch s at 00:00 UTC */
    char *comment;                     /* NULL if none */
    struct policy_origin origin;
};

struct policy_issuer_set {
    char *domain;
    bool include_subdomains;
    struct policy_strs issuers;        /* DN (contains '=') or CN value */
    struct policy_pins issuer_pins;    /* issuers + issuer_pins: n >= 1 */
    char *comment;
    struct policy_origin origin;
};

struct policy_client_baseline {
    char *name;                        /* unique among client baselines */
    struct policy_match match;
    struct policy_strs ja4, ja3;       /* ja3: MD5 hex of the JA3 string */
    struct policy_strs tls_versions;   /* canonical names ("TLSv1", "TLS 1.2") */
    struct policy_strs alpn;           /* first ALPN the client offers */
    char *comment;
    struct policy_origin origin;
};

/* A numeric range a server baseline holds (server_flight_bytes,
 * server_hello_delay_us): the values seen and the tolerance around them.
 * A learned range's tolerance follows from its spread (policy_range_rule);
 * a hand-written one may state its own. */
struct policy_range {
    bool set;
    uint32_t min, max, tolerance;
};

struct policy_server_baseline {
    char *name;                        /* unique among server baselines */
    struct policy_match match;
    struct policy_strs ja4s, ja3s;
    /* The TCP stack that answers (fp/ja4t.h): the SYN-ACK's JA4TS and its
     * TTL as seen at the sensor.  A device in line that terminates TCP
     * answers with its own: these hold without session keys. */
    struct policy_strs ja4ts, server_ttl;
    /* What holds without session keys in TLS 1.3 (issue: keyless
     * interception): the size of the server's first encrypted flight
     * (accepted: min - tolerance .. max + tolerance), whether it sent a
     * HelloRetryRequest and for which group ("none" or the group's name),
     * and the ServerHello delay (accepted: up to max + tolerance). */
    struct policy_range flight_bytes;
    struct policy_strs hello_retry;
    struct policy_range hello_delay_us;
    const char *min_tls_version;       /* static canonical name, NULL if none */
    uint16_t min_tls_code;             /* wire value of min_tls_version, 0 if none */
    struct policy_strs alpn;           /* ALPN the server selects */
    char *comment;
    struct policy_origin origin;
};

struct policy;

struct policy_summary {
    size_t pin_sets, issuer_sets, client_baselines, server_baselines;
};

/* ---- lifetime, load, write ---------------------------------------------- */

/* An empty policy (version 1, no entries), or NULL when out of memory.
 * The caller owns it: free with policy_free(). */
struct policy *policy_new(void);

/* Free a policy and everything in it; NULL is allowed.  Every pointer
 * returned by a lookup becomes invalid. */
void policy_free(struct policy *p);

/* Read and validate the policy file at `path`.  Returns a policy the
 * caller owns, or NULL with one line (no newline) in err:
 * "PATH: pin_sets[3] (example.com): pins[1]: not a base64 SHA-256 pin".
 * err may be NULL if errlen is 0; the line is cut to fit errlen. */
struct policy *policy_load(const char *path, char *err, size_t errlen);

/* Same from memory: `buf` holds len bytes of JSON (need not be
 * NUL-terminated; a NUL byte inside fails the load).  `name` is the file
 * name used in error messages. */
struct policy *policy_load_buffer(const char *name, const char *buf, size_t len, char *err,
                                  size_t errlen);

/* Write p to `out` as pretty JSON (cJSON_Print) followed by a newline.
 * Order is deterministic: sections in the order above, entries in the
 * order they were loaded or added, lists in their stored order, keys in a
 * fixed order.  policy_load() of the output gives a policy that writes the
 * same bytes.  Returns 0, or -1 with a reason in err (allocation or write
 * failure; `out` may then hold a partial document).
 * Note: the stream is not flushed or closed. */
int policy_write(const struct policy *p, FILE *out, char *err, size_t errlen);

void policy_summary(const struct policy *p, struct policy_summary *out);

/* Entries per section, or NULL when idx is out of range (for callers that
 * iterate, e.g. to log what was loaded). */
const struct policy_pin_set *policy_pin_set_at(const struct policy *p, size_t idx);
const struct policy_issuer_set *policy_issuer_set_at(const struct policy *p, size_t idx);
const struct policy_client_baseline *policy_client_baseline_at(const struct policy *p,
                                                               size_t idx);
const struct policy_server_baseline *policy_server_baseline_at(const struct policy *p,
                                                               size_t idx);

/* ---- learning ------------------------------------------------------------ */

/*
 * Record one observation into p.  Each call counts as one connection for
 * the entry it touches and advances its last_seen day to `when` (capture
 * time, epoch seconds).  A learned entry is created when no entry has the
 * key yet; an existing learned entry gains the new values; an existing
 * hand-written entry is left alone.  Intended use: learn into a fresh
 * policy_new(), then policy_merge() it into the analyst's file.
 *
 * Keys: pins and issuers by exact domain (include_subdomains false);
 * client baselines by client subnet (/24 for IPv4, /64 for IPv6), named
 * "learned-client-198.18.0.0/24"; server baselines by SNI, or by server
 * address when there is no valid SNI, named "learned-server-api.example.com"
 * or "learned-server-198.18.1.10".
 *
 * Values the caller does not have are NULL (an empty string counts as
 * NULL).  A version string pinscope does not name ("TLS 1.3 draft 28") is
 * not recorded.
 *
 * Returns 0 when recorded, 1 when ignored because a hand-written entry
 * holds the key, POLICY_EINVAL for a NULL/invalid argument or when nothing
 * recordable was given (nothing is changed then), POLICY_ENOMEM, or
 * POLICY_ECAP when the section is full (a value not added to a full list
 * is only counted in policy_learn_capped()).
 */
int policy_learn_pin(struct policy *p, const char *domain, const uint8_t spki[POLICY_SPKI_LEN],
                     int64_t when);

/* issuer_dn and issuer_spki may each be NULL, not both. */
int policy_learn_issuer(struct policy *p, const char *domain, const char *issuer_dn,
                        const uint8_t issuer_spki[POLICY_SPKI_LEN], int64_t when);

/* ip: 4 or 16 bytes per ip_ver (4 or 6).  version: the client's highest
 * offered version (tls.client_version).  alpn: the first ALPN offered. */
int policy_learn_client(struct policy *p, const uint8_t *ip, int ip_ver, const char *ja4,
                        const char *ja3, const char *version, const char *alpn, int64_t when);

/* sni may be NULL; server_ip (4 or 16 bytes per ip_ver) may be NULL when
 * sni is valid.  version: negotiated; alpn: the server's selection.  The
 * baseline's min_tls_version is the lowest version seen. */
int policy_learn_server(struct policy *p, const char *sni, const uint8_t *server_ip,
                        int ip_ver, const char *ja4s, const char *ja3s, const char *version,
                        const char *alpn, int64_t when);

/* The server's TCP stack (JA4TS, SYN-ACK TTL as decimal text; either may
 * be NULL) into the same learned baseline as policy_learn_server(). */
int policy_learn_server_stack(struct policy *p, const char *sni, const uint8_t *server_ip,
                              int ip_ver, const char *ja4ts, const char *ttl, int64_t when);

/* The keyless facts of one TLS 1.3 connection into the same learned
 * baseline: flight_bytes (< 0: none), hello_retry ("none" or a group name;
 * NULL: none), delay_us (< 0: none).  A learned range covers every value
 * seen and its tolerance follows policy_range_rule(). */
int policy_learn_server_keyless(struct policy *p, const char *sni, const uint8_t *server_ip,
                                int ip_ver, int64_t flight_bytes, const char *hello_retry,
                                int64_t delay_us, int64_t when);

enum policy_range_kind { POLICY_RANGE_FLIGHT, POLICY_RANGE_DELAY };

/* The tolerance a learned range gets from its spread:
 *   flight bytes: max(64, 2 x (max - min))
 *   delay (us):   max(10000, max, 2 x (max - min))
 * capped at the range's maximum value. */
uint32_t policy_range_rule(enum policy_range_kind k, uint32_t min, uint32_t max);

/* Values dropped because a learned list was full, since policy_new(). */
uint64_t policy_learn_capped(const struct policy *p);

/* ---- merge --------------------------------------------------------------- */

struct policy_merge_stats {
    size_t added;      /* learned entries copied into dst as new entries */
    size_t extended;   /* learned entries of dst that gained values or counts */
    size_t kept;       /* src entries dropped: dst has a hand-written entry with the key */
    size_t shadowed;   /* src pin/issuer sets dropped: a hand-written
                          include_subdomains parent in dst already covers them */
    size_t skipped;    /* hand-written entries of src (never merged) */
    size_t capped;     /* entries or values not added because of a cap */
};

/*
 * Merge the learned entries of src into dst.  Hand-written entries of dst
 * are never modified.  For each learned entry of src, by key (domain for
 * pin and issuer sets, name for baselines):
 *   - dst has a hand-written entry with the key: dropped (kept);
 *   - pin/issuer set whose domain a hand-written include_subdomains entry
 *     of dst covers: dropped (shadowed), so learning never overrides a
 *     hand-written parent rule with a more specific learned one;
 *   - dst has a learned entry with the key: values not yet present are
 *     appended, connections are added, last_seen is the later day, the
 *     comment is regenerated; match criteria, include_subdomains and
 *     expires stay as in dst; min_tls_version becomes the lower one;
 *   - otherwise: copied into dst as a new learned entry (appended).
 * src is not modified; stats may be NULL.  Returns 0 or POLICY_ENOMEM
 * (dst then holds whatever was merged before the failure).
 */
int policy_merge(struct policy *dst, const struct policy *src, struct policy_merge_stats *stats);

/* ---- hand-written entries from elsewhere (pinscope policy import) ------- */

/*
 * Add a copy of a hand-written pin set (or issuer set) to p, as if it had
 * been in the file: s->origin is ignored and the copy is not learned.
 * s->domain is normalised; pins must be 1..POLICY_MAX_PINS, backup_pins
 * 0..POLICY_MAX_PINS and disjoint from pins (an issuer set needs at least
 * one issuer or issuer pin, each issuer valid).  An entry already holding
 * the domain, hand-written or learned, is never changed: the call returns
 * 1 and adds nothing.  Returns 0 when added, POLICY_EINVAL for an invalid
 * entry, POLICY_ECAP when the section is full, POLICY_ENOMEM.
 */
int policy_add_pin_set(struct policy *p, const struct policy_pin_set *s);
int policy_add_issuer_set(struct policy *p, const struct policy_issuer_set *s);

/* The value syntax of the file, for callers that read pins, names and
 * days from other formats.  policy_pin_parse: 44 base64 characters (with
 * an optional "sha256/" prefix) of exactly 32 bytes, canonical.
 * policy_domain_norm: a domain name as the file accepts it (no wildcard),
 * lower-cased into out without trailing dot; returns its length, 0 if
 * invalid.  policy_date_parse: "YYYY-MM-DD" to epoch seconds at 00:00
 * UTC.  policy_date_format writes that form back. */
bool policy_pin_parse(const char *s, uint8_t out[POLICY_SPKI_LEN]);
void policy_pin_format(const uint8_t pin[POLICY_SPKI_LEN], char out[45]);
size_t policy_domain_norm(const char *s, size_t len, char out[POLICY_MAX_DOMAIN + 1]);
bool policy_date_parse(const char *s, int64_t *out);
void policy_date_format(int64_t t, char out[32]);

/* ---- lookups and checks (pure) ----------------------------------------- */

/* The pin set for a server name: the entry for the exact name, else the
 * entry with include_subdomains for the closest parent, else NULL.  sni
 * holds len bytes (no NUL needed); matching ignores ASCII case and one
 * trailing dot; a name that is not a valid domain matches nothing. */
const struct policy_pin_set *policy_find_pinset(const struct policy *p, const char *sni,
                                                size_t len);

struct policy_pin_result {
    bool matched;       /* some given SPKI is in pins or backup_pins */
    bool backup;        /* ... and it is a backup pin */
    bool expired;       /* the set's expires day is before the capture day: a
                           mismatch is informational only */
    size_t cert_index;  /* index into spkis of the match (0 if none) */
    size_t pin_index;   /* index into pins or backup_pins of the match */
};

/* Check a chain against a pin set.  spkis: the SPKI SHA-256 of each
 * certificate in the served chain (a pin matches any of them, as in HPKP,
 * RFC 7469 section 2.6).  Returns 1 matched, 0 not matched, POLICY_EINVAL
 * for NULL set/out or NULL spkis with n > 0.  out is always filled. */
int policy_pinset_check(const struct policy_pin_set *set, const uint8_t (*spkis)[POLICY_SPKI_LEN],
                        size_t n, int64_t capture_time_s, struct policy_pin_result *out);

/* Issuer set for a server name, same rules as policy_find_pinset(). */
const struct policy_issuer_set *policy_find_issuers(const struct policy *p, const char *sni,
                                                    size_t len);

enum policy_issuer_verdict {
    POLICY_ISSUER_MISMATCH = 0,
    POLICY_ISSUER_MATCH = 1,
    POLICY_ISSUER_UNKNOWN = 2, /* no name matched and issuer_pins could not be
                                  checked (issuing certificate not sent) */
};

struct policy_issuer_result {
    enum policy_issuer_verdict verdict;
    enum { POLICY_ISSUER_BY_NONE, POLICY_ISSUER_BY_DN, POLICY_ISSUER_BY_CN,
           POLICY_ISSUER_BY_PIN } by;
    size_t index;       /* into issuers (DN/CN) or issuer_pins (PIN) */
};

/* Check a leaf's issuer.  issuer_dn: RFC 4514 issuer of the leaf as
 * pinscope prints it; issuer_cn: its CN (NULL if none); issuer_spki: SPKI
 * SHA-256 of the certificate that issued the leaf if it was sent, else
 * NULL.  A DN entry matches the DN ignoring ASCII case and spaces after
 * separators; a CN entry matches the CN ignoring ASCII case; a pin
 * matches issuer_spki.  Any match is enough.  Returns the verdict (also in
 * out), or POLICY_EINVAL for NULL set/out. */
int policy_issuer_check(const struct policy_issuer_set *set, const char *issuer_dn,
                        const char *issuer_cn, const uint8_t issuer_spki[POLICY_SPKI_LEN],
                        struct policy_issuer_result *out);

/* Baselines that apply to a connection, in file order.  client_ip and
 * server_ip hold 4 or 16 bytes per ip_ver (4 or 6) and may be NULL; sni
 * (sni_len bytes) may be NULL.  A criterion whose input is missing does
 * not match.  Stores up to max_out pointers in out and returns how many
 * baselines match (may exceed max_out). */
size_t policy_find_client_baselines(const struct policy *p, const uint8_t *client_ip,
                                    int ip_ver, const char *sni, size_t sni_len,
                                    const uint8_t *server_ip,
                                    const struct policy_client_baseline **out, size_t max_out);

size_t policy_find_server_baselines(const struct policy *p, const uint8_t *client_ip,
                                    int ip_ver, const char *sni, size_t sni_len,
                                    const uint8_t *server_ip,
                                    const struct policy_server_baseline **out, size_t max_out);

enum policy_attr {
    POLICY_ATTR_JA4 = 1,
    POLICY_ATTR_JA3,
    POLICY_ATTR_TLS_VERSION,      /* version not in tls_versions */
    POLICY_ATTR_ALPN,
    POLICY_ATTR_JA4S,
    POLICY_ATTR_JA3S,
    POLICY_ATTR_MIN_TLS_VERSION,  /* version below min_tls_version */
    POLICY_ATTR_JA4TS,            /* the SYN-ACK's JA4TS not in ja4ts */
    POLICY_ATTR_SERVER_TTL,       /* the SYN-ACK's TTL not in server_ttl */
    POLICY_ATTR_FLIGHT_BYTES,     /* first encrypted flight outside server_flight_bytes */
    POLICY_ATTR_HELLO_RETRY,      /* HelloRetryRequest (or none) not in hello_retry */
    POLICY_ATTR_HELLO_DELAY,      /* ServerHello later than server_hello_delay_us allows */
};

/* One deviating attribute.  Pointers are borrowed: seen from the caller,
 * expected from the baseline (or static).  A numeric attribute (flight
 * bytes, delay) has seen and expected NULL and its text in seen_num and
 * expected_num ("2179..2307", "<= 6569"). */
struct policy_dev_item {
    enum policy_attr attr;
    const char *key;                /* policy key: "ja4", "min_tls_version", ... */
    const char *seen;
    const char *const *expected;    /* the baseline's list (one entry for min_tls_version) */
    size_t n_expected;
    char seen_num[24], expected_num[48];
};

#define POLICY_DEV_MAX 10

struct policy_dev {
    size_t n;
    struct policy_dev_item item[POLICY_DEV_MAX];
};

/* Compare a connection with a client baseline.  An attribute is checked
 * when the baseline lists values for it and the seen value is non-NULL
 * and non-empty (JA3 only when the JA4 is not one the baseline allows:
 * a permuted extension order changes JA3 alone); it deviates when the
 * value is not in the list (versions
 * compared by meaning, so "TLS 1.0" equals "TLSv1"; an unnamed version
 * deviates).  version: the client's highest offered version.  Returns the
 * number of deviations (out->n), or POLICY_EINVAL for NULL b/out. */
int policy_client_check(const struct policy_client_baseline *b, const char *ja4,
                        const char *ja3, const char *version, const char *alpn_first,
                        struct policy_dev *out);

/* Same for a server baseline: ja4s/ja3s/alpn not in the lists, or a
 * negotiated version below min_tls_version (a version pinscope does not
 * name is not compared). */
int policy_server_check(const struct policy_server_baseline *b, const char *ja4s,
                        const char *ja3s, const char *version, const char *alpn,
                        struct policy_dev *out);

/* The server's TCP stack against the same baseline, deviations appended
 * to out (after policy_server_check()); returns out->n. */
int policy_server_stack_check(const struct policy_server_baseline *b, const char *ja4ts,
                              const char *ttl, struct policy_dev *out);

/* The keyless facts of a TLS 1.3 connection against the same baseline,
 * deviations appended to out: flight_bytes outside [min - tolerance,
 * max + tolerance], hello_retry not in the list, delay_us above max +
 * tolerance.  A fact the caller does not have (< 0, NULL) or the baseline
 * does not hold is not compared.  Returns out->n. */
int policy_server_keyless_check(const struct policy_server_baseline *b, int64_t flight_bytes,
                                const char *hello_retry, int64_t delay_us,
                                struct policy_dev *out);

/* Canonical name of a TLS version string as the policy file spells it
 * ("TLS 1.0" -> "TLSv1"), or NULL if it is not one of SSLv3 .. TLS 1.3. */
const char *policy_version_canonical(const char *s);

#endif
