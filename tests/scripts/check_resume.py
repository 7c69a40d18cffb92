#!/usr/bin/env python3
"""check_resume.py - TLS 1.2 resumption linked to its full handshake, end
to end on tests/golden/tls12_resumption.pcap (made by
tests/scripts/make_resume_captures.sh: openssl s_server with session IDs,
with tickets, and sslsplit in front of the ticket server; each a full
handshake then a resumed one), with a policy pinning the real server's key
so that the proxy's connection is intercepted (9100001):

  1. each resumed connection's tls event has session_resumed,
     resumed_with (session_id / session_ticket as the wire shows) and
     resumed_from = the flow_id of the full handshake to the same server;
  2. the resumed proxy connection carries alert 9100020 with severity 1,
     related_flow_ids [origin], and the origin's sids, leaf fingerprint,
     issuer and SPKI pin as evidence; the direct ones carry no alert;
  3. the same with --workers 2 and 3 (links across workers);
  4. ECS (--format ecs): pinscope.tls.resumed_from, tls.resumed;
  5. pinscope report: the proxy's resumed connection counts as
     intercepted (2 intercepted connections, not 1), from the capture and
     from the EVE events.
Final line: "resume: N passed, M failed".
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PCAP = os.path.join(REPO, "tests", "golden", "tls12_resumption.pcap")
ROOT = os.path.join(REPO, "tests", "golden", "certs", "root.pem")
REAL_PIN = "HL+xWeB1KfqveoeHxC8ikJ6UHpAA0jj15aieX6ZxLG0="   # tests/golden/certs/leaf_rsa
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL " + what)


def run(pinscope, policy, *extra):
    p = subprocess.run([pinscope, "--deterministic", "--ca-bundle", ROOT, "--policy", policy,
                        "-r", PCAP] + list(extra), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    check(p.returncode == 0, "pinscope %s: exit %d" % (" ".join(extra), p.returncode))
    return [json.loads(l) for l in p.stdout.splitlines() if l.strip()]


def eve_checks(evs, label):
    tls = [e for e in evs if e["event_type"] == "tls"]
    alerts = [e for e in evs if e["event_type"] == "alert"]
    check(len(tls) == 6, "%s: 6 tls events (%d)" % (label, len(tls)))
    full = {e["dest_port"]: e for e in tls if not e["tls"].get("session_resumed")}
    res = {e["dest_port"]: e for e in tls if e["tls"].get("session_resumed")}
    check(sorted(full) == [443, 4443, 8443] and sorted(res) == [443, 4443, 8443],
          "%s: one full and one resumed connection per port" % label)
    want_with = {443: "session_id", 4443: "session_ticket", 8443: "session_id"}
    for port, e in sorted(res.items()):
        t = e["tls"]
        o = full.get(port)
        check(o is not None and t.get("resumed_from") == o["flow_id"],
              "%s: port %d: resumed_from %s, origin %s" % (label, port, t.get("resumed_from"),
                                                          o and o["flow_id"]))
        check(t.get("resumed_with") == want_with[port],
              "%s: port %d: resumed_with %s" % (label, port, t.get("resumed_with")))
        check(t.get("chain_invisible_reason") == "resumed", "%s: port %d: chain invisible" % (label, port))
    for e in full.values():
        check("resumed_from" not in e["tls"] and "resumed_with" not in e["tls"],
              "%s: a full handshake is not a resumption" % label)
    inh = [a for a in alerts if a["alert"]["signature_id"] == 9100020]
    check(len(inh) == 1, "%s: one inherited alert (%d)" % (label, len(inh)))
    if inh and 8443 in res and 8443 in full:
        a = inh[0]
        ev = a["alert"].get("evidence", {})
        origin = full[8443]
        check(a["flow_id"] == res[8443]["flow_id"], "%s: on the proxy's resumed connection" % label)
        check(a["alert"]["severity"] == 1, "%s: inherited severity 1" % label)
        check(a["alert"].get("related_flow_ids") == [origin["flow_id"]], "%s: related_flow_ids" % label)
        check("9100001" in ev.get("origin_sids", "") and "9100008" in ev.get("origin_sids", ""),
              "%s: origin sids %s" % (label, ev.get("origin_sids")))
        check(ev.get("fingerprint") == origin["tls"].get("fingerprint"),
              "%s: fingerprint as the origin's tls.fingerprint" % label)
        check(ev.get("issuerdn") == origin["tls"].get("issuerdn"), "%s: issuerdn" % label)
        check(ev.get("spki_sha256") == origin["tls"]["x509_chain"][0]["spki_sha256"],
              "%s: SPKI pin" % label)
        check(ev.get("spki_sha256") != REAL_PIN, "%s: the proxy's key, not the server's" % label)
    return sorted(json.dumps(e, sort_keys=True) for e in evs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pinscope", default=os.path.join(REPO, "pinscope"))
    pinscope = os.path.abspath(ap.parse_args().pinscope)
    with tempfile.TemporaryDirectory(prefix="pinscope-resume-") as tmp:
        policy = os.path.join(tmp, "policy.json")
        with open(policy, "w") as f:
            json.dump({"version": 1, "pin_sets": [{"domain": "www.pinscope.test",
                                                   "include_subdomains": False,
                                                   "pins": [REAL_PIN], "backup_pins": []}]}, f)
        ref = eve_checks(run(pinscope, policy), "workers 1")
        for n in (2, 3):
            got = eve_checks(run(pinscope, policy, "--workers", str(n)), "workers %d" % n)
            check(got == ref, "workers %d: the same events as one worker" % n)

        ecs = run(pinscope, policy, "--format", "ecs")
        docs = [d for d in ecs if d["event"]["kind"] == "event"]
        linked = [d for d in docs if d.get("pinscope", {}).get("tls", {}).get("resumed_from")]
        check(len(linked) == 3 and all(d["tls"]["resumed"] for d in linked),
              "ecs: three resumed documents with pinscope.tls.resumed_from")
        rule = [d for d in ecs if d.get("rule", {}).get("id") in ("9100020", 9100020)]
        check(len(rule) == 1, "ecs: the inherited alert")

        eve = os.path.join(tmp, "eve.json")
        with open(eve, "w") as f:
            for e in run(pinscope, policy):
                f.write(json.dumps(e) + "\n")
        for label, args in (("capture", ["--deterministic", "--ca-bundle", ROOT, "--policy", policy,
                                          "-r", PCAP]),
                            ("events", [eve])):
            p = subprocess.run([pinscope, "report", "--format", "json"] + args,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
            check(p.returncode == 0, "report %s: exit %d" % (label, p.returncode))
            try:
                rep = json.loads(p.stdout)
            except ValueError:
                check(False, "report %s: JSON" % label)
                continue
            sv = [s for s in rep.get("servers", []) if s.get("server") == "www.pinscope.test"]
            check(len(sv) == 1 and sv[0]["verdict"] == "intercepted",
                  "report %s: www.pinscope.test intercepted" % label)
            check(len(sv) == 1 and sv[0]["intercepted"] == 2,
                  "report %s: 2 intercepted connections (the resumed one counts), got %s"
                  % (label, sv and sv[0]["intercepted"]))
    print("resume: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
