/*
 * pcap_loop.c - the throughput ceiling for reading a capture with libpcap.
 *
 *   pcap_loop [--flows] FILE.pcap
 *
 * Reads every packet with pcap_open_offline() and pcap_next_ex() and decodes
 * the headers any flow-level analyser must look at: Ethernet II with up to
 * two 802.1Q/802.1ad tags, IPv4 (options skipped by IHL) or IPv6 (fixed
 * header only, no extension-header walk), and TCP (ports, sequence and
 * acknowledgement numbers, flags, data offset).  Every read is bounds-checked
 * against the captured length, and header fields are folded into a checksum
 * that is printed, so the compiler cannot drop the work.  There is no flow
 * table, reassembly or payload inspection: a real analyser can only be
 * slower.  With --flows it also keeps a flow table, as every flow-level
 * analyser must: each TCP packet's addresses and ports, direction-free, are
 * looked up in an open-addressing hash table (2^18 slots, linear probing,
 * the key beside its hash) and its packet count bumped; that is the "read,
 * decode and flow table" ceiling `make bench` compares pinscope with.  One
 * summary line goes to stdout:
 *
 *   packets=N bytes=N tcp=N tcp_payload=N other=N elapsed_s=S mpps=X gbps=X sum=HEX
 *
 * where bytes is the sum of original (wire) lengths, and elapsed_s is
 * monotonic time from open to close.
 */
#define _DEFAULT_SOURCE             /* u_char & co. in pcap.h; clock_gettime */

#include <pcap/pcap.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct totals {
    uint64_t packets, bytes, tcp, tcp_payload, other, sum, flows, flows_full;
};

/* --flows: the table. */
#define FT_SLOTS (1u << 18)
struct fkey {
    uint8_t a[16], b[16];
    uint16_t pa, pb;
    uint8_t v;
};
struct fslot {
    uint64_t hash;       /* 0: empty */
    struct fkey k;
    uint64_t packets;
};
static struct fslot *ft;

static uint64_t fhash(const struct fkey *k)
{
    const uint8_t *p = (const uint8_t *)k;
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < sizeof *k; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    h ^= h >> 29;
    return h | 1;
}

static void flow_seen(struct totals *t, const uint8_t *src, const uint8_t *dst, size_t alen,
                      unsigned sport, unsigned dport)
{
    struct fkey k;
    memset(&k, 0, sizeof k);
    int c = memcmp(src, dst, alen);
    bool swap = c > 0 || (c == 0 && sport > dport);
    memcpy(k.a, swap ? dst : src, alen);
    memcpy(k.b, swap ? src : dst, alen);
    k.pa = (uint16_t)(swap ? dport : sport);
    k.pb = (uint16_t)(swap ? sport : dport);
    k.v = (uint8_t)alen;
    uint64_t h = fhash(&k);
    for (uint32_t i = (uint32_t)h & (FT_SLOTS - 1), n = 0; n < FT_SLOTS; n++, i = (i + 1) & (FT_SLOTS - 1)) {
        struct fslot *s = &ft[i];
        if (s->hash == h && memcmp(&s->k, &k, sizeof k) == 0) {
            s->packets++;
            return;
        }
        if (s->hash == 0) {
            if (t->flows >= FT_SLOTS / 4 * 3) {
                t->flows_full++;
                return;
            }
            s->hash = h;
            s->k = k;
            s->packets = 1;
            t->flows++;
            return;
        }
    }
}

static unsigned get16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void decode_tcp(struct totals *t, const uint8_t *p, size_t len, const uint8_t *src,
                       const uint8_t *dst, size_t alen)
{
    if (len < 20) {
        t->other++;
        return;
    }
    size_t doff = (size_t)(p[12] >> 4) * 4;
    if (doff < 20 || doff > len) {
        t->other++;
        return;
    }
    t->tcp++;
    t->tcp_payload += len - doff;
    t->sum += get16(p) ^ get16(p + 2);
    t->sum += get32(p + 4) ^ get32(p + 8);
    t->sum += p[13];
    if (ft)
        flow_seen(t, src, dst, alen, get16(p), get16(p + 2));
}

static void decode(struct totals *t, const uint8_t *p, size_t caplen)
{
    size_t off = 12;
    unsigned type;

    if (caplen < 14) {
        t->other++;
        return;
    }
    type = get16(p + off);
    off += 2;
    for (int tags = 0; tags < 2 && (type == 0x8100 || type == 0x88a8); tags++) {
        if (caplen < off + 4) {
            t->other++;
            return;
        }
        t->sum += get16(p + off) & 0x0fff;
        type = get16(p + off + 2);
        off += 4;
    }
    p += off;
    caplen -= off;

    if (type == 0x0800) {
        if (caplen < 20 || p[0] >> 4 != 4) {
            t->other++;
            return;
        }
        size_t ihl = (size_t)(p[0] & 0x0f) * 4;
        size_t total = get16(p + 2);
        if (ihl < 20 || total < ihl || ihl > caplen) {
            t->other++;
            return;
        }
        if (total > caplen)             /* truncated capture: clamp */
            total = caplen;
        t->sum += get32(p + 12) ^ get32(p + 16);
        if (p[9] == 6 && (get16(p + 6) & 0x1fff) == 0)
            decode_tcp(t, p + ihl, total - ihl, p + 12, p + 16, 4);
        else
            t->other++;
    } else if (type == 0x86dd) {
        if (caplen < 40 || p[0] >> 4 != 6) {
            t->other++;
            return;
        }
        size_t plen = get16(p + 4);
        if (plen > caplen - 40)
            plen = caplen - 40;
        for (int i = 8; i < 40; i += 4)
            t->sum += get32(p + i);
        if (p[6] == 6)
            decode_tcp(t, p + 40, plen, p + 8, p + 24, 16);
        else
            t->other++;
    } else {
        t->other++;
    }
}

int main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE];
    struct totals t = {0};
    struct pcap_pkthdr *h;
    const u_char *data;
    struct timespec t0, t1;
    int rc;

    const char *path = argv[1];
    if (argc == 3 && strcmp(argv[1], "--flows") == 0) {
        path = argv[2];
        ft = calloc(FT_SLOTS, sizeof *ft);
        if (!ft) {
            fprintf(stderr, "pcap_loop: out of memory\n");
            return 1;
        }
    } else if (argc != 2) {
        fprintf(stderr, "usage: pcap_loop [--flows] FILE.pcap\n");
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pcap_t *pc = pcap_open_offline(path, err);
    if (!pc) {
        fprintf(stderr, "pcap_loop: %s\n", err);
        return 1;
    }
    if (pcap_datalink(pc) != DLT_EN10MB) {
        fprintf(stderr, "pcap_loop: %s: not an Ethernet capture\n", path);
        pcap_close(pc);
        return 1;
    }
    while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
        t.packets++;
        t.bytes += h->len;
        decode(&t, data, h->caplen);
    }
    if (rc == PCAP_ERROR) {
        fprintf(stderr, "pcap_loop: %s\n", pcap_geterr(pc));
        pcap_close(pc);
        return 1;
    }
    pcap_close(pc);
    clock_gettime(CLOCK_MONOTONIC, &t1);

    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (s <= 0)
        s = 1e-9;
    printf("packets=%llu bytes=%llu tcp=%llu tcp_payload=%llu other=%llu flows=%llu "
           "elapsed_s=%.3f mpps=%.2f gbps=%.2f sum=%llx\n",
           (unsigned long long)t.packets, (unsigned long long)t.bytes,
           (unsigned long long)t.tcp, (unsigned long long)t.tcp_payload,
           (unsigned long long)t.other, (unsigned long long)t.flows, s,
           (double)t.packets / s / 1e6, (double)t.bytes * 8 / s / 1e9,
           (unsigned long long)t.sum);
    free(ft);
    return 0;
}
