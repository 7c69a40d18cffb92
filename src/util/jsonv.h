/*
 * jsonv.h - the strict loader every JSON configuration file goes through
 * (the policy, the signature files).
 *
 * Strict means: the whole file is read (regular files only, at most a
 * stated size), parsed in one go with nothing after the top-level value
 * and no NUL byte inside, and then walked by the caller with the helpers
 * below, which refuse unknown and duplicate keys, wrong types, empty or
 * over-long lists.  The first problem ends the load with one line naming
 * the file, the entry being read and the reason:
 *
 *   policy.json: pin_sets[2] (example.com): pins: not a list
 *   interception_issuers.json: entry 4 (zscaler): match: unknown key "x"
 *
 * Every function that fails returns -1 (or NULL) after writing that line
 * into the caller's buffer; a NULL or empty buffer is allowed.
 */
#ifndef PINSCOPE_JSONV_H
#define PINSCOPE_JSONV_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

struct jsonv {
    const char *file;      /* the name errors start with */
    char entry[640];       /* where in the file ("" outside the entries) */
    char *err;
    size_t errlen;
};

/* Write "file: entry: message" into v->err; returns -1. */
int jsonv_fail(struct jsonv *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A key or value quoted for an error line: printable ASCII only, cut at
 * 40 bytes. */
const char *jsonv_quote(const char *s, char out[48]);

/* A regular file read whole into a NUL-terminated heap buffer of at most
 * `max` bytes (the caller frees).  NULL after jsonv_fail(). */
char *jsonv_read_file(struct jsonv *v, const char *path, size_t max, size_t *len);

/* buf[0..len) parsed as one JSON value with nothing after it.  NULL after
 * jsonv_fail() ("not valid JSON (line L, column C)", larger than max, a
 * NUL byte inside).  The caller deletes the tree. */
cJSON *jsonv_parse(struct jsonv *v, const char *buf, size_t len, size_t max);

/* Every key of obj is one of known[] (NULL-terminated) and appears once. */
int jsonv_check_keys(struct jsonv *v, const cJSON *obj, const char *const *known,
                     const char *prefix);

/* Optional members: absent leaves *out NULL/false; present must have the
 * type.  jsonv_get_array also bounds the length: 1..max elements (0..max
 * with allow_empty). */
int jsonv_get_string(struct jsonv *v, const cJSON *obj, const char *key, const char *prefix,
                     const char **out);
int jsonv_get_bool(struct jsonv *v, const cJSON *obj, const char *key, bool *out);
int jsonv_get_array(struct jsonv *v, const cJSON *obj, const char *key, const char *prefix,
                    size_t max, bool allow_empty, const cJSON **out);

/* s[0..len) is well-formed UTF-8 (no overlongs, no surrogates, nothing
 * above U+10FFFF) without control characters. */
bool jsonv_text_ok(const char *s, size_t len);

#endif
