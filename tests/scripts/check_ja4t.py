#!/usr/bin/env python3
"""check_ja4t.py - JA4T, JA4TS, JA4L and JA4LS against FoxIO's own
implementations, on FoxIO's test captures.

../shared/corpus/foxio/upstream-expected.jsonl holds, per TCP stream of
those captures, what FoxIO's Rust and Wireshark implementations print.
For every TLS connection pinscope reports on the same 4-tuple, each of
its four values must equal the reference value or one implementation's
(they disagree on the padding of a zero window scale: "_0" in older
Rust output, "_00" in the current code, which pinscope follows).  A
value the reference has and pinscope lacks fails; streams without TLS
(SSH, HTTP) have no pinscope event and are not compared.

Skipped, saying so, when the corpus is absent.  Also checks the golden
captures of real clients have all four, and that JA4L is only written
for a complete SYN, SYN-ACK, ACK.
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(os.path.dirname(ROOT), "shared", "corpus", "foxio")
KEYS = ("ja4t", "ja4ts", "ja4l", "ja4ls")
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what)


def events(pinscope, pcap):
    p = subprocess.run([pinscope, "-r", pcap, "--deterministic"], capture_output=True, timeout=120)
    out = []
    for line in p.stdout.decode(errors="replace").splitlines():
        e = json.loads(line)
        if e.get("event_type") == "tls" and e.get("proto") == "TCP":
            out.append(e)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pinscope", default="./pinscope")
    a = ap.parse_args()
    pinscope = os.path.abspath(os.path.join(ROOT, a.pinscope))

    # golden captures of real clients: every connection with its SYN has all four
    for name in ("curl_tls13", "openssl_tls13_rsa", "gnutls_tls13", "curl_tls12_port8443"):
        evs = events(pinscope, os.path.join(ROOT, "tests/golden/%s.pcap" % name))
        check(evs and all(all(k in e["tls"] for k in KEYS) for e in evs), "%s: not all four" % name)
    # picked up without its SYN: none
    evs = events(pinscope, os.path.join(ROOT, "tests/golden/no_syn_midstream.pcap"))
    check(evs and not any(k in e["tls"] for e in evs for k in KEYS), "no_syn_midstream has JA4T/L")

    ref = os.path.join(CORPUS, "upstream-expected.jsonl")
    if not os.path.exists(ref):
        print("skip: %s absent: JA4T/JA4L not compared with FoxIO's" % ref)
    else:
        rows = {}
        for line in open(ref):
            r = json.loads(line)
            if r["transport"] == "tcp" and any(k in r for k in KEYS):
                rows.setdefault(r["pcap"], []).append(r)
        compared = 0
        for pcap, rs in sorted(rows.items()):
            path = os.path.join(CORPUS, "pcap", pcap)
            if not os.path.exists(path):
                continue
            got = {}
            for e in events(pinscope, path):
                got[(e["src_ip"], e["src_port"], e["dest_ip"], e["dest_port"])] = e["tls"]
            for r in rs:
                t = got.get((r["src"], r["sport"], r["dst"], r["dport"]))
                if t is None:
                    continue        # not a TLS connection for pinscope
                for k in KEYS:
                    if k not in r:
                        continue
                    ok = {r[k]} | {v[k] for v in r.get("impl", {}).values() if k in v}
                    compared += 1
                    check(t.get(k) in ok, "%s %s:%s: %s %s, FoxIO %s" % (pcap, r["src"], r["sport"], k,
                                                                      t.get(k), sorted(ok)))
        check(compared >= 50, "only %d values compared with FoxIO's" % compared)
        print("ja4t: %d values compared with FoxIO's implementations" % compared)
    print("ja4t: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
