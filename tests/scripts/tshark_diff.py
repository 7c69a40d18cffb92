#!/usr/bin/env python3
"""Differential test: JA3/JA3S from pinscope against tshark's.

For every capture given (default: the shared corpus captures, when
../shared/corpus exists, plus tests/golden/*.pcap*), run pinscope and tshark
and compare, per TCP connection and per QUIC connection, the JA3 (hash and full string)
of each ClientHello and the JA3S of each ServerHello, in order (the second
pair after a HelloRetryRequest is pinscope's tls.hello_retry).  tshark
decrypts QUIC Initial packets itself, so the QUIC comparison checks
pinscope's Initial decryption, CRYPTO reassembly and hello parsing against
an independent implementation; for QUIC the SNI is compared too.  DTLS is
not compared (tshark 4.0 computes no JA3 for it).

tshark finds TLS on well-known ports and by heuristics; when pinscope reports
a TLS connection on which tshark saw no hello, tshark is run again with
"-d tcp.port==PORT,tls" for those server ports (not for tunnelled
connections, whose port carries a proxy protocol first).

A disagreement is a failure unless it is listed in ALLOWLIST below with a
reason.  The last line printed is "tshark: N passed, M failed" (N counts
agreeing connections, allowlisted ones included), or "tshark: skipped" when
tshark is not installed.  Exit status 1 on any failure.
"""

import argparse
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus"
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap")
TIMEOUT = 120

# Known, accepted disagreements.  Each entry needs a reason.
#   pcap:   capture file name (basename)
#   client: "ip:port" of the client ("[v6]:port" for IPv6), or "*"
#   field:  "ja3" / "ja3s" (hash and string of that hello), or "connection"
#           (one side saw a TLS connection the other did not)
#   reason: why the difference is acceptable (cite the spec or tshark bug)
CID_REUSE = ("tshark 4.0 tracks a QUIC connection by its connection IDs, not its UDP "
             "ports; this crafted capture replays the RFC 9001/9369 packets (same CIDs) on "
             "several ports, so tshark files the later ones under the first connection")
ALLOWLIST = [
    {"pcap": "quic_hostile.pcap", "client": "198.18.0.10:41016", "field": "ja3s",
     "reason": CID_REUSE},
    {"pcap": "quic_rfc_initials.pcap", "client": "198.18.0.10:41011", "field": "connection",
     "reason": CID_REUSE},
    # Two VXLAN tenants (VNI 100 and 200) whose inner connections have the
    # same addresses and ports: pinscope keeps them apart by the VNI, tshark
    # keys a connection by addresses and ports only, so it sees one (the
    # first, which agrees) and no hello for the second.
    {"pcap": "tunnels.pcap", "client": "10.0.0.1:41000", "field": "connection",
     "reason": "tshark merges two overlay tenants with the same inner 5-tuple"},
    # tshark 4.0 reads this X.224 negotiation as pinscope does (it prints
    # requestedProtocols TLS|CredSSP and selectedProtocol TLS) but goes on
    # reading the TLS records that follow as TPKT continuations.
    {"pcap": "rdp_tls.pcap", "client": "198.18.0.10:42100", "field": "connection",
     "reason": "tshark 4.0 does not switch to TLS after an RDP negotiation"},
    # tshark 4.0 dissects the HTTP Upgrade and the WebSocket frames (and
    # reads TDS PRELOGIN packets into TLS, agreeing on tds_tls.pcap), but
    # hands a binary WebSocket payload only to a subprotocol or ws.port
    # dissector, and TLS is not one ("-d ws.port==8080,tls" is refused).
    {"pcap": "websocket_tls.pcap", "client": "198.18.0.1:59830", "field": "connection",
     "reason": "tshark 4.0 does not pass WebSocket binary frames to its TLS dissector"},
    # A QUIC client on ephemeral port 4789: tshark 4.0 hands UDP port 4789
    # to its VXLAN dissector in either direction, so it sees no QUIC at all;
    # pinscope takes VXLAN only with the header's reserved fields zero
    # (RFC 7348), which a QUIC packet's bytes are not.
    {"pcap": "quic_client_port_4789.pcap", "client": "198.18.0.1:4789", "field": "connection",
     "reason": "tshark 4.0 decodes any datagram to or from UDP 4789 as VXLAN"},
    # Example:
    # {"pcap": "foo.pcap", "client": "10.0.0.1:1234", "field": "ja3",
    #  "reason": "tshark 4.0 keeps GREASE in the signature list (bug NNNN)"},
]

TSHARK_FIELDS = [
    "frame.number", "tcp.stream",
    "ip.src", "ipv6.src", "tcp.srcport",
    "ip.dst", "ipv6.dst", "tcp.dstport",
    "tls.handshake.type",
    "tls.handshake.ja3", "tls.handshake.ja3_full",
    "tls.handshake.ja3s", "tls.handshake.ja3s_full",
    "udp.stream", "udp.srcport", "udp.dstport", "quic.version",
    "tls.handshake.extensions_server_name",
]


def norm_ip(s):
    try:
        return str(ipaddress.ip_address(s))
    except (ValueError, TypeError):
        return str(s)


def hp(ip, port):
    return "[%s]:%s" % (ip, port) if ":" in str(ip) else "%s:%s" % (ip, port)


def fmt_key(k):
    return "%s%s -> %s" % ("QUIC " if len(k) > 4 and k[4] == "udp" else "",
                           hp(k[0], k[1]), hp(k[2], k[3]))


def default_captures():
    caps = []
    for sub in ("foxio/pcap", "synthetic"):
        d = CORPUS / sub
        if d.is_dir():
            caps += sorted(p for p in d.iterdir() if p.name.lower().endswith(CAPTURE_SUFFIXES))
    g = REPO / "tests" / "golden"
    if g.is_dir():
        caps += sorted(p for p in g.iterdir() if p.name.lower().endswith(CAPTURE_SUFFIXES))
    return caps


def check_tshark_fields(tshark):
    """Returns the names of TSHARK_FIELDS this tshark lacks."""
    p = subprocess.run([tshark, "-G", "fields"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, timeout=TIMEOUT)
    have = set()
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        parts = line.split("\t")
        if len(parts) > 2 and parts[0] == "F":
            have.add(parts[2])
    return [f for f in TSHARK_FIELDS if f not in have]


def last(v):
    """Innermost of several occurrences (tunnels: outer header first)."""
    parts = [x for x in v.split(";") if x] if v else []
    return parts[-1] if parts else ""


def run_tshark(tshark, capture, tls_ports=()):
    """Returns ({stream: conn}, error).  conn = {"key": 4-tuple client first,
    "ch": [(ja3, ja3_full)], "sh": [(ja3s, ja3s_full)], "order": n}."""
    cmd = [tshark, "-n", "-r", str(capture),
           "-o", "tcp.reassemble_out_of_order:TRUE",
           "-o", "tcp.desegment_tcp_streams:TRUE",
           "-o", "tls.desegment_ssl_records:TRUE",
           "-o", "tls.desegment_ssl_application_data:TRUE"]
    for port in sorted(tls_ports):
        cmd += ["-d", "tcp.port==%d,tls" % port]
    cmd += ["-Y", "tls.handshake.type==1 || tls.handshake.type==2",
            "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a",
            "-E", "aggregator=;", "-E", "quote=n"]
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return {}, "tshark timed out"
    out = p.stdout.decode("utf-8", "replace")
    if p.returncode != 0 and not out:
        err = [l for l in p.stderr.decode("utf-8", "replace").splitlines()
               if "Running as user" not in l]
        return {}, "tshark exit %d: %s" % (p.returncode, " ".join(err[-3:]))
    conns = {}
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) < len(TSHARK_FIELDS):
            f += [""] * (len(TSHARK_FIELDS) - len(f))
        (frame, stream, ip4s, ip6s, sport, ip4d, ip6d, dport, types,
         ja3, ja3_full, ja3s, ja3s_full, ustream, usport, udport, qtype,
         sni) = f[:len(TSHARK_FIELDS)]
        stream = last(stream)
        proto = "tcp"
        if stream == "":
            if last(ustream) == "" or qtype == "":
                continue  # neither TCP nor QUIC (DTLS)
            proto, stream = "udp", "u" + last(ustream)
            sport, dport = usport, udport
        src = norm_ip(last(ip6s) or last(ip4s))
        dst = norm_ip(last(ip6d) or last(ip4d))
        sport, dport = int(last(sport)), int(last(dport))
        c = conns.setdefault(stream, {"key": None, "ch": [], "sh": [], "sni": None,
                                      "order": int(frame.split(";")[0])})
        if proto == "udp" and sni and c["sni"] is None:
            c["sni"] = sni.split(";")[0]
        tl = types.split(";")
        ja3s_l = ja3.split(";") if ja3 else []
        ja3f_l = ja3_full.split(";") if ja3_full else []
        sh_l = ja3s.split(";") if ja3s else []
        shf_l = ja3s_full.split(";") if ja3s_full else []
        n_ch = max(tl.count("1"), len(ja3s_l))
        n_sh = max(tl.count("2"), len(sh_l))
        for i in range(n_ch):
            c["ch"].append((ja3s_l[i] if i < len(ja3s_l) else None,
                            ja3f_l[i] if i < len(ja3f_l) else None))
            if c["key"] is None:
                c["key"] = (src, sport, dst, dport, proto)
        for i in range(n_sh):
            c["sh"].append((sh_l[i] if i < len(sh_l) else None,
                            shf_l[i] if i < len(shf_l) else None))
            if c["key"] is None:
                c["key"] = (dst, dport, src, sport, proto)
    return conns, None


def run_pinscope(pinscope, capture):
    """Returns (events, error)."""
    with tempfile.TemporaryDirectory(prefix="pinscope-tshark-") as tmp:
        out = os.path.join(tmp, "out.jsonl")
        try:
            p = subprocess.run([pinscope, "-r", str(capture), "-o", out],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            return [], "pinscope timed out"
        except OSError as e:
            return [], "cannot run pinscope: %s" % e
        err = None
        if p.returncode != 0:
            if p.returncode < 0:
                try:
                    err = "pinscope killed by %s" % signal.Signals(-p.returncode).name
                except ValueError:
                    err = "pinscope killed by signal %d" % -p.returncode
            else:
                err = "pinscope exit status %d" % p.returncode
            tail = p.stderr.decode("utf-8", "replace").strip().splitlines()[-5:]
            if tail:
                err += ": " + " | ".join(tail)
        events = []
        try:
            text = Path(out).read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        for n, line in enumerate(text.splitlines(), 1):
            try:
                ev = json.loads(line)
            except ValueError:
                err = (err + "; " if err else "") + "output line %d is not JSON" % n
                continue
            if isinstance(ev, dict):
                events.append(ev)
        return events, err


def hello_pair(obj, name):
    v = obj.get(name) if isinstance(obj, dict) else None
    if not isinstance(v, dict):
        return None
    return (v.get("hash"), v.get("string"))


def pinscope_conns(events):
    conns = []
    for i, ev in enumerate(events):
        if ev.get("event_type") not in ("tls", "quic"):
            continue
        proto = str(ev.get("proto", "TCP")).lower()
        tls = ev.get("tls") if isinstance(ev.get("tls"), dict) else {}
        if proto != "tcp" and ev.get("event_type") != "quic":
            continue  # DTLS: not compared
        hr = tls.get("hello_retry") if isinstance(tls.get("hello_retry"), dict) else {}
        ch = [x for x in (hello_pair(tls, "ja3"), hello_pair(hr, "ja3")) if x]
        sh = [x for x in (hello_pair(tls, "ja3s"), hello_pair(hr, "ja3s")) if x]
        key = (norm_ip(ev.get("src_ip")), ev.get("src_port"),
               norm_ip(ev.get("dest_ip")), ev.get("dest_port"), proto)
        conns.append({"key": key, "ch": ch, "sh": sh, "tunnel": tls.get("tunnel"),
                      "sni": tls.get("sni") if proto == "udp" else None,
                      "order": (str(ev.get("timestamp", "")), i)})
    return conns


def diff_conn(t, p):
    """List of (field, label, tshark value, pinscope value)."""
    diffs = []
    for field, side in (("ja3", "ch"), ("ja3s", "sh")):
        tl, pl = t[side], p[side]
        for i in range(max(len(tl), len(pl))):
            tv = tl[i] if i < len(tl) else None
            pv = pl[i] if i < len(pl) else None
            if tv != pv:
                diffs.append((field, "%s #%d" % (field, i + 1), tv, pv))
    if t.get("sni") != p.get("sni"):
        diffs.append(("sni", "sni", (t.get("sni"), ""), (p.get("sni"), "")))
    return diffs


def allowed(pcap, key, field):
    client = hp(key[0], key[1])
    for a in ALLOWLIST:
        if a["pcap"] == pcap and a["client"] in ("*", client) and a["field"] == field:
            return a["reason"]
    return None


def fmt_pair(v):
    if v is None:
        return "(none)"
    return "%s  %s" % (v[0], v[1])


def compare_capture(tshark, pinscope, capture):
    """Returns (passed, failed, allowed_count, report_lines)."""
    name = Path(capture).name
    report = []
    events, perr = run_pinscope(pinscope, capture)
    if perr:
        return 0, 1, 0, ["  ERROR " + perr]
    pconns = pinscope_conns(events)
    tconns, terr = run_tshark(tshark, capture)
    if terr:
        return 0, 0, 0, ["  note: tshark could not read this capture (%s); not compared" % terr]
    seen = {c["key"] for c in tconns.values() if c["key"]}
    retry_ports = {c["key"][3] for c in pconns
                   if c["key"] not in seen and not c["tunnel"] and (c["ch"] or c["sh"])
                   and c["key"][4] == "tcp"
                   and isinstance(c["key"][3], int)}
    if retry_ports:
        t2, terr2 = run_tshark(tshark, capture, retry_ports)
        if not terr2:
            tconns = t2
            report.append("  note: tshark rerun with decode-as TLS on port(s) %s" %
                          ",".join(str(x) for x in sorted(retry_ports)))

    # A hello tshark dissects but computes no JA3/JA3S for (an SSLv2-format
    # ClientHello, say) gives nothing to compare; it is left out.
    for c in tconns.values():
        for side in ("ch", "sh"):
            kept = [v for v in c[side] if v != (None, None)]
            if len(kept) != len(c[side]):
                report.append("  note: %s: tshark dissected %d hello(s) without JA3/JA3S; not compared"
                              % (fmt_key(c["key"]), len(c[side]) - len(kept)))
                c[side] = kept
    tlist = sorted((c for c in tconns.values() if c["key"] and (c["ch"] or c["sh"])),
                   key=lambda c: c["order"])
    pleft = sorted(pconns, key=lambda c: c["order"])
    passed = failed = allow_n = 0

    def record(key, field, lines):
        nonlocal failed, allow_n
        reason = allowed(name, key, field)
        if reason:
            allow_n += 1
            report.append("  allowed %s %s (%s)" % (fmt_key(key), field, reason))
        else:
            failed += 1
        for l in lines:
            report.append(("  " if reason else "") + l)
        return reason

    for t in tlist:
        cands = [p for p in pleft if p["key"] == t["key"]]
        best = None
        for p in cands:
            d = diff_conn(t, p)
            if best is None or len(d) < len(best[1]):
                best = (p, d)
        if best is None:
            r = record(t["key"], "connection",
                       ["  DISAGREE %s: tshark saw %d ClientHello(s), %d ServerHello(s); pinscope has no TLS event"
                        % (fmt_key(t["key"]), len(t["ch"]), len(t["sh"]))] +
                       ["      tshark %s: %s" % (lbl, fmt_pair(v)) for lbl, vs in
                        (("ja3", t["ch"]), ("ja3s", t["sh"])) for v in vs])
            if r:
                passed += 1
            continue
        pleft.remove(best[0])
        if not best[1]:
            passed += 1
            continue
        bad = False
        for field in ("ja3", "ja3s", "sni"):
            fd = [d for d in best[1] if d[0] == field]
            if not fd:
                continue
            lines = ["  DISAGREE %s %s:" % (fmt_key(t["key"]), field)]
            for _, lbl, tv, pv in fd:
                lines.append("      %-8s tshark   %s" % (lbl, fmt_pair(tv)))
                lines.append("      %-8s pinscope %s" % ("", fmt_pair(pv)))
            if not record(t["key"], field, lines):
                bad = True
        if not bad:
            passed += 1
    for p in pleft:
        if not (p["ch"] or p["sh"]):
            continue
        r = record(p["key"], "connection",
                   ["  DISAGREE %s: pinscope has JA3/JA3S, tshark saw no hello%s" %
                    (fmt_key(p["key"]), " (tunnel: %s)" % p["tunnel"] if p["tunnel"] else "")] +
                   ["      pinscope %s: %s" % (lbl, fmt_pair(v)) for lbl, vs in
                    (("ja3", p["ch"]), ("ja3s", p["sh"])) for v in vs])
        if r:
            passed += 1
    return passed, failed, allow_n, report


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("captures", nargs="*", help="captures (default: corpus + tests/golden)")
    ap.add_argument("--pinscope", default=os.environ.get("PINSCOPE", str(REPO / "pinscope")))
    ap.add_argument("--tshark", default=os.environ.get("TSHARK", "tshark"))
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    tshark = shutil.which(args.tshark)
    if not tshark:
        print("tshark: not installed")
        print("tshark: skipped")
        return 0
    missing = check_tshark_fields(tshark)
    if missing:
        print("tshark: this tshark lacks field(s) %s" % ", ".join(missing))
        print("tshark: skipped")
        return 0
    pinscope = args.pinscope
    if not (os.path.isfile(pinscope) and os.access(pinscope, os.X_OK)):
        print("tshark: pinscope binary not found or not executable: %s" % pinscope)
        print("tshark: 0 passed, 1 failed")
        return 1
    caps = [Path(c) for c in args.captures] if args.captures else default_captures()
    if not caps:
        print("tshark: no captures found")
        print("tshark: skipped")
        return 0

    tp = tf = ta = 0
    for cap in caps:
        if not cap.is_file():
            print("FAIL %s: no such file" % cap)
            tf += 1
            continue
        p, f, a, report = compare_capture(tshark, pinscope, cap)
        tp += p
        tf += f
        ta += a
        if f or args.verbose or any(not l.startswith("  note") for l in report):
            print("%s %s: %d agree, %d disagree%s" % ("FAIL" if f else "ok", cap, p, f,
                                                     ", %d allowlisted" % a if a else ""))
            for l in report:
                print(l)
    if ta:
        print("tshark: %d allowlisted disagreement(s) counted as passed" % ta)
    print("tshark: %d passed, %d failed" % (tp, tf))
    return 1 if tf else 0


if __name__ == "__main__":
    sys.exit(main())
