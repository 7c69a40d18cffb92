#!/bin/sh
# run.sh - analyse the bundled sample captures (make run).
#
# Reads each capture with its key log (samples/NAME.keylog) when there is
# one, validates chains against the demo public root (samples/pki), and
# applies samples/policy.json when this pinscope has --policy.  Writes every
# event to build/samples.json (and per capture to build/samples/NAME.json)
# and prints, per capture, what an analyst
# would look at first: who talked to whom, the server name, the negotiated
# version, the fingerprints, the leaf's issuer and how the handshake ended,
# then any alerts.
set -eu
cd "$(dirname "$0")/.."
out=build/samples.json
rm -rf "$out" build/samples
mkdir -p build/samples
common=
[ -f samples/pki/public-root-ca.pem ] && common="--ca-bundle samples/pki/public-root-ca.pem"
if [ -f samples/policy.json ] && ./pinscope --help 2>&1 | grep -q -- '--policy'; then
    common="$common --policy samples/policy.json"
fi
for f in samples/*.pcap samples/*.pcapng; do
    [ -e "$f" ] || continue
    kl=
    [ -f "${f%.*}.keylog" ] && kl="--keylog ${f%.*}.keylog"
    n=${f#samples/}
    # shellcheck disable=SC2086 # option lists
    ./pinscope -r "$f" $kl $common -o "build/samples/${n%.*}.json" 2>/dev/null
    touch "build/samples/${n%.*}.json"
    cat "build/samples/${n%.*}.json" >> "$out"
done
echo "events: $out ($(wc -l < "$out") lines)"
if command -v python3 >/dev/null 2>&1; then
    python3 - build/samples/*.json <<'PY'
import json, os, sys

def show(e):
    kind = e.get("event_type")
    if kind == "alert":
        a = e.get("alert", {})
        print("    ALERT %s %s: %s" % (a.get("signature_id", "?"), a.get("signature", "?"), a.get("reason", "")))
        return
    if kind not in ("tls", "quic"):
        return
    t = e["tls"]
    alerts = ", ".join("%s %s" % (a["from"], a.get("description", "encrypted")) for a in t.get("alerts", []))
    print("  %s:%s -> %s:%s  sni=%s  %s  %s" % (e["src_ip"], e["src_port"], e["dest_ip"], e["dest_port"],
          t.get("sni", "-"), t.get("version", "?"), t.get("tunnel", "")))
    print("    ja4=%s  ja4s=%s  ja3=%s" % (t.get("ja4", "-"), t.get("ja4s", "-"), t.get("ja3", {}).get("hash", "-")))
    chain = t.get("x509_chain") or []
    if chain:
        v = t.get("chain_checks", {}).get("validation", {}).get("code", "-")
        print("    leaf %s issued by %s (validation: %s)" % (chain[0].get("subject_cn", "-"),
              chain[0].get("issuer_cn", "-"), v))
    elif t.get("chain_visible") is False:
        print("    chain not visible: %s" % t.get("chain_invisible_reason", "?"))
    print("    state=%s end=%s%s" % (t["state"], t["end"], ("  alerts: " + alerts) if alerts else ""))

for path in sys.argv[1:]:
    print("== %s" % os.path.basename(path)[:-len(".json")])
    for line in open(path, encoding="utf-8"):
        show(json.loads(line))
PY
else
    cat "$out"
fi
