#!/bin/sh
# export_jsonl.sh -- `pgcutover export`: the JSONL has one line per event
# with every field of `log --json` (ids, kinds, operators, payloads and both
# hashes agree); `export --verify` passes it (exit 0, the same head as
# `log --verify`) and names the line and event of a payload edited with
# sed, of a deleted line and of a swapped operator (exit 1); replaying the
# JSONL gives the same state as replaying the state file; the file is
# private (0600) and written whole (a failed export leaves no part).  The Markdown report holds the phase table with the
# planned duration from the runbook, who did what, the untick with its
# reason, and a timeline row per tick.
. "$top_srcdir/tests/lib/tap.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
P=$PGCUTOVER
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

cat > rb.md <<'MD'
# Export test

## Phase 1: Copy

**Duration:** 2 hours

- [ ] Stop writes
- [ ] Copy customers
- [ ] Copy orders

## Phase 2: Cutover

- [ ] Point the app at the new database
MD
S="$T/s.db"
$P -r rb.md -s "$S" --operator alice tick 1.1 >/dev/null
$P -r rb.md -s "$S" --operator bob tick 1.2 --note 'took "12" min | fast' >/dev/null
$P -r rb.md -s "$S" --operator bob untick 1.2 --reason "counts differ" >/dev/null
$P -r rb.md -s "$S" --operator carol note "multi
line note" >/dev/null
$P -r rb.md -s "$S" --operator alice tick 1.2 >/dev/null
$P -r rb.md -s "$S" --operator alice tick 1.3 >/dev/null

$P -r rb.md -s "$S" export --format jsonl -o out.jsonl 2>/dev/null; ok $? "export --format jsonl -o"
is "$(stat -c %a out.jsonl)" "600" "the export is private (0600)"
# written whole or not at all: a failed export leaves the old file as it
# was and no temporary file beside it
cp out.jsonl before.jsonl
mkdir ro && cp out.jsonl ro/out.jsonl && mkdir ro/out.dir
$P -r rb.md -s "$S" export --format jsonl -o ro/out.dir 2>err; rc=$?
is "$rc" "73" "an export over a directory fails (73)"
like "$(cat err)" "ro/out.dir" "naming it"
is "$(ls -A ro | tr '\n' ' ')" "out.dir out.jsonl " "no temporary file left beside it"
$P -r rb.md -s "$S" note "after the first export" >/dev/null
$P -r rb.md -s "$S" export --format jsonl -o out.jsonl 2>/dev/null; ok $? "export again over the same file"
is "$(( $(wc -l < out.jsonl) - $(wc -l < before.jsonl) ))" "1" "which now holds the new event too"
is "$(ls -A . | grep -c pgcutover-)" "0" "and no temporary file is left"
rm -rf ro before.jsonl err
log=$($P -s "$S" log --json)
n=$(printf '%s' "$log" | jq length)
is "$(wc -l < out.jsonl | tr -d ' ')" "$n" "one line per event ($n)"
is "$(jq -c '[.id, .kind, .operator, .item, .prev_hash, .hash]' out.jsonl | jq -sc .)" \
	"$(printf '%s' "$log" | jq -c '[.[] | [.id, .kind, .operator, .item, .prev_hash, .hash]]')" \
	"ids, kinds, operators, items and both hashes match the log"
is "$(jq -c .payload out.jsonl | jq -sc .)" "$(printf '%s' "$log" | jq -c '[.[].payload]')" "payloads match the log"
is "$($P -s "$S" export | wc -l | tr -d ' ')" "$n" "export to stdout"

out=$($P export --verify out.jsonl); rc=$?
is "$rc" "0" "export --verify: intact exits 0"
head=$($P -s "$S" log --verify | sed -n 's/^head: //p')
like "$out" "head: $head" "export --verify prints the same head as log --verify"
is "$($P export --verify out.jsonl --json | jq -r '"\(.intact) \(.events)"')" "true $n" "--json: intact and event count"

# Tampering: an edited payload, a deleted line, an edited operator.
sed 's/counts differ/counts agree/' out.jsonl > t1.jsonl
bad=$(grep -n 'counts agree' t1.jsonl | cut -d: -f1)
badid=$(sed -n "${bad}p" t1.jsonl | jq .id)
out=$($P export --verify t1.jsonl); rc=$?
is "$rc" "1" "an edited payload: exit 1"
like "$out" "t1.jsonl:$bad: event $badid \(untick\): hash does not match" "names the line and the event"
is "$($P export --verify t1.jsonl --json | jq -r .bad_line)" "$bad" "--json names the bad line"
sed '3d' out.jsonl > t2.jsonl
out=$($P export --verify t2.jsonl); rc=$?
is "$rc" "1" "a deleted line: exit 1"
like "$out" "t2.jsonl:3: event 4 where event 3 was expected" "names where the chain breaks"
sed '2s/"operator":"[a-z]*"/"operator":"mallory"/' out.jsonl > t3.jsonl
$P export --verify t3.jsonl >/dev/null; is "$?" "1" "an edited operator: exit 1"
# Times the chain cannot bind one-to-one are refused, naming the line.
for t in 1e300 -5e15 1e999; do
	sed '2s/"ts":[0-9.]*/"ts":'"$t"'/' out.jsonl > t4.jsonl
	out=$($P export --verify t4.jsonl); rc=$?
	is "$rc" "1" "ts $t: exit 1"
	like "$out" "t4.jsonl:2: ts is (out of range|not a finite number)" "ts $t: refused on its line"
done
err=$($P replay t4.jsonl --json 2>&1 >/dev/null)
like "$err" "t4.jsonl:2: ts is not a finite number" "replay refuses an infinite ts, naming the line"

# Replay of the JSONL equals replay of the state, at every event.
same=0
i=1
while [ "$i" -le "$n" ]; do
	a=$($P -r rb.md replay "$S" --event "$i" --json | jq -c 'del(.replay, .state)')
	b=$($P -r rb.md replay out.jsonl --event "$i" --json | jq -c 'del(.replay, .state)')
	[ "$a" = "$b" ] || same=1
	i=$((i + 1))
done
ok "$same" "replay of the JSONL gives the state file's derived state at every event"
is "$($P replay t1.jsonl --json 2>/dev/null | jq -r .items_done)" "3" "replay reads the runbook recorded in the log"

# The JSONL is imported once, its chain checked, into a cached state.
: "${PGCUTOVER_CACHE_DIR:?run-shell.sh sets it}"
is "$($P -r rb.md replay out.jsonl --json | jq -r .replay.chain_verified)" true "replay: the JSONL's chain checked on import"
is "$(ls "$PGCUTOVER_CACHE_DIR" | grep -c '^jsonl-.*\.db$')" 1 "one cache state (t1.jsonl is tampered: not cached)"
cache=$(ls "$PGCUTOVER_CACHE_DIR"/jsonl-*.db)
before=$(stat -c '%i %Y' "$cache")
a=$($P -r rb.md replay out.jsonl --event 5 --json | jq -c 'del(.replay, .state)')
is "$(stat -c '%i %Y' "$cache")" "$before" "a second replay reads the cache, not the log again"
b=$(PGCUTOVER_CACHE_DIR=/dev/null/none $P -r rb.md replay out.jsonl --event 5 --json | jq -c 'del(.replay, .state)')
is "$a" "$b" "without a usable cache directory the log is read into memory: the same state"
is "$(PGCUTOVER_CACHE_DIR=/dev/null/none $P -r rb.md replay out.jsonl --json | jq -r .replay.chain_verified)" null \
	"and its chain is said not checked"
err=$($P replay t1.jsonl --json 2>&1 >/dev/null)
like "$err" "WARNING: t1\.jsonl:$bad: event $badid \(untick\): its hash does not match its contents" \
	"a tampered export: replayed as it is, with a warning naming the line"
is "$($P replay t1.jsonl --json 2>/dev/null | jq -r .replay.chain_verified)" false "chain_verified: false"
is "$(ls "$PGCUTOVER_CACHE_DIR" | grep -c '^jsonl-.*\.db$')" 1 "nothing cached for the tampered export"
cp out.jsonl grown.jsonl
$P -r rb.md replay grown.jsonl --json >/dev/null
$P -r rb.md -s "$S" note "one more" >/dev/null
$P -s "$S" export --format jsonl > grown.jsonl
is "$($P -r rb.md replay grown.jsonl --json | jq -r '"\(.replay.events_total) \(.replay.chain_verified)"')" "$((n + 1)) true" \
	"an export rewritten since: imported again, the new event seen"
is "$(ls "$PGCUTOVER_CACHE_DIR" | grep -c '^jsonl-.*\.db$')" 2 "its old cache removed (one per export file)"

# Markdown report.
md=$($P -r rb.md -s "$S" export --format md); ok $? "export --format md"
like "$md" "^# Post-mortem: Export test" "report title"
like "$md" "\| 1 \| Copy \| done \| 3/3 \| 2h00m \| [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} \| [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} \|" "phase row: done, planned 2h from the runbook, start and end"
like "$md" "\| 2 \| Cutover \| not_started \| 0/1 \|" "phase not started"
like "$md" "\| bob \| 1 \| 1 \| 0 \|" "who did what: bob ticked once and unticked once"
like "$md" "item 1\.2 unticked by bob: counts differ" "unticks with the reason"
like "$md" "\| alice \| tick \| 1\.3 \| Copy orders \|" "timeline row for a tick, with the item text"
like "$md" 'took "12" min \\| fast' "a pipe in a note is escaped in the table"
like "$($P -s "$S" export --format md)" "\| 1 \| Copy \| done \| 3/3 \| 2h00m" "with -s alone the report uses the runbook the log recorded"
ticks=$(printf '%s' "$log" | jq '[.[] | select(.kind=="tick")] | length')
is "$(printf '%s\n' "$md" | grep -c '| tick |')" "$ticks" "one timeline row per tick event"
done_testing
