/*
 * pcap.h - packet sources: capture files (pcap, pcapng, stdin) and live
 * interfaces, through libpcap.
 *
 * This module opens and configures a source and hands out packets; it
 * does not decode them.  Errors are returned as one-line messages in the
 * caller's buffer, ready to print.
 */
#ifndef PINSCOPE_CAPTURE_PCAP_H
#define PINSCOPE_CAPTURE_PCAP_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAPTURE_ERRBUF 512

struct capture {
    pcap_t *p;
    int dlt;
    bool live;
    const char *name;
    char *iobuf;       /* stdio buffer of a capture file */
};

enum capture_next {
    CAPTURE_PACKET = 1,    /* *hdr and *data are valid until the next call */
    CAPTURE_TIMEOUT = 0,   /* live: no packet ready now (capture_wait() waits) */
    CAPTURE_END = -2,      /* end of file, or capture stopped */
    CAPTURE_ERROR = -1,    /* read error or corrupt file; see errbuf */
    CAPTURE_TRUNCATED = -3,  /* the file ends inside a record: what came before is
                                good (a capture cut short); see errbuf */
};

/* What a capture file is, by its first four bytes (never reads stdin:
 * "-" is CAPTURE_FORMAT_NONE).  Classic pcap: microsecond or nanosecond,
 * either byte order. */
enum capture_format { CAPTURE_FORMAT_NONE = 0, CAPTURE_FORMAT_PCAP, CAPTURE_FORMAT_PCAPNG };
enum capture_format capture_file_format(const char *path);

/* Open a capture file ("-" reads stdin).  Returns 0 or -1 with errbuf set.
 * An unsupported link type is an error. */
int capture_open_file(struct capture *c, const char *path, const char *filter,
                      char errbuf[CAPTURE_ERRBUF]);

enum capture_fanout {
    CAPTURE_FANOUT_NONE = 0,
    CAPTURE_FANOUT_HASH,   /* flow-symmetric hash, with IP defragmentation */
    CAPTURE_FANOUT_CPU,    /* the CPU that received the packet */
    CAPTURE_FANOUT_LB,     /* round robin (not flow-preserving) */
};

struct capture_live_opts {
    size_t buffer_bytes;          /* kernel ring (0: CFG_PCAP_BUFFER_BYTES) */
    enum capture_fanout fanout;   /* join a PACKET_FANOUT group after activation */
    uint16_t fanout_group;        /* the same id for every handle of one run */
};

/* Open a live interface (needs privileges).  `opts` may be NULL.
 * Returns 0 or -1 with errbuf. */
int capture_open_live(struct capture *c, const char *iface, const char *filter,
                      int snaplen, const struct capture_live_opts *opts,
                      char errbuf[CAPTURE_ERRBUF]);

/* Join the AF_PACKET fanout group `group` (capture/fanout.c). */
int capture_join_fanout(struct capture *c, enum capture_fanout mode, uint16_t group,
                        char errbuf[CAPTURE_ERRBUF]);

enum capture_next capture_next(struct capture *c, const struct pcap_pkthdr **hdr,
                               const uint8_t **data, char errbuf[CAPTURE_ERRBUF]);

/* Live: wait until a packet may be ready, at most timeout_ms.  1: look
 * again (capture_next), 0: the time passed without one, -1: error.  A
 * live handle is non-blocking: capture_next() returns CAPTURE_TIMEOUT at
 * once when no packet is ready. */
int capture_wait(struct capture *c, int timeout_ms);

/* Stop a blocking capture from a signal handler. */
void capture_break(struct capture *c);

/* Kernel counters of a live capture (pcap_stats: received, dropped,
 * dropped by the interface; 0 for files). */
void capture_drops(struct capture *c, uint64_t *received, uint64_t *drops, uint64_t *ifdrops);

void capture_close(struct capture *c);

#endif
