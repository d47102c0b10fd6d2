#!/bin/sh
# fresh-debian.sh -- the README's two commands on a new Debian machine, as a
# newcomer meets them.  Bootstraps Debian bookworm (debootstrap --variant=
# minbase, plus git, ca-certificates and sudo, nothing else) into a directory
# of its own, clones the commit under test (HEAD of this clone) into it, and:
#   1. as root, exactly as CI: CI=true, no stdin, no TERM, PATH=/usr/sbin:
#      /usr/bin:/sbin:/bin, `./dev.sh test`;
#   2. as a user with sudo, in a clone in their home, `./dev.sh demo` in a
#      tmux pane until the console is on screen, then quits it.
# Prints the suite's `N passed, N failed, N skipped` line, its wall time and
# the demo's time to first screen; exits 0 when both worked.
# Needs root (debootstrap, chroot, mounts) and a Debian mirror (the one in
# this machine's apt sources; FRESH_MIRROR overrides).  The chroot's mounts
# are made in a private mount namespace (unshare), so none can leak onto the
# host, and are unmounted on exit whatever happens; processes left in the
# chroot are stopped; the directory is removed (FRESH_KEEP=1 keeps it).
# `make check-fresh` runs this.  Takes 15-30 minutes.
set -u
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
SUITE=${FRESH_SUITE:-bookworm}
DEMO_USER=newcomer
DEMO_TIMEOUT=${FRESH_DEMO_TIMEOUT:-1200}

say() { echo "fresh-debian: $*"; }
die() { echo "fresh-debian: $*" >&2; exit 1; }

# --- in-chroot: sh fresh-debian.sh --in-chroot ROOT CMD... --------------
# Runs in a private mount namespace (see run_in_chroot): mounts what the
# suite needs inside ROOT, runs CMD chrooted, unmounts.
if [ "${1:-}" = --in-chroot ]; then
	root=$2; shift 2
	mount -t proc proc "$root/proc" || exit 1
	mount -t sysfs sysfs "$root/sys" 2>/dev/null || mount --rbind /sys "$root/sys" || exit 1
	mount --rbind /dev "$root/dev" || exit 1
	# a /dev/shm of its own: PostgreSQL's shared memory stays in here
	mount -t tmpfs -o mode=1777,size=512m shm "$root/dev/shm" || exit 1
	chroot "$root" "$@"
	rc=$?
	umount -R "$root/dev" "$root/sys" "$root/proc" 2>/dev/null ||
		umount -lR "$root/dev" "$root/sys" "$root/proc" 2>/dev/null
	exit $rc
fi

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot and mounts)"
src=$(cd "$(dirname "$0")/.." && pwd)
commit=$(git -C "$src" rev-parse HEAD 2>/dev/null) || die "$src is not a git clone"
self=$src/tests/fresh-debian.sh
command -v unshare >/dev/null 2>&1 || die "unshare (util-linux) is needed"
command -v tmux >/dev/null 2>&1 || die "tmux is needed (it drives the demo's terminal)"

# The mirror this machine's apt uses (deb822 URIs: or one-line deb), else
# Debian's own.
mirror_from_sources() {
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
		sed -n -e 's/^URIs: *\([^ ]*\).*/\1/p' -e 's/^deb  *\(\[[^]]*\]  *\)\{0,1\}\([^ ]*\).*/\2/p' |
		grep -v -e security -e '^cdrom:' | grep -m1 '/debian/\{0,1\}$'
}
MIRROR=${FRESH_MIRROR:-$(mirror_from_sources)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}

if ! command -v debootstrap >/dev/null 2>&1; then
	say "installing debootstrap"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 debootstrap \
		>/dev/null || die "apt-get install debootstrap failed"
fi

WORK=$(mktemp -d /var/tmp/pgc-fresh.XXXXXX) || die "mktemp failed"
ROOT=$WORK/root
TMUX_SOCK=$WORK/tmux

# Everything still running with ROOT as its root directory.
chroot_pids() {
	for _p in /proc/[0-9]*; do
		[ "$(readlink "$_p/root" 2>/dev/null)" = "$ROOT" ] && echo "${_p#/proc/}"
	done
}

cleanup() {
	tmux -S "$TMUX_SOCK" kill-server >/dev/null 2>&1
	_pids=$(chroot_pids)
	if [ -n "$_pids" ]; then
		say "stopping what is left in the chroot: $(echo $_pids)"
		kill $_pids 2>/dev/null
		sleep 2
		kill -9 $(chroot_pids) 2>/dev/null
		sleep 1
	fi
	# The mounts live in namespaces that end with their processes; any that
	# reached this namespace anyway is unmounted here before removing.
	for _m in $(awk -v r="$ROOT" 'index($2, r) == 1 { print $2 }' /proc/self/mounts | sort -r); do
		umount "$_m" 2>/dev/null || umount -l "$_m"
	done
	if awk -v r="$ROOT" 'index($2, r) == 1 { f = 1 } END { exit !f }' /proc/self/mounts; then
		say "mounts remain under $ROOT; not removing $WORK"
	elif [ "${FRESH_KEEP:-0}" = 1 ]; then
		say "kept $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# run_in_chroot CMD...: CMD in ROOT, with proc, sys and dev mounted in a
# mount namespace of its own.
run_in_chroot() {
	unshare --mount --propagation private sh "$self" --in-chroot "$ROOT" "$@"
}

# --- 1. a fresh Debian -------------------------------------------------
say "commit $commit; bootstrapping Debian $SUITE (minbase) from $MIRROR into $ROOT"
t0=$(date +%s)
debootstrap --variant=minbase --include=git,ca-certificates,sudo "$SUITE" "$ROOT" "$MIRROR" \
	>"$WORK/debootstrap.log" 2>&1 || { tail -20 "$WORK/debootstrap.log"; die "debootstrap failed"; }
say "bootstrapped in $(( $(date +%s) - t0 ))s"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
cp /etc/hosts "$ROOT/etc/hosts"
# No service starts inside the chroot (the postgresql package would start a
# cluster on port 5432, shared with the host), as in Debian's container images.
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 755 "$ROOT/usr/sbin/policy-rc.d"

# git clone from here, then the very commit under test
clone_into() {  # clone_into DIR
	git clone -q --no-hardlinks "$src" "$1" && git -C "$1" checkout -q --detach "$commit"
}
clone_into "$ROOT/root/pgcutover" || die "git clone into the chroot failed"

# --- 2. the suite, as root, as CI runs it -------------------------------
say "running ./dev.sh test as root (CI=true, no stdin, no TERM); output in $WORK/test.log"
t0=$(date +%s)
run_in_chroot /usr/bin/env -i HOME=/root CI=true PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	sh -c 'cd /root/pgcutover && exec ./dev.sh test' </dev/null >"$WORK/test.log" 2>&1
test_rc=$?
test_secs=$(( $(date +%s) - t0 ))
suite_line=$(tail -1 "$WORK/test.log")
grep -E '^(FAIL|ERROR|XPASS)|^dev.sh: apt' "$WORK/test.log" | head -40
case "$suite_line" in
*" passed, "*" failed, "*" skipped") ;;
*) tail -30 "$WORK/test.log"; suite_line="(no summary line; exit $test_rc)" ;;
esac
cp "$WORK/test.log" "$src/fresh-debian-test.log" 2>/dev/null &&
	say "the suite's output: $src/fresh-debian-test.log"

# --- 3. the demo, as a user with sudo, in a terminal ---------------------
run_in_chroot useradd -m -s /bin/bash -G sudo "$DEMO_USER" || die "useradd failed"
echo "$DEMO_USER ALL=(ALL) NOPASSWD: ALL" >"$ROOT/etc/sudoers.d/$DEMO_USER"
chmod 440 "$ROOT/etc/sudoers.d/$DEMO_USER"
home=$ROOT/home/$DEMO_USER
clone_into "$home/pgcutover" || die "git clone into $home failed"
ids=$(awk -F: -v u="$DEMO_USER" '$1 == u { print $3 ":" $4 }' "$ROOT/etc/passwd")
chown -R "$ids" "$home/pgcutover"

say "running ./dev.sh demo as $DEMO_USER in tmux"
t0=$(date +%s)
# The pane's command goes through unshare too: the chroot's mounts stay
# in a namespace of its own.
tmux -S "$TMUX_SOCK" -f /dev/null new-session -d -s demo -x 120 -y 40 \
	"unshare --mount --propagation private sh '$self' --in-chroot '$ROOT' \
	 /sbin/runuser -l $DEMO_USER -c 'cd ~/pgcutover && ./dev.sh demo'; echo \$? >'$WORK/demo.rc'; sleep 3600"
screen() { tmux -S "$TMUX_SOCK" capture-pane -p -J -t demo 2>/dev/null; }
demo_secs=""
while [ "$(( $(date +%s) - t0 ))" -lt "$DEMO_TIMEOUT" ] && [ ! -s "$WORK/demo.rc" ]; do
	if screen | grep -q 'DRIVER'; then demo_secs=$(( $(date +%s) - t0 )); break; fi
	sleep 0.5
done
demo_ok=0
if [ -n "$demo_secs" ]; then
	say "the console is on screen after ${demo_secs}s; quitting it"
	sleep 1
	tmux -S "$TMUX_SOCK" send-keys -t demo q
	end=$(( $(date +%s) + 60 ))
	while [ ! -s "$WORK/demo.rc" ] && [ "$(date +%s)" -lt "$end" ]; do sleep 0.5; done
	demo_rc=$(cat "$WORK/demo.rc" 2>/dev/null || echo "none (still running)")
	screen | grep -v '^ *$' | tail -6 | sed 's/^/    | /'
	[ "$demo_rc" = 0 ] || { say "the demo exited $demo_rc after quitting"; demo_ok=1; }
else
	demo_ok=1
	say "no console within ${DEMO_TIMEOUT}s (exit $(cat "$WORK/demo.rc" 2>/dev/null || echo none)); the screen:"
	screen | grep -v '^ *$' | tail -25 | sed 's/^/    | /'
fi
run_in_chroot /sbin/runuser -l "$DEMO_USER" -c '~/pgcutover/_build/pgcutover demo --stop' >/dev/null 2>&1

# --- 4. figures --------------------------------------------------------
echo
say "suite:  $suite_line  (exit $test_rc, wall time $((test_secs / 60))m$((test_secs % 60))s)"
if [ -n "$demo_secs" ]; then
	say "demo:   console on screen ${demo_secs}s after ./dev.sh demo (build included)"
else
	say "demo:   FAILED: the console never came up"
fi
case "$suite_line" in *" passed, 0 failed, "*) ;; *) test_rc=1 ;; esac
[ "$test_rc" -eq 0 ] && [ "$demo_ok" -eq 0 ]
