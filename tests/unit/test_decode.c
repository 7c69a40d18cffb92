/*
 * test_decode.c - unit tests for decode/: every supported link type, VLAN
 * stacks, IPv6 extension headers, fragments, clamping to the IP length,
 * and every truncation of each packet (clean result, no over-read).
 */
#include <netinet/in.h>
#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "testhelp.h"

static struct stats st;

struct buf {
    uint8_t b[512];
    size_t n;
};
static void put(struct buf *b, const void *p, size_t n) { memcpy(b->b + b->n, p, n); b->n += n; }
static void u8(struct buf *b, unsigned v) { b->b[b->n++] = (uint8_t)v; }
static void u16(struct buf *b, unsigned v) { u8(b, v >> 8); u8(b, v); }
static void u32(struct buf *b, uint32_t v) { u16(b, v >> 16); u16(b, v & 0xffff); }

static void tcp_hdr(struct buf *b, unsigned sport, unsigned dport, uint32_t seq, unsigned flags)
{
    u16(b, sport); u16(b, dport); u32(b, seq); u32(b, 0);
    u8(b, 5 << 4); u8(b, flags); u16(b, 65535); u16(b, 0); u16(b, 0);
}

static void ipv4_tcp(struct buf *b, const char *payload, unsigned frag)
{
    size_t pl = strlen(payload);
    u8(b, 0x45); u8(b, 0); u16(b, (unsigned)(20 + 20 + pl)); u16(b, 1); u16(b, frag);
    u8(b, 64); u8(b, IPPROTO_TCP); u16(b, 0);
    u8(b, 198); u8(b, 18); u8(b, 0); u8(b, 1);
    u8(b, 198); u8(b, 18); u8(b, 0); u8(b, 2);
    tcp_hdr(b, 40000, 443, 1000, TCP_ACK | TCP_PSH);
    put(b, payload, pl);
}

static void ipv6_tcp_ext(struct buf *b, const char *payload)
{
    size_t pl = strlen(payload);
    u32(b, 0x60000000); u16(b, (unsigned)(8 + 8 + 20 + pl)); u8(b, 0 /* hop-by-hop */); u8(b, 64);
    uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8 };
    a[15] = 1; put(b, a, 16);
    a[15] = 2; put(b, a, 16);
    u8(b, 60); u8(b, 0); u16(b, 0); u32(b, 0);                   /* hop-by-hop -> dest opts */
    u8(b, IPPROTO_TCP); u8(b, 0); u16(b, 0x0104); u32(b, 0);     /* dest opts (PadN) -> TCP */
    tcp_hdr(b, 40001, 443, 7, TCP_SYN);
    put(b, payload, pl);
}

/* Decode every truncation; none may crash (ASan) and a truncated packet
 * must never claim more payload than the full one. */
static void all_truncations(const char *name, int dlt, const struct buf *b, size_t full_payload)
{
    int bad = 0;
    for (size_t n = 0; n < b->n; n++) {
        uint8_t *exact = malloc(n ? n : 1);
        memcpy(exact, b->b, n);
        struct pkt p;
        enum decode_result r = decode_packet(dlt, exact, n, b->n, &p, &st);
        if (r == DECODE_OK && p.payload_len > full_payload)
            bad++;
        free(exact);
    }
    char d[96];
    snprintf(d, sizeof(d), "%s: every truncation decodes cleanly", name);
    test_cond(d, bad == 0);
}

static void test_ethernet_vlan(void)
{
    struct buf b = { .n = 0 };
    uint8_t mac[12] = { 0 };
    put(&b, mac, 12);
    u16(&b, 0x88a8); u16(&b, 100);    /* QinQ outer */
    u16(&b, 0x8100); u16(&b, 200);    /* 802.1Q inner */
    u16(&b, 0x0800);
    ipv4_tcp(&b, "hello", 0);
    for (int i = 0; i < 6; i++)
        u8(&b, 0);                      /* Ethernet padding: must not become payload */
    struct pkt p;
    test_cond("QinQ decodes", decode_packet(DLT_EN10MB, b.b, b.n, b.n, &p, &st) == DECODE_OK);
    test_cond("two VLAN ids", p.n_vlan == 2 && p.vlan[0] == 100 && p.vlan[1] == 200);
    test_cond("IPv4 TCP tuple", p.ip_ver == 4 && p.proto == IPPROTO_TCP && p.sport == 40000 &&
                                    p.dport == 443 && p.seq == 1000 && p.src[3] == 1 && p.dst[3] == 2);
    test_cond("padding not payload", p.payload_len == 5 && memcmp(p.payload, "hello", 5) == 0);
    all_truncations("ethernet+qinq", DLT_EN10MB, &b, 5);
}

static void test_ipv6_ext(void)
{
    struct buf b = { .n = 0 };
    ipv6_tcp_ext(&b, "v6data");
    struct pkt p;
    test_cond("IPv6 with extension headers", decode_packet(DLT_RAW, b.b, b.n, b.n, &p, &st) == DECODE_OK);
    test_cond("IPv6 TCP payload", p.ip_ver == 6 && p.payload_len == 6 && p.sport == 40001 &&
                                      (p.tcp_flags & TCP_SYN));
    all_truncations("raw ipv6+ext", DLT_RAW, &b, 6);
}

static void test_other_links(void)
{
    struct buf ip = { .n = 0 };
    ipv4_tcp(&ip, "abc", 0);
    struct pkt p;

    struct buf sll = { .n = 0 };
    u16(&sll, 0); u16(&sll, 1); u16(&sll, 6); put(&sll, "\0\0\0\0\0\0\0\0", 8); u16(&sll, 0x0800);
    put(&sll, ip.b, ip.n);
    test_cond("Linux SLL", decode_packet(DLT_LINUX_SLL, sll.b, sll.n, sll.n, &p, &st) == DECODE_OK &&
                               p.payload_len == 3);
    all_truncations("sll", DLT_LINUX_SLL, &sll, 3);

    struct buf sll2 = { .n = 0 };
    u16(&sll2, 0x0800); u16(&sll2, 0); u32(&sll2, 2); u16(&sll2, 1); u8(&sll2, 0); u8(&sll2, 6);
    put(&sll2, "\0\0\0\0\0\0\0\0", 8);
    put(&sll2, ip.b, ip.n);
    test_cond("Linux SLL2", decode_packet(276, sll2.b, sll2.n, sll2.n, &p, &st) == DECODE_OK &&
                                p.payload_len == 3);

    struct buf null = { .n = 0 };
    u8(&null, 2); u8(&null, 0); u8(&null, 0); u8(&null, 0);   /* AF_INET, little-endian */
    put(&null, ip.b, ip.n);
    test_cond("BSD NULL (LE)", decode_packet(DLT_NULL, null.b, null.n, null.n, &p, &st) == DECODE_OK);
    null.b[0] = 0; null.b[3] = 2;                               /* big-endian writer */
    test_cond("BSD NULL (BE)", decode_packet(DLT_NULL, null.b, null.n, null.n, &p, &st) == DECODE_OK);
    test_cond("DLT_LOOP", decode_packet(DLT_LOOP, null.b, null.n, null.n, &p, &st) == DECODE_OK);
    all_truncations("null", DLT_NULL, &null, 3);

    test_cond("LINKTYPE_IPV4", decode_packet(228, ip.b, ip.n, ip.n, &p, &st) == DECODE_OK);
    test_cond("unsupported link type skipped", decode_packet(147, ip.b, ip.n, ip.n, &p, &st) == DECODE_SKIP);
    test_cond("supported list", decode_linktype_supported(DLT_EN10MB) && decode_linktype_supported(276) &&
                                    !decode_linktype_supported(147));
}

static void test_fragments_and_bad(void)
{
    struct buf b = { .n = 0 };
    ipv4_tcp(&b, "frag", 0x0010);   /* offset 16*8: not the first fragment */
    struct pkt p;
    uint64_t f = st.anomalies[STATS_IP_FRAGMENT];
    test_cond("non-first fragment handed to reassembly", decode_packet(DLT_RAW, b.b, b.n, b.n, &p, &st) == DECODE_FRAGMENT &&
                                                         p.frag.offset > 0);
    test_cond("fragment counted", st.anomalies[STATS_IP_FRAGMENT] == f + 1);

    struct buf c = { .n = 0 };
    ipv4_tcp(&c, "x", 0);
    c.b[0] = 0x43;   /* IHL 3: below the minimum */
    test_cond("bad IHL rejected", decode_packet(DLT_RAW, c.b, c.n, c.n, &p, &st) == DECODE_BAD);
    struct buf d = { .n = 0 };
    ipv4_tcp(&d, "x", 0);
    d.b[20 + 12] = 0x20;   /* TCP data offset 8 bytes */
    uint64_t t = st.anomalies[STATS_TCP_BAD_HEADER];
    test_cond("bad TCP offset rejected", decode_packet(DLT_RAW, d.b, d.n, d.n, &p, &st) == DECODE_BAD &&
                                             st.anomalies[STATS_TCP_BAD_HEADER] == t + 1);
    /* Random bytes on every link type. */
    srand(7);
    int dlts[] = { DLT_EN10MB, DLT_LINUX_SLL, 276, DLT_RAW, DLT_NULL, DLT_LOOP, 228, 229 };
    for (int k = 0; k < 20000; k++) {
        uint8_t r[96];
        size_t n = (size_t)rand() % sizeof(r);
        for (size_t i = 0; i < n; i++)
            r[i] = (uint8_t)rand();
        if (n > 0 && k % 2)
            r[0] = 0x45;
        uint8_t *exact = malloc(n ? n : 1);
        memcpy(exact, r, n);
        decode_packet(dlts[k % 8], exact, n, n, &p, &st);
        free(exact);
    }
    test_cond("random packets: malformed ones counted", st.anomalies[STATS_IP_TRUNCATED] > 0 &&
                                                           st.anomalies[STATS_LINK_TRUNCATED] > 0);
}

/* Every frame of tests/golden/tunnels.pcap (craft_pcaps.py): decoded
 * through its encapsulation, every truncation clean, random byte flips
 * harmless. */
static void test_tunnels(void)
{
    FILE *f = fopen("tests/golden/tunnels.pcap", "rb");
    test_cond("tunnels.pcap readable", f != NULL);
    if (!f)
        return;
    uint8_t gh[24], rh[16];
    static uint8_t frames[96][1600];
    size_t lens[96], n = 0;
    if (fread(gh, 1, 24, f) != 24)
        n = 0;
    while (n < 96 && fread(rh, 1, 16, f) == 16) {
        size_t len = (size_t)rh[8] | (size_t)rh[9] << 8 | (size_t)rh[10] << 16;
        if (len > sizeof(frames[0]) || fread(frames[n], 1, len, f) != len)
            break;
        lens[n++] = len;
    }
    fclose(f);
    test_cond("tunnels.pcap: 84 frames", n == 84);
    if (n != 84)
        return;

    struct pkt p;
    int ok = 0;
    uint32_t zone100 = 0, zone200 = 0;
    for (size_t i = 0; i + 2 < n; i++) {
        if (decode_packet(DLT_EN10MB, frames[i], lens[i], lens[i], &p, &st) != DECODE_OK ||
            p.n_tun == 0 || p.proto != IPPROTO_TCP || (p.dport != 443 && p.sport != 443))
            continue;
        ok++;
        if (i == 0)
            zone100 = p.zone;
        if (i == 7)
            zone200 = p.zone;
    }
    test_cond("tunnels: every connection's frame decodes to its inner TCP", ok == 82);
    decode_packet(DLT_EN10MB, frames[0], lens[0], lens[0], &p, &st);
    test_cond("vxlan: one layer, VNI 100, outer ports kept",
              p.n_tun == 1 && p.tun[0].kind == TUNNEL_VXLAN && p.tun[0].id == 100 &&
              p.tun[0].dport == 4789 && p.tun[0].ip_ver == 4 && p.src[0] == 10 && p.sport == 41000);
    test_cond("vxlan: two VNIs, two zones", zone100 != 0 && zone200 != 0 && zone100 != zone200);
    /* GTP-U: frames 63.. carry their own TEID per direction, zone 0 */
    int gtp = 0;
    for (size_t i = 0; i < n; i++)
        if (decode_packet(DLT_EN10MB, frames[i], lens[i], lens[i], &p, &st) == DECODE_OK &&
            p.n_tun == 1 && p.tun[0].kind == TUNNEL_GTPU)
            gtp += p.zone == 0 && (p.tun[0].id == 0xabc || p.tun[0].id == 0xdef);
    test_cond("gtp-u: TEIDs per direction, no zone", gtp == 7);
    unsigned long deep = st.anomalies[STATS_TUNNEL_TOO_DEEP];
    test_cond("not-VXLAN on 4789 stays UDP",
              decode_packet(DLT_EN10MB, frames[n - 2], lens[n - 2], lens[n - 2], &p, &st) ==
                  DECODE_OK && p.n_tun == 0 && p.proto == IPPROTO_UDP && p.dport == 4789);
    test_cond("five layers: one too many, counted",
              decode_packet(DLT_EN10MB, frames[n - 1], lens[n - 1], lens[n - 1], &p, &st) ==
                  DECODE_SKIP && st.anomalies[STATS_TUNNEL_TOO_DEEP] == deep + 1);

    for (size_t i = 0; i < n; i++) {
        struct buf b;
        memcpy(b.b, frames[i], lens[i] < sizeof(b.b) ? lens[i] : sizeof(b.b));
        b.n = lens[i] < sizeof(b.b) ? lens[i] : sizeof(b.b);
        if (i % 7 == 0) {
            char d[32];
            snprintf(d, sizeof(d), "tunnel frame %zu", i);
            all_truncations(d, DLT_EN10MB, &b, lens[i]);
        }
    }
    srand(11);
    int outcome[3] = { 0, 0, 0 };
    for (int k = 0; k < 50000; k++) {
        size_t i = (size_t)rand() % n, len = lens[i];
        uint8_t *m = malloc(len);   /* exact size: ASan sees any over-read */
        memcpy(m, frames[i], len);
        for (int j = 0; j < 1 + k % 4; j++)
            m[(size_t)rand() % len] = (uint8_t)rand();
        enum decode_result r = decode_packet(DLT_EN10MB, m, len, len, &p, &st);
        outcome[r == DECODE_OK ? 0 : r == DECODE_SKIP ? 1 : 2]++;
        if (r == DECODE_OK && (p.payload < m || p.payload + p.payload_len > m + len))
            outcome[0] = -1000000;
        free(m);
    }
    test_cond("tunnels: mutated frames decode, skip or fail, payload always inside the frame",
              outcome[0] > 0 && outcome[1] > 0 && outcome[2] > 0);
    test_cond("tunnels: malformed insides counted", st.anomalies[STATS_TUNNEL_MALFORMED] > 0);

    /* The PPPoE length (frame 49: Ethernet, then PPPoE at 14, its length at
     * 18) and the GTP-U length (frame 63: Ethernet, IPv4, UDP, GTP-U at 42,
     * its length at 44) bound what they carry. */
    static const struct { size_t frame, at; const char *name; } lens_of[] = {
        { 49, 18, "pppoe" }, { 68, 44, "gtp-u" },
    };
    for (size_t k = 0; k < 2; k++) {
        size_t i = lens_of[k].frame, at = lens_of[k].at, len = lens[i];
        uint8_t *m = malloc(len + 4);
        char d[96];
        memcpy(m, frames[i], len);
        unsigned v = (unsigned)m[at] << 8 | m[at + 1];
        m[at] = (uint8_t)((v + 1) >> 8);
        m[at + 1] = (uint8_t)(v + 1);
        unsigned long bad = st.anomalies[STATS_TUNNEL_MALFORMED];
        snprintf(d, sizeof(d), "%s: a length past the frame is malformed, counted", lens_of[k].name);
        test_cond(d, decode_packet(DLT_EN10MB, m, len, len, &p, &st) == DECODE_BAD &&
                         st.anomalies[STATS_TUNNEL_MALFORMED] == bad + 1);
        snprintf(d, sizeof(d), "%s: ... unless the snap length cut the frame", lens_of[k].name);
        test_cond(d, decode_packet(DLT_EN10MB, m, len, len + 1, &p, &st) == DECODE_OK &&
                         p.n_tun >= 1);
        m[at] = (uint8_t)(v >> 8);
        m[at + 1] = (uint8_t)v;
        memset(m + len, 0xee, 4);   /* padding after what the header counts */
        snprintf(d, sizeof(d), "%s: bytes past its length are padding", lens_of[k].name);
        test_cond(d, decode_packet(DLT_EN10MB, m, len + 4, len + 4, &p, &st) == DECODE_OK &&
                         p.payload + p.payload_len <= m + len);
        free(m);
    }
}

/* The link types of tests/golden/linktype_*.pcap (craft_pcaps.py): every
 * frame of the TLS connection decodes to its TCP segment, every truncation
 * cleanly. */
static void test_linktypes(void)
{
    static const char *const names[] = { "ppp", "ppp_hdlc", "chdlc", "nflog", "80211",
                                         "radiotap" };
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        char path[128], d[96];
        snprintf(path, sizeof(path), "tests/golden/linktype_%s.pcap", names[k]);
        FILE *f = fopen(path, "rb");
        uint8_t gh[24], rh[16];
        int frames = 0, tcp = 0;
        if (f && fread(gh, 1, 24, f) == 24) {
            int dlt = gh[20] | gh[21] << 8;
            test_cond(names[k], decode_linktype_supported(dlt));
            while (fread(rh, 1, 16, f) == 16) {
                struct buf b;
                size_t len = (size_t)rh[8] | (size_t)rh[9] << 8;
                if (len > sizeof(b.b) || fread(b.b, 1, len, f) != len)
                    break;
                b.n = len;
                frames++;
                struct pkt p;
                if (decode_packet(dlt, b.b, b.n, b.n, &p, &st) == DECODE_OK &&
                    p.proto == IPPROTO_TCP && p.ip_ver == 4 && p.src[0] == 198 &&
                    (p.sport == 443 || p.dport == 443))
                    tcp++;
                snprintf(d, sizeof(d), "%s frame %d", names[k], frames);
                all_truncations(d, dlt, &b, len);
            }
        }
        if (f)
            fclose(f);
        snprintf(d, sizeof(d), "%s: 7 frames, each a TCP segment of the connection", names[k]);
        test_cond(d, frames == 7 && tcp == 7);
    }
}

int main(void)
{
    test_tunnels();
    test_linktypes();
    test_ethernet_vlan();
    test_ipv6_ext();
    test_other_links();
    test_fragments_and_bad();
    return test_report();
}
