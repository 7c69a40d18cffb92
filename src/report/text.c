/*
 * text.c - the summary in a terminal, as markdown, or as JSON (render.h).
 *
 * Text and markdown share one table builder: rows of escaped cells, then
 * either aligned columns fitted to the terminal (one flexible column is
 * cut with "…"), with optional detail lines under a row, or a markdown
 * table.  JSON is the whole summary, uncut, for scripts.
 */
#include "report/render.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#define CELL_MAX 1024
#define MAX_COLS 8
#define EXPIRY_SOON_S (30 * 86400.0)

/* ---- tables ---- */

struct tcol {
    const char *head;
    bool right;         /* numbers */
    bool flex;          /* takes what is left of the width, cut with "…" */
};

struct trow {
    char *cell[MAX_COLS];
    const char *color;  /* ANSI colour of the first cell, NULL: none */
    char *detail;       /* text only: lines shown under the row */
};

struct table {
    const struct tcol *col;
    int ncol;
    struct trow *row;
    size_t n, cap;
    size_t more;        /* rows not shown */
};

static void t_row(struct table *t, const char *color, const char *const *cells, const char *detail,
                  enum esc_mode m)
{
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        struct trow *r = realloc(t->row, nc * sizeof(*r));
        if (!r)
            return;
        t->row = r;
        t->cap = nc;
    }
    struct trow *r = &t->row[t->n++];
    memset(r, 0, sizeof(*r));
    r->color = color;
    char buf[CELL_MAX];
    for (int i = 0; i < t->ncol; i++) {
        esc(m, cells[i] ? cells[i] : "", buf, sizeof(buf));
        r->cell[i] = strdup(buf);
    }
    r->detail = detail ? strdup(detail) : NULL;
}

static void t_free(struct table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        for (int c = 0; c < t->ncol; c++)
            free(t->row[i].cell[c]);
        free(t->row[i].detail);
    }
    free(t->row);
    memset(t, 0, sizeof(*t));
}

/* Print s cut to w display columns (with "…" when cut), padded to w. */
static void put_cell(FILE *fp, const char *s, size_t w, bool right, bool last)
{
    size_t sw = esc_width(s);
    if (sw > w) {
        size_t k = 0, cols = 0;
        while (s[k] && cols + 1 < w) {
            k++;
            while ((s[k] & 0xc0) == 0x80)
                k++;
            cols++;
        }
        fwrite(s, 1, k, fp);
        if (w)
            fputs("…", fp);
        return;
    }
    if (right)
        fprintf(fp, "%*s", (int)(w - sw), "");
    fputs(s, fp);
    if (!right && !last)
        fprintf(fp, "%*s", (int)(w - sw), "");
}

/* Word-wrapped detail lines, indented by 4, within width. */
static void put_detail(FILE *fp, const char *d, int width)
{
    int avail = width - 6 > 30 ? width - 6 : 30;
    while (*d) {
        const char *nl = strchr(d, '\n');
        size_t len = nl ? (size_t)(nl - d) : strlen(d);
        const char *p = d, *end = d + len;
        bool first = true;
        while (p < end) {
            /* take up to avail columns, break at the last space */
            const char *q = p, *brk = NULL;
            int cols = 0;
            while (q < end && cols < avail) {
                if (*q == ' ')
                    brk = q;
                q++;
                while (q < end && (*q & 0xc0) == 0x80)
                    q++;
                cols++;
            }
            if (q < end && brk && brk > p)
                q = brk;
            fprintf(fp, "%s%.*s\n", first ? "    " : "      ", (int)(q - p), p);
            first = false;
            p = q;
            while (p < end && *p == ' ')
                p++;
        }
        d = nl ? nl + 1 : d + len;
    }
}

static void t_print_text(FILE *fp, const struct table *t, const struct render_opts *o)
{
    size_t w[MAX_COLS];
    for (int c = 0; c < t->ncol; c++) {
        w[c] = esc_width(t->col[c].head);
        for (size_t r = 0; r < t->n; r++) {
            size_t cw = esc_width(t->row[r].cell[c]);
            if (cw > w[c])
                w[c] = cw;
        }
    }
    /* Fit the width: the flexible column gives up what is too much, down
     * to 12 columns; then every non-number column is capped at 40. */
    size_t total = 0;
    for (int c = 0; c < t->ncol; c++)
        total += w[c] + (c ? 2 : 0);
    size_t width = o->width > 20 ? (size_t)o->width : 20;
    for (int c = t->ncol - 1; c >= 0 && total > width; c--) {
        if (!t->col[c].flex)
            continue;
        size_t cut = total - width, room = w[c] > 12 ? w[c] - 12 : 0;
        if (cut > room)
            cut = room;
        w[c] -= cut;
        total -= cut;
    }
    for (int c = 0; c < t->ncol && total > width; c++) {
        if (t->col[c].right || w[c] <= 40)
            continue;
        total -= w[c] - 40;
        w[c] = 40;
    }
    bool bold = o->color;
    if (bold)
        fputs("\033[1m", fp);
    for (int c = 0; c < t->ncol; c++) {
        if (c)
            fputs("  ", fp);
        put_cell(fp, t->col[c].head, w[c], t->col[c].right, c == t->ncol - 1);
    }
    fputs(bold ? "\033[0m\n" : "\n", fp);
    for (size_t r = 0; r < t->n; r++) {
        for (int c = 0; c < t->ncol; c++) {
            if (c)
                fputs("  ", fp);
            bool col = c == 0 && o->color && t->row[r].color;
            if (col)
                fputs(t->row[r].color, fp);
            put_cell(fp, t->row[r].cell[c], w[c], t->col[c].right, c == t->ncol - 1);
            if (col)
                fputs("\033[0m", fp);
        }
        fputc('\n', fp);
        if (t->row[r].detail)
            put_detail(fp, t->row[r].detail, o->width);
    }
    if (t->more)
        fprintf(fp, "  … %zu more (--rows N shows more)\n", t->more);
}

static void t_print_md(FILE *fp, const struct table *t)
{
    for (int c = 0; c < t->ncol; c++)
        fprintf(fp, "| %s ", t->col[c].head);
    fputs("|\n", fp);
    for (int c = 0; c < t->ncol; c++)
        fputs(t->col[c].right ? "|---:" : "|---", fp);
    fputs("|\n", fp);
    for (size_t r = 0; r < t->n; r++) {
        for (int c = 0; c < t->ncol; c++)
            fprintf(fp, "| %s ", t->row[r].cell[c]);
        fputs("|\n", fp);
    }
    if (t->more)
        fprintf(fp, "\n%zu more rows (`--rows N` shows more).\n", t->more);
}

static void t_print(FILE *fp, const char *title, struct table *t, const struct render_opts *o)
{
    if (t->n == 0 && t->more == 0) {
        t_free(t);
        return;
    }
    if (o->format == REPORT_MARKDOWN) {
        fprintf(fp, "\n## %s\n\n", title);
        t_print_md(fp, t);
    } else {
        fprintf(fp, o->color ? "\n\033[1m%s\033[0m\n" : "\n%s\n", title);
        t_print_text(fp, t, o);
    }
    t_free(t);
}

/* ---- pieces ---- */

static const char *verdict_color(enum verdict v)
{
    switch (v) {
    case V_INTERCEPTED: return "\033[1;31m";
    case V_SUSPICIOUS: return "\033[33m";
    case V_REFUSED: return "\033[35m";
    case V_CLEAN: return "\033[32m";
    default: return "\033[2m";
    }
}

static const char *u64(uint64_t v, char buf[24])
{
    snprintf(buf, 24, "%" PRIu64, v);
    return buf;
}

/* Whether chain c's certificate j has the pin of an earlier one. */
static bool seen_before(const struct sum_server *sv, int c, int j)
{
    const char *pin = sv->chain[c].c[j].spki;
    for (int a = 0; a <= c; a++)
        for (int b = 0; b < (a == c ? j : sv->chain[a].n); b++)
            if (sv->chain[a].c[b].spki && strcmp(sv->chain[a].c[b].spki, pin) == 0)
                return true;
    return false;
}

/* The server's detail lines (text): why, product, issuers, pins, alerts,
 * clients.  Each string escaped for the terminal. */
static char *server_detail(const struct summary *s, const struct sum_server *sv)
{
    size_t cap = 8192, n = 0;
    char *d = malloc(cap), e[CELL_MAX], e2[CELL_MAX];
    if (!d)
        return NULL;
    d[0] = '\0';
#define ADD(...)                                                               \
    do {                                                                       \
        int w_ = snprintf(d + n, cap - n, __VA_ARGS__);                        \
        if (w_ > 0)                                                            \
            n = (size_t)w_ < cap - n ? n + (size_t)w_ : cap - 1;               \
    } while (0)
    esc(ESC_TERM, sv->why, e, sizeof(e));
    ADD("why: %s\n", e);
    if (sv->products.n) {
        ADD("product:");
        for (int i = 0; i < sv->products.n; i++) {
            esc(ESC_TERM, sv->products.v[i].s, e, sizeof(e));
            ADD("%s %s", i ? "," : "", e);
        }
        ADD("\n");
    }
    if (sv->issuers.n) {
        ADD("issuer%s:", sv->issuers.n > 1 ? "s" : "");
        for (int i = 0; i < sv->issuers.n; i++) {
            char cn[512];
            summary_short_dn(sv->issuers.v[i].s, cn, sizeof(cn));
            esc(ESC_TERM, cn, e, sizeof(e));
            ADD("%s %s (%" PRIu64 ")", i ? "," : "", e, sv->issuers.v[i].n);
        }
        ADD(sv->issuers.more ? ", +%" PRIu64 " more\n" : "\n", sv->issuers.more);
    }
    if (sv->has_policy_pins) {
        ADD("pins expected:");
        for (int i = 0; i < sv->policy_pins.n; i++) {
            esc(ESC_TERM, sv->policy_pins.v[i].s, e, sizeof(e));
            ADD("%s %s%s", i ? "," : "", e, sv->policy_pins.v[i].n ? " (backup)" : "");
        }
        ADD("\npins seen:");
        int k = 0;
        for (int c = 0; c < sv->n_chain; c++)
            for (int j = 0; j < sv->chain[c].n; j++) {
                const char *pin = sv->chain[c].c[j].spki;
                if (!pin || seen_before(sv, c, j))
                    continue;
                esc(ESC_TERM, pin, e, sizeof(e));
                ADD("%s %s%s", k++ ? "," : "", e,
                    summary_pin_expected(sv, pin) ? " (expected)" : j == 0 ? " (leaf)" : "");
            }
        ADD("\n");
    } else if (sv->spki.n || sv->expected_pins) {
        esc(ESC_TERM, sv->expected_pins ? sv->expected_pins : "none in the policy", e2, sizeof(e2));
        ADD("pins: expected %s; seen", e2);
        for (int i = 0; i < sv->spki.n; i++) {
            esc(ESC_TERM, sv->spki.v[i].s, e, sizeof(e));
            ADD("%s %s", i ? "," : "", e);
        }
        ADD("\n");
    }
    if (sv->n_alert) {
        ADD("alerts:");
        for (int i = 0; i < sv->n_alert; i++) {
            esc(ESC_TERM, sv->alert[i].signature, e, sizeof(e));
            ADD("%s %u %s ×%" PRIu64, i ? "," : "", sv->alert[i].sid, e, sv->alert[i].count);
        }
        ADD("\n");
    }
    if (sv->n_top) {
        ADD("clients:");
        for (int i = 0; i < sv->n_top; i++) {
            const struct sum_client *c = summary_client(s, sv->top[i].client);
            esc(ESC_TERM, c->addr, e, sizeof(e));
            if (sv->top[i].intercepted)
                ADD("%s %s (%" PRIu64 " of %" PRIu64 " intercepted)", i ? "," : "", e,
                    sv->top[i].intercepted, sv->top[i].n);
            else
                ADD("%s %s (%" PRIu64 ")", i ? "," : "", e, sv->top[i].n);
        }
        if (sv->clients > (uint64_t)sv->n_top)
            ADD(", +%" PRIu64 " more", sv->clients - (uint64_t)sv->n_top);
        ADD("\n");
    }
#undef ADD
    return d;
}

static void servers_table(FILE *fp, const struct summary *s, const struct render_opts *o)
{
    static const struct tcol cols[] = {
        { "VERDICT", false, false }, { "SERVER", false, true }, { "CONNS", true, false },
        { "INTERCEPTED", true, false }, { "CLIENTS", true, false }, { "ISSUER", false, true },
    };
    struct table t = { .col = cols, .ncol = 6 };
    enum esc_mode m = o->format == REPORT_MARKDOWN ? ESC_MD : ESC_TERM;
    for (size_t k = 0; k < s->servers.n; k++) {
        const struct sum_server *sv = summary_server(s, s->server_order[k]);
        if (t.n >= o->rows) {
            t.more++;
            continue;
        }
        char a[24], b[24], c[24], iss[512];
        summary_short_dn(sv->issuers.n ? sv->issuers.v[0].s : "", iss, sizeof(iss));
        if (sv->issuers.n > 1 || sv->issuers.more) {
            size_t l = strlen(iss);
            snprintf(iss + l, sizeof(iss) - l, " +%" PRIu64,
                     (uint64_t)sv->issuers.n - 1 + sv->issuers.more);
        }
        const char *cells[] = { verdict_name(sv->verdict), sv->name, u64(sv->conns, a),
                                u64(sv->intercepted, b), u64(sv->clients, c), iss };
        char *det = o->format == REPORT_TEXT ? server_detail(s, sv) : NULL;
        t_row(&t, verdict_color(sv->verdict), cells, det, m);
        free(det);
    }
    t_print(fp, "Servers, worst first", &t, o);

    if (o->format != REPORT_MARKDOWN)
        return;
    /* Markdown: the evidence as its own table, one row per server and kind. */
    static const struct tcol acols[] = {
        { "Server", false, false }, { "Verdict", false, false }, { "Alert", false, false },
        { "Count", true, false }, { "Evidence", false, false },
    };
    struct table at = { .col = acols, .ncol = 5 };
    for (size_t k = 0; k < s->servers.n; k++) {
        const struct sum_server *sv = summary_server(s, s->server_order[k]);
        if (sv->verdict >= V_CLEAN)
            continue;
        for (int i = 0; i < sv->n_alert; i++) {
            if (at.n >= o->rows) {
                at.more++;
                continue;
            }
            char sig[300], cnt[24];
            snprintf(sig, sizeof(sig), "%u %s", sv->alert[i].sid,
                     sv->alert[i].signature ? sv->alert[i].signature : "");
            const char *cells[] = { sv->name, verdict_name(sv->verdict), sig,
                                    u64(sv->alert[i].count, cnt),
                                    sv->alert[i].reason ? sv->alert[i].reason : "" };
            t_row(&at, NULL, cells, NULL, ESC_MD);
        }
    }
    t_print(fp, "Evidence", &at, o);
}

static void clients_table(FILE *fp, const struct summary *s, const struct render_opts *o)
{
    static const struct tcol cols[] = {
        { "CLIENT", false, false }, { "CONNS", true, false }, { "INTERCEPTED", true, false },
        { "SERVERS", true, false }, { "JA4", false, false }, { "APPLICATION", false, true },
    };
    struct table t = { .col = cols, .ncol = 6 };
    enum esc_mode m = o->format == REPORT_MARKDOWN ? ESC_MD : ESC_TERM;
    for (size_t k = 0; k < s->clients.n; k++) {
        const struct sum_client *c = summary_client(s, s->client_order[k]);
        if (t.n >= o->rows) {
            t.more++;
            continue;
        }
        char a[24], b[24], d[24], ja4[300] = "", app[600] = "";
        if (c->ja4.n)
            snprintf(ja4, sizeof(ja4), "%s%s", c->ja4.v[0].s,
                     c->ja4.n > 1 || c->ja4.more ? " +" : "");
        if (c->ja4.n > 1 || c->ja4.more) {
            size_t l = strlen(ja4);
            snprintf(ja4 + l, sizeof(ja4) - l, "%" PRIu64, (uint64_t)c->ja4.n - 1 + c->ja4.more);
        }
        for (int i = 0; i < c->apps.n && i < 3; i++) {
            size_t l = strlen(app);
            snprintf(app + l, sizeof(app) - l, "%s%s", i ? "; " : "", c->apps.v[i].s);
        }
        const char *cells[] = { c->addr, u64(c->conns, a), u64(c->intercepted, b),
                                u64(c->servers, d), ja4, app };
        t_row(&t, c->intercepted ? "\033[1;31m" : NULL, cells, NULL, m);
    }
    t_print(fp, "Clients", &t, o);
}

/* A tally as NAME COUNT [NOTE] rows, largest first. */
static void tally_table(FILE *fp, const char *title, const struct stab *st, const char *head,
                        const char *note_head, const struct render_opts *o)
{
    struct tcol cols[] = {
        { head, false, false }, { "COUNT", true, false }, { note_head, false, true },
    };
    struct table t = { .col = cols, .ncol = note_head ? 3 : 2 };
    enum esc_mode m = o->format == REPORT_MARKDOWN ? ESC_MD : ESC_TERM;
    size_t n;
    uint32_t *top = summary_top(st, o->rows, &n);
    if (!top)
        return;
    for (size_t i = 0; i < n; i++) {
        const struct sum_count *c = stab_count(st, top[i]);
        char a[24];
        const char *cells[] = { st->keys[top[i]], u64(c->n, a), c->name ? c->name : "" };
        t_row(&t, NULL, cells, NULL, m);
    }
    t.more = st->n - n;
    free(top);
    t_print(fp, title, &t, o);
}

static void certs_table(FILE *fp, const struct summary *s, const struct render_opts *o)
{
    static const struct tcol cols[] = {
        { "STATUS", false, false }, { "NOT AFTER", false, false }, { "SUBJECT", false, true },
        { "SERVER", false, true }, { "SHA-256", false, true },
    };
    struct table t = { .col = cols, .ncol = 5 };
    enum esc_mode m = o->format == REPORT_MARKDOWN ? ESC_MD : ESC_TERM;
    for (size_t i = 0; i < s->certs.n; i++) {
        const struct sum_count *c = stab_count(&s->certs, i);
        const char *status = c->seen >= 0 && c->when < c->seen ? "expired"
                           : c->seen >= 0 && c->when - c->seen < EXPIRY_SOON_S ? "expiring"
                                                                              : NULL;
        if (!status)
            continue;
        if (t.n >= o->rows) {
            t.more++;
            continue;
        }
        char when[32];
        summary_format_time(c->when, when, sizeof(when));
        const char *cells[] = { status, when, c->name ? c->name : "", c->extra ? c->extra : "",
                                s->certs.keys[i] };
        t_row(&t, strcmp(status, "expired") == 0 ? "\033[33m" : NULL, cells, NULL, m);
    }
    t_print(fp, "Certificates expired or expiring within 30 days at capture time", &t, o);
}

static void invalid_table(FILE *fp, const struct summary *s, const struct render_opts *o)
{
    static const struct tcol cols[] = {
        { "SERVER", false, true }, { "VALIDATION", false, false }, { "COUNT", true, false },
        { "LEAF ISSUER", false, true },
    };
    struct table t = { .col = cols, .ncol = 4 };
    enum esc_mode m = o->format == REPORT_MARKDOWN ? ESC_MD : ESC_TERM;
    size_t n;
    uint32_t *top = summary_top(&s->invalid, o->rows, &n);
    if (!top)
        return;
    for (size_t i = 0; i < n; i++) {
        const struct sum_count *c = stab_count(&s->invalid, top[i]);
        const char *key = s->invalid.keys[top[i]], *sep = strchr(key, '\x1f');
        char srv[300], a[24];
        snprintf(srv, sizeof(srv), "%.*s", (int)(sep ? sep - key : 0), key);
        const char *cells[] = { srv, sep ? sep + 1 : key, u64(c->n, a), c->extra ? c->extra : "" };
        t_row(&t, NULL, cells, NULL, m);
    }
    t.more = s->invalid.n - n;
    free(top);
    t_print(fp, "Chains that did not validate", &t, o);
}

static void heading(FILE *fp, const struct summary *s, const struct render_opts *o)
{
    char from[32], to[32], title[600];
    summary_format_time(s->first_ts, from, sizeof(from));
    summary_format_time(s->last_ts, to, sizeof(to));
    esc(o->format == REPORT_MARKDOWN ? ESC_MD : ESC_TERM, o->title ? o->title : "", title,
        sizeof(title));
    const char *b = o->color ? "\033[1m" : "", *z = o->color ? "\033[0m" : "";
    if (o->format == REPORT_MARKDOWN)
        fprintf(fp, "# pinscope report: %s\n\n", title);
    else
        fprintf(fp, "%spinscope report%s: %s\n", b, z, title);
    fprintf(fp, "%s%" PRIu64 " connections, %zu servers, %zu clients, %s to %s UTC\n",
            o->format == REPORT_MARKDOWN ? "" : "  ", s->conn_events, s->servers.n,
            s->clients.n, from, to);
    fprintf(fp, "%sverdicts:", o->format == REPORT_MARKDOWN ? "\n" : "  ");
    for (int v = 0; v < V_COUNT; v++) {
        const char *c = o->color && s->verdicts[v] ? verdict_color((enum verdict)v) : "";
        fprintf(fp, "%s %s%" PRIu64 " %s%s", v ? "," : "", c, s->verdicts[v],
                verdict_name((enum verdict)v), *c ? "\033[0m" : "");
    }
    fputc('\n', fp);
    if (s->packets)
        fprintf(fp, "%s%" PRIu64 " packets, %" PRIu64 " bytes, %" PRIu64 " anomalies counted\n",
                o->format == REPORT_MARKDOWN ? "\n" : "  ", s->packets, s->bytes, s->anomalies);
}

static void footer(FILE *fp, const struct summary *s, const struct render_opts *o)
{
    fprintf(fp, "\n%s%" PRIu64 " events read (%" PRIu64 " connections, %" PRIu64 " alerts, %" PRIu64
                " stats)",
            o->format == REPORT_MARKDOWN ? "" : "  ", s->events, s->conn_events, s->alert_events,
            s->stats_events);
    if (s->unreadable)
        fprintf(fp, "; %" PRIu64 " %s", s->unreadable,
                s->unreadable == 1 ? "line was not a pinscope event" : "lines were not pinscope events");
    uint64_t over = s->servers.over + s->clients.over + s->conns.over + s->pairs.over +
                    s->ja4.over + s->ja4s.over + s->certs.over + s->issuers.over;
    if (over)
        fprintf(fp, "; %" PRIu64 " entries beyond the report's caps were counted only", over);
    fputs(".\n", fp);
}

/* ---- JSON ---- */

static cJSON *list_json(const struct sum_list *l)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < l->n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "value", l->v[i].s);
        cJSON_AddNumberToObject(o, "count", (double)l->v[i].n);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static cJSON *tally_json(const struct stab *st, size_t max, const char *name_key)
{
    cJSON *a = cJSON_CreateArray();
    size_t n;
    uint32_t *top = summary_top(st, max, &n);
    for (size_t i = 0; top && i < n; i++) {
        const struct sum_count *c = stab_count(st, top[i]);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "value", st->keys[top[i]]);
        cJSON_AddNumberToObject(o, "count", (double)c->n);
        if (name_key && c->name)
            cJSON_AddStringToObject(o, name_key, c->name);
        cJSON_AddItemToArray(a, o);
    }
    free(top);
    return a;
}

static int report_json(FILE *fp, const struct summary *s)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *tot = cJSON_AddObjectToObject(root, "totals");
    cJSON_AddNumberToObject(tot, "connections", (double)s->conn_events);
    cJSON_AddNumberToObject(tot, "alerts", (double)s->alert_events);
    cJSON_AddNumberToObject(tot, "servers", (double)s->servers.n);
    cJSON_AddNumberToObject(tot, "clients", (double)s->clients.n);
    cJSON_AddNumberToObject(tot, "events", (double)s->events);
    cJSON_AddNumberToObject(tot, "unreadable_lines", (double)s->unreadable);
    cJSON_AddNumberToObject(tot, "packets", (double)s->packets);
    cJSON_AddNumberToObject(tot, "anomalies", (double)s->anomalies);
    cJSON *vd = cJSON_AddObjectToObject(tot, "verdicts");
    for (int v = 0; v < V_COUNT; v++)
        cJSON_AddNumberToObject(vd, verdict_name((enum verdict)v), (double)s->verdicts[v]);

    cJSON *servers = cJSON_AddArrayToObject(root, "servers");
    for (size_t k = 0; k < s->servers.n; k++) {
        const struct sum_server *sv = summary_server(s, s->server_order[k]);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "server", sv->name);
        cJSON_AddBoolToObject(o, "sni", sv->has_sni);
        cJSON_AddStringToObject(o, "verdict", verdict_name(sv->verdict));
        cJSON_AddStringToObject(o, "why", sv->why ? sv->why : "");
        cJSON_AddNumberToObject(o, "connections", (double)sv->conns);
        cJSON_AddNumberToObject(o, "intercepted", (double)sv->intercepted);
        cJSON_AddNumberToObject(o, "refused", (double)sv->refused);
        cJSON_AddNumberToObject(o, "clients", (double)sv->clients);
        cJSON_AddItemToObject(o, "products", list_json(&sv->products));
        cJSON_AddItemToObject(o, "issuers", list_json(&sv->issuers));
        cJSON_AddItemToObject(o, "pins_seen", list_json(&sv->spki));
        if (sv->expected_pins)
            cJSON_AddStringToObject(o, "pins_expected", sv->expected_pins);
        if (sv->has_policy_pins) {
            cJSON *pp = cJSON_AddArrayToObject(o, "policy_pins");
            for (int i = 0; i < sv->policy_pins.n; i++) {
                cJSON *x = cJSON_CreateObject();
                cJSON_AddStringToObject(x, "pin", sv->policy_pins.v[i].s);
                cJSON_AddBoolToObject(x, "backup", sv->policy_pins.v[i].n != 0);
                cJSON_AddItemToArray(pp, x);
            }
            cJSON *ch = cJSON_AddArrayToObject(o, "chain_pins_seen");
            for (int c = 0; c < sv->n_chain; c++)
                for (int j = 0; j < sv->chain[c].n; j++) {
                    const char *pin = sv->chain[c].c[j].spki;
                    if (!pin || seen_before(sv, c, j))
                        continue;
                    cJSON *x = cJSON_CreateObject();
                    cJSON_AddStringToObject(x, "pin", pin);
                    cJSON_AddBoolToObject(x, "leaf", j == 0);
                    cJSON_AddBoolToObject(x, "expected", summary_pin_expected(sv, pin));
                    cJSON_AddItemToArray(ch, x);
                }
        }
        cJSON_AddItemToObject(o, "addresses", list_json(&sv->dests));
        cJSON_AddItemToObject(o, "ja4s", list_json(&sv->ja4s));
        cJSON *al = cJSON_AddArrayToObject(o, "alerts");
        for (int i = 0; i < sv->n_alert; i++) {
            const struct sum_alert *a = &sv->alert[i];
            cJSON *x = cJSON_CreateObject();
            cJSON_AddNumberToObject(x, "signature_id", a->sid);
            cJSON_AddStringToObject(x, "signature", a->signature ? a->signature : "");
            cJSON_AddNumberToObject(x, "severity", a->severity);
            cJSON_AddNumberToObject(x, "count", (double)a->count);
            if (a->reason)
                cJSON_AddStringToObject(x, "reason", a->reason);
            if (a->evidence)
                cJSON_AddStringToObject(x, "evidence", a->evidence);
            cJSON *fl = cJSON_AddArrayToObject(x, "flow_ids");
            for (int j = 0; j < a->n_ex; j++)
                cJSON_AddItemToArray(fl, cJSON_CreateNumber((double)a->ex[j].flow_id));
            cJSON_AddItemToArray(al, x);
        }
        cJSON *cl = cJSON_AddArrayToObject(o, "top_clients");
        for (int i = 0; i < sv->n_top; i++) {
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "client", summary_client(s, sv->top[i].client)->addr);
            cJSON_AddNumberToObject(x, "connections", (double)sv->top[i].n);
            cJSON_AddNumberToObject(x, "intercepted", (double)sv->top[i].intercepted);
            cJSON_AddItemToArray(cl, x);
        }
        cJSON_AddItemToArray(servers, o);
    }
    cJSON *clients = cJSON_AddArrayToObject(root, "clients");
    for (size_t k = 0; k < s->clients.n; k++) {
        const struct sum_client *c = summary_client(s, s->client_order[k]);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "client", c->addr);
        cJSON_AddNumberToObject(o, "connections", (double)c->conns);
        cJSON_AddNumberToObject(o, "intercepted", (double)c->intercepted);
        cJSON_AddNumberToObject(o, "servers", (double)c->servers);
        cJSON_AddItemToObject(o, "ja4", list_json(&c->ja4));
        cJSON_AddItemToObject(o, "applications", list_json(&c->apps));
        cJSON_AddItemToArray(clients, o);
    }
    cJSON_AddItemToObject(root, "versions", tally_json(&s->versions, 100, NULL));
    cJSON_AddItemToObject(root, "ja4", tally_json(&s->ja4, 100, "application"));
    cJSON_AddItemToObject(root, "ja4s", tally_json(&s->ja4s, 100, NULL));
    cJSON_AddItemToObject(root, "issuers", tally_json(&s->issuers, 100, NULL));
    char *txt = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!txt)
        return -1;
    fputs(txt, fp);
    fputc('\n', fp);
    free(txt);
    return 0;
}

int report_text(FILE *fp, const struct summary *s, const struct render_opts *o)
{
    if (o->format == REPORT_JSON)
        return report_json(fp, s) < 0 || fflush(fp) != 0 || ferror(fp) ? -1 : 0;
    heading(fp, s, o);
    servers_table(fp, s, o);
    clients_table(fp, s, o);
    tally_table(fp, "TLS versions", &s->versions, "VERSION", NULL, o);
    tally_table(fp, "Client fingerprints (JA4)", &s->ja4, "JA4", "APPLICATION", o);
    tally_table(fp, "Server fingerprints (JA4S)", &s->ja4s, "JA4S", NULL, o);
    tally_table(fp, "Leaf issuers", &s->issuers, "ISSUER", NULL, o);
    certs_table(fp, s, o);
    invalid_table(fp, s, o);
    footer(fp, s, o);
    return fflush(fp) != 0 || ferror(fp) ? -1 : 0;
}
