/*
 * pkt.h - the decoded packet: what decode_packet() fills and every stage
 * of decode/ (link.c, ip.c, tunnel.c) and everything after it reads.
 *
 * Kept apart from decode.h so that the stages and the loop that runs them
 * (decode.c) share the type without depending on each other.
 */
#ifndef PINSCOPE_PKT_H
#define PINSCOPE_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DECODE_MAX_VLAN 4   /* VLAN tags followed before giving up */
#define DECODE_MAX_TUNNEL 4 /* encapsulations followed before giving up */

enum tunnel_kind {
    TUNNEL_NONE = 0,
    TUNNEL_GRE,
    TUNNEL_ERSPAN,
    TUNNEL_VXLAN,
    TUNNEL_GENEVE,
    TUNNEL_MPLS,
    TUNNEL_PPPOE,
    TUNNEL_IPIP,
    TUNNEL_GTPU,
};

/* One encapsulation the packet was found in. */
struct tunnel_layer {
    uint8_t kind;              /* enum tunnel_kind */
    uint8_t ip_ver;            /* the IP header that carried it: 4 or 6; 0 below IP
                                  (MPLS over Ethernet, PPPoE) */
    uint8_t proto;             /* its IP protocol: 47 GRE, 17 UDP, 4/41 IP in IP */
    bool has_id;
    uint8_t src[16], dst[16];  /* that IP header's addresses */
    uint16_t sport, dport;     /* UDP tunnels: the outer ports */
    uint32_t id;               /* VNI, GRE key, ERSPAN session, TEID, MPLS label
                                  (bottom of stack), PPPoE session */
};

/* A UDP destination port that may carry a tunnel (VXLAN 4789, Geneve
 * 6081, GTP-U 2152): the flow of such a datagram may be the one inside. */
static inline bool decode_tunnel_port(uint16_t dport)
{
    return dport == 4789 || dport == 6081 || dport == 2152;
}

/* "gre", "erspan", "vxlan", "geneve", "mpls", "pppoe", "ipip", "gtpu". */
const char *tunnel_kind_name(enum tunnel_kind k);

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

struct pkt {
    uint64_t ts_us;            /* capture time, microseconds since the epoch */
    size_t caplen, wirelen;

    uint16_t vlan[DECODE_MAX_VLAN];
    uint8_t n_vlan;
    uint8_t n_tun;             /* layers in tun[] */
    uint32_t zone;             /* 0, or the tenant of the innermost overlay */

    uint8_t ip_ver;            /* 4 or 6 */
    uint8_t proto;             /* IPPROTO_TCP or IPPROTO_UDP */
    uint8_t src[16], dst[16];  /* IPv4 in the first 4 bytes, rest zero */
    uint16_t sport, dport;

    uint8_t ttl;               /* IPv4 TTL or IPv6 hop limit (innermost IP) */
    uint32_t seq, ack;         /* TCP only */
    uint8_t tcp_flags;
    uint16_t tcp_window;       /* TCP: the raw window field */
    uint8_t tcp_opts_len;      /* TCP: option bytes at tcp_opts (0..40) */
    const uint8_t *tcp_opts;

    const uint8_t *payload;    /* transport payload (may be cut by snaplen) */
    size_t payload_len;

    struct {                   /* DECODE_FRAGMENT: this IP fragment */
        uint32_t id;           /* IPv4 identification, IPv6 fragment id */
        uint32_t offset;       /* in bytes */
        bool more;
        uint8_t proto;         /* protocol / next header of the fragmented part */
        const uint8_t *data;   /* the fragment's payload */
        size_t len;
    } frag;

    struct tunnel_layer tun[DECODE_MAX_TUNNEL];   /* outermost first; n_tun valid */
};

#endif
