/*
 * version.c - program and library versions (see version.h).
 *
 * Output, one line each:
 *   pinscope version 0.1.0
 *   libpcap version 1.10.3 (with TPACKET_V3)
 *   OpenSSL 3.0.17 1 Jul 2025
 *   cJSON version 1.7.15
 *   libmaxminddb version 1.7.1
 *   hiredis version 0.14.1 (build time)
 *   zlib version 1.2.13
 *   brotli version 1.0.9
 *   libpsl version 0.21.2 (Public Suffix List of 2023-02-09)
 */
#include "util/version.h"

#include <brotli/decode.h>
#include <cjson/cJSON.h>
#include <hiredis/hiredis.h>
#include <libpsl.h>
#include <maxminddb.h>
#include <openssl/crypto.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <time.h>
#include <zlib.h>

void version_print(FILE *fp, const char *pinscope_version)
{
    fprintf(fp, "pinscope version %s\n", pinscope_version);
    fprintf(fp, "%s\n", pcap_lib_version());
    fprintf(fp, "%s\n", OpenSSL_version(OPENSSL_VERSION));
    fprintf(fp, "cJSON version %s\n", cJSON_Version());
    fprintf(fp, "libmaxminddb version %s\n", MMDB_lib_version());
    fprintf(fp, "hiredis version %d.%d.%d (build time)\n", HIREDIS_MAJOR, HIREDIS_MINOR,
            HIREDIS_PATCH);
    fprintf(fp, "zlib version %s\n", zlibVersion());
    uint32_t b = BrotliDecoderVersion();   /* major << 24 | minor << 12 | patch */
    fprintf(fp, "brotli version %u.%u.%u\n", (unsigned)(b >> 24), (unsigned)((b >> 12) & 0xfff),
            (unsigned)(b & 0xfff));
    time_t t = psl_builtin_file_time();
    struct tm tm;
    char day[16] = "unknown";
    if (t > 0 && gmtime_r(&t, &tm))
        strftime(day, sizeof(day), "%Y-%m-%d", &tm);
    fprintf(fp, "libpsl version %s (Public Suffix List of %s)\n", psl_get_version(), day);
}
