#!/usr/bin/env bash
# Event sinks against real receivers: a real redis-server on a loopback
# port (list and stream), Python unix-dgram and unix-stream receivers, a
# Python syslog socket checking the RFC 3164 framing and PRI, and a file.
# The sinks are driven by `build/tests/test_sink --cat SPEC...` (stdin
# lines, one unit each) until -o is wired into pinscope.
#
#   1. 2000 JSON lines (some long) to all sinks at once: every line arrives,
#      in order, complete, and the driver's counters agree
#   2. syslog facility daemon gives PRI 30; bad specs exit 2 with a message
#   3. Redis outage: redis-server stopped (SHUTDOWN SAVE) mid-run and started
#      again, SINK_DROP: one "connection lost" and one "reconnected"
#      warning, lines in order and complete, and the lines missing are
#      exactly the ones counted as dropped (none with a large queue, some
#      with a small one)
#
# Usage: bash tests/scripts/sink_test.sh   (TEST_SINK = driver binary, else
# built with make).  The last line is "sinks: N passed, M failed", or
# "sinks: skipped" when redis-server is not installed.  Every step runs
# under timeout; the whole test takes a few seconds.
set -u
cd "$(dirname "$0")/../.." || exit 1

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    echo "sinks: skipped (redis-server not installed)"
    exit 0
fi
if [ -z "${TEST_SINK:-}" ]; then
    TEST_SINK=build/tests/test_sink
    if ! timeout 300 make --no-print-directory "$TEST_SINK" >/dev/null; then
        echo "sinks: 0 passed, 1 failed (cannot build $TEST_SINK)"
        exit 1
    fi
fi

T=$(mktemp -d /tmp/sinktest.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT

pass=0
fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL sinks: $*" >&2; }
check() { # check DESCRIPTION CMD...
    local d=$1
    shift
    if "$@"; then ok; else ko "$d"; fi
}

cat > "$T/helper.py" <<'EOF'
import json, os, re, socket, sys

END = '{"end":true}'

def recv_dgram(path, out, syslog_pri=None):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path + ".tmp")
    os.rename(path + ".tmp", path)          # appears only when bound
    hdr = re.compile(r'^<(\d+)>(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) '
                     r'([ 1-3]\d) ([0-2]\d):([0-5]\d):([0-6]\d) pinscope\[(\d+)\]: (.*)$', re.S)
    bad = 0
    with open(out, "w") as f:
        while True:
            m = s.recv(1 << 17).decode("utf-8", "replace")
            if syslog_pri is not None:
                h = hdr.match(m)
                if not h or int(h.group(1)) != syslog_pri or m.endswith("\n"):
                    bad += 1
                    print("bad syslog framing: %r" % m[:120], file=sys.stderr)
                    continue
                m = h.group(8)
            f.write(m + "\n")
            if m == END:
                break
    return 1 if bad else 0

def recv_stream(path, out):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path + ".tmp")
    s.listen(4)
    os.rename(path + ".tmp", path)
    c, _ = s.accept()
    with open(out, "wb") as f:
        while True:
            b = c.recv(65536)
            if not b:
                break
            f.write(b)
    return 0

def gen(n, first=1):
    for i in range(first, first + n):
        pad = "x" * (3000 if i % 97 == 0 else i % 50)
        sys.stdout.write(json.dumps({"n": i, "pad": pad, "s": "a\"b\\c\u00e9"},
                                    separators=(",", ":")) + "\n")
    sys.stdout.write(END + "\n")
    return 0

def slow_gen(n, delay):
    import time
    for i in range(1, n + 1):
        sys.stdout.write(json.dumps({"n": i}, separators=(",", ":")) + "\n")
        sys.stdout.flush()
        time.sleep(delay)
    return 0

def check(path, n, allow_gaps=False, stride=1):
    """Lines are {"n":1..n} in order (then END), complete JSON, no duplicate;
    with allow_gaps, increasing only, where a line repeated right after
    itself counts once (a command whose reply was lost with the connection
    is sent again).  Prints the count of distinct n-lines."""
    lines = open(path, encoding="utf-8").read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = lines[stride - 1::stride]
    last = 0
    count = 0
    for l in lines:
        if l == END:
            continue
        try:
            k = json.loads(l)["n"]
        except Exception:
            print("bad line: %r" % l[:100], file=sys.stderr)
            return 1
        if allow_gaps and k == last:
            continue                        # resent after a lost reply
        if (k != last + 1) if not allow_gaps else (k < last):
            print("out of order: %d after %d" % (k, last), file=sys.stderr)
            return 1
        last = k
        count += 1
    print(count)
    if not allow_gaps and count != n:
        print("got %d lines, want %d" % (count, n), file=sys.stderr)
        return 1
    return 0

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()
    return 0

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "dgram": sys.exit(recv_dgram(args[0], args[1]))
if cmd == "syslog": sys.exit(recv_dgram(args[0], args[1], int(args[2])))
if cmd == "stream": sys.exit(recv_stream(args[0], args[1]))
if cmd == "gen": sys.exit(gen(int(args[0])))
if cmd == "slowgen": sys.exit(slow_gen(int(args[0]), float(args[1])))
if cmd == "check":
    sys.exit(check(args[0], int(args[1]), len(args) > 2 and args[2] == "gaps",
                   int(args[3]) if len(args) > 3 else 1))
if cmd == "port": sys.exit(free_port())
sys.exit(2)
EOF
# The interpreter itself, not a version-manager shim that costs ~0.5 s a call.
PYTHON=$(timeout 10 python3 -c 'import sys; print(sys.executable)')
PY="timeout 30 ${PYTHON:-python3} $T/helper.py"

quiet() { "$@" > /dev/null; }

wait_for() { # wait_for FILE: up to 5 s for a socket/file to appear
    for _ in $(seq 50); do [ -e "$1" ] && return 0; sleep 0.1; done
    return 1
}

PORT=$($PY port)
start_redis() {
    (cd "$T" && exec timeout 60 redis-server --port "$PORT" --bind 127.0.0.1 --save '' \
        --appendonly no --daemonize no --dir "$T" --dbfilename dump.rdb \
        >>"$T/redis.log" 2>&1) &
    REDIS_PID=$!
    PIDS+=("$REDIS_PID")
    for _ in $(seq 50); do
        [ "$(timeout 2 redis-cli -p "$PORT" ping 2>/dev/null)" = PONG ] && return 0
        sleep 0.1
    done
    return 1
}
RCLI="timeout 10 redis-cli -p $PORT"
if ! start_redis; then
    ko "redis-server did not start on port $PORT"
    tail -n 5 "$T/redis.log" >&2
    echo "sinks: $pass passed, $fail failed"
    exit 1
fi

# ---- 1. every sink at once ----
N=2000
$PY dgram "$T/dgram.sock" "$T/dgram.out" &
P_DG=$!
$PY stream "$T/stream.sock" "$T/stream.out" &
P_ST=$!
$PY syslog "$T/log.sock" "$T/syslog.out" 134 &
P_SL=$!
PIDS+=("$P_DG" "$P_ST" "$P_SL")
wait_for "$T/dgram.sock" && wait_for "$T/stream.sock" && wait_for "$T/log.sock" ||
    ko "receivers did not start"

$PY gen $N > "$T/input"
timeout 30 "$TEST_SINK" --cat "$T/file.out" "unix-dgram:$T/dgram.sock" \
    "unix-stream:$T/stream.sock" "syslog:local0:$T/log.sock" \
    "redis://127.0.0.1:$PORT/list/ev" "redis://127.0.0.1:$PORT/stream/evs" \
    < "$T/input" > "$T/cat.out" 2> "$T/cat.err"
rc=$?
check "driver exits 0 (rc $rc: $(head -c 300 "$T/cat.err"))" [ $rc = 0 ]
check "six sinks report written=$((N + 1)) dropped=0 errors=0" \
    [ "$(grep -c "written=$((N + 1)) dropped=0 errors=0 close=0" "$T/cat.out")" = 6 ]
check "driver is quiet on stderr" [ ! -s "$T/cat.err" ]

for p in "$P_DG" "$P_ST" "$P_SL"; do
    timeout 10 tail --pid="$p" -f /dev/null
done
wait "$P_DG"; check "dgram receiver ok" [ $? = 0 ]
wait "$P_ST"; check "stream receiver ok" [ $? = 0 ]
wait "$P_SL"; check "syslog framing and PRI 134 (local0.info) on every message" [ $? = 0 ]

check "file: all lines in order, complete" quiet $PY check "$T/file.out" $N
check "file: byte-identical to the input" cmp -s "$T/input" "$T/file.out"
check "unix-dgram: all lines, one datagram each, in order" quiet $PY check "$T/dgram.out" $N
check "unix-stream: byte-identical to the input" cmp -s "$T/input" "$T/stream.out"
check "syslog: all lines in order" quiet $PY check "$T/syslog.out" $N
check "redis list: LLEN $((N + 1))" [ "$($RCLI LLEN ev)" = $((N + 1)) ]
$RCLI --raw LRANGE ev 0 -1 > "$T/list.out"
check "redis list: all lines in order, complete" quiet $PY check "$T/list.out" $N
check "redis list: identical to the input" cmp -s "$T/input" "$T/list.out"
check "redis stream: XLEN $((N + 1))" [ "$($RCLI XLEN evs)" = $((N + 1)) ]
$RCLI --raw XRANGE evs - + > "$T/xrange.out"
check "redis stream: field 'event' on every entry" \
    [ "$(awk 'NR % 3 == 2' "$T/xrange.out" | sort -u)" = event ]
check "redis stream: all lines in order, complete" quiet $PY check "$T/xrange.out" $N "" 3

# ---- 2. facility daemon; bad specs ----
$PY syslog "$T/log2.sock" "$T/syslog2.out" 30 &
P_SL2=$!
PIDS+=("$P_SL2")
wait_for "$T/log2.sock"
printf '%s\n' '{"n":1}' '{"end":true}' |
    timeout 10 "$TEST_SINK" --cat "syslog:daemon:$T/log2.sock" > /dev/null 2>&1
timeout 10 tail --pid="$P_SL2" -f /dev/null
wait "$P_SL2"; check "syslog daemon.info is PRI 30" [ $? = 0 ]

for spec in "syslog:kern" "redis://127.0.0.1:$PORT/hash/k" "ftp://x" "unix-dgram:$T/none.sock" \
    "redis://127.0.0.1:1/list/k"; do
    echo x | timeout 10 "$TEST_SINK" --cat "$spec" > /dev/null 2> "$T/bad.err"
    rc=$?
    lines=$(wc -l < "$T/bad.err")
    check "bad spec '$spec': exit 2 with one line on stderr (rc $rc, $lines lines)" \
        [ "$rc.$lines" = 2.1 ]
done

# ---- 3. Redis outage with SINK_DROP ----
# outage NAME QUEUE: 400 lines at 200/s, redis stopped after ~0.6 s for ~1 s.
outage() {
    local key=$1 queue=$2 n=400
    $PY slowgen $n 0.005 |
        timeout 30 "$TEST_SINK" --cat --drop --queue "$queue" \
            "redis://127.0.0.1:$PORT/list/$key" > "$T/$key.cat" 2> "$T/$key.err" &
    local p=$!
    sleep 0.6
    $RCLI SHUTDOWN SAVE > /dev/null 2>&1
    wait "$REDIS_PID" 2>/dev/null
    sleep 1
    start_redis || ko "$key: redis-server did not restart"
    timeout 30 tail --pid="$p" -f /dev/null
    wait "$p"
    cat "$T/$key.err"
    local got dropped
    $RCLI --raw LRANGE "$key" 0 -1 > "$T/$key.out"
    got=$($PY check "$T/$key.out" $n gaps)
    check "$key: lines in order, complete" [ -n "$got" ]
    dropped=$(sed -nE 's/.* dropped=([0-9]+) .*/\1/p' "$T/$key.cat")
    check "$key: delivered (${got:-?}) + dropped (${dropped:-?}) = $n" \
        [ "$((${got:-0} + ${dropped:-0}))" = $n ]
    check "$key: one 'connection lost' warning" \
        [ "$(grep -c 'connection lost' "$T/$key.err")" = 1 ]
    check "$key: one 'reconnected' line" [ "$(grep -c 'reconnected' "$T/$key.err")" = 1 ]
    if [ "$queue" -lt 4096 ]; then
        check "$key: small queue overflowed during the outage (dropped ${dropped:-?})" \
            [ "${dropped:-0}" -gt 0 ]
        check "$key: one 'dropping' warning" [ "$(grep -c 'dropping events' "$T/$key.err")" = 1 ]
    else
        check "$key: large queue kept every line" [ "${dropped:-x}" = 0 ]
    fi
}
outage outage_big 1048576
outage outage_small 1024

echo "sinks: $pass passed, $fail failed"
[ $fail = 0 ]
