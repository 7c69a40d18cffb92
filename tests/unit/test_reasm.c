/*
 * test_reasm.c - unit tests for reasm/stream.c: ordering, retransmission,
 * overlaps, holes, depth and window caps, consumption.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "reasm/stream.h"
#include "testhelp.h"

static struct memcap mc;
static struct stats st;

static struct reasm_stream *new_stream(uint32_t isn1, uint32_t depth)
{
    struct reasm_stream *s = calloc(1, reasm_stream_size());
    reasm_stream_start(s, isn1, depth);
    return s;
}

static void free_stream(struct reasm_stream *s)
{
    reasm_release(s, &mc);
    free(s);
}

static size_t peek_str(struct reasm_stream *s, char *out, size_t cap)
{
    const uint8_t *p;
    size_t n = reasm_peek(s, &p);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    return n;
}

static void test_in_order(void)
{
    char buf[64];
    struct reasm_stream *s = new_stream(1000, 65536);
    test_cond("in-order first segment grows", reasm_add(s, &mc, &st, 1000, (const uint8_t *)"hello ", 6));
    test_cond("in-order second segment grows", reasm_add(s, &mc, &st, 1006, (const uint8_t *)"world", 5));
    peek_str(s, buf, sizeof(buf));
    test_streq("in-order bytes", buf, "hello world");
    reasm_consume(s, 6);
    peek_str(s, buf, sizeof(buf));
    test_streq("after consume", buf, "world");
    test_cond("offset advanced", reasm_offset(s) == 6);
    test_cond("late data after consume grows", reasm_add(s, &mc, &st, 1011, (const uint8_t *)"!", 1));
    peek_str(s, buf, sizeof(buf));
    test_streq("after late data", buf, "world!");
    free_stream(s);
}

static void test_out_of_order(void)
{
    char buf[64];
    struct reasm_stream *s = new_stream(0xfffffffe, 65536);  /* wraps */
    test_cond("future segment does not grow prefix",
              !reasm_add(s, &mc, &st, 0xfffffffe + 6, (const uint8_t *)"CD", 2));
    test_cond("one range held", s->n_ranges == 1);
    reasm_add(s, &mc, &st, 0xfffffffe + 3, (const uint8_t *)"B", 1);
    test_cond("still a hole", peek_str(s, buf, sizeof(buf)) == 0);
    test_cond("filling the start grows", reasm_add(s, &mc, &st, 0xfffffffe, (const uint8_t *)"AAA", 3));
    peek_str(s, buf, sizeof(buf));
    test_streq("partial prefix", buf, "AAAB");
    reasm_add(s, &mc, &st, 0xfffffffe + 4, (const uint8_t *)"xx", 2);
    peek_str(s, buf, sizeof(buf));
    test_streq("all filled across wrap", buf, "AAABxxCD");
    test_cond("one range", s->n_ranges == 1);
    free_stream(s);
}

static void test_overlap(void)
{
    char buf[64];
    uint64_t before = st.anomalies[STATS_TCP_OVERLAP_CONFLICT];
    struct reasm_stream *s = new_stream(1, 65536);
    reasm_add(s, &mc, &st, 1, (const uint8_t *)"abcdef", 6);
    reasm_add(s, &mc, &st, 1, (const uint8_t *)"abcdef", 6);      /* retransmission */
    test_cond("identical retransmission is not a conflict",
              st.anomalies[STATS_TCP_OVERLAP_CONFLICT] == before);
    reasm_add(s, &mc, &st, 4, (const uint8_t *)"XYZghi", 6);      /* conflicting overlap */
    test_cond("conflicting overlap counted", st.anomalies[STATS_TCP_OVERLAP_CONFLICT] == before + 1);
    peek_str(s, buf, sizeof(buf));
    test_streq("first data wins, new tail kept", buf, "abcdefghi");
    /* Data before the stream start is trimmed. */
    reasm_add(s, &mc, &st, (uint32_t)-5, (const uint8_t *)"0123456789", 10);
    peek_str(s, buf, sizeof(buf));
    test_streq("bytes before offset 0 trimmed", buf, "abcdefghi");
    free_stream(s);
}

static void test_caps(void)
{
    char buf[64];
    struct reasm_stream *s = new_stream(0, 8);
    reasm_add(s, &mc, &st, 0, (const uint8_t *)"0123456789", 10);
    peek_str(s, buf, sizeof(buf));
    test_streq("depth cap cuts the stream", buf, "01234567");
    test_cond("depth cap counted", st.caps[STATS_REASM_DEPTH] >= 1 && s->depth_hit);
    free_stream(s);

    s = new_stream(0, 1 << 20);
    uint64_t w = st.caps[STATS_REASM_WINDOW];
    test_cond("segment beyond the window is dropped",
              !reasm_add(s, &mc, &st, REASM_WINDOW + 10, (const uint8_t *)"z", 1));
    test_cond("window cap counted", st.caps[STATS_REASM_WINDOW] == w + 1);
    /* Holes: every other byte, more ranges than allowed. */
    uint64_t h = st.caps[STATS_REASM_HOLES];
    for (uint32_t i = 0; i < 2 * (CFG_REASM_MAX_RANGES + 4); i += 2)
        reasm_add(s, &mc, &st, 10 + i, (const uint8_t *)"h", 1);
    test_cond("holes cap counted", st.caps[STATS_REASM_HOLES] > h);
    test_cond("ranges bounded", s->n_ranges <= CFG_REASM_MAX_RANGES);
    free_stream(s);

    /* Memcap: a tiny budget refuses the buffer. */
    struct memcap tiny;
    memcap_init(&tiny, 16);
    s = new_stream(0, 65536);
    uint64_t m = st.caps[STATS_MEMCAP];
    test_cond("memcap refusal", !reasm_add(s, &tiny, &st, 0, (const uint8_t *)"abc", 3));
    test_cond("memcap counted", st.caps[STATS_MEMCAP] == m + 1 && tiny.hits == 1);
    reasm_release(s, &tiny);
    free(s);
}

/* Random segmentation, order and duplication always rebuild the stream. */
static void test_shuffle(void)
{
    uint8_t data[3000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + 3);
    srand(42);
    int ok = 1;
    for (int round = 0; round < 200; round++) {
        struct reasm_stream *s = new_stream(12345, 65536);
        for (int k = 0; k < 60; k++) {
            size_t off = (size_t)rand() % sizeof(data);
            size_t len = 1 + (size_t)rand() % 200;
            if (off + len > sizeof(data))
                len = sizeof(data) - off;
            reasm_add(s, &mc, &st, 12345 + (uint32_t)off, data + off, len);
        }
        reasm_add(s, &mc, &st, 12345, data, sizeof(data));   /* fill what is left */
        const uint8_t *p;
        size_t n = reasm_peek(s, &p);
        if (n != sizeof(data) || memcmp(p, data, n) != 0)
            ok = 0;
        free_stream(s);
    }
    test_cond("200 random segmentations rebuild the stream", ok);
    test_cond("memcap balanced", mc.used == 0);
}

int main(void)
{
    memcap_init(&mc, 64u << 20);
    test_in_order();
    test_out_of_order();
    test_overlap();
    test_caps();
    test_shuffle();
    return test_report();
}
