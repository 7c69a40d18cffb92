/*
 * test_jw.c - the streaming JSON writer: escaping, nesting, caps, and
 * byte-for-byte agreement with cJSON's unformatted printer.
 */
#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <math.h>
#include <stdlib.h>

#include "output/jw.h"
#include "testhelp.h"

struct out {
    char *buf;
    size_t len, cap;
};

static void out_free(struct out *o)
{
    free(o->buf);
    memset(o, 0, sizeof(*o));
}

/* The line written (without its '\n'), NUL-terminated in a static copy. */
static const char *line(const struct out *o)
{
    static char copy[1 << 16];
    size_t n = o->len && o->buf[o->len - 1] == '\n' ? o->len - 1 : o->len;
    if (n >= sizeof(copy))
        n = sizeof(copy) - 1;
    memcpy(copy, o->buf, n);
    copy[n] = '\0';
    return copy;
}

static void test_shapes(void)
{
    struct out o = { 0 };
    struct jw w;
    jw_begin(&w, &o.buf, &o.len, &o.cap, 1 << 20);
    jw_obj_open(&w, NULL);
    jw_str(&w, "a", "x");
    jw_arr_open(&w, "b");
    jw_uint(&w, NULL, 1);
    jw_int(&w, NULL, -2);
    jw_bool(&w, NULL, true);
    jw_obj_open(&w, NULL);
    jw_obj_close(&w);
    jw_arr_open(&w, NULL);
    jw_arr_close(&w);
    jw_arr_close(&w);
    jw_uint(&w, "max", UINT64_MAX);
    jw_int(&w, "min", INT64_MIN);
    jw_hex(&w, "h", (const uint8_t *)"\x00\xff\x1a", 3);
    jw_base64(&w, "b64", (const uint8_t *)"ab", 2);
    jw_base64(&w, "empty", (const uint8_t *)"", 0);
    jw_obj_close(&w);
    test_cond("line ends", jw_end(&w) == 0);
    test_streq("shapes", line(&o),
               "{\"a\":\"x\",\"b\":[1,-2,true,{},[]],\"max\":18446744073709551615,"
               "\"min\":-9223372036854775808,\"h\":\"00ff1a\",\"b64\":\"YWI=\",\"empty\":\"\"}");
    test_cond("newline", o.len > 0 && o.buf[o.len - 1] == '\n');

    /* A second line appends after the first. */
    size_t first = o.len;
    jw_begin(&w, &o.buf, &o.len, &o.cap, 1 << 20);
    jw_obj_open(&w, NULL);
    jw_obj_close(&w);
    test_cond("second line", jw_end(&w) == 0 && o.len == first + 3 &&
                             memcmp(o.buf + first, "{}\n", 3) == 0);
    out_free(&o);
}

static void test_escapes(void)
{
    struct out o = { 0 };
    struct jw w;
    jw_begin(&w, &o.buf, &o.len, &o.cap, 1 << 20);
    jw_obj_open(&w, NULL);
    jw_str(&w, "k\"ey", "q\" b\\ \b\f\n\r\t \x01\x1f \x7f \xc3\xa9");
    jw_strn(&w, "cut", "abcdef", 3);
    jw_obj_close(&w);
    test_cond("escaped line ends", jw_end(&w) == 0);
    test_streq("escapes", line(&o),
               "{\"k\\\"ey\":\"q\\\" b\\\\ \\b\\f\\n\\r\\t \\u0001\\u001f \x7f \xc3\xa9\","
               "\"cut\":\"abc\"}");
    out_free(&o);
}

/* Every length up to 40 with one byte of each kind at every position, as
 * key and as value: the writer's fast and slow paths against cJSON. */
static void test_escape_positions(void)
{
    static const unsigned char kinds[] = { 'a', '"', '\\', '\n', 0x01, 0x1f, 0x7f, 0x20, 0xc3 };
    int wrong = 0, n = 0;
    for (size_t len = 0; len <= 40; len++) {
        for (size_t pos = 0; pos < (len ? len : 1); pos++) {
            for (size_t k = 0; k < sizeof kinds; k++) {
                char s[48];
                for (size_t i = 0; i < len; i++)
                    s[i] = (char)('b' + i % 20);
                if (len)
                    s[pos] = (char)kinds[k];
                if (kinds[k] == 0xc3 && len && pos + 1 < len)
                    s[pos + 1] = (char)0xa9;   /* a whole UTF-8 character */
                else if (kinds[k] == 0xc3)
                    continue;
                s[len] = '\0';
                cJSON *root = cJSON_CreateObject();
                cJSON_AddItemToObject(root, s, cJSON_CreateString(s));
                char *c = cJSON_PrintUnformatted(root);
                struct out o = { 0 };
                struct jw w;
                jw_begin(&w, &o.buf, &o.len, &o.cap, 1 << 20);
                jw_obj_open(&w, NULL);
                jw_str(&w, s, s);
                jw_obj_close(&w);
                n++;
                if (jw_end(&w) != 0 || !c || strcmp(line(&o), c) != 0) {
                    if (wrong++ < 3)
                        fprintf(stderr, "jw:    %s\ncJSON: %s\n", line(&o), c ? c : "(null)");
                }
                cJSON_free(c);
                cJSON_Delete(root);
                out_free(&o);
            }
        }
    }
    test_cond("escapes at every position of every length up to 40", wrong == 0 && n > 5000);
}

static void test_caps(void)
{
    struct out o = { 0 };
    struct jw w;

    /* A line that does not fit is taken back out; the earlier one stays. */
    jw_begin(&w, &o.buf, &o.len, &o.cap, 64);
    jw_obj_open(&w, NULL);
    jw_str(&w, "a", "b");
    jw_obj_close(&w);
    test_cond("small line fits", jw_end(&w) == 0 && o.len == 10);
    jw_begin(&w, &o.buf, &o.len, &o.cap, 64);
    jw_obj_open(&w, NULL);
    jw_str(&w, "long", "0123456789012345678901234567890123456789012345678901234567890123");
    jw_uint(&w, "after", 1);   /* ignored once failed */
    jw_obj_close(&w);
    test_cond("too long: -1", jw_end(&w) == -1);
    test_cond("too long: rolled back", o.len == 10 && memcmp(o.buf, "{\"a\":\"b\"}\n", 10) == 0);

    /* Nesting past the cap fails the line. */
    jw_begin(&w, &o.buf, &o.len, &o.cap, 1 << 20);
    jw_obj_open(&w, NULL);
    for (int i = 0; i < JW_MAX_DEPTH + 2; i++)
        jw_arr_open(&w, i == 0 ? "deep" : NULL);
    for (int i = 0; i < JW_MAX_DEPTH + 2; i++)
        jw_arr_close(&w);
    jw_obj_close(&w);
    test_cond("too deep: -1", jw_end(&w) == -1 && o.len == 10);

    /* Unbalanced: a close too many, or one missing. */
    jw_begin(&w, &o.buf, &o.len, &o.cap, 1 << 20);
    jw_obj_open(&w, NULL);
    jw_obj_close(&w);
    jw_obj_close(&w);
    test_cond("extra close: -1", jw_end(&w) == -1 && o.len == 10);
    jw_begin(&w, &o.buf, &o.len, &o.cap, 1 << 20);
    jw_obj_open(&w, NULL);
    jw_obj_open(&w, "x");
    jw_obj_close(&w);
    test_cond("missing close: -1", jw_end(&w) == -1 && o.len == 10);
    out_free(&o);
}

/* Random objects printed by cJSON and by the writer must be the same bytes. */
static void random_string(char *s, size_t cap, unsigned *seed)
{
    static const char pool[] = "ab\"\\/\b\f\n\r\t\x01\x1f\x7f \xc3\xa9z";
    size_t n = (size_t)(rand_r(seed) % (int)(cap - 1));
    size_t o = 0;
    for (size_t i = 0; i < n && o + 2 < cap; i++) {
        char c = pool[rand_r(seed) % (int)(sizeof(pool) - 1)];
        if (c == '\xc3') {          /* keep the UTF-8 pair whole */
            s[o++] = '\xc3';
            s[o++] = '\xa9';
        } else if (c != '\xa9') {
            s[o++] = c;
        }
    }
    s[o] = '\0';
}

static void build_both(cJSON *parent, struct jw *w, int depth, unsigned *seed)
{
    int n = rand_r(seed) % 6;
    bool arr = cJSON_IsArray(parent);
    for (int i = 0; i < n; i++) {
        char key[16], str[24];
        snprintf(key, sizeof(key), "k%d", i);
        const char *k = arr ? NULL : key;
        int kind = rand_r(seed) % (depth < 4 ? 6 : 4);
        cJSON *item = NULL;
        switch (kind) {
        case 0:
            random_string(str, sizeof(str), seed);
            item = cJSON_CreateString(str);
            jw_str(w, k, str);
            break;
        case 1: {
            double d = (rand_r(seed) % 2) ? (double)(rand_r(seed) % 100000)
                                          : rand_r(seed) / 7.0 - 1000.0;
            item = cJSON_CreateNumber(d);
            jw_double(w, k, d);
            break;
        }
        case 2: {
            bool b = rand_r(seed) % 2;
            item = cJSON_CreateBool(b);
            jw_bool(w, k, b);
            break;
        }
        case 3: {
            char raw[24];
            uint64_t v = (uint64_t)rand_r(seed) * (uint64_t)rand_r(seed);
            snprintf(raw, sizeof(raw), "%llu", (unsigned long long)v);
            item = cJSON_CreateRaw(raw);
            jw_uint(w, k, v);
            break;
        }
        case 4:
            item = cJSON_CreateObject();
            jw_obj_open(w, k);
            build_both(item, w, depth + 1, seed);
            jw_obj_close(w);
            break;
        default:
            item = cJSON_CreateArray();
            jw_arr_open(w, k);
            build_both(item, w, depth + 1, seed);
            jw_arr_close(w);
            break;
        }
        if (arr)
            cJSON_AddItemToArray(parent, item);
        else
            cJSON_AddItemToObject(parent, key, item);
    }
}

static void test_vs_cjson(void)
{
    unsigned seed = 12345;
    int same = 0, runs = 2000;
    for (int r = 0; r < runs; r++) {
        struct out o = { 0 };
        struct jw w;
        jw_begin(&w, &o.buf, &o.len, &o.cap, 1 << 20);
        cJSON *root = cJSON_CreateObject();
        jw_obj_open(&w, NULL);
        build_both(root, &w, 0, &seed);
        jw_obj_close(&w);
        int rc = jw_end(&w);
        char *c = cJSON_PrintUnformatted(root);
        if (rc == 0 && c && strcmp(line(&o), c) == 0)
            same++;
        else if (same == r)   /* show the first difference */
            fprintf(stderr, "jw:    %s\ncJSON: %s\n", line(&o), c ? c : "(null)");
        free(c);
        cJSON_Delete(root);
        out_free(&o);
    }
    test_cond("2000 random objects: same bytes as cJSON", same == runs);

    struct out o = { 0 };
    struct jw w;
    jw_begin(&w, &o.buf, &o.len, &o.cap, 1 << 20);
    jw_arr_open(&w, NULL);
    jw_double(&w, NULL, NAN);
    jw_double(&w, NULL, INFINITY);
    jw_double(&w, NULL, 0.1);
    jw_double(&w, NULL, 1.0 / 3.0);
    jw_arr_close(&w);
    test_cond("doubles line", jw_end(&w) == 0);
    test_streq("doubles", line(&o), "[null,null,0.1,0.33333333333333331]");
    out_free(&o);
}

/* The escaping of every byte value, in strings long enough for the
 * word-at-a-time scan, against a byte-at-a-time reference. */
static size_t ref_escape(const unsigned char *s, size_t n, char *o)
{
    size_t k = 0;
    o[k++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        switch (c) {
        case '"': k += (size_t)sprintf(o + k, "\\\""); break;
        case '\\': k += (size_t)sprintf(o + k, "\\\\"); break;
        case '\b': k += (size_t)sprintf(o + k, "\\b"); break;
        case '\f': k += (size_t)sprintf(o + k, "\\f"); break;
        case '\n': k += (size_t)sprintf(o + k, "\\n"); break;
        case '\r': k += (size_t)sprintf(o + k, "\\r"); break;
        case '\t': k += (size_t)sprintf(o + k, "\\t"); break;
        default:
            if (c < 0x20)
                k += (size_t)sprintf(o + k, "\\u%04x", c);
            else
                o[k++] = (char)c;
        }
    }
    o[k++] = '"';
    return k;
}

static void test_escape_words(void)
{
    unsigned seed = 7;
    int bad = 0;
    for (int round = 0; round < 2000; round++) {
        unsigned char s[200];
        char want[200 * 6 + 2];
        size_t n = (size_t)(rand_r(&seed) % 200);
        /* mostly plain text with a special byte here and there, at every
         * position of an 8-byte word */
        for (size_t i = 0; i < n; i++)
            s[i] = (unsigned char)(rand_r(&seed) % 8 ? 0x20 + rand_r(&seed) % 0xdf
                                                      : rand_r(&seed) % 256);
        struct out o = { 0 };
        struct jw w;
        jw_begin(&w, &o.buf, &o.len, &o.cap, 1 << 20);
        jw_strn(&w, NULL, (const char *)s, n);
        size_t k = ref_escape(s, n, want);
        if (o.len != k || memcmp(o.buf, want, k) != 0)
            bad++;
        out_free(&o);
    }
    test_cond("escapes of random bytes match the reference", bad == 0);
    /* every byte value alone, at each offset of a 16-byte run */
    bad = 0;
    for (int c = 0; c < 256; c++) {
        for (size_t at = 0; at < 16; at++) {
            unsigned char s[16];
            char want[16 * 6 + 2];
            memset(s, 'a', sizeof(s));
            s[at] = (unsigned char)c;
            struct out o = { 0 };
            struct jw w;
            jw_begin(&w, &o.buf, &o.len, &o.cap, 1 << 20);
            jw_strn(&w, NULL, (const char *)s, sizeof(s));
            size_t k = ref_escape(s, sizeof(s), want);
            if (o.len != k || memcmp(o.buf, want, k) != 0)
                bad++;
            out_free(&o);
        }
    }
    test_cond("each byte value at each word offset", bad == 0);
}

/* base64 against OpenSSL's EVP_EncodeBlock for every length to 300. */
static void test_base64(void)
{
    int bad = 0;
    unsigned char in[300];
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (unsigned char)(i * 37 + 11);
    for (size_t n = 0; n <= sizeof(in); n++) {
        char want[2 + 4 * 101 + 1];
        want[0] = '"';
        int k = EVP_EncodeBlock((unsigned char *)want + 1, in, (int)n);
        want[1 + k] = '"';
        struct out o = { 0 };
        struct jw w;
        jw_begin(&w, &o.buf, &o.len, &o.cap, 1 << 20);
        jw_base64(&w, NULL, in, n);
        if (o.len != (size_t)k + 2 || memcmp(o.buf, want, o.len) != 0)
            bad++;
        out_free(&o);
    }
    test_cond("base64 equals EVP_EncodeBlock for lengths 0..300", bad == 0);
}

/* Pre-written JSON: a value after a key or in an array, members. */
static void test_raw(void)
{
    struct out o = { 0 };
    struct jw w;
    jw_begin(&w, &o.buf, &o.len, &o.cap, 1 << 20);
    jw_obj_open(&w, NULL);
    jw_members(&w, "\"a\":1,\"b\":2", 11);   /* first members: no comma */
    jw_raw(&w, "c", "{\"x\":[]}", 8);
    jw_arr_open(&w, "d");
    jw_raw(&w, NULL, "\"s\"", 3);
    jw_raw(&w, NULL, "{}", 2);
    jw_arr_close(&w);
    jw_members(&w, "", 0);                   /* nothing, no comma */
    jw_members(&w, "\"e\":true", 8);
    jw_obj_close(&w);
    test_cond("raw line ends", jw_end(&w) == 0);
    test_streq("raw", line(&o),
               "{\"a\":1,\"b\":2,\"c\":{\"x\":[]},\"d\":[\"s\",{}],\"e\":true}");
    out_free(&o);
    /* over the cap: rolled back */
    jw_begin(&w, &o.buf, &o.len, &o.cap, 16);
    jw_obj_open(&w, NULL);
    jw_raw(&w, "k", "\"0123456789abcdef\"", 18);
    jw_obj_close(&w);
    test_cond("raw over the cap: -1", jw_end(&w) == -1 && o.len == 0);
    out_free(&o);
}

/* Unescaped strings: for text with nothing to escape, the same bytes as
 * the escaping writer and as cJSON, under a key and in an array, at every
 * length up to 300; the cap still holds. */
static void test_plain(void)
{
    static const char set[] = "0123456789abcdefABCDEF,_-+/=.: tlsq";
    unsigned seed = 7;
    int bad = 0;
    for (size_t len = 0; len <= 300; len++) {
        char s[301];
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            s[i] = set[(seed >> 16) % (sizeof(set) - 1)];
        }
        s[len] = '\0';
        struct out a = { 0 }, b = { 0 };
        struct jw wa, wb;
        jw_begin(&wa, &a.buf, &a.len, &a.cap, 1 << 20);
        jw_begin(&wb, &b.buf, &b.len, &b.cap, 1 << 20);
        jw_obj_open(&wa, NULL);
        jw_obj_open(&wb, NULL);
        jw_plain(&wa, "k", s, len);
        jw_strn(&wb, "k", s, len);
        jw_arr_open(&wa, "a");
        jw_arr_open(&wb, "a");
        jw_plain(&wa, NULL, s, len);
        jw_plain(&wa, NULL, s, len);
        jw_strn(&wb, NULL, s, len);
        jw_strn(&wb, NULL, s, len);
        jw_arr_close(&wa);
        jw_arr_close(&wb);
        jw_obj_close(&wa);
        jw_obj_close(&wb);
        cJSON *root = cJSON_CreateObject(), *arr = cJSON_CreateArray();
        cJSON_AddItemToObject(root, "k", cJSON_CreateString(s));
        cJSON_AddItemToArray(arr, cJSON_CreateString(s));
        cJSON_AddItemToArray(arr, cJSON_CreateString(s));
        cJSON_AddItemToObject(root, "a", arr);
        char *c = cJSON_PrintUnformatted(root);
        if (jw_end(&wa) != 0 || jw_end(&wb) != 0 || a.len != b.len ||
            memcmp(a.buf, b.buf, a.len) != 0 || !c || strcmp(line(&a), c) != 0) {
            if (bad++ < 3)
                fprintf(stderr, "plain: %s\ncJSON: %s\n", line(&a), c ? c : "(null)");
        }
        cJSON_free(c);
        cJSON_Delete(root);
        out_free(&a);
        out_free(&b);
    }
    test_cond("plain strings: same bytes as jw_strn and cJSON, lengths 0..300", bad == 0);

    struct out o = { 0 };
    struct jw w;
    jw_begin(&w, &o.buf, &o.len, &o.cap, 16);
    jw_obj_open(&w, NULL);
    jw_plain(&w, "k", "0123456789abcdef", 16);
    jw_obj_close(&w);
    test_cond("plain over the cap: -1", jw_end(&w) == -1 && o.len == 0);
    out_free(&o);
}

int main(void)
{
    test_shapes();
    test_escapes();
    test_escape_positions();
    test_caps();
    test_vs_cjson();
    test_escape_words();
    test_base64();
    test_raw();
    test_plain();
    return test_report();
}
