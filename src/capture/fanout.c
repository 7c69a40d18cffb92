/*
 * fanout.c - several libpcap handles on one interface sharing its packets
 * (Linux AF_PACKET PACKET_FANOUT, packet(7)).
 *
 * Each worker opens its own handle (its own memory-mapped ring); after
 * activation the handle's socket joins one fanout group, and the kernel
 * gives every packet to exactly one member.  HASH is the only mode that
 * keeps both directions of a flow on one worker (the kernel's flow hash is
 * symmetric); with FANOUT_FLAG_DEFRAG, IP fragments are reassembled before
 * hashing so they land with their flow.  CPU and LB are offered as
 * Suricata does, for setups whose NIC already spreads flows by RSS.
 */
#include "capture/pcap.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#ifdef __linux__
#include <linux/if_packet.h>
#endif

int capture_join_fanout(struct capture *c, enum capture_fanout mode, uint16_t group,
                        char errbuf[CAPTURE_ERRBUF])
{
#if defined(__linux__) && defined(PACKET_FANOUT)
    int type;
    switch (mode) {
    case CAPTURE_FANOUT_HASH: type = PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG; break;
    case CAPTURE_FANOUT_CPU: type = PACKET_FANOUT_CPU; break;
    case CAPTURE_FANOUT_LB: type = PACKET_FANOUT_LB; break;
    default: return 0;
    }
    int fd = pcap_fileno(c->p);
    int arg = (int)group | type << 16;
    if (fd < 0 || setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) < 0) {
        snprintf(errbuf, CAPTURE_ERRBUF, "%s: cannot join fanout group %u: %s", c->name,
                 (unsigned)group, fd < 0 ? "no socket" : strerror(errno));
        return -1;
    }
    return 0;
#else
    snprintf(errbuf, CAPTURE_ERRBUF, "%s: packet fanout needs Linux AF_PACKET", c->name);
    return -1;
#endif
}
