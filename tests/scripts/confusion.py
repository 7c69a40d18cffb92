#!/usr/bin/env python3
"""confusion.py - how the detections do on the project's own captures.

Every TLS connection of samples/*.pcap is labelled by how it was made
(samples/README.md): the client leg of a mitm_* or pinning_* capture
(client 198.18.0.10) was intercepted; every connection of the clean_* and
older captures was not; the proxy's own upstream leg (198.18.1.1) is
neither (an alert naming the proxy there is right, and so is silence) and
is left out.  pinscope reads each capture four ways: with and without its
key log, with no policy and with a policy learned (`pinscope learn`) from
the captures that were not intercepted.  A connection is "flagged" when
an alert of the interception or policy family names it (a client's
refusal is its own kind: openssl_tls12_unknown_ca's client really
refuses), "called intercepted" when the report would say so (an
interception product, or a severity-1 alert of those families).

Prints one confusion matrix per way (--markdown: the README's table) and
checks:
  - with key logs, or with a learned policy (whose server baselines hold
    the answering TCP stack: JA4TS and the SYN-ACK's TTL): every
    intercepted connection flagged;
  - no clean connection flagged, any way;
  - without keys and without a policy (TLS 1.3 hides the chain): at least
    KEYLESS_FLOOR intercepted connections flagged.
Exit status 1 when one is missed.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INTERCEPTED_CLIENT = "198.18.0.10"
KEYLESS_FLOOR = 3
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what)


def truth(capture, ev):
    """'intercepted' (the client leg), 'proxy' (the proxy's own upstream
    connection: an alert naming the proxy there is right, silence too) or
    'clean'."""
    name = os.path.basename(capture)
    if name.startswith("mitm_") or name.startswith("pinning_"):
        return "intercepted" if ev["src_ip"] == INTERCEPTED_CLIENT else "proxy"
    return "clean"


def analyse(pinscope, capture, keys, policy):
    args = [pinscope, "-r", capture, "--ca-bundle", "samples/pki/public-root-ca.pem"]
    kl = capture[:-5] + ".keylog"
    if keys and os.path.exists(kl):
        args += ["--keylog", kl]
    if policy:
        args += ["--policy", policy]
    p = subprocess.run(args, cwd=ROOT, capture_output=True, timeout=120)
    conns = {}
    for line in p.stdout.decode().splitlines():
        e = json.loads(line)
        key = (e["flow_id"], e["timestamp"] if e["event_type"] == "tls" else e["flow"]["start"])
        c = conns.setdefault(key, {"ev": None, "alerts": []})
        if e["event_type"] == "tls":
            c["ev"] = e
        elif e["event_type"] == "alert":
            c["alerts"].append(e["alert"])
    return [c for c in conns.values() if c["ev"]]


def strong(c):
    if c["ev"]["tls"].get("interception_product"):
        return True
    return any(a["severity"] == 1 and a.get("metadata", {}).get("detection_family", [""])[0]
               in ("interception", "policy") for a in c["alerts"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pinscope", default="./pinscope")
    ap.add_argument("--markdown", action="store_true", help="print the README's table")
    a = ap.parse_args()
    pinscope = os.path.abspath(os.path.join(ROOT, a.pinscope))
    captures = sorted(glob.glob(os.path.join(ROOT, "samples", "*.pcap")))
    if not captures:
        print("confusion: no samples")
        print("confusion: 0 passed, 1 failed")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        learned = os.path.join(tmp, "learned.json")
        args = [pinscope, "learn", "--ca-bundle", "samples/pki/public-root-ca.pem", "-o", learned]
        for c in captures:
            b = os.path.basename(c)
            if not (b.startswith("mitm_") or b.startswith("pinning_")):
                args += ["-r", c]
                if os.path.exists(c[:-5] + ".keylog"):
                    args += ["--keylog", c[:-5] + ".keylog"]
        subprocess.run(args, cwd=ROOT, check=True, capture_output=True)
        rows = []
        for policy_name, policy in (("none", None), ("learned", learned)):
            for keys in (True, False):
                tp = fn = fp = tn = strong_tp = 0
                missed = []
                noisy = []
                for cap in captures:
                    for c in analyse(pinscope, cap, keys, policy):
                        label = truth(cap, c["ev"])
                        if label == "proxy":
                            continue
                        intercepted = label == "intercepted"
                        flagged = any(x.get("metadata", {}).get("detection_family", [""])[0]
                                      in ("interception", "policy") for x in c["alerts"]) or strong(c)
                        if intercepted and flagged:
                            tp += 1
                            strong_tp += strong(c)
                        elif intercepted:
                            fn += 1
                            missed.append(os.path.basename(cap))
                        elif flagged:
                            fp += 1
                            noisy.append("%s:%s" % (os.path.basename(cap),
                                                    ",".join(str(x["signature_id"]) for x in c["alerts"])))
                        else:
                            tn += 1
                rows.append((policy_name, keys, tp, fn, fp, tn, strong_tp, missed, noisy))
    if a.markdown:
        print("| policy | key logs | intercepted, flagged | intercepted, missed | clean, flagged | clean, quiet | recall | of them called intercepted |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
    for policy_name, keys, tp, fn, fp, tn, strong_tp, missed, noisy in rows:
        recall = 100.0 * tp / (tp + fn) if tp + fn else 100.0
        if a.markdown:
            print("| %s | %s | %d | %d | %d | %d | %.0f%% | %d |" % (policy_name, "yes" if keys else "no", tp, fn,
                                                                  fp, tn, recall, strong_tp))
        else:
            print("policy %-7s keys %-3s: intercepted %d flagged, %d missed; clean %d flagged, %d quiet; "
                  "recall %.0f%%; %d called intercepted" % (policy_name, "yes" if keys else "no", tp, fn, fp,
                                                             tn, recall, strong_tp))
            if missed:
                print("    missed: %s" % ", ".join(sorted(set(missed))))
            if noisy:
                print("    clean but flagged: %s" % ", ".join(sorted(set(noisy))))
        check(fp == 0, "policy %s, keys %s: %d clean connections flagged: %s" % (policy_name, keys, fp, noisy[:5]))
        if keys or policy_name == "learned":
            check(fn == 0, "policy %s, keys %s: %d intercepted connections missed: %s"
                  % (policy_name, keys, fn, missed))
        else:
            check(tp >= KEYLESS_FLOOR, "no policy, without keys: %d flagged, fewer than %d"
                  % (tp, KEYLESS_FLOOR))
    if not a.markdown:
        print("confusion: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
