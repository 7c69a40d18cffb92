/*
 * report.c - `pinscope report` (see report.h).
 */
#include "app/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "app/run.h"
#include "policy/policy.h"
#include "config.h"
#include "report/render.h"
#include "report/summary.h"
#include "util/log.h"

/* The in-process sink: whole lines from one writer thread. */
static int take_lines(void *ctx, const char *lines, size_t len)
{
    struct summary *s = ctx;
    const char *p = lines, *end = lines + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        summary_add_line(s, p, n);
        p += n + 1;
    }
    return 0;
}

/* One file of event lines.  A line longer than CFG_REPORT_LINE_MAX is
 * skipped and counted with the unreadable ones. */
static int read_events(struct summary *s, const char *path)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!fp) {
        log_error("%s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 64 * 1024, n = 0;
    char *buf = malloc(cap);
    bool skipping = false;
    int c, rc = 0;
    if (!buf) {
        log_error("%s: out of memory", path);
        rc = -1;
        goto out;
    }
    while ((c = getc(fp)) != EOF) {
        if (c == '\n') {
            if (skipping) {
                s->lines++;
                s->unreadable++;
            } else {
                summary_add_line(s, buf, n);
            }
            n = 0;
            skipping = false;
            continue;
        }
        if (skipping)
            continue;
        if (n + 1 >= cap) {
            if (cap >= CFG_REPORT_LINE_MAX) {
                skipping = true;
                continue;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                skipping = true;
                continue;
            }
            buf = nb;
            cap *= 2;
        }
        buf[n++] = (char)c;
    }
    if (n && !skipping)
        summary_add_line(s, buf, n);
    if (ferror(fp)) {
        log_error("%s: read error: %s", path, strerror(errno));
        rc = -1;
    }
out:
    free(buf);
    if (fp != stdin)
        fclose(fp);
    return rc;
}

static int term_width(void)
{
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    const char *c = getenv("COLUMNS");
    int w = c ? atoi(c) : 0;
    return w >= 20 && w <= 1000 ? w : 100;
}

static bool want_color(void)
{
    const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
    if (nc && *nc)
        return false;
    if (term && strcmp(term, "dumb") == 0)
        return false;
    return isatty(STDOUT_FILENO);
}

/* The page under a temporary name, then renamed: a reader never sees
 * half of it. */
static int write_html(const struct summary *s, const struct render_opts *ro, const char *path)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp)
        return -1;
    snprintf(tmp, n, "%s.tmp%ld", path, (long)getpid());
    FILE *fp = fopen(tmp, "w");
    if (!fp) {
        log_error("%s: %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    int rc = report_html(fp, s, ro);
    if (fclose(fp) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) != 0) {
        log_error("%s: %s", path, strerror(errno));
        rc = -1;
    } else if (rc != 0) {
        log_error("%s: write failed", tmp);
    }
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

/* --policy: the pins each server name is expected to show, beside the
 * ones it showed. */
static void expect_pins(struct summary *s, const char *path)
{
    char err[512];
    struct policy *p = policy_load(path, err, sizeof(err));
    if (!p) {
        log_error("%s", err);    /* the analysis said so too; the report goes on */
        return;
    }
    for (size_t i = 0; i < s->servers.n; i++) {
        struct sum_server *sv = summary_server(s, i);
        if (!sv->has_sni)
            continue;
        const struct policy_pin_set *ps = policy_find_pinset(p, sv->name, strlen(sv->name));
        if (!ps)
            continue;
        char b64[64];
        for (size_t k = 0; k < ps->pins.n; k++) {
            EVP_EncodeBlock((unsigned char *)b64, ps->pins.v[k], POLICY_SPKI_LEN);
            summary_expect_pin(sv, b64, false);
        }
        for (size_t k = 0; k < ps->backup_pins.n; k++) {
            EVP_EncodeBlock((unsigned char *)b64, ps->backup_pins.v[k], POLICY_SPKI_LEN);
            summary_expect_pin(sv, b64, true);
        }
    }
    policy_free(p);
}

int report_run(struct options *o)
{
    static struct summary s;
    summary_init(&s);
    int status = 0;
    for (int i = 0; i < o->n_event_files; i++)
        if (read_events(&s, o->event_files[i]) < 0)
            status = 1;
    if (o->n_inputs) {
        o->event_fn = take_lines;
        o->event_ctx = &s;
        o->want_stats = true;
        o->format_ecs = false;
        if (run_sources(o, NULL, NULL) != 0)
            status = 1;
    }
    summary_finish(&s);
    if (o->policy_path)
        expect_pins(&s, o->policy_path);

    /* The heading names the input, or the first and how many more. */
    char title[512];
    int n_in = o->n_event_files + o->n_inputs;
    const char *first = o->n_event_files ? o->event_files[0] : o->inputs[0];
    if (n_in > 2)
        snprintf(title, sizeof(title), "%s and %d more %s", first, n_in - 1,
                 o->n_inputs ? "inputs" : "event files");
    else if (n_in == 2)
        snprintf(title, sizeof(title), "%s, %s", first,
                 o->n_event_files == 2 ? o->event_files[1] : o->inputs[o->n_inputs - 1]);
    else
        snprintf(title, sizeof(title), "%s", first);
    struct render_opts ro = {
        .format = o->report_format,
        .color = o->report_format == REPORT_TEXT && want_color(),
        .width = term_width(),
        .rows = o->report_rows,
        .title = title,
    };
    if (report_text(stdout, &s, &ro) < 0) {
        log_error("stdout: write failed");
        status = 1;
    }
    if (o->html_path) {
        if (write_html(&s, &ro, o->html_path) < 0)
            status = 1;
        else if (o->report_format == REPORT_TEXT)
            printf("\nHTML report: %s\n", o->html_path);
    }
    if (s.unreadable)
        log_warn("%llu line%s not a pinscope event", (unsigned long long)s.unreadable,
                 s.unreadable == 1 ? " was" : "s were");
    summary_free(&s);
    return status;
}
