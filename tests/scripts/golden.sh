#!/bin/sh
# Golden tests: runs `pinscope --deterministic -r X` (with --keylog X.keylog
# when present, and the test PKI's root as --ca-bundle) for every
# tests/golden/X.pcap and X.pcapng and compares the output with X.jsonl.
#
# Usage: tests/scripts/golden.sh [--update] [NAME...]
#   --update   rewrite X.jsonl from the current output (review the diff!)
#   NAME       only these captures (file names or paths under tests/golden)
# Environment: PINSCOPE = binary to test (default ./pinscope).
# The last line is "golden: N passed, M failed"; exit status 1 on failure.

ORIG_PWD=$(pwd)
cd "$(dirname "$0")/../.." || exit 1
GOLDEN=tests/golden
TIMEOUT=${GOLDEN_TIMEOUT:-60}

PINSCOPE=${PINSCOPE:-./pinscope}
case $PINSCOPE in
    /*) ;;
    */*) [ -e "$ORIG_PWD/$PINSCOPE" ] && PINSCOPE=$ORIG_PWD/$PINSCOPE ;;
    *) [ -e "$PINSCOPE" ] && PINSCOPE=./$PINSCOPE ;;
esac

update=0
names=""
for a in "$@"; do
    case $a in
        --update) update=1 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        -*) echo "golden: unknown option $a" >&2; exit 2 ;;
        *) names="$names ${a##*/}" ;;
    esac
done

if [ ! -x "$PINSCOPE" ]; then
    echo "golden: pinscope binary not found or not executable: $PINSCOPE"
    echo "golden: 0 passed, 1 failed"
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pinscope-golden.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP

if [ -z "$names" ]; then
    for f in "$GOLDEN"/*.pcap "$GOLDEN"/*.pcapng; do
        [ -f "$f" ] && names="$names ${f##*/}"
    done
fi

pass=0
fail=0
for name in $names; do
    pcap=$GOLDEN/$name
    base=${name%.pcapng}
    base=${base%.pcap}
    want=$GOLDEN/$base.jsonl
    got=$tmp/$base.jsonl
    if [ ! -f "$pcap" ]; then
        echo "FAIL $name: no such capture in $GOLDEN"
        fail=$((fail + 1))
        continue
    fi
    # The test PKI's root is the trust store for every capture, so that
    # validation results do not depend on the machine's CA bundle; a
    # capture's own key log (X.keylog) is used when present.
    set --
    [ -f "$GOLDEN/certs/root.pem" ] && set -- "$@" --ca-bundle "$GOLDEN/certs/root.pem"
    [ -f "$GOLDEN/$base.keylog" ] && set -- "$@" --keylog "$GOLDEN/$base.keylog"
    timeout "$TIMEOUT" "$PINSCOPE" --deterministic "$@" -r "$pcap" -o "$got" \
        </dev/null >"$tmp/stdout" 2>"$tmp/stderr"
    rc=$?
    if [ $rc -ne 0 ]; then
        if [ $rc -eq 124 ]; then why="timed out after ${TIMEOUT}s"
        elif [ $rc -gt 128 ]; then why="killed by signal $((rc - 128))"
        else why="exit status $rc"; fi
        echo "FAIL $name: pinscope $why; stderr:"
        tail -n 20 "$tmp/stderr" | sed 's/^/    /'
        fail=$((fail + 1))
        continue
    fi
    [ -f "$got" ] || : > "$got"
    if [ $update -eq 1 ]; then
        if [ -f "$want" ] && cmp -s "$got" "$want"; then
            echo "unchanged $base.jsonl"
        else
            cp "$got" "$want"
            echo "updated $base.jsonl"
        fi
        pass=$((pass + 1))
        continue
    fi
    if [ ! -f "$want" ]; then
        echo "FAIL $name: no $want (run tests/scripts/golden.sh --update and review it)"
        fail=$((fail + 1))
    elif cmp -s "$got" "$want"; then
        pass=$((pass + 1))
    else
        echo "FAIL $name: output differs from $want (- expected, + got):"
        diff -u "$want" "$got" | tail -n +3 | head -n 40 | sed 's/^/    /'
        fail=$((fail + 1))
    fi
done

# .jsonl files whose capture is gone
for j in "$GOLDEN"/*.jsonl; do
    [ -f "$j" ] || continue
    b=${j%.jsonl}
    [ -f "$b.pcap" ] || [ -f "$b.pcapng" ] || echo "warning: $j has no capture"
done

echo "golden: $pass passed, $fail failed"
[ $fail -eq 0 ]
