/*
 * pcapng_dsb.h - TLS key log text from pcapng Decryption Secrets Blocks.
 *
 * libpcap reads pcapng files but skips Decryption Secrets Blocks (DSB), so
 * before the capture is opened this module walks the file's blocks itself
 * and loads every DSB of secrets type TLSK (NSS key log text) into a
 * struct keylog (tls/keylog.h).  It lives in tls/ rather than capture/
 * because its output is a TLS key store; it reads the file on its own and
 * shares nothing with capture/pcap.c.
 *
 * It does not read packets, interface descriptions or options, does not
 * load other secrets types (WireGuard, ZigBee, SSH, OPC UA: counted and
 * skipped), and does not scan stdin or pipes (a pre-scan would consume
 * them): such a source returns 0 with a note in err.
 *
 * Wire layout (draft-ietf-opsawg-pcapng, 3.1, 4.1, 4.7), every field in the
 * byte order of the section, fixed by the Section Header Block:
 *
 *   General block                       Section Header Block (SHB)
 *   +-------------------------------+   +-------------------------------+
 *   | Block Type                (4) |   | 0x0A0D0D0A                    |
 *   | Block Total Length        (4) |   | Block Total Length  (>= 28)   |
 *   / Block Body (padded to 4)      /   | Byte-Order Magic 0x1A2B3C4D   |
 *   | Block Total Length        (4) |   | Major (2)     | Minor (2)     |
 *   +-------------------------------+   | Section Length (8, may be -1) |
 *     length: multiple of 4, >= 12      / Options                       /
 *                                       | Block Total Length            |
 *   Decryption Secrets Block (DSB)      +-------------------------------+
 *   +-------------------------------+
 *   | 0x0000000A                    |   Secrets Type 0x544C534B "TLSK":
 *   | Block Total Length  (>= 20)   |   the data is NSS key log text.
 *   | Secrets Type              (4) |
 *   | Secrets Length            (4) |   A file may hold several sections,
 *   / Secrets Data (padded to 4)    /   each with its own byte order.
 *   / Options                       /
 *   | Block Total Length            |
 *   +-------------------------------+
 *
 * Hostile input: every block must be at least 12 bytes (28 for an SHB), a
 * multiple of 4, inside the file, and end with the same length it starts
 * with; otherwise the scan stops there (malformed) and keeps what it
 * loaded.  Each step advances by at least 12 bytes, so the walk ends.  A
 * DSB whose secrets length overruns its block is skipped; secrets data
 * over PCAPNG_DSB_MAX_SECRETS is skipped; at most one DSB is in memory at a
 * time and it is wiped after loading.
 */
#ifndef PINSCOPE_TLS_PCAPNG_DSB_H
#define PINSCOPE_TLS_PCAPNG_DSB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls/keylog.h"

#define PCAPNG_DSB_MAX_SECRETS  (16u * 1024 * 1024) /* largest DSB secrets data loaded */

#define PCAPNG_BT_SHB          0x0A0D0D0Au
#define PCAPNG_BT_DSB          0x0000000Au
#define PCAPNG_BYTE_ORDER_MAGIC 0x1A2B3C4Du
#define PCAPNG_SECRETS_TLSK    0x544C534Bu

/* Failure values (negative). */
enum pcapng_dsb_err {
    PCAPNG_DSB_E_ARG = -1,    /* NULL path/buffer or key store */
    PCAPNG_DSB_E_OPEN = -2,   /* the file cannot be opened or stat'ed */
    PCAPNG_DSB_E_READ = -3,   /* read error part-way */
    PCAPNG_DSB_E_NOMEM = -4,  /* allocation failed */
};

/* What a scan saw. */
struct pcapng_dsb_result {
    bool pcapng;             /* the input starts with a valid SHB */
    bool truncated;          /* the input ends inside a block */
    bool malformed;          /* the walk stopped at a bad block */
    uint64_t stop_offset;    /* where it stopped if truncated or malformed */
    uint32_t sections;       /* SHBs */
    uint64_t blocks;         /* blocks walked, SHBs included */
    uint32_t dsb_tlsk;       /* TLSK DSBs loaded into the key store */
    uint32_t dsb_other;      /* DSBs of another secrets type (skipped) */
    uint32_t dsb_bad;        /* DSBs too short or overrunning their block (skipped) */
    uint32_t dsb_oversize;   /* TLSK DSBs over PCAPNG_DSB_MAX_SECRETS (skipped) */
};

/*
 * Walk the pcapng file `path` and load the text of every TLSK DSB into kl.
 * Returns the number of TLSK DSBs loaded (>= 0), 0 for a file that is not
 * pcapng (e.g. classic pcap: not an error), or a negative enum
 * pcapng_dsb_err with err set.  On a truncated or malformed file it
 * returns what was loaded before the bad block and puts a warning in err
 * ("... stopped at offset N: reason"); err is empty otherwise.  "-" and
 * non-regular files are not read (0, note in err).
 */
int pcapng_dsb_scan(const char *path, struct keylog *kl, char *err, size_t errlen);

/* As pcapng_dsb_scan(), also filling *res (may be NULL). */
int pcapng_dsb_scan_ex(const char *path, struct keylog *kl, struct pcapng_dsb_result *res,
                       char *err, size_t errlen);

/* The same walk over a file image in memory (tests, fuzzing).  Returns as
 * pcapng_dsb_scan() (never PCAPNG_DSB_E_OPEN/E_READ). */
int pcapng_dsb_scan_buffer(const uint8_t *data, size_t len, struct keylog *kl,
                           struct pcapng_dsb_result *res);

#endif
