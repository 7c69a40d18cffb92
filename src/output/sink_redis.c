/*
 * sink_redis.c - Redis transport (hiredis):
 *
 *   redis://HOST[:PORT]/list/KEY     RPUSH KEY line
 *   redis://HOST[:PORT]/stream/KEY   XADD KEY * event line
 *
 * HOST is a name, an IPv4 address or a bracketed IPv6 address; PORT
 * defaults to 6379; KEY is everything after the type, taken as bytes (it
 * may hold '/' and ':').  No authentication, database selection or TLS.
 *
 * The commands of one unit are pipelined (all appended, then every reply
 * read); each reply is checked.  An error reply (WRONGTYPE, OOM...) skips
 * that line and is counted; a connection error or a reply that does not
 * come within CFG_SINK_IO_TIMEOUT_MS is a lost connection, and the unit
 * resumes after the last line whose reply was read.  A command whose reply
 * was lost with the connection may have been executed: after an outage a
 * line can appear twice, never torn.  Connecting times out after
 * CFG_SINK_CONNECT_TIMEOUT_MS (name resolution is getaddrinfo's, and may
 * take longer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "config.h"
#include "output/sink_impl.h"

#define REDIS_DEFAULT_PORT 6379
#define REDIS_HOST_MAX     255

enum redis_kind { REDIS_LIST, REDIS_STREAM };

struct redis_sink {
    char host[REDIS_HOST_MAX + 1];
    int port;
    enum redis_kind kind;
    char *key;
    size_t key_len;
    redisContext *c;
};

/* Parse "//HOST[:PORT]/list|stream/KEY" into r. */
static int parse_uri(struct redis_sink *r, const char *target, char *err, size_t errlen)
{
    static const char usage[] = "expected redis://HOST:PORT/list/KEY or "
                                "redis://HOST:PORT/stream/KEY";
    if (strncmp(target, "//", 2) != 0) {
        snprintf(err, errlen, "bad Redis URI: %s", usage);
        return -1;
    }
    const char *p = target + 2, *h, *he;
    if (*p == '[') {
        h = p + 1;
        he = strchr(h, ']');
        if (!he) {
            snprintf(err, errlen, "bad Redis URI: unterminated '[' in host");
            return -1;
        }
        p = he + 1;
    } else {
        h = p;
        he = p + strcspn(p, ":/");
        p = he;
    }
    size_t hl = (size_t)(he - h);
    if (hl == 0) {
        snprintf(err, errlen, "bad Redis URI: missing host (%s)", usage);
        return -1;
    }
    if (hl > REDIS_HOST_MAX) {
        snprintf(err, errlen, "bad Redis URI: host longer than %d bytes", REDIS_HOST_MAX);
        return -1;
    }
    for (size_t i = 0; i < hl; i++) {
        char c = h[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_' || c == ':')) {
            snprintf(err, errlen, "bad Redis URI: bad character '%c' in host", c);
            return -1;
        }
    }
    memcpy(r->host, h, hl);
    r->host[hl] = '\0';

    r->port = REDIS_DEFAULT_PORT;
    if (*p == ':') {
        p++;
        long port = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 6) {
            port = port * 10 + (*p - '0');
            p++;
            digits++;
        }
        if (digits == 0 || port < 1 || port > 65535 || (*p != '/' && *p != '\0')) {
            snprintf(err, errlen, "bad Redis URI: port must be 1..65535");
            return -1;
        }
        r->port = (int)port;
    }
    if (strncmp(p, "/list/", 6) == 0) {
        r->kind = REDIS_LIST;
        p += 6;
    } else if (strncmp(p, "/stream/", 8) == 0) {
        r->kind = REDIS_STREAM;
        p += 8;
    } else {
        snprintf(err, errlen, "bad Redis URI: missing /list/KEY or /stream/KEY (%s)", usage);
        return -1;
    }
    if (*p == '\0') {
        snprintf(err, errlen, "bad Redis URI: missing key (%s)", usage);
        return -1;
    }
    r->key_len = strlen(p);
    r->key = strdup(p);
    if (!r->key) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static int redis_connect(struct redis_sink *r, char *err, size_t errlen)
{
    struct timeval ct = {.tv_sec = CFG_SINK_CONNECT_TIMEOUT_MS / 1000,
                         .tv_usec = (CFG_SINK_CONNECT_TIMEOUT_MS % 1000) * 1000};
    struct timeval io = {.tv_sec = CFG_SINK_IO_TIMEOUT_MS / 1000,
                         .tv_usec = (CFG_SINK_IO_TIMEOUT_MS % 1000) * 1000};
    redisContext *c = redisConnectWithTimeout(r->host, r->port, ct);
    if (!c) {
        snprintf(err, errlen, "cannot allocate a Redis context");
        return -1;
    }
    if (c->err || redisSetTimeout(c, io) != REDIS_OK) {
        snprintf(err, errlen, "connect %s:%d: %s", r->host, r->port,
                 c->err ? c->errstr : "cannot set timeout");
        redisFree(c);
        return -1;
    }
    redisEnableKeepAlive(c);
    r->c = c;
    return 0;
}

static int redis_open(void **st, const char *target, char *err, size_t errlen)
{
    struct redis_sink *r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (parse_uri(r, target, err, errlen) < 0 || redis_connect(r, err, errlen) < 0) {
        free(r->key);
        free(r);
        return -1;
    }
    *st = r;
    return 0;
}

static int append(struct redis_sink *r, const char *line, size_t n)
{
    if (r->kind == REDIS_LIST)
        return redisAppendCommand(r->c, "RPUSH %b %b", r->key, r->key_len, line, n);
    return redisAppendCommand(r->c, "XADD %b * event %b", r->key, r->key_len, line, n);
}

static int redis_write(void *st, const char *buf, size_t len, size_t *done, uint64_t *skipped,
                       char *err, size_t errlen)
{
    struct redis_sink *r = st;
    *done = 0;
    if (!r->c || r->c->err) {
        snprintf(err, errlen, "not connected");
        return -1;
    }
    /* Append every command of the unit... */
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) : len;
        if (end > pos && append(r, buf + pos, end - pos) != REDIS_OK) {
            snprintf(err, errlen, "redis: %s", r->c->err ? r->c->errstr : "cannot queue command");
            return -1;
        }
        pos = nl ? end + 1 : len;
    }
    /* ...then read one reply per command, in order. */
    pos = 0;
    while (pos < len) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) : len;
        if (end > pos) {
            void *rep = NULL;
            if (redisGetReply(r->c, &rep) != REDIS_OK || !rep) {
                snprintf(err, errlen, "redis %s:%d: %s", r->host, r->port,
                         r->c->err ? r->c->errstr : "no reply");
                return -1;
            }
            redisReply *rr = rep;
            if (rr->type == REDIS_REPLY_ERROR) {
                (*skipped)++;
                snprintf(err, errlen, "redis: %.*s", (int)(rr->len < 200 ? rr->len : 200),
                         rr->str ? rr->str : "");
            }
            freeReplyObject(rr);
        }
        pos = nl ? end + 1 : len;
        *done = pos;
    }
    return 0;
}

static int redis_reconnect(void *st, char *err, size_t errlen)
{
    struct redis_sink *r = st;
    if (r->c) {
        redisFree(r->c);
        r->c = NULL;
    }
    return redis_connect(r, err, errlen);
}

static void redis_close(void *st)
{
    struct redis_sink *r = st;
    if (r->c)
        redisFree(r->c);
    free(r->key);
    free(r);
}

const struct sink_ops sink_redis_ops = {
    .scheme = "redis",
    .open = redis_open,
    .write = redis_write,
    .reopen = NULL,
    .reconnect = redis_reconnect,
    .close = redis_close,
};
