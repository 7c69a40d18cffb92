/*
 * test_version.c - unit tests for util/version.c: one line per library,
 * each with a version number.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "testhelp.h"
#include "util/version.h"

/* The line of `text` starting with `prefix` has a digit.digit after it. */
static int line_has_version(const char *text, const char *prefix)
{
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, prefix, strlen(prefix)) != 0)
            continue;
        const char *end = strchr(l, '\n');
        for (const char *p = l + strlen(prefix); p + 2 < (end ? end : l + strlen(l)); p++)
            if (isdigit((unsigned char)p[0]) && p[1] == '.' && isdigit((unsigned char)p[2]))
                return 1;
        return 0;
    }
    return 0;
}

int main(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    version_print(fp, "9.8.7");
    fclose(fp);

    test_cond("first line is pinscope's", strncmp(buf, "pinscope version 9.8.7\n", 23) == 0);
    static const char *const libs[] = { "libpcap version ", "OpenSSL ", "cJSON version ",
                                        "libmaxminddb version ", "hiredis version ",
                                        "zlib version ", "brotli version ", "libpsl version " };
    for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
        int ok = line_has_version(buf, libs[i]);
        test_cond(libs[i], ok);
        if (!ok)
            fprintf(stderr, "  output:\n%s", buf);
    }
    size_t lines = 0;
    for (const char *p = buf; *p; p++)
        lines += *p == '\n';
    test_cond("nine lines", lines == 9);
    free(buf);
    return test_report();
}
