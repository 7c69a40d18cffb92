#!/bin/sh
# run.sh - analyse the bundled sample captures (make run).
#
# Writes every event to build/samples.json and prints, per capture, what an
# analyst would look at first: who talked to whom, the server name, the
# negotiated version, the client and server fingerprints, and how the
# handshake ended.
set -eu
cd "$(dirname "$0")/.."
mkdir -p build
out=build/samples.json
set --
for f in samples/*.pcap samples/*.pcapng; do
    [ -e "$f" ] && set -- "$@" -r "$f"
done
rm -f "$out"
./pinscope "$@" -o "$out"
echo "events: $out ($(wc -l < "$out") lines)"
if command -v python3 >/dev/null 2>&1; then
    python3 - "$out" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    if e.get("event_type") != "tls":
        continue
    t = e["tls"]
    alerts = ", ".join("%s %s" % (a["from"], a.get("description", "encrypted")) for a in t.get("alerts", []))
    print("%s:%s -> %s:%s  sni=%s  %s  %s" % (e["src_ip"], e["src_port"], e["dest_ip"], e["dest_port"],
          t.get("sni", "-"), t.get("version", "?"), t.get("tunnel", "")))
    print("    ja4=%s  ja4s=%s  ja3=%s" % (t.get("ja4", "-"), t.get("ja4s", "-"), t.get("ja3", {}).get("hash", "-")))
    print("    state=%s end=%s%s" % (t["state"], t["end"], ("  alerts: " + alerts) if alerts else ""))
PY
else
    cat "$out"
fi
