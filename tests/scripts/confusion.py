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

Prints one confusion matrix per way and checks:
  - with key logs, or with a learned policy (whose server baselines hold
    the answering TCP stack: JA4TS and the SYN-ACK's TTL): every
    intercepted connection flagged;
  - no clean connection flagged, any way;
  - without keys and without a policy (TLS 1.3 hides the chain): at least
    KEYLESS_FLOOR intercepted connections flagged.

Per signature id, over the samples and the labelled captures of
tests/golden/ (GOLDEN below: each group learns its own policy from its
captures that hold no intercepted connection), the same four ways: TP, FP,
FN, precision and recall.  A positive is, for the refusal sids (9100014,
9100015, 9100017, 9100024), a connection whose client refused the certificate it
was shown (REFUSING), intercepted or not; for every other sid an
intercepted client leg.  It checks:
  - no severity-1 alert on a connection that is not a positive of its sid;
  - every confidence (severity) an alert carries is one SIDS names for it;
  - a sid that never fires has a reason in NOT_MEASURED, and one that
    fires has none there;
  - README.md's two tables (between the `confusion.py` markers) are what
    this computes; --update-readme rewrites them.
Exit status 1 when one is missed.
"""
import argparse
import concurrent.futures
import difflib
import glob
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
README = os.path.join(ROOT, "README.md")
INTERCEPTED_CLIENT = "198.18.0.10"
KEYLESS_FLOOR = 3
passed = failed = 0

# Signature ids (src/policy/detect.h): short name and the confidence
# (severity) src/policy/detect.c gives each alert.
SIDS = {
    9100001: ("pin mismatch", "high (1)"),
    9100002: ("pin mismatch, pin-set expired", "low (3)"),
    9100003: ("unexpected issuer", "high (1); medium (2) when the issuing certificate was not sent"),
    9100004: ("known interception product", "high (1)"),
    9100005: ("untrusted chain for a public-looking name", "medium (2)"),
    9100006: ("leaf without embedded SCTs", "medium (2); low (3) when the chain validates"),
    9100007: ("leaf shares its issuer's key", "high (1)"),
    9100008: ("leaf backdated by whole days", "medium (2)"),
    9100009: ("client fingerprint outside its baseline", "medium (2)"),
    9100010: ("known interceptor client fingerprint",
              "medium (2) on a JA4 entry; low (3) on a JA3 entry alone or one a known-good client shares"),
    9100011: ("server fingerprint outside its baseline", "medium (2)"),
    9100012: ("TLS version outside its baseline", "medium (2)"),
    9100013: ("ALPN outside its baseline", "medium (2)"),
    9100014: ("client refused the certificate",
              "high (1) on a certificate alert; medium (2) on another fatal alert"),
    9100015: ("client closed TLS 1.3 before its Finished", "medium (2)"),
    9100016: ("both legs of one interception",
              "high (1) with the other leaf and an explicit proxy's shape or CONNECT target; "
              "else medium (1)"),
    9100017: ("client closed after the certificate", "medium (2)"),
    9100018: ("client required ECH and did not get it", "medium (2)"),
    9100019: ("server TCP stack outside its baseline", "medium (2)"),
    9100020: ("resumed session of a flagged connection",
              "the origin's most severe alert's: high (1), medium (2) or low (3)"),
    9100021: ("chain to a removed root", "low (3)"),
    9100022: ("server handshake shape outside its baseline", "medium (2)"),
    9100023: ("one server name answered two ways", "medium (2)"),
    9100024: ("client closed right after the handshake", "medium (3)"),
}
REFUSAL_SIDS = (9100014, 9100015, 9100017, 9100024)

# Why a sid never fires on these captures (checked: a sid listed here that
# fires, or one that never fires and is not listed, fails).
NOT_MEASURED = {
    9100002: "the learned pin-sets carry no `expires`",
    9100005: "every server name here is under `.test`, which is not public-looking",
    9100006: "every server name here is under `.test`, which is not public-looking",
    9100009: "a client leg carries the client's own ClientHello, which its learned baseline "
             "holds; a proxy's is on its upstream leg, which carries no label",
    9100010: "fires only on the proxies' own upstream legs, which carry no label",
    9100012: "every TLS version a proxy here answered with is one its learned "
             "baseline holds",
    9100013: "every ALPN a proxy here chose is one its learned baseline holds",
    9100018: "no capture offers ECH (needs an ECH-capable client and server)",
    9100021: "no labelled capture chains to a removed root (`tests/golden/removed_root_*.pcap` "
             "are crafted, checked by the golden tests)",
}

# Labelled captures of tests/golden/: groups of captures read together
# with one learned policy each.  label(ev) is "intercepted", "clean" or
# "proxy" (left out); refusing(ev) says whether the client refused.
GOLDEN = [
    {"name": "golden keyless",
     "captures": ["keyless_direct_a", "keyless_direct_b", "keyless_two_clients",
                  "keyless_squid_bump", "keyless_sslsplit", "keyless_mixed_squid",
                  "keyless_mixed_sslsplit"],
     # squid and sslsplit answer on 198.18.0.2, the origin is 198.18.0.6
     "label": lambda cap, ev: "intercepted" if ev["dest_ip"] == "198.18.0.2" else "clean",
     "refusing": lambda cap, ev: False},
    {"name": "golden refusals",
     "captures": ["pyopenssl_pin_refuses", "gnutls_tls13_unknown_ca",
                  "openssl_tls13_empty_client_cert"],
     "label": lambda cap, ev: "clean",
     "refusing": lambda cap, ev: cap != "openssl_tls13_empty_client_cert"},
    # An explicit proxy (squid on 198.18.0.2:3128) whose upstream leaves
    # from 198.18.0.13: bumped, the client's leg is intercepted; spliced, it
    # is the origin's TLS.  The upstream legs are the proxy's own.
    {"name": "golden explicit proxy, other upstream address",
     "captures": ["squid_bump_other_upstream", "squid_splice_other_upstream"],
     "label": lambda cap, ev: ("proxy" if ev["src_ip"] == "198.18.0.13" else
                               "intercepted" if cap == "squid_bump_other_upstream" else "clean"),
     "refusing": lambda cap, ev: False},
    # Every capture of its servers holds an intercepted connection too, so
    # nothing to learn from: "learned" reads it without a policy.
    {"name": "golden resumption",
     "captures": ["tls12_resumption"],
     # sslsplit answers on port 8443, s_server on 443 and 4443
     "label": lambda cap, ev: "intercepted" if ev["dest_port"] == 8443 else "clean",
     "refusing": lambda cap, ev: False},
]

MODES = [("none", True), ("none", False), ("learned", True), ("learned", False)]
MARK = "<!-- confusion.py %s: %s (python3 tests/scripts/confusion.py --update-readme) -->"


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what)


def samples_label(cap, ev):
    """'intercepted' (the client leg), 'proxy' (the proxy's own upstream
    connection: an alert naming the proxy there is right, silence too) or
    'clean'."""
    if cap.startswith("mitm_") or cap.startswith("pinning_"):
        return "intercepted" if ev["src_ip"] == INTERCEPTED_CLIENT else "proxy"
    return "clean"


def samples_refusing(cap, ev):
    # pinning_client_refuses: curl checks the pin after its Finished and
    # closes with close_notify (samples/README.md); the others send a fatal
    # unknown_ca right after the certificate.
    if cap == "openssl_tls12_unknown_ca":
        return True
    return cap.startswith("pinning_") and ev["src_ip"] == INTERCEPTED_CLIENT


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


def family(a):
    return a.get("metadata", {}).get("detection_family", [""])[0]


def strong(c):
    if c["ev"]["tls"].get("interception_product"):
        return True
    return any(a["severity"] == 1 and family(a) in ("interception", "policy") for a in c["alerts"])


def learn(pinscope, captures, out):
    args = [pinscope, "learn", "--ca-bundle", "samples/pki/public-root-ca.pem", "-o", out]
    for c in captures:
        args += ["-r", c]
        if os.path.exists(c[:-5] + ".keylog"):
            args += ["--keylog", c[:-5] + ".keylog"]
    subprocess.run(args, cwd=ROOT, check=True, capture_output=True)


def groups():
    """(name, [capture paths], label, refusing, is_samples)"""
    out = [("samples", sorted(glob.glob(os.path.join(ROOT, "samples", "*.pcap"))),
            samples_label, samples_refusing, True)]
    for g in GOLDEN:
        out.append((g["name"], [os.path.join(ROOT, "tests", "golden", n + ".pcap") for n in g["captures"]],
                    g["label"], g["refusing"], False))
    return out


def read_all(pinscope, tmp):
    """Every labelled connection, every way: dicts of group, capture,
    mode, label, refusing, alerts.  Each group's policy is learned from
    its captures whose every connection is labelled clean."""
    gs = groups()
    results = {}

    def run(jobs):
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as ex:
            for j, conns in zip(jobs, ex.map(lambda j: analyse(pinscope, j[1], j[2][1], j[3]), jobs)):
                results[(j[0], j[1], j[2])] = conns

    run([(gi, cap, mode, None) for gi, g in enumerate(gs) for cap in g[1]
         for mode in MODES if mode[0] == "none"])
    learned = {}
    for gi, (gname, caps, label, refusing, _) in enumerate(gs):
        clean = [c for c in caps
                 if all(label(os.path.basename(c)[:-5], x["ev"]) == "clean"
                        for x in results[(gi, c, ("none", False))])]
        learned[gi] = None
        if clean:
            learned[gi] = os.path.join(tmp, "learned%d.json" % gi)
            learn(pinscope, clean, learned[gi])
    run([(gi, cap, mode, learned[gi]) for gi, g in enumerate(gs) for cap in g[1]
         for mode in MODES if mode[0] == "learned"])
    rows = []
    for gi, (gname, caps, label, refusing, _) in enumerate(gs):
        for mode in MODES:
            for cap in caps:
                name = os.path.basename(cap)[:-5]
                for c in results[(gi, cap, mode)]:
                    lab = label(name, c["ev"])
                    if lab == "proxy":
                        continue
                    rows.append({"group": gname, "capture": name, "mode": mode, "label": lab,
                                 "refusing": refusing(name, c["ev"]), "c": c})
    return rows


def matrix(rows, mode):
    tp = fn = fp = tn = strong_tp = 0
    missed, noisy = [], []
    for r in rows:
        if r["mode"] != mode:
            continue
        c = r["c"]
        flagged = any(family(x) in ("interception", "policy") for x in c["alerts"]) or strong(c)
        if r["label"] == "intercepted" and flagged:
            tp += 1
            strong_tp += strong(c)
        elif r["label"] == "intercepted":
            fn += 1
            missed.append(r["capture"])
        elif flagged:
            fp += 1
            noisy.append("%s:%s" % (r["capture"], ",".join(str(x["signature_id"]) for x in c["alerts"])))
        else:
            tn += 1
    return tp, fn, fp, tn, strong_tp, missed, noisy


def positive(sid, r):
    return r["refusing"] if sid in REFUSAL_SIDS else r["label"] == "intercepted"


def per_sid(rows):
    """{sid: {mode: (tp, fp, fn)}}, and the problems found."""
    table = {}
    problems = []
    for sid in SIDS:
        table[sid] = {}
        for mode in MODES:
            tp = fp = fn = 0
            for r in rows:
                if r["mode"] != mode:
                    continue
                hits = [a for a in r["c"]["alerts"] if a["signature_id"] == sid]
                pos = positive(sid, r)
                if hits and pos:
                    tp += 1
                elif hits:
                    fp += 1
                    if any(a["severity"] == 1 for a in hits):
                        problems.append("sid %d, %s: severity-1 alert on %s, not a positive (%s)"
                                        % (sid, mode_name(mode), r["capture"], r["label"]))
                elif pos:
                    fn += 1
                for a in hits:
                    seen = "%s (%d)" % (a.get("confidence"), a["severity"])
                    if seen not in SIDS[sid][1]:
                        problems.append("sid %d: an alert with confidence %s, not one of \"%s\""
                                        % (sid, seen, SIDS[sid][1]))
            table[sid][mode] = (tp, fp, fn)
    unknown = sorted({a["signature_id"] for r in rows for a in r["c"]["alerts"]} - set(SIDS))
    if unknown:
        problems.append("sids not in SIDS: %s" % unknown)
    for sid in SIDS:
        fired = any(tp + fp for tp, fp, fn in table[sid].values())
        if fired and sid in NOT_MEASURED:
            problems.append("sid %d fires but NOT_MEASURED gives a reason" % sid)
        if not fired and sid not in NOT_MEASURED:
            problems.append("sid %d never fires and NOT_MEASURED gives no reason" % sid)
    return table, list(dict.fromkeys(problems))


def mode_name(mode):
    return "policy %s, keys %s" % (mode[0], "yes" if mode[1] else "no")


def pct(a, b):
    return "%.0f%%" % (100.0 * a / b) if b else "—"


def matrix_markdown(mats):
    out = ["| policy | key logs | intercepted, flagged | intercepted, missed | clean, flagged | clean, quiet "
           "| recall | of them called intercepted |",
           "|---|---|---:|---:|---:|---:|---:|---:|"]
    for mode, (tp, fn, fp, tn, strong_tp, _, _) in zip(MODES, mats):
        out.append("| %s | %s | %d | %d | %d | %d | %s | %d |" % (mode[0], "yes" if mode[1] else "no", tp, fn, fp,
                                                                 tn, pct(tp, tp + fn), strong_tp))
    return out


def sid_markdown(table, npos):
    out = ["| id | detection | confidence (severity) | positive | no policy, keys | no policy, no keys "
           "| learned, keys | learned, no keys |",
           "|---|---|---|---|---|---|---|---|"]
    for sid, (name, conf) in SIDS.items():
        what = "refusing client (%d)" % npos[1] if sid in REFUSAL_SIDS else "intercepted leg (%d)" % npos[0]
        if sid in NOT_MEASURED:
            cells = ["not measured here: " + NOT_MEASURED[sid], "—", "—", "—"]
        else:
            cells = []
            for mode in MODES:
                tp, fp, fn = table[sid][mode]
                cells.append("%d / %d / %d: %s, %s" % (tp, fp, fn, pct(tp, tp + fp), pct(tp, tp + fn)))
        out.append("| %d | %s | %s | %s | %s |" % (sid, name, conf, what, " | ".join(cells)))
    return out


def readme_blocks(text, name):
    begin, end = MARK % (name, "begin"), MARK % (name, "end")
    i, j = text.find(begin), text.find(end)
    if i < 0 or j < i:
        return None
    return i + len(begin), j


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pinscope", default="./pinscope")
    ap.add_argument("--markdown", action="store_true", help="print the README's tables")
    ap.add_argument("--update-readme", action="store_true", help="rewrite the README's tables")
    a = ap.parse_args()
    pinscope = os.path.abspath(os.path.join(ROOT, a.pinscope))
    if not glob.glob(os.path.join(ROOT, "samples", "*.pcap")):
        print("confusion: no samples")
        print("confusion: 0 passed, 1 failed")
        return 1
    with tempfile.TemporaryDirectory(prefix="confusion-") as tmp:
        rows = read_all(pinscope, tmp)

    # Capture-level matrices: the samples (the README's table), then the
    # labelled golden captures.
    tables = {}
    for gname in ["samples"] + [g["name"] for g in GOLDEN]:
        grows = [r for r in rows if r["group"] == gname]
        mats = [matrix(grows, m) for m in MODES]
        if gname == "samples":
            tables["matrix"] = matrix_markdown(mats)
        if not a.markdown:
            print("== %s" % gname)
        for mode, (tp, fn, fp, tn, strong_tp, missed, noisy) in zip(MODES, mats):
            policy_name, keys = mode
            if not a.markdown:
                print("policy %-7s keys %-3s: intercepted %d flagged, %d missed; clean %d flagged, %d quiet; "
                      "recall %s; %d called intercepted" % (policy_name, "yes" if keys else "no", tp, fn, fp,
                                                           tn, pct(tp, tp + fn), strong_tp))
                if missed:
                    print("    missed: %s" % ", ".join(sorted(set(missed))))
                if noisy:
                    print("    clean but flagged: %s" % ", ".join(sorted(set(noisy))))
            check(fp == 0, "%s, %s: %d clean connections flagged: %s" % (gname, mode_name(mode), fp, noisy[:5]))
            if gname != "samples":
                continue
            if keys or policy_name == "learned":
                check(fn == 0, "%s, %s: %d intercepted connections missed: %s"
                      % (gname, mode_name(mode), fn, missed))
            else:
                check(tp >= KEYLESS_FLOOR, "no policy, without keys: %d flagged, fewer than %d"
                      % (tp, KEYLESS_FLOOR))

    # Per signature id, over every labelled connection.
    table, problems = per_sid(rows)
    for p in problems:
        check(False, p)
    if not problems:
        check(True, "per-sid")
    one = [r for r in rows if r["mode"] == MODES[0]]
    npos = (sum(r["label"] == "intercepted" for r in one), sum(r["refusing"] for r in one))
    tables["per-sid"] = sid_markdown(table, npos)
    if not a.markdown:
        print("== per sid (TP / FP / FN: precision, recall), %d connections a way, %d intercepted, "
              "%d refusing" % (len(one), npos[0], npos[1]))
        for sid in SIDS:
            if sid in NOT_MEASURED:
                print("%d  not measured here: %s" % (sid, NOT_MEASURED[sid]))
                continue
            print("%d  " % sid + "; ".join(
                "%s %d/%d/%d: %s, %s" % (mode_name(m), *table[sid][m], pct(table[sid][m][0], sum(table[sid][m][:2])),
                                        pct(table[sid][m][0], table[sid][m][0] + table[sid][m][2]))
                for m in MODES))

    # The README holds what was computed here.
    with open(README, encoding="utf-8") as f:
        text = f.read()
    new = text
    for name in ("matrix", "per-sid"):
        span = readme_blocks(new, name)
        want = "\n" + "\n".join(tables[name]) + "\n"
        if span is None:
            check(False, "README.md has no %s table between the markers %r" % (name, MARK % (name, "begin")))
            continue
        if a.update_readme:
            new = new[:span[0]] + want + new[span[1]:]
        elif new[span[0]:span[1]] != want:
            diff = difflib.unified_diff(new[span[0]:span[1]].splitlines(), want.splitlines(),
                                        "README.md", "computed", n=0, lineterm="")
            check(False, "README.md's %s table differs from what was computed (python3 "
                         "tests/scripts/confusion.py --update-readme rewrites it):\n%s"
                  % (name, "\n".join(diff)))
        else:
            check(True, name)
    if a.update_readme and new != text:
        with open(README, "w", encoding="utf-8") as f:
            f.write(new)
        print("confusion: README.md updated")
    if a.markdown:
        for name in ("matrix", "per-sid"):
            print("\n".join(tables[name]) + "\n")
    print("confusion: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
