#!/bin/bash
# make_resume_captures.sh - record tests/golden/tls12_resumption.pcap: TLS
# 1.2 sessions resumed by session ID and by RFC 5077 ticket, directly and
# through an intercepting proxy (sslsplit), with real programs in two
# network namespaces (198.18.0.0/15 only, see netns_lib.sh).
#
#   server 198.18.0.2:443   openssl s_server -no_ticket (session IDs only),
#                           test PKI leaf_rsa + inter (tests/golden/certs)
#   server 198.18.0.2:4443  openssl s_server with tickets (the default)
#   proxy  198.18.0.2:8443  sslsplit, its own CA (made here, not trusted),
#                           splitting to the ticket server; its upstream
#                           leg stays inside the server namespace, so only
#                           the intercepted client leg is on the wire
#
# Each is one full handshake (openssl s_client -sess_out) then one resumed
# (-sess_in), TLS 1.2.  Run as root from the repository; writes the capture
# and prints the sslsplit CA's SPKI pin (for tests/scripts/check_resume.py).
set -u
cd "$(dirname "$0")/../.." || exit 1
REPO=$(pwd)
WORK=$(mktemp -d /tmp/pinscope-resume.XXXXXX)
NETNS_TAG=resume
. tests/scripts/netns_lib.sh
netns_setup resume || exit 1
netns_host www.pinscope.test
CERTS=$REPO/tests/golden/certs
OUT=${1:-$REPO/tests/golden/tls12_resumption.pcap}

cat "$CERTS/leaf_rsa.pem" "$CERTS/inter.pem" > "$WORK/chain.pem"
# The proxy's CA, as an administrator would make one for sslsplit.
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/O=Resume Test Proxy/CN=Resume Test Proxy CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    -keyout "$WORK/proxy_ca.key" -out "$WORK/proxy_ca.crt" 2>/dev/null || exit 1

mkdir -p "$WORK/www"
sx timeout 60 openssl s_server -accept 443 -tls1_2 -no_ticket -www -cert "$CERTS/leaf_rsa.pem" \
    -key "$CERTS/leaf_rsa.key" -cert_chain "$CERTS/inter.pem" >"$WORK/sid.log" 2>&1 &
PIDS+=($!)
sx timeout 60 openssl s_server -accept 4443 -tls1_2 -www -cert "$CERTS/leaf_rsa.pem" \
    -key "$CERTS/leaf_rsa.key" -cert_chain "$CERTS/inter.pem" >"$WORK/ticket.log" 2>&1 &
PIDS+=($!)
sx timeout 60 sslsplit -D -u root -k "$WORK/proxy_ca.key" -c "$WORK/proxy_ca.crt" \
    ssl 198.18.0.2 8443 198.18.0.2 4443 >"$WORK/sslsplit.log" 2>&1 &
PIDS+=($!)
for port in 443 4443 8443; do
    for _ in $(seq 50); do
        [ -n "$(sx ss -Hltn "sport = :$port")" ] && break
        sleep 0.1
    done
done

capture_start resume "tcp" || exit 1
client() {   # PORT SESSION-FILE in|out
    printf 'GET / HTTP/1.0\r\n\r\n' | cx timeout 10 openssl s_client -connect "198.18.0.2:$1" \
        -servername www.pinscope.test -tls1_2 -ign_eof "-sess_$3" "$2" >"$2.$3.log" 2>&1
    sleep 0.3
}
client 443 "$WORK/sid.sess" out
client 443 "$WORK/sid.sess" in
client 4443 "$WORK/ticket.sess" out
client 4443 "$WORK/ticket.sess" in
client 8443 "$WORK/mitm.sess" out
client 8443 "$WORK/mitm.sess" in
capture_stop
for v in sid ticket mitm; do
    grep -q "^Reused" "$WORK/$v.sess.in.log" || { echo "make_resume_captures: $v: not resumed" >&2
        sed -n '1,40p' "$WORK/$v.sess.in.log" >&2; cat "$WORK/sslsplit.log" >&2; exit 1; }
done
cp "$WORK/resume.pcap" "$OUT"
echo "wrote $OUT"
echo "proxy CA pin: $(openssl x509 -in "$WORK/proxy_ca.crt" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)"
