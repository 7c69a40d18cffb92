/*
 * strhash.h - the keyed hashes of server names and client fingerprints by
 * which the legs (detect/legs.h) and answers (detect/answers.h) tables
 * bucket and compare connections.
 *
 * SipHash-2-4 with one key drawn per process (hash_random_key): the hashes
 * decide equality in those tables, so they stay keyed, and one key lets a
 * connection's name and fingerprint be hashed once for both.
 *
 * Container contract:
 *   memo      per thread, the last CFG_DETECT_HASH_NAMES names and
 *             CFG_DETECT_HASH_FPS fingerprints of fewer than
 *             CFG_DETECT_HASH_LEN bytes with their hashes (round robin);
 *             longer strings are hashed every time.  A hit returns what
 *             hashing would (the key never changes within a process).
 */
#ifndef PINSCOPE_STRHASH_H
#define PINSCOPE_STRHASH_H

#include <stdint.h>

enum strhash_kind { STRHASH_NAME, STRHASH_FP };

/* The keyed hash of NUL-terminated s; `kind` only picks the memo. */
uint64_t strhash(enum strhash_kind kind, const char *s);

#endif
