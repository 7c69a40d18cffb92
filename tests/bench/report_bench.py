#!/usr/bin/env python3
"""report_bench.py - `pinscope report` on 100,000 connections: time to
summarise, size of the page, and how long headless Chromium takes to load
it (against an empty page, so browser start-up is taken out).

Writes BENCH_REPORT_CONNS (default 100000) synthetic EVE connections, as
pinscope writes them: 5,000 server names (one in twenty intercepted, with
a severity-1 alert), 2,000 clients, a few dozen JA4s, chains of two
certificates, over one hour.  Prints one line per measurement.

  python3 tests/bench/report_bench.py [--pinscope ./pinscope] [--out DIR]
"""
import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time


def events(n, path):
    rnd = random.Random(1)
    ja4s = ["t13d%02d%02dh2_%012x_%012x" % (rnd.randint(10, 30), rnd.randint(5, 20),
                                            rnd.getrandbits(48), rnd.getrandbits(48)) for _ in range(40)]
    with open(path, "w") as fp:
        for i in range(n):
            srv = rnd.randint(0, 4999)
            cli = rnd.randint(0, 1999)
            bad = srv % 20 == 0 and rnd.random() < 0.5
            t = 1795640400 + i * 3600.0 / n
            ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06d+0000" % int((t % 1) * 1e6)
            sni = "host%d.example%d.test" % (srv, srv % 97)
            issuer = "CN=Inspection Root,O=Proxy Co" if bad else "CN=Public CA %d,O=Trust Co" % (srv % 30)
            tls = {
                "sni": sni, "version": "TLS 1.3" if i % 4 else "TLS 1.2",
                "ja3": {"hash": "%032x" % (cli % 40)}, "ja4": ja4s[cli % 40],
                "ja4s": "t130200_1302_a56c5b993250", "client_app": "app %d" % (cli % 40),
                "state": "complete", "end": "handshake_complete",
                "x509_chain": [
                    {"subject": "CN=" + sni, "subject_cn": sni, "issuer": issuer,
                     "issuer_cn": issuer[3:].split(",")[0], "sha256": "%064x" % (srv * 2 + bad),
                     "spki_sha256": "pin%dAAAA=" % (srv * 2 + bad), "not_after": "2027-01-01T00:00:00Z"},
                    {"subject": issuer, "subject_cn": issuer[3:].split(",")[0],
                     "issuer": "CN=Root", "sha256": "%064x" % (10 ** 6 + srv % 30)}],
                "chain_checks": {"validation": {"code": "unable_to_get_issuer_cert_locally" if bad else "ok"}},
            }
            if bad:
                tls["interception_product"] = "Proxy Co inspection"
            base = {"timestamp": ts, "flow_id": 10 ** 9 + i, "src_ip": "198.18.%d.%d" % (cli // 250, cli % 250 + 1),
                    "src_port": 40000 + i % 20000, "dest_ip": "198.19.%d.%d" % (srv // 250, srv % 250 + 1),
                    "dest_port": 443, "proto": "TCP", "host": "sensor"}
            fp.write(json.dumps(dict(base, event_type="tls", tls=tls)) + "\n")
            if bad:
                alert = {"signature_id": 9100004, "signature": "known interception product",
                         "severity": 1, "confidence": "high",
                         "reason": "The certificate for %s was issued by Proxy Co inspection." % sni,
                         "evidence": {"issuer": issuer, "product": "Proxy Co inspection"},
                         "metadata": {"detection_family": ["interception"]}}
                fp.write(json.dumps(dict(base, event_type="alert", alert=alert, tls=tls,
                                         flow={"start": ts})) + "\n")


PROBE = (b"<script>addEventListener('load',function(){requestAnimationFrame(function(){"
         b"setTimeout(function(){console.log('PROBE '+Math.round(performance.now())+' '+"
         b"document.getElementsByTagName('*').length+' '+document.body.className);},0);});});"
         b"</script></body>")


def chromium_load(browser, page, tmp):
    """Milliseconds from navigation to the first frame after the load
    event, measured inside the page (a copy with a probe appended), the
    element count, and whether the page's own script ran."""
    probe = os.path.join(tmp, "probe.html")
    with open(page, "rb") as fp, open(probe, "wb") as out:
        out.write(fp.read().replace(b"</body>", PROBE))
    args = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--user-data-dir=" + os.path.join(tmp, "chrome"), "--enable-logging=stderr", "--v=0",
            "--dump-dom", "file://" + probe]
    p = subprocess.run(args, capture_output=True, timeout=300)
    for line in p.stderr.decode(errors="replace").splitlines():
        if "PROBE " in line:
            f = line.split("PROBE ", 1)[1].split('"')[0].split()
            return int(f[0]), int(f[1]), len(f) > 2 and f[2] == "js"
    return None, 0, False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pinscope", default="./pinscope")
    ap.add_argument("--out", default="build/bench")
    a = ap.parse_args()
    n = int(os.environ.get("BENCH_REPORT_CONNS", "100000"))
    a.out = os.path.abspath(a.out)
    os.makedirs(a.out, exist_ok=True)
    ev = os.path.join(a.out, "report_events.json")
    page = os.path.join(a.out, "report_100k.html")
    events(n, ev)
    size = os.path.getsize(ev)
    t = time.monotonic()
    p = subprocess.run([a.pinscope, "report", ev, "--html", page], capture_output=True)
    el = time.monotonic() - t
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if p.returncode != 0:
        print("report FAILED: %s" % p.stderr.decode(errors="replace")[:400])
        return 1
    print("  pinscope report, %d connections (%.0f MB of events): %.2f s, peak RSS %.0f MiB"
          % (n, size / 1e6, el, rss))
    print("  HTML page: %.0f kB" % (os.path.getsize(page) / 1e3))
    browser = shutil.which("chromium")
    if not browser:
        print("  chromium not installed: page load not measured")
        return 0
    runs = [chromium_load(browser, page, a.out) for _ in range(3)]
    ms = [r[0] for r in runs if r[0] is not None]
    if not ms:
        print("  headless Chromium: the page did not load")
        return 1
    ok = all(r[2] for r in runs)
    print("  headless Chromium: first frame after load in %d ms (best of 3), %d elements%s"
          % (min(ms), runs[0][1], "" if ok else " - the page's script did not run"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
