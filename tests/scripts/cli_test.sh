#!/bin/sh
# cli_test.sh - the command line's contract on bad and unusual input:
# clear one-line errors and exit codes, truncated files, stdin, -o, --stats,
# several -r inputs, every output line valid JSON.
#
# Usage: sh tests/scripts/cli_test.sh   (PINSCOPE overrides ./pinscope)
set -u
PINSCOPE=${PINSCOPE:-./pinscope}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL cli: $*" >&2; }

SAMPLE=tests/golden/hostile_sni.pcap

# expect CODE DESCRIPTION CMD...: exit status CODE and, for errors, exactly
# one line on stderr that starts with "pinscope: error:".
expect() {
    want=$1 desc=$2
    shift 2
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" != "$want" ]; then
        ko "$desc: exit $got, want $want ($(head -c 300 "$T/err"))"
        return
    fi
    if [ "$want" != 0 ]; then
        if ! head -n 1 "$T/err" | grep -q '^pinscope: error: '; then
            ko "$desc: no 'pinscope: error:' line: $(head -c 300 "$T/err")"
            return
        fi
    fi
    ok
}

expect 1 "missing file" "$PINSCOPE" -r "$T/does-not-exist.pcap"
expect 1 "not a capture" "$PINSCOPE" -r /etc/hostname
expect 1 "bad BPF filter on a file" "$PINSCOPE" -r "$SAMPLE" -f 'not a filter ((('
expect 1 "missing interface" "$PINSCOPE" -i pinscope-no-such-if0
expect 2 "no input" "$PINSCOPE"
expect 2 "both -r and -i" "$PINSCOPE" -r "$SAMPLE" -i lo
expect 2 "bad option value" "$PINSCOPE" -r "$SAMPLE" --max-flows banana
expect 2 "stray argument" "$PINSCOPE" -r "$SAMPLE" extra
expect 0 "help" "$PINSCOPE" --help

# A link type we do not decode (LINKTYPE_USER0 = 147): refused clearly.
python3 - "$T/user0.pcap" <<'PY'
import struct, sys
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 147))
    f.write(struct.pack("<IIII", 1, 0, 4, 4) + b"abcd")
PY
expect 1 "unsupported link type" "$PINSCOPE" -r "$T/user0.pcap"
if grep -q "unsupported link type 147" "$T/err"; then ok; else ko "link type error names the type"; fi

# Truncated file: what is readable is processed, a warning, exit 0.
full=$(wc -c < "$SAMPLE")
head -c $((full - 30)) "$SAMPLE" > "$T/trunc.pcap"
"$PINSCOPE" -r "$T/trunc.pcap" > "$T/out" 2> "$T/err"
rc=$?
if [ $rc = 0 ] && grep -q "warning" "$T/err" && grep -q '"event_type":"tls"' "$T/out"; then
    ok
else
    ko "truncated file: rc=$rc, stderr: $(head -c 300 "$T/err")"
fi

# SIGTERM stops a run reading a pipe that brings nothing (stdin blocked
# in read()): promptly, exit 0, no error about a truncated input.
mkfifo "$T/fifo"
sleep 20 > "$T/fifo" &
SP=$!
"$PINSCOPE" -r - -o "$T/pipe.json" < "$T/fifo" 2>"$T/pipe.err" &
PP=$!
sleep 1
kill -TERM "$PP"
i=0
while kill -0 "$PP" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
wait "$PP"
rc=$?
kill "$SP" 2>/dev/null
wait "$SP" 2>/dev/null
if [ $rc = 0 ] && [ $i -lt 50 ] && ! grep -q "error" "$T/pipe.err"; then
    ok
else
    ko "SIGTERM on a silent stdin: rc=$rc after ${i}00 ms: $(cat "$T/pipe.err")"
fi

# The header's sensor name and Community ID seed.
expect 2 "--community-id-seed out of range" "$PINSCOPE" -r "$SAMPLE" --community-id-seed 65536
expect 2 "--community-id-seed with a suffix" "$PINSCOPE" -r "$SAMPLE" --community-id-seed 1k
expect 2 "empty --sensor-name" "$PINSCOPE" -r "$SAMPLE" --sensor-name ""
expect 2 "unknown --format" "$PINSCOPE" -r "$SAMPLE" --format json
"$PINSCOPE" --deterministic -r "$SAMPLE" > "$T/h0" 2>/dev/null
"$PINSCOPE" --deterministic -r "$SAMPLE" --sensor-name sensor-7 --community-id-seed 1 > "$T/h1" 2>/dev/null
if ! grep -q '"host"' "$T/h0" && [ "$(grep -c '"host":"sensor-7"' "$T/h1")" = "$(wc -l < "$T/h1")" ] && [ -s "$T/h1" ]; then
    ok
else
    ko "--sensor-name: host missing from an event, or present under --deterministic without it"
fi
c0=$(grep -o '"community_id":"[^"]*"' "$T/h0" | head -n 1)
c1=$(grep -o '"community_id":"[^"]*"' "$T/h1" | head -n 1)
if [ -n "$c0" ] && [ -n "$c1" ] && [ "$c0" != "$c1" ]; then ok; else ko "--community-id-seed 1 gave the same Community ID ($c0)"; fi
"$PINSCOPE" -r "$SAMPLE" > "$T/h2" 2>/dev/null
if grep -q "\"host\":\"$(hostname)\"" "$T/h2"; then ok; else ko "host is not the machine's host name by default"; fi

# A corrupt record (a capture length no pcap can hold) is an error, not a
# truncation: the library's message, exit 1, with one worker and with two.
python3 - "$SAMPLE" "$T/corrupt.pcap" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
off = 24
off += 16 + struct.unpack_from("<I", b, off + 8)[0]   # the second record
struct.pack_into("<I", b, off + 8, 0x7fffffff)
open(sys.argv[2], "wb").write(bytes(b))
PY
for w in 1 2; do
    "$PINSCOPE" --workers $w -r "$T/corrupt.pcap" > "$T/out" 2> "$T/err"
    rc=$?
    if [ $rc = 1 ] && grep -q "error: .*invalid packet capture length" "$T/err" && ! grep -q "truncated" "$T/err"; then
        ok
    else
        ko "corrupt record (--workers $w): rc=$rc, stderr: $(head -c 300 "$T/err")"
    fi
done

# Output failure is loud.  The only output failing stops the run (exit 1,
# one error line); with --on-output-error drop the run goes on and still
# fails at the end; with a second, good output, that one gets a stats
# event saying the sensor is degraded and by which output.
"$PINSCOPE" -r tests/golden/openssl_tls12_ecdsa.pcap -o /dev/full > /dev/null 2> "$T/e"
rc=$?
if [ $rc = 1 ] && grep -q "error: every output is failing (output /dev/full failing)" "$T/e" &&
   grep -Eq "[0-9]+ events \([1-9][0-9]* lines not written\)" "$T/e"; then ok; else ko "-o /dev/full: rc=$rc $(cat "$T/e")"; fi
# stdout into a pipe whose reader is gone: the same.
ERRF=$T/e python3 -c 'import os, subprocess, sys
r, w = os.pipe()
os.close(r)   # the reader is gone before the first line
sys.exit(subprocess.call(sys.argv[1:], stdout=w, stderr=open(os.environ["ERRF"], "w")))' \
    "$PINSCOPE" -r tests/golden/openssl_tls12_ecdsa.pcap
rc=$?
if [ $rc = 1 ] && grep -q "every output is failing (output - failing)" "$T/e" && grep -q "Broken pipe" "$T/e"; then
    ok
else
    ko "closed pipe: rc=$rc $(cat "$T/e")"
fi
"$PINSCOPE" -r tests/golden/openssl_tls12_ecdsa.pcap -o /dev/full --on-output-error drop > /dev/null 2> "$T/e"
rc=$?
if [ $rc = 1 ] && ! grep -q "every output is failing" "$T/e" && grep -q "writing /dev/full failed: 0 lines written" "$T/e"; then
    ok
else
    ko "-o /dev/full --on-output-error drop: rc=$rc $(cat "$T/e")"
fi
"$PINSCOPE" -r tests/golden/openssl_tls12_ecdsa.pcap -o /dev/full -o "$T/good.json" > /dev/null 2> "$T/e"
rc=$?
if [ $rc = 1 ] && grep -q '"degraded":true,"degraded_reason":"output /dev/full failing"' "$T/good.json" &&
   grep -q '"event_type":"tls"' "$T/good.json"; then
    ok
else
    ko "one of two outputs failing: rc=$rc $(cat "$T/e")"
fi
expect 2 "unknown --on-output-error" "$PINSCOPE" -r "$SAMPLE" --on-output-error maybe

# stdin gives the same events as the file (which stdin cannot name).
"$PINSCOPE" -r "$SAMPLE" > "$T/a" 2>/dev/null
"$PINSCOPE" -r - < "$SAMPLE" > "$T/b" 2>/dev/null
if [ "$(sed 's/"pcap_filename":"[^"]*",//' "$T/a")" = "$(cat "$T/b")" ] && [ -s "$T/a" ] &&
   ! grep -q pcap_filename "$T/b"; then ok; else ko "stdin output differs from file output"; fi

# -o writes the file; --stats appends a stats event; several -r inputs.
rm -f "$T/o.json"
"$PINSCOPE" -r "$SAMPLE" -r tests/golden/sslv2_hello.pcap -o "$T/o.json" --stats 2>/dev/null
if [ "$(grep -c '"event_type":"tls"' "$T/o.json")" = 2 ] && tail -n 1 "$T/o.json" | grep -q '"event_type":"stats"'; then
    ok
else
    ko "-o with two inputs and --stats"
fi

# Every line valid JSON (hostile SNI included), and deterministic output.
if python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    json.loads(line)
' "$T/o.json"; then ok; else ko "invalid JSON line"; fi
"$PINSCOPE" --deterministic -r "$SAMPLE" --stats > "$T/d1" 2>/dev/null
"$PINSCOPE" --deterministic -r "$SAMPLE" --stats > "$T/d2" 2>/dev/null
if cmp -s "$T/d1" "$T/d2"; then ok; else ko "--deterministic output differs between runs"; fi

# WebRTC: STUN and RTP beside DTLS on one port are skipped and counted,
# never taken for malformed DTLS records (RFC 7983).
mux=$("$PINSCOPE" -r tests/golden/dtls_stun_multiplexed.pcap --stats 2>/dev/null | python3 -c 'import json,sys
for l in sys.stdin:
    e = json.loads(l)
    if e.get("event_type") == "stats": print(e["stats"]["dtls_multiplexed"], len(e["stats"]["anomalies"]))')
if [ "$mux" = "3 0" ]; then ok; else ko "STUN beside DTLS: dtls_multiplexed/anomalies $mux"; fi

# Broken encapsulations and hostile fragments: counted, one of each, and
# the connections after them read (tests/golden/tunnels_hostile.pcap).  A
# flood of fragments that never complete is held to its share of the
# memcap, the oldest evicted, so the connections after it are read
# (tests/golden/frag_flood.pcap).
stats_of() {
    "$PINSCOPE" --deterministic -r "$1" --stats 2>/dev/null | python3 -c 'import json,sys
for l in sys.stdin:
    e = json.loads(l)
    if e.get("event_type") == "stats":
        s = e["stats"]
        print(s["tls_events"], ",".join("%s=%d" % kv for kv in sorted(s["anomalies"].items())),
              ",".join(sorted(s["caps"])))'
}
got=$(stats_of tests/golden/tunnels_hostile.pcap)
want="2 frag_attack=1,frag_overlap_conflict=1,ip_fragment=5,link_truncated=1,tunnel_malformed=14,tunnel_too_deep=2 "
if [ "$got" = "$want" ]; then ok; else ko "tunnels_hostile: events anomalies caps: $got, want $want"; fi
got=$(stats_of tests/golden/frag_flood.pcap)
want="2 ip_fragment=4803 frag_evicted"
if [ "$got" = "$want" ]; then ok; else ko "frag_flood: events anomalies caps: $got, want $want"; fi

# --dump-certs writes each distinct certificate once, named by its SHA-256;
# a missing directory is refused.
CERTPCAP=tests/golden/openssl_tls12_ecdsa.pcap
mkdir -p "$T/dump"
"$PINSCOPE" -r "$CERTPCAP" -r "$CERTPCAP" --dump-certs "$T/dump" > "$T/out" 2>/dev/null
ndump=$(ls "$T/dump" | wc -l)
leaf=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["tls"]["x509_chain"][0]["sha256"])' "$T/out" 2>/dev/null)
if [ "$ndump" = 2 ] && [ -f "$T/dump/$leaf.pem" ] && openssl x509 -in "$T/dump/$leaf.pem" -noout 2>/dev/null; then
    ok
else
    ko "--dump-certs: $ndump files, leaf $leaf"
fi
expect 1 "--dump-certs to a missing directory" "$PINSCOPE" -r "$CERTPCAP" --dump-certs "$T/nope"
# The caps: one file, then the rest counted and said once.
mkdir -p "$T/dump1"
"$PINSCOPE" -r "$CERTPCAP" --dump-certs "$T/dump1" --dump-certs-max 1 --stats > "$T/out" 2>"$T/e"
capped=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("event_type") == "stats": print(e["stats"].get("certs_dumped"), e["stats"].get("certs_dump_capped"))' "$T/out")
if [ "$(ls "$T/dump1" | wc -l)" = 1 ] && [ "$capped" = "1 1" ] && [ "$(grep -c "cap is reached" "$T/e")" = 1 ]; then
    ok
else
    ko "--dump-certs-max 1: $(ls "$T/dump1" | wc -l) files, stats $capped, $(cat "$T/e")"
fi
expect 2 "--dump-certs-max 0" "$PINSCOPE" -r "$CERTPCAP" --dump-certs "$T/dump1" --dump-certs-max 0
# A full disk: counted, said once, the events still written.
if [ "$(id -u)" = 0 ] && mkdir -p "$T/full" && mount -t tmpfs -o size=4k tmpfs "$T/full" 2>/dev/null; then
    dd if=/dev/zero of="$T/full/fill" bs=4k count=1 2>/dev/null
    "$PINSCOPE" -r "$CERTPCAP" --dump-certs "$T/full" --stats > "$T/out" 2>"$T/e"
    rc=$?
    failed=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("event_type") == "stats": print(e["stats"].get("certs_dump_failed"))' "$T/out")
    umount "$T/full"
    if [ $rc = 0 ] && [ "$failed" = 2 ] && [ "$(grep -c "cannot write" "$T/e")" = 1 ] &&
       grep -q '"event_type":"tls"' "$T/out"; then
        ok
    else
        ko "--dump-certs on a full disk: exit $rc, failed $failed, $(cat "$T/e")"
    fi
fi
expect 1 "unreadable --keylog" "$PINSCOPE" -r "$CERTPCAP" --keylog "$T/nope.keylog"
expect 1 "unreadable --ca-bundle" "$PINSCOPE" -r "$CERTPCAP" --ca-bundle "$T/nope.pem"
# Side files say what is wrong with them.
"$PINSCOPE" -r "$CERTPCAP" --ca-bundle "$T/nope.pem" 2>"$T/e" >/dev/null
if grep -q "No such file or directory" "$T/e"; then ok; else ko "missing --ca-bundle: $(cat "$T/e")"; fi
"$PINSCOPE" -r "$CERTPCAP" --ca-path /etc/hostname 2>"$T/e" >/dev/null
if [ $? = 1 ] && grep -q "not a directory" "$T/e"; then ok; else ko "--ca-path to a file: $(cat "$T/e")"; fi
head -c 100000 /dev/urandom | base64 > "$T/random.keylog"   # never a blank or comment first line
"$PINSCOPE" -r "$CERTPCAP" --keylog "$T/random.keylog" 2>"$T/e" >/dev/null
if [ $? = 1 ] && grep -q "not a key log: line 1" "$T/e"; then ok; else ko "random --keylog: $(cat "$T/e")"; fi
timeout -s KILL 60 "$PINSCOPE" -r "$CERTPCAP" --keylog /dev/zero 2>"$T/e" >/dev/null
if [ $? = 1 ] && grep -q "more than 512 MiB" "$T/e"; then ok; else ko "--keylog /dev/zero: $(cat "$T/e")"; fi
{ cat tests/golden/certs_tls13_aes128gcm_curl.keylog; echo "not a key log line"; } > "$T/mixed.keylog"
n=$(grep -c . tests/golden/certs_tls13_aes128gcm_curl.keylog)
"$PINSCOPE" -r tests/golden/certs_tls13_aes128gcm_curl.pcap --keylog "$T/mixed.keylog" 2>"$T/e" >"$T/o"
if [ $? = 0 ] && grep -q "1 malformed line skipped, the first is line $((n + 1))" "$T/e" &&
   grep -q '"chain_visible":true' "$T/o"; then ok; else ko "key log with one bad line: $(cat "$T/e")"; fi

# -r DIR: a directory's captures in name order as one stream.  A TLS 1.2
# handshake cut between the ServerHello and the Certificate into two
# rotated files gives the same event as the whole file (chain included);
# the same two files as two -r inputs end the flow at the first.
if command -v editcap >/dev/null 2>&1; then
    mkdir -p "$T/rot"
    editcap -r tests/golden/certs_rsa_san.pcap "$T/rot/cap-0001.pcap" 1-6 >/dev/null 2>&1
    editcap -r tests/golden/certs_rsa_san.pcap "$T/rot/cap-0002.pcap" 7-1000 >/dev/null 2>&1
    echo "not a capture" > "$T/rot/README"
    "$PINSCOPE" --deterministic -r tests/golden/certs_rsa_san.pcap > "$T/whole.json" 2>/dev/null
    "$PINSCOPE" --deterministic -r "$T/rot" > "$T/dir.json" 2>"$T/dir.err"
    "$PINSCOPE" --deterministic -r "$T/rot/cap-0001.pcap" -r "$T/rot/cap-0002.pcap" > "$T/two.json" 2>/dev/null
    # pcap_filename names the file the event came from: strip it to compare.
    nofile() { sed 's/"pcap_filename":"[^"]*",//' "$1"; }
    if [ "$(nofile "$T/whole.json")" = "$(nofile "$T/dir.json")" ] && grep -q '"chain":\[' "$T/dir.json"; then
        ok
    else
        ko "-r DIR: events differ from the whole capture ($(head -c 300 "$T/dir.err"))"
    fi
    if grep -q '"pcap_filename":"cap-0002.pcap"' "$T/dir.json"; then ok; else ko "-r DIR: pcap_filename is not the file that completed the handshake"; fi
    if ! grep -q '"chain":\[' "$T/two.json"; then ok; else ko "two -r inputs: the flow should end with the first"; fi
    # Regression: two -r inputs whose clock goes backwards (the second
    # capture is a day older than the first).  The clock the first left
    # expired the second's flows at their first packet, which lost the TCP
    # opening (ja4t, ja4l) and split the flow.  The second's event is now
    # that of the capture read alone: one reader, workers reading the file
    # themselves (classic pcap), and workers fed by the reader (pcapng).
    editcap -t 86400 tests/golden/certs_rsa_san.pcap "$T/late.pcap" >/dev/null 2>&1
    editcap -F pcapng -t 86400 tests/golden/certs_rsa_san.pcap "$T/late.pcapng" >/dev/null 2>&1
    editcap -F pcapng tests/golden/certs_rsa_san.pcap "$T/early.pcapng" >/dev/null 2>&1
    for ext in pcap pcapng; do
        early=tests/golden/certs_rsa_san.pcap
        [ $ext = pcapng ] && early="$T/early.pcapng"
        "$PINSCOPE" --deterministic -r "$early" > "$T/early.json" 2>/dev/null
        for w in 1 2; do
            "$PINSCOPE" --deterministic --workers $w -r "$T/late.$ext" -r "$early" > "$T/back.json" 2>/dev/null
            if [ "$(grep -c . "$T/back.json")" = 2 ] && grep -q '"ja4t"' "$T/early.json" &&
               [ "$(tail -n 1 "$T/back.json")" = "$(cat "$T/early.json")" ]; then
                ok
            else
                ko "two -r inputs, the second older ($ext, --workers $w): its event differs from the capture alone"
            fi
        done
    done
    for w in 2 3; do
        "$PINSCOPE" --deterministic --workers $w -r "$T/rot" > "$T/dirw.json" 2>/dev/null
        if [ "$(nofile "$T/dir.json")" = "$(nofile "$T/dirw.json")" ] && cmp -s "$T/dir.json" "$T/dirw.json"; then ok; else ko "-r DIR --workers $w differs"; fi
    done
    mkdir -p "$T/empty"
    expect 1 "-r of a directory without captures" "$PINSCOPE" -r "$T/empty"
fi

# pinscope spki: equal to the openssl pipeline; errors for a non-certificate.
if [ -f tests/golden/certs/root.pem ]; then
    want=$(openssl x509 -pubkey -noout -in tests/golden/certs/root.pem | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64)
    got=$("$PINSCOPE" spki tests/golden/certs/root.pem | cut -d' ' -f1)
    if [ "$want" = "$got" ]; then ok; else ko "spki: $got != $want"; fi
fi
expect 1 "spki of a non-certificate" "$PINSCOPE" spki /etc/hostname

# pinscope policy import: app pin files into a policy that pinscope loads;
# merged into the policy at -o; errors name the file and the line.
PD=tests/unit/data/pins
expect 0 "policy import android" "$PINSCOPE" policy import -o "$T/imp.json" "$PD/android_nsc.xml"
expect 0 "policy import merges into -o" "$PINSCOPE" policy import -o "$T/imp.json" \
    --domain hpkp.example.org "$PD/hpkp_header.txt" "$PD/chromium_static.json" "$PD/chromium.pins"
if grep -q '"domain":	"api.example.com"' "$T/imp.json" && grep -q '"domain":	"hpkp.example.org"' "$T/imp.json" &&
   grep -q '"domain":	"pinningtest.appspot.com"' "$T/imp.json"; then ok; else ko "policy import: merged entries missing"; fi
expect 0 "imported policy loads" "$PINSCOPE" --policy "$T/imp.json" -r "$SAMPLE"
expect 0 "policy import to stdout" "$PINSCOPE" policy import "$PD/dns_tlsa_caa.zone"
if grep -q '"expected_issuers":' "$T/out" && grep -q '"R11"' "$T/out"; then ok; else ko "policy import: CAA issuers missing"; fi
printf '<network-security-config>\n<domain-config>\n<domain>a.example</domain>\n<pin-set>\n<pin digest="SHA-1">x</pin>\n</pin-set>\n</domain-config>\n</network-security-config>\n' > "$T/nsc.xml"
expect 1 "policy import: SHA-1 pin" "$PINSCOPE" policy import "$T/nsc.xml"
if grep -q "nsc.xml:5: <pin digest=\"SHA-1\">: only SHA-256 pins" "$T/err"; then ok; else ko "policy import error: $(cat "$T/err")"; fi
printf '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<network-security-config/>\n' > "$T/xxe.xml"
expect 1 "policy import: DOCTYPE" "$PINSCOPE" policy import --format android "$T/xxe.xml"
expect 1 "policy import: missing file" "$PINSCOPE" policy import "$T/nope.xml"
expect 1 "policy import: unknown format" "$PINSCOPE" policy import /etc/hostname
expect 2 "policy import: no file" "$PINSCOPE" policy import
expect 2 "policy import: bad --format" "$PINSCOPE" policy import --format banana "$PD/android_nsc.xml"
expect 2 "policy import: bad --backup" "$PINSCOPE" policy import --backup nope "$PD/android_nsc.xml"
expect 2 "policy: no subcommand" "$PINSCOPE" policy
expect 0 "policy --help" "$PINSCOPE" policy --help
expect 0 "policy import --help" "$PINSCOPE" policy import --help

# pinscope policy audit: a policy pinning the golden leaf's key (from
# `pinscope spki`), expiring soon, no backup; the ECDSA capture's name has
# no pin set.
leafpin=$("$PINSCOPE" spki tests/golden/certs/leaf_rsa.pem | cut -d' ' -f1)
printf '{"version": 1, "pin_sets": [{"domain": "www.pinscope.test", "pins": ["%s"], "expires": "2026-12-01"}]}\n' "$leafpin" > "$T/audit.json"
AUDIT_R="-r tests/golden/certs_rsa_san.pcap -r tests/golden/certs_ecdsa_fullchain.pcap"
# shellcheck disable=SC2086
expect 0 "policy audit text" "$PINSCOPE" policy audit $AUDIT_R --policy "$T/audit.json" --days 800
if grep -q "matched pins\[0\] $leafpin (certificate 0)" "$T/out" && grep -q "! no backup" "$T/out" &&
   grep -q "! pin set expires soon: expires 2026-12-01" "$T/out" &&
   grep -q "! pinned key $leafpin (pins\[0\]): certificate www.pinscope.test expires 2027-12-27" "$T/out" &&
   grep -q "^  ec.pinscope.test  1 connection" "$T/out"; then ok; else ko "policy audit text: $(head -c 600 "$T/out")"; fi
# shellcheck disable=SC2086
expect 0 "policy audit json" "$PINSCOPE" policy audit $AUDIT_R --policy "$T/audit.json" --format json
if python3 - "$T/out" "$leafpin" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
s = a["pin_sets"][0]
assert s["domain"] == "www.pinscope.test" and s["matched"] == 1 and s["mismatched"] == 0
assert s["chains"][0]["match"]["pin"] == sys.argv[2]
assert s["backup_outside_chains"] is False and s["expiry_status"] == "expires soon"
assert s["expiring_pinned_keys"] == [] and a["days"] == 30
assert [u["sni"] for u in a["unpinned_names"]] == ["ec.pinscope.test"]
PY
then ok; else ko "policy audit json"; fi
expect 2 "policy audit without --policy" "$PINSCOPE" policy audit -r "$SAMPLE"
expect 2 "policy audit --format markdown" "$PINSCOPE" policy audit -r "$SAMPLE" --policy "$T/audit.json" --format markdown
expect 2 "--days outside policy audit" "$PINSCOPE" -r "$SAMPLE" --days 3
expect 1 "policy audit: broken policy" "$PINSCOPE" policy audit -r "$SAMPLE" --policy /etc/hostname

echo "cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
