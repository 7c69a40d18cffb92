/*
 * spki.c - `pinscope spki` (see spki.h).
 */
#include "app/spki.h"

#include <stdio.h>
#include <string.h>

#include "util/log.h"
#include "x509/spki.h"

static void usage(FILE *fp)
{
    fprintf(fp, "usage: pinscope spki FILE...\n"
                "\n"
                "Print one line \"<pin>  <file>\" per file: the base64 SHA-256 of the\n"
                "SubjectPublicKeyInfo (the HPKP / Android / OkHttp pin) of a PEM or DER\n"
                "certificate, public key or private key.\n"
                "\n"
                "  -h, --help   this text\n");
}

int spki_main(int argc, char **argv)
{
    int first = 1;
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "--") == 0)
        first = 2;
    if (argc <= first) {
        usage(stderr);
        return 2;
    }
    int status = 0;
    for (int i = first; i < argc; i++) {
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
