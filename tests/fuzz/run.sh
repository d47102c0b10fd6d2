#!/bin/sh
# run.sh -- builds every libFuzzer target tests/fuzz/fuzz_<name>.c with clang
# (-fsanitize=fuzzer,address,undefined) against the core library in a build
# directory of its own, then either fuzzes each for a set time or replays
# the files kept for it.  Called by `make fuzz` and by dev.sh test.
#   run.sh [fuzz|regress|build] [name...]   (default: fuzz, every target)
# Environment:
#   FUZZ_SECONDS   time per target when fuzzing (default 60)
#   FUZZ_BUILDDIR  where the clang build goes (default ./_build-fuzz)
#   FUZZ_JOBS      targets fuzzed at once (default 1)
#   FUZZ_TAP       when set, a file that gets one TAP line per target
#   CC             clang (default clang)
# Seeds come from tests/fuzz/corpus/<name>/ (read only); what a run finds
# goes into $FUZZ_BUILDDIR/corpus/<name>/.  A crash is saved as
# $FUZZ_BUILDDIR/crashes/<name>-crash-<sha1>: copy it to
# tests/fuzz/regressions/<name>/ with the fix, and `make check` replays it
# from then on (tests/integration/fuzz_regressions.sh).
# Exit: 0 when every target ran clean, 1 when one crashed or a regression
# file failed, 77 when clang cannot build a fuzzer here.
set -u
mode=${1:-fuzz}
[ $# -gt 0 ] && shift
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_JOBS=${FUZZ_JOBS:-1}
FUZZ_TAP=${FUZZ_TAP:-}
b=${FUZZ_BUILDDIR:-$(pwd)/_build-fuzz}
CC=${FUZZ_CC:-clang}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"

targets=${*:-$(cd "$here" && ls fuzz_*.c 2>/dev/null | sed 's/^fuzz_//; s/\.c$//')}
[ -n "$targets" ] || { echo "run.sh: no tests/fuzz/fuzz_*.c" >&2; exit 1; }

say() { echo "fuzz: $*"; }
tap() { [ -n "$FUZZ_TAP" ] && echo "$*" >>"$FUZZ_TAP"; return 0; }

# ---- build ----
mkdir -p "$b" || exit 1
b=$(cd "$b" && pwd)
probe="$b/probe"
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' >"$probe.c"
if ! "$CC" -fsanitize=fuzzer,address,undefined "$probe.c" -o "$probe" >"$probe.log" 2>&1; then
	say "SKIP: $CC cannot build a libFuzzer target here ($(head -1 "$probe.log"))"
	exit 77
fi
if [ ! -f "$b/Makefile" ] || [ "$src/configure" -nt "$b/Makefile" ]; then
	[ -x "$src/configure" ] || (cd "$src" && autoreconf -fi >/dev/null 2>&1) || exit 1
	say "configuring $b with $CC"
	(cd "$b" && "$src/configure" -q CC="$CC" \
		CFLAGS="-O1 -g -fsanitize=fuzzer-no-link $SAN" LDFLAGS="$SAN") >"$b/configure.log" 2>&1 ||
		{ cat "$b/configure.log"; exit 1; }
fi
make -s -C "$b" -j"${FUZZ_MAKE_JOBS:-2}" libpgccore.a >"$b/make.log" 2>&1 || { cat "$b/make.log"; exit 1; }
libs=$(grep '^PGC_LIBS\b\|^\(NCURSES\|LIBPQ\|CURL\|CJSON\|SQLITE\|CRYPTO\|XXHASH\)_LIBS =' "$b/Makefile" |
	sed 's/^[A-Z_]* = //' | grep -v '\$' | tr '\n' ' ')
cflags=$(grep '^\(NCURSES\|CJSON\|SQLITE\|CURL\|LIBPQ\|CRYPTO\|XXHASH\)_CFLAGS =' "$b/Makefile" | sed 's/^[A-Z_]* = //' | tr '\n' ' ')
mkdir -p "$b/bin" "$b/crashes"
for t in $targets; do
	out="$b/bin/fuzz_$t"
	if [ ! -x "$out" ] || [ "$here/fuzz_$t.c" -nt "$out" ] || [ "$b/libpgccore.a" -nt "$out" ]; then
		# shellcheck disable=SC2086
		"$CC" -std=c11 -O1 -g -fsanitize=fuzzer $SAN -I"$src/include" -I"$b" $cflags \
			"$here/fuzz_$t.c" "$b/libpgccore.a" $libs -lm -o "$out" >"$b/build-$t.log" 2>&1 ||
			{ cat "$b/build-$t.log"; say "cannot build fuzz_$t"; exit 1; }
	fi
done
[ "$mode" = build ] && { say "built in $b/bin"; exit 0; }

# ---- replay: every regression file and seed, once ----
regress_one() {  # name -> 0 ok, 1 failed
	t=$1
	files=$(ls -d "$here/regressions/$t"/* "$here/corpus/$t"/* 2>/dev/null)
	[ -n "$files" ] || { say "$t: nothing to replay"; return 0; }
	n=$(echo "$files" | wc -l)
	# shellcheck disable=SC2086
	if "$b/bin/fuzz_$t" -runs=1 $files >"$b/regress-$t.log" 2>&1; then
		say "$t: $n files replayed clean"
		return 0
	fi
	say "$t: a replayed file failed:"
	grep -E 'Running:|ERROR|SUMMARY|runtime error' "$b/regress-$t.log" | tail -5
	return 1
}

# ---- fuzz: each target for FUZZ_SECONDS ----
fuzz_one() {  # name -> 0 ok, 1 crashed
	t=$1
	mkdir -p "$b/corpus/$t"
	seeds="$here/corpus/$t"
	[ -d "$seeds" ] || seeds=
	log="$b/fuzz-$t.log"
	# shellcheck disable=SC2086
	"$b/bin/fuzz_$t" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=1024 \
		-max_len="${FUZZ_MAX_LEN:-8192}" -print_final_stats=1 \
		-artifact_prefix="$b/crashes/$t-" "$b/corpus/$t" $seeds >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	[ -n "$execs" ] || execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
	if [ $rc -eq 0 ]; then
		say "$t: ${execs:-0} executions in ${FUZZ_SECONDS}s, no crash"
		return 0
	fi
	say "$t: CRASH after ${execs:-?} executions (log $log):"
	grep -E 'ERROR|SUMMARY|runtime error|Test unit written|artifact' "$log" | head -8
	return 1
}

failed=0
case "$mode" in
regress)
	for t in $targets; do
		if regress_one "$t"; then tap "ok - fuzz regress $t"; else tap "not ok - fuzz regress $t"; failed=1; fi
	done ;;
fuzz)
	for t in $targets; do
		if regress_one "$t"; then tap "ok - fuzz regress $t"; else tap "not ok - fuzz regress $t"; failed=1; fi
	done
	# targets in parallel, FUZZ_JOBS at a time
	st="$b/status"
	rm -rf "$st"
	mkdir -p "$st"
	running=0
	for t in $targets; do
		( fuzz_one "$t" >"$st/$t.out"; echo $? >"$st/$t.rc" ) &
		running=$((running + 1))
		if [ "$running" -ge "$FUZZ_JOBS" ]; then
			wait
			running=0
		fi
	done
	wait
	for t in $targets; do
		cat "$st/$t.out"
		if [ "$(cat "$st/$t.rc" 2>/dev/null)" = 0 ]; then
			tap "ok - fuzz $t (${FUZZ_SECONDS}s)"
		else
			tap "not ok - fuzz $t (${FUZZ_SECONDS}s)"
			failed=1
		fi
	done ;;
*) echo "usage: run.sh [fuzz|regress|build] [name...]" >&2; exit 64 ;;
esac
exit $failed
