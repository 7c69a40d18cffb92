#!/usr/bin/env python3
"""check_detect.py - every interception detection, one positive and one
negative case, on real captures (samples/, tests/golden/) and policies
written here from samples/policy.json or learned by `pinscope learn`.

Each case runs pinscope and checks that a signature id is present (or
absent) among the alerts of the capture.  Also checks `pinscope learn`
(a learned policy flags a capture from another PKI and not its own
captures) and that the conformance corpus's ordinary browser traffic
raises no alert (when ../shared/corpus is present).

Final line: "detect: N passed, M failed".
"""
import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
S = os.path.join(REPO, "samples")
G = os.path.join(REPO, "tests", "golden")
CORPUS = os.path.abspath(os.path.join(REPO, "..", "shared", "corpus", "foxio", "pcap"))

PIN_MISMATCH, PIN_EXPIRED, ISSUER, PRODUCT = 9100001, 9100002, 9100003, 9100004
UNTRUSTED, NO_SCTS, SHARED_KEY, MINTED = 9100005, 9100006, 9100007, 9100008
CLIENT_FP, INTERCEPTOR_FP, SERVER_FP, VERSION, ALPN = 9100009, 9100010, 9100011, 9100012, 9100013
REFUSED, ABORTED13, TWO_LEGS, LEFT = 9100014, 9100015, 9100016, 9100017
CLOSED_AFTER_HS = 9100024
STACK, KEYLESS, TWO_ANSWERS = 9100019, 9100022, 9100023
REMOVED = 9100021

passed = failed = 0


def run(pinscope, capture, policy=None, keylog=True, extra=()):
    cmd = [pinscope, "-r", capture] + list(extra)
    kl = os.path.splitext(capture)[0] + ".keylog"
    if keylog and os.path.exists(kl):
        cmd += ["--keylog", kl]
    if policy:
        cmd += ["--policy", policy]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    if p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), p.returncode, p.stderr[-300:]))
    return [json.loads(line) for line in p.stdout.splitlines()]


def sids(events):
    return {e["alert"]["signature_id"] for e in events if e["event_type"] == "alert"}


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL %s %s" % (name, detail))


def case(pinscope, name, sid, pos, neg, policy=None, keylog=True):
    """pos/neg: capture paths; sid must be raised on pos and not on neg."""
    for capture, want in ((pos, True), (neg, False)):
        if capture is None:
            continue
        if not os.path.exists(capture):
            check("%s (%s)" % (name, os.path.basename(capture)), False, "capture missing")
            continue
        got = sids(run(pinscope, capture, policy, keylog))
        check("%s %s on %s" % (name, "fires" if want else "stays quiet", os.path.basename(capture)),
              (sid in got) == want, "alerts: %s" % sorted(got))


def alerts_of(events, sid):
    return [e["alert"] for e in events if e["event_type"] == "alert" and e["alert"]["signature_id"] == sid]


def keyless_cases(ps, tmp, base):
    """TLS 1.3 without keys, the origin one hop behind a router: a baseline
    learned from the direct connections (keyless_direct_a) flags squid's
    ssl-bump (another flight size, a later ServerHello) and sslsplit
    (another flight size, a HelloRetryRequest for secp256r1), and not a
    second clean capture (keyless_direct_b)."""
    direct_a, direct_b = os.path.join(G, "keyless_direct_a.pcap"), os.path.join(G, "keyless_direct_b.pcap")
    squid, sslsplit = os.path.join(G, "keyless_squid_bump.pcap"), os.path.join(G, "keyless_sslsplit.pcap")
    learned = os.path.join(tmp, "keyless_learned.json")
    subprocess.run([ps, "learn", "-r", direct_a, "-o", learned], check=True, capture_output=True, cwd=REPO)
    lp = json.load(open(learned))
    sb = [b for b in lp["server_baselines"] if b["name"] == "learned-server-www.pinscope.test"]
    check("learn: keyless facts in the server baseline",
          len(sb) == 1 and sb[0].get("server_flight_bytes", {}).get("min") == 2243 and
          sb[0].get("hello_retry") == ["none"] and "server_hello_delay_us" in sb[0] and
          sb[0].get("learned", {}).get("connections") == 3, json.dumps(sb)[:400])
    for cap in (squid, sslsplit):
        case(ps, "server handshake shape outside its baseline", KEYLESS, cap, None, learned)
    for cap in (direct_a, direct_b):
        case(ps, "server handshake shape outside its baseline", KEYLESS, None, cap, learned)
    ev = alerts_of(run(ps, squid, learned), KEYLESS)
    check("squid: flight size in the evidence, severity 2",
          ev and all(a["evidence"].get("server_flight_bytes") == "3145" and
                     a["evidence"].get("expected_server_flight_bytes") == "2179..2307" and
                     a["severity"] == 2 and a["confidence"] == "medium" for a in ev), json.dumps(ev)[:400])
    ev = alerts_of(run(ps, sslsplit, learned), KEYLESS)
    check("sslsplit: the HelloRetryRequest in the evidence",
          len(ev) == 3 and all(a["evidence"].get("hello_retry") == "secp256r1" and
                               a["evidence"].get("expected_hello_retry") == "none" for a in ev),
          json.dumps(ev)[:400])
    # Each signal alone, in hand-written baselines.
    for key, val, pos, neg in (("hello_retry", ["none"], sslsplit, squid),
                               ("server_flight_bytes", {"min": 3100, "max": 3200}, direct_b, squid),
                               ("server_hello_delay_us", {"min": 0, "max": 3000, "tolerance": 4000},
                                squid, direct_b)):
        pol = copy.deepcopy(base)
        pol["server_baselines"] = [{"name": "only " + key, "match": {"sni": ["www.pinscope.test"]}, key: val}]
        case(ps, "%s alone" % key, KEYLESS, pos, neg, write_policy(tmp, "only_%s.json" % key, pol))
    # No policy: one capture, one name, the same curl from two clients, the
    # second through a proxy: two ways of answering one offer.
    two = os.path.join(G, "keyless_two_clients.pcap")
    for cap in ("keyless_mixed_sslsplit.pcap", "keyless_mixed_squid.pcap"):
        case(ps, "one name answered one kind of client two ways", TWO_ANSWERS, os.path.join(G, cap), None)
    for cap in (two, direct_a, squid, sslsplit):
        case(ps, "one name answered one kind of client two ways", TWO_ANSWERS, None, cap)
    evs = run(ps, os.path.join(G, "keyless_mixed_sslsplit.pcap"))
    tls_by_flow = {e["flow_id"]: e for e in evs if e["event_type"] == "tls"}
    ev = alerts_of(evs, TWO_ANSWERS)
    check("two answers: both flows linked, the proxied one carries it, evidence of both",
          len(ev) == 2 and all(
              a["evidence"].get("server_flight_bytes_this") == "3305" and
              a["evidence"].get("server_flight_bytes_other") == "2243" and
              a["evidence"].get("hello_retry_this") == "secp256r1" and
              a["evidence"].get("hello_retry_other") == "none" and
              a["severity"] == 2 and a["confidence"] == "medium" for a in ev) and
          all(tls_by_flow[e["flow_id"]]["src_ip"] == "198.18.0.9" and
              tls_by_flow[e["alert"]["related_flow_ids"][0]]["src_ip"] == "198.18.0.1"
              for e in evs if e["event_type"] == "alert" and e["alert"]["signature_id"] == TWO_ANSWERS),
          json.dumps(ev)[:400])
    # The samples (no policy, without keys): every clean name quiet.
    for name in sorted(os.listdir(S)):
        if name.endswith(".pcap") and not name.startswith(("mitm_", "pinning_")):
            case(ps, "one name answered one kind of client two ways", TWO_ANSWERS, None,
                 os.path.join(S, name), keylog=False)


def write_policy(tmp, name, pol):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        json.dump(pol, f)
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pinscope", default=os.environ.get("PINSCOPE", os.path.join(REPO, "pinscope")))
    args = ap.parse_args()
    ps = os.path.abspath(args.pinscope)
    tmp = tempfile.mkdtemp(prefix="pinscope-detect.")
    base = json.load(open(os.path.join(S, "policy.json")))
    sample_policy = os.path.join(S, "policy.json")

    mitm = os.path.join(S, "mitm_socat_curl.pcap")
    clean13 = os.path.join(S, "clean_curl_tls13.pcap")
    clean12 = os.path.join(S, "clean_curl_tls12.pcap")

    case(ps, "pin mismatch", PIN_MISMATCH, mitm, clean13, sample_policy)

    expired = copy.deepcopy(base)
    for p in expired["pin_sets"]:
        p["expires"] = "2001-01-01"
    pe = write_policy(tmp, "expired.json", expired)
    case(ps, "expired pin-set", PIN_EXPIRED, mitm, clean13, pe)
    check("expired pin-set is not a plain mismatch", PIN_MISMATCH not in sids(run(ps, mitm, pe)))

    wrong_issuer = copy.deepcopy(base)
    wrong_issuer["expected_issuers"] = [{"domain": "bank.test", "include_subdomains": True,
                                         "issuers": ["CN=Pinscope Demo Public Issuing CA 1,O=Pinscope Demo Trust Services,C=ZZ"]}]
    pi = write_policy(tmp, "issuer.json", wrong_issuer)
    case(ps, "unexpected issuer", ISSUER, mitm, clean13, pi)

    case(ps, "known interception product", PRODUCT, mitm, clean13)
    case(ps, "leaf shares issuer key", SHARED_KEY, os.path.join(G, "certs_shared_key.pcap"),
         os.path.join(G, "certs_rsa_san.pcap"))
    # mitmproxy backdates the leaves it mints by exactly two days; socat's
    # leaf was made a minute before the run (a lab, not a proxy's habit)
    # and the clean leaf is 30 days old: neither fires.
    case(ps, "leaf backdated by whole days", MINTED, os.path.join(S, "mitm_mitmproxy_curl.pcap"), clean13)
    check("leaf made a minute before use is not an alert any more", MINTED not in sids(run(ps, mitm)))
    case(ps, "client refused the certificate (TLS 1.2)", REFUSED,
         os.path.join(G, "openssl_tls12_unknown_ca.pcap"), os.path.join(G, "certs_rsa_san.pcap"))
    case(ps, "client refused the certificate (TLS 1.3, no keys)", REFUSED,
         os.path.join(S, "pinning_python_refuses_tls13.pcap"), clean13, keylog=False)
    # An encrypted alert where the client's Finished belongs (GnuTLS refusing
    # under the handshake keys), against an empty client Certificate, which
    # is not much longer (25 bytes against 19): the regression capture.
    case(ps, "client closed TLS 1.3 before its Finished", ABORTED13,
         os.path.join(G, "gnutls_tls13_unknown_ca.pcap"),
         os.path.join(G, "openssl_tls13_empty_client_cert.pcap"), keylog=False)
    # A chain issued under the name of a root removed from the public store
    # (GeoTrust Global CA, removed 2020-06-01; this capture's own key): low
    # confidence before the removal, the interception alert after it, and
    # the alert whenever a certificate under that name has another key.
    rr_before = os.path.join(G, "removed_root_before.pcap")
    rr_after = os.path.join(G, "removed_root_after.pcap")
    rr_forged = os.path.join(G, "removed_root_forged.pcap")
    case(ps, "chain to a removed root, captured before its removal", REMOVED, rr_before, rr_after)
    case(ps, "chain to a removed root, captured after its removal", UNTRUSTED, rr_after, rr_before)
    case(ps, "removed root's name with another key", UNTRUSTED, rr_forged, None)
    case(ps, "removed root's name with another key is not excused", REMOVED, None, rr_forged)

    def alerts_of(capture, sid, extra=()):
        return [e["alert"] for e in run(ps, capture, extra=extra)
                if e["event_type"] == "alert" and e["alert"]["signature_id"] == sid]
    a = alerts_of(rr_before, REMOVED)
    ev = a[0]["evidence"] if a else {}
    check("removed root: low confidence, severity 3, evidence names root, date and source",
          len(a) == 1 and a[0]["severity"] == 3 and a[0]["confidence"] == "low" and
          ev.get("removed_root") == "CN=GeoTrust Global CA,O=GeoTrust Inc.,C=US" and
          ev.get("removed", "").startswith("2020-06-01") and "20200601" in ev.get("source", ""),
          json.dumps(a)[:400])
    a = alerts_of(rr_after, UNTRUSTED)
    check("after the removal the alert says when the root was removed",
          len(a) == 1 and "removed from the mozilla store at 2020-06-01 (still untrusted)"
          in a[0]["evidence"].get("removed_root", ""), json.dumps(a)[:400])
    a = alerts_of(rr_forged, UNTRUSTED)
    check("another key under the root's name is named in the alert",
          len(a) == 1 and "with another key" in a[0]["evidence"].get("removed_root", ""),
          json.dumps(a)[:400])
    # The grace: the capture is 2019-03-01; a removal on 2019-01-01 is 59
    # days earlier (inside 90), one on 2018-11-01 120 days (outside).
    rdir = os.path.join(tmp, "sigs-roots")
    shutil.copytree(os.path.join(REPO, "signatures"), rdir)
    rpath = os.path.join(rdir, "removed_roots.json")
    rr = json.load(open(rpath))
    for day, want in (("2019-01-01", REMOVED), ("2018-11-01", UNTRUSTED)):
        for e in rr["entries"]:
            if e["id"] == "geotrust-global-ca":
                e["removed"] = day
        json.dump(rr, open(rpath, "w"))
        got = sids(run(ps, rr_before, extra=("--signatures", rdir)))
        check("removal %s, capture 2019-03-01: sid %d" % (day, want),
              want in got and ({REMOVED, UNTRUSTED} - {want}).isdisjoint(got), sorted(got))
    # Without the file the directory knows no removed roots.
    os.unlink(rpath)
    got = sids(run(ps, rr_before, extra=("--signatures", rdir)))
    check("no removed_roots.json: the interception alert", UNTRUSTED in got and REMOVED not in got,
          sorted(got))
    # A broken file stops the program with file, line and entry.
    open(rpath, "w").write('{"version": 1, "entries": [\n{"id": "x", "label": "x",\n'
                           ' "subject_dn": "CN=x", "store": "mozilla", "removed": "2020-13-01",'
                           ' "source": "s"}]}')
    p = subprocess.run([ps, "-r", rr_before, "--signatures", rdir], capture_output=True, text=True)
    check("bad removed_roots.json: clear error with file and line",
          p.returncode != 0 and "removed_roots.json:2: entry 1 (x): removed: not a date" in p.stderr,
          p.stderr[-300:])

    # A known-interceptor entry matched by JA3 alone is low confidence.
    sigdir = os.path.join(tmp, "sigs")
    shutil.copytree(os.path.join(REPO, "signatures"), sigdir)
    kf = json.load(open(os.path.join(sigdir, "known_fingerprints.json")))
    c13 = [e for e in run(ps, clean13) if e["event_type"] == "tls"][0]["tls"]
    kf["entries"] = [x for x in kf["entries"] if x["value"] not in (c13["ja4"], c13["ja3"]["hash"])]
    kf["entries"].append({"type": "ja3", "value": c13["ja3"]["hash"], "application": "test proxy",
                          "category": "test", "kind": "known-interceptor", "source": "check_detect.py"})
    json.dump(kf, open(os.path.join(sigdir, "known_fingerprints.json"), "w"))
    weak = [e["alert"] for e in run(ps, clean13, extra=("--signatures", sigdir))
            if e["event_type"] == "alert" and e["alert"]["signature_id"] == INTERCEPTOR_FP]
    check("known interceptor by JA3 alone: low confidence, severity 3",
          len(weak) == 1 and weak[0]["severity"] == 3 and weak[0]["confidence"] == "low",
          json.dumps(weak)[:300])
    # pyOpenSSL pinning client (Debian 12's 23.0): its verify callback raises,
    # and the client resets the connection after the server's Certificate
    # without any alert.  The version-mismatch capture ends with a server
    # alert and no certificate: nothing.
    case(ps, "client closed after the certificate", LEFT,
         os.path.join(G, "pyopenssl_pin_refuses.pcap"), os.path.join(G, "openssl_version_mismatch.pcap"))
    check("client closed after the certificate: not on a server that closes",
          LEFT not in sids(run(ps, os.path.join(G, "truncated_record.pcap"))))
    # curl --pinnedpubkey checks the pin once the handshake is over: a wrong
    # pin closes (close_notify, FIN or RST) right after the client's
    # Finished with no request, the right pin sends its request.  A server
    # that closes first (removed_root_after.pcap) is not the client refusing.
    for v in ("tls13", "tls12"):
        case(ps, "client closed right after the handshake (%s)" % v, CLOSED_AFTER_HS,
             os.path.join(G, "curl_pin_refuses_%s.pcap" % v), os.path.join(G, "curl_pin_ok_%s.pcap" % v))
        ev = run(ps, os.path.join(G, "curl_pin_refuses_%s.pcap" % v))
        al = [e["alert"] for e in ev
              if e["event_type"] == "alert" and e["alert"]["signature_id"] == CLOSED_AFTER_HS]
        tls = [e["tls"] for e in ev if e["event_type"] == "tls"]
        check("client closed right after the handshake (%s): evidence and facts" % v,
              len(al) == 1 and al[0]["severity"] == 3 and al[0]["confidence"] == "medium" and
              al[0]["evidence"]["client_close"].startswith("alert+") and
              float(al[0]["evidence"]["closed_after_ms"]) < 50 and len(tls) == 1 and
              tls[0]["end"] == "handshake_complete" and
              tls[0]["after_handshake"]["client_app_data"] is False,
              json.dumps(al)[:300])
    check("client closed right after the handshake: not when the server closed first",
          CLOSED_AFTER_HS not in sids(run(ps, os.path.join(G, "removed_root_after.pcap"))))
    check("client closed right after the handshake: no after_handshake when the client sent data",
          all("after_handshake" not in e.get("tls", {})
              for e in run(ps, os.path.join(G, "curl_pin_ok_tls13.pcap"))))
    case(ps, "two legs of one interception", TWO_LEGS, mitm, clean13)
    # loopback_two_certs.pcap: openssl_tls12_ecdsa and openssl_tls12_unknown_ca
    # (two leaves for www.pinscope.test) rewritten to 127.0.0.1 on both ends
    # (tcprewrite), the second moved to 1 s after the first (editcap -t),
    # merged (mergecap).  A host talking to itself is not two legs.
    case(ps, "two legs: never a client and server on one address", TWO_LEGS, None,
         os.path.join(G, "loopback_two_certs.pcap"))
    # An explicit proxy whose upstream leaves from another address (squid,
    # tcp_outgoing_address): no address is common to the two legs; they are
    # linked by the CONNECT target.  Spliced (no bump), the client sees the
    # origin's leaf: no pair.
    bump_up = os.path.join(G, "squid_bump_other_upstream.pcap")
    splice_up = os.path.join(G, "squid_splice_other_upstream.pcap")
    case(ps, "two legs linked by the CONNECT target", TWO_LEGS, bump_up, splice_up)
    ev_up = run(ps, bump_up)
    legs_up = [e["alert"] for e in ev_up
               if e["event_type"] == "alert" and e["alert"]["signature_id"] == TWO_LEGS]
    check("two legs by CONNECT target: every alert says so, with both proxy addresses",
          len(legs_up) >= 2 and all(
              a["evidence"].get("linked_by") == "connect_target" and
              a["evidence"].get("proxy") == "198.18.0.2" and
              a["evidence"].get("proxy_upstream") == "198.18.0.13" and
              a["evidence"].get("connect_target") == "www.pinscope.test:443" and
              a["evidence"].get("leaf_sha256_this_leg") != a["evidence"].get("leaf_sha256_other_leg") and
              a["confidence"] == "high" and a.get("related_flow_ids") for a in legs_up),
          json.dumps(legs_up)[:400])
    check("two legs by CONNECT target: both the client's and the upstream leg carry it",
          {e["src_ip"] for e in ev_up if e["event_type"] == "alert"
           and e["alert"]["signature_id"] == TWO_LEGS} == {"198.18.0.1", "198.18.0.13"})
    check("tls.connect_target on the CONNECT legs only",
          sorted((e["src_ip"], e["tls"].get("connect_target")) for e in ev_up
                 if e["event_type"] == "tls") ==
          [("198.18.0.1", "www.pinscope.test:443")] * 2 + [("198.18.0.13", None)] * 2)
    check("address-shape links say nothing of a CONNECT target",
          all("linked_by" not in a["evidence"] for a in alerts_of(mitm, TWO_LEGS)))
    case(ps, "server fingerprint outside baseline", SERVER_FP, mitm, clean12, sample_policy)

    # QUIC and DTLS: the same detections.  A pin-set for the golden UDP
    # captures' server name that does not hold their key fires on QUIC
    # (chain from the key log) and on DTLS 1.2 (chain in clear); one
    # learned from the QUIC capture holds it and stays quiet on both.
    quic = os.path.join(G, "udp_quic_v1_keylog.pcap")
    dtls = os.path.join(G, "udp_dtls12_openssl_hvr.pcap")
    other = copy.deepcopy(base)
    other["pin_sets"] = [dict(base["pin_sets"][0], domain="ec.pinscope.test")]
    po = write_policy(tmp, "udp_other_pins.json", other)
    case(ps, "pin mismatch over QUIC", PIN_MISMATCH, quic, None, po)
    case(ps, "pin mismatch over DTLS", PIN_MISMATCH, dtls, None, po)
    ql = os.path.join(tmp, "learned_quic.json")
    subprocess.run([ps, "learn", "-r", quic, "--keylog", os.path.splitext(quic)[0] + ".keylog",
                    "-o", ql], check=True, capture_output=True, cwd=REPO)
    qp = json.load(open(ql))
    check("learn over QUIC: pin-set for ec.pinscope.test",
          any(p["domain"] == "ec.pinscope.test" for p in qp["pin_sets"]), json.dumps(qp)[:300])
    case(ps, "learned QUIC pins hold over QUIC", PIN_MISMATCH, None, quic, ql)
    case(ps, "learned QUIC pins hold over DTLS", PIN_MISMATCH, None, dtls, ql)
    quic_alerts = [e for e in run(ps, quic, po) if e["event_type"] == "alert"]
    check("QUIC alert envelope says UDP", quic_alerts and all(e["proto"] == "UDP" for e in quic_alerts),
          json.dumps(quic_alerts)[:300])

    # Client baselines: learned from one client, another client deviates.
    learned = os.path.join(tmp, "learned.json")
    subprocess.run([ps, "learn", "-r", os.path.join(S, "clean_curl_tls13.pcap"), "--keylog",
                    os.path.join(S, "clean_curl_tls13.keylog"), "-o", learned],
                   check=True, capture_output=True, cwd=REPO)
    case(ps, "client fingerprint outside baseline", CLIENT_FP,
         os.path.join(S, "clean_python_tls13.pcap"), clean13, learned)
    # Chromium permutes its extensions: a JA3 outside the baseline says
    # nothing when the JA4 is in it; a baseline of JA3 values only is still
    # held to them.
    chromium = os.path.join(S, "clean_chromium_tls13.pcap")
    ch_ja4 = {e["tls"]["ja4"] for e in run(ps, chromium) if e["event_type"] == "tls"}
    ja3_other = copy.deepcopy(base)
    ja3_other["client_baselines"] = [{"name": "chromium", "match": {"client_subnets": ["198.18.0.0/15"]},
                                      "ja4": sorted(ch_ja4), "ja3": ["0" * 32]}]
    case(ps, "JA3 alone outside the baseline, JA4 in it: no alert", CLIENT_FP, None, chromium,
         write_policy(tmp, "ja3_other.json", ja3_other))
    ja3_only = copy.deepcopy(base)
    ja3_only["client_baselines"] = [{"name": "ja3 only", "match": {"client_subnets": ["198.18.0.0/15"]},
                                     "ja3": ["0" * 32]}]
    case(ps, "a baseline of JA3 values only is checked", CLIENT_FP, chromium, None,
         write_policy(tmp, "ja3_only.json", ja3_only))
    # Without keys: the learned baseline holds the real server's TCP stack
    # (its SYN-ACK arrives one hop further, TTL 63); the transparent proxy
    # answers from the router itself (TTL 64).
    case(ps, "server TCP stack outside its baseline (no keys)", STACK,
         os.path.join(S, "mitm_mitmproxy_curl.pcap"), clean13, learned, keylog=False)
    keyless_cases(ps, tmp, base)
    lp = json.load(open(learned))
    check("learn: server baselines hold the TCP stack",
          any(b.get("server_ttl") == ["63"] and b.get("ja4ts") for b in lp["server_baselines"]),
          json.dumps(lp["server_baselines"])[:300])
    check("learn: pin-set for www.bank.test", any(p["domain"] == "www.bank.test" for p in lp["pin_sets"]),
          json.dumps(lp)[:300])
    check("learn: client and server baselines", lp.get("client_baselines") and lp.get("server_baselines"))
    # Merging keeps a hand-written entry.
    hand = copy.deepcopy(base)
    merged = write_policy(tmp, "merged.json", hand)
    subprocess.run([ps, "learn", "-r", clean13, "-o", merged], check=True, capture_output=True, cwd=REPO)
    mp = json.load(open(merged))
    check("learn: merging keeps hand-written entries",
          all(any(q.get("name") == b["name"] and "learned" not in q for q in mp["server_baselines"])
              for b in base["server_baselines"]))

    vers = copy.deepcopy(base)
    vers["client_baselines"] = [{"name": "tls13 only", "match": {"client_subnets": ["198.18.0.0/15"]},
                                 "tls_versions": ["TLS 1.3"]}]
    pv = write_policy(tmp, "version.json", vers)
    case(ps, "TLS version outside baseline", VERSION, clean12, clean13, pv)

    alpn = copy.deepcopy(base)
    alpn["client_baselines"] = [{"name": "http/1.1 only", "match": {"client_subnets": ["198.18.0.0/15"]},
                                 "alpn": ["http/1.1"]}]
    pa = write_policy(tmp, "alpn.json", alpn)
    # curl offers h2 first; python's client offers no ALPN (nothing to check).
    case(ps, "ALPN outside baseline", ALPN, clean13, os.path.join(S, "clean_python_tls13.pcap"), pa)

    # The conformance corpus's browser captures: no alert at all with a
    # permissive (empty) policy.
    if os.path.isdir(CORPUS):
        empty = write_policy(tmp, "empty.json", {"version": 1})
        for name in ("tls-handshake.pcapng", "tls-sni.pcapng", "browsers-x509.pcapng", "latest.pcapng",
                     "tls12.pcap", "tls3.pcapng", "tls-alpn-h2.pcap", "ipv6.pcapng"):
            got = sids(run(ps, os.path.join(CORPUS, name), empty))
            check("no alert on ordinary browser traffic: %s" % name, not got, "alerts: %s" % sorted(got))
    else:
        print("detect: corpus not present, browser-traffic check skipped")

    print("detect: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
