/*
 * fuzz_pcap.c - libFuzzer target: a whole capture file through the whole
 * pipeline (decode, flows, reassembly, TLS, fingerprints, JSON events).
 *
 * The input is handed to libpcap as a file in memory, so the file-format
 * readers of libpcap are exercised too.  Events are serialized and
 * discarded; the sanitizers are the oracle.
 *
 * A classic pcap input is also read by capture/pcapread.c (what several
 * workers use) from a memfd, in lockstep with libpcap: every packet must
 * be the same (time, lengths, bytes) and both must end alike (end of file
 * or error), or the target aborts.  Every packet the decoder accepts must
 * also go to the same worker whether its endpoints are read by the worker
 * choice's header fast path or by the decoder.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture/pcap.h"
#include "app/dispatch.h"
#include "capture/pcapread.h"
#include "decode/decode.h"
#include "config.h"
#include "output/emit.h"
#include "pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* pcapread against libpcap on the same bytes. */
static void differential(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz_pcap", 0);
    if (fd < 0)
        return;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return;
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    if (capture_file_format(path) != CAPTURE_FORMAT_PCAP) {
        close(fd);
        return;
    }
    char err[CAPTURE_ERRBUF];
    struct capture c;
    struct pcapread m;
    int a = capture_open_file(&c, path, NULL, err);
    int b = pcapread_open(&m, path, NULL, err);
    if ((a < 0) != (b < 0))
        abort();   /* one reader accepts what the other refuses */
    if (a == 0) {
        for (int n = 0; n < 10000; n++) {
            const struct pcap_pkthdr *h1;
            const uint8_t *d1, *d2;
            struct pcap_pkthdr h2;
            enum capture_next r1 = capture_next(&c, &h1, &d1, err);
            enum capture_next r2 = pcapread_next(&m, &h2, &d2, err);
            if (r1 != r2)
                abort();
            if (r1 != CAPTURE_PACKET)
                break;
            if (h1->ts.tv_sec != h2.ts.tv_sec || h1->ts.tv_usec != h2.ts.tv_usec ||
                h1->caplen != h2.caplen || h1->len != h2.len ||
                memcmp(d1, d2, h1->caplen) != 0)
                abort();
        }
        capture_close(&c);
        pcapread_close(&m);
    }
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    differential(data, size);
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
    static const struct eve_config ecfg = { .deterministic = true, .host = "fuzz" };
    struct emitter *em = pl ? emitter_new(NULL, 0, &ecfg, pipeline_stats(pl)) : NULL;
    if (pl && em) {
        pipeline_set_report(pl, emit_report, em);
        struct pcap_pkthdr *h;
        const u_char *d;
        int n = 0;
        while (n++ < 10000 && pcap_next_ex(p, &h, &d) == 1) {
            uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000ULL + (uint64_t)h->ts.tv_usec;
            pipeline_packet(pl, dlt, ts, d, h->caplen, h->len);
            /* The worker choice's header fast path agrees with the decoder
             * on every packet the decoder takes. */
            struct stats scratch;
            struct pkt pk;
            if (decode_packet(dlt, d, h->caplen, h->len, &pk, &scratch) == DECODE_OK &&
                dispatch_pick(dlt, d, h->caplen, h->len, 7, &scratch) !=
                    dispatch_pick_decoded(dlt, d, h->caplen, h->len, 7, &scratch))
                abort();
        }
        pipeline_flush(pl);
    }
    pipeline_free(pl);
    emitter_free(em);
    pcap_close(p);
    return 0;
}
