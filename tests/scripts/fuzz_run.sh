#!/bin/sh
# fuzz_run.sh SECONDS - build every libFuzzer target (clang) and run each
# for SECONDS, seeded from tests/fuzz/seeds/NAME (tests/fuzz/make_seeds.py),
# and for the whole-pcap target the golden captures and the conformance
# corpus when present.  A crash fails the run and leaves the
# reproducer in build-fuzz/artifacts/; turn it into a named regression
# capture under tests/golden/.
set -u
cd "$(dirname "$0")/../.." || exit 1
SECS=${1:-25}
if ! command -v clang >/dev/null 2>&1; then
    echo "fuzz: skipped (no clang)"
    exit 0
fi
make --no-print-directory fuzz >/dev/null || { echo "fuzz: 0 passed, 1 failed (build)"; exit 1; }
mkdir -p build-fuzz/artifacts
pass=0
fail=0
for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    t=build-fuzz/$name
    work=build-fuzz/corpus-$name
    mkdir -p "$work"
    seeds=""
    [ -d tests/fuzz/seeds/$name ] && seeds="tests/fuzz/seeds/$name"
    [ "$name" = fuzz_pcap ] && seeds="$seeds tests/golden"
    [ "$name" = fuzz_x509 ] && seeds="$seeds tests/unit/data/x509"
    if [ "$name" = fuzz_pcap ] && [ -d ../shared/corpus ]; then
        seeds="$seeds ../shared/corpus/synthetic"
        [ -d ../shared/corpus/foxio/pcap ] && seeds="$seeds ../shared/corpus/foxio/pcap"
    fi
    # shellcheck disable=SC2086
    if "$t" -max_total_time="$SECS" -max_len=262144 -rss_limit_mb=2048 -timeout=10 \
        -artifact_prefix=build-fuzz/artifacts/ -print_final_stats=0 "$work" $seeds \
        > build-fuzz/$name.log 2>&1; then
        runs=$(grep -Eo 'Done [0-9]+ runs' build-fuzz/$name.log | tail -n 1 | grep -Eo '[0-9]+' | head -n 1)
        cov=$(grep -Eo 'cov: [0-9]+' build-fuzz/$name.log | tail -n 1 | grep -Eo '[0-9]+')
        eps=$(grep -Eo 'exec/s: [0-9]+' build-fuzz/$name.log | tail -n 1 | grep -Eo '[0-9]+')
        echo "$name: ok (${runs:-?} runs, ${cov:-?} edges, ${eps:-?} exec/s)"
        pass=$((pass + 1))
    else
        echo "$name: FAILED, see build-fuzz/$name.log"
        grep -E 'ERROR|SUMMARY|artifact' build-fuzz/$name.log | head -n 10
        fail=$((fail + 1))
    fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" = 0 ]
