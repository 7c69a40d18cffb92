/*
 * test_fmt.c - wire text into JSON: invalid UTF-8 repaired, the raw bytes
 * kept beside a named value, and nothing extra inside an array (where a
 * "_hex" key would break the line).  Regression: an invalid QUIC SNI in
 * quic.extensions[].values and in ECS related.hosts.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <arpa/inet.h>

#include "output/eve.h"
#include "output/fmt.h"
#include "testhelp.h"

static char *line(void (*fill)(struct jw *))
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    struct jw w;
    jw_begin(&w, &buf, &len, &cap, 1 << 16);
    jw_obj_open(&w, NULL);
    fill(&w);
    jw_obj_close(&w);
    if (jw_end(&w) < 0) {
        free(buf);
        return NULL;
    }
    buf[len - 1] = '\0';
    return buf;
}

static const uint8_t bad[] = { 'e', 'v', 'i', 'l', '"', 0x01, 0xff, 0xc3, 0x28, 0x00, 'x' };

static void named(struct jw *w) { fmt_wire_string(w, "sni", bad, sizeof(bad)); }

static void in_array(struct jw *w)
{
    jw_arr_open(w, "values");
    fmt_wire_string(w, NULL, bad, sizeof(bad));
    fmt_wire_string(w, NULL, (const uint8_t *)"ok", 2);
    jw_arr_close(w);
}

/* event_format_ts against gmtime_r + strftime: every day boundary of
 * 1970-2400 at a few times of day, leap days, and random instants. */
static void test_timestamps(void)
{
    int wrong = 0, n = 0;
    unsigned seed = 3;
    for (int64_t day = 0; day < 157000 && wrong < 5; day += 1) {
        uint64_t secs[3] = { (uint64_t)day * 86400, (uint64_t)day * 86400 + 86399,
                             (uint64_t)day * 86400 + (uint64_t)(rand_r(&seed) % 86400) };
        for (int k = 0; k < 3; k++) {
            uint64_t us = secs[k] * 1000000 + (uint64_t)(rand_r(&seed) % 1000000);
            char got[40], want[40];
            event_format_ts(us, got);
            time_t t = (time_t)(us / 1000000);
            struct tm tm;
            gmtime_r(&t, &tm);
            size_t m = strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S", &tm);
            snprintf(want + m, sizeof(want) - m, ".%06u+0000", (unsigned)(us % 1000000));
            n++;
            if (strcmp(got, want) != 0) {
                if (wrong++ == 0)
                    printf("  ts %llu: got %s want %s\n", (unsigned long long)us, got, want);
            }
        }
    }
    test_cond("timestamps equal strftime's from 1970 to 2399", wrong == 0 && n > 400000);
}

/* fmt_addr's IPv4 against inet_ntop: every value of each byte. */
static void test_addr4(void)
{
    struct flow f;
    memset(&f, 0, sizeof f);
    f.key.ip_ver = 4;
    int wrong = 0;
    for (int v = 0; v < 256; v++) {
        for (int at = 0; at < 4; at++) {
            uint8_t a[4] = { 198, 18, 7, 1 };
            a[at] = (uint8_t)v;
            memcpy(f.key.addr[0], a, 4);
            char got[64], want[64];
            memset(got, 'x', sizeof got);
            fmt_addr(&f, 0, got, sizeof got);
            inet_ntop(AF_INET, a, want, sizeof want);
            if (strcmp(got, want) != 0)
                wrong++;
        }
    }
    test_cond("IPv4 addresses as inet_ntop writes them", wrong == 0);
}

/* fmt_addr's IPv6 against inet_ntop: every pattern of zero words, each
 * with non-zero words of every hex width (and 0xffff before an IPv4 tail),
 * then random addresses with random zero words. */
static void test_addr6(void)
{
    static const unsigned fills[] = { 0x1, 0xf, 0x10, 0xab, 0x100, 0xabc, 0x1000, 0xffff, 0xdb8 };
    struct flow f;
    memset(&f, 0, sizeof f);
    f.key.ip_ver = 6;
    int wrong = 0, n = 0;
    uint32_t r = 12345;
    for (unsigned mask = 0; mask < 256; mask++) {
        for (size_t k = 0; k < sizeof fills / sizeof fills[0] + 2000; k++) {
            uint8_t a[16];
            for (int i = 0; i < 8; i++) {
                unsigned v;
                r = r * 1103515245u + 12345u;
                if (mask & (1u << i))
                    v = 0;
                else if (k < sizeof fills / sizeof fills[0])
                    v = fills[k];
                else if (i == 5 && (r >> 8) % 4 == 0)
                    v = 0xffff;
                else
                    v = (r >> 8) & 0xffff ? (r >> 8) & 0xffff : 1;
                a[2 * i] = (uint8_t)(v >> 8);
                a[2 * i + 1] = (uint8_t)v;
            }
            memcpy(f.key.addr[0], a, 16);
            char got[64], want[64];
            memset(got, 'x', sizeof got);
            fmt_addr(&f, 0, got, sizeof got);
            inet_ntop(AF_INET6, a, want, sizeof want);
            n++;
            if (strcmp(got, want) != 0 && wrong++ < 3)
                printf("  got %s want %s\n", got, want);
        }
    }
    test_cond("IPv6 addresses as inet_ntop writes them", wrong == 0 && n > 500000);
}

int main(void)
{
    test_addr4();
    test_addr6();
    test_timestamps();
    char *a = line(named);
    test_streq("named: repaired text and the raw bytes", a,
               "{\"sni\":\"evil\\\"\\u0001\xef\xbf\xbd\xef\xbf\xbd(\xef\xbf\xbdx\","
               "\"sni_hex\":\"6576696c2201ffc3280078\"}");
    cJSON *j = a ? cJSON_Parse(a) : NULL;
    test_cond("named: valid JSON", j != NULL);
    cJSON_Delete(j);
    free(a);

    char *b = line(in_array);
    j = b ? cJSON_Parse(b) : NULL;
    test_cond("in an array: valid JSON", j != NULL);
    test_cond("in an array: two strings, no _hex key",
              j && cJSON_GetArraySize(cJSON_GetObjectItem(j, "values")) == 2 && b && !strstr(b, "_hex"));
    cJSON_Delete(j);
    free(b);

    char out[3 * sizeof(bad) + 1];
    test_cond("fmt_utf8 reports repair", !fmt_utf8(bad, sizeof(bad), out));
    test_cond("fmt_utf8 keeps clean text", fmt_utf8((const uint8_t *)"h2", 2, out) && strcmp(out, "h2") == 0);
    return test_report();
}
