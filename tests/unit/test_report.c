/*
 * test_report.c - the report's escaping, event reading (EVE and ECS),
 * verdict rules, joins, caps, and renderers on hostile input.
 */
#include <stdlib.h>

#include "report/render.h"
#include "report/summary.h"
#include "testhelp.h"

static void test_escape(void)
{
    char out[256];
    size_t w;
    w = esc(ESC_TERM, "www.bank.test", out, sizeof(out));
    test_streq("plain text kept", out, "www.bank.test");
    test_cond("width of plain text", w == 13);
    esc(ESC_TERM, "a\x1b[2Jb\x07", out, sizeof(out));
    test_streq("C0 controls escaped", out, "a\\x1b[2Jb\\x07");
    esc(ESC_TERM, "x\xc2\x9by", out, sizeof(out));
    test_streq("C1 CSI escaped", out, "x\\x9by");
    esc(ESC_TERM, "evil\xe2\x80\xae" "moc", out, sizeof(out));
    test_streq("RLO escaped", out, "evil\\u{202e}moc");
    esc(ESC_TERM, "\xe2\x81\xa6" "x\xe2\x80\x8b", out, sizeof(out));
    test_streq("isolate and zero-width escaped", out, "\\u{2066}x\\u{200b}");
    esc(ESC_TERM, "bad\xff\xfe", out, sizeof(out));
    test_streq("invalid bytes escaped", out, "bad\\xff\\xfe");
    esc(ESC_TERM, "\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80", out, sizeof(out));
    test_streq("overlong, surrogate, beyond U+10FFFF escaped", out,
               "\\xc0\\xaf\\xed\\xa0\\x80\\xf4\\x90\\x80\\x80");
    w = esc(ESC_TERM, "b\xc3\xa4nk.\xe6\x97\xa5\xe6\x9c\xac", out, sizeof(out));
    test_streq("UTF-8 letters kept", out, "b\xc3\xa4nk.\xe6\x97\xa5\xe6\x9c\xac");
    test_cond("width counts characters", w == 7 && esc_width(out) == 7);
    esc(ESC_HTML, "<script>\"'&", out, sizeof(out));
    test_streq("HTML specials", out, "&lt;script&gt;&quot;&#39;&amp;");
    esc(ESC_HTML, "a\x1b" "b", out, sizeof(out));
    test_streq("HTML controls", out, "a\\x1bb");
    esc(ESC_MD, "a|b_c*<d>`", out, sizeof(out));
    test_streq("markdown specials", out, "a\\|b\\_c\\*\\<d\\>\\`");
    char small[8];
    esc(ESC_TERM, "\xe6\x97\xa5\xe6\x9c\xac\xe6\x97\xa5", small, sizeof(small));
    test_streq("cut at a character boundary", small, "\xe6\x97\xa5\xe6\x9c\xac");
    esc(ESC_HTML, "&&&", small, sizeof(small));
    test_streq("an entity is never cut", small, "&amp;");
    esc(ESC_TERM, NULL, out, sizeof(out));
    test_streq("NULL is empty", out, "");
}

static void test_time(void)
{
    test_cond("EVE time", summary_parse_time("2026-11-25T21:01:56.500000+0000") == 1795640516.5);
    test_cond("ECS time", summary_parse_time("2026-11-25T21:01:56.500000Z") == 1795640516.5);
    test_cond("offset", summary_parse_time("2026-11-25T22:01:56.500000+0100") == 1795640516.5);
    test_cond("garbage", summary_parse_time("yesterday") < 0);
    test_cond("month 13", summary_parse_time("2026-13-25T21:01:56Z") < 0);
    test_cond("NULL", summary_parse_time(NULL) < 0);
}

static int add(struct summary *s, const char *l)
{
    return summary_add_line(s, l, strlen(l));
}

#define TLS(fid, ts, cli, sni, extra)                                                        \
    "{\"timestamp\":\"" ts "\",\"flow_id\":" #fid ",\"event_type\":\"tls\",\"src_ip\":\"" cli \
    "\",\"src_port\":5,\"dest_ip\":\"198.18.1.10\",\"dest_port\":443,\"tls\":{\"sni\":\"" sni   \
    "\",\"version\":\"TLS 1.3\"" extra "}}"
#define ALERT(fid, ts, cli, sni, sid, sev, fam)                                              \
    "{\"timestamp\":\"" ts "\",\"flow_id\":" #fid ",\"event_type\":\"alert\",\"src_ip\":\"" cli \
    "\",\"dest_ip\":\"198.18.1.10\",\"dest_port\":443,\"flow\":{\"start\":\"" ts "\"},"          \
    "\"tls\":{\"sni\":\"" sni "\"},\"alert\":{\"signature_id\":" #sid ",\"signature\":\"s" #sid \
    "\",\"severity\":" #sev ",\"reason\":\"because " #sid "\",\"metadata\":{"                  \
    "\"detection_family\":[\"" fam "\"]}}}"
#define CHAIN ",\"x509_chain\":[{\"sha256\":\"aa\",\"issuer\":\"CN=Real CA\"," \
              "\"not_after\":\"2027-01-01T00:00:00Z\"}],\"chain_checks\":{\"validation\":{\"code\":\"ok\"}}"

static struct sum_server *find(struct summary *s, const char *name)
{
    for (size_t i = 0; i < s->servers.n; i++)
        if (strcmp(summary_server(s, i)->name, name) == 0)
            return summary_server(s, i);
    return NULL;
}

static void test_verdicts(void)
{
    struct summary s;
    summary_init(&s);
    /* clean: a chain, no alert */
    add(&s, TLS(1, "2026-11-25T21:00:00.000000+0000", "198.18.0.1", "clean.test", CHAIN));
    /* unknown: no chain */
    add(&s, TLS(2, "2026-11-25T21:00:01.000000+0000", "198.18.0.1", "dark.test", ""));
    /* intercepted: severity-1 interception alert, the alert first */
    add(&s, ALERT(3, "2026-11-25T21:00:02.000000+0000", "198.18.0.2", "bank.test", 9100004, 1,
                  "interception"));
    add(&s, TLS(3, "2026-11-25T21:00:02.000000+0000", "198.18.0.2", "BANK.test", CHAIN));
    add(&s, TLS(4, "2026-11-25T21:00:03.000000+0000", "198.18.0.3", "bank.test", CHAIN));
    /* suspicious: severity 2 */
    add(&s, TLS(5, "2026-11-25T21:00:04.000000+0000", "198.18.0.3", "odd.test", CHAIN));
    add(&s, ALERT(5, "2026-11-25T21:00:04.000000+0000", "198.18.0.3", "odd.test", 9100008, 2,
                  "interception"));
    /* refused: the client refused, nothing else */
    add(&s, TLS(6, "2026-11-25T21:00:05.000000+0000", "198.18.0.3", "pinned.test", CHAIN));
    add(&s, ALERT(6, "2026-11-25T21:00:05.000000+0000", "198.18.0.3", "pinned.test", 9100014, 1,
                  "client-refused"));
    /* same flow_id, another start: another connection */
    add(&s, TLS(6, "2026-11-25T21:09:05.000000+0000", "198.18.0.3", "pinned.test", CHAIN));
    test_cond("garbage is counted", add(&s, "{\"not\":\"an event\"}") < 0 &&
                                        add(&s, "[1,2") < 0 && s.unreadable == 2);
    summary_finish(&s);
    struct sum_server *v;
    test_cond("clean", (v = find(&s, "clean.test")) && v->verdict == V_CLEAN && v->valid == 1);
    test_cond("unknown", (v = find(&s, "dark.test")) && v->verdict == V_UNKNOWN);
    test_cond("intercepted, SNI case folded", (v = find(&s, "bank.test")) &&
                                                  v->verdict == V_INTERCEPTED && v->conns == 2 &&
                                                  v->intercepted == 1 && v->clients == 2);
    test_streq("intercepted: the alert's sentence", v ? v->why : NULL, "because 9100004");
    test_cond("worst client first", v && v->n_top == 2 && v->top[0].intercepted == 1);
    if (v) {
        summary_expect_pin(v, "PIN1", false);
        summary_expect_pin(v, "PIN2", true);
        summary_expect_pin(v, "PIN1", false);
        test_cond("policy pins kept once", v->has_policy_pins && v->policy_pins.n == 2 &&
                                               v->policy_pins.v[1].n == 1);
        test_cond("pin expected", summary_pin_expected(v, "PIN2") &&
                                      !summary_pin_expected(v, "PIN3") &&
                                      !summary_pin_expected(v, NULL));
    }
    test_cond("suspicious", (v = find(&s, "odd.test")) && v->verdict == V_SUSPICIOUS);
    test_cond("refused", (v = find(&s, "pinned.test")) && v->verdict == V_REFUSED &&
                             v->refused == 1 && v->conns == 2);
    test_cond("worst server first",
              summary_server(&s, s.server_order[0])->verdict == V_INTERCEPTED &&
                  summary_server(&s, s.server_order[s.servers.n - 1])->verdict == V_UNKNOWN);
    test_cond("verdict totals", s.verdicts[V_INTERCEPTED] == 1 && s.verdicts[V_CLEAN] == 1 &&
                                    s.verdicts[V_UNKNOWN] == 1 && s.verdicts[V_REFUSED] == 1 &&
                                    s.verdicts[V_SUSPICIOUS] == 1);
    test_cond("client intercepted count", summary_client(&s, s.client_order[0])->intercepted == 1);
    test_cond("connections", s.conn_events == 7 && s.alert_events == 3);

    /* every renderer on it, into a memory file */
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    struct render_opts o = { .format = REPORT_TEXT, .width = 80, .rows = 2, .title = "t" };
    test_cond("text", report_text(fp, &s, &o) == 0);
    o.format = REPORT_MARKDOWN;
    test_cond("markdown", report_text(fp, &s, &o) == 0);
    o.format = REPORT_JSON;
    test_cond("json", report_text(fp, &s, &o) == 0);
    test_cond("html", report_html(fp, &s, &o) == 0);
    fclose(fp);
    test_cond("rows capped, the rest counted", buf && strstr(buf, "3 more (--rows N"));
    test_cond("no colour unless asked", buf && !strchr(buf, '\x1b'));
    free(buf);
    summary_free(&s);
}

static void test_ecs(void)
{
    struct summary s;
    summary_init(&s);
    add(&s, "{\"@timestamp\":\"2026-11-25T21:00:00.000000Z\",\"event\":{\"dataset\":\"pinscope.tls\","
            "\"start\":\"2026-11-25T21:00:00.000000Z\"},\"source\":{\"ip\":\"198.18.0.1\"},"
            "\"destination\":{\"ip\":\"198.18.1.10\",\"port\":443},\"pinscope\":{\"flow_id\":9,"
            "\"tls\":{\"sni\":\"e.test\"}}}");
    add(&s, "{\"@timestamp\":\"2026-11-25T21:00:00.000000Z\",\"event\":{\"dataset\":\"pinscope.alert\","
            "\"start\":\"2026-11-25T21:00:00.000000Z\",\"severity\":1},\"rule\":{\"id\":\"9100001\","
            "\"name\":\"pin mismatch\",\"category\":\"policy\"},\"source\":{\"ip\":\"198.18.0.1\"},"
            "\"destination\":{\"ip\":\"198.18.1.10\",\"port\":443},\"pinscope\":{\"flow_id\":9,"
            "\"tls\":{\"sni\":\"e.test\"},\"alert\":{\"evidence\":{\"expected_pins\":\"2 pins\"}}}}");
    add(&s, "{\"@timestamp\":\"x\",\"event\":{\"dataset\":\"other.thing\"}}");
    summary_finish(&s);
    struct sum_server *v = find(&s, "e.test");
    test_cond("ECS: connection and alert joined", v && v->verdict == V_INTERCEPTED &&
                                                      v->n_alert == 1 && v->alert[0].sid == 9100001);
    test_streq("ECS: expected pins", v ? v->expected_pins : NULL, "2 pins");
    test_cond("ECS: foreign dataset not an event", s.unreadable == 1);
    summary_free(&s);
}

static void test_no_sni(void)
{
    struct summary s;
    summary_init(&s);
    add(&s, "{\"timestamp\":\"2026-11-25T21:00:00.000000+0000\",\"flow_id\":1,\"event_type\":\"tls\","
            "\"src_ip\":\"2001:db8::1\",\"dest_ip\":\"2001:db8::2\",\"dest_port\":8443,\"tls\":{}}");
    summary_finish(&s);
    test_cond("no SNI: the address and port name the server",
              s.servers.n == 1 && strcmp(summary_server(&s, 0)->name, "[2001:db8::2]:8443") == 0 &&
                  !summary_server(&s, 0)->has_sni);
    summary_free(&s);
}

int main(void)
{
    test_escape();
    test_time();
    test_verdicts();
    test_ecs();
    test_no_sni();
    return test_report_named("test_report");
}
