/*
 * decode.c - one packet from its link layer to TCP or UDP (see decode.h).
 *
 * The stages (link.c, ip.c, tunnel.c) each read one header and say what
 * comes next (decode_int.h); this loop runs them until one finishes the
 * packet.  A UDP datagram is offered to tunnel.c before it is final, so a
 * VXLAN, Geneve or GTP-U payload goes round again.  Depth is bounded by
 * tunnel.c (DECODE_MAX_TUNNEL layers): every round past the first IP
 * header records one.  Before the stages, fast_ether_tcp() takes the
 * packet nearly every capture is made of (Ethernet, IPv4 or IPv6, TCP) in
 * one pass and hands anything else to them.
 */
#include "decode/decode_int.h"

#include <netinet/in.h>
#include <pcap/dlt.h>
#include <stddef.h>
#include <string.h>

#include "util/rd.h"

static enum decode_result run(struct pkt *p, struct next *nx, struct stats *st)
{
    for (;;) {
        enum decode_result r;
        switch (nx->layer) {
        case LAYER_ETHER:
            r = ether_decode(p, nx->d, nx->n, nx, st);
            break;
        case LAYER_IP:
            r = ip_decode(p, nx->d, nx->n, nx->arg, nx, st);
            break;
        case LAYER_MPLS:
            r = mpls_decode(p, nx->d, nx->n, false, 0, nx, st);
            break;
        case LAYER_PPPOE:
            r = pppoe_decode(p, nx->d, nx->n, nx, st);
            break;
        case LAYER_GRE:
            r = gre_decode(p, nx->d, nx->n, nx, st);
            break;
        case LAYER_IPIP:
            r = ipip_decode(p, nx->d, nx->n, nx->arg, nx, st);
            break;
        default:
            return DECODE_SKIP;
        }
        if (r == DECODE_OK && p->proto == IPPROTO_UDP) {
            bool taken;
            r = udp_tunnel_decode(p, &taken, nx, st);
            if (!taken)
                return DECODE_OK;
        }
        if (r != DECODE_NEXT)
            return r;
    }
}

/*
 * The common case in one pass: Ethernet, at most one 802.1Q tag, IPv4
 * without options and not a fragment, or IPv6 with TCP as its first next
 * header, then TCP with a sane data offset, all inside the captured bytes
 * and the IP length.  Fills `out` exactly as the stages would and returns
 * true; anything else (a tunnel, UDP, an anomaly to count, a length to
 * cut) returns false with `out` untouched, and the stages decode it.
 * fuzz_tunnel holds both ways to the same result.
 */
static bool fast_ether_tcp(const uint8_t *d, size_t n, struct pkt *out)
{
    if (n < 14 + 20)
        return false;
    size_t l3 = 14;
    unsigned type = rd_load_be16(d + 12), vlan = 0;
    bool tagged = type == 0x8100;   /* 802.1Q */
    if (tagged) {
        if (n < 18 + 20)
            return false;
        vlan = rd_load_be16(d + 14) & 0x0fff;
        type = rd_load_be16(d + 16);
        l3 = 18;
    }
    const uint8_t *ip = d + l3, *tcp;
    size_t left = n - l3, body;
    if (type == 0x0800) {
        /* version 4, IHL 5; total length covers the header and fits what
         * was captured; no MF, no offset; protocol TCP */
        if (ip[0] != 0x45 || ip[9] != IPPROTO_TCP || (rd_load_be16(ip + 6) & 0x3fff))
            return false;
        size_t tot = rd_load_be16(ip + 2);
        if (tot < 20 || tot > left)
            return false;
        body = tot - 20;
        tcp = ip + 20;
    } else if (type == 0x86dd) {
        if (left < 40 || (ip[0] >> 4) != 6 || ip[6] != IPPROTO_TCP)
            return false;
        size_t plen = rd_load_be16(ip + 4);
        if (plen == 0 || plen > left - 40)
            return false;
        body = plen;
        tcp = ip + 40;
    } else {
        return false;
    }
    if (body < 20)
        return false;
    size_t off = (size_t)(tcp[12] >> 4) * 4;
    if (off < 20 || off > body)
        return false;

    if (tagged) {
        out->vlan[0] = (uint16_t)vlan;
        out->n_vlan = 1;
    }
    if (type == 0x0800) {
        out->ip_ver = 4;
        out->ttl = ip[8];
        memcpy(out->src, ip + 12, 4);
        memcpy(out->dst, ip + 16, 4);
    } else {
        out->ip_ver = 6;
        out->ttl = ip[7];
        memcpy(out->src, ip + 8, 16);
        memcpy(out->dst, ip + 24, 16);
    }
    out->proto = IPPROTO_TCP;
    out->sport = rd_load_be16(tcp);
    out->dport = rd_load_be16(tcp + 2);
    out->seq = rd_load_be32(tcp + 4);
    out->ack = rd_load_be32(tcp + 8);
    out->tcp_flags = tcp[13];
    out->tcp_window = rd_load_be16(tcp + 14);
    out->tcp_opts = tcp + 20;
    out->tcp_opts_len = (uint8_t)(off - 20);
    out->payload = tcp + off;
    out->payload_len = body - off;
    return true;
}

/* An empty packet of these lengths, as both ways start from. */
static void pkt_start(struct pkt *out, size_t caplen, size_t wirelen)
{
    memset(out, 0, offsetof(struct pkt, payload));
    out->payload = NULL;
    out->payload_len = 0;
    out->caplen = caplen;
    out->wirelen = wirelen;
}

static enum decode_result stages(int dlt, const uint8_t *data, size_t caplen, struct pkt *out,
                                 struct stats *st)
{
    struct next nx;
    enum decode_result r = link_decode(dlt, data, caplen, out, &nx, st);
    return r == DECODE_NEXT ? run(out, &nx, st) : r;
}

enum decode_result decode_packet_stages(int dlt, const uint8_t *data, size_t caplen,
                                        size_t wirelen, struct pkt *out, struct stats *st)
{
    pkt_start(out, caplen, wirelen);
    return stages(dlt, data, caplen, out, st);
}

enum decode_result decode_packet(int dlt, const uint8_t *data, size_t caplen,
                                 size_t wirelen, struct pkt *out, struct stats *st)
{
    pkt_start(out, caplen, wirelen);
    if (dlt == DLT_EN10MB && fast_ether_tcp(data, caplen, out))
        return DECODE_OK;
    return stages(dlt, data, caplen, out, st);   /* out as pkt_start() left it */
}

enum decode_result decode_ip(struct pkt *p, const uint8_t *data, size_t len,
                             unsigned ethertype_or_ver, struct stats *st)
{
    struct next nx;
    decode_next(&nx, LAYER_IP, data, len, ethertype_or_ver);
    return run(p, &nx, st);
}
