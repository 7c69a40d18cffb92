#!/bin/bash
# install_test.sh - "make install" and the installed files.
#
#   1. make install DESTDIR=tmp PREFIX=/usr/local: every file is in place
#      (binary, each signature file, man page, systemd unit with @SBINDIR@
#      substituted, logrotate file); make uninstall removes them again
#   2. the man page renders without warnings (groff -ww, man --warnings) and
#      documents every option ./pinscope --help lists, the signals and the
#      sink URI schemes
#   3. the unit passes systemd-analyze verify (when that can run here)
#   4. logrotate -d parses the logrotate file
#   5. a binary built for another PREFIX (own build directory), installed
#      with SBINDIR elsewhere (so nothing beside it leads to the data), finds
#      $(DATADIR)/signatures when run from / without --signatures
#
# The last line is "install: N passed, M failed"; the exit status is 0 only
# when nothing failed.
set -u
cd "$(dirname "$0")/../.." || exit 1
REPO=$(pwd)
PINSCOPE=${PINSCOPE:-./pinscope}

pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() {   # check DESCRIPTION COMMAND...
    local d=$1
    shift
    if "$@"; then ok; else bad "$d"; fi
}

tmp=$(mktemp -d /tmp/pinscope-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest
log=$tmp/log

# ---- 1. install / uninstall ----------------------------------------------
if make --no-print-directory install DESTDIR="$dest" PREFIX=/usr/local > "$log" 2>&1; then
    ok
else
    bad "make install DESTDIR=$dest PREFIX=/usr/local"
    tail -n 20 "$log"
fi

bin=$dest/usr/local/sbin/pinscope
man8=$dest/usr/local/share/man/man8/pinscope.8
unit=$dest/usr/local/lib/systemd/system/pinscope@.service
lrot=$dest/etc/logrotate.d/pinscope
sigdir=$dest/usr/local/share/pinscope/signatures

check "binary installed executable: $bin" test -x "$bin"
check "man page installed: $man8" test -f "$man8"
check "unit installed: $unit" test -f "$unit"
check "logrotate file installed: $lrot" test -f "$lrot"
nsig=0
while IFS= read -r f; do
    nsig=$((nsig + 1))
    check "signature file installed identical: ${f#./}" cmp -s "signatures/${f#./}" "$sigdir/${f#./}"
done < <(cd signatures && find . -type f | sort)
check "signatures/ has files" test "$nsig" -gt 0
check "installed binary runs --help" "$bin" --help > "$tmp/help.installed" 2>&1
check "installed binary has /usr/local/share/pinscope compiled in" \
    grep -qaF "/usr/local/share/pinscope" "$bin"
check "unit: @SBINDIR@ substituted" grep -q '^ExecStart=/usr/local/sbin/pinscope ' "$unit"
check "unit: no @...@ left" bash -c "! grep -q '@[A-Z]*@' '$unit'"
check "unit: installed mode 0644" test "$(stat -c %a "$unit")" = 644
check "binary: installed mode 0755" test "$(stat -c %a "$bin")" = 755

# ---- 2. man page -----------------------------------------------------------
out=$(groff -man -ww -z "$man8" 2>&1)
check "groff -man -ww reports nothing${out:+: $out}" test -z "$out"
out=$(MANWIDTH=80 man --warnings -l "$man8" 2>&1 >/dev/null)
check "man --warnings reports nothing${out:+: $out}" test -z "$out"
# Rendered as ASCII on very long lines, so no option is broken across lines.
LC_ALL=C MANWIDTH=1000 man -l "$man8" 2>/dev/null | col -b > "$tmp/man.txt"
check "man page renders" test -s "$tmp/man.txt"

if "$PINSCOPE" --help > "$tmp/help" 2>&1; then
    ok
else
    bad "$PINSCOPE --help exits 0"
fi
longs=$(grep -oE -- '--[a-z][a-z0-9-]*[a-z0-9]' "$tmp/help" | sort -u)
shorts=$(grep -oE -- '^ +-[A-Za-z]\b' "$tmp/help" | tr -d ' ' | sort -u)
check "--help lists long options" test -n "$longs"
for o in $longs $shorts; do
    # the option as a word: not followed by more of an option name
    if grep -qE -- "(^|[^A-Za-z0-9-])$o([^A-Za-z0-9-]|\$)" "$tmp/man.txt"; then
        ok
    else
        bad "man page does not document $o (listed by --help)"
    fi
done
for w in SIGHUP SIGUSR1 SIGTERM SIGINT redis:// unix-dgram: unix-stream: syslog: file: \
         "EXIT STATUS" FILES EXAMPLES "SEE ALSO" "tcpdump(8)" "suricata(1)"; do
    check "man page mentions $w" grep -qF -- "$w" "$tmp/man.txt"
done

# ---- 3. systemd unit -------------------------------------------------------
if command -v systemd-analyze > /dev/null 2>&1; then
    mkdir -p "$tmp/units"
    # A unit known to be good first: if that fails, verify cannot run here.
    printf '[Service]\nExecStart=/bin/true\n' > "$tmp/units/probe.service"
    if systemd-analyze verify --man=no "$tmp/units/probe.service" > "$log" 2>&1; then
        # an instance (interface eth0), ExecStart pointing at the DESTDIR binary
        sed "s|^ExecStart=/usr/local/sbin/|ExecStart=$dest/usr/local/sbin/|" "$unit" \
            > "$tmp/units/pinscope@eth0.service"
        systemd-analyze verify --man=no "$tmp/units/pinscope@eth0.service" > "$log" 2>&1
        rc=$?
        if [ $rc = 0 ] && [ ! -s "$log" ]; then
            ok
        else
            bad "systemd-analyze verify pinscope@eth0.service (status $rc)"
            cat "$log"
        fi
    else
        echo "skipped: systemd-analyze verify cannot run here: $(head -n 1 "$log")"
    fi
else
    echo "skipped: systemd-analyze not installed"
fi

# ---- 4. logrotate ----------------------------------------------------------
if command -v logrotate > /dev/null 2>&1 || [ -x /usr/sbin/logrotate ]; then
    LOGROTATE=$(command -v logrotate || echo /usr/sbin/logrotate)
    cp "$lrot" "$tmp/logrotate.conf"
    if ! getent passwd pinscope > /dev/null || ! getent group pinscope > /dev/null; then
        # logrotate resolves the "create" owner while parsing
        echo "note: no pinscope user/group here: logrotate checked with create 0640 root root"
        sed -i 's/^\([[:space:]]*create 0640\) pinscope pinscope/\1 root root/' "$tmp/logrotate.conf"
    fi
    "$LOGROTATE" -d -s "$tmp/logrotate.state" "$tmp/logrotate.conf" > "$log" 2>&1
    rc=$?
    if [ $rc = 0 ] && ! grep -q '^error' "$log" && grep -q 'Handling 1 logs' "$log" &&
        grep -q 'rotating pattern: /var/log/pinscope/\*.json' "$log"; then
        ok
    else
        bad "logrotate -d $lrot (status $rc)"
        cat "$log"
    fi
else
    echo "skipped: logrotate not installed"
fi

# ---- 5. signatures found from anywhere -------------------------------------
# Own build directory and binary: the shared build/ and ./pinscope stay
# as they are.
prefix=$tmp/prefix
sbindir=$tmp/elsewhere/bin
vars=(BUILD="$tmp/build" PINSCOPE="$tmp/build/pinscope" PREFIX="$prefix" SBINDIR="$sbindir")
if make --no-print-directory -j"$(nproc 2>/dev/null || echo 2)" "${vars[@]}" install \
        > "$log" 2>&1; then
    ok
    sample=$REPO/samples/clean_curl_tls12.pcap
    (cd / && "$sbindir/pinscope" -v -r "$sample" --deterministic > "$tmp/ev" 2> "$tmp/err")
    rc=$?
    check "PREFIX=$prefix binary runs from / (status $rc)" test $rc = 0
    check "... and finds $prefix/share/pinscope/signatures" \
        bash -c "! grep -q 'no signatures found' '$tmp/err'"
    check "... and writes events" test -s "$tmp/ev"
    make --no-print-directory "${vars[@]}" uninstall > "$log" 2>&1
    check "make uninstall (PREFIX=$prefix)" test ! -e "$sbindir/pinscope"
    check "... removes the signatures" test ! -e "$prefix/share/pinscope"
    (cd / && "$tmp/build/pinscope" -r "$sample" --deterministic > /dev/null 2> "$tmp/err")
    check "without the installed signatures it warns" grep -q 'no signatures found' "$tmp/err"
else
    bad "make install PREFIX=$prefix with its own build directory"
    tail -n 20 "$log"
fi

# ---- uninstall the DESTDIR install -----------------------------------------
if make --no-print-directory uninstall DESTDIR="$dest" PREFIX=/usr/local > "$log" 2>&1; then
    ok
else
    bad "make uninstall DESTDIR=$dest"
    tail -n 20 "$log"
fi
left=$(find "$dest" -type f | sed "s|^$dest||")
check "uninstall removes every file${left:+ (left: $left)}" test -z "$left"
check "uninstall removes the data directory" test ! -e "$dest/usr/local/share/pinscope"

echo "install: $pass passed, $fail failed"
[ "$fail" = 0 ]
