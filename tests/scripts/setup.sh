#!/bin/sh
# setup.sh - install the Debian packages pinscope needs, if any are missing.
#
#   sh tests/scripts/setup.sh          build dependencies (make, make run)
#   sh tests/scripts/setup.sh --test   build + test dependencies (make test)
#
# Installs with apt-get when run as root (or through sudo when available);
# otherwise prints the missing packages and fails.
set -eu

BUILD_PKGS="gcc make libc6-dev libpcap-dev libssl-dev libcjson-dev libmaxminddb-dev zlib1g-dev libbrotli-dev libhiredis-dev libpsl-dev ca-certificates"
TEST_PKGS="python3 python3-jsonschema python3-yaml mmdb-bin tshark tcpdump openssl curl gnutls-bin iproute2 clang libclang-rt-14-dev time ngtcp2-client ngtcp2-server redis-server tcpreplay logrotate chromium fonts-liberation util-linux"

want="$BUILD_PKGS"
[ "${1:-}" = "--test" ] && want="$BUILD_PKGS $TEST_PKGS"

missing=""
for p in $want; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "setup: installing:$missing" >&2
if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "setup: missing packages:$missing (run as root or install them)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer for it.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections 2>/dev/null || true
$SUDO apt-get update -qq >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
