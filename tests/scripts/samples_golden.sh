#!/bin/sh
# samples_golden.sh - the sample captures' expected events.
#
# Runs `pinscope --deterministic` on every samples/X.pcap the way
# samples/run.sh does (its key log, the demo root as trust store,
# samples/policy.json) and compares the output with samples/expected/X.jsonl.
#   --update   rewrite the expected files (review the diff before committing)
# PINSCOPE selects the binary (default ./pinscope).  Last line:
# "samples: N passed, M failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
PINSCOPE=${PINSCOPE:-./pinscope}
update=0
[ "${1:-}" = "--update" ] && update=1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pinscope-samples.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir -p samples/expected
pass=0
fail=0
for pcap in samples/*.pcap; do
    [ -f "$pcap" ] || continue
    base=$(basename "$pcap" .pcap)
    set -- --deterministic --ca-bundle samples/pki/public-root-ca.pem --policy samples/policy.json
    [ -f "samples/$base.keylog" ] && set -- "$@" --keylog "samples/$base.keylog"
    if ! "$PINSCOPE" "$@" -r "$pcap" -o "$tmp/$base.jsonl" </dev/null >/dev/null 2>"$tmp/err"; then
        echo "FAIL $base: pinscope failed: $(head -c 300 "$tmp/err")"
        fail=$((fail + 1))
        continue
    fi
    [ -f "$tmp/$base.jsonl" ] || : > "$tmp/$base.jsonl"
    if [ $update = 1 ]; then
        cp "$tmp/$base.jsonl" "samples/expected/$base.jsonl"
        pass=$((pass + 1))
    elif cmp -s "$tmp/$base.jsonl" "samples/expected/$base.jsonl"; then
        pass=$((pass + 1))
    else
        echo "FAIL $base: output differs from samples/expected/$base.jsonl"
        diff "samples/expected/$base.jsonl" "$tmp/$base.jsonl" 2>&1 | head -n 6 | cut -c1-300
        fail=$((fail + 1))
    fi
done
echo "samples: $pass passed, $fail failed"
[ $fail = 0 ]
