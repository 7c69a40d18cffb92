#!/bin/sh
# run_tests.sh - the whole test suite after the unit tests (make test).
#
#   1. golden captures (also through OpenSSL's own key decoders), CLI contract, conformance corpus, certificate chains
#      against openssl's own reading, interception detections (a positive and
#      a negative case each), the same events with any --workers N, every
#      event against Suricata's EVE schema and every --format ecs document
#      against ECS's field list, tshark
#      differential (JA3/JA3S, QUIC SNI, Community ID, ssl_history and curve),
#      the same handshakes through every encapsulation and fragmented, live
#      capture and the sensor (tcpreplay, rotation,
#      reload, signals, privilege drop, Redis) in network namespaces (root
#      only), every output transport against the real thing, memory
#      pressure (floods and stuck handshakes: real connections still
#      reported), make install into a temporary DESTDIR
#   2. the same (unit tests included) on an ASan+UBSan build
#   3. every libFuzzer target for a bounded time (FUZZ_SECONDS, default 12:
#      16 targets, 192 s)
#
# Options: --quick (stage 1 only), --golden-update (rewrite golden JSON).
# Each stage prints "NAME: N passed, M failed"; the last line sums them.
set -u
cd "$(dirname "$0")/.." || exit 1

QUICK=0
case "${1:-}" in
    --quick) QUICK=1 ;;
    --golden-update) exec sh tests/scripts/golden.sh --update ;;
esac

LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
total_pass=0
total_fail=0
failed_stages=""

# run NAME CMD...: run a stage, echo its output, add its counts.
run() {
    name=$1
    shift
    echo "== $name"
    "$@" > "$LOG" 2>&1
    rc=$?
    cat "$LOG"
    line=$(grep -E '^[A-Za-z0-9_./-]+: [0-9]+ passed, [0-9]+ failed' "$LOG" | tail -n 1)
    if [ -n "$line" ]; then
        p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed.*/\1/')
        f=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed.*/\2/')
        total_pass=$((total_pass + p))
        total_fail=$((total_fail + f))
    fi
    if [ $rc != 0 ]; then
        failed_stages="$failed_stages $name"
        [ -z "$line" ] && total_fail=$((total_fail + 1))
    fi
}

stage1() {
    bin=$1 tag=$2
    run "golden$tag" env PINSCOPE="$bin" sh tests/scripts/golden.sh
    run "cli$tag" env PINSCOPE="$bin" sh tests/scripts/cli_test.sh
    run "corpus$tag" python3 tests/scripts/check_corpus.py --pinscope "$bin"
    run "certs$tag" python3 tests/scripts/check_certs.py --pinscope "$bin"
    if [ -z "$tag" ]; then
        # The same events when keys are decoded through OpenSSL 3.0's
        # provider decoders instead of x509/keys.c's direct route.
        run "golden-decoders" env PINSCOPE_OPENSSL_DECODERS=1 PINSCOPE="$bin" \
            sh tests/scripts/golden.sh
        run "certs-decoders" env PINSCOPE_OPENSSL_DECODERS=1 \
            python3 tests/scripts/check_certs.py --pinscope "$bin"
    fi
    run "detect$tag" python3 tests/scripts/check_detect.py --pinscope "$bin"
    run "samples$tag" env PINSCOPE="$bin" sh tests/scripts/samples_golden.sh
    run "workers$tag" python3 tests/scripts/check_workers.py --pinscope "$bin"
    run "schema$tag" python3 tests/scripts/check_schema.py --pinscope "$bin"
    run "ecs$tag" python3 tests/scripts/check_ecs.py --pinscope "$bin"
    run "report$tag" python3 tests/scripts/check_report.py --pinscope "$bin"
    run "resume$tag" python3 tests/scripts/check_resume.py --pinscope "$bin"
}

stage1 ./pinscope ""
run tshark python3 tests/scripts/tshark_diff.py --pinscope ./pinscope
run ja4t python3 tests/scripts/check_ja4t.py --pinscope ./pinscope
run confusion python3 tests/scripts/confusion.py --pinscope ./pinscope
run encap python3 tests/scripts/check_encap.py --pinscope ./pinscope
run history python3 tests/scripts/check_history.py --pinscope ./pinscope
run communityid python3 tests/scripts/check_community_id.py --pinscope ./pinscope
run geoip python3 tests/scripts/check_geoip.py --pinscope ./pinscope
run live env PINSCOPE=./pinscope bash tests/scripts/live_test.sh
run sensor env PINSCOPE=./pinscope bash tests/scripts/sensor_test.sh
run sinks bash tests/scripts/sink_test.sh
run pressure python3 tests/scripts/pressure_test.py --pinscope ./pinscope
run install bash tests/scripts/install_test.sh

if [ $QUICK = 0 ]; then
    echo "== sanitizer build (ASan+UBSan)"
    if make --no-print-directory SANITIZE=address,undefined build-san/pinscope unit > "$LOG" 2>&1; then
        grep -E 'passed, [0-9]+ failed' "$LOG"
        for l in $(grep -E '^tests/unit/[a-z_]+\.c: [0-9]+ passed' "$LOG" | sed -E 's/^([^:]+): ([0-9]+) passed, ([0-9]+) failed.*/\2:\3/'); do
            total_pass=$((total_pass + ${l%%:*}))
            total_fail=$((total_fail + ${l##*:}))
        done
        export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
        export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
        stage1 build-san/pinscope "-asan"
        unset ASAN_OPTIONS UBSAN_OPTIONS
    else
        tail -n 30 "$LOG"
        failed_stages="$failed_stages sanitizer-build"
        total_fail=$((total_fail + 1))
    fi

    run fuzz sh tests/scripts/fuzz_run.sh "${FUZZ_SECONDS:-12}"
fi

echo "== summary"
[ -n "$failed_stages" ] && echo "failed stages:$failed_stages"
echo "tests: $total_pass passed, $total_fail failed"
[ -z "$failed_stages" ] && [ "$total_fail" = 0 ]
