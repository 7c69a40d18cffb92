/*
 * main.c - command line, input loop, signals.
 *
 * pinscope reads capture files (-r, repeatable, '-' for stdin) or one live
 * interface (-i) and writes one JSON line per TLS connection.  Everything
 * between a packet and an event happens in pipeline.c.
 *
 * Exit status: 0 on success (including a truncated capture file, which is
 * read as far as it goes and warned about), 1 when an input cannot be
 * opened or read or output fails, 2 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture/pcap.h"
#include "config.h"
#include "output/event.h"
#include "pipeline.h"
#include "policy/detect.h"
#include "policy/policy.h"
#include "policy/sigdb.h"
#include "tls/keylog.h"
#include "tls/pcapng_dsb.h"
#include "util/log.h"
#include "x509/chain.h"
#include "x509/spki.h"

#define PINSCOPE_VERSION "0.1.0"
#ifndef PINSCOPE_DATADIR
#define PINSCOPE_DATADIR "/usr/local/share/pinscope"
#endif
#define MAX_INPUTS 256

static volatile sig_atomic_t stop_requested;
static struct capture *live_capture;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
    if (live_capture)
        capture_break(live_capture);
}

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: pinscope [options] -r FILE [-r FILE ...]\n"
            "       pinscope [options] -i IFACE [-f FILTER]\n"
            "       pinscope learn [options] -r FILE [-r FILE ...] -o POLICY.json\n"
            "       pinscope spki FILE...   print SPKI pins of certificates or public keys\n"
            "\n"
            "  -r FILE            read a pcap or pcapng file ('-' for stdin); repeatable\n"
            "  -i IFACE           capture live on IFACE\n"
            "  -f FILTER          BPF filter (live or file)\n"
            "  -o FILE            append events to FILE (default: stdout); for learn: the\n"
            "                     policy to write (an existing one is merged into)\n"
            "  --policy FILE      pins, expected issuers, client/server baselines (JSON)\n"
            "  --keylog FILE      TLS session secrets (NSS SSLKEYLOGFILE format); repeatable\n"
            "  --ca-bundle FILE   trust store for chain validation (default: the system's)\n"
            "  --ca-path DIR      hashed CA directory for chain validation\n"
            "  --dump-certs DIR   write each distinct certificate seen as DIR/<sha256>.pem\n"
            "  --signatures DIR   interception signatures (default: ./signatures, then\n"
            "                     " PINSCOPE_DATADIR "/signatures)\n"
            "  --stats            write a final JSON stats event\n"
            "  --deterministic    reproducible output (no wall-clock values)\n"
            "  --max-flows N      flows tracked at once (default %d)\n"
            "  --memcap BYTES     memory for reassembly and TLS state (default %u)\n"
            "  --depth BYTES      stream bytes examined per direction (default %d)\n"
            "  -v, --verbose      debug messages on stderr\n"
            "  -h, --help         this text\n"
            "  -V, --version      print the version\n",
            CFG_FLOW_MAX, CFG_REASM_MEMCAP, CFG_REASM_DEPTH);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

static bool parse_size(const char *s, size_t min, size_t max, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || v < min || v > max)
        return false;
    if (*end == 'k' || *end == 'K')
        v *= 1024, end++;
    else if (*end == 'm' || *end == 'M')
        v *= 1024 * 1024, end++;
    if (*end || v < min || v > max)
        return false;
    *out = (size_t)v;
    return true;
}

/* Read one source to its end.  Returns 0, or -1 on a read error that is
 * not a truncation. */
static int run_capture(struct capture *cap, struct pipeline *pl)
{
    char err[CAPTURE_ERRBUF];
    for (;;) {
        const struct pcap_pkthdr *h;
        const uint8_t *d;
        enum capture_next r = capture_next(cap, &h, &d, err);
        if (r == CAPTURE_PACKET) {
            uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000ULL + (uint64_t)h->ts.tv_usec;
            pipeline_packet(pl, cap->dlt, ts, d, h->caplen, h->len);
            if (cap->live && stop_requested)
                return 0;
            continue;
        }
        if (r == CAPTURE_TIMEOUT) {
            if (stop_requested)
                return 0;
            pipeline_tick(pl, wall_us());
            continue;
        }
        if (r == CAPTURE_END)
            return 0;
        /* CAPTURE_ERROR */
        if (!cap->live) {
            stats_anomaly(pipeline_stats(pl), STATS_PCAP_TRUNCATED);
            log_warn("%s (read what was readable)", err);
            return 0;
        }
        log_error("%s", err);
        return -1;
    }
}

/* `pinscope spki FILE...`: one "<pin>  <file>" line per file. */
static int cmd_spki(int argc, char **argv)
{
    if (argc < 3) {
        log_error("usage: pinscope spki FILE...");
        return 2;
    }
    int status = 0;
    for (int i = 2; i < argc; i++) {
        char pin[X509_SPKI_PIN_LEN + 1], err[512];
        if (x509_spki_pin_file(argv[i], pin, err, sizeof(err)) < 0) {
            log_error("%s", err);
            status = 1;
            continue;
        }
        printf("%s  %s\n", pin, argv[i]);
    }
    return status;
}

/* Write `pol` to `path` through a temporary file renamed into place. */
static int write_policy(const struct policy *pol, const char *path)
{
    char tmp[4096], err[512];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        log_error("cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    int rc = policy_write(pol, f, err, sizeof(err));
    if (fclose(f) != 0 || rc < 0) {
        log_error("writing %s failed%s%s", tmp, rc < 0 ? ": " : "", rc < 0 ? err : "");
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) < 0) {
        log_error("cannot rename %s to %s: %s", tmp, path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "spki") == 0)
        return cmd_spki(argc, argv);
    bool learn = argc > 1 && strcmp(argv[1], "learn") == 0;
    if (learn) {
        argc--;
        argv++;
    }

    const char *inputs[MAX_INPUTS];
    int n_inputs = 0;
    const char *iface = NULL, *filter = NULL, *outpath = NULL;
    bool want_stats = false, deterministic = false;
    struct pipeline_config cfg = {
        .max_flows = CFG_FLOW_MAX,
        .memcap = CFG_REASM_MEMCAP,
        .depth = CFG_REASM_DEPTH,
    };

    enum { OPT_STATS = 256, OPT_DET, OPT_MAXFLOWS, OPT_MEMCAP, OPT_DEPTH, OPT_KEYLOG,
           OPT_CABUNDLE, OPT_CAPATH, OPT_DUMPCERTS, OPT_SIGS, OPT_POLICY };
    const char *sigdir = NULL, *policy_path = NULL;
    struct x509_ctx_config xcfg = {
        .cert_cache_max = CFG_X509_CERT_CACHE,
        .verify_cache_size = CFG_X509_VERIFY_CACHE,
    };
    const char *keylogs[MAX_INPUTS];
    int n_keylogs = 0;
    static const struct option longopts[] = {
        { "read", required_argument, NULL, 'r' },
        { "interface", required_argument, NULL, 'i' },
        { "filter", required_argument, NULL, 'f' },
        { "output", required_argument, NULL, 'o' },
        { "stats", no_argument, NULL, OPT_STATS },
        { "keylog", required_argument, NULL, OPT_KEYLOG },
        { "ca-bundle", required_argument, NULL, OPT_CABUNDLE },
        { "ca-path", required_argument, NULL, OPT_CAPATH },
        { "dump-certs", required_argument, NULL, OPT_DUMPCERTS },
        { "signatures", required_argument, NULL, OPT_SIGS },
        { "policy", required_argument, NULL, OPT_POLICY },
        { "deterministic", no_argument, NULL, OPT_DET },
        { "max-flows", required_argument, NULL, OPT_MAXFLOWS },
        { "memcap", required_argument, NULL, OPT_MEMCAP },
        { "depth", required_argument, NULL, OPT_DEPTH },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    int opt;
    size_t v;
    while ((opt = getopt_long(argc, argv, "r:i:f:o:vhV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'r':
            if (n_inputs == MAX_INPUTS) {
                log_error("too many -r inputs (max %d)", MAX_INPUTS);
                return 2;
            }
            inputs[n_inputs++] = optarg;
            break;
        case 'i': iface = optarg; break;
        case 'f': filter = optarg; break;
        case 'o': outpath = optarg; break;
        case OPT_STATS: want_stats = true; break;
        case OPT_CABUNDLE: xcfg.ca_bundle = optarg; break;
        case OPT_CAPATH: xcfg.ca_path = optarg; break;
        case OPT_DUMPCERTS: xcfg.dump_dir = optarg; break;
        case OPT_SIGS: sigdir = optarg; break;
        case OPT_POLICY: policy_path = optarg; break;
        case OPT_KEYLOG:
            if (n_keylogs == MAX_INPUTS) {
                log_error("too many --keylog files (max %d)", MAX_INPUTS);
                return 2;
            }
            keylogs[n_keylogs++] = optarg;
            break;
        case OPT_DET: deterministic = true; break;
        case OPT_MAXFLOWS:
            if (!parse_size(optarg, 16, 1u << 26, &v)) {
                log_error("--max-flows: expected a number from 16 to %u", 1u << 26);
                return 2;
            }
            cfg.max_flows = v;
            break;
        case OPT_MEMCAP:
            if (!parse_size(optarg, 1u << 20, (size_t)1 << 40, &v)) {
                log_error("--memcap: expected bytes (suffix k/M allowed), at least 1M");
                return 2;
            }
            cfg.memcap = v;
            break;
        case OPT_DEPTH:
            if (!parse_size(optarg, 1024, 1u << 30, &v)) {
                log_error("--depth: expected bytes from 1024 to 1G");
                return 2;
            }
            cfg.depth = (uint32_t)v;
            break;
        case 'v': log_debug_enabled = true; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("pinscope %s\n", PINSCOPE_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        log_error("unexpected argument '%s'", argv[optind]);
        return 2;
    }
    if (learn && (!outpath || iface)) {
        log_error("learn needs -r FILE inputs and -o POLICY.json");
        return 2;
    }
    if ((n_inputs == 0) == (iface == NULL)) {
        log_error("give either -r FILE (one or more) or -i IFACE");
        usage(stderr);
        return 2;
    }

    /* Open every source before writing anything, so a bad one fails fast. */
    static struct capture caps[MAX_INPUTS];
    char err[CAPTURE_ERRBUF];
    int n_caps = iface ? 1 : n_inputs;
    for (int i = 0; i < n_caps; i++) {
        int rc = iface ? capture_open_live(&caps[0], iface, filter, CFG_SNAPLEN, err)
                       : capture_open_file(&caps[i], inputs[i], filter, err);
        if (rc < 0) {
            log_error("%s", err);
            for (int k = 0; k < i; k++)
                capture_close(&caps[k]);
            return 1;
        }
    }

    /* From here on, failures release what was set up (status 1). */
    int status = 0;
    struct keylog *kl = NULL;
    struct x509_ctx *x509 = NULL;
    struct pipeline *pl = NULL;
    struct sigdb *sigs = NULL;
    struct detect *det = NULL;
    struct policy *pol = NULL, *learned = NULL;
    struct output out = { 0 };

    /* Session secrets: --keylog files first (the first value seen for a
     * connection wins), then Decryption Secrets Blocks of pcapng inputs. */
    kl = keylog_new(0);
    if (!kl) {
        log_error("out of memory");
        status = 1;
        goto done;
    }
    for (int i = 0; i < n_keylogs; i++) {
        char kerr[512] = "";
        if (keylog_load_file(kl, keylogs[i], kerr, sizeof(kerr)) < 0) {
            log_error("%s", kerr);
            status = 1;
            goto done;
        }
        if (kerr[0])
            log_warn("%s", kerr);
    }
    for (int i = 0; !iface && i < n_inputs; i++) {
        char kerr[512] = "";
        if (strcmp(inputs[i], "-") == 0)
            continue;   /* a pre-scan would consume the stream */
        pcapng_dsb_scan(inputs[i], kl, kerr, sizeof(kerr));
        if (kerr[0])
            log_warn("%s", kerr);
    }
    if (keylog_size(kl) > 0) {
        char sum[256];
        LOG_DEBUG("key log: %s", keylog_summary(kl, sum, sizeof(sum)));
    }
    cfg.keylog = kl;

    char xerr[512];
    x509 = x509_ctx_new(&xcfg, xerr, sizeof(xerr));
    if (!x509) {
        log_error("%s", xerr);
        status = 1;
        goto done;
    }
    cfg.x509 = x509;

    /* Signatures: the directory given, else the first default that exists. */
    if (!sigdir) {
        struct stat sb;
        if (stat("signatures/" SIGDB_ISSUERS_FILE, &sb) == 0)
            sigdir = "signatures";
        else if (stat(PINSCOPE_DATADIR "/signatures/" SIGDB_ISSUERS_FILE, &sb) == 0)
            sigdir = PINSCOPE_DATADIR "/signatures";
        else
            log_warn("no signatures found (./signatures, " PINSCOPE_DATADIR
                     "/signatures): known interception products will not be named");
    }
    if (sigdir) {
        char serr[512];
        sigs = sigdb_load(sigdir, serr, sizeof(serr));
        if (!sigs) {
            log_error("%s", serr);
            status = 1;
            goto done;
        }
    }
    if (policy_path) {
        char perr[512];
        pol = policy_load(policy_path, perr, sizeof(perr));
        if (!pol) {
            log_error("%s", perr);
            status = 1;
            goto done;
        }
    }
    if (learn) {
        learned = policy_new();
        if (!learned) {
            log_error("out of memory");
            status = 1;
            goto done;
        }
        cfg.learn = learned;
    }
    det = detect_new(pol, sigs);
    if (!det) {
        log_error("out of memory");
        status = 1;
        goto done;
    }
    cfg.detect = det;

    if (output_open(&out, learn ? "/dev/null" : outpath, iface != NULL, deterministic) < 0) {
        log_error("cannot open output %s: %s", outpath, strerror(errno));
        status = 1;
        goto done;
    }
    pl = pipeline_new(&cfg, &out);
    if (!pl) {
        log_error("out of memory");
        status = 1;
        goto done;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    double t0 = now_s();
    for (int i = 0; i < n_caps && !stop_requested; i++) {
        if (caps[i].live) {
            live_capture = &caps[i];
            log_info("listening on %s (%s)", caps[i].name,
                     pcap_datalink_val_to_name(caps[i].dlt) ? pcap_datalink_val_to_name(caps[i].dlt)
                                                           : "?");
        }
        if (run_capture(&caps[i], pl) < 0)
            status = 1;
        if (caps[i].live) {
            struct stats *st = pipeline_stats(pl);
            capture_drops(&caps[i], &st->pcap_drops, &st->pcap_ifdrops);
            live_capture = NULL;
        }
        pipeline_flush(pl);   /* each input ends its flows */
        capture_close(&caps[i]);
    }
    for (int i = 0; i < n_caps; i++)
        capture_close(&caps[i]);
    double elapsed = now_s() - t0;

    struct stats *st = pipeline_stats(pl);
    if (want_stats)
        event_write_stats(&out, st, pipeline_last_ts(pl), elapsed);
    event_print_summary(stderr, st, deterministic ? 0 : elapsed);
    pipeline_free(pl);   /* writes nothing more: flows were flushed per input */
    pl = NULL;
    if (learn) {
        /* Merge into the policy given, else into the one already at -o,
         * keeping every hand-written entry. */
        struct policy *base = pol;
        struct stat sb;
        if (!base && stat(outpath, &sb) == 0) {
            char perr[512];
            base = pol = policy_load(outpath, perr, sizeof(perr));
            if (!base) {
                log_error("%s (not overwritten)", perr);
                status = 1;
                goto done;
            }
        }
        struct policy_merge_stats ms = { 0 };
        if (base && policy_merge(base, learned, &ms) < 0) {
            log_error("merging the learned policy failed");
            status = 1;
            goto done;
        }
        if (write_policy(base ? base : learned, outpath) < 0) {
            status = 1;
            goto done;
        }
        struct policy_summary sum;
        policy_summary(base ? base : learned, &sum);
        log_info("policy %s: %zu pin-sets, %zu issuer sets, %zu client and %zu server baselines",
                 outpath, sum.pin_sets, sum.issuer_sets, sum.client_baselines, sum.server_baselines);
    }
    if (output_close(&out) < 0) {
        log_error("writing output failed");
        status = 1;
    }

done:
    pipeline_free(pl);
    output_close(&out);
    for (int i = 0; i < n_caps; i++)
        capture_close(&caps[i]);
    detect_free(det);
    policy_free(learned);
    policy_free(pol);
    sigdb_free(sigs);
    x509_ctx_free(x509);
    keylog_free(kl);
    return status;
}
