/*
 * log.h - diagnostics to stderr.
 *
 * Errors and warnings are one line each, prefixed "pinscope: ".  Nothing on
 * the packet path logs above debug; malformed input is counted instead (see
 * util/stats.h).  LOG_DEBUG() costs one branch when debug output is off.
 */
#ifndef PINSCOPE_LOG_H
#define PINSCOPE_LOG_H

#include <stdbool.h>

extern bool log_debug_enabled;

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define LOG_DEBUG(...)                                                          \
    do {                                                                        \
        if (log_debug_enabled)                                                  \
            log_debug(__VA_ARGS__);                                             \
    } while (0)

#endif
