#!/bin/sh
# state_faults.sh -- a state file pgcutover cannot write says why, with the
# exit status for it: read-only for this user exits 77 saying "read-only"
# (SQLite's "attempt to write a readonly database" was exit 74), and leaves
# no -wal or -shm behind; a full disk exits 74 naming the directory that is
# full, headless and when the console opens (SQLite said "disk I/O
# error").  Commands that only read (log, status, export, lease) leave the
# file as it was and make no -wal or -shm.  The read-only case needs root (to
# be another user); the full disk needs root to mount a small tmpfs.
. "$top_srcdir/tests/lib/tap.sh"
P=$PGCUTOVER
T=$(mktemp -d)
MNT=
trap '[ -n "$MNT" ] && umount "$MNT" 2>/dev/null; rm -rf "$T"' EXIT
chmod 755 "$T"
cd "$T" || exit 1
printf '# Faults\n\n## Phase 1\n\n- [ ] one\n- [ ] two\n' >rb.md
chmod 644 rb.md
skip_case() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N # SKIP $*"; }

# --- readers leave the file alone ---
S="$T/s.db"
$P -r rb.md -s "$S" note "one" >/dev/null && $P -r rb.md -s "$S" tick 1.1 >/dev/null
ok $? "a writer records"
[ ! -e "$S-wal" ] && [ ! -e "$S-shm" ]; ok $? "the writer gone, no -wal or -shm"
sum=$(sha256sum "$S" | cut -d' ' -f1)
$P -s "$S" log >/dev/null && $P -r rb.md -s "$S" status >/dev/null && $P -s "$S" export >/dev/null &&
	$P -s "$S" lease >/dev/null && $P -s "$S" log --verify >/dev/null
ok $? "log, status, export, lease and log --verify read it"
ls "$S"* | sed "s|^$T/||" | tr '\n' ' ' >"$T/files"
is "$(cat "$T/files")" "s.db s.db.lock " "they made no -wal or -shm"
is "$(sha256sum "$S" | cut -d' ' -f1)" "$sum" "and the file is as it was"

# --- read-only for this user ---
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1 && id nobody >/dev/null 2>&1; then
	RO="$T/ro"
	mkdir "$RO" && chmod 777 "$RO"
	as_nobody() { setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups -- "$@"; }
	as_nobody "$P" -r rb.md -s "$RO/s.db" note "mine" >/dev/null; ok $? "nobody records in its own state"
	chmod 0444 "$RO/s.db"
	err=$(as_nobody "$P" -r rb.md -s "$RO/s.db" note "again" 2>&1 >/dev/null); rc=$?
	is "$rc" 77 "a read-only state: exit 77 (EX_NOPERM)"
	like "$err" "s.db: .*read-only" "the message says read-only"
	unlike "$err" "attempt to write a readonly database" "not SQLite's words"
	[ ! -e "$RO/s.db-wal" ] && [ ! -e "$RO/s.db-shm" ]; ok $? "no -wal or -shm left behind"
	out=$(as_nobody "$P" -s "$RO/s.db" log 2>&1); rc=$?
	is "$rc" 0 "reading a read-only state works"
	like "$out" "mine" "and shows what is there"
else
	for i in 1 2 3 4 5 6 7; do skip_case "needs root and setpriv to be another user"; done
fi

# --- a full disk ---
if [ "$(id -u)" = 0 ] && MNT="$T/full" && mkdir "$MNT" && mount -t tmpfs -o size=256k tmpfs "$MNT" 2>/dev/null; then
	$P -r rb.md -s "$MNT/s.db" note "before" >/dev/null; ok $? "a state on a small file system"
	dd if=/dev/zero of="$MNT/fill" bs=4k 2>/dev/null
	err=$($P -r rb.md -s "$MNT/s.db" note "after" 2>&1 >/dev/null); rc=$?
	is "$rc" 74 "disk full: exit 74"
	like "$err" "disk is full .*in $MNT " "the message says the disk is full and where"
	unlike "$err" "disk I/O error" "not SQLite's words"
	if command -v script >/dev/null 2>&1; then
		printf '{"runbook": "%s/rb.md"}\n' "$T" >"$T/console.json"
		script -qec "TERM=xterm '$P' -c '$T/console.json' -s '$MNT/s.db' console" /dev/null >"$T/console.out" 2>&1
		rc=$?
		is "$rc" 74 "the console on a full disk: exit 74"
		like "$(cat "$T/console.out")" "disk is full .*in $MNT " "and says the disk is full and where"
	else
		skip_case "script(1) not installed"; skip_case "script(1) not installed"
	fi
	rm -f "$MNT/fill"
	out=$($P -s "$MNT/s.db" log); rc=$?
	is "$rc" 0 "space again: the state reads"
	like "$out" "before" "nothing acknowledged was lost"
	umount "$MNT" && MNT=
else
	MNT=
	for i in 1 2 3 4 5 6 7 8; do skip_case "needs root to mount a small tmpfs"; done
fi
done_testing
