#!/usr/bin/env python3
"""check_history.py - Zeek's facts (ssl_history, curve, last_alert) against tshark.

For every golden TCP capture (with its key log when it has one), tshark's
own dissection (-T pdml) gives, per TCP stream and in wire order, each TLS
record's content type and the handshake message types inside it.  From
that this script builds Zeek's ssl_history (a letter per handshake message,
i for ChangeCipherSpec, l for an alert, b for heartbeat, upper case for the
client) and compares it with the event's tls.ssl_history: pinscope writes
its event when the handshake completes, as Zeek logs at establishment, so
the event's history must be a prefix of tshark's, and equal to it for a
connection that ended before completing (when a segment is missing from
the capture, pinscope's reassembly stops that direction at the hole while
tshark reads on: then it must be a subsequence of tshark's).  tls.curve must be the group
tshark reads from the ServerHello's key_share or the ServerKeyExchange.

Final line: "history: N passed, M failed"; skipped without tshark.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LETTER = {0: "h", 1: "c", 2: "s", 3: "v", 4: "t", 5: "e", 6: "j", 8: "o", 11: "x", 12: "k",
          13: "r", 14: "n", 15: "y", 16: "g", 20: "f", 21: "w", 22: "u", 23: "a", 24: "p",
          25: "x", 254: "m"}
HRR_RANDOM = "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"
GROUPS = {23: "secp256r1", 24: "secp384r1", 25: "secp521r1", 29: "x25519", 30: "x448",
          256: "ffdhe2048", 257: "ffdhe3072", 258: "ffdhe4096", 0x11ec: "X25519MLKEM768",
          0x6399: "X25519Kyber768Draft00"}
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL %s" % what)


def fields(elem, name):
    return [f for f in elem.iter("field") if f.get("name") == name]


def tshark_streams(pcap, keylog):
    args = ["tshark", "-n", "-r", pcap, "-T", "pdml", "-Y", "tls"]
    if keylog:
        args += ["-o", "tls.keylog_file:" + keylog]
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    streams = {}
    for pkt in ET.fromstring(p.stdout).iter("packet"):
        src = next((f.get("show") for f in pkt.iter("field") if f.get("name") in ("ip.src", "ipv6.src")), None)
        sport = next((f.get("show") for f in pkt.iter("field") if f.get("name") == "tcp.srcport"), None)
        sid = next((f.get("show") for f in pkt.iter("field") if f.get("name") == "tcp.stream"), None)
        if sid is None:
            continue
        st = streams.setdefault(sid, {"events": [], "client": None, "group": None, "lost": False})
        if any(f.get("name") == "tcp.analysis.lost_segment" for f in pkt.iter("field")):
            st["lost"] = True
        for proto in pkt.iter("proto"):
            if proto.get("name") != "tls":
                continue
            for rec in proto.iter("field"):
                if rec.get("name") != "tls.record":
                    continue
                ct = fields(rec, "tls.record.content_type")
                ctype = int(ct[0].get("show")) if ct else None
                if ctype == 22:
                    for hs in fields(rec, "tls.handshake.type"):
                        t = int(hs.get("show"))
                        if t == 1 and st["client"] is None:
                            st["client"] = (src, sport)
                        st["events"].append(((src, sport), t))
                    rnd = [f.get("value") for f in fields(rec, "tls.handshake.random")]
                    if any(r == HRR_RANDOM for r in rnd):
                        st["events"].append(((src, sport), "hrr"))
                    for g in fields(rec, "tls.handshake.extensions_key_share_group") + \
                            fields(rec, "tls.handshake.server_named_curve"):
                        if (src, sport) != st["client"]:
                            st["group"] = int(g.get("show"), 0)
                elif ctype == 20:
                    st["events"].append(((src, sport), "i"))
                elif ctype == 21:
                    st["events"].append(((src, sport), "l"))
                elif ctype == 24:
                    st["events"].append(((src, sport), "b"))
    out = {}
    for st in streams.values():
        if st["client"] is None:
            continue
        h = []
        for who, e in st["events"]:
            if e == "hrr":
                if h and h[-1] == "s":
                    h[-1] = "j"
                continue
            letter = e if isinstance(e, str) else LETTER.get(e, "z")
            h.append(letter.upper() if who == st["client"] else letter)
        out[st["client"]] = ("".join(h), st["group"], st["lost"])
    return out


def main():
    pinscope = sys.argv[sys.argv.index("--pinscope") + 1] if "--pinscope" in sys.argv else \
        os.path.join(REPO, "pinscope")
    if not shutil.which("tshark"):
        print("history: skipped (no tshark)")
        return 0
    golden = os.path.join(REPO, "tests", "golden")
    compared = 0
    for pcap in sorted(glob.glob(os.path.join(golden, "*.pcap")) + glob.glob(os.path.join(golden, "*.pcapng"))):
        base = pcap.rsplit(".", 1)[0]
        keylog = base + ".keylog" if os.path.exists(base + ".keylog") else None
        args = [pinscope, "--deterministic", "-r", pcap] + (["--keylog", keylog] if keylog else [])
        p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        events = [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]
        events = [e for e in events if e.get("event_type") == "tls" and e.get("proto") == "TCP"
                  and not e["tls"].get("tunnel")]
        if not events:
            continue
        ref = tshark_streams(pcap, keylog)
        name = os.path.basename(pcap)
        for e in events:
            key = (e["src_ip"], str(e["src_port"]))
            if key not in ref:
                continue   # tshark did not take the stream for TLS (odd port, midstream...)
            want, group, lost = ref[key]
            got = e["tls"].get("ssl_history", "")
            compared += 1
            if lost:
                # A segment missing from the capture: reassembly stops that
                # direction at the hole, tshark reads on; what pinscope saw
                # must still come in tshark's order.
                it = iter(want)
                check(got and all(c in it for c in got), "%s %s:%s: ssl_history %r is not a subsequence of "
                      "tshark's %r (segment lost)" % (name, key[0], key[1], got, want))
            elif e["tls"].get("end") == "handshake_complete":
                check(want.startswith(got) and got, "%s %s:%s: ssl_history %r is not a prefix of tshark's %r"
                      % (name, key[0], key[1], got, want))
            else:
                check(got == want, "%s %s:%s: ssl_history %r, tshark %r" % (name, key[0], key[1], got, want))
            if group is not None:
                check(e["tls"].get("curve") == GROUPS.get(group, "0x%04x" % group),
                      "%s %s:%s: curve %r, tshark's group %#x" % (name, key[0], key[1], e["tls"].get("curve"), group))
    check(compared > 20, "compared %d connections with tshark, expected more than 20" % compared)
    print("history: %d connections compared with tshark's dissection" % compared)
    print("history: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
