#!/bin/sh
# state_kill.sh -- a writer killed with -9 in the middle of appending many
# events leaves a state file that passes `PRAGMA integrity_check` and
# `pgcutover log --verify`, holds every event it reported committed, holds
# no partial batch, and takes new events afterwards.  The writer is
# tests/helpers/state_writer (built by `make check`), which appends through
# state_append() like every command.
. "$top_srcdir/tests/lib/tap.sh"
W=${top_builddir:-.}/tests/helpers/state_writer
[ -x "$W" ] || skip_all "tests/helpers/state_writer not built (make check builds it)"
command -v sqlite3 >/dev/null 2>&1 || skip_all "sqlite3 not installed"
P=$PGCUTOVER
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# Starts the writer, waits until it has committed at least $3 times, kills it.
kill_writer() {  # kill_writer STATE BATCH MIN_COMMITS
	# made here, not by the background job's redirection: the loop below
	# must not look before the job has opened it (grep would print nothing
	# and the loop end at once, killing the writer before its first commit)
	: >"$T/out"
	"$W" --progress --batch "$2" "$1" 100000000 >"$T/out" 2>"$T/err" &
	pid=$!
	i=0
	# a bound, not a speed test: every commit is fsynced, and a machine
	# busy with the other tests' servers may take a while
	while [ "$i" -lt 1200 ] && [ "$(grep -c committed "$T/out")" -lt "$3" ] && kill -0 "$pid" 2>/dev/null; do
		sleep 0.05
		i=$((i + 1))
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	last_reported=$(grep committed "$T/out" | tail -1 | cut -d' ' -f2)
	[ -n "$last_reported" ] || diag "writer reported nothing after $((i / 20)) s; its stderr: $(cat "$T/err")"
}

round=1
for commits in 5 40 150; do
	db="$T/one-$round.db"
	kill_writer "$db" 1 "$commits"
	[ -n "$last_reported" ]; ok $? "round $round: writer committed events before the kill"
	is "$(sqlite3 "$db" 'PRAGMA integrity_check')" "ok" "round $round: integrity_check ok after kill -9"
	out=$($P -s "$db" log --verify); rc=$?
	is "$rc" "0" "round $round: log --verify exits 0"
	like "$out" "chain intact" "round $round: chain intact"
	n=$(sqlite3 "$db" 'SELECT max(id) FROM events')
	[ "$n" -ge "${last_reported:-0}" ]; ok $? "round $round: every reported event is there ($n >= $last_reported)"
	round=$((round + 1))
done

# Batches are all or nothing: killed mid-batch, only whole batches remain.
BATCH=500
db="$T/batch.db"
kill_writer "$db" "$BATCH" 3
is "$(sqlite3 "$db" 'PRAGMA integrity_check')" "ok" "batch: integrity_check ok after kill -9"
$P -s "$db" log --verify >/dev/null; is "$?" "0" "batch: log --verify exits 0"
n=$(sqlite3 "$db" 'SELECT max(id) FROM events')
# Event 1 is state_created, written with the first batch.
is "$(( (n - 1) % BATCH ))" "0" "batch: only whole batches of $BATCH were kept ($n events)"

# The state takes new events after the crash.
"$W" "$db" 10 >/dev/null; ok $? "append after the crash"
is "$(sqlite3 "$db" 'SELECT max(id) FROM events')" "$((n + 10))" "new events follow on"
$P -s "$db" log --verify >/dev/null; is "$?" "0" "chain intact after appending again"
done_testing
