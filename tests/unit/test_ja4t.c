/*
 * test_ja4t.c - JA4T/JA4TS option walking and formatting, JA4L's state
 * machine; the values FoxIO's own tests and captures give.
 */
#include "fp/ja4t.h"
#include "testhelp.h"

static const char *fmt(uint16_t win, const uint8_t *o, size_t n)
{
    static char out[JA4T_STR_MAX];
    struct ja4t_syn s;
    ja4t_read(&s, win, 64, o, n);
    ja4t_format(&s, out);
    return out;
}

int main(void)
{
    /* Linux: MSS, SACK-permitted, timestamps, NOP, window scale 7 */
    static const uint8_t linux_syn[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0,
                                         1, 3, 3, 7 };
    test_streq("Linux SYN", fmt(64240, linux_syn, sizeof(linux_syn)), "64240_2-4-8-1-3_1460_7");
    /* macOS: every EOL byte of the padding is an option */
    static const uint8_t mac_syn[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 6, 1, 1, 8, 10, 1, 2, 3, 4, 0,
                                       0, 0, 0, 4, 2, 0, 0 };
    test_streq("macOS SYN, EOL padding", fmt(65535, mac_syn, sizeof(mac_syn)),
               "65535_2-1-3-1-1-8-4-0-0_1460_6");
    test_streq("no options", fmt(8192, NULL, 0), "8192_00_00_00");
    static const uint8_t ws0[] = { 2, 4, 0x05, 0x9c, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 0 };
    test_streq("window scale 0 is 00", fmt(5744, ws0, sizeof(ws0)), "5744_2-4-8-1-3_1436_00");
    static const uint8_t mss_only[] = { 2, 4, 0, 5 };
    test_streq("small MSS two digits", fmt(100, mss_only, sizeof(mss_only)), "100_2_05_00");
    static const uint8_t bad_len[] = { 2, 4, 0x05, 0xb4, 8, 40, 1, 2 };
    test_streq("length past the end: kinds so far", fmt(1, bad_len, sizeof(bad_len)), "1_2-8_1460_00");
    static const uint8_t zero_len[] = { 3, 0, 3, 3, 9 };
    test_streq("length 0 stops", fmt(1, zero_len, sizeof(zero_len)), "1_3_00_00");
    static const uint8_t cut[] = { 2 };
    test_streq("kind without its length", fmt(1, cut, sizeof(cut)), "1_2_00_00");

    struct tcp_handshake h = { 0 };
    char c[32], s[32];
    ja4l_packet(&h, 0xc2, true, 1000000, 64);   /* SYN with ECE+CWR */
    ja4l_packet(&h, 0x52, false, 1034510, 63);  /* SYN-ACK with ECE */
    test_cond("not complete yet", !ja4l_format(&h, c, s));
    ja4l_packet(&h, 0x18, true, 1034600, 64);   /* data first: not the ACK */
    ja4l_packet(&h, 0x10, true, 1034635, 64);
    test_cond("complete", ja4l_format(&h, c, s));
    test_streq("JA4L as FoxIO's Rust (macos_tcp_flags.pcap)", c, "62_64");
    test_streq("JA4LS", s, "17255_63");
    struct tcp_handshake g = { 0 };
    ja4l_packet(&g, 0x12, false, 5, 64);        /* SYN-ACK before any SYN */
    ja4l_packet(&g, 0x10, true, 6, 64);
    test_cond("no SYN: nothing", !ja4l_format(&g, c, s));
    char ts[JA4T_STR_MAX], ttl[4];
    test_cond("no SYN-ACK: no server stack", !ja4t_server_stack(&g, ts, ttl) &&
                                                 !ja4t_server_stack(NULL, ts, ttl));
    ja4t_read(&g.synack, 65160, 63, linux_syn, sizeof(linux_syn));
    test_cond("server stack", ja4t_server_stack(&g, ts, ttl) &&
                                  strcmp(ts, "65160_2-4-8-1-3_1460_7") == 0 && strcmp(ttl, "63") == 0);
    return test_report_named("test_ja4t");
}
