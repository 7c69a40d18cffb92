/*
 * decode.h - link, IP and transport headers of one captured packet.
 *
 * decode_packet() turns the bytes libpcap hands us into a struct pkt:
 * addresses, ports, TCP sequence numbers and flags, and a view of the
 * transport payload.  It copies nothing; `payload` points into the capture
 * buffer and is valid until the next packet.
 *
 * Supported link types: Ethernet (with any mix of up to DECODE_MAX_VLAN
 * 802.1Q / 802.1ad / QinQ tags), Linux SLL and SLL2, raw IPv4/IPv6
 * (DLT_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6), BSD loopback (DLT_NULL, DLT_LOOP),
 * PPP and PPP in HDLC framing, Cisco HDLC, NFLOG, 802.11 data frames (also
 * behind radiotap).
 * IPv6 extension headers are skipped.  An IP fragment is returned as
 * DECODE_FRAGMENT for reasm/frag.c to reassemble (counted as ip_fragment);
 * the datagram it completes comes back through decode_ip().
 *
 * Encapsulations are followed to the packet inside, up to DECODE_MAX_TUNNEL
 * layers (decode/tunnel.c): GRE (with key and sequence number), ERSPAN
 * types I, II and III, VXLAN (UDP 4789), Geneve (UDP 6081), GTP-U (UDP
 * 2152), MPLS label stacks, PPPoE sessions, IP in IP (4in4, 6in4, 4in6,
 * 6in6).  pkt.tun lists the layers, outermost first; pkt.zone separates
 * tenants (VXLAN/Geneve VNI, GRE key) so equal inner addresses in two
 * overlays are two flows.
 */
#ifndef PINSCOPE_DECODE_H
#define PINSCOPE_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/pkt.h"
#include "util/stats.h"

enum decode_result {
    DECODE_OK = 0,      /* TCP or UDP over IP: pkt filled */
    DECODE_SKIP = 1,    /* valid but not for us (ARP, ICMP...) */
    DECODE_FRAGMENT = 2,/* an IP fragment: pkt.frag (reasm/frag.h), addresses set */
    DECODE_BAD = -1,    /* malformed; the anomaly has been counted */
};

/* True if pinscope can decode this libpcap DLT_ value. */
bool decode_linktype_supported(int dlt);

/*
 * Decode one packet of link type `dlt`.  Fills `out` on DECODE_OK.  Counts
 * anomalies in `st`.  Never reads beyond data[0..caplen).
 */
enum decode_result decode_packet(int dlt, const uint8_t *data, size_t caplen,
                                 size_t wirelen, struct pkt *out, struct stats *st);

/* decode_packet() without its one-pass case for Ethernet, IP and TCP:
 * the stages alone (tests hold both to the same result). */
enum decode_result decode_packet_stages(int dlt, const uint8_t *data, size_t caplen,
                                        size_t wirelen, struct pkt *out, struct stats *st);

/* Internal stages, exported for unit tests. */
enum decode_result decode_ip(struct pkt *p, const uint8_t *data, size_t len,
                             unsigned ethertype_or_ver, struct stats *st);

#endif
