/*
 * version.h - `pinscope --version`: the program's version and, one line
 * each, the version of every library it runs with (as `tcpdump --version`).
 *
 * The versions are the ones loaded at run time (each library's own version
 * call), except hiredis, which has no such call: its line gives the
 * version of the headers pinscope was built with and says so.
 */
#ifndef PINSCOPE_VERSION_H
#define PINSCOPE_VERSION_H

#include <stdio.h>

#define PINSCOPE_VERSION "0.2.0"   /* also the ECS documents' observer.version */

void version_print(FILE *fp, const char *pinscope_version);

#endif
