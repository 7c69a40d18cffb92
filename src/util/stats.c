/*
 * stats.c - names of the counters (see stats.h).
 */
#include "util/stats.h"

#define STATS_NAME(name, str) str,
static const char *const anomaly_names[] = { STATS_ANOMALIES(STATS_NAME) };
static const char *const cap_names[] = { STATS_CAPS(STATS_NAME) };
#undef STATS_NAME

const char *stats_anomaly_name(enum stats_anomaly a)
{
    return (unsigned)a < STATS_ANOMALY_COUNT ? anomaly_names[a] : "unknown";
}

const char *stats_cap_name(enum stats_cap c)
{
    return (unsigned)c < STATS_CAP_COUNT ? cap_names[c] : "unknown";
}
