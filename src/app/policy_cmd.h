/*
 * policy_cmd.h - `pinscope policy import|audit`.
 *
 *   import   app pin files (Android network security config, OkHttp,
 *            NSPinnedDomains/TrustKit plists, HPKP, curl, Chromium static
 *            pins, TLSA/CAA records) -> pin sets and expected issuers in a
 *            policy file (policy_import.c over pinimport/)
 *   audit    captures checked against a policy's pin sets: which pins the
 *            chains matched, backups, expiring keys and sets, unused pins,
 *            names without a pin set (audit.c, through run_sources as
 *            learn does)
 */
#ifndef PINSCOPE_POLICY_CMD_H
#define PINSCOPE_POLICY_CMD_H

#include <stdio.h>

#include "app/options.h"

/* The text of `pinscope policy --help`. */
void policy_usage(FILE *fp);

/* argv[0] is "import".  Exit status 0, 1 (an input cannot be read or
 * holds an error, output failed), 2 (usage). */
int policy_import_main(int argc, char **argv);

/* Exit status 0, 1. */
int policy_audit_run(const struct options *opt);

#endif
