#!/bin/sh
# run_bench.sh - measures pinscope's throughput and memory on a large capture.
#
# Called by `make bench` from the repository root once ./pinscope is built.
# Builds gen_bench and pcap_loop into build/bench/, writes the benchmark
# capture build/bench/bench.pcap once (kept while the generator source and
# its arguments are unchanged), warms the page cache, then times on that
# same file: pcap_loop (a bare libpcap read-and-decode loop, the ceiling),
# `pinscope -r bench.pcap -o /dev/null` and, when installed, ndpiReader.
# tshark is about a hundred times slower, so it and a second pcap_loop and
# pinscope run get only a slice holding the first BENCH_SLICE packets.
# Wall time is the best of BENCH_REPEAT runs (tshark and ndpiReader: one
# run); peak RSS comes from /usr/bin/time -v.  A last, untimed pinscope run
# writes its JSON lines to build/bench/pinscope.jsonl to check that it
# reports one TLS connection per generated flow.
#
# QUIC: tests/bench/gen_quic.py replays one real QUIC connection (the golden
# udp_quic_v1_keylog capture, ngtcp2 client and server) BENCH_QUIC_FLOWS
# times from distinct client addresses into build/bench/quic.pcap; pinscope
# is timed on it without and with the connection's key log (Initial
# decryption only, then Handshake decryption and the chain too), and must
# report one complete QUIC connection per copy.
#
# Handshake-dense: gen_bench --dense writes build/bench/dense.pcap
# (BENCH_DENSE_FLOWS TLS connections, a handshake every ~17 packets,
# thousands of distinct leaves under 32 intermediates, a third of the TLS
# 1.3 connections really encrypted with their secrets in dense.keylog).
# dense35.pcap is the same world with five request/response exchanges per
# connection instead of one (gen_bench --exchanges 5): a handshake every
# ~34 packets, the least dense capture "at least one handshake per 35
# packets" allows, and the density of the capture the goals were first
# measured on (58,000 TLS flows in 1.9 M packets).
# pinscope reads it with the key log and the default trust store.  The
# report gives, for it and for bench.pcap, the ratio to the plain read +
# decode + flow-table loop (pcap_loop --flows) measured side by side, the
# microseconds of work per TLS connection beyond that loop, the event
# bytes per connection and the peak RSS.
#
# Workers: the same capture with --workers BENCH_WORKERS (one reader, the
# workers fed by flow hash); the report gives the speed-up over one worker
# and the peak RSS of both.  Live: tests/bench/live_bench.sh replays a
# slice of the capture onto a veth at increasing rates with two workers on
# the other end and reports the highest rate with no kernel drop.
#
# Exit status: 0, or 1 when a measured tool fails or pinscope's TLS event
# count differs from the number of flows generated.  When run as root it
# apt-get installs `time` and ndpiReader (libndpi-bin) if they are missing;
# it works without ndpiReader and tshark.
#
# Environment:
#   PINSCOPE        analyser to measure (default ./pinscope)
#   BENCH_FLOWS     TLS flows in the capture (default 40000, ~1.5 GB)
#   BENCH_SEED      generator seed (default 1)
#   BENCH_REPEAT    timed runs of pcap_loop and pinscope, best kept (default 3)
#   BENCH_SLICE     packets in the tshark slice (default 200000)
#   BENCH_QUIC_FLOWS QUIC connections in quic.pcap (default 20000, 0: skip)
#   BENCH_DENSE_FLOWS TLS connections in dense.pcap (default 60000, 0: skip)
#   BENCH_DENSE35   0 to skip dense35.pcap (default 1)
#   BENCH_WORKERS   worker count of the multi-worker row (default 2)
#   BENCH_PRESSURE  0 to skip the memory-pressure rows (gen_pressure.c)
#   BENCH_REPORT    0 to skip the `pinscope report` rows (report_bench.py;
#                   BENCH_REPORT_CONNS connections, default 100000)
#   BENCH_LIVE      0 to skip the live replay measurement (default 1; root,
#                   network namespaces and tcpreplay needed)
#   BENCH_INSTALL   0 to never run apt-get (default 1)
#   BENCH_BASE      another pinscope build (a previous commit's, say) timed
#                   on dense.pcap beside PINSCOPE, run for run: this host's
#                   timings drift minutes apart, so builds are compared this way
#   BENCH_TLS_MATCH grep -F pattern that marks a TLS event line in pinscope's
#                   output (default "event_type":"tls")
set -eu

cd "$(dirname "$0")/../.."

PINSCOPE=${PINSCOPE:-./pinscope}
BENCH_FLOWS=${BENCH_FLOWS:-40000}
BENCH_SEED=${BENCH_SEED:-1}
BENCH_REPEAT=${BENCH_REPEAT:-3}
BENCH_SLICE=${BENCH_SLICE:-200000}
BENCH_QUIC_FLOWS=${BENCH_QUIC_FLOWS:-20000}
BENCH_DENSE_FLOWS=${BENCH_DENSE_FLOWS:-60000}
BENCH_INSTALL=${BENCH_INSTALL:-1}
BENCH_WORKERS=${BENCH_WORKERS:-2}
BENCH_TLS_MATCH=${BENCH_TLS_MATCH:-'"event_type":"tls"'}
CC=${CC:-cc}

OUT=build/bench
PCAP=$OUT/bench.pcap
SLICE=$OUT/slice.pcap
RESULTS=$OUT/results.txt
STATUS=0

have() { command -v "$1" >/dev/null 2>&1; }
say() { printf '%s\n' "$*"; }

mkdir -p "$OUT"

if [ ! -x "$PINSCOPE" ] && ! have "$PINSCOPE"; then
    say "run_bench: $PINSCOPE not found; run make first (or set PINSCOPE)" >&2
    exit 1
fi

# --- optional packages ----------------------------------------------------
apt_install() {
    [ "$BENCH_INSTALL" = 1 ] && [ "$(id -u)" = 0 ] && have apt-get || return 1
    say "run_bench: installing $* (log: $OUT/apt.log)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "$@" >>"$OUT/apt.log" 2>&1 && return 0
    apt-get update -q >>"$OUT/apt.log" 2>&1 &&
        apt-get install -y -q "$@" >>"$OUT/apt.log" 2>&1
}

[ -x /usr/bin/time ] || apt_install time || true
have ndpiReader || apt_install libndpi-bin || true
if [ -x /usr/bin/time ]; then
    TIMER="/usr/bin/time -v -o"
else
    say "run_bench: /usr/bin/time missing, peak RSS will not be reported"
    TIMER=""
fi

# --- build the helpers ------------------------------------------------------
# shellcheck disable=SC2086 # CC may carry flags, e.g. CC="ccache cc"
$CC -O2 -std=c11 -Wall -Wextra -o "$OUT/gen_bench" tests/bench/gen_bench.c -lcrypto
# shellcheck disable=SC2086
$CC -O2 -std=c11 -Wall -Wextra -o "$OUT/pcap_loop" tests/bench/pcap_loop.c -lpcap

# --- the capture, reused while generator and arguments are unchanged -------
KEY="$("$OUT/gen_bench" --version) flows=$BENCH_FLOWS seed=$BENCH_SEED src=$(cksum <tests/bench/gen_bench.c | cut -d' ' -f1)"
if [ -f "$PCAP" ] && [ -f "$PCAP.stamp" ] && [ "$(sed -n 1p "$PCAP.stamp")" = "$KEY" ]; then
    say "run_bench: reusing $PCAP"
else
    say "run_bench: generating $PCAP ($BENCH_FLOWS flows, seed $BENCH_SEED)"
    rm -f "$PCAP" "$PCAP.stamp" "$SLICE"
    "$OUT/gen_bench" "$PCAP.tmp" "$BENCH_FLOWS" "$BENCH_SEED" >"$OUT/gen.txt"
    mv "$PCAP.tmp" "$PCAP"
    { say "$KEY"; cat "$OUT/gen.txt"; } >"$PCAP.stamp"
fi
GEN=$(sed -n 2p "$PCAP.stamp")
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
FLOWS=$(field "$GEN" flows)

HAVE_TSHARK=0
if have tshark && have editcap; then
    HAVE_TSHARK=1
    if [ ! -f "$SLICE" ] || [ "$(cat "$SLICE.stamp" 2>/dev/null)" != "$KEY slice=$BENCH_SLICE" ]; then
        editcap -r "$PCAP" "$SLICE" "1-$BENCH_SLICE"
        say "$KEY slice=$BENCH_SLICE" >"$SLICE.stamp"
    fi
fi

# --- measuring ---------------------------------------------------------------
# run_timed NAME CMD...: runs once, sets NS (wall ns), RSS (KiB or ""),
# CPU (user + system ms of all its threads, or "") and RC.
run_timed() {
    name=$1
    shift
    RC=0 RSS="" CPU_MS=""
    t0=$(date +%s%N)
    if [ -n "$TIMER" ]; then
        $TIMER "$OUT/$name.time" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err" || RC=$?
    else
        "$@" >"$OUT/$name.out" 2>"$OUT/$name.err" || RC=$?
    fi
    t1=$(date +%s%N)
    NS=$((t1 - t0))
    if [ -n "$TIMER" ]; then
        RSS=$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$OUT/$name.time")
        CPU_MS=$(awk -F': *' '/User time \(seconds\)|System time \(seconds\)/ { s += $2 }
                              END { printf "%.0f", s * 1000 }' "$OUT/$name.time")
    fi
}

# measure NAME INPUT PACKETS BYTES REPEAT CMD...: appends a result row.
measure() {
    name=$1 input=$2 pk=$3 by=$4 rep=$5
    shift 5
    best="" peak="" note="" cpu=""
    i=0
    while [ "$i" -lt "$rep" ]; do
        i=$((i + 1))
        run_timed "$name" "$@"
        if [ "$RC" -ne 0 ]; then
            note="FAILED (exit $RC, see $OUT/$name.err)"
            STATUS=1
            break
        fi
        if [ -z "$best" ] || [ "$NS" -lt "$best" ]; then best=$NS cpu=$CPU_MS; fi
        if [ -n "$RSS" ] && { [ -z "$peak" ] || [ "$RSS" -gt "$peak" ]; }; then peak=$RSS; fi
    done
    say "$name|$input|$pk|$by|${best:-0}|${peak:--}|$note|${cpu:--}" >>"$RESULTS"
}

say "run_bench: warming the page cache"
cat "$PCAP" >/dev/null
[ "$HAVE_TSHARK" = 0 ] || cat "$SLICE" >/dev/null

# Packet and byte counts come from pcap_loop itself.
"$OUT/pcap_loop" "$PCAP" >"$OUT/count.txt"
PK=$(field "$(cat "$OUT/count.txt")" packets)
BY=$(field "$(cat "$OUT/count.txt")" bytes)

: >"$RESULTS"
say "run_bench: timing pcap_loop"
measure pcap_loop bench.pcap "$PK" "$BY" "$BENCH_REPEAT" "$OUT/pcap_loop" "$PCAP"
measure pcap_loop_flows bench.pcap "$PK" "$BY" "$BENCH_REPEAT" "$OUT/pcap_loop" --flows "$PCAP"
say "run_bench: timing pinscope"
measure pinscope bench.pcap "$PK" "$BY" "$BENCH_REPEAT" "$PINSCOPE" -r "$PCAP" -o /dev/null
say "run_bench: timing pinscope --workers $BENCH_WORKERS"
measure pinscope_w$BENCH_WORKERS bench.pcap "$PK" "$BY" "$BENCH_REPEAT" "$PINSCOPE" -r "$PCAP" \
    --workers "$BENCH_WORKERS" -o /dev/null
if have ndpiReader; then
    say "run_bench: timing ndpiReader"
    measure ndpiReader bench.pcap "$PK" "$BY" 1 ndpiReader -i "$PCAP"
fi
if [ "$HAVE_TSHARK" = 1 ]; then
    "$OUT/pcap_loop" "$SLICE" >"$OUT/count_slice.txt"
    SPK=$(field "$(cat "$OUT/count_slice.txt")" packets)
    SBY=$(field "$(cat "$OUT/count_slice.txt")" bytes)
    say "run_bench: timing the $SPK-packet slice"
    measure pcap_loop_slice slice.pcap "$SPK" "$SBY" "$BENCH_REPEAT" "$OUT/pcap_loop" "$SLICE"
    measure pinscope_slice slice.pcap "$SPK" "$SBY" "$BENCH_REPEAT" "$PINSCOPE" -r "$SLICE" -o /dev/null
    measure tshark_slice slice.pcap "$SPK" "$SBY" 1 tshark -n -r "$SLICE" \
        -o tcp.reassemble_out_of_order:TRUE -Y tls.handshake.type==1 \
        -T fields -e tls.handshake.ja3
fi

# A handshake-dense capture: NAME.pcap and NAME.keylog from gen_bench
# --dense with EXTRA options, generated when missing or stale, then the
# loop and pinscope timed on it.  Sets G_FLOWS, G_GEN, G_EVENTS, G_VISIBLE,
# G_EVBYTES (and dc, dp, dk, dpk, dby: sh has no locals, and measure()
# uses name and i).
dense_capture() {
    dc=$1; shift
    dp=$OUT/$dc.pcap
    dk="$("$OUT/gen_bench" --version) dense $* flows=$BENCH_DENSE_FLOWS seed=$BENCH_SEED src=$(cksum <tests/bench/gen_bench.c | cut -d' ' -f1)"
    dk=$(printf '%s' "$dk" | tr -s ' ')
    if [ ! -f "$dp" ] || [ "$(sed -n 1p "$dp.stamp" 2>/dev/null)" != "$dk" ]; then
        say "run_bench: generating $dp ($BENCH_DENSE_FLOWS handshake-dense flows${*:+, $*})"
        "$OUT/gen_bench" --dense "$@" --keylog "$OUT/$dc.keylog" "$dp.tmp" "$BENCH_DENSE_FLOWS" \
            "$BENCH_SEED" >"$OUT/gen_$dc.txt"
        mv "$dp.tmp" "$dp"
        { say "$dk"; cat "$OUT/gen_$dc.txt"; } >"$dp.stamp"
    fi
    G_GEN=$(sed -n 2p "$dp.stamp")
    G_FLOWS=$(field "$G_GEN" flows)
    cat "$dp" >/dev/null
    "$OUT/pcap_loop" "$dp" >"$OUT/count_$dc.txt"
    dpk=$(field "$(cat "$OUT/count_$dc.txt")" packets)
    dby=$(field "$(cat "$OUT/count_$dc.txt")" bytes)
    say "run_bench: timing $dc.pcap"
    measure "pcap_loop_flows_$dc" "$dc.pcap" "$dpk" "$dby" "$BENCH_REPEAT" "$OUT/pcap_loop" --flows "$dp"
    measure "pinscope_$dc" "$dc.pcap" "$dpk" "$dby" "$BENCH_REPEAT" "$PINSCOPE" -r "$dp" \
        --keylog "$OUT/$dc.keylog" -o /dev/null
    rm -f "$OUT/$dc.jsonl"
    "$PINSCOPE" -r "$dp" --keylog "$OUT/$dc.keylog" -o "$OUT/$dc.jsonl" 2>/dev/null || STATUS=1
    G_EVENTS=$(grep -cF -- "$BENCH_TLS_MATCH" "$OUT/$dc.jsonl" || true)
    G_VISIBLE=$(grep -cF '"chain_visible":true' "$OUT/$dc.jsonl" || true)
    G_EVBYTES=$(wc -c <"$OUT/$dc.jsonl")
}

DPCAP=$OUT/dense.pcap
DFLOWS=0
D35FLOWS=0
if [ "$BENCH_DENSE_FLOWS" -gt 0 ]; then
    dense_capture dense
    DGEN=$G_GEN DFLOWS=$G_FLOWS DEVENTS=$G_EVENTS DVISIBLE=$G_VISIBLE DEVBYTES=$G_EVBYTES
    if [ -n "${BENCH_BASE:-}" ]; then
        say "run_bench: timing $BENCH_BASE and $PINSCOPE on dense.pcap, alternating"
        bw="" bc="" pw="" pc="" i=0
        while [ "$i" -lt "$BENCH_REPEAT" ]; do
            i=$((i + 1))
            run_timed base_dense "$BENCH_BASE" -r "$DPCAP" --keylog "$OUT/dense.keylog" -o /dev/null
            [ "$RC" -ne 0 ] && { STATUS=1; break; }
            if [ -z "$bw" ] || [ "$NS" -lt "$bw" ]; then bw=$NS bc=$CPU_MS; fi
            run_timed pair_dense "$PINSCOPE" -r "$DPCAP" --keylog "$OUT/dense.keylog" -o /dev/null
            [ "$RC" -ne 0 ] && { STATUS=1; break; }
            if [ -z "$pw" ] || [ "$NS" -lt "$pw" ]; then pw=$NS pc=$CPU_MS; fi
        done
        PAIR="${bw:-0} ${bc:--} ${pw:-0} ${pc:--}"
    fi
    if [ "${BENCH_DENSE35:-1}" = 1 ]; then
        dense_capture dense35 --exchanges 5
        D35GEN=$G_GEN D35FLOWS=$G_FLOWS D35EVENTS=$G_EVENTS D35VISIBLE=$G_VISIBLE D35EVBYTES=$G_EVBYTES
    fi
fi

QPCAP=$OUT/quic.pcap
QTEMPLATE=tests/golden/udp_quic_v1_keylog
QEVENTS=-1
if [ "$BENCH_QUIC_FLOWS" -gt 0 ] && have python3 && [ -f "$QTEMPLATE.pcap" ]; then
    QKEY="quic flows=$BENCH_QUIC_FLOWS src=$(cat tests/bench/gen_quic.py "$QTEMPLATE.pcap" | cksum | cut -d' ' -f1)"
    if [ ! -f "$QPCAP" ] || [ "$(sed -n 1p "$QPCAP.stamp" 2>/dev/null)" != "$QKEY" ]; then
        say "run_bench: generating $QPCAP ($BENCH_QUIC_FLOWS QUIC connections)"
        python3 tests/bench/gen_quic.py "$QTEMPLATE.pcap" "$QPCAP" "$BENCH_QUIC_FLOWS" >"$OUT/genq.txt"
        { say "$QKEY"; cat "$OUT/genq.txt"; } >"$QPCAP.stamp"
    fi
    cat "$QPCAP" >/dev/null
    "$OUT/pcap_loop" "$QPCAP" >"$OUT/count_quic.txt"
    QPK=$(field "$(cat "$OUT/count_quic.txt")" packets)
    QBY=$(field "$(cat "$OUT/count_quic.txt")" bytes)
    say "run_bench: timing pinscope on QUIC"
    measure pcap_loop_quic quic.pcap "$QPK" "$QBY" "$BENCH_REPEAT" "$OUT/pcap_loop" "$QPCAP"
    measure pinscope_quic quic.pcap "$QPK" "$QBY" "$BENCH_REPEAT" "$PINSCOPE" -r "$QPCAP" -o /dev/null
    measure pinscope_quic_keys quic.pcap "$QPK" "$QBY" "$BENCH_REPEAT" "$PINSCOPE" -r "$QPCAP" \
        --keylog "$QTEMPLATE.keylog" -o /dev/null
    rm -f "$OUT/quic.jsonl"   # -o appends
    "$PINSCOPE" -r "$QPCAP" --keylog "$QTEMPLATE.keylog" -o "$OUT/quic.jsonl" 2>/dev/null || true
    QEVENTS=$(grep -c '"proto":"UDP".*"state":"complete".*"chain_visible":true' "$OUT/quic.jsonl" || true)
fi

say "run_bench: checking pinscope's TLS events"
PRC=0
rm -f "$OUT/pinscope.jsonl"
"$PINSCOPE" -r "$PCAP" -o "$OUT/pinscope.jsonl" --stats 2>"$OUT/pinscope.stats" || PRC=$?
EVENTS=0 LINES=0
if [ -f "$OUT/pinscope.jsonl" ]; then
    EVENTS=$(grep -cF -- "$BENCH_TLS_MATCH" "$OUT/pinscope.jsonl" || true)
    LINES=$(wc -l <"$OUT/pinscope.jsonl")
fi

# --- report --------------------------------------------------------------------
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
say ""
say "pinscope benchmark: $(nproc) CPU(s), ${CPU:-unknown CPU}"
say "capture: $PCAP, $(wc -c <"$PCAP" | awk '{printf "%.0f MB", $1 / 1e6}'), $PK packets, $FLOWS TLS flows (seed $BENCH_SEED)"
say "  $GEN"
say ""
awk -F'|' '
    BEGIN {
        printf "%-22s %-11s %10s %9s %9s %8s %13s\n", "tool", "input", "packets",
               "seconds", "Mpkt/s", "Gbit/s", "peak RSS MiB"
    }
    {
        s = $5 / 1e9
        if ($7 != "") {
            printf "%-22s %-11s %10d %9s %9s %8s %13s  %s\n", $1, $2, $3, "-", "-", "-", "-", $7
            next
        }
        rss = $6 == "-" ? "-" : sprintf("%.1f", $6 / 1024)
        printf "%-22s %-11s %10d %9.3f %9.2f %8.2f %13s\n", $1, $2, $3, s,
               $3 / s / 1e6, $4 * 8 / s / 1e9, rss
    }' "$RESULTS"
say ""
say "Seconds: best of $BENCH_REPEAT wall-clock runs (ndpiReader and tshark: one run)."
say "Gbit/s counts on-the-wire bytes (Ethernet frames, no pcap headers)."
if [ "$HAVE_TSHARK" = 1 ]; then
    SCH=$(grep -c . "$OUT/tshark_slice.out" 2>/dev/null || true)
    say "tshark ran on slice.pcap only (the first $SPK packets, cut with editcap -r),"
    say "  with -n -o tcp.reassemble_out_of_order:TRUE; it printed $SCH JA3 strings."
else
    say "tshark/editcap not installed: no tshark row."
fi
have ndpiReader || say "ndpiReader not installed: no ndpiReader row."
if [ "$QEVENTS" -ge 0 ]; then
    say "quic.pcap: $BENCH_QUIC_FLOWS copies of one QUIC v1 connection (16 packets each);"
    say "  pinscope_quic_keys also decrypts the Handshake packets with the key log."
    awk -F'|' -v n="$BENCH_QUIC_FLOWS" '
        ($1 == "pinscope_quic" || $1 == "pinscope_quic_keys") && $7 == "" {
            printf "  %s: %.0f QUIC connections/s\n", $1, n / ($5 / 1e9) }' "$RESULTS"
    if [ "$QEVENTS" = "$BENCH_QUIC_FLOWS" ]; then qv=OK; else qv=MISMATCH; STATUS=1; fi
    say "  complete QUIC connections with a visible chain: $QEVENTS of $BENCH_QUIC_FLOWS: $qv"
fi

awk -F'|' -v w="pinscope_w$BENCH_WORKERS" '
    $1 == "pinscope" && $7 == "" { p = $5; pr = $6 } $1 == w && $7 == "" { q = $5; qr = $6 }
    END {
        if (p > 0 && q > 0)
            printf "%s vs one worker: %.2fx the packet rate (peak RSS %.1f MiB vs %.1f MiB)\n",
                   w, p / q, qr / 1024, pr / 1024
    }' "$RESULTS"
awk -F'|' '
    $1 == "pcap_loop" { l = $5 } $1 == "pinscope" && $7 == "" { p = $5 }
    END {
        if (l > 0 && p > 0)
            printf "pinscope vs the plain libpcap loop: %.2fx the time, %.0f%% of its packet rate\n",
                   p / l, 100 * l / p
    }' "$RESULTS"

# Per connection: pinscope's time beyond the read + decode + flow-table
# loop, divided by the TLS connections; the ratio of the two rates.
EVBYTES=$(wc -c <"$OUT/pinscope.jsonl" 2>/dev/null || echo 0)
say ""
say "per TLS connection (1 worker; loop = pcap_loop --flows, read + decode + flow table):"
awk -F'|' -v flows="$FLOWS" -v dflows="$DFLOWS" -v evb="$EVBYTES" -v dev="${DEVBYTES:-0}" \
    -v devents="${DEVENTS:-0}" -v dvis="${DVISIBLE:-0}" -v d35flows="$D35FLOWS" \
    -v d35ev="${D35EVBYTES:-0}" -v d35events="${D35EVENTS:-0}" -v d35vis="${D35VISIBLE:-0}" '
    { t[$1] = $5; r[$1] = $6; ok[$1] = ($7 == ""); c[$1] = $8 }
    function row(name, loop, prog, n, bytes, events, extra,    cpu) {
        if (!(loop in t) || !(prog in t) || !ok[prog] || t[prog] <= 0) return
        cpu = ""
        if (c[prog] != "-" && c[prog] != "" && c[loop] != "-" && c[loop] != "")
            cpu = sprintf(" (CPU time, all threads: %.1f us/conn beyond the loop)",
                          (c[prog] - c[loop]) * 1e3 / n)
        printf "  %-7s %7d conns: %.2fx the loop rate, %.1f us/conn beyond it%s, %.0f event bytes/conn, peak RSS %.1f MiB%s\n",
               name, n, t[loop] / t[prog], (t[prog] - t[loop]) / 1e3 / n, cpu,
               (events > 0 ? bytes / events : 0), r[prog] / 1024, extra
    }
    END {
        row("bench", "pcap_loop_flows", "pinscope", flows, evb, flows, "")
        if (dflows > 0)
            row("dense", "pcap_loop_flows_dense", "pinscope_dense", dflows, dev, devents,
                sprintf("  (%d of %d chains visible)", dvis, devents))
        if (d35flows > 0)
            row("dense35", "pcap_loop_flows_dense35", "pinscope_dense35", d35flows, d35ev, d35events,
                sprintf("  (%d of %d chains visible)", d35vis, d35events))
    }' "$RESULTS"
if [ "$DFLOWS" -gt 0 ]; then
    if [ "${DEVENTS:-0}" = "$DFLOWS" ]; then dv=OK; else dv=MISMATCH; STATUS=1; fi
    say "  dense.pcap: $DGEN"
    say "  pinscope TLS events on dense.pcap: ${DEVENTS:-0} for $DFLOWS generated flows: $dv"
    if [ "$D35FLOWS" -gt 0 ]; then
        if [ "${D35EVENTS:-0}" = "$D35FLOWS" ]; then dv=OK; else dv=MISMATCH; STATUS=1; fi
        say "  dense35.pcap: $D35GEN"
        say "  pinscope TLS events on dense35.pcap: ${D35EVENTS:-0} for $D35FLOWS generated flows: $dv"
    fi
    if [ -n "${PAIR:-}" ]; then
        set -- $PAIR
        awk -v bw="$1" -v bc="$2" -v pw="$3" -v pc="$4" -v n="$DFLOWS" -v rep="$BENCH_REPEAT" \
            -v base="$BENCH_BASE" 'BEGIN {
            if (bw <= 0 || pw <= 0) { print "  BENCH_BASE comparison failed"; exit }
            printf "  dense.pcap, %s and this build alternating (best of %d): %.3f s vs %.3f s wall (%+.1f%%)", base, rep, bw / 1e9, pw / 1e9, 100 * (pw - bw) / bw
            if (bc != "-" && pc != "-")
                printf ", %.2f s vs %.2f s CPU (%+.1f us/conn)", bc / 1e3, pc / 1e3, (pc - bc) * 1e3 / n
            printf "\n" }'
    fi
fi

# Memory pressure (tests/bench/gen_pressure.c): each attack with real TLS
# connections after or among it, straight into pinscope at default
# settings; the share of real connections reported with the server's
# answer, and the peak RSS.
if [ "${BENCH_PRESSURE:-1}" = 1 ]; then
    say ""
    say "memory pressure (default --memcap 32M, --max-flows 65536 unless said; real connections answered, peak RSS):"
    $CC -O2 -std=c11 -Wall -Wextra -o "$OUT/gen_pressure" tests/bench/gen_pressure.c || STATUS=1
    for spec in "stuck" "halfopen" "halfopen:--max-flows 1000000" "ooo" "synflood" \
                "synflood:--max-flows 1000000" "hog:" "certs"; do
        sc=${spec%%:*}
        args=""
        case $spec in *:*) args=${spec#*:} ;; esac
        gargs=""
        [ "$sc" = hog ] && gargs="--server-delay-ms 5000" && args=""
        # shellcheck disable=SC2086
        "$OUT/gen_pressure" "$sc" - $gargs 2>"$OUT/pressure_gen.txt" |
            /usr/bin/time -f "%M %e" -o "$OUT/pressure.time" "$PINSCOPE" -r - $args \
            >"$OUT/pressure.jsonl" 2>"$OUT/pressure.err"
        read -r rss secs <"$OUT/pressure.time" || { rss=0; secs=0; }
        real=$(sed -n 's/.* real=\([0-9]*\).*/\1/p' "$OUT/pressure_gen.txt")
        answered=$(grep '"event_type":"tls"' "$OUT/pressure.jsonl" | grep '"sni":"real-' |
                   grep '"ja3s"' | grep -vc '"end":"evicted"')
        printf '  %-34s %5s of %5s real (%5.1f%%), peak RSS %5.1f MiB, %5.2f s\n' \
            "$sc${args:+ $args}${gargs:+ ($gargs)}" "$answered" "$real" \
            "$(awk -v a="$answered" -v r="$real" 'BEGIN { print r ? 100 * a / r : 0 }')" \
            "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$secs"
    done
    rm -f "$OUT/pressure.jsonl"
fi

if [ "${BENCH_REPORT:-1}" = 1 ]; then
    say ""
    say "pinscope report, ${BENCH_REPORT_CONNS:-100000} synthetic connections (tests/bench/report_bench.py):"
    python3 tests/bench/report_bench.py --pinscope "$PINSCOPE" --out "$OUT" || STATUS=1
fi

if [ "${BENCH_LIVE:-1}" = 1 ] && [ "$(id -u)" = 0 ] && have tcpreplay; then
    say ""
    PINSCOPE="$PINSCOPE" bash tests/bench/live_bench.sh "$PCAP" || STATUS=1
fi

if [ "$PRC" -ne 0 ]; then
    say "pinscope sanity run FAILED (exit $PRC, see $OUT/pinscope.stats)"
    STATUS=1
else
    if [ "$EVENTS" = "$FLOWS" ]; then verdict=OK; else verdict=MISMATCH; STATUS=1; fi
    say "pinscope TLS events: $EVENTS (of $LINES JSON lines) for $FLOWS generated flows: $verdict"
    if [ -s "$OUT/pinscope.stats" ]; then
        say "pinscope --stats:"
        sed 's/^/  /' "$OUT/pinscope.stats" | head -n 40
    fi
fi
exit "$STATUS"
