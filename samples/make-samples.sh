#!/usr/bin/env bash
# make-samples.sh - makes the sample captures in samples/: real TLS clients
# talking to a demo bank and shop, directly and through TLS interception
# proxies, with the key logs the clients (and mitmproxy) wrote.
#
# Network: three namespaces, every address in 198.18.0.0/15 (RFC 2544
# benchmark range; nothing else is used and nothing leaves the namespaces):
#
#   client 198.18.0.10 --- 198.18.0.1 [proxy/router] 198.18.1.1 --- server
#                                                        198.18.1.10 www.bank.test
#                                                        198.18.1.11 api.shop.test
#
# The proxy namespace routes.  For the intercepted captures it also runs a
# TLS interception proxy (mitmdump in transparent mode, or socat) and
# redirects the clients' port 443 to it with iptables, the way a
# transparent inspection box does; the clients run the same commands as in
# the clean captures.  The client namespace resolves names with its own
# /etc/hosts (ip netns exec bind-mounts /etc/netns/NAME/hosts), curl
# --resolve and Chromium --host-resolver-rules; its only DNS server is a
# 198.18 address where nothing listens.
#
# PKI (samples/pki, kept between runs so that samples/policy.json stays
# valid; made again only when missing or when a leaf expires within 30
# days): "Pinscope Demo Public Root CA" -> "Pinscope Demo Public Issuing CA
# 1" -> www.bank.test, api.shop.test; "Acme Corp SSL Inspection Root" (the
# interception CA mitmproxy mints leaves from); a leaf for www.bank.test
# minted from the Acme root at the start of every run for socat.  The
# clients trust both roots (a managed device); the pinning clients pin the
# bank's leaf key (curl) or trust only its issuing CA (python3).
#
# Captures: tcpdump in the proxy namespace, on its client-side veth for the
# clean captures, on both veths (merged with mergecap) for the intercepted
# ones, so both legs - client->proxy and proxy->server - are in one file.
# Each capture is checked with tshark (handshakes, both legs, the pinning
# client's alert) and, when ./pinscope is built, with pinscope (one event
# per leg, chains visible, expected issuer); only captures that pass are
# written.  Then samples/policy.json is written again from the PKI and the
# fingerprints pinscope reads in the clean captures.
#
# Usage: sudo samples/make-samples.sh [-l] [NAME...]   (-l lists the captures)
#        MAKE_SAMPLES_KEEP=1 keeps the work directory (logs, all captures).
# Needs root (namespaces, iptables, tcpdump); installs missing Debian
# packages.  Runs for about 90 seconds; a watchdog stops it after five minutes.
set -u

cd "$(dirname "$0")/.." || exit 1
OUT=samples
PKI=$OUT/pki
C_IP=198.18.0.10
PC_IP=198.18.0.1
PS_IP=198.18.1.1
BANK_IP=198.18.1.10
SHOP_IP=198.18.1.11
PY=/usr/bin/python3          # Debian's python3 (mitmproxy's too), not a PATH shim
NS_C=pinscope-smc-$$
NS_P=pinscope-smp-$$
NS_S=pinscope-sms-$$
V_C=smc$$      # client end      } client link
V_PC=smpc$$    # proxy end       }
V_PS=smps$$    # proxy end       } server link
V_S=sms$$      # server end      }
WORK=
PIDS=()
WATCHDOG=
NETNS_ETC_MADE=

SCENARIOS="clean_curl_tls13 clean_curl_tls12 clean_openssl_tls13 clean_openssl_tls12
clean_gnutls_tls13 clean_gnutls_tls12 clean_python_tls13 clean_python_tls12
clean_chromium_tls13 clean_firefox_tls13 clean_firefox_tls12
mitm_mitmproxy_curl mitm_mitmproxy_openssl_tls12 mitm_mitmproxy_gnutls mitm_mitmproxy_python
mitm_mitmproxy_chromium mitm_mitmproxy_firefox
pinning_client_refuses pinning_python_refuses_tls12 pinning_python_refuses_tls13
mitm_mitmproxy_defaultca_curl
mitm_socat_curl mitm_socat_openssl_tls12"

die() { echo "make-samples: $*" >&2; exit 1; }
log() { echo "make-samples: $*" >&2; }

if [ "${1:-}" = "-l" ]; then printf '%s\n' $SCENARIOS; exit 0; fi
for n in "$@"; do
    echo " $SCENARIOS " | tr '\n' ' ' | grep -q " $n " || die "unknown capture $n (-l lists them)"
done
WANT=" ${*:-$SCENARIOS} "
WANT=$(echo "$WANT" | tr '\n' ' ')
[ "$(id -u)" = 0 ] || die "must run as root (network namespaces, iptables, tcpdump)"

# ---- packages -------------------------------------------------------------
install_missing() {
    local missing="" pair
    for pair in openssl:openssl curl:curl gnutls-cli:gnutls-bin tcpdump:tcpdump \
                $PY:python3 ip:iproute2 ss:iproute2 timeout:coreutils iptables:iptables \
                mitmdump:mitmproxy socat:socat chromium:chromium firefox-esr:firefox-esr \
                certutil:libnss3-tools tshark:tshark mergecap:wireshark-common ethtool:ethtool; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
    done
    if [ -n "$missing" ]; then
        log "installing:$missing"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        # shellcheck disable=SC2086 # $missing is a list of package names
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null ||
            die "apt-get install$missing failed"
    fi
}
install_missing

# ---- cleanup --------------------------------------------------------------
# Processes run under timeout(1); their children are ended by pid too.
stop_pids() {   # PID...
    local p kids=()
    for p in "$@"; do mapfile -t -O "${#kids[@]}" kids < <(pgrep -P "$p" 2>/dev/null); done
    for p in "$@" "${kids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for _ in $(seq 30); do
        local alive=0
        for p in "$@" "${kids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    for p in "${kids[@]}" "$@"; do kill -KILL "$p" 2>/dev/null; done
    for p in "$@"; do wait "$p" 2>/dev/null; done
}

cleanup() {
    [ ${#PIDS[@]} -gt 0 ] && stop_pids "${PIDS[@]}"
    [ -n "$WATCHDOG" ] && { kill "$WATCHDOG" 2>/dev/null; wait "$WATCHDOG" 2>/dev/null; }
    ip netns del "$NS_C" 2>/dev/null
    ip netns del "$NS_P" 2>/dev/null
    ip netns del "$NS_S" 2>/dev/null
    rm -rf "/etc/netns/$NS_C"
    [ -n "$NETNS_ETC_MADE" ] && rmdir /etc/netns 2>/dev/null
    if [ -n "$WORK" ]; then
        if [ -n "${MAKE_SAMPLES_KEEP:-}" ]; then log "work files kept in $WORK"; else rm -rf "$WORK"; fi
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
# Whole-run bound: TERM ourselves after 295 s (the trap cleans up).
( sleep 295 >/dev/null 2>&1; log "watchdog: run took too long, stopping"; kill -TERM $$ ) &
WATCHDOG=$!

WORK=$(mktemp -d /tmp/pinscope-samples.XXXXXX) || die "mktemp failed"
mkdir -p "$WORK/cap" "$WORK/logs" "$WORK/ok"

# ---- PKI ------------------------------------------------------------------
# Kept when complete and not about to expire, so the pins in policy.json
# stay right between runs.
pki_ok() {
    local f
    for f in public-root-ca public-issuing-ca www.bank.test api.shop.test acme-inspection-root-ca; do
        [ -s "$PKI/$f.pem" ] && [ -s "$PKI/$f.key" ] || return 1
    done
    openssl x509 -checkend 2592000 -noout -in "$PKI/www.bank.test.pem" >/dev/null 2>&1 &&
    openssl x509 -checkend 2592000 -noout -in "$PKI/api.shop.test.pem" >/dev/null 2>&1
}

# Validity is backdated as a real public PKI's would be (root 3 years,
# issuing CA 1 year, leaves 30 days before the PKI is made): a leaf that
# became valid seconds before use is what interception proxies produce.
make_pki() (
    set -e
    d=$1; mkdir -p "$d"; cd "$d"
    when() { date -u -d "$1" +%Y%m%d%H%M%SZ; }
    printf '%s\n' "[ca]" "default_ca=d" "[d]" "database=index.txt" "new_certs_dir=issued" \
        "default_md=sha256" "policy=p" "rand_serial=yes" "unique_subject=no" \
        "[p]" "countryName=optional" "organizationName=optional" \
        "organizationalUnitName=optional" "commonName=supplied" > ca.cnf
    : > index.txt
    mkdir -p issued
    sign() {   # OUT CSR START END EXTFILE [CACERT CAKEY | -selfsign KEY]
        local out=$1 csr=$2 start=$3 end=$4 ext=$5
        shift 5
        if [ "$1" = -selfsign ]; then set -- -selfsign -keyfile "$2"; else set -- -cert "$1" -keyfile "$2"; fi
        openssl ca -batch -config ca.cnf -notext -in "$csr" -out "$out" \
            -startdate "$(when "$start")" -enddate "$(when "$end")" -extfile "$ext" "$@"
    }
    printf '%s\n' "basicConstraints=critical,CA:TRUE" "keyUsage=critical,keyCertSign,cRLSign" \
        "subjectKeyIdentifier=hash" > root.ext
    printf '%s\n' "basicConstraints=critical,CA:TRUE,pathlen:0" "keyUsage=critical,keyCertSign,cRLSign" \
        "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid:always" > inter.ext
    openssl req -newkey rsa:2048 -nodes -keyout public-root-ca.key -out root.csr \
        -subj "/C=ZZ/O=Pinscope Demo Trust Services/CN=Pinscope Demo Public Root CA"
    sign public-root-ca.pem root.csr "-3 years" "+17 years" root.ext -selfsign public-root-ca.key
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout public-issuing-ca.key \
        -out inter.csr -subj "/C=ZZ/O=Pinscope Demo Trust Services/CN=Pinscope Demo Public Issuing CA 1"
    sign public-issuing-ca.pem inter.csr "-1 year" "+5 years" inter.ext public-root-ca.pem public-root-ca.key
    for host in www.bank.test api.shop.test; do
        case $host in
        www.bank.test) o="Pinscope Demo Bank" ;;
        *) o="Pinscope Demo Shop" ;;
        esac
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$host.key" \
            -out leaf.csr -subj "/C=ZZ/O=$o/CN=$host"
        printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
            "extendedKeyUsage=serverAuth" "subjectAltName=DNS:$host" \
            "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid:always" > leaf.ext
        sign "$host.pem" leaf.csr "-30 days" "+367 days" leaf.ext public-issuing-ca.pem public-issuing-ca.key
    done
    openssl req -newkey rsa:2048 -nodes -keyout acme-inspection-root-ca.key -out acme.csr \
        -subj "/C=ZZ/O=Acme Corp/OU=IT Security/CN=Acme Corp SSL Inspection Root"
    sign acme-inspection-root-ca.pem acme.csr "-400 days" "+3250 days" root.ext \
        -selfsign acme-inspection-root-ca.key
    rm -rf ./*.csr ./*.ext ca.cnf index.txt* issued
)

# Per run: the leaf the socat proxy presents, minted from the Acme root a
# moment before use, as inspection products do.
mint_socat_leaf() (
    set -e
    cd "$1"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout acme-minted-www.bank.test.key -out minted.csr \
        -subj "/C=ZZ/O=Pinscope Demo Bank/CN=www.bank.test"
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
        "extendedKeyUsage=serverAuth" "subjectAltName=DNS:www.bank.test" > minted.ext
    openssl x509 -req -in minted.csr -CA acme-inspection-root-ca.pem -CAkey acme-inspection-root-ca.key \
        -set_serial "0x$(openssl rand -hex 16)" -days 365 -extfile minted.ext \
        -out acme-minted-www.bank.test.pem
    rm -f minted.csr minted.ext
)

mkdir -p "$WORK/pki"
if pki_ok; then
    cp "$PKI"/* "$WORK/pki/"
    PKI_NEW=0
else
    log "making a new demo PKI (pins in policy.json change)"
    make_pki "$WORK/pki" >"$WORK/logs/pki.log" 2>&1 || { cat "$WORK/logs/pki.log" >&2; die "PKI generation failed"; }
    PKI_NEW=1
fi
mint_socat_leaf "$WORK/pki" >>"$WORK/logs/pki.log" 2>&1 || { cat "$WORK/logs/pki.log" >&2; die "minting the socat leaf failed"; }
P=$WORK/pki
cat "$P/www.bank.test.pem" "$P/public-issuing-ca.pem" > "$WORK/bank-chain.pem"
cat "$P/api.shop.test.pem" "$P/public-issuing-ca.pem" > "$WORK/shop-chain.pem"
cat "$P/public-root-ca.pem" "$P/acme-inspection-root-ca.pem" > "$WORK/managed-trust.pem"
mkdir -p "$WORK/mitm-acme" "$WORK/mitm-default"
cat "$P/acme-inspection-root-ca.key" "$P/acme-inspection-root-ca.pem" > "$WORK/mitm-acme/mitmproxy-ca.pem"
cp "$P/acme-inspection-root-ca.pem" "$WORK/mitm-acme/mitmproxy-ca-cert.pem"
pin_of() { openssl x509 -pubkey -noout -in "$1" | openssl pkey -pubin -outform DER |
           openssl dgst -sha256 -binary | base64; }
BANK_PIN=$(pin_of "$P/www.bank.test.pem")

# ---- namespaces -----------------------------------------------------------
ip netns add "$NS_C" || die "ip netns add failed (need CAP_SYS_ADMIN)"
ip netns add "$NS_P" || die "ip netns add failed"
ip netns add "$NS_S" || die "ip netns add failed"
ip link add "$V_C" netns "$NS_C" type veth peer name "$V_PC" netns "$NS_P" || die "cannot create veth pair"
ip link add "$V_PS" netns "$NS_P" type veth peer name "$V_S" netns "$NS_S" || die "cannot create veth pair"
ip -n "$NS_C" addr add "$C_IP/24" dev "$V_C"
ip -n "$NS_P" addr add "$PC_IP/24" dev "$V_PC"
ip -n "$NS_P" addr add "$PS_IP/24" dev "$V_PS"
ip -n "$NS_S" addr add "$BANK_IP/24" dev "$V_S"
ip -n "$NS_S" addr add "$SHOP_IP/24" dev "$V_S"
for ns in "$NS_C" "$NS_P" "$NS_S"; do ip -n "$ns" link set lo up; done
ip -n "$NS_C" link set "$V_C" up
ip -n "$NS_P" link set "$V_PC" up
ip -n "$NS_P" link set "$V_PS" up
ip -n "$NS_S" link set "$V_S" up
ip -n "$NS_C" route add default via "$PC_IP"
ip -n "$NS_S" route add default via "$PS_IP"
ip netns exec "$NS_P" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$NS_P" sysctl -qw net.ipv4.conf.all.send_redirects=0
for pair in "$NS_C:$V_C" "$NS_P:$V_PC" "$NS_P:$V_PS" "$NS_S:$V_S"; do
    # Valid checksums in the captures; one TCP segment per packet.
    ip netns exec "${pair%%:*}" ethtool -K "${pair#*:}" tx off rx off tso off gso off gro off >/dev/null 2>&1
done
[ -d /etc/netns ] || NETNS_ETC_MADE=1
mkdir -p "/etc/netns/$NS_C"
printf '127.0.0.1 localhost\n%s www.bank.test\n%s api.shop.test\n' "$BANK_IP" "$SHOP_IP" \
    > "/etc/netns/$NS_C/hosts"
printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$PC_IP" > "/etc/netns/$NS_C/resolv.conf"
for _ in $(seq 50); do
    ip netns exec "$NS_C" ping -c1 -W1 "$BANK_IP" >/dev/null 2>&1 && break
    sleep 0.1
done

cx() { ip netns exec "$NS_C" "$@"; }
px() { ip netns exec "$NS_P" "$@"; }
sx() { ip netns exec "$NS_S" "$@"; }

wait_listen() {   # NS ADDR:PORT PID
    for _ in $(seq 100); do
        [ -n "$(ip netns exec "$1" ss -Hltn "src $2" 2>/dev/null)" ] && return 0
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# ---- servers (whole run) --------------------------------------------------
cat > "$WORK/server.py" <<'EOF'
# HTTPS demo servers: www.bank.test and api.shop.test, TLS 1.2 and 1.3,
# HTTP/1.1, each connection in its own thread.
import http.server, signal, socketserver, ssl, sys, threading
signal.alarm(int(sys.argv[1]))

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5
    def do_GET(self):
        name = self.server.site
        if self.path in ("/", "/index.html"):
            body = ("<!doctype html><title>%s</title><h1>%s</h1><p>Demo page.</p>\n"
                    % (name, name)).encode()
            self.send_response(200)
        else:
            body = b"not found\n"
            self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.server.site, fmt % args))

class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    def finish_request(self, request, client_address):
        request.settimeout(10)
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError) as e:
            sys.stderr.write("%s handshake with %s failed: %s\n" % (self.site, client_address[0], e))
            return
        self.RequestHandlerClass(tls, client_address, self)
        try:
            tls.unwrap()          # close_notify, as real servers send
        except (OSError, ssl.SSLError):
            pass

for spec in sys.argv[2:]:
    ip, site, chain, key = spec.split(",")
    srv = Server((ip, 443), Handler)
    srv.site = site
    srv.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    srv.ctx.load_cert_chain(chain, key)
    srv.ctx.set_alpn_protocols(["http/1.1"])
    threading.Thread(target=srv.serve_forever, daemon=True).start()
threading.Event().wait()
EOF
sx timeout 300 "$PY" "$WORK/server.py" 300 \
    "$BANK_IP,www.bank.test,$WORK/bank-chain.pem,$P/www.bank.test.key" \
    "$SHOP_IP,api.shop.test,$WORK/shop-chain.pem,$P/api.shop.test.key" \
    >"$WORK/logs/server.log" 2>&1 </dev/null &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
wait_listen "$NS_S" "$BANK_IP:443" "$SERVER_PID" && wait_listen "$NS_S" "$SHOP_IP:443" "$SERVER_PID" ||
    { cat "$WORK/logs/server.log" >&2; die "demo servers did not start"; }

# ---- proxies --------------------------------------------------------------
PROXY_PID=
PROXY_KEYLOG=
proxy_stop() {
    px iptables -t nat -F PREROUTING 2>/dev/null
    [ -n "$PROXY_PID" ] || return 0
    stop_pids "$PROXY_PID"
    for _ in $(seq 50); do   # the next proxy needs the port
        [ -z "$(px ss -Hltn "src $PC_IP" 2>/dev/null)" ] && break
        sleep 0.1
    done
    PROXY_PID='' PROXY_KEYLOG=''
}

redirect_443_to() {
    px iptables -t nat -F PREROUTING &&
    px iptables -t nat -A PREROUTING -i "$V_PC" -p tcp --dport 443 -j REDIRECT --to-ports "$1"
}

# mitmdump as a transparent proxy; CONFDIR holds its CA (Acme, or one it
# makes itself).  It verifies the real servers against the public root and
# writes the session keys of both legs to SSLKEYLOGFILE.
proxy_mitmproxy() {   # CONFDIR
    local conf=$1
    proxy_stop
    PROXY_KEYLOG=$WORK/mitmproxy-${conf##*/}.keylog
    : > "$PROXY_KEYLOG"
    mkdir -p "$WORK/mitmhome"
    px env HOME="$WORK/mitmhome" SSLKEYLOGFILE="$PROXY_KEYLOG" timeout 280 mitmdump \
        --mode transparent --listen-host "$PC_IP" --listen-port 8080 \
        --set confdir="$conf" --set ssl_verify_upstream_trusted_ca="$P/public-root-ca.pem" \
        --set termlog_verbosity=warn --set flow_detail=0 \
        >"$WORK/logs/mitmproxy-${conf##*/}.log" 2>&1 </dev/null &
    PROXY_PID=$!
    PIDS+=("$PROXY_PID")
    wait_listen "$NS_P" "$PC_IP:8080" "$PROXY_PID" || { log "mitmdump did not start"; return 1; }
    redirect_443_to 8080
}

# socat: terminate TLS with the Acme-minted leaf, re-originate to the real
# bank (verified against the public root, TLS 1.2 at most upstream).
proxy_socat() {
    proxy_stop
    px timeout 280 socat \
        "OPENSSL-LISTEN:8443,bind=$PC_IP,reuseaddr,fork,cert=$P/acme-minted-www.bank.test.pem,key=$P/acme-minted-www.bank.test.key,verify=0" \
        "OPENSSL:$BANK_IP:443,cafile=$P/public-root-ca.pem,commonname=www.bank.test,snihost=www.bank.test,openssl-max-proto-version=TLS1.2" \
        >"$WORK/logs/socat.log" 2>&1 </dev/null &
    PROXY_PID=$!
    PIDS+=("$PROXY_PID")
    wait_listen "$NS_P" "$PC_IP:8443" "$PROXY_PID" || { log "socat did not start"; return 1; }
    redirect_443_to 8443
}

# ---- capture --------------------------------------------------------------
CAP_PIDS=()
start_capture() {   # NAME IFACE...
    local name=$1 i; shift
    CAP_PIDS=()
    for i in "$@"; do
        rm -f "$WORK/cap/$name.$i.pcap"
        ip netns exec "$NS_P" timeout 90 tcpdump -i "$i" -n -s 0 -U -w "$WORK/cap/$name.$i.pcap" \
            "tcp port 443" 2>"$WORK/logs/$name.$i.tcpdump.log" &
        CAP_PIDS+=("$!")
        PIDS+=("$!")
    done
    for i in "$@"; do
        for _ in $(seq 50); do
            grep -q "listening on" "$WORK/logs/$name.$i.tcpdump.log" 2>/dev/null && break
            sleep 0.1
        done
        grep -q "listening on" "$WORK/logs/$name.$i.tcpdump.log" ||
            { log "$name: tcpdump on $i did not start"; return 1; }
    done
    sleep 0.2
}

stop_capture() {   # NAME IFACE...
    local name=$1 p files=(); shift
    sleep 0.5   # the last FIN/ACKs
    for p in "${CAP_PIDS[@]}"; do kill -INT "$p" 2>/dev/null; done
    for p in "${CAP_PIDS[@]}"; do
        for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null
    done
    CAP_PIDS=()
    for p in "$@"; do files+=("$WORK/cap/$name.$p.pcap"); done
    if [ ${#files[@]} -eq 1 ]; then
        cp "${files[0]}" "$WORK/cap/$name.pcap"
    else
        mergecap -F pcap -w "$WORK/cap/$name.pcap" "${files[@]}"
    fi
}

# ---- clients --------------------------------------------------------------
cat > "$WORK/client.py" <<'EOF'
# HTTPS client with the standard library (http.client over ssl).
#   client.py HOST VERSION(1.2: at most TLS 1.2; else the defaults) CAFILE KEYLOG [pin-ca]
# pin-ca: trust only CAFILE, even an intermediate (trust-anchor pinning);
# any other chain fails the handshake with a fatal alert from the client.
import http.client, ssl, sys
host, version, cafile, keylog = sys.argv[1:5]
pin_ca = len(sys.argv) > 5 and sys.argv[5] == "pin-ca"
ctx = ssl.create_default_context(cafile=cafile)
ctx.keylog_filename = keylog
if version == "1.2":
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
if pin_ca:
    ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
conn = http.client.HTTPSConnection(host, 443, context=ctx, timeout=10)
try:
    conn.request("GET", "/", headers={"User-Agent": "demo-python-client"})
    resp = conn.getresponse()
    resp.read()
    print(resp.status, resp.reason, conn.sock.version())
except ssl.SSLCertVerificationError as e:
    print("refused:", e.verify_message, file=sys.stderr)
    sys.exit(3)
finally:
    conn.close()
EOF

nss_import() {   # DBDIR: a fresh NSS database trusting CAFILE's roots
    local db=$1 ca=$2
    mkdir -p "$db"
    certutil -N -d "sql:$db" --empty-password &&
    certutil -A -d "sql:$db" -n "Pinscope Demo Public Root CA" -t "C,," -i "$P/public-root-ca.pem" &&
    { [ "$ca" != managed ] ||
      certutil -A -d "sql:$db" -n "Acme Corp SSL Inspection Root" -t "C,," -i "$P/acme-inspection-root-ca.pem"; }
}

ip_of() { case $1 in www.bank.test) echo "$BANK_IP" ;; *) echo "$SHOP_IP" ;; esac; }

# run_client NAME CLIENT HOST VERSION CAFILE EXPECT(ok|fail) [EXTRA]
# VERSION 1.2 limits the client to TLS 1.2; 1.3 leaves its defaults alone
# (every client here then negotiates TLS 1.3).
# Writes the client's key log to $WORK/NAME.client.keylog.
run_client() {
    local name=$1 client=$2 host=$3 ver=$4 ca=$5 expect=$6 extra=${7:-}
    local kl=$WORK/$name.client.keylog log=$WORK/logs/$name.client.log rc dir
    local req="GET / HTTP/1.1\r\nHost: $host\r\nUser-Agent: demo\r\nConnection: close\r\n\r\n"
    : > "$kl"
    dir=$WORK/c/$name; mkdir -p "$dir"
    case $client in
    curl)
        local v=()   # TLS 1.3: the client's defaults, which negotiate it
        [ "$ver" = 1.2 ] && v=(--tlsv1.2 --tls-max 1.2)
        local pin=()
        [ -n "$extra" ] && pin=(--pinnedpubkey "$extra")
        cx env SSLKEYLOGFILE="$kl" timeout 20 curl -sS -o /dev/null -w '%{http_code} %{ssl_verify_result}\n' \
            --max-time 15 --cacert "$ca" --resolve "$host:443:$(ip_of "$host")" "${v[@]}" "${pin[@]}" \
            "https://$host/" >"$log" 2>&1
        rc=$? ;;
    openssl)
        local v=()
        [ "$ver" = 1.2 ] && v=(-tls1_2)
        { printf '%b' "$req"; sleep 1.5; } |
            cx timeout 20 openssl s_client -connect "$host:443" -servername "$host" -CAfile "$ca" \
                -verify_return_error -keylogfile "$kl" "${v[@]}" -alpn http/1.1 >"$log" 2>&1
        rc=$?
        [ "$expect" = ok ] && grep -q "<h1>$host</h1>" "$log" && rc=0 ;;   # as for gnutls-cli
    gnutls)
        local prio=NORMAL
        [ "$ver" = 1.2 ] && prio=NORMAL:-VERS-ALL:+VERS-TLS1.2
        { printf '%b' "$req"; sleep 1.5; } |
            cx env SSLKEYLOGFILE="$kl" timeout 20 gnutls-cli --x509cafile="$ca" \
                --priority="$prio" --alpn=http/1.1 -p 443 "$host" >"$log" 2>&1
        rc=$?
        # mitmproxy closes without close_notify, which gnutls-cli (and
        # s_client in TLS 1.2) report as an error: the page arriving counts.
        [ "$expect" = ok ] && grep -q "<h1>$host</h1>" "$log" && rc=0 ;;
    python)
        cx timeout 20 "$PY" "$WORK/client.py" "$host" "$ver" "$ca" "$kl" $extra >"$log" 2>&1
        rc=$? ;;
    chromium)
        mkdir -p "$dir/home" "$dir/profile"
        nss_import "$dir/home/.pki/nssdb" managed >>"$log" 2>&1 || return 1
        cx env HOME="$dir/home" SSLKEYLOGFILE="$kl" timeout 40 chromium --headless --no-sandbox \
            --disable-gpu --disable-quic --no-first-run --disable-background-networking \
            --disable-component-update --disable-sync --disable-dev-shm-usage \
            --user-data-dir="$dir/profile" \
            --host-resolver-rules="MAP $host $(ip_of "$host"), MAP * ~NOTFOUND" \
            --dump-dom "https://$host/" >"$dir/dom.html" 2>>"$log"
        rc=$?
        grep -q "<h1>$host</h1>" "$dir/dom.html" || { echo "page not loaded" >>"$log"; rc=1; } ;;
    firefox)
        mkdir -p "$dir/home" "$dir/profile"
        nss_import "$dir/profile" managed >>"$log" 2>&1 || return 1
        {
        echo 'user_pref("network.trr.mode", 5);'
        echo 'user_pref("network.dns.disableIPv6", true);'
        echo 'user_pref("network.http.http3.enable", false);'
        echo 'user_pref("network.captive-portal-service.enabled", false);'
        echo 'user_pref("network.connectivity-service.enabled", false);'
        echo 'user_pref("network.proxy.type", 0);'
        echo 'user_pref("security.OCSP.enabled", 0);'
        echo 'user_pref("security.enterprise_roots.enabled", false);'
        echo 'user_pref("security.remote_settings.crlite_filters.enabled", false);'
        echo 'user_pref("security.remote_settings.intermediates.enabled", false);'
        echo 'user_pref("browser.safebrowsing.malware.enabled", false);'
        echo 'user_pref("browser.safebrowsing.phishing.enabled", false);'
        echo 'user_pref("browser.safebrowsing.downloads.enabled", false);'
        echo 'user_pref("browser.shell.checkDefaultBrowser", false);'
        echo 'user_pref("app.update.enabled", false);'
        echo 'user_pref("app.normandy.enabled", false);'
        echo 'user_pref("extensions.update.enabled", false);'
        echo 'user_pref("datareporting.policy.dataSubmissionEnabled", false);'
        echo 'user_pref("datareporting.healthreport.uploadEnabled", false);'
        echo 'user_pref("toolkit.telemetry.enabled", false);'
        echo 'user_pref("services.settings.server", "https://settings.invalid/");'
        echo 'user_pref("browser.startup.homepage_override.mstone", "ignore");'
        echo 'user_pref("network.prefetch-next", false);'
        echo 'user_pref("network.predictor.enabled", false);'
        [ "$ver" = 1.2 ] && echo 'user_pref("security.tls.version.max", 3);'
        } > "$dir/profile/user.js"
        cx env HOME="$dir/home" SSLKEYLOGFILE="$kl" MOZ_HEADLESS=1 timeout 60 firefox-esr --headless \
            --no-remote --profile "$dir/profile" --screenshot "$dir/page.png" "https://$host/" >>"$log" 2>&1
        rc=$?
        [ -s "$dir/page.png" ] || { echo "no screenshot" >>"$log"; rc=1; } ;;
    *)
        log "unknown client $client"; return 1 ;;
    esac
    if [ "$expect" = ok ] && [ "$rc" -ne 0 ]; then
        log "$name: $client exited $rc, expected success"; return 1
    fi
    if [ "$expect" = fail ] && { [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ]; }; then
        log "$name: $client exited $rc, expected it to refuse the certificate"; return 1
    fi
    return 0
}

# ---- scenarios ------------------------------------------------------------
# Each sets: CLIENT HOST VER CA EXPECT EXTRA, PROXY (none|acme|default|socat),
# and what the check expects (CHECK_* below).
plan() {
    local n=$1
    CA=$WORK/managed-trust.pem EXPECT=ok EXTRA='' HOST=www.bank.test
    CHECK_ALERT='' CHECK_ALERT_IN_EVENT=1 CHECK_ISSUER="Pinscope Demo Public Issuing CA 1"
    case $n in
    clean_*) PROXY=none ;;
    mitm_mitmproxy_defaultca_*) PROXY=default CHECK_ISSUER=mitmproxy CA=$WORK/default-trust.pem ;;
    mitm_mitmproxy_*|pinning_*) PROXY=acme CHECK_ISSUER="Acme Corp SSL Inspection Root" ;;
    mitm_socat_*) PROXY=socat CHECK_ISSUER="Acme Corp SSL Inspection Root" ;;
    esac
    CLIENT=$(echo "$n" | sed -E 's/^(clean|mitm_mitmproxy_defaultca|mitm_mitmproxy|mitm_socat|pinning)_//; s/_.*//')
    case $n in
    *_tls12) VER=1.2 ;;
    *) VER=1.3 ;;
    esac
    case $CLIENT in python) HOST=api.shop.test ;; esac
    case $n in
    mitm_mitmproxy_defaultca_curl) HOST=api.shop.test ;;
    pinning_client_refuses)
        # curl checks the pin after its Finished, then closes: the
        # close_notify comes after the handshake, past what the event covers.
        CLIENT=curl EXPECT=fail EXTRA="sha256//$BANK_PIN" CHECK_ALERT=close_notify CHECK_ALERT_IN_EVENT=0 ;;
    pinning_python_refuses_*)
        CLIENT=python HOST=www.bank.test EXPECT=fail EXTRA=pin-ca CA=$P/public-issuing-ca.pem
        CHECK_ALERT=unknown_ca ;;
    esac
}

CUR_PROXY=none
ensure_proxy() {
    [ "$1" = "$CUR_PROXY" ] && return 0
    case $1 in
    none) proxy_stop ;;
    acme) proxy_mitmproxy "$WORK/mitm-acme" ;;
    default)   # the client trusts the CA mitmproxy has just made
        proxy_mitmproxy "$WORK/mitm-default" &&
        cat "$WORK/managed-trust.pem" "$WORK/mitm-default/mitmproxy-ca-cert.pem" > "$WORK/default-trust.pem" ;;
    socat) proxy_socat ;;
    esac || { CUR_PROXY=broken; return 1; }
    CUR_PROXY=$1
}

# ---- checks ---------------------------------------------------------------
# tshark: handshakes from the client (and from the proxy upstream), the
# expected alert; pinscope: an event per leg, chains visible, issuer.
cat > "$WORK/check.py" <<'EOF'
import json, os, subprocess, sys
pcap, keylog, client_ip, proxy_ip, proxied, issuer, alert, alert_in_event, pinscope, cafile, version = sys.argv[1:12]
proxied = proxied == "1"
alert_in_event = alert_in_event == "1"
def fail(msg):
    print("check failed:", msg); sys.exit(1)
def tshark(*args):
    cmd = ["tshark", "-n", "-r", pcap]
    if keylog:
        cmd += ["-o", "tls.keylog_file:" + keylog]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=60).stdout
hellos = tshark("-Y", "tls.handshake.type == 1 || tls.handshake.type == 2", "-T", "fields",
                "-e", "ip.src", "-e", "tls.handshake.type")
ch = [l.split("\t")[0] for l in hellos.splitlines() if l.split("\t")[-1].split(",")[0] == "1"]
sh = [l for l in hellos.splitlines() if l.split("\t")[-1].split(",")[0] == "2"]
if client_ip not in ch: fail("no ClientHello from the client")
if not sh: fail("no ServerHello")
if proxied and proxy_ip not in ch: fail("no ClientHello from the proxy (upstream leg)")
if not proxied and proxy_ip in ch: fail("a ClientHello from the proxy in a clean capture")
if alert:
    al = tshark("-Y", "tls.alert_message", "-T", "fields", "-e", "ip.src", "-e", "tls.alert_message.desc")
    codes = {"close_notify": "0", "unknown_ca": "48", "bad_certificate": "42"}
    if not any(l.startswith(client_ip + "\t") and codes[alert] in l.split("\t")[1].split(",")
               for l in al.splitlines()):
        fail("no %s alert from the client (tshark saw: %r)" % (alert, al))
    req = tshark("-Y", "http.request && ip.src == " + client_ip, "-T", "fields", "-e", "frame.number")
    if req.strip(): fail("the refusing client sent its HTTP request")
summary = "tshark: %d ClientHello, %d ServerHello" % (len(ch), len(sh))
if os.access(pinscope, os.X_OK):
    cmd = [pinscope, "-r", pcap, "--ca-bundle", cafile] + (["--keylog", keylog] if keylog else [])
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
    ev = [json.loads(l) for l in out.splitlines() if l.strip()]
    ev = [e for e in ev if e.get("event_type") == "tls"]
    legs = [e for e in ev if e["src_ip"] == client_ip]
    ups = [e for e in ev if e["src_ip"] == proxy_ip]
    if not legs: fail("pinscope: no event for the client's connection")
    if proxied and not ups: fail("pinscope: no event for the upstream leg")
    for e in legs + ups:
        t = e["tls"]
        if t.get("chain_visible") is False and not (alert and t.get("chain_invisible_reason") == "resumed"):
            fail("pinscope: chain not visible (%s) in %s:%s" % (t.get("chain_invisible_reason"),
                 e["src_ip"], e["src_port"]))
    vers = {e["tls"].get("version") for e in legs}
    if vers != {"TLS " + version}: fail("pinscope: client leg version %r, expected TLS %s" % (vers, version))
    got = {e["tls"]["x509_chain"][0].get("issuer_cn") for e in legs if e["tls"].get("x509_chain")}
    if issuer not in got: fail("pinscope: client leg issuer %r, expected %r" % (got, issuer))
    if proxied:
        up = {e["tls"]["x509_chain"][0].get("issuer_cn") for e in ups if e["tls"].get("x509_chain")}
        if "Pinscope Demo Public Issuing CA 1" not in up:
            fail("pinscope: upstream issuer %r" % up)
    if alert and alert_in_event:
        names = [a.get("description") for e in legs for a in e["tls"].get("alerts", [])]
        if alert not in names: fail("pinscope: client alerts %r, expected %s" % (names, alert))
    summary += "; pinscope: %d events, client ja4 %s%s" % (len(ev), legs[0]["tls"].get("ja4"),
               (", proxy ja4 " + ups[0]["tls"].get("ja4", "-")) if ups else "")
print(summary)
EOF

# ---- main -----------------------------------------------------------------
ok=0 bad=0
for n in $SCENARIOS; do
    case $WANT in *" $n "*) ;; *) continue ;; esac
    plan "$n"
    rc=1
    ifaces=("$V_PC")
    [ "$PROXY" = none ] || ifaces=("$V_PC" "$V_PS")
    if ensure_proxy "$PROXY"; then
        pk_before=0
        [ -n "$PROXY_KEYLOG" ] && pk_before=$(wc -l < "$PROXY_KEYLOG")
        if start_capture "$n" "${ifaces[@]}"; then
            run_client "$n" "$CLIENT" "$HOST" "$VER" "$CA" "$EXPECT" "$EXTRA"
            rc=$?
            sleep 0.5   # the proxy closes its upstream leg
            stop_capture "$n" "${ifaces[@]}"
        fi
        # The capture's key log: the client's, then what the proxy wrote meanwhile.
        {
            cat "$WORK/$n.client.keylog" 2>/dev/null
            [ -n "$PROXY_KEYLOG" ] && tail -n +"$((pk_before + 1))" "$PROXY_KEYLOG"
        } | grep -v '^#' > "$WORK/cap/$n.keylog"
    fi
    if [ $rc -eq 0 ]; then
        kl=
        [ -s "$WORK/cap/$n.keylog" ] && kl=$WORK/cap/$n.keylog
        proxied=0; [ "$PROXY" = none ] || proxied=1
        "$PY" "$WORK/check.py" "$WORK/cap/$n.pcap" "$kl" "$C_IP" "$PS_IP" "$proxied" \
            "$CHECK_ISSUER" "$CHECK_ALERT" "$CHECK_ALERT_IN_EVENT" ./pinscope "$P/public-root-ca.pem" "$VER" \
            >"$WORK/logs/$n.check.log" 2>&1 || rc=1
    fi
    if [ $rc -eq 0 ]; then
        cp "$WORK/cap/$n.pcap" "$WORK/ok/"
        [ -s "$WORK/cap/$n.keylog" ] && cp "$WORK/cap/$n.keylog" "$WORK/ok/"
        echo "ok   $n ($(wc -c < "$WORK/cap/$n.pcap") bytes) $(tail -n 1 "$WORK/logs/$n.check.log")"
        ok=$((ok + 1))
    else
        echo "FAIL $n; logs:"
        for f in "$WORK/logs/$n".*.log; do
            [ -f "$f" ] && { echo "  --- ${f##*/}"; tail -n 8 "$f" | sed 's/^/  /'; }
        done
        bad=$((bad + 1))
    fi
done
proxy_stop
[ -s "$WORK/mitm-default/mitmproxy-ca-cert.pem" ] &&
    cp "$WORK/mitm-default/mitmproxy-ca-cert.pem" "$P/mitmproxy-default-ca.pem"

# ---- write ----------------------------------------------------------------
if [ $ok -gt 0 ]; then
    if [ "$PKI_NEW" = 1 ] && [ $bad -gt 0 ]; then
        die "new PKI but $bad captures failed; nothing written (the old captures would not match it)"
    fi
    mkdir -p "$PKI"
    cp "$P"/*.pem "$P"/*.key "$PKI/"
    for f in "$WORK/ok"/*; do
        n=${f##*/}
        rm -f "$OUT/${n%.*}.keylog"   # a capture without keys must not keep an old key log
    done
    cp "$WORK/ok"/* "$OUT/"
fi

# policy.json: pins and issuers from the PKI, fingerprints from the clean
# captures as pinscope reads them.
write_policy() {
    [ -x ./pinscope ] || { log "./pinscope not built: samples/policy.json left as it is"; return 0; }
    local f args=()
    for f in "$OUT"/clean_*.pcap; do
        [ -e "$f" ] || continue
        args+=(-r "$f")
        [ -s "${f%.pcap}.keylog" ] && args+=(--keylog "${f%.pcap}.keylog")
    done
    [ ${#args[@]} -gt 0 ] || return 0
    ./pinscope "${args[@]}" > "$WORK/clean.json" 2>/dev/null || return 1
    "$PY" - "$WORK/clean.json" "$(pin_of "$PKI/www.bank.test.pem")" "$(pin_of "$PKI/public-issuing-ca.pem")" \
        "$(openssl x509 -noout -issuer -nameopt RFC2253,-esc_msb -in "$PKI/api.shop.test.pem" | sed 's/^issuer=//')" \
        "$C_IP" > "$OUT/policy.json" <<'EOF'
import json, sys
events, bank_leaf_pin, bank_ca_pin, shop_issuer, client_ip = sys.argv[1:6]
ja4, ja4s = [], []
for line in open(events):
    e = json.loads(line)
    if e.get("event_type") != "tls" or e["src_ip"] != client_ip: continue
    t = e["tls"]
    if t.get("ja4") and t["ja4"] not in ja4: ja4.append(t["ja4"])
    if t.get("sni") == "www.bank.test" and t.get("ja4s") and t["ja4s"] not in ja4s: ja4s.append(t["ja4s"])
policy = {
  "version": 1,
  "comment": "Policy for the pinscope sample captures (samples/make-samples.sh). Pins, issuers and fingerprints are those of the throwaway demo PKI and clients in samples/pki; they mean nothing outside these captures.",
  "pin_sets": [{
    "domain": "www.bank.test", "include_subdomains": False,
    "pins": [bank_leaf_pin, bank_ca_pin], "backup_pins": [],
    "comment": "The bank's leaf key and its issuing CA (Pinscope Demo Public Issuing CA 1). A chain that contains neither, such as one minted by Acme Corp SSL Inspection Root, is a pin mismatch."}],
  "expected_issuers": [{
    "domain": "shop.test", "include_subdomains": True,
    "issuers": [shop_issuer],
    "comment": "Certificates for *.shop.test come from the demo public issuing CA only (by issuer DN; no issuer_pins, so a chain sent without its issuer, as mitmproxy sends it, is still judged)."}],
  "client_baselines": [{
    "name": "demo clients", "match": {"client_subnets": ["198.18.0.10/32"]}, "ja4": ja4,
    "comment": "JA4 of every client in the clean captures: curl, openssl s_client, gnutls-cli, python3, Chromium, Firefox ESR (TLS 1.2 and 1.3 hellos differ)."}],
  "server_baselines": [{
    "name": "bank", "match": {"sni": ["www.bank.test"]}, "ja4s": ja4s, "min_tls_version": "TLS 1.2",
    "comment": "JA4S of the real bank server (Python ssl/OpenSSL) answering each demo client."}],
}
print(json.dumps(policy, indent=2))
EOF
}
write_policy || log "writing samples/policy.json failed"

total=$(cat "$OUT"/*.pcap "$OUT"/*.keylog "$PKI"/* 2>/dev/null | wc -c)
echo "make-samples: $ok written, $bad failed; samples/ captures, key logs and PKI: $total bytes"
[ "$total" -lt 3145728 ] || echo "make-samples: WARNING: samples exceed 3 MB"
[ $bad -eq 0 ]
