/*
 * stats.c - names of the counters (see stats.h).
 */
#include "util/stats.h"

#include <stddef.h>

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

/* struct stats holds only uint64_t counters (fields and the two X-macro
 * arrays), so merging is one loop over its words. */
_Static_assert(sizeof(struct stats) % sizeof(uint64_t) == 0, "struct stats: counters only");

void stats_add(struct stats *a, const struct stats *b)
{
    uint64_t *pa = (uint64_t *)a;
    const uint64_t *pb = (const uint64_t *)b;
    for (size_t i = 0; i < sizeof(*a) / sizeof(uint64_t); i++)
        pa[i] += pb[i];
}
