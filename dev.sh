#!/bin/sh
# dev.sh -- one-command set-up for a fresh Debian machine.
#   ./dev.sh demo   install what is missing, build, open the demo console
#   ./dev.sh test   install what is missing, build, run the whole test suite;
#                   a process or /tmp file the suite leaves behind fails it
#   ./dev.sh build  install what is missing and build
#   ./dev.sh gates  build, then only the quality gates (valgrind, cppcheck)
# Uses apt-get (through sudo when not root) only for packages not installed.
set -e
cd "$(dirname "$0")"

PKGS="build-essential autoconf automake pkg-config libncurses-dev libpq-dev
libcurl4-openssl-dev libcjson-dev libsqlite3-dev libssl-dev postgresql
postgresql-client sqlite3 tmux jq mandoc locales ncurses-term procps python3 curl
valgrind cppcheck libxxhash-dev"

install_missing() {
	missing=""
	for p in $PKGS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "dev.sh: installing:$missing"
	SUDO=""
	[ "$(id -u)" -ne 0 ] && SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	echo "dev.sh: apt-get update"
	$SUDO apt-get update -qq
	apt_install $missing
}

# apt-get install showing its progress as "downloading 40/187" and "setting
# up 40/187" (one line rewritten on a terminal, every 20th package
# otherwise), not a minute of silence; apt's own output goes to a file that
# is shown when it fails.
apt_install() {
	apt_log=$(mktemp)
	[ -t 1 ] && apt_tty=1 || apt_tty=0
	{ $SUDO apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0 "$@" 2>&1
	  echo "apt-get-exit $?"; } | tee "$apt_log" | awk -v tty="$apt_tty" '
		function show(what, i) {
			if (tty) printf "\rdev.sh: apt: %s %d/%d ", what, i, total
			else if (i % 20 == 0 || i == total) printf "dev.sh: apt: %s %d/%d\n", what, i, total
			fflush()
		}
		/ newly installed, / { total = $1 + $3 }
		/^Get:[0-9]/ { show("downloading", ++got) }
		/^Setting up / { show("setting up", ++done) }
		END { if (tty && done) printf "\n" }'
	apt_rc=$(sed -n 's/^apt-get-exit //p' "$apt_log")
	if [ "$apt_rc" != 0 ]; then
		tail -30 "$apt_log" >&2
		rm -f "$apt_log"
		echo "dev.sh: apt-get install failed" >&2
		return 1
	fi
	rm -f "$apt_log"
}

# Builds out of tree so a sanitizer build can sit beside the normal one.
build() {  # build DIR [configure flags...]
	dir=$1; shift
	if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
		autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
	fi
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ] || [ configure -nt "$dir/Makefile" ]; then
		(cd "$dir" && ../configure -q "$@")
	fi
	make -s -C "$dir" -j"$(nproc 2>/dev/null || echo 2)"
}

# Sums one automake summary field ("# PASS:  12") over the given logs.
field() {
	f=$1; shift
	cat "$@" 2>/dev/null | sed -n "s/^# $f: *//p" | awk '{s += $1} END {print s + 0}'
}

# ---- the suite's own temporary directory and what it leaves behind ----
# Every test process gets PGC_SUITE_RUN=<run id> in its environment and
# TMPDIR, PGC_TMPROOT (tests/lib/pg.sh) and TMUX_TMPDIR (a tmux -L socket)
# pointing at /tmp/pgc-suite.<run id>, so what this run started can be told
# from other people's tests on the same machine.  Mode 0711: the server user
# (postgres, nobody) must reach its sockets there.
# (PGC_SUITE_ROOT replaces /tmp for tests/integration/dev_leftovers.sh.)
suite_begin() {
	SUITE_TMP=$(mktemp -d "${PGC_SUITE_ROOT:-/tmp}/pgc-suite.XXXXXX") || exit 1
	chmod 0711 "$SUITE_TMP"
	SUITE_ID=${SUITE_TMP##*/pgc-suite.}
	trap 'suite_kill_leftovers >/dev/null 2>&1; rm -rf "$SUITE_TMP"' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# suite_run CMD...: runs CMD marked as this run's.
suite_run() {
	env PGC_SUITE_RUN="$SUITE_ID" TMPDIR="$SUITE_TMP" PGC_TMPROOT="$SUITE_TMP" \
		TMUX_TMPDIR="$SUITE_TMP" "$@"
}

# Pids of live processes carrying this run's marker (read from
# /proc/PID/environ; this shell does not carry it, nor do the tools here).
suite_pids() {
	for _sp in /proc/[0-9]*; do
		{ tr '\0' '\n' <"$_sp/environ"; } 2>/dev/null | grep -qx "PGC_SUITE_RUN=$SUITE_ID" &&
			echo "${_sp#/proc/}"
	done
}

suite_kill_leftovers() {
	[ -n "${SUITE_ID:-}" ] || return 0
	for _sk in $(suite_pids); do kill "$_sk" 2>/dev/null; done
}

# Names every process of this run still running and every file left in its
# directory (beyond the initdb template cache, which is the run's own) as a
# "FAIL: leftover:" line, stops those processes, and sets SUITE_LEFTOVERS to
# their number.  Processes get a few seconds to finish exiting first.
suite_check_leftovers() {
	SUITE_LEFTOVERS=0
	_sl_end=$(( $(date +%s) + 5 ))
	while [ -n "$(suite_pids)" ] && [ "$(date +%s)" -lt "$_sl_end" ]; do sleep 0.5; done
	for _sl_p in $(suite_pids); do
		_sl_args=$({ tr '\0' ' ' <"/proc/$_sl_p/cmdline"; } 2>/dev/null)
		_sl_user=$(stat -c %U "/proc/$_sl_p" 2>/dev/null)
		echo "FAIL: leftover: process $_sl_p ($_sl_user) still running: $_sl_args"
		SUITE_LEFTOVERS=$((SUITE_LEFTOVERS + 1))
	done
	suite_kill_leftovers
	for _sl_f in "$SUITE_TMP"/* "$SUITE_TMP"/.[!.]*; do
		[ -e "$_sl_f" ] || [ -L "$_sl_f" ] || continue
		case "${_sl_f##*/}" in pgc-initdb-*|sanitizer-reports) continue ;; esac
		echo "FAIL: leftover: $_sl_f (a test did not remove it)"
		SUITE_LEFTOVERS=$((SUITE_LEFTOVERS + 1))
	done
}

# The fuzz targets (tests/fuzz/run.sh), when clang can build libFuzzer
# targets: each fuzzed for FUZZ_SECONDS (20 s: a few minutes in all on two
# cores) after its regression files and seeds are replayed.  Writes
# make-check-fuzz.out in automake's summary format, one case per target
# and replay, so the totals below count them; nothing when clang is absent
# (`make check` replays the regressions with gcc anyway).
fuzz_check() {
	fz_out=make-check-fuzz.out
	rm -f "$fz_out" "$fz_out.tap"
	command -v clang >/dev/null 2>&1 || return 0
	FUZZ_SECONDS=${FUZZ_SECONDS:-20} FUZZ_JOBS=${FUZZ_JOBS:-2} FUZZ_TAP=$(pwd)/$fz_out.tap \
		nice -n 10 sh tests/fuzz/run.sh fuzz >"$fz_out.log" 2>&1
	fz_rc=$?
	if [ $fz_rc -eq 77 ]; then
		rm -f "$fz_out.tap"
		return 0
	fi
	[ -f "$fz_out.tap" ] || echo "not ok - fuzz: tests/fuzz/run.sh failed before running (exit $fz_rc)" >"$fz_out.tap"
	sed -n 's/^ok - /PASS: fuzz: /p; s/^not ok - /FAIL: fuzz: /p' "$fz_out.tap" >"$fz_out"
	echo "# PASS: $(grep -c '^PASS:' "$fz_out")" >>"$fz_out"
	echo "# FAIL: $(grep -c '^FAIL:' "$fz_out")" >>"$fz_out"
	grep -q '^FAIL:' "$fz_out" && grep '^fuzz: ' "$fz_out.log" | grep -v 'replayed clean'
	rm -f "$fz_out.tap"
	return 0
}

# Quality gates after the suites (issue 19): memcheck over every C unit test
# and one console e2e script (the console itself under valgrind in tmux,
# through console.inc's PGC_CONSOLE_WRAP), and cppcheck over src/.  Each
# case is one automake-style line in make-check-gates.out ("PASS: gate:
# ..."), with "# PASS:"/"# FAIL:"/"# SKIP:" totals so the last line counts
# them.  A definite leak, an invalid read or write, or an uninitialised
# value fails; memory ncurses and libcurl keep until exit does not.
VG_OPTS="-q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 --track-origins=no"
quality_gates() {
	out=$(pwd)/make-check-gates.out
	gd=$(pwd)/_build/gates
	rm -rf "$gd"; mkdir -p "$gd"; chmod 1777 "$gd"
	: >"$out"
	gate() {  # gate PASS|FAIL|SKIP NAME [WHY]
		echo "$1: gate: $2${3:+ # $3}" >>"$out"
	}
	if command -v valgrind >/dev/null 2>&1; then
		t0=$(date +%s)
		for t in _build/tests/unit/test_*; do
			case $t in *.*) continue ;; esac
			[ -x "$t" ] && echo "$t"
		done | suite_run xargs -P 2 -I{} sh -c '
			t={}; n=$(basename "$t")
			top_srcdir=$(pwd) top_builddir=$(pwd)/_build PGCUTOVER=$(pwd)/_build/pgcutover \
				valgrind '"$VG_OPTS"' --log-file="$1/$n.vg" "$t" >"$1/$n.tap" 2>&1
			echo $? >"$1/$n.rc"' sh "$gd"
		# (not $rc: the suite's exit status is kept in it)
		for _g_rcf in "$gd"/*.rc; do
			n=$(basename "$_g_rcf" .rc)
			if [ "$(cat "$_g_rcf")" = 0 ] && [ ! -s "$gd/$n.vg" ]; then
				gate PASS "valgrind tests/unit/$n"
			else
				gate FAIL "valgrind tests/unit/$n" "exit $(cat "$_g_rcf"); see $gd/$n.vg"
				head -40 "$gd/$n.vg" "$gd/$n.tap" | sed 's/^/#   /' >>"$out"
			fi
		done
		# the console under valgrind: slow, so the screen waits are long
		rm -f "$gd"/console.*
		PGC_TESTS=$(pwd)/tests/e2e/console_checklist.sh E2E_TIMEOUT=60 \
		PGC_CONSOLE_WRAP="valgrind $VG_OPTS --log-file=$gd/console.%p.vg" \
		top_srcdir=$(pwd) top_builddir=$(pwd)/_build PGCUTOVER=$(pwd)/_build/pgcutover \
			suite_run sh tests/run-shell.sh >"$gd/console.tap" 2>&1
		nvg=$(ls "$gd"/console.*.vg 2>/dev/null | wc -l)
		if grep -q '^not ok' "$gd/console.tap" || ! grep -q '^1\.\.[1-9]' "$gd/console.tap"; then
			gate FAIL "valgrind e2e/console_checklist" "its cases failed under valgrind"
			grep -A5 '^not ok' "$gd/console.tap" | head -40 | sed 's/^/#   /' >>"$out"
		elif [ "$nvg" -eq 0 ]; then
			gate FAIL "valgrind e2e/console_checklist" "the console never ran under valgrind"
		elif [ -n "$(cat "$gd"/console.*.vg)" ]; then
			gate FAIL "valgrind e2e/console_checklist" "valgrind reports"
			cat "$gd"/console.*.vg | head -60 | sed 's/^/#   /' >>"$out"
		else
			gate PASS "valgrind e2e/console_checklist ($nvg consoles)"
		fi
		echo "# valgrind: $(( $(date +%s) - t0 ))s" >>"$out"
	else
		gate SKIP valgrind "valgrind not installed"
	fi
	if command -v cppcheck >/dev/null 2>&1; then
		t0=$(date +%s)
		# warning and portability only: style findings are the style
		# guide's business; suppressions with their reasons are in the file
		if cppcheck -q -j2 --enable=warning,portability --error-exitcode=1 --inline-suppr \
			--suppressions-list=.ci/cppcheck.supp -Iinclude -D__GNUC__ -DHAVE_CONFIG_H \
			--std=c11 src >"$gd/cppcheck.out" 2>&1; then
			gate PASS "cppcheck src/"
		else
			gate FAIL "cppcheck src/"
			head -40 "$gd/cppcheck.out" | sed 's/^/#   /' >>"$out"
		fi
		echo "# cppcheck: $(( $(date +%s) - t0 ))s" >>"$out"
	else
		gate SKIP cppcheck "cppcheck not installed"
	fi
	for f in PASS FAIL SKIP; do
		echo "# $f: $(grep -c "^$f: gate:" "$out")" >>"$out"
	done
	! grep -q '^FAIL: gate:' "$out"
}

cmd=${1:-build}
[ $# -gt 0 ] && shift
case "$cmd" in
demo)  install_missing; build _build; exec ./_build/pgcutover demo "$@" ;;
test)  install_missing
       build _build --enable-werror
       set +e
       suite_begin
       suite_run make -s -C _build check "$@" >make-check.out 2>&1
       rc=$?
       # Everything again under AddressSanitizer and UBSan: the C unit tests,
       # and the binary itself under the integration and console tests.
       # A report goes to a file too, so one from a run whose exit status a
       # test does not look at still fails the suite.  The reports are
       # written in the run's directory, which a test's other users (nobody)
       # can reach wherever the clone lives, then kept in _build-asan.
       san=$SUITE_TMP/sanitizer-reports
       rm -rf _build-asan/sanitizer-reports
       build _build-asan CFLAGS="-O1 -g -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer" \
           LDFLAGS="-fsanitize=address,undefined,float-cast-overflow" >make-check-asan.out 2>&1 &&
       mkdir -p "$san" && chmod 1777 "$san" &&
       ASAN_OPTIONS=detect_leaks=1:log_exe_name=1:log_path=$san/asan \
       UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$san/ubsan \
           suite_run make -s -C _build-asan check >>make-check-asan.out 2>&1
       rc_asan=$?
       [ -d "$san" ] && cp -r "$san" _build-asan/sanitizer-reports
       quality_gates
       rc_gates=$?
       reports=$(ls "$san" 2>/dev/null | wc -l)
       # A report names its program (log_exe_name) and its size; an empty
       # one means a process opened its report and died before writing it.
       for r in "$san"/*; do
           [ -f "$r" ] || continue
           echo "FAIL: asan: sanitizer report $(basename "$r") ($(wc -c <"$r") bytes):"
           head -60 "$r" | sed 's/^/#   /'
       done
       sed -i 's/^\(PASS\|FAIL\|SKIP\|ERROR\|XPASS\): /\1: asan: /' make-check-asan.out
       fuzz_check
       for f in make-check.out make-check-asan.out make-check-fuzz.out make-check-gates.out; do
           grep -E '^(FAIL|ERROR|XPASS|SKIP):' "$f"
           grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR):' "$f" | sed "s/^/$f /"
       done
       [ $rc -ne 0 ] && grep -E 'mandoc|error:|Error ' make-check.out | head -20
       # what each failing case said: its diagnostics, not only its name
       [ $rc -ne 0 ] || [ $rc_asan -ne 0 ] && find _build/tests _build-asan/tests -name '*.log' -exec awk '
           /^not ok/ { n = 40; print FILENAME ": " $0; next }
           n > 0 && /^#/ { n--; print "    " $0; next }
           { n = 0 }' {} + 2>/dev/null | head -200
       [ $rc_asan -ne 0 ] && tail -40 make-check-asan.out
       [ $rc_gates -ne 0 ] && grep -A40 '^FAIL: gate:' make-check-gates.out | head -80
       pass=$(field PASS make-check.out make-check-asan.out make-check-fuzz.out make-check-gates.out)
       skip=$(field SKIP make-check.out make-check-asan.out make-check-gates.out)
       suite_check_leftovers
       failed=$(( $(field FAIL make-check.out make-check-asan.out make-check-fuzz.out make-check-gates.out) + $(field ERROR make-check.out make-check-asan.out) + $(field XPASS make-check.out make-check-asan.out) + reports + SUITE_LEFTOVERS ))
       [ $rc -ne 0 ] || [ $rc_asan -ne 0 ] || [ $rc_gates -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
       echo "$pass passed, $failed failed, $skip skipped"
       [ "$failed" -eq 0 ] ;;
build) install_missing; build _build; echo "built: _build/pgcutover" ;;
gates) install_missing; build _build
       make -s -C _build check TESTS= >/dev/null   # builds the unit tests only
       set +e
       suite_begin
       quality_gates; rc=$?
       grep -v '^PASS: ' make-check-gates.out
       exit $rc ;;
*) echo "usage: ./dev.sh demo|test|build|gates" >&2; exit 64 ;;
esac
