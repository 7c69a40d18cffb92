/*
 * test_pidfile.c - unit tests for util/pidfile.c: write, rewrite, a live
 * other process refused, stale and garbage files replaced, removal only of
 * our own file, unwritable directory.
 */
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testhelp.h"
#include "util/pidfile.h"

static char dir[PATH_MAX], path[PATH_MAX + 16];

static void put(const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    fputs(text, f);
    fclose(f);
}

static long get(void)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long v = -1;
    char nl = 0;
    if (fscanf(f, "%ld%c", &v, &nl) != 2 || nl != '\n')
        v = -2;
    fclose(f);
    return v;
}

static int leftovers(void)
{
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "ls %s | grep -q tmp", dir);
    return system(cmd) == 0;
}

int main(void)
{
    char err[512], line[64];
    snprintf(dir, sizeof dir, "/tmp/pinscope-pidfile-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/p.pid", dir);

    test_cond("write a new pid file", pidfile_write(path, err, sizeof err) == 0);
    test_cond("... it holds our pid and a newline", get() == (long)getpid());
    test_cond("rewrite when it names us", pidfile_write(path, err, sizeof err) == 0);
    test_cond("no temporary files left", !leftovers());

    /* a live process that is not us: our parent */
    snprintf(line, sizeof line, "%ld\n", (long)getppid());
    put(line);
    test_cond("a live other process is refused", pidfile_write(path, err, sizeof err) < 0);
    snprintf(line, sizeof line, "running process %ld", (long)getppid());
    test_cond("... naming the path and the pid", strstr(err, path) && strstr(err, line));
    test_cond("... the file is left as it was", get() == (long)getppid());
    pidfile_remove(path);
    test_cond("remove leaves another process's file", access(path, F_OK) == 0);

    /* a dead process */
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    waitpid(child, NULL, 0);
    snprintf(line, sizeof line, "%ld\n", (long)child);
    put(line);
    test_cond("a stale pid is replaced", pidfile_write(path, err, sizeof err) == 0);
    test_cond("... by ours", get() == (long)getpid());

    put("garbage\n");
    test_cond("garbage is replaced", pidfile_write(path, err, sizeof err) == 0 &&
                                         get() == (long)getpid());
    put("");
    test_cond("an empty file is replaced", pidfile_write(path, err, sizeof err) == 0 &&
                                               get() == (long)getpid());

    pidfile_remove(path);
    test_cond("remove deletes our own file", access(path, F_OK) != 0);
    pidfile_remove(path);
    test_cond("removing it twice is harmless", access(path, F_OK) != 0);

    char bad[PATH_MAX + 32];
    snprintf(bad, sizeof bad, "%s/no-such-dir/p.pid", dir);
    test_cond("a missing directory fails", pidfile_write(bad, err, sizeof err) < 0);
    test_cond("... naming the path and the errno text",
              strstr(err, bad) && strstr(err, "No such file or directory"));

    rmdir(dir);
    test_cond("the directory is clean", access(dir, F_OK) != 0);
    return test_report();
}
