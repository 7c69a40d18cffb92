#!/usr/bin/env python3
"""check_community_id.py - every event's community_id, checked two ways.

1. Against the Community ID v1 specification
   (github.com/corelight/community-id-spec), computed here from the event's
   own addresses, ports and protocol with hashlib (seed 0; the smaller
   address/port endpoint first), and against the specification's own
   vector (TCP 128.232.110.120:34855 -> 66.35.250.204:80 is
   1:LQU9qZlK+B5F3KDmev6m5PMibrg=).
2. Against tshark, which computes it itself (--enable-protocol communityid):
   the event's value must be one tshark printed for a packet of that
   capture.

Inputs: every golden capture and every sample capture.  Final line:
"communityid: N passed, M failed"; "communityid: skipped" without tshark's
Community ID support.
"""
import argparse
import base64
import glob
import hashlib
import json
import os
import shutil
import socket
import struct
import subprocess
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL %s" % what)


def spec_cid(saddr, daddr, sport, dport, proto, seed=0):
    fam = socket.AF_INET6 if ":" in saddr else socket.AF_INET
    a, b = socket.inet_pton(fam, saddr), socket.inet_pton(fam, daddr)
    if (a, sport) > (b, dport):
        a, b, sport, dport = b, a, dport, sport
    h = hashlib.sha1(struct.pack("!H", seed) + a + b + struct.pack("!BBHH", proto, 0, sport, dport))
    return "1:" + base64.b64encode(h.digest()).decode()


def tshark_ids(pcap):
    p = subprocess.run(["tshark", "-n", "-r", pcap, "--enable-protocol", "communityid",
                        "-T", "fields", "-e", "communityid"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    return {x for line in p.stdout.decode().splitlines() for x in line.split(",") if x}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pinscope", default=os.path.join(REPO, "pinscope"))
    a = ap.parse_args()
    check(spec_cid("128.232.110.120", "66.35.250.204", 34855, 80, 6) ==
          "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", "the specification's TCP vector")
    have_tshark = bool(shutil.which("tshark")) and "communityid" in subprocess.run(
        ["tshark", "-G", "protocols"], stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout.decode()
    caps = sorted(glob.glob(os.path.join(REPO, "tests", "golden", "*.pcap")) +
                  glob.glob(os.path.join(REPO, "samples", "*.pcap")))
    for pcap in caps:
        p = subprocess.run([a.pinscope, "--deterministic", "-r", pcap], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120)
        events = [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]
        ids = tshark_ids(pcap) if have_tshark else None
        name = os.path.basename(pcap)
        for e in events:
            cid = e.get("community_id")
            want = spec_cid(e["src_ip"], e["dest_ip"], e["src_port"], e["dest_port"],
                            6 if e["proto"] == "TCP" else 17)
            check(cid == want, "%s flow %s: community_id %s, the specification gives %s"
                  % (name, e.get("flow_id"), cid, want))
            if ids is not None:
                check(cid in ids, "%s flow %s: community_id %s not among tshark's"
                      % (name, e.get("flow_id"), cid))
    if not have_tshark:
        print("communityid: tshark without Community ID support: compared with the specification only")
    print("communityid: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
