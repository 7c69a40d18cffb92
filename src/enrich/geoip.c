/*
 * geoip.c - MaxMind DB lookups for country, city, location and AS (see
 * geoip.h).
 *
 * Every field is read with MMDB_aget_value() over a NULL-terminated path
 * held in a static array (MMDB_get_value() copies its variadic path into a
 * heap array on each call); the address goes in as a sockaddr built on the
 * stack.  So a lookup allocates nothing.
 *
 * Cost, measured on the test machine with the ip-location-db City files and
 * the ASN files of tests/scripts/geoip_data.sh (test_geoip --bench): a
 * lookup that goes to the databases (two tree walks and about fifteen map
 * searches) runs at 0.3-0.5 million per second, one answered from the
 * cache at about 15 million per second.
 *
 * libmaxminddb 1.7.1 leaks about 4.6 KB when MMDB_open() fails on a
 * damaged metadata map; that happens once, before the program gives up.
 */
#include "enrich/geoip.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include <arpa/inet.h>
#include <maxminddb.h>
#include <netinet/in.h>

#include "util/jsonv.h"

/* ---- country names ---- */

/*
 * ISO 3166-1 alpha-2 codes and English short names, sorted by code, made
 * from Debian's iso-codes 4.15.0 (/usr/share/iso-codes/json/iso_3166-1.json,
 * package iso-codes) with
 *
 *   python3 -c 'import json; d = json.load(open("/usr/share/iso-codes/json/iso_3166-1.json"));
 *     [print("    { \"%s\", \"%s\" }," % (e["alpha_2"], e.get("common_name", e["name"])))
 *      for e in sorted(d["3166-1"], key=lambda e: e["alpha_2"])]'
 *
 * The name is the entry's common_name where it has one ("South Korea",
 * "Iran", "Taiwan", "Vietnam", "Bolivia") and its name otherwise: the
 * short form a reader of an event expects, not "Korea, Republic of".  One
 * code is added by hand: XK, Kosovo, a user-assigned code that GeoNames and
 * therefore the GeoLite2 data (and ip-location-db's copies of it) use.
 */
struct geoip_country {
    char iso[3];
    const char *name;
};

static const struct geoip_country geoip_countries[] = {
    { "AD", "Andorra" },
    { "AE", "United Arab Emirates" },
    { "AF", "Afghanistan" },
    { "AG", "Antigua and Barbuda" },
    { "AI", "Anguilla" },
    { "AL", "Albania" },
    { "AM", "Armenia" },
    { "AO", "Angola" },
    { "AQ", "Antarctica" },
    { "AR", "Argentina" },
    { "AS", "American Samoa" },
    { "AT", "Austria" },
    { "AU", "Australia" },
    { "AW", "Aruba" },
    { "AX", "Åland Islands" },
    { "AZ", "Azerbaijan" },
    { "BA", "Bosnia and Herzegovina" },
    { "BB", "Barbados" },
    { "BD", "Bangladesh" },
    { "BE", "Belgium" },
    { "BF", "Burkina Faso" },
    { "BG", "Bulgaria" },
    { "BH", "Bahrain" },
    { "BI", "Burundi" },
    { "BJ", "Benin" },
    { "BL", "Saint Barthélemy" },
    { "BM", "Bermuda" },
    { "BN", "Brunei Darussalam" },
    { "BO", "Bolivia" },
    { "BQ", "Bonaire, Sint Eustatius and Saba" },
    { "BR", "Brazil" },
    { "BS", "Bahamas" },
    { "BT", "Bhutan" },
    { "BV", "Bouvet Island" },
    { "BW", "Botswana" },
    { "BY", "Belarus" },
    { "BZ", "Belize" },
    { "CA", "Canada" },
    { "CC", "Cocos (Keeling) Islands" },
    { "CD", "Congo, The Democratic Republic of the" },
    { "CF", "Central African Republic" },
    { "CG", "Congo" },
    { "CH", "Switzerland" },
    { "CI", "Côte d'Ivoire" },
    { "CK", "Cook Islands" },
    { "CL", "Chile" },
    { "CM", "Cameroon" },
    { "CN", "China" },
    { "CO", "Colombia" },
    { "CR", "Costa Rica" },
    { "CU", "Cuba" },
    { "CV", "Cabo Verde" },
    { "CW", "Curaçao" },
    { "CX", "Christmas Island" },
    { "CY", "Cyprus" },
    { "CZ", "Czechia" },
    { "DE", "Germany" },
    { "DJ", "Djibouti" },
    { "DK", "Denmark" },
    { "DM", "Dominica" },
    { "DO", "Dominican Republic" },
    { "DZ", "Algeria" },
    { "EC", "Ecuador" },
    { "EE", "Estonia" },
    { "EG", "Egypt" },
    { "EH", "Western Sahara" },
    { "ER", "Eritrea" },
    { "ES", "Spain" },
    { "ET", "Ethiopia" },
    { "FI", "Finland" },
    { "FJ", "Fiji" },
    { "FK", "Falkland Islands (Malvinas)" },
    { "FM", "Micronesia, Federated States of" },
    { "FO", "Faroe Islands" },
    { "FR", "France" },
    { "GA", "Gabon" },
    { "GB", "United Kingdom" },
    { "GD", "Grenada" },
    { "GE", "Georgia" },
    { "GF", "French Guiana" },
    { "GG", "Guernsey" },
    { "GH", "Ghana" },
    { "GI", "Gibraltar" },
    { "GL", "Greenland" },
    { "GM", "Gambia" },
    { "GN", "Guinea" },
    { "GP", "Guadeloupe" },
    { "GQ", "Equatorial Guinea" },
    { "GR", "Greece" },
    { "GS", "South Georgia and the South Sandwich Islands" },
    { "GT", "Guatemala" },
    { "GU", "Guam" },
    { "GW", "Guinea-Bissau" },
    { "GY", "Guyana" },
    { "HK", "Hong Kong" },
    { "HM", "Heard Island and McDonald Islands" },
    { "HN", "Honduras" },
    { "HR", "Croatia" },
    { "HT", "Haiti" },
    { "HU", "Hungary" },
    { "ID", "Indonesia" },
    { "IE", "Ireland" },
    { "IL", "Israel" },
    { "IM", "Isle of Man" },
    { "IN", "India" },
    { "IO", "British Indian Ocean Territory" },
    { "IQ", "Iraq" },
    { "IR", "Iran" },
    { "IS", "Iceland" },
    { "IT", "Italy" },
    { "JE", "Jersey" },
    { "JM", "Jamaica" },
    { "JO", "Jordan" },
    { "JP", "Japan" },
    { "KE", "Kenya" },
    { "KG", "Kyrgyzstan" },
    { "KH", "Cambodia" },
    { "KI", "Kiribati" },
    { "KM", "Comoros" },
    { "KN", "Saint Kitts and Nevis" },
    { "KP", "North Korea" },
    { "KR", "South Korea" },
    { "KW", "Kuwait" },
    { "KY", "Cayman Islands" },
    { "KZ", "Kazakhstan" },
    { "LA", "Laos" },
    { "LB", "Lebanon" },
    { "LC", "Saint Lucia" },
    { "LI", "Liechtenstein" },
    { "LK", "Sri Lanka" },
    { "LR", "Liberia" },
    { "LS", "Lesotho" },
    { "LT", "Lithuania" },
    { "LU", "Luxembourg" },
    { "LV", "Latvia" },
    { "LY", "Libya" },
    { "MA", "Morocco" },
    { "MC", "Monaco" },
    { "MD", "Moldova" },
    { "ME", "Montenegro" },
    { "MF", "Saint Martin (French part)" },
    { "MG", "Madagascar" },
    { "MH", "Marshall Islands" },
    { "MK", "North Macedonia" },
    { "ML", "Mali" },
    { "MM", "Myanmar" },
    { "MN", "Mongolia" },
    { "MO", "Macao" },
    { "MP", "Northern Mariana Islands" },
    { "MQ", "Martinique" },
    { "MR", "Mauritania" },
    { "MS", "Montserrat" },
    { "MT", "Malta" },
    { "MU", "Mauritius" },
    { "MV", "Maldives" },
    { "MW", "Malawi" },
    { "MX", "Mexico" },
    { "MY", "Malaysia" },
    { "MZ", "Mozambique" },
    { "NA", "Namibia" },
    { "NC", "New Caledonia" },
    { "NE", "Niger" },
    { "NF", "Norfolk Island" },
    { "NG", "Nigeria" },
    { "NI", "Nicaragua" },
    { "NL", "Netherlands" },
    { "NO", "Norway" },
    { "NP", "Nepal" },
    { "NR", "Nauru" },
    { "NU", "Niue" },
    { "NZ", "New Zealand" },
    { "OM", "Oman" },
    { "PA", "Panama" },
    { "PE", "Peru" },
    { "PF", "French Polynesia" },
    { "PG", "Papua New Guinea" },
    { "PH", "Philippines" },
    { "PK", "Pakistan" },
    { "PL", "Poland" },
    { "PM", "Saint Pierre and Miquelon" },
    { "PN", "Pitcairn" },
    { "PR", "Puerto Rico" },
    { "PS", "Palestine, State of" },
    { "PT", "Portugal" },
    { "PW", "Palau" },
    { "PY", "Paraguay" },
    { "QA", "Qatar" },
    { "RE", "Réunion" },
    { "RO", "Romania" },
    { "RS", "Serbia" },
    { "RU", "Russian Federation" },
    { "RW", "Rwanda" },
    { "SA", "Saudi Arabia" },
    { "SB", "Solomon Islands" },
    { "SC", "Seychelles" },
    { "SD", "Sudan" },
    { "SE", "Sweden" },
    { "SG", "Singapore" },
    { "SH", "Saint Helena, Ascension and Tristan da Cunha" },
    { "SI", "Slovenia" },
    { "SJ", "Svalbard and Jan Mayen" },
    { "SK", "Slovakia" },
    { "SL", "Sierra Leone" },
    { "SM", "San Marino" },
    { "SN", "Senegal" },
    { "SO", "Somalia" },
    { "SR", "Suriname" },
    { "SS", "South Sudan" },
    { "ST", "Sao Tome and Principe" },
    { "SV", "El Salvador" },
    { "SX", "Sint Maarten (Dutch part)" },
    { "SY", "Syria" },
    { "SZ", "Eswatini" },
    { "TC", "Turks and Caicos Islands" },
    { "TD", "Chad" },
    { "TF", "French Southern Territories" },
    { "TG", "Togo" },
    { "TH", "Thailand" },
    { "TJ", "Tajikistan" },
    { "TK", "Tokelau" },
    { "TL", "Timor-Leste" },
    { "TM", "Turkmenistan" },
    { "TN", "Tunisia" },
    { "TO", "Tonga" },
    { "TR", "Türkiye" },
    { "TT", "Trinidad and Tobago" },
    { "TV", "Tuvalu" },
    { "TW", "Taiwan" },
    { "TZ", "Tanzania" },
    { "UA", "Ukraine" },
    { "UG", "Uganda" },
    { "UM", "United States Minor Outlying Islands" },
    { "US", "United States" },
    { "UY", "Uruguay" },
    { "UZ", "Uzbekistan" },
    { "VA", "Holy See (Vatican City State)" },
    { "VC", "Saint Vincent and the Grenadines" },
    { "VE", "Venezuela" },
    { "VG", "Virgin Islands, British" },
    { "VI", "Virgin Islands, U.S." },
    { "VN", "Vietnam" },
    { "VU", "Vanuatu" },
    { "WF", "Wallis and Futuna" },
    { "WS", "Samoa" },
    { "XK", "Kosovo" },                 /* not in ISO 3166-1: see above */
    { "YE", "Yemen" },
    { "YT", "Mayotte" },
    { "ZA", "South Africa" },
    { "ZM", "Zambia" },
    { "ZW", "Zimbabwe" },
};

static int geoip_country_cmp(const void *key, const void *elem)
{
    const char *k = key;
    const struct geoip_country *c = elem;
    return strcmp(k, c->iso);
}

const char *geoip_country_name(const char *iso2)
{
    if (!iso2 || !isalpha((unsigned char)iso2[0]) || !isalpha((unsigned char)iso2[1]) || iso2[2])
        return NULL;
    char key[3] = { (char)toupper((unsigned char)iso2[0]), (char)toupper((unsigned char)iso2[1]),
                    '\0' };
    const struct geoip_country *c =
        bsearch(key, geoip_countries, sizeof geoip_countries / sizeof geoip_countries[0],
                sizeof geoip_countries[0], geoip_country_cmp);
    return c ? c->name : NULL;
}

/* ---- opening ---- */

struct geoip_set {
    size_t n;
    MMDB_s f[GEOIP_MAX_FILES];
};

struct geoip_db {
    struct geoip_set city, asn;
};

__attribute__((format(printf, 3, 4))) static void geoip_fail(char *err, size_t errlen,
                                                             const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

enum { GEOIP_TYPE_LOCATION = 1, GEOIP_TYPE_ASN = 2 };

/* What the words of a metadata database_type name ("GeoLite2-City",
 * "GeoIP2-ISP", "city ipv4", "asn ipv6", "geo-whois-asn-country"). */
static int geoip_type_class(const char *type)
{
    int cls = 0;
    const char *p = type ? type : "";
    while (*p) {
        while (*p && !isalnum((unsigned char)*p))
            p++;
        size_t n = 0;
        while (isalnum((unsigned char)p[n]))
            n++;
        if ((n == 4 && strncasecmp(p, "city", 4) == 0) ||
            (n == 7 && strncasecmp(p, "country", 7) == 0))
            cls |= GEOIP_TYPE_LOCATION;
        if ((n == 3 && strncasecmp(p, "asn", 3) == 0) || (n == 3 && strncasecmp(p, "isp", 3) == 0))
            cls |= GEOIP_TYPE_ASN;
        p += n;
    }
    return cls;
}

static void geoip_set_close(struct geoip_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        MMDB_close(&s->f[i]);
    s->n = 0;
}

static int geoip_open_file(struct geoip_set *s, bool is_asn, const char *path, char *err,
                           size_t errlen)
{
    const char *kind = is_asn ? "ASN" : "city";
    struct stat st;
    if (stat(path, &st) != 0) {
        geoip_fail(err, errlen, "GeoIP %s database %s: %s", kind, path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        geoip_fail(err, errlen, "GeoIP %s database %s: not a regular file", kind, path);
        return -1;
    }
    if (st.st_size == 0) {
        geoip_fail(err, errlen, "GeoIP %s database %s: empty file, not a MaxMind DB", kind, path);
        return -1;
    }
    if (s->n == GEOIP_MAX_FILES) {
        geoip_fail(err, errlen, "GeoIP %s database %s: more than %d files given", kind, path,
                   GEOIP_MAX_FILES);
        return -1;
    }
    MMDB_s *m = &s->f[s->n];
    errno = 0;      /* MMDB_IO_ERROR leaves the reason in errno */
    int rc = MMDB_open(path, MMDB_MODE_MMAP, m);
    int saved = errno;
    if (rc != MMDB_SUCCESS) {
        if (rc == MMDB_IO_ERROR && saved)
            geoip_fail(err, errlen, "GeoIP %s database %s: %s (%s)", kind, path,
                       MMDB_strerror(rc), strerror(saved));
        else
            geoip_fail(err, errlen, "GeoIP %s database %s: %s", kind, path, MMDB_strerror(rc));
        return -1;
    }
    s->n++;
    const char *type = m->metadata.database_type ? m->metadata.database_type : "";
    int cls = geoip_type_class(type);
    if (!is_asn && cls == GEOIP_TYPE_ASN) {
        geoip_fail(err, errlen,
                   "GeoIP city database %s: its type \"%.64s\" is an ASN database, not a "
                   "location one", path, type);
        return -1;
    }
    if (is_asn && cls == GEOIP_TYPE_LOCATION) {
        geoip_fail(err, errlen,
                   "GeoIP ASN database %s: its type \"%.64s\" is a location database, not an "
                   "ASN one", path, type);
        return -1;
    }
    if (m->metadata.ip_version != 4 && m->metadata.ip_version != 6) {
        geoip_fail(err, errlen, "GeoIP %s database %s: IP version %u in its metadata", kind, path,
                   (unsigned)m->metadata.ip_version);
        return -1;
    }
    return 0;
}

/* spec: comma-separated paths, spaces around each ignored. */
static int geoip_open_set(struct geoip_set *s, bool is_asn, const char *spec, char *err,
                          size_t errlen)
{
    const char *p = spec;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n && isspace((unsigned char)*p))
            p++, n--;
        while (n && isspace((unsigned char)p[n - 1]))
            n--;
        char path[PATH_MAX];
        if (n == 0 || n >= sizeof path) {
            geoip_fail(err, errlen, "GeoIP %s database list \"%.200s\": %s",
                       is_asn ? "ASN" : "city", spec, n ? "a path is too long" : "an empty path");
            return -1;
        }
        memcpy(path, p, n);
        path[n] = '\0';
        if (geoip_open_file(s, is_asn, path, err, errlen) != 0)
            return -1;
        if (!end)
            return 0;
        p = end + 1;
    }
}

struct geoip_db *geoip_open(const char *city_spec, const char *asn_spec, char *err,
                            size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    bool has_city = city_spec && *city_spec, has_asn = asn_spec && *asn_spec;
    if (!has_city && !has_asn) {
        geoip_fail(err, errlen, "GeoIP: neither a city nor an ASN database given");
        return NULL;
    }
    struct geoip_db *db = calloc(1, sizeof *db);
    if (!db) {
        geoip_fail(err, errlen, "GeoIP: out of memory");
        return NULL;
    }
    if ((has_city && geoip_open_set(&db->city, false, city_spec, err, errlen) != 0) ||
        (has_asn && geoip_open_set(&db->asn, true, asn_spec, err, errlen) != 0)) {
        geoip_close(db);
        return NULL;
    }
    return db;
}

void geoip_close(struct geoip_db *db)
{
    if (!db)
        return;
    geoip_set_close(&db->city);
    geoip_set_close(&db->asn);
    free(db);
}

static size_t geoip_describe_set(const struct geoip_set *s, const char *kind, char *out,
                                 size_t outlen, size_t at)
{
    for (size_t i = 0; i < s->n && at < outlen; i++) {
        const MMDB_s *m = &s->f[i];
        const char *base = m->filename ? strrchr(m->filename, '/') : NULL;
        base = base ? base + 1 : m->filename ? m->filename : "?";
        char day[16] = "?";
        time_t t = (time_t)m->metadata.build_epoch;
        struct tm tm;
        if (gmtime_r(&t, &tm))
            strftime(day, sizeof day, "%Y-%m-%d", &tm);
        int k = snprintf(out + at, outlen - at, "%s%s%s (%s, %s)", i ? ", " : at ? "; " : "",
                         i ? "" : kind, base,
                         m->metadata.database_type ? m->metadata.database_type : "?", day);
        if (k < 0)
            break;
        at += (size_t)k;
    }
    return at;
}

void geoip_describe(const struct geoip_db *db, char *out, size_t outlen)
{
    if (!out || !outlen)
        return;
    out[0] = '\0';
    if (!db)
        return;
    size_t at = geoip_describe_set(&db->city, "city: ", out, outlen, 0);
    geoip_describe_set(&db->asn, "asn: ", out, outlen, at);
}

/* ---- reserved addresses ---- */

struct geoip_net {
    uint8_t len;        /* prefix length in bits */
    uint8_t p[16];
};

/* IANA special-purpose registries (RFC 6890 and successors): what is not
 * globally routed, or not a unicast host.  6to4 and Teredo are left in (they
 * carry public addresses); IPv4-mapped and NAT64 64:ff9b::/96 addresses
 * never get here, geoip_lookup() turns them into IPv4 first. */
static const struct geoip_net geoip_reserved4[] = {
    { 8, { 0 } },                   /* 0.0.0.0/8 "this network" */
    { 8, { 10 } },                  /* 10.0.0.0/8 RFC 1918 */
    { 10, { 100, 64 } },            /* 100.64.0.0/10 shared address space (CGNAT) */
    { 8, { 127 } },                 /* loopback */
    { 16, { 169, 254 } },           /* link-local */
    { 12, { 172, 16 } },            /* RFC 1918 */
    { 24, { 192, 0, 0 } },          /* IETF protocol assignments */
    { 24, { 192, 0, 2 } },          /* TEST-NET-1 */
    { 24, { 192, 88, 99 } },        /* 6to4 relay anycast (deprecated) */
    { 16, { 192, 168 } },           /* RFC 1918 */
    { 15, { 198, 18 } },            /* benchmarking */
    { 24, { 198, 51, 100 } },       /* TEST-NET-2 */
    { 24, { 203, 0, 113 } },        /* TEST-NET-3 */
    { 4, { 224 } },                 /* multicast */
    { 4, { 240 } },                 /* reserved, limited broadcast */
};

static const struct geoip_net geoip_reserved6[] = {
    { 96, { 0 } },                                  /* ::/96 unspecified, loopback, v4-compat */
    { 48, { 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01 } }, /* 64:ff9b:1::/48 local-use NAT64 */
    { 64, { 0x01, 0x00 } },                         /* 100::/64 discard-only */
    { 48, { 0x20, 0x01, 0x00, 0x02 } },             /* 2001:2::/48 benchmarking */
    { 32, { 0x20, 0x01, 0x0d, 0xb8 } },             /* 2001:db8::/32 documentation */
    { 20, { 0x3f, 0xff } },                         /* 3fff::/20 documentation */
    { 7, { 0xfc } },                                /* fc00::/7 unique local */
    { 10, { 0xfe, 0x80 } },                         /* fe80::/10 link-local */
    { 10, { 0xfe, 0xc0 } },                         /* fec0::/10 site-local (deprecated) */
    { 8, { 0xff } },                                /* multicast */
};

static bool geoip_in(const uint8_t *a, const struct geoip_net *n)
{
    size_t bytes = n->len / 8;
    unsigned bits = n->len % 8;
    if (memcmp(a, n->p, bytes) != 0)
        return false;
    if (!bits)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - bits));
    return (a[bytes] & mask) == (n->p[bytes] & mask);
}

static bool geoip_reserved(int ver, const uint8_t *a)
{
    const struct geoip_net *t = ver == 4 ? geoip_reserved4 : geoip_reserved6;
    size_t n = ver == 4 ? sizeof geoip_reserved4 / sizeof geoip_reserved4[0]
                        : sizeof geoip_reserved6 / sizeof geoip_reserved6[0];
    for (size_t i = 0; i < n; i++)
        if (geoip_in(a, &t[i]))
            return true;
    return false;
}

/* ---- reading a record ---- */

/* Paths tried in order for each field: MaxMind's nested layout first, then
 * the flat one. */
#define P(...) ((const char *const[]){ __VA_ARGS__, NULL })
static const char *const *const geoip_p_iso[] = { P("country", "iso_code"), P("country_code"),
                                                 NULL };
static const char *const *const geoip_p_country[] = { P("country", "names", "en"),
                                                     P("country_name"), NULL };
static const char *const *const geoip_p_continent[] = { P("continent", "code"),
                                                       P("continent_code"), NULL };
static const char *const *const geoip_p_region[] = { P("subdivisions", "0", "names", "en"),
                                                    P("state1"), P("region"), NULL };
static const char *const *const geoip_p_city[] = { P("city", "names", "en"), P("city"), NULL };
static const char *const *const geoip_p_asn[] = { P("autonomous_system_number"),
                                                 P("traits", "autonomous_system_number"), NULL };
static const char *const *const geoip_p_org[] = {
    P("autonomous_system_organization"), P("traits", "autonomous_system_organization"), NULL
};
/* latitude and longitude come as a pair from the same layout */
static const char *const *const geoip_p_lat[] = { P("location", "latitude"), P("latitude"), NULL };
static const char *const *const geoip_p_lon[] = { P("location", "longitude"), P("longitude"),
                                                 NULL };
#undef P

static bool geoip_get(MMDB_entry_s *e, const char *const *path, MMDB_entry_data_s *d)
{
    return MMDB_aget_value(e, d, path) == MMDB_SUCCESS && d->has_data;
}

/* A UTF-8 string value into out[cap]: cut at a character boundary, refused
 * (false, out untouched) when empty or not clean text. */
static bool geoip_text(const MMDB_entry_data_s *d, char *out, size_t cap)
{
    if (d->type != MMDB_DATA_TYPE_UTF8_STRING || !d->utf8_string || d->data_size == 0)
        return false;
    const char *s = d->utf8_string;
    size_t n = d->data_size;
    if (n > cap - 1) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    if (n == 0 || !jsonv_text_ok(s, n))
        return false;
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

/* Two ASCII letters, stored upper case. */
static bool geoip_code(const MMDB_entry_data_s *d, char out[3])
{
    if (d->type != MMDB_DATA_TYPE_UTF8_STRING || d->data_size != 2 || !d->utf8_string ||
        !isalpha((unsigned char)d->utf8_string[0]) || !isalpha((unsigned char)d->utf8_string[1]) ||
        (d->utf8_string[0] & 0x80) || (d->utf8_string[1] & 0x80))
        return false;
    out[0] = (char)toupper((unsigned char)d->utf8_string[0]);
    out[1] = (char)toupper((unsigned char)d->utf8_string[1]);
    out[2] = '\0';
    return true;
}

static bool geoip_real(const MMDB_entry_data_s *d, double *out)
{
    if (d->type == MMDB_DATA_TYPE_DOUBLE)
        *out = d->double_value;
    else if (d->type == MMDB_DATA_TYPE_FLOAT)
        *out = d->float_value;
    else
        return false;
    return isfinite(*out);
}

static bool geoip_asn(const MMDB_entry_data_s *d, uint32_t *out)
{
    uint64_t v;
    switch (d->type) {
    case MMDB_DATA_TYPE_UINT16: v = d->uint16; break;
    case MMDB_DATA_TYPE_UINT32: v = d->uint32; break;
    case MMDB_DATA_TYPE_UINT64: v = d->uint64; break;
    case MMDB_DATA_TYPE_INT32: v = d->int32 > 0 ? (uint64_t)d->int32 : 0; break;
    default: return false;
    }
    if (v == 0 || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

static void geoip_fill_text(MMDB_entry_s *e, const char *const *const *paths, char *out,
                            size_t cap)
{
    MMDB_entry_data_s d;
    for (size_t i = 0; !out[0] && paths[i]; i++)
        if (geoip_get(e, paths[i], &d))
            geoip_text(&d, out, cap);
}

static void geoip_fill_code(MMDB_entry_s *e, const char *const *const *paths, char out[3])
{
    MMDB_entry_data_s d;
    for (size_t i = 0; !out[0] && paths[i]; i++)
        if (geoip_get(e, paths[i], &d))
            geoip_code(&d, out);
}

/* Every field still empty in `in` that this entry has. */
static void geoip_fill(MMDB_entry_s *e, struct geoip_info *in)
{
    MMDB_entry_data_s d;
    geoip_fill_code(e, geoip_p_iso, in->country_iso);
    geoip_fill_text(e, geoip_p_country, in->country_name, sizeof in->country_name);
    geoip_fill_code(e, geoip_p_continent, in->continent);
    geoip_fill_text(e, geoip_p_region, in->region, sizeof in->region);
    geoip_fill_text(e, geoip_p_city, in->city, sizeof in->city);
    for (size_t i = 0; !in->has_location && geoip_p_lat[i]; i++) {
        double lat, lon;
        if (geoip_get(e, geoip_p_lat[i], &d) && geoip_real(&d, &lat) &&
            geoip_get(e, geoip_p_lon[i], &d) && geoip_real(&d, &lon) && fabs(lat) <= 90 &&
            fabs(lon) <= 180) {
            in->has_location = true;
            in->lat = lat;
            in->lon = lon;
        }
    }
    for (size_t i = 0; !in->asn && geoip_p_asn[i]; i++)
        if (geoip_get(e, geoip_p_asn[i], &d))
            geoip_asn(&d, &in->asn);
    geoip_fill_text(e, geoip_p_org, in->as_org, sizeof in->as_org);
}

/* The first file of the set with an entry for the address fills what it has. */
static void geoip_ask(const struct geoip_set *s, int ver, const struct sockaddr *sa,
                      struct geoip_info *in)
{
    for (size_t i = 0; i < s->n; i++) {
        if (ver == 6 && s->f[i].metadata.ip_version == 4)
            continue;
        int mmdb_err = MMDB_SUCCESS;
        MMDB_lookup_result_s r = MMDB_lookup_sockaddr(&s->f[i], sa, &mmdb_err);
        if (mmdb_err != MMDB_SUCCESS || !r.found_entry)
            continue;
        geoip_fill(&r.entry, in);
        return;
    }
}

static void geoip_resolve(const struct geoip_db *db, int ver, const uint8_t *a,
                          struct geoip_info *in)
{
    struct sockaddr_in s4;
    struct sockaddr_in6 s6;
    const struct sockaddr *sa;
    if (ver == 4) {
        memset(&s4, 0, sizeof s4);
        s4.sin_family = AF_INET;
        memcpy(&s4.sin_addr, a, 4);
        sa = (const struct sockaddr *)&s4;
    } else {
        memset(&s6, 0, sizeof s6);
        s6.sin6_family = AF_INET6;
        memcpy(&s6.sin6_addr, a, 16);
        sa = (const struct sockaddr *)&s6;
    }
    memset(in, 0, sizeof *in);
    geoip_ask(&db->city, ver, sa, in);
    geoip_ask(&db->asn, ver, sa, in);
    if (in->country_iso[0] && !in->country_name[0]) {
        const char *name = geoip_country_name(in->country_iso);
        if (name)
            snprintf(in->country_name, sizeof in->country_name, "%s", name);
    }
    in->found = in->country_iso[0] || in->country_name[0] || in->continent[0] || in->region[0] ||
                in->city[0] || in->has_location || in->asn || in->as_org[0];
}

/* ---- the cache ---- */

#define GEOIP_WAYS 4    /* slots per set */

struct geoip_slot {
    uint8_t key[16];    /* the address, an IPv4 one in the first 4 bytes */
    uint8_t ver;        /* 0: empty slot */
    uint64_t used;      /* tick of the last use: the least recent of a set goes */
    struct geoip_info info;
};

struct geoip_cache {
    const struct geoip_db *db;  /* whose answers the slots hold */
    size_t set_mask;            /* sets - 1 */
    unsigned ways;              /* slots per set: GEOIP_WAYS, fewer in a tiny cache */
    bool enabled;
    uint64_t tick;
    uint64_t hits, misses;
    struct geoip_slot slot[];
};

struct geoip_cache *geoip_cache_new(size_t slots)
{
    size_t n = 1;
    while (n < slots && n < GEOIP_CACHE_MAX_SLOTS)
        n <<= 1;
    struct geoip_cache *c = calloc(1, sizeof *c + n * sizeof c->slot[0]);
    if (!c)
        return NULL;
    c->ways = n < GEOIP_WAYS ? (unsigned)n : GEOIP_WAYS;
    c->set_mask = n / c->ways - 1;
    c->enabled = slots > 0;
    return c;
}

void geoip_cache_free(struct geoip_cache *c)
{
    free(c);
}

void geoip_cache_clear(struct geoip_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < (c->set_mask + 1) * c->ways; i++) {
        c->slot[i].ver = 0;
        c->slot[i].used = 0;
    }
    c->db = NULL;
}

void geoip_cache_stats(const struct geoip_cache *c, uint64_t *hits, uint64_t *misses)
{
    if (hits)
        *hits = c ? c->hits : 0;
    if (misses)
        *misses = c ? c->misses : 0;
}

static size_t geoip_hash(const uint8_t key[16], int ver)
{
    uint64_t a, b;
    memcpy(&a, key, 8);
    memcpy(&b, key + 8, 8);
    uint64_t h = a * 0x9e3779b97f4a7c15u ^ (b + (uint64_t)ver) * 0xc2b2ae3d27d4eb4fu;
    h ^= h >> 32;
    h *= 0xff51afd7ed558ccdu;
    h ^= h >> 29;
    return (size_t)h;
}

const struct geoip_info *geoip_lookup(const struct geoip_db *db, struct geoip_cache *c,
                                      int ip_ver, const uint8_t *addr)
{
    static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    static const uint8_t nat64[12] = { 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };
    if (!db || !c || !addr || (ip_ver != 4 && ip_ver != 6))
        return NULL;
    if (ip_ver == 6 && (memcmp(addr, v4mapped, 12) == 0 || memcmp(addr, nat64, 12) == 0)) {
        ip_ver = 4;
        addr += 12;
    }
    if (geoip_reserved(ip_ver, addr))
        return NULL;
    if (c->db != db) {
        geoip_cache_clear(c);
        c->db = db;
    }
    uint8_t key[16] = { 0 };
    memcpy(key, addr, ip_ver == 4 ? 4 : 16);
    struct geoip_slot *s = c->slot;     /* the scratch slot when caching is off */
    if (c->enabled) {
        struct geoip_slot *set = &c->slot[(geoip_hash(key, ip_ver) & c->set_mask) * c->ways];
        s = set;
        for (unsigned w = 0; w < c->ways; w++) {
            if (set[w].ver == ip_ver && memcmp(set[w].key, key, sizeof key) == 0) {
                c->hits++;
                set[w].used = ++c->tick;
                return set[w].info.found ? &set[w].info : NULL;
            }
            if (set[w].used < s->used)
                s = &set[w];
        }
    }
    c->misses++;
    geoip_resolve(db, ip_ver, addr, &s->info);
    memcpy(s->key, key, sizeof key);
    s->ver = (uint8_t)ip_ver;
    s->used = ++c->tick;
    return s->info.found ? &s->info : NULL;
}
