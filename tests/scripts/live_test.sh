#!/usr/bin/env bash
# Live-capture test: pinscope -i on one end of a veth pair between two
# network namespaces made for this run (198.18.0.1/30 client, 198.18.0.2/30
# server; no other address, nothing leaves the namespaces).
#
#   1. openssl s_server in the server namespace, pinscope -i on the server's
#      veth, a real openssl s_client handshake (TLS 1.3, SNI, ALPN) and a curl
#      one (TLS 1.2); SIGINT must make pinscope flush, exit 0, and its output
#      must hold valid JSON with a tls event 198.18.0.1 -> 198.18.0.2:443
#      carrying the sni and a ja4.  When ngtcp2's example client and server
#      are installed (ngtcp2-client, ngtcp2-server), a QUIC handshake to
#      UDP 443 runs too and must give a tls event with proto UDP and a
#      QUIC JA4 ('q').
#   2. a bad BPF filter and 3. a nonexistent interface must each give a
#      non-zero exit and a one-line error.
#
# Usage: tests/scripts/live_test.sh      (PINSCOPE = binary, default ./pinscope)
# The last line is "live: 1 passed, 0 failed" or "live: 0 passed, 1 failed",
# or "live: skipped" (exit 0) when not root or network namespaces are
# unavailable.  Everything is under timeouts; the whole test stops by itself
# within 60 s.
set -u

ORIG_PWD=$(pwd)
cd "$(dirname "$0")/../.." || exit 1
PINSCOPE=${PINSCOPE:-./pinscope}
case $PINSCOPE in
    /*) ;;
    */*) [ -e "$ORIG_PWD/$PINSCOPE" ] && PINSCOPE=$ORIG_PWD/$PINSCOPE ;;
    *) [ -e "$PINSCOPE" ] && PINSCOPE=./$PINSCOPE ;;
esac
PINSCOPE_ABS=$(cd "$(dirname "$PINSCOPE")" 2>/dev/null && pwd)/$(basename "$PINSCOPE")

C_IP=198.18.0.1
S_IP=198.18.0.2
HOST=www.pinscope.test
NS_C=pinscope-lc-$$
NS_S=pinscope-ls-$$
VETH_C=plc$$
VETH_S=pls$$
WORK=
PIDS=()
NS_MADE=0

skip() { echo "live: $*"; echo "live: skipped"; exit 0; }
[ "$(id -u)" = 0 ] || skip "not root"
command -v ip >/dev/null 2>&1 || skip "no ip(8)"
command -v openssl >/dev/null 2>&1 || skip "no openssl"
command -v timeout >/dev/null 2>&1 || skip "no timeout(1)"

# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.2
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    if [ "$NS_MADE" -eq 1 ]; then
        ip netns del "$NS_C" 2>/dev/null
        ip netns del "$NS_S" 2>/dev/null
    fi
    [ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo "live: interrupted"; echo "live: 0 passed, 1 failed"; exit 1' INT TERM HUP

# Watchdog: the whole test stops within 60 s (a running foreground command,
# itself under a 10 s timeout, finishes before the TERM trap runs).
(
    trap 'kill "$sp" 2>/dev/null; exit 0' TERM
    sleep 48 & sp=$!
    wait "$sp" && kill -TERM $$ 2>/dev/null
) >/dev/null 2>&1 &
PIDS+=("$!")

if ! ip netns add "$NS_C" 2>/dev/null; then skip "ip netns unavailable"; fi
NS_MADE=1
ip netns add "$NS_S" 2>/dev/null || skip "ip netns unavailable"

WORK=$(mktemp -d /tmp/pinscope-live.XXXXXX) || exit 1
failures=()
fail() { failures+=("$*"); echo "FAIL: $*"; }
finish() {
    if [ ${#failures[@]} -eq 0 ]; then
        echo "live: 1 passed, 0 failed"; exit 0
    fi
    echo "live: 0 passed, 1 failed"; exit 1
}

if [ ! -x "$PINSCOPE" ]; then
    fail "pinscope binary not found or not executable: $PINSCOPE"
    finish
fi

sx() { ip netns exec "$NS_S" "$@"; }
cx() { ip netns exec "$NS_C" "$@"; }

ip link add "$VETH_C" netns "$NS_C" type veth peer name "$VETH_S" netns "$NS_S" ||
    { fail "cannot create veth pair"; finish; }
ip -n "$NS_C" addr add "$C_IP/30" dev "$VETH_C"
ip -n "$NS_S" addr add "$S_IP/30" dev "$VETH_S"
ip -n "$NS_C" link set lo up
ip -n "$NS_S" link set lo up
ip -n "$NS_C" link set "$VETH_C" up
ip -n "$NS_S" link set "$VETH_S" up
for _ in $(seq 30); do
    cx ping -c1 -W1 "$S_IP" >/dev/null 2>&1 && break
    sleep 0.1
done

# Throwaway self-signed certificate.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -subj "/CN=$HOST" \
    -addext "subjectAltName=DNS:$HOST" >"$WORK/openssl-req.log" 2>&1 ||
    { fail "cannot make test certificate: $(tail -n 3 "$WORK/openssl-req.log")"; finish; }

# ---- 1. live capture ------------------------------------------------------
# Started with ip netns exec directly (it execs) so $! is the process itself.
ip netns exec "$NS_S" timeout -k 2 40 openssl s_server -accept 443 -naccept 2 -rev \
    -cert "$WORK/cert.pem" -key "$WORK/key.pem" -alpn h2,http/1.1 \
    >"$WORK/server.log" 2>&1 </dev/null &
SERVER_PID=$!
PIDS+=("$SERVER_PID")

OUT=$WORK/out.jsonl
ERR=$WORK/pinscope.err
ip netns exec "$NS_S" timeout -k 2 40 "$PINSCOPE_ABS" -i "$VETH_S" -o "$OUT" \
    >"$WORK/pinscope.out" 2>"$ERR" </dev/null &
PS_PID=$!
PIDS+=("$PS_PID")

listening=0
for _ in $(seq 50); do
    if grep -q "listening on" "$ERR" 2>/dev/null; then listening=1; break; fi
    kill -0 "$PS_PID" 2>/dev/null || break
    sleep 0.1
done
if ! kill -0 "$PS_PID" 2>/dev/null; then
    wait "$PS_PID"
    fail "pinscope -i $VETH_S exited early (status $?): $(tail -n 5 "$ERR")"
    finish
fi
[ $listening -eq 1 ] ||
    echo "warning: pinscope printed no 'listening on' within 5 s; going on"

for _ in $(seq 50); do
    [ -n "$(sx ss -Hltn "sport = :443" 2>/dev/null)" ] && break
    sleep 0.1
done

{ printf 'hello\n'; sleep 2.5; } |
    cx timeout 10 openssl s_client -connect "$S_IP:443" -servername "$HOST" \
        -alpn h2,http/1.1 -tls1_3 -CAfile "$WORK/cert.pem" -verify_return_error \
        >"$WORK/client.log" 2>&1 &
SC_PID=$!
# Regression (batched events): once the traffic pauses, the worker hands
# the events it holds to the output: the s_client connection's event is in
# the file while the connection idles and pinscope still runs.
for _ in $(seq 20); do [ -s "$OUT" ] && break; sleep 0.1; done
[ -s "$OUT" ] || fail "no event in the output 2 s after the handshake, connection idle (events held back)"
wait "$SC_PID" ||
    fail "openssl s_client handshake failed: $(tail -n 3 "$WORK/client.log")"
if command -v curl >/dev/null 2>&1; then
    cx timeout 10 curl -sS -o /dev/null --max-time 5 --tlsv1.2 --tls-max 1.2 \
        --cacert "$WORK/cert.pem" --resolve "$HOST:443:$S_IP" "https://$HOST/" \
        >"$WORK/curl.log" 2>&1
    # s_server -rev does not speak HTTP; only the handshake matters here.
fi
QUIC=0
GTLSSERVER=$(command -v gtlsserver || echo /usr/sbin/gtlsserver)
if command -v gtlsclient >/dev/null 2>&1 && [ -x "$GTLSSERVER" ]; then
    QUIC=1
    ip netns exec "$NS_S" timeout -k 2 20 "$GTLSSERVER" -q "$S_IP" 443 "$WORK/key.pem" \
        "$WORK/cert.pem" >"$WORK/quic-server.log" 2>&1 </dev/null &
    PIDS+=("$!")
    for _ in $(seq 50); do
        [ -n "$(sx ss -Hlun "sport = :443" 2>/dev/null)" ] && break
        sleep 0.1
    done
    cx timeout 10 gtlsclient -q --exit-on-all-streams-close "$S_IP" 443 "https://$HOST/" \
        >"$WORK/quic-client.log" 2>&1 ||
        fail "ngtcp2 QUIC handshake failed: $(tail -n 3 "$WORK/quic-client.log")"
fi
sleep 0.5

kill -INT "$PS_PID" 2>/dev/null
rc=
for _ in $(seq 100); do
    if ! kill -0 "$PS_PID" 2>/dev/null; then wait "$PS_PID"; rc=$?; break; fi
    sleep 0.1
done
if [ -z "$rc" ]; then
    fail "pinscope did not exit within 10 s of SIGINT"
    kill -TERM "$PS_PID" 2>/dev/null   # timeout(1) passes it on
    sleep 1
    kill -KILL "$PS_PID" 2>/dev/null
elif [ "$rc" -ne 0 ]; then
    fail "pinscope exited with status $rc after SIGINT: $(tail -n 5 "$ERR")"
fi

if [ ! -f "$OUT" ]; then
    fail "pinscope wrote no output file"
elif command -v python3 >/dev/null 2>&1; then
    check=$(python3 - "$OUT" "$C_IP" "$S_IP" "$HOST" "$QUIC" <<'EOF'
import json, sys
path, cip, sip, host, want_quic = sys.argv[1:6]
problems, found, tls_events, quic = [], False, 0, False
for n, line in enumerate(open(path, encoding="utf-8", errors="replace"), 1):
    try:
        ev = json.loads(line)
    except ValueError:
        problems.append("line %d is not valid JSON: %.120s" % (n, line)); continue
    if not isinstance(ev, dict) or ev.get("event_type") not in ("tls", "quic"):
        continue
    tls_events += 1
    t = ev.get("tls") or {}
    if (ev.get("proto") == "UDP" and ev.get("src_ip") == cip and ev.get("dest_port") == 443
            and str(t.get("ja4", "")).startswith("q13") and t.get("state") == "complete"):
        quic = quic or "QUIC %s:%s ja4=%s" % (cip, ev.get("src_port"), t["ja4"])
    if (ev.get("src_ip") == cip and ev.get("dest_ip") == sip and ev.get("dest_port") == 443
            and t.get("sni") == host and isinstance(t.get("ja4"), str) and t["ja4"]):
        found = found or "%s:%s -> %s:443 sni=%s ja4=%s" % (cip, ev.get("src_port"), sip,
                                                            host, t["ja4"])
if not found:
    problems.append("no tls event %s -> %s:443 with sni %s and a ja4 (%d tls event(s) in output)"
                    % (cip, sip, host, tls_events))
if want_quic == "1" and not quic:
    problems.append("no complete QUIC tls event (proto UDP, ja4 q13...) from %s" % cip)
if problems:
    print("\n".join(problems))
else:
    print("OK %d tls event(s), one is %s%s" % (tls_events, found, "; " + quic if quic else ""))
EOF
)
    case $check in
        "OK "*) echo "ok: live capture: ${check#OK }" ;;
        *) fail "$check" ;;
    esac
else
    if ! { grep -q "\"src_ip\":\"$C_IP\"" "$OUT" && grep -q "\"sni\":\"$HOST\"" "$OUT" &&
           grep -q '"ja4":"t' "$OUT"; }; then
        fail "no tls event with sni and ja4 in output"
    fi
fi
if [ ${#failures[@]} -ne 0 ]; then
    echo "--- pinscope stderr:"; tail -n 15 "$ERR"
    echo "--- pinscope output:"; head -c 3000 "$OUT" 2>/dev/null; echo
fi

# ---- 2./3. startup errors ---------------------------------------------------
one_line_error() {   # LABEL CMD...
    local label=$1 rc lines; shift
    timeout -k 2 10 "$@" -o "$WORK/err-out.jsonl" >"$WORK/err.stdout" 2>"$WORK/err.stderr" </dev/null
    rc=$?
    lines=$(grep -c . "$WORK/err.stderr")
    if [ $rc -eq 0 ]; then
        fail "$label: exit status 0, expected an error"
    elif [ $rc -eq 124 ]; then
        fail "$label: still running after 10 s, expected an immediate error"
    elif [ $rc -gt 128 ]; then
        fail "$label: killed by signal $((rc - 128))"
    elif [ "$lines" -ne 1 ]; then
        fail "$label: expected a one-line error on stderr, got $lines line(s): $(head -n 5 "$WORK/err.stderr")"
    else
        echo "ok: $label: exit $rc, $(cat "$WORK/err.stderr")"
    fi
}
one_line_error "bad BPF filter" ip netns exec "$NS_S" "$PINSCOPE_ABS" -i "$VETH_S" -f 'not a filter ((('
one_line_error "nonexistent interface" ip netns exec "$NS_S" "$PINSCOPE_ABS" -i "nosuch$$"

finish
