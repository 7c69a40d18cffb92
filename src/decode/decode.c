/*
 * decode.c - one packet from its link layer to TCP or UDP (see decode.h).
 *
 * The stages (link.c, ip.c, tunnel.c) each read one header and say what
 * comes next (decode_int.h); this loop runs them until one finishes the
 * packet.  A UDP datagram is offered to tunnel.c before it is final, so a
 * VXLAN, Geneve or GTP-U payload goes round again.  Depth is bounded by
 * tunnel.c (DECODE_MAX_TUNNEL layers): every round past the first IP
 * header records one.
 */
#include "decode/decode_int.h"

#include <netinet/in.h>
#include <stddef.h>
#include <string.h>

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

enum decode_result decode_packet(int dlt, const uint8_t *data, size_t caplen,
                                 size_t wirelen, struct pkt *out, struct stats *st)
{
    memset(out, 0, offsetof(struct pkt, payload));
    out->payload = NULL;
    out->payload_len = 0;
    out->caplen = caplen;
    out->wirelen = wirelen;
    struct next nx;
    enum decode_result r = link_decode(dlt, data, caplen, out, &nx, st);
    return r == DECODE_NEXT ? run(out, &nx, st) : r;
}

enum decode_result decode_ip(struct pkt *p, const uint8_t *data, size_t len,
                             unsigned ethertype_or_ver, struct stats *st)
{
    struct next nx;
    decode_next(&nx, LAYER_IP, data, len, ethertype_or_ver);
    return run(p, &nx, st);
}
