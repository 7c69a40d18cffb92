/*
 * pidfile.c - write, check and remove the pid file (see pidfile.h).
 *
 * Liveness is kill(pid, 0): success or EPERM (a process we may not signal)
 * both mean the pid is in use.  A reused pid therefore counts as running;
 * the message names the pid so the operator can check it.
 */
#include "util/pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* The pid the file names: >0, 0 when the file does not exist or holds no
 * valid pid, -1 (errno set) when it cannot be read. */
static long pidfile_read(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    char buf[32];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    int saved = errno;
    close(fd);
    if (n < 0) {
        errno = saved;
        return -1;
    }
    buf[n] = '\0';
    char *end;
    errno = 0;
    long pid = strtol(buf, &end, 10);
    if (errno || end == buf || pid <= 0 || pid > INT_MAX || (*end && *end != '\n'))
        return 0;
    return pid;
}

int pidfile_write(const char *path, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    pid_t self = getpid();
    long old = pidfile_read(path);
    if (old < 0) {
        snprintf(err, errlen, "pid file %s: cannot read it: %s", path, strerror(errno));
        return -1;
    }
    if (old > 0 && old != (long)self && (kill((pid_t)old, 0) == 0 || errno == EPERM)) {
        snprintf(err, errlen,
                 "pid file %s names running process %ld: is another pinscope running? "
                 "(remove the file if that process is not pinscope)", path, old);
        return -1;
    }

    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)self);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        snprintf(err, errlen, "pid file %s: path too long", path);
        return -1;
    }
    unlink(tmp);   /* left over from an earlier process with our pid */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "pid file %s: cannot create %s: %s", path, tmp, strerror(errno));
        return -1;
    }
    char line[32];
    int len = snprintf(line, sizeof(line), "%ld\n", (long)self);
    ssize_t w = write(fd, line, (size_t)len);
    int saved = errno;
    if (close(fd) < 0 && w == len) {
        saved = errno;
        w = -1;
    }
    if (w != len) {
        snprintf(err, errlen, "pid file %s: writing %s: %s", path, tmp,
                 w < 0 ? strerror(saved) : "short write");
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) < 0) {
        snprintf(err, errlen, "pid file %s: renaming %s into place: %s", path, tmp,
                 strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

void pidfile_remove(const char *path)
{
    if (pidfile_read(path) == (long)getpid())
        unlink(path);
}
