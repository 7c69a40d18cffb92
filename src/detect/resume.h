/*
 * resume.h - TLS 1.2 full handshakes remembered by session_id and ticket,
 * so that a resumed connection (which shows no certificate) can be linked
 * to the connection whose handshake it resumes, and inherit its chain
 * facts and its verdict.
 *
 * Session IDs and RFC 5077 tickets travel in clear in TLS 1.2: the
 * ServerHello's session_id and the NewSessionTicket sent before the
 * server's ChangeCipherSpec are recorded for a full handshake that showed
 * a chain; a later ClientHello offering that session_id (echoed by the
 * server) or that ticket (and answered without a Certificate) resumes it.
 *
 * Container contract:
 *   entries   at most `cap` (CFG_RESUME_MAX), one per (kind, id or ticket
 *             digest, server address, server port); a full table evicts
 *             the least recently used entry (resume_put() says so, the
 *             caller counts caps.tls_resume_evicted).  Lookups and inserts
 *             are O(1): open addressing at most half full, SipHash with a per-run key.
 *   age       an entry whose origin started more than CFG_RESUME_MAX_AGE_S
 *             (packet time) before the lookup is dropped, not matched.
 *   sharing   one table per process, shared by every worker (a resumed
 *             connection has another source port, so fanout and the file
 *             workers' flow hash usually put it on another worker than its
 *             origin); one mutex around each call.  It survives policy
 *             reloads: it holds facts of the traffic.
 *   memory    cap x 128 bytes of entries (key, numbers, string lengths)
 *             and 12 bytes of links, and an index of 8-byte slots at
 *             least twice the cap, allocated at creation (about 0.6 MiB
 *             for 4096) and touched as entries are first used; plus, per
 *             entry, one allocation of its origin's strings' total length
 *             (about 250 bytes for a typical leaf, at most 566): about
 *             1.7 MiB for 4096 typical entries, 2.9 MiB at most.
 */
#ifndef PINSCOPE_RESUME_H
#define PINSCOPE_RESUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RESUME_SIDS 8    /* an origin's alert sids kept */

enum resume_kind { RESUME_SESSION_ID = 1, RESUME_TICKET = 2 };

/* What a session is looked up by.  `id`: the session_id bytes (zero
 * padded) or the ticket's SHA-256. */
struct resume_key {
    uint8_t kind;            /* enum resume_kind */
    uint8_t ip_ver;          /* 4 or 6 */
    uint16_t port;           /* the server's */
    uint8_t id_len;
    uint8_t server_ip[16];   /* 4 or 16 bytes used, the rest zero */
    uint8_t id[32];
};

/* What a resumed connection inherits from the full handshake. */
struct resume_origin {
    uint64_t flow_id;
    int64_t ts_s;                 /* the origin's first packet */
    char fingerprint[60];         /* leaf SHA-1 as tls.fingerprint: "ab:cd:..." */
    char leaf_sha256[65];
    char spki_sha256[45];         /* pin-sha256 */
    char subject[160], issuer[160];  /* as tls.subject, tls.issuerdn (cut) */
    char product[64];             /* tls.interception_product, "" if none */
    uint32_t sids[RESUME_SIDS];   /* the origin's alerts (verdict), in order */
    uint8_t n_sids;
    int severity;                 /* the most severe of them (1..3), 0 if none */
    char category[24];            /* its detection family */
    char confidence[8];
};

struct resume;

/* A table of `cap` entries (0: none; every put then evicts nothing and
 * keeps nothing).  NULL when out of memory. */
struct resume *resume_new(size_t cap);
void resume_free(struct resume *t);

/* Remember `o` under `k` (an existing entry for `k` is replaced).
 * Returns true when an origin was lost: the least recently used entry was
 * evicted for it, or memory for o's strings was short (then nothing is
 * kept under `k`). */
bool resume_put(struct resume *t, const struct resume_key *k, const struct resume_origin *o);

/* The origin remembered under `k`, copied to *o, and the entry marked
 * recently used.  False when none, or when it started more than
 * CFG_RESUME_MAX_AGE_S before now_s (the entry is then dropped). */
bool resume_get(struct resume *t, const struct resume_key *k, int64_t now_s,
                struct resume_origin *o);

/* Entries held now (tests). */
size_t resume_count(struct resume *t);

#endif
