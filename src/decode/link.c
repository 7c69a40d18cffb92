/*
 * link.c - link-layer headers down to the network layer (see decode.h).
 *
 * Each link type yields an EtherType (or an IP version) and the offset of
 * the network header; decode_ip() takes it from there.  All reads go through
 * util/rd.h.
 *
 *   Ethernet:  dst(6) src(6) type(2)  [tag: TPID(2)=0x8100/0x88a8/0x9100, TCI(2), type(2)]...
 *   Linux SLL: pkttype(2) hatype(2) halen(2) addr(8) protocol(2)          (16 bytes)
 *   Linux SLL2: protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1)
 *              halen(1) addr(8)                                            (20 bytes)
 *   BSD NULL/LOOP: family(4), host byte order of the capturing machine (NULL)
 *              or network order (LOOP); AF_INET = 2, AF_INET6 = 24/28/30.
 *   PPP (9), PPP in HDLC framing (50) (RFC 1661, 1662): [address(1)=0xff
 *              control(1)=0x03] protocol(1 or 2; odd low byte ends it):
 *              0x21 IPv4, 0x57 IPv6.
 *   Cisco HDLC (104): address(1)=0x0f/0x8f control(1)=0 protocol(2), an
 *              EtherType.
 *   NFLOG (239): family(1) version(1) resource_id(2), then TLVs of
 *              length(2) type(2) in host (little-endian) order, each padded
 *              to 4 bytes; type 9 (NFULA_PAYLOAD) holds the IP packet.
 *   802.11 (105), radiotap (127): [radiotap: version(1)=0 pad(1)
 *              length(2, LE) ...] frame control(2) duration(2) addr1-3(18)
 *              seq(2) [addr4(6) if to-DS and from-DS] [QoS(2) for QoS
 *              subtypes] [HT control(4) if +HTC/order in a QoS frame], then
 *              LLC/SNAP aa aa 03 00 00 00 EtherType; data frames only,
 *              protected (encrypted) ones skipped.
 */
#include "decode/decode_int.h"

#include <pcap/dlt.h>
#include <string.h>

#include "util/rd.h"

#define ETHERTYPE_IPV4   0x0800
#define ETHERTYPE_IPV6   0x86dd
#define ETHERTYPE_VLAN   0x8100
#define ETHERTYPE_QINQ   0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100
#define ETHERTYPE_MPLS   0x8847
#define ETHERTYPE_MPLS_MC 0x8848
#define ETHERTYPE_PPPOE_SESSION 0x8864

#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif
#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

bool decode_linktype_supported(int dlt)
{
    switch (dlt) {
    case DLT_EN10MB:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
    case DLT_NULL:
    case DLT_LOOP:
    case DLT_PPP:
    case DLT_PPP_SERIAL:
    case DLT_C_HDLC:
    case DLT_NFLOG:
    case DLT_IEEE802_11:
    case DLT_IEEE802_11_RADIO:
        return true;
    default:
        /* LINKTYPE_RAW (101) is mapped to DLT_RAW by libpcap, but some
         * platforms define DLT_RAW as 14; accept the raw value as well. */
        return dlt == 101 || dlt == 12 || dlt == 14;
    }
}

enum decode_result ether_decode(struct pkt *p, const uint8_t *d, size_t n, struct next *nx,
                                struct stats *st)
{
    struct rd rr, *r = &rr;
    rd_init(r, d, n);
    if (!rd_skip(r, 12)) {
        stats_anomaly(st, STATS_LINK_TRUNCATED);
        return DECODE_BAD;
    }
    unsigned type = rd_u16(r);
    while (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD) {
        unsigned tci = rd_u16(r);
        type = rd_u16(r);
        if (r->bad) {
            stats_anomaly(st, STATS_LINK_TRUNCATED);
            return DECODE_BAD;
        }
        if (p->n_vlan == DECODE_MAX_VLAN) {
            stats_anomaly(st, STATS_VLAN_TOO_DEEP);
            return DECODE_BAD;
        }
        p->vlan[p->n_vlan++] = (uint16_t)(tci & 0x0fff);
    }
    if (r->bad) {
        stats_anomaly(st, STATS_LINK_TRUNCATED);
        return DECODE_BAD;
    }
    if (type == ETHERTYPE_MPLS || type == ETHERTYPE_MPLS_MC)
        return decode_next(nx, LAYER_MPLS, rd_ptr(r), rd_left(r), 0);
    if (type == ETHERTYPE_PPPOE_SESSION)
        return decode_next(nx, LAYER_PPPOE, rd_ptr(r), rd_left(r), 0);
    return decode_next(nx, LAYER_IP, rd_ptr(r), rd_left(r), type);
}

static enum decode_result decode_sll(struct pkt *p, struct rd *r, bool v2, struct next *nx,
                                     struct stats *st)
{
    unsigned type;
    if (v2) {
        type = rd_u16(r);
        rd_skip(r, 18);
    } else {
        rd_skip(r, 14);
        type = rd_u16(r);
    }
    if (r->bad) {
        stats_anomaly(st, STATS_LINK_TRUNCATED);
        return DECODE_BAD;
    }
    return decode_next(nx, LAYER_IP, rd_ptr(r), rd_left(r), type);
}

static enum decode_result decode_null(struct pkt *p, struct rd *r, bool loop, struct next *nx,
                                     struct stats *st)
{
    uint32_t fam;
    if (loop) {
        fam = rd_u32(r);
    } else {
        /* Host byte order of the writer: accept both orders, the values
         * are small enough to tell apart. */
        fam = rd_u32le(r);
        if (fam > 0xffff)
            fam = __builtin_bswap32(fam);
    }
    if (r->bad) {
        stats_anomaly(st, STATS_LINK_TRUNCATED);
        return DECODE_BAD;
    }
    unsigned ver;
    if (fam == 2)
        ver = 4;
    else if (fam == 24 || fam == 28 || fam == 30 || fam == 10)
        ver = 6;
    else
        return DECODE_SKIP;
    return decode_next(nx, LAYER_IP, rd_ptr(r), rd_left(r), ver);
}

static enum decode_result link_truncated(struct stats *st)
{
    stats_anomaly(st, STATS_LINK_TRUNCATED);
    return DECODE_BAD;
}

static enum decode_result decode_ppp(struct pkt *p, struct rd *r, struct next *nx,
                                     struct stats *st)
{
    if (rd_has(r, 2) && rd_peek(r, 0) == 0xff && rd_peek(r, 1) == 0x03)
        rd_skip(r, 2);
    unsigned proto = rd_u8(r);
    if (!(proto & 1))
        proto = proto << 8 | rd_u8(r);
    if (r->bad)
        return link_truncated(st);
    if (proto == 0x21 || proto == 0x0021)
        return decode_next(nx, LAYER_IP, rd_ptr(r), rd_left(r), 4);
    if (proto == 0x57 || proto == 0x0057)
        return decode_next(nx, LAYER_IP, rd_ptr(r), rd_left(r), 6);
    return DECODE_SKIP;   /* LCP, IPCP, CHAP...: not for us */
}

static enum decode_result decode_chdlc(struct pkt *p, struct rd *r, struct next *nx,
                                     struct stats *st)
{
    rd_skip(r, 2);
    unsigned type = rd_u16(r);
    if (r->bad)
        return link_truncated(st);
    return decode_next(nx, LAYER_IP, rd_ptr(r), rd_left(r), type);
}

static enum decode_result decode_nflog(struct pkt *p, struct rd *r, struct next *nx,
                                     struct stats *st)
{
    unsigned family = rd_u8(r);
    rd_skip(r, 3);
    if (r->bad)
        return link_truncated(st);
    while (rd_left(r) >= 4) {
        unsigned len = rd_peek(r, 0) | (unsigned)rd_peek(r, 1) << 8;
        unsigned type = rd_peek(r, 2) | (unsigned)rd_peek(r, 3) << 8;
        if (len < 4 || len > rd_left(r))
            return link_truncated(st);
        if ((type & 0x7fff) == 9) {   /* NFULA_PAYLOAD */
            rd_skip(r, 4);
            unsigned ver = family == 2 ? 4 : family == 10 ? 6 : 0;
            if (!ver)
                return DECODE_SKIP;
            return decode_next(nx, LAYER_IP, rd_ptr(r), len - 4, ver);
        }
        size_t padded = ((size_t)len + 3) & ~(size_t)3;
        if (!rd_skip(r, padded < rd_left(r) ? padded : rd_left(r)))
            return link_truncated(st);
    }
    return DECODE_SKIP;   /* no payload TLV */
}

static enum decode_result decode_80211(struct pkt *p, struct rd *r, bool radiotap,
                                       struct next *nx, struct stats *st)
{
    if (radiotap) {
        if (!rd_has(r, 4))
            return link_truncated(st);
        size_t len = rd_peek(r, 2) | (size_t)rd_peek(r, 3) << 8;
        if (rd_peek(r, 0) != 0 || len < 8 || !rd_skip(r, len))
            return link_truncated(st);
    }
    unsigned fc0 = rd_u8(r), fc1 = rd_u8(r);
    if (r->bad)
        return link_truncated(st);
    unsigned type = (fc0 >> 2) & 3, subtype = fc0 >> 4;
    if (type != 2 || (subtype & 4) || (fc1 & 0x40))
        return DECODE_SKIP;   /* management/control, null data, or protected */
    size_t hdr = 22;          /* after frame control: duration, 3 addresses, sequence */
    if ((fc1 & 3) == 3)
        hdr += 6;             /* to-DS and from-DS: a fourth address */
    if (subtype & 8) {
        hdr += 2;             /* QoS control */
        if (fc1 & 0x80)
            hdr += 4;         /* HT control */
    }
    if (!rd_skip(r, hdr))
        return link_truncated(st);
    static const uint8_t snap[6] = { 0xaa, 0xaa, 0x03, 0, 0, 0 };
    for (size_t i = 0; i < 6; i++)
        if (!rd_has(r, i + 1) || rd_peek(r, i) != snap[i])
            return DECODE_SKIP;
    rd_skip(r, 6);
    unsigned etype = rd_u16(r);
    if (r->bad)
        return link_truncated(st);
    return decode_next(nx, LAYER_IP, rd_ptr(r), rd_left(r), etype);
}

enum decode_result link_decode(int dlt, const uint8_t *data, size_t caplen, struct pkt *out,
                               struct next *nx, struct stats *st)
{
    struct rd r;
    rd_init(&r, data, caplen);

    switch (dlt) {
    case DLT_EN10MB:
        return decode_next(nx, LAYER_ETHER, data, caplen, 0);
    case DLT_LINUX_SLL:
        return decode_sll(out, &r, false, nx, st);
    case DLT_LINUX_SLL2:
        return decode_sll(out, &r, true, nx, st);
    case DLT_NULL:
        return decode_null(out, &r, false, nx, st);
    case DLT_LOOP:
        return decode_null(out, &r, true, nx, st);
    case DLT_PPP:
        return decode_ppp(out, &r, nx, st);
    case DLT_PPP_SERIAL:   /* some of these captures hold Cisco HDLC frames */
        if (caplen > 0 && (data[0] == 0x0f || data[0] == 0x8f))
            return decode_chdlc(out, &r, nx, st);
        return decode_ppp(out, &r, nx, st);
    case DLT_C_HDLC:
        return decode_chdlc(out, &r, nx, st);
    case DLT_NFLOG:
        return decode_nflog(out, &r, nx, st);
    case DLT_IEEE802_11:
        return decode_80211(out, &r, false, nx, st);
    case DLT_IEEE802_11_RADIO:
        return decode_80211(out, &r, true, nx, st);
    case DLT_IPV4:
        return decode_next(nx, LAYER_IP, data, caplen, 4);
    case DLT_IPV6:
        return decode_next(nx, LAYER_IP, data, caplen, 6);
    default:
        if (dlt == DLT_RAW || dlt == 101 || dlt == 12 || dlt == 14) {
            if (caplen < 1) {
                stats_anomaly(st, STATS_LINK_TRUNCATED);
                return DECODE_BAD;
            }
            return decode_next(nx, LAYER_IP, data, caplen, data[0] >> 4);
        }
        return DECODE_SKIP;
    }
}
