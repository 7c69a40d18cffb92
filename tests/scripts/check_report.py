#!/usr/bin/env python3
"""check_report.py - `pinscope report` against what the samples document,
against itself (captures vs the events written from them), on hostile
strings, in a real browser, and its progress line.

  1. verdicts: every row of the "Verdicts" table in samples/README.md,
     one capture at a time (server, verdict, product, refusals).
  2. same summary: `report -r X` == `report` of the EVE events and of the
     ECS documents written from X (--format json, byte for byte).
  3. formats: text without colour off a tty, colour on a pty unless
     NO_COLOR, markdown tables, JSON that parses.
  4. hostile strings: a capture with a hostile SNI and events whose SNI,
     issuer, subject and application hold markup, quotes, terminal escapes,
     bidi controls and invalid UTF-8: no control byte reaches the terminal,
     and in the page (dumped by headless Chromium) no tag or attribute from
     them exists in the DOM, while their text does.
  5. browser: the samples' page in headless Chromium: a screenshot, no
     console message (checked to catch a broken page first), the verdict
     rows and the script's mark in the DOM, no network request possible
     (Content-Security-Policy default-src 'none').
  6. progress: the line appears under a pty and not when stderr is a file.

Chromium checks are skipped, and said so, when chromium is not installed.
"""
import argparse
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what)


def run(args, **kw):
    return subprocess.run(args, cwd=ROOT, capture_output=True, timeout=300, **kw)


def sample_args(name):
    a = ["-r", "samples/%s.pcap" % name]
    if os.path.exists(os.path.join(ROOT, "samples/%s.keylog" % name)):
        a += ["--keylog", "samples/%s.keylog" % name]
    return a + ["--ca-bundle", "samples/pki/public-root-ca.pem", "--policy", "samples/policy.json"]


def report_json(pinscope, args):
    p = run([pinscope, "report", "--format", "json", "--no-progress"] + args)
    if p.returncode != 0:
        print(p.stderr.decode(errors="replace"))
        return None
    return json.loads(p.stdout)


def readme_verdicts():
    text = open(os.path.join(ROOT, "samples/README.md"), encoding="utf-8").read()
    sec = text.split("## Verdicts", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in sec.splitlines():
        m = re.match(r"\| `([^`]+)\.pcap` \| (\S+) (\w+)(.*)\|$", line)
        if not m:
            continue
        name, server, verdict, rest = m.groups()
        prod = re.search(r'product "([^"]+)"', rest)
        ref = re.search(r"(\d+) refused", rest)
        rows.append((name, server, verdict, prod.group(1) if prod else None,
                     int(ref.group(1)) if ref else 0))
    return rows


def check_verdicts(pinscope):
    rows = readme_verdicts()
    check(len(rows) >= 28, "samples/README.md lists %d verdict rows" % len(rows))
    for name, server, verdict, product, refused in rows:
        if not os.path.exists(os.path.join(ROOT, "samples/%s.pcap" % name)):
            check(False, "%s.pcap is missing" % name)
            continue
        d = report_json(pinscope, sample_args(name))
        if d is None:
            check(False, "%s: report failed" % name)
            continue
        got = {s["server"]: s for s in d["servers"]}
        s = got.get(server)
        check(s is not None and len(got) == 1, "%s: servers %s, expected %s" % (name, list(got), server))
        if not s:
            continue
        check(s["verdict"] == verdict, "%s: %s is %s, README says %s" % (name, server, s["verdict"], verdict))
        check(bool(s["why"]), "%s: no sentence for the verdict" % name)
        prods = [p["value"] for p in s["products"]]
        if product:
            check(product in prods, "%s: products %s, expected %s" % (name, prods, product))
        if verdict == "intercepted":
            iss = " ".join(i["value"] for i in s["issuers"])
            check("Acme Corp SSL Inspection Root" in iss or "mitmproxy" in iss,
                  "%s: the interception CA is not among the issuers %s" % (name, iss))
            check(s["intercepted"] >= 1 and s["alerts"], "%s: no intercepted connection" % name)
        if verdict == "clean":
            check(not s["alerts"] and s["intercepted"] == 0, "%s: clean with alerts" % name)
        check(s["refused"] == refused, "%s: %d refused, README says %d" % (name, s["refused"], refused))
        if server == "www.bank.test":   # pinned in samples/policy.json: leaf and issuing CA
            pins = s.get("policy_pins", [])
            seen = s.get("chain_pins_seen", [])
            check(len(pins) == 2 and seen, "%s: policy pins %s" % (name, pins))
            leaf_ok = [x["expected"] for x in seen if x["leaf"]]
            if verdict == "clean":
                check(leaf_ok == [True], "%s: the real leaf's pin is not marked expected" % name)
            elif verdict == "intercepted" and "mitmproxy" not in name:
                check(False in leaf_ok, "%s: no unexpected leaf pin seen" % name)


def check_same(pinscope, tmp):
    for name in ("mitm_mitmproxy_chromium", "pinning_python_refuses_tls12", "clean_curl_tls13",
                 "mitm_socat_curl"):
        a = sample_args(name)
        direct = run([pinscope, "report", "--format", "json", "--no-progress"] + a).stdout
        for fmt in ("eve", "ecs"):
            ev = os.path.join(tmp, "%s.%s.json" % (name, fmt))
            run([pinscope] + a + ["--stats", "--format", fmt, "-o", ev])
            back = run([pinscope, "report", "--format", "json", "--policy", "samples/policy.json", ev]).stdout
            check(direct == back and len(direct) > 100,
                  "%s: report from %s events differs from report of the capture" % (name, fmt))
    # every sample at once, events through stdin
    allargs = []
    for f in sorted(os.listdir(os.path.join(ROOT, "samples"))):
        if f.endswith(".pcap"):
            allargs += [a for a in sample_args(f[:-5]) if a.startswith("samples/") or a in ("-r", "--keylog")
                        ][:4 if os.path.exists(os.path.join(ROOT, "samples", f[:-5] + ".keylog")) else 2]
    allargs += ["--ca-bundle", "samples/pki/public-root-ca.pem", "--policy", "samples/policy.json"]
    ev = os.path.join(tmp, "all.json")
    direct = run([pinscope, "report", "--format", "json", "--no-progress", "-o", ev, "--stats"] + allargs).stdout
    with open(ev, "rb") as fp:
        back = run([pinscope, "report", "--format", "json", "--policy", "samples/policy.json", "-"],
                   stdin=fp).stdout
    check(direct == back and len(direct) > 1000, "all samples: report of -o events differs")
    d = json.loads(direct)
    v = {s["server"]: s["verdict"] for s in d["servers"]}
    check(v == {"www.bank.test": "intercepted", "api.shop.test": "intercepted",
                "www.pinscope.test": "refused"}, "all samples: verdicts %s" % v)
    return ev


def script_run(cmd, env=None):
    """Run a shell command under a pty (util-linux script); its output."""
    p = subprocess.run(["script", "-qfec", cmd, "/dev/null"], cwd=ROOT, capture_output=True,
                       timeout=120, env=env, stdin=subprocess.DEVNULL)
    return p.stdout


def check_formats(pinscope, ev):
    t = run([pinscope, "report", ev])
    out = t.stdout
    check(t.returncode == 0 and b"Servers, worst first" in out and b"intercepted  www.bank.test" in out,
          "text report of the samples")
    check(b"\x1b" not in out, "colour codes in text written to a file")
    for line in out.decode().splitlines():
        if len(line) > 100:
            check(False, "line wider than COLUMNS=100: %r" % line)
            break
    md = run([pinscope, "report", "--format", "markdown", ev]).stdout.decode()
    check("| VERDICT | SERVER |" in md and "|---|---|---:|" in md and "## Evidence" in md,
          "markdown tables")
    check(json.loads(run([pinscope, "report", "--format", "json", ev]).stdout)["totals"]["connections"] == 46,
          "json totals")
    env = dict(os.environ, COLUMNS="80")
    env.pop("NO_COLOR", None)
    tty = script_run("%s report %s" % (pinscope, ev), env)
    check(b"\x1b[1;31mintercepted" in tty, "colour on a pty")
    env["NO_COLOR"] = "1"
    tty = script_run("%s report %s" % (pinscope, ev), env)
    check(b"intercepted" in tty and b"\x1b[" not in tty, "NO_COLOR honoured on a pty")
    bad = run([pinscope, "report", "--format", "yaml", ev])
    check(bad.returncode == 2 and b"expected text, markdown or json" in bad.stderr, "bad --format")
    none = run([pinscope, "report"])
    check(none.returncode == 2, "report without input")
    missing = run([pinscope, "report", "/nonexistent/events.json"])
    check(missing.returncode == 1 and b"/nonexistent/events.json" in missing.stderr, "missing events file")


HOSTILE = [
    '<script>window.__pwned=1</script>',
    '"><img src=x onerror="window.__pwned=2">',
    "' onmouseover='window.__pwned=3",
    "evil\u202ecom.knab\u202c.example",
    "term\x1b]0;owned\x07\x1b[2J\x9bclear",
    "</td></tr></table><iframe src=\"http://198.18.0.9/\"></iframe>",
]


def hostile_events(path):
    """EVE lines as pinscope would write them, with hostile strings where
    wire strings go (JSON-escaped like pinscope escapes them), plus a line
    that is not JSON and one with invalid UTF-8 bytes."""
    lines = []
    for i, h in enumerate(HOSTILE):
        ts = "2026-11-25T21:00:%02d.000000+0000" % i
        tls = {"sni": h, "version": "TLS 1.3", "ja4": "t13d1517h2_8daaf6152771_cb7bf5808d99",
               "ja4s": "t130200_1302_a56c5b993250", "client_app": h, "state": "complete",
               "interception_product": h,
               "x509_chain": [{"subject": "CN=" + h, "subject_cn": h, "issuer": "CN=" + h,
                               "issuer_cn": h, "sha256": "%064x" % i, "spki_sha256": h,
                               "not_after": "2026-11-26T00:00:00Z"}],
               "chain_checks": {"validation": {"code": h}}}
        base = {"timestamp": ts, "flow_id": 1000 + i, "src_ip": "198.18.0.%d" % (20 + i), "src_port": 40000,
                "dest_ip": "198.18.1.10", "dest_port": 443, "proto": "TCP", "host": h}
        lines.append(json.dumps(dict(base, event_type="tls", tls=tls)))
        alert = {"signature_id": 9100004, "signature": h, "severity": 1, "confidence": h,
                 "reason": h, "evidence": {"product": h, h: h},
                 "metadata": {"detection_family": ["interception"]}}
        lines.append(json.dumps(dict(base, event_type="alert", alert=alert, tls=tls,
                                     flow={"start": ts})))
    with open(path, "wb") as fp:
        for l in lines:
            fp.write(l.encode() + b"\n")
        fp.write(b"not json at all\n")
        raw = json.dumps({"timestamp": "2026-11-25T21:01:00.000000+0000", "flow_id": 7, "event_type": "tls",
                          "src_ip": "198.18.0.99", "src_port": 1, "dest_ip": "198.18.1.10", "dest_port": 443,
                          "tls": {"sni": "XX"}}).encode().replace(b"XX", b"\xff\xfe<b>")
        fp.write(raw + b"\n")


class DomScan(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = {}
        self.on_attrs = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for k, v in attrs:
            if k.startswith("on"):
                self.on_attrs.append((tag, k))

    def handle_data(self, data):
        self.text.append(data)


def chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def browse(page, tmp, screenshot=None):
    """Load `page` in headless Chromium: (dom, console lines)."""
    base = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--user-data-dir=" + os.path.join(tmp, "chrome"), "--enable-logging=stderr", "--v=0"]
    p = subprocess.run(base + ["--dump-dom", "file://" + page], capture_output=True, timeout=120)
    console = [l for l in p.stderr.decode(errors="replace").splitlines() if ":CONSOLE" in l]
    if screenshot:
        subprocess.run(base + ["--hide-scrollbars", "--window-size=1400,2000",
                               "--screenshot=" + screenshot, "file://" + page],
                       capture_output=True, timeout=120)
    return p.stdout.decode(errors="replace"), console


def check_hostile(pinscope, tmp):
    ev = os.path.join(tmp, "hostile.json")
    hostile_events(ev)
    page = os.path.join(tmp, "hostile.html")
    for fmt in ("text", "markdown", "json"):
        p = run([pinscope, "report", "--format", fmt, ev] + (["--html", page] if fmt == "text" else []))
        out = p.stdout
        check(p.returncode == 0, "hostile events: report --format %s failed" % fmt)
        if fmt != "json":
            bad = [b for b in (b"\x1b", b"\x07", b"\x9b", "\u202e".encode(), b"\xff") if b in out]
            check(not bad, "hostile events, %s: raw %r reached the output" % (fmt, bad))
            check(b"\\x1b" in out and b"\\u{202e}" in out, "hostile events, %s: escapes not shown" % fmt)
        if fmt == "markdown":
            check(not re.search(rb"(?<!\\)<", out), "markdown: an unescaped '<'")
    check(b"1 line was not a pinscope event" in run([pinscope, "report", ev]).stderr,
          "the line that is not JSON is counted")
    raw = open(page, "rb").read()
    check(raw.count(b"<script") == 1 and b"<img" not in raw and b"<iframe" not in raw,
          "hostile page source holds a tag from the events")
    # the real capture with a hostile SNI, through -r
    p = run([pinscope, "report", "-r", "tests/golden/hostile_sni.pcap", "--html",
             os.path.join(tmp, "hostile_sni.html")])
    check(p.returncode == 0 and b"\x1b" not in p.stdout and b"\\x" in p.stdout,
          "hostile_sni.pcap: report escapes the SNI")
    if not chromium():
        print("skip: chromium not installed: hostile page not loaded in a browser")
        return
    dom, console = browse(page, tmp)
    scan = DomScan()
    scan.feed(dom)
    check(scan.tags.get("script", 0) == 1 and "img" not in scan.tags and "iframe" not in scan.tags,
          "hostile DOM tags: %s" % sorted(scan.tags))
    check(not scan.on_attrs, "hostile DOM event attributes: %s" % scan.on_attrs)
    text = "".join(scan.text)
    check("<script>window.__pwned=1</script>" in text and "onerror=" in text,
          "hostile strings not shown as text")
    check('class="js"' in dom and not console, "hostile page: script did not run cleanly: %s" % console[:3])


def check_paged(pinscope, tmp):
    """More servers than the page makes rows for: the rest travel as JSON
    data, hostile names included, and become rows only when shown."""
    ev = os.path.join(tmp, "many.json")
    with open(ev, "w") as fp:
        for i in range(560):
            sni = "srv%03d.test" % i
            for k in range(2):
                fp.write(json.dumps({"timestamp": "2026-11-25T21:00:%02d.%06d+0000" % (i % 60, k),
                                     "flow_id": i * 10 + k, "event_type": "tls", "src_ip": "198.18.0.1",
                                     "dest_ip": "198.18.1.10", "dest_port": 443,
                                     "tls": {"sni": sni, "x509_chain": [{"sha256": "%064x" % i,
                                                                         "issuer": "CN=CA"}]}}) + "\n")
        for i, h in enumerate(HOSTILE):
            fp.write(json.dumps({"timestamp": "2026-11-25T21:01:00.000000+0000", "flow_id": 9000 + i,
                                 "event_type": "tls", "src_ip": "198.18.0.2", "dest_ip": "198.18.1.10",
                                 "dest_port": 443, "tls": {"sni": "zz" + h}}) + "\n")
    page = os.path.join(tmp, "many.html")
    p = run([pinscope, "report", ev, "--html", page])
    check(p.returncode == 0, "report of 566 servers")
    raw = open(page, encoding="utf-8").read()
    m = re.search(r'<script type="application/json" id="more">(.*?)</script>', raw, re.S)
    data = json.loads(m.group(1)) if m else []
    check(len(re.findall(r'<tr id="s\d+"', raw)) == 500 and len(data) == 66,
          "500 rows as HTML, 66 as data (%d)" % len(data))
    check(raw.count("</script>") == 2 and "<!--" not in raw, "a name closed the data block")
    check(any(d[1] == "zz" + HOSTILE[0] for d in data), "hostile name kept as text in the data")
    if not chromium():
        return
    dom, console = browse(page + "#q=zz", tmp)
    scan = DomScan()
    scan.feed(dom)
    built = re.findall(r'<tr data-v="unknown">', dom)
    check(len(built) == len(HOSTILE) and not console, "search built %d data rows, console %s"
          % (len(built), console[:2]))
    check(scan.tags.get("script", 0) == 2 and "img" not in scan.tags and "iframe" not in scan.tags
          and not scan.on_attrs, "data rows: tags %s, attributes %s" % (sorted(scan.tags), scan.on_attrs))
    check("zz<script>window.__pwned=1</script>" in "".join(scan.text), "data row text")


def check_browser(pinscope, ev, tmp, keep):
    page = os.path.join(tmp, "report.html")
    p = run([pinscope, "report", ev, "--html", page])
    check(p.returncode == 0 and os.path.exists(page) and b"HTML report: " + page.encode() in p.stdout,
          "--html writes the page and says where")
    raw = open(page, "rb").read()
    check(b"default-src 'none'" in raw and b"http://" not in raw and b"https://" not in raw,
          "the page loads nothing from anywhere")
    if not chromium():
        print("skip: chromium not installed: page not loaded in a browser")
        return
    # the harness must see a broken page first
    broken = os.path.join(tmp, "broken.html")
    with open(broken, "wb") as fp:
        fp.write(raw.replace(b"</script></body>", b"</script><script>nosuchfunction();</script></body>"))
    _, console = browse(broken, tmp)
    check(any("nosuchfunction" in l for l in console), "a script error is not caught by the console check")
    shot = os.path.join(keep or tmp, "report.png")
    dom, console = browse(page, tmp, screenshot=shot)
    check(not console, "console messages: %s" % console[:3])
    check('class="js"' in dom, "the page's script did not run")
    scan = DomScan()
    scan.feed(dom)
    rows = re.findall(r'<tr id="s\d+" data-v="(\w+)"', dom)
    check(sorted(rows) == ["intercepted", "intercepted", "refused"], "verdict rows in the DOM: %s" % rows)
    check(scan.tags.get("svg", 0) >= 4, "charts and timeline as inline SVG")
    check('href="#ev-0-0"' in dom and 'id="ev-0-0"' in dom, "alerts link to their evidence")
    check(os.path.exists(shot) and os.path.getsize(shot) > 20000, "screenshot taken")


def check_progress(pinscope, tmp):
    # stdin that stays open 1.5 s: the run is long enough to show progress
    cap = "tests/golden/curl_tls13.pcap"
    cmd = "(cat %s; sleep 1.5) | %s -r - -o /dev/null" % (cap, pinscope)
    tty = script_run(cmd)
    check(b"\rpinscope: " in tty.replace(b"\x1b[K", b"") and b"read," in tty, "progress line on a pty")
    p = subprocess.run(["sh", "-c", cmd], cwd=ROOT, capture_output=True, timeout=60)
    check(b"read," not in p.stderr and b"\r" not in p.stderr, "progress line with stderr in a file")
    tty = script_run(cmd.replace("-o /dev/null", "-o /dev/null --no-progress"))
    check(b"read," not in tty, "--no-progress")
    p = subprocess.run(["sh", "-c", cmd.replace("-o /dev/null", "--progress")], cwd=ROOT,
                       capture_output=True, timeout=60)
    check(b"read," in p.stderr and b"read," not in p.stdout and p.stdout.count(b"\n") == 1,
          "--progress: on stderr only, stdout holds the one event")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pinscope", default="./pinscope")
    ap.add_argument("--keep", help="directory for the screenshot")
    a = ap.parse_args()
    pinscope = os.path.abspath(os.path.join(ROOT, a.pinscope)) if not os.path.isabs(a.pinscope) else a.pinscope
    with tempfile.TemporaryDirectory() as tmp:
        check_verdicts(pinscope)
        ev = check_same(pinscope, tmp)
        check_formats(pinscope, ev)
        check_hostile(pinscope, tmp)
        check_browser(pinscope, ev, tmp, a.keep)
        check_paged(pinscope, tmp)
        check_progress(pinscope, tmp)
    print("report: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
