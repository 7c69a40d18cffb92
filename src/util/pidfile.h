/*
 * pidfile.h - the daemon's pid file (--pidfile FILE).
 *
 * The file holds the decimal pid and a newline.  It is written through a
 * temporary file in the same directory renamed into place, so a reader
 * never sees it empty or half written.  An existing file that names a
 * process that is alive and is not this one means another instance runs:
 * pidfile_write() refuses.  A file naming a dead process (a crash left it
 * behind) or holding no valid pid is replaced.
 */
#ifndef PINSCOPE_PIDFILE_H
#define PINSCOPE_PIDFILE_H

#include <stddef.h>

/* Write getpid() to `path`.  Returns 0, or -1 with a one-line message in
 * err naming the path (and the other process's pid when that is why). */
int pidfile_write(const char *path, char *err, size_t errlen);

/* Remove `path` if it still names this process (it is left alone when it
 * names another one, or cannot be read).  Errors are ignored: after a
 * privilege drop the directory may no longer be writable, and the service
 * manager cleans its runtime directory up anyway. */
void pidfile_remove(const char *path);

#endif
