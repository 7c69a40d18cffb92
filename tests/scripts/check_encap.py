#!/usr/bin/env python3
"""check_encap.py - the same handshakes through every encapsulation.

An encapsulation or a fragmentation changes how a packet travels, not what
it carries: the hellos and the certificates read through a tunnel must be
those read without it.  This takes real captures (golden ones with their key
logs, bundled samples with theirs), rewrites every packet:

  gre       in GRE over IPv4 (protocol 0x0800)
  gre_key   in GRE with a key and a sequence number
  erspan2   the Ethernet frame in ERSPAN type II (GRE with a sequence number)
  erspan3   the Ethernet frame in ERSPAN type III
  vxlan     the Ethernet frame in VXLAN (UDP 4789)
  geneve    the Ethernet frame in Geneve (UDP 6081) with one 8-byte option
  mpls      behind two MPLS labels on Ethernet
  pppoe     in a PPPoE session
  ipip      IPv4 in IPv4
  4in6      IPv4 in IPv6 (the inner packets are IPv4, so 6in4's sibling)
  gtpu      in GTP-U (UDP 2152)
  frag4, frag4_rev   every IPv4 packet over 200 bytes in three fragments,
                     in order and last first
  frag6, frag6_rev   every packet rewritten to IPv6 (2001:db8:4::/96 around
                     the IPv4 addresses, checksums redone), those over 200
                     bytes in three fragments with a Fragment header, in
                     order and last first
  gre_frag4          frag4's fragments, each in GRE
  vxlan_outer_frag4  vxlan, the outer IPv4 packets over 200 bytes in three
                     fragments

(outer addresses 198.18.0.0/15 and 2001:db8::/32), runs pinscope
--deterministic --stats on the original and on each rewrite, and requires:

  facts     the same multiset of tls/quic events, each reduced to event
            type, transport, ports, SNI, version, JA3, JA3S, JA4, JA4S,
            state, chain visibility and the SHA-256 lists of the server's
            and the client's chains (no addresses: the 6-in-4 rewrites
            change them)
  layers    every event through a tunnel names that tunnel
            (tls.encapsulation), and no more anomalies than the original
            (ip_fragment aside), frag_reassembled equal to the datagrams
            split
  tshark    tshark reads the rewrite: each rewritten frame's
            frame.protocols holds the encapsulation (gre, erspan, vxlan,
            geneve, mpls, pppoes, ip:ip, ipv6:ip, gtp), every split datagram
            is reassembled, and no frame is Malformed (one tshark run per
            rewrite reads every capture's in turn; skipped, and said, when
            tshark is absent)

Standard library only.  The last line is "encap: N passed, M failed"; exit
status 1 when anything failed.

Usage: tests/scripts/check_encap.py [--pinscope PATH] [-j N] [-v] [--keep DIR]
"""
import argparse
import collections
import concurrent.futures
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GOLDEN = os.path.join(REPO, "tests", "golden")
SAMPLES = os.path.join(REPO, "samples")
TIMEOUT = 120   # per pinscope or tshark run; generous for sanitizer builds

# (capture, key log or None, trust store): TLS 1.2 with a chain, mutual TLS,
# resumption, TLS 1.3 with a key log, a HelloRetryRequest, QUIC (ngtcp2
# with a key log, Chromium), DTLS 1.0 and 1.2 (with HelloVerifyRequest),
# two browsers with key logs and an interception (two legs) from the samples.
G_ROOT = os.path.join(GOLDEN, "certs", "root.pem")
S_ROOT = os.path.join(SAMPLES, "pki", "public-root-ca.pem")
CAPTURES = [
    ("tests/golden/certs_rsa_san.pcap", None, G_ROOT),
    ("tests/golden/certs_mtls.pcap", None, G_ROOT),
    ("tests/golden/certs_tls12_resumed.pcap", None, G_ROOT),
    ("tests/golden/certs_tls13_aes128gcm_curl.pcap", "tests/golden/certs_tls13_aes128gcm_curl.keylog", G_ROOT),
    ("tests/golden/certs_tls13_hrr.pcap", "tests/golden/certs_tls13_hrr.keylog", G_ROOT),
    ("tests/golden/udp_quic_v1_keylog.pcap", "tests/golden/udp_quic_v1_keylog.keylog", G_ROOT),
    ("tests/golden/udp_quic_chromium.pcap", None, G_ROOT),
    ("tests/golden/udp_dtls10_openssl.pcap", None, G_ROOT),
    ("tests/golden/udp_dtls12_openssl_hvr.pcap", None, G_ROOT),
    ("samples/clean_firefox_tls13.pcap", "samples/clean_firefox_tls13.keylog", S_ROOT),
    ("samples/clean_chromium_tls13.pcap", "samples/clean_chromium_tls13.keylog", S_ROOT),
    ("samples/mitm_mitmproxy_curl.pcap", "samples/mitm_mitmproxy_curl.keylog", S_ROOT),
]

ENCAPS = ["gre", "gre_key", "erspan2", "erspan3", "vxlan", "geneve", "mpls", "pppoe", "ipip",
          "4in6", "gtpu"]
FRAGS = ["frag4", "frag4_rev", "frag6", "frag6_rev"]
# Both at once: the inner packet's fragments each in GRE, and a VXLAN
# packet's outer IPv4 header fragmented (what a too-small underlay MTU does).
COMBOS = ["gre_frag4", "vxlan_outer_frag4"]
COMBO_ENCAP = {"gre_frag4": "gre", "vxlan_outer_frag4": "vxlan"}
# What pinscope names each tunnel (tls.encapsulation[].type) and what
# tshark's frame.protocols must hold.
PINSCOPE_NAME = {"gre": "gre", "gre_key": "gre", "erspan2": "erspan", "erspan3": "erspan",
                 "vxlan": "vxlan", "geneve": "geneve", "mpls": "mpls", "pppoe": "pppoe",
                 "ipip": "ipip", "4in6": "ipip", "gtpu": "gtpu"}
TSHARK_NAME = {"gre": ":gre:", "gre_key": ":gre:", "erspan2": ":erspan:", "erspan3": ":erspan:",
               "vxlan": ":vxlan:", "geneve": ":geneve:", "mpls": ":mpls:", "pppoe": ":pppoes:",
               "ipip": ":ip:ip:", "4in6": ":ipv6:ip:", "gtpu": ":gtp:"}

FRAG_MIN = 200   # packets longer than this are split
IDENT_STRIDE = 1024   # fragment identifications per capture (its packets at most)

# Outer endpoints: A is the side with the lower inner address.
OUT4_A, OUT4_B = bytes([198, 18, 7, 1]), bytes([198, 18, 7, 2])
OUT6_A = bytes.fromhex("20010db8000700000000000000000001")
OUT6_B = bytes.fromhex("20010db8000700000000000000000002")
MAC = b"\x02\0\0\0\x07\x02\x02\0\0\0\x07\x01"
V6_PREFIX = bytes.fromhex("20010db8000400000000000000000000")[:12]   # 2001:db8:4::/96


# ---- pcap files ------------------------------------------------------------

def read_pcap(path):
    """(link type, nanosecond?, [(sec, frac, orig_len, bytes)])."""
    data = open(path, "rb").read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise ValueError("%s: not a classic pcap file" % path)
    nsec = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(e + "I", data[20:24])[0] & 0x0FFFFFFF
    recs, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
        recs.append((sec, frac, orig, data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return linktype, nsec, recs


def write_pcap(path, nsec, recs):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D if nsec else 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for sec, frac, frame in recs:
            f.write(struct.pack("<IIII", sec, frac, len(frame), len(frame)) + frame)


# ---- headers ---------------------------------------------------------------

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s >> 16) + (s & 0xFFFF)
    return ~s & 0xFFFF


def ipv4_hdr(src, dst, proto, plen, ident=0, frag=0x4000):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + plen, ident & 0xFFFF, frag, 64, proto, 0, src, dst)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:]


def ipv6_hdr(src, dst, nh, plen):
    return struct.pack("!IHBB", 6 << 28, plen, nh, 64) + src + dst


def eth(payload, etype):
    return MAC + struct.pack("!H", etype) + payload


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def split_frame(frame):
    """(Ethernet header without tags' worth of trouble, EtherType, IP packet
    cut to its own length) or None for anything but IPv4/IPv6."""
    if len(frame) < 14:
        return None
    off, etype = 12, struct.unpack("!H", frame[12:14])[0]
    while etype in (0x8100, 0x88A8) and len(frame) >= off + 6:
        off += 4
        etype = struct.unpack("!H", frame[off:off + 2])[0]
    ip = frame[off + 2:]
    if etype == 0x0800 and len(ip) >= 20 and ip[0] >> 4 == 4:
        tot = struct.unpack("!H", ip[2:4])[0]
        if tot > len(ip):
            return None   # cut by the snap length: leave it alone
        return frame[:off + 2], etype, ip[:tot]
    if etype == 0x86DD and len(ip) >= 40 and ip[0] >> 4 == 6:
        tot = 40 + struct.unpack("!H", ip[4:6])[0]
        if tot > len(ip):
            return None
        return frame[:off + 2], etype, ip[:tot]
    return None


def ip_addrs(ip):
    return (ip[12:16], ip[16:20]) if ip[0] >> 4 == 4 else (ip[8:24], ip[24:40])


def forward(ip):
    s, d = ip_addrs(ip)
    return s <= d


class Wrapper:
    """Per-file state: GRE/ERSPAN sequence numbers, outer IP ids."""

    def __init__(self, kind):
        self.kind = kind
        self.seq = 0

    def outer4(self, fwd, proto, payload):
        self.seq += 1
        a, b = (OUT4_A, OUT4_B) if fwd else (OUT4_B, OUT4_A)
        return eth(ipv4_hdr(a, b, proto, len(payload), self.seq) + payload, 0x0800)

    def outer6(self, fwd, nh, payload):
        a, b = (OUT6_A, OUT6_B) if fwd else (OUT6_B, OUT6_A)
        return eth(ipv6_hdr(a, b, nh, len(payload)) + payload, 0x86DD)

    def gre(self, proto, payload, key=None, seq=None):
        flags = (0x2000 if key is not None else 0) | (0x1000 if seq is not None else 0)
        h = struct.pack("!HH", flags, proto)
        if key is not None:
            h += struct.pack("!I", key)
        if seq is not None:
            h += struct.pack("!I", seq)
        return h + payload

    def wrap(self, l2, etype, ip):
        """The frame for inner IP packet `ip` (link header l2)."""
        k, fwd = self.kind, forward(ip)
        frame = l2 + ip   # without Ethernet padding
        if k == "gre":
            return self.outer4(fwd, 47, self.gre(etype, ip))
        if k == "gre_key":
            return self.outer4(fwd, 47, self.gre(etype, ip, key=0x5EED, seq=self.seq))
        if k == "erspan2":
            hdr = struct.pack("!HHI", (1 << 12) | 100, (0 << 13) | 42, 7)
            return self.outer4(fwd, 47, self.gre(0x88BE, hdr + frame, seq=self.seq))
        if k == "erspan3":
            hdr = struct.pack("!HHIHH", (2 << 12) | 100, 77, self.seq * 1000, 0, 0)
            return self.outer4(fwd, 47, self.gre(0x22EB, hdr + frame, seq=self.seq))
        if k == "vxlan":
            hdr = struct.pack("!II", 0x08000000, 4242 << 8)
            return self.outer4(fwd, 17, udp(50000 if fwd else 50001, 4789, hdr + frame))
        if k == "geneve":
            opt = struct.pack("!HBB", 0x0104, 0x01, 1) + b"\xde\xad\xbe\xef"
            hdr = struct.pack("!BBHI", len(opt) // 4, 0, 0x6558, 777 << 8)
            return self.outer4(fwd, 17, udp(52000 if fwd else 52001, 6081, hdr + opt + frame))
        if k == "mpls":
            stack = struct.pack("!II", (16 << 12) | 64, (1000 + (0 if fwd else 1)) << 12 | 0x100 | 64)
            return eth(stack + ip, 0x8847)
        if k == "pppoe":
            return eth(struct.pack("!BBHHH", 0x11, 0, 0x0BAD, len(ip) + 2,
                                   0x0021 if etype == 0x0800 else 0x0057) + ip, 0x8864)
        if k == "ipip":
            return self.outer4(fwd, 4 if etype == 0x0800 else 41, ip)
        if k == "4in6":
            return self.outer6(fwd, 4 if etype == 0x0800 else 41, ip)
        if k == "gtpu":
            teid = 0x1000 if fwd else 0x2000
            return self.outer4(fwd, 17, udp(2152, 2152, struct.pack("!BBHI", 0x30, 0xFF, len(ip), teid) + ip))
        raise ValueError(k)


def l4_fix(proto, src, dst, seg, v6):
    """seg with its TCP or UDP checksum computed for these addresses."""
    if proto == 6 and len(seg) >= 20:
        at = 16
    elif proto == 17 and len(seg) >= 8:
        at = 6
    else:
        return seg
    if v6:
        pseudo = src + dst + struct.pack("!IxxxB", len(seg), proto)
    else:
        pseudo = src + dst + struct.pack("!xBH", proto, len(seg))
    z = seg[:at] + b"\0\0" + seg[at + 2:]
    c = csum(pseudo + z)
    if proto == 17 and c == 0:
        c = 0xFFFF
    return seg[:at] + struct.pack("!H", c) + seg[at + 2:]


def to_ipv6(ip):
    """An unfragmented IPv4 packet as IPv6 (addresses in 2001:db8:4::/96),
    or None."""
    ihl = (ip[0] & 15) * 4
    if struct.unpack("!H", ip[6:8])[0] & 0x3FFF:
        return None
    proto = ip[9]
    src, dst = V6_PREFIX + ip[12:16], V6_PREFIX + ip[16:20]
    seg = l4_fix(proto, src, dst, ip[ihl:], True)
    return ipv6_hdr(src, dst, proto, len(seg)) + seg


def cuts(plen, first_min):
    """Two cut points (multiples of 8) splitting plen bytes in three, the
    first no earlier than first_min (the transport header)."""
    c1 = max((plen // 3) & ~7, (first_min + 7) & ~7)
    c2 = max((2 * plen // 3) & ~7, c1 + 8)
    return c1, c2


def frag4(ip, ident):
    ihl = (ip[0] & 15) * 4
    payload = ip[ihl:]
    if struct.unpack("!H", ip[6:8])[0] & 0x3FFF:
        return None   # already a fragment
    thl = ((payload[12] >> 4) * 4 if len(payload) >= 13 else 20) if ip[9] == 6 else 8
    c1, c2 = cuts(len(payload), thl)
    if c2 >= len(payload):
        return None
    out = []
    for lo, hi, more in ((0, c1, 1), (c1, c2, 1), (c2, len(payload), 0)):
        body = payload[lo:hi]
        h = bytearray(ip[:ihl])
        h[2:4] = struct.pack("!H", ihl + len(body))
        h[4:6] = struct.pack("!H", ident & 0xFFFF)
        h[6:8] = struct.pack("!H", (0x2000 if more else 0) | (lo // 8))
        h[10:12] = b"\0\0"
        h[10:12] = struct.pack("!H", csum(bytes(h)))
        out.append(bytes(h) + body)
    return out


def frag6(ip, ident):
    nh, payload = ip[6], ip[40:]
    if nh not in (6, 17):
        return None
    thl = ((payload[12] >> 4) * 4 if len(payload) >= 13 else 20) if nh == 6 else 8
    c1, c2 = cuts(len(payload), thl)
    if c2 >= len(payload):
        return None
    out = []
    for lo, hi, more in ((0, c1, 1), (c1, c2, 1), (c2, len(payload), 0)):
        fh = struct.pack("!BBHI", nh, 0, lo | more, ident)
        body = fh + payload[lo:hi]
        out.append(ipv6_hdr(ip[8:24], ip[24:40], 44, len(body)) + body)
    return out


def rewrite(src_path, variant, out_path, ident_base):
    """Write the rewrite of src_path; returns (frames rewritten (indexes in
    the output), datagrams split, the output's records with microsecond
    times).  Fragment identifications start at ident_base."""
    _, nsec, recs = read_pcap(src_path)
    if len(recs) > IDENT_STRIDE:
        raise ValueError("%s: more than %d packets" % (src_path, IDENT_STRIDE))
    out, marked, split = [], [], 0
    w = Wrapper(COMBO_ENCAP.get(variant, variant))
    for i, (sec, frac, _, frame) in enumerate(recs):
        parts = split_frame(frame)
        if parts is None:
            out.append((sec, frac, frame))
            continue
        l2, etype, ip = parts
        if variant in ENCAPS:
            marked.append(len(out))
            out.append((sec, frac, w.wrap(l2, etype, ip)))
            continue
        if variant == "gre_frag4":
            pieces = frag4(ip, ident_base + i) if etype == 0x0800 and len(ip) > FRAG_MIN else None
            split += pieces is not None
            for piece in pieces or [ip]:
                marked.append(len(out))
                out.append((sec, frac, w.wrap(l2, etype, piece)))
            continue
        if variant == "vxlan_outer_frag4":
            ol2, _, oip = split_frame(w.wrap(l2, etype, ip))
            pieces = frag4(oip, ident_base + i) if len(oip) > FRAG_MIN else None
            split += pieces is not None
            if pieces is None:
                marked.append(len(out))
            for piece in pieces or [oip]:
                out.append((sec, frac, ol2 + piece))
            continue
        rev = variant.endswith("_rev")
        if variant.startswith("frag6"):
            if etype == 0x0800:
                ip6 = to_ipv6(ip)
                if ip6 is None:
                    out.append((sec, frac, frame))
                    continue
                ip, etype = ip6, 0x86DD
            l2 = l2[:-2] + b"\x86\xdd"
            pieces = frag6(ip, 0x10000 + ident_base + i) if len(ip) > FRAG_MIN else None
        else:
            pieces = frag4(ip, ident_base + i) if etype == 0x0800 and len(ip) > FRAG_MIN else None
        if pieces is None:
            out.append((sec, frac, l2 + ip))
            continue
        split += 1
        for piece in (reversed(pieces) if rev else pieces):
            marked.append(len(out))
            out.append((sec, frac, l2 + piece))
    write_pcap(out_path, nsec, out)
    return marked, split, [(sec, frac // 1000 if nsec else frac, fr) for sec, frac, fr in out]


# ---- pinscope --------------------------------------------------------------

def run_pinscope(binary, pcap, keylog, ca):
    cmd = [binary, "--deterministic", "--stats", "-r", pcap, "--ca-bundle", ca]
    if keylog:
        cmd += ["--keylog", keylog]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, "timed out"
    if p.returncode != 0:
        return None, "exit status %d: %s" % (p.returncode, p.stderr.decode(errors="replace")[-300:])
    events = []
    for line in p.stdout.decode().splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            return None, "not JSON: %s" % line[:200]
    return events, ""


def chain_ids(chain):
    return tuple(c.get("sha256", "?") for c in chain or ())


def facts(e):
    t = e.get("tls") or {}
    return (e.get("event_type"), e.get("proto"), e.get("src_port"), e.get("dest_port"),
            t.get("sni"), t.get("version"), (t.get("ja3") or {}).get("hash"),
            (t.get("ja3s") or {}).get("hash"), t.get("ja4"), t.get("ja4s"), t.get("state"),
            t.get("chain_visible"), chain_ids(t.get("x509_chain")),
            chain_ids((t.get("client") or {}).get("x509_chain")))


def summarise(events):
    conns = collections.Counter(facts(e) for e in events if e.get("event_type") in ("tls", "quic"))
    stats = next((e["stats"] for e in events if e.get("event_type") == "stats"), {})
    return conns, stats


# ---- tshark ----------------------------------------------------------------

def run_tshark(pcap):
    cmd = ["tshark", "-n", "-r", pcap, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a",
           "-E", "aggregator=|", "-e", "frame.protocols", "-e", "_ws.malformed",
           "-e", "_ws.expert.message", "-e", "ip.fragment.count", "-e", "ipv6.fragment.count"]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None
    if p.returncode != 0:
        return None
    return [line.split("\t") for line in p.stdout.decode(errors="replace").splitlines()]


def tshark_problems(rows, variant, marked, split):
    if rows is None:
        return ["tshark could not read it, or not all of it"]
    probs = []
    for i, r in enumerate(rows):
        r += [""] * (5 - len(r))
        if r[1] or "Malformed" in r[2]:
            probs.append("frame %d: Malformed (%s)" % (i + 1, r[2][:120]))
    encap = COMBO_ENCAP.get(variant, variant)
    if encap in ENCAPS:
        want = TSHARK_NAME[encap]
        # Outer fragments but the last show no tunnel: the reassembled
        # datagram does.
        marked = marked + ([i for i, r in enumerate(rows) if r[3].split("|")[0] == "3"]
                           if variant == "vxlan_outer_frag4" else [])
        for i in marked:
            if i >= len(rows) or want not in rows[i][0] + ":":
                probs.append("frame %d: %r not in %s" % (i + 1, want.strip(":"),
                                                         rows[i][0][:80] if i < len(rows) else "?"))
    if variant not in ENCAPS:
        col = 4 if variant.startswith("frag6") else 3
        done = sum(1 for r in rows if r[col].split("|")[0] == "3")
        if done != split:
            probs.append("%d datagrams split in three, %d reassembled by tshark" % (split, done))
    return probs[:5] + (["... %d more" % (len(probs) - 5)] if len(probs) > 5 else [])


# ---- the checks ------------------------------------------------------------

class Results:
    def __init__(self, verbose):
        self.passed = self.failed = 0
        self.verbose = verbose

    def check(self, ok, where, what, detail=()):
        if ok:
            self.passed += 1
            if self.verbose:
                print("ok   %s: %s" % (where, what))
            return
        self.failed += 1
        print("FAIL %s: %s" % (where, what))
        for d in detail:
            print("    " + d)


def diff_lines(want, got):
    out = []
    for k in sorted(set(want) | set(got), key=repr):
        if want[k] != got[k]:
            out.append("%s %d, want %d: %s" % ("extra" if got[k] > want[k] else "missing",
                                               got[k], want[k], k))
    return out[:6]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pinscope", default=os.environ.get("PINSCOPE", os.path.join(REPO, "pinscope")))
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("-v", "--verbose", action="store_true", help="list the checks that passed too")
    ap.add_argument("--keep", metavar="DIR", help="write the rewritten captures to DIR and keep them")
    ap.add_argument("--variants", help="comma-separated subset of: " + ",".join(ENCAPS + FRAGS + COMBOS))
    ap.add_argument("captures", nargs="*", help="only these captures (paths as listed in the script)")
    args = ap.parse_args()
    os.chdir(REPO)
    binary = os.path.abspath(args.pinscope) if os.sep in args.pinscope else args.pinscope
    if not os.access(binary, os.X_OK):
        print("encap: pinscope not found or not executable: %s" % binary)
        print("encap: 0 passed, 1 failed")
        return 1
    have_tshark = shutil.which("tshark") is not None
    if not have_tshark:
        print("encap: tshark not found, its checks are skipped")
    variants = args.variants.split(",") if args.variants else ENCAPS + FRAGS + COMBOS
    caps = [c for c in CAPTURES if not args.captures or c[0] in args.captures
            or os.path.basename(c[0]) in args.captures]
    caps = [c for c in caps if os.path.exists(c[0])]
    R = Results(args.verbose)
    tmp = args.keep or tempfile.mkdtemp(prefix="pinscope-encap.")
    os.makedirs(tmp, exist_ok=True)
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            base = {c[0]: pool.submit(run_pinscope, binary, c[0], c[1], c[2]) for c in caps}
            jobs = []
            for v in variants:
                # tshark reads one file per rewrite, every capture in turn
                # (their connections do not share addresses and ports, nor
                # their fragments identifications), each one's frames
                # checked apart: its start is the price of a run.
                merged, at = [], []
                for k, c in enumerate(caps):
                    out = os.path.join(tmp, "%s.%s.pcap" % (os.path.basename(c[0])[:-5], v))
                    marked, split, recs = rewrite(c[0], v, out, k * IDENT_STRIDE)
                    fut_p = pool.submit(run_pinscope, binary, out, c[1], c[2])
                    at.append((len(merged), len(recs)))
                    merged += recs
                    jobs.append([c, v, marked, split, fut_p, None, at[-1]])
                if have_tshark:
                    path = os.path.join(tmp, "all.%s.pcap" % v)
                    write_pcap(path, False, merged)
                    fut_t = pool.submit(run_tshark, path)
                    for j in jobs[-len(caps):]:
                        j[5] = fut_t
            for c, v, marked, split, fut_p, fut_t, (start, count) in jobs:
                where = "%s %s" % (os.path.basename(c[0]), v)
                want_ev, err0 = base[c[0]].result()
                got_ev, err = fut_p.result()
                if want_ev is None or got_ev is None:
                    R.check(False, where, "pinscope: " + (err0 or err))
                    continue
                want, want_st = summarise(want_ev)
                got, got_st = summarise(got_ev)
                R.check(want == got and sum(want.values()) > 0, where,
                        "facts of %d connections" % sum(want.values()),
                        diff_lines(want, got) or ["no tls/quic event in the original"])
                probs = []
                if v in ENCAPS or v in COMBOS:
                    for e in got_ev:
                        if e.get("event_type") not in ("tls", "quic"):
                            continue
                        kinds = [x.get("type") for x in (e.get("tls") or {}).get("encapsulation", [])]
                        if kinds != [PINSCOPE_NAME[COMBO_ENCAP.get(v, v)]]:
                            probs.append("event on port %s: encapsulation %s" % (e.get("src_port"), kinds))
                if v not in ENCAPS:
                    if got_st.get("frag_reassembled", 0) - want_st.get("frag_reassembled", 0) != split:
                        probs.append("frag_reassembled %s, %d datagrams split" %
                                     (got_st.get("frag_reassembled"), split))
                wa = dict(want_st.get("anomalies", {}))
                ga = dict(got_st.get("anomalies", {}))
                wa.pop("ip_fragment", None)
                ga.pop("ip_fragment", None)
                if ga != wa:
                    probs.append("anomalies %s, original %s" % (ga, wa))
                R.check(not probs, where, "layers", probs[:5])
                if fut_t is not None:
                    rows = fut_t.result()
                    rows = rows[start:start + count] if rows is not None and len(rows) >= start + count \
                        else None
                    probs = tshark_problems(rows, v, marked, split)
                    R.check(not probs, where, "tshark (%d frames rewritten)" % len(marked), probs)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print("encap: %d captures x %d rewrites" % (len(caps), len(variants)))
    print("encap: %d passed, %d failed" % (R.passed, R.failed))
    return 1 if R.failed else 0


if __name__ == "__main__":
    sys.exit(main())
