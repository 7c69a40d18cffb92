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
    CAPTURE_TIMEOUT = 0,   /* live: no packet within the read timeout */
    CAPTURE_END = -2,      /* end of file, or capture stopped */
    CAPTURE_ERROR = -1,    /* read error (e.g. truncated file); see errbuf */
};

/* Open a capture file ("-" reads stdin).  Returns 0 or -1 with errbuf set.
 * An unsupported link type is an error. */
int capture_open_file(struct capture *c, const char *path, const char *filter,
                      char errbuf[CAPTURE_ERRBUF]);

/* Open a live interface (needs privileges).  Returns 0 or -1 with errbuf. */
int capture_open_live(struct capture *c, const char *iface, const char *filter,
                      int snaplen, char errbuf[CAPTURE_ERRBUF]);

enum capture_next capture_next(struct capture *c, const struct pcap_pkthdr **hdr,
                               const uint8_t **data, char errbuf[CAPTURE_ERRBUF]);

/* Stop a blocking capture from a signal handler. */
void capture_break(struct capture *c);

/* Kernel/interface drop counters of a live capture (0 for files). */
void capture_drops(struct capture *c, uint64_t *drops, uint64_t *ifdrops);

void capture_close(struct capture *c);

#endif
