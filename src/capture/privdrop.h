/*
 * privdrop.h - give up root after the capture sources are open (-Z USER).
 *
 * As tcpdump's -Z: the capture handles are opened as root (or with
 * CAP_NET_RAW), then the process becomes an unprivileged user for the rest
 * of its life.  privdrop() is all-or-nothing from the caller's point of
 * view: on failure the caller must exit, because the process may be left
 * half-dropped (for example, with an empty bounding set but still uid 0).
 *
 * Capability sets and no_new_privs are per thread in Linux, so privdrop()
 * must run while the process has exactly one thread; it refuses otherwise.
 */
#ifndef PINSCOPE_CAPTURE_PRIVDROP_H
#define PINSCOPE_CAPTURE_PRIVDROP_H

#include <stddef.h>

/* Become `user` for good:
 *
 *   1. resolve `user` (getpwnam_r) and `group` (getgrnam_r; NULL means the
 *      user's primary group); uid 0 is refused
 *   2. clear the ambient set and drop every capability from the bounding
 *      set (needs CAP_SETPCAP, which root has unless a bounding set taken
 *      away from it by the service manager lacks it)
 *   3. supplementary groups: the user's (initgroups) when `group` is NULL,
 *      else exactly `group`
 *   4. setresgid, setresuid (real, effective and saved ids)
 *   5. clear the effective, permitted and inheritable sets (capset)
 *   6. verify: ids are the new ones, setuid(0) and setgid(0) fail, the
 *      capability sets read back empty
 *   7. prctl(PR_SET_NO_NEW_PRIVS)
 *
 * Returns 0, or -1 with a one-line message in err naming the user or group
 * and the failing step's errno text. */
int privdrop(const char *user, const char *group, char *err, size_t errlen);

#endif
