/*
 * fuzz_report.c - libFuzzer target for `pinscope report`'s reading and
 * rendering (report/summary.c, text.c, html.c, escape.c).
 *
 * The input is an event file: lines of (mostly) JSON, as a sensor's EVE or
 * ECS output or anything an analyst points the report at.  Every line goes
 * to summary_add_line(); the summary is finished, a policy pin is set on
 * the first server, and every renderer writes it to a memory file.
 *
 * It checks memory safety (ASan/UBSan) and the summary's invariants: each
 * line counted once as read, every verdict total adds up to the servers,
 * connections never exceed the events read, and no rendered output holds
 * an ESC byte (the terminal escaping) or an unescaped "<script" beyond the
 * page's own (the HTML escaping).
 *
 *   ./fuzz_report -max_total_time=60
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/render.h"
#include "report/summary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool cond)
{
    if (!cond)
        abort();
}

static size_t count(const char *hay, size_t n, const char *needle)
{
    size_t k = 0, nl = strlen(needle);
    for (size_t i = 0; i + nl <= n; i++)
        if (memcmp(hay + i, needle, nl) == 0)
            k++;
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct summary s;
    summary_init(&s);
    const char *p = (const char *)data, *end = p + size;
    uint64_t lines = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        size_t k = n;
        while (k && (p[k - 1] == '\r'))
            k--;
        if (k)
            lines++;
        summary_add_line(&s, p, n);
        p += n + 1;
    }
    summary_finish(&s);
    check(s.lines == lines);
    check(s.events + s.unreadable == s.lines);
    check(s.conn_events + s.alert_events + s.stats_events + s.other_events == s.events);
    uint64_t v = 0;
    for (int i = 0; i < V_COUNT; i++)
        v += s.verdicts[i];
    check(v == s.servers.n);
    if (s.servers.n)
        summary_expect_pin(summary_server(&s, s.server_order[0]), "AAAA", false);

    static const enum report_format fmts[] = { REPORT_TEXT, REPORT_MARKDOWN, REPORT_JSON };
    for (size_t f = 0; f < 3; f++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *fp = open_memstream(&buf, &len);
        check(fp != NULL);
        struct render_opts o = { .format = fmts[f], .width = 60, .rows = 5, .title = "fuzz" };
        report_text(fp, &s, &o);
        fclose(fp);
        if (fmts[f] != REPORT_JSON)
            check(memchr(buf, '\x1b', len) == NULL);
        free(buf);
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    check(fp != NULL);
    struct render_opts o = { .format = REPORT_TEXT, .title = "fuzz" };
    report_html(fp, &s, &o);
    fclose(fp);
    check(count(buf, len, "<script") == 1 + (count(buf, len, "id=\"more\"") ? 1 : 0));
    free(buf);
    summary_free(&s);
    return 0;
}
