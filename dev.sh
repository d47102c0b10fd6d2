#!/bin/sh
# dev.sh -- one-command set-up for a fresh Debian machine.
#   ./dev.sh demo   install what is missing, build, open the demo console
#   ./dev.sh test   install what is missing, build, run the whole test suite
#   ./dev.sh build  install what is missing and build
#   ./dev.sh gates  build, then only the quality gates (valgrind, cppcheck)
# Uses apt-get (through sudo when not root) only for packages not installed.
set -e
cd "$(dirname "$0")"

PKGS="build-essential autoconf automake pkg-config libncurses-dev libpq-dev
libcurl4-openssl-dev libcjson-dev libsqlite3-dev libssl-dev postgresql
postgresql-client sqlite3 tmux jq mandoc locales ncurses-term procps python3 curl
valgrind cppcheck"

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
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
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
		done | xargs -P 2 -I{} sh -c '
			t={}; n=$(basename "$t")
			top_srcdir=$(pwd) top_builddir=$(pwd)/_build PGCUTOVER=$(pwd)/_build/pgcutover \
				valgrind '"$VG_OPTS"' --log-file="$1/$n.vg" "$t" >"$1/$n.tap" 2>&1
			echo $? >"$1/$n.rc"' sh "$gd"
		for rc in "$gd"/*.rc; do
			n=$(basename "$rc" .rc)
			if [ "$(cat "$rc")" = 0 ] && [ ! -s "$gd/$n.vg" ]; then
				gate PASS "valgrind tests/unit/$n"
			else
				gate FAIL "valgrind tests/unit/$n" "exit $(cat "$rc"); see $gd/$n.vg"
				head -40 "$gd/$n.vg" "$gd/$n.tap" | sed 's/^/#   /' >>"$out"
			fi
		done
		# the console under valgrind: slow, so the screen waits are long
		rm -f "$gd"/console.*
		PGC_TESTS=$(pwd)/tests/e2e/console_checklist.sh E2E_TIMEOUT=60 \
		PGC_CONSOLE_WRAP="valgrind $VG_OPTS --log-file=$gd/console.%p.vg" \
		top_srcdir=$(pwd) top_builddir=$(pwd)/_build PGCUTOVER=$(pwd)/_build/pgcutover \
			sh tests/run-shell.sh >"$gd/console.tap" 2>&1
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
       make -s -C _build check "$@" >make-check.out 2>&1
       rc=$?
       # Everything again under AddressSanitizer and UBSan: the C unit tests,
       # and the binary itself under the integration and console tests.
       # A report goes to a file too, so one from a run whose exit status a
       # test does not look at still fails the suite.
       san=$(pwd)/_build-asan/sanitizer-reports
       rm -rf "$san"
       build _build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" \
           LDFLAGS="-fsanitize=address,undefined" >make-check-asan.out 2>&1 &&
       mkdir -p "$san" && chmod 1777 "$san" &&
       ASAN_OPTIONS=detect_leaks=1:log_path=$san/asan \
       UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$san/ubsan \
           make -s -C _build-asan check >>make-check-asan.out 2>&1
       rc_asan=$?
       quality_gates
       rc_gates=$?
       reports=$(ls "$san" 2>/dev/null | wc -l)
       for r in "$san"/*; do
           [ -f "$r" ] || continue
           echo "FAIL: asan: sanitizer report $(basename "$r"):"
           head -30 "$r"
       done
       sed -i 's/^\(PASS\|FAIL\|SKIP\|ERROR\|XPASS\): /\1: asan: /' make-check-asan.out
       for f in make-check.out make-check-asan.out make-check-gates.out; do
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
       pass=$(field PASS make-check.out make-check-asan.out make-check-gates.out)
       skip=$(field SKIP make-check.out make-check-asan.out make-check-gates.out)
       failed=$(( $(field FAIL make-check.out make-check-asan.out make-check-gates.out) + $(field ERROR make-check.out make-check-asan.out) + $(field XPASS make-check.out make-check-asan.out) + reports ))
       [ $rc -ne 0 ] || [ $rc_asan -ne 0 ] || [ $rc_gates -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
       echo "$pass passed, $failed failed, $skip skipped"
       [ "$failed" -eq 0 ] ;;
build) install_missing; build _build; echo "built: _build/pgcutover" ;;
gates) install_missing; build _build
       make -s -C _build check TESTS= >/dev/null   # builds the unit tests only
       set +e
       quality_gates; rc=$?
       grep -v '^PASS: ' make-check-gates.out
       exit $rc ;;
*) echo "usage: ./dev.sh demo|test|build|gates" >&2; exit 64 ;;
esac
