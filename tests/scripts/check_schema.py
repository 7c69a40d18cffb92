#!/usr/bin/env python3
"""check_schema.py - every event against Suricata's own EVE JSON schema.

A SIEM mapping built for Suricata (an Elasticsearch/OpenSearch index
template, Elastic's Suricata ingest pipeline) ingests pinscope's events
unchanged only if every key Suricata defines has Suricata's type, shape and
format.  This runs pinscope on every golden capture, every sample capture
and every capture of the shared conformance corpus (../shared/corpus, when
present), and validates each event with python3-jsonschema against
../shared/schemas/suricata-eve-schema.json (OISF/suricata etc/schema.json).

pinscope adds keys of its own (Suricata's schema says additionalProperties
false almost everywhere), so "additional properties" errors are expected
and ignored; every other error fails the check.  Besides the schema, a few
formats the schema only types as strings are checked the way Suricata
writes them: tls.chain entries are base64 DER that decode to a certificate,
tls.version is a Suricata version name, notbefore/notafter have no zone,
serial is upper-case colon hex.

Final line: "schema: N passed, M failed" (one check per event, plus the
format checks); "schema: skipped" when the schema file is absent.
"""
import argparse
import base64
import glob
import json
import os
import re
import subprocess
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.path.abspath(os.path.join(REPO, "..", "shared"))
SCHEMA = os.path.join(SHARED, "schemas", "suricata-eve-schema.json")

try:
    import jsonschema
except ImportError:
    # Debian's python3-jsonschema lives with the system interpreter.
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != "/usr/bin/python3" \
            and not os.environ.get("CHECK_SCHEMA_REEXEC"):
        os.environ["CHECK_SCHEMA_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("schema: python3-jsonschema is missing (apt-get install python3-jsonschema)")
    print("schema: 0 passed, 1 failed")
    sys.exit(1)

VERSION_RE = re.compile(r"^(UNDETERMINED|SSLv2|SSLv3|TLSv1|TLS 1\.[123]|TLS 1\.3 draft-(<16|\d+)(-fb)?|"
                        r"DTLS 1\.[023]|0x[0-9a-f]{4})$")
DATE_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")
SERIAL_RE = re.compile(r"^[0-9A-F]{2}(:[0-9A-F]{2})*$")
FPR_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){19}$")

passed = failed = 0
shown = 0


def check(ok, what):
    global passed, failed, shown
    if ok:
        passed += 1
        return
    failed += 1
    if shown < 40:
        print("FAIL %s" % what)
        shown += 1


def real_errors(validator, ev):
    out = []
    for err in validator.iter_errors(ev):
        if err.validator == "additionalProperties":
            continue
        out.append("%s: %s" % ("/".join(str(p) for p in err.absolute_path) or "(root)", err.message[:200]))
    return out


def der_ok(b64):
    try:
        der = base64.b64decode(b64, validate=True)
    except Exception:
        return False
    return len(der) > 4 and der[0] == 0x30


def formats(tls, where):
    """Formats Suricata writes that its schema only types as strings."""
    if "version" in tls:
        check(VERSION_RE.match(tls["version"]) is not None,
              "%s: tls.version %r is not a Suricata version name" % (where, tls["version"]))
    for side, obj in (("tls", tls), ("tls.client", tls.get("client"))):
        if not isinstance(obj, dict):
            continue
        for k in ("notbefore", "notafter"):
            if k in obj:
                check(DATE_RE.match(obj[k]) is not None, "%s: %s.%s %r" % (where, side, k, obj[k]))
        if "serial" in obj:
            check(SERIAL_RE.match(obj["serial"]) is not None, "%s: %s.serial %r" % (where, side, obj["serial"]))
        if "fingerprint" in obj:
            check(FPR_RE.match(obj["fingerprint"]) is not None,
                  "%s: %s.fingerprint %r" % (where, side, obj["fingerprint"]))
        if "chain" in obj:
            check(all(der_ok(c) for c in obj["chain"]), "%s: %s.chain holds something not base64 DER"
                  % (where, side))
        if "subject" in obj and obj["subject"] and "x509_chain" in obj:
            # Suricata's order is the encoded one, most general RDN first: the
            # reverse of the RFC 4514 form pinscope keeps in x509_chain.
            rfc = obj["x509_chain"][0]["subject"]
            if "+" not in rfc and "\\" not in rfc:
                want = ", ".join(reversed(rfc.split(",")))
                check(obj["subject"] == want, "%s: %s.subject %r, want %r" % (where, side, obj["subject"], want))


def run(pinscope, pcap, extra):
    p = subprocess.run([pinscope, "--deterministic"] + extra + ["-r", pcap],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    return [json.loads(l) for l in p.stdout.decode("utf-8").splitlines() if l.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pinscope", default=os.path.join(REPO, "pinscope"))
    a = ap.parse_args()
    if not os.path.exists(SCHEMA):
        print("schema: skipped (no %s)" % SCHEMA)
        return 0
    schema = json.load(open(SCHEMA))
    validator = jsonschema.Draft202012Validator(schema)

    inputs = []
    golden = os.path.join(REPO, "tests", "golden")
    for pcap in sorted(glob.glob(os.path.join(golden, "*.pcap")) + glob.glob(os.path.join(golden, "*.pcapng"))):
        extra = ["--stats", "--ca-bundle", os.path.join(golden, "certs", "root.pem")]
        kl = re.sub(r"\.pcap(ng)?$", ".keylog", pcap)
        if os.path.exists(kl):
            extra += ["--keylog", kl]
        inputs.append((pcap, extra))
    for pcap in sorted(glob.glob(os.path.join(REPO, "samples", "*.pcap"))):
        extra = ["--ca-bundle", os.path.join(REPO, "samples", "pki", "public-root-ca.pem"),
                 "--policy", os.path.join(REPO, "samples", "policy.json")]
        kl = pcap[:-5] + ".keylog"
        if os.path.exists(kl):
            extra += ["--keylog", kl]
        inputs.append((pcap, extra))
    corpus = sorted(glob.glob(os.path.join(SHARED, "corpus", "*", "*.pcap*")) +
                    glob.glob(os.path.join(SHARED, "corpus", "*", "pcap", "*.pcap*")))
    for pcap in corpus:
        inputs.append((pcap, []))

    counts = {}
    for pcap, extra in inputs:
        name = os.path.relpath(pcap, os.path.dirname(REPO))
        for i, ev in enumerate(run(a.pinscope, pcap, extra)):
            where = "%s event %d (%s)" % (name, i + 1, ev.get("event_type"))
            errs = real_errors(validator, ev)
            check(not errs, "%s: %s" % (where, "; ".join(errs[:3])))
            counts[ev.get("event_type")] = counts.get(ev.get("event_type"), 0) + 1
            if isinstance(ev.get("tls"), dict):
                formats(ev["tls"], where)
            if ev.get("event_type") in ("tls", "quic", "alert"):
                check(ev.get("app_proto") in ("tls", "quic", "dtls"), "%s: app_proto %r" % (where, ev.get("app_proto")))
            if ev.get("event_type") == "quic":
                check(isinstance(ev.get("quic"), dict) and "version" in ev["quic"], "%s: no quic object" % where)
    print("schema: events validated per type: %s" % ", ".join("%s %d" % kv for kv in sorted(counts.items())))
    print("schema: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
