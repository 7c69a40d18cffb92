#!/usr/bin/env bash
# Makes the certificate test material: a throwaway PKI in tests/golden/certs/,
# captures of real TLS handshakes that carry it (tests/golden/certs_*.pcap,
# TLS 1.3 ones with the key log the client wrote, NAME.keylog), and
# tests/golden/certs/expected.json with reference values that openssl prints
# for every certificate and every connection.  tests/scripts/check_certs.py
# compares pinscope's output with that file.
#
# PKI (openssl only): "Pinscope Test Root" (RSA-2048) -> "Pinscope Test
# Intermediate" (EC P-384) -> leaf certificates: RSA-2048 with DNS (incl.
# *.wild.pinscope.test), IPv4, IPv6, email and URI SANs; ECDSA P-256 with two
# embedded SCTs and a notAfter past 2049 (GeneralizedTime); expired; not yet
# valid; self-signed; CN only (no SAN, no key identifiers, UTF-8 and a comma
# in O); one that reuses the intermediate's key; one whose notAfter is at
# HH:30:00 (see certs_expiry_boundary below); a client certificate.  A second,
# unrelated root signs one more leaf.  Validity periods are relative to the
# day the script runs, so the expired and not-yet-valid ones are so at
# capture time (pinscope validates at capture time).
#
# Network: two namespaces joined by a veth pair, client 198.18.0.1, server
# 198.18.0.2 (RFC 2544 range; nothing else is used, nothing leaves).  Each
# scenario runs `openssl s_server` with the chain under test and one real
# client (openssl s_client, curl) under timeouts while tcpdump records the
# server side.  TLS 1.2 scenarios show the chain in clear; TLS 1.3 ones are
# saved with the key log the client wrote (SSLKEYLOGFILE, -keylogfile).
#
# Every scenario is checked before anything is written: the client printed
# the chain that was meant to be served (s_client -showcerts, curl
# %{certs}), resumptions did resume, and, when tshark is installed, the
# certificates in the capture (decrypted with the key log for TLS 1.3) are
# the planned ones, the HelloRetryRequest happened and the wrong key log
# does not decrypt.  openssl verify at the capture time must give the
# validation result the scenario is about.  Only when all of that holds are
# tests/golden/certs/ and tests/golden/certs_* replaced, all together.
#
# Usage: sudo tests/scripts/make_cert_captures.sh [-l]   (-l lists scenarios)
# Needs root (namespaces, tcpdump); installs missing Debian packages.
set -u

cd "$(dirname "$0")/../.." || exit 1
GOLDEN=tests/golden
CERTS=$GOLDEN/certs
C_IP=198.18.0.1
S_IP=198.18.0.2
NS_C=pinscope-cc-$$
NS_S=pinscope-cs-$$
VETH_C=pcc$$
VETH_S=pcs$$
WORK=
PIDS=()

SCENARIOS="certs_rsa_san certs_wildcard_curl certs_ecdsa_fullchain certs_sni_mismatch
certs_expired certs_not_yet_valid certs_self_signed certs_nosan certs_missing_intermediate
certs_unlinked certs_unrelated_root certs_shared_key certs_mtls certs_tls12_resumed
certs_tls13_aes128gcm_curl certs_tls13_aes256gcm certs_tls13_chacha20 certs_tls13_ccm
certs_tls13_hrr certs_tls13_resumed certs_tls13_badkeys certs_expiry_boundary"
# Derived after the run: certs_not_captured (certs_rsa_san without the server's
# second segment, so the Certificate message is incomplete in the capture);
# certs_expiry_boundary is rewritten into two copies of its connection, ten
# minutes before and ten minutes after the leaf's notAfter (HH:30:00), so both
# fall in the same clock hour and only the second one is expired.

die() { echo "make_cert_captures: $*" >&2; exit 1; }
log() { echo "make_cert_captures: $*" >&2; }

# shellcheck disable=SC2086 # the list is split on purpose
if [ "${1:-}" = "-l" ]; then printf '%s\n' $SCENARIOS certs_not_captured; exit 0; fi
[ $# -eq 0 ] || die "usage: $0 [-l]  (all scenarios are made together, they share one PKI)"
[ "$(id -u)" = 0 ] || die "must run as root (network namespaces, tcpdump)"

# ---- packages -------------------------------------------------------------
install_missing() {
    local missing="" pair
    for pair in openssl:openssl curl:curl tcpdump:tcpdump python3:python3 \
                ip:iproute2 ss:iproute2 timeout:coreutils base64:coreutils; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
    done
    if [ -n "$missing" ]; then
        log "installing:$missing"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        # shellcheck disable=SC2086 # $missing is a list of package names
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null ||
            die "apt-get install$missing failed"
    fi
    command -v ethtool >/dev/null 2>&1 ||
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ethtool >/dev/null 2>&1 || true
}
install_missing
command -v tshark >/dev/null 2>&1 ||
    log "tshark not installed: the captures are checked through the clients only"

# ---- cleanup --------------------------------------------------------------
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.2
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    ip netns del "$NS_C" 2>/dev/null
    ip netns del "$NS_S" 2>/dev/null
    [ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

WORK=$(mktemp -d /tmp/pinscope-certs.XXXXXX) || die "mktemp failed"
PKI=$WORK/certs     # becomes tests/golden/certs
OUT=$WORK/out       # captures and key logs, become tests/golden/certs_*
mkdir -p "$PKI" "$OUT" "$WORK/ca" "$WORK/www" || die "mkdir failed"
echo "hello from pinscope cert test server" > "$WORK/www/hello.txt"

# ---- helper (pcap parsing, checks, expected.json) ---------------------------
cat > "$WORK/helper.py" <<'PYEOF'
import base64, hashlib, ipaddress, json, os, re, secrets, struct, subprocess, sys

def sh(cmd, inp=None):
    r = subprocess.run(cmd, input=inp, capture_output=True)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")

def ossl(*args):
    rc, out, err = sh(["openssl"] + list(args))
    if rc != 0:
        sys.exit("openssl %s failed: %s" % (" ".join(args), err.strip()))
    return out

# ---- pcap -----------------------------------------------------------------
def read_pcap(path):
    """[(ts, src, sport, dst, dport, flags, seq, payload)] for TCP/IPv4 over Ethernet."""
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic == 0xa1b2c3d4: e, div = "<", 1e6
    elif magic == 0xd4c3b2a1: e, div = ">", 1e6
    elif magic == 0xa1b23c4d: e, div = "<", 1e9
    else: raise SystemExit("%s: not a classic pcap" % path)
    linktype = struct.unpack(e + "I", data[20:24])[0]
    if linktype != 1: raise SystemExit("%s: link type %d, expected Ethernet" % (path, linktype))
    off, pkts = 24, []
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
        raw = data[off + 16:off + 16 + incl]
        rec = data[off:off + 16 + incl]
        off += 16 + incl
        if len(raw) < 14 + 20 or struct.unpack(">H", raw[12:14])[0] != 0x0800:
            pkts.append((sec + frac / div, None, rec)); continue
        ip = raw[14:]
        ihl = (ip[0] & 15) * 4
        tot = struct.unpack(">H", ip[2:4])[0]
        if ip[9] != 6:
            pkts.append((sec + frac / div, None, rec)); continue
        tcp = ip[ihl:tot]
        sport, dport, seq = struct.unpack(">HHI", tcp[:8])
        doff = (tcp[12] >> 4) * 4
        pkts.append((sec + frac / div,
                     dict(src=socket_ip(ip[12:16]), dst=socket_ip(ip[16:20]), sport=sport,
                          dport=dport, flags=tcp[13], seq=seq, payload=tcp[doff:]), rec))
    return data[:24], pkts

def socket_ip(b):
    return ".".join(str(x) for x in b)

def conns(path, server_ip):
    """Connections in the capture, by first packet: client port, first/last time."""
    _, pkts = read_pcap(path)
    by = {}
    for ts, p, _ in pkts:
        if not p: continue
        cport = p["sport"] if p["dst"] == server_ip else p["dport"]
        sport = p["dport"] if p["dst"] == server_ip else p["sport"]
        c = by.setdefault(cport, dict(client_port=cport, server_port=sport, first=ts, last=ts, packets=0))
        c["first"] = min(c["first"], ts); c["last"] = max(c["last"], ts); c["packets"] += 1
    return sorted(by.values(), key=lambda c: c["first"])

def dropseg(src, dst, server_ip):
    """Copy src to dst without the server's second data segment of the first
    connection; check that the first one ends inside a handshake record, so
    the Certificate message is left incomplete."""
    hdr, pkts = read_pcap(src)
    first = conns(src, server_ip)[0]["client_port"]
    seen, out, dropped = 0, [hdr], None
    for ts, p, rec in pkts:
        if p and p["src"] == server_ip and p["dport"] == first and p["payload"]:
            seen += 1
            if seen == 1:
                pl = p["payload"]
                if pl[:1] != b"\x16" or len(pl) < 6 or pl[5] != 2:
                    sys.exit("dropseg: first server segment does not start with a ServerHello")
                o = 0
                while o + 5 <= len(pl):
                    o += 5 + struct.unpack(">H", pl[o + 3:o + 5])[0]
                if o <= len(pl):
                    sys.exit("dropseg: the server's first segment ends on a record boundary")
            if seen == 2:
                dropped = len(p["payload"]); continue
        out.append(rec)
    if dropped is None:
        sys.exit("dropseg: fewer than two server data segments")
    open(dst, "wb").write(b"".join(out))
    print("dropped a %d-byte server segment" % dropped)

def tcp_checksum(ip):
    ihl = (ip[0] & 15) * 4
    tot = struct.unpack(">H", ip[2:4])[0]
    seg = bytearray(ip[ihl:tot])
    seg[16:18] = b"\0\0"
    data = ip[12:20] + struct.pack(">BBH", 0, 6, len(seg)) + bytes(seg)
    if len(data) % 2: data += b"\0"
    s = sum(struct.unpack(">%dH" % (len(data) // 2), data))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    seg[16:18] = struct.pack(">H", ~s & 0xffff)
    return ip[:ihl] + bytes(seg) + ip[tot:]

def retime(path, cert, server_ip):
    """Two copies of the capture's one connection: the first starting 600 s
    before the certificate's notAfter, the second (client port + 1, TCP
    checksum redone) 600 s after it; notAfter must be at HH:30:00 so both
    start in the same clock hour."""
    na = epoch(iso(kv(ossl("x509", "-in", cert, "-noout", "-enddate", "-dateopt", "iso_8601"), "notAfter")))
    if na % 3600 != 1800: sys.exit("retime: notAfter is not at HH:30:00")
    hdr, pkts = read_pcap(path)
    cs = conns(path, server_ip)
    if len(cs) != 1: sys.exit("retime: expected one connection")
    t0, cport = cs[0]["first"], cs[0]["client_port"]
    e = "<" if struct.unpack("<I", hdr[:4])[0] in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    div = 1e9 if struct.unpack(e + "I", hdr[:4])[0] == 0xa1b23c4d else 1e6
    out = [hdr]
    for shift, newport in ((na - 600 - t0, cport), (na + 600 - t0, cport + 1)):
        for ts, p, rec in pkts:
            raw = bytearray(rec[16:])
            if p and newport != cport:
                ip = raw[14:]
                ihl = (ip[0] & 15) * 4
                off = ihl if p["sport"] == cport else ihl + 2
                ip[off:off + 2] = struct.pack(">H", newport)
                raw[14:] = tcp_checksum(bytes(ip))
            t = ts + shift
            sec = int(t); frac = int(round((t - sec) * div))
            if frac >= div: sec, frac = sec + 1, 0
            out.append(struct.pack(e + "IIII", sec, frac, len(raw), struct.unpack(e + "I", rec[12:16])[0]) + bytes(raw))
    open(path, "wb").write(b"".join(out))

def badkeys(src, dst):
    """Same labels and client randoms, random secrets of the same length."""
    lines = []
    for l in open(src):
        f = l.split()
        if len(f) == 3 and not l.startswith("#"):
            f[2] = secrets.token_hex(len(f[2]) // 2)
            lines.append(" ".join(f) + "\n")
    if not lines: sys.exit("badkeys: empty key log")
    open(dst, "w").write("".join(lines))

# ---- certificates out of client logs ----------------------------------------
PEM_RE = re.compile(r"-----BEGIN CERTIFICATE-----\s+(.*?)-----END CERTIFICATE-----", re.S)

def pem_ders(text):
    return [base64.b64decode("".join(m.split())) for m in PEM_RE.findall(text)]

def sha256_file_der(path):
    return hashlib.sha256(pem_ders(open(path).read())[0]).hexdigest()

def showcerts(logfile, *chain_files):
    """The certificates a client printed (s_client -showcerts, curl %{certs})
    must be exactly the planned chain, once per connection made."""
    want = [sha256_file_der(f) for f in chain_files]
    got = [hashlib.sha256(d).hexdigest() for d in pem_ders(open(logfile, errors="replace").read())]
    if not got or len(got) % len(want) or any(got[i] != want[i % len(want)] for i in range(len(got))):
        sys.exit("client saw %d certificates, not the planned chain of %d" % (len(got), len(want)))

# ---- DER walking (JA4X reference) -------------------------------------------
def tlv(b, o):
    tag = b[o]; l = b[o + 1]; o += 2
    if l & 0x80:
        n = l & 0x7f; l = int.from_bytes(b[o:o + n], "big"); o += n
    return tag, o, o + l   # tag, content start, content end

def children(b, start, end):
    out, o = [], start
    while o < end:
        t, s, e = tlv(b, o); out.append((t, s, e)); o = e
    return out

def name_oids(b, s, e):
    oids = []
    for _, rs, re_ in children(b, s, e):            # RDN (SET)
        for _, as_, ae in children(b, rs, re_):      # AttributeTypeAndValue
            t, os_, oe = children(b, as_, ae)[0]
            oids.append(b[os_:oe].hex())
    return oids

def tbs_parts(der):
    _, s, e = tlv(der, 0)
    _, ts, te = children(der, s, e)[0]
    f = children(der, ts, te)
    i = 1 if f[0][0] == 0xa0 else 0                  # [0] version
    issuer, subject, spki = f[i + 2], f[i + 4], f[i + 5]
    exts = []
    for t, xs, xe in f[i + 6:]:
        if t == 0xa3:
            _, ss, se = children(der, xs, xe)[0]
            for _, es, ee in children(der, ss, se):
                t2, os_, oe = children(der, es, ee)[0]
                exts.append(der[os_:oe].hex())
    return issuer, subject, spki, exts

def ja4x(der):
    issuer, subject, _, exts = tbs_parts(der)
    lists = [name_oids(der, issuer[1], issuer[2]), name_oids(der, subject[1], subject[2]), exts]
    raw = "_".join(",".join(l) for l in lists)
    h = lambda l: hashlib.sha256(",".join(l).encode()).hexdigest()[:12] if l else "000000000000"
    return "_".join(h(l) for l in lists), raw

# ---- reference values from openssl ------------------------------------------
def iso(s):   # "2026-01-02 03:04:05Z" (openssl -dateopt iso_8601)
    return s.strip().replace(" ", "T")

def epoch(isoz):
    import calendar, time
    return calendar.timegm(time.strptime(isoz, "%Y-%m-%dT%H:%M:%SZ"))

def kv(out, key):
    for l in out.splitlines():
        if l.startswith(key + "="):
            return l[len(key) + 1:]
    return None

def attrs(path, which):
    out = ossl("x509", "-in", path, "-noout", "-" + which, "-nameopt", "sep_multiline,utf8,sname")
    d = {}
    for l in out.splitlines()[1:]:
        k, _, v = l.strip().partition("=")
        d[k] = v          # the last attribute of a type wins
    return d

def hexcolon(s):
    return s.replace(":", "").strip().lower()

def cert_ref(path):
    der = pem_ders(open(path).read())[0]
    r = {"file": os.path.basename(path)}
    for w in ("subject", "issuer"):
        r[w] = kv(ossl("x509", "-in", path, "-noout", "-" + w, "-nameopt", "RFC2253"), w)
        r[w + "_utf8"] = kv(ossl("x509", "-in", path, "-noout", "-" + w, "-nameopt", "RFC2253,-esc_msb"), w)
        r[w + "_suricata"] = kv(ossl("x509", "-in", path, "-noout", "-" + w,
                                     "-nameopt", "sep_comma_plus_space,utf8,sname"), w)
        a = attrs(path, w)
        r[w + "_cn"], r[w + "_o"] = a.get("CN"), a.get("O")
    serial = kv(ossl("x509", "-in", path, "-noout", "-serial"), "serial")
    r["serial"] = serial.lower()
    r["serial_suricata"] = ":".join(serial[i:i + 2] for i in range(0, len(serial), 2)).upper()
    dates = ossl("x509", "-in", path, "-noout", "-dates", "-dateopt", "iso_8601")
    r["not_before"], r["not_after"] = iso(kv(dates, "notBefore")), iso(kv(dates, "notAfter"))
    r["not_before_epoch"], r["not_after_epoch"] = epoch(r["not_before"]), epoch(r["not_after"])
    r["validity_days"] = (r["not_after_epoch"] - r["not_before_epoch"]) / 86400
    r["notbefore_suricata"], r["notafter_suricata"] = r["not_before"][:-1], r["not_after"][:-1]
    # subjectAltName
    san = {"dns": [], "ip": [], "email": [], "uri": []}
    out = ossl("x509", "-in", path, "-noout", "-ext", "subjectAltName")
    text = " ".join(l.strip() for l in out.splitlines()[1:])
    r["san_openssl"] = text or None
    for item in filter(None, (x.strip() for x in text.split(", "))):
        k, _, v = item.partition(":")
        if k == "DNS": san["dns"].append(v)
        elif k == "IP Address": san["ip"].append(str(ipaddress.ip_address(v)))   # RFC 5952 for IPv6
        elif k == "email": san["email"].append(v)
        elif k == "URI": san["uri"].append(v)
        else: sys.exit("%s: unexpected SAN entry %r" % (path, item))
    r["san"] = san
    for md in ("sha1", "sha256"):
        fp = kv(ossl("x509", "-in", path, "-noout", "-fingerprint", "-" + md), md + " Fingerprint")
        if fp is None:
            fp = ossl("x509", "-in", path, "-noout", "-fingerprint", "-" + md).split("=", 1)[1]
        r[md] = hexcolon(fp)
    if r["sha256"] != hashlib.sha256(der).hexdigest():
        sys.exit("%s: openssl SHA-256 fingerprint disagrees with the DER" % path)
    r["fingerprint_suricata"] = ":".join(r["sha1"][i:i + 2] for i in range(0, 40, 2))
    rc, out, err = sh(["sh", "-c", "openssl x509 -pubkey -noout -in \"$1\" | openssl pkey -pubin -outform DER"
                       " | openssl dgst -sha256 -binary | base64", "sh", path])
    if rc != 0: sys.exit("%s: SPKI pipeline failed: %s" % (path, err))
    r["spki_sha256"] = out.strip()
    text = ossl("x509", "-in", path, "-noout", "-text")
    m = re.search(r"Public Key Algorithm: (\S+)", text); alg = m.group(1)
    key = {"algorithm": {"rsaEncryption": "RSA", "id-ecPublicKey": "EC", "ED25519": "Ed25519",
                         "ED448": "Ed448", "dsaEncryption": "DSA"}.get(alg, alg)}
    m = re.search(r"Public-Key: \((\d+) bit\)", text)
    key["bits"] = int(m.group(1)) if m else None
    m1 = re.search(r"ASN1 OID: (\S+)", text); m2 = re.search(r"NIST CURVE: (\S+)", text)
    key["curve"] = m2.group(1) if m2 else (m1.group(1) if m1 else None)
    key["curve_names"] = [x.group(1) for x in (m1, m2) if x]
    r["key"] = key
    r["signature_algorithm"] = re.search(r"Signature Algorithm: (\S+)", text).group(1)
    r["is_ca"] = bool(re.search(r"X509v3 Basic Constraints:.*\n\s*CA:TRUE", text))
    r["ski"] = r["aki"] = None
    m = re.search(r"X509v3 Subject Key Identifier:\s*\n\s*([0-9A-F:]+)", text)
    if m: r["ski"] = hexcolon(m.group(1))
    m = re.search(r"X509v3 Authority Key Identifier:\s*\n\s*(?:keyid:)?([0-9A-F:]+)", text)
    if m: r["aki"] = hexcolon(m.group(1))
    r["sct_count"] = text.count("Signed Certificate Timestamp:")
    rc, _, _ = sh(["openssl", "verify", "-check_ss_sig", "-no-CApath", "-no-CAstore",
                   "-CAfile", path, path])
    r["self_signed"] = r["subject"] == r["issuer"] and rc == 0
    r["ja4x"], r["ja4x_r"] = ja4x(der)
    return r

def header_codes():
    names = {}
    try:
        for l in open("/usr/include/openssl/x509_vfy.h"):
            m = re.match(r"#\s*define\s+X509_V_ERR_(\w+)\s+(\d+)\b", l)
            if m: names[int(m.group(2))] = m.group(1).lower()
    except OSError:
        pass
    names.setdefault(9, "cert_not_yet_valid"); names.setdefault(10, "cert_has_expired")
    names.setdefault(18, "depth_zero_self_signed_cert"); names.setdefault(19, "self_signed_cert_in_chain")
    names.setdefault(20, "unable_to_get_issuer_cert_locally")
    return names

# Names used in the test brief for the codes the scenarios are about; the
# X509_V_ERR_ macro name (lower case, no prefix) is accepted as well.
BRIEF = {0: "ok", 9: "certificate_is_not_yet_valid", 10: "certificate_has_expired",
         18: "self_signed_certificate", 19: "self_signed_certificate_in_certificate_chain",
         20: "unable_to_get_issuer_cert_locally"}

def verify_at(pki, chain, bundle, when, tmp):
    """openssl verify of chain[0] with chain[1:] untrusted at time `when`:
    the first error reported (what X509_verify_cert stops at)."""
    args = ["openssl", "verify", "-purpose", "sslserver", "-no-CApath", "-no-CAstore",
            "-CAfile", os.path.join(pki, bundle), "-attime", str(int(when))]
    if len(chain) > 1:
        u = os.path.join(tmp, "untrusted.pem")
        with open(u, "w") as f:
            for c in chain[1:]: f.write(open(os.path.join(pki, c)).read())
        args += ["-untrusted", u]
    args.append(os.path.join(pki, chain[0]))
    rc, out, err = sh(args)
    m = re.search(r"error (\d+) at (\d+) depth lookup: (.*)", out + err)
    if rc == 0 and not m:
        num, depth, text = 0, None, "ok"
    elif m:
        num, depth, text = int(m.group(1)), int(m.group(2)), m.group(3).strip()
    else:
        sys.exit("openssl verify: unexpected output: %s %s" % (out, err))
    macro = "ok" if num == 0 else header_codes().get(num, "error_%d" % num)
    accept = [BRIEF.get(num, macro)]
    if macro not in accept: accept.append(macro)
    return {"openssl_error": num, "depth": depth, "text": text, "macro_name": macro, "accept": accept}

def checkhost(path, name):
    out = ossl("x509", "-in", path, "-noout", "-checkhost", name)
    if "does match" in out: return True
    if "does NOT match" in out: return False
    sys.exit("checkhost: unexpected output %r" % out)

def expected(manifest, pki, outdir, server_ip, tmp):
    refs = {}
    for f in sorted(os.listdir(pki)):
        if f.endswith(".pem"):
            refs[f] = cert_ref(os.path.join(pki, f))
    caps = []
    for line in open(manifest):
        m = json.loads(line)
        cs = conns(os.path.join(outdir, m["pcap"]), server_ip)
        if len(cs) != len(m["connections"]):
            sys.exit("%s: %d connections in the capture, %d planned" % (m["name"], len(cs), len(m["connections"])))
        for c, plan in zip(cs, m["connections"]):
            plan.update(client_port=c["client_port"], server_port=c["server_port"],
                        first_packet=round(c["first"], 6), last_packet=round(c["last"], 6))
            chain = plan["chain"]
            if chain:
                leaf, nxt = refs[chain[0]], refs[chain[1]] if len(chain) > 1 else None
                plan["linked"] = all(refs[a]["issuer"] == refs[b]["subject"] for a, b in zip(chain, chain[1:]))
                plan["leaf_shares_issuer_key"] = bool(nxt) and leaf["spki_sha256"] == nxt["spki_sha256"]
                plan["sni_match"] = checkhost(os.path.join(pki, chain[0]), plan["sni"]) if plan["sni"] else None
                plan["validation"] = verify_at(pki, chain, m["ca_bundle"], c["first"], tmp)
                want = plan.pop("expect_code")
                if want not in plan["validation"]["accept"]:
                    sys.exit("%s: openssl verify at capture time says %s, the scenario needs %s"
                             % (m["name"], plan["validation"]["accept"], want))
                for extra in plan.get("extra_bundles", []):
                    v = verify_at(pki, chain, extra["ca_bundle"], c["first"], tmp)
                    if extra.pop("expect_code") not in v["accept"]:
                        sys.exit("%s: openssl verify with %s says %s" % (m["name"], extra["ca_bundle"], v["accept"]))
                    extra["validation"] = v
            else:
                plan.pop("expect_code", None)
        caps.append(m)
    doc = {
        "comment": "Made by tests/scripts/make_cert_captures.sh; reference values printed by openssl "
                   "(x509, verify -attime <first packet>, the SPKI pipeline); ja4x/ja4x_r from the DER "
                   "per FoxIO's JA4X description. Connections are matched by client_port.",
        "server_ip": server_ip,
        "certs": refs,
        "captures": caps,
    }
    with open(os.path.join(pki, "expected.json"), "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")

# ---- tshark cross-check -------------------------------------------------------
def tshark_certs(pcap, keylog, pki, server_chain, client_chain, per_conn, hrr):
    """Certificates tshark finds in the capture, per connection and direction."""
    args = ["tshark", "-n", "-r", pcap, "-o", "tcp.desegment_tcp_streams:TRUE",
            "-o", "tls.desegment_ssl_records:TRUE", "-o", "tls.desegment_ssl_application_data:TRUE"]
    if keylog: args += ["-o", "tls.keylog_file:" + keylog]
    rc, out, err = sh(args + ["-Y", "tls.handshake.type == 11", "-T", "fields", "-e", "tcp.srcport",
                              "-e", "tcp.dstport", "-e", "tls.handshake.certificate", "-E", "occurrence=a"])
    if rc != 0: sys.exit("tshark failed: " + err)
    got = {}
    for l in out.splitlines():
        f = l.split("\t")
        if len(f) < 3 or not f[2]: continue
        ders = [hashlib.sha256(bytes.fromhex(h.replace(":", ""))).hexdigest() for h in f[2].split(",")]
        got.setdefault((f[0], f[1]), []).append(ders)
    name = lambda fs: [refs_sha(pki, x) for x in fs]
    want_s, want_c = name(server_chain), name(client_chain)
    server_lists = [v for k, vs in got.items() for v in vs if k[0] in ("443", "8443")]
    client_lists = [v for k, vs in got.items() for v in vs if k[1] in ("443", "8443")]
    if per_conn is not None and server_chain and len(server_lists) != per_conn:
        sys.exit("tshark: %d server Certificate messages, expected %d" % (len(server_lists), per_conn))
    if any(l != want_s for l in server_lists) or (server_chain and not server_lists):
        sys.exit("tshark: server chain differs from the plan")
    if any(l != want_c for l in client_lists) or (client_chain and not client_lists):
        sys.exit("tshark: client chain differs from the plan")
    if hrr:
        rc, out, err = sh(args + ["-Y", "tls.handshake.type == 2", "-T", "fields", "-e", "tls.handshake.random"])
        hrr_random = "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"
        if hrr_random not in out.replace(":", ""): sys.exit("tshark: no HelloRetryRequest")
    print("tshark: %d server and %d client Certificate messages as planned" % (len(server_lists), len(client_lists)))

def refs_sha(pki, f):
    return sha256_file_der(os.path.join(pki, f + ".pem"))

def tshark_nodecrypt(pcap, keylog):
    rc, out, err = sh(["tshark", "-n", "-r", pcap, "-o", "tls.keylog_file:" + keylog,
                       "-Y", "tls.handshake.type == 11 or tls.handshake.type == 20", "-T", "fields", "-e", "frame.number"])
    if out.strip(): sys.exit("tshark: the wrong key log decrypts the handshake")
    print("tshark: the key log does not decrypt the handshake, as planned")

if __name__ == "__main__":
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "dropseg": dropseg(*a)
    elif cmd == "badkeys": badkeys(*a)
    elif cmd == "retime": retime(*a)
    elif cmd == "showcerts": showcerts(*a)
    elif cmd == "expected": expected(*a)
    elif cmd == "conns": print(json.dumps(conns(*a)))
    elif cmd == "tshark":
        pcap, keylog, pki, sc, cc, n, hrr = a
        tshark_certs(pcap, keylog or None, pki, [x for x in sc.split(",") if x],
                     [x for x in cc.split(",") if x], int(n) if n else None, hrr == "1")
    elif cmd == "tshark_nodecrypt": tshark_nodecrypt(*a)
    elif cmd == "sct":
        # Two syntactically valid v1 SCTs (fake logs, fake signatures), as the
        # DER of the extension value: OCTET STRING { SignedCertificateTimestampList }.
        scts = b""
        for i in (1, 2):
            sig = hashlib.sha256(b"pinscope fake sct signature %d" % i).digest()
            sct = (b"\x00" + hashlib.sha256(b"pinscope test log %d" % i).digest()
                   + struct.pack(">Q", 1700000000000 + i) + b"\x00\x00"
                   + b"\x04\x03" + struct.pack(">H", len(sig)) + sig)
            scts += struct.pack(">H", len(sct)) + sct
        lst = struct.pack(">H", len(scts)) + scts
        print("04" + "%02x" % len(lst) + lst.hex() if len(lst) < 128 else
              "0481" + "%02x" % len(lst) + lst.hex())
    else:
        sys.exit("helper: unknown command " + cmd)
PYEOF
helper() { python3 "$WORK/helper.py" "$@"; }

# ---- PKI ------------------------------------------------------------------
DAY0=$(( $(date -u +%s) / 86400 * 86400 ))
day() { date -u -d "@$((DAY0 + $1 * 86400))" +%Y%m%d%H%M%SZ; }   # DAY0 + N days, openssl ca format
at() { date -u -d "@$((DAY0 + $1))" +%Y%m%d%H%M%SZ; }             # DAY0 + N seconds
randserial() { local s; s=$(openssl rand -hex 16); printf '%x%s' $(( (0x${s:0:2} & 0x6f) | 0x10 )) "${s:2}"; }

SCT_DER=$(helper sct) || die "cannot build the SCT extension"

cat > "$WORK/ca/ca.cnf" <<EOF
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = $WORK/ca
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = yes
preserve = yes
copy_extensions = none
[ policy_any ]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = optional
[ ext_root ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ ext_inter ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ ext_rsa ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:www.pinscope.test,DNS:*.wild.pinscope.test,IP:$S_IP,IP:2001:db8:0:0:0:0:0:2,email:admin@pinscope.test,URI:https://www.pinscope.test/pins
[ ext_ec ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:ec.pinscope.test
1.3.6.1.4.1.11129.2.4.2 = DER:$SCT_DER
[ ext_nosan ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
[ ext_client ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = email:client@pinscope.test,URI:spiffe://pinscope.test/client
EOF
for n in expired future self shared unrelated boundary; do
    cat >> "$WORK/ca/ca.cnf" <<EOF
[ ext_$n ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:$n.pinscope.test
EOF
done

# sign NAME SUBJECT KEY EXT SERIAL START END ISSUER(root|other_root|inter|self) [MD]
sign() {
    local name=$1 subj=$2 key=$3 ext=$4 serial=$5 start=$6 end=$7 issuer=$8 md=${9:-sha256}
    local ca=(-cert "$PKI/$issuer.pem" -keyfile "$PKI/$issuer.key")
    [ "$issuer" = self ] && ca=(-selfsign -keyfile "$PKI/$key.key")
    [ "$issuer" = inter ] && md=sha384
    openssl req -new -utf8 -key "$PKI/$key.key" -subj "$subj" -out "$WORK/ca/$name.csr" &&
    echo "$serial" > "$WORK/ca/serial" &&
    openssl ca -batch -notext -utf8 -config "$WORK/ca/ca.cnf" "${ca[@]}" -md "$md" \
        -in "$WORK/ca/$name.csr" -out "$PKI/$name.pem" -extensions "ext_$ext" \
        -startdate "$start" -enddate "$end"
}
rsakey() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/$1.key"; }
eckey() { openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$2" -out "$PKI/$1.key"; }

make_pki() {
    : > "$WORK/ca/index.txt"
    rsakey root && rsakey other_root && eckey inter P-384 && rsakey leaf_rsa &&
    eckey leaf_ec P-256 && rsakey leaf_expired && rsakey leaf_future && rsakey leaf_self &&
    rsakey leaf_nosan && rsakey leaf_unrelated && eckey client P-256 && eckey leaf_boundary P-256 &&
    sign root "/C=ZZ/O=Pinscope Test/CN=Pinscope Test Root" root root 01 \
        "$(day -730)" 20600101000000Z self &&
    sign other_root "/C=ZZ/O=Unrelated Test Org/CN=Unrelated Test Root" other_root root 02 \
        "$(day -700)" "$(day 3650)" self &&
    sign inter "/C=ZZ/O=Pinscope Test/OU=Issuing/CN=Pinscope Test Intermediate" inter inter 1000 \
        "$(day -365)" 20550101000000Z root &&
    sign leaf_rsa "/C=ZZ/O=Pinscope Test/CN=www.pinscope.test" leaf_rsa rsa C0FFEE01 \
        "$(day -1)" "$(day 397)" inter &&
    sign leaf_ec "/O=Pinscope Test/CN=ec.pinscope.test" leaf_ec ec 0A1B2C3D \
        "$(day -2)" 20510101000000Z inter &&
    sign leaf_expired "/O=Pinscope Test/CN=expired.pinscope.test" leaf_expired expired \
        "$(randserial)" "$(day -800)" "$(day -435)" inter &&
    sign leaf_future "/O=Pinscope Test/CN=future.pinscope.test" leaf_future future \
        "$(randserial)" "$(day 30)" "$(day 400)" inter &&
    sign leaf_self "/O=Pinscope Self/CN=self.pinscope.test" leaf_self self \
        "$(randserial)" "$(day -1)" "$(day 90)" self &&
    sign leaf_nosan "/C=ZZ/O=Pinscope Tëst, Inc./CN=nosan.pinscope.test" leaf_nosan nosan \
        "$(randserial)" "$(day -1)" "$(day 200)" inter &&
    sign leaf_shared "/O=Pinscope Test/CN=shared.pinscope.test" inter shared \
        "$(randserial)" "$(day -1)" "$(day 100)" inter &&
    sign leaf_unrelated "/O=Unrelated Test Org/CN=unrelated.pinscope.test" leaf_unrelated unrelated \
        "$(randserial)" "$(day -1)" "$(day 100)" other_root &&
    sign client "/O=Pinscope Test/CN=client.pinscope.test" client client \
        "$(randserial)" "$(day -1)" "$(day 365)" inter &&
    sign leaf_boundary "/O=Pinscope Test/CN=boundary.pinscope.test" leaf_boundary boundary \
        "$(randserial)" "$(day -400)" "$(at $((-30 * 86400 + 1800)))" inter &&
    chmod 644 "$PKI"/*.key
}
make_pki >"$WORK/pki.log" 2>&1 || { tail -n 30 "$WORK/pki.log" >&2; die "PKI generation failed"; }
# Chain files for -cert_chain / -untrusted (work files, not kept).
cat "$PKI/inter.pem" > "$WORK/inter.chain"
cat "$PKI/inter.pem" "$PKI/root.pem" > "$WORK/inter_root.chain"
cat "$PKI/root.pem" > "$WORK/root.chain"
cat "$PKI/other_root.pem" > "$WORK/other_root.chain"
log "PKI made ($(ls "$PKI" | wc -l) files)"

# ---- namespaces -----------------------------------------------------------
ip netns add "$NS_C" || die "ip netns add failed (need CAP_SYS_ADMIN)"
ip netns add "$NS_S" || die "ip netns add failed"
ip link add "$VETH_C" netns "$NS_C" type veth peer name "$VETH_S" netns "$NS_S" ||
    die "cannot create veth pair"
ip -n "$NS_C" addr add "$C_IP/30" dev "$VETH_C"
ip -n "$NS_S" addr add "$S_IP/30" dev "$VETH_S"
for ns in "$NS_C" "$NS_S"; do ip -n "$ns" link set lo up; done
ip -n "$NS_C" link set "$VETH_C" up
ip -n "$NS_S" link set "$VETH_S" up
if command -v ethtool >/dev/null 2>&1; then
    ip netns exec "$NS_C" ethtool -K "$VETH_C" tx off rx off tso off gso off gro off >/dev/null 2>&1
    ip netns exec "$NS_S" ethtool -K "$VETH_S" tx off rx off tso off gso off gro off >/dev/null 2>&1
fi
for _ in $(seq 50); do
    ip netns exec "$NS_C" ping -c1 -W1 "$S_IP" >/dev/null 2>&1 && break
    sleep 0.1
done

sx() { ip netns exec "$NS_S" "$@"; }
cx() { ip netns exec "$NS_C" "$@"; }

# ---- capture, server, client helpers ---------------------------------------------
TCPDUMP_PID=
start_capture() {   # NAME PORT
    local name=$1 port=$2
    rm -f "$WORK/$name.pcap"
    ip netns exec "$NS_S" timeout 60 tcpdump -i "$VETH_S" -n -s 0 -U -w "$WORK/$name.pcap" \
        "tcp port $port" 2>"$WORK/$name.tcpdump.log" &
    TCPDUMP_PID=$!
    PIDS+=("$TCPDUMP_PID")
    for _ in $(seq 50); do
        grep -q "listening on" "$WORK/$name.tcpdump.log" 2>/dev/null && { sleep 0.2; return 0; }
        kill -0 "$TCPDUMP_PID" 2>/dev/null || break
        sleep 0.1
    done
    log "$name: tcpdump did not start: $(cat "$WORK/$name.tcpdump.log")"
    return 1
}

stop_capture() {
    [ -n "$TCPDUMP_PID" ] || return 0
    sleep 0.3
    kill -INT "$TCPDUMP_PID" 2>/dev/null
    for _ in $(seq 50); do
        kill -0 "$TCPDUMP_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$TCPDUMP_PID" 2>/dev/null
    wait "$TCPDUMP_PID" 2>/dev/null
    TCPDUMP_PID=
}

SERVER_PID=
start_server() {    # NAME PORT CMD...
    local name=$1 port=$2; shift 2
    (cd "$WORK/www" && exec ip netns exec "$NS_S" timeout 30 "$@") \
        >"$WORK/$name.server.log" 2>&1 </dev/null &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    for _ in $(seq 50); do
        [ -n "$(sx ss -Hltn "sport = :$port" 2>/dev/null)" ] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    log "$name: server did not start listening on $port"
    return 1
}

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    for _ in $(seq 30); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -TERM "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=
}

line_then_eof() { printf '%s\n' "$1"; sleep 0.5; }

# run_client NAME CMD... (client namespace, 15 s timeout, output appended to NAME.client.log)
run_client() {
    local name=$1 rc; shift
    line_then_eof hello | cx timeout 15 "$@" >>"$WORK/$name.client.log" 2>&1
    rc=$?
    [ $rc -eq 0 ] || log "$name: client exited $rc"
    return $rc
}

# Server: s_server with CERT KEY [CHAIN]; no trust store unless -CAfile is
# given, so nothing is added to the chain that was not asked for.  -rev
# (echo reversed lines) unless -WWW (serve files) is given.
srv() {   # CERT KEY CHAINFILE|- EXTRA...
    local cert=$1 key=$2 chain=$3; shift 3
    S=(openssl s_server -accept 443 -cert "$PKI/$cert.pem" -key "$PKI/$key.key" -no-CApath -no-CAstore)
    [ "$chain" != - ] && S+=(-cert_chain "$WORK/$chain.chain")
    S+=("$@")
    case " $* " in *" -WWW "*) ;; *) S+=(-rev) ;; esac
    case " $* " in *" -CAfile "*) ;; *) S+=(-no-CAfile) ;; esac
}
SC=(openssl s_client -connect "$S_IP:443" -showcerts -CAfile "$PKI/root.pem" -no-CApath -no-CAstore)

# record NAME VERSION CLIENT KEYLOG(0|1) SNI CHAIN CLIENT_CHAIN EXPECT_CODE CONNS [EXTRA_BUNDLE:CODE]
# CHAIN and CLIENT_CHAIN: comma-separated file stems; CONNS: comma-separated
# connection kinds (full, resumed, not_captured); EXPECT_CODE: one validation
# code for all connections, or one per connection separated by '/'.
record() {
    python3 - "$@" >> "$WORK/manifest.jsonl" <<'EOF'
import json, sys
name, ver, client, kl, sni, chain, cchain, code, conns = sys.argv[1:10]
extra = sys.argv[10] if len(sys.argv) > 10 else ""
files = lambda s: [x + ".pem" for x in s.split(",") if x]
cs = []
codes = code.split("/")   # one per connection, or one for all
for i, kind in enumerate(conns.split(",")):
    c = {"kind": kind, "sni": sni or None, "resumed": kind == "resumed",
         "chain": files(chain) if kind != "resumed" else [],
         "client_chain": files(cchain) if kind != "resumed" else [],
         "expect_code": codes[i] if len(codes) > 1 else code}
    if kind == "resumed":
        c["chain_visible"], c["chain_invisible_reason"] = False, "resumed"
    elif kind == "not_captured":
        c["chain_visible"], c["chain_invisible_reason"] = False, "not_captured"
        c["served_chain"], c["chain"] = c["chain"], []
    else:
        c["chain_visible"], c["chain_invisible_reason"] = True, None
    if extra and kind == "full":
        b, _, x = extra.partition(":")
        c["extra_bundles"] = [{"ca_bundle": b + ".pem", "expect_code": x}]
    cs.append(c)
print(json.dumps({"name": name, "pcap": name + ".pcap", "keylog": name + ".keylog" if kl == "1" else None,
                  "wrong_keylog": name.endswith("_badkeys"), "version": ver, "client": client,
                  "ca_bundle": "root.pem", "connections": cs}))
EOF
}

# ---- scenarios ---------------------------------------------------------------
# Each: server, client(s), then `plan` for the checks below and expected.json.
PLAN_CHAIN='' PLAN_CCHAIN='' PLAN_KEYLOG='' PLAN_HRR=0
plan() {   # VERSION CLIENT KEYLOG SNI CHAIN CLIENT_CHAIN CODE CONNS [EXTRA]
    PLAN_KEYLOG=$3 PLAN_CHAIN=$5 PLAN_CCHAIN=$6
    record "$n" "$@"
}

scenario() {
    local n=$1 kl=$WORK/$1.keylog
    PLAN_HRR=0
    rm -f "$WORK/$n.client.log" "$WORK/$n.2.client.log" "$kl" "$WORK/$n.sess"
    case $n in
    certs_rsa_san)
        srv leaf_rsa leaf_rsa inter -naccept 1; start_server "$n" 443 "${S[@]}" || return 1
        run_client "$n" "${SC[@]}" -tls1_2 -servername www.pinscope.test || return 1
        plan "TLS 1.2" "openssl s_client" 0 www.pinscope.test leaf_rsa,inter "" ok full other_root:unable_to_get_issuer_cert_locally ;;
    certs_wildcard_curl)
        srv leaf_rsa leaf_rsa inter -naccept 1 -WWW
        start_server "$n" 443 "${S[@]}" || return 1
        run_client "$n" curl -sS -o /dev/null -w '%{certs}' --max-time 10 --cacert "$PKI/root.pem" \
            --tlsv1.2 --tls-max 1.2 --resolve "api.wild.pinscope.test:443:$S_IP" \
            https://api.wild.pinscope.test/hello.txt || return 1
        plan "TLS 1.2" "curl" 0 api.wild.pinscope.test leaf_rsa,inter "" ok full ;;
    certs_ecdsa_fullchain)
        srv leaf_ec leaf_ec inter_root -naccept 1; start_server "$n" 443 "${S[@]}" || return 1
        run_client "$n" "${SC[@]}" -tls1_2 -servername ec.pinscope.test || return 1
        plan "TLS 1.2" "openssl s_client" 0 ec.pinscope.test leaf_ec,inter,root "" ok full ;;
    certs_sni_mismatch)
        srv leaf_ec leaf_ec inter -naccept 1; start_server "$n" 443 "${S[@]}" || return 1
        run_client "$n" "${SC[@]}" -tls1_2 -servername other.pinscope.test || return 1
        plan "TLS 1.2" "openssl s_client" 0 other.pinscope.test leaf_ec,inter "" ok full ;;
    certs_expired)
        srv leaf_expired leaf_expired inter -naccept 1; start_server "$n" 443 "${S[@]}" || return 1
        run_client "$n" "${SC[@]}" -tls1_2 -servername expired.pinscope.test || return 1
        plan "TLS 1.2" "openssl s_client" 0 expired.pinscope.test leaf_expired,inter "" certificate_has_expired full ;;
    certs_not_yet_valid)
        srv leaf_future leaf_future inter -naccept 1; start_server "$n" 443 "${S[@]}" || return 1
        run_client "$n" "${SC[@]}" -tls1_2 -servername future.pinscope.test || return 1
        plan "TLS 1.2" "openssl s_client" 0 future.pinscope.test leaf_future,inter "" certificate_is_not_yet_valid full ;;
    certs_self_signed)
        srv leaf_self leaf_self - -naccept 1; start_server "$n" 443 "${S[@]}" || return 1
        run_client "$n" "${SC[@]}" -tls1_2 -servername self.pinscope.test || return 1
        plan "TLS 1.2" "openssl s_client" 0 self.pinscope.test leaf_self "" self_signed_certificate full ;;
    certs_nosan)
        srv leaf_nosan leaf_nosan inter -naccept 1; start_server "$n" 443 "${S[@]}" || return 1
        run_client "$n" "${SC[@]}" -tls1_2 -servername nosan.pinscope.test || return 1
        plan "TLS 1.2" "openssl s_client" 0 nosan.pinscope.test leaf_nosan,inter "" ok full ;;
    certs_missing_intermediate)
        srv leaf_rsa leaf_rsa - -naccept 1; start_server "$n" 443 "${S[@]}" || return 1
        run_client "$n" "${SC[@]}" -tls1_2 -servername www.pinscope.test || return 1
        plan "TLS 1.2" "openssl s_client" 0 www.pinscope.test leaf_rsa "" unable_to_get_issuer_cert_locally full ;;
    certs_unlinked)
        # Root sent instead of the intermediate: issuer/subject links broken.
        srv leaf_ec leaf_ec root -naccept 1; start_server "$n" 443 "${S[@]}" || return 1
        run_client "$n" "${SC[@]}" -tls1_2 -servername ec.pinscope.test || return 1
        plan "TLS 1.2" "openssl s_client" 0 ec.pinscope.test leaf_ec,root "" unable_to_get_issuer_cert_locally full ;;
    certs_unrelated_root)
        srv leaf_unrelated leaf_unrelated other_root -naccept 1; start_server "$n" 443 "${S[@]}" || return 1
        run_client "$n" "${SC[@]}" -tls1_2 -servername unrelated.pinscope.test || return 1
        plan "TLS 1.2" "openssl s_client" 0 unrelated.pinscope.test leaf_unrelated,other_root "" \
            self_signed_certificate_in_certificate_chain full ;;
    certs_shared_key)
        srv leaf_shared inter inter -naccept 1; start_server "$n" 443 "${S[@]}" || return 1
        run_client "$n" "${SC[@]}" -tls1_2 -servername shared.pinscope.test || return 1
        plan "TLS 1.2" "openssl s_client" 0 shared.pinscope.test leaf_shared,inter "" ok full ;;
    certs_mtls)
        srv leaf_rsa leaf_rsa inter -naccept 1 -Verify 1 -verify_return_error -CAfile "$PKI/root.pem"
        start_server "$n" 443 "${S[@]}" || return 1
        run_client "$n" "${SC[@]}" -tls1_2 -servername www.pinscope.test \
            -cert "$PKI/client.pem" -key "$PKI/client.key" -cert_chain "$WORK/inter.chain" || return 1
        plan "TLS 1.2" "openssl s_client (client certificate)" 0 www.pinscope.test leaf_rsa,inter client,inter ok full ;;
    certs_tls12_resumed)
        srv leaf_rsa leaf_rsa inter -naccept 2; start_server "$n" 443 "${S[@]}" || return 1
        run_client "$n" "${SC[@]}" -tls1_2 -servername www.pinscope.test -sess_out "$WORK/$n.sess" || return 1
        run_client "$n.2" "${SC[@]}" -tls1_2 -servername www.pinscope.test -sess_in "$WORK/$n.sess" || return 1
        grep -q "^Reused, TLSv1.2" "$WORK/$n.2.client.log" || { log "$n: no resumption"; return 1; }
        plan "TLS 1.2" "openssl s_client" 0 www.pinscope.test leaf_rsa,inter "" ok full,resumed ;;
    certs_tls13_aes128gcm_curl)
        srv leaf_rsa leaf_rsa inter -naccept 1 -WWW
        start_server "$n" 443 "${S[@]}" || return 1
        run_client "$n" env SSLKEYLOGFILE="$kl" curl -sS -o /dev/null -w '%{certs}' --max-time 10 \
            --cacert "$PKI/root.pem" --tlsv1.3 --tls13-ciphers TLS_AES_128_GCM_SHA256 \
            --resolve "www.pinscope.test:443:$S_IP" https://www.pinscope.test/hello.txt || return 1
        plan "TLS 1.3" "curl" 1 www.pinscope.test leaf_rsa,inter "" ok full ;;
    certs_tls13_aes256gcm)
        srv leaf_rsa leaf_rsa inter -naccept 1; start_server "$n" 443 "${S[@]}" || return 1
        run_client "$n" "${SC[@]}" -tls1_3 -servername www.pinscope.test \
            -ciphersuites TLS_AES_256_GCM_SHA384 -keylogfile "$kl" || return 1
        plan "TLS 1.3" "openssl s_client" 1 www.pinscope.test leaf_rsa,inter "" ok full ;;
    certs_tls13_chacha20)
        srv leaf_ec leaf_ec inter_root -naccept 1; start_server "$n" 443 "${S[@]}" || return 1
        run_client "$n" "${SC[@]}" -tls1_3 -servername ec.pinscope.test \
            -ciphersuites TLS_CHACHA20_POLY1305_SHA256 -keylogfile "$kl" || return 1
        plan "TLS 1.3" "openssl s_client" 1 ec.pinscope.test leaf_ec,inter,root "" ok full ;;
    certs_tls13_ccm)
        srv leaf_rsa leaf_rsa inter -naccept 1 -ciphersuites TLS_AES_128_CCM_SHA256
        start_server "$n" 443 "${S[@]}" || return 1
        run_client "$n" "${SC[@]}" -tls1_3 -servername www.pinscope.test \
            -ciphersuites TLS_AES_128_CCM_SHA256 -keylogfile "$kl" || return 1
        plan "TLS 1.3" "openssl s_client" 1 www.pinscope.test leaf_rsa,inter "" ok full ;;
    certs_tls13_hrr)
        # Client key share X25519 only; the server wants P-256: HelloRetryRequest.
        srv leaf_rsa leaf_rsa inter -naccept 1 -groups P-256; start_server "$n" 443 "${S[@]}" || return 1
        run_client "$n" "${SC[@]}" -tls1_3 -servername www.pinscope.test -groups X25519:P-256 \
            -keylogfile "$kl" || return 1
        PLAN_HRR=1
        plan "TLS 1.3" "openssl s_client" 1 www.pinscope.test leaf_rsa,inter "" ok full ;;
    certs_tls13_resumed)
        srv leaf_rsa leaf_rsa inter -naccept 2; start_server "$n" 443 "${S[@]}" || return 1
        run_client "$n" "${SC[@]}" -tls1_3 -servername www.pinscope.test -keylogfile "$kl" \
            -sess_out "$WORK/$n.sess" || return 1
        run_client "$n.2" "${SC[@]}" -tls1_3 -servername www.pinscope.test -keylogfile "$kl" \
            -sess_in "$WORK/$n.sess" || return 1
        grep -q "^Reused, TLSv1.3" "$WORK/$n.2.client.log" || { log "$n: no resumption"; return 1; }
        plan "TLS 1.3" "openssl s_client" 1 www.pinscope.test leaf_rsa,inter "" ok full,resumed ;;
    certs_tls13_badkeys)
        srv leaf_ec leaf_ec inter -naccept 1; start_server "$n" 443 "${S[@]}" || return 1
        run_client "$n" "${SC[@]}" -tls1_3 -servername ec.pinscope.test \
            -keylogfile "$WORK/$n.goodkeylog" || return 1
        helper badkeys "$WORK/$n.goodkeylog" "$kl" || return 1
        plan "TLS 1.3" "openssl s_client (key log replaced by random secrets)" 1 ec.pinscope.test \
            leaf_ec,inter "" ok full ;;
    certs_expiry_boundary)
        srv leaf_boundary leaf_boundary inter -naccept 1; start_server "$n" 443 "${S[@]}" || return 1
        run_client "$n" "${SC[@]}" -tls1_2 -servername boundary.pinscope.test || return 1
        plan "TLS 1.2" "openssl s_client (capture re-timed: two copies around notAfter)" 0 \
            boundary.pinscope.test leaf_boundary,inter "" ok/certificate_has_expired full,full ;;
    *)
        log "unknown scenario $n"; return 1 ;;
    esac
}

# check NAME: the client saw the planned chain; tshark agrees with the plan.
check() {
    local n=$1 kl="" per=1   # one server Certificate per capture (a resumption sends none)
    files() { local x out=""; for x in ${1//,/ }; do out="$out $PKI/$x.pem"; done; echo "$out"; }
    # shellcheck disable=SC2046 # file list
    helper showcerts "$WORK/$n.client.log" $(files "$PLAN_CHAIN") || return 1
    command -v tshark >/dev/null 2>&1 || return 0
    if [ "$PLAN_KEYLOG" = 1 ]; then
        kl=$WORK/$n.keylog
        if [ "$n" = certs_tls13_badkeys ]; then
            helper tshark_nodecrypt "$WORK/$n.pcap" "$kl" || return 1
            kl=$WORK/$n.goodkeylog
        fi
    fi
    helper tshark "$WORK/$n.pcap" "$kl" "$PKI" "$PLAN_CHAIN" "$PLAN_CCHAIN" "$per" "$PLAN_HRR"
}

# ---- main -----------------------------------------------------------------
: > "$WORK/manifest.jsonl"
ok=0 bad=0
for n in $SCENARIOS; do
    rc=1
    if start_capture "$n" 443; then
        scenario "$n"
        rc=$?
        stop_server
        stop_capture
    fi
    pkts=0
    [ -s "$WORK/$n.pcap" ] && pkts=$(tcpdump -nr "$WORK/$n.pcap" 2>/dev/null | wc -l)
    [ $rc -eq 0 ] && [ "$pkts" -lt 6 ] && { log "$n: only $pkts packets"; rc=1; }
    [ $rc -eq 0 ] && { check "$n" > "$WORK/$n.check.log" 2>&1 || rc=1; }
    if [ $rc -eq 0 ]; then
        cp "$WORK/$n.pcap" "$OUT/"
        [ -f "$WORK/$n.keylog" ] && cp "$WORK/$n.keylog" "$OUT/"
        echo "ok   $n ($pkts packets, $(wc -c < "$WORK/$n.pcap") bytes) $(tail -n 1 "$WORK/$n.check.log")"
        ok=$((ok + 1))
    else
        echo "FAIL $n (rc=$rc, $pkts packets); logs:"
        for f in "$WORK/$n".*.log; do
            [ -f "$f" ] && { echo "  --- ${f##*/}"; tail -n 8 "$f" | sed 's/^/  /'; }
        done
        bad=$((bad + 1))
    fi
done

# Derived: the Certificate message not (fully) captured.
if [ -f "$OUT/certs_rsa_san.pcap" ]; then
    if helper dropseg "$OUT/certs_rsa_san.pcap" "$OUT/certs_not_captured.pcap" "$S_IP" &&
       { ! command -v tshark >/dev/null 2>&1 ||   # tshark must find no Certificate message
         helper tshark "$OUT/certs_not_captured.pcap" "" "$PKI" "" "" "" 0 >/dev/null; }; then
        n=certs_not_captured
        record "$n" "TLS 1.2" "openssl s_client (server segment removed)" 0 www.pinscope.test \
            leaf_rsa,inter "" ok not_captured
        echo "ok   $n (derived from certs_rsa_san)"
        ok=$((ok + 1))
    else
        echo "FAIL certs_not_captured"; bad=$((bad + 1))
    fi
fi

if [ -f "$OUT/certs_expiry_boundary.pcap" ]; then
    helper retime "$OUT/certs_expiry_boundary.pcap" "$PKI/leaf_boundary.pem" "$S_IP" ||
        { echo "FAIL certs_expiry_boundary: cannot re-time the capture"; bad=$((bad + 1)); }
fi

[ $bad -eq 0 ] || die "$ok scenarios ok, $bad failed; nothing written"

helper expected "$WORK/manifest.jsonl" "$PKI" "$OUT" "$S_IP" "$WORK" ||
    die "expected.json: a reference value disagrees with the scenario; nothing written"

# Replace the old material all together.
rm -rf "$CERTS"
rm -f "$GOLDEN"/certs_*.pcap "$GOLDEN"/certs_*.keylog
mkdir -p "$GOLDEN"
{ cp -r "$PKI" "$CERTS" && cp "$OUT"/* "$GOLDEN/"; } || die "copy to $GOLDEN failed"
total=$(cat "$CERTS"/* "$GOLDEN"/certs_* | wc -c)
echo "make_cert_captures: $ok captures, $(ls "$CERTS" | wc -l) files in $CERTS; $total bytes in all"
[ "$total" -lt 1048576 ] || echo "make_cert_captures: WARNING: certificate test files exceed 1 MB"
exit 0
