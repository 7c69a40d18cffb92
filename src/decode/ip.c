/*
 * ip.c - IPv4 and IPv6 headers, then TCP/UDP (see decode.h).
 *
 *   IPv4 (RFC 791):  ver/ihl(1) tos(1) total_length(2) id(2) flags/frag(2)
 *                    ttl(1) protocol(1) checksum(2) src(4) dst(4) options...
 *   IPv6 (RFC 8200): ver/tc/flow(4) payload_length(2) next_header(1)
 *                    hop_limit(1) src(16) dst(16), then extension headers
 *   TCP (RFC 9293):  sport(2) dport(2) seq(4) ack(4) off/flags(2) win(2)
 *                    csum(2) urg(2) options...
 *   UDP (RFC 768):   sport(2) dport(2) length(2) csum(2)
 *
 * The shorter of the header's length and the captured bytes wins (a frame
 * padded by the link layer must not add payload bytes; "etherleak").
 * Checksums are not verified: offloading makes them wrong on many captures.
 */
#include "decode/decode_int.h"

#include <netinet/in.h>
#include <string.h>

#include "util/rd.h"

#define IPV6_EXT_MAX 16   /* extension headers followed before giving up */

static enum decode_result decode_tcp(struct pkt *p, struct rd *r, struct stats *st)
{
    p->sport = rd_u16(r);
    p->dport = rd_u16(r);
    p->seq = rd_u32(r);
    p->ack = rd_u32(r);
    unsigned off = (unsigned)(rd_u8(r) >> 4) * 4;
    p->tcp_flags = rd_u8(r);
    p->tcp_window = rd_u16(r);
    rd_skip(r, 4);                      /* checksum, urgent pointer */
    if (r->bad) {
        stats_anomaly(st, STATS_TCP_TRUNCATED);
        return DECODE_BAD;
    }
    if (off < 20) {
        stats_anomaly(st, STATS_TCP_BAD_HEADER);
        return DECODE_BAD;
    }
    p->tcp_opts = rd_ptr(r);
    p->tcp_opts_len = (uint8_t)(off - 20);
    if (!rd_skip(r, off - 20)) {
        stats_anomaly(st, STATS_TCP_TRUNCATED);
        return DECODE_BAD;
    }
    p->proto = IPPROTO_TCP;
    p->payload = rd_ptr(r);
    p->payload_len = rd_left(r);
    return DECODE_OK;
}

static enum decode_result decode_udp(struct pkt *p, struct rd *r, struct stats *st)
{
    p->sport = rd_u16(r);
    p->dport = rd_u16(r);
    unsigned ulen = rd_u16(r);
    rd_skip(r, 2);
    if (r->bad) {
        stats_anomaly(st, STATS_UDP_TRUNCATED);
        return DECODE_BAD;
    }
    size_t n = rd_left(r);
    if (ulen >= 8 && ulen - 8 < n)
        n = ulen - 8;
    p->proto = IPPROTO_UDP;
    p->payload = rd_ptr(r);
    p->payload_len = n;
    return DECODE_OK;
}

static enum decode_result decode_l4(struct pkt *p, unsigned proto, struct rd *r,
                                    struct next *nx, struct stats *st)
{
    switch (proto) {
    case IPPROTO_TCP:
        return decode_tcp(p, r, st);
    case IPPROTO_UDP:
        return decode_udp(p, r, st);   /* decode.c looks for a tunnel inside */
    case IPPROTO_IPIP:
    case IPPROTO_IPV6:
        return decode_next(nx, LAYER_IPIP, rd_ptr(r), rd_left(r), proto);
    case IPPROTO_GRE:
        return decode_next(nx, LAYER_GRE, rd_ptr(r), rd_left(r), 0);
    default:
        return DECODE_SKIP;
    }
}

static enum decode_result decode_ipv4(struct pkt *p, struct rd *r, struct next *nx,
                                      struct stats *st)
{
    unsigned vihl = rd_u8(r);
    rd_skip(r, 1);
    size_t tot = rd_u16(r);
    unsigned ipid = rd_u16(r);
    unsigned frag = rd_u16(r);
    p->ttl = rd_u8(r);
    unsigned proto = rd_u8(r);
    rd_skip(r, 2);
    rd_copy(r, p->src, 4);
    rd_copy(r, p->dst, 4);
    if (r->bad) {
        stats_anomaly(st, STATS_IP_TRUNCATED);
        return DECODE_BAD;
    }
    size_t ihl = (vihl & 0x0f) * 4;
    if ((vihl >> 4) != 4 || ihl < 20 || tot < ihl) {
        stats_anomaly(st, STATS_IP_BAD_HEADER);
        return DECODE_BAD;
    }
    if (!rd_skip(r, ihl - 20)) {
        stats_anomaly(st, STATS_IP_TRUNCATED);
        return DECODE_BAD;
    }
    p->ip_ver = 4;

    struct rd body;
    size_t want = tot - ihl;
    if (want > rd_left(r)) {
        stats_anomaly(st, STATS_PKT_SNAPLEN_CUT);
        want = rd_left(r);
    }
    rd_sub(r, want, &body);
    if (frag & 0x3fff) {   /* MF or an offset: a fragment */
        stats_anomaly(st, STATS_IP_FRAGMENT);
        p->frag.id = ipid;
        p->frag.offset = (frag & 0x1fff) * 8u;
        p->frag.more = frag & 0x2000;
        p->frag.proto = (uint8_t)proto;
        p->frag.data = rd_ptr(&body);
        p->frag.len = rd_left(&body);
        return DECODE_FRAGMENT;
    }
    return decode_l4(p, proto, &body, nx, st);
}

static enum decode_result decode_ipv6(struct pkt *p, struct rd *r, struct next *nx,
                                      struct stats *st)
{
    unsigned v = rd_u8(r);
    rd_skip(r, 3);
    size_t plen = rd_u16(r);
    unsigned next = rd_u8(r);
    p->ttl = rd_u8(r);
    rd_copy(r, p->src, 16);
    rd_copy(r, p->dst, 16);
    if (r->bad) {
        stats_anomaly(st, STATS_IP_TRUNCATED);
        return DECODE_BAD;
    }
    if ((v >> 4) != 6) {
        stats_anomaly(st, STATS_IP_BAD_HEADER);
        return DECODE_BAD;
    }
    p->ip_ver = 6;

    struct rd body;
    if (plen == 0) {   /* jumbogram or a zero length: take what was captured */
        rd_sub(r, rd_left(r), &body);
    } else {
        if (plen > rd_left(r)) {
            stats_anomaly(st, STATS_PKT_SNAPLEN_CUT);
            plen = rd_left(r);
        }
        rd_sub(r, plen, &body);
    }

    for (int i = 0; i < IPV6_EXT_MAX; i++) {
        size_t hlen = 0, start = body.off;
        switch (next) {
        case 0:     /* hop-by-hop */
        case 43:    /* routing */
        case 60:    /* destination options */
        case 135:   /* mobility */
        case 139:   /* HIP */
        case 140:   /* shim6 */
            next = rd_u8(&body);
            hlen = ((size_t)rd_u8(&body) + 1) * 8;
            break;
        case 44: {  /* fragment */
            next = rd_u8(&body);
            rd_skip(&body, 1);
            unsigned off = rd_u16(&body);
            uint32_t id = rd_u32(&body);
            if (body.bad)
                break;
            if ((off & 0xfff8) || (off & 1)) {   /* not an atomic fragment (RFC 6946) */
                stats_anomaly(st, STATS_IP_FRAGMENT);
                p->frag.id = id;
                p->frag.offset = off & 0xfff8;
                p->frag.more = off & 1;
                p->frag.proto = (uint8_t)next;
                p->frag.data = rd_ptr(&body);
                p->frag.len = rd_left(&body);
                return DECODE_FRAGMENT;
            }
            hlen = 8;
            break;
        }
        case 51:    /* AH: length in 4-octet units, minus 2 */
            next = rd_u8(&body);
            hlen = ((size_t)rd_u8(&body) + 2) * 4;
            break;
        default:
            return decode_l4(p, next, &body, nx, st);
        }
        /* hlen counts from the start of this header; skip what is left. */
        if (body.bad || !rd_skip(&body, hlen - (body.off - start))) {
            stats_anomaly(st, STATS_IPV6_EXT_TRUNCATED);
            return DECODE_BAD;
        }
    }
    stats_anomaly(st, STATS_IP_BAD_HEADER);   /* too many extension headers */
    return DECODE_BAD;
}

enum decode_result ip_decode(struct pkt *p, const uint8_t *data, size_t len,
                             unsigned ethertype_or_ver, struct next *nx, struct stats *st)
{
    struct rd r;
    rd_init(&r, data, len);
    switch (ethertype_or_ver) {
    case 4:
    case 0x0800:
        return decode_ipv4(p, &r, nx, st);
    case 6:
    case 0x86dd:
        return decode_ipv6(p, &r, nx, st);
    default:
        return DECODE_SKIP;
    }
}
