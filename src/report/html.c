/*
 * html.c - the summary as one self-contained HTML page (render.h).
 *
 * One file, no network: the style and the script are inline, the charts
 * are inline SVG, and a Content-Security-Policy forbids any load.  The
 * page is built from the aggregates only (never one element per raw
 * event), so 100,000 connections make the same few thousand elements as
 * a hundred.  The first CFG_REPORT_HTML_ROWS servers are table rows, there
 * without JavaScript; up to CFG_REPORT_HTML_DATA more travel as one JSON
 * block that the script turns into rows only when their page is shown.
 * With JavaScript, the verdict table gets filters, a search box and pages.
 *
 * Every string from the capture goes through esc(ESC_HTML): text content
 * and attribute values alike, so no tag or attribute from the wire reaches
 * the DOM.
 */
#include "report/render.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"

#define TIMELINE_SERVERS 25
#define TIMELINE_BINS    60
#define MATRIX_MAX       15
#define CHAIN_SERVERS    30
#define EVIDENCE_SERVERS CFG_REPORT_HTML_ROWS
#define BAR_ROWS         10

/* Escaped text of s. */
static void h(FILE *fp, const char *s)
{
    if (!s)
        return;
    size_t cap = strlen(s) * 10 + 1;
    char stackbuf[2048], *buf = cap <= sizeof(stackbuf) ? stackbuf : malloc(cap);
    if (!buf)
        return;
    esc(ESC_HTML, s, buf, cap);
    fputs(buf, fp);
    if (buf != stackbuf)
        free(buf);
}

static const char *const css =
    "body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}"
    "header{background:#1d2330;color:#fff;padding:16px 24px}header h1{margin:0;font-size:20px}"
    "header p{margin:4px 0 0;color:#c9d1e0}main{padding:8px 24px 40px}"
    "section{background:#fff;border:1px solid #dde1e8;border-radius:6px;margin:16px 0;"
    "padding:12px 16px}h2{font-size:16px;margin:4px 0 10px}"
    "table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 8px;"
    "border-bottom:1px solid #eceef2;vertical-align:top}th{background:#f0f2f5;font-weight:600}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".v{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;font-size:12px}"
    ".v-intercepted{background:#c62828;color:#fff}.v-suspicious{background:#f9a825;color:#222}"
    ".v-refused{background:#8e24aa;color:#fff}.v-clean{background:#2e7d32;color:#fff}"
    ".v-unknown{background:#9aa3b1;color:#fff}.cards{display:flex;gap:12px;flex-wrap:wrap}"
    ".card{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:8px 14px}"
    ".card b{display:block;font-size:20px}.why{color:#444;font-size:13px}"
    ".mono{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}"
    ".al a{display:inline-block;margin:2px 6px 2px 0}.js-only{display:none}"
    ".js .js-only{display:inline-block}#filters button{margin-right:6px}"
    ".chain{display:flex;gap:24px;flex-wrap:wrap;margin:8px 0 16px}"
    ".certs{display:flex;flex-direction:column;align-items:flex-start}"
    ".cert{border:1px solid #b8c0cc;border-radius:6px;padding:6px 10px;background:#fafbfc;"
    "min-width:320px}.cert.bad{border-color:#c62828;background:#fdecec}"
    ".arrow{margin:2px 0 2px 24px;color:#888}.pins{font-size:13px}"
    ".matrix td{text-align:center}.matrix td.x{background:#f8d0d0;font-weight:600}"
    ".matrix td.c{background:#e3f1e4}.ev{border-top:1px solid #eceef2;padding:8px 0}"
    ".ev:target{background:#fff8e1}svg text{font:11px system-ui,sans-serif}"
    ".pager{margin:8px 0}.hide{display:none}.ok{color:#2e7d32}.no{color:#c62828}";

/* Filters, search and pages for the verdict table; nothing else needs it. */
static const char *const js =
    "(function(){'use strict';document.body.classList.add('js');"
    "var tbody=document.querySelector('#verdicts tbody');"
    "var rows=Array.prototype.slice.call(tbody.querySelectorAll('tr')).map(function(r){"
    "return{v:r.getAttribute('data-v'),s:r.getAttribute('data-s'),el:r};});"
    "var more=document.getElementById('more');var names=['intercepted','suspicious',"
    "'refused','clean','unknown'];"
    "if(more){JSON.parse(more.textContent).forEach(function(d){"
    "rows.push({v:names[d[0]]||'unknown',s:String(d[1]).toLowerCase(),d:d,el:null});});}"
    "function cell(tr,text,cls){var td=document.createElement('td');if(cls)td.className=cls;"
    "td.textContent=text;tr.appendChild(td);return td;}"
    "function build(r){var d=r.d,tr=document.createElement('tr');tr.setAttribute('data-v',r.v);"
    "var td=cell(tr,'');var b=document.createElement('span');b.className='v v-'+r.v;"
    "b.textContent=r.v;td.appendChild(b);cell(tr,d[1]);cell(tr,d[2],'n');cell(tr,d[3],'n');"
    "cell(tr,d[4],'n');cell(tr,d[5]);var ev=cell(tr,'');var w=document.createElement('div');"
    "w.className='why';w.textContent=d[6];ev.appendChild(w);var al=document.createElement('div');"
    "al.className='al';al.textContent=d[7];ev.appendChild(al);tbody.appendChild(tr);r.el=tr;}"
    "var per=100,page=0,want='all',q='';var info=document.getElementById('pageinfo');"
    "function match(r){return(want==='all'||r.v===want)&&(q===''||r.s.indexOf(q)>=0);}"
    "function show(){var m=rows.filter(match),pages=Math.max(1,Math.ceil(m.length/per));"
    "if(page>=pages)page=pages-1;rows.forEach(function(r){if(r.el)r.el.classList.add('hide');});"
    "m.slice(page*per,page*per+per).forEach(function(r){if(!r.el)build(r);"
    "r.el.classList.remove('hide');});"
    "info.textContent='page '+(page+1)+' of '+pages+' ('+m.length+' servers)';}"
    "Array.prototype.forEach.call(document.querySelectorAll('#filters button'),function(b){"
    "b.addEventListener('click',function(){want=b.getAttribute('data-v');page=0;show();});});"
    "document.getElementById('search').addEventListener('input',function(e){"
    "q=e.target.value.toLowerCase();page=0;show();});"
    "document.getElementById('prev').addEventListener('click',function(){if(page>0)page--;show();});"
    "document.getElementById('next').addEventListener('click',function(){page++;show();});"
    "var nojs=document.getElementById('nojs');if(nojs)nojs.className='hide';"
    "var h=location.hash.match(/^#q=(.*)$/);if(h){try{q=decodeURIComponent(h[1]).toLowerCase();"
    "}catch(e){q='';}document.getElementById('search').value=q;}"
    "show();})();";

/* A JSON string that is safe inside <script>: the text first made visible
 * (esc ESC_TERM: no control or bidi character, valid UTF-8), then quoted
 * with <, >, & and the JavaScript line separators as \u escapes, so no
 * "</script>" or "<!--" can appear in the block. */
static void js_str(FILE *fp, const char *s)
{
    size_t cap = (s ? strlen(s) : 0) * 10 + 1;
    char stackbuf[2048], *buf = cap <= sizeof(stackbuf) ? stackbuf : malloc(cap);
    if (!buf) {
        fputs("\"\"", fp);
        return;
    }
    esc(ESC_TERM, s, buf, cap);
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)buf; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(fp, "\\%c", *p);
        else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&')
            fprintf(fp, "\\u%04x", *p);
        else
            fputc(*p, fp);
    }
    fputc('"', fp);
    if (buf != stackbuf)
        free(buf);
}

static void verdict_badge(FILE *fp, enum verdict v)
{
    fprintf(fp, "<span class=\"v v-%s\">%s</span>", verdict_name(v), verdict_name(v));
}

static void heading(FILE *fp, const struct summary *s, const struct render_opts *o)
{
    char from[32], to[32];
    summary_format_time(s->first_ts, from, sizeof(from));
    summary_format_time(s->last_ts, to, sizeof(to));
    fputs("<header><h1>pinscope report</h1><p>", fp);
    h(fp, o->title);
    fprintf(fp, "</p><p>%s to %s UTC", from, to);
    if (s->sensor) {
        fputs(" &middot; sensor ", fp);
        h(fp, s->sensor);
    }
    fputs("</p></header><main><div class=\"cards\" style=\"margin-top:16px\">", fp);
    fprintf(fp, "<div class=\"card\"><b>%" PRIu64 "</b>connections</div>", s->conn_events);
    fprintf(fp, "<div class=\"card\"><b>%zu</b>servers</div>", s->servers.n);
    fprintf(fp, "<div class=\"card\"><b>%zu</b>clients</div>", s->clients.n);
    fprintf(fp, "<div class=\"card\"><b>%" PRIu64 "</b>alerts</div>", s->alert_events);
    for (int v = 0; v < V_COUNT; v++) {
        fprintf(fp, "<div class=\"card\"><b>%" PRIu64 "</b>", s->verdicts[v]);
        verdict_badge(fp, (enum verdict)v);
        fputs("</div>", fp);
    }
    fputs("</div>", fp);
}

static void verdict_table(FILE *fp, const struct summary *s)
{
    fputs("<section><h2>Verdicts, worst first</h2><div id=\"filters\" class=\"js-only\">", fp);
    fputs("<button data-v=\"all\">all</button>", fp);
    for (int v = 0; v < V_COUNT; v++)
        fprintf(fp, "<button data-v=\"%s\">%s (%" PRIu64 ")</button>",
                verdict_name((enum verdict)v), verdict_name((enum verdict)v), s->verdicts[v]);
    fputs("<input id=\"search\" type=\"search\" placeholder=\"server name\" "
          "aria-label=\"search servers\"></div>"
          "<table id=\"verdicts\"><thead><tr><th>verdict</th><th>server</th><th>conns</th>"
          "<th>intercepted</th><th>clients</th><th>issuer</th><th>evidence</th></tr></thead>"
          "<tbody>\n", fp);
    size_t shown = 0;
    for (size_t k = 0; k < s->servers.n && shown < CFG_REPORT_HTML_ROWS; k++, shown++) {
        const struct sum_server *sv = summary_server(s, s->server_order[k]);
        char lower[300];
        size_t i = 0;
        for (; sv->name[i] && i + 1 < sizeof(lower); i++)
            lower[i] = (sv->name[i] >= 'A' && sv->name[i] <= 'Z') ? (char)(sv->name[i] + 32)
                                                                   : sv->name[i];
        lower[i] = '\0';
        fprintf(fp, "<tr id=\"s%zu\" data-v=\"%s\" data-s=\"", k, verdict_name(sv->verdict));
        h(fp, lower);
        fputs("\"><td>", fp);
        verdict_badge(fp, sv->verdict);
        fputs("</td><td>", fp);
        h(fp, sv->name);
        fprintf(fp, "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64
                    "</td><td class=\"n\">%" PRIu64 "</td><td>",
                sv->conns, sv->intercepted, sv->clients);
        for (int j = 0; j < sv->issuers.n && j < 3; j++) {
            char cn[512];
            summary_short_dn(sv->issuers.v[j].s, cn, sizeof(cn));
            if (j)
                fputs("<br>", fp);
            h(fp, cn);
        }
        if (sv->products.n) {
            fputs("<br><i>", fp);
            h(fp, sv->products.v[0].s);
            fputs("</i>", fp);
        }
        fputs("</td><td><div class=\"why\">", fp);
        h(fp, sv->why);
        fputs("</div><div class=\"al\">", fp);
        if (k < EVIDENCE_SERVERS)
            for (int a = 0; a < sv->n_alert; a++) {
                fprintf(fp, "<a href=\"#ev-%zu-%d\">%u ", k, a, sv->alert[a].sid);
                h(fp, sv->alert[a].signature);
                fprintf(fp, " &times;%" PRIu64 "</a>", sv->alert[a].count);
            }
        fputs("</div></td></tr>\n", fp);
    }
    fputs("</tbody></table>", fp);
    size_t data = s->servers.n - shown;
    if (data > CFG_REPORT_HTML_DATA)
        data = CFG_REPORT_HTML_DATA;
    if (data) {
        /* [verdict, name, conns, intercepted, clients, issuer, why, alerts] */
        fputs("<script type=\"application/json\" id=\"more\">[", fp);
        for (size_t k = shown; k < shown + data; k++) {
            const struct sum_server *sv = summary_server(s, s->server_order[k]);
            char cn[512], al[1024];
            summary_short_dn(sv->issuers.n ? sv->issuers.v[0].s : "", cn, sizeof(cn));
            size_t n = 0;
            al[0] = '\0';
            for (int a = 0; a < sv->n_alert && n + 1 < sizeof(al); a++) {
                int w = snprintf(al + n, sizeof(al) - n, "%s%u %s \u00d7%" PRIu64, a ? ", " : "",
                                 sv->alert[a].sid, sv->alert[a].signature ? sv->alert[a].signature : "",
                                 sv->alert[a].count);
                if (w < 0)
                    break;
                n = (size_t)w < sizeof(al) - n ? n + (size_t)w : sizeof(al) - 1;
            }
            fprintf(fp, "%s[%d,", k > shown ? "," : "", (int)sv->verdict);
            js_str(fp, sv->name);
            fprintf(fp, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",", sv->conns, sv->intercepted,
                    sv->clients);
            js_str(fp, cn);
            fputc(',', fp);
            js_str(fp, sv->why);
            fputc(',', fp);
            js_str(fp, al);
            fputc(']', fp);
        }
        fputs("]</script>", fp);
        fprintf(fp, "<p id=\"nojs\">%zu more servers: the page shows them with JavaScript on; "
                    "the terminal and JSON summaries list them all.</p>", data);
    }
    if (s->servers.n > shown + data)
        fprintf(fp, "<p>%zu more servers are in the terminal and JSON summaries only.</p>",
                s->servers.n - shown - data);
    fputs("<div class=\"pager js-only\"><button id=\"prev\">&larr;</button> "
          "<span id=\"pageinfo\"></span> <button id=\"next\">&rarr;</button></div></section>\n",
          fp);
}

/* Connections per server over the capture's time, intercepted in red. */
static void timeline(FILE *fp, const struct summary *s)
{
    size_t n = s->servers.n < TIMELINE_SERVERS ? s->servers.n : TIMELINE_SERVERS;
    if (n == 0 || s->first_ts < 0)
        return;
    double t0 = s->first_ts, span = s->last_ts - s->first_ts;
    if (span <= 0)
        span = 1;
    uint32_t (*bins)[TIMELINE_BINS][2] = calloc(n, sizeof(*bins));
    long *row = malloc(s->servers.n * sizeof(*row));
    if (!bins || !row) {
        free(bins);
        free(row);
        return;
    }
    for (size_t i = 0; i < s->servers.n; i++)
        row[i] = -1;
    for (size_t k = 0; k < n; k++)
        row[s->server_order[k]] = (long)k;
    for (size_t i = 0; i < s->conns.n; i++) {
        const struct sum_conn *c = summary_conn(s, i);
        if (!(c->flags & SUM_F_EVENT) || c->server == UINT32_MAX || row[c->server] < 0 ||
            c->ts < 0)
            continue;
        int b = (int)((c->ts - t0) / span * (TIMELINE_BINS - 1) + 0.5);
        if (b < 0)
            b = 0;
        if (b >= TIMELINE_BINS)
            b = TIMELINE_BINS - 1;
        bins[row[c->server]][b][c->verdict == V_INTERCEPTED ? 1 : 0]++;
    }
    uint32_t max = 1;
    for (size_t k = 0; k < n; k++)
        for (int b = 0; b < TIMELINE_BINS; b++)
            if (bins[k][b][0] + bins[k][b][1] > max)
                max = bins[k][b][0] + bins[k][b][1];
    const int lw = 220, bw = 10, rh = 22, W = lw + TIMELINE_BINS * bw + 10;
    char from[32], to[32];
    summary_format_time(t0, from, sizeof(from));
    summary_format_time(s->last_ts, to, sizeof(to));
    fprintf(fp, "<section><h2>Timeline: connections per server</h2>"
                "<p>%s to %s UTC, %d slots; <span style=\"color:#c62828\">&#9632;</span> "
                "intercepted, <span style=\"color:#7b8aa3\">&#9632;</span> other</p>"
                "<svg role=\"img\" aria-label=\"timeline\" width=\"%d\" height=\"%zu\" "
                "viewBox=\"0 0 %d %zu\">",
            from, to, TIMELINE_BINS, W, n * rh + 4, W, n * rh + 4);
    for (size_t k = 0; k < n; k++) {
        const struct sum_server *sv = summary_server(s, s->server_order[k]);
        char name[40];
        snprintf(name, sizeof(name), "%.32s%s", sv->name, strlen(sv->name) > 32 ? "…" : "");
        fprintf(fp, "<text x=\"0\" y=\"%zu\">", k * rh + 15);
        h(fp, name);
        fputs("</text>", fp);
        for (int b = 0; b < TIMELINE_BINS; b++) {
            uint32_t other = bins[k][b][0], bad = bins[k][b][1];
            if (!other && !bad)
                continue;
            double ho = 18.0 * other / max, hb = 18.0 * bad / max;
            if (ho > 0 && ho < 2)
                ho = 2;
            if (hb > 0 && hb < 2)
                hb = 2;
            double base = (double)(k * rh + 20);
            if (other)
                fprintf(fp, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" "
                            "fill=\"#7b8aa3\"><title>%u</title></rect>",
                        lw + b * bw, base - ho, bw - 1, ho, other);
            if (bad)
                fprintf(fp, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" "
                            "fill=\"#c62828\"><title>%u intercepted</title></rect>",
                        lw + b * bw, base - ho - hb, bw - 1, hb, bad);
        }
    }
    fputs("</svg></section>\n", fp);
    free(bins);
    free(row);
}

/* The busiest clients against the busiest servers. */
static int cmp_conns_desc(const void *a, const void *b, const struct summary *s, bool servers)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    uint64_t nx = servers ? summary_server(s, x)->conns : summary_client(s, x)->conns;
    uint64_t ny = servers ? summary_server(s, y)->conns : summary_client(s, y)->conns;
    return nx > ny ? -1 : nx < ny ? 1 : (x > y) - (x < y);
}

static const struct summary *mctx;
static int cmp_srv(const void *a, const void *b) { return cmp_conns_desc(a, b, mctx, true); }
static int cmp_cli(const void *a, const void *b) { return cmp_conns_desc(a, b, mctx, false); }

static void matrix(FILE *fp, const struct summary *s)
{
    if (!s->servers.n || !s->clients.n)
        return;
    uint32_t *so = malloc(s->servers.n * sizeof(*so)), *co = malloc(s->clients.n * sizeof(*co));
    if (!so || !co) {
        free(so);
        free(co);
        return;
    }
    memcpy(so, s->server_order, s->servers.n * sizeof(*so));
    memcpy(co, s->client_order, s->clients.n * sizeof(*co));
    mctx = s;
    /* worst servers first is the order already; the busiest of them */
    size_t ns = s->servers.n < MATRIX_MAX ? s->servers.n : MATRIX_MAX;
    size_t nc = s->clients.n < MATRIX_MAX ? s->clients.n : MATRIX_MAX;
    qsort(so, ns, sizeof(*so), cmp_srv);
    qsort(co, nc, sizeof(*co), cmp_cli);
    mctx = NULL;
    fputs("<section><h2>Clients &times; servers</h2><p>Connections; red: some were "
          "intercepted.</p><table class=\"matrix\"><thead><tr><th>client \\ server</th>", fp);
    for (size_t j = 0; j < ns; j++) {
        fputs("<th class=\"mono\">", fp);
        h(fp, summary_server(s, so[j])->name);
        fputs("</th>", fp);
    }
    fputs("</tr></thead><tbody>", fp);
    for (size_t i = 0; i < nc; i++) {
        fputs("<tr><th class=\"mono\">", fp);
        h(fp, summary_client(s, co[i])->addr);
        fputs("</th>", fp);
        for (size_t j = 0; j < ns; j++) {
            const struct sum_count *p = summary_pair(s, so[j], co[i]);
            if (!p)
                fputs("<td></td>", fp);
            else
                fprintf(fp, "<td class=\"%s\">%" PRIu64 "</td>", p->flagged ? "x" : "c", p->n);
        }
        fputs("</tr>", fp);
    }
    fputs("</tbody></table>", fp);
    if (s->servers.n > ns || s->clients.n > nc)
        fprintf(fp, "<p>The %zu most active of %zu clients and the %zu first of %zu servers.</p>",
                nc, s->clients.n, ns, s->servers.n);
    fputs("</section>\n", fp);
    free(so);
    free(co);
}

static void chains(FILE *fp, const struct summary *s)
{
    fputs("<section><h2>Certificate chains</h2><p>Each distinct chain a server showed, leaf "
          "first, beside the pins expected and seen.</p>", fp);
    size_t shown = 0;
    for (size_t k = 0; k < s->servers.n && shown < CHAIN_SERVERS; k++) {
        const struct sum_server *sv = summary_server(s, s->server_order[k]);
        if (!sv->n_chain)
            continue;
        shown++;
        fputs("<h3 class=\"mono\">", fp);
        h(fp, sv->name);
        fputs(" ", fp);
        verdict_badge(fp, sv->verdict);
        fputs("</h3><div class=\"chain\">", fp);
        for (int c = 0; c < sv->n_chain; c++) {
            const struct sum_chain *ch = &sv->chain[c];
            bool ok = ch->validation && strcmp(ch->validation, "ok") == 0;
            fprintf(fp, "<div class=\"certs\"><div>%" PRIu64 " connection%s, validation: ",
                    ch->conns, ch->conns == 1 ? "" : "s");
            h(fp, ch->validation ? ch->validation : "not checked");
            fputs("</div>", fp);
            for (int i = 0; i < ch->n; i++) {
                const struct sum_cert *ce = &ch->c[i];
                if (i)
                    fputs("<div class=\"arrow\">&uarr; issued by</div>", fp);
                fprintf(fp, "<div class=\"cert%s\"><b>", ok ? "" : " bad");
                h(fp, ce->subject_cn);
                fputs("</b><br>issuer: ", fp);
                h(fp, ce->issuer_cn ? ce->issuer_cn : ce->issuer);
                fputs("<br>not after: ", fp);
                h(fp, ce->not_after);
                fputs("<br><span class=\"mono\">pin sha256/", fp);
                h(fp, ce->spki);
                fputs("</span>", fp);
                if (sv->has_policy_pins)
                    fputs(summary_pin_expected(sv, ce->spki) ? " <b class=\"ok\">&#10003; expected</b>"
                                                             : " <span class=\"no\">not expected</span>",
                          fp);
                fputs("</div>", fp);
            }
            if (ch->total > ch->n)
                fprintf(fp, "<div class=\"arrow\">+%d more</div>", ch->total - ch->n);
            fputs("</div>", fp);
        }
        fputs("<div class=\"pins\"><b>pins expected</b>", fp);
        if (sv->has_policy_pins) {
            for (int i = 0; i < sv->policy_pins.n; i++) {
                fputs("<br><span class=\"mono\">", fp);
                h(fp, sv->policy_pins.v[i].s);
                fputs(sv->policy_pins.v[i].n ? "</span> (backup)" : "</span>", fp);
            }
        } else {
            fputs("<br>", fp);
            h(fp, sv->expected_pins ? sv->expected_pins : "none in the policy");
        }
        fputs("<br><b>leaf pins seen</b>", fp);
        for (int i = 0; i < sv->spki.n; i++) {
            fputs("<br><span class=\"mono\">", fp);
            h(fp, sv->spki.v[i].s);
            fprintf(fp, "</span> (%" PRIu64 ")", sv->spki.v[i].n);
        }
        fputs("</div></div>", fp);
    }
    if (!shown)
        fputs("<p>No certificate chain was seen (TLS 1.3 without keys?).</p>", fp);
    fputs("</section>\n", fp);
}

/* A horizontal bar chart of a tally. */
static void bars(FILE *fp, const char *title, const struct stab *t, bool names)
{
    size_t n;
    uint32_t *top = summary_top(t, BAR_ROWS, &n);
    if (!top || n == 0) {
        free(top);
        return;
    }
    uint64_t max = stab_count(t, top[0])->n;
    const int lw = 440, bw = 260, rh = 20;
    fputs("<div style=\"display:inline-block;vertical-align:top;margin-right:24px\"><h3>", fp);
    h(fp, title);
    fprintf(fp, "</h3><svg role=\"img\" width=\"%d\" height=\"%zu\" viewBox=\"0 0 %d %zu\">",
            lw + bw + 60, n * rh, lw + bw + 60, n * rh);
    for (size_t i = 0; i < n; i++) {
        const struct sum_count *c = stab_count(t, top[i]);
        char label[200];
        const char *k = t->keys[top[i]];
        if (names && c->name)
            snprintf(label, sizeof(label), "%.38s (%.24s)", k, c->name);
        else
            snprintf(label, sizeof(label), "%.60s", k);
        double w = max ? (double)bw * (double)c->n / (double)max : 0;
        fprintf(fp, "<text x=\"0\" y=\"%zu\">", i * rh + 14);
        h(fp, label);
        fprintf(fp, "</text><rect x=\"%d\" y=\"%zu\" width=\"%.1f\" height=\"14\" "
                    "fill=\"#4a6fa5\"></rect><text x=\"%.1f\" y=\"%zu\">%" PRIu64 "</text>",
                lw, i * rh + 3, w < 1 ? 1 : w, lw + (w < 1 ? 1 : w) + 4, i * rh + 14, c->n);
    }
    fputs("</svg></div>", fp);
    free(top);
}

static void charts(FILE *fp, const struct summary *s)
{
    fputs("<section><h2>Versions and fingerprints</h2>", fp);
    bars(fp, "TLS versions", &s->versions, false);
    bars(fp, "Client fingerprints (JA4)", &s->ja4, true);
    bars(fp, "Server fingerprints (JA4S)", &s->ja4s, false);
    bars(fp, "Leaf issuers", &s->issuers, false);
    fputs("</section>\n", fp);
}

static void clients(FILE *fp, const struct summary *s)
{
    fputs("<section><h2>Clients</h2><table><thead><tr><th>client</th><th>conns</th>"
          "<th>intercepted</th><th>servers</th><th>JA4</th><th>applications</th></tr></thead>"
          "<tbody>", fp);
    size_t n = s->clients.n < CFG_REPORT_HTML_ROWS ? s->clients.n : CFG_REPORT_HTML_ROWS;
    for (size_t k = 0; k < n; k++) {
        const struct sum_client *c = summary_client(s, s->client_order[k]);
        fputs("<tr><td class=\"mono\">", fp);
        h(fp, c->addr);
        fprintf(fp, "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64
                    "</td><td class=\"n\">%" PRIu64 "</td><td class=\"mono\">",
                c->conns, c->intercepted, c->servers);
        for (int i = 0; i < c->ja4.n; i++) {
            if (i)
                fputs("<br>", fp);
            h(fp, c->ja4.v[i].s);
        }
        fputs("</td><td>", fp);
        for (int i = 0; i < c->apps.n; i++) {
            if (i)
                fputs("<br>", fp);
            h(fp, c->apps.v[i].s);
        }
        fputs("</td></tr>", fp);
    }
    fputs("</tbody></table>", fp);
    if (s->clients.n > n)
        fprintf(fp, "<p>%zu more clients.</p>", s->clients.n - n);
    fputs("</section>\n", fp);
}

static void evidence(FILE *fp, const struct summary *s)
{
    fputs("<section><h2>Evidence</h2>", fp);
    bool any = false;
    for (size_t k = 0; k < s->servers.n && k < EVIDENCE_SERVERS; k++) {
        const struct sum_server *sv = summary_server(s, s->server_order[k]);
        for (int a = 0; a < sv->n_alert; a++) {
            const struct sum_alert *al = &sv->alert[a];
            any = true;
            fprintf(fp, "<div class=\"ev\" id=\"ev-%zu-%d\"><b>", k, a);
            h(fp, sv->name);
            fprintf(fp, "</b>: %u ", al->sid);
            h(fp, al->signature);
            fprintf(fp, " &times;%" PRIu64 " (severity %d, confidence ", al->count, al->severity);
            h(fp, al->confidence ? al->confidence : "-");
            fputs(")<br>", fp);
            h(fp, al->reason);
            if (al->evidence) {
                fputs("<br><span class=\"mono\">", fp);
                h(fp, al->evidence);
                fputs("</span>", fp);
            }
            fputs("<br>examples:", fp);
            for (int j = 0; j < al->n_ex; j++) {
                fprintf(fp, "%s flow_id <span class=\"mono\">%" PRIu64 "</span> at ",
                        j ? ";" : "", al->ex[j].flow_id);
                h(fp, al->ex[j].ts);
                fputs(" from ", fp);
                h(fp, al->ex[j].client);
            }
            fprintf(fp, " <a href=\"#s%zu\">back</a></div>\n", k);
        }
    }
    if (!any)
        fputs("<p>No alert.</p>", fp);
    fputs("</section>\n", fp);
}

int report_html(FILE *fp, const struct summary *s, const struct render_opts *o)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
          "<meta name=\"viewport\" content=\"width=device-width\"><title>pinscope report</title>"
          "<style>", fp);
    fputs(css, fp);
    fputs("</style></head><body>\n", fp);
    heading(fp, s, o);
    verdict_table(fp, s);
    timeline(fp, s);
    matrix(fp, s);
    chains(fp, s);
    charts(fp, s);
    clients(fp, s);
    evidence(fp, s);
    fprintf(fp, "<p>%" PRIu64 " events read", s->events);
    if (s->unreadable)
        fprintf(fp, "; %" PRIu64 " %s", s->unreadable,
                s->unreadable == 1 ? "line was not a pinscope event" : "lines were not pinscope events");
    fputs(".</p></main><script>", fp);
    fputs(js, fp);
    fputs("</script></body></html>\n", fp);
    return fflush(fp) != 0 || ferror(fp) ? -1 : 0;
}
