# netns_lib.sh - two network namespaces joined by a veth pair, for scripts
# that record real handshakes (source it from bash).
#
#   netns_setup PREFIX      client 198.18.0.1 in $NS_C, server 198.18.0.2 in
#                           $NS_S (RFC 2544 benchmark range: nothing else is
#                           used and nothing leaves the namespaces); a
#                           cleanup trap removes both and every pid in PIDS
#   cx CMD... / sx CMD...   run in the client / server namespace
#   netns_host NAME         NAME resolves to the server in the client namespace
#   capture_start NAME IFACE-SIDE FILTER   tcpdump into $WORK/NAME.pcap
#   capture_stop
#   server_start NAME tcp|udp PORT CMD...  in the server namespace, cwd
#                           $WORK/www; waits until PORT is bound
#   server_stop
#
# The caller sets WORK (a temporary directory it owns) before netns_setup
# and may append pids to PIDS.

C_IP=198.18.0.1
S_IP=198.18.0.2
PIDS=()
NS_C=
NS_S=

netns_log() { echo "${NETNS_TAG:-netns}: $*" >&2; }

netns_cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.2
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    [ -n "$NS_C" ] && rm -rf "/etc/netns/$NS_C"
    [ -n "$NS_C" ] && ip netns del "$NS_C" 2>/dev/null
    [ -n "$NS_S" ] && ip netns del "$NS_S" 2>/dev/null
    [ -n "${WORK:-}" ] && rm -rf "$WORK"
}

netns_setup() {
    local tag=$1
    NS_C=$tag-c-$$
    NS_S=$tag-s-$$
    VETH_C=${tag:0:6}c$$
    VETH_S=${tag:0:6}s$$
    trap netns_cleanup EXIT
    trap 'exit 130' INT TERM HUP
    ip netns add "$NS_C" || { netns_log "ip netns add failed (need CAP_SYS_ADMIN)"; return 1; }
    ip netns add "$NS_S" || return 1
    ip link add "$VETH_C" netns "$NS_C" type veth peer name "$VETH_S" netns "$NS_S" || return 1
    ip -n "$NS_C" addr add "$C_IP/30" dev "$VETH_C"
    ip -n "$NS_S" addr add "$S_IP/30" dev "$VETH_S"
    local ns
    for ns in "$NS_C" "$NS_S"; do ip -n "$ns" link set lo up; done
    ip -n "$NS_C" link set "$VETH_C" up
    ip -n "$NS_S" link set "$VETH_S" up
    if command -v ethtool >/dev/null 2>&1; then
        ip netns exec "$NS_C" ethtool -K "$VETH_C" tx off rx off tso off gso off gro off >/dev/null 2>&1
        ip netns exec "$NS_S" ethtool -K "$VETH_S" tx off rx off tso off gso off gro off >/dev/null 2>&1
    fi
    # Give the veth a moment (ping is not always installed).
    if command -v ping >/dev/null 2>&1; then
        for _ in $(seq 50); do
            ip netns exec "$NS_C" ping -c1 -W1 "$S_IP" >/dev/null 2>&1 && return 0
            sleep 0.1
        done
        netns_log "veth link did not come up"
        return 1
    fi
    sleep 1
    return 0
}

# netns_host NAME: NAME resolves to the server inside the client namespace
# (ip netns exec bind-mounts /etc/netns/NS/hosts over /etc/hosts).
netns_host() {
    mkdir -p "/etc/netns/$NS_C" &&
        printf '127.0.0.1 localhost\n%s %s\n' "$S_IP" "$1" > "/etc/netns/$NS_C/hosts"
}

sx() { ip netns exec "$NS_S" "$@"; }
cx() { ip netns exec "$NS_C" "$@"; }

TCPDUMP_PID=
capture_start() {   # NAME FILTER  (records the server side of the veth)
    local name=$1 filter=$2
    rm -f "$WORK/$name.pcap"
    # Not through sx(): $! must be tcpdump's own pid.
    ip netns exec "$NS_S" timeout 60 tcpdump -i "$VETH_S" -n -s 0 -U -w "$WORK/$name.pcap" "$filter" \
        2>"$WORK/$name.tcpdump.log" &
    TCPDUMP_PID=$!
    PIDS+=("$TCPDUMP_PID")
    for _ in $(seq 50); do
        grep -q "listening on" "$WORK/$name.tcpdump.log" 2>/dev/null && { sleep 0.2; return 0; }
        kill -0 "$TCPDUMP_PID" 2>/dev/null || break
        sleep 0.1
    done
    netns_log "$name: tcpdump did not start: $(cat "$WORK/$name.tcpdump.log")"
    return 1
}

capture_stop() {
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
server_start() {    # NAME tcp|udp PORT CMD...
    local name=$1 proto=$2 port=$3; shift 3
    local flag=-Hltn
    [ "$proto" = udp ] && flag=-Hlun
    mkdir -p "$WORK/www"
    (cd "$WORK/www" && exec ip netns exec "$NS_S" timeout 30 "$@") \
        >"$WORK/$name.server.log" 2>&1 </dev/null &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    for _ in $(seq 50); do
        [ -n "$(sx ss $flag "sport = :$port" 2>/dev/null)" ] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    netns_log "$name: server did not bind $proto port $port"
    return 1
}

server_stop() {
    [ -n "$SERVER_PID" ] || return 0
    for _ in $(seq 20); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -TERM "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=
}
