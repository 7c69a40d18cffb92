#!/usr/bin/env bash
# Makes the golden captures tests/golden/*.pcap from real TLS handshakes.
#
# Two network namespaces joined by a veth pair, client 198.18.0.1 and server
# 198.18.0.2 (RFC 2544 benchmark range; no other address is used and nothing
# leaves the namespaces).  A throwaway PKI (root CA, RSA and ECDSA server
# certificates for www.pinscope.test, and an unrelated CA) is made with
# openssl in a temporary directory.  Each scenario runs one server and one
# client under timeouts while tcpdump records the server side of the veth
# into NAME.pcap; only scenarios that behaved as planned replace the files in
# tests/golden/ (with NAME.keylog when the client wrote one).  Regenerate the
# .jsonl files afterwards with tests/scripts/golden.sh --update and review
# the diff.
#
# Two scenarios carry TLS inside another protocol's framing:
#   tds_tls        FreeTDS's tsql (TDS 7.4, encryption required, GnuTLS)
#                  against a small TDS server in Python: PRELOGIN, then a
#                  real TLS 1.2 handshake (Python's ssl on a MemoryBIO) whose
#                  records go inside PRELOGIN packets both ways; LOGIN7 then
#                  arrives in TLS on the stream and is refused.  TLS 1.2
#                  because SQL Server speaks TLS 1.3 only with TDS 8.0, where
#                  TLS comes first and no TDS framing is involved.
#   websocket_tls  openssl s_client -> a local bridge (python3-websockets
#                  client, masked binary frames) -> websockify -> openssl
#                  s_server; the client <-> websockify leg is captured, the
#                  TLS 1.3 key log is kept.
#
# Four scenarios put an origin server one hop behind the server namespace
# (a third namespace, origin 198.18.0.6, reached through 198.18.0.5; the
# server namespace forwards) and record the client leg, TLS 1.3 with no key
# log, three curl connections each, to measure what interception without
# keys changes (the first encrypted flight, a HelloRetryRequest, the
# ServerHello delay, JA4S, JA4TS, TTL):
#   keyless_direct_a, keyless_direct_b  curl -> origin (openssl s_server, the
#                  lab CA's chain), routed: the clean controls, twice
#   keyless_squid_bump  curl -> squid-openssl 5 as an explicit CONNECT proxy
#                  with ssl-bump (peek, stare, bump: the origin is reached
#                  first and its certificate mimicked) -> origin
#   keyless_sslsplit    curl -> sslsplit 0.5 (static destination: the name
#                  resolves to the proxy) -> origin
#   keyless_two_clients  two client addresses (198.18.0.1, .9), both direct
#   keyless_mixed_sslsplit, keyless_mixed_squid  the same two clients, the
#                  second through sslsplit / squid: one capture, one name,
#                  two ways of answering the same curl
# The client trusts the lab CA and both proxies' CAs, as a managed client
# trusts its organisation's inspection CA.
#
# Two scenarios record both legs of an explicit proxy whose upstream
# connection leaves from a second address of the proxy (squid's
# tcp_outgoing_address 198.18.0.13): no address is common to the two legs.
# TLS 1.2 so that both chains are visible; tcpdump listens on every
# interface of the server namespace (Linux SLL2):
#   squid_bump_other_upstream    curl -x squid (ssl-bump) -> origin: the
#                  client's leg shows squid's minted leaf, the upstream leg
#                  the origin's
#   squid_splice_other_upstream  the same with ssl_bump splice all: one TLS
#                  session through a CONNECT tunnel, both legs show the
#                  origin's leaf
#
# Usage: sudo tests/scripts/make_golden_captures.sh [SCENARIO...]
#        (no argument: all scenarios; -l lists them)
# Needs root (namespaces, tcpdump); installs missing Debian packages.
set -u

cd "$(dirname "$0")/../.." || exit 1
GOLDEN=tests/golden
C_IP=198.18.0.1
S_IP=198.18.0.2
HOST=www.pinscope.test
NS_C=pinscope-gc-$$
NS_S=pinscope-gs-$$
NS_O=pinscope-go-$$
VETH_SO=pgr$$
VETH_O=pgo$$
R_IP=198.18.0.5   # the server namespace on the origin's link
O_IP=198.18.0.6   # the origin, one hop behind
C2_IP=198.18.0.9  # a second client address (keyless_two_clients, keyless_mixed_*)
UP_IP=198.18.0.13 # squid's outgoing address (squid_*_other_upstream)
VETH_C=pgc$$
VETH_S=pgs$$
WORK=
PIDS=()

SCENARIOS="openssl_tls13_rsa openssl_tls12_ecdsa openssl_tls13_hrr openssl_tls13_nosni
openssl_tls12_unknown_ca openssl_version_mismatch curl_tls13 curl_tls12_port8443
gnutls_tls13 gnutls_tls12 http_connect_tunnel smtp_starttls tds_tls websocket_tls
openssl_tls13_empty_client_cert gnutls_tls13_unknown_ca pyopenssl_pin_refuses
keyless_direct_a keyless_direct_b keyless_squid_bump keyless_sslsplit keyless_two_clients
keyless_mixed_sslsplit keyless_mixed_squid curl_pin_refuses_tls13 curl_pin_refuses_tls12
curl_pin_ok_tls13 curl_pin_ok_tls12 squid_bump_other_upstream squid_splice_other_upstream"

die() { echo "make_golden_captures: $*" >&2; exit 1; }
log() { echo "make_golden_captures: $*" >&2; }

if [ "${1:-}" = "-l" ]; then echo "$SCENARIOS" | tr ' ' '\n'; exit 0; fi
[ "$(id -u)" = 0 ] || die "must run as root (network namespaces, tcpdump)"

# ---- packages -------------------------------------------------------------
install_missing() {
    local missing="" pair
    for pair in openssl:openssl curl:curl gnutls-cli:gnutls-bin tcpdump:tcpdump \
                python3:python3 ip:iproute2 ss:iproute2 timeout:coreutils tsql:freetds-bin \
                websockify:websockify squid:squid-openssl sslsplit:sslsplit; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
    done
    if [ -n "$missing" ]; then
        log "installing:$missing"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        # shellcheck disable=SC2086 # $missing is a list of package names
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null ||
            die "apt-get install$missing failed"
    fi
    /usr/bin/python3 -c "import websockets" 2>/dev/null ||
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-websockets >/dev/null ||
        die "apt-get install python3-websockets failed"
    # Optional: turns off checksum offload so the pcaps carry valid checksums.
    command -v ethtool >/dev/null 2>&1 ||
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ethtool >/dev/null 2>&1 || true
}
install_missing

# ---- cleanup --------------------------------------------------------------
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.2
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    ip netns del "$NS_C" 2>/dev/null
    ip netns del "$NS_S" 2>/dev/null
    ip netns del "$NS_O" 2>/dev/null
    rm -rf "/etc/netns/$NS_S"
    [ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

WORK=$(mktemp -d /tmp/pinscope-golden.XXXXXX) || die "mktemp failed"

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
# Wait for the link (no DAD on /30 IPv4, but the veth needs a moment).
for _ in $(seq 50); do
    ip netns exec "$NS_C" ping -c1 -W1 "$S_IP" >/dev/null 2>&1 && break
    sleep 0.1
done

sx() { ip netns exec "$NS_S" "$@"; }   # run in the server namespace
cx() { ip netns exec "$NS_C" "$@"; }   # run in the client namespace

# ---- the origin one hop behind the server namespace (keyless_* scenarios) --
ORIGIN_UP=
ox() { ip netns exec "$NS_O" "$@"; }   # run in the origin namespace
setup_origin() {
    [ -n "$ORIGIN_UP" ] && return 0
    ip netns add "$NS_O" || return 1
    ip link add "$VETH_SO" netns "$NS_S" type veth peer name "$VETH_O" netns "$NS_O" || return 1
    ip -n "$NS_S" addr add "$R_IP/30" dev "$VETH_SO"
    ip -n "$NS_O" addr add "$O_IP/30" dev "$VETH_O"
    ip -n "$NS_O" link set lo up
    ip -n "$NS_S" link set "$VETH_SO" up
    ip -n "$NS_O" link set "$VETH_O" up
    if command -v ethtool >/dev/null 2>&1; then
        sx ethtool -K "$VETH_SO" tx off rx off tso off gso off gro off >/dev/null 2>&1
        ox ethtool -K "$VETH_O" tx off rx off tso off gso off gro off >/dev/null 2>&1
    fi
    sx sysctl -qw net.ipv4.ip_forward=1 || return 1
    ip -n "$NS_C" route add 198.18.0.4/30 via "$S_IP" || return 1
    ip -n "$NS_O" route add 198.18.0.0/30 via "$R_IP" || return 1
    # The proxies in the server namespace resolve the name to the origin.
    mkdir -p "/etc/netns/$NS_S" &&
        printf '127.0.0.1 localhost\n%s %s\n' "$O_IP" "$HOST" > "/etc/netns/$NS_S/hosts"
    ORIGIN_UP=1
    command -v ping >/dev/null 2>&1 || { sleep 1; return 0; }
    for _ in $(seq 50); do
        cx ping -c1 -W1 "$O_IP" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    log "the origin namespace is not reachable"
    return 1
}

ORIGIN_PID=
start_origin() {    # NAME CONNECTIONS [S_SERVER-ARGS...]: openssl s_server, the lab CA's RSA chain, -WWW
    local name=$1 count=$2; shift 2
    setup_origin || return 1
    (cd "$WORK/www" && exec ip netns exec "$NS_O" timeout 40 openssl s_server -accept 443 \
        -naccept "$count" -WWW "${S_RSA[@]}" -alpn http/1.1 "$@") \
        >"$WORK/$name.origin.log" 2>&1 </dev/null &
    ORIGIN_PID=$!
    PIDS+=("$ORIGIN_PID")
    for _ in $(seq 50); do
        [ -n "$(ox ss -Hltn "sport = :443" 2>/dev/null)" ] && return 0
        kill -0 "$ORIGIN_PID" 2>/dev/null || break
        sleep 0.1
    done
    log "$name: origin did not start listening on 443"
    return 1
}

stop_origin() {
    [ -n "$ORIGIN_PID" ] || return 0
    for _ in $(seq 30); do
        kill -0 "$ORIGIN_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -TERM "$ORIGIN_PID" 2>/dev/null
    wait "$ORIGIN_PID" 2>/dev/null
    ORIGIN_PID=
}

# keyless_clients NAME COUNT CURL-ARGS...: COUNT curl connections, TLS 1.3,
# trusting the lab CA and both inspection CAs, each fetch checked.
keyless_clients() {
    local name=$1 count=$2 i; shift 2
    for i in $(seq "$count"); do
        run_client "$name.$i" ok curl -sS --max-time 10 --tlsv1.3 \
            --cacert "$PKI/trusted-with-inspection.crt" "$@" "https://$HOST/hello.txt" || return 1
        grep -q "hello from pinscope" "$WORK/$name.$i.client.log" ||
            { log "$name: connection $i did not fetch the page"; return 1; }
        sleep 0.3
    done
}

PROXY_PID=
stop_proxy() {
    [ -n "$PROXY_PID" ] || return 0
    kill -TERM "$PROXY_PID" 2>/dev/null
    for _ in $(seq 30); do
        kill -0 "$PROXY_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$PROXY_PID" 2>/dev/null
    wait "$PROXY_PID" 2>/dev/null
    PROXY_PID=
}

start_squid() {   # NAME [bump|splice [OUTGOING-ADDRESS]]: squid-openssl ssl-bump on $S_IP:3128
    local n=$1 sq="$WORK/squid"
    rm -rf "$sq" && mkdir -p "$sq" && chmod 755 "$WORK" "$WORK/pki" &&
        cp "$PKI/squid-ca.crt" "$sq/ca.crt" && cp "$PKI/squid-ca.key" "$sq/ca.key" &&
        cp "$PKI/ca.crt" "$sq/origin-ca.crt" || return 1
    /usr/lib/squid/security_file_certgen -c -s "$sq/ssl_db" -M 4MB >/dev/null 2>&1 || return 1
    write_squid_conf "$sq" "${2:-bump}" "${3:-}"
    chown -R proxy:proxy "$sq"
    ip netns exec "$NS_S" timeout 40 squid -N -f "$sq/squid.conf" \
        >"$WORK/$n.squid.log" 2>&1 </dev/null &
    PROXY_PID=$!
    PIDS+=("$PROXY_PID")
    for _ in $(seq 100); do
        [ -n "$(sx ss -Hltn "sport = :3128")" ] && return 0
        sleep 0.1
    done
    cp "$sq/cache.log" "$WORK/$n.cache.log"
    return 1
}

start_sslsplit() {   # NAME: sslsplit on $S_IP:443, static destination the origin
    local n=$1
    cat "$PKI/sslsplit-ca.key" "$PKI/sslsplit-ca.crt" > "$WORK/sslsplit-ca.pem"
    ip netns exec "$NS_S" timeout 40 sslsplit -D -k "$WORK/sslsplit-ca.pem" \
        -c "$WORK/sslsplit-ca.pem" -l "$WORK/$n.connect.log" https "$S_IP" 443 "$O_IP" 443 \
        >"$WORK/$n.sslsplit.log" 2>&1 </dev/null &
    PROXY_PID=$!
    PIDS+=("$PROXY_PID")
    for _ in $(seq 100); do
        [ -n "$(sx ss -Hltn "sport = :443")" ] && return 0
        sleep 0.1
    done
    return 1
}

# A second client address, 198.18.0.9, on the client's veth (routed by the
# server namespace and the origin like the first).
CLIENT2_UP=
setup_client2() {
    [ -n "$CLIENT2_UP" ] && return 0
    setup_origin || return 1
    ip -n "$NS_C" addr add "$C2_IP/32" dev "$VETH_C" || return 1
    ip -n "$NS_S" route add "$C2_IP/32" dev "$VETH_S" || return 1
    ip -n "$NS_O" route add "$C2_IP/32" via "$R_IP" || return 1
    CLIENT2_UP=1
}

# A second address of the server namespace for squid's upstream
# connections (the origin routes it back through the server namespace).
UPSTREAM_UP=
setup_upstream_addr() {
    [ -n "$UPSTREAM_UP" ] && return 0
    setup_origin || return 1
    ip -n "$NS_S" addr add "$UP_IP/32" dev "$VETH_SO" || return 1
    ip -n "$NS_O" route add "$UP_IP/32" via "$R_IP" || return 1
    UPSTREAM_UP=1
}

write_squid_conf() {   # DIR [bump|splice [OUTGOING-ADDRESS]]
    local d=$1 mode=${2:-bump} out=${3:-}
    local rules="ssl_bump peek step1
ssl_bump stare step2
ssl_bump bump all"
    # Splicing is only possible after peeking (not staring).
    [ "$mode" = splice ] && rules="ssl_bump peek step1
ssl_bump splice all"
    cat > "$d/squid.conf" <<SQ
http_port $S_IP:3128 ssl-bump tls-cert=$d/ca.crt tls-key=$d/ca.key generate-host-certificates=on dynamic_cert_mem_cache_size=4MB
sslcrtd_program /usr/lib/squid/security_file_certgen -s $d/ssl_db -M 4MB
sslcrtd_children 2 startup=1 idle=1
acl step1 at_step SslBump1
acl step2 at_step SslBump2
$rules
tls_outgoing_options cafile=$d/origin-ca.crt
http_access allow all
cache deny all
access_log stdio:$d/access.log
cache_log $d/cache.log
pid_filename $d/squid.pid
coredump_dir $d
cache_effective_user proxy
shutdown_lifetime 1 second
dns_v4_first on
hosts_file /etc/hosts
SQ
    [ -n "$out" ] && echo "tcp_outgoing_address $out" >> "$d/squid.conf"
    return 0
}

# ---- PKI ------------------------------------------------------------------
make_pki() (
    mkdir -p "$WORK/pki" && cd "$WORK/pki" || exit 1
    {
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
        -subj "/C=ZZ/O=Pinscope Test/CN=Pinscope Test Root CA" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign &&
    openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.crt -days 3650 \
        -subj "/C=ZZ/O=Unrelated/CN=Unrelated Root CA" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign &&
    printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
        "extendedKeyUsage=serverAuth" "subjectAltName=DNS:$HOST" > ext.cnf &&
    openssl req -newkey rsa:2048 -nodes -keyout rsa.key -out rsa.csr -subj "/O=Pinscope Test/CN=$HOST" &&
    openssl x509 -req -in rsa.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
        -extfile ext.cnf -out rsa.crt &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ec.key -out ec.csr \
        -subj "/O=Pinscope Test/CN=$HOST" &&
    openssl x509 -req -in ec.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
        -extfile ext.cnf -out ec.crt &&
    cat rsa.crt ca.crt > rsa-chain.crt && cat ec.crt ca.crt > ec-chain.crt &&
    openssl req -x509 -newkey rsa:2048 -nodes -keyout squid-ca.key -out squid-ca.crt -days 3650 \
        -subj "/C=ZZ/O=Pinscope Lab/CN=Pinscope Lab Squid Inspection CA" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign &&
    openssl req -x509 -newkey rsa:2048 -nodes -keyout sslsplit-ca.key -out sslsplit-ca.crt -days 3650 \
        -subj "/C=ZZ/O=Pinscope Lab/CN=Pinscope Lab SSLsplit Inspection CA" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign &&
    cat ca.crt squid-ca.crt sslsplit-ca.crt > trusted-with-inspection.crt
    } >"$WORK/pki.log" 2>&1
)
make_pki || { cat "$WORK/pki.log" >&2; die "PKI generation failed"; }
PKI=$WORK/pki
mkdir -p "$WORK/www" && echo "hello from pinscope test server" > "$WORK/www/hello.txt"

# ---- helpers --------------------------------------------------------------
# HTTP CONNECT proxy: one tunnel, only to www.pinscope.test:443 (mapped to the
# server address), everything else refused.
cat > "$WORK/connect_proxy.py" <<'EOF'
import select, signal, socket, sys
signal.alarm(30)
listen_ip, port, target_ip = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ALLOWED = {("www.pinscope.test", 443): (target_ip, 443)}
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((listen_ip, port)); ls.listen(1)
c, _ = ls.accept(); c.settimeout(10)
req = b""
while b"\r\n\r\n" not in req:
    d = c.recv(4096)
    if not d: sys.exit(1)
    req += d
line = req.split(b"\r\n", 1)[0].decode("ascii", "replace").split()
host, _, p = line[1].rpartition(":") if len(line) == 3 and line[0] == "CONNECT" else ("", "", "0")
dest = ALLOWED.get((host, int(p) if p.isdigit() else 0))
if not dest:
    c.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"); sys.exit(1)
u = socket.create_connection(dest, timeout=10)
c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
socks = [c, u]
while True:
    r, _, _ = select.select(socks, [], [], 10)
    if not r: break
    for s in r:
        d = s.recv(65536)
        if not d: sys.exit(0)
        (u if s is c else c).sendall(d)
EOF

# SMTP server that offers STARTTLS, then speaks a little SMTP over TLS.
cat > "$WORK/smtp_starttls.py" <<'EOF'
import signal, socket, ssl, sys
signal.alarm(30)
listen_ip, port, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(cert, key)
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((listen_ip, port)); ls.listen(1)
c, _ = ls.accept(); c.settimeout(10)
f = c.makefile("rb")
c.sendall(b"220 mail.pinscope.test ESMTP ready\r\n")
while True:
    line = f.readline()
    if not line: sys.exit(1)
    cmd = line.strip().upper()
    if cmd.startswith(b"EHLO") or cmd.startswith(b"HELO"):
        c.sendall(b"250-mail.pinscope.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
    elif cmd == b"STARTTLS":
        c.sendall(b"220 2.0.0 Ready to start TLS\r\n")
        break
    else:
        c.sendall(b"500 unexpected\r\n")
t = ctx.wrap_socket(c, server_side=True)
tf = t.makefile("rb")
while True:
    line = tf.readline()
    if not line: break
    cmd = line.strip().upper()
    if cmd.startswith(b"EHLO"):
        t.sendall(b"250-mail.pinscope.test\r\n250 PIPELINING\r\n")
    elif cmd == b"QUIT":
        t.sendall(b"221 2.0.0 Bye\r\n"); break
    else:
        t.sendall(b"250 OK\r\n")
try: t.unwrap()
except (OSError, ssl.SSLError): pass
EOF

# TDS server (MS-TDS): answers one PRELOGIN with ENCRYPT_REQ, runs the TLS
# handshake with the PRELOGIN packets' payload as its transport (records
# split at the 4096-byte packet size), reads LOGIN7 from the TLS records that
# follow on the stream and refuses it (ERROR 18456, DONE).
cat > "$WORK/tds_server.py" <<'EOF'
import signal, socket, ssl, struct, sys
signal.alarm(30)
listen_ip, port, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

def recv_exact(c, n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d: raise EOFError("connection closed")
        b += d
    return b

def read_packet(c):
    h = recv_exact(c, 8)
    return h[0], recv_exact(c, struct.unpack(">H", h[2:4])[0] - 8)

def send_packets(c, typ, payload, size=4096):
    for i, off in enumerate(range(0, len(payload), size - 8)):
        chunk = payload[off:off + size - 8]
        last = off + size - 8 >= len(payload)
        c.sendall(struct.pack(">BBHHBB", typ, 1 if last else 0, len(chunk) + 8, 0,
                              (i + 1) & 0xff, 0) + chunk)

def prelogin_reply():   # VERSION 16.0.2000, ENCRYPTION ENCRYPT_REQ, INSTOPT, MARS off
    opts = [(0, bytes([16, 0, 0x07, 0xd0, 0, 0])), (1, b"\x03"), (2, b"\x00"), (4, b"\x00")]
    table, data = b"", b""
    for tok, val in opts:
        table += struct.pack(">BHH", tok, 5 * len(opts) + 1 + len(data), len(val))
        data += val
    return table + b"\xff" + data

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((listen_ip, port)); ls.listen(1)
c, _ = ls.accept(); c.settimeout(10)
if read_packet(c)[0] != 0x12: sys.exit("expected PRELOGIN")
send_packets(c, 0x04, prelogin_reply())
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(inc, out, server_side=True)
while True:
    try:
        tls.do_handshake(); break
    except ssl.SSLWantReadError:
        pending = out.read()
        if pending: send_packets(c, 0x12, pending)
        typ, payload = read_packet(c)
        if typ != 0x12: sys.exit("expected TLS in a PRELOGIN packet")
        inc.write(payload)
pending = out.read()
if pending: send_packets(c, 0x12, pending)
print("handshake done", tls.version(), flush=True)
login = b""
while len(login) < 8 or len(login) < struct.unpack(">H", login[2:4])[0]:
    try:
        login += tls.read(65536)
    except ssl.SSLWantReadError:
        d = c.recv(65536)
        if not d: sys.exit("no LOGIN7")
        inc.write(d)
if login[0] != 0x10: sys.exit("expected LOGIN7")
msg, srv = "Login failed for user 'sa'.".encode("utf-16-le"), "pinscope".encode("utf-16-le")
err = (struct.pack("<iBBH", 18456, 1, 14, len(msg) // 2) + msg + bytes([len(srv) // 2]) + srv +
       b"\x00" + struct.pack("<i", 1))
tokens = b"\xaa" + struct.pack("<H", len(err)) + err + b"\xfd" + struct.pack("<HHQ", 2, 0, 0)
tls.write(struct.pack(">BBHHBB", 0x04, 1, len(tokens) + 8, 0, 1, 0) + tokens)
c.sendall(out.read())
print("login refused", flush=True)
try: tls.unwrap()
except ssl.SSLError: pass
c.sendall(out.read())
c.close()
EOF

# A TCP -> WebSocket bridge for one connection (python3-websockets client:
# masked binary frames, no compression), as wstunnel-style clients do.
cat > "$WORK/ws_bridge.py" <<'EOF'
import asyncio, signal, sys
import websockets
signal.alarm(30)
listen_ip, listen_port, url = sys.argv[1], int(sys.argv[2]), sys.argv[3]

async def handle(reader, writer, done):
    async with websockets.connect(url, compression=None, max_size=None) as ws:
        async def up():
            while True:
                d = await reader.read(65536)
                if not d: break
                await ws.send(d)
            await ws.close()
        async def down():
            async for m in ws:
                writer.write(m)
                await writer.drain()
            writer.close()
        await asyncio.gather(up(), down())
    done.set()

async def main():
    done = asyncio.Event()
    srv = await asyncio.start_server(lambda r, w: handle(r, w, done), listen_ip, listen_port)
    async with srv:
        await done.wait()

asyncio.run(main())
EOF

TCPDUMP_PID=
start_capture() {   # NAME FILTER
    local name=$1 filter=$2
    rm -f "$WORK/$name.pcap"
    # Not through sx(): $! must be tcpdump's own pid (ip netns exec execs).
    local dev=$VETH_S
    case $name in squid_*_other_upstream) dev=any ;; esac   # both legs: two interfaces
    ip netns exec "$NS_S" timeout 60 tcpdump -i "$dev" -n -s 0 -U -w "$WORK/$name.pcap" "$filter" \
        2>"$WORK/$name.tcpdump.log" &
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
    sleep 0.3   # let the last FIN/ACKs through
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
start_server() {    # NAME PORT CMD... (run in the server namespace, cwd $WORK/www)
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
    for _ in $(seq 30); do   # servers with -naccept 1 exit by themselves
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -TERM "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=
}

# Client stdin: one line, then a pause so replies and tickets arrive, then EOF.
line_then_eof() { printf '%s\n' "$1"; sleep 0.5; }

# run_client NAME EXPECT(ok|fail) CMD... (client namespace, 15 s timeout)
run_client() {
    local name=$1 expect=$2; shift 2
    local rc
    line_then_eof "${CLIENT_INPUT:-hello}" | cx timeout 15 "$@" >"$WORK/$name.client.log" 2>&1
    rc=$?
    if [ "$expect" = ok ] && [ $rc -ne 0 ]; then
        log "$name: client exited $rc, expected success"; return 1
    fi
    if [ "$expect" = fail ] && { [ $rc -eq 0 ] || [ $rc -eq 124 ]; }; then
        log "$name: client exited $rc, expected a handshake failure"; return 1
    fi
    return 0
}

S_RSA=(-cert "$PKI/rsa.crt" -key "$PKI/rsa.key" -cert_chain "$PKI/ca.crt")
S_EC=(-cert "$PKI/ec.crt" -key "$PKI/ec.key" -cert_chain "$PKI/ca.crt")
SC=(openssl s_client -CAfile "$PKI/ca.crt" -verify_return_error -connect)

# ---- scenarios (each: server, client, expectation) --------------------------
scenario() {
    local n=$1
    CLIENT_INPUT=hello
    case $n in
    openssl_tls13_rsa)
        start_server "$n" 443 openssl s_server -accept 443 -naccept 1 -rev "${S_RSA[@]}" \
            -alpn h2,http/1.1 || return 1
        run_client "$n" ok "${SC[@]}" "$S_IP:443" -tls1_3 -servername "$HOST" -alpn h2,http/1.1 ;;
    openssl_tls12_ecdsa)
        start_server "$n" 443 openssl s_server -accept 443 -naccept 1 -rev "${S_EC[@]}" \
            -alpn http/1.1 || return 1
        run_client "$n" ok "${SC[@]}" "$S_IP:443" -tls1_2 -servername "$HOST" -alpn h2,http/1.1 ;;
    openssl_tls13_hrr)
        # Client sends an X25519 key share; the server only accepts P-256 and
        # answers with a HelloRetryRequest.
        start_server "$n" 443 openssl s_server -accept 443 -naccept 1 -rev "${S_RSA[@]}" \
            -groups P-256 || return 1
        run_client "$n" ok "${SC[@]}" "$S_IP:443" -tls1_3 -servername "$HOST" -groups X25519:P-256 ;;
    openssl_tls13_nosni)
        start_server "$n" 443 openssl s_server -accept 443 -naccept 1 -rev "${S_EC[@]}" || return 1
        run_client "$n" ok openssl s_client -connect "$S_IP:443" -CAfile "$PKI/ca.crt" \
            -tls1_3 -noservername ;;
    openssl_tls13_empty_client_cert)
        # The server asks for a client certificate and the client has none:
        # its first encrypted record is an empty Certificate message (25
        # bytes), not an alert (19).  No key log: the detection that reads
        # record sizes must not take it for a refusal.
        start_server "$n" 443 openssl s_server -accept 443 -naccept 1 -rev "${S_RSA[@]}" \
            -verify 1 || return 1
        run_client "$n" ok "${SC[@]}" "$S_IP:443" -tls1_3 -servername "$HOST" ;;
    gnutls_tls13_unknown_ca)
        # A TLS 1.3 client that does not trust the chain: GnuTLS sends its
        # fatal alert under the handshake keys, a 19-byte record where its
        # Finished belongs.  No key log: only the record's size shows it.
        start_server "$n" 443 openssl s_server -accept 443 -naccept 1 -rev "${S_RSA[@]}" || return 1
        run_client "$n" fail gnutls-cli --x509cafile "$PKI/other.crt" --port 443 \
            --priority NORMAL:-VERS-ALL:+VERS-TLS1.3 --sni-hostname "$HOST" "$S_IP" ;;
    pyopenssl_pin_refuses)
        # A pinning client in pyOpenSSL whose verify callback rejects the
        # leaf by its key (an exception in the callback, as pinning code
        # does): OpenSSL sends internal_error, not a certificate alert.
        cat > "$WORK/pin_client.py" <<'PY'
import socket, sys
from OpenSSL import SSL
def verify(conn, cert, errno, depth, ok):
    if depth == 0:
        raise ValueError("public key does not match the pin")
    return True
ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
ctx.set_max_proto_version(SSL.TLS1_2_VERSION)
ctx.set_verify(SSL.VERIFY_PEER, verify)
s = socket.create_connection((sys.argv[1], 443), timeout=10)
c = SSL.Connection(ctx, s)
c.set_tlsext_host_name(sys.argv[2].encode())
c.set_connect_state()
try:
    c.do_handshake()
except Exception as e:
    print("refused:", e)
    sys.exit(1)
PY
        start_server "$n" 443 openssl s_server -accept 443 -naccept 1 -rev "${S_RSA[@]}" || return 1
        run_client "$n" fail /usr/bin/python3 "$WORK/pin_client.py" "$S_IP" "$HOST" ;;
    openssl_tls12_unknown_ca)
        # The client trusts another CA: fatal unknown_ca alert after the
        # server's Certificate (visible, as TLS 1.2 does not encrypt it).
        start_server "$n" 443 openssl s_server -accept 443 -naccept 1 -rev "${S_RSA[@]}" || return 1
        run_client "$n" fail openssl s_client -connect "$S_IP:443" -CAfile "$PKI/other.crt" \
            -verify_return_error -tls1_2 -servername "$HOST" ;;
    openssl_version_mismatch)
        # TLS 1.3-only server, TLS 1.2-only client: protocol_version alert,
        # no ServerHello.
        start_server "$n" 443 openssl s_server -accept 443 -naccept 1 -rev "${S_RSA[@]}" \
            -tls1_3 || return 1
        run_client "$n" fail "${SC[@]}" "$S_IP:443" -tls1_2 -servername "$HOST" ;;
    curl_tls13)
        start_server "$n" 443 openssl s_server -accept 443 -naccept 1 -WWW "${S_RSA[@]}" \
            -alpn http/1.1 || return 1
        run_client "$n" ok curl -sS -o /dev/null --max-time 10 --cacert "$PKI/ca.crt" \
            --resolve "$HOST:443:$S_IP" "https://$HOST/hello.txt" ;;
    curl_pin_refuses_tls13|curl_pin_refuses_tls12|curl_pin_ok_tls13|curl_pin_ok_tls12)
        # curl --pinnedpubkey checks the pin after the handshake: a wrong pin
        # sends close_notify and FIN right after the client's Finished (exit
        # 90), the right one sends the request.  openssl s_server -WWW.
        local pin ver=(--tlsv1.3) expect=ok
        pin=$(openssl x509 -in "$PKI/rsa.crt" -pubkey -noout | openssl pkey -pubin -outform der |
              openssl dgst -sha256 -binary | base64)
        case $n in *refuses*) pin=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=; expect=fail ;; esac
        case $n in *tls12) ver=(--tlsv1.2 --tls-max 1.2) ;; esac
        start_server "$n" 443 openssl s_server -accept 443 -naccept 1 -WWW "${S_RSA[@]}" \
            -alpn http/1.1 || return 1
        run_client "$n" "$expect" curl -sS -o /dev/null --max-time 10 --cacert "$PKI/ca.crt" \
            "${ver[@]}" --pinnedpubkey "sha256//$pin" --resolve "$HOST:443:$S_IP" \
            "https://$HOST/hello.txt" ;;
    curl_tls12_port8443)
        start_server "$n" 8443 openssl s_server -accept 8443 -naccept 1 -WWW "${S_EC[@]}" || return 1
        run_client "$n" ok curl -sS -o /dev/null --max-time 10 --cacert "$PKI/ca.crt" \
            --tlsv1.2 --tls-max 1.2 --resolve "$HOST:8443:$S_IP" "https://$HOST:8443/hello.txt" ;;
    gnutls_tls13)
        start_server "$n" 443 openssl s_server -accept 443 -naccept 1 -rev "${S_RSA[@]}" \
            -alpn h2,http/1.1 || return 1
        run_client "$n" ok gnutls-cli --x509cafile="$PKI/ca.crt" --sni-hostname="$HOST" \
            --verify-hostname="$HOST" --alpn=h2 --alpn=http/1.1 -p 443 "$S_IP" ;;
    gnutls_tls12)
        start_server "$n" 443 openssl s_server -accept 443 -naccept 1 -rev "${S_EC[@]}" || return 1
        run_client "$n" ok gnutls-cli --x509cafile="$PKI/ca.crt" --sni-hostname="$HOST" \
            --verify-hostname="$HOST" --priority="NORMAL:-VERS-ALL:+VERS-TLS1.2" -p 443 "$S_IP" ;;
    http_connect_tunnel)
        # Only the client <-> proxy leg (port 3128) is captured.
        start_server "$n" 443 openssl s_server -accept 443 -naccept 1 -WWW "${S_RSA[@]}" \
            -alpn http/1.1 || return 1
        ip netns exec "$NS_S" timeout 30 python3 "$WORK/connect_proxy.py" "$S_IP" 3128 "$S_IP" \
            >"$WORK/$n.proxy.log" 2>&1 </dev/null &
        PIDS+=("$!")
        for _ in $(seq 50); do
            [ -n "$(sx ss -Hltn "sport = :3128")" ] && break; sleep 0.1
        done
        run_client "$n" ok curl -sS -o /dev/null --max-time 10 --cacert "$PKI/ca.crt" \
            --proxy "http://$S_IP:3128" --noproxy "" "https://$HOST/hello.txt" ;;
    smtp_starttls)
        start_server "$n" 25 python3 "$WORK/smtp_starttls.py" "$S_IP" 25 \
            "$PKI/rsa-chain.crt" "$PKI/rsa.key" || return 1
        CLIENT_INPUT=QUIT
        run_client "$n" ok "${SC[@]}" "$S_IP:25" -starttls smtp -servername "$HOST" -crlf ;;
    tds_tls)
        # tsql verifies the chain against the test CA (no host name: it
        # connects to the address and FreeTDS with GnuTLS sends no SNI);
        # the login is refused by design, so tsql exits 1.
        printf '[global]\n\ttds version = 7.4\n\tencryption = require\n\tca file = %s\n\tcheck certificate hostname = no\n' \
            "$PKI/ca.crt" > "$WORK/freetds.conf"
        start_server "$n" 1433 python3 "$WORK/tds_server.py" "$S_IP" 1433 \
            "$PKI/rsa-chain.crt" "$PKI/rsa.key" || return 1
        run_client "$n" fail env FREETDSCONF="$WORK/freetds.conf" tsql -H "$S_IP" -p 1433 \
            -U sa -P pinscope || return 1
        stop_server
        # All of it takes well under a second: give tcpdump's ring buffer
        # its block timeout (1 s) before it is stopped.
        sleep 1
        grep -q "login refused" "$WORK/$n.server.log" ||
            { log "$n: the server did not get through the handshake to LOGIN7"; return 1; } ;;
    websocket_tls)
        start_server "$n" 443 openssl s_server -accept 443 -naccept 1 -rev "${S_RSA[@]}" || return 1
        sx timeout 30 websockify --run-once "$S_IP:8080" "$S_IP:443" \
            >"$WORK/$n.websockify.log" 2>&1 </dev/null &
        PIDS+=("$!")
        cx timeout 30 /usr/bin/python3 "$WORK/ws_bridge.py" 127.0.0.1 4433 "ws://$S_IP:8080/" \
            >"$WORK/$n.bridge.log" 2>&1 </dev/null &
        PIDS+=("$!")
        for _ in $(seq 50); do
            [ -n "$(sx ss -Hltn "sport = :8080")" ] && [ -n "$(cx ss -Hltn "sport = :4433")" ] &&
                break
            sleep 0.1
        done
        run_client "$n" ok "${SC[@]}" 127.0.0.1:4433 -tls1_3 -servername "$HOST" \
            -keylogfile "$WORK/$n.keylog" || return 1
        grep -q "^olleh" "$WORK/$n.client.log" ||
            { log "$n: no reply came back through the tunnel"; return 1; } ;;
    keyless_direct_a|keyless_direct_b)
        start_origin "$n" 3 || return 1
        keyless_clients "$n" 3 --resolve "$HOST:443:$O_IP" ;;
    keyless_squid_bump)
        start_origin "$n" 3 || return 1
        start_squid "$n" || return 1
        keyless_clients "$n" 3 --proxy "http://$S_IP:3128" --noproxy "" ||
            { cp "$WORK/squid/cache.log" "$WORK/$n.cache.log"; return 1; }
        stop_proxy ;;
    keyless_sslsplit)
        start_origin "$n" 3 || return 1
        start_sslsplit "$n" || return 1
        keyless_clients "$n" 3 --resolve "$HOST:443:$S_IP" || return 1
        stop_proxy ;;
    keyless_two_clients)
        # Two clients, both direct: one server name, one way of answering.
        start_origin "$n" 4 || return 1
        setup_client2 || return 1
        keyless_clients "$n.a" 2 --resolve "$HOST:443:$O_IP" || return 1
        keyless_clients "$n.b" 2 --interface "$C2_IP" --resolve "$HOST:443:$O_IP" ;;
    keyless_mixed_sslsplit)
        # The same curl from two clients, the second through sslsplit.
        start_origin "$n" 4 || return 1
        setup_client2 || return 1
        start_sslsplit "$n" || return 1
        keyless_clients "$n.a" 2 --resolve "$HOST:443:$O_IP" || return 1
        keyless_clients "$n.b" 2 --interface "$C2_IP" --resolve "$HOST:443:$S_IP" || return 1
        stop_proxy ;;
    squid_bump_other_upstream|squid_splice_other_upstream)
        # curl -x squid, TLS 1.2, squid's upstream from $UP_IP: two fetches.
        local mode=bump i
        [ "$n" = squid_splice_other_upstream ] && mode=splice
        setup_upstream_addr || return 1
        start_origin "$n" 2 -tls1_2 || return 1
        start_squid "$n" "$mode" "$UP_IP" || return 1
        for i in 1 2; do
            run_client "$n.$i" ok curl -sS --max-time 10 --tlsv1.2 --tls-max 1.2 \
                --cacert "$PKI/trusted-with-inspection.crt" -x "http://$S_IP:3128" \
                --noproxy "" "https://$HOST/hello.txt" ||
                { cp "$WORK/squid/cache.log" "$WORK/$n.cache.log"; return 1; }
            grep -q "hello from pinscope" "$WORK/$n.$i.client.log" ||
                { log "$n: fetch $i did not get the page"; return 1; }
            sleep 1
        done
        stop_proxy ;;
    keyless_mixed_squid)
        # The same, the second client through squid's ssl-bump.
        start_origin "$n" 4 || return 1
        setup_client2 || return 1
        start_squid "$n" || return 1
        keyless_clients "$n.a" 2 --resolve "$HOST:443:$O_IP" || return 1
        keyless_clients "$n.b" 2 --interface "$C2_IP" --proxy "http://$S_IP:3128" --noproxy "" ||
            return 1
        stop_proxy ;;
    *)
        log "unknown scenario $n"; return 1 ;;
    esac
}

filter_for() {
    case $1 in
    http_connect_tunnel) echo "tcp port 3128" ;;
    smtp_starttls) echo "tcp port 25" ;;
    curl_tls12_port8443) echo "tcp port 8443" ;;
    tds_tls) echo "tcp port 1433" ;;
    websocket_tls) echo "tcp port 8080" ;;
    keyless_*) echo "(host $C_IP or host $C2_IP) and (tcp port 443 or tcp port 3128)" ;;
    squid_*_other_upstream) echo "(host $C_IP and tcp port 3128) or (host $UP_IP and tcp port 443)" ;;
    *) echo "tcp port 443" ;;
    esac
}

# ---- main -----------------------------------------------------------------
want=${*:-$SCENARIOS}
mkdir -p "$GOLDEN"
ok=0 bad=0
for n in $want; do
    if ! echo " $SCENARIOS " | tr '\n' ' ' | grep -q " $n "; then
        log "unknown scenario $n (-l lists them)"; bad=$((bad + 1)); continue
    fi
    if start_capture "$n" "$(filter_for "$n")"; then
        scenario "$n"
        rc=$?
        stop_server
        stop_proxy
        stop_origin
        stop_capture
    else
        rc=1
    fi
    pkts=0
    [ -s "$WORK/$n.pcap" ] && pkts=$(tcpdump -nr "$WORK/$n.pcap" 2>/dev/null | wc -l)
    if [ $rc -eq 0 ] && [ "$pkts" -ge 6 ]; then
        cp "$WORK/$n.pcap" "$GOLDEN/$n.pcap"
        [ -s "$WORK/$n.keylog" ] && cp "$WORK/$n.keylog" "$GOLDEN/$n.keylog"
        echo "ok   $n ($pkts packets, $(wc -c < "$GOLDEN/$n.pcap") bytes)"
        ok=$((ok + 1))
    else
        echo "FAIL $n (rc=$rc, $pkts packets); logs:"
        for f in "$WORK/$n".*.log; do
            [ -f "$f" ] && { echo "  --- ${f##*/}"; tail -n 8 "$f" | sed 's/^/  /'; }
        done
        bad=$((bad + 1))
    fi
done
total=$(cat "$GOLDEN"/*.pcap "$GOLDEN"/*.pcapng 2>/dev/null | wc -c)
echo "make_golden_captures: $ok written, $bad failed; tests/golden pcaps total $total bytes"
[ "$total" -lt 1048576 ] || echo "make_golden_captures: WARNING: golden pcaps exceed 1 MB"
[ $bad -eq 0 ]
