/*
 * sink_file.c - the file transport: PATH, file:PATH, "-" for stdout.
 *
 * The file is opened O_APPEND (created 0644 if missing), so other writers
 * and truncation by an outside tool never make us write over data.  A
 * write loops over EINTR and partial writes.  When a write fails part way
 * (ENOSPC, EIO...) on a regular file, the file is truncated back to where
 * the unit started, so the unit is dropped whole; where that is not
 * possible (a pipe, a failed truncate) a '\n' goes first on the next write
 * so a torn line never glues onto the next event.  The same repair runs
 * before the first write to a file (and to each reopened one) that is
 * non-empty and does not end in '\n', as when a previous run was killed
 * mid-line.
 *
 * Reopen (logrotate: rename, then SIGHUP) opens the path anew and only
 * then closes the old descriptor; if the open fails the old file is kept.
 * stdout is never closed or reopened.
 *
 * Limits: another process appending to the same file between our size
 * check and our write can defeat the truncate-back (its bytes would be
 * cut); the tail check needs a readable descriptor or /proc to read the
 * last byte, and is skipped (no repair) without either.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output/sink_impl.h"

struct file_sink {
    char *path;         /* NULL for stdout */
    int fd;
    bool checked;       /* tail checked since the last open */
    bool torn;          /* the file does not end in '\n': write one first */
};

static int open_path(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    return fd;
}

static int file_open(void **st, const char *target, char *err, size_t errlen)
{
    if (target[0] == '\0') {
        snprintf(err, errlen, "missing file path");
        return -1;
    }
    struct file_sink *f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (strcmp(target, "-") == 0) {
        f->fd = STDOUT_FILENO;
    } else {
        f->path = strdup(target);
        if (!f->path) {
            snprintf(err, errlen, "out of memory");
            free(f);
            return -1;
        }
        f->fd = open_path(target, err, errlen);
        if (f->fd < 0) {
            free(f->path);
            free(f);
            return -1;
        }
    }
    *st = f;
    return 0;
}

/* Does the regular file behind fd end in something other than '\n'? */
static bool tail_torn(int fd)
{
    struct stat sb;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size == 0)
        return false;
    char c;
    ssize_t n = pread(fd, &c, 1, sb.st_size - 1);
    if (n < 0 && errno == EBADF) {  /* opened write-only: read it through /proc */
        char proc[64];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        int rfd = open(proc, O_RDONLY | O_CLOEXEC);
        if (rfd < 0)
            return false;
        n = pread(rfd, &c, 1, sb.st_size - 1);
        close(rfd);
    }
    return n == 1 && c != '\n';
}

/* Write all of buf; 0, or -1 with errno set.  *put = bytes written. */
static int write_all(int fd, const char *buf, size_t len, size_t *put)
{
    *put = 0;
    while (*put < len) {
        ssize_t n = write(fd, buf + *put, len - *put);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        *put += (size_t)n;
    }
    return 0;
}

static int file_write(void *st, const char *buf, size_t len, size_t *done, uint64_t *skipped,
                      char *err, size_t errlen)
{
    struct file_sink *f = st;
    *done = 0;
    if (!f->checked) {
        f->checked = true;
        if (tail_torn(f->fd))
            f->torn = true;
    }
    struct stat sb;
    bool reg = fstat(f->fd, &sb) == 0 && S_ISREG(sb.st_mode);
    off_t start = reg ? sb.st_size : 0;
    size_t put = 0;
    int rc = 0;
    if (f->torn) {
        rc = write_all(f->fd, "\n", 1, &put);
        if (rc == 0) {
            f->torn = false;
            start += 1;
        }
    }
    if (rc == 0)
        rc = write_all(f->fd, buf, len, &put);
    if (rc == 0)
        return 0;

    int e = errno;
    snprintf(err, errlen, "write: %s", strerror(e));
    if (put == 0)
        return -1;
    if (reg && ftruncate(f->fd, start) == 0)
        return -1;      /* unit cut back out: dropped whole */
    *done = sink_whole_lines(buf, put);
    if (*done != put)
        f->torn = true;
    return -1;
}

static int file_reopen(void *st, char *err, size_t errlen)
{
    struct file_sink *f = st;
    if (!f->path)
        return 0;   /* stdout */
    int fd = open_path(f->path, err, errlen);
    if (fd < 0)
        return -1;
    close(f->fd);
    f->fd = fd;
    f->checked = false;
    f->torn = false;
    return 0;
}

static void file_close(void *st)
{
    struct file_sink *f = st;
    if (f->path)
        close(f->fd);
    free(f->path);
    free(f);
}

const struct sink_ops sink_file_ops = {
    .scheme = "file",
    .open = file_open,
    .write = file_write,
    .reopen = file_reopen,
    .reconnect = NULL,
    .close = file_close,
};
