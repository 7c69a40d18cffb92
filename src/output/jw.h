/*
 * jw.h - a streaming JSON writer: one line appended to a growable buffer.
 *
 * Events are written front to back, straight into the caller's buffer:
 * no tree, no allocation per key, each string escaped once as it is
 * copied.  The writer tracks nesting (for the commas) and nothing else,
 * so the order of the calls is the order of the keys.
 *
 *   struct jw w;
 *   jw_begin(&w, &buf, &len, &cap, max);
 *   jw_obj_open(&w, NULL);
 *     jw_str(&w, "event_type", "tls");
 *     jw_arr_open(&w, "vlan");  jw_uint(&w, NULL, 10);  jw_arr_close(&w);
 *   jw_obj_close(&w);
 *   if (jw_end(&w) < 0) ...   (line dropped, buffer as it was)
 *
 * In an object every value takes a key; in an array the key is NULL.
 * Strings must be valid UTF-8 (callers repair wire text first, see
 * eve.c); the writer escapes '"', '\\' and control characters exactly as
 * cJSON prints them, so lines are byte-identical to cJSON's unformatted
 * output for the same keys and values.
 *
 * Caps: nesting is at most JW_MAX_DEPTH; the buffer never grows past
 * `max` bytes.  Either limit, or a failed realloc, marks the writer
 * failed: later calls do nothing, and jw_end() takes the partial line
 * back out and returns -1.
 */
#ifndef PINSCOPE_JW_H
#define PINSCOPE_JW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define JW_MAX_DEPTH 16

struct jw {
    char **buf;
    size_t *len, *cap;
    size_t max;                   /* the buffer's cap, bytes */
    size_t start;                 /* *len when the line began */
    unsigned depth;
    bool failed;
    bool first[JW_MAX_DEPTH];     /* no value yet at this level */
};

/* Start a line at the end of *buf (len bytes used of cap, growable with
 * realloc up to max). */
void jw_begin(struct jw *w, char **buf, size_t *len, size_t *cap, size_t max);
/* Finish the line with '\n': 0, or -1 when it failed (nothing kept). */
int jw_end(struct jw *w);

/*
 * The writers take the key's length: the inline wrappers below pass
 * strlen(key), which the compiler folds for the literal keys almost every
 * call site uses.  Keys are escaped like any string.
 */
void jw_k_open(struct jw *w, const char *key, size_t klen, char c);
void jw_k_strn(struct jw *w, const char *key, size_t klen, const char *v, size_t n);
void jw_k_plain(struct jw *w, const char *key, size_t klen, const char *v, size_t n);
void jw_k_uint(struct jw *w, const char *key, size_t klen, uint64_t v);
void jw_k_int(struct jw *w, const char *key, size_t klen, int64_t v);
void jw_k_bool(struct jw *w, const char *key, size_t klen, bool v);
void jw_k_double(struct jw *w, const char *key, size_t klen, double v);
void jw_k_hex(struct jw *w, const char *key, size_t klen, const uint8_t *p, size_t n);
void jw_k_base64(struct jw *w, const char *key, size_t klen, const uint8_t *p, size_t n);
/* A value already written as JSON (by another jw, see jw_begin): copied
 * as it is, after the comma and the key. */
void jw_k_raw(struct jw *w, const char *key, size_t klen, const char *json, size_t n);
void jw_close(struct jw *w, char c);
/* An array of small unsigned numbers, written in one go. */
void jw_k_u16_array(struct jw *w, const char *key, size_t klen, const uint16_t *v, size_t n);
/* Members of the open object already written as JSON ("k":v,"k2":v2):
 * copied as they are, after a comma when the object has members. */
void jw_members(struct jw *w, const char *json, size_t n);

#define JW_KLEN(key) ((key) ? strlen(key) : 0)

static inline void jw_obj_open(struct jw *w, const char *key)
{
    jw_k_open(w, key, JW_KLEN(key), '{');
}
static inline void jw_arr_open(struct jw *w, const char *key)
{
    jw_k_open(w, key, JW_KLEN(key), '[');
}
static inline void jw_obj_close(struct jw *w) { jw_close(w, '}'); }
static inline void jw_arr_close(struct jw *w) { jw_close(w, ']'); }

static inline void jw_strn(struct jw *w, const char *key, const char *v, size_t n)
{
    jw_k_strn(w, key, JW_KLEN(key), v, n);
}
static inline void jw_str(struct jw *w, const char *key, const char *v)
{
    jw_k_strn(w, key, JW_KLEN(key), v, strlen(v));
}
/* A string copied between the quotes as it is, unchecked: only for text
 * the program made that cannot hold '"', '\\' or a control character
 * (lower-case hex, decimal, base64, JA3/JA4 strings).  Anything from the
 * wire or from a file goes through jw_strn(), which escapes. */
static inline void jw_plain(struct jw *w, const char *key, const char *v, size_t n)
{
    jw_k_plain(w, key, JW_KLEN(key), v, n);
}
static inline void jw_uint(struct jw *w, const char *key, uint64_t v)
{
    jw_k_uint(w, key, JW_KLEN(key), v);
}
static inline void jw_int(struct jw *w, const char *key, int64_t v)
{
    jw_k_int(w, key, JW_KLEN(key), v);
}
static inline void jw_bool(struct jw *w, const char *key, bool v)
{
    jw_k_bool(w, key, JW_KLEN(key), v);
}
/* A double as cJSON prints it (%1.15g, or %1.17g when that does not read
 * back the same); null for NaN and infinities. */
static inline void jw_double(struct jw *w, const char *key, double v)
{
    jw_k_double(w, key, JW_KLEN(key), v);
}
/* Lower-case hex of bytes, base64 (RFC 4648, padded) of bytes. */
static inline void jw_hex(struct jw *w, const char *key, const uint8_t *p, size_t n)
{
    jw_k_hex(w, key, JW_KLEN(key), p, n);
}
static inline void jw_base64(struct jw *w, const char *key, const uint8_t *p, size_t n)
{
    jw_k_base64(w, key, JW_KLEN(key), p, n);
}
static inline void jw_u16_array(struct jw *w, const char *key, const uint16_t *v, size_t n)
{
    jw_k_u16_array(w, key, JW_KLEN(key), v, n);
}
static inline void jw_raw(struct jw *w, const char *key, const char *json, size_t n)
{
    jw_k_raw(w, key, JW_KLEN(key), json, n);
}

#endif
