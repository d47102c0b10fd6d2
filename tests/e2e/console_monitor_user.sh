#!/bin/sh
# console_monitor_user.sh -- `pgcutover monitor` run by another Unix user
# who can only read the state directory (the group-readable set-up of
# pgcutover(1) MONITOR): the driver's config has "state_group_readable", the
# directory is the monitor's group's with the setgid bit, and the monitor
# user (nobody, in group nogroup) cannot write there.  With no driver
# running there is no -shm and none can be created: the monitor opens a
# snapshot and follows the file; with a driver running it reads the WAL
# through the read-only -wal and -shm; a -shm it cannot read is refused with
# what to chmod; the monitor writes nothing.  Needs root (to be two users).
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/e2e/console.inc"

[ "$(id -u)" = 0 ] || skip_all "needs root to run the monitor as another user (nobody)"
MON_USER=nobody
MON_GROUP=$(id -gn "$MON_USER" 2>/dev/null) || skip_all "no user $MON_USER"
command -v runuser >/dev/null 2>&1 || skip_all "runuser is not installed"

e2e_fixture
# the monitor may read the runbook and config and reach the state directory,
# nothing more: the state directory is the group's, setgid, not writable
mkdir "$E2E_DIR/shared"
chgrp "$MON_GROUP" "$E2E_DIR/shared" && chmod 2750 "$E2E_DIR/shared"
chmod 711 "$E2E_DIR"
chmod 644 "$E2E_DIR/runbook.md"
jq '.state = "shared/state.db" | .state_group_readable = true' "$CFG" > "$CFG.new" && mv "$CFG.new" "$CFG"
chmod 644 "$CFG"
ST="$E2E_DIR/shared/state.db"
as_mon() { (cd / && runuser -u "$MON_USER" -- "$@"); }
# The monitor user runs its own copy of the binary: the build tree may sit
# where it cannot reach (a clone under /root, mode 0700 on Debian).
as_mon test -x "$E2E_DIR" ||
	skip_all "$MON_USER cannot reach $E2E_DIR (set TMPDIR to a directory others can traverse)"
mkdir "$E2E_DIR/bin" && chmod 755 "$E2E_DIR/bin"
cp "$PGCUTOVER" "$E2E_DIR/bin/pgcutover" && chmod 755 "$E2E_DIR/bin/pgcutover"
MON_PGCUTOVER=$E2E_DIR/bin/pgcutover

pgc --operator bob tick 1.1 >/dev/null 2>&1
ok $? "the driver (root) records a tick"
is "$(stat -c %a "$ST")" 640 "state_group_readable: the state file is 0640"
is "$(stat -c %G "$ST")" "$MON_GROUP" "in the directory's group (setgid)"
[ ! -e "$ST-shm" ]; ok $? "no driver has it open: no -shm"
as_mon test -w "$E2E_DIR/shared"; isnt "$?" 0 "the monitor user cannot write the directory"

j=$(as_mon "$MON_PGCUTOVER" -c "$CFG" status --json 2>&1)
is "$(printf '%s' "$j" | jq -r '.phases[] | select(.id == "1") | .done' 2>/dev/null)" 1 \
	"status as the monitor user reads it (a snapshot)"

pane_run "cd / && runuser -u $MON_USER -- env TERM=$E2E_TERM LANG=$E2E_LANG LC_ALL= '$MON_PGCUTOVER' -c '$CFG' --operator carol monitor"
wait_screen 'MONITOR'; ok $? "monitor opens as $MON_USER"
wait_screen 'a snapshot: no driver has this state open'; ok $? "and says it reads a snapshot"

# A headless driver writes and closes (the -wal and -shm go away again):
# the file changed, the snapshot is opened again.
keys 1
pgc --operator bob tick 1.2 >/dev/null 2>&1
wait_screen '\[x\] Apply the schema dump.*bob' 10; ok $? "the monitor follows a tick made meanwhile"
wait_screen 'state file changed at' 5; ok $? "and says the file changed"

# A driver that keeps the state open: the monitor reads its WAL through the
# read-only -wal and -shm (its lease heartbeats are in there).
"$PGCUTOVER" -c "$CFG" --operator dave lease hold 300 >/dev/null 2>&1 &
holder=$!
end=$(( $(date +%s) + 20 ))
until [ -e "$ST-shm" ] || [ "$(date +%s)" -ge "$end" ]; do sleep 0.1; done
is "$(stat -c %a "$ST-shm")" 640 "the driver's -shm is group-readable too"
wait_screen 'driver dave@.* is live' 15; ok $? "the monitor sees the live driver's lease through the WAL"

chmod g-r "$ST-shm"
out=$(as_mon "$MON_PGCUTOVER" -c "$CFG" status 2>&1); rc=$?
is "$rc" 77 "a -shm the reader cannot read: exit 77"
like "$out" "cannot read $ST-shm.*chmod g\\+r" "the message names the -shm and what to chmod"
chmod g+r "$ST-shm"
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null

keys q
is "$(wait_exit)" 0 "the monitor quits"
is "$(pgc log --json | jq '[.[] | select(.operator == "carol")] | length')" 0 "the monitor recorded nothing"
pgc log --verify >/dev/null 2>&1; ok $? "hash chain intact"
done_testing
