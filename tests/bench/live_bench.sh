#!/usr/bin/env bash
# live_bench.sh - the highest replay rate at which a two-worker sensor drops
# nothing, measured with the kernel's own counters.
#
#   tests/bench/live_bench.sh BENCH.pcap      (called by run_bench.sh, root)
#
# Two network namespaces joined by a veth (198.18.0.1/30, 198.18.0.2/30;
# nothing leaves them).  The first LIVE_PACKETS packets of the benchmark
# capture are replayed from one end with tcpreplay at increasing --pps
# rates, then at --topspeed; on the other end `pinscope -i --workers 2`
# (PACKET_FANOUT hash) runs with a final stats event.  Per rate the table
# gives the rate tcpreplay achieved, what the kernel handed to the sockets
# (capture_received), what it dropped (capture_drops + capture_ifdrops) and
# the TLS events written; the last line names the highest achieved rate
# with no drop.  Both CPUs are shared between tcpreplay and the workers,
# so the figure is a floor for a sensor on its own cores.
#
# Environment: PINSCOPE (default ./pinscope), LIVE_PACKETS (default 150000),
# LIVE_RATES (default "25000 50000 100000 200000 topspeed"), LIVE_WORKERS (2).
set -u
cd "$(dirname "$0")/../.." || exit 1
PCAP=${1:?usage: live_bench.sh BENCH.pcap}
PINSCOPE=${PINSCOPE:-./pinscope}
case $PINSCOPE in /*) ;; *) PINSCOPE=$(pwd)/$PINSCOPE ;; esac
LIVE_PACKETS=${LIVE_PACKETS:-150000}
LIVE_RATES=${LIVE_RATES:-"25000 50000 100000 200000 topspeed"}
LIVE_WORKERS=${LIVE_WORKERS:-2}

[ "$(id -u)" = 0 ] || { echo "live bench: skipped (not root)"; exit 0; }
command -v tcpreplay >/dev/null 2>&1 || { echo "live bench: skipped (no tcpreplay)"; exit 0; }
command -v editcap >/dev/null 2>&1 || { echo "live bench: skipped (no editcap)"; exit 0; }

WORK=$(mktemp -d /tmp/pinscope-livebench.XXXXXX) || exit 1
NETNS_TAG=livebench
# shellcheck source=tests/scripts/netns_lib.sh
. tests/scripts/netns_lib.sh
netns_setup plb || { echo "live bench: skipped (no network namespaces)"; exit 0; }

editcap -r "$PCAP" "$WORK/live.pcap" "1-$LIVE_PACKETS" >/dev/null 2>&1 ||
    { echo "live bench: cannot cut $PCAP"; exit 1; }
cat "$WORK/live.pcap" >/dev/null

best=none
printf '\nlive sensor (%s workers, fanout hash), %s packets replayed per rate:\n' "$LIVE_WORKERS" "$LIVE_PACKETS"
printf '%-10s %12s %12s %10s %10s\n' "requested" "achieved pps" "received" "dropped" "tls events"
for rate in $LIVE_RATES; do
    out=$WORK/ev-$rate.json
    ip netns exec "$NS_S" "$PINSCOPE" -i "$VETH_S" --workers "$LIVE_WORKERS" --stats \
        --buffer-size 64 -o "$out" 2>"$WORK/ps-$rate.err" </dev/null &
    pid=$!
    PIDS+=("$pid")
    for _ in $(seq 100); do grep -q "listening on" "$WORK/ps-$rate.err" 2>/dev/null && break; sleep 0.05; done
    sleep 0.3
    if [ "$rate" = topspeed ]; then arg=--topspeed; else arg=--pps=$rate; fi
    ip netns exec "$NS_C" timeout 120 tcpreplay "$arg" -i "$VETH_C" "$WORK/live.pcap" \
        >"$WORK/rp-$rate.log" 2>&1
    sleep 1
    kill -TERM "$pid"
    wait "$pid"
    achieved=$(sed -n 's/.*Rated: [0-9.]* Bps, [0-9.]* Mbps, \([0-9.]*\) pps.*/\1/p' "$WORK/rp-$rate.log" | head -n 1)
    python3 - "$out" >"$WORK/st-$rate.txt" <<'EOF'
import json, sys
st, tls = {}, 0
for raw in open(sys.argv[1], "rb"):
    e = json.loads(raw)
    if e["event_type"] == "stats":
        st = e["stats"]
    elif e["event_type"] == "tls":
        tls += 1
print(st.get("capture_received", 0), st.get("capture_drops", 0) + st.get("capture_ifdrops", 0), tls)
EOF
    read -r recv drop tls <"$WORK/st-$rate.txt"
    printf '%-10s %12s %12s %10s %10s\n' "$rate" "${achieved:-?}" "$recv" "$drop" "$tls"
    if [ "${drop:-1}" = 0 ] && [ -n "$achieved" ]; then best=$achieved; fi
done
echo "highest replay rate with no kernel drop: $best pps"
