/*
 * pcapread.h - a classic pcap file read directly, for several workers
 * reading one file at once.
 *
 * With file input and several workers, each worker reads the same file
 * through its own buffer (large read(2)s, no stdio, no libpcap per
 * packet) and walks every record header itself, keeping the packets of
 * its own flows: no reader thread, no queue, no copy between threads.
 * (A shared mmap was measured slower: every first touch of a page is a
 * fault, and faults are dear under virtualisation.)  Only classic pcap files
 * (microsecond or nanosecond, either byte order) are read this way; the
 * link type is taken from libpcap and the BPF filter compiled by it, so
 * -f means the same on both paths.  Records are read as libpcap reads
 * them (sf-pcap.c): the time fields are signed, the length fields of
 * files before version 2.3 are swapped, a length above the file's
 * snapshot length is cut to it, a length above 262144 bytes or a record
 * past the end of the file ends the file with an error (counted as
 * pcap_truncated).  fuzz_pcap reads every input both ways and requires the
 * same packets.
 *
 * Memory: one buffer of PCAPREAD_BUFFER bytes per open file (a record is
 * at most 262144 bytes, so one always fits).
 */
#ifndef PINSCOPE_PCAPREAD_H
#define PINSCOPE_PCAPREAD_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/pcap.h"

#define PCAPREAD_BUFFER (1u << 20)

struct pcapread {
    const char *name;
    int fd;
    uint8_t *buf;
    size_t len, off;              /* bytes in buf, read position */
    bool eof;
    bool swap, nsec;
    enum { PCAPREAD_LENGTHS_NORMAL, PCAPREAD_LENGTHS_SWAPPED, PCAPREAD_LENGTHS_MAYBE_SWAPPED } lengths;
    int dlt;
    uint32_t snap;                /* records longer are cut to this */
    bool has_filter;
    struct bpf_program prog;
};

/* Open `path`.  0, or -1 with errbuf set (as capture_open_file would say). */
int pcapread_open(struct pcapread *m, const char *path, const char *filter,
                 char errbuf[CAPTURE_ERRBUF]);

/* The next record that passes the filter: CAPTURE_PACKET (h and *data
 * valid until the next call), CAPTURE_END, or CAPTURE_ERROR (errbuf). */
enum capture_next pcapread_next(struct pcapread *m, struct pcap_pkthdr *h, const uint8_t **data,
                               char errbuf[CAPTURE_ERRBUF]);

void pcapread_close(struct pcapread *m);

#endif
