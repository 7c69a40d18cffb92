/*
 * fuzz_tunnel.c - libFuzzer target: decode_packet() from the link layer
 * down through VLAN tags and every encapsulation (GRE, ERSPAN, VXLAN,
 * Geneve, GTP-U, MPLS, PPPoE, IP in IP) to TCP, UDP or a fragment.
 *
 * Input framing: one byte, then the packet.  The byte's low seven bits
 * pick the link type among those decode.h supports (modulo their number:
 * 0 is Ethernet); its high bit says the snap length cut the packet (the
 * wire length is then 100 bytes more).  The packet is copied to an
 * exact-size buffer so ASan catches any read past it.
 *
 * decode_packet() and decode_packet_stages() (no one-pass case for
 * Ethernet, IP and TCP) must give the same result, counts and packet.
 * What the decoder returns must hold together: a payload or a fragment
 * inside the packet, at most DECODE_MAX_TUNNEL layers each of a known
 * kind, TCP or UDP over IPv4 or IPv6; a DECODE_BAD always counted.
 */
#include <netinet/in.h>
#include <pcap/dlt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int dlts[] = {
    DLT_EN10MB, DLT_LINUX_SLL, 276 /* SLL2 */, DLT_RAW, 228 /* IPv4 */, 229 /* IPv6 */,
    DLT_NULL, DLT_LOOP, DLT_PPP, DLT_PPP_SERIAL, DLT_C_HDLC, DLT_NFLOG, DLT_IEEE802_11,
    DLT_IEEE802_11_RADIO,
};

static uint64_t counted(const struct stats *st)
{
    uint64_t n = 0;
    for (size_t i = 0; i < sizeof(st->anomalies) / sizeof(st->anomalies[0]); i++)
        n += st->anomalies[i];
    return n;
}

static bool inside(const uint8_t *p, size_t n, const uint8_t *buf, size_t len)
{
    return n == 0 || (p >= buf && p <= buf + len && n <= (size_t)(buf + len - p));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int dlt = dlts[(data[0] & 0x7f) % (sizeof(dlts) / sizeof(dlts[0]))];
    if (!decode_linktype_supported(dlt))
        abort();
    size_t len = size - 1;
    size_t wirelen = len + (data[0] & 0x80 ? 100 : 0);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return 0;
    memcpy(buf, data + 1, len);

    static struct stats st, st2;
    memset(&st, 0, sizeof(st));
    memset(&st2, 0, sizeof(st2));
    struct pkt p, p2;
    memset(&p, 0xa5, sizeof(p));
    memset(&p2, 0xa5, sizeof(p2));
    enum decode_result r = decode_packet(dlt, buf, len, wirelen, &p, &st);
    /* The one-pass case and the stages: the same answer, the same bytes
     * written (both start from the same garbage), the same counts. */
    enum decode_result r2 = decode_packet_stages(dlt, buf, len, wirelen, &p2, &st2);
    if (r != r2 || memcmp(&st, &st2, sizeof(st)) != 0 ||
        (r == DECODE_OK && memcmp(&p, &p2, sizeof(p)) != 0))
        abort();
    if (p.n_tun > DECODE_MAX_TUNNEL)
        abort();
    for (unsigned i = 0; i < p.n_tun; i++)
        if (p.tun[i].kind == TUNNEL_NONE || p.tun[i].kind > TUNNEL_GTPU ||
            strcmp(tunnel_kind_name((enum tunnel_kind)p.tun[i].kind), "none") == 0 ||
            (p.tun[i].ip_ver != 0 && p.tun[i].ip_ver != 4 && p.tun[i].ip_ver != 6))
            abort();
    switch (r) {
    case DECODE_OK:
        if (p.proto != IPPROTO_TCP && p.proto != IPPROTO_UDP)
            abort();
        if (p.ip_ver != 4 && p.ip_ver != 6)
            abort();
        if (!inside(p.payload, p.payload_len, buf, len))
            abort();   /* a payload outside the packet */
        if (p.ip_ver == 4 && (memcmp(p.src + 4, (uint8_t[12]){ 0 }, 12) != 0 ||
                              memcmp(p.dst + 4, (uint8_t[12]){ 0 }, 12) != 0))
            abort();   /* IPv4 addresses with bytes of an outer IPv6 header */
        break;
    case DECODE_FRAGMENT:
        if (p.ip_ver != 4 && p.ip_ver != 6)
            abort();
        if (!inside(p.frag.data, p.frag.len, buf, len))
            abort();
        break;
    case DECODE_BAD:
        if (counted(&st) == 0)
            abort();   /* malformed but not counted */
        break;
    case DECODE_SKIP:
        break;
    default:
        abort();
    }
    free(buf);
    return 0;
}
