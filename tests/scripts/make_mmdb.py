#!/usr/bin/env python3
"""make_mmdb.py - write MaxMind DB (MMDB 2.0) files without libmaxminddb.

  make_mmdb.py fixtures DIR
      the small hand-made databases tests/unit/test_geoip.c reads (MaxMind's
      nested schema, ip-location-db's flat one, wrong-typed values, bad
      UTF-8, a corrupt data section, a corrupt search tree, ...)
  make_mmdb.py asn-csv --ip-version 4|6 IN.csv OUT.mmdb
      an ip-location-db ASN CSV (start,end,asn,organisation) into an MMDB
      with the flat schema of @ip-location-db/asn-mmdb:
      {autonomous_system_number: uint32, autonomous_system_organization: str}

Format: https://maxmind.github.io/MaxMind-DB/ - a binary search tree over
the address bits, 16 zero bytes, the data section, then the metadata map
after "\\xab\\xcd\\xefMaxMind.com".  IPv4 networks in an IPv6 database sit
under ::/96, where libmaxminddb looks for them.  Networks must not overlap
(asn-csv only: where two ranges do, the earlier one keeps the overlap).
"""
import bisect
import csv
import ipaddress
import os
import struct
import sys
import time


class U16(int): pass
class U32(int): pass
class U64(int): pass
class I32(int): pass
class F32(float): pass
class Raw(bytes): pass          # written as utf8_string, bytes as given (may be invalid)


def _ctrl(t, size):
    first, ext = (t << 5, b"") if t <= 7 else (0, bytes([t - 7]))
    if size < 29:
        return bytes([first | size]) + ext
    if size < 285:
        return bytes([first | 29]) + ext + bytes([size - 29])
    if size < 65821:
        return bytes([first | 30]) + ext + (size - 285).to_bytes(2, "big")
    return bytes([first | 31]) + ext + (size - 65821).to_bytes(3, "big")


def _uint(t, v, width):
    b = v.to_bytes(width, "big").lstrip(b"\0")
    return _ctrl(t, len(b)) + b


def encode(v):
    """One value of the data section; the Python type picks the MMDB type."""
    if isinstance(v, bool):
        return _ctrl(14, int(v))
    if isinstance(v, Raw):
        return _ctrl(2, len(v)) + bytes(v)
    if isinstance(v, str):
        b = v.encode("utf-8")
        return _ctrl(2, len(b)) + b
    if isinstance(v, F32):
        return _ctrl(15, 4) + struct.pack(">f", v)
    if isinstance(v, float):
        return _ctrl(3, 8) + struct.pack(">d", v)
    if isinstance(v, U16):
        return _uint(5, v, 2)
    if isinstance(v, I32):
        return _ctrl(8, 4) + struct.pack(">i", v)
    if isinstance(v, U64):
        return _uint(9, v, 8)
    if isinstance(v, int):
        return _uint(6, v, 4) if 0 <= v < 1 << 32 else _uint(9, v, 8)
    if isinstance(v, bytes):
        return _ctrl(4, len(v)) + v
    if isinstance(v, dict):
        return _ctrl(7, len(v)) + b"".join(encode(str(k)) + encode(x) for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return _ctrl(11, len(v)) + b"".join(encode(x) for x in v)
    raise TypeError("cannot encode %r" % (v,))


def _freeze(v):
    """A hashable key for a record (identical records share one data entry)."""
    if isinstance(v, dict):
        return ("d",) + tuple((k, _freeze(x)) for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return ("l",) + tuple(_freeze(x) for x in v)
    return (type(v).__name__, v)


class Writer:
    def __init__(self, ip_version=6, database_type="Test-DB", description="pinscope test data"):
        self.ip_version = ip_version
        self.bits = 128 if ip_version == 6 else 32
        self.database_type = database_type
        self.description = description
        self.ranges = []           # (first, last, data offset)
        self.data = bytearray()
        self.offsets = {}
        self.clip_overlaps = False  # overlapping ranges: error, or the first one wins
        self.clipped = 0

    def _data(self, record):
        key = _freeze(record)
        off = self.offsets.get(key)
        if off is None:
            off = self.offsets[key] = len(self.data)
            self.data += encode(record)
        return off

    def insert_range(self, first, last, record):
        self.ranges.append((first, last, self._data(record)))

    def insert(self, cidr, record):
        net = ipaddress.ip_network(cidr)
        if net.version == 6 and self.ip_version == 4:
            raise ValueError("%s in an IPv4 database" % cidr)
        first, last = int(net.network_address), int(net.broadcast_address)
        self.insert_range(first, last, record)

    def _tree(self):
        rs = sorted(self.ranges)
        merged = []                # adjacent ranges with the same data become one
        for r in rs:
            if merged and merged[-1][2] == r[2] and merged[-1][1] + 1 == r[0]:
                merged[-1] = (merged[-1][0], r[1], r[2])
            elif merged and r[0] <= merged[-1][1]:
                if not self.clip_overlaps:
                    raise ValueError("overlapping networks")
                if r[1] > merged[-1][1]:      # the earlier range keeps the overlap
                    merged.append((merged[-1][1] + 1, r[1], r[2]))
                self.clipped += 1
            else:
                merged.append(r)
        starts = [r[0] for r in merged]
        nodes = []                 # [left, right]: node index, -1 empty, -2-off data

        def rec(lo, depth, i, j):
            if i == j:
                return -1
            hi = lo + (1 << (self.bits - depth)) - 1
            if j - i == 1 and merged[i][0] <= lo and merged[i][1] >= hi and depth > 0:
                return -2 - merged[i][2]
            idx = len(nodes)
            nodes.append(None)
            mid = lo + (1 << (self.bits - depth - 1))
            k = bisect.bisect_left(starts, mid, i, j)
            k2 = k - 1 if k > i and merged[k - 1][1] >= mid else k
            nodes[idx] = (rec(lo, depth + 1, i, k), rec(mid, depth + 1, k2, j))
            return idx

        sys.setrecursionlimit(10000)
        rec(0, 0, 0, len(merged))
        if not nodes:
            nodes.append((-1, -1))
        return nodes

    def build(self, corrupt_tree=False):
        nodes = self._tree()
        n = len(nodes)
        top = n + 16 + len(self.data)
        record_size = 24 if top < 1 << 24 else 28 if top < 1 << 28 else 32

        bad = min(top + 1000, (1 << record_size) - 1)

        def val(r):
            if r < -1 and corrupt_tree:     # every data record points past the data section
                return bad
            return r if r >= 0 else n if r == -1 else n + 16 + (-2 - r)
        tree = bytearray()
        for left, right in nodes:
            a, b = val(left), val(right)
            if record_size == 24:
                tree += a.to_bytes(3, "big") + b.to_bytes(3, "big")
            elif record_size == 28:
                tree += (a & 0xFFFFFF).to_bytes(3, "big") + bytes([(a >> 24) << 4 | b >> 24]) \
                        + (b & 0xFFFFFF).to_bytes(3, "big")
            else:
                tree += a.to_bytes(4, "big") + b.to_bytes(4, "big")
        meta = {
            "binary_format_major_version": U16(2),
            "binary_format_minor_version": U16(0),
            "build_epoch": U64(int(os.environ.get("SOURCE_DATE_EPOCH", time.time()))),
            "database_type": self.database_type,
            "description": {"en": self.description},
            "ip_version": U16(self.ip_version),
            "languages": ["en"],
            "node_count": U32(n),
            "record_size": U16(record_size),
        }
        return (bytes(tree) + b"\0" * 16 + bytes(self.data) + b"\xab\xcd\xefMaxMind.com"
                + encode(meta))

    def write(self, path, **kw):
        blob = self.build(**kw)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(blob)
        os.replace(tmp, path)
        return blob


def asn_csv(ip_version, src, dst):
    w = Writer(ip_version, "asn ipv%d" % ip_version,
               "ASN from @ip-location-db/asn (RouteViews, RIRs, DB-IP; CC BY 4.0)")
    conv = (lambda s: int(ipaddress.IPv4Address(s))) if ip_version == 4 else \
           (lambda s: int(ipaddress.IPv6Address(s)))
    with open(src, newline="", encoding="utf-8") as f:
        for row in csv.reader(f):
            if len(row) < 4 or not row[2].isdigit():
                continue
            w.insert_range(conv(row[0]), conv(row[1]),
                           {"autonomous_system_number": U32(int(row[2])),
                            "autonomous_system_organization": row[3]})
    w.clip_overlaps = True
    w.write(dst)
    if w.clipped:
        sys.stderr.write("%s: %d overlapping range(s), the earlier one kept\n" % (src, w.clipped))


def maxmind_city(iso, en, city=None, region=None, lat=None, lon=None, continent=None):
    """A record in the nested layout of GeoLite2-City / GeoIP2-City."""
    r = {}
    if continent:
        r["continent"] = {"code": continent[0], "geoname_id": U32(1), "names": {"en": continent[1]}}
    r["country"] = {"geoname_id": U32(2), "iso_code": iso}
    if en:
        r["country"]["names"] = {"de": "x", "en": en}
    if city:
        r["city"] = {"geoname_id": U32(3), "names": {"en": city, "ja": "市"}}
    if region:
        r["subdivisions"] = [{"iso_code": "X", "names": {"en": region}},
                             {"names": {"en": "second"}}]
    if lat is not None:
        r["location"] = {"accuracy_radius": U16(100), "latitude": lat, "longitude": lon,
                         "time_zone": "Europe/London"}
    r["registered_country"] = {"iso_code": iso}
    return r


def flat_city(cc, city="", state1="", lat=None, lon=None):
    """A record in the flat layout of @ip-location-db/*-city-mmdb."""
    r = {"city": city, "country_code": cc, "postcode": "", "state1": state1, "state2": "",
         "timezone": ""}
    if lat is not None:
        r["latitude"], r["longitude"] = F32(lat), F32(lon)
    return r


def fixtures(d):
    os.makedirs(d, exist_ok=True)

    w = Writer(6, "GeoLite2-City")
    w.insert("81.2.69.0/24", maxmind_city("GB", "United Kingdom", "Boxford", "England",
                                          51.75, -1.25, ("EU", "Europe")))
    w.insert("2a02:dd8::/32", maxmind_city("DE", None))          # name from the ISO table
    w.insert("89.160.20.0/24", maxmind_city("SE", "Sverige (db)", lat=0.0, lon=0.0))
    w.insert("1.2.3.0/24", {"registered_country": {"iso_code": "AU"}})   # no usable field
    nested = w.write(os.path.join(d, "nested.mmdb"))
    w.write(os.path.join(d, "badtree.mmdb"), corrupt_tree=True)

    # the same with its data section overwritten by a repeating junk pattern
    blob = bytearray(nested)
    meta_at = blob.rindex(b"\xab\xcd\xefMaxMind.com")
    junk = bytes([0xff, 0x1f, 0xe0, 0x3d, 0xdf, 0x20, 0x5f, 0xff])
    for i in range(meta_at - len(w.data), meta_at):
        blob[i] = junk[i % len(junk)]
    with open(os.path.join(d, "corrupt-data.mmdb"), "wb") as f:
        f.write(blob)

    w = Writer(4, "city ipv4")
    w.insert("8.8.8.0/24", flat_city("US", lat=37.751, lon=-97.822))
    w.insert("81.2.69.0/24", flat_city("GB", "Bracknell", "England", 51.4036, -0.7618))
    w.insert("5.1.0.0/16", flat_city("xk", "Prishtina"))        # lower case, not in ISO
    w.insert("5.2.0.0/16", flat_city("", "", "", None, None))   # every field empty
    w.write(os.path.join(d, "flat4.mmdb"))

    w = Writer(6, "city ipv6")
    w.insert("2a00:1450::/32", flat_city("IE", "Dublin", "Leinster", 53.35, -6.26))
    w.write(os.path.join(d, "flat6.mmdb"))

    w = Writer(6, "GeoLite2-ASN")
    w.insert("8.8.8.0/24", {"autonomous_system_number": U32(15169),
                            "autonomous_system_organization": "Google LLC"})
    w.insert("81.2.69.0/24", {"autonomous_system_number": U16(20712),
                              "autonomous_system_organization": "Andrews & Arnold Ltd"})
    w.insert("2001:4860::/32", {"autonomous_system_number": U32(15169),
                                "autonomous_system_organization": "Google LLC"})
    w.write(os.path.join(d, "asn.mmdb"))

    w = Writer(6, "Custom-Thing")   # a type name that says neither city nor ASN
    w.insert("1.0.0.0/24", {        # every value of the wrong type, one good one
        "country": "US", "country_code": U32(840), "continent": {"code": ["EU"]},
        "city": {"names": {"en": 42}}, "subdivisions": "England",
        "location": {"latitude": "51.5", "longitude": 3},
        "autonomous_system_number": "15169", "autonomous_system_organization": 12345,
        "state1": "Good Region"})
    w.insert("1.0.1.0/24", {        # invalid UTF-8 and control characters
        "country_code": Raw(b"\xc3\x28"), "city": Raw(b"ab\xffcd"), "state1": "ok\x01ctl",
        "autonomous_system_organization": Raw(b"\xed\xa0\x80surrogate"),
        "autonomous_system_number": I32(-5), "latitude": F32(10.0)})
    w.insert("1.0.2.0/24", {        # too long, out of range
        "city": "é" * 40, "state1": "a" * 70, "autonomous_system_organization": "€" * 60,
        "country_code": "USA", "continent_code": "E", "latitude": 91.0, "longitude": 0.0,
        "autonomous_system_number": U64(1 << 40)})
    w.insert("1.0.3.0/24", {        # NaN location, uint64 ASN that fits, a map for a name
        "latitude": float("nan"), "longitude": 1.0, "autonomous_system_number": U64(64512),
        "country": {"iso_code": "fr", "names": {"en": {"x": "y"}}}})
    w.insert("1.0.4.0/24", [1, 2, 3])   # not a map at all
    w.write(os.path.join(d, "wrongtype.mmdb"))

    with open(os.path.join(d, "empty.mmdb"), "wb"):
        pass
    with open(os.path.join(d, "truncated.mmdb"), "wb") as f:
        f.write(nested[:len(nested) // 2])
    with open(os.path.join(d, "text.mmdb"), "w") as f:
        f.write("this is not a MaxMind DB\n" * 40)


def main(argv):
    if len(argv) == 3 and argv[1] == "fixtures":
        fixtures(argv[2])
    elif len(argv) == 6 and argv[1] == "asn-csv" and argv[2] == "--ip-version" \
            and argv[3] in ("4", "6"):
        asn_csv(int(argv[3]), argv[4], argv[5])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
