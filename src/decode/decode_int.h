/*
 * decode_int.h - the decoders' stages, shared by link.c, ip.c and
 * tunnel.c only: each hands what it carries to the next.
 */
#ifndef PINSCOPE_DECODE_INT_H
#define PINSCOPE_DECODE_INT_H

#include "decode/decode.h"

/* An Ethernet frame (VLAN tags, then MPLS, PPPoE or IP). */
enum decode_result decode_ether(struct pkt *p, const uint8_t *d, size_t n, struct stats *st);

/* tunnel.c: the inside of one encapsulation; from_ip/proto say whether
 * an IP header (p->src/dst) carried it. */
enum decode_result decode_gre(struct pkt *p, const uint8_t *d, size_t n, struct stats *st);
enum decode_result decode_mpls(struct pkt *p, const uint8_t *d, size_t n, bool from_ip,
                               unsigned proto, struct stats *st);
enum decode_result decode_pppoe(struct pkt *p, const uint8_t *d, size_t n, struct stats *st);
enum decode_result decode_ipip(struct pkt *p, const uint8_t *d, size_t n, unsigned proto,
                               struct stats *st);
/* After a UDP header: VXLAN, Geneve or GTP-U by destination port, when the
 * header validates (*taken); otherwise the datagram stays as it is. */
enum decode_result decode_udp_tunnel(struct pkt *p, bool *taken, struct stats *st);

#endif
