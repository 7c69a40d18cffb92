/*
 * fuzz_pcap.c - libFuzzer target: a whole capture file through the whole
 * pipeline (decode, flows, reassembly, TLS, fingerprints, JSON events).
 *
 * The input is handed to libpcap as a file in memory, so the file-format
 * readers of libpcap are exercised too.  Events are serialized and
 * discarded; the sanitizers are the oracle.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "capture/pcap.h"
#include "config.h"
#include "output/emit.h"
#include "pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *in = fmemopen((void *)data, size, "rb");
    if (!in)
        return 0;
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_fopen_offline(in, err);   /* takes ownership of `in` */
    if (!p)
        return 0;
    int dlt = pcap_datalink(p);

    struct pipeline_config cfg = { .max_flows = 64, .memcap = 4u << 20, .depth = 65536 };
    struct pipeline *pl = pipeline_new(&cfg);
    /* Events are serialized (no sink): the serializers see every report. */
    struct emitter *em = pl ? emitter_new(NULL, 0, true, pipeline_stats(pl)) : NULL;
    if (pl && em) {
        pipeline_set_report(pl, emit_report, em);
        struct pcap_pkthdr *h;
        const u_char *d;
        int n = 0;
        while (n++ < 10000 && pcap_next_ex(p, &h, &d) == 1) {
            uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000ULL + (uint64_t)h->ts.tv_usec;
            pipeline_packet(pl, dlt, ts, d, h->caplen, h->len);
        }
        pipeline_flush(pl);
    }
    pipeline_free(pl);
    emitter_free(em);
    pcap_close(p);
    return 0;
}
