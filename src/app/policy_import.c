/*
 * policy_import.c - `pinscope policy import` (see policy_cmd.h): app pin
 * files -> hand-written pin sets and expected issuers in a policy file.
 */
#include "app/policy_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/learn.h"
#include "config.h"
#include "pinimport/pinimport.h"
#include "policy/policy.h"
#include "util/log.h"

static void import_usage(FILE *fp)
{
    fprintf(fp,
            "usage: pinscope policy import [-o POLICY.json] [--policy FILE] [--format NAME]\n"
            "                              [--domain NAME] [--backup PIN]... FILE...\n"
            "\n"
            "Read the pins that apps ship and write them as pin sets (and CAA records as\n"
            "expected issuers) of a pinscope policy, added to --policy FILE, else to the\n"
            "policy already at -o; entries already in that policy are kept as they are.\n"
            "Formats, detected by content: android (network security config XML), okhttp\n"
            "(CertificatePinner), plist (iOS NSPinnedDomains, TrustKit), hpkp\n"
            "(Public-Key-Pins), curl (--pinnedpubkey sha256//), chromium (static pins JSON),\n"
            "chromium-pins (its .pins file of named hashes), dns (TLSA and CAA records).\n"
            "'-' reads stdin.\n"
            "  -o FILE            write the policy there (default: stdout)\n"
            "  --policy FILE      the policy to add to\n"
            "  --format NAME      read every FILE as this format\n"
            "  --domain NAME      the domain of HPKP headers and curl values that name none\n"
            "  --backup PIN       this pin is a backup pin wherever it appears (with\n"
            "                     --domain, also added to that domain's set); repeatable\n"
            "  -h, --help         this text\n");
}

static void warn_cb(void *ctx, const char *msg)
{
    (void)ctx;
    log_warn("%s", msg);
}

/* A whole file (or stdin) into a heap buffer of at most the import cap. */
static char *read_input(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        log_error("cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (f != stdin && fstat(fileno(f), &sb) == 0 && !S_ISREG(sb.st_mode)) {
        log_error("%s: not a regular file", path);
        fclose(f);
        return NULL;
    }
    size_t cap = CFG_PINIMPORT_FILE_MAX + 1, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        log_error("out of memory");
        if (f != stdin)
            fclose(f);
        return NULL;
    }
    size_t r;
    while (n < cap && (r = fread(buf + n, 1, cap - n, f)) > 0)
        n += r;
    bool bad = ferror(f);
    if (f != stdin)
        fclose(f);
    if (bad) {
        log_error("cannot read %s", path);
        free(buf);
        return NULL;
    }
    if (n > CFG_PINIMPORT_FILE_MAX) {
        log_error("%s: larger than %u bytes", path, CFG_PINIMPORT_FILE_MAX);
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

enum { IO_POLICY = 256, IO_FORMAT, IO_DOMAIN, IO_BACKUP };

int policy_import_main(int argc, char **argv)
{
    static const struct option lo[] = {
        {"output", required_argument, NULL, 'o'},   {"policy", required_argument, NULL, IO_POLICY},
        {"format", required_argument, NULL, IO_FORMAT}, {"domain", required_argument, NULL, IO_DOMAIN},
        {"backup", required_argument, NULL, IO_BACKUP}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL, *base_path = NULL, *domain = NULL;
    const char *backups[CFG_PINIMPORT_PINS_MAX];
    size_t n_backups = 0;
    enum pinimport_format fmt = PINIMPORT_AUTO;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
        switch (opt) {
        case 'o': out = optarg; break;
        case IO_POLICY: base_path = optarg; break;
        case IO_FORMAT:
            if ((fmt = pinimport_format_parse(optarg)) == PINIMPORT_AUTO) {
                log_error("--format: expected android, okhttp, plist, hpkp, curl, chromium, "
                          "chromium-pins or dns");
                return 2;
            }
            break;
        case IO_DOMAIN: {
            char d[POLICY_MAX_DOMAIN + 1];
            if (!policy_domain_norm(optarg, strlen(optarg), d)) {
                log_error("--domain: not a domain name");
                return 2;
            }
            domain = optarg;
            break;
        }
        case IO_BACKUP: {
            uint8_t pin[POLICY_SPKI_LEN];
            if (!policy_pin_parse(optarg, pin)) {
                log_error("--backup: not a base64 SHA-256 pin");
                return 2;
            }
            if (n_backups == CFG_PINIMPORT_PINS_MAX) {
                log_error("--backup: at most %d", CFG_PINIMPORT_PINS_MAX);
                return 2;
            }
            backups[n_backups++] = optarg;
            break;
        }
        case 'h': import_usage(stdout); return 0;
        default: import_usage(stderr); return 2;
        }
    }
    int nfiles = argc - optind;
    if (nfiles <= 0) {
        log_error("policy import needs at least one FILE");
        import_usage(stderr);
        return 2;
    }
    if (nfiles > CFG_PINIMPORT_FILES_MAX) {
        log_error("policy import: at most %d files", CFG_PINIMPORT_FILES_MAX);
        return 2;
    }
    int status = 1;
    struct policy *pol = NULL;
    struct pinimport *pi = pinimport_new(domain, warn_cb, NULL);
    char **bufs = calloc((size_t)nfiles, sizeof(*bufs));
    size_t *lens = calloc((size_t)nfiles, sizeof(*lens));
    enum pinimport_format *fmts = calloc((size_t)nfiles, sizeof(*fmts));
    if (!pi || !bufs || !lens || !fmts) {
        log_error("out of memory");
        goto done;
    }
    for (size_t i = 0; i < n_backups; i++)
        pinimport_backup(pi, backups[i]);
    for (int i = 0; i < nfiles; i++) {
        if (!(bufs[i] = read_input(argv[optind + i], &lens[i])))
            goto done;
        fmts[i] = fmt != PINIMPORT_AUTO ? fmt : pinimport_detect(bufs[i], lens[i]);
    }
    /* Chromium's named hashes before the JSON that uses them. */
    char err[512];
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < nfiles; i++) {
            if ((fmts[i] == PINIMPORT_CHROMIUM_PINS) != (pass == 0))
                continue;
            if (pinimport_buffer(pi, argv[optind + i], bufs[i], lens[i], fmts[i], err,
                                 sizeof(err)) < 0) {
                log_error("%s", err);
                goto done;
            }
        }
    struct stat sb;
    if (!base_path && out && stat(out, &sb) == 0)
        base_path = out;
    if (base_path) {
        if (!(pol = policy_load(base_path, err, sizeof(err)))) {
            log_error("%s%s", err, out ? " (not overwritten)" : "");
            goto done;
        }
    } else if (!(pol = policy_new())) {
        log_error("out of memory");
        goto done;
    }
    struct pinimport_stats st;
    if (pinimport_finish(pi, pol, &st, err, sizeof(err)) < 0) {
        log_error("%s", err);
        goto done;
    }
    if (out) {
        if (learn_write_policy(pol, out) < 0)
            goto done;
    } else if (policy_write(pol, stdout, err, sizeof(err)) < 0 || fflush(stdout) != 0) {
        log_error("writing the policy failed: %s", err);
        goto done;
    }
    log_info("policy import: %zu pin set%s and %zu issuer set%s added%s%s, %zu kept as they were",
             st.pin_sets, st.pin_sets == 1 ? "" : "s", st.issuer_sets,
             st.issuer_sets == 1 ? "" : "s", out ? " to " : "", out ? out : "", st.kept);
    status = 0;
done:
    if (bufs)
        for (int i = 0; i < nfiles; i++)
            free(bufs[i]);
    free(bufs);
    free(lens);
    free(fmts);
    pinimport_free(pi);
    policy_free(pol);
    return status;
}

void policy_usage(FILE *fp)
{
    fprintf(fp,
            "usage: pinscope policy import [-o POLICY.json] [--policy FILE] [--format NAME]\n"
            "                              [--domain NAME] [--backup PIN]... FILE...\n"
            "       pinscope policy audit [options] -r FILE|DIR [-r ...] --policy FILE\n"
            "                             [--days N] [--format text|json]\n"
            "\n"
            "import: the pins apps ship (Android network security config, OkHttp,\n"
            "        iOS NSPinnedDomains and TrustKit plists, HPKP headers, curl\n"
            "        --pinnedpubkey, Chromium static pins, DNS TLSA and CAA records) as\n"
            "        pin sets and expected issuers of a policy file\n"
            "audit:  the captures' chains against the policy's pin sets: matched pins,\n"
            "        backup pins, expiring pinned keys and pin sets, unused pins, names\n"
            "        without a pin set\n"
            "\n"
            "`pinscope policy import --help` and `pinscope policy audit --help` list the\n"
            "options of each.\n");
}
