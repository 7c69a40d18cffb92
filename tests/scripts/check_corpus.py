#!/usr/bin/env python3
"""Conformance check of pinscope against the shared pcap corpus.

For each corpus directory (default: ../shared/corpus/foxio and
../shared/corpus/synthetic, relative to the repository root) run pinscope on
every capture (the pcap/ subdirectory when it exists, else the directory
itself) and compare its TLS events with the directory's expected.jsonl:

  * every row is compared field by field.  A row is matched to an event by
    (transport, src, sport, dst, dport), client side first; "tcp" rows match
    events with proto TCP, "udp" rows (QUIC, DTLS) events with proto UDP.  hello_index 1 is
    compared with the top level of "tls", hello_index 2 with
    "tls.hello_retry".  Rows with orphan_server_hello match an event that
    carries only server fingerprints.  A field missing from a row must be
    missing (or null) in the event too; for sni an empty string counts as
    missing.  When several connections share a 4-tuple (port reuse) they are
    paired in capture order.
  * every capture must exit 0 and print only JSON objects, one per line; a
    capture without any expected row must produce no TLS event at all; a TCP
    TLS event that carries a fingerprint but matches no row is a failure.

JA4X (tls.chain[].ja4x / ja4x_r, leaf first) is compared too, unless
--without-ja4x is given.

Exit status 0 when everything matched, 1 otherwise.  The last line printed is
"corpus: N passed, M failed" where N counts matched rows and M counts
failed rows plus failed captures, or "corpus: skipped" when no corpus
directory exists.
"""

import argparse
import concurrent.futures
import ipaddress
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DIRS = [REPO.parent / "shared" / "corpus" / "foxio",
                REPO.parent / "shared" / "corpus" / "synthetic"]
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap")
TIMEOUT = 120  # seconds per capture; generous for sanitizer builds

# expected.jsonl key -> path below the hello object ("tls" or "tls.hello_retry")
CLIENT_FIELDS = [
    ("sni", ("sni",)),
    ("ja3", ("ja3", "hash")),
    ("ja3_string", ("ja3", "string")),
    ("ja4", ("ja4",)),
    ("ja4_r", ("ja4_r",)),
    ("ja4_o", ("ja4_o",)),
    ("ja4_ro", ("ja4_ro",)),
]
SERVER_FIELDS = [
    ("ja3s", ("ja3s", "hash")),
    ("ja3s_string", ("ja3s", "string")),
    ("ja4s", ("ja4s",)),
    ("ja4s_r", ("ja4s_r",)),
]
FP_KEYS = ("ja3", "ja3s", "ja4", "ja4s")


def norm_ip(s):
    try:
        return str(ipaddress.ip_address(s))
    except (ValueError, TypeError):
        return str(s)


def dig(obj, path):
    for p in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(p)
    return obj


def event_value(tls, hello_index, name, path):
    """Value of one expected.jsonl field in a pinscope tls object."""
    if hello_index == 2:
        hr = tls.get("hello_retry")
        hr = hr if isinstance(hr, dict) else {}
        v = dig(hr, path)
        if v is None and name == "sni":
            # The second ClientHello repeats the first one's SNI; pinscope may
            # report it only once, at the top level.
            v = tls.get("sni")
    else:
        v = dig(tls, path)
    if name == "sni" and v == "":
        v = None
    return v


def chain_values(tls, key):
    chain = tls.get("x509_chain")
    if not isinstance(chain, list):
        return None
    vals = [c.get(key) if isinstance(c, dict) else None for c in chain]
    if not any(v is not None for v in vals):
        return None
    return vals


def compare(conn, tls, with_ja4x):
    """List of (field, expected, got) differences between an expected
    connection (one or two rows) and an event's tls object."""
    diffs = []
    for row in conn:
        hi = 2 if row.get("hello_index") == 2 else 1
        tag = "hello_retry." if hi == 2 else ""
        for name, path in CLIENT_FIELDS + SERVER_FIELDS:
            exp = row.get(name)
            if name == "sni" and exp == "":
                exp = None
            got = event_value(tls, hi, name, path)
            if exp != got:
                diffs.append((tag + name, exp, got))
        if with_ja4x and hi == 1:
            for name in ("ja4x", "ja4x_r"):
                exp = row.get(name) or None
                got = chain_values(tls, name)
                if exp != got:
                    diffs.append(("chain[]." + name, exp, got))
    if len(conn) == 1 and conn[0].get("hello_index", 1) == 1:
        hr = tls.get("hello_retry")
        if isinstance(hr, dict) and any(hr.get(k) for k in FP_KEYS):
            diffs.append(("tls.hello_retry (unexpected)", None, "present"))
    return diffs


def ev_key(ev):
    return (norm_ip(ev.get("src_ip")), ev.get("src_port"),
            norm_ip(ev.get("dest_ip")), ev.get("dest_port"),
            "tcp" if is_tcp_event(ev) else "udp")


def row_key(row):
    return (norm_ip(row["src"]), row["sport"], norm_ip(row["dst"]), row["dport"],
            row.get("transport", "tcp"))


def fmt_key(k):
    def hp(ip, port):
        return "[%s]:%s" % (ip, port) if ":" in str(ip) else "%s:%s" % (ip, port)
    return "%s %s -> %s" % (k[4], hp(k[0], k[1]), hp(k[2], k[3]))


def short(v, limit=400):
    s = json.dumps(v) if not isinstance(v, str) else '"%s"' % v
    return s if len(s) <= limit else s[:limit] + "...(%d chars)" % len(s)


def is_tcp_event(ev):
    proto = ev.get("proto")
    return proto is None or str(proto).upper() == "TCP"


def is_tls_event(ev):
    return ev.get("event_type") in ("tls", "quic", "dtls")


def group_connections(rows):
    """Group expected rows into connections, in file order: a hello_index 2
    row joins the latest hello_index 1 row of the same 4-tuple."""
    conns = []
    last = {}
    for row in rows:
        k = row_key(row)
        if row.get("hello_index") == 2 and k in last and len(last[k]) == 1:
            last[k].append(row)
            continue
        conn = [row]
        conns.append(conn)
        last[k] = conn
    return conns


def run_pinscope(pinscope, capture):
    """Run pinscope -r capture; returns (problems, events)."""
    problems = []
    events = []
    with tempfile.TemporaryDirectory(prefix="pinscope-corpus-") as tmp:
        out = os.path.join(tmp, "out.jsonl")
        cmd = [pinscope, "-r", str(capture), "-o", out]
        try:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            return ["timed out after %d s: %s" % (TIMEOUT, " ".join(cmd))], []
        except OSError as e:
            return ["cannot run %s: %s" % (pinscope, e)], []
        if p.returncode != 0:
            if p.returncode < 0:
                try:
                    how = "killed by %s" % signal.Signals(-p.returncode).name
                except ValueError:
                    how = "killed by signal %d" % -p.returncode
            else:
                how = "exit status %d" % p.returncode
            err = p.stderr.decode("utf-8", "replace").strip().splitlines()
            problems.append("%s; stderr tail:\n      %s" % (
                how, "\n      ".join(err[-15:]) or "(empty)"))
        try:
            data = Path(out).read_bytes()
        except OSError:
            data = b""  # no file: no events
    text = data.decode("utf-8", "replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    elif text:
        problems.append("output does not end with a newline")
    for n, line in enumerate(lines, 1):
        try:
            ev = json.loads(line)
        except ValueError as e:
            problems.append("output line %d is not valid JSON (%s): %s" % (n, e, short(line, 200)))
            continue
        if not isinstance(ev, dict):
            problems.append("output line %d is not a JSON object: %s" % (n, short(line, 200)))
            continue
        events.append(ev)
    return problems, events


def check_capture(pinscope, capture, rows, with_ja4x):
    """Returns (passed_rows, failed_rows, capture_failures, report_lines)."""
    report = []
    problems, events = run_pinscope(pinscope, capture)
    tls_events = [e for e in events if is_tls_event(e)]

    if not rows and tls_events:
        problems.append("capture has no TLS but pinscope emitted %d TLS event(s), first: %s"
                        % (len(tls_events), short(tls_events[0], 300)))

    # Pair expected connections with TLS events of the same transport and 4-tuple.
    by_key = {}
    for i, ev in enumerate(tls_events):
        tls = ev.get("tls") if isinstance(ev.get("tls"), dict) else {}
        by_key.setdefault(ev_key(ev), []).append((str(ev.get("timestamp", "")), i, ev, tls))
    for lst in by_key.values():
        lst.sort(key=lambda t: (t[0], t[1]))
    used = set()
    passed = failed = 0
    for conn in group_connections(rows):
        k = row_key(conn[0])
        best = None
        for ts, i, ev, tls in by_key.get(k, []):
            if i in used:
                continue
            d = compare(conn, tls, with_ja4x)
            if best is None or len(d) < len(best[1]):
                best = (i, d)
                if not d:
                    break
        kind = "orphan ServerHello" if conn[0].get("orphan_server_hello") else \
            "hello_index %s" % "+".join(str(r.get("hello_index", 1)) for r in conn)
        if best is None:
            failed += len(conn)
            report.append("  MISSING %s (%s): no TLS event for this connection" % (fmt_key(k), kind))
            for r in conn:
                report.append("      expected ja3=%s ja4=%s ja3s=%s ja4s=%s sni=%s" % (
                    r.get("ja3"), r.get("ja4"), r.get("ja3s"), r.get("ja4s"), r.get("sni")))
            continue
        used.add(best[0])
        if best[1]:
            bad_hi = {2 if f.startswith("hello_retry") else 1 for f, _, _ in best[1]}
            for r in conn:
                hi = 2 if r.get("hello_index") == 2 else 1
                if hi in bad_hi:
                    failed += 1
                else:
                    passed += 1
            report.append("  MISMATCH %s (%s):" % (fmt_key(k), kind))
            for f, exp, got in best[1]:
                report.append("      %-22s expected %s" % (f, short(exp)))
                report.append("      %-22s      got %s" % ("", short(got)))
        else:
            passed += len(conn)

    # TLS events that matched no row.
    for k, lst in by_key.items():
        for ts, i, ev, tls in lst:
            if i in used or not rows:
                continue
            fps = {f: (tls.get(f) if not isinstance(tls.get(f), dict) else tls[f].get("hash"))
                   for f in FP_KEYS if tls.get(f)}
            if fps:
                problems.append("unexpected TLS event %s (no expected row): %s"
                                % (fmt_key(k), short(fps, 300)))
            else:
                report.append("  note: TLS event without fingerprints, no expected row: %s"
                              % fmt_key(k))

    for prob in problems:
        report.insert(0, "  ERROR " + prob)
    return passed, failed, len(problems), report


def load_expected(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except ValueError as e:
                sys.exit("%s:%d: bad JSON: %s" % (path, n, e))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dirs", nargs="*", help="corpus directories (default: %s)" %
                    ", ".join(str(d) for d in DEFAULT_DIRS))
    ap.add_argument("--pinscope", default=os.environ.get("PINSCOPE", str(REPO / "pinscope")),
                    help="pinscope binary (default: $PINSCOPE or ./pinscope)")
    ap.add_argument("--without-ja4x", dest="with_ja4x", action="store_false",
                    help="do not compare ja4x/ja4x_r with tls.chain[].ja4x/ja4x_r")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="parallel pinscope runs")
    ap.add_argument("-v", "--verbose", action="store_true", help="list captures that passed too")
    args = ap.parse_args()

    dirs = [Path(d) for d in args.dirs] if args.dirs else DEFAULT_DIRS
    jobs = []  # (label, capture, rows)
    for d in dirs:
        if not d.is_dir():
            print("corpus: %s: skipped (not present)" % d)
            continue
        exp_path = d / "expected.jsonl"
        rows = load_expected(exp_path) if exp_path.is_file() else []
        if not exp_path.is_file():
            print("corpus: %s: no expected.jsonl, only checking clean runs" % d)
        capdir = d / "pcap" if (d / "pcap").is_dir() else d
        caps = sorted(p for p in capdir.iterdir()
                      if p.is_file() and p.name.lower().endswith(CAPTURE_SUFFIXES))
        names = {p.name for p in caps}
        for r in rows:
            if r.get("pcap") not in names:
                print("corpus: %s: expected.jsonl names a missing capture %s" % (d, r.get("pcap")))
                names.add(r.get("pcap"))
                caps.append(capdir / r.get("pcap"))
        for c in caps:
            jobs.append(("%s/%s" % (d.name, c.name), c, [r for r in rows if r.get("pcap") == c.name]))

    if not jobs:
        print("corpus: skipped")
        return 0

    pinscope = args.pinscope
    if os.sep not in pinscope and os.path.exists(pinscope):
        pinscope = os.path.join(".", pinscope)
    if not (os.path.isfile(pinscope) and os.access(pinscope, os.X_OK)):
        print("corpus: pinscope binary not found or not executable: %s" % pinscope)
        print("corpus: 0 passed, 1 failed")
        return 1

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futs = [pool.submit(check_capture, pinscope, c, rows, args.with_ja4x)
                for _, c, rows in jobs]
        results = [f.result() for f in futs]

    total_pass = total_fail = 0
    failed_caps = []
    for (label, _, rows), (p, f, cf, report) in zip(jobs, results):
        total_pass += p
        total_fail += f + cf
        status = "ok" if not (f or cf) else "FAIL"
        if status != "ok":
            failed_caps.append(label)
        if status != "ok" or args.verbose:
            print("%s %s: %d row(s) matched, %d failed%s" % (
                status, label, p, f, ", capture failed" if cf else ""))
            for line in report:
                print(line)
    print("captures: %d run, %d with failures%s" % (
        len(jobs), len(failed_caps), (": " + " ".join(failed_caps)) if failed_caps else ""))
    print("corpus: %d passed, %d failed" % (total_pass, total_fail))
    return 1 if total_fail else 0


if __name__ == "__main__":
    sys.exit(main())
