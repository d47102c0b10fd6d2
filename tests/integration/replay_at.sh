#!/bin/sh
# replay_at.sh -- `pgcutover replay STATE --at TIME | --event N [--json]`:
# the state as of a time is the one the events up to that time make (items
# done and phase status derived from the log with jq), a time copied from
# `log` includes that event, a time before the first event shows nothing
# done, the final state equals `status --json`, a runbook left behind by the
# log is found again, and --timeline -i compresses idle gaps.
. "$top_srcdir/tests/lib/tap.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
P=$PGCUTOVER
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

cat > rb.md <<'MD'
# Replay test

## Phase 1: Copy

- [ ] Stop writes
- [ ] Copy customers

## Phase 2: Cutover

- [ ] Point the app at the new database
MD
S="$T/s.db"
$P -r rb.md -s "$S" --operator alice tick 1.1 >/dev/null
sleep 1.2
$P -r rb.md -s "$S" --operator bob tick 1.2 >/dev/null
sleep 1.2
$P -r rb.md -s "$S" --operator bob untick 1.2 --reason "counts differ" >/dev/null
$P -r rb.md -s "$S" --operator alice tick 2.1 >/dev/null
log=$($P -s "$S" log --json)

# Expected items done as of event N: ticks minus unticks up to N.
expect_done() {
	printf '%s' "$log" | jq --argjson n "$1" \
		'[.[] | select(.id <= $n) | select(.kind=="tick" or .kind=="untick") | if .kind=="tick" then 1 else -1 end] | add // 0'
}

for kind in tick untick; do
	id=$(printf '%s' "$log" | jq "[.[] | select(.kind==\"$kind\")][0].id")
	ts=$(printf '%s' "$log" | jq -r "[.[] | select(.kind==\"$kind\")][0].ts")
	j=$($P -r rb.md replay "$S" --at "$ts" --json)
	is "$(printf '%s' "$j" | jq .replay.event_id)" "$id" "--at the time of the first $kind (from log) is that event"
	is "$(printf '%s' "$j" | jq .items_done)" "$(expect_done "$id")" "items done as of the first $kind"
done

# The second tick's phase: in progress before it, done after it.
t2=$(printf '%s' "$log" | jq -r '[.[] | select(.kind=="tick")][1].ts')
t2_id=$(printf '%s' "$log" | jq '[.[] | select(.kind=="tick")][1].id')
is "$($P -r rb.md replay "$S" --event $((t2_id - 1)) --json | jq -r '.phases[0].status')" "in_progress" "phase 1 in progress before the second tick"
is "$($P -r rb.md replay "$S" --at "$t2" --json | jq -r '.phases[0].status')" "done" "phase 1 done as of the second tick"
is "$($P -r rb.md replay "$S" --at "$t2" --json | jq -r '.replay.at')" "$t2" "replay.at is the time asked for"
before=$(printf '%s' "$log" | jq -r '.[0].ts' | sed 's/T.*//')T00:00:00Z
is "$($P -r rb.md replay "$S" --at "$before" --json | jq -c '[.items_done, .replay.event_id]')" "[0,0]" "before the first event nothing is done"
# Unix seconds work too: the start of the second holding the second tick.
secs=$(printf '%s' "$log" | jq -r '[.[] | select(.kind=="tick")][1].ts | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601')
is "$($P -r rb.md replay "$S" --at "$secs" --json | jq .replay.event_id)" "$(printf '%s' "$log" | jq --arg s "$secs" '[.[] | select((.ts | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) <= ($s | tonumber))] | last | .id')" "--at unix seconds"

# A clock time alone (HH:MM:SS, local, as the console shows times and its t
# takes them) is the same instant as the full time: the event at or before
# the end of that second.
secs_local=$(TZ=Asia/Tokyo date -d "@$secs" +%H:%M:%S)
is "$(TZ=Asia/Tokyo $P -r rb.md replay "$S" --at "$secs_local" --json | jq .replay.event_id)" \
	"$($P -r rb.md replay "$S" --at "$secs" --json | jq .replay.event_id)" "--at HH:MM:SS (local time) is that second"
is "$(TZ=Asia/Tokyo $P -r rb.md replay "$S" --at "$(TZ=Asia/Tokyo date -d "@$secs" +%H:%M)" --json | jq .replay.event_id)" \
	"$($P -r rb.md replay "$S" --at "$(TZ=UTC date -d "@$secs" +%Y-%m-%dT%H:%M)Z" --json | jq .replay.event_id)" \
	"--at HH:MM is that whole minute, as a date with HH:MM is"
$P -r rb.md replay "$S" --at 25:61 --json >/dev/null 2>&1
is "$?" "64" "--at 25:61: a usage error"

n=$(printf '%s' "$log" | jq length)
i=1
bad=0
while [ "$i" -le "$n" ]; do
	[ "$($P -r rb.md replay "$S" --event "$i" --json | jq .items_done)" = "$(expect_done "$i")" ] || bad=1
	i=$((i + 1))
done
ok "$bad" "items done as of every event match the log"

is "$($P -r rb.md replay "$S" --json | jq -c 'del(.replay) | del(.phases[].duration_s)')" \
	"$($P -r rb.md -s "$S" status --json | jq -c 'del(.phases[].duration_s)')" "the final replayed state is status --json"
mv rb.md moved.md
err=$($P replay "$S" --json 2>&1 >/dev/null); rc=$?
is "$rc" "66" "the recorded runbook is gone: exit 66"
like "$err" "rb\.md" "and the message names it"
is "$($P -r moved.md replay "$S" --json 2>/dev/null | jq .items_done)" "$(expect_done "$n")" "-r gives the runbook"
mv moved.md rb.md
is "$($P replay "$S" --json | jq .items_done)" "$(expect_done "$n")" "without -r the recorded runbook is used"

# Timeline: the two idle gaps (> 1 s each) are cut to 0.5 s.
full=$($P replay "$S" --timeline --json | jq .length_s)
cut=$($P replay "$S" --timeline -i 0.5 --json | jq .length_s)
awk -v x="$full" 'BEGIN { exit !(x > 2.4) }'; ok $? "the full timeline spans the two pauses ($full s)"
# the cut length is the sum of the real gaps, each at most 0.5 s (from the
# full timeline's offsets: no assumption on how fast the ticks ran)
want=$($P replay "$S" --timeline --json |
	jq '[.timeline | [.[].offset_s] as $o | range(1; $o | length) | [$o[.] - $o[. - 1], 0.5] | min] | add')
awk -v x="$cut" -v w="$want" 'BEGIN { d = x - w; exit !(d < 0.001 && d > -0.001) }'
ok $? "with -i 0.5 every gap counts at most 0.5 s ($cut s, want $want s)"
awk -v x="$full" -v y="$cut" 'BEGIN { exit !(x - y > 1.3) }'; ok $? "and the two pauses are cut ($full s to $cut s)"
is "$($P replay "$S" --timeline --json | jq '.timeline | length')" "$n" "the timeline lists every event"
$P replay "$S" --event x >/dev/null 2>&1; is "$?" "64" "a bad --event is a usage error"
done_testing
