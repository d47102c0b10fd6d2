#!/bin/sh
# dev.sh -- one-command set-up for a fresh Debian machine.
#   ./dev.sh demo   install what is missing, build, open the demo console
#   ./dev.sh test   install what is missing, build, run the whole test suite
#   ./dev.sh build  install what is missing and build
# Uses apt-get (through sudo when not root) only for packages not installed.
set -e
cd "$(dirname "$0")"

PKGS="build-essential autoconf automake pkg-config libncurses-dev libpq-dev
libcurl4-openssl-dev libcjson-dev libsqlite3-dev libssl-dev postgresql
postgresql-client sqlite3 tmux jq mandoc locales ncurses-term procps python3"

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

build() {
	if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
		autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
	fi
	if [ ! -f Makefile ] || [ configure -nt Makefile ]; then
		./configure -q $CONFIGURE_FLAGS
	fi
	make -s -j"$(nproc 2>/dev/null || echo 2)"
}

cmd=${1:-build}
[ $# -gt 0 ] && shift
case "$cmd" in
demo)  install_missing; build; exec ./pgcutover demo "$@" ;;
test)  install_missing; CONFIGURE_FLAGS="${CONFIGURE_FLAGS:---enable-werror}"; build
       set +e
       make -s check "$@" >make-check.out 2>&1
       rc=$?
       grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP):' make-check.out | grep -v '^PASS' || true
       grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR|XPASS|XFAIL):' make-check.out
       [ $rc -ne 0 ] && { grep -E 'mandoc|error' make-check.out | head -20; }
       pass=$(sed -n 's/^# PASS: *//p' make-check.out | tail -1)
       fail=$(sed -n 's/^# FAIL: *//p' make-check.out | tail -1)
       err=$(sed -n 's/^# ERROR: *//p' make-check.out | tail -1)
       xpass=$(sed -n 's/^# XPASS: *//p' make-check.out | tail -1)
       skip=$(sed -n 's/^# SKIP: *//p' make-check.out | tail -1)
       failed=$(( ${fail:-0} + ${err:-0} + ${xpass:-0} ))
       [ $rc -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
       echo "${pass:-0} passed, $failed failed, ${skip:-0} skipped"
       exit $(( rc != 0 || failed != 0 )) ;;
build) install_missing; build ;;
*) echo "usage: ./dev.sh demo|test|build" >&2; exit 64 ;;
esac
