#!/usr/bin/env python3
"""make_seeds.py - seed inputs for the fuzz targets, from the golden captures.

fuzz_session: the TCP payloads of each golden connection, framed as
fuzz_session.c expects (header byte: direction bit + length - 1).
fuzz_hello: the bodies of the ClientHello and ServerHello messages found at
the start of each direction.
fuzz_certmsg: Certificate messages (TLS 1.2, TLS 1.3, zlib-compressed)
built around the DER test certificates of tests/unit/data/x509.
fuzz_tunnel: one frame of each connection of tunnels.pcap and of the link
type captures, and every frame of tunnels_hostile.pcap, framed as
fuzz_tunnel.c expects (a link type byte, then the frame).
fuzz_frag: the fragments of each datagram of ip_fragments.pcap, and the
start of frag_flood.pcap, framed as fuzz_frag.c expects.
fuzz_sigdb: the shipped signatures/ files (interception_issuers.json, a NUL
byte, known_fingerprints.json, as fuzz_sigdb.c expects) and a few small
crafted databases (every condition kind, regexes with groups, brackets and
intervals, repeated fingerprint values).

make_seeds.py TARGET... writes only those targets' seeds.

Standard library only; reads Ethernet/IPv4/IPv6 pcaps (the golden captures).
"""
import json
import os
import struct
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
GOLDEN = os.path.join(ROOT, "tests", "golden")
OUT = os.path.join(ROOT, "tests", "fuzz", "seeds")


def packets(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24 or data[:4] not in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        return
    dlt = struct.unpack("<I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack("<IIII", data[off:off + 16])
        yield dlt, data[off + 16:off + 16 + incl]
        off += 16 + incl


def tcp_payload(dlt, frame):
    if dlt != 1 or len(frame) < 14:
        return None
    et = struct.unpack("!H", frame[12:14])[0]
    ip = frame[14:]
    if et == 0x0800 and len(ip) >= 20 and ip[9] == 6:
        ihl = (ip[0] & 15) * 4
        tot = struct.unpack("!H", ip[2:4])[0]
        seg = ip[ihl:tot]
        key = (ip[12:16], ip[16:20])
    elif et == 0x86DD and len(ip) >= 40 and ip[6] == 6:
        seg = ip[40:40 + struct.unpack("!H", ip[4:6])[0]]
        key = (ip[8:24], ip[24:40])
    else:
        return None
    if len(seg) < 20:
        return None
    sport, dport = struct.unpack("!HH", seg[:4])
    doff = (seg[12] >> 4) * 4
    return (key[0], sport), (key[1], dport), seg[doff:]


def main():
    os.makedirs(os.path.join(OUT, "fuzz_session"), exist_ok=True)
    os.makedirs(os.path.join(OUT, "fuzz_hello"), exist_ok=True)
    for name in sorted(os.listdir(GOLDEN)):
        if not name.endswith(".pcap"):
            continue
        first = None
        framed = bytearray()
        streams = {0: bytearray(), 1: bytearray()}
        for dlt, frame in packets(os.path.join(GOLDEN, name)):
            r = tcp_payload(dlt, frame)
            if not r or not r[2]:
                continue
            src, _, pl = r
            if first is None:
                first = src
            d = 0 if src == first else 1
            streams[d] += pl
            for i in range(0, len(pl), 128):
                chunk = pl[i:i + 128]
                framed += bytes([(d << 7) | (len(chunk) - 1)]) + chunk
        base = os.path.splitext(name)[0]
        with open(os.path.join(OUT, "fuzz_session", base), "wb") as f:
            f.write(bytes(framed[:16384]))
        for d, s in streams.items():
            i = s.find(b"\x16\x03")
            if i < 0 or len(s) < i + 9 or s[i + 5] not in (1, 2):
                continue
            hl = int.from_bytes(s[i + 6:i + 9], "big")
            body = s[i + 9:i + 9 + hl]
            with open(os.path.join(OUT, "fuzz_hello", "%s_%d" % (base, d)), "wb") as f:
                f.write(bytes(body))


def u24(n):
    return n.to_bytes(3, "big")


def certmsg_seeds():
    import zlib
    src = os.path.join(ROOT, "tests", "unit", "data", "x509")
    out = os.path.join(OUT, "fuzz_certmsg")
    os.makedirs(out, exist_ok=True)
    ders = [open(os.path.join(src, n), "rb").read() for n in sorted(os.listdir(src)) if n.endswith(".der")]
    for i in range(0, len(ders), 2):
        chain = ders[i:i + 2]
        tls12 = b"".join(u24(len(d)) + d for d in chain)
        tls13 = b"".join(u24(len(d)) + d + b"\0\0" for d in chain)
        msg12 = u24(len(tls12)) + tls12
        msg13 = b"\0" + u24(len(tls13)) + tls13
        comp = zlib.compress(msg13)
        cc = b"\x00\x01" + u24(len(msg13)) + u24(len(comp)) + comp
        for form, body in ((0, msg12), (1, msg13), (2, cc)):
            with open(os.path.join(out, "chain%d_form%d" % (i, form)), "wb") as f:
                f.write(bytes([form]) + body)


# fuzz_tunnel.c's link types, in its order.
TUNNEL_DLTS = [1, 113, 276, 12, 228, 229, 0, 108, 9, 50, 104, 239, 105, 127]


def tunnel_seeds():
    out = os.path.join(OUT, "fuzz_tunnel")
    os.makedirs(out, exist_ok=True)
    picks = [("tunnels.pcap", lambda i: i % 7 == 3)]
    picks += [(n, lambda i: i == 3) for n in sorted(os.listdir(GOLDEN))
              if n.startswith("linktype_") and n.endswith(".pcap")]
    picks += [("tunnels_hostile.pcap", lambda i: True)]
    for name, keep in picks:
        base = os.path.splitext(name)[0]
        for i, (dlt, frame) in enumerate(packets(os.path.join(GOLDEN, name))):
            if keep(i) and dlt in TUNNEL_DLTS:
                with open(os.path.join(out, "%s_%02d" % (base, i)), "wb") as f:
                    f.write(bytes([TUNNEL_DLTS.index(dlt)]) + frame)


def ip_fragment(frame):
    """(ipv6, more, proto, ident, offset, data) of an Ethernet IP fragment."""
    et = struct.unpack("!H", frame[12:14])[0]
    ip = frame[14:]
    if et == 0x0800 and len(ip) >= 20:
        ihl = (ip[0] & 15) * 4
        tot = struct.unpack("!H", ip[2:4])[0]
        fo = struct.unpack("!H", ip[6:8])[0]
        if fo & 0x3FFF:
            return (False, bool(fo & 0x2000), ip[9], struct.unpack("!H", ip[4:6])[0],
                    (fo & 0x1FFF) * 8, ip[ihl:tot])
    if et == 0x86DD and len(ip) >= 48 and ip[6] == 44:
        nh, _, fo, ident = struct.unpack("!BBHI", ip[40:48])
        return True, bool(fo & 1), nh, ident, fo & 0xFFF8, ip[48:40 + struct.unpack("!H", ip[4:6])[0]]
    return None


def frag_record(fr, slot, dt=0):
    v6, more, proto, _, off, data = fr
    pidx = {6: 0, 17: 1, 47: 2}.get(proto, 3)
    flags = int(v6) | (int(more) << 1) | (pidx << 2) | ((slot & 3) << 4)
    return struct.pack("!BHHB", flags, off, len(data), dt) + data


def frag_seeds():
    out = os.path.join(OUT, "fuzz_frag")
    os.makedirs(out, exist_ok=True)
    groups = {}
    for _, frame in packets(os.path.join(GOLDEN, "ip_fragments.pcap")):
        fr = ip_fragment(frame)
        if fr:
            groups.setdefault((fr[0], fr[3]), []).append(fr)
    for n, ((v6, ident), frs) in enumerate(sorted(groups.items())):
        with open(os.path.join(out, "ip_fragments_%d" % n), "wb") as f:
            f.write(b"\0" + b"".join(frag_record(fr, n) for fr in frs))
    flood = [ip_fragment(fr) for _, fr in packets(os.path.join(GOLDEN, "frag_flood.pcap"))]
    flood = [fr for fr in flood if fr]
    with open(os.path.join(out, "frag_flood"), "wb") as f:
        f.write(b"\3" + b"".join(frag_record(fr, i) for i, fr in enumerate(flood[:40] + flood[600:640])))


SIGS = os.path.join(ROOT, "signatures")
EMPTY_FPS = {"version": 1, "entries": []}


def sigdb_seed(name, issuers, fps):
    """One fuzz_sigdb input: the issuer document, NUL, the fingerprint one."""
    def doc(d):
        return d if isinstance(d, bytes) else json.dumps(d, indent=1).encode()
    with open(os.path.join(OUT, "fuzz_sigdb", name), "wb") as f:
        f.write(doc(issuers) + b"\0" + doc(fps))


def sigdb_seeds():
    os.makedirs(os.path.join(OUT, "fuzz_sigdb"), exist_ok=True)
    with open(os.path.join(SIGS, "interception_issuers.json"), "rb") as f:
        iss_raw = f.read()
    with open(os.path.join(SIGS, "known_fingerprints.json"), "rb") as f:
        fps_raw = f.read()
    iss = json.loads(iss_raw)
    fps = json.loads(fps_raw)
    # The shipped issuers with some of each fingerprint type; the shipped
    # fingerprints with the first issuers (the whole of both is larger than
    # fuzz_run.sh's -max_len).
    some = []
    for t in ("ja3", "ja3s", "ja4", "ja4s"):
        some += [e for e in fps["entries"] if e["type"] == t][:25]
    sigdb_seed("shipped_issuers", iss_raw, {"version": 1, "entries": some})
    sigdb_seed("shipped_fps", {"version": 1, "entries": iss["entries"][:3]}, fps_raw)

    src = "crafted seed"
    def ent(i, match, **kw):
        e = {"id": "e%d" % i, "product": "Product %d" % i, "category": "test",
             "kind": "known-interceptor", "match": match, "source": src}
        e.update(kw)
        return e
    crafted = [
        ent(0, {"issuer_cn_regex": "^Acme Inspect(ion)? CA$", "issuer_o_regex": "Acme"}),
        ent(1, {"issuer_ou_regex": "^Proxy [0-9]{2}$", "no_subject_key_identifier": True}),
        ent(2, {"issuer_dn_regex": "O=Filter[a-z]*,", "chain_length_1": True,
                "max_validity_days": 30}, comment=""),
        ent(3, {"subject_cn_regex": "\\.example\\.com$", "subject_o_regex": "[[:alpha:]]+Corp",
                "subject_ou_regex": "gate", "subject_dn_regex": "CN=.*"}),
        ent(4, {"leaf_shares_issuer_key": True}),
        ent(5, {"issuer_cn_regex": "(ab[)]cdef)*gh", "issuer_o_regex": "x{2,3}yzw"}),
        ent(6, {"issuer_cn_regex": "Netfil+ter|Bluecoat"}),
    ]
    fp_same = {"type": "ja3", "value": "0123456789abcdef0123456789abcdef",
               "application": "App", "category": "test", "kind": "known-good", "source": src}
    crafted_fps = [
        fp_same,
        dict(fp_same, application="App 2", kind="library", comment="same value"),
        dict(fp_same, type="ja3s", kind="suspicious"),
        {"type": "ja4", "value": "t13d1516h2_8daaf6152771_02713d6af862", "application": "B",
         "category": "test", "kind": "known-interceptor", "source": src},
        {"type": "ja4s", "value": "t130200_1301_234ea6891581", "application": "C",
         "category": "test", "kind": "library", "source": src},
    ]
    sigdb_seed("crafted", {"version": 1, "comment": "c", "entries": crafted},
               {"version": 1, "entries": crafted_fps})
    sigdb_seed("crafted_issuers_only", {"version": 1, "entries": crafted[:4]}, EMPTY_FPS)
    with open(os.path.join(OUT, "fuzz_sigdb", "no_separator"), "wb") as f:
        f.write(json.dumps({"version": 1, "entries": crafted[4:]}).encode())


GENERATORS = {"fuzz_certmsg": certmsg_seeds, "fuzz_tunnel": tunnel_seeds, "fuzz_frag": frag_seeds,
              "fuzz_sigdb": sigdb_seeds}

if __name__ == "__main__":
    if len(sys.argv) > 1:
        for target in sys.argv[1:]:
            GENERATORS[target]()
        sys.exit(0)
    certmsg_seeds()
    tunnel_seeds()
    frag_seeds()
    sigdb_seeds()
    sys.exit(main())
