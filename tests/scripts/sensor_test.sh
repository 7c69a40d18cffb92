#!/usr/bin/env bash
# Sensor test: pinscope -i as a 24/7 sensor, fed by tcpreplay on a veth pair
# between two network namespaces made for this run (198.18.0.1/30 and
# 198.18.0.2/30; nothing leaves them).  Real components only: tcpreplay,
# redis-server on loopback, a Unix-socket reader, /proc.
#
#   1. live equals offline: a synthetic capture (tests/bench/gen_bench.c,
#      300 TLS connections) replayed at a fixed rate while pinscope -i runs
#      with --workers 2 (PACKET_FANOUT hash) gives the same connections
#      (addresses, ports, sni, ja4, ja4s, chain) as -r on the same file;
#      kernel drops 0.
#   2. log rotation under replay: mv events.json events.1 + SIGHUP mid-run;
#      the new file gets the rest and the union of the two is complete.
#   3. unprivileged: -Z nobody; /proc/PID/status shows nobody's uid and
#      CapEff 0 while it runs; SIGHUP reopen still works after the drop.
#   4. stats: --stats-interval and SIGUSR1 write stats events with both
#      workers' counters and the kernel's.
#   5. a second, stalled output (a Unix-socket reader that never reads):
#      the stalled sink drops and counts, the file sink keeps every event,
#      pinscope's memory stays bounded.
#   6. reload (after -Z nobody): a policy that pins differently changes the
#      alerts from then on; a broken policy is refused with one error line
#      and the previous one stays in force.
#   7. SIGTERM mid-replay: exit 0, every line complete JSON, the open
#      connections reported.
#   8. kill -9 mid-replay: at most the last line incomplete, and the next
#      run appending to the file does not glue onto it; -o /dev/full and
#      stdout into a closed pipe: the sensor stops by itself, exit 1.
#   9. outputs end to end: pinscope -r ... with -o redis://.../list/K,
#      -o redis://.../stream/K (a real redis-server), -o unix-dgram:,
#      -o syslog:local3:SOCKET (Python readers) and a file: every event
#      arrives everywhere, in order.
#
# pinscope runs under `ip netns exec` directly (it execs), so $! is
# pinscope itself and signals reach it unchanged; the EXIT trap kills
# whatever is still running.
#
# Usage: tests/scripts/sensor_test.sh   (PINSCOPE = binary, default ./pinscope)
# Last line "sensor: N passed, M failed"; "sensor: skipped" (exit 0) when
# not root, or network namespaces or tcpreplay are unavailable.  Every step
# is under a timeout; the whole test ends within ~120 s.
set -u

ORIG_PWD=$(pwd)
cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd)
PINSCOPE=${PINSCOPE:-./pinscope}
case $PINSCOPE in
    /*) ;;
    *) PINSCOPE=$ORIG_PWD/$PINSCOPE ;;
esac

skip() { echo "sensor: $*"; echo "sensor: skipped"; exit 0; }
[ "$(id -u)" = 0 ] || skip "not root"
command -v tcpreplay >/dev/null 2>&1 || skip "no tcpreplay"
command -v ip >/dev/null 2>&1 || skip "no ip(8)"
[ -x "$PINSCOPE" ] || { echo "sensor: no binary $PINSCOPE"; echo "sensor: 0 passed, 1 failed"; exit 1; }

WORK=$(mktemp -d /tmp/pinscope-sensor.XXXXXX) || exit 1
chmod 755 "$WORK"
NETNS_TAG=sensor
# shellcheck source=tests/scripts/netns_lib.sh
. tests/scripts/netns_lib.sh
netns_setup psens || skip "ip netns unavailable"

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
ko() { fail=$((fail + 1)); echo "FAIL $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else ko "$what"; fi; }

OUT=$WORK/out          # writable by nobody: the sensor reopens files here after -Z
mkdir -p "$OUT" && chmod 777 "$OUT"

# A replay capture: 300 synthetic TLS connections (TLS 1.2 chains in clear,
# TLS 1.3, IPv6, VLAN tags, split hellos).
cc -O2 -o "$WORK/gen_bench" tests/bench/gen_bench.c -lcrypto 2>"$WORK/cc.log" ||
    { ko "build gen_bench: $(tail -n 3 "$WORK/cc.log")"; echo "sensor: $pass passed, $fail failed"; exit 1; }
"$WORK/gen_bench" "$WORK/replay.pcap" 300 11 >/dev/null 2>&1
NOBODY_UID=$(id -u nobody)

# sensor NAME ARGS...: pinscope -i on the server's veth in the background
# (stderr in ERR=$WORK/NAME.err, pid in SPID); returns once it listens.
sensor() {
    local name=$1
    shift
    ERR=$WORK/$name.err
    ip netns exec "$NS_S" "$PINSCOPE" -i "$VETH_S" "$@" 2>"$ERR" </dev/null &
    SPID=$!
    PIDS+=("$SPID")
    for _ in $(seq 100); do grep -q "listening on" "$ERR" 2>/dev/null && break; sleep 0.05; done
    sleep 0.3
}

# Connection keys of the tls events in FILE... (valid JSON lines only),
# sorted; with --strict every line must be valid JSON.
keys() {
    python3 - "$@" <<'EOF'
import json, sys
strict = sys.argv[1] == "--strict"
files = sys.argv[2:] if strict else sys.argv[1:]
bad = 0
out = set()
for fn in files:
    with open(fn, "rb") as f:
        for raw in f:
            try:
                e = json.loads(raw)
            except Exception:
                bad += 1
                continue
            if e.get("event_type") not in ("tls", "quic"):
                continue
            t = e["tls"]
            chain = ",".join(c.get("sha256", "") for c in t.get("x509_chain", []))
            out.add("%s|%s|%s|%s|%s|%s|%s|%s" % (e["src_ip"], e["src_port"], e["dest_ip"],
                    e["dest_port"], t.get("sni"), t.get("ja4"), t.get("ja4s"), chain))
if strict and bad:
    print("INVALID %d" % bad)
for k in sorted(out):
    print(k)
EOF
}

# Offline reference.
"$PINSCOPE" -r "$WORK/replay.pcap" -o "$WORK/offline.json" 2>"$WORK/offline.err"
keys --strict "$WORK/offline.json" >"$WORK/offline.keys"
NREF=$(wc -l <"$WORK/offline.keys")
check "offline reference has 300 connections ($NREF)" [ "$NREF" -eq 300 ]

# ---- 1-5: live, two workers, rotation, privilege drop, stats, stalled sink --
# The stalled reader: accepts, never reads.
python3 - "$WORK/stall.sock" >/dev/null 2>&1 <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
time.sleep(120)
EOF
PIDS+=("$!")
for _ in $(seq 50); do [ -S "$WORK/stall.sock" ] && break; sleep 0.1; done
chmod 777 "$WORK/stall.sock"

sensor sensor --workers 2 --fanout hash \
    -o "file:$OUT/events.json" -o "unix-stream:$WORK/stall.sock" --queue-size 256k \
    --stats-interval 1 -Z nobody --pidfile "$OUT/pinscope.pid"
if ! kill -0 "$SPID" 2>/dev/null; then
    ko "sensor did not start: $(tail -n 3 "$ERR")"
    echo "sensor: $pass passed, $fail failed"; exit 1
fi

# 3. privileges, read while it runs.
st=/proc/$SPID/status
check "uid is nobody after -Z" grep -Eq "^Uid:[[:space:]]+$NOBODY_UID[[:space:]]+$NOBODY_UID[[:space:]]+$NOBODY_UID" "$st"
check "no effective capabilities" grep -Eq '^CapEff:[[:space:]]+0+$' "$st"
check "no bounding capabilities" grep -Eq '^CapBnd:[[:space:]]+0+$' "$st"
check "no_new_privs set" grep -Eq '^NoNewPrivs:[[:space:]]+1' "$st"
check "pidfile names the process" [ "$(cat "$OUT/pinscope.pid" 2>/dev/null)" = "$SPID" ]
RSS0=$(awk '/^VmRSS/ {print $2}' "$st")

# 2. replay at 6000 packets/s; rotate in the middle.
ip netns exec "$NS_C" timeout 60 tcpreplay -q --pps=6000 -i "$VETH_C" "$WORK/replay.pcap" \
    >"$WORK/replay.log" 2>&1 &
RP=$!
sleep 2
mv "$OUT/events.json" "$OUT/events.1"
kill -HUP "$SPID"
wait "$RP"
check "tcpreplay completed" grep -q "Actual:" "$WORK/replay.log"
sleep 1.5
kill -USR1 "$SPID"
sleep 0.5
RSS1=$(awk '/^VmRSS/ {print $2}' "$st" 2>/dev/null)
kill -TERM "$SPID"
wait "$SPID"
rc=$?
check "sensor exits 0 on SIGTERM (got $rc)" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || tail -n 5 "$ERR"
check "the new file got events after SIGHUP" [ -s "$OUT/events.json" ]
check "the rotated file holds the events before it" [ -s "$OUT/events.1" ]
keys --strict "$OUT/events.1" "$OUT/events.json" >"$WORK/live.keys"
check "every line of both files is complete JSON" sh -c "! grep -q INVALID '$WORK/live.keys'"
if diff "$WORK/offline.keys" "$WORK/live.keys" >"$WORK/live.diff"; then
    ok "live (2 workers, rotated) equals offline: $NREF connections"
else
    ko "live differs from offline: $(grep -c '^<' "$WORK/live.diff") missing, $(grep -c '^>' "$WORK/live.diff") extra"
    head -n 6 "$WORK/live.diff"
fi
check "one line on stderr for the reopen" grep -q "SIGHUP" "$ERR"
python3 - "$OUT/events.1" "$OUT/events.json" >"$WORK/stats.txt" <<'EOF'
import json, sys
stats = []
for fn in sys.argv[1:]:
    for raw in open(fn, "rb"):
        try:
            e = json.loads(raw)
        except Exception:
            continue
        if e.get("event_type") == "stats":
            stats.append(e["stats"])
last = stats[-1] if stats else {}
workers = last.get("workers", [])
sinks = {s["name"]: s for s in last.get("sinks", [])}
stall = [s for n, s in sinks.items() if n.startswith("unix-stream:")]
print("n_stats=%d" % len(stats))
print("workers=%d" % len(workers))
print("busy_workers=%d" % sum(1 for w in workers if w.get("tls_events", 0) > 0))
print("received=%d" % last.get("capture_received", 0))
print("drops=%d" % (last.get("capture_drops", 0) + last.get("capture_ifdrops", 0)))
print("stall_dropped=%d" % (stall[0]["dropped"] if stall else -1))
print("file_dropped=%d" % sum(s["dropped"] for n, s in sinks.items() if n.startswith("file:")))
EOF
. "$WORK/stats.txt" 2>/dev/null || true
check "periodic and SIGUSR1 stats events (${n_stats:-0})" [ "${n_stats:-0}" -ge 3 ]
check "stats list 2 workers, both busy (${busy_workers:-0})" [ "${workers:-0}" -eq 2 ] && [ "${busy_workers:-0}" -eq 2 ]
check "kernel counters: received ${received:-0}, dropped ${drops:--1}" [ "${received:-0}" -gt 0 ] && [ "${drops:-1}" -eq 0 ]
check "stalled sink dropped and counted (${stall_dropped:--1})" [ "${stall_dropped:--1}" -gt 0 ]
check "file sink dropped nothing (${file_dropped:--1})" [ "${file_dropped:--1}" -eq 0 ]
check "memory bounded with a stalled sink (RSS ${RSS0} -> ${RSS1} KiB)" [ "${RSS1:-999999}" -lt $((RSS0 + 65536)) ]
check "pidfile left alone or removed, never stale for another pid" sh -c "[ ! -e '$OUT/pinscope.pid' ] || [ \"\$(cat '$OUT/pinscope.pid')\" = '$SPID' ]"

# ---- 6. reload --------------------------------------------------------------
python3 - samples/policy.json "$WORK/policy_b.json" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
for ps in p["pin_sets"]:
    if ps["domain"] == "www.bank.test":
        ps["pins"] = ["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="]
json.dump(p, open(sys.argv[2], "w"), indent=1)
EOF
cp samples/policy.json "$OUT/policy.json"
chmod 644 "$OUT/policy.json"
pinmis() {   # alerts "pin" in FILE for www.bank.test, by source port
    python3 - "$1" <<'EOF'
import json, sys
for raw in open(sys.argv[1], "rb"):
    try:
        e = json.loads(raw)
    except Exception:
        continue
    if e.get("event_type") == "alert" and "pin" in e["alert"]["signature"]:
        print(e["src_port"])
EOF
}
# The test can fail: under policy B the clean capture does alert.
"$PINSCOPE" -r samples/clean_openssl_tls12.pcap --policy "$WORK/policy_b.json" -o "$WORK/b_offline.json" 2>/dev/null
check "policy B alerts on the clean capture offline" [ -n "$(pinmis "$WORK/b_offline.json")" ]

sensor reload --policy "$OUT/policy.json" -o "$OUT/reload.json" -Z nobody
replay() { ip netns exec "$NS_C" timeout 20 tcpreplay -q --pps=200 -i "$VETH_C" "$1" >/dev/null 2>&1; sleep 0.5; }
replay samples/clean_curl_tls12.pcap          # policy A: no alert (port 47724)
cp "$WORK/policy_b.json" "$OUT/policy.json"
kill -HUP "$SPID"; sleep 0.5
replay samples/clean_openssl_tls12.pcap       # policy B: alert (port 38396)
echo '{ "version": 1, "pin_sets": [ broken' >"$OUT/policy.json"
kill -HUP "$SPID"; sleep 0.5
replay samples/clean_gnutls_tls12.pcap        # broken: B stays, alert (port 37524)
kill -TERM "$SPID"; wait "$SPID"
ports=$(pinmis "$OUT/reload.json" | sort -n | tr '\n' ' ')
check "no pin alert before the reload" sh -c "! echo '$ports' | grep -qw 47724"
check "pin alert after reloading policy B" sh -c "echo '$ports' | grep -qw 38396"
check "broken policy refused, B still in force" sh -c "echo '$ports' | grep -qw 37524"
check "one error line names the broken file" grep -q "policy.json" "$ERR"
check "reload refusal is said once" [ "$(grep -c 'reload failed' "$ERR")" -eq 1 ]

# ---- 7. SIGTERM mid-replay --------------------------------------------------
sensor term --workers 2 -o "$OUT/term.json"
ip netns exec "$NS_C" timeout 30 tcpreplay -q --pps=3000 -i "$VETH_C" "$WORK/replay.pcap" >/dev/null 2>&1 &
RP=$!
sleep 2
kill -TERM "$SPID"
wait "$SPID"
rc=$?
kill "$RP" 2>/dev/null; wait "$RP" 2>/dev/null
check "SIGTERM mid-replay exits 0 (got $rc)" [ "$rc" -eq 0 ]
keys --strict "$OUT/term.json" >"$WORK/term.keys"
check "SIGTERM: every line complete JSON" sh -c "! grep -q INVALID '$WORK/term.keys'"
check "SIGTERM: open connections were reported" grep -q '"end":"end_of_input"' "$OUT/term.json"

# ---- 8. kill -9 mid-replay --------------------------------------------------
sensor kill -o "$OUT/kill.json"
ip netns exec "$NS_C" timeout 30 tcpreplay -q --pps=3000 -i "$VETH_C" "$WORK/replay.pcap" >/dev/null 2>&1 &
RP=$!
sleep 2
kill -KILL "$SPID"
wait "$SPID" 2>/dev/null
kill "$RP" 2>/dev/null; wait "$RP" 2>/dev/null
"$PINSCOPE" -r samples/clean_curl_tls12.pcap -o "$OUT/kill.json" 2>"$WORK/kill2.err" || echo "second run failed: $(cat "$WORK/kill2.err")"
tail -c 300 "$OUT/kill.json"; echo
python3 - "$OUT/kill.json" >"$WORK/kill.txt" <<'EOF'
import json, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
if lines and lines[-1] == b"":
    lines.pop()
bad = [i for i, l in enumerate(lines) if not l.startswith(b"{") or not _ok(l)] if False else []
bad = []
for i, l in enumerate(lines):
    try:
        json.loads(l)
    except Exception:
        bad.append(i)
last_ok = False
try:
    last_ok = json.loads(lines[-1]).get("tls", {}).get("sni") == "www.bank.test"
except Exception:
    pass
print("lines=%d bad=%d bad_not_before_last=%d last_ok=%d" % (len(lines), len(bad),
      sum(1 for i in bad if i != len(lines) - 2), last_ok))
EOF
cat "$WORK/kill.txt"
check "kill -9: at most one torn line, and only the last of its run" grep -Eq 'bad=[01] bad_not_before_last=0' "$WORK/kill.txt"
check "the next run's first event is not glued onto it" grep -q 'last_ok=1' "$WORK/kill.txt"

# ---- 8b. an output that cannot be written, live ------------------------------
# /dev/full, and stdout into a pipe whose reader exits after 200 bytes: the
# sensor stops by itself with exit 1 and names the output, instead of
# capturing on with every event lost.
sensor full -o /dev/full
ip netns exec "$NS_C" timeout 30 tcpreplay -q --pps=3000 -i "$VETH_C" "$WORK/replay.pcap" >/dev/null 2>&1 &
RP=$!
for _ in $(seq 150); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
alive=0
kill -0 "$SPID" 2>/dev/null && alive=1
kill "$SPID" 2>/dev/null
wait "$SPID"
rc=$?
kill "$RP" 2>/dev/null; wait "$RP" 2>/dev/null
check "live -o /dev/full: stops by itself, exit 1 (alive $alive, rc $rc)" [ "$alive" = 0 ] && [ "$rc" = 1 ]
check "live -o /dev/full: says which output" grep -q "every output is failing (output /dev/full failing)" "$ERR"
rm -f "$WORK/pipe.rc"
(ip netns exec "$NS_S" timeout 60 "$PINSCOPE" -i "$VETH_S" 2>"$WORK/pipe.err" </dev/null
 echo $? >"$WORK/pipe.rc") | head -c 200 >/dev/null &
PIPE_JOB=$!
for _ in $(seq 100); do grep -q "listening on" "$WORK/pipe.err" 2>/dev/null && break; sleep 0.05; done
sleep 0.3
ip netns exec "$NS_C" timeout 30 tcpreplay -q --pps=3000 -i "$VETH_C" "$WORK/replay.pcap" >/dev/null 2>&1 &
RP=$!
for _ in $(seq 150); do [ -s "$WORK/pipe.rc" ] && break; sleep 0.1; done
kill "$RP" 2>/dev/null; wait "$RP" 2>/dev/null
wait "$PIPE_JOB" 2>/dev/null
check "live, stdout to a closed pipe: stops by itself, exit 1 ($(cat "$WORK/pipe.rc" 2>/dev/null))" [ "$(cat "$WORK/pipe.rc" 2>/dev/null)" = 1 ]
check "live, closed pipe: says so" grep -q "Broken pipe" "$WORK/pipe.err"

# ---- 9. Redis ---------------------------------------------------------------
if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
    RPORT=$((20000 + $$ % 20000))
    redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$WORK" >"$WORK/redis.log" 2>&1 &
    PIDS+=("$!")
    for _ in $(seq 50); do redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
    # Unix datagram and syslog readers: every datagram to a file, until a
    # quiet second after the first one.
    for kind in dgram syslog; do
        python3 - "$WORK/$kind.sock" "$WORK/$kind.out" >/dev/null 2>&1 <<'PYEOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind(sys.argv[1])
out = open(sys.argv[2], "wb")
s.settimeout(30)
first = True
while True:
    try:
        d = s.recv(1 << 20)
    except socket.timeout:
        break
    out.write(d.rstrip(b"\n") + b"\n")
    out.flush()
    if first:
        s.settimeout(2)
        first = False
PYEOF
        PIDS+=("$!")
    done
    for _ in $(seq 50); do [ -S "$WORK/dgram.sock" ] && [ -S "$WORK/syslog.sock" ] && break; sleep 0.1; done
    "$PINSCOPE" -r "$WORK/replay.pcap" -r samples/mitm_socat_curl.pcap --stats \
        -o "redis://127.0.0.1:$RPORT/list/pinscope" -o "redis://127.0.0.1:$RPORT/stream/pinscope-s" \
        -o "unix-dgram:$WORK/dgram.sock" -o "syslog:local3:$WORK/syslog.sock" \
        -o "$WORK/redis_ref.json" 2>"$WORK/redis.err"
    rc=$?
    sleep 2.5
    n=$(wc -l <"$WORK/redis_ref.json")
    check "pinscope -o redis exits 0 (got $rc)" [ "$rc" -eq 0 ]
    check "redis list holds every event ($n)" [ "$(redis-cli -p "$RPORT" llen pinscope)" = "$n" ]
    check "redis stream holds every event ($n)" [ "$(redis-cli -p "$RPORT" xlen pinscope-s)" = "$n" ]
    redis-cli -p "$RPORT" --raw lrange pinscope 0 -1 >"$WORK/redis_list.json"
    check "redis list equals the file, in order" cmp -s "$WORK/redis_list.json" "$WORK/redis_ref.json"
    check "unix-dgram reader got every event, in order" cmp -s "$WORK/dgram.out" "$WORK/redis_ref.json"
    python3 - "$WORK/syslog.out" "$WORK/redis_ref.json" >"$WORK/syslog.chk" 2>&1 <<'PYEOF'
import re, sys
msgs = open(sys.argv[1], "rb").read().splitlines()
ref = open(sys.argv[2], "rb").read().splitlines()
pat = re.compile(rb"^<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d pinscope\[\d+\]: (.*)$")
got = []
for m in msgs:
    r = pat.match(m)
    if not r or int(r.group(1)) != 19 * 8 + 6:   # local3.info
        print("bad syslog framing: %r" % m[:80])
        sys.exit(1)
    got.append(r.group(2))
print("ok" if got == ref else "differs: %d of %d" % (len(got), len(ref)))
PYEOF
    check "syslog reader got every event as RFC 3164 local3.info ($(cat "$WORK/syslog.chk"))" grep -qx ok "$WORK/syslog.chk"
    redis-cli -p "$RPORT" shutdown nosave >/dev/null 2>&1
else
    echo "note: redis-server not installed, redis step not run"
fi

echo "sensor: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
