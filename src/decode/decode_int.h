/*
 * decode_int.h - the decoder's stages, for decode/ only.
 *
 * Each stage reads one header and either finishes the packet (DECODE_OK,
 * _SKIP, _BAD, _FRAGMENT) or names the layer inside it and where it lies
 * (decode_next(), DECODE_NEXT).  decode.c runs the stages in a loop, so no
 * stage calls another file's: link.c, ip.c and tunnel.c know nothing of
 * each other, however deep the encapsulation.
 */
#ifndef PINSCOPE_DECODE_INT_H
#define PINSCOPE_DECODE_INT_H

#include "decode/decode.h"

#define DECODE_NEXT ((enum decode_result)3)   /* a stage's: go on with *nx */

enum layer {
    LAYER_ETHER,    /* an Ethernet frame: VLAN tags, then MPLS, PPPoE or IP */
    LAYER_IP,       /* arg: an EtherType or the IP version */
    LAYER_MPLS,     /* a label stack (arg unused) */
    LAYER_PPPOE,    /* a PPPoE session header */
    LAYER_GRE,      /* a GRE header, after the outer IP header */
    LAYER_IPIP,     /* an IP header after an IP header; arg: 4 or 41 */
};

struct next {
    enum layer layer;
    unsigned arg;
    const uint8_t *d;
    size_t n;
};

static inline enum decode_result decode_next(struct next *nx, enum layer layer,
                                             const uint8_t *d, size_t n, unsigned arg)
{
    nx->layer = layer;
    nx->d = d;
    nx->n = n;
    nx->arg = arg;
    return DECODE_NEXT;
}

/* link.c: the link-layer header of `dlt` (decode.h lists them). */
enum decode_result link_decode(int dlt, const uint8_t *data, size_t caplen, struct pkt *out,
                               struct next *nx, struct stats *st);
enum decode_result ether_decode(struct pkt *p, const uint8_t *d, size_t n, struct next *nx,
                                struct stats *st);

/* ip.c: IPv4 or IPv6, then TCP or UDP. */
enum decode_result ip_decode(struct pkt *p, const uint8_t *data, size_t len,
                             unsigned ethertype_or_ver, struct next *nx, struct stats *st);

/* tunnel.c: one encapsulation each. */
enum decode_result gre_decode(struct pkt *p, const uint8_t *d, size_t n, struct next *nx,
                              struct stats *st);
enum decode_result mpls_decode(struct pkt *p, const uint8_t *d, size_t n, bool from_ip,
                               unsigned proto, struct next *nx, struct stats *st);
enum decode_result pppoe_decode(struct pkt *p, const uint8_t *d, size_t n, struct next *nx,
                                struct stats *st);
enum decode_result ipip_decode(struct pkt *p, const uint8_t *d, size_t n, unsigned proto,
                               struct next *nx, struct stats *st);
/* After a UDP datagram decoded: VXLAN, Geneve or GTP-U by destination
 * port, when the header validates (*taken); otherwise it stays as it is. */
enum decode_result udp_tunnel_decode(struct pkt *p, bool *taken, struct next *nx,
                                     struct stats *st);

#endif
