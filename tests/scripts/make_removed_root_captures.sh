#!/usr/bin/env bash
# Makes the captures of a chain issued under the name of a root that left
# the public store (signatures/removed_roots.json, "GeoTrust Global CA",
# removed 2020-06-01):
#   tests/golden/removed_root_before.pcap   leaf only, packet times moved to
#                                           2019-03-01 (root public then)
#   tests/golden/removed_root_after.pcap    the same connection moved to
#                                           2022-03-01 (removed, still untrusted)
#   tests/golden/removed_root_forged.pcap   leaf and a "GeoTrust Global CA"
#                                           certificate with this script's key,
#                                           moved to 2019-03-01
# The CA is this script's own key under the removed root's exact subject
# name, so nothing validates.  Certificates are valid 2015-2035, so the
# only validation failure at either time is the unknown issuer.
#
# Network: loopback only (127.0.0.1, a port above 40000).  openssl s_server
# serves the chain over TLS 1.2 (the Certificate is in clear); openssl
# s_client connects with the server name below; tcpdump records lo.
# editcap -t moves the packet times (the capture is otherwise untouched).
#
# Usage: sudo tests/scripts/make_removed_root_captures.sh
# Needs root (tcpdump), openssl, editcap, /usr/bin/python3 with cryptography.
set -eu
cd "$(dirname "$0")/../.."
GOLDEN=tests/golden
HOST=shop.pinscope-legacy-geotrust.com
WORK=$(mktemp -d /tmp/pinscope-removed-root.XXXXXX)
trap 'kill $SPID $TPID 2>/dev/null || true; rm -rf "$WORK"' EXIT
SPID= TPID=

/usr/bin/python3 - "$WORK" "$HOST" <<'PY'
import datetime, sys
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
work, host = sys.argv[1], sys.argv[2]
nb, na = datetime.datetime(2015, 1, 1), datetime.datetime(2035, 1, 1)
def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)
# The removed root's subject, as signatures/removed_roots.json gives it:
# CN=GeoTrust Global CA,O=GeoTrust Inc.,C=US (encoded most general first).
root_name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                       x509.NameAttribute(NameOID.ORGANIZATION_NAME, "GeoTrust Inc."),
                       x509.NameAttribute(NameOID.COMMON_NAME, "GeoTrust Global CA")])
ck, lk = key(), key()
ca = (x509.CertificateBuilder().subject_name(root_name).issuer_name(root_name)
      .public_key(ck.public_key()).serial_number(x509.random_serial_number())
      .not_valid_before(nb).not_valid_after(na)
      .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
      .add_extension(x509.SubjectKeyIdentifier.from_public_key(ck.public_key()), critical=False)
      .sign(ck, hashes.SHA256()))
leaf = (x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(root_name).public_key(lk.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(nb).not_valid_after(na)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ck.public_key()),
                       critical=False)
        .sign(ck, hashes.SHA256()))
pem = serialization.Encoding.PEM
open(work + "/ca.crt", "wb").write(ca.public_bytes(pem))
open(work + "/leaf.crt", "wb").write(leaf.public_bytes(pem))
open(work + "/leaf.key", "wb").write(lk.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()))
PY

capture() {  # NAME VERIFY-ERROR EXTRA-SERVER-ARGS...
    local name=$1 code=$2; shift 2
    local port=$((40000 + RANDOM % 20000))
    tcpdump -i lo -U -w "$WORK/$name.raw.pcap" "tcp port $port" 2>/dev/null & TPID=$!
    sleep 1
    openssl s_server -accept "127.0.0.1:$port" -cert "$WORK/leaf.crt" -key "$WORK/leaf.key" \
        -tls1_2 -naccept 1 -quiet "$@" >/dev/null 2>&1 & SPID=$!
    sleep 1
    echo | timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername "$HOST" -tls1_2 \
        -showcerts > "$WORK/$name.client" 2>&1 || true
    sleep 1
    kill "$TPID"; wait "$TPID" 2>/dev/null || true
    kill "$SPID" 2>/dev/null || true; wait "$SPID" 2>/dev/null || true
    grep -q "CN = $HOST" "$WORK/$name.client" || { echo "$name: client did not see the leaf"; exit 1; }
    grep -q "verify error:num=$code:" "$WORK/$name.client" ||
        { echo "$name: expected verify error $code"; exit 1; }
}
capture leaf 20     # unable to get local issuer certificate
capture forged 19 -cert_chain "$WORK/ca.crt"   # self-signed certificate in chain
grep -c "BEGIN CERTIFICATE" "$WORK/leaf.client" | grep -qx 1 || { echo "leaf: want 1 cert"; exit 1; }
grep -c "BEGIN CERTIFICATE" "$WORK/forged.client" | grep -qx 2 || { echo "forged: want 2 certs"; exit 1; }

# editcap -t adds seconds to every packet time.
shift_to() {  # IN OUT YYYY-MM-DD
    local first target
    first=$(tcpdump -r "$1" -c 1 -tt 2>/dev/null | awk '{print int($1)}')
    target=$(date -u -d "$3 12:00:00" +%s)
    editcap -F pcap -t $((target - first)) "$1" "$2"
}
shift_to "$WORK/leaf.raw.pcap" "$GOLDEN/removed_root_before.pcap" 2019-03-01
shift_to "$WORK/leaf.raw.pcap" "$GOLDEN/removed_root_after.pcap" 2022-03-01
shift_to "$WORK/forged.raw.pcap" "$GOLDEN/removed_root_forged.pcap" 2019-03-01
echo "wrote $GOLDEN/removed_root_{before,after,forged}.pcap"
