/*
 * fuzz_pcap.c - libFuzzer target: a whole capture file through the whole
 * pipeline (decode, flows, reassembly, TLS, fingerprints, JSON output).
 *
 * The input is handed to libpcap as a file in memory, so the file-format
 * readers of libpcap are exercised too.  Events go to /dev/null; the
 * sanitizers are the oracle.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "capture/pcap.h"
#include "config.h"
#include "output/event.h"
#include "pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct output out;
    if (!out.fp) {
        out.fp = fopen("/dev/null", "w");
        if (!out.fp)
            return 0;
    }
    FILE *in = fmemopen((void *)data, size, "rb");
    if (!in)
        return 0;
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_fopen_offline(in, err);   /* takes ownership of `in` */
    if (!p)
        return 0;
    int dlt = pcap_datalink(p);

    struct pipeline_config cfg = { .max_flows = 64, .memcap = 4u << 20, .depth = 65536 };
    struct pipeline *pl = pipeline_new(&cfg, &out);
    if (pl) {
        struct pcap_pkthdr *h;
        const u_char *d;
        int n = 0;
        while (n++ < 10000 && pcap_next_ex(p, &h, &d) == 1) {
            uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000ULL + (uint64_t)h->ts.tv_usec;
            pipeline_packet(pl, dlt, ts, d, h->caplen, h->len);
        }
        pipeline_free(pl);
    }
    pcap_close(p);
    return 0;
}
