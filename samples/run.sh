#!/bin/sh
# run.sh - analyse the bundled sample captures (make run).
#
# One `pinscope report` over every capture, each with its key log
# (samples/NAME.keylog) when there is one, chains validated against the
# demo public root (samples/pki), samples/policy.json applied.  The events
# go to build/samples.json (each names its capture in pcap_filename), the
# summary to the terminal, and the page to build/report.html.
set -eu
cd "$(dirname "$0")/.."
out=build/samples.json
rm -f "$out"
mkdir -p build
set --
for f in samples/*.pcap samples/*.pcapng; do
    [ -e "$f" ] || continue
    set -- "$@" -r "$f"
    [ -f "${f%.*}.keylog" ] && set -- "$@" --keylog "${f%.*}.keylog"
done
[ -f samples/pki/public-root-ca.pem ] && set -- "$@" --ca-bundle samples/pki/public-root-ca.pem
[ -f samples/policy.json ] && set -- "$@" --policy samples/policy.json
./pinscope report "$@" --stats -o "$out" --html build/report.html --no-progress
echo "events: $out ($(wc -l < "$out") lines)"
