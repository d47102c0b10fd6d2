#!/bin/sh
# console_monitor_copy.sh -- `pgcutover monitor` on a copy of the state
# brought over the way scp and rsync do it, refreshed while it watches: a
# new file renamed over the copy (rsync, mv: another inode) and the copy
# rewritten in place (scp, cp: same inode, new size and time).  Each time the
# monitor opens the file again, shows the driver's new ticks and says "copy
# refreshed at T"; a copy from another migration replaces what it showed.
# The monitor writes nothing: no -wal or -shm appear beside the copy.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/e2e/console.inc"

e2e_fixture
mkdir "$E2E_DIR/jump"
COPY="$E2E_DIR/jump/copy.db"
pgc --operator bob tick 1.1 >/dev/null 2>&1
ok $? "the driver records a tick"
# A headless driver closes the state after each command: the file is whole
# (checkpointed), as a copy of a state taken with the driver stopped is.
cp "$E2E_DIR/state.db" "$COPY"

pane_run "env TERM=$E2E_TERM LANG=$E2E_LANG LC_ALL= '$PGCUTOVER' -c '$CFG' -s '$COPY' --operator carol monitor"
wait_screen 'MONITOR'; ok $? "monitor opens on the copy"
keys 1
wait_screen '\[x\] Create roles.*bob'; ok $? "it shows the copied tick"
wait_screen '\[ \] Apply the schema dump'; ok $? "and not yet the next one"
[ ! -e "$COPY-wal" ] && [ ! -e "$COPY-shm" ]; ok $? "the monitor made no -wal or -shm beside the copy"

# rsync: a new file renamed over the copy.
pgc --operator bob tick 1.2 >/dev/null 2>&1
cp "$E2E_DIR/state.db" "$COPY.tmp" && mv "$COPY.tmp" "$COPY"
ino1=$(stat -c %i "$COPY")
wait_screen '\[x\] Apply the schema dump.*bob' 10; ok $? "a copy renamed over it (new inode): the new tick shows"
wait_screen 'copy refreshed at [0-9:]+: [0-9]+ events' 5; ok $? "and it says the copy was refreshed"

# scp: the copy rewritten in place.
keys 3
pgc --operator bob tick 3.2 >/dev/null 2>&1
cp "$E2E_DIR/state.db" "$COPY"
is "$(stat -c %i "$COPY")" "$ino1" "cp over the copy keeps its inode"
wait_screen '\[x\] customers.*bob' 10; ok $? "a copy rewritten in place: the new tick shows"
n=$(pgc log --json | jq length)
wait_screen "copy refreshed at [0-9:]+: $n events" 5; ok $? "refreshed with all $n events"

# Another migration's state copied over it: nothing of the old one stays.
mkdir "$E2E_DIR/other"
"$PGCUTOVER" -r "$E2E_DIR/runbook.md" -s "$E2E_DIR/other/state.db" --operator erin note "another night" >/dev/null 2>&1
cp "$E2E_DIR/other/state.db" "$COPY.tmp" && mv "$COPY.tmp" "$COPY"
wait_screen '\[ \] customers' 10; ok $? "a copy of another state: the old ticks are gone"
wait_screen 'erin' 5; ok $? "and its events show"

keys q
is "$(wait_exit)" 0 "the monitor quits"
done_testing
