#!/bin/sh
# replay_readonly.sh -- replay never writes to the state it reads: a state
# of more than REPLAY_SNAPSHOT_EVERY (10,000) events is left byte for byte
# as it was, with no -wal or -shm made beside it, and its checkpoint
# snapshots go to the cache directory ($PGCUTOVER_CACHE_DIR, beside the
# JSONL imports), where the next replay finds them.  A cached snapshot is
# used only for the log it was made from: another state copied to the same
# path replays as itself.
. "$top_srcdir/tests/lib/tap.sh"
W=${top_builddir:-.}/tests/helpers/state_writer
[ -x "$W" ] || skip_all "tests/helpers/state_writer not built (make check builds it)"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
command -v sqlite3 >/dev/null 2>&1 || skip_all "sqlite3 not installed"
P=$PGCUTOVER
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
export PGCUTOVER_CACHE_DIR="$T/cache"
printf '# Replay\n\n## Phase 1\n\n- [ ] one\n- [ ] two\n' >rb.md
S="$T/s.db"
N=25000
$P -r rb.md -s "$S" tick 1.1 >/dev/null && "$W" --batch 5000 "$S" "$N" >/dev/null &&
	$P -r rb.md -s "$S" tick 1.2 >/dev/null
ok $? "a state of more than $N events"
last=$(sqlite3 "$S" 'SELECT max(id) FROM events')
snaps=$(sqlite3 "$S" 'SELECT count(*) FROM snapshots')
sum=$(sha256sum "$S" | cut -d' ' -f1)

out=$($P -r rb.md replay "$S" --event 15000 --json 2>"$T/err"); rc=$?
is "$rc" 0 "replay --event 15000"
is "$(printf '%s' "$out" | jq -r .items_done)" 1 "as of event 15000: one item done"
like "$(cat "$T/err")" "wrote 2 checkpoint snapshots" "checkpoint snapshots were written"
is "$(sha256sum "$S" | cut -d' ' -f1)" "$sum" "the state is byte for byte as it was"
[ ! -e "$S-wal" ] && [ ! -e "$S-shm" ]; ok $? "no -wal or -shm made beside it"
is "$(sqlite3 "$S" 'SELECT count(*) FROM snapshots')" "$snaps" "no snapshot written into it"
cache=$(ls "$PGCUTOVER_CACHE_DIR"/snapshots-*.db 2>/dev/null)
[ -n "$cache" ]; ok $? "the snapshots are in the cache directory"
is "$(sqlite3 "$cache" 'SELECT group_concat(event_id) FROM (SELECT event_id FROM snapshots ORDER BY 1)')" \
	"10000,20000" "one every 10,000 events"
is "$(stat -c %a "$cache")" 600 "the cache is private (0600)"

out=$($P -r rb.md replay "$S" --event "$last" --json 2>"$T/err"); rc=$?
is "$(printf '%s' "$out" | jq -r .items_done)" 2 "a second replay, at the end: both items done"
unlike "$(cat "$T/err")" "wrote" "it found the snapshots: none written again"
is "$(sha256sum "$S" | cut -d' ' -f1)" "$sum" "the state is still as it was"

# Another state copied to the same path: the cache's snapshots are not its.
O="$T/other.db"
$P -r rb.md -s "$O" tick 1.2 >/dev/null && "$W" --batch 5000 "$O" "$N" >/dev/null
cp "$O" "$S"
a=$($P -r rb.md replay "$S" --event 15000 --json 2>/dev/null | jq -c 'del(.replay, .state)')
b=$($P -r rb.md replay "$O" --event 15000 --json 2>/dev/null | jq -c 'del(.replay, .state)')
[ -n "$a" ]; ok $? "replay of another state at the same path"
is "$a" "$b" "is that state's own, not what the cached snapshots say"
is "$(printf '%s' "$a" | jq -r .items_done)" 1 "(item 1.2 done, where the first state had 1.1)"
done_testing
