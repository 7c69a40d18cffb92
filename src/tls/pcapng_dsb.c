/*
 * pcapng_dsb.c - the pcapng block walk that finds Decryption Secrets Blocks
 * (see pcapng_dsb.h).
 *
 * One walker serves files and memory through a small source abstraction:
 * "copy n bytes at offset off", false when the range is not all there.
 * Files are read with pread() through a 64 KiB window, so skipping packet
 * blocks costs a memcpy of 16 bytes each and one read per window; block
 * bodies are never read except for DSBs.  Header fields are decoded from
 * the copied bytes with the bounds-checked reader in the section's byte
 * order.
 */
#include "tls/pcapng_dsb.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "util/rd.h"

#define DSB_WINDOW      (64 * 1024)  /* file read window */
#define BLOCK_MIN       12           /* type, length, trailing length */
#define SHB_MIN         28           /* + magic, versions, section length */
#define DSB_MIN         20           /* + secrets type and length */

struct src {
    const uint8_t *mem;      /* memory mode */
    size_t mem_len;
    int fd;                  /* file mode (fd >= 0) */
    uint64_t size;           /* bytes in the input */
    uint8_t *win;
    uint64_t win_off;
    size_t win_len;
    bool io_error;
};

/* pread() until n bytes or end of file; returns bytes read or -1. */
static ssize_t pread_full(int fd, uint8_t *buf, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, buf + got, n - got, (off_t)(off + got));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* Copy n bytes at off into out.  False if the range is not all there (or,
 * in file mode, on a read error: io_error is set). */
static bool src_read(struct src *s, uint64_t off, void *out, size_t n)
{
    if (off > s->size || n > s->size - off)
        return false;
    if (s->fd < 0) {
        struct rd r;
        rd_init(&r, s->mem, s->mem_len);
        return rd_skip(&r, (size_t)off) && rd_copy(&r, out, n);
    }
    if (n > DSB_WINDOW) {
        ssize_t r = pread_full(s->fd, out, n, off);
        if (r < 0)
            s->io_error = true;
        return r == (ssize_t)n;
    }
    if (off < s->win_off || off - s->win_off > s->win_len ||
        n > s->win_len - (size_t)(off - s->win_off)) {
        ssize_t r = pread_full(s->fd, s->win, DSB_WINDOW, off);
        if (r < 0) {
            s->io_error = true;
            s->win_len = 0;
            return false;
        }
        s->win_off = off;
        s->win_len = (size_t)r;
        if (n > s->win_len)
            return false;   /* the file shrank under us */
    }
    struct rd r;
    rd_init(&r, s->win, s->win_len);
    return rd_skip(&r, (size_t)(off - s->win_off)) && rd_copy(&r, out, n);
}

static uint32_t get_u32(struct rd *r, bool le)
{
    return le ? rd_u32le(r) : rd_u32(r);
}

static void stop(struct pcapng_dsb_result *res, bool truncated, uint64_t off)
{
    if (truncated)
        res->truncated = true;
    else
        res->malformed = true;
    res->stop_offset = off;
}

/* Load one DSB at off (block length len, already checked >= BLOCK_MIN and
 * inside the input).  Returns 1 if TLSK text was loaded, 0 if skipped, or
 * a negative enum pcapng_dsb_err. */
static int load_dsb(struct src *s, uint64_t off, uint32_t len, bool le, struct keylog *kl,
                    struct pcapng_dsb_result *res)
{
    uint8_t h[8];
    if (len < DSB_MIN || !src_read(s, off + 8, h, sizeof h)) {
        if (s->io_error)
            return PCAPNG_DSB_E_READ;
        res->dsb_bad++;
        return 0;
    }
    struct rd r;
    rd_init(&r, h, sizeof h);
    uint32_t type = get_u32(&r, le);
    uint32_t slen = get_u32(&r, le);
    if (slen > len - DSB_MIN) {
        res->dsb_bad++;
        return 0;
    }
    if (type != PCAPNG_SECRETS_TLSK) {
        res->dsb_other++;
        return 0;
    }
    if (slen > PCAPNG_DSB_MAX_SECRETS) {
        res->dsb_oversize++;
        return 0;
    }
    uint8_t *text = malloc(slen ? slen : 1);
    if (!text)
        return PCAPNG_DSB_E_NOMEM;
    int rc = 0;
    if (!src_read(s, off + 16, text, slen))
        rc = s->io_error ? PCAPNG_DSB_E_READ : 0;
    else if (keylog_load_buffer(kl, text, slen) == KEYLOG_E_NOMEM)
        rc = PCAPNG_DSB_E_NOMEM;
    else
        rc = 1;
    OPENSSL_cleanse(text, slen);
    free(text);
    if (rc == 1)
        res->dsb_tlsk++;
    return rc;
}

/* The walk.  Returns TLSK DSBs loaded or a negative enum pcapng_dsb_err;
 * truncation and malformation are in *res. */
static int walk(struct src *s, struct keylog *kl, struct pcapng_dsb_result *res)
{
    uint64_t off = 0;
    bool le = false;
    int loaded = 0;

    while (off < s->size) {
        uint8_t h[12];
        if (!src_read(s, off, h, sizeof h)) {
            if (s->io_error)
                return PCAPNG_DSB_E_READ;
            if (res->pcapng)
                stop(res, true, off);
            break;
        }
        struct rd r;
        rd_init(&r, h, sizeof h);
        bool shb = rd_peek(&r, 0) == 0x0A && rd_peek(&r, 1) == 0x0D &&
                   rd_peek(&r, 2) == 0x0D && rd_peek(&r, 3) == 0x0A;
        if (shb) {
            struct rd m;
            rd_init(&m, h, sizeof h);
            rd_skip(&m, 8);
            uint32_t magic = rd_u32(&m);
            if (magic == PCAPNG_BYTE_ORDER_MAGIC) {
                le = false;
            } else if (magic == 0x4D3C2B1Au) {
                le = true;
            } else {
                if (res->pcapng)
                    stop(res, false, off);
                break;   /* at offset 0: not pcapng */
            }
            res->pcapng = true;
            res->sections++;
        } else if (!res->pcapng) {
            break;       /* classic pcap or anything else */
        }
        uint32_t type = get_u32(&r, le);
        uint32_t len = get_u32(&r, le);
        if (len < (shb ? SHB_MIN : BLOCK_MIN) || len % 4 != 0) {
            stop(res, false, off);
            break;
        }
        if (len > s->size - off) {
            stop(res, true, off);
            break;
        }
        uint8_t t[4];
        if (!src_read(s, off + len - 4, t, sizeof t)) {
            if (s->io_error)
                return PCAPNG_DSB_E_READ;
            stop(res, true, off);
            break;
        }
        struct rd tr;
        rd_init(&tr, t, sizeof t);
        if (get_u32(&tr, le) != len) {
            stop(res, false, off);
            break;
        }
        if (type == PCAPNG_BT_DSB) {
            int rc = load_dsb(s, off, len, le, kl, res);
            if (rc < 0)
                return rc;
            loaded += rc;
        }
        res->blocks++;
        off += len;
    }
    return loaded;
}

int pcapng_dsb_scan_buffer(const uint8_t *data, size_t len, struct keylog *kl,
                           struct pcapng_dsb_result *res)
{
    struct pcapng_dsb_result local;
    if (!res)
        res = &local;
    memset(res, 0, sizeof *res);
    if (!kl || (!data && len))
        return PCAPNG_DSB_E_ARG;
    struct src s = { .mem = data, .mem_len = len, .fd = -1, .size = len };
    return walk(&s, kl, res);
}

static void msg(char *err, size_t errlen, const char *path, const char *what)
{
    if (err && errlen)
        snprintf(err, errlen, "pcapng %s: %s", path, what);
}

int pcapng_dsb_scan_ex(const char *path, struct keylog *kl, struct pcapng_dsb_result *res,
                       char *err, size_t errlen)
{
    struct pcapng_dsb_result local;
    if (!res)
        res = &local;
    memset(res, 0, sizeof *res);
    if (err && errlen)
        err[0] = '\0';
    if (!path || !kl) {
        msg(err, errlen, path ? path : "(null)", "invalid argument");
        return PCAPNG_DSB_E_ARG;
    }
    if (strcmp(path, "-") == 0) {
        msg(err, errlen, path, "standard input: Decryption Secrets Blocks not scanned");
        return 0;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        msg(err, errlen, path, strerror(errno));
        return PCAPNG_DSB_E_OPEN;
    }
    if (!S_ISREG(st.st_mode)) {
        msg(err, errlen, path, "not a regular file: Decryption Secrets Blocks not scanned");
        return 0;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        msg(err, errlen, path, fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0)
            close(fd);
        return PCAPNG_DSB_E_OPEN;
    }
    struct src s = { .fd = fd, .size = (uint64_t)st.st_size };
    s.win = malloc(DSB_WINDOW);
    if (!s.win) {
        close(fd);
        msg(err, errlen, path, "out of memory");
        return PCAPNG_DSB_E_NOMEM;
    }
    int rc = walk(&s, kl, res);
    OPENSSL_cleanse(s.win, DSB_WINDOW);
    free(s.win);
    close(fd);

    char why[128];
    if (rc == PCAPNG_DSB_E_READ) {
        msg(err, errlen, path, "read error");
    } else if (rc == PCAPNG_DSB_E_NOMEM) {
        msg(err, errlen, path, "out of memory");
    } else if (res->truncated || res->malformed) {
        snprintf(why, sizeof why, "%s block at offset %llu; secrets scan stopped there",
                 res->truncated ? "truncated" : "malformed",
                 (unsigned long long)res->stop_offset);
        msg(err, errlen, path, why);
    }
    return rc;
}

int pcapng_dsb_scan(const char *path, struct keylog *kl, char *err, size_t errlen)
{
    return pcapng_dsb_scan_ex(path, kl, NULL, err, errlen);
}
