/*
 * main.c - command line -> options -> dispatch.
 *
 *   pinscope [options] -r FILE|DIR ...     analyse captures   (app/run.c)
 *   pinscope [options] -i IFACE            live sensor        (app/run.c)
 *   pinscope learn [options] -r ... -o P   learn a policy     (app/learn.c)
 *   pinscope report [options] -r ...|EVENTS   verdicts, HTML   (app/report.c)
 *   pinscope spki FILE...                  SPKI pins          (app/spki.c)
 *   pinscope policy import FILE...         app pins -> policy (app/policy_import.c)
 *   pinscope policy audit -r ... --policy P   pin health       (app/audit.c)
 *
 * Exit status: 0 on success (including a truncated capture file, which is
 * read as far as it goes and warned about, and a stop by SIGTERM/SIGINT),
 * 1 when an input cannot be opened or read or output fails, 2 on a usage
 * error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/learn.h"
#include "app/options.h"
#include "app/policy_cmd.h"
#include "app/report.h"
#include "app/run.h"
#include "app/spki.h"
#include "config.h"
#include "report/render.h"
#include "util/log.h"
#include "util/version.h"

static void usage(FILE *fp, bool learn, bool report, bool audit)
{
    if (audit)
        fprintf(fp, "usage: pinscope policy audit [options] -r FILE|DIR [-r ...] --policy FILE\n"
                    "\n"
                    "Check the captures' chains against the policy's pin sets: which pin each\n"
                    "chain matched, whether a backup pin outside the chains exists (RFC 7469\n"
                    "4.3), pinned keys whose certificates expire within --days, pin sets\n"
                    "past or near their expiry, pins that matched nothing, server names\n"
                    "without a pin set.  Takes the analysis options below; one worker.\n"
                    "  --days N           \"expires soon\" horizon in days (default %d)\n"
                    "  --format text|json the report on stdout (default text)\n\n",
                CFG_AUDIT_DAYS);
    else if (report)
        fprintf(fp, "usage: pinscope report [options] -r FILE|DIR [-r ...]\n"
                    "       pinscope report [options] EVENTS.json ...  ('-': stdin)\n"
                    "\n"
                    "One verdict per server (intercepted, suspicious, refused, clean,\n"
                    "unknown) with the evidence that decided it, the clients, and tables of\n"
                    "versions, fingerprints, issuers and certificates, from captures (analysed\n"
                    "with the options below) or from EVE/ECS events that pinscope wrote.\n"
                    "  --format text|markdown|json  the summary on stdout (default text)\n"
                    "  --html FILE        also write one self-contained HTML page\n"
                    "  --rows N           rows per table at most (default %d)\n"
                    "  -o SPEC            also write the events of the captures there\n\n",
                CFG_REPORT_ROWS);
    else if (learn)
        fprintf(fp, "usage: pinscope learn [options] -r FILE|DIR [-r ...] -o POLICY.json\n"
                    "\n"
                    "Record the pins, issuers and client/server fingerprints of trusted\n"
                    "captures into POLICY.json (merged into it when it exists, or into\n"
                    "--policy FILE).  Takes the analysis options below; one worker.\n\n");
    else
        fprintf(fp, "usage: pinscope [options] -r FILE|DIR [-r ...]\n"
                    "       pinscope [options] -i IFACE [-f FILTER]\n"
                    "       pinscope learn [options] -r FILE|DIR ... -o POLICY.json\n"
                    "       pinscope report [options] -r FILE|DIR ... | EVENTS.json ...\n"
                    "       pinscope spki FILE...   print SPKI pins of certificates or keys\n"
                    "       pinscope policy import|audit ...   app pins into a policy, pin\n"
                    "                     health of captures (pinscope policy --help)\n"
                    "\n");
    fprintf(fp,
            "  -r FILE|DIR        read a pcap or pcapng file ('-' for stdin), or a\n"
            "                     directory's capture files in name order as one stream;\n"
            "                     repeatable\n"
            "  -i IFACE           capture live on IFACE\n"
            "  -f FILTER          BPF filter (live or file)\n"
            "  -o SPEC            where events go (default: stdout); repeatable:\n"
            "                     PATH or file:PATH, unix-dgram:PATH, unix-stream:PATH,\n"
            "                     syslog:FACILITY[:SOCKET], redis://HOST:PORT/list/KEY,\n"
            "                     redis://HOST:PORT/stream/KEY; for learn: the policy\n"
            "  --policy FILE      pins, expected issuers, client/server baselines (JSON)\n"
            "  --keylog FILE      TLS session secrets (NSS SSLKEYLOGFILE format); repeatable\n"
            "  --ca-bundle FILE   trust store for chain validation (default: the system's)\n"
            "  --ca-path DIR      hashed CA directory for chain validation\n"
            "  --dump-certs DIR   write each distinct certificate seen as DIR/<sha256>.pem\n"
            "  --dump-certs-max N, --dump-certs-max-bytes BYTES\n"
            "                     stop writing certificates after N files (default 100000)\n"
            "                     or BYTES (default 1G; k/M/G) in this run; counted\n"
            "  --signatures DIR   interception signatures (default: beside the binary,\n"
            "                     then the installed data directory, then ./signatures)\n"
            "  --progress, --no-progress  -r: a progress line on stderr (default: when\n"
            "                     stderr is a terminal)\n"
            "  --stats            write a final JSON stats event\n"
            "  --stats-interval SEC  write a stats event every SEC seconds\n"
            "  --deterministic    reproducible output (no wall-clock values, no host\n"
            "                     name unless --sensor-name, pcap_filename without its\n"
            "                     directory)\n"
            "  --sensor-name NAME events' \"host\" (default: this machine's host name)\n"
            "  --community-id-seed N  Community ID seed, 0 to 65535 (default 0)\n"
            "  --on-output-error exit|drop  when every output fails: stop with exit\n"
            "                     status 1 (default), or keep analysing and count the loss\n"
            "  --format eve|ecs   event format: Suricata EVE (default) or Elastic Common\n"
            "                     Schema documents\n"
            "  --geoip-db FILE[,FILE]  MaxMind DB (City or Country level) for src_geoip and\n"
            "                     dest_geoip: country, region, city, location\n"
            "  --asn-db FILE[,FILE]  MaxMind DB of autonomous systems (number, organisation)\n"
            "  --max-flows N      flows tracked at once, all workers (default %d)\n"
            "  --memcap BYTES     memory for reassembly and TLS state, all workers\n"
            "                     (default %u; suffix k, M or G)\n"
            "  --depth BYTES      stream bytes examined per direction (default %d)\n"
            "  --workers N|auto   analysis threads (default 1; auto: one per CPU)\n"
            "  --fanout MODE      live, several workers: hash (default, flow-symmetric),\n"
            "                     cpu or lb\n"
            "  --buffer-size MIB  live: kernel ring per worker (default %u)\n"
            "  --queue-size BYTES per-output queue (default %u; suffix k, M or G)\n"
            "  -Z, --user USER    drop to USER once captures and outputs are open\n"
            "  --group GROUP      with --user: this group instead of USER's own\n"
            "  --pidfile FILE     write the process id to FILE\n"
            "  -v, --verbose      debug messages on stderr\n"
            "  -h, --help         this text\n"
            "  -V, --version      print the version and the libraries' versions\n"
            "\n"
            "Signals: SIGHUP reopens file outputs and reloads --policy, --signatures\n"
            "and the trust store; SIGTERM/SIGINT report open connections and exit;\n"
            "SIGUSR1 writes a stats event.\n",
            CFG_FLOW_MAX, CFG_REASM_MEMCAP, CFG_REASM_DEPTH,
            (unsigned)(CFG_PCAP_BUFFER_BYTES >> 20), (unsigned)CFG_SINK_QUEUE_BYTES);
}

/* A number with an optional k/M/G suffix (powers of 1024), within
 * [min, max] after scaling. */
static bool parse_size(const char *s, size_t min, size_t max, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *s == '-')
        return false;
    unsigned long long mul = 1;
    switch (*end) {
    case 'k': case 'K': mul = 1ULL << 10; end++; break;
    case 'm': case 'M': mul = 1ULL << 20; end++; break;
    case 'g': case 'G': mul = 1ULL << 30; end++; break;
    default: break;
    }
    if (*end || v > max / mul)
        return false;
    v *= mul;
    if (v < min || v > max)
        return false;
    *out = (size_t)v;
    return true;
}

enum {
    OPT_STATS = 256, OPT_DET, OPT_MAXFLOWS, OPT_MEMCAP, OPT_DEPTH, OPT_KEYLOG, OPT_CABUNDLE,
    OPT_CAPATH, OPT_DUMPCERTS, OPT_SIGS, OPT_POLICY, OPT_STATS_INTERVAL, OPT_WORKERS,
    OPT_FANOUT, OPT_BUFSIZE, OPT_QUEUE, OPT_GROUP, OPT_PIDFILE, OPT_SENSOR, OPT_CIDSEED,
    OPT_GEOIP, OPT_ASN, OPT_FORMAT, OPT_ONERR, OPT_DUMPMAX, OPT_DUMPMAXB, OPT_HTML, OPT_ROWS,
    OPT_PROGRESS, OPT_NOPROGRESS, OPT_DAYS,
};

static const struct option longopts[] = {
    { "read", required_argument, NULL, 'r' },
    { "interface", required_argument, NULL, 'i' },
    { "filter", required_argument, NULL, 'f' },
    { "output", required_argument, NULL, 'o' },
    { "stats", no_argument, NULL, OPT_STATS },
    { "stats-interval", required_argument, NULL, OPT_STATS_INTERVAL },
    { "keylog", required_argument, NULL, OPT_KEYLOG },
    { "ca-bundle", required_argument, NULL, OPT_CABUNDLE },
    { "ca-path", required_argument, NULL, OPT_CAPATH },
    { "dump-certs", required_argument, NULL, OPT_DUMPCERTS },
    { "dump-certs-max", required_argument, NULL, OPT_DUMPMAX },
    { "dump-certs-max-bytes", required_argument, NULL, OPT_DUMPMAXB },
    { "signatures", required_argument, NULL, OPT_SIGS },
    { "policy", required_argument, NULL, OPT_POLICY },
    { "deterministic", no_argument, NULL, OPT_DET },
    { "max-flows", required_argument, NULL, OPT_MAXFLOWS },
    { "memcap", required_argument, NULL, OPT_MEMCAP },
    { "depth", required_argument, NULL, OPT_DEPTH },
    { "workers", required_argument, NULL, OPT_WORKERS },
    { "fanout", required_argument, NULL, OPT_FANOUT },
    { "buffer-size", required_argument, NULL, OPT_BUFSIZE },
    { "queue-size", required_argument, NULL, OPT_QUEUE },
    { "user", required_argument, NULL, 'Z' },
    { "group", required_argument, NULL, OPT_GROUP },
    { "pidfile", required_argument, NULL, OPT_PIDFILE },
    { "sensor-name", required_argument, NULL, OPT_SENSOR },
    { "community-id-seed", required_argument, NULL, OPT_CIDSEED },
    { "geoip-db", required_argument, NULL, OPT_GEOIP },
    { "asn-db", required_argument, NULL, OPT_ASN },
    { "format", required_argument, NULL, OPT_FORMAT },
    { "on-output-error", required_argument, NULL, OPT_ONERR },
    { "html", required_argument, NULL, OPT_HTML },
    { "rows", required_argument, NULL, OPT_ROWS },
    { "progress", no_argument, NULL, OPT_PROGRESS },
    { "no-progress", no_argument, NULL, OPT_NOPROGRESS },
    { "days", required_argument, NULL, OPT_DAYS },
    { "verbose", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};

/* Fill `o` from argv.  Returns -1 to go on, else the exit status. */
static int parse(int argc, char **argv, struct options *o)
{
    int opt;
    size_t v;
    while ((opt = getopt_long(argc, argv, "r:i:f:o:Z:vhV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'r':
            if (o->n_inputs == OPT_MAX_INPUTS) {
                log_error("too many -r inputs (max %d)", OPT_MAX_INPUTS);
                return 2;
            }
            o->inputs[o->n_inputs++] = optarg;
            break;
        case 'i': o->iface = optarg; break;
        case 'f': o->filter = optarg; break;
        case 'o':
            if (o->n_outputs == OPT_MAX_OUTPUTS) {
                log_error("too many -o outputs (max %d)", OPT_MAX_OUTPUTS);
                return 2;
            }
            o->outputs[o->n_outputs++] = optarg;
            break;
        case OPT_STATS: o->want_stats = true; break;
        case OPT_STATS_INTERVAL:
            if (!parse_size(optarg, 1, 86400, &v)) {
                log_error("--stats-interval: expected seconds from 1 to 86400");
                return 2;
            }
            o->stats_interval = (unsigned)v;
            break;
        case OPT_CABUNDLE: o->xcfg.ca_bundle = optarg; break;
        case OPT_CAPATH: o->xcfg.ca_path = optarg; break;
        case OPT_DUMPCERTS: o->dump_dir = optarg; break;
        case OPT_DUMPMAX:
            if (!parse_size(optarg, 1, (size_t)1 << 32, &v)) {
                log_error("--dump-certs-max: expected a number of files, at least 1");
                return 2;
            }
            o->dump_max_files = v;
            break;
        case OPT_DUMPMAXB:
            if (!parse_size(optarg, 1024, (size_t)1 << 44, &v)) {
                log_error("--dump-certs-max-bytes: expected bytes (suffix k/M/G allowed), at "
                          "least 1k");
                return 2;
            }
            o->dump_max_bytes = v;
            break;
        case OPT_SIGS: o->sigdir = optarg; break;
        case OPT_POLICY: o->policy_path = optarg; break;
        case OPT_KEYLOG:
            if (o->n_keylogs == OPT_MAX_INPUTS) {
                log_error("too many --keylog files (max %d)", OPT_MAX_INPUTS);
                return 2;
            }
            o->keylogs[o->n_keylogs++] = optarg;
            break;
        case OPT_DET: o->deterministic = true; break;
        case OPT_MAXFLOWS:
            if (!parse_size(optarg, 16, 1u << 26, &v)) {
                log_error("--max-flows: expected a number from 16 to %u", 1u << 26);
                return 2;
            }
            o->max_flows = v;
            break;
        case OPT_MEMCAP:
            if (!parse_size(optarg, 1u << 20, (size_t)1 << 40, &v)) {
                log_error("--memcap: expected bytes (suffix k/M/G allowed), at least 1M");
                return 2;
            }
            o->memcap = v;
            break;
        case OPT_DEPTH:
            if (!parse_size(optarg, 1024, 1u << 30, &v)) {
                log_error("--depth: expected bytes from 1024 to 1G (suffix k/M/G allowed)");
                return 2;
            }
            o->depth = (unsigned)v;
            break;
        case OPT_WORKERS:
            if (strcmp(optarg, "auto") == 0) {
                o->workers = 0;
            } else if (parse_size(optarg, 1, CFG_WORKERS_MAX, &v)) {
                o->workers = (int)v;
            } else {
                log_error("--workers: expected 'auto' or a number from 1 to %d", CFG_WORKERS_MAX);
                return 2;
            }
            break;
        case OPT_FANOUT:
            if (strcmp(optarg, "hash") == 0)
                o->fanout = CAPTURE_FANOUT_HASH;
            else if (strcmp(optarg, "cpu") == 0)
                o->fanout = CAPTURE_FANOUT_CPU;
            else if (strcmp(optarg, "lb") == 0)
                o->fanout = CAPTURE_FANOUT_LB;
            else {
                log_error("--fanout: expected hash, cpu or lb");
                return 2;
            }
            break;
        case OPT_BUFSIZE:
            if (!parse_size(optarg, 1, 2047, &v)) {
                log_error("--buffer-size: expected MiB from 1 to 2047");
                return 2;
            }
            o->buffer_bytes = v << 20;
            break;
        case OPT_QUEUE:
            if (!parse_size(optarg, 64u << 10, (size_t)4 << 30, &v)) {
                log_error("--queue-size: expected bytes from 64k to 4G (suffix k/M/G allowed)");
                return 2;
            }
            o->queue_bytes = v;
            break;
        case 'Z': o->user = optarg; break;
        case OPT_GROUP: o->group = optarg; break;
        case OPT_PIDFILE: o->pidfile = optarg; break;
        case OPT_GEOIP: o->geoip_db = optarg; break;
        case OPT_ASN: o->asn_db = optarg; break;
        case OPT_ONERR:
            if (strcmp(optarg, "exit") == 0 || strcmp(optarg, "drop") == 0) {
                o->output_error_drop = strcmp(optarg, "drop") == 0;
            } else {
                log_error("--on-output-error: expected exit or drop");
                return 2;
            }
            break;
        case OPT_FORMAT:
            if (o->audit) {
                if (strcmp(optarg, "text") == 0 || strcmp(optarg, "json") == 0) {
                    o->report_format = strcmp(optarg, "json") == 0 ? REPORT_JSON : REPORT_TEXT;
                } else {
                    log_error("policy audit --format: expected text or json");
                    return 2;
                }
            } else if (o->report) {
                if (strcmp(optarg, "text") == 0) {
                    o->report_format = REPORT_TEXT;
                } else if (strcmp(optarg, "markdown") == 0) {
                    o->report_format = REPORT_MARKDOWN;
                } else if (strcmp(optarg, "json") == 0) {
                    o->report_format = REPORT_JSON;
                } else {
                    log_error("report --format: expected text, markdown or json");
                    return 2;
                }
            } else if (strcmp(optarg, "eve") == 0) {
                o->format_ecs = false;
            } else if (strcmp(optarg, "ecs") == 0) {
                o->format_ecs = true;
            } else {
                log_error("--format: expected eve or ecs");
                return 2;
            }
            break;
        case OPT_SENSOR:
            if (!*optarg || strlen(optarg) > 255) {
                log_error("--sensor-name: expected a name of 1 to 255 bytes");
                return 2;
            }
            o->sensor_name = optarg;
            break;
        case OPT_CIDSEED:
            if (optarg[strspn(optarg, "0123456789")] != '\0' ||
                !parse_size(optarg, 0, 65535, &v)) {
                log_error("--community-id-seed: expected a number from 0 to 65535");
                return 2;
            }
            o->community_id_seed = (unsigned)v;
            break;
        case OPT_HTML:
            if (!o->report) {
                log_error("--html is an option of `pinscope report`");
                return 2;
            }
            o->html_path = optarg;
            break;
        case OPT_ROWS:
            if (!o->report || !parse_size(optarg, 1, 10000000, &v)) {
                log_error("--rows: `pinscope report` option, a number from 1 to 10000000");
                return 2;
            }
            o->report_rows = v;
            break;
        case OPT_DAYS:
            if (!o->audit || optarg[strspn(optarg, "0123456789")] != '\0' ||
                !parse_size(optarg, 0, 36500, &v)) {
                log_error("--days: `pinscope policy audit` option, a number from 0 to 36500");
                return 2;
            }
            o->audit_days = (unsigned)v;
            break;
        case OPT_PROGRESS: o->progress = 1; break;
        case OPT_NOPROGRESS: o->progress = 0; break;
        case 'v': log_debug_enabled = true; break;
        case 'h': usage(stdout, o->learn, o->report, o->audit); return 0;
        case 'V': version_print(stdout, PINSCOPE_VERSION); return 0;
        default: usage(stderr, o->learn, o->report, o->audit); return 2;
        }
    }
    if (o->report) {
        for (; optind < argc; optind++) {
            if (o->n_event_files == OPT_MAX_INPUTS) {
                log_error("too many event files (max %d)", OPT_MAX_INPUTS);
                return 2;
            }
            o->event_files[o->n_event_files++] = argv[optind];
        }
        if (o->iface) {
            log_error("report reads captures (-r) or event files, not a live interface");
            return 2;
        }
        if (o->n_inputs == 0 && o->n_event_files == 0) {
            log_error("report needs -r FILE|DIR or event files");
            usage(stderr, false, true, false);
            return 2;
        }
        return -1;
    }
    if (optind < argc) {
        log_error("unexpected argument '%s'", argv[optind]);
        return 2;
    }
    if (o->group && !o->user) {
        log_error("--group needs --user");
        return 2;
    }
    if (o->audit && (o->n_inputs == 0 || o->iface || o->n_outputs || !o->policy_path)) {
        log_error("policy audit needs -r FILE|DIR inputs and --policy FILE (no -i, no -o)");
        usage(stderr, false, false, true);
        return 2;
    }
    if (o->learn && (o->n_outputs != 1 || o->iface)) {
        log_error("learn needs -r FILE inputs and one -o POLICY.json");
        return 2;
    }
    if ((o->n_inputs == 0) == (o->iface == NULL)) {
        log_error("give either -r FILE|DIR (one or more) or -i IFACE");
        usage(stderr, o->learn, o->report, o->audit);
        return 2;
    }
    return -1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "spki") == 0)
        return spki_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "policy") == 0) {
        if (argc > 2 && strcmp(argv[2], "import") == 0)
            return policy_import_main(argc - 2, argv + 2);
        bool help = argc > 2 && (strcmp(argv[2], "-h") == 0 || strcmp(argv[2], "--help") == 0);
        if (!(argc > 2 && strcmp(argv[2], "audit") == 0)) {
            if (!help)
                log_error("policy: expected import or audit");
            policy_usage(help ? stdout : stderr);
            return help ? 0 : 2;
        }
    }
    static struct options o;
    o.max_flows = CFG_FLOW_MAX;
    o.memcap = CFG_REASM_MEMCAP;
    o.dump_max_files = CFG_DUMP_MAX_FILES;
    o.dump_max_bytes = CFG_DUMP_MAX_BYTES;
    o.depth = CFG_REASM_DEPTH;
    o.workers = 1;
    o.fanout = CAPTURE_FANOUT_HASH;
    o.queue_bytes = CFG_SINK_QUEUE_BYTES;
    o.xcfg.cert_cache_max = CFG_X509_CERT_CACHE;
    o.xcfg.verify_cache_size = CFG_X509_VERIFY_CACHE;
    o.progress = -1;
    o.report_rows = CFG_REPORT_ROWS;
    if (argc > 1 && strcmp(argv[1], "learn") == 0) {
        o.learn = true;
        argc--;
        argv++;
    } else if (argc > 2 && strcmp(argv[1], "policy") == 0) {
        o.audit = true;
        o.audit_days = CFG_AUDIT_DAYS;
        argc -= 2;
        argv += 2;
    } else if (argc > 1 && strcmp(argv[1], "report") == 0) {
        o.report = true;
        argc--;
        argv++;
    }
    int rc = parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    return o.learn ? learn_run(&o) : o.report ? report_run(&o) : o.audit ? policy_audit_run(&o)
                                                                       : run_analyse(&o);
}
