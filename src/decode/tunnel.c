/*
 * tunnel.c - encapsulations: what carries the packet pinscope analyses
 * (see decode.h).  Each decoder reads its header through util/rd.h, records
 * the layer (tunnel_push) and hands the inner bytes back to decode_ip() or
 * decode_ether(); decode.h caps the depth.
 *
 *   GRE (RFC 2784, 2890): C(1) R(1) K(1) S(1) reserved(9) ver(3) protocol(2)
 *        [checksum(2) reserved(2)] [key(4)] [sequence(4)]; version 0 only.
 *   ERSPAN (draft-foschiano-erspan-03), in GRE with protocol 0x88be / 0x22eb:
 *        type I   (0x88be, no sequence number): no header, the mirrored frame;
 *        type II  (0x88be with S): ver(4)=1 vlan(12) cos(3) en(2) t(1)
 *                 session(10) reserved(12) index(20), then the frame;
 *        type III (0x22eb): ver(4)=2 vlan(12) cos(3) bso(2) t(1) session(10)
 *                 timestamp(32) sgt(16) p(1) ft(5) hwid(6) d(1) gra(2) o(1)
 *                 [platform-specific(8) if o], then the frame.
 *   VXLAN (RFC 7348), UDP 4789: flags(8, I = 0x08) reserved(24) VNI(24)
 *        reserved(8), then an Ethernet frame.
 *   Geneve (RFC 8926), UDP 6081: ver(2)=0 optlen(6, 4-byte words) O(1) C(1)
 *        reserved(6) protocol(16) VNI(24) reserved(8) options, then an
 *        Ethernet frame (0x6558) or IP.
 *   GTP-U (3GPP TS 29.281), UDP 2152: ver(3)=1 PT(1)=1 reserved(1) E(1) S(1)
 *        PN(1) type(8)=0xff (G-PDU) length(16, after the TEID) TEID(32) [seq(16) npdu(8)
 *        next(8) if E|S|PN] [extension headers: len(8, 4-byte words)
 *        ... next(8)], then IP.
 *   MPLS (RFC 3032), EtherType 0x8847/0x8848 or GRE: label(20) tc(3) S(1)
 *        ttl(8) until S; the payload is guessed as Suricata does: first
 *        nibble 4 or 6 is IP, 0 is a pseudowire control word (4 bytes) and
 *        an Ethernet frame, anything else an Ethernet frame.
 *   PPPoE session (RFC 2516), EtherType 0x8864: ver(4)=1 type(4)=1 code(8)=0
 *        session(16) length(16, from the PPP protocol on), then PPP
 *        protocol(16): 0x0021 IPv4, 0x0057 IPv6.
 *   IP in IP (RFC 2003, 4213, 2473): IP protocol 4 or 41, then IP.
 *
 * Validation before commitment: a UDP datagram to a tunnel port whose
 * header does not validate stays an ordinary UDP datagram; once a header
 * validates, a malformed inside is counted (tunnel_malformed) like any
 * other bad packet.  The PPPoE and GTP-U lengths bound what they carry (the
 * rest is padding); a length past the packet, unless the snap length cut
 * it, is malformed.
 */
#include "decode/decode_int.h"

#include <netinet/in.h>
#include <string.h>

#include "util/rd.h"

#define MPLS_MAX_LABELS 8   /* labels followed before giving up */

/* Record the layer the packet is about to leave: the outer IP header's
 * addresses (and UDP ports) as decoded so far.  False when too deep. */
static bool tunnel_push(struct pkt *p, enum tunnel_kind kind, unsigned proto, uint32_t id,
                        bool has_id, bool from_ip, struct stats *st)
{
    if (p->n_tun >= DECODE_MAX_TUNNEL) {
        stats_anomaly(st, STATS_TUNNEL_TOO_DEEP);
        return false;
    }
    struct tunnel_layer *t = &p->tun[p->n_tun++];
    memset(t, 0, sizeof(*t));
    t->kind = (uint8_t)kind;
    t->id = id;
    t->has_id = has_id;
    if (from_ip) {
        t->ip_ver = p->ip_ver;
        t->proto = (uint8_t)proto;
        memcpy(t->src, p->src, 16);
        memcpy(t->dst, p->dst, 16);
        if (proto == IPPROTO_UDP) {
            t->sport = p->sport;
            t->dport = p->dport;
        }
    }
    /* Tenants: a VXLAN/Geneve VNI or a GRE key separates address spaces
     * (both directions carry the same one; GTP TEIDs and MPLS labels differ
     * per direction and do not). */
    if (has_id && (kind == TUNNEL_VXLAN || kind == TUNNEL_GENEVE || kind == TUNNEL_GRE))
        p->zone = (p->zone * 0x9E3779B1u) ^ (id + ((uint32_t)kind << 24)) ^ 1u;
    /* The inner headers are decoded from scratch. */
    memset(p->src, 0, 16);
    memset(p->dst, 0, 16);
    p->sport = p->dport = 0;
    return true;
}

static enum decode_result inner_bad(struct stats *st)
{
    stats_anomaly(st, STATS_TUNNEL_MALFORMED);
    return DECODE_BAD;
}

/* The `len` bytes a header says follow it, as *body: what lies beyond is
 * padding.  A length past the bytes there is a lie, unless the snap length
 * cut the packet (then the bytes there; the IP header counts the cut). */
static bool inner_len(const struct pkt *p, struct rd *r, size_t len, struct rd *body)
{
    if (len > rd_left(r)) {
        if (p->caplen >= p->wirelen)
            return false;
        len = rd_left(r);
    }
    return rd_sub(r, len, body);
}

/* What MPLS or a PPP protocol number carries. */
static enum decode_result mpls_payload(struct rd *r, struct next *nx, struct stats *st)
{
    if (!rd_has(r, 1))
        return inner_bad(st);
    unsigned nib = rd_peek(r, 0) >> 4;
    if (nib == 4 || nib == 6)
        return decode_next(nx, LAYER_IP, rd_ptr(r), rd_left(r), nib);
    if (nib == 0 && !rd_skip(r, 4))   /* pseudowire control word */
        return inner_bad(st);
    return decode_next(nx, LAYER_ETHER, rd_ptr(r), rd_left(r), 0);
}

enum decode_result mpls_decode(struct pkt *p, const uint8_t *d, size_t n, bool from_ip,
                               unsigned proto, struct next *nx, struct stats *st)
{
    struct rd r;
    rd_init(&r, d, n);
    uint32_t label = 0;
    for (int i = 0;; i++) {
        uint32_t e = rd_u32(&r);
        if (r.bad)
            return inner_bad(st);
        label = e >> 12;
        if (e & 0x100)
            break;   /* bottom of stack */
        if (i + 1 == MPLS_MAX_LABELS)
            return inner_bad(st);
    }
    if (!tunnel_push(p, TUNNEL_MPLS, proto, label, true, from_ip, st))
        return DECODE_SKIP;
    return mpls_payload(&r, nx, st);
}

enum decode_result pppoe_decode(struct pkt *p, const uint8_t *d, size_t n, struct next *nx,
                                struct stats *st)
{
    struct rd r;
    rd_init(&r, d, n);
    unsigned vt = rd_u8(&r), code = rd_u8(&r), session = rd_u16(&r);
    size_t len = rd_u16(&r);
    unsigned ppp = rd_u16(&r);
    if (r.bad || vt != 0x11 || code != 0)
        return inner_bad(st);
    if (ppp != 0x0021 && ppp != 0x0057)
        return DECODE_SKIP;   /* LCP, IPCP...: not for us */
    struct rd body;
    if (len < 2 || !inner_len(p, &r, len - 2, &body))
        return inner_bad(st);
    if (!tunnel_push(p, TUNNEL_PPPOE, 0, session, true, false, st))
        return DECODE_SKIP;
    return decode_next(nx, LAYER_IP, rd_ptr(&body), rd_left(&body), ppp == 0x0021 ? 4 : 6);
}

enum decode_result ipip_decode(struct pkt *p, const uint8_t *d, size_t n, unsigned proto,
                               struct next *nx, struct stats *st)
{
    if (!tunnel_push(p, TUNNEL_IPIP, proto, 0, false, true, st))
        return DECODE_SKIP;
    return decode_next(nx, LAYER_IP, d, n, proto == IPPROTO_IPIP ? 4 : 6);
}

enum decode_result gre_decode(struct pkt *p, const uint8_t *d, size_t n, struct next *nx,
                              struct stats *st)
{
    struct rd r;
    rd_init(&r, d, n);
    unsigned flags = rd_u16(&r), type = rd_u16(&r);
    if (r.bad)
        return inner_bad(st);
    if ((flags & 7) != 0)
        return DECODE_SKIP;   /* version 1 (PPTP) and others: not decapsulated */
    if (flags & 0x8000)
        rd_skip(&r, 4);
    uint32_t key = 0;
    bool has_key = flags & 0x2000;
    if (has_key)
        key = rd_u32(&r);
    bool has_seq = flags & 0x1000;
    if (has_seq)
        rd_skip(&r, 4);
    if (r.bad)
        return inner_bad(st);

    switch (type) {
    case 0x0800:
    case 0x86dd:
        if (!tunnel_push(p, TUNNEL_GRE, IPPROTO_GRE, key, has_key, true, st))
            return DECODE_SKIP;
        return decode_next(nx, LAYER_IP, rd_ptr(&r), rd_left(&r), type);
    case 0x6558:   /* transparent Ethernet bridging */
        if (!tunnel_push(p, TUNNEL_GRE, IPPROTO_GRE, key, has_key, true, st))
            return DECODE_SKIP;
        return decode_next(nx, LAYER_ETHER, rd_ptr(&r), rd_left(&r), 0);
    case 0x8847:
    case 0x8848:
        if (!tunnel_push(p, TUNNEL_GRE, IPPROTO_GRE, key, has_key, true, st))
            return DECODE_SKIP;
        return decode_next(nx, LAYER_MPLS, rd_ptr(&r), rd_left(&r), 0);
    case 0x88be:   /* ERSPAN type I (no sequence number) or II */
    case 0x22eb: { /* ERSPAN type III */
        uint32_t session = 0;
        if (type == 0x22eb || has_seq) {
            unsigned w0 = rd_u16(&r), w1 = rd_u16(&r);
            unsigned ver = w0 >> 12;
            session = w1 & 0x3ff;
            if (r.bad || ver != (type == 0x22eb ? 2u : 1u))
                return inner_bad(st);
            if (type == 0x88be) {
                rd_skip(&r, 4);
            } else {
                rd_skip(&r, 6);
                unsigned w5 = rd_u16(&r);
                if (w5 & 1)
                    rd_skip(&r, 8);   /* platform-specific subheader */
            }
            if (r.bad)
                return inner_bad(st);
        }
        if (!tunnel_push(p, TUNNEL_ERSPAN, IPPROTO_GRE, session, type == 0x22eb || has_seq,
                         true, st))
            return DECODE_SKIP;
        return decode_next(nx, LAYER_ETHER, rd_ptr(&r), rd_left(&r), 0);
    }
    default:
        return DECODE_SKIP;
    }
}

/* VXLAN, Geneve or GTP-U in the UDP payload p->payload; DECODE_OK with
 * *taken false when it is none of them (the datagram stays as it is). */
enum decode_result udp_tunnel_decode(struct pkt *p, bool *taken, struct next *nx,
                                     struct stats *st)
{
    *taken = false;
    unsigned port = p->dport;
    if (!decode_tunnel_port(p->dport))
        return DECODE_OK;
    struct rd r;
    rd_init(&r, p->payload, p->payload_len);
    if (port == 4789) {
        /* The reserved fields must be zero as well as I set (the group
         * policy extension, G = 0x80, uses the first ones): 4789 is also
         * an ephemeral port, and a QUIC or DNS datagram to it is not VXLAN. */
        unsigned flags = rd_u8(&r);
        uint32_t res24 = rd_u24(&r);
        uint32_t vni = rd_u24(&r);
        unsigned res8 = rd_u8(&r);
        if (r.bad || !(flags & 0x08) || res8 != 0 || (!(flags & 0x80) && res24 != 0))
            return DECODE_OK;
        *taken = true;
        if (!tunnel_push(p, TUNNEL_VXLAN, IPPROTO_UDP, vni, true, true, st))
            return DECODE_SKIP;
        return decode_next(nx, LAYER_ETHER, rd_ptr(&r), rd_left(&r), 0);
    }
    if (port == 6081) {
        unsigned b0 = rd_u8(&r);
        rd_skip(&r, 1);
        unsigned type = rd_u16(&r);
        uint32_t vni = rd_u24(&r);
        rd_skip(&r, 1);
        if (r.bad || (b0 >> 6) != 0 ||
            (type != 0x6558 && type != 0x0800 && type != 0x86dd))
            return DECODE_OK;
        *taken = true;
        if (!rd_skip(&r, (size_t)(b0 & 0x3f) * 4))
            return inner_bad(st);
        if (!tunnel_push(p, TUNNEL_GENEVE, IPPROTO_UDP, vni, true, true, st))
            return DECODE_SKIP;
        if (type == 0x6558)
            return decode_next(nx, LAYER_ETHER, rd_ptr(&r), rd_left(&r), 0);
        return decode_next(nx, LAYER_IP, rd_ptr(&r), rd_left(&r), type);
    }
    /* GTP-U */
    unsigned flags = rd_u8(&r), type = rd_u8(&r);
    size_t len = rd_u16(&r);
    uint32_t teid = rd_u32(&r);
    if (r.bad || (flags >> 5) != 1 || !(flags & 0x10))
        return DECODE_OK;
    if (type != 0xff)
        return DECODE_OK;   /* echo, error indication...: no user data */
    *taken = true;
    struct rd outer = r;
    if (!inner_len(p, &outer, len, &r))   /* the length counts what follows the TEID */
        return inner_bad(st);
    if (flags & 0x07) {
        rd_skip(&r, 3);
        unsigned next = rd_u8(&r);
        if (!(flags & 0x04))
            next = 0;   /* no extension headers: the field is not meaningful */
        for (int i = 0; next != 0 && i < 16; i++) {
            unsigned words = rd_u8(&r);
            if (words == 0 || !rd_skip(&r, (size_t)words * 4 - 2))
                return inner_bad(st);
            next = rd_u8(&r);
        }
        if (r.bad || next != 0)
            return inner_bad(st);
    }
    if (!rd_has(&r, 1))
        return inner_bad(st);
    unsigned ver = rd_peek(&r, 0) >> 4;
    if (ver != 4 && ver != 6)
        return inner_bad(st);
    if (!tunnel_push(p, TUNNEL_GTPU, IPPROTO_UDP, teid, true, true, st))
        return DECODE_SKIP;
    return decode_next(nx, LAYER_IP, rd_ptr(&r), rd_left(&r), ver);
}

const char *tunnel_kind_name(enum tunnel_kind k)
{
    switch (k) {
    case TUNNEL_GRE: return "gre";
    case TUNNEL_ERSPAN: return "erspan";
    case TUNNEL_VXLAN: return "vxlan";
    case TUNNEL_GENEVE: return "geneve";
    case TUNNEL_MPLS: return "mpls";
    case TUNNEL_PPPOE: return "pppoe";
    case TUNNEL_IPIP: return "ipip";
    case TUNNEL_GTPU: return "gtpu";
    default: return "none";
    }
}
