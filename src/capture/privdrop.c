/*
 * privdrop.c - switch to an unprivileged user for good (see privdrop.h).
 *
 * The order matters: the bounding set can only be shrunk while the process
 * still has CAP_SETPCAP, and groups can only be changed while it still has
 * CAP_SETGID, so both happen before the uid changes.  After setresuid() the
 * kernel clears the permitted and effective sets unless SECBIT_KEEP_CAPS is
 * set; capset() clears them either way.  Every step is then read back, so a
 * kernel or a service manager that silently ignored one is noticed.
 *
 * Capabilities go through the raw capget/capset system calls and
 * <linux/capability.h> (version 3: two 32-bit words per set), not libcap.
 */
#include "capture/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

#define LOOKUP_BUF_MAX (1u << 20)

static void fail(char *err, size_t errlen, const char *user, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail(char *err, size_t errlen, const char *user, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    int n = snprintf(err, errlen, "cannot switch to user '%s': ", user);
    if (n < 0 || (size_t)n >= errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

/* Threads of this process per /proc/self/status, or 0 when unknown. */
static long thread_count(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    if (!f)
        return 0;
    char line[256];
    long n = 0;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "Threads:", 8) == 0) {
            n = strtol(line + 8, NULL, 10);
            break;
        }
    }
    fclose(f);
    return n;
}

/* getpwnam_r/getgrnam_r with a buffer grown on ERANGE.  Returns 0 found,
 * 1 not found, or an errno value. */
static int lookup_user(const char *name, uid_t *uid, gid_t *gid)
{
    long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
    size_t size = hint > 0 ? (size_t)hint : 4096;
    for (;;) {
        char *buf = malloc(size);
        if (!buf)
            return ENOMEM;
        struct passwd pw, *res = NULL;
        int rc = getpwnam_r(name, &pw, buf, size, &res);
        if (rc == 0 && res) {
            *uid = pw.pw_uid;
            *gid = pw.pw_gid;
        }
        free(buf);
        if (rc == ERANGE && size < LOOKUP_BUF_MAX) {
            size *= 2;
            continue;
        }
        if (rc != 0)
            return rc;
        return res ? 0 : 1;
    }
}

static int lookup_group(const char *name, gid_t *gid)
{
    long hint = sysconf(_SC_GETGR_R_SIZE_MAX);
    size_t size = hint > 0 ? (size_t)hint : 4096;
    for (;;) {
        char *buf = malloc(size);
        if (!buf)
            return ENOMEM;
        struct group gr, *res = NULL;
        int rc = getgrnam_r(name, &gr, buf, size, &res);
        if (rc == 0 && res)
            *gid = gr.gr_gid;
        free(buf);
        if (rc == ERANGE && size < LOOKUP_BUF_MAX) {
            size *= 2;
            continue;
        }
        if (rc != 0)
            return rc;
        return res ? 0 : 1;
    }
}

/* Drop every capability the bounding set holds.  Returns 0, or the
 * capability number that could not be dropped (errno set) as -1 - cap. */
static int drop_bounding(void)
{
    for (int cap = 0; cap < 64; cap++) {
        int r = prctl(PR_CAPBSET_READ, (unsigned long)cap, 0UL, 0UL, 0UL);
        if (r < 0) {
            if (errno == EINVAL)
                return 0;   /* past the kernel's last capability */
            return -1 - cap;
        }
        if (r == 1 && prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0UL, 0UL, 0UL) < 0)
            return -1 - cap;
    }
    return 0;
}

static int caps_get(struct __user_cap_data_struct data[2])
{
    struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
    return (int)syscall(SYS_capget, &hdr, data);
}

static int caps_clear(void)
{
    struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof(data));
    return (int)syscall(SYS_capset, &hdr, data);
}

int privdrop(const char *user, const char *group, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!user || !*user) {
        if (err && errlen)
            snprintf(err, errlen, "cannot switch user: empty user name");
        return -1;
    }

    uid_t uid;
    gid_t gid;
    int rc = lookup_user(user, &uid, &gid);
    if (rc == 1) {
        fail(err, errlen, user, "no such user");
        return -1;
    }
    if (rc != 0) {
        fail(err, errlen, user, "looking up the user: %s", strerror(rc));
        return -1;
    }
    if (group) {
        if (!*group) {
            fail(err, errlen, user, "empty group name");
            return -1;
        }
        rc = lookup_group(group, &gid);
        if (rc == 1) {
            fail(err, errlen, user, "no such group '%s'", group);
            return -1;
        }
        if (rc != 0) {
            fail(err, errlen, user, "looking up group '%s': %s", group, strerror(rc));
            return -1;
        }
    }
    if (uid == 0) {
        fail(err, errlen, user, "the user has uid 0; name an unprivileged user");
        return -1;
    }
    long threads = thread_count();
    if (threads > 1) {
        fail(err, errlen, user,
             "the process already runs %ld threads (capabilities are per thread; "
             "call it before any thread starts)", threads);
        return -1;
    }

    /* Capabilities that could come back through execve: ambient, then
     * bounding (while CAP_SETPCAP is still effective). */
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0UL, 0UL, 0UL) < 0 && errno != EINVAL) {
        fail(err, errlen, user, "clearing the ambient capability set: %s", strerror(errno));
        return -1;
    }
    rc = drop_bounding();
    if (rc < 0) {
        fail(err, errlen, user,
             "dropping capability %d from the bounding set: %s (CAP_SETPCAP is needed)",
             -1 - rc, strerror(errno));
        return -1;
    }

    /* Groups, then the gid, then the uid. */
    if (group) {
        if (setgroups(1, &gid) < 0) {
            fail(err, errlen, user, "setgroups to group '%s' (gid %lu): %s", group,
                 (unsigned long)gid, strerror(errno));
            return -1;
        }
    } else if (initgroups(user, gid) < 0) {
        fail(err, errlen, user, "initgroups (supplementary groups of the user): %s",
             strerror(errno));
        return -1;
    }
    if (setresgid(gid, gid, gid) < 0) {
        fail(err, errlen, user, "setgid(%lu)%s%s%s: %s", (unsigned long)gid,
             group ? " for group '" : "", group ? group : "", group ? "'" : "",
             strerror(errno));
        return -1;
    }
    if (setresuid(uid, uid, uid) < 0) {
        fail(err, errlen, user, "setuid(%lu): %s", (unsigned long)uid, strerror(errno));
        return -1;
    }
    if (caps_clear() < 0) {
        fail(err, errlen, user, "clearing capabilities (capset): %s", strerror(errno));
        return -1;
    }

    /* Read everything back. */
    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 ||
        ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid) {
        fail(err, errlen, user, "user/group ids did not change as requested");
        return -1;
    }
    if (setuid(0) == 0) {
        fail(err, errlen, user, "setuid(0) still succeeds after the drop");
        return -1;
    }
    if (gid != 0 && setgid(0) == 0) {
        fail(err, errlen, user, "setgid(0) still succeeds after the drop");
        return -1;
    }
    struct __user_cap_data_struct data[2];
    if (caps_get(data) < 0) {
        fail(err, errlen, user, "reading capabilities back (capget): %s", strerror(errno));
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        if (data[i].effective || data[i].permitted || data[i].inheritable) {
            fail(err, errlen, user, "capabilities remain after capset");
            return -1;
        }
    }
    for (int cap = 0; cap < 64; cap++) {
        int r = prctl(PR_CAPBSET_READ, (unsigned long)cap, 0UL, 0UL, 0UL);
        if (r < 0)
            break;
        if (r == 1) {
            fail(err, errlen, user, "the bounding set still holds capability %d", cap);
            return -1;
        }
    }

    if (prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) < 0) {
        fail(err, errlen, user, "prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
        return -1;
    }
    return 0;
}
