#!/usr/bin/env bash
# Makes the QUIC and DTLS golden captures tests/golden/udp_*.pcap from real
# handshakes between Debian's own implementations:
#   QUIC  ngtcp2's example client and server (packages ngtcp2-client,
#         ngtcp2-server: gtlsclient/gtlsserver, GnuTLS), QUIC v1, with the
#         key log the client wrote (SSLKEYLOGFILE) saved as NAME.keylog, for
#         AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305 handshakes, one
#         with address validation (the server answers with a Retry), and one
#         where client and server share no cipher suite (the server closes
#         with a CONNECTION_CLOSE carrying the handshake_failure alert);
#   DTLS  openssl s_server/s_client (DTLS 1.2 with -listen, which sends a
#         HelloVerifyRequest; DTLS 1.0) and gnutls-serv/gnutls-cli (DTLS 1.2).
# The servers present the test PKI of tests/golden/certs (leaf_ec ->
# inter -> root), so the chains validate against the root golden.sh passes.
#
# Network: tests/scripts/netns_lib.sh (client 198.18.0.1, server 198.18.0.2,
# two namespaces, nothing leaves them).  Only scenarios whose client
# succeeded replace files in tests/golden/; regenerate the .jsonl files with
# tests/scripts/golden.sh --update NAME and review the diff.
#
# Usage: sudo tests/scripts/make_udp_captures.sh [SCENARIO...]  (-l lists)
set -u

cd "$(dirname "$0")/../.." || exit 1
REPO=$(pwd)
GOLDEN=$REPO/tests/golden
PKI=$GOLDEN/certs
HOST=ec.pinscope.test
NETNS_TAG=make_udp_captures

SCENARIOS="udp_quic_v1_keylog udp_quic_aes256_keylog udp_quic_chacha20_keylog udp_quic_retry
udp_quic_no_shared_cipher udp_quic_chromium udp_dtls12_openssl_hvr udp_dtls10_openssl udp_dtls12_gnutls"

die() { echo "make_udp_captures: $*" >&2; exit 1; }
log() { echo "make_udp_captures: $*" >&2; }

if [ "${1:-}" = "-l" ]; then echo "$SCENARIOS" | tr ' ' '\n'; exit 0; fi
[ "$(id -u)" = 0 ] || die "must run as root (network namespaces, tcpdump)"

missing=""
for pair in gtlsclient:ngtcp2-client gtlsserver:ngtcp2-server openssl:openssl \
            gnutls-cli:gnutls-bin tcpdump:tcpdump ip:iproute2 ss:iproute2; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin command -v "${pair%%:*}" \
        >/dev/null 2>&1 || missing="$missing ${pair#*:}"
done
if [ -n "$missing" ]; then
    log "installing:$missing"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    # shellcheck disable=SC2086 # a list of package names
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null ||
        die "apt-get install$missing failed"
fi
export PATH=$PATH:/usr/sbin

WORK=$(mktemp -d /tmp/pinscope-udp.XXXXXX) || die "mktemp failed"
# shellcheck source=tests/scripts/netns_lib.sh
. "$REPO/tests/scripts/netns_lib.sh"
netns_setup pudp || die "network namespaces could not be set up"
netns_host "$HOST" || die "cannot write /etc/netns/$NS_C/hosts"

mkdir -p "$WORK/www" && echo "hello from pinscope test server" > "$WORK/www/hello.txt"
cat "$PKI/leaf_ec.pem" "$PKI/inter.pem" > "$WORK/chain.pem"
KEY=$PKI/leaf_ec.key

# run_client NAME CMD...: client namespace, 15 s, stdin one line then EOF.
run_client() {
    local name=$1; shift
    { echo hello; sleep 0.5; } | cx timeout 15 "$@" >"$WORK/$name.client.log" 2>&1
}

GNUTLS_PRIO="NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL"
quic() {   # NAME [gtlsclient options...]
    local n=$1; shift
    server_start "$n" udp 443 gtlsserver -q ${QUIC_SERVER_OPTS:-} "$S_IP" 443 "$KEY" "$WORK/chain.pem" ||
        return 1
    SSLKEYLOGFILE=$WORK/$n.keylog run_client "$n" gtlsclient -q --exit-on-all-streams-close \
        "$@" "$HOST" 443 "https://$HOST/hello.txt"
}

scenario() {
    local n=$1
    QUIC_SERVER_OPTS=
    MIN_PKTS=4
    case $n in
    udp_quic_v1_keylog) quic "$n" ;;
    udp_quic_aes256_keylog) quic "$n" --ciphers="$GNUTLS_PRIO:+AES-256-GCM" ;;
    udp_quic_chacha20_keylog) quic "$n" --ciphers="$GNUTLS_PRIO:+CHACHA20-POLY1305" ;;
    udp_quic_retry)
        QUIC_SERVER_OPTS=--validate-addr
        quic "$n" && rm -f "$WORK/$n.keylog" ;;
    udp_quic_no_shared_cipher)
        # The client offers only AES-128-GCM, the server only AES-256-GCM:
        # two packets, the client's Initial and the server's close (the
        # client's exit status says nothing useful here).
        QUIC_SERVER_OPTS=--ciphers=$GNUTLS_PRIO:+AES-256-GCM
        quic "$n" --ciphers="$GNUTLS_PRIO:+AES-128-GCM" --handshake-timeout=3s
        grep -q ERR_CRYPTO "$WORK/$n.server.log"
        MIN_PKTS=2 ;;
    udp_quic_chromium)
        # Chromium trusts the leaf by its SPKI pin (no CA import needed) and
        # is forced onto QUIC for the origin.
        local spki
        spki=$(openssl x509 -in "$PKI/leaf_ec.pem" -pubkey -noout | openssl pkey -pubin -outform der |
            openssl dgst -sha256 -binary | base64)
        server_start "$n" udp 443 gtlsserver -q "$S_IP" 443 "$KEY" "$WORK/chain.pem" || return 1
        mkdir -p "$WORK/chrome-home" "$WORK/chrome-profile"
        cx env HOME="$WORK/chrome-home" SSLKEYLOGFILE="$WORK/$n.keylog" timeout 40 chromium \
            --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
            --disable-component-update --disable-sync --disable-dev-shm-usage \
            --user-data-dir="$WORK/chrome-profile" --enable-quic \
            --origin-to-force-quic-on="$HOST:443" --ignore-certificate-errors-spki-list="$spki" \
            --host-resolver-rules="MAP $HOST $S_IP, MAP * ~NOTFOUND" \
            --dump-dom "https://$HOST/hello.txt" >"$WORK/$n.dom" 2>"$WORK/$n.client.log"
        grep -q "hello from pinscope" "$WORK/$n.dom" ;;
    udp_dtls12_openssl_hvr)
        # s_server quits at EOF on stdin: keep it open while the client runs.
        server_start "$n" udp 4433 sh -c 'sleep 20 | exec "$@"' sh \
            openssl s_server -dtls1_2 -listen -accept 4433 -naccept 1 \
            -cert "$PKI/leaf_ec.pem" -key "$KEY" -cert_chain "$PKI/inter.pem" || return 1
        run_client "$n" openssl s_client -dtls1_2 -connect "$S_IP:4433" -servername "$HOST" \
            -CAfile "$PKI/root.pem" -verify_return_error ;;
    udp_dtls10_openssl)
        server_start "$n" udp 4433 sh -c 'sleep 20 | exec "$@"' sh \
            openssl s_server -dtls1 -accept 4433 -naccept 1 \
            -cipher 'DEFAULT:@SECLEVEL=0' \
            -cert "$PKI/leaf_ec.pem" -key "$KEY" -cert_chain "$PKI/inter.pem" || return 1
        run_client "$n" openssl s_client -dtls1 -cipher 'DEFAULT:@SECLEVEL=0' \
            -connect "$S_IP:4433" -servername "$HOST" -CAfile "$PKI/root.pem" ;;
    udp_dtls12_gnutls)
        server_start "$n" udp 5556 gnutls-serv --udp -p 5556 --x509certfile="$WORK/chain.pem" \
            --x509keyfile="$KEY" || return 1
        run_client "$n" gnutls-cli --udp -p 5556 --x509cafile="$PKI/root.pem" \
            --sni-hostname="$HOST" --verify-hostname="$HOST" "$S_IP" ;;
    *) log "unknown scenario $n"; return 1 ;;
    esac
}

want=${*:-$SCENARIOS}
ok=0 bad=0
for n in $want; do
    if ! echo " $SCENARIOS " | tr '\n' ' ' | grep -q " $n "; then
        log "unknown scenario $n (-l lists them)"; bad=$((bad + 1)); continue
    fi
    if capture_start "$n" "udp"; then
        scenario "$n"
        rc=$?
        server_stop
        capture_stop
    else
        rc=1
    fi
    pkts=0
    [ -s "$WORK/$n.pcap" ] && pkts=$(tcpdump -nr "$WORK/$n.pcap" 2>/dev/null | wc -l)
    if [ $rc -eq 0 ] && [ "$pkts" -ge "$MIN_PKTS" ]; then
        cp "$WORK/$n.pcap" "$GOLDEN/$n.pcap"
        rm -f "$GOLDEN/$n.keylog"
        [ -s "$WORK/$n.keylog" ] && cp "$WORK/$n.keylog" "$GOLDEN/$n.keylog"
        echo "ok   $n ($pkts packets)"
        ok=$((ok + 1))
    else
        echo "FAIL $n (rc=$rc, $pkts packets); logs:"
        for f in "$WORK/$n".*.log; do
            [ -f "$f" ] && { echo "  --- ${f##*/}"; tail -n 8 "$f" | sed 's/^/  /'; }
        done
        bad=$((bad + 1))
    fi
done
echo "make_udp_captures: $ok written, $bad failed"
[ $bad -eq 0 ]
