/*
 * test_privdrop.c - unit tests for capture/privdrop.c.
 *
 * As root, each drop runs in a forked child that then reads its own
 * /proc/self/status: uid/gid (real, effective, saved, fs), supplementary
 * groups, every capability set empty, NoNewPrivs 1, and setuid(0)/setgid(0)
 * failing.  The child sends its pass/fail counts back through a pipe.
 * Without root only the lookup errors and the refusal are checked, and the
 * test says the rest was skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture/privdrop.h"
#include "testhelp.h"

/* The value of `key:` in /proc/self/status, whitespace collapsed to one
 * space and trimmed, or "" when missing. */
static void status_field(const char *key, char *out, size_t cap)
{
    out[0] = '\0';
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return;
    char line[1024];
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) != 0 || line[klen] != ':')
            continue;
        size_t n = 0;
        int space = 0;
        for (const char *p = line + klen + 1; *p && n + 1 < cap; p++) {
            if (*p == ' ' || *p == '\t' || *p == '\n') {
                space = n > 0;
                continue;
            }
            if (space && n + 2 < cap)
                out[n++] = ' ';
            space = 0;
            out[n++] = *p;
        }
        out[n] = '\0';
        break;
    }
    fclose(f);
}

static int cmp_gid(const void *a, const void *b)
{
    gid_t x = *(const gid_t *)a, y = *(const gid_t *)b;
    return x < y ? -1 : x > y;
}

/* gids as the kernel lists them in Groups: (sorted, space-separated). */
static void gid_list(gid_t *g, int n, char *out, size_t cap)
{
    qsort(g, (size_t)n, sizeof(gid_t), cmp_gid);
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (i > 0 && g[i] == g[i - 1])
            continue;
        len += (size_t)snprintf(out + len, cap - len, "%s%lu", len ? " " : "",
                                (unsigned long)g[i]);
        if (len >= cap)
            break;
    }
}

/* Run fn in a child; add the child's counts to ours. */
static void in_child(const char *what, void (*fn)(const void *), const void *arg)
{
    int fds[2];
    if (pipe(fds) < 0) {
        test_cond("pipe", 0);
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        test_passed = test_failed = 0;
        fn(arg);
        int counts[2] = { test_passed, test_failed };
        ssize_t w = write(fds[1], counts, sizeof counts);
        _exit(w == (ssize_t)sizeof counts ? 0 : 1);
    }
    close(fds[1]);
    int counts[2] = { 0, 0 };
    ssize_t n = pid > 0 ? read(fds[0], counts, sizeof counts) : -1;
    close(fds[0]);
    int status = 0;
    if (pid > 0)
        waitpid(pid, &status, 0);
    if (n != (ssize_t)sizeof counts || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "FAIL %s: the child died or said nothing\n", what);
        test_failed++;
        return;
    }
    test_passed += counts[0];
    test_failed += counts[1];
}

struct drop_case {
    const char *user, *group;
    uid_t uid;
    gid_t gid;
    char groups[512];   /* expected Groups: line */
};

static void check_dropped(const void *arg)
{
    const struct drop_case *c = arg;
    char err[512], want[128], got[512];
    int rc = privdrop(c->user, c->group, err, sizeof err);
    test_cond("privdrop succeeds as root", rc == 0);
    if (rc != 0) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    snprintf(want, sizeof want, "%lu %lu %lu %lu", (unsigned long)c->uid,
             (unsigned long)c->uid, (unsigned long)c->uid, (unsigned long)c->uid);
    status_field("Uid", got, sizeof got);
    test_streq("Uid: real, effective, saved, fs", got, want);
    snprintf(want, sizeof want, "%lu %lu %lu %lu", (unsigned long)c->gid,
             (unsigned long)c->gid, (unsigned long)c->gid, (unsigned long)c->gid);
    status_field("Gid", got, sizeof got);
    test_streq("Gid: real, effective, saved, fs", got, want);
    status_field("Groups", got, sizeof got);
    test_streq("supplementary groups", got, c->groups);
    static const char *const sets[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        status_field(sets[i], got, sizeof got);
        test_streq(sets[i], got, "0000000000000000");
    }
    status_field("NoNewPrivs", got, sizeof got);
    test_streq("NoNewPrivs", got, "1");

    errno = 0;
    test_cond("setuid(0) fails with EPERM", setuid(0) < 0 && errno == EPERM);
    errno = 0;
    test_cond("seteuid(0) fails", seteuid(0) < 0);
    errno = 0;
    test_cond("setgid(0) fails with EPERM", setgid(0) < 0 && errno == EPERM);
    gid_t g0 = 0;
    test_cond("setgroups fails", setgroups(1, &g0) < 0);
    test_cond("/etc/shadow is unreadable", open("/etc/shadow", O_RDONLY) < 0 && errno == EACCES);

    /* Dropping again has nothing left to drop with: a clear refusal. */
    rc = privdrop(c->user, c->group, err, sizeof err);
    test_cond("a second drop fails", rc < 0);
    test_cond("... naming the user", strstr(err, c->user) != NULL);
    test_cond("... with the errno text", strstr(err, "Operation not permitted") != NULL);
}

static void check_root_refused(const void *arg)
{
    (void)arg;
    char err[512];
    test_cond("a uid-0 user is refused", privdrop("root", NULL, err, sizeof err) < 0);
    test_cond("... saying why", strstr(err, "'root'") && strstr(err, "uid 0"));
    test_cond("... and nothing changed", getuid() == 0 && geteuid() == 0);
}

static void *sleeper(void *arg)
{
    (void)arg;
    pause();
    return NULL;
}

static void check_threads_refused(const void *arg)
{
    (void)arg;
    pthread_t t;
    if (pthread_create(&t, NULL, sleeper, NULL) != 0) {
        test_cond("pthread_create", 0);
        return;
    }
    char err[512];
    test_cond("a second thread makes privdrop refuse",
              privdrop("nobody", NULL, err, sizeof err) < 0);
    test_cond("... saying why", strstr(err, "threads") != NULL);
    test_cond("... and nothing changed", getuid() == 0 && geteuid() == 0);
}

static void check_nonroot_refused(const void *arg)
{
    (void)arg;
    char err[512];
    int rc = privdrop("nobody", NULL, err, sizeof err);
    test_cond("without privileges privdrop fails", rc < 0);
    test_cond("... naming the user and the errno text",
              strstr(err, "'nobody'") && strstr(err, "Operation not permitted"));
}

static void test_lookup_errors(void)
{
    char err[512];
    test_cond("unknown user fails",
              privdrop("pinscope-no-such-user", NULL, err, sizeof err) < 0);
    test_cond("... naming the user",
              strstr(err, "'pinscope-no-such-user'") && strstr(err, "no such user"));
    test_cond("unknown group fails",
              privdrop("nobody", "pinscope-no-such-group", err, sizeof err) < 0);
    test_cond("... naming the user and the group",
              strstr(err, "'nobody'") && strstr(err, "no such group 'pinscope-no-such-group'"));
    test_cond("empty user fails", privdrop("", NULL, err, sizeof err) < 0 && err[0]);
    test_cond("empty group fails", privdrop("nobody", "", err, sizeof err) < 0 && err[0]);
    test_cond("nothing changed", getuid() == geteuid());
}

int main(void)
{
    test_lookup_errors();

    struct passwd *pw = getpwnam("nobody");
    if (!pw) {
        printf("test_privdrop: no user 'nobody': drop checks skipped\n");
        return test_report();
    }
    if (geteuid() != 0) {
        if (pw->pw_uid != geteuid())
            in_child("non-root drop", check_nonroot_refused, NULL);
        printf("test_privdrop: not root: the drop checks were skipped\n");
        return test_report();
    }

    /* nobody with its own supplementary groups */
    struct drop_case c = { .user = "nobody", .uid = pw->pw_uid, .gid = pw->pw_gid };
    gid_t groups[256];
    int ng = 256;
    if (getgrouplist("nobody", pw->pw_gid, groups, &ng) < 0)
        ng = 0;
    gid_list(groups, ng, c.groups, sizeof c.groups);
    in_child("drop to nobody", check_dropped, &c);

    /* nobody with exactly one other group */
    const char *other = NULL;
    static const char *const candidates[] = { "daemon", "bin", "sys", "users" };
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0] && !other; i++) {
        struct group *gr = getgrnam(candidates[i]);
        if (gr && gr->gr_gid != pw->pw_gid && gr->gr_gid != 0) {
            other = candidates[i];
            struct drop_case g = { .user = "nobody", .group = other, .uid = pw->pw_uid,
                                   .gid = gr->gr_gid };
            snprintf(g.groups, sizeof g.groups, "%lu", (unsigned long)gr->gr_gid);
            in_child("drop to nobody:group", check_dropped, &g);
        }
    }
    if (!other)
        printf("test_privdrop: no spare group: the --group check was skipped\n");

    in_child("root refused", check_root_refused, NULL);
    in_child("threads refused", check_threads_refused, NULL);
    test_cond("the parent is still root", geteuid() == 0);
    return test_report();
}
