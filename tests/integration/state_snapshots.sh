#!/bin/sh
# state_snapshots.sh -- ledger snapshots are a cache: a read-write command
# leaves one once many events were folded, `status` gives the same answer
# with the snapshot, without it, and with a damaged one (it folds from the
# start instead), and a snapshot never covers a different runbook.
. "$top_srcdir/tests/lib/tap.sh"
W=${top_builddir:-.}/tests/helpers/state_writer
[ -x "$W" ] || skip_all "tests/helpers/state_writer not built (make check builds it)"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
command -v sqlite3 >/dev/null 2>&1 || skip_all "sqlite3 not installed"
P=$PGCUTOVER
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
cat > rb.md <<'MD'
# Snapshot test

## Phase 1: Prepare

- [ ] First
- [ ] Second

## Phase 2: Move

- [ ] Third
MD
db="$T/s.db"
$P -r rb.md -s "$db" tick 1.1 >/dev/null; ok $? "first tick"
# Many events from another writer (general notes), then more ticks.
"$W" --batch 1000 "$db" 1500 >/dev/null; ok $? "1500 more events"
$P -r rb.md -s "$db" tick 2.1 --note "moved" --override "phase 1 still open: order is not what this tests" >/dev/null; ok $? "tick after them (completes phase 2 early: with --override)"
is "$(sqlite3 "$db" 'SELECT count(*) FROM snapshots')" "1" "a read-write command left a snapshot"
snap_id=$(sqlite3 "$db" 'SELECT event_id FROM snapshots')
last=$(sqlite3 "$db" 'SELECT max(id) FROM events')
[ "$snap_id" -ge 1500 ] && [ "$snap_id" -le "$last" ]; ok $? "snapshot is at a recent event ($snap_id of $last)"
$P -r rb.md -s "$db" tick 1.2 >/dev/null
with=$($P -r rb.md -s "$db" status --json | jq -c 'del(.phases[].duration_s)')
is "$(printf '%s' "$with" | jq -c '[.phases[].done]')" "[2,1]" "status after the snapshot sees later ticks"
sqlite3 "$db" "UPDATE snapshots SET ledger = '{\"format\":1}'"
damaged=$($P -r rb.md -s "$db" status --json | jq -c 'del(.phases[].duration_s)')
is "$damaged" "$with" "a damaged snapshot is ignored: same status"
sqlite3 "$db" 'DELETE FROM snapshots'
without=$($P -r rb.md -s "$db" status --json | jq -c 'del(.phases[].duration_s)')
is "$without" "$with" "same status without any snapshot"
$P -s "$db" log --verify >/dev/null; is "$?" "0" "snapshots are outside the hash chain"
done_testing
