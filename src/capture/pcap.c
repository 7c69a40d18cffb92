/*
 * pcap.c - libpcap sources (see pcap.h).
 *
 * pcapng files are read by libpcap as well; only the first section's link
 * type is used (libpcap's own limit).
 */
#include "capture/pcap.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "decode/decode.h"

#define CAPTURE_FILE_BUFFER (1024 * 1024)   /* stdio buffer for capture files */

static int apply_filter(struct capture *c, const char *filter, char errbuf[CAPTURE_ERRBUF])
{
    if (!filter || !*filter)
        return 0;
    struct bpf_program prog;
    if (pcap_compile(c->p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
        snprintf(errbuf, CAPTURE_ERRBUF, "bad filter '%s': %s", filter, pcap_geterr(c->p));
        return -1;
    }
    int rc = pcap_setfilter(c->p, &prog);
    pcap_freecode(&prog);
    if (rc < 0) {
        snprintf(errbuf, CAPTURE_ERRBUF, "cannot set filter '%s': %s", filter,
                 pcap_geterr(c->p));
        return -1;
    }
    return 0;
}

static int check_linktype(struct capture *c, char errbuf[CAPTURE_ERRBUF])
{
    c->dlt = pcap_datalink(c->p);
    if (!decode_linktype_supported(c->dlt)) {
        const char *n = pcap_datalink_val_to_name(c->dlt);
        snprintf(errbuf, CAPTURE_ERRBUF, "%s: unsupported link type %d (%s)", c->name,
                 c->dlt, n ? n : "unknown");
        return -1;
    }
    return 0;
}

enum capture_format capture_file_format(const char *path)
{
    if (strcmp(path, "-") == 0)
        return CAPTURE_FORMAT_NONE;
    FILE *f = fopen(path, "rb");
    if (!f)
        return CAPTURE_FORMAT_NONE;
    uint8_t m[4];
    bool ok = fread(m, 1, 4, f) == 4;
    fclose(f);
    if (!ok)
        return CAPTURE_FORMAT_NONE;
    uint32_t be = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
    if (be == 0xa1b2c3d4 || be == 0xd4c3b2a1 || be == 0xa1b23c4d || be == 0x4d3cb2a1)
        return CAPTURE_FORMAT_PCAP;
    return be == 0x0a0d0d0a ? CAPTURE_FORMAT_PCAPNG : CAPTURE_FORMAT_NONE;
}

int capture_open_file(struct capture *c, const char *path, const char *filter,
                      char errbuf[CAPTURE_ERRBUF])
{
    char perr[PCAP_ERRBUF_SIZE] = "";
    memset(c, 0, sizeof(*c));
    bool is_stdin = strcmp(path, "-") == 0;
    c->name = is_stdin ? "stdin" : path;
    /* Open the stream ourselves to give it a large buffer: libpcap reads
     * each record with two fread() calls, and the default stdio buffer
     * (one page) turns that into a read() per few packets. */
    FILE *fp = is_stdin ? stdin : fopen(path, "rb");
    if (!fp) {
        snprintf(errbuf, CAPTURE_ERRBUF, "cannot read %s: %s", c->name, strerror(errno));
        return -1;
    }
    /* glibc ignores the size when setvbuf() is given no buffer: give one.
     * It must outlive the FILE, which pcap_close() closes. */
    c->iobuf = malloc(CAPTURE_FILE_BUFFER);
    if (c->iobuf)
        setvbuf(fp, c->iobuf, _IOFBF, CAPTURE_FILE_BUFFER);
    c->p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, perr);
    if (!c->p) {
        snprintf(errbuf, CAPTURE_ERRBUF, "cannot read %s: %s", c->name, perr);
        if (!is_stdin)
            fclose(fp);
        free(c->iobuf);
        c->iobuf = NULL;
        return -1;
    }
    if (check_linktype(c, errbuf) < 0 || apply_filter(c, filter, errbuf) < 0) {
        capture_close(c);
        return -1;
    }
    return 0;
}

int capture_open_live(struct capture *c, const char *iface, const char *filter,
                      int snaplen, const struct capture_live_opts *opts,
                      char errbuf[CAPTURE_ERRBUF])
{
    char perr[PCAP_ERRBUF_SIZE] = "";
    memset(c, 0, sizeof(*c));
    c->name = iface;
    c->live = true;
    c->p = pcap_create(iface, perr);
    if (!c->p) {
        snprintf(errbuf, CAPTURE_ERRBUF, "cannot open interface %s: %s", iface, perr);
        return -1;
    }
    pcap_set_snaplen(c->p, snaplen);
    pcap_set_promisc(c->p, 1);
    pcap_set_timeout(c->p, CFG_PCAP_TIMEOUT_MS);
    size_t ring = opts && opts->buffer_bytes ? opts->buffer_bytes : CFG_PCAP_BUFFER_BYTES;
    pcap_set_buffer_size(c->p, (int)ring);
    int rc = pcap_activate(c->p);
    if (rc < 0) {
        snprintf(errbuf, CAPTURE_ERRBUF, "cannot capture on %s: %s", iface,
                 rc == PCAP_ERROR ? pcap_geterr(c->p) : pcap_statustostr(rc));
        capture_close(c);
        return -1;
    }
    if (check_linktype(c, errbuf) < 0 || apply_filter(c, filter, errbuf) < 0) {
        capture_close(c);
        return -1;
    }
    /* Non-blocking: capture_next() says at once that no packet is ready
     * (the worker hands over its held events then) and capture_wait()
     * waits at most its timeout.  Blocking, libpcap on TPACKET_V3 waits
     * without a timeout while no packet arrives. */
    if (pcap_setnonblock(c->p, 1, perr) < 0) {
        snprintf(errbuf, CAPTURE_ERRBUF, "cannot capture on %s: %s", iface, perr);
        capture_close(c);
        return -1;
    }
    if (opts && opts->fanout != CAPTURE_FANOUT_NONE &&
        capture_join_fanout(c, opts->fanout, opts->fanout_group, errbuf) < 0) {
        capture_close(c);
        return -1;
    }
    return 0;
}

enum capture_next capture_next(struct capture *c, const struct pcap_pkthdr **hdr,
                               const uint8_t **data, char errbuf[CAPTURE_ERRBUF])
{
    struct pcap_pkthdr *h;
    const u_char *d;
    int rc = pcap_next_ex(c->p, &h, &d);
    if (rc == 1) {
        *hdr = h;
        *data = d;
        return CAPTURE_PACKET;
    }
    if (rc == 0)
        return CAPTURE_TIMEOUT;
    if (rc == PCAP_ERROR_BREAK)
        return CAPTURE_END;
    const char *why = pcap_geterr(c->p);
    snprintf(errbuf, CAPTURE_ERRBUF, "%s: %s", c->name, why);
    /* libpcap says "truncated dump file" / "truncated pcapng" when the
     * file ends inside a record; anything else is an error. */
    return strstr(why, "truncated") ? CAPTURE_TRUNCATED : CAPTURE_ERROR;
}

int capture_wait(struct capture *c, int timeout_ms)
{
    struct pollfd pfd = { .fd = pcap_get_selectable_fd(c->p), .events = POLLIN };
    if (pfd.fd < 0)
        return 1;
    int rc = poll(&pfd, 1, timeout_ms);
    if (rc < 0)
        return errno == EINTR ? 1 : -1;
    return rc > 0;
}

void capture_break(struct capture *c)
{
    if (c->p)
        pcap_breakloop(c->p);
}

void capture_drops(struct capture *c, uint64_t *received, uint64_t *drops, uint64_t *ifdrops)
{
    struct pcap_stat ps;
    *received = *drops = *ifdrops = 0;
    if (c->live && c->p && pcap_stats(c->p, &ps) == 0) {
        *received = ps.ps_recv;
        *drops = ps.ps_drop;
        *ifdrops = ps.ps_ifdrop;
    }
}

void capture_close(struct capture *c)
{
    if (c->p)
        pcap_close(c->p);
    c->p = NULL;
    free(c->iobuf);
    c->iobuf = NULL;
}
