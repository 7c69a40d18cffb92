/*
 * keylog.h - TLS session secrets from NSS key log text (SSLKEYLOGFILE).
 *
 * A struct keylog holds the secrets a user handed us (--keylog FILE, or the
 * Decryption Secrets Blocks of a pcapng file, see tls/pcapng_dsb.h), keyed
 * by the 32-byte ClientHello.random they belong to.  The session code looks
 * a connection's secrets up once it has seen the ClientHello and derives
 * record keys from them (tls/decrypt.h).
 *
 * It parses the NSS key log format: one secret per line,
 *
 *   LABEL <SP> client_random(64 hex digits) <SP> secret(hex) [CR] LF
 *
 * Labels kept: CLIENT_RANDOM (the TLS 1.2 master secret, 48 bytes) and the
 * TLS 1.3 secrets CLIENT_EARLY_TRAFFIC_SECRET, CLIENT_HANDSHAKE_TRAFFIC_SECRET,
 * SERVER_HANDSHAKE_TRAFFIC_SECRET, CLIENT_TRAFFIC_SECRET_0,
 * SERVER_TRAFFIC_SECRET_0 and EXPORTER_SECRET (32 or 48 bytes, the length of
 * the suite's hash).  Hex digits may be upper or lower case; fields may be
 * separated by runs of spaces or tabs; "#" comment lines and blank lines are
 * skipped.  Other well-formed labels (RSA, EARLY_EXPORTER_SECRET, ECH_*) are
 * counted as ignored.  A malformed line is counted and skipped, never fatal.
 *
 * It does not derive keys, decrypt, or decide which secret a connection
 * needs; it does not keep the RSA pre-master form (RSA key exchange is not
 * decrypted).
 *
 * Container contract:
 *   max entries   max_entries client randoms (keylog_new; 0 selects
 *                 KEYLOG_MAX_ENTRIES_DEFAULT, never more than
 *                 KEYLOG_MAX_ENTRIES_LIMIT).  Secrets for a new client random
 *                 beyond the cap are dropped and counted (counts.capped);
 *                 secrets for a known random are still added.
 *   memory        one allocation per client random: a 42-byte header (on
 *                 LP64) and the secrets present, packed (32 or 48 bytes
 *                 each): 90 bytes for a TLS 1.2 master secret, 106 for the
 *                 two TLS 1.3 handshake secrets, 378 with all seven; plus a
 *                 bucket array (a power of two, grown with the entries, at
 *                 most the next power of two >= max_entries).  With the
 *                 default cap that is about 50 MiB at most, about 17 MiB for
 *                 TLS 1.3 handshake secrets only.  An entry is reallocated
 *                 (the old copy wiped) when a label is added to it.  The
 *                 store is filled at startup from user-supplied files, so it
 *                 uses the system allocator, not a packet-path memcap.
 *   eviction      none: entries live until keylog_free().
 *   duplicates    the first secret seen for (client random, label) wins; a
 *                 repeat of the same value counts as a duplicate, a different
 *                 value as a conflict.  Load the most trusted source first.
 *   hashing       SipHash-2-4 over the client random with a key drawn per
 *                 keylog_new() (the randoms come from captures).
 *   secrets       wiped (OPENSSL_cleanse) on keylog_free(), and every read
 *                 buffer that held secret text is wiped after use.
 *
 * Not thread-safe while loading; lookups on a fully loaded store may run
 * concurrently.
 */
#ifndef PINSCOPE_TLS_KEYLOG_H
#define PINSCOPE_TLS_KEYLOG_H

#include <stddef.h>
#include <stdint.h>

#define KEYLOG_MAX_ENTRIES_DEFAULT  (1u << 17) /* client randoms kept when keylog_new(0) */
#define KEYLOG_MAX_ENTRIES_LIMIT    (1u << 24) /* largest max_entries keylog_new() accepts */
#define KEYLOG_LINE_MAX             1024      /* longest line parsed (valid lines are < 260) */
#define KEYLOG_RANDOM_LEN           32        /* ClientHello.random */
#define KEYLOG_SECRET_MAX           48        /* longest secret (SHA-384, TLS 1.2 master) */

/* The labels kept (keylog_entry_secret()). */
enum keylog_label {
    KEYLOG_CLIENT_RANDOM = 0,                /* TLS 1.2 master secret, 48 bytes */
    KEYLOG_CLIENT_EARLY_TRAFFIC_SECRET,
    KEYLOG_CLIENT_HANDSHAKE_TRAFFIC_SECRET,
    KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET,
    KEYLOG_CLIENT_TRAFFIC_SECRET_0,
    KEYLOG_SERVER_TRAFFIC_SECRET_0,
    KEYLOG_EXPORTER_SECRET,
    KEYLOG_LABEL_COUNT
};

/* Failure values of the load functions. */
enum keylog_err {
    KEYLOG_E_ARG = -1,     /* NULL store or buffer */
    KEYLOG_E_OPEN = -2,    /* the file cannot be opened (err says why) */
    KEYLOG_E_READ = -3,    /* read error part-way (what was read is kept) */
    KEYLOG_E_NOMEM = -4,   /* allocation failed (what was stored is kept) */
    KEYLOG_E_TOOBIG = -5,  /* the file is over KEYLOG_FILE_MAX bytes (nothing past it read) */
    KEYLOG_E_NOTKEYLOG = -6, /* lines but not one key log line (err names the first) */
};

#define KEYLOG_FILE_MAX ((uint64_t)512 << 20)   /* bytes read of one key log file */

/* One secret of an entry, as keylog_entry_secret() gives it. */
struct keylog_secret {
    uint8_t len;                      /* 0: not known; else 32 or 48 */
    const uint8_t *v;                 /* len bytes in the store; NULL if len is 0 */
};

/* All secrets known for one client random (opaque: keylog_entry_secret()). */
struct keylog_entry;

/* Cumulative counts over every load into one store. */
struct keylog_counts {
    uint64_t lines;        /* lines read, comments and blanks included */
    uint64_t secrets;      /* secrets stored */
    uint64_t ignored;      /* well-formed lines with a label not kept */
    uint64_t malformed;    /* lines skipped: fields, hex, lengths, too long */
    uint64_t first_malformed;  /* line number of the first of them in the last file (0: none) */
    uint64_t duplicates;   /* same random, label and secret seen again */
    uint64_t conflicts;    /* same random and label, different secret (first kept) */
    uint64_t capped;       /* secrets dropped: max_entries randoms already known */
};

struct keylog;

/*
 * Create an empty store for at most max_entries client randoms (0 selects
 * KEYLOG_MAX_ENTRIES_DEFAULT).  Returns NULL if max_entries is above
 * KEYLOG_MAX_ENTRIES_LIMIT or memory is short.  Free with keylog_free().
 */
struct keylog *keylog_new(size_t max_entries);

/* Wipe every secret and free the store.  NULL is a no-op. */
void keylog_free(struct keylog *kl);

/*
 * Load an NSS key log file.  Returns the number of secrets newly stored
 * (0 is not an error: an empty file, or only duplicates), or a negative
 * enum keylog_err with a one-line message in err (file name and reason).
 * A file that cannot be opened is KEYLOG_E_OPEN.  A file with malformed
 * lines and no key log line at all is not a key log: KEYLOG_E_NOTKEYLOG,
 * err naming the first bad line.  Malformed lines in a key log are
 * skipped and counted (keylog_counts()); err then says how many and where
 * the first is, with a return value >= 0.  Reading stops with
 * KEYLOG_E_TOOBIG past KEYLOG_FILE_MAX bytes (/dev/zero, a wrong file).
 * Lines may end in LF or CRLF; the last line needs no newline.  Reads in
 * bounded chunks; a line longer than KEYLOG_LINE_MAX is skipped as
 * malformed.
 * Note: the result saturates at INT_MAX.
 */
int keylog_load_file(struct keylog *kl, const char *path, char *err, size_t errlen);

/*
 * Load key log text from memory (e.g. a pcapng Decryption Secrets Block).
 * The buffer is not kept and not modified (the caller wipes it).  Returns
 * the number of secrets newly stored, KEYLOG_E_ARG, or KEYLOG_E_NOMEM.  A
 * NUL byte counts as a blank, so zero padding after the text is harmless.
 */
int keylog_load_buffer(struct keylog *kl, const uint8_t *data, size_t len);

/*
 * The secrets known for client_random, or NULL if none.  The entry belongs
 * to the store and stays valid until keylog_free() or the next load into
 * the store (adding a label moves an entry).  Read its secrets with
 * keylog_entry_secret().
 */
const struct keylog_entry *keylog_find(const struct keylog *kl,
                                       const uint8_t client_random[KEYLOG_RANDOM_LEN]);

/*
 * The secret of entry e for label l: len 0 (and v NULL) when it is not
 * known, when l is not a kept label, or when e is NULL.  v points into the
 * entry, valid as long as it is.
 */
struct keylog_secret keylog_entry_secret(const struct keylog_entry *e, enum keylog_label l);

/* The client random entry e is kept under (KEYLOG_RANDOM_LEN bytes), or
 * NULL if e is NULL. */
const uint8_t *keylog_entry_random(const struct keylog_entry *e);

/* Number of client randoms stored. */
size_t keylog_size(const struct keylog *kl);

/* Cumulative counts (never NULL for a valid store). */
const struct keylog_counts *keylog_counts(const struct keylog *kl);

/* One line for the startup log, e.g. "12 secrets for 3 client randoms;
 * 1 malformed line skipped".  Returns buf. */
const char *keylog_summary(const struct keylog *kl, char *buf, size_t len);

/* "CLIENT_RANDOM", "SERVER_HANDSHAKE_TRAFFIC_SECRET", ... or "?" */
const char *keylog_label_name(enum keylog_label l);

#endif
