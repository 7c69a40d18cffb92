/*
 * pcapread.c - classic pcap read directly (see pcapread.h).
 *
 *   file header (24 bytes): magic, version 2.4, thiszone, sigfigs,
 *                           snaplen, linktype
 *   record header (16 bytes): ts_sec, ts_usec (or ts_nsec), incl_len,
 *                             orig_len, then incl_len bytes
 */
#include "capture/pcapread.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>


#define PCAP_MAX_SNAP 262144u   /* libpcap's largest snapshot length */

enum { MAGIC_US = 0xa1b2c3d4, MAGIC_NS = 0xa1b23c4d };

static uint32_t u32(const uint8_t *p, bool swap)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
}

static bool magic_of(uint32_t raw, bool *swap, bool *nsec)
{
    if (raw == MAGIC_US || raw == MAGIC_NS) {
        *swap = false;
    } else if (__builtin_bswap32(raw) == MAGIC_US || __builtin_bswap32(raw) == MAGIC_NS) {
        *swap = true;
        raw = __builtin_bswap32(raw);
    } else {
        return false;
    }
    *nsec = raw == MAGIC_NS;
    return true;
}

/* At least `need` bytes from the read position in the buffer (fewer at
 * the end of the file).  Returns how many there are, -1 on a read error. */
static ssize_t fill(struct pcapread *m, size_t need, char errbuf[CAPTURE_ERRBUF])
{
    if (m->len - m->off >= need || m->eof)
        return (ssize_t)(m->len - m->off);
    memmove(m->buf, m->buf + m->off, m->len - m->off);
    m->len -= m->off;
    m->off = 0;
    while (m->len < need && !m->eof) {
        ssize_t n = read(m->fd, m->buf + m->len, PCAPREAD_BUFFER - m->len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            snprintf(errbuf, CAPTURE_ERRBUF, "%s: read error: %s", m->name, strerror(errno));
            return -1;
        }
        if (n == 0)
            m->eof = true;
        m->len += (size_t)n;
    }
    return (ssize_t)m->len;
}

int pcapread_open(struct pcapread *m, const char *path, const char *filter,
                 char errbuf[CAPTURE_ERRBUF])
{
    memset(m, 0, sizeof(*m));
    m->fd = -1;
    m->name = path;
    /* libpcap reads the header: link type, snapshot length, filter. */
    struct capture c;
    if (capture_open_file(&c, path, NULL, errbuf) < 0)
        return -1;
    m->dlt = c.dlt;
    int snap = pcap_snapshot(c.p);
    m->snap = snap > 0 && (unsigned)snap <= PCAP_MAX_SNAP ? (uint32_t)snap : PCAP_MAX_SNAP;
    if (filter && *filter) {
        if (pcap_compile(c.p, &m->prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
            snprintf(errbuf, CAPTURE_ERRBUF, "bad filter '%s': %s", filter, pcap_geterr(c.p));
            capture_close(&c);
            return -1;
        }
        m->has_filter = true;
    }
    capture_close(&c);

    m->fd = open(path, O_RDONLY | O_CLOEXEC);
    m->buf = malloc(PCAPREAD_BUFFER);
    if (m->fd < 0 || !m->buf) {
        snprintf(errbuf, CAPTURE_ERRBUF, "cannot read %s: %s", path,
                 m->fd < 0 ? strerror(errno) : "out of memory");
        pcapread_close(m);
        return -1;
    }
    posix_fadvise(m->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    if (fill(m, 24, errbuf) < 24 || !magic_of(u32(m->buf, false), &m->swap, &m->nsec)) {
        snprintf(errbuf, CAPTURE_ERRBUF, "%s: not a classic pcap file", path);
        pcapread_close(m);
        return -1;
    }
    /* Before 2.3 (and in DG/UX's 543.0) caplen and len were written the
     * other way round; 2.3 files may be either (libpcap decides per
     * record). */
    uint16_t major = (uint16_t)(m->swap ? (m->buf[4] << 8 | m->buf[5]) : (m->buf[5] << 8 | m->buf[4]));
    uint16_t minor = (uint16_t)(m->swap ? (m->buf[6] << 8 | m->buf[7]) : (m->buf[7] << 8 | m->buf[6]));
    if ((major == 2 && minor < 3) || major == 543)
        m->lengths = PCAPREAD_LENGTHS_SWAPPED;
    else if (major == 2 && minor == 3)
        m->lengths = PCAPREAD_LENGTHS_MAYBE_SWAPPED;
    m->off = 24;
    return 0;
}

enum capture_next pcapread_next(struct pcapread *m, struct pcap_pkthdr *h, const uint8_t **data,
                                char errbuf[CAPTURE_ERRBUF])
{
    for (;;) {
        ssize_t have = fill(m, 16, errbuf);
        if (have < 0)
            return CAPTURE_ERROR;
        if (have == 0)
            return CAPTURE_END;
        if (have < 16) {
            snprintf(errbuf, CAPTURE_ERRBUF, "%s: truncated dump file; tried to read 16 header "
                     "bytes, only got %zd", m->name, have);
            m->off = m->len;
            return CAPTURE_TRUNCATED;
        }
        const uint8_t *r = m->buf + m->off;
        uint32_t sec = u32(r, m->swap), frac = u32(r + 4, m->swap);
        uint32_t incl = u32(r + 8, m->swap), orig = u32(r + 12, m->swap);
        if (m->lengths == PCAPREAD_LENGTHS_SWAPPED ||
            (m->lengths == PCAPREAD_LENGTHS_MAYBE_SWAPPED && incl > orig)) {
            uint32_t t = incl;
            incl = orig;
            orig = t;
        }
        if (incl > PCAP_MAX_SNAP) {
            snprintf(errbuf, CAPTURE_ERRBUF, "%s: invalid packet capture length %u, bigger than "
                     "maximum of %u", m->name, incl, PCAP_MAX_SNAP);
            return CAPTURE_ERROR;
        }
        have = fill(m, 16 + (size_t)incl, errbuf);
        if (have < 0)
            return CAPTURE_ERROR;
        if ((size_t)have < 16 + (size_t)incl) {
            snprintf(errbuf, CAPTURE_ERRBUF, "%s: truncated dump file; tried to read %u captured "
                     "bytes, only got %zd", m->name, incl, have - 16);
            m->off = m->len;
            return CAPTURE_TRUNCATED;
        }
        r = m->buf + m->off;   /* fill() may have moved it */
        m->off += 16 + (size_t)incl;
        /* As libpcap: both fields are signed 32-bit on disk. */
        h->ts.tv_sec = (time_t)(int32_t)sec;
        h->ts.tv_usec = (suseconds_t)(m->nsec ? (int32_t)frac / 1000 : (int32_t)frac);
        h->caplen = incl > m->snap ? m->snap : incl;
        h->len = orig;
        *data = r + 16;
        if (m->has_filter && !pcap_offline_filter(&m->prog, h, *data))
            continue;
        return CAPTURE_PACKET;
    }
}

void pcapread_close(struct pcapread *m)
{
    if (m->fd >= 0)
        close(m->fd);
    m->fd = -1;
    free(m->buf);
    m->buf = NULL;
    if (m->has_filter)
        pcap_freecode(&m->prog);
    m->has_filter = false;
}
