/*
 * policy_int.h - what the policy's own files share (policy/syntax.c,
 * index.c, model.c, load.c, write.c, merge.c, match.c); nothing outside
 * policy/ includes it.
 *
 *   syntax.c  value syntax: domains, pins, CIDRs, dates, versions, JA4/JA3
 *             shapes, DNs; the small containers (string, pin, net lists)
 *   index.c   sorted index (domain or name -> entry index)
 *   model.c   struct policy: entries, new/free, summary, accessors
 *   load.c    the strict loader (over util/jsonv.c)
 *   write.c   the canonical writer
 *   merge.c   merge and learning
 *   match.c   lookups and checks for a connection
 *
 * The loader reads the whole file (at most POLICY_MAX_FILE_BYTES), parses
 * it with cJSON and walks the tree once, checking every key against the
 * list of keys its object may hold, every value's type and syntax, every
 * cap, and duplicates; the first problem ends the load with one line that
 * names the file, the entry and the reason.  Values are normalised on the
 * way in (domains lower-case without trailing dot, "sha256/" prefixes
 * dropped, pins decoded to 32 bytes, versions spelled canonically, hex in
 * fingerprints lower-case), so the writer's output is canonical and loads
 * back into an identical model.
 *
 * Pin sets and issuer sets are kept in file order, with a sorted index by
 * domain for lookups; baselines are kept in file order, with a sorted
 * index by name for duplicate detection and merging.  Nothing is ever
 * removed, so entry pointers handed out stay valid until policy_free().
 *
 * What it does not do: no packet, certificate or hello parsing, no event
 * output, no reloading while running (the engine loads a new policy and
 * switches to it), no IDNA (names are compared as the ASCII the wire
 * carries), and no RFC 4514 parsing beyond what DN comparison needs (ASCII
 * case and spaces after separators are ignored; escapes are compared as
 * written).
 */
#ifndef PINSCOPE_POLICY_INT_H
#define PINSCOPE_POLICY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy/policy.h"

#define POLICY_MAX_CONNECTIONS 9007199254740992ULL /* 2^53: exact in a JSON number */
#define POLICY_DAY 86400
#define POLICY_LAST_DAY 253402214400LL /* 9999-12-31T00:00:00Z */

enum cidr_res { CIDR_OK, CIDR_BAD, CIDR_HOSTBITS };

/* Kinds of string list values, with the reason given when one is invalid. */
enum vkind { V_SNI, V_ISSUER, V_JA4, V_JA4S, V_JA3, V_JA3S, V_VERSION, V_ALPN, V_JA4TS, V_TTL, V_HRR };

#define VBUF_LEN (POLICY_MAX_ISSUER + 1)

struct policy_ix_ent {
    const char *key;   /* borrowed from the entry; never changes */
    size_t idx;        /* index of the entry in its section */
    bool sub;          /* include_subdomains (domain indexes) */
};

struct policy_ix {
    struct policy_ix_ent *v;
    size_t n, cap;
};

struct policy {
    char *comment;
    /* Entry arrays hold void pointers so that one pol_add_entry() serves all
     * four sections; each element points to the section's entry type. */
    void **pin_sets;
    size_t n_pin_sets, cap_pin_sets;
    struct policy_ix pin_ix;
    void **issuer_sets;
    size_t n_issuer_sets, cap_issuer_sets;
    struct policy_ix issuer_ix;
    void **clients;
    size_t n_clients, cap_clients;
    struct policy_ix client_ix;
    void **servers;
    size_t n_servers, cap_servers;
    struct policy_ix server_ix;
    uint64_t learn_capped;
};

extern const char *const pol_vkind_reason[];

/* A string that is there and not empty. */
static inline bool pol_given(const char *s)
{
    return s && *s;
}

/* syntax.c */
char *pol_dup_str(const char *s);
char pol_ascii_lower(char c);
bool pol_ascii_caseeq(const char *a, const char *b);
bool pol_has_ctl(const char *s);
void *pol_grow(void *arr, size_t *cap, size_t n, size_t sz);
int pol_strs_push(struct policy_strs *s, const char *v);
ssize_t pol_strs_find(const struct policy_strs *s, const char *v);
void pol_strs_free(struct policy_strs *s);
int pol_strs_copy(struct policy_strs *d, const struct policy_strs *s);
int pol_pins_push(struct policy_pins *s, const uint8_t v[POLICY_SPKI_LEN]);
ssize_t pol_pins_find(const struct policy_pins *s, const uint8_t v[POLICY_SPKI_LEN]);
void pol_pins_free(struct policy_pins *s);
int pol_pins_copy(struct policy_pins *d, const struct policy_pins *s);
int pol_nets_push(struct policy_nets *s, const struct policy_cidr *c);
bool pol_cidr_eq(const struct policy_cidr *a, const struct policy_cidr *b);
ssize_t pol_nets_find(const struct policy_nets *s, const struct policy_cidr *c);
void pol_nets_free(struct policy_nets *s);
int pol_nets_copy(struct policy_nets *d, const struct policy_nets *s);
size_t pol_domain_norm(const char *s, size_t len, char *out, bool allow_wild);
int pol_b64_val(char c);
bool pol_pin_parse(const char *s, uint8_t out[POLICY_SPKI_LEN]);
void pol_pin_format(const uint8_t in[POLICY_SPKI_LEN], char out[45]);
enum cidr_res pol_cidr_parse(const char *s, struct policy_cidr *c);
void pol_cidr_format(const struct policy_cidr *c, char out[64]);
bool pol_cidr_contains(const struct policy_cidr *c, const uint8_t *ip, int ver);
bool pol_date_parse(const char *s, int64_t *out);
void pol_date_format(int64_t t, char out[32]);
int64_t pol_day_of(int64_t t);
size_t pol_version_index(const char *s);
uint16_t pol_version_code(const char *s);
bool pol_is_alnum(char c);
bool pol_is_digit(char c);
bool pol_hex_lower(const char *s, size_t n, char *out);
bool pol_proto_ok(char c);
bool pol_ja4_norm(const char *s, char *out);
bool pol_ja4s_norm(const char *s, char *out);
bool pol_md5_norm(const char *s, char *out);
bool pol_issuer_ok(const char *s);
bool pol_dn_norm(const char *s, char *out, size_t outlen);
bool pol_dn_equal(const char *a, const char *b);
const char *pol_vnorm(enum vkind k, const char *s, char buf[VBUF_LEN]);
/* index.c */
int pol_keycmp(const char *k, size_t klen, const char *s);
bool pol_ix_search(const struct policy_ix *ix, const char *k, size_t klen, size_t *pos);
bool pol_ix_insert(struct policy_ix *ix, size_t pos, const char *key, size_t idx, bool sub);
ssize_t pol_ix_lookup_domain(const struct policy_ix *ix, const char *name, size_t len);
/* model.c */
void pol_match_free(struct policy_match *m);
void pol_pin_set_free(struct policy_pin_set *s);
void pol_issuer_set_free(struct policy_issuer_set *s);
void pol_client_free(struct policy_client_baseline *b);
void pol_server_free(struct policy_server_baseline *b);
bool pol_add_entry(void ***arr, size_t *n, size_t *cap, struct policy_ix *ix, size_t pos, void *e, const char *key, bool sub);

#endif
