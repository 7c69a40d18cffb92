#!/usr/bin/env python3
"""Certificate fields of pinscope events against openssl's reference values.

Reads tests/golden/certs/expected.json (made by make_cert_captures.sh with
the captures tests/golden/certs_*.pcap and their key logs) and, for every
capture, runs

    pinscope -r CAPTURE [--keylog CAPTURE.keylog] --ca-bundle certs/root.pem

then checks each planned connection (matched by client port):

  * tls.chain: the certificates sent, leaf first, in order (SHA-256 list),
    and every field of every entry against the openssl reference for the same
    file: subject, issuer (RFC 2253), subject_cn/_o, issuer_cn/_o, serial,
    not_before, not_after, san, sha1, sha256, spki_sha256, key, signature
    algorithm, is_ca, self_signed, ski, aki, sct_count, ja4x, ja4x_r;
  * the Suricata-style leaf copies at the top of tls (subject, issuerdn in
    Suricata's DN form, serial, fingerprint, notbefore, notafter) and
    Suricata's tls.chain (base64 DER, leaf first);
  * tls.chain_checks: linked, validation code and text (openssl verify at the
    time of the capture: certs_expiry_boundary holds two connections in the
    same clock hour, ten minutes before and after the leaf's notAfter, and
    only the second is expired), sni_match (openssl x509 -checkhost),
    leaf_shares_issuer_key, validity_days, not_before_age_seconds;
  * tls.client (Suricata's keys, chain, and x509_chain) for the
    client-certificate capture;
  * chain_visible / chain_invisible_reason: "resumed" for resumptions,
    "not_captured" when the Certificate message is missing from the capture,
    "tls13_no_keys" for every TLS 1.3 capture run again without --keylog,
    "tls13_decryption_failed" with the deliberately wrong key log;
  * certs_rsa_san once more against the unrelated root (--ca-bundle
    other_root.pem): the chain must not validate;
  * `pinscope spki FILE...` on every certificate (PEM, DER) and on its
    public key (PEM, DER) equals the openssl SPKI pipeline.

Validation codes: the X509_V_ERR_ macro name lower-cased ("cert_has_expired")
and the name spelled out from OpenSSL's text ("certificate_has_expired") are
both accepted; what pinscope printed is shown for every non-ok case.

A field pinscope does not print counts as a failure.  Failures are grouped
by check in a short summary (-v prints each one).  The last line is
"certs: N passed, M failed"; exit status 1 when anything failed.

Usage: tests/scripts/check_certs.py [--pinscope PATH] [-v] [CAPTURE_NAME...]
"""

import argparse
import base64
import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
from collections import OrderedDict
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden"
CERTS = GOLDEN / "certs"
TIMEOUT = 120  # seconds per pinscope run; generous for sanitizer builds

CERT_FIELDS = ["subject", "issuer", "subject_cn", "subject_o", "issuer_cn", "issuer_o", "serial",
               "not_before", "not_after", "san", "sha1", "sha256", "spki_sha256", "key",
               "signature_algorithm", "is_ca", "self_signed", "ski", "aki", "sct_count",
               "ja4x", "ja4x_r"]
MISSING = object()


class Results:
    def __init__(self, verbose):
        self.passed = 0
        self.failures = OrderedDict()   # check name -> [(where, detail)]
        self.notes = OrderedDict()      # informational lines, de-duplicated
        self.verbose = verbose

    def ok(self, cond, check, where, detail=""):
        if cond:
            self.passed += 1
        else:
            self.failures.setdefault(check, []).append((where, detail))
            if self.verbose:
                print("FAIL %s: %s: %s" % (where, check, detail))
        return cond

    def note(self, text, key=None):
        """An informational line; only the first one with the same key is kept."""
        self.notes.setdefault(key or text, text)

    @property
    def failed(self):
        return sum(len(v) for v in self.failures.values())


def show(v):
    if v is MISSING:
        return "<missing>"
    s = json.dumps(v, ensure_ascii=False)
    return s if len(s) <= 140 else s[:137] + "..."


def get(d, *path):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return MISSING
        d = d[p]
    return d


def absent(v):
    return v is MISSING or v is None


# ---- running pinscope ------------------------------------------------------------
def run_pinscope(binary, args):
    """(events, error): the tls events, or an error text."""
    try:
        p = subprocess.run([binary] + args, capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, "timed out after %d s" % TIMEOUT
    except OSError as e:
        return None, "cannot run: %s" % e
    if p.returncode != 0:
        err = p.stderr.decode("utf-8", "replace").strip().splitlines()
        return None, "exit status %d: %s" % (p.returncode, err[-1] if err else "")
    events = []
    for n, line in enumerate(p.stdout.decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            ev = json.loads(line)
        except ValueError:
            return None, "stdout line %d is not JSON: %s" % (n, line[:100])
        if isinstance(ev, dict) and ev.get("event_type") == "tls":
            events.append(ev)
    return events, None


def find_event(events, conn):
    for ev in events:
        if ev.get("src_port") == conn["client_port"] and ev.get("dest_port") == conn["server_port"]:
            return ev
    return None


# ---- comparisons -----------------------------------------------------------------
def norm_san(v):
    if absent(v):
        return {"dns": [], "ip": [], "email": [], "uri": []}
    if not isinstance(v, dict):
        return v
    out = {k: v.get(k) or [] for k in ("dns", "ip", "email", "uri")}
    extra = set(v) - set(out)
    if extra:
        out["_unexpected_keys"] = sorted(extra)
    return out


def compare_cert(R, where, got, ref):
    """Every field of one chain entry against the openssl reference."""
    for f in CERT_FIELDS:
        g = get(got, f)
        check = "chain[].%s" % f
        if f == "san":
            want = ref["san"]
            R.ok(norm_san(g) == want, check, where, "got %s, want %s (san lists may be left out when "
                 "empty)" % (show(g), show(want)))
        elif f == "key":
            if not R.ok(isinstance(g, dict), "chain[].key", where, "got %s" % show(g)):
                continue
            k = ref["key"]
            R.ok(get(g, "algorithm") == k["algorithm"], "chain[].key.algorithm", where,
                 "got %s, want %s" % (show(get(g, "algorithm")), show(k["algorithm"])))
            R.ok(get(g, "bits") == k["bits"], "chain[].key.bits", where,
                 "got %s, want %s" % (show(get(g, "bits")), show(k["bits"])))
            c = get(g, "curve")
            if k["curve_names"]:
                if R.ok(c in k["curve_names"], "chain[].key.curve", where,
                        "got %s, want one of %s" % (show(c), k["curve_names"])):
                    R.note("key.curve uses %s names (e.g. %s)" % ("NIST" if c == k["curve"] else "OpenSSL", c),
                           "curve")
            else:
                R.ok(absent(c) or c == "", "chain[].key.curve", where,
                     "got %s for a %s key, want none" % (show(c), k["algorithm"]))
        elif f in ("subject", "issuer"):
            # RFC 4514 allows UTF-8 as it is; pinscope keeps it readable, as
            # `openssl x509 -nameopt RFC2253,-esc_msb` prints it.
            want = ref[f + "_utf8"]
            R.ok(g == want, check, where, "got %s, want %s" % (show(g), show(want)))
        elif f == "serial":
            want = ref["serial"]
            ok = R.ok(g == want, check, where, "got %s, want %s" % (show(g), show(want)))
            if not ok and isinstance(g, str) and g.lstrip("0") == want.lstrip("0"):
                R.note("serial differs only in leading zeros (openssl prints whole bytes: %s)" % want)
        else:
            want = ref[f]
            if want is None:
                R.ok(absent(g), check, where, "got %s, want the field absent or null" % show(g))
            else:
                R.ok(g == want, check, where, "got %s, want %s" % (show(g), show(want)))


def compare_chain(R, where, name, got, want_files, refs):
    """A chain list: same certificates, same order, then each entry field by field."""
    if not R.ok(isinstance(got, list) and len(got) > 0, "%s present" % name, where,
                "tls.%s is %s" % (name, show(got))):
        return
    want_sha = [refs[f]["sha256"] for f in want_files]
    got_sha = [get(c, "sha256") for c in got]
    R.ok(got_sha == want_sha, "%s order (sha256 list)" % name, where,
         "got %d certs %s, want %s (%s)" % (len(got), [show(s)[1:9] for s in got_sha],
                                           [s[:8] for s in want_sha], ",".join(want_files)))
    by_sha = {refs[f]["sha256"]: f for f in want_files}
    for i, c in enumerate(got):
        f = by_sha.get(get(c, "sha256"))
        if f is None and i < len(want_files):
            f = want_files[i]   # wrong digest: compare with the planned one anyway
        if f is not None:
            compare_cert(R, "%s %s[%d] %s" % (where, name, i, f), c, refs[f])


def compare_b64_chain(R, where, name, got, want_files, refs):
    """Suricata's tls.chain: base64 DER, leaf first, the certificates as sent."""
    want = [refs[f]["sha256"] for f in want_files]
    try:
        got_sha = [hashlib.sha256(base64.b64decode(c, validate=True)).hexdigest() for c in got]
    except Exception:
        got_sha = None
    R.ok(got_sha == want, "tls.%s (base64 DER, as Suricata)" % name, where,
         "got %s, want %s" % (show(got) if got_sha is None else [s[:8] for s in got_sha],
                              [s[:8] for s in want]))


def compare_suricata(R, where, tls, leaf):
    checks = [
        ("subject", [leaf["subject_suricata"]]),
        ("issuerdn", [leaf["issuer_suricata"]]),
        ("fingerprint", [leaf["fingerprint_suricata"]]),
        ("notbefore", [leaf["notbefore_suricata"]]),
        ("notafter", [leaf["notafter_suricata"]]),
    ]
    ser = leaf["serial_suricata"]
    sers = [ser] + (["00:" + ser] if int(ser[:2], 16) >= 0x80 else [])
    checks.append(("serial", sers))
    for f, accept in checks:
        g = get(tls, f)
        if R.ok(g in accept, "tls.%s (Suricata copy of the leaf)" % f, where,
                "got %s, want %s" % (show(g), " or ".join(show(a) for a in accept))):
            if f == "serial" and len(accept) == 2:
                R.note("tls.serial for a serial with the high bit set: %s" % show(g), "suriserial")


def check_visible(R, where, ev, conn, refs, cap):
    tls = ev.get("tls", {})
    R.ok(get(tls, "chain_visible") is True, "chain_visible", where,
         "got %s (reason %s), want true" % (show(get(tls, "chain_visible")),
                                            show(get(tls, "chain_invisible_reason"))))
    R.ok(absent(get(tls, "chain_invisible_reason")), "chain_invisible_reason absent when visible", where,
         "got %s" % show(get(tls, "chain_invisible_reason")))
    compare_chain(R, where, "x509_chain", get(tls, "x509_chain"), conn["chain"], refs)
    compare_b64_chain(R, where, "chain", get(tls, "chain"), conn["chain"], refs)
    leaf = refs[conn["chain"][0]]
    compare_suricata(R, where, tls, leaf)

    cc = get(tls, "chain_checks")
    if not R.ok(isinstance(cc, dict), "chain_checks present", where, "tls.chain_checks is %s" % show(cc)):
        return
    R.ok(get(cc, "linked") == conn["linked"], "chain_checks.linked", where,
         "got %s, want %s" % (show(get(cc, "linked")), show(conn["linked"])))
    v = conn["validation"]
    code, text = get(cc, "validation", "code"), get(cc, "validation", "text")
    if v["accept"] != ["ok"] or code != "ok":
        R.note("validation %-28s pinscope: %-40s openssl verify: %s" % (
            cap["name"], "%s (%s)" % (show(code), show(text)), v["text"]))
    R.ok(code in v["accept"], "chain_checks.validation.code", where,
         "got %s (%s), want %s" % (show(code), show(text), " or ".join(v["accept"])))
    R.ok(text == v["text"], "chain_checks.validation.text", where,
         "got %s, want %s" % (show(text), show(v["text"])))
    depth = get(cc, "validation", "depth")
    if depth is not MISSING and v["depth"] is not None:
        R.ok(depth == v["depth"], "chain_checks.validation.depth", where,
             "got %s, openssl verify says %s" % (show(depth), v["depth"]))
    sm = get(cc, "sni_match")
    if conn["sni_match"] is None:
        R.ok(absent(sm), "chain_checks.sni_match", where, "got %s without SNI, want it absent" % show(sm))
    else:
        R.ok(sm == conn["sni_match"], "chain_checks.sni_match", where,
             "SNI %s: got %s, want %s (openssl x509 -checkhost)" % (conn["sni"], show(sm), show(conn["sni_match"])))
    R.ok(get(cc, "leaf_shares_issuer_key") == conn["leaf_shares_issuer_key"],
         "chain_checks.leaf_shares_issuer_key", where,
         "got %s, want %s" % (show(get(cc, "leaf_shares_issuer_key")), show(conn["leaf_shares_issuer_key"])))
    vd = get(cc, "validity_days")
    want = leaf["validity_days"]   # (not_after - not_before) / 86400; whole days, rounded or not, also fine
    R.ok(isinstance(vd, (int, float)) and not isinstance(vd, bool)
         and (abs(vd - want) < 0.01 or vd in (math.floor(want), round(want))),
         "chain_checks.validity_days", where, "got %s, want %s" % (show(vd), want))
    age = get(cc, "not_before_age_seconds")
    lo = conn["first_packet"] - leaf["not_before_epoch"] - 1
    hi = conn["last_packet"] - leaf["not_before_epoch"] + 1
    R.ok(isinstance(age, (int, float)) and not isinstance(age, bool) and lo <= age <= hi,
         "chain_checks.not_before_age_seconds", where,
         "got %s, want between %d and %d (capture time - not_before)" % (show(age), lo, hi))

    if conn["client_chain"]:
        compare_chain(R, where, "client.x509_chain", get(tls, "client", "x509_chain"),
                      conn["client_chain"], refs)
        compare_b64_chain(R, where, "client.chain", get(tls, "client", "chain"), conn["client_chain"], refs)
        compare_suricata(R, where + " (client)", get(tls, "client"), refs[conn["client_chain"][0]])
    else:
        g = get(tls, "client")
        R.ok(absent(g), "tls.client absent without a client certificate", where, "got %s" % show(g))


def check_invisible(R, where, ev, reasons):
    tls = ev.get("tls", {})
    vis, why = get(tls, "chain_visible"), get(tls, "chain_invisible_reason")
    R.ok(vis is False, "chain_visible false", where,
         "got %s (reason %s), want false with reason %s" % (show(vis), show(why), " or ".join(reasons)))
    R.ok(why in reasons, "chain_invisible_reason", where,
         "got %s, want %s" % (show(why), " or ".join(reasons)))
    for key in ("chain", "x509_chain"):
        ch = get(tls, key)
        R.ok(absent(ch) or ch == [], "no %s when invisible" % key, where, "got %d certificates" % (
            len(ch) if isinstance(ch, list) else -1))


# ---- one capture ---------------------------------------------------------------
def check_capture(R, binary, cap, refs):
    pcap = GOLDEN / cap["pcap"]
    bundle = CERTS / cap["ca_bundle"]
    base = ["-r", str(pcap), "--ca-bundle", str(bundle)]
    runs = []
    kl = ["--keylog", str(GOLDEN / cap["keylog"])] if cap["keylog"] else []
    runs.append(("", base + kl, "main"))
    if cap["version"] == "TLS 1.3":
        runs.append((" (no key log)", base, "nokeys"))
    for label, args, kind in runs:
        name = cap["name"] + label
        events, err = run_pinscope(binary, args)
        if not R.ok(err is None, "pinscope run", name, err or ""):
            continue
        for i, conn in enumerate(cap["connections"]):
            where = "%s #%d" % (name, i + 1) if len(cap["connections"]) > 1 else name
            ev = find_event(events, conn)
            if not R.ok(ev is not None, "event for the connection", where,
                        "no tls event with src_port %d (got %d events)" % (conn["client_port"], len(events))):
                continue
            if kind == "nokeys":
                reasons = ["tls13_no_keys"] + (["resumed"] if conn["resumed"] else [])
                check_invisible(R, where, ev, reasons)
            elif cap["wrong_keylog"]:
                check_invisible(R, where, ev, ["tls13_decryption_failed"])
            elif not conn["chain_visible"]:
                check_invisible(R, where, ev, [conn["chain_invisible_reason"]])
            else:
                check_visible(R, where, ev, conn, refs, cap)
    # The same chain against another trust anchor.
    for i, conn in enumerate(cap["connections"]):
        for extra in conn.get("extra_bundles", []):
            name = "%s (--ca-bundle %s)" % (cap["name"], extra["ca_bundle"])
            events, err = run_pinscope(binary, ["-r", str(pcap), "--ca-bundle",
                                                str(CERTS / extra["ca_bundle"])] + kl)
            if not R.ok(err is None, "pinscope run", name, err or ""):
                continue
            ev = find_event(events, conn)
            if not R.ok(ev is not None, "event for the connection", name, "no event"):
                continue
            v = extra["validation"]
            code = get(ev, "tls", "chain_checks", "validation", "code")
            text = get(ev, "tls", "chain_checks", "validation", "text")
            R.note("validation %-28s pinscope: %-40s openssl verify: %s" % (
                cap["name"] + "/" + extra["ca_bundle"], "%s (%s)" % (show(code), show(text)), v["text"]))
            R.ok(code in v["accept"], "chain_checks.validation.code", name,
                 "got %s (%s), want %s" % (show(code), show(text), " or ".join(v["accept"])))
            R.ok(text == v["text"], "chain_checks.validation.text", name,
                 "got %s, want %s" % (show(text), show(v["text"])))


# ---- pinscope spki -----------------------------------------------------------------
def der_tlv(b, o):
    tag, l = b[o], b[o + 1]
    o += 2
    if l & 0x80:
        n = l & 0x7F
        l = int.from_bytes(b[o:o + n], "big")
        o += n
    return tag, o, o + l


def spki_der(cert_der):
    """The SubjectPublicKeyInfo element (header included) of a certificate."""
    _, s, _ = der_tlv(cert_der, 0)            # Certificate
    _, ts, _ = der_tlv(cert_der, s)           # tbsCertificate
    o, fields = ts, []
    for _ in range(7):
        t, cs, ce = der_tlv(cert_der, o)
        fields.append((t, o, ce))
        o = ce
    i = 1 if fields[0][0] == 0xA0 else 0
    _, start, end = fields[i + 5]
    return cert_der[start:end]


def pem(label, der):
    b = base64.b64encode(der).decode()
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (
        label, "\n".join(b[i:i + 64] for i in range(0, len(b), 64)), label)


def check_spki(R, binary, refs):
    with tempfile.TemporaryDirectory(prefix="pinscope-spki.") as tmp:
        files = {}   # path given to pinscope -> expected pin
        for f, ref in sorted(refs.items()):
            path = CERTS / f
            files[str(path)] = ref["spki_sha256"]
            text = path.read_text()
            der = base64.b64decode("".join(text.split("-----")[2].split()))
            stem = f[:-4]
            for suffix, data in ((".der", der), (".pub.pem", pem("PUBLIC KEY", spki_der(der)).encode()),
                                 (".pub.der", spki_der(der))):
                p = os.path.join(tmp, stem + suffix)
                with open(p, "wb") as fh:
                    fh.write(data)
                files[p] = ref["spki_sha256"]
        try:
            p = subprocess.run([binary, "spki"] + list(files), capture_output=True, timeout=TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as e:
            R.ok(False, "spki run", "pinscope spki", str(e))
            return
        R.ok(p.returncode == 0, "spki exit status", "pinscope spki",
             "exit %d: %s" % (p.returncode, p.stderr.decode("utf-8", "replace").strip()[-200:]))
        lines = p.stdout.decode("utf-8", "replace").splitlines()
        got = {}
        for line in lines:
            pin, sep, path = line.partition("  ")
            if R.ok(sep == "  " and len(pin) == 44, "spki line format", "pinscope spki",
                    "line %r is not '<pin>  <file>'" % line):
                got[path] = pin
        R.ok(len(lines) == len(files), "spki one line per file", "pinscope spki",
             "%d lines for %d files" % (len(lines), len(files)))
        for path, want in files.items():
            kind = {"pem": "PEM certificate", "der": "DER certificate"}.get(path.rsplit(".", 1)[1])
            if ".pub." in path:
                kind = "PEM public key" if path.endswith(".pem") else "DER public key"
            R.ok(got.get(path) == want, "spki pin (%s)" % kind, "pinscope spki %s" % os.path.basename(path),
                 "got %s, want %s (openssl pipeline)" % (show(got.get(path, MISSING)), want))
        # A file that holds neither: an error, not a pin.
        bad = os.path.join(tmp, "not-a-cert.txt")
        with open(bad, "w") as fh:
            fh.write("not a certificate\n")
        p = subprocess.run([binary, "spki", bad], capture_output=True, timeout=TIMEOUT)
        R.ok(p.returncode != 0 and not p.stdout.strip(), "spki rejects a non-certificate",
             "pinscope spki not-a-cert.txt", "exit %d, stdout %r" % (p.returncode, p.stdout[:80]))


# ---- main --------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pinscope", default=str(REPO / "pinscope"), help="binary to test (default ./pinscope)")
    ap.add_argument("--expected", default=str(CERTS / "expected.json"))
    ap.add_argument("-v", "--verbose", action="store_true", help="print every failure as it happens")
    ap.add_argument("captures", nargs="*", help="only these capture names")
    a = ap.parse_args()
    binary = a.pinscope if os.path.isabs(a.pinscope) or os.sep not in a.pinscope else os.path.abspath(a.pinscope)

    R = Results(a.verbose)
    try:
        exp = json.load(open(a.expected, encoding="utf-8"))
    except (OSError, ValueError) as e:
        print("certs: cannot read %s: %s (run tests/scripts/make_cert_captures.sh)" % (a.expected, e))
        print("certs: 0 passed, 1 failed")
        return 1
    if not os.access(binary, os.X_OK):
        print("certs: pinscope binary not found or not executable: %s" % binary)
        print("certs: 0 passed, 1 failed")
        return 1

    refs = exp["certs"]
    caps = [c for c in exp["captures"] if not a.captures or c["name"] in a.captures]
    for cap in caps:
        check_capture(R, binary, cap, refs)
    if not a.captures:
        check_spki(R, binary, refs)

    for n in R.notes.values():
        print("note: " + n)
    if R.failures:
        print("failures by check (%d in all):" % R.failed)
        for check, items in R.failures.items():
            print("  %-48s %3d  e.g. %s: %s" % (check, len(items), items[0][0], items[0][1]))
            if len(items) > 1 and not a.verbose:
                print("  %-48s      and %s" % ("", ", ".join(sorted({w for w, _ in items[1:]}))[:300]))
    print("certs: %d passed, %d failed" % (R.passed, R.failed))
    return 1 if R.failed else 0


if __name__ == "__main__":
    sys.exit(main())
